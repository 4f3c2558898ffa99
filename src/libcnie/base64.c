/* Strict base64 (src/libcnie/include/cnie/base64.h). */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include <cnie/base64.h>
#include <cnie/error.h>

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
cnie_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t i, o = 0, pad = 0;

	if (s == NULL || out == NULL || out_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out_len = 0;
	if (n == 0 || n % 4 != 0)
		return CNIE_ERR_ENCODING;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	if (n / 4 * 3 - pad > cap)
		return CNIE_ERR_TOO_LONG;
	for (i = 0; i < n; i += 4) {
		uint32_t w = 0;
		size_t k, q = i + 4 == n ? pad : 0; /* '=' only at the very end */
		int v;

		for (k = 0; k < 4; k++) {
			if (k >= 4 - q) {
				w <<= 6;
				continue;
			}
			if ((v = b64_val((unsigned char)s[i + k])) < 0)
				return CNIE_ERR_ENCODING;
			w = w << 6 | (uint32_t)v;
		}
		/* Non-canonical: bits set under the padding. */
		if ((q == 1 && (w & 0xFF) != 0) || (q == 2 && (w & 0xFFFF) != 0))
			return CNIE_ERR_ENCODING;
		out[o++] = (uint8_t)(w >> 16);
		if (q < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (q < 1)
			out[o++] = (uint8_t)w;
	}
	*out_len = o;
	return 0;
}

char *
cnie_base64_encode(const uint8_t *p, size_t n)
{
	char *s;

	if ((p == NULL && n != 0) || n > (size_t)INT32_MAX / 4 * 3)
		return NULL;
	if ((s = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	/* EVP_EncodeBlock: padded, no line breaks, NUL-terminated. */
	(void)EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}
