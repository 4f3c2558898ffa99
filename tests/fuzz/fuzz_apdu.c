/*
 * libFuzzer harness for command/response APDUs and the APDU engine
 * (src/libcnie/apdu.c, src/libcnie/transport.c).
 *
 * Properties checked on every input (abort() on a violation):
 *  - cnie_apdu_decode: a valid decode has nc/ne within the ISO 7816-3
 *    limits, data inside the input (NULL exactly when nc == 0), and
 *    re-encodes byte for byte (decode marks extended input with
 *    FORCE_EXTENDED, so the form is never ambiguous) with the same case;
 *  - cnie_rapdu_parse: splits any input of 2+ bytes into data and SW;
 *  - the engine, driven by a card played from the input: every command it
 *    sends is a well-formed APDU within the path's max_cmd (short when
 *    the path has no extended length), it stops (the GET RESPONSE bound),
 *    never returns more than 65536 data bytes, and leaves resp untouched
 *    when it fails.
 *
 * Engine input layout: 6 configuration bytes, then the card's answers,
 * each a 2-byte big-endian length and that many bytes (FFFF: a transport
 * error).  When the answers run out the card is "removed".
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
#include <cnie/transport.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_apdu.c:%d: %s\n", __LINE__, #cond); \
			abort();                                               \
		}                                                              \
	} while (0)

#define ENGINE_CFG_LEN 6
#define ENGINE_MAX_NC 800   /* enough for chaining in 4 chunks, fast */
#define ENGINE_MAX_APDUS 1000 /* far above what the engine may send */

/* ---- decode / encode ------------------------------------------------- */

static bool
case_is_extended(cnie_apdu_case cs)
{
	return cs == CNIE_APDU_CASE_2E || cs == CNIE_APDU_CASE_3E || cs == CNIE_APDU_CASE_4E;
}

static void
fuzz_decode(const uint8_t *data, size_t size, cnie_buf *b)
{
	cnie_apdu a;
	cnie_apdu_case cs, cs2;
	uintptr_t lo = (uintptr_t)data, d;

	if (cnie_apdu_decode(data, size, &a, &cs) != 0)
		return;
	check(a.nc <= CNIE_APDU_EXT_MAX_NC && a.ne <= CNIE_APDU_EXT_MAX_NE);
	check((a.data == NULL) == (a.nc == 0));
	if (a.data != NULL) {
		d = (uintptr_t)a.data;
		check(d >= lo + 5 && d - lo <= size && a.nc <= size - (d - lo));
	}
	check(case_is_extended(cs) == ((a.flags & CNIE_APDU_FORCE_EXTENDED) != 0));
	if (!case_is_extended(cs))
		check(a.nc <= CNIE_APDU_SHORT_MAX_NC && a.ne <= CNIE_APDU_SHORT_MAX_NE);

	cnie_buf_reset(b);
	check(cnie_apdu_encode(&a, true, b, &cs2) == 0);
	check(cs2 == cs);
	check(cnie_buf_len(b) == size);
	check(memcmp(cnie_buf_ptr(b), data, size) == 0);
	/* Short input needs no extended support to re-encode. */
	cnie_buf_reset(b);
	check((cnie_apdu_encode(&a, false, b, NULL) == 0) == !case_is_extended(cs));
}

static void
fuzz_rapdu(const uint8_t *data, size_t size)
{
	cnie_rapdu r;

	if (cnie_rapdu_parse(data, size, &r) != 0) {
		check(size < 2);
		return;
	}
	check(size >= 2 && r.len == size - 2);
	check(r.sw == (uint16_t)((data[size - 2] << 8) | data[size - 1]));
	check((r.data == NULL) == (r.len == 0));
	check(r.data == NULL || r.data == data);
}

/* ---- the engine over a card played from the input -------------------- */

struct card {
	cnie_cur answers;
	const cnie_transport_caps *caps; /* of the transport, for checks */
	size_t apdus;
	cnie_buf *scratch;
};

static int
card_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct card *c = ctx;
	cnie_apdu a;
	cnie_apdu_case cs;
	const uint8_t *p;
	uint16_t len;

	/* What the engine sends is always well formed and fits the path. */
	check(++c->apdus <= ENGINE_MAX_APDUS);
	check(n <= c->caps->max_cmd);
	check(cnie_apdu_decode(cmd, n, &a, &cs) == 0);
	if (!c->caps->extended)
		check(!case_is_extended(cs));

	if (cnie_cur_u16be(&c->answers, &len) != 0)
		return CNIE_ERR_CARD_REMOVED;
	if (len == 0xFFFF)
		return CNIE_ERR_COMM;
	if (len > cnie_cur_left(&c->answers))
		len = (uint16_t)cnie_cur_left(&c->answers);
	check(cnie_cur_take(&c->answers, len, &p) == 0);
	check(*resp_len >= len);
	if (len > 0)
		memcpy(resp, p, len);
	*resp_len = len;
	return 0;
}

static void
card_free(void *ctx)
{
	(void)ctx; /* on the harness's stack */
}

static const cnie_transport_ops card_ops = {
	.transmit = card_transmit,
	.free = card_free,
};

static void
fuzz_engine(const uint8_t *data, size_t size)
{
	static uint8_t body[ENGINE_MAX_NC];
	cnie_transport_caps caps;
	cnie_transport *t = NULL;
	struct card card;
	cnie_buf *resp = NULL;
	cnie_apdu a;
	uint16_t sw = 0;
	size_t i;
	int r;

	if (size < ENGINE_CFG_LEN)
		return;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	/* data[0]: flags (b1-b5), extended path (b6), Ne + 1 (b8). */
	memset(&caps, 0, sizeof(caps));
	caps.extended = (data[0] & 0x20) != 0;
	caps.max_cmd = caps.extended ? 5 + (size_t)data[5] * 300 : 261;
	caps.max_resp = caps.extended ? CNIE_MAX_RESPONSE : 258;
	cnie_apdu_init(&a, data[1] & 0xEF, data[1] ^ 0xB0, 0x00, 0x00);
	a.flags = data[0] & 0x1F;
	a.nc = (((size_t)data[2] << 8) | data[3]) % (ENGINE_MAX_NC + 1);
	a.data = a.nc > 0 ? body : NULL;
	a.ne = (((size_t)data[3] << 8) | data[4]) + ((data[0] & 0x80) != 0 ? 1 : 0);

	memset(&card, 0, sizeof(card));
	cnie_cur_init(&card.answers, data + ENGINE_CFG_LEN, size - ENGINE_CFG_LEN);
	if (cnie_transport_new(&card_ops, &card, &caps, "fuzz", &t) != 0)
		return;
	card.caps = cnie_transport_get_caps(t);
	if ((resp = cnie_buf_from("\xAA", 1)) == NULL)
		goto out;
	r = cnie_apdu_transmit(t, &a, resp, &sw);
	if (r == 0) {
		check(cnie_buf_len(resp) - 1 <= CNIE_APDU_EXT_MAX_NE);
	} else {
		check(cnie_buf_len(resp) == 1);
		check(r == CNIE_ERR_CARD_REMOVED || r == CNIE_ERR_COMM ||
		    r == CNIE_ERR_BAD_RESPONSE || r == CNIE_ERR_TOO_LONG || r == CNIE_ERR_NOMEM);
	}
	/* Commands nobody but chaining could send are refused before any I/O. */
	if (r == CNIE_ERR_TOO_LONG)
		check(card.apdus == 0);
	check(cnie_buf_ptr(resp)[0] == 0xAA);
out:
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_buf *b;

	if ((b = cnie_buf_new()) == NULL)
		return 0;
	fuzz_decode(data, size, b);
	fuzz_rapdu(data, size);
	fuzz_engine(data, size);
	cnie_buf_free(&b);
	return 0;
}
