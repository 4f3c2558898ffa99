/*
 * libifd-cnie-sim internals: the pcsc-lite IFD handler that hosts the
 * reference card (drivers/emu/emu.h) as virtual readers.  Nothing here is
 * exported: the shared object exports only IFDH* (ifd.map).
 *
 *   ifdhandler.c  the IFD handler API v3 entry points (pcsc-lite
 *                 ifdhandler.h), reader index checks, capabilities
 *   ifd_reader.c  one reader: reader.json, card insert/remove/reset,
 *                 the PIN-pad key queue, control commands
 *   ifd_control.c the control socket server (one thread per reader)
 *   ifd_pinpad.c  PC/SC part 10 PIN_VERIFY/PIN_MODIFY structures: bounded
 *                 parsing and PIN formatting into the command APDU (pure)
 *   ifd_pace.c    the PACE reader (type "pace"): PC/SC part 10 amendment 1
 *                 FEATURE_EXECUTE_PACE, the reader's PACE run and its
 *                 secure messaging over the emulated card
 */
#ifndef CNIE_IFD_H
#define CNIE_IFD_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cnie/transport.h>

#include "emu.h"

/* pcsc-lite gives Lun = reader number << 16 | slot (readerfactory.c). */
#define IFD_MAX_READERS 8
#define IFD_ATR_MAX 33
#define IFD_CONFIG_MAX 65536	     /* reader.json size cap */
#define IFD_CTL_LINE_MAX 4096	     /* control command line cap */
#define IFD_CTL_SOCK "control.sock"
#define IFD_KEYS_MAX 8		     /* queued PIN-pad entries */
#define IFD_PIN_MAX 16		     /* digits in one entry */
#define IFD_PIN_DEFAULT_TIMEOUT 30   /* seconds, when bTimerOut is 0 */
#define IFD_RESET_SEEN_MS 2000	     /* reset: wait for pcscd to see the removal */
/* Largest command: extended case 4 (ISO 7816-4 5.1): 4 + 3 + 65535 + 2. */
#define IFD_MAX_COMMAND (4u + 3u + 65535u + 2u)

/* PC/SC part 10 control codes, numbered as the CCID driver does. */
#define IFD_IOCTL_BASE 0x42330000u
#define IFD_IOCTL_VERIFY_PIN_DIRECT (IFD_IOCTL_BASE + 0x06u)
#define IFD_IOCTL_MODIFY_PIN_DIRECT (IFD_IOCTL_BASE + 0x07u)
#define IFD_IOCTL_EXECUTE_PACE (IFD_IOCTL_BASE + 0x20u)

/*
 * IFD_TYPE_PACE: contactless, with a keypad, FEATURE_EXECUTE_PACE and the
 * PIN pad features; the reader runs PACE itself (ifd_pace.c).
 */
enum ifd_type { IFD_TYPE_CONTACT, IFD_TYPE_CONTACTLESS, IFD_TYPE_PINPAD, IFD_TYPE_PACE };

enum ifd_key_kind { IFD_KEY_DIGITS, IFD_KEY_CANCEL, IFD_KEY_TIMEOUT };

/* One PIN-pad entry: the digits a user typed then OK, or Cancel, or nothing. */
struct ifd_key {
	enum ifd_key_kind kind;
	size_t len;
	char digits[IFD_PIN_MAX];
};

struct ifd_reader {
	pthread_mutex_t lk;	/* guards everything below */
	pthread_cond_t cv;	/* CLOCK_MONOTONIC; any state change */
	unsigned idx;
	bool open;
	bool stop_poll;		/* TAG_IFD_STOP_POLLING_THREAD was called */
	enum ifd_type type;
	char dir[PATH_MAX];	/* reader directory (DEVICENAME) */
	char state_dir[PATH_MAX]; /* where state files of inserted cards go, or "" */
	char cfg_card[PATH_MAX];  /* reader.json "card", or "" */
	char cfg_state[PATH_MAX]; /* reader.json "state", or "" */

	/* The card. */
	cnie_emu *emu;		/* non-NULL iff a card is inserted */
	char card[PATH_MAX];
	char state[PATH_MAX];	/* its state file ("" = the card's own) */
	bool powered;
	bool polled;		/* pcscd's event thread called IFDHICCPresence */
	uint8_t atr[IFD_ATR_MAX];
	size_t atr_len;
	uint8_t *scratch;	/* CNIE_EMU_MAX_RESP bytes, wiped after use */
	unsigned long apdus;

	/* Card movement, as seen by pcscd (reset needs a visible removal). */
	uint64_t gen;		/* +1 on every insert and remove */
	uint64_t seen_gen;	/* gen when IFDHICCPresence last answered */

	struct ifd_key keys[IFD_KEYS_MAX];
	size_t nkeys;
	bool pin_waiting;	/* a PIN entry is waiting for keys */

	char last_error[160];

	/*
	 * PACE run by the reader (ifd_pace.c): pace_sm is the secure
	 * messaging session over pace_inner (the card, plain) while a channel
	 * is up; pace_failed after the session broke (APDUs answered 6988).
	 */
	cnie_transport *pace_inner;
	cnie_transport *pace_sm;
	bool pace_failed;

	/* Control socket (ifd_control.c). */
	int listen_fd;
	int wake[2];
	pthread_t ctl_thread;
	bool ctl_running;
};

/* ---- ifd_reader.c --------------------------------------------------- */

/* Sets *ts to ms milliseconds from now on CLOCK_MONOTONIC (the cv's clock). */
void ifd_deadline(struct timespec *ts, long ms);
/* Initialises r's lock and condition variable (once per process). */
int ifd_reader_init(struct ifd_reader *r, unsigned idx);

/* Reads DIR/reader.json into r (r->lk held or r not yet shared). */
int ifd_reader_configure(struct ifd_reader *r, const char *dir);
/* Inserts the card in card_dir; state_path NULL = derived (see ifd_reader.c). Lock held. */
int ifd_reader_insert(struct ifd_reader *r, const char *card_dir, const char *state_path);
/* Removes the card (lock held). */
int ifd_reader_remove(struct ifd_reader *r);
/* Drops the card and every queued key (lock held); used at close. */
void ifd_reader_clear(struct ifd_reader *r);
/*
 * Executes one control command line (reader unlocked on entry) and writes
 * a one-line reply "ok ..." or "error ..." into reply.
 */
void ifd_reader_command(struct ifd_reader *r, char *line, char *reply, size_t cap);
/*
 * Takes the next PIN-pad entry, waiting up to timeout_s seconds (lock
 * held; released while waiting).  Returns 0, CNIE_ERR_TIMEOUT,
 * CNIE_ERR_CANCELLED or CNIE_ERR_NO_CARD.  *k must be wiped by the caller.
 */
int ifd_reader_take_key(struct ifd_reader *r, unsigned timeout_s, struct ifd_key *k);
/* Processes one APDU with the emulator (lock held). */
int ifd_reader_transmit(struct ifd_reader *r, const uint8_t *cmd, size_t n, uint8_t *resp,
    size_t *resp_len);

/* ---- ifd_control.c -------------------------------------------------- */

int ifd_ctl_start(struct ifd_reader *r);
void ifd_ctl_stop(struct ifd_reader *r);

/* ---- ifd_pinpad.c --------------------------------------------------- */

/* A parsed PIN_VERIFY_STRUCTURE or PIN_MODIFY_STRUCTURE (PC/SC part 10 2.5.2, 2.5.3). */
struct ifd_pin_req {
	bool modify;
	uint8_t timeout;	/* bTimerOut: seconds, 0 = reader default */
	uint8_t fmt;		/* bmFormatString */
	uint8_t block;		/* bmPINBlockString */
	uint8_t lenfmt;		/* bmPINLengthFormat */
	uint8_t min, max;	/* wPINMaxExtraDigit */
	uint8_t off_old, off_new; /* bInsertionOffsetOld/New (modify) */
	uint8_t confirm;	/* bConfirmPIN (modify) */
	const uint8_t *apdu;	/* abData: the command template (borrowed) */
	size_t apdu_len;
};

#define IFD_PIN_CONFIRM_NEW 0x01     /* bConfirmPIN b0: enter the new PIN twice */
#define IFD_PIN_CONFIRM_CURRENT 0x02 /* bConfirmPIN b1: enter the current PIN */

/* Parses n bytes from SCardControl; CNIE_ERR_* on any inconsistency. */
int ifd_pin_parse(const uint8_t *p, size_t n, bool modify, struct ifd_pin_req *req);
/*
 * Builds the command APDU into out (cap bytes) with the PIN(s) formatted
 * per the request.  VERIFY: the PIN is new_pin and old is unused.  MODIFY:
 * old is used only when bConfirmPIN asks for the current PIN.  CNIE_ERR_PIN_FORMAT when a PIN's length is outside the
 * request's bounds (the PIN pad answers 64 03); CNIE_ERR_ENCODING when
 * the request itself is inconsistent.
 */
int ifd_pin_build(const struct ifd_pin_req *req, const char *old, size_t old_len,
    const char *new_pin, size_t new_len, uint8_t *out, size_t cap, size_t *out_len);

/* ---- ifd_pace.c ----------------------------------------------------- */

/* A parsed EXECUTE_PACE input (PC/SC part 10 amendment 1; pointers borrowed). */
struct ifd_pace_req {
	uint8_t function; /* CNIE_RPACE_GET_CAPABILITIES, _ESTABLISH, _DESTROY */
	uint8_t pin_id;
	const uint8_t *chat, *pin, *cert_desc;
	size_t chat_len, pin_len, cert_desc_len;
};

/*
 * Parses n bytes from SCardControl: CNIE_ERR_TRUNCATED or _ENCODING when
 * the lengths are inconsistent, CNIE_ERR_TRAILING for unexpected data.
 */
int ifd_pace_parse(const uint8_t *p, size_t n, struct ifd_pace_req *req);
/*
 * Executes one EXECUTE_PACE call (lock held; released while the keypad
 * waits) and writes dwResult || wLengthOutputData || data into out.
 * Errors only when out cannot hold the answer or memory runs out: every
 * protocol outcome is a dwResult.
 */
int ifd_pace_control(struct ifd_reader *r, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t cap, size_t *out_len);
/*
 * One APDU of a client: through the reader's secure messaging while a
 * channel is up, answered 6988 after it broke, plain otherwise (lock held).
 */
int ifd_pace_transmit(struct ifd_reader *r, const uint8_t *cmd, size_t n, unsigned trace_flags,
    uint8_t *resp, size_t *resp_len);
/* Ends the channel (card removed, reset, powered down; reader closed). Lock held. */
void ifd_pace_end(struct ifd_reader *r);

#endif
