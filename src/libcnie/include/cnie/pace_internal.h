/*
 * Internal (not installed, not exported) helpers of pace.c, shared with
 * libcnie's tests and the reference card (drivers/emu/emu_auth.c) through
 * the cnie_internal target, so terminal and card derive sessions alike.
 */
#ifndef CNIE_PACE_INTERNAL_H
#define CNIE_PACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <eac/eac.h>
#include <eac/pace.h>

#include <cnie/pace.h>
#include <cnie/sm.h>

/* EAC_init() once per process. */
void cnie_pace_lib_init(void);
/* The OpenPACE context of a run (borrowed; NULL after a failure). Tests only. */
EAC_CTX *cnie_pace_eac_ctx(const cnie_pace *p);
int cnie_pace_cipher_of(const KA_CTX *ka, cnie_sm_cipher *out);
int cnie_pace_session_of(const KA_CTX *ka, cnie_sm **sm);
int cnie_pace_secret_new(cnie_pace_secret type, const char *secret, size_t n, PACE_SEC **out);
/* OID contents (no tag/length) of an OpenPACE protocol NID (borrowed). */
int cnie_pace_oid_of(int nid, const uint8_t **oid, size_t *n);
/* A new BUF_MEM holding a copy of p[0..n). */
BUF_MEM *cnie_pace_bufmem(const uint8_t *p, size_t n);
/* The value of DO tag inside a 7C answer, as a new BUF_MEM. */
int cnie_pace_ga_get(const uint8_t *resp, size_t n, uint32_t tag, BUF_MEM **out);

/* NID of id-PACE-ECDH-CAM-<cipher> (registered once), NID_undef for 3DES. */
int cnie_pace_cam_nid(cnie_sm_cipher c);
/*
 * Initialises ctx for info (one of infos) as both sides run it: CAM as
 * OpenPACE's generic mapping with the CAM OID in the tokens.  Errors:
 * CNIE_ERR_UNSUPPORTED when OpenPACE refuses the info.
 */
int cnie_pace_ctx_init(EAC_CTX *ctx, const cnie_pace_infos *infos, const cnie_pace_info *info);
/*
 * AES-CBC over whole blocks with IV = E(KSenc, -1), the cipher of the
 * chip authentication data (9303-11 4.4.3.5); enc 1 encrypts, 0 decrypts.
 */
int cnie_pace_cam_crypt(cnie_sm_cipher c, const uint8_t *ksenc, size_t klen, int enc,
    const uint8_t *in, size_t n, uint8_t *out);
/*
 * CA_IC from A_IC (DO'8A'): decrypted, ISO/IEC 9797-1 method 2 padding
 * removed.  *out_len: out's size in, CA_IC's length out.  Errors:
 * CNIE_ERR_BAD_RESPONSE for a length that is not whole blocks or too long
 * and for bad padding, CNIE_ERR_BUFFER_TOO_SMALL, CNIE_ERR_INVALID_ARG.
 */
int cnie_pace_cam_decrypt(cnie_sm_cipher c, const uint8_t *ksenc, size_t klen,
    const uint8_t *a, size_t a_len, uint8_t *out, size_t *out_len);
/*
 * Checks PK_Map,IC = CA_IC * PK_IC (9303-11 4.4.3.5, ECDH): 0 when it
 * holds, CNIE_ERR_VERIFY_FAILED when not, CNIE_ERR_BAD_RESPONSE for a
 * mapping key off the curve or CA_IC not in [1, n-1], CNIE_ERR_UNSUPPORTED
 * for a key that is not EC, CNIE_ERR_ENCODING for an unusable EC key.
 */
int cnie_pace_cam_verify(EVP_PKEY *pk_ic, const uint8_t *pk_map, size_t pk_map_len,
    const uint8_t *ca, size_t ca_len);

/*
 * Integrated mapping (src/libcnie/pace_im.c, 9303-11 4.4.3.3.2).
 * R_p(s, t) into x with the block cipher e (3DES two-key, AES-128/192/256
 * in CBC): s of cnie_pace_im_nonce_len(e) bytes (16 for 3DES and AES-128,
 * 32 for AES-192/256), t of e's key length, else CNIE_ERR_UNSUPPORTED.
 * cnie_pace_im_prf is the AES-128 case.
 */
int cnie_pace_im_prf_ex(const EVP_CIPHER *e, const uint8_t *s, size_t s_len, const uint8_t *t,
    size_t t_len, const BIGNUM *p, BIGNUM *x);
int cnie_pace_im_prf(const uint8_t *s, size_t s_len, const uint8_t *t, size_t t_len,
    const BIGNUM *p, BIGNUM *x);
/* The nonce length l / 8 integrated mapping needs with e (0 for NULL). */
size_t cnie_pace_im_nonce_len(const EVP_CIPHER *e);
/* The point encoding of 9303-11 Appendix B (p = 3 mod 4) into out. */
int cnie_pace_im_point(const EC_GROUP *g, const BIGNUM *t, EC_POINT *out);
/*
 * Maps ctx's decrypted nonce with the terminal's nonce t and installs the
 * ephemeral generator in ctx's key-agreement key, for either side; then
 * the run goes on with PACE_STEP3B_generate_ephemeral_key.
 */
int cnie_pace_im_map(EAC_CTX *ctx, const uint8_t *t, size_t t_len);

#endif
