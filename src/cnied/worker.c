/*
 * The card worker: one thread, one queue, one card operation at a time.
 *
 * The event loop never touches the card: it queues a job and goes on
 * serving (status, preflights, other connections); the worker runs the
 * pinentry dialogs and the card commands, then hands the finished job back
 * through a pipe.  A job still queued when its wait ends (queue timeout) is
 * answered "busy" by the loop and never reaches the card.
 *
 * Card access is libcnie only (card.h, icao.h, lds.h): no APDU here.
 * Secrets (PIN, CAN) live in stack buffers wiped before the function that
 * asked for them returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cnie/base64.h>
#include <cnie/buf.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/lds.h>
#include <cnie/log.h>
#include <cnie/mrz.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>

#include "cnied.h"

#define APP_VERSION "https://github.com/cnie/cnie-middleware/releases/tag/v" CNIE_VERSION

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static cnied_job *q_head, *q_tail;
static bool q_stop;
static pthread_t w_thread;
static bool w_running;
static int done_pipe[2] = {-1, -1};
static struct event *done_ev;
static struct event_base *w_base;
static const cnied_config *w_cfg;

/* Worker-thread state. */
static cnie_card *ref_card;  /* reference card: kept open across jobs */
static cnie_pcsc *w_pcsc;    /* PC/SC context of the worker thread */
static char ref_state[4200]; /* reference card's counter file */

void
cnied_job_free(cnied_job *job)
{
	if (job == NULL)
		return;
	if (job->op == CNIED_OP_SIGN)
		cnied_req_sign_clear(&job->u.sign);
	if (job->timer != NULL)
		event_free(job->timer);
	json_decref(job->answer);
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

/* ---- loop side ------------------------------------------------------- */

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	cnied_job *job;
	ssize_t n;

	(void)what;
	(void)arg;
	for (;;) {
		n = read(fd, &job, sizeof(job));
		if (n != (ssize_t)sizeof(job))
			break;
		if (job->timer != NULL)
			event_del(job->timer);
		cnied_api_job_done(job);
	}
}

static void
queue_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	cnied_job *job = arg, **pp;
	bool removed = false;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&q_lock);
	if (!job->started) {
		for (pp = &q_head; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == job) {
				*pp = job->next;
				removed = true;
				break;
			}
		}
		if (removed) {
			q_tail = NULL;
			for (cnied_job *j = q_head; j != NULL; j = j->next)
				q_tail = j;
		}
	}
	pthread_mutex_unlock(&q_lock);
	if (removed) {
		job->err = CNIE_ERR_BUSY;
		cnied_api_job_done(job);
	}
}

void
cnied_worker_submit(cnied_job *job)
{
	struct timeval tv = {w_cfg->queue_timeout, 0};

	job->timer = evtimer_new(w_base, queue_timeout_cb, job);
	if (job->timer != NULL)
		evtimer_add(job->timer, &tv);
	job->next = NULL;
	pthread_mutex_lock(&q_lock);
	if (q_tail != NULL)
		q_tail->next = job;
	else
		q_head = job;
	q_tail = job;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/* ---- worker side: card access ---------------------------------------- */

static const char *
op_text(cnied_op op)
{
	switch (op) {
	case CNIED_OP_CERT:
		return "read a certificate";
	case CNIED_OP_AUTH:
		return "log you in";
	case CNIED_OP_SIGN:
		return "sign a document";
	case CNIED_OP_IDENTITY:
		return "read your identity";
	}
	return "use your card";
}

/* Chooses the reader: the one asked for, else the only one with a card. */
static int
pick_reader(const char *wanted, char *out, size_t max)
{
	char **names = NULL;
	size_t n = 0, i, found = 0;
	int r;

	if (w_pcsc == NULL && (r = cnie_pcsc_new(&w_pcsc)) != 0)
		return r;
	r = cnie_pcsc_list_readers(w_pcsc, &names, &n);
	if (r == CNIE_ERR_NO_SERVICE || r == CNIE_ERR_COMM) {
		/* pcscd restarted: a new context next time. */
		cnie_pcsc_free(&w_pcsc);
		return r;
	}
	if (r != 0)
		return r;
	r = CNIE_ERR_NO_CARD;
	for (i = 0; i < n; i++) {
		cnie_reader_state st;
		if (wanted[0] != '\0' && strcmp(wanted, names[i]) != 0)
			continue;
		if (cnie_pcsc_reader_state(w_pcsc, names[i], &st) != 0 || !st.card_present)
			continue;
		if (found++ == 0)
			snprintf(out, max, "%s", names[i]);
	}
	if (found == 1)
		r = 0;
	else if (found > 1)
		r = CNIED_ERR_MULTIPLE;
	else if (wanted[0] != '\0') {
		bool exists = false;
		for (i = 0; i < n; i++)
			if (strcmp(wanted, names[i]) == 0)
				exists = true;
		r = exists ? CNIE_ERR_NO_CARD : CNIE_ERR_READER_NOT_FOUND;
	}
	cnie_pcsc_free_names(&names);
	return r;
}

static int
ask_can(const cnied_job *job, char *can, size_t max)
{
	char desc[768];

	snprintf(desc, sizeof(desc),
	    "%s wants to %s.\nEnter the 6-digit card access number (CAN) printed on "
	    "the front of your CNIE card.",
	    job->origin, op_text(job->op));
	return cnied_pinentry_getpin(w_cfg->pinentry, w_cfg->pin_timeout, "CNIE card",
	    desc, "CAN:", can, max);
}

/* Opens the PKI application for a job (the reference card stays open). */
static int
card_open(cnied_job *job, const char *want, cnie_card **out, char *reader, size_t rmax)
{
	cnie_transport *t = NULL;
	char can[CNIED_SECRET_MAX];
	int r;

	*out = NULL;
	if (w_cfg->refcard_dir != NULL) {
		snprintf(reader, rmax, "%s", CNIED_REFCARD_READER);
		if (ref_card == NULL) {
			if ((r = cnie_refcard_open(w_cfg->refcard_dir, ref_state, false, &t)) != 0)
				return r;
			if ((r = cnie_card_open(t, &ref_card)) != 0)
				return r;
		}
		*out = ref_card;
		return 0;
	}
	if ((r = pick_reader(want, reader, rmax)) != 0)
		return r;
	r = cnie_card_open_reader(w_pcsc, reader, out);
	if (r != CNIE_ERR_NEED_CAN)
		goto done;
	if ((r = ask_can(job, can, sizeof(can))) != 0)
		goto done;
	if ((r = cnie_pcsc_connect(w_pcsc, reader, &t)) == 0)
		r = cnie_card_open_ex(t, can, out);
	OPENSSL_cleanse(can, sizeof(can));
done:
	if (r == 0 || r == CNIE_ERR_CARD_NOT_RECOGNISED)
		cnied_readers_note(reader, r == 0,
		    r == 0 && cnie_transport_get_caps(cnie_card_transport(*out))->pinpad_verify);
	return r;
}

static void
card_release(cnie_card **c, int err)
{
	if (*c == NULL)
		return;
	if (*c == ref_card) {
		/* A broken session is reopened on the next job. */
		if (err == CNIE_ERR_CARD_REMOVED || err == CNIE_ERR_CARD_RESET ||
		    err == CNIE_ERR_COMM || err == CNIE_ERR_SM)
			cnie_card_free(&ref_card);
		*c = NULL;
		return;
	}
	cnie_card_free(c);
}

/* The key for the operation: authentication (sign usage only) or signature. */
static int
find_key(cnie_card *c, bool sign, cnie_card_key_info *ki)
{
	size_t n, i;
	int r;

	if ((r = cnie_card_key_count(c, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = cnie_card_get_key(c, i, ki)) != 0)
			return r;
		if (sign && (ki->usage & CNIE_CARD_USAGE_NON_REPUDIATION))
			return 0;
		if (!sign && (ki->usage & CNIE_CARD_USAGE_SIGN) &&
		    !(ki->usage & CNIE_CARD_USAGE_NON_REPUDIATION))
			return 0;
	}
	return CNIE_ERR_NOT_FOUND;
}

static int
key_cert(cnied_job *job, cnie_card *c, const cnie_card_key_info *ki, const uint8_t **der,
    size_t *der_len)
{
	int r = cnie_card_certificate(c, ki->id, ki->id_len, der, der_len);

	if (r == 0) {
		SHA256(*der, *der_len, job->cert_fp);
		job->has_fp = true;
	}
	return r;
}

/*
 * PIN on the PIN pad when the reader has one, else through pinentry.  No
 * status VERIFY first (it would cost an APDU on every operation): the dialog
 * shows the tries left once a wrong PIN has told us (last_tries), and a
 * blocked PIN answers the VERIFY itself with CNIE_ERR_PIN_BLOCKED.
 */
static int last_tries = -1;

static int
verify_pin(cnied_job *job, cnie_card *c)
{
	const cnie_transport_caps *caps = cnie_transport_get_caps(cnie_card_transport(c));
	char pin[CNIED_SECRET_MAX], desc[768], tries_txt[64] = "";
	int r, tries = last_tries;

	if (caps->pinpad_verify) {
		r = cnie_card_pin_verify_pinpad(c, &job->tries_left);
		if (r != CNIE_ERR_UNSUPPORTED)
			goto done;
	}
	if (tries >= 0)
		snprintf(tries_txt, sizeof(tries_txt), "\n(%d tries left)", tries);
	snprintf(desc, sizeof(desc), "%s wants to %s with your CNIE card.%s", job->origin,
	    op_text(job->op), tries_txt);
	if ((r = cnied_pinentry_getpin(w_cfg->pinentry, w_cfg->pin_timeout, "CNIE card PIN",
	    desc, "PIN:", pin, sizeof(pin))) != 0)
		return r;
	r = cnie_card_pin_verify(c, pin, &job->tries_left);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (r == CNIE_ERR_PIN_FORMAT) {
		/* Nothing reached the card: no try spent. */
		job->tries_left = tries;
		r = CNIE_ERR_PIN_INCORRECT;
	}
done:
	last_tries = r == CNIE_ERR_PIN_INCORRECT ? job->tries_left : -1;
	return r;
}

static json_t *
jb64(const uint8_t *p, size_t n)
{
	char *s = cnie_base64_encode(p, n);
	json_t *j = s != NULL ? json_string(s) : NULL;

	free(s);
	return j;
}

static json_t *
algorithms(const cnie_card_key_info *ki)
{
	static const char *const hashes[] = {"SHA-256", "SHA-384", "SHA-512"};
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < 3; i++) {
		if (ki->type == CNIE_CARD_KEY_EC) {
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "ECC", "hashFunction", hashes[i], "paddingScheme", "NONE"));
		} else {
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "RSA", "hashFunction", hashes[i], "paddingScheme", "PKCS1.5"));
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "RSA", "hashFunction", hashes[i], "paddingScheme", "PSS"));
		}
	}
	return a;
}

static int
do_cert(cnied_job *job, cnie_card *c)
{
	cnie_card_key_info ki;
	const uint8_t *der;
	size_t der_len;
	int r;

	if ((r = find_key(c, job->u.cert.sign, &ki)) != 0)
		return r;
	if ((r = key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:o}", "certificate", jb64(der, der_len),
	    "supportedSignatureAlgorithms", algorithms(&ki));
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}

static cnie_card_hash
card_hash(cnied_hash h)
{
	switch (h) {
	case CNIED_HASH_SHA256:
		return CNIE_CARD_HASH_SHA256;
	case CNIED_HASH_SHA384:
		return CNIE_CARD_HASH_SHA384;
	case CNIED_HASH_SHA512:
		return CNIE_CARD_HASH_SHA512;
	}
	return CNIE_CARD_HASH_NONE;
}

static int
do_auth(cnied_job *job, cnie_card *c)
{
	cnie_card_key_info ki;
	cnie_card_mech mech = {0, CNIE_CARD_HASH_NONE, 0};
	const uint8_t *der;
	const EVP_MD *md;
	const char *alg;
	uint8_t data[2 * EVP_MAX_MD_SIZE], digest[EVP_MAX_MD_SIZE], sig[1024];
	unsigned int hl = 0, dl = 0;
	size_t der_len, sig_len = sizeof(sig);
	int r;

	if ((r = find_key(c, false, &ki)) != 0)
		return r;
	if ((r = key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	/* Web eID: ES256/ES384/ES512 by curve size, RS256 for RSA. */
	if (ki.type == CNIE_CARD_KEY_EC && ki.bits > 384) {
		md = EVP_sha512();
		alg = "ES512";
	} else if (ki.type == CNIE_CARD_KEY_EC && ki.bits > 256) {
		md = EVP_sha384();
		alg = "ES384";
	} else {
		md = EVP_sha256();
		alg = ki.type == CNIE_CARD_KEY_EC ? "ES256" : "RS256";
	}
	/* data = H(origin) || H(nonce); the signature algorithm hashes it again. */
	if (EVP_Digest(job->origin, strlen(job->origin), data, &hl, md, NULL) != 1 ||
	    EVP_Digest(job->u.auth.nonce, strlen(job->u.auth.nonce), data + hl, &dl, md,
	    NULL) != 1 ||
	    EVP_Digest(data, (size_t)hl * 2, digest, &dl, md, NULL) != 1)
		return CNIE_ERR_CRYPTO;
	if ((r = verify_pin(job, c)) != 0)
		return r;
	if (ki.type == CNIE_CARD_KEY_EC) {
		mech.type = CNIE_CARD_MECH_ECDSA; /* raw r || s */
	} else {
		mech.type = CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = CNIE_CARD_HASH_SHA256;
	}
	if ((r = cnie_card_sign(c, ki.id, ki.id_len, &mech, digest, dl, sig, &sig_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:s,s:o,s:s,s:s}", "unverifiedCertificate",
	    jb64(der, der_len), "algorithm", alg, "signature", jb64(sig, sig_len), "format",
	    "web-eid:1.0", "appVersion", APP_VERSION);
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}

static int
do_sign(cnied_job *job, cnie_card *c)
{
	cnied_req_sign *rq = &job->u.sign;
	cnie_card_key_info ki;
	cnie_card_mech mech = {0, CNIE_CARD_HASH_NONE, 0};
	const uint8_t *der;
	uint8_t sig[1024];
	char desc[768], hex[17];
	size_t der_len, sig_len = sizeof(sig);
	int r;

	if ((r = find_key(c, true, &ki)) != 0)
		return r;
	if ((r = key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	if (rq->cert_len != der_len || memcmp(rq->cert, der, der_len) != 0)
		return CNIED_ERR_CERT_MISMATCH;
	if (ki.type == CNIE_CARD_KEY_EC && rq->pss)
		return CNIED_ERR_BAD_ALG;
	cnie_hex(rq->hash, 8, hex);
	hex[16] = '\0';
	/* Consent per signature (DESIGN.md), naming the origin. */
	snprintf(desc, sizeof(desc),
	    "%s asks you to sign a document with your CNIE signature key.\n"
	    "Document hash (%s): %s...", job->origin, cnied_hash_name(rq->hash_fn), hex);
	if ((r = cnied_pinentry_confirm(w_cfg->pinentry, w_cfg->pin_timeout,
	    "CNIE signature", desc)) != 0)
		return r;
	if ((r = verify_pin(job, c)) != 0)
		return r;
	if (ki.type == CNIE_CARD_KEY_EC) {
		mech.type = CNIE_CARD_MECH_ECDSA;
	} else {
		mech.type = rq->pss ? CNIE_CARD_MECH_RSA_PSS : CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = card_hash(rq->hash_fn);
	}
	if ((r = cnie_card_sign(c, ki.id, ki.id_len, &mech, rq->hash, rq->hash_len, sig,
	    &sig_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:{s:s,s:s,s:s}}", "signature", jb64(sig, sig_len),
	    "signatureAlgorithm", "cryptoAlgorithm", ki.type == CNIE_CARD_KEY_EC ? "ECC" : "RSA",
	    "hashFunction", cnied_hash_name(rq->hash_fn), "paddingScheme",
	    ki.type == CNIE_CARD_KEY_EC ? "NONE" : rq->pss ? "PSS" : "PKCS1.5");
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}

static const char *
mrz_format(cnie_mrz_format f)
{
	return f == CNIE_MRZ_TD1 ? "TD1" : f == CNIE_MRZ_TD2 ? "TD2" : f == CNIE_MRZ_TD3 ? "TD3" :
	    "?";
}

static int
identity_fill(cnied_job *job, cnie_icao *icao, cnie_icao_files *f)
{
	unsigned fields = job->u.identity.fields;
	json_t *a = json_object();
	int r = 0;

	job->answer = a;
	if (a == NULL)
		return CNIE_ERR_NOMEM;
	if ((fields & CNIED_ID_MRZ) && f->dg[1] != NULL) {
		cnie_lds_dg1 *dg1 = NULL;
		if ((r = cnie_lds_dg1_parse(cnie_buf_ptr(f->dg[1]), cnie_buf_len(f->dg[1]), &dg1,
		    NULL)) != 0)
			return r;
		const cnie_mrz *m = &dg1->mrz;
		json_object_set_new(a, "mrz", json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s#,s:s,s:s,s:s,s:s,s:s}",
		    "format", mrz_format(m->format), "documentCode", m->document_code,
		    "issuingState", m->issuing_state, "documentNumber", m->document_number,
		    "optionalData", m->optional_data, "optionalData2", m->optional_data2,
		    "sex", &m->sex, (size_t)1, "birthDate", m->birth_date,
		    "expiryDate", m->expiry_date, "nationality", m->nationality,
		    "surname", m->primary_identifier, "givenNames", m->secondary_identifier));
		cnie_lds_dg1_free(&dg1);
	}
	if ((fields & CNIED_ID_NAMES) && f->dg[11] != NULL) {
		cnie_lds_dg11 *d = NULL;
		json_t *n, *other;
		size_t i;
		if ((r = cnie_lds_dg11_parse(cnie_buf_ptr(f->dg[11]), cnie_buf_len(f->dg[11]),
		    &d)) != 0)
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
	}
	if ((fields & CNIED_ID_PHOTO) && f->dg[2] != NULL) {
		cnie_lds_dg2 *d = NULL;
		if ((r = cnie_lds_dg2_parse(cnie_buf_ptr(f->dg[2]), cnie_buf_len(f->dg[2]), &d)) !=
		    0)
			return r;
		json_object_set_new(a, "photo", json_pack("{s:s,s:o}", "format",
		    d->format == CNIE_LDS_IMAGE_JPEG ? "jpeg" : "jp2", "data",
		    jb64(d->image, d->image_len)));
		cnie_lds_dg2_free(&d);
	}
	if (fields & CNIED_ID_RAW) {
		json_t *dgs = json_object(), *raw;
		int i;
		for (i = 1; i <= CNIE_LDS_MAX_DG; i++) {
			char k[4];
			if (f->dg[i] == NULL)
				continue;
			snprintf(k, sizeof(k), "%d", i);
			json_object_set_new(dgs, k, jb64(cnie_buf_ptr(f->dg[i]),
			    cnie_buf_len(f->dg[i])));
		}
		raw = json_pack("{s:o}", "dg", dgs);
		if (f->com != NULL)
			json_object_set_new(raw, "com", jb64(cnie_buf_ptr(f->com),
			    cnie_buf_len(f->com)));
		if (f->sod != NULL)
			json_object_set_new(raw, "sod", jb64(cnie_buf_ptr(f->sod),
			    cnie_buf_len(f->sod)));
		json_object_set_new(a, "raw", raw);
	}
	/* Active Authentication over the server's challenge (DG15), then Chip
	 * Authentication (DG14), which replaces the session: last. */
	if (job->u.identity.has_challenge && f->dg[15] != NULL) {
		cnie_buf *sig = cnie_buf_new();
		if (sig == NULL)
			return CNIE_ERR_NOMEM;
		r = cnie_icao_active_auth(icao, job->u.identity.challenge,
		    sizeof(job->u.identity.challenge), cnie_buf_ptr(f->dg[15]),
		    cnie_buf_len(f->dg[15]), sig);
		if (r == 0 || r == CNIE_ERR_VERIFY_FAILED)
			json_object_set_new(a, "activeAuth", json_pack("{s:o,s:b}", "signature",
			    jb64(cnie_buf_ptr(sig), cnie_buf_len(sig)), "verified", r == 0));
		cnie_buf_free(&sig);
		if (r != 0 && r != CNIE_ERR_VERIFY_FAILED)
			return r;
	}
	if (f->dg[14] != NULL) {
		r = cnie_icao_chip_auth(icao, cnie_buf_ptr(f->dg[14]), cnie_buf_len(f->dg[14]));
		json_object_set_new(a, "chipAuth", json_boolean(r == 0));
	}
	return 0;
}

/*
 * Reads what the fields need and nothing more (data minimisation): "raw"
 * takes every file; otherwise DG1 (mrz), DG11 (names), DG2 (photo), DG15
 * (with a challenge, for Active Authentication) and DG14 (Chip
 * Authentication) when the card has them.
 */
static int
read_files(cnied_job *job, cnie_icao *icao, cnie_icao_files *f)
{
	unsigned fields = job->u.identity.fields;
	int want[5], nwant = 0, i, r;

	if (fields & CNIED_ID_RAW)
		return cnie_icao_read_all(icao, f, NULL, NULL);
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

static int
do_identity(cnied_job *job)
{
	static const char *const names[] = {"MRZ data", "names", "photo",
	    "raw data groups and EF.SOD"};
	cnie_transport *t = NULL;
	cnie_icao *icao = NULL;
	cnie_icao_files files;
	cnie_icao_secret sec;
	char can[CNIED_SECRET_MAX], reader[128], desc[768], list[256] = "";
	int r, i;

	memset(&files, 0, sizeof(files));
	for (i = 0; i < 4; i++) {
		if (!(job->u.identity.fields & (1u << i)))
			continue;
		if (list[0] != '\0')
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	snprintf(desc, sizeof(desc), "%s asks to read your identity from your CNIE card: %s%s.",
	    job->origin, list, job->u.identity.has_challenge ? " (and a proof that the card is "
	    "genuine)" : "");
	if ((r = cnied_pinentry_confirm(w_cfg->pinentry, w_cfg->pin_timeout,
	    "CNIE identity", desc)) != 0)
		return r;
	/* The ICAO application needs PACE with the CAN on both interfaces
	 * (card-profile.md 2: contact pace-or-bac, contactless pace). */
	if (w_cfg->refcard_dir != NULL) {
		cnie_card_free(&ref_card);
		r = cnie_refcard_open(w_cfg->refcard_dir, ref_state, false, &t);
	} else {
		if ((r = pick_reader(job->u.identity.reader, reader, sizeof(reader))) == 0)
			r = cnie_pcsc_connect(w_pcsc, reader, &t);
	}
	if (r != 0)
		return r;
	if ((r = ask_can(job, can, sizeof(can))) != 0)
		goto out;
	sec.type = CNIE_ICAO_CAN;
	sec.value = can;
	sec.flags = 0;
	r = cnie_icao_open(t, &sec, &icao);
	OPENSSL_cleanse(can, sizeof(can));
	if (r != 0)
		goto out;
	if ((r = read_files(job, icao, &files)) != 0)
		goto out;
	r = identity_fill(job, icao, &files);
out:
	cnie_icao_files_clear(&files);
	cnie_icao_free(&icao);
	cnie_transport_free(&t);
	return r;
}

static void
run_job(cnied_job *job)
{
	cnie_card *c = NULL;
	const char *want = "";
	char reader[128];
	int r;

	job->tries_left = -1;
	if (job->op == CNIED_OP_IDENTITY) {
		r = do_identity(job);
		goto out;
	}
	want = job->op == CNIED_OP_CERT ? job->u.cert.reader : job->op == CNIED_OP_AUTH ?
	    job->u.auth.reader : job->u.sign.reader;
	if ((r = card_open(job, want, &c, reader, sizeof(reader))) != 0)
		goto out;
	switch (job->op) {
	case CNIED_OP_CERT:
		r = do_cert(job, c);
		break;
	case CNIED_OP_AUTH:
		r = do_auth(job, c);
		break;
	case CNIED_OP_SIGN:
		r = do_sign(job, c);
		break;
	default:
		r = CNIE_ERR_INTERNAL;
	}
	/* The reference card keeps its session: a card reset by another
	 * program (CNIE_ERR_LOGIN_LOST) is simply the next job's fresh start. */
	card_release(&c, r);
out:
	if (r != 0) {
		json_decref(job->answer);
		job->answer = NULL;
	}
	job->err = r;
}

static void *
worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		cnied_job *job;
		pthread_mutex_lock(&q_lock);
		while (q_head == NULL && !q_stop)
			pthread_cond_wait(&q_cond, &q_lock);
		if (q_stop) {
			pthread_mutex_unlock(&q_lock);
			break;
		}
		job = q_head;
		q_head = job->next;
		if (q_head == NULL)
			q_tail = NULL;
		job->started = true;
		pthread_mutex_unlock(&q_lock);
		run_job(job);
		if (write(done_pipe[1], &job, sizeof(job)) != (ssize_t)sizeof(job))
			cnie_log_error("cannot hand a finished job back: %s", strerror(errno));
	}
	cnie_card_free(&ref_card);
	cnie_pcsc_free(&w_pcsc);
	return NULL;
}

int
cnied_worker_start(struct event_base *base, const cnied_config *cfg)
{
	w_base = base;
	w_cfg = cfg;
	snprintf(ref_state, sizeof(ref_state), "%s/refcard-state.json", cfg->state_dir);
	if (pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	/* The worker's write end blocks (never drops a job); the loop's read end does not. */
	(void)fcntl(done_pipe[1], F_SETFL, 0);
	done_ev = event_new(base, done_pipe[0], EV_READ | EV_PERSIST, done_cb, NULL);
	if (done_ev == NULL || event_add(done_ev, NULL) != 0)
		return -1;
	if (pthread_create(&w_thread, NULL, worker_main, NULL) != 0)
		return -1;
	w_running = true;
	return 0;
}

void
cnied_worker_stop(void)
{
	if (w_running) {
		pthread_mutex_lock(&q_lock);
		q_stop = true;
		pthread_cond_signal(&q_cond);
		pthread_mutex_unlock(&q_lock);
		pthread_join(w_thread, NULL);
		w_running = false;
	}
	while (q_head != NULL) {
		cnied_job *j = q_head;
		q_head = j->next;
		cnied_job_free(j);
	}
	/* Jobs finished after the loop stopped: their requests die with evhttp. */
	if (done_pipe[0] >= 0) {
		cnied_job *j;
		while (read(done_pipe[0], &j, sizeof(j)) == (ssize_t)sizeof(j))
			cnied_job_free(j);
	}
	if (done_ev != NULL)
		event_free(done_ev);
	done_ev = NULL;
	if (done_pipe[0] >= 0)
		close(done_pipe[0]);
	if (done_pipe[1] >= 0)
		close(done_pipe[1]);
	done_pipe[0] = done_pipe[1] = -1;
}
