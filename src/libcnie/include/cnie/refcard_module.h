/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so).
 *
 * The seam between libcnie's in-process reference-card transport
 * (src/libcnie/refcard.c, behind the public cnie_refcard_open) and the card
 * emulator, which lives in its own library, libcnie-refcard.so.1
 * (drivers/emu: part of the testing install component, never linked into
 * libcnie).  libcnie dlopen()s that library on the first
 * cnie_refcard_open and reads this one table from it; a program that never
 * asks for the reference card never loads the emulator.
 *
 * The table speaks plain C (no libcnie object crosses it): the module holds
 * its own static copy of the libcnie internals it uses, and libcnie keeps
 * the transport object.  Return values are cnie_error codes (one error
 * space: both sides are built from the same src/libcnie/include/cnie/error.h).
 */
#ifndef CNIE_REFCARD_MODULE_H
#define CNIE_REFCARD_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/log.h>

/* The library's file name (its SONAME): found as described in refcard.c. */
#define CNIE_REFCARD_LIBRARY "libcnie-refcard.so.1"
/* The one symbol it exports: a cnie_refcard_module_fn. */
#define CNIE_REFCARD_ENTRY "cnie_refcard_module_v1"
/* Bumped on any change to the table below. */
#define CNIE_REFCARD_ABI 1

typedef struct cnie_refcard_module {
	unsigned abi; /* CNIE_REFCARD_ABI */
	/* The module's messages go to sink at level and below (its own log state). */
	void (*set_log)(cnie_log_level level, cnie_log_sink sink, void *arg);
	/* Loads the card directory (docs/card-dir.md); *card is freed with close. */
	int (*open)(const char *card_dir, const char *state_path, void **card);
	void (*close)(void *card);
	/* Powers up on the contact or contactless interface; the ATR into atr[0..*atr_len). */
	int (*power_on)(void *card, bool contactless, uint8_t *atr, size_t *atr_len);
	void (*power_off)(void *card);
	/* One command APDU; *resp_len in: capacity (at least max_resp), out: bytes written. */
	int (*transmit)(void *card, const uint8_t *cmd, size_t n, uint8_t *resp,
	    size_t *resp_len);
	size_t max_resp;
} cnie_refcard_module;

typedef const cnie_refcard_module *(*cnie_refcard_module_fn)(void);

#endif
