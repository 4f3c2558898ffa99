/*
 * Command and response APDUs and the APDU engine: see src/libcnie/include/cnie/apdu.h.
 *
 * Length fields follow ISO/IEC 7816-3:2006 clause 12.1.3 (and 7816-4:2013
 * 5.1).  Short form: Lc is one byte 01..FF, Le one byte where 00 means 256.
 * Extended form: Lc is 00 followed by two bytes 0001..FFFF; Le is two
 * bytes where 0000 means 65536, preceded by 00 only when there is no Lc
 * (case 2E).  The two forms are never mixed within one command.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/transport.h>

#define APDU_HDR_LEN 4
#define APDU_CLA_CHAINING 0x10 /* ISO 7816-4 5.1.1.1: command chaining */
#define APDU_INS_GET_RESPONSE 0xC0
#define SW_OK 0x9000
#define SW1_MORE_DATA 0x61 /* 61xx: xx more bytes with GET RESPONSE */
#define SW1_WRONG_LE 0x6C  /* 6Cxx: re-issue with Le = xx */

/*
 * Bounds on GET RESPONSE so a hostile or broken card answering 61xx
 * forever can neither hang the caller nor exhaust memory: a genuine card
 * never returns more than Ne max (65536) in total, which takes at most
 * 256 GET RESPONSEs of 256 bytes.
 */
#define APDU_MAX_GET_RESPONSE 300
#define APDU_MAX_TOTAL_RESP CNIE_APDU_EXT_MAX_NE

void
cnie_apdu_init(cnie_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2)
{
	if (a == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->cla = cla;
	a->ins = ins;
	a->p1 = p1;
	a->p2 = p2;
}

static int
apdu_check(const cnie_apdu *a)
{
	if (a == NULL || (a->data == NULL && a->nc > 0))
		return CNIE_ERR_INVALID_ARG;
	if (a->nc > CNIE_APDU_EXT_MAX_NC || a->ne > CNIE_APDU_EXT_MAX_NE)
		return CNIE_ERR_TOO_LONG;
	return 0;
}

/* True when a needs (or asks for) the extended form. */
static bool
apdu_needs_extended(const cnie_apdu *a)
{
	if (a->nc == 0 && a->ne == 0)
		return false; /* case 1 has no length field to extend */
	return (a->flags & CNIE_APDU_FORCE_EXTENDED) != 0 || a->nc > CNIE_APDU_SHORT_MAX_NC ||
	    a->ne > CNIE_APDU_SHORT_MAX_NE;
}

/* Size of a encoded in the given form. */
static size_t
apdu_encoded_len(const cnie_apdu *a, bool ext)
{
	size_t n = APDU_HDR_LEN;

	if (a->nc > 0)
		n += (ext ? 3 : 1) + a->nc;
	if (a->ne > 0)
		n += ext ? (a->nc > 0 ? 2 : 3) : 1;
	return n;
}

static cnie_apdu_case
apdu_case_of(const cnie_apdu *a, bool ext)
{
	if (a->nc == 0 && a->ne == 0)
		return CNIE_APDU_CASE_1;
	if (a->nc == 0)
		return ext ? CNIE_APDU_CASE_2E : CNIE_APDU_CASE_2S;
	if (a->ne == 0)
		return ext ? CNIE_APDU_CASE_3E : CNIE_APDU_CASE_3S;
	return ext ? CNIE_APDU_CASE_4E : CNIE_APDU_CASE_4S;
}

/* Writes a in the given form into the len bytes at p (len from apdu_encoded_len). */
static void
apdu_write(const cnie_apdu *a, bool ext, uint8_t *p)
{
	size_t i = 0;

	p[i++] = a->cla;
	p[i++] = a->ins;
	p[i++] = a->p1;
	p[i++] = a->p2;
	if (a->nc > 0) {
		if (ext) {
			p[i++] = 0x00;
			p[i++] = (uint8_t)(a->nc >> 8);
		}
		p[i++] = (uint8_t)(a->nc & 0xff);
		memcpy(p + i, a->data, a->nc);
		i += a->nc;
	}
	if (a->ne > 0) {
		/* 256 → 00 and 65536 → 0000: the low bits of Ne do it. */
		if (ext) {
			if (a->nc == 0)
				p[i++] = 0x00;
			p[i++] = (uint8_t)((a->ne >> 8) & 0xff);
		}
		p[i++] = (uint8_t)(a->ne & 0xff);
	}
}

int
cnie_apdu_encode(const cnie_apdu *a, bool allow_extended, cnie_buf *out,
    cnie_apdu_case *apdu_case)
{
	uint8_t *p;
	size_t len;
	bool ext;
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = apdu_check(a)) != 0)
		return r;
	ext = apdu_needs_extended(a);
	if (ext && !allow_extended)
		return CNIE_ERR_TOO_LONG;
	len = apdu_encoded_len(a, ext);
	if ((r = cnie_buf_reserve(out, len, &p)) != 0)
		return r;
	apdu_write(a, ext, p);
	if (apdu_case != NULL)
		*apdu_case = apdu_case_of(a, ext);
	return 0;
}

/* Reads a one-byte short Le: 00 means 256. */
static int
read_short_le(cnie_cur *c, size_t *ne)
{
	uint8_t v;
	int r;

	if ((r = cnie_cur_u8(c, &v)) != 0)
		return r;
	*ne = v == 0 ? CNIE_APDU_SHORT_MAX_NE : v;
	return 0;
}

/* Reads a two-byte extended Le: 0000 means 65536. */
static int
read_ext_le(cnie_cur *c, size_t *ne)
{
	uint16_t v;
	int r;

	if ((r = cnie_cur_u16be(c, &v)) != 0)
		return r;
	*ne = v == 0 ? CNIE_APDU_EXT_MAX_NE : v;
	return 0;
}

/* Short case 3S (body = Lc Data) or 4S (body = Lc Data Le), Lc = 01..FF. */
static int
decode_short(cnie_cur *c, size_t body, cnie_apdu *d, cnie_apdu_case *cs)
{
	uint8_t lc;
	int r;

	if ((r = cnie_cur_u8(c, &lc)) != 0)
		return r;
	d->nc = lc;
	if (body < 1 + d->nc)
		return CNIE_ERR_TRUNCATED;
	if (body > 2 + d->nc)
		return CNIE_ERR_TRAILING;
	if ((r = cnie_cur_take(c, d->nc, &d->data)) != 0)
		return r;
	*cs = CNIE_APDU_CASE_3S;
	if (body == 2 + d->nc) {
		if ((r = read_short_le(c, &d->ne)) != 0)
			return r;
		*cs = CNIE_APDU_CASE_4S;
	}
	return 0;
}

/*
 * Extended case 2E (body = 00 Le Le), 3E (00 Lc Lc Data) or 4E (00 Lc Lc
 * Data Le Le); Lc = 0001..FFFF.
 */
static int
decode_extended(cnie_cur *c, size_t body, cnie_apdu *d, cnie_apdu_case *cs)
{
	uint16_t lc;
	int r;

	if ((r = cnie_cur_skip(c, 1)) != 0)
		return r;
	if (body < 3)
		return CNIE_ERR_TRUNCATED; /* 00 and one byte: a field cut short */
	if (body == 3) {
		*cs = CNIE_APDU_CASE_2E;
		return read_ext_le(c, &d->ne);
	}
	if ((r = cnie_cur_u16be(c, &lc)) != 0)
		return r;
	if (lc == 0)
		return CNIE_ERR_ENCODING;
	d->nc = lc;
	if (body < 3 + d->nc)
		return CNIE_ERR_TRUNCATED;
	if (body == 4 + d->nc)
		return CNIE_ERR_ENCODING; /* a one-byte Le after an extended Lc */
	if (body > 5 + d->nc)
		return CNIE_ERR_TRAILING;
	if ((r = cnie_cur_take(c, d->nc, &d->data)) != 0)
		return r;
	*cs = CNIE_APDU_CASE_3E;
	if (body == 5 + d->nc) {
		if ((r = read_ext_le(c, &d->ne)) != 0)
			return r;
		*cs = CNIE_APDU_CASE_4E;
	}
	return 0;
}

int
cnie_apdu_decode(const uint8_t *p, size_t n, cnie_apdu *a, cnie_apdu_case *apdu_case)
{
	cnie_apdu d;
	cnie_apdu_case cs = CNIE_APDU_CASE_1;
	cnie_cur c, look;
	const uint8_t *hdr;
	uint8_t b1 = 0;
	size_t body;
	int r;

	if (a == NULL || (p == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, p, n);
	if ((r = cnie_cur_take(&c, APDU_HDR_LEN, &hdr)) != 0)
		return r;
	cnie_apdu_init(&d, hdr[0], hdr[1], hdr[2], hdr[3]);
	body = cnie_cur_left(&c);
	look = c;
	(void)cnie_cur_u8(&look, &b1); /* body > 1 where b1 is used */

	/*
	 * ISO 7816-3 12.1.3: the body length and its first byte tell the
	 * cases apart.  A first byte 00 opens an extended field unless it is
	 * the whole body (Le = 256 in case 2S).
	 */
	if (body == 0) {
		cs = CNIE_APDU_CASE_1;
		r = 0;
	} else if (body == 1) {
		cs = CNIE_APDU_CASE_2S;
		r = read_short_le(&c, &d.ne);
	} else if (b1 != 0x00) {
		r = decode_short(&c, body, &d, &cs);
	} else {
		r = decode_extended(&c, body, &d, &cs);
	}
	if (r != 0 || (r = cnie_cur_end(&c)) != 0)
		return r;
	/* Remember the form so that encoding gives back the same bytes. */
	if (cs == CNIE_APDU_CASE_2E || cs == CNIE_APDU_CASE_3E || cs == CNIE_APDU_CASE_4E)
		d.flags = CNIE_APDU_FORCE_EXTENDED;
	*a = d;
	if (apdu_case != NULL)
		*apdu_case = cs;
	return 0;
}

int
cnie_rapdu_parse(const uint8_t *p, size_t n, cnie_rapdu *r)
{
	cnie_cur c;
	const uint8_t *data = NULL;
	uint16_t sw;
	size_t len;
	int rv;

	if (r == NULL || (p == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	/* Length first: SW1 SW2 close every response (ISO 7816-4 5.1). */
	if (n < 2)
		return CNIE_ERR_BAD_RESPONSE;
	len = n - 2;
	cnie_cur_init(&c, p, n);
	if ((rv = cnie_cur_take(&c, len, &data)) != 0 || (rv = cnie_cur_u16be(&c, &sw)) != 0 ||
	    (rv = cnie_cur_end(&c)) != 0)
		return rv;
	r->data = len > 0 ? data : NULL;
	r->len = len;
	r->sw = sw;
	return 0;
}

/* ---- the engine ------------------------------------------------------ */

/* One exchange of the engine: state shared by its steps. */
struct xchg {
	cnie_transport *t;
	unsigned trace;	  /* CNIE_TRACE_* for every APDU of the exchange */
	cnie_buf *cmd;	  /* encoded command (may hold a PIN: wiped on reset/free) */
	cnie_buf *raw;	  /* raw response of the last APDU */
	cnie_rapdu rapdu; /* parsed view of raw */
};

/* Encodes a, sends it, parses the answer into x->rapdu. */
static int
xchg_send(struct xchg *x, const cnie_apdu *a, bool ext)
{
	uint8_t *p;
	size_t len;
	int r;

	cnie_buf_reset(x->cmd);
	cnie_buf_reset(x->raw);
	len = apdu_encoded_len(a, ext);
	if ((r = cnie_buf_reserve(x->cmd, len, &p)) != 0)
		return r;
	apdu_write(a, ext, p);
	if ((r = cnie_transport_transmit(x->t, cnie_buf_ptr(x->cmd), cnie_buf_len(x->cmd),
		 x->trace, x->raw)) != 0)
		return r;
	cnie_buf_reset(x->cmd);
	return cnie_rapdu_parse(cnie_buf_ptr(x->raw), cnie_buf_len(x->raw), &x->rapdu);
}

/* Appends the data of the last response to resp, keeping the total bounded. */
static int
xchg_take_data(struct xchg *x, cnie_buf *resp, size_t base)
{
	if (x->rapdu.len == 0)
		return 0;
	if (x->rapdu.len > APDU_MAX_TOTAL_RESP - (cnie_buf_len(resp) - base))
		return CNIE_ERR_BAD_RESPONSE;
	return cnie_buf_put(resp, x->rapdu.data, x->rapdu.len);
}

/*
 * Sends the chunks of a chained command (ISO 7816-4 5.1.1.1) but the
 * last: CLA with b5 set, no Le, up to chunk_max data bytes each, until at
 * most last_max bytes are left for the last command (never zero: it must
 * carry data to be the same command).  Stops at the first status word
 * other than 9000 (*stopped set).  *off gets the offset of what is left.
 */
static int
xchg_chain(struct xchg *x, const cnie_apdu *a, size_t chunk_max, size_t last_max, size_t *off,
    bool *stopped)
{
	cnie_apdu chunk;
	size_t left;
	int r;

	*stopped = false;
	*off = 0;
	while ((left = a->nc - *off) > last_max) {
		cnie_apdu_init(&chunk, (uint8_t)(a->cla | APDU_CLA_CHAINING), a->ins, a->p1, a->p2);
		chunk.data = a->data + *off;
		chunk.nc = left - 1 < chunk_max ? left - 1 : chunk_max;
		if ((r = xchg_send(x, &chunk, false)) != 0)
			return r;
		*off += chunk.nc;
		if (x->rapdu.sw != SW_OK) {
			*stopped = true;
			return 0;
		}
		/* Data on an intermediate 9000 is not defined: dropped. */
	}
	return 0;
}

/* Length announced by 61xx / 6Cxx: 00 means 256 (ISO 7816-4 5.1.3). */
static size_t
sw2_len(uint16_t sw)
{
	return (sw & 0xff) == 0 ? CNIE_APDU_SHORT_MAX_NE : (sw & 0xff);
}

/*
 * Class of GET RESPONSE: a transmission-level command (ISO 7816-4 7.6.1,
 * 7816-3 12.2.4 for T=0), sent on the command's logical channel but with
 * neither chaining nor secure messaging: under ICAO SM the card returns
 * the protected response itself in the parts, and a 0C class without SM
 * data objects would be refused with 6987/6988.  First interindustry
 * class (ISO 7816-4 5.4.1 table 2): channel in b2-b1; further
 * interindustry (table 3): b7 plus the channel in b4-b1.  Proprietary
 * classes keep their meaning, minus the chaining bit.
 */
static uint8_t
get_response_cla(uint8_t cla)
{
	if ((cla & 0xC0) == 0x00)
		return (uint8_t)(cla & 0x03);
	if ((cla & 0xC0) == 0x40)
		return (uint8_t)(cla & 0x4F);
	return (uint8_t)(cla & ~APDU_CLA_CHAINING);
}

int
cnie_apdu_transmit(cnie_transport *t, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	const cnie_transport_caps *caps;
	struct xchg x;
	cnie_apdu last, getr;
	size_t base, off = 0, rounds, le_len, chunk_max = 0, last_max = 0;
	bool ext, chained = false, stopped = false;
	int r;

	if (t == NULL || resp == NULL || sw == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = apdu_check(a)) != 0)
		return r;
	if ((caps = cnie_transport_get_caps(t)) == NULL)
		return CNIE_ERR_INTERNAL;
	memset(&x, 0, sizeof(x));
	x.t = t;
	/*
	 * One flag masks command and response bodies in the trace: masking
	 * the whole exchange of a flagged command keeps both secret.
	 */
	if ((a->flags & (CNIE_APDU_SENSITIVE | CNIE_APDU_SENSITIVE_RESP)) != 0)
		x.trace = CNIE_TRACE_MASK_BODY;
	base = cnie_buf_len(resp);
	last = *a;
	last.flags = 0;

	/* Choose the form: extended when needed and the path carries it. */
	ext = apdu_needs_extended(a) && caps->extended &&
	    apdu_encoded_len(a, true) <= caps->max_cmd;
	/*
	 * Ne > 256 on a short-only path: ask for 256 (Le = 00) and let the
	 * card announce the rest with 61xx.
	 */
	if (!ext && last.ne > CNIE_APDU_SHORT_MAX_NE)
		last.ne = CNIE_APDU_SHORT_MAX_NE;
	/* Too long for one short command on this path: chain. */
	if (!ext && (last.nc > CNIE_APDU_SHORT_MAX_NC ||
	    apdu_encoded_len(&last, false) > caps->max_cmd)) {
		if ((a->flags & CNIE_APDU_NO_CHAINING) != 0)
			return CNIE_ERR_TOO_LONG;
		/* Header + Lc (+ Le on the last chunk) must fit with the data. */
		le_len = last.ne > 0 ? 1 : 0;
		if (caps->max_cmd <= APDU_HDR_LEN + 1 + le_len)
			return CNIE_ERR_TOO_LONG;
		chunk_max = caps->max_cmd - APDU_HDR_LEN - 1;
		last_max = chunk_max - le_len;
		if (chunk_max > CNIE_APDU_SHORT_MAX_NC)
			chunk_max = CNIE_APDU_SHORT_MAX_NC;
		if (last_max > CNIE_APDU_SHORT_MAX_NC)
			last_max = CNIE_APDU_SHORT_MAX_NC;
		chained = true;
	}

	if ((x.cmd = cnie_buf_new()) == NULL || (x.raw = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (chained) {
		if ((r = xchg_chain(&x, a, chunk_max, last_max, &off, &stopped)) != 0)
			goto out;
		if (stopped) {
			/* An intermediate refusal ends the chain (ISO 7816-4 5.1.1.1). */
			if ((r = xchg_take_data(&x, resp, base)) != 0)
				goto out;
			*sw = x.rapdu.sw;
			goto out;
		}
		last.data = a->data + off;
		last.nc = a->nc - off;
	}
	if ((r = xchg_send(&x, &last, ext)) != 0)
		goto out;

	/*
	 * 6Cxx: the card wants Le = xx; re-issue once, never in a loop.  Not
	 * after a chain: the last chunk alone would be a different command.
	 */
	if ((x.rapdu.sw >> 8) == SW1_WRONG_LE && !chained &&
	    (a->flags & CNIE_APDU_NO_GET_RESPONSE) == 0) {
		last.ne = sw2_len(x.rapdu.sw);
		/* Adding an Le may not fit the path: then the 6Cxx is the answer. */
		if (apdu_encoded_len(&last, ext) <= caps->max_cmd &&
		    (r = xchg_send(&x, &last, ext)) != 0)
			goto out;
	}

	/* 61xx: fetch the rest with GET RESPONSE (ISO 7816-4 7.6.1). */
	for (rounds = 0; (x.rapdu.sw >> 8) == SW1_MORE_DATA &&
	     (a->flags & CNIE_APDU_NO_GET_RESPONSE) == 0; rounds++) {
		if (rounds >= APDU_MAX_GET_RESPONSE) {
			cnie_log_warn("card keeps answering 61xx: giving up");
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		if ((r = xchg_take_data(&x, resp, base)) != 0)
			goto out;
		cnie_apdu_init(&getr, get_response_cla(a->cla), APDU_INS_GET_RESPONSE, 0x00, 0x00);
		getr.ne = sw2_len(x.rapdu.sw);
		if ((r = xchg_send(&x, &getr, false)) != 0)
			goto out;
	}
	if ((r = xchg_take_data(&x, resp, base)) != 0)
		goto out;
	*sw = x.rapdu.sw;
out:
	/* No half result: on error resp is as the caller gave it. */
	if (r != 0 && cnie_buf_len(resp) > base)
		(void)cnie_buf_truncate(resp, base);
	cnie_buf_free(&x.cmd);
	cnie_buf_free(&x.raw);
	return r;
}

int
cnie_apdu_transmit_ok(cnie_transport *t, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	uint16_t s = 0;
	int r;

	if ((r = cnie_apdu_transmit(t, a, resp, &s)) != 0)
		return r;
	if (sw != NULL)
		*sw = s;
	if (s != SW_OK)
		return cnie_sw_to_error(s);
	return 0;
}
