/*
 * libcnie — one error space for the whole library.
 *
 * 0 is success, every error is negative.  Front ends (PKCS#11 module, cnied,
 * cnie-tool) translate these codes at their boundary, in one table each.
 * Card status words map onto this enum with cnie_sw_to_error().
 */
#ifndef CNIE_ERROR_H
#define CNIE_ERROR_H

#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnie_error {
	CNIE_OK = 0,

	/* Caller and library errors. */
	CNIE_ERR_INVALID_ARG = -1,	 /* bad argument from the caller */
	CNIE_ERR_NOMEM = -2,		 /* allocation failed */
	CNIE_ERR_INTERNAL = -3,		 /* broken internal invariant */
	CNIE_ERR_BUFFER_TOO_SMALL = -4,	 /* caller's buffer cannot hold the result */
	CNIE_ERR_NOT_FOUND = -5,	 /* requested item absent */
	CNIE_ERR_UNSUPPORTED = -6,	 /* feature not supported */
	CNIE_ERR_IO = -7,		 /* file system error */
	CNIE_ERR_CRYPTO = -8,		 /* cryptographic library failure */
	CNIE_ERR_BUSY = -9,		 /* resource in use */
	CNIE_ERR_STATE = -10,		 /* call not valid in this state */

	/* Malformed untrusted input. */
	CNIE_ERR_TRUNCATED = -20,	 /* data ends before its declared length */
	CNIE_ERR_TRAILING = -21,	 /* unexpected bytes after the data */
	CNIE_ERR_TOO_LONG = -22,	 /* a length exceeds its limit */
	CNIE_ERR_ENCODING = -23,	 /* malformed encoding */
	CNIE_ERR_NESTING = -24,		 /* nesting deeper than the limit */
	CNIE_ERR_BAD_RESPONSE = -25,	 /* card response malformed */

	/* PC/SC and transport. */
	CNIE_ERR_NO_SERVICE = -40,	 /* smart card service (pcscd) not running */
	CNIE_ERR_NO_READER = -41,	 /* no reader connected */
	CNIE_ERR_READER_NOT_FOUND = -42, /* the named reader does not exist */
	CNIE_ERR_NO_CARD = -43,		 /* no card in the reader */
	CNIE_ERR_CARD_REMOVED = -44,	 /* card removed during the session */
	CNIE_ERR_CARD_RESET = -45,	 /* card reset by another program */
	CNIE_ERR_SHARING = -46,		 /* card held exclusively by another program */
	CNIE_ERR_TIMEOUT = -47,		 /* operation timed out */
	CNIE_ERR_CANCELLED = -48,	 /* operation cancelled */
	CNIE_ERR_COMM = -49,		 /* communication error with reader or card */
	CNIE_ERR_PERMISSION = -50,	 /* access to the reader denied */
	CNIE_ERR_TRANSPORT = -51,	 /* other reader error */
	CNIE_ERR_UNRESPONSIVE = -52,	 /* card does not answer */

	/* Card status words (ISO 7816-4). */
	CNIE_ERR_CARD = -60,		   /* unexpected status word */
	CNIE_ERR_SW_WRONG_LENGTH = -61,	   /* 6700 */
	CNIE_ERR_SW_SECURITY_STATUS = -62, /* 6982 */
	CNIE_ERR_SW_AUTH_BLOCKED = -63,	   /* 6983 */
	CNIE_ERR_SW_REF_DATA_UNUSABLE = -64, /* 6984 */
	CNIE_ERR_SW_CONDITIONS = -65,	   /* 6985 */
	CNIE_ERR_SW_SM_MISSING = -66,	   /* 6987 */
	CNIE_ERR_SW_SM_INCORRECT = -67,	   /* 6988 */
	CNIE_ERR_SW_WRONG_DATA = -68,	   /* 6A80 */
	CNIE_ERR_SW_FUNC_NOT_SUPPORTED = -69, /* 6A81 */
	CNIE_ERR_SW_FILE_NOT_FOUND = -70,  /* 6A82 */
	CNIE_ERR_SW_RECORD_NOT_FOUND = -71, /* 6A83 */
	CNIE_ERR_SW_WRONG_P1P2 = -72,	   /* 6A86, 6B00 */
	CNIE_ERR_SW_REF_NOT_FOUND = -73,   /* 6A88 */
	CNIE_ERR_SW_INS_NOT_SUPPORTED = -74, /* 6D00 */
	CNIE_ERR_SW_CLA_NOT_SUPPORTED = -75, /* 6E00 */
	CNIE_ERR_SW_NO_DIAGNOSIS = -76,	   /* 6F00 */
	CNIE_ERR_SW_END_OF_FILE = -77,	   /* 6282 */
	CNIE_ERR_SW_MEMORY = -78,	   /* 6581 */
	CNIE_ERR_SW_WRONG_LE = -79,	   /* 6Cxx not resolved */
	CNIE_ERR_SW_INCOMPATIBLE_FILE = -80, /* 6981 */
	CNIE_ERR_SW_NOT_ALLOWED = -81,	   /* 6986 */
	CNIE_ERR_SW_FILE_INVALIDATED = -82, /* 6283, 6984 on files */
	CNIE_ERR_SW_OFFSET = -83,	   /* 6B00 with READ BINARY: offset outside the file */
	CNIE_ERR_SW_NOT_ENOUGH_MEMORY = -84, /* 6A84 */

	/* Authentication, PINs and secure messaging. */
	CNIE_ERR_PIN_INCORRECT = -100,	 /* 63Cx with x > 0 */
	CNIE_ERR_PIN_BLOCKED = -101,	 /* 63C0, 6983 on VERIFY */
	CNIE_ERR_PIN_FORMAT = -102,	 /* PIN length or characters invalid */
	CNIE_ERR_PINPAD_TIMEOUT = -103,	 /* 6400 from a PIN pad */
	CNIE_ERR_PINPAD_CANCELLED = -104, /* 6401 from a PIN pad */
	CNIE_ERR_SM = -105,		 /* secure messaging failure (MAC, format) */
	CNIE_ERR_PACE = -106,		 /* PACE failed */
	CNIE_ERR_BAC = -107,		 /* BAC failed (wrong MRZ?) */
	CNIE_ERR_AUTH_FAILED = -108,	 /* card or chip authentication failed */
	CNIE_ERR_LOGIN_LOST = -109,	 /* card was reset: login state lost */
	CNIE_ERR_CARD_NOT_RECOGNISED = -110, /* not a CNIE profile card */
	CNIE_ERR_VERIFY_FAILED = -111,	 /* signature or hash check failed */
	CNIE_ERR_UNTRUSTED = -112,	 /* no chain to a trusted certificate */
	CNIE_ERR_EXPIRED = -113,	 /* certificate or document expired */
	CNIE_ERR_NEED_CAN = -114,	 /* card needs PACE: CAN or MRZ required */
	CNIE_ERR_CARD_CHANGED = -115,	 /* card content differs from the cache (cache cleared) */
} cnie_error;

/* Returns a static English message for any code (never NULL). */
CNIE_EXPORT const char *cnie_strerror(int err);

/* Returns the symbolic name of a code, e.g. "CNIE_ERR_NO_CARD" (never NULL). */
CNIE_EXPORT const char *cnie_error_name(int err);

/*
 * Returns the stable kebab-case code of err shared by every front end
 * (docs/errors.md): the bridge's error codes ("no-card", "pin-incorrect",
 * "user-cancelled", ...) and cnie-tool --json's "code"; "ok" for CNIE_OK,
 * "card-error" for the card and reader failures without a code of their own
 * (never NULL).  Several errors share a code: the code says what the user
 * can do, cnie_error_name() what exactly failed.
 */
CNIE_EXPORT const char *cnie_error_code_name(int err);

/*
 * Maps an ISO 7816-4 status word to the error space.  9000 and 61xx map to
 * CNIE_OK; 63Cx maps to CNIE_ERR_PIN_INCORRECT (x > 0) or
 * CNIE_ERR_PIN_BLOCKED (x == 0); unknown words map to CNIE_ERR_CARD.
 */
CNIE_EXPORT int cnie_sw_to_error(uint16_t sw);

/* Returns a short name for a status word, e.g. "6982 security status not satisfied". */
CNIE_EXPORT const char *cnie_sw_name(uint16_t sw);

#ifdef __cplusplus
}
#endif

#endif
