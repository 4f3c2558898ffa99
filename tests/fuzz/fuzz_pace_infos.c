/*
 * libFuzzer harness for the EF.CardAccess PACEInfo list parser and the
 * PACE choice (cnie_pace_infos_parse, cnie_pace_select,
 * cnie_pace_card_access_of in src/libcnie/pace.c).  Properties checked on
 * every input (abort() on violation): every kept TLV lies inside the
 * input; the chosen PACEInfo is one of those parsed, supported, version 2,
 * generic mapping or chip authentication mapping (ECDH, AES); the one-PACEInfo EF.CardAccess built from it parses
 * again to exactly that PACEInfo, chosen again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cnie_pace_infos a, b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cnie_pace_info *pick, *again;
	cnie_buf *one;
	size_t i;

	if (cnie_pace_infos_parse(data, size, &a) != 0)
		return 0;
	if (a.n > CNIE_PACE_MAX_INFOS || a.ndpi > CNIE_PACE_MAX_INFOS)
		abort();
	for (i = 0; i < a.n; i++)
		if (a.info[i].der < data || a.info[i].der + a.info[i].der_len > data + size)
			abort();
	for (i = 0; i < a.ndpi; i++)
		if (a.dpi[i].der < data || a.dpi[i].der + a.dpi[i].der_len > data + size)
			abort();
	if ((pick = cnie_pace_select(&a)) == NULL)
		return 0;
	if (pick < a.info || pick >= a.info + a.n || !pick->supported || pick->version != 2 ||
	    (pick->mapping != CNIE_PACE_GM && pick->mapping != CNIE_PACE_CAM) ||
	    (pick->mapping == CNIE_PACE_CAM && (!pick->ecdh || pick->cipher == CNIE_SM_3DES)))
		abort();
	if ((one = cnie_buf_new()) == NULL)
		return 0;
	if (cnie_pace_card_access_of(&a, pick, one) != 0 ||
	    cnie_pace_infos_parse(cnie_buf_ptr(one), cnie_buf_len(one), &b) != 0 || b.n != 1 ||
	    (again = cnie_pace_select(&b)) == NULL || again->der_len != pick->der_len ||
	    memcmp(again->der, pick->der, pick->der_len) != 0)
		abort();
	cnie_buf_free(&one);
	return 0;
}
