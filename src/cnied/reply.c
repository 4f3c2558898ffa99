/*
 * How answers look (docs/bridge-api.md "Errors"): the one table from
 * errors to HTTP status and stable error code, and the error body.  A new
 * error a front end must report is one row here.
 */
#include <stddef.h>
#include <string.h>

#include <cnie/error.h>

#include "cnied.h"
#include "reply.h"

/*
 * The daemon's own errors: their code here.  Every libcnie error takes its
 * code from libcnie's one vocabulary, cnie_error_code_name() (docs/errors.md),
 * the code cnie-tool --json gives too; only the HTTP status is the bridge's.
 */
static const struct {
	int err;
	int status;
	const char *code;
} own_errors[] = {
	{CNIED_ERR_MULTIPLE, 409, "multiple-cards"},
	{CNIED_ERR_CERT_MISMATCH, 400, "bad-request"},
	{CNIED_ERR_BAD_ALG, 400, "bad-request"},
	{CNIED_ERR_SHUTDOWN, 503, "shutting-down"},
	/* The dialog, not the card: 503 with its own code, never card-error. */
	{CNIED_ERR_DIALOG, 503, "dialog-failed"},
	/* Kiosk mode (kiosk.c): this reader cannot take the secret; another one can. */
	{CNIED_ERR_PINPAD_REQUIRED, 422, "pinpad-required"},
	{CNIED_ERR_PACE_READER_REQUIRED, 422, "pace-reader-required"},
	/* Nobody reads that answer: the code is for the audit line. */
	{CNIED_ERR_CLIENT_GONE, 400, "client-gone"},
};

/* The HTTP status of each code of cnie_error_code_name(); others are 502. */
static const struct {
	const char *code;
	int status;
} code_status[] = {
	{"no-service", 503},
	{"no-reader", 503},
	{"no-card", 503},
	/* Another program reset the card mid-operation: nothing is wrong with
	 * the card, the same request again works (card sessions, pkcs11/README.md). */
	{"card-reset", 503},
	{"reader-access-denied", 503},
	{"card-not-recognised", 422},
	/* The card lacks the key or certificate asked for: the request was
	 * fine, this card cannot serve it (not 404: that is a path cnied lacks). */
	{"not-found", 422},
	{"user-cancelled", 400},
	{"bad-request", 400},
	{"pin-incorrect", 403},
	{"pin-blocked", 403},
	{"pin-format", 403},
	{"can-incorrect", 403},
	{"can-required", 403},
	{"busy", 409},
	{"timeout", 504},
	{"internal-error", 500},
	{"io-error", 500},
	{"card-error", 502},
};

void
cnied_error_for(int err, int *status, const char **code)
{
	size_t i;

	for (i = 0; i < sizeof(own_errors) / sizeof(own_errors[0]); i++) {
		if (own_errors[i].err == err) {
			*status = own_errors[i].status;
			*code = own_errors[i].code;
			return;
		}
	}
	*code = cnie_error_code_name(err);
	*status = 502;
	for (i = 0; i < sizeof(code_status) / sizeof(code_status[0]); i++) {
		if (strcmp(code_status[i].code, *code) == 0) {
			*status = code_status[i].status;
			return;
		}
	}
}

const char *
cnied_error_message(int err)
{
	switch (err) {
	case CNIED_ERR_MULTIPLE:
		return "several cards are present: choose one with \"reader\"";
	case CNIED_ERR_CERT_MISMATCH:
		return "certificate is not the signing certificate of the card";
	case CNIED_ERR_BAD_ALG:
		return "paddingScheme does not suit the key";
	case CNIE_ERR_CARD_RESET:
	case CNIE_ERR_LOGIN_LOST:
		return "another program reset the card: send the request again";
	case CNIED_ERR_DIALOG:
		return "the PIN or consent dialog (pinentry) could not be shown";
	case CNIE_ERR_PIN_BLOCKED:
	case CNIE_ERR_SW_AUTH_BLOCKED:
		/* What to do next (issue 15): the holder's PUK, else the issuer. */
		return "the PIN is blocked: unblock it with the PUK (cnie-tool pin unblock), or "
		    "ask the authority that issued the card";
	case CNIED_ERR_SHUTDOWN:
		return "the bridge is stopping: try again in a moment";
	case CNIED_ERR_CLIENT_GONE:
		return "the client closed the connection";
	case CNIE_ERR_NOT_FOUND:
		return "the card has no key or certificate for this operation";
	case CNIED_ERR_PINPAD_REQUIRED:
		return "kiosk mode: the PIN is typed only on a reader's PIN pad, and this reader "
		    "has none: use a reader with a PIN pad";
	case CNIED_ERR_PACE_READER_REQUIRED:
		return "kiosk mode: this needs the card access number (CAN), which only a reader "
		    "that runs PACE itself could take: use a contact reader with a PIN pad";
	default:
		return cnie_strerror(err);
	}
}

void
cnied_reply_error(cnied_reply *rp, int status, const char *origin, const char *code,
    const char *message, int tries_left)
{
	json_t *e = json_pack("{s:s,s:s}", "code", code, "message", message);

	if (e != NULL && tries_left >= 0)
		json_object_set_new(e, "triesLeft", json_integer(tries_left));
	rp->ops->json(rp, status, origin, json_pack("{s:o}", "error", e));
}
