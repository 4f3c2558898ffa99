/*
 * The reference card's core: open and power, the command dispatcher,
 * secure messaging around it (ICAO 9303-11 9.8, via emu_auth's session),
 * command chaining and GET RESPONSE (ISO 7816-4 5.1, 7.6), the card's
 * randomness, the timing model and the test hooks.  See emu.h and
 * docs/card-profile.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/sm.h>

#include "emu_int.h"

#define INS_GET_RESPONSE 0xC0
#define CLA_CHAINING 0x10
#define CLA_SM 0x0C
#define CHAIN_MAX 65535

/* ICAO 9303-10 4.1: the eMRTD application identifier. */
static const uint8_t icao_aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };

/* ---- randomness --------------------------------------------------------- */

/*
 * SHA-256 in counter mode over the seed: block i = SHA-256(seed || i),
 * i big-endian on 64 bits.  Not a certified DRBG: a test card needs
 * reproducible draws, not unpredictable ones (the default seed is random).
 */
static int
drbg_block(cnie_emu *e)
{
	uint8_t in[sizeof(e->seed) + 8];
	unsigned int len = 0;
	size_t i;

	memcpy(in, e->seed, sizeof(e->seed));
	for (i = 0; i < 8; i++)
		in[sizeof(e->seed) + i] = (uint8_t)(e->drbg_ctr >> (56 - 8 * i));
	e->drbg_ctr++;
	if (EVP_Digest(in, sizeof(in), e->block, &len, EVP_sha256(), NULL) != 1 ||
	    len != sizeof(e->block))
		return CNIE_ERR_CRYPTO;
	e->block_left = sizeof(e->block);
	return 0;
}

int
emu_random(void *arg, uint8_t *out, size_t n)
{
	cnie_emu *e = arg;
	size_t q, take;
	int r;

	if (e == NULL || (out == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	/* Queued bytes first (exact replay of worked examples). */
	q = cnie_buf_len(e->queue);
	take = q < n ? q : n;
	if (take > 0) {
		memcpy(out, cnie_buf_ptr(e->queue), take);
		if ((r = cnie_buf_consume(e->queue, take)) != 0)
			return r;
		out += take;
		n -= take;
	}
	while (n > 0) {
		if (e->block_left == 0 && (r = drbg_block(e)) != 0)
			return r;
		take = e->block_left < n ? e->block_left : n;
		memcpy(out, e->block + sizeof(e->block) - e->block_left, take);
		e->block_left -= take;
		out += take;
		n -= take;
	}
	return 0;
}

int
cnie_emu_set_seed(cnie_emu *e, const uint8_t *seed, size_t n)
{
	unsigned int len = 0;

	if (e == NULL || (seed == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	if (EVP_Digest(seed, n, e->seed, &len, EVP_sha256(), NULL) != 1)
		return CNIE_ERR_CRYPTO;
	e->drbg_ctr = 0;
	cnie_wipe(e->block, sizeof(e->block));
	e->block_left = 0;
	return 0;
}

int
cnie_emu_queue_random(cnie_emu *e, const uint8_t *bytes, size_t n)
{
	if (e == NULL || (bytes == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	return cnie_buf_put(e->queue, bytes, n);
}

void
cnie_emu_set_garbage(cnie_emu *e, bool on)
{
	if (e != NULL)
		e->garbage = on;
}

void
cnie_emu_set_persist(cnie_emu *e, bool on)
{
	if (e != NULL)
		e->no_persist = !on;
}

/* ---- timing ------------------------------------------------------------- */

void
cnie_emu_set_timing(cnie_emu *e, const cnie_emu_timing *t)
{
	if (e == NULL)
		return;
	if (t == NULL)
		memset(&e->timing, 0, sizeof(e->timing));
	else
		e->timing = *t;
}

static void
timing_from_env(cnie_emu *e)
{
	const char *s = getenv("CNIE_EMU_TIMING");
	unsigned v[5];
	char extra;

	if (s == NULL || *s == '\0')
		return;
	if (sscanf(s, "%u,%u,%u,%u,%u%c", &v[0], &v[1], &v[2], &v[3], &v[4], &extra) != 5) {
		cnie_log_warn("CNIE_EMU_TIMING: expected latency_us,bit_rate,rsa_us,ec_us,pace_us");
		return;
	}
	e->timing.apdu_latency_us = v[0];
	e->timing.bit_rate = v[1];
	e->timing.rsa_op_us = v[2];
	e->timing.ec_op_us = v[3];
	e->timing.pace_us = v[4];
}

static void
charge_time(cnie_emu *e, size_t bytes)
{
	uint64_t us = e->timing.apdu_latency_us + e->op_us;
	struct timespec ts;

	if (e->timing.bit_rate > 0)
		us += (uint64_t)bytes * 8u * 1000000u / e->timing.bit_rate;
	if (us == 0)
		return;
	e->stats.slept_us += us;
	ts.tv_sec = (time_t)(us / 1000000u);
	ts.tv_nsec = (long)(us % 1000000u) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
cnie_emu_get_stats(const cnie_emu *e, cnie_emu_stats *st)
{
	if (st == NULL)
		return;
	if (e == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = e->stats;
}

uint64_t
cnie_emu_apdu_count(const cnie_emu *e)
{
	return e == NULL ? 0 : e->stats.apdus;
}

/* ---- open, power -------------------------------------------------------- */

int
cnie_emu_open_ex(const char *card_dir, const char *state_path, cnie_emu **out, char *err,
    size_t errlen)
{
	cnie_emu *e = NULL;
	size_t i;
	int r = CNIE_ERR_NOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (card_dir == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return CNIE_ERR_NOMEM;
	e->sign_permit = -1;
	e->cur_df = e->cur_ef = -1;
	emu_pki_reset(e);
	if ((e->pending = cnie_buf_new()) == NULL || (e->chain = cnie_buf_new()) == NULL ||
	    (e->queue = cnie_buf_new()) == NULL)
		goto out;
	if (state_path != NULL)
		e->state_path = strdup(state_path);
	else if (asprintf(&e->state_path, "%s/state.json", card_dir) < 0)
		e->state_path = NULL;
	if (e->state_path == NULL)
		goto out;
	/* Real randomness until a test asks for a seed. */
	if (RAND_bytes(e->seed, sizeof(e->seed)) != 1) {
		r = CNIE_ERR_CRYPTO;
		goto out;
	}
	if ((r = emu_conf_load(e, card_dir, err, errlen)) != 0)
		goto out;
	for (i = 0; i < e->npins; i++) {
		memcpy(e->pins[i].orig_value, e->pins[i].value, sizeof(e->pins[i].value));
		e->pins[i].orig_tries = e->pins[i].tries;
	}
	if ((r = emu_pin_load_state(e, err, errlen)) != 0)
		goto out;
	timing_from_env(e);
	*out = e;
	e = NULL;
out:
	cnie_emu_free(&e);
	return r;
}

int
cnie_emu_open(const char *card_dir, const char *state_path, cnie_emu **out)
{
	char err[256];
	int r;

	if ((r = cnie_emu_open_ex(card_dir, state_path, out, err, sizeof(err))) != 0)
		cnie_log_error("reference card %s: %s", card_dir != NULL ? card_dir : "(null)",
		    err[0] != '\0' ? err : cnie_strerror(r));
	return r;
}

void
cnie_emu_free(cnie_emu **ep)
{
	cnie_emu *e;

	if (ep == NULL || (e = *ep) == NULL)
		return;
	emu_conf_free(e);
	cnie_buf_free(&e->pending);
	cnie_buf_free(&e->chain);
	cnie_buf_free(&e->queue);
	free(e->state_path);
	cnie_freezero(e, sizeof(*e));
	*ep = NULL;
}

/* Every security state goes: PINs, SE, SM sessions, pending data. */
static void
reset_session(cnie_emu *e)
{
	emu_fs_reset(e);
	emu_pki_reset(e);
	emu_pin_reset_session(e);
	cnie_buf_reset(e->pending);
	e->pending_off = 0;
	cnie_buf_reset(e->chain);
	e->chain_open = false;
	emu_auth_reset(e->auth);
}

int
cnie_emu_power_on(cnie_emu *e, cnie_emu_iface iface, uint8_t *atr, size_t *atr_len)
{
	if (e == NULL || atr == NULL || atr_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((iface != CNIE_EMU_CONTACT && iface != CNIE_EMU_CONTACTLESS) || !e->iface_ok[iface])
		return CNIE_ERR_UNSUPPORTED;
	if (*atr_len < e->atr_len[iface])
		return CNIE_ERR_BUFFER_TOO_SMALL;
	reset_session(e);
	e->iface = iface;
	e->powered = true;
	memcpy(atr, e->atr[iface], e->atr_len[iface]);
	*atr_len = e->atr_len[iface];
	return 0;
}

void
cnie_emu_power_off(cnie_emu *e)
{
	if (e == NULL)
		return;
	reset_session(e);
	e->powered = false;
}

void
cnie_emu_reset_state(cnie_emu *e)
{
	size_t i;

	if (e == NULL)
		return;
	cnie_emu_power_off(e);
	for (i = 0; i < e->npins; i++) {
		memcpy(e->pins[i].value, e->pins[i].orig_value, sizeof(e->pins[i].value));
		e->pins[i].tries = e->pins[i].orig_tries;
		e->pins[i].changed = false;
	}
}

/* ---- dispatch ----------------------------------------------------------- */

static bool
icao_selected(const cnie_emu *e)
{
	const struct emu_app *app;

	if (e->cur_df < 0)
		return false;
	app = &e->apps[e->cur_df];
	return app->aid_len == sizeof(icao_aid) && memcmp(app->aid, icao_aid, app->aid_len) == 0;
}

/*
 * The current application's rule on this interface (card.json
 * "contact"/"contactless"): with "pace", only SELECT and the PACE steps
 * are answered before PACE; with "pace-or-bac", BAC's steps too.  The
 * commands that set up the session are always let through.
 */
static bool
policy_ok(const cnie_emu *e, const cnie_apdu *a)
{
	enum emu_policy pol;

	if (e->cur_df < 0)
		return true;
	pol = e->apps[e->cur_df].pol[e->iface];
	if (pol == EMU_POL_OPEN || a->ins == 0xA4 || a->ins == 0x86 ||
	    (a->ins == 0x22 && a->p1 == 0xC1 && a->p2 == 0xA4))
		return true;
	if (pol == EMU_POL_PACE)
		return emu_auth_pace_done(e->auth) && e->cmd_sm;
	/* pace-or-bac */
	return a->ins == 0x84 || a->ins == 0x82 || (emu_auth_sm(e->auth) != NULL && e->cmd_sm);
}

static int
dispatch(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	int r;

	if (!policy_ok(e, a)) {
		*sw = SW_SECURITY;
		return 0;
	}
	if (emu_pki_owns(e, a)) {
		switch (a->ins) {
		case 0x22:
			return emu_pki_mse(e, a, sw);
		case 0x2A:
			return emu_pki_pso(e, a, resp, sw);
		default:
			return emu_pki_intauth(e, a, resp, sw);
		}
	}
	switch (a->ins) {
	case 0xA4:
		return emu_fs_select(e, a, resp, sw);
	case 0xB0:
	case 0xB1:
		return emu_fs_read_binary(e, a, resp, sw);
	case 0x20:
		return emu_pin_verify(e, a, sw);
	case 0x24:
		return emu_pin_change(e, a, sw);
	case 0x2C:
		return emu_pin_reset_retry(e, a, sw);
	case 0xCA:
		return emu_pki_get_data(e, a, resp, sw);
	case 0x70:
		*sw = SW_CHANNEL; /* MANAGE CHANNEL: basic channel only */
		return 0;
	default:
		break;
	}
	if ((r = emu_auth_handle(e->auth, a, icao_selected(e), resp, sw)) < 0)
		return r;
	if (r == 1) {
		if (a->ins == 0x86 || a->ins == 0x82) {
			e->op_us += e->timing.pace_us;
			e->stats.key_ops++;
		}
		return 0;
	}
	switch (a->ins) {
	case 0x22:
		*sw = SW_WRONG_P1P2;
		break;
	case 0x82:
	case 0x88:
		*sw = SW_CONDITIONS; /* no key for it in this DF */
		break;
	default:
		*sw = SW_INS;
		break;
	}
	return 0;
}

/* ---- response delivery -------------------------------------------------- */

static int
put_sw(cnie_buf *out, uint16_t sw)
{
	return cnie_buf_put_u16be(out, sw);
}

/*
 * Sends data + sw within the command's Ne; what does not fit waits for
 * GET RESPONSE, announced by 61xx (ISO 7816-4 5.3.4; xx = 00 means 256
 * or more).  No Le at all with data to send gives 61xx and no data, the
 * T=0 way.
 */
static int
deliver(cnie_emu *e, const uint8_t *data, size_t n, uint16_t sw, size_t ne, cnie_buf *out)
{
	size_t rest;
	int r;

	if (n <= ne || n == 0) {
		if ((r = cnie_buf_put(out, data, n)) != 0)
			return r;
		return put_sw(out, sw);
	}
	if ((r = cnie_buf_put(out, data, ne)) != 0 ||
	    (r = cnie_buf_put(e->pending, data + ne, n - ne)) != 0)
		return r;
	e->pending_off = 0;
	e->pending_sw = sw;
	rest = n - ne;
	return put_sw(out, (uint16_t)(0x6100 | (rest > 0xFF ? 0 : rest)));
}

static int
get_response(cnie_emu *e, const cnie_apdu *a, cnie_buf *out)
{
	size_t left = cnie_buf_len(e->pending) - e->pending_off, n;
	uint16_t sw;
	int r;

	if (left == 0)
		return put_sw(out, SW_CONDITIONS);
	if (a->p1 != 0 || a->p2 != 0)
		return put_sw(out, SW_WRONG_P1P2);
	if (a->nc != 0 || a->ne == 0)
		return put_sw(out, SW_WRONG_LENGTH);
	n = left < a->ne ? left : a->ne;
	if ((r = cnie_buf_put(out, cnie_buf_ptr(e->pending) + e->pending_off, n)) != 0)
		return r;
	e->pending_off += n;
	left -= n;
	if (left == 0) {
		sw = e->pending_sw;
		cnie_buf_reset(e->pending);
		e->pending_off = 0;
	} else {
		sw = (uint16_t)(0x6100 | (left > 0xFF ? 0 : left));
	}
	return put_sw(out, sw);
}

/*
 * Command chaining on the plain command (ISO 7816-4 5.1.1.1): parts with
 * CLA b5 set are collected and answered 9000; the last part (b5 clear,
 * same INS P1 P2) gets the whole.  GENERAL AUTHENTICATE is the
 * exception: PACE's steps carry b5 but each is a protocol step of its own
 * (emu_auth.h).  *done: the part was absorbed.
 */
static int
chain(cnie_emu *e, cnie_apdu *a, cnie_buf *whole, bool *done, uint16_t *sw)
{
	bool same = e->chain_open && e->chain_hdr[0] == a->ins && e->chain_hdr[1] == a->p1 &&
	    e->chain_hdr[2] == a->p2;
	int r;

	*done = false;
	if (a->ins == 0x86)
		return 0;
	if (e->chain_open && !same) {
		/* Another command ends an unfinished chain: it is forgotten. */
		cnie_buf_reset(e->chain);
		e->chain_open = false;
	}
	if ((a->cla & CLA_CHAINING) != 0) {
		*done = true;
		if (a->nc > CHAIN_MAX - cnie_buf_len(e->chain)) {
			cnie_buf_reset(e->chain);
			e->chain_open = false;
			*sw = SW_WRONG_LENGTH;
			return 0;
		}
		if ((r = cnie_buf_put(e->chain, a->data, a->nc)) != 0)
			return r;
		e->chain_open = true;
		e->chain_hdr[0] = a->ins;
		e->chain_hdr[1] = a->p1;
		e->chain_hdr[2] = a->p2;
		*sw = SW_OK;
		return 0;
	}
	if (!e->chain_open)
		return 0;
	e->chain_open = false;
	if (a->nc > CHAIN_MAX - cnie_buf_len(e->chain)) {
		cnie_buf_reset(e->chain);
		*done = true;
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	if ((r = cnie_buf_put_buf(whole, e->chain)) != 0 ||
	    (r = cnie_buf_put(whole, a->data, a->nc)) != 0)
		return r;
	cnie_buf_reset(e->chain);
	a->data = cnie_buf_ptr(whole);
	a->nc = cnie_buf_len(whole);
	return 0;
}

/* One command, start to end; out gets data + SW. */
static int
process(cnie_emu *e, const uint8_t *cmd, size_t n, cnie_buf *out)
{
	cnie_apdu a, plain;
	cnie_apdu_case cs;
	cnie_buf *ubuf = NULL, *body = NULL, *wrapped = NULL, *whole = NULL;
	cnie_sm *sm;
	uint16_t sw = SW_UNKNOWN;
	bool done, ext;
	int r;

	e->op_us = 0;
	e->cmd_sm = false;
	if (cnie_apdu_decode(cmd, n, &a, &cs) != 0) {
		cnie_buf_reset(e->pending);
		return put_sw(out, SW_WRONG_LENGTH);
	}
	ext = cs == CNIE_APDU_CASE_2E || cs == CNIE_APDU_CASE_3E || cs == CNIE_APDU_CASE_4E;
	/* ISO 7816-4 5.4.1: b8 set is proprietary, 001x xxxx is RFU. */
	if ((a.cla & 0x80) != 0 || (a.cla & 0xE0) == 0x20)
		return put_sw(out, SW_CLA);
	/* Logical channels other than the basic one: not supported. */
	if ((a.cla & 0x40) != 0 || (a.cla & 0x03) != 0)
		return put_sw(out, SW_CHANNEL);
	if (a.ins == INS_GET_RESPONSE)
		return get_response(e, &a, out);
	cnie_buf_reset(e->pending);
	e->pending_off = 0;
	/* Extended fields only when the ATR offers them (ISO 7816-4 12.1.1). */
	if (ext && !e->ext_len)
		return put_sw(out, SW_WRONG_LENGTH);

	sm = emu_auth_sm(e->auth);
	plain = a;
	if ((a.cla & CLA_SM) == CLA_SM) {
		if (sm == NULL)
			return put_sw(out, SW_SM_UNSUPPORTED);
		if ((ubuf = cnie_buf_new()) == NULL)
			return CNIE_ERR_NOMEM;
		if ((r = cnie_sm_unwrap_command(sm, cmd, n, ubuf)) != 0 ||
		    cnie_apdu_decode(cnie_buf_ptr(ubuf), cnie_buf_len(ubuf), &plain, NULL) != 0) {
			/* An SM error ends the session (ICAO 9303-11 9.8.4.2), answered plain. */
			emu_auth_drop_sm(e->auth);
			cnie_buf_reset(e->chain);
			e->chain_open = false;
			r = put_sw(out, r == CNIE_ERR_SW_SM_MISSING ? 0x6987 : 0x6988);
			goto out;
		}
		e->cmd_sm = true;
	} else if ((a.cla & CLA_SM) != 0) {
		/* Proprietary SM formats (b4-b3 = 01 or 10). */
		return put_sw(out, SW_SM_UNSUPPORTED);
	} else if (sm != NULL) {
		/* A plain command aborts the session (ICAO 9303-11 9.8.4.2). */
		emu_auth_drop_sm(e->auth);
		sm = NULL;
	}

	r = CNIE_ERR_NOMEM;
	if ((body = cnie_buf_new()) == NULL || (whole = cnie_buf_new()) == NULL)
		goto out;
	if ((r = chain(e, &plain, whole, &done, &sw)) != 0)
		goto out;
	if (!done && (r = dispatch(e, &plain, body, &sw)) != 0) {
		cnie_log_debug("internal error %s: answering 6F00", cnie_error_name(r));
		cnie_buf_reset(body);
		sw = SW_UNKNOWN;
	}
	if (e->cmd_sm) {
		/* The session read before the command protects its answer. */
		if ((wrapped = cnie_buf_new()) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		if ((r = cnie_sm_wrap_response(sm, cnie_buf_ptr(body), cnie_buf_len(body), sw,
		    wrapped)) != 0 || cnie_buf_len(wrapped) < 2)
			goto out;
		if (e->plain_errors != EMU_PLAIN_OFF && cnie_buf_len(body) == 0 &&
		    (sw >> 8) >= 0x64 && (sw >> 8) <= 0x6F) {
			/*
			 * The chips of card.json "icao.plain_errors": an error
			 * answered without SM objects (ISO 7816-4 clause 10).  The
			 * wrapped answer above counted the response in the SSC,
			 * as the terminal does; "end" also forgets the session.
			 */
			if (e->plain_errors == EMU_PLAIN_END)
				emu_auth_drop_sm(e->auth);
			r = deliver(e, NULL, 0, sw, a.ne, out);
			goto out;
		}
		r = deliver(e, cnie_buf_ptr(wrapped), cnie_buf_len(wrapped) - 2,
		    SW_OK, a.ne, out);
	} else {
		r = deliver(e, cnie_buf_ptr(body), cnie_buf_len(body), sw, a.ne, out);
	}
out:
	cnie_buf_free(&ubuf);
	cnie_buf_free(&body);
	cnie_buf_free(&whole);
	cnie_buf_free(&wrapped);
	return r;
}

static int
garbage(cnie_emu *e, cnie_buf *out)
{
	uint8_t len, *p;
	int r;

	if ((r = emu_random(e, &len, 1)) != 0 ||
	    (r = cnie_buf_reserve(out, len % 64u, &p)) != 0)
		return r;
	return emu_random(e, p, len % 64u);
}

int
cnie_emu_transmit(cnie_emu *e, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len)
{
	cnie_buf *out = NULL;
	size_t n;
	int r;

	if (e == NULL || resp == NULL || resp_len == NULL || (cmd == NULL && cmd_len > 0))
		return CNIE_ERR_INVALID_ARG;
	if (*resp_len < CNIE_EMU_MAX_RESP)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	if (!e->powered)
		return CNIE_ERR_NO_CARD;
	if ((out = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	r = e->garbage ? garbage(e, out) : process(e, cmd, cmd_len, out);
	if (r != 0) {
		/* The card never goes silent: an internal failure is 6F00. */
		cnie_log_debug("internal error %s: answering 6F00", cnie_error_name(r));
		cnie_buf_reset(out);
		if ((r = put_sw(out, SW_UNKNOWN)) != 0)
			goto out;
	}
	n = cnie_buf_len(out);
	if (n > CNIE_EMU_MAX_RESP) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	memcpy(resp, cnie_buf_ptr(out), n);
	*resp_len = n;
	e->stats.apdus++;
	e->stats.bytes_in += cmd_len;
	e->stats.bytes_out += n;
	charge_time(e, cmd_len + n);
out:
	cnie_buf_free(&out);
	return r;
}
