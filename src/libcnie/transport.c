/*
 * The generic transport wrapper: see include/cnie/transport.h.
 *
 * An implementation (PC/SC, the reference card, a test script) only moves
 * bytes.  What every path needs is done once here: argument and size
 * checks, the response buffer (wiped after each exchange since responses
 * carry personal data and session secrets), the APDU trace with masking,
 * and the counters benchmarks read.
 */
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/transport.h>

/* Short-length defaults (ISO 7816-3 12.1.3): 4 + 1 + 255 + 1 and 256 + SW. */
#define TRANSPORT_DEFAULT_MAX_CMD 261
#define TRANSPORT_DEFAULT_MAX_RESP 258
/* A command needs at least its header; a response at least its SW. */
#define TRANSPORT_MIN_CMD 4
#define TRANSPORT_MIN_RESP 2

struct cnie_transport {
	cnie_transport_ops ops; /* copied: the caller's table may be short-lived */
	void *ctx;
	cnie_transport_caps caps;
	char *name;
	cnie_transport_stats stats;
};

static int
caps_check(const cnie_transport_caps *caps)
{
	if (caps->max_cmd < TRANSPORT_MIN_CMD + 1 || caps->max_resp < TRANSPORT_MIN_RESP)
		return CNIE_ERR_INVALID_ARG;
	return 0;
}

/* Clamps to what the rest of the library can ever build or receive. */
static void
caps_store(cnie_transport *t, const cnie_transport_caps *caps)
{
	t->caps = *caps;
	if (t->caps.max_cmd > CNIE_MAX_COMMAND)
		t->caps.max_cmd = CNIE_MAX_COMMAND;
	if (t->caps.max_resp > CNIE_MAX_RESPONSE)
		t->caps.max_resp = CNIE_MAX_RESPONSE;
}

int
cnie_transport_new(const cnie_transport_ops *ops, void *ctx, const cnie_transport_caps *caps,
    const char *name, cnie_transport **out)
{
	cnie_transport *t = NULL;
	cnie_transport_caps def;
	int r;

	if (out != NULL)
		*out = NULL;
	if (ops == NULL || ops->transmit == NULL || out == NULL) {
		r = CNIE_ERR_INVALID_ARG;
		goto fail;
	}
	if (caps == NULL) {
		memset(&def, 0, sizeof(def));
		def.max_cmd = TRANSPORT_DEFAULT_MAX_CMD;
		def.max_resp = TRANSPORT_DEFAULT_MAX_RESP;
		caps = &def;
	}
	if ((r = caps_check(caps)) != 0)
		goto fail;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name != NULL ? name : "")) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto fail;
	}
	t->ops = *ops;
	t->ctx = ctx;
	caps_store(t, caps);
	*out = t;
	return 0;
fail:
	/* The header promises ownership of ctx on failure too. */
	if (t != NULL) {
		free(t->name);
		free(t);
	}
	if (ops != NULL && ops->free != NULL)
		ops->free(ctx);
	return r;
}

void
cnie_transport_free(cnie_transport **tp)
{
	cnie_transport *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	if (t->ops.free != NULL)
		t->ops.free(t->ctx);
	free(t->name);
	cnie_freezero(t, sizeof(*t));
	*tp = NULL;
}

int
cnie_transport_transmit(cnie_transport *t, const uint8_t *cmd, size_t n, unsigned trace_flags,
    cnie_buf *resp)
{
	uint8_t *rbuf = NULL;
	size_t rlen = CNIE_MAX_RESPONSE, used;
	int r;

	if (t == NULL || cmd == NULL || resp == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (n < TRANSPORT_MIN_CMD)
		return CNIE_ERR_INVALID_ARG;
	if (n > t->caps.max_cmd)
		return CNIE_ERR_TOO_LONG;
	/*
	 * On the heap: 64 KiB on the stack is too much for callers running
	 * in small-stack threads (PKCS#11 applications).
	 */
	if ((rbuf = malloc(CNIE_MAX_RESPONSE)) == NULL)
		return CNIE_ERR_NOMEM;
	/*
	 * Room in resp for the largest answer before anything is sent: once
	 * the card has answered, nothing can fail for want of memory, so
	 * CNIE_ERR_NOMEM always means the command was not sent (the secure
	 * messaging transport keeps its session on it).  A buffer capped
	 * below that size (cnie_buf_set_max) keeps its own limit.
	 */
	used = cnie_buf_len(resp);
	if ((r = cnie_buf_reserve(resp, CNIE_MAX_RESPONSE, NULL)) == 0)
		r = cnie_buf_truncate(resp, used);
	else if (r == CNIE_ERR_TOO_LONG)
		r = 0;
	if (r != 0)
		goto out;

	cnie_log_apdu('>', cmd, n, trace_flags);
	t->stats.apdus++;
	t->stats.bytes_sent += n;
	if ((r = t->ops.transmit(t->ctx, cmd, n, rbuf, &rlen)) != 0)
		goto out;
	/* Never trust the implementation's length beyond the buffer it got. */
	if (rlen > CNIE_MAX_RESPONSE) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	t->stats.bytes_received += rlen;
	cnie_log_apdu('<', rbuf, rlen, trace_flags);
	/* ISO 7816-4 5.1: every response ends with SW1 SW2. */
	if (rlen < TRANSPORT_MIN_RESP) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	r = cnie_buf_put(resp, rbuf, rlen);
out:
	cnie_freezero(rbuf, CNIE_MAX_RESPONSE);
	return r;
}

int
cnie_transport_begin(cnie_transport *t)
{
	if (t == NULL)
		return CNIE_ERR_INVALID_ARG;
	/* No exclusive access to take (in-process card): nothing to do. */
	if (t->ops.begin == NULL)
		return 0;
	return t->ops.begin(t->ctx);
}

int
cnie_transport_end(cnie_transport *t)
{
	if (t == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (t->ops.end == NULL)
		return 0;
	return t->ops.end(t->ctx);
}

int
cnie_transport_reset(cnie_transport *t, bool unpower)
{
	if (t == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (t->ops.reset == NULL)
		return CNIE_ERR_UNSUPPORTED;
	return t->ops.reset(t->ctx, unpower);
}

int
cnie_transport_reconnect(cnie_transport *t)
{
	if (t == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (t->ops.reconnect == NULL)
		return CNIE_ERR_UNSUPPORTED;
	return t->ops.reconnect(t->ctx);
}

int
cnie_transport_control(cnie_transport *t, uint32_t code, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t *out_len)
{
	int r;

	if (t == NULL || (in == NULL && in_len > 0) || out_len == NULL ||
	    (out == NULL && *out_len > 0))
		return CNIE_ERR_INVALID_ARG;
	if (t->ops.control == NULL)
		return CNIE_ERR_UNSUPPORTED;
	/* Not traced: PIN pad structures describe the PIN block layout. */
	t->stats.controls++;
	r = t->ops.control(t->ctx, code, in, in_len, out, out_len);
	return r;
}

int
cnie_transport_atr(cnie_transport *t, uint8_t *atr, size_t *n)
{
	if (t == NULL || atr == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (t->ops.atr == NULL)
		return CNIE_ERR_UNSUPPORTED;
	return t->ops.atr(t->ctx, atr, n);
}

const cnie_transport_caps *
cnie_transport_get_caps(const cnie_transport *t)
{
	if (t == NULL)
		return NULL;
	return &t->caps;
}

int
cnie_transport_set_caps(cnie_transport *t, const cnie_transport_caps *caps)
{
	int r;

	if (t == NULL || caps == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = caps_check(caps)) != 0)
		return r;
	caps_store(t, caps);
	return 0;
}

const char *
cnie_transport_name(const cnie_transport *t)
{
	if (t == NULL)
		return NULL;
	return t->name;
}

void
cnie_transport_get_stats(const cnie_transport *t, cnie_transport_stats *s)
{
	if (s == NULL)
		return;
	if (t == NULL) {
		memset(s, 0, sizeof(*s));
		return;
	}
	*s = t->stats;
}

void
cnie_transport_reset_stats(cnie_transport *t)
{
	if (t == NULL)
		return;
	memset(&t->stats, 0, sizeof(t->stats));
}
