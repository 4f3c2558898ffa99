/*
 * Public API.  The in-process reference card: a transport whose card is
 * the project's emulator (drivers/emu) running inside the calling process.
 * The embedded default of the demo and many tests: no reader, no pcscd, no
 * root.
 */
#ifndef CNIE_REFCARD_H
#define CNIE_REFCARD_H

#include <stdbool.h>

#include <cnie/export.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Powers up the card stored in card_dir (a directory written by
 * cnie-perso, docs/card-dir.md) and returns a transport to it (caller
 * frees).  state_path: the PIN/PUK counter file (NULL: card_dir/state.json).
 * contactless: reach the card as over ISO 14443 (PACE needed for the PKI
 * application).
 *
 * The emulator is not part of libcnie: the first call loads
 * libcnie-refcard.so.1 (test equipment, installed with the "testing"
 * component) from libcnie's directory or the dynamic linker's path.
 * Without it: CNIE_ERR_UNSUPPORTED, and an error logged naming the library.
 */
CNIE_EXPORT int cnie_refcard_open(const char *card_dir, const char *state_path,
    bool contactless, cnie_transport **out);

#ifdef __cplusplus
}
#endif

#endif
