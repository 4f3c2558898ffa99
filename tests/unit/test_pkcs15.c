/*
 * Unit tests for the PKCS#15 parsers (src/libcnie/pkcs15.c): every PKCS#15 file of
 * the generated ec and rsa test cards (CNIE_BUILD_DIR/cards/<card>/files,
 * written by tools/perso/pkcs15.c) with exact values, then hostile inputs
 * with their exact errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pkcs15.h>
#include <cnie/tlv.h>

#include "unitutil.h"

#ifndef CNIE_BUILD_DIR
#error "CNIE_BUILD_DIR must name the build directory"
#endif

static const uint8_t pki_aid[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };
static const uint8_t icao_aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
static const uint8_t pki_df[] = { 0x3F, 0x00, 0xA0, 0x01 };

/* The "serial" of cards/<card>/card.json. */
static void
card_serial(const char *card, char *out, size_t cap)
{
	char path[512], text[8192];
	const char *s, *e;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/cards/%s/card.json", CNIE_BUILD_DIR, card);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	s = strstr(text, "\"serial\": \"");
	assert_non_null(s);
	s += strlen("\"serial\": \"");
	e = strchr(s, '"');
	assert_non_null(e);
	assert_true((size_t)(e - s) < cap);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
}

/* SHA-1 of the subjectPublicKey of a DER certificate file (RFC 5280 4.2.1.2 (1)). */
static void
cert_key_sha1(const char *card, const char *name, uint8_t out[20])
{
	cnie_buf *b = tu_card_file(card, name);
	const unsigned char *p = cnie_buf_ptr(b);
	unsigned int n = 0;
	X509 *x;

	x = d2i_X509(NULL, &p, (long)cnie_buf_len(b));
	assert_non_null(x);
	assert_ptr_equal(p, cnie_buf_ptr(b) + cnie_buf_len(b));
	assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), out, &n), 1);
	assert_int_equal(n, 20);
	X509_free(x);
	cnie_buf_free(&b);
}

/*
 * Builds bytes from a spec: hex, where a tag written right before '('
 * gets the (DER) length of what the parentheses hold, e.g.
 * "30(0201 00)" is 30 03 02 01 00.  Lengths written by hand are for the
 * deliberately wrong ones only.
 */
static const char *
spec_build(const char *s, cnie_buf *out)
{
	char tok[1024];
	size_t n;

	while (*s != '\0' && *s != ')') {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		for (n = 0; *s != '\0' && *s != ' ' && *s != '(' && *s != ')'; s++) {
			assert_true(n < sizeof(tok) - 1);
			tok[n++] = *s;
		}
		tok[n] = '\0';
		assert_int_equal(cnie_unhex(tok, out), 0);
		if (*s == '(') {
			cnie_buf *inner = cnie_buf_new();

			assert_non_null(inner);
			s = spec_build(s + 1, inner);
			assert_int_equal(*s, ')');
			s++;
			assert_int_equal(cnie_tlv_put_len(out, cnie_buf_len(inner)), 0);
			assert_int_equal(cnie_buf_put_buf(out, inner), 0);
			cnie_buf_free(&inner);
		}
	}
	return s;
}

static cnie_buf *
hexbuf(const char *spec)
{
	cnie_buf *b = cnie_buf_new();

	assert_non_null(b);
	assert_int_equal(*spec_build(spec, b), '\0');
	return b;
}

static void
assert_path(const cnie_p15_path *p, const char *hex)
{
	cnie_buf *want = hexbuf(hex);

	assert_int_equal(p->len, cnie_buf_len(want));
	assert_memory_equal(p->value, cnie_buf_ptr(want), p->len);
	assert_false(p->has_range);
	cnie_buf_free(&want);
}

/* Each parser on hex input: returns its result, frees the output. */
#define DEFINE_PARSE_HEX(name, type)                                           \
	static int name##_hex(const char *hex)                                 \
	{                                                                      \
		cnie_buf *b = hexbuf(hex);                                     \
		type *o = NULL;                                                \
		int r = cnie_p15_##name##_parse(cnie_buf_ptr(b), cnie_buf_len(b), &o); \
		if (r != 0)                                                    \
			assert_null(o);                                        \
		else                                                           \
			assert_non_null(o);                                    \
		cnie_p15_##name##_free(&o);                                    \
		assert_null(o);                                                \
		cnie_buf_free(&b);                                             \
		return r;                                                      \
	}
DEFINE_PARSE_HEX(dir, cnie_p15_dir)
DEFINE_PARSE_HEX(odf, cnie_p15_odf)
DEFINE_PARSE_HEX(tokeninfo, cnie_p15_tokeninfo)
DEFINE_PARSE_HEX(aodf, cnie_p15_aodf)
DEFINE_PARSE_HEX(prkdf, cnie_p15_prkdf)
DEFINE_PARSE_HEX(cdf, cnie_p15_cdf)

/* ---- the generated cards ---------------------------------------------- */

static void
check_dir(const char *card)
{
	cnie_buf *b = tu_card_file(card, "3F00-2F00");
	cnie_p15_dir *dir = NULL;
	const cnie_p15_app *app;

	assert_int_equal(cnie_p15_dir_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dir), 0);
	assert_int_equal(dir->count, 2);
	assert_int_equal(cnie_p15_dir_find(dir, pki_aid, sizeof(pki_aid), &app), 0);
	assert_ptr_equal(app, &dir->apps[0]);
	assert_string_equal(app->label, "CNIE");
	assert_int_equal(app->path_len, 4);
	assert_memory_equal(app->path, pki_df, 4);
	assert_false(app->has_ddo);
	assert_int_equal(cnie_p15_dir_find(dir, icao_aid, sizeof(icao_aid), &app), 0);
	assert_string_equal(app->label, "ICAO eMRTD");
	assert_memory_equal(app->path, "\x3F\x00\xA0\x02", 4);
	/* A prefix of an AID is another AID. */
	assert_int_equal(cnie_p15_dir_find(dir, pki_aid, 7, &app), CNIE_ERR_NOT_FOUND);
	assert_null(app);
	cnie_p15_dir_free(&dir);
	assert_null(dir);
	cnie_buf_free(&b);
}

static void
check_odf(const char *card)
{
	cnie_buf *b = tu_card_file(card, "3F00-A001-5031");
	cnie_p15_odf *odf = NULL;
	const cnie_p15_path *p;

	assert_int_equal(cnie_p15_odf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &odf), 0);
	assert_int_equal(odf->count, 3);
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_PRKDF, 0, &p), 0);
	assert_path(p, "3F00A0014402");
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_CDF, 0, &p), 0);
	assert_path(p, "3F00A0014404");
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_AODF, 0, &p), 0);
	assert_path(p, "3F00A0014401");
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_CDF, 1, &p), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_PUKDF, 0, &p), CNIE_ERR_NOT_FOUND);
	assert_null(p);
	cnie_p15_odf_free(&odf);
	cnie_buf_free(&b);
}

static void
check_tokeninfo(const char *card)
{
	cnie_buf *b = tu_card_file(card, "3F00-A001-5032");
	cnie_p15_tokeninfo *ti = NULL;
	char serial[64];

	card_serial(card, serial, sizeof(serial));
	assert_int_equal(strlen(serial), 16);
	assert_int_equal(cnie_p15_tokeninfo_parse(cnie_buf_ptr(b), cnie_buf_len(b), &ti), 0);
	assert_int_equal(ti->version, 0);
	assert_string_equal(ti->serial, serial);
	assert_string_equal(ti->manufacturer, "CNIE TEST");
	assert_string_equal(ti->label, "CNIE");
	assert_int_equal(ti->flags, CNIE_P15_TF_READONLY);
	cnie_p15_tokeninfo_free(&ti);
	cnie_buf_free(&b);
}

static void
check_aodf(const char *card)
{
	cnie_buf *b = tu_card_file(card, "3F00-A001-4401");
	cnie_p15_aodf *aodf = NULL;
	const cnie_p15_pin *pin, *puk;

	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf), 0);
	assert_int_equal(aodf->count, 2);
	assert_int_equal(cnie_p15_aodf_find(aodf, (const uint8_t *)"\x01", 1, &pin), 0);
	assert_int_equal(cnie_p15_aodf_find(aodf, (const uint8_t *)"\x02", 1, &puk), 0);
	assert_int_equal(cnie_p15_aodf_find(aodf, (const uint8_t *)"\x03", 1, &puk),
	    CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_p15_aodf_find(aodf, (const uint8_t *)"\x02", 1, &puk), 0);

	assert_string_equal(pin->common.label, "PIN");
	assert_int_equal(pin->common.flags, CNIE_P15_CO_MODIFIABLE);
	/* The PIN's CommonObjectAttributes.authId names the PUK. */
	assert_int_equal(pin->common.auth_id_len, 1);
	assert_int_equal(pin->common.auth_id[0], 0x02);
	assert_int_equal(pin->flags, CNIE_P15_PIN_LOCAL | CNIE_P15_PIN_INITIALIZED);
	assert_int_equal(pin->type, CNIE_P15_PIN_TYPE_ASCII_NUMERIC);
	assert_int_equal(pin->min_len, 4);
	assert_int_equal(pin->stored_len, 12);
	assert_true(pin->has_max_len);
	assert_int_equal(pin->max_len, 12);
	assert_int_equal(pin->reference, 0x81);
	assert_true(pin->has_pad_char);
	assert_int_equal(pin->pad_char, 0xFF);
	assert_string_equal(pin->last_change, "");
	assert_true(pin->has_path);
	assert_path(&pin->path, "3F00A001");

	assert_string_equal(puk->common.label, "PUK");
	assert_int_equal(puk->common.auth_id_len, 0);
	assert_int_equal(puk->flags, CNIE_P15_PIN_LOCAL | CNIE_P15_PIN_UNBLOCK_DISABLED |
	    CNIE_P15_PIN_INITIALIZED | CNIE_P15_PIN_UNBLOCKING_PIN);
	assert_int_equal(puk->min_len, 8);
	assert_int_equal(puk->stored_len, 8);
	assert_int_equal(puk->max_len, 8);
	assert_int_equal(puk->reference, 0x82);
	cnie_p15_aodf_free(&aodf);
	cnie_buf_free(&b);
}

/* PrKDF and CDF together: IDs are the certificates' key SHA-1, shared. */
static void
check_keys_and_certs(const char *card, cnie_p15_key_type type, uint32_t auth_bits,
    uint32_t sign_bits)
{
	static const char *const names[3] = { "3F00-A001-4331", "3F00-A001-4332",
		"3F00-A001-4333" };
	static const char *const labels[3] = { "Authentication certificate",
		"Signature certificate", "CA certificate" };
	static const char *const paths[3] = { "3F00A0014331", "3F00A0014332", "3F00A0014333" };
	cnie_buf *kb = tu_card_file(card, "3F00-A001-4402");
	cnie_buf *cb = tu_card_file(card, "3F00-A001-4404");
	cnie_p15_prkdf *prkdf = NULL;
	cnie_p15_cdf *cdf = NULL;
	const cnie_p15_prkey *key;
	const cnie_p15_cert *cert;
	uint8_t ids[3][20];
	size_t i;

	for (i = 0; i < 3; i++)
		cert_key_sha1(card, names[i], ids[i]);
	assert_int_equal(cnie_p15_prkdf_parse(cnie_buf_ptr(kb), cnie_buf_len(kb), &prkdf), 0);
	assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(cb), cnie_buf_len(cb), &cdf), 0);
	assert_int_equal(prkdf->count, 2);
	assert_int_equal(cdf->count, 3);

	for (i = 0; i < 2; i++) {
		key = &prkdf->keys[i];
		assert_int_equal(key->type, type);
		assert_string_equal(key->common.label,
		    i == 0 ? "Authentication key" : "Signature key");
		assert_int_equal(key->common.flags, CNIE_P15_CO_PRIVATE);
		assert_int_equal(key->common.auth_id_len, 1);
		assert_int_equal(key->common.auth_id[0], 0x01);
		assert_int_equal(key->id_len, 20);
		assert_memory_equal(key->id, ids[i], 20);
		assert_int_equal(key->usage, i == 0 ? CNIE_P15_USAGE_SIGN :
		    CNIE_P15_USAGE_SIGN | CNIE_P15_USAGE_NON_REPUDIATION);
		assert_true(key->native);
		assert_int_equal(key->access, CNIE_P15_ACCESS_SENSITIVE |
		    CNIE_P15_ACCESS_ALWAYS_SENSITIVE | CNIE_P15_ACCESS_NEVER_EXTRACTABLE |
		    CNIE_P15_ACCESS_LOCAL);
		assert_true(key->has_key_ref);
		assert_int_equal(key->key_ref, i == 0 ? 0x81 : 0x82);
		assert_true(key->has_path);
		assert_path(&key->path, "3F00A001");
		if (type == CNIE_P15_KEY_RSA) {
			assert_int_equal(key->modulus_bits, i == 0 ? auth_bits : sign_bits);
			assert_int_equal(key->field_size, 0);
		} else {
			assert_int_equal(key->field_size, i == 0 ? auth_bits : sign_bits);
			assert_int_equal(key->modulus_bits, 0);
		}
	}

	for (i = 0; i < 3; i++) {
		cert = &cdf->certs[i];
		assert_string_equal(cert->common.label, labels[i]);
		assert_int_equal(cert->common.flags, 0);
		assert_int_equal(cert->id_len, 20);
		assert_memory_equal(cert->id, ids[i], 20);
		assert_int_equal(cert->authority, i == 2);
		assert_int_equal(cert->kind, CNIE_P15_VALUE_PATH);
		assert_path(&cert->path, paths[i]);
		assert_null(cert->direct);
		/* Certificate <-> key by iD; the CA has no key on the card. */
		if (i < 2) {
			assert_int_equal(cnie_p15_prkdf_find(prkdf, cert->id, cert->id_len, &key), 0);
			assert_ptr_equal(key, &prkdf->keys[i]);
			assert_int_equal(cnie_p15_cdf_find(cdf, key->id, key->id_len, &cert), 0);
			assert_ptr_equal(cert, &cdf->certs[i]);
		} else {
			assert_int_equal(cnie_p15_prkdf_find(prkdf, cert->id, cert->id_len, &key),
			    CNIE_ERR_NOT_FOUND);
			assert_null(key);
		}
	}
	cnie_p15_prkdf_free(&prkdf);
	cnie_p15_cdf_free(&cdf);
	assert_null(prkdf);
	assert_null(cdf);
	cnie_buf_free(&kb);
	cnie_buf_free(&cb);
}

static void
test_ec_card(void **state)
{
	(void)state;
	check_dir("ec");
	check_odf("ec");
	check_tokeninfo("ec");
	check_aodf("ec");
	check_keys_and_certs("ec", CNIE_P15_KEY_EC, 256, 384);
}

static void
test_rsa_card(void **state)
{
	(void)state;
	check_dir("rsa");
	check_odf("rsa");
	check_tokeninfo("rsa");
	check_aodf("rsa");
	check_keys_and_certs("rsa", CNIE_P15_KEY_RSA, 2048, 3072);
}

/* The two cards' serials differ: the serial is read, not constant. */
static void
test_serials_differ(void **state)
{
	cnie_buf *a = tu_card_file("ec", "3F00-A001-5032");
	cnie_buf *b = tu_card_file("rsa", "3F00-A001-5032");
	cnie_p15_tokeninfo *ta = NULL, *tb = NULL;

	(void)state;
	assert_int_equal(cnie_p15_tokeninfo_parse(cnie_buf_ptr(a), cnie_buf_len(a), &ta), 0);
	assert_int_equal(cnie_p15_tokeninfo_parse(cnie_buf_ptr(b), cnie_buf_len(b), &tb), 0);
	assert_string_not_equal(ta->serial, tb->serial);
	cnie_p15_tokeninfo_free(&ta);
	cnie_p15_tokeninfo_free(&tb);
	cnie_buf_free(&a);
	cnie_buf_free(&b);
}

/* Parses p[0..n) as file kind i of test_card_files_truncated. */
static int
parse_kind(size_t i, const uint8_t *p, size_t n)
{
	void *o = NULL;
	int r;

	switch (i) {
	case 0:
		r = cnie_p15_tokeninfo_parse(p, n, (cnie_p15_tokeninfo **)&o);
		cnie_p15_tokeninfo_free((cnie_p15_tokeninfo **)&o);
		break;
	case 1:
		r = cnie_p15_aodf_parse(p, n, (cnie_p15_aodf **)&o);
		cnie_p15_aodf_free((cnie_p15_aodf **)&o);
		break;
	case 2:
		r = cnie_p15_prkdf_parse(p, n, (cnie_p15_prkdf **)&o);
		cnie_p15_prkdf_free((cnie_p15_prkdf **)&o);
		break;
	case 3:
		r = cnie_p15_cdf_parse(p, n, (cnie_p15_cdf **)&o);
		cnie_p15_cdf_free((cnie_p15_cdf **)&o);
		break;
	case 4:
		r = cnie_p15_odf_parse(p, n, (cnie_p15_odf **)&o);
		cnie_p15_odf_free((cnie_p15_odf **)&o);
		break;
	default:
		r = cnie_p15_dir_parse(p, n, (cnie_p15_dir **)&o);
		cnie_p15_dir_free((cnie_p15_dir **)&o);
		break;
	}
	return r;
}

/*
 * Every card file cut at every length: TRUNCATED, except at the end of a
 * top-level object of a directory file, where the shorter list is valid.
 */
static void
test_card_files_truncated(void **state)
{
	static const char *const names[] = { "3F00-A001-5032", "3F00-A001-4401",
		"3F00-A001-4402", "3F00-A001-4404", "3F00-A001-5031", "3F00-2F00" };
	size_t i, n, next;
	cnie_cur c;
	cnie_tlv t;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cnie_buf *b = tu_card_file("rsa", names[i]);

		cnie_buf_cur(b, &c);
		assert_int_equal(cnie_tlv_next(&c, &t), 0);
		next = c.pos;
		for (n = 1; n < cnie_buf_len(b); n++) {
			int r = parse_kind(i, cnie_buf_ptr(b), n);

			if (n == next) {
				assert_int_not_equal(i, 0); /* TokenInfo: one object */
				assert_int_equal(r, 0);
				assert_int_equal(cnie_tlv_next(&c, &t), 0);
				next = c.pos;
			} else {
				assert_int_equal(r, CNIE_ERR_TRUNCATED);
			}
		}
		assert_int_equal(next, cnie_buf_len(b));
		assert_int_equal(parse_kind(i, cnie_buf_ptr(b), n), 0);
		cnie_buf_free(&b);
	}
}

/* ---- TokenInfo -------------------------------------------------------- */

#define TI_OK "30(020100 04(ABCD) 0C(41) 80(42) 03(0780))"

static void
test_tokeninfo_minimal_and_padding(void **state)
{
	cnie_buf *b = hexbuf(TI_OK "0000FFFF00");
	cnie_p15_tokeninfo *ti = NULL;

	(void)state;
	assert_int_equal(cnie_p15_tokeninfo_parse(cnie_buf_ptr(b), cnie_buf_len(b), &ti), 0);
	assert_string_equal(ti->serial, "ABCD");
	assert_string_equal(ti->manufacturer, "A");
	assert_string_equal(ti->label, "B");
	assert_int_equal(ti->flags, CNIE_P15_TF_READONLY);
	cnie_p15_tokeninfo_free(&ti);
	cnie_buf_free(&b);

	/* Only version and tokenflags are mandatory; unknown fields skipped. */
	b = hexbuf("30(020101 1A(4142) 03(0470) A2(3000) 1A00)");
	assert_int_equal(cnie_p15_tokeninfo_parse(cnie_buf_ptr(b), cnie_buf_len(b), &ti), 0);
	assert_int_equal(ti->version, 1);
	assert_string_equal(ti->serial, "");
	assert_string_equal(ti->manufacturer, "");
	assert_string_equal(ti->label, "");
	assert_int_equal(ti->flags, CNIE_P15_TF_LOGIN_REQUIRED | CNIE_P15_TF_PRN_GENERATION |
	    CNIE_P15_TF_EID_COMPLIANT);
	cnie_p15_tokeninfo_free(&ti);
	cnie_buf_free(&b);
	/* Long-form lengths (BER) are accepted. */
	assert_int_equal(tokeninfo_hex("308108 02810100 03020780"), 0);
}

static void
test_tokeninfo_hostile(void **state)
{
	(void)state;
	assert_int_equal(tokeninfo_hex(""), CNIE_ERR_TRUNCATED);
	assert_int_equal(tokeninfo_hex("00FF00"), CNIE_ERR_TRUNCATED);
	/* Declared lengths beyond the data. */
	assert_int_equal(tokeninfo_hex("3005020100"), CNIE_ERR_TRUNCATED);
	assert_int_equal(tokeninfo_hex("3084FFFFFFFF020100"), CNIE_ERR_TRUNCATED);
	assert_int_equal(tokeninfo_hex("3007 020100 03030780"), CNIE_ERR_TRUNCATED);
	assert_int_equal(tokeninfo_hex("30"), CNIE_ERR_TRUNCATED);
	/* Indefinite length and 5-byte lengths: never in these files. */
	assert_int_equal(tokeninfo_hex("3080020100030207800000"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("3085000000000700"), CNIE_ERR_ENCODING);
	/* Wrong outer tag; missing version or tokenflags; wrong field types. */
	assert_int_equal(tokeninfo_hex("31(020100 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("A0(020100 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100)"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(0A0100 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 23(0780))"), CNIE_ERR_ENCODING);
	/* Second object after the TokenInfo. */
	assert_int_equal(tokeninfo_hex(TI_OK "0500"), CNIE_ERR_TRAILING);
	assert_int_equal(tokeninfo_hex(TI_OK TI_OK), CNIE_ERR_TRAILING);
	/* Integers: negative, non-minimal, empty, above 32 bits, the maximum. */
	assert_int_equal(tokeninfo_hex("30(0201FF 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(02020001 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(0200 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(02050100000000 03(0780))"), CNIE_ERR_TOO_LONG);
	assert_int_equal(tokeninfo_hex("30(020500FFFFFFFF 03(0780))"), 0);
	/* BIT STRING: more than 7 unused bits, unused bits with no byte, empty. */
	assert_int_equal(tokeninfo_hex("30(020100 03(0880))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 03(01))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 03())"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 03(00))"), 0);
	/* Labels: bad continuation, overlong, surrogate, truncated sequence, NUL. */
	assert_int_equal(tokeninfo_hex("30(020100 80(C328) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 80(C0AF) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 80(EDA080) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 80(E282) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 80(4100) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 0C(F4908080) 03(0780))"), CNIE_ERR_ENCODING);
	assert_int_equal(tokeninfo_hex("30(020100 80(E282AC F09F9982) 03(0780))"), 0);
	/* Serial of 33 bytes (32 pass). */
	assert_int_equal(tokeninfo_hex("30(020100 04("
	    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20"
	    ") 03(0780))"), CNIE_ERR_TOO_LONG);
	assert_int_equal(tokeninfo_hex("30(020100 04("
	    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	    ") 03(0780))"), 0);
}

static void
test_label_length_limit(void **state)
{
	char hex[2048];
	size_t i, len;
	int n;

	(void)state;
	for (len = 254; len <= 256; len++) {
		n = snprintf(hex, sizeof(hex), "30(020100 80(");
		for (i = 0; i < len; i++)
			n += snprintf(hex + n, sizeof(hex) - (size_t)n, "41");
		snprintf(hex + n, sizeof(hex) - (size_t)n, ") 03(0780))");
		assert_int_equal(tokeninfo_hex(hex), len <= CNIE_P15_MAX_LABEL ? 0 :
		    CNIE_ERR_TOO_LONG);
	}
}

/* ---- nesting, counts -------------------------------------------------- */

/* An unknown AODF object (external [2]) nesting depth levels. */
static cnie_buf *
nested(size_t depth)
{
	char spec[256] = "A2(";
	size_t i;

	assert_true(depth >= 1 && depth <= 40);
	for (i = 1; i < depth; i++)
		strcat(spec, "30(");
	for (i = 0; i < depth; i++)
		strcat(spec, ")");
	return hexbuf(spec);
}

static void
test_nesting_bomb(void **state)
{
	cnie_p15_aodf *aodf = NULL;
	cnie_p15_cdf *cdf = NULL;
	cnie_buf *b;

	(void)state;
	b = nested(CNIE_P15_MAX_DEPTH);
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf), 0);
	assert_int_equal(aodf->count, 0);
	cnie_p15_aodf_free(&aodf);
	cnie_buf_free(&b);
	b = nested(CNIE_P15_MAX_DEPTH + 1);
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf),
	    CNIE_ERR_NESTING);
	assert_null(aodf);
	cnie_buf_free(&b);
	b = nested(40);
	assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &cdf),
	    CNIE_ERR_NESTING);
	assert_null(cdf);
	cnie_buf_free(&b);
	/* Inside a known object, in a field that would be skipped. */
	assert_int_equal(prkdf_hex("30(3000 30(04(42) 03(00) A5(30(30(30(30(30(30(30(30(30(30("
	    "30(3000))))))))))))) A1(30(3000 020100)))"), CNIE_ERR_NESTING);
}

#define PIN_OBJ "30(30(0C(50494E)) 30(040101) A1(30(03(0640) 0A0101 020104 02010C" \
	" 02010C 80(0081) 0401FF)))"

static void
test_too_many_objects(void **state)
{
	cnie_p15_aodf *aodf = NULL;
	cnie_p15_cdf *cdf = NULL;
	cnie_buf *b, *one;
	size_t i;

	(void)state;
	one = hexbuf(PIN_OBJ);
	b = cnie_buf_new();
	assert_non_null(b);
	for (i = 0; i < CNIE_P15_MAX_OBJECTS; i++)
		assert_int_equal(cnie_buf_put_buf(b, one), 0);
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf), 0);
	assert_int_equal(aodf->count, CNIE_P15_MAX_OBJECTS);
	assert_string_equal(aodf->pins[CNIE_P15_MAX_OBJECTS - 1].common.label, "PIN");
	assert_int_equal(aodf->pins[CNIE_P15_MAX_OBJECTS - 1].reference, 0x81);
	cnie_p15_aodf_free(&aodf);
	assert_int_equal(cnie_buf_put_buf(b, one), 0);
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf),
	    CNIE_ERR_TOO_LONG);
	assert_null(aodf);
	cnie_buf_free(&b);
	cnie_buf_free(&one);

	/* Unknown objects count too (no endless list of skipped objects). */
	b = cnie_buf_new();
	assert_non_null(b);
	for (i = 0; i < CNIE_P15_MAX_OBJECTS; i++)
		assert_int_equal(cnie_buf_put(b, "\x05\x00", 2), 0);
	assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &cdf), 0);
	assert_int_equal(cdf->count, 0);
	cnie_p15_cdf_free(&cdf);
	assert_int_equal(cnie_buf_put(b, "\x05\x00", 2), 0);
	assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &cdf),
	    CNIE_ERR_TOO_LONG);
	assert_null(cdf);
	cnie_buf_free(&b);
}

static void
test_invalid_args(void **state)
{
	cnie_p15_dir *dir = NULL;
	const cnie_p15_app *app;
	const cnie_p15_cert *cert;

	(void)state;
	assert_int_equal(cnie_p15_dir_parse(NULL, 1, &dir), CNIE_ERR_INVALID_ARG);
	assert_null(dir);
	assert_int_equal(cnie_p15_dir_parse((const uint8_t *)"", 0, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_p15_tokeninfo_parse(NULL, 0, NULL), CNIE_ERR_INVALID_ARG);
	/* An empty directory file is an empty list. */
	assert_int_equal(cnie_p15_dir_parse(NULL, 0, &dir), 0);
	assert_int_equal(dir->count, 0);
	assert_int_equal(cnie_p15_dir_find(dir, pki_aid, sizeof(pki_aid), &app),
	    CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_p15_dir_find(dir, NULL, 0, &app), CNIE_ERR_INVALID_ARG);
	cnie_p15_dir_free(&dir);
	assert_null(dir);
	cnie_p15_dir_free(&dir);
	cnie_p15_dir_free(NULL);
	assert_int_equal(cnie_p15_cdf_find(NULL, NULL, 0, &cert), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_p15_odf_find(NULL, CNIE_P15_CDF, 0, NULL), CNIE_ERR_INVALID_ARG);
}

/* ---- EF.DIR ----------------------------------------------------------- */

static void
test_dir_hostile(void **state)
{
	cnie_buf *b;
	cnie_p15_dir *dir = NULL;

	(void)state;
	/* Unknown objects and fields skipped, any order in the template, padding. */
	b = hexbuf("0000 7F66(0200) 61(9F0100 51(AA) 4F(A000000001) 73(0100)) FFFF");
	assert_int_equal(cnie_p15_dir_parse(cnie_buf_ptr(b), cnie_buf_len(b), &dir), 0);
	assert_int_equal(dir->count, 1);
	assert_int_equal(dir->apps[0].aid_len, 5);
	assert_int_equal(dir->apps[0].path_len, 1);
	assert_int_equal(dir->apps[0].path[0], 0xAA);
	assert_true(dir->apps[0].has_ddo);
	assert_string_equal(dir->apps[0].label, "");
	cnie_p15_dir_free(&dir);
	cnie_buf_free(&b);

	assert_int_equal(dir_hex("61(50(41))"), CNIE_ERR_ENCODING);	   /* no AID */
	assert_int_equal(dir_hex("61()"), CNIE_ERR_ENCODING);
	assert_int_equal(dir_hex("61(4F(A0) 4F(A1))"), CNIE_ERR_ENCODING);	   /* twice */
	assert_int_equal(dir_hex("61(4F(A0) 50(41) 50(42))"), CNIE_ERR_ENCODING);
	assert_int_equal(dir_hex("61(4F(A0) 51(00) 51(01))"), CNIE_ERR_ENCODING);
	assert_int_equal(dir_hex("61(4F())"), CNIE_ERR_ENCODING);		   /* empty */
	assert_int_equal(dir_hex("61(4F(A0) 51())"), CNIE_ERR_ENCODING);
	assert_int_equal(dir_hex("61(4F(A0) 51(00))"), 0);
	assert_int_equal(dir_hex("61(4F(000102030405060708090A0B0C0D0E0F10))"), CNIE_ERR_TOO_LONG);
	assert_int_equal(dir_hex("61(4F(A0) 51(000102030405060708090A0B0C0D0E0F10))"),
	    CNIE_ERR_TOO_LONG);
	assert_int_equal(dir_hex("61(4F(A0) 50(FF))"), CNIE_ERR_ENCODING);
	assert_int_equal(dir_hex("6105 4F01A0 5003"), CNIE_ERR_TRUNCATED);
	assert_int_equal(dir_hex("6103 4F01A0 01"), CNIE_ERR_TRUNCATED);
	/* A tag byte 1F with no subsequent byte; a constructed primitive mix-up
	 * (a '61' whose value is not TLVs). */
	assert_int_equal(dir_hex("1F"), CNIE_ERR_TRUNCATED);
	assert_int_equal(dir_hex("61(4F)"), CNIE_ERR_TRUNCATED);
}

/* ---- ODF -------------------------------------------------------------- */

static void
test_odf_choices(void **state)
{
	cnie_buf *b;
	cnie_p15_odf *odf = NULL;
	const cnie_p15_path *p;

	(void)state;
	/* A1 by path with index/length; A4 objects [0] skipped; A9 skipped;
	 * primitive 81 skipped; A5 twice. */
	b = hexbuf("A1(30(04(3F00) 020110 80(00FF)))"
	    " A4(A0(3000)) A9(30(04(4401))) 81(00)"
	    " A5(30(04(4404))) A5(30(04(4405)))");
	assert_int_equal(cnie_p15_odf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &odf), 0);
	assert_int_equal(odf->count, 3);
	assert_int_equal(odf->entries[0].type, CNIE_P15_PUKDF);
	assert_true(odf->entries[0].path.has_range);
	assert_int_equal(odf->entries[0].path.index, 0x10);
	assert_int_equal(odf->entries[0].path.length, 0xFF);
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_CDF, 0, &p), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_p15_odf_find(odf, CNIE_P15_CDF_TRUSTED, 1, &p), 0);
	assert_path(p, "4405");
	cnie_p15_odf_free(&odf);
	cnie_buf_free(&b);

	/* Two objects in one entry (a CHOICE holds one); an empty entry. */
	assert_int_equal(odf_hex("A0(30(04(4402)) 30(04(4403)))"), CNIE_ERR_TRAILING);
	assert_int_equal(odf_hex("A0()"), CNIE_ERR_TRUNCATED);
	/* Path: empty, 17 bytes, index without length and the reverse,
	 * missing, wrong type, negative index. */
	assert_int_equal(odf_hex("A0(30(04()))"), CNIE_ERR_ENCODING);
	assert_int_equal(odf_hex("A0(30(04(000102030405060708090A0B0C0D0E0F10)))"),
	    CNIE_ERR_TOO_LONG);
	assert_int_equal(odf_hex("A0(30(04(000102030405060708090A0B0C0D0E0F)))"), 0);
	assert_int_equal(odf_hex("A0(30(04(4402) 020100))"), CNIE_ERR_ENCODING);
	assert_int_equal(odf_hex("A0(30(04(4402) 800100))"), CNIE_ERR_ENCODING);
	assert_int_equal(odf_hex("A0(30(0500))"), CNIE_ERR_ENCODING);
	assert_int_equal(odf_hex("A0(30(0C(4402)))"), CNIE_ERR_ENCODING);
	assert_int_equal(odf_hex("A0(30(04(4402) 0201FF 800100))"), CNIE_ERR_ENCODING);
	/* An ISO 7816-15 aid before the path is skipped. */
	assert_int_equal(odf_hex("A0(30(4F(A000000001) 04(4402)))"), 0);
}

/* ---- AODF ------------------------------------------------------------- */

static void
test_aodf_variants(void **state)
{
	cnie_buf *b;
	cnie_p15_aodf *aodf = NULL;
	const cnie_p15_pin *pin;

	(void)state;
	/* Biometric [0] object skipped; a PIN with only the mandatory fields,
	 * subClassAttributes, reference written as one byte 81,
	 * lastPinChange, an unknown field. */
	b = hexbuf("A0(3000)"
	    " 30(3000 3000 A000 A1(30(03(010610) 0A0102 020106 020108 80(81)"
	    " 18(32303236313132323132303030305A) 0500)))");
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf), 0);
	assert_int_equal(aodf->count, 1);
	pin = &aodf->pins[0];
	assert_string_equal(pin->common.label, "");
	assert_int_equal(pin->common.flags, 0);
	assert_int_equal(pin->auth_id_len, 0);
	/* 06 10 with 1 unused bit: named bits 5, 6 and 11. */
	assert_int_equal(pin->flags, CNIE_P15_PIN_NEEDS_PADDING | CNIE_P15_PIN_UNBLOCKING_PIN |
	    CNIE_P15_PIN_EXCHANGE_REF_DATA);
	assert_int_equal(pin->type, CNIE_P15_PIN_TYPE_UTF8);
	assert_int_equal(pin->min_len, 6);
	assert_int_equal(pin->stored_len, 8);
	assert_false(pin->has_max_len);
	assert_int_equal(pin->reference, 0x81);
	assert_false(pin->has_pad_char);
	assert_string_equal(pin->last_change, "20261122120000Z");
	assert_false(pin->has_path);
	cnie_p15_aodf_free(&aodf);
	cnie_buf_free(&b);

	/* pinReference absent: DEFAULT 0; unused bits set are ignored (BER). */
	b = hexbuf("30(3000 30(040107) A1(30(03(07FF) 0A0101 020104 020108)))");
	assert_int_equal(cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &aodf), 0);
	assert_int_equal(aodf->pins[0].reference, 0);
	assert_int_equal(aodf->pins[0].flags, CNIE_P15_PIN_CASE_SENSITIVE);
	assert_int_equal(aodf->pins[0].auth_id_len, 1);
	assert_int_equal(aodf->pins[0].auth_id[0], 0x07);
	cnie_p15_aodf_free(&aodf);
	cnie_buf_free(&b);

	assert_int_equal(aodf_hex(PIN_OBJ), 0);
	/* storedLength missing. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 0A0101 020104 800101)))"),
	    CNIE_ERR_ENCODING);
	/* pinType as INTEGER instead of ENUMERATED. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 020101 020104 020108)))"),
	    CNIE_ERR_ENCODING);
	/* padChar of two bytes; lastPinChange not printable. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 0A0101 020104 020108 04(FFFF))))"),
	    CNIE_ERR_ENCODING);
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 0A0101 020104 020108 18(3200))))"),
	    CNIE_ERR_ENCODING);
	/* A two-byte reference 0x81 written negative. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 0A0101 020104 020108 80(FF81))))"),
	    CNIE_ERR_ENCODING);
	/* typeAttributes not a SEQUENCE; missing; class attributes missing. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(0500))"), CNIE_ERR_ENCODING);
	assert_int_equal(aodf_hex("30(3000 3000)"), CNIE_ERR_ENCODING);
	assert_int_equal(aodf_hex("30(3000 A1(30(03(0780) 0A0101 020104 020108)))"),
	    CNIE_ERR_ENCODING);
	/* An explicitly tagged [1] with two objects. */
	assert_int_equal(aodf_hex("30(3000 3000 A1(30(03(0780) 0A0101 020104 020108) 3000))"),
	    CNIE_ERR_TRAILING);
	/* Identifiers: 64 bytes pass, 65 are too long. */
	{
		char hex[512];
		size_t i, len;
		int n;

		for (len = 64; len <= 65; len++) {
			n = snprintf(hex, sizeof(hex), "30(3000 30(04(");
			for (i = 0; i < len; i++)
				n += snprintf(hex + n, sizeof(hex) - (size_t)n, "11");
			snprintf(hex + n, sizeof(hex) - (size_t)n,
			    ")) A1(30(03(0780) 0A0101 020104 020108)))");
			assert_int_equal(aodf_hex(hex), len == 64 ? 0 : CNIE_ERR_TOO_LONG);
		}
	}
}

/* ---- PrKDF ------------------------------------------------------------ */

static void
test_prkdf_variants(void **state)
{
	cnie_buf *b;
	cnie_p15_prkdf *prkdf = NULL;
	const cnie_p15_prkey *k;

	(void)state;
	/* EC key with no fieldSize, native FALSE, no accessFlags, no
	 * keyReference, subClassAttributes present; a DSA key [2] skipped; an
	 * RSA key whose value is a URL, keyReference written 81, keyInfo. */
	b = hexbuf("A0(3000 30(04(42) 03(000080) 010100) A0(3000) A1(30(30(04(3F00A001)))))"
	    " A2(3000)"
	    " 30(3000 30(04(43) 03(0520) 020181) A1(30(13(41) 0202 0800 020101)))");
	assert_int_equal(cnie_p15_prkdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &prkdf), 0);
	assert_int_equal(prkdf->count, 2);
	k = &prkdf->keys[0];
	assert_int_equal(k->type, CNIE_P15_KEY_EC);
	assert_int_equal(k->usage, CNIE_P15_USAGE_DERIVE);
	assert_false(k->native);
	assert_int_equal(k->access, 0);
	assert_false(k->has_key_ref);
	assert_true(k->has_path);
	assert_path(&k->path, "3F00A001");
	assert_int_equal(k->field_size, 0);
	k = &prkdf->keys[1];
	assert_int_equal(k->type, CNIE_P15_KEY_RSA);
	assert_int_equal(k->id_len, 1);
	assert_int_equal(k->id[0], 0x43);
	assert_int_equal(k->usage, CNIE_P15_USAGE_SIGN);
	assert_true(k->native);
	assert_true(k->has_key_ref);
	assert_int_equal(k->key_ref, 0x81);
	assert_false(k->has_path);
	assert_int_equal(k->modulus_bits, 2048);
	cnie_p15_prkdf_free(&prkdf);
	cnie_buf_free(&b);

	/* RSA key without modulusLength. */
	assert_int_equal(prkdf_hex("30(3000 30(04(42) 03(00)) A1(30(30(04(3F00)))))"),
	    CNIE_ERR_ENCODING);
	/* Missing iD, missing usage. */
	assert_int_equal(prkdf_hex("30(3000 30(03(00)) A1(30(3000 02020800)))"),
	    CNIE_ERR_ENCODING);
	assert_int_equal(prkdf_hex("30(3000 30(04(42)) A1(30(30(04(3F00)) 02020800)))"),
	    CNIE_ERR_ENCODING);
	/* native BOOLEAN of two bytes. */
	assert_int_equal(prkdf_hex("30(3000 30(04(42) 03(00) 01(FFFF)) A1(30(30(04(3F00)) 02020800)))"),
	    CNIE_ERR_ENCODING);
	/* Negative keyReference over two bytes. */
	assert_int_equal(prkdf_hex("30(3000 30(04(42) 03(00) 02(FF81)) A1(30(30(04(3F00)) 02020800)))"),
	    CNIE_ERR_ENCODING);
	/* Path in the key value: empty OCTET STRING. */
	assert_int_equal(prkdf_hex("30(3000 30(04(42) 03(00)) A1(30(30(04()) 02020800)))"),
	    CNIE_ERR_ENCODING);
	/* Objects missing CommonObjectAttributes / typeAttributes. */
	assert_int_equal(prkdf_hex("A0(30(04(42) 03(00)) A1(30(30(04(3F00)))))"),
	    CNIE_ERR_ENCODING);
	assert_int_equal(prkdf_hex("A0(3000 30(04(42) 03(00)))"), CNIE_ERR_ENCODING);
}

/* ---- CDF -------------------------------------------------------------- */

/* A fake Certificate SEQUENCE { SEQUENCE {}, SEQUENCE {}, BIT STRING 00 }. */
#define FAKE_CERT "30(3000 3000 03(00))"

static void
test_cdf_values(void **state)
{
	cnie_buf *b, *want = hexbuf(FAKE_CERT);
	cnie_p15_cdf *cdf = NULL;

	(void)state;
	/* Explicit direct [0], implicit direct [0], URL, other certificate type
	 * (cvCertificate [5]) skipped. */
	b = hexbuf("30(3000 30(04(01)) A1(30(A0(" FAKE_CERT "))))"
	    " 30(3000 30(04(02) 0101FF) A1(30(A0(3000 3000 03(00)))))"
	    " 30(3000 30(04(03)) A1(30(13(68747470))))"
	    " A5(3000)");
	assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &cdf), 0);
	assert_int_equal(cdf->count, 3);
	assert_int_equal(cdf->certs[0].kind, CNIE_P15_VALUE_DIRECT);
	assert_int_equal(cdf->certs[0].direct_len, cnie_buf_len(want));
	assert_memory_equal(cdf->certs[0].direct, cnie_buf_ptr(want), cnie_buf_len(want));
	assert_false(cdf->certs[0].authority);
	assert_int_equal(cdf->certs[1].kind, CNIE_P15_VALUE_DIRECT);
	assert_int_equal(cdf->certs[1].direct_len, cnie_buf_len(want));
	assert_memory_equal(cdf->certs[1].direct, cnie_buf_ptr(want), cnie_buf_len(want));
	assert_true(cdf->certs[1].authority);
	assert_int_equal(cdf->certs[2].kind, CNIE_P15_VALUE_NONE);
	assert_null(cdf->certs[2].direct);
	cnie_p15_cdf_free(&cdf);
	cnie_buf_free(&b);
	cnie_buf_free(&want);

	/* Empty X509CertificateAttributes; empty direct value; no iD;
	 * authority of two bytes. */
	assert_int_equal(cdf_hex("30(3000 30(04(01)) A1(3000))"), CNIE_ERR_TRUNCATED);
	assert_int_equal(cdf_hex("30(3000 30(04(01)) A1(30(A000)))"), CNIE_ERR_ENCODING);
	assert_int_equal(cdf_hex("30(3000 3000 A1(30(30(04(4331)))))"), CNIE_ERR_ENCODING);
	assert_int_equal(cdf_hex("30(3000 30(04(01) 01(FFFF)) A1(30(30(04(4331)))))"),
	    CNIE_ERR_ENCODING);
	/* A direct certificate, then a broken object: the value allocated
	 * for the first is freed (ASan checks). */
	assert_int_equal(cdf_hex("30(3000 30(04(01)) A1(30(A0(" FAKE_CERT "))))"
	    " 30(3000 3000)"), CNIE_ERR_ENCODING);
}

/* A direct certificate of CNIE_P15_MAX_CERT bytes passes, one more is too long. */
static void
test_cdf_direct_size_limit(void **state)
{
	cnie_p15_cdf *cdf = NULL;
	size_t clen, i;
	cnie_buf *b;
	char *spec;

	(void)state;
	/* Implicit [0]: content clen, rebuilt with a 4-byte header 30 82 xx xx;
	 * the content is one OCTET STRING 04 82 LL LL filling clen bytes. */
	for (i = 0; i < 2; i++) {
		static const char pre[] = "30(3000 30(04(01)) A1(30(A0(04(";
		size_t k, off;

		clen = CNIE_P15_MAX_CERT - 4 + i;
		spec = malloc(sizeof(pre) + 3 * clen + 16);
		assert_non_null(spec);
		memcpy(spec, pre, sizeof(pre) - 1);
		off = sizeof(pre) - 1;
		for (k = 0; k < clen - 4; k++, off += 3)
			memcpy(spec + off, "00 ", 3);
		strcpy(spec + off, ")))))");
		b = hexbuf(spec);
		free(spec);
		assert_int_equal(cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &cdf),
		    i == 0 ? 0 : CNIE_ERR_TOO_LONG);
		if (i == 0) {
			assert_int_equal(cdf->certs[0].direct_len, CNIE_P15_MAX_CERT);
			assert_int_equal(cdf->certs[0].direct[0], 0x30);
			assert_int_equal(cdf->certs[0].direct[4], 0x04);
		} else {
			assert_null(cdf);
		}
		cnie_p15_cdf_free(&cdf);
		cnie_buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_card),
		cmocka_unit_test(test_rsa_card),
		cmocka_unit_test(test_serials_differ),
		cmocka_unit_test(test_card_files_truncated),
		cmocka_unit_test(test_tokeninfo_minimal_and_padding),
		cmocka_unit_test(test_tokeninfo_hostile),
		cmocka_unit_test(test_label_length_limit),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_too_many_objects),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_dir_hostile),
		cmocka_unit_test(test_odf_choices),
		cmocka_unit_test(test_aodf_variants),
		cmocka_unit_test(test_prkdf_variants),
		cmocka_unit_test(test_cdf_values),
		cmocka_unit_test(test_cdf_direct_size_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
