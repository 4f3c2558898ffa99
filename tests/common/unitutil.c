/* cmocka helpers over libcnie buffers (unitutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/log.h>

#include "unitutil.h"

cnie_buf *
tu_hex(const char *hex)
{
	cnie_buf *b = cnie_buf_new();

	assert_non_null(b);
	assert_int_equal(cnie_unhex(hex, b), 0);
	return b;
}

void
tu_assert_hex(const void *p, size_t n, const char *hex)
{
	cnie_buf *want = tu_hex(hex);

	assert_int_equal(n, cnie_buf_len(want));
	if (n > 0)
		assert_memory_equal(p, cnie_buf_ptr(want), n);
	cnie_buf_free(&want);
}

void
tu_assert_buf_hex(const cnie_buf *b, const char *hex)
{
	tu_assert_hex(cnie_buf_ptr(b), cnie_buf_len(b), hex);
}

cnie_buf *
tu_file(const char *path)
{
	uint8_t chunk[4096];
	cnie_buf *b = cnie_buf_new();
	FILE *f;
	size_t n;

	assert_non_null(b);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(cnie_buf_put(b, chunk, n), 0);
	assert_false(ferror(f));
	fclose(f);
	assert_true(cnie_buf_len(b) > 0);
	return b;
}

cnie_buf *
tu_card_file(const char *card, const char *name)
{
	const char *dir = tu_build_dir();
	char path[4096];

	if (dir == NULL)
		fail_msg("CNIE_BUILD_DIR is not set (ctest sets it)");
	assert_true((size_t)snprintf(path, sizeof(path), "%s/cards/%s/files/%s", dir, card,
	    name) < sizeof(path));
	return tu_file(path);
}

cnie_buf *
tu_lds_file(const char *card, const char *fid)
{
	char name[64];

	assert_true((size_t)snprintf(name, sizeof(name), "3F00-A002-%s", fid) < sizeof(name));
	return tu_card_file(card, name);
}

/* ---- trace capture -------------------------------------------------- */

static char trace_text[8192];

static void
trace_sink(cnie_log_level level, const char *line, void *arg)
{
	size_t used = strlen(trace_text);

	(void)level;
	(void)arg;
	snprintf(trace_text + used, sizeof(trace_text) - used, "%s\n", line);
}

int
tu_trace_setup(void **state)
{
	(void)state;
	trace_text[0] = '\0';
	cnie_log_set_sink(trace_sink, NULL);
	cnie_log_set_apdu_trace(true);
	return 0;
}

int
tu_trace_teardown(void **state)
{
	(void)state;
	cnie_log_set_apdu_trace(false);
	cnie_log_set_level(CNIE_LOG_WARN);
	cnie_log_set_sink(NULL, NULL);
	return 0;
}

const char *
tu_trace_text(void)
{
	return trace_text;
}

void
tu_trace_clear(void)
{
	trace_text[0] = '\0';
}
