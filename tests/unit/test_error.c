/* Unit tests for the error space and status-word mapping (src/libcnie/error.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>

#define C(code) { code, #code }

/* Every code of include/cnie/error.h, with its expected symbolic name. */
static const struct {
	int code;
	const char *name;
} all_codes[] = {
	C(CNIE_OK),
	C(CNIE_ERR_INVALID_ARG),
	C(CNIE_ERR_NOMEM),
	C(CNIE_ERR_INTERNAL),
	C(CNIE_ERR_BUFFER_TOO_SMALL),
	C(CNIE_ERR_NOT_FOUND),
	C(CNIE_ERR_UNSUPPORTED),
	C(CNIE_ERR_IO),
	C(CNIE_ERR_CRYPTO),
	C(CNIE_ERR_BUSY),
	C(CNIE_ERR_STATE),
	C(CNIE_ERR_TRUNCATED),
	C(CNIE_ERR_TRAILING),
	C(CNIE_ERR_TOO_LONG),
	C(CNIE_ERR_ENCODING),
	C(CNIE_ERR_NESTING),
	C(CNIE_ERR_BAD_RESPONSE),
	C(CNIE_ERR_NO_SERVICE),
	C(CNIE_ERR_NO_READER),
	C(CNIE_ERR_READER_NOT_FOUND),
	C(CNIE_ERR_NO_CARD),
	C(CNIE_ERR_CARD_REMOVED),
	C(CNIE_ERR_CARD_RESET),
	C(CNIE_ERR_SHARING),
	C(CNIE_ERR_TIMEOUT),
	C(CNIE_ERR_CANCELLED),
	C(CNIE_ERR_COMM),
	C(CNIE_ERR_PERMISSION),
	C(CNIE_ERR_TRANSPORT),
	C(CNIE_ERR_UNRESPONSIVE),
	C(CNIE_ERR_CARD),
	C(CNIE_ERR_SW_WRONG_LENGTH),
	C(CNIE_ERR_SW_SECURITY_STATUS),
	C(CNIE_ERR_SW_AUTH_BLOCKED),
	C(CNIE_ERR_SW_REF_DATA_UNUSABLE),
	C(CNIE_ERR_SW_CONDITIONS),
	C(CNIE_ERR_SW_SM_MISSING),
	C(CNIE_ERR_SW_SM_INCORRECT),
	C(CNIE_ERR_SW_WRONG_DATA),
	C(CNIE_ERR_SW_FUNC_NOT_SUPPORTED),
	C(CNIE_ERR_SW_FILE_NOT_FOUND),
	C(CNIE_ERR_SW_RECORD_NOT_FOUND),
	C(CNIE_ERR_SW_WRONG_P1P2),
	C(CNIE_ERR_SW_REF_NOT_FOUND),
	C(CNIE_ERR_SW_INS_NOT_SUPPORTED),
	C(CNIE_ERR_SW_CLA_NOT_SUPPORTED),
	C(CNIE_ERR_SW_NO_DIAGNOSIS),
	C(CNIE_ERR_SW_END_OF_FILE),
	C(CNIE_ERR_SW_MEMORY),
	C(CNIE_ERR_SW_WRONG_LE),
	C(CNIE_ERR_SW_INCOMPATIBLE_FILE),
	C(CNIE_ERR_SW_NOT_ALLOWED),
	C(CNIE_ERR_SW_FILE_INVALIDATED),
	C(CNIE_ERR_SW_OFFSET),
	C(CNIE_ERR_SW_NOT_ENOUGH_MEMORY),
	C(CNIE_ERR_PIN_INCORRECT),
	C(CNIE_ERR_PIN_BLOCKED),
	C(CNIE_ERR_PIN_FORMAT),
	C(CNIE_ERR_PINPAD_TIMEOUT),
	C(CNIE_ERR_PINPAD_CANCELLED),
	C(CNIE_ERR_SM),
	C(CNIE_ERR_PACE),
	C(CNIE_ERR_BAC),
	C(CNIE_ERR_AUTH_FAILED),
	C(CNIE_ERR_LOGIN_LOST),
	C(CNIE_ERR_CARD_NOT_RECOGNISED),
	C(CNIE_ERR_VERIFY_FAILED),
	C(CNIE_ERR_UNTRUSTED),
	C(CNIE_ERR_EXPIRED),
	C(CNIE_ERR_NEED_CAN),
};

#define NCODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void
test_every_code_has_message_and_name(void **state)
{
	const char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < NCODES; i++) {
		msg = cnie_strerror(all_codes[i].code);
		assert_non_null(msg);
		assert_true(strlen(msg) > 0);
		assert_string_not_equal(msg, "unknown error");
		assert_string_equal(cnie_error_name(all_codes[i].code), all_codes[i].name);
	}
	assert_string_equal(cnie_strerror(CNIE_OK), "success");
}

static void
test_messages_are_distinct(void **state)
{
	size_t i, j;

	(void)state;
	/* A user must be able to tell two failures apart from the message. */
	for (i = 0; i < NCODES; i++)
		for (j = i + 1; j < NCODES; j++)
			assert_string_not_equal(cnie_strerror(all_codes[i].code),
			    cnie_strerror(all_codes[j].code));
}

static void
test_unknown_codes(void **state)
{
	static const int unknown[] = { 1, -11, -19, -26, -39, -53, -59, -85, -99, -116,
		-1000, 0x7fffffff, -0x7fffffff - 1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(cnie_strerror(unknown[i]), "unknown error");
		assert_string_equal(cnie_error_name(unknown[i]), "CNIE_ERR_UNKNOWN");
	}
}

static void
test_sw_mapping_table(void **state)
{
	static const struct {
		uint16_t sw;
		int err;
	} map[] = {
		{ 0x9000, CNIE_OK },
		{ 0x6100, CNIE_OK },
		{ 0x6110, CNIE_OK },
		{ 0x61FF, CNIE_OK },
		{ 0x63C0, CNIE_ERR_PIN_BLOCKED },
		{ 0x63C1, CNIE_ERR_PIN_INCORRECT },
		{ 0x63C3, CNIE_ERR_PIN_INCORRECT },
		{ 0x63CF, CNIE_ERR_PIN_INCORRECT },
		{ 0x6C00, CNIE_ERR_SW_WRONG_LE },
		{ 0x6C10, CNIE_ERR_SW_WRONG_LE },
		{ 0x6CFF, CNIE_ERR_SW_WRONG_LE },
		{ 0x6282, CNIE_ERR_SW_END_OF_FILE },
		{ 0x6283, CNIE_ERR_SW_FILE_INVALIDATED },
		{ 0x6400, CNIE_ERR_PINPAD_TIMEOUT },
		{ 0x6401, CNIE_ERR_PINPAD_CANCELLED },
		{ 0x6581, CNIE_ERR_SW_MEMORY },
		{ 0x6700, CNIE_ERR_SW_WRONG_LENGTH },
		{ 0x6981, CNIE_ERR_SW_INCOMPATIBLE_FILE },
		{ 0x6982, CNIE_ERR_SW_SECURITY_STATUS },
		{ 0x6983, CNIE_ERR_SW_AUTH_BLOCKED },
		{ 0x6984, CNIE_ERR_SW_REF_DATA_UNUSABLE },
		{ 0x6985, CNIE_ERR_SW_CONDITIONS },
		{ 0x6986, CNIE_ERR_SW_NOT_ALLOWED },
		{ 0x6987, CNIE_ERR_SW_SM_MISSING },
		{ 0x6988, CNIE_ERR_SW_SM_INCORRECT },
		{ 0x6A80, CNIE_ERR_SW_WRONG_DATA },
		{ 0x6A81, CNIE_ERR_SW_FUNC_NOT_SUPPORTED },
		{ 0x6A82, CNIE_ERR_SW_FILE_NOT_FOUND },
		{ 0x6A83, CNIE_ERR_SW_RECORD_NOT_FOUND },
		{ 0x6A84, CNIE_ERR_SW_NOT_ENOUGH_MEMORY },
		{ 0x6A86, CNIE_ERR_SW_WRONG_P1P2 },
		{ 0x6A88, CNIE_ERR_SW_REF_NOT_FOUND },
		{ 0x6B00, CNIE_ERR_SW_WRONG_P1P2 },
		{ 0x6D00, CNIE_ERR_SW_INS_NOT_SUPPORTED },
		{ 0x6E00, CNIE_ERR_SW_CLA_NOT_SUPPORTED },
		{ 0x6F00, CNIE_ERR_SW_NO_DIAGNOSIS },
		/* Unknown words, and neighbours of the masked families. */
		{ 0x0000, CNIE_ERR_CARD },
		{ 0x9001, CNIE_ERR_CARD },
		{ 0x6300, CNIE_ERR_CARD },
		{ 0x63B0, CNIE_ERR_CARD },
		{ 0x63D0, CNIE_ERR_CARD },
		{ 0x6200, CNIE_ERR_CARD },
		{ 0x6A87, CNIE_ERR_CARD },
		{ 0x6D01, CNIE_ERR_CARD },
		{ 0x6000, CNIE_ERR_CARD },
		{ 0xFFFF, CNIE_ERR_CARD },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (cnie_sw_to_error(map[i].sw) != map[i].err)
			fail_msg("SW %04X: got %d, want %d", map[i].sw,
			    cnie_sw_to_error(map[i].sw), map[i].err);
		/* A word the library understands also has a name. */
		if (map[i].err != CNIE_ERR_CARD &&
		    strcmp(cnie_sw_name(map[i].sw), "unknown status word") == 0)
			fail_msg("SW %04X has no name", map[i].sw);
	}
}

static void
test_sw_names(void **state)
{
	(void)state;
	assert_string_equal(cnie_sw_name(0x9000), "9000 success");
	assert_string_equal(cnie_sw_name(0x6110), "61xx more data available");
	assert_string_equal(cnie_sw_name(0x6C20), "6Cxx wrong Le, exact length given");
	assert_string_equal(cnie_sw_name(0x63C0), "63C0 verification failed, no try left");
	assert_string_equal(cnie_sw_name(0x63C3), "63Cx verification failed, x tries left");
	assert_string_equal(cnie_sw_name(0x6982), "6982 security status not satisfied");
	assert_string_equal(cnie_sw_name(0x6A82), "6A82 file or application not found");
	assert_string_equal(cnie_sw_name(0x1234), "unknown status word");
	/* Every mapped word has a name of its own that starts with its digits. */
	assert_memory_equal(cnie_sw_name(0x6700), "6700", 4);
	assert_memory_equal(cnie_sw_name(0x6A88), "6A88", 4);
	assert_memory_equal(cnie_sw_name(0x6F00), "6F00", 4);
}

/* The shared kebab-case vocabulary (docs/errors.md), as the bridge's API names it. */
static void
test_error_code_names(void **state)
{
	static const struct {
		int code;
		const char *name;
	} want[] = {
		{ CNIE_OK, "ok" },
		{ CNIE_ERR_NO_SERVICE, "no-service" },
		{ CNIE_ERR_NO_READER, "no-reader" },
		{ CNIE_ERR_READER_NOT_FOUND, "no-reader" },
		{ CNIE_ERR_NO_CARD, "no-card" },
		{ CNIE_ERR_CARD_REMOVED, "no-card" },
		{ CNIE_ERR_CARD_RESET, "card-reset" },
		{ CNIE_ERR_LOGIN_LOST, "card-reset" },
		{ CNIE_ERR_CARD_NOT_RECOGNISED, "card-not-recognised" },
		{ CNIE_ERR_CANCELLED, "user-cancelled" },
		{ CNIE_ERR_PINPAD_CANCELLED, "user-cancelled" },
		{ CNIE_ERR_PIN_INCORRECT, "pin-incorrect" },
		{ CNIE_ERR_PIN_BLOCKED, "pin-blocked" },
		{ CNIE_ERR_SW_AUTH_BLOCKED, "pin-blocked" },
		{ CNIE_ERR_PACE, "can-incorrect" },
		{ CNIE_ERR_BAC, "can-incorrect" },
		{ CNIE_ERR_BUSY, "busy" },
		{ CNIE_ERR_SHARING, "busy" },
		{ CNIE_ERR_TIMEOUT, "timeout" },
		{ CNIE_ERR_PINPAD_TIMEOUT, "timeout" },
		{ CNIE_ERR_INVALID_ARG, "bad-request" },
		{ CNIE_ERR_SW_WRONG_LENGTH, "card-error" },
		{ CNIE_ERR_COMM, "card-error" },
		{ -9999, "card-error" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(cnie_error_code_name(want[i].code), want[i].name);
	/* Every code has one, in kebab case. */
	for (i = 0; i < NCODES; i++) {
		const char *n = cnie_error_code_name(all_codes[i].code);

		assert_non_null(n);
		assert_true(strlen(n) > 1);
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz-"), strlen(n));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_has_message_and_name),
		cmocka_unit_test(test_messages_are_distinct),
		cmocka_unit_test(test_unknown_codes),
		cmocka_unit_test(test_sw_mapping_table),
		cmocka_unit_test(test_sw_names),
		cmocka_unit_test(test_error_code_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
