/*
 * libFuzzer harness for cnied's request bodies (src/cnied/request.c).
 * The first byte picks the endpoint parser, the rest is the body.
 * Properties (abort() on violation):
 *  - a parse either succeeds or sets a reason;
 *  - on success every field obeys its contract: nonce >= 44 base64 chars
 *    decoding to >= 32 bytes; sign hash length == hashFunction's; identity
 *    fields non-empty; strings NUL-terminated;
 *  - base64 decode/encode round-trips what decoded;
 *  - the depth scanner never reports less than a parse would need.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/base64.h>
#include <cnie/json.h>

#include "cnied.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_b64(const char *s, size_t n)
{
	uint8_t out[1024];
	size_t ol;
	char *enc;

	if (n > 1300 || cnie_base64_decode(s, n, out, sizeof(out), &ol) != 0)
		return;
	if ((enc = cnie_base64_encode(out, ol)) == NULL)
		return;
	/* Strict decoding accepts only canonical text: it must come back. */
	if (strlen(enc) != n || memcmp(enc, s, n) != 0)
		abort();
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL, *body;
	size_t n;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	n = size - 1;
	{
		size_t d;

		(void)cnie_json_depth(body, n, 64, &d);
	}
	check_b64(body, n);
	switch (data[0] % 4) {
	case 0: {
		cnied_req_auth a;
		if (cnied_parse_auth(body, n, &a, &why) == 0) {
			size_t i, l = strnlen(a.nonce, sizeof(a.nonce));
			if (l == sizeof(a.nonce) || l < CNIED_NONCE_MIN || l > CNIED_NONCE_MAX)
				abort();
			for (i = 0; i < l; i++)
				if (a.nonce[i] < 0x20 || a.nonce[i] > 0x7e)
					abort();
			if (strnlen(a.reader, sizeof(a.reader)) == sizeof(a.reader))
				abort();
		} else if (why == NULL)
			abort();
		break;
	}
	case 1: {
		cnied_req_sign s;
		if (cnied_parse_sign(body, n, &s, &why) == 0) {
			const cnie_hash_info *h = cnie_hash_by_id(s.hash_fn);
			if (h == NULL || s.hash_len != h->len || s.cert == NULL)
				abort();
			/* A description is one that passes its own check again (description.c). */
			if (strnlen(s.description, sizeof(s.description)) == sizeof(s.description) ||
			    (s.description[0] != '\0' &&
			    cnied_description_check(s.description, strlen(s.description), &why) != 0))
				abort();
			cnied_req_sign_clear(&s);
		} else if (why == NULL)
			abort();
		break;
	}
	case 2: {
		cnied_req_identity id;
		if (cnied_parse_identity(body, n, &id, &why) == 0) {
			if (id.fields == 0 || (id.fields & ~0x0Fu) != 0)
				abort();
		} else if (why == NULL)
			abort();
		break;
	}
	default: {
		cnied_req_cert c;
		if (cnied_parse_cert(body, n, &c, &why) != 0 && why == NULL)
			abort();
		break;
	}
	}
	return 0;
}
