/*
 * Secure messaging, ICAO 9303-11 clause 9.8 and ISO/IEC 7816-4 clause 10.
 *
 * 3DES (BAC, PACE-3DES): 2-key 3DES in CBC mode with a zero IV, MAC = ISO/IEC
 * 9797-1 MAC algorithm 3 with DES (the "retail MAC"), 8-byte SSC.
 * AES (PACE, Chip Authentication): CBC with IV = E(KSenc, SSC), MAC = CMAC
 * truncated to 8 bytes, 16-byte SSC (9303-11 9.8.6.2).
 * In both cases the SSC is incremented before each command and each response,
 * and the MAC input is SSC || data padded with ISO/IEC 9797-1 method 2.
 *
 * OpenSSL 3 keeps single DES in the legacy provider, which we do not want to
 * load: single DES with key K is computed as DES-EDE with K||K (E-D-E with the
 * same key is one encryption), which the default provider has.
 *
 * Everything received (protected responses on the terminal, protected
 * commands on the card) is parsed with cnie_cur/cnie_tlv, and the MAC is
 * checked in constant time before anything is decrypted.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/sm.h>
#include <cnie/tlv.h>

#include "sm_internal.h"

#define SM_MAC_LEN 8
#define SM_MAX_KEY 32
#define SM_MAX_BLOCK 16

/* SM data object tags (ISO/IEC 7816-4 table 48, 9303-11 9.8). */
#define DO_CRYPTO_ODD 0x85 /* cryptogram, odd INS (no padding indicator) */
#define DO_CRYPTO 0x87	   /* padding-content indicator 01 || cryptogram */
#define DO_LE 0x97
#define DO_SW 0x99
#define DO_MAC 0x8E

struct cnie_sm {
	cnie_sm_cipher cipher;
	size_t key_len;
	size_t block; /* cipher block = SSC length: 8 or 16 */
	uint8_t kenc[SM_MAX_KEY];
	uint8_t kmac[SM_MAX_KEY];
	uint8_t ssc[SM_MAX_BLOCK];
};

size_t
cnie_sm_key_len(cnie_sm_cipher cipher)
{
	switch (cipher) {
	case CNIE_SM_3DES:
	case CNIE_SM_AES128:
		return 16;
	case CNIE_SM_AES192:
		return 24;
	case CNIE_SM_AES256:
		return 32;
	}
	return 0;
}

static size_t
block_len(cnie_sm_cipher cipher)
{
	return cipher == CNIE_SM_3DES ? 8 : 16;
}

/* ---- primitives ----------------------------------------------------- */

static const EVP_CIPHER *
aes_cipher(size_t key_len, int cbc)
{
	switch (key_len) {
	case 16:
		return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
	case 24:
		return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
	case 32:
		return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
	}
	return NULL;
}

/* Runs a cipher without padding over in[0..n) (n a multiple of the block). */
static int
run_cipher(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv, int enc,
    const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, fin = 0, r = CNIE_ERR_CRYPTO;

	if (c == NULL || n > INT32_MAX)
		return CNIE_ERR_INTERNAL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + outl, &fin) != 1 || (size_t)outl + (size_t)fin != n)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/*
 * ISO/IEC 9797-1 MAC algorithm 3 with DES, output 8 bytes (9303-11 9.8.6.1):
 * CBC-MAC with K1 over all blocks, then the last block is decrypted with K2
 * and encrypted with K1 again.  Blocks 1..q-1 use DES(K1) = DES-EDE(K1||K1);
 * the last one is E_K1(D_K2(E_K1(x_q ^ H))) = DES-EDE(K1||K2)(x_q ^ H).
 */
int
cnie_sm_retail_mac(const uint8_t key[16], const uint8_t *m, size_t n, uint8_t mac[8])
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t k11[16], h[8], x[8];
	size_t i, j;
	int outl, r = CNIE_ERR_CRYPTO;

	if (n == 0 || n % 8 != 0)
		return CNIE_ERR_INTERNAL;
	memcpy(k11, key, 8);
	memcpy(k11 + 8, key, 8);
	memset(h, 0, sizeof(h));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (EVP_EncryptInit_ex(ctx, EVP_des_ede_ecb(), NULL, k11, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		goto out;
	for (i = 0; i + 8 < n; i += 8) {
		for (j = 0; j < 8; j++)
			x[j] = (uint8_t)(m[i + j] ^ h[j]);
		if (EVP_EncryptUpdate(ctx, h, &outl, x, 8) != 1 || outl != 8)
			goto out;
	}
	for (j = 0; j < 8; j++)
		x[j] = (uint8_t)(m[i + j] ^ h[j]);
	if ((r = run_cipher(EVP_des_ede_ecb(), key, NULL, 1, x, 8, mac)) != 0)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	cnie_wipe(k11, sizeof(k11));
	cnie_wipe(h, sizeof(h));
	cnie_wipe(x, sizeof(x));
	return r;
}

/* AES-CMAC (NIST SP 800-38B) truncated to 8 bytes (9303-11 9.8.6.2). */
static int
aes_cmac(const uint8_t *key, size_t key_len, const uint8_t *m, size_t n, uint8_t mac[8])
{
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	uint8_t full[16];
	size_t outl = 0;
	const char *name;
	int r = CNIE_ERR_CRYPTO;

	name = key_len == 16 ? "AES-128-CBC" : key_len == 24 ? "AES-192-CBC" : "AES-256-CBC";
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)(uintptr_t)name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((alg = EVP_MAC_fetch(NULL, "CMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(alg)) == NULL)
		goto out;
	if (EVP_MAC_init(ctx, key, key_len, params) != 1 || EVP_MAC_update(ctx, m, n) != 1 ||
	    EVP_MAC_final(ctx, full, &outl, sizeof(full)) != 1 || outl != sizeof(full))
		goto out;
	memcpy(mac, full, SM_MAC_LEN);
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	cnie_wipe(full, sizeof(full));
	return r;
}

int
cnie_sm_3des_cbc(const uint8_t key[16], int enc, const uint8_t *in, size_t n, uint8_t *out)
{
	static const uint8_t zero[8];

	if (key == NULL || (in == NULL && n > 0) || out == NULL || n % 8 != 0)
		return CNIE_ERR_INVALID_ARG;
	return run_cipher(EVP_des_ede_cbc(), key, zero, enc, in, n, out);
}

/* MAC over m (already padded: SSC || data || 80 00..). */
static int
sm_mac(const cnie_sm *sm, const uint8_t *m, size_t n, uint8_t mac[SM_MAC_LEN])
{
	if (sm->cipher == CNIE_SM_3DES)
		return cnie_sm_retail_mac(sm->kmac, m, n, mac);
	return aes_cmac(sm->kmac, sm->key_len, m, n, mac);
}

/* IV: zero for 3DES (9303-11 9.8.6.1), E(KSenc, SSC) for AES (9.8.6.2). */
static int
sm_iv(const cnie_sm *sm, uint8_t iv[SM_MAX_BLOCK])
{
	memset(iv, 0, SM_MAX_BLOCK);
	if (sm->cipher == CNIE_SM_3DES)
		return 0;
	return run_cipher(aes_cipher(sm->key_len, 0), sm->kenc, NULL, 1, sm->ssc, 16, iv);
}

static int
sm_crypt(const cnie_sm *sm, int enc, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t iv[SM_MAX_BLOCK];
	const EVP_CIPHER *c;
	int r;

	c = sm->cipher == CNIE_SM_3DES ? EVP_des_ede_cbc() : aes_cipher(sm->key_len, 1);
	if ((r = sm_iv(sm, iv)) == 0)
		r = run_cipher(c, sm->kenc, iv, enc, in, n, out);
	cnie_wipe(iv, sizeof(iv));
	return r;
}

static void
ssc_inc(cnie_sm *sm)
{
	size_t i = sm->block;

	while (i > 0) {
		i--;
		if (++sm->ssc[i] != 0)
			break;
	}
}

/* ISO/IEC 9797-1 padding method 2: 80 then zeros up to the block size. */
static int
pad(cnie_buf *b, size_t block)
{
	int r;

	if ((r = cnie_buf_put_u8(b, 0x80)) != 0)
		return r;
	while (cnie_buf_len(b) % block != 0)
		if ((r = cnie_buf_put_u8(b, 0x00)) != 0)
			return r;
	return 0;
}

/* Length of p[0..n) without its method-2 padding (in the last block), or -1. */
static long
unpad_len(const uint8_t *p, size_t n, size_t block)
{
	size_t i = n;

	while (i > 0 && n - i < block) {
		i--;
		if (p[i] == 0x80)
			return (long)i;
		if (p[i] != 0x00)
			return -1;
	}
	return -1;
}

/* Pads, encrypts and appends plain[0..n) to out. */
static int
encrypt_append(const cnie_sm *sm, const uint8_t *plain, size_t n, cnie_buf *out)
{
	cnie_buf *tmp = NULL;
	uint8_t *dst;
	int r;

	if ((tmp = cnie_buf_from(plain, n)) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = pad(tmp, sm->block)) != 0 ||
	    (r = cnie_buf_reserve(out, cnie_buf_len(tmp), &dst)) != 0)
		goto out;
	r = sm_crypt(sm, 1, cnie_buf_ptr(tmp), cnie_buf_len(tmp), dst);
out:
	cnie_buf_free(&tmp);
	return r;
}

/*
 * Decrypts a cryptogram and appends the unpadded plain text to out.
 * CNIE_ERR_ENCODING on a bad length or padding.
 */
static int
decrypt_append(const cnie_sm *sm, const uint8_t *ct, size_t n, cnie_buf *out)
{
	uint8_t *plain = NULL;
	long len;
	int r;

	if (n == 0 || n % sm->block != 0)
		return CNIE_ERR_ENCODING;
	if ((plain = malloc(n)) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = sm_crypt(sm, 0, ct, n, plain)) != 0)
		goto out;
	if ((len = unpad_len(plain, n, sm->block)) < 0) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	r = cnie_buf_put(out, plain, (size_t)len);
out:
	cnie_freezero(plain, n);
	return r;
}

/* Computes the MAC over SSC || [pad(header)] || objects, padded. */
static int
mac_input_mac(const cnie_sm *sm, const uint8_t *hdr, size_t hdr_len, const uint8_t *objs,
    size_t objs_len, uint8_t mac[SM_MAC_LEN])
{
	cnie_buf *m = NULL;
	int r;

	if ((m = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_buf_put(m, sm->ssc, sm->block)) != 0)
		goto out;
	if (hdr != NULL) {
		if ((r = cnie_buf_put(m, hdr, hdr_len)) != 0 || (r = pad(m, sm->block)) != 0)
			goto out;
	}
	/* No padding when there is nothing after the header (9303-11 9.8.5). */
	if (objs_len > 0) {
		if ((r = cnie_buf_put(m, objs, objs_len)) != 0 || (r = pad(m, sm->block)) != 0)
			goto out;
	}
	r = sm_mac(sm, cnie_buf_ptr(m), cnie_buf_len(m), mac);
out:
	cnie_buf_free(&m);
	return r;
}

/* ---- session -------------------------------------------------------- */

int
cnie_sm_kdf(cnie_sm_cipher cipher, const uint8_t *secret, size_t n, uint32_t counter,
    uint8_t *out, size_t out_len)
{
	EVP_MD_CTX *md = NULL;
	uint8_t c[4], h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	size_t i, key_len = cnie_sm_key_len(cipher);
	int r = CNIE_ERR_CRYPTO;

	if ((secret == NULL && n > 0) || out == NULL || key_len == 0 || out_len != key_len)
		return CNIE_ERR_INVALID_ARG;
	c[0] = (uint8_t)(counter >> 24);
	c[1] = (uint8_t)(counter >> 16);
	c[2] = (uint8_t)(counter >> 8);
	c[3] = (uint8_t)counter;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, key_len <= 16 ? EVP_sha1() : EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, secret, n) != 1 || EVP_DigestUpdate(md, c, sizeof(c)) != 1 ||
	    EVP_DigestFinal_ex(md, h, &hl) != 1 || hl < key_len)
		goto out;
	memcpy(out, h, key_len);
	if (cipher == CNIE_SM_3DES) {
		/* DES keys have odd parity in the low bit of each byte (FIPS 46-3). */
		for (i = 0; i < key_len; i++) {
			uint8_t v = out[i] & 0xFE, p = 1;
			unsigned b;

			for (b = 1; b < 8; b++)
				p ^= (uint8_t)((v >> b) & 1);
			out[i] = (uint8_t)(v | p);
		}
	}
	r = 0;
out:
	EVP_MD_CTX_free(md);
	cnie_wipe(h, sizeof(h));
	return r;
}

int
cnie_sm_new(cnie_sm_cipher cipher, const uint8_t *kenc, const uint8_t *kmac, size_t key_len,
    const uint8_t *ssc, size_t ssc_len, cnie_sm **out)
{
	cnie_sm *sm;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (kenc == NULL || kmac == NULL || cnie_sm_key_len(cipher) == 0 ||
	    key_len != cnie_sm_key_len(cipher))
		return CNIE_ERR_INVALID_ARG;
	if (ssc != NULL && ssc_len != block_len(cipher))
		return CNIE_ERR_INVALID_ARG;
	if ((sm = calloc(1, sizeof(*sm))) == NULL)
		return CNIE_ERR_NOMEM;
	sm->cipher = cipher;
	sm->key_len = key_len;
	sm->block = block_len(cipher);
	memcpy(sm->kenc, kenc, key_len);
	memcpy(sm->kmac, kmac, key_len);
	if (ssc != NULL)
		memcpy(sm->ssc, ssc, ssc_len);
	*out = sm;
	return 0;
}

void
cnie_sm_free(cnie_sm **sm)
{
	if (sm == NULL || *sm == NULL)
		return;
	cnie_freezero(*sm, sizeof(**sm));
	*sm = NULL;
}

cnie_sm_cipher
cnie_sm_get_cipher(const cnie_sm *sm)
{
	return sm == NULL ? (cnie_sm_cipher)0 : sm->cipher;
}

int
cnie_sm_get_ssc(const cnie_sm *sm, uint8_t *ssc, size_t *n)
{
	if (sm == NULL || ssc == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (*n < sm->block)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(ssc, sm->ssc, sm->block);
	*n = sm->block;
	return 0;
}

int
cnie_sm_set_ssc(cnie_sm *sm, const uint8_t *ssc, size_t n)
{
	if (sm == NULL || ssc == NULL || n != sm->block)
		return CNIE_ERR_INVALID_ARG;
	memcpy(sm->ssc, ssc, n);
	return 0;
}

/* ---- terminal ------------------------------------------------------- */

int
cnie_sm_wrap_command(cnie_sm *sm, const cnie_apdu *plain, cnie_buf *out)
{
	cnie_buf *body = NULL, *enc = NULL;
	cnie_apdu prot;
	uint8_t hdr[4], mac[SM_MAC_LEN], ssc[SM_MAX_BLOCK];
	bool plain_ext, ext;
	int r;

	if (sm == NULL || plain == NULL || out == NULL || (plain->nc > 0 && plain->data == NULL) ||
	    plain->nc > CNIE_APDU_EXT_MAX_NC || plain->ne > CNIE_APDU_EXT_MAX_NE)
		return CNIE_ERR_INVALID_ARG;
	/* An already protected command (CLA bits b4-b3) cannot be wrapped again. */
	if ((plain->cla & 0x0C) != 0)
		return CNIE_ERR_INVALID_ARG;
	plain_ext = plain->nc > CNIE_APDU_SHORT_MAX_NC || plain->ne > CNIE_APDU_SHORT_MAX_NE ||
	    (plain->flags & CNIE_APDU_FORCE_EXTENDED) != 0;

	hdr[0] = (uint8_t)(plain->cla | 0x0C);
	hdr[1] = plain->ins;
	hdr[2] = plain->p1;
	hdr[3] = plain->p2;
	memcpy(ssc, sm->ssc, sizeof(ssc));
	ssc_inc(sm);

	if ((body = cnie_buf_new()) == NULL || (enc = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (plain->nc > 0) {
		/* Odd INS: BER-TLV data, DO 85 without the padding indicator. */
		if ((plain->ins & 1) == 0 && (r = cnie_buf_put_u8(enc, 0x01)) != 0)
			goto out;
		if ((r = encrypt_append(sm, plain->data, plain->nc, enc)) != 0 ||
		    (r = cnie_tlv_put(body, (plain->ins & 1) ? DO_CRYPTO_ODD : DO_CRYPTO,
			 cnie_buf_ptr(enc), cnie_buf_len(enc))) != 0)
			goto out;
	}
	if (plain->ne > 0) {
		uint8_t le[2];
		size_t le_len;

		if (!plain_ext) {
			le[0] = (uint8_t)(plain->ne & 0xFF); /* 256 -> 00 */
			le_len = 1;
		} else {
			le[0] = (uint8_t)((plain->ne >> 8) & 0xFF); /* 65536 -> 0000 */
			le[1] = (uint8_t)(plain->ne & 0xFF);
			le_len = 2;
		}
		if ((r = cnie_tlv_put(body, DO_LE, le, le_len)) != 0)
			goto out;
	}
	if ((r = mac_input_mac(sm, hdr, sizeof(hdr), cnie_buf_ptr(body), cnie_buf_len(body),
		 mac)) != 0 ||
	    (r = cnie_tlv_put(body, DO_MAC, mac, sizeof(mac))) != 0)
		goto out;

	ext = plain_ext || cnie_buf_len(body) > CNIE_APDU_SHORT_MAX_NC;
	cnie_apdu_init(&prot, hdr[0], hdr[1], hdr[2], hdr[3]);
	prot.data = cnie_buf_ptr(body);
	prot.nc = cnie_buf_len(body);
	prot.ne = ext ? CNIE_APDU_EXT_MAX_NE : CNIE_APDU_SHORT_MAX_NE;
	prot.flags = ext ? CNIE_APDU_FORCE_EXTENDED : 0;
	r = cnie_apdu_encode(&prot, ext, out, NULL);
out:
	/* Nothing was sent: the counter goes back to where the card's is. */
	if (r != 0)
		memcpy(sm->ssc, ssc, sizeof(ssc));
	cnie_buf_free(&body);
	cnie_buf_free(&enc);
	cnie_wipe(mac, sizeof(mac));
	return r;
}

/*
 * A response that is only a status word, no SM objects.  ISO/IEC 7816-4
 * (clause 10, secure messaging) lets a card answer an error unprotected,
 * and many eMRTD chips do (6982 for DG3/DG4 without Terminal
 * Authentication, 6A82 for a missing file).  Such a word is not
 * authenticated, so it can only ever be a failure: 9000, 61xx, 62xx
 * and 63xx (success or warnings that may carry data) and anything outside
 * the ISO error classes are refused as secure messaging failures.
 * 6987/6988 are the card saying its own session failed (9303-11 9.8: the
 * chip then aborts secure messaging), 6882 (secure messaging not
 * supported) a card that has no session any more: CNIE_ERR_SM as well.  Any other
 * error word (64xx..6Fxx) is returned as the answer, nothing appended.
 */
static int
plain_status(uint16_t sw)
{
	uint8_t sw1 = (uint8_t)(sw >> 8);

	if (sw == 0x6987 || sw == 0x6988 || sw == 0x6882) {
		cnie_log_debug("plain %04X: the card ended secure messaging", sw);
		return CNIE_ERR_SM;
	}
	if (sw1 < 0x64 || sw1 > 0x6F) {
		cnie_log_debug("plain %04X without SM objects: not an error word, refused", sw);
		return CNIE_ERR_SM;
	}
	cnie_log_debug("plain error %04X without SM objects (ISO 7816-4 10)", sw);
	return 0;
}

int
cnie_sm_unwrap_response(cnie_sm *sm, const uint8_t *resp, size_t n, cnie_buf *out, uint16_t *sw)
{
	cnie_cur c;
	cnie_tlv t, crypto = { 0 }, sw_do = { 0 }, mac_do = { 0 };
	const uint8_t *objs, *p;
	uint8_t mac[SM_MAC_LEN];
	bool have_crypto = false, have_sw = false, have_mac = false;
	size_t dlen, objs_len = 0;
	int r;

	if (sm == NULL || (resp == NULL && n > 0) || out == NULL || sw == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (n < 2)
		return CNIE_ERR_BAD_RESPONSE;
	dlen = n - 2;
	*sw = (uint16_t)((resp[dlen] << 8) | resp[dlen + 1]);
	/* Both ends count every response, even one that fails here. */
	ssc_inc(sm);
	if (dlen == 0)
		return plain_status(*sw);

	/* Expected: [85|87] 99 8E, in this order and nothing else. */
	objs = resp;
	cnie_cur_init(&c, resp, dlen);
	while (cnie_cur_left(&c) > 0) {
		p = cnie_cur_peek(&c);
		if (cnie_tlv_next(&c, &t) != 0)
			return CNIE_ERR_SM;
		if ((t.tag == DO_CRYPTO || t.tag == DO_CRYPTO_ODD) && !have_crypto && !have_sw &&
		    !have_mac) {
			crypto = t;
			have_crypto = true;
		} else if (t.tag == DO_SW && !have_sw && !have_mac) {
			sw_do = t;
			have_sw = true;
		} else if (t.tag == DO_MAC && !have_mac) {
			mac_do = t;
			have_mac = true;
			objs_len = (size_t)(p - objs);
		} else {
			return CNIE_ERR_SM;
		}
	}
	if (!have_sw) {
		/*
		 * The outer SW is not covered by the MAC: 9303-11 9.8 puts DO'99'
		 * in every protected response, so one without it is refused.
		 */
		cnie_log_debug("protected response without DO'99' (ICAO 9303-11 9.8): refused");
		return CNIE_ERR_SM;
	}
	if (!have_mac || mac_do.len != SM_MAC_LEN || sw_do.len != 2)
		return CNIE_ERR_SM;

	if ((r = mac_input_mac(sm, NULL, 0, objs, objs_len, mac)) != 0)
		return r;
	if (cnie_memeq_ct(mac, mac_do.value, SM_MAC_LEN) != 0) {
		cnie_wipe(mac, sizeof(mac));
		cnie_log_debug("response MAC mismatch");
		return CNIE_ERR_SM;
	}
	cnie_wipe(mac, sizeof(mac));

	if (have_crypto) {
		const uint8_t *ct = crypto.value;
		size_t ct_len = crypto.len;

		if (crypto.tag == DO_CRYPTO) {
			if (ct_len < 1 || ct[0] != 0x01)
				return CNIE_ERR_SM;
			ct++;
			ct_len--;
		}
		if ((r = decrypt_append(sm, ct, ct_len, out)) != 0)
			return r == CNIE_ERR_ENCODING ? CNIE_ERR_SM : r;
	}
	*sw = (uint16_t)((sw_do.value[0] << 8) | sw_do.value[1]);
	return 0;
}

/* ---- card ----------------------------------------------------------- */

int
cnie_sm_unwrap_command(cnie_sm *sm, const uint8_t *apdu, size_t n, cnie_buf *out)
{
	cnie_apdu a, plain;
	cnie_cur c;
	cnie_tlv t, crypto = { 0 }, le_do = { 0 };
	cnie_buf *data = NULL;
	const uint8_t *p;
	uint8_t hdr[4], mac[SM_MAC_LEN];
	bool have_crypto = false, have_le = false, have_mac = false;
	size_t objs_len = 0;
	int r;

	if (sm == NULL || (apdu == NULL && n > 0) || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (cnie_apdu_decode(apdu, n, &a, NULL) != 0)
		return CNIE_ERR_SW_SM_INCORRECT;
	/* CLA b4-b3 = 11: SM with the header authenticated (ISO 7816-4 5.4.1). */
	if ((a.cla & 0x0C) != 0x0C || a.nc == 0)
		return CNIE_ERR_SW_SM_MISSING;
	ssc_inc(sm);

	/* Expected: [85|87] [97] 8E, in this order and nothing after. */
	cnie_cur_init(&c, a.data, a.nc);
	while (cnie_cur_left(&c) > 0) {
		p = cnie_cur_peek(&c);
		if (have_mac || cnie_tlv_next(&c, &t) != 0)
			return CNIE_ERR_SW_SM_INCORRECT;
		if ((t.tag == DO_CRYPTO || t.tag == DO_CRYPTO_ODD) && !have_crypto && !have_le) {
			crypto = t;
			have_crypto = true;
		} else if (t.tag == DO_LE && !have_le) {
			le_do = t;
			have_le = true;
		} else if (t.tag == DO_MAC) {
			if (t.len != SM_MAC_LEN)
				return CNIE_ERR_SW_SM_INCORRECT;
			have_mac = true;
			objs_len = (size_t)(p - a.data);
			memcpy(mac, t.value, SM_MAC_LEN);
		} else {
			return CNIE_ERR_SW_SM_INCORRECT;
		}
	}
	if (!have_mac)
		return CNIE_ERR_SW_SM_MISSING;

	/* The MAC first: nothing is decrypted before it is verified. */
	{
		uint8_t want[SM_MAC_LEN];
		int eq;

		hdr[0] = a.cla;
		hdr[1] = a.ins;
		hdr[2] = a.p1;
		hdr[3] = a.p2;
		if ((r = mac_input_mac(sm, hdr, sizeof(hdr), a.data, objs_len, want)) != 0)
			return r;
		eq = cnie_memeq_ct(want, mac, SM_MAC_LEN);
		cnie_wipe(want, sizeof(want));
		if (eq != 0)
			return CNIE_ERR_SW_SM_INCORRECT;
	}

	cnie_apdu_init(&plain, (uint8_t)(a.cla & ~0x0C), a.ins, a.p1, a.p2);
	if (have_le) {
		if (le_do.len == 1) {
			plain.ne = le_do.value[0] == 0 ? 256 : le_do.value[0];
		} else if (le_do.len == 2) {
			plain.ne = ((size_t)le_do.value[0] << 8) | le_do.value[1];
			if (plain.ne == 0)
				plain.ne = 65536;
			plain.flags |= CNIE_APDU_FORCE_EXTENDED;
		} else if (le_do.len != 0) {
			return CNIE_ERR_SW_SM_INCORRECT;
		}
	}
	if ((data = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (have_crypto) {
		const uint8_t *ct = crypto.value;
		size_t ct_len = crypto.len;

		if (crypto.tag == DO_CRYPTO) {
			if (ct_len < 1 || ct[0] != 0x01) {
				r = CNIE_ERR_SW_SM_INCORRECT;
				goto out;
			}
			ct++;
			ct_len--;
		}
		if ((r = decrypt_append(sm, ct, ct_len, data)) != 0) {
			if (r == CNIE_ERR_ENCODING)
				r = CNIE_ERR_SW_SM_INCORRECT;
			goto out;
		}
		if (cnie_buf_len(data) > CNIE_APDU_EXT_MAX_NC) {
			r = CNIE_ERR_SW_SM_INCORRECT;
			goto out;
		}
	}
	plain.data = cnie_buf_len(data) > 0 ? cnie_buf_ptr(data) : NULL;
	plain.nc = cnie_buf_len(data);
	r = cnie_apdu_encode(&plain, true, out, NULL);
out:
	cnie_buf_free(&data);
	cnie_wipe(mac, sizeof(mac));
	return r;
}

int
cnie_sm_wrap_response(cnie_sm *sm, const uint8_t *data, size_t n, uint16_t sw, cnie_buf *out)
{
	cnie_buf *body = NULL, *enc = NULL;
	uint8_t swb[2], mac[SM_MAC_LEN];
	int r;

	if (sm == NULL || (data == NULL && n > 0) || out == NULL || n > CNIE_APDU_EXT_MAX_NE)
		return CNIE_ERR_INVALID_ARG;
	ssc_inc(sm);
	if ((body = cnie_buf_new()) == NULL || (enc = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (n > 0) {
		if ((r = cnie_buf_put_u8(enc, 0x01)) != 0 ||
		    (r = encrypt_append(sm, data, n, enc)) != 0 ||
		    (r = cnie_tlv_put(body, DO_CRYPTO, cnie_buf_ptr(enc), cnie_buf_len(enc))) != 0)
			goto out;
	}
	swb[0] = (uint8_t)(sw >> 8);
	swb[1] = (uint8_t)sw;
	if ((r = cnie_tlv_put(body, DO_SW, swb, sizeof(swb))) != 0 ||
	    (r = mac_input_mac(sm, NULL, 0, cnie_buf_ptr(body), cnie_buf_len(body), mac)) != 0 ||
	    (r = cnie_tlv_put(body, DO_MAC, mac, sizeof(mac))) != 0 ||
	    (r = cnie_buf_put_buf(out, body)) != 0 || (r = cnie_buf_put_u16be(out, 0x9000)) != 0)
		goto out;
out:
	cnie_buf_free(&body);
	cnie_buf_free(&enc);
	cnie_wipe(mac, sizeof(mac));
	return r;
}
