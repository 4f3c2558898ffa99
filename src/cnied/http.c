/*
 * HTTPS front: libevent's evhttp over bufferevent_openssl (TLS 1.2+).  The
 * only file that knows libevent's HTTP: it turns an evhttp request into a
 * cnied_request and a cnied_reply (reply.h) and hands them to the route
 * table (route.c), which takes every decision that depends on the path.
 *
 * Every request passes, in order: the Host check (DNS rebinding), the
 * Origin allowlist (exact match; a request naming another origin gets 403
 * before anything else happens), then the route's rules and handler.
 * Before all that, the raw request head is checked as its bytes arrive
 * (head.c, head_scan_*): whatever evhttp would read leniently or answer
 * itself with an HTML page is refused by cnied with a JSON error.
 * Limits: head 8 KiB and body 64 KiB (both checked in the raw head), a
 * connection cap (the listeners are paused while it is reached, the kernel
 * backlog holds the rest), an idle timeout (evhttp) and a whole-request
 * deadline per connection against slowloris: a client that drips header
 * bytes keeps evhttp's idle timer happy, but not ours, which runs from
 * accept (or from the last reply on a kept-alive connection) to the moment
 * the whole request has been read.  The deadline shuts the socket down;
 * evhttp then frees the connection itself.
 *
 * Peer check: a connection from a user other than the one cnied serves
 * (and those allow-user names) is refused at its first bytes, in the
 * ClientHello callback, before cnied sends any TLS byte: the socket is shut
 * down, the client gets no answer (peer.c says how the user is found;
 * evhttp 2.1 gives no hook between accept() and the bufferevent, and the
 * ClientHello is the first moment the accepted socket is known).
 *
 * The per-connection state hangs off the SSL object as ex_data: its free
 * callback (SSL_free, when evhttp frees the bufferevent) is the one place
 * that knows a connection has gone, whether or not it ever sent a request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <cnie/log.h>

#include "cnied.h"
#include "head.h"
#include "http.h"
#include "route.h"

typedef struct conn {
	SSL *ssl; /* borrowed: owned by the bufferevent */
	struct event *deadline;
	bool nodelay; /* TCP_NODELAY set */
	void (*gone)(void *arg); /* the client left before its answer (reply_watch) */
	void *gone_arg;
	struct event *closed; /* EV_CLOSED on the socket while gone is set */
	bool busy;	      /* a request is being served (or a stream is open) */
	bool has_uid;	      /* uid below is the peer's (client_hello_cb) */
	uint32_t uid;
	struct conn *prev, *next; /* all connections, oldest first */
	/* Raw head scan (head_scan_cb): the head checked before libevent parses it. */
	struct evbuffer *in; /* the TLS bufferevent's input (decrypted bytes) */
	size_t seen;	     /* bytes at the front of `in` already scanned */
	size_t scanned;	     /* bytes of the current head scanned (some maybe parsed by evhttp) */
	bool scan;	     /* inside a request head */
	bool refused;	     /* the head was refused: the next request handle() sees is ours */
	bool editing;	     /* head_refuse() is rewriting `in` */
	cnied_head hs;
} conn;

static struct event_base *h_base;
static struct evhttp *h_http;
static SSL_CTX *h_ssl;
static const cnied_config *h_cfg;
static struct evhttp_bound_socket *h_bound[CNIED_MAX_LISTEN];
static size_t h_nbound;
static uint16_t h_ports[CNIED_MAX_LISTEN];
static size_t h_nports;
static size_t h_nconns;
static bool h_paused;
static int h_conn_idx = -1;
static struct event *h_trim; /* one-shot: heap back to the system once idle */
static conn *h_oldest, *h_newest;

/*
 * Event streams: at most 64, at most 16 per origin (one page cannot take
 * every slot from the portal's), each with a comment line every 30 s
 * (proxies and dead peers are found out) and a lifetime of an hour, after
 * which it ends and EventSource reconnects by itself.
 */
#define MAX_SSE_CLIENTS 64
#define MAX_SSE_PER_ORIGIN 16
#define SSE_HEARTBEAT_S 30
#define SSE_LIFETIME_S 3600

typedef struct sse_client {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	char origin[CNIED_MAX_ORIGIN_LEN + 1];
	time_t started;
	struct sse_client *next;
} sse_client;
static sse_client *h_clients;
static size_t h_nclients;
static struct event *h_heartbeat;

static void
listeners_enable(bool on)
{
	size_t i;

	if (h_paused == !on)
		return;
	for (i = 0; i < h_nbound; i++) {
		struct evconnlistener *l = evhttp_bound_socket_get_listener(h_bound[i]);
		if (l == NULL)
			continue;
		if (on)
			evconnlistener_enable(l);
		else
			evconnlistener_disable(l);
	}
	h_paused = !on;
}

static void head_scan_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

static void
conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	/* The bufferevent frees the SSL (here) before its input buffer. */
	if (c->in != NULL)
		evbuffer_remove_cb(c->in, head_scan_cb, c);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->closed != NULL)
		event_free(c->closed);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h_oldest = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		h_newest = c->prev;
	free(c);
	h_nconns--;
	if (h_nconns < (size_t)h_cfg->max_connections)
		listeners_enable(true);
	/*
	 * Back to idle: the TLS buffers of a burst of connections go back to
	 * the system instead of staying in the heap (resident memory of an
	 * idle daemon; bench/run.d/cnied.sh).  A one-shot timer armed on that
	 * transition and disarmed by the next connection, so clients without
	 * keep-alive do not pay a heap walk per request; nothing runs while
	 * the daemon stays idle.
	 */
	if (h_nconns == 0 && h_trim != NULL) {
		struct timeval idle = { 2, 0 };

		evtimer_add(h_trim, &idle);
	}
}

static void
trim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (h_nconns == 0)
		malloc_trim(0);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	int sfd = SSL_get_fd(c->ssl);

	(void)fd;
	(void)what;
	if (sfd >= 0)
		(void)shutdown(sfd, SHUT_RDWR);
}

/* The first bytes of a connection: refuse users other than ours. */
static int
client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	int fd = SSL_get_fd(ssl);
	uint32_t uid = 0;
	conn *c = SSL_get_ex_data(ssl, h_conn_idx), *o;
	size_t same = 0;

	(void)arg;
	if (fd < 0 || cnied_peer_uid(fd, &uid) != 0) {
		cnie_log_warn("refused a connection: its user cannot be determined");
	} else if (!cnied_peer_allowed(h_cfg, uid)) {
		cnie_log_warn("refused a connection from uid %u (not allowed: allow-user)",
		    (unsigned)uid);
	} else {
		/* An allow-user may hold half the connections at most: the
		 * desktop user (or the kiosk's other users) keep the rest. */
		for (o = h_oldest; o != NULL; o = o->next)
			same += o->has_uid && o->uid == uid;
		if (uid == h_cfg->self_uid || same < (size_t)h_cfg->max_connections / 2) {
			if (c != NULL) {
				c->has_uid = true;
				c->uid = uid;
			}
			return SSL_CLIENT_HELLO_SUCCESS;
		}
		cnie_log_warn("refused a connection from uid %u: it holds %zu connections",
		    (unsigned)uid, same);
	}
	/* Nothing goes back, not even a TLS alert. */
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
	*alert = SSL_AD_ACCESS_DENIED;
	return SSL_CLIENT_HELLO_ERROR;
}

/* Shuts the oldest idle connection down (evhttp then frees it); false: none. */
static bool
evict_idle(void)
{
	conn *c;
	int fd;

	for (c = h_oldest; c != NULL && c != h_newest; c = c->next) {
		if (c->busy || (fd = SSL_get_fd(c->ssl)) < 0)
			continue;
		c->busy = true; /* once */
		(void)shutdown(fd, SHUT_RDWR);
		return true;
	}
	return false;
}

/*
 * The raw request head, checked before libevent parses it (head.c says
 * what passes and why).  A callback on the TLS bufferevent's input buffer
 * runs when decrypted bytes are added, before evhttp's read callback
 * (deferred: BEV_OPT_DEFER_CALLBACKS), so every byte of a head is checked
 * before evhttp reads it.  The scan stops at the empty line ending a head
 * and is re-armed by handle(): evhttp has then taken exactly one request
 * out of the buffer and reads nothing more before the answer, so what is
 * left starts the next one.
 *
 * A refused head never reaches evhttp's parser, which would answer some
 * of them itself with an HTML page (libevent 2.1 has no error callback):
 * head_refuse() replaces what evhttp has not read yet with a request it
 * parses without complaint, and handle() answers that one with the
 * refusal, as JSON, with Connection: close.
 */
static void
head_refuse(conn *c)
{
	static const char fresh[] = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
	static const char pad[1024];
	/* What evhttp has already taken of this head: whole lines we passed. */
	size_t parsed = c->scanned - c->seen, left;

	c->scan = false;
	c->refused = true;
	c->editing = true;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	if (parsed == 0) {
		(void)evbuffer_add(c->in, fresh, sizeof(fresh) - 1);
	} else {
		/*
		 * evhttp holds the request line and some header lines: end the
		 * head there and, when it read a Content-Length (at most the
		 * body limit: a larger one is refused on its own line), give
		 * it that many bytes so that it dispatches at once.
		 */
		(void)evbuffer_add(c->in, "\r\n", 2);
		left = c->hs.cl_end != 0 && c->hs.cl_end <= parsed ? c->hs.cl : 0;
		while (left > 0) {
			size_t k = left < sizeof(pad) ? left : sizeof(pad);

			if (evbuffer_add(c->in, pad, k) != 0)
				break;
			left -= k;
		}
	}
	c->editing = false;
}

static void
head_scan_from_seen(conn *c)
{
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v[8];
	size_t len = evbuffer_get_length(c->in);
	int n, i;

	while (c->scan && c->seen < len) {
		if (evbuffer_ptr_set(c->in, &pos, c->seen, EVBUFFER_PTR_SET) != 0)
			break;
		n = evbuffer_peek(c->in, (ev_ssize_t)(len - c->seen), &pos, v, 8);
		if (n <= 0)
			break;
		for (i = 0; i < n && i < 8 && c->scan; i++) {
			size_t k = v[i].iov_len, t;

			if (k > len - c->seen)
				k = len - c->seen;
			t = cnied_head_feed(&c->hs, v[i].iov_base, k);
			c->seen += t;
			c->scanned += t;
			if (c->hs.result == CNIED_HEAD_DONE)
				c->scan = false;
			else if (c->hs.result == CNIED_HEAD_REFUSED)
				head_refuse(c);
		}
	}
}

static void
head_scan_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	conn *c = arg;

	(void)buf;
	if (c->editing)
		return;
	/* evhttp drains from the front, the TLS layer adds at the end. */
	c->seen -= info->n_deleted < c->seen ? info->n_deleted : c->seen;
	if (info->n_added > 0 && c->scan)
		head_scan_from_seen(c);
}

/* A new request head starts at the front of the buffer (handle()). */
static void
head_scan_rearm(conn *c)
{
	c->seen = 0;
	c->scanned = 0;
	cnied_head_init(&c->hs);
	c->scan = true;
	if (c->in != NULL)
		head_scan_from_seen(c);
}

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct timeval tv = {h_cfg->request_timeout, 0};
	struct bufferevent *bev;
	SSL *ssl;
	conn *c;

	(void)arg;
	ssl = SSL_new(h_ssl);
	c = calloc(1, sizeof(*c));
	if (ssl == NULL || c == NULL) {
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	c->ssl = ssl;
	c->deadline = evtimer_new(base, deadline_cb, c);
	if (c->deadline == NULL || SSL_set_ex_data(ssl, h_conn_idx, c) != 1) {
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		SSL_free(ssl);
		return NULL;
	}
	h_nconns++;
	c->prev = h_newest;
	if (h_newest != NULL)
		h_newest->next = c;
	else
		h_oldest = c;
	h_newest = c;
	if (h_trim != NULL)
		evtimer_del(h_trim);
	/*
	 * Under pressure the oldest idle connection (between requests, or one
	 * that has not finished sending its request) makes room, so that a
	 * real request never waits behind idle ones; only when every
	 * connection is busy do the listeners pause.
	 */
	if (h_nconns >= (size_t)h_cfg->max_connections && !evict_idle())
		listeners_enable(false);
	evtimer_add(c->deadline, &tv);
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	/* libevent keeps the SSL on failure: freeing it unlinks c (conn_ex_free). */
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	cnied_head_init(&c->hs);
	c->scan = true;
	c->in = bufferevent_get_input(bev);
	if (evbuffer_add_cb(c->in, head_scan_cb, c) == NULL) {
		c->in = NULL;
		bufferevent_free(bev); /* frees the SSL, and c with it */
		return NULL;
	}
	return bev;
}

static conn *
req_conn(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	SSL *ssl;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return NULL;
	return SSL_get_ex_data(ssl, h_conn_idx);
}

/* Stops the connection's request deadline (long-lived replies: SSE, card work). */
static void
hold(struct evhttp_request *req)
{
	conn *c = req_conn(req);
	int one = 1, fd;

	if (c == NULL)
		return;
	c->busy = true;
	event_del(c->deadline);
	/* evhttp writes headers and body as two TLS records: without
	 * TCP_NODELAY the second waits for the peer's delayed ACK (40 ms). */
	if (!c->nodelay && (fd = SSL_get_fd(c->ssl)) >= 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->nodelay = true;
	}
}

static void
rearm(struct evhttp_request *req)
{
	struct timeval tv = {h_cfg->request_timeout, 0};
	conn *c = req_conn(req);

	if (c != NULL) {
		c->busy = false;
		evtimer_add(c->deadline, &tv);
	}
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Entity";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

/* The common headers (no-store, Vary, nosniff; ACAO when origin != NULL). */
static void
common_headers(struct evhttp_request *req, const char *origin)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Vary", "Origin");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (origin != NULL)
		evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
}

/* ---- cnied_reply over an evhttp request ------------------------------- */

/*
 * The client left before its answer.  evhttp stops reading a connection
 * once it holds a whole request, so it would only notice at the answer:
 * an EV_CLOSED event (EPOLLRDHUP) on the socket sees the client's FIN even
 * with unread bytes in front of it.  A client that half-closes after its
 * request counts as gone (browsers do not).
 */
static void
conn_gone(conn *c)
{
	void (*gone)(void *) = c->gone;

	c->gone = NULL;
	if (gone != NULL)
		gone(c->gone_arg);
}

static void
conn_closed_cb(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	char b;
	ssize_t n;

	if (what & EV_CLOSED) {
		conn_gone(c);
		return;
	}
	/* Readable: end of stream or a reset (EV_CLOSED misses resets)? */
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		conn_gone(c);
		return;
	}
	/* Bytes waiting (a pipelined request, a TLS alert): from now on only
	 * the FIN itself tells, so as not to wake up for them again. */
	if (n > 0) {
		if (!(event_base_get_features(h_base) & EV_FEATURE_EARLY_CLOSE))
			return; /* nothing tells a FIN then: the answer will find out */
		event_assign(c->closed, h_base, fd, EV_CLOSED, conn_closed_cb, c);
	}
	event_add(c->closed, NULL);
}

static void
conn_closecb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_gone(arg);
}

static void
reply_watch(cnied_reply *rp, void (*gone)(void *arg), void *arg)
{
	struct evhttp_request *req = rp->ctx;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	conn *c = req_conn(req);
	short what = EV_READ;
	int fd;

	if (c == NULL || evcon == NULL)
		return;
	c->gone = gone;
	c->gone_arg = arg;
	evhttp_connection_set_closecb(evcon, conn_closecb, c);
	if ((fd = SSL_get_fd(c->ssl)) < 0)
		return;
	if (event_base_get_features(h_base) & EV_FEATURE_EARLY_CLOSE)
		what |= EV_CLOSED;
	if (c->closed == NULL) {
		c->closed = event_new(h_base, fd, what, conn_closed_cb, c);
	} else {
		event_del(c->closed);
		event_assign(c->closed, h_base, fd, what, conn_closed_cb, c);
	}
	if (c->closed != NULL)
		event_add(c->closed, NULL);
}

/* The answer is going out: the watch of reply_watch ends. */
static void
unwatch(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	conn *c = req_conn(req);

	if (c != NULL && c->gone != NULL) {
		c->gone = NULL;
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	}
	if (c != NULL && c->closed != NULL)
		event_del(c->closed);
}

static void
reply_json(cnied_reply *rp, int status, const char *origin, json_t *j)
{
	struct evhttp_request *req = rp->ctx;
	struct evbuffer *b = evbuffer_new();
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	unwatch(req);
	common_headers(req, origin);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	if (b != NULL && s != NULL)
		evbuffer_add(b, s, strlen(s));
	else
		status = 500;
	free(s);
	rearm(req);
	evhttp_send_reply(req, status, reason(status), b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
reply_preflight(cnied_reply *rp, const char *origin)
{
	struct evhttp_request *req = rp->ctx;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	common_headers(req, origin);
	evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, POST");
	evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type");
	/* Chrome's Private/Local Network Access: public page -> loopback. */
	evhttp_add_header(h, "Access-Control-Allow-Private-Network", "true");
	evhttp_add_header(h, "Access-Control-Max-Age", "600");
	rearm(req);
	evhttp_send_reply(req, 204, "No Content", NULL);
}

/* ---- event streams (GET /v1/events) ----------------------------------- */

static void
send_text(struct evhttp_request *req, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add(b, text, strlen(text));
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
}

void
cnied_http_broadcast(const char *text, void *arg)
{
	sse_client *c;

	(void)arg;
	for (c = h_clients; c != NULL; c = c->next)
		send_text(c->req, text);
}

static void
client_closed(struct evhttp_connection *evcon, void *arg)
{
	sse_client **pp, *c = arg;

	(void)evcon;
	for (pp = &h_clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			if (--h_nclients == 0 && h_heartbeat != NULL)
				event_del(h_heartbeat);
			/* The request outlives its connection until we end it. */
			evhttp_send_reply_end(c->req);
			free(c);
			return;
		}
	}
}

static void
reply_stream(cnied_reply *rp, const char *origin)
{
	struct evhttp_request *req = rp->ctx;
	sse_client *c;
	char *hello;
	size_t same = 0;

	for (c = h_clients; c != NULL; c = c->next)
		same += origin != NULL && strcmp(c->origin, origin) == 0;
	if (h_nclients >= MAX_SSE_CLIENTS || same >= MAX_SSE_PER_ORIGIN ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		cnied_reply_error(rp, 503, origin, "busy", "too many event streams", -1);
		return;
	}
	snprintf(c->origin, sizeof(c->origin), "%s", origin != NULL ? origin : "");
	c->started = time(NULL);
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	hold(req);
	/* A stream is quiet until something happens: no idle timeout for it
	 * (a day; EventSource reconnects by itself after that). */
	if (c->evcon != NULL)
		evhttp_connection_set_timeout(c->evcon, 86400);
	common_headers(req, origin);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/event-stream");
	evhttp_send_reply_start(req, 200, "OK");
	if ((hello = cnied_events_hello()) != NULL)
		send_text(req, hello);
	free(hello);
	c->next = h_clients;
	h_clients = c;
	if (h_nclients++ == 0 && h_heartbeat != NULL) {
		struct timeval beat = {SSE_HEARTBEAT_S, 0};
		event_add(h_heartbeat, &beat);
	}
	evhttp_connection_set_closecb(c->evcon, client_closed, c);
}

/* Every 30 s: a comment line to each stream; streams past their lifetime end. */
static void
heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	sse_client **pp = &h_clients, *c;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	(void)arg;
	while ((c = *pp) != NULL) {
		if (now - c->started >= SSE_LIFETIME_S) {
			*pp = c->next;
			h_nclients--;
			evhttp_connection_set_closecb(c->evcon, NULL, NULL);
			evhttp_send_reply_end(c->req);
			free(c);
			continue;
		}
		send_text(c->req, ": keep-alive\n\n");
		pp = &c->next;
	}
	if (h_nclients == 0)
		event_del(h_heartbeat);
}

static void
streams_end(void)
{
	while (h_clients != NULL) {
		sse_client *c = h_clients;
		h_clients = c->next;
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		evhttp_send_reply_end(c->req);
		free(c);
	}
	h_nclients = 0;
}

static const cnied_reply_ops http_reply_ops = {reply_json, reply_preflight, reply_stream,
    reply_watch};

static cnied_method
method_of(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return CNIED_METHOD_GET;
	case EVHTTP_REQ_POST:
		return CNIED_METHOD_POST;
	case EVHTTP_REQ_OPTIONS:
		return CNIED_METHOD_OPTIONS;
	default:
		return CNIED_METHOD_OTHER;
	}
}

/*
 * A header's value.  evhttp skips the spaces after the colon but not the
 * tabs, which RFC 9110 5.6.3 also allows there (head.c accepts both).
 */
static const char *
header(struct evkeyvalq *in, const char *name)
{
	const char *v = evhttp_find_header(in, name);

	while (v != NULL && (*v == ' ' || *v == '\t'))
		v++;
	return v;
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *host = header(in, "Host");
	cnied_reply rp = {&http_reply_ops, req};
	cnied_request rq;
	struct evbuffer *body;
	conn *c;
	char *p;

	(void)arg;
	memset(&rq, 0, sizeof(rq));
	/*
	 * When bevcb returns NULL (no memory for the TLS state), libevent 2.1
	 * serves the connection over a plain bufferevent of its own: such a
	 * connection passed neither TLS nor the peer check (client_hello_cb),
	 * so it gets nothing but this refusal.
	 */
	if ((c = req_conn(req)) == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		cnied_reply_error(&rp, 400, NULL, "bad-request", "TLS required", -1);
		return;
	}
	if (c->refused) {
		/* The request head_refuse() put in place of a refused head. */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		cnied_reply_error(&rp, c->hs.status, NULL,
		    c->hs.status == 413 ? "payload-too-large" : "bad-request", c->hs.why, -1);
		return;
	}
	head_scan_rearm(c);
	rq.origin = header(in, "Origin");
	/* No deadline while the request is served: the reply rearms it. */
	hold(req);
	if (host == NULL) {
		/* RFC 9112 section 3.2: 400 for a request without Host. */
		cnied_reply_error(&rp, 400, NULL, "bad-request", "no Host header", -1);
		return;
	}
	if (!cnied_host_allowed(host, strlen(host), h_ports, h_nports)) {
		cnied_reply_error(&rp, 403, NULL, "origin-not-allowed",
		    "Host must name the loopback listener", -1);
		return;
	}
	if (rq.origin != NULL && !cnied_origin_allowed(h_cfg, rq.origin, strlen(rq.origin))) {
		cnied_reply_error(&rp, 403, NULL, "origin-not-allowed", "origin not allowed", -1);
		return;
	}
	rq.method = method_of(evhttp_request_get_command(req));
	rq.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	rq.has_query = uri != NULL && evhttp_uri_get_query(uri) != NULL;
	rq.content_type = header(in, "Content-Type");
	rq.acr_method = header(in, "Access-Control-Request-Method");
	body = evhttp_request_get_input_buffer(req);
	rq.body_len = evbuffer_get_length(body);
	p = rq.body_len > 0 && rq.body_len <= CNIED_MAX_BODY ?
	    (char *)evbuffer_pullup(body, (ev_ssize_t)rq.body_len) : NULL;
	rq.body = p != NULL ? p : "";
	cnied_dispatch(&rq, &rp);
}

static void
add_port(uint16_t p)
{
	size_t i;

	for (i = 0; i < h_nports; i++)
		if (h_ports[i] == p)
			return;
	if (h_nports < CNIED_MAX_LISTEN)
		h_ports[h_nports++] = p;
}

int
cnied_http_start(struct event_base *base, const cnied_config *cfg, SSL_CTX *ssl,
    const int *fds, size_t nfds, uint16_t *ports, size_t *nports)
{
	size_t i;

	h_base = base;
	h_trim = evtimer_new(base, trim_cb, NULL); /* NULL: no trimming, nothing else */
	/* Armed while a stream is open only: an idle daemon never wakes up. */
	if ((h_heartbeat = event_new(base, -1, EV_PERSIST, heartbeat_cb, NULL)) == NULL)
		return -1;
	h_cfg = cfg;
	h_ssl = ssl;
	if (h_conn_idx < 0)
		h_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
	if (h_conn_idx < 0 || (h_http = evhttp_new(base)) == NULL)
		return -1;
	SSL_CTX_set_client_hello_cb(ssl, client_hello_cb, NULL);
	evhttp_set_allowed_methods(h_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_OPTIONS);
	/* Above cnied's own limits (head.c), so that cnied answers first. */
	evhttp_set_max_headers_size(h_http, 4 * CNIED_MAX_HEADERS);
	evhttp_set_max_body_size(h_http, CNIED_MAX_BODY);
	evhttp_set_timeout(h_http, cfg->idle_timeout);
	evhttp_set_bevcb(h_http, bevcb, NULL);
	evhttp_set_gencb(h_http, handle, NULL);
	if (nfds > 0) {
		/* systemd socket activation: the sockets come ready-bound. */
		for (i = 0; i < nfds && h_nbound < CNIED_MAX_LISTEN; i++) {
			uint16_t p;
			bool lo;
			if (cnied_listen_fd_port(fds[i], &p, &lo) != 0 || !lo) {
				cnie_log_error("socket-activated fd %d is not a loopback TCP socket",
				    fds[i]);
				return -1;
			}
			evutil_make_socket_nonblocking(fds[i]);
			if ((h_bound[h_nbound] = evhttp_accept_socket_with_handle(h_http,
			    fds[i])) == NULL)
				return -1;
			h_nbound++;
			add_port(p);
		}
	}
	for (i = 0; nfds == 0 && i < cfg->nlisten; i++) {
		char addr[64], holder[128];
		uint16_t p, real;
		bool lo;
		if (cnied_listen_parse(cfg->listen[i], addr, sizeof(addr), &p) != 0) {
			cnie_log_error("--listen %s: not a loopback ADDRESS:PORT (127.0.0.1, [::1], "
			    "localhost)", cfg->listen[i]);
			return -1;
		}
		h_bound[h_nbound] = evhttp_bind_socket_with_handle(h_http, addr, p);
		if (h_bound[h_nbound] == NULL) {
			int e = errno;
			if (e == EADDRINUSE) {
				cnied_listen_port_holder(p, holder, sizeof(holder));
				fprintf(stderr, "cnied: port %u on %s is in use by %s\n", p, addr,
				    holder);
			} else if (strchr(addr, ':') != NULL && cfg->nlisten > 1) {
				/* No IPv6 on this machine: IPv4 alone is fine. */
				cnie_log_warn("cannot listen on [%s]:%u: %s", addr, p, strerror(e));
				continue;
			} else {
				fprintf(stderr, "cnied: cannot listen on %s:%u: %s\n", addr, p,
				    strerror(e));
			}
			return -2;
		}
		if (cnied_listen_fd_port(evhttp_bound_socket_get_fd(h_bound[h_nbound]), &real, &lo) == 0)
			p = real;
		h_nbound++;
		add_port(p);
	}
	if (h_nbound == 0)
		return -1;
	memcpy(ports, h_ports, h_nports * sizeof(*ports));
	*nports = h_nports;
	return 0;
}

size_t
cnied_http_addrs(char (*out)[64], size_t max)
{
	size_t i, n = 0;
	int pass;

	/* IPv4 first: clients that read only the first line keep working. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < h_nbound && n < max; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char a[INET6_ADDRSTRLEN];
			int fd = evhttp_bound_socket_get_fd(h_bound[i]);

			if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
			    ss.ss_family != (pass == 0 ? AF_INET : AF_INET6))
				continue;
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
				inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
				snprintf(out[n++], 64, "%s:%u", a, ntohs(v4->sin_port));
			} else {
				struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
				inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
				snprintf(out[n++], 64, "[%s]:%u", a, ntohs(v6->sin6_port));
			}
		}
	}
	return n;
}

void
cnied_http_stop(void)
{
	streams_end();
	if (h_http != NULL)
		evhttp_free(h_http);
	h_http = NULL;
	if (h_trim != NULL)
		event_free(h_trim);
	h_trim = NULL;
	if (h_heartbeat != NULL)
		event_free(h_heartbeat);
	h_heartbeat = NULL;
}
