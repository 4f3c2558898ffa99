/*
 * Emulator internals shared by its files: the loaded card (emu_conf.c),
 * the file system (emu_fs.c), PINs and their persistent state
 * (emu_pin.c), the PKI commands (emu_pki.c) and the core (emu.c).
 * Nothing here is exported.
 */
#ifndef CNIE_EMU_INT_H
#define CNIE_EMU_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>

#include "emu.h"
#include "emu_auth.h"

#define EMU_MAX_APPS 8
#define EMU_MAX_FILES 64
#define EMU_MAX_PINS 4
#define EMU_MAX_KEYS 8
#define EMU_NAME_MAX 32
#define EMU_PATH_MAX 32	       /* "3F00-A001-4331" and a margin */
#define EMU_PIN_LEN_MAX 16     /* longest PIN/PUK value accepted in card.json */
#define EMU_FILE_MAX (1u << 20) /* largest elementary file loaded */
#define EMU_ATR_MAX 33
#define EMU_AID_MAX 16
#define EMU_SERIAL_LEN 8       /* 16 hex digits */

/* Status words (ISO 7816-4 clause 5.6). */
#define SW_OK 0x9000
#define SW_EOF 0x6282
#define SW_MEMORY 0x6581
#define SW_WRONG_LENGTH 0x6700
#define SW_CHANNEL 0x6881
#define SW_SM_UNSUPPORTED 0x6882
#define SW_NO_CURRENT_EF 0x6986
#define SW_SECURITY 0x6982
#define SW_BLOCKED 0x6983
#define SW_CONDITIONS 0x6985
#define SW_WRONG_DATA 0x6A80
#define SW_NOT_FOUND 0x6A82
#define SW_WRONG_P1P2 0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_OFFSET 0x6B00
#define SW_INS 0x6D00
#define SW_CLA 0x6E00
#define SW_UNKNOWN 0x6F00

enum emu_acc { EMU_ACC_ALWAYS, EMU_ACC_PIN, EMU_ACC_SM, EMU_ACC_NEVER };

/* What an application demands on an interface before any command but SELECT. */
enum emu_policy { EMU_POL_OPEN, EMU_POL_PACE, EMU_POL_SM };

#define EMU_USE_SIGN 0x01
#define EMU_USE_INTAUTH 0x02
#define EMU_USE_AA 0x04
#define EMU_USE_CA 0x08

/* Algorithm references of MSE:SET DO 80 (our assumption, docs/card-profile.md). */
#define EMU_ALG_RSA_PKCS1 0x02 /* input: DigestInfo; PKCS#1 v1.5 type 1 padding */
#define EMU_ALG_ECDSA 0x04     /* input: the hash; output r || s */
#define EMU_ALG_RSA_PSS 0x05   /* input: the hash; MGF1 same hash, salt = hash length */

struct emu_app {
	char name[EMU_NAME_MAX];
	uint8_t aid[EMU_AID_MAX];
	size_t aid_len;
	uint16_t fid;
	enum emu_policy pol[2]; /* indexed by cnie_emu_iface */
};

struct emu_file {
	char path[EMU_PATH_MAX];
	int app;		/* owning DF: application index, -1 = MF */
	uint16_t fid;
	uint8_t sfi;		/* 0 = none */
	enum emu_acc read;
	uint8_t *data;
	size_t len;
};

struct emu_pin {
	char name[EMU_NAME_MAX];
	uint8_t ref;
	char value[EMU_PIN_LEN_MAX + 1];
	size_t min, max;
	int tries_max;
	int tries;
	int puk;		/* index of the unblocking PIN, -1 = none */
	int app;		/* application the reference lives in, -1 = any DF */
	bool changed;		/* value differs from card.json: persisted */
	char orig_value[EMU_PIN_LEN_MAX + 1]; /* as card.json gives them */
	int orig_tries;
	bool verified;
};

struct emu_key {
	char name[EMU_NAME_MAX];
	bool has_ref;
	uint8_t ref;
	EVP_PKEY *pkey;
	int app;
	unsigned use;		/* EMU_USE_* */
	int pin;		/* PIN index, -1 = none */
	bool always_pin;
	bool rsa;		/* else EC */
	size_t size;		/* RSA modulus bytes or EC order bytes */
};

/* A security environment slot set by MSE:SET (ISO 7816-4 7.5.11). */
struct emu_se {
	int key;		/* key index, -1 = not set */
	uint8_t alg;
};

struct cnie_emu {
	/* The card as loaded (immutable after open). */
	char *state_path;
	uint8_t serial[EMU_SERIAL_LEN];
	uint8_t atr[2][EMU_ATR_MAX];
	size_t atr_len[2];
	bool iface_ok[2];
	bool ext_len;		/* card capabilities: extended Lc/Le */
	struct emu_app apps[EMU_MAX_APPS];
	size_t napps;
	struct emu_file files[EMU_MAX_FILES];
	size_t nfiles;
	struct emu_pin pins[EMU_MAX_PINS];
	size_t npins;
	struct emu_key keys[EMU_MAX_KEYS];
	size_t nkeys;
	char *can, *mrz;
	emu_auth *auth;

	/* Session state: dropped at every power cycle. */
	bool powered;
	cnie_emu_iface iface;
	int cur_df;		/* application index, -1 = MF */
	int cur_ef;		/* file index, -1 = none */
	struct emu_se se_sig, se_auth;
	int sign_permit;	/* PIN index whose VERIFY allows one always_pin signature, -1 */
	bool cmd_sm;		/* the command being handled came under secure messaging */
	cnie_buf *pending;	/* response data left for GET RESPONSE */
	size_t pending_off;
	uint16_t pending_sw;
	cnie_buf *chain;	/* command chaining (ISO 7816-4 5.1.1.1) */
	uint8_t chain_hdr[3];
	bool chain_open;

	/* Randomness (test hooks). */
	uint8_t seed[32];
	uint64_t drbg_ctr;
	uint8_t block[32];
	size_t block_left;
	cnie_buf *queue;

	/*
	 * card.json "icao.plain_errors": how an error status word is answered
	 * under secure messaging (docs/card-profile.md): protected (default),
	 * plain with the session kept, or plain with the session ended.
	 */
	enum { EMU_PLAIN_OFF, EMU_PLAIN_KEEP, EMU_PLAIN_END } plain_errors;
	/* card.json "icao.wrong_key_sw": the answer to a wrong BAC/PACE key. */
	uint16_t wrong_key_sw;
	/* card.json "icao.aa_hash", "icao.aa_trailer" (emu_auth.h). */
	cnie_card_hash aa_hash;
	bool aa_explicit_trailer;
	/* card.json "icao.cam_fault" (emu_auth.h). */
	int cam_fault;

	bool garbage;
	bool no_persist;
	cnie_emu_timing timing;
	cnie_emu_stats stats;
	uint64_t op_us;		/* key-operation time charged to the current APDU */
};

/* emu_conf.c: loads card_dir into e (error text into err). */
int emu_conf_load(cnie_emu *e, const char *card_dir, char *err, size_t errlen);
void emu_conf_free(cnie_emu *e);
int emu_parse_atr(const uint8_t *atr, size_t n, bool *ext_len);
/* Finds the application by name, -1 if none. */
int emu_app_by_name(const cnie_emu *e, const char *name);

/* emu.c: the card's random source (queue, then the DRBG). */
int emu_random(void *arg, uint8_t *out, size_t n);

/* emu_fs.c */
void emu_fs_reset(cnie_emu *e);
int emu_fs_select(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw);
int emu_fs_read_binary(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw);
/* The file with that path, -1 if none. */
int emu_fs_find_path(const cnie_emu *e, const char *path);

/* emu_pin.c */
int emu_pin_load_state(cnie_emu *e, char *err, size_t errlen);
int emu_pin_verify(cnie_emu *e, const cnie_apdu *a, uint16_t *sw);
int emu_pin_change(cnie_emu *e, const cnie_apdu *a, uint16_t *sw);
int emu_pin_reset_retry(cnie_emu *e, const cnie_apdu *a, uint16_t *sw);
/* The user PIN (the one "read": "pin" files ask for): index, -1 if none. */
int emu_pin_user(const cnie_emu *e);
void emu_pin_reset_session(cnie_emu *e);

/* emu_pki.c */
bool emu_pki_owns(const cnie_emu *e, const cnie_apdu *a);
int emu_pki_mse(cnie_emu *e, const cnie_apdu *a, uint16_t *sw);
int emu_pki_pso(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw);
int emu_pki_intauth(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw);
int emu_pki_get_data(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw);
void emu_pki_reset(cnie_emu *e);

#endif
