/*
 * libFuzzer harness for cnied's raw request head scanner (src/cnied/head.c).
 * The first byte picks a split point, the rest is the bytes a client sends.
 * Properties (abort() on violation):
 *  - the verdict, status and bytes taken do not depend on the split;
 *  - never more taken than given; a refusal has a reason and a status of
 *    the documented set;
 *  - an accepted head ends with CRLF CRLF, is within CNIED_MAX_HEADERS,
 *    has no control character but CR LF (paired) and tab, starts with
 *    GET, POST or OPTIONS and a target "/x" (not "//", no '#'), has no
 *    Transfer-Encoding line, at most one Host, Origin and Content-Length
 *    line, and a Content-Length within CNIED_MAX_BODY.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cnied.h"
#include "head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines of the accepted head starting with name ':' (case-insensitive). */
static size_t
count_lines(const uint8_t *p, size_t n, const char *name)
{
	size_t i, l = strlen(name), count = 0;

	for (i = 0; i + 2 <= n; i++) {
		if (p[i] != '\r' || p[i + 1] != '\n')
			continue;
		if (i + 2 + l + 1 <= n && strncasecmp((const char *)p + i + 2, name, l) == 0 &&
		    p[i + 2 + l] == ':')
			count++;
	}
	return count;
}

static void
check_accepted(const uint8_t *p, size_t n, const cnied_head *h)
{
	size_t i;

	if (n < 4 || n > CNIED_MAX_HEADERS || h->size != n || memcmp(p + n - 4, "\r\n\r\n", 4) != 0)
		abort();
	for (i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (b == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
			abort();
		if (b == '\n' && (i == 0 || p[i - 1] != '\r'))
			abort();
		if ((b < 0x20 && b != '\r' && b != '\n' && b != '\t') || b == 0x7f)
			abort();
	}
	if (!(n > 6 && memcmp(p, "GET /", 5) == 0 && p[5] != '/') &&
	    !(n > 7 && memcmp(p, "POST /", 6) == 0 && p[6] != '/') &&
	    !(n > 10 && memcmp(p, "OPTIONS /", 9) == 0 && p[9] != '/'))
		abort();
	for (i = 0; i < n && p[i] != '\r'; i++)
		if (p[i] == '#')
			abort();
	if (count_lines(p, n, "transfer-encoding") != 0 || count_lines(p, n, "host") > 1 ||
	    count_lines(p, n, "origin") > 1 || count_lines(p, n, "content-length") > 1)
		abort();
	if (h->has_cl != (count_lines(p, n, "content-length") == 1))
		abort();
	if (h->has_cl && (h->cl > CNIED_MAX_BODY || h->cl_end == 0 || h->cl_end > n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnied_head whole, split;
	const uint8_t *p;
	size_t n, cut, took, took2;

	if (size < 1)
		return 0;
	p = data + 1;
	n = size - 1;
	cut = n > 0 ? (size_t)data[0] * n / 255 : 0;

	cnied_head_init(&whole);
	took = cnied_head_feed(&whole, p, n);
	cnied_head_init(&split);
	took2 = cnied_head_feed(&split, p, cut);
	if (took2 > cut)
		abort();
	if (split.result == CNIED_HEAD_MORE)
		took2 += cnied_head_feed(&split, p + cut, n - cut);
	if (took > n || took2 != took || split.result != whole.result ||
	    split.status != whole.status || split.size != whole.size)
		abort();
	switch (whole.result) {
	case CNIED_HEAD_MORE:
		if (took != n || whole.size != n)
			abort();
		break;
	case CNIED_HEAD_DONE:
		check_accepted(p, took, &whole);
		break;
	case CNIED_HEAD_REFUSED:
		if (whole.why == NULL || whole.why[0] == '\0')
			abort();
		switch (whole.status) {
		case 400: case 405: case 413: case 417: case 431: case 501: case 505:
			break;
		default:
			abort();
		}
		break;
	default:
		abort();
	}
	/* Finished: nothing more is taken. */
	if (whole.result != CNIED_HEAD_MORE && cnied_head_feed(&whole, p, n) != 0)
		abort();
	return 0;
}
