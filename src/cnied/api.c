/*
 * The v1 endpoints (docs/bridge-api.md).  Loop thread: validates the body,
 * turns it into a job for the card worker, and turns the finished job into
 * the answer.  The one table from cnie_error to HTTP status and stable
 * error code lives here (STYLE.md 4).
 */
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "cnied.h"

static const cnied_config *a_cfg;

void
cnied_api_init(const cnied_config *cfg)
{
	a_cfg = cfg;
}

void
cnied_api_error_for(int err, int *status, const char **code)
{
	switch (err) {
	case CNIE_ERR_NO_SERVICE:
		*status = 503, *code = "no-service";
		break;
	case CNIE_ERR_NO_READER:
	case CNIE_ERR_READER_NOT_FOUND:
		*status = 503, *code = "no-reader";
		break;
	case CNIE_ERR_NO_CARD:
	case CNIE_ERR_CARD_REMOVED:
	case CNIE_ERR_UNRESPONSIVE:
		*status = 503, *code = "no-card";
		break;
	case CNIE_ERR_CARD_NOT_RECOGNISED:
	case CNIE_ERR_NOT_FOUND:
		*status = 422, *code = "card-not-recognised";
		break;
	case CNIED_ERR_MULTIPLE:
		*status = 409, *code = "multiple-cards";
		break;
	case CNIE_ERR_CANCELLED:
	case CNIE_ERR_PINPAD_CANCELLED:
		*status = 400, *code = "user-cancelled";
		break;
	case CNIE_ERR_PIN_INCORRECT:
		*status = 403, *code = "pin-incorrect";
		break;
	case CNIE_ERR_PIN_BLOCKED:
	case CNIE_ERR_SW_AUTH_BLOCKED:
		*status = 403, *code = "pin-blocked";
		break;
	case CNIE_ERR_PACE:
	case CNIE_ERR_BAC:
		*status = 403, *code = "can-incorrect";
		break;
	case CNIE_ERR_BUSY:
	case CNIE_ERR_SHARING:
		*status = 409, *code = "busy";
		break;
	case CNIE_ERR_TIMEOUT:
	case CNIE_ERR_PINPAD_TIMEOUT:
		*status = 504, *code = "timeout";
		break;
	case CNIED_ERR_CERT_MISMATCH:
	case CNIED_ERR_BAD_ALG:
		*status = 400, *code = "bad-request";
		break;
	default:
		*status = 502, *code = "card-error";
	}
}

static const char *
op_name(cnied_op op)
{
	switch (op) {
	case CNIED_OP_CERT:
		return "certificate";
	case CNIED_OP_AUTH:
		return "authenticate";
	case CNIED_OP_SIGN:
		return "sign";
	case CNIED_OP_IDENTITY:
		return "identity";
	}
	return "?";
}

static const char *
err_message(int err)
{
	switch (err) {
	case CNIED_ERR_MULTIPLE:
		return "several cards are present: choose one with \"reader\"";
	case CNIED_ERR_CERT_MISMATCH:
		return "certificate is not the signing certificate of the card";
	case CNIED_ERR_BAD_ALG:
		return "paddingScheme does not suit the key";
	default:
		return cnie_strerror(err);
	}
}

void
cnied_api_job_done(cnied_job *job)
{
	int status;
	const char *code;

	if (job->err == 0) {
		cnied_audit(job->origin, op_name(job->op), "ok", job->has_fp ? job->cert_fp : NULL);
		cnied_http_reply_json(job->req, 200, job->origin, job->answer);
		job->answer = NULL;
	} else {
		cnied_api_error_for(job->err, &status, &code);
		cnied_audit(job->origin, op_name(job->op), code, job->has_fp ? job->cert_fp : NULL);
		cnie_log_info("%s for %s: %s", op_name(job->op), job->origin, code);
		cnied_http_reply_error(job->req, status, job->origin, code, err_message(job->err),
		    job->err == CNIE_ERR_PIN_INCORRECT ? job->tries_left : -1);
	}
	cnied_job_free(job);
}

static void
status(void *req, const char *origin)
{
	cnied_reader_info r[CNIED_MAX_READERS];
	json_t *a = json_array(), *j;
	size_t n, i;
	int err;

	n = cnied_readers_snapshot(r, CNIED_MAX_READERS, &err);
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:b,s:b,s:b}", "name", r[i].name, "card",
		    r[i].card, "recognised", r[i].recognised, "pinpad", r[i].pinpad));
	j = json_pack("{s:s,s:s,s:o}", "version", CNIE_VERSION, "transport",
	    a_cfg->refcard_dir != NULL ? "reference-card" : "pcsc", "readers", a);
	if (err != 0 && j != NULL) {
		int st;
		const char *code;
		cnied_api_error_for(err, &st, &code);
		json_object_set_new(j, "service", json_string(code));
	}
	cnied_http_reply_json(req, 200, origin, j);
}

void
cnied_api_handle(void *req, const char *path, bool post, const char *origin,
    const char *body, size_t body_len)
{
	const char *why = "bad request";
	cnied_job *job;
	int r = -1;

	if (strcmp(path, "/v1/status") == 0) {
		if (post) {
			cnied_http_reply_error(req, 405, origin, "bad-request", "use GET", -1);
			return;
		}
		status(req, origin);
		return;
	}
	/* Everything but status needs an allowed Origin (checked by http.c). */
	if (origin == NULL) {
		cnied_http_reply_error(req, 403, NULL, "origin-not-allowed", "Origin required", -1);
		return;
	}
	if (strcmp(path, "/v1/events") == 0) {
		if (post) {
			cnied_http_reply_error(req, 405, origin, "bad-request", "use GET", -1);
			return;
		}
		cnied_events_add_client(req, origin);
		return;
	}
	if (!post) {
		cnied_http_reply_error(req, 405, origin, "bad-request", "use POST", -1);
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		cnied_http_reply_error(req, 503, origin, "busy", "out of memory", -1);
		return;
	}
	snprintf(job->origin, sizeof(job->origin), "%s", origin);
	job->req = req;
	if (strcmp(path, "/v1/certificate") == 0) {
		job->op = CNIED_OP_CERT;
		r = cnied_parse_cert(body, body_len, &job->u.cert, &why);
	} else if (strcmp(path, "/v1/authenticate") == 0) {
		job->op = CNIED_OP_AUTH;
		r = cnied_parse_auth(body, body_len, &job->u.auth, &why);
	} else if (strcmp(path, "/v1/sign") == 0) {
		job->op = CNIED_OP_SIGN;
		r = cnied_parse_sign(body, body_len, &job->u.sign, &why);
	} else if (strcmp(path, "/v1/identity") == 0) {
		job->op = CNIED_OP_IDENTITY;
		r = cnied_parse_identity(body, body_len, &job->u.identity, &why);
	} else {
		why = "no such endpoint";
	}
	if (r != 0) {
		job->op = 0;
		cnied_http_reply_error(req, 400, origin, "bad-request", why, -1);
		cnied_job_free(job);
		return;
	}
	/* The reply comes when the worker is done; no deadline meanwhile. */
	cnied_http_hold(req);
	cnied_worker_submit(job);
}
