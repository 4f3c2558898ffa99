/*
 * Machine Readable Zone (ICAO Doc 9303 parts 3, 4, 5 and 6).
 *
 * Parses the three MRZ layouts: TD1 (3 lines of 30, ID cards such as the
 * CNIE), TD2 (2 lines of 36) and TD3 (2 lines of 44, passports).  The text
 * is taken with or without line breaks ("\n" or "\r\n" between lines, one
 * optional at the end); without breaks it must be exactly 90, 72 or 88
 * characters.  Only [A-Z0-9<] is accepted.  Every check digit (9303-3 4.9,
 * weights 7-3-1) and the composite check digit are verified; a failure
 * names the field through cnie_mrz_field.
 *
 * A cnie_mrz holds personal data: clear it with cnie_mrz_clear().
 */
#ifndef CNIE_MRZ_H
#define CNIE_MRZ_H

#include <stddef.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnie_mrz_format {
	CNIE_MRZ_UNKNOWN = 0,
	CNIE_MRZ_TD1 = 1, /* 3 x 30 */
	CNIE_MRZ_TD2 = 2, /* 2 x 36 */
	CNIE_MRZ_TD3 = 3, /* 2 x 44 */
} cnie_mrz_format;

/* The part of the MRZ a parse error is about. */
typedef enum cnie_mrz_field {
	CNIE_MRZ_FIELD_NONE = 0,
	CNIE_MRZ_FIELD_LAYOUT,		/* length or line structure */
	CNIE_MRZ_FIELD_CHARSET,		/* character outside [A-Z0-9<] */
	CNIE_MRZ_FIELD_DOCUMENT_NUMBER, /* its check digit (or overflow) */
	CNIE_MRZ_FIELD_BIRTH_DATE,	/* its check digit or format */
	CNIE_MRZ_FIELD_SEX,		/* not M, F, X or '<' */
	CNIE_MRZ_FIELD_EXPIRY_DATE,	/* its check digit or format */
	CNIE_MRZ_FIELD_OPTIONAL_DATA,	/* TD3 personal number check digit */
	CNIE_MRZ_FIELD_COMPOSITE,	/* composite check digit */
} cnie_mrz_field;

/* Longest TD1 document number: 9 characters + 14 of overflow (9303-5 4.2.4). */
#define CNIE_MRZ_DOCNO_MAX 24

/*
 * A parsed MRZ.  Strings are NUL-terminated; trailing fillers are removed
 * from codes, numbers and optional data; in names '<' becomes a space.
 */
typedef struct cnie_mrz {
	cnie_mrz_format format;
	char document_code[3];			/* e.g. "I", "ID", "P" */
	char issuing_state[4];			/* e.g. "MAR", "D" */
	char document_number[CNIE_MRZ_DOCNO_MAX]; /* full number, overflow included */
	char document_number_check;		/* its check digit '0'..'9' */
	char optional_data[16];			/* TD1 line 1 (after overflow), TD2, TD3 personal number */
	char optional_data2[12];		/* TD1 line 2 positions 19-29 */
	char birth_date[7];			/* YYMMDD ('<' where unknown) */
	char birth_date_check;
	char sex;				/* 'M', 'F', 'X' or '<' */
	char expiry_date[7];			/* YYMMDD */
	char expiry_date_check;
	char nationality[4];
	char primary_identifier[40];		/* surname(s) */
	char secondary_identifier[40];		/* given name(s) */
} cnie_mrz;

/*
 * Parses len bytes of MRZ text at s into *out (cleared first; cleared again
 * on error).  bad may be NULL; it gets the failing field, or
 * CNIE_MRZ_FIELD_NONE on success.  Errors: CNIE_ERR_INVALID_ARG (NULL),
 * CNIE_ERR_ENCODING (layout, character set, malformed field),
 * CNIE_ERR_VERIFY_FAILED (a check digit does not match; *bad says which).
 */
CNIE_EXPORT int cnie_mrz_parse(const char *s, size_t len, cnie_mrz *out, cnie_mrz_field *bad);

/*
 * Writes MRZ_information (9303-11 4.3.2: document number, padded with '<'
 * to 9 characters, + check digit, birth date + check, expiry date + check)
 * for BAC and PACE with the MRZ as password.  24 characters for numbers
 * of up to 9 characters; a longer TD1/TD2 number is used whole with the
 * check digit from the overflow.  out gets the text and a NUL.  Errors:
 * CNIE_ERR_INVALID_ARG, CNIE_ERR_BUFFER_TOO_SMALL.
 */
CNIE_EXPORT int cnie_mrz_access_info(const cnie_mrz *m, char *out, size_t out_len);

/* The 9303-3 4.9 check digit of s[0..n) ('<' = 0, A = 10 ... Z = 35); -1 on a bad character. */
CNIE_EXPORT int cnie_mrz_check_digit(const char *s, size_t n);

/* Short English name of a field, e.g. "document number" (never NULL). */
CNIE_EXPORT const char *cnie_mrz_field_name(cnie_mrz_field f);

/* Wipes *m (personal data). */
CNIE_EXPORT void cnie_mrz_clear(cnie_mrz *m);

#ifdef __cplusplus
}
#endif

#endif
