/*
 * Secrets (PIN, PUK, CAN, MRZ) for cnie-tool: from a GnuPG pinentry
 * through the shared client src/pinentry (the default), one line of stdin (--pin-stdin and
 * friends, for scripts), or argv only behind an explicit
 * --*-argv-insecure flag (argv is visible to every user through /proc).
 *
 * stdin is read with read(2) one byte at a time: no stdio buffer keeps a
 * copy of the secret (or of the next one, e.g. the new PIN after the old).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "cnie_pinentry.h"
#include "cnie_tool.h"

/* One line of fd into out (without its newline); EOF before any byte: cancelled. */
static int
read_line(int fd, char *out, size_t out_len)
{
	size_t n = 0;
	bool any = false, too_long = false;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cnie_wipe(out, out_len);
			return CNIE_ERR_IO;
		}
		if (r == 0) {
			if (!any) {
				cnie_wipe(out, out_len);
				return CNIE_ERR_CANCELLED;
			}
			break;
		}
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 >= out_len) {
			too_long = true;
			continue;
		}
		out[n++] = ch;
	}
	out[n] = '\0';
	if (too_long) {
		cnie_wipe(out, out_len);
		return CNIE_ERR_TOO_LONG;
	}
	return 0;
}

/*
 * The shared pinentry client (src/pinentry): it passes the terminal
 * (OPTION ttyname when stdin is one) and the locale to the pinentry.
 */
static int
ask_pinentry(const char *program, const char *desc, const char *prompt, char *out,
    size_t out_len)
{
	cnie_pinentry_opts o = {program, 0, NULL};
	cnie_pinentry_text t = {_("CNIE card"), desc, prompt, _("Continue"), _("Cancel"), NULL};
	bool not_started = false;
	unsigned code;
	int r = cnie_pinentry_getpin(&o, &t, out, out_len);

	switch (r) {
	case 0:
	case CNIE_ERR_CANCELLED:
		return r;
	case CNIE_ERR_PIN_FORMAT:
		return CNIE_ERR_TOO_LONG; /* longer than out holds: wiped by the client */
	case CNIE_PINENTRY_ERR_FAILED:
		code = cnie_pinentry_last_error(&not_started);
		if (not_started)
			fprintf(stderr, _("cnie-tool: cannot start the PIN dialog \"%s\" (gpg-error %u).\n"
			    "  fix: install a pinentry (pinentry-curses, pinentry-gnome3), or give the "
			    "secret on standard input: --pin-stdin (PIN, PUK) or --can-stdin (CAN)\n"),
			    program, code);
		else
			fprintf(stderr, _("cnie-tool: the PIN dialog \"%s\" could not ask (gpg-error "
			    "%u): no terminal or display it can use?\n"
			    "  fix: run cnie-tool in a terminal or a desktop session, or give the "
			    "secret on standard input: --pin-stdin (PIN, PUK) or --can-stdin (CAN)\n"),
			    program, code);
		return CNIE_ERR_IO;
	default:
		return r;
	}
}

int
cnie_tool_secret_get(const cnie_tool_secret_src *src, const char *desc, const char *prompt,
    char *out, size_t out_len)
{
	if (out == NULL || out_len < 2)
		return CNIE_ERR_INVALID_ARG;
	if (src->none)
		return CNIE_ERR_NEED_CAN;
	if (src->insecure != NULL) {
		size_t n = strlen(src->insecure);

		if (n >= out_len)
			return CNIE_ERR_TOO_LONG;
		memcpy(out, src->insecure, n + 1);
		return 0;
	}
	if (src->from_stdin)
		return read_line(STDIN_FILENO, out, out_len);
	/* $CNIE_PINENTRY, else --pinentry, else "pinentry". */
	return ask_pinentry(cnie_pinentry_program(src->pinentry), desc, prompt, out, out_len);
}
