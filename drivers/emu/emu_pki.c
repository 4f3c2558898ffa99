/*
 * The PKI application's key commands (ISO 7816-8): MSE:SET (22), PSO:
 * COMPUTE DIGITAL SIGNATURE (2A 9E9A), INTERNAL AUTHENTICATE (88) with
 * the authentication key, and GET DATA (CA 005A, the card serial).
 *
 * Algorithm references (MSE:SET DO 80) are our assumption, the real card's
 * are unpublished (docs/card-profile.md): 02 RSA PKCS#1 v1.5 over a given
 * DigestInfo, 05 RSA-PSS over a given hash (MGF1 with the same hash, salt
 * as long as the hash), 04 ECDSA over a given hash, answered as r || s
 * (BSI TR-03111 plain format, each half as long as the group order).
 */
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cnie/error.h>
#include <cnie/tlv.h>

#include "emu_int.h"

#define SW_WRONG_LE_BASE 0x6C00

void
emu_pki_reset(cnie_emu *e)
{
	e->se_sig.key = -1;
	e->se_auth.key = -1;
}

/* The current DF holds a key for PSO or INTERNAL AUTHENTICATE. */
static bool
df_has_pki_key(const cnie_emu *e)
{
	size_t i;

	for (i = 0; i < e->nkeys; i++)
		if (e->keys[i].app == e->cur_df && e->cur_df >= 0 &&
		    (e->keys[i].use & (EMU_USE_SIGN | EMU_USE_INTAUTH)) != 0)
			return true;
	return false;
}

bool
emu_pki_owns(const cnie_emu *e, const cnie_apdu *a)
{
	switch (a->ins) {
	case 0x2A:
		return true;
	case 0x22:
		/* 41A4 in the ICAO DF is Chip Authentication (emu_auth). */
		return a->p1 == 0x41 && (a->p2 == 0xB6 || (a->p2 == 0xA4 && df_has_pki_key(e)));
	case 0x88:
		return df_has_pki_key(e);
	default:
		return false;
	}
}

int
emu_pki_mse(cnie_emu *e, const cnie_apdu *a, uint16_t *sw)
{
	struct emu_se *se = a->p2 == 0xB6 ? &e->se_sig : &e->se_auth;
	unsigned need = a->p2 == 0xB6 ? EMU_USE_SIGN : EMU_USE_INTAUTH;
	bool have_alg = false, have_ref = false;
	uint8_t alg = 0, ref = 0;
	const struct emu_key *k;
	cnie_tlv t;
	cnie_cur c;
	size_t i;

	/* Whatever happens, the previous setting is gone (ISO 7816-4 7.5.11). */
	se->key = -1;
	cnie_cur_init(&c, a->data, a->nc);
	while (cnie_cur_left(&c) > 0) {
		if (cnie_tlv_next(&c, &t) != 0 || t.len != 1)
			goto wrong_data;
		if (t.tag == 0x80 && !have_alg) {
			alg = t.value[0];
			have_alg = true;
		} else if (t.tag == 0x84 && !have_ref) {
			ref = t.value[0];
			have_ref = true;
		} else {
			goto wrong_data;
		}
	}
	if (!have_ref)
		goto wrong_data;
	for (i = 0; i < e->nkeys; i++)
		if (e->keys[i].app == e->cur_df && e->keys[i].has_ref && e->keys[i].ref == ref)
			break;
	if (i == e->nkeys) {
		*sw = SW_REF_NOT_FOUND;
		return 0;
	}
	k = &e->keys[i];
	if ((k->use & need) == 0)
		goto wrong_data;
	if (!have_alg)
		alg = k->rsa ? EMU_ALG_RSA_PKCS1 : EMU_ALG_ECDSA;
	if (k->rsa ? (alg != EMU_ALG_RSA_PKCS1 && alg != EMU_ALG_RSA_PSS) : alg != EMU_ALG_ECDSA)
		goto wrong_data;
	se->key = (int)i;
	se->alg = alg;
	*sw = SW_OK;
	return 0;
wrong_data:
	*sw = SW_WRONG_DATA;
	return 0;
}

static const EVP_MD *
md_for_len(size_t n)
{
	switch (n) {
	case 20:
		return EVP_sha1();
	case 28:
		return EVP_sha224();
	case 32:
		return EVP_sha256();
	case 48:
		return EVP_sha384();
	case 64:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* DER DigestInfo of RFC 8017 9.2 note 1, for the hashes we accept. */
static bool
is_digest_info(const uint8_t *p, size_t n)
{
	static const struct {
		const char *prefix;
		size_t plen, hlen;
	} di[] = {
		{ "\x30\x21\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00\x04\x14", 15, 20 },
		{ "\x30\x2d\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x04\x05\x00\x04\x1c",
		    19, 28 },
		{ "\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20",
		    19, 32 },
		{ "\x30\x41\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02\x05\x00\x04\x30",
		    19, 48 },
		{ "\x30\x51\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03\x05\x00\x04\x40",
		    19, 64 },
	};
	size_t i;

	for (i = 0; i < sizeof(di) / sizeof(di[0]); i++)
		if (n == di[i].plen + di[i].hlen && memcmp(p, di[i].prefix, di[i].plen) == 0)
			return true;
	return false;
}

/* DER ECDSA-Sig-Value to r || s, each half size bytes. */
static int
ecdsa_plain(const uint8_t *der, size_t n, size_t size, cnie_buf *resp)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	uint8_t *out;
	int rv = CNIE_ERR_CRYPTO;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)n)) == NULL)
		return CNIE_ERR_CRYPTO;
	ECDSA_SIG_get0(sig, &r, &s);
	if ((rv = cnie_buf_reserve(resp, 2 * size, &out)) != 0)
		goto out;
	rv = CNIE_ERR_CRYPTO;
	if (BN_bn2binpad(r, out, (int)size) != (int)size ||
	    BN_bn2binpad(s, out + size, (int)size) != (int)size)
		goto out;
	rv = 0;
out:
	ECDSA_SIG_free(sig);
	return rv;
}

/*
 * The private-key operation.  digest_info: PKCS#1 input must be a
 * DigestInfo (PSO); INTERNAL AUTHENTICATE takes any block up to k - 11
 * (RFC 8017 8.2.1 with the encoding done by the caller).
 */
static int
key_sign(cnie_emu *e, const struct emu_key *k, uint8_t alg, const uint8_t *in, size_t n,
    bool digest_info, cnie_buf *resp, uint16_t *sw)
{
	EVP_PKEY_CTX *ctx = NULL;
	const EVP_MD *md = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r = CNIE_ERR_CRYPTO;

	switch (alg) {
	case EMU_ALG_RSA_PKCS1:
		if (n > k->size - 11 || (digest_info && !is_digest_info(in, n))) {
			*sw = SW_WRONG_DATA;
			return 0;
		}
		break;
	case EMU_ALG_RSA_PSS:
	case EMU_ALG_ECDSA:
		if ((md = md_for_len(n)) == NULL ||
		    (alg == EMU_ALG_RSA_PSS && 2 * n + 2 > k->size)) {
			*sw = SW_WRONG_DATA;
			return 0;
		}
		break;
	default:
		return CNIE_ERR_INTERNAL;
	}
	if ((ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL || EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if (alg == EMU_ALG_RSA_PKCS1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (alg == EMU_ALG_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, &siglen, in, n) != 1 || siglen == 0 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_PKEY_sign(ctx, sig, &siglen, in, n) != 1)
		goto out;
	e->stats.key_ops++;
	e->op_us += k->rsa ? e->timing.rsa_op_us : e->timing.ec_op_us;
	if (alg == EMU_ALG_ECDSA) {
		if ((r = ecdsa_plain(sig, siglen, k->size, resp)) != 0)
			goto out;
	} else if ((r = cnie_buf_put(resp, sig, siglen)) != 0) {
		goto out;
	}
	*sw = SW_OK;
	r = 0;
out:
	OPENSSL_free(sig);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* PIN checks shared by PSO and INTERNAL AUTHENTICATE; false when refused (*sw set). */
static bool
key_allowed(cnie_emu *e, const struct emu_key *k, uint16_t *sw)
{
	if (k->pin >= 0 && !e->pins[k->pin].verified) {
		*sw = SW_SECURITY;
		return false;
	}
	if (k->always_pin) {
		/*
		 * One signature per VERIFY (docs/card-profile.md 3: the PIN immediately
		 * before every signature).  Other commands in between do not
		 * cancel the permit; a second signature needs a new VERIFY.
		 */
		if (e->sign_permit != k->pin) {
			*sw = SW_SECURITY;
			return false;
		}
		e->sign_permit = -1;
	}
	return true;
}

int
emu_pki_pso(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	const struct emu_key *k;

	if (a->p1 != 0x9E || a->p2 != 0x9A) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if (e->se_sig.key < 0) {
		*sw = SW_CONDITIONS; /* no MSE:SET DST before */
		return 0;
	}
	if (a->nc == 0) {
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	k = &e->keys[e->se_sig.key];
	if (!key_allowed(e, k, sw))
		return 0;
	return key_sign(e, k, e->se_sig.alg, a->data, a->nc, true, resp, sw);
}

int
emu_pki_intauth(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	const struct emu_key *k;

	if (a->p1 != 0x00 || a->p2 != 0x00) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if (e->se_auth.key < 0) {
		*sw = SW_CONDITIONS; /* no MSE:SET AT before */
		return 0;
	}
	if (a->nc == 0) {
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	k = &e->keys[e->se_auth.key];
	if (!key_allowed(e, k, sw))
		return 0;
	return key_sign(e, k, e->se_auth.alg, a->data, a->nc, false, resp, sw);
}

int
emu_pki_get_data(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	if (a->p1 != 0x00 || a->p2 != 0x5A) {
		*sw = SW_REF_NOT_FOUND;
		return 0;
	}
	if (a->nc != 0) {
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	/*
	 * Privacy: a fixed serial would let anyone track the card over the
	 * air, so the contactless interface shows it only inside PACE.
	 */
	if (e->iface == CNIE_EMU_CONTACTLESS && !emu_auth_pace_done(e->auth)) {
		*sw = SW_SECURITY;
		return 0;
	}
	/* A fixed-length answer: a wrong Le gets 6Cxx with the right one. */
	if (a->ne != 0 && a->ne < EMU_SERIAL_LEN) {
		*sw = SW_WRONG_LE_BASE | EMU_SERIAL_LEN;
		return 0;
	}
	*sw = SW_OK;
	return cnie_buf_put(resp, e->serial, EMU_SERIAL_LEN);
}
