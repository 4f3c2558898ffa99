/*
 * The raw request head (head.h): RFC 9112 section 2-3 and 5-6 grammar,
 * with every leniency taken out.  One byte at a time, no allocation, no
 * look-back: what it keeps is a few counters and two short buffers, so a
 * head can arrive split anywhere across TLS records.
 *
 * Why each rule (the requests libevent 2.1 would otherwise read leniently
 * or answer with its own HTML page):
 *  - CRLF only (a bare LF or CR is refused): no two readings of where a
 *    line ends (RFC 9112 section 2.2 allows a lone LF; we do not need to);
 *  - a control character (NUL included) anywhere: libevent keeps the text
 *    before a NUL of a header value, so "Origin: allowed\0.evil" would
 *    read as the allowed origin;
 *  - origin-form targets only (RFC 9112 section 3.2.1): an absolute-form
 *    "http://other/..." or "//other/..." names an authority evhttp would
 *    believe, "*" has no use here, and a '#fragment' is never sent by a
 *    client (RFC 9110 section 4.2.4 leaves it to the client);
 *  - one Host, Origin, Content-Length: two could be read two ways
 *    (libevent's find_header returns the first);
 *  - Transfer-Encoding refused whatever its value (RFC 9112 section 6.1:
 *    501 for a coding the server does not implement, 400 beside a
 *    Content-Length): the API's bodies are small JSON documents with a
 *    Content-Length, and chunked framing is where request smuggling lives;
 *  - Content-Length digits only, and above the body limit refused now,
 *    with 413, before any body byte is read (RFC 9110 section 15.5.14);
 *  - no obs-fold (RFC 9112 section 5.2: a server may reject it with 400),
 *    no whitespace between a field name and its colon (section 5.1: must
 *    be rejected with 400);
 *  - Expect other than 100-continue: 417 (RFC 9110 section 10.1.1);
 *  - the whole head counted as received, CRLFs included, against
 *    CNIED_MAX_HEADERS: 431 (RFC 6585 section 5).
 */
#include <string.h>

#include "cnied.h"
#include "head.h"

enum {
	S_START,   /* first byte of the request line */
	S_METHOD,
	S_TARGET0, /* first byte of the target */
	S_TARGET1, /* second byte of the target */
	S_TARGET,
	S_VERSION,
	S_RL_LF,   /* the LF ending the request line */
	S_LINE,	   /* first byte of a header line, or the CR of the empty line */
	S_NAME,
	S_OWS,	   /* whitespace after the colon */
	S_VALUE,
	S_HL_LF,   /* the LF ending a header line */
	S_END_LF,  /* the LF ending the head */
	S_STOP,	   /* DONE or REFUSED */
};

/* The headers the front cares about; the rest are H_OTHER. */
enum { H_OTHER, H_HOST, H_ORIGIN, H_CL, H_TE, H_EXPECT };

/* RFC 9110 section 5.6.2 tchar. */
static bool
is_tchar(uint8_t b)
{
	if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
		return true;
	return b != 0 && strchr("!#$%&'*+-.^_`|~", b) != NULL;
}

static bool
is_ctl(uint8_t b)
{
	return b < 0x20 || b == 0x7f;
}

static uint8_t
lower(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b - 'A' + 'a') : b;
}

static size_t
refuse(cnied_head *h, int status, const char *why)
{
	h->result = CNIED_HEAD_REFUSED;
	h->status = status;
	h->why = why;
	h->state = S_STOP;
	return 1;
}

void
cnied_head_init(cnied_head *h)
{
	memset(h, 0, sizeof(*h));
	h->result = CNIED_HEAD_MORE;
	h->state = S_START;
}

/* Whether the token in h->buf (h->tok bytes, <= sizeof buf) is s. */
static bool
tok_is(const cnied_head *h, const char *s)
{
	size_t l = strlen(s);

	return h->tok == l && l <= sizeof(h->buf) && memcmp(h->buf, s, l) == 0;
}

/* The method ends: GET, POST, OPTIONS go on (case-sensitive: RFC 9110 9.1). */
static size_t
method_end(cnied_head *h)
{
	static const char *const known[] = {"HEAD", "PUT", "DELETE", "CONNECT", "TRACE",
	    "PATCH"};
	size_t i;

	if (h->tok == 0)
		return refuse(h, 400, "malformed request line");
	if (tok_is(h, "GET") || tok_is(h, "POST") || tok_is(h, "OPTIONS")) {
		h->state = S_TARGET0;
		h->tok = 0;
		return 0;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (tok_is(h, known[i]))
			return refuse(h, 405, "method not allowed (GET, POST, OPTIONS)");
	return refuse(h, 501, "unknown method");
}

/* The version ends at its CR: HTTP/1.1 and HTTP/1.0 go on. */
static size_t
version_end(cnied_head *h)
{
	if (tok_is(h, "HTTP/1.1") || tok_is(h, "HTTP/1.0")) {
		h->state = S_RL_LF;
		return 0;
	}
	if (h->tok == 8 && memcmp(h->buf, "HTTP/", 5) == 0 && h->buf[5] >= '0' &&
	    h->buf[5] <= '9' && h->buf[6] == '.' && h->buf[7] >= '0' && h->buf[7] <= '9')
		return refuse(h, 505, "HTTP version not supported (HTTP/1.1 or HTTP/1.0)");
	return refuse(h, 400, "malformed HTTP version in the request line");
}

/* A header name ends at its colon. */
static size_t
name_end(cnied_head *h)
{
	static const struct {
		const char *name;
		unsigned field;
		const char *twice;
	} fields[] = {
		{"host", H_HOST, "a second Host header"},
		{"origin", H_ORIGIN, "a second Origin header"},
		{"content-length", H_CL, "a second Content-Length header"},
		{"transfer-encoding", H_TE, NULL},
		{"expect", H_EXPECT, NULL},
	};
	size_t i;

	h->field = H_OTHER;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!tok_is(h, fields[i].name))
			continue;
		h->field = fields[i].field;
		if (fields[i].twice != NULL && (h->seen & (1u << h->field)))
			return refuse(h, 400, fields[i].twice);
		h->seen |= 1u << h->field;
		break;
	}
	if (h->field == H_TE)
		return h->has_cl ?
		    refuse(h, 400, "Transfer-Encoding beside Content-Length") :
		    refuse(h, 501, "Transfer-Encoding is not supported: send the body with "
				   "Content-Length");
	h->tok = 0;
	h->val_len = 0;
	h->digits_done = false;
	if (h->field == H_CL) {
		h->has_cl = true;
		h->cl = 0;
	}
	h->state = S_OWS;
	return 0;
}

/* One byte of a header value (not CR, LF or a control character but tab). */
static size_t
value_byte(cnied_head *h, uint8_t b)
{
	bool ows = b == ' ' || b == '\t';

	if (h->field == H_CL) {
		if (ows) {
			h->digits_done = true;
		} else if (b < '0' || b > '9' || h->digits_done) {
			return refuse(h, 400, "Content-Length must be one number (digits only)");
		} else if (!h->cl_over) {
			h->cl = h->cl * 10 + (uint32_t)(b - '0');
			h->cl_over = h->cl > CNIED_MAX_BODY;
		}
	} else if (h->field == H_EXPECT) {
		if (h->tok < sizeof(h->val))
			h->val[h->tok] = (char)lower(b);
		if (!ows)
			h->val_len = h->tok + 1;
	}
	h->tok++;
	return 0;
}

/* A header value ends at its CR. */
static size_t
value_end(cnied_head *h)
{
	if (h->field == H_CL) {
		if (h->tok == 0)
			return refuse(h, 400, "empty Content-Length");
		if (h->cl_over)
			return refuse(h, 413, "body over 64 KiB (Content-Length)");
	}
	if (h->field == H_EXPECT &&
	    (h->val_len != 12 || memcmp(h->val, "100-continue", 12) != 0))
		return refuse(h, 417, "Expect other than 100-continue");
	h->state = S_HL_LF;
	return 0;
}

/* One byte; 1 when it ended the head (DONE or REFUSED), else 0. */
static size_t
step(cnied_head *h, uint8_t b)
{
	if (h->size >= CNIED_MAX_HEADERS)
		return refuse(h, 431, "request head over 8 KiB (line ends counted)");
	h->size++;
	switch (h->state) {
	case S_START:
		if (b == '\r' || b == '\n')
			return refuse(h, 400, "empty line before the request line");
		h->state = S_METHOD;
		/* FALLTHROUGH */
	case S_METHOD:
		if (b == ' ')
			return method_end(h);
		if (!is_tchar(b))
			return refuse(h, 400, "malformed request line");
		if (h->tok >= CNIED_HEAD_METHOD_MAX)
			return refuse(h, 501, "unknown method");
		h->buf[h->tok++] = (char)b;
		return 0;
	case S_TARGET0:
		if (b != '/')
			return refuse(h, 400, "the request target must be a path (no absolute "
					      "form, no authority, no \"*\")");
		h->state = S_TARGET1;
		return 0;
	case S_TARGET1:
		if (b == '/')
			return refuse(h, 400, "the request target must be a path (it starts "
					      "with \"//\")");
		h->state = S_TARGET;
		/* FALLTHROUGH */
	case S_TARGET:
		if (b == ' ') {
			h->state = S_VERSION;
			h->tok = 0;
			return 0;
		}
		if (b == '#')
			return refuse(h, 400, "a #fragment in the request target");
		if (b == '\r' || b == '\n')
			return refuse(h, 400, "malformed request line (no HTTP version)");
		if (is_ctl(b) || b >= 0x80)
			return refuse(h, 400, "a control character or non-ASCII byte in the "
					      "request target");
		return 0;
	case S_VERSION:
		if (b == '\r')
			return version_end(h);
		if (b == '\n')
			return refuse(h, 400, "a line ending in LF without CR");
		if (h->tok >= 8 || is_ctl(b) || b == ' ')
			return refuse(h, 400, "malformed HTTP version in the request line");
		h->buf[h->tok++] = (char)b;
		return 0;
	case S_RL_LF:
	case S_HL_LF:
		if (b != '\n')
			return refuse(h, 400, "a CR not followed by LF");
		if (h->state == S_HL_LF && h->field == H_CL)
			h->cl_end = h->size;
		h->state = S_LINE;
		h->tok = 0;
		return 0;
	case S_LINE:
		if (b == '\r') {
			h->state = S_END_LF;
			return 0;
		}
		if (b == '\n')
			return refuse(h, 400, "a line ending in LF without CR");
		if (b == ' ' || b == '\t')
			return refuse(h, 400, "a header line starting with whitespace (obs-fold)");
		if (b == ':')
			return refuse(h, 400, "a header line with an empty name");
		h->state = S_NAME;
		/* FALLTHROUGH */
	case S_NAME:
		if (b == ':')
			return name_end(h);
		if (b == ' ' || b == '\t')
			return refuse(h, 400, "whitespace between a header name and its colon");
		if (b == '\r' || b == '\n')
			return refuse(h, 400, "a header line without a colon");
		if (!is_tchar(b))
			return refuse(h, 400, is_ctl(b) ? "a control character in a header name" :
			    "an invalid character in a header name");
		if (h->tok < sizeof(h->buf))
			h->buf[h->tok] = (char)lower(b);
		h->tok++;
		return 0;
	case S_OWS:
		if (b == ' ' || b == '\t')
			return 0;
		h->state = S_VALUE;
		/* FALLTHROUGH */
	case S_VALUE:
		if (b == '\r')
			return value_end(h);
		if (b == '\n')
			return refuse(h, 400, "a line ending in LF without CR");
		if (is_ctl(b) && b != '\t')
			return refuse(h, 400, "a control character in a header value");
		return value_byte(h, b);
	case S_END_LF:
		if (b != '\n')
			return refuse(h, 400, "a CR not followed by LF");
		h->result = CNIED_HEAD_DONE;
		h->state = S_STOP;
		return 1;
	default:
		return 1;
	}
}

size_t
cnied_head_feed(cnied_head *h, const uint8_t *p, size_t n)
{
	size_t i;

	if (h->result != CNIED_HEAD_MORE)
		return 0;
	for (i = 0; i < n; i++)
		if (step(h, p[i]) != 0)
			return i + 1; /* the head's last LF, or the byte refused */
	return n;
}
