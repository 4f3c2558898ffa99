/*
 * Secrets and consent through a GnuPG pinentry (Assuan protocol, libassuan
 * client).  The PIN, PUK and CAN never cross HTTP: the page only learns
 * that the user typed something or cancelled.  Each dialog names the
 * requesting origin and the operation.  Runs on the worker thread only.
 *
 * A dialog can be stopped from another thread (cnied_pinentry_abort: the
 * daemon stops, or the client left): the pinentry process is killed, the
 * dialog's call returns the abort's error, and no new dialog opens until
 * cnied_pinentry_arm() (the worker, at the start of its next job).
 *
 * The secret arrives through the data callback into a fixed buffer that
 * is wiped on every path; ASSUAN_CONFIDENTIAL keeps it out of libassuan's
 * logging.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <assuan.h>
#include <gpg-error.h>
#include <openssl/crypto.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "cnied.h"

static pthread_mutex_t pe_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t pe_pid = -1; /* the dialog on screen, -1: none */
static int pe_abort;	  /* 0, or the error every dialog returns until armed */

void
cnied_pinentry_arm(void)
{
	pthread_mutex_lock(&pe_lock);
	pe_abort = 0;
	pthread_mutex_unlock(&pe_lock);
}

void
cnied_pinentry_abort(int err)
{
	pthread_mutex_lock(&pe_lock);
	if (pe_abort == 0)
		pe_abort = err;
	if (pe_pid > 0)
		(void)kill(pe_pid, SIGTERM);
	pthread_mutex_unlock(&pe_lock);
}

void
cnied_pinentry_kill(void)
{
	pthread_mutex_lock(&pe_lock);
	if (pe_pid > 0)
		(void)kill(pe_pid, SIGKILL);
	pthread_mutex_unlock(&pe_lock);
}

/* The abort's error, 0 when none. */
static int
aborted(void)
{
	int r;

	pthread_mutex_lock(&pe_lock);
	r = pe_abort;
	pthread_mutex_unlock(&pe_lock);
	return r;
}

/* Records the dialog's process (kills it at once when an abort came first). */
static void
track(assuan_context_t ctx)
{
	pthread_mutex_lock(&pe_lock);
	pe_pid = ctx != NULL ? (pid_t)assuan_get_pid(ctx) : -1;
	if (pe_pid > 0 && pe_abort != 0)
		(void)kill(pe_pid, SIGTERM);
	pthread_mutex_unlock(&pe_lock);
}

/* Ends a dialog: BYE, release (waits for the process), forget its pid. */
static void
finish(assuan_context_t ctx)
{
	(void)assuan_transact(ctx, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
	assuan_release(ctx);
	track(NULL);
}

typedef struct secret_buf {
	char *p;
	size_t max;
	size_t len;
	bool overflow;
} secret_buf;

static gpg_error_t
data_cb(void *arg, const void *p, size_t n)
{
	secret_buf *b = arg;

	if (n > b->max - 1 - b->len) {
		b->overflow = true;
		return 0;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* "CMD " + text with %, CR, LF percent-escaped (Assuan 3.1), bounded. */
static int
build_cmd(char *out, size_t max, const char *cmd, const char *text)
{
	size_t o;
	const char *s;

	o = (size_t)snprintf(out, max, "%s ", cmd);
	if (o >= max)
		return -1;
	for (s = text; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%' || c == '\r' || c == '\n' || c < 0x20) {
			if (max - o < 4)
				return -1;
			snprintf(out + o, 4, "%%%02X", c);
			o += 3;
		} else {
			if (max - o < 2)
				return -1;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return 0;
}

static int
map_err(gpg_error_t e)
{
	switch (gpg_err_code(e)) {
	case GPG_ERR_CANCELED:
	case GPG_ERR_NOT_CONFIRMED:
	case GPG_ERR_FULLY_CANCELED:
		return CNIE_ERR_CANCELLED;
	case GPG_ERR_TIMEOUT:
		return CNIE_ERR_TIMEOUT;
	default:
		return CNIED_ERR_DIALOG;
	}
}

static int
start(const char *program, int timeout, const char *title, const char *desc,
    assuan_context_t *out)
{
	assuan_context_t ctx = NULL;
	const char *argv[2] = {program, NULL};
	char cmd[1024];
	gpg_error_t e;

	*out = NULL;
	if (program == NULL || program[0] == '\0')
		return CNIE_ERR_UNSUPPORTED;
	if (aborted() != 0)
		return aborted(); /* no new dialog once stopped */
	if ((e = assuan_new(&ctx)) != 0)
		return CNIE_ERR_NOMEM;
	/* fd_child_list NULL: the child keeps only its pipes and stderr. */
	if ((e = assuan_pipe_connect(ctx, program, argv, NULL, NULL, NULL, 0)) != 0) {
		cnie_log_error("cannot start pinentry %s: error %u", program, (unsigned)gpg_err_code(e));
		assuan_release(ctx);
		return CNIED_ERR_DIALOG;
	}
	track(ctx);
	snprintf(cmd, sizeof(cmd), "SETTIMEOUT %d", timeout);
	(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	if (build_cmd(cmd, sizeof(cmd), "SETTITLE", title) != 0 ||
	    (e = assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL)) != 0 ||
	    build_cmd(cmd, sizeof(cmd), "SETDESC", desc) != 0 ||
	    (e = assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL)) != 0) {
		assuan_release(ctx);
		track(NULL);
		return aborted() != 0 ? aborted() : CNIED_ERR_DIALOG;
	}
	*out = ctx;
	return 0;
}

int
cnied_pinentry_getpin(const char *program, int timeout, const char *title,
    const char *desc, const char *prompt, char *out, size_t out_max)
{
	assuan_context_t ctx = NULL;
	secret_buf b = {out, out_max, 0, false};
	char cmd[512];
	gpg_error_t e;
	int r;

	if (out_max < 2)
		return CNIE_ERR_INVALID_ARG;
	out[0] = '\0';
	if ((r = start(program, timeout, title, desc, &ctx)) != 0)
		return r;
	if (build_cmd(cmd, sizeof(cmd), "SETPROMPT", prompt) != 0 ||
	    assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL) != 0) {
		r = CNIED_ERR_DIALOG;
		goto out;
	}
	assuan_begin_confidential(ctx);
	e = assuan_transact(ctx, "GETPIN", data_cb, &b, NULL, NULL, NULL, NULL);
	assuan_end_confidential(ctx);
	if (e != 0) {
		r = map_err(e);
		goto out;
	}
	if (b.overflow || b.len == 0) {
		/* An empty answer is a cancel for us: nothing to send to the card. */
		r = b.overflow ? CNIE_ERR_PIN_FORMAT : CNIE_ERR_CANCELLED;
		goto out;
	}
	r = 0;
out:
	if (r != 0 && aborted() != 0)
		r = aborted(); /* killed: not the user's cancel */
	if (r != 0)
		OPENSSL_cleanse(out, out_max);
	finish(ctx);
	return r;
}

int
cnied_pinentry_confirm(const char *program, int timeout, const char *title,
    const char *desc)
{
	assuan_context_t ctx = NULL;
	gpg_error_t e;
	int r;

	if ((r = start(program, timeout, title, desc, &ctx)) != 0)
		return r;
	(void)assuan_transact(ctx, "SETOK Allow", NULL, NULL, NULL, NULL, NULL, NULL);
	(void)assuan_transact(ctx, "SETCANCEL Deny", NULL, NULL, NULL, NULL, NULL, NULL);
	e = assuan_transact(ctx, "CONFIRM", NULL, NULL, NULL, NULL, NULL, NULL);
	r = e == 0 ? 0 : map_err(e);
	if (r != 0 && aborted() != 0)
		r = aborted();
	finish(ctx);
	return r;
}
