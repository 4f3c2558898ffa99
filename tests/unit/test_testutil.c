/*
 * The shared test helpers (tests/common): the skip rule (77 outside CI, a
 * failure under CI=true), bounded file reading, running a program, the
 * blocked-thread wait, and the hex helpers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unitutil.h"

static void
test_skip_is_77_outside_ci_and_a_failure_under_ci(void **state)
{
	(void)state;
	unsetenv("CI");
	assert_int_equal(tu_skip("no widget %d", 1), 77);
	setenv("CI", "false", 1);
	assert_int_equal(tu_skip("no widget"), 77);
	setenv("CI", "true", 1);
	assert_int_equal(tu_skip("no widget"), 1);
	unsetenv("CI");
}

static void
test_read_file_refuses_what_does_not_fit(void **state)
{
	char path[] = "/tmp/cnie-tu-XXXXXX";
	uint8_t buf[8];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345678", 8), 8);
	close(fd);
	assert_int_equal(tu_read_file(path, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "12345678", 8);
	assert_int_equal(tu_read_file(path, buf, 7), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(tu_read_file(path, buf, sizeof(buf)), -1);
}

static void
test_runl_returns_the_exit_status(void **state)
{
	(void)state;
	assert_int_equal(tu_runl("/bin/sh", "-c", "exit 0", NULL), 0);
	assert_int_equal(tu_runl("/bin/sh", "-c", "exit 7", NULL), 7);
	assert_int_equal(tu_runl("/nonexistent/program", NULL), 127);
}

struct sleeper {
	int fds[2];
	pid_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
};

/* Blocks in read(2) until the test writes to the pipe. */
static void *
sleeper_run(void *arg)
{
	struct sleeper *s = arg;
	char c;

	pthread_mutex_lock(&s->mu);
	s->tid = tu_gettid();
	s->started = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return read(s->fds[0], &c, 1) == 1 ? s : NULL;
}

static void
test_wait_blocked_sees_a_thread_in_read(void **state)
{
	struct sleeper s = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th;
	void *ret = NULL;

	(void)state;
	assert_int_equal(pipe(s.fds), 0);
	assert_int_equal(pthread_create(&th, NULL, sleeper_run, &s), 0);
	pthread_mutex_lock(&s.mu);
	while (!s.started)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	assert_true(tu_wait_blocked(s.tid));
	assert_int_equal(write(s.fds[1], "x", 1), 1);
	pthread_join(th, &ret);
	assert_ptr_equal(ret, &s);
	close(s.fds[0]);
	close(s.fds[1]);
}

static void
test_hex_helpers(void **state)
{
	cnie_buf *b = tu_hex("00A4040C");

	(void)state;
	assert_int_equal(cnie_buf_len(b), 4);
	tu_assert_hex(cnie_buf_ptr(b), 4, "00a4040c");
	tu_assert_buf_hex(b, "00A4040C");
	cnie_buf_free(&b);
	b = tu_hex("");
	tu_assert_buf_hex(b, "");
	cnie_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skip_is_77_outside_ci_and_a_failure_under_ci),
		cmocka_unit_test(test_read_file_refuses_what_does_not_fit),
		cmocka_unit_test(test_runl_returns_the_exit_status),
		cmocka_unit_test(test_wait_blocked_sees_a_thread_in_read),
		cmocka_unit_test(test_hex_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
