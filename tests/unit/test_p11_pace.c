/*
 * Unit tests of the PKCS#11 module's contactless parts without a card
 * (pkcs11/p11_pace.c, pkcs11/README.md "Contactless"): the CAN dialog
 * through the scripted pinentry (tests/harness/pinentry-script: what the
 * dialog says, cancel, answers that are not a CAN, a pinentry that cannot
 * run), the kept CAN (value, wipe, gone in a fork child) and the CKR a
 * refused CAN maps to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cnie_pinentry.h"
#include "p11_int.h"

static char log_path[64], env_path[64];

/* The scripted pinentry's answers for the next dialog. */
static void
answers(const char *lines)
{
	FILE *f = fopen(env_path, "w");

	assert_non_null(f);
	fputs(lines, f);
	fclose(f);
	unlink(log_path);
}

/* Lines of the dialog's log starting with prefix (one string, caller frees). */
static char *
logged(const char *prefix)
{
	char line[1024], *out = calloc(1, 4096);
	size_t n = 0;
	FILE *f = fopen(log_path, "r");

	assert_non_null(out);
	if (f == NULL)
		return out;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, prefix, strlen(prefix)) == 0 && n + strlen(line) < 4096) {
			memcpy(out + n, line, strlen(line) + 1);
			n += strlen(line);
		}
	}
	fclose(f);
	return out;
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(log_path, sizeof(log_path), "/tmp/p11pace-log.XXXXXX");
	snprintf(env_path, sizeof(env_path), "/tmp/p11pace-env.XXXXXX");
	if ((fd = mkstemp(log_path)) < 0)
		return -1;
	close(fd);
	if ((fd = mkstemp(env_path)) < 0)
		return -1;
	close(fd);
	setenv("CNIE_PINENTRY", PINENTRY_SCRIPT, 1);
	setenv("PINENTRY_SCRIPT_LOG", log_path, 1);
	setenv("PINENTRY_SCRIPT_ENV", env_path, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(log_path);
	unlink(env_path);
	return 0;
}

static void
test_can_dialog(void **state)
{
	char can[16], *l;

	(void)state;
	answers("PINENTRY_SCRIPT_CAN=123456\n");
	assert_int_equal(p11_can_ask("ACME Contactless 01 00", P11_CAN_NOTE_NONE, can,
	    sizeof(can)), 0);
	assert_string_equal(can, "123456");
	/* The dialog names the program and the reader (without pcsc-lite's numbers). */
	l = logged("TITLE ");
	assert_non_null(strstr(l, "test_p11_pace"));
	free(l);
	l = logged("DESC ");
	assert_non_null(strstr(l, "test_p11_pace"));
	assert_non_null(strstr(l, "\"ACME Contactless\""));
	assert_non_null(strstr(l, "(CAN)"));
	free(l);
	l = logged("ERROR ");
	assert_string_equal(l, "");
	free(l);
}

static void
test_can_notes(void **state)
{
	char can[16], *l;

	(void)state;
	answers("PINENTRY_SCRIPT_CAN=123456\n");
	assert_int_equal(p11_can_ask("R", P11_CAN_NOTE_REFUSED, can, sizeof(can)), 0);
	l = logged("ERROR ");
	assert_non_null(strstr(l, "did not accept"));
	free(l);
	answers("PINENTRY_SCRIPT_CAN=123456\n");
	assert_int_equal(p11_can_ask("R", P11_CAN_NOTE_FORMAT, can, sizeof(can)), 0);
	l = logged("ERROR ");
	assert_non_null(strstr(l, "6 digits"));
	free(l);
}

static void
test_can_refused_answers(void **state)
{
	char can[16];

	(void)state;
	answers("PINENTRY_SCRIPT_CANCEL=1\n");
	assert_int_equal(p11_can_ask("R", 0, can, sizeof(can)), CNIE_ERR_CANCELLED);
	/* Not a CAN: refused here, nothing left in the buffer. */
	answers("PINENTRY_SCRIPT_CAN=12a456\n");
	memset(can, 'x', sizeof(can));
	assert_int_equal(p11_can_ask("R", 0, can, sizeof(can)), CNIE_ERR_INVALID_ARG);
	assert_int_equal(can[0], '\0');
	answers("PINENTRY_SCRIPT_CAN=1234567890123\n");
	assert_int_equal(p11_can_ask("R", 0, can, sizeof(can)), CNIE_ERR_INVALID_ARG);
	/* A pinentry that cannot run. */
	setenv("CNIE_PINENTRY", "/nonexistent/pinentry", 1);
	assert_int_equal(p11_can_ask("R", 0, can, sizeof(can)), CNIE_PINENTRY_ERR_FAILED);
	setenv("CNIE_PINENTRY", PINENTRY_SCRIPT, 1);
}

static void
test_kept_can(void **state)
{
	p11_can *c = NULL;
	char big[70000];
	pid_t pid;
	int st;

	(void)state;
	assert_null(p11_can_value(NULL));
	assert_int_equal(p11_can_keep(&c, "123456"), 0);
	assert_string_equal(p11_can_value(c), "123456");
	/* A fork child does not hold the parent's CAN. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		p11_can_forget_in_child(c);
		_exit(p11_can_value(c) == NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(p11_can_value(c), "123456");
	p11_can_wipe(&c);
	assert_null(c);
	p11_can_wipe(&c); /* NULL-safe */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(p11_can_keep(&c, big), CNIE_ERR_INVALID_ARG);
	assert_null(c);
}

static void
test_refused_can_ckr(void **state)
{
	(void)state;
	/* Not CKR_PIN_INCORRECT: the PIN was not sent. */
	assert_int_equal(p11_ckr(CNIE_ERR_PACE), CKR_FUNCTION_FAILED);
	assert_int_equal(p11_ckr(CNIE_ERR_CANCELLED), CKR_FUNCTION_CANCELED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_can_dialog),
		cmocka_unit_test(test_can_notes),
		cmocka_unit_test(test_can_refused_answers),
		cmocka_unit_test(test_kept_can),
		cmocka_unit_test(test_refused_can_ckr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
