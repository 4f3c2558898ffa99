/*
 * One GnuPG pinentry client (Assuan protocol through libassuan) for every
 * program of the project that asks the user something: cnied (consent, PIN,
 * CAN), cnie-tool (PIN, PUK, CAN, MRZ) and the PKCS#11 module (the CAN of a
 * contactless card).  Built as the static, position-independent library
 * cnie_pinentry (src/pinentry/CMakeLists.txt).
 *
 * Every text is already translated by the caller (gettext); this client
 * only escapes it for Assuan and passes the caller's locale to the
 * pinentry (OPTION lc-ctype / lc-messages from setlocale(..., NULL)), so
 * the pinentry's own labels follow the same language.
 *
 * Secrets arrive through a data callback into the caller's fixed buffer,
 * inside assuan_begin_confidential/assuan_end_confidential, and the buffer
 * is wiped on every failure path.  The client never retries: one call is
 * one dialog, one answer.
 */
#ifndef CNIE_PINENTRY_H
#define CNIE_PINENTRY_H

#include <stdbool.h>
#include <stddef.h>

/* The pinentry could not be started or broke the protocol (not the user). */
#define CNIE_PINENTRY_ERR_FAILED (-1006)

/* What one dialog shows.  NULL members are left at the pinentry's default. */
typedef struct cnie_pinentry_text {
	const char *title;  /* SETTITLE: names the application asking */
	const char *desc;   /* SETDESC: what is asked and why */
	const char *prompt; /* SETPROMPT (GETPIN only) */
	const char *ok;	    /* SETOK: button label */
	const char *cancel; /* SETCANCEL: button label */
	const char *error;  /* SETERROR: shown above the field (e.g. wrong PIN, tries left) */
} cnie_pinentry_text;

/*
 * Stops dialogs from another thread (cnied: the daemon stops, the client
 * left).  Made with cnie_pinentry_ctl_new(); may be NULL in the calls
 * below when the caller never aborts.
 */
typedef struct cnie_pinentry_ctl cnie_pinentry_ctl;

typedef struct cnie_pinentry_opts {
	const char *program;	/* path or name searched in PATH; NULL or "": unsupported */
	int timeout;		/* seconds (SETTIMEOUT), 0: none */
	cnie_pinentry_ctl *ctl; /* NULL: not abortable */
} cnie_pinentry_opts;

/*
 * GETPIN.  Returns 0 with a NUL-terminated secret in out, or
 * CNIE_ERR_CANCELLED (cancel button, or an empty answer), CNIE_ERR_TIMEOUT,
 * CNIE_ERR_PIN_FORMAT (longer than out_max - 1), CNIE_ERR_UNSUPPORTED (no
 * program), the ctl's abort error, or CNIE_PINENTRY_ERR_FAILED.
 */
int cnie_pinentry_getpin(const cnie_pinentry_opts *o, const cnie_pinentry_text *t, char *out,
    size_t out_max);

/* CONFIRM (ok/cancel).  0 when confirmed; errors as above. */
int cnie_pinentry_confirm(const cnie_pinentry_opts *o, const cnie_pinentry_text *t);

/* MESSAGE (one OK button; blocks until dismissed).  0 when dismissed; errors as above. */
int cnie_pinentry_message(const cnie_pinentry_opts *o, const cnie_pinentry_text *t);

/* The abort control (thread-safe). */
cnie_pinentry_ctl *cnie_pinentry_ctl_new(void);
void cnie_pinentry_ctl_free(cnie_pinentry_ctl *c);
/* Kill the dialog on screen (SIGTERM) and make every later dialog return err until arm. */
void cnie_pinentry_ctl_abort(cnie_pinentry_ctl *c, int err);
/* SIGKILL the dialog on screen (last resort at exit). */
void cnie_pinentry_ctl_kill(cnie_pinentry_ctl *c);
/* Allow dialogs again (the start of the next job). */
void cnie_pinentry_ctl_arm(cnie_pinentry_ctl *c);

/*
 * The program to run: CNIE_PINENTRY from the environment when set and not
 * empty, else fallback (e.g. a --pinentry option or a config key), else
 * "pinentry".  Never NULL.
 */
const char *cnie_pinentry_program(const char *fallback);

/*
 * Why the calling thread's last dialog returned CNIE_PINENTRY_ERR_FAILED:
 * the gpg-error code (0: none known), and *not_started (may be NULL) true
 * when the program could not be started at all (missing, not executable),
 * false when it started and then failed (e.g. no terminal and no display).
 * Callers use it to word their own message.
 */
unsigned cnie_pinentry_last_error(bool *not_started);

#endif
