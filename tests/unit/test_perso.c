/*
 * Unit tests for cnie-perso (tools/perso): deterministic keys and files,
 * MRZ check digits (ICAO 9303-3), EF.SOD (CMS signature and hashes,
 * ICAO 9303-10 4.6.2), certificate chains, the DER of the PKCS#15 files,
 * the ATRs, the description checks and the directory writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/mrz.h>

#include "perso.h"

/* The ICAO 9303-5 TD1 specimen (Appendix A) as a description. */
static const char specimen_json[] =
    "{\"seed\":\"unit-specimen\",\"key_family\":\"ec\","
    "\"names\":{\"surname_latin\":\"ERIKSSON\",\"given_latin\":\"ANNA MARIA\","
    "\"surname_arabic\":\"\\u0627\",\"given_arabic\":\"\\u0628\"},"
    "\"document_number\":\"D23145890\",\"birth\":\"1974-08-12\",\"sex\":\"F\","
    "\"expiry\":\"2012-04-15\",\"issue\":\"2002-04-15\",\"nationality\":\"UTO\"}";

static const char ec_json[] =
    "{\"seed\":\"unit-ec\",\"key_family\":\"ec\","
    "\"names\":{\"surname_latin\":\"TESTOUI\",\"given_latin\":\"AMINA\","
    "\"surname_arabic\":\"\\u062a\\u0633\\u062a\",\"given_arabic\":\"\\u0623\\u0645\\u064a\\u0646\\u0629\"},"
    "\"document_number\":\"ZU0000009\",\"birth\":\"1991-02-03\",\"sex\":\"F\","
    "\"expiry\":\"2034-05-06\",\"issue\":\"2024-05-06\",\"nationality\":\"MAR\","
    "\"serial\":\"00112233445566AA\"}";

static const char rsa_json[] =
    "{\"seed\":\"unit-rsa\",\"key_family\":\"rsa\",\"pin_tries_left\":0,"
    "\"names\":{\"surname_latin\":\"TESTAOUI\",\"given_latin\":\"OMAR\","
    "\"surname_arabic\":\"\\u062a\",\"given_arabic\":\"\\u0639\"},"
    "\"document_number\":\"ZU0000010\",\"birth\":\"1980-12-31\",\"sex\":\"M\","
    "\"expiry\":\"2035-01-01\",\"issue\":\"2025-01-01\",\"nationality\":\"MAR\"}";

typedef struct fixture {
	perso_card ec, rsa;
} fixture;

static void
make(const char *json, perso_card *card)
{
	char err[PERSO_ERRLEN];
	perso_desc d;

	assert_int_equal(perso_desc_parse(json, strlen(json), &d, err, sizeof(err)), 0);
	assert_int_equal(perso_card_make(&d, card, err, sizeof(err)), 0);
	perso_desc_clear(&d);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	make(ec_json, &f->ec);
	make(rsa_json, &f->rsa);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	perso_card_free(&f->ec);
	perso_card_free(&f->rsa);
	free(f);
	return 0;
}

static const perso_file *
file(const perso_card *c, const char *path)
{
	const perso_file *f = perso_card_file(c, path);

	assert_non_null(f);
	return f;
}

static void
assert_file_hex(const perso_card *c, const char *path, const char *hex)
{
	const perso_file *f = file(c, path);
	cnie_buf *want = cnie_buf_new();

	assert_int_equal(cnie_unhex(hex, want), 0);
	assert_int_equal(cnie_buf_len(f->data), cnie_buf_len(want));
	assert_memory_equal(cnie_buf_ptr(f->data), cnie_buf_ptr(want), cnie_buf_len(want));
	cnie_buf_free(&want);
}

/* ---- strict DER walker (X.690 10.1: definite, minimal lengths) ---------- */

static int
der_walk(cnie_cur *c, int depth)
{
	uint8_t t, l, b;
	size_t len = 0, i, n;
	cnie_cur sub;
	int r;

	if (depth > 16)
		return CNIE_ERR_NESTING;
	while (cnie_cur_left(c) > 0) {
		if ((r = cnie_cur_u8(c, &t)) != 0)
			return r;
		if ((t & 0x1f) == 0x1f) { /* multi-byte tag: minimal, <= 3 bytes */
			for (i = 0;; i++) {
				if (i > 2 || (r = cnie_cur_u8(c, &b)) != 0)
					return CNIE_ERR_ENCODING;
				if (i == 0 && b == 0x80)
					return CNIE_ERR_ENCODING;
				if ((b & 0x80) == 0)
					break;
			}
		}
		if ((r = cnie_cur_u8(c, &l)) != 0)
			return r;
		if (l == 0x80 || l > 0x84)
			return CNIE_ERR_ENCODING;
		if (l & 0x80) {
			n = l & 0x7f;
			for (i = 0; i < n; i++) {
				if ((r = cnie_cur_u8(c, &b)) != 0)
					return r;
				if (i == 0 && b == 0)
					return CNIE_ERR_ENCODING;
				len = (len << 8) | b;
			}
			if (len < 0x80)
				return CNIE_ERR_ENCODING;
		} else
			len = l;
		if ((r = cnie_cur_sub(c, len, &sub)) != 0)
			return r;
		/* Constructed values, and the OCTET STRING eContent of EF.SOD
		 * are walked too; primitives are skipped. */
		if ((t & 0x20) != 0 && (r = der_walk(&sub, depth + 1)) != 0)
			return r;
		len = 0;
	}
	return cnie_cur_end(c);
}

static void
test_files_are_strict_der(void **state)
{
	fixture *f = *state;
	const perso_card *cards[2] = { &f->ec, &f->rsa };
	cnie_cur c;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		assert_int_equal(cards[k]->nfiles, 19);
		for (i = 0; i < cards[k]->nfiles; i++) {
			cnie_buf_cur(cards[k]->files[i].data, &c);
			if (der_walk(&c, 0) != 0)
				fail_msg("%s is not strict DER", cards[k]->files[i].path);
		}
	}
}

/* ---- determinism ------------------------------------------------------- */

static void
pem_of(EVP_PKEY *k, char **out, long *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	*n = BIO_get_mem_data(b, &p);
	*out = malloc((size_t)*n);
	memcpy(*out, p, (size_t)*n);
	BIO_free(b);
}

static void
assert_same_key(EVP_PKEY *a, EVP_PKEY *b)
{
	char *pa, *pb;
	long na, nb;

	pem_of(a, &pa, &na);
	pem_of(b, &pb, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(pa, pb, (size_t)na);
	free(pa);
	free(pb);
}

static void
test_same_seed_same_card(void **state)
{
	fixture *f = *state;
	perso_card again;
	char *j1, *j2;
	size_t i;

	make(ec_json, &again);
	assert_same_key(f->ec.auth_key, again.auth_key);
	assert_same_key(f->ec.sign_key, again.sign_key);
	assert_same_key(f->ec.aa_key, again.aa_key);
	assert_same_key(f->ec.chip_key, again.chip_key);
	assert_same_key(f->ec.pki.csca_key, again.pki.csca_key);
	/* Every file, EF.SOD and the certificates included, is identical:
	 * the CA keys sign with RSA PKCS#1 v1.5 and the signing time is fixed. */
	assert_int_equal(f->ec.nfiles, again.nfiles);
	for (i = 0; i < again.nfiles; i++) {
		assert_string_equal(f->ec.files[i].path, again.files[i].path);
		assert_int_equal(cnie_buf_len(f->ec.files[i].data),
		    cnie_buf_len(again.files[i].data));
		assert_memory_equal(cnie_buf_ptr(f->ec.files[i].data),
		    cnie_buf_ptr(again.files[i].data), cnie_buf_len(again.files[i].data));
	}
	assert_int_equal(perso_card_json(&f->ec, &j1), 0);
	assert_int_equal(perso_card_json(&again, &j2), 0);
	assert_string_equal(j1, j2);
	free(j1);
	free(j2);
	perso_card_free(&again);
}

static void
test_other_seed_other_keys(void **state)
{
	fixture *f = *state;
	EVP_PKEY *k = NULL;

	/* Same label, another seed: another key. */
	assert_int_equal(perso_ec_key("unit-ec-2", "auth", NID_X9_62_prime256v1, &k), 0);
	assert_int_not_equal(EVP_PKEY_eq(k, f->ec.auth_key), 1);
	EVP_PKEY_free(k);
	/* Same seed and label: the same key. */
	assert_int_equal(perso_ec_key("unit-ec", "auth", NID_X9_62_prime256v1, &k), 0);
	assert_int_equal(EVP_PKEY_eq(k, f->ec.auth_key), 1);
	EVP_PKEY_free(k);
}

static void
test_stream_known_answer(void **state)
{
	/* SHAKE256("cnie-perso/1" || 00000001 "s" || 00000001 "l"), first 8 bytes,
	 * pinned so that a change of derivation (which changes every test
	 * card) cannot go unnoticed. */
	uint8_t a[8], b[8];

	assert_int_equal(perso_stream("s", "l", a, sizeof(a)), 0);
	/* Python: hashlib.shake_256(b"cnie-perso/1\0\0\0\1s\0\0\0\1l").hexdigest(8) */
	assert_memory_equal(a, "\x92\xa1\x0a\x7b\xd7\xc7\xac\x68", 8);
	assert_int_equal(perso_stream("s", "m", b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, 8);
	/* ("sl", "") and ("s", "l") must differ: the lengths are hashed. */
	assert_int_equal(perso_stream("sl", "", b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, 8);
	assert_int_equal(perso_stream("s", "l", NULL, 8), CNIE_ERR_INVALID_ARG);
}

static void
test_keys_sizes_and_consistency(void **state)
{
	fixture *f = *state;
	EVP_PKEY *keys[] = { f->ec.auth_key, f->ec.sign_key, f->ec.aa_key, f->ec.chip_key,
		f->rsa.auth_key, f->rsa.sign_key, f->rsa.aa_key };
	const int bits[] = { 256, 384, 256, 256, 2048, 3072, 2048 };
	EVP_PKEY_CTX *ctx;
	size_t i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		assert_int_equal(EVP_PKEY_get_bits(keys[i]), bits[i]);
		ctx = EVP_PKEY_CTX_new(keys[i], NULL);
		assert_non_null(ctx);
		assert_int_equal(EVP_PKEY_pairwise_check(ctx), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	assert_int_equal(EVP_PKEY_get_base_id(f->rsa.auth_key), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_base_id(f->ec.auth_key), EVP_PKEY_EC);
}

/* ---- MRZ ----------------------------------------------------------------- */

static void
test_mrz_td1_specimen(void **state)
{
	char err[PERSO_ERRLEN], mrz[91];
	perso_desc d;

	assert_int_equal(perso_desc_parse(specimen_json, strlen(specimen_json), &d, err,
	    sizeof(err)), 0);
	assert_int_equal(perso_mrz_td1(&d, mrz), 0);
	/* ICAO 9303-5 Appendix A specimen, issued by MAR here instead of UTO. */
	assert_string_equal(mrz,
	    "I<MARD231458907<<<<<<<<<<<<<<<"
	    "7408122F1204159UTO<<<<<<<<<<<6"
	    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<");
}

static void
test_dg1_holds_mrz(void **state)
{
	fixture *f = *state;
	const perso_file *dg1 = file(&f->ec, "3F00-A002-0101");
	const char *m = f->ec.mrz;

	assert_int_equal(cnie_buf_len(dg1->data), 5 + 90);
	assert_memory_equal(cnie_buf_ptr(dg1->data), "\x61\x5D\x5F\x1F\x5A", 5);
	assert_memory_equal(cnie_buf_ptr(dg1->data) + 5, m, 90);
	assert_memory_equal(m, "I<MARZU0000009", 14);
	assert_int_equal(m[14] - '0', cnie_mrz_check_digit(m + 5, 9));
	assert_int_equal(m[36] - '0', cnie_mrz_check_digit(m + 30, 6));
	assert_int_equal(m[44] - '0', cnie_mrz_check_digit(m + 38, 6));
	assert_memory_equal(m + 30, "910203", 6);
	assert_memory_equal(m + 38, "340506", 6);
	assert_memory_equal(m + 60, "TESTOUI<<AMINA<", 15);
}

/* ---- EF.SOD ---------------------------------------------------------------- */

typedef struct dg_hash_st {
	ASN1_INTEGER *number;
	ASN1_OCTET_STRING *hash;
} DG_HASH;

typedef struct lso_st {
	ASN1_INTEGER *version;
	X509_ALGOR *alg;
	STACK_OF(DG_HASH) *hashes;
} LSO;

DEFINE_STACK_OF(DG_HASH)

ASN1_SEQUENCE(DG_HASH) = {
	ASN1_SIMPLE(DG_HASH, number, ASN1_INTEGER),
	ASN1_SIMPLE(DG_HASH, hash, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(DG_HASH)

ASN1_SEQUENCE(LSO) = {
	ASN1_SIMPLE(LSO, version, ASN1_INTEGER),
	ASN1_SIMPLE(LSO, alg, X509_ALGOR),
	ASN1_SEQUENCE_OF(LSO, hashes, DG_HASH),
} static_ASN1_SEQUENCE_END(LSO)

static LSO *
d2i_lso(const unsigned char **in, long len)
{
	return (LSO *)ASN1_item_d2i(NULL, in, len, ASN1_ITEM_rptr(LSO));
}

/* Verifies EF.SOD against a trust anchor; returns CMS_verify's result. */
static int
verify_sod(const perso_card *c, X509 *anchor, bool check_time, BIO *content)
{
	const perso_file *sod = file(c, "3F00-A002-011D");
	const unsigned char *p = cnie_buf_ptr(sod->data);
	X509_STORE *store = X509_STORE_new();
	CMS_ContentInfo *cms;
	char oid[64];
	int ok;

	/* 77 82 LL LL: the application tag around the ContentInfo. */
	assert_int_equal(p[0], 0x77);
	assert_int_equal(p[1], 0x82);
	p += 4;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)cnie_buf_len(sod->data) - 4);
	assert_non_null(cms);
	assert_true(OBJ_obj2txt(oid, sizeof(oid), CMS_get0_eContentType(cms), 1) > 0);
	assert_string_equal(oid, "2.23.136.1.1.1");
	X509_STORE_add_cert(store, anchor);
	if (!check_time)
		X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
	ok = CMS_verify(cms, NULL, store, NULL, content, CMS_BINARY);
	CMS_ContentInfo_free(cms);
	X509_STORE_free(store);
	return ok;
}

static void
test_sod_signature_and_hashes(void **state)
{
	fixture *f = *state;
	static const struct {
		long dg;
		const char *path;
	} dgs[] = { { 1, "3F00-A002-0101" }, { 2, "3F00-A002-0102" },
		{ 11, "3F00-A002-010B" }, { 12, "3F00-A002-010C" },
		{ 14, "3F00-A002-010E" }, { 15, "3F00-A002-010F" } };
	BIO *out = BIO_new(BIO_s_mem());
	const unsigned char *p;
	uint8_t md[32];
	char *data;
	long n;
	LSO *lso;
	DG_HASH *h;
	size_t i;

	assert_int_equal(verify_sod(&f->ec, f->ec.pki.csca, true, out), 1);
	n = BIO_get_mem_data(out, &data);
	p = (const unsigned char *)data;
	lso = d2i_lso(&p, n);
	assert_non_null(lso);
	assert_ptr_equal(p, (const unsigned char *)data + n);
	assert_int_equal(ASN1_INTEGER_get(lso->version), 0);
	assert_int_equal(OBJ_obj2nid(lso->alg->algorithm), NID_sha256);
	assert_int_equal(sk_DG_HASH_num(lso->hashes), 6);
	for (i = 0; i < 6; i++) {
		const perso_file *dg = file(&f->ec, dgs[i].path);

		h = sk_DG_HASH_value(lso->hashes, (int)i);
		assert_int_equal(ASN1_INTEGER_get(h->number), dgs[i].dg);
		SHA256(cnie_buf_ptr(dg->data), cnie_buf_len(dg->data), md);
		assert_int_equal(ASN1_STRING_length(h->hash), 32);
		assert_memory_equal(ASN1_STRING_get0_data(h->hash), md, 32);
	}
	ASN1_item_free((ASN1_VALUE *)lso, ASN1_ITEM_rptr(LSO));
	BIO_free(out);
	/* The RSA card's SOD verifies too. */
	assert_int_equal(verify_sod(&f->rsa, f->rsa.pki.csca, true, NULL), 1);
}

static void
test_sod_wrong_csca_fails(void **state)
{
	fixture *f = *state;

	ERR_set_mark();
	assert_int_equal(verify_sod(&f->ec, f->ec.pki.other_csca, true, NULL), 0);
	ERR_pop_to_mark();
}

static void
test_sod_ds_expired_option(void **state)
{
	const char *p = strstr(ec_json, "\"serial\"");
	char json[2048], err[PERSO_ERRLEN];
	perso_desc d;
	perso_card c;

	/* The same card, signed with the expired DS certificate. */
	snprintf(json, sizeof(json), "%.*s\"ds_expired\":true,%s", (int)(p - ec_json),
	    ec_json, p);
	assert_int_equal(perso_desc_parse(json, strlen(json), &d, err, sizeof(err)), 0);
	assert_true(d.ds_expired);
	assert_int_equal(perso_card_make(&d, &c, err, sizeof(err)), 0);
	ERR_set_mark();
	assert_int_equal(verify_sod(&c, c.pki.csca, true, NULL), 0);
	ERR_pop_to_mark();
	/* Valid apart from the date. */
	assert_int_equal(verify_sod(&c, c.pki.csca, false, NULL), 1);
	perso_card_free(&c);
}

/* ---- certificate chains ------------------------------------------------------ */

static int
verify_chain(X509 *leaf, X509 *anchor)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok, err;

	X509_STORE_add_cert(store, anchor);
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	/* At 2026-01-01 (a fixed time: the test must not age). */
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), 1767225600);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok == 1 ? X509_V_OK : err;
}

static void
test_chains(void **state)
{
	fixture *f = *state;
	const perso_pki *pki = &f->ec.pki;

	assert_int_equal(verify_chain(f->ec.auth_cert, pki->ca), X509_V_OK);
	assert_int_equal(verify_chain(f->ec.sign_cert, pki->ca), X509_V_OK);
	assert_int_equal(verify_chain(f->rsa.auth_cert, f->rsa.pki.ca), X509_V_OK);
	assert_int_equal(verify_chain(f->rsa.sign_cert, f->rsa.pki.ca), X509_V_OK);
	assert_int_equal(verify_chain(pki->ds, pki->csca), X509_V_OK);
	assert_int_equal(verify_chain(pki->ds_expired, pki->csca),
	    X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_not_equal(verify_chain(pki->ds, pki->other_csca), X509_V_OK);
	assert_int_not_equal(verify_chain(f->ec.auth_cert, pki->csca), X509_V_OK);
	/* The holder's key is in the certificate. */
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(f->ec.auth_cert), f->ec.auth_key), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(f->ec.sign_cert), f->ec.sign_key), 1);
	/* Every CA name says TEST. */
	assert_non_null(strstr(X509_NAME_oneline(X509_get_subject_name(pki->csca),
	    (char[256]){ 0 }, 256), "TEST"));
	assert_non_null(strstr(X509_NAME_oneline(X509_get_subject_name(pki->ds),
	    (char[256]){ 0 }, 256), "TEST"));
	assert_non_null(strstr(X509_NAME_oneline(X509_get_subject_name(pki->ca),
	    (char[256]){ 0 }, 256), "TEST"));
}

/* ---- PKCS#15 and MF files ------------------------------------------------------ */

static void
test_fixed_files(void **state)
{
	fixture *f = *state;

	/* EF.CardAccess: exactly ICAO 9303-11 G.1's PACEInfo. */
	assert_file_hex(&f->ec, "3F00-011C",
	    "31143012060A04007F0007020204020202010202010D");
	assert_file_hex(&f->ec, "3F00-2F00",
	    "6116" "4F08F0434E4945504B49" "5004434E4945" "51043F00A001"
	    "611B" "4F07A0000002471001" "500A4943414F20654D525444" "51043F00A002");
	assert_file_hex(&f->ec, "3F00-A001-5031",
	    "A00A300804063F00A0014402" "A40A300804063F00A0014404"
	    "A80A300804063F00A0014401");
	assert_file_hex(&f->ec, "3F00-A001-5032",
	    "3022020100040800112233445566AA0C09434E49452054455354" "8004434E4945"
	    "03020780");
	assert_file_hex(&f->ec, "3F00-A002-011E",
	    "60185F0104303130375F36063034303030305C06" "61756B6C6E6F");
	assert_file_hex(&f->ec, "3F00-2F01", "4703B401C07F66080202100002021000");
}

static void
test_aodf(void **state)
{
	fixture *f = *state;

	/* PIN: label, modifiable, unblocked by authId 02; authId 01; local +
	 * initialized; ascii-numeric 4..12, reference 81, pad FF, DF A001. */
	assert_file_hex(&f->ec, "3F00-A001-4401",
	    "3036" "300C0C0350494E03020640040102" "3003040101"
	    "A121301F030203480A010102010402010C02010C8002008104" "01FF"
	    "300604043F00A001"
	    "3033" "30090C0350554B03020640" "3003040102"
	    "A121301F0302015A0A0101020108020108020108800200820401FF"
	    "300604043F00A001");
}

/* Finds the n-th child TLV with tag t (one level) in p[0..len). */
static bool
child(const uint8_t *p, size_t len, uint8_t t, int nth, const uint8_t **v, size_t *vlen)
{
	size_t i = 0, l, h;

	while (i + 2 <= len) {
		l = p[i + 1];
		h = 2;
		if (l == 0x81) {
			l = p[i + 2];
			h = 3;
		} else if (l == 0x82) {
			l = (size_t)p[i + 2] << 8 | p[i + 3];
			h = 4;
		}
		if (p[i] == t && nth-- == 0) {
			*v = p + i + h;
			*vlen = l;
			return true;
		}
		i += h + l;
	}
	return false;
}

static void
check_prkdf(const perso_card *c, int nth, X509 *cert, uint8_t tag, int ref,
    int bits)
{
	const perso_file *prkdf = file(c, "3F00-A001-4402");
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
	const uint8_t *obj, *cka, *v, *ta, *seq;
	size_t objlen, ckalen, vlen, talen, seqlen;

	assert_true(child(cnie_buf_ptr(prkdf->data), cnie_buf_len(prkdf->data), tag, nth,
	    &obj, &objlen));
	/* CommonKeyAttributes: iD = the certificate's subjectKeyIdentifier. */
	assert_true(child(obj, objlen, 0x30, 1, &cka, &ckalen));
	assert_true(child(cka, ckalen, 0x04, 0, &v, &vlen));
	assert_int_equal(vlen, ASN1_STRING_length(ski));
	assert_memory_equal(v, ASN1_STRING_get0_data(ski), vlen);
	assert_true(child(cka, ckalen, 0x02, 0, &v, &vlen));
	assert_int_equal(vlen, 2);
	assert_int_equal(v[0] << 8 | v[1], ref);
	/* Type attributes: path 3F00A001 then the key size. */
	assert_true(child(obj, objlen, 0xA1, 0, &ta, &talen));
	assert_true(child(ta, talen, 0x30, 0, &seq, &seqlen));
	assert_true(child(seq, seqlen, 0x02, 0, &v, &vlen));
	assert_int_equal(vlen, 2);
	assert_int_equal(v[0] << 8 | v[1], bits);
}

static void
test_prkdf_and_cdf(void **state)
{
	fixture *f = *state;
	const perso_file *cdf = file(&f->rsa, "3F00-A001-4404");
	const uint8_t *o, *v;
	size_t olen, vlen;

	check_prkdf(&f->ec, 0, f->ec.auth_cert, 0xA0, 0x81, 256);
	check_prkdf(&f->ec, 1, f->ec.sign_cert, 0xA0, 0x82, 384);
	check_prkdf(&f->rsa, 0, f->rsa.auth_cert, 0x30, 0x81, 2048);
	check_prkdf(&f->rsa, 1, f->rsa.sign_cert, 0x30, 0x82, 3072);
	/* The third certificate object is the CA, flagged authority. */
	assert_true(child(cnie_buf_ptr(cdf->data), cnie_buf_len(cdf->data), 0x30, 2, &o,
	    &olen));
	assert_true(child(o, olen, 0x30, 1, &v, &vlen));
	assert_int_equal(vlen, 2 + 20 + 3);
	assert_memory_equal(v + 22, "\x01\x01\xFF", 3);
	/* The certificate files are the DER of the certificates. */
	assert_int_equal(cnie_buf_len(file(&f->rsa, "3F00-A001-4333")->data),
	    (size_t)i2d_X509(f->rsa.pki.ca, NULL));
}

static void
test_dg2_face(void **state)
{
	fixture *f = *state;
	const perso_file *dg2 = file(&f->ec, "3F00-A002-0102");
	const uint8_t *p = cnie_buf_ptr(dg2->data), *rec = NULL;
	size_t n = cnie_buf_len(dg2->data), i, reclen;

	assert_int_equal(p[0], 0x75);
	for (i = 0; i + 4 < n; i++) {
		if (p[i] == 0x5F && p[i + 1] == 0x2E && p[i + 2] == 0x82) {
			reclen = (size_t)p[i + 3] << 8 | p[i + 4];
			rec = p + i + 5;
			break;
		}
	}
	if (rec == NULL) {
		fail_msg("no 5F2E facial record in DG2");
		return;
	}
	assert_int_equal(rec + reclen, p + n);
	assert_memory_equal(rec, "FAC\0" "010\0", 8);
	assert_int_equal((size_t)rec[8] << 24 | (size_t)rec[9] << 16 | rec[10] << 8 | rec[11],
	    reclen);
	assert_int_equal(rec[20], 2); /* gender: female */
	assert_int_equal(rec[34], 1); /* full frontal */
	assert_int_equal(rec[35], 0); /* JPEG */
	assert_memory_equal(rec + 36, "\x00\xF0\x01\x40", 4); /* 240 x 320 */
	assert_memory_equal(rec + 46, "\xFF\xD8\xFF", 3);	  /* JPEG SOI */
	assert_memory_equal(p + n - 2, "\xFF\xD9", 2);	  /* JPEG EOI */
}

static void
test_dg14_dg15_keys(void **state)
{
	fixture *f = *state;
	const perso_file *dg15 = file(&f->rsa, "3F00-A002-010F");
	const unsigned char *p = cnie_buf_ptr(dg15->data) + 4;
	EVP_PKEY *k;

	assert_memory_equal(cnie_buf_ptr(dg15->data), "\x6F\x82", 2);
	k = d2i_PUBKEY(NULL, &p, (long)cnie_buf_len(dg15->data) - 4);
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(k, f->rsa.aa_key), 1);
	EVP_PKEY_free(k);
	/* The RSA card's DG14 has no ActiveAuthenticationInfo (RSA AA),
	 * the EC card's has one: 3 versus 4 SecurityInfos. */
	assert_null(memmem(cnie_buf_ptr(file(&f->rsa, "3F00-A002-010E")->data),
	    cnie_buf_len(file(&f->rsa, "3F00-A002-010E")->data), "\x06\x06\x67\x81\x08\x01\x01\x05", 8));
	assert_non_null(memmem(cnie_buf_ptr(file(&f->ec, "3F00-A002-010E")->data),
	    cnie_buf_len(file(&f->ec, "3F00-A002-010E")->data), "\x06\x06\x67\x81\x08\x01\x01\x05", 8));
}

/* ---- ATRs ---------------------------------------------------------------------- */

static void
test_atrs(void **state)
{
	fixture *f = *state;
	const char *atrs[2] = { f->ec.atr_contact, f->ec.atr_contactless };
	cnie_buf *b;
	uint8_t x;
	size_t i, k;

	assert_string_equal(f->ec.atr_contact, "3B8C8131FE458031A873B401C064434E4945FD");
	assert_string_equal(f->ec.atr_contactless, "3B888001434E494500817100F8");
	for (k = 0; k < 2; k++) {
		b = cnie_buf_new();
		assert_int_equal(cnie_unhex(atrs[k], b), 0);
		/* ISO 7816-3 8.2.5: T0 .. TCK XOR to zero. */
		for (x = 0, i = 1; i < cnie_buf_len(b); i++)
			x ^= cnie_buf_ptr(b)[i];
		assert_int_equal(x, 0);
		cnie_buf_free(&b);
	}
}

/* ---- description checks -------------------------------------------------------- */

static void
expect_desc_error(const char *json, const char *msg)
{
	char err[PERSO_ERRLEN];
	perso_desc d;

	assert_int_equal(perso_desc_parse(json, strlen(json), &d, err, sizeof(err)),
	    CNIE_ERR_ENCODING);
	assert_string_equal(err, msg);
}

static void
test_desc_errors_name_the_field(void **state)
{
	char json[2048];

	expect_desc_error("[]", "description: must be a JSON object");
	expect_desc_error("{\"seed\":\"x\"", "description: line 1: '}' expected near end of file");
	expect_desc_error("{}", "seed: missing");
	expect_desc_error("{\"seed\":\"x\",\"colour\":1}", "colour: unknown field");
	expect_desc_error("{\"seed\":\"x\",\"key_family\":\"dsa\"}",
	    "key_family: must be \"ec\" or \"rsa\"");
	expect_desc_error("{\"seed\":\"x\",\"key_family\":\"ec\",\"names\":{\"nick\":\"A\"}}",
	    "names.nick: unknown field");
	expect_desc_error("{\"seed\":\"x\",\"key_family\":\"ec\",\"names\":{}}",
	    "names.surname_latin: missing");

#define WITH(field, value) \
	snprintf(json, sizeof(json), "%.*s" field ":" value ",%s", \
	    (int)(strstr(ec_json, "\"serial\"") - ec_json), ec_json, \
	    strstr(ec_json, "\"serial\""))
	/* A later duplicate of a field is refused by the parser itself. */
	WITH("\"pin\"", "\"12a4\"");
	expect_desc_error(json, "pin: character 'a' not allowed");
	WITH("\"pin\"", "\"123\"");
	expect_desc_error(json, "pin: length 3 outside 4..12");
	WITH("\"can\"", "123456");
	expect_desc_error(json, "can: must be a string");
	WITH("\"pin_tries_left\"", "4");
	expect_desc_error(json, "pin_tries_left: 4 outside 0..3");
	WITH("\"cert_not_after\"", "\"2023-02-29\"");
	expect_desc_error(json, "cert_not_after: 2023-02-29 is not a calendar date");
	WITH("\"cert_not_after\"", "\"2020-01-01\"");
	expect_desc_error(json, "cert_not_after: must be after issue");
	WITH("\"ds_expired\"", "\"yes\"");
	expect_desc_error(json, "ds_expired: must be true or false");
#undef WITH
	snprintf(json, sizeof(json), "%s", ec_json);
	memcpy(strstr(json, "\"sex\":\"F\""), "\"sex\":\"Q\"", 9);
	expect_desc_error(json, "sex: must be \"M\", \"F\" or \"X\"");
	snprintf(json, sizeof(json), "%s", ec_json);
	memcpy(strstr(json, "TESTOUI"), "TESToUI", 7);
	expect_desc_error(json, "names.surname_latin: character 'o' not allowed");
	snprintf(json, sizeof(json), "%s", ec_json);
	memcpy(strstr(json, "2024-05-06"), "1990-05-06", 10);
	expect_desc_error(json, "issue: must be after birth");
}

static void
test_desc_defaults(void **state)
{
	fixture *f = *state;
	const perso_desc *d = &f->ec.desc;

	assert_string_equal(d->pki_seed, "cnie-test-pki");
	assert_string_equal(d->pin, "1234");
	assert_string_equal(d->puk, "12345678");
	assert_string_equal(d->can, "123456");
	assert_int_equal(d->pin_tries_left, 3);
	assert_int_equal(d->cert_not_after.y, 2034);
	assert_string_equal(d->serial, "00112233445566AA");
	/* Without "serial", one derived from the seed: 16 hex digits. */
	assert_int_equal(strlen(f->rsa.desc.serial), 16);
	assert_int_equal(strspn(f->rsa.desc.serial, "0123456789ABCDEF"), 16);
}

/* ---- writer -------------------------------------------------------------------- */

static char *
read_all(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *p;
	long l;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	l = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	p = calloc(1, (size_t)l + 1);
	assert_int_equal(fread(p, 1, (size_t)l, fp), (size_t)l);
	fclose(fp);
	*n = (size_t)l;
	return p;
}

static void
test_write_directory(void **state)
{
	fixture *f = *state;
	char base[] = "/tmp/test_perso.XXXXXX", out[256], path[512], err[PERSO_ERRLEN];
	struct stat st;
	char *text;
	size_t n;

	assert_non_null(mkdtemp(base));
	snprintf(out, sizeof(out), "%s/card", base);
	assert_int_equal(perso_card_write(&f->rsa, out, NULL, false, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/files/3F00-A002-0101", out);
	text = read_all(path, &n);
	assert_non_null(text);
	assert_int_equal(n, 95);
	free(text);
	snprintf(path, sizeof(path), "%s/keys/sign.pem", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/pki/other-csca.pem", out);
	assert_int_equal(stat(path, &st), 0);
	/* pin_tries_left 0: state.json says so. */
	snprintf(path, sizeof(path), "%s/state.json", out);
	text = read_all(path, &n);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"pin\": {\n      \"tries\": 0\n    }"));
	free(text);

	/* Existing directory: refused without force, replaced with it. */
	assert_int_equal(perso_card_write(&f->ec, out, NULL, false, err, sizeof(err)),
	    CNIE_ERR_STATE);
	assert_non_null(strstr(err, "exists (use --force to replace it)"));
	assert_int_equal(perso_card_write(&f->ec, out, NULL, true, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/state.json", out);
	assert_int_not_equal(stat(path, &st), 0); /* the EC card has full counters */
	snprintf(path, sizeof(path), "%s/card.json", out);
	text = read_all(path, &n);
	assert_non_null(strstr(text, "\"serial\": \"00112233445566AA\""));
	free(text);

	/* An empty directory (made by the build tool) is filled without force. */
	snprintf(path, sizeof(path), "%s/empty", base);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(perso_card_write(&f->ec, path, NULL, false, err, sizeof(err)), 0);

	/* A non-empty directory that is not a card is never replaced. */
	snprintf(path, sizeof(path), "%s/other", base);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(out, sizeof(out), "%s/other/precious", base);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(perso_card_write(&f->ec, path, NULL, true, err, sizeof(err)),
	    CNIE_ERR_STATE);
	assert_non_null(strstr(err, "is not a card directory"));
	assert_int_equal(rmdir(out), 0);
	assert_int_equal(rmdir(path), 0);

	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_are_strict_der),
		cmocka_unit_test(test_same_seed_same_card),
		cmocka_unit_test(test_other_seed_other_keys),
		cmocka_unit_test(test_stream_known_answer),
		cmocka_unit_test(test_keys_sizes_and_consistency),
		cmocka_unit_test(test_mrz_td1_specimen),
		cmocka_unit_test(test_dg1_holds_mrz),
		cmocka_unit_test(test_sod_signature_and_hashes),
		cmocka_unit_test(test_sod_wrong_csca_fails),
		cmocka_unit_test(test_sod_ds_expired_option),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_fixed_files),
		cmocka_unit_test(test_aodf),
		cmocka_unit_test(test_prkdf_and_cdf),
		cmocka_unit_test(test_dg2_face),
		cmocka_unit_test(test_dg14_dg15_keys),
		cmocka_unit_test(test_atrs),
		cmocka_unit_test(test_desc_errors_name_the_field),
		cmocka_unit_test(test_desc_defaults),
		cmocka_unit_test(test_write_directory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
