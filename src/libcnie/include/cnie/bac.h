/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * Basic Access Control (ICAO 9303-11 clause 4.3, worked example App. D),
 * both ends, and the MRZ information that BAC and PACE-MRZ derive keys from.
 *
 * BAC is the fallback when a card has no PACE: the keys come from the MRZ
 * (document number, birth date, expiry date with their check digits), so it
 * is only as strong as those fields are secret.  The protocol objects here
 * need no transport: the terminal computes the EXTERNAL AUTHENTICATE data
 * from the card's challenge and checks the card's answer; the card (the
 * emulator) checks the command and builds the answer.  cnie_bac_run() drives
 * the terminal side over a transport.
 */
#ifndef CNIE_BAC_H
#define CNIE_BAC_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>
#include <cnie/mrz.h>
#include <cnie/sm.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MRZ_information is 9 + 1 + 6 + 1 + 6 + 1 = 24 characters (plus NUL). */
#define CNIE_MRZ_INFO_LEN 24
/*
 * With a TD1/TD2 document number longer than 9 characters (9303-5 4.2.4)
 * MRZ_information carries the whole number: up to 23 + 1 + 14 = 38.
 */
#define CNIE_MRZ_INFO_MAX (CNIE_MRZ_DOCNO_MAX - 1 + 15)
#define CNIE_BAC_RND_LEN 8
#define CNIE_BAC_K_LEN 16
#define CNIE_BAC_AUTH_LEN 40 /* E (32) || M (8) */

/*
 * Builds MRZ_information (9303-11 4.3.2, 9303-3 4.9 check digits) from the
 * document number (1..9 characters of [0-9A-Z<], padded with '<'), the
 * birth date and the expiry date (YYMMDD).  out gets 24 characters and a
 * NUL (out_len >= 25).  CNIE_ERR_INVALID_ARG on malformed fields.
 */
int cnie_mrz_info(const char *doc_no, const char *birth, const char *expiry,
    char *out, size_t out_len);
/*
 * Extracts MRZ_information from a whole MRZ through the MRZ parser
 * (cnie/mrz.h): TD1 (3 lines of 30, ID cards such as the CNIE, document
 * numbers continued in the optional data included), TD2 (2 x 36) or TD3
 * (2 x 44, passports), with or without line breaks.  The check digits
 * and date ranges of the three fields BAC and PACE use are verified, not
 * the composite digit (src/libcnie/mrz_internal.h): a malformed MRZ
 * gives CNIE_ERR_INVALID_ARG (the failing field, never its value, is
 * logged).  out gets 24 characters (up to CNIE_MRZ_INFO_MAX for a long
 * number) and a NUL.
 */
int cnie_mrz_info_from_mrz(const char *mrz, char *out, size_t out_len);

typedef struct cnie_bac cnie_bac;

/*
 * New BAC context for either end: Kseed = SHA-1(mrz_info)[0..16], Kenc and
 * Kmac derived from it (9303-11 9.7.1).  mrz_info is not kept.
 */
int cnie_bac_new(const char *mrz_info, cnie_bac **out);
/* Wipes the keys and frees *b (NULL-safe), *b = NULL. */
void cnie_bac_free(cnie_bac **b);

/*
 * Terminal: from the card's challenge RND.IC (GET CHALLENGE) and the
 * terminal's random RND.IFD and key material K.IFD (the caller draws them:
 * fixed values make the protocol testable), writes the EXTERNAL
 * AUTHENTICATE data E_IFD || M_IFD (40 bytes) to out.
 */
int cnie_bac_terminal_auth(cnie_bac *b, const uint8_t rnd_ic[CNIE_BAC_RND_LEN],
    const uint8_t rnd_ifd[CNIE_BAC_RND_LEN], const uint8_t k_ifd[CNIE_BAC_K_LEN],
    uint8_t out[CNIE_BAC_AUTH_LEN]);
/*
 * Terminal: checks the card's answer (E_IC || M_IC: MAC first, then the
 * echoed RND.IFD and RND.IC) and returns the 3DES session (KSenc, KSmac
 * from K.IFD xor K.IC, SSC = RND.IC[4..8] || RND.IFD[4..8]) in *sm (caller
 * frees).  CNIE_ERR_BAC when the answer does not check out.
 */
int cnie_bac_terminal_finish(cnie_bac *b, const uint8_t *resp, size_t n,
    cnie_sm **sm);

/*
 * Card: checks EXTERNAL AUTHENTICATE data cmd[0..n) against the challenge
 * rnd_ic the card gave (MAC first, in constant time), writes the answer
 * E_IC || M_IC built with the card's key material k_ic to out and the new
 * session to *sm (caller frees).  CNIE_ERR_BAC when the command does not
 * check out (the card answers 6300).
 */
int cnie_bac_card_auth(cnie_bac *b, const uint8_t rnd_ic[CNIE_BAC_RND_LEN],
    const uint8_t *cmd, size_t n, const uint8_t k_ic[CNIE_BAC_K_LEN],
    uint8_t out[CNIE_BAC_AUTH_LEN], cnie_sm **sm);

/*
 * Runs BAC over t with the ICAO application already selected: GET
 * CHALLENGE, EXTERNAL AUTHENTICATE with fresh randoms.  *sm gets the
 * session (caller frees).  A card status word other than 9000 is returned
 * mapped (cnie_sw_to_error); 6300 on EXTERNAL AUTHENTICATE gives
 * CNIE_ERR_BAC (wrong MRZ).
 */
int cnie_bac_run(cnie_transport *t, const char *mrz_info, cnie_sm **sm);

#ifdef __cplusplus
}
#endif

#endif
