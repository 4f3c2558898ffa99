/*
 * On-disk cache of read-only card data (internal to libcnie: not installed, not exported).
 *
 * What is cached: the PKCS#15 structure files (ODF, TokenInfo, AODF, PrKDF,
 * CDF) and the certificates they describe; LDS (ICAO) data groups only
 * when the application asks for it (CNIE_ICAO_READ_CACHED, cnie/icao.h).
 * Never a PIN, PUK, CAN or secure messaging key.  Certificates name the holder:
 * they are public data (the PKCS#11 module shows them to any program), but
 * personal all the same.  They live in $XDG_CACHE_HOME/cnie (default
 * ~/.cache/cnie), a directory of mode 0700 whose files are 0600;
 * CNIE_NO_CACHE=1 in the environment disables the cache, and deleting the
 * directory removes everything it holds.
 *
 * Key: <card serial>-<content check>.  The serial comes from GET DATA
 * 00 CA 00 5A (8 bytes, card-profile.md), the one APDU the cache costs; the
 * content check is the first 8 bytes of SHA-256 of the card's ATR (card
 * product and profile version; no APDU; all zero without an ATR).
 * Threats: another card must never be served another card's data (the
 * serial differs); a card swapped by someone cloning the serial is the
 * issuer's problem (the cache only saves reads, every private-key
 * operation still goes to the card, and a wrong certificate cannot sign).
 * A card updated in place keeps its serial: cnie_card checks the first
 * key operation of a session whose certificate came from the cache
 * against that certificate (CPU only) and, when it does not verify,
 * deletes the card's entries and returns CNIE_ERR_CARD_CHANGED, so stale
 * data lives until the next key operation at most.  [ours]
 *
 * Entry file: header (44 bytes) then content.  Header: magic "CNC1",
 * version (u8, 1), three zero bytes, content length (u32 big-endian),
 * SHA-256 of the content (32 bytes).  A file that fails any check is
 * deleted and reported as a miss: the caller reads the card again and
 * writes the entry anew.  Writes are atomic: temporary file (0600) in the
 * same directory, then rename.  No fsync: after a crash an entry may be
 * empty or torn, which its digest catches (a miss), and a cache is not
 * worth a disk flush on the first use of every card.
 */
#ifndef CNIE_CACHE_H
#define CNIE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>

#define CNIE_CACHE_MAX_SERIAL 16  /* bytes */
#define CNIE_CACHE_CHECK_LEN 8	  /* bytes of the content check */
#define CNIE_CACHE_MAX_ENTRY (256 * 1024)
#define CNIE_CACHE_MAX_NAME 160	  /* entry name: [a-z0-9-] */

typedef struct cnie_cache cnie_cache;

/* True unless CNIE_NO_CACHE is set to a non-empty value other than "0". */
int cnie_cache_enabled(void);

/*
 * Opens the cache of one card (the directory is created, 0700, on first
 * use).  CNIE_ERR_UNSUPPORTED when disabled or no usable directory (not
 * ours, or group/other can access it): the caller reads the card.
 */
int cnie_cache_open(const uint8_t *serial, size_t serial_len, const uint8_t *check,
    size_t check_len, cnie_cache **out);
void cnie_cache_free(cnie_cache **c);

/*
 * Appends entry name to out.  CNIE_ERR_NOT_FOUND on a miss or a corrupt
 * entry (deleted).
 */
int cnie_cache_get(cnie_cache *c, const char *name, cnie_buf *out);
/* Writes entry name atomically. */
int cnie_cache_put(cnie_cache *c, const char *name, const uint8_t *p, size_t n);
/* Deletes entry name (content the caller could not use); a missing one is fine. */
int cnie_cache_remove(cnie_cache *c, const char *name);
/* The path of entry name (for tests and diagnostics). */
int cnie_cache_path(const cnie_cache *c, const char *name, char *out, size_t out_len);

#endif
