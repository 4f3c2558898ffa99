/*
 * cmocka helpers over libcnie buffers shared by the unit tests
 * (tests/common, library cnie_testutil_unit): each one asserts, so a test
 * reads as its expectations.  Include after <cmocka.h>.
 */
#ifndef CNIE_UNITUTIL_H
#define CNIE_UNITUTIL_H

#include <stddef.h>

#include <cnie/buf.h>

#include "testutil.h"

/* The bytes of a hex string in a fresh buffer (caller frees). */
cnie_buf *tu_hex(const char *hex);

/* p[0..n) equals the bytes of hex. */
void tu_assert_hex(const void *p, size_t n, const char *hex);

/* b holds exactly the bytes of hex. */
void tu_assert_buf_hex(const cnie_buf *b, const char *hex);

/* The whole file at path, non-empty, in a fresh buffer (caller frees). */
cnie_buf *tu_file(const char *path);

/*
 * The file NAME of a generated test card: $CNIE_BUILD_DIR/cards/CARD/files/NAME
 * (e.g. tu_card_file("ec", "3F00-A002-011E")).
 */
cnie_buf *tu_card_file(const char *card, const char *name);
/* A file of the card's LDS application (DF A002), e.g. tu_lds_file("ec", "011D"). */
cnie_buf *tu_lds_file(const char *card, const char *fid);

/*
 * The APDU trace captured as text: tu_trace_setup (a cmocka setup) sends the
 * library's log lines to a buffer and turns the APDU trace on,
 * tu_trace_teardown restores the defaults, tu_trace_text is the text so far,
 * tu_trace_clear forgets it.
 */
int tu_trace_setup(void **state);
int tu_trace_teardown(void **state);
const char *tu_trace_text(void);
void tu_trace_clear(void);

#endif
