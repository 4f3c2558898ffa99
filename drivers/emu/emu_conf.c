/*
 * Loading a card directory (docs/card-dir.md): card.json, files/, keys/.
 * Strict: an unknown field, a wrong type or an out-of-range value stops the
 * load with a message naming the field, so that a personalisation mistake
 * is found at open and not as a strange status word later.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include <cnie/error.h>
#include <cnie/json.h>

#include "emu_int.h"

#define CONF_NAME "card.json"

static int
fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Every key of obj must be in allowed (NULL-terminated). */
static int
check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
    size_t errlen)
{
	const char *k = NULL;

	if (cnie_json_only_keys(obj, allowed, &k) != 0)
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s%s: unknown field",
		    where, k != NULL ? k : "");
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Strict hex (no spaces) of min..max bytes. */
static int
parse_hex(const char *s, uint8_t *out, size_t min, size_t max, size_t *n)
{
	size_t len = strlen(s), i;
	int hi, lo;

	if (len % 2 != 0 || len / 2 < min || len / 2 > max)
		return CNIE_ERR_ENCODING;
	for (i = 0; i < len / 2; i++) {
		if ((hi = hexval(s[2 * i])) < 0 || (lo = hexval(s[2 * i + 1])) < 0)
			return CNIE_ERR_ENCODING;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return 0;
}

/* A required (or optional, *out = NULL when absent) string field. */
static int
get_str(json_t *obj, const char *key, bool required, const char *where, const char **out,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s%s: missing", where, key);
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s%s: expected a string",
		    where, key);
	*out = json_string_value(v);
	return 0;
}

static int
get_int(json_t *obj, const char *key, bool required, long long min, long long max,
    const char *where, long long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (!required)
			return 0;
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s%s: missing", where, key);
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": %s%s: expected an integer %lld..%lld", where, key, min, max);
	*out = json_integer_value(v);
	return 0;
}

static int
copy_name(const char *s, char *out, const char *where, const char *key, char *err,
    size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= EMU_NAME_MAX)
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s%s: 1..%d characters",
		    where, key, EMU_NAME_MAX - 1);
	memcpy(out, s, n + 1);
	return 0;
}

int
emu_app_by_name(const cnie_emu *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->napps; i++)
		if (strcmp(e->apps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
pin_by_name(const cnie_emu *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->npins; i++)
		if (strcmp(e->pins[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * ISO 7816-3 clause 8: TS, T0, the interface bytes chained by TDi, K
 * historical bytes, then TCK when any protocol other than T=0 is
 * announced (the XOR of T0..TCK is 0).  *ext_len: the historical bytes
 * (compact-TLV, ISO 7816-4 8.1.1.2.7) carry card capabilities 7x whose
 * third software-function byte has b7 (extended Lc and Le fields) set.
 */
int
emu_parse_atr(const uint8_t *atr, size_t n, bool *ext_len)
{
	cnie_cur c;
	uint8_t ts, y, td, k, b, x = 0, tag, len;
	const uint8_t *hist = NULL;
	bool need_tck = false;
	size_t i;
	cnie_cur h;

	*ext_len = false;
	if (n < 2 || n > EMU_ATR_MAX)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&c, atr, n);
	(void)cnie_cur_u8(&c, &ts);
	if (ts != 0x3B && ts != 0x3F)
		return CNIE_ERR_ENCODING;
	if (cnie_cur_u8(&c, &td) != 0)
		return CNIE_ERR_ENCODING;
	k = td & 0x0F;
	y = td;
	for (;;) {
		/* TAi, TBi, TCi, TDi in that order, as announced by Y(i). */
		for (i = 0; i < 3; i++)
			if ((y & (0x10u << i)) != 0 && cnie_cur_skip(&c, 1) != 0)
				return CNIE_ERR_ENCODING;
		if ((y & 0x80) == 0)
			break;
		if (cnie_cur_u8(&c, &td) != 0)
			return CNIE_ERR_ENCODING;
		if ((td & 0x0F) != 0)
			need_tck = true;
		y = td;
	}
	if (cnie_cur_take(&c, k, &hist) != 0)
		return CNIE_ERR_ENCODING;
	if (need_tck) {
		if (cnie_cur_skip(&c, 1) != 0)
			return CNIE_ERR_ENCODING;
		for (i = 1; i < n; i++)
			x ^= atr[i];
		if (x != 0)
			return CNIE_ERR_ENCODING;
	}
	if (cnie_cur_end(&c) != 0)
		return CNIE_ERR_ENCODING;
	/* Category indicator 80: compact-TLV objects follow. */
	if (k < 1 || hist[0] != 0x80)
		return 0;
	cnie_cur_init(&h, hist + 1, (size_t)k - 1);
	while (cnie_cur_left(&h) > 0) {
		if (cnie_cur_u8(&h, &b) != 0)
			break;
		tag = b >> 4;
		len = b & 0x0F;
		if (cnie_cur_left(&h) < len)
			break;
		if (tag == 7 && len >= 3)
			*ext_len = (cnie_cur_peek(&h)[2] & 0x40) != 0;
		(void)cnie_cur_skip(&h, len);
	}
	return 0;
}

static int
load_atrs(cnie_emu *e, json_t *root, char *err, size_t errlen)
{
	static const char *const ok[] = { "contact", "contactless", NULL };
	static const char *const names[] = { "contact", "contactless" };
	json_t *o = json_object_get(root, "atr"), *ifs = json_object_get(root, "interfaces"), *v;
	const char *s;
	size_t i, j;
	bool ext;
	int r;

	if (!json_is_array(ifs) || json_array_size(ifs) == 0)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": interfaces: expected a non-empty array");
	json_array_foreach(ifs, i, v) {
		for (j = 0; j < 2; j++)
			if (json_is_string(v) && strcmp(json_string_value(v), names[j]) == 0)
				break;
		if (j == 2 || e->iface_ok[j])
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": interfaces[%zu]: \"contact\" or \"contactless\", once", i);
		e->iface_ok[j] = true;
	}
	if (!json_is_object(o))
		return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": atr: expected an object");
	if ((r = check_keys(o, ok, "atr.", err, errlen)) != 0)
		return r;
	for (j = 0; j < 2; j++) {
		if ((r = get_str(o, names[j], e->iface_ok[j], "atr.", &s, err, errlen)) != 0)
			return r;
		if (s == NULL)
			continue;
		if (parse_hex(s, e->atr[j], 2, EMU_ATR_MAX, &e->atr_len[j]) != 0 ||
		    emu_parse_atr(e->atr[j], e->atr_len[j], &ext) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": atr.%s: not a valid ATR (ISO 7816-3 clause 8, TCK)",
			    names[j]);
		/* Extended length is the chip's property: the contact ATR tells it. */
		if (j == CNIE_EMU_CONTACT || !e->iface_ok[CNIE_EMU_CONTACT])
			e->ext_len = e->ext_len || ext;
	}
	return 0;
}

static int
parse_policy(const char *s, enum emu_policy *out)
{
	if (s == NULL || strcmp(s, "open") == 0)
		*out = EMU_POL_OPEN;
	else if (strcmp(s, "pace") == 0)
		*out = EMU_POL_PACE;
	else if (strcmp(s, "pace-or-bac") == 0)
		*out = EMU_POL_SM;
	else
		return CNIE_ERR_ENCODING;
	return 0;
}

static int
load_apps(cnie_emu *e, json_t *root, char *err, size_t errlen)
{
	static const char *const ok[] = { "name", "aid", "fid", "contactless", "contact", NULL };
	json_t *a = json_object_get(root, "applications"), *o;
	struct emu_app *app;
	char where[48];
	const char *s;
	uint8_t fid[2];
	size_t i, j, n;
	int r;

	if (!json_is_array(a) || json_array_size(a) > EMU_MAX_APPS)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": applications: expected an array of at most %d", EMU_MAX_APPS);
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "applications[%zu].", i);
		app = &e->apps[i];
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s: expected an object",
			    where);
		if ((r = check_keys(o, ok, where, err, errlen)) != 0 ||
		    (r = get_str(o, "name", true, where, &s, err, errlen)) != 0 ||
		    (r = copy_name(s, app->name, where, "name", err, errlen)) != 0 ||
		    (r = get_str(o, "aid", true, where, &s, err, errlen)) != 0)
			return r;
		if (parse_hex(s, app->aid, 5, EMU_AID_MAX, &app->aid_len) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %said: 5..16 bytes of hex (ISO 7816-4 8.2.1.2)", where);
		if ((r = get_str(o, "fid", true, where, &s, err, errlen)) != 0)
			return r;
		if (parse_hex(s, fid, 2, 2, &n) != 0 || (fid[0] == 0x3F && fid[1] == 0x00) ||
		    (fid[0] == 0xFF && fid[1] == 0xFF))
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %sfid: 4 hex digits, not 3F00/FFFF", where);
		app->fid = (uint16_t)(fid[0] << 8 | fid[1]);
		if ((r = get_str(o, "contact", false, where, &s, err, errlen)) != 0)
			return r;
		if (parse_policy(s, &app->pol[CNIE_EMU_CONTACT]) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %scontact: \"open\", \"pace\" or \"pace-or-bac\"", where);
		if ((r = get_str(o, "contactless", false, where, &s, err, errlen)) != 0)
			return r;
		if (parse_policy(s, &app->pol[CNIE_EMU_CONTACTLESS]) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %scontactless: \"open\", \"pace\" or \"pace-or-bac\"", where);
		for (j = 0; j < i; j++)
			if (strcmp(e->apps[j].name, app->name) == 0 || e->apps[j].fid == app->fid ||
			    (e->apps[j].aid_len == app->aid_len &&
				memcmp(e->apps[j].aid, app->aid, app->aid_len) == 0))
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %s: name, aid or fid repeats applications[%zu]",
				    where, j);
		e->napps = i + 1;
	}
	return 0;
}

/* Reads a whole regular file of at most max bytes. */
static int
read_file(const char *path, size_t max, uint8_t **out, size_t *n)
{
	FILE *f = NULL;
	struct stat st;
	uint8_t *p = NULL;
	int r = CNIE_ERR_IO;

	*out = NULL;
	*n = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? CNIE_ERR_NOT_FOUND : CNIE_ERR_IO;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((size_t)st.st_size > max) {
		r = CNIE_ERR_TOO_LONG;
		goto out;
	}
	/* One spare byte so that an empty file still gets a distinct pointer. */
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		goto out;
	*out = p;
	*n = (size_t)st.st_size;
	p = NULL;
	r = 0;
out:
	free(p);
	fclose(f);
	return r;
}

/* "3F00-XXXX" (EF in the MF) or "3F00-DDDD-XXXX" (EF in an application DF). */
static int
parse_path(const cnie_emu *e, const char *s, struct emu_file *f)
{
	uint8_t b[2];
	size_t n, len = strlen(s), i;
	uint16_t df;

	if ((len != 9 && len != 14) || strncmp(s, "3F00-", 5) != 0)
		return CNIE_ERR_ENCODING;
	for (i = 0; i < len; i++) {
		if (i == 4 || i == 9) {
			if (s[i] != '-')
				return CNIE_ERR_ENCODING;
		} else if (hexval(s[i]) < 0 || (s[i] >= 'a' && s[i] <= 'f')) {
			return CNIE_ERR_ENCODING;
		}
	}
	f->app = -1;
	if (len == 14) {
		char tmp[5];

		memcpy(tmp, s + 5, 4);
		tmp[4] = '\0';
		if (parse_hex(tmp, b, 2, 2, &n) != 0)
			return CNIE_ERR_ENCODING;
		df = (uint16_t)(b[0] << 8 | b[1]);
		for (i = 0; i < e->napps; i++)
			if (e->apps[i].fid == df)
				f->app = (int)i;
		if (f->app < 0)
			return CNIE_ERR_NOT_FOUND;
	}
	if (parse_hex(s + len - 4, b, 2, 2, &n) != 0)
		return CNIE_ERR_ENCODING;
	f->fid = (uint16_t)(b[0] << 8 | b[1]);
	if (f->fid == 0x3F00 || f->fid == 0xFFFF)
		return CNIE_ERR_ENCODING;
	for (i = 0; i < e->napps; i++)
		if (f->app < 0 && e->apps[i].fid == f->fid)
			return CNIE_ERR_ENCODING; /* an EF may not shadow a DF */
	memcpy(f->path, s, len + 1);
	return 0;
}

static int
load_files(cnie_emu *e, const char *dir, json_t *root, char *err, size_t errlen)
{
	static const char *const ok[] = { "path", "read", "sfi", NULL };
	static const char *const acc[] = { "always", "pin", "sm", "never" };
	json_t *a = json_object_get(root, "files"), *o;
	struct emu_file *f;
	char where[48], *path = NULL;
	const char *s;
	long long sfi;
	size_t i, j;
	int r;

	if (!json_is_array(a) || json_array_size(a) > EMU_MAX_FILES)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": files: expected an array of at most %d", EMU_MAX_FILES);
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "files[%zu].", i);
		f = &e->files[i];
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s: expected an object",
			    where);
		if ((r = check_keys(o, ok, where, err, errlen)) != 0 ||
		    (r = get_str(o, "path", true, where, &s, err, errlen)) != 0)
			return r;
		if (parse_path(e, s, f) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %spath: \"3F00-XXXX\" or \"3F00-<application fid>-XXXX\", "
			    "upper-case hex", where);
		for (j = 0; j < i; j++)
			if (e->files[j].app == f->app && e->files[j].fid == f->fid)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %spath: repeats files[%zu]", where, j);
		if ((r = get_str(o, "read", true, where, &s, err, errlen)) != 0)
			return r;
		for (j = 0; j < 4; j++)
			if (strcmp(s, acc[j]) == 0)
				break;
		if (j == 4)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %sread: \"always\", \"pin\", \"sm\" or \"never\"", where);
		f->read = (enum emu_acc)j;
		sfi = 0;
		if ((r = get_int(o, "sfi", false, 1, 30, where, &sfi, err, errlen)) != 0)
			return r;
		f->sfi = (uint8_t)sfi;
		for (j = 0; j < i && sfi != 0; j++)
			if (e->files[j].app == f->app && e->files[j].sfi == f->sfi)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %ssfi: repeats files[%zu] in the same DF", where, j);
		if (asprintf(&path, "%s/files/%s", dir, f->path) < 0)
			return CNIE_ERR_NOMEM;
		r = read_file(path, EMU_FILE_MAX, &f->data, &f->len);
		free(path);
		path = NULL;
		e->nfiles = i + 1;
		if (r != 0)
			return fail(err, errlen, r, "files/%s: %s", f->path, cnie_strerror(r));
	}
	return 0;
}

static int
load_pins(cnie_emu *e, json_t *root, char *err, size_t errlen)
{
	static const char *const ok[] = { "name", "ref", "value", "min", "max", "tries", "puk",
		NULL };
	json_t *a = json_object_get(root, "pins"), *o;
	struct emu_pin *p;
	char where[48];
	const char *s;
	long long v;
	uint8_t ref;
	size_t i, j, n;
	int r;

	if (!json_is_array(a) || json_array_size(a) > EMU_MAX_PINS)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": pins: expected an array of at most %d", EMU_MAX_PINS);
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "pins[%zu].", i);
		p = &e->pins[i];
		p->puk = -1;
		p->app = -1;
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s: expected an object",
			    where);
		if ((r = check_keys(o, ok, where, err, errlen)) != 0 ||
		    (r = get_str(o, "name", true, where, &s, err, errlen)) != 0 ||
		    (r = copy_name(s, p->name, where, "name", err, errlen)) != 0 ||
		    (r = get_str(o, "ref", true, where, &s, err, errlen)) != 0)
			return r;
		if (parse_hex(s, &ref, 1, 1, &n) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %sref: 2 hex digits", where);
		p->ref = ref;
		if ((r = get_int(o, "min", true, 1, EMU_PIN_LEN_MAX, where, &v, err, errlen)) != 0)
			return r;
		p->min = (size_t)v;
		if ((r = get_int(o, "max", true, (long long)p->min, EMU_PIN_LEN_MAX, where, &v,
		    err, errlen)) != 0)
			return r;
		p->max = (size_t)v;
		/* SW2 of 63Cx holds the counter on 4 bits (ISO 7816-4 5.6). */
		if ((r = get_int(o, "tries", true, 1, 15, where, &v, err, errlen)) != 0)
			return r;
		p->tries_max = p->tries = (int)v;
		if ((r = get_str(o, "value", true, where, &s, err, errlen)) != 0)
			return r;
		n = strlen(s);
		for (j = 0; j < n; j++)
			if (s[j] < 0x20 || s[j] > 0x7E)
				break;
		if (n < p->min || n > p->max || j != n)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %svalue: printable ASCII, min..max characters", where);
		memcpy(p->value, s, n + 1);
		for (j = 0; j < i; j++)
			if (strcmp(e->pins[j].name, p->name) == 0 || e->pins[j].ref == p->ref)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %s: name or ref repeats pins[%zu]", where, j);
		e->npins = i + 1;
	}
	/* Second pass: PUK names refer to entries that may come later. */
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "pins[%zu].", i);
		if ((r = get_str(o, "puk", false, where, &s, err, errlen)) != 0)
			return r;
		if (s == NULL)
			continue;
		if ((e->pins[i].puk = pin_by_name(e, s)) < 0 || e->pins[i].puk == (int)i)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %spuk: names no other entry of pins", where);
	}
	return 0;
}

static int
load_key_file(const char *dir, const char *file, EVP_PKEY **out)
{
	char *path = NULL;
	BIO *bio = NULL;
	int r = CNIE_ERR_IO;

	*out = NULL;
	/* Inside the card directory only. */
	if (file[0] == '/' || strstr(file, "..") != NULL)
		return CNIE_ERR_ENCODING;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return CNIE_ERR_NOMEM;
	if ((bio = BIO_new_file(path, "r")) == NULL)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	r = 0;
out:
	BIO_free(bio);
	free(path);
	return r;
}

static int
load_keys(cnie_emu *e, const char *dir, json_t *root, char *err, size_t errlen)
{
	static const char *const ok[] = { "name", "ref", "file", "app", "use", "pin",
		"always_pin", NULL };
	static const char *const uses[] = { "sign", "internal-authenticate",
		"active-authentication", "chip-authentication" };
	json_t *a = json_object_get(root, "keys"), *o, *u, *v;
	struct emu_key *k;
	char where[48];
	const char *s;
	size_t i, j, n;
	int r, bits;

	if (!json_is_array(a) || json_array_size(a) > EMU_MAX_KEYS)
		return fail(err, errlen, CNIE_ERR_ENCODING,
		    CONF_NAME ": keys: expected an array of at most %d", EMU_MAX_KEYS);
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "keys[%zu].", i);
		k = &e->keys[i];
		k->pin = -1;
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": %s: expected an object",
			    where);
		if ((r = check_keys(o, ok, where, err, errlen)) != 0 ||
		    (r = get_str(o, "name", true, where, &s, err, errlen)) != 0 ||
		    (r = copy_name(s, k->name, where, "name", err, errlen)) != 0 ||
		    (r = get_str(o, "ref", false, where, &s, err, errlen)) != 0)
			return r;
		if (s != NULL) {
			if (parse_hex(s, &k->ref, 1, 1, &n) != 0)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %sref: 2 hex digits", where);
			k->has_ref = true;
		}
		if ((r = get_str(o, "app", true, where, &s, err, errlen)) != 0)
			return r;
		if ((k->app = emu_app_by_name(e, s)) < 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %sapp: names no application", where);
		u = json_object_get(o, "use");
		if (!json_is_array(u) || json_array_size(u) == 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %suse: expected a non-empty array", where);
		json_array_foreach(u, j, v) {
			for (n = 0; n < 4; n++)
				if (json_is_string(v) && strcmp(json_string_value(v), uses[n]) == 0)
					break;
			if (n == 4)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %suse[%zu]: \"sign\", \"internal-authenticate\", "
				    "\"active-authentication\" or \"chip-authentication\"", where, j);
			k->use |= 1u << n;
		}
		if ((k->use & (EMU_USE_SIGN | EMU_USE_INTAUTH)) != 0 && !k->has_ref)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %sref: required for sign/internal-authenticate", where);
		if ((r = get_str(o, "pin", false, where, &s, err, errlen)) != 0)
			return r;
		if (s != NULL && (k->pin = pin_by_name(e, s)) < 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %spin: names no entry of pins", where);
		v = json_object_get(o, "always_pin");
		if (v != NULL && !json_is_boolean(v))
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %salways_pin: expected true or false", where);
		k->always_pin = json_is_true(v);
		if (k->always_pin && k->pin < 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": %salways_pin: needs \"pin\"", where);
		for (j = 0; j < i; j++)
			if (strcmp(e->keys[j].name, k->name) == 0 ||
			    (k->has_ref && e->keys[j].has_ref && e->keys[j].ref == k->ref &&
				e->keys[j].app == k->app))
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": %s: name or ref repeats keys[%zu]", where, j);
		if ((r = get_str(o, "file", true, where, &s, err, errlen)) != 0)
			return r;
		e->nkeys = i + 1;
		if ((r = load_key_file(dir, s, &k->pkey)) != 0)
			return fail(err, errlen, r, "%s: cannot load a PEM private key (%s)", s,
			    cnie_strerror(r));
		bits = EVP_PKEY_get_bits(k->pkey);
		if (EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_RSA) {
			k->rsa = true;
		} else if ((EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_DH ||
			       EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_DHX) &&
		    k->use == EMU_USE_CA) {
			/* A DH key serves Chip Authentication only (9303-11 6.2). */
		} else if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_EC) {
			return fail(err, errlen, CNIE_ERR_UNSUPPORTED,
			    "%s: neither RSA nor EC (DH only for chip-authentication)", s);
		}
		if (bits <= 0)
			return fail(err, errlen, CNIE_ERR_CRYPTO, "%s: unusable key", s);
		k->size = ((size_t)bits + 7) / 8;
	}
	/* A PIN lives in the application of the keys it guards; its PUK too. */
	for (i = 0; i < e->nkeys; i++)
		if (e->keys[i].pin >= 0 && e->pins[e->keys[i].pin].app < 0)
			e->pins[e->keys[i].pin].app = e->keys[i].app;
	for (i = 0; i < e->npins; i++)
		if (e->pins[i].puk >= 0 && e->pins[e->pins[i].puk].app < 0)
			e->pins[e->pins[i].puk].app = e->pins[i].app;
	return 0;
}

static int
load_misc(cnie_emu *e, json_t *root, char *err, size_t errlen)
{
	static const char *const sec_ok[] = { "can", "mrz", NULL };
	static const char *const pace_ok[] = { "oid", "parameter_id", NULL };
	static const char *const hook_ok[] = { "tamper", NULL };
	static const char *const icao_ok[] = { "plain_errors", "wrong_key_sw", "aa_hash",
		"aa_trailer", "cam_fault", NULL };
	uint8_t oid[32];
	json_t *o, *v;
	const char *s;
	long long id;
	size_t n;
	int r, f;

	if ((o = json_object_get(root, "secrets")) != NULL) {
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": secrets: expected an object");
		if ((r = check_keys(o, sec_ok, "secrets.", err, errlen)) != 0 ||
		    (r = get_str(o, "can", false, "secrets.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL && (e->can = strdup(s)) == NULL)
			return CNIE_ERR_NOMEM;
		if ((r = get_str(o, "mrz", false, "secrets.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL && (e->mrz = strdup(s)) == NULL)
			return CNIE_ERR_NOMEM;
	}
	if ((o = json_object_get(root, "pace")) != NULL) {
		/* Informative: the card's PACE parameters are those of EF.CardAccess. */
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": pace: expected an object");
		if ((r = check_keys(o, pace_ok, "pace.", err, errlen)) != 0 ||
		    (r = get_str(o, "oid", true, "pace.", &s, err, errlen)) != 0)
			return r;
		if (parse_hex(s, oid, 1, sizeof(oid), &n) != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": pace.oid: hex");
		if ((r = get_int(o, "parameter_id", true, 0, 31, "pace.", &id, err, errlen)) != 0)
			return r;
	}
	if ((v = json_object_get(root, "blocked")) != NULL) {
		if (!json_is_boolean(v))
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": blocked: expected true or false");
		/* A card described as blocked starts with its user PIN at 0 tries. */
		if (json_is_true(v) && (f = emu_pin_user(e)) >= 0)
			e->pins[f].tries = 0;
	}
	if ((o = json_object_get(root, "icao")) != NULL) {
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": icao: expected an object");
		if ((r = check_keys(o, icao_ok, "icao.", err, errlen)) != 0 ||
		    (r = get_str(o, "plain_errors", false, "icao.", &s, err, errlen)) != 0)
			return r;
		if (s == NULL || strcmp(s, "protected") == 0)
			e->plain_errors = EMU_PLAIN_OFF;
		else if (strcmp(s, "keep") == 0)
			e->plain_errors = EMU_PLAIN_KEEP;
		else if (strcmp(s, "end") == 0)
			e->plain_errors = EMU_PLAIN_END;
		else
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": icao.plain_errors: \"protected\", \"keep\" or \"end\"");
		if ((r = get_str(o, "wrong_key_sw", false, "icao.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL) {
			uint8_t w[2];

			if (parse_hex(s, w, 2, 2, &n) != 0 || n != 2 || w[0] < 0x62 || w[0] > 0x6F)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": icao.wrong_key_sw: an error status word, 4 hex digits");
			e->wrong_key_sw = (uint16_t)(w[0] << 8 | w[1]);
		}
		if ((r = get_str(o, "aa_hash", false, "icao.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL) {
			const cnie_hash_info *hi = cnie_hash_by_name(s, CNIE_HASH_NAME_ANY);

			if (hi == NULL)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": icao.aa_hash: \"sha1\", \"sha224\", \"sha256\", "
				    "\"sha384\" or \"sha512\"");
			e->aa_hash = hi->id;
		}
		if ((r = get_str(o, "aa_trailer", false, "icao.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL && strcmp(s, "bc") != 0 && strcmp(s, "explicit") != 0)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": icao.aa_trailer: \"bc\" or \"explicit\"");
		/* BC is SHA-1's implicit trailer (ISO/IEC 9796-2): another hash needs XX CC. */
		if (s == NULL)
			e->aa_explicit_trailer = e->aa_hash != CNIE_CARD_HASH_NONE &&
			    e->aa_hash != CNIE_CARD_HASH_SHA1;
		else
			e->aa_explicit_trailer = strcmp(s, "explicit") == 0;
		if (!e->aa_explicit_trailer && e->aa_hash != CNIE_CARD_HASH_NONE &&
		    e->aa_hash != CNIE_CARD_HASH_SHA1)
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": icao.aa_trailer \"bc\" implies SHA-1");
		if ((r = get_str(o, "cam_fault", false, "icao.", &s, err, errlen)) != 0)
			return r;
		if (s == NULL || strcmp(s, "none") == 0)
			e->cam_fault = EMU_CAM_OK;
		else if (strcmp(s, "wrong") == 0)
			e->cam_fault = EMU_CAM_WRONG;
		else if (strcmp(s, "padding") == 0)
			e->cam_fault = EMU_CAM_PADDING;
		else if (strcmp(s, "absent") == 0)
			e->cam_fault = EMU_CAM_ABSENT;
		else
			return fail(err, errlen, CNIE_ERR_ENCODING,
			    CONF_NAME ": icao.cam_fault: \"none\", \"wrong\", \"padding\" or "
			    "\"absent\"");
	}
	if ((o = json_object_get(root, "hooks")) != NULL) {
		if (!json_is_object(o))
			return fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": hooks: expected an object");
		if ((r = check_keys(o, hook_ok, "hooks.", err, errlen)) != 0 ||
		    (r = get_str(o, "tamper", false, "hooks.", &s, err, errlen)) != 0)
			return r;
		if (s != NULL) {
			/*
			 * Test hook: the file is served with its last byte
			 * flipped, as if altered after signing (Passive
			 * Authentication must catch it).
			 */
			if ((f = emu_fs_find_path(e, s)) < 0 || e->files[f].len == 0)
				return fail(err, errlen, CNIE_ERR_ENCODING,
				    CONF_NAME ": hooks.tamper: names no non-empty file");
			e->files[f].data[e->files[f].len - 1] ^= 0x01;
		}
	}
	return 0;
}

static int
make_auth(cnie_emu *e)
{
	emu_auth_cfg cfg;
	size_t i;
	int f;

	memset(&cfg, 0, sizeof(cfg));
	cfg.can = e->can;
	cfg.mrz = e->mrz;
	if ((f = emu_fs_find_path(e, "3F00-011C")) >= 0) {
		cfg.card_access = e->files[f].data;
		cfg.card_access_len = e->files[f].len;
	}
	for (i = 0; i < e->nfiles; i++)
		if (e->files[i].app >= 0 && e->files[i].fid == 0x010E) {
			cfg.dg14 = e->files[i].data;
			cfg.dg14_len = e->files[i].len;
			break;
		}
	for (i = 0; i < e->nkeys; i++) {
		if ((e->keys[i].use & EMU_USE_AA) != 0 && cfg.aa_key == NULL)
			cfg.aa_key = e->keys[i].pkey;
		if ((e->keys[i].use & EMU_USE_CA) != 0 && cfg.ca_key == NULL)
			cfg.ca_key = e->keys[i].pkey;
	}
	cfg.wrong_key_sw = e->wrong_key_sw;
	cfg.aa_hash = e->aa_hash;
	cfg.aa_explicit_trailer = e->aa_explicit_trailer;
	cfg.cam_fault = e->cam_fault;
	cfg.rng = emu_random;
	cfg.rng_arg = e;
	return emu_auth_new(&cfg, &e->auth);
}

int
emu_conf_load(cnie_emu *e, const char *dir, char *err, size_t errlen)
{
	static const char *const ok[] = { "format", "description", "serial", "atr",
		"interfaces", "applications", "files", "pins", "keys", "secrets", "pace",
		"blocked", "hooks", "icao", NULL };
	json_error_t jerr;
	json_t *root = NULL;
	char *path = NULL;
	const char *s;
	long long fmt;
	size_t n;
	int r;

	if (asprintf(&path, "%s/" CONF_NAME, dir) < 0)
		return CNIE_ERR_NOMEM;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	free(path);
	if (root == NULL) {
		r = fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": line %d: %s", jerr.line,
		    jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		r = fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": expected an object");
		goto out;
	}
	if ((r = check_keys(root, ok, "", err, errlen)) != 0 ||
	    (r = get_int(root, "format", true, 1, 1, "", &fmt, err, errlen)) != 0 ||
	    (r = get_str(root, "description", false, "", &s, err, errlen)) != 0 ||
	    (r = get_str(root, "serial", true, "", &s, err, errlen)) != 0)
		goto out;
	if (parse_hex(s, e->serial, EMU_SERIAL_LEN, EMU_SERIAL_LEN, &n) != 0) {
		r = fail(err, errlen, CNIE_ERR_ENCODING, CONF_NAME ": serial: 16 hex digits");
		goto out;
	}
	if ((r = load_atrs(e, root, err, errlen)) != 0 ||
	    (r = load_apps(e, root, err, errlen)) != 0 ||
	    (r = load_files(e, dir, root, err, errlen)) != 0 ||
	    (r = load_pins(e, root, err, errlen)) != 0 ||
	    (r = load_keys(e, dir, root, err, errlen)) != 0 ||
	    (r = load_misc(e, root, err, errlen)) != 0)
		goto out;
	if ((r = make_auth(e)) != 0)
		r = fail(err, errlen, r, "ICAO protocols: %s (secrets.mrz, EF.CardAccess, DG14?)",
		    cnie_strerror(r));
out:
	json_decref(root);
	return r;
}

void
emu_conf_free(cnie_emu *e)
{
	size_t i;

	emu_auth_free(&e->auth);
	for (i = 0; i < e->nfiles; i++)
		free(e->files[i].data);
	for (i = 0; i < e->nkeys; i++)
		EVP_PKEY_free(e->keys[i].pkey);
	if (e->can != NULL)
		cnie_freezero(e->can, strlen(e->can));
	if (e->mrz != NULL)
		cnie_freezero(e->mrz, strlen(e->mrz));
	for (i = 0; i < e->npins; i++) {
		cnie_wipe(e->pins[i].value, sizeof(e->pins[i].value));
		cnie_wipe(e->pins[i].orig_value, sizeof(e->pins[i].orig_value));
	}
}
