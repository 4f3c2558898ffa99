/*
 * Card side of the ICAO protocols (drivers/emu/emu_auth.c): the App. G.1
 * PACE example replayed from the card (exact answers to every step, T_PICC,
 * the session keys), App. D BAC from the card, PACE and BAC against
 * libcnie's terminal code, Chip Authentication (session switch after the
 * answer), Active Authentication (RSA ISO 9796-2 and ECDSA plain, verified
 * here independently), and the status words of every refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cnie/apdu.h>
#include <cnie/bac.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/sm.h>

#include "emu_auth.h"

#include "unitutil.h"

#define G1_CARD_ACCESS "31143012060A04007F0007020204020202010202010D"
#define G1_MRZ                                                                                   \
	"I<D<<T220001293<<<<<<<<<<<<<<<\n6408125F1010318D<<<<<<<<<<<<<4\n"                  \
	"MUSTERMANN<<ERIKA<<<<<<<<<<<<<\n"
#define D_MRZ                                                                                    \
	"I<UTOL898902C<3<<<<<<<<<<<<<<<6908061F9406236UTO<<<<<<<<<<<0"                      \
	"ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
/* DG14 with one ChipAuthenticationInfo: id-CA-ECDH-AES-CBC-CMAC-128, version 1. */
#define DG14 "6E133111300F060A04007F00070202030202020101"

/* ---- deterministic card randomness: queued bytes, then a counter ------ */

typedef struct q_rng {
	uint8_t q[256];
	size_t len, pos;
	uint8_t ctr;
} q_rng;

static int
q_rng_fn(void *arg, uint8_t *out, size_t n)
{
	q_rng *r = arg;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = r->pos < r->len ? r->q[r->pos++] : (uint8_t)(0x5A + r->ctr++);
	return 0;
}

static void
q_push(q_rng *r, const char *h)
{
	cnie_buf *b = tu_hex(h);

	assert_true(r->len + cnie_buf_len(b) <= sizeof(r->q));
	memcpy(r->q + r->len, cnie_buf_ptr(b), cnie_buf_len(b));
	r->len += cnie_buf_len(b);
	cnie_buf_free(&b);
}

typedef struct fixture {
	q_rng rng;
	cnie_buf *ca, *dg14;
	emu_auth_cfg cfg;
	emu_auth *a;
	cnie_buf *resp;
} fixture;

static void
fx_init(fixture *f, const char *mrz, EVP_PKEY *aa, EVP_PKEY *ca)
{
	memset(f, 0, sizeof(*f));
	f->ca = tu_hex(G1_CARD_ACCESS);
	f->dg14 = tu_hex(DG14);
	f->cfg.can = "123456";
	f->cfg.mrz = mrz;
	f->cfg.card_access = cnie_buf_ptr(f->ca);
	f->cfg.card_access_len = cnie_buf_len(f->ca);
	f->cfg.aa_key = aa;
	f->cfg.ca_key = ca;
	f->cfg.dg14 = cnie_buf_ptr(f->dg14);
	f->cfg.dg14_len = cnie_buf_len(f->dg14);
	f->cfg.rng = q_rng_fn;
	f->cfg.rng_arg = &f->rng;
	assert_int_equal(emu_auth_new(&f->cfg, &f->a), 0);
	f->resp = cnie_buf_new();
}

static void
fx_free(fixture *f)
{
	emu_auth_free(&f->a);
	assert_null(f->a);
	cnie_buf_free(&f->ca);
	cnie_buf_free(&f->dg14);
	cnie_buf_free(&f->resp);
}

/* Sends a hex APDU; returns the handler's result, *sw the status word. */
static int
send_apdu(fixture *f, const char *apdu_hex, bool icao, uint16_t *sw)
{
	cnie_buf *b = tu_hex(apdu_hex);
	cnie_apdu a;
	int r;

	assert_int_equal(cnie_apdu_decode(cnie_buf_ptr(b), cnie_buf_len(b), &a, NULL), 0);
	cnie_buf_reset(f->resp);
	*sw = 0;
	r = emu_auth_handle(f->a, &a, icao, f->resp, sw);
	cnie_buf_free(&b);
	return r;
}

static void
expect(fixture *f, const char *apdu_hex, uint16_t want_sw, const char *want_resp)
{
	uint16_t sw;

	assert_int_equal(send_apdu(f, apdu_hex, true, &sw), 1);
	assert_int_equal(sw, want_sw);
	tu_assert_hex(cnie_buf_ptr(f->resp), cnie_buf_len(f->resp), want_resp);
}

#define G1_GA2                                                                                   \
	"10860000457C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"  \
	"544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D00"
#define G1_GA3                                                                                   \
	"10860000457C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"  \
	"3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB3646200"

/* G.1 up to the token step, card secrets from the example. */
static void
g1_to_tokens(fixture *f)
{
	q_push(&f->rng, "3F00C4D39D153F2B2A214A078D899B22");
	q_push(&f->rng, "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560");
	q_push(&f->rng, "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A");
	emu_auth_set_deterministic(f->a, true);
	expect(f, "0022C1A412800A04007F0007020204020283010184010D", 0x9000, "");
	expect(f, "10860000027C0000", 0x9000, "7C12801095A3A016522EE98D01E76CB6B98B42C3");
	expect(f, G1_GA2, 0x9000,
	    "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
	    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54");
	expect(f, G1_GA3, 0x9000,
	    "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
	    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094");
	assert_null(emu_auth_sm(f->a));
}

/* 9303-11 App. G.1 from the card: every answer byte for byte, then KSenc/KSmac. */
static void
test_g1_card_side(void **state)
{
	fixture f;
	cnie_buf *e = tu_hex("F5F0E35C0D7161EE6724EE513A0D9A7F"),
		 *m = tu_hex("FE251C7858B356B24514B3BD5F4297D1"), *p = cnie_buf_new(),
		 *plain = cnie_buf_new();
	cnie_sm *term = NULL;
	static const uint8_t fid[] = { 0x01, 0x1E };
	cnie_apdu a;

	(void)state;
	fx_init(&f, G1_MRZ, NULL, NULL);
	g1_to_tokens(&f);
	expect(&f, "008600000C7C0A8508C2B0BD78D94BA86600", 0x9000, "7C0A86083ABB9674BCE93C08");
	assert_non_null(emu_auth_sm(f.a));
	assert_true(emu_auth_pace_done(f.a));
	assert_int_equal(cnie_sm_get_cipher(emu_auth_sm(f.a)), CNIE_SM_AES128);

	/* The card's session has the example's keys: exact AES SM bytes. */
	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, cnie_buf_ptr(e), cnie_buf_ptr(m), 16, NULL, 0,
			     &term),
	    0);
	cnie_apdu_init(&a, 0x00, 0xA4, 0x02, 0x0C);
	a.data = fid;
	a.nc = sizeof(fid);
	assert_int_equal(cnie_sm_wrap_command(term, &a, p), 0);
	assert_int_equal(cnie_sm_unwrap_command(emu_auth_sm(f.a), cnie_buf_ptr(p), cnie_buf_len(p),
			     plain),
	    0);
	tu_assert_hex(cnie_buf_ptr(plain), cnie_buf_len(plain), "00A4020C02011E");
	cnie_buf_reset(p);
	assert_int_equal(cnie_sm_wrap_response(emu_auth_sm(f.a), NULL, 0, 0x9000, p), 0);
	tu_assert_hex(cnie_buf_ptr(p), cnie_buf_len(p), "990290008E08BEA7B381C494A0799000");

	emu_auth_drop_sm(f.a);
	assert_null(emu_auth_sm(f.a));
	assert_false(emu_auth_pace_done(f.a));
	cnie_sm_free(&term);
	cnie_buf_free(&e);
	cnie_buf_free(&m);
	cnie_buf_free(&p);
	cnie_buf_free(&plain);
	fx_free(&f);
}

/* A wrong T_PCD: 6300, no session, the run is over (next GA: 6985). */
static void
test_g1_wrong_terminal_token(void **state)
{
	fixture f;

	(void)state;
	fx_init(&f, G1_MRZ, NULL, NULL);
	g1_to_tokens(&f);
	expect(&f, "008600000C7C0A8508C2B0BD78D94BA86700", 0x6300, "");
	assert_null(emu_auth_sm(f.a));
	expect(&f, "008600000C7C0A8508C2B0BD78D94BA86600", 0x6985, "");
	fx_free(&f);
}

/* libcnie's PACE terminal against the card; then both sessions agree. */
static int
run_pace(fixture *f, cnie_pace_secret type, const char *secret, cnie_sm **sm)
{
	cnie_pace *p = NULL;
	cnie_apdu cmd;
	uint16_t sw = 0;
	bool done = false;
	int r, i;

	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(f->ca), cnie_buf_len(f->ca), type,
			     secret, strlen(secret), &p),
	    0);
	cnie_buf_reset(f->resp);
	for (i = 0; i < 6; i++) {
		if ((r = cnie_pace_terminal_next(p, cnie_buf_ptr(f->resp), cnie_buf_len(f->resp), sw,
			 &cmd, &done)) != 0)
			break;
		if (done) {
			r = cnie_pace_terminal_take_sm(p, sm);
			break;
		}
		cnie_buf_reset(f->resp);
		assert_int_equal(emu_auth_handle(f->a, &cmd, true, f->resp, &sw), 1);
	}
	cnie_pace_terminal_free(&p);
	return r;
}

static void
assert_sessions_agree(cnie_sm *term, cnie_sm *card)
{
	cnie_buf *p = cnie_buf_new(), *plain = cnie_buf_new();
	static const uint8_t data[] = { 1, 2, 3 };
	cnie_apdu a;
	uint16_t sw = 0;

	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 3;
	assert_int_equal(cnie_sm_wrap_command(term, &a, p), 0);
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), plain), 0);
	tu_assert_hex(cnie_buf_ptr(plain), cnie_buf_len(plain), "00B0000003");
	cnie_buf_reset(p);
	cnie_buf_reset(plain);
	assert_int_equal(cnie_sm_wrap_response(card, data, sizeof(data), 0x9000, p), 0);
	assert_int_equal(cnie_sm_unwrap_response(term, cnie_buf_ptr(p), cnie_buf_len(p), plain, &sw),
	    0);
	assert_int_equal(sw, 0x9000);
	tu_assert_hex(cnie_buf_ptr(plain), cnie_buf_len(plain), "010203");
	cnie_buf_free(&p);
	cnie_buf_free(&plain);
}

static void
test_pace_terminal_against_card(void **state)
{
	fixture f;
	cnie_sm *sm = NULL;

	(void)state;
	fx_init(&f, G1_MRZ, NULL, NULL);
	assert_int_equal(run_pace(&f, CNIE_PACE_CAN, "123456", &sm), 0);
	assert_true(emu_auth_pace_done(f.a));
	assert_sessions_agree(sm, emu_auth_sm(f.a));
	cnie_sm_free(&sm);

	/* Again with the MRZ, replacing the session. */
	assert_int_equal(run_pace(&f, CNIE_PACE_MRZ, "T22000129364081251010318", &sm), 0);
	assert_sessions_agree(sm, emu_auth_sm(f.a));
	cnie_sm_free(&sm);

	/* Wrong CAN: the card refuses the token (6300), the terminal says PACE failed. */
	emu_auth_reset(f.a);
	assert_int_equal(run_pace(&f, CNIE_PACE_CAN, "654321", &sm), CNIE_ERR_PACE);
	assert_null(sm);
	assert_null(emu_auth_sm(f.a));
	fx_free(&f);
}

/* 9303-11 App. D from the card: challenge, answer, session. */
static void
test_bac_app_d_card_side(void **state)
{
	fixture f;
	cnie_buf *p, *plain = cnie_buf_new();
	uint8_t ssc[8];
	size_t n = sizeof(ssc);
	uint16_t sw;

	(void)state;
	fx_init(&f, D_MRZ, NULL, NULL);
	q_push(&f.rng, "4608F91988702212");
	q_push(&f.rng, "0B4F80323EB3191CB04970CB4052790B");
	/* Out of sequence, and outside the ICAO application. */
	expect(&f, "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
		   "5F1448EEA8AD90A728",
	    0x6985, "");
	expect(&f, "0084000008", 0x9000, "4608F91988702212");
	assert_int_equal(send_apdu(&f, "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8"
					"799FAE2F498F76ED92F25F1448EEA8AD90A728",
			     false, &sw),
	    0);
	expect(&f, "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
		   "5F1448EEA8AD90A728",
	    0x9000,
	    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449");
	assert_non_null(emu_auth_sm(f.a));
	assert_false(emu_auth_pace_done(f.a));
	assert_int_equal(cnie_sm_get_ssc(emu_auth_sm(f.a), ssc, &n), 0);
	tu_assert_hex(ssc, n, "887022120C06C226");
	p = tu_hex("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800");
	assert_int_equal(cnie_sm_unwrap_command(emu_auth_sm(f.a), cnie_buf_ptr(p), cnie_buf_len(p),
			     plain),
	    0);
	tu_assert_hex(cnie_buf_ptr(plain), cnie_buf_len(plain), "00A4020C02011E");
	cnie_buf_free(&p);
	cnie_buf_free(&plain);
	fx_free(&f);
}

static void
test_bac_refusals(void **state)
{
	fixture f;

	(void)state;
	fx_init(&f, D_MRZ, NULL, NULL);
	expect(&f, "0084000004", 0x6700, "");
	expect(&f, "0084000008", 0x9000, "5A5B5C5D5E5F6061");
	expect(&f, "008200000401020304", 0x6700, "");
	/* Wrong cryptogram: 6300 and the challenge is used up. */
	expect(&f, "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
		   "5F1448EEA8AD90A728",
	    0x6300, "");
	expect(&f, "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
		   "5F1448EEA8AD90A728",
	    0x6985, "");
	assert_null(emu_auth_sm(f.a));
	fx_free(&f);
}

/* libcnie's BAC terminal against the card (random values). */
static void
test_bac_terminal_against_card(void **state)
{
	fixture f;
	cnie_bac *b = NULL;
	cnie_sm *sm = NULL;
	uint8_t rnd_ic[8], auth[40];
	static const uint8_t rnd_ifd[8] = { 8, 7, 6, 5, 4, 3, 2, 1 }, k_ifd[16] = { 3 };
	cnie_apdu a;
	uint16_t sw;

	(void)state;
	fx_init(&f, D_MRZ, NULL, NULL);
	expect(&f, "0084000008", 0x9000, "5A5B5C5D5E5F6061");
	memcpy(rnd_ic, cnie_buf_ptr(f.resp), 8);
	assert_int_equal(cnie_bac_new("L898902C<369080619406236", &b), 0);
	assert_int_equal(cnie_bac_terminal_auth(b, rnd_ic, rnd_ifd, k_ifd, auth), 0);
	cnie_apdu_init(&a, 0x00, 0x82, 0x00, 0x00);
	a.data = auth;
	a.nc = sizeof(auth);
	a.ne = 40;
	cnie_buf_reset(f.resp);
	assert_int_equal(emu_auth_handle(f.a, &a, true, f.resp, &sw), 1);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_bac_terminal_finish(b, cnie_buf_ptr(f.resp), cnie_buf_len(f.resp), &sm),
	    0);
	assert_sessions_agree(sm, emu_auth_sm(f.a));
	cnie_sm_free(&sm);
	cnie_bac_free(&b);
	fx_free(&f);
}

/* Chip Authentication: 7C 00 under the old session, the new one afterwards. */
static void
test_chip_authentication(void **state)
{
	fixture f;
	EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	EVP_PKEY_CTX *dc = NULL;
	cnie_sm *old, *term = NULL, *bac_sm = NULL;
	cnie_buf *cmd = cnie_buf_new(), *w = cnie_buf_new();
	uint8_t pub[65], k[32], kenc[16], kmac[16];
	size_t publen = 0, klen = sizeof(k);
	cnie_apdu a;
	uint16_t sw;

	(void)state;
	assert_non_null(ca);
	assert_non_null(eph);
	fx_init(&f, G1_MRZ, NULL, ca);
	/* Not before a secure channel exists. */
	expect(&f, "002241A40C800A04007F00070202030202", 0x6982, "");
	assert_int_equal(run_pace(&f, CNIE_PACE_CAN, "123456", &bac_sm), 0);
	/* An OID that DG14 does not list. */
	expect(&f, "002241A40C800A04007F00070202030204", 0x6A88, "");
	expect(&f, "002241A40C800A04007F00070202030202", 0x9000, "");

	assert_int_equal(EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, pub,
			     sizeof(pub), &publen),
	    1);
	assert_int_equal(publen, 65);
	assert_int_equal(cnie_buf_put(cmd, "\x7C\x43\x80\x41", 4), 0);
	assert_int_equal(cnie_buf_put(cmd, pub, publen), 0);
	cnie_apdu_init(&a, 0x00, 0x86, 0x00, 0x00);
	a.data = cnie_buf_ptr(cmd);
	a.nc = cnie_buf_len(cmd);
	a.ne = 256;
	old = emu_auth_sm(f.a);
	cnie_buf_reset(f.resp);
	assert_int_equal(emu_auth_handle(f.a, &a, true, f.resp, &sw), 1);
	assert_int_equal(sw, 0x9000);
	tu_assert_hex(cnie_buf_ptr(f.resp), cnie_buf_len(f.resp), "7C00");
	assert_ptr_not_equal(emu_auth_sm(f.a), old);
	/* The core still wraps this answer with the old session (must be alive). */
	assert_int_equal(cnie_sm_wrap_response(old, cnie_buf_ptr(f.resp), cnie_buf_len(f.resp), sw,
			     w),
	    0);

	/* The terminal's side: K = x(SK.PCD * PK.PICC), KDF(K, 1/2), SSC 0. */
	assert_non_null(dc = EVP_PKEY_CTX_new(eph, NULL));
	assert_int_equal(EVP_PKEY_derive_init(dc), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(dc, ca), 1);
	assert_int_equal(EVP_PKEY_derive(dc, k, &klen), 1);
	assert_int_equal(cnie_sm_kdf(CNIE_SM_AES128, k, klen, 1, kenc, 16), 0);
	assert_int_equal(cnie_sm_kdf(CNIE_SM_AES128, k, klen, 2, kmac, 16), 0);
	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, kenc, kmac, 16, NULL, 0, &term), 0);
	assert_sessions_agree(term, emu_auth_sm(f.a));

	/* GA with a point not on the curve. */
	expect(&f, "002241A40C800A04007F00070202030202", 0x9000, "");
	pub[64] ^= 1;
	cnie_buf_reset(cmd);
	assert_int_equal(cnie_buf_put(cmd, "\x7C\x43\x80\x41", 4), 0);
	assert_int_equal(cnie_buf_put(cmd, pub, publen), 0);
	a.data = cnie_buf_ptr(cmd);
	cnie_buf_reset(f.resp);
	assert_int_equal(emu_auth_handle(f.a, &a, true, f.resp, &sw), 1);
	assert_int_equal(sw, 0x6A80);

	EVP_PKEY_CTX_free(dc);
	cnie_sm_free(&term);
	cnie_sm_free(&bac_sm);
	cnie_buf_free(&cmd);
	cnie_buf_free(&w);
	fx_free(&f);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(eph);
}

/* RSA AA: ISO/IEC 9796-2 scheme 1 with SHA-1, checked with the public key. */
static void
test_active_auth_rsa(void **state)
{
	fixture f;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY_CTX *pc;
	BIGNUM *n = NULL, *j = NULL;
	uint8_t rec[256], h[20], m[256 + 8];
	size_t rl = sizeof(rec);
	static const uint8_t chal[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	uint16_t sw;

	(void)state;
	assert_non_null(key);
	fx_init(&f, G1_MRZ, key, NULL);
	assert_int_equal(send_apdu(&f, "00880000080102030405060708 00", false, &sw), 0);
	expect(&f, "008800000401020304 00", 0x6700, "");
	assert_int_equal(send_apdu(&f, "00880000080102030405060708 00", true, &sw), 1);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(f.resp), 256);

	assert_non_null(pc = EVP_PKEY_CTX_new(key, NULL));
	assert_int_equal(EVP_PKEY_verify_recover_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_verify_recover(pc, rec, &rl, cnie_buf_ptr(f.resp), 256), 1);
	assert_int_equal(rl, 256);
	if (rec[255] != 0xBC) {
		/* The card sent n - s: J = n - rec. */
		assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
		assert_non_null(j = BN_bin2bn(rec, 256, NULL));
		assert_int_equal(BN_sub(j, n, j), 1);
		assert_int_equal(BN_bn2binpad(j, rec, 256), 256);
	}
	assert_int_equal(rec[0], 0x6A);
	assert_int_equal(rec[255], 0xBC);
	memcpy(m, rec + 1, 256 - 22);
	memcpy(m + 256 - 22, chal, 8);
	assert_int_equal(EVP_Digest(m, 256 - 22 + 8, h, NULL, EVP_sha1(), NULL), 1);
	assert_memory_equal(h, rec + 256 - 21, 20);
	/* M1 came from the card's rng (queue empty: the counter). */
	assert_int_equal(rec[1], 0x5A);

	EVP_PKEY_CTX_free(pc);
	BN_free(n);
	BN_free(j);
	fx_free(&f);
	EVP_PKEY_free(key);
}

/* EC AA: ECDSA-SHA-256, plain r || s, verified with the public key. */
static void
test_active_auth_ec(void **state)
{
	fixture f;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = ECDSA_SIG_new();
	uint8_t *der = NULL;
	static const uint8_t chal[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	int dl;
	uint16_t sw;

	(void)state;
	fx_init(&f, G1_MRZ, key, NULL);
	assert_int_equal(send_apdu(&f, "00880000080807060504030201 00", true, &sw), 1);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(f.resp), 64);
	assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(cnie_buf_ptr(f.resp), 32, NULL),
			     BN_bin2bn(cnie_buf_ptr(f.resp) + 32, 32, NULL)),
	    1);
	assert_true((dl = i2d_ECDSA_SIG(es, &der)) > 0);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)dl, chal, sizeof(chal)), 1);
	/* A different challenge does not verify. */
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)dl, chal, 7), 0);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	fx_free(&f);
	EVP_PKEY_free(key);
}

/* Commands that are not ours, and PACE refusals. */
static void
test_dispatch_and_pace_refusals(void **state)
{
	fixture f;
	uint16_t sw;

	(void)state;
	fx_init(&f, NULL, NULL, NULL);
	assert_int_equal(send_apdu(&f, "00B0000004", true, &sw), 0);
	assert_int_equal(send_apdu(&f, "002241B6060102030405 06", true, &sw), 0);
	assert_int_equal(send_apdu(&f, "8084000008", true, &sw), 0);
	assert_int_equal(send_apdu(&f, "00880000080102030405060708 00", true, &sw), 0); /* no AA key */
	expect(&f, "10860000027C0000", 0x6985, "");
	expect(&f, "10860100027C0000", 0x6A86, "");
	/* MRZ password on a card without MRZ; PIN; unknown OID; malformed data. */
	expect(&f, "0022C1A412800A04007F0007020204020283010184010D", 0x6A88, "");
	expect(&f, "0022C1A412800A04007F0007020204020283010384010D", 0x6A88, "");
	expect(&f, "0022C1A412800A04007F0007020204020383010284010D", 0x6A88, "");
	expect(&f, "0022C1A412800A04007F0007020204020283010284010E", 0x6A88, "");
	expect(&f, "0022C1A403830102", 0x6A80, "");
	expect(&f, "0022C1A40580FF010203", 0x6A80, "");
	/* A good MSE, then a step-1 GA with content: 6A80 and the run is reset. */
	expect(&f, "0022C1A412800A04007F0007020204020283010284010D", 0x9000, "");
	expect(&f, "10860000047C02800000", 0x6A80, "");
	expect(&f, "10860000027C0000", 0x6985, "");
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g1_card_side),
		cmocka_unit_test(test_g1_wrong_terminal_token),
		cmocka_unit_test(test_pace_terminal_against_card),
		cmocka_unit_test(test_bac_app_d_card_side),
		cmocka_unit_test(test_bac_refusals),
		cmocka_unit_test(test_bac_terminal_against_card),
		cmocka_unit_test(test_chip_authentication),
		cmocka_unit_test(test_active_auth_rsa),
		cmocka_unit_test(test_active_auth_ec),
		cmocka_unit_test(test_dispatch_and_pace_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
