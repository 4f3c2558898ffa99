/*
 * Fault injection into the card layer (src/libcnie/card.c and what it
 * uses: APDUs, PKCS#15, PACE, secure messaging; tests/common/fault.h) on
 * the in-process reference card: open, PIN verify and a signature (ECDSA
 * on the EC card over the contact interface and over the contactless one:
 * PACE with the CAN, then everything inside secure messaging; RSA-PSS on
 * the RSA card).  Every allocation and
 * OpenSSL/OpenPACE call of the library fails once in turn; the card's own
 * side (the emulator behind the transport) runs with faults paused, as it
 * stands for the card.  Each run must end in an error, or in a signature
 * that verifies with the card's certificate, and never in a PIN verdict.
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
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cnie/buf.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/refcard.h>
#include <cnie/transport.h>

#include "fault.h"
#include "unitutil.h"

/* ---- the card's side, outside the fault schedule ------------------------- */

/* A transport that forwards to the reference card with faults paused. */
static int
card_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	cnie_buf *b;
	int r;

	fault_pause();
	b = cnie_buf_new();
	r = b == NULL ? CNIE_ERR_NOMEM : cnie_transport_transmit(ctx, cmd, n, 0, b);
	if (r == 0 && cnie_buf_len(b) > *resp_len)
		r = CNIE_ERR_BUFFER_TOO_SMALL;
	if (r == 0) {
		memcpy(resp, cnie_buf_ptr(b), cnie_buf_len(b));
		*resp_len = cnie_buf_len(b);
	}
	cnie_buf_free(&b);
	fault_resume();
	return r;
}

#define PAUSED(call)                                                           \
	do {                                                                   \
		int r_;                                                        \
		fault_pause();                                                 \
		r_ = (call);                                                   \
		fault_resume();                                                \
		return r_;                                                     \
	} while (0)

static int card_begin(void *ctx) { PAUSED(cnie_transport_begin(ctx)); }
static int card_end(void *ctx) { PAUSED(cnie_transport_end(ctx)); }
static int card_reset(void *ctx, bool unpower) { PAUSED(cnie_transport_reset(ctx, unpower)); }
static int card_reconnect(void *ctx) { PAUSED(cnie_transport_reconnect(ctx)); }
static int card_atr(void *ctx, uint8_t *atr, size_t *n) { PAUSED(cnie_transport_atr(ctx, atr, n)); }

static void
card_free(void *ctx)
{
	cnie_transport *t = ctx;

	fault_pause();
	cnie_transport_free(&t);
	fault_resume();
}

static const cnie_transport_ops card_ops = {
	.transmit = card_transmit,
	.begin = card_begin,
	.end = card_end,
	.reset = card_reset,
	.reconnect = card_reconnect,
	.atr = card_atr,
	.free = card_free,
};

/* A fresh reference card behind the pausing transport. */
static cnie_transport *
card_power_up(const char *card, const char *state, bool contactless)
{
	char dir[PATH_MAX];
	cnie_transport *inner = NULL, *t = NULL;

	fault_pause();
	snprintf(dir, sizeof(dir), "%s/cards/%s", tu_build_dir(), card);
	(void)unlink(state);
	assert_int_equal(cnie_refcard_open(dir, state, contactless, &inner), 0);
	assert_int_equal(cnie_transport_new(&card_ops, inner, cnie_transport_get_caps(inner),
	    "fault", &t), 0);
	fault_resume();
	return t;
}

/* ---- the scenario -------------------------------------------------------- */

typedef struct scenario {
	const char *card;	/* "ec": ECDSA, "rsa": RSA-PSS */
	char state[PATH_MAX];
	bool contactless;
} scenario;

static const uint8_t hash[32] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

/* sig (DER ECDSA, or RSA-PSS with SHA-256) over hash verifies with the certificate der. */
static bool
verifies(bool rsa, const uint8_t *der, size_t der_len, const uint8_t *sig, size_t sig_len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)der_len);
	EVP_PKEY_CTX *ctx = NULL;
	bool ok = false;

	if (x != NULL && (ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL)) != NULL &&
	    EVP_PKEY_verify_init(ctx) == 1 &&
	    (!rsa || (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)sizeof(hash)) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)))
		ok = EVP_PKEY_verify(ctx, sig, sig_len, hash, sizeof(hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	return ok;
}

static int
open_verify_sign(void *arg)
{
	scenario *s = arg;
	bool rsa = strcmp(s->card, "rsa") == 0;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, CNIE_CARD_SIG_ECDSA_DER };
	cnie_card_key_type want = rsa ? CNIE_CARD_KEY_RSA : CNIE_CARD_KEY_EC;
	cnie_transport *t = card_power_up(s->card, s->state, s->contactless);
	cnie_card *c = NULL;
	cnie_card_key_info k;
	const uint8_t *der;
	uint8_t sig[256];
	size_t n, i, sl = sizeof(sig), dl;
	int r, tries = -1;

	if (rsa) {
		m.type = CNIE_CARD_MECH_RSA_PSS;
		m.flags = 0;
	}
	/* t is the card's from here, also on failure. */
	if ((r = cnie_card_open_ex(t, s->contactless ? "123456" : NULL, &c)) != 0)
		goto out;
	if ((r = cnie_card_key_count(c, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = cnie_card_get_key(c, i, &k)) != 0)
			goto out;
		if (k.type == want && !k.always_pin)
			break;
	}
	if (i == n) {
		r = FAULT_RUN_WRONG; /* the card has such a key */
		goto out;
	}
	if ((r = cnie_card_pin_verify(c, "1234", &tries)) != 0 ||
	    (r = cnie_card_sign(c, k.id, k.id_len, &m, hash, sizeof(hash), sig, &sl)) != 0 ||
	    (r = cnie_card_certificate(c, k.id, k.id_len, &der, &dl)) != 0)
		goto out;
	fault_pause();
	r = verifies(rsa, der, dl, sig, sl) ? FAULT_RUN_OK : FAULT_RUN_WRONG;
	fault_resume();
out:
	cnie_card_free(&c);
	return r;
}

/*
 * After a failure, the session goes on: the card is opened (with PACE)
 * outside the schedule, then PIN verify and the signature run under it;
 * whatever failed, a second verify and signature without faults on the
 * same card object must succeed (a failure on our side must not leave the
 * secure messaging counters out of step with the card's).
 */
typedef struct session {
	scenario s;
	cnie_card *c;
	cnie_card_key_info k;
	unsigned long recovered, lost; /* follow-ups that worked / that did not */
	int lost_err;
} session;

static int
verify_sign(session *x, bool *verified)
{
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, CNIE_CARD_SIG_ECDSA_DER };
	const uint8_t *der;
	uint8_t sig[256];
	size_t sl = sizeof(sig), dl;
	int r;

	*verified = false;
	if ((r = cnie_card_pin_verify(x->c, "1234", NULL)) != 0 ||
	    (r = cnie_card_sign(x->c, x->k.id, x->k.id_len, &m, hash, sizeof(hash), sig,
	    &sl)) != 0 ||
	    (r = cnie_card_certificate(x->c, x->k.id, x->k.id_len, &der, &dl)) != 0)
		return r;
	fault_pause();
	*verified = verifies(false, der, dl, sig, sl);
	fault_resume();
	return 0;
}

static int
session_run(void *arg)
{
	session *x = arg;
	cnie_transport *t;
	bool ok;
	size_t n, i;
	int r, again;

	fault_pause();
	t = card_power_up("ec", x->s.state, true);
	assert_int_equal(cnie_card_open_ex(t, "123456", &x->c), 0);
	assert_int_equal(cnie_card_key_count(x->c, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(cnie_card_get_key(x->c, i, &x->k), 0);
		if (x->k.type == CNIE_CARD_KEY_EC && !x->k.always_pin)
			break;
	}
	assert_true(i < n);
	fault_resume();

	r = verify_sign(x, &ok);
	if (r == 0 && !ok)
		r = FAULT_RUN_WRONG;

	fault_pause();
	if (fault_injected()) {
		again = verify_sign(x, &ok);
		if (again == 0 && ok) {
			x->recovered++;
		} else {
			if (x->lost++ < 8)
				printf("  card-contactless-session: after %s failed (call %lu): %s\n",
				    fault_injected_name(), fault_failed_at(), cnie_strerror(again));
			x->lost_err = again;
		}
	}
	cnie_card_free(&x->c);
	fault_resume();
	return r;
}

static void
sweep(const char *name, const char *card, bool contactless)
{
	char tmpl[] = "/tmp/cnie-fault-XXXXXX";
	scenario s;
	fault_report rep;

	assert_non_null(mkdtemp(tmpl));
	snprintf(s.state, sizeof(s.state), "%s/state.json", tmpl);
	s.card = card;
	s.contactless = contactless;
	fault_sweep(name, open_verify_sign, &s, &rep);
	assert_true(rep.errors > 0);
	(void)unlink(s.state);
	assert_int_equal(rmdir(tmpl), 0);
}

static void
test_contact_open_verify_sign_fails_cleanly(void **state)
{
	(void)state;
	sweep("card-contact", "ec", false);
}

static void
test_contactless_pace_verify_sign_fails_cleanly(void **state)
{
	(void)state;
	sweep("card-contactless", "ec", true);
}

static void
test_contactless_session_survives_a_fault(void **state)
{
	char tmpl[] = "/tmp/cnie-fault-XXXXXX";
	session x;
	fault_report rep;

	(void)state;
	memset(&x, 0, sizeof(x));
	assert_non_null(mkdtemp(tmpl));
	snprintf(x.s.state, sizeof(x.s.state), "%s/state.json", tmpl);
	fault_sweep("card-contactless-session", session_run, &x, &rep);
	printf("  card-contactless-session: after the failure, verify and sign again: %lu "
	    "worked, %lu did not (last: %s)\n", x.recovered, x.lost,
	    x.lost ? cnie_strerror(x.lost_err) : "-");
	(void)unlink(x.s.state);
	assert_int_equal(rmdir(tmpl), 0);
	assert_int_equal(x.lost, 0);
}

static void
test_rsa_open_verify_sign_pss_fails_cleanly(void **state)
{
	(void)state;
	sweep("card-rsa-pss", "rsa", false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contact_open_verify_sign_fails_cleanly),
		cmocka_unit_test(test_contactless_pace_verify_sign_fails_cleanly),
		cmocka_unit_test(test_rsa_open_verify_sign_pss_fails_cleanly),
		cmocka_unit_test(test_contactless_session_survives_a_fault),
	};

	/* Every run reads the card; the cache would make later runs differ. */
	setenv("CNIE_NO_CACHE", "1", 1);
	cnie_log_set_level(CNIE_LOG_NONE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
