/*
 * The reference card: an emulator of the CNIE card profile
 * (docs/card-profile.md).  Used by the virtual reader driver (drivers/ifd)
 * and, through libcnie-refcard.so.1 (refcard_module.c), by libcnie's
 * in-process transport (cnie_refcard_open).  The emulator is hostile-input
 * safe: any byte string given to cnie_emu_transmit() gets a status word,
 * never a crash.
 *
 * A card is a directory written by the personalisation tool
 * (docs/card-dir.md): card.json plus the files and keys it names.  The
 * persistent state (PIN/PUK counters) lives in a state file written
 * atomically, so it survives a restart of the host process.
 */
#ifndef CNIE_EMU_H
#define CNIE_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnie_emu cnie_emu;

typedef enum cnie_emu_iface {
	CNIE_EMU_CONTACT = 0,
	CNIE_EMU_CONTACTLESS = 1,
} cnie_emu_iface;

/* Optional timing model (all zero = off, the default). */
typedef struct cnie_emu_timing {
	uint32_t apdu_latency_us;  /* fixed cost per APDU */
	uint32_t bit_rate;	   /* interface bits per second (0 = infinite) */
	uint32_t rsa_op_us;	   /* per RSA private-key operation */
	uint32_t ec_op_us;	   /* per EC private-key operation */
	uint32_t pace_us;	   /* per PACE/BAC/CA key agreement step */
} cnie_emu_timing;

/*
 * Loads the card in card_dir.  state_path names the state file (NULL:
 * card_dir/state.json).  Returns 0 or a negative cnie_error code; *out is
 * owned by the caller (free with cnie_emu_free).
 */
int cnie_emu_open(const char *card_dir, const char *state_path, cnie_emu **out);
/*
 * As cnie_emu_open; on failure err (errlen bytes, may be NULL) gets a
 * message naming the field or file at fault, e.g.
 * "card.json: pins[0].min: expected an integer 1..16".
 */
int cnie_emu_open_ex(const char *card_dir, const char *state_path, cnie_emu **out, char *err,
    size_t errlen);
void cnie_emu_free(cnie_emu **emu);

/* Powers the card up on an interface (dropping every security state) and returns its ATR. */
int cnie_emu_power_on(cnie_emu *emu, cnie_emu_iface iface, uint8_t *atr, size_t *atr_len);
/* Powers down: all security state (PIN verified, SM sessions) is dropped. */
void cnie_emu_power_off(cnie_emu *emu);

/*
 * Processes one command APDU.  *resp_len is in (capacity, at least
 * CNIE_EMU_MAX_RESP) and out (bytes written, data + SW).  Returns 0 when
 * a response was produced (whatever the status word), negative only for
 * caller errors (card not powered: CNIE_ERR_NO_CARD; NULL arguments).
 */
#define CNIE_EMU_MAX_RESP (65536 + 2)
int cnie_emu_transmit(cnie_emu *emu, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len);

/*
 * Sets the timing model (NULL = off).  At open, the environment variable
 * CNIE_EMU_TIMING="latency_us,bit_rate,rsa_us,ec_us,pace_us" sets it too.
 */
void cnie_emu_set_timing(cnie_emu *emu, const cnie_emu_timing *t);

/* Counters since open (for benches). */
typedef struct cnie_emu_stats {
	uint64_t apdus;	    /* command APDUs answered */
	uint64_t bytes_in;  /* command bytes received */
	uint64_t bytes_out; /* response bytes sent (SW included) */
	uint64_t key_ops;   /* private-key operations (RSA, EC, PACE/BAC/CA steps) */
	uint64_t slept_us;  /* time spent sleeping in the timing model */
} cnie_emu_stats;
void cnie_emu_get_stats(const cnie_emu *emu, cnie_emu_stats *st);
/* Number of command APDUs answered since open. */
uint64_t cnie_emu_apdu_count(const cnie_emu *emu);

/* Test hooks. */
/* Deterministic randomness: every random byte the card draws comes from a
 * DRBG seeded with seed (or, with cnie_emu_queue_random, exact bytes). */
int cnie_emu_set_seed(cnie_emu *emu, const uint8_t *seed, size_t n);
/* The next random draws return exactly these bytes (for the ICAO worked examples). */
int cnie_emu_queue_random(cnie_emu *emu, const uint8_t *bytes, size_t n);
/* The card answers every command with random garbage. */
void cnie_emu_set_garbage(cnie_emu *emu, bool on);
/* Off: PIN counters and values change in memory only, the state file is
 * neither written nor removed (fuzzing, benches).  On by default. */
void cnie_emu_set_persist(cnie_emu *emu, bool on);
/* Test hook: PIN/PUK counters and values back to card.json's (the state
 * file is left alone), and a power-off.  Lets a fuzzer reuse one card. */
void cnie_emu_reset_state(cnie_emu *emu);

#ifdef __cplusplus
}
#endif

#endif
