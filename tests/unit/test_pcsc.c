/*
 * Unit tests for the PC/SC transport (src/libcnie/pcsc.c) against a scripted
 * winscard (fake_winscard.c): the SCARD error table, reader listing and
 * state, connection errors, capabilities from the ATR and the reader, the
 * transport operations, event waiting and cancellation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <PCSC/reader.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

#include "fake_winscard.h"

static int
setup(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

/* ---- error table ------------------------------------------------------ */

static void
test_error_table(void **state)
{
	static const struct {
		LONG rv;
		int want;
	} cases[] = {
		{ SCARD_S_SUCCESS, CNIE_OK },
		{ SCARD_E_NO_SERVICE, CNIE_ERR_NO_SERVICE },
		{ SCARD_E_SERVICE_STOPPED, CNIE_ERR_NO_SERVICE },
		{ SCARD_E_NO_READERS_AVAILABLE, CNIE_ERR_NO_READER },
		{ SCARD_E_UNKNOWN_READER, CNIE_ERR_READER_NOT_FOUND },
		{ SCARD_E_READER_UNAVAILABLE, CNIE_ERR_READER_NOT_FOUND },
		{ SCARD_E_NO_SMARTCARD, CNIE_ERR_NO_CARD },
		{ SCARD_W_REMOVED_CARD, CNIE_ERR_CARD_REMOVED },
		{ SCARD_W_RESET_CARD, CNIE_ERR_CARD_RESET },
		{ SCARD_E_SHARING_VIOLATION, CNIE_ERR_SHARING },
		{ SCARD_E_TIMEOUT, CNIE_ERR_TIMEOUT },
		{ SCARD_E_CANCELLED, CNIE_ERR_CANCELLED },
		{ SCARD_W_UNRESPONSIVE_CARD, CNIE_ERR_UNRESPONSIVE },
		{ SCARD_W_UNPOWERED_CARD, CNIE_ERR_UNRESPONSIVE },
		{ SCARD_F_COMM_ERROR, CNIE_ERR_COMM },
		{ SCARD_E_PROTO_MISMATCH, CNIE_ERR_COMM },
		{ SCARD_E_NO_ACCESS, CNIE_ERR_PERMISSION },
		{ SCARD_W_SECURITY_VIOLATION, CNIE_ERR_PERMISSION },
		{ SCARD_E_NO_MEMORY, CNIE_ERR_NOMEM },
		{ SCARD_E_INSUFFICIENT_BUFFER, CNIE_ERR_BUFFER_TOO_SMALL },
		{ SCARD_E_INVALID_PARAMETER, CNIE_ERR_INVALID_ARG },
		{ SCARD_E_INVALID_HANDLE, CNIE_ERR_STATE },
		{ SCARD_E_UNSUPPORTED_FEATURE, CNIE_ERR_UNSUPPORTED },
		{ SCARD_E_SERVER_TOO_BUSY, CNIE_ERR_BUSY },
		{ SCARD_F_INTERNAL_ERROR, CNIE_ERR_TRANSPORT },
		/* Codes the table does not know are "other reader error". */
		{ (LONG)0x801000FF, CNIE_ERR_TRANSPORT },
		{ 12345, CNIE_ERR_TRANSPORT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(cnie_pcsc_error(cases[i].rv), cases[i].want);
}

/* ---- context and readers ---------------------------------------------- */

static void
test_new_no_service(void **state)
{
	cnie_pcsc *ctx = (cnie_pcsc *)&fake; /* must be overwritten with NULL */

	(void)state;
	fake.establish_rv = SCARD_E_NO_SERVICE;
	assert_int_equal(cnie_pcsc_new(&ctx), CNIE_ERR_NO_SERVICE);
	assert_null(ctx);
	assert_int_equal(fake.contexts, 0);
	assert_int_equal(cnie_pcsc_new(NULL), CNIE_ERR_INVALID_ARG);
}

static void
set_two_readers(void)
{
	static const char ms[] = "Reader A 00 00\0Reader B 01 00\0";

	fake.readers = ms;
	fake.readers_len = sizeof(ms); /* includes the final extra NUL */
	fake.rd[0].name = "Reader A 00 00";
	fake.rd[0].state = SCARD_STATE_EMPTY;
	fake.rd[1].name = "Reader B 01 00";
	fake.rd[1].state = SCARD_STATE_EMPTY;
	fake.nrd = 2;
}

static void
test_list_two_readers(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n = 0;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "Reader A 00 00");
	assert_string_equal(names[1], "Reader B 01 00");
	assert_null(names[2]);
	cnie_pcsc_free_names(&names);
	assert_null(names);
	cnie_pcsc_free(&ctx);
	assert_null(ctx);
	assert_int_equal(fake.contexts, 0);
}

static void
test_list_no_reader(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), CNIE_ERR_NO_READER);
	assert_null(names);
	assert_int_equal(n, 0);
	fake.list_rv = SCARD_E_NO_SERVICE; /* pcscd stopped meanwhile */
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), CNIE_ERR_NO_SERVICE);
	cnie_pcsc_free(&ctx);
}

static void
test_list_unterminated(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n = 0;

	(void)state;
	fake.readers = "Reader A";
	fake.readers_len = 8; /* no NUL: never read past it */
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), CNIE_ERR_BAD_RESPONSE);
	assert_null(names);
	cnie_pcsc_free(&ctx);
}

static void
test_reader_state(void **state)
{
	static const uint8_t atr[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };
	cnie_pcsc *ctx = NULL;
	cnie_reader_state st;

	(void)state;
	set_two_readers();
	fake.rd[1].state = SCARD_STATE_PRESENT | SCARD_STATE_INUSE | (3u << 16);
	memcpy(fake.rd[1].atr, atr, sizeof(atr));
	fake.rd[1].atr_len = sizeof(atr);
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_reader_state(ctx, "Reader B 01 00", &st), 0);
	assert_true(st.card_present);
	assert_true(st.card_in_use);
	assert_false(st.card_exclusive);
	assert_false(st.card_mute);
	assert_int_equal(st.event_count, 3);
	assert_int_equal(st.atr_len, sizeof(atr));
	assert_memory_equal(st.atr, atr, sizeof(atr));

	assert_int_equal(cnie_pcsc_reader_state(ctx, "Reader A 00 00", &st), 0);
	assert_false(st.card_present);
	assert_int_equal(st.atr_len, 0);

	fake.rd[0].state = SCARD_STATE_PRESENT | SCARD_STATE_EXCLUSIVE | SCARD_STATE_MUTE;
	assert_int_equal(cnie_pcsc_reader_state(ctx, "Reader A 00 00", &st), 0);
	assert_true(st.card_exclusive);
	assert_true(st.card_mute);

	assert_int_equal(cnie_pcsc_reader_state(ctx, "Nope", &st), CNIE_ERR_READER_NOT_FOUND);
	cnie_pcsc_free(&ctx);
}

/* ---- connect ----------------------------------------------------------- */

static void
test_connect_errors(void **state)
{
	static const struct {
		LONG rv;
		int want;
	} cases[] = {
		{ SCARD_E_NO_SMARTCARD, CNIE_ERR_NO_CARD },
		{ SCARD_W_REMOVED_CARD, CNIE_ERR_CARD_REMOVED },
		{ SCARD_E_SHARING_VIOLATION, CNIE_ERR_SHARING },
		{ SCARD_W_RESET_CARD, CNIE_ERR_CARD_RESET },
		{ SCARD_E_UNKNOWN_READER, CNIE_ERR_READER_NOT_FOUND },
		{ SCARD_W_UNRESPONSIVE_CARD, CNIE_ERR_UNRESPONSIVE },
		{ SCARD_E_NO_SERVICE, CNIE_ERR_NO_SERVICE },
	};
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	size_t i;

	(void)state;
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake.connect_rv = cases[i].rv;
		assert_int_equal(cnie_pcsc_connect(ctx, "Reader A 00 00", &t), cases[i].want);
		assert_null(t);
		assert_int_equal(fake.handles, 0);
	}
	assert_int_equal(cnie_pcsc_connect(ctx, NULL, &t), CNIE_ERR_INVALID_ARG);
	cnie_pcsc_free(&ctx);
	/* Failed connections hold no reference: the context is gone. */
	assert_int_equal(fake.contexts, 0);
}

/* Appends TCK (ISO 7816-3 8.2.5: XOR of T0..last byte) to an ATR. */
static void
set_atr(const uint8_t *atr, size_t n)
{
	uint8_t tck = 0;
	size_t i;

	memcpy(fake.atr, atr, n);
	for (i = 1; i < n; i++)
		tck ^= atr[i];
	fake.atr[n] = tck;
	fake.atr_len = (DWORD)(n + 1);
}

static void
set_maxinput(uint32_t v)
{
	fake.has_maxinput = true;
	memcpy(fake.maxinput, &v, sizeof(v)); /* host order, as the CCID driver */
	fake.maxinput_len = sizeof(v);
}

/* T=1; historical bytes 80 | 73 C8 21 C0: card capabilities, b7 of the
 * third software function table set (extended Lc/Le). */
static const uint8_t atr_ext[] = { 0x3B, 0xD5, 0x18, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x73,
	0xC8, 0x21, 0xC0 };
/* Same with the third byte 80: command chaining only. */
static const uint8_t atr_noext[] = { 0x3B, 0xD5, 0x18, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80,
	0x73, 0xC8, 0x21, 0x80 };
/* Category 00: compact-TLV then the 3-byte status indicator 00 90 00. */
static const uint8_t atr_cat00[] = { 0x3B, 0xD8, 0x18, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x00,
	0x73, 0xC8, 0x21, 0x40, 0x00, 0x90, 0x00 };
/* PC/SC part 3 contactless ATR: 3B 8A 80 01 + 10 historical bytes. */
static const uint8_t atr_cl[] = { 0x3B, 0x8A, 0x80, 0x01, 0x80, 0x73, 0xC8, 0x21, 0xC0, 0x00,
	0x00, 0x00, 0x00, 0x00 };

static const cnie_transport_caps *
connect_caps(cnie_pcsc **ctx, cnie_transport **t)
{
	assert_int_equal(cnie_pcsc_new(ctx), 0);
	assert_int_equal(cnie_pcsc_connect(*ctx, "Reader A 00 00", t), 0);
	assert_non_null(*t);
	assert_int_equal(fake_tr.live, 1);
	assert_string_equal(fake_tr.name, "Reader A 00 00");
	return &fake_tr.caps;
}

static void
disconnect(cnie_pcsc **ctx, cnie_transport **t)
{
	cnie_transport_free(t);
	cnie_pcsc_free(ctx);
	assert_int_equal(fake.handles, 0);
	assert_int_equal(fake.contexts, 0);
}

static void
test_caps_extended(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_ext, sizeof(atr_ext));
	set_maxinput(3000);
	c = connect_caps(&ctx, &t);
	assert_true(c->extended);
	assert_int_equal(c->max_cmd, 3000);
	assert_int_equal(c->max_resp, CNIE_MAX_RESPONSE);
	assert_false(c->contactless);
	assert_false(c->pinpad_verify);
	assert_false(c->pinpad_modify);
	disconnect(&ctx, &t);
}

static void
test_caps_short_reader(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	/* The card can, the reader cannot: short APDUs. */
	set_atr(atr_ext, sizeof(atr_ext));
	set_maxinput(261);
	c = connect_caps(&ctx, &t);
	assert_false(c->extended);
	assert_int_equal(c->max_cmd, 261);
	assert_int_equal(c->max_resp, 258);
	disconnect(&ctx, &t);
}

static void
test_caps_no_maxinput(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	/* Driver silent on MAXINPUT: pcsc-lite carries 64 KiB, the card decides. */
	set_atr(atr_ext, sizeof(atr_ext));
	c = connect_caps(&ctx, &t);
	assert_true(c->extended);
	assert_int_equal(c->max_cmd, CNIE_MAX_COMMAND);
	disconnect(&ctx, &t);
}

static void
test_caps_card_without_extended(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_noext, sizeof(atr_noext));
	set_maxinput(65544);
	c = connect_caps(&ctx, &t);
	assert_false(c->extended);
	assert_int_equal(c->max_cmd, 261);
	disconnect(&ctx, &t);
}

static void
test_caps_t0_never_extended(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_ext, sizeof(atr_ext));
	fake.proto = SCARD_PROTOCOL_T0;
	c = connect_caps(&ctx, &t);
	assert_false(c->extended);
	disconnect(&ctx, &t);
}

static void
test_caps_category_00(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_cat00, sizeof(atr_cat00));
	c = connect_caps(&ctx, &t);
	assert_true(c->extended);
	disconnect(&ctx, &t);
}

static void
test_caps_truncated_atr(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	/* T0 announces 5 historical bytes, only 3 follow. */
	memcpy(fake.atr, atr_ext, 11);
	fake.atr_len = 11;
	c = connect_caps(&ctx, &t);
	assert_false(c->extended);
	assert_false(c->contactless);
	assert_int_equal(c->max_cmd, 261);
	disconnect(&ctx, &t);
}

static void
test_caps_contactless(void **state)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_cl, sizeof(atr_cl));
	c = connect_caps(&ctx, &t);
	assert_true(c->contactless);
	assert_true(c->extended);
	disconnect(&ctx, &t);
}

static void
test_caps_pinpad(void **state)
{
	static const uint8_t feats[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x12, 0x0A, 0x04, 0x42,
		0x33, 0x00, 0x14, 0x07, 0x04, 0x42, 0x33, 0x00, 0x13 };
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_noext, sizeof(atr_noext));
	memcpy(fake.features, feats, sizeof(feats));
	fake.features_len = sizeof(feats);
	fake.features_rv = SCARD_S_SUCCESS;
	c = connect_caps(&ctx, &t);
	assert_true(c->pinpad_verify);
	assert_int_equal(c->ioctl_verify, 0x42330012);
	assert_true(c->pinpad_modify);
	assert_int_equal(c->ioctl_modify, 0x42330013);
	disconnect(&ctx, &t);
}

static void
test_caps_pinpad_malformed(void **state)
{
	/* The second entry says length 3: the whole list is distrusted. */
	static const uint8_t feats[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x12, 0x07, 0x03, 0x42,
		0x33, 0x00 };
	/* Truncated value. */
	static const uint8_t feats2[] = { 0x06, 0x04, 0x42, 0x33 };
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;

	(void)state;
	set_atr(atr_noext, sizeof(atr_noext));
	memcpy(fake.features, feats, sizeof(feats));
	fake.features_len = sizeof(feats);
	fake.features_rv = SCARD_S_SUCCESS;
	c = connect_caps(&ctx, &t);
	assert_false(c->pinpad_verify);
	assert_false(c->pinpad_modify);
	assert_int_equal(c->ioctl_verify, 0);
	disconnect(&ctx, &t);

	fake_reset();
	set_atr(atr_noext, sizeof(atr_noext));
	memcpy(fake.features, feats2, sizeof(feats2));
	fake.features_len = sizeof(feats2);
	fake.features_rv = SCARD_S_SUCCESS;
	c = connect_caps(&ctx, &t);
	assert_false(c->pinpad_verify);
	disconnect(&ctx, &t);
}

/*
 * FEATURE_EXECUTE_PACE (PC/SC part 10 amendment 1): used only when
 * GetReaderPACECapabilities answers dwResult 0 with the generic PACE bit.
 */
static void
test_caps_reader_pace(void **state)
{
	static const uint8_t feats[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x20, 0x04, 0x42,
		0x33, 0x00, 0x20 };
	static const struct {
		uint8_t out[16];
		DWORD n;
		bool pace;
	} answers[] = {
		{ { 0, 0, 0, 0, 0x01, 0x00, 0xC0 }, 7, true },
		{ { 0, 0, 0, 0, 0x02, 0x00, 0x01, 0x40 }, 8, true },
		{ { 0, 0, 0, 0, 0x01, 0x00, 0x20 }, 7, false },	     /* eID only */
		{ { 0x01, 0, 0, 0xD0, 0x01, 0x00, 0xC0 }, 7, false }, /* an error result */
		{ { 0, 0, 0, 0, 0x05, 0x00, 0xC0 }, 7, false },	     /* length lie */
		{ { 0, 0, 0, 0, 0x02, 0x00, 0x02, 0xC0 }, 8, false },
		{ { 0x90, 0x00 }, 2, false },
	};
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_caps *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		fake_reset();
		set_atr(atr_noext, sizeof(atr_noext));
		memcpy(fake.features, feats, sizeof(feats));
		fake.features_len = sizeof(feats);
		fake.features_rv = SCARD_S_SUCCESS;
		memcpy(fake.control_out, answers[i].out, answers[i].n);
		fake.control_len = answers[i].n;
		c = connect_caps(&ctx, &t);
		assert_int_equal(c->reader_pace, answers[i].pace);
		assert_int_equal(c->ioctl_pace, answers[i].pace ? 0x42330020 : 0);
		assert_true(c->pinpad_verify);
		/* The capabilities were asked with GetReaderPACECapabilities (3 bytes). */
		assert_int_equal(fake.last_control, 0x42330020);
		assert_int_equal(fake.last_control_in, 3);
		disconnect(&ctx, &t);
	}
}

/* ---- transport operations --------------------------------------------- */

static void
test_ops(void **state)
{
	static const uint8_t cmd[] = { 0x00, 0xA4, 0x04, 0x0C, 0x00 };
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	const cnie_transport_ops *ops;
	uint8_t resp[16], atr[64];
	size_t n;

	(void)state;
	set_atr(atr_ext, sizeof(atr_ext));
	(void)connect_caps(&ctx, &t);
	ops = fake_tr.ops;

	fake.resp[0] = 0x90;
	fake.resp_len = 2;
	n = sizeof(resp);
	assert_int_equal(ops->transmit(fake_tr.ctx, cmd, sizeof(cmd), resp, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(resp[0], 0x90);
	assert_ptr_equal(fake.last_pci, SCARD_PCI_T1);
	assert_int_equal(fake.last_cmd_len, sizeof(cmd));

	fake.transmit_rv = SCARD_W_REMOVED_CARD;
	n = sizeof(resp);
	assert_int_equal(ops->transmit(fake_tr.ctx, cmd, sizeof(cmd), resp, &n),
	    CNIE_ERR_CARD_REMOVED);
	fake.transmit_rv = SCARD_W_RESET_CARD;
	assert_int_equal(ops->transmit(fake_tr.ctx, cmd, sizeof(cmd), resp, &n),
	    CNIE_ERR_CARD_RESET);
	fake.transmit_rv = SCARD_S_SUCCESS;

	/* A cold reset may land on T=0: the PCI follows the active protocol. */
	fake.reconnect_proto = SCARD_PROTOCOL_T0;
	assert_int_equal(ops->reset(fake_tr.ctx, true), 0);
	assert_int_equal(fake.last_init, SCARD_UNPOWER_CARD);
	n = sizeof(resp);
	assert_int_equal(ops->transmit(fake_tr.ctx, cmd, sizeof(cmd), resp, &n), 0);
	assert_ptr_equal(fake.last_pci, SCARD_PCI_T0);
	assert_int_equal(ops->reset(fake_tr.ctx, false), 0);
	assert_int_equal(fake.last_init, SCARD_RESET_CARD);
	assert_int_equal(ops->reconnect(fake_tr.ctx), 0);
	assert_int_equal(fake.last_init, SCARD_LEAVE_CARD);
	fake.reconnect_rv = SCARD_E_NO_SMARTCARD;
	assert_int_equal(ops->reconnect(fake_tr.ctx), CNIE_ERR_NO_CARD);

	assert_int_equal(ops->begin(fake_tr.ctx), 0);
	assert_int_equal(ops->end(fake_tr.ctx), 0);
	assert_int_equal(fake.begins, 1);
	assert_int_equal(fake.ends, 1);
	assert_int_equal(fake.end_disposition, SCARD_LEAVE_CARD);

	n = sizeof(resp);
	assert_int_equal(ops->control(fake_tr.ctx, 0x42330012, cmd, sizeof(cmd), resp, &n), 0);
	assert_int_equal(fake.last_control, 0x42330012);
	assert_int_equal(fake.last_control_in, sizeof(cmd));
	assert_int_equal(n, 2);

	n = sizeof(atr);
	assert_int_equal(ops->atr(fake_tr.ctx, atr, &n), 0);
	assert_int_equal(n, sizeof(atr_ext) + 1);
	assert_memory_equal(atr, atr_ext, sizeof(atr_ext));
	n = 4;
	assert_int_equal(ops->atr(fake_tr.ctx, atr, &n), CNIE_ERR_BUFFER_TOO_SMALL);

	/* The transport keeps the context alive until it is freed. */
	cnie_pcsc_free(&ctx);
	assert_int_equal(fake.contexts, 1);
	assert_int_equal(fake.handles, 1);
	cnie_transport_free(&t);
	assert_int_equal(fake.disconnect_disposition, SCARD_LEAVE_CARD);
	assert_int_equal(fake.handles, 0);
	assert_int_equal(fake.contexts, 0);
}

/* ---- waiting for events ----------------------------------------------- */

static void
test_wait_timeout(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), 0);
	cnie_pcsc_free_names(&names);
	assert_int_equal(cnie_pcsc_wait_change(ctx, 20), CNIE_ERR_TIMEOUT);
	assert_true(fake.waits >= 1);
	/* Windows convention: the reader count in the PnP entry's upper word. */
	assert_int_equal(fake.pnp_current, 2u << 16);
	cnie_pcsc_free(&ctx);
}

static void
test_wait_card_event(void **state)
{
	cnie_pcsc *ctx = NULL;

	(void)state;
	set_two_readers();
	fake.wait_changed = 1; /* Reader B */
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), 0);
	assert_int_equal(fake.waits, 1);
	cnie_pcsc_free(&ctx);
}

static void
test_wait_card_inserted_between_calls(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), 0);
	cnie_pcsc_free_names(&names);
	/* Inserted after the list, before the wait: seen against the baseline. */
	fake.rd[0].state = SCARD_STATE_PRESENT | (1u << 16);
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), 0);
	assert_int_equal(fake.waits, 0);
	/* The new state is the baseline now: nothing more to report. */
	assert_int_equal(cnie_pcsc_wait_change(ctx, 10), CNIE_ERR_TIMEOUT);
	cnie_pcsc_free(&ctx);
}

static void
test_wait_reader_added_between_calls(void **state)
{
	static const char one[] = "Reader A 00 00\0";
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n;

	(void)state;
	set_two_readers();
	fake.readers = one;
	fake.readers_len = sizeof(one);
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), 0);
	assert_int_equal(n, 1);
	cnie_pcsc_free_names(&names);
	set_two_readers();
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), 0);
	assert_int_equal(fake.waits, 0);
	assert_int_equal(cnie_pcsc_wait_change(ctx, 10), CNIE_ERR_TIMEOUT);
	cnie_pcsc_free(&ctx);
}

static void
test_wait_reader_removed_during_wait(void **state)
{
	cnie_pcsc *ctx = NULL;
	char **names = NULL;
	size_t n;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_list_readers(ctx, &names, &n), 0);
	cnie_pcsc_free_names(&names);
	/* pcsc-lite 1.9.9 answers SCARD_E_UNKNOWN_READER for a vanished reader. */
	fake.nrd = 1;
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), 0);
	cnie_pcsc_free(&ctx);
}

static void
test_wait_errors(void **state)
{
	cnie_pcsc *ctx = NULL;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	fake.wait_rv = SCARD_E_NO_SERVICE; /* pcscd stopped during the wait */
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), CNIE_ERR_NO_SERVICE);
	fake.wait_rv = SCARD_E_CANCELLED;
	assert_int_equal(cnie_pcsc_wait_change(ctx, 1000), CNIE_ERR_CANCELLED);
	assert_int_equal(cnie_pcsc_wait_change(NULL, 0), CNIE_ERR_INVALID_ARG);
	cnie_pcsc_free(&ctx);
}

static void
test_cancel_pending(void **state)
{
	cnie_pcsc *ctx = NULL;

	(void)state;
	set_two_readers();
	assert_int_equal(cnie_pcsc_new(&ctx), 0);
	assert_int_equal(cnie_pcsc_cancel(ctx), 0);
	assert_int_equal(fake.cancels, 1);
	assert_int_equal(cnie_pcsc_wait_change(ctx, -1), CNIE_ERR_CANCELLED);
	assert_int_equal(fake.waits, 0);
	/* Consumed: the next wait waits. */
	assert_int_equal(cnie_pcsc_wait_change(ctx, 10), CNIE_ERR_TIMEOUT);
	fake.cancel_rv = SCARD_E_INVALID_HANDLE;
	assert_int_equal(cnie_pcsc_cancel(ctx), CNIE_ERR_STATE);
	assert_int_equal(cnie_pcsc_cancel(NULL), CNIE_ERR_INVALID_ARG);
	cnie_pcsc_free(&ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_error_table, setup),
		cmocka_unit_test_setup(test_new_no_service, setup),
		cmocka_unit_test_setup(test_list_two_readers, setup),
		cmocka_unit_test_setup(test_list_no_reader, setup),
		cmocka_unit_test_setup(test_list_unterminated, setup),
		cmocka_unit_test_setup(test_reader_state, setup),
		cmocka_unit_test_setup(test_connect_errors, setup),
		cmocka_unit_test_setup(test_caps_extended, setup),
		cmocka_unit_test_setup(test_caps_short_reader, setup),
		cmocka_unit_test_setup(test_caps_no_maxinput, setup),
		cmocka_unit_test_setup(test_caps_card_without_extended, setup),
		cmocka_unit_test_setup(test_caps_t0_never_extended, setup),
		cmocka_unit_test_setup(test_caps_category_00, setup),
		cmocka_unit_test_setup(test_caps_truncated_atr, setup),
		cmocka_unit_test_setup(test_caps_contactless, setup),
		cmocka_unit_test_setup(test_caps_pinpad, setup),
		cmocka_unit_test_setup(test_caps_pinpad_malformed, setup),
		cmocka_unit_test_setup(test_caps_reader_pace, setup),
		cmocka_unit_test_setup(test_ops, setup),
		cmocka_unit_test_setup(test_wait_timeout, setup),
		cmocka_unit_test_setup(test_wait_card_event, setup),
		cmocka_unit_test_setup(test_wait_card_inserted_between_calls, setup),
		cmocka_unit_test_setup(test_wait_reader_added_between_calls, setup),
		cmocka_unit_test_setup(test_wait_reader_removed_during_wait, setup),
		cmocka_unit_test_setup(test_wait_errors, setup),
		cmocka_unit_test_setup(test_cancel_pending, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
