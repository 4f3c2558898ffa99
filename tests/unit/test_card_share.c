/*
 * Two clients on one card (src/libcnie/card.c transactions,
 * docs/card-profile.md 9), in process: two cnie_card objects share one
 * reference card the way two PC/SC connections share a reader, and a
 * second client changes the card's state between the first one's calls
 * (another DF selected, the PIN status reset).  The exact APDU count of
 * each call is asserted: nothing extra for a single client, the refused
 * command and one SELECT when another client changed the DF.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cnie/buf.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/refcard.h>
#include <cnie/transport.h>

#ifndef CNIE_BUILD_DIR
#error "CNIE_BUILD_DIR must name the build directory"
#endif

#define PIN "1234"

/* One card, several connections: each wrapper forwards to the shared transport. */
typedef struct shared_card {
	cnie_transport *card; /* the reference card */
	int refs;
	int lock_holder;      /* connection holding the transaction, 0 = none */
	unsigned begins;      /* transactions taken */
} shared_card;

typedef struct conn {
	shared_card *sc;
	int id;
} conn;

static int
conn_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	conn *c = ctx;
	cnie_buf *b = cnie_buf_new();
	int r;

	if (b == NULL)
		return CNIE_ERR_NOMEM;
	/* Nobody else's APDU may run inside another connection's transaction. */
	if (c->sc->lock_holder != 0 && c->sc->lock_holder != c->id) {
		cnie_buf_free(&b);
		return CNIE_ERR_SHARING;
	}
	r = cnie_transport_transmit(c->sc->card, cmd, n, 0, b);
	if (r == 0) {
		if (cnie_buf_len(b) > *resp_len)
			r = CNIE_ERR_BUFFER_TOO_SMALL;
		else {
			memcpy(resp, cnie_buf_ptr(b), cnie_buf_len(b));
			*resp_len = cnie_buf_len(b);
		}
	}
	cnie_buf_free(&b);
	return r;
}

static int
conn_begin(void *ctx)
{
	conn *c = ctx;

	if (c->sc->lock_holder != 0)
		return CNIE_ERR_SHARING; /* single-threaded test: a held lock is a bug */
	c->sc->lock_holder = c->id;
	c->sc->begins++;
	return 0;
}

static int
conn_end(void *ctx)
{
	conn *c = ctx;

	if (c->sc->lock_holder != c->id)
		return CNIE_ERR_STATE;
	c->sc->lock_holder = 0;
	return 0;
}

static int
conn_atr(void *ctx, uint8_t *atr, size_t *n)
{
	conn *c = ctx;

	return cnie_transport_atr(c->sc->card, atr, n);
}

static void
conn_free(void *ctx)
{
	conn *c = ctx;

	if (c == NULL)
		return;
	if (--c->sc->refs == 0) {
		cnie_transport_free(&c->sc->card);
		free(c->sc);
	}
	free(c);
}

static const cnie_transport_ops conn_ops = {
	.transmit = conn_transmit,
	.begin = conn_begin,
	.end = conn_end,
	.atr = conn_atr,
	.free = conn_free,
};

typedef struct fixture {
	char dir[PATH_MAX];
	shared_card *sc;
	cnie_card *a;	    /* the client under test */
	cnie_transport *b;  /* the other client: raw APDUs */
} fixture;

static int
connect_to(fixture *f, int id, cnie_transport **out)
{
	conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return CNIE_ERR_NOMEM;
	c->sc = f->sc;
	c->id = id;
	f->sc->refs++;
	return cnie_transport_new(&conn_ops, c, cnie_transport_get_caps(f->sc->card), "shared",
	    out);
}

#define CAN "123456" /* the EC test card's (tests/cards/ec.json) */

static int
setup_iface(void **state, bool contactless)
{
	char tmpl[] = "/tmp/cnie-share-XXXXXX", cmd[3 * PATH_MAX], card[PATH_MAX + 8],
	    st[PATH_MAX + 16];
	cnie_transport *t = NULL;
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/cards/ec' '%s/card'", CNIE_BUILD_DIR, f->dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(card, sizeof(card), "%s/card", f->dir);
	snprintf(st, sizeof(st), "%s/state.json", f->dir);
	if ((f->sc = calloc(1, sizeof(*f->sc))) == NULL ||
	    cnie_refcard_open(card, st, contactless, &f->sc->card) != 0)
		return -1;
	f->sc->refs = 1; /* the fixture's own */
	if (connect_to(f, 1, &t) != 0 || cnie_card_open_ex(t, CAN, &f->a) != 0 ||
	    connect_to(f, 2, &f->b) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_iface(state, false);
}

static int
setup_contactless(void **state)
{
	return setup_iface(state, true);
}

static int
teardown(void **state)
{
	fixture *f = *state;
	shared_card *sc = f->sc;
	char cmd[PATH_MAX + 16];

	cnie_card_free(&f->a);
	cnie_transport_free(&f->b);
	if (--sc->refs == 0) {
		cnie_transport_free(&sc->card);
		free(sc);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The other client sends one APDU in its own transaction; returns its SW. */
static uint16_t
other(fixture *f, const uint8_t *apdu, size_t n)
{
	cnie_buf *b = cnie_buf_new();
	const uint8_t *p;
	uint16_t sw;

	assert_non_null(b);
	assert_int_equal(cnie_transport_begin(f->b), 0);
	assert_int_equal(cnie_transport_transmit(f->b, apdu, n, 0, b), 0);
	assert_int_equal(cnie_transport_end(f->b), 0);
	assert_true(cnie_buf_len(b) >= 2);
	p = cnie_buf_ptr(b) + cnie_buf_len(b) - 2;
	sw = (uint16_t)(p[0] << 8 | p[1]);
	cnie_buf_free(&b);
	return sw;
}

/* SELECT of the ICAO application (another DF with its own access rule). */
static const uint8_t sel_icao[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47,
	0x10, 0x01 };
/* SELECT of the MF. */
static const uint8_t sel_mf[] = { 0x00, 0xA4, 0x00, 0x0C };
/* VERIFY P1 = FF: the PIN status reset (card-profile.md 3). */
static const uint8_t logout_apdu[] = { 0x00, 0x20, 0xFF, 0x81 };

static uint64_t
apdus(fixture *f)
{
	cnie_transport_stats s;

	cnie_transport_get_stats(cnie_card_transport(f->a), &s);
	return s.apdus;
}

/*
 * The authentication key (reference 81: one VERIFY for many signatures),
 * its certificate read into memory so that signatures count their APDUs only.
 */
static void
auth_key(cnie_card *c, cnie_card_key_info *k)
{
	const uint8_t *der;
	size_t n, i, der_len;

	assert_int_equal(cnie_card_key_count(c, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(cnie_card_get_key(c, i, k), 0);
		if (k->key_ref == 0x81) {
			assert_int_equal(cnie_card_certificate(c, k->id, k->id_len, &der,
			    &der_len), 0);
			return;
		}
	}
	fail_msg("no authentication key");
}

/* Signs a fixed hash with the authentication key and checks it with the certificate. */
static int
sign_checked(cnie_card *c, const cnie_card_key_info *k)
{
	uint8_t hash[32], sig[160];
	size_t sl = sizeof(sig);
	const uint8_t *der, *p;
	size_t der_len;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256,
		CNIE_CARD_SIG_ECDSA_DER };
	EVP_PKEY_CTX *ctx;
	X509 *x;
	int r, ok;

	memset(hash, 0x42, sizeof(hash));
	if ((r = cnie_card_sign(c, k->id, k->id_len, &m, hash, sizeof(hash), sig, &sl)) != 0)
		return r;
	assert_int_equal(cnie_card_certificate(c, k->id, k->id_len, &der, &der_len), 0);
	p = der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)der_len));
	assert_non_null(ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL));
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_verify(ctx, sig, sl, hash, sizeof(hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	assert_true(ok);
	return 0;
}

/* Alone on the card: each call is one transaction and costs no extra APDU. */
static void
test_single_client_no_extra(void **state)
{
	fixture *f = *state;
	cnie_card_key_info k;
	unsigned b0;
	uint64_t n;

	auth_key(f->a, &k);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(sign_checked(f->a, &k), 0);
	n = apdus(f);
	b0 = f->sc->begins;
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(apdus(f) - n, 1); /* VERIFY */
	n = apdus(f);
	assert_int_equal(sign_checked(f->a, &k), 0);
	assert_int_equal(apdus(f) - n, 2); /* MSE:SET, PSO */
	/* Two calls with APDUs, two transactions; a call from memory takes none. */
	assert_int_equal(f->sc->begins - b0, 2);
	auth_key(f->a, &k);
	assert_int_equal(f->sc->begins - b0, 2);
	assert_int_equal(f->sc->lock_holder, 0);
}

/*
 * Another client selected another DF between our VERIFY and our signature:
 * MSE:SET is refused (6982 under the ICAO application's contact rule, 6A88
 * in the MF), the PKI application is selected again and the signature
 * works: two APDUs more than alone.
 */
static void
test_sign_after_other_df(void **state)
{
	fixture *f = *state;
	cnie_card_key_info k;
	uint64_t n;

	auth_key(f->a, &k);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(other(f, sel_icao, sizeof(sel_icao)), 0x9000);
	n = apdus(f);
	assert_int_equal(sign_checked(f->a, &k), 0);
	assert_int_equal(apdus(f) - n, 2 + 2);
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	n = apdus(f);
	assert_int_equal(sign_checked(f->a, &k), 0);
	assert_int_equal(apdus(f) - n, 2 + 2);
	/* Nobody moved: the floor again. */
	n = apdus(f);
	assert_int_equal(sign_checked(f->a, &k), 0);
	assert_int_equal(apdus(f) - n, 2);
}

/*
 * VERIFY with another DF current: refused without comparing (6A88 or the
 * other application's 6982), no try spent; after the SELECT it is the
 * first comparison.  The PIN counter is still full afterwards.
 */
static void
test_verify_after_other_df(void **state)
{
	fixture *f = *state;
	int tries = -9;
	bool blocked = true, verified = true;

	assert_int_equal(other(f, sel_icao, sizeof(sel_icao)), 0x9000);
	assert_int_equal(cnie_card_pin_verify(f->a, "9999", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2); /* one try for one wrong PIN, not two */
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(other(f, sel_icao, sizeof(sel_icao)), 0x9000);
	assert_int_equal(cnie_card_pin_status(f->a, &tries, &blocked, &verified), 0);
	assert_true(verified);
	assert_false(blocked);
}

/* Discovery and certificates read while the other client keeps moving the DF. */
static void
test_discovery_after_other_df(void **state)
{
	fixture *f = *state;
	cnie_transport *t = NULL;
	cnie_card *c = NULL;
	const uint8_t *der;
	size_t der_len, n;
	const char *serial;
	cnie_card_key_info k;

	assert_int_equal(connect_to(f, 3, &t), 0);
	assert_int_equal(cnie_card_open(t, &c), 0);
	assert_int_equal(other(f, sel_icao, sizeof(sel_icao)), 0x9000);
	assert_int_equal(cnie_card_serial(c, &serial), 0);
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	assert_int_equal(cnie_card_key_count(c, &n), 0);
	assert_true(n >= 2);
	auth_key(c, &k);
	assert_int_equal(other(f, sel_icao, sizeof(sel_icao)), 0x9000);
	assert_int_equal(cnie_card_certificate(c, k.id, k.id_len, &der, &der_len), 0);
	assert_true(der_len > 100);
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	assert_int_equal(cnie_card_pin_verify(c, PIN, NULL), 0);
	assert_int_equal(sign_checked(c, &k), 0);
	cnie_card_free(&c);
}

/*
 * Another client reset the PIN status (VERIFY P1 = FF): our signature gets
 * the card's 6982, reported as CNIE_ERR_SW_SECURITY_STATUS (never a device
 * error), and a new VERIFY makes it work again.
 */
static void
test_other_logout(void **state)
{
	fixture *f = *state;
	cnie_card_key_info k;

	auth_key(f->a, &k);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(other(f, logout_apdu, sizeof(logout_apdu)), 0x9000);
	assert_int_equal(sign_checked(f->a, &k), CNIE_ERR_SW_SECURITY_STATUS);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(sign_checked(f->a, &k), 0);
}

/*
 * Under PACE, another client's plain command ends our secure messaging
 * session (card-profile.md 6): our next call reports CNIE_ERR_CARD_RESET,
 * and cnie_card_resume with the CAN runs PACE again and nothing more
 * (MSE:SET AT and four GENERAL AUTHENTICATE); then everything works.
 */
static void
test_pace_session_ended_by_other(void **state)
{
	fixture *f = *state;
	cnie_card_key_info k;
	cnie_transport_stats s0, s1;
	bool verified = true;

	auth_key(f->a, &k);
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	assert_int_equal(cnie_card_pin_status(f->a, NULL, NULL, &verified), CNIE_ERR_CARD_RESET);
	cnie_transport_get_stats(f->sc->card, &s0);
	assert_int_equal(cnie_card_resume(f->a, CAN), 0);
	cnie_transport_get_stats(f->sc->card, &s1);
	assert_int_equal(s1.apdus - s0.apdus, 5);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(sign_checked(f->a, &k), 0);
	/* A wrong CAN: CNIE_ERR_PACE, and the right one works after it. */
	assert_int_equal(other(f, sel_mf, sizeof(sel_mf)), 0x9000);
	assert_int_equal(sign_checked(f->a, &k), CNIE_ERR_CARD_RESET);
	assert_int_equal(cnie_card_resume(f->a, "999999"), CNIE_ERR_PACE);
	assert_int_equal(cnie_card_resume(f->a, CAN), 0);
	assert_int_equal(cnie_card_pin_verify(f->a, PIN, NULL), 0);
	assert_int_equal(sign_checked(f->a, &k), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_client_no_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_after_other_df, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_after_other_df, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_after_other_df, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pace_session_ended_by_other,
		    setup_contactless, teardown),
	};

	/* Every file from the card: no on-disk cache in the way of the counts. */
	if (setenv("CNIE_NO_CACHE", "1", 1) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
