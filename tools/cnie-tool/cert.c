/*
 * Certificate summaries and chain checks for cnie-tool (OpenSSL).  The
 * certificates come from the card: parsed with d2i_X509 over the exact
 * length, nothing trusted from them but what the chain check proves.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/error.h>

#include "cnie_tool.h"

void
cnie_tool_time_iso(long long t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

static X509 *
parse(const uint8_t *der, size_t n)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || n == 0 || n > 65536)
		return NULL;
	x = d2i_X509(NULL, &p, (long)n);
	if (x != NULL && p != der + n) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static json_t *
name_json(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	json_t *j = NULL;

	if (b == NULL)
		return NULL;
	/* RFC 2253 with UTF-8 kept as is: Arabic names stay readable. */
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) >= 0)
		j = json_stringn(p, (size_t)n);
	BIO_free(b);
	return j;
}

static int
asn1_time(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return CNIE_ERR_ENCODING;
	*out = (long long)timegm(&tm);
	return 0;
}

int
cnie_tool_cert_validity(const uint8_t *der, size_t n, long long *not_before,
    long long *not_after)
{
	X509 *x = parse(der, n);
	int r = CNIE_ERR_ENCODING;

	if (x != NULL && asn1_time(X509_get0_notBefore(x), not_before) == 0 &&
	    asn1_time(X509_get0_notAfter(x), not_after) == 0)
		r = 0;
	X509_free(x);
	return r;
}

static json_t *
key_json(X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char curve[64] = "", buf[96];

	if (k == NULL)
		return json_string("unknown");
	if (EVP_PKEY_is_a(k, "EC")) {
		size_t l = 0;

		if (EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof(curve), &l) != 1)
			snprintf(curve, sizeof(curve), "%d bits", EVP_PKEY_get_bits(k));
		if (strcmp(curve, "prime256v1") == 0)
			snprintf(curve, sizeof(curve), "P-256");
		else if (strcmp(curve, "secp384r1") == 0)
			snprintf(curve, sizeof(curve), "P-384");
		else if (strcmp(curve, "secp521r1") == 0)
			snprintf(curve, sizeof(curve), "P-521");
		snprintf(buf, sizeof(buf), "EC %s", curve);
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		snprintf(buf, sizeof(buf), "RSA %d", EVP_PKEY_get_bits(k));
	} else {
		snprintf(buf, sizeof(buf), "%s", EVP_PKEY_get0_type_name(k));
	}
	return json_string(buf);
}

static json_t *
usage_json(X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} ku[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
	};
	json_t *a = json_array();
	uint32_t u = X509_get_key_usage(x);

	if (a == NULL || u == UINT32_MAX)
		return a;
	for (size_t i = 0; i < sizeof(ku) / sizeof(ku[0]); i++)
		if (u & ku[i].bit)
			json_array_append_new(a, json_string(ku[i].name));
	return a;
}

json_t *
cnie_tool_cert_json(const uint8_t *der, size_t n)
{
	X509 *x = parse(der, n);
	json_t *j = NULL;
	long long nb, na;
	char tb[32], ta[32];
	unsigned char md[32];
	char *fp = NULL, *serial = NULL;
	const ASN1_INTEGER *sn;

	if (x == NULL)
		return NULL;
	if (asn1_time(X509_get0_notBefore(x), &nb) != 0 ||
	    asn1_time(X509_get0_notAfter(x), &na) != 0)
		goto out;
	cnie_tool_time_iso(nb, tb, sizeof(tb));
	cnie_tool_time_iso(na, ta, sizeof(ta));
	if (EVP_Digest(der, n, md, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	fp = cnie_tool_hex(md, sizeof(md));
	sn = X509_get0_serialNumber(x);
	serial = cnie_tool_hex(sn->data, (size_t)sn->length);
	j = json_pack("{s:o*,s:o*,s:s?,s:s,s:s,s:o*,s:o*,s:s?,s:b}", "subject",
	    name_json(X509_get_subject_name(x)), "issuer", name_json(X509_get_issuer_name(x)),
	    "serial", serial, "not_before", tb, "not_after", ta, "key", key_json(x), "key_usage",
	    usage_json(x), "sha256", fp, "expired", na < (long long)time(NULL));
out:
	free(fp);
	free(serial);
	X509_free(x);
	return j;
}

int
cnie_tool_cert_chain(const uint8_t *der, size_t n, const char *ca, char *why, size_t why_len)
{
	X509 *x = parse(der, n);
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct stat st;
	int r = CNIE_ERR_UNTRUSTED, err;

	snprintf(why, why_len, "?");
	if (x == NULL) {
		snprintf(why, why_len, "malformed certificate");
		return CNIE_ERR_ENCODING;
	}
	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (stat(ca, &st) != 0) {
		snprintf(why, why_len, "%s: cannot read", ca);
		r = CNIE_ERR_IO;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (X509_STORE_load_path(store, ca) != 1) {
			snprintf(why, why_len, "%s: cannot load", ca);
			r = CNIE_ERR_IO;
			goto out;
		}
		{
			/* load_path needs hashed names: also add the plain files. */
			DIR *dir = opendir(ca);
			struct dirent *e;

			while (dir != NULL && (e = readdir(dir)) != NULL) {
				char p[4096];
				size_t l = strlen(e->d_name);

				if (l < 4 || strcmp(e->d_name + l - 4, ".pem") != 0)
					continue;
				snprintf(p, sizeof(p), "%s/%s", ca, e->d_name);
				(void)X509_STORE_load_file(store, p);
			}
			if (dir != NULL)
				closedir(dir);
		}
	} else if (X509_STORE_load_file(store, ca) != 1) {
		snprintf(why, why_len, "%s: no certificate", ca);
		r = CNIE_ERR_IO;
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
		r = CNIE_ERR_CRYPTO;
		goto out;
	}
	if (X509_verify_cert(ctx) == 1) {
		snprintf(why, why_len, "ok");
		r = 0;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	snprintf(why, why_len, "%s", X509_verify_cert_error_string(err));
	r = (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) ?
	    CNIE_ERR_EXPIRED : CNIE_ERR_UNTRUSTED;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	return r;
}
