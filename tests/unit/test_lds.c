/*
 * Unit tests for the LDS parsers (src/libcnie/lds.c): the data groups of the
 * generated test cards (CNIE_BUILD_DIR/cards/...) and hand-built hostile
 * inputs.
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
#include <cnie/lds.h>
#include <cnie/tlv.h>

#include "unitutil.h"

/* Wraps value (hex) in one TLV of tag. */
static cnie_buf *
wrap(uint32_t tag, const char *hex)
{
	cnie_buf *v = tu_hex(hex), *b = cnie_buf_new();

	assert_non_null(b);
	assert_int_equal(cnie_tlv_put(b, tag, cnie_buf_ptr(v), cnie_buf_len(v)), 0);
	cnie_buf_free(&v);
	return b;
}

/* ---- EF.COM ---------------------------------------------------------- */

static void
test_com_card(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "011E");
	cnie_lds_com *com = NULL;
	static const int want[] = { 1, 2, 11, 12, 14, 15 };

	(void)state;
	assert_int_equal(cnie_lds_com_parse(cnie_buf_ptr(b), cnie_buf_len(b), &com), 0);
	assert_string_equal(com->lds_version, "0107");
	assert_string_equal(com->unicode_version, "040000");
	assert_int_equal(com->ndgs, 6);
	assert_memory_equal(com->dgs, want, sizeof(want));
	cnie_lds_com_free(&com);
	assert_null(com);
	cnie_buf_free(&b);
}

/* The 9303-11 App. D worked example's EF.COM. */
static void
test_com_icao_example(void **state)
{
	cnie_buf *b = tu_hex("60145F0104303130365F36063034303030305C026175");
	cnie_lds_com *com = NULL;

	(void)state;
	assert_int_equal(cnie_lds_com_parse(cnie_buf_ptr(b), cnie_buf_len(b), &com), 0);
	assert_string_equal(com->lds_version, "0106");
	assert_int_equal(com->ndgs, 2);
	assert_int_equal(com->dgs[0], 1);
	assert_int_equal(com->dgs[1], 2);
	cnie_lds_com_free(&com);
	cnie_buf_free(&b);
}

static int
com_hex(const char *hex)
{
	cnie_buf *b = tu_hex(hex);
	cnie_lds_com *com = (cnie_lds_com *)1;
	int r;

	r = cnie_lds_com_parse(cnie_buf_ptr(b), cnie_buf_len(b), &com);
	if (r != 0)
		assert_null(com);
	cnie_lds_com_free(&com);
	cnie_buf_free(&b);
	return r;
}

static void
test_com_hostile(void **state)
{
	(void)state;
	/* Wrong outer tag. */
	assert_int_equal(com_hex("61145F0104303130365F36063034303030305C026175"),
	    CNIE_ERR_ENCODING);
	/* Unknown tag (0x71) and a repeated tag in the list. */
	assert_int_equal(com_hex("60145F0104303130365F36063034303030305C026171"),
	    CNIE_ERR_ENCODING);
	assert_int_equal(com_hex("60145F0104303130365F36063034303030305C026161"),
	    CNIE_ERR_ENCODING);
	/* No LDS version. */
	assert_int_equal(com_hex("600D5F36063034303030305C026175"), CNIE_ERR_ENCODING);
	/* Letters in the version. */
	assert_int_equal(com_hex("60145F0104303130415F36063034303030305C026175"),
	    CNIE_ERR_ENCODING);
	/* Truncated, trailing byte. */
	assert_int_equal(com_hex("60145F0104303130365F36063034303030305C0261"),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(com_hex("60145F0104303130365F36063034303030305C02617500"),
	    CNIE_ERR_TRAILING);
	assert_int_equal(com_hex(""), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_lds_com_parse(NULL, 0, NULL), CNIE_ERR_INVALID_ARG);
}

/* ---- DG1 ------------------------------------------------------------- */

static void
test_dg1_card(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "0101");
	cnie_lds_dg1 *dg1 = NULL;
	cnie_mrz_field bad = CNIE_MRZ_FIELD_LAYOUT;
	char info[32];

	(void)state;
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, &bad), 0);
	assert_int_equal(bad, CNIE_MRZ_FIELD_NONE);
	assert_int_equal(dg1->mrz.format, CNIE_MRZ_TD1);
	assert_string_equal(dg1->mrz.issuing_state, "MAR");
	assert_string_equal(dg1->mrz.document_number, "ZT0000001");
	assert_string_equal(dg1->mrz.birth_date, "900315");
	assert_int_equal(dg1->mrz.sex, 'F');
	assert_string_equal(dg1->mrz.expiry_date, "310630");
	assert_string_equal(dg1->mrz.nationality, "MAR");
	assert_string_equal(dg1->mrz.primary_identifier, "BENALI");
	assert_string_equal(dg1->mrz.secondary_identifier, "FATIMA ZAHRA");
	assert_int_equal(cnie_mrz_access_info(&dg1->mrz, info, sizeof(info)), 0);
	assert_string_equal(info, "ZT0000001390031523106305");
	cnie_lds_dg1_free(&dg1);
	assert_null(dg1);
	cnie_buf_free(&b);
}

static void
test_dg1_tampered_mrz(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "0101");
	cnie_lds_dg1 *dg1 = NULL;
	cnie_mrz_field bad;

	(void)state;
	/* Birth year 90 -> 91: header is 5 bytes (61 5D 5F1F 5A), line 2 at +30. */
	cnie_buf_mutable_ptr(b)[5 + 30 + 1] = '1';
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, &bad),
	    CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_BIRTH_DATE);
	assert_null(dg1);
	cnie_buf_free(&b);
}

static void
test_dg1_hostile(void **state)
{
	cnie_lds_dg1 *dg1 = NULL;
	cnie_buf *b;

	(void)state;
	/* 5F1F with an extra TLV after it. */
	b = tu_hex("61085F1F0241410201");
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, NULL),
	    CNIE_ERR_TRUNCATED);
	cnie_buf_free(&b);
	b = tu_hex("61085F1F024141020100");
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, NULL),
	    CNIE_ERR_TRAILING);
	cnie_buf_free(&b);
	/* Right structure, MRZ of a wrong length. */
	b = wrap(0x61, "5F1F024141");
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, NULL),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	/* Other tag inside. */
	b = wrap(0x61, "5F20024141");
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg1, NULL),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	assert_null(dg1);
}

/* ---- DG2 ------------------------------------------------------------- */

static void
test_dg2_card(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "0102");
	cnie_lds_dg2 *dg2 = NULL;

	(void)state;
	assert_int_equal(cnie_lds_dg2_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dg2), 0);
	assert_int_equal(dg2->instances, 1);
	assert_int_equal(dg2->format, CNIE_LDS_IMAGE_JPEG);
	assert_int_equal(dg2->width, 240);
	assert_int_equal(dg2->height, 320);
	assert_int_equal(dg2->gender, 2);
	/* 75, 7F61, 02, 7F60, A1 and 5F2E headers (39 bytes), 46 record header bytes. */
	assert_int_equal(dg2->image_len, cnie_buf_len(b) - 39 - 46);
	assert_memory_equal(dg2->image, cnie_buf_ptr(b) + 39 + 46, dg2->image_len);
	assert_int_equal(dg2->image[0], 0xFF);
	assert_int_equal(dg2->image[1], 0xD8);
	cnie_lds_dg2_free(&dg2);
	assert_null(dg2);
	cnie_buf_free(&b);
}

/*
 * A DG2 with one facial record: npoints feature points, image data type
 * dtype, the image bytes, and the record length field off by delta.
 */
static cnie_buf *
make_dg2(uint8_t dtype, const char *image_hex, uint16_t npoints, int delta)
{
	cnie_buf *img = tu_hex(image_hex), *rec = cnie_buf_new(), *d = cnie_buf_new();
	size_t blk = 20 + (size_t)npoints * 8 + 12 + cnie_buf_len(img);
	size_t m1, m2, m3, m4, i;

	assert_non_null(rec);
	assert_non_null(d);
	assert_int_equal(cnie_buf_put(rec, "FAC\0" "010\0", 8), 0);
	assert_int_equal(cnie_buf_put_u32be(rec, (uint32_t)((int)(14 + blk) + delta)), 0);
	assert_int_equal(cnie_buf_put_u16be(rec, 1), 0);
	assert_int_equal(cnie_buf_put_u32be(rec, (uint32_t)blk), 0);
	assert_int_equal(cnie_buf_put_u16be(rec, npoints), 0);
	assert_int_equal(cnie_buf_put(rec, "\1\0\0\0\0\0\0\1\0\0\0\0\0\0", 14), 0);
	for (i = 0; i < npoints; i++)
		assert_int_equal(cnie_buf_put(rec, "\1\1\0\10\0\20\0\0", 8), 0);
	assert_int_equal(cnie_buf_put_u8(rec, 1), 0);
	assert_int_equal(cnie_buf_put_u8(rec, dtype), 0);
	assert_int_equal(cnie_buf_put_u16be(rec, 0x1A0), 0);
	assert_int_equal(cnie_buf_put_u16be(rec, 0x200), 0);
	assert_int_equal(cnie_buf_put(rec, "\1\0\0\0\0\0", 6), 0);
	assert_int_equal(cnie_buf_put_buf(rec, img), 0);
	assert_int_equal(cnie_tlv_open(d, 0x75, &m1), 0);
	assert_int_equal(cnie_tlv_open(d, 0x7F61, &m2), 0);
	assert_int_equal(cnie_tlv_put(d, 0x02, "\x01", 1), 0);
	assert_int_equal(cnie_tlv_open(d, 0x7F60, &m3), 0);
	assert_int_equal(cnie_tlv_open(d, 0xA1, &m4), 0);
	assert_int_equal(cnie_tlv_put(d, 0x81, "\x02", 1), 0);
	assert_int_equal(cnie_tlv_close(d, m4), 0);
	assert_int_equal(cnie_tlv_put(d, 0x5F2E, cnie_buf_ptr(rec), cnie_buf_len(rec)), 0);
	assert_int_equal(cnie_tlv_close(d, m3), 0);
	assert_int_equal(cnie_tlv_close(d, m2), 0);
	assert_int_equal(cnie_tlv_close(d, m1), 0);
	cnie_buf_free(&img);
	cnie_buf_free(&rec);
	return d;
}

static int
dg2_parse_buf(cnie_buf *b, cnie_lds_dg2 **out)
{
	int r = cnie_lds_dg2_parse(cnie_buf_ptr(b), cnie_buf_len(b), out);

	cnie_buf_free(&b);
	return r;
}

static void
test_dg2_jpeg2000_with_feature_points(void **state)
{
	cnie_lds_dg2 *dg2 = NULL;

	(void)state;
	assert_int_equal(dg2_parse_buf(make_dg2(1, "0000000C6A5020200D0A870A", 2, 0), &dg2), 0);
	assert_int_equal(dg2->format, CNIE_LDS_IMAGE_JPEG2000);
	assert_int_equal(dg2->width, 0x1A0);
	assert_int_equal(dg2->height, 0x200);
	assert_int_equal(dg2->image_len, 12);
	assert_int_equal(dg2->image[4], 0x6A);
	cnie_lds_dg2_free(&dg2);
	/* A raw J2K codestream is JPEG 2000 too. */
	assert_int_equal(dg2_parse_buf(make_dg2(1, "FF4FFF510000", 0, 0), &dg2), 0);
	assert_int_equal(dg2->image_len, 6);
	cnie_lds_dg2_free(&dg2);
}

static void
test_dg2_hostile(void **state)
{
	cnie_lds_dg2 *dg2 = NULL;

	(void)state;
	/* Image type says JPEG, bytes are JPEG 2000, and the reverse. */
	assert_int_equal(dg2_parse_buf(make_dg2(0, "0000000C6A502020", 0, 0), &dg2),
	    CNIE_ERR_ENCODING);
	assert_int_equal(dg2_parse_buf(make_dg2(1, "FFD8FFE0", 0, 0), &dg2), CNIE_ERR_ENCODING);
	/* Unknown image data type. */
	assert_int_equal(dg2_parse_buf(make_dg2(2, "FFD8FFE0", 0, 0), &dg2),
	    CNIE_ERR_UNSUPPORTED);
	/* Record length larger / smaller than the data object. */
	assert_int_equal(dg2_parse_buf(make_dg2(0, "FFD8FFE0", 0, 1), &dg2), CNIE_ERR_TRUNCATED);
	assert_int_equal(dg2_parse_buf(make_dg2(0, "FFD8FFE0", 0, -1), &dg2), CNIE_ERR_TRAILING);
	/* No image bytes at all. */
	assert_int_equal(dg2_parse_buf(make_dg2(0, "", 0, 0), &dg2), CNIE_ERR_TRUNCATED);
	/* Missing instance count; wrong template. */
	assert_int_equal(dg2_parse_buf(wrap(0x75, "7F6103A10100"), &dg2), CNIE_ERR_ENCODING);
	assert_int_equal(dg2_parse_buf(wrap(0x75, "7F6203020101"), &dg2), CNIE_ERR_ENCODING);
	/* Count but no instance. */
	assert_int_equal(dg2_parse_buf(wrap(0x75, "7F6103020101"), &dg2), CNIE_ERR_ENCODING);
	/* A record header and nothing after it; then not "FAC\0". */
	assert_int_equal(dg2_parse_buf(wrap(0x75,
	    "7F61 19 020101 7F60 13 A100 5F2E 0E 46414300 30313000 0000000E 0001"), &dg2),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(dg2_parse_buf(wrap(0x75,
	    "7F61 19 020101 7F60 13 A100 5F2E 0E 46414358 30313000 0000000E 0001"), &dg2),
	    CNIE_ERR_ENCODING);
	assert_null(dg2);
}

static void
test_dg2_card_truncated(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "0102");
	cnie_lds_dg2 *dg2 = NULL;

	(void)state;
	assert_int_equal(cnie_lds_dg2_parse(cnie_buf_ptr(b), cnie_buf_len(b) - 1, &dg2),
	    CNIE_ERR_TRUNCATED);
	assert_null(dg2);
	cnie_buf_free(&b);
}

/* ---- DG11 / DG12 ----------------------------------------------------- */

static void
test_dg11_card_arabic(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "010B");
	cnie_lds_dg11 *d = NULL;

	(void)state;
	assert_int_equal(cnie_lds_dg11_parse(cnie_buf_ptr(b), cnie_buf_len(b), &d), 0);
	assert_string_equal(d->full_name, "BENALI<<FATIMA ZAHRA");
	assert_int_equal(d->n_other_names, 1);
	assert_string_equal(d->other_names[0], "بنعلي<<فاطمة الزهراء");
	assert_string_equal(d->full_birth_date, "19900315");
	assert_string_equal(d->place_of_birth, "RABAT<MAR");
	assert_null(d->address);
	assert_null(d->personal_number);
	cnie_lds_dg11_free(&d);
	assert_null(d);
	cnie_buf_free(&b);
}

static int
dg11_hex(const char *inner, cnie_lds_dg11 **out)
{
	cnie_buf *b = wrap(0x6B, inner);
	int r = cnie_lds_dg11_parse(cnie_buf_ptr(b), cnie_buf_len(b), out);

	cnie_buf_free(&b);
	if (r != 0)
		assert_null(*out);
	return r;
}

static void
test_dg11_all_fields(void **state)
{
	cnie_lds_dg11 *d = NULL;

	(void)state;
	assert_int_equal(dg11_hex("5C02 5F10"
	    "5F0E 01 41 5F0F 01 42 5F0F 01 43 5F10 01 44 5F2B 04 19900315"
	    "5F11 01 45 5F42 01 46 5F12 01 47 5F13 01 48 5F14 01 49 5F15 01 4A"
	    "5F16 01 4B 5F17 01 4C 5F18 01 4D 5F7F 02 FFFF", &d), 0);
	assert_string_equal(d->full_name, "A");
	assert_int_equal(d->n_other_names, 2);
	assert_string_equal(d->other_names[1], "C");
	assert_string_equal(d->personal_number, "D");
	/* BCD date converted. */
	assert_string_equal(d->full_birth_date, "19900315");
	assert_string_equal(d->place_of_birth, "E");
	assert_string_equal(d->address, "F");
	assert_string_equal(d->telephone, "G");
	assert_string_equal(d->profession, "H");
	assert_string_equal(d->title, "I");
	assert_string_equal(d->personal_summary, "J");
	assert_string_equal(d->proof_of_citizenship, "K");
	assert_string_equal(d->other_travel_docs, "L");
	assert_string_equal(d->custody_info, "M");
	cnie_lds_dg11_free(&d);
}

static void
test_dg11_invalid_utf8(void **state)
{
	cnie_lds_dg11 *d = NULL;

	(void)state;
	assert_int_equal(dg11_hex("5F0E 02 C080", &d), CNIE_ERR_ENCODING);   /* overlong */
	assert_int_equal(dg11_hex("5F0E 03 EDA080", &d), CNIE_ERR_ENCODING); /* surrogate */
	assert_int_equal(dg11_hex("5F0E 02 D8A8 5F42 02 E282", &d), CNIE_ERR_ENCODING);
	assert_int_equal(dg11_hex("5F0E 04 F4908080", &d), CNIE_ERR_ENCODING); /* > 10FFFF */
	assert_int_equal(dg11_hex("5F0E 03 410042", &d), CNIE_ERR_ENCODING);   /* NUL */
	assert_int_equal(dg11_hex("5F0E 01 80", &d), CNIE_ERR_ENCODING);
	/* Same field twice, list count wrong, a primitive A0. */
	assert_int_equal(dg11_hex("5F0E 01 41 5F0E 01 41", &d), CNIE_ERR_ENCODING);
	assert_int_equal(dg11_hex("A0 07 020102 5F0F 01 41", &d), CNIE_ERR_ENCODING);
	assert_int_equal(dg11_hex("80 00", &d), 0);
	cnie_lds_dg11_free(&d);
	assert_int_equal(dg11_hex("A0 00", &d), 0);
	cnie_lds_dg11_free(&d);
	/* BCD with a nibble above 9. */
	assert_int_equal(dg11_hex("5F2B 04 1990031A", &d), CNIE_ERR_ENCODING);
	/* Too deep. */
	assert_int_equal(dg11_hex("A0 06 A1 04 A2 02 A3 00", &d), CNIE_ERR_NESTING);
}

static void
test_utf8_check(void **state)
{
	(void)state;
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xF0\x9F\x98\x80", 4), 0);
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xEF\xBF\xBF", 3), 0);
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xE0\x80\xAF", 3),
	    CNIE_ERR_ENCODING);
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xF0\x8F\xBF\xBF", 4),
	    CNIE_ERR_ENCODING);
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xC3", 1), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_lds_utf8_check((const uint8_t *)"\xFF", 1), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_lds_utf8_check(NULL, 0), 0);
}

static void
test_dg12_card(void **state)
{
	cnie_buf *b = tu_lds_file("ec", "010C");
	cnie_lds_dg12 *d = NULL;

	(void)state;
	assert_int_equal(cnie_lds_dg12_parse(cnie_buf_ptr(b), cnie_buf_len(b), &d), 0);
	assert_string_equal(d->issuing_authority, "DGSN TEST");
	assert_string_equal(d->date_of_issue, "20210630");
	assert_null(d->endorsements);
	assert_int_equal(d->n_other_persons, 0);
	cnie_lds_dg12_free(&d);
	assert_null(d);
	cnie_buf_free(&b);
}

static void
test_dg12_all_fields(void **state)
{
	cnie_buf *b = wrap(0x6C, "5F19 02 D985 5F26 04 20210630 A0 0B 020102 5F1A 01 50"
	    "5F1A 01 51 5F1B 01 52 5F1C 01 53 5F55 0E 3230323130363330313230303030"
	    "5F56 02 3031 5F1D 02 FFD8");
	cnie_lds_dg12 *d = NULL;

	(void)state;
	assert_int_equal(cnie_lds_dg12_parse(cnie_buf_ptr(b), cnie_buf_len(b), &d), 0);
	assert_string_equal(d->issuing_authority, "م");
	assert_string_equal(d->date_of_issue, "20210630");
	assert_int_equal(d->n_other_persons, 2);
	assert_string_equal(d->other_persons[0], "P");
	assert_string_equal(d->other_persons[1], "Q");
	assert_string_equal(d->endorsements, "R");
	assert_string_equal(d->tax_exit, "S");
	assert_string_equal(d->personalisation_time, "20210630120000");
	assert_string_equal(d->personaliser_serial, "01");
	cnie_lds_dg12_free(&d);
	cnie_buf_free(&b);
	/* Wrong outer tag (DG11's). */
	b = wrap(0x6B, "5F19 01 41");
	assert_int_equal(cnie_lds_dg12_parse(cnie_buf_ptr(b), cnie_buf_len(b), &d),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	b = wrap(0x6C, "5F19 01 FF");
	assert_int_equal(cnie_lds_dg12_parse(cnie_buf_ptr(b), cnie_buf_len(b), &d),
	    CNIE_ERR_ENCODING);
	cnie_buf_free(&b);
	assert_null(d);
}

static void
test_tag_mapping(void **state)
{
	(void)state;
	assert_int_equal(cnie_lds_tag_to_dg(0x61), 1);
	assert_int_equal(cnie_lds_tag_to_dg(0x75), 2);
	assert_int_equal(cnie_lds_tag_to_dg(0x70), 16);
	assert_int_equal(cnie_lds_tag_to_dg(0x77), 0);
	assert_int_equal(cnie_lds_dg_to_tag(11), 0x6B);
	assert_int_equal(cnie_lds_dg_to_tag(0), 0);
	assert_int_equal(cnie_lds_dg_to_tag(17), 0);
}

/* DG14 ActiveAuthenticationInfo (9303-11 9.2.9) -> the ECDSA-plain hash; hostile forms. */
static void
test_dg14_aa_hash(void **state)
{
	static const struct {
		const char *hex;
		int r;
		cnie_card_hash h;
	} cases[] = {
		/* 6E { 31 { 30 { aaProtocolObject, 1, ecdsa-plain-SHA256 } } } */
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401 03", 0,
		    CNIE_CARD_HASH_SHA256 },
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401 01", 0,
		    CNIE_CARD_HASH_SHA1 },
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401 05", 0,
		    CNIE_CARD_HASH_SHA512 },
		/* ecdsa-plain-RIPEMD160 (6), arc 0: not a hash we take. */
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401 06",
		    CNIE_ERR_UNSUPPORTED, CNIE_CARD_HASH_NONE },
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401 00",
		    CNIE_ERR_UNSUPPORTED, CNIE_CARD_HASH_NONE },
		/* version 2 */
		{ "6E1B3119301706066781080101050201 02060A04007F000701010401 03",
		    CNIE_ERR_UNSUPPORTED, CNIE_CARD_HASH_NONE },
		/* X9.62 ecdsa-with-SHA256 (DER signatures): not what 9303-11 names. */
		{ "6E193117301506066781080101050201 0106082A8648CE3D040302",
		    CNIE_ERR_UNSUPPORTED, CNIE_CARD_HASH_NONE },
		/* a trailing element in the info */
		{ "6E1D311B301906066781080101050201 01060A04007F000701010401 030500",
		    CNIE_ERR_TRAILING, CNIE_CARD_HASH_NONE },
		/* no AA info: only a ChipAuthenticationInfo */
		{ "6E1331113 00F060A04007F000702020302020201 01", CNIE_ERR_NOT_FOUND,
		    CNIE_CARD_HASH_NONE },
		/* wrong outer tag, not a SET, truncated, version not INTEGER */
		{ "6F1B3119301706066781080101050201 01060A04007F000701010401 03",
		    CNIE_ERR_ENCODING, CNIE_CARD_HASH_NONE },
		{ "6E1B3019301706066781080101050201 01060A04007F000701010401 03",
		    CNIE_ERR_ENCODING, CNIE_CARD_HASH_NONE },
		{ "6E1B3119301706066781080101050201 01060A04007F000701010401",
		    CNIE_ERR_TRUNCATED, CNIE_CARD_HASH_NONE },
		{ "6E1B3119301706066781080101050401 01060A04007F000701010401 03",
		    CNIE_ERR_ENCODING, CNIE_CARD_HASH_NONE },
		{ "", CNIE_ERR_TRUNCATED, CNIE_CARD_HASH_NONE },
	};
	cnie_card_hash h;
	cnie_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = tu_hex(cases[i].hex);
		h = CNIE_CARD_HASH_SHA384;
		if (cnie_lds_dg14_aa_hash(cnie_buf_ptr(b), cnie_buf_len(b), &h) != cases[i].r)
			fail_msg("case %zu: %d", i,
			    cnie_lds_dg14_aa_hash(cnie_buf_ptr(b), cnie_buf_len(b), &h));
		assert_int_equal(h, cases[i].h);
		cnie_buf_free(&b);
	}
	assert_int_equal(cnie_lds_dg14_aa_hash(NULL, 0, NULL), CNIE_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_com_card),
		cmocka_unit_test(test_com_icao_example),
		cmocka_unit_test(test_com_hostile),
		cmocka_unit_test(test_dg1_card),
		cmocka_unit_test(test_dg1_tampered_mrz),
		cmocka_unit_test(test_dg1_hostile),
		cmocka_unit_test(test_dg2_card),
		cmocka_unit_test(test_dg2_jpeg2000_with_feature_points),
		cmocka_unit_test(test_dg2_hostile),
		cmocka_unit_test(test_dg2_card_truncated),
		cmocka_unit_test(test_dg11_card_arabic),
		cmocka_unit_test(test_dg11_all_fields),
		cmocka_unit_test(test_dg11_invalid_utf8),
		cmocka_unit_test(test_utf8_check),
		cmocka_unit_test(test_dg12_card),
		cmocka_unit_test(test_dg12_all_fields),
		cmocka_unit_test(test_tag_mapping),
		cmocka_unit_test(test_dg14_aa_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
