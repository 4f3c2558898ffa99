/* Shared test helpers without libcnie or cmocka (testutil.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "testutil.h"

double
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double
tu_now_us(void)
{
	return tu_now_ms() * 1e3;
}

ssize_t
tu_read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int extra;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	/* One byte more than cap means the file does not fit. */
	extra = fgetc(f);
	if (ferror(f) || extra != EOF || n > (size_t)SSIZE_MAX) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return (ssize_t)n;
}

int
tu_runl(const char *path, ...)
{
	const char *argv[32];
	va_list ap;
	int n = 0, st;
	pid_t pid;

	argv[n++] = path;
	va_start(ap, path);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		execv(path, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

pid_t
tu_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* The system call thread tid sleeps in, or -1 (running, gone, unreadable). */
static long
blocked_in(pid_t tid)
{
	char path[64], state = '?';
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	/* pid (comm) state ...: comm may hold spaces, the state follows the last ')'. */
	{
		char line[512], *p;

		if (fgets(line, sizeof(line), f) != NULL && (p = strrchr(line, ')')) != NULL &&
		    p[1] == ' ')
			state = p[2];
	}
	fclose(f);
	if (state != 'S' && state != 'D')
		return -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr;
}

bool
tu_wait_blocked(pid_t tid)
{
	const struct timespec look = { 0, 10 * 1000 * 1000 };
	long last = -1, nr;
	int i, same = 0;

	for (i = 0; i < 1000 && same < 5; i++) {
		nr = blocked_in(tid);
		same = nr >= 0 && nr == last ? same + 1 : (nr >= 0 ? 1 : 0);
		last = nr;
		if (same < 5)
			nanosleep(&look, NULL);
	}
	return same >= 5;
}

const char *
tu_build_dir(void)
{
	const char *d = getenv("CNIE_BUILD_DIR");

	if (d != NULL && *d != '\0')
		return d;
#ifdef CNIE_TEST_BUILD_DIR
	return CNIE_TEST_BUILD_DIR;
#else
	return NULL;
#endif
}

int
tu_skip(const char *fmt, ...)
{
	const char *ci = getenv("CI");
	int in_ci = ci != NULL && strcmp(ci, "true") == 0;
	va_list ap;

	fputs(in_ci ? "FAIL (CI=true: a test that cannot run fails): " : "SKIP: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return in_ci ? 1 : 77;
}
