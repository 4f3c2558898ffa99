/*
 * cnie-pkcs11.so: what a card on a contactless reader needs beyond the
 * contact flow (pkcs11/README.md "Contactless"): the CAN asked through a
 * GnuPG pinentry (src/pinentry/cnie_pinentry.h) with a dialog naming the
 * application, and the CAN kept in locked memory while the card stays in
 * the reader, so that PACE can be run again when another program ended
 * the secure messaging session (docs/card-profile.md 9).
 *
 * A library does not own the process's locale: texts come from the
 * "cnie" catalogue through dgettext in whatever locale the application
 * set (setlocale is the application's call), bound to the installed
 * catalogue directory once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* program_invocation_short_name */
#endif
#include <errno.h>
#include <libintl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cnie/log.h>

#include "cnie_pinentry.h"
#include "p11_int.h"

#ifndef CNIE_LOCALEDIR
#define CNIE_LOCALEDIR "/usr/share/locale"
#endif

#define _(s) dgettext("cnie", s)

/* The dialog waits this long for the holder (cnied's default too). */
#define CAN_DIALOG_TIMEOUT 120

static pthread_once_t l10n_once = PTHREAD_ONCE_INIT;

static void
l10n_init(void)
{
	/* The build tree's catalogues for the tests (as cnie-tool). */
	const char *dir = secure_getenv("CNIE_LOCALEDIR_OVERRIDE");

	bindtextdomain("cnie", dir != NULL && dir[0] == '/' ? dir : CNIE_LOCALEDIR);
	/* Assuan texts are UTF-8 whatever the application's codeset. */
	bind_textdomain_codeset("cnie", "UTF-8");
}

/*
 * The application asking, for the dialog: its short program name
 * (glibc's, from argv[0]), else the kernel's comm.  Printable ASCII only,
 * so that nothing in a program name can dress up the dialog.
 */
static void
app_name(char *out, size_t cap)
{
	const char *s = program_invocation_short_name;
	char comm[32] = "";
	size_t i, n = 0;
	FILE *f;

	if (s == NULL || s[0] == '\0') {
		if ((f = fopen("/proc/self/comm", "re")) != NULL) {
			if (fgets(comm, sizeof(comm), f) == NULL)
				comm[0] = '\0';
			fclose(f);
		}
		s = comm;
	}
	for (i = 0; s[i] != '\0' && n + 1 < cap && n < 48; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			break;
		out[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "?");
}

int
p11_can_ask(const char *reader, int note, char *can, size_t cap)
{
	char app[64], base[128], desc[512], title[160];
	cnie_pinentry_opts o = { 0 };
	cnie_pinentry_text t = { 0 };
	size_t i, n;
	int r;

	pthread_once(&l10n_once, l10n_init);
	app_name(app, sizeof(app));
	cnie_pcsc_reader_base(reader, base, sizeof(base));
	/* TRANSLATORS: %s is a program's name (e.g. firefox). */
	snprintf(title, sizeof(title), _("%s: identity card on a contactless reader"), app);
	/* TRANSLATORS: the first %s is a program's name, the second a card reader's name. */
	snprintf(desc, sizeof(desc),
	    _("The program %s wants to use your identity card on the contactless reader "
	      "\"%s\". Enter the 6-digit card access number (CAN) printed on the card."),
	    app, base);
	t.title = title;
	t.desc = desc;
	t.prompt = _("CAN:");
	if (note == P11_CAN_NOTE_REFUSED)
		t.error = _("The card did not accept the last card access number. Check "
			    "the digits printed on the card.");
	else if (note == P11_CAN_NOTE_FORMAT)
		t.error = _("The card access number is the 6 digits printed on the card.");
	o.program = cnie_pinentry_program(NULL);
	o.timeout = CAN_DIALOG_TIMEOUT;
	r = cnie_pinentry_getpin(&o, &t, can, cap);
	if (r == CNIE_PINENTRY_ERR_FAILED) {
		bool not_started = false;

		cnie_pinentry_last_error(&not_started);
		cnie_log_error("cannot ask the card access number: the pinentry program "
		    "\"%s\" %s (set CNIE_PINENTRY to a pinentry)", o.program,
		    not_started ? "could not be started" : "failed");
		return r;
	}
	if (r != 0)
		return r;
	/* The CAN is digits (ICAO 9303-11 4.4: up to 12 for the CAN in general). */
	n = strlen(can);
	for (i = 0; i < n && can[i] >= '0' && can[i] <= '9'; i++)
		;
	if (n == 0 || n > 12 || i != n) {
		OPENSSL_cleanse(can, cap);
		cnie_log_warn("the card access number entered is not 1 to 12 digits: not sent");
		return CNIE_ERR_INVALID_ARG;
	}
	return 0;
}

/*
 * The kept CAN: one page of its own, locked in RAM (never swapped),
 * left out of core dumps and zeroed in a fork child (MADV_WIPEONFORK: the
 * child is another program as far as the card is concerned).  The page is
 * wiped before it is unmapped.  mlock may fail under RLIMIT_MEMLOCK: then
 * the CAN is still kept (logged once), since asking again after each
 * other program's access would make the card unusable.
 */
struct p11_can {
	char *page;
	size_t size;
	bool locked;
};

int
p11_can_keep(p11_can **out, const char *can)
{
	long ps = sysconf(_SC_PAGESIZE);
	p11_can *c;
	size_t n = strlen(can);

	*out = NULL;
	if (ps <= 0 || n + 1 > (size_t)ps)
		return CNIE_ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CNIE_ERR_NOMEM;
	c->size = (size_t)ps;
	c->page = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->page == MAP_FAILED) {
		free(c);
		return CNIE_ERR_NOMEM;
	}
	c->locked = mlock(c->page, c->size) == 0;
	if (!c->locked)
		cnie_log_info("the card access number could not be locked in memory (%s)",
		    strerror(errno));
	(void)madvise(c->page, c->size, MADV_DONTDUMP);
#ifdef MADV_WIPEONFORK
	(void)madvise(c->page, c->size, MADV_WIPEONFORK);
#endif
	memcpy(c->page, can, n + 1);
	*out = c;
	return 0;
}

const char *
p11_can_value(const p11_can *c)
{
	return c != NULL && c->page[0] != '\0' ? c->page : NULL;
}

void
p11_can_wipe(p11_can **cp)
{
	p11_can *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	OPENSSL_cleanse(c->page, c->size);
	if (c->locked)
		munlock(c->page, c->size);
	munmap(c->page, c->size);
	free(c);
	*cp = NULL;
}

void
p11_can_forget_in_child(p11_can *c)
{
	/* A fork child: the page may not have been zeroed (older kernels). */
	if (c != NULL)
		OPENSSL_cleanse(c->page, c->size);
}
