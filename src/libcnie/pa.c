/*
 * Passive Authentication (ICAO 9303-11 5.1): EF.SOD is a CMS SignedData
 * (9303-10 4.6.2) whose content is an LDSSecurityObject listing the hash
 * of every data group; it is signed by a Document Signer whose certificate
 * is issued by the country's CSCA (9303-12).  The LDSSecurityObject and
 * the master list content are read with the project's TLV parser (DER);
 * CMS and X.509 are left to OpenSSL.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/log.h>
#include <cnie/pa.h>
#include <cnie/tlv.h>

#include "hash_internal.h"

#define OID_LDS_SECURITY_OBJECT "2.23.136.1.1.1"
#define OID_CSCA_MASTER_LIST "2.23.136.1.1.2"

/* Caps on untrusted sizes. */
#define PA_FILE_MAX (8u * 1024u * 1024u) /* trust files, master lists */
#define PA_SOD_MAX (64u * 1024u)	    /* EF.SOD: a few KiB in practice */
#define PA_TRUST_MAX 4096		    /* certificates in a trust store */

struct cnie_pa_trust {
	STACK_OF(X509) *certs;
};

/* ---- trust store ------------------------------------------------------ */

int
cnie_pa_trust_new(cnie_pa_trust **out)
{
	cnie_pa_trust *t;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((t->certs = sk_X509_new_null()) == NULL) {
		free(t);
		return CNIE_ERR_NOMEM;
	}
	*out = t;
	return 0;
}

void
cnie_pa_trust_free(cnie_pa_trust **t)
{
	if (t == NULL || *t == NULL)
		return;
	sk_X509_pop_free((*t)->certs, X509_free);
	free(*t);
	*t = NULL;
}

size_t
cnie_pa_trust_count(const cnie_pa_trust *t)
{
	int n;

	if (t == NULL || (n = sk_X509_num(t->certs)) < 0)
		return 0;
	return (size_t)n;
}

/* Takes ownership of x. */
static int
trust_push(cnie_pa_trust *t, X509 *x)
{
	if (cnie_pa_trust_count(t) >= PA_TRUST_MAX) {
		X509_free(x);
		return CNIE_ERR_TOO_LONG;
	}
	if (sk_X509_push(t->certs, x) <= 0) {
		X509_free(x);
		return CNIE_ERR_NOMEM;
	}
	return 0;
}

int
cnie_pa_trust_add_der(cnie_pa_trust *t, const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	X509 *x;

	if (t == NULL || p == NULL || n == 0 || n > PA_FILE_MAX)
		return CNIE_ERR_INVALID_ARG;
	if ((x = d2i_X509(NULL, &q, (long)n)) == NULL) {
		ERR_clear_error();
		return CNIE_ERR_ENCODING;
	}
	if (q != p + n) {
		X509_free(x);
		return CNIE_ERR_TRAILING;
	}
	return trust_push(t, x);
}

static int
read_file(const char *path, cnie_buf **out)
{
	cnie_buf *b = NULL;
	FILE *f = NULL;
	uint8_t *w;
	size_t got;
	int r = CNIE_ERR_IO;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return CNIE_ERR_IO;
	if ((b = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_buf_set_max(b, PA_FILE_MAX)) != 0)
		goto out;
	for (;;) {
		if ((r = cnie_buf_reserve(b, 4096, &w)) != 0)
			goto out;
		got = fread(w, 1, 4096, f);
		if ((r = cnie_buf_truncate(b, cnie_buf_len(b) - (4096 - got))) != 0)
			goto out;
		if (got < 4096)
			break;
	}
	if (ferror(f)) {
		r = CNIE_ERR_IO;
		goto out;
	}
	*out = b;
	b = NULL;
	r = 0;
out:
	cnie_buf_free(&b);
	fclose(f);
	return r;
}

static int
add_pem(cnie_pa_trust *t, const uint8_t *p, size_t n)
{
	BIO *bio;
	X509 *x;
	size_t added = 0;
	int r = 0;

	if ((bio = BIO_new_mem_buf(p, (int)n)) == NULL)
		return CNIE_ERR_NOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if ((r = trust_push(t, x)) != 0)
			break;
		added++;
	}
	ERR_clear_error(); /* the loop ends on "no start line" */
	BIO_free(bio);
	if (r == 0 && added == 0)
		r = CNIE_ERR_ENCODING;
	return r;
}

int
cnie_pa_trust_add_file(cnie_pa_trust *t, const char *path)
{
	cnie_buf *b = NULL;
	const uint8_t *p;
	size_t n;
	int r;

	if (t == NULL || path == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = read_file(path, &b)) != 0)
		return r;
	p = cnie_buf_ptr(b);
	n = cnie_buf_len(b);
	/* DER first (a SEQUENCE); a text file that happens to start with
	 * '0' (0x30) then still gets its chance as PEM. */
	r = CNIE_ERR_ENCODING;
	if (n > 0 && p[0] == 0x30)
		r = cnie_pa_trust_add_der(t, p, n);
	if (r != 0 && r != CNIE_ERR_NOMEM && r != CNIE_ERR_TOO_LONG && n > 0 &&
	    memmem(p, n, "-----BEGIN", 10) != NULL)
		r = add_pem(t, p, n);
	cnie_buf_free(&b);
	return r;
}

int
cnie_pa_trust_add_dir(cnie_pa_trust *t, const char *dir)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char path[4096];
	size_t added = 0;
	int r = 0, n;

	if (t == NULL || dir == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((d = opendir(dir)) == NULL)
		return CNIE_ERR_IO;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		r = cnie_pa_trust_add_file(t, path);
		if (r == 0)
			added++;
		else if (r == CNIE_ERR_NOMEM || r == CNIE_ERR_TOO_LONG)
			break;
		r = 0; /* not a certificate file: skipped */
	}
	closedir(d);
	if (r == 0 && added == 0)
		r = CNIE_ERR_NOT_FOUND;
	return r;
}

/* Parses DER ContentInfo spanning p[0..n) exactly. */
static int
parse_cms(const uint8_t *p, size_t n, CMS_ContentInfo **out)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms;

	*out = NULL;
	if (n == 0 || n > PA_FILE_MAX)
		return CNIE_ERR_ENCODING;
	if ((cms = d2i_CMS_ContentInfo(NULL, &q, (long)n)) == NULL) {
		ERR_clear_error();
		return CNIE_ERR_ENCODING;
	}
	if (q != p + n) {
		CMS_ContentInfo_free(cms);
		return CNIE_ERR_TRAILING;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		CMS_ContentInfo_free(cms);
		return CNIE_ERR_ENCODING;
	}
	*out = cms;
	return 0;
}

/* The encapsulated content, checked to be of the given type (borrowed). */
static int
econtent(CMS_ContentInfo *cms, const char *oid, const uint8_t **p, size_t *n)
{
	ASN1_OBJECT *want;
	ASN1_OCTET_STRING **os;
	int same;

	if ((want = OBJ_txt2obj(oid, 1)) == NULL)
		return CNIE_ERR_NOMEM;
	same = OBJ_cmp(CMS_get0_eContentType(cms), want) == 0;
	ASN1_OBJECT_free(want);
	if (!same)
		return CNIE_ERR_ENCODING;
	if ((os = CMS_get0_content(cms)) == NULL || *os == NULL ||
	    ASN1_STRING_length(*os) <= 0)
		return CNIE_ERR_ENCODING; /* detached content is not allowed */
	*p = ASN1_STRING_get0_data(*os);
	*n = (size_t)ASN1_STRING_length(*os);
	return 0;
}

int
cnie_pa_trust_add_master_list(cnie_pa_trust *t, const uint8_t *p, size_t n)
{
	CMS_ContentInfo *cms = NULL;
	const uint8_t *c, *start;
	size_t cn;
	cnie_cur cur, set;
	cnie_tlv seq, tl;
	size_t added = 0;
	int r;

	if (t == NULL || (p == NULL && n != 0))
		return CNIE_ERR_INVALID_ARG;
	/* The master list's signature (by a master list signer) is NOT
	 * verified here: see pa.h. */
	if ((r = parse_cms(p, n, &cms)) != 0)
		goto out;
	if ((r = econtent(cms, OID_CSCA_MASTER_LIST, &c, &cn)) != 0)
		goto out;
	/* 9303-12 9.1: CscaMasterList ::= SEQUENCE { version, certList SET OF }. */
	if ((r = cnie_tlv_parse_one(c, cn, &seq)) != 0)
		goto out;
	if (seq.tag != 0x30) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	cnie_cur_init(&cur, seq.value, seq.len);
	if ((r = cnie_tlv_next_der(&cur, &tl)) != 0)
		goto out;
	if (tl.tag != 0x02 || tl.len != 1 || tl.value[0] != 0) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	if ((r = cnie_tlv_next_der(&cur, &tl)) != 0 || (r = cnie_cur_end(&cur)) != 0)
		goto out;
	if (tl.tag != 0x31) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	cnie_cur_init(&set, tl.value, tl.len);
	while (cnie_cur_left(&set) > 0) {
		start = cnie_cur_peek(&set);
		if ((r = cnie_tlv_next_der(&set, &tl)) != 0)
			goto out;
		if (tl.tag != 0x30) {
			r = CNIE_ERR_ENCODING;
			goto out;
		}
		if ((r = cnie_pa_trust_add_der(t, start, tl.hdr_len + tl.len)) != 0)
			goto out;
		added++;
	}
	if (added == 0)
		r = CNIE_ERR_NOT_FOUND;
out:
	CMS_ContentInfo_free(cms);
	return r;
}

/* ---- LDSSecurityObject ------------------------------------------------ */

typedef struct lso {
	const EVP_MD *md;
	int version;
	const uint8_t *hash[CNIE_PA_MAX_DG + 1]; /* borrowed from the CMS content */
} lso;

static int
small_uint(const cnie_tlv *t, int max, int *out)
{
	/* DER INTEGER, non-negative and small: one byte (or 00 xx above 0x7F). */
	if (t->tag != 0x02 || t->len != 1 || t->value[0] > 0x7F || t->value[0] > max)
		return CNIE_ERR_ENCODING;
	*out = t->value[0];
	return 0;
}

/*
 * 9303-10 4.6.2: EF.SOD's SignedData has version 3 (a ContentInfo
 * SEQUENCE { contentType OID, [0] EXPLICIT SignedData SEQUENCE { version
 * INTEGER, ... } }).  OpenSSL accepts every CMS version, so the integer is
 * read here from the DER OpenSSL has already parsed whole.
 */
static int
check_signed_data_version(const uint8_t *p, size_t n, cnie_pa_result *res)
{
	cnie_cur c;
	cnie_tlv t;
	int v, r;

	if ((r = cnie_tlv_parse_one(p, n, &t)) != 0)
		return r;
	cnie_cur_init(&c, t.value, t.len);
	if ((r = cnie_tlv_next_der(&c, &t)) != 0 || t.tag != 0x06 ||
	    (r = cnie_tlv_next_der(&c, &t)) != 0 || t.tag != 0xA0)
		return r != 0 ? r : CNIE_ERR_ENCODING;
	cnie_cur_init(&c, t.value, t.len);
	if ((r = cnie_tlv_next_der(&c, &t)) != 0 || t.tag != 0x30)
		return r != 0 ? r : CNIE_ERR_ENCODING;
	cnie_cur_init(&c, t.value, t.len);
	if ((r = cnie_tlv_next_der(&c, &t)) != 0)
		return r;
	if (small_uint(&t, 127, &v) != 0 || v != 3) {
		res->sod_detail = "SignedData version is not 3 (ICAO 9303-10 4.6.2)";
		cnie_log_info("EF.SOD: %s", res->sod_detail);
		return CNIE_ERR_UNSUPPORTED;
	}
	return 0;
}

/*
 * LDSVersionInfo ::= SEQUENCE { ldsVersion PrintableString (4 digits,
 * e.g. "0108"), unicodeVersion PrintableString (6 digits, e.g. "040000") }
 * (9303-10 4.6.2.2).
 */
static int
check_lds_version_info(const cnie_tlv *seq)
{
	static const size_t want[2] = { 4, 6 };
	cnie_cur c;
	cnie_tlv t;
	size_t i, k;
	int r;

	if (seq->tag != 0x30)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&c, seq->value, seq->len);
	for (i = 0; i < 2; i++) {
		if ((r = cnie_tlv_next_der(&c, &t)) != 0)
			return r;
		if (t.tag != 0x13 || t.len != want[i])
			return CNIE_ERR_ENCODING;
		for (k = 0; k < t.len; k++)
			if (t.value[k] < '0' || t.value[k] > '9')
				return CNIE_ERR_ENCODING;
	}
	return cnie_cur_end(&c);
}

/*
 * 9303-10 4.6.2.2: LDSSecurityObject ::= SEQUENCE { version INTEGER (0|1),
 * hashAlgorithm AlgorithmIdentifier, dataGroupHashValues SEQUENCE SIZE
 * (2..ub-DataGroups) OF DataGroupHash, ldsVersionInfo LDSVersionInfo
 * OPTIONAL (present iff version 1) }.
 */
static int
parse_lso(const uint8_t *p, size_t n, lso *l, cnie_pa_result *res)
{
	cnie_cur c, a, dgs, h;
	cnie_tlv seq, t, oid;
	const cnie_hash_info *hi;
	size_t count = 0, mdlen;
	int r, dg;

	memset(l, 0, sizeof(*l));
	if ((r = cnie_tlv_parse_one(p, n, &seq)) != 0)
		return r;
	if (seq.tag != 0x30 || (r = cnie_tlv_validate(p, n, 4)) != 0)
		return r != 0 ? r : CNIE_ERR_ENCODING;
	cnie_cur_init(&c, seq.value, seq.len);
	if ((r = cnie_tlv_next_der(&c, &t)) != 0)
		return r;
	if (small_uint(&t, 1, &l->version) != 0) {
		res->sod_detail = "LDSSecurityObject version is not 0 or 1 (ICAO 9303-10 4.6.2.2)";
		cnie_log_info("EF.SOD: %s", res->sod_detail);
		return CNIE_ERR_UNSUPPORTED;
	}
	/* AlgorithmIdentifier: OID, parameters absent or NULL. */
	if ((r = cnie_tlv_next_der(&c, &t)) != 0)
		return r;
	if (t.tag != 0x30)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&a, t.value, t.len);
	if ((r = cnie_tlv_next_der(&a, &oid)) != 0)
		return r;
	if (oid.tag != 0x06)
		return CNIE_ERR_ENCODING;
	if (cnie_cur_left(&a) > 0) {
		if ((r = cnie_tlv_next_der(&a, &t)) != 0)
			return r;
		if (t.tag != 0x05 || t.len != 0 || (r = cnie_cur_end(&a)) != 0)
			return r != 0 ? r : CNIE_ERR_ENCODING;
	}
	/* SHA-1 and SHA-2 (9303-10 4.6.2.2, 9303-12): the entries of cnie/hash.h. */
	if ((hi = cnie_hash_by_oid(oid.value, oid.len)) == NULL) {
		char txt[80] = "?";
		const unsigned char *q = oid.value - oid.hdr_len;
		ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &q, (long)(oid.hdr_len + oid.len));

		if (o != NULL)
			(void)OBJ_obj2txt(txt, sizeof(txt), o, 1);
		ASN1_OBJECT_free(o);
		ERR_clear_error();
		res->sod_detail = "hash algorithm not supported: SHA-1, SHA-224, SHA-256, SHA-384 "
				  "or SHA-512 (ICAO 9303-10 4.6.2.2)";
		cnie_log_info("EF.SOD: hash algorithm %s refused: not SHA-1 or SHA-2", txt);
		return CNIE_ERR_UNSUPPORTED;
	}
	l->md = cnie_hash_md(hi->id);
	snprintf(res->hash_alg, sizeof(res->hash_alg), "%s", hi->ossl_name);
	mdlen = hi->len;
	/* DataGroupHash ::= SEQUENCE { dataGroupNumber, dataGroupHashValue }. */
	if ((r = cnie_tlv_next_der(&c, &t)) != 0)
		return r;
	if (t.tag != 0x30)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&dgs, t.value, t.len);
	while (cnie_cur_left(&dgs) > 0) {
		if ((r = cnie_tlv_next_der(&dgs, &t)) != 0)
			return r;
		if (t.tag != 0x30)
			return CNIE_ERR_ENCODING;
		cnie_cur_init(&h, t.value, t.len);
		if ((r = cnie_tlv_next_der(&h, &t)) != 0 ||
		    (r = small_uint(&t, CNIE_PA_MAX_DG, &dg)) != 0)
			return r;
		if (dg < 1 || l->hash[dg] != NULL)
			return CNIE_ERR_ENCODING; /* DG 0 or listed twice */
		if ((r = cnie_tlv_next_der(&h, &t)) != 0 || (r = cnie_cur_end(&h)) != 0)
			return r;
		if (t.tag != 0x04 || t.len != mdlen)
			return CNIE_ERR_ENCODING;
		l->hash[dg] = t.value;
		count++;
	}
	/* dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups): DG1 and DG2 at least. */
	if (count < 2)
		return CNIE_ERR_ENCODING;
	if (l->version == 1) {
		if ((r = cnie_tlv_next_der(&c, &t)) != 0 || (r = check_lds_version_info(&t)) != 0)
			return r;
	}
	return cnie_cur_end(&c);
}

/* ---- verification ----------------------------------------------------- */

static void
step(cnie_pa_result *res, cnie_pa_step s, cnie_pa_status *st, int *err, int e)
{
	*st = e == 0 ? CNIE_PA_PASS : CNIE_PA_FAIL;
	*err = e;
	if (e != 0 && res->verdict == 0) {
		res->verdict = e;
		res->first_failure = s;
	}
}

/* Step 2: each supplied DG's hash against EF.SOD (constant-time compare). */
static int
check_dgs(const lso *l, const cnie_pa_dg *dgs, size_t ndgs, cnie_pa_result *res)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t i;
	int dg, e = 0;

	for (dg = 1; dg <= CNIE_PA_MAX_DG; dg++)
		if (l->hash[dg] != NULL)
			res->dg[dg] = CNIE_PA_DG_NOT_SUPPLIED;
	for (i = 0; i < ndgs; i++) {
		dg = dgs[i].number;
		if (l->hash[dg] == NULL) {
			res->dg[dg] = CNIE_PA_DG_NOT_IN_SOD;
			if (e == 0)
				e = CNIE_ERR_NOT_FOUND;
			continue;
		}
		if (EVP_Digest(dgs[i].data, dgs[i].len, md, &mdlen, l->md, NULL) != 1)
			return CNIE_ERR_CRYPTO;
		if (cnie_memeq_ct(md, l->hash[dg], mdlen) == 0) {
			res->dg[dg] = CNIE_PA_DG_MATCH;
		} else {
			res->dg[dg] = CNIE_PA_DG_MISMATCH;
			if (e == 0 || e == CNIE_ERR_NOT_FOUND)
				e = CNIE_ERR_VERIFY_FAILED;
		}
	}
	return e;
}

/* The DS certificate: the one among EF.SOD's certificates naming the signer. */
static int
find_ds(CMS_ContentInfo *cms, X509 **ds)
{
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	CMS_SignerInfo *si;
	int i, r = CNIE_ERR_ENCODING;

	*ds = NULL;
	/* 9303-10 4.6.2.1: one signer, whose certificate is included. */
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL || sk_CMS_SignerInfo_num(sis) != 1)
		return CNIE_ERR_ENCODING;
	si = sk_CMS_SignerInfo_value(sis, 0);
	if ((certs = CMS_get1_certs(cms)) == NULL)
		return CNIE_ERR_ENCODING;
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (CMS_SignerInfo_cert_cmp(si, x) == 0) {
			if (X509_up_ref(x) != 1) {
				r = CNIE_ERR_NOMEM;
				break;
			}
			*ds = x;
			r = 0;
			break;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* Step 3: the CMS signature (and signed attributes) with the embedded DS. */
static int
check_signature(CMS_ContentInfo *cms)
{
	BIO *sink;
	int ok;

	if ((sink = BIO_new(BIO_s_null())) == NULL)
		return CNIE_ERR_NOMEM;
	/* The DS chain is checked separately (step 4) so that the result can
	 * tell a bad signature from an untrusted signer. */
	ok = CMS_verify(cms, NULL, NULL, NULL, sink, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY);
	BIO_free(sink);
	ERR_clear_error();
	return ok == 1 ? 0 : CNIE_ERR_VERIFY_FAILED;
}

/* -1 before notBefore, 1 after notAfter, 0 inside, 2 on a malformed time. */
static int
validity(X509 *x, time_t at)
{
	int a, b;

	a = X509_cmp_time(X509_get0_notBefore(x), &at);
	b = X509_cmp_time(X509_get0_notAfter(x), &at);
	if (a == 0 || b == 0)
		return 2;
	if (a > 0)
		return -1;
	if (b < 0)
		return 1;
	return 0;
}

/* Step 4: a path from the DS to a CSCA of the store; CSCA validity at `at`. */
static int
check_chain(X509 *ds, const cnie_pa_trust *trust, time_t at)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *chain;
	int i, r = CNIE_ERR_NOMEM;

	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(trust->certs); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(trust->certs, i)) != 1)
			goto out;
	if (X509_STORE_CTX_init(ctx, store, ds, NULL) != 1)
		goto out;
	/* Times are judged below, per certificate, so that an expired DS is
	 * told apart from an untrusted one.  Every store entry is a CSCA
	 * (or link certificate from a master list), hence PARTIAL_CHAIN. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		r = CNIE_ERR_UNTRUSTED;
		goto out;
	}
	r = 0;
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (i = 1; i < sk_X509_num(chain); i++)
		if (validity(sk_X509_value(chain, i), at) != 0)
			r = CNIE_ERR_EXPIRED;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int
cnie_pa_verify(const uint8_t *sod, size_t sod_len, const cnie_pa_dg *dgs, size_t ndgs,
    const cnie_pa_trust *trust, time_t at, cnie_pa_result *res)
{
	CMS_ContentInfo *cms = NULL;
	X509 *ds = NULL;
	cnie_tlv w;
	const uint8_t *c = NULL;
	size_t cn = 0, i;
	lso l;
	bool seen[CNIE_PA_MAX_DG + 1] = { false };
	int r, v;

	if (res == NULL)
		return CNIE_ERR_INVALID_ARG;
	memset(res, 0, sizeof(*res));
	if ((sod == NULL && sod_len != 0) || (dgs == NULL && ndgs != 0) || trust == NULL)
		return CNIE_ERR_INVALID_ARG;
	for (i = 0; i < ndgs; i++) {
		if (dgs[i].number < 1 || dgs[i].number > CNIE_PA_MAX_DG ||
		    seen[dgs[i].number] || (dgs[i].data == NULL && dgs[i].len != 0))
			return CNIE_ERR_INVALID_ARG;
		seen[dgs[i].number] = true;
	}
	if (at == 0)
		at = time(NULL);
	memset(&l, 0, sizeof(l));
	memset(&w, 0, sizeof(w));

	/* Step 1: 77 { ContentInfo } (9303-10 4.6.2), LDSSecurityObject. */
	if (sod_len > PA_SOD_MAX)
		r = CNIE_ERR_TOO_LONG;
	else if ((r = cnie_tlv_parse_one(sod, sod_len, &w)) == 0 && w.tag != 0x77)
		r = CNIE_ERR_ENCODING;
	if (r == 0)
		r = parse_cms(w.value, w.len, &cms);
	if (r == 0)
		r = check_signed_data_version(w.value, w.len, res);
	if (r == 0)
		r = econtent(cms, OID_LDS_SECURITY_OBJECT, &c, &cn);
	if (r == 0)
		r = parse_lso(c, cn, &l, res);
	if (r == 0)
		r = find_ds(cms, &ds);
	if (r == CNIE_ERR_NOMEM)
		goto out;
	step(res, CNIE_PA_STEP_SOD_PARSE, &res->sod_parse, &res->sod_parse_err, r);
	if (r != 0)
		goto out;
	res->lds_version = l.version;

	/* Step 2. */
	if ((r = check_dgs(&l, dgs, ndgs, res)) == CNIE_ERR_CRYPTO)
		goto out;
	step(res, CNIE_PA_STEP_DG_HASHES, &res->dg_hashes, &res->dg_hashes_err, r);
	/* Step 3. */
	if ((r = check_signature(cms)) == CNIE_ERR_NOMEM)
		goto out;
	step(res, CNIE_PA_STEP_SIGNATURE, &res->signature, &res->signature_err, r);
	/* Step 4. */
	if ((r = check_chain(ds, trust, at)) == CNIE_ERR_NOMEM)
		goto out;
	step(res, CNIE_PA_STEP_DS_CHAIN, &res->ds_chain, &res->ds_chain_err, r);
	/* Step 5. */
	v = validity(ds, at);
	res->ds_not_yet_valid = v == -1;
	step(res, CNIE_PA_STEP_DS_VALIDITY, &res->ds_validity, &res->ds_validity_err,
	    v == 0 ? 0 : CNIE_ERR_EXPIRED);
	r = 0;
out:
	X509_free(ds);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	if (r == CNIE_ERR_NOMEM || r == CNIE_ERR_CRYPTO) {
		memset(res, 0, sizeof(*res));
		res->verdict = r;
		return r;
	}
	return res->verdict;
}

const char *
cnie_pa_describe(const cnie_pa_result *res, char *buf, size_t len)
{
	int dg;

	if (buf == NULL || len == 0)
		return "";
	if (res == NULL) {
		snprintf(buf, len, "no result");
		return buf;
	}
	switch (res->first_failure) {
	case CNIE_PA_STEP_NONE:
		if (res->verdict == 0)
			snprintf(buf, len, "passive authentication passed");
		else
			snprintf(buf, len, "passive authentication not completed: %s",
			    cnie_strerror(res->verdict));
		break;
	case CNIE_PA_STEP_SOD_PARSE:
		if (res->sod_detail != NULL)
			snprintf(buf, len, "EF.SOD refused: %s", res->sod_detail);
		else
			snprintf(buf, len, "EF.SOD malformed: %s",
			    cnie_strerror(res->sod_parse_err));
		break;
	case CNIE_PA_STEP_DG_HASHES:
		for (dg = 1; dg <= CNIE_PA_MAX_DG; dg++)
			if (res->dg[dg] == CNIE_PA_DG_MISMATCH)
				break;
		if (dg <= CNIE_PA_MAX_DG) {
			snprintf(buf, len, "DG%d hash mismatch", dg);
			break;
		}
		for (dg = 1; dg <= CNIE_PA_MAX_DG; dg++)
			if (res->dg[dg] == CNIE_PA_DG_NOT_IN_SOD)
				break;
		snprintf(buf, len, "DG%d not listed in EF.SOD", dg);
		break;
	case CNIE_PA_STEP_SIGNATURE:
		snprintf(buf, len, "EF.SOD signature invalid");
		break;
	case CNIE_PA_STEP_DS_CHAIN:
		snprintf(buf, len, res->ds_chain_err == CNIE_ERR_EXPIRED ?
		    "CSCA certificate expired" : "untrusted CSCA");
		break;
	case CNIE_PA_STEP_DS_VALIDITY:
		snprintf(buf, len, res->ds_not_yet_valid ? "DS certificate not yet valid" :
		    "DS certificate expired");
		break;
	}
	return buf;
}
