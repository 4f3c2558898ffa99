/*
 * Unit tests of the raw request head scanner (src/cnied/head.c): what
 * passes, every refusal with its status, the limits at their exact
 * bounds, and the same verdict whatever the way the bytes are split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cnied.h"
#include "head.h"

#define GET "GET /v1/status HTTP/1.1\r\n"
#define POST "POST /v1/sign HTTP/1.1\r\n"
#define HOST "Host: 127.0.0.1:28219\r\n"

/* Feeds s whole; returns what was taken. */
static size_t
feed_all(cnied_head *h, const char *s, size_t n)
{
	cnied_head_init(h);
	return cnied_head_feed(h, (const uint8_t *)s, n);
}

static void
expect_status(const char *s, size_t n, int status)
{
	cnied_head h;

	feed_all(&h, s, n);
	if (status == 0) {
		if (h.result != CNIED_HEAD_DONE)
			fail_msg("refused (%d %s): %s", h.status, h.why, s);
		return;
	}
	if (h.result != CNIED_HEAD_REFUSED || h.status != status)
		fail_msg("want %d, got result %d status %d: %s", status, h.result, h.status, s);
	assert_non_null(h.why);
	assert_true(h.why[0] != '\0');
}

#define ACCEPT(lit) expect_status(lit, sizeof(lit) - 1, 0)
#define REFUSE(lit, st) expect_status(lit, sizeof(lit) - 1, st)

static void
test_accepts(void **state)
{
	cnied_head h;
	static const char req[] = POST HOST "Origin: https://a.example\r\n"
	    "Content-Length: 0042\r\n\r\n{\"body\":1}";
	size_t took;

	(void)state;
	ACCEPT(GET HOST "\r\n");
	ACCEPT("GET /v1/status HTTP/1.0\r\n\r\n");
	ACCEPT("OPTIONS /v1/sign HTTP/1.1\r\nhost:\t127.0.0.1:1 \t\r\nX-Empty:\r\n\r\n");
	ACCEPT(GET "X-Obs: caf\xc3\xa9\r\nExpect: 100-Continue \r\n\r\n");
	ACCEPT("GET /a?b=c&d=%41 HTTP/1.1\r\n\r\n");
	ACCEPT("GET / HTTP/1.1\r\n\r\n");
	/* The head ends at its empty line: the body is not taken. */
	took = feed_all(&h, req, sizeof(req) - 1);
	assert_int_equal(h.result, CNIED_HEAD_DONE);
	assert_int_equal(took, strlen(req) - strlen("{\"body\":1}"));
	assert_int_equal(h.size, took);
	assert_true(h.has_cl);
	assert_int_equal(h.cl, 42);
	assert_int_equal(h.cl_end, strlen(POST HOST "Origin: https://a.example\r\n"
	    "Content-Length: 0042\r\n"));
	/* Done: nothing more is taken until the next init. */
	assert_int_equal(cnied_head_feed(&h, (const uint8_t *)"GET", 3), 0);
}

static void
test_request_line(void **state)
{
	(void)state;
	REFUSE("\r\n" GET "\r\n", 400);
	REFUSE(" GET / HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET  / HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1 \r\n\r\n", 400);
	REFUSE("GET /\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\rX\r\n", 400);
	REFUSE("GET / HTTQ/1.1\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.10\r\n\r\n", 400);
	REFUSE("GET / HTTP/2.0\r\n\r\n", 505);
	REFUSE("GET / HTTP/0.9\r\n\r\n", 505);
	REFUSE("GET / HTTP/1.2\r\n\r\n", 505);
	REFUSE("PUT / HTTP/1.1\r\n\r\n", 405);
	REFUSE("HEAD / HTTP/1.1\r\n\r\n", 405);
	REFUSE("CONNECT a:443 HTTP/1.1\r\n\r\n", 405);
	REFUSE("get / HTTP/1.1\r\n\r\n", 501);
	REFUSE("BREW / HTTP/1.1\r\n\r\n", 501);
	REFUSE("GETGETGETGETGETGETGET / HTTP/1.1\r\n\r\n", 501);
	REFUSE("G(T / HTTP/1.1\r\n\r\n", 400);
	REFUSE("\x16\x03\x01\x02\x00", 400); /* a TLS ClientHello on the decrypted side */
	/* Targets: origin-form only. */
	REFUSE("GET http://evil.example/ HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET //evil.example/ HTTP/1.1\r\n\r\n", 400);
	REFUSE("OPTIONS * HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET /a#b HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET /a\tb HTTP/1.1\r\n\r\n", 400);
}

static void
test_header_lines(void **state)
{
	(void)state;
	REFUSE(GET "X-A\r\n\r\n", 400);
	REFUSE(GET "X-A : b\r\n\r\n", 400);
	REFUSE(GET "X-A\t: b\r\n\r\n", 400);
	REFUSE(GET "X-A: b\r\n c\r\n\r\n", 400);
	REFUSE(GET "\tX-A: b\r\n\r\n", 400);
	REFUSE(GET ": b\r\n\r\n", 400);
	REFUSE(GET "X(A): b\r\n\r\n", 400);
	REFUSE(GET "X\x01: b\r\n\r\n", 400);
	REFUSE(GET "X-A: b\n\r\n", 400);
	REFUSE(GET "X-A: b\rc\r\n\r\n", 400);
	REFUSE(GET "X-A: b\r\n\n", 400);
	REFUSE(GET "X-A: b\r\n\rX", 400);
	REFUSE(GET "X-A: a\x7f\r\n\r\n", 400);
	REFUSE(GET "Origin: https://a.example\x01\r\n\r\n", 400);
	/* sizeof - 1 would stop at the NUL: the length is given. */
	expect_status(GET "Origin: https://a.example\0.evil\r\n\r\n",
	    sizeof(GET "Origin: https://a.example\0.evil\r\n\r\n") - 1, 400);
}

static void
test_once_headers(void **state)
{
	(void)state;
	REFUSE(GET HOST HOST "\r\n", 400);
	REFUSE(GET "Host: a\r\nhOsT: a\r\n\r\n", 400);
	REFUSE(GET "Origin: a\r\nOrigin: a\r\n\r\n", 400);
	REFUSE(POST "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", 400);
	/* Headers allowed twice stay allowed. */
	ACCEPT(GET "Accept: a\r\nAccept: b\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n");
}

static void
test_bodies(void **state)
{
	cnied_head h;

	(void)state;
	REFUSE(POST "Transfer-Encoding: chunked\r\n\r\n", 501);
	REFUSE(POST "Transfer-Encoding: gzip, chunked\r\n\r\n", 501);
	REFUSE(POST "transfer-encoding: identity\r\n\r\n", 501);
	REFUSE(POST "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	REFUSE(POST "Content-Length: 65537\r\n\r\n", 413);
	REFUSE(POST "Content-Length: 99999999999999999999999999\r\n\r\n", 413);
	REFUSE(POST "Content-Length: 1, 1\r\n\r\n", 400);
	REFUSE(POST "Content-Length: 1 1\r\n\r\n", 400);
	REFUSE(POST "Content-Length: +1\r\n\r\n", 400);
	REFUSE(POST "Content-Length: -1\r\n\r\n", 400);
	REFUSE(POST "Content-Length: 0x10\r\n\r\n", 400);
	REFUSE(POST "Content-Length:\r\n\r\n", 400);
	REFUSE(POST "Content-Length:  \r\n\r\n", 400);
	REFUSE(GET "Expect: 100-continue-please\r\n\r\n", 417);
	REFUSE(GET "Expect: 200-ok\r\n\r\n", 417);
	REFUSE(GET "Expect:\r\n\r\n", 417);
	/* The limit itself passes; leading zeros are digits. */
	feed_all(&h, POST "Content-Length: 000065536 \r\n\r\n",
	    sizeof(POST "Content-Length: 000065536 \r\n\r\n") - 1);
	assert_int_equal(h.result, CNIED_HEAD_DONE);
	assert_int_equal(h.cl, CNIED_MAX_BODY);
	/* The 413 comes at the end of the Content-Length line, before any body byte. */
	feed_all(&h, POST "Content-Length: 70000\r\nX", sizeof(POST "Content-Length: 70000\r\nX") - 1);
	assert_int_equal(h.result, CNIED_HEAD_REFUSED);
	assert_int_equal(h.status, 413);
	assert_int_equal(h.size, strlen(POST "Content-Length: 70000\r"));
}

/* A head of exactly n bytes (CRLFs counted): padding in one X- header. */
static char *
head_of(size_t n)
{
	static const char pre[] = GET "X-P: ", post[] = "\r\n\r\n";
	size_t fixed = sizeof(pre) - 1 + sizeof(post) - 1;
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_true(n > fixed);
	memcpy(s, pre, sizeof(pre) - 1);
	memset(s + sizeof(pre) - 1, 'a', n - fixed);
	memcpy(s + n - (sizeof(post) - 1), post, sizeof(post) - 1);
	s[n] = '\0';
	return s;
}

static void
test_size_limit(void **state)
{
	cnied_head h;
	char *s;

	(void)state;
	s = head_of(CNIED_MAX_HEADERS);
	assert_int_equal(feed_all(&h, s, CNIED_MAX_HEADERS), CNIED_MAX_HEADERS);
	assert_int_equal(h.result, CNIED_HEAD_DONE);
	free(s);
	s = head_of(CNIED_MAX_HEADERS + 1);
	feed_all(&h, s, CNIED_MAX_HEADERS + 1);
	assert_int_equal(h.result, CNIED_HEAD_REFUSED);
	assert_int_equal(h.status, 431);
	free(s);
	/* Many short lines: the CRLFs count (libevent 2.1 leaves them out). */
	{
		char buf[CNIED_MAX_HEADERS + 64];
		size_t n = 0;

		memcpy(buf, GET, sizeof(GET) - 1);
		n = sizeof(GET) - 1;
		while (n + 8 < sizeof(buf) - 2) {
			memcpy(buf + n, "X: abc\r\n", 8);
			n += 8;
		}
		memcpy(buf + n, "\r\n", 2);
		n += 2;
		feed_all(&h, buf, n);
		assert_int_equal(h.status, 431);
	}
	/* A line that never ends. */
	s = malloc(40000);
	assert_non_null(s);
	memcpy(s, GET "X: ", sizeof(GET "X: ") - 1);
	memset(s + sizeof(GET "X: ") - 1, 'a', 40000 - (sizeof(GET "X: ") - 1));
	assert_int_equal(feed_all(&h, s, 40000), CNIED_MAX_HEADERS + 1);
	assert_int_equal(h.status, 431);
	free(s);
}

/* The verdict does not depend on how the bytes arrive: every split point, and byte by byte. */
static void
test_split_anywhere(void **state)
{
	static const char *const heads[] = {
		POST HOST "Origin: https://a.example\r\nContent-Length: 12\r\n\r\nbody",
		GET "Expect: 100-continue\r\n\r\n",
		GET "X-A : b\r\n\r\n",
		POST "Content-Length: 70000\r\n\r\n",
		GET "Host: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		POST "Transfer-Encoding: chunked\r\n\r\n",
	};
	size_t i, cut, k;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *s = heads[i];
		size_t n = strlen(s), took_whole;
		cnied_head whole, h;

		took_whole = feed_all(&whole, s, n);
		for (cut = 0; cut <= n; cut++) {
			size_t took;

			cnied_head_init(&h);
			took = cnied_head_feed(&h, (const uint8_t *)s, cut);
			if (h.result == CNIED_HEAD_MORE)
				took += cnied_head_feed(&h, (const uint8_t *)s + cut, n - cut);
			assert_int_equal(h.result, whole.result);
			assert_int_equal(h.status, whole.status);
			assert_int_equal(took, took_whole);
		}
		cnied_head_init(&h);
		for (k = 0; k < n && h.result == CNIED_HEAD_MORE; k++)
			assert_int_equal(cnied_head_feed(&h, (const uint8_t *)s + k, 1), 1);
		assert_int_equal(h.result, whole.result);
		assert_int_equal(h.status, whole.status);
		assert_int_equal(k, took_whole);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_header_lines),
		cmocka_unit_test(test_once_headers),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_split_anywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
