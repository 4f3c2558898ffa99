/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * Command and response APDUs (ISO/IEC 7816-3 clause 12.1, 7816-4 clause 5).
 *
 * A command carries Nc data bytes and expects up to Ne response bytes.
 * cnie_apdu_encode() picks the case (1, 2, 3, 4) from Nc and Ne and the
 * short or extended form from the sizes; cnie_apdu_decode() is its inverse
 * for the card side (the emulator) and for fuzzing.
 *
 * cnie_apdu_transmit() is the engine every command goes through: it
 * chains long commands (CLA bit 0x10) or uses extended length when the
 * path allows, fetches 61xx with GET RESPONSE, re-issues on 6Cxx with the
 * right Le, and returns the data and the final status word.
 */
#ifndef CNIE_APDU_H
#define CNIE_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/export.h>
#include <cnie/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNIE_APDU_SHORT_MAX_NC 255
#define CNIE_APDU_SHORT_MAX_NE 256
#define CNIE_APDU_EXT_MAX_NC 65535
#define CNIE_APDU_EXT_MAX_NE 65536

/* Command flags. */
#define CNIE_APDU_SENSITIVE 0x01   /* data field is secret: masked in traces */
#define CNIE_APDU_SENSITIVE_RESP 0x02 /* response data is secret or personal: masked */
#define CNIE_APDU_NO_CHAINING 0x04 /* never split with command chaining */
#define CNIE_APDU_FORCE_EXTENDED 0x08 /* encode in extended form even if short fits */
#define CNIE_APDU_NO_GET_RESPONSE 0x10 /* return 61xx as is */

typedef struct cnie_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* Nc bytes (borrowed), NULL when nc == 0 */
	size_t nc;
	size_t ne;	     /* expected response bytes, 0 = no Le field */
	unsigned flags;	     /* CNIE_APDU_* */
} cnie_apdu;

typedef enum cnie_apdu_case {
	CNIE_APDU_CASE_1 = 1,
	CNIE_APDU_CASE_2S,
	CNIE_APDU_CASE_3S,
	CNIE_APDU_CASE_4S,
	CNIE_APDU_CASE_2E,
	CNIE_APDU_CASE_3E,
	CNIE_APDU_CASE_4E,
} cnie_apdu_case;

/* Fills a with a header and no body. */
void cnie_apdu_init(cnie_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2);

/*
 * Encodes a into out (appended).  Nc <= 255 and Ne <= 256 give the short
 * form unless CNIE_APDU_FORCE_EXTENDED; larger values need extended
 * (Nc <= 65535, Ne <= 65536), refused with CNIE_ERR_TOO_LONG when
 * allow_extended is false.  *apdu_case (may be NULL) gets the case used.
 */
int cnie_apdu_encode(const cnie_apdu *a, bool allow_extended, cnie_buf *out,
    cnie_apdu_case *apdu_case);

/*
 * Decodes a command APDU (any case, short or extended) from p[0..n).
 * a->data points into p.  Malformed lengths give CNIE_ERR_ENCODING,
 * short input CNIE_ERR_TRUNCATED, extra bytes CNIE_ERR_TRAILING.
 */
int cnie_apdu_decode(const uint8_t *p, size_t n, cnie_apdu *a,
    cnie_apdu_case *apdu_case);

typedef struct cnie_rapdu {
	const uint8_t *data; /* borrowed from the raw response; NULL when len == 0 */
	size_t len;
	uint16_t sw;
} cnie_rapdu;

/* Splits a raw response into data and SW; fewer than 2 bytes → CNIE_ERR_BAD_RESPONSE. */
int cnie_rapdu_parse(const uint8_t *p, size_t n, cnie_rapdu *r);

/*
 * The APDU engine.  Sends a over t and appends the response data (all
 * GET RESPONSE parts included, SW excluded) to resp; *sw gets the final
 * status word.  Returns 0 whenever the exchange itself worked, whatever
 * the status word: map it with cnie_sw_to_error().  Transport errors and
 * malformed responses are returned as errors.
 */
int cnie_apdu_transmit(cnie_transport *t, const cnie_apdu *a, cnie_buf *resp,
    uint16_t *sw);

/* As cnie_apdu_transmit, and maps the status word: non-9000 → its error. */
int cnie_apdu_transmit_ok(cnie_transport *t, const cnie_apdu *a, cnie_buf *resp,
    uint16_t *sw);

#ifdef __cplusplus
}
#endif

#endif
