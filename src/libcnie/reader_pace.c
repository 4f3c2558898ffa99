/*
 * PACE run by the reader (PC/SC part 10 amendment 1, FEATURE_EXECUTE_PACE):
 * the encodings of src/libcnie/include/cnie/reader_pace.h.  Pure functions:
 * no I/O, every read bounded by a cursor.
 */
#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/reader_pace.h>

/* Little-endian integers of the part 10 structures (2.5.1). */
static int
cur_u16le(cnie_cur *c, uint16_t *v)
{
	uint8_t b[2];
	int r;

	if ((r = cnie_cur_copy(c, b, sizeof(b))) != 0)
		return r;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

void
cnie_rpace_simple_input(uint8_t function, uint8_t out[3])
{
	out[0] = function;
	out[1] = 0; /* wLengthInputData */
	out[2] = 0;
}

void
cnie_rpace_establish_input(uint8_t pin_id, uint8_t out[8])
{
	out[0] = CNIE_RPACE_ESTABLISH;
	out[1] = 5; /* wLengthInputData: PinID, lengthCHAT, lengthPIN, 2-byte length */
	out[2] = 0;
	out[3] = pin_id;
	out[4] = 0; /* lengthCHAT: no Terminal Authentication follows */
	out[5] = 0; /* lengthPIN: the reader takes it from its keypad */
	out[6] = 0; /* lengthCertificateDescription */
	out[7] = 0;
}

int
cnie_rpace_split(const uint8_t *p, size_t n, uint32_t *result, const uint8_t **data,
    size_t *data_len)
{
	cnie_cur c;
	uint8_t b[4];
	uint16_t len;
	int r;

	if (result == NULL || data == NULL || data_len == NULL || (p == NULL && n != 0))
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, p, n);
	if ((r = cnie_cur_copy(&c, b, sizeof(b))) != 0 || (r = cur_u16le(&c, &len)) != 0)
		return r;
	if (cnie_cur_left(&c) != len)
		return CNIE_ERR_ENCODING;
	*result = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	*data = len != 0 ? cnie_cur_peek(&c) : NULL;
	*data_len = len;
	return 0;
}

int
cnie_rpace_parse_caps(const uint8_t *data, size_t n, uint8_t *caps)
{
	if (caps == NULL || (data == NULL && n != 0))
		return CNIE_ERR_INVALID_ARG;
	if (n == 1) {
		*caps = data[0];
		return 0;
	}
	if (n == 2 && data[0] == 1) {
		*caps = data[1];
		return 0;
	}
	return CNIE_ERR_ENCODING;
}

int
cnie_rpace_parse_establish(const uint8_t *data, size_t n, cnie_rpace_establish *out)
{
	cnie_cur c;
	cnie_rpace_establish e = { 0 };
	uint16_t len16;
	uint8_t len8;
	int r;

	if (out == NULL || (data == NULL && n != 0))
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, data, n);
	if ((r = cnie_cur_u16be(&c, &e.mse_sw)) != 0 || (r = cur_u16le(&c, &len16)) != 0 ||
	    (r = cnie_cur_take(&c, len16, &e.card_access)) != 0)
		return r;
	e.card_access_len = len16;
	if (len16 == 0)
		e.card_access = NULL;
	if (cnie_cur_left(&c) > 0) {
		/* Only after a CHAT (Terminal Authentication to follow); parsed all the same. */
		if ((r = cnie_cur_u8(&c, &len8)) != 0 ||
		    (r = cnie_cur_take(&c, len8, &e.car_curr)) != 0)
			return r;
		e.car_curr_len = len8;
		if ((r = cnie_cur_u8(&c, &len8)) != 0 ||
		    (r = cnie_cur_take(&c, len8, &e.car_prev)) != 0)
			return r;
		e.car_prev_len = len8;
		if ((r = cur_u16le(&c, &len16)) != 0 ||
		    (r = cnie_cur_take(&c, len16, &e.id_icc)) != 0)
			return r;
		e.id_icc_len = len16;
	}
	if ((r = cnie_cur_end(&c)) != 0)
		return r;
	*out = e;
	return 0;
}

/* A refused password, as pace.c reads the answers to GENERAL AUTHENTICATE. */
static bool
password_refused(uint16_t sw)
{
	return (sw & 0xFF00) == 0x6300 || sw == 0x6982 || sw == 0x6988;
}

int
cnie_rpace_result_error(uint32_t result)
{
	uint32_t kind = result & 0xFFFF0000u;
	uint16_t sw = (uint16_t)(result & 0xFFFF);
	int r;

	switch (result) {
	case CNIE_RPACE_OK:
		return 0;
	case CNIE_RPACE_ERR_TOKEN:
		return CNIE_ERR_PACE;
	case CNIE_RPACE_ERR_ABORT:
		return CNIE_ERR_PINPAD_CANCELLED;
	case CNIE_RPACE_ERR_TIMEOUT:
		return CNIE_ERR_PINPAD_TIMEOUT;
	case CNIE_RPACE_ERR_NO_CARD:
		return CNIE_ERR_NO_CARD;
	case CNIE_RPACE_ERR_COMM:
		return CNIE_ERR_COMM;
	case CNIE_RPACE_ERR_TLV_SYNTAX:
	case CNIE_RPACE_ERR_TLV_OBJECT:
		return CNIE_ERR_BAD_RESPONSE;
	case CNIE_RPACE_ERR_PIN_ID:
		return CNIE_ERR_UNSUPPORTED;
	default:
		break;
	}
	if (kind >= CNIE_RPACE_SW_SELECT && kind <= CNIE_RPACE_SW_GA1 + 0x30000u) {
		/* GENERAL AUTHENTICATE steps (0xF003..0xF006): the password. */
		if (kind >= CNIE_RPACE_SW_GA1 && password_refused(sw))
			return CNIE_ERR_PACE;
		r = cnie_sw_to_error(sw);
		return r != 0 ? r : CNIE_ERR_CARD;
	}
	return CNIE_ERR_TRANSPORT;
}

const char *
cnie_rpace_result_name(uint32_t result)
{
	uint32_t kind = result & 0xFFFF0000u;

	switch (result) {
	case CNIE_RPACE_OK:
		return "no error";
	case CNIE_RPACE_ERR_INPUT_LENGTHS:
		return "inconsistent lengths in input";
	case CNIE_RPACE_ERR_INPUT_DATA:
		return "unexpected data in input";
	case CNIE_RPACE_ERR_INPUT_COMBINATION:
		return "unexpected combination of data in input";
	case CNIE_RPACE_ERR_TLV_SYNTAX:
		return "syntax error in the card's TLV answer";
	case CNIE_RPACE_ERR_TLV_OBJECT:
		return "unexpected or missing object in the card's answer";
	case CNIE_RPACE_ERR_PIN_ID:
		return "unknown PIN-ID";
	case CNIE_RPACE_ERR_TOKEN:
		return "wrong authentication token";
	case CNIE_RPACE_ERR_COMM:
		return "communication abort";
	case CNIE_RPACE_ERR_NO_CARD:
		return "no card";
	case CNIE_RPACE_ERR_ABORT:
		return "cancelled on the keypad";
	case CNIE_RPACE_ERR_TIMEOUT:
		return "keypad timeout";
	default:
		break;
	}
	switch (kind) {
	case CNIE_RPACE_SW_SELECT:
		return "card refused SELECT EF.CardAccess";
	case CNIE_RPACE_SW_READ:
		return "card refused READ BINARY EF.CardAccess";
	case CNIE_RPACE_SW_MSE:
		return "card refused MSE:SET AT";
	case CNIE_RPACE_SW_GA1:
	case CNIE_RPACE_SW_GA1 + 0x10000u:
	case CNIE_RPACE_SW_GA1 + 0x20000u:
	case CNIE_RPACE_SW_GA1 + 0x30000u:
		return "card refused a GENERAL AUTHENTICATE step";
	default:
		return "unknown reader result";
	}
}
