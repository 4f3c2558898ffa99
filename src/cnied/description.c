/*
 * The optional "description" of POST /v1/sign: a short text from the
 * portal (for example the document's title) that the consent dialog shows
 * beside the origin, as the portal's words.  It comes from the page, so it
 * must not be able to change how the rest of the dialog reads: no line
 * breaks or control characters (a fake second paragraph), no bidirectional
 * formatting characters (an override that turns the origin or the
 * fingerprint around, or an isolate closed early), no invisible characters
 * (text that looks shorter or different than it is).  Valid UTF-8 is the
 * JSON parser's job (jansson refuses anything else); the checks here are
 * on the code points.  Pure: no state, no I/O (fuzzed through
 * tests/fuzz/fuzz_cnied_request.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnied.h"

/* Next code point of s[*i..n), or -1 when the UTF-8 is malformed. */
static int32_t
next_cp(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	int32_t cp;
	size_t len, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return -1;
	}
	if (n - *i < len)
		return -1;
	for (k = 1; k < len; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += len;
	return cp;
}

/* Controls, separators, bidirectional and other invisible format characters. */
static bool
refused(int32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) /* C0, DEL, C1 */
		return true;
	if (cp == 0xad || (cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd ||
	    cp == 0x70f || cp == 0x180e) /* soft hyphen, Arabic format marks, ALM, MVS */
		return true;
	if (cp == 0x200b || cp == 0x200e || cp == 0x200f) /* ZWSP, LRM, RLM (ZWNJ, ZWJ pass) */
		return true;
	if (cp >= 0x2028 && cp <= 0x202e) /* line/paragraph separators, LRE RLE PDF LRO RLO */
		return true;
	if (cp >= 0x2060 && cp <= 0x206f) /* word joiner..., LRI RLI FSI PDI, deprecated */
		return true;
	if (cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xfffe || cp == 0xffff)
		return true;
	if (cp >= 0xe0000 && cp <= 0xe007f) /* tags */
		return true;
	return false;
}

int
cnied_description_check(const char *s, size_t n, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, chars = 0;
	bool visible = false;

	if (n == 0) {
		*why = "description must not be empty (leave it out instead)";
		return -1;
	}
	if (n > CNIED_DESC_MAX_BYTES) {
		*why = "description is too long: at most 100 characters";
		return -1;
	}
	while (i < n) {
		int32_t cp = next_cp(u, n, &i);

		if (cp < 0) {
			*why = "description must be UTF-8 text";
			return -1;
		}
		if (refused(cp)) {
			*why = "description must be one line of printable text: no control, "
			       "bidirectional or invisible formatting characters";
			return -1;
		}
		if (cp != ' ' && cp != 0xa0 && cp != 0x3000 && cp != 0x200c && cp != 0x200d)
			visible = true;
		chars++;
	}
	if (chars > CNIED_DESC_MAX_CHARS) {
		*why = "description is too long: at most 100 characters";
		return -1;
	}
	if (!visible) {
		*why = "description must not be blank";
		return -1;
	}
	return 0;
}
