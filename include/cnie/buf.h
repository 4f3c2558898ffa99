/*
 * Bounded byte buffers.
 *
 * Two tools, modelled on OpenSSH's sshbuf and libfido2's bounded readers:
 *
 *  - cnie_cur: a read cursor over borrowed bytes.  Every read checks the
 *    remaining length first; a failed read sets a sticky error so that a
 *    parser can do several reads and check once.  Reading past the end is
 *    impossible through this API.  A cursor never owns its bytes.
 *
 *  - cnie_buf: an owned, growable byte buffer with a hard size cap, used to
 *    build commands and to hold responses.  Its memory is wiped when it
 *    shrinks, grows (old block) and when it is freed, so it may hold secrets.
 */
#ifndef CNIE_BUF_H
#define CNIE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- read cursor ---------------------------------------------------- */

typedef struct cnie_cur {
	const uint8_t *p; /* start of the window (borrowed) */
	size_t len;	  /* window size */
	size_t pos;	  /* bytes consumed */
	int err;	  /* sticky: first error hit, 0 if none */
} cnie_cur;

/* Sets c to read the n bytes at p (p may be NULL only when n == 0). */
CNIE_EXPORT void cnie_cur_init(cnie_cur *c, const void *p, size_t n);

/* Bytes left to read (0 once the cursor has failed). */
CNIE_EXPORT size_t cnie_cur_left(const cnie_cur *c);

/* Pointer to the next unread byte (borrowed; valid while the data is). */
CNIE_EXPORT const uint8_t *cnie_cur_peek(const cnie_cur *c);

/* Each getter returns 0 or CNIE_ERR_TRUNCATED and leaves *out untouched on error. */
CNIE_EXPORT int cnie_cur_u8(cnie_cur *c, uint8_t *out);
CNIE_EXPORT int cnie_cur_u16be(cnie_cur *c, uint16_t *out);
CNIE_EXPORT int cnie_cur_u32be(cnie_cur *c, uint32_t *out);
/* Reads an unsigned big-endian integer of n (1..4) bytes. */
CNIE_EXPORT int cnie_cur_uint_be(cnie_cur *c, size_t n, uint32_t *out);
/* Copies n bytes into out. */
CNIE_EXPORT int cnie_cur_copy(cnie_cur *c, void *out, size_t n);
/* Borrows n bytes: *out points into the cursor's data. */
CNIE_EXPORT int cnie_cur_take(cnie_cur *c, size_t n, const uint8_t **out);
/* Skips n bytes. */
CNIE_EXPORT int cnie_cur_skip(cnie_cur *c, size_t n);
/* Splits off the next n bytes as a sub-cursor and advances c past them. */
CNIE_EXPORT int cnie_cur_sub(cnie_cur *c, size_t n, cnie_cur *sub);
/* Returns c->err if set, CNIE_ERR_TRAILING if bytes remain, else 0. */
CNIE_EXPORT int cnie_cur_end(const cnie_cur *c);

/* ---- owned buffer --------------------------------------------------- */

typedef struct cnie_buf cnie_buf;

/* Default and absolute cap on a buffer's size (16 MiB). */
#define CNIE_BUF_MAX_DEFAULT (16u * 1024u * 1024u)

/* Returns a new empty buffer (caller frees with cnie_buf_free), NULL if out of memory. */
CNIE_EXPORT cnie_buf *cnie_buf_new(void);
/* Returns a new buffer holding a copy of p[0..n), NULL on failure. */
CNIE_EXPORT cnie_buf *cnie_buf_from(const void *p, size_t n);
/* Wipes and frees *b, then sets *b to NULL.  Accepts NULL and *b == NULL. */
CNIE_EXPORT void cnie_buf_free(cnie_buf **b);

/* Lowers the cap on b's size (never above CNIE_BUF_MAX_DEFAULT). */
CNIE_EXPORT int cnie_buf_set_max(cnie_buf *b, size_t max);
CNIE_EXPORT size_t cnie_buf_len(const cnie_buf *b);
/* Pointer to the contents (borrowed; invalidated by any write). NULL-safe. */
CNIE_EXPORT const uint8_t *cnie_buf_ptr(const cnie_buf *b);
/* Mutable pointer to the contents (borrowed; invalidated by any write). */
CNIE_EXPORT uint8_t *cnie_buf_mutable_ptr(cnie_buf *b);
/* Empties b, wiping its contents; keeps the allocation. */
CNIE_EXPORT void cnie_buf_reset(cnie_buf *b);
/* Cuts b down to n bytes (n <= len), wiping the rest. */
CNIE_EXPORT int cnie_buf_truncate(cnie_buf *b, size_t n);
/* Removes the first n bytes (n <= len). */
CNIE_EXPORT int cnie_buf_consume(cnie_buf *b, size_t n);

/* Appenders: return 0, CNIE_ERR_NOMEM or CNIE_ERR_TOO_LONG (cap reached). */
CNIE_EXPORT int cnie_buf_put(cnie_buf *b, const void *p, size_t n);
CNIE_EXPORT int cnie_buf_put_u8(cnie_buf *b, uint8_t v);
CNIE_EXPORT int cnie_buf_put_u16be(cnie_buf *b, uint16_t v);
CNIE_EXPORT int cnie_buf_put_u32be(cnie_buf *b, uint32_t v);
CNIE_EXPORT int cnie_buf_put_buf(cnie_buf *b, const cnie_buf *src);
/* Reserves n writable bytes at the end; *out points at them (borrowed until the next write). */
CNIE_EXPORT int cnie_buf_reserve(cnie_buf *b, size_t n, uint8_t **out);

/* Returns a cursor over b's current contents (valid until b is written). */
CNIE_EXPORT void cnie_buf_cur(const cnie_buf *b, cnie_cur *c);

/* Copies the contents out to a fresh malloc'd block (caller frees); *n gets the size. */
CNIE_EXPORT int cnie_buf_dup(const cnie_buf *b, uint8_t **out, size_t *n);

/* Wipes n bytes at p in a way the compiler cannot drop. */
CNIE_EXPORT void cnie_wipe(void *p, size_t n);
/* Wipes then frees p (NULL-safe). */
CNIE_EXPORT void cnie_freezero(void *p, size_t n);
/* Constant-time comparison: 0 when equal. */
CNIE_EXPORT int cnie_memeq_ct(const void *a, const void *b, size_t n);

/* Hex helpers for logs and tests; out must hold 2*n+1 bytes. */
CNIE_EXPORT void cnie_hex(const void *p, size_t n, char *out);
/* Parses hex (spaces ignored) into b; CNIE_ERR_ENCODING on bad input. */
CNIE_EXPORT int cnie_unhex(const char *hex, cnie_buf *b);

#ifdef __cplusplus
}
#endif

#endif
