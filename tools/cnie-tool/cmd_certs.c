/*
 * cnie-tool certs: the card's certificates — subject, validity, key,
 * usage, chain check against --ca — and export as PEM or DER.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cnie/error.h>

#include "cnie_tool.h"

static int
write_cert(FILE *f, const uint8_t *der, size_t n, bool as_der)
{
	const unsigned char *p = der;
	X509 *x;
	int r = 0;

	if (as_der)
		return fwrite(der, 1, n, f) == n ? 0 : CNIE_ERR_IO;
	if ((x = d2i_X509(NULL, &p, (long)n)) == NULL)
		return CNIE_ERR_ENCODING;
	if (PEM_write_X509(f, x) != 1)
		r = CNIE_ERR_IO;
	X509_free(x);
	return r;
}

int
cnie_tool_cmd_certs(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "der", no_argument, NULL, 'd' },
		{ "ca", required_argument, NULL, 'a' },
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool_secret_src src = { 0 };
	const char *export = NULL, *outpath = NULL, *ca = NULL;
	bool as_der = false, chain_failed = false;
	cnie_card *card = NULL;
	FILE *out = NULL;
	json_t *list = NULL;
	size_t nkeys = 0, exported = 0;
	int c, r, rc = CNIE_TOOL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			export = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'd':
			as_der = true;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'c':
			src.from_stdin = true;
			break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool certs [--ca FILE|DIR] [--export "
			    "auth|sign|all [--der] [--out FILE]] [--can-stdin]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "certs", argv[optind]);
	if (export != NULL && strcmp(export, "auth") != 0 && strcmp(export, "sign") != 0 &&
	    strcmp(export, "all") != 0)
		return cnie_tool_usage_error(tool, N_("certs: --export auth, sign or all"));
	if (as_der && export != NULL && strcmp(export, "all") == 0)
		return cnie_tool_usage_error(tool, N_("certs: --der exports one certificate"));
	if (export != NULL && outpath == NULL && tool->json)
		return cnie_tool_usage_error(tool, N_("certs: --export with --json needs --out FILE"));
	if ((r = cnie_tool_open_card(tool, &src, &card)) != 0)
		return cnie_tool_fail(tool, r, tool->reader_used[0] ? tool->reader_used : "certs");
	if ((r = cnie_card_key_count(card, &nkeys)) != 0) {
		rc = cnie_tool_fail(tool, r, N_("reading the key list"));
		goto out;
	}
	if (export != NULL) {
		out = outpath ? fopen(outpath, as_der ? "wb" : "w") : stdout;
		if (out == NULL) {
			rc = cnie_tool_fail(tool, CNIE_ERR_IO, outpath);
			goto out;
		}
	}
	list = json_array();
	for (size_t i = 0; i < nkeys; i++) {
		cnie_card_key_info k;
		const uint8_t *der = NULL;
		size_t der_len = 0;
		json_t *e;

		if ((r = cnie_card_get_key(card, i, &k)) != 0) {
			rc = cnie_tool_fail(tool, r, N_("reading the key list"));
			goto out;
		}
		e = cnie_tool_key_json(card, &k, true);
		if (cnie_card_certificate(card, k.id, k.id_len, &der, &der_len) != 0) {
			json_array_append_new(list, e);
			continue;
		}
		if (ca != NULL) {
			char why[256];

			r = cnie_tool_cert_chain(der, der_len, ca, why, sizeof(why));
			/* result: "ok" or the shared code (docs/errors.md); name: the exact error. */
			json_object_set_new(e, "chain", json_pack("{s:s,s:s,s:s,s:s?}", "ca", ca,
			    "result", r == 0 ? "ok" : cnie_error_code_name(r), "reason", why,
			    "name", r == 0 ? NULL : cnie_error_name(r)));
			if (r != 0)
				chain_failed = true;
		}
		if (export != NULL && (strcmp(export, "all") == 0 ||
		    strcmp(export, cnie_tool_key_role(&k)) == 0)) {
			if ((r = write_cert(out, der, der_len, as_der)) != 0) {
				json_decref(e);
				rc = cnie_tool_fail(tool, r, N_("writing the certificate"));
				goto out;
			}
			exported++;
			json_object_set_new(e, "exported", json_true());
		}
		json_array_append_new(list, e);
	}
	if (export != NULL && exported == 0) {
		rc = cnie_tool_fail(tool, CNIE_ERR_NOT_FOUND, N_("no such certificate on the card"));
		goto out;
	}
	rc = chain_failed ? CNIE_TOOL_EXIT_FAIL : CNIE_TOOL_EXIT_OK;
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:s,s:O,s:s?}", "reader", tool->reader_used,
		    "certificates", list, "exported_to", outpath));
	} else if (export == NULL || outpath != NULL) {
		size_t i;
		json_t *e;

		json_array_foreach(list, i, e) {
			json_t *cj = json_object_get(e, "certificate");
			json_t *ch = json_object_get(e, "chain");
			json_t *u;
			size_t ui;

			if (strcmp(json_string_value(json_object_get(e, "role")), "sign") == 0)
				printf(_("Signature certificate (key %s):\n"),
				    json_string_value(json_object_get(e, "id")));
			else
				printf(_("Authentication certificate (key %s):\n"),
				    json_string_value(json_object_get(e, "id")));
			if (!json_is_object(cj)) {
				printf("  %s\n", _("none"));
				continue;
			}
			/* TRANSLATORS: labels padded to one column; subject and issuer are
			 * the certificate's names, never translated. */
			printf(_("  subject:  %s\n"), json_string_value(json_object_get(cj, "subject")));
			printf(_("  issuer:   %s\n"), json_string_value(json_object_get(cj, "issuer")));
			printf(_("  serial:   %s\n"), json_string_value(json_object_get(cj, "serial")));
			if (json_is_true(json_object_get(cj, "expired")))
				printf(_("  validity: %s to %s (EXPIRED)\n"),
				    json_string_value(json_object_get(cj, "not_before")),
				    json_string_value(json_object_get(cj, "not_after")));
			else
				printf(_("  validity: %s to %s\n"),
				    json_string_value(json_object_get(cj, "not_before")),
				    json_string_value(json_object_get(cj, "not_after")));
			printf(_("  key:      %s\n"), json_string_value(json_object_get(cj, "key")));
			/* The X.509 key usage names (digitalSignature...): never translated. */
			printf("%s", _("  usage:   "));
			json_array_foreach(json_object_get(cj, "key_usage"), ui, u)
				printf(" %s", json_string_value(u));
			printf("\n");
			printf(_("  sha256:   %s\n"), json_string_value(json_object_get(cj, "sha256")));
			if (ch != NULL && strcmp(json_string_value(json_object_get(ch, "result")),
			    "ok") == 0)
				printf("%s\n", _("  chain:    ok"));
			else if (ch != NULL)
				/* reason: OpenSSL's words for the failure. */
				printf(_("  chain:    FAILED (%s)\n"),
				    json_string_value(json_object_get(ch, "reason")));
		}
		if (outpath != NULL)
			printf(ngettext("Exported %zu certificate to %s\n",
			    "Exported %zu certificates to %s\n", exported), exported, outpath);
	}
out:
	if (out != NULL && out != stdout && fclose(out) != 0 && rc == 0)
		rc = cnie_tool_fail(tool, CNIE_ERR_IO, outpath);
	json_decref(list);
	cnie_card_free(&card);
	return rc;
}
