/*
 * The /v1/sign "description" check (src/cnied/description.c) on hostile
 * bytes: malformed UTF-8 (overlong, surrogates, truncated, beyond U+10FFFF),
 * every refused class (C0, DEL, C1, separators, bidi embeddings, overrides,
 * isolates and marks, invisible format characters), the length limits in
 * characters and bytes, blank texts; and what passes (Arabic, Tifinagh,
 * Latin with accents, ZWNJ/ZWJ inside words, 100 four-byte characters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cnied.h"

static int
chk(const char *s)
{
	const char *why = NULL;
	int r = cnied_description_check(s, strlen(s), &why);

	/* Every refusal says why, and names the field. */
	if (r != 0)
		assert_true(why != NULL && strstr(why, "description") != NULL);
	return r;
}

static void
test_accepted(void **state)
{
	char s[512];
	size_t i;

	(void)state;
	assert_int_equal(chk("Attestation de résidence"), 0);
	assert_int_equal(chk("طلب شهادة السكنى"), 0);
	assert_int_equal(chk("ⵜⴰⵙⵍⴽⵜ ⵏ ⵜⵏⵣⴷⵖⵜ"), 0); /* Tifinagh */
	assert_int_equal(chk("می\u200cخواهم"), 0);	     /* ZWNJ inside a word */
	assert_int_equal(chk("a\u200db"), 0);
	/* 100 characters of 4 bytes: 400 bytes, both limits exactly. */
	for (i = 0; i < 100; i++)
		memcpy(s + 4 * i, "\xf0\x9f\x93\x84", 4);
	s[400] = '\0';
	assert_int_equal(chk(s), 0);
	memset(s, 'a', 100);
	s[100] = '\0';
	assert_int_equal(chk(s), 0);
}

static void
test_refused_characters(void **state)
{
	static const char *const bad[] = {
	    "a\tb", "a\nb", "a\rb", "a\x1b[31mb", "a\x7f", "a\xc2\x85", "a\xc2\x9f",
	    "a\xc2\xad", "\xd8\x80x", "a\xd8\x9c", "a\xe2\x80\x8b", "a\xe2\x80\x8e",
	    "a\xe2\x80\x8f", "a\xe2\x80\xa8", "a\xe2\x80\xa9", "a\xe2\x80\xaa", "a\xe2\x80\xab",
	    "a\xe2\x80\xac", "a\xe2\x80\xad", "a\xe2\x80\xae", "a\xe2\x81\xa0", "a\xe2\x81\xa6",
	    "a\xe2\x81\xa7", "a\xe2\x81\xa8", "a\xe2\x81\xa9", "a\xef\xbb\xbf", "a\xef\xbf\xb9",
	    "a\xef\xbf\xbe", "a\xef\xbf\xbf", "a\xf3\xa0\x80\x81", "a\xf3\xa0\x81\xbf",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (chk(bad[i]) != -1)
			fail_msg("accepted bad[%zu]", i);
	}
}

static void
test_malformed_utf8(void **state)
{
	static const char *const bad[] = {
	    "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80",
	    "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "a\xc3",
	    "a\xe2\x80", "a\xf0\x9f\x93", "\xc3\x28",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (chk(bad[i]) != -1)
			fail_msg("accepted malformed[%zu]", i);
	}
	/* An embedded NUL counts: the length is n, not strlen. */
	{
		const char *why = NULL;
		assert_int_equal(cnied_description_check("a\0b", 3, &why), -1);
	}
}

static void
test_limits_and_blank(void **state)
{
	char s[600];
	size_t i;

	(void)state;
	memset(s, 'a', 101);
	s[101] = '\0';
	assert_int_equal(chk(s), -1);
	/* 101 two-byte characters: 202 bytes, over in characters. */
	for (i = 0; i < 101; i++)
		memcpy(s + 2 * i, "\xd8\xb4", 2);
	s[202] = '\0';
	assert_int_equal(chk(s), -1);
	/* Over in bytes (101 four-byte characters). */
	for (i = 0; i < 101; i++)
		memcpy(s + 4 * i, "\xf0\x9f\x93\x84", 4);
	s[404] = '\0';
	assert_int_equal(chk(s), -1);
	assert_int_equal(chk(""), -1);
	assert_int_equal(chk("   "), -1);
	assert_int_equal(chk("\xc2\xa0\xe3\x80\x80 "), -1); /* NBSP, ideographic space */
	assert_int_equal(chk("\xe2\x80\x8d"), -1);	      /* ZWJ alone */
}

/* Through the request parser: the field is optional, typed, copied as sent. */
static void
test_parse_sign(void **state)
{
	static const char head[] = "{\"certificate\":\"MIIBAA==\",\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAA=\",\"hashFunction\":\"SHA-256\"";
	char body[1024];
	cnied_req_sign rq;
	const char *why = NULL;

	(void)state;
	snprintf(body, sizeof(body), "%s}", head);
	assert_int_equal(cnied_parse_sign(body, strlen(body), &rq, &why), 0);
	assert_string_equal(rq.description, "");
	cnied_req_sign_clear(&rq);
	snprintf(body, sizeof(body), "%s,\"description\":\"Acte de naissance \\u0627\"}", head);
	assert_int_equal(cnied_parse_sign(body, strlen(body), &rq, &why), 0);
	assert_string_equal(rq.description, "Acte de naissance \xd8\xa7");
	cnied_req_sign_clear(&rq);
	snprintf(body, sizeof(body), "%s,\"description\":\"a\\u202eb\"}", head);
	assert_int_equal(cnied_parse_sign(body, strlen(body), &rq, &why), -1);
	assert_non_null(strstr(why, "description"));
	snprintf(body, sizeof(body), "%s,\"description\":7}", head);
	assert_int_equal(cnied_parse_sign(body, strlen(body), &rq, &why), -1);
	assert_string_equal(why, "description must be a string");
	snprintf(body, sizeof(body), "%s,\"description\":\"a\\u0000b\"}", head);
	assert_int_equal(cnied_parse_sign(body, strlen(body), &rq, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused_characters),
		cmocka_unit_test(test_malformed_utf8),
		cmocka_unit_test(test_limits_and_blank),
		cmocka_unit_test(test_parse_sign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
