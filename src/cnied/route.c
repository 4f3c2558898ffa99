/*
 * The route table and the request rules that follow from it, in the order
 * docs/bridge-api.md gives them: unknown path 404; preflight (needs an
 * Origin and a GET/POST Access-Control-Request-Method) 204; a POST needs
 * an Origin and Content-Type application/json (so that every browser call
 * is a preflighted one) 403/415; another method 405; a body over 64 KiB
 * 413; then the route's own Origin and method rules.  The Host check and
 * the Origin allowlist come before, in the front (http.c): a request
 * naming a foreign origin gets 403 before the path is even looked at.
 */
#include <string.h>
#include <strings.h>

#include "api.h"
#include "cnied.h"
#include "route.h"

static const cnied_route routes[] = {
	{"/v1/status", CNIED_METHOD_GET, false, CNIED_ROUTE_STATUS, 0},
	{"/v1/events", CNIED_METHOD_GET, true, CNIED_ROUTE_EVENTS, 0},
	{"/v1/certificate", CNIED_METHOD_POST, true, CNIED_ROUTE_CARD, CNIED_OP_CERT},
	{"/v1/authenticate", CNIED_METHOD_POST, true, CNIED_ROUTE_CARD, CNIED_OP_AUTH},
	{"/v1/sign", CNIED_METHOD_POST, true, CNIED_ROUTE_CARD, CNIED_OP_SIGN},
	{"/v1/identity", CNIED_METHOD_POST, true, CNIED_ROUTE_CARD, CNIED_OP_IDENTITY},
};

const cnied_route *
cnied_route_find(const char *path)
{
	size_t i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

static bool
json_content_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t l = sizeof(want) - 1;

	if (ct == NULL || strncasecmp(ct, want, l) != 0)
		return false;
	return ct[l] == '\0' || ct[l] == ';' || ct[l] == ' ';
}

static void
preflight(const cnied_request *rq, cnied_reply *rp)
{
	const char *m = rq->acr_method;

	if (rq->origin == NULL) {
		cnied_reply_error(rp, 403, NULL, "origin-not-allowed", "preflight without Origin",
		    -1);
		return;
	}
	if (m == NULL || (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)) {
		cnied_reply_error(rp, 403, NULL, "origin-not-allowed",
		    "preflight for an unsupported method", -1);
		return;
	}
	rp->ops->preflight(rp, rq->origin);
}

void
cnied_dispatch(const cnied_request *rq, cnied_reply *rp)
{
	const cnied_route *rt = rq->has_query ? NULL : cnied_route_find(rq->path);
	const char *origin = rq->origin;

	if (rt == NULL) {
		cnied_reply_error(rp, 404, origin, "not-found", "no such endpoint", -1);
		return;
	}
	if (rq->method == CNIED_METHOD_OPTIONS) {
		preflight(rq, rp);
		return;
	}
	if (rq->method == CNIED_METHOD_POST) {
		if (origin == NULL) {
			cnied_reply_error(rp, 403, NULL, "origin-not-allowed", "Origin required", -1);
			return;
		}
		if (!json_content_type(rq->content_type)) {
			cnied_reply_error(rp, 415, origin, "bad-request",
			    "Content-Type must be application/json", -1);
			return;
		}
	} else if (rq->method != CNIED_METHOD_GET) {
		cnied_reply_error(rp, 405, origin, "bad-request", "method not allowed", -1);
		return;
	}
	if (rq->body_len > CNIED_MAX_BODY) {
		cnied_reply_error(rp, 413, origin, "payload-too-large", "body too large", -1);
		return;
	}
	if (rt->need_origin && origin == NULL) {
		cnied_reply_error(rp, 403, NULL, "origin-not-allowed", "Origin required", -1);
		return;
	}
	if (rq->method != rt->method) {
		cnied_reply_error(rp, 405, origin, "bad-request",
		    rt->method == CNIED_METHOD_GET ? "use GET" : "use POST", -1);
		return;
	}
	switch (rt->kind) {
	case CNIED_ROUTE_STATUS:
		cnied_api_status(rp, origin);
		break;
	case CNIED_ROUTE_EVENTS:
		rp->ops->stream(rp, origin);
		break;
	case CNIED_ROUTE_CARD:
		cnied_api_card(rt->op, rq, rp);
		break;
	}
}
