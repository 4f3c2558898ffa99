/* Bounded byte buffers: see include/cnie/buf.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <cnie/buf.h>
#include <cnie/error.h>

struct cnie_buf {
	uint8_t *d;
	size_t len;
	size_t alloc;
	size_t max;
};

void
cnie_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
cnie_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	cnie_wipe(p, n);
	free(p);
}

int
cnie_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0 ? 0 : 1;
}

/* ---- cursor --------------------------------------------------------- */

void
cnie_cur_init(cnie_cur *c, const void *p, size_t n)
{
	if (c == NULL)
		return;
	c->p = p;
	c->len = p == NULL ? 0 : n;
	c->pos = 0;
	c->err = (p == NULL && n != 0) ? CNIE_ERR_INVALID_ARG : 0;
}

size_t
cnie_cur_left(const cnie_cur *c)
{
	if (c == NULL || c->err != 0 || c->pos > c->len)
		return 0;
	return c->len - c->pos;
}

const uint8_t *
cnie_cur_peek(const cnie_cur *c)
{
	if (c == NULL || c->p == NULL)
		return NULL;
	return c->p + (c->pos <= c->len ? c->pos : c->len);
}

/* The single bound check every read goes through. */
static int
cur_need(cnie_cur *c, size_t n)
{
	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (c->err != 0)
		return c->err;
	if (n > cnie_cur_left(c)) {
		c->err = CNIE_ERR_TRUNCATED;
		return c->err;
	}
	return 0;
}

int
cnie_cur_take(cnie_cur *c, size_t n, const uint8_t **out)
{
	int r;

	if ((r = cur_need(c, n)) != 0)
		return r;
	/* An empty cursor may have p == NULL: NULL + 0 is undefined in C. */
	if (out != NULL)
		*out = c->p != NULL ? c->p + c->pos : NULL;
	c->pos += n;
	return 0;
}

int
cnie_cur_skip(cnie_cur *c, size_t n)
{
	return cnie_cur_take(c, n, NULL);
}

int
cnie_cur_copy(cnie_cur *c, void *out, size_t n)
{
	const uint8_t *p;
	int r;

	if (out == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_cur_take(c, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

int
cnie_cur_uint_be(cnie_cur *c, size_t n, uint32_t *out)
{
	const uint8_t *p;
	uint32_t v = 0;
	size_t i;
	int r;

	if (n == 0 || n > 4)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_cur_take(c, n, &p)) != 0)
		return r;
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (out != NULL)
		*out = v;
	return 0;
}

int
cnie_cur_u8(cnie_cur *c, uint8_t *out)
{
	uint32_t v;
	int r;

	if ((r = cnie_cur_uint_be(c, 1, &v)) != 0)
		return r;
	if (out != NULL)
		*out = (uint8_t)v;
	return 0;
}

int
cnie_cur_u16be(cnie_cur *c, uint16_t *out)
{
	uint32_t v;
	int r;

	if ((r = cnie_cur_uint_be(c, 2, &v)) != 0)
		return r;
	if (out != NULL)
		*out = (uint16_t)v;
	return 0;
}

int
cnie_cur_u32be(cnie_cur *c, uint32_t *out)
{
	return cnie_cur_uint_be(c, 4, out);
}

int
cnie_cur_sub(cnie_cur *c, size_t n, cnie_cur *sub)
{
	const uint8_t *p;
	int r;

	if (sub == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_cur_take(c, n, &p)) != 0)
		return r;
	cnie_cur_init(sub, p, n);
	return 0;
}

int
cnie_cur_end(const cnie_cur *c)
{
	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (c->err != 0)
		return c->err;
	return cnie_cur_left(c) != 0 ? CNIE_ERR_TRAILING : 0;
}

/* ---- owned buffer --------------------------------------------------- */

cnie_buf *
cnie_buf_new(void)
{
	cnie_buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = CNIE_BUF_MAX_DEFAULT;
	return b;
}

cnie_buf *
cnie_buf_from(const void *p, size_t n)
{
	cnie_buf *b;

	if (p == NULL && n != 0)
		return NULL;
	if ((b = cnie_buf_new()) == NULL)
		return NULL;
	if (cnie_buf_put(b, p, n) != 0)
		cnie_buf_free(&b);
	return b;
}

void
cnie_buf_free(cnie_buf **bp)
{
	cnie_buf *b;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	cnie_freezero(b->d, b->alloc);
	cnie_freezero(b, sizeof(*b));
	*bp = NULL;
}

int
cnie_buf_set_max(cnie_buf *b, size_t max)
{
	if (b == NULL || max > CNIE_BUF_MAX_DEFAULT || max < b->len)
		return CNIE_ERR_INVALID_ARG;
	b->max = max;
	return 0;
}

size_t
cnie_buf_len(const cnie_buf *b)
{
	return b == NULL ? 0 : b->len;
}

const uint8_t *
cnie_buf_ptr(const cnie_buf *b)
{
	if (b == NULL)
		return NULL;
	return b->d != NULL ? b->d : (const uint8_t *)"";
}

uint8_t *
cnie_buf_mutable_ptr(cnie_buf *b)
{
	return b == NULL ? NULL : b->d;
}

void
cnie_buf_reset(cnie_buf *b)
{
	if (b == NULL)
		return;
	cnie_wipe(b->d, b->len);
	b->len = 0;
}

int
cnie_buf_truncate(cnie_buf *b, size_t n)
{
	if (b == NULL || n > b->len)
		return CNIE_ERR_INVALID_ARG;
	if (n < b->len)
		cnie_wipe(b->d + n, b->len - n);
	b->len = n;
	return 0;
}

int
cnie_buf_consume(cnie_buf *b, size_t n)
{
	if (b == NULL || n > b->len)
		return CNIE_ERR_INVALID_ARG;
	if (n == 0)
		return 0;
	memmove(b->d, b->d + n, b->len - n);
	cnie_wipe(b->d + b->len - n, n);
	b->len -= n;
	return 0;
}

/*
 * Grows with a fresh block rather than realloc() so that the old block can
 * be wiped: a buffer may hold a PIN or a session key.
 */
int
cnie_buf_reserve(cnie_buf *b, size_t n, uint8_t **out)
{
	uint8_t *nd;
	size_t want;

	if (b == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (n > b->max - b->len)
		return CNIE_ERR_TOO_LONG;
	if (n > b->alloc - b->len) {
		want = b->alloc < 64 ? 64 : b->alloc;
		while (want - b->len < n)
			want = want > b->max / 2 ? b->max : want * 2;
		if ((nd = malloc(want)) == NULL)
			return CNIE_ERR_NOMEM;
		if (b->len > 0)
			memcpy(nd, b->d, b->len);
		cnie_freezero(b->d, b->alloc);
		b->d = nd;
		b->alloc = want;
	}
	if (out != NULL)
		*out = b->d != NULL ? b->d + b->len : NULL;
	b->len += n;
	return 0;
}

int
cnie_buf_put(cnie_buf *b, const void *p, size_t n)
{
	uintptr_t src = (uintptr_t)p, start, off = 0;
	uint8_t *dst;
	int inside = 0, r;

	if (p == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	if (n == 0)
		return b == NULL ? CNIE_ERR_INVALID_ARG : 0;
	if (b == NULL)
		return CNIE_ERR_INVALID_ARG;
	/*
	 * p may point into b itself (cnie_buf_put_buf(b, b)): growing frees
	 * the old block, so remember the offset and copy from the new one.
	 */
	if (b->d != NULL) {
		start = (uintptr_t)b->d;
		if (src >= start && src - start < b->len) {
			inside = 1;
			off = src - start;
		}
	}
	if ((r = cnie_buf_reserve(b, n, &dst)) != 0)
		return r;
	memmove(dst, inside ? b->d + off : (const uint8_t *)p, n);
	return 0;
}

int
cnie_buf_put_u8(cnie_buf *b, uint8_t v)
{
	return cnie_buf_put(b, &v, 1);
}

int
cnie_buf_put_u16be(cnie_buf *b, uint16_t v)
{
	uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return cnie_buf_put(b, t, sizeof(t));
}

int
cnie_buf_put_u32be(cnie_buf *b, uint32_t v)
{
	uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
		(uint8_t)v };

	return cnie_buf_put(b, t, sizeof(t));
}

int
cnie_buf_put_buf(cnie_buf *b, const cnie_buf *src)
{
	if (src == NULL)
		return CNIE_ERR_INVALID_ARG;
	return cnie_buf_put(b, src->d, src->len);
}

void
cnie_buf_cur(const cnie_buf *b, cnie_cur *c)
{
	cnie_cur_init(c, b == NULL ? NULL : b->d, b == NULL ? 0 : b->len);
}

int
cnie_buf_dup(const cnie_buf *b, uint8_t **out, size_t *n)
{
	uint8_t *p;

	if (b == NULL || out == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((p = malloc(b->len > 0 ? b->len : 1)) == NULL)
		return CNIE_ERR_NOMEM;
	if (b->len > 0)
		memcpy(p, b->d, b->len);
	*out = p;
	*n = b->len;
	return 0;
}

void
cnie_hex(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	const uint8_t *s = p;
	size_t i;

	if (out == NULL)
		return;
	for (i = 0; i < n && s != NULL; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 0x0f];
	}
	out[s != NULL ? 2 * n : 0] = '\0';
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
cnie_unhex(const char *hex, cnie_buf *b)
{
	size_t old;
	int hi = -1, v, r = 0;

	if (hex == NULL || b == NULL)
		return CNIE_ERR_INVALID_ARG;
	old = b->len;
	for (; *hex != '\0'; hex++) {
		if (*hex == ' ' || *hex == ':' || *hex == '\n' || *hex == '\t')
			continue;
		if ((v = hexval(*hex)) < 0) {
			r = CNIE_ERR_ENCODING;
			goto out;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if ((r = cnie_buf_put_u8(b, (uint8_t)(hi << 4 | v))) != 0)
			goto out;
		hi = -1;
	}
	if (hi >= 0)
		r = CNIE_ERR_ENCODING;
 out:
	/* On error, b is left as it was: no half-parsed bytes. */
	if (r != 0)
		(void)cnie_buf_truncate(b, old);
	return r;
}
