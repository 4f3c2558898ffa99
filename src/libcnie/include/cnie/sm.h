/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * Secure messaging (ICAO 9303-11 clause 9.8, ISO 7816-4 clause 10):
 * 3DES (BAC; ISO 9797-1 MAC algorithm 3) and AES (PACE/CA; CMAC), send
 * sequence counter, objects 85/87 (encrypted data), 97 (Le), 99 (status),
 * 8E (MAC).  One session object serves both ends: the terminal wraps
 * commands and unwraps responses, the card (the emulator) unwraps commands
 * and wraps responses.  Any MAC or format failure is an error; the caller
 * must then drop the session (an SM error is fatal to it).
 */
#ifndef CNIE_SM_H
#define CNIE_SM_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnie_sm_cipher {
	CNIE_SM_3DES = 1,   /* 2-key 3DES CBC, retail MAC, 8-byte SSC */
	CNIE_SM_AES128 = 2, /* AES CBC (IV = E(K, SSC)), CMAC truncated to 8, 16-byte SSC */
	CNIE_SM_AES192 = 3,
	CNIE_SM_AES256 = 4,
} cnie_sm_cipher;

typedef struct cnie_sm cnie_sm;

/*
 * New session with the given keys (16 bytes for 3DES and AES-128, 24, 32)
 * and initial SSC (8 bytes for 3DES, 16 for AES; NULL = zero).  Keys are
 * copied and wiped on free.
 */
int cnie_sm_new(cnie_sm_cipher cipher, const uint8_t *kenc, const uint8_t *kmac,
    size_t key_len, const uint8_t *ssc, size_t ssc_len, cnie_sm **out);
void cnie_sm_free(cnie_sm **sm);
cnie_sm_cipher cnie_sm_get_cipher(const cnie_sm *sm);
/* Current SSC (for tests); *n in/out (8 for 3DES, 16 for AES). */
int cnie_sm_get_ssc(const cnie_sm *sm, uint8_t *ssc, size_t *n);

/*
 * Key derivation function of ICAO 9303-11 clause 9.7.1: the first bytes of
 * H(secret || counter), counter big-endian on 32 bits (1 = Kenc, 2 = Kmac,
 * 3 = Kpi for PACE).  H is SHA-1 for 3DES and AES-128, SHA-256 for AES-192
 * and AES-256.  For 3DES the 16 bytes are K1||K2 with DES parity adjusted.
 * out gets cnie_sm_key_len(cipher) bytes.
 */
int cnie_sm_kdf(cnie_sm_cipher cipher, const uint8_t *secret, size_t n,
    uint32_t counter, uint8_t *out, size_t out_len);
/* Key length of a cipher (16, 16, 24, 32), 0 if unknown. */
size_t cnie_sm_key_len(cnie_sm_cipher cipher);

/*
 * Terminal: protects a plain command; appends the whole protected APDU to
 * out.  The protected command is short (Le = 00) unless its body exceeds
 * 255 bytes, the plain Ne exceeds 256 or the plain command asks for
 * CNIE_APDU_FORCE_EXTENDED: then it is extended with Le = 0000.  With
 * short APDUs, callers should ask for at most 223 (0xDF) bytes so that the
 * protected answer (padding, DOs 87/99/8E) still fits in 256.  On failure
 * the SSC is left as it was (nothing was sent).
 */
int cnie_sm_wrap_command(cnie_sm *sm, const cnie_apdu *plain, cnie_buf *out);
/*
 * Terminal: checks and decrypts a protected response (data + SW as
 * received); appends plain data to out, *sw gets the protected status
 * word (DO 99).  A response that is only a status word (no SM objects,
 * ISO 7816-4 clause 10 allows it for errors): an error word 64xx..6Fxx
 * other than 6987/6988/6882 (e.g. 6982, 6A82) returns 0 with *sw set and
 * nothing appended, so the caller sees that error and never a success;
 * 6987/6988/6882 (the card ended the session), 9000, 61xx, 62xx, 63xx and
 * anything else give CNIE_ERR_SM with *sw set.  Objects
 * accepted: [85|87] 99 8E in that order, nothing else; DO 99 is required
 * (the outer SW is not MACed, so it is not trusted; the refusal is logged
 * at debug level naming ICAO 9303-11 9.8).  The MAC is checked in
 * constant time before decryption; any failure gives CNIE_ERR_SM (or
 * CNIE_ERR_BAD_RESPONSE under 2 bytes) and appends nothing.  The SSC is
 * incremented in every case.
 */
int cnie_sm_unwrap_response(cnie_sm *sm, const uint8_t *resp, size_t n,
    cnie_buf *out, uint16_t *sw);

/*
 * Card: checks and decrypts a protected command; appends the plain
 * command APDU (encoded) to out.  Missing objects → CNIE_ERR_SW_SM_MISSING
 * (answer 6987), wrong MAC or format → CNIE_ERR_SW_SM_INCORRECT (6988).
 * Objects accepted: [85|87] [97] 8E in that order; the MAC (over SSC,
 * the padded header with CLA b4-b3 set, and the objects) is verified in
 * constant time before anything is decrypted.  The plain command keeps
 * CLA without the SM bits; a 2-byte DO 97 gives an extended encoding.
 */
int cnie_sm_unwrap_command(cnie_sm *sm, const uint8_t *apdu, size_t n,
    cnie_buf *out);
/* Card: protects a response (plain data + SW); appends data objects and 9000. */
int cnie_sm_wrap_response(cnie_sm *sm, const uint8_t *data, size_t n,
    uint16_t sw, cnie_buf *out);

/*
 * A transport that protects every command with sm over inner, so that the
 * APDU engine and everything above it work unchanged inside a PACE or BAC
 * session.  inner stays owned by the caller and must outlive *out; sm is
 * taken over (freed with *out, also on failure).  A plain error status
 * word (6982, 6A82 ...: cnie_sm_unwrap_response) is returned as the
 * answer and keeps the session.  Any SM failure (bad MAC,
 * missing objects, 6987/6988) ends the session: later commands get
 * CNIE_ERR_SM until a new session is made; after a reset or reconnect they
 * get CNIE_ERR_LOGIN_LOST.  A protected answer announced with 61xx is
 * fetched with plain GET RESPONSE on inner, then unwrapped whole.
 */
int cnie_sm_transport_new(cnie_transport *inner, cnie_sm *sm,
    cnie_transport **out);

#ifdef __cplusplus
}
#endif

#endif
