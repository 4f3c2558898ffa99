/*
 * A card pulled or reset in the middle of an exchange (src/libcnie/pcsc.c
 * card_fail): whatever the reader driver's transmit error, the handle's
 * status decides between "card removed", "card reset", "no card", "pcscd
 * gone" and the original error.  Scripted winscard (fake_winscard.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

#include "fake_winscard.h"

static const uint8_t cmd[] = { 0x00, 0xA4, 0x00, 0x0C };

static int
transmit_with(LONG transmit_rv, LONG status_rv)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	uint8_t resp[16];
	size_t n = sizeof(resp);
	int r;

	fake_reset();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_connect(ctx, "Reader A 00 00", &t), 0);
	fake.transmit_rv = transmit_rv;
	fake.status_rv = status_rv;
	r = fake_tr.ops->transmit(fake_tr.ctx, cmd, sizeof(cmd), resp, &n);
	fake.status_rv = SCARD_S_SUCCESS;
	cnie_transport_free(&t);
	cnie_pcsc_free(&ctx);
	return r;
}

/* A communication error on a card pcscd already knows was pulled. */
static void
test_comm_error_card_removed(void **state)
{
	(void)state;
	assert_int_equal(transmit_with(SCARD_F_COMM_ERROR, SCARD_W_REMOVED_CARD),
	    CNIE_ERR_CARD_REMOVED);
	assert_int_equal(transmit_with(SCARD_E_NOT_TRANSACTED, SCARD_W_REMOVED_CARD),
	    CNIE_ERR_CARD_REMOVED);
	assert_int_equal(transmit_with(SCARD_W_UNRESPONSIVE_CARD, SCARD_E_NO_SMARTCARD),
	    CNIE_ERR_NO_CARD);
	/* pcsc-lite once the card it was connected to has gone (removal, reset). */
	assert_int_equal(transmit_with(SCARD_E_PROTO_MISMATCH, SCARD_W_REMOVED_CARD),
	    CNIE_ERR_CARD_REMOVED);
}

static void
test_comm_error_card_reset(void **state)
{
	(void)state;
	assert_int_equal(transmit_with(SCARD_E_COMM_DATA_LOST, SCARD_W_RESET_CARD),
	    CNIE_ERR_CARD_RESET);
	assert_int_equal(transmit_with(SCARD_E_TIMEOUT, SCARD_W_RESET_CARD), CNIE_ERR_CARD_RESET);
}

static void
test_comm_error_pcscd_gone(void **state)
{
	(void)state;
	assert_int_equal(transmit_with(SCARD_F_COMM_ERROR, SCARD_E_NO_SERVICE),
	    CNIE_ERR_NO_SERVICE);
	/* A pcscd shutting down: "access denied" on a handle it has dropped. */
	assert_int_equal(transmit_with(SCARD_W_SECURITY_VIOLATION, SCARD_E_NO_SERVICE),
	    CNIE_ERR_NO_SERVICE);
}

/* The card is still there after the settle time: the error stays what it was. */
static void
test_comm_error_card_present(void **state)
{
	(void)state;
	assert_int_equal(transmit_with(SCARD_F_COMM_ERROR, SCARD_S_SUCCESS), CNIE_ERR_COMM);
}

/* Errors that are not about the card are never reclassified. */
static void
test_other_errors_kept(void **state)
{
	(void)state;
	assert_int_equal(transmit_with(SCARD_E_INVALID_PARAMETER, SCARD_W_REMOVED_CARD),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(transmit_with(SCARD_W_REMOVED_CARD, SCARD_S_SUCCESS),
	    CNIE_ERR_CARD_REMOVED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comm_error_card_removed),
		cmocka_unit_test(test_comm_error_card_reset),
		cmocka_unit_test(test_comm_error_pcscd_gone),
		cmocka_unit_test(test_comm_error_card_present),
		cmocka_unit_test(test_other_errors_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
