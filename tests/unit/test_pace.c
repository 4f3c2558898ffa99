/*
 * PACE terminal (src/libcnie/pace.c): the ICAO 9303-11 Appendix G.1 worked example
 * (ECDH generic mapping, brainpoolP256r1, MRZ) byte for byte — every
 * command APDU, Kpi, the decrypted nonce, the mapped generator, the shared
 * secret, KSenc/KSmac, both tokens — with the example's private keys
 * injected; the BSI worked example's nonce decryption (PIN); and the
 * failure paths of the step machine.
 *
 * OpenPACE draws its secrets from OpenSSL's RAND.  The test installs a
 * RAND_METHOD (deprecated but functional in OpenSSL 3.0) that answers every
 * draw with the one value the step needs: the private key of the step is
 * the first draw of a key generation, and the other draws of the same step
 * (coordinate blinding in the EC ladder) accept any value below the field
 * prime, which the example's keys are.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

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
#include <openssl/obj_mac.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <eac/eac.h>
#include <eac/pace.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/sm.h>

#include <cnie/pace_internal.h>

#include "unitutil.h"

#define G1_CARD_ACCESS "31143012060A04007F0007020204020202010202010D"
#define G1_MRZ_INFO "T22000129364081251010318"

/* ---- deterministic RAND ------------------------------------------------ */

static uint8_t sticky[64];
static size_t sticky_len;
static unsigned sticky_uses;
static uint8_t counter;

static int
t_bytes(unsigned char *buf, int num)
{
	int i;

	if (num < 0)
		return 0;
	/* Bounded, so a rejection-sampling loop cannot spin forever. */
	if ((size_t)num <= sticky_len && sticky_uses < 32) {
		sticky_uses++;
		memcpy(buf, sticky, (size_t)num);
		return 1;
	}
	for (i = 0; i < num; i++)
		buf[i] = (unsigned char)(0x11 + counter++);
	return 1;
}

static int
t_status(void)
{
	return 1;
}

static RAND_METHOD t_rand = {
	.bytes = t_bytes,
	.pseudorand = t_bytes,
	.status = t_status,
};

static void
rand_next(const char *h)
{
	cnie_buf *b = tu_hex(h);

	assert_true(cnie_buf_len(b) <= sizeof(sticky));
	memcpy(sticky, cnie_buf_ptr(b), cnie_buf_len(b));
	sticky_len = cnie_buf_len(b);
	sticky_uses = 0;
	cnie_buf_free(&b);
	assert_int_equal(RAND_set_rand_method(&t_rand), 1);
}

static void
rand_restore(void)
{
	sticky_len = 0;
	RAND_set_rand_method(NULL);
}

static void
assert_cmd(const cnie_apdu *cmd, const char *h)
{
	cnie_buf *b = cnie_buf_new();

	assert_int_equal(cnie_apdu_encode(cmd, false, b, NULL), 0);
	tu_assert_hex(cnie_buf_ptr(b), cnie_buf_len(b), h);
	cnie_buf_free(&b);
}

/* Feeds one answer (hex, no SW) and returns the next command. */
static int
feed(cnie_pace *p, const char *resp_hex, uint16_t sw, cnie_apdu *cmd, bool *done)
{
	cnie_buf *r = resp_hex != NULL ? tu_hex(resp_hex) : NULL;
	int rc;

	rc = cnie_pace_terminal_next(p, cnie_buf_ptr(r), cnie_buf_len(r), sw, cmd, done);
	cnie_buf_free(&r);
	return rc;
}

static cnie_pace *
g1_pace(cnie_pace_secret type, const char *secret)
{
	cnie_buf *ca = tu_hex(G1_CARD_ACCESS);
	cnie_pace *p = NULL;

	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca), type, secret,
			     strlen(secret), &p),
	    0);
	cnie_buf_free(&ca);
	return p;
}

/* Runs G.1 up to (not including) the answer to step 1. */
static cnie_pace *
g1_to_step1(cnie_apdu *cmd)
{
	cnie_pace *p = g1_pace(CNIE_PACE_MRZ, G1_MRZ_INFO);
	bool done = true;

	assert_int_equal(feed(p, NULL, 0, cmd, &done), 0);
	assert_false(done);
	assert_cmd(cmd, "0022C1A412800A04007F0007020204020283010184010D");
	assert_int_equal(feed(p, "", 0x9000, cmd, &done), 0);
	assert_cmd(cmd, "10860000027C0000");
	return p;
}

/* Kpi from the MRZ (9303-11 4.4.3.1, G.1). */
static void
test_g1_kpi(void **state)
{
	uint8_t h[20], k[16];

	(void)state;
	assert_int_equal(EVP_Digest(G1_MRZ_INFO, 24, h, NULL, EVP_sha1(), NULL), 1);
	tu_assert_hex(h, 20, "7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD");
	assert_int_equal(cnie_sm_kdf(CNIE_SM_AES128, h, 20, 3, k, 16), 0);
	tu_assert_hex(k, 16, "89DED1B26624EC1E634C1989302849DD");
}

static void
assert_point(const EC_POINT *pt, const EC_GROUP *g, const char *h)
{
	uint8_t buf[65];
	size_t n;

	n = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, buf, sizeof(buf), NULL);
	tu_assert_hex(buf, n, h);
}

/* The whole G.1 run, every intermediate value checked. */
static void
test_g1_worked_example(void **state)
{
	cnie_pace *p;
	cnie_apdu cmd;
	cnie_sm *sm = NULL;
	EAC_CTX *ctx;
	const EC_KEY *ec;
	const uint8_t *ck;
	uint8_t ssc[16];
	size_t n;
	bool done = true;

	(void)state;
	p = g1_to_step1(&cmd);

	/* Step 1 answer: encrypted nonce; the terminal maps with its key. */
	rand_next("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99");
	assert_int_equal(feed(p, "7C12801095A3A016522EE98D01E76CB6B98B42C3", 0x9000, &cmd, &done),
	    0);
	rand_restore();
	ctx = cnie_pace_eac_ctx(p);
	assert_non_null(ctx);
	tu_assert_hex(ctx->pace_ctx->nonce->data, ctx->pace_ctx->nonce->length,
	    "3F00C4D39D153F2B2A214A078D899B22");
	assert_cmd(&cmd,
	    "10860000457C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
	    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D00");

	/* Step 2 answer: the card's mapping key; generator mapped; ephemeral key. */
	rand_next("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595");
	assert_int_equal(feed(p,
			     "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
			     "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
			     0x9000, &cmd, &done),
	    0);
	rand_restore();
	ec = EVP_PKEY_get0_EC_KEY(ctx->pace_ctx->ka_ctx->key);
	assert_non_null(ec);
	assert_point(EC_GROUP_get0_generator(EC_KEY_get0_group(ec)), EC_KEY_get0_group(ec),
	    "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
	    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522");
	assert_cmd(&cmd,
	    "10860000457C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
	    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB3646200");

	/* Step 3 answer: the card's ephemeral key; shared secret, keys, T_PCD. */
	assert_int_equal(feed(p,
			     "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
			     "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
			     0x9000, &cmd, &done),
	    0);
	tu_assert_hex(ctx->pace_ctx->ka_ctx->shared_secret->data,
	    ctx->pace_ctx->ka_ctx->shared_secret->length,
	    "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925");
	tu_assert_hex(ctx->pace_ctx->ka_ctx->k_enc->data, ctx->pace_ctx->ka_ctx->k_enc->length,
	    "F5F0E35C0D7161EE6724EE513A0D9A7F");
	tu_assert_hex(ctx->pace_ctx->ka_ctx->k_mac->data, ctx->pace_ctx->ka_ctx->k_mac->length,
	    "FE251C7858B356B24514B3BD5F4297D1");
	assert_cmd(&cmd, "008600000C7C0A8508C2B0BD78D94BA86600");
	assert_int_equal(cnie_pace_terminal_take_sm(p, &sm), CNIE_ERR_STATE);

	/* Step 4 answer: T_PICC verifies; the AES session starts at SSC 0. */
	assert_int_equal(feed(p, "7C0A86083ABB9674BCE93C08", 0x9000, &cmd, &done), 0);
	assert_true(done);
	assert_int_equal(cnie_pace_terminal_card_key(p, &ck, &n), 0);
	tu_assert_hex(ck, n,
	    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
	    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094");
	assert_int_equal(cnie_pace_terminal_take_sm(p, &sm), 0);
	assert_non_null(sm);
	assert_int_equal(cnie_sm_get_cipher(sm), CNIE_SM_AES128);
	n = sizeof(ssc);
	assert_int_equal(cnie_sm_get_ssc(sm, ssc, &n), 0);
	tu_assert_hex(ssc, n, "00000000000000000000000000000000");
	/* Taken once; the machine is finished. */
	assert_int_equal(cnie_pace_terminal_take_sm(p, &sm), CNIE_ERR_STATE);
	assert_int_equal(feed(p, "", 0x9000, &cmd, &done), CNIE_ERR_STATE);
	cnie_sm_free(&sm);
	cnie_pace_terminal_free(&p);
	assert_null(p);
}

/* The BSI G.1 run up to the answer to step 4 (mutual authentication). */
static cnie_pace *
g1_to_step4(cnie_apdu *cmd)
{
	cnie_pace *p = g1_to_step1(cmd);
	bool done = false;

	rand_next("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99");
	assert_int_equal(feed(p, "7C12801095A3A016522EE98D01E76CB6B98B42C3", 0x9000, cmd, &done),
	    0);
	rand_next("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595");
	assert_int_equal(feed(p,
			     "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
			     "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
			     0x9000, cmd, &done),
	    0);
	rand_restore();
	assert_int_equal(feed(p,
			     "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
			     "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
			     0x9000, cmd, &done),
	    0);
	return p;
}

/*
 * The words chips use to refuse our token at step 4 (a wrong password)
 * give CNIE_ERR_PACE; another refusal there is the card's error.
 */
static void
test_step4_refusals(void **state)
{
	static const uint16_t wrong_key[] = { 0x6300, 0x63C2, 0x6982, 0x6988 };
	cnie_pace *p;
	cnie_apdu cmd;
	bool done = false;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wrong_key) / sizeof(wrong_key[0]); i++) {
		p = g1_to_step4(&cmd);
		assert_int_equal(feed(p, "", wrong_key[i], &cmd, &done), CNIE_ERR_PACE);
		cnie_pace_terminal_free(&p);
	}
	p = g1_to_step4(&cmd);
	assert_int_equal(feed(p, "", 0x6A80, &cmd, &done), CNIE_ERR_SW_WRONG_DATA);
	cnie_pace_terminal_free(&p);
	/* A malformed step 4 answer is a protocol error. */
	p = g1_to_step4(&cmd);
	assert_int_equal(feed(p, "7C0A87083ABB9674BCE93C08", 0x9000, &cmd, &done),
	    CNIE_ERR_BAD_RESPONSE);
	cnie_pace_terminal_free(&p);
}

/* A wrong T_PICC ends the run with CNIE_ERR_PACE and no session. */
static void
test_g1_bad_card_token(void **state)
{
	cnie_pace *p;
	cnie_apdu cmd;
	cnie_sm *sm = NULL;
	bool done = false;

	(void)state;
	p = g1_to_step1(&cmd);
	rand_next("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99");
	assert_int_equal(feed(p, "7C12801095A3A016522EE98D01E76CB6B98B42C3", 0x9000, &cmd, &done),
	    0);
	rand_next("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595");
	assert_int_equal(feed(p,
			     "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
			     "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
			     0x9000, &cmd, &done),
	    0);
	rand_restore();
	assert_int_equal(feed(p,
			     "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
			     "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
			     0x9000, &cmd, &done),
	    0);
	assert_int_equal(feed(p, "7C0A86083ABB9674BCE93C09", 0x9000, &cmd, &done), CNIE_ERR_PACE);
	assert_false(done);
	assert_int_equal(cnie_pace_terminal_take_sm(p, &sm), CNIE_ERR_STATE);
	assert_null(sm);
	assert_null(cnie_pace_eac_ctx(p)); /* keys dropped */
	assert_int_equal(feed(p, "7C0A86083ABB9674BCE93C08", 0x9000, &cmd, &done), CNIE_ERR_STATE);
	cnie_pace_terminal_free(&p);
}

/*
 * Status words: MSE refused -> mapped error; GA step 1 refused (6300)
 * -> the card's error, not a wrong password (the chip cannot know it yet).
 */
static void
test_card_refusals(void **state)
{
	cnie_pace *p;
	cnie_apdu cmd;
	bool done;

	(void)state;
	p = g1_pace(CNIE_PACE_CAN, "123456");
	assert_int_equal(feed(p, NULL, 0, &cmd, &done), 0);
	assert_cmd(&cmd, "0022C1A412800A04007F0007020204020283010284010D");
	assert_int_equal(feed(p, "", 0x6A80, &cmd, &done), CNIE_ERR_SW_WRONG_DATA);
	cnie_pace_terminal_free(&p);

	p = g1_to_step1(&cmd);
	assert_int_equal(feed(p, "", 0x6300, &cmd, &done), cnie_sw_to_error(0x6300));
	assert_int_not_equal(cnie_sw_to_error(0x6300), CNIE_ERR_PACE);
	cnie_pace_terminal_free(&p);
}

/* Malformed answers: wrong template, missing DO, trailing bytes, reflection. */
static void
test_malformed_answers(void **state)
{
	static const char *bad[] = {
		"7D12801095A3A016522EE98D01E76CB6B98B42C3",   /* not 7C */
		"7C12811095A3A016522EE98D01E76CB6B98B42C3",   /* 81 instead of 80 */
		"7C12801095A3A016522EE98D01E76CB6B98B42C300", /* trailing byte */
		"7C13801095A3A016522EE98D01E76CB6B98B42C3",   /* length too long */
		"7C028000",				      /* empty nonce */
		"",
	};
	cnie_pace *p;
	cnie_apdu cmd;
	bool done;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = g1_to_step1(&cmd);
		assert_int_equal(feed(p, bad[i], 0x9000, &cmd, &done), CNIE_ERR_BAD_RESPONSE);
		cnie_pace_terminal_free(&p);
	}

	/* A card that sends our own mapping data back. */
	p = g1_to_step1(&cmd);
	rand_next("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99");
	assert_int_equal(feed(p, "7C12801095A3A016522EE98D01E76CB6B98B42C3", 0x9000, &cmd, &done),
	    0);
	rand_restore();
	assert_int_equal(feed(p,
			     "7C438241047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
			     "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D",
			     0x9000, &cmd, &done),
	    CNIE_ERR_BAD_RESPONSE);
	cnie_pace_terminal_free(&p);

	/* A point not on the curve as the card's mapping data. */
	p = g1_to_step1(&cmd);
	assert_int_equal(feed(p, "7C12801095A3A016522EE98D01E76CB6B98B42C3", 0x9000, &cmd, &done),
	    0);
	assert_int_equal(feed(p,
			     "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
			     "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C55",
			     0x9000, &cmd, &done),
	    CNIE_ERR_BAD_RESPONSE);
	cnie_pace_terminal_free(&p);
}

/* BSI worked example (PIN 123456): the nonce decrypts to the published value. */
static void
test_bsi_nonce(void **state)
{
	cnie_pace *p;
	cnie_apdu cmd;
	EAC_CTX *ctx;
	bool done;

	(void)state;
	p = g1_pace(CNIE_PACE_PIN, "123456");
	assert_int_equal(feed(p, NULL, 0, &cmd, &done), 0);
	assert_cmd(&cmd, "0022C1A412800A04007F0007020204020283010384010D");
	assert_int_equal(feed(p, "", 0x9000, &cmd, &done), 0);
	assert_int_equal(feed(p, "7C128010CE834CDE69FFBB1D1EB21585CD709F18", 0x9000, &cmd, &done),
	    0);
	ctx = cnie_pace_eac_ctx(p);
	tu_assert_hex(ctx->pace_ctx->nonce->data, ctx->pace_ctx->nonce->length,
	    "7D98C00FC6C9E9543BBF94A87073A123");
	cnie_pace_terminal_free(&p);
}

static void
test_invalid_args(void **state)
{
	cnie_buf *ca = tu_hex(G1_CARD_ACCESS);
	cnie_pace *p = NULL;
	static const uint8_t junk[] = { 0x31, 0x03, 0x02, 0x01, 0x01 };

	(void)state;
	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_MRZ,
			     "T2200012936408125101031", 23, &p),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca),
			     (cnie_pace_secret)9, "123456", 6, &p),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN,
			     "", 0, &p),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pace_terminal_new(junk, sizeof(junk), CNIE_PACE_CAN, "123456", 6, &p),
	    CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_pace_terminal_new(NULL, 0, CNIE_PACE_CAN, "123456", 6, &p),
	    CNIE_ERR_INVALID_ARG);
	assert_null(p);
	assert_int_equal(cnie_pace_run(NULL, cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN,
			     "123456", 6, NULL),
	    CNIE_ERR_INVALID_ARG);
	cnie_pace_terminal_free(&p);
	cnie_pace_terminal_free(NULL);
	cnie_buf_free(&ca);
}

/*
 * EF.CardAccess with several PACEInfos: each parsed; the preference order
 * (chip authentication mapping first; ECDH before DH, strongest cipher,
 * generic before integrated mapping, card order); unsupported offers (IM on
 * secp224r1, CAM with 3DES, version 1, RFU parameters, proprietary
 * parameters without their PACEDomainParameterInfo) never chosen.
 */
static void
test_pace_infos_select(void **state)
{
	cnie_pace_infos in;
	const cnie_pace_info *pi;
	cnie_buf *b, *one = cnie_buf_new();

	(void)state;
	/* IM-ECDH-AES128/13, CAM-AES256/13, GM-DH-AES256/2, GM-ECDH-3DES/13, GM-ECDH-AES192/13, TA. */
	b = tu_hex("3173"
		   "3012060A04007F00070202040402 020102020 10D"
		   "3012060A04007F00070202040604 020102020 10D"
		   "3012060A04007F00070202040104 0201020201 02"
		   "3012060A04007F00070202040201 020102020 10D"
		   "3012060A04007F00070202040203 020102020 10D"
		   "300D060804007F00070202020201 02");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	assert_int_equal(in.n, 5);
	assert_int_equal(in.info[0].mapping, CNIE_PACE_IM);
	assert_int_equal(in.info[1].mapping, CNIE_PACE_CAM);
	assert_false(in.info[2].ecdh);
	assert_int_equal(in.info[2].param_id, 2);
	assert_int_equal(in.info[3].cipher, CNIE_SM_3DES);
	pi = cnie_pace_select(&in);
	assert_ptr_equal(pi, &in.info[1]); /* CAM, AES-256 */
	assert_int_equal(cnie_pace_card_access_of(&in, pi, one), 0);
	tu_assert_buf_hex(one, "3114 3012060A04007F00070202040604020102020 10D");
	cnie_buf_free(&b);
	cnie_buf_reset(one);

	/* Without CAM (CAM-3DES is not defined, 9303-11 4.4.3.5): GM, ECDH, AES-192. */
	b = tu_hex("3164"
		   "3012060A04007F00070202040402 020102020 10D"
		   "3012060A04007F00070202040601 020102020 10D"
		   "3012060A04007F00070202040104 0201020201 02"
		   "3012060A04007F00070202040201 020102020 10D"
		   "3012060A04007F00070202040203 020102020 10D");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	pi = cnie_pace_select(&in);
	assert_ptr_equal(pi, &in.info[4]);
	assert_int_equal(cnie_pace_card_access_of(&in, pi, one), 0);
	tu_assert_buf_hex(one, "3114 3012060A04007F00070202040203020102020 10D");
	cnie_buf_free(&b);

	/* Only DH, and only unsupported offers. */
	b = tu_hex("3128 3012060A04007F000702020401020201020201 00"
		   "3012060A04007F000702020402020201010201 0D");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	pi = cnie_pace_select(&in);
	assert_non_null(pi);
	assert_false(pi->ecdh); /* the ECDH one has version 1 */
	cnie_buf_free(&b);
	b = tu_hex("3128 3012060A04007F000702020402020201020201 05"
		   "3012060A04007F000702020402020201020201 40");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	assert_null(cnie_pace_select(&in)); /* RFU 5; 64 without its domain parameters */
	cnie_buf_free(&b);

	/* Hostile: not a SET, trailing bytes inside a PACEInfo, negative id, truncated. */
	b = tu_hex("3014 3012060A04007F000702020402020201020201 0D");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	b = tu_hex("3117 3015060A04007F000702020402020201020201 0D050 0");
	assert_int_not_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	cnie_buf_free(&b);
	b = tu_hex("3114 3012060A04007F000702020402020201020201 8D");
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	b = tu_hex("3114 3012060A04007F000702020402020201020201");
	assert_int_not_equal(cnie_pace_infos_parse(cnie_buf_ptr(b), cnie_buf_len(b), &in), 0);
	cnie_buf_free(&b);
	assert_int_equal(cnie_pace_infos_parse(NULL, 0, &in), CNIE_ERR_INVALID_ARG);
	/* Terminal: an EF.CardAccess with nothing usable is CNIE_ERR_UNSUPPORTED. */
	{
		cnie_pace *p = NULL;

		/* IM on secp224r1 (p = 1 mod 4: no point encoding). */
		b = tu_hex("3114 3012060A04007F000702020404020201020201 0A");
		assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(b), cnie_buf_len(b),
		    CNIE_PACE_CAN, "123456", 6, &p), CNIE_ERR_UNSUPPORTED);
		assert_null(p);
		cnie_buf_free(&b);
	}
	cnie_buf_free(&one);
}

/*
 * Chip Authentication Mapping, known answers from a real chip: the PACE-CAM
 * run (id-PACE-ECDH-CAM-AES-CBC-CMAC-128, brainpoolP256r1) of a German
 * identity card recorded in gmrtd's test suite (github.com/gmrtd/gmrtd,
 * pace/pace_test.go, TestDoPace_CAM_ECDH_DE): its session keys, the
 * chip's mapping key (DO'82'), both public keys, both tokens and DO'8A'.
 * PK_IC is the chip's ChipAuthenticationPublicKeyInfo read, in the same
 * recording, from EF.CardSecurity (decrypted with the session's KSenc).
 * ICAO 9303-11 Appendix I has a CAM worked example too (test_cam_worked_example).
 */
#define CAM_KSENC "A8E85E938514EC67AE33CDA3D43D3C48"
#define CAM_KSMAC "27F1ADEB705A049A305B0C619B14B9B3"
#define CAM_A_IC                                                                         \
	"B3AE8830311B1D5605777F47CB4ED028346CD00105D32859DE127DA3D8398865358F26F08EBE4108" \
	"64EAF6E39F33F3F5"
#define CAM_CA_IC "61FDE6BC2006EB41CA6C5DE2490C0A5AFFE629C7A696701A22B249099F8C5B90"
#define CAM_PK_MAP                                                                       \
	"0476DC295C4FB14237D87318D70967E25EC45F74D6FD4AFF588C90EFB3D868F05B450BA6B6496722" \
	"7C2246DBE2905522C8086DAC7F3BBE5CF3B192F0A0C2D97EE5"
#define CAM_PK_IC                                                                        \
	"04614CD88B00821A887869D0060B44A9D18789353E8CF7DFBC3F29F79327DE30B97B1B2DDA0BE77F" \
	"24AD415C327C7B7AB2E9C10B0258F5BCBF90C01825FBDFDEF7"
#define CAM_PK_PCD                                                                       \
	"048442B191EF5346A6B6DACB6CD5728C4A72F0CA7AECDF7AFDFB3EF175E12A6F7C74F509AF768B8D" \
	"BE2CF42D16C1F00714691D78A19CDF1B493390D1173785F2B7"
#define CAM_PK_PICC                                                                      \
	"042315AE8143F21DE15B35F083CFA148C5FCBD9F2EB9DCDC4519BCF337443E79E55B28A5E218FB91" \
	"9C30880D263E469645FF114C46ED29918910BE3453527D2164"

/* An EC public key on brainpoolP256r1 from an uncompressed point. */
static EVP_PKEY *
bp256_key(const cnie_buf *pt)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string("group", (char *)(uintptr_t)"brainpoolP256r1",
	    0);
	params[1] = OSSL_PARAM_construct_octet_string("pub",
	    (void *)(uintptr_t)cnie_buf_ptr(pt), cnie_buf_len(pt));
	params[2] = OSSL_PARAM_construct_end();
	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_fromdata_init(kc), 1);
	assert_int_equal(EVP_PKEY_fromdata(kc, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(kc);
	return k;
}

/*
 * A CAM known answer: A_IC decrypts with KSenc to CA_IC (want, the order's
 * 32 bytes), PK_Map,IC = CA_IC * PK_IC holds, and a CA_IC with one bit
 * flipped does not.  CA_IC is left in ca (length *n) for further checks.
 */
static void
cam_known_answer(const cnie_buf *kenc, const cnie_buf *a, const cnie_buf *want,
    const cnie_buf *map, const cnie_buf *pk, uint8_t *ca, size_t *n)
{
	EVP_PKEY *key;

	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, cnie_buf_ptr(kenc),
	    cnie_buf_len(kenc), cnie_buf_ptr(a), cnie_buf_len(a), ca, n), 0);
	assert_int_equal(*n, 32);
	assert_memory_equal(ca, cnie_buf_ptr(want), 32);
	key = bp256_key(pk);
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), ca, *n),
	    0);
	ca[31] ^= 0x01;
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), ca, *n),
	    CNIE_ERR_VERIFY_FAILED);
	ca[31] ^= 0x01;
	EVP_PKEY_free(key);
}

static void
test_cam_real_chip(void **state)
{
	cnie_buf *kenc = tu_hex(CAM_KSENC), *kmac = tu_hex(CAM_KSMAC), *a = tu_hex(CAM_A_IC);
	cnie_buf *want = tu_hex(CAM_CA_IC), *map = tu_hex(CAM_PK_MAP), *pk = tu_hex(CAM_PK_IC);
	cnie_buf *pcd = tu_hex(CAM_PK_PCD), *picc = tu_hex(CAM_PK_PICC);
	cnie_buf *ca_der = tu_hex("3114 3012060A04007F0007020204060202010202010D");
	cnie_pace_infos in;
	EAC_CTX *ctx = EAC_CTX_new();
	BUF_MEM *pub = NULL, *tok = NULL;
	EVP_PKEY *key;
	uint8_t ca[CNIE_PACE_CAM_MAX];
	size_t n = sizeof(ca);

	(void)state;
	/* A_IC decrypts (IV = E(KSenc, -1)) to CA_IC; PK_Map,IC = CA_IC * PK_IC. */
	cam_known_answer(kenc, a, want, map, pk, ca, &n);
	/* Another chip's key (the mapping key itself): no match. */
	key = bp256_key(map);
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), ca, n),
	    CNIE_ERR_VERIFY_FAILED);
	EVP_PKEY_free(key);
	/* The tokens carry the CAM OID (OpenPACE with the registered NID). */
	assert_int_equal(cnie_pace_infos_parse(cnie_buf_ptr(ca_der), cnie_buf_len(ca_der), &in), 0);
	assert_non_null(ctx);
	assert_int_equal(cnie_pace_ctx_init(ctx, &in, &in.info[0]), 0);
	assert_int_equal(ctx->pace_ctx->protocol, cnie_pace_cam_nid(CNIE_SM_AES128));
	EVP_PKEY_free(ctx->pace_ctx->ka_ctx->key);
	ctx->pace_ctx->ka_ctx->key = EVP_PKEY_dup(ctx->pace_ctx->static_key);
	BUF_MEM_clear_free(ctx->pace_ctx->ka_ctx->k_mac);
	ctx->pace_ctx->ka_ctx->k_mac = cnie_pace_bufmem(cnie_buf_ptr(kmac), cnie_buf_len(kmac));
	pub = cnie_pace_bufmem(cnie_buf_ptr(pcd), cnie_buf_len(pcd));
	assert_non_null(tok = PACE_STEP3D_compute_authentication_token(ctx, pub));
	assert_int_equal(tok->length, 8);
	assert_memory_equal(tok->data, "\x19\xA2\xB9\x19\x2E\x11\x51\x2A", 8);
	BUF_MEM_free(tok);
	BUF_MEM_free(pub);
	pub = cnie_pace_bufmem(cnie_buf_ptr(picc), cnie_buf_len(picc));
	assert_non_null(tok = PACE_STEP3D_compute_authentication_token(ctx, pub));
	assert_memory_equal(tok->data, "\xFE\xE0\x88\xA4\xD7\xBE\x1B\x7F", 8);
	BUF_MEM_free(tok);
	BUF_MEM_free(pub);
	EAC_CTX_clear_free(ctx);
	cnie_buf_free(&kenc);
	cnie_buf_free(&kmac);
	cnie_buf_free(&a);
	cnie_buf_free(&want);
	cnie_buf_free(&map);
	cnie_buf_free(&pk);
	cnie_buf_free(&pcd);
	cnie_buf_free(&picc);
	cnie_buf_free(&ca_der);
}

/*
 * ICAO 9303-11 Appendix I (PACE-CAM worked example, brainpoolP256r1,
 * AES-128): the chip's token carries A_IC, which decrypts with KSenc to
 * the published CA_IC, and PK_Map,IC = CA_IC * PK_IC with the key of the
 * published ChipAuthenticationPublicKeyInfo.
 */
static void
test_cam_worked_example(void **state)
{
	cnie_buf *kenc = tu_hex("0A9DA4DB03BDDE39FC5202BC44B2E89E");
	cnie_buf *a = tu_hex("1EEA964DAAE372AC990E3EFDE6333353BFC89A6704D93DA8798CF77F5B7A54BD"
	    "10CBA372B42BE0B9B5F28AA8DE2F4F92");
	cnie_buf *want = tu_hex("85DC3FA93D0952BFA82F5FD189EE75BD82F11D1F0B8ED4BF5319AC9B53C426B3");
	cnie_buf *map = tu_hex("04"
	    "A234236AA9B9621E8EFB73B5245C0E09D2576E5277183C1208BDD55280CAE8B3"
	    "04F365713A356E65A451E165ECC9AC0AC46E3771342C8FE5AEDD092685338E23");
	cnie_buf *pk = tu_hex("04"
	    "1872709494399E7470A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC8"
	    "84D256A40E35EFCB59BF6753D3A489D28C7A4D973C2DA138A6E7A4A08F68E16F");
	uint8_t ca[CNIE_PACE_CAM_MAX];
	size_t n = sizeof(ca);

	(void)state;
	cam_known_answer(kenc, a, want, map, pk, ca, &n);
	cnie_buf_free(&kenc);
	cnie_buf_free(&a);
	cnie_buf_free(&want);
	cnie_buf_free(&map);
	cnie_buf_free(&pk);
}

/* Encrypts plain[0..n) as a chip would, for the hostile cases. */
static void
cam_enc(const cnie_buf *k, const uint8_t *plain, size_t n, uint8_t *out)
{
	assert_int_equal(cnie_pace_cam_crypt(CNIE_SM_AES128, cnie_buf_ptr(k), cnie_buf_len(k), 1,
	    plain, n, out), 0);
}

static void
test_cam_hostile(void **state)
{
	cnie_buf *kenc = tu_hex(CAM_KSENC), *map = tu_hex(CAM_PK_MAP), *pk = tu_hex(CAM_PK_IC);
	cnie_buf *ca_ok = tu_hex(CAM_CA_IC);
	uint8_t plain[128], enc[128], ca[CNIE_PACE_CAM_MAX], big[CNIE_PACE_CAM_MAX + 1];
	size_t n;
	EVP_PKEY *key, *rsa;
	const uint8_t *k = cnie_buf_ptr(kenc);
	size_t kl = cnie_buf_len(kenc);

	(void)state;
	memset(plain, 0, sizeof(plain));
	cam_enc(kenc, plain, 96, enc);
	/* Lengths: empty, not whole blocks, longer than any CA_IC can pad to. */
	n = sizeof(ca);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 0, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 15, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 33, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 96, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	/* Padding: all zeros (no 80), 80 a whole block too early, only padding. */
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 32, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	plain[0] = 0x42;
	plain[15] = 0x80;
	cam_enc(kenc, plain, 32, enc);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 32, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	memset(plain, 0, sizeof(plain));
	plain[0] = 0x80;
	cam_enc(kenc, plain, 16, enc);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 16, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	/* Padding byte other than 80 before the zeros. */
	memset(plain, 0xAB, 32);
	plain[32] = 0x81;
	memset(plain + 33, 0, 15);
	cam_enc(kenc, plain, 48, enc);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 48, ca, &n),
	    CNIE_ERR_BAD_RESPONSE);
	/* Well formed, but the caller's buffer is too small. */
	plain[32] = 0x80;
	cam_enc(kenc, plain, 48, enc);
	n = 31;
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 48, ca, &n),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	n = sizeof(ca);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 48, ca, &n), 0);
	assert_int_equal(n, 32);
	/* Caller errors: 3DES (no CAM), a key of the wrong length, NULLs. */
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_3DES, k, kl, enc, 48, ca, &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES256, k, kl, enc, 48, ca, &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pace_cam_decrypt(CNIE_SM_AES128, k, kl, enc, 48, NULL, &n),
	    CNIE_ERR_INVALID_ARG);

	/* Verification: CA_IC zero, equal to the order, too long; bad mapping points. */
	key = bp256_key(pk);
	memset(ca, 0, sizeof(ca));
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), ca, 32),
	    CNIE_ERR_BAD_RESPONSE);
	{
		cnie_buf *order = tu_hex(
		    "A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7");

		assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map),
		    cnie_buf_ptr(order), cnie_buf_len(order)), CNIE_ERR_BAD_RESPONSE);
		cnie_buf_free(&order);
	}
	memset(big, 0x01, sizeof(big));
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), big,
	    sizeof(big)), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_pace_cam_verify(key, cnie_buf_ptr(map), cnie_buf_len(map), big, 0),
	    CNIE_ERR_BAD_RESPONSE);
	{
		uint8_t pt[65];

		memcpy(pt, cnie_buf_ptr(map), sizeof(pt));
		pt[64] ^= 0x01; /* off the curve */
		assert_int_equal(cnie_pace_cam_verify(key, pt, sizeof(pt), cnie_buf_ptr(ca_ok), 32),
		    CNIE_ERR_BAD_RESPONSE);
		pt[0] = 0x00; /* the point at infinity, as one byte */
		assert_int_equal(cnie_pace_cam_verify(key, pt, 1, cnie_buf_ptr(ca_ok), 32),
		    CNIE_ERR_BAD_RESPONSE);
		assert_int_equal(cnie_pace_cam_verify(key, pt, 0, cnie_buf_ptr(ca_ok), 32),
		    CNIE_ERR_BAD_RESPONSE);
	}
	/* A key that is not EC: not a CAM key. */
	assert_non_null(rsa = EVP_RSA_gen(1024));
	assert_int_equal(cnie_pace_cam_verify(rsa, cnie_buf_ptr(map), cnie_buf_len(map),
	    cnie_buf_ptr(ca_ok), 32), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_pace_cam_verify(NULL, cnie_buf_ptr(map), cnie_buf_len(map),
	    cnie_buf_ptr(ca_ok), 32), CNIE_ERR_INVALID_ARG);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
	cnie_buf_free(&kenc);
	cnie_buf_free(&map);
	cnie_buf_free(&pk);
	cnie_buf_free(&ca_ok);
}

/*
 * Integrated mapping: R_p(s, t) against the worked examples of ICAO
 * 9303-11 Appendix H (H.1 ECDH on brainpoolP256r1, H.2 DH on the 1024-bit
 * MODP group of RFC 5114, both AES-128), and H.1's mapped generator from
 * the point encoding (a known answer, independent of our emulator); what
 * the library does not run is refused.
 */
static void
test_im_worked_example(void **state)
{
	cnie_buf *s1 = tu_hex("2923BE84E16CD6AE529049F1F1BBE9EB");
	cnie_buf *t1 = tu_hex("5DD4CBFC96F5453B130D890A1CDBAE32");
	cnie_buf *s2 = tu_hex("FA5B7E3E49753A0DB9178B7B9BD898C8");
	cnie_buf *t2 = tu_hex("B3A6DB3C870C3E99245E0D1C06B747DE");
	BIGNUM *p = NULL, *x = BN_new(), *want = NULL;
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_brainpoolP256r1);
	EC_GROUP *g224 = EC_GROUP_new_by_curve_name(NID_secp224r1);
	EC_POINT *pt;

	(void)state;
	assert_non_null(x);
	assert_non_null(g);
	assert_true(BN_hex2bn(&p,
	    "A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377") > 0);
	assert_int_equal(cnie_pace_im_prf(cnie_buf_ptr(s1), 16, cnie_buf_ptr(t1), 16, p, x), 0);
	assert_true(BN_hex2bn(&want,
	    "A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E") > 0);
	assert_int_equal(BN_cmp(x, want), 0);
	/* The point encoding of x is H.1's mapped generator G~. */
	assert_non_null(pt = EC_POINT_new(g));
	assert_int_equal(cnie_pace_im_point(g, x, pt), 0);
	assert_int_equal(EC_POINT_is_on_curve(g, pt, NULL), 1);
	{
		BIGNUM *gx = BN_new(), *gy = BN_new(), *wx = NULL, *wy = NULL;

		assert_non_null(gx);
		assert_non_null(gy);
		assert_int_equal(EC_POINT_get_affine_coordinates(g, pt, gx, gy, NULL), 1);
		assert_true(BN_hex2bn(&wx,
		    "8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427") > 0);
		assert_true(BN_hex2bn(&wy,
		    "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD") > 0);
		assert_int_equal(BN_cmp(gx, wx), 0);
		assert_int_equal(BN_cmp(gy, wy), 0);
		BN_free(gx);
		BN_free(gy);
		BN_free(wx);
		BN_free(wy);
	}
	EC_POINT_free(pt);
	/* secp224r1: p = 1 mod 4, no point encoding. */
	assert_non_null(pt = EC_POINT_new(g224));
	assert_int_equal(cnie_pace_im_point(g224, x, pt), CNIE_ERR_UNSUPPORTED);
	EC_POINT_free(pt);
	BN_free(p);
	BN_free(want);
	p = want = NULL;
	assert_true(BN_hex2bn(&p,
	    "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61"
	    "6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF"
	    "ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0"
	    "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371") > 0);
	assert_int_equal(cnie_pace_im_prf(cnie_buf_ptr(s2), 16, cnie_buf_ptr(t2), 16, p, x), 0);
	assert_true(BN_hex2bn(&want,
	    "A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2"
	    "B6980F01105D24FAB22ACD1BFA5C8A4C093ECDFAFE6D7125D42A843E33860383"
	    "5CF19AFAFF75EFE21DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93"
	    "570417B790FF7F747E57F432B04E1236819E0DFEF5B6E77CA4999925328182D2") > 0);
	assert_int_equal(BN_cmp(x, want), 0);
	/* 3DES-sized or AES-256-sized nonces: not run. */
	assert_int_equal(cnie_pace_im_prf(cnie_buf_ptr(s2), 8, cnie_buf_ptr(t2), 16, p, x),
	    CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_pace_im_prf(cnie_buf_ptr(s2), 16, cnie_buf_ptr(t2), 8, p, x),
	    CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_pace_im_prf(NULL, 16, cnie_buf_ptr(t2), 16, p, x),
	    CNIE_ERR_INVALID_ARG);
	/*
	 * The other ciphers (4.4.3.3.2): l = 128 for 3DES (k taken as 128: a
	 * two-key 16-byte t), l = 256 for AES-192/256 (a 32-byte s), t of the
	 * key length; any other length is refused, as is another cipher.
	 */
	{
		uint8_t s32[32], t32[32];

		memset(s32, 0x5A, sizeof(s32));
		memset(t32, 0xA5, sizeof(t32));
		assert_int_equal(cnie_pace_im_nonce_len(EVP_des_ede_cbc()), 16);
		assert_int_equal(cnie_pace_im_nonce_len(EVP_aes_128_cbc()), 16);
		assert_int_equal(cnie_pace_im_nonce_len(EVP_aes_192_cbc()), 32);
		assert_int_equal(cnie_pace_im_nonce_len(EVP_aes_256_cbc()), 32);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_des_ede_cbc(), s32, 16, t32, 16, p, x), 0);
		assert_true(BN_cmp(x, p) < 0);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_des_ede_cbc(), s32, 8, t32, 16, p, x),
		    CNIE_ERR_UNSUPPORTED);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_aes_192_cbc(), s32, 32, t32, 24, p, x), 0);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_aes_256_cbc(), s32, 32, t32, 32, p, x), 0);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_aes_256_cbc(), s32, 16, t32, 32, p, x),
		    CNIE_ERR_UNSUPPORTED);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_aes_256_cbc(), s32, 32, t32, 24, p, x),
		    CNIE_ERR_UNSUPPORTED);
		assert_int_equal(cnie_pace_im_prf_ex(EVP_aes_128_ecb(), s32, 16, t32, 16, p, x),
		    CNIE_ERR_UNSUPPORTED);
	}
	BN_free(p);
	BN_free(want);
	BN_free(x);
	EC_GROUP_free(g);
	EC_GROUP_free(g224);
	cnie_buf_free(&s1);
	cnie_buf_free(&t1);
	cnie_buf_free(&s2);
	cnie_buf_free(&t2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g1_kpi),
		cmocka_unit_test(test_g1_worked_example),
		cmocka_unit_test(test_g1_bad_card_token),
		cmocka_unit_test(test_step4_refusals),
		cmocka_unit_test(test_card_refusals),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_bsi_nonce),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_pace_infos_select),
		cmocka_unit_test(test_cam_real_chip),
		cmocka_unit_test(test_cam_worked_example),
		cmocka_unit_test(test_cam_hostile),
		cmocka_unit_test(test_im_worked_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
