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

/* The hashes a page may ask a signature over (Web eID hashFunction). */
static const cnie_card_hash sign_hashes[] = {CNIE_CARD_HASH_SHA256, CNIE_CARD_HASH_SHA384,
    CNIE_CARD_HASH_SHA512};

cnie_card_hash
cnied_sign_hash_at(size_t i)
{
	return i < sizeof(sign_hashes) / sizeof(sign_hashes[0]) ? sign_hashes[i] :
	    CNIE_CARD_HASH_NONE;
}

/* The allowed hash spelled name ("SHA-256"...), NULL when none. */
static const cnie_hash_info *
sign_hash_by_name(const char *name)
{
	const cnie_hash_info *h = cnie_hash_by_name(name, CNIE_HASH_NAME_STD);
	size_t i;

	for (i = 0; h != NULL && cnied_sign_hash_at(i) != CNIE_CARD_HASH_NONE; i++)
		if (cnied_sign_hash_at(i) == h->id)
			return h;
	return NULL;
}

/*
 * Loads a body as a JSON object (cnie/json.h: size, depth, duplicates).
 * NULL and *err: -1 (a bad body) or CNIE_ERR_NOMEM.
 */
static json_t *
load_object(const char *body, size_t n, const char **why, int *err)
{
	json_t *j = NULL;

	*err = -1;
	switch (cnie_json_parse_object(body, n, CNIED_MAX_BODY, CNIED_JSON_MAX_DEPTH, &j)) {
	case 0:
		return j;
	case CNIE_ERR_NOMEM:
		*why = "out of memory";
		*err = CNIE_ERR_NOMEM;
		break;
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

/* The body as an object whose keys are all in allowed[]; NULL (*why, *err) if not. */
static json_t *
open_body(const char *body, size_t n, const char *const *allowed, const char **why, int *err)
{
	json_t *j = load_object(body, n, why, err);

	if (j != NULL && cnie_json_only_keys(j, allowed, NULL) != 0) {
		*why = "unknown field";
		json_decref(j);
		j = NULL;
	}
	return j;
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

/*
 * The common shape of every body: out zeroed, the object with only the
 * keys[] (NULL-terminated), the endpoint's own fields (fields), then the
 * optional "reader" every endpoint takes.
 */
static int
parse_body(const char *body, size_t n, const char *const *keys, void *out, size_t out_size,
    int (*fields)(json_t *j, void *out, const char **why), char *reader, size_t reader_max,
    const char **why)
{
	json_t *j;
	int r;

	memset(out, 0, out_size);
	if ((j = open_body(body, n, keys, why, &r)) == NULL)
		return r;
	if ((r = fields(j, out, why)) == 0)
		r = opt_string(j, "reader", reader, reader_max, why);
	json_decref(j);
	return r;
}

static int
cert_fields(json_t *j, void *vout, const char **why)
{
	cnied_req_cert *out = vout;
	const char *t;
	size_t l;

	if ((t = req_string(j, "type", &l, why)) == NULL)
		return -1;
	if (strcmp(t, "auth") == 0)
		out->sign = false;
	else if (strcmp(t, "sign") == 0)
		out->sign = true;
	else {
		*why = "type must be \"auth\" or \"sign\"";
		return -1;
	}
	return 0;
}

int
cnied_parse_cert(const char *body, size_t n, cnied_req_cert *out, const char **why)
{
	static const char *const keys[] = {"type", "reader", NULL};

	return parse_body(body, n, keys, out, sizeof(*out), cert_fields, out->reader,
	    sizeof(out->reader), why);
}

static int
auth_fields(json_t *j, void *vout, const char **why)
{
	cnied_req_auth *out = vout;
	const char *s;
	size_t l, i;

	if ((s = req_string(j, "challengeNonce", &l, why)) == NULL)
		return -1;
	/*
	 * As Web eID's own client takes it: 44 to 128 characters (44 is the
	 * base64 length of 32 random bytes), printable ASCII, in any encoding
	 * (base64, base64url, hex...).  Its bytes are hashed as sent.
	 */
	if (l < CNIED_NONCE_MIN || l > CNIED_NONCE_MAX) {
		*why = "challengeNonce must be 44 to 128 characters";
		return -1;
	}
	for (i = 0; i < l; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			*why = "challengeNonce must be printable ASCII";
			return -1;
		}
	}
	memcpy(out->nonce, s, l + 1);
	return 0;
}

int
cnied_parse_auth(const char *body, size_t n, cnied_req_auth *out, const char **why)
{
	static const char *const keys[] = {"challengeNonce", "reader", NULL};

	return parse_body(body, n, keys, out, sizeof(*out), auth_fields, out->reader,
	    sizeof(out->reader), why);
}

void
cnied_req_sign_clear(cnied_req_sign *r)
{
	free(r->cert);
	r->cert = NULL;
	OPENSSL_cleanse(r->hash, sizeof(r->hash));
}

static int
sign_fields(json_t *j, void *vout, const char **why)
{
	cnied_req_sign *out = vout;
	const cnie_hash_info *h;
	json_t *v;
	const char *s;
	size_t l;
	char pad[16];

	if ((s = req_string(j, "hashFunction", &l, why)) == NULL)
		return -1;
	if ((h = sign_hash_by_name(s)) == NULL) {
		*why = "unsupported hashFunction";
		return -1;
	}
	out->hash_fn = h->id;
	if ((s = req_string(j, "hash", &l, why)) == NULL)
		return -1;
	if (cnie_base64_decode(s, l, out->hash, sizeof(out->hash), &out->hash_len) != 0 ||
	    out->hash_len != h->len) {
		*why = "hash length does not match hashFunction";
		return -1;
	}
	if ((s = req_string(j, "certificate", &l, why)) == NULL)
		return -1;
	if (l > 16384) {
		*why = "certificate too long";
		return -1;
	}
	if ((out->cert = malloc(l / 4 * 3 + 3)) == NULL) {
		*why = "out of memory"; /* our failure, not the page's: a 500 */
		return CNIE_ERR_NOMEM;
	}
	if (cnie_base64_decode(s, l, out->cert, l / 4 * 3 + 3, &out->cert_len) != 0) {
		*why = "certificate must be base64 DER";
		return -1;
	}
	if (opt_string(j, "paddingScheme", pad, sizeof(pad), why) != 0)
		return -1;
	if (pad[0] != '\0') {
		if (strcmp(pad, "PSS") == 0)
			out->pss = true;
		else if (strcmp(pad, "PKCS1.5") != 0 && strcmp(pad, "NONE") != 0) {
			*why = "unsupported paddingScheme";
			return -1;
		}
	}
	/* The portal's words for the consent dialog (description.c). */
	if ((v = json_object_get(j, "description")) != NULL) {
		if (!json_is_string(v)) {
			*why = "description must be a string";
			return -1;
		}
		l = json_string_length(v);
		if (cnied_description_check(json_string_value(v), l, why) != 0)
			return -1;
		memcpy(out->description, json_string_value(v), l + 1);
	}
	return 0;
}

int
cnied_parse_sign(const char *body, size_t n, cnied_req_sign *out, const char **why)
{
	static const char *const keys[] = {"certificate", "hash", "hashFunction",
	    "paddingScheme", "reader", "description", NULL};
	int r;

	if ((r = parse_body(body, n, keys, out, sizeof(*out), sign_fields, out->reader,
	    sizeof(out->reader), why)) != 0)
		cnied_req_sign_clear(out);
	return r;
}

static int
identity_field(const char *s, unsigned *bit)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"mrz", CNIED_ID_MRZ}, {"names", CNIED_ID_NAMES},
	    {"photo", CNIED_ID_PHOTO}, {"raw", CNIED_ID_RAW}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*bit = names[i].bit;
			return 0;
		}
	}
	return -1;
}

static int
identity_fields(json_t *j, void *vout, const char **why)
{
	cnied_req_identity *out = vout;
	json_t *f, *v;
	size_t i, l, cl;
	const char *s;

	f = json_object_get(j, "fields");
	if (!json_is_array(f) || json_array_size(f) == 0 || json_array_size(f) > 4) {
		*why = "fields must be a non-empty array";
		return -1;
	}
	json_array_foreach(f, i, v) {
		unsigned bit;
		if (!json_is_string(v)) {
			*why = "fields must be strings";
			return -1;
		}
		if (identity_field(json_string_value(v), &bit) != 0) {
			*why = "unknown identity field";
			return -1;
		}
		if (out->fields & bit) {
			*why = "identity field repeated";
			return -1;
		}
		out->fields |= bit;
	}
	if (json_object_get(j, "challenge") == NULL)
		return 0;
	if ((s = req_string(j, "challenge", &l, why)) == NULL)
		return -1;
	/* ICAO 9303-11 6.1: the AA challenge is 8 bytes. */
	if (cnie_base64_decode(s, l, out->challenge, sizeof(out->challenge), &cl) != 0 ||
	    cl != sizeof(out->challenge)) {
		*why = "challenge must be base64 of 8 bytes";
		return -1;
	}
	out->has_challenge = true;
	return 0;
}

int
cnied_parse_identity(const char *body, size_t n, cnied_req_identity *out, const char **why)
{
	static const char *const keys[] = {"fields", "challenge", "reader", NULL};

	return parse_body(body, n, keys, out, sizeof(*out), identity_fields, out->reader,
	    sizeof(out->reader), why);
}
