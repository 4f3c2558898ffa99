/*
 * BER-TLV parser and builder: see src/libcnie/include/cnie/tlv.h.
 *
 * References: ISO/IEC 7816-4:2013 clause 6.3 (BER-TLV data objects) and
 * ITU-T X.690 (08/2015) clauses 8.1.2 (identifier octets), 8.1.3 (length
 * octets) and 10.1 (DER: definite length, minimal number of octets).
 *
 * Every byte is read through a cnie_cur, so no read can leave the input; a
 * declared length is compared with the bytes left (never added to a
 * pointer or a position first), so a 0x84 FFFFFFFF length cannot wrap.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/tlv.h>

/* Largest tag and length encodings accepted (ISO 7816-4 clause 6.3). */
#define TLV_TAG_MAX_BYTES 4
#define TLV_LEN_MAX_BYTES 4

/* Leaves the cursor failed with err unless it already holds an error. */
static int
cur_fail(cnie_cur *c, int err)
{
	if (c->err == 0)
		c->err = err;
	return c->err;
}

/*
 * Reads the identifier octets.  ISO 7816-4 clause 6.3: '00' and 'FF' are
 * invalid first tag bytes (they are padding before, between or after data
 * objects in some contexts).  We do not skip padding silently: no CNIE
 * structure uses it, and skipping would let an attacker hide bytes from
 * validation, so such a byte is an encoding error.
 */
static int
read_tag(cnie_cur *c, bool der, uint32_t *tag)
{
	uint8_t b = 0, first = 0;
	uint32_t v;
	size_t n = 1;
	int r;

	if ((r = cnie_cur_u8(c, &first)) != 0)
		return r;
	if (first == 0x00 || first == 0xff)
		return cur_fail(c, CNIE_ERR_ENCODING);
	v = first;
	/* X.690 8.1.2.4: low five bits all ones means subsequent octets. */
	if ((first & 0x1f) == 0x1f) {
		do {
			/* A fifth tag byte would be needed: refused. */
			if (n == TLV_TAG_MAX_BYTES)
				return cur_fail(c, CNIE_ERR_ENCODING);
			if ((r = cnie_cur_u8(c, &b)) != 0)
				return r;
			/*
			 * X.690 8.1.2.4.2 c: bits 7..1 of the first
			 * subsequent octet shall not all be zero (no leading
			 * zero bits in the tag number).
			 */
			if (der && n == 1 && b == 0x80)
				return cur_fail(c, CNIE_ERR_ENCODING);
			v = (v << 8) | b;
			n++;
		} while ((b & 0x80) != 0);
		/*
		 * X.690 8.1.2.2: tag numbers 0..30 use the one-byte form.
		 * BER-TLV as used by ICAO 9303 does have such tags (5F01, the
		 * LDS version in EF.COM), so only the DER variant refuses them.
		 */
		if (der && n == 2 && b < 0x1f)
			return cur_fail(c, CNIE_ERR_ENCODING);
	}
	*tag = v;
	return 0;
}

/* Reads the length octets (X.690 8.1.3, ISO 7816-4 clause 6.3). */
static int
read_len(cnie_cur *c, bool der, size_t *len)
{
	uint8_t b = 0;
	uint32_t v = 0;
	size_t n;
	int r;

	if ((r = cnie_cur_u8(c, &b)) != 0)
		return r;
	if (b < 0x80) {
		*len = b;
		return 0;
	}
	/*
	 * 0x80 is the indefinite form (X.690 8.1.3.6), which ISO 7816-4
	 * does not use; 0x85..0xFE would need more than four length bytes
	 * and 0xFF is reserved (X.690 8.1.3.5 c).
	 */
	n = b & 0x7f;
	if (n == 0 || n > TLV_LEN_MAX_BYTES)
		return cur_fail(c, CNIE_ERR_ENCODING);
	if ((r = cnie_cur_uint_be(c, n, &v)) != 0)
		return r;
	/* X.690 10.1: DER uses the fewest length octets. */
	if (der && cnie_tlv_len_size(v) != 1 + n)
		return cur_fail(c, CNIE_ERR_ENCODING);
	*len = v;
	return 0;
}

static int
tlv_read(cnie_cur *c, cnie_tlv *out, bool der)
{
	const uint8_t *value = NULL;
	uint32_t tag = 0;
	size_t start, len = 0, hdr;
	int r;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (out == NULL)
		return cur_fail(c, CNIE_ERR_INVALID_ARG);
	memset(out, 0, sizeof(*out));
	if (c->err != 0)
		return c->err;
	start = c->pos;
	if ((r = read_tag(c, der, &tag)) != 0)
		return r;
	if ((r = read_len(c, der, &len)) != 0)
		return r;
	hdr = c->pos - start;
	/* Compared with what is left: never overflows, whatever len is. */
	if (len > cnie_cur_left(c))
		return cur_fail(c, CNIE_ERR_TRUNCATED);
	if (len > 0 && (r = cnie_cur_take(c, len, &value)) != 0)
		return r;

	out->tag = tag;
	/* The class and P/C bits live in the first tag byte. */
	while (tag > 0xff)
		tag >>= 8;
	out->cls = (uint8_t)(tag & 0xc0);
	out->constructed = (tag & 0x20) != 0;
	out->value = value;
	out->len = len;
	out->hdr_len = hdr;
	return 0;
}

int
cnie_tlv_next(cnie_cur *c, cnie_tlv *out)
{
	return tlv_read(c, out, false);
}

int
cnie_tlv_next_der(cnie_cur *c, cnie_tlv *out)
{
	return tlv_read(c, out, true);
}

int
cnie_tlv_parse_one(const uint8_t *p, size_t n, cnie_tlv *out)
{
	cnie_cur c;
	int r;

	if ((p == NULL && n != 0) || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, p, n);
	if ((r = cnie_tlv_next(&c, out)) != 0)
		return r;
	if ((r = cnie_cur_end(&c)) != 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return 0;
}

/*
 * Parses the sequence p[0..n) whose objects sit at the given depth,
 * descending into constructed values.  The recursion is bounded by
 * max_depth <= CNIE_TLV_MAX_DEPTH.
 */
static int
tlv_seq(const uint8_t *p, size_t n, size_t depth, size_t max_depth, cnie_tlv_visit_fn cb,
    void *arg)
{
	cnie_cur c;
	cnie_tlv t;
	int r;

	/* Objects exist at this level only if it is within the limit. */
	if (n > 0 && depth >= max_depth)
		return CNIE_ERR_NESTING;
	cnie_cur_init(&c, p, n);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			return r;
		if (cb != NULL && (r = cb(&t, depth, arg)) != 0)
			return r;
		if (t.constructed &&
		    (r = tlv_seq(t.value, t.len, depth + 1, max_depth, cb, arg)) != 0)
			return r;
	}
	return cnie_cur_end(&c);
}

int
cnie_tlv_validate(const uint8_t *p, size_t n, size_t max_depth)
{
	if ((p == NULL && n != 0) || max_depth == 0 || max_depth > CNIE_TLV_MAX_DEPTH)
		return CNIE_ERR_INVALID_ARG;
	return tlv_seq(p, n, 0, max_depth, NULL, NULL);
}

int
cnie_tlv_walk(const uint8_t *p, size_t n, size_t max_depth, cnie_tlv_visit_fn cb, void *arg)
{
	int r;

	if (cb == NULL)
		return CNIE_ERR_INVALID_ARG;
	/*
	 * Validate everything first so that the callback never acts on the
	 * well-formed prefix of malformed input.
	 */
	if ((r = cnie_tlv_validate(p, n, max_depth)) != 0)
		return r;
	return tlv_seq(p, n, 0, max_depth, cb, arg);
}

int
cnie_tlv_find(const uint8_t *p, size_t n, uint32_t tag, cnie_tlv *out)
{
	cnie_cur c;
	cnie_tlv t;
	int r;

	if (p == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, p, n);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			return r;
		if (t.tag == tag) {
			if (out != NULL)
				*out = t;
			return 0;
		}
	}
	return CNIE_ERR_NOT_FOUND;
}

int
cnie_tlv_find_path(const uint8_t *p, size_t n, const uint32_t *path, size_t depth,
    cnie_tlv *out)
{
	cnie_tlv t;
	size_t i;
	int r;

	if ((p == NULL && n != 0) || path == NULL || depth == 0 ||
	    depth > CNIE_TLV_MAX_DEPTH)
		return CNIE_ERR_INVALID_ARG;
	for (i = 0; i < depth; i++) {
		if ((r = cnie_tlv_find(p, n, path[i], &t)) != 0)
			return r;
		/*
		 * A primitive value holds no data objects (X.690 8.1.2.5):
		 * reading one as TLVs would find tags in e.g. a certificate
		 * or a photo, so the path does not exist.
		 */
		if (i + 1 < depth && !t.constructed)
			return CNIE_ERR_NOT_FOUND;
		p = t.value;
		n = t.len;
	}
	if (out != NULL)
		*out = t;
	return 0;
}

/* ---- builder -------------------------------------------------------- */

/*
 * Splits a tag into its bytes; returns the count, or 0 when the value is
 * not a well-formed tag of 1..4 bytes (the parser's rules, X.690 8.1.2).
 */
static size_t
tag_encode(uint32_t tag, uint8_t out[TLV_TAG_MAX_BYTES])
{
	size_t n, i;

	if (tag == 0)
		return 0;
	n = tag > 0xffffff ? 4 : tag > 0xffff ? 3 : tag > 0xff ? 2 : 1;
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(tag >> (8 * (n - 1 - i)));
	if (out[0] == 0xff)
		return 0;
	if ((out[0] & 0x1f) != 0x1f)
		return n == 1 ? n : 0;
	if (n == 1)
		return 0;
	for (i = 1; i + 1 < n; i++)
		if ((out[i] & 0x80) == 0)
			return 0;
	return (out[n - 1] & 0x80) == 0 ? n : 0;
}

size_t
cnie_tlv_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xff)
		return 2;
	if (len <= 0xffff)
		return 3;
	if (len <= 0xffffff)
		return 4;
	if ((uint64_t)len <= UINT32_MAX)
		return 5;
	return 0;
}

/* Writes the DER length of len into out (5 bytes); returns its size or 0. */
static size_t
len_encode(size_t len, uint8_t out[1 + TLV_LEN_MAX_BYTES])
{
	size_t n, i;

	if ((n = cnie_tlv_len_size(len)) == 0)
		return 0;
	if (n == 1) {
		out[0] = (uint8_t)len;
		return 1;
	}
	out[0] = (uint8_t)(0x80 | (n - 1));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return n;
}

int
cnie_tlv_put_tag(cnie_buf *b, uint32_t tag)
{
	uint8_t t[TLV_TAG_MAX_BYTES];
	size_t n;

	if (b == NULL || (n = tag_encode(tag, t)) == 0)
		return CNIE_ERR_INVALID_ARG;
	return cnie_buf_put(b, t, n);
}

int
cnie_tlv_put_len(cnie_buf *b, size_t len)
{
	uint8_t l[1 + TLV_LEN_MAX_BYTES];
	size_t n;

	if (b == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((n = len_encode(len, l)) == 0)
		return CNIE_ERR_TOO_LONG;
	return cnie_buf_put(b, l, n);
}

int
cnie_tlv_put(cnie_buf *b, uint32_t tag, const void *value, size_t len)
{
	size_t old;
	int r;

	if (b == NULL || (value == NULL && len != 0))
		return CNIE_ERR_INVALID_ARG;
	old = cnie_buf_len(b);
	if ((r = cnie_tlv_put_tag(b, tag)) != 0 || (r = cnie_tlv_put_len(b, len)) != 0 ||
	    (r = cnie_buf_put(b, value, len)) != 0)
		goto out;
	return 0;
 out:
	/* Never leave half an object behind. */
	(void)cnie_buf_truncate(b, old);
	return r;
}

int
cnie_tlv_put_uint(cnie_buf *b, uint32_t tag, uint32_t v)
{
	uint8_t be[4];
	size_t skip = 0;

	be[0] = (uint8_t)(v >> 24);
	be[1] = (uint8_t)(v >> 16);
	be[2] = (uint8_t)(v >> 8);
	be[3] = (uint8_t)v;
	while (skip < 3 && be[skip] == 0)
		skip++;
	return cnie_tlv_put(b, tag, be + skip, sizeof(be) - skip);
}

int
cnie_tlv_open(cnie_buf *b, uint32_t tag, size_t *mark)
{
	int r;

	if (b == NULL || mark == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_tlv_put_tag(b, tag)) != 0)
		return r;
	*mark = cnie_buf_len(b);
	return 0;
}

/*
 * The value's size is known only now, so the length is inserted between
 * the tag and the value.  Nested objects must be closed innermost first:
 * inserting bytes after an outer mark leaves that mark valid.
 */
int
cnie_tlv_close(cnie_buf *b, size_t mark)
{
	uint8_t l[1 + TLV_LEN_MAX_BYTES];
	uint8_t *d;
	size_t len, vlen, n;
	int r;

	if (b == NULL)
		return CNIE_ERR_INVALID_ARG;
	len = cnie_buf_len(b);
	/* A mark follows at least a one-byte tag. */
	if (mark == 0 || mark > len)
		return CNIE_ERR_INVALID_ARG;
	vlen = len - mark;
	if ((n = len_encode(vlen, l)) == 0)
		return CNIE_ERR_TOO_LONG;
	if ((r = cnie_buf_reserve(b, n, NULL)) != 0)
		return r;
	if ((d = cnie_buf_mutable_ptr(b)) == NULL)
		return CNIE_ERR_INTERNAL;
	memmove(d + mark + n, d + mark, vlen);
	memcpy(d + mark, l, n);
	return 0;
}
