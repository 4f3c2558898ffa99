/*
 * Emulator, ICAO side: the card's half of BAC, PACE (CAN or MRZ, via
 * OpenPACE), Chip Authentication and Active Authentication, and the secure
 * messaging session they establish.  The emulator core (emu.c) calls
 * emu_auth_handle() for MSE:SET AT (22), GENERAL AUTHENTICATE (86), GET
 * CHALLENGE (84), EXTERNAL AUTHENTICATE (82) and, with the ICAO
 * application selected, INTERNAL AUTHENTICATE (88).
 */
#ifndef CNIE_EMU_AUTH_H
#define CNIE_EMU_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/hash.h>
#include <cnie/sm.h>

/* The card's random source: fills out with n bytes, returns 0 or an error. */
typedef int (*emu_rng_fn)(void *arg, uint8_t *out, size_t n);

typedef struct emu_auth_cfg {
	const char *can;	       /* 6 digits, NULL if the card has none */
	const char *mrz;	       /* full MRZ text (TD1: 90 chars), NULL if none */
	const uint8_t *card_access;    /* EF.CardAccess contents (PACE info) */
	size_t card_access_len;
	EVP_PKEY *aa_key;	       /* Active Authentication key (borrowed), or NULL */
	EVP_PKEY *ca_key;	       /* Chip Authentication key (borrowed), or NULL */
	const uint8_t *dg14;	       /* DG14 contents (CA info), or NULL */
	size_t dg14_len;
	uint16_t wrong_key_sw;	       /* BAC/PACE wrong-key answer, 0 = 6300 */
	/*
	 * Active Authentication hash (card.json "icao.aa_hash"): RSA default
	 * SHA-1; EC default the hash DG14's ActiveAuthenticationInfo names,
	 * else SHA-256.  aa_explicit_trailer: RSA trailer XX CC (ISO/IEC
	 * 10118-3 identifier) instead of BC ("icao.aa_trailer": "explicit").
	 */
	cnie_card_hash aa_hash;
	bool aa_explicit_trailer;
	/*
	 * PACE-CAM test faults (card.json "icao.cam_fault"): the chip's
	 * authentication data is another number (does not verify), badly
	 * padded, or absent.
	 */
	enum { EMU_CAM_OK = 0, EMU_CAM_WRONG, EMU_CAM_PADDING, EMU_CAM_ABSENT } cam_fault;
	emu_rng_fn rng;		       /* never NULL */
	void *rng_arg;
} emu_auth_cfg;

typedef struct emu_auth emu_auth;

/* Copies what it needs from cfg (keys stay borrowed). */
int emu_auth_new(const emu_auth_cfg *cfg, emu_auth **out);
void emu_auth_free(emu_auth **a);

/* Power cycle: drops every session and protocol state. */
void emu_auth_reset(emu_auth *a);

/*
 * Handles cmd (already unwrapped from SM when a session is active).
 * Returns 1 when the command was an authentication command and *sw/resp
 * are set, 0 when it is not one (the core handles it), negative on an
 * internal error.  icao_selected: the ICAO application is the current DF.
 */
int emu_auth_handle(emu_auth *a, const cnie_apdu *cmd, bool icao_selected, cnie_buf *resp,
    uint16_t *sw);

/*
 * The SM session (borrowed) that protects the NEXT command, or NULL.  The
 * core reads it before emu_auth_handle() to wrap that command's response:
 * a session replaced during the call (Chip Authentication) stays valid
 * until the next emu_auth_* call, so the core can still wrap with it.
 */
cnie_sm *emu_auth_sm(emu_auth *a);
/* True when PACE (not BAC) established the current session. */
bool emu_auth_pace_done(const emu_auth *a);
/* Drops the session (after an SM error, ICAO 9303-11 9.8.4.2). */
void emu_auth_drop_sm(emu_auth *a);
/*
 * Test hook: deterministic mode.  When on, the secrets OpenPACE draws
 * inside the card's PACE steps (the nonce s, the mapping and ephemeral
 * private keys) come from cfg->rng too, so a test that queues the bytes of
 * 9303-11 App. G.1 replays the example exactly.  This installs a process
 * wide OpenSSL RAND_METHOD for the duration of each such step (under a
 * lock): for tests only, never with other threads using OpenSSL.  Off by
 * default; the card's own draws (GET CHALLENGE, K.IC, AA's M1) always come
 * from cfg->rng.
 */
void emu_auth_set_deterministic(emu_auth *a, bool on);

/*
 * Wrong CAN/MRZ attempts are not counted (the CAN is not a PIN; 9303-11
 * 4.4 leaves PACE with CAN/MRZ unthrottled).
 *
 * Status words: BAC or PACE token failure 6300 or cfg->wrong_key_sw
 * (card.json "icao.wrong_key_sw"; the run is reset); missing
 * or malformed data 6A80; wrong length 6700; unknown password or protocol
 * 6A88; GENERAL AUTHENTICATE / EXTERNAL AUTHENTICATE out of sequence 6985;
 * Chip Authentication outside secure messaging 6982.
 *
 * Chip Authentication follows 9303-11 6.2 (MSE:SET AT 0022 41A4 with the
 * ChipAuthenticationInfo OID of DG14, GENERAL AUTHENTICATE 7C{80 PK.PCD}):
 * the card answers 7C 00 under the current session, then KSenc/KSmac =
 * KDF(K, 1/2) of the shared secret K (no nonce: that is EAC2's CA v2) with
 * the OID's cipher, SSC 0, protect every later command.
 *
 * Active Authentication (INTERNAL AUTHENTICATE 00 88 0000 08 challenge, ICAO
 * application only; 9303-11 6.1): RSA keys sign with ISO/IEC 9796-2
 * scheme 1, partial recovery (6A || M1 || H(M1 || challenge) || T, M1
 * random from cfg->rng), output min(s, n - s), with H SHA-1 and T = BC
 * unless cfg says otherwise (T = XX CC); EC keys sign with ECDSA over
 * H(challenge), plain r || s (BSI TR-03111), each half as long as the
 * group order, H as cfg->aa_hash or DG14's ActiveAuthenticationInfo says.
 *
 * PACE's GENERAL AUTHENTICATE steps 1-3 come with the chaining bit (CLA 10):
 * they are protocol steps, each answered, not data for the core to
 * reassemble; the chaining bit is accepted with or without.
 */

#endif
