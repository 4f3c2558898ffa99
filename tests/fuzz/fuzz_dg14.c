/*
 * libFuzzer harness for DG14's ActiveAuthenticationInfo lookup
 * (cnie_lds_dg14_aa_hash, src/libcnie/lds.c).  Properties checked on every
 * input (abort() on violation): the result is 0 or one of the documented
 * errors; success gives a hash of the table (SHA-1 .. SHA-512), failure
 * leaves CNIE_CARD_HASH_NONE; the same input gives the same answer.
 * Then the Chip Authentication key lookup (cnie_icao_dg14_chip_key,
 * src/libcnie/icao.c): the key found lies inside the input, and is decoded
 * by OpenSSL as cnie_icao_chip_auth does (no crash, no read outside it).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/lds.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lds_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Chip Authentication's key lookup: in-bounds, decodable without harm. */
static void
chip_key(const uint8_t *data, size_t size)
{
	const uint8_t *spki = NULL;
	const unsigned char *p;
	size_t len = 0;
	bool dh = false;
	EVP_PKEY *k;
	int r;

	r = cnie_icao_dg14_chip_key(data, size, &dh, &spki, &len);
	if (r != 0) {
		switch (r) {
		case CNIE_ERR_NOT_FOUND:
		case CNIE_ERR_UNSUPPORTED:
		case CNIE_ERR_ENCODING:
		case CNIE_ERR_TRUNCATED:
		case CNIE_ERR_TRAILING:
		case CNIE_ERR_TOO_LONG:
		case CNIE_ERR_NESTING:
			return;
		default:
			abort();
		}
	}
	if (spki == NULL || len == 0 || spki < data || len > size ||
	    (size_t)(spki - data) > size - len)
		abort();
	p = spki;
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k != NULL && (p < spki || p > spki + len))
		abort();
	EVP_PKEY_free(k);
	(void)dh;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_card_hash h = CNIE_CARD_HASH_SHA512, h2 = CNIE_CARD_HASH_NONE;
	int r, r2;

	chip_key(data, size);

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
