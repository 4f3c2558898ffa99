/*
 * How answers look (docs/bridge-api.md "Errors"): the one table from
 * errors to HTTP status and stable error code, and the error body.  A new
 * error a front end must report is one row here.
 */
#include <stddef.h>

#include <cnie/error.h>

#include "cnied.h"
#include "reply.h"

static const struct {
	int err;
	int status;
	const char *code;
} err_table[] = {
	{CNIE_ERR_NO_SERVICE, 503, "no-service"},
	{CNIE_ERR_NO_READER, 503, "no-reader"},
	{CNIE_ERR_READER_NOT_FOUND, 503, "no-reader"},
	{CNIE_ERR_NO_CARD, 503, "no-card"},
	{CNIE_ERR_CARD_REMOVED, 503, "no-card"},
	{CNIE_ERR_UNRESPONSIVE, 503, "no-card"},
	/* Another program reset the card mid-operation: nothing is wrong with
	 * the card, the same request again works (card sessions, pkcs11/README.md). */
	{CNIE_ERR_CARD_RESET, 503, "card-reset"},
	{CNIE_ERR_LOGIN_LOST, 503, "card-reset"},
	{CNIE_ERR_CARD_NOT_RECOGNISED, 422, "card-not-recognised"},
	{CNIE_ERR_NOT_FOUND, 422, "card-not-recognised"},
	{CNIED_ERR_MULTIPLE, 409, "multiple-cards"},
	{CNIE_ERR_CANCELLED, 400, "user-cancelled"},
	{CNIE_ERR_PINPAD_CANCELLED, 400, "user-cancelled"},
	{CNIE_ERR_PIN_INCORRECT, 403, "pin-incorrect"},
	{CNIE_ERR_PIN_BLOCKED, 403, "pin-blocked"},
	{CNIE_ERR_SW_AUTH_BLOCKED, 403, "pin-blocked"},
	{CNIE_ERR_PACE, 403, "can-incorrect"},
	{CNIE_ERR_BAC, 403, "can-incorrect"},
	{CNIE_ERR_BUSY, 409, "busy"},
	{CNIE_ERR_SHARING, 409, "busy"},
	{CNIE_ERR_TIMEOUT, 504, "timeout"},
	{CNIE_ERR_PINPAD_TIMEOUT, 504, "timeout"},
	{CNIED_ERR_CERT_MISMATCH, 400, "bad-request"},
	{CNIED_ERR_BAD_ALG, 400, "bad-request"},
	{CNIED_ERR_SHUTDOWN, 503, "shutting-down"},
	/* The dialog, not the card: 503 with its own code, never card-error. */
	{CNIED_ERR_DIALOG, 503, "dialog-failed"},
	/* Nobody reads that answer: the code is for the audit line. */
	{CNIED_ERR_CLIENT_GONE, 400, "client-gone"},
};

void
cnied_error_for(int err, int *status, const char **code)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
		if (err_table[i].err == err) {
			*status = err_table[i].status;
			*code = err_table[i].code;
			return;
		}
	}
	*status = 502;
	*code = "card-error";
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
	case CNIED_ERR_SHUTDOWN:
		return "the bridge is stopping: try again in a moment";
	case CNIED_ERR_CLIENT_GONE:
		return "the client closed the connection";
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
