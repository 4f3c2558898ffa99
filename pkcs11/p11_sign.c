/*
 * Signature mechanisms.  The card signs a hash (ECDSA, PSS, PKCS#1 v1.5 by
 * DigestInfo) or, with INTERNAL AUTHENTICATE on the authentication key, any
 * PKCS#1 block (TLS 1.2 client authentication signs a bare MD5+SHA-1
 * concatenation).  Hashing mechanisms hash here with OpenSSL EVP, so
 * single-part and multi-part work alike.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <cnie/hash.h>

#include "p11_int.h"

typedef struct mech_def {
	CK_MECHANISM_TYPE mech;
	cnie_card_key_type key;
	cnie_card_mech_type card;
	cnie_card_hash hash; /* hashing mechanisms; NONE for raw */
	bool pss;
} mech_def;

static const mech_def mechs[] = {
	{ CKM_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1_RAW, CNIE_CARD_HASH_NONE, false },
	{ CKM_SHA1_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA1, false },
	{ CKM_SHA224_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA224, false },
	{ CKM_SHA256_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA256, false },
	{ CKM_SHA384_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA384, false },
	{ CKM_SHA512_RSA_PKCS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA512, false },
	{ CKM_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_NONE, true },
	{ CKM_SHA1_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA1, true },
	{ CKM_SHA224_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA224, true },
	{ CKM_SHA256_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA256, true },
	{ CKM_SHA384_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA384, true },
	{ CKM_SHA512_RSA_PKCS_PSS, CNIE_CARD_KEY_RSA, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA512, true },
	{ CKM_ECDSA, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_NONE, false },
	{ CKM_ECDSA_SHA1, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA1, false },
	{ CKM_ECDSA_SHA224, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA224, false },
	{ CKM_ECDSA_SHA256, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, false },
	{ CKM_ECDSA_SHA384, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA384, false },
	{ CKM_ECDSA_SHA512, CNIE_CARD_KEY_EC, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA512, false },
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

/*
 * PKCS#11's names for the hashes the card takes (hash mechanism, MGF1),
 * keyed on the hash; its length and OpenSSL name come from cnie/hash.h.
 */
static const struct hash_def {
	cnie_card_hash h;
	CK_MECHANISM_TYPE ck;
	CK_RSA_PKCS_MGF_TYPE mgf;
} hashes[] = {
	{ CNIE_CARD_HASH_SHA1, CKM_SHA_1, CKG_MGF1_SHA1 },
	{ CNIE_CARD_HASH_SHA224, CKM_SHA224, CKG_MGF1_SHA224 },
	{ CNIE_CARD_HASH_SHA256, CKM_SHA256, CKG_MGF1_SHA256 },
	{ CNIE_CARD_HASH_SHA384, CKM_SHA384, CKG_MGF1_SHA384 },
	{ CNIE_CARD_HASH_SHA512, CKM_SHA512, CKG_MGF1_SHA512 },
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

static const mech_def *
find_mech(CK_MECHANISM_TYPE m)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].mech == m)
			return &mechs[i];
	return NULL;
}

static const struct hash_def *
hash_by_ck(CK_MECHANISM_TYPE m)
{
	size_t i;

	for (i = 0; i < NHASHES; i++)
		if (hashes[i].ck == m)
			return &hashes[i];
	return NULL;
}

static bool
mech_for(const mech_def *d, bool rsa, bool ec)
{
	return d->key == CNIE_CARD_KEY_RSA ? rsa : ec;
}

CK_RV
p11_mech_list(bool rsa, bool ec, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	CK_ULONG n = 0;
	size_t i;

	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < NMECHS; i++)
		n += mech_for(&mechs[i], rsa, ec) ? 1 : 0;
	if (list == NULL) {
		*count = n;
		return CKR_OK;
	}
	if (*count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	n = 0;
	for (i = 0; i < NMECHS; i++)
		if (mech_for(&mechs[i], rsa, ec))
			list[n++] = mechs[i].mech;
	*count = n;
	return CKR_OK;
}

CK_RV
p11_mech_info(bool rsa, bool ec, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	const mech_def *d;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((d = find_mech(type)) == NULL || !mech_for(d, rsa, ec))
		return CKR_MECHANISM_INVALID;
	memset(info, 0, sizeof(*info));
	info->flags = CKF_HW | CKF_SIGN;
	if (d->key == CNIE_CARD_KEY_RSA) {
		info->ulMinKeySize = 1024;
		info->ulMaxKeySize = 4096;
	} else {
		info->ulMinKeySize = 256;
		info->ulMaxKeySize = 521;
		info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	}
	return CKR_OK;
}

/* RFC 8017 PSS as the card does it: MGF1 with the hash, salt = hash length. */
static CK_RV
check_pss(const CK_MECHANISM *m, const mech_def *d, size_t *hash_len, cnie_card_hash *h)
{
	const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
	const struct hash_def *hd;
	const cnie_hash_info *hi;

	if (p == NULL || m->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((hd = hash_by_ck(p->hashAlg)) == NULL || (hi = cnie_hash_by_id(hd->h)) == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (d->hash != CNIE_CARD_HASH_NONE && hd->h != d->hash)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p->mgf != hd->mgf || p->sLen != hi->len)
		return CKR_MECHANISM_PARAM_INVALID;
	*hash_len = hi->len;
	*h = hd->h;
	return CKR_OK;
}

CK_RV
p11_sign_init(p11_sign_state *st, const CK_MECHANISM *mech, const cnie_card_key_info *key,
    size_t key_idx)
{
	const mech_def *d;
	const cnie_hash_info *hi;
	CK_RV rv;

	p11_sign_clear(st);
	if ((d = find_mech(mech->mechanism)) == NULL)
		return CKR_MECHANISM_INVALID;
	if (d->key != key->type)
		return CKR_KEY_TYPE_INCONSISTENT;
	st->mech = d->mech;
	st->key = key_idx;
	st->cm.type = d->card;
	st->cm.hash = d->hash;
	st->cm.flags = 0;
	if (d->pss) {
		if ((rv = check_pss(mech, d, &st->pss_hash_len, &st->cm.hash)) != CKR_OK)
			return rv;
	} else if (mech->pParameter != NULL || mech->ulParameterLen != 0) {
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (d->hash != CNIE_CARD_HASH_NONE) {
		hi = cnie_hash_by_id(d->hash);
		if (hi == NULL || (st->md = EVP_get_digestbyname(hi->ossl_name)) == NULL)
			return CKR_GENERAL_ERROR;
		if ((st->mdctx = EVP_MD_CTX_new()) == NULL)
			return CKR_HOST_MEMORY;
		if (!EVP_DigestInit_ex(st->mdctx, st->md, NULL)) {
			p11_sign_clear(st);
			return CKR_GENERAL_ERROR;
		}
	}
	st->always_auth = key->always_pin;
	/*
	 * PSO: COMPUTE DIGITAL SIGNATURE takes a DigestInfo only; INTERNAL
	 * AUTHENTICATE takes any PKCS#1 block and is allowed on the
	 * authentication key (card-profile.md 3).
	 */
	st->internal_auth = d->mech == CKM_RSA_PKCS && !key->always_pin &&
	    (key->usage & CNIE_CARD_USAGE_NON_REPUDIATION) == 0;
	return CKR_OK;
}

CK_RV
p11_sign_update(p11_sign_state *st, const uint8_t *in, size_t n)
{
	st->multi = true;
	if (st->mdctx != NULL)
		return EVP_DigestUpdate(st->mdctx, in, n) ? CKR_OK : CKR_GENERAL_ERROR;
	if (n > sizeof(st->raw) - st->raw_len)
		return CKR_DATA_LEN_RANGE;
	if (n > 0)
		memcpy(st->raw + st->raw_len, in, n);
	st->raw_len += n;
	return CKR_OK;
}

size_t
p11_sign_max_len(const p11_sign_state *st, const cnie_card_key_info *key)
{
	size_t k = (key->bits + 7) / 8;

	return st->cm.type == CNIE_CARD_MECH_ECDSA ? 2 * k : k;
}

CK_RV
p11_sign_final(p11_sign_state *st, cnie_card *c, const cnie_card_key_info *key, uint8_t *sig,
    size_t *sig_len, int *cnie_err, int (*resume)(void *), void *arg)
{
	uint8_t hash[EVP_MAX_MD_SIZE];
	const uint8_t *in;
	unsigned int hlen = 0;
	size_t n, k = (key->bits + 7) / 8;
	int r, rr;

	*cnie_err = 0;
	if (st->mdctx != NULL) {
		if (!EVP_DigestFinal_ex(st->mdctx, hash, &hlen))
			return CKR_GENERAL_ERROR;
		in = hash;
		n = hlen;
	} else {
		in = st->raw;
		n = st->raw_len;
		switch (st->mech) {
		case CKM_RSA_PKCS:
			/* RFC 8017 9.2: at least 8 bytes of padding. */
			if (n == 0 || n > k - 11)
				return CKR_DATA_LEN_RANGE;
			break;
		case CKM_RSA_PKCS_PSS:
			if (n != st->pss_hash_len)
				return CKR_DATA_LEN_RANGE;
			break;
		default: /* CKM_ECDSA: the hash */
			if (cnie_hash_by_len(n) == NULL)
				return CKR_DATA_LEN_RANGE;
			break;
		}
	}
	for (int round = 0;; round++) {
		size_t len = *sig_len;

		if (st->internal_auth)
			r = cnie_card_internal_auth(c, key->id, key->id_len, &st->cm, in, n, sig, &len);
		else
			r = cnie_card_sign(c, key->id, key->id_len, &st->cm, in, n, sig, &len);
		if (r == 0)
			*sig_len = len;
		if (r != CNIE_ERR_CARD_RESET || round > 0 || resume == NULL)
			break;
		/* The session cannot come back: its reason (a removal, say) is the outcome. */
		if ((rr = resume(arg)) != 0) {
			if (rr != CNIE_ERR_CARD_RESET)
				r = rr;
			break;
		}
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	*cnie_err = r;
	return p11_ckr(r);
}

void
p11_sign_clear(p11_sign_state *st)
{
	EVP_MD_CTX_free(st->mdctx);
	OPENSSL_cleanse(st, sizeof(*st));
}
