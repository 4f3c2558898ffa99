/*
 * PC/SC transport (pcsc-lite winscard API).
 *
 * A cnie_pcsc is one PC/SC context: reader list, waiting for reader and
 * card changes (cancellable from another thread), and connections.  Errors
 * are distinct for the cases a user must tell apart: the service (pcscd)
 * not running (CNIE_ERR_NO_SERVICE), no reader (CNIE_ERR_NO_READER), a
 * named reader absent (CNIE_ERR_READER_NOT_FOUND), no card
 * (CNIE_ERR_NO_CARD), card removed (CNIE_ERR_CARD_REMOVED), card reset by
 * another program (CNIE_ERR_CARD_RESET), card held exclusively
 * (CNIE_ERR_SHARING), access denied (CNIE_ERR_PERMISSION).
 */
#ifndef CNIE_PCSC_H
#define CNIE_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnie_pcsc cnie_pcsc;

#define CNIE_ATR_MAX 33

typedef struct cnie_reader_state {
	bool card_present;
	bool card_in_use;    /* opened by another program (shared) */
	bool card_exclusive; /* held exclusively by another program */
	bool card_mute;	     /* card present but does not answer */
	uint8_t atr[CNIE_ATR_MAX];
	size_t atr_len;
	uint32_t event_count; /* changes on each insert/remove (pcsc-lite) */
} cnie_reader_state;

/* Establishes a PC/SC context; caller frees with cnie_pcsc_free. */
CNIE_EXPORT int cnie_pcsc_new(cnie_pcsc **out);
/* Releases the context and sets *p to NULL (NULL-safe). */
CNIE_EXPORT void cnie_pcsc_free(cnie_pcsc **p);

/*
 * Lists reader names.  *names is a NULL-terminated array owned by the
 * caller (free with cnie_pcsc_free_names).  No reader → CNIE_ERR_NO_READER.
 */
CNIE_EXPORT int cnie_pcsc_list_readers(cnie_pcsc *ctx, char ***names, size_t *count);
CNIE_EXPORT void cnie_pcsc_free_names(char ***names);

/* Current state of one reader, without connecting. */
CNIE_EXPORT int cnie_pcsc_reader_state(cnie_pcsc *ctx, const char *reader,
    cnie_reader_state *st);

/*
 * Blocks until a reader appears or disappears or a card is inserted or
 * removed in any reader, for at most timeout_ms (negative = forever).
 * Returns 0 on a change, CNIE_ERR_TIMEOUT, or CNIE_ERR_CANCELLED when
 * cnie_pcsc_cancel() was called from another thread.
 */
CNIE_EXPORT int cnie_pcsc_wait_change(cnie_pcsc *ctx, int timeout_ms);
/* Wakes a cnie_pcsc_wait_change() in another thread.  Thread-safe. */
CNIE_EXPORT int cnie_pcsc_cancel(cnie_pcsc *ctx);

/*
 * Connects to the card in reader (shared, T=0 or T=1) and returns a
 * transport (caller frees).  Capabilities come from the reader
 * (SCARD_ATTR_MAXINPUT, part 10 features) and the ATR.
 */
CNIE_EXPORT int cnie_pcsc_connect(cnie_pcsc *ctx, const char *reader, cnie_transport **out);

/*
 * What the reader itself offers, without touching a card (a direct
 * connection): the PC/SC part 10 features (PIN pad verify/modify,
 * EXECUTE_PACE with generic PACE) in caps; the card-dependent members
 * (contactless, extended, sizes) stay 0.  Errors as SCardConnect's
 * (e.g. CNIE_ERR_SHARING while another program holds the reader
 * exclusively).
 */
CNIE_EXPORT int cnie_pcsc_reader_caps(cnie_pcsc *ctx, const char *reader,
    cnie_transport_caps *caps);

/* ---- choosing a reader (public API) ---- */

/*
 * The reader name without pcsc-lite's " XX YY" slot numbers (and trailing
 * spaces), NUL-terminated in out (truncated to out_len - 1 bytes); returns
 * its length.  "ACS ACR 38U-CCID 00 00" -> "ACS ACR 38U-CCID".
 */
CNIE_EXPORT size_t cnie_pcsc_reader_base(const char *reader, char *out, size_t out_len);

/* cnie_pcsc_select_reader flags. */
#define CNIE_PCSC_SELECT_EXACT 0x01u /* wanted must be a reader's full name */
#define CNIE_PCSC_SELECT_CARD 0x02u  /* the named reader must hold a card */

/*
 * Chooses the one reader an operation uses, as every program of the
 * project does.  wanted given (not NULL, not ""): the reader named exactly
 * wanted, else (without CNIE_PCSC_SELECT_EXACT) the one whose name without
 * slot numbers is wanted, else the only one whose name contains wanted.
 * wanted NULL or "": the only reader holding a card (never a guess among
 * several).  On 0, *chosen gets the reader's name (caller frees with free()).
 * Errors: CNIE_ERR_NO_READER; CNIE_ERR_READER_NOT_FOUND (no name fits
 * wanted); CNIE_ERR_NO_CARD (no reader holds a card, or with
 * CNIE_PCSC_SELECT_CARD the named one does not); CNIE_ERR_INVALID_ARG
 * when wanted fits several names and CNIE_ERR_BUSY when several readers
 * hold a card: then, when matches is not NULL, *matches gets the readers
 * that fit (NULL-terminated, free with cnie_pcsc_free_names) so the caller
 * can list them; *matches is NULL in every other case.
 */
CNIE_EXPORT int cnie_pcsc_select_reader(cnie_pcsc *ctx, const char *wanted, unsigned flags,
    char **chosen, char ***matches);

/* Maps a PC/SC return code (LONG) to the error space. */
CNIE_EXPORT int cnie_pcsc_error(long rv);

#ifdef __cplusplus
}
#endif

#endif
