/*
 * BAC (src/libcnie/bac.c): the whole ICAO 9303-11 Appendix D worked example, byte
 * for byte, from both ends — MRZ information, Kseed/Kenc/Kmac, EXTERNAL
 * AUTHENTICATE data, the card's answer, session keys and SSC — then the
 * example's SM-protected SELECT / READ BINARY exchanges through cnie_sm on
 * the terminal (wrap/unwrap) and on the card (unwrap/wrap), final SSC.
 * Plus MRZ parsing and the rejection paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include <cnie/apdu.h>
#include <cnie/bac.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/sm.h>

#include "unitutil.h"

#define D_MRZ_INFO "L898902C<369080619406236"

static void
assert_ssc(const cnie_sm *sm, const char *h)
{
	uint8_t ssc[16];
	size_t n = sizeof(ssc);

	assert_int_equal(cnie_sm_get_ssc(sm, ssc, &n), 0);
	tu_assert_hex(ssc, n, h);
}

static void
test_mrz_info_from_fields(void **state)
{
	char info[CNIE_MRZ_INFO_LEN + 1];

	(void)state;
	assert_int_equal(cnie_mrz_info("L898902C", "690806", "940623", info, sizeof(info)), 0);
	assert_string_equal(info, D_MRZ_INFO);
	assert_int_equal(cnie_mrz_info("T22000129", "640812", "101031", info, sizeof(info)), 0);
	assert_string_equal(info, "T22000129364081251010318");
	assert_int_equal(cnie_mrz_info("T22000129X", "640812", "101031", info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_mrz_info("t2200", "640812", "101031", info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_mrz_info("T2200", "64081", "101031", info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_mrz_info("T2200", "6408A2", "101031", info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_mrz_info("T2200", "640812", "101031", info, 24),
	    CNIE_ERR_INVALID_ARG);
}

/* Specimens of ICAO 9303-4 (TD3) and 9303-5 (TD1). */
static void
test_mrz_info_from_mrz(void **state)
{
	char info[CNIE_MRZ_INFO_LEN + 1];

	(void)state;
	assert_int_equal(cnie_mrz_info_from_mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
					       "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
			     info, sizeof(info)),
	    0);
	assert_string_equal(info, "L898902C3674081221204159");
	assert_int_equal(cnie_mrz_info_from_mrz("I<UTOD231458907<<<<<<<<<<<<<<<\n"
					       "7408122F1204159UTO<<<<<<<<<<<6\n"
					       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<\n",
			     info, sizeof(info)),
	    0);
	assert_string_equal(info, "D23145890774081221204159");
	/* Wrong check digit on the birth date. */
	assert_int_equal(cnie_mrz_info_from_mrz("I<UTOD231458907<<<<<<<<<<<<<<<"
					       "7408125F1204159UTO<<<<<<<<<<<6"
					       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
			     info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	/* 9303-5 4.2.4: long TD1 document number, continued in the optional data. */
	{
		char big[CNIE_MRZ_INFO_MAX + 1];

		assert_int_equal(cnie_mrz_info_from_mrz("I<UTOD23145890<7349<<<<<<<<<<<"
						       "3407127M9507122UTO<<<<<<<<<<<2"
						       "STEVENSON<<PETER<JOHN<<<<<<<<<",
				     big, sizeof(big)),
		    0);
		assert_string_equal(big, "D23145890734934071279507122");
		/* Too small for the whole number. */
		assert_int_equal(cnie_mrz_info_from_mrz("I<UTOD23145890<7349<<<<<<<<<<<"
						       "3407127M9507122UTO<<<<<<<<<<<2"
						       "STEVENSON<<PETER<JOHN<<<<<<<<<",
				     info, sizeof(info)),
		    CNIE_ERR_BUFFER_TOO_SMALL);
	}
	/* TD2 (9303-6 specimen), with a line break. */
	assert_int_equal(cnie_mrz_info_from_mrz("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
					       "D231458907UTO7408122F1204159<<<<<<<6",
			     info, sizeof(info)),
	    0);
	assert_string_equal(info, "D23145890774081221204159");
	/* Month 13 with a matching check digit: refused by the range check. */
	assert_int_equal(cnie_mrz_info_from_mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
					       "L898902C36UTO7413128F1204159ZE184226B<<<<<10",
			     info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_mrz_info_from_mrz("I<UTO", info, sizeof(info)),
	    CNIE_ERR_INVALID_ARG);
}

/* Kseed and the basic access keys of App. D. */
static void
test_app_d_keys(void **state)
{
	uint8_t h[20], k[16];

	(void)state;
	assert_int_equal(EVP_Digest(D_MRZ_INFO, 24, h, NULL, EVP_sha1(), NULL), 1);
	tu_assert_hex(h, 16, "239AB9CB282DAF66231DC5A4DF6BFBAE");
	assert_int_equal(cnie_sm_kdf(CNIE_SM_3DES, h, 16, 1, k, 16), 0);
	tu_assert_hex(k, 16, "AB94FDECF2674FDFB9B391F85D7F76F2");
	assert_int_equal(cnie_sm_kdf(CNIE_SM_3DES, h, 16, 2, k, 16), 0);
	tu_assert_hex(k, 16, "7962D9ECE03D1ACD4C76089DCE131543");
}

/* Terminal wrap + card unwrap + card wrap + terminal unwrap of one exchange. */
static void
exchange(cnie_sm *term, cnie_sm *card, const cnie_apdu *plain, const char *plain_hex,
    const char *prot_cmd, const uint8_t *rdata, size_t rn, const char *prot_resp)
{
	cnie_buf *p = cnie_buf_new(), *c = cnie_buf_new(), *r = cnie_buf_new(),
		 *d = cnie_buf_new();
	uint16_t sw = 0;

	assert_int_equal(cnie_sm_wrap_command(term, plain, p), 0);
	tu_assert_hex(cnie_buf_ptr(p), cnie_buf_len(p), prot_cmd);
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), c), 0);
	tu_assert_hex(cnie_buf_ptr(c), cnie_buf_len(c), plain_hex);
	assert_int_equal(cnie_sm_wrap_response(card, rdata, rn, 0x9000, r), 0);
	tu_assert_hex(cnie_buf_ptr(r), cnie_buf_len(r), prot_resp);
	assert_int_equal(cnie_sm_unwrap_response(term, cnie_buf_ptr(r), cnie_buf_len(r), d, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(d), rn);
	if (rn > 0)
		assert_memory_equal(cnie_buf_ptr(d), rdata, rn);
	cnie_buf_free(&p);
	cnie_buf_free(&c);
	cnie_buf_free(&r);
	cnie_buf_free(&d);
}

/* The whole Appendix D, both ends, byte for byte. */
static void
test_app_d_worked_example(void **state)
{
	cnie_buf *rnd_ic = tu_hex("4608F91988702212"), *rnd_ifd = tu_hex("781723860C06C226"),
		 *k_ifd = tu_hex("0B795240CB7049B01C19B33E32804F0B"),
		 *k_ic = tu_hex("0B4F80323EB3191CB04970CB4052790B");
	cnie_bac *term = NULL, *card = NULL;
	cnie_sm *tsm = NULL, *csm = NULL;
	uint8_t cmd[40], resp[40];
	static const uint8_t fid[] = { 0x01, 0x1E };
	cnie_buf *ef_com = tu_hex("60145F0104303130365F36063034303030305C026175");
	cnie_apdu a;

	(void)state;
	assert_int_equal(cnie_bac_new(D_MRZ_INFO, &term), 0);
	assert_int_equal(cnie_bac_new(D_MRZ_INFO, &card), 0);

	/* EXTERNAL AUTHENTICATE data. */
	assert_int_equal(cnie_bac_terminal_auth(term, cnie_buf_ptr(rnd_ic), cnie_buf_ptr(rnd_ifd),
			     cnie_buf_ptr(k_ifd), cmd),
	    0);
	tu_assert_hex(cmd, 40,
	    "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
	    "5F1448EEA8AD90A7");

	/* The card checks it and answers. */
	assert_int_equal(cnie_bac_card_auth(card, cnie_buf_ptr(rnd_ic), cmd, sizeof(cmd),
			     cnie_buf_ptr(k_ic), resp, &csm),
	    0);
	tu_assert_hex(resp, 40,
	    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
	    "2F2D235D074D7449");
	assert_non_null(csm);
	assert_ssc(csm, "887022120C06C226");

	/* The terminal checks the answer: same session. */
	assert_int_equal(cnie_bac_terminal_finish(term, resp, sizeof(resp), &tsm), 0);
	assert_non_null(tsm);
	assert_int_equal(cnie_sm_get_cipher(tsm), CNIE_SM_3DES);
	assert_ssc(tsm, "887022120C06C226");

	/* SELECT EF.COM. */
	cnie_apdu_init(&a, 0x00, 0xA4, 0x02, 0x0C);
	a.data = fid;
	a.nc = sizeof(fid);
	exchange(tsm, csm, &a, "00A4020C02011E",
	    "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", NULL, 0,
	    "990290008E08FA855A5D4C50A8ED9000");
	/* READ BINARY 4 bytes. */
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 4;
	exchange(tsm, csm, &a, "00B0000004", "0CB000000D9701048E08ED6705417E96BA5500",
	    cnie_buf_ptr(ef_com), 4,
	    "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000");
	/* READ BINARY the remaining 18 bytes from offset 4. */
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x04);
	a.ne = 0x12;
	exchange(tsm, csm, &a, "00B0000412", "0CB000040D9701128E082EA28A70F3C7B53500",
	    cnie_buf_ptr(ef_com) + 4, 18,
	    "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D74"
	    "9000");
	assert_ssc(tsm, "887022120C06C22C");
	assert_ssc(csm, "887022120C06C22C");

	cnie_sm_free(&tsm);
	cnie_sm_free(&csm);
	cnie_bac_free(&term);
	cnie_bac_free(&card);
	assert_null(term);
	cnie_buf_free(&rnd_ic);
	cnie_buf_free(&rnd_ifd);
	cnie_buf_free(&k_ifd);
	cnie_buf_free(&k_ic);
	cnie_buf_free(&ef_com);
}

/* Wrong MRZ, wrong challenge, tampered answers: CNIE_ERR_BAC, no session. */
static void
test_rejections(void **state)
{
	static const uint8_t rnd_ic[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t other_ic[8] = { 1, 2, 3, 4, 5, 6, 7, 9 };
	static const uint8_t rnd_ifd[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	static const uint8_t k[16] = { 0x42 };
	cnie_bac *term = NULL, *card = NULL, *wrong = NULL;
	cnie_sm *sm = NULL;
	uint8_t cmd[40], resp[40];

	(void)state;
	assert_int_equal(cnie_bac_new(D_MRZ_INFO, &term), 0);
	assert_int_equal(cnie_bac_new(D_MRZ_INFO, &card), 0);
	assert_int_equal(cnie_bac_new("L898902C<369080619406237", &wrong), 0);

	/* _finish before _auth. */
	memset(resp, 0, sizeof(resp));
	assert_int_equal(cnie_bac_terminal_finish(term, resp, sizeof(resp), &sm), CNIE_ERR_STATE);

	assert_int_equal(cnie_bac_terminal_auth(term, rnd_ic, rnd_ifd, k, cmd), 0);
	/* Card with another MRZ: the MAC fails. */
	assert_int_equal(cnie_bac_card_auth(wrong, rnd_ic, cmd, sizeof(cmd), k, resp, &sm),
	    CNIE_ERR_BAC);
	assert_null(sm);
	/* Card that issued another challenge. */
	assert_int_equal(cnie_bac_card_auth(card, other_ic, cmd, sizeof(cmd), k, resp, &sm),
	    CNIE_ERR_BAC);
	/* Wrong length. */
	assert_int_equal(cnie_bac_card_auth(card, rnd_ic, cmd, 39, k, resp, &sm), CNIE_ERR_BAC);
	/* A genuine answer, tampered: the terminal refuses it. */
	assert_int_equal(cnie_bac_card_auth(card, rnd_ic, cmd, sizeof(cmd), k, resp, &sm), 0);
	cnie_sm_free(&sm);
	resp[3] ^= 1;
	assert_int_equal(cnie_bac_terminal_finish(term, resp, sizeof(resp), &sm), CNIE_ERR_BAC);
	assert_null(sm);
	/* One try per _auth. */
	resp[3] ^= 1;
	assert_int_equal(cnie_bac_terminal_finish(term, resp, sizeof(resp), &sm), CNIE_ERR_STATE);

	/* An answer from a card that did not echo our RND.IFD (valid MAC). */
	assert_int_equal(cnie_bac_terminal_auth(term, other_ic, rnd_ifd, k, cmd), 0);
	assert_int_equal(cnie_bac_card_auth(card, other_ic, cmd, sizeof(cmd), k, resp, &sm), 0);
	cnie_sm_free(&sm);
	assert_int_equal(cnie_bac_terminal_auth(term, rnd_ic, rnd_ifd, k, cmd), 0);
	assert_int_equal(cnie_bac_terminal_finish(term, resp, sizeof(resp), &sm), CNIE_ERR_BAC);

	cnie_bac_free(&term);
	assert_int_equal(cnie_bac_new("short", &term), CNIE_ERR_INVALID_ARG);
	assert_null(term);
	cnie_bac_free(&card);
	cnie_bac_free(&wrong);
	cnie_bac_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mrz_info_from_fields),
		cmocka_unit_test(test_mrz_info_from_mrz),
		cmocka_unit_test(test_app_d_keys),
		cmocka_unit_test(test_app_d_worked_example),
		cmocka_unit_test(test_rejections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
