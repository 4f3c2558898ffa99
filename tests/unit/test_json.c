/* Bounded JSON input (src/libcnie/include/cnie/json.h) with hostile texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>
#include <cnie/json.h>

static int
parse(const char *s, size_t max_len, size_t max_depth)
{
	json_t *j = NULL;
	int r = cnie_json_parse_object(s, strlen(s), max_len, max_depth, &j);

	assert_true((r == 0) == (j != NULL));
	json_decref(j);
	return r;
}

static void
test_depth(void **state)
{
	size_t d;

	(void)state;
	assert_int_equal(cnie_json_depth("{}", 2, 8, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(cnie_json_depth("{\"a\":[{\"b\":[]}]}", 16, 8, &d), 0);
	assert_int_equal(d, 4);
	/* Brackets inside strings, escaped quotes, do not count. */
	assert_int_equal(cnie_json_depth("{\"a\":\"[[[{\\\"\"}", 15, 8, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(cnie_json_depth("", 0, 8, &d), 0);
	assert_int_equal(d, 0);
	/* Unbalanced or an open string. */
	assert_int_equal(cnie_json_depth("{]", 2, 8, &d), 0); /* counts balance; jansson refuses */
	assert_int_equal(cnie_json_depth("{]}", 3, 8, &d), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_json_depth("}{", 2, 8, &d), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_json_depth("{{}", 3, 8, &d), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_json_depth("{\"a", 3, 8, &d), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_json_depth(NULL, 1, 8, &d), CNIE_ERR_INVALID_ARG);
}

/* 100,000 levels: stops at the cap, in one pass, without recursion. */
static void
test_deep(void **state)
{
	size_t n = 200000, d;
	char *s = malloc(n + 1);

	(void)state;
	assert_non_null(s);
	memset(s, '[', n / 2);
	memset(s + n / 2, ']', n / 2);
	s[n] = '\0';
	assert_int_equal(cnie_json_depth(s, n, 16, &d), 0);
	assert_int_equal(d, 17);
	assert_int_equal(cnie_json_parse_object(s, n, n, 16, &(json_t *){ NULL }), CNIE_ERR_NESTING);
	free(s);
}

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":1}", 64, 4), 0);
	assert_int_equal(parse("{\"a\":1,\"a\":2}", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("[1,2]", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("\"s\"", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("{\"a\":1} {}", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("{\"a\":1", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("{\"a\":[[[[1]]]]}", 64, 4), CNIE_ERR_NESTING);
	assert_int_equal(parse("{\"a\":[[[1]]]}", 64, 4), 0);
	assert_int_equal(parse("{\"a\":\"0123456789\"}", 8, 4), CNIE_ERR_TOO_LONG);
	assert_int_equal(parse("{\"a\":\"\\u0000\"}", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(parse("{\"a\":\"\xff\xfe\"}", 64, 4), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_json_parse_object(NULL, 0, 8, 4, &(json_t *){ NULL }),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_json_parse_object("{}", 2, 8, 4, NULL), CNIE_ERR_INVALID_ARG);
}

static int
obj(const char *s, json_t **j)
{
	return cnie_json_parse_object(s, strlen(s), 64, 4, j);
}

/* Only the listed keys: the first stranger is named, nothing else passes. */
static void
test_only_keys(void **state)
{
	static const char *const allowed[] = { "type", "reader", NULL };
	static const char *const none[] = { NULL };
	json_t *j = NULL;
	const char *bad = "x";

	(void)state;
	assert_int_equal(obj("{\"type\":\"auth\",\"reader\":\"r\"}", &j), 0);
	assert_int_equal(cnie_json_only_keys(j, allowed, &bad), 0);
	assert_null(bad);
	json_decref(j);
	/* A subset is fine; the empty object too. */
	assert_int_equal(obj("{\"type\":1}", &j), 0);
	assert_int_equal(cnie_json_only_keys(j, allowed, NULL), 0);
	assert_int_equal(cnie_json_only_keys(j, none, &bad), CNIE_ERR_ENCODING);
	assert_string_equal(bad, "type");
	json_decref(j);
	/* A typo, a case change, a prefix, a key with a NUL inside: all refused. */
	assert_int_equal(obj("{\"type\":1,\"Reader\":2}", &j), 0);
	assert_int_equal(cnie_json_only_keys(j, allowed, &bad), CNIE_ERR_ENCODING);
	assert_string_equal(bad, "Reader");
	json_decref(j);
	assert_int_equal(obj("{\"typ\":1}", &j), 0);
	assert_int_equal(cnie_json_only_keys(j, allowed, &bad), CNIE_ERR_ENCODING);
	assert_string_equal(bad, "typ");
	json_decref(j);
	j = json_object();
	assert_non_null(j);
	assert_int_equal(json_object_setn(j, "type\0x", 6, json_true()), 0);
	assert_int_equal(cnie_json_only_keys(j, allowed, &bad), CNIE_ERR_ENCODING);
	json_decref(j);
	/* Not an object, no list. */
	j = json_array();
	assert_int_equal(cnie_json_only_keys(j, allowed, &bad), CNIE_ERR_INVALID_ARG);
	assert_null(bad);
	json_decref(j);
	assert_int_equal(cnie_json_only_keys(NULL, allowed, &bad), CNIE_ERR_INVALID_ARG);
	j = json_object();
	assert_int_equal(cnie_json_only_keys(j, NULL, &bad), CNIE_ERR_INVALID_ARG);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_only_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
