/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 * EF.DIR, which the public card API returns, is in cnie/efdir.h.
 *
 * PKCS#15 (ISO/IEC 7816-15) structures of the PKI application: pure parsers
 * over file contents.  No card I/O: the card layer reads the files and
 * hands their bytes here.
 *
 * Files: EF.DIR (ISO/IEC 7816-4 8.2.1.1, application templates), the ODF,
 * the TokenInfo, and the AODF, PrKDF and CDF directory files (PKCS#15 v1.1
 * clause 6 / ISO/IEC 7816-15 clause 8).  Field layouts follow the standard
 * as OpenSC reads it (src/libopensc/pkcs15*.c); nothing sits at a fixed
 * offset.
 *
 * Input rules, for every parser:
 *  - BER is accepted (the card may use non-minimal lengths); indefinite
 *    lengths and malformed TLVs are refused with the TLV parser's error
 *    (CNIE_ERR_TRUNCATED, CNIE_ERR_ENCODING);
 *  - '00' and 'FF' bytes between and after top-level objects are padding
 *    (ISO/IEC 7816-4 clause 6.3) and skipped;
 *  - every top-level object is checked to nest at most CNIE_P15_MAX_DEPTH
 *    levels (CNIE_ERR_NESTING);
 *  - a missing mandatory field, a field of the wrong type or a bad value
 *    (negative integer, bad BIT STRING, invalid UTF-8, NUL in a label) is
 *    CNIE_ERR_ENCODING;
 *  - unknown optional fields, unknown object types (e.g. biometric AODF
 *    entries, DSA keys, attribute certificates) and unknown ODF choices
 *    are skipped;
 *  - more than CNIE_P15_MAX_OBJECTS top-level objects in a file (known or
 *    not), or a string, identifier, path or value above its cap, is
 *    CNIE_ERR_TOO_LONG; an integer above 0xFFFFFFFF also.
 *
 * Results are plain structs owned by the caller, freed with their _free
 * function (which accepts NULL and sets the pointer to NULL).  Strings are
 * NUL-terminated UTF-8; "" when the field is absent.
 */
#ifndef CNIE_PKCS15_H
#define CNIE_PKCS15_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/efdir.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNIE_P15_MAX_DEPTH 12	    /* TLV nesting per object */
#define CNIE_P15_MAX_ID 64	    /* bytes of an Identifier */
#define CNIE_P15_MAX_SERIAL 32	    /* bytes of TokenInfo.serialNumber */
#define CNIE_P15_MAX_TIME 32	    /* characters of a GeneralizedTime */
#define CNIE_P15_MAX_CERT 16384	    /* bytes of a certificate stored directly */

/* Path ::= SEQUENCE { path OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL } */
typedef struct cnie_p15_path {
	uint8_t value[CNIE_P15_MAX_PATH];
	size_t len;		/* 1..CNIE_P15_MAX_PATH */
	bool has_range;		/* index and length present (both or neither) */
	uint32_t index;		/* offset in the file */
	uint32_t length;	/* bytes from index */
} cnie_p15_path;

/* CommonObjectFlags (bit numbers as masks). */
#define CNIE_P15_CO_PRIVATE (1u << 0)
#define CNIE_P15_CO_MODIFIABLE (1u << 1)
#define CNIE_P15_CO_INTERNAL (1u << 2)

/* CommonObjectAttributes. */
typedef struct cnie_p15_common {
	char label[CNIE_P15_MAX_LABEL + 1];
	uint32_t flags;				/* CNIE_P15_CO_* */
	uint8_t auth_id[CNIE_P15_MAX_ID];	/* the PIN protecting the object */
	size_t auth_id_len;			/* 0: none */
} cnie_p15_common;

/* ---- ODF -------------------------------------------------------------- */

/* PKCS15Objects choices: the context tag number of the ODF entry. */
typedef enum cnie_p15_df_type {
	CNIE_P15_PRKDF = 0,		/* A0 privateKeys */
	CNIE_P15_PUKDF = 1,		/* A1 publicKeys */
	CNIE_P15_PUKDF_TRUSTED = 2,	/* A2 trustedPublicKeys */
	CNIE_P15_SKDF = 3,		/* A3 secretKeys */
	CNIE_P15_CDF = 4,		/* A4 certificates */
	CNIE_P15_CDF_TRUSTED = 5,	/* A5 trustedCertificates */
	CNIE_P15_CDF_USEFUL = 6,	/* A6 usefulCertificates */
	CNIE_P15_DODF = 7,		/* A7 dataObjects */
	CNIE_P15_AODF = 8,		/* A8 authObjects */
} cnie_p15_df_type;

typedef struct cnie_p15_odf_entry {
	cnie_p15_df_type type;
	cnie_p15_path path;
} cnie_p15_odf_entry;

typedef struct cnie_p15_odf {
	size_t count;
	cnie_p15_odf_entry entries[CNIE_P15_MAX_OBJECTS];
} cnie_p15_odf;

/*
 * Parses the ODF.  Entries given by path are kept; entries holding their
 * objects directly ([0] objects, protected choices) and tags above A8 are
 * skipped.
 */
int cnie_p15_odf_parse(const uint8_t *p, size_t n, cnie_p15_odf **out);
void cnie_p15_odf_free(cnie_p15_odf **odf);
/* The which-th (0-based) entry of the type; *path borrowed. CNIE_ERR_NOT_FOUND. */
int cnie_p15_odf_find(const cnie_p15_odf *odf, cnie_p15_df_type type, size_t which,
    const cnie_p15_path **path);

/* ---- TokenInfo -------------------------------------------------------- */

#define CNIE_P15_TF_READONLY (1u << 0)
#define CNIE_P15_TF_LOGIN_REQUIRED (1u << 1)
#define CNIE_P15_TF_PRN_GENERATION (1u << 2)
#define CNIE_P15_TF_EID_COMPLIANT (1u << 3)

typedef struct cnie_p15_tokeninfo {
	uint32_t version;				/* 0 = v1 */
	char serial[2 * CNIE_P15_MAX_SERIAL + 1];	/* upper-case hex; "" if absent */
	char manufacturer[CNIE_P15_MAX_LABEL + 1];
	char label[CNIE_P15_MAX_LABEL + 1];
	uint32_t flags;					/* CNIE_P15_TF_* */
} cnie_p15_tokeninfo;

/* Parses the TokenInfo file (one SEQUENCE, then only padding). */
int cnie_p15_tokeninfo_parse(const uint8_t *p, size_t n, cnie_p15_tokeninfo **out);
void cnie_p15_tokeninfo_free(cnie_p15_tokeninfo **ti);

/* ---- AODF: PIN objects ------------------------------------------------ */

#define CNIE_P15_PIN_CASE_SENSITIVE (1u << 0)
#define CNIE_P15_PIN_LOCAL (1u << 1)
#define CNIE_P15_PIN_CHANGE_DISABLED (1u << 2)
#define CNIE_P15_PIN_UNBLOCK_DISABLED (1u << 3)
#define CNIE_P15_PIN_INITIALIZED (1u << 4)
#define CNIE_P15_PIN_NEEDS_PADDING (1u << 5)
#define CNIE_P15_PIN_UNBLOCKING_PIN (1u << 6)
#define CNIE_P15_PIN_SO_PIN (1u << 7)
#define CNIE_P15_PIN_DISABLE_ALLOWED (1u << 8)
#define CNIE_P15_PIN_INTEGRITY_PROTECTED (1u << 9)
#define CNIE_P15_PIN_CONFIDENTIALITY_PROTECTED (1u << 10)
#define CNIE_P15_PIN_EXCHANGE_REF_DATA (1u << 11)

/* PinType ENUMERATED. */
#define CNIE_P15_PIN_TYPE_BCD 0
#define CNIE_P15_PIN_TYPE_ASCII_NUMERIC 1
#define CNIE_P15_PIN_TYPE_UTF8 2
#define CNIE_P15_PIN_TYPE_HALF_NIBBLE_BCD 3
#define CNIE_P15_PIN_TYPE_ISO9564_1 4

typedef struct cnie_p15_pin {
	cnie_p15_common common;		/* common.auth_id: the PIN that unblocks this one */
	uint8_t auth_id[CNIE_P15_MAX_ID]; /* this PIN's identifier (objects' authId) */
	size_t auth_id_len;
	uint32_t flags;			/* CNIE_P15_PIN_* */
	uint32_t type;			/* CNIE_P15_PIN_TYPE_* (other values kept as read) */
	uint32_t min_len;
	uint32_t stored_len;
	bool has_max_len;
	uint32_t max_len;
	uint32_t reference;		/* pinReference, DEFAULT 0 */
	bool has_pad_char;
	uint8_t pad_char;
	char last_change[CNIE_P15_MAX_TIME + 1]; /* GeneralizedTime, "" if absent */
	bool has_path;
	cnie_p15_path path;
} cnie_p15_pin;

typedef struct cnie_p15_aodf {
	size_t count;
	cnie_p15_pin pins[CNIE_P15_MAX_OBJECTS];
} cnie_p15_aodf;

/* Parses an AODF; only PIN objects are kept. */
int cnie_p15_aodf_parse(const uint8_t *p, size_t n, cnie_p15_aodf **out);
void cnie_p15_aodf_free(cnie_p15_aodf **aodf);
/* The PIN whose authId is id; *pin borrowed. CNIE_ERR_NOT_FOUND. */
int cnie_p15_aodf_find(const cnie_p15_aodf *aodf, const uint8_t *id, size_t id_len,
    const cnie_p15_pin **pin);

/* ---- PrKDF: private keys ---------------------------------------------- */

/* KeyUsageFlags. */
#define CNIE_P15_USAGE_ENCRYPT (1u << 0)
#define CNIE_P15_USAGE_DECRYPT (1u << 1)
#define CNIE_P15_USAGE_SIGN (1u << 2)
#define CNIE_P15_USAGE_SIGN_RECOVER (1u << 3)
#define CNIE_P15_USAGE_WRAP (1u << 4)
#define CNIE_P15_USAGE_UNWRAP (1u << 5)
#define CNIE_P15_USAGE_VERIFY (1u << 6)
#define CNIE_P15_USAGE_VERIFY_RECOVER (1u << 7)
#define CNIE_P15_USAGE_DERIVE (1u << 8)
#define CNIE_P15_USAGE_NON_REPUDIATION (1u << 9)

/* KeyAccessFlags. */
#define CNIE_P15_ACCESS_SENSITIVE (1u << 0)
#define CNIE_P15_ACCESS_EXTRACTABLE (1u << 1)
#define CNIE_P15_ACCESS_ALWAYS_SENSITIVE (1u << 2)
#define CNIE_P15_ACCESS_NEVER_EXTRACTABLE (1u << 3)
#define CNIE_P15_ACCESS_LOCAL (1u << 4)

typedef enum cnie_p15_key_type {
	CNIE_P15_KEY_RSA = 1,	/* privateRSAKey: universal SEQUENCE */
	CNIE_P15_KEY_EC = 2,	/* privateECKey: [0] */
} cnie_p15_key_type;

typedef struct cnie_p15_prkey {
	cnie_p15_key_type type;
	cnie_p15_common common;		/* common.auth_id: the PIN */
	uint8_t id[CNIE_P15_MAX_ID];
	size_t id_len;
	uint32_t usage;			/* CNIE_P15_USAGE_* */
	bool native;			/* DEFAULT TRUE */
	uint32_t access;		/* CNIE_P15_ACCESS_*, 0 if absent */
	bool has_key_ref;
	uint32_t key_ref;
	bool has_path;			/* value given as a Path */
	cnie_p15_path path;
	uint32_t modulus_bits;		/* RSA: modulusLength (mandatory) */
	uint32_t field_size;		/* EC: OpenSC's fieldSize, 0 if absent */
} cnie_p15_prkey;

typedef struct cnie_p15_prkdf {
	size_t count;
	cnie_p15_prkey keys[CNIE_P15_MAX_OBJECTS];
} cnie_p15_prkdf;

/* Parses a PrKDF; RSA and EC keys are kept, other key types skipped. */
int cnie_p15_prkdf_parse(const uint8_t *p, size_t n, cnie_p15_prkdf **out);
void cnie_p15_prkdf_free(cnie_p15_prkdf **prkdf);
/* The key with this iD; *key borrowed. CNIE_ERR_NOT_FOUND. */
int cnie_p15_prkdf_find(const cnie_p15_prkdf *prkdf, const uint8_t *id, size_t id_len,
    const cnie_p15_prkey **key);

/* ---- CDF: X.509 certificates ------------------------------------------ */

typedef enum cnie_p15_value_kind {
	CNIE_P15_VALUE_NONE = 0,	/* URL or protected value: not usable here */
	CNIE_P15_VALUE_PATH = 1,	/* in a file: path */
	CNIE_P15_VALUE_DIRECT = 2,	/* in the CDF itself: direct, direct_len */
} cnie_p15_value_kind;

typedef struct cnie_p15_cert {
	cnie_p15_common common;
	uint8_t id[CNIE_P15_MAX_ID];
	size_t id_len;
	bool authority;			/* DEFAULT FALSE */
	cnie_p15_value_kind kind;
	cnie_p15_path path;		/* kind == CNIE_P15_VALUE_PATH */
	uint8_t *direct;		/* kind == DIRECT: the Certificate's DER (owned) */
	size_t direct_len;
} cnie_p15_cert;

typedef struct cnie_p15_cdf {
	size_t count;
	cnie_p15_cert certs[CNIE_P15_MAX_OBJECTS];
} cnie_p15_cdf;

/*
 * Parses a CDF; X.509 certificates are kept, other certificate types
 * skipped.  A direct value '[0]' is accepted tagged explicitly (holding the
 * Certificate SEQUENCE) or implicitly (holding its contents); direct is
 * the Certificate's full DER either way.
 */
int cnie_p15_cdf_parse(const uint8_t *p, size_t n, cnie_p15_cdf **out);
void cnie_p15_cdf_free(cnie_p15_cdf **cdf);
/* The certificate with this iD; *cert borrowed. CNIE_ERR_NOT_FOUND. */
int cnie_p15_cdf_find(const cnie_p15_cdf *cdf, const uint8_t *id, size_t id_len,
    const cnie_p15_cert **cert);

#ifdef __cplusplus
}
#endif

#endif
