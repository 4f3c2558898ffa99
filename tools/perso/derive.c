/*
 * Deterministic keys and serial numbers: a test card made twice from one
 * seed has the same keys, so tests and fixtures can rely on them.  These
 * keys are TEST KEYS: anyone who knows the seed (it is in the repository)
 * knows the key.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cnie/error.h>

#include "perso.h"

#define DOMAIN "cnie-perso/1"

static void
put_u32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
perso_stream(const char *seed, const char *label, uint8_t *out, size_t out_len)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t l[4];
	int r = CNIE_ERR_CRYPTO;

	if (seed == NULL || label == NULL || out == NULL || out_len == 0)
		return CNIE_ERR_INVALID_ARG;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, DOMAIN, strlen(DOMAIN)) != 1)
		goto out;
	put_u32(l, strlen(seed));
	if (EVP_DigestUpdate(ctx, l, 4) != 1 ||
	    EVP_DigestUpdate(ctx, seed, strlen(seed)) != 1)
		goto out;
	put_u32(l, strlen(label));
	if (EVP_DigestUpdate(ctx, l, 4) != 1 ||
	    EVP_DigestUpdate(ctx, label, strlen(label)) != 1 ||
	    EVP_DigestFinalXOF(ctx, out, out_len) != 1)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
perso_ec_key(const char *seed, const char *label, int nid, EVP_PKEY **out)
{
	EC_GROUP *group = NULL;
	EC_POINT *pub = NULL;
	BIGNUM *k = NULL, *nm1 = NULL;
	BN_CTX *bnctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t buf[64 + 16], pubbuf[133];
	size_t nbytes, publen;
	const char *curve;
	int r = CNIE_ERR_CRYPTO;

	*out = NULL;
	if ((curve = OBJ_nid2sn(nid)) == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((group = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (bnctx = BN_CTX_new()) == NULL || (k = BN_secure_new()) == NULL ||
	    (nm1 = BN_new()) == NULL)
		goto out;
	/* 8 bytes more than the order: the bias of the reduction is < 2^-64. */
	nbytes = (size_t)(EC_GROUP_order_bits(group) + 7) / 8 + 8;
	if (nbytes > sizeof(buf)) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	if ((r = perso_stream(seed, label, buf, nbytes)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (BN_bin2bn(buf, (int)nbytes, k) == NULL ||
	    BN_copy(nm1, EC_GROUP_get0_order(group)) == NULL ||
	    !BN_sub_word(nm1, 1) || !BN_mod(k, k, nm1, bnctx) || !BN_add_word(k, 1))
		goto out;
	if ((pub = EC_POINT_new(group)) == NULL ||
	    !EC_POINT_mul(group, pub, k, NULL, NULL, bnctx))
		goto out;
	publen = EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, pubbuf,
	    sizeof(pubbuf), bnctx);
	if (publen == 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubbuf, publen) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, k) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pub);
	BN_clear_free(k);
	BN_free(nm1);
	BN_CTX_free(bnctx);
	EC_GROUP_free(group);
	return r;
}

/*
 * A prime of bits bits: start from the stream with the two top bits set
 * (so that p*q has exactly 2*bits bits) and the low bit set, then step by
 * two until BN_check_prime accepts and gcd(p-1, e) = 1.
 */
static int
rsa_prime(const char *seed, const char *label, int bits, const BIGNUM *e, BN_CTX *bnctx,
    BIGNUM *p)
{
	uint8_t buf[512];
	size_t nbytes = (size_t)bits / 8;
	BIGNUM *pm1 = NULL, *g = NULL;
	int r = CNIE_ERR_CRYPTO, i, ok;

	if (bits % 8 != 0 || nbytes > sizeof(buf))
		return CNIE_ERR_INVALID_ARG;
	if ((r = perso_stream(seed, label, buf, nbytes)) != 0)
		return r;
	r = CNIE_ERR_CRYPTO;
	buf[0] |= 0xc0;
	buf[nbytes - 1] |= 0x01;
	if ((pm1 = BN_new()) == NULL || (g = BN_new()) == NULL ||
	    BN_bin2bn(buf, (int)nbytes, p) == NULL)
		goto out;
	/* A prime turns up within ~ln(2^bits)/2 odd steps; cap far above. */
	for (i = 0; i < 100000; i++) {
		if ((ok = BN_check_prime(p, bnctx, NULL)) < 0)
			goto out;
		if (ok == 1) {
			if (BN_copy(pm1, p) == NULL || !BN_sub_word(pm1, 1) ||
			    !BN_gcd(g, pm1, e, bnctx))
				goto out;
			if (BN_is_one(g)) {
				r = BN_num_bits(p) == bits ? 0 : CNIE_ERR_INTERNAL;
				goto out;
			}
		}
		if (!BN_add_word(p, 2))
			goto out;
	}
	r = CNIE_ERR_INTERNAL;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	BN_clear_free(pm1);
	BN_free(g);
	return r;
}

int
perso_rsa_key(const char *seed, const char *label, int bits, EVP_PKEY **out)
{
	BN_CTX *bnctx = NULL;
	BIGNUM *e = NULL, *p = NULL, *q = NULL, *n = NULL, *d = NULL, *dp = NULL,
	    *dq = NULL, *qi = NULL, *pm1 = NULL, *qm1 = NULL, *lambda = NULL, *g = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	char lab[128];
	int r = CNIE_ERR_CRYPTO;

	*out = NULL;
	if (bits < 1024 || bits > 4096 || bits % 16 != 0)
		return CNIE_ERR_INVALID_ARG;
	if ((bnctx = BN_CTX_new()) == NULL || (e = BN_new()) == NULL ||
	    (p = BN_secure_new()) == NULL || (q = BN_secure_new()) == NULL ||
	    (n = BN_new()) == NULL || (d = BN_secure_new()) == NULL ||
	    (dp = BN_secure_new()) == NULL || (dq = BN_secure_new()) == NULL ||
	    (qi = BN_secure_new()) == NULL || (pm1 = BN_secure_new()) == NULL ||
	    (qm1 = BN_secure_new()) == NULL || (lambda = BN_secure_new()) == NULL ||
	    (g = BN_secure_new()) == NULL || !BN_set_word(e, RSA_F4))
		goto out;
	snprintf(lab, sizeof(lab), "rsa-%d/%s/p", bits, label);
	if ((r = rsa_prime(seed, lab, bits / 2, e, bnctx, p)) != 0)
		goto out;
	snprintf(lab, sizeof(lab), "rsa-%d/%s/q", bits, label);
	if ((r = rsa_prime(seed, lab, bits / 2, e, bnctx, q)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (BN_cmp(p, q) == 0) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	if (BN_cmp(p, q) < 0)
		BN_swap(p, q); /* CRT convention: qInv = q^-1 mod p with p > q */
	/* d = e^-1 mod lcm(p-1, q-1) (FIPS 186-4 B.3.1), the CRT values from d. */
	if (!BN_mul(n, p, q, bnctx) || BN_num_bits(n) != bits ||
	    BN_copy(pm1, p) == NULL || !BN_sub_word(pm1, 1) ||
	    BN_copy(qm1, q) == NULL || !BN_sub_word(qm1, 1) ||
	    !BN_gcd(g, pm1, qm1, bnctx) || !BN_mul(lambda, pm1, qm1, bnctx) ||
	    !BN_div(lambda, NULL, lambda, g, bnctx) ||
	    BN_mod_inverse(d, e, lambda, bnctx) == NULL ||
	    !BN_mod(dp, d, pm1, bnctx) || !BN_mod(dq, d, qm1, bnctx) ||
	    BN_mod_inverse(qi, q, p, bnctx) == NULL)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params) /* secure memory: cleared on free */;
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_free(n);
	BN_clear_free(d);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(qi);
	BN_clear_free(pm1);
	BN_clear_free(qm1);
	BN_clear_free(lambda);
	BN_clear_free(g);
	BN_CTX_free(bnctx);
	return r;
}

int
perso_serial(const char *seed, const char *label, ASN1_INTEGER **out)
{
	uint8_t buf[16];
	BIGNUM *bn = NULL;
	char lab[128];
	int r;

	*out = NULL;
	snprintf(lab, sizeof(lab), "serial/%s", label);
	if ((r = perso_stream(seed, lab, buf, sizeof(buf))) != 0)
		return r;
	/* RFC 5280 4.1.2.2: positive, at most 20 octets; never zero. */
	buf[0] = (uint8_t)((buf[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL ||
	    (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		r = CNIE_ERR_CRYPTO;
	BN_free(bn);
	return r;
}

int
perso_dh_key(const char *seed, const char *label, EVP_PKEY **out)
{
	/*
	 * The 1024-bit MODP group with 160-bit prime order subgroup (RFC 5114
	 * 2.1): the standardized domain parameters 0 of PACE and Chip
	 * Authentication (BSI TR-03110-3 A.2.1.1), as an X9.42 (DHX) key.
	 */
	static const char group[] = "dh_1024_160";
	OSSL_PARAM gp[2];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *dom = NULL;
	BIGNUM *p = NULL, *q = NULL, *g = NULL, *x = NULL, *y = NULL, *qm1 = NULL;
	BN_CTX *bnctx = NULL;
	uint8_t buf[20 + 8];
	int r = CNIE_ERR_CRYPTO;

	*out = NULL;
	gp[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)group,
	    0);
	gp[1] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DHX", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &dom, EVP_PKEY_KEY_PARAMETERS, gp) != 1 ||
	    EVP_PKEY_get_bn_param(dom, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    EVP_PKEY_get_bn_param(dom, OSSL_PKEY_PARAM_FFC_Q, &q) != 1 ||
	    EVP_PKEY_get_bn_param(dom, OSSL_PKEY_PARAM_FFC_G, &g) != 1)
		goto out;
	/* x in [1, q - 1] from the seed, 8 bytes more than q (bias < 2^-64). */
	if ((r = perso_stream(seed, label, buf, sizeof(buf))) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if ((bnctx = BN_CTX_new()) == NULL || (x = BN_secure_new()) == NULL ||
	    (y = BN_new()) == NULL || (qm1 = BN_dup(q)) == NULL ||
	    BN_bin2bn(buf, (int)sizeof(buf), x) == NULL || !BN_sub_word(qm1, 1) ||
	    !BN_mod(x, x, qm1, bnctx) || !BN_add_word(x, 1) ||
	    !BN_mod_exp(y, g, x, p, bnctx))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(dom);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(q);
	BN_free(g);
	BN_clear_free(x);
	BN_free(y);
	BN_free(qm1);
	BN_CTX_free(bnctx);
	return r;
}
