/*
 * POST /v1/sign: a signature over the page's hash with the signature key
 * (non-repudiation), after a consent dialog naming the origin and the
 * start of the hash, then the PIN: consent is asked for every signature.
 */
#include <stdio.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "ops.h"

int
cnied_op_sign(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader)
{
	cnied_req_sign *rq = &job->u.sign;
	const char *hash_name = cnie_hash_by_id(rq->hash_fn)->name; /* parsed: in the table */
	cnie_card_key_info ki;
	cnie_card_mech mech = {0, CNIE_CARD_HASH_NONE, 0};
	const uint8_t *der;
	uint8_t sig[1024];
	char desc[768], hex[17];
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
	cnie_hex(rq->hash, 8, hex);
	hex[16] = '\0';
	snprintf(desc, sizeof(desc),
	    "%s asks you to sign a document with your CNIE signature key.\n"
	    "Document hash (%s): %s...", job->origin, hash_name, hex);
	if ((r = cnied_pinentry_confirm(w->cfg->pinentry, w->cfg->pin_timeout,
	    "CNIE signature", desc)) != 0)
		return r;
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
