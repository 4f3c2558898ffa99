/*
 * cnie-tool pin status|verify|change|unblock: the tries left are read
 * before and after (an empty VERIFY: no try spent).  Secrets from the PIN
 * pad when the reader has one, else pinentry, or stdin (--pin-stdin: one
 * line per secret, in the order asked); argv only with the explicit
 * --*-argv-insecure flags.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "cnie_tool.h"

typedef struct pin_state {
	int r, tries;
	bool blocked, verified;
	int puk_r, puk_tries;
	bool puk_blocked;
} pin_state;

static void
read_state(cnie_card *c, pin_state *s)
{
	s->tries = s->puk_tries = -1;
	s->blocked = s->verified = s->puk_blocked = false;
	s->r = cnie_card_pin_status(c, &s->tries, &s->blocked, &s->verified);
	s->puk_r = cnie_card_puk_status(c, &s->puk_tries, &s->puk_blocked);
}

static json_t *
state_json(const pin_state *s)
{
	json_t *pin = s->r == 0 ? json_pack("{s:i,s:b,s:b}", "tries_left", s->tries, "blocked",
	    s->blocked, "verified", s->verified) : json_pack("{s:s,s:s}", "error",
	    cnie_error_code_name(s->r), "name", cnie_error_name(s->r));
	json_t *puk = s->puk_r == 0 ? json_pack("{s:i,s:b}", "tries_left", s->puk_tries,
	    "blocked", s->puk_blocked) : json_pack("{s:s,s:s}", "error",
	    cnie_error_code_name(s->puk_r), "name", cnie_error_name(s->puk_r));

	return json_pack("{s:o,s:o}", "pin", pin, "puk", puk);
}

static void
print_state(const char *when, const pin_state *s)
{
	/* TRANSLATORS: "Before: PIN ..." / "After: PIN ..." (the state around the operation). */
	printf(_("%s: PIN "), when);
	if (s->r != 0)
		printf("%s", cnie_tool_strerror(s->r));
	else if (s->blocked)
		printf("%s", _("BLOCKED"));
	else if (s->tries < 0)
		printf("%s", _("verified"));
	else
		printf(ngettext("%d try left", "%d tries left", (unsigned long)s->tries), s->tries);
	if (s->r == 0 && !s->blocked && s->tries >= 0 && s->verified)
		printf(" %s", _("(verified)"));
	printf(_(", PUK "));
	if (s->puk_r != 0)
		printf("%s\n", cnie_tool_strerror(s->puk_r));
	else if (s->puk_blocked)
		printf("%s\n", _("BLOCKED"));
	else
		printf(ngettext("%d try left\n", "%d tries left\n", (unsigned long)s->puk_tries),
		    s->puk_tries);
}

/*
 * The new PIN, typed twice where a person types (pinentry): a mismatch is
 * CNIE_ERR_PIN_FORMAT before anything reaches the card.
 */
static int
get_new_pin(cnie_tool *tool, const cnie_tool_secret_src *src, bool confirm, char *out,
    size_t len)
{
	char again[64];
	int r;

	if ((r = cnie_tool_ask_secret(tool, src, _("Enter the new PIN (4 to 12 digits)."),
	    _("New PIN:"), out, len)) != 0 || !confirm)
		return r;
	if ((r = cnie_tool_ask_secret(tool, src, _("Enter the new PIN again."), _("New PIN:"),
	    again, sizeof(again))) == 0 && strcmp(out, again) != 0)
		r = CNIE_ERR_PIN_FORMAT;
	cnie_wipe(again, sizeof(again));
	return r;
}

int
cnie_tool_cmd_pin(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-stdin", no_argument, NULL, 's' },
		{ "pinentry", required_argument, NULL, 'p' },
		{ "pinpad", no_argument, NULL, 'P' },
		{ "no-pinpad", no_argument, NULL, 'N' },
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "pin-argv-insecure", required_argument, NULL, 1 },
		{ "new-pin-argv-insecure", required_argument, NULL, 2 },
		{ "puk-argv-insecure", required_argument, NULL, 3 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool_secret_src base = { 0 }, pin_src, new_src, puk_src, can_src = { 0 };
	const char *pin_argv = NULL, *new_argv = NULL, *puk_argv = NULL, *action;
	int pinpad = -1; /* -1 auto, 0 no, 1 yes */
	cnie_card *card = NULL;
	pin_state before, after;
	char pin[64], newpin[64];
	int c, r = 0, rc, tries = -1;
	bool use_pad;
	json_t *j;

	memset(pin, 0, sizeof(pin));
	memset(newpin, 0, sizeof(newpin));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			base.from_stdin = true;
			break;
		case 'p':
			base.pinentry = optarg;
			break;
		case 'P':
			pinpad = 1;
			break;
		case 'N':
			pinpad = 0;
			break;
		case 'c':
			can_src.from_stdin = true;
			break;
		case 1:
			pin_argv = optarg;
			break;
		case 2:
			new_argv = optarg;
			break;
		case 3:
			puk_argv = optarg;
			break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool pin status|verify|change|unblock "
			    "[--pin-stdin] [--pinentry PROGRAM] [--pinpad|--no-pinpad] [--can-stdin]\n"
			    "       [--pin-argv-insecure PIN] [--new-pin-argv-insecure PIN] "
			    "[--puk-argv-insecure PUK]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cnie_tool_usage_error(tool, N_("pin: give one of status, verify, change, unblock"));
	action = argv[optind];
	if (strcmp(action, "status") != 0 && strcmp(action, "verify") != 0 &&
	    strcmp(action, "change") != 0 && strcmp(action, "unblock") != 0)
		return cnie_tool_usage_error(tool, N_("pin: unknown action \"%s\""), action);
	can_src.pinentry = base.pinentry;
	pin_src = new_src = puk_src = base;
	pin_src.insecure = pin_argv;
	new_src.insecure = new_argv;
	puk_src.insecure = puk_argv;
	if ((r = cnie_tool_open_card(tool, &can_src, &card)) != 0)
		return cnie_tool_fail(tool, r, tool->reader_used[0] ? tool->reader_used : "pin");
	read_state(card, &before);
	if (strcmp(action, "status") == 0) {
		rc = before.r != 0 ? cnie_tool_exit_for_error(before.r) : CNIE_TOOL_EXIT_OK;
		if (tool->json) {
			j = state_json(&before);
			json_object_set_new(j, "reader", json_string(tool->reader_used));
			cnie_tool_print_json(j);
		} else {
			print_state(_("Status"), &before);
		}
		goto out;
	}
	{
		const cnie_transport_caps *caps = cnie_transport_get_caps(cnie_card_transport(card));
		bool has_pad = strcmp(action, "verify") == 0 ? caps->pinpad_verify :
		    strcmp(action, "change") == 0 ? caps->pinpad_modify : false;
		bool typed = base.from_stdin || pin_argv != NULL || new_argv != NULL ||
		    puk_argv != NULL;

		if (pinpad == 1 && !has_pad) {
			r = CNIE_ERR_UNSUPPORTED;
			rc = cnie_tool_fail(tool, r, N_("this reader has no PIN pad for this operation"));
			goto out;
		}
		use_pad = pinpad == 1 || (pinpad == -1 && has_pad && !typed);
	}
	if (!tool->json)
		print_state(_("Before"), &before);
	if (strcmp(action, "verify") == 0) {
		if (use_pad) {
			if (!tool->json)
				fprintf(stderr, "%s\n", _("Enter the PIN on the reader's PIN pad."));
			r = cnie_card_pin_verify_pinpad(card, &tries);
		} else if ((r = cnie_tool_ask_secret(tool, &pin_src, _("Enter the PIN of your CNIE card."),
		    _("PIN:"), pin, sizeof(pin))) == 0) {
			r = cnie_card_pin_verify(card, pin, &tries);
		}
	} else if (strcmp(action, "change") == 0) {
		if (use_pad) {
			if (!tool->json)
				fprintf(stderr, "%s\n", _("Enter the current PIN, then the new PIN twice, on "
				    "the reader's PIN pad."));
			r = cnie_card_pin_change_pinpad(card, &tries);
		} else if ((r = cnie_tool_ask_secret(tool, &pin_src, _("Enter the current PIN of your "
		    "CNIE card."), _("Current PIN:"), pin, sizeof(pin))) == 0 &&
		    (r = get_new_pin(tool, &new_src, !base.from_stdin && new_argv == NULL, newpin,
		    sizeof(newpin))) == 0) {
			r = cnie_card_pin_change(card, pin, newpin, &tries);
		}
	} else { /* unblock */
		if ((r = cnie_tool_ask_secret(tool, &puk_src, _("Enter the PUK (8 digits) of your CNIE "
		    "card."), _("PUK:"), pin, sizeof(pin))) == 0 &&
		    (r = get_new_pin(tool, &new_src, !base.from_stdin && new_argv == NULL, newpin,
		    sizeof(newpin))) == 0) {
			r = cnie_card_pin_unblock(card, pin, newpin, &tries);
		}
	}
	cnie_wipe(pin, sizeof(pin));
	cnie_wipe(newpin, sizeof(newpin));
	read_state(card, &after);
	rc = cnie_tool_exit_for_error(r);
	if (tool->json) {
		j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:b}", "action", action, "reader",
		    tool->reader_used, "result", cnie_error_code_name(r), "before",
		    state_json(&before), "after", state_json(&after), "pinpad", use_pad);
		/* result: the shared code (docs/errors.md); name: the exact error. */
		if (r != 0) {
			json_object_set_new(j, "name", json_string(cnie_error_name(r)));
			json_object_set_new(j, "message", json_string(cnie_strerror(r)));
		}
		if (r == CNIE_ERR_PIN_INCORRECT && tries >= 0)
			json_object_set_new(j, "tries_left", json_integer(tries));
		if (cnie_tool_dialog_fix(tool, r) != NULL)
			json_object_set_new(j, "fix", json_string(cnie_tool_dialog_fix(tool, r)));
		cnie_tool_print_json(j);
	} else {
		/* The action stays the command's word (verify, change, unblock). */
		if (r == 0)
			printf("%s: %s\n", action, _("OK"));
		else if (r == CNIE_ERR_PIN_INCORRECT && tries >= 0 && strcmp(action, "unblock") == 0)
			printf(ngettext("%s: wrong PUK, %d try left\n", "%s: wrong PUK, %d tries left\n",
			    (unsigned long)tries), action, tries);
		else if (r == CNIE_ERR_PIN_INCORRECT && tries >= 0)
			printf(ngettext("%s: wrong PIN, %d try left\n", "%s: wrong PIN, %d tries left\n",
			    (unsigned long)tries), action, tries);
		else if (cnie_tool_dialog_fix(tool, r) == NULL) /* else already said on stderr */
			printf("%s: %s\n", action, cnie_tool_strerror(r));
		print_state(_("After"), &after);
	}
out:
	cnie_card_free(&card);
	return rc;
}
