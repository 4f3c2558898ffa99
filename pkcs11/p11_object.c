/*
 * Token objects.  For each private key of the card: the private key, its
 * public key and its certificate, all with the key's CKA_ID (the PKCS#15
 * iD, the certificate's SKI) and CKA_LABEL, which is how NSS and OpenSSH
 * pair them.  Public key values come from the certificate (the card has no
 * public key files).  Every other CDF certificate (the issuing CA's: no
 * private key has its iD) is a certificate object alone, with its own iD
 * and label, CKA_CERTIFICATE_CATEGORY 2 (authority) when the CDF marks it
 * so, else 0, and CKA_TRUSTED false (the token vouches for nothing).  Attribute values are built once per token, on first
 * need, so listing objects costs the certificate reads only.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "p11_int.h"

static int
attr_add(p11_object *o, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	p11_attr *a;

	if (o->nattrs >= P11_MAX_ATTRS)
		return CNIE_ERR_INTERNAL;
	a = &o->attrs[o->nattrs];
	a->type = type;
	a->len = len;
	/* One byte more so that empty values still have a buffer. */
	if ((a->value = malloc(len + 1)) == NULL)
		return CNIE_ERR_NOMEM;
	if (len > 0)
		memcpy(a->value, v, len);
	o->nattrs++;
	return 0;
}

static int
attr_bool(p11_object *o, CK_ATTRIBUTE_TYPE type, bool v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return attr_add(o, type, &b, sizeof(b));
}

static int
attr_ulong(p11_object *o, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return attr_add(o, type, &v, sizeof(v));
}

/* i2d into a fresh buffer, then into the object. */
static int
attr_bn(p11_object *o, CK_ATTRIBUTE_TYPE type, const BIGNUM *bn)
{
	uint8_t buf[1024];
	int n = BN_num_bytes(bn);

	if (n <= 0 || (size_t)n > sizeof(buf))
		return CNIE_ERR_BAD_RESPONSE;
	BN_bn2bin(bn, buf);
	return attr_add(o, type, buf, (size_t)n);
}

/* The parts of the certificate every object of a key carries. */
typedef struct key_material {
	const uint8_t *cert;
	size_t cert_len;
	X509 *x;
	uint8_t *subject, *issuer, *serial, *spki;
	int subject_len, issuer_len, serial_len, spki_len;
	BIGNUM *n, *e;
	uint8_t *ec_params;
	int ec_params_len;
	uint8_t ec_point[160];
	size_t ec_point_len;
} key_material;

static void
material_free(key_material *m)
{
	X509_free(m->x);
	OPENSSL_free(m->subject);
	OPENSSL_free(m->issuer);
	OPENSSL_free(m->serial);
	OPENSSL_free(m->spki);
	OPENSSL_free(m->ec_params);
	BN_free(m->n);
	BN_free(m->e);
	memset(m, 0, sizeof(*m));
}

/* k NULL: a certificate without a key (names and SPKI only). */
static int
material_load(key_material *m, const cnie_card_key_info *k)
{
	const unsigned char *p = m->cert;
	X509_PUBKEY *xpk;
	EVP_PKEY *pk;
	const unsigned char *pt;
	int ptlen, ptype;
	const void *pval;
	X509_ALGOR *alg;

	if ((m->x = d2i_X509(NULL, &p, (long)m->cert_len)) == NULL ||
	    p != m->cert + m->cert_len)
		return CNIE_ERR_ENCODING;
	if ((m->subject_len = i2d_X509_NAME(X509_get_subject_name(m->x), &m->subject)) <= 0 ||
	    (m->issuer_len = i2d_X509_NAME(X509_get_issuer_name(m->x), &m->issuer)) <= 0 ||
	    (m->serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(m->x), &m->serial)) <= 0)
		return CNIE_ERR_ENCODING;
	xpk = X509_get_X509_PUBKEY(m->x);
	if ((m->spki_len = i2d_X509_PUBKEY(xpk, &m->spki)) <= 0)
		return CNIE_ERR_ENCODING;
	if (k == NULL)
		return 0;
	if ((pk = X509_get0_pubkey(m->x)) == NULL)
		return CNIE_ERR_ENCODING;
	if (k->type == CNIE_CARD_KEY_RSA) {
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
		    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &m->n) ||
		    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &m->e))
			return CNIE_ERR_ENCODING;
		return 0;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !X509_PUBKEY_get0_param(NULL, &pt, &ptlen, &alg, xpk))
		return CNIE_ERR_ENCODING;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT || pval == NULL)
		return CNIE_ERR_ENCODING; /* explicit curves: not on this card */
	if ((m->ec_params_len = i2d_ASN1_OBJECT(pval, &m->ec_params)) <= 0)
		return CNIE_ERR_ENCODING;
	/* CKA_EC_POINT: DER OCTET STRING around the X9.62 point. */
	if (ptlen <= 0 || (size_t)ptlen > sizeof(m->ec_point) - 3)
		return CNIE_ERR_ENCODING;
	m->ec_point[0] = 0x04;
	if (ptlen < 0x80) {
		m->ec_point[1] = (uint8_t)ptlen;
		m->ec_point_len = 2;
	} else {
		m->ec_point[1] = 0x81;
		m->ec_point[2] = (uint8_t)ptlen;
		m->ec_point_len = 3;
	}
	memcpy(m->ec_point + m->ec_point_len, pt, (size_t)ptlen);
	m->ec_point_len += (size_t)ptlen;
	return 0;
}

static int
common_attrs(p11_object *o, CK_OBJECT_CLASS cls, const char *label, const uint8_t *id,
    size_t id_len, bool priv)
{
	int r;

	if ((r = attr_ulong(o, CKA_CLASS, cls)) != 0 ||
	    (r = attr_bool(o, CKA_TOKEN, true)) != 0 ||
	    (r = attr_bool(o, CKA_PRIVATE, priv)) != 0 ||
	    (r = attr_bool(o, CKA_MODIFIABLE, false)) != 0 ||
	    (r = attr_bool(o, CKA_COPYABLE, false)) != 0 ||
	    (r = attr_bool(o, CKA_DESTROYABLE, false)) != 0 ||
	    (r = attr_add(o, CKA_LABEL, label, strlen(label))) != 0 ||
	    (r = attr_add(o, CKA_ID, id, id_len)) != 0)
		return r;
	return 0;
}

static int
key_attrs(p11_object *o, const cnie_card_key_info *k, const key_material *m)
{
	CK_MECHANISM_TYPE mechs[32];
	CK_ULONG n = 32;
	bool rsa = k->type == CNIE_CARD_KEY_RSA;
	int r;

	if ((r = attr_ulong(o, CKA_KEY_TYPE, k->type == CNIE_CARD_KEY_RSA ? CKK_RSA : CKK_EC)) != 0 ||
	    (r = attr_add(o, CKA_START_DATE, "", 0)) != 0 ||
	    (r = attr_add(o, CKA_END_DATE, "", 0)) != 0 ||
	    (r = attr_bool(o, CKA_DERIVE, false)) != 0 ||
	    (r = attr_bool(o, CKA_LOCAL, false)) != 0 ||
	    (r = attr_ulong(o, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION)) != 0)
		return r;
	if (p11_mech_list(rsa, !rsa, mechs, &n) != CKR_OK)
		return CNIE_ERR_INTERNAL;
	if ((r = attr_add(o, CKA_ALLOWED_MECHANISMS, mechs, n * sizeof(mechs[0]))) != 0)
		return r;
	if (m->x == NULL)
		return 0;
	if ((r = attr_add(o, CKA_SUBJECT, m->subject, (size_t)m->subject_len)) != 0 ||
	    (r = attr_add(o, CKA_PUBLIC_KEY_INFO, m->spki, (size_t)m->spki_len)) != 0)
		return r;
	if (k->type == CNIE_CARD_KEY_RSA) {
		if ((r = attr_bn(o, CKA_MODULUS, m->n)) != 0 ||
		    (r = attr_bn(o, CKA_PUBLIC_EXPONENT, m->e)) != 0)
			return r;
		if (o->cls == CKO_PUBLIC_KEY)
			r = attr_ulong(o, CKA_MODULUS_BITS, (CK_ULONG)BN_num_bits(m->n));
		return r;
	}
	if ((r = attr_add(o, CKA_EC_PARAMS, m->ec_params, (size_t)m->ec_params_len)) != 0)
		return r;
	/* CKA_EC_POINT on the private key too: OpenSSH and p11-kit look there. */
	return attr_add(o, CKA_EC_POINT, m->ec_point, m->ec_point_len);
}

static int
build_private(p11_object *o, const cnie_card_key_info *k, const key_material *m)
{
	int r;

	o->cls = CKO_PRIVATE_KEY;
	o->private_ = true;
	if ((r = common_attrs(o, CKO_PRIVATE_KEY, k->label, k->id, k->id_len, true)) != 0 ||
	    (r = key_attrs(o, k, m)) != 0 ||
	    (r = attr_bool(o, CKA_SENSITIVE, true)) != 0 ||
	    (r = attr_bool(o, CKA_ALWAYS_SENSITIVE, true)) != 0 ||
	    (r = attr_bool(o, CKA_EXTRACTABLE, false)) != 0 ||
	    (r = attr_bool(o, CKA_NEVER_EXTRACTABLE, true)) != 0 ||
	    (r = attr_bool(o, CKA_DECRYPT, false)) != 0 ||
	    (r = attr_bool(o, CKA_SIGN, true)) != 0 ||
	    (r = attr_bool(o, CKA_SIGN_RECOVER, false)) != 0 ||
	    (r = attr_bool(o, CKA_UNWRAP, false)) != 0 ||
	    (r = attr_bool(o, CKA_WRAP_WITH_TRUSTED, false)) != 0 ||
	    (r = attr_bool(o, CKA_ALWAYS_AUTHENTICATE, k->always_pin)) != 0)
		return r;
	return 0;
}

static int
build_public(p11_object *o, const cnie_card_key_info *k, const key_material *m)
{
	int r;

	o->cls = CKO_PUBLIC_KEY;
	if ((r = common_attrs(o, CKO_PUBLIC_KEY, k->label, k->id, k->id_len, false)) != 0 ||
	    (r = key_attrs(o, k, m)) != 0 ||
	    (r = attr_bool(o, CKA_ENCRYPT, false)) != 0 ||
	    (r = attr_bool(o, CKA_VERIFY, true)) != 0 ||
	    (r = attr_bool(o, CKA_VERIFY_RECOVER, false)) != 0 ||
	    (r = attr_bool(o, CKA_WRAP, false)) != 0 ||
	    (r = attr_bool(o, CKA_TRUSTED, false)) != 0)
		return r;
	return 0;
}

/*
 * category (PKCS#11 2.40 4.6.2): 0 unspecified, 1 token user (a key's
 * certificate), 2 authority (a CA's).
 */
static int
build_certificate(p11_object *o, const char *label, const uint8_t *id, size_t id_len,
    CK_ULONG category, const key_material *m)
{
	int r;

	o->cls = CKO_CERTIFICATE;
	if ((r = common_attrs(o, CKO_CERTIFICATE, label, id, id_len, false)) != 0 ||
	    (r = attr_ulong(o, CKA_CERTIFICATE_TYPE, CKC_X_509)) != 0 ||
	    (r = attr_bool(o, CKA_TRUSTED, false)) != 0 ||
	    (r = attr_ulong(o, CKA_CERTIFICATE_CATEGORY, category)) != 0 ||
	    (r = attr_add(o, CKA_START_DATE, "", 0)) != 0 ||
	    (r = attr_add(o, CKA_END_DATE, "", 0)) != 0 ||
	    (r = attr_add(o, CKA_SUBJECT, m->subject, (size_t)m->subject_len)) != 0 ||
	    (r = attr_add(o, CKA_ISSUER, m->issuer, (size_t)m->issuer_len)) != 0 ||
	    (r = attr_add(o, CKA_SERIAL_NUMBER, m->serial, (size_t)m->serial_len)) != 0 ||
	    (r = attr_add(o, CKA_VALUE, m->cert, m->cert_len)) != 0 ||
	    (r = attr_add(o, CKA_URL, "", 0)) != 0 ||
	    (r = attr_add(o, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, "", 0)) != 0 ||
	    (r = attr_add(o, CKA_HASH_OF_ISSUER_PUBLIC_KEY, "", 0)) != 0 ||
	    (r = attr_ulong(o, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0)) != 0 ||
	    (r = attr_add(o, CKA_PUBLIC_KEY_INFO, m->spki, (size_t)m->spki_len)) != 0)
		return r;
	return 0;
}

static bool
key_has_id(const p11_token *t, const uint8_t *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		if (t->keys[i].id_len == id_len && memcmp(t->keys[i].id, id, id_len) == 0)
			return true;
	return false;
}

/* The CDF certificates no key of the token has: the CA's. */
static int
build_other_certs(p11_token *t, key_material *m)
{
	cnie_card_cert_info ci;
	size_t i, n, extra = 0;
	int r;

	if ((r = cnie_card_cert_count(t->card, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = cnie_card_get_cert(t->card, i, &ci)) != 0)
			return r;
		if (ci.id_len == 0 || key_has_id(t, ci.id, ci.id_len))
			continue;
		if (extra == P11_MAX_CERTS || t->nobjects >= P11_MAX_OBJECTS)
			break; /* more than the card profile has: the first ones */
		r = cnie_card_certificate(t->card, ci.id, ci.id_len, &m->cert, &m->cert_len);
		if (r == CNIE_ERR_NOT_FOUND)
			continue;
		if (r != 0 || (r = material_load(m, NULL)) != 0)
			return r;
		t->objects[t->nobjects].key = P11_NO_KEY;
		if ((r = build_certificate(&t->objects[t->nobjects++], ci.label, ci.id, ci.id_len,
		    ci.authority ? 2 : 0, m)) != 0)
			return r;
		material_free(m);
		extra++;
	}
	return 0;
}

int
p11_objects_build(p11_token *t)
{
	key_material m;
	size_t i;
	int r = 0;

	if (t->objects_built)
		return 0;
	memset(&m, 0, sizeof(m));
	for (i = 0; i < t->nkeys; i++) {
		const cnie_card_key_info *k = &t->keys[i];

		r = cnie_card_certificate(t->card, k->id, k->id_len, &m.cert, &m.cert_len);
		if (r == CNIE_ERR_NOT_FOUND) {
			/* No certificate: the private key alone. */
			m.cert = NULL;
			r = 0;
		} else if (r != 0) {
			goto out;
		} else if ((r = material_load(&m, k)) != 0) {
			goto out;
		}
		t->objects[t->nobjects].key = i;
		if ((r = build_private(&t->objects[t->nobjects++], k, &m)) != 0)
			goto out;
		if (m.x != NULL) {
			t->objects[t->nobjects].key = i;
			if ((r = build_public(&t->objects[t->nobjects++], k, &m)) != 0)
				goto out;
			t->objects[t->nobjects].key = i;
			if ((r = build_certificate(&t->objects[t->nobjects++], k->label, k->id,
			    k->id_len, 1, &m)) != 0)
				goto out;
		}
		material_free(&m);
	}
	if ((r = build_other_certs(t, &m)) != 0)
		goto out;
	t->objects_built = true;
out:
	material_free(&m);
	if (r != 0)
		p11_objects_free(t);
	return r;
}

void
p11_objects_free(p11_token *t)
{
	size_t i, j;

	for (i = 0; i < t->nobjects; i++) {
		for (j = 0; j < t->objects[i].nattrs; j++)
			free(t->objects[i].attrs[j].value);
	}
	memset(t->objects, 0, sizeof(t->objects));
	t->nobjects = 0;
	t->objects_built = false;
}

/* Handles carry the token generation: a re-inserted card's objects differ. */
CK_OBJECT_HANDLE
p11_object_handle(const p11_token *t, size_t idx)
{
	return ((CK_OBJECT_HANDLE)(t->gen & 0xFFFFFF) << 8) | (CK_OBJECT_HANDLE)(idx + 1);
}

long
p11_object_index(const p11_token *t, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_HANDLE low = h & 0xFF;

	if ((h >> 8) != (t->gen & 0xFFFFFF) || low == 0 || low > t->nobjects)
		return -1;
	return (long)low - 1;
}

bool
p11_object_visible(const p11_token *t, size_t idx)
{
	return !t->objects[idx].private_ || t->logged_in;
}

const p11_attr *
p11_object_attr(const p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < o->nattrs; i++)
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	return NULL;
}

bool
p11_object_match(const p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	const p11_attr *a;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		if ((a = p11_object_attr(o, tmpl[i].type)) == NULL || a->len != tmpl[i].ulValueLen)
			return false;
		if (a->len > 0 && (tmpl[i].pValue == NULL ||
		    memcmp(a->value, tmpl[i].pValue, a->len) != 0))
			return false;
	}
	return true;
}

/* Secret parts of a private key: present in the model, never readable. */
static bool
sensitive_type(const p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	if (o->cls != CKO_PRIVATE_KEY)
		return false;
	switch (type) {
	case CKA_VALUE:
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
		return true;
	default:
		return false;
	}
}

/*
 * PKCS#11 2.40 5.7 C_GetAttributeValue: every attribute is processed; the
 * failing ones get CK_UNAVAILABLE_INFORMATION; when several errors apply,
 * any may be returned: SENSITIVE before TYPE_INVALID before BUFFER_TOO_SMALL.
 */
CK_RV
p11_object_get(const p11_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	bool sens = false, inval = false, small = false;
	const p11_attr *a;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		if (sensitive_type(o, tmpl[i].type)) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			sens = true;
		} else if ((a = p11_object_attr(o, tmpl[i].type)) == NULL) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			inval = true;
		} else if (tmpl[i].pValue == NULL) {
			tmpl[i].ulValueLen = a->len;
		} else if (tmpl[i].ulValueLen < a->len) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			small = true;
		} else {
			if (a->len > 0)
				memcpy(tmpl[i].pValue, a->value, a->len);
			tmpl[i].ulValueLen = a->len;
		}
	}
	if (sens)
		return CKR_ATTRIBUTE_SENSITIVE;
	if (inval)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (small)
		return CKR_BUFFER_TOO_SMALL;
	return CKR_OK;
}
