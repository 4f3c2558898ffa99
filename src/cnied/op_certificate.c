/*
 * POST /v1/certificate: the authentication or signing certificate and the
 * algorithms its key signs with (Web eID's supportedSignatureAlgorithms).
 * No PIN.  But a certificate names the holder and carries the national ID
 * number: the first time an origin asks, a consent dialog naming it must be
 * allowed (remembered until cnied stops; docs/bridge-api.md "certificate").
 * The Web eID signing flow asks it once, then signs with its own consent.
 */
#include <stdio.h>
#include <string.h>

#include <cnie/error.h>

#include "ops.h"

static json_t *
algorithms(const cnie_card_key_info *ki)
{
	json_t *a = json_array();
	cnie_card_hash h;
	size_t i;

	/* The hashes /v1/sign accepts (request.c), named as the hash table names them. */
	for (i = 0; (h = cnied_sign_hash_at(i)) != CNIE_CARD_HASH_NONE; i++) {
		const char *name = cnie_hash_by_id(h)->name;
		if (ki->type == CNIE_CARD_KEY_EC) {
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "ECC", "hashFunction", name, "paddingScheme", "NONE"));
		} else {
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "RSA", "hashFunction", name, "paddingScheme", "PKCS1.5"));
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "cryptoAlgorithm",
			    "RSA", "hashFunction", name, "paddingScheme", "PSS"));
		}
	}
	return a;
}

/* 0 when the holder allowed job->origin to read certificates (asked once). */
static int
consent(cnied_card_ctx *w, const cnied_job *job)
{
	char desc[768];
	cnie_pinentry_text t = {_("CNIE card"), desc, NULL, _("Allow"), _("Deny"), NULL};
	size_t i;
	int r;

	if (cnied_kiosk_consent(w->cfg, job->origin, "certificate"))
		return 0;
	for (i = 0; i < w->nconsented; i++)
		if (strcmp(w->consented[i], job->origin) == 0)
			return 0;
	snprintf(desc, sizeof(desc), _("%s wants to read the certificates of your CNIE card. "
	    "They show your name and your national ID number.\nAllow this site until the bridge "
	    "stops?"), job->origin);
	if ((r = cnied_pinentry_confirm(w->cfg, &t)) != 0)
		return r;
	if (w->nconsented < CNIED_MAX_ORIGINS)
		snprintf(w->consented[w->nconsented++], sizeof(w->consented[0]), "%s",
		    job->origin);
	return 0;
}

int
cnied_op_certificate(cnied_card_ctx *w, cnied_job *job, cnie_card *c)
{
	cnie_card_key_info ki;
	const uint8_t *der;
	size_t der_len;
	int r;

	if ((r = consent(w, job)) != 0)
		return r;
	if ((r = cnied_find_key(c, job->u.cert.sign, &ki)) != 0)
		return r;
	if ((r = cnied_key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:o}", "certificate", cnied_jb64(der, der_len),
	    "supportedSignatureAlgorithms", algorithms(&ki));
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}
