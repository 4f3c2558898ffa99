/*
 * The raw HTTP/1.1 request head, checked byte by byte as it arrives
 * (head.c).  A pure, allocation-free state machine over untrusted bytes:
 * the HTTP front (http.c) runs it on the decrypted input before
 * libevent's parser sees a byte, so that every request libevent would
 * answer itself (with an HTML body) or read leniently is refused by cnied,
 * with the API's JSON error.  Fuzzed: tests/fuzz/fuzz_cnied_head.c.
 *
 * What passes is exactly: a request line "METHOD SP origin-form SP
 * HTTP/1.1|HTTP/1.0 CRLF" with METHOD GET, POST or OPTIONS and a target
 * of visible ASCII starting with one '/' (no "//", no '#'); header lines
 * "token ':' OWS value OWS CRLF" with a value of visible characters,
 * space, tab or obs-text; at most one Host, Origin and Content-Length; a
 * Content-Length of digits only, at most CNIED_MAX_BODY; no
 * Transfer-Encoding (the API takes Content-Length bodies only); Expect
 * only "100-continue"; the whole head, CRLFs counted, within
 * CNIED_MAX_HEADERS; an empty line (CRLF) at the end.
 */
#ifndef CNIED_HEAD_H
#define CNIED_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CNIED_HEAD_METHOD_MAX 16 /* longer: 501, no method of ours is that long */
#define CNIED_HEAD_NAME_MAX 24	 /* header names compared (longer ones are others) */
#define CNIED_HEAD_VALUE_MAX 16	 /* Expect values kept (longer ones are not 100-continue) */

/* Outcome of cnied_head_feed: still reading, the head is acceptable, or refused. */
#define CNIED_HEAD_MORE 0
#define CNIED_HEAD_DONE 1
#define CNIED_HEAD_REFUSED 2

typedef struct cnied_head {
	/* Results (read-only for callers). */
	int result;		/* CNIED_HEAD_MORE, _DONE or _REFUSED */
	int status;		/* the refusal's HTTP status (400, 405, 413, 417, 431, 501, 505) */
	const char *why;	/* the refusal's message (static text) */
	size_t size;		/* bytes of the head taken so far, CRLFs counted */
	bool has_cl;		/* a Content-Length was seen */
	uint32_t cl;		/* its value (<= CNIED_MAX_BODY when the head is accepted) */
	size_t cl_end;		/* size at the end of its line (its LF), 0 before */
	/* Parser state. */
	unsigned state;
	size_t tok;		/* length of the current token (method, target, name, value) */
	char buf[CNIED_HEAD_NAME_MAX]; /* method, version, header name (lower case) */
	char val[CNIED_HEAD_VALUE_MAX]; /* value of Expect (lower case) */
	size_t val_len;		/* value length without trailing OWS */
	unsigned field;		/* the current header, one of head.c's H_* */
	unsigned seen;		/* bit per H_* already seen */
	bool digits_done;	/* Content-Length: OWS after the digits */
	bool cl_over;		/* Content-Length above CNIED_MAX_BODY */
} cnied_head;

/* Starts a new request head. */
void cnied_head_init(cnied_head *h);

/*
 * Takes up to n bytes of the head.  Returns how many were taken: all n
 * while the head goes on; fewer when the head ended (result DONE: the
 * bytes after it are the body or the next request) or was refused (result
 * REFUSED, status and why set; the refusing byte is taken).  Once DONE or
 * REFUSED, takes nothing more until cnied_head_init.
 */
size_t cnied_head_feed(cnied_head *h, const uint8_t *p, size_t n);

#endif
