/*
 * Unit tests for logging and the masked APDU trace (src/libcnie/log.c).
 *
 * The environment (CNIE_LOG, CNIE_APDU_TRACE) is read once per process, so
 * the tests that depend on it re-execute this program with the variable set
 * and a --child-* argument; the child checks and reports by exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cnie/log.h>

#define MAX_LINES 16

struct capture {
	char lines[MAX_LINES][2100];
	cnie_log_level levels[MAX_LINES];
	size_t n;
	size_t overflow;
};

static struct capture cap;

static void
sink(cnie_log_level level, const char *line, void *arg)
{
	struct capture *c = arg;

	if (c->n == MAX_LINES) {
		c->overflow++;
		return;
	}
	c->levels[c->n] = level;
	snprintf(c->lines[c->n], sizeof(c->lines[c->n]), "%s", line);
	c->n++;
}

static int
setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof(cap));
	cnie_log_set_sink(sink, &cap);
	cnie_log_set_apdu_trace(false);
	cnie_log_set_level(CNIE_LOG_WARN);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cnie_log_set_sink(NULL, NULL);
	cnie_log_set_apdu_trace(false);
	cnie_log_set_level(CNIE_LOG_WARN);
	return 0;
}

/* Logs the hex APDU (spaces allowed) in direction dir. */
static void
log_hex(char dir, const char *hex, unsigned flags)
{
	uint8_t b[256];
	size_t n = 0;
	unsigned v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1 || n == sizeof(b))
			abort();
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	cnie_log_apdu(dir, b, n, flags);
}

/* ---- levels ------------------------------------------------------------ */

static void
test_level_gating(void **state)
{
	(void)state;
	assert_int_equal(cnie_log_get_level(), CNIE_LOG_WARN);
	cnie_log_info("hidden %d", 1);
	cnie_log_debug("hidden");
	cnie_log_trace("hidden");
	assert_int_equal(cap.n, 0);
	cnie_log_warn("shown %d", 2);
	cnie_log_error("err %s", "x");
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.levels[0], CNIE_LOG_WARN);
	assert_string_equal(cap.lines[0], "test_level_gating: shown 2");
	assert_int_equal(cap.levels[1], CNIE_LOG_ERROR);
	assert_string_equal(cap.lines[1], "test_level_gating: err x");

	/* The function-level entry point gates as well as the macros. */
	cnie_log_msg(CNIE_LOG_INFO, "f", "hidden");
	assert_int_equal(cap.n, 2);
	cnie_log_set_level(CNIE_LOG_DEBUG);
	cnie_log_msg(CNIE_LOG_DEBUG, "f", "now %s", "shown");
	cnie_log_msg(CNIE_LOG_TRACE, "f", "hidden");
	assert_int_equal(cap.n, 3);
	assert_string_equal(cap.lines[2], "f: now shown");
	assert_int_equal(cap.levels[2], CNIE_LOG_DEBUG);

	/* NONE silences everything; NONE is never a message level. */
	cnie_log_set_level(CNIE_LOG_NONE);
	cnie_log_error("hidden");
	cnie_log_set_level(CNIE_LOG_TRACE);
	cnie_log_msg(CNIE_LOG_NONE, "f", "hidden");
	cnie_log_msg((cnie_log_level)6, "f", "hidden");
	assert_int_equal(cap.n, 3);
	cnie_log_msg(CNIE_LOG_TRACE, NULL, "no func");
	assert_int_equal(cap.n, 4);
	assert_string_equal(cap.lines[3], "cnie: no func");
}

static void
test_set_level_ignores_out_of_range(void **state)
{
	(void)state;
	cnie_log_set_level(CNIE_LOG_INFO);
	cnie_log_set_level((cnie_log_level)9);
	assert_int_equal(cnie_log_get_level(), CNIE_LOG_INFO);
	cnie_log_set_level((cnie_log_level)-1);
	assert_int_equal(cnie_log_get_level(), CNIE_LOG_INFO);
}

static void
test_long_line_truncated(void **state)
{
	char big[3001];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cnie_log_error("%s", big);
	assert_int_equal(cap.n, 1);
	/* The 2048-byte line buffer, minus its terminator. */
	assert_int_equal(strlen(cap.lines[0]), 2047);
	assert_memory_equal(cap.lines[0], "test_long_line_truncated: aaaa", 30);
}

static void
test_sink_removed(void **state)
{
	(void)state;
	cnie_log_set_sink(NULL, NULL);
	/* Goes to stderr now, not to the capture. */
	cnie_log_set_level(CNIE_LOG_NONE);
	cnie_log_error("not captured");
	assert_int_equal(cap.n, 0);
}

/* ---- APDU trace --------------------------------------------------------- */

static void
test_apdu_trace_off(void **state)
{
	(void)state;
	assert_false(cnie_log_apdu_enabled());
	cnie_log_set_level(CNIE_LOG_TRACE);
	log_hex('>', "00 A4 04 0C 02 3F00", 0);
	log_hex('<', "9000", 0);
	assert_int_equal(cap.n, 0);
}

static void
test_apdu_trace_raises_level(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(true);
	assert_true(cnie_log_apdu_enabled());
	assert_int_equal(cnie_log_get_level(), CNIE_LOG_TRACE);
	/* A level lowered afterwards wins: trace lines are then dropped. */
	cnie_log_set_level(CNIE_LOG_WARN);
	log_hex('<', "9000", 0);
	assert_int_equal(cap.n, 0);
}

static void
test_verify_pin_masked(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(true);
	log_hex('>', "00 20 00 81 08 31323334FFFFFFFF", 0);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.levels[0], CNIE_LOG_TRACE);
	assert_string_equal(cap.lines[0], "apdu: > 00200081 [body masked] (13 bytes)");
	assert_null(strstr(cap.lines[0], "3132"));
	assert_null(strstr(cap.lines[0], "FFFF"));
	/* A counter query has no body: the header alone. */
	log_hex('>', "00 20 00 81", 0);
	assert_string_equal(cap.lines[1], "apdu: > 00200081 (4 bytes)");
}

static void
test_other_secret_commands_masked(void **state)
{
	static const char *const cmds[] = {
		/* VERIFY under secure messaging (CLA 0C). */
		"0C 20 00 81 0A 8703 01 AABB 8E08 0102030405060708",
		"00 21 00 81 04 31323334",    /* VERIFY, odd INS */
		"00 24 00 81 08 3132333435363738", /* CHANGE REFERENCE DATA */
		"00 26 00 81 04 31323334",    /* DISABLE VERIFICATION REQ. */
		"00 28 00 81 04 31323334",    /* ENABLE VERIFICATION REQ. */
		"00 2C 00 81 08 3132333435363738", /* RESET RETRY COUNTER */
		"80 20 00 01 04 31323334",    /* proprietary class */
	};
	size_t i;

	(void)state;
	cnie_log_set_apdu_trace(true);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		log_hex('>', cmds[i], 0);
	assert_int_equal(cap.n, sizeof(cmds) / sizeof(cmds[0]));
	for (i = 0; i < cap.n; i++) {
		assert_non_null(strstr(cap.lines[i], "[body masked]"));
		assert_null(strstr(cap.lines[i], "3132"));
		assert_null(strstr(cap.lines[i], "AABB"));
	}
	assert_string_equal(cap.lines[2], "apdu: > 00240081 [body masked] (13 bytes)");
}

static void
test_command_body_shown_unless_flagged(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(true);
	log_hex('>', "00 A4 04 0C 07 A0000002471001", 0);
	log_hex('>', "00 86 00 00 04 7C 02 80 00", CNIE_TRACE_MASK_BODY);
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.lines[0], "apdu: > 00A4040C07A0000002471001 (12 bytes)");
	assert_string_equal(cap.lines[1], "apdu: > 00860000 [body masked] (9 bytes)");
}

static void
test_long_command_cut(void **state)
{
	uint8_t cmd[100];
	char want[256];
	size_t i;

	(void)state;
	cnie_log_set_apdu_trace(true);
	cmd[0] = 0x00;
	cmd[1] = 0xD6; /* UPDATE BINARY */
	cmd[2] = 0x00;
	cmd[3] = 0x00;
	cmd[4] = 95;
	for (i = 5; i < sizeof(cmd); i++)
		cmd[i] = 0x11;
	cnie_log_apdu('>', cmd, sizeof(cmd), 0);
	assert_int_equal(cap.n, 1);
	snprintf(want, sizeof(want), "apdu: > 00D600005F");
	for (i = 5; i < 64; i++)
		strcat(want, "11");
	strcat(want, "... (100 bytes)");
	assert_string_equal(cap.lines[0], want);
}

static void
test_response_data_masked(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(true);
	/* DG1 MRZ bytes: personal data. */
	log_hex('<', "61 05 5F1F 02 4944 9000", 0);
	log_hex('<', "6982", 0);
	log_hex('<', "90", 0);
	assert_int_equal(cap.n, 3);
	assert_string_equal(cap.lines[0], "apdu: < [7 data bytes masked] 9000");
	assert_string_equal(cap.lines[1], "apdu: < [0 data bytes masked] 6982");
	assert_string_equal(cap.lines[2], "apdu: < 90 (short response)");
}

static void
test_null_apdu_ignored(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(true);
	cnie_log_apdu('>', NULL, 5, 0);
	cnie_log_apdu('<', NULL, 2, 0);
	assert_int_equal(cap.n, 0);
}

/* ---- environment, in a re-executed child -------------------------------- */

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "child check failed: %s\n", #cond);    \
			return 1;                                              \
		}                                                              \
	} while (0)

static int
child_full(void)
{
	CHECK(cnie_log_apdu_enabled());
	CHECK(cnie_log_get_level() == CNIE_LOG_TRACE);
	cnie_log_set_sink(sink, &cap);
	log_hex('<', "AA BB CC 90 00", 0);
	log_hex('<', "AA BB CC 90 00", CNIE_TRACE_MASK_BODY);
	log_hex('>', "00 20 00 81 08 31323334FFFFFFFF", 0);
	CHECK(cap.n == 3);
	CHECK(strcmp(cap.lines[0], "apdu: < AABBCC9000 (5 bytes)") == 0);
	/* Full mode never shows what is flagged secret. */
	CHECK(strcmp(cap.lines[1], "apdu: < [3 data bytes masked] 9000") == 0);
	CHECK(strcmp(cap.lines[2], "apdu: > 00200081 [body masked] (13 bytes)") == 0);
	return 0;
}

static int
child_on(void)
{
	CHECK(cnie_log_apdu_enabled());
	CHECK(cnie_log_get_level() == CNIE_LOG_TRACE);
	cnie_log_set_sink(sink, &cap);
	log_hex('<', "AA BB CC 90 00", 0);
	CHECK(cap.n == 1);
	CHECK(strcmp(cap.lines[0], "apdu: < [3 data bytes masked] 9000") == 0);
	return 0;
}

static int
child_level(void)
{
	CHECK(!cnie_log_apdu_enabled());
	CHECK(cnie_log_get_level() == CNIE_LOG_INFO);
	cnie_log_set_sink(sink, &cap);
	cnie_log_info("i");
	cnie_log_debug("d");
	CHECK(cap.n == 1);
	return 0;
}

static int
child_trace_zero(void)
{
	CHECK(!cnie_log_apdu_enabled());
	CHECK(cnie_log_get_level() == CNIE_LOG_WARN);
	return 0;
}

/* Re-executes this program with name=value set; returns its exit status. */
static int
run_child(const char *mode, const char *name, const char *value)
{
	static char arg0[] = "test_log";
	char *argv[] = { arg0, NULL, NULL };
	pid_t pid;
	int st;

	argv[1] = (char *)(uintptr_t)mode;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		unsetenv("CNIE_LOG");
		unsetenv("CNIE_APDU_TRACE");
		setenv(name, value, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
test_env_trace_full_shows_response(void **state)
{
	(void)state;
	assert_int_equal(run_child("--child-full", "CNIE_APDU_TRACE", "full"), 0);
}

static void
test_env_trace_on_masks_response(void **state)
{
	(void)state;
	assert_int_equal(run_child("--child-on", "CNIE_APDU_TRACE", "1"), 0);
}

static void
test_env_level(void **state)
{
	(void)state;
	assert_int_equal(run_child("--child-level", "CNIE_LOG", "INFO"), 0);
	assert_int_equal(run_child("--child-trace-zero", "CNIE_APDU_TRACE", "0"), 0);
	/* The child really checks: a wrong expectation fails. */
	assert_int_equal(run_child("--child-level", "CNIE_LOG", "error"), 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_level_gating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_level_ignores_out_of_range, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_line_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apdu_trace_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apdu_trace_raises_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_pin_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_secret_commands_masked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_command_body_shown_unless_flagged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_command_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_data_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_apdu_ignored, setup, teardown),
		cmocka_unit_test(test_env_trace_full_shows_response),
		cmocka_unit_test(test_env_trace_on_masks_response),
		cmocka_unit_test(test_env_level),
	};

	if (argc == 2) {
		if (strcmp(argv[1], "--child-full") == 0)
			return child_full();
		if (strcmp(argv[1], "--child-on") == 0)
			return child_on();
		if (strcmp(argv[1], "--child-level") == 0)
			return child_level();
		if (strcmp(argv[1], "--child-trace-zero") == 0)
			return child_trace_zero();
		return 2;
	}
	/* The in-process tests assume no logging configuration from outside. */
	unsetenv("CNIE_LOG");
	unsetenv("CNIE_APDU_TRACE");
	unsetenv("CNIE_LOG_SYSLOG");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
