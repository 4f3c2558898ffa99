/*
 * The API layer (loop thread): request bodies become jobs for the card
 * worker, finished jobs become answers and audit lines.  It sees requests
 * and replies through reply.h only, never libevent's HTTP.
 */
#ifndef CNIED_API_H
#define CNIED_API_H

#include "cnied.h"
#include "reply.h"
#include "worker.h"

void cnied_api_init(const cnied_config *cfg);
/* GET /v1/status: readers, transport, service state. */
void cnied_api_status(cnied_reply *rp, const char *origin);
/* The /v1/status answer (op_status.c), from the reader snapshot; NULL: no memory. */
json_t *cnied_status_json(const cnied_config *cfg);
/* A card operation: parses rq's body (400 on error) and queues the job. */
void cnied_api_card(cnied_op op, const cnied_request *rq, cnied_reply *rp);

#endif
