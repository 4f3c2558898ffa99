/*
 * The test PKI: a CSCA and its Document Signers for the ICAO application
 * (ICAO 9303-12), a citizen CA for the PKI application's certificates.
 * Every name says TEST.  All CA keys are RSA with PKCS#1 v1.5 signatures:
 * deterministic, so certificates are byte-identical between runs.
 *
 * Negative-test material: "other-csca" has the CSCA's very name but another
 * key (a chain that matches by name and fails by signature), and the DS
 * "ds-expired" expired on 2019-12-31.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cnie/error.h>

#include "perso.h"

typedef struct name_entry {
	const char *field;
	const char *value;
} name_entry;

static X509_NAME *
make_name(const name_entry *e, size_t n)
{
	X509_NAME *name;
	size_t i;

	if ((name = X509_NAME_new()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (X509_NAME_add_entry_by_txt(name, e[i].field, MBSTRING_UTF8,
		    (const unsigned char *)e[i].value, -1, -1, 0) != 1) {
			X509_NAME_free(name);
			return NULL;
		}
	}
	return name;
}

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return CNIE_ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : CNIE_ERR_CRYPTO;
}

/* certificatePolicies with one policy OID (its conf syntax needs a config database). */
static int
add_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	int ok = 0;

	if (pols != NULL && pi != NULL && (pi->policyid = OBJ_txt2obj(oid, 1)) != NULL &&
	    sk_POLICYINFO_push(pols, pi) > 0) {
		pi = NULL;
		ok = X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0,
		    X509V3_ADD_DEFAULT) == 1;
	}
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return ok ? 0 : CNIE_ERR_CRYPTO;
}

typedef struct cert_spec {
	const char *seed;	  /* serial number derivation */
	const char *label;
	X509_NAME *subject;
	EVP_PKEY *key;		  /* subject's key */
	X509 *issuer;		  /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	const char *not_before;	  /* YYYYMMDDHHMMSSZ */
	const char *not_after;
	const char *basic;	  /* basicConstraints */
	const char *key_usage;
	const char *ext_key_usage; /* NULL: none */
	const char *policies;	   /* certificatePolicies; NULL: none */
} cert_spec;

static int
issue(const cert_spec *s, X509 **out)
{
	X509 *x = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX ctx;
	int r;

	*out = NULL;
	if ((r = perso_serial(s->seed, s->label, &serial)) != 0)
		return r;
	r = CNIE_ERR_CRYPTO;
	if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_subject_name(x, s->subject) != 1 ||
	    X509_set_issuer_name(x, s->issuer != NULL ?
	    X509_get_subject_name(s->issuer) : s->subject) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notBefore(x), s->not_before) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notAfter(x), s->not_after) != 1 ||
	    X509_set_pubkey(x, s->key) != 1)
		goto out;
	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL, NULL, 0);
	if ((r = add_ext(x, &ctx, NID_basic_constraints, s->basic)) != 0 ||
	    (r = add_ext(x, &ctx, NID_key_usage, s->key_usage)) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_key_identifier, "hash")) != 0 ||
	    (r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if (s->ext_key_usage != NULL &&
	    (r = add_ext(x, &ctx, NID_ext_key_usage, s->ext_key_usage)) != 0)
		goto out;
	if (s->policies != NULL && (r = add_policy(x, s->policies)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (X509_sign(x, s->issuer_key != NULL ? s->issuer_key : s->key, EVP_sha256()) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	ASN1_INTEGER_free(serial);
	return r;
}

static const name_entry csca_dn[] = { { "C", "MA" }, { "O", "TEST CNIE" },
	{ "CN", "TEST CSCA MAROC" } };
static const name_entry ds_dn[] = { { "C", "MA" }, { "O", "TEST CNIE" },
	{ "OU", "Document Signer" }, { "CN", "TEST DS 1" } };
static const name_entry ds_old_dn[] = { { "C", "MA" }, { "O", "TEST CNIE" },
	{ "OU", "Document Signer" }, { "CN", "TEST DS 0 (EXPIRED)" } };
static const name_entry ca_dn[] = { { "C", "MA" }, { "O", "TEST CNIE" },
	{ "CN", "TEST CNIE CITIZEN CA" } };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
perso_pki_make(const char *pki_seed, perso_pki *pki)
{
	X509_NAME *csca_name = NULL, *ds_name = NULL, *ds_old_name = NULL, *ca_name = NULL;
	cert_spec s;
	int r;

	memset(pki, 0, sizeof(*pki));
	if ((r = perso_rsa_key(pki_seed, "csca", 3072, &pki->csca_key)) != 0 ||
	    (r = perso_rsa_key(pki_seed, "other-csca", 3072, &pki->other_key)) != 0 ||
	    (r = perso_rsa_key(pki_seed, "ds", 2048, &pki->ds_key)) != 0 ||
	    (r = perso_rsa_key(pki_seed, "citizen-ca", 3072, &pki->ca_key)) != 0)
		goto out;
	r = CNIE_ERR_NOMEM;
	if ((csca_name = make_name(csca_dn, NELEM(csca_dn))) == NULL ||
	    (ds_name = make_name(ds_dn, NELEM(ds_dn))) == NULL ||
	    (ds_old_name = make_name(ds_old_dn, NELEM(ds_old_dn))) == NULL ||
	    (ca_name = make_name(ca_dn, NELEM(ca_dn))) == NULL)
		goto out;

	memset(&s, 0, sizeof(s));
	s.seed = pki_seed;
	s.not_before = "20100101000000Z";
	s.not_after = "20441231235959Z";
	s.basic = "critical,CA:TRUE,pathlen:0";
	s.key_usage = "critical,keyCertSign,cRLSign";
	s.label = "csca";
	s.subject = csca_name;
	s.key = pki->csca_key;
	if ((r = issue(&s, &pki->csca)) != 0)
		goto out;
	s.label = "other-csca";
	s.key = pki->other_key;
	if ((r = issue(&s, &pki->other_csca)) != 0)
		goto out;
	s.label = "citizen-ca";
	s.subject = ca_name;
	s.key = pki->ca_key;
	if ((r = issue(&s, &pki->ca)) != 0)
		goto out;

	/* ICAO 9303-12 7.1.1: the DS key usage is digitalSignature only. */
	s.basic = "critical,CA:FALSE";
	s.key_usage = "critical,digitalSignature";
	s.issuer = pki->csca;
	s.issuer_key = pki->csca_key;
	s.key = pki->ds_key;
	s.label = "ds";
	s.subject = ds_name;
	s.not_before = "20200101000000Z";
	s.not_after = "20391231235959Z";
	if ((r = issue(&s, &pki->ds)) != 0)
		goto out;
	s.label = "ds-expired";
	s.subject = ds_old_name;
	s.not_before = "20100101000000Z";
	s.not_after = "20191231235959Z";
	if ((r = issue(&s, &pki->ds_expired)) != 0)
		goto out;
	r = 0;
out:
	X509_NAME_free(csca_name);
	X509_NAME_free(ds_name);
	X509_NAME_free(ds_old_name);
	X509_NAME_free(ca_name);
	if (r != 0)
		perso_pki_free(pki);
	return r;
}

void
perso_pki_free(perso_pki *pki)
{
	EVP_PKEY_free(pki->csca_key);
	EVP_PKEY_free(pki->ds_key);
	EVP_PKEY_free(pki->ca_key);
	EVP_PKEY_free(pki->other_key);
	X509_free(pki->csca);
	X509_free(pki->ds);
	X509_free(pki->ds_expired);
	X509_free(pki->ca);
	X509_free(pki->other_csca);
	memset(pki, 0, sizeof(*pki));
}

static void
date_str(const perso_date *d, const char *hms, char *out, size_t outlen)
{
	snprintf(out, outlen, "%04d%02d%02d%sZ", d->y, d->m, d->d, hms);
}

int
perso_certs_make(perso_card *card)
{
	const perso_desc *d = &card->desc;
	char cn[128], org[] = "TEST CNIE - NOT A REAL IDENTITY", nb[20], na[20];
	name_entry dn[6] = { { "C", "MA" }, { "O", org }, { "SN", d->surname_latin },
		{ "GN", d->given_latin }, { "serialNumber", d->document_number },
		{ "CN", cn } };
	X509_NAME *name = NULL;
	cert_spec s;
	int r = CNIE_ERR_NOMEM;

	date_str(&d->issue, "000000", nb, sizeof(nb));
	date_str(&d->cert_not_after, "235959", na, sizeof(na));
	memset(&s, 0, sizeof(s));
	s.seed = d->seed;
	s.issuer = card->pki.ca;
	s.issuer_key = card->pki.ca_key;
	s.not_before = nb;
	s.not_after = na;
	s.basic = "critical,CA:FALSE";

	snprintf(cn, sizeof(cn), "%s %s (Authentication)", d->given_latin, d->surname_latin);
	if ((name = make_name(dn, NELEM(dn))) == NULL)
		goto out;
	s.label = "auth-cert";
	s.subject = name;
	s.key = card->auth_key;
	s.key_usage = "critical,digitalSignature";
	s.ext_key_usage = "clientAuth";
	/* Test policy OIDs (2.999: the ITU-T/ISO example arc), never a real
	 * CNIE policy: Web eID's validators read the extension. */
	s.policies = "2.999.1.1";
	if ((r = issue(&s, &card->auth_cert)) != 0)
		goto out;
	X509_NAME_free(name);

	snprintf(cn, sizeof(cn), "%s %s (Signature)", d->given_latin, d->surname_latin);
	r = CNIE_ERR_NOMEM;
	if ((name = make_name(dn, NELEM(dn))) == NULL)
		goto out;
	s.label = "sign-cert";
	s.subject = name;
	s.key = card->sign_key;
	s.key_usage = "critical,nonRepudiation";
	s.ext_key_usage = NULL;
	s.policies = "2.999.1.2";
	r = issue(&s, &card->sign_cert);
out:
	X509_NAME_free(name);
	return r;
}

/*
 * Several cards may write one shared PKI folder at once (a parallel
 * build): each file is written under a temporary name and renamed.
 */
static int
write_pem(const char *dir, const char *name, X509 *x)
{
	char path[4096], tmp[4096];
	FILE *f = NULL;
	int fd, ok = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
		return CNIE_ERR_TOO_LONG;
	if ((fd = mkstemp(tmp)) < 0)
		return CNIE_ERR_IO;
	if (fchmod(fd, 0644) == 0 && (f = fdopen(fd, "w")) != NULL)
		ok = PEM_write_X509(f, x);
	if (f != NULL) {
		if (fclose(f) != 0)
			ok = 0;
	} else
		close(fd);
	if (ok == 1 && rename(tmp, path) == 0)
		return 0;
	unlink(tmp);
	return CNIE_ERR_IO;
}

int
perso_pki_write(const perso_pki *pki, const char *dir)
{
	int r;

	if ((r = write_pem(dir, "csca.pem", pki->csca)) != 0 ||
	    (r = write_pem(dir, "ds.pem", pki->ds)) != 0 ||
	    (r = write_pem(dir, "ds-expired.pem", pki->ds_expired)) != 0 ||
	    (r = write_pem(dir, "citizen-ca.pem", pki->ca)) != 0 ||
	    (r = write_pem(dir, "other-csca.pem", pki->other_csca)) != 0)
		return r;
	return 0;
}
