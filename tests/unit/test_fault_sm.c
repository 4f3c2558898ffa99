/*
 * Fault injection into secure messaging (src/libcnie/sm.c, tests/common/fault.h):
 * key derivation, a terminal wrapping a command and the card side
 * unwrapping it, the card wrapping the answer and the terminal unwrapping
 * it, for 3DES, AES-128 and AES-256.  Every allocation and OpenSSL call on
 * that path fails once in turn: each run must end in an error or in the
 * exact plain command and answer, never in other bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/sm.h>

#include "fault.h"

static const uint8_t secret[] = "a shared secret from PACE or BAC, 32+";
static const uint8_t body[] = { 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
	0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40 };
static const uint8_t answer[] = { 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0x05 };

/* Plain command == encoding of the one sent; answer == the card's data. */
static int
check(const cnie_apdu *plain, const cnie_buf *got_cmd, const cnie_buf *got_data, uint16_t sw)
{
	cnie_buf *want;
	int ok;

	fault_pause();
	want = cnie_buf_new();
	ok = want != NULL && cnie_apdu_encode(plain, true, want, NULL) == 0 &&
	    cnie_buf_len(want) == cnie_buf_len(got_cmd) &&
	    memcmp(cnie_buf_ptr(want), cnie_buf_ptr(got_cmd), cnie_buf_len(want)) == 0 &&
	    cnie_buf_len(got_data) == sizeof(answer) &&
	    memcmp(cnie_buf_ptr(got_data), answer, sizeof(answer)) == 0 && sw == 0x9000;
	cnie_buf_free(&want);
	fault_resume();
	return ok ? FAULT_RUN_OK : FAULT_RUN_WRONG;
}

static int
round_trip(void *arg)
{
	cnie_sm_cipher cipher = *(const cnie_sm_cipher *)arg;
	uint8_t kenc[32], kmac[32];
	size_t kl = cnie_sm_key_len(cipher);
	cnie_sm *term = NULL, *card = NULL;
	cnie_buf *wire = NULL, *cmd = NULL, *rwire = NULL, *data = NULL;
	cnie_apdu a;
	uint16_t sw = 0;
	int r;

	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = body;
	a.nc = sizeof(body);
	a.ne = 256;
	if ((r = cnie_sm_kdf(cipher, secret, sizeof(secret), 1, kenc, kl)) != 0 ||
	    (r = cnie_sm_kdf(cipher, secret, sizeof(secret), 2, kmac, kl)) != 0)
		goto out;
	if ((r = cnie_sm_new(cipher, kenc, kmac, kl, NULL, 0, &term)) != 0 ||
	    (r = cnie_sm_new(cipher, kenc, kmac, kl, NULL, 0, &card)) != 0)
		goto out;
	if ((wire = cnie_buf_new()) == NULL || (cmd = cnie_buf_new()) == NULL ||
	    (rwire = cnie_buf_new()) == NULL || (data = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_sm_wrap_command(term, &a, wire)) != 0 ||
	    (r = cnie_sm_unwrap_command(card, cnie_buf_ptr(wire), cnie_buf_len(wire), cmd)) != 0 ||
	    (r = cnie_sm_wrap_response(card, answer, sizeof(answer), 0x9000, rwire)) != 0 ||
	    (r = cnie_sm_unwrap_response(term, cnie_buf_ptr(rwire), cnie_buf_len(rwire), data,
	    &sw)) != 0)
		goto out;
	r = check(&a, cmd, data, sw);
out:
	cnie_buf_free(&wire);
	cnie_buf_free(&cmd);
	cnie_buf_free(&rwire);
	cnie_buf_free(&data);
	cnie_sm_free(&term);
	cnie_sm_free(&card);
	return r;
}

static void
sweep(const char *name, cnie_sm_cipher cipher)
{
	fault_report rep;

	fault_sweep(name, round_trip, &cipher, &rep);
	assert_true(rep.errors > 0);
}

static void
test_3des_round_trip_fails_cleanly(void **state)
{
	(void)state;
	sweep("sm-3des", CNIE_SM_3DES);
}

static void
test_aes128_round_trip_fails_cleanly(void **state)
{
	(void)state;
	sweep("sm-aes128", CNIE_SM_AES128);
}

static void
test_aes256_round_trip_fails_cleanly(void **state)
{
	(void)state;
	sweep("sm-aes256", CNIE_SM_AES256);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_3des_round_trip_fails_cleanly),
		cmocka_unit_test(test_aes128_round_trip_fails_cleanly),
		cmocka_unit_test(test_aes256_round_trip_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
