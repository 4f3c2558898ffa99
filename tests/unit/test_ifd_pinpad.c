/*
 * PC/SC part 10 PIN structures of the virtual PIN pad (drivers/ifd/ifd_pinpad.c):
 * bounded parsing and PIN formatting (CCID rev 1.1 6.1.11.7-8), exact bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>

#include "ifd.h"

static size_t
mk_verify(uint8_t *b, uint8_t fmt, uint8_t block, uint8_t lenfmt, uint8_t min, uint8_t max,
    const uint8_t *tpl, size_t tlen)
{
	size_t n = 0;

	b[n++] = 5;	/* bTimerOut */
	b[n++] = 0;
	b[n++] = fmt;
	b[n++] = block;
	b[n++] = lenfmt;
	b[n++] = max;	/* wPINMaxExtraDigit, little-endian: max, then min */
	b[n++] = min;
	b[n++] = 0x02;
	b[n++] = 0x01;
	b[n++] = 0x09;
	b[n++] = 0x04;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = (uint8_t)tlen;
	b[n++] = (uint8_t)(tlen >> 8);
	b[n++] = 0;
	b[n++] = 0;
	memcpy(b + n, tpl, tlen);
	return n + tlen;
}

static size_t
mk_modify(uint8_t *b, uint8_t fmt, uint8_t block, uint8_t off_old, uint8_t off_new,
    uint8_t confirm, const uint8_t *tpl, size_t tlen)
{
	size_t n = 0;

	b[n++] = 5;
	b[n++] = 0;
	b[n++] = fmt;
	b[n++] = block;
	b[n++] = 0;
	b[n++] = off_old;
	b[n++] = off_new;
	b[n++] = 12;
	b[n++] = 4;
	b[n++] = confirm;
	b[n++] = 0x02;
	b[n++] = 0x03;
	b[n++] = 0x09;
	b[n++] = 0x04;
	b[n++] = 0;
	b[n++] = 1;
	b[n++] = 2;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = (uint8_t)tlen;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	memcpy(b + n, tpl, tlen);
	return n + tlen;
}

/* Parses s and builds with pin; checks the exact command. */
static void
expect_verify(const uint8_t *s, size_t n, const char *pin, const uint8_t *want, size_t wlen)
{
	struct ifd_pin_req req;
	uint8_t out[300];
	size_t len = 0;

	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, pin, strlen(pin), out, sizeof(out), &len), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(out, want, wlen);
}

static void
test_verify_ascii_variable_appends_digits(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };
	static const uint8_t want[] = { 0x00, 0x20, 0x00, 0x81, 0x04, '1', '2', '3', '4' };
	uint8_t s[64];
	size_t n = mk_verify(s, 0x82, 0x00, 0x00, 4, 12, tpl, sizeof(tpl));

	(void)state;
	expect_verify(s, n, "1234", want, sizeof(want));
}

static void
test_verify_ascii_padded_block_keeps_template_padding(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF };
	static const uint8_t want[] = { 0x00, 0x20, 0x00, 0x81, 0x08, '1', '2', '3', '4', 0xFF,
		0xFF, 0xFF, 0xFF };
	uint8_t s[64];
	size_t n = mk_verify(s, 0x82, 0x08, 0x00, 4, 8, tpl, sizeof(tpl));

	(void)state;
	expect_verify(s, n, "1234", want, sizeof(want));
}

/* ISO 9564 format 2 block as GemPC readers are driven: 2L P P ... F. */
static void
test_verify_bcd_format2_with_length_nibble(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x08, 0x20, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF };
	static const uint8_t want[] = { 0x00, 0x20, 0x00, 0x81, 0x08, 0x25, 0x12, 0x34, 0x5F, 0xFF,
		0xFF, 0xFF, 0xFF };
	uint8_t s[64];
	/* bytes, position 1, left, BCD; 4-bit length, 7-byte block; length at bit 4. */
	size_t n = mk_verify(s, 0x89, 0x47, 0x04, 4, 12, tpl, sizeof(tpl));

	(void)state;
	expect_verify(s, n, "12345", want, sizeof(want));
}

static void
test_verify_right_justified_ascii(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x06, '0', '0', '0', '0', '0', '0' };
	static const uint8_t want[] = { 0x00, 0x20, 0x00, 0x81, 0x06, '0', '0', '1', '2', '3',
		'4' };
	uint8_t s[64];
	size_t n = mk_verify(s, 0x86, 0x06, 0x00, 4, 6, tpl, sizeof(tpl));

	(void)state;
	expect_verify(s, n, "1234", want, sizeof(want));
}

static void
test_verify_binary_with_length_byte_and_le(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00 };
	static const uint8_t want[] = { 0x00, 0x20, 0x00, 0x81, 0x05, 0x04, 0x01, 0x02, 0x03, 0x04,
		0x00 };
	uint8_t s[64];
	/* bytes, position 1, left, binary; 8-bit length, 4-byte block; length at byte 0. */
	size_t n = mk_verify(s, 0x88, 0x84, 0x10, 4, 4, tpl, sizeof(tpl));

	(void)state;
	expect_verify(s, n, "1234", want, sizeof(want));
}

static void
test_verify_pin_length_outside_bounds_is_pin_format(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };
	struct ifd_pin_req req;
	uint8_t s[64], out[300];
	size_t n = mk_verify(s, 0x82, 0x00, 0x00, 4, 12, tpl, sizeof(tpl)), len = 99;

	(void)state;
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "123", 3, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
	assert_int_equal(len, 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "1234567890123", 13, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "12a4", 4, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "", 0, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
}

static void
test_verify_pin_longer_than_fixed_block_is_pin_format(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x04, 0xFF, 0xFF, 0xFF, 0xFF };
	struct ifd_pin_req req;
	uint8_t s[64], out[300];
	size_t n = mk_verify(s, 0x82, 0x04, 0x00, 4, 12, tpl, sizeof(tpl)), len;

	(void)state;
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "12345", 5, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
}

static void
test_parse_rejects_inconsistent_structures(void **state)
{
	static const uint8_t tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };
	struct ifd_pin_req req;
	uint8_t s[64];
	size_t n = mk_verify(s, 0x82, 0x00, 0x00, 4, 12, tpl, sizeof(tpl));

	(void)state;
	/* Header cut short, body shorter or longer than ulDataLength. */
	assert_int_equal(ifd_pin_parse(s, 18, false, &req), CNIE_ERR_TRUNCATED);
	assert_int_equal(ifd_pin_parse(s, n - 1, false, &req), CNIE_ERR_TRUNCATED);
	s[n] = 0;
	assert_int_equal(ifd_pin_parse(s, n + 1, false, &req), CNIE_ERR_TRAILING);
	/* ulDataLength of 2^32 - 1 does not wrap anything. */
	s[15] = s[16] = s[17] = s[18] = 0xFF;
	assert_int_equal(ifd_pin_parse(s, n, false, &req), CNIE_ERR_TRUNCATED);
	/* Template shorter than an APDU header. */
	n = mk_verify(s, 0x82, 0x00, 0x00, 4, 12, tpl, 3);
	assert_int_equal(ifd_pin_parse(s, n, false, &req), CNIE_ERR_ENCODING);
	/* min > max, RFU PIN format. */
	n = mk_verify(s, 0x82, 0x00, 0x00, 9, 8, tpl, sizeof(tpl));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), CNIE_ERR_ENCODING);
	n = mk_verify(s, 0x83, 0x00, 0x00, 4, 8, tpl, sizeof(tpl));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), CNIE_ERR_ENCODING);
	assert_int_equal(ifd_pin_parse(NULL, 0, false, &req), CNIE_ERR_TRUNCATED);
}

static void
test_build_rejects_templates_that_cannot_hold_the_pin(void **state)
{
	static const uint8_t fixed_small[] = { 0x00, 0x20, 0x00, 0x81, 0x04, 0xFF, 0xFF, 0xFF,
		0xFF };
	static const uint8_t lc_without_data[] = { 0x00, 0x20, 0x00, 0x81, 0x08 };
	static const uint8_t extended[] = { 0x00, 0x20, 0x00, 0x81, 0x00, 0x00, 0x04, 0xFF, 0xFF,
		0xFF, 0xFF };
	struct ifd_pin_req req;
	uint8_t s[64], out[300];
	size_t n, len;

	(void)state;
	/* A fixed 8-byte block in a 4-byte data field. */
	n = mk_verify(s, 0x82, 0x08, 0x00, 4, 8, fixed_small, sizeof(fixed_small));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "1234", 4, out, sizeof(out), &len),
	    CNIE_ERR_ENCODING);
	n = mk_verify(s, 0x82, 0x00, 0x00, 4, 8, lc_without_data, sizeof(lc_without_data));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "1234", 4, out, sizeof(out), &len),
	    CNIE_ERR_ENCODING);
	n = mk_verify(s, 0x82, 0x00, 0x00, 4, 8, extended, sizeof(extended));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "1234", 4, out, sizeof(out), &len),
	    CNIE_ERR_ENCODING);
	/* The output buffer is checked before it is written. */
	n = mk_verify(s, 0x82, 0x04, 0x00, 4, 4, fixed_small, sizeof(fixed_small));
	assert_int_equal(ifd_pin_parse(s, n, false, &req), 0);
	memset(out, 0xEE, sizeof(out));
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "1234", 4, out, 8, &len),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(out[0], 0xEE);
}

static void
test_modify_places_old_and_new_blocks(void **state)
{
	uint8_t tpl[5 + 24], want[5 + 24], s[80], out[300];
	struct ifd_pin_req req;
	size_t n, len;

	(void)state;
	memcpy(tpl, (const uint8_t[]){ 0x00, 0x24, 0x00, 0x81, 0x18 }, 5);
	memset(tpl + 5, 0xFF, 24);
	memcpy(want, tpl, sizeof(tpl));
	memcpy(want + 5, "1234", 4);
	memcpy(want + 5 + 12, "567890", 6);
	n = mk_modify(s, 0x82, 0x0C, 0, 12, 0x03, tpl, sizeof(tpl));
	assert_int_equal(ifd_pin_parse(s, n, true, &req), 0);
	assert_int_equal(req.confirm, 0x03);
	assert_int_equal(ifd_pin_build(&req, "1234", 4, "567890", 6, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	/* The current PIN is checked against the bounds too. */
	assert_int_equal(ifd_pin_build(&req, "12", 2, "567890", 6, out, sizeof(out), &len),
	    CNIE_ERR_PIN_FORMAT);
}

static void
test_modify_without_current_pin_places_only_new(void **state)
{
	uint8_t tpl[5 + 12], want[5 + 12], s[80], out[300];
	struct ifd_pin_req req;
	size_t n, len;

	(void)state;
	memcpy(tpl, (const uint8_t[]){ 0x00, 0x2C, 0x02, 0x81, 0x0C }, 5);
	memset(tpl + 5, 0xFF, 12);
	memcpy(want, tpl, sizeof(tpl));
	memcpy(want + 5, "5678", 4);
	n = mk_modify(s, 0x82, 0x0C, 0, 0, 0x01, tpl, sizeof(tpl));
	assert_int_equal(ifd_pin_parse(s, n, true, &req), 0);
	assert_int_equal(ifd_pin_build(&req, NULL, 0, "5678", 4, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_modify_rejects_advanced_confirm_bits(void **state)
{
	uint8_t tpl[5 + 12], s[80];
	struct ifd_pin_req req;
	size_t n;

	(void)state;
	memcpy(tpl, (const uint8_t[]){ 0x00, 0x24, 0x00, 0x81, 0x0C }, 5);
	memset(tpl + 5, 0xFF, 12);
	n = mk_modify(s, 0x82, 0x0C, 0, 0, 0x04, tpl, sizeof(tpl));
	assert_int_equal(ifd_pin_parse(s, n, true, &req), CNIE_ERR_UNSUPPORTED);
	/* A verify structure is too short to be read as a modify one. */
	n = mk_verify(s, 0x82, 0x0C, 0, 4, 12, tpl, sizeof(tpl));
	assert_int_not_equal(ifd_pin_parse(s, n, true, &req), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_ascii_variable_appends_digits),
		cmocka_unit_test(test_verify_ascii_padded_block_keeps_template_padding),
		cmocka_unit_test(test_verify_bcd_format2_with_length_nibble),
		cmocka_unit_test(test_verify_right_justified_ascii),
		cmocka_unit_test(test_verify_binary_with_length_byte_and_le),
		cmocka_unit_test(test_verify_pin_length_outside_bounds_is_pin_format),
		cmocka_unit_test(test_verify_pin_longer_than_fixed_block_is_pin_format),
		cmocka_unit_test(test_parse_rejects_inconsistent_structures),
		cmocka_unit_test(test_build_rejects_templates_that_cannot_hold_the_pin),
		cmocka_unit_test(test_modify_places_old_and_new_blocks),
		cmocka_unit_test(test_modify_without_current_pin_places_only_new),
		cmocka_unit_test(test_modify_rejects_advanced_confirm_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
