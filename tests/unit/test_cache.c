/*
 * The on-disk cache (src/libcnie/cache.c): entries round-trip, a damaged entry is
 * a miss and is deleted, permissions, XDG_CACHE_HOME, CNIE_NO_CACHE.  Every
 * test runs with XDG_CACHE_HOME in its own temporary directory.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/cache.h>
#include <cnie/error.h>

static const uint8_t serial[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
static const uint8_t check[8] = { 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11 };
static const uint8_t data[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

static char tmpdir[64];

static int
setup(void **state)
{
	char t[] = "/tmp/cnie-cache-XXXXXX";

	(void)state;
	if (mkdtemp(t) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", t);
	setenv("XDG_CACHE_HOME", tmpdir, 1);
	unsetenv("CNIE_NO_CACHE");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_roundtrip(void **state)
{
	cnie_cache *c = NULL;
	cnie_buf *b = cnie_buf_new();
	char path[PATH_MAX], want[PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c), 0);
	assert_int_equal(cnie_cache_get(c, "odf", b), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_cache_put(c, "odf", data, sizeof(data)), 0);
	assert_int_equal(cnie_cache_get(c, "odf", b), 0);
	assert_int_equal(cnie_buf_len(b), sizeof(data));
	assert_memory_equal(cnie_buf_ptr(b), data, sizeof(data));
	/* XDG_CACHE_HOME honoured; the key is serial-check in hex. */
	assert_int_equal(cnie_cache_path(c, "odf", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/cnie/0102030405060708-aabbccddeeff0011-odf", tmpdir);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 44 + sizeof(data));
	snprintf(want, sizeof(want), "%s/cnie", tmpdir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Another content check is another card: a miss. */
	{
		uint8_t other[8];
		cnie_cache *c2 = NULL;

		memcpy(other, check, sizeof(other));
		other[7] ^= 1;
		assert_int_equal(cnie_cache_open(serial, sizeof(serial), other, sizeof(other),
		    &c2), 0);
		cnie_buf_reset(b);
		assert_int_equal(cnie_cache_get(c2, "odf", b), CNIE_ERR_NOT_FOUND);
		assert_int_equal(cnie_buf_len(b), 0);
		cnie_cache_free(&c2);
		assert_null(c2);
	}
	/* Empty entries are entries. */
	assert_int_equal(cnie_cache_put(c, "empty", NULL, 0), 0);
	cnie_buf_reset(b);
	assert_int_equal(cnie_cache_get(c, "empty", b), 0);
	assert_int_equal(cnie_buf_len(b), 0);
	/* Removal: a miss afterwards; removing a missing entry is fine. */
	assert_int_equal(cnie_cache_remove(c, "odf"), 0);
	assert_int_equal(access(path, F_OK), -1);
	cnie_buf_reset(b);
	assert_int_equal(cnie_cache_get(c, "odf", b), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_cache_remove(c, "odf"), 0);
	assert_int_equal(cnie_cache_remove(c, "../odf"), CNIE_ERR_INVALID_ARG);
	cnie_cache_free(&c);
	cnie_buf_free(&b);
}

/* Damages the file of entry "odf" with f, then expects a miss and no file. */
static void
damaged(void (*f)(const char *path))
{
	cnie_cache *c = NULL;
	cnie_buf *b = cnie_buf_new();
	char path[PATH_MAX];

	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c), 0);
	assert_int_equal(cnie_cache_put(c, "odf", data, sizeof(data)), 0);
	assert_int_equal(cnie_cache_path(c, "odf", path, sizeof(path)), 0);
	f(path);
	assert_int_equal(cnie_cache_get(c, "odf", b), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_buf_len(b), 0);
	assert_int_equal(access(path, F_OK), -1);
	cnie_cache_free(&c);
	cnie_buf_free(&b);
}

static void
flip_at(const char *path, long off)
{
	FILE *fp = fopen(path, "r+b");
	int ch;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	ch = fgetc(fp);
	assert_int_not_equal(ch, EOF);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_not_equal(fputc(ch ^ 0x01, fp), EOF);
	assert_int_equal(fclose(fp), 0);
}

static void flip_content(const char *p) { flip_at(p, 44 + 2); }
static void flip_magic(const char *p) { flip_at(p, 0); }
static void flip_version(const char *p) { flip_at(p, 4); }
static void flip_length(const char *p) { flip_at(p, 11); }
static void flip_digest(const char *p) { flip_at(p, 12); }
static void truncate_it(const char *p) { assert_int_equal(truncate(p, 44 + 2), 0); }
static void header_only(const char *p) { assert_int_equal(truncate(p, 20), 0); }

static void
append(const char *p)
{
	FILE *fp = fopen(p, "ab");

	assert_non_null(fp);
	assert_int_not_equal(fputc(0, fp), EOF);
	assert_int_equal(fclose(fp), 0);
}

static void
test_corrupt(void **state)
{
	(void)state;
	damaged(flip_content);
	damaged(flip_magic);
	damaged(flip_version);
	damaged(flip_length);
	damaged(flip_digest);
	damaged(truncate_it);
	damaged(header_only);
	damaged(append);
}

static void
test_disabled(void **state)
{
	cnie_cache *c = NULL;
	char dir[PATH_MAX + 8];

	(void)state;
	setenv("CNIE_NO_CACHE", "1", 1);
	assert_int_equal(cnie_cache_enabled(), 0);
	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c),
	    CNIE_ERR_UNSUPPORTED);
	assert_null(c);
	snprintf(dir, sizeof(dir), "%s/cnie", tmpdir);
	assert_int_equal(access(dir, F_OK), -1); /* nothing created */
	setenv("CNIE_NO_CACHE", "0", 1);
	assert_int_equal(cnie_cache_enabled(), 1);
	unsetenv("CNIE_NO_CACHE");
	assert_int_equal(cnie_cache_enabled(), 1);
}

static void
test_not_private(void **state)
{
	cnie_cache *c = NULL;
	char dir[PATH_MAX + 8];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/cnie", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c),
	    CNIE_ERR_UNSUPPORTED);
	assert_null(c);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c), 0);
	cnie_cache_free(&c);
	/* A relative XDG_CACHE_HOME is invalid (XDG spec): $HOME/.cache is used. */
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", tmpdir, 1);
	assert_int_equal(cnie_cache_open(serial, sizeof(serial), check, sizeof(check), &c), 0);
	snprintf(dir, sizeof(dir), "%s/.cache/cnie", tmpdir);
	assert_int_equal(access(dir, F_OK), 0);
	cnie_cache_free(&c);
}

static void
test_args(void **state)
{
	cnie_cache *c = NULL;
	cnie_buf *b = cnie_buf_new();
	uint8_t big[CNIE_CACHE_MAX_SERIAL + 1] = { 0 };
	char path[16];

	(void)state;
	assert_int_equal(cnie_cache_open(NULL, 8, check, 8, &c), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_open(serial, 0, check, 8, &c), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_open(big, sizeof(big), check, 8, &c), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_open(serial, 8, check, 7, &c), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_open(serial, 8, check, 8, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_open(serial, 8, check, 8, &c), 0);
	/* Names cannot leave the directory. */
	assert_int_equal(cnie_cache_put(c, "../x", data, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_put(c, "A", data, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_put(c, "", data, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_get(c, "a/b", b), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_put(c, "x", NULL, 1), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_cache_put(c, "x", data, CNIE_CACHE_MAX_ENTRY + 1),
	    CNIE_ERR_TOO_LONG);
	assert_int_equal(cnie_cache_path(c, "x", path, sizeof(path)), CNIE_ERR_BUFFER_TOO_SMALL);
	cnie_cache_free(&c);
	cnie_cache_free(NULL);
	cnie_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
