/*
 * Strict request bodies.  Everything here is pure and fuzzed
 * (tests/fuzz/fuzz_cnied_request.c).
 *
 * The nesting depth is measured on the raw text before jansson sees it
 * (cnie/json.h; its recursive parser would otherwise walk 2048 levels
 * deep); duplicate keys are refused {"hash":"a","hash":"b"} so that two
 * layers can never read two different values; every field has one exact
 * type, and a field we do not know is an error rather than ignored.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <cnie/error.h>
#include <cnie/base64.h>
#include <cnie/json.h>

#include "cnied.h"

size_t
cnied_hash_len(cnied_hash h)
{
	switch (h) {
	case CNIED_HASH_SHA256:
		return 32;
	case CNIED_HASH_SHA384:
		return 48;
	case CNIED_HASH_SHA512:
		return 64;
	}
	return 0;
}

const char *
cnied_hash_name(cnied_hash h)
{
	switch (h) {
	case CNIED_HASH_SHA256:
		return "SHA-256";
	case CNIED_HASH_SHA384:
		return "SHA-384";
	case CNIED_HASH_SHA512:
		return "SHA-512";
	}
	return "?";
}


/* Loads a body as a JSON object (cnie/json.h: size, depth, duplicates). */
static json_t *
load_object(const char *body, size_t n, const char **why)
{
	json_t *j = NULL;

	switch (cnie_json_parse_object(body, n, CNIED_MAX_BODY, CNIED_JSON_MAX_DEPTH, &j)) {
	case 0:
		return j;
	case CNIE_ERR_NESTING:
		*why = "JSON nested too deeply";
		break;
	case CNIE_ERR_TOO_LONG:
		*why = "body too large";
		break;
	default:
		*why = "malformed JSON, duplicate key, or not a JSON object";
		break;
	}
	return NULL;
}

/* Every key of o must be in allowed[] (NULL-terminated). */
static int
only_keys(json_t *o, const char *const *allowed, const char **why)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i;
		bool ok = false;
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			*why = "unknown field";
			return -1;
		}
	}
	return 0;
}

/* Optional string field into a fixed buffer (non-empty, no NUL). */
static int
opt_string(json_t *o, const char *key, char *out, size_t max, const char **why)
{
	json_t *v = json_object_get(o, key);
	size_t l;

	out[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		*why = "field has the wrong type";
		return -1;
	}
	l = json_string_length(v);
	if (l == 0 || l >= max || memchr(json_string_value(v), 0, l) != NULL) {
		*why = "field has a bad length";
		return -1;
	}
	memcpy(out, json_string_value(v), l + 1);
	return 0;
}

static const char *
req_string(json_t *o, const char *key, size_t *len, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*why = "missing field";
		return NULL;
	}
	if (!json_is_string(v)) {
		*why = "field has the wrong type";
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

int
cnied_parse_cert(const char *body, size_t n, cnied_req_cert *out, const char **why)
{
	static const char *const keys[] = {"type", "reader", NULL};
	json_t *j;
	const char *t;
	size_t l;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if ((j = load_object(body, n, why)) == NULL)
		return -1;
	if (only_keys(j, keys, why) != 0)
		goto out;
	if ((t = req_string(j, "type", &l, why)) == NULL)
		goto out;
	if (strcmp(t, "auth") == 0)
		out->sign = false;
	else if (strcmp(t, "sign") == 0)
		out->sign = true;
	else {
		*why = "type must be \"auth\" or \"sign\"";
		goto out;
	}
	if (opt_string(j, "reader", out->reader, sizeof(out->reader), why) != 0)
		goto out;
	r = 0;
out:
	json_decref(j);
	return r;
}

int
cnied_parse_auth(const char *body, size_t n, cnied_req_auth *out, const char **why)
{
	static const char *const keys[] = {"challengeNonce", "reader", NULL};
	uint8_t raw[sizeof(out->nonce)];
	json_t *j;
	const char *s;
	size_t l, rl;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if ((j = load_object(body, n, why)) == NULL)
		return -1;
	if (only_keys(j, keys, why) != 0)
		goto out;
	if ((s = req_string(j, "challengeNonce", &l, why)) == NULL)
		goto out;
	/* Web eID: at least 44 base64 characters, i.e. 32 random bytes. */
	if (l < 44 || l >= sizeof(out->nonce)) {
		*why = "challengeNonce must be 44 to 512 base64 characters";
		goto out;
	}
	if (cnie_base64_decode(s, l, raw, sizeof(raw), &rl) != 0 || rl < 32) {
		*why = "challengeNonce must be base64 of at least 32 bytes";
		goto out;
	}
	memcpy(out->nonce, s, l + 1);
	if (opt_string(j, "reader", out->reader, sizeof(out->reader), why) != 0)
		goto out;
	r = 0;
out:
	json_decref(j);
	return r;
}

void
cnied_req_sign_clear(cnied_req_sign *r)
{
	free(r->cert);
	r->cert = NULL;
	OPENSSL_cleanse(r->hash, sizeof(r->hash));
}

int
cnied_parse_sign(const char *body, size_t n, cnied_req_sign *out, const char **why)
{
	static const char *const keys[] = {"certificate", "hash", "hashFunction",
	    "paddingScheme", "reader", NULL};
	json_t *j;
	const char *s;
	size_t l;
	char pad[16];
	int r = -1;

	memset(out, 0, sizeof(*out));
	if ((j = load_object(body, n, why)) == NULL)
		return -1;
	if (only_keys(j, keys, why) != 0)
		goto out;
	if ((s = req_string(j, "hashFunction", &l, why)) == NULL)
		goto out;
	if (strcmp(s, "SHA-256") == 0)
		out->hash_fn = CNIED_HASH_SHA256;
	else if (strcmp(s, "SHA-384") == 0)
		out->hash_fn = CNIED_HASH_SHA384;
	else if (strcmp(s, "SHA-512") == 0)
		out->hash_fn = CNIED_HASH_SHA512;
	else {
		*why = "unsupported hashFunction";
		goto out;
	}
	if ((s = req_string(j, "hash", &l, why)) == NULL)
		goto out;
	if (cnie_base64_decode(s, l, out->hash, sizeof(out->hash), &out->hash_len) != 0 ||
	    out->hash_len != cnied_hash_len(out->hash_fn)) {
		*why = "hash length does not match hashFunction";
		goto out;
	}
	if ((s = req_string(j, "certificate", &l, why)) == NULL)
		goto out;
	if (l > 16384 || (out->cert = malloc(l / 4 * 3 + 3)) == NULL) {
		*why = "certificate too long";
		goto out;
	}
	if (cnie_base64_decode(s, l, out->cert, l / 4 * 3 + 3, &out->cert_len) != 0) {
		*why = "certificate must be base64 DER";
		goto out;
	}
	if (opt_string(j, "paddingScheme", pad, sizeof(pad), why) != 0)
		goto out;
	if (pad[0] != '\0') {
		if (strcmp(pad, "PSS") == 0)
			out->pss = true;
		else if (strcmp(pad, "PKCS1.5") != 0 && strcmp(pad, "NONE") != 0) {
			*why = "unsupported paddingScheme";
			goto out;
		}
	}
	if (opt_string(j, "reader", out->reader, sizeof(out->reader), why) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		cnied_req_sign_clear(out);
	json_decref(j);
	return r;
}

int
cnied_parse_identity(const char *body, size_t n, cnied_req_identity *out, const char **why)
{
	static const char *const keys[] = {"fields", "challenge", "reader", NULL};
	json_t *j, *f, *v;
	size_t i, l;
	const char *s;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if ((j = load_object(body, n, why)) == NULL)
		return -1;
	if (only_keys(j, keys, why) != 0)
		goto out;
	f = json_object_get(j, "fields");
	if (!json_is_array(f) || json_array_size(f) == 0 || json_array_size(f) > 4) {
		*why = "fields must be a non-empty array";
		goto out;
	}
	json_array_foreach(f, i, v) {
		unsigned bit;
		if (!json_is_string(v)) {
			*why = "fields must be strings";
			goto out;
		}
		s = json_string_value(v);
		if (strcmp(s, "mrz") == 0)
			bit = CNIED_ID_MRZ;
		else if (strcmp(s, "names") == 0)
			bit = CNIED_ID_NAMES;
		else if (strcmp(s, "photo") == 0)
			bit = CNIED_ID_PHOTO;
		else if (strcmp(s, "raw") == 0)
			bit = CNIED_ID_RAW;
		else {
			*why = "unknown identity field";
			goto out;
		}
		if (out->fields & bit) {
			*why = "identity field repeated";
			goto out;
		}
		out->fields |= bit;
	}
	if (json_object_get(j, "challenge") != NULL) {
		size_t cl;
		if ((s = req_string(j, "challenge", &l, why)) == NULL)
			goto out;
		/* ICAO 9303-11 6.1: the AA challenge is 8 bytes. */
		if (cnie_base64_decode(s, l, out->challenge, sizeof(out->challenge), &cl) != 0 ||
		    cl != sizeof(out->challenge)) {
			*why = "challenge must be base64 of 8 bytes";
			goto out;
		}
		out->has_challenge = true;
	}
	if (opt_string(j, "reader", out->reader, sizeof(out->reader), why) != 0)
		goto out;
	r = 0;
out:
	json_decref(j);
	return r;
}
