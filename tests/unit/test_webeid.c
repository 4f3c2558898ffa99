/*
 * Unit tests for the Web eID token verifier (src/libcnie/webeid.c).  Every test
 * builds real tokens: CA and authentication certificates and keys are made
 * here with OpenSSL, the token is signed over H(origin) || H(nonce) exactly
 * as the card does, and each rejection asserts its precise reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/error.h>
#include <cnie/webeid.h>

#define ORIGIN "https://portal.example.ma"
#define DAY (24 * 3600L)

typedef struct pki {
	EVP_PKEY *ca_key, *other_ca_key, *ec_key, *ec384_key, *rsa_key;
	X509 *ca, *other_ca;
	X509 *leaf;	    /* P-256, digitalSignature + clientAuth, valid now */
	X509 *leaf384;	    /* P-384 */
	X509 *leaf_rsa;	    /* RSA 2048 */
	X509 *leaf_expired; /* P-256, expired yesterday */
	X509 *leaf_future;  /* P-256, valid from tomorrow */
	X509 *leaf_nonrep;  /* P-256, nonRepudiation only (a signing certificate) */
	X509 *leaf_other;   /* P-256, issued by the other (untrusted) CA */
	cnie_webeid_trust *trust;
	cnie_webeid_nonce_store *nonces;
	time_t now;
} pki;

static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn, long from,
    long to, const char *ku, const char *eku, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	static long serial = 1;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"MA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	if (!ca)
		X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_ASC,
		    (const unsigned char *)"ZT0000001", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to, NULL);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (eku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static int
setup(void **state)
{
	pki *k = calloc(1, sizeof(*k));
	BIO *bio;
	char *pem = NULL;
	long pem_len;

	assert_non_null(k);
	k->now = time(NULL);
	k->ca_key = EVP_EC_gen("P-256");
	k->other_ca_key = EVP_EC_gen("P-256");
	k->ec_key = EVP_EC_gen("P-256");
	k->ec384_key = EVP_EC_gen("P-384");
	k->rsa_key = EVP_RSA_gen(2048);
	assert_non_null(k->rsa_key);
	k->ca = make_cert(k->ca_key, k->ca_key, NULL, "TEST CITIZEN CA", -3650 * DAY, 3650 * DAY,
	    "critical,keyCertSign,cRLSign", NULL, true);
	k->other_ca = make_cert(k->other_ca_key, k->other_ca_key, NULL, "OTHER CA", -3650 * DAY,
	    3650 * DAY, "critical,keyCertSign,cRLSign", NULL, true);
	k->leaf = make_cert(k->ec_key, k->ca_key, k->ca, "FATIMA ZAHRA BENALI (Authentication)",
	    -DAY, 365 * DAY, "critical,digitalSignature", "clientAuth", false);
	k->leaf384 = make_cert(k->ec384_key, k->ca_key, k->ca, "P384 (Authentication)",
	    -DAY, 365 * DAY, "critical,digitalSignature", "clientAuth", false);
	k->leaf_rsa = make_cert(k->rsa_key, k->ca_key, k->ca, "RSA (Authentication)",
	    -DAY, 365 * DAY, "critical,digitalSignature", "clientAuth", false);
	k->leaf_expired = make_cert(k->ec_key, k->ca_key, k->ca, "EXPIRED", -365 * DAY, -DAY,
	    "critical,digitalSignature", "clientAuth", false);
	k->leaf_future = make_cert(k->ec_key, k->ca_key, k->ca, "FUTURE", DAY, 365 * DAY,
	    "critical,digitalSignature", "clientAuth", false);
	k->leaf_nonrep = make_cert(k->ec_key, k->ca_key, k->ca, "SIGNING", -DAY, 365 * DAY,
	    "critical,nonRepudiation", NULL, false);
	k->leaf_other = make_cert(k->ec_key, k->other_ca_key, k->other_ca, "OTHER", -DAY,
	    365 * DAY, "critical,digitalSignature", "clientAuth", false);

	/* The trust store from PEM, as a portal loads its CA file. */
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, k->ca);
	pem_len = BIO_get_mem_data(bio, &pem);
	assert_int_equal(cnie_webeid_trust_new(&k->trust), 0);
	assert_int_equal(cnie_webeid_trust_add_mem(k->trust, (const uint8_t *)pem, (size_t)pem_len), 0);
	assert_int_equal(cnie_webeid_trust_count(k->trust), 1);
	BIO_free(bio);
	assert_int_equal(cnie_webeid_nonce_store_new(64, 300, &k->nonces), 0);
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	pki *k = *state;

	X509_free(k->ca);
	X509_free(k->other_ca);
	X509_free(k->leaf);
	X509_free(k->leaf384);
	X509_free(k->leaf_rsa);
	X509_free(k->leaf_expired);
	X509_free(k->leaf_future);
	X509_free(k->leaf_nonrep);
	X509_free(k->leaf_other);
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->other_ca_key);
	EVP_PKEY_free(k->ec_key);
	EVP_PKEY_free(k->ec384_key);
	EVP_PKEY_free(k->rsa_key);
	cnie_webeid_trust_free(&k->trust);
	cnie_webeid_nonce_store_free(&k->nonces);
	assert_null(k->trust);
	free(k);
	return 0;
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	assert_non_null(s);
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* Signs as the card: H(origin)||H(nonce), hashed again by the algorithm. */
static char *
make_token(X509 *cert, EVP_PKEY *key, const char *alg, const char *origin, const char *nonce)
{
	const char *mdname = strstr(alg, "384") ? "SHA384" : strstr(alg, "512") ? "SHA512" : "SHA256";
	const EVP_MD *md = EVP_get_digestbyname(mdname);
	uint8_t data[128], sig[1024], raw[264];
	unsigned int h1, h2;
	size_t sig_len = sizeof(sig), out_len;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	int der_len;
	char *cert_b64, *sig_b64, *tok;
	const uint8_t *sp = sig;

	assert_int_equal(EVP_Digest(origin, strlen(origin), data, &h1, md, NULL), 1);
	assert_int_equal(EVP_Digest(nonce, strlen(nonce), data + h1, &h2, md, NULL), 1);
	assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, key), 1);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	assert_int_equal(EVP_DigestSign(mctx, sig, &sig_len, data, h1 + h2), 1);
	EVP_MD_CTX_free(mctx);
	out_len = sig_len;
	if (alg[0] == 'E') {
		/* DER ECDSA-Sig-Value to raw r||s, as the card answers. */
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &sp, (long)sig_len);
		size_t half = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;

		assert_non_null(es);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 2 * half);
		out_len = 2 * half;
	}
	der_len = i2d_X509(cert, &der);
	assert_true(der_len > 0);
	cert_b64 = b64(der, (size_t)der_len);
	OPENSSL_free(der);
	sig_b64 = b64(sig, out_len);
	tok = malloc(strlen(cert_b64) + strlen(sig_b64) + 256);
	sprintf(tok, "{\"unverifiedCertificate\":\"%s\",\"algorithm\":\"%s\",\"signature\":\"%s\","
	    "\"format\":\"web-eid:1.0\",\"appVersion\":\"https://github.com/cnie/cnie-middleware/releases/tag/v0.1.0\"}",
	    cert_b64, alg, sig_b64);
	free(cert_b64);
	free(sig_b64);
	return tok;
}

static int
verify(pki *k, const char *tok, const char *origin, const char *nonce, time_t now,
    cnie_webeid_info *info)
{
	cnie_webeid_params p = { origin, nonce, k->nonces, k->trust, now };

	return cnie_webeid_verify(tok, strlen(tok), &p, info);
}

static void
issue(pki *k, char nonce[CNIE_WEBEID_NONCE_LEN + 1])
{
	assert_int_equal(cnie_webeid_nonce_issue(k->nonces, k->now, nonce, CNIE_WEBEID_NONCE_LEN + 1), 0);
	assert_int_equal(strlen(nonce), CNIE_WEBEID_NONCE_LEN);
}

/* ---- accepted ------------------------------------------------------------ */

static void
test_valid_es256_accepted(void **state)
{
	pki *k = *state;
	char nonce[64];
	cnie_webeid_info info;
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, &info), CNIE_WEBEID_OK);
	assert_string_equal(info.algorithm, "ES256");
	assert_string_equal(info.common_name, "FATIMA ZAHRA BENALI (Authentication)");
	assert_string_equal(info.serial_number, "ZT0000001");
	assert_non_null(strstr(info.subject, "CN=FATIMA ZAHRA BENALI (Authentication)"));
	assert_int_equal(strlen(info.fingerprint), 64);
	assert_non_null(info.certificate);
	assert_int_equal(info.certificate_len, (size_t)i2d_X509(k->leaf, NULL));
	cnie_webeid_info_clear(&info);
	assert_null(info.certificate);
	free(tok);
}

static void
test_valid_es384_rs256_ps256_accepted(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf384, k->ec384_key, "ES384", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_OK);
	free(tok);
	issue(k, nonce);
	tok = make_token(k->leaf_rsa, k->rsa_key, "RS256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_OK);
	free(tok);
	issue(k, nonce);
	tok = make_token(k->leaf_rsa, k->rsa_key, "PS256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_OK);
	free(tok);
}

static void
test_origin_with_port_accepted(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", "https://127.0.0.1:8443", nonce);
	assert_int_equal(verify(k, tok, "https://127.0.0.1:8443", nonce, k->now, NULL), CNIE_WEBEID_OK);
	free(tok);
}

/* ---- rejected, each with its reason -------------------------------------- */

static void
test_wrong_origin_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", "https://evil.example", nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_SIGNATURE_MISMATCH);
	free(tok);
	/* A trailing slash is another origin. */
	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN "/", nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_SIGNATURE_MISMATCH);
	free(tok);
}

static void
test_replayed_nonce_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_OK);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_NONCE_REPLAYED);
	free(tok);
}

static void
test_failed_attempt_consumes_nonce(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	assert_int_equal(verify(k, "{}", ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_FORMAT);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_NONCE_REPLAYED);
	free(tok);
}

static void
test_expired_nonce_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now + 301, NULL), CNIE_WEBEID_NONCE_EXPIRED);
	free(tok);
	/* At the window's edge it is still fresh. */
	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now + 300, NULL), CNIE_WEBEID_OK);
	free(tok);
}

static void
test_unknown_nonce_rejected(void **state)
{
	pki *k = *state;
	const char *nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char *tok;

	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_NONCE_UNKNOWN);
	/* Too short to be a Web eID nonce at all. */
	assert_int_equal(verify(k, tok, ORIGIN, "c2hvcnQ=", k->now, NULL), CNIE_WEBEID_NONCE_UNKNOWN);
	assert_int_equal(cnie_webeid_nonce_add(k->nonces, "c2hvcnQ=", k->now), CNIE_ERR_INVALID_ARG);
	/* Added from elsewhere: known and accepted once. */
	assert_int_equal(cnie_webeid_nonce_add(k->nonces, nonce, k->now), 0);
	assert_int_equal(cnie_webeid_nonce_add(k->nonces, nonce, k->now), CNIE_ERR_STATE);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_OK);
	free(tok);
}

static void
test_tampered_signature_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok, *sig;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	sig = strstr(tok, "\"signature\":\"") + 13;
	/* Change one base64 character in the middle of r. */
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_SIGNATURE_MISMATCH);
	free(tok);
}

static void
test_truncated_signature_invalid(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok, *sig;

	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	sig = strstr(tok, "\"signature\":\"") + 13;
	/* 64 bytes → 88 chars; drop the last 4 characters: 61 bytes is no P-256 r||s. */
	memmove(sig + 84, sig + 88, strlen(sig + 88) + 1);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_SIGNATURE_INVALID);
	free(tok);
}

static void
test_untrusted_ca_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf_other, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_CERT_UNTRUSTED);
	free(tok);
}

static void
test_expired_certificate_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf_expired, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_CERT_EXPIRED);
	free(tok);
	issue(k, nonce);
	tok = make_token(k->leaf_future, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_CERT_NOT_YET_VALID);
	free(tok);
}

static void
test_signing_certificate_rejected_key_usage(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok;

	issue(k, nonce);
	tok = make_token(k->leaf_nonrep, k->ec_key, "ES256", ORIGIN, nonce);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_KEY_USAGE);
	free(tok);
}

static void
test_algorithm_not_matching_key_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	char *tok, *alg;

	/* ES384 claimed for a P-256 key. */
	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	alg = strstr(tok, "ES256");
	memcpy(alg, "ES384", 5);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_ALGORITHM);
	free(tok);
	/* RS256 claimed for an EC key; an unknown name. */
	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	alg = strstr(tok, "ES256");
	memcpy(alg, "RS256", 5);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_ALGORITHM);
	free(tok);
	issue(k, nonce);
	tok = make_token(k->leaf, k->ec_key, "ES256", ORIGIN, nonce);
	alg = strstr(tok, "ES256");
	memcpy(alg, "HS256", 5);
	assert_int_equal(verify(k, tok, ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_ALGORITHM);
	free(tok);
}

static void
test_bad_format_rejected(void **state)
{
	static const char *bad[] = {
		"",
		"not json",
		"[]",
		"{}",
		"{\"format\":\"web-eid:2.0\"}",
		"{\"format\":\"web-eid:1.0\",\"algorithm\":\"ES256\",\"signature\":\"AAAA\"}",
		"{\"format\":\"web-eid:1.0\",\"algorithm\":\"ES256\",\"signature\":\"AA AA\",\"unverifiedCertificate\":\"AAAA\"}",
		"{\"format\":\"web-eid:1.0\",\"algorithm\":\"ES256\",\"signature\":\"AAA=\",\"unverifiedCertificate\":\"AAB=\"}",
		"{\"format\":\"web-eid:1.0\",\"format\":\"web-eid:1.0\"}",
		"{\"format\":1}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	pki *k = *state;
	char nonce[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		issue(k, nonce);
		assert_int_equal(verify(k, bad[i], ORIGIN, nonce, k->now, NULL), CNIE_WEBEID_FORMAT);
	}
	/* A certificate that is not DER. */
	issue(k, nonce);
	assert_int_equal(verify(k, "{\"format\":\"web-eid:1.0\",\"algorithm\":\"ES256\","
	    "\"signature\":\"AAAA\",\"unverifiedCertificate\":\"AAAA\"}", ORIGIN, nonce, k->now, NULL),
	    CNIE_WEBEID_CERT_INVALID);
}

static void
test_bad_parameters_rejected(void **state)
{
	pki *k = *state;
	char nonce[64];
	cnie_webeid_params p = { ORIGIN, NULL, k->nonces, k->trust, 0 };
	static const char *origins[] = { "http://portal.example.ma", "https://portal.example.ma/",
		"https://portal.example.ma/login", "https://u@portal.example.ma", "https://", "https://h:",
		"https://h:123456", "portal.example.ma" };
	size_t i;

	issue(k, nonce);
	p.nonce = nonce;
	for (i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		p.origin = origins[i];
		assert_int_equal(cnie_webeid_verify("{}", 2, &p, NULL), CNIE_WEBEID_BAD_ARGUMENT);
	}
	p.origin = ORIGIN;
	p.trust = NULL;
	assert_int_equal(cnie_webeid_verify("{}", 2, &p, NULL), CNIE_WEBEID_BAD_ARGUMENT);
	assert_int_equal(cnie_webeid_verify("{}", 2, NULL, NULL), CNIE_WEBEID_BAD_ARGUMENT);
}

/* The signed data both bridge and verifier build: H(origin) || H(nonce). */
static void
test_signed_data(void **state)
{
	static const char origin[] = ORIGIN, nonce[] = "bm9uY2Vub25jZW5vbmNlbm9uY2Vub25jZW5vbmNlbm8=";
	uint8_t data[CNIE_WEBEID_SIGNED_DATA_MAX], want[2 * 64];
	unsigned int h1 = 0, h2 = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(EVP_Digest(origin, strlen(origin), want, &h1, EVP_sha384(), NULL), 1);
	assert_int_equal(EVP_Digest(nonce, strlen(nonce), want + h1, &h2, EVP_sha384(), NULL), 1);
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_SHA384, origin, nonce, data,
	    sizeof(data), &n), 0);
	assert_int_equal(n, 96);
	assert_memory_equal(data, want, n);
	/* The nonce's bytes as issued: another spelling is other data. */
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_SHA384, origin,
	    "bm9uY2Vub25jZW5vbmNlbm9uY2Vub25jZW5vbmNlbm8", data, sizeof(data), &n), 0);
	assert_memory_not_equal(data + 48, want + 48, 48);
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_SHA512, origin, nonce, data, 127,
	    &n), CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_NONE, origin, nonce, data,
	    sizeof(data), &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_SHA256, NULL, nonce, data,
	    sizeof(data), &n), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_webeid_signed_data(CNIE_CARD_HASH_SHA256, origin, NULL, data,
	    sizeof(data), &n), CNIE_ERR_INVALID_ARG);
}

/* The algorithm a bridge signs with, by key; each is one the verifier accepts for it. */
static void
test_auth_algorithm(void **state)
{
	cnie_card_hash h = CNIE_CARD_HASH_NONE;

	(void)state;
	assert_string_equal(cnie_webeid_auth_algorithm(true, 256, &h), "ES256");
	assert_int_equal(h, CNIE_CARD_HASH_SHA256);
	assert_string_equal(cnie_webeid_auth_algorithm(true, 384, &h), "ES384");
	assert_int_equal(h, CNIE_CARD_HASH_SHA384);
	assert_string_equal(cnie_webeid_auth_algorithm(true, 521, &h), "ES512");
	assert_int_equal(h, CNIE_CARD_HASH_SHA512);
	assert_string_equal(cnie_webeid_auth_algorithm(false, 3072, &h), "RS256");
	assert_int_equal(h, CNIE_CARD_HASH_SHA256);
	assert_string_equal(cnie_webeid_auth_algorithm(true, 255, NULL), "ES256");
}

static void
test_reason_strings(void **state)
{
	int i;

	(void)state;
	assert_string_equal(cnie_webeid_reason_code(CNIE_WEBEID_OK), "ok");
	assert_string_equal(cnie_webeid_reason_code(CNIE_WEBEID_NONCE_REPLAYED), "nonce-replayed");
	assert_string_equal(cnie_webeid_reason_code(999), "unknown");
	for (i = CNIE_WEBEID_OK; i <= CNIE_WEBEID_ALGORITHM; i++) {
		assert_non_null(cnie_webeid_reason_code(i));
		assert_string_not_equal(cnie_webeid_reason_code(i), "unknown");
		assert_string_not_equal(cnie_webeid_reason_text(i), "unknown reason");
	}
}

static void
test_nonce_store_forgets_oldest(void **state)
{
	cnie_webeid_nonce_store *s = NULL;
	char first[64], n[64];
	int i;

	(void)state;
	assert_int_equal(cnie_webeid_nonce_store_new(0, 300, &s), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_webeid_nonce_store_new(4, 300, &s), 0);
	assert_int_equal(cnie_webeid_nonce_issue(s, 1000, first, sizeof(first)), 0);
	assert_int_equal(cnie_webeid_nonce_add(s, first, 1000), CNIE_ERR_STATE);
	for (i = 0; i < 4; i++)
		assert_int_equal(cnie_webeid_nonce_issue(s, 1000, n, sizeof(n)), 0);
	/* The first was forgotten: adding it again is accepted. */
	assert_int_equal(cnie_webeid_nonce_add(s, first, 1000), 0);
	assert_int_equal(cnie_webeid_nonce_issue(s, 1000, n, CNIE_WEBEID_NONCE_LEN), CNIE_ERR_INVALID_ARG);
	cnie_webeid_nonce_store_free(&s);
	assert_null(s);
}

static void
test_trust_from_path(void **state)
{
	pki *k = *state;
	char dir[] = "/tmp/webeid-trust-XXXXXX", path[256];
	cnie_webeid_trust *t = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, k->ca);
	PEM_write_X509(f, k->other_ca);
	fclose(f);
	snprintf(path, sizeof(path), "%s/README", dir);
	f = fopen(path, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	assert_int_equal(cnie_webeid_trust_new(&t), 0);
	assert_int_equal(cnie_webeid_trust_add_path(t, dir), 0);
	assert_int_equal(cnie_webeid_trust_count(t), 2);
	assert_int_equal(cnie_webeid_trust_add_path(t, path), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_webeid_trust_add_path(t, "/nonexistent/ca.pem"), CNIE_ERR_IO);
	cnie_webeid_trust_free(&t);
	remove(path);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	remove(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_es256_accepted),
		cmocka_unit_test(test_valid_es384_rs256_ps256_accepted),
		cmocka_unit_test(test_origin_with_port_accepted),
		cmocka_unit_test(test_wrong_origin_rejected),
		cmocka_unit_test(test_replayed_nonce_rejected),
		cmocka_unit_test(test_failed_attempt_consumes_nonce),
		cmocka_unit_test(test_expired_nonce_rejected),
		cmocka_unit_test(test_unknown_nonce_rejected),
		cmocka_unit_test(test_tampered_signature_rejected),
		cmocka_unit_test(test_truncated_signature_invalid),
		cmocka_unit_test(test_untrusted_ca_rejected),
		cmocka_unit_test(test_expired_certificate_rejected),
		cmocka_unit_test(test_signing_certificate_rejected_key_usage),
		cmocka_unit_test(test_algorithm_not_matching_key_rejected),
		cmocka_unit_test(test_bad_format_rejected),
		cmocka_unit_test(test_bad_parameters_rejected),
		cmocka_unit_test(test_signed_data),
		cmocka_unit_test(test_auth_algorithm),
		cmocka_unit_test(test_reason_strings),
		cmocka_unit_test(test_nonce_store_forgets_oldest),
		cmocka_unit_test(test_trust_from_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
