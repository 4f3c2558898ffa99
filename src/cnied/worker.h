/*
 * The card worker: one thread, one queue, one card operation at a time.
 * A job (job.h) is a parsed request plus its results; the submitter names a
 * completion callback, which the worker calls on the loop thread when the
 * job is done or its wait for the card ran out.  The worker calls nothing
 * above it.
 */
#ifndef CNIED_WORKER_H
#define CNIED_WORKER_H

#include "cnied.h"
#include "job.h"

struct event_base;
/* Starts the worker thread; its finished jobs come back on base's loop. */
int cnied_worker_start(struct event_base *base, const cnied_config *cfg);
/* Joins the thread; jobs never finished are freed without their callback. */
void cnied_worker_stop(void);
/* Card requests of one origin waiting at once; more get busy at once. */
#define CNIED_MAX_QUEUED_PER_ORIGIN 4
/*
 * Queues job (taken over).  done runs on the loop thread once: with the
 * results, or with err CNIE_ERR_BUSY when the job waited longer than the
 * queue timeout and never reached the card, or at once when its origin
 * already has CNIED_MAX_QUEUED_PER_ORIGIN jobs waiting.
 */
void cnied_worker_submit(cnied_job *job, cnied_job_done_fn done);
/*
 * Loop thread.  A queued job is finished now with err; the running one has
 * its dialog killed and comes back with err (or its result, when its card
 * work was already done).  A finished job is not touched.
 */
void cnied_worker_cancel(cnied_job *job, int err);
/*
 * Loop thread, the daemon stopping: queued jobs are finished now with
 * CNIED_ERR_SHUTDOWN, the running job's dialog is killed, no job is taken
 * any more (later submits finish at once with CNIED_ERR_SHUTDOWN).  Returns
 * true when a job is still running: idle(arg) runs once it is answered.
 */
bool cnied_worker_shutdown(void (*idle)(void *arg), void *arg);

#endif
