/*
 * libFuzzer harness for the LDS parsers (src/libcnie/lds.c): EF.COM, DG1, DG2,
 * DG11, DG12.  Every parser sees every input (each rejects a foreign outer
 * tag at once).  Properties (abort() on violation): a successful parse
 * returns text that is strict UTF-8, an image whose magic bytes match its
 * format and that lies within the input's size, a DG list of valid DG
 * numbers; a failed parse returns NULL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/lds.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
text(const char *s)
{
	if (s != NULL && cnie_lds_utf8_check((const uint8_t *)s, strlen(s)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_lds_com *com = NULL;
	cnie_lds_dg1 *dg1 = NULL;
	cnie_lds_dg2 *dg2 = NULL;
	cnie_lds_dg11 *dg11 = NULL;
	cnie_lds_dg12 *dg12 = NULL;
	size_t i;

	if (cnie_lds_com_parse(data, size, &com) == 0) {
		for (i = 0; i < com->ndgs; i++)
			if (com->dgs[i] < 1 || com->dgs[i] > CNIE_LDS_MAX_DG)
				abort();
		cnie_lds_com_free(&com);
	} else if (com != NULL) {
		abort();
	}
	if (cnie_lds_dg1_parse(data, size, &dg1, NULL) == 0) {
		if (dg1->mrz.format == CNIE_MRZ_UNKNOWN)
			abort();
		cnie_lds_dg1_free(&dg1);
	} else if (dg1 != NULL) {
		abort();
	}
	if (cnie_lds_dg2_parse(data, size, &dg2) == 0) {
		if (dg2->image == NULL || dg2->image_len == 0 || dg2->image_len > size)
			abort();
		if (dg2->format == CNIE_LDS_IMAGE_JPEG && dg2->image[0] != 0xFF)
			abort();
		cnie_lds_dg2_free(&dg2);
	} else if (dg2 != NULL) {
		abort();
	}
	if (cnie_lds_dg11_parse(data, size, &dg11) == 0) {
		text(dg11->full_name);
		for (i = 0; i < dg11->n_other_names; i++)
			text(dg11->other_names[i]);
		text(dg11->full_birth_date);
		text(dg11->place_of_birth);
		text(dg11->address);
		cnie_lds_dg11_free(&dg11);
	} else if (dg11 != NULL) {
		abort();
	}
	if (cnie_lds_dg12_parse(data, size, &dg12) == 0) {
		text(dg12->issuing_authority);
		text(dg12->date_of_issue);
		for (i = 0; i < dg12->n_other_persons; i++)
			text(dg12->other_persons[i]);
		cnie_lds_dg12_free(&dg12);
	} else if (dg12 != NULL) {
		abort();
	}
	if (cnie_lds_utf8_check(data, size) == 0 && memchr(data, 0, size) != NULL)
		abort();
	return 0;
}
