/*
 * libFuzzer harness for DG14's ActiveAuthenticationInfo lookup
 * (cnie_lds_dg14_aa_hash, src/libcnie/lds.c).  Properties checked on every
 * input (abort() on violation): the result is 0 or one of the documented
 * errors; success gives a hash of the table (SHA-1 .. SHA-512), failure
 * leaves CNIE_CARD_HASH_NONE; the same input gives the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/lds.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_card_hash h = CNIE_CARD_HASH_SHA512, h2 = CNIE_CARD_HASH_NONE;
	int r, r2;

	r = cnie_lds_dg14_aa_hash(data, size, &h);
	r2 = cnie_lds_dg14_aa_hash(data, size, &h2);
	if (r != r2 || h != h2)
		abort();
	if (r == 0) {
		if (cnie_hash_by_id(h) == NULL)
			abort();
		return 0;
	}
	if (h != CNIE_CARD_HASH_NONE)
		abort();
	switch (r) {
	case CNIE_ERR_NOT_FOUND:
	case CNIE_ERR_UNSUPPORTED:
	case CNIE_ERR_ENCODING:
	case CNIE_ERR_TRUNCATED:
	case CNIE_ERR_TRAILING:
	case CNIE_ERR_TOO_LONG:
	case CNIE_ERR_NESTING:
		return 0;
	default:
		abort();
	}
}
