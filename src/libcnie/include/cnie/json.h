/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * Bounded JSON input for the front ends (cnied's request bodies, Web eID
 * tokens): jansson parses, after a cheap linear pass has bounded the
 * nesting depth (jansson's own limit is 2048 levels of recursion) and the
 * size.  Duplicate keys are refused (an attacker's second "origin" must
 * not win over the first).
 */
#ifndef CNIE_JSON_H
#define CNIE_JSON_H

#include <stddef.h>

#include <jansson.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Deepest nesting of objects/arrays in s[0..n), outside strings, into
 * *depth; counting stops past cap (then *depth = cap + 1).  CNIE_ERR_ENCODING
 * when brackets do not balance or a string is not closed (unless cap was
 * passed first).
 */
int cnie_json_depth(const char *s, size_t n, size_t cap, size_t *depth);

/*
 * Parses s[0..n) as exactly one JSON object into *out (the caller's,
 * json_decref).  CNIE_ERR_TOO_LONG: n > max_len; CNIE_ERR_NESTING: deeper
 * than max_depth; CNIE_ERR_ENCODING: malformed, duplicate key, or not an
 * object; CNIE_ERR_INVALID_ARG: NULL arguments.
 */
int cnie_json_parse_object(const char *s, size_t n, size_t max_len,
    size_t max_depth, json_t **out);

/*
 * Strict schemas: 0 when every key of the object o is one of allowed
 * (NULL-terminated), else CNIE_ERR_ENCODING with *bad (when bad is not
 * NULL) the first key that is not (valid while o lives), so a typo or an
 * injected field is refused instead of ignored.  CNIE_ERR_INVALID_ARG
 * when o is not an object or allowed is NULL.
 */
CNIE_EXPORT int cnie_json_only_keys(json_t *o, const char *const *allowed, const char **bad);

#ifdef __cplusplus
}
#endif

#endif
