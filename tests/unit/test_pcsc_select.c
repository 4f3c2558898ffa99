/*
 * Choosing a reader (cnie_pcsc_select_reader, src/libcnie/pcsc.c) against
 * the scripted winscard (fake_winscard.c): exact name, name without slot
 * numbers, unique substring, the only reader with a card, and every
 * ambiguity reported with the readers that fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>

#include "fake_winscard.h"

/* Three readers, names as pcsc-lite builds them; cards in the ones asked for. */
static cnie_pcsc *
three_readers(bool card_a, bool card_b, bool card_c)
{
	static const char ms[] = "ACS ACR 38U 00 00\0ACS ACR 38U 01 00\0Gemalto PC Twin 02 00\0";
	cnie_pcsc *ctx = NULL;

	fake_reset();
	fake.readers = ms;
	fake.readers_len = sizeof(ms);
	fake.rd[0].name = "ACS ACR 38U 00 00";
	fake.rd[1].name = "ACS ACR 38U 01 00";
	fake.rd[2].name = "Gemalto PC Twin 02 00";
	fake.rd[0].state = card_a ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY;
	fake.rd[1].state = card_b ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY;
	fake.rd[2].state = card_c ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY;
	fake.nrd = 3;
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	return ctx;
}

static int
select_one(cnie_pcsc *ctx, const char *wanted, unsigned flags, const char *want_name)
{
	static char poison[] = "x";
	char *chosen = poison, **matches = &chosen; /* both must be overwritten */
	int r = cnie_pcsc_select_reader(ctx, wanted, flags, &chosen, &matches);

	assert_null(matches);
	if (r == 0) {
		assert_non_null(chosen);
		assert_string_equal(chosen, want_name);
		free(chosen);
	} else {
		assert_null(chosen);
	}
	return r;
}

static void
test_by_name(void **state)
{
	cnie_pcsc *ctx = three_readers(false, false, false);

	(void)state;
	/* Exact, then without slot numbers, then a unique substring; no card needed. */
	assert_int_equal(select_one(ctx, "ACS ACR 38U 01 00", 0, "ACS ACR 38U 01 00"), 0);
	assert_int_equal(select_one(ctx, "Gemalto PC Twin", 0, "Gemalto PC Twin 02 00"), 0);
	assert_int_equal(select_one(ctx, "Twin", 0, "Gemalto PC Twin 02 00"), 0);
	assert_int_equal(select_one(ctx, "Omnikey", 0, NULL), CNIE_ERR_READER_NOT_FOUND);
	/* EXACT: only the full name. */
	assert_int_equal(select_one(ctx, "Twin", CNIE_PCSC_SELECT_EXACT, NULL),
	    CNIE_ERR_READER_NOT_FOUND);
	assert_int_equal(select_one(ctx, "ACS ACR 38U 00 00", CNIE_PCSC_SELECT_EXACT,
	    "ACS ACR 38U 00 00"), 0);
	/* CARD: the named reader must hold one. */
	assert_int_equal(select_one(ctx, "Twin", CNIE_PCSC_SELECT_CARD, NULL), CNIE_ERR_NO_CARD);
	cnie_pcsc_free(&ctx);
	ctx = three_readers(false, false, true);
	assert_int_equal(select_one(ctx, "Twin", CNIE_PCSC_SELECT_CARD, "Gemalto PC Twin 02 00"), 0);
	cnie_pcsc_free(&ctx);
}

/* A name that fits several readers is a question back, with the candidates. */
static void
test_ambiguous_name_lists_matches(void **state)
{
	cnie_pcsc *ctx = three_readers(true, false, false);
	char *chosen = NULL, **matches = NULL;

	(void)state;
	/* Both ACS readers have the base name "ACS ACR 38U": never a pick by order. */
	assert_int_equal(cnie_pcsc_select_reader(ctx, "ACS ACR 38U", 0, &chosen, &matches),
	    CNIE_ERR_INVALID_ARG);
	assert_null(chosen);
	assert_non_null(matches);
	assert_string_equal(matches[0], "ACS ACR 38U 00 00");
	assert_string_equal(matches[1], "ACS ACR 38U 01 00");
	assert_null(matches[2]);
	cnie_pcsc_free_names(&matches);
	assert_int_equal(cnie_pcsc_select_reader(ctx, "ACS", 0, &chosen, &matches),
	    CNIE_ERR_INVALID_ARG);
	assert_non_null(matches);
	cnie_pcsc_free_names(&matches);
	/* An exact name beats the substrings it contains. */
	assert_int_equal(select_one(ctx, "ACS ACR 38U 00 00", 0, "ACS ACR 38U 00 00"), 0);
	/* matches NULL: the error alone. */
	assert_int_equal(cnie_pcsc_select_reader(ctx, "ACS", 0, &chosen, NULL),
	    CNIE_ERR_INVALID_ARG);
	cnie_pcsc_free(&ctx);
}

static void
test_by_card(void **state)
{
	cnie_pcsc *ctx = three_readers(false, false, false);
	char *chosen = NULL, **matches = NULL;

	(void)state;
	assert_int_equal(select_one(ctx, NULL, 0, NULL), CNIE_ERR_NO_CARD);
	cnie_pcsc_free(&ctx);
	ctx = three_readers(false, true, false);
	assert_int_equal(select_one(ctx, "", 0, "ACS ACR 38U 01 00"), 0);
	cnie_pcsc_free(&ctx);
	/* Two cards: never a random pick; the two readers are listed. */
	ctx = three_readers(true, false, true);
	assert_int_equal(cnie_pcsc_select_reader(ctx, NULL, 0, &chosen, &matches),
	    CNIE_ERR_BUSY);
	assert_null(chosen);
	assert_non_null(matches);
	assert_string_equal(matches[0], "ACS ACR 38U 00 00");
	assert_string_equal(matches[1], "Gemalto PC Twin 02 00");
	assert_null(matches[2]);
	cnie_pcsc_free_names(&matches);
	cnie_pcsc_free(&ctx);
}

static void
test_errors(void **state)
{
	cnie_pcsc *ctx = NULL;
	char *chosen = NULL, **matches = NULL;

	(void)state;
	fake_reset();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	fake.list_rv = SCARD_E_NO_READERS_AVAILABLE;
	assert_int_equal(cnie_pcsc_select_reader(ctx, NULL, 0, &chosen, &matches),
	    CNIE_ERR_NO_READER);
	assert_null(chosen);
	assert_null(matches);
	fake.list_rv = SCARD_E_NO_SERVICE;
	assert_int_equal(cnie_pcsc_select_reader(ctx, "x", 0, &chosen, &matches),
	    CNIE_ERR_NO_SERVICE);
	assert_int_equal(cnie_pcsc_select_reader(NULL, "x", 0, &chosen, &matches),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pcsc_select_reader(ctx, "x", 0, NULL, &matches),
	    CNIE_ERR_INVALID_ARG);
	cnie_pcsc_free(&ctx);
}

/* pcsc-lite's " XX YY" slot numbers are what the base name leaves out. */
static void
test_reader_base(void **state)
{
	char b[64];

	(void)state;
	assert_int_equal(cnie_pcsc_reader_base("ACS ACR 38U-CCID 00 00", b, sizeof(b)), 16);
	assert_string_equal(b, "ACS ACR 38U-CCID");
	cnie_pcsc_reader_base("Yubico YubiKey OTP+FIDO+CCID 01 00", b, sizeof(b));
	assert_string_equal(b, "Yubico YubiKey OTP+FIDO+CCID");
	cnie_pcsc_reader_base("Reader [CCID Interface] (123) 0A 1F", b, sizeof(b));
	assert_string_equal(b, "Reader [CCID Interface] (123)");
	/* Not the " XX YY" form: kept whole. */
	cnie_pcsc_reader_base("Reader 0 00", b, sizeof(b));
	assert_string_equal(b, "Reader 0 00");
	cnie_pcsc_reader_base("Reader 0G 00", b, sizeof(b));
	assert_string_equal(b, "Reader 0G 00");
	cnie_pcsc_reader_base(" 00 00", b, sizeof(b));
	assert_string_equal(b, "");
	cnie_pcsc_reader_base("", b, sizeof(b));
	assert_string_equal(b, "");
	/* Truncated to the buffer. */
	assert_int_equal(cnie_pcsc_reader_base("A very long reader name 00 00", b, 7), 6);
	assert_string_equal(b, "A very");
	assert_int_equal(cnie_pcsc_reader_base(NULL, b, sizeof(b)), 0);
	assert_string_equal(b, "");
	assert_int_equal(cnie_pcsc_reader_base("x", NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_ambiguous_name_lists_matches),
		cmocka_unit_test(test_by_card),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reader_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
