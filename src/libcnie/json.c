/* Bounded JSON input (src/libcnie/include/cnie/json.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/json.h>

int
cnie_json_depth(const char *s, size_t n, size_t cap, size_t *depth)
{
	size_t i, d = 0, max = 0;
	bool in_str = false, esc = false;

	if ((s == NULL && n != 0) || depth == NULL)
		return CNIE_ERR_INVALID_ARG;
	*depth = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++d > max)
				max = d;
			if (max > cap) {
				*depth = cap + 1;
				return 0;
			}
		} else if (c == '}' || c == ']') {
			if (d == 0)
				return CNIE_ERR_ENCODING;
			d--;
		}
	}
	if (d != 0 || in_str)
		return CNIE_ERR_ENCODING;
	*depth = max;
	return 0;
}

int
cnie_json_parse_object(const char *s, size_t n, size_t max_len, size_t max_depth, json_t **out)
{
	json_error_t e;
	json_t *j;
	size_t d;
	int r;

	if (out != NULL)
		*out = NULL;
	if (s == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (n > max_len)
		return CNIE_ERR_TOO_LONG;
	if ((r = cnie_json_depth(s, n, max_depth, &d)) != 0)
		return r;
	if (d > max_depth)
		return CNIE_ERR_NESTING;
	if ((j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return CNIE_ERR_ENCODING;
	if (!json_is_object(j)) {
		json_decref(j);
		return CNIE_ERR_ENCODING;
	}
	*out = j;
	return 0;
}

int
cnie_json_only_keys(json_t *o, const char *const *allowed, const char **bad)
{
	const char *key;
	json_t *v;
	size_t i, len;

	if (bad != NULL)
		*bad = NULL;
	if (!json_is_object(o) || allowed == NULL)
		return CNIE_ERR_INVALID_ARG;
	/* By length too: a key "type\0x" (jansson 2.14 keeps NULs) is not "type". */
	json_object_keylen_foreach(o, key, len, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strlen(allowed[i]) == len && memcmp(key, allowed[i], len) == 0)
				break;
		if (allowed[i] == NULL) {
			if (bad != NULL)
				*bad = key;
			return CNIE_ERR_ENCODING;
		}
	}
	return 0;
}
