/*
 * Transport: how libcnie reaches a card.  Two implementations: PC/SC
 * (cnie/pcsc.h, the production path) and the in-process reference card
 * (the emulator, for the demo and tests).  Everything above the transport
 * (APDU engine, secure messaging, applications) is transport-agnostic.
 *
 * A cnie_transport wraps an implementation (ops + context) and adds what
 * every implementation needs: the APDU trace with secret masking, and
 * counters of APDUs and bytes each way (benchmarks read them).
 */
#ifndef CNIE_TRANSPORT_H
#define CNIE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest response an implementation must be able to return: 65536 + SW. */
#define CNIE_MAX_RESPONSE (65536 + 2)
/* Largest command APDU: header, 3-byte Lc, 65535 data bytes, 2-byte Le. */
#define CNIE_MAX_COMMAND (4 + 3 + 65535 + 2)

typedef struct cnie_transport_caps {
	size_t max_cmd;	      /* largest command APDU (bytes) the path accepts */
	size_t max_resp;      /* largest response (data + SW) the path returns */
	bool extended;	      /* extended-length APDUs usable end to end */
	bool contactless;     /* card reached over ISO 14443 */
	bool pinpad_verify;   /* PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT */
	bool pinpad_modify;   /* PC/SC part 10 FEATURE_MODIFY_PIN_DIRECT */
	uint32_t ioctl_verify; /* control code for VERIFY_PIN_DIRECT */
	uint32_t ioctl_modify; /* control code for MODIFY_PIN_DIRECT */
	/*
	 * PC/SC part 10 amendment 1 FEATURE_EXECUTE_PACE with generic PACE
	 * (GetReaderPACECapabilities bit 0x40): the reader runs PACE itself,
	 * taking the CAN or PIN from its own keypad, and keeps the secure
	 * messaging (cnie_card_open_ex on such a reader talks plainly).
	 */
	bool reader_pace;
	uint32_t ioctl_pace;  /* control code for EXECUTE_PACE */
} cnie_transport_caps;

typedef struct cnie_transport_stats {
	uint64_t apdus;	      /* commands sent to the card */
	uint64_t bytes_sent;  /* command bytes */
	uint64_t bytes_received; /* response bytes, status words included */
	uint64_t controls;    /* reader control (PIN pad) exchanges */
} cnie_transport_stats;

/* What an implementation provides.  ctx is its private state. */
typedef struct cnie_transport_ops {
	/* Sends cmd, writes the response (data + SW) to resp; *resp_len is in/out. */
	int (*transmit)(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
	    size_t *resp_len);
	/* Exclusive access for a multi-APDU operation (may be NULL). */
	int (*begin)(void *ctx);
	int (*end)(void *ctx);
	/* Resets the card (cold when unpower); all card security state is lost. */
	int (*reset)(void *ctx, bool unpower);
	/* Re-attaches after CNIE_ERR_CARD_RESET without resetting again. */
	int (*reconnect)(void *ctx);
	/* Reader control (PC/SC SCardControl); NULL when unsupported. */
	int (*control)(void *ctx, uint32_t code, const uint8_t *in, size_t in_len,
	    uint8_t *out, size_t *out_len);
	/* Current ATR; *n is in/out. */
	int (*atr)(void *ctx, uint8_t *atr, size_t *n);
	/* Releases ctx (disconnects). */
	void (*free)(void *ctx);
} cnie_transport_ops;

typedef struct cnie_transport cnie_transport;

/*
 * Wraps an implementation.  On success *out owns ctx (freed through
 * ops->free); on failure ctx is freed too.  name is copied.
 */
CNIE_EXPORT int cnie_transport_new(const cnie_transport_ops *ops, void *ctx,
    const cnie_transport_caps *caps, const char *name, cnie_transport **out);
/* Disconnects, frees *t and sets it to NULL (NULL-safe). */
CNIE_EXPORT void cnie_transport_free(cnie_transport **t);

/*
 * Sends one raw APDU and appends the response (data and SW) to resp.
 * trace_flags (CNIE_TRACE_*) control masking in the APDU trace.  No status
 * word processing here: see cnie_apdu_transmit().
 */
CNIE_EXPORT int cnie_transport_transmit(cnie_transport *t, const uint8_t *cmd, size_t n,
    unsigned trace_flags, cnie_buf *resp);
CNIE_EXPORT int cnie_transport_begin(cnie_transport *t);
CNIE_EXPORT int cnie_transport_end(cnie_transport *t);
CNIE_EXPORT int cnie_transport_reset(cnie_transport *t, bool unpower);
CNIE_EXPORT int cnie_transport_reconnect(cnie_transport *t);
CNIE_EXPORT int cnie_transport_control(cnie_transport *t, uint32_t code, const uint8_t *in,
    size_t in_len, uint8_t *out, size_t *out_len);
CNIE_EXPORT int cnie_transport_atr(cnie_transport *t, uint8_t *atr, size_t *n);

/* Capabilities (borrowed, valid for the transport's life). */
CNIE_EXPORT const cnie_transport_caps *cnie_transport_get_caps(const cnie_transport *t);
/* Lets the layer above refine capabilities (e.g. from the card's ATR). */
CNIE_EXPORT int cnie_transport_set_caps(cnie_transport *t, const cnie_transport_caps *caps);
/* Name, e.g. the PC/SC reader name (borrowed). */
CNIE_EXPORT const char *cnie_transport_name(const cnie_transport *t);
CNIE_EXPORT void cnie_transport_get_stats(const cnie_transport *t, cnie_transport_stats *s);
CNIE_EXPORT void cnie_transport_reset_stats(cnie_transport *t);

#ifdef __cplusplus
}
#endif

#endif
