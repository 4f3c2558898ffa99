/*
 * POST /v1/sign: a signature over the page's hash with the signature key
 * (non-repudiation), after a consent dialog naming the origin, showing the
 * portal's description of the document (when sent, marked as the site's
 * words) and a short fingerprint of the hash, then the PIN: consent is
 * asked for every signature.
 */
#include <stdio.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "ops.h"

/*
 * The short fingerprint of the hash: its first 4 bytes as 8 upper-case hex
 * digits in two groups ("FEA0 A7C9"), what a portal can show beside the
 * document for the holder to compare.
 */
static void
sign_fingerprint(const uint8_t *hash, size_t len, char *out, size_t max)
{
	char hex[9];

	if (len < 4 || max < 10) {
		if (max > 0)
			out[0] = '\0';
		return;
	}
	snprintf(hex, sizeof(hex), "%02X%02X%02X%02X", hash[0], hash[1], hash[2], hash[3]);
	snprintf(out, max, "%.4s %.4s", hex, hex + 4);
}

/*
 * The consent text: the origin asks, the portal's description (when sent)
 * set apart as the site's own words, the fingerprint.  Whole sentences,
 * one msgid each.  The description sits in a first-strong isolate
 * (U+2068 .. U+2069): an Arabic title in a French sentence, or the reverse,
 * keeps its own direction without turning the text around it
 * (description.c refuses bidi controls inside it).
 */
static void
consent_text(char *out, size_t max, const cnied_job *job, const char *hash_name)
{
	const cnied_req_sign *rq = &job->u.sign;
	char asks[512], said[600] = "", print[128], fp[16];

	sign_fingerprint(rq->hash, rq->hash_len, fp, sizeof(fp));
	snprintf(asks, sizeof(asks), _("%s asks you to sign a document with your CNIE signature "
	    "key."), job->origin);
	if (rq->description[0] != '\0') {
		char isolated[CNIED_DESC_MAX_BYTES + 8];

		snprintf(isolated, sizeof(isolated), "\u2068%s\u2069", rq->description);
		snprintf(said, sizeof(said), _("The site describes the document as: \"%s\" (the "
		    "site's own words)."), isolated);
	}
	snprintf(print, sizeof(print), _("Document fingerprint (%s): %s"), hash_name, fp);
	snprintf(out, max, "%s\n%s%s%s", asks, said, said[0] != '\0' ? "\n" : "", print);
}

int
cnied_op_sign(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader)
{
	cnied_req_sign *rq = &job->u.sign;
	const char *hash_name = cnie_hash_by_id(rq->hash_fn)->name; /* parsed: in the table */
	cnie_card_key_info ki;
	cnie_card_mech mech = {0, CNIE_CARD_HASH_NONE, 0};
	const uint8_t *der;
	uint8_t sig[1024];
	char desc[1024];
	cnie_pinentry_text t = {_("CNIE signature"), desc, NULL, _("Allow"), _("Deny"), NULL};
	size_t der_len, sig_len = sizeof(sig);
	int r;

	if ((r = cnied_find_key(c, true, &ki)) != 0)
		return r;
	if ((r = cnied_key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	if (rq->cert_len != der_len || memcmp(rq->cert, der, der_len) != 0)
		return CNIED_ERR_CERT_MISMATCH;
	if (ki.type == CNIE_CARD_KEY_EC && rq->pss)
		return CNIED_ERR_BAD_ALG;
	/* Kiosk mode: consent was given on the kiosk page, no text to build. */
	if (!cnied_kiosk_consent(w->cfg, job->origin, "sign")) {
		consent_text(desc, sizeof(desc), job, hash_name);
		if ((r = cnied_pinentry_confirm(w->cfg, &t)) != 0)
			return r;
	}
	if ((r = cnied_verify_pin(w, job, c, reader)) != 0)
		return r;
	if (ki.type == CNIE_CARD_KEY_EC) {
		mech.type = CNIE_CARD_MECH_ECDSA;
	} else {
		mech.type = rq->pss ? CNIE_CARD_MECH_RSA_PSS : CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = rq->hash_fn;
	}
	if ((r = cnie_card_sign(c, ki.id, ki.id_len, &mech, rq->hash, rq->hash_len, sig,
	    &sig_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:{s:s,s:s,s:s}}", "signature", cnied_jb64(sig, sig_len),
	    "signatureAlgorithm", "cryptoAlgorithm", ki.type == CNIE_CARD_KEY_EC ? "ECC" : "RSA",
	    "hashFunction", hash_name, "paddingScheme",
	    ki.type == CNIE_CARD_KEY_EC ? "NONE" : rq->pss ? "PSS" : "PKCS1.5");
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}
