/*
 * The v1 routes (docs/bridge-api.md): one table, read by the HTTP front
 * for every decision that depends on the path (404, 405, which requests
 * need an Origin, preflights) and for dispatch.
 */
#ifndef CNIED_ROUTE_H
#define CNIED_ROUTE_H

#include <stdbool.h>

#include "reply.h"
#include "job.h"

typedef enum cnied_route_kind {
	CNIED_ROUTE_STATUS = 1, /* the loop answers from the reader snapshot */
	CNIED_ROUTE_EVENTS,	/* an event stream, kept by the front */
	CNIED_ROUTE_CARD,	/* a card operation for the worker */
} cnied_route_kind;

typedef struct cnied_route {
	const char *path;
	cnied_method method; /* the one method it answers (OPTIONS aside) */
	bool need_origin;    /* refused without an (allowed) Origin */
	cnied_route_kind kind;
	cnied_op op;	     /* CNIED_ROUTE_CARD: the operation */
} cnied_route;

/* The route of path (exact match), NULL when there is none. */
const cnied_route *cnied_route_find(const char *path);

/*
 * Answers rq through rp: 404 for an unknown path, the preflight, the
 * Origin, Content-Type, method and size rules, then the route's handler.
 * Exactly one of rp's ops is called, now or (card operations) when the
 * worker is done.
 */
void cnied_dispatch(const cnied_request *rq, cnied_reply *rp);

#endif
