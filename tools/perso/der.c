/*
 * A small DER / BER-TLV builder for the files the tool writes (X.690
 * definite minimal lengths, ISO/IEC 7816-4 tags of 1 to 4 bytes).  Errors
 * are sticky: the code building a file checks d->err once at the end.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include <cnie/error.h>
#include <cnie/tlv.h>

#include "perso.h"

int
perso_der_init(perso_der *d)
{
	memset(d, 0, sizeof(*d));
	if ((d->b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	return 0;
}

void
perso_der_free(perso_der *d)
{
	if (d == NULL)
		return;
	cnie_buf_free(&d->b);
	d->depth = 0;
}

static void
der_fail(perso_der *d, int err)
{
	if (d->err == 0)
		d->err = err;
}

void
perso_der_raw(perso_der *d, const void *p, size_t n)
{
	int r;

	if (d->err != 0 || n == 0)
		return;
	if ((r = cnie_buf_put(d->b, p, n)) != 0)
		der_fail(d, r);
}

/* Tags and lengths are libcnie's TLV builder's (cnie/tlv.h): one encoder. */
void
perso_der_tag(perso_der *d, uint32_t tag)
{
	int r;

	if (d->err == 0 && (r = cnie_tlv_put_tag(d->b, tag)) != 0)
		der_fail(d, r);
}

void
perso_der_put(perso_der *d, uint32_t tag, const void *p, size_t n)
{
	int r;

	if (d->err == 0 && (r = cnie_tlv_put(d->b, tag, p, n)) != 0)
		der_fail(d, r);
}

void
perso_der_str(perso_der *d, uint32_t tag, const char *s)
{
	perso_der_put(d, tag, s, strlen(s));
}

void
perso_der_int(perso_der *d, uint32_t tag, long v)
{
	uint8_t b[sizeof(long) + 1];
	size_t n = sizeof(long), i, start = 0;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)((unsigned long)v >> (8 * (n - 1 - i)));
	/* X.690 8.3.2: drop leading bytes that only repeat the sign bit. */
	while (start + 1 < n &&
	    ((b[start] == 0x00 && (b[start + 1] & 0x80) == 0) ||
	    (b[start] == 0xff && (b[start + 1] & 0x80) != 0)))
		start++;
	perso_der_put(d, tag, b + start, n - start);
}

void
perso_der_oid(perso_der *d, const char *dotted)
{
	ASN1_OBJECT *o = NULL;
	const unsigned char *p;
	int n;

	if (d->err != 0)
		return;
	if ((o = OBJ_txt2obj(dotted, 1)) == NULL) {
		der_fail(d, CNIE_ERR_INTERNAL);
		return;
	}
	p = OBJ_get0_data(o);
	n = (int)OBJ_length(o);
	if (p == NULL || n <= 0)
		der_fail(d, CNIE_ERR_INTERNAL);
	else
		perso_der_put(d, 0x06, p, (size_t)n);
	ASN1_OBJECT_free(o);
}

void
perso_der_bits(perso_der *d, uint32_t tag, const unsigned *bits, size_t nbits)
{
	uint8_t v[1 + 4] = { 0 };
	unsigned max = 0;
	size_t i, nbytes;

	if (nbits == 0) {
		perso_der_put(d, tag, v, 1);
		return;
	}
	for (i = 0; i < nbits; i++) {
		if (bits[i] >= 32) {
			der_fail(d, CNIE_ERR_INTERNAL);
			return;
		}
		v[1 + bits[i] / 8] |= (uint8_t)(0x80u >> (bits[i] % 8));
		if (bits[i] > max)
			max = bits[i];
	}
	nbytes = max / 8 + 1;
	v[0] = (uint8_t)(7 - max % 8); /* unused bits in the last byte */
	perso_der_put(d, tag, v, 1 + nbytes);
}

void
perso_der_open(perso_der *d, uint32_t tag)
{
	int r;

	if (d->err != 0)
		return;
	if (d->depth >= PERSO_DER_DEPTH) {
		der_fail(d, CNIE_ERR_NESTING);
		return;
	}
	if ((r = cnie_tlv_open(d->b, tag, &d->mark[d->depth])) != 0) {
		der_fail(d, r);
		return;
	}
	d->depth++;
}

void
perso_der_close(perso_der *d)
{
	int r;

	if (d->err != 0)
		return;
	if (d->depth == 0) {
		der_fail(d, CNIE_ERR_INTERNAL);
		return;
	}
	if ((r = cnie_tlv_close(d->b, d->mark[--d->depth])) != 0)
		der_fail(d, r);
}

int
perso_der_take(perso_der *d, cnie_buf **out)
{
	int r;

	*out = NULL;
	if (d->err == 0 && d->depth != 0)
		d->err = CNIE_ERR_INTERNAL;
	if ((r = d->err) != 0) {
		perso_der_free(d);
		return r;
	}
	*out = d->b;
	d->b = NULL;
	return 0;
}
