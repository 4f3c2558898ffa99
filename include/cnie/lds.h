/*
 * ICAO 9303-10 Logical Data Structure (LDS1) parsers: EF.COM, DG1 (MRZ),
 * DG2 (face), DG11 (additional personal details) and DG12 (additional
 * document details).  Pure functions over the bytes of a file as read
 * from the card; nothing here talks to a card.  Bytes are untrusted
 * until Passive Authentication (cnie/pa.h) has matched their hash.
 *
 * Every parse returns an owned struct (caller frees with the matching
 * _free, which wipes it: DGs hold personal data).  Text values are
 * checked to be strict UTF-8 without NUL and copied NUL-terminated; absent
 * optional fields are NULL.  Unknown tags inside a DG are skipped (later
 * LDS versions add tags); malformed TLV, invalid UTF-8 and a wrong outer
 * tag are errors (CNIE_ERR_ENCODING, CNIE_ERR_TRUNCATED,
 * CNIE_ERR_TRAILING, CNIE_ERR_NESTING, CNIE_ERR_TOO_LONG).
 */
#ifndef CNIE_LDS_H
#define CNIE_LDS_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>
#include <cnie/hash.h>
#include <cnie/mrz.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Highest data group number of LDS1 (DG1..DG16). */
#define CNIE_LDS_MAX_DG 16

/* Returns the DG number (1..16) of an LDS1 DG tag (0x61 → 1, 0x75 → 2, ...), 0 if none. */
CNIE_EXPORT int cnie_lds_tag_to_dg(uint32_t tag);
/* Returns the outer tag of DG n (1..16), 0 if none. */
CNIE_EXPORT uint32_t cnie_lds_dg_to_tag(int dg);

/* ---- EF.COM (9303-10 4.6.1) ---------------------------------------- */

typedef struct cnie_lds_com {
	char lds_version[5];	 /* "aabb", e.g. "0107" for LDS 1.7 */
	char unicode_version[7]; /* "aabbcc", e.g. "040000" */
	int dgs[CNIE_LDS_MAX_DG]; /* DG numbers listed in the tag list, in order */
	size_t ndgs;
} cnie_lds_com;

CNIE_EXPORT int cnie_lds_com_parse(const uint8_t *p, size_t n, cnie_lds_com **out);
CNIE_EXPORT void cnie_lds_com_free(cnie_lds_com **com);

/* ---- DG1 (9303-10 4.7.1) ------------------------------------------- */

typedef struct cnie_lds_dg1 {
	cnie_mrz mrz;		 /* parsed and check digits verified */
	cnie_mrz_field mrz_bad;	 /* on CNIE_ERR_VERIFY_FAILED from the parse: which field */
} cnie_lds_dg1;

/*
 * Parses DG1 (61 { 5F1F MRZ }).  MRZ errors are returned as from
 * cnie_mrz_parse; bad (may be NULL) names the failing MRZ field.
 */
CNIE_EXPORT int cnie_lds_dg1_parse(const uint8_t *p, size_t n, cnie_lds_dg1 **out,
    cnie_mrz_field *bad);
CNIE_EXPORT void cnie_lds_dg1_free(cnie_lds_dg1 **dg1);

/* ---- DG2 (9303-10 4.7.2, ISO/IEC 19794-5:2005) ----------------------- */

typedef enum cnie_lds_image_format {
	CNIE_LDS_IMAGE_JPEG = 0,     /* 19794-5 image data type 0 */
	CNIE_LDS_IMAGE_JPEG2000 = 1, /* 19794-5 image data type 1 (JP2 or J2K codestream) */
} cnie_lds_image_format;

typedef struct cnie_lds_dg2 {
	size_t instances;		/* biometric instances announced (02 count) */
	cnie_lds_image_format format;
	uint16_t width, height;		/* from the image information, 0 if unspecified */
	uint8_t gender;			/* 19794-5: 0 unspecified, 1 male, 2 female, 0xFF unknown */
	uint8_t *image;			/* owned copy of the first face image */
	size_t image_len;
} cnie_lds_dg2;

/*
 * Parses DG2 (75 { 7F61 { 02 count, 7F60 { A1 header, 5F2E|7F2E record } } })
 * and the first facial record inside: "FAC\0", a version, the record
 * length (must equal the data block's), the facial information and image
 * information blocks.  The image's magic bytes must match its type (JPEG
 * FFD8FF; JPEG 2000 0000000C6A502020 or FF4FFF51), else CNIE_ERR_ENCODING.
 */
CNIE_EXPORT int cnie_lds_dg2_parse(const uint8_t *p, size_t n, cnie_lds_dg2 **out);
CNIE_EXPORT void cnie_lds_dg2_free(cnie_lds_dg2 **dg2);

/* ---- DG11 (9303-10 4.7.11) ----------------------------------------- */

typedef struct cnie_lds_dg11 {
	char *full_name;		/* 5F0E */
	char **other_names;		/* 5F0F (inside A0 or bare), n_other_names entries */
	size_t n_other_names;
	char *personal_number;		/* 5F10 */
	char *full_birth_date;		/* 5F2B, "YYYYMMDD" (4-byte BCD converted) */
	char *place_of_birth;		/* 5F11 */
	char *address;			/* 5F42 */
	char *telephone;		/* 5F12 */
	char *profession;		/* 5F13 */
	char *title;			/* 5F14 */
	char *personal_summary;		/* 5F15 */
	char *proof_of_citizenship;	/* 5F16 (free text as UTF-8) */
	char *other_travel_docs;	/* 5F17 */
	char *custody_info;		/* 5F18 */
} cnie_lds_dg11;

CNIE_EXPORT int cnie_lds_dg11_parse(const uint8_t *p, size_t n, cnie_lds_dg11 **out);
CNIE_EXPORT void cnie_lds_dg11_free(cnie_lds_dg11 **dg11);

/* ---- DG12 (9303-10 4.7.12) ----------------------------------------- */

typedef struct cnie_lds_dg12 {
	char *issuing_authority;	/* 5F19 */
	char *date_of_issue;		/* 5F26, "YYYYMMDD" (4-byte BCD converted) */
	char **other_persons;		/* 5F1A (inside A0 or bare) */
	size_t n_other_persons;
	char *endorsements;		/* 5F1B */
	char *tax_exit;			/* 5F1C */
	char *personalisation_time;	/* 5F55, "YYYYMMDDhhmmss" */
	char *personaliser_serial;	/* 5F56 */
} cnie_lds_dg12;

CNIE_EXPORT int cnie_lds_dg12_parse(const uint8_t *p, size_t n, cnie_lds_dg12 **out);
CNIE_EXPORT void cnie_lds_dg12_free(cnie_lds_dg12 **dg12);

/*
 * Strict UTF-8 check (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequence, and no NUL.  0 or CNIE_ERR_ENCODING.
 */
CNIE_EXPORT int cnie_lds_utf8_check(const uint8_t *p, size_t n);

/*
 * DG14 (6E { SET OF SecurityInfo }, 9303-11 9.2): the hash of the
 * ActiveAuthenticationInfo (9303-11 9.2.9: protocol 2.23.136.1.1.5,
 * version 1, signatureAlgorithm) for ECDSA Active Authentication: one of
 * BSI TR-03111's ecdsa-plain-SHA1/-SHA224/-SHA256/-SHA384/-SHA512.
 * Returns 0 with *out set, CNIE_ERR_NOT_FOUND (no such info),
 * CNIE_ERR_UNSUPPORTED (another algorithm or version), or a parse error.
 */
CNIE_EXPORT int cnie_lds_dg14_aa_hash(const uint8_t *p, size_t n, cnie_card_hash *out);

#ifdef __cplusplus
}
#endif

#endif
