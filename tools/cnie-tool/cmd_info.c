/*
 * cnie-tool info: the card in one look — identification (applications),
 * serial, label, PIN and PUK tries left (read without spending a try),
 * keys and certificate summaries.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>

#include "cnie_tool.h"

/* PKI application AID (docs/card-profile.md 2). */
#define PKI_AID "F0434E4945504B49"

const char *
cnie_tool_key_role(const cnie_card_key_info *k)
{
	return (k->usage & CNIE_CARD_USAGE_NON_REPUDIATION) ? "sign" : "auth";
}

int
cnie_tool_find_key(cnie_card *c, const char *role, cnie_card_key_info *out)
{
	size_t n = 0;
	int r;

	if ((r = cnie_card_key_count(c, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = cnie_card_get_key(c, i, out)) != 0)
			return r;
		if (strcmp(cnie_tool_key_role(out), role) == 0)
			return 0;
	}
	return CNIE_ERR_NOT_FOUND;
}

json_t *
cnie_tool_key_json(cnie_card *c, const cnie_card_key_info *k, bool with_cert)
{
	json_t *j, *u = json_array();
	char *id = cnie_tool_hex(k->id, k->id_len);
	const uint8_t *der = NULL;
	size_t der_len = 0;

	if (k->usage & CNIE_CARD_USAGE_SIGN)
		json_array_append_new(u, json_string("sign"));
	if (k->usage & CNIE_CARD_USAGE_NON_REPUDIATION)
		json_array_append_new(u, json_string("non-repudiation"));
	j = json_pack("{s:s,s:s?,s:s,s:s,s:i,s:i,s:o,s:b}", "role", cnie_tool_key_role(k), "id",
	    id, "label", k->label, "type", k->type == CNIE_CARD_KEY_RSA ? "RSA" : "EC", "bits",
	    (int)k->bits, "key_ref", k->key_ref, "usage", u, "always_pin", k->always_pin);
	free(id);
	if (j != NULL && with_cert) {
		json_t *cj = NULL;

		if (cnie_card_certificate(c, k->id, k->id_len, &der, &der_len) == 0)
			cj = cnie_tool_cert_json(der, der_len);
		json_object_set_new(j, "certificate", cj ? cj : json_null());
	}
	return j;
}

/* Known applications by AID (docs/card-profile.md 2). */
static const char *
app_name(const cnie_p15_app *a)
{
	static const uint8_t pki[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };
	static const uint8_t icao[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };

	if (a->aid_len == sizeof(pki) && memcmp(a->aid, pki, sizeof(pki)) == 0)
		return "pki";
	if (a->aid_len == sizeof(icao) && memcmp(a->aid, icao, sizeof(icao)) == 0)
		return "icao";
	return "unknown";
}

/*
 * The applications EF.DIR lists; a card without EF.DIR is identified by
 * its PKI application alone (open selected it).
 */
static json_t *
applications_json(cnie_card *card)
{
	cnie_p15_dir *dir = NULL;
	json_t *apps = json_array();
	char *aid;

	if (apps == NULL)
		return NULL;
	if (cnie_card_applications(card, &dir) != 0) {
		json_array_append_new(apps, json_pack("{s:s,s:s}", "name", "pki", "aid", PKI_AID));
		return apps;
	}
	for (size_t i = 0; i < dir->count; i++) {
		aid = cnie_tool_hex(dir->apps[i].aid, dir->apps[i].aid_len);
		for (char *p = aid; p != NULL && *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p); /* AIDs as the profile writes them */
		json_array_append_new(apps, json_pack("{s:s,s:s?,s:s}", "name",
		    app_name(&dir->apps[i]), "aid", aid, "label", dir->apps[i].label));
		free(aid);
	}
	cnie_p15_dir_free(&dir);
	return apps;
}

static void
print_tries(const char *what, int r, int tries, bool blocked, bool verified)
{
	if (r != 0)
		printf("%s: %s\n", what, cnie_tool_strerror(r));
	else if (blocked)
		printf("%s: %s\n", what, _("BLOCKED"));
	else if (tries < 0)
		printf("%s: %s\n", what, _("verified in this session"));
	else {
		printf("%s: ", what);
		printf(ngettext("%d try left", "%d tries left", (unsigned long)tries), tries);
		printf("%s%s\n", verified ? " " : "", verified ? _("(verified)") : "");
	}
}

int
cnie_tool_cmd_info(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = { { "can-stdin", no_argument, NULL, 'c' },
		{ "pinentry", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	cnie_tool_secret_src src = { 0 };
	cnie_card *card = NULL;
	const char *serial = NULL, *label = NULL;
	uint8_t atr[40];
	size_t atr_len = sizeof(atr), nkeys = 0;
	int c, r, rc, pin_tries = -1, puk_tries = -1, pr, ur;
	bool pin_blocked = false, pin_verified = false, puk_blocked = false;
	json_t *j = NULL, *keys = NULL;
	char *atrhex = NULL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			src.from_stdin = true;
			break;
		case 'p':
			src.pinentry = optarg;
			break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool info [--json] [--can-stdin] "
			    "[--pinentry PROGRAM]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "info", argv[optind]);
	if ((r = cnie_tool_open_card(tool, &src, &card)) != 0)
		return cnie_tool_fail(tool, r, tool->reader_used[0] ? tool->reader_used : "info");
	if (cnie_transport_atr(cnie_card_transport(card), atr, &atr_len) == 0)
		atrhex = cnie_tool_hex(atr, atr_len);
	(void)cnie_card_serial(card, &serial);
	(void)cnie_card_label(card, &label);
	pr = cnie_card_pin_status(card, &pin_tries, &pin_blocked, &pin_verified);
	ur = cnie_card_puk_status(card, &puk_tries, &puk_blocked);
	if ((r = cnie_card_key_count(card, &nkeys)) != 0) {
		rc = cnie_tool_fail(tool, r, N_("reading the key list"));
		goto out;
	}
	keys = json_array();
	for (size_t i = 0; i < nkeys; i++) {
		cnie_card_key_info k;

		if ((r = cnie_card_get_key(card, i, &k)) != 0) {
			rc = cnie_tool_fail(tool, r, N_("reading the key list"));
			goto out;
		}
		json_array_append_new(keys, cnie_tool_key_json(card, &k, true));
	}
	j = json_pack("{s:s,s:s?,s:{s:b,s:s,s:o,s:s?,s:s?}}", "reader",
	    tool->reader_used, "atr", atrhex, "card", "recognised", 1, "profile",
	    "CNIE (ISO 7816-15 PKI application)", "applications", applications_json(card),
	    "serial", serial, "label", label);
	if (j == NULL) {
		rc = cnie_tool_fail(tool, CNIE_ERR_NOMEM, "info");
		goto out;
	}
	json_object_set_new(j, "pin", pr == 0 ? json_pack("{s:i,s:b,s:b}", "tries_left",
	    pin_tries, "blocked", pin_blocked, "verified", pin_verified) :
	    json_pack("{s:s,s:s}", "error", cnie_error_code_name(pr), "name", cnie_error_name(pr)));
	json_object_set_new(j, "puk", ur == 0 ? json_pack("{s:i,s:b}", "tries_left", puk_tries,
	    "blocked", puk_blocked) : json_pack("{s:s,s:s}", "error", cnie_error_code_name(ur),
	    "name", cnie_error_name(ur)));
	json_object_set(j, "keys", keys);
	rc = CNIE_TOOL_EXIT_OK;
	if (tool->json) {
		cnie_tool_print_json(j);
		j = NULL;
		goto out;
	}
	printf(_("Reader: %s\n"), tool->reader_used);
	printf("ATR: %s\n", atrhex ? atrhex : "?");
	printf(_("Card: %s\n"), "CNIE");
	{
		size_t i;
		json_t *a, *apps = json_object_get(json_object_get(j, "card"), "applications");

		json_array_foreach(apps, i, a)
			printf(_("Application: %s %s%s%s\n"),
			    json_string_value(json_object_get(a, "name")),
			    json_string_value(json_object_get(a, "aid")),
			    json_object_get(a, "label") ? " " : "",
			    json_object_get(a, "label") ?
				json_string_value(json_object_get(a, "label")) : "");
	}
	printf(_("Serial: %s\n"), serial ? serial : "?");
	printf(_("Label: %s\n"), label ? label : "?");
	/* TRANSLATORS: the PIN of the card, as a label ("PIN: 3 tries left"). */
	print_tries(_("PIN"), pr, pin_tries, pin_blocked, pin_verified);
	/* TRANSLATORS: the PUK of the card, as a label ("PUK: 10 tries left"). */
	print_tries(_("PUK"), ur, puk_tries, puk_blocked, false);
	{
		size_t i;
		json_t *k;

		json_array_foreach(keys, i, k) {
			json_t *cj = json_object_get(k, "certificate");

			printf(_("Key %s: %s %d bits, ref %02X, \"%s\"%s\n"),
			    json_string_value(json_object_get(k, "role")),
			    json_string_value(json_object_get(k, "type")),
			    (int)json_integer_value(json_object_get(k, "bits")),
			    (unsigned)json_integer_value(json_object_get(k, "key_ref")),
			    json_string_value(json_object_get(k, "label")),
			    json_is_true(json_object_get(k, "always_pin")) ?
				_(", PIN before each signature") : "");
			if (json_is_object(cj))
				printf(_("  certificate: %s\n    issuer %s\n    valid %s to %s%s\n"),
				    json_string_value(json_object_get(cj, "subject")),
				    json_string_value(json_object_get(cj, "issuer")),
				    json_string_value(json_object_get(cj, "not_before")),
				    json_string_value(json_object_get(cj, "not_after")),
				    json_is_true(json_object_get(cj, "expired")) ? _(" (EXPIRED)") : "");
			else
				printf("%s\n", _("  certificate: none"));
		}
	}
out:
	json_decref(j);
	json_decref(keys);
	free(atrhex);
	cnie_card_free(&card);
	return rc;
}
