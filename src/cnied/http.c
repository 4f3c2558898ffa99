/*
 * HTTPS front: libevent's evhttp over bufferevent_openssl (TLS 1.2+).
 *
 * Every request passes, in order: the Host check (DNS rebinding), the
 * Origin allowlist (exact match; a request naming another origin gets 403
 * before anything else happens), then CORS preflight or the endpoint.
 * Limits: headers 8 KiB and body 64 KiB (evhttp answers 413 itself), a
 * connection cap (the listeners are paused while it is reached, the kernel
 * backlog holds the rest), an idle timeout (evhttp) and a whole-request
 * deadline per connection against slowloris: a client that drips header
 * bytes keeps evhttp's idle timer happy, but not ours, which runs from
 * accept (or from the last reply on a kept-alive connection) to the moment
 * the whole request has been read.  The deadline shuts the socket down;
 * evhttp then frees the connection itself.
 *
 * The per-connection state hangs off the SSL object as ex_data: its free
 * callback (SSL_free, when evhttp frees the bufferevent) is the one place
 * that knows a connection has gone, whether or not it ever sent a request.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <cnie/log.h>

#include "cnied.h"

typedef struct conn {
	SSL *ssl; /* borrowed: owned by the bufferevent */
	struct event *deadline;
	bool nodelay; /* TCP_NODELAY set */
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
	if (c->deadline != NULL)
		event_free(c->deadline);
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

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct timeval tv = {h_cfg->request_timeout, 0};
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
	if (h_trim != NULL)
		evtimer_del(h_trim);
	if (h_nconns >= (size_t)h_cfg->max_connections)
		listeners_enable(false);
	evtimer_add(c->deadline, &tv);
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
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

void
cnied_http_hold(void *req)
{
	conn *c = req_conn(req);
	int one = 1, fd;

	if (c == NULL)
		return;
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

	if (c != NULL)
		evtimer_add(c->deadline, &tv);
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
	case 422:
		return "Unprocessable Entity";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	}
	return "Error";
}

void
cnied_http_common_headers(void *vreq, const char *origin)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(vreq);

	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Vary", "Origin");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (origin != NULL)
		evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
}

void
cnied_http_reply_json(void *vreq, int status, const char *origin, json_t *j)
{
	struct evhttp_request *req = vreq;
	struct evbuffer *b = evbuffer_new();
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	cnied_http_common_headers(req, origin);
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

void
cnied_http_reply_error(void *req, int status, const char *origin, const char *code,
    const char *message, int tries_left)
{
	json_t *e = json_pack("{s:s,s:s}", "code", code, "message", message);

	if (e != NULL && tries_left >= 0)
		json_object_set_new(e, "triesLeft", json_integer(tries_left));
	cnied_http_reply_json(req, status, origin, json_pack("{s:o}", "error", e));
}

static bool
known_path(const char *p)
{
	static const char *const paths[] = {"/v1/status", "/v1/events", "/v1/certificate",
	    "/v1/authenticate", "/v1/sign", "/v1/identity", NULL};
	size_t i;

	for (i = 0; paths[i] != NULL; i++)
		if (strcmp(p, paths[i]) == 0)
			return true;
	return false;
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
preflight(struct evhttp_request *req, const char *origin)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *m = evhttp_find_header(in, "Access-Control-Request-Method");

	if (m == NULL || (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)) {
		cnied_http_reply_error(req, 403, NULL, "origin-not-allowed",
		    "preflight for an unsupported method", -1);
		return;
	}
	cnied_http_common_headers(req, origin);
	evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, POST");
	evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type");
	/* Chrome's Private/Local Network Access: public page -> loopback. */
	evhttp_add_header(h, "Access-Control-Allow-Private-Network", "true");
	evhttp_add_header(h, "Access-Control-Max-Age", "600");
	rearm(req);
	evhttp_send_reply(req, 204, "No Content", NULL);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *host = evhttp_find_header(in, "Host");
	const char *origin = evhttp_find_header(in, "Origin");
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *body;
	size_t len;
	char *p;

	(void)arg;
	cnied_http_hold(req);
	if (host == NULL || !cnied_host_allowed(host, strlen(host), h_ports, h_nports)) {
		cnied_http_reply_error(req, 403, NULL, "origin-not-allowed",
		    "Host must name the loopback listener", -1);
		return;
	}
	if (origin != NULL && !cnied_origin_allowed(h_cfg, origin, strlen(origin))) {
		cnied_http_reply_error(req, 403, NULL, "origin-not-allowed",
		    "origin not allowed", -1);
		return;
	}
	if (path == NULL || evhttp_uri_get_query(uri) != NULL || !known_path(path)) {
		cnied_http_reply_error(req, 404, origin, "not-found", "no such endpoint", -1);
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) {
		if (origin == NULL) {
			cnied_http_reply_error(req, 403, NULL, "origin-not-allowed",
			    "preflight without Origin", -1);
			return;
		}
		preflight(req, origin);
		return;
	}
	if (cmd == EVHTTP_REQ_POST) {
		if (origin == NULL) {
			cnied_http_reply_error(req, 403, NULL, "origin-not-allowed",
			    "Origin required", -1);
			return;
		}
		/* application/json makes every browser call a preflighted one. */
		if (!json_content_type(evhttp_find_header(in, "Content-Type"))) {
			cnied_http_reply_error(req, 415, origin, "bad-request",
			    "Content-Type must be application/json", -1);
			return;
		}
	} else if (cmd != EVHTTP_REQ_GET) {
		cnied_http_reply_error(req, 405, origin, "bad-request", "method not allowed", -1);
		return;
	}
	body = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(body);
	if (len > CNIED_MAX_BODY) {
		cnied_http_reply_error(req, 413, origin, "payload-too-large", "body too large",
		    -1);
		return;
	}
	p = len > 0 ? (char *)evbuffer_pullup(body, (ev_ssize_t)len) : NULL;
	cnied_api_handle(req, path, cmd == EVHTTP_REQ_POST, origin, p != NULL ? p : "", len);
}

/* Names the program listening on a TCP port (from /proc), for the "port in use" error. */
static void
port_holder(uint16_t port, char *out, size_t max)
{
	static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	unsigned long inode = 0;
	char line[512], want[8], link[64], path[600];
	struct dirent *d, *fd;
	DIR *proc, *fds;
	size_t t;

	snprintf(out, max, "another program");
	snprintf(want, sizeof(want), ":%04X", port);
	for (t = 0; t < 2 && inode == 0; t++) {
		FILE *f = fopen(tables[t], "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			char local[128], st[8];
			unsigned long ino;
			if (sscanf(line, "%*d: %127s %*s %7s %*s %*s %*s %*s %*s %lu", local, st,
			    &ino) != 3)
				continue;
			size_t l = strlen(local);
			if (l > 5 && strcmp(local + l - 5, want) == 0 && strcmp(st, "0A") == 0) {
				inode = ino;
				break;
			}
		}
		fclose(f);
	}
	if (inode == 0 || (proc = opendir("/proc")) == NULL)
		return;
	while ((d = readdir(proc)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", d->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fd = readdir(fds)) != NULL) {
			char target[64];
			ssize_t n;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", d->d_name, fd->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			snprintf(link, sizeof(link), "socket:[%lu]", inode);
			if (strcmp(target, link) == 0) {
				char comm[16] = "?";
				FILE *f;
				snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
				if ((f = fopen(path, "r")) != NULL) {
					if (fgets(comm, sizeof(comm), f) != NULL)
						comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
				if (snprintf(out, max, "%s (pid %s)", comm, d->d_name) < 0)
					snprintf(out, max, "%s", comm);
				closedir(fds);
				closedir(proc);
				return;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* "127.0.0.1:P", "[::1]:P", "localhost:P" -> numeric loopback address + port. */
static int
parse_listen(const char *s, char *addr, size_t amax, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned char bin[16];
	char *end;
	unsigned long p;
	size_t l;

	if (colon == NULL)
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || p > 65535)
		return -1;
	*port = (uint16_t)p;
	l = (size_t)(colon - s);
	if (l >= amax)
		return -1;
	if (l > 2 && s[0] == '[' && s[l - 1] == ']') {
		memcpy(addr, s + 1, l - 2);
		addr[l - 2] = '\0';
	} else {
		memcpy(addr, s, l);
		addr[l] = '\0';
	}
	if (strcmp(addr, "localhost") == 0)
		snprintf(addr, amax, "127.0.0.1");
	/* Loopback only: 127.0.0.0/8 or ::1. */
	if (inet_pton(AF_INET, addr, bin) == 1)
		return bin[0] == 127 ? 0 : -1;
	if (inet_pton(AF_INET6, addr, bin) == 1) {
		static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    1};
		return memcmp(bin, lo, 16) == 0 ? 0 : -1;
	}
	return -1;
}

static int
fd_port(int fd, uint16_t *port, bool *loopback)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		*port = ntohs(a->sin_port);
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		*port = ntohs(a->sin6_port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return 0;
	}
	return -1;
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
	h_cfg = cfg;
	h_ssl = ssl;
	if (h_conn_idx < 0)
		h_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
	if (h_conn_idx < 0 || (h_http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(h_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_OPTIONS);
	evhttp_set_max_headers_size(h_http, CNIED_MAX_HEADERS);
	evhttp_set_max_body_size(h_http, CNIED_MAX_BODY);
	evhttp_set_timeout(h_http, cfg->idle_timeout);
	evhttp_set_bevcb(h_http, bevcb, NULL);
	evhttp_set_gencb(h_http, handle, NULL);
	if (nfds > 0) {
		/* systemd socket activation: the sockets come ready-bound. */
		for (i = 0; i < nfds && h_nbound < CNIED_MAX_LISTEN; i++) {
			uint16_t p;
			bool lo;
			if (fd_port(fds[i], &p, &lo) != 0 || !lo) {
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
		if (parse_listen(cfg->listen[i], addr, sizeof(addr), &p) != 0) {
			cnie_log_error("--listen %s: not a loopback ADDRESS:PORT (127.0.0.1, [::1], "
			    "localhost)", cfg->listen[i]);
			return -1;
		}
		h_bound[h_nbound] = evhttp_bind_socket_with_handle(h_http, addr, p);
		if (h_bound[h_nbound] == NULL) {
			int e = errno;
			if (e == EADDRINUSE) {
				port_holder(p, holder, sizeof(holder));
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
		if (fd_port(evhttp_bound_socket_get_fd(h_bound[h_nbound]), &real, &lo) == 0)
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

void
cnied_http_stop(void)
{
	if (h_http != NULL)
		evhttp_free(h_http);
	h_http = NULL;
	if (h_trim != NULL)
		event_free(h_trim);
	h_trim = NULL;
}
