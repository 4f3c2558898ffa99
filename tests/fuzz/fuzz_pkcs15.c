/*
 * libFuzzer harness for the PKCS#15 parsers (src/libcnie/pkcs15.c).
 *
 * The first input byte selects the parser (EF.DIR, ODF, TokenInfo, AODF,
 * PrKDF, CDF), the rest is the file.  Properties checked on any input,
 * abort() on a violation:
 *  - an error leaves *out NULL, success gives a result;
 *  - counts, lengths and strings stay within their caps, strings are
 *    NUL-terminated inside their arrays;
 *  - every object is found again by its identifier (find returns the
 *    first object with that identifier, whose identifier is equal);
 *  - a direct certificate is a complete SEQUENCE of at most
 *    CNIE_P15_MAX_CERT bytes;
 *  - the same input parses to the same result code again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/pkcs15.h>
#include <cnie/tlv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			    __LINE__, #cond);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

#define check_str(s) check(memchr((s), '\0', sizeof(s)) != NULL)

static void
check_path(const cnie_p15_path *p)
{
	check(p->len >= 1 && p->len <= CNIE_P15_MAX_PATH);
	if (!p->has_range)
		check(p->index == 0 && p->length == 0);
}

static void
check_common(const cnie_p15_common *c)
{
	check_str(c->label);
	check(c->auth_id_len <= CNIE_P15_MAX_ID);
}

static int
run_dir(const uint8_t *p, size_t n)
{
	cnie_p15_dir *dir = NULL;
	const cnie_p15_app *app;
	size_t i;
	int r;

	r = cnie_p15_dir_parse(p, n, &dir);
	check((r == 0) == (dir != NULL));
	if (r != 0)
		return r;
	check(dir->count <= CNIE_P15_MAX_OBJECTS);
	for (i = 0; i < dir->count; i++) {
		check(dir->apps[i].aid_len >= 1 && dir->apps[i].aid_len <= CNIE_P15_MAX_AID);
		check(dir->apps[i].path_len <= CNIE_P15_MAX_PATH);
		check_str(dir->apps[i].label);
		check(cnie_p15_dir_find(dir, dir->apps[i].aid, dir->apps[i].aid_len, &app) == 0);
		check(app <= &dir->apps[i] && app->aid_len == dir->apps[i].aid_len &&
		    memcmp(app->aid, dir->apps[i].aid, app->aid_len) == 0);
	}
	cnie_p15_dir_free(&dir);
	check(dir == NULL);
	return 0;
}

static int
run_odf(const uint8_t *p, size_t n)
{
	cnie_p15_odf *odf = NULL;
	const cnie_p15_path *path;
	size_t i;
	int r;

	r = cnie_p15_odf_parse(p, n, &odf);
	check((r == 0) == (odf != NULL));
	if (r != 0)
		return r;
	check(odf->count <= CNIE_P15_MAX_OBJECTS);
	for (i = 0; i < odf->count; i++) {
		check((unsigned)odf->entries[i].type <= CNIE_P15_AODF);
		check_path(&odf->entries[i].path);
		check(cnie_p15_odf_find(odf, odf->entries[i].type, 0, &path) == 0);
		check(path <= &odf->entries[i].path);
	}
	cnie_p15_odf_free(&odf);
	return 0;
}

static int
run_tokeninfo(const uint8_t *p, size_t n)
{
	cnie_p15_tokeninfo *ti = NULL;
	int r;

	r = cnie_p15_tokeninfo_parse(p, n, &ti);
	check((r == 0) == (ti != NULL));
	if (r != 0)
		return r;
	check_str(ti->serial);
	check(strlen(ti->serial) % 2 == 0);
	check_str(ti->manufacturer);
	check_str(ti->label);
	cnie_p15_tokeninfo_free(&ti);
	return 0;
}

static int
run_aodf(const uint8_t *p, size_t n)
{
	cnie_p15_aodf *aodf = NULL;
	const cnie_p15_pin *pin;
	size_t i;
	int r;

	r = cnie_p15_aodf_parse(p, n, &aodf);
	check((r == 0) == (aodf != NULL));
	if (r != 0)
		return r;
	check(aodf->count <= CNIE_P15_MAX_OBJECTS);
	for (i = 0; i < aodf->count; i++) {
		pin = &aodf->pins[i];
		check_common(&pin->common);
		check(pin->auth_id_len <= CNIE_P15_MAX_ID);
		check_str(pin->last_change);
		if (pin->has_path)
			check_path(&pin->path);
		check(pin->has_max_len || pin->max_len == 0);
		check(cnie_p15_aodf_find(aodf, pin->auth_id, pin->auth_id_len, &pin) == 0);
		check(pin <= &aodf->pins[i] && pin->auth_id_len == aodf->pins[i].auth_id_len);
	}
	cnie_p15_aodf_free(&aodf);
	return 0;
}

static int
run_prkdf(const uint8_t *p, size_t n)
{
	cnie_p15_prkdf *prkdf = NULL;
	const cnie_p15_prkey *key;
	size_t i;
	int r;

	r = cnie_p15_prkdf_parse(p, n, &prkdf);
	check((r == 0) == (prkdf != NULL));
	if (r != 0)
		return r;
	check(prkdf->count <= CNIE_P15_MAX_OBJECTS);
	for (i = 0; i < prkdf->count; i++) {
		key = &prkdf->keys[i];
		check(key->type == CNIE_P15_KEY_RSA || key->type == CNIE_P15_KEY_EC);
		check_common(&key->common);
		check(key->id_len <= CNIE_P15_MAX_ID);
		if (key->has_path)
			check_path(&key->path);
		check(key->type == CNIE_P15_KEY_RSA ? key->field_size == 0 : key->modulus_bits == 0);
		check(cnie_p15_prkdf_find(prkdf, key->id, key->id_len, &key) == 0);
		check(key <= &prkdf->keys[i] && key->id_len == prkdf->keys[i].id_len);
	}
	cnie_p15_prkdf_free(&prkdf);
	return 0;
}

static int
run_cdf(const uint8_t *p, size_t n)
{
	cnie_p15_cdf *cdf = NULL;
	const cnie_p15_cert *cert;
	cnie_tlv t;
	size_t i;
	int r;

	r = cnie_p15_cdf_parse(p, n, &cdf);
	check((r == 0) == (cdf != NULL));
	if (r != 0)
		return r;
	check(cdf->count <= CNIE_P15_MAX_OBJECTS);
	for (i = 0; i < cdf->count; i++) {
		cert = &cdf->certs[i];
		check_common(&cert->common);
		check(cert->id_len <= CNIE_P15_MAX_ID);
		switch (cert->kind) {
		case CNIE_P15_VALUE_PATH:
			check_path(&cert->path);
			check(cert->direct == NULL);
			break;
		case CNIE_P15_VALUE_DIRECT:
			check(cert->direct != NULL && cert->direct_len <= CNIE_P15_MAX_CERT);
			check(cnie_tlv_parse_one(cert->direct, cert->direct_len, &t) == 0);
			check(t.tag == 0x30);
			break;
		default:
			check(cert->kind == CNIE_P15_VALUE_NONE && cert->direct == NULL);
			break;
		}
		check(cnie_p15_cdf_find(cdf, cert->id, cert->id_len, &cert) == 0);
		check(cert <= &cdf->certs[i] && cert->id_len == cdf->certs[i].id_len);
	}
	cnie_p15_cdf_free(&cdf);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const parsers[])(const uint8_t *, size_t) = {
		run_dir, run_odf, run_tokeninfo, run_aodf, run_prkdf, run_cdf,
	};
	size_t which;
	int r;

	if (size == 0)
		return 0;
	which = data[0] % (sizeof(parsers) / sizeof(parsers[0]));
	r = parsers[which](data + 1, size - 1);
	check(r <= 0);
	check(parsers[which](data + 1, size - 1) == r);
	return 0;
}
