/*
 * Unit tests for the MRZ parser (src/libcnie/mrz.c) with the specimen MRZs of
 * ICAO 9303-4 (TD3), -5 (TD1, incl. the long document number) and -6 (TD2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>
#include <cnie/mrz.h>

#define TD1_L1 "I<UTOD231458907<<<<<<<<<<<<<<<"
#define TD1_L2 "7408122F1204159UTO<<<<<<<<<<<6"
#define TD1_L3 "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
#define TD1 TD1_L1 TD1_L2 TD1_L3

#define TD2_L1 "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<"
#define TD2_L2 "D231458907UTO7408122F1204159<<<<<<<6"

#define TD3_L1 "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
#define TD3_L2 "L898902C36UTO7408122F1204159ZE184226B<<<<<10"

/* 9303-5 4.2.4 long document number D23145890734 (overflow in optional data). */
#define TD1_LONG "I<UTOD23145890<7349<<<<<<<<<<<" \
		 "3407127M9507122UTO<<<<<<<<<<<2" \
		 "STEVENSON<<PETER<JOHN<<<<<<<<<"

static int
parse(const char *s, cnie_mrz *m, cnie_mrz_field *bad)
{
	return cnie_mrz_parse(s, strlen(s), m, bad);
}

/* Copies s, sets s[pos] = c, parses; returns the error. */
static int
parse_mut(const char *s, size_t pos, char c, cnie_mrz_field *bad)
{
	char tmp[200];
	cnie_mrz m;

	assert_true(strlen(s) < sizeof(tmp));
	strcpy(tmp, s);
	tmp[pos] = c;
	return parse(tmp, &m, bad);
}

/*
 * TD3 specimen with the birth date replaced by date (6 characters), its
 * check digit and the composite recomputed: only the range check can fail.
 */
static int
parse_td3_birth(const char *date, cnie_mrz_field *bad)
{
	char l2[45], comp[40], text[100];
	cnie_mrz m;
	int d;

	strcpy(l2, TD3_L2);
	memcpy(l2 + 13, date, 6);
	d = cnie_mrz_check_digit(l2 + 13, 6);
	l2[19] = (char)('0' + d);
	memcpy(comp, l2, 10);
	memcpy(comp + 10, l2 + 13, 7);
	memcpy(comp + 17, l2 + 21, 22);
	l2[43] = (char)('0' + cnie_mrz_check_digit(comp, 39));
	snprintf(text, sizeof(text), "%s\n%s", TD3_L1, l2);
	return parse(text, &m, bad);
}

/* Date fields: month 01-12, day 01-31 within the month, '<<' for unknown parts. */
static void
test_date_ranges(void **state)
{
	static const char *const good[] = { "740812", "740229", "741231", "7408<<", "74<<<<",
		"<<<<<<", "000101" };
	static const char *const bad_dates[] = { "741301", "740001", "740230", "740431",
		"740800", "740832", "7408<1", "74<812" };
	cnie_mrz_field bad;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(parse_td3_birth(good[i], &bad), 0);
	for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		assert_int_equal(parse_td3_birth(bad_dates[i], &bad), CNIE_ERR_ENCODING);
		assert_int_equal(bad, CNIE_MRZ_FIELD_BIRTH_DATE);
	}
}

static void
test_check_digit_known_values(void **state)
{
	(void)state;
	assert_int_equal(cnie_mrz_check_digit("L898902C<", 9), 3);
	assert_int_equal(cnie_mrz_check_digit("740812", 6), 2);
	assert_int_equal(cnie_mrz_check_digit("120415", 6), 9);
	assert_int_equal(cnie_mrz_check_digit("D23145890734", 12), 9);
	assert_int_equal(cnie_mrz_check_digit("", 0), 0);
	assert_int_equal(cnie_mrz_check_digit("ab", 2), -1);
}

static void
test_td1_fields(void **state)
{
	cnie_mrz m;
	cnie_mrz_field bad = CNIE_MRZ_FIELD_LAYOUT;

	(void)state;
	assert_int_equal(parse(TD1, &m, &bad), 0);
	assert_int_equal(bad, CNIE_MRZ_FIELD_NONE);
	assert_int_equal(m.format, CNIE_MRZ_TD1);
	assert_string_equal(m.document_code, "I");
	assert_string_equal(m.issuing_state, "UTO");
	assert_string_equal(m.document_number, "D23145890");
	assert_int_equal(m.document_number_check, '7');
	assert_string_equal(m.optional_data, "");
	assert_string_equal(m.birth_date, "740812");
	assert_int_equal(m.sex, 'F');
	assert_string_equal(m.expiry_date, "120415");
	assert_string_equal(m.nationality, "UTO");
	assert_string_equal(m.primary_identifier, "ERIKSSON");
	assert_string_equal(m.secondary_identifier, "ANNA MARIA");
	cnie_mrz_clear(&m);
	assert_int_equal(m.format, 0);
	assert_int_equal(m.document_number[0], 0);
}

static void
test_td1_with_newlines(void **state)
{
	cnie_mrz m;

	(void)state;
	assert_int_equal(parse(TD1_L1 "\n" TD1_L2 "\n" TD1_L3, &m, NULL), 0);
	assert_string_equal(m.document_number, "D23145890");
	assert_int_equal(parse(TD1_L1 "\r\n" TD1_L2 "\r\n" TD1_L3 "\r\n", &m, NULL), 0);
	assert_int_equal(parse(TD1_L1 "\n" TD1_L2 "\n" TD1_L3 "\n", &m, NULL), 0);
}

static void
test_td1_long_document_number(void **state)
{
	cnie_mrz m;
	char info[40];

	(void)state;
	assert_int_equal(parse(TD1_LONG, &m, NULL), 0);
	assert_string_equal(m.document_number, "D23145890734");
	assert_int_equal(m.document_number_check, '9');
	assert_string_equal(m.optional_data, "");
	assert_string_equal(m.primary_identifier, "STEVENSON");
	assert_string_equal(m.secondary_identifier, "PETER JOHN");
	assert_int_equal(cnie_mrz_access_info(&m, info, sizeof(info)), 0);
	assert_string_equal(info, "D23145890734934071279507122");
}

static void
test_td1_long_document_number_bad_check(void **state)
{
	cnie_mrz_field bad;

	(void)state;
	/* Overflow check digit 9 -> 8: composite then also wrong, but the
	 * document number is checked first. */
	assert_int_equal(parse_mut(TD1_LONG, 18, '8', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_DOCUMENT_NUMBER);
	/* Filler in position 15 but no overflow at all. */
	assert_int_equal(parse_mut(TD1, 14, '<', &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_DOCUMENT_NUMBER);
}

static void
test_td2_fields(void **state)
{
	cnie_mrz m;

	(void)state;
	assert_int_equal(parse(TD2_L1 TD2_L2, &m, NULL), 0);
	assert_int_equal(m.format, CNIE_MRZ_TD2);
	assert_string_equal(m.document_number, "D23145890");
	assert_string_equal(m.birth_date, "740812");
	assert_string_equal(m.expiry_date, "120415");
	assert_string_equal(m.nationality, "UTO");
	assert_string_equal(m.primary_identifier, "ERIKSSON");
	assert_string_equal(m.secondary_identifier, "ANNA MARIA");
}

static void
test_td2_long_document_number(void **state)
{
	cnie_mrz m;

	(void)state;
	assert_int_equal(parse(TD2_L1 "D23145890<UTO7408122F12041597349<<<2", &m, NULL), 0);
	assert_string_equal(m.document_number, "D23145890734");
	assert_int_equal(m.document_number_check, '9');
}

/* 9303-11 App. D.2: MRZ_information L898902C<369080619406236. */
static void
test_access_info_app_d(void **state)
{
	cnie_mrz m;
	char info[25];

	(void)state;
	assert_int_equal(parse(TD3_L1 "L898902C<3UTO6908061F9406236ZE184226B<<<<<14", &m, NULL), 0);
	assert_int_equal(cnie_mrz_access_info(&m, info, sizeof(info)), 0);
	assert_string_equal(info, "L898902C<369080619406236");
}

static void
test_td3_fields(void **state)
{
	cnie_mrz m;
	char info[30];

	(void)state;
	assert_int_equal(parse(TD3_L1 "\n" TD3_L2, &m, NULL), 0);
	assert_int_equal(m.format, CNIE_MRZ_TD3);
	assert_string_equal(m.document_code, "P");
	assert_string_equal(m.document_number, "L898902C3");
	assert_string_equal(m.optional_data, "ZE184226B");
	assert_int_equal(m.sex, 'F');
	assert_string_equal(m.primary_identifier, "ERIKSSON");
	assert_string_equal(m.secondary_identifier, "ANNA MARIA");
	/* MRZ_information of the 9303-4 specimen. */
	assert_int_equal(cnie_mrz_access_info(&m, info, sizeof(info)), 0);
	assert_string_equal(info, "L898902C3674081221204159");
	assert_int_equal(cnie_mrz_access_info(&m, info, 24), CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cnie_mrz_access_info(&m, info, 25), 0);
}

/* Every check digit, once wrong, is reported against its own field. */
static void
test_each_check_digit_named(void **state)
{
	cnie_mrz_field bad;

	(void)state;
	assert_int_equal(parse_mut(TD1, 14, '8', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_DOCUMENT_NUMBER);
	assert_int_equal(parse_mut(TD1, 36, '3', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_BIRTH_DATE);
	assert_int_equal(parse_mut(TD1, 44, '0', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_EXPIRY_DATE);
	assert_int_equal(parse_mut(TD1, 59, '5', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_COMPOSITE);
	/* A changed optional data character breaks only the composite. */
	assert_int_equal(parse_mut(TD1, 20, 'B', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_COMPOSITE);
	/* TD3: personal number check digit, composite. */
	assert_int_equal(parse_mut(TD3_L1 TD3_L2, 44 + 42, '2', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_OPTIONAL_DATA);
	assert_int_equal(parse_mut(TD3_L1 TD3_L2, 44 + 43, '1', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_COMPOSITE);
	assert_int_equal(parse_mut(TD3_L1 TD3_L2, 44 + 9, '4', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_DOCUMENT_NUMBER);
	/* TD2 composite. */
	assert_int_equal(parse_mut(TD2_L1 TD2_L2, 36 + 35, '7', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_COMPOSITE);
	/* A check digit that is a letter is wrong, not "0". */
	assert_int_equal(parse_mut(TD1, 36, 'A', &bad), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(bad, CNIE_MRZ_FIELD_BIRTH_DATE);
}

static void
test_strict_charset_and_layout(void **state)
{
	cnie_mrz m;
	cnie_mrz_field bad;

	(void)state;
	assert_int_equal(parse_mut(TD1, 70, 'a', &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_CHARSET);
	assert_int_equal(parse_mut(TD1, 70, ' ', &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_CHARSET);
	assert_int_equal(parse(TD1 "<", &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_LAYOUT);
	assert_int_equal(parse("", &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_LAYOUT);
	/* Lines of unequal width, a lone CR, an empty line, 4 lines. */
	assert_int_equal(parse(TD1_L1 "<\n" TD1_L2 "\n" "ERIKSSON<<ANNA<MARIA<<<<<<<<<", &m,
	    &bad), CNIE_ERR_ENCODING);
	assert_int_equal(parse(TD1_L1 "\r" TD1_L2 "\n" TD1_L3, &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(parse(TD1_L1 "\n\n" TD1_L2 "\n" TD1_L3, &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(parse(TD2_L1 "\n" TD2_L2 "\n" TD2_L2, &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_LAYOUT);
	/* 72 characters broken as 3 x 24 is not a TD2. */
	assert_int_equal(parse(TD2_L1 TD2_L2, &m, NULL), 0);
	assert_int_equal(cnie_mrz_parse(NULL, 0, &m, &bad), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_mrz_parse(TD1, 90, NULL, &bad), CNIE_ERR_INVALID_ARG);
	/* Sex must be M, F, X or '<'. */
	assert_int_equal(parse_mut(TD1, 37, 'Q', &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_SEX);
	/* Letters in a date. */
	assert_int_equal(parse_mut(TD1, 30, 'A', &bad), CNIE_ERR_ENCODING);
	assert_int_equal(bad, CNIE_MRZ_FIELD_BIRTH_DATE);
}

static void
test_failed_parse_leaves_struct_clear(void **state)
{
	cnie_mrz m;

	(void)state;
	memset(&m, 'x', sizeof(m));
	assert_int_equal(parse_mut(TD1, 59, '5', NULL), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(cnie_mrz_parse(TD1, 89, &m, NULL), CNIE_ERR_ENCODING);
	assert_int_equal(m.format, 0);
	assert_int_equal(m.primary_identifier[0], 0);
	assert_int_equal(cnie_mrz_access_info(&m, (char[30]){ 0 }, 30), CNIE_ERR_INVALID_ARG);
}

static void
test_field_names(void **state)
{
	(void)state;
	assert_string_equal(cnie_mrz_field_name(CNIE_MRZ_FIELD_COMPOSITE), "composite");
	assert_string_equal(cnie_mrz_field_name(CNIE_MRZ_FIELD_DOCUMENT_NUMBER),
	    "document number");
	assert_string_equal(cnie_mrz_field_name((cnie_mrz_field)99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_digit_known_values),
		cmocka_unit_test(test_date_ranges),
		cmocka_unit_test(test_td1_fields),
		cmocka_unit_test(test_td1_with_newlines),
		cmocka_unit_test(test_td1_long_document_number),
		cmocka_unit_test(test_td1_long_document_number_bad_check),
		cmocka_unit_test(test_td2_fields),
		cmocka_unit_test(test_td2_long_document_number),
		cmocka_unit_test(test_td3_fields),
		cmocka_unit_test(test_access_info_app_d),
		cmocka_unit_test(test_each_check_digit_named),
		cmocka_unit_test(test_strict_charset_and_layout),
		cmocka_unit_test(test_failed_parse_leaves_struct_clear),
		cmocka_unit_test(test_field_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
