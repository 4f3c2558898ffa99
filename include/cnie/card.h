/*
 * The CNIE PKI application: discovery, PINs, signatures.
 *
 * A cnie_card is one session with the PKI application (AID F0434E4945504B49,
 * docs/card-profile.md) over a transport.  Identification goes by the
 * application, never by the ATR: SELECT of the PKI AID (a card without it
 * is not a CNIE).  The PKCS#15 structures (ODF, AODF, PrKDF, CDF; ISO/IEC
 * 7816-15) are read on first need and kept for the session, TokenInfo only
 * when the serial or label is asked; files of the PKI DF are read by FID
 * with odd-INS READ BINARY (one APDU each, no SELECT), falling back to
 * SELECT + READ BINARY when the card refuses it.  Certificates are read on
 * first request and cached.  With the on-disk cache on (the default;
 * CNIE_NO_CACHE=1 turns it off), first discovery also reads the serial
 * (GET DATA) and takes the PKCS#15 files and certificates from
 * $XDG_CACHE_HOME/cnie when they belong to this card (see cnie/cache.h);
 * the first key operation with a cached certificate is checked against
 * it (CNIE_ERR_CARD_CHANGED when the card no longer matches: the cache is
 * cleared, open the card again).
 *
 * Every function returns 0 or a negative cnie_error.  PINs are validated
 * before anything is sent (CNIE_ERR_PIN_FORMAT spends no try), sent with
 * CNIE_APDU_SENSITIVE and wiped from library memory; a PIN command is never
 * retried by the library.
 *
 * Card reset by another program: when the transport reports
 * CNIE_ERR_CARD_RESET, the card object reconnects, selects the PKI
 * application again and returns CNIE_ERR_LOGIN_LOST for that call only
 * (the command was not executed; the PIN must be verified again).  The next
 * call works normally.  Under PACE (contactless) the secure messaging
 * session dies with the reset: CNIE_ERR_CARD_RESET is returned as is and
 * cnie_card_resume() with the CAN re-runs PACE.  The same when another
 * program's plain command ended our session (the card answers the next
 * protected command in plain): CNIE_ERR_CARD_RESET, and the resume costs
 * PACE alone (MSE:SET AT and four GENERAL AUTHENTICATE).
 *
 * Other programs on the same card (docs/card-profile.md 9): every call is
 * one PC/SC transaction, taken at its first APDU and ended when it
 * returns; when another program left another DF current, the call's first
 * command is refused without effect and the library selects the PKI
 * application and sends it again (a PIN is never compared twice).
 */
#ifndef CNIE_CARD_H
#define CNIE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/efdir.h>
#include <cnie/export.h>
#include <cnie/hash.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnie_card cnie_card;

#define CNIE_CARD_MAX_ID 64	/* bytes of a key/certificate identifier */
#define CNIE_CARD_MAX_LABEL 255 /* bytes of a label (UTF-8) */

typedef enum cnie_card_key_type {
	CNIE_CARD_KEY_RSA = 1,
	CNIE_CARD_KEY_EC = 2,
} cnie_card_key_type;

/* Key usages (from the PrKDF KeyUsageFlags). */
#define CNIE_CARD_USAGE_SIGN 0x01	     /* sign (authentication) */
#define CNIE_CARD_USAGE_NON_REPUDIATION 0x02 /* qualified signature */

typedef struct cnie_card_key_info {
	uint8_t id[CNIE_CARD_MAX_ID]; /* PKCS#15 iD = the certificate's SKI */
	size_t id_len;
	char label[CNIE_CARD_MAX_LABEL + 1];
	cnie_card_key_type type;
	uint32_t bits;	  /* RSA modulus or EC field size */
	uint8_t key_ref;  /* MSE:SET tag 84 */
	unsigned usage;	  /* CNIE_CARD_USAGE_* */
	/*
	 * A VERIFY is needed before each signature.  The PrKDF has no
	 * userConsent field on this card, so the rule is: a key with usage
	 * nonRepudiation is the qualified signature key, which the profile
	 * (card-profile.md 3, always_pin) locks after each signature.
	 */
	bool always_pin;
} cnie_card_key_info;

/*
 * Identifies the card and opens a session.  t is taken over (freed with the
 * card, also on failure).  APDUs: SELECT of the PKI application; nothing
 * else.  A card without the PKI application: CNIE_ERR_CARD_NOT_RECOGNISED.  A
 * contactless transport (caps->contactless): CNIE_ERR_NEED_CAN, use
 * cnie_card_open_ex.
 */
CNIE_EXPORT int cnie_card_open(cnie_transport *t, cnie_card **out);
/*
 * As cnie_card_open; over a contactless transport, first runs PACE with the
 * CAN (digits, NUL-terminated; EF.CardAccess read from the MF) and sends
 * every later command inside its secure messaging.  can is ignored over a
 * contact transport and not kept.  Wrong CAN: CNIE_ERR_PACE; CAN not all
 * digits (1..12): CNIE_ERR_INVALID_ARG.
 *
 * A contactless reader that runs PACE itself (caps->reader_pace: PC/SC
 * part 10 amendment 1 FEATURE_EXECUTE_PACE with generic PACE, e.g. BSI
 * TR-03119 keypad readers): the reader is asked to run PACE with the CAN
 * typed on its own keypad (EstablishPACEChannel, PinID CAN, no PIN from
 * the host) and keeps the secure messaging; every later command goes
 * plain to the reader, which wraps it.  can is not used (NULL is fine):
 * the CAN never reaches the computer, so check caps->reader_pace before
 * asking the holder for it.  The call waits for the keypad entry (the
 * reader's timeout).  Errors: a wrong CAN typed on the keypad
 * CNIE_ERR_PACE; Cancel on the keypad CNIE_ERR_PINPAD_CANCELLED; no entry
 * in time CNIE_ERR_PINPAD_TIMEOUT; a malformed answer from the reader
 * CNIE_ERR_BAD_RESPONSE; other reader failures CNIE_ERR_TRANSPORT or
 * CNIE_ERR_COMM.  The library never repeats the keypad request itself.
 */
CNIE_EXPORT int cnie_card_open_ex(cnie_transport *t, const char *can, cnie_card **out);
/*
 * Re-establishes the session after CNIE_ERR_CARD_RESET on a card opened
 * with PACE: reconnects, runs PACE again with can (NUL-terminated digits;
 * the library never keeps the CAN, so the caller asks the holder again or
 * holds it itself) and selects the PKI application.  What was discovered
 * and read (keys, certificates) stays valid; the PIN must be verified
 * again.  Over contact (where the card re-establishes itself and reports
 * CNIE_ERR_LOGIN_LOST) it reconnects and selects; can is ignored.  A
 * contactless card without can: CNIE_ERR_NEED_CAN; wrong CAN:
 * CNIE_ERR_PACE, and the call may be repeated with the right one.  On a
 * reader that runs PACE itself (see cnie_card_open_ex) can is not used: the
 * reader asks for the CAN on its keypad again; errors as there.  Its
 * session ends with a reset of the card and when the reader reports its
 * secure messaging failed (it answers 6987/6988): both give
 * CNIE_ERR_CARD_RESET.
 */
CNIE_EXPORT int cnie_card_resume(cnie_card *c, const char *can);
/*
 * The card's application list from EF.DIR (ISO/IEC 7816-4 8.2.1.1), for
 * diagnostics: *out is the caller's (cnie_p15_dir_free).  Not needed to
 * use the card (open identifies it by SELECT of the PKI AID): 2 APDUs
 * plus a SELECT of the PKI application afterwards.  No EF.DIR:
 * CNIE_ERR_NOT_FOUND.
 */
CNIE_EXPORT int cnie_card_applications(cnie_card *c, cnie_p15_dir **out);
/* Connects to reader in ctx (borrowed) and opens the card there. */
CNIE_EXPORT int cnie_card_open_reader(cnie_pcsc *ctx, const char *reader, cnie_card **out);
/* Wipes and frees *c (and its transport), sets *c to NULL (NULL-safe). */
CNIE_EXPORT void cnie_card_free(cnie_card **c);

/*
 * The transport commands go through (borrowed, valid for the card's life):
 * stats, name.  Under PACE: the secure messaging transport.
 */
CNIE_EXPORT cnie_transport *cnie_card_transport(cnie_card *c);

/*
 * TokenInfo serial number (upper-case hex) and label.  *out borrowed,
 * valid for the card's life.  Reads the PKCS#15 structures on first use.
 */
CNIE_EXPORT int cnie_card_serial(cnie_card *c, const char **out);
CNIE_EXPORT int cnie_card_label(cnie_card *c, const char **out);

/* Number of private keys (PrKDF RSA and EC entries). */
CNIE_EXPORT int cnie_card_key_count(cnie_card *c, size_t *n);
/* Describes key i (0-based); CNIE_ERR_NOT_FOUND past the end. */
CNIE_EXPORT int cnie_card_get_key(cnie_card *c, size_t i, cnie_card_key_info *info);

/* A certificate of the CDF: the keys' own and the CA certificates. */
typedef struct cnie_card_cert_info {
	uint8_t id[CNIE_CARD_MAX_ID]; /* PKCS#15 iD (a key's certificate: the key's iD) */
	size_t id_len;
	char label[CNIE_CARD_MAX_LABEL + 1];
	bool authority; /* CommonCertificateAttributes.authority: a CA certificate */
} cnie_card_cert_info;

/* Number of certificates in the CDF (with and without a private key). */
CNIE_EXPORT int cnie_card_cert_count(cnie_card *c, size_t *n);
/* Describes certificate i (0-based, CDF order); CNIE_ERR_NOT_FOUND past the end. */
CNIE_EXPORT int cnie_card_get_cert(cnie_card *c, size_t i, cnie_card_cert_info *info);

/*
 * The X.509 certificate (DER) whose iD is id.  *der borrowed from the
 * card's cache (valid for the card's life); read from the card on first
 * request.  CNIE_ERR_NOT_FOUND when the CDF has none.
 */
CNIE_EXPORT int cnie_card_certificate(cnie_card *c, const uint8_t *id, size_t id_len,
    const uint8_t **der, size_t *der_len);

/*
 * User PIN status by an empty VERIFY (ISO 7816-4 11.5.6: spends no try).
 * *tries_left: -1 when the card does not tell (PIN verified), else 0..15.
 * Any pointer may be NULL.
 */
CNIE_EXPORT int cnie_card_pin_status(cnie_card *c, int *tries_left, bool *blocked,
    bool *verified);

/*
 * Logs out: VERIFY with P1 = FF and no data on the user PIN's reference
 * (ISO/IEC 7816-4:2013 11.5.6) resets the card's verification status of
 * the PIN; a key operation then needs cnie_card_pin_verify again.  Fine
 * without a login (the card answers 9000 all the same).
 */
CNIE_EXPORT int cnie_card_logout(cnie_card *c);

/*
 * PUK status (the user PIN's unblocking PIN in the AODF) by an empty
 * VERIFY on its reference: spends no try.  *tries_left: -1 when the card
 * does not tell, else 0..15; *blocked when 0 (6983 or 63C0).  Selects the
 * PKI application again when the card answers 6A88 (another DF current).
 * Any pointer may be NULL.
 */
CNIE_EXPORT int cnie_card_puk_status(cnie_card *c, int *tries_left, bool *blocked);

/*
 * Verifies the user PIN (NUL-terminated ASCII digits, min..max from the
 * AODF).  CNIE_ERR_PIN_INCORRECT with *tries_left (may be NULL) set,
 * CNIE_ERR_PIN_BLOCKED, CNIE_ERR_PIN_FORMAT (nothing sent).
 */
CNIE_EXPORT int cnie_card_pin_verify(cnie_card *c, const char *pin, int *tries_left);
/*
 * Verifies the user PIN on the reader's PIN pad (PC/SC part 10
 * FEATURE_VERIFY_PIN_DIRECT): the PIN never reaches the host.  Errors as
 * cnie_card_pin_verify, plus CNIE_ERR_PINPAD_TIMEOUT, CNIE_ERR_PINPAD_CANCELLED;
 * a reader without the feature, or a card under the library's own PACE
 * (the reader's VERIFY would be plain, outside our secure messaging):
 * CNIE_ERR_UNSUPPORTED.  Under the reader's PACE (cnie_card_open_ex on a
 * reader with caps->reader_pace) the reader sends the VERIFY inside its
 * own secure messaging: the PIN pad works, and neither CAN nor PIN
 * reaches the computer.
 */
CNIE_EXPORT int cnie_card_pin_verify_pinpad(cnie_card *c, int *tries_left);
/* CHANGE REFERENCE DATA old -> new; errors as cnie_card_pin_verify. */
CNIE_EXPORT int cnie_card_pin_change(cnie_card *c, const char *old_pin, const char *new_pin,
    int *tries_left);
/*
 * CHANGE REFERENCE DATA entered on the reader's PIN pad (PC/SC part 10
 * FEATURE_MODIFY_PIN_DIRECT, PIN_MODIFY_STRUCTURE 2.5.3): the current PIN,
 * then the new PIN twice; the reader pads each into the card's
 * old(max) || new(max) FF-padded blocks.  Errors as cnie_card_pin_change,
 * plus CNIE_ERR_PINPAD_TIMEOUT (6400), CNIE_ERR_PINPAD_CANCELLED (6401);
 * the new PIN and its confirmation differ (6402) or a PIN of the wrong
 * length (6403): CNIE_ERR_PIN_FORMAT, nothing sent to the card, no try
 * spent.  A reader without the feature, or a card under the library's
 * own PACE: CNIE_ERR_UNSUPPORTED (the reader's PACE is fine, as for
 * cnie_card_pin_verify_pinpad).
 */
CNIE_EXPORT int cnie_card_pin_change_pinpad(cnie_card *c, int *tries_left);
/*
 * RESET RETRY COUNTER with the PUK, setting new_pin.  A wrong PUK:
 * CNIE_ERR_PIN_INCORRECT with the PUK's tries; a blocked PUK:
 * CNIE_ERR_PIN_BLOCKED.
 */
CNIE_EXPORT int cnie_card_pin_unblock(cnie_card *c, const char *puk, const char *new_pin,
    int *tries_left);

typedef enum cnie_card_mech_type {
	CNIE_CARD_MECH_RSA_PKCS1 = 1,	/* in: hash; the library adds DigestInfo */
	CNIE_CARD_MECH_RSA_PKCS1_RAW,	/* in: DigestInfo (or any block <= k-11) */
	CNIE_CARD_MECH_RSA_PSS,		/* in: hash; MGF1 same hash, salt = hash length */
	CNIE_CARD_MECH_ECDSA,		/* in: hash */
} cnie_card_mech_type;

/* cnie_card_hash (the hash of a mechanism) is in cnie/hash.h. */

/* ECDSA: return a DER ECDSA-Sig-Value (RFC 3279) instead of r || s. */
#define CNIE_CARD_SIG_ECDSA_DER 0x01

typedef struct cnie_card_mech {
	cnie_card_mech_type type;
	cnie_card_hash hash;
	unsigned flags; /* CNIE_CARD_SIG_* */
} cnie_card_mech;

/*
 * Signs in with key id (MSE:SET DST then PSO: COMPUTE DIGITAL SIGNATURE,
 * in one transport transaction).  sig == NULL: *sig_len gets the largest
 * size and nothing is sent.  A buffer smaller than that largest size:
 * CNIE_ERR_BUFFER_TOO_SMALL before anything is sent.  On success *sig_len
 * is the signature's length.  An always_pin key needs a cnie_card_pin_verify
 * right before each call (else CNIE_ERR_SW_SECURITY_STATUS).
 */
CNIE_EXPORT int cnie_card_sign(cnie_card *c, const uint8_t *id, size_t id_len,
    const cnie_card_mech *mech, const uint8_t *in, size_t in_len, uint8_t *sig,
    size_t *sig_len);

/* As cnie_card_sign with MSE:SET AT and INTERNAL AUTHENTICATE (auth key). */
CNIE_EXPORT int cnie_card_internal_auth(cnie_card *c, const uint8_t *id, size_t id_len,
    const cnie_card_mech *mech, const uint8_t *in, size_t in_len, uint8_t *sig,
    size_t *sig_len);

#ifdef __cplusplus
}
#endif

#endif
