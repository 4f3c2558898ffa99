/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * PACE, terminal side (ICAO 9303-11 clause 4.4, BSI TR-03110-2 3.2), over
 * OpenPACE (libeac): generic mapping over DH and ECDH with 3DES and AES,
 * integrated mapping over DH and ECDH with 3DES and AES (its mapping step
 * in pace_im.c), and chip authentication mapping (ECDH, AES), as announced
 * by the card's EF.CardAccess.
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
 *                            (IM: 81 is our nonce t, the answer an empty 7C)
 *     next(7C{84 PK})     -> GA step 4    00 86 00 00  7C{85 T.PCD}
 *     next(7C{86 T ..})   -> done: cnie_pace_terminal_take_sm()
 *
 * With chip authentication mapping (CAM) the last answer also carries
 * 8A, the chip's encrypted authentication data, which must be present and
 * decrypt; cnie_pace_terminal_cam() gives it for the check against the
 * chip's static key (cnie_pace_cam_verify), which proves the chip.
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
	CNIE_PACE_MRZ = 1, /* secret = MRZ_information (cnie_mrz_info), 24+ chars */
	CNIE_PACE_CAN = 2, /* card access number (6 digits on the CNIE) */
	CNIE_PACE_PIN = 3,
	CNIE_PACE_PUK = 4,
} cnie_pace_secret;

typedef struct cnie_pace cnie_pace;

/* ---- EF.CardAccess: every PACEInfo (9303-11 9.2.1) ------------------- */

/* Mappings, the 10th arc of id-PACE-* (BSI TR-03110-3 A.1.1). */
typedef enum cnie_pace_mapping {
	CNIE_PACE_GM = 1,  /* generic mapping */
	CNIE_PACE_IM = 2,  /* integrated mapping */
	CNIE_PACE_CAM = 3, /* chip authentication mapping (ECDH only) */
} cnie_pace_mapping;

/* Longest CA_IC of chip authentication mapping: the order of P-521, in bytes. */
#define CNIE_PACE_CAM_MAX 66

/* Most PACEInfos and PACEDomainParameterInfos kept from one EF.CardAccess. */
#define CNIE_PACE_MAX_INFOS 16

typedef struct cnie_pace_info {
	const uint8_t *der;	/* the whole SecurityInfo TLV (borrowed) */
	size_t der_len;
	cnie_pace_mapping mapping;
	bool ecdh;		/* else DH */
	cnie_sm_cipher cipher;	/* CNIE_SM_3DES .. CNIE_SM_AES256 */
	int version;		/* 2 is the only one 9303-11 defines */
	long param_id;		/* -1 when absent */
	bool supported;		/* the library can run it (cnie_pace_select) */
} cnie_pace_info;

typedef struct cnie_pace_dpi {	/* PACEDomainParameterInfo (proprietary parameters) */
	const uint8_t *der;
	size_t der_len;
	long param_id;		/* -1 when absent */
} cnie_pace_dpi;

typedef struct cnie_pace_infos {
	cnie_pace_info info[CNIE_PACE_MAX_INFOS];
	size_t n;
	cnie_pace_dpi dpi[CNIE_PACE_MAX_INFOS];
	size_t ndpi;
} cnie_pace_infos;

/*
 * Parses EF.CardAccess (SET OF SecurityInfo, DER, at most 4 levels) and
 * keeps every PACEInfo and PACEDomainParameterInfo; other SecurityInfos
 * (Chip Authentication, Terminal Authentication ...) are skipped.  Errors:
 * CNIE_ERR_ENCODING and the TLV errors for malformed input,
 * CNIE_ERR_TOO_LONG for more than CNIE_PACE_MAX_INFOS of either kind.
 */
int cnie_pace_infos_parse(const uint8_t *ca, size_t n, cnie_pace_infos *out);

/*
 * The PACEInfo to use, by the documented preference (docs/card-profile.md):
 * among those the library supports (version 2; generic mapping over ECDH
 * or DH; integrated mapping over ECDH or DH with 3DES or AES, not on
 * secp224r1; chip authentication mapping over ECDH with AES; standardized
 * domain parameters 0-2, 8-18, or proprietary ones with their
 * PACEDomainParameterInfo), chip authentication mapping first, then ECDH
 * before DH, then the strongest cipher (AES-256, -192, -128, 3DES), then
 * generic before integrated mapping, then the card's order.  NULL when
 * none is usable.
 */
const cnie_pace_info *cnie_pace_select(const cnie_pace_infos *infos);

/*
 * Writes the EF.CardAccess OpenPACE is given for one run: SET { info, its
 * PACEDomainParameterInfo when the parameters are proprietary }.
 */
int cnie_pace_card_access_of(const cnie_pace_infos *infos, const cnie_pace_info *info,
    cnie_buf *out);

/*
 * New terminal run.  card_access: EF.CardAccess contents (every PACEInfo
 * is read and the one cnie_pace_select prefers is used).  The secret is copied and wiped with the
 * object.  Errors: CNIE_ERR_INVALID_ARG, CNIE_ERR_UNSUPPORTED (no usable
 * PACEInfo), CNIE_ERR_NOMEM, CNIE_ERR_CRYPTO.
 */
int cnie_pace_terminal_new(const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_pace **out);
/* Wipes and frees *p (NULL-safe), *p = NULL. */
void cnie_pace_terminal_free(cnie_pace **p);

/*
 * One step.  resp/resp_len: the data of the card's answer to the previous
 * command (NULL/0 on the first call), sw its status word.  On success
 * either *done is false and *cmd holds the next command (its data is
 * borrowed from p until the next call), or *done is true and the session
 * is ready.  Errors: the answer to step 4 (mutual authentication) 6300,
 * 63Cx, 6982 or 6988 (the chip refused our token: a wrong password) and
 * a card token that does not verify give CNIE_ERR_PACE; any other
 * non-9000 answer is returned mapped (cnie_sw_to_error, else
 * CNIE_ERR_CARD); a malformed answer (missing DO, a nonce that does not
 * decrypt, a point not on the curve, our own mapping data echoed) gives
 * CNIE_ERR_BAD_RESPONSE; calling again after an error or after done
 * gives CNIE_ERR_STATE.
 */
int cnie_pace_terminal_next(cnie_pace *p, const uint8_t *resp, size_t resp_len,
    uint16_t sw, cnie_apdu *cmd, bool *done);

/*
 * After done: hands over the secure messaging session (KSenc, KSmac, SSC 0)
 * to the caller, who frees it.  CNIE_ERR_STATE before done.
 */
int cnie_pace_terminal_take_sm(cnie_pace *p, cnie_sm **sm);

/*
 * The card's ephemeral public key PK.PICC as sent in step 3 (borrowed;
 * after done), used to bind Chip Authentication to this PACE run
 * (9303-11 6.2) and for logs of the parameters, never secret.
 */
int cnie_pace_terminal_card_key(const cnie_pace *p, const uint8_t **key, size_t *n);

/* The mapping of the run (known from cnie_pace_terminal_new on), 0 for NULL. */
cnie_pace_mapping cnie_pace_terminal_mapping(const cnie_pace *p);

/*
 * After done, with chip authentication mapping: CA_IC decrypted from the
 * chip's DO'8A' and PK_Map,IC, the chip's mapping public key from DO'82'
 * (both borrowed from p, never secret).  CNIE_ERR_STATE before done,
 * CNIE_ERR_NOT_FOUND when the run used another mapping.
 */
int cnie_pace_terminal_cam(const cnie_pace *p, const uint8_t **ca, size_t *ca_len,
    const uint8_t **map, size_t *map_len);

/*
 * As cnie_pace_run, but hands over the finished run (*out, caller frees)
 * instead of its session: take the session with
 * cnie_pace_terminal_take_sm, the CAM data with cnie_pace_terminal_cam.
 */
int cnie_pace_run_keep(cnie_transport *t, const uint8_t *card_access,
    size_t card_access_len, cnie_pace_secret type, const char *secret, size_t secret_len,
    cnie_pace **out);

/*
 * Runs PACE over t with the step machine and cnie_apdu_transmit.  *sm gets
 * the session (caller frees).  Same errors as cnie_pace_terminal_next and
 * the transport's.
 */
int cnie_pace_run(cnie_transport *t, const uint8_t *card_access,
    size_t card_access_len, cnie_pace_secret type, const char *secret, size_t secret_len,
    cnie_sm **sm);

#ifdef __cplusplus
}
#endif

#endif
