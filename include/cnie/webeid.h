/*
 * Web eID authentication token verifier for portals ("web-eid:1.0", the
 * token cnied's /v1/authenticate returns; docs/bridge-api.md).
 *
 * A portal issues a challenge nonce (cnie_webeid_nonce_issue), the page
 * hands it to the bridge, the card signs H(origin) || H(nonce) and the
 * portal passes the token to cnie_webeid_verify, which checks in order:
 *   1. nonce     - issued by this store, not used before, not older than
 *                  the store's window; it is CONSUMED by this call whatever
 *                  the outcome (single use, as Web eID's getAndRemove);
 *   2. format    - a JSON object (size and depth capped, no duplicate keys)
 *                  with "format" web-eid:1[.x], "unverifiedCertificate",
 *                  "algorithm", "signature" strings in strict base64;
 *   3. cert      - DER X.509, chain to the trust store at the given time
 *                  (X509_verify_cert), keyUsage digitalSignature and, when
 *                  the extension is present, extendedKeyUsage clientAuth;
 *   4. algorithm - ES256/ES384/ES512 need an EC key on P-256/P-384/P-521,
 *                  RS*, PS* an RSA key; the signature length fits the key;
 *   5. signature - over H(origin) || H(nonce) (H the algorithm's hash; the
 *                  nonce's ASCII bytes as issued), hashed again by the
 *                  algorithm; ECDSA as raw r||s, PSS with salt = hash length.
 * The token carries no origin: a token made for another origin fails step 5
 * exactly as a tampered signature does (CNIE_WEBEID_SIGNATURE_MISMATCH).
 * Untrusted input never crashes: every length is capped and checked.
 */
#ifndef CNIE_WEBEID_H
#define CNIE_WEBEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cnie/export.h>
#include <cnie/hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why a token was refused.  0 = valid.  Values are stable. */
typedef enum cnie_webeid_reason {
	CNIE_WEBEID_OK = 0,
	CNIE_WEBEID_BAD_ARGUMENT = 1,	     /* caller error: missing store/trust, bad expected origin */
	CNIE_WEBEID_INTERNAL = 2,	     /* allocation or crypto library failure */
	CNIE_WEBEID_FORMAT = 3,		     /* not a well-formed web-eid:1 token */
	CNIE_WEBEID_SIGNATURE_MISMATCH = 4,  /* signature does not verify over this origin+nonce (wrong origin or tampered) */
	CNIE_WEBEID_NONCE_UNKNOWN = 5,	     /* nonce never issued by this store (or forgotten) */
	CNIE_WEBEID_NONCE_REPLAYED = 6,	     /* nonce already used */
	CNIE_WEBEID_NONCE_EXPIRED = 7,	     /* nonce older than the freshness window */
	CNIE_WEBEID_SIGNATURE_INVALID = 8,   /* signature malformed (encoding, length for the key) */
	CNIE_WEBEID_CERT_INVALID = 9,	     /* certificate does not parse */
	CNIE_WEBEID_CERT_UNTRUSTED = 10,     /* no chain to a trusted CA */
	CNIE_WEBEID_CERT_EXPIRED = 11,	     /* certificate (or its chain) expired at the given time */
	CNIE_WEBEID_CERT_NOT_YET_VALID = 12, /* certificate (or its chain) not yet valid */
	CNIE_WEBEID_KEY_USAGE = 13,	     /* not an authentication certificate */
	CNIE_WEBEID_ALGORITHM = 14,	     /* unknown algorithm or one not matching the key */
} cnie_webeid_reason;

/* Stable short code of a reason ("ok", "format", "nonce-replayed"...); never NULL. */
CNIE_EXPORT const char *cnie_webeid_reason_code(int reason);
/* One-line English description of a reason; never NULL. */
CNIE_EXPORT const char *cnie_webeid_reason_text(int reason);

/* ---- nonce store --------------------------------------------------------- */

/* Length of an issued nonce: 32 random bytes in base64, no NUL. */
#define CNIE_WEBEID_NONCE_LEN 44
/* Longest nonce accepted by cnie_webeid_nonce_add (base64 characters). */
#define CNIE_WEBEID_NONCE_MAX 128

typedef struct cnie_webeid_nonce_store cnie_webeid_nonce_store;

/*
 * A new store remembering up to capacity nonces (1..1000000), each valid
 * for max_age seconds after its issue time (1..86400).  When full, the
 * oldest entry is forgotten (a token for it then gets NONCE_UNKNOWN).
 * Caller frees with cnie_webeid_nonce_store_free.  Not thread-safe: callers
 * sharing a store between threads lock around it.
 */
CNIE_EXPORT int cnie_webeid_nonce_store_new(size_t capacity, unsigned max_age,
    cnie_webeid_nonce_store **out);
CNIE_EXPORT void cnie_webeid_nonce_store_free(cnie_webeid_nonce_store **s);
/*
 * Issues a fresh nonce (32 bytes from the OpenSSL DRBG, base64) at time now
 * (0: the current time), remembers it and writes it NUL-terminated to out
 * (outlen > CNIE_WEBEID_NONCE_LEN).
 */
CNIE_EXPORT int cnie_webeid_nonce_issue(cnie_webeid_nonce_store *s, time_t now,
    char *out, size_t outlen);
/*
 * Remembers a nonce issued elsewhere (e.g. by another process) at
 * issued_at.  The nonce must be 44..CNIE_WEBEID_NONCE_MAX base64 characters
 * (≥ 32 bytes).  CNIE_ERR_INVALID_ARG otherwise; adding a nonce already
 * known is CNIE_ERR_STATE.
 */
CNIE_EXPORT int cnie_webeid_nonce_add(cnie_webeid_nonce_store *s, const char *nonce,
    time_t issued_at);

/* ---- trust store --------------------------------------------------------- */

typedef struct cnie_webeid_trust cnie_webeid_trust;

CNIE_EXPORT int cnie_webeid_trust_new(cnie_webeid_trust **out);
CNIE_EXPORT void cnie_webeid_trust_free(cnie_webeid_trust **t);
/*
 * Adds the CA certificates of a PEM file (one or more certificates), of a
 * DER file, or of every such file in a directory.  CNIE_ERR_IO if it
 * cannot be read, CNIE_ERR_NOT_FOUND if no certificate was found.
 */
CNIE_EXPORT int cnie_webeid_trust_add_path(cnie_webeid_trust *t, const char *path);
/* Adds the certificates of a PEM (or one DER) certificate held in memory. */
CNIE_EXPORT int cnie_webeid_trust_add_mem(cnie_webeid_trust *t, const uint8_t *p, size_t n);
/* Number of CA certificates held. */
CNIE_EXPORT size_t cnie_webeid_trust_count(const cnie_webeid_trust *t);

/* ---- the signed data (producer and verifier) ----------------------------- */

/* Room cnie_webeid_signed_data needs at most. */
#define CNIE_WEBEID_SIGNED_DATA_MAX (2 * CNIE_HASH_MAX_LEN)

/*
 * The data a Web eID authentication signs (docs/bridge-api.md): H(origin)
 * || H(nonce), H the algorithm's hash, over the origin's and the nonce's
 * bytes as given (no NUL); the signature algorithm hashes it once more.
 * The bridge that signs and the verifier both build it here.  out has cap
 * bytes; *out_len gets 2 * the digest length.  CNIE_ERR_INVALID_ARG for
 * NULL strings or hash NONE, CNIE_ERR_BUFFER_TOO_SMALL, CNIE_ERR_CRYPTO.
 */
CNIE_EXPORT int cnie_webeid_signed_data(cnie_card_hash hash, const char *origin,
    const char *nonce, uint8_t *out, size_t cap, size_t *out_len);

/*
 * The algorithm a bridge signs an authentication with, for an EC (ec) or
 * RSA key of bits bits: ES256, ES384 or ES512 by curve size (up to 256,
 * up to 384, larger), RS256 for RSA.  *hash (when not NULL) gets its hash.
 * Never NULL.
 */
CNIE_EXPORT const char *cnie_webeid_auth_algorithm(bool ec, unsigned bits,
    cnie_card_hash *hash);

/* ---- verification -------------------------------------------------------- */

/* Largest token accepted (bytes of JSON). */
#define CNIE_WEBEID_TOKEN_MAX (64 * 1024)

typedef struct cnie_webeid_params {
	const char *origin;		  /* expected origin, scheme://host[:port], no trailing slash */
	const char *nonce;		  /* the nonce the portal issued for this login */
	cnie_webeid_nonce_store *nonces;  /* where the nonce was issued; it is consumed */
	const cnie_webeid_trust *trust;	  /* CAs the authentication certificate must chain to */
	time_t now;			  /* time for nonce freshness and certificate validity (0: now) */
} cnie_webeid_params;

/* What a valid token says (filled as far as verification went). */
typedef struct cnie_webeid_info {
	char algorithm[8];	 /* "ES256"... */
	char subject[512];	 /* certificate subject, RFC 2253 */
	char common_name[256];	 /* subject CN */
	char serial_number[64];	 /* subject serialNumber (the card holder's document number) */
	char fingerprint[65];	 /* SHA-256 of the certificate DER, lowercase hex */
	uint8_t *certificate;	 /* certificate DER (caller frees with cnie_webeid_info_clear) */
	size_t certificate_len;
} cnie_webeid_info;

/*
 * Verifies token (len bytes of JSON, not necessarily NUL-terminated)
 * against p.  Returns CNIE_WEBEID_OK or the first failed check's reason.
 * info may be NULL; otherwise it is cleared first and the caller releases
 * it with cnie_webeid_info_clear.
 */
CNIE_EXPORT int cnie_webeid_verify(const char *token, size_t len, const cnie_webeid_params *p,
    cnie_webeid_info *info);
CNIE_EXPORT void cnie_webeid_info_clear(cnie_webeid_info *info);

#ifdef __cplusplus
}
#endif

#endif
