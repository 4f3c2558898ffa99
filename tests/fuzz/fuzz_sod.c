/*
 * libFuzzer harness for Passive Authentication (src/libcnie/pa.c): EF.SOD parsing
 * (77 wrapper, CMS, LDSSecurityObject) and master list parsing, on
 * arbitrary bytes.  The trust store is empty, so no input can pass; the
 * properties checked are the result's consistency: a failed EF.SOD parse
 * runs no later step, the verdict is the first failing step's error, and
 * the verdict is never 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/pa.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dg1[] = { 0x61, 0x00 }, dg2[] = { 0x75, 0x00 };
	const cnie_pa_dg dgs[2] = { { 1, dg1, sizeof(dg1) }, { 2, dg2, sizeof(dg2) } };
	cnie_pa_trust *trust = NULL;
	cnie_pa_result res;
	char msg[128];
	int r;

	if (cnie_pa_trust_new(&trust) != 0)
		abort();
	r = cnie_pa_verify(data, size, dgs, 2, trust, 1767225600, &res);
	if (r == 0 || r != res.verdict || res.first_failure == CNIE_PA_STEP_NONE)
		abort();
	if (res.sod_parse == CNIE_PA_FAIL && (res.dg_hashes != CNIE_PA_NOT_RUN ||
	    res.signature != CNIE_PA_NOT_RUN || res.ds_chain != CNIE_PA_NOT_RUN ||
	    res.ds_validity != CNIE_PA_NOT_RUN))
		abort();
	if (res.sod_parse == CNIE_PA_PASS && res.ds_chain != CNIE_PA_FAIL)
		abort(); /* empty trust store */
	(void)cnie_pa_describe(&res, msg, sizeof(msg));
	/* The same bytes as a master list (its content parser). */
	r = cnie_pa_trust_add_master_list(trust, data, size);
	if ((r == 0) != (cnie_pa_trust_count(trust) > 0))
		abort();
	cnie_pa_trust_free(&trust);
	return 0;
}
