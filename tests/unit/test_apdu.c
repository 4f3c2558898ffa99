/*
 * Unit tests for command/response APDUs and the APDU engine (src/libcnie/apdu.c).
 *
 * Encoding and decoding are checked byte for byte against ISO/IEC 7816-3
 * clause 12.1.3 for every case, at the short/extended boundaries, and on
 * malformed length combinations.  The engine runs over a scripted
 * transport (cnie_transport_new with the ops below) that records every
 * command and plays queued responses, so GET RESPONSE, 6Cxx, chaining and
 * the loop bounds are checked APDU by APDU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/transport.h>

#include "unitutil.h"

/* ---- helpers -------------------------------------------------------- */

/* A data field of n bytes: byte i is (i + seed) & 0xff. */
static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p;
	size_t i;

	assert_non_null(p = malloc(n > 0 ? n : 1));
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i + seed) & 0xff);
	return p;
}

/* ---- encoding -------------------------------------------------------- */

/* Encodes (allowing extended) and checks bytes and case. */
static void
check_encode(const cnie_apdu *a, const char *hex, cnie_apdu_case want_case)
{
	cnie_apdu_case cs = 0;
	cnie_buf *b;

	assert_non_null(b = cnie_buf_new());
	assert_int_equal(cnie_apdu_encode(a, true, b, &cs), 0);
	tu_assert_buf_hex(b, hex);
	assert_int_equal(cs, want_case);
	cnie_buf_free(&b);
}

static void
test_encode_case1(void **state)
{
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0x44, 0x00, 0x00);
	check_encode(&a, "00440000", CNIE_APDU_CASE_1);
	/* Case 1 has no length field: forcing extended changes nothing. */
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	check_encode(&a, "00440000", CNIE_APDU_CASE_1);
}

static void
test_encode_case2s(void **state)
{
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0x84, 0x00, 0x00);
	a.ne = 8;
	check_encode(&a, "0084000008", CNIE_APDU_CASE_2S);
	a.ne = 1;
	check_encode(&a, "0084000001", CNIE_APDU_CASE_2S);
	/* Ne = 256 is Le = 00 in short form. */
	a.ne = 256;
	check_encode(&a, "0084000000", CNIE_APDU_CASE_2S);
}

static void
test_encode_case3s(void **state)
{
	static const uint8_t fid[] = { 0x3F, 0x00 };
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x00, 0x0C);
	a.data = fid;
	a.nc = sizeof(fid);
	check_encode(&a, "00A4000C023F00", CNIE_APDU_CASE_3S);
}

static void
test_encode_case4s(void **state)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x04, 0x00);
	a.data = aid;
	a.nc = sizeof(aid);
	a.ne = 256;
	check_encode(&a, "00A4040007A000000247100100", CNIE_APDU_CASE_4S);
	a.ne = 0x12;
	check_encode(&a, "00A4040007A000000247100112", CNIE_APDU_CASE_4S);
}

static void
test_encode_case2e(void **state)
{
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 257;
	check_encode(&a, "00B00000000101", CNIE_APDU_CASE_2E);
	a.ne = 65535;
	check_encode(&a, "00B0000000FFFF", CNIE_APDU_CASE_2E);
	/* Ne = 65536 is Le = 0000 in extended form. */
	a.ne = 65536;
	check_encode(&a, "00B00000000000", CNIE_APDU_CASE_2E);
	a.ne = 5;
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	check_encode(&a, "00B00000000005", CNIE_APDU_CASE_2E);
}

static void
test_encode_case3e(void **state)
{
	static const uint8_t d[] = { 0xAB, 0xCD };
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0xD6, 0x00, 0x00);
	a.data = d;
	a.nc = sizeof(d);
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	check_encode(&a, "00D6000000 0002 ABCD", CNIE_APDU_CASE_3E);
}

static void
test_encode_case4e(void **state)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x03 };
	cnie_apdu a;

	(void)state;
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = sizeof(d);
	a.ne = 65536;
	/* In case 4E, Le is two bytes with no leading 00. */
	check_encode(&a, "002A9E9A 00 0003 010203 0000", CNIE_APDU_CASE_4E);
	a.ne = 257;
	check_encode(&a, "002A9E9A 00 0003 010203 0101", CNIE_APDU_CASE_4E);
	/* Ne 256 with FORCE_EXTENDED: Le 0100, not 0000. */
	a.ne = 256;
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	check_encode(&a, "002A9E9A 00 0003 010203 0100", CNIE_APDU_CASE_4E);
}

static void
test_encode_nc_boundary(void **state)
{
	uint8_t *d = pattern(65536, 0);
	cnie_apdu_case cs;
	cnie_apdu a;
	cnie_buf *b;

	(void)state;
	assert_non_null(b = cnie_buf_new());
	cnie_apdu_init(&a, 0x00, 0xD6, 0x00, 0x00);
	a.data = d;

	/* 255: the largest short Lc, allowed without extended. */
	a.nc = 255;
	assert_int_equal(cnie_apdu_encode(&a, false, b, &cs), 0);
	assert_int_equal(cs, CNIE_APDU_CASE_3S);
	assert_int_equal(cnie_buf_len(b), 4 + 1 + 255);
	assert_int_equal(cnie_buf_ptr(b)[4], 0xFF);
	assert_memory_equal(cnie_buf_ptr(b) + 5, d, 255);

	/* 256: extended only. */
	cnie_buf_reset(b);
	a.nc = 256;
	assert_int_equal(cnie_apdu_encode(&a, false, b, &cs), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	assert_int_equal(cnie_apdu_encode(&a, true, b, &cs), 0);
	assert_int_equal(cs, CNIE_APDU_CASE_3E);
	assert_int_equal(cnie_buf_len(b), 4 + 3 + 256);
	assert_memory_equal(cnie_buf_ptr(b) + 4, "\x00\x01\x00", 3);
	assert_memory_equal(cnie_buf_ptr(b) + 7, d, 256);

	/* 65535 with Ne 65536: the largest case 4E. */
	cnie_buf_reset(b);
	a.nc = 65535;
	a.ne = 65536;
	assert_int_equal(cnie_apdu_encode(&a, true, b, &cs), 0);
	assert_int_equal(cs, CNIE_APDU_CASE_4E);
	assert_int_equal(cnie_buf_len(b), CNIE_MAX_COMMAND);
	assert_memory_equal(cnie_buf_ptr(b) + 4, "\x00\xFF\xFF", 3);
	assert_memory_equal(cnie_buf_ptr(b) + 7 + 65535, "\x00\x00", 2);

	/* 65536: no encoding exists. */
	cnie_buf_reset(b);
	a.nc = 65536;
	a.ne = 0;
	assert_int_equal(cnie_apdu_encode(&a, true, b, &cs), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	cnie_buf_free(&b);
	free(d);
}

static void
test_encode_ne_boundary(void **state)
{
	cnie_apdu a;
	cnie_buf *b;

	(void)state;
	assert_non_null(b = cnie_buf_new());
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 256;
	assert_int_equal(cnie_apdu_encode(&a, false, b, NULL), 0);
	tu_assert_buf_hex(b, "00B0000000");
	cnie_buf_reset(b);
	a.ne = 257;
	assert_int_equal(cnie_apdu_encode(&a, false, b, NULL), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	a.ne = 65537;
	assert_int_equal(cnie_apdu_encode(&a, true, b, NULL), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	/* FORCE_EXTENDED on a path without extended length is refused too. */
	a.ne = 5;
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	assert_int_equal(cnie_apdu_encode(&a, false, b, NULL), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	cnie_buf_free(&b);
}

static void
test_encode_appends_and_bad_args(void **state)
{
	cnie_apdu a;
	cnie_buf *b;

	(void)state;
	b = tu_hex("AA");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 5;
	assert_int_equal(cnie_apdu_encode(&a, false, b, NULL), 0);
	tu_assert_buf_hex(b, "AA00B0000005");
	assert_int_equal(cnie_apdu_encode(NULL, true, b, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_encode(&a, true, NULL, NULL), CNIE_ERR_INVALID_ARG);
	a.nc = 3; /* data NULL */
	assert_int_equal(cnie_apdu_encode(&a, true, b, NULL), CNIE_ERR_INVALID_ARG);
	tu_assert_buf_hex(b, "AA00B0000005");
	/* A full buffer: nothing half written. */
	cnie_buf_reset(b);
	assert_int_equal(cnie_buf_set_max(b, 4), 0);
	a.nc = 0;
	assert_int_equal(cnie_apdu_encode(&a, true, b, NULL), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	cnie_buf_free(&b);
}

/* ---- decoding -------------------------------------------------------- */

/* Decodes hex and checks the fields and where a->data points. */
static void
check_decode(const char *hex, cnie_apdu_case want_case, size_t nc, size_t ne, unsigned flags)
{
	cnie_buf *b = tu_hex(hex);
	cnie_apdu_case cs = 0;
	cnie_apdu a;

	memset(&a, 0x5A, sizeof(a));
	assert_int_equal(cnie_apdu_decode(cnie_buf_ptr(b), cnie_buf_len(b), &a, &cs), 0);
	assert_int_equal(cs, want_case);
	assert_int_equal(a.cla, cnie_buf_ptr(b)[0]);
	assert_int_equal(a.ins, cnie_buf_ptr(b)[1]);
	assert_int_equal(a.p1, cnie_buf_ptr(b)[2]);
	assert_int_equal(a.p2, cnie_buf_ptr(b)[3]);
	assert_int_equal(a.nc, nc);
	assert_int_equal(a.ne, ne);
	assert_int_equal(a.flags, flags);
	if (nc == 0) {
		assert_null(a.data);
	} else {
		/* The data field points into the input, after Lc. */
		size_t off = (flags & CNIE_APDU_FORCE_EXTENDED) != 0 ? 7 : 5;

		assert_ptr_equal(a.data, cnie_buf_ptr(b) + off);
	}
	cnie_buf_free(&b);
}

static int
decode_hex(const char *hex)
{
	cnie_buf *b = tu_hex(hex);
	cnie_apdu a;
	int r;

	cnie_apdu_init(&a, 0x11, 0x22, 0x33, 0x44);
	r = cnie_apdu_decode(cnie_buf_ptr(b), cnie_buf_len(b), &a, NULL);
	if (r != 0) /* untouched on error */
		assert_int_equal(a.cla, 0x11);
	cnie_buf_free(&b);
	return r;
}

static void
test_decode_short_cases(void **state)
{
	(void)state;
	check_decode("00440000", CNIE_APDU_CASE_1, 0, 0, 0);
	check_decode("0084000008", CNIE_APDU_CASE_2S, 0, 8, 0);
	check_decode("0084000000", CNIE_APDU_CASE_2S, 0, 256, 0);
	check_decode("00A4000C023F00", CNIE_APDU_CASE_3S, 2, 0, 0);
	check_decode("00A4040007A000000247100100", CNIE_APDU_CASE_4S, 7, 256, 0);
	check_decode("00A4040007A000000247100112", CNIE_APDU_CASE_4S, 7, 0x12, 0);
	/* Lc = 01: the smallest body that is not a lone Le. */
	check_decode("00D6000001AB", CNIE_APDU_CASE_3S, 1, 0, 0);
	check_decode("00D6000001AB00", CNIE_APDU_CASE_4S, 1, 256, 0);
}

static void
test_decode_extended_cases(void **state)
{
	(void)state;
	check_decode("00B00000000101", CNIE_APDU_CASE_2E, 0, 257, CNIE_APDU_FORCE_EXTENDED);
	check_decode("00B00000000000", CNIE_APDU_CASE_2E, 0, 65536, CNIE_APDU_FORCE_EXTENDED);
	check_decode("00B00000000005", CNIE_APDU_CASE_2E, 0, 5, CNIE_APDU_FORCE_EXTENDED);
	check_decode("00D60000000002ABCD", CNIE_APDU_CASE_3E, 2, 0, CNIE_APDU_FORCE_EXTENDED);
	check_decode("002A9E9A000003010203 0000", CNIE_APDU_CASE_4E, 3, 65536,
	    CNIE_APDU_FORCE_EXTENDED);
	check_decode("002A9E9A000003010203 0101", CNIE_APDU_CASE_4E, 3, 257,
	    CNIE_APDU_FORCE_EXTENDED);
}

static void
test_decode_extended_max(void **state)
{
	uint8_t *p = pattern(CNIE_MAX_COMMAND + 1, 0);
	cnie_apdu_case cs;
	cnie_apdu a;

	(void)state;
	memcpy(p, "\x00\xD6\x00\x00\x00\xFF\xFF", 7);
	assert_int_equal(cnie_apdu_decode(p, 7 + 65535, &a, &cs), 0);
	assert_int_equal(cs, CNIE_APDU_CASE_3E);
	assert_int_equal(a.nc, 65535);
	assert_ptr_equal(a.data, p + 7);
	p[7 + 65535] = 0x00;
	p[7 + 65536] = 0x00;
	assert_int_equal(cnie_apdu_decode(p, CNIE_MAX_COMMAND, &a, &cs), 0);
	assert_int_equal(cs, CNIE_APDU_CASE_4E);
	assert_int_equal(a.ne, 65536);
	/* One more byte: a trailing byte. */
	assert_int_equal(cnie_apdu_decode(p, CNIE_MAX_COMMAND + 1, &a, &cs), CNIE_ERR_TRAILING);
	free(p);
}

static void
test_decode_malformed(void **state)
{
	cnie_apdu a;

	(void)state;
	/* Header cut short. */
	assert_int_equal(decode_hex(""), CNIE_ERR_TRUNCATED);
	assert_int_equal(decode_hex("00A400"), CNIE_ERR_TRUNCATED);
	/* Short Lc larger than the data. */
	assert_int_equal(decode_hex("00D6000005010203"), CNIE_ERR_TRUNCATED);
	assert_int_equal(decode_hex("00D60000FF01"), CNIE_ERR_TRUNCATED);
	/* Short Lc with more than data + Le after it. */
	assert_int_equal(decode_hex("00D60000020102 00 00"), CNIE_ERR_TRAILING);
	assert_int_equal(decode_hex("00D6000001AB 0000"), CNIE_ERR_TRAILING);
	/* 00 then one byte: neither short (Lc 00 is invalid) nor extended. */
	assert_int_equal(decode_hex("00B00000 0001"), CNIE_ERR_TRUNCATED);
	/* Extended Lc 0000 (ISO 7816-3: Nc from 1 to 65535). */
	assert_int_equal(decode_hex("00D60000 000000 00"), CNIE_ERR_ENCODING);
	assert_int_equal(decode_hex("00D60000 000000 0000"), CNIE_ERR_ENCODING);
	/* Extended Lc larger than the data. */
	assert_int_equal(decode_hex("00D60000 000003 0102"), CNIE_ERR_TRUNCATED);
	assert_int_equal(decode_hex("00D60000 00FFFF 0102"), CNIE_ERR_TRUNCATED);
	/* Extended Lc followed by a one-byte Le (mixed forms). */
	assert_int_equal(decode_hex("00D60000 000002 0102 00"), CNIE_ERR_ENCODING);
	/* Extended Lc, data, Le, then more. */
	assert_int_equal(decode_hex("00D60000 000002 0102 0000 00"), CNIE_ERR_TRAILING);
	assert_int_equal(decode_hex("00D60000 000001 01 000000"), CNIE_ERR_TRAILING);
	/* Bad arguments. */
	assert_int_equal(cnie_apdu_decode(NULL, 4, &a, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_decode((const uint8_t *)"\0\0\0\0", 4, NULL, NULL),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_decode(NULL, 0, &a, NULL), CNIE_ERR_TRUNCATED);
}

/* decode then encode gives back the input, byte for byte. */
static void
test_roundtrip_bytes(void **state)
{
	static const char *const vectors[] = {
		"00440000",
		"0084000008",
		"0084000000",
		"00A4000C023F00",
		"0CA4040007A000000247100100",
		"00B00000000101",
		"00B00000000000",
		"00B00000000005",
		"00D60000000002ABCD",
		"002A9E9A0000030102030000",
		"002A9E9A0000030102030005",
	};
	cnie_apdu a;
	cnie_buf *in, *out;
	size_t i;

	(void)state;
	assert_non_null(out = cnie_buf_new());
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		in = tu_hex(vectors[i]);
		cnie_buf_reset(out);
		assert_int_equal(cnie_apdu_decode(cnie_buf_ptr(in), cnie_buf_len(in), &a, NULL), 0);
		assert_int_equal(cnie_apdu_encode(&a, true, out, NULL), 0);
		assert_int_equal(cnie_buf_len(out), cnie_buf_len(in));
		assert_memory_equal(cnie_buf_ptr(out), cnie_buf_ptr(in), cnie_buf_len(in));
		cnie_buf_free(&in);
	}
	cnie_buf_free(&out);
}

/* encode then decode gives back the fields, over the boundary values. */
static void
test_roundtrip_fields(void **state)
{
	static const size_t ncs[] = { 0, 1, 255, 256, 65535 };
	static const size_t nes[] = { 0, 1, 255, 256, 257, 65535, 65536 };
	uint8_t *d = pattern(65535, 7);
	cnie_apdu a, b;
	cnie_apdu_case cs, cs2;
	cnie_buf *out;
	size_t i, j;

	(void)state;
	assert_non_null(out = cnie_buf_new());
	for (i = 0; i < sizeof(ncs) / sizeof(ncs[0]); i++) {
		for (j = 0; j < sizeof(nes) / sizeof(nes[0]); j++) {
			cnie_apdu_init(&a, 0x0C, 0xCB, 0x3F, 0xFF);
			a.data = ncs[i] > 0 ? d : NULL;
			a.nc = ncs[i];
			a.ne = nes[j];
			cnie_buf_reset(out);
			assert_int_equal(cnie_apdu_encode(&a, true, out, &cs), 0);
			assert_int_equal(cnie_apdu_decode(cnie_buf_ptr(out), cnie_buf_len(out), &b,
					     &cs2),
			    0);
			assert_int_equal(cs, cs2);
			assert_int_equal(b.cla, 0x0C);
			assert_int_equal(b.ins, 0xCB);
			assert_int_equal(b.p1, 0x3F);
			assert_int_equal(b.p2, 0xFF);
			assert_int_equal(b.nc, a.nc);
			assert_int_equal(b.ne, a.ne);
			if (a.nc > 0)
				assert_memory_equal(b.data, d, a.nc);
			/* Extended exactly when a limit of the short form is passed. */
			assert_int_equal((b.flags & CNIE_APDU_FORCE_EXTENDED) != 0,
			    a.nc > 255 || a.ne > 256);
		}
	}
	cnie_buf_free(&out);
	free(d);
}

/* ---- response APDUs -------------------------------------------------- */

static void
test_rapdu_parse(void **state)
{
	static const uint8_t ok[] = { 0x90, 0x00 };
	static const uint8_t data[] = { 0x01, 0x02, 0x62, 0x82 };
	cnie_rapdu r;

	(void)state;
	assert_int_equal(cnie_rapdu_parse(ok, sizeof(ok), &r), 0);
	assert_null(r.data);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.sw, 0x9000);
	assert_int_equal(cnie_rapdu_parse(data, sizeof(data), &r), 0);
	assert_ptr_equal(r.data, data);
	assert_int_equal(r.len, 2);
	assert_int_equal(r.sw, 0x6282);
	assert_int_equal(cnie_rapdu_parse(ok, 1, &r), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_rapdu_parse(ok, 0, &r), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_rapdu_parse(NULL, 0, &r), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_rapdu_parse(NULL, 2, &r), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_rapdu_parse(ok, 2, NULL), CNIE_ERR_INVALID_ARG);
}

/* ---- the scripted transport ----------------------------------------- */

struct step {
	size_t fill_len; /* leading data bytes ... */
	uint8_t fill;	 /* ... all of this value */
	const char *hex; /* then these bytes (usually the SW) */
	int rc;		 /* a transport error instead of a response */
};

#define SCRIPT_MAX_STEPS 16
#define SCRIPT_MAX_SENT 512

struct script {
	struct step steps[SCRIPT_MAX_STEPS];
	size_t nsteps, next;
	bool repeat_last;		   /* a hostile card: the last step forever */
	cnie_buf *sent[SCRIPT_MAX_SENT];   /* every command received */
	size_t nsent;
};

static int
script_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct script *s = ctx;
	const struct step *st = NULL;
	cnie_buf *tail;

	assert_true(s->nsent < SCRIPT_MAX_SENT);
	assert_non_null(s->sent[s->nsent++] = cnie_buf_from(cmd, n));
	if (s->next < s->nsteps)
		st = &s->steps[s->next++];
	else if (s->repeat_last && s->nsteps > 0)
		st = &s->steps[s->nsteps - 1];
	if (st == NULL) {
		fail_msg("unexpected command #%zu", s->nsent);
		return CNIE_ERR_INTERNAL;
	}
	if (st->rc != 0)
		return st->rc;
	tail = tu_hex(st->hex);
	assert_true(st->fill_len + cnie_buf_len(tail) <= *resp_len);
	memset(resp, st->fill, st->fill_len);
	memcpy(resp + st->fill_len, cnie_buf_ptr(tail), cnie_buf_len(tail));
	*resp_len = st->fill_len + cnie_buf_len(tail);
	cnie_buf_free(&tail);
	return 0;
}

static void
script_free(void *ctx)
{
	struct script *s = ctx;
	size_t i;

	for (i = 0; i < s->nsent; i++)
		cnie_buf_free(&s->sent[i]);
	free(s);
}

static const cnie_transport_ops script_ops = {
	.transmit = script_transmit,
	.free = script_free,
};

/* Queues a response: fill_len bytes of fill, then hex. */
static void
sc_add(struct script *s, size_t fill_len, uint8_t fill, const char *hex)
{
	assert_true(s->nsteps < SCRIPT_MAX_STEPS);
	s->steps[s->nsteps].fill_len = fill_len;
	s->steps[s->nsteps].fill = fill;
	s->steps[s->nsteps].hex = hex;
	s->steps[s->nsteps].rc = 0;
	s->nsteps++;
}

static void
sc_add_error(struct script *s, int rc)
{
	assert_true(s->nsteps < SCRIPT_MAX_STEPS);
	s->steps[s->nsteps].hex = NULL;
	s->steps[s->nsteps].rc = rc;
	s->nsteps++;
}

/* A transport over a new script; ext/max_cmd = 0 → the short defaults. */
static cnie_transport *
sc_open(struct script **sp, bool ext, size_t max_cmd)
{
	cnie_transport_caps caps;
	cnie_transport *t = NULL;
	struct script *s;

	assert_non_null(s = calloc(1, sizeof(*s)));
	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = max_cmd != 0 ? max_cmd : 261;
	caps.max_resp = ext ? CNIE_MAX_RESPONSE : 258;
	caps.extended = ext;
	assert_int_equal(cnie_transport_new(&script_ops, s, &caps, "script", &t), 0);
	*sp = s;
	return t;
}

static void
assert_sent_hex(const struct script *s, size_t i, const char *hex)
{
	assert_true(i < s->nsent);
	tu_assert_buf_hex(s->sent[i], hex);
}

static void
assert_all_consumed(const struct script *s)
{
	assert_int_equal(s->next, s->nsteps);
}

/* ---- the engine ----------------------------------------------------- */

static void
test_tx_simple(void **state)
{
	static const uint8_t fid[] = { 0x01, 0x1E };
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6F03 840101 9000");
	cnie_apdu_init(&a, 0x00, 0xA4, 0x02, 0x04);
	a.data = fid;
	a.nc = sizeof(fid);
	a.ne = 256;
	resp = tu_hex("AA");
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	/* Appended, SW excluded. */
	tu_assert_buf_hex(resp, "AA 6F03840101");
	assert_int_equal(s->nsent, 1);
	assert_sent_hex(s, 0, "00A4020402011E00");
	assert_all_consumed(s);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_get_response_chain(void **state)
{
	cnie_transport_stats st;
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;
	size_t i;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6110");
	sc_add(s, 16, 0x11, "6100"); /* 6100: 256 more bytes */
	sc_add(s, 256, 0x22, "9000");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(resp), 16 + 256);
	for (i = 0; i < 16 + 256; i++)
		assert_int_equal(cnie_buf_ptr(resp)[i], i < 16 ? 0x11 : 0x22);
	assert_int_equal(s->nsent, 3);
	assert_sent_hex(s, 0, "00B0000000");
	assert_sent_hex(s, 1, "00C0000010");
	assert_sent_hex(s, 2, "00C0000000");
	assert_all_consumed(s);
	cnie_transport_get_stats(t, &st);
	assert_int_equal(st.apdus, 3);
	assert_int_equal(st.bytes_sent, 15);
	assert_int_equal(st.bytes_received, 2 + 18 + 258);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

/* Data sent along with 61xx (as some T=1 cards do) is kept. */
static void
test_tx_get_response_data_with_61xx(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "0102 6102");
	sc_add(s, 0, 0, "0304 9000");
	cnie_apdu_init(&a, 0x0C, 0xB0, 0x00, 0x00);
	a.ne = 4;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	tu_assert_buf_hex(resp, "01020304");
	/* GET RESPONSE is never SM-wrapped: the SM bits are dropped. */
	assert_sent_hex(s, 1, "00C0000002");
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

/* GET RESPONSE keeps the logical channel in both interindustry classes. */
static void
test_tx_get_response_class(void **state)
{
	static const struct {
		uint8_t cla, want;
	} v[] = {
		{ 0x00, 0x00 }, { 0x03, 0x03 }, { 0x0D, 0x01 }, { 0x1E, 0x02 },
		{ 0x45, 0x45 }, { 0x6F, 0x4F }, { 0x80, 0x80 }, { 0x94, 0x84 },
	};
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;
	size_t i;

	(void)state;
	assert_non_null(resp = cnie_buf_new());
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = sc_open(&s, false, 0);
		sc_add(s, 0, 0, "6101");
		sc_add(s, 0, 0, "01 9000");
		cnie_apdu_init(&a, v[i].cla, 0xCA, 0x00, 0x00);
		assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
		assert_int_equal(s->nsent, 2);
		assert_int_equal(cnie_buf_ptr(s->sent[1])[0], v[i].want);
		assert_memory_equal(cnie_buf_ptr(s->sent[1]) + 1, "\xC0\x00\x00\x01", 4);
		cnie_transport_free(&t);
	}
	cnie_buf_free(&resp);
}

static void
test_tx_wrong_le_reissue(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6C10");
	sc_add(s, 16, 0x33, "9000");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x81, 0x00);
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	tu_assert_buf_hex(resp, "33333333333333333333333333333333");
	assert_int_equal(s->nsent, 2);
	assert_sent_hex(s, 0, "00B0810000");
	assert_sent_hex(s, 1, "00B0810010");
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_wrong_le_then_61xx(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6C00"); /* 6C00: Le = 256 */
	sc_add(s, 0, 0, "6102");
	sc_add(s, 0, 0, "ABCD 9000");
	/* Case 1 (no Le): the re-issue adds Le. */
	cnie_apdu_init(&a, 0x00, 0xCA, 0x01, 0x01);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	tu_assert_buf_hex(resp, "ABCD");
	assert_sent_hex(s, 0, "00CA0101");
	assert_sent_hex(s, 1, "00CA010100");
	assert_sent_hex(s, 2, "00C0000002");
	assert_all_consumed(s);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_wrong_le_twice_returned(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6C10");
	sc_add(s, 0, 0, "6C08");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 5;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x6C08);
	assert_int_equal(cnie_buf_len(resp), 0);
	assert_int_equal(s->nsent, 2);
	assert_sent_hex(s, 1, "00B0000010");
	cnie_transport_free(&t);

	/* Through transmit_ok the unresolved 6Cxx is an error. */
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6C10");
	sc_add(s, 0, 0, "6C08");
	sw = 0;
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_SW_WRONG_LE);
	assert_int_equal(sw, 0x6C08);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_no_get_response_flag(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6110");
	sc_add(s, 0, 0, "6C10");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 256;
	a.flags = CNIE_APDU_NO_GET_RESPONSE;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x6110);
	assert_int_equal(s->nsent, 1);
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x6C10);
	assert_int_equal(s->nsent, 2);
	assert_int_equal(cnie_buf_len(resp), 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

/* Checks one chained chunk: class, header, Lc, data, Le. */
static void
assert_chunk(const struct script *s, size_t i, uint8_t cla, const uint8_t *data, size_t nc,
    bool has_le, uint8_t le)
{
	const uint8_t *p;

	assert_true(i < s->nsent);
	p = cnie_buf_ptr(s->sent[i]);
	assert_int_equal(cnie_buf_len(s->sent[i]), 4 + 1 + nc + (has_le ? 1 : 0));
	assert_int_equal(p[0], cla);
	assert_memory_equal(p + 1, "\x2A\x9E\x9A", 3);
	assert_int_equal(p[4], nc);
	assert_memory_equal(p + 5, data, nc);
	if (has_le)
		assert_int_equal(p[5 + nc], le);
}

static void
test_tx_chaining_600(void **state)
{
	uint8_t *d = pattern(600, 3);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "6110");
	sc_add(s, 16, 0x44, "9000");
	/* Logical channel 1: the channel bits stay, b5 marks the chain. */
	cnie_apdu_init(&a, 0x01, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 600;
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(resp), 16);
	assert_int_equal(s->nsent, 4);
	/* 600 = 255 + 255 + 90; Le only on the last chunk. */
	assert_chunk(s, 0, 0x11, d, 255, false, 0);
	assert_chunk(s, 1, 0x11, d + 255, 255, false, 0);
	assert_chunk(s, 2, 0x01, d + 510, 90, true, 0x00);
	assert_sent_hex(s, 3, "01C0000010");
	assert_all_consumed(s);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

static void
test_tx_chaining_exact_multiple(void **state)
{
	uint8_t *d = pattern(510, 0);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 510; /* two full chunks, no empty third */
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(s->nsent, 2);
	assert_chunk(s, 0, 0x10, d, 255, false, 0);
	assert_chunk(s, 1, 0x00, d + 255, 255, false, 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

static void
test_tx_chaining_intermediate_error_stops(void **state)
{
	uint8_t *d = pattern(600, 0);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "6884"); /* command chaining not supported */
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 600;
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x6884);
	assert_int_equal(cnie_buf_len(resp), 0);
	/* The last chunk is never sent. */
	assert_int_equal(s->nsent, 2);
	assert_all_consumed(s);
	/* Unknown status words map to CNIE_ERR_CARD through transmit_ok. */
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "6884");
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_CARD);
	assert_int_equal(s->nsent, 4);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

static void
test_tx_no_chaining_too_long(void **state)
{
	uint8_t *d = pattern(600, 0);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 256;
	a.flags = CNIE_APDU_NO_CHAINING;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_TOO_LONG);
	assert_int_equal(s->nsent, 0);
	/* 255 still fits a single short command. */
	sc_add(s, 0, 0, "9000");
	a.nc = 255;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(s->nsent, 1);
	assert_chunk(s, 0, 0x00, d, 255, false, 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

static void
test_tx_extended_when_caps_allow(void **state)
{
	uint8_t *d = pattern(600, 9);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	const uint8_t *p;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, true, CNIE_MAX_COMMAND);
	sc_add(s, 1000, 0x55, "9000");
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 600;
	a.ne = 65536;
	a.flags = CNIE_APDU_NO_CHAINING;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(resp), 1000);
	assert_int_equal(s->nsent, 1);
	p = cnie_buf_ptr(s->sent[0]);
	assert_int_equal(cnie_buf_len(s->sent[0]), 4 + 3 + 600 + 2);
	assert_memory_equal(p, "\x00\x2A\x9E\x9A\x00\x02\x58", 7);
	assert_memory_equal(p + 7, d, 600);
	assert_memory_equal(p + 607, "\x00\x00", 2);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

/* A reader with extended length but a small buffer: chaining instead. */
static void
test_tx_extended_too_big_for_reader(void **state)
{
	uint8_t *d = pattern(600, 0);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, true, 300);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 600;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(s->nsent, 3);
	assert_chunk(s, 2, 0x00, d + 510, 90, false, 0);
	/* With NO_CHAINING there is no way left. */
	a.flags = CNIE_APDU_NO_CHAINING;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_TOO_LONG);
	assert_int_equal(s->nsent, 3);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

/* A reader taking fewer than 261 bytes: chunks sized to its buffer. */
static void
test_tx_chaining_small_reader(void **state)
{
	uint8_t *d = pattern(200, 1);
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 100);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = d;
	a.nc = 200;
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	/* 95 + 95 + 10: each chunk 4 + 1 + 95 = 100 bytes, the last with Le. */
	assert_int_equal(s->nsent, 3);
	assert_chunk(s, 0, 0x10, d, 95, false, 0);
	assert_chunk(s, 1, 0x10, d + 95, 95, false, 0);
	assert_chunk(s, 2, 0x00, d + 190, 10, true, 0x00);
	assert_all_consumed(s);

	/* 95 bytes + Le do not fit one command; the last chunk keeps data. */
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	a.nc = 95;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(s->nsent, 5);
	assert_chunk(s, 3, 0x10, d, 94, false, 0);
	assert_chunk(s, 4, 0x00, d + 94, 1, true, 0x00);
	/* 94 bytes + Le fit: one command. */
	sc_add(s, 0, 0, "9000");
	a.nc = 94;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(s->nsent, 6);
	assert_chunk(s, 5, 0x00, d, 94, true, 0x00);
	cnie_transport_free(&t);

	/* A path too small for a header, Lc, one byte and Le: refused. */
	t = sc_open(&s, false, 6);
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_TOO_LONG);
	assert_int_equal(s->nsent, 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
	free(d);
}

/* 6Cxx whose re-issue would not fit the path: the 6Cxx is returned. */
static void
test_tx_wrong_le_reissue_too_long(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 6);
	sc_add(s, 0, 0, "6C08");
	cnie_apdu_init(&a, 0x00, 0xD6, 0x00, 0x00);
	a.data = (const uint8_t *)"\x01";
	a.nc = 1;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x6C08);
	assert_int_equal(s->nsent, 1);
	assert_sent_hex(s, 0, "00D6000001 01");
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_ne_over_256(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	/* Short path: Le = 00 (256), the rest through 61xx. */
	t = sc_open(&s, false, 0);
	sc_add(s, 256, 0x01, "6104");
	sc_add(s, 4, 0x02, "9000");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 260;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cnie_buf_len(resp), 260);
	assert_sent_hex(s, 0, "00B0000000");
	assert_sent_hex(s, 1, "00C0000004");
	cnie_transport_free(&t);

	/* Extended path: one command with a two-byte Le. */
	cnie_buf_reset(resp);
	t = sc_open(&s, true, CNIE_MAX_COMMAND);
	sc_add(s, 260, 0x01, "9000");
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_int_equal(cnie_buf_len(resp), 260);
	assert_sent_hex(s, 0, "00B00000000104");
	cnie_transport_free(&t);

	/* Short Ne on an extended path stays short unless forced. */
	t = sc_open(&s, true, CNIE_MAX_COMMAND);
	sc_add(s, 0, 0, "9000");
	sc_add(s, 0, 0, "9000");
	a.ne = 256;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_sent_hex(s, 0, "00B0000000");
	a.flags = CNIE_APDU_FORCE_EXTENDED;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_sent_hex(s, 1, "00B00000000100");
	cnie_transport_free(&t);

	/* Forced extended on a short path falls back to short. */
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "9000");
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	assert_sent_hex(s, 0, "00B0000000");
	cnie_transport_free(&t);
	cnie_buf_free(&resp);
}

static void
test_tx_hostile_endless_61xx(void **state)
{
	cnie_transport_stats st;
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0x1234;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 1, 0x66, "6101"); /* forever: one byte and "one more" */
	s->repeat_last = true;
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 1;
	resp = tu_hex("AABB");
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_BAD_RESPONSE);
	/* Nothing appended, SW untouched. */
	tu_assert_buf_hex(resp, "AABB");
	assert_int_equal(sw, 0x1234);
	cnie_transport_get_stats(t, &st);
	assert_int_equal(st.apdus, 1 + 300);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_hostile_too_much_data(void **state)
{
	cnie_transport_stats st;
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6100");
	sc_add(s, 256, 0x77, "6100"); /* forever: 256 bytes and 256 more */
	s->repeat_last = true;
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 256;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(cnie_buf_len(resp), 0);
	/* 256 x 256 bytes is the most any command can get; the 257th part is refused. */
	cnie_transport_get_stats(t, &st);
	assert_int_equal(st.apdus, 1 + 257);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_transport_error_propagated(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 8, 0x01, "6108");
	sc_add_error(s, CNIE_ERR_CARD_REMOVED);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 16;
	resp = tu_hex("AA");
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_CARD_REMOVED);
	/* The 8 bytes received before the failure are not left behind. */
	tu_assert_buf_hex(resp, "AA");
	assert_int_equal(s->nsent, 2);
	cnie_transport_free(&t);

	/* Same through transmit_ok; a 1-byte answer is a bad response. */
	t = sc_open(&s, false, 0);
	sc_add_error(s, CNIE_ERR_TIMEOUT);
	sc_add(s, 0, 0, "90");
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_TIMEOUT);
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_BAD_RESPONSE);
	tu_assert_buf_hex(resp, "AA");
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_ok_maps_sw(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6982");
	sc_add(s, 0, 0, "0102 6282");
	sc_add(s, 0, 0, "0304 9000");
	sc_add(s, 0, 0, "63C2");
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 4;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_SW_SECURITY_STATUS);
	assert_int_equal(sw, 0x6982);
	/* A warning with data: the data is still handed over. */
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_SW_END_OF_FILE);
	assert_int_equal(sw, 0x6282);
	tu_assert_buf_hex(resp, "0102");
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), 0);
	assert_int_equal(sw, 0x9000);
	tu_assert_buf_hex(resp, "01020304");
	assert_int_equal(cnie_apdu_transmit_ok(t, &a, resp, &sw), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(sw, 0x63C2);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_tx_bad_args(void **state)
{
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	(void)state;
	t = sc_open(&s, true, CNIE_MAX_COMMAND);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(NULL, &a, resp, &sw), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_transmit(t, NULL, resp, &sw), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_transmit(t, &a, NULL, &sw), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, NULL), CNIE_ERR_INVALID_ARG);
	a.nc = 2; /* no data */
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_INVALID_ARG);
	a.nc = 0;
	a.ne = 65537;
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_TOO_LONG);
	a.ne = 0;
	a.nc = 65536;
	a.data = (const uint8_t *)"";
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), CNIE_ERR_TOO_LONG);
	assert_int_equal(s->nsent, 0);
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

/* ---- trace masking --------------------------------------------------- */

/* Sends GENERAL AUTHENTICATE C0FFEE11 answered 7C02BEEF with the given flags. */
static void
send_ga(unsigned flags)
{
	static const uint8_t body[] = { 0xC0, 0xFF, 0xEE, 0x11 };
	struct script *s;
	cnie_transport *t;
	cnie_buf *resp;
	cnie_apdu a;
	uint16_t sw = 0;

	t = sc_open(&s, false, 0);
	sc_add(s, 0, 0, "6104");
	sc_add(s, 0, 0, "7C02BEEF 9000");
	cnie_apdu_init(&a, 0x00, 0x86, 0x00, 0x00);
	a.data = body;
	a.nc = sizeof(body);
	a.ne = 256;
	a.flags = flags;
	assert_non_null(resp = cnie_buf_new());
	assert_int_equal(cnie_apdu_transmit(t, &a, resp, &sw), 0);
	tu_assert_buf_hex(resp, "7C02BEEF");
	cnie_buf_free(&resp);
	cnie_transport_free(&t);
}

static void
test_trace_plain(void **state)
{
	(void)state;
	send_ga(0);
	/* CNIE_APDU_TRACE=full (set in main): bodies both ways are shown. */
	assert_non_null(strstr(tu_trace_text(), "0086000004C0FFEE1100"));
	assert_non_null(strstr(tu_trace_text(), "7C02BEEF9000"));
}

static void
test_trace_sensitive_masked(void **state)
{
	(void)state;
	send_ga(CNIE_APDU_SENSITIVE);
	assert_non_null(strstr(tu_trace_text(), "> 00860000"));
	assert_null(strstr(tu_trace_text(), "C0FFEE11"));
	assert_null(strstr(tu_trace_text(), "BEEF"));
	tu_trace_clear();
	send_ga(CNIE_APDU_SENSITIVE_RESP);
	assert_null(strstr(tu_trace_text(), "BEEF"));
	assert_non_null(strstr(tu_trace_text(), "[4 data bytes masked] 9000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_case1),
		cmocka_unit_test(test_encode_case2s),
		cmocka_unit_test(test_encode_case3s),
		cmocka_unit_test(test_encode_case4s),
		cmocka_unit_test(test_encode_case2e),
		cmocka_unit_test(test_encode_case3e),
		cmocka_unit_test(test_encode_case4e),
		cmocka_unit_test(test_encode_nc_boundary),
		cmocka_unit_test(test_encode_ne_boundary),
		cmocka_unit_test(test_encode_appends_and_bad_args),
		cmocka_unit_test(test_decode_short_cases),
		cmocka_unit_test(test_decode_extended_cases),
		cmocka_unit_test(test_decode_extended_max),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_roundtrip_bytes),
		cmocka_unit_test(test_roundtrip_fields),
		cmocka_unit_test(test_rapdu_parse),
		cmocka_unit_test(test_tx_simple),
		cmocka_unit_test(test_tx_get_response_chain),
		cmocka_unit_test(test_tx_get_response_data_with_61xx),
		cmocka_unit_test(test_tx_get_response_class),
		cmocka_unit_test(test_tx_wrong_le_reissue),
		cmocka_unit_test(test_tx_wrong_le_then_61xx),
		cmocka_unit_test(test_tx_wrong_le_twice_returned),
		cmocka_unit_test(test_tx_no_get_response_flag),
		cmocka_unit_test(test_tx_chaining_600),
		cmocka_unit_test(test_tx_chaining_exact_multiple),
		cmocka_unit_test(test_tx_chaining_intermediate_error_stops),
		cmocka_unit_test(test_tx_no_chaining_too_long),
		cmocka_unit_test(test_tx_extended_when_caps_allow),
		cmocka_unit_test(test_tx_extended_too_big_for_reader),
		cmocka_unit_test(test_tx_chaining_small_reader),
		cmocka_unit_test(test_tx_wrong_le_reissue_too_long),
		cmocka_unit_test(test_tx_ne_over_256),
		cmocka_unit_test(test_tx_hostile_endless_61xx),
		cmocka_unit_test(test_tx_hostile_too_much_data),
		cmocka_unit_test(test_tx_transport_error_propagated),
		cmocka_unit_test(test_tx_ok_maps_sw),
		cmocka_unit_test(test_tx_bad_args),
		cmocka_unit_test_setup_teardown(test_trace_plain, tu_trace_setup, tu_trace_teardown),
		cmocka_unit_test_setup_teardown(test_trace_sensitive_masked, tu_trace_setup,
		    tu_trace_teardown),
	};

	/* Read once by the library: full traces, so response masking shows. */
	setenv("CNIE_APDU_TRACE", "full", 1);
	cnie_log_set_apdu_trace(false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
