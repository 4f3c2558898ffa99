/*
 * POST /v1/identity: the holder's identity from the ICAO application,
 * after a consent dialog naming the origin and the fields, through PACE
 * with the CAN on both interfaces (card-profile.md 2: contact
 * pace-or-bac, contactless pace).  It reads what the fields need and
 * nothing more (data minimisation).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/lds.h>
#include <cnie/mrz.h>
#include <cnie/refcard.h>

#include "ops.h"

static const char *
mrz_format(cnie_mrz_format f)
{
	return f == CNIE_MRZ_TD1 ? "TD1" : f == CNIE_MRZ_TD2 ? "TD2" : f == CNIE_MRZ_TD3 ? "TD3" :
	    "?";
}

static int
fill_mrz(json_t *a, const cnie_buf *dg)
{
	cnie_lds_dg1 *dg1 = NULL;
	const cnie_mrz *m;
	int r;

	if ((r = cnie_lds_dg1_parse(cnie_buf_ptr(dg), cnie_buf_len(dg), &dg1, NULL)) != 0)
		return r;
	m = &dg1->mrz;
	json_object_set_new(a, "mrz", json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s#,s:s,s:s,s:s,s:s,s:s}",
	    "format", mrz_format(m->format), "documentCode", m->document_code,
	    "issuingState", m->issuing_state, "documentNumber", m->document_number,
	    "optionalData", m->optional_data, "optionalData2", m->optional_data2,
	    "sex", &m->sex, (size_t)1, "birthDate", m->birth_date,
	    "expiryDate", m->expiry_date, "nationality", m->nationality,
	    "surname", m->primary_identifier, "givenNames", m->secondary_identifier));
	cnie_lds_dg1_free(&dg1);
	return 0;
}

static int
fill_names(json_t *a, const cnie_buf *dg)
{
	cnie_lds_dg11 *d = NULL;
	json_t *n, *other;
	size_t i;
	int r;

	if ((r = cnie_lds_dg11_parse(cnie_buf_ptr(dg), cnie_buf_len(dg), &d)) != 0)
		return r;
	n = json_object();
	other = json_array();
	if (d->full_name != NULL)
		json_object_set_new(n, "fullName", json_string(d->full_name));
	for (i = 0; i < d->n_other_names; i++)
		json_array_append_new(other, json_string(d->other_names[i]));
	json_object_set_new(n, "otherNames", other);
	if (d->full_birth_date != NULL)
		json_object_set_new(n, "fullDateOfBirth", json_string(d->full_birth_date));
	if (d->place_of_birth != NULL)
		json_object_set_new(n, "placeOfBirth", json_string(d->place_of_birth));
	if (d->personal_number != NULL)
		json_object_set_new(n, "personalNumber", json_string(d->personal_number));
	json_object_set_new(a, "names", n);
	cnie_lds_dg11_free(&d);
	return 0;
}

static int
fill_photo(json_t *a, const cnie_buf *dg)
{
	cnie_lds_dg2 *d = NULL;
	int r;

	if ((r = cnie_lds_dg2_parse(cnie_buf_ptr(dg), cnie_buf_len(dg), &d)) != 0)
		return r;
	json_object_set_new(a, "photo", json_pack("{s:s,s:o}", "format",
	    d->format == CNIE_LDS_IMAGE_JPEG ? "jpeg" : "jp2", "data",
	    cnied_jb64(d->image, d->image_len)));
	cnie_lds_dg2_free(&d);
	return 0;
}

static void
fill_raw(json_t *a, const cnie_icao_files *f)
{
	json_t *dgs = json_object(), *raw;
	int i;

	for (i = 1; i <= CNIE_LDS_MAX_DG; i++) {
		char k[4];
		if (f->dg[i] == NULL)
			continue;
		snprintf(k, sizeof(k), "%d", i);
		json_object_set_new(dgs, k, cnied_jb64(cnie_buf_ptr(f->dg[i]),
		    cnie_buf_len(f->dg[i])));
	}
	raw = json_pack("{s:o}", "dg", dgs);
	if (f->com != NULL)
		json_object_set_new(raw, "com", cnied_jb64(cnie_buf_ptr(f->com),
		    cnie_buf_len(f->com)));
	if (f->sod != NULL)
		json_object_set_new(raw, "sod", cnied_jb64(cnie_buf_ptr(f->sod),
		    cnie_buf_len(f->sod)));
	json_object_set_new(a, "raw", raw);
}

/* Active Authentication over the server's challenge (DG15), then Chip
 * Authentication (DG14), which replaces the session: last. */
static int
fill_chip_proofs(cnied_job *job, json_t *a, cnie_icao *icao, cnie_icao_files *f)
{
	int r;

	if (job->u.identity.has_challenge && f->dg[15] != NULL) {
		cnie_buf *sig = cnie_buf_new();
		if (sig == NULL)
			return CNIE_ERR_NOMEM;
		/* The hash DG14's ActiveAuthenticationInfo names, any ISO 9796-2 trailer. */
		r = cnie_icao_active_auth_ex(icao, job->u.identity.challenge,
		    sizeof(job->u.identity.challenge), cnie_buf_ptr(f->dg[15]),
		    cnie_buf_len(f->dg[15]), f->dg[14] != NULL ? cnie_buf_ptr(f->dg[14]) : NULL,
		    f->dg[14] != NULL ? cnie_buf_len(f->dg[14]) : 0, sig);
		if (r == 0 || r == CNIE_ERR_VERIFY_FAILED)
			json_object_set_new(a, "activeAuth", json_pack("{s:o,s:b}", "signature",
			    cnied_jb64(cnie_buf_ptr(sig), cnie_buf_len(sig)), "verified", r == 0));
		cnie_buf_free(&sig);
		if (r != 0 && r != CNIE_ERR_VERIFY_FAILED)
			return r;
	}
	if (f->dg[14] != NULL) {
		r = cnie_icao_chip_auth(icao, cnie_buf_ptr(f->dg[14]), cnie_buf_len(f->dg[14]));
		json_object_set_new(a, "chipAuth", json_boolean(r == 0));
		if (r == 0)
			json_object_set_new(a, "chipAuthMethod", json_string(
			    cnie_icao_chip_authenticated(icao) == CNIE_ICAO_CHIP_CAM ? "cam" : "ca"));
	}
	return 0;
}

static int
fill(cnied_job *job, cnie_icao *icao, cnie_icao_files *f)
{
	unsigned fields = job->u.identity.fields;
	json_t *a = json_object();
	int r;

	job->answer = a;
	if (a == NULL)
		return CNIE_ERR_NOMEM;
	if ((fields & CNIED_ID_MRZ) && f->dg[1] != NULL && (r = fill_mrz(a, f->dg[1])) != 0)
		return r;
	if ((fields & CNIED_ID_NAMES) && f->dg[11] != NULL &&
	    (r = fill_names(a, f->dg[11])) != 0)
		return r;
	if ((fields & CNIED_ID_PHOTO) && f->dg[2] != NULL && (r = fill_photo(a, f->dg[2])) != 0)
		return r;
	if (fields & CNIED_ID_RAW)
		fill_raw(a, f);
	return fill_chip_proofs(job, a, icao, f);
}

/*
 * "raw" takes every file; otherwise DG1 (mrz), DG11 (names), DG2 (photo),
 * DG15 (with a challenge, for Active Authentication) and DG14 (Chip
 * Authentication) when the card has them.
 */
static int
read_files(cnied_job *job, cnie_icao *icao, const cnie_icao_secret *sec, cnie_icao_files *f)
{
	unsigned fields = job->u.identity.fields;
	int want[5], nwant = 0, i, r;

	/* When the chip ends the session mid-read (or the card is reset),
	 * access control runs again with this request's CAN; files refused
	 * with 6982/6A82 are skipped. */
	if (fields & CNIED_ID_RAW)
		return cnie_icao_read_all_secret(icao, sec, 0, f, NULL, NULL);
	if (fields & CNIED_ID_MRZ)
		want[nwant++] = 1;
	if (fields & CNIED_ID_NAMES)
		want[nwant++] = 11;
	if (fields & CNIED_ID_PHOTO)
		want[nwant++] = 2;
	if (job->u.identity.has_challenge)
		want[nwant++] = 15;
	want[nwant++] = 14;
	for (i = 0; i < nwant; i++) {
		cnie_buf *b = cnie_buf_new();
		if (b == NULL)
			return CNIE_ERR_NOMEM;
		r = cnie_icao_read(icao, want[i], b, NULL, NULL);
		if (r == CNIE_ERR_SW_FILE_NOT_FOUND || r == CNIE_ERR_SW_SECURITY_STATUS) {
			cnie_buf_free(&b);
			continue;
		}
		if (r != 0) {
			cnie_buf_free(&b);
			return r;
		}
		f->dg[want[i]] = b;
	}
	return 0;
}

/* Appends "\n• item" to out (bounded). */
static void
add_item(char *out, size_t max, const char *item)
{
	size_t n = strlen(out);

	if (n < max)
		snprintf(out + n, max - n, "\n\u2022 %s", item);
}

/*
 * The consent lists, one per line in plain words, what the site will
 * receive: each requested field, and the proof of genuineness when a
 * challenge was sent.  Each line is a whole phrase of its own msgid.
 */
static int
consent(cnied_card_ctx *w, const cnied_job *job)
{
	unsigned f = job->u.identity.fields;
	char desc[1536];
	cnie_pinentry_text t = {_("CNIE identity"), desc, NULL, _("Allow"), _("Deny"), NULL};

	if (cnied_kiosk_consent(w->cfg, job->origin, "identity"))
		return 0;
	snprintf(desc, sizeof(desc), _("%s asks to read from your CNIE card and receive:"),
	    job->origin);
	if (f & CNIED_ID_MRZ)
		add_item(desc, sizeof(desc), _("your surname and given names, sex, nationality, "
		    "date of birth, card number and expiry date (the machine-readable lines on "
		    "the back of the card)"));
	if (f & CNIED_ID_NAMES)
		add_item(desc, sizeof(desc), _("your full name, your other names, your full date "
		    "and place of birth, and your personal identification number"));
	if (f & CNIED_ID_PHOTO)
		add_item(desc, sizeof(desc), _("your photo"));
	if (f & CNIED_ID_RAW)
		add_item(desc, sizeof(desc), _("all the identity data stored on the card, as "
		    "stored, with the issuing authority's signature over it"));
	if (job->u.identity.has_challenge)
		add_item(desc, sizeof(desc), _("a proof that your card is genuine"));
	return cnied_pinentry_confirm(w->cfg, &t);
}

int
cnied_op_identity(cnied_card_ctx *w, cnied_job *job)
{
	cnie_transport *t = NULL;
	cnie_icao *icao = NULL;
	cnie_icao_files files;
	cnie_icao_secret sec;
	char can[CNIED_SECRET_MAX], reader[CNIED_READER_MAX];
	int r;

	memset(&files, 0, sizeof(files));
	if ((r = consent(w, job)) != 0)
		return r;
	if (w->cfg->refcard_dir != NULL) {
		/* The PKI session gives way to the ICAO one: reopened by the next job. */
		cnie_card_free(&w->ref_card);
		r = cnie_refcard_open(w->cfg->refcard_dir, w->ref_state, false, &t);
	} else {
		if ((r = cnied_pick_reader(w, job->u.identity.reader, reader, sizeof(reader))) == 0)
			r = cnie_pcsc_connect(w->pcsc, reader, &t);
	}
	if (r != 0)
		return r;
	if ((r = cnied_ask_can(w, job, can, sizeof(can))) != 0)
		goto out;
	sec.type = CNIE_ICAO_CAN;
	sec.value = can;
	sec.flags = 0;
	/* The CAN stays for this request's reads only (recovery), then is wiped. */
	if ((r = cnie_icao_open(t, &sec, &icao)) != 0)
		goto out;
	if ((r = read_files(job, icao, &sec, &files)) != 0)
		goto out;
	OPENSSL_cleanse(can, sizeof(can));
	r = fill(job, icao, &files);
out:
	OPENSSL_cleanse(can, sizeof(can));
	cnie_icao_files_clear(&files);
	cnie_icao_free(&icao);
	cnie_transport_free(&t);
	return r;
}
