/*
 * PACE, terminal side (ICAO 9303-11 clause 4.4, BSI TR-03110-2 3.2), over
 * OpenPACE (libeac): generic and integrated mapping, DH and ECDH, 3DES and
 * AES, as announced by the card's EF.CardAccess.
 *
 * The protocol is a step machine with no transport: each call to
 * cnie_pace_terminal_next() takes the card's answer to the previous command
 * and gives the next command to send, so any layer (the APDU engine, a
 * PIN-pad reader's PACE feature, a test) can drive it:
 *
 *     next(NULL)          -> MSE:SET AT   00 22 C1 A4  80 oid 83 ref [84 id]
 *     next(9000)          -> GA step 1    10 86 00 00  7C 00             (nonce)
 *     next(7C{80 z})      -> GA step 2    10 86 00 00  7C{81 mapping}
 *     next(7C{82 map})    -> GA step 3    10 86 00 00  7C{83 PK.PCD}
 *     next(7C{84 PK})     -> GA step 4    00 86 00 00  7C{85 T.PCD}
 *     next(7C{86 T ..})   -> done: cnie_pace_terminal_take_sm()
 *
 * All GENERAL AUTHENTICATE commands but the last carry the chaining bit
 * (CLA 10, 9303-11 4.4.4.2).  Any error ends the step machine.
 */
#ifndef CNIE_PACE_H
#define CNIE_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/apdu.h>
#include <cnie/export.h>
#include <cnie/sm.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Password types; the values are the MSE:SET AT references (9303-11 Table 8). */
typedef enum cnie_pace_secret {
	CNIE_PACE_MRZ = 1, /* secret = MRZ_information (cnie_mrz_info), 24 chars */
	CNIE_PACE_CAN = 2, /* card access number (6 digits on the CNIE) */
	CNIE_PACE_PIN = 3,
	CNIE_PACE_PUK = 4,
} cnie_pace_secret;

typedef struct cnie_pace cnie_pace;

/*
 * New terminal run.  card_access: EF.CardAccess contents (its first PACEInfo
 * the terminal supports is used).  The secret is copied and wiped with the
 * object.  Errors: CNIE_ERR_INVALID_ARG, CNIE_ERR_UNSUPPORTED (no usable
 * PACEInfo), CNIE_ERR_NOMEM, CNIE_ERR_CRYPTO.
 */
CNIE_EXPORT int cnie_pace_terminal_new(const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_pace **out);
/* Wipes and frees *p (NULL-safe), *p = NULL. */
CNIE_EXPORT void cnie_pace_terminal_free(cnie_pace **p);

/*
 * One step.  resp/resp_len: the data of the card's answer to the previous
 * command (NULL/0 on the first call), sw its status word.  On success
 * either *done is false and *cmd holds the next command (its data is
 * borrowed from p until the next call), or *done is true and the session
 * is ready.  Errors: a non-9000 answer to MSE:SET AT is returned mapped
 * (cnie_sw_to_error); a non-9000 answer to GENERAL AUTHENTICATE (6300:
 * wrong password) and any malformed or unverifiable answer give
 * CNIE_ERR_PACE; calling again after an error or after done gives
 * CNIE_ERR_STATE.
 */
CNIE_EXPORT int cnie_pace_terminal_next(cnie_pace *p, const uint8_t *resp, size_t resp_len,
    uint16_t sw, cnie_apdu *cmd, bool *done);

/*
 * After done: hands over the secure messaging session (KSenc, KSmac, SSC 0)
 * to the caller, who frees it.  CNIE_ERR_STATE before done.
 */
CNIE_EXPORT int cnie_pace_terminal_take_sm(cnie_pace *p, cnie_sm **sm);

/*
 * The card's ephemeral public key PK.PICC as sent in step 3 (borrowed;
 * after done), used to bind Chip Authentication to this PACE run
 * (9303-11 6.2) and for logs of the parameters, never secret.
 */
CNIE_EXPORT int cnie_pace_terminal_card_key(const cnie_pace *p, const uint8_t **key, size_t *n);

/*
 * Runs PACE over t with the step machine and cnie_apdu_transmit.  *sm gets
 * the session (caller frees).  Same errors as cnie_pace_terminal_next and
 * the transport's.
 */
CNIE_EXPORT int cnie_pace_run(cnie_transport *t, const uint8_t *card_access,
    size_t card_access_len, cnie_pace_secret type, const char *secret, size_t secret_len,
    cnie_sm **sm);

#ifdef __cplusplus
}
#endif

#endif
