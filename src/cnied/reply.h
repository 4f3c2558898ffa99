/*
 * The seam between the HTTP front and the API: a request as plain values
 * and a reply as a small table of callbacks.  Nothing here knows libevent:
 * http.c fills a cnied_request from evhttp and implements cnied_reply_ops
 * over the evhttp request; the in-process tests (tests/cnied/test_api.c)
 * implement them over a record of what was answered.
 */
#ifndef CNIED_REPLY_H
#define CNIED_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef enum cnied_method {
	CNIED_METHOD_OTHER = 0,
	CNIED_METHOD_GET = 1,
	CNIED_METHOD_POST = 2,
	CNIED_METHOD_OPTIONS = 4,
} cnied_method;

/* One request, after the front's Host and Origin allowlist checks. */
typedef struct cnied_request {
	cnied_method method;
	const char *path;	  /* NULL: no usable path */
	bool has_query;		  /* the URI had a query string */
	const char *origin;	  /* allowed Origin, NULL when the request had none */
	const char *content_type; /* Content-Type header or NULL */
	const char *acr_method;	  /* Access-Control-Request-Method header or NULL */
	const char *body;	  /* body_len bytes, not NUL-terminated */
	size_t body_len;
} cnied_request;

typedef struct cnied_reply cnied_reply;

typedef struct cnied_reply_ops {
	/*
	 * Answers status with the JSON body (stolen; NULL: the front answers
	 * 500) and the common headers: Cache-Control no-store, Vary Origin,
	 * nosniff, and Access-Control-Allow-Origin: origin when origin != NULL.
	 */
	void (*json)(cnied_reply *rp, int status, const char *origin, json_t *body);
	/* Answers a CORS preflight from origin: 204 with the Allow-* headers. */
	void (*preflight)(cnied_reply *rp, const char *origin);
	/* Turns the reply into an event stream (GET /v1/events) for origin. */
	void (*stream)(cnied_reply *rp, const char *origin);
	/*
	 * Calls gone(arg) once if the client leaves before the answer; the
	 * watch ends when the answer is given.  NULL: the front cannot tell.
	 */
	void (*watch)(cnied_reply *rp, void (*gone)(void *arg), void *arg);
} cnied_reply_ops;

/*
 * Where an answer goes.  Copied by value: a card operation keeps its copy
 * until the worker is done, so ctx must stay valid until one of the ops
 * has been called (evhttp keeps the request until it is answered).
 */
struct cnied_reply {
	const cnied_reply_ops *ops;
	void *ctx;
};

/* Answers {"error":{"code","message"[,"triesLeft"]}} (tries_left < 0: none). */
void cnied_reply_error(cnied_reply *rp, int status, const char *origin, const char *code,
    const char *message, int tries_left);

/*
 * The one table from an error (cnie_error or CNIED_ERR_*) to the HTTP
 * status and the stable code of docs/bridge-api.md.  Never fails: an
 * unknown error is 502 "card-error".
 */
void cnied_error_for(int err, int *status, const char **code);
/* The human message of an error answer (static text). */
const char *cnied_error_message(int err);

#endif
