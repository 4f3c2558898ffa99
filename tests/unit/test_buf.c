/* Unit tests for the bounded cursor and owned buffer (src/libcnie/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/error.h>

static const uint8_t data[] = { 0x12, 0x34, 0x56, 0x78, 0x9A };

static void
assert_contents(const cnie_buf *b, const void *want, size_t n)
{
	assert_int_equal(cnie_buf_len(b), n);
	if (n > 0)
		assert_memory_equal(cnie_buf_ptr(b), want, n);
}

/* ---- cursor: every getter at the exact end and one past -------------- */

static void
test_cur_u8_end(void **state)
{
	cnie_cur c;
	uint8_t v = 0xEE;

	(void)state;
	cnie_cur_init(&c, data, 1);
	assert_int_equal(cnie_cur_u8(&c, &v), 0);
	assert_int_equal(v, 0x12);
	assert_int_equal(cnie_cur_left(&c), 0);
	assert_int_equal(cnie_cur_end(&c), 0);
	v = 0xEE;
	assert_int_equal(cnie_cur_u8(&c, &v), CNIE_ERR_TRUNCATED);
	assert_int_equal(v, 0xEE);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_TRUNCATED);
}

static void
test_cur_u16be_end(void **state)
{
	cnie_cur c;
	uint16_t v = 0xEEEE;

	(void)state;
	cnie_cur_init(&c, data, 2);
	assert_int_equal(cnie_cur_u16be(&c, &v), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(cnie_cur_end(&c), 0);
	cnie_cur_init(&c, data, 1);
	v = 0xEEEE;
	assert_int_equal(cnie_cur_u16be(&c, &v), CNIE_ERR_TRUNCATED);
	assert_int_equal(v, 0xEEEE);
	/* The failed read consumed nothing, but the cursor is dead. */
	assert_int_equal(c.pos, 0);
	assert_int_equal(cnie_cur_left(&c), 0);
}

static void
test_cur_u32be_end(void **state)
{
	cnie_cur c;
	uint32_t v = 0xEEEEEEEE;

	(void)state;
	cnie_cur_init(&c, data, 4);
	assert_int_equal(cnie_cur_u32be(&c, &v), 0);
	assert_int_equal(v, 0x12345678);
	assert_int_equal(cnie_cur_end(&c), 0);
	cnie_cur_init(&c, data, 3);
	v = 0xEEEEEEEE;
	assert_int_equal(cnie_cur_u32be(&c, &v), CNIE_ERR_TRUNCATED);
	assert_int_equal(v, 0xEEEEEEEE);
}

static void
test_cur_uint_be_sizes(void **state)
{
	cnie_cur c;
	uint32_t v = 0xEEEEEEEE;

	(void)state;
	cnie_cur_init(&c, data, 3);
	assert_int_equal(cnie_cur_uint_be(&c, 0, &v), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_uint_be(&c, 5, &v), CNIE_ERR_INVALID_ARG);
	assert_int_equal(v, 0xEEEEEEEE);
	assert_int_equal(cnie_cur_uint_be(&c, 3, &v), 0);
	assert_int_equal(v, 0x123456);
	assert_int_equal(cnie_cur_end(&c), 0);
	assert_int_equal(cnie_cur_uint_be(&c, 1, &v), CNIE_ERR_TRUNCATED);
	assert_int_equal(v, 0x123456);
}

static void
test_cur_copy_end(void **state)
{
	cnie_cur c;
	uint8_t out[6];

	(void)state;
	memset(out, 0xEE, sizeof(out));
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_copy(&c, out, 5), 0);
	assert_memory_equal(out, data, 5);
	assert_int_equal(out[5], 0xEE);
	assert_int_equal(cnie_cur_copy(&c, out, 0), 0);
	memset(out, 0xEE, sizeof(out));
	cnie_cur_init(&c, data, 4);
	assert_int_equal(cnie_cur_copy(&c, out, 5), CNIE_ERR_TRUNCATED);
	assert_int_equal(out[0], 0xEE);
	cnie_cur_init(&c, data, 4);
	assert_int_equal(cnie_cur_copy(&c, NULL, 1), CNIE_ERR_INVALID_ARG);
}

static void
test_cur_take_skip_end(void **state)
{
	const uint8_t *p = NULL;
	cnie_cur c;

	(void)state;
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 1), 0);
	assert_ptr_equal(cnie_cur_peek(&c), data + 1);
	assert_int_equal(cnie_cur_take(&c, 4, &p), 0);
	assert_ptr_equal(p, data + 1);
	assert_int_equal(cnie_cur_take(&c, 0, &p), 0);
	assert_ptr_equal(p, data + 5);
	assert_int_equal(cnie_cur_end(&c), 0);
	p = NULL;
	assert_int_equal(cnie_cur_take(&c, 1, &p), CNIE_ERR_TRUNCATED);
	assert_null(p);

	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 6), CNIE_ERR_TRUNCATED);
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 5), 0);
	assert_int_equal(cnie_cur_skip(&c, 1), CNIE_ERR_TRUNCATED);
}

static void
test_cur_huge_length_no_overflow(void **state)
{
	const uint8_t *p = NULL;
	cnie_cur c;

	(void)state;
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 2), 0);
	assert_int_equal(cnie_cur_take(&c, SIZE_MAX, &p), CNIE_ERR_TRUNCATED);
	assert_null(p);
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 1), 0);
	assert_int_equal(cnie_cur_skip(&c, SIZE_MAX - 1), CNIE_ERR_TRUNCATED);
}

static void
test_cur_error_is_sticky(void **state)
{
	cnie_cur c;
	uint8_t v = 0;

	(void)state;
	cnie_cur_init(&c, data, 2);
	assert_int_equal(cnie_cur_skip(&c, 3), CNIE_ERR_TRUNCATED);
	/* A read that would have fitted now fails with the first error. */
	assert_int_equal(cnie_cur_u8(&c, &v), CNIE_ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_int_equal(cnie_cur_skip(&c, 0), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_cur_left(&c), 0);
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_TRUNCATED);

	/* A caller-set error sticks too. */
	cnie_cur_init(&c, data, 2);
	c.err = CNIE_ERR_ENCODING;
	assert_int_equal(cnie_cur_u8(&c, &v), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_ENCODING);
}

static void
test_cur_sub(void **state)
{
	cnie_cur c, sub;
	uint8_t v = 0;

	(void)state;
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_skip(&c, 1), 0);
	assert_int_equal(cnie_cur_sub(&c, 2, &sub), 0);
	assert_int_equal(cnie_cur_left(&c), 2);
	assert_int_equal(cnie_cur_left(&sub), 2);
	assert_ptr_equal(cnie_cur_peek(&sub), data + 1);
	/* The sub-cursor ends at its window, not at the parent's. */
	assert_int_equal(cnie_cur_u8(&sub, &v), 0);
	assert_int_equal(v, 0x34);
	assert_int_equal(cnie_cur_end(&sub), CNIE_ERR_TRAILING);
	assert_int_equal(cnie_cur_u8(&sub, &v), 0);
	assert_int_equal(v, 0x56);
	assert_int_equal(cnie_cur_u8(&sub, &v), CNIE_ERR_TRUNCATED);
	/* Its failure does not touch the parent. */
	assert_int_equal(c.err, 0);
	assert_int_equal(cnie_cur_u8(&c, &v), 0);
	assert_int_equal(v, 0x78);

	/* Exactly the rest, then one past. */
	assert_int_equal(cnie_cur_sub(&c, 1, &sub), 0);
	assert_int_equal(cnie_cur_end(&c), 0);
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_sub(&c, 6, &sub), CNIE_ERR_TRUNCATED);
	assert_int_equal(c.err, CNIE_ERR_TRUNCATED);
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_sub(&c, 1, NULL), CNIE_ERR_INVALID_ARG);
	/* An empty sub-cursor at the end. */
	cnie_cur_init(&c, data, 1);
	assert_int_equal(cnie_cur_skip(&c, 1), 0);
	assert_int_equal(cnie_cur_sub(&c, 0, &sub), 0);
	assert_int_equal(cnie_cur_end(&sub), 0);
	assert_int_equal(cnie_cur_u8(&sub, &v), CNIE_ERR_TRUNCATED);
}

static void
test_cur_end_trailing(void **state)
{
	cnie_cur c;

	(void)state;
	cnie_cur_init(&c, data, sizeof(data));
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_TRAILING);
	assert_int_equal(cnie_cur_skip(&c, 4), 0);
	assert_int_equal(cnie_cur_end(&c), CNIE_ERR_TRAILING);
	assert_int_equal(cnie_cur_skip(&c, 1), 0);
	assert_int_equal(cnie_cur_end(&c), 0);
	assert_int_equal(cnie_cur_end(NULL), CNIE_ERR_INVALID_ARG);
}

static void
test_cur_null_safety(void **state)
{
	const uint8_t *p = NULL;
	cnie_cur c;
	uint8_t v8 = 0;
	uint16_t v16 = 0;
	uint32_t v32 = 0;

	(void)state;
	/* NULL data with a length: the cursor starts failed. */
	cnie_cur_init(&c, NULL, 4);
	assert_int_equal(c.err, CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_left(&c), 0);
	assert_int_equal(cnie_cur_u8(&c, &v8), CNIE_ERR_INVALID_ARG);
	/* NULL data, no length: an empty, healthy cursor. */
	cnie_cur_init(&c, NULL, 0);
	assert_int_equal(cnie_cur_end(&c), 0);
	assert_null(cnie_cur_peek(&c));
	assert_int_equal(cnie_cur_take(&c, 0, &p), 0);
	assert_null(p);
	assert_int_equal(cnie_cur_u8(&c, &v8), CNIE_ERR_TRUNCATED);

	cnie_cur_init(NULL, data, 1);
	assert_int_equal(cnie_cur_left(NULL), 0);
	assert_null(cnie_cur_peek(NULL));
	assert_int_equal(cnie_cur_u8(NULL, &v8), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_u16be(NULL, &v16), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_u32be(NULL, &v32), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_take(NULL, 1, &p), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_skip(NULL, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cur_sub(NULL, 1, &c), CNIE_ERR_INVALID_ARG);

	/* Getters accept a NULL out pointer and still advance. */
	cnie_cur_init(&c, data, 3);
	assert_int_equal(cnie_cur_u8(&c, NULL), 0);
	assert_int_equal(cnie_cur_u16be(&c, NULL), 0);
	assert_int_equal(cnie_cur_end(&c), 0);
}

/* ---- owned buffer ---------------------------------------------------- */

static void
test_buf_growth(void **state)
{
	cnie_buf *b = cnie_buf_new();
	uint8_t *big;
	size_t i;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_len(b), 0);
	/* An empty buffer still gives a readable pointer. */
	assert_non_null(cnie_buf_ptr(b));
	for (i = 0; i < 1000; i++)
		assert_int_equal(cnie_buf_put_u8(b, (uint8_t)i), 0);
	assert_int_equal(cnie_buf_len(b), 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(cnie_buf_ptr(b)[i], (uint8_t)i);

	big = malloc(100000);
	assert_non_null(big);
	for (i = 0; i < 100000; i++)
		big[i] = (uint8_t)(i * 31);
	assert_int_equal(cnie_buf_put(b, big, 100000), 0);
	assert_int_equal(cnie_buf_len(b), 101000);
	assert_memory_equal(cnie_buf_ptr(b) + 1000, big, 100000);
	assert_int_equal(cnie_buf_ptr(b)[999], (uint8_t)999);
	free(big);
	cnie_buf_free(&b);
	assert_null(b);
}

static void
test_buf_put_integers(void **state)
{
	cnie_buf *b = cnie_buf_new();

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_put_u8(b, 0xA5), 0);
	assert_int_equal(cnie_buf_put_u16be(b, 0x1234), 0);
	assert_int_equal(cnie_buf_put_u32be(b, 0xDEADBEEF), 0);
	assert_int_equal(cnie_buf_put(b, NULL, 0), 0);
	assert_contents(b, "\xA5\x12\x34\xDE\xAD\xBE\xEF", 7);
	assert_int_equal(cnie_buf_put(b, NULL, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_len(b), 7);
	cnie_buf_free(&b);
}

static void
test_buf_cap(void **state)
{
	cnie_buf *b = cnie_buf_new();
	uint8_t *p = NULL;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_set_max(b, CNIE_BUF_MAX_DEFAULT + 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_set_max(b, 10), 0);
	assert_int_equal(cnie_buf_put(b, "0123456789", 10), 0);
	assert_int_equal(cnie_buf_put_u8(b, 'x'), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_put_u16be(b, 1), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_reserve(b, 1, &p), CNIE_ERR_TOO_LONG);
	assert_null(p);
	assert_contents(b, "0123456789", 10);
	/* The cap cannot go below the contents. */
	assert_int_equal(cnie_buf_set_max(b, 9), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_consume(b, 2), 0);
	assert_int_equal(cnie_buf_put(b, "ab", 2), 0);
	assert_contents(b, "23456789ab", 10);
	assert_int_equal(cnie_buf_put(b, "c", 1), CNIE_ERR_TOO_LONG);
	cnie_buf_free(&b);

	/* The default cap, without allocating anything near it. */
	b = cnie_buf_new();
	assert_non_null(b);
	assert_int_equal(cnie_buf_reserve(b, CNIE_BUF_MAX_DEFAULT + 1, &p), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_reserve(b, SIZE_MAX, &p), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_put_u8(b, 1), 0);
	assert_int_equal(cnie_buf_reserve(b, CNIE_BUF_MAX_DEFAULT, &p), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 1);
	cnie_buf_free(&b);
}

static void
test_buf_reserve(void **state)
{
	cnie_buf *b = cnie_buf_new();
	uint8_t *p = NULL;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_put_u8(b, 0x01), 0);
	assert_int_equal(cnie_buf_reserve(b, 3, &p), 0);
	assert_non_null(p);
	assert_ptr_equal(p, cnie_buf_ptr(b) + 1);
	memcpy(p, "\x02\x03\x04", 3);
	assert_contents(b, "\x01\x02\x03\x04", 4);
	assert_int_equal(cnie_buf_reserve(b, 0, NULL), 0);
	assert_int_equal(cnie_buf_len(b), 4);
	cnie_buf_free(&b);
}

static void
test_buf_consume_truncate_bounds(void **state)
{
	cnie_buf *b = cnie_buf_from("abcdef", 6);

	(void)state;
	assert_non_null(b);
	assert_int_equal(cnie_buf_consume(b, 7), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_consume(b, 0), 0);
	assert_int_equal(cnie_buf_consume(b, 2), 0);
	assert_contents(b, "cdef", 4);
	assert_int_equal(cnie_buf_truncate(b, 5), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_truncate(b, 4), 0);
	assert_int_equal(cnie_buf_truncate(b, 3), 0);
	assert_contents(b, "cde", 3);
	assert_int_equal(cnie_buf_consume(b, 3), 0);
	assert_int_equal(cnie_buf_len(b), 0);
	assert_int_equal(cnie_buf_consume(b, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_truncate(b, 0), 0);
	assert_int_equal(cnie_buf_truncate(b, 1), CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);

	/* Bounds on a never-written buffer. */
	b = cnie_buf_new();
	assert_non_null(b);
	assert_int_equal(cnie_buf_truncate(b, 0), 0);
	assert_int_equal(cnie_buf_consume(b, 0), 0);
	assert_int_equal(cnie_buf_consume(b, 1), CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);
}

static void
test_buf_reset_keeps_working(void **state)
{
	cnie_buf *b = cnie_buf_from("secret", 6);
	const uint8_t *old;

	(void)state;
	assert_non_null(b);
	old = cnie_buf_ptr(b);
	cnie_buf_reset(b);
	assert_int_equal(cnie_buf_len(b), 0);
	/* Wiped in place: the allocation is kept. */
	assert_memory_equal(old, "\0\0\0\0\0\0", 6);
	assert_int_equal(cnie_buf_put(b, "xy", 2), 0);
	assert_contents(b, "xy", 2);
	cnie_buf_free(&b);
}

static void
test_buf_put_self(void **state)
{
	cnie_buf *b = cnie_buf_new();
	uint8_t block[60];
	uint8_t want[120];

	(void)state;
	assert_non_null(b);
	memset(block, 0x5A, sizeof(block));
	block[0] = 1;
	block[59] = 2;
	assert_int_equal(cnie_buf_put(b, block, sizeof(block)), 0);
	/* Appending b to itself forces a regrowth of the source block. */
	assert_int_equal(cnie_buf_put_buf(b, b), 0);
	memcpy(want, block, 60);
	memcpy(want + 60, block, 60);
	assert_contents(b, want, 120);
	/* And a slice of itself. */
	assert_int_equal(cnie_buf_put(b, cnie_buf_ptr(b) + 59, 2), 0);
	assert_int_equal(cnie_buf_len(b), 122);
	assert_memory_equal(cnie_buf_ptr(b) + 120, "\x02\x01", 2);
	cnie_buf_free(&b);
}

static void
test_buf_from_dup_cur(void **state)
{
	cnie_buf *b, *c;
	uint8_t *out = NULL;
	size_t n = 99;
	cnie_cur cur;
	uint16_t v;

	(void)state;
	assert_null(cnie_buf_from(NULL, 1));
	b = cnie_buf_from(NULL, 0);
	assert_non_null(b);
	assert_int_equal(cnie_buf_len(b), 0);
	assert_int_equal(cnie_buf_dup(b, &out, &n), 0);
	assert_non_null(out);
	assert_int_equal(n, 0);
	free(out);
	cnie_buf_cur(b, &cur);
	assert_int_equal(cnie_cur_end(&cur), 0);
	cnie_buf_free(&b);

	b = cnie_buf_from(data, sizeof(data));
	assert_non_null(b);
	assert_int_equal(cnie_buf_dup(b, &out, &n), 0);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(out, data, sizeof(data));
	free(out);
	cnie_buf_cur(b, &cur);
	assert_int_equal(cnie_cur_u16be(&cur, &v), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(cnie_cur_left(&cur), 3);
	c = cnie_buf_new();
	assert_non_null(c);
	assert_int_equal(cnie_buf_put_buf(c, b), 0);
	assert_contents(c, data, sizeof(data));
	assert_int_equal(cnie_buf_dup(b, NULL, &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_dup(b, &out, NULL), CNIE_ERR_INVALID_ARG);
	cnie_buf_free(&b);
	cnie_buf_free(&c);
}

static void
test_hex_unhex(void **state)
{
	cnie_buf *b = cnie_buf_new();
	char hex[2 * sizeof(data) + 1];

	(void)state;
	assert_non_null(b);
	cnie_hex(data, sizeof(data), hex);
	assert_string_equal(hex, "123456789A");
	cnie_hex(data, 0, hex);
	assert_string_equal(hex, "");

	assert_int_equal(cnie_unhex("0a bc:DE\n\tf0", b), 0);
	assert_contents(b, "\x0A\xBC\xDE\xF0", 4);
	/* Bad input leaves the buffer as it was. */
	assert_int_equal(cnie_unhex("0102 0", b), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_unhex("01 zz", b), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_unhex("0x01", b), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_unhex("0 1g", b), CNIE_ERR_ENCODING);
	assert_contents(b, "\x0A\xBC\xDE\xF0", 4);
	assert_int_equal(cnie_unhex("", b), 0);
	assert_int_equal(cnie_buf_len(b), 4);
	assert_int_equal(cnie_unhex(NULL, b), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_unhex("00", NULL), CNIE_ERR_INVALID_ARG);
	/* The cap applies, and a failure leaves nothing behind. */
	assert_int_equal(cnie_buf_set_max(b, 5), 0);
	assert_int_equal(cnie_unhex("1122", b), CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_buf_len(b), 4);
	cnie_buf_free(&b);
}

static void
test_buf_null_safety(void **state)
{
	cnie_buf *nb = NULL;
	cnie_buf *b = cnie_buf_new();
	uint8_t *out = NULL;
	size_t n = 0;
	cnie_cur c;

	(void)state;
	assert_non_null(b);
	cnie_buf_free(NULL);
	cnie_buf_free(&nb);
	cnie_buf_reset(NULL);
	assert_int_equal(cnie_buf_len(NULL), 0);
	assert_null(cnie_buf_ptr(NULL));
	assert_null(cnie_buf_mutable_ptr(NULL));
	assert_int_equal(cnie_buf_set_max(NULL, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_truncate(NULL, 0), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_consume(NULL, 0), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_put(NULL, "a", 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_put(NULL, NULL, 0), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_put_u8(NULL, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_reserve(NULL, 1, &out), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_put_buf(b, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_put_buf(NULL, b), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_dup(NULL, &out, &n), CNIE_ERR_INVALID_ARG);
	cnie_buf_cur(NULL, &c);
	assert_int_equal(cnie_cur_left(&c), 0);
	assert_int_equal(cnie_cur_end(&c), 0);
	cnie_buf_free(&b);
	assert_null(b);
}

static void
test_wipe_and_compare(void **state)
{
	uint8_t s[4] = { 1, 2, 3, 4 };
	uint8_t *h;

	(void)state;
	cnie_wipe(s, sizeof(s));
	assert_memory_equal(s, "\0\0\0\0", 4);
	cnie_wipe(NULL, 4);
	cnie_freezero(NULL, 4);
	h = malloc(8);
	assert_non_null(h);
	memset(h, 0x77, 8);
	cnie_freezero(h, 8);
	assert_int_equal(cnie_memeq_ct("abcd", "abcd", 4), 0);
	assert_int_equal(cnie_memeq_ct("abcd", "abce", 4), 1);
	assert_int_equal(cnie_memeq_ct("xbcd", "abcd", 4), 1);
	assert_int_equal(cnie_memeq_ct("a", "b", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cur_u8_end),
		cmocka_unit_test(test_cur_u16be_end),
		cmocka_unit_test(test_cur_u32be_end),
		cmocka_unit_test(test_cur_uint_be_sizes),
		cmocka_unit_test(test_cur_copy_end),
		cmocka_unit_test(test_cur_take_skip_end),
		cmocka_unit_test(test_cur_huge_length_no_overflow),
		cmocka_unit_test(test_cur_error_is_sticky),
		cmocka_unit_test(test_cur_sub),
		cmocka_unit_test(test_cur_end_trailing),
		cmocka_unit_test(test_cur_null_safety),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_put_integers),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_reserve),
		cmocka_unit_test(test_buf_consume_truncate_bounds),
		cmocka_unit_test(test_buf_reset_keeps_working),
		cmocka_unit_test(test_buf_put_self),
		cmocka_unit_test(test_buf_from_dup_cur),
		cmocka_unit_test(test_hex_unhex),
		cmocka_unit_test(test_buf_null_safety),
		cmocka_unit_test(test_wipe_and_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
