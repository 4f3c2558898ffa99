/* The library's error space: messages, names, status word mapping. */
#include <stddef.h>

#include <cnie/error.h>

#define E(code, msg) { code, #code, msg }

static const struct {
	int code;
	const char *name;
	const char *msg;
} errors[] = {
	E(CNIE_OK, "success"),
	E(CNIE_ERR_INVALID_ARG, "invalid argument"),
	E(CNIE_ERR_NOMEM, "out of memory"),
	E(CNIE_ERR_INTERNAL, "internal error"),
	E(CNIE_ERR_BUFFER_TOO_SMALL, "buffer too small"),
	E(CNIE_ERR_NOT_FOUND, "not found"),
	E(CNIE_ERR_UNSUPPORTED, "not supported"),
	E(CNIE_ERR_IO, "input/output error"),
	E(CNIE_ERR_CRYPTO, "cryptographic operation failed"),
	E(CNIE_ERR_BUSY, "resource busy"),
	E(CNIE_ERR_STATE, "operation not valid in the current state"),
	E(CNIE_ERR_TRUNCATED, "data truncated"),
	E(CNIE_ERR_TRAILING, "unexpected trailing data"),
	E(CNIE_ERR_TOO_LONG, "length exceeds limit"),
	E(CNIE_ERR_ENCODING, "malformed encoding"),
	E(CNIE_ERR_NESTING, "nesting too deep"),
	E(CNIE_ERR_BAD_RESPONSE, "malformed card response"),
	E(CNIE_ERR_NO_SERVICE, "smart card service (pcscd) is not running"),
	E(CNIE_ERR_NO_READER, "no smart card reader found"),
	E(CNIE_ERR_READER_NOT_FOUND, "the named reader is not connected"),
	E(CNIE_ERR_NO_CARD, "no card in the reader"),
	E(CNIE_ERR_CARD_REMOVED, "card removed"),
	E(CNIE_ERR_CARD_RESET, "card reset by another program"),
	E(CNIE_ERR_SHARING, "card is held exclusively by another program"),
	E(CNIE_ERR_TIMEOUT, "timed out"),
	E(CNIE_ERR_CANCELLED, "cancelled"),
	E(CNIE_ERR_COMM, "communication error with the reader or card"),
	E(CNIE_ERR_PERMISSION, "access to the reader denied"),
	E(CNIE_ERR_TRANSPORT, "reader error"),
	E(CNIE_ERR_UNRESPONSIVE, "card does not respond"),
	E(CNIE_ERR_CARD, "unexpected card status"),
	E(CNIE_ERR_SW_WRONG_LENGTH, "card: wrong length (6700)"),
	E(CNIE_ERR_SW_SECURITY_STATUS, "card: security status not satisfied (6982)"),
	E(CNIE_ERR_SW_AUTH_BLOCKED, "card: authentication method blocked (6983)"),
	E(CNIE_ERR_SW_REF_DATA_UNUSABLE, "card: reference data not usable (6984)"),
	E(CNIE_ERR_SW_CONDITIONS, "card: conditions of use not satisfied (6985)"),
	E(CNIE_ERR_SW_SM_MISSING, "card: expected secure messaging objects missing (6987)"),
	E(CNIE_ERR_SW_SM_INCORRECT, "card: secure messaging objects incorrect (6988)"),
	E(CNIE_ERR_SW_WRONG_DATA, "card: incorrect data (6A80)"),
	E(CNIE_ERR_SW_FUNC_NOT_SUPPORTED, "card: function not supported (6A81)"),
	E(CNIE_ERR_SW_FILE_NOT_FOUND, "card: file or application not found (6A82)"),
	E(CNIE_ERR_SW_RECORD_NOT_FOUND, "card: record not found (6A83)"),
	E(CNIE_ERR_SW_WRONG_P1P2, "card: incorrect parameters P1-P2 (6A86/6B00)"),
	E(CNIE_ERR_SW_REF_NOT_FOUND, "card: referenced data not found (6A88)"),
	E(CNIE_ERR_SW_INS_NOT_SUPPORTED, "card: instruction not supported (6D00)"),
	E(CNIE_ERR_SW_CLA_NOT_SUPPORTED, "card: class not supported (6E00)"),
	E(CNIE_ERR_SW_NO_DIAGNOSIS, "card: no precise diagnosis (6F00)"),
	E(CNIE_ERR_SW_END_OF_FILE, "card: end of file reached before Ne bytes (6282)"),
	E(CNIE_ERR_SW_MEMORY, "card: memory failure (6581)"),
	E(CNIE_ERR_SW_WRONG_LE, "card: wrong Le (6Cxx)"),
	E(CNIE_ERR_SW_INCOMPATIBLE_FILE, "card: command incompatible with file structure (6981)"),
	E(CNIE_ERR_SW_NOT_ALLOWED, "card: command not allowed (6986)"),
	E(CNIE_ERR_SW_FILE_INVALIDATED, "card: selected file invalidated (6283)"),
	E(CNIE_ERR_SW_OFFSET, "card: offset outside the file (6B00)"),
	E(CNIE_ERR_SW_NOT_ENOUGH_MEMORY, "card: not enough memory space (6A84)"),
	E(CNIE_ERR_PIN_INCORRECT, "PIN incorrect"),
	E(CNIE_ERR_PIN_BLOCKED, "PIN blocked"),
	E(CNIE_ERR_PIN_FORMAT, "PIN has an invalid length or characters"),
	E(CNIE_ERR_PINPAD_TIMEOUT, "PIN pad: no PIN entered in time"),
	E(CNIE_ERR_PINPAD_CANCELLED, "PIN pad: cancelled by the user"),
	E(CNIE_ERR_SM, "secure messaging failure"),
	E(CNIE_ERR_PACE, "PACE authentication failed (wrong CAN or MRZ?)"),
	E(CNIE_ERR_BAC, "BAC authentication failed (wrong MRZ?)"),
	E(CNIE_ERR_AUTH_FAILED, "card authentication failed"),
	E(CNIE_ERR_LOGIN_LOST, "card was reset: login state lost"),
	E(CNIE_ERR_CARD_NOT_RECOGNISED, "card not recognised as a CNIE"),
	E(CNIE_ERR_VERIFY_FAILED, "verification failed"),
	E(CNIE_ERR_UNTRUSTED, "no chain to a trusted certificate"),
	E(CNIE_ERR_EXPIRED, "certificate or document expired"),
	E(CNIE_ERR_NEED_CAN, "card access number (CAN) or MRZ required"),
	E(CNIE_ERR_CARD_CHANGED,
	    "the card's certificates differ from the cached copy: cache cleared, read the card again"),
};

#undef E

const char *
cnie_strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].msg;
	return "unknown error";
}

const char *
cnie_error_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].name;
	return "CNIE_ERR_UNKNOWN";
}

/*
 * The one error vocabulary (docs/errors.md): what the user can do about an
 * error, as the bridge's API names it (docs/bridge-api.md "Errors").
 */
const char *
cnie_error_code_name(int err)
{
	switch (err) {
	case CNIE_OK:
		return "ok";
	case CNIE_ERR_NO_SERVICE:
		return "no-service";
	case CNIE_ERR_NO_READER:
	case CNIE_ERR_READER_NOT_FOUND:
		return "no-reader";
	case CNIE_ERR_NO_CARD:
	case CNIE_ERR_CARD_REMOVED:
	case CNIE_ERR_UNRESPONSIVE:
		return "no-card";
	case CNIE_ERR_CARD_RESET:
	case CNIE_ERR_LOGIN_LOST:
		return "card-reset";
	case CNIE_ERR_CARD_NOT_RECOGNISED:
		return "card-not-recognised";
	case CNIE_ERR_CANCELLED:
	case CNIE_ERR_PINPAD_CANCELLED:
		return "user-cancelled";
	case CNIE_ERR_PIN_INCORRECT:
		return "pin-incorrect";
	case CNIE_ERR_PIN_BLOCKED:
	case CNIE_ERR_SW_AUTH_BLOCKED:
		return "pin-blocked";
	case CNIE_ERR_PIN_FORMAT:
		return "pin-format";
	case CNIE_ERR_PACE:
	case CNIE_ERR_BAC:
		return "can-incorrect";
	case CNIE_ERR_NEED_CAN:
		return "can-required";
	case CNIE_ERR_BUSY:
	case CNIE_ERR_SHARING:
		return "busy";
	case CNIE_ERR_TIMEOUT:
	case CNIE_ERR_PINPAD_TIMEOUT:
		return "timeout";
	case CNIE_ERR_PERMISSION:
		return "reader-access-denied";
	case CNIE_ERR_INVALID_ARG:
		return "bad-request";
	case CNIE_ERR_NOT_FOUND:
		return "not-found";
	case CNIE_ERR_VERIFY_FAILED:
		return "verify-failed";
	case CNIE_ERR_UNTRUSTED:
		return "untrusted";
	case CNIE_ERR_EXPIRED:
		return "expired";
	case CNIE_ERR_IO:
		return "io-error";
	case CNIE_ERR_NOMEM:
	case CNIE_ERR_INTERNAL:
		return "internal-error";
	default:
		return "card-error";
	}
}

int
cnie_sw_to_error(uint16_t sw)
{
	if (sw == 0x9000 || (sw & 0xff00) == 0x6100)
		return CNIE_OK;
	if ((sw & 0xfff0) == 0x63c0)
		return (sw & 0x0f) == 0 ? CNIE_ERR_PIN_BLOCKED : CNIE_ERR_PIN_INCORRECT;
	if ((sw & 0xff00) == 0x6c00)
		return CNIE_ERR_SW_WRONG_LE;
	switch (sw) {
	case 0x6282: return CNIE_ERR_SW_END_OF_FILE;
	case 0x6283: return CNIE_ERR_SW_FILE_INVALIDATED;
	case 0x6400: return CNIE_ERR_PINPAD_TIMEOUT;
	case 0x6401: return CNIE_ERR_PINPAD_CANCELLED;
	case 0x6581: return CNIE_ERR_SW_MEMORY;
	case 0x6700: return CNIE_ERR_SW_WRONG_LENGTH;
	case 0x6981: return CNIE_ERR_SW_INCOMPATIBLE_FILE;
	case 0x6982: return CNIE_ERR_SW_SECURITY_STATUS;
	case 0x6983: return CNIE_ERR_SW_AUTH_BLOCKED;
	case 0x6984: return CNIE_ERR_SW_REF_DATA_UNUSABLE;
	case 0x6985: return CNIE_ERR_SW_CONDITIONS;
	case 0x6986: return CNIE_ERR_SW_NOT_ALLOWED;
	case 0x6987: return CNIE_ERR_SW_SM_MISSING;
	case 0x6988: return CNIE_ERR_SW_SM_INCORRECT;
	case 0x6a80: return CNIE_ERR_SW_WRONG_DATA;
	case 0x6a81: return CNIE_ERR_SW_FUNC_NOT_SUPPORTED;
	case 0x6a82: return CNIE_ERR_SW_FILE_NOT_FOUND;
	case 0x6a83: return CNIE_ERR_SW_RECORD_NOT_FOUND;
	case 0x6a84: return CNIE_ERR_SW_NOT_ENOUGH_MEMORY;
	case 0x6a86: return CNIE_ERR_SW_WRONG_P1P2;
	case 0x6a88: return CNIE_ERR_SW_REF_NOT_FOUND;
	case 0x6b00: return CNIE_ERR_SW_WRONG_P1P2;
	case 0x6d00: return CNIE_ERR_SW_INS_NOT_SUPPORTED;
	case 0x6e00: return CNIE_ERR_SW_CLA_NOT_SUPPORTED;
	case 0x6f00: return CNIE_ERR_SW_NO_DIAGNOSIS;
	default: return CNIE_ERR_CARD;
	}
}

const char *
cnie_sw_name(uint16_t sw)
{
	if (sw == 0x9000)
		return "9000 success";
	if ((sw & 0xff00) == 0x6100)
		return "61xx more data available";
	if ((sw & 0xff00) == 0x6c00)
		return "6Cxx wrong Le, exact length given";
	if ((sw & 0xfff0) == 0x63c0)
		return (sw & 0x0f) == 0 ? "63C0 verification failed, no try left" :
					  "63Cx verification failed, x tries left";
	switch (sw) {
	case 0x6282: return "6282 end of file reached";
	case 0x6283: return "6283 selected file invalidated";
	case 0x6300: return "6300 verification failed";
	case 0x6400: return "6400 timeout (PIN pad)";
	case 0x6401: return "6401 cancelled (PIN pad)";
	case 0x6581: return "6581 memory failure";
	case 0x6700: return "6700 wrong length";
	case 0x6881: return "6881 logical channel not supported";
	case 0x6882: return "6882 secure messaging not supported";
	case 0x6981: return "6981 command incompatible with file structure";
	case 0x6982: return "6982 security status not satisfied";
	case 0x6983: return "6983 authentication method blocked";
	case 0x6984: return "6984 reference data not usable";
	case 0x6985: return "6985 conditions of use not satisfied";
	case 0x6986: return "6986 command not allowed";
	case 0x6987: return "6987 expected secure messaging objects missing";
	case 0x6988: return "6988 incorrect secure messaging objects";
	case 0x6a80: return "6A80 incorrect data";
	case 0x6a81: return "6A81 function not supported";
	case 0x6a82: return "6A82 file or application not found";
	case 0x6a83: return "6A83 record not found";
	case 0x6a84: return "6A84 not enough memory";
	case 0x6a86: return "6A86 incorrect P1-P2";
	case 0x6a88: return "6A88 referenced data not found";
	case 0x6b00: return "6B00 wrong parameters P1-P2";
	case 0x6d00: return "6D00 instruction not supported";
	case 0x6e00: return "6E00 class not supported";
	case 0x6f00: return "6F00 no precise diagnosis";
	default: return "unknown status word";
	}
}
