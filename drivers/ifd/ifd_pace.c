/*
 * The PACE reader (reader.json type "pace"): a contactless reader with a
 * keypad that runs PACE with the card itself and keeps the secure
 * messaging, as a BSI TR-03119 reader does, offered to PC/SC clients as
 * PC/SC part 10 amendment 1 FEATURE_EXECUTE_PACE (tag 0x20).  The
 * encodings are in src/libcnie/include/cnie/reader_pace.h; the protocol
 * is libcnie's own PACE step machine (src/libcnie/pace.c) and secure
 * messaging transport (src/libcnie/sm_transport.c), run here against the
 * emulated card.
 *
 * What the reader does (amendment 1, "EstablishPACEChannel"):
 *  - the password (CAN, PIN, PUK; PinID = 9303-11 Table 8 reference) is
 *    typed on the reader's keypad when lengthPIN is 0 (the keypad queue of
 *    `cnie-sim keys`, the same queue as the PIN pad of reader type
 *    "pinpad"); a password given by the host (lengthPIN > 0) is used as
 *    is, as the amendment allows; MRZ cannot be typed on a keypad;
 *  - the reader reads EF.CardAccess (SELECT by path 3F00/011C, READ
 *    BINARY), sends MSE:SET AT and the four GENERAL AUTHENTICATE steps
 *    (ICAO 9303-11 4.4.4), and answers dwResult, StatusMSESetAT and
 *    EF.CardAccess;
 *  - from then on every APDU a PC/SC client sends is wrapped in the
 *    reader's secure messaging (9303-11 9.8) and the answer unwrapped:
 *    clients talk plainly, and no client ever sees the password or the
 *    session keys;
 *  - FEATURE_VERIFY_PIN_DIRECT and MODIFY_PIN_DIRECT (ifdhandler.c
 *    pin_entry) send the command they build inside the same session.
 *
 * Decisions (documented in docs/card-profile.md 9):
 *  - The session belongs to the reader slot, not to a PC/SC handle: the
 *    IFD handler API (pcsc-lite ifdhandler.h) does not say which client
 *    sends an APDU, so a second client on this reader talks through the
 *    same session (plainly, like the first).  It never learns a secret;
 *    what it can read is what the first client can.
 *  - The session ends with the card: removal, reset (a client's
 *    SCARD_RESET_CARD or `cnie-sim reset`), power off (pcscd's idle power
 *    down) and reader close all drop it (ifd_pace_end).  After a reset,
 *    APDUs go to the card plain again, as on any reader, until a client
 *    runs EstablishPACEChannel again.
 *  - A secure messaging failure (bad MAC, the card answering plain
 *    6987/6988) also ends it, and then the reader answers 6988 itself to
 *    every APDU until a client runs EstablishPACEChannel or
 *    DestroyPACEChannel: it never falls back to sending a client's
 *    commands to the card plain while that client believes them protected.
 *  - EstablishPACEChannel while a session is up ends it first (the card
 *    starts a new one with the new PACE run).
 *
 * Nothing here logs a password, a key, or an APDU body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pace.h>
#include <cnie/reader_pace.h>
#include <cnie/sm.h>
#include <cnie/transport.h>

#include "ifd.h"

/* EF.CardAccess the reader reads at most (the CNIE's is about 100 bytes). */
#define PACE_CA_MAX 4096

/* ---- EstablishPACEChannel input (pure, bounded) ------------------------ */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int
ifd_pace_parse(const uint8_t *p, size_t n, struct ifd_pace_req *req)
{
	cnie_cur c, d;
	uint8_t b[2], len8;
	uint16_t len;
	int r;

	memset(req, 0, sizeof(*req));
	cnie_cur_init(&c, p, n);
	if ((r = cnie_cur_u8(&c, &req->function)) != 0 || (r = cnie_cur_copy(&c, b, 2)) != 0)
		return CNIE_ERR_TRUNCATED;
	len = le16(b);
	/* wLengthInputData must be exactly what follows (amendment 1: D0000001 otherwise). */
	if (cnie_cur_left(&c) != len)
		return CNIE_ERR_ENCODING;
	if (req->function != CNIE_RPACE_ESTABLISH)
		return len == 0 ? 0 : CNIE_ERR_TRAILING;
	if ((r = cnie_cur_sub(&c, len, &d)) != 0)
		return r;
	if ((r = cnie_cur_u8(&d, &req->pin_id)) != 0 || (r = cnie_cur_u8(&d, &len8)) != 0 ||
	    (r = cnie_cur_take(&d, len8, &req->chat)) != 0)
		return CNIE_ERR_ENCODING;
	req->chat_len = len8;
	if ((r = cnie_cur_u8(&d, &len8)) != 0 || (r = cnie_cur_take(&d, len8, &req->pin)) != 0)
		return CNIE_ERR_ENCODING;
	req->pin_len = len8;
	if ((r = cnie_cur_copy(&d, b, 2)) != 0 ||
	    (r = cnie_cur_take(&d, le16(b), &req->cert_desc)) != 0)
		return CNIE_ERR_ENCODING;
	req->cert_desc_len = le16(b);
	/* Later versions of the amendment append fields (e.g. a hash OID): not ours. */
	if (cnie_cur_left(&d) != 0)
		return CNIE_ERR_TRAILING;
	return 0;
}

/* ---- the channel ------------------------------------------------------- */

/* The reader's own path to the card: the emulator, plain. */
static int
card_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	return ifd_reader_transmit(ctx, cmd, cmd_len, resp, resp_len);
}

static const cnie_transport_ops card_ops = {
	.transmit = card_transmit,
};

void
ifd_pace_end(struct ifd_reader *r)
{
	if (r->pace_sm != NULL || r->pace_failed)
		cnie_log_info("reader %u: PACE channel closed", r->idx);
	/* The SM transport borrows pace_inner: freed first. */
	cnie_transport_free(&r->pace_sm);
	cnie_transport_free(&r->pace_inner);
	r->pace_failed = false;
}

static int
inner_new(struct ifd_reader *r)
{
	cnie_transport_caps caps;

	if (r->pace_inner != NULL)
		return 0;
	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = IFD_MAX_COMMAND;
	caps.max_resp = CNIE_EMU_MAX_RESP;
	caps.extended = true;
	caps.contactless = true;
	return cnie_transport_new(&card_ops, r, &caps, "pace reader", &r->pace_inner);
}

int
ifd_pace_transmit(struct ifd_reader *r, const uint8_t *cmd, size_t n, unsigned trace_flags,
    uint8_t *resp, size_t *resp_len)
{
	cnie_buf *b;
	size_t len;
	int rc;

	if (r->pace_sm == NULL && !r->pace_failed)
		return ifd_reader_transmit(r, cmd, n, resp, resp_len);
	if (r->emu == NULL)
		return CNIE_ERR_NO_CARD;
	if (resp == NULL || resp_len == NULL || *resp_len < 2)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	if (r->pace_failed) {
		/* ISO 7816-4 Table 6: 6988 "incorrect secure messaging data objects". */
		resp[0] = 0x69;
		resp[1] = 0x88;
		*resp_len = 2;
		return 0;
	}
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	rc = cnie_transport_transmit(r->pace_sm, cmd, n, trace_flags, b);
	if (rc == CNIE_ERR_SM || rc == CNIE_ERR_LOGIN_LOST || rc == CNIE_ERR_BAD_RESPONSE) {
		/* The session is gone (sm_transport.c closed it): say so, never go plain. */
		cnie_log_warn("reader %u: secure messaging with the card failed (%s): "
		    "PACE channel closed", r->idx, cnie_error_name(rc));
		cnie_transport_free(&r->pace_sm);
		r->pace_failed = true;
		cnie_buf_free(&b);
		resp[0] = 0x69;
		resp[1] = 0x88;
		*resp_len = 2;
		return 0;
	}
	if (rc == 0) {
		len = cnie_buf_len(b);
		if (len > *resp_len) {
			rc = CNIE_ERR_BUFFER_TOO_SMALL;
		} else {
			memcpy(resp, cnie_buf_ptr(b), len);
			*resp_len = len;
		}
	}
	cnie_buf_free(&b); /* wipes: answers carry personal data */
	return rc;
}

/* Reads EF.CardAccess plain, as the reader does before PACE; *result set on a card error. */
static int
read_card_access(struct ifd_reader *r, cnie_buf *ca, uint32_t *result)
{
	static const uint8_t path[] = { 0x01, 0x1C };
	cnie_apdu a;
	uint16_t sw = 0;
	size_t before;
	int rc;

	/* SELECT by path from the MF (ISO 7816-4 7.1.1, P1 08): whatever DF is current. */
	cnie_apdu_init(&a, 0x00, 0xA4, 0x08, 0x0C);
	a.data = path;
	a.nc = sizeof(path);
	if ((rc = cnie_apdu_transmit(r->pace_inner, &a, ca, &sw)) != 0)
		return rc;
	cnie_buf_reset(ca);
	if (sw != 0x9000) {
		*result = CNIE_RPACE_SW_SELECT | sw;
		return CNIE_ERR_CARD;
	}
	for (;;) {
		before = cnie_buf_len(ca);
		cnie_apdu_init(&a, 0x00, 0xB0, (uint8_t)(before >> 8), (uint8_t)before);
		a.ne = 256;
		if ((rc = cnie_apdu_transmit(r->pace_inner, &a, ca, &sw)) != 0)
			return rc;
		/*
		 * 6282: end of file reached before Ne bytes (the data came with
		 * it); 6B00: offset past the end (ISO 7816-4 Table 6).
		 */
		if (sw == 0x6282 || (sw == 0x6B00 && before > 0))
			return cnie_buf_len(ca) > 0 ? 0 : (*result = CNIE_RPACE_SW_READ | sw,
			    CNIE_ERR_CARD);
		if (sw != 0x9000) {
			*result = CNIE_RPACE_SW_READ | sw;
			return CNIE_ERR_CARD;
		}
		if (cnie_buf_len(ca) > PACE_CA_MAX) {
			*result = CNIE_RPACE_ERR_TLV_OBJECT;
			return CNIE_ERR_TOO_LONG;
		}
		if (cnie_buf_len(ca) - before < 256)
			return 0;
	}
}

/*
 * MSE:SET AT and GENERAL AUTHENTICATE 1..4 through the step machine
 * (src/libcnie/include/cnie/pace.h); each card status word other than 9000
 * is reported as the amendment's 0xF00X0000 | SW for that step.
 */
static uint32_t
run_pace(struct ifd_reader *r, const uint8_t *ca, size_t ca_len, uint8_t pin_id,
    const char *secret, size_t secret_len, uint16_t *mse_sw)
{
	cnie_pace *p = NULL;
	cnie_sm *sm = NULL;
	cnie_buf *resp = NULL;
	cnie_apdu cmd;
	uint16_t sw = 0;
	unsigned step = 0;
	bool done = false;
	uint32_t result;
	int rc;

	rc = cnie_pace_terminal_new(ca, ca_len, (cnie_pace_secret)pin_id, secret, secret_len, &p);
	if (rc != 0) {
		cnie_log_warn("reader %u: PACE cannot start: %s", r->idx, cnie_error_name(rc));
		return rc == CNIE_ERR_UNSUPPORTED ? CNIE_RPACE_ERR_TLV_OBJECT :
		    rc == CNIE_ERR_NOMEM || rc == CNIE_ERR_CRYPTO ? CNIE_RPACE_ERR_COMM :
		    CNIE_RPACE_ERR_TLV_SYNTAX;
	}
	if ((resp = cnie_buf_new()) == NULL) {
		result = CNIE_RPACE_ERR_COMM;
		goto out;
	}
	for (;;) {
		rc = cnie_pace_terminal_next(p, step == 0 ? NULL : cnie_buf_ptr(resp),
		    step == 0 ? 0 : cnie_buf_len(resp), sw, &cmd, &done);
		if (rc != 0) {
			cnie_log_info("reader %u: PACE step %u: %s", r->idx, step,
			    cnie_error_name(rc));
			/* The card's answers were 9000 here: its data did not do. */
			result = rc == CNIE_ERR_PACE ? CNIE_RPACE_ERR_TOKEN :
			    rc == CNIE_ERR_BAD_RESPONSE ? CNIE_RPACE_ERR_TLV_OBJECT :
			    CNIE_RPACE_ERR_COMM;
			goto out;
		}
		if (done)
			break;
		cnie_buf_reset(resp);
		if ((rc = cnie_apdu_transmit(r->pace_inner, &cmd, resp, &sw)) != 0) {
			result = rc == CNIE_ERR_NO_CARD ? CNIE_RPACE_ERR_NO_CARD : CNIE_RPACE_ERR_COMM;
			goto out;
		}
		if (step == 0)
			*mse_sw = sw;
		if (sw != 0x9000) {
			result = (step == 0 ? CNIE_RPACE_SW_MSE :
			    CNIE_RPACE_SW_GA1 + ((uint32_t)(step - 1) << 16)) | sw;
			cnie_log_info("reader %u: PACE step %u refused by the card: SW %04X",
			    r->idx, step, sw);
			goto out;
		}
		step++;
	}
	if ((rc = cnie_pace_terminal_take_sm(p, &sm)) != 0 ||
	    (rc = cnie_sm_transport_new(r->pace_inner, sm, &r->pace_sm)) != 0) {
		/* cnie_sm_transport_new frees sm on failure too. */
		result = CNIE_RPACE_ERR_COMM;
		goto out;
	}
	result = CNIE_RPACE_OK;
out:
	cnie_buf_free(&resp);
	cnie_pace_terminal_free(&p);
	return result;
}

/* dwResult || wLengthOutputData || data into out. */
static int
put_answer(uint32_t result, const uint8_t *data, size_t n, uint8_t *out, size_t cap,
    size_t *out_len)
{
	if (n > 0xFFFF || cap < 6 || n > cap - 6)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	out[0] = (uint8_t)result;
	out[1] = (uint8_t)(result >> 8);
	out[2] = (uint8_t)(result >> 16);
	out[3] = (uint8_t)(result >> 24);
	out[4] = (uint8_t)n;
	out[5] = (uint8_t)(n >> 8);
	if (n > 0)
		memcpy(out + 6, data, n);
	*out_len = 6 + n;
	return 0;
}

static int
establish(struct ifd_reader *r, const struct ifd_pace_req *req, uint8_t *out, size_t cap,
    size_t *out_len)
{
	struct ifd_key k;
	cnie_buf *ca = NULL, *data = NULL;
	const char *secret;
	size_t secret_len;
	uint16_t mse_sw = 0;
	uint32_t result = CNIE_RPACE_OK;
	int rc;

	memset(&k, 0, sizeof(k));
	/* A new run replaces the session (the card drops the old one with it). */
	ifd_pace_end(r);
	if (req->pin_id < CNIE_RPACE_PIN_MRZ || req->pin_id > CNIE_RPACE_PIN_PUK) {
		result = CNIE_RPACE_ERR_PIN_ID;
		goto answer;
	}
	/*
	 * A CHAT asks for Terminal Authentication after PACE (TR-03110 eID),
	 * which this reader does not do: refused rather than ignored.  MRZ
	 * cannot be typed on a keypad.  The certificate description is only
	 * shown on a display: accepted.
	 */
	if (req->chat_len != 0 || (req->pin_id == CNIE_RPACE_PIN_MRZ && req->pin_len == 0)) {
		result = CNIE_RPACE_ERR_INPUT_COMBINATION;
		goto answer;
	}
	if (r->emu == NULL) {
		result = CNIE_RPACE_ERR_NO_CARD;
		goto answer;
	}
	if (req->pin_len == 0) {
		/* The keypad (TR-03119): the password never leaves the reader. */
		cnie_log_info("reader %u: PACE: waiting for the %s on the keypad", r->idx,
		    req->pin_id == CNIE_RPACE_PIN_CAN ? "CAN" : "password");
		switch (ifd_reader_take_key(r, IFD_PIN_DEFAULT_TIMEOUT, &k)) {
		case 0:
			break;
		case CNIE_ERR_CANCELLED:
			result = CNIE_RPACE_ERR_ABORT;
			goto answer;
		case CNIE_ERR_TIMEOUT:
			result = CNIE_RPACE_ERR_TIMEOUT;
			goto answer;
		default:
			result = CNIE_RPACE_ERR_NO_CARD;
			goto answer;
		}
		secret = k.digits;
		secret_len = k.len;
	} else {
		secret = (const char *)req->pin;
		secret_len = req->pin_len;
	}
	if ((rc = inner_new(r)) != 0 || (ca = cnie_buf_new()) == NULL) {
		result = CNIE_RPACE_ERR_COMM;
		goto answer;
	}
	if ((rc = read_card_access(r, ca, &result)) != 0) {
		if (result == CNIE_RPACE_OK)
			result = rc == CNIE_ERR_NO_CARD ? CNIE_RPACE_ERR_NO_CARD : CNIE_RPACE_ERR_COMM;
		goto answer;
	}
	result = run_pace(r, cnie_buf_ptr(ca), cnie_buf_len(ca), req->pin_id, secret, secret_len,
	    &mse_sw);
answer:
	cnie_wipe(&k, sizeof(k));
	if (result != CNIE_RPACE_OK)
		ifd_pace_end(r);
	else
		cnie_log_info("reader %u: PACE channel established", r->idx);
	/*
	 * Output data: StatusMSESetAT and EF.CardAccess, also on failure (the
	 * amendment's layout; OpenSC reads them before looking at dwResult).
	 * No CAR or IDicc: no CHAT was accepted.
	 */
	if ((data = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	rc = cnie_buf_put_u8(data, (uint8_t)(mse_sw >> 8));
	if (rc == 0)
		rc = cnie_buf_put_u8(data, (uint8_t)mse_sw);
	if (rc == 0)
		rc = cnie_buf_put_u8(data, (uint8_t)(ca != NULL && result == CNIE_RPACE_OK ?
		    cnie_buf_len(ca) : 0));
	if (rc == 0)
		rc = cnie_buf_put_u8(data, (uint8_t)(ca != NULL && result == CNIE_RPACE_OK ?
		    cnie_buf_len(ca) >> 8 : 0));
	if (rc == 0 && ca != NULL && result == CNIE_RPACE_OK)
		rc = cnie_buf_put_buf(data, ca);
	if (rc == 0)
		rc = put_answer(result, cnie_buf_ptr(data), cnie_buf_len(data), out, cap, out_len);
	cnie_buf_free(&ca);
	cnie_buf_free(&data);
	return rc;
}

int
ifd_pace_control(struct ifd_reader *r, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	struct ifd_pace_req req;
	uint8_t caps = CNIE_RPACE_CAP_GENERIC | CNIE_RPACE_CAP_DESTROY;
	int rc;

	rc = ifd_pace_parse(in, in_len, &req);
	if (rc == CNIE_ERR_TRUNCATED || rc == CNIE_ERR_ENCODING) {
		cnie_log_warn("reader %u: malformed EXECUTE_PACE input: %s", r->idx,
		    cnie_error_name(rc));
		return put_answer(CNIE_RPACE_ERR_INPUT_LENGTHS, NULL, 0, out, cap, out_len);
	}
	if (rc != 0)
		return put_answer(CNIE_RPACE_ERR_INPUT_DATA, NULL, 0, out, cap, out_len);
	switch (req.function) {
	case CNIE_RPACE_GET_CAPABILITIES:
		/* bCapabilities alone, as OpenSC reader-pcsc.c expects (7 bytes in all). */
		return put_answer(CNIE_RPACE_OK, &caps, 1, out, cap, out_len);
	case CNIE_RPACE_ESTABLISH:
		return establish(r, &req, out, cap, out_len);
	case CNIE_RPACE_DESTROY:
		ifd_pace_end(r);
		return put_answer(CNIE_RPACE_OK, NULL, 0, out, cap, out_len);
	default:
		return put_answer(CNIE_RPACE_ERR_INPUT_DATA, NULL, 0, out, cap, out_len);
	}
}
