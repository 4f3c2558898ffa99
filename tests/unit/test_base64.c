/* Strict base64 (src/libcnie/include/cnie/base64.h): RFC 4648 vectors and hostile texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/base64.h>
#include <cnie/error.h>

static int
dec(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	return cnie_base64_decode(s, strlen(s), out, cap, n);
}

/* RFC 4648 section 10, both ways. */
static void
test_vectors(void **state)
{
	static const char *const plain[] = { "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };
	uint8_t out[16];
	size_t i, n;
	char *s;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(dec(enc[i], out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(out, plain[i], n);
		assert_non_null(s = cnie_base64_encode((const uint8_t *)plain[i], strlen(plain[i])));
		assert_string_equal(s, enc[i]);
		free(s);
	}
	assert_non_null(s = cnie_base64_encode(NULL, 0));
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(dec("+/+/", out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0xFB);
}

/* Everything but the canonical text is refused, and nothing past cap is written. */
static void
test_hostile(void **state)
{
	static const char *const bad[] = {
		"", "Zg", "Zg=", "Zm9", "Zg== ", " Zg==", "Zg\n==", "Z===", "====", "Zg=a",
		"Zm=v", "Zg==Zg==", "Zh==", /* bits under the padding */ "Zm9=", "Zm-v", "Zm_v",
	};
	uint8_t out[8];
	size_t i, n = 99;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec(bad[i], out, sizeof(out), &n), CNIE_ERR_ENCODING);
	/* An embedded NUL inside the counted length. */
	assert_int_equal(cnie_base64_decode("Zm9v\0mFy", 8, out, sizeof(out), &n),
	    CNIE_ERR_ENCODING);
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(dec("Zm9vYmFy", out, 5, &n), CNIE_ERR_TOO_LONG);
	assert_int_equal(out[0], 0xAA);
	assert_int_equal(dec("Zm9vYg==", out, 4, &n), 0); /* exactly cap */
	assert_int_equal(n, 4);
	assert_int_equal(cnie_base64_decode(NULL, 4, out, 4, &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_base64_decode("Zm9v", 4, NULL, 4, &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_base64_decode("Zm9v", 4, out, 4, NULL), CNIE_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
