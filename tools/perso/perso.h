/*
 * cnie-perso: writes a reference-card directory (docs/card-dir.md) from a
 * short JSON description, deterministically from the description's seed.
 *
 * Internal header of the tool; the functions are shared between the files
 * of tools/perso/ and the unit tests (tests/unit/test_perso*.c), nothing
 * here is part of libcnie's API.
 *
 * Determinism: every key, serial number, date, file and certificate is a
 * function of the description alone.  The CA keys are RSA and sign with
 * PKCS#1 v1.5 (deterministic), the EF.SOD signing time is fixed, so two
 * runs over the same description give byte-identical directories.  (ECDSA
 * in OpenSSL 3.0 draws a random nonce: no CA key is EC for that reason.)
 */
#ifndef CNIE_PERSO_H
#define CNIE_PERSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cnie/buf.h>

/* ---- description (desc.c) ------------------------------------------- */

enum perso_family { PERSO_EC = 0, PERSO_RSA = 1 };

typedef struct perso_date {
	int y, m, d;
} perso_date;

#define PERSO_ERRLEN 256

typedef struct perso_desc {
	char seed[129];
	char pki_seed[129];
	enum perso_family family;
	char surname_latin[40];	   /* MRZ alphabet: A-Z and spaces */
	char given_latin[40];
	char surname_arabic[160];  /* UTF-8 */
	char given_arabic[160];
	char document_number[10];  /* 1..9 of A-Z 0-9 */
	perso_date birth, expiry, issue, cert_not_after;
	char sex;		   /* 'M', 'F' or 'X' ('<' in the MRZ) */
	char nationality[4];	   /* ICAO 9303-3 three-letter code */
	char place_of_birth[64];
	char issuing_authority[64];
	char can[7];
	char pin[13];
	char puk[9];
	int pin_tries_left;	   /* 0..3 */
	int puk_tries_left;	   /* 0..10 */
	char serial[17];	   /* 16 hex digits */
	bool ds_expired;	   /* sign EF.SOD with the expired DS certificate */
	bool passport;		   /* "document_type": "passport": TD3 MRZ (9303-4) in DG1 */
	bool chip_dh;		   /* "chip_key": "dh": Chip Authentication over DH */
	char description[128];
} perso_desc;

/*
 * Reads and checks a description.  On error returns a negative
 * cnie_error and writes into err a message naming the bad field.
 */
int perso_desc_load(const char *path, perso_desc *d, char *err, size_t errlen);
int perso_desc_parse(const char *json, size_t len, perso_desc *d, char *err, size_t errlen);
/* Wipes the secrets of a description (PIN, PUK, CAN). */
void perso_desc_clear(perso_desc *d);

/* ---- deterministic derivation (derive.c) ---------------------------- */

/*
 * SHAKE256("cnie-perso/1" || len(seed) || seed || len(label) || label),
 * out_len bytes.  The lengths are 4-byte big-endian so no two
 * (seed, label) pairs share an input.
 */
int perso_stream(const char *seed, const char *label, uint8_t *out, size_t out_len);
/* EC key on a named curve (NID): private scalar = stream mod (n-1) + 1. */
int perso_ec_key(const char *seed, const char *label, int nid, EVP_PKEY **out);
/* RSA key, e = 65537, primes searched upward from stream-derived starts. */
int perso_rsa_key(const char *seed, const char *label, int bits, EVP_PKEY **out);
/* A DH key pair on the 1024-bit MODP group with 160-bit q (RFC 5114 2.1). */
int perso_dh_key(const char *seed, const char *label, EVP_PKEY **out);
/* A positive 16-byte certificate serial number. */
int perso_serial(const char *seed, const char *label, ASN1_INTEGER **out);

/* ---- DER builder (der.c) -------------------------------------------- */

#define PERSO_DER_DEPTH 16

/* A builder with a sticky error: check d->err once at the end. */
typedef struct perso_der {
	cnie_buf *b;
	int err;
	size_t mark[PERSO_DER_DEPTH];
	size_t depth;
} perso_der;

int perso_der_init(perso_der *d);
void perso_der_free(perso_der *d);
void perso_der_tag(perso_der *d, uint32_t tag);
void perso_der_raw(perso_der *d, const void *p, size_t n);
void perso_der_put(perso_der *d, uint32_t tag, const void *p, size_t n);
void perso_der_str(perso_der *d, uint32_t tag, const char *s);
/* Minimal two's-complement INTEGER (tag 0x02 or an implicit tag). */
void perso_der_int(perso_der *d, uint32_t tag, long v);
/* OBJECT IDENTIFIER from dotted text. */
void perso_der_oid(perso_der *d, const char *dotted);
/* BIT STRING of named bits (X.690 11.2.2: trailing zero bits removed). */
void perso_der_bits(perso_der *d, uint32_t tag, const unsigned *bits, size_t nbits);
void perso_der_open(perso_der *d, uint32_t tag);
void perso_der_close(perso_der *d);
/* Takes the finished bytes (caller frees with cnie_buf_free). */
int perso_der_take(perso_der *d, cnie_buf **out);

/* ---- card contents (pki.c, pkcs15.c, lds.c, face.c) ------------------ */

/* The test PKI, shared by all cards made with one pki_seed. */
typedef struct perso_pki {
	EVP_PKEY *csca_key, *ds_key, *ca_key, *other_key;
	X509 *csca, *ds, *ds_expired, *ca, *other_csca;
} perso_pki;

int perso_pki_make(const char *pki_seed, perso_pki *pki);
void perso_pki_free(perso_pki *pki);

/* An elementary file of the card. */
typedef struct perso_file {
	char path[32];	  /* "3F00-A002-0101" */
	const char *read; /* "always", "pin", "sm", "never" */
	int sfi;	  /* 0: none */
	cnie_buf *data;
} perso_file;

#define PERSO_MAX_FILES 32

typedef struct perso_card {
	perso_desc desc;
	perso_pki pki;
	EVP_PKEY *auth_key, *sign_key, *aa_key, *chip_key;
	X509 *auth_cert, *sign_cert;
	perso_file files[PERSO_MAX_FILES];
	size_t nfiles;
	char mrz[91];
	char atr_contact[80];
	char atr_contactless[80];
} perso_card;

/* Builds everything in memory. */
int perso_card_make(const perso_desc *desc, perso_card *card, char *err, size_t errlen);
void perso_card_free(perso_card *card);
/* Returns the file with that path or NULL. */
const perso_file *perso_card_file(const perso_card *card, const char *path);
/* Adds a file; takes ownership of *data (set to NULL). */
int perso_card_add(perso_card *card, const char *path, const char *read, int sfi,
    cnie_buf **data);

/* Issues the holder's certificates. */
int perso_certs_make(perso_card *card);

/* PKCS#15 application (ISO/IEC 7816-15) and EF.DIR, EF.ATR. */
int perso_pkcs15_make(perso_card *card);

/* ICAO 9303 LDS1 files, EF.CardAccess and EF.SOD. */
int perso_lds_make(perso_card *card);
/* TD1 MRZ (3 x 30 characters, no newline) into out[91]. */
int perso_mrz_td1(const perso_desc *d, char out[91]);
/* TD3 (passport, 9303-4 4.2.2): 2 x 44 characters and a NUL. */
int perso_mrz_td3(const perso_desc *d, char out[89]);

/* A synthetic face as an ISO/IEC 19794-5 record around a JPEG image. */
int perso_face_jpeg(const char *seed, int width, int height, cnie_buf **out);
int perso_face_record(const char *seed, char sex, cnie_buf **out);

/* ATRs (ISO 7816-3 and PC/SC part 3), as uppercase hex. */
int perso_atr_make(perso_card *card);

/* ---- output (write.c) ----------------------------------------------- */

/*
 * Writes the card directory out_dir (and the PKI also into pki_dir when not
 * NULL).  The directory is written beside out_dir then renamed into place;
 * an existing out_dir is replaced only when force is set (and only if it
 * holds a card.json: a card directory).
 */
int perso_card_write(const perso_card *card, const char *out_dir, const char *pki_dir,
    bool force, char *err, size_t errlen);
/* card.json text (caller frees). */
int perso_card_json(const perso_card *card, char **out);
/* Writes the PKI certificates (PEM) into dir, creating it. */
int perso_pki_write(const perso_pki *pki, const char *dir);

#endif
