/*
 * cnie-tool: administration and diagnostics of CNIE cards, readers and the
 * bridge.  This file: global options, the subcommand table, the one table
 * from cnie_error to exit codes, and what every subcommand shares (opening
 * the reader or the in-process reference card).
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>

#include "cnie_pinentry.h"
#include "cnie_tool.h"

#ifndef CNIE_VERSION
#define CNIE_VERSION "0"
#endif

int
cnie_tool_exit_for_error(int err)
{
	switch (err) {
	case CNIE_OK:
		return CNIE_TOOL_EXIT_OK;
	case CNIE_ERR_INVALID_ARG:
		return CNIE_TOOL_EXIT_USAGE;
	case CNIE_ERR_NO_SERVICE:
	case CNIE_ERR_NO_READER:
	case CNIE_ERR_READER_NOT_FOUND:
	case CNIE_ERR_NO_CARD:
	case CNIE_ERR_CARD_REMOVED:
	case CNIE_ERR_CARD_RESET:
	case CNIE_ERR_LOGIN_LOST:
	case CNIE_ERR_SHARING:
	case CNIE_ERR_PERMISSION:
	case CNIE_ERR_UNRESPONSIVE:
	case CNIE_ERR_CARD_NOT_RECOGNISED:
		return CNIE_TOOL_EXIT_NO_SERVICE;
	case CNIE_ERR_PIN_INCORRECT:
	case CNIE_ERR_PIN_BLOCKED:
	case CNIE_ERR_PIN_FORMAT:
	case CNIE_ERR_SW_AUTH_BLOCKED:
	case CNIE_ERR_PACE:
	case CNIE_ERR_BAC:
	case CNIE_ERR_NEED_CAN:
		return CNIE_TOOL_EXIT_PIN;
	case CNIE_ERR_CANCELLED:
	case CNIE_ERR_PINPAD_CANCELLED:
	case CNIE_ERR_PINPAD_TIMEOUT:
		return CNIE_TOOL_EXIT_CANCELLED;
	default:
		return CNIE_TOOL_EXIT_FAIL;
	}
}

void
cnie_tool_print_json(json_t *j)
{
	if (j == NULL) {
		fputs("null\n", stdout);
		return;
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

/*
 * The user's language (LANG, LC_ALL, LC_MESSAGES, LANGUAGE) for messages;
 * numbers and JSON stay in the C locale's form (LC_NUMERIC untouched).
 * CNIE_LOCALEDIR_OVERRIDE (not for setuid use: cnie-tool is not) points the
 * tests at the build tree's catalogues.
 */
static void
init_locale(void)
{
	const char *dir = secure_getenv("CNIE_LOCALEDIR_OVERRIDE");

	if (setlocale(LC_ALL, "") == NULL)
		setlocale(LC_ALL, "C");
	setlocale(LC_NUMERIC, "C");
	bindtextdomain(CNIE_TEXTDOMAIN, dir != NULL && dir[0] == '/' ? dir : CNIE_LOCALEDIR);
	bind_textdomain_codeset(CNIE_TEXTDOMAIN, "UTF-8");
	textdomain(CNIE_TEXTDOMAIN);
}

/*
 * The library's message for err in the user's language: the errors a
 * citizen meets have a sentence here; the others (card status words,
 * internal failures) keep libcnie's English text (cnie_strerror).
 */
const char *
cnie_tool_strerror(int err)
{
	switch (err) {
	case CNIE_ERR_NO_SERVICE:
		return _("the smart card service (pcscd) is not running");
	case CNIE_ERR_NO_READER:
		return _("no smart card reader found");
	case CNIE_ERR_READER_NOT_FOUND:
		return _("the named reader is not connected");
	case CNIE_ERR_NO_CARD:
		return _("no card in the reader");
	case CNIE_ERR_CARD_REMOVED:
		return _("the card was removed");
	case CNIE_ERR_SHARING:
		return _("the card is held exclusively by another program");
	case CNIE_ERR_CANCELLED:
		return _("cancelled");
	case CNIE_ERR_TIMEOUT:
		return _("timed out");
	case CNIE_ERR_PIN_INCORRECT:
		return _("wrong PIN");
	case CNIE_ERR_PIN_BLOCKED:
		return _("the PIN is blocked");
	case CNIE_ERR_PIN_FORMAT:
		return _("the PIN has an invalid length or characters");
	case CNIE_ERR_PINPAD_TIMEOUT:
		return _("PIN pad: no PIN entered in time");
	case CNIE_ERR_PINPAD_CANCELLED:
		return _("PIN pad: cancelled");
	case CNIE_ERR_PACE:
		return _("wrong card access number (CAN) or MRZ");
	case CNIE_ERR_CARD_NOT_RECOGNISED:
		return _("the card is not a Moroccan electronic national identity card (CNIE)");
	case CNIE_ERR_NEED_CAN:
		return _("the card access number (CAN) or the MRZ is needed");
	case CNIE_ERR_VERIFY_FAILED:
		return _("verification failed");
	case CNIE_ERR_UNTRUSTED:
		return _("no chain to a trusted certificate");
	case CNIE_ERR_EXPIRED:
		return _("the certificate or document has expired");
	case CNIE_ERR_IO:
		return _("input/output error");
	default:
		return cnie_strerror(err);
	}
}

/* Hints for the errors a support desk meets most (English in --json). */
static const char *
hint_for(int err)
{
	switch (err) {
	case CNIE_ERR_NO_SERVICE:
		return N_("pcscd is not running or not reachable: sudo systemctl enable --now pcscd.socket");
	case CNIE_ERR_NO_READER:
		return N_("no smart card reader: plug one in (see `cnie-tool readers`)");
	case CNIE_ERR_NO_CARD:
		return N_("no card in the reader: insert the card");
	case CNIE_ERR_CARD_NOT_RECOGNISED:
		return N_("the card is not a CNIE (no PKI application)");
	case CNIE_ERR_SHARING:
		return N_("another program holds the card exclusively: close it and retry");
	case CNIE_ERR_PIN_BLOCKED:
		return N_("the PIN is blocked: `cnie-tool pin unblock` with the PUK");
	default:
		return NULL;
	}
}

/* The advice after a PIN dialog that could not be shown (English; translated on stderr). */
#define DIALOG_FIX N_("give the secret on standard input instead: --pin-stdin (PIN, PUK) or " \
	"--can-stdin (CAN); or install a pinentry (pinentry-curses, pinentry-gnome3)")

const char *
cnie_tool_dialog_fix(const cnie_tool *tool, int err)
{
	return tool->why == CNIE_TOOL_WHY_NO_DIALOG && tool->why_err == err ? DIALOG_FIX : NULL;
}

int
cnie_tool_ask_secret(cnie_tool *tool, const cnie_tool_secret_src *src, const char *desc,
    const char *prompt, char *out, size_t out_len)
{
	int r = cnie_tool_secret_get(src, desc, prompt, out, out_len);
	const char *program;

	/* The user's own answers (cancel, too long) and typed input are not the dialog's fault. */
	if (r == 0 || r == CNIE_ERR_CANCELLED || r == CNIE_ERR_TOO_LONG ||
	    r == CNIE_ERR_PIN_FORMAT || r == CNIE_ERR_TIMEOUT || r == CNIE_ERR_NEED_CAN ||
	    src->none || src->from_stdin || src->insecure != NULL)
		return r;
	tool->why = CNIE_TOOL_WHY_NO_DIALOG;
	tool->why_err = r;
	/*
	 * CNIE_ERR_IO: secret.c has already said why the dialog failed and how
	 * to go on (--pin-stdin); the other failures are said here.
	 */
	if (tool->json || r == CNIE_ERR_IO)
		return r;
	program = cnie_pinentry_program(src->pinentry); /* what secret.c ran */
	if (!isatty(STDIN_FILENO) && getenv("DISPLAY") == NULL && getenv("WAYLAND_DISPLAY") == NULL)
		fprintf(stderr, _("cnie-tool: cannot open the PIN dialog \"%s\": there is no "
		    "terminal and no graphical display here.\n"), program);
	else
		fprintf(stderr, _("cnie-tool: cannot open the PIN dialog \"%s\".\n"), program);
	fprintf(stderr, _("  fix: %s\n"), _(DIALOG_FIX));
	return r;
}

/* The --json message of the failures cnie_tool_fail explains (English). */
static const char *
why_message(const cnie_tool *tool, int err)
{
	if (tool->why_err != err)
		return NULL;
	switch (tool->why) {
	case CNIE_TOOL_WHY_READER_AMBIGUOUS:
		return "--reader names several readers: give more of the name (error.readers)";
	case CNIE_TOOL_WHY_SEVERAL_CARDS:
		return "several readers hold a card: choose one with --reader NAME (error.readers)";
	case CNIE_TOOL_WHY_NO_DIALOG:
		return "the PIN dialog could not be shown";
	default:
		return NULL;
	}
}

int
cnie_tool_fail(cnie_tool *tool, int err, const char *what)
{
	const char *hint = hint_for(err), *msg = why_message(tool, err);

	if (tool->why == CNIE_TOOL_WHY_NO_DIALOG && tool->why_err == err)
		hint = DIALOG_FIX;
	if (tool->json) {
		/* code: the shared vocabulary (docs/errors.md); name: the exact error. */
		const char *code = cnie_error_code_name(err);
		json_t *j;

		/* Several readers hold a card: the bridge's "multiple-cards". */
		if (err == CNIE_ERR_BUSY && tool->candidates != NULL)
			code = "multiple-cards";
		j = json_pack("{s:{s:s,s:s,s:s,s:s?,s:s?}}", "error", "code", code, "name",
		    cnie_error_name(err), "message", msg != NULL ? msg : cnie_strerror(err),
		    "context", what, "fix", hint);
		if (j != NULL && tool->candidates != NULL)
			json_object_set(json_object_get(j, "error"), "readers", tool->candidates);
		cnie_tool_print_json(j);
	} else if (msg != NULL) {
		/* Already said in full where it happened (pick_reader, cnie_tool_ask_secret). */
	} else {
		/* what: an N_() msgid (translated here), or a path or reader name (as is). */
		fprintf(stderr, "cnie-tool: %s%s%s\n", what ? gettext(what) : "", what ? ": " : "",
		    cnie_tool_strerror(err));
		if (hint != NULL)
			fprintf(stderr, _("  fix: %s\n"), _(hint));
	}
	return cnie_tool_exit_for_error(err);
}

int
cnie_tool_usage_error(cnie_tool *tool, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	/* fmt is the catalogue's msgid: English in --json, the user's language on stderr. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), tool->json ? fmt : gettext(fmt), ap);
	va_end(ap);
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:{s:s,s:s}}", "error", "code", "usage",
		    "message", msg));
	} else {
		fprintf(stderr, _("cnie-tool: %s (see cnie-tool --help)\n"), msg);
	}
	return CNIE_TOOL_EXIT_USAGE;
}

char *
cnie_tool_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s;

	if (n > (SIZE_MAX - 1) / 2 || (s = malloc(2 * n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

/* The readers that fitted, on stderr, so that the user can pick one. */
static void
list_candidates(char **matches)
{
	for (size_t i = 0; matches != NULL && matches[i] != NULL; i++)
		fprintf(stderr, "  %s\n", matches[i]);
}

/*
 * The reader: --reader NAME as libcnie chooses it (exact name, name
 * without slot numbers, unique substring), else the only one with a card.
 */
static int
pick_reader(cnie_tool *tool, char **out)
{
	char **matches = NULL;
	int r;

	r = cnie_pcsc_select_reader(tool->pcsc, tool->reader, 0, out, &matches);
	if ((r == CNIE_ERR_INVALID_ARG || r == CNIE_ERR_BUSY) && matches != NULL) {
		json_decref(tool->candidates);
		tool->candidates = json_array();
		for (size_t i = 0; tool->candidates != NULL && matches[i] != NULL; i++)
			json_array_append_new(tool->candidates, json_string(matches[i]));
	}
	if (r == CNIE_ERR_INVALID_ARG && matches != NULL) {
		tool->why = CNIE_TOOL_WHY_READER_AMBIGUOUS;
		tool->why_err = r;
		if (!tool->json) {
			fprintf(stderr, _("cnie-tool: --reader \"%s\" names several readers: give "
			    "more of the name:\n"), tool->reader);
			list_candidates(matches);
		}
	} else if (r == CNIE_ERR_BUSY) {
		/* Several cards: a choice, never a random pick. */
		tool->why = CNIE_TOOL_WHY_SEVERAL_CARDS;
		tool->why_err = r;
		if (!tool->json) {
			fprintf(stderr, _("cnie-tool: several readers have a card: choose one "
			    "with --reader NAME:\n"));
			list_candidates(matches);
		}
	}
	if (r == CNIE_ERR_BUSY)
		snprintf(tool->reader_used, sizeof(tool->reader_used),
		    "several readers hold a card: choose one with --reader NAME");
	else if (r != 0 && tool->reader != NULL)
		snprintf(tool->reader_used, sizeof(tool->reader_used), "--reader %s", tool->reader);
	cnie_pcsc_free_names(&matches);
	return r;
}

int
cnie_tool_open_transport(cnie_tool *tool, cnie_transport **out)
{
	char *name = NULL;
	int r;

	*out = NULL;
	if (tool->reference_card != NULL) {
		snprintf(tool->reader_used, sizeof(tool->reader_used), "reference card %s",
		    tool->reference_card);
		return cnie_refcard_open(tool->reference_card, NULL, false, out);
	}
	if (tool->pcsc == NULL && (r = cnie_pcsc_new(&tool->pcsc)) != 0)
		return r;
	if ((r = pick_reader(tool, &name)) != 0)
		return r;
	snprintf(tool->reader_used, sizeof(tool->reader_used), "%s", name);
	r = cnie_pcsc_connect(tool->pcsc, name, out);
	free(name);
	return r;
}

int
cnie_tool_open_card(cnie_tool *tool, const cnie_tool_secret_src *src, cnie_card **out)
{
	cnie_transport *t = NULL;
	cnie_tool_secret_src none = { 0 };
	char can[16];
	int r;

	*out = NULL;
	if ((r = cnie_tool_open_transport(tool, &t)) != 0)
		return r;
	if (!cnie_transport_get_caps(t)->contactless)
		return cnie_card_open(t, out);
	if (cnie_transport_get_caps(t)->reader_pace) {
		/* The reader runs PACE (cnie/card.h): the CAN is typed on its keypad, never here. */
		if (!tool->json)
			fprintf(stderr, "%s\n", _("Type the card access number (CAN) printed on the "
			    "card on the reader's keypad."));
		return cnie_card_open(t, out);
	}
	/* Over the air the PKI application answers only inside PACE. */
	if ((r = cnie_tool_ask_secret(tool, src ? src : &none,
	    _("The card is on a contactless reader. Enter the 6-digit card access "
	    "number (CAN) printed on the card."), _("CAN:"), can, sizeof(can))) != 0) {
		cnie_transport_free(&t);
		return r;
	}
	r = cnie_card_open_ex(t, can, out);
	cnie_wipe(can, sizeof(can));
	return r;
}

/* One line of the command list: the syntax (never translated) and what it does. */
static void
usage_line(FILE *f, const char *syntax, const char *what)
{
	if (what[0] == '\0')
		fprintf(f, "  %s\n", syntax);
	else if (strlen(syntax) > 28)
		fprintf(f, "  %s\n  %-28s %s\n", syntax, "", what);
	else
		fprintf(f, "  %-28s %s\n", syntax, what);
}

static void
usage(FILE *f)
{
	fprintf(f, _("usage: %s\n"),
	    "cnie-tool [--json] [--reader NAME] [--reference-card DIR] [-v] COMMAND [ARGS]");
	fprintf(f, "\n%s\n", _("commands:"));
	usage_line(f, "readers", _("PC/SC readers and USB CCID devices"));
	usage_line(f, "info", _("card, applications, PIN tries, keys, certificates"));
	usage_line(f, "identity [--photo FILE] [--csca FILE|DIR] [--can-stdin|--mrz-stdin]",
	    _("identity data (ICAO), Passive Authentication"));
	usage_line(f, "certs [--export auth|sign|all] [--der] [--out FILE] [--ca FILE|DIR]",
	    _("the card's certificates, their chain, export"));
	usage_line(f, "pin status|verify|change|unblock [--pin-stdin] [--pinentry PROG] [--pinpad]",
	    _("PIN and PUK: tries left, verify, change, unblock"));
	usage_line(f, "sign --key auth|sign (--in FILE|--hash HEX) [--hash-alg sha256] --out SIG",
	    _("sign a file or a hash with the card"));
	usage_line(f, "verify (--key auth|sign|--cert FILE) (--in FILE|--hash HEX) --sig SIG",
	    _("check a signature"));
	usage_line(f, "bridge status|trust", _("the local bridge cnied"));
	usage_line(f, "register|unregister [--system] [--module PATH]",
	    _("the PKCS#11 module in the browsers (NSS databases)"));
	usage_line(f, "verify-token", _("check a Web eID authentication token"));
	usage_line(f, "doctor [--report FILE] [--ca FILE|DIR]", _("check the whole chain"));
	fprintf(f, "\n%s\n", _("global options (before or after COMMAND):"));
	usage_line(f, "--json", _("one JSON document on stdout"));
	usage_line(f, "--reader NAME", _("the reader (exact name or a unique part of it)"));
	usage_line(f, "--reference-card DIR", _("use the in-process reference card in DIR"));
	usage_line(f, "-v, --verbose", _("more logging (repeat for debug, trace)"));
	usage_line(f, "-h, --help, --version", "");
	fprintf(f, "\n%s\n", _("exit status: 0 ok, 1 failure (doctor: a FAIL), 2 usage, 3 no service, "
	    "reader or card,\n4 PIN, PUK or CAN wrong or blocked, 5 cancelled.  See cnie-tool(1)."));
}

static const struct {
	const char *name;
	int (*fn)(cnie_tool *, int, char **);
} commands[] = {
	{ "readers", cnie_tool_cmd_readers },
	{ "info", cnie_tool_cmd_info },
	{ "identity", cnie_tool_cmd_identity },
	{ "certs", cnie_tool_cmd_certs },
	{ "pin", cnie_tool_cmd_pin },
	{ "sign", cnie_tool_cmd_sign },
	{ "verify", cnie_tool_cmd_verify },
	{ "bridge", cnie_tool_cmd_bridge },
	{ "register", cnie_tool_cmd_register },
	{ "unregister", cnie_tool_cmd_unregister },
	{ "verify-token", cnie_tool_cmd_verify_token },
	{ "doctor", cnie_tool_cmd_doctor },
};

/*
 * Takes the global options out of a subcommand's arguments (they may come
 * after COMMAND: `cnie-tool info --json`), up to a "--".  Returns the new
 * argc, or -1 on a global option without its value.
 */
static int
strip_globals(cnie_tool *tool, int argc, char **argv)
{
	int o = 1, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--json") == 0) {
			tool->json = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			tool->verbose++;
		} else if (strcmp(a, "--reader") == 0 || strcmp(a, "--reference-card") == 0) {
			if (i + 1 >= argc)
				return -1;
			if (strcmp(a, "--reader") == 0)
				tool->reader = argv[++i];
			else
				tool->reference_card = argv[++i];
		} else if (strncmp(a, "--reader=", 9) == 0) {
			tool->reader = a + 9;
		} else if (strncmp(a, "--reference-card=", 17) == 0) {
			tool->reference_card = a + 17;
		} else {
			argv[o++] = argv[i];
		}
	}
	for (; i < argc; i++)
		argv[o++] = argv[i];
	argv[o] = NULL;
	return o;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "reader", required_argument, NULL, 'r' },
		{ "reference-card", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool tool;
	char **sub_argv;
	int c, rc, sub_argc;

	memset(&tool, 0, sizeof(tool));
	init_locale();
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			tool.json = true;
			break;
		case 'r':
			tool.reader = optarg;
			break;
		case 'R':
			tool.reference_card = optarg;
			break;
		case 'v':
			tool.verbose++;
			break;
		case 'h':
			usage(stdout);
			return CNIE_TOOL_EXIT_OK;
		case 'V':
			printf("cnie-tool %s\n", CNIE_VERSION);
			return CNIE_TOOL_EXIT_OK;
		default:
			usage(stderr);
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CNIE_TOOL_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return CNIE_TOOL_EXIT_OK;
	}
	sub_argv = argv + optind;
	if ((sub_argc = strip_globals(&tool, argc - optind, sub_argv)) < 0)
		return cnie_tool_usage_error(&tool, N_("%s needs a value"), argv[argc - 1]);
	if (tool.verbose > 0 && getenv("CNIE_LOG") == NULL)
		cnie_log_set_level(tool.verbose >= 3 ? CNIE_LOG_TRACE :
		    tool.verbose == 2 ? CNIE_LOG_DEBUG : CNIE_LOG_INFO);
	/* The tool reports errors itself; library warnings would repeat them. */
	else if (getenv("CNIE_LOG") == NULL)
		cnie_log_set_level(CNIE_LOG_ERROR);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(sub_argv[0], commands[i].name) == 0) {
			/* Each subcommand parses its own options with getopt. */
			optind = 0; /* glibc: full re-initialisation */
			rc = commands[i].fn(&tool, sub_argc, sub_argv);
			cnie_pcsc_free(&tool.pcsc);
			json_decref(tool.candidates);
			return rc;
		}
	}
	return cnie_tool_usage_error(&tool, N_("unknown command \"%s\""), sub_argv[0]);
}
