/*
 * The identity application (ICAO 9303 eMRTD, LDS1) over a transport:
 * access control (PACE from EF.CardAccess, BAC as the fallback), reading
 * the LDS files inside secure messaging, Active Authentication (9303-11
 * 6.1) and Chip Authentication (9303-11 6.2).
 *
 * The bytes read here are untrusted until Passive Authentication
 * (cnie/pa.h) has matched them against EF.SOD: verify DG14/DG15 with PA
 * before relying on Chip or Active Authentication with their keys.
 */
#ifndef CNIE_ICAO_H
#define CNIE_ICAO_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/export.h>
#include <cnie/lds.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* File identifiers for cnie_icao_read(): DG n is n (1..16); these are their SFIs. */
#define CNIE_ICAO_EF_COM 0x1E /* FID 011E, SFI 30 */
#define CNIE_ICAO_EF_SOD 0x1D /* FID 011D, SFI 29 */
/* Largest file cnie_icao_read() accepts (the TLV length is checked first). */
#define CNIE_ICAO_MAX_FILE (1024u * 1024u)
/* Active Authentication challenge length (9303-11 6.1: 8 bytes). */
#define CNIE_ICAO_AA_CHALLENGE_LEN 8

typedef enum cnie_icao_secret_type {
	CNIE_ICAO_CAN = 1, /* card access number (PACE only) */
	CNIE_ICAO_MRZ = 2, /* the whole MRZ text (TD1 3x30, TD3 2x44; line breaks allowed) */
} cnie_icao_secret_type;

/* Flags of cnie_icao_secret. */
#define CNIE_ICAO_NO_PACE 0x01 /* use BAC even when EF.CardAccess offers PACE (MRZ only) */

typedef struct cnie_icao_secret {
	cnie_icao_secret_type type;
	const char *value; /* NUL-terminated, borrowed; copies made inside are wiped */
	unsigned flags;	   /* CNIE_ICAO_* */
} cnie_icao_secret;

typedef struct cnie_icao cnie_icao;

/* Progress of a read: done of total bytes (total known after the first read). */
typedef void (*cnie_icao_progress_fn)(size_t done, size_t total, void *arg);

/*
 * Opens the application: reads EF.CardAccess (plain, SFI 28 of the MF);
 * runs PACE with the PACEInfo it prefers among all those offered
 * (docs/card-profile.md: chip authentication mapping first, ECDH before
 * DH, strongest cipher, generic before integrated mapping), with the CAN
 * or the MRZ alike, or BAC with the MRZ when
 * EF.CardAccess is absent, offers nothing usable or CNIE_ICAO_NO_PACE is
 * set; then selects the ICAO application inside secure messaging.  t is
 * borrowed and must outlive *out.  Errors: CNIE_ERR_PACE (wrong CAN/MRZ
 * with PACE), CNIE_ERR_BAC (wrong MRZ with BAC), CNIE_ERR_UNSUPPORTED (a
 * CAN and a card without PACE), CNIE_ERR_INVALID_ARG (malformed MRZ),
 * CNIE_ERR_BAD_RESPONSE (a malformed PACE answer), the transport's and
 * the card's errors.  Every status word chips use for a wrong key (6300,
 * 63Cx, 6982, 6988) gives CNIE_ERR_PACE or CNIE_ERR_BAC.
 */
CNIE_EXPORT int cnie_icao_open(cnie_transport *t, const cnie_icao_secret *secret,
    cnie_icao **out);
/* Closes the session (the inner transport is left to the caller), *icao = NULL. */
CNIE_EXPORT void cnie_icao_free(cnie_icao **icao);
/* True when PACE (not BAC) protects the session. */
CNIE_EXPORT int cnie_icao_used_pace(const cnie_icao *icao);
/*
 * True when the session came from PACE with chip authentication mapping
 * (9303-11 4.4.3.5, preferred when EF.CardAccess offers it): the chip is
 * not authenticated until cnie_icao_chip_auth has checked its
 * authentication data against DG14's key.
 */
CNIE_EXPORT int cnie_icao_used_cam(const cnie_icao *icao);

/* What cnie_icao_chip_authenticated reports. */
#define CNIE_ICAO_CHIP_NONE 0 /* the chip is not authenticated (yet) */
#define CNIE_ICAO_CHIP_CA 1   /* by Chip Authentication (9303-11 6.2) */
#define CNIE_ICAO_CHIP_CAM 2  /* by PACE chip authentication mapping (4.4.3.5) */
/* How the chip was authenticated by cnie_icao_chip_auth (CNIE_ICAO_CHIP_*). */
CNIE_EXPORT int cnie_icao_chip_authenticated(const cnie_icao *icao);
/* The secure messaging transport (borrowed; replaced by Chip Authentication). */
CNIE_EXPORT cnie_transport *cnie_icao_transport(cnie_icao *icao);

/*
 * Reads one file (DG 1..16, CNIE_ICAO_EF_COM or CNIE_ICAO_EF_SOD) by its
 * SFI and appends it whole to out.  The first READ BINARY asks for up to
 * one chunk; its TLV header gives the size (at most CNIE_ICAO_MAX_FILE),
 * the rest comes in chunks as large as the transport's caps allow
 * (extended length when available); offsets above 32767 are read with
 * the odd INS (B1, offset in DO'54', data in DO'53', ISO 7816-4 7.2.3).
 * progress (may be NULL) is called after each chunk.  On error out is as
 * given.  Card errors: CNIE_ERR_SW_FILE_NOT_FOUND, _SECURITY_STATUS...
 */
CNIE_EXPORT int cnie_icao_read(cnie_icao *icao, int file, cnie_buf *out,
    cnie_icao_progress_fn progress, void *arg);

/* Every file of the LDS as read by cnie_icao_read_all (owned, NULL if not read). */
typedef struct cnie_icao_files {
	cnie_buf *com;
	cnie_buf *sod;
	cnie_buf *dg[CNIE_LDS_MAX_DG + 1]; /* index = DG number; [0] unused */
} cnie_icao_files;

/*
 * Reads EF.COM, each DG it lists and EF.SOD into *files (cleared first).
 * A DG the card refuses with 6982 (e.g. DG3/DG4 behind Terminal
 * Authentication) or 6A82 (listed but absent), protected or as a plain
 * status word, is skipped and left NULL; any other error fails the call
 * (files cleared).  progress gets the bytes of the current file.
 */
CNIE_EXPORT int cnie_icao_read_all(cnie_icao *icao, cnie_icao_files *files,
    cnie_icao_progress_fn progress, void *arg);
/*
 * cnie_icao_read_all_ex flag: keep the data groups in the on-disk cache
 * ($XDG_CACHE_HOME/cnie, cnie/cache.h) and take them from there next time.
 * Off by default because data groups are personal data (name, photo): an
 * application turns it on only with the holder's agreement (a kiosk that
 * reads the same card many times, say).  EF.COM and EF.SOD always come
 * from the card; EF.SOD, read first, keys the cache and a cached DG is
 * used only when its hash equals EF.SOD's, so a cached DG is exactly what
 * the card would give.  CNIE_NO_CACHE=1 still disables it.
 */
#define CNIE_ICAO_READ_CACHED 0x01

/* As cnie_icao_read_all, with CNIE_ICAO_READ_* flags. */
CNIE_EXPORT int cnie_icao_read_all_ex(cnie_icao *icao, unsigned flags, cnie_icao_files *files,
    cnie_icao_progress_fn progress, void *arg);

/*
 * As cnie_icao_read_all_ex; in addition, when the chip ends the secure
 * messaging session during the read (some chips do after a plain error
 * status word, answering the next command 6987/6988/6882) or the card is
 * reset, access control (the protocol cnie_icao_open would choose) is run
 * again with secret (borrowed: never kept after the call returns) and the
 * file read again, once per file.  A Chip Authentication done before is not
 * repeated.  secret NULL: no recovery, as cnie_icao_read_all_ex.
 */
CNIE_EXPORT int cnie_icao_read_all_secret(cnie_icao *icao, const cnie_icao_secret *secret,
    unsigned flags, cnie_icao_files *files, cnie_icao_progress_fn progress, void *arg);

/* Frees (wipes) every buffer of *files. */
CNIE_EXPORT void cnie_icao_files_clear(cnie_icao_files *files);

/*
 * Active Authentication (9303-11 6.1): INTERNAL AUTHENTICATE with the
 * 8-byte challenge; the card's signature is appended to sig (also when it
 * does not verify, for a server-side check) and verified with the DG15
 * public key: RSA ISO/IEC 9796-2 scheme 1 (partial recovery; every
 * trailer, cnie_icao_active_auth_ex) or ECDSA plain r||s (BSI TR-03111)
 * over SHA-256.  Returns 0
 * when it verifies, CNIE_ERR_VERIFY_FAILED when not, or another error.
 */
CNIE_EXPORT int cnie_icao_active_auth(cnie_icao *icao, const uint8_t *challenge,
    size_t challenge_len, const uint8_t *dg15, size_t dg15_len, cnie_buf *sig);
/*
 * As cnie_icao_active_auth, for every chip: RSA signatures with any ISO/IEC
 * 9796-2 trailer (BC for SHA-1, or the two-byte XX CC with XX the ISO/IEC
 * 10118-3 identifier: 33 SHA-1, 38 SHA-224, 34 SHA-256, 36 SHA-384, 35
 * SHA-512); ECDSA over the hash DG14's ActiveAuthenticationInfo names
 * (cnie_lds_dg14_aa_hash; dg14 NULL or without that info: SHA-256).
 */
CNIE_EXPORT int cnie_icao_active_auth_ex(cnie_icao *icao, const uint8_t *challenge,
    size_t challenge_len, const uint8_t *dg15, size_t dg15_len, const uint8_t *dg14,
    size_t dg14_len, cnie_buf *sig);

/*
 * After PACE with chip authentication mapping (cnie_icao_used_cam), no
 * APDU is sent: the chip's authentication data of the PACE run is checked
 * against DG14's ChipAuthenticationPublicKeyInfo (PK_Map,IC = CA_IC *
 * PK_IC, 9303-11 4.4.3.5; DG14 rather than EF.CardSecurity, which holds the
 * same SecurityInfos: DG14 is what Passive Authentication covers here).
 * 0 and CNIE_ICAO_CHIP_CAM when it holds; CNIE_ERR_AUTH_FAILED when it does
 * not (the chip is not the one DG14 describes: a cloned or substituted
 * chip), CNIE_ERR_UNSUPPORTED when DG14 has no ECDH chip key; the session
 * stays usable either way.
 *
 * Otherwise, Chip Authentication (9303-11 6.2, version 1, ECDH or DH):
 * takes the first ChipAuthenticationInfo of DG14 (id-CA-ECDH-* or
 * id-CA-DH-*) and the first ChipAuthenticationPublicKeyInfo of the same
 * key agreement,
 * sends MSE:SET AT and GENERAL AUTHENTICATE with an ephemeral key, derives
 * the new session keys from the shared secret, switches secure messaging
 * to them and re-selects the application under the new session: success
 * proves the chip holds the DG14 private key.  On failure the session is
 * gone (CNIE_ERR_SM on later reads).  Success sets CNIE_ICAO_CHIP_CA.
 * Errors: CNIE_ERR_UNSUPPORTED (no usable CA info, a key not of the
 * info's agreement, a DH modulus over 4096 bits),
 * CNIE_ERR_ENCODING (DG14), CNIE_ERR_AUTH_FAILED (the card refused or the
 * new session did not work).
 */
CNIE_EXPORT int cnie_icao_chip_auth(cnie_icao *icao, const uint8_t *dg14, size_t dg14_len);

#ifdef __cplusplus
}
#endif

#endif
