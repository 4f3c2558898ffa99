/*
 * The PKI application's files: EF.DIR and EF.ATR/INFO in the MF, and the
 * ISO/IEC 7816-15 (PKCS#15) structure in DF A001: ODF, TokenInfo, AODF,
 * PrKDF, CDF and the three certificates.  The encodings follow
 * ISO/IEC 7816-15:2016 / PKCS#15 v1.1 as OpenSC reads them.
 *
 * Choices (docs/card-dir.md profile):
 *  - paths are absolute (3F00 A001 xxxx): no reliance on the current DF;
 *  - object IDs are the SHA-1 of the public key, i.e. the certificates'
 *    subjectKeyIdentifier (RFC 5280 4.2.1.2 method 1), the usual PKCS#11
 *    CKA_ID convention: key and certificate share it;
 *  - no PuKDF: public keys come from the certificates;
 *  - PIN objects have a padChar but no needs-padding flag: VERIFY carries
 *    the PIN's digits only (ascii-numeric, 4..12).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include <cnie/error.h>

#include "perso.h"

#define PKI_AID "\xF0\x43\x4E\x49\x45\x50\x4B\x49"
#define ICAO_AID "\xA0\x00\x00\x02\x47\x10\x01"

/* PKCS#15 bit numbers. */
enum {
	P15_COF_PRIVATE = 0, P15_COF_MODIFIABLE = 1,			 /* CommonObjectFlags */
	P15_PIN_LOCAL = 1, P15_PIN_UNBLOCK_DISABLED = 3, P15_PIN_INITIALIZED = 4,
	P15_PIN_UNBLOCKING = 6,					 /* PinFlags */
	P15_KU_SIGN = 2, P15_KU_NON_REPUDIATION = 9,			 /* KeyUsageFlags */
	P15_KA_SENSITIVE = 0, P15_KA_ALWAYS_SENSITIVE = 2, P15_KA_NEVER_EXTRACTABLE = 3,
	P15_KA_LOCAL = 4,						 /* KeyAccessFlags */
	P15_TF_READONLY = 0,					 /* TokenFlags */
};

static void
put_path(perso_der *d, const char *hexpath)
{
	uint8_t p[8];
	size_t n = 0;
	unsigned v;

	while (hexpath[0] != '\0' && hexpath[1] != '\0' && n < sizeof(p)) {
		if (sscanf(hexpath, "%2x", &v) != 1) {
			d->err = CNIE_ERR_INTERNAL;
			return;
		}
		p[n++] = (uint8_t)v;
		hexpath += 2;
	}
	/* Path ::= SEQUENCE { path OCTET STRING, ... } */
	perso_der_open(d, 0x30);
	perso_der_put(d, 0x04, p, n);
	perso_der_close(d);
}

static int
add(perso_card *card, const char *path, perso_der *d, const char *read, int sfi)
{
	cnie_buf *b = NULL;
	int r;

	if ((r = perso_der_take(d, &b)) != 0)
		return r;
	return perso_card_add(card, path, read, sfi, &b);
}

static int
make_dir(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* ISO 7816-4 8.2.1.1: application templates, AID, label, path. */
	perso_der_open(&d, 0x61);
	perso_der_put(&d, 0x4F, PKI_AID, 8);
	perso_der_str(&d, 0x50, "CNIE");
	perso_der_put(&d, 0x51, "\x3F\x00\xA0\x01", 4);
	perso_der_close(&d);
	perso_der_open(&d, 0x61);
	perso_der_put(&d, 0x4F, ICAO_AID, 7);
	perso_der_str(&d, 0x50, "ICAO eMRTD");
	perso_der_put(&d, 0x51, "\x3F\x00\xA0\x02", 4);
	perso_der_close(&d);
	return add(card, "3F00-2F00", &d, "always", 0);
}

static int
make_atr_info(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* ISO 7816-4:2013 8.2.1.1: card capabilities as in the ATR, and the
	 * extended length information (max command and response data). */
	perso_der_put(&d, 0x47, "\xB4\x01\xC0", 3);
	perso_der_open(&d, 0x7F66);
	perso_der_int(&d, 0x02, 4096);
	perso_der_int(&d, 0x02, 4096);
	perso_der_close(&d);
	return add(card, "3F00-2F01", &d, "always", 0);
}

static int
make_odf(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	/* PKCS15Objects: privateKeys [0], certificates [4], authObjects [8]. */
	perso_der_open(&d, 0xA0);
	put_path(&d, "3F00A0014402");
	perso_der_close(&d);
	perso_der_open(&d, 0xA4);
	put_path(&d, "3F00A0014404");
	perso_der_close(&d);
	perso_der_open(&d, 0xA8);
	put_path(&d, "3F00A0014401");
	perso_der_close(&d);
	return add(card, "3F00-A001-5031", &d, "always", 0);
}

static int
make_tokeninfo(perso_card *card)
{
	static const unsigned flags[] = { P15_TF_READONLY };
	uint8_t serial[8];
	unsigned v;
	perso_der d;
	size_t i;
	int r;

	for (i = 0; i < sizeof(serial); i++) {
		if (sscanf(card->desc.serial + 2 * i, "%2x", &v) != 1)
			return CNIE_ERR_INTERNAL;
		serial[i] = (uint8_t)v;
	}
	if ((r = perso_der_init(&d)) != 0)
		return r;
	perso_der_open(&d, 0x30);
	perso_der_int(&d, 0x02, 0);			/* version v1 */
	perso_der_put(&d, 0x04, serial, sizeof(serial)); /* serialNumber */
	perso_der_str(&d, 0x0C, "CNIE TEST");		/* manufacturerID */
	perso_der_str(&d, 0x80, "CNIE");		/* label [0] */
	perso_der_bits(&d, 0x03, flags, 1);		/* tokenflags */
	perso_der_close(&d);
	return add(card, "3F00-A001-5032", &d, "always", 0);
}

static void
put_pin(perso_der *d, const char *label, uint8_t auth_id, int unblocked_by,
    const unsigned *pflags, size_t npflags, int min, int stored, int max, int ref)
{
	static const unsigned cflags[] = { P15_COF_MODIFIABLE };
	uint8_t id = auth_id, puk = (uint8_t)unblocked_by;

	perso_der_open(d, 0x30);
	/* CommonObjectAttributes: label, flags, authId (the PUK that unblocks). */
	perso_der_open(d, 0x30);
	perso_der_str(d, 0x0C, label);
	perso_der_bits(d, 0x03, cflags, 1);
	if (unblocked_by > 0)
		perso_der_put(d, 0x04, &puk, 1);
	perso_der_close(d);
	/* CommonAuthenticationObjectAttributes: authId. */
	perso_der_open(d, 0x30);
	perso_der_put(d, 0x04, &id, 1);
	perso_der_close(d);
	/* [1] PinAttributes */
	perso_der_open(d, 0xA1);
	perso_der_open(d, 0x30);
	perso_der_bits(d, 0x03, pflags, npflags);
	perso_der_put(d, 0x0A, "\x01", 1);	/* pinType ascii-numeric */
	perso_der_int(d, 0x02, min);
	perso_der_int(d, 0x02, stored);
	perso_der_int(d, 0x02, max);
	perso_der_int(d, 0x80, ref);		/* pinReference [0] */
	perso_der_put(d, 0x04, "\xFF", 1);	/* padChar */
	put_path(d, "3F00A001");
	perso_der_close(d);
	perso_der_close(d);
	perso_der_close(d);
}

static int
make_aodf(perso_card *card)
{
	static const unsigned pin_flags[] = { P15_PIN_LOCAL, P15_PIN_INITIALIZED };
	static const unsigned puk_flags[] = { P15_PIN_LOCAL, P15_PIN_UNBLOCK_DISABLED,
		P15_PIN_INITIALIZED, P15_PIN_UNBLOCKING };
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	put_pin(&d, "PIN", 0x01, 0x02, pin_flags, 2, 4, 12, 12, 0x81);
	put_pin(&d, "PUK", 0x02, 0, puk_flags, 4, 8, 8, 8, 0x82);
	return add(card, "3F00-A001-4401", &d, "always", 0);
}

/* The PKCS#15 ID of a key: the certificate's subjectKeyIdentifier. */
static int
cert_id(X509 *x, const uint8_t **id, size_t *n)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

	if (ski == NULL || ASN1_STRING_length(ski) <= 0)
		return CNIE_ERR_INTERNAL;
	*id = ASN1_STRING_get0_data(ski);
	*n = (size_t)ASN1_STRING_length(ski);
	return 0;
}

static int
put_prkey(perso_der *d, const char *label, X509 *cert, EVP_PKEY *key,
    const unsigned *usage, size_t nusage, int ref)
{
	static const unsigned cflags[] = { P15_COF_PRIVATE };
	static const unsigned access[] = { P15_KA_SENSITIVE, P15_KA_ALWAYS_SENSITIVE,
		P15_KA_NEVER_EXTRACTABLE, P15_KA_LOCAL };
	const uint8_t *id;
	size_t idlen;
	bool ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
	int r;

	if ((r = cert_id(cert, &id, &idlen)) != 0)
		return r;
	/* PrivateKeyType: privateRSAKey SEQUENCE, privateECKey [0]. */
	perso_der_open(d, ec ? 0xA0 : 0x30);
	perso_der_open(d, 0x30);
	perso_der_str(d, 0x0C, label);
	perso_der_bits(d, 0x03, cflags, 1);
	perso_der_put(d, 0x04, "\x01", 1);	/* authId: the PIN */
	perso_der_close(d);
	perso_der_open(d, 0x30);		/* CommonKeyAttributes */
	perso_der_put(d, 0x04, id, idlen);
	perso_der_bits(d, 0x03, usage, nusage);
	perso_der_bits(d, 0x03, access, 4);
	perso_der_int(d, 0x02, ref);
	perso_der_close(d);
	perso_der_open(d, 0xA1);		/* typeAttributes */
	perso_der_open(d, 0x30);
	put_path(d, "3F00A001");
	/* RSA: modulusLength; EC: the field size (OpenSC's reading of it). */
	perso_der_int(d, 0x02, EVP_PKEY_get_bits(key));
	perso_der_close(d);
	perso_der_close(d);
	perso_der_close(d);
	return 0;
}

static int
make_prkdf(perso_card *card)
{
	static const unsigned auth_usage[] = { P15_KU_SIGN };
	static const unsigned sign_usage[] = { P15_KU_SIGN, P15_KU_NON_REPUDIATION };
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	if ((r = put_prkey(&d, "Authentication key", card->auth_cert, card->auth_key,
	    auth_usage, 1, 0x81)) != 0 ||
	    (r = put_prkey(&d, "Signature key", card->sign_cert, card->sign_key,
	    sign_usage, 2, 0x82)) != 0) {
		perso_der_free(&d);
		return r;
	}
	return add(card, "3F00-A001-4402", &d, "always", 0);
}

static int
put_cert(perso_der *d, const char *label, X509 *cert, bool authority, const char *path)
{
	const uint8_t *id;
	size_t idlen;
	int r;

	if ((r = cert_id(cert, &id, &idlen)) != 0)
		return r;
	perso_der_open(d, 0x30);
	perso_der_open(d, 0x30);
	perso_der_str(d, 0x0C, label);
	perso_der_close(d);
	perso_der_open(d, 0x30);		/* CommonCertificateAttributes */
	perso_der_put(d, 0x04, id, idlen);
	if (authority)
		perso_der_put(d, 0x01, "\xFF", 1);
	perso_der_close(d);
	perso_der_open(d, 0xA1);		/* X509CertificateAttributes */
	perso_der_open(d, 0x30);
	put_path(d, path);
	perso_der_close(d);
	perso_der_close(d);
	perso_der_close(d);
	return 0;
}

static int
make_cdf(perso_card *card)
{
	perso_der d;
	int r;

	if ((r = perso_der_init(&d)) != 0)
		return r;
	if ((r = put_cert(&d, "Authentication certificate", card->auth_cert, false,
	    "3F00A0014331")) != 0 ||
	    (r = put_cert(&d, "Signature certificate", card->sign_cert, false,
	    "3F00A0014332")) != 0 ||
	    (r = put_cert(&d, "CA certificate", card->pki.ca, true, "3F00A0014333")) != 0) {
		perso_der_free(&d);
		return r;
	}
	return add(card, "3F00-A001-4404", &d, "always", 0);
}

static int
add_cert_file(perso_card *card, const char *path, X509 *x)
{
	unsigned char *der = NULL;
	cnie_buf *b;
	int n;

	if ((n = i2d_X509(x, &der)) <= 0)
		return CNIE_ERR_CRYPTO;
	b = cnie_buf_from(der, (size_t)n);
	OPENSSL_free(der);
	if (b == NULL)
		return CNIE_ERR_NOMEM;
	return perso_card_add(card, path, "always", 0, &b);
}

int
perso_pkcs15_make(perso_card *card)
{
	int r;

	if ((r = make_dir(card)) != 0 || (r = make_atr_info(card)) != 0 ||
	    (r = make_odf(card)) != 0 || (r = make_tokeninfo(card)) != 0 ||
	    (r = make_aodf(card)) != 0 || (r = make_prkdf(card)) != 0 ||
	    (r = make_cdf(card)) != 0 ||
	    (r = add_cert_file(card, "3F00-A001-4331", card->auth_cert)) != 0 ||
	    (r = add_cert_file(card, "3F00-A001-4332", card->sign_cert)) != 0 ||
	    (r = add_cert_file(card, "3F00-A001-4333", card->pki.ca)) != 0)
		return r;
	return 0;
}
