/*
 * The identity application (ICAO 9303 LDS1, DF A002) and EF.CardAccess:
 * EF.COM, DG1 (TD1 MRZ), DG2 (face), DG11, DG12, DG14 (chip authentication
 * and PACE), DG15 (active authentication key) and EF.SOD (ICAO 9303-10
 * 4.6.2: CMS SignedData over an LDSSecurityObject, signed by the DS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include <cnie/error.h>
#include <cnie/mrz.h>

#include "perso.h"

#define OID_PACE_ECDH_GM_AES128 "0.4.0.127.0.7.2.2.4.2.2"
#define OID_CA_ECDH_AES128 "0.4.0.127.0.7.2.2.3.2.2"
#define OID_PK_ECDH "0.4.0.127.0.7.2.2.1.2"
#define OID_CA_DH_AES128 "0.4.0.127.0.7.2.2.3.1.2"
#define OID_PK_DH "0.4.0.127.0.7.2.2.1.1"
#define OID_AA "2.23.136.1.1.5"
#define OID_ECDSA_PLAIN_SHA256 "0.4.0.127.0.7.1.1.4.1.3"
#define OID_LDS_SECURITY_OBJECT "2.23.136.1.1.1"
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define PACE_PARAM_BRAINPOOLP256R1 13

/* ---- MRZ (ICAO 9303-3 4.9, 9303-5 4.2) ------------------------------ */

static void
mrz_field(char *dst, size_t width, const char *src)
{
	size_t i, n = strlen(src);

	for (i = 0; i < width; i++) {
		if (i < n)
			dst[i] = (src[i] == ' ' || src[i] == '-') ? '<' : src[i];
		else
			dst[i] = '<';
	}
}

static int
put_check(char *at, const char *s, size_t n)
{
	int c = cnie_mrz_check_digit(s, n); /* ICAO 9303-3 4.9 */

	if (c < 0)
		return CNIE_ERR_INVALID_ARG;
	*at = (char)('0' + c);
	return 0;
}

int
perso_mrz_td1(const perso_desc *d, char out[91])
{
	char *l1 = out, *l2 = out + 30, *l3 = out + 60, name[96], composite[60];
	int r;

	memset(out, '<', 90);
	out[90] = '\0';
	/* Line 1: document code, issuing state, number, check, optional data. */
	memcpy(l1, "I<MAR", 5);
	mrz_field(l1 + 5, 9, d->document_number);
	if ((r = put_check(l1 + 14, l1 + 5, 9)) != 0)
		return r;
	/* Line 2: birth, check, sex, expiry, check, nationality, optional, composite. */
	snprintf(name, sizeof(name), "%02d%02d%02d", d->birth.y % 100, d->birth.m, d->birth.d);
	memcpy(l2, name, 6);
	if ((r = put_check(l2 + 6, l2, 6)) != 0)
		return r;
	l2[7] = d->sex == 'X' ? '<' : d->sex;
	snprintf(name, sizeof(name), "%02d%02d%02d", d->expiry.y % 100, d->expiry.m,
	    d->expiry.d);
	memcpy(l2 + 8, name, 6);
	if ((r = put_check(l2 + 14, l2 + 8, 6)) != 0)
		return r;
	memcpy(l2 + 15, d->nationality, 3);
	/* 9303-5 4.2.2: composite over line 1 positions 6-30 and line 2
	 * positions 1-7, 9-15 and 19-29. */
	memcpy(composite, l1 + 5, 25);
	memcpy(composite + 25, l2, 7);
	memcpy(composite + 32, l2 + 8, 7);
	memcpy(composite + 39, l2 + 18, 11);
	if ((r = put_check(l2 + 29, composite, 50)) != 0)
		return r;
	/* Line 3: SURNAME<<GIVEN<NAMES, truncated to 30. */
	snprintf(name, sizeof(name), "%s<<%s", d->surname_latin, d->given_latin);
	mrz_field(l3, 30, name);
	return 0;
}

/*
 * TD3 (9303-4 4.2.2): line 1 P<, state, SURNAME<<GIVEN<NAMES; line 2
 * number, check, nationality, birth, check, sex, expiry, check, personal
 * number (all fillers) and its check digit ('<'), composite over 1-10,
 * 14-20 and 22-43.
 */
int
perso_mrz_td3(const perso_desc *d, char out[89])
{
	char *l1 = out, *l2 = out + 44, name[96], composite[40];
	int r;

	memset(out, '<', 88);
	out[88] = '\0';
	memcpy(l1, "P<MAR", 5);
	snprintf(name, sizeof(name), "%s<<%s", d->surname_latin, d->given_latin);
	mrz_field(l1 + 5, 39, name);
	mrz_field(l2, 9, d->document_number);
	if ((r = put_check(l2 + 9, l2, 9)) != 0)
		return r;
	memcpy(l2 + 10, d->nationality, 3);
	snprintf(name, sizeof(name), "%02d%02d%02d", d->birth.y % 100, d->birth.m, d->birth.d);
	memcpy(l2 + 13, name, 6);
	if ((r = put_check(l2 + 19, l2 + 13, 6)) != 0)
		return r;
	l2[20] = d->sex == 'X' ? '<' : d->sex;
	snprintf(name, sizeof(name), "%02d%02d%02d", d->expiry.y % 100, d->expiry.m,
	    d->expiry.d);
	memcpy(l2 + 21, name, 6);
	if ((r = put_check(l2 + 27, l2 + 21, 6)) != 0)
		return r;
	memcpy(composite, l2, 10);
	memcpy(composite + 10, l2 + 13, 7);
	memcpy(composite + 17, l2 + 21, 22);
	return put_check(l2 + 43, composite, 39);
}

/* ---- data groups ---------------------------------------------------- */

static int
add(perso_card *card, const char *path, perso_der *d, int sfi)
{
	cnie_buf *b = NULL;
	int r;

	if ((r = perso_der_take(d, &b)) != 0)
		return r;
	return perso_card_add(card, path, "sm", sfi, &b);
}

static void
put_pace_info(perso_der *d)
{
	/* PACEInfo (9303-11 9.2.1): protocol, version 2, parameterId. */
	perso_der_open(d, 0x30);
	perso_der_oid(d, OID_PACE_ECDH_GM_AES128);
	perso_der_int(d, 0x02, 2);
	perso_der_int(d, 0x02, PACE_PARAM_BRAINPOOLP256R1);
	perso_der_close(d);
}

static int
make_card_access(perso_card *card)
{
	cnie_buf *b = NULL;
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	perso_der_open(&d, 0x31);
	put_pace_info(&d);
	perso_der_close(&d);
	if ((r = perso_der_take(&d, &b)) != 0)
		return r;
	/* Read without access conditions: the terminal needs it for PACE. */
	return perso_card_add(card, "3F00-011C", "always", 0x1C, &b);
}

static int
make_com(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* 9303-10 4.6.1: LDS version 1.7, Unicode 4.0.0, tag list. */
	perso_der_open(&d, 0x60);
	perso_der_str(&d, 0x5F01, "0107");
	perso_der_str(&d, 0x5F36, "040000");
	perso_der_put(&d, 0x5C, "\x61\x75\x6B\x6C\x6E\x6F", 6);
	perso_der_close(&d);
	return add(card, "3F00-A002-011E", &d, 0x1E);
}

static int
make_dg1(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = card->desc.passport ? perso_mrz_td3(&card->desc, card->mrz) :
	    perso_mrz_td1(&card->desc, card->mrz)) != 0)
		return r;
	if ((r = perso_der_init(&d)) != 0)
		return r;
	perso_der_open(&d, 0x61);
	perso_der_put(&d, 0x5F1F, card->mrz, strlen(card->mrz));
	perso_der_close(&d);
	return add(card, "3F00-A002-0101", &d, 0x01);
}

static int
make_dg2(perso_card *card)
{
	cnie_buf *rec = NULL;
	perso_der d;
	int r;

	if ((r = perso_face_record(card->desc.seed, card->desc.sex, &rec)) != 0)
		return r;
	if ((r = perso_der_init(&d)) != 0) {
		cnie_buf_free(&rec);
		return r;
	}
	/* 9303-10 4.7.2: biometric information group template, one instance,
	 * biometric header template (ISO/IEC 7816-11), facial record. */
	perso_der_open(&d, 0x75);
	perso_der_open(&d, 0x7F61);
	perso_der_int(&d, 0x02, 1);
	perso_der_open(&d, 0x7F60);
	perso_der_open(&d, 0xA1);
	perso_der_put(&d, 0x80, "\x01\x01", 2);	/* patron header version 1.1 */
	perso_der_put(&d, 0x81, "\x02", 1);	/* biometric type: face */
	perso_der_put(&d, 0x87, "\x01\x01", 2);	/* format owner: JTC 1/SC 37 */
	perso_der_put(&d, 0x88, "\x00\x08", 2);	/* format type: face image */
	perso_der_close(&d);
	perso_der_put(&d, 0x5F2E, cnie_buf_ptr(rec), cnie_buf_len(rec));
	perso_der_close(&d);
	perso_der_close(&d);
	perso_der_close(&d);
	cnie_buf_free(&rec);
	return add(card, "3F00-A002-0102", &d, 0x02);
}

static int
make_dg11(perso_card *card)
{
	const perso_desc *p = &card->desc;
	char buf[400];
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* 9303-10 4.7.11: tag list, full name, other names (the Arabic
	 * rendering), full date of birth, place of birth. */
	perso_der_open(&d, 0x6B);
	perso_der_put(&d, 0x5C, "\x5F\x0E\xA0\x5F\x2B\x5F\x11", 7);
	snprintf(buf, sizeof(buf), "%s<<%s", p->surname_latin, p->given_latin);
	perso_der_str(&d, 0x5F0E, buf);
	perso_der_open(&d, 0xA0);
	perso_der_int(&d, 0x02, 1);
	snprintf(buf, sizeof(buf), "%s<<%s", p->surname_arabic, p->given_arabic);
	perso_der_str(&d, 0x5F0F, buf);
	perso_der_close(&d);
	snprintf(buf, sizeof(buf), "%04d%02d%02d", p->birth.y, p->birth.m, p->birth.d);
	perso_der_str(&d, 0x5F2B, buf);
	snprintf(buf, sizeof(buf), "%s<%s", p->place_of_birth, "MAR");
	perso_der_str(&d, 0x5F11, buf);
	perso_der_close(&d);
	return add(card, "3F00-A002-010B", &d, 0x0B);
}

static int
make_dg12(perso_card *card)
{
	const perso_desc *p = &card->desc;
	char buf[16];
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* 9303-10 4.7.12: tag list, issuing authority, date of issue. */
	perso_der_open(&d, 0x6C);
	perso_der_put(&d, 0x5C, "\x5F\x19\x5F\x26", 4);
	perso_der_str(&d, 0x5F19, p->issuing_authority);
	snprintf(buf, sizeof(buf), "%04d%02d%02d", p->issue.y, p->issue.m, p->issue.d);
	perso_der_str(&d, 0x5F26, buf);
	perso_der_close(&d);
	return add(card, "3F00-A002-010C", &d, 0x0C);
}

static int
spki(EVP_PKEY *key, cnie_buf **out)
{
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		return CNIE_ERR_CRYPTO;
	*out = cnie_buf_from(der, (size_t)n);
	OPENSSL_free(der);
	return *out == NULL ? CNIE_ERR_NOMEM : 0;
}

/* X.690 11.6: the elements of a SET OF in ascending order of encoding. */
static int
cmp_elem(const void *a, const void *b)
{
	const cnie_buf *x = *(cnie_buf *const *)a, *y = *(cnie_buf *const *)b;
	size_t nx = cnie_buf_len(x), ny = cnie_buf_len(y), n = nx < ny ? nx : ny;
	int c = memcmp(cnie_buf_ptr(x), cnie_buf_ptr(y), n);

	if (c != 0)
		return c;
	return nx < ny ? -1 : nx > ny;
}

static int
make_dg14(perso_card *card)
{
	cnie_buf *elem[4] = { NULL }, *pub = NULL;
	perso_der d, e;
	size_t n = 0, i;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = spki(card->chip_key, &pub)) != 0)
		goto out;
	for (i = 0; i < 4; i++) {
		if (i == 3 && EVP_PKEY_get_base_id(card->aa_key) != EVP_PKEY_EC)
			break; /* RSA AA (ISO 9796-2) needs no ActiveAuthenticationInfo */
		if ((r = perso_der_init(&e)) != 0)
			goto out;
		switch (i) {
		case 0:
			put_pace_info(&e);
			break;
		case 1: /* ChipAuthenticationInfo (9303-11 9.2.5), keyId 1 */
			perso_der_open(&e, 0x30);
			perso_der_oid(&e, card->desc.chip_dh ? OID_CA_DH_AES128 : OID_CA_ECDH_AES128);
			perso_der_int(&e, 0x02, 1);
			perso_der_int(&e, 0x02, 1);
			perso_der_close(&e);
			break;
		case 2: /* ChipAuthenticationPublicKeyInfo (9.2.6), keyId 1 */
			perso_der_open(&e, 0x30);
			perso_der_oid(&e, card->desc.chip_dh ? OID_PK_DH : OID_PK_ECDH);
			perso_der_raw(&e, cnie_buf_ptr(pub), cnie_buf_len(pub));
			perso_der_int(&e, 0x02, 1);
			perso_der_close(&e);
			break;
		default: /* ActiveAuthenticationInfo (9.2.10) for ECDSA */
			perso_der_open(&e, 0x30);
			perso_der_oid(&e, OID_AA);
			perso_der_int(&e, 0x02, 1);
			perso_der_oid(&e, OID_ECDSA_PLAIN_SHA256);
			perso_der_close(&e);
			break;
		}
		if ((r = perso_der_take(&e, &elem[n])) != 0)
			goto out;
		n++;
	}
	qsort(elem, n, sizeof(elem[0]), cmp_elem);
	if ((r = perso_der_init(&d)) != 0)
		goto out;
	perso_der_open(&d, 0x6E);
	perso_der_open(&d, 0x31);
	for (i = 0; i < n; i++)
		perso_der_raw(&d, cnie_buf_ptr(elem[i]), cnie_buf_len(elem[i]));
	perso_der_close(&d);
	perso_der_close(&d);
	r = add(card, "3F00-A002-010E", &d, 0x0E);
out:
	perso_der_free(&d);
	for (i = 0; i < 4; i++)
		cnie_buf_free(&elem[i]);
	cnie_buf_free(&pub);
	return r;
}

static int
make_dg15(perso_card *card)
{
	cnie_buf *pub = NULL;
	perso_der d;
	int r;

	if ((r = spki(card->aa_key, &pub)) != 0)
		return r;
	if ((r = perso_der_init(&d)) != 0) {
		cnie_buf_free(&pub);
		return r;
	}
	perso_der_put(&d, 0x6F, cnie_buf_ptr(pub), cnie_buf_len(pub));
	cnie_buf_free(&pub);
	return add(card, "3F00-A002-010F", &d, 0x0F);
}

/* ---- EF.SOD --------------------------------------------------------- */

static const struct {
	int dg;
	const char *path;
} sod_dgs[] = {
	{ 1, "3F00-A002-0101" }, { 2, "3F00-A002-0102" }, { 11, "3F00-A002-010B" },
	{ 12, "3F00-A002-010C" }, { 14, "3F00-A002-010E" }, { 15, "3F00-A002-010F" },
};

static int
lds_security_object(const perso_card *card, cnie_buf **out)
{
	uint8_t md[32];
	const perso_file *f;
	perso_der d;
	size_t i;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* 9303-10 4.6.2.2: LDSSecurityObject v0, SHA-256, DataGroupHashes. */
	perso_der_open(&d, 0x30);
	perso_der_int(&d, 0x02, 0);
	perso_der_open(&d, 0x30);
	perso_der_oid(&d, OID_SHA256);
	perso_der_close(&d);
	perso_der_open(&d, 0x30);
	for (i = 0; i < sizeof(sod_dgs) / sizeof(sod_dgs[0]); i++) {
		if ((f = perso_card_file(card, sod_dgs[i].path)) == NULL) {
			perso_der_free(&d);
			return CNIE_ERR_INTERNAL;
		}
		if (EVP_Digest(cnie_buf_ptr(f->data), cnie_buf_len(f->data), md, NULL,
		    EVP_sha256(), NULL) != 1) {
			perso_der_free(&d);
			return CNIE_ERR_CRYPTO;
		}
		perso_der_open(&d, 0x30);
		perso_der_int(&d, 0x02, sod_dgs[i].dg);
		perso_der_put(&d, 0x04, md, sizeof(md));
		perso_der_close(&d);
	}
	perso_der_close(&d);
	perso_der_close(&d);
	return perso_der_take(&d, out);
}

static int
make_sod(perso_card *card)
{
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	cnie_buf *lso = NULL, *ci = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OBJECT *ctype = NULL;
	ASN1_TIME *when = NULL;
	BIO *in = NULL;
	X509 *ds = card->desc.ds_expired ? card->pki.ds_expired : card->pki.ds;
	unsigned char *der = NULL;
	char ts[20];
	perso_der d;
	int r, n;

	memset(&d, 0, sizeof(d));
	if ((r = lds_security_object(card, &lso)) != 0)
		return r;
	r = CNIE_ERR_CRYPTO;
	/* The signing time is the date of issue: a fixed value keeps EF.SOD
	 * identical between runs (OpenSSL would add the current time). */
	snprintf(ts, sizeof(ts), "%04d%02d%02d120000Z", card->desc.issue.y,
	    card->desc.issue.m, card->desc.issue.d);
	if ((in = BIO_new_mem_buf(cnie_buf_ptr(lso), (int)cnie_buf_len(lso))) == NULL ||
	    (ctype = OBJ_txt2obj(OID_LDS_SECURITY_OBJECT, 1)) == NULL ||
	    (when = ASN1_TIME_new()) == NULL ||
	    ASN1_TIME_set_string_X509(when, ts) != 1 ||
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, flags)) == NULL ||
	    CMS_set1_eContentType(cms, ctype) != 1 ||
	    (si = CMS_add1_signer(cms, ds, card->pki.ds_key, EVP_sha256(), flags)) == NULL ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(when),
	    when, -1) != 1 ||
	    CMS_final(cms, in, NULL, CMS_BINARY) != 1 ||
	    (n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		goto out;
	if ((ci = cnie_buf_from(der, (size_t)n)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = perso_der_init(&d)) != 0)
		goto out;
	perso_der_put(&d, 0x77, cnie_buf_ptr(ci), cnie_buf_len(ci));
	r = add(card, "3F00-A002-011D", &d, 0x1D);
out:
	perso_der_free(&d);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	ASN1_TIME_free(when);
	ASN1_OBJECT_free(ctype);
	BIO_free(in);
	cnie_buf_free(&lso);
	cnie_buf_free(&ci);
	return r;
}

int
perso_lds_make(perso_card *card)
{
	int r;

	if ((r = make_card_access(card)) != 0 || (r = make_com(card)) != 0 ||
	    (r = make_dg1(card)) != 0 || (r = make_dg2(card)) != 0 ||
	    (r = make_dg11(card)) != 0 || (r = make_dg12(card)) != 0 ||
	    (r = make_dg14(card)) != 0 || (r = make_dg15(card)) != 0 ||
	    (r = make_sod(card)) != 0)
		return r;
	return 0;
}
