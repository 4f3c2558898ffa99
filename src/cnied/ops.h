/*
 * The card operations, worker thread side.  Card access is libcnie only
 * (card.h, icao.h, lds.h): no APDU here.  Secrets (PIN, CAN) live in stack
 * buffers wiped before the function that asked for them returns; the CAN
 * of a PKI operation lives in cnied_op_run's, for that one request only.
 *
 * A cnied_card_ctx is what the worker keeps between jobs: the PC/SC
 * context, the open reference card and the PIN tries each card reported.
 * One per worker; only its thread touches it.
 */
#ifndef CNIED_OPS_H
#define CNIED_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include <cnie/card.h>
#include <cnie/pcsc.h>

#include "cnied.h"
#include "job.h"

/* ---- tries.c: PIN tries left, per reader and card -------------------- */
#define CNIED_TRIES_SLOTS 8
#define CNIED_CARD_ID_MAX 65 /* card serial (hex) or "", NUL included */

typedef struct cnied_tries {
	struct {
		char reader[CNIED_READER_MAX];
		char card[CNIED_CARD_ID_MAX];
		int tries; /* -1: free slot */
		unsigned long stamp; /* last use, for reuse of the oldest slot */
	} slot[CNIED_TRIES_SLOTS];
	unsigned long clock;
} cnied_tries;

void cnied_tries_init(cnied_tries *t);
/* The tries left a wrong PIN reported for this reader and card; -1: none known. */
int cnied_tries_get(const cnied_tries *t, const char *reader, const char *card);
/* Remembers tries (>= 0) for reader and card; tries < 0 forgets them. */
void cnied_tries_set(cnied_tries *t, const char *reader, const char *card, int tries);

/* ---- ops.c: the worker's card context and what the operations share --- */
typedef struct cnied_card_ctx {
	const cnied_config *cfg;
	cnie_pcsc *pcsc;	 /* PC/SC context of the worker thread */
	cnie_card *ref_card;	 /* reference card: kept open across jobs */
	char ref_state[4200];	 /* reference card's counter file */
	cnied_tries tries;
	/* Origins the holder let read the certificates (op_certificate.c). */
	char consented[CNIED_MAX_ORIGINS][CNIED_MAX_ORIGIN_LEN + 1];
	size_t nconsented;
} cnied_card_ctx;

void cnied_card_ctx_init(cnied_card_ctx *w, const cnied_config *cfg);
void cnied_card_ctx_clear(cnied_card_ctx *w);
/* Runs job->op on the card: job->err, job->answer, job->tries_left... */
void cnied_op_run(cnied_card_ctx *w, cnied_job *job);
/* "certificate", "authenticate", "sign", "identity" (audit, logs). */
const char *cnied_op_name(cnied_op op);
/* "<origin> wants to log you in with your CNIE card.": the dialogs' first
 * sentence, one whole translated sentence per operation. */
void cnied_op_asks(char *out, size_t max, const cnied_job *job);

/* Chooses the reader: the one asked for ("" = any), else the only one with a card. */
int cnied_pick_reader(cnied_card_ctx *w, const char *wanted, char *out, size_t max);
/* Asks the CAN through pinentry, naming the origin and the operation. */
int cnied_ask_can(cnied_card_ctx *w, const cnied_job *job, char *can, size_t max);
/*
 * Opens the PKI application (the reference card stays open); reader gets
 * its name.  can (CNIED_SECRET_MAX bytes) gets the CAN the holder gave when
 * the card needed PACE, else "": the caller wipes it when the request ends.
 */
int cnied_card_open(cnied_card_ctx *w, cnied_job *job, const char *want, cnie_card **out,
    char *reader, size_t rmax, char *can);
/* Ends a job's use of the card; err decides whether the reference card is reopened. */
void cnied_card_release(cnied_card_ctx *w, cnie_card **c, int err);
/* The key for the operation: authentication (sign usage only) or signature. */
int cnied_find_key(cnie_card *c, bool sign, cnie_card_key_info *ki);
/* The key's certificate (borrowed); its SHA-256 goes into job->cert_fp. */
int cnied_key_cert(cnied_job *job, cnie_card *c, const cnie_card_key_info *ki,
    const uint8_t **der, size_t *der_len);
/*
 * PIN on the reader's PIN pad, else through pinentry, asked again (a new
 * entry each time, SETERROR naming the tries left) while the card refuses
 * it, up to CNIED_PIN_ASKS_MAX dialogs; tries kept per reader and card.  0,
 * CNIE_ERR_CANCELLED..., CNIE_ERR_PIN_BLOCKED (after the advice dialog).
 */
#define CNIED_PIN_ASKS_MAX 16
int cnied_verify_pin(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader);
/* base64 JSON string of p[0..n); NULL when out of memory. */
json_t *cnied_jb64(const uint8_t *p, size_t n);

/* ---- one file per operation ------------------------------------------ */
int cnied_op_certificate(cnied_card_ctx *w, cnied_job *job, cnie_card *c);
int cnied_op_authenticate(cnied_card_ctx *w, cnied_job *job, cnie_card *c,
    const char *reader);
int cnied_op_sign(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader);
/* The ICAO application through PACE: opens its own session. */
int cnied_op_identity(cnied_card_ctx *w, cnied_job *job);

#endif
