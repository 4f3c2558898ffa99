/*
 * The shared pinentry client (src/pinentry) against the scripted pinentry
 * tests/harness/pinentry-script, whose log records the commands it got:
 * the texts and button labels (SETTITLE, SETDESC, SETPROMPT, SETOK,
 * SETCANCEL, SETERROR), the locale and terminal options, GETPIN, CONFIRM,
 * MESSAGE.  Also: escaping (a text cannot inject a command), cancel, empty
 * and over-long answers (wiped), a text too long for one Assuan line, a
 * missing program, the abort control (before and during a dialog), and
 * CNIE_PINENTRY.
 */
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gpg-error.h>
#include <sys/stat.h>

#include <cnie/error.h>

#include "cnie_pinentry.h"

#define SCRIPT CNIE_SOURCE_DIR "/tests/harness/pinentry-script"

static char dir[] = "/tmp/test_pinentry_XXXXXX";
static char log_path[128];

/* The log as one string (caller frees); "" when absent. */
static char *
read_log(void)
{
	FILE *f = fopen(log_path, "r");
	char *s = calloc(1, 65536);
	size_t n = 0;

	assert_non_null(s);
	if (f != NULL) {
		n = fread(s, 1, 65535, f);
		fclose(f);
	}
	s[n] = '\0';
	return s;
}

/* Number of lines of the log equal to line. */
static int
count_lines(const char *log, const char *line)
{
	size_t n = strlen(line);
	int c = 0;
	const char *p = log;

	while (*p != '\0') {
		const char *e = strchr(p, '\n');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, line, n) == 0)
			c++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return c;
}

static void
reset(void)
{
	unlink(log_path);
	unsetenv("PINENTRY_SCRIPT_PIN");
	unsetenv("PINENTRY_SCRIPT_CANCEL");
	unsetenv("PINENTRY_SCRIPT_DENY");
	unsetenv("PINENTRY_SCRIPT_SLEEP");
	unsetenv("PINENTRY_SCRIPT_RETRY_PIN");
}

static void
test_getpin_commands(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 30, NULL};
	cnie_pinentry_text t = {"Carte CNIE", "Entrez le code PIN.", "PIN :", "Valider",
	    "Annuler", "PIN incorrect : il reste 2 essais."};
	char out[16], *log;

	(void)state;
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "1234", 1);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
	assert_string_equal(out, "1234");
	log = read_log();
	assert_int_equal(count_lines(log, "TITLE Carte CNIE"), 1);
	assert_int_equal(count_lines(log, "DESC Entrez le code PIN."), 1);
	assert_int_equal(count_lines(log, "PROMPT PIN :"), 1);
	assert_int_equal(count_lines(log, "OKLABEL Valider"), 1);
	assert_int_equal(count_lines(log, "CANCELLABEL Annuler"), 1);
	assert_int_equal(count_lines(log, "ERROR PIN incorrect : il reste 2 essais."), 1);
	/* The caller's locale, for the pinentry's own labels. */
	assert_int_equal(count_lines(log, "OPTION lc-ctype=C.UTF-8"), 1);
	assert_int_equal(count_lines(log, "OPTION lc-messages=C.UTF-8"), 1);
	assert_int_equal(count_lines(log, "GETPIN"), 1);
	/* The script's stdin is a pipe here: no terminal to name. */
	assert_null(strstr(log, "OPTION ttyname="));
	free(log);
}

static void
test_null_members_not_sent(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	cnie_pinentry_text t = {NULL, "d", NULL, NULL, NULL, NULL};
	char *log;

	(void)state;
	reset();
	assert_int_equal(cnie_pinentry_confirm(&o, &t), 0);
	log = read_log();
	assert_null(strstr(log, "TITLE"));
	assert_null(strstr(log, "OKLABEL"));
	assert_null(strstr(log, "CANCELLABEL"));
	assert_null(strstr(log, "ERROR"));
	assert_null(strstr(log, "PROMPT")); /* no prompt for CONFIRM */
	assert_int_equal(count_lines(log, "CONFIRM"), 1);
	free(log);
}

static void
test_escaping_no_injection(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	/* A text with a line end cannot add a command (the script would log
	 * a second GETPIN, or a BYE would end the dialog early). */
	cnie_pinentry_text t = {"t", "50% done\nGETPIN\r\nBYE", "p", NULL, NULL, NULL};
	char out[16], *log;

	(void)state;
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "42", 1);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
	assert_string_equal(out, "42");
	log = read_log();
	assert_int_equal(count_lines(log, "GETPIN"), 1);
	/* %0A is shown by the script as a space; %0D and % come back as sent. */
	assert_non_null(strstr(log, "DESC 50% done GETPIN\r BYE\n"));
	free(log);
}

static void
test_cancel_empty_overflow_wiped(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	char out[5];

	(void)state;
	reset();
	setenv("PINENTRY_SCRIPT_CANCEL", "1", 1);
	memset(out, 'x', sizeof(out));
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), CNIE_ERR_CANCELLED);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	reset();
	/* No PIN in the script: an empty answer, which is a cancel. */
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), CNIE_ERR_CANCELLED);
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "123456", 1);
	memset(out, 'x', sizeof(out));
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), CNIE_ERR_PIN_FORMAT);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	/* Exactly out_max - 1 fits. */
	setenv("PINENTRY_SCRIPT_PIN", "1234", 1);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
	assert_string_equal(out, "1234");
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, 1), CNIE_ERR_INVALID_ARG);
}

static void
test_confirm_message(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	cnie_pinentry_text t = {"t", "d", NULL, "Allow", "Deny", NULL};
	char *log;

	(void)state;
	reset();
	assert_int_equal(cnie_pinentry_confirm(&o, &t), 0);
	setenv("PINENTRY_SCRIPT_DENY", "1", 1);
	assert_int_equal(cnie_pinentry_confirm(&o, &t), CNIE_ERR_CANCELLED);
	assert_int_equal(cnie_pinentry_message(&o, &t), 0);
	log = read_log();
	assert_int_equal(count_lines(log, "CONFIRM"), 2);
	assert_int_equal(count_lines(log, "MESSAGE"), 1);
	assert_int_equal(count_lines(log, "OKLABEL Allow"), 3);
	free(log);
}

static void
test_text_too_long_fails_before_asking(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	cnie_pinentry_text t = {"t", NULL, "p", NULL, NULL, NULL};
	char big[1200], out[16], *log;
	bool not_started = true;

	(void)state;
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "1234", 1);
	/* 400 percent signs: 1200 bytes escaped, over one Assuan line. */
	memset(big, '%', 400);
	big[400] = '\0';
	t.desc = big;
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)),
	    CNIE_PINENTRY_ERR_FAILED);
	assert_int_equal(out[0], 0);
	(void)cnie_pinentry_last_error(&not_started);
	assert_false(not_started);
	log = read_log();
	assert_null(strstr(log, "GETPIN"));
	assert_null(strstr(log, "DESC"));
	free(log);
	/* 320 bytes escaped to 960 (+ "SETDESC "): still one line. */
	memset(big, '%', 320);
	big[320] = '\0';
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
}

static void
test_missing_and_unset_program(void **state)
{
	cnie_pinentry_opts o = {"/nonexistent/pinentry", 0, NULL};
	cnie_pinentry_opts none = {NULL, 0, NULL};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	char out[16];
	bool not_started = false;

	(void)state;
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)),
	    CNIE_PINENTRY_ERR_FAILED);
	assert_int_not_equal(cnie_pinentry_last_error(&not_started), 0);
	assert_true(not_started);
	assert_int_equal(cnie_pinentry_confirm(&none, &t), CNIE_ERR_UNSUPPORTED);
	none.program = "";
	assert_int_equal(cnie_pinentry_message(&none, &t), CNIE_ERR_UNSUPPORTED);
}

/* A bare program name (the default "pinentry") is looked up in PATH. */
static void
test_bare_name_from_path(void **state)
{
	char bin[160], link[200], *old, *saved = NULL;
	cnie_pinentry_opts o = {"cnie-test-pinentry", 0, NULL};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	char out[16];
	bool not_started = false;

	(void)state;
	reset();
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	(void)mkdir(bin, 0700);
	snprintf(link, sizeof(link), "%s/cnie-test-pinentry", bin);
	(void)unlink(link);
	assert_int_equal(symlink(SCRIPT, link), 0);
	old = getenv("PATH");
	if (old != NULL)
		saved = strdup(old);
	setenv("PATH", "/nonexistent-dir:", 1);
	/* Not in PATH: not started, named as such. */
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)),
	    CNIE_PINENTRY_ERR_FAILED);
	(void)cnie_pinentry_last_error(&not_started);
	assert_true(not_started);
	{
		char path[400];

		/* The script itself needs the usual tools after its own directory. */
		snprintf(path, sizeof(path), "/nonexistent-dir:%s:/usr/bin:/bin", bin);
		setenv("PATH", path, 1);
	}
	setenv("PINENTRY_SCRIPT_PIN", "4321", 1);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
	assert_string_equal(out, "4321");
	if (saved != NULL) {
		setenv("PATH", saved, 1);
		free(saved);
	}
	unlink(link);
	rmdir(bin);
}

/* A pinentry that starts but cannot show a dialog (no terminal, no display). */
static void
test_started_then_failed(void **state)
{
	char path[160];
	cnie_pinentry_opts o = {path, 0, NULL};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	char out[16];
	bool not_started = true;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-tty-pinentry", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("#!/bin/sh\necho 'OK ready'\nwhile read -r l; do case \"$l\" in\n"
	    "GETPIN*) echo 'ERR 83918950 Inappropriate ioctl for device <Pinentry>' ;;\n"
	    "BYE*) echo OK; exit 0 ;;\n*) echo OK ;;\nesac; done\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0700), 0);
	memset(out, 'x', sizeof(out));
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)),
	    CNIE_PINENTRY_ERR_FAILED);
	assert_int_equal(cnie_pinentry_last_error(&not_started), GPG_ERR_ENOTTY);
	assert_false(not_started);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	unlink(path);
}

/*
 * A pinentry that dies after its greeting: the commands hit a pipe without
 * reader.  The dialog fails; SIGPIPE (default action: end the process) does
 * not reach this program, and is not left pending.
 */
static void
test_dead_pinentry_no_sigpipe(void **state)
{
	char path[160];
	cnie_pinentry_opts o = {path, 0, NULL};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	char out[16];
	sigset_t pending;
	FILE *f;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/dying-pinentry", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("#!/bin/sh\necho 'OK ready'\nexec 0<&- 1>&-\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(signal(SIGPIPE, SIG_DFL) != SIG_ERR, 1);
	for (i = 0; i < 5; i++) {
		assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)),
		    CNIE_PINENTRY_ERR_FAILED);
		assert_int_equal(cnie_pinentry_confirm(&o, &t), CNIE_PINENTRY_ERR_FAILED);
	}
	assert_int_equal(sigpending(&pending), 0);
	assert_int_equal(sigismember(&pending, SIGPIPE), 0);
	unlink(path);
}

struct aborter {
	cnie_pinentry_ctl *ctl;
};

/* Aborts once the dialog is up (the script logged its GETPIN). */
static void *
abort_when_up(void *arg)
{
	struct aborter *a = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};
	int i;

	for (i = 0; i < 1500; i++) {
		char *log = read_log();
		bool up = strstr(log, "GETPIN") != NULL;
		free(log);
		if (up)
			break;
		nanosleep(&ts, NULL);
	}
	cnie_pinentry_ctl_abort(a->ctl, -1234);
	return NULL;
}

static void
test_abort_control(void **state)
{
	cnie_pinentry_ctl *ctl = cnie_pinentry_ctl_new();
	cnie_pinentry_opts o = {SCRIPT, 0, ctl};
	cnie_pinentry_text t = {"t", "d", "p", NULL, NULL, NULL};
	struct aborter a = {ctl};
	pthread_t th;
	char out[16], *log;

	(void)state;
	assert_non_null(ctl);
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "1234", 1);
	/* Stopped before: no dialog opens. */
	cnie_pinentry_ctl_abort(ctl, -1234);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), -1234);
	log = read_log();
	assert_string_equal(log, "");
	free(log);
	/* Armed again: dialogs work. */
	cnie_pinentry_ctl_arm(ctl);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), 0);
	/* Stopped during the dialog (a user who takes 60 s): the abort's error. */
	reset();
	setenv("PINENTRY_SCRIPT_PIN", "1234", 1);
	setenv("PINENTRY_SCRIPT_SLEEP", "60", 1);
	assert_int_equal(pthread_create(&th, NULL, abort_when_up, &a), 0);
	assert_int_equal(cnie_pinentry_getpin(&o, &t, out, sizeof(out)), -1234);
	assert_int_equal(out[0], 0);
	pthread_join(th, NULL);
	/* Kill with no dialog on screen is harmless. */
	cnie_pinentry_ctl_kill(ctl);
	cnie_pinentry_ctl_free(ctl);
	cnie_pinentry_ctl_free(NULL);
	reset();
}

static void
test_ttyname_when_stdin_is_a_terminal(void **state)
{
	cnie_pinentry_opts o = {SCRIPT, 0, NULL};
	cnie_pinentry_text t = {"t", "d", NULL, NULL, NULL, NULL};
	char want[300], *name, *log;
	int m, s, saved;

	(void)state;
	reset();
	assert_true((m = posix_openpt(O_RDWR | O_NOCTTY)) >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_non_null(name = ptsname(m));
	snprintf(want, sizeof(want), "OPTION ttyname=%s", name);
	assert_true((s = open(name, O_RDWR | O_NOCTTY)) >= 0);
	saved = dup(0);
	assert_int_equal(dup2(s, 0), 0);
	setenv("TERM", "vt100", 1);
	assert_int_equal(cnie_pinentry_confirm(&o, &t), 0);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	close(s);
	close(m);
	log = read_log();
	assert_int_equal(count_lines(log, want), 1);
	assert_int_equal(count_lines(log, "OPTION ttytype=vt100"), 1);
	free(log);
}

static void
test_program_from_environment(void **state)
{
	(void)state;
	unsetenv("CNIE_PINENTRY");
	assert_string_equal(cnie_pinentry_program(NULL), "pinentry");
	assert_string_equal(cnie_pinentry_program(""), "pinentry");
	assert_string_equal(cnie_pinentry_program("/opt/pe"), "/opt/pe");
	setenv("CNIE_PINENTRY", "", 1);
	assert_string_equal(cnie_pinentry_program("/opt/pe"), "/opt/pe");
	setenv("CNIE_PINENTRY", "/usr/bin/pinentry-gnome3", 1);
	assert_string_equal(cnie_pinentry_program("/opt/pe"), "/usr/bin/pinentry-gnome3");
	assert_string_equal(cnie_pinentry_program(NULL), "/usr/bin/pinentry-gnome3");
	unsetenv("CNIE_PINENTRY");
}

static int
setup(void **state)
{
	(void)state;
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return -1;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	setenv("PINENTRY_SCRIPT_LOG", log_path, 1);
	unsetenv("PINENTRY_SCRIPT_ENV");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(log_path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getpin_commands),
		cmocka_unit_test(test_null_members_not_sent),
		cmocka_unit_test(test_escaping_no_injection),
		cmocka_unit_test(test_cancel_empty_overflow_wiped),
		cmocka_unit_test(test_confirm_message),
		cmocka_unit_test(test_text_too_long_fails_before_asking),
		cmocka_unit_test(test_missing_and_unset_program),
		cmocka_unit_test(test_bare_name_from_path),
		cmocka_unit_test(test_started_then_failed),
		cmocka_unit_test(test_dead_pinentry_no_sigpipe),
		cmocka_unit_test(test_abort_control),
		cmocka_unit_test(test_ttyname_when_stdin_is_a_terminal),
		cmocka_unit_test(test_program_from_environment),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
