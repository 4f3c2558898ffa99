/*
 * cnied's dialogs through the shared pinentry client (src/pinentry,
 * cnie_pinentry.h): the consent, PIN and CAN dialogs of the card
 * operations, with the program and timeout of the configuration.  The
 * PIN, PUK and CAN never cross HTTP: the page only learns that the user
 * typed something or cancelled.  Dialogs run on the worker thread only.
 *
 * A dialog can be stopped from another thread (cnied_pinentry_abort: the
 * daemon stops, or the client left): the pinentry process is killed, the
 * dialog's call returns the abort's error, and no new dialog opens until
 * cnied_pinentry_arm() (the worker, at the start of its next job).  One
 * control for the daemon: there is one worker, hence one dialog at most.
 */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "cnied.h"

static pthread_once_t ctl_once = PTHREAD_ONCE_INIT;
static cnie_pinentry_ctl *ctl;

static void
ctl_make(void)
{
	/* At most a mutex's allocation: without it no dialog could be stopped. */
	if ((ctl = cnie_pinentry_ctl_new()) == NULL)
		abort();
}

static cnie_pinentry_ctl *
the_ctl(void)
{
	(void)pthread_once(&ctl_once, ctl_make);
	return ctl;
}

void
cnied_pinentry_arm(void)
{
	cnie_pinentry_ctl_arm(the_ctl());
}

void
cnied_pinentry_abort(int err)
{
	cnie_pinentry_ctl_abort(the_ctl(), err);
}

void
cnied_pinentry_kill(void)
{
	cnie_pinentry_ctl_kill(the_ctl());
}

static cnie_pinentry_opts
opts(const cnied_config *cfg)
{
	/* Kiosk mode never starts a dialog, whatever the caller (kiosk.c):
	 * no program, so any dialog that slipped through fails as unsupported. */
	cnie_pinentry_opts o = {cfg->kiosk ? NULL : cfg->pinentry, cfg->pin_timeout, the_ctl()};

	return o;
}

/* Logs why the pinentry failed (its program and gpg-error code; never a text). */
static int
log_failure(const cnied_config *cfg, int r)
{
	bool not_started = false;
	unsigned code;

	if (r == CNIE_PINENTRY_ERR_FAILED) {
		code = cnie_pinentry_last_error(&not_started);
		cnie_log_error(not_started ? "cannot start pinentry %s: gpg-error %u" :
		    "pinentry %s failed: gpg-error %u", cfg->pinentry, code);
	}
	return r;
}

int
cnied_pinentry_getpin(const cnied_config *cfg, const cnie_pinentry_text *t, char *out,
    size_t out_max)
{
	cnie_pinentry_opts o = opts(cfg);

	return log_failure(cfg, cnie_pinentry_getpin(&o, t, out, out_max));
}

int
cnied_pinentry_confirm(const cnied_config *cfg, const cnie_pinentry_text *t)
{
	cnie_pinentry_opts o = opts(cfg);

	return log_failure(cfg, cnie_pinentry_confirm(&o, t));
}

int
cnied_pinentry_message(const cnied_config *cfg, const cnie_pinentry_text *t)
{
	cnie_pinentry_opts o = opts(cfg);

	return log_failure(cfg, cnie_pinentry_message(&o, t));
}

void
cnied_locale_init(void)
{
	const char *dir = secure_getenv("CNIE_LOCALEDIR_OVERRIDE");

	if (setlocale(LC_ALL, "") == NULL)
		(void)setlocale(LC_ALL, "C");
	(void)setlocale(LC_NUMERIC, "C"); /* numbers in logs and JSON keep one form */
	(void)bindtextdomain(CNIE_TEXTDOMAIN, dir != NULL && dir[0] == '/' ? dir : CNIE_LOCALEDIR);
	(void)bind_textdomain_codeset(CNIE_TEXTDOMAIN, "UTF-8");
	(void)textdomain(CNIE_TEXTDOMAIN);
}
