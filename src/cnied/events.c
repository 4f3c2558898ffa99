/*
 * Readers, cards and Server-Sent Events.
 *
 * With PC/SC, a watcher thread holds its own cnie_pcsc context (pcsc-lite
 * serialises calls per context, and the worker's context may be busy with
 * a long signature) and sleeps in cnie_pcsc_wait_change with no timeout:
 * no polling, so an idle daemon uses no CPU.  Each change refreshes the
 * reader snapshot (what /v1/status answers, without touching PC/SC on the
 * loop thread) and becomes "reader"/"card" Server-Sent Events texts, handed
 * to the loop through a pipe and given to the sink, which writes them to
 * every open /v1/events stream (http.c).  A kiosk page logs out on "card
 * removed".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pcsc.h>

#include "cnied.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cond = PTHREAD_COND_INITIALIZER;
static cnied_reader_info snap[CNIED_MAX_READERS];
static size_t nsnap;
static int snap_err;

static pthread_t watch_thread;
static bool watch_running, watch_stop;
static cnie_pcsc *watch_ctx;
static cnied_chan ev_chan = CNIED_CHAN_INIT;
static void (*ev_sink)(const char *text, void *arg);
static void *ev_sink_arg;

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
			snap[i].checked = true;
			snap[i].recognised = recognised;
			snap[i].pinpad = pinpad;
		}
	}
	pthread_mutex_unlock(&snap_lock);
}

/* "event: TYPE\ndata: {"reader":...,"state":...}\n\n" (caller frees), NULL: no memory. */
static char *
event_text(const char *type, const char *reader, const char *state)
{
	json_t *d = json_pack("{s:s,s:s}", "reader", reader, "state", state);
	char *data = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	char *msg = NULL;

	json_decref(d);
	if (data == NULL || asprintf(&msg, "event: %s\ndata: %s\n\n", type, data) < 0)
		msg = NULL;
	free(data);
	return msg;
}

/* Watcher thread: an event for the loop. */
static void
post_event(const char *type, const char *reader, const char *state)
{
	char *msg = event_text(type, reader, state);

	if (msg != NULL && cnied_chan_send(&ev_chan, msg) != 0)
		free(msg);
}

/* Loop thread: an event from the watcher. */
static void
deliver(void *ptr, void *arg)
{
	(void)arg;
	if (ev_sink != NULL)
		ev_sink(ptr, ev_sink_arg);
	free(ptr);
}

/* Appends text to *acc (a malloc'd string); false when out of memory. */
static bool
append(char **acc, char *text)
{
	char *s = NULL;

	if (text == NULL || asprintf(&s, "%s%s", *acc, text) < 0)
		s = NULL;
	free(text);
	if (s == NULL)
		return false;
	free(*acc);
	*acc = s;
	return true;
}

char *
cnied_events_hello(void)
{
	cnied_reader_info r[CNIED_MAX_READERS];
	char *acc = strdup(": cnied events\n\n");
	size_t n, i;
	int err;

	/* The current state first, so a page needs no separate status call. */
	n = cnied_readers_snapshot(r, CNIED_MAX_READERS, &err);
	for (i = 0; i < n && acc != NULL; i++) {
		if (!append(&acc, event_text("reader", r[i].name, "added")))
			break;
		if (r[i].card && !append(&acc, event_text("card", r[i].name, "inserted")))
			break;
	}
	return acc;
}

/* ---- PC/SC watcher ---------------------------------------------------- */

/* Serialises refresh(): the watcher's and a status revive()'s. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;

/* pcscd went away (or restarted: our context handle is stale). */
static bool
service_lost(int r)
{
	return r == CNIE_ERR_NO_SERVICE || r == CNIE_ERR_STATE;
}

/*
 * Rebuilds the snapshot from ctx and posts the differences as events;
 * returns the reader listing's error (0 also for no reader).
 */
static int
refresh(cnie_pcsc *ctx)
{
	cnied_reader_info now[CNIED_MAX_READERS], old[CNIED_MAX_READERS];
	char **names = NULL;
	size_t n = 0, nold, i, k;
	int r;

	memset(now, 0, sizeof(now));
	pthread_mutex_lock(&refresh_lock);
	r = cnie_pcsc_list_readers(ctx, &names, &n);
	if (r == CNIE_ERR_NO_READER) {
		r = 0;
		n = 0;
	}
	if (r != 0)
		n = 0;
	if (n > CNIED_MAX_READERS)
		n = CNIED_MAX_READERS;
	for (i = 0; i < n; i++) {
		cnie_reader_state st;
		snprintf(now[i].name, sizeof(now[i].name), "%s", names[i]);
		if (cnie_pcsc_reader_state(ctx, names[i], &st) == 0)
			now[i].card = st.card_present;
	}
	cnie_pcsc_free_names(&names);
	pthread_mutex_lock(&snap_lock);
	nold = nsnap;
	memcpy(old, snap, sizeof(old));
	/* What an operation learnt stays for the same card; a card newly
	 * inserted is unchecked again ("recognised": null in /v1/status). */
	for (i = 0; i < n; i++)
		for (k = 0; k < nold; k++) {
			if (strcmp(now[i].name, old[k].name) != 0)
				continue;
			/* The reader's own features stay while the reader does. */
			now[i].probed = old[k].probed;
			now[i].pinpad = old[k].pinpad;
			if (now[i].card == old[k].card) {
				now[i].checked = old[k].checked;
				now[i].recognised = old[k].recognised;
			}
		}
	pthread_mutex_unlock(&snap_lock);
	/*
	 * A reader seen for the first time: its PIN pad is read at once
	 * through a direct connection (no card power, no APDU), so /v1/status
	 * names keypad readers before any card operation.  Outside snap_lock:
	 * status answers from the previous snapshot meanwhile.  A reader held
	 * exclusively stays unprobed and is asked again at the next change.
	 */
	for (i = 0; i < n; i++) {
		cnie_transport_caps caps;

		if (now[i].probed || cnie_pcsc_reader_caps(ctx, now[i].name, &caps) != 0)
			continue;
		now[i].probed = true;
		now[i].pinpad = caps.pinpad_verify;
	}
	pthread_mutex_lock(&snap_lock);
	/* What an operation noted meanwhile (cnied_readers_note) is kept. */
	for (i = 0; i < n; i++)
		for (k = 0; k < nsnap; k++)
			if (strcmp(now[i].name, snap[k].name) == 0 && now[i].card == snap[k].card &&
			    snap[k].checked) {
				now[i].checked = true;
				now[i].recognised = snap[k].recognised;
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
	pthread_mutex_unlock(&refresh_lock);
	return r;
}

void
cnied_readers_revive(void)
{
	cnie_pcsc *ctx = NULL;
	int err;

	pthread_mutex_lock(&snap_lock);
	err = snap_err;
	pthread_mutex_unlock(&snap_lock);
	if (!watch_running || !service_lost(err) || cnie_pcsc_new(&ctx) != 0)
		return;
	/* pcscd is back: a fresh snapshot now, and the watcher, perhaps in
	 * its 5 s wait, retries at once with a context of its own. */
	refresh(ctx);
	cnie_pcsc_free(&ctx);
	pthread_mutex_lock(&snap_lock);
	pthread_cond_signal(&snap_cond);
	pthread_mutex_unlock(&snap_lock);
}

/* pcscd absent: the snapshot says so, and the watcher tries again in 5 s
 * (the only timed wait; a status call or a stop wakes it earlier). */
static void
wait_service(int r)
{
	struct timespec ts;

	pthread_mutex_lock(&snap_lock);
	snap_err = r;
	nsnap = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (!watch_stop)
		pthread_cond_timedwait(&snap_cond, &snap_lock, &ts);
	pthread_mutex_unlock(&snap_lock);
}

static void *
watch_main(void *arg)
{
	(void)arg;
	for (;;) {
		bool fresh = false;
		int r;
		pthread_mutex_lock(&snap_lock);
		if (watch_stop) {
			pthread_mutex_unlock(&snap_lock);
			break;
		}
		pthread_mutex_unlock(&snap_lock);
		if (watch_ctx == NULL) {
			if ((r = cnie_pcsc_new(&watch_ctx)) != 0) {
				wait_service(r);
				continue;
			}
			fresh = true;
		}
		if (service_lost(r = refresh(watch_ctx))) {
			/* pcscd restarted: our handle is stale; a new context
			 * at once (after a wait if even a new one fails). */
			cnie_pcsc_free(&watch_ctx);
			if (fresh)
				wait_service(r);
			continue;
		}
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
cnied_events_start(struct event_base *base, const cnied_config *cfg,
    void (*sink)(const char *text, void *arg), void *arg)
{
	int r;

	ev_sink = sink;
	ev_sink_arg = arg;
	if (cnied_chan_open(&ev_chan, base, deliver, NULL) != 0)
		return -1;
	if (cfg->refcard_dir != NULL) {
		nsnap = 1;
		snprintf(snap[0].name, sizeof(snap[0].name), "%s", CNIED_REFCARD_READER);
		snap[0].card = true;
		snap[0].checked = true;
		snap[0].recognised = true;
		return 0;
	}
	/* The first snapshot before the daemon announces its port (main.c
	 * writes the port file after this): a status asked right after start
	 * already lists the readers.  pcscd absent: the watcher retries. */
	if ((r = cnie_pcsc_new(&watch_ctx)) == 0)
		refresh(watch_ctx);
	else
		snap_err = r;
	if (pthread_create(&watch_thread, NULL, watch_main, NULL) != 0)
		return -1;
	watch_running = true;
	return 0;
}

void
cnied_events_stop(void)
{
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
	cnied_chan_close(&ev_chan, free);
	ev_sink = NULL;
}
