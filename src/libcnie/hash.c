/*
 * The hash algorithm table (include/cnie/hash.h): the one place that knows
 * a hash's length, names, OID and DigestInfo prefix.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <cnie/error.h>
#include <cnie/hash.h>

#include "hash_internal.h"

/* OID contents octets: 1.3.14.3.2.26 and 2.16.840.1.101.3.4.2.{4,1,2,3} (RFC 3279, RFC 5754). */
static const uint8_t oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t oid_sha224[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04 };
static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_sha384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
static const uint8_t oid_sha512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };

/* DigestInfo prefixes (RFC 8017 9.2 note 1). */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03,
	0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha224[] = { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

#define ENTRY(ID, STD, OSSL, CLI, LEN, NID, OID, DI) \
	{ ID, STD, OSSL, CLI, LEN, NID, OID, sizeof(OID), DI, sizeof(DI) }

/* In increasing digest length: cnie_hash_at lists them in this order. */
static const cnie_hash_info hashes[] = {
	ENTRY(CNIE_CARD_HASH_SHA1, "SHA-1", "SHA1", "sha1", 20, NID_sha1, oid_sha1, di_sha1),
	ENTRY(CNIE_CARD_HASH_SHA224, "SHA-224", "SHA224", "sha224", 28, NID_sha224, oid_sha224,
	    di_sha224),
	ENTRY(CNIE_CARD_HASH_SHA256, "SHA-256", "SHA256", "sha256", 32, NID_sha256, oid_sha256,
	    di_sha256),
	ENTRY(CNIE_CARD_HASH_SHA384, "SHA-384", "SHA384", "sha384", 48, NID_sha384, oid_sha384,
	    di_sha384),
	ENTRY(CNIE_CARD_HASH_SHA512, "SHA-512", "SHA512", "sha512", 64, NID_sha512, oid_sha512,
	    di_sha512),
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

const cnie_hash_info *
cnie_hash_at(size_t i)
{
	return i < NHASHES ? &hashes[i] : NULL;
}

const cnie_hash_info *
cnie_hash_by_id(cnie_card_hash id)
{
	for (size_t i = 0; i < NHASHES; i++)
		if (hashes[i].id == id)
			return &hashes[i];
	return NULL;
}

const cnie_hash_info *
cnie_hash_by_len(size_t len)
{
	for (size_t i = 0; i < NHASHES; i++)
		if (hashes[i].len == len)
			return &hashes[i];
	return NULL;
}

const cnie_hash_info *
cnie_hash_by_oid(const uint8_t *oid, size_t len)
{
	if (oid == NULL)
		return NULL;
	for (size_t i = 0; i < NHASHES; i++)
		if (hashes[i].oid_len == len && memcmp(hashes[i].oid, oid, len) == 0)
			return &hashes[i];
	return NULL;
}

static bool
name_matches(const cnie_hash_info *h, const char *name, cnie_hash_names which)
{
	switch (which) {
	case CNIE_HASH_NAME_STD:
		return strcmp(name, h->name) == 0;
	case CNIE_HASH_NAME_OPENSSL:
		return strcmp(name, h->ossl_name) == 0;
	case CNIE_HASH_NAME_ANY:
		return strcasecmp(name, h->name) == 0 || strcasecmp(name, h->ossl_name) == 0;
	}
	return false;
}

const cnie_hash_info *
cnie_hash_by_name(const char *name, cnie_hash_names which)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NHASHES; i++)
		if (name_matches(&hashes[i], name, which))
			return &hashes[i];
	return NULL;
}

const EVP_MD *
cnie_hash_md(cnie_card_hash id)
{
	switch (id) {
	case CNIE_CARD_HASH_SHA1:
		return EVP_sha1();
	case CNIE_CARD_HASH_SHA224:
		return EVP_sha224();
	case CNIE_CARD_HASH_SHA256:
		return EVP_sha256();
	case CNIE_CARD_HASH_SHA384:
		return EVP_sha384();
	case CNIE_CARD_HASH_SHA512:
		return EVP_sha512();
	case CNIE_CARD_HASH_NONE:
		break;
	}
	return NULL;
}

int
cnie_hash_digest(cnie_card_hash id, const void *in, size_t in_len, uint8_t *out, size_t cap,
    size_t *out_len)
{
	const cnie_hash_info *h = cnie_hash_by_id(id);
	const EVP_MD *md = cnie_hash_md(id);
	unsigned int n = 0;

	if (h == NULL || md == NULL || (in == NULL && in_len != 0) || out == NULL ||
	    out_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (cap < h->len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	if (EVP_Digest(in, in_len, out, &n, md, NULL) != 1 || n != h->len)
		return CNIE_ERR_CRYPTO;
	*out_len = n;
	return 0;
}
