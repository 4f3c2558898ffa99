/*
 * The card endpoints (docs/bridge-api.md), loop thread: validates the
 * body, turns it into a job for the card worker, and turns the finished
 * job into the answer and the audit line.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "api.h"
#include "ops.h"

static const cnied_config *a_cfg;

void
cnied_api_init(const cnied_config *cfg)
{
	a_cfg = cfg;
}

void
cnied_api_status(cnied_reply *rp, const char *origin)
{
	rp->ops->json(rp, 200, origin, cnied_status_json(a_cfg));
}

/* Completion callback of every card job (worker.h). */
static void
job_done(cnied_job *job)
{
	const char *name = cnied_op_name(job->op), *code;
	int status;

	if (job->err == 0) {
		cnied_audit(job->origin, name, "ok", job->has_fp ? job->cert_fp : NULL);
		job->reply.ops->json(&job->reply, 200, job->origin, job->answer);
		job->answer = NULL;
	} else {
		cnied_error_for(job->err, &status, &code);
		cnied_audit(job->origin, name, code, job->has_fp ? job->cert_fp : NULL);
		cnie_log_info("%s for %s: %s", name, job->origin, code);
		cnied_reply_error(&job->reply, status, job->origin, code,
		    cnied_error_message(job->err),
		    job->err == CNIE_ERR_PIN_INCORRECT ? job->tries_left : -1);
	}
	cnied_job_free(job);
}

/* The client left: its queued job never runs, its dialog closes. */
static void
client_gone(void *arg)
{
	cnied_worker_cancel(arg, CNIED_ERR_CLIENT_GONE);
}

static int
parse(cnied_job *job, const cnied_request *rq, const char **why)
{
	switch (job->op) {
	case CNIED_OP_CERT:
		return cnied_parse_cert(rq->body, rq->body_len, &job->u.cert, why);
	case CNIED_OP_AUTH:
		return cnied_parse_auth(rq->body, rq->body_len, &job->u.auth, why);
	case CNIED_OP_SIGN:
		return cnied_parse_sign(rq->body, rq->body_len, &job->u.sign, why);
	case CNIED_OP_IDENTITY:
		return cnied_parse_identity(rq->body, rq->body_len, &job->u.identity, why);
	}
	*why = "no such endpoint";
	return -1;
}

void
cnied_api_card(cnied_op op, const cnied_request *rq, cnied_reply *rp)
{
	const char *why = "bad request";
	cnied_job *job;
	int r;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		cnied_reply_error(rp, 503, rq->origin, "busy", "out of memory", -1);
		return;
	}
	snprintf(job->origin, sizeof(job->origin), "%s", rq->origin);
	job->op = op;
	job->reply = *rp;
	if ((r = parse(job, rq, &why)) != 0) {
		job->op = 0; /* nothing parsed to clear */
		if (r == CNIE_ERR_NOMEM)
			cnied_reply_error(rp, 500, rq->origin, "internal-error", "out of memory",
			    -1);
		else
			cnied_reply_error(rp, 400, rq->origin, "bad-request", why, -1);
		cnied_job_free(job);
		return;
	}
	if (rp->ops->watch != NULL)
		rp->ops->watch(&job->reply, client_gone, job);
	cnied_worker_submit(job, job_done);
}
