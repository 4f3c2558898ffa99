/*
 * POST /v1/authenticate: a Web eID authentication token ("web-eid:1.0").
 * The card signs H(origin) || H(nonce) with the authentication key, after
 * the PIN; the origin is the page's (checked against the allowlist), never
 * something the page could choose.
 */
#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/webeid.h>

#include "ops.h"

#define APP_VERSION "https://github.com/cnie/cnie-middleware/releases/tag/v" CNIE_VERSION

int
cnied_op_authenticate(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader)
{
	cnie_card_key_info ki;
	cnie_card_mech mech = {0, CNIE_CARD_HASH_NONE, 0};
	const uint8_t *der;
	const char *alg;
	cnie_card_hash hash;
	uint8_t data[CNIE_WEBEID_SIGNED_DATA_MAX], digest[CNIE_HASH_MAX_LEN], sig[1024];
	size_t der_len, sig_len = sizeof(sig), data_len, dl;
	int r;

	if ((r = cnied_find_key(c, false, &ki)) != 0)
		return r;
	if ((r = cnied_key_cert(job, c, &ki, &der, &der_len)) != 0)
		return r;
	/* The algorithm and the signed data as the verifier sees them (webeid.h):
	 * H(origin) || H(nonce), which the signature algorithm hashes again. */
	alg = cnie_webeid_auth_algorithm(ki.type == CNIE_CARD_KEY_EC, ki.bits, &hash);
	if ((r = cnie_webeid_signed_data(hash, job->origin, job->u.auth.nonce, data,
	    sizeof(data), &data_len)) != 0 ||
	    (r = cnie_hash_digest(hash, data, data_len, digest, sizeof(digest), &dl)) != 0)
		return r;
	if ((r = cnied_verify_pin(w, job, c, reader)) != 0)
		return r;
	if (ki.type == CNIE_CARD_KEY_EC) {
		mech.type = CNIE_CARD_MECH_ECDSA; /* raw r || s */
	} else {
		mech.type = CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = hash; /* RS256 */
	}
	if ((r = cnie_card_sign(c, ki.id, ki.id_len, &mech, digest, dl, sig, &sig_len)) != 0)
		return r;
	job->answer = json_pack("{s:o,s:s,s:o,s:s,s:s}", "unverifiedCertificate",
	    cnied_jb64(der, der_len), "algorithm", alg, "signature", cnied_jb64(sig, sig_len),
	    "format", "web-eid:1.0", "appVersion", APP_VERSION);
	return job->answer != NULL ? 0 : CNIE_ERR_NOMEM;
}
