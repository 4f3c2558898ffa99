/*
 * cnie-pkcs11.so internals: a thin Cryptoki 2.40 front end over libcnie.
 *
 * Locking: one global mutex (g.lock) guards the slot table, the session
 * table and the initialisation state; each slot has its own mutex guarding
 * its token (card, objects, login state).  Order: the global lock may be
 * taken first and then a slot lock, never the reverse.  Card operations
 * (which can take seconds on a PIN pad) run under the slot lock only, so
 * two tokens work in parallel.  Each slot has its own PC/SC context
 * because pcsc-lite serialises calls per SCARDCONTEXT; C_WaitForSlotEvent
 * waits on one more context of its own, cancelled by C_Finalize.
 */
#ifndef CNIE_P11_INT_H
#define CNIE_P11_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

#include <openssl/evp.h>

#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/pcsc.h>

#define P11_MAX_SLOTS 16
#define P11_MAX_KEYS 8
#define P11_MAX_CERTS 8	/* CDF certificates without a key (the CA's) */
#define P11_MAX_OBJECTS (3 * P11_MAX_KEYS + P11_MAX_CERTS)
#define P11_MAX_ATTRS 40
#define P11_MAX_PIN 64
#define P11_MAX_SESSIONS 128
#define P11_MAX_RAW_INPUT 1024 /* buffered input of a multi-part raw mechanism */

#define P11_NO_KEY ((size_t)-1)

/* One attribute value of an object (owned bytes). */
typedef struct p11_attr {
	CK_ATTRIBUTE_TYPE type;
	uint8_t *value;
	size_t len;
} p11_attr;

typedef struct p11_object {
	CK_OBJECT_CLASS cls;
	size_t key;	/* index into the token's keys; P11_NO_KEY for a CA certificate */
	bool private_; /* CKA_PRIVATE: visible only when logged in */
	p11_attr attrs[P11_MAX_ATTRS];
	size_t nattrs;
} p11_object;

/* p11_pace.c: the CAN of a contactless card, kept in a locked page. */
typedef struct p11_can p11_can;

/* A token: one recognised card in one slot, from insertion to removal. */
typedef struct p11_token {
	/*
	 * NULL while a contactless card waits for PACE (README
	 * "Contactless"): the token is shown, its objects appear after
	 * C_Login runs PACE.
	 */
	cnie_card *card;
	cnie_transport *link;	/* contactless, before PACE: the connection */
	bool contactless;	/* the card is reached over ISO 14443: PACE */
	bool reader_pace;	/* the reader runs PACE with its keypad: no CAN here */
	p11_can *can;		/* contactless: the CAN PACE accepted (until removal) */
	int can_note;		/* P11_CAN_NOTE_*: what the next CAN dialog says first */
	uint32_t gen; /* bumped on each new token in the slot: stale handles fail */
	char serial[17];
	char label[33];
	cnie_card_key_info keys[P11_MAX_KEYS];
	size_t nkeys;
	bool objects_built;
	p11_object objects[P11_MAX_OBJECTS];
	size_t nobjects;
	bool logged_in;
	bool pin_known; /* tries below are from the card */
	int tries_left; /* -1 unknown */
	bool pin_blocked;
} p11_token;

typedef struct p11_slot {
	pthread_mutex_t lock;
	char *reader;
	bool gone;	   /* reader no longer listed (guarded by the global lock) */
	bool pinpad;
	cnie_pcsc *pcsc;   /* this slot's own PC/SC context (lazy) */
	uint32_t events;   /* pcsc-lite insert/remove counter at token open */
	bool have_token;
	bool unrecognised; /* a card is present but is not a CNIE */
	uint32_t bad_events; /* counter when the card was found unrecognised */
	p11_token tok;
	uint32_t next_gen;
	/* sessions of this slot (guarded by lock) */
	struct p11_session *sess[P11_MAX_SESSIONS];
	size_t nsess;
	uint32_t seq;
	size_t index;
	/* C_WaitForSlotEvent: the state last reported (guarded by the global lock) */
	bool wait_present;
	uint32_t wait_events;
	bool wait_pending;
} p11_slot;

typedef struct p11_sign_state {
	CK_MECHANISM_TYPE mech;
	size_t key;		/* token key index */
	cnie_card_mech cm;	/* what the card is asked */
	const EVP_MD *md;	/* hashing mechanisms: hash computed here */
	EVP_MD_CTX *mdctx;
	size_t pss_hash_len;	/* raw PSS: the hash length the params name */
	uint8_t raw[P11_MAX_RAW_INPUT];
	size_t raw_len;
	bool multi;		/* C_SignUpdate was called */
	bool always_auth;	/* needs C_Login(CKU_CONTEXT_SPECIFIC) */
	bool ctx_login_done;
	bool internal_auth;	/* CKM_RSA_PKCS on the authentication key */
} p11_sign_state;

typedef struct p11_session {
	bool rw;
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
	uint32_t gen;
	CK_FLAGS flags;
	bool finding;
	bool signing;
	CK_OBJECT_HANDLE found[P11_MAX_OBJECTS];
	size_t nfound, pos;
	p11_sign_state sign;
} p11_session;

/* p11_error.c: the one table from cnie_error to CKR_*. */
CK_RV p11_ckr(int cnie_err);

/* p11_object.c */
int p11_objects_build(p11_token *t);
void p11_objects_free(p11_token *t);
CK_OBJECT_HANDLE p11_object_handle(const p11_token *t, size_t idx);
/* Object index for handle h, or -1 (stale generation, out of range). */
long p11_object_index(const p11_token *t, CK_OBJECT_HANDLE h);
bool p11_object_visible(const p11_token *t, size_t idx);
bool p11_object_match(const p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV p11_object_get(const p11_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG n);
const p11_attr *p11_object_attr(const p11_object *o, CK_ATTRIBUTE_TYPE type);

/* p11_pace.c */
/*
 * Asks the CAN through the pinentry (CNIE_PINENTRY, else "pinentry"), the
 * dialog naming the application and the reader.  note: what the dialog
 * says about the last answer.  0 with 1..12 digits in can;
 * CNIE_ERR_CANCELLED, CNIE_ERR_TIMEOUT, CNIE_ERR_INVALID_ARG (not digits:
 * nothing sent), CNIE_PINENTRY_ERR_FAILED (logged).
 */
#define P11_CAN_NOTE_NONE 0
#define P11_CAN_NOTE_REFUSED 1 /* the card refused the last CAN (PACE failed) */
#define P11_CAN_NOTE_FORMAT 2  /* the last answer was not 1..12 digits */
int p11_can_ask(const char *reader, int note, char *can, size_t cap);
int p11_can_keep(p11_can **out, const char *can);
/* The kept CAN (NUL-terminated), NULL when none. */
const char *p11_can_value(const p11_can *c);
/* Wipes, unlocks and frees *c; sets it to NULL (NULL-safe). */
void p11_can_wipe(p11_can **c);
/* Zeroes the CAN of a slot a fork child inherited (nothing else touched). */
void p11_can_forget_in_child(p11_can *c);

/* p11_sign.c */
/* The mechanisms for tokens with RSA and/or EC keys. */
CK_RV p11_mech_list(bool rsa, bool ec, CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV p11_mech_info(bool rsa, bool ec, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
/* Validates mech against key and fills st (no APDU). */
CK_RV p11_sign_init(p11_sign_state *st, const CK_MECHANISM *mech,
    const cnie_card_key_info *key, size_t key_idx);
CK_RV p11_sign_update(p11_sign_state *st, const uint8_t *in, size_t n);
/* The largest signature for the operation's key. */
size_t p11_sign_max_len(const p11_sign_state *st, const cnie_card_key_info *key);
/*
 * Hashes if needed and signs on the card (c under its slot's lock).  When
 * the card answers CNIE_ERR_CARD_RESET (a contactless session another
 * program ended) and resume(arg) re-establishes it, the same input is
 * sent once more (nothing was signed).
 */
CK_RV p11_sign_final(p11_sign_state *st, cnie_card *c, const cnie_card_key_info *key,
    uint8_t *sig, size_t *sig_len, int *cnie_err, int (*resume)(void *), void *arg);
void p11_sign_clear(p11_sign_state *st);

#endif
