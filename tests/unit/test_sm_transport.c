/*
 * The secure messaging transport against the in-process reference card
 * (contactless, PACE with CAN 123456): plain APDU engine calls work inside
 * SM, caps are reduced by the SM overhead, a corrupted answer kills the
 * session, a reset gives CNIE_ERR_LOGIN_LOST.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/refcard.h>
#include <cnie/sm.h>
#include <cnie/transport.h>

static const uint8_t icao_aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };

/* A transport over another that can flip the last data byte of answers. */
typedef struct flip {
	cnie_transport *inner;
	int armed;
} flip;

static int
flip_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *rlen)
{
	flip *f = ctx;
	cnie_buf *b = cnie_buf_new();
	size_t len;
	int r;

	if (b == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_transport_transmit(f->inner, cmd, n, 0, b)) != 0)
		goto out;
	len = cnie_buf_len(b);
	if (len > *rlen) {
		r = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	memcpy(resp, cnie_buf_ptr(b), len);
	if (f->armed && len > 2)
		resp[len - 3] ^= 0x01; /* last byte of the MAC (DO 8E) */
	*rlen = len;
out:
	cnie_buf_free(&b);
	return r;
}

static int
flip_reset(void *ctx, bool unpower)
{
	return cnie_transport_reset(((flip *)ctx)->inner, unpower);
}

static void
flip_free(void *ctx)
{
	free(ctx);
}

static const cnie_transport_ops flip_ops = {
	.transmit = flip_transmit,
	.reset = flip_reset,
	.free = flip_free,
};

typedef struct fixture {
	cnie_transport *card; /* refcard */
	cnie_transport *mid;  /* flip over card */
	flip *f;
	cnie_transport *sm;   /* SM over mid */
} fixture;

static int
setup(void **state)
{
	const char *bd = getenv("CNIE_BUILD_DIR");
	char dir[4096];
	fixture *fx = calloc(1, sizeof(*fx));
	cnie_buf *ca = cnie_buf_new();
	cnie_sm *sm = NULL;
	cnie_apdu a;
	uint16_t sw;

	assert_non_null(fx);
	assert_non_null(ca);
	assert_non_null(bd);
	snprintf(dir, sizeof(dir), "%s/cards/ec", bd);
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &fx->card), 0);
	fx->f = calloc(1, sizeof(*fx->f));
	assert_non_null(fx->f);
	fx->f->inner = fx->card;
	assert_int_equal(cnie_transport_new(&flip_ops, fx->f, cnie_transport_get_caps(fx->card),
	    "flip", &fx->mid), 0);
	/* EF.CardAccess, plain from the MF (SFI 28). */
	cnie_apdu_init(&a, 0x00, 0xB0, 0x9C, 0x00);
	a.ne = 256;
	assert_int_equal(cnie_apdu_transmit(fx->mid, &a, ca, &sw), 0);
	assert_true(sw == 0x9000 || sw == 0x6282);
	assert_int_equal(cnie_pace_run(fx->mid, cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN,
	    "123456", 6, &sm), 0);
	assert_int_equal(cnie_sm_transport_new(fx->mid, sm, &fx->sm), 0);
	cnie_buf_free(&ca);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;

	cnie_transport_free(&fx->sm);
	cnie_transport_free(&fx->mid);
	cnie_transport_free(&fx->card);
	free(fx);
	return 0;
}

static int
select_icao(cnie_transport *t, uint16_t *sw)
{
	cnie_apdu a;
	cnie_buf *b = cnie_buf_new();
	int r;

	cnie_apdu_init(&a, 0x00, 0xA4, 0x04, 0x0C);
	a.data = icao_aid;
	a.nc = sizeof(icao_aid);
	r = cnie_apdu_transmit(t, &a, b, sw);
	cnie_buf_free(&b);
	return r;
}

/* READ BINARY of EF.COM (SFI 30) inside SM gives the 60-tag file. */
static void
test_select_and_read(void **state)
{
	fixture *fx = *state;
	cnie_buf *b = cnie_buf_new();
	cnie_apdu a;
	uint16_t sw = 0;

	assert_int_equal(select_icao(fx->sm, &sw), 0);
	assert_int_equal(sw, 0x9000);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x9E, 0x00);
	a.ne = 4;
	assert_int_equal(cnie_apdu_transmit(fx->sm, &a, b, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(b), 4);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x60);
	assert_int_equal(cnie_buf_ptr(b)[1], 26 - 2); /* the file is 26 bytes */
	cnie_buf_free(&b);
}

/*
 * A read larger than a short protected answer: 1000 bytes of DG2 in one
 * extended command (the refcard path is extended), then 6282 at the end.
 */
static void
test_large_read(void **state)
{
	fixture *fx = *state;
	cnie_buf *b = cnie_buf_new();
	cnie_apdu a;
	uint16_t sw = 0;

	assert_int_equal(select_icao(fx->sm, &sw), 0);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x82, 0x00);
	a.ne = 1000;
	assert_int_equal(cnie_apdu_transmit(fx->sm, &a, b, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(b), 1000);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x75);
	cnie_buf_reset(b);
	/* Offset 7400 of the 7472-byte file: 72 bytes, end of file. */
	cnie_apdu_init(&a, 0x00, 0xB0, 7400 >> 8, 7400 & 0xFF);
	a.ne = 200;
	assert_int_equal(cnie_apdu_transmit(fx->sm, &a, b, &sw), 0);
	assert_int_equal(sw, 0x6282);
	assert_int_equal(cnie_buf_len(b), 72);
	cnie_buf_free(&b);
}

/* Caps: extended path keeps extended; max_resp leaves room for DO 87/99/8E. */
static void
test_caps(void **state)
{
	fixture *fx = *state;
	const cnie_transport_caps *c = cnie_transport_get_caps(fx->sm);

	assert_true(c->extended);
	assert_true(c->contactless);
	/* 65536 protected: 87 83 xx xx xx 01 + 65504 padded + 14 → 65503 plain + SW. */
	assert_int_equal(c->max_resp, 65503 + 2);
	assert_true(c->max_cmd < cnie_transport_get_caps(fx->card)->max_cmd);
}

/* A short-only inner path: 223 plain bytes per answer (sm.h), 61xx fetched. */
static void
test_short_path_caps_and_61xx(void **state)
{
	fixture *fx = *state;
	cnie_transport_caps caps = *cnie_transport_get_caps(fx->mid);
	cnie_transport *sm2 = NULL;
	cnie_sm *sm = NULL;
	cnie_buf *ca = cnie_buf_new(), *b = cnie_buf_new();
	cnie_apdu a;
	uint16_t sw = 0;

	caps.extended = false;
	caps.max_cmd = 261;
	caps.max_resp = 258;
	assert_int_equal(cnie_transport_set_caps(fx->mid, &caps), 0);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x9C, 0x00);
	a.ne = 256;
	assert_int_equal(cnie_apdu_transmit(fx->mid, &a, ca, &sw), 0);
	assert_int_equal(cnie_pace_run(fx->mid, cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN,
	    "123456", 6, &sm), 0);
	assert_int_equal(cnie_sm_transport_new(fx->mid, sm, &sm2), 0);
	assert_false(cnie_transport_get_caps(sm2)->extended);
	assert_int_equal(cnie_transport_get_caps(sm2)->max_resp, 223 + 2);
	assert_int_equal(cnie_transport_get_caps(sm2)->max_cmd, 4 + 1 + 223);
	assert_int_equal(select_icao(sm2, &sw), 0);
	assert_int_equal(sw, 0x9000);
	/* 256 plain bytes do not fit one short protected answer: 61xx inside. */
	cnie_apdu_init(&a, 0x00, 0xB0, 0x82, 0x00);
	a.ne = 256;
	assert_int_equal(cnie_apdu_transmit(sm2, &a, b, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(b), 256);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x75);
	cnie_transport_free(&sm2);
	cnie_buf_free(&ca);
	cnie_buf_free(&b);
}

/* A flipped MAC byte: CNIE_ERR_SM, and every later command too. */
static void
test_bad_mac_kills_session(void **state)
{
	fixture *fx = *state;
	uint16_t sw = 0;

	assert_int_equal(select_icao(fx->sm, &sw), 0);
	fx->f->armed = 1;
	assert_int_equal(select_icao(fx->sm, &sw), CNIE_ERR_SM);
	fx->f->armed = 0;
	assert_int_equal(select_icao(fx->sm, &sw), CNIE_ERR_SM);
}

/* After a reset the card has no session: CNIE_ERR_LOGIN_LOST. */
static void
test_reset_loses_session(void **state)
{
	fixture *fx = *state;
	uint16_t sw = 0;

	assert_int_equal(select_icao(fx->sm, &sw), 0);
	assert_int_equal(cnie_transport_reset(fx->sm, false), 0);
	assert_int_equal(select_icao(fx->sm, &sw), CNIE_ERR_LOGIN_LOST);
}

static void
test_new_bad_args(void **state)
{
	fixture *fx = *state;
	cnie_transport *t = (cnie_transport *)1;
	cnie_sm *sm = NULL;
	uint8_t k[16] = { 0 };

	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, k, k, 16, NULL, 0, &sm), 0);
	/* sm is taken over (freed) on failure too: ASan checks the leak. */
	assert_int_equal(cnie_sm_transport_new(NULL, sm, &t), CNIE_ERR_INVALID_ARG);
	assert_null(t);
	assert_int_equal(cnie_sm_transport_new(fx->card, NULL, &t), CNIE_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_path_caps_and_61xx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mac_kills_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_loses_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
