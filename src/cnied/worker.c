/*
 * The card worker: one thread, one queue, one card operation at a time.
 *
 * The event loop never touches the card: it queues a job and goes on
 * serving (status, preflights, other connections); the worker runs the
 * operation (ops.c: pinentry dialogs and card commands), then hands the
 * finished job back through a pipe to the loop, which calls the job's
 * completion callback.  A job still queued when its wait ends (queue
 * timeout) gets CNIE_ERR_BUSY from the loop and never reaches the card.
 *
 * Cancelling (the loop thread): a queued job leaves the queue and is
 * finished at once with the cancel's error; the running job's dialog is
 * killed (pinentry.c), so its operation stops at the dialog, before any
 * further card command, and comes back with that error.  A card command
 * under way is never interrupted: it takes milliseconds, and cutting it
 * would leave the card mid-command.  Stopping the daemon cancels every job
 * this way and keeps the worker from taking new ones.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "ops.h"
#include "worker.h"

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static cnied_job *q_head, *q_tail;
static bool q_stop;
static cnied_job *w_current; /* the job the worker runs (q_lock) */
static void (*w_idle)(void *arg); /* stopping: called once the last job is answered */
static void *w_idle_arg;
static pthread_t w_thread;
static bool w_running;
static cnied_chan done_chan = CNIED_CHAN_INIT;
static struct event_base *w_base;
static const cnied_config *w_cfg;
static cnied_card_ctx w_ctx; /* worker thread only */

void
cnied_job_free(cnied_job *job)
{
	if (job == NULL)
		return;
	if (job->op == CNIED_OP_SIGN)
		cnied_req_sign_clear(&job->u.sign);
	if (job->timer != NULL)
		event_free(job->timer);
	json_decref(job->answer);
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

static void
job_free_ptr(void *p)
{
	cnied_job_free(p);
}

/* ---- loop side ------------------------------------------------------- */

static void
finished(void *ptr, void *arg)
{
	cnied_job *job = ptr;

	(void)arg;
	if (job->timer != NULL)
		event_del(job->timer);
	job->done(job);
	if (w_idle != NULL) {
		void (*idle)(void *) = w_idle;
		w_idle = NULL;
		idle(w_idle_arg);
	}
}

/* Takes job out of the queue (q_lock held); false when it is not queued. */
static bool
unqueue(cnied_job *job)
{
	cnied_job **pp;

	for (pp = &q_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			q_tail = NULL;
			for (cnied_job *j = q_head; j != NULL; j = j->next)
				q_tail = j;
			return true;
		}
	}
	return false;
}

void
cnied_worker_cancel(cnied_job *job, int err)
{
	bool removed;

	pthread_mutex_lock(&q_lock);
	removed = !job->started && unqueue(job);
	if (!removed && w_current == job)
		cnied_pinentry_abort(err);
	pthread_mutex_unlock(&q_lock);
	if (removed) {
		if (job->timer != NULL)
			event_del(job->timer);
		job->err = err;
		job->done(job);
	}
}

bool
cnied_worker_shutdown(void (*idle)(void *arg), void *arg)
{
	cnied_job *queued, *j;
	bool running;

	pthread_mutex_lock(&q_lock);
	q_stop = true;
	queued = q_head;
	q_head = q_tail = NULL;
	running = w_current != NULL;
	if (running) {
		w_idle = idle;
		w_idle_arg = arg;
		cnied_pinentry_abort(CNIED_ERR_SHUTDOWN);
	}
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	while ((j = queued) != NULL) {
		queued = j->next;
		if (j->timer != NULL)
			event_del(j->timer);
		j->err = CNIED_ERR_SHUTDOWN;
		j->done(j);
	}
	return running;
}

static void
queue_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	cnied_job *job = arg;
	bool removed;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&q_lock);
	removed = !job->started && unqueue(job);
	pthread_mutex_unlock(&q_lock);
	if (removed) {
		job->err = CNIE_ERR_BUSY;
		job->done(job);
	}
}

void
cnied_worker_submit(cnied_job *job, cnied_job_done_fn done)
{
	struct timeval tv = {w_cfg->queue_timeout, 0};

	job->done = done;
	if (q_stop) { /* the loop thread sets it: no lock needed to read it here */
		job->err = CNIED_ERR_SHUTDOWN;
		done(job);
		return;
	}
	job->next = NULL;
	pthread_mutex_lock(&q_lock);
	{
		/* One origin cannot fill the queue (and chain dialogs) for others. */
		size_t same = 0;
		for (cnied_job *j = q_head; j != NULL; j = j->next)
			same += strcmp(j->origin, job->origin) == 0;
		if (same >= CNIED_MAX_QUEUED_PER_ORIGIN) {
			pthread_mutex_unlock(&q_lock);
			job->err = CNIE_ERR_BUSY;
			done(job);
			return;
		}
	}
	job->timer = evtimer_new(w_base, queue_timeout_cb, job);
	if (job->timer != NULL)
		evtimer_add(job->timer, &tv);
	if (q_tail != NULL)
		q_tail->next = job;
	else
		q_head = job;
	q_tail = job;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/* ---- worker side ----------------------------------------------------- */

static void *
worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		cnied_job *job;
		pthread_mutex_lock(&q_lock);
		while (q_head == NULL && !q_stop)
			pthread_cond_wait(&q_cond, &q_lock);
		if (q_stop) {
			pthread_mutex_unlock(&q_lock);
			break;
		}
		job = q_head;
		q_head = job->next;
		if (q_head == NULL)
			q_tail = NULL;
		job->started = true;
		w_current = job;
		cnied_pinentry_arm(); /* under q_lock: a cancel sees this job or the last */
		pthread_mutex_unlock(&q_lock);
		cnied_op_run(&w_ctx, job);
		pthread_mutex_lock(&q_lock);
		w_current = NULL;
		pthread_mutex_unlock(&q_lock);
		if (cnied_chan_send(&done_chan, job) != 0)
			cnie_log_error("cannot hand a finished job back");
	}
	cnied_card_ctx_clear(&w_ctx);
	return NULL;
}

int
cnied_worker_start(struct event_base *base, const cnied_config *cfg)
{
	w_base = base;
	w_cfg = cfg;
	q_stop = false;
	cnied_card_ctx_init(&w_ctx, cfg);
	if (cnied_chan_open(&done_chan, base, finished, NULL) != 0)
		return -1;
	if (pthread_create(&w_thread, NULL, worker_main, NULL) != 0)
		return -1;
	w_running = true;
	return 0;
}

void
cnied_worker_stop(void)
{
	if (w_running) {
		pthread_mutex_lock(&q_lock);
		q_stop = true;
		pthread_cond_signal(&q_cond);
		pthread_mutex_unlock(&q_lock);
		pthread_join(w_thread, NULL);
		w_running = false;
	}
	while (q_head != NULL) {
		cnied_job *j = q_head;
		q_head = j->next;
		cnied_job_free(j);
	}
	q_tail = NULL;
	/* Jobs finished after the loop stopped: their requests die with the front. */
	cnied_chan_close(&done_chan, job_free_ptr);
}
