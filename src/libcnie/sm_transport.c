/*
 * A transport that runs every command inside a secure messaging session
 * (ICAO 9303-11 clause 9.8) over another transport, so that the APDU
 * engine and the applications above it stay unchanged inside PACE or BAC.
 *
 * Session life: any SM failure (bad MAC, missing objects, 6987/6988 from
 * the card, a malformed protected answer) ends the session for good
 * (9303-11 9.8.4.2: the card drops it too); later commands get
 * CNIE_ERR_SM.  A plain error status word that is not about secure
 * messaging (6982, 6A82 ...: ISO 7816-4 clause 10 lets a card answer an
 * error unprotected) is returned as the answer and keeps the session
 * (9303-11 9.8: the chip aborts only on an SM error); a chip that ended
 * it anyway answers the next command 6987/6988, which ends ours.  A reset or reconnect of the card also loses the session
 * (the card forgets it): later commands get CNIE_ERR_LOGIN_LOST.  Either
 * way a new session (new PACE/BAC run, new transport) is needed.  A
 * failure on our side (out of memory, OpenSSL) while protecting a command
 * or checking an answer is returned as such (CNIE_ERR_NOMEM, _CRYPTO) and
 * keeps the session: the send sequence counters stay in step with the card.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/sm.h>
#include <cnie/transport.h>

#include "sm_internal.h"

/* Bound on 61xx rounds for one protected answer (65536 / 256 + slack). */
#define SMT_MAX_GET_RESPONSE 300
/* DO 99 (4 bytes) + DO 8E (2 + 8 bytes) in every protected answer. */
#define SMT_RESP_FIXED (4 + 10)
/* DO 97 (short: 3, extended: 4) + DO 8E (10) in every protected command. */
#define SMT_CMD_FIXED_SHORT (3 + 10)
#define SMT_CMD_FIXED_EXT (4 + 10)

typedef struct smt {
	cnie_transport *inner; /* borrowed */
	cnie_sm *sm;	       /* owned; NULL once the session is gone */
	int dead;	       /* error returned once sm is gone */
} smt;

static size_t
len_size(size_t n)
{
	return n < 0x80 ? 1 : n < 0x100 ? 2 : 3;
}

/* Cipher block size: the padding unit of DO 87 (ISO 9797-1 method 2). */
static size_t
block_size(cnie_sm_cipher c)
{
	return c == CNIE_SM_3DES ? 8 : 16;
}

/* Size of DO 87 holding p padded bytes (padding-content indicator included). */
static size_t
do87_size(size_t p)
{
	return 1 + len_size(p + 1) + p + 1;
}

/*
 * Largest plain length whose DO 87 plus fixed bytes fit in limit:
 * padding always adds 1..bs bytes, so the largest padded length p that
 * fits carries p - 1 plain bytes.  0 when nothing fits.
 */
static size_t
plain_max(size_t limit, size_t fixed, size_t bs)
{
	size_t p;

	if (limit <= fixed + 4 + bs)
		return 0;
	p = ((limit - fixed) / bs) * bs;
	while (p >= bs && do87_size(p) + fixed > limit)
		p -= bs;
	return p >= bs ? p - 1 : 0;
}

/*
 * Capabilities seen through SM.  Responses: the protected data (DO 87
 * with padding, DO 99, DO 8E) must fit in 256 bytes for a short Le (00) or
 * 65536 for an extended one and in inner's max_resp; plain max_resp is the
 * largest plain data with that (223 bytes for AES, 231 for 3DES, short)
 * plus the SW.  Commands: the protected body (DO 87, DO 97, DO 8E) must fit
 * in 255 bytes (short) or 65535 (extended) and in inner's max_cmd with the
 * header, Lc and Le; plain max_cmd is header + Lc + the largest plain data,
 * Le not counted, so the engine chains before the protected form overflows.
 */
static int
smt_caps(const cnie_transport_caps *in, cnie_sm_cipher c, cnie_transport_caps *out)
{
	size_t bs = block_size(c), lim, nc, ne;

	*out = *in;
	if (in->extended) {
		lim = in->max_cmd > 4 + 3 + 2 ? in->max_cmd - (4 + 3 + 2) : 0;
		if (lim > CNIE_APDU_EXT_MAX_NC)
			lim = CNIE_APDU_EXT_MAX_NC;
		nc = plain_max(lim, SMT_CMD_FIXED_EXT, bs);
		out->max_cmd = 4 + 3 + nc + 2;
		lim = in->max_resp - 2;
		if (lim > CNIE_APDU_EXT_MAX_NE)
			lim = CNIE_APDU_EXT_MAX_NE;
	} else {
		lim = in->max_cmd > 4 + 1 + 1 ? in->max_cmd - (4 + 1 + 1) : 0;
		if (lim > CNIE_APDU_SHORT_MAX_NC)
			lim = CNIE_APDU_SHORT_MAX_NC;
		nc = plain_max(lim, SMT_CMD_FIXED_SHORT, bs);
		out->max_cmd = 4 + 1 + nc;
		lim = in->max_resp - 2;
		if (lim > CNIE_APDU_SHORT_MAX_NE)
			lim = CNIE_APDU_SHORT_MAX_NE;
	}
	ne = plain_max(lim, SMT_RESP_FIXED, bs);
	if (nc == 0 || ne == 0)
		return CNIE_ERR_UNSUPPORTED;
	out->max_resp = ne + 2;
	return 0;
}

static void
smt_kill(smt *s, int why)
{
	cnie_sm_free(&s->sm);
	if (s->dead == 0)
		s->dead = why;
}

/*
 * Collects the whole protected answer: the card may announce it in parts
 * with 61xx (its length follows the outer Le, card profile section 6);
 * GET RESPONSE is a transmission command sent plain (ISO 7816-4 7.6.1),
 * the parts concatenated make the protected answer.  raw ends with the
 * last part's SW.
 */
static int
smt_collect(smt *s, cnie_buf *raw)
{
	uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
	cnie_buf *part = NULL;
	const uint8_t *p;
	size_t n, rounds;
	int r = 0;

	for (rounds = 0;; rounds++) {
		n = cnie_buf_len(raw);
		if (n < 2)
			return CNIE_ERR_BAD_RESPONSE;
		p = cnie_buf_ptr(raw);
		if (p[n - 2] != 0x61)
			break;
		if (rounds >= SMT_MAX_GET_RESPONSE) {
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		gr[4] = p[n - 1];
		if ((r = cnie_buf_truncate(raw, n - 2)) != 0)
			goto out;
		if (part == NULL && (part = cnie_buf_new()) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		cnie_buf_reset(part);
		if ((r = cnie_transport_transmit(s->inner, gr, sizeof(gr), 0, part)) != 0)
			goto out;
		if (cnie_buf_len(part) > CNIE_MAX_RESPONSE - cnie_buf_len(raw)) {
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		if ((r = cnie_buf_put_buf(raw, part)) != 0)
			goto out;
	}
out:
	cnie_buf_free(&part);
	return r;
}

static int
smt_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	smt *s = ctx;
	cnie_apdu a;
	cnie_buf *wrapped = NULL, *raw = NULL, *plain = NULL;
	uint8_t ssc[16];
	size_t n, ssc_len = sizeof(ssc);
	uint16_t sw = 0;
	int r;

	if (s->sm == NULL)
		return s->dead != 0 ? s->dead : CNIE_ERR_SM;
	if ((r = cnie_apdu_decode(cmd, cmd_len, &a, NULL)) != 0)
		return r;
	if ((wrapped = cnie_buf_new()) == NULL || (raw = cnie_buf_new()) == NULL ||
	    (plain = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	/* The SSC before the command, put back if the command is never sent. */
	if ((r = cnie_sm_get_ssc(s->sm, ssc, &ssc_len)) != 0)
		goto out;
	if ((r = cnie_sm_wrap_command(s->sm, &a, wrapped)) != 0) {
		/* Nothing built (e.g. too long): the SSC has not moved. */
		goto out;
	}
	if ((r = cnie_transport_transmit(s->inner, cnie_buf_ptr(wrapped), cnie_buf_len(wrapped),
		 0, raw)) != 0) {
		/*
		 * The command may have reached the card: SSCs out of step.  Not
		 * so on CNIE_ERR_NOMEM, which the transport returns only before
		 * sending (cnie_transport_transmit).
		 */
		if (r != CNIE_ERR_NOMEM || cnie_sm_set_ssc(s->sm, ssc, ssc_len) != 0)
			smt_kill(s, CNIE_ERR_SM);
		goto out;
	}
	if ((r = smt_collect(s, raw)) == 0 &&
	    (r = cnie_sm_unwrap_response(s->sm, cnie_buf_ptr(raw), cnie_buf_len(raw), plain,
		 &sw)) != 0 && (r == CNIE_ERR_NOMEM || r == CNIE_ERR_CRYPTO)) {
		/*
		 * Out of memory or OpenSSL failing is ours, not the card's answer:
		 * nothing of it was accepted, and both counters moved past it (the
		 * unwrap counts the response in every case), so the session goes on.
		 */
		cnie_log_warn("secure messaging: %s on our side, session kept", cnie_error_name(r));
		goto out;
	}
	if (r != 0) {
		cnie_log_warn("secure messaging failed (%s): session closed", cnie_error_name(r));
		smt_kill(s, CNIE_ERR_SM);
		if (r != CNIE_ERR_NOMEM && r != CNIE_ERR_CRYPTO)
			r = CNIE_ERR_SM;
		goto out;
	}
	n = cnie_buf_len(plain);
	if (*resp_len < 2 || n > *resp_len - 2) {
		r = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	if (n > 0)
		memcpy(resp, cnie_buf_ptr(plain), n);
	resp[n] = (uint8_t)(sw >> 8);
	resp[n + 1] = (uint8_t)sw;
	*resp_len = n + 2;
out:
	cnie_buf_free(&wrapped);
	cnie_buf_free(&raw);
	cnie_buf_free(&plain);
	return r;
}

static int
smt_begin(void *ctx)
{
	return cnie_transport_begin(((smt *)ctx)->inner);
}

static int
smt_end(void *ctx)
{
	return cnie_transport_end(((smt *)ctx)->inner);
}

/* The card forgets its session on reset (card profile section 7). */
static int
smt_reset(void *ctx, bool unpower)
{
	smt *s = ctx;

	smt_kill(s, CNIE_ERR_LOGIN_LOST);
	return cnie_transport_reset(s->inner, unpower);
}

/* Reconnecting follows a reset by someone else: the session is gone too. */
static int
smt_reconnect(void *ctx)
{
	smt *s = ctx;

	smt_kill(s, CNIE_ERR_LOGIN_LOST);
	return cnie_transport_reconnect(s->inner);
}

static int
smt_control(void *ctx, uint32_t code, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t *out_len)
{
	return cnie_transport_control(((smt *)ctx)->inner, code, in, in_len, out, out_len);
}

static int
smt_atr(void *ctx, uint8_t *atr, size_t *n)
{
	return cnie_transport_atr(((smt *)ctx)->inner, atr, n);
}

static void
smt_free(void *ctx)
{
	smt *s = ctx;

	if (s == NULL)
		return;
	cnie_sm_free(&s->sm);
	free(s);
}

static const cnie_transport_ops smt_ops = {
	.transmit = smt_transmit,
	.begin = smt_begin,
	.end = smt_end,
	.reset = smt_reset,
	.reconnect = smt_reconnect,
	.control = smt_control,
	.atr = smt_atr,
	.free = smt_free,
};

int
cnie_sm_transport_new(cnie_transport *inner, cnie_sm *sm, cnie_transport **out)
{
	const cnie_transport_caps *ic;
	cnie_transport_caps caps;
	char name[256];
	smt *s = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (inner == NULL || sm == NULL || out == NULL) {
		cnie_sm_free(&sm);
		return CNIE_ERR_INVALID_ARG;
	}
	if ((ic = cnie_transport_get_caps(inner)) == NULL) {
		cnie_sm_free(&sm);
		return CNIE_ERR_INTERNAL;
	}
	if ((r = smt_caps(ic, cnie_sm_get_cipher(sm), &caps)) != 0) {
		cnie_sm_free(&sm);
		return r;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		cnie_sm_free(&sm);
		return CNIE_ERR_NOMEM;
	}
	s->inner = inner;
	s->sm = sm;
	snprintf(name, sizeof(name), "%s (SM)", cnie_transport_name(inner) != NULL ?
	    cnie_transport_name(inner) : "");
	/* On failure cnie_transport_new frees s (and the session) itself. */
	return cnie_transport_new(&smt_ops, s, &caps, name, out);
}
