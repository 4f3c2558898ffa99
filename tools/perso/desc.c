/*
 * The card description (tests/cards/NAME.json): strict JSON, every field
 * checked, unknown fields refused, each error naming the field.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cnie/error.h>
#include <cnie/json.h>

#include "perso.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return CNIE_ERR_ENCODING;
}

typedef bool (*char_ok_fn)(int c);

static bool
is_mrz_name(int c)
{
	return (c >= 'A' && c <= 'Z') || c == ' ' || c == '-';
}

static bool
is_alnum_upper(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_hex(int c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F');
}

static bool
is_text(int c)
{
	/* Printable ASCII for free text written into files and certificates. */
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Copies a string field into out[outlen]: length in [minlen, outlen-1],
 * each byte accepted by ok (NULL: any UTF-8, jansson has checked it).
 */
static int
get_str(json_t *obj, const char *key, const char *field, bool required, char *out,
    size_t outlen, size_t minlen, char_ok_fn ok, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n, i;

	if (v == NULL) {
		if (required)
			return fail(err, errlen, "%s: missing", field);
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, errlen, "%s: must be a string", field);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n != strlen(s))
		return fail(err, errlen, "%s: contains a NUL character", field);
	if (n < minlen || n >= outlen)
		return fail(err, errlen, "%s: length %zu outside %zu..%zu", field, n, minlen,
		    outlen - 1);
	for (i = 0; ok != NULL && i < n; i++)
		if (!ok((unsigned char)s[i]))
			return fail(err, errlen, "%s: character '%c' not allowed", field,
			    isprint((unsigned char)s[i]) ? s[i] : '?');
	memcpy(out, s, n + 1);
	return 0;
}

static int
get_int(json_t *obj, const char *key, int lo, int hi, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return fail(err, errlen, "%s: must be an integer", key);
	i = json_integer_value(v);
	if (i < lo || i > hi)
		return fail(err, errlen, "%s: %lld outside %d..%d", key, (long long)i, lo, hi);
	*out = (int)i;
	return 0;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD", a real calendar date between 1900 and 2099. */
static int
get_date(json_t *obj, const char *key, bool required, perso_date *out, char *err,
    size_t errlen)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char s[11];
	int r, y, m, d, max;
	size_t i;

	s[0] = '\0';
	if ((r = get_str(obj, key, key, required, s, sizeof(s), 10, NULL, err, errlen)) != 0)
		return r;
	if (s[0] == '\0')
		return 0;
	for (i = 0; i < 10; i++) {
		if ((i == 4 || i == 7) ? s[i] != '-' : !is_digit((unsigned char)s[i]))
			return fail(err, errlen, "%s: expected YYYY-MM-DD", key);
	}
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2099 || m < 1 || m > 12)
		return fail(err, errlen, "%s: %s is not a date between 1900 and 2099", key, s);
	max = mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
	if (d < 1 || d > max)
		return fail(err, errlen, "%s: %s is not a calendar date", key, s);
	out->y = y;
	out->m = m;
	out->d = d;
	return 0;
}

static int
date_cmp(const perso_date *a, const perso_date *b)
{
	long x = a->y * 10000L + a->m * 100L + a->d, y = b->y * 10000L + b->m * 100L + b->d;

	return x < y ? -1 : x > y;
}

static int
check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
    size_t errlen)
{
	const char *key = NULL;

	if (cnie_json_only_keys(obj, allowed, &key) != 0)
		return fail(err, errlen, "%s%s: unknown field", where, key != NULL ? key : "");
	return 0;
}

static const char *const top_keys[] = { "seed", "pki_seed", "key_family", "names",
	"document_number", "birth", "sex", "expiry", "issue", "nationality",
	"place_of_birth", "issuing_authority", "can", "pin", "puk", "pin_tries_left",
	"puk_tries_left", "cert_not_after", "serial", "ds_expired", "description",
	"comment", "document_type", "chip_key", NULL };
static const char *const name_keys[] = { "surname_latin", "given_latin",
	"surname_arabic", "given_arabic", NULL };

static int
parse_obj(json_t *root, perso_desc *d, char *err, size_t errlen)
{
	json_t *names, *v;
	char family[8] = "", sex[2] = "";
	uint8_t sb[8];
	size_t i;
	int r;

	if (!json_is_object(root))
		return fail(err, errlen, "description: must be a JSON object");
	if ((r = check_keys(root, top_keys, "", err, errlen)) != 0)
		return r;
	if ((r = get_str(root, "seed", "seed", true, d->seed, sizeof(d->seed), 1, is_text,
	    err, errlen)) != 0 ||
	    (r = get_str(root, "pki_seed", "pki_seed", false, d->pki_seed,
	    sizeof(d->pki_seed), 1, is_text, err, errlen)) != 0 ||
	    (r = get_str(root, "key_family", "key_family", true, family, sizeof(family), 2,
	    NULL, err, errlen)) != 0)
		return r;
	if (strcmp(family, "ec") == 0)
		d->family = PERSO_EC;
	else if (strcmp(family, "rsa") == 0)
		d->family = PERSO_RSA;
	else
		return fail(err, errlen, "key_family: must be \"ec\" or \"rsa\"");

	/* "id-card" (default: TD1 MRZ) or "passport" (TD3 MRZ, ICAO 9303-4). */
	if ((v = json_object_get(root, "document_type")) != NULL) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "id-card") != 0 &&
		    strcmp(json_string_value(v), "passport") != 0))
			return fail(err, errlen,
			    "document_type: must be \"id-card\" or \"passport\"");
		d->passport = strcmp(json_string_value(v), "passport") == 0;
	}
	/* Chip Authentication key: "brainpoolP256r1" (default) or "dh" (DG14, 9303-11 6.2). */
	if ((v = json_object_get(root, "chip_key")) != NULL) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "brainpoolP256r1") != 0 &&
		    strcmp(json_string_value(v), "dh") != 0))
			return fail(err, errlen,
			    "chip_key: must be \"brainpoolP256r1\" or \"dh\"");
		d->chip_dh = strcmp(json_string_value(v), "dh") == 0;
	}

	names = json_object_get(root, "names");
	if (names == NULL)
		return fail(err, errlen, "names: missing");
	if (!json_is_object(names))
		return fail(err, errlen, "names: must be an object");
	if ((r = check_keys(names, name_keys, "names.", err, errlen)) != 0 ||
	    (r = get_str(names, "surname_latin", "names.surname_latin", true,
	    d->surname_latin, sizeof(d->surname_latin), 1, is_mrz_name, err, errlen)) != 0 ||
	    (r = get_str(names, "given_latin", "names.given_latin", true, d->given_latin,
	    sizeof(d->given_latin), 1, is_mrz_name, err, errlen)) != 0 ||
	    (r = get_str(names, "surname_arabic", "names.surname_arabic", true,
	    d->surname_arabic, sizeof(d->surname_arabic), 1, NULL, err, errlen)) != 0 ||
	    (r = get_str(names, "given_arabic", "names.given_arabic", true,
	    d->given_arabic, sizeof(d->given_arabic), 1, NULL, err, errlen)) != 0)
		return r;

	if ((r = get_str(root, "document_number", "document_number", true,
	    d->document_number, sizeof(d->document_number), 1, is_alnum_upper, err,
	    errlen)) != 0 ||
	    (r = get_date(root, "birth", true, &d->birth, err, errlen)) != 0 ||
	    (r = get_date(root, "expiry", true, &d->expiry, err, errlen)) != 0 ||
	    (r = get_date(root, "issue", true, &d->issue, err, errlen)) != 0 ||
	    (r = get_date(root, "cert_not_after", false, &d->cert_not_after, err,
	    errlen)) != 0 ||
	    (r = get_str(root, "sex", "sex", true, sex, sizeof(sex), 1, NULL, err,
	    errlen)) != 0 ||
	    (r = get_str(root, "nationality", "nationality", true, d->nationality,
	    sizeof(d->nationality), 3, is_upper, err, errlen)) != 0 ||
	    (r = get_str(root, "place_of_birth", "place_of_birth", false,
	    d->place_of_birth, sizeof(d->place_of_birth), 1, is_text, err, errlen)) != 0 ||
	    (r = get_str(root, "issuing_authority", "issuing_authority", false,
	    d->issuing_authority, sizeof(d->issuing_authority), 1, is_text, err,
	    errlen)) != 0 ||
	    (r = get_str(root, "can", "can", false, d->can, sizeof(d->can), 6, is_digit,
	    err, errlen)) != 0 ||
	    (r = get_str(root, "pin", "pin", false, d->pin, sizeof(d->pin), 4, is_digit,
	    err, errlen)) != 0 ||
	    (r = get_str(root, "puk", "puk", false, d->puk, sizeof(d->puk), 8, is_digit,
	    err, errlen)) != 0 ||
	    (r = get_int(root, "pin_tries_left", 0, 3, &d->pin_tries_left, err,
	    errlen)) != 0 ||
	    (r = get_int(root, "puk_tries_left", 0, 10, &d->puk_tries_left, err,
	    errlen)) != 0 ||
	    (r = get_str(root, "serial", "serial", false, d->serial, sizeof(d->serial), 16,
	    is_hex, err, errlen)) != 0 ||
	    (r = get_str(root, "description", "description", false, d->description,
	    sizeof(d->description), 1, is_text, err, errlen)) != 0)
		return r;
	if (strchr("MFX", sex[0]) == NULL)
		return fail(err, errlen, "sex: must be \"M\", \"F\" or \"X\"");
	d->sex = sex[0];
	if ((v = json_object_get(root, "ds_expired")) != NULL) {
		if (!json_is_boolean(v))
			return fail(err, errlen, "ds_expired: must be true or false");
		d->ds_expired = json_is_true(v);
	}
	if ((v = json_object_get(root, "comment")) != NULL && !json_is_string(v))
		return fail(err, errlen, "comment: must be a string");

	/* Coherence between fields. */
	if (date_cmp(&d->birth, &d->issue) >= 0)
		return fail(err, errlen, "issue: must be after birth");
	if (date_cmp(&d->issue, &d->expiry) >= 0)
		return fail(err, errlen, "expiry: must be after issue");
	if (d->cert_not_after.y == 0)
		d->cert_not_after = d->expiry;
	else if (date_cmp(&d->issue, &d->cert_not_after) >= 0)
		return fail(err, errlen, "cert_not_after: must be after issue");
	if (d->serial[0] == '\0') {
		if ((r = perso_stream(d->seed, "card-serial", sb, sizeof(sb))) != 0)
			return r;
		for (i = 0; i < sizeof(sb); i++)
			snprintf(d->serial + 2 * i, 3, "%02X", sb[i]);
	}
	return 0;
}

static void
set_defaults(perso_desc *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->pki_seed, sizeof(d->pki_seed), "cnie-test-pki");
	snprintf(d->can, sizeof(d->can), "123456");
	snprintf(d->pin, sizeof(d->pin), "1234");
	snprintf(d->puk, sizeof(d->puk), "12345678");
	snprintf(d->place_of_birth, sizeof(d->place_of_birth), "RABAT");
	snprintf(d->issuing_authority, sizeof(d->issuing_authority), "DGSN TEST");
	snprintf(d->description, sizeof(d->description),
	    "CNIE reference card - TEST CARD, NOT A REAL IDENTITY");
	d->pin_tries_left = 3;
	d->puk_tries_left = 10;
}

int
perso_desc_parse(const char *json, size_t len, perso_desc *d, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	int r;

	set_defaults(d);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return fail(err, errlen, "description: line %d: %s", je.line, je.text);
	r = parse_obj(root, d, err, errlen);
	json_decref(root);
	if (r != 0)
		perso_desc_clear(d);
	return r;
}

int
perso_desc_load(const char *path, perso_desc *d, char *err, size_t errlen)
{
	char buf[16384];
	FILE *f;
	size_t n;
	int r;

	if ((f = fopen(path, "rb")) == NULL) {
		fail(err, errlen, "%s: cannot open", path);
		return CNIE_ERR_IO;
	}
	n = fread(buf, 1, sizeof(buf), f);
	r = ferror(f) ? CNIE_ERR_IO : 0;
	if (r == 0 && !feof(f))
		r = CNIE_ERR_TOO_LONG;
	fclose(f);
	if (r != 0) {
		fail(err, errlen, "%s: %s", path,
		    r == CNIE_ERR_IO ? "read error" : "larger than 16 KiB");
		return r;
	}
	r = perso_desc_parse(buf, n, d, err, errlen);
	cnie_wipe(buf, sizeof(buf));
	return r;
}

void
perso_desc_clear(perso_desc *d)
{
	cnie_wipe(d->can, sizeof(d->can));
	cnie_wipe(d->pin, sizeof(d->pin));
	cnie_wipe(d->puk, sizeof(d->puk));
}
