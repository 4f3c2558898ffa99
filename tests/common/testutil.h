/*
 * Helpers shared by the tests and benchmarks (tests/common, library
 * cnie_testutil): a monotonic clock, bounded file reading, the build
 * directory and the skip rule.  No libcnie, no cmocka: programs that only
 * dlopen() the PKCS#11 module or talk PC/SC link it too.  The cmocka
 * helpers over libcnie buffers are in unitutil.h.
 */
#ifndef CNIE_TESTUTIL_H
#define CNIE_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds on CLOCK_MONOTONIC (for figures and deadlines, never asserted). */
double tu_now_ms(void);
/* The same in microseconds. */
double tu_now_us(void);

/*
 * Reads the whole file at path into buf (cap bytes).  Returns its length,
 * or -1 when it cannot be read or is larger than cap.
 */
ssize_t tu_read_file(const char *path, uint8_t *buf, size_t cap);

/*
 * Runs the program path with the NULL-terminated arguments after it (argv[0]
 * is path) and waits for it.  Returns its exit status, 128 when a signal
 * ended it, -1 when it could not be started.
 */
int tu_runl(const char *path, ...) __attribute__((sentinel));

/* The calling thread's kernel id (for tu_wait_blocked). */
pid_t tu_gettid(void);

/*
 * Orders "thread tid is blocked in a wait" before what comes next, without
 * a sleep: polls /proc/self/task/TID/syscall until the thread sleeps in a
 * system call and stays in that same call on several looks in a row (one
 * look could catch a short request/answer on the way to the wait).  The
 * caller must already know tid has started the call that blocks (e.g. a
 * flag set right before it).  False after 10 s without that.
 */
bool tu_wait_blocked(pid_t tid);

/* $CNIE_BUILD_DIR (ctest sets it), else the build tree this was built in. */
const char *tu_build_dir(void);

/*
 * The one rule for a test that cannot run here: outside CI the skip is
 * explicit (the message on stderr, exit status 77, which ctest shows as
 * "Not Run"); under CI=true it is a failure (status 1): a CI run where a
 * test could not run is not green.  Returns the status to exit with.
 */
int tu_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
