/*
 * Unit tests for Passive Authentication (src/libcnie/pa.c): the generated test
 * cards (CNIE_BUILD_DIR/cards/{ec,rsa,expired}, PKI in cards/pki) and
 * EF.SODs built here with a throw-away PKI for the cases the cards cannot
 * show (a DG missing from EF.SOD, another content type, master lists).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pa.h>
#include <cnie/tlv.h>

#include "unitutil.h"

#define T_2026 ((time_t)1767225600) /* 2026-01-01 */
#define T_2015 ((time_t)1420070400) /* 2015-01-01 */
#define T_2019 ((time_t)1546300800) /* 2019-01-01 */

static const struct {
	int dg;
	const char *fid;
} card_dgs[] = {
	{ 1, "0101" }, { 2, "0102" }, { 11, "010B" }, { 12, "010C" }, { 14, "010E" },
	{ 15, "010F" },
};
#define NDG (sizeof(card_dgs) / sizeof(card_dgs[0]))

static char *
build_path(const char *rel)
{
	const char *dir = tu_build_dir();
	char *p;

	assert_non_null(dir);
	p = malloc(strlen(dir) + strlen(rel) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", dir, rel);
	return p;
}

/* A card's EF.SOD and data groups. */
typedef struct card {
	cnie_buf *sod;
	cnie_buf *dg[NDG];
	cnie_pa_dg in[NDG];
} card;

static void
card_load(card *c, const char *name)
{
	size_t i;

	c->sod = tu_lds_file(name, "011D");
	for (i = 0; i < NDG; i++) {
		c->dg[i] = tu_lds_file(name, card_dgs[i].fid);
		c->in[i].number = card_dgs[i].dg;
		c->in[i].data = cnie_buf_ptr(c->dg[i]);
		c->in[i].len = cnie_buf_len(c->dg[i]);
	}
}

static void
card_free(card *c)
{
	size_t i;

	cnie_buf_free(&c->sod);
	for (i = 0; i < NDG; i++)
		cnie_buf_free(&c->dg[i]);
}

static cnie_pa_trust *
trust_pki(const char *file)
{
	cnie_pa_trust *t = NULL;
	char rel[64];
	char *p;

	snprintf(rel, sizeof(rel), "cards/pki/%s", file);
	p = build_path(rel);
	assert_int_equal(cnie_pa_trust_new(&t), 0);
	assert_int_equal(cnie_pa_trust_add_file(t, p), 0);
	assert_int_equal(cnie_pa_trust_count(t), 1);
	free(p);
	return t;
}

static int
verify_card(card *c, const char *csca, time_t at, cnie_pa_result *res)
{
	cnie_pa_trust *t = trust_pki(csca);
	int r;

	r = cnie_pa_verify(cnie_buf_ptr(c->sod), cnie_buf_len(c->sod), c->in, NDG, t, at, res);
	cnie_pa_trust_free(&t);
	assert_null(t);
	return r;
}

static void
assert_describe(const cnie_pa_result *res, const char *want)
{
	char msg[128];

	assert_string_equal(cnie_pa_describe(res, msg, sizeof(msg)), want);
}

static void
test_ec_card_passes(void **state)
{
	cnie_pa_result res;
	card c;
	size_t i;

	(void)state;
	card_load(&c, "ec");
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), 0);
	assert_int_equal(res.verdict, 0);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_NONE);
	assert_int_equal(res.sod_parse, CNIE_PA_PASS);
	assert_int_equal(res.dg_hashes, CNIE_PA_PASS);
	assert_int_equal(res.signature, CNIE_PA_PASS);
	assert_int_equal(res.ds_chain, CNIE_PA_PASS);
	assert_int_equal(res.ds_validity, CNIE_PA_PASS);
	for (i = 0; i < NDG; i++)
		assert_int_equal(res.dg[card_dgs[i].dg], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[3], CNIE_PA_DG_ABSENT);
	assert_string_equal(res.hash_alg, "SHA256");
	assert_int_equal(res.lds_version, 0);
	assert_describe(&res, "passive authentication passed");
	/* Time 0 means now: the test PKI is valid until 2039. */
	assert_int_equal(verify_card(&c, "csca.pem", 0, &res), 0);
	card_free(&c);
}

static void
test_rsa_card_passes(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "rsa");
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), 0);
	assert_int_equal(res.ds_validity, CNIE_PA_PASS);
	card_free(&c);
}

/* Only some DGs read: the others are "not supplied", which is no failure. */
static void
test_subset_of_dgs(void **state)
{
	cnie_pa_trust *t = trust_pki("csca.pem");
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "ec");
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(c.sod), cnie_buf_len(c.sod), c.in, 1, t,
	    T_2026, &res), 0);
	assert_int_equal(res.dg[1], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[2], CNIE_PA_DG_NOT_SUPPLIED);
	assert_int_equal(res.dg[15], CNIE_PA_DG_NOT_SUPPLIED);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(c.sod), cnie_buf_len(c.sod), NULL, 0, t,
	    T_2026, &res), 0);
	cnie_pa_trust_free(&t);
	card_free(&c);
}

static void
test_tampered_dg1(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "ec");
	cnie_buf_mutable_ptr(c.dg[0])[10] ^= 0x01;
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_DG_HASHES);
	assert_int_equal(res.dg_hashes, CNIE_PA_FAIL);
	assert_int_equal(res.dg_hashes_err, CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(res.dg[1], CNIE_PA_DG_MISMATCH);
	assert_int_equal(res.dg[2], CNIE_PA_DG_MATCH);
	/* The other steps still ran and passed. */
	assert_int_equal(res.signature, CNIE_PA_PASS);
	assert_int_equal(res.ds_chain, CNIE_PA_PASS);
	assert_int_equal(res.ds_validity, CNIE_PA_PASS);
	assert_describe(&res, "DG1 hash mismatch");
	card_free(&c);
}

static void
test_tampered_dg15_last_byte(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "rsa");
	cnie_buf_mutable_ptr(c.dg[5])[cnie_buf_len(c.dg[5]) - 1] ^= 0x80;
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(res.dg[15], CNIE_PA_DG_MISMATCH);
	assert_describe(&res, "DG15 hash mismatch");
	card_free(&c);
}

static void
test_wrong_csca(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "ec");
	assert_int_equal(verify_card(&c, "other-csca.pem", T_2026, &res), CNIE_ERR_UNTRUSTED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_DS_CHAIN);
	assert_int_equal(res.ds_chain, CNIE_PA_FAIL);
	assert_int_equal(res.ds_chain_err, CNIE_ERR_UNTRUSTED);
	assert_int_equal(res.dg_hashes, CNIE_PA_PASS);
	assert_int_equal(res.signature, CNIE_PA_PASS);
	assert_describe(&res, "untrusted CSCA");
	/* Another CA of the same PKI (the citizen CA) is no CSCA for this DS. */
	assert_int_equal(verify_card(&c, "citizen-ca.pem", T_2026, &res), CNIE_ERR_UNTRUSTED);
	card_free(&c);
}

static void
test_expired_ds(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "expired");
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_EXPIRED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_DS_VALIDITY);
	assert_int_equal(res.ds_validity, CNIE_PA_FAIL);
	assert_int_equal(res.ds_validity_err, CNIE_ERR_EXPIRED);
	assert_int_equal(res.ds_chain, CNIE_PA_PASS);
	assert_int_equal(res.signature, CNIE_PA_PASS);
	assert_int_equal(res.dg_hashes, CNIE_PA_PASS);
	assert_describe(&res, "DS certificate expired");
	/* In 2015 the same document verifies. */
	assert_int_equal(verify_card(&c, "csca.pem", T_2015, &res), 0);
	card_free(&c);
	/* The current DS (2020-2039) is not yet valid in 2019. */
	card_load(&c, "ec");
	assert_int_equal(verify_card(&c, "csca.pem", T_2019, &res), CNIE_ERR_EXPIRED);
	assert_int_equal(res.ds_not_yet_valid, 1);
	assert_describe(&res, "DS certificate not yet valid");
	card_free(&c);
}

static void
test_truncated_sod(void **state)
{
	cnie_pa_result res;
	card c;
	char msg[128];

	(void)state;
	card_load(&c, "ec");
	assert_int_equal(cnie_buf_truncate(c.sod, cnie_buf_len(c.sod) - 1), 0);
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_TRUNCATED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_SOD_PARSE);
	assert_int_equal(res.sod_parse, CNIE_PA_FAIL);
	assert_int_equal(res.sod_parse_err, CNIE_ERR_TRUNCATED);
	assert_int_equal(res.dg_hashes, CNIE_PA_NOT_RUN);
	assert_int_equal(res.signature, CNIE_PA_NOT_RUN);
	assert_int_equal(res.ds_chain, CNIE_PA_NOT_RUN);
	assert_int_equal(res.ds_validity, CNIE_PA_NOT_RUN);
	cnie_pa_describe(&res, msg, sizeof(msg));
	assert_memory_equal(msg, "EF.SOD malformed: ", 18);
	/* Cut inside the CMS (the 77 header fixed up): the CMS decoder fails. */
	card_free(&c);
	card_load(&c, "ec");
	{
		cnie_buf *cut = cnie_buf_new();

		assert_int_equal(cnie_buf_ptr(c.sod)[1], 0x82); /* 77 82 xx xx */
		assert_int_equal(cnie_tlv_put(cut, 0x77, cnie_buf_ptr(c.sod) + 4, 200), 0);
		cnie_buf_free(&c.sod);
		c.sod = cut;
	}
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_ENCODING);
	assert_int_equal(res.sod_parse_err, CNIE_ERR_ENCODING);
	card_free(&c);
}

/* The last bytes of EF.SOD are the DS's RSA signature value. */
static void
test_bad_signature(void **state)
{
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "ec");
	cnie_buf_mutable_ptr(c.sod)[cnie_buf_len(c.sod) - 1] ^= 0x01;
	assert_int_equal(verify_card(&c, "csca.pem", T_2026, &res), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_SIGNATURE);
	assert_int_equal(res.signature, CNIE_PA_FAIL);
	assert_int_equal(res.dg_hashes, CNIE_PA_PASS);
	assert_int_equal(res.ds_chain, CNIE_PA_PASS);
	assert_describe(&res, "EF.SOD signature invalid");
	card_free(&c);
}

static void
test_dg_not_in_sod(void **state)
{
	static const uint8_t dg3[] = { 0x63, 0x00 };
	cnie_pa_trust *t = trust_pki("csca.pem");
	cnie_pa_dg in[2];
	cnie_pa_result res;
	card c;

	(void)state;
	card_load(&c, "ec");
	in[0] = c.in[0];
	in[1].number = 3;
	in[1].data = dg3;
	in[1].len = sizeof(dg3);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(c.sod), cnie_buf_len(c.sod), in, 2, t,
	    T_2026, &res), CNIE_ERR_NOT_FOUND);
	assert_int_equal(res.dg[1], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[3], CNIE_PA_DG_NOT_IN_SOD);
	assert_int_equal(res.dg_hashes_err, CNIE_ERR_NOT_FOUND);
	assert_describe(&res, "DG3 not listed in EF.SOD");
	cnie_pa_trust_free(&t);
	card_free(&c);
}

static void
test_bad_arguments(void **state)
{
	cnie_pa_trust *t = trust_pki("csca.pem");
	cnie_pa_dg in[2] = { { 1, (const uint8_t *)"a", 1 }, { 1, (const uint8_t *)"b", 1 } };
	cnie_pa_result res;

	(void)state;
	assert_int_equal(cnie_pa_verify((const uint8_t *)"x", 1, in, 2, t, 0, &res),
	    CNIE_ERR_INVALID_ARG);
	in[1].number = 17;
	assert_int_equal(cnie_pa_verify((const uint8_t *)"x", 1, in, 2, t, 0, &res),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pa_verify((const uint8_t *)"x", 1, in, 1, NULL, 0, &res),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_pa_verify((const uint8_t *)"x", 1, in, 1, t, 0, NULL),
	    CNIE_ERR_INVALID_ARG);
	/* Not a 77 object. */
	assert_int_equal(cnie_pa_verify((const uint8_t *)"\x78\x00", 2, in, 1, t, 0, &res),
	    CNIE_ERR_ENCODING);
	assert_int_equal(res.sod_parse_err, CNIE_ERR_ENCODING);
	cnie_pa_trust_free(&t);
}

/* ---- trust store ------------------------------------------------------ */

static void
test_trust_dir_pem_and_der(void **state)
{
	char dir[] = "/tmp/cnie-pa-XXXXXX", path[256];
	cnie_pa_trust *t = NULL;
	cnie_pa_result res;
	X509 *x;
	FILE *f;
	char *pem = build_path("cards/pki/other-csca.pem"), *good = build_path("cards/pki/csca.pem");
	card c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* other-csca.pem as PEM, csca.pem as DER, and a junk file. */
	snprintf(path, sizeof(path), "cp %s %s/a.pem", pem, dir);
	assert_int_equal(system(path), 0);
	f = fopen(good, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	snprintf(path, sizeof(path), "%s/b.der", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(i2d_X509_fp(f, x), 1);
	fclose(f);
	X509_free(x);
	snprintf(path, sizeof(path), "%s/README", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);

	assert_int_equal(cnie_pa_trust_new(&t), 0);
	assert_int_equal(cnie_pa_trust_add_dir(t, dir), 0);
	assert_int_equal(cnie_pa_trust_count(t), 2);
	card_load(&c, "ec");
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(c.sod), cnie_buf_len(c.sod), c.in, NDG, t,
	    T_2026, &res), 0);
	card_free(&c);
	assert_int_equal(cnie_pa_trust_add_file(t, path), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_pa_trust_add_file(t, "/nonexistent"), CNIE_ERR_IO);
	assert_int_equal(cnie_pa_trust_add_dir(t, "/nonexistent"), CNIE_ERR_IO);
	cnie_pa_trust_free(&t);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	free(pem);
	free(good);
}

/* ---- a throw-away PKI for hand-built EF.SODs -------------------------- */

typedef struct pki {
	EVP_PKEY *csca_key, *ds_key;
	X509 *csca, *ds;
} pki;

static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), T_2015));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), T_2026 + 86400 * 365));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

static void
pki_make(pki *p)
{
	p->csca_key = EVP_EC_gen("P-256");
	p->ds_key = EVP_EC_gen("P-256");
	assert_non_null(p->csca_key);
	assert_non_null(p->ds_key);
	p->csca = make_cert("HAND CSCA", p->csca_key, NULL, p->csca_key, 1);
	p->ds = make_cert("HAND DS", p->ds_key, p->csca, p->csca_key, 0);
}

static void
pki_free(pki *p)
{
	X509_free(p->csca);
	X509_free(p->ds);
	EVP_PKEY_free(p->csca_key);
	EVP_PKEY_free(p->ds_key);
}

/* CMS SignedData over content with eContentType oid; wrapped in 77 if wrap77. */
static cnie_buf *
cms_sign(const pki *p, const char *oid, const cnie_buf *content, int wrap77)
{
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms;
	ASN1_OBJECT *type = OBJ_txt2obj(oid, 1);
	BIO *in = BIO_new_mem_buf(cnie_buf_ptr(content), (int)cnie_buf_len(content));
	unsigned char *der = NULL;
	cnie_buf *out = cnie_buf_new();
	int n;

	assert_non_null(type);
	assert_non_null(in);
	assert_non_null(out);
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	assert_non_null(cms);
	assert_int_equal(CMS_set1_eContentType(cms, type), 1);
	assert_non_null(CMS_add1_signer(cms, p->ds, p->ds_key, EVP_sha256(), flags));
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	if (wrap77)
		assert_int_equal(cnie_tlv_put(out, 0x77, der, (size_t)n), 0);
	else
		assert_int_equal(cnie_buf_put(out, der, (size_t)n), 0);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	ASN1_OBJECT_free(type);
	BIO_free(in);
	return out;
}

/* LDSSecurityObject v0 with SHA-256 hashes of the given DGs. */
static cnie_buf *
make_lso(const cnie_pa_dg *dgs, size_t n)
{
	static const uint8_t sha256[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01 };
	cnie_buf *b = cnie_buf_new();
	uint8_t md[32];
	uint8_t num;
	size_t m1, m2, m3, i;

	assert_non_null(b);
	assert_int_equal(cnie_tlv_open(b, 0x30, &m1), 0);
	assert_int_equal(cnie_tlv_put(b, 0x02, "\x00", 1), 0);
	assert_int_equal(cnie_tlv_put(b, 0x30, sha256, sizeof(sha256)), 0);
	assert_int_equal(cnie_tlv_open(b, 0x30, &m2), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(EVP_Digest(dgs[i].data, dgs[i].len, md, NULL, EVP_sha256(),
		    NULL), 1);
		num = (uint8_t)dgs[i].number;
		assert_int_equal(cnie_tlv_open(b, 0x30, &m3), 0);
		assert_int_equal(cnie_tlv_put(b, 0x02, &num, 1), 0);
		assert_int_equal(cnie_tlv_put(b, 0x04, md, sizeof(md)), 0);
		assert_int_equal(cnie_tlv_close(b, m3), 0);
	}
	assert_int_equal(cnie_tlv_close(b, m2), 0);
	assert_int_equal(cnie_tlv_close(b, m1), 0);
	return b;
}

static cnie_pa_trust *
trust_x509(X509 *x)
{
	cnie_pa_trust *t = NULL;
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	assert_int_equal(cnie_pa_trust_new(&t), 0);
	assert_int_equal(cnie_pa_trust_add_der(t, der, (size_t)n), 0);
	OPENSSL_free(der);
	return t;
}

/* An EF.SOD that hashes DG1 and DG2, while DG1, DG2 and DG3 are supplied. */
static void
test_sod_missing_dg(void **state)
{
	static const uint8_t d1[] = { 0x61, 0x01, 0x00 }, d2[] = { 0x75, 0x01, 0x00 };
	static const uint8_t d3[] = { 0x63, 0x01, 0x00 };
	const cnie_pa_dg in[3] = { { 1, d1, sizeof(d1) }, { 2, d2, sizeof(d2) },
		{ 3, d3, sizeof(d3) } };
	cnie_buf *lso, *sod;
	cnie_pa_trust *t;
	cnie_pa_result res;
	pki p;

	(void)state;
	pki_make(&p);
	lso = make_lso(in, 2);
	sod = cms_sign(&p, "2.23.136.1.1.1", lso, 1);
	t = trust_x509(p.csca);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 3, t, T_2026,
	    &res), CNIE_ERR_NOT_FOUND);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_DG_HASHES);
	assert_int_equal(res.dg[1], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[2], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[3], CNIE_PA_DG_NOT_IN_SOD);
	assert_int_equal(res.signature, CNIE_PA_PASS);
	assert_int_equal(res.ds_chain, CNIE_PA_PASS);
	assert_int_equal(res.ds_validity, CNIE_PA_PASS);
	assert_describe(&res, "DG3 not listed in EF.SOD");
	/* With DG1 and DG2 it passes (an EC-signed DS works too). */
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 2, t, T_2026,
	    &res), 0);
	cnie_buf_free(&sod);
	/* Another content type: not an EF.SOD. */
	sod = cms_sign(&p, "2.23.136.1.1.2", lso, 1);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 1, t, T_2026,
	    &res), CNIE_ERR_ENCODING);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_SOD_PARSE);
	cnie_buf_free(&sod);
	/* No 77 wrapper. */
	sod = cms_sign(&p, "2.23.136.1.1.1", lso, 0);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 1, t, T_2026,
	    &res), CNIE_ERR_ENCODING);
	cnie_buf_free(&sod);
	cnie_buf_free(&lso);
	/* An LDSSecurityObject with a trailing element after the hashes. */
	lso = make_lso(in, 2);
	{
		cnie_buf *bad = cnie_buf_new();
		size_t m;
		cnie_tlv tl;

		assert_int_equal(cnie_tlv_parse_one(cnie_buf_ptr(lso), cnie_buf_len(lso), &tl), 0);
		assert_int_equal(cnie_tlv_open(bad, 0x30, &m), 0);
		assert_int_equal(cnie_buf_put(bad, tl.value, tl.len), 0);
		assert_int_equal(cnie_tlv_put(bad, 0x05, NULL, 0), 0);
		assert_int_equal(cnie_tlv_close(bad, m), 0);
		sod = cms_sign(&p, "2.23.136.1.1.1", bad, 1);
		assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 2, t,
		    T_2026, &res), CNIE_ERR_TRAILING);
		cnie_buf_free(&sod);
		cnie_buf_free(&bad);
	}
	cnie_buf_free(&lso);
	cnie_pa_trust_free(&t);
	pki_free(&p);
}

/*
 * LDSSecurityObject { version, hashAlgorithm, hashes of DG1 and DG2 (with
 * SHA-256 whatever the OID says), [LDSVersionInfo] } for the version rules.
 */
static cnie_buf *
make_lso_ex(const cnie_pa_dg *dgs, uint8_t version, const uint8_t *oid, size_t oid_len,
    const char *lds, const char *unicode)
{
	cnie_buf *b = cnie_buf_new();
	uint8_t md[32], num;
	size_t m1, m2, m3, i;

	assert_non_null(b);
	assert_int_equal(cnie_tlv_open(b, 0x30, &m1), 0);
	assert_int_equal(cnie_tlv_put(b, 0x02, &version, 1), 0);
	assert_int_equal(cnie_tlv_put(b, 0x30, oid, oid_len), 0);
	assert_int_equal(cnie_tlv_open(b, 0x30, &m2), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(EVP_Digest(dgs[i].data, dgs[i].len, md, NULL, EVP_sha256(),
		    NULL), 1);
		num = (uint8_t)dgs[i].number;
		assert_int_equal(cnie_tlv_open(b, 0x30, &m3), 0);
		assert_int_equal(cnie_tlv_put(b, 0x02, &num, 1), 0);
		assert_int_equal(cnie_tlv_put(b, 0x04, md, sizeof(md)), 0);
		assert_int_equal(cnie_tlv_close(b, m3), 0);
	}
	assert_int_equal(cnie_tlv_close(b, m2), 0);
	if (lds != NULL) {
		assert_int_equal(cnie_tlv_open(b, 0x30, &m3), 0);
		assert_int_equal(cnie_tlv_put(b, 0x13, lds, strlen(lds)), 0);
		assert_int_equal(cnie_tlv_put(b, 0x13, unicode, strlen(unicode)), 0);
		assert_int_equal(cnie_tlv_close(b, m3), 0);
	}
	assert_int_equal(cnie_tlv_close(b, m1), 0);
	return b;
}

/* Signs lso and runs PA over DG1 and DG2; returns the verdict. */
static int
pa_of_lso(const pki *p, cnie_pa_trust *t, cnie_buf *lso, const cnie_pa_dg *in,
    cnie_pa_result *res)
{
	cnie_buf *sod = cms_sign(p, "2.23.136.1.1.1", lso, 1);
	int r = cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 2, t, T_2026, res);

	cnie_buf_free(&sod);
	cnie_buf_free(&lso);
	return r;
}

/*
 * ICAO 9303-10 4.6.2: SignedData version 3 only; LDSSecurityObject version
 * 0 (no LDSVersionInfo) or 1 (with it: 4 and 6 digits); SHA-1/SHA-2 only,
 * another hash refused with the reason in sod_detail and the description.
 */
static void
test_sod_versions_and_hash(void **state)
{
	static const uint8_t sha256[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01 };
	/* md5 (1.2.840.113549.2.5): not a hash EF.SOD may use. */
	static const uint8_t md5[] = { 0x06, 0x08, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02,
		0x05 };
	static const uint8_t d1[] = { 0x61, 0x01, 0x00 }, d2[] = { 0x75, 0x01, 0x00 };
	const cnie_pa_dg in[2] = { { 1, d1, sizeof(d1) }, { 2, d2, sizeof(d2) } };
	cnie_pa_trust *t;
	cnie_pa_result res;
	cnie_buf *sod, *lso;
	cnie_tlv w, ci, sd;
	uint8_t *v;
	pki p;

	(void)state;
	pki_make(&p);
	t = trust_x509(p.csca);
	/* Version 0 without, version 1 with LDSVersionInfo: both pass. */
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 0, sha256, sizeof(sha256), NULL, NULL),
	    in, &res), 0);
	assert_null(res.sod_detail);
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 1, sha256, sizeof(sha256), "0108",
	    "040000"), in, &res), 0);
	assert_int_equal(res.lds_version, 1);
	/* Version 1 without it, or malformed; version 0 with it. */
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 1, sha256, sizeof(sha256), NULL, NULL),
	    in, &res), CNIE_ERR_TRUNCATED);
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 1, sha256, sizeof(sha256), "108",
	    "040000"), in, &res), CNIE_ERR_ENCODING);
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 1, sha256, sizeof(sha256), "01A8",
	    "040000"), in, &res), CNIE_ERR_ENCODING);
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 0, sha256, sizeof(sha256), "0108",
	    "040000"), in, &res), CNIE_ERR_TRAILING);
	/* Version 2: not one the standard defines. */
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 2, sha256, sizeof(sha256), NULL, NULL),
	    in, &res), CNIE_ERR_UNSUPPORTED);
	assert_non_null(res.sod_detail);
	assert_non_null(strstr(res.sod_detail, "LDSSecurityObject version"));
	/* Another hash algorithm: refused, saying why. */
	assert_int_equal(pa_of_lso(&p, t, make_lso_ex(in, 0, md5, sizeof(md5), NULL, NULL), in,
	    &res), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_SOD_PARSE);
	assert_non_null(res.sod_detail);
	assert_non_null(strstr(res.sod_detail, "hash algorithm not supported"));
	{
		char buf[200];

		assert_non_null(strstr(cnie_pa_describe(&res, buf, sizeof(buf)),
		    "EF.SOD refused: hash algorithm not supported"));
	}
	/* SignedData version 1 instead of 3 (77 { 30 { 06 .. A0 { 30 { 02 01 03 ... */
	lso = make_lso_ex(in, 0, sha256, sizeof(sha256), NULL, NULL);
	sod = cms_sign(&p, "2.23.136.1.1.1", lso, 1);
	cnie_buf_free(&lso);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 2, t, T_2026,
	    &res), 0);
	assert_int_equal(cnie_tlv_parse_one(cnie_buf_ptr(sod), cnie_buf_len(sod), &w), 0);
	assert_int_equal(cnie_tlv_parse_one(w.value, w.len, &ci), 0);
	/* ContentInfo value: OID (06 09 ...: 11 bytes), then A0. */
	assert_int_equal(ci.value[0], 0x06);
	assert_int_equal(cnie_tlv_parse_one(ci.value + 2 + ci.value[1],
	    ci.len - 2 - ci.value[1], &sd), 0);
	assert_int_equal(sd.tag, 0xA0);
	assert_int_equal(cnie_tlv_parse_one(sd.value, sd.len, &sd), 0);
	v = (uint8_t *)(uintptr_t)sd.value;
	assert_int_equal(v[0], 0x02);
	assert_int_equal(v[1], 0x01);
	assert_int_equal(v[2], 0x03);
	v[2] = 0x01;
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), in, 2, t, T_2026,
	    &res), CNIE_ERR_UNSUPPORTED);
	assert_int_equal(res.first_failure, CNIE_PA_STEP_SOD_PARSE);
	assert_non_null(strstr(res.sod_detail, "SignedData version is not 3"));
	cnie_buf_free(&sod);
	cnie_pa_trust_free(&t);
	pki_free(&p);
}

/* CscaMasterList { 0, SET { csca.pem, hand CSCA } } signed by the hand DS. */
static void
test_master_list(void **state)
{
	cnie_buf *ml, *body, *file_csca;
	cnie_pa_trust *t = NULL;
	cnie_pa_result res;
	unsigned char *der = NULL;
	char *path = build_path("cards/pki/csca.pem");
	X509 *real;
	FILE *f;
	size_t m1, m2;
	int n;
	card c;
	pki p;

	(void)state;
	pki_make(&p);
	f = fopen(path, "r");
	assert_non_null(f);
	real = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(real);
	body = cnie_buf_new();
	assert_int_equal(cnie_tlv_open(body, 0x30, &m1), 0);
	assert_int_equal(cnie_tlv_put(body, 0x02, "\x00", 1), 0);
	assert_int_equal(cnie_tlv_open(body, 0x31, &m2), 0);
	n = i2d_X509(p.csca, &der);
	assert_int_equal(cnie_buf_put(body, der, (size_t)n), 0);
	OPENSSL_free(der);
	der = NULL;
	n = i2d_X509(real, &der);
	assert_int_equal(cnie_buf_put(body, der, (size_t)n), 0);
	OPENSSL_free(der);
	assert_int_equal(cnie_tlv_close(body, m2), 0);
	assert_int_equal(cnie_tlv_close(body, m1), 0);
	ml = cms_sign(&p, "2.23.136.1.1.2", body, 0);

	assert_int_equal(cnie_pa_trust_new(&t), 0);
	assert_int_equal(cnie_pa_trust_add_master_list(t, cnie_buf_ptr(ml), cnie_buf_len(ml)), 0);
	assert_int_equal(cnie_pa_trust_count(t), 2);
	card_load(&c, "ec");
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(c.sod), cnie_buf_len(c.sod), c.in, NDG, t,
	    T_2026, &res), 0);
	card_free(&c);
	/* Wrong content type, truncated, trailing byte. */
	assert_int_equal(cnie_pa_trust_add_master_list(t, cnie_buf_ptr(ml),
	    cnie_buf_len(ml) - 1), CNIE_ERR_ENCODING);
	file_csca = cnie_buf_from(cnie_buf_ptr(ml), cnie_buf_len(ml));
	assert_int_equal(cnie_buf_put_u8(file_csca, 0), 0);
	assert_int_equal(cnie_pa_trust_add_master_list(t, cnie_buf_ptr(file_csca),
	    cnie_buf_len(file_csca)), CNIE_ERR_TRAILING);
	cnie_buf_free(&file_csca);
	cnie_buf_free(&ml);
	ml = cms_sign(&p, "2.23.136.1.1.1", body, 0);
	assert_int_equal(cnie_pa_trust_add_master_list(t, cnie_buf_ptr(ml), cnie_buf_len(ml)),
	    CNIE_ERR_ENCODING);
	assert_int_equal(cnie_pa_trust_count(t), 2);
	cnie_buf_free(&ml);
	cnie_buf_free(&body);
	cnie_pa_trust_free(&t);
	X509_free(real);
	free(path);
	pki_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_card_passes),
		cmocka_unit_test(test_rsa_card_passes),
		cmocka_unit_test(test_subset_of_dgs),
		cmocka_unit_test(test_tampered_dg1),
		cmocka_unit_test(test_tampered_dg15_last_byte),
		cmocka_unit_test(test_wrong_csca),
		cmocka_unit_test(test_expired_ds),
		cmocka_unit_test(test_truncated_sod),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_dg_not_in_sod),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_trust_dir_pem_and_der),
		cmocka_unit_test(test_sod_missing_dg),
		cmocka_unit_test(test_sod_versions_and_hash),
		cmocka_unit_test(test_master_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
