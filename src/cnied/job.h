/*
 * A card job: the operation, the parsed request and, once the worker is
 * done, the results.  The API layer makes it, the worker runs it (ops.h),
 * the submitter's completion callback answers it.
 */
#ifndef CNIED_JOB_H
#define CNIED_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cnied.h"
#include "reply.h"

struct event;

typedef enum cnied_op {
	CNIED_OP_CERT = 1,
	CNIED_OP_AUTH,
	CNIED_OP_SIGN,
	CNIED_OP_IDENTITY,
} cnied_op;

typedef struct cnied_job cnied_job;
/* Runs on the loop thread; owns the job from then on (cnied_job_free). */
typedef void (*cnied_job_done_fn)(cnied_job *job);

struct cnied_job {
	cnied_op op;
	char origin[CNIED_MAX_ORIGIN_LEN + 1];
	union {
		cnied_req_cert cert;
		cnied_req_auth auth;
		cnied_req_sign sign;
		cnied_req_identity identity;
	} u;
	/* results, written by the worker */
	int err;	  /* cnie_error or CNIED_ERR_*, 0 = success */
	int tries_left;	  /* with CNIE_ERR_PIN_INCORRECT */
	json_t *answer;	  /* on success */
	uint8_t cert_fp[32];
	bool has_fp;
	/* the submitter's: where the answer goes (the worker never uses it) */
	cnied_reply reply;
	/* queue side */
	cnied_job_done_fn done;
	struct event *timer; /* queue timeout */
	bool started;	     /* taken by the worker */
	cnied_job *next;
};

void cnied_job_free(cnied_job *job);

#endif
