/*
 * pcsc_probe: checks libcnie's PC/SC layer against a real (private) pcscd,
 * run by tests/harness/with-pcscd.
 *
 *   pcsc_probe no-reader    pcscd running, no reader configured
 *   pcsc_probe no-service   no pcscd at all
 *
 * Each check prints "ok" or "FAIL" with the expected and actual error
 * names; the exit status is 0 when all passed, 1 otherwise.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

#include "testutil.h"

static int failures;

static void
expect(const char *what, int got, int want)
{
	if (got == want) {
		printf("ok   %-48s %s\n", what, cnie_error_name(got));
	} else {
		printf("FAIL %-48s got %s (%d), want %s (%d)\n", what, cnie_error_name(got),
		    got, cnie_error_name(want), want);
		failures++;
	}
}

static void
check(const char *what, bool cond, const char *detail)
{
	printf("%s %-48s %s\n", cond ? "ok  " : "FAIL", what, detail);
	if (!cond)
		failures++;
}

/* Cancels ctx's wait once thread waiter is blocked in it. */
struct canceller {
	cnie_pcsc *ctx;
	pid_t waiter;
	bool blocked;
	int rc;
};

static void *
cancel_later(void *arg)
{
	struct canceller *c = arg;

	c->blocked = tu_wait_blocked(c->waiter);
	c->rc = cnie_pcsc_cancel(c->ctx);
	return NULL;
}

static void
probe_no_reader(void)
{
	cnie_pcsc *ctx = NULL;
	cnie_reader_state st;
	cnie_transport *t = NULL;
	struct canceller c;
	pthread_t th;
	char **names = NULL, detail[96];
	size_t count = 99;
	uint64_t t0, dt;
	int r;

	expect("cnie_pcsc_new", cnie_pcsc_new(&ctx), CNIE_OK);
	if (ctx == NULL)
		return;

	r = cnie_pcsc_list_readers(ctx, &names, &count);
	expect("list_readers with no reader", r, CNIE_ERR_NO_READER);
	check("list_readers leaves no names", names == NULL && count == 0, "names NULL, count 0");
	cnie_pcsc_free_names(&names);

	expect("reader_state of an unknown reader",
	    cnie_pcsc_reader_state(ctx, "No Such Reader 00 00", &st), CNIE_ERR_READER_NOT_FOUND);
	expect("connect to an unknown reader",
	    cnie_pcsc_connect(ctx, "No Such Reader 00 00", &t), CNIE_ERR_READER_NOT_FOUND);
	check("connect leaves no transport", t == NULL, "transport NULL");

	t0 = tu_now_ms();
	r = cnie_pcsc_wait_change(ctx, 200);
	dt = tu_now_ms() - t0;
	expect("wait_change(200 ms) with nothing happening", r, CNIE_ERR_TIMEOUT);
	snprintf(detail, sizeof(detail), "%llu ms (want >= 150)", (unsigned long long)dt);
	check("wait_change(200 ms) does not end early", dt >= 150, detail);

	expect("wait_change(0) polls", cnie_pcsc_wait_change(ctx, 0), CNIE_ERR_TIMEOUT);

	/*
	 * Cancel while blocked forever: the wait returns (a missed cancel
	 * hangs until ctest's TIMEOUT fails the test).
	 */
	c.ctx = ctx;
	c.waiter = tu_gettid();
	c.blocked = false;
	c.rc = 1;
	if (pthread_create(&th, NULL, cancel_later, &c) != 0) {
		check("pthread_create", false, "failed");
		goto out;
	}
	t0 = tu_now_ms();
	r = cnie_pcsc_wait_change(ctx, -1);
	dt = tu_now_ms() - t0;
	pthread_join(th, NULL);
	check("the other thread saw the wait blocked before cancelling", c.blocked, "blocked");
	expect("wait_change(forever) cancelled by another thread", r, CNIE_ERR_CANCELLED);
	expect("cnie_pcsc_cancel from the other thread", c.rc, CNIE_OK);
	printf("FIGURE cancelled wait returned %llu ms after it started\n",
	    (unsigned long long)dt);

	/* A cancel issued before the wait cancels that wait, and only it. */
	expect("cancel with no wait in progress", cnie_pcsc_cancel(ctx), CNIE_OK);
	t0 = tu_now_ms();
	r = cnie_pcsc_wait_change(ctx, 600000);
	dt = tu_now_ms() - t0;
	/* Not CNIE_ERR_TIMEOUT: the pending cancel ended it, not its (long) timeout. */
	expect("next wait_change sees the pending cancel", r, CNIE_ERR_CANCELLED);
	printf("FIGURE pending cancel returned after %llu ms\n", (unsigned long long)dt);
	expect("the cancel was consumed", cnie_pcsc_wait_change(ctx, 50), CNIE_ERR_TIMEOUT);

	expect("invalid argument: NULL context", cnie_pcsc_wait_change(NULL, 0),
	    CNIE_ERR_INVALID_ARG);
out:
	cnie_pcsc_free(&ctx);
	check("cnie_pcsc_free clears the pointer", ctx == NULL, "ctx NULL");
}

static void
probe_no_service(void)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t count = 0;
	int r;

	r = cnie_pcsc_new(&ctx);
	if (r == CNIE_OK) {
		/* Some pcsc-lite versions defer the check to the first call. */
		r = cnie_pcsc_list_readers(ctx, &names, &count);
		cnie_pcsc_free_names(&names);
		cnie_pcsc_free(&ctx);
	}
	expect("pcscd not running", r, CNIE_ERR_NO_SERVICE);
	check("message names the service",
	    strstr(cnie_strerror(r), "pcscd") != NULL, cnie_strerror(r));
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pcsc_probe no-reader|no-service\n");
		return 2;
	}
	if (strcmp(argv[1], "no-reader") == 0)
		probe_no_reader();
	else if (strcmp(argv[1], "no-service") == 0)
		probe_no_service();
	else {
		fprintf(stderr, "pcsc_probe: unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("%s: %d failure(s)\n", argv[1], failures);
	/* Never 77: ctest would read it as "skipped". */
	return failures == 0 ? 0 : 1;
}
