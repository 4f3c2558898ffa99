/*
 * PACE integrated mapping (ICAO 9303-11 4.4.3.3.2), both sides: the
 * pseudo-random function R_p(s, t) and the mapping of its output to the
 * ephemeral generator (ECDH: the point encoding of 9303-11 Appendix B;
 * DH: g~ = x^a mod p, a = (p - 1) / q).
 *
 * Why not OpenPACE: the installed OpenPACE runs integrated mapping only in
 * a TR-03110 v2.01 context, where the mapping is the older one (the
 * encrypted nonce as the field element, Icart's encoding) and the tokens
 * differ; ICAO's R_p is not in it.  The rest of the run (nonce, key
 * agreement, keys, tokens) stays OpenPACE's: the mapped generator is
 * installed in the context's key-agreement key exactly as OpenPACE's own
 * generic mapping does, as a legacy EC_KEY or DH object (the type OpenPACE
 * reads back), hence the deprecated OpenSSL calls of this file.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <eac/eac.h>
#include <eac/pace.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace_internal.h>

/*
 * The constants c0 and c1 of R(s, t) (9303-11 4.4.3.3.2): l = 128 for 3DES
 * and AES-128, checked against the worked example of Appendix H
 * (tests/unit/test_pace.c); l = 256 for AES-192 and AES-256.
 */
static const uint8_t c0_128[16] = { 0xA6, 0x68, 0x89, 0x2A, 0x7C, 0x41, 0xE3, 0xCA, 0x73, 0x9F,
	0x40, 0xB0, 0x57, 0xD8, 0x59, 0x04 };
static const uint8_t c1_128[16] = { 0xA4, 0xE1, 0x36, 0xAC, 0x72, 0x5F, 0x73, 0x8B, 0x01, 0xC1,
	0xF6, 0x02, 0x17, 0xC1, 0x88, 0xAD };
static const uint8_t c0_256[32] = { 0xD4, 0x63, 0xD6, 0x52, 0x34, 0x12, 0x4E, 0xF7, 0x89, 0x70,
	0x54, 0x98, 0x6D, 0xCA, 0x0A, 0x17, 0x4E, 0x28, 0xDF, 0x75, 0x8C, 0xBA, 0xA0, 0x3F, 0x24,
	0x06, 0x16, 0x41, 0x4D, 0x5A, 0x16, 0x76 };
static const uint8_t c1_256[32] = { 0x54, 0xBD, 0x72, 0x55, 0xF0, 0xAA, 0xF8, 0x31, 0xBE, 0xC3,
	0x42, 0x3F, 0xCF, 0x39, 0xD6, 0x9B, 0x6C, 0xBF, 0x06, 0x66, 0x77, 0xD0, 0xFA, 0xAE, 0x5A,
	0xAD, 0xD9, 0x9D, 0xF8, 0xE5, 0x35, 0x17 };

/* E(key, in) with e in CBC, IV 0, no padding; n bytes (whole blocks). */
static int
cbc0(const EVP_CIPHER *e, const uint8_t *key, const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *cx;
	int l1 = 0, l2 = 0, r = CNIE_ERR_CRYPTO;

	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EVP_EncryptInit_ex(cx, e, NULL, key, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_EncryptUpdate(cx, out, &l1, in, (int)n) == 1 &&
	    EVP_EncryptFinal_ex(cx, out + l1, &l2) == 1 && (size_t)(l1 + l2) == n)
		r = 0;
	EVP_CIPHER_CTX_free(cx);
	return r;
}

size_t
cnie_pace_im_nonce_len(const EVP_CIPHER *e)
{
	if (e == NULL)
		return 0;
	/* l = 128 for 3DES (k taken as 128) and AES-128, 256 for AES-192/256. */
	return EVP_CIPHER_get_nid(e) == NID_des_ede_cbc || EVP_CIPHER_get_key_length(e) == 16 ?
	    16 : 32;
}

int
cnie_pace_im_prf_ex(const EVP_CIPHER *e, const uint8_t *s, size_t s_len, const uint8_t *t,
    size_t t_len, const BIGNUM *p, BIGNUM *x)
{
	uint8_t key[32], cur[32], next[32], out[32 * 40];
	const uint8_t *c0, *c1;
	size_t n = 0, need, l, k;
	BN_CTX *bc = NULL;
	int r;

	if (e == NULL || s == NULL || t == NULL || p == NULL || x == NULL)
		return CNIE_ERR_INVALID_ARG;
	/*
	 * s of l bits (the chip's nonce), t of the key size k bits (3DES: two
	 * keys, k taken as 128; 9303-11 4.4.3.3.2 and its note).
	 */
	switch (EVP_CIPHER_get_nid(e)) {
	case NID_des_ede_cbc:
	case NID_aes_128_cbc:
	case NID_aes_192_cbc:
	case NID_aes_256_cbc:
		break;
	default:
		return CNIE_ERR_UNSUPPORTED;
	}
	l = cnie_pace_im_nonce_len(e);
	k = (size_t)EVP_CIPHER_get_key_length(e);
	if (s_len != l || t_len != k || k > sizeof(key) || BN_num_bits(p) < 2 ||
	    BN_num_bits(p) > 4096)
		return CNIE_ERR_UNSUPPORTED;
	c0 = l == 16 ? c0_128 : c0_256;
	c1 = l == 16 ? c1_128 : c1_256;
	/* n: the smallest with n * l >= log2 p + 64. */
	need = ((size_t)BN_num_bits(p) + 64 + 8 * l - 1) / (8 * l);
	if (need * l > sizeof(out))
		return CNIE_ERR_UNSUPPORTED;
	/*
	 * k_0 = E(t, s); then k_i truncated to k (AES-192: octets 1 to 24),
	 * k_{i+1} = E(k_i, c0), x_{i+1} = E(k_i, c1) (Figure 2).
	 */
	if ((r = cbc0(e, t, s, l, cur)) != 0)
		goto out;
	for (n = 0; n < need; n++) {
		memcpy(key, cur, k);
		if ((r = cbc0(e, key, c0, l, next)) != 0 ||
		    (r = cbc0(e, key, c1, l, out + l * n)) != 0)
			goto out;
		memcpy(cur, next, l);
	}
	r = CNIE_ERR_CRYPTO;
	if ((bc = BN_CTX_new()) == NULL || BN_bin2bn(out, (int)(l * need), x) == NULL ||
	    BN_nnmod(x, x, p, bc) != 1)
		goto out;
	r = 0;
out:
	BN_CTX_free(bc);
	cnie_wipe(key, sizeof(key));
	cnie_wipe(cur, sizeof(cur));
	cnie_wipe(next, sizeof(next));
	cnie_wipe(out, sizeof(out));
	return r;
}

int
cnie_pace_im_prf(const uint8_t *s, size_t s_len, const uint8_t *t, size_t t_len,
    const BIGNUM *p, BIGNUM *x)
{
	return cnie_pace_im_prf_ex(EVP_aes_128_cbc(), s, s_len, t, t_len, p, x);
}

/*
 * Point encoding for the ECDH integrated mapping (9303-11 Appendix B,
 * the simplified SWU encoding for p = 3 mod 4), then the cofactor:
 *   alpha = -t^2; X2 = -b (1 + alpha + alpha^2) / (a (alpha + alpha^2));
 *   X3 = alpha X2; h2 = X2^3 + a X2 + b; U = t^3 h2;
 *   A = h2^(p - 1 - (p + 1) / 4);
 *   A^2 h2 = 1 ? (X2, A h2) : (X3, A U).
 */
int
cnie_pace_im_point(const EC_GROUP *g, const BIGNUM *t, EC_POINT *out)
{
	BN_CTX *bc = NULL;
	BIGNUM *p, *a, *b, *al, *al2, *x2, *x3, *h2, *u, *e, *aa, *tmp, *num, *den;
	const BIGNUM *cof;
	int r = CNIE_ERR_NOMEM;

	if (g == NULL || t == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((bc = BN_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	BN_CTX_start(bc);
	p = BN_CTX_get(bc);
	a = BN_CTX_get(bc);
	b = BN_CTX_get(bc);
	al = BN_CTX_get(bc);
	al2 = BN_CTX_get(bc);
	x2 = BN_CTX_get(bc);
	x3 = BN_CTX_get(bc);
	h2 = BN_CTX_get(bc);
	u = BN_CTX_get(bc);
	e = BN_CTX_get(bc);
	aa = BN_CTX_get(bc);
	tmp = BN_CTX_get(bc);
	num = BN_CTX_get(bc);
	if ((den = BN_CTX_get(bc)) == NULL)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (EC_GROUP_get_curve(g, p, a, b, bc) != 1)
		goto out;
	/* Only for p = 3 mod 4 (every standardized curve but secp224r1). */
	if (!BN_is_bit_set(p, 0) || !BN_is_bit_set(p, 1)) {
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if (BN_mod_sqr(al, t, p, bc) != 1 || BN_mod_sub(al, p, al, p, bc) != 1 || /* -t^2 */
	    BN_mod_sqr(al2, al, p, bc) != 1 ||
	    BN_mod_add(tmp, al, al2, p, bc) != 1 ||		    /* alpha + alpha^2 */
	    BN_mod_mul(den, a, tmp, p, bc) != 1 || BN_is_zero(den) ||
	    BN_mod_inverse(den, den, p, bc) == NULL ||
	    BN_mod_add(num, tmp, BN_value_one(), p, bc) != 1 ||   /* 1 + alpha + alpha^2 */
	    BN_mod_mul(num, num, b, p, bc) != 1 || BN_mod_sub(num, p, num, p, bc) != 1 ||
	    BN_mod_mul(x2, num, den, p, bc) != 1 ||
	    BN_mod_mul(x3, al, x2, p, bc) != 1 ||
	    /* h2 = X2^3 + a X2 + b */
	    BN_mod_sqr(tmp, x2, p, bc) != 1 || BN_mod_add(tmp, tmp, a, p, bc) != 1 ||
	    BN_mod_mul(tmp, tmp, x2, p, bc) != 1 || BN_mod_add(h2, tmp, b, p, bc) != 1 ||
	    /* U = t^3 h2 */
	    BN_mod_sqr(tmp, t, p, bc) != 1 || BN_mod_mul(tmp, tmp, t, p, bc) != 1 ||
	    BN_mod_mul(u, tmp, h2, p, bc) != 1 ||
	    /* e = p - 1 - (p + 1) / 4 */
	    BN_copy(e, p) == NULL || BN_add_word(e, 1) != 1 || BN_rshift(e, e, 2) != 1 ||
	    BN_sub(e, p, e) != 1 || BN_sub_word(e, 1) != 1 ||
	    BN_mod_exp(aa, h2, e, p, bc) != 1 ||
	    BN_mod_sqr(tmp, aa, p, bc) != 1 || BN_mod_mul(tmp, tmp, h2, p, bc) != 1)
		goto out;
	if (BN_is_one(tmp)) {
		if (BN_mod_mul(tmp, aa, h2, p, bc) != 1 ||
		    EC_POINT_set_affine_coordinates(g, out, x2, tmp, bc) != 1)
			goto out;
	} else if (BN_mod_mul(tmp, aa, u, p, bc) != 1 ||
	    EC_POINT_set_affine_coordinates(g, out, x3, tmp, bc) != 1) {
		goto out;
	}
	if ((cof = EC_GROUP_get0_cofactor(g)) != NULL && !BN_is_one(cof) &&
	    EC_POINT_mul(g, out, NULL, out, cof, bc) != 1)
		goto out;
	if (EC_POINT_is_at_infinity(g, out) == 1 || EC_POINT_is_on_curve(g, out, bc) != 1)
		goto out;
	r = 0;
out:
	BN_CTX_end(bc);
	BN_CTX_free(bc);
	ERR_clear_error();
	return r;
}

/* ECDH: the static parameters with the generator f_G(R_p(s, t)). */
static int
im_map_ec(EAC_CTX *ctx, const BUF_MEM *s, const uint8_t *t, size_t t_len)
{
	EC_KEY *st = NULL, *eph = NULL;
	EC_GROUP *g = NULL;
	EC_POINT *gen = NULL;
	BIGNUM *p = NULL, *x = NULL;
	int r = CNIE_ERR_CRYPTO;

	if ((st = EVP_PKEY_get1_EC_KEY(ctx->pace_ctx->static_key)) == NULL ||
	    (g = EC_GROUP_dup(EC_KEY_get0_group(st))) == NULL || (p = BN_new()) == NULL ||
	    (x = BN_new()) == NULL || (gen = EC_POINT_new(g)) == NULL ||
	    EC_GROUP_get_curve(g, p, NULL, NULL, NULL) != 1)
		goto out;
	if ((r = cnie_pace_im_prf_ex(ctx->pace_ctx->ka_ctx->cipher, (const uint8_t *)s->data,
		 s->length, t, t_len, p, x)) != 0 ||
	    (r = cnie_pace_im_point(g, x, gen)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (EC_GROUP_set_generator(g, gen, EC_GROUP_get0_order(g),
		EC_GROUP_get0_cofactor(g)) != 1 || (eph = EC_KEY_dup(st)) == NULL ||
	    EC_KEY_set_group(eph, g) != 1 || EVP_PKEY_set1_EC_KEY(ctx->pace_ctx->ka_ctx->key,
		eph) != 1)
		goto out;
	r = 0;
out:
	EC_KEY_free(st);
	EC_KEY_free(eph);
	EC_POINT_clear_free(gen);
	EC_GROUP_free(g);
	BN_free(p);
	BN_clear_free(x);
	return r;
}

/* DH: g~ = R_p(s, t)^a mod p, a = (p - 1) / q, refused when 1. */
static int
im_map_dh(EAC_CTX *ctx, const BUF_MEM *s, const uint8_t *t, size_t t_len)
{
	DH *st = NULL, *eph = NULL;
	const BIGNUM *p, *q;
	BIGNUM *x = NULL, *a = NULL, *gt = NULL, *qd = NULL;
	BN_CTX *bc = NULL;
	int r = CNIE_ERR_CRYPTO;

	if ((st = EVP_PKEY_get1_DH(ctx->pace_ctx->static_key)) == NULL)
		goto out;
	DH_get0_pqg(st, &p, &q, NULL);
	if (p == NULL || q == NULL || (bc = BN_CTX_new()) == NULL || (x = BN_new()) == NULL ||
	    (a = BN_new()) == NULL || (gt = BN_new()) == NULL)
		goto out;
	if ((r = cnie_pace_im_prf_ex(ctx->pace_ctx->ka_ctx->cipher, (const uint8_t *)s->data,
		 s->length, t, t_len, p, x)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (BN_sub(a, p, BN_value_one()) != 1 || BN_div(a, NULL, a, q, bc) != 1 ||
	    BN_mod_exp(gt, x, a, p, bc) != 1 || BN_is_one(gt) || BN_is_zero(gt) ||
	    (eph = DHparams_dup(st)) == NULL || (qd = BN_dup(q)) == NULL ||
	    DH_set0_pqg(eph, NULL, qd, gt) != 1)
		goto out;
	qd = gt = NULL; /* owned by eph */
	if (EVP_PKEY_set1_DH(ctx->pace_ctx->ka_ctx->key, eph) != 1)
		goto out;
	r = 0;
out:
	DH_free(st);
	DH_free(eph);
	BN_clear_free(x);
	BN_free(a);
	BN_free(gt);
	BN_free(qd);
	BN_CTX_free(bc);
	return r;
}

int
cnie_pace_im_map(EAC_CTX *ctx, const uint8_t *t, size_t t_len)
{
	int r;

	if (ctx == NULL || ctx->pace_ctx == NULL || ctx->pace_ctx->ka_ctx == NULL ||
	    ctx->pace_ctx->static_key == NULL || ctx->pace_ctx->nonce == NULL || t == NULL)
		return CNIE_ERR_INVALID_ARG;
	switch (EVP_PKEY_get_base_id(ctx->pace_ctx->static_key)) {
	case EVP_PKEY_EC:
		r = im_map_ec(ctx, ctx->pace_ctx->nonce, t, t_len);
		break;
	case EVP_PKEY_DH:
	case EVP_PKEY_DHX:
		r = im_map_dh(ctx, ctx->pace_ctx->nonce, t, t_len);
		break;
	default:
		r = CNIE_ERR_UNSUPPORTED;
		break;
	}
	ERR_clear_error();
	return r;
}
