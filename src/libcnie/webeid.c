/*
 * Web eID authentication token verifier (include/cnie/webeid.h).
 *
 * The token is attacker-controlled: its size, JSON depth, every string
 * length and every decoded length are capped before use, base64 is decoded
 * strictly (canonical, padded, no whitespace), the certificate DER must be
 * consumed exactly, and every OpenSSL object is freed on the single exit.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/base64.h>
#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/json.h>
#include <cnie/webeid.h>

#define CERT_DER_MAX (16 * 1024)   /* an authentication certificate, generously */
#define SIG_MAX 1024		   /* 8192-bit RSA */
#define JSON_DEPTH_MAX 8	   /* the token is flat; web-eid:1.1 adds one array of objects */
#define TRUST_FILE_MAX (4 * 1024 * 1024)
#define STORE_CAPACITY_MAX 100000u
#define RSA_BITS_MIN 2048

/* ---- reasons ------------------------------------------------------------- */

static const struct {
	const char *code;
	const char *text;
} reasons[] = {
	[CNIE_WEBEID_OK] = { "ok", "token valid" },
	[CNIE_WEBEID_BAD_ARGUMENT] = { "bad-argument", "bad verification parameters (expected origin, nonce, stores)" },
	[CNIE_WEBEID_INTERNAL] = { "internal", "internal error (allocation or crypto library)" },
	[CNIE_WEBEID_FORMAT] = { "format", "not a well-formed web-eid:1 authentication token" },
	[CNIE_WEBEID_SIGNATURE_MISMATCH] = { "origin-or-signature-mismatch",
	    "signature does not verify over this origin and nonce (wrong origin or tampered token)" },
	[CNIE_WEBEID_NONCE_UNKNOWN] = { "nonce-unknown", "challenge nonce not issued by this portal" },
	[CNIE_WEBEID_NONCE_REPLAYED] = { "nonce-replayed", "challenge nonce already used" },
	[CNIE_WEBEID_NONCE_EXPIRED] = { "nonce-expired", "challenge nonce too old" },
	[CNIE_WEBEID_SIGNATURE_INVALID] = { "signature-invalid", "signature malformed for the algorithm and key" },
	[CNIE_WEBEID_CERT_INVALID] = { "certificate-invalid", "authentication certificate does not parse" },
	[CNIE_WEBEID_CERT_UNTRUSTED] = { "certificate-untrusted", "authentication certificate does not chain to a trusted CA" },
	[CNIE_WEBEID_CERT_EXPIRED] = { "certificate-expired", "authentication certificate (or its CA) expired" },
	[CNIE_WEBEID_CERT_NOT_YET_VALID] = { "certificate-not-yet-valid", "authentication certificate (or its CA) not yet valid" },
	[CNIE_WEBEID_KEY_USAGE] = { "key-usage", "not an authentication certificate (key usage)" },
	[CNIE_WEBEID_ALGORITHM] = { "algorithm", "algorithm unknown or not matching the certificate key" },
};

const char *
cnie_webeid_reason_code(int reason)
{
	if (reason < 0 || (size_t)reason >= sizeof(reasons) / sizeof(reasons[0]))
		return "unknown";
	return reasons[reason].code;
}

const char *
cnie_webeid_reason_text(int reason)
{
	if (reason < 0 || (size_t)reason >= sizeof(reasons) / sizeof(reasons[0]))
		return "unknown reason";
	return reasons[reason].text;
}

static bool
is_b64(const char *s, size_t n)
{
	uint8_t tmp[CNIE_WEBEID_NONCE_MAX];
	size_t len;

	return n <= sizeof(tmp) && cnie_base64_decode(s, n, tmp, sizeof(tmp), &len) == 0;
}

/* ---- nonce store --------------------------------------------------------- */

struct nonce_entry {
	char nonce[CNIE_WEBEID_NONCE_MAX + 1];
	time_t issued;
	bool used;
};

struct cnie_webeid_nonce_store {
	struct nonce_entry *e;
	size_t alloc;	 /* entries allocated */
	size_t n;	 /* entries in use */
	size_t capacity; /* most entries remembered */
	size_t next;	 /* once full: the oldest entry, overwritten next */
	unsigned max_age;
};

int
cnie_webeid_nonce_store_new(size_t capacity, unsigned max_age, cnie_webeid_nonce_store **out)
{
	cnie_webeid_nonce_store *s;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (capacity == 0 || capacity > STORE_CAPACITY_MAX || max_age == 0 || max_age > 86400)
		return CNIE_ERR_INVALID_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CNIE_ERR_NOMEM;
	s->capacity = capacity;
	s->max_age = max_age;
	*out = s;
	return 0;
}

void
cnie_webeid_nonce_store_free(cnie_webeid_nonce_store **s)
{
	if (s == NULL || *s == NULL)
		return;
	free((*s)->e);
	free(*s);
	*s = NULL;
}

static struct nonce_entry *
store_find(cnie_webeid_nonce_store *s, const char *nonce, size_t len)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->e[i].nonce) == len && memcmp(s->e[i].nonce, nonce, len) == 0)
			return &s->e[i];
	return NULL;
}

static int
store_put(cnie_webeid_nonce_store *s, const char *nonce, size_t len, time_t issued)
{
	struct nonce_entry *e;

	if (s->n < s->capacity) {
		if (s->n == s->alloc) {
			size_t na = s->alloc == 0 ? 16 : s->alloc * 2;
			struct nonce_entry *ne;

			if (na > s->capacity)
				na = s->capacity;
			if ((ne = realloc(s->e, na * sizeof(*ne))) == NULL)
				return CNIE_ERR_NOMEM;
			s->e = ne;
			s->alloc = na;
		}
		e = &s->e[s->n++];
	} else {
		/* Full: forget the oldest (entries are in issue order, a ring). */
		e = &s->e[s->next];
		s->next = (s->next + 1) % s->capacity;
	}
	memcpy(e->nonce, nonce, len);
	e->nonce[len] = '\0';
	e->issued = issued;
	e->used = false;
	return 0;
}

int
cnie_webeid_nonce_issue(cnie_webeid_nonce_store *s, time_t now, char *out, size_t outlen)
{
	uint8_t rnd[32];
	char b64[CNIE_WEBEID_NONCE_LEN + 1];
	int r;

	if (s == NULL || out == NULL || outlen <= CNIE_WEBEID_NONCE_LEN)
		return CNIE_ERR_INVALID_ARG;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return CNIE_ERR_CRYPTO;
	if (EVP_EncodeBlock((unsigned char *)b64, rnd, sizeof(rnd)) != CNIE_WEBEID_NONCE_LEN)
		return CNIE_ERR_INTERNAL;
	if ((r = store_put(s, b64, CNIE_WEBEID_NONCE_LEN, now != 0 ? now : time(NULL))) != 0)
		return r;
	memcpy(out, b64, CNIE_WEBEID_NONCE_LEN + 1);
	return 0;
}

static bool
nonce_ok(const char *nonce, size_t *lenp)
{
	size_t n;

	if (nonce == NULL)
		return false;
	n = strnlen(nonce, CNIE_WEBEID_NONCE_MAX + 1);
	/* ≥ 44 base64 characters: ≥ 32 bytes of challenge (Web eID's floor). */
	if (n < CNIE_WEBEID_NONCE_LEN || n > CNIE_WEBEID_NONCE_MAX || !is_b64(nonce, n))
		return false;
	*lenp = n;
	return true;
}

int
cnie_webeid_nonce_add(cnie_webeid_nonce_store *s, const char *nonce, time_t issued_at)
{
	size_t n;

	if (s == NULL || !nonce_ok(nonce, &n))
		return CNIE_ERR_INVALID_ARG;
	if (store_find(s, nonce, n) != NULL)
		return CNIE_ERR_STATE;
	return store_put(s, nonce, n, issued_at);
}

/* ---- trust store --------------------------------------------------------- */

struct cnie_webeid_trust {
	X509_STORE *store;
	size_t count;
};

int
cnie_webeid_trust_new(cnie_webeid_trust **out)
{
	cnie_webeid_trust *t;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((t->store = X509_STORE_new()) == NULL) {
		free(t);
		return CNIE_ERR_NOMEM;
	}
	*out = t;
	return 0;
}

void
cnie_webeid_trust_free(cnie_webeid_trust **t)
{
	if (t == NULL || *t == NULL)
		return;
	X509_STORE_free((*t)->store);
	free(*t);
	*t = NULL;
}

size_t
cnie_webeid_trust_count(const cnie_webeid_trust *t)
{
	return t == NULL ? 0 : t->count;
}

static int
trust_add_x509(cnie_webeid_trust *t, X509 *x)
{
	if (X509_STORE_add_cert(t->store, x) != 1) {
		ERR_clear_error();
		return CNIE_ERR_CRYPTO;
	}
	t->count++;
	return 0;
}

int
cnie_webeid_trust_add_mem(cnie_webeid_trust *t, const uint8_t *p, size_t n)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	size_t added = 0;
	int r = 0;

	if (t == NULL || p == NULL || n == 0 || n > TRUST_FILE_MAX)
		return CNIE_ERR_INVALID_ARG;
	if ((bio = BIO_new_mem_buf(p, (int)n)) == NULL)
		return CNIE_ERR_NOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if ((r = trust_add_x509(t, x)) != 0)
			goto out;
		X509_free(x);
		x = NULL;
		added++;
	}
	ERR_clear_error();
	if (added == 0) {
		const unsigned char *q = p;

		if ((x = d2i_X509(NULL, &q, (long)n)) == NULL || q != p + n) {
			r = CNIE_ERR_NOT_FOUND;
			goto out;
		}
		if ((r = trust_add_x509(t, x)) != 0)
			goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	return r;
}

static int
read_file(const char *path, uint8_t **out, size_t *outlen)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t n;
	int r = CNIE_ERR_IO;

	if ((f = fopen(path, "rb")) == NULL)
		return CNIE_ERR_IO;
	if ((buf = malloc(TRUST_FILE_MAX + 1)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	n = fread(buf, 1, TRUST_FILE_MAX + 1, f);
	if (ferror(f))
		goto out;
	if (n > TRUST_FILE_MAX) {
		r = CNIE_ERR_TOO_LONG;
		goto out;
	}
	*out = buf;
	*outlen = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

static int
trust_add_file(cnie_webeid_trust *t, const char *path)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int r;

	if ((r = read_file(path, &data, &n)) != 0)
		return r;
	r = n == 0 ? CNIE_ERR_NOT_FOUND : cnie_webeid_trust_add_mem(t, data, n);
	free(data);
	return r;
}

int
cnie_webeid_trust_add_path(cnie_webeid_trust *t, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	size_t before;
	int r = 0;

	if (t == NULL || path == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (stat(path, &st) != 0)
		return CNIE_ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return trust_add_file(t, path);
	if ((d = opendir(path)) == NULL)
		return CNIE_ERR_IO;
	before = t->count;
	while ((de = readdir(d)) != NULL) {
		char full[PATH_MAX];
		int w;

		if (de->d_name[0] == '.')
			continue;
		w = snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (w < 0 || (size_t)w >= sizeof(full))
			continue;
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		r = trust_add_file(t, full);
		if (r == CNIE_ERR_NOMEM)
			break;
		r = 0; /* files that are not certificates are skipped */
	}
	closedir(d);
	if (r != 0)
		return r;
	return t->count > before ? 0 : CNIE_ERR_NOT_FOUND;
}

/* ---- verification -------------------------------------------------------- */

enum alg_kind { ALG_ECDSA, ALG_RSA_PKCS1, ALG_RSA_PSS };

/* The JOSE algorithms of web-eid:1 (RFC 7518 3.1). */
static const struct alg {
	const char *name;
	enum alg_kind kind;
	cnie_card_hash hash;
	int curve; /* ECDSA: the curve the JOSE name implies */
} algs[] = {
	{ "ES256", ALG_ECDSA, CNIE_CARD_HASH_SHA256, NID_X9_62_prime256v1 },
	{ "ES384", ALG_ECDSA, CNIE_CARD_HASH_SHA384, NID_secp384r1 },
	{ "ES512", ALG_ECDSA, CNIE_CARD_HASH_SHA512, NID_secp521r1 },
	{ "RS256", ALG_RSA_PKCS1, CNIE_CARD_HASH_SHA256, 0 },
	{ "RS384", ALG_RSA_PKCS1, CNIE_CARD_HASH_SHA384, 0 },
	{ "RS512", ALG_RSA_PKCS1, CNIE_CARD_HASH_SHA512, 0 },
	{ "PS256", ALG_RSA_PSS, CNIE_CARD_HASH_SHA256, 0 },
	{ "PS384", ALG_RSA_PSS, CNIE_CARD_HASH_SHA384, 0 },
	{ "PS512", ALG_RSA_PSS, CNIE_CARD_HASH_SHA512, 0 },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const struct alg *
alg_by_name(const char *name)
{
	for (size_t i = 0; i < NALGS; i++)
		if (strcmp(name, algs[i].name) == 0)
			return &algs[i];
	return NULL;
}

const char *
cnie_webeid_auth_algorithm(bool ec, unsigned bits, cnie_card_hash *hash)
{
	const struct alg *a;

	if (!ec)
		a = alg_by_name("RS256");
	else if (bits > 384)
		a = alg_by_name("ES512");
	else if (bits > 256)
		a = alg_by_name("ES384");
	else
		a = alg_by_name("ES256");
	if (hash != NULL)
		*hash = a->hash;
	return a->name;
}

int
cnie_webeid_signed_data(cnie_card_hash hash, const char *origin, const char *nonce,
    uint8_t *out, size_t cap, size_t *out_len)
{
	const cnie_hash_info *h = cnie_hash_by_id(hash);
	size_t n1 = 0, n2 = 0;
	int r;

	if (h == NULL || origin == NULL || nonce == NULL || out == NULL || out_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (cap < 2 * h->len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	if ((r = cnie_hash_digest(hash, origin, strlen(origin), out, cap, &n1)) != 0 ||
	    (r = cnie_hash_digest(hash, nonce, strlen(nonce), out + n1, cap - n1, &n2)) != 0) {
		OPENSSL_cleanse(out, cap);
		return r;
	}
	*out_len = n1 + n2;
	return 0;
}

/* scheme://host[:port] with no path, query, userinfo or trailing slash. */
static bool
origin_ok(const char *o)
{
	size_t n, i, colon = 0;
	const char *h;

	if (o == NULL || (n = strnlen(o, 300)) >= 300 || strncmp(o, "https://", 8) != 0)
		return false;
	h = o + 8;
	n -= 8;
	if (n == 0)
		return false;
	i = 0;
	if (h[0] == '[') {
		while (i < n && h[i] != ']') {
			if (!(h[i] == '[' || h[i] == ':' || h[i] == '.' ||
			    (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f') ||
			    (h[i] >= 'A' && h[i] <= 'F')))
				return false;
			i++;
		}
		if (i == n)
			return false;
		i++;
	} else {
		while (i < n && h[i] != ':') {
			char c = h[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.'))
				return false;
			i++;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (h[i] != ':')
		return false;
	colon = i++;
	if (n - i < 1 || n - i > 5)
		return false;
	for (; i < n; i++)
		if (h[i] < '0' || h[i] > '9')
			return false;
	return colon > 0;
}

static void
copy_utf8(char *dst, size_t cap, const unsigned char *src, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		/* Cut at a character boundary. */
		while (n > 0 && (src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
name_entry(const X509_NAME *name, int nid, char *dst, size_t cap)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *u = NULL;
	int n;

	dst[0] = '\0';
	if (idx < 0)
		return;
	n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n >= 0 && u != NULL)
		copy_utf8(dst, cap, u, (size_t)n);
	OPENSSL_free(u);
}

static void
fill_info(cnie_webeid_info *info, X509 *cert, const uint8_t *der, size_t der_len)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	unsigned char md[32];
	unsigned int mdlen = 0;
	BIO *bio;
	size_t i;

	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		char *p = NULL;
		long n;

		if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
		    (n = BIO_get_mem_data(bio, &p)) > 0 && p != NULL)
			copy_utf8(info->subject, sizeof(info->subject), (const unsigned char *)p, (size_t)n);
		BIO_free(bio);
	}
	name_entry(name, NID_commonName, info->common_name, sizeof(info->common_name));
	name_entry(name, NID_serialNumber, info->serial_number, sizeof(info->serial_number));
	if (EVP_Digest(der, der_len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32)
		for (i = 0; i < 32; i++)
			snprintf(info->fingerprint + 2 * i, 3, "%02x", md[i]);
	if ((info->certificate = malloc(der_len)) != NULL) {
		memcpy(info->certificate, der, der_len);
		info->certificate_len = der_len;
	}
	ERR_clear_error();
}

void
cnie_webeid_info_clear(cnie_webeid_info *info)
{
	if (info == NULL)
		return;
	free(info->certificate);
	memset(info, 0, sizeof(*info));
}

/* Steps 1: the nonce, consumed whatever comes next. */
static int
consume_nonce(const cnie_webeid_params *p, time_t now)
{
	struct nonce_entry *e;
	size_t n;

	if (!nonce_ok(p->nonce, &n))
		return CNIE_WEBEID_NONCE_UNKNOWN;
	if ((e = store_find(p->nonces, p->nonce, n)) == NULL)
		return CNIE_WEBEID_NONCE_UNKNOWN;
	if (e->used)
		return CNIE_WEBEID_NONCE_REPLAYED;
	e->used = true;
	if (now < e->issued || (unsigned long long)(now - e->issued) > p->nonces->max_age)
		return CNIE_WEBEID_NONCE_EXPIRED;
	return CNIE_WEBEID_OK;
}

static const char *
get_str(json_t *root, const char *key, size_t max, size_t *len)
{
	json_t *v = json_object_get(root, key);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	if (*len == 0 || *len > max || strlen(json_string_value(v)) != *len)
		return NULL;
	return json_string_value(v);
}

static int
chain_check(const cnie_webeid_trust *t, X509 *cert, time_t now)
{
	X509_STORE_CTX *ctx = NULL;
	int r = CNIE_WEBEID_INTERNAL, err;

	if ((ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	if (X509_STORE_CTX_init(ctx, t->store, cert, NULL) != 1)
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), now);
	/* A configured intermediate is a trust anchor of its own. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) == 1) {
		r = CNIE_WEBEID_OK;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	if (err == X509_V_ERR_CERT_HAS_EXPIRED)
		r = CNIE_WEBEID_CERT_EXPIRED;
	else if (err == X509_V_ERR_CERT_NOT_YET_VALID)
		r = CNIE_WEBEID_CERT_NOT_YET_VALID;
	else
		r = CNIE_WEBEID_CERT_UNTRUSTED;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

static int
key_usage_check(X509 *cert)
{
	uint32_t flags = X509_get_extension_flags(cert);

	if ((flags & EXFLAG_INVALID) != 0 || X509_check_ca(cert) != 0)
		return CNIE_WEBEID_KEY_USAGE;
	if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0)
		return CNIE_WEBEID_KEY_USAGE;
	if ((flags & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) & (XKU_SSL_CLIENT | XKU_ANYEKU)) == 0)
		return CNIE_WEBEID_KEY_USAGE;
	return CNIE_WEBEID_OK;
}

static int
ec_curve_nid(EVP_PKEY *pkey)
{
	char group[80];
	size_t len = 0;
	int nid;

	if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1)
		return NID_undef;
	if ((nid = OBJ_sn2nid(group)) == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid;
}

/* Raw r||s (each half the field size) to DER ECDSA-Sig-Value. */
static int
ecdsa_raw_to_der(const uint8_t *sig, size_t n, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *p = NULL;
	int len, r = -1;

	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(sig, (int)(n / 2), NULL)) == NULL ||
	    (bs = BN_bin2bn(sig + n / 2, (int)(n / 2), NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((len = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = p;
	*der_len = (size_t)len;
	p = NULL;
	r = 0;
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	OPENSSL_free(p);
	return r;
}

static int
signature_check(const struct alg *a, EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len,
    const char *origin, const char *nonce)
{
	EVP_MD *md = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t data[CNIE_WEBEID_SIGNED_DATA_MAX];
	size_t data_len = 0;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int r = CNIE_WEBEID_INTERNAL, bits = EVP_PKEY_get_bits(pkey);

	if (a->kind == ALG_ECDSA) {
		size_t field = ((size_t)bits + 7) / 8;

		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC || ec_curve_nid(pkey) != a->curve) {
			r = CNIE_WEBEID_ALGORITHM;
			goto out;
		}
		if (sig_len != 2 * field) {
			r = CNIE_WEBEID_SIGNATURE_INVALID;
			goto out;
		}
		if (ecdsa_raw_to_der(sig, sig_len, &der, &der_len) != 0)
			goto out;
	} else {
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || bits < RSA_BITS_MIN) {
			r = CNIE_WEBEID_ALGORITHM;
			goto out;
		}
		if (sig_len != (size_t)EVP_PKEY_get_size(pkey)) {
			r = CNIE_WEBEID_SIGNATURE_INVALID;
			goto out;
		}
	}
	if ((md = EVP_MD_fetch(NULL, cnie_hash_by_id(a->hash)->ossl_name, NULL)) == NULL)
		goto out;
	/* The signed data, hashed again by the algorithm. */
	if (cnie_webeid_signed_data(a->hash, origin, nonce, data, sizeof(data), &data_len) != 0)
		goto out;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (a->kind == ALG_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		goto out;
	if (EVP_DigestVerify(mctx, der != NULL ? der : sig, der != NULL ? der_len : sig_len,
	    data, data_len) == 1)
		r = CNIE_WEBEID_OK;
	else
		r = CNIE_WEBEID_SIGNATURE_MISMATCH;
out:
	OPENSSL_cleanse(data, sizeof(data));
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	EVP_MD_free(md);
	ERR_clear_error();
	return r;
}

int
cnie_webeid_verify(const char *token, size_t len, const cnie_webeid_params *p,
    cnie_webeid_info *info)
{
	json_t *root = NULL;
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *cert_der = NULL, sig[SIG_MAX];
	size_t cert_der_len = 0, sig_len = 0, n;
	const char *s;
	const struct alg *a = NULL;
	const unsigned char *q;
	time_t now;
	int r;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (p == NULL || p->nonces == NULL || p->trust == NULL || !origin_ok(p->origin))
		return CNIE_WEBEID_BAD_ARGUMENT;
	now = p->now != 0 ? p->now : time(NULL);

	/* 1. The nonce first: single use even when the rest is garbage. */
	if ((r = consume_nonce(p, now)) != CNIE_WEBEID_OK)
		goto out;

	/* 2. Format. */
	r = CNIE_WEBEID_FORMAT;
	if (token == NULL || len == 0 ||
	    cnie_json_parse_object(token, len, CNIE_WEBEID_TOKEN_MAX, JSON_DEPTH_MAX, &root) != 0)
		goto out;
	if ((s = get_str(root, "format", 32, &n)) == NULL ||
	    !(strcmp(s, "web-eid:1") == 0 || strncmp(s, "web-eid:1.", 10) == 0))
		goto out;
	if (json_object_get(root, "appVersion") != NULL &&
	    get_str(root, "appVersion", 1024, &n) == NULL)
		goto out;
	if ((s = get_str(root, "algorithm", 16, &n)) == NULL)
		goto out;
	a = alg_by_name(s);
	if ((s = get_str(root, "signature", (SIG_MAX + 2) / 3 * 4, &n)) == NULL ||
	    cnie_base64_decode(s, n, sig, sizeof(sig), &sig_len) != 0)
		goto out;
	if ((s = get_str(root, "unverifiedCertificate", (CERT_DER_MAX + 2) / 3 * 4, &n)) == NULL)
		goto out;
	if ((cert_der = malloc(CERT_DER_MAX)) == NULL) {
		r = CNIE_WEBEID_INTERNAL;
		goto out;
	}
	if (cnie_base64_decode(s, n, cert_der, CERT_DER_MAX, &cert_der_len) != 0)
		goto out;

	/* 3. Certificate: parse (exactly), chain and time, key usage. */
	q = cert_der;
	if ((cert = d2i_X509(NULL, &q, (long)cert_der_len)) == NULL || q != cert_der + cert_der_len) {
		r = CNIE_WEBEID_CERT_INVALID;
		goto out;
	}
	if (info != NULL) {
		fill_info(info, cert, cert_der, cert_der_len);
		if (a != NULL)
			snprintf(info->algorithm, sizeof(info->algorithm), "%s", a->name);
	}
	if ((r = chain_check(p->trust, cert, now)) != CNIE_WEBEID_OK)
		goto out;
	if ((r = key_usage_check(cert)) != CNIE_WEBEID_OK)
		goto out;

	/* 4-5. Algorithm against the key, then the signature. */
	if (a == NULL) {
		r = CNIE_WEBEID_ALGORITHM;
		goto out;
	}
	if ((pkey = X509_get_pubkey(cert)) == NULL) {
		r = CNIE_WEBEID_CERT_INVALID;
		goto out;
	}
	r = signature_check(a, pkey, sig, sig_len, p->origin, p->nonce);
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	free(cert_der);
	json_decref(root);
	ERR_clear_error();
	return r;
}
