/*
 * Secrets (PIN, PUK, CAN, MRZ) for cnie-tool: from a GnuPG pinentry
 * through libassuan (the default), one line of stdin (--pin-stdin and
 * friends, for scripts), or argv only behind an explicit
 * --*-argv-insecure flag (argv is visible to every user through /proc).
 *
 * stdin is read with read(2) one byte at a time: no stdio buffer keeps a
 * copy of the secret (or of the next one, e.g. the new PIN after the old).
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <assuan.h>

#include <cnie/buf.h>
#include <cnie/error.h>

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

struct pin_sink {
	char *out;
	size_t cap, len;
	bool overflow;
};

static gpg_error_t
on_data(void *arg, const void *p, size_t n)
{
	struct pin_sink *s = arg;

	if (n >= s->cap - s->len) {
		s->overflow = true;
		return 0;
	}
	memcpy(s->out + s->len, p, n);
	s->len += n;
	s->out[s->len] = '\0';
	return 0;
}

/* Assuan percent-escaping of a text argument (%, CR, LF and controls). */
static void
escape(const char *in, char *out, size_t out_len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 4 < out_len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '%' || c < 0x20)
			o += (size_t)snprintf(out + o, out_len - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static int
ask_pinentry(const char *program, const char *desc, const char *prompt, char *out,
    size_t out_len)
{
	assuan_context_t ctx = NULL;
	const char *argv[2];
	char cmd[1200], esc[1000];
	struct pin_sink sink = { out, out_len, 0, false };
	gpg_error_t e;
	int r = CNIE_ERR_IO;

	argv[0] = program;
	argv[1] = NULL;
	out[0] = '\0';
	if (assuan_new(&ctx) != 0)
		return CNIE_ERR_NOMEM;
	if ((e = assuan_pipe_connect(ctx, program, argv, NULL, NULL, NULL, 0)) != 0) {
		fprintf(stderr, _("cnie-tool: cannot start the PIN dialog \"%s\" (gpg-error %u).\n"
		    "  fix: install a pinentry (pinentry-curses, pinentry-gnome3), or give the "
		    "secret on standard input: --pin-stdin (PIN, PUK) or --can-stdin (CAN)\n"),
		    program, (unsigned)gpg_err_code(e));
		goto out;
	}
	if (isatty(STDIN_FILENO) && ttyname(STDIN_FILENO) != NULL) {
		escape(ttyname(STDIN_FILENO), esc, sizeof(esc));
		snprintf(cmd, sizeof(cmd), "OPTION ttyname=%s", esc);
		(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
		if (getenv("TERM") != NULL) {
			escape(getenv("TERM"), esc, sizeof(esc));
			snprintf(cmd, sizeof(cmd), "OPTION ttytype=%s", esc);
			(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
		}
	}
	/* The dialog in the user's language, where the pinentry has catalogues. */
	if (setlocale(LC_CTYPE, NULL) != NULL) {
		escape(setlocale(LC_CTYPE, NULL), esc, sizeof(esc));
		snprintf(cmd, sizeof(cmd), "OPTION lc-ctype=%s", esc);
		(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	}
	if (setlocale(LC_MESSAGES, NULL) != NULL) {
		escape(setlocale(LC_MESSAGES, NULL), esc, sizeof(esc));
		snprintf(cmd, sizeof(cmd), "OPTION lc-messages=%s", esc);
		(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	}
	escape(_("CNIE card"), esc, sizeof(esc));
	snprintf(cmd, sizeof(cmd), "SETTITLE %s", esc);
	(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	escape(desc, esc, sizeof(esc));
	snprintf(cmd, sizeof(cmd), "SETDESC %s", esc);
	(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	escape(prompt, esc, sizeof(esc));
	snprintf(cmd, sizeof(cmd), "SETPROMPT %s", esc);
	(void)assuan_transact(ctx, cmd, NULL, NULL, NULL, NULL, NULL, NULL);
	e = assuan_transact(ctx, "GETPIN", on_data, &sink, NULL, NULL, NULL, NULL);
	if (gpg_err_code(e) == GPG_ERR_CANCELED || gpg_err_code(e) == GPG_ERR_FULLY_CANCELED) {
		r = CNIE_ERR_CANCELLED;
		goto out;
	}
	if (e != 0) {
		fprintf(stderr, _("cnie-tool: the PIN dialog failed (gpg-error %u)\n"),
		    (unsigned)gpg_err_code(e));
		goto out;
	}
	if (sink.overflow) {
		r = CNIE_ERR_TOO_LONG;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		cnie_wipe(out, out_len);
	if (ctx != NULL) {
		(void)assuan_transact(ctx, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
		assuan_release(ctx);
	}
	return r;
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
	return ask_pinentry(src->pinentry != NULL ? src->pinentry : "pinentry", desc, prompt,
	    out, out_len);
}
