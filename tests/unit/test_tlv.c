/* Unit tests for the BER-TLV parser and builder (src/libcnie/tlv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/tlv.h>

#include "unitutil.h"

/* Parses hex with cnie_tlv_next (der == 0) or _der and returns the result. */
static int
next_hex(const char *hex, int der, cnie_tlv *t, cnie_cur *cout)
{
	cnie_buf *b = tu_hex(hex);
	cnie_cur c;
	int r;

	cnie_buf_cur(b, &c);
	r = der ? cnie_tlv_next_der(&c, t) : cnie_tlv_next(&c, t);
	if (r == 0) {
		/* The value sits right after the header, NULL when empty. */
		if (t->len == 0)
			assert_null(t->value);
		else
			assert_ptr_equal(t->value, cnie_buf_ptr(b) + t->hdr_len);
		t->value = NULL; /* the bytes are freed below */
	}
	if (cout != NULL) {
		*cout = c;
		cout->p = NULL; /* the bytes are freed below */
	}
	cnie_buf_free(&b);
	return r;
}

/* ---- parser: tags and short lengths ---------------------------------- */

static void
test_next_short_primitive(void **state)
{
	static const uint8_t in[] = { 0x80, 0x02, 0x01, 0x02, 0x04, 0x00 };
	cnie_cur c;
	cnie_tlv t;

	(void)state;
	cnie_cur_init(&c, in, sizeof(in));
	assert_int_equal(cnie_tlv_next(&c, &t), 0);
	assert_int_equal(t.tag, 0x80);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_CONTEXT);
	assert_false(t.constructed);
	assert_int_equal(t.len, 2);
	assert_int_equal(t.hdr_len, 2);
	assert_ptr_equal(t.value, in + 2);
	assert_int_equal(cnie_cur_left(&c), 2);

	/* Zero-length values are NULL, not a pointer at the next object. */
	assert_int_equal(cnie_tlv_next(&c, &t), 0);
	assert_int_equal(t.tag, 0x04);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_UNIVERSAL);
	assert_int_equal(t.len, 0);
	assert_null(t.value);
	assert_int_equal(cnie_cur_end(&c), 0);

	/* At the end: nothing left is truncation, and it sticks. */
	assert_int_equal(cnie_tlv_next(&c, &t), CNIE_ERR_TRUNCATED);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
}

static void
test_next_class_and_constructed_bits(void **state)
{
	cnie_tlv t;

	(void)state;
	assert_int_equal(next_hex("7F4E 00", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0x7F4E);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_APPLICATION);
	assert_true(t.constructed);
	assert_int_equal(next_hex("E1 00", 0, &t, NULL), 0);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_PRIVATE);
	assert_true(t.constructed);
	assert_int_equal(next_hex("30 00", 0, &t, NULL), 0);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_UNIVERSAL);
	assert_true(t.constructed);
}

static void
test_next_multibyte_tags(void **state)
{
	cnie_tlv t;

	(void)state;
	assert_int_equal(next_hex("5F1F 01 AA", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0x5F1F);
	assert_int_equal(t.hdr_len, 3);
	assert_int_equal(t.len, 1);
	assert_false(t.constructed);

	assert_int_equal(next_hex("DF8101 00", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0xDF8101);
	assert_int_equal(t.hdr_len, 4);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_PRIVATE);

	assert_int_equal(next_hex("BF818203 01 55", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0xBF818203);
	assert_int_equal(t.hdr_len, 5);
	assert_true(t.constructed);
	assert_int_equal(t.cls, CNIE_TLV_CLASS_CONTEXT);
}

static void
test_next_five_byte_tag_refused(void **state)
{
	cnie_tlv t;
	cnie_cur c;

	(void)state;
	assert_int_equal(next_hex("BF81828304 00", 0, &t, &c), CNIE_ERR_ENCODING);
	assert_int_equal(c.err, CNIE_ERR_ENCODING);
	/* Refused before reading a fifth byte, even if there is none. */
	assert_int_equal(next_hex("BF818283", 0, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("BF81828304 00", 1, &t, NULL), CNIE_ERR_ENCODING);
}

static void
test_next_padding_lead_bytes_refused(void **state)
{
	cnie_tlv t;
	cnie_cur c;

	(void)state;
	assert_int_equal(next_hex("00 01 AA", 0, &t, &c), CNIE_ERR_ENCODING);
	assert_int_equal(c.err, CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("FF 01 AA", 0, &t, NULL), CNIE_ERR_ENCODING);
	/* Not skipped as padding either before a valid object. */
	assert_int_equal(next_hex("00 04 01 AA", 0, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(t.tag, 0);
	assert_int_equal(next_hex("FF 04 01 AA", 1, &t, NULL), CNIE_ERR_ENCODING);
}

/* ---- parser: long lengths -------------------------------------------- */

/* Parses tag 04, the given length bytes and value_len zero bytes. */
static int
next_with_len(const uint8_t *lenb, size_t nlen, size_t value_len, int der, cnie_tlv *t)
{
	uint8_t *in;
	cnie_cur c;
	size_t n = 1 + nlen + value_len;
	int r;

	in = calloc(1, n);
	assert_non_null(in);
	in[0] = 0x04;
	memcpy(in + 1, lenb, nlen);
	cnie_cur_init(&c, in, n);
	r = der ? cnie_tlv_next_der(&c, t) : cnie_tlv_next(&c, t);
	if (r == 0) {
		assert_ptr_equal(t->value, in + 1 + nlen);
		assert_int_equal(cnie_cur_end(&c), 0);
		t->value = NULL;
	}
	free(in);
	return r;
}

static void
test_len_long_forms(void **state)
{
	static const uint8_t l81[] = { 0x81, 0x80 };
	static const uint8_t l81ff[] = { 0x81, 0xFF };
	static const uint8_t l82[] = { 0x82, 0x01, 0x00 };
	static const uint8_t l82ffff[] = { 0x82, 0xFF, 0xFF };
	static const uint8_t l83[] = { 0x83, 0x01, 0x00, 0x00 };
	static const uint8_t l84[] = { 0x84, 0x01, 0x00, 0x00, 0x00 };
	cnie_tlv t;
	int der;

	(void)state;
	for (der = 0; der <= 1; der++) {
		assert_int_equal(next_with_len(l81, sizeof(l81), 0x80, der, &t), 0);
		assert_int_equal(t.len, 0x80);
		assert_int_equal(t.hdr_len, 3);
		assert_int_equal(next_with_len(l81ff, sizeof(l81ff), 0xFF, der, &t), 0);
		assert_int_equal(t.len, 0xFF);
		assert_int_equal(next_with_len(l82, sizeof(l82), 0x100, der, &t), 0);
		assert_int_equal(t.len, 0x100);
		assert_int_equal(t.hdr_len, 4);
		assert_int_equal(next_with_len(l82ffff, sizeof(l82ffff), 0xFFFF, der, &t), 0);
		assert_int_equal(t.len, 0xFFFF);
		assert_int_equal(next_with_len(l83, sizeof(l83), 0x10000, der, &t), 0);
		assert_int_equal(t.len, 0x10000);
		assert_int_equal(t.hdr_len, 5);
		assert_int_equal(next_with_len(l84, sizeof(l84), 0x1000000, der, &t), 0);
		assert_int_equal(t.len, 0x1000000);
		assert_int_equal(t.hdr_len, 6);
	}
}

static void
test_len_indefinite_and_reserved_refused(void **state)
{
	cnie_tlv t;
	cnie_cur c;

	(void)state;
	/* X.690 8.1.3.6 indefinite form. */
	assert_int_equal(next_hex("30 80 04 00 00 00", 0, &t, &c), CNIE_ERR_ENCODING);
	assert_int_equal(c.err, CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 85 00 00 00 00 01 AA", 0, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 FE 00", 0, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 FF 00", 0, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("30 80 04 00 00 00", 1, &t, NULL), CNIE_ERR_ENCODING);
}

static void
test_len_truncated(void **state)
{
	cnie_tlv t;
	cnie_cur c;

	(void)state;
	assert_int_equal(next_hex("", 0, &t, &c), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04", 0, &t, &c), CNIE_ERR_TRUNCATED);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("5F", 0, &t, NULL), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("5F81", 0, &t, NULL), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04 81", 0, &t, NULL), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04 82 01", 0, &t, NULL), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04 84 00 00 00", 0, &t, NULL), CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04 03 01 02", 0, &t, &c), CNIE_ERR_TRUNCATED);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
	assert_int_equal(next_hex("04 81 03 01 02", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 81 80 01 02", 1, &t, NULL), CNIE_ERR_TRUNCATED);
}

static void
test_len_huge_does_not_wrap(void **state)
{
	/* A pointer plus 0xFFFFFFFF would wrap on 32-bit, not on 64-bit. */
	static const uint8_t in[] = { 0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00 };
	static const uint8_t in2[] = { 0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFA, 0x00 };
	cnie_cur c;
	cnie_tlv t;

	(void)state;
	cnie_cur_init(&c, in, sizeof(in));
	assert_int_equal(cnie_tlv_next(&c, &t), CNIE_ERR_TRUNCATED);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_cur_left(&c), 0);
	assert_null(t.value);
	assert_int_equal(t.len, 0);
	cnie_cur_init(&c, in2, sizeof(in2));
	assert_int_equal(cnie_tlv_next_der(&c, &t), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_tlv_validate(in, sizeof(in), CNIE_TLV_MAX_DEPTH),
	    CNIE_ERR_TRUNCATED);
}

static void
test_der_refuses_non_minimal_length(void **state)
{
	cnie_tlv t;
	cnie_cur c;

	(void)state;
	/* 81 05: five fits in the short form (X.690 10.1). */
	assert_int_equal(next_hex("04 81 05 0102030405", 0, &t, NULL), 0);
	assert_int_equal(t.len, 5);
	assert_int_equal(next_hex("04 81 05 0102030405", 1, &t, &c), CNIE_ERR_ENCODING);
	assert_int_equal(c.err, CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 81 7F", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 82 00 01 AA", 0, &t, NULL), 0);
	assert_int_equal(next_hex("04 82 00 01 AA", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 82 00 FF", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 83 00 FF FF", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 84 00 FF FF FF", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 84 00 00 00 00", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("04 84 00 00 00 00", 0, &t, NULL), 0);
	assert_int_equal(t.len, 0);
}

static void
test_der_refuses_non_minimal_tag(void **state)
{
	cnie_tlv t;

	(void)state;
	/* 5F01 (ICAO LDS version) is tag number 1 in the long form. */
	assert_int_equal(next_hex("5F01 04 30313037", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0x5F01);
	assert_int_equal(next_hex("5F01 04 30313037", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("5F1E 00", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("5F1F 00", 1, &t, NULL), 0);
	/* Leading zero bits in the tag number (X.690 8.1.2.4.2 c). */
	assert_int_equal(next_hex("5F801F 00", 0, &t, NULL), 0);
	assert_int_equal(t.tag, 0x5F801F);
	assert_int_equal(next_hex("5F801F 00", 1, &t, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(next_hex("7F8101 00", 1, &t, NULL), 0);
}

static void
test_next_error_is_sticky(void **state)
{
	static const uint8_t in[] = { 0x04, 0x80, 0x04, 0x01, 0xAA };
	cnie_cur c;
	cnie_tlv t;

	(void)state;
	cnie_cur_init(&c, in, sizeof(in));
	assert_int_equal(cnie_tlv_next(&c, &t), CNIE_ERR_ENCODING);
	/* Skip the bad header by hand: the cursor stays failed. */
	assert_int_equal(cnie_tlv_next(&c, &t), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_ENCODING);
}

static void
test_next_bad_args(void **state)
{
	static const uint8_t in[] = { 0x04, 0x00 };
	cnie_cur c;
	cnie_tlv t;

	(void)state;
	assert_int_equal(cnie_tlv_next(NULL, &t), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_next_der(NULL, &t), CNIE_ERR_INVALID_ARG);
	cnie_cur_init(&c, in, sizeof(in));
	assert_int_equal(cnie_tlv_next(&c, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(c.err, CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_parse_one(NULL, 2, &t), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_parse_one(in, sizeof(in), NULL), CNIE_ERR_INVALID_ARG);
}

/* ---- parse_one, validate, walk --------------------------------------- */

static void
test_parse_one_trailing(void **state)
{
	static const uint8_t in[] = { 0x04, 0x01, 0xAA, 0x00 };
	cnie_tlv t;

	(void)state;
	assert_int_equal(cnie_tlv_parse_one(in, 3, &t), 0);
	assert_int_equal(t.tag, 0x04);
	assert_ptr_equal(t.value, in + 2);
	assert_int_equal(cnie_tlv_parse_one(in, sizeof(in), &t), CNIE_ERR_TRAILING);
	assert_null(t.value);
	assert_int_equal(cnie_tlv_parse_one(in, 2, &t), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_tlv_parse_one(NULL, 0, &t), CNIE_ERR_TRUNCATED);
}

/* Builds `levels` nested 30 objects; the innermost holds 04 01 AA if leaf. */
static cnie_buf *
nested(size_t levels, int leaf)
{
	size_t marks[64];
	cnie_buf *b = cnie_buf_new();
	size_t i;

	assert_non_null(b);
	assert_true(levels <= 64);
	for (i = 0; i < levels; i++)
		assert_int_equal(cnie_tlv_open(b, 0x30, &marks[i]), 0);
	if (leaf)
		assert_int_equal(cnie_tlv_put(b, 0x04, "\xAA", 1), 0);
	while (i-- > 0)
		assert_int_equal(cnie_tlv_close(b, marks[i]), 0);
	return b;
}

static void
test_validate_nesting_limit(void **state)
{
	cnie_buf *b;

	(void)state;
	/* 15 constructed levels and a leaf: 16 levels, the limit. */
	b = nested(CNIE_TLV_MAX_DEPTH - 1, 1);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
	    CNIE_TLV_MAX_DEPTH), 0);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
	    CNIE_TLV_MAX_DEPTH - 1), CNIE_ERR_NESTING);
	cnie_buf_free(&b);

	/* 16 constructed levels, the innermost empty: still 16 levels. */
	b = nested(CNIE_TLV_MAX_DEPTH, 0);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
	    CNIE_TLV_MAX_DEPTH), 0);
	cnie_buf_free(&b);

	/* One level more. */
	b = nested(CNIE_TLV_MAX_DEPTH, 1);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
	    CNIE_TLV_MAX_DEPTH), CNIE_ERR_NESTING);
	cnie_buf_free(&b);

	/* A low caller limit: one level allows no children. */
	b = tu_hex("30 03 04 01 AA");
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b), 2), 0);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b), 1),
	    CNIE_ERR_NESTING);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b), 0),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
	    CNIE_TLV_MAX_DEPTH + 1), CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);
}

static void
test_validate_errors(void **state)
{
	static const struct {
		const char *hex;
		int want;
	} cases[] = {
		{ "", 0 },
		{ "04 01 AA 80 00", 0 },
		/* A primitive's value is not parsed. */
		{ "04 02 00 FF", 0 },
		/* Trailing garbage at the top level. */
		{ "04 01 AA 04", CNIE_ERR_TRUNCATED },
		{ "04 01 AA 00", CNIE_ERR_ENCODING },
		/* Trailing garbage inside a constructed value. */
		{ "30 04 04 01 AA 05", CNIE_ERR_TRUNCATED },
		{ "30 04 04 01 AA 00", CNIE_ERR_ENCODING },
		/* Inner length beyond the outer value. */
		{ "30 03 04 02 AA 04 00", CNIE_ERR_TRUNCATED },
		{ "30 02 04 80", CNIE_ERR_ENCODING },
		{ "30 05 04 84 FF FF FF", CNIE_ERR_TRUNCATED },
	};
	cnie_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = tu_hex(cases[i].hex);
		assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b),
		    CNIE_TLV_MAX_DEPTH), cases[i].want);
		cnie_buf_free(&b);
	}
	assert_int_equal(cnie_tlv_validate(NULL, 0, 1), 0);
	assert_int_equal(cnie_tlv_validate(NULL, 1, 1), CNIE_ERR_INVALID_ARG);
}

struct visit_log {
	uint32_t tags[16];
	size_t depths[16];
	size_t n;
	size_t stop_at; /* return 7 on this visit (1-based), 0: never */
};

static int
visit(const cnie_tlv *t, size_t depth, void *arg)
{
	struct visit_log *v = arg;

	assert_true(v->n < 16);
	v->tags[v->n] = t->tag;
	v->depths[v->n] = depth;
	v->n++;
	return v->n == v->stop_at ? 7 : 0;
}

static void
test_walk_depth_first(void **state)
{
	/* 30 { 80 AA, A1 { 81 BB } } 82 <empty> */
	cnie_buf *b = tu_hex("30 08 8001AA A103 8101BB 8200");
	struct visit_log v;
	static const uint32_t tags[] = { 0x30, 0x80, 0xA1, 0x81, 0x82 };
	static const size_t depths[] = { 0, 1, 1, 2, 0 };
	size_t i;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(cnie_tlv_walk(cnie_buf_ptr(b), cnie_buf_len(b), 16, visit, &v), 0);
	assert_int_equal(v.n, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(v.tags[i], tags[i]);
		assert_int_equal(v.depths[i], depths[i]);
	}

	/* A callback's non-zero return stops the walk and is returned. */
	memset(&v, 0, sizeof(v));
	v.stop_at = 3;
	assert_int_equal(cnie_tlv_walk(cnie_buf_ptr(b), cnie_buf_len(b), 16, visit, &v), 7);
	assert_int_equal(v.n, 3);

	/* Depth limit applies to the walk too. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(cnie_tlv_walk(cnie_buf_ptr(b), cnie_buf_len(b), 2, visit, &v),
	    CNIE_ERR_NESTING);
	assert_int_equal(v.n, 0);
	assert_int_equal(cnie_tlv_walk(cnie_buf_ptr(b), cnie_buf_len(b), 2, NULL, NULL),
	    CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);
}

static void
test_walk_malformed_visits_nothing(void **state)
{
	/* A good first object, then garbage: no callback sees the prefix. */
	cnie_buf *b = tu_hex("04 01 AA 30 03 04 05");
	struct visit_log v;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(cnie_tlv_walk(cnie_buf_ptr(b), cnie_buf_len(b), 16, visit, &v),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(v.n, 0);
	cnie_buf_free(&b);
}

/* ---- find, find_path -------------------------------------------------- */

static void
test_find_siblings_only(void **state)
{
	cnie_buf *b = tu_hex("30 03 8001AA 81 02 BBCC 81 01 DD");
	cnie_tlv t;

	(void)state;
	assert_int_equal(cnie_tlv_find(cnie_buf_ptr(b), cnie_buf_len(b), 0x81, &t), 0);
	assert_int_equal(t.len, 2);
	assert_memory_equal(t.value, "\xBB\xCC", 2);
	/* 80 is inside 30: find does not descend. */
	assert_int_equal(cnie_tlv_find(cnie_buf_ptr(b), cnie_buf_len(b), 0x80, &t),
	    CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_tlv_find(cnie_buf_ptr(b), cnie_buf_len(b), 0x30, NULL), 0);
	assert_int_equal(cnie_tlv_find(NULL, 0, 0x30, &t), CNIE_ERR_NOT_FOUND);
	cnie_buf_free(&b);

	/* Parse errors are returned as they are met. */
	b = tu_hex("04 01 AA 04 05");
	assert_int_equal(cnie_tlv_find(cnie_buf_ptr(b), cnie_buf_len(b), 0x04, &t), 0);
	assert_int_equal(cnie_tlv_find(cnie_buf_ptr(b), cnie_buf_len(b), 0x99, &t),
	    CNIE_ERR_TRUNCATED);
	cnie_buf_free(&b);
}

static void
test_find_path(void **state)
{
	/* Card-verifiable certificate shape (BSI TR-03110 D.2):
	 * 7F21 { 7F4E { 5F29 00, 42 "DE", 7F49 { 06 2A } , 5F20 "CHR" } 5F37 sig } */
	cnie_buf *b = tu_hex("7F21 1C"
			     "7F4E 14 5F29 01 00 42 02 4445 7F49 03 06 01 2A 5F20 03 434852"
			     "5F37 02 5151");
	static const uint32_t chr[] = { 0x7F21, 0x7F4E, 0x5F20 };
	static const uint32_t oid[] = { 0x7F21, 0x7F4E, 0x7F49, 0x06 };
	static const uint32_t missing[] = { 0x7F21, 0x7F4E, 0x5F25 };
	static const uint32_t through_primitive[] = { 0x7F21, 0x5F37, 0x51 };
	cnie_tlv t;

	(void)state;
	assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b), 16), 0);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), chr, 3, &t), 0);
	assert_int_equal(t.tag, 0x5F20);
	assert_int_equal(t.len, 3);
	assert_memory_equal(t.value, "CHR", 3);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), oid, 4, &t), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.value[0], 0x2A);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), chr, 1, &t), 0);
	assert_int_equal(t.tag, 0x7F21);
	assert_int_equal(t.len, 0x1C);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), missing, 3, &t),
	    CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b),
	    through_primitive, 3, &t), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), chr, 0, &t),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), chr,
	    CNIE_TLV_MAX_DEPTH + 1, &t), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), NULL, 1, &t),
	    CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);

	/* A malformed inner value is reported, not skipped. */
	b = tu_hex("61 04 5F1F 05 AA");
	assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b),
	    (const uint32_t[]){ 0x61, 0x5F1F }, 2, &t), CNIE_ERR_TRUNCATED);
	cnie_buf_free(&b);
}

/* ---- builder ---------------------------------------------------------- */

static void
test_put_len_encodings(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} cases[] = {
		{ 0, "00" }, { 0x7F, "7F" }, { 0x80, "8180" }, { 0xFF, "81FF" },
		{ 0x100, "820100" }, { 0xFFFF, "82FFFF" }, { 0x10000, "83010000" },
		{ 0xFFFFFF, "83FFFFFF" }, { 0x1000000, "8401000000" },
		{ 0xFFFFFFFFu, "84FFFFFFFF" },
	};
	cnie_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = cnie_buf_new();
		assert_non_null(b);
		assert_int_equal(cnie_tlv_put_len(b, cases[i].len), 0);
		tu_assert_buf_hex(b, cases[i].hex);
		assert_int_equal(cnie_tlv_len_size(cases[i].len), cnie_buf_len(b));
		cnie_buf_free(&b);
	}
#if SIZE_MAX > 0xFFFFFFFFu
	b = cnie_buf_new();
	assert_int_equal(cnie_tlv_len_size((size_t)0x100000000ull), 0);
	assert_int_equal(cnie_tlv_put_len(b, (size_t)0x100000000ull), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 0);
	cnie_buf_free(&b);
#endif
	assert_int_equal(cnie_tlv_put_len(NULL, 1), CNIE_ERR_INVALID_ARG);
}

static void
test_put_tag_validity(void **state)
{
	static const uint32_t good[] = { 0x04, 0x30, 0x5F1F, 0x5F01, 0x7F4E, 0xDF8101,
		0xBF818203, 0xFE };
	static const uint32_t bad[] = { 0x00, 0xFF, 0x1F, 0x5F, 0x5F81, 0x0401, 0x3004,
		0xBF818283, 0xFF01, 0x5F8181 };
	cnie_buf *b = cnie_buf_new();
	cnie_tlv t;
	size_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cnie_buf_reset(b);
		assert_int_equal(cnie_tlv_put(b, good[i], NULL, 0), 0);
		assert_int_equal(cnie_tlv_parse_one(cnie_buf_ptr(b), cnie_buf_len(b), &t), 0);
		assert_int_equal(t.tag, good[i]);
		assert_int_equal(t.len, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cnie_buf_reset(b);
		assert_int_equal(cnie_tlv_put_tag(b, bad[i]), CNIE_ERR_INVALID_ARG);
		assert_int_equal(cnie_tlv_put(b, bad[i], "x", 1), CNIE_ERR_INVALID_ARG);
		assert_int_equal(cnie_buf_len(b), 0);
	}
	cnie_buf_free(&b);
}

static void
test_put_uint_minimal(void **state)
{
	static const struct {
		uint32_t v;
		const char *hex;
	} cases[] = {
		{ 0, "020100" }, { 0x7F, "02017F" }, { 0x80, "020180" },
		{ 0xFF, "0201FF" }, { 0x100, "02020100" }, { 0x10000, "0203010000" },
		{ 0x00FFFFFF, "0203FFFFFF" }, { 0x01000000, "020401000000" },
		{ 0xFFFFFFFF, "0204FFFFFFFF" },
	};
	cnie_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = cnie_buf_new();
		assert_non_null(b);
		assert_int_equal(cnie_tlv_put_uint(b, 0x02, cases[i].v), 0);
		tu_assert_buf_hex(b, cases[i].hex);
		cnie_buf_free(&b);
	}
}

static void
test_put_atomic_on_cap(void **state)
{
	cnie_buf *b = cnie_buf_new();

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_put_u8(b, 0x99), 0);
	assert_int_equal(cnie_buf_set_max(b, 4), 0);
	/* Tag and length fit, the value does not: nothing is left behind. */
	assert_int_equal(cnie_tlv_put(b, 0x04, "\x01\x02", 2), CNIE_ERR_TOO_LONG);
	tu_assert_buf_hex(b, "99");
	assert_int_equal(cnie_tlv_put(b, 0x04, "\x01", 1), 0);
	tu_assert_buf_hex(b, "99 04 01 01");
	assert_int_equal(cnie_tlv_put(NULL, 0x04, "\x01", 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_put(b, 0x04, NULL, 1), CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);
}

static void
test_open_close_errors(void **state)
{
	cnie_buf *b = cnie_buf_new();
	size_t mark = 99;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_tlv_open(b, 0x1F, &mark), CNIE_ERR_INVALID_ARG);
	assert_int_equal(mark, 99);
	assert_int_equal(cnie_tlv_open(b, 0x30, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_open(NULL, 0x30, &mark), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_open(b, 0x30, &mark), 0);
	assert_int_equal(mark, 1);
	assert_int_equal(cnie_tlv_close(b, 0), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_close(b, 2), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_tlv_close(NULL, 1), CNIE_ERR_INVALID_ARG);
	/* The cap also applies to the inserted length. */
	assert_int_equal(cnie_buf_put(b, "\x04\x01\xAA", 3), 0);
	assert_int_equal(cnie_buf_set_max(b, 4), 0);
	assert_int_equal(cnie_tlv_close(b, mark), CNIE_ERR_TOO_LONG);
	tu_assert_buf_hex(b, "30 04 01 AA");
	assert_int_equal(cnie_buf_set_max(b, 5), 0);
	assert_int_equal(cnie_tlv_close(b, mark), 0);
	tu_assert_buf_hex(b, "30 03 04 01 AA");
	cnie_buf_free(&b);
}

/*
 * 30 { A1 { 04 <n bytes> } }: the three lengths cross the 127/128 and
 * 255/256 boundaries as n grows.
 */
static void
test_builder_nested_roundtrip(void **state)
{
	static const struct {
		size_t n;
		const char *outer, *inner, *prim;
	} cases[] = {
		{ 0, "3004", "A102", "0400" },
		{ 123, "307F", "A17D", "047B" },
		{ 124, "308180", "A17E", "047C" },
		{ 125, "308181", "A17F", "047D" },
		{ 126, "308183", "A18180", "047E" },
		{ 127, "308184", "A18181", "047F" },
		{ 128, "308186", "A18183", "048180" },
		{ 249, "3081FF", "A181FC", "0481F9" },
		{ 250, "30820100", "A181FD", "0481FA" },
		{ 252, "30820102", "A181FF", "0481FC" },
		{ 253, "30820104", "A1820100", "0481FD" },
		{ 255, "30820106", "A1820102", "0481FF" },
		{ 256, "30820108", "A1820104", "04820100" },
		{ 65535, "3083010008", "A183010003", "0482FFFF" },
	};
	static const uint32_t path[] = { 0x30, 0xA1, 0x04 };
	uint8_t *val;
	cnie_buf *b, *want;
	size_t i, m1, m2, j;
	cnie_tlv t;

	(void)state;
	val = malloc(65535);
	assert_non_null(val);
	for (j = 0; j < 65535; j++)
		val[j] = (uint8_t)(j * 7 + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = cnie_buf_new();
		want = cnie_buf_new();
		assert_non_null(b);
		assert_non_null(want);
		assert_int_equal(cnie_tlv_open(b, 0x30, &m1), 0);
		assert_int_equal(cnie_tlv_open(b, 0xA1, &m2), 0);
		assert_int_equal(cnie_tlv_put(b, 0x04, val, cases[i].n), 0);
		assert_int_equal(cnie_tlv_close(b, m2), 0);
		assert_int_equal(cnie_tlv_close(b, m1), 0);

		assert_int_equal(cnie_unhex(cases[i].outer, want), 0);
		assert_int_equal(cnie_unhex(cases[i].inner, want), 0);
		assert_int_equal(cnie_unhex(cases[i].prim, want), 0);
		assert_int_equal(cnie_buf_put(want, val, cases[i].n), 0);
		assert_int_equal(cnie_buf_len(b), cnie_buf_len(want));
		assert_memory_equal(cnie_buf_ptr(b), cnie_buf_ptr(want), cnie_buf_len(b));

		/* And back: DER-valid, the value found by path. */
		assert_int_equal(cnie_tlv_validate(cnie_buf_ptr(b), cnie_buf_len(b), 3), 0);
		assert_int_equal(cnie_tlv_find_path(cnie_buf_ptr(b), cnie_buf_len(b), path, 3,
		    &t), 0);
		assert_int_equal(t.len, cases[i].n);
		if (cases[i].n > 0)
			assert_memory_equal(t.value, val, cases[i].n);
		else
			assert_null(t.value);
		cnie_buf_free(&b);
		cnie_buf_free(&want);
	}
	free(val);
}

/* Siblings after a closed object and an empty constructed object. */
static void
test_builder_siblings(void **state)
{
	cnie_buf *b = cnie_buf_new();
	size_t m1, m2, m3;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_tlv_open(b, 0x7F4E, &m1), 0);
	assert_int_equal(cnie_tlv_put_uint(b, 0x5F29, 0), 0);
	assert_int_equal(cnie_tlv_open(b, 0x7F49, &m2), 0);
	assert_int_equal(cnie_tlv_close(b, m2), 0);
	assert_int_equal(cnie_tlv_open(b, 0xA0, &m3), 0);
	assert_int_equal(cnie_tlv_put(b, 0x80, "\x01\x02", 2), 0);
	assert_int_equal(cnie_tlv_close(b, m3), 0);
	assert_int_equal(cnie_tlv_close(b, m1), 0);
	assert_int_equal(cnie_tlv_put(b, 0x5F37, NULL, 0), 0);
	tu_assert_buf_hex(b, "7F4E 0D 5F29 01 00 7F49 00 A0 04 80 02 0102 5F37 00");
	cnie_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_short_primitive),
		cmocka_unit_test(test_next_class_and_constructed_bits),
		cmocka_unit_test(test_next_multibyte_tags),
		cmocka_unit_test(test_next_five_byte_tag_refused),
		cmocka_unit_test(test_next_padding_lead_bytes_refused),
		cmocka_unit_test(test_len_long_forms),
		cmocka_unit_test(test_len_indefinite_and_reserved_refused),
		cmocka_unit_test(test_len_truncated),
		cmocka_unit_test(test_len_huge_does_not_wrap),
		cmocka_unit_test(test_der_refuses_non_minimal_length),
		cmocka_unit_test(test_der_refuses_non_minimal_tag),
		cmocka_unit_test(test_next_error_is_sticky),
		cmocka_unit_test(test_next_bad_args),
		cmocka_unit_test(test_parse_one_trailing),
		cmocka_unit_test(test_validate_nesting_limit),
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_walk_depth_first),
		cmocka_unit_test(test_walk_malformed_visits_nothing),
		cmocka_unit_test(test_find_siblings_only),
		cmocka_unit_test(test_find_path),
		cmocka_unit_test(test_put_len_encodings),
		cmocka_unit_test(test_put_tag_validity),
		cmocka_unit_test(test_put_uint_minimal),
		cmocka_unit_test(test_put_atomic_on_cap),
		cmocka_unit_test(test_open_close_errors),
		cmocka_unit_test(test_builder_nested_roundtrip),
		cmocka_unit_test(test_builder_siblings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
