/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * Strict base64 (RFC 4648 section 4, the standard alphabet with padding)
 * for text from the network: cnied's request bodies, Web eID tokens.
 * Decoding accepts only the canonical encoding (no whitespace, padding only
 * at the end, unused bits zero), so one byte string has exactly one
 * accepted text and two layers can never read different bytes.
 */
#ifndef CNIE_BASE64_H
#define CNIE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Decodes s[0..n) into out (cap bytes), *out_len the bytes written.
 * CNIE_ERR_ENCODING on any deviation from canonical padded base64 (n == 0
 * included), CNIE_ERR_TOO_LONG when the result would exceed cap (nothing
 * beyond cap is written), CNIE_ERR_INVALID_ARG on NULL arguments.
 */
int cnie_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
    size_t *out_len);

/* Encodes p[0..n) as NUL-terminated padded base64 (the caller's, free()); NULL on failure. */
char *cnie_base64_encode(const uint8_t *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
