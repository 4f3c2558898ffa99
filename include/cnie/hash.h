/*
 * Public API.  The hash algorithms libcnie signs and verifies with: one
 * table of facts (digest length, the names each world spells, OID,
 * DigestInfo prefix) that the card layer, Passive Authentication, the Web
 * eID verifier, the PKCS#11 module, cnied and cnie-tool all read, so a
 * hash is added or corrected in one place.  Mappings that belong to one
 * front end (PKCS#11 CKM_* and CKG_MGF1_* values) stay in that front end,
 * keyed on cnie_card_hash.
 */
#ifndef CNIE_HASH_H
#define CNIE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The hashes of the SHA-1 and SHA-2 families (FIPS 180-4). */
typedef enum cnie_card_hash {
	CNIE_CARD_HASH_NONE = 0, /* RSA_PKCS1_RAW, ECDSA: any supported hash length */
	CNIE_CARD_HASH_SHA1,
	CNIE_CARD_HASH_SHA224,
	CNIE_CARD_HASH_SHA256,
	CNIE_CARD_HASH_SHA384,
	CNIE_CARD_HASH_SHA512,
} cnie_card_hash;

/* Longest digest in the table (SHA-512). */
#define CNIE_HASH_MAX_LEN 64

/* One hash's facts.  Read-only; entries live for the life of the process. */
typedef struct cnie_hash_info {
	cnie_card_hash id;
	const char *name;	     /* "SHA-256": FIPS 180-4, Web eID hashFunction */
	const char *ossl_name;	     /* "SHA256": OpenSSL digest name (EVP_MD_fetch) */
	const char *cli_name;	     /* "sha256": cnie-tool --hash-alg */
	size_t len;		     /* digest length in bytes */
	int nid;		     /* OpenSSL NID */
	const uint8_t *oid;	     /* DER contents octets of the algorithm OID */
	size_t oid_len;
	const uint8_t *digest_info;  /* DigestInfo prefix, RFC 8017 9.2 note 1 */
	size_t digest_info_len;
} cnie_hash_info;

/* Which spellings cnie_hash_by_name accepts. */
typedef enum cnie_hash_names {
	CNIE_HASH_NAME_STD = 1,	/* exactly "SHA-256" (Web eID, JOSE documents) */
	CNIE_HASH_NAME_OPENSSL,	/* exactly "SHA256" */
	CNIE_HASH_NAME_ANY,	/* any of "SHA-256", "SHA256", "sha256", "sha-256", any case */
} cnie_hash_names;

/* The entry of id; NULL for CNIE_CARD_HASH_NONE or an unknown value. */
CNIE_EXPORT const cnie_hash_info *cnie_hash_by_id(cnie_card_hash id);
/* The entry named name in the spelling which; NULL when none (or name NULL). */
CNIE_EXPORT const cnie_hash_info *cnie_hash_by_name(const char *name, cnie_hash_names which);
/* The entry whose digest is len bytes (lengths are unique); NULL when none. */
CNIE_EXPORT const cnie_hash_info *cnie_hash_by_len(size_t len);
/* The entry whose OID contents octets are oid[0..len); NULL when none. */
CNIE_EXPORT const cnie_hash_info *cnie_hash_by_oid(const uint8_t *oid, size_t len);
/*
 * The i-th entry (0..), in increasing digest length, NULL past the last:
 * for listing what is supported.
 */
CNIE_EXPORT const cnie_hash_info *cnie_hash_at(size_t i);

/*
 * out = H(in[0..in_len)) with id's hash; out has room for cap bytes, *out_len
 * gets the digest length.  CNIE_ERR_INVALID_ARG for NONE or an unknown id,
 * CNIE_ERR_BUFFER_TOO_SMALL, CNIE_ERR_CRYPTO when OpenSSL fails.
 */
CNIE_EXPORT int cnie_hash_digest(cnie_card_hash id, const void *in, size_t in_len,
    uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
