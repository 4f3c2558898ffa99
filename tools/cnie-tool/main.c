/*
 * cnie-tool: administration and diagnostics of CNIE cards, readers and the
 * bridge.  This file: global options, the subcommand table, the one table
 * from cnie_error to exit codes, and what every subcommand shares (opening
 * the reader or the in-process reference card).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>

#include "cnie_tool.h"
#include "usb_match.h"

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

/* Hints for the errors a support desk meets most. */
static const char *
hint_for(int err)
{
	switch (err) {
	case CNIE_ERR_NO_SERVICE:
		return "pcscd is not running or not reachable: sudo systemctl enable --now pcscd.socket";
	case CNIE_ERR_NO_READER:
		return "no smart card reader: plug one in (see `cnie-tool readers`)";
	case CNIE_ERR_NO_CARD:
		return "no card in the reader: insert the card";
	case CNIE_ERR_CARD_NOT_RECOGNISED:
		return "the card is not a CNIE (no PKI application)";
	case CNIE_ERR_SHARING:
		return "another program holds the card exclusively: close it and retry";
	case CNIE_ERR_PIN_BLOCKED:
		return "the PIN is blocked: `cnie-tool pin unblock` with the PUK";
	default:
		return NULL;
	}
}

int
cnie_tool_fail(cnie_tool *tool, int err, const char *what)
{
	const char *hint = hint_for(err);

	if (tool->json) {
		json_t *j = json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "code",
		    cnie_error_name(err), "message", cnie_strerror(err), "context", what,
		    "fix", hint);
		cnie_tool_print_json(j);
	} else {
		fprintf(stderr, "cnie-tool: %s%s%s\n", what ? what : "", what ? ": " : "",
		    cnie_strerror(err));
		if (hint != NULL)
			fprintf(stderr, "  fix: %s\n", hint);
	}
	return cnie_tool_exit_for_error(err);
}

int
cnie_tool_usage_error(cnie_tool *tool, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:{s:s,s:s}}", "error", "code", "usage",
		    "message", msg));
	} else {
		fprintf(stderr, "cnie-tool: %s (see cnie-tool --help)\n", msg);
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

/* Picks the reader: exact name, else a unique substring; else the only one with a card. */
static int
pick_reader(cnie_tool *tool, char **names, size_t count, const char **out)
{
	const char *found = NULL;
	size_t hits = 0;

	if (tool->reader != NULL) {
		for (size_t i = 0; i < count; i++)
			if (strcmp(names[i], tool->reader) == 0) {
				*out = names[i];
				return 0;
			}
		/* The name without pcsc-lite's " XX YY" slot numbers. */
		for (size_t i = 0; i < count; i++) {
			char base[256];

			cnie_usb_reader_base(names[i], base, sizeof(base));
			if (strcmp(base, tool->reader) == 0) {
				*out = names[i];
				return 0;
			}
		}
		for (size_t i = 0; i < count; i++)
			if (strstr(names[i], tool->reader) != NULL) {
				found = names[i];
				hits++;
			}
		if (hits == 1) {
			*out = found;
			return 0;
		}
		if (hits > 1 && !tool->json)
			fprintf(stderr, "cnie-tool: --reader \"%s\" names several readers: give "
			    "more of the name (see `cnie-tool readers`)\n", tool->reader);
		snprintf(tool->reader_used, sizeof(tool->reader_used), "--reader %s", tool->reader);
		return hits > 1 ? CNIE_ERR_INVALID_ARG : CNIE_ERR_READER_NOT_FOUND;
	}
	for (size_t i = 0; i < count; i++) {
		cnie_reader_state st;

		if (cnie_pcsc_reader_state(tool->pcsc, names[i], &st) == 0 && st.card_present) {
			found = names[i];
			hits++;
		}
	}
	if (hits == 0)
		return CNIE_ERR_NO_CARD;
	if (hits > 1) {
		/* Several cards: a choice, never a random pick (DESIGN.md). */
		if (!tool->json)
			fprintf(stderr, "cnie-tool: several readers have a card: choose one "
			    "with --reader NAME (see `cnie-tool readers`)\n");
		snprintf(tool->reader_used, sizeof(tool->reader_used),
		    "several readers hold a card: choose one with --reader NAME");
		return CNIE_ERR_BUSY;
	}
	*out = found;
	return 0;
}

int
cnie_tool_open_transport(cnie_tool *tool, cnie_transport **out)
{
	char **names = NULL;
	size_t count = 0;
	const char *name = NULL;
	int r;

	*out = NULL;
	if (tool->reference_card != NULL) {
		snprintf(tool->reader_used, sizeof(tool->reader_used), "reference card %s",
		    tool->reference_card);
		return cnie_refcard_open(tool->reference_card, NULL, false, out);
	}
	if (tool->pcsc == NULL && (r = cnie_pcsc_new(&tool->pcsc)) != 0)
		goto out;
	if ((r = cnie_pcsc_list_readers(tool->pcsc, &names, &count)) != 0)
		goto out;
	if ((r = pick_reader(tool, names, count, &name)) != 0)
		goto out;
	snprintf(tool->reader_used, sizeof(tool->reader_used), "%s", name);
	r = cnie_pcsc_connect(tool->pcsc, name, out);
out:
	cnie_pcsc_free_names(&names);
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
	/* Over the air the PKI application answers only inside PACE. */
	if ((r = cnie_tool_secret_get(src ? src : &none,
	    "The card is on a contactless reader. Enter the 6-digit card access "
	    "number (CAN) printed on the card.", "CAN:", can, sizeof(can))) != 0) {
		cnie_transport_free(&t);
		return r;
	}
	r = cnie_card_open_ex(t, can, out);
	cnie_wipe(can, sizeof(can));
	return r;
}

static void
usage(FILE *f)
{
	fputs("usage: cnie-tool [--json] [--reader NAME] [--reference-card DIR] [-v] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  readers                      PC/SC readers and USB CCID devices\n"
	      "  info                         card, applications, PIN tries, keys, certificates\n"
	      "  identity [--photo FILE] [--csca FILE|DIR] [--can-stdin|--mrz-stdin]\n"
	      "                               identity data (ICAO), Passive Authentication\n"
	      "  certs [--export auth|sign|all] [--der] [--out FILE] [--ca FILE|DIR]\n"
	      "  pin status|verify|change|unblock [--pin-stdin] [--pinentry PROG] [--pinpad]\n"
	      "  sign --key auth|sign (--in FILE|--hash HEX) [--hash-alg sha256] --out SIG\n"
	      "  verify (--key auth|sign|--cert FILE) (--in FILE|--hash HEX) --sig SIG\n"
	      "  bridge status|trust          the local bridge cnied\n"
	      "  verify-token                 check a Web eID authentication token\n"
	      "  doctor [--report FILE] [--ca FILE|DIR]   check the whole chain\n"
	      "\n"
	      "global options (before or after COMMAND):\n"
	      "  --json                 one JSON document on stdout\n"
	      "  --reader NAME          the reader (exact name or a unique part of it)\n"
	      "  --reference-card DIR   use the in-process reference card in DIR\n"
	      "  -v, --verbose          more logging (repeat for debug, trace)\n"
	      "  -h, --help, --version\n"
	      "\n"
	      "exit status: 0 ok, 1 failure (doctor: a FAIL), 2 usage, 3 no service/reader/card,\n"
	      "4 PIN/PUK/CAN wrong or blocked, 5 cancelled.  See cnie-tool(1).\n",
	    f);
}

#ifndef CNIE_TOOL_HAVE_BRIDGE
int
cnie_tool_cmd_bridge(cnie_tool *tool, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cnie_tool_usage_error(tool, "bridge: not built in this version of cnie-tool");
}
#endif

#ifndef CNIE_TOOL_HAVE_VERIFY_TOKEN
int
cnie_tool_cmd_verify_token(cnie_tool *tool, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cnie_tool_usage_error(tool, "verify-token: not built in this version of cnie-tool");
}
#endif

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
		return cnie_tool_usage_error(&tool, "%s needs a value", argv[argc - 1]);
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
			return rc;
		}
	}
	return cnie_tool_usage_error(&tool, "unknown command \"%s\"", sub_argv[0]);
}
