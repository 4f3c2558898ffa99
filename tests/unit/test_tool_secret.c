/*
 * cnie-tool's secret input (tools/cnie-tool/secret.c): lines of stdin
 * (CR LF, last line without newline, end of input = cancelled, an
 * over-long line refused and wiped), the explicit argv value, "no way to
 * ask", and the Assuan pinentry client against tests/tool/pinentry-test
 * (answer, cancel, escaping of the description, a missing program, a
 * pinentry without terminal or display: both messages suggest --pin-stdin;
 * CNIE_PINENTRY).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cnie/error.h>

#include "cnie_tool.h"

#define PINENTRY CNIE_SOURCE_DIR "/tests/tool/pinentry-test"

static int saved_stdin = -1;

/* Makes fd 0 read text (then end of input). */
static void
feed_stdin(const char *text)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	if (saved_stdin < 0)
		saved_stdin = dup(0);
	assert_int_equal(dup2(p[0], 0), 0);
	close(p[0]);
}

static void
test_stdin_lines(void **state)
{
	cnie_tool_secret_src src = { .from_stdin = true };
	char out[16];

	(void)state;
	feed_stdin("1234\r\n567890\n\nlast");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "1234");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "567890");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "last");
	/* End of input: the user gave nothing. */
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)),
	    CNIE_ERR_CANCELLED);
}

static void
test_stdin_too_long_is_wiped(void **state)
{
	cnie_tool_secret_src src = { .from_stdin = true };
	char out[5];

	(void)state;
	feed_stdin("123456\n42\n");
	memset(out, 'x', sizeof(out));
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)),
	    CNIE_ERR_TOO_LONG);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	/* The whole long line was consumed: the next secret is the next line. */
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "42");
}

static void
test_argv_value_and_none(void **state)
{
	cnie_tool_secret_src src = { .insecure = "1234" };
	cnie_tool_secret_src none = { .none = true };
	char out[5], small[4];

	(void)state;
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)), 0);
	assert_string_equal(out, "1234");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", small, sizeof(small)),
	    CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_tool_secret_get(&none, "d", "p", out, sizeof(out)),
	    CNIE_ERR_NEED_CAN);
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, 1), CNIE_ERR_INVALID_ARG);
}

static char dir[] = "/tmp/test_tool_secret_XXXXXX";

static void
answers(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/answers", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/answers.used", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/log", dir);
	unlink(path);
}

static void
test_pinentry_answer_and_escaping(void **state)
{
	cnie_tool_secret_src src = { .pinentry = PINENTRY };
	char out[16], path[128], line[256];
	FILE *f;

	(void)state;
	answers("9876\n");
	assert_int_equal(cnie_tool_secret_get(&src, "50% done\nnext", "PIN:", out, sizeof(out)), 0);
	assert_string_equal(out, "9876");
	snprintf(path, sizeof(path), "%s/log", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	/* %, CR and LF are percent-escaped: the description cannot inject commands. */
	assert_string_equal(line, "SETDESC 50%25 done%0Anext\n");
}

static void
test_pinentry_cancel_and_overflow(void **state)
{
	cnie_tool_secret_src src = { .pinentry = PINENTRY };
	cnie_tool_secret_src missing = { .pinentry = "/nonexistent/pinentry" };
	char out[4];

	(void)state;
	answers("CANCEL\n");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)),
	    CNIE_ERR_CANCELLED);
	answers("123456789\n");
	assert_int_equal(cnie_tool_secret_get(&src, "d", "p", out, sizeof(out)),
	    CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_tool_secret_get(&missing, "d", "p", out, sizeof(out)), CNIE_ERR_IO);
}

/* stderr of fn(), captured into out. */
static void
capture_stderr(void (*fn)(void *), void *arg, char *out, size_t max)
{
	char path[128];
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_true((n = pread(fd, out, max - 1, 0)) >= 0);
	out[n] = '\0';
	close(fd);
}

struct ask {
	const cnie_tool_secret_src *src;
	int r;
};

static void
ask_once(void *arg)
{
	struct ask *a = arg;
	char out[16];

	a->r = cnie_tool_secret_get(a->src, "d", "p", out, sizeof(out));
}

/* No dialog possible: the message says how to go on (--pin-stdin). */
static void
test_pinentry_failures_suggest_stdin(void **state)
{
	char prog[160], err[2048];
	cnie_tool_secret_src missing = { .pinentry = "/nonexistent/pinentry" };
	cnie_tool_secret_src notty = { .pinentry = prog };
	struct ask a = { &missing, 0 };
	FILE *f;

	(void)state;
	unsetenv("CNIE_PINENTRY");
	capture_stderr(ask_once, &a, err, sizeof(err));
	assert_int_equal(a.r, CNIE_ERR_IO);
	assert_non_null(strstr(err, "cannot start the PIN dialog"));
	assert_non_null(strstr(err, "--pin-stdin"));
	/* A pinentry that starts but finds no terminal and no display. */
	snprintf(prog, sizeof(prog), "%s/no-tty-pinentry", dir);
	assert_non_null(f = fopen(prog, "w"));
	fputs("#!/bin/sh\necho 'OK ready'\nwhile read -r l; do case \"$l\" in\n"
	    "GETPIN*) echo 'ERR 83918950 Inappropriate ioctl for device <Pinentry>' ;;\n"
	    "BYE*) echo OK; exit 0 ;;\n*) echo OK ;;\nesac; done\n", f);
	fclose(f);
	assert_int_equal(chmod(prog, 0700), 0);
	a.src = &notty;
	capture_stderr(ask_once, &a, err, sizeof(err));
	assert_int_equal(a.r, CNIE_ERR_IO);
	assert_non_null(strstr(err, "no terminal or display"));
	assert_non_null(strstr(err, "--pin-stdin"));
	/* CNIE_PINENTRY wins over --pinentry. */
	setenv("CNIE_PINENTRY", PINENTRY, 1);
	answers("4321\n");
	a.src = &missing;
	capture_stderr(ask_once, &a, err, sizeof(err));
	assert_int_equal(a.r, 0);
	unsetenv("CNIE_PINENTRY");
	unlink(prog);
}

static int
setup(void **state)
{
	char path[128];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/answers", dir);
	setenv("PINENTRY_TEST_ANSWERS", path, 1);
	snprintf(path, sizeof(path), "%s/log", dir);
	setenv("PINENTRY_TEST_LOG", path, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_lines),
		cmocka_unit_test(test_stdin_too_long_is_wiped),
		cmocka_unit_test(test_argv_value_and_none),
		cmocka_unit_test(test_pinentry_answer_and_escaping),
		cmocka_unit_test(test_pinentry_cancel_and_overflow),
		cmocka_unit_test(test_pinentry_failures_suggest_stdin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
