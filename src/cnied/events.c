/*
 * Readers, cards and Server-Sent Events.
 *
 * With PC/SC, a watcher thread holds its own cnie_pcsc context (pcsc-lite
 * serialises calls per context, and the worker's context may be busy with
 * a long signature) and sleeps in cnie_pcsc_wait_change with no timeout:
 * no polling, so an idle daemon uses no CPU.  Each change refreshes the
 * reader snapshot (what /v1/status answers, without touching PC/SC on the
 * loop thread) and becomes "reader"/"card" events, handed to the loop
 * through a pipe and written to every open /v1/events stream.  A kiosk
 * page logs out on "card removed".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pcsc.h>

#include "cnied.h"

#define MAX_SSE_CLIENTS 64

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cond = PTHREAD_COND_INITIALIZER;
static cnied_reader_info snap[CNIED_MAX_READERS];
static size_t nsnap;
static int snap_err;

static pthread_t watch_thread;
static bool watch_running, watch_stop;
static cnie_pcsc *watch_ctx;
static int ev_pipe[2] = {-1, -1};
static struct event *ev_read;

typedef struct sse_client {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct sse_client *next;
} sse_client;
static sse_client *clients;
static size_t nclients;

size_t
cnied_readers_snapshot(cnied_reader_info *out, size_t max, int *err)
{
	size_t n;

	pthread_mutex_lock(&snap_lock);
	n = nsnap < max ? nsnap : max;
	memcpy(out, snap, n * sizeof(*out));
	*err = snap_err;
	pthread_mutex_unlock(&snap_lock);
	return n;
}

void
cnied_readers_note(const char *reader, bool recognised, bool pinpad)
{
	size_t i;

	pthread_mutex_lock(&snap_lock);
	for (i = 0; i < nsnap; i++) {
		if (strcmp(snap[i].name, reader) == 0) {
			snap[i].recognised = recognised;
			snap[i].pinpad = pinpad;
		}
	}
	pthread_mutex_unlock(&snap_lock);
}

/* Event text for the loop (watcher thread); sent as a pointer through the pipe. */
static void
post_event(const char *type, const char *reader, const char *state)
{
	json_t *d = json_pack("{s:s,s:s}", "reader", reader, "state", state);
	char *data = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	char *msg = NULL;

	json_decref(d);
	if (data == NULL || asprintf(&msg, "event: %s\ndata: %s\n\n", type, data) < 0)
		msg = NULL;
	free(data);
	if (msg != NULL && write(ev_pipe[1], &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		free(msg);
}

static void
broadcast(const char *msg)
{
	sse_client *c;

	for (c = clients; c != NULL; c = c->next) {
		struct evbuffer *b = evbuffer_new();
		if (b == NULL)
			continue;
		evbuffer_add(b, msg, strlen(msg));
		evhttp_send_reply_chunk(c->req, b);
		evbuffer_free(b);
	}
}

static void
ev_read_cb(evutil_socket_t fd, short what, void *arg)
{
	char *msg;

	(void)what;
	(void)arg;
	while (read(fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
		broadcast(msg);
		free(msg);
	}
}

static void
client_closed(struct evhttp_connection *evcon, void *arg)
{
	sse_client **pp, *c = arg;

	(void)evcon;
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			nclients--;
			/* The request outlives its connection until we end it. */
			evhttp_send_reply_end(c->req);
			free(c);
			return;
		}
	}
}

void
cnied_events_add_client(void *vreq, const char *origin)
{
	struct evhttp_request *req = vreq;
	cnied_reader_info r[CNIED_MAX_READERS];
	struct evbuffer *b;
	sse_client *c;
	size_t n, i;
	int err;

	if (nclients >= MAX_SSE_CLIENTS || (c = calloc(1, sizeof(*c))) == NULL) {
		cnied_http_reply_error(req, 503, origin, "busy", "too many event streams", -1);
		return;
	}
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	cnied_http_hold(req);
	/* A stream is quiet until something happens: no idle timeout for it
	 * (a day; EventSource reconnects by itself after that). */
	if (c->evcon != NULL)
		evhttp_connection_set_timeout(c->evcon, 86400);
	cnied_http_common_headers(req, origin);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/event-stream");
	evhttp_send_reply_start(req, 200, "OK");
	/* The current state first, so a page needs no separate status call. */
	n = cnied_readers_snapshot(r, CNIED_MAX_READERS, &err);
	if ((b = evbuffer_new()) != NULL) {
		evbuffer_add_printf(b, ": cnied events\n\n");
		for (i = 0; i < n; i++) {
			json_t *d = json_pack("{s:s,s:s}", "reader", r[i].name, "state", "added");
			char *s = json_dumps(d, JSON_COMPACT);
			if (s != NULL)
				evbuffer_add_printf(b, "event: reader\ndata: %s\n\n", s);
			free(s);
			json_decref(d);
			if (!r[i].card)
				continue;
			d = json_pack("{s:s,s:s}", "reader", r[i].name, "state", "inserted");
			s = json_dumps(d, JSON_COMPACT);
			if (s != NULL)
				evbuffer_add_printf(b, "event: card\ndata: %s\n\n", s);
			free(s);
			json_decref(d);
		}
		evhttp_send_reply_chunk(req, b);
		evbuffer_free(b);
	}
	c->next = clients;
	clients = c;
	nclients++;
	evhttp_connection_set_closecb(c->evcon, client_closed, c);
}

/* ---- PC/SC watcher ---------------------------------------------------- */

static void
refresh(void)
{
	cnied_reader_info now[CNIED_MAX_READERS], old[CNIED_MAX_READERS];
	char **names = NULL;
	size_t n = 0, nold, i, k;
	int r;

	memset(now, 0, sizeof(now));
	r = cnie_pcsc_list_readers(watch_ctx, &names, &n);
	if (r == CNIE_ERR_NO_READER) {
		r = 0;
		n = 0;
	}
	if (n > CNIED_MAX_READERS)
		n = CNIED_MAX_READERS;
	for (i = 0; i < n; i++) {
		cnie_reader_state st;
		snprintf(now[i].name, sizeof(now[i].name), "%s", names[i]);
		if (cnie_pcsc_reader_state(watch_ctx, names[i], &st) == 0)
			now[i].card = st.card_present;
	}
	cnie_pcsc_free_names(&names);
	pthread_mutex_lock(&snap_lock);
	nold = nsnap;
	memcpy(old, snap, sizeof(old));
	for (i = 0; i < n; i++)
		for (k = 0; k < nold; k++)
			if (strcmp(now[i].name, old[k].name) == 0 && now[i].card == old[k].card) {
				now[i].recognised = old[k].recognised;
				now[i].pinpad = old[k].pinpad;
			}
	memcpy(snap, now, sizeof(snap));
	nsnap = n;
	snap_err = r;
	pthread_mutex_unlock(&snap_lock);
	for (i = 0; i < n; i++) {
		bool found = false;
		for (k = 0; k < nold; k++) {
			if (strcmp(now[i].name, old[k].name) != 0)
				continue;
			found = true;
			if (now[i].card != old[k].card)
				post_event("card", now[i].name, now[i].card ? "inserted" : "removed");
		}
		if (!found) {
			post_event("reader", now[i].name, "added");
			if (now[i].card)
				post_event("card", now[i].name, "inserted");
		}
	}
	for (k = 0; k < nold; k++) {
		bool found = false;
		for (i = 0; i < n; i++)
			if (strcmp(now[i].name, old[k].name) == 0)
				found = true;
		if (!found) {
			if (old[k].card)
				post_event("card", old[k].name, "removed");
			post_event("reader", old[k].name, "removed");
		}
	}
}

static void *
watch_main(void *arg)
{
	(void)arg;
	for (;;) {
		int r;
		pthread_mutex_lock(&snap_lock);
		if (watch_stop) {
			pthread_mutex_unlock(&snap_lock);
			break;
		}
		pthread_mutex_unlock(&snap_lock);
		if (watch_ctx == NULL && (r = cnie_pcsc_new(&watch_ctx)) != 0) {
			struct timespec ts;
			/* pcscd absent: try again in 5 s (the only timed wait). */
			pthread_mutex_lock(&snap_lock);
			snap_err = r;
			nsnap = 0;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 5;
			if (!watch_stop)
				pthread_cond_timedwait(&snap_cond, &snap_lock, &ts);
			pthread_mutex_unlock(&snap_lock);
			continue;
		}
		refresh();
		r = cnie_pcsc_wait_change(watch_ctx, -1);
		if (r != 0 && r != CNIE_ERR_TIMEOUT && r != CNIE_ERR_CANCELLED) {
			cnie_log_warn("PC/SC watch: %s", cnie_strerror(r));
			cnie_pcsc_free(&watch_ctx);
		}
	}
	cnie_pcsc_free(&watch_ctx);
	return NULL;
}

int
cnied_events_start(struct event_base *base, const cnied_config *cfg)
{
	if (pipe2(ev_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	(void)fcntl(ev_pipe[1], F_SETFL, 0);
	ev_read = event_new(base, ev_pipe[0], EV_READ | EV_PERSIST, ev_read_cb, NULL);
	if (ev_read == NULL || event_add(ev_read, NULL) != 0)
		return -1;
	if (cfg->refcard_dir != NULL) {
		nsnap = 1;
		snprintf(snap[0].name, sizeof(snap[0].name), "%s", CNIED_REFCARD_READER);
		snap[0].card = true;
		snap[0].recognised = true;
		return 0;
	}
	if (pthread_create(&watch_thread, NULL, watch_main, NULL) != 0)
		return -1;
	watch_running = true;
	return 0;
}

void
cnied_events_stop(void)
{
	char *msg;

	if (watch_running) {
		/* A cancel sent before the watcher sleeps is lost: repeat it. */
		for (;;) {
			struct timespec ts;
			pthread_mutex_lock(&snap_lock);
			watch_stop = true;
			pthread_cond_signal(&snap_cond);
			if (watch_ctx != NULL)
				cnie_pcsc_cancel(watch_ctx);
			pthread_mutex_unlock(&snap_lock);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(watch_thread, NULL, &ts) == 0)
				break;
		}
		watch_running = false;
	}
	while (clients != NULL) {
		sse_client *c = clients;
		clients = c->next;
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		evhttp_send_reply_end(c->req);
		free(c);
	}
	nclients = 0;
	if (ev_pipe[0] >= 0)
		while (read(ev_pipe[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			free(msg);
	if (ev_read != NULL)
		event_free(ev_read);
	ev_read = NULL;
	if (ev_pipe[0] >= 0)
		close(ev_pipe[0]);
	if (ev_pipe[1] >= 0)
		close(ev_pipe[1]);
	ev_pipe[0] = ev_pipe[1] = -1;
}
