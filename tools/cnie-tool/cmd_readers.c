/*
 * cnie-tool readers: the PC/SC readers (card state, ATR) and the USB CCID
 * devices, matched with each other so that a reader plugged in but not
 * seen by pcscd is named with its VID:PID and whether libccid lists it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>

#include "cnie_tool.h"
#include "usb_match.h"

static const char *
state_name(const cnie_reader_state *st)
{
	if (!st->card_present)
		return "empty";
	if (st->card_mute)
		return "mute";
	if (st->card_exclusive)
		return "exclusive";
	if (st->card_in_use)
		return "in-use";
	return "present";
}

/* A reader's state (state_name) for a person. */
static const char *
state_text(const char *state)
{
	if (state == NULL)
		return "?";
	if (strcmp(state, "empty") == 0)
		return _("empty");
	if (strcmp(state, "mute") == 0)
		return _("mute (does not answer)");
	if (strcmp(state, "exclusive") == 0)
		return _("held by another program");
	if (strcmp(state, "in-use") == 0)
		return _("in use");
	if (strcmp(state, "present") == 0)
		return _("present");
	return state;
}

json_t *
cnie_tool_readers_scan(cnie_tool *tool, int *pcsc_err)
{
	char **names = NULL;
	size_t count = 0, nusb = 0;
	cnie_usb_dev *usb = NULL;
	cnie_usb_ccid_list ccid = { NULL, 0 };
	const char *plist = NULL;
	bool *used = NULL;
	json_t *root, *jr, *ju;
	int r, ur, cr;

	root = json_object();
	jr = json_array();
	ju = json_array();
	if (root == NULL || jr == NULL || ju == NULL) {
		json_decref(root);
		json_decref(jr);
		json_decref(ju);
		return NULL;
	}
	r = tool->pcsc != NULL ? 0 : cnie_pcsc_new(&tool->pcsc);
	if (r == 0)
		r = cnie_pcsc_list_readers(tool->pcsc, &names, &count);
	*pcsc_err = r;
	json_object_set_new(root, "pcscd", json_string(r == CNIE_ERR_NO_SERVICE ? "not running" :
	    (r == 0 || r == CNIE_ERR_NO_READER) ? "running" : "error"));
	/* pcsc_error: the shared code (docs/errors.md); pcsc_error_name: the exact error. */
	if (r != 0 && r != CNIE_ERR_NO_READER) {
		json_object_set_new(root, "pcsc_error", json_string(cnie_error_code_name(r)));
		json_object_set_new(root, "pcsc_error_name", json_string(cnie_error_name(r)));
	}
	for (size_t i = 0; i < count; i++) {
		cnie_reader_state st;
		json_t *e;

		memset(&st, 0, sizeof(st));
		e = json_pack("{s:s}", "name", names[i]);
		if (cnie_pcsc_reader_state(tool->pcsc, names[i], &st) == 0) {
			char *atr = st.card_present ? cnie_tool_hex(st.atr, st.atr_len) : NULL;

			json_object_set_new(e, "card", json_boolean(st.card_present));
			json_object_set_new(e, "state", json_string(state_name(&st)));
			json_object_set_new(e, "atr", atr ? json_string(atr) : json_null());
			free(atr);
		}
		json_object_set_new(e, "usb", json_null());
		json_array_append_new(jr, e);
	}
	ur = cnie_usb_list_ccid(&usb, &nusb);
	cr = cnie_usb_ccid_list_load(&ccid, &plist);
	json_object_set_new(root, "usb_scan", json_string(ur == 0 ? "ok" : "unavailable"));
	json_object_set_new(root, "libccid", cr == 0 ? json_string(plist) : json_null());
	if (count > 0)
		used = calloc(count, sizeof(*used));
	for (size_t i = 0; i < nusb; i++) {
		const cnie_usb_ccid_entry *ce = cr == 0 ? cnie_usb_ccid_find(&ccid, usb[i].vid,
		    usb[i].pid) : NULL;
		int m = used != NULL ? cnie_usb_match_reader(&usb[i], ce ? ce->name : NULL,
		    (const char *const *)names, count, used) : -1;
		char id[16];
		json_t *e;

		snprintf(id, sizeof(id), "%04x:%04x", usb[i].vid, usb[i].pid);
		e = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b}", "id", id, "manufacturer",
		    usb[i].manufacturer, "product", usb[i].product, "bus", usb[i].bus, "address",
		    usb[i].address, "in_pcsc", m >= 0);
		json_object_set_new(e, "pcsc_reader", m >= 0 ? json_string(names[m]) : json_null());
		json_object_set_new(e, "libccid_lists", cr == 0 ? json_boolean(ce != NULL) :
		    json_null());
		if (m >= 0) {
			used[m] = true;
			json_object_set_new(json_array_get(jr, (size_t)m), "usb", json_string(id));
		}
		json_array_append_new(ju, e);
	}
	json_object_set_new(root, "readers", jr);
	json_object_set_new(root, "usb", ju);
	free(used);
	free(usb);
	cnie_usb_ccid_list_free(&ccid);
	cnie_pcsc_free_names(&names);
	return root;
}

/* Why a CCID device has no PC/SC reader, and what to do. */
const char *
cnie_tool_usb_unseen_fix(json_t *dev, bool pcscd_running)
{
	json_t *l = json_object_get(dev, "libccid_lists");

	/* English (N_): --json and the doctor's report; translated where printed. */
	if (!pcscd_running)
		return N_("pcscd is not running: sudo systemctl enable --now pcscd.socket");
	if (json_is_false(l))
		return N_("the installed libccid does not list this reader: update libccid "
		       "(apt-get install libccid) or ask the vendor for a driver");
	if (json_is_null(l))
		return N_("libccid is not installed: apt-get install libccid");
	return N_("libccid lists it but pcscd does not use it: check the USB permissions "
	       "(udev rules, group) and restart pcscd (sudo systemctl restart pcscd)");
}

int
cnie_tool_cmd_readers(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	json_t *j, *v;
	size_t i;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf(_("usage: %s\n"), "cnie-tool readers [--json]");
			return CNIE_TOOL_EXIT_OK;
		}
		return CNIE_TOOL_EXIT_USAGE;
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "readers",
		    argv[optind]);
	if ((j = cnie_tool_readers_scan(tool, &err)) == NULL)
		return cnie_tool_fail(tool, CNIE_ERR_NOMEM, "readers");
	if (tool->json) {
		cnie_tool_print_json(j);
		return err == CNIE_ERR_NO_SERVICE ? CNIE_TOOL_EXIT_NO_SERVICE : CNIE_TOOL_EXIT_OK;
	}
	if (err == CNIE_ERR_NO_SERVICE)
		printf("%s\n  %s\n", _("pcscd: not running or not reachable"),
		    _("fix: sudo systemctl enable --now pcscd.socket"));
	else if (err != 0 && err != CNIE_ERR_NO_READER)
		printf("pcscd: %s\n", cnie_tool_strerror(err));
	printf("%s\n", _("PC/SC readers:"));
	json_array_foreach(json_object_get(j, "readers"), i, v) {
		const char *atr = json_string_value(json_object_get(v, "atr"));
		const char *usb = json_string_value(json_object_get(v, "usb"));

		printf("  %s\n    ", json_string_value(json_object_get(v, "name")));
		printf(_("card: %s"), state_text(json_string_value(json_object_get(v, "state"))));
		/* ATR and USB id: codes, never translated. */
		printf("%s%s%s%s\n", atr ? "  ATR " : "", atr ? atr : "", usb ? "  USB " : "",
		    usb ? usb : "");
	}
	if (json_array_size(json_object_get(j, "readers")) == 0)
		printf("  %s\n", _("(none)"));
	printf("%s\n", _("USB CCID devices:"));
	if (!json_is_string(json_object_get(j, "usb_scan")) ||
	    strcmp(json_string_value(json_object_get(j, "usb_scan")), "ok") != 0)
		printf("  %s\n", _("(USB not available: not checked)"));
	json_array_foreach(json_object_get(j, "usb"), i, v) {
		const char *rd = json_string_value(json_object_get(v, "pcsc_reader"));
		json_t *l = json_object_get(v, "libccid_lists");

		printf("  %s %s %s ", json_string_value(json_object_get(v, "id")),
		    json_string_value(json_object_get(v, "manufacturer")),
		    json_string_value(json_object_get(v, "product")));
		printf(_("(bus %d, device %d)\n"), (int)json_integer_value(json_object_get(v, "bus")),
		    (int)json_integer_value(json_object_get(v, "address")));
		if (rd != NULL)
			printf(_("    PC/SC reader: %s\n"), rd);
		else
			printf("    %s\n", json_is_true(l) ?
			    _("NOT SEEN BY PCSCD, although libccid lists it") : json_is_false(l) ?
			    _("NOT SEEN BY PCSCD; libccid does not list it") :
			    _("NOT SEEN BY PCSCD; libccid is not installed"));
		if (rd == NULL)
			printf(_("    fix: %s\n"),
			    _(cnie_tool_usb_unseen_fix(v, err != CNIE_ERR_NO_SERVICE)));
	}
	if (json_array_size(json_object_get(j, "usb")) == 0)
		printf("  %s\n", _("(none)"));
	json_decref(j);
	return err == CNIE_ERR_NO_SERVICE ? CNIE_TOOL_EXIT_NO_SERVICE : CNIE_TOOL_EXIT_OK;
}
