/*
 * Secure messaging (src/libcnie/sm.c): AES vectors computed independently (Python
 * "cryptography", keys of 9303-11 App. G.1), terminal/card round trips for
 * every cipher, DO 85/97 encodings, extended lengths, and every rejection
 * path of both unwrap functions.  The 3DES vectors of App. D are replayed
 * in test_bac.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/sm.h>

#include "unitutil.h"

static const char *G1_KSENC = "F5F0E35C0D7161EE6724EE513A0D9A7F";
static const char *G1_KSMAC = "FE251C7858B356B24514B3BD5F4297D1";

static cnie_sm *
new_sm(cnie_sm_cipher c, uint8_t seed)
{
	uint8_t kenc[32], kmac[32];
	cnie_sm *sm = NULL;
	size_t i, n = cnie_sm_key_len(c);

	for (i = 0; i < sizeof(kenc); i++) {
		kenc[i] = (uint8_t)(seed + i);
		kmac[i] = (uint8_t)(seed * 3 + i);
	}
	assert_int_equal(cnie_sm_new(c, kenc, kmac, n, NULL, 0, &sm), 0);
	return sm;
}

static cnie_sm *
g1_sm(void)
{
	cnie_buf *e = tu_hex(G1_KSENC), *m = tu_hex(G1_KSMAC);
	cnie_sm *sm = NULL;

	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, cnie_buf_ptr(e), cnie_buf_ptr(m), 16, NULL,
			     0, &sm),
	    0);
	cnie_buf_free(&e);
	cnie_buf_free(&m);
	return sm;
}

/* Terminal side, AES-128: exact protected bytes for a command/response exchange. */
static void
test_aes_terminal_vectors(void **state)
{
	static const uint8_t fid[] = { 0x01, 0x1E };
	cnie_sm *sm = g1_sm();
	cnie_buf *out = cnie_buf_new(), *resp;
	cnie_apdu a;
	uint16_t sw = 0;
	uint8_t ssc[16];
	size_t n = sizeof(ssc);

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x02, 0x0C);
	a.data = fid;
	a.nc = sizeof(fid);
	assert_int_equal(cnie_sm_wrap_command(sm, &a, out), 0);
	tu_assert_buf_hex(out, "0CA4020C1D871101EE0E4724F4465C1BE9C2F73ABDD73A3D8E08835D1B54575C955F00");

	resp = tu_hex("990290008E08BEA7B381C494A0799000");
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(resp), cnie_buf_len(resp), out,
			     &sw),
	    0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(out), 0);
	cnie_buf_free(&resp);

	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 4;
	assert_int_equal(cnie_sm_wrap_command(sm, &a, out), 0);
	tu_assert_buf_hex(out, "0CB000000D9701048E08AA6BA54F44DF836400");

	resp = tu_hex("871101645C0B1F998A088278D07942BBE94B60990290008E0894A33C6AA2D8CCC89000");
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(resp), cnie_buf_len(resp), out,
			     &sw),
	    0);
	tu_assert_buf_hex(out, "60145F01");
	assert_int_equal(sw, 0x9000);
	cnie_buf_free(&resp);

	assert_int_equal(cnie_sm_get_ssc(sm, ssc, &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(ssc[15], 4);
	cnie_buf_free(&out);
	cnie_sm_free(&sm);
	assert_null(sm);
}

/* Card side, AES-128: unwraps the same commands and produces the same responses. */
static void
test_aes_card_vectors(void **state)
{
	cnie_sm *sm = g1_sm();
	cnie_buf *cmd, *out = cnie_buf_new();
	static const uint8_t data[] = { 0x60, 0x14, 0x5F, 0x01 };

	(void)state;
	cmd = tu_hex("0CA4020C1D871101EE0E4724F4465C1BE9C2F73ABDD73A3D8E08835D1B54575C955F00");
	assert_int_equal(cnie_sm_unwrap_command(sm, cnie_buf_ptr(cmd), cnie_buf_len(cmd), out), 0);
	tu_assert_buf_hex(out, "00A4020C02011E");
	cnie_buf_free(&cmd);
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_wrap_response(sm, NULL, 0, 0x9000, out), 0);
	tu_assert_buf_hex(out, "990290008E08BEA7B381C494A0799000");

	cmd = tu_hex("0CB000000D9701048E08AA6BA54F44DF836400");
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_unwrap_command(sm, cnie_buf_ptr(cmd), cnie_buf_len(cmd), out), 0);
	tu_assert_buf_hex(out, "00B0000004");
	cnie_buf_free(&cmd);
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_wrap_response(sm, data, sizeof(data), 0x9000, out), 0);
	tu_assert_buf_hex(out, "871101645C0B1F998A088278D07942BBE94B60990290008E0894A33C6AA2D8CCC89000");
	cnie_buf_free(&out);
	cnie_sm_free(&sm);
}

/* Wraps on one session, unwraps on a twin: plain command comes back as encoded. */
static void
roundtrip(cnie_sm_cipher c, const cnie_apdu *a, const char *want_plain)
{
	cnie_sm *term = new_sm(c, 7), *card = new_sm(c, 7);
	cnie_buf *p = cnie_buf_new(), *plain = cnie_buf_new(), *r = cnie_buf_new();
	static uint8_t big[1000];
	uint16_t sw = 0;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	assert_int_equal(cnie_sm_wrap_command(term, a, p), 0);
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), plain), 0);
	if (want_plain != NULL)
		tu_assert_buf_hex(plain, want_plain);
	assert_int_equal(cnie_sm_wrap_response(card, big, sizeof(big), 0x6282, r), 0);
	cnie_buf_reset(plain);
	assert_int_equal(cnie_sm_unwrap_response(term, cnie_buf_ptr(r), cnie_buf_len(r), plain, &sw),
	    0);
	assert_int_equal(sw, 0x6282);
	assert_int_equal(cnie_buf_len(plain), sizeof(big));
	assert_memory_equal(cnie_buf_ptr(plain), big, sizeof(big));
	cnie_buf_free(&p);
	cnie_buf_free(&plain);
	cnie_buf_free(&r);
	cnie_sm_free(&term);
	cnie_sm_free(&card);
}

static void
test_roundtrip_all_ciphers(void **state)
{
	static const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	cnie_sm_cipher cs[] = { CNIE_SM_3DES, CNIE_SM_AES128, CNIE_SM_AES192, CNIE_SM_AES256 };
	cnie_apdu a;
	size_t i;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = sizeof(d);
	a.ne = 256;
	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		roundtrip(cs[i], &a, "002A9E9A0901020304050607080900");
}

/* Odd INS: the cryptogram goes into DO 85, with no padding indicator. */
static void
test_odd_ins_uses_do85(void **state)
{
	static const uint8_t d[] = { 0x54, 0x02, 0x00, 0x00 };
	cnie_sm *sm = new_sm(CNIE_SM_AES128, 1);
	cnie_buf *p = cnie_buf_new();
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xB1, 0x01, 0x1E);
	a.data = d;
	a.nc = sizeof(d);
	a.ne = 256;
	assert_int_equal(cnie_sm_wrap_command(sm, &a, p), 0);
	/* 0C B1 011E Lc 85 10 <16> 97 01 00 8E 08 <8> 00 */
	assert_int_equal(cnie_buf_len(p), 5 + 18 + 3 + 10 + 1);
	assert_int_equal(cnie_buf_ptr(p)[5], 0x85);
	assert_int_equal(cnie_buf_ptr(p)[6], 0x10);
	assert_int_equal(cnie_buf_ptr(p)[23], 0x97);
	assert_int_equal(cnie_buf_ptr(p)[25], 0x00); /* Ne 256 -> 00 */
	cnie_buf_free(&p);
	cnie_sm_free(&sm);
	roundtrip(CNIE_SM_AES128, &a, "00B1011E045402000000");
}

/* Long data or Ne > 256: extended protected APDU, DO 97 on two bytes, Le 0000. */
static void
test_extended_lengths(void **state)
{
	static uint8_t d[300];
	cnie_sm *sm = new_sm(CNIE_SM_AES128, 2);
	cnie_buf *p = cnie_buf_new();
	const uint8_t *q;
	cnie_apdu a;
	size_t n;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 65536;
	assert_int_equal(cnie_sm_wrap_command(sm, &a, p), 0);
	q = cnie_buf_ptr(p);
	n = cnie_buf_len(p);
	/* 0C B0 0000 00 00 0E 97 02 00 00 8E 08 <8> 00 00 */
	assert_int_equal(n, 4 + 3 + 14 + 2);
	assert_memory_equal(q, "\x0C\xB0\x00\x00\x00\x00\x0E\x97\x02\x00\x00\x8E\x08", 13);
	assert_int_equal(q[n - 2], 0);
	assert_int_equal(q[n - 1], 0);
	roundtrip(CNIE_SM_AES128, &a, "00B00000000000");

	cnie_apdu_init(&a, 0x00, 0xD6, 0x00, 0x00);
	a.data = d;
	a.nc = sizeof(d);
	roundtrip(CNIE_SM_3DES, &a, NULL);
	cnie_buf_free(&p);
	cnie_sm_free(&sm);
}

/* Card side: each way a protected command can be wrong, and its status. */
static void
test_card_rejects(void **state)
{
	static const uint8_t fid[] = { 0x01, 0x1E };
	cnie_sm *term = g1_sm(), *card;
	cnie_buf *p = cnie_buf_new(), *out = cnie_buf_new(), *bad;
	cnie_apdu a;
	uint8_t *m;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x02, 0x0C);
	a.data = fid;
	a.nc = sizeof(fid);
	assert_int_equal(cnie_sm_wrap_command(term, &a, p), 0);

	/* Flipped MAC byte. */
	card = g1_sm();
	bad = cnie_buf_from(cnie_buf_ptr(p), cnie_buf_len(p));
	m = cnie_buf_mutable_ptr(bad);
	m[cnie_buf_len(bad) - 2] ^= 1;
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	assert_int_equal(cnie_buf_len(out), 0);
	cnie_buf_free(&bad);
	cnie_sm_free(&card);

	/* Flipped ciphertext byte: caught by the MAC before decryption. */
	card = g1_sm();
	bad = cnie_buf_from(cnie_buf_ptr(p), cnie_buf_len(p));
	cnie_buf_mutable_ptr(bad)[10] ^= 0x80;
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	cnie_sm_free(&card);

	/* Header changed (P1): the header is authenticated. */
	card = g1_sm();
	bad = cnie_buf_from(cnie_buf_ptr(p), cnie_buf_len(p));
	cnie_buf_mutable_ptr(bad)[2] = 0x04;
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	cnie_sm_free(&card);

	/* Replay on a session already past that SSC. */
	card = g1_sm();
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), out), 0);
	cnie_buf_reset(out);
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_sm_free(&card);

	/* Plain command, or SM class without a MAC object. */
	card = g1_sm();
	bad = tu_hex("00A4020C02011E");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_MISSING);
	cnie_buf_free(&bad);
	bad = tu_hex("0CB00000039701 0400");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_MISSING);
	cnie_buf_free(&bad);
	bad = tu_hex("0CB0000000");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_MISSING);
	cnie_buf_free(&bad);
	/* Unknown DO, objects after 8E, short MAC, truncated TLV. */
	bad = tu_hex("0CB00000 0D 5301008E08 0102030405060708 00");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	bad = tu_hex("0CB00000 0D 8E080102030405060708 970104 00");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	bad = tu_hex("0CB00000 06 8E0401020304 00");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	bad = tu_hex("0CB00000 04 8E080102 00");
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(bad), cnie_buf_len(bad), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&bad);
	assert_int_equal(cnie_buf_len(out), 0);
	cnie_sm_free(&card);

	cnie_buf_free(&p);
	cnie_buf_free(&out);
	cnie_sm_free(&term);
}

/* A DO 85 relabelled as DO 87 (no padding indicator): rejected. */
static void
test_card_rejects_changed_do_tag(void **state)
{
	cnie_sm *term = new_sm(CNIE_SM_AES128, 9), *card = new_sm(CNIE_SM_AES128, 9);
	cnie_buf *p = cnie_buf_new(), *out = cnie_buf_new();
	static const uint8_t d[] = { 0xAA };
	cnie_apdu a;

	(void)state;
	/* The MAC covers the tags: rejected before any decryption. */
	cnie_apdu_init(&a, 0x00, 0xB1, 0x00, 0x00);
	a.data = d;
	a.nc = sizeof(d);
	assert_int_equal(cnie_sm_wrap_command(term, &a, p), 0);
	cnie_buf_mutable_ptr(p)[5] = 0x87;
	assert_int_equal(cnie_sm_unwrap_command(card, cnie_buf_ptr(p), cnie_buf_len(p), out),
	    CNIE_ERR_SW_SM_INCORRECT);
	cnie_buf_free(&p);
	cnie_buf_free(&out);
	cnie_sm_free(&term);
	cnie_sm_free(&card);
}

/* Terminal side: tampered, truncated or plain responses are errors. */
static void
test_terminal_rejects(void **state)
{
	cnie_sm *sm;
	cnie_buf *r, *out = cnie_buf_new();
	uint16_t sw = 0;

	(void)state;
	/* 6988 in plain from the card: the error, with the SW. */
	sm = g1_sm();
	r = tu_hex("6988");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	assert_int_equal(sw, 0x6988);
	cnie_buf_free(&r);
	/* Plain 6982 / 6A82: returned as the status word, nothing appended. */
	r = tu_hex("6982");
	sw = 0;
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    0);
	assert_int_equal(sw, 0x6982);
	cnie_buf_free(&r);
	r = tu_hex("6A82");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    0);
	assert_int_equal(sw, 0x6A82);
	cnie_buf_free(&r);
	/* A plain success or warning is never taken: 9000, 6282, 6987. */
	r = tu_hex("9000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("6282");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("6987");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	assert_int_equal(cnie_buf_len(out), 0);
	/* Too short. */
	r = tu_hex("90");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_BAD_RESPONSE);
	cnie_buf_free(&r);
	cnie_sm_free(&sm);

	/* Right response, wrong MAC (the SSC is one step ahead: 1 was used). */
	sm = g1_sm();
	r = tu_hex("990290008E08BEA7B381C494A0799000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	cnie_sm_free(&sm);

	/* MAC missing; status object missing; objects out of order. */
	sm = g1_sm();
	r = tu_hex("990290009000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("8E0801020304050607089000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("990290008E080102030405060708 8703010203 9000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("99029000 8E04 01020304 9000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	r = tu_hex("8781 9000");
	assert_int_equal(cnie_sm_unwrap_response(sm, cnie_buf_ptr(r), cnie_buf_len(r), out, &sw),
	    CNIE_ERR_SM);
	cnie_buf_free(&r);
	assert_int_equal(cnie_buf_len(out), 0);
	cnie_sm_free(&sm);
	cnie_buf_free(&out);
}

/* The SSC carries across bytes and wraps to zero. */
static void
test_ssc_carry(void **state)
{
	static const uint8_t k[16] = { 1 };
	uint8_t ssc[8] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF }, got[8];
	uint8_t all[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	cnie_sm *sm = NULL;
	cnie_buf *out = cnie_buf_new();
	cnie_apdu a;
	size_t n = sizeof(got);

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 1;
	assert_int_equal(cnie_sm_new(CNIE_SM_3DES, k, k, 16, ssc, 8, &sm), 0);
	assert_int_equal(cnie_sm_wrap_command(sm, &a, out), 0);
	assert_int_equal(cnie_sm_get_ssc(sm, got, &n), 0);
	assert_memory_equal(got, "\x00\x00\x00\x00\x00\x00\x01\x00", 8);
	cnie_sm_free(&sm);
	assert_int_equal(cnie_sm_new(CNIE_SM_3DES, k, k, 16, all, 8, &sm), 0);
	assert_int_equal(cnie_sm_wrap_command(sm, &a, out), 0);
	n = sizeof(got);
	assert_int_equal(cnie_sm_get_ssc(sm, got, &n), 0);
	assert_memory_equal(got, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
	n = 4;
	assert_int_equal(cnie_sm_get_ssc(sm, got, &n), CNIE_ERR_BUFFER_TOO_SMALL);
	cnie_sm_free(&sm);
	cnie_buf_free(&out);
}

/* KDF of 9303-11 9.7.1: App. D Kseed -> Kenc/Kmac (parity adjusted). */
static void
test_kdf(void **state)
{
	cnie_buf *seed = tu_hex("239AB9CB282DAF66231DC5A4DF6BFBAE");
	uint8_t k[32];

	(void)state;
	assert_int_equal(cnie_sm_kdf(CNIE_SM_3DES, cnie_buf_ptr(seed), 16, 1, k, 16), 0);
	assert_memory_equal(k, "\xAB\x94\xFD\xEC\xF2\x67\x4F\xDF\xB9\xB3\x91\xF8\x5D\x7F\x76\xF2",
	    16);
	assert_int_equal(cnie_sm_kdf(CNIE_SM_3DES, cnie_buf_ptr(seed), 16, 2, k, 16), 0);
	assert_memory_equal(k, "\x79\x62\xD9\xEC\xE0\x3D\x1A\xCD\x4C\x76\x08\x9D\xCE\x13\x15\x43",
	    16);
	assert_int_equal(cnie_sm_kdf(CNIE_SM_AES128, cnie_buf_ptr(seed), 16, 1, k, 24),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_kdf((cnie_sm_cipher)9, cnie_buf_ptr(seed), 16, 1, k, 16),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_kdf(CNIE_SM_AES256, cnie_buf_ptr(seed), 16, 1, k, 32), 0);
	cnie_buf_free(&seed);
}

static void
test_invalid_args(void **state)
{
	static const uint8_t k[32];
	cnie_sm *sm = NULL;
	cnie_buf *out = cnie_buf_new();
	cnie_apdu a;
	uint16_t sw;

	(void)state;
	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, k, k, 24, NULL, 0, &sm), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_new(CNIE_SM_AES128, k, k, 16, k, 8, &sm), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_new(CNIE_SM_3DES, NULL, k, 16, NULL, 0, &sm), CNIE_ERR_INVALID_ARG);
	assert_null(sm);
	assert_int_equal(cnie_sm_new(CNIE_SM_AES256, k, k, 32, NULL, 0, &sm), 0);
	assert_int_equal(cnie_sm_get_cipher(sm), CNIE_SM_AES256);
	cnie_apdu_init(&a, 0x0C, 0xB0, 0x00, 0x00); /* already SM */
	assert_int_equal(cnie_sm_wrap_command(sm, &a, out), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_wrap_command(NULL, &a, out), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_sm_unwrap_response(sm, NULL, 0, out, &sw), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_sm_unwrap_command(sm, NULL, 0, out), CNIE_ERR_SW_SM_INCORRECT);
	cnie_sm_free(&sm);
	cnie_sm_free(&sm); /* NULL-safe */
	cnie_sm_free(NULL);
	cnie_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aes_terminal_vectors),
		cmocka_unit_test(test_aes_card_vectors),
		cmocka_unit_test(test_roundtrip_all_ciphers),
		cmocka_unit_test(test_odd_ins_uses_do85),
		cmocka_unit_test(test_extended_lengths),
		cmocka_unit_test(test_card_rejects),
		cmocka_unit_test(test_card_rejects_changed_do_tag),
		cmocka_unit_test(test_terminal_rejects),
		cmocka_unit_test(test_ssc_carry),
		cmocka_unit_test(test_kdf),
		cmocka_unit_test(test_invalid_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
