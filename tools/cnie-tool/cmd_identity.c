/*
 * cnie-tool identity: the ICAO application (PACE with the CAN, or PACE/BAC
 * with the MRZ; also on the contact interface, docs/card-profile.md 2),
 * the whole LDS with a progress bar on a terminal, the MRZ, DG11 and DG12
 * fields (Arabic names in UTF-8), the face as PNG, and Passive
 * Authentication against a CSCA store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/lds.h>
#include <cnie/mrz.h>
#include <cnie/pa.h>

#include <openssl/rand.h>

#include "cnie_tool.h"

struct progress {
	bool on;
	size_t last;
};

static void
on_progress(size_t done, size_t total, void *arg)
{
	struct progress *p = arg;
	int width = 40, fill;

	if (!p->on || total == 0)
		return;
	fill = (int)((double)done / (double)total * width);
	if (fill > width)
		fill = width;
	/* TRANSLATORS: a progress bar, then bytes read of the total. */
	fputc('\r', stderr);
	fprintf(stderr, _("reading [%.*s%*s] %zu/%zu bytes"), fill,
	    "########################################", width - fill, "", done, total);
	if (done >= total)
		fputc('\n', stderr);
	p->last = done;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, k, json_string(v));
}

static json_t *
mrz_json(const cnie_mrz *m)
{
	char sex[2] = { m->sex, 0 };
	json_t *j = json_object();

	set_str(j, "document_code", m->document_code);
	set_str(j, "issuing_state", m->issuing_state);
	set_str(j, "document_number", m->document_number);
	set_str(j, "optional_data", m->optional_data);
	set_str(j, "birth_date", m->birth_date);
	set_str(j, "sex", sex);
	set_str(j, "expiry_date", m->expiry_date);
	set_str(j, "nationality", m->nationality);
	set_str(j, "surname", m->primary_identifier);
	set_str(j, "given_names", m->secondary_identifier);
	return j;
}

static json_t *
strs_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
dg11_json(const cnie_lds_dg11 *d)
{
	json_t *j = json_object();

	set_str(j, "full_name", d->full_name);
	if (d->n_other_names > 0)
		json_object_set_new(j, "other_names", strs_json(d->other_names, d->n_other_names));
	set_str(j, "personal_number", d->personal_number);
	set_str(j, "full_birth_date", d->full_birth_date);
	set_str(j, "place_of_birth", d->place_of_birth);
	set_str(j, "address", d->address);
	set_str(j, "telephone", d->telephone);
	set_str(j, "profession", d->profession);
	set_str(j, "title", d->title);
	return j;
}

static json_t *
dg12_json(const cnie_lds_dg12 *d)
{
	json_t *j = json_object();

	set_str(j, "issuing_authority", d->issuing_authority);
	set_str(j, "date_of_issue", d->date_of_issue);
	set_str(j, "endorsements", d->endorsements);
	set_str(j, "personalisation_time", d->personalisation_time);
	set_str(j, "personaliser_serial", d->personaliser_serial);
	return j;
}

static const char *
pa_status(cnie_pa_status s)
{
	return s == CNIE_PA_PASS ? "pass" : s == CNIE_PA_FAIL ? "fail" : "not-run";
}

/*
 * Proves the chip is the one its data describes (not a copy): PACE Chip
 * Authentication Mapping or Chip Authentication with DG14's key (the
 * latter replaces the session: run after every read), else Active
 * Authentication with DG15's key over a fresh random challenge.  A proof
 * counts only with Passive Authentication of DG14/DG15 (--csca).
 * {"method":"cam"|"ca"|"aa"|null,"verdict":"pass"|"fail"|"not-offered"|"error",...}
 */
static json_t *
chip_proof(cnie_icao *icao, const cnie_icao_files *f, int *failed)
{
	int r = CNIE_ERR_UNSUPPORTED;

	*failed = 0;
	if (f->dg[14] != NULL) {
		r = cnie_icao_chip_auth(icao, cnie_buf_ptr(f->dg[14]), cnie_buf_len(f->dg[14]));
		if (r == 0)
			return json_pack("{s:s,s:s}", "method",
			    cnie_icao_chip_authenticated(icao) == CNIE_ICAO_CHIP_CAM ? "cam" : "ca",
			    "verdict", "pass");
		if (r == CNIE_ERR_AUTH_FAILED) {
			*failed = 1;
			return json_pack("{s:s,s:s,s:s}", "method",
			    cnie_icao_used_cam(icao) ? "cam" : "ca", "verdict", "fail", "error",
			    cnie_error_code_name(r));
		}
		if (r != CNIE_ERR_UNSUPPORTED)
			return json_pack("{s:n,s:s,s:s,s:s}", "method", "verdict", "error", "error",
			    cnie_error_code_name(r), "name", cnie_error_name(r));
	}
	if (f->dg[15] != NULL) {
		uint8_t ch[8];
		cnie_buf *sig = cnie_buf_new();

		if (sig == NULL || RAND_bytes(ch, sizeof(ch)) != 1) {
			cnie_buf_free(&sig);
			return json_pack("{s:n,s:s,s:s}", "method", "verdict", "error", "error",
			    cnie_error_code_name(CNIE_ERR_CRYPTO));
		}
		r = cnie_icao_active_auth_ex(icao, ch, sizeof(ch), cnie_buf_ptr(f->dg[15]),
		    cnie_buf_len(f->dg[15]), f->dg[14] != NULL ? cnie_buf_ptr(f->dg[14]) : NULL,
		    f->dg[14] != NULL ? cnie_buf_len(f->dg[14]) : 0, sig);
		cnie_buf_free(&sig);
		if (r == 0)
			return json_pack("{s:s,s:s}", "method", "aa", "verdict", "pass");
		if (r == CNIE_ERR_VERIFY_FAILED) {
			*failed = 1;
			return json_pack("{s:s,s:s,s:s}", "method", "aa", "verdict", "fail", "error",
			    cnie_error_code_name(r));
		}
		return json_pack("{s:s,s:s,s:s,s:s}", "method", "aa", "verdict", "error", "error",
		    cnie_error_code_name(r), "name", cnie_error_name(r));
	}
	return json_pack("{s:n,s:s}", "method", "verdict", "not-offered");
}

static json_t *
pa_run(const cnie_icao_files *f, const char *csca, int *verdict)
{
	static const char *dgst[] = { "absent", "match", "mismatch", "not-in-sod", "not-read" };
	cnie_pa_trust *trust = NULL;
	cnie_pa_dg dgs[CNIE_LDS_MAX_DG];
	cnie_pa_result res;
	struct stat st;
	size_t n = 0;
	char desc[160];
	json_t *j, *dj;
	int r;

	*verdict = CNIE_ERR_UNTRUSTED;
	if ((r = cnie_pa_trust_new(&trust)) != 0)
		return json_pack("{s:s,s:s}", "error", cnie_error_code_name(r), "name", cnie_error_name(r));
	r = (stat(csca, &st) == 0 && S_ISDIR(st.st_mode)) ? cnie_pa_trust_add_dir(trust, csca) :
	    cnie_pa_trust_add_file(trust, csca);
	if (r != 0) {
		cnie_pa_trust_free(&trust);
		*verdict = r;
		/* error: the shared code (docs/errors.md); name: the exact error. */
		return json_pack("{s:s,s:s,s:s,s:s}", "verdict", "error", "error",
		    cnie_error_code_name(r), "name", cnie_error_name(r), "description",
		    "cannot load the CSCA store");
	}
	if (f->sod == NULL) {
		cnie_pa_trust_free(&trust);
		return json_pack("{s:s,s:s}", "verdict", "fail", "description", "no EF.SOD");
	}
	for (int i = 1; i <= CNIE_LDS_MAX_DG; i++)
		if (f->dg[i] != NULL) {
			dgs[n].number = i;
			dgs[n].data = cnie_buf_ptr(f->dg[i]);
			dgs[n].len = cnie_buf_len(f->dg[i]);
			n++;
		}
	r = cnie_pa_verify(cnie_buf_ptr(f->sod), cnie_buf_len(f->sod), dgs, n, trust, 0, &res);
	cnie_pa_trust_free(&trust);
	if (r == CNIE_ERR_INVALID_ARG || r == CNIE_ERR_NOMEM) {
		*verdict = r;
		return json_pack("{s:s,s:s,s:s}", "verdict", "error", "error",
		    cnie_error_code_name(r), "name", cnie_error_name(r));
	}
	*verdict = res.verdict;
	dj = json_object();
	for (int i = 1; i <= CNIE_PA_MAX_DG; i++) {
		char k[4];

		if (res.dg[i] == CNIE_PA_DG_ABSENT || (unsigned)res.dg[i] > 4)
			continue;
		snprintf(k, sizeof(k), "%d", i);
		json_object_set_new(dj, k, json_string(dgst[res.dg[i]]));
	}
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "verdict",
	    res.verdict == 0 ? "pass" : "fail", "description",
	    cnie_pa_describe(&res, desc, sizeof(desc)), "hash_alg", res.hash_alg, "sod_parse",
	    pa_status(res.sod_parse), "dg_hashes", pa_status(res.dg_hashes), "signature",
	    pa_status(res.signature), "ds_chain", pa_status(res.ds_chain), "ds_validity",
	    pa_status(res.ds_validity), "dg", dj);
	return j;
}

static void
print_obj(const char *title, json_t *o)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return;
	printf("%s:\n", title);
	json_object_foreach(o, k, v) {
		if (json_is_string(v)) {
			printf("  %-22s %s\n", k, json_string_value(v));
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;

			json_array_foreach(v, i, e)
				printf("  %-22s %s\n", i == 0 ? k : "", json_string_value(e));
		} else if (json_is_integer(v)) {
			printf("  %-22s %lld\n", k, (long long)json_integer_value(v));
		}
	}
}

int
cnie_tool_cmd_identity(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "mrz-stdin", no_argument, NULL, 'm' },
		{ "mrz", no_argument, NULL, 'M' },
		{ "bac", no_argument, NULL, 'b' },
		{ "pinentry", required_argument, NULL, 'p' },
		{ "can-argv-insecure", required_argument, NULL, 1 },
		{ "photo", required_argument, NULL, 'f' },
		{ "csca", required_argument, NULL, 'a' },
		{ "no-progress", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool_secret_src src = { 0 };
	bool use_mrz = false, bac = false;
	const char *photo = NULL, *csca = NULL;
	struct progress prog = { false, 0 };
	cnie_transport *t = NULL;
	cnie_icao *icao = NULL;
	cnie_icao_files files;
	cnie_icao_secret secret;
	cnie_lds_dg1 *dg1 = NULL;
	cnie_lds_dg2 *dg2 = NULL;
	cnie_lds_dg11 *dg11 = NULL;
	cnie_lds_dg12 *dg12 = NULL;
	char value[128];
	json_t *j = NULL, *sizes;
	int c, r, rc = CNIE_TOOL_EXIT_OK, pa_verdict = 0;

	memset(&files, 0, sizeof(files));
	memset(value, 0, sizeof(value));
	prog.on = isatty(STDERR_FILENO) != 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': src.from_stdin = true; break;
		case 'm': src.from_stdin = true; use_mrz = true; break;
		case 'M': use_mrz = true; break;
		case 'b': bac = true; use_mrz = true; break;
		case 'p': src.pinentry = optarg; break;
		case 1: src.insecure = optarg; break;
		case 'f': photo = optarg; break;
		case 'a': csca = optarg; break;
		case 'n': prog.on = false; break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool identity [--can-stdin|--mrz-stdin|--mrz] "
			    "[--bac] [--pinentry PROGRAM]\n"
			    "       [--photo FILE.png] [--csca FILE|DIR] [--no-progress]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "identity",
		    argv[optind]);
	if (tool->json)
		prog.on = false;
	if ((r = cnie_tool_open_transport(tool, &t)) != 0)
		return cnie_tool_fail(tool, r, tool->reader_used[0] ? tool->reader_used : "identity");
	if ((r = cnie_tool_ask_secret(tool, &src, use_mrz ?
	    _("Enter the machine readable zone (MRZ) printed on the back of the card "
	    "(the three lines, without spaces).") :
	    _("Enter the 6-digit card access number (CAN) printed on the front of the card."),
	    use_mrz ? _("MRZ:") : _("CAN:"), value, sizeof(value))) != 0) {
		rc = cnie_tool_fail(tool, r, use_mrz ? "MRZ" : "CAN");
		goto out;
	}
	if (use_mrz) {
		/* The library's MRZ parser (TD1, TD2, TD3): the failing field is named. */
		cnie_mrz m;
		cnie_mrz_field bad = CNIE_MRZ_FIELD_NONE;
		char what[64];

		r = cnie_mrz_parse(value, strlen(value), &m, &bad);
		cnie_mrz_clear(&m);
		if (r != 0) {
			cnie_wipe(value, sizeof(value));
			snprintf(what, sizeof(what), "MRZ (%s)", cnie_mrz_field_name(bad));
			rc = cnie_tool_fail(tool, r, what);
			goto out;
		}
	}
	secret.type = use_mrz ? CNIE_ICAO_MRZ : CNIE_ICAO_CAN;
	secret.value = value;
	secret.flags = bac ? CNIE_ICAO_NO_PACE : 0;
	r = cnie_icao_open(t, &secret, &icao);
	if (r != 0) {
		cnie_wipe(value, sizeof(value));
		rc = cnie_tool_fail(tool, r, r == CNIE_ERR_PACE || r == CNIE_ERR_BAC ?
		    (use_mrz ? N_("access refused: wrong MRZ?") : N_("access refused: wrong CAN?")) :
		    N_("opening the identity application"));
		goto out;
	}
	/* The secret serves this read only (a chip that ends the session). */
	r = cnie_icao_read_all_secret(icao, &secret, 0, &files, on_progress, &prog);
	cnie_wipe(value, sizeof(value));
	if (r != 0) {
		if (prog.on && prog.last > 0)
			fputc('\n', stderr);
		rc = cnie_tool_fail(tool, r, N_("reading the identity data"));
		goto out;
	}
	j = json_pack("{s:s,s:s}", "reader", tool->reader_used, "access",
	    cnie_icao_used_pace(icao) ? "PACE" : "BAC");
	sizes = json_object();
	if (files.com)
		json_object_set_new(sizes, "com", json_integer((json_int_t)cnie_buf_len(files.com)));
	if (files.sod)
		json_object_set_new(sizes, "sod", json_integer((json_int_t)cnie_buf_len(files.sod)));
	for (int i = 1; i <= CNIE_LDS_MAX_DG; i++)
		if (files.dg[i] != NULL) {
			char k[8];

			snprintf(k, sizeof(k), "dg%d", i);
			json_object_set_new(sizes, k, json_integer((json_int_t)cnie_buf_len(files.dg[i])));
		}
	json_object_set_new(j, "files", sizes);
	if (files.dg[1] != NULL) {
		r = cnie_lds_dg1_parse(cnie_buf_ptr(files.dg[1]), cnie_buf_len(files.dg[1]), &dg1, NULL);
		json_object_set_new(j, "mrz", r == 0 ? mrz_json(&dg1->mrz) :
		    json_pack("{s:s,s:s}", "error", cnie_error_code_name(r), "name", cnie_error_name(r)));
	}
	if (files.dg[11] != NULL) {
		r = cnie_lds_dg11_parse(cnie_buf_ptr(files.dg[11]), cnie_buf_len(files.dg[11]), &dg11);
		json_object_set_new(j, "dg11", r == 0 ? dg11_json(dg11) :
		    json_pack("{s:s,s:s}", "error", cnie_error_code_name(r), "name", cnie_error_name(r)));
	}
	if (files.dg[12] != NULL) {
		r = cnie_lds_dg12_parse(cnie_buf_ptr(files.dg[12]), cnie_buf_len(files.dg[12]), &dg12);
		json_object_set_new(j, "dg12", r == 0 ? dg12_json(dg12) :
		    json_pack("{s:s,s:s}", "error", cnie_error_code_name(r), "name", cnie_error_name(r)));
	}
	if (files.dg[2] != NULL) {
		r = cnie_lds_dg2_parse(cnie_buf_ptr(files.dg[2]), cnie_buf_len(files.dg[2]), &dg2);
		if (r != 0) {
			json_object_set_new(j, "photo", json_pack("{s:s,s:s}", "error",
			    cnie_error_code_name(r), "name", cnie_error_name(r)));
		} else {
			bool jp2 = dg2->format == CNIE_LDS_IMAGE_JPEG2000;
			json_t *pj = json_pack("{s:s,s:i,s:i,s:i}", "format", jp2 ? "jpeg2000" : "jpeg",
			    "width", dg2->width, "height", dg2->height, "bytes", (int)dg2->image_len);

			if (photo != NULL) {
				r = cnie_tool_photo_to_png(dg2->image, dg2->image_len, jp2, photo);
				json_object_set_new(pj, "file", r == 0 ? json_string(photo) : json_null());
				if (r != 0) {
					json_object_set_new(pj, "error", json_string(cnie_error_code_name(r)));
					json_object_set_new(pj, "name", json_string(cnie_error_name(r)));
					rc = CNIE_TOOL_EXIT_FAIL;
				}
			}
			json_object_set_new(j, "photo", pj);
		}
	}
	if (csca != NULL) {
		json_object_set_new(j, "passive_authentication", pa_run(&files, csca, &pa_verdict));
		if (pa_verdict != 0)
			rc = CNIE_TOOL_EXIT_FAIL;
	}
	{
		int failed;

		/* Last: Chip Authentication replaces the secure messaging session. */
		json_object_set_new(j, "chip_authentication", chip_proof(icao, &files, &failed));
		if (failed)
			rc = CNIE_TOOL_EXIT_FAIL;
	}
	if (tool->json) {
		cnie_tool_print_json(j);
		j = NULL;
		goto out;
	}
	/* TRANSLATORS: the reader's name, then PACE or BAC (protocol names). */
	printf(_("Reader: %s (access by %s)\n"), tool->reader_used,
	    cnie_icao_used_pace(icao) ? "PACE" : "BAC");
	/* The identity as a person reads it (identity_text.c); -v: the raw fields too. */
	cnie_tool_print_identity(j);
	if (tool->verbose > 0) {
		print_obj(_("MRZ (DG1)"), json_object_get(j, "mrz"));
		print_obj(_("Personal details (DG11)"), json_object_get(j, "dg11"));
		print_obj(_("Document details (DG12)"), json_object_get(j, "dg12"));
	}
	print_obj(_("Photo (DG2)"), json_object_get(j, "photo"));
	{
		json_t *pa = json_object_get(j, "passive_authentication");

		const char *verdict = json_string_value(json_object_get(pa, "verdict"));
		const char *desc = json_string_value(json_object_get(pa, "description"));

		/* description: the library's technical summary (English). */
		if (pa == NULL)
			printf("%s\n", _("Passive Authentication: not run (give --csca FILE|DIR)"));
		else if (verdict != NULL && strcmp(verdict, "pass") == 0)
			printf(_("Passive Authentication: passed, the data is authentic (%s)\n"),
			    desc ? desc : "");
		else if (verdict != NULL && strcmp(verdict, "fail") == 0)
			printf(_("Passive Authentication: FAILED, the data is not proven authentic "
			    "(%s)\n"), desc ? desc : "");
		else
			printf(_("Passive Authentication: not completed (%s)\n"), desc ? desc :
			    json_string_value(json_object_get(pa, "error")));
	}
	{
		json_t *ca = json_object_get(j, "chip_authentication");
		const char *m = json_string_value(json_object_get(ca, "method"));
		const char *v = json_string_value(json_object_get(ca, "verdict"));

		if (v != NULL && strcmp(v, "pass") == 0) {
			if (strcmp(m, "cam") == 0)
				printf("%s\n", _("Chip authentication: passed (PACE chip authentication "
				    "mapping); the chip holds the key written in its data."));
			else if (strcmp(m, "ca") == 0)
				printf("%s\n", _("Chip authentication: passed (Chip Authentication); the "
				    "chip holds the key written in its data."));
			else
				printf("%s\n", _("Chip authentication: passed (Active Authentication); the "
				    "chip holds the key written in its data."));
			if (csca == NULL)
				printf("%s\n", _("  This proves a genuine chip only together with Passive "
				    "Authentication (give --csca FILE|DIR)."));
		} else if (v != NULL && strcmp(v, "fail") == 0) {
			printf("%s\n", _("Chip authentication: FAILED, the chip does not hold the key "
			    "written in its data (a copied or substituted chip)."));
		} else if (v != NULL && strcmp(v, "not-offered") == 0) {
			printf("%s\n", _("Chip authentication: not offered by this chip."));
		} else {
			printf(_("Chip authentication: not completed (%s).\n"),
			    json_string_value(json_object_get(ca, "error")));
		}
	}
out:
	json_decref(j);
	cnie_lds_dg1_free(&dg1);
	cnie_lds_dg2_free(&dg2);
	cnie_lds_dg11_free(&dg11);
	cnie_lds_dg12_free(&dg12);
	cnie_icao_files_clear(&files);
	cnie_icao_free(&icao);
	cnie_transport_free(&t);
	return rc;
}
