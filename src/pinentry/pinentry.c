/*
 * The GnuPG pinentry client of the project (cnie_pinentry.h): one dialog
 * per call over the Assuan protocol, through libassuan (the pinentry is a
 * child process on a pipe pair).  Commands of the pinentry protocol used
 * here (GnuPG's pinentry, doc/pinentry.texi): OPTION ttyname / ttytype /
 * lc-ctype / lc-messages, SETTIMEOUT, SETTITLE, SETDESC, SETPROMPT, SETOK,
 * SETCANCEL, SETERROR, then GETPIN, CONFIRM or MESSAGE, and BYE.
 *
 * Texts are percent-escaped (%, CR, LF and every other control byte, Assuan
 * section 3.1) into a line bounded by ASSUAN_LINELENGTH; a text that would
 * not fit fails the dialog (never silently cut: the part cut off could be
 * the part that matters).
 *
 * The secret arrives through the data callback into the caller's buffer,
 * inside assuan_begin_confidential/assuan_end_confidential (keeps it out of
 * libassuan's logging), and the buffer is wiped on every failure path.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <assuan.h>
#include <gpg-error.h>
#include <openssl/crypto.h>

#include <cnie/error.h>

#include "cnie_pinentry.h"

struct cnie_pinentry_ctl {
	pthread_mutex_t lock;
	pid_t pid; /* the dialog on screen, -1: none */
	int abort; /* 0, or the error every dialog returns until armed */
};

/* Why this thread's last call failed with CNIE_PINENTRY_ERR_FAILED. */
static _Thread_local unsigned last_gpg_code;
static _Thread_local bool last_not_started;

cnie_pinentry_ctl *
cnie_pinentry_ctl_new(void)
{
	cnie_pinentry_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->pid = -1;
	return c;
}

void
cnie_pinentry_ctl_free(cnie_pinentry_ctl *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void
cnie_pinentry_ctl_abort(cnie_pinentry_ctl *c, int err)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->abort == 0)
		c->abort = err;
	if (c->pid > 0)
		(void)kill(c->pid, SIGTERM);
	pthread_mutex_unlock(&c->lock);
}

void
cnie_pinentry_ctl_kill(cnie_pinentry_ctl *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->pid > 0)
		(void)kill(c->pid, SIGKILL);
	pthread_mutex_unlock(&c->lock);
}

void
cnie_pinentry_ctl_arm(cnie_pinentry_ctl *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->abort = 0;
	pthread_mutex_unlock(&c->lock);
}

/* The abort's error, 0 when none (or no control). */
static int
aborted(cnie_pinentry_ctl *c)
{
	int r;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	r = c->abort;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Records the dialog's process (killed at once when an abort came first). */
static void
track(cnie_pinentry_ctl *c, assuan_context_t ctx)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->pid = ctx != NULL ? (pid_t)assuan_get_pid(ctx) : -1;
	if (c->pid > 0 && c->abort != 0)
		(void)kill(c->pid, SIGTERM);
	pthread_mutex_unlock(&c->lock);
}

const char *
cnie_pinentry_program(const char *fallback)
{
	const char *env = getenv("CNIE_PINENTRY");

	if (env != NULL && env[0] != '\0')
		return env;
	if (fallback != NULL && fallback[0] != '\0')
		return fallback;
	return "pinentry";
}

unsigned
cnie_pinentry_last_error(bool *not_started)
{
	if (not_started != NULL)
		*not_started = last_not_started;
	return last_gpg_code;
}

/*
 * prefix verbatim, then text percent-escaped: %, CR, LF, every other
 * control byte and DEL.  0, or -1 when it does not fit in max.
 */
static int
line_of(char *out, size_t max, const char *prefix, const char *text)
{
	size_t o = strlen(prefix);

	if (o >= max)
		return -1;
	memcpy(out, prefix, o);
	for (; *text != '\0'; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '%' || c < 0x20 || c == 0x7f) {
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

/* One command without data; 0 or the gpg-error. */
static gpg_error_t
simple(assuan_context_t ctx, const char *line)
{
	return assuan_transact(ctx, line, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* "CMD text" when text is set; 0, or -1 (too long) / the pinentry's error. */
static gpg_error_t
set_text(assuan_context_t ctx, const char *cmd, const char *text)
{
	char line[ASSUAN_LINELENGTH], prefix[16];

	if (text == NULL)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s ", cmd);
	/* The line and its CR LF within ASSUAN_LINELENGTH. */
	if (line_of(line, sizeof(line) - 2, prefix, text) != 0)
		return gpg_error(GPG_ERR_TOO_LARGE);
	return simple(ctx, line);
}

/* OPTION name=value, best effort: a pinentry may not know an option. */
static void
option(assuan_context_t ctx, const char *name, const char *value)
{
	char line[ASSUAN_LINELENGTH], opt[128];

	if (value == NULL || value[0] == '\0')
		return;
	snprintf(opt, sizeof(opt), "OPTION %s=", name);
	if (line_of(line, sizeof(line) - 2, opt, value) == 0)
		(void)simple(ctx, line);
}

static void
fail_note(gpg_error_t e, bool not_started)
{
	last_gpg_code = (unsigned)gpg_err_code(e);
	last_not_started = not_started;
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
		fail_note(e, false);
		return CNIE_PINENTRY_ERR_FAILED;
	}
}

/* Ends a dialog: BYE, release (waits for the process), forget its pid. */
static void
finish(const cnie_pinentry_opts *o, assuan_context_t ctx)
{
	if (ctx == NULL)
		return;
	(void)simple(ctx, "BYE");
	assuan_release(ctx);
	track(o->ctl, NULL);
}

/*
 * A program name without '/' is looked up in PATH (libassuan execs the
 * name as a path: a bare "pinentry", the default, would fail).  0 with the
 * path in out, -1 when not found or too long.
 */
static int
resolve(const char *program, char *out, size_t max)
{
	const char *path, *p;

	if (strchr(program, '/') != NULL) {
		if (strlen(program) >= max)
			return -1;
		memcpy(out, program, strlen(program) + 1);
		return 0;
	}
	path = getenv("PATH");
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0';) {
		size_t n = strcspn(p, ":");
		int w;

		if (n > 0) {
			w = snprintf(out, max, "%.*s/%s", (int)n, p, program);
			if (w > 0 && (size_t)w < max && access(out, X_OK) == 0)
				return 0;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* Starts the pinentry and sends the options and every text of t. */
static int
start(const cnie_pinentry_opts *o, const cnie_pinentry_text *t, bool getpin,
    assuan_context_t *out)
{
	assuan_context_t ctx = NULL;
	const char *argv[2];
	char line[64], prog[4096];
	const char *tty;
	gpg_error_t e;
	int r;

	*out = NULL;
	last_gpg_code = 0;
	last_not_started = false;
	if (o->program == NULL || o->program[0] == '\0')
		return CNIE_ERR_UNSUPPORTED;
	if ((r = aborted(o->ctl)) != 0)
		return r; /* no new dialog once stopped */
	if (resolve(o->program, prog, sizeof(prog)) != 0) {
		last_gpg_code = GPG_ERR_ENOENT;
		last_not_started = true;
		return CNIE_PINENTRY_ERR_FAILED;
	}
	if (assuan_new(&ctx) != 0)
		return CNIE_ERR_NOMEM;
	argv[0] = prog;
	argv[1] = NULL;
	/* fd_child_list NULL: the child keeps only its pipes and stderr. */
	if ((e = assuan_pipe_connect(ctx, prog, argv, NULL, NULL, NULL, 0)) != 0) {
		assuan_release(ctx);
		fail_note(e, true);
		return CNIE_PINENTRY_ERR_FAILED;
	}
	track(o->ctl, ctx);
	/* A terminal pinentry (pinentry-curses) draws on the caller's terminal. */
	if (isatty(STDIN_FILENO) && (tty = ttyname(STDIN_FILENO)) != NULL) {
		option(ctx, "ttyname", tty);
		option(ctx, "ttytype", getenv("TERM"));
	}
	/* The pinentry's own labels and its text rendering in the caller's language. */
	option(ctx, "lc-ctype", setlocale(LC_CTYPE, NULL));
	option(ctx, "lc-messages", setlocale(LC_MESSAGES, NULL));
	if (o->timeout > 0) {
		snprintf(line, sizeof(line), "SETTIMEOUT %d", o->timeout);
		(void)simple(ctx, line);
	}
	/* A dialog that cannot show what it asks and why must not ask. */
	if ((e = set_text(ctx, "SETTITLE", t->title)) != 0 ||
	    (e = set_text(ctx, "SETDESC", t->desc)) != 0 ||
	    (getpin && (e = set_text(ctx, "SETPROMPT", t->prompt)) != 0) ||
	    (e = set_text(ctx, "SETOK", t->ok)) != 0 ||
	    (e = set_text(ctx, "SETCANCEL", t->cancel)) != 0 ||
	    (e = set_text(ctx, "SETERROR", t->error)) != 0) {
		r = map_err(e);
		finish(o, ctx);
		return aborted(o->ctl) != 0 ? aborted(o->ctl) : r;
	}
	*out = ctx;
	return 0;
}

/*
 * A pinentry that died leaves a pipe without reader: writing to it raises
 * SIGPIPE, whose default action would end the caller, and the PKCS#11
 * module runs inside other programs (browsers).  SIGPIPE is blocked in the
 * calling thread during a dialog (the write then fails with EPIPE, which
 * fails the dialog), and one the dialog raised is consumed before the
 * thread's mask is restored.
 */
typedef struct pipe_guard {
	sigset_t old;
	bool was_pending;
} pipe_guard;

static void
guard_on(pipe_guard *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void
guard_off(pipe_guard *g)
{
	sigset_t pipe_set, pending;
	struct timespec zero = {0, 0};

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	(void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
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

	if (b->overflow || n > b->max - 1 - b->len) {
		b->overflow = true;
		return 0;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
getpin(const cnie_pinentry_opts *o, const cnie_pinentry_text *t, char *out, size_t out_max)
{
	assuan_context_t ctx = NULL;
	secret_buf b = {out, out_max, 0, false};
	gpg_error_t e;
	int r;

	if ((r = start(o, t, true, &ctx)) != 0)
		return r;
	assuan_begin_confidential(ctx);
	e = assuan_transact(ctx, "GETPIN", data_cb, &b, NULL, NULL, NULL, NULL);
	assuan_end_confidential(ctx);
	if (e != 0)
		r = map_err(e);
	else if (b.overflow)
		r = CNIE_ERR_PIN_FORMAT;
	else if (b.len == 0)
		r = CNIE_ERR_CANCELLED; /* nothing typed: nothing to send to the card */
	else
		r = 0;
	if (r != 0 && aborted(o->ctl) != 0)
		r = aborted(o->ctl); /* killed: not the user's cancel */
	finish(o, ctx);
	return r;
}

int
cnie_pinentry_getpin(const cnie_pinentry_opts *o, const cnie_pinentry_text *t, char *out,
    size_t out_max)
{
	pipe_guard g;
	int r;

	if (o == NULL || t == NULL || out == NULL || out_max < 2)
		return CNIE_ERR_INVALID_ARG;
	out[0] = '\0';
	guard_on(&g);
	r = getpin(o, t, out, out_max);
	guard_off(&g);
	if (r != 0)
		OPENSSL_cleanse(out, out_max);
	return r;
}

/* CONFIRM or MESSAGE. */
static int
ask(const cnie_pinentry_opts *o, const cnie_pinentry_text *t, const char *cmd)
{
	assuan_context_t ctx = NULL;
	gpg_error_t e;
	int r;

	pipe_guard g;

	if (o == NULL || t == NULL)
		return CNIE_ERR_INVALID_ARG;
	guard_on(&g);
	if ((r = start(o, t, false, &ctx)) == 0) {
		e = simple(ctx, cmd);
		r = e == 0 ? 0 : map_err(e);
		if (r != 0 && aborted(o->ctl) != 0)
			r = aborted(o->ctl);
		finish(o, ctx);
	}
	guard_off(&g);
	return r;
}

int
cnie_pinentry_confirm(const cnie_pinentry_opts *o, const cnie_pinentry_text *t)
{
	return ask(o, t, "CONFIRM");
}

int
cnie_pinentry_message(const cnie_pinentry_opts *o, const cnie_pinentry_text *t)
{
	return ask(o, t, "MESSAGE");
}
