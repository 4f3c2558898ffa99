/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; the virtual reader driver and the tests reach it through
 * the cnie_internal target).
 *
 * PACE run by the reader: PC/SC part 10 amendment 1 (FEATURE_EXECUTE_PACE,
 * tag 0x20), as implemented by BSI TR-03119 readers.  One control code
 * carries three functions; every exchange is
 *
 *   in:  bFunction (1) || wLengthInputData (2, LE) || abData
 *   out: dwResult (4, LE) || wLengthOutputData (2, LE) || abData
 *
 * (part 10 2.5.1: integers are in the machine's byte order, little-endian
 * on every host we build for; OpenSC reader-pcsc.c and AusweisApp read
 * them as little-endian.)
 *
 *   1 GetReaderPACECapabilities  in: -        out: bCapabilities (1)
 *   2 EstablishPACEChannel       in: PinID (1) || lengthCHAT (1) || CHAT ||
 *                                    lengthPIN (1) || PIN ||
 *                                    lengthCertificateDescription (2, LE) ||
 *                                    CertificateDescription
 *                                out: StatusMSESetAT (2, SW1 SW2) ||
 *                                    lengthEF_CardAccess (2, LE) || EF.CardAccess
 *                                    [|| lengthCARcurr (1) || CARcurr ||
 *                                     lengthCARprev (1) || CARprev ||
 *                                     lengthIDicc (2, LE) || IDicc]
 *   3 DestroyPACEChannel         in: -        out: -
 *
 * lengthPIN 0 asks the reader to take the password from its own keypad:
 * the host never holds it.  The bracketed part follows only when Terminal
 * Authentication is to follow (a CHAT was given); this project never sends
 * a CHAT.
 *
 * Everything from the reader is untrusted: the parsers below are bounded
 * and total (tests/unit/test_reader_pace.c, tests/fuzz/fuzz_reader_pace.c).
 */
#ifndef CNIE_READER_PACE_H
#define CNIE_READER_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNIE_RPACE_GET_CAPABILITIES 0x01
#define CNIE_RPACE_ESTABLISH 0x02
#define CNIE_RPACE_DESTROY 0x03

/* bCapabilities (amendment 1; OpenSC and AusweisApp use the same bits). */
#define CNIE_RPACE_CAP_ESIGN 0x10
#define CNIE_RPACE_CAP_EID 0x20
#define CNIE_RPACE_CAP_GENERIC 0x40 /* PACE for any application (what we need) */
#define CNIE_RPACE_CAP_DESTROY 0x80 /* DestroyPACEChannel supported */

/* PinID: the password references of MSE:SET AT (ICAO 9303-11 Table 8). */
#define CNIE_RPACE_PIN_MRZ 0x01
#define CNIE_RPACE_PIN_CAN 0x02
#define CNIE_RPACE_PIN_PIN 0x03
#define CNIE_RPACE_PIN_PUK 0x04

/*
 * dwResult values (amendment 1, Table "Errors"; the same list in
 * AusweisApp's EstablishPaceChannelErrorCode and Open eCard's
 * ExecutePACEResponse).  0xF00XSW1SW2 wraps a card's status word:
 * X = 0 SELECT EF.CardAccess, 1 READ BINARY EF.CardAccess, 2 MSE:SET AT,
 * 3..6 GENERAL AUTHENTICATE steps 1..4.
 */
#define CNIE_RPACE_OK 0x00000000u
#define CNIE_RPACE_ERR_INPUT_LENGTHS 0xD0000001u /* inconsistent lengths in input */
#define CNIE_RPACE_ERR_INPUT_DATA 0xD0000002u	 /* unexpected data in input */
#define CNIE_RPACE_ERR_INPUT_COMBINATION 0xD0000003u /* unexpected combination */
#define CNIE_RPACE_ERR_TLV_SYNTAX 0xE0000001u	 /* syntax error in the card's TLV */
#define CNIE_RPACE_ERR_TLV_OBJECT 0xE0000002u	 /* unexpected or missing object */
#define CNIE_RPACE_ERR_PIN_ID 0xE0000003u	 /* unknown PIN-ID */
#define CNIE_RPACE_ERR_TOKEN 0xE0000006u	 /* wrong authentication token */
#define CNIE_RPACE_SW_SELECT 0xF0000000u	 /* | SW of SELECT EF.CardAccess */
#define CNIE_RPACE_SW_READ 0xF0010000u		 /* | SW of READ BINARY */
#define CNIE_RPACE_SW_MSE 0xF0020000u		 /* | SW of MSE:SET AT */
#define CNIE_RPACE_SW_GA1 0xF0030000u		 /* | SW of GENERAL AUTHENTICATE 1 (+1 per step) */
#define CNIE_RPACE_ERR_COMM 0xF0100001u		 /* communication abort */
#define CNIE_RPACE_ERR_NO_CARD 0xF0100002u	 /* no card */
#define CNIE_RPACE_ERR_ABORT 0xF0200001u	 /* cancelled on the keypad */
#define CNIE_RPACE_ERR_TIMEOUT 0xF0200002u	 /* no entry on the keypad in time */

/* Most bytes of one exchange either way (wLength is 16 bits). */
#define CNIE_RPACE_MAX_IO (6u + 65535u)

/*
 * The command of an exchange without input data (GetReaderPACECapabilities,
 * DestroyPACEChannel): 3 bytes written to out.
 */
void cnie_rpace_simple_input(uint8_t function, uint8_t out[3]);

/*
 * EstablishPACEChannel for pin_id with no CHAT, the password typed on the
 * reader's keypad (lengthPIN 0) and no certificate description: 8 bytes
 * written to out.
 */
void cnie_rpace_establish_input(uint8_t pin_id, uint8_t out[8]);

/*
 * Splits one reader answer into dwResult and its output data (borrowed
 * from p).  CNIE_ERR_TRUNCATED when shorter than 6 bytes,
 * CNIE_ERR_ENCODING when wLengthOutputData disagrees with the bytes given.
 */
int cnie_rpace_split(const uint8_t *p, size_t n, uint32_t *result, const uint8_t **data,
    size_t *data_len);

/*
 * GetReaderPACECapabilities output data: bCapabilities alone (what OpenSC
 * and the readers it drives send), or the spec's bLengthCapabilities (1)
 * followed by it.  Anything else: CNIE_ERR_ENCODING.
 */
int cnie_rpace_parse_caps(const uint8_t *data, size_t n, uint8_t *caps);

/* A successful EstablishPACEChannel's output data (pointers borrowed). */
typedef struct cnie_rpace_establish {
	uint16_t mse_sw;		/* StatusMSESetAT */
	const uint8_t *card_access;	/* EF.CardAccess as the reader read it */
	size_t card_access_len;
	const uint8_t *car_curr, *car_prev, *id_icc; /* NULL when absent */
	size_t car_curr_len, car_prev_len, id_icc_len;
} cnie_rpace_establish;

/*
 * Parses EstablishPACEChannel output data: every length checked against
 * what is left, nothing may follow the last field.  An empty output (some
 * readers send none with an error result) is CNIE_ERR_TRUNCATED.
 */
int cnie_rpace_parse_establish(const uint8_t *data, size_t n, cnie_rpace_establish *out);

/*
 * dwResult of EstablishPACEChannel as an error: 0 for CNIE_RPACE_OK;
 * CNIE_ERR_PACE when the card refused the password (a warning 63xx or
 * 6982/6988/6300 to a GENERAL AUTHENTICATE step, as 9303-11 4.4.4.2 and
 * pace.c read them) or the card's token did not verify;
 * CNIE_ERR_PINPAD_CANCELLED, CNIE_ERR_PINPAD_TIMEOUT for the keypad;
 * CNIE_ERR_NO_CARD; CNIE_ERR_COMM; CNIE_ERR_BAD_RESPONSE for a card answer
 * the reader could not parse; CNIE_ERR_UNSUPPORTED for an unknown PIN-ID;
 * a card's status word otherwise as cnie_sw_to_error gives it (CNIE_ERR_CARD
 * when that is 0); CNIE_ERR_TRANSPORT for anything else.
 */
int cnie_rpace_result_error(uint32_t result);

/* A short English description of dwResult for logs (static string). */
const char *cnie_rpace_result_name(uint32_t result);

#ifdef __cplusplus
}
#endif

#endif
