/*
 * Unit tests for the generic transport wrapper (src/libcnie/transport.c): argument
 * checks, ownership of the implementation's context, default capabilities,
 * optional operations, response handling, counters and the masked trace.
 * The implementation is a small scripted one defined here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/transport.h>

#include "unitutil.h"

/* ---- the scripted implementation ------------------------------------ */

struct fake {
	int *freed;	     /* incremented by fake_free (outlives the fake) */
	int transmit_rc;     /* returned by transmit when not 0 */
	uint8_t resp[16];    /* the answer to every command */
	size_t resp_len;
	size_t claim_len;    /* when not 0: the length transmit reports */
	uint8_t last_cmd[32];
	size_t last_cmd_len;
	size_t resp_room;    /* *resp_len the wrapper offered */
	int calls;	     /* per operation: transmit, begin, end, reset, ... */
	bool last_unpower;
};

static int
fake_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct fake *f = ctx;

	f->calls++;
	f->resp_room = *resp_len;
	f->last_cmd_len = n;
	memcpy(f->last_cmd, cmd, n < sizeof(f->last_cmd) ? n : sizeof(f->last_cmd));
	if (f->transmit_rc != 0)
		return f->transmit_rc;
	assert_true(*resp_len >= f->resp_len);
	memcpy(resp, f->resp, f->resp_len);
	*resp_len = f->claim_len != 0 ? f->claim_len : f->resp_len;
	return 0;
}

static int
fake_begin(void *ctx)
{
	((struct fake *)ctx)->calls += 10;
	return 0;
}

static int
fake_end(void *ctx)
{
	((struct fake *)ctx)->calls += 100;
	return CNIE_ERR_CARD_REMOVED;
}

static int
fake_reset(void *ctx, bool unpower)
{
	struct fake *f = ctx;

	f->calls += 1000;
	f->last_unpower = unpower;
	return 0;
}

static int
fake_reconnect(void *ctx)
{
	((struct fake *)ctx)->calls += 10000;
	return CNIE_ERR_CARD_RESET;
}

static int
fake_control(void *ctx, uint32_t code, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t *out_len)
{
	(void)ctx;
	(void)in;
	assert_int_equal(code, 0x42000DA0);
	assert_int_equal(in_len, 3);
	if (*out_len < 2)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	out[0] = 0x90;
	out[1] = 0x00;
	*out_len = 2;
	return 0;
}

static int
fake_atr(void *ctx, uint8_t *atr, size_t *n)
{
	(void)ctx;
	if (*n < 2)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	atr[0] = 0x3B;
	atr[1] = 0x80;
	*n = 2;
	return 0;
}

static void
fake_free(void *ctx)
{
	struct fake *f = ctx;

	(*f->freed)++;
	free(f);
}

static const cnie_transport_ops full_ops = {
	.transmit = fake_transmit,
	.begin = fake_begin,
	.end = fake_end,
	.reset = fake_reset,
	.reconnect = fake_reconnect,
	.control = fake_control,
	.atr = fake_atr,
	.free = fake_free,
};

static const cnie_transport_ops min_ops = {
	.transmit = fake_transmit,
	.free = fake_free,
};

static struct fake *
fake_new(int *freed, const char *resp_hex)
{
	struct fake *f;
	cnie_buf *b;

	assert_non_null(f = calloc(1, sizeof(*f)));
	f->freed = freed;
	if (resp_hex != NULL) {
		assert_non_null(b = cnie_buf_new());
		assert_int_equal(cnie_unhex(resp_hex, b), 0);
		assert_true(cnie_buf_len(b) <= sizeof(f->resp));
		f->resp_len = cnie_buf_len(b);
		memcpy(f->resp, cnie_buf_ptr(b), f->resp_len);
		cnie_buf_free(&b);
	}
	return f;
}

static cnie_transport *
open_fake(const cnie_transport_ops *ops, struct fake *f, const cnie_transport_caps *caps)
{
	cnie_transport *t = NULL;

	assert_int_equal(cnie_transport_new(ops, f, caps, "Fake Reader 00", &t), 0);
	assert_non_null(t);
	return t;
}

static const uint8_t select_mf[] = { 0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00 };

/* ---- construction --------------------------------------------------- */

static void
test_new_defaults_and_name(void **state)
{
	const cnie_transport_caps *c;
	cnie_transport *t;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, NULL), NULL);
	c = cnie_transport_get_caps(t);
	assert_non_null(c);
	assert_int_equal(c->max_cmd, 261);
	assert_int_equal(c->max_resp, 258);
	assert_false(c->extended);
	assert_false(c->contactless);
	assert_false(c->pinpad_verify);
	assert_string_equal(cnie_transport_name(t), "Fake Reader 00");
	cnie_transport_free(&t);
	assert_null(t);
	assert_int_equal(freed, 1);
	cnie_transport_free(&t); /* NULL-safe */
	cnie_transport_free(NULL);
	assert_int_equal(freed, 1);
}

static void
test_new_copies_caps_and_clamps(void **state)
{
	cnie_transport_caps caps = { 0 };
	const cnie_transport_caps *c;
	cnie_transport *t;
	int freed = 0;

	(void)state;
	caps.max_cmd = 1000000;
	caps.max_resp = 1000000;
	caps.extended = true;
	caps.pinpad_verify = true;
	caps.ioctl_verify = 0x42000DA0;
	t = open_fake(&min_ops, fake_new(&freed, NULL), &caps);
	memset(&caps, 0, sizeof(caps)); /* copied, not borrowed */
	c = cnie_transport_get_caps(t);
	assert_int_equal(c->max_cmd, CNIE_MAX_COMMAND);
	assert_int_equal(c->max_resp, CNIE_MAX_RESPONSE);
	assert_true(c->extended);
	assert_true(c->pinpad_verify);
	assert_int_equal(c->ioctl_verify, 0x42000DA0);
	cnie_transport_free(&t);
	assert_int_equal(freed, 1);
}

static void
test_new_failure_frees_ctx(void **state)
{
	static const cnie_transport_ops no_transmit = { .free = fake_free };
	cnie_transport_caps caps = { 0 };
	cnie_transport *t = (cnie_transport *)&caps;
	int freed = 0;

	(void)state;
	assert_int_equal(cnie_transport_new(&no_transmit, fake_new(&freed, NULL), NULL, "x", &t),
	    CNIE_ERR_INVALID_ARG);
	assert_null(t);
	assert_int_equal(freed, 1);

	caps.max_cmd = 4; /* cannot even hold a header and Le */
	caps.max_resp = 258;
	assert_int_equal(cnie_transport_new(&min_ops, fake_new(&freed, NULL), &caps, "x", &t),
	    CNIE_ERR_INVALID_ARG);
	assert_null(t);
	assert_int_equal(freed, 2);

	caps.max_cmd = 261;
	caps.max_resp = 1;
	assert_int_equal(cnie_transport_new(&min_ops, fake_new(&freed, NULL), &caps, "x", &t),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(freed, 3);

	assert_int_equal(cnie_transport_new(&min_ops, fake_new(&freed, NULL), NULL, "x", NULL),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(freed, 4);
	assert_int_equal(cnie_transport_new(NULL, NULL, NULL, "x", &t), CNIE_ERR_INVALID_ARG);
}

static void
test_new_null_name_is_empty(void **state)
{
	cnie_transport *t = NULL;
	int freed = 0;

	(void)state;
	assert_int_equal(cnie_transport_new(&min_ops, fake_new(&freed, NULL), NULL, NULL, &t), 0);
	assert_string_equal(cnie_transport_name(t), "");
	cnie_transport_free(&t);
	assert_int_equal(freed, 1);
}

static void
test_set_caps(void **state)
{
	cnie_transport_caps caps = { 0 };
	cnie_transport *t;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, NULL), NULL);
	caps.max_cmd = CNIE_MAX_COMMAND;
	caps.max_resp = CNIE_MAX_RESPONSE;
	caps.extended = true;
	assert_int_equal(cnie_transport_set_caps(t, &caps), 0);
	assert_true(cnie_transport_get_caps(t)->extended);
	assert_int_equal(cnie_transport_get_caps(t)->max_cmd, CNIE_MAX_COMMAND);
	caps.max_cmd = 0;
	assert_int_equal(cnie_transport_set_caps(t, &caps), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_get_caps(t)->max_cmd, CNIE_MAX_COMMAND); /* unchanged */
	assert_int_equal(cnie_transport_set_caps(t, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_set_caps(NULL, &caps), CNIE_ERR_INVALID_ARG);
	assert_null(cnie_transport_get_caps(NULL));
	assert_null(cnie_transport_name(NULL));
	cnie_transport_free(&t);
}

/* ---- transmit ------------------------------------------------------- */

static void
test_transmit_appends_response(void **state)
{
	struct fake *f;
	cnie_transport *t;
	cnie_buf *resp;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, "6F019000");
	t = open_fake(&min_ops, f, NULL);
	assert_non_null(resp = cnie_buf_from("\xAA", 1));
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->last_cmd_len, sizeof(select_mf));
	assert_memory_equal(f->last_cmd, select_mf, sizeof(select_mf));
	/* The implementation always gets room for the largest response. */
	assert_int_equal(f->resp_room, CNIE_MAX_RESPONSE);
	assert_int_equal(cnie_buf_len(resp), 5);
	assert_memory_equal(cnie_buf_ptr(resp), "\xAA\x6F\x01\x90\x00", 5);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_transmit_stats_exact(void **state)
{
	cnie_transport_stats s;
	cnie_transport *t;
	cnie_buf *resp;
	struct fake *f;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, "0102039000");
	t = open_fake(&full_ops, f, NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp), 0);
	assert_int_equal(cnie_transport_transmit(t, select_mf, 5, 0, resp), 0);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.apdus, 2);
	assert_int_equal(s.bytes_sent, 7 + 5);
	assert_int_equal(s.bytes_received, 5 + 5);
	assert_int_equal(s.controls, 0);

	/* A failed exchange counts the command, not a response. */
	f->transmit_rc = CNIE_ERR_COMM;
	assert_int_equal(cnie_transport_transmit(t, select_mf, 5, 0, resp), CNIE_ERR_COMM);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.apdus, 3);
	assert_int_equal(s.bytes_sent, 17);
	assert_int_equal(s.bytes_received, 10);

	cnie_transport_reset_stats(t);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.apdus, 0);
	assert_int_equal(s.bytes_sent, 0);
	assert_int_equal(s.bytes_received, 0);
	cnie_transport_get_stats(NULL, &s);
	assert_int_equal(s.apdus, 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_transmit_error_propagated(void **state)
{
	cnie_transport *t;
	cnie_buf *resp;
	struct fake *f;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, "9000");
	f->transmit_rc = CNIE_ERR_CARD_REMOVED;
	t = open_fake(&min_ops, f, NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp),
	    CNIE_ERR_CARD_REMOVED);
	assert_int_equal(cnie_buf_len(resp), 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_transmit_short_response(void **state)
{
	cnie_transport_stats s;
	cnie_transport *t;
	cnie_buf *resp;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, "90"), NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_buf_len(resp), 0);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.bytes_received, 1);
	cnie_transport_free(&t);

	t = open_fake(&min_ops, fake_new(&freed, ""), NULL);
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_buf_len(resp), 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	assert_int_equal(freed, 2);
}

static void
test_transmit_length_beyond_buffer(void **state)
{
	cnie_transport *t;
	cnie_buf *resp;
	struct fake *f;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, "9000");
	f->claim_len = CNIE_MAX_RESPONSE + 1; /* a broken implementation */
	t = open_fake(&min_ops, f, NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp),
	    CNIE_ERR_INTERNAL);
	assert_int_equal(cnie_buf_len(resp), 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_transmit_bad_args(void **state)
{
	uint8_t big[262];
	cnie_transport *t;
	cnie_buf *resp;
	struct fake *f;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, "9000");
	t = open_fake(&min_ops, f, NULL);
	assert_non_null(resp = cnie_buf_new());
	memset(big, 0, sizeof(big));
	assert_int_equal(cnie_transport_transmit(NULL, select_mf, 7, 0, resp),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_transmit(t, NULL, 7, 0, resp), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_transmit(t, select_mf, 7, 0, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_transmit(t, select_mf, 3, 0, resp), CNIE_ERR_INVALID_ARG);
	/* Beyond the path's max_cmd (default 261). */
	assert_int_equal(cnie_transport_transmit(t, big, sizeof(big), 0, resp), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_transport_transmit(t, big, 261, 0, resp), 0);
	assert_int_equal(f->calls, 1);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

/* ---- optional operations -------------------------------------------- */

static void
test_optional_ops_missing(void **state)
{
	uint8_t out[8];
	size_t n = sizeof(out);
	cnie_transport_stats s;
	cnie_transport *t;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, NULL), NULL);
	assert_int_equal(cnie_transport_begin(t), 0);
	assert_int_equal(cnie_transport_end(t), 0);
	assert_int_equal(cnie_transport_reset(t, true), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_transport_reconnect(t), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_transport_control(t, 1, NULL, 0, out, &n), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_transport_atr(t, out, &n), CNIE_ERR_UNSUPPORTED);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.controls, 0);
	cnie_transport_free(&t);
	assert_int_equal(freed, 1);
}

static void
test_optional_ops_forwarded(void **state)
{
	static const uint8_t pin_verify[3] = { 1, 2, 3 };
	uint8_t out[8];
	size_t n = sizeof(out);
	cnie_transport_stats s;
	cnie_transport *t;
	struct fake *f;
	int freed = 0;

	(void)state;
	f = fake_new(&freed, NULL);
	t = open_fake(&full_ops, f, NULL);
	assert_int_equal(cnie_transport_begin(t), 0);
	assert_int_equal(cnie_transport_end(t), CNIE_ERR_CARD_REMOVED);
	assert_int_equal(cnie_transport_reset(t, true), 0);
	assert_true(f->last_unpower);
	assert_int_equal(cnie_transport_reconnect(t), CNIE_ERR_CARD_RESET);
	assert_int_equal(f->calls, 11110);
	assert_int_equal(cnie_transport_control(t, 0x42000DA0, pin_verify, 3, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x90\x00", 2);
	cnie_transport_get_stats(t, &s);
	assert_int_equal(s.controls, 1);
	assert_int_equal(s.apdus, 0);
	n = sizeof(out);
	assert_int_equal(cnie_transport_atr(t, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x3B\x80", 2);
	n = 1;
	assert_int_equal(cnie_transport_atr(t, out, &n), CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cnie_transport_atr(t, NULL, &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_control(t, 0x42000DA0, NULL, 3, out, &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_begin(NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_end(NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_reset(NULL, false), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_transport_reconnect(NULL), CNIE_ERR_INVALID_ARG);
	cnie_transport_free(&t);
	assert_int_equal(freed, 1);
}

/* ---- trace ---------------------------------------------------------- */

static void
test_trace_shows_plain_body(void **state)
{
	cnie_transport *t;
	cnie_buf *resp;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, "9000"), NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, select_mf, sizeof(select_mf), 0, resp), 0);
	assert_non_null(strstr(tu_trace_text(), "> 00A4000C023F00"));
	assert_non_null(strstr(tu_trace_text(), "9000"));
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_trace_masks_body(void **state)
{
	/* GENERAL AUTHENTICATE with a secret body: not masked by INS alone. */
	static const uint8_t ga[] = { 0x10, 0x86, 0x00, 0x00, 0x04, 0xC0, 0xFF, 0xEE, 0x11 };
	cnie_transport *t;
	cnie_buf *resp;
	int freed = 0;

	(void)state;
	t = open_fake(&min_ops, fake_new(&freed, "9000"), NULL);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_transport_transmit(t, ga, sizeof(ga), CNIE_TRACE_MASK_BODY, resp),
	    0);
	assert_non_null(strstr(tu_trace_text(), "> 10860000"));
	assert_null(strstr(tu_trace_text(), "C0FFEE11"));
	assert_non_null(strstr(tu_trace_text(), "masked"));
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_defaults_and_name),
		cmocka_unit_test(test_new_copies_caps_and_clamps),
		cmocka_unit_test(test_new_failure_frees_ctx),
		cmocka_unit_test(test_new_null_name_is_empty),
		cmocka_unit_test(test_set_caps),
		cmocka_unit_test(test_transmit_appends_response),
		cmocka_unit_test(test_transmit_stats_exact),
		cmocka_unit_test(test_transmit_error_propagated),
		cmocka_unit_test(test_transmit_short_response),
		cmocka_unit_test(test_transmit_length_beyond_buffer),
		cmocka_unit_test(test_transmit_bad_args),
		cmocka_unit_test(test_optional_ops_missing),
		cmocka_unit_test(test_optional_ops_forwarded),
		cmocka_unit_test_setup_teardown(test_trace_shows_plain_body, tu_trace_setup,
		    tu_trace_teardown),
		cmocka_unit_test_setup_teardown(test_trace_masks_body, tu_trace_setup,
		    tu_trace_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
