/*
 * Emulator, ICAO side: the card's half of BAC (9303-11 4.3), PACE (4.4,
 * via OpenPACE), Chip Authentication (6.2) and Active Authentication (6.1).
 * See emu_auth.h for the status words and the algorithm choices.
 *
 * Every command byte is read through cnie_cur/cnie_tlv.  The card's
 * randomness comes from cfg->rng; OpenPACE's own draws go to OpenSSL's RAND
 * unless the deterministic test mode routes them to cfg->rng as well.
 */
/* RAND_METHOD is deprecated in OpenSSL 3.0 but is the only hook into the
 * draws OpenPACE makes internally; used by the test-only mode. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <eac/ca.h>
#include <eac/eac.h>
#include <eac/objects.h>
#include <eac/pace.h>

#include <cnie/bac.h>
#include <cnie/error.h>
#include <cnie/lds.h>
#include <cnie/log.h>
#include <cnie/pace_internal.h>
#include <cnie/tlv.h>

#include "emu_auth.h"

#define SW_OK 0x9000
#define SW_AUTH_FAILED 0x6300
#define SW_WRONG_LENGTH 0x6700
#define SW_SECURITY 0x6982
#define SW_CONDITIONS 0x6985
#define SW_WRONG_DATA 0x6A80
#define SW_REF_NOT_FOUND 0x6A88

enum auth_state {
	ST_IDLE = 0,
	ST_PACE_SET, /* MSE:SET AT for PACE accepted; next: GA step 1 */
	ST_PACE_1,   /* nonce sent; next: mapping */
	ST_PACE_2,   /* mapping done; next: key agreement */
	ST_PACE_3,   /* keys derived; next: tokens */
	ST_CA_SET,   /* MSE:SET AT for CA accepted; next: GA */
};

struct emu_auth {
	emu_rng_fn rng;
	void *rng_arg;
	char *can;
	char mrz_info[CNIE_MRZ_INFO_MAX + 1];
	bool have_mrz;
	uint8_t *card_access;
	size_t card_access_len;
	uint8_t *dg14;
	size_t dg14_len;
	EVP_PKEY *aa_key;
	EVP_PKEY *ca_key;
	bool deterministic;
	uint16_t wrong_key_sw; /* answer to a wrong BAC/PACE key */
	cnie_card_hash aa_hash_rsa, aa_hash_ec;
	bool aa_explicit_trailer;
	int cam_fault;

	enum auth_state state;
	bool challenge_valid;
	uint8_t rnd_ic[CNIE_BAC_RND_LEN];
	EAC_CTX *ctx; /* PACE or CA run in progress */
	PACE_SEC *sec;
	BUF_MEM *term_map;
	BUF_MEM *term_eph;
	int ca_nid;
	bool cam; /* the PACE run in progress is PACE-CAM */
	bool im;  /* ... or PACE-IM */

	cnie_sm *sm;	  /* protects the next command */
	cnie_sm *retired; /* replaced during the last call, freed on the next */
	bool pace_done;
};

/* ---- helpers --------------------------------------------------------- */

static void *
dup_bytes(const void *p, size_t n)
{
	void *d;

	if (p == NULL || n == 0 || (d = malloc(n)) == NULL)
		return NULL;
	memcpy(d, p, n);
	return d;
}

/* NID of an OID given as contents octets (no tag/length). */
static int
oid_nid(const uint8_t *oid, size_t n)
{
	uint8_t der[2 + 127];
	const unsigned char *q = der;
	ASN1_OBJECT *obj = NULL;
	int nid;

	if (n == 0 || n > 127)
		return NID_undef;
	der[0] = 0x06;
	der[1] = (uint8_t)n;
	memcpy(der + 2, oid, n);
	if (d2i_ASN1_OBJECT(&obj, &q, (long)(n + 2)) == NULL)
		return NID_undef;
	nid = OBJ_obj2nid(obj);
	ASN1_OBJECT_free(obj);
	return nid;
}

/* Replaces the session; the old one stays valid until the next call. */
static void
install_sm(emu_auth *a, cnie_sm *sm)
{
	cnie_sm_free(&a->retired);
	a->retired = a->sm;
	a->sm = sm;
}

static void
run_reset(emu_auth *a)
{
	EAC_CTX_clear_free(a->ctx);
	a->ctx = NULL;
	PACE_SEC_clear_free(a->sec);
	a->sec = NULL;
	BUF_MEM_clear_free(a->term_map);
	a->term_map = NULL;
	BUF_MEM_clear_free(a->term_eph);
	a->term_eph = NULL;
	a->cam = false;
	a->im = false;
	a->state = ST_IDLE;
	/* A failed step leaves OpenSSL errors behind: not the next caller's. */
	ERR_clear_error();
}

/* ---- deterministic RAND (test mode) ----------------------------------- */

static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t det_bytes[80];
static size_t det_len;
static unsigned det_uses;

/*
 * Every draw of at most det_len bytes returns det_bytes' prefix: the first
 * draw of a step is the secret (nonce or private key); the others in the
 * same step (EC ladder coordinate blinding) accept any value below the
 * field prime.  Bounded so that a rejection loop falls back to the DRBG.
 */
static int
det_rand_bytes(unsigned char *buf, int num)
{
	if (num < 0)
		return 0;
	if ((size_t)num <= det_len && det_uses < 32) {
		det_uses++;
		memcpy(buf, det_bytes, (size_t)num);
		return 1;
	}
	return EVP_RAND_generate(RAND_get0_private(NULL), buf, (size_t)num, 0, 0, NULL, 0) == 1;
}

static int
det_rand_status(void)
{
	return 1;
}

static const RAND_METHOD det_method = {
	.bytes = det_rand_bytes,
	.pseudorand = det_rand_bytes,
	.status = det_rand_status,
};

typedef struct det_guard {
	const RAND_METHOD *prev;
	bool on;
} det_guard;

/* Starts a step whose secret is n bytes (0: nothing to pin). */
static int
det_begin(emu_auth *a, size_t n, det_guard *g)
{
	int r;

	g->on = false;
	if (!a->deterministic || n == 0 || n > sizeof(det_bytes))
		return 0;
	(void)pthread_mutex_lock(&det_lock);
	if ((r = a->rng(a->rng_arg, det_bytes, n)) != 0) {
		(void)pthread_mutex_unlock(&det_lock);
		return r;
	}
	det_len = n;
	det_uses = 0;
	g->prev = RAND_get_rand_method();
	RAND_set_rand_method(&det_method);
	g->on = true;
	return 0;
}

static void
det_end(det_guard *g)
{
	if (!g->on)
		return;
	RAND_set_rand_method(g->prev);
	OPENSSL_cleanse(det_bytes, sizeof(det_bytes));
	det_len = 0;
	g->on = false;
	(void)pthread_mutex_unlock(&det_lock);
}

/* Size of a private key draw for the PACE domain parameters (EC only). */
static size_t
key_draw_len(const EAC_CTX *ctx)
{
	if (ctx->pace_ctx->static_key == NULL ||
	    EVP_PKEY_get_base_id(ctx->pace_ctx->static_key) != EVP_PKEY_EC)
		return 0;
	return (size_t)(EVP_PKEY_get_bits(ctx->pace_ctx->static_key) + 7) / 8;
}

/* ---- lifecycle --------------------------------------------------------- */

int
emu_auth_new(const emu_auth_cfg *cfg, emu_auth **out)
{
	emu_auth *a = NULL;
	int r = CNIE_ERR_NOMEM;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (cfg == NULL || cfg->rng == NULL)
		return CNIE_ERR_INVALID_ARG;
	cnie_pace_lib_init();
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return CNIE_ERR_NOMEM;
	a->rng = cfg->rng;
	a->rng_arg = cfg->rng_arg;
	a->wrong_key_sw = cfg->wrong_key_sw != 0 ? cfg->wrong_key_sw : SW_AUTH_FAILED;
	a->aa_key = cfg->aa_key;
	a->ca_key = cfg->ca_key;
	a->aa_explicit_trailer = cfg->aa_explicit_trailer;
	a->cam_fault = (int)cfg->cam_fault;
	a->aa_hash_rsa = cfg->aa_hash != CNIE_CARD_HASH_NONE ? cfg->aa_hash : CNIE_CARD_HASH_SHA1;
	a->aa_hash_ec = cfg->aa_hash;
	if (a->aa_hash_ec == CNIE_CARD_HASH_NONE && (cfg->dg14 == NULL ||
	    cnie_lds_dg14_aa_hash(cfg->dg14, cfg->dg14_len, &a->aa_hash_ec) != 0))
		a->aa_hash_ec = CNIE_CARD_HASH_SHA256;
	if (cfg->can != NULL && (a->can = strdup(cfg->can)) == NULL)
		goto out;
	if (cfg->mrz != NULL) {
		if ((r = cnie_mrz_info_from_mrz(cfg->mrz, a->mrz_info, sizeof(a->mrz_info))) != 0)
			goto out;
		a->have_mrz = true;
	}
	if (cfg->card_access != NULL && cfg->card_access_len > 0) {
		if ((a->card_access = dup_bytes(cfg->card_access, cfg->card_access_len)) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		a->card_access_len = cfg->card_access_len;
	}
	if (cfg->dg14 != NULL && cfg->dg14_len > 0) {
		if ((a->dg14 = dup_bytes(cfg->dg14, cfg->dg14_len)) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		a->dg14_len = cfg->dg14_len;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	emu_auth_free(&a);
	return r;
}

void
emu_auth_free(emu_auth **ap)
{
	emu_auth *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	emu_auth_reset(a);
	if (a->can != NULL)
		cnie_freezero(a->can, strlen(a->can));
	free(a->card_access);
	free(a->dg14);
	cnie_freezero(a, sizeof(*a));
	*ap = NULL;
}

void
emu_auth_reset(emu_auth *a)
{
	if (a == NULL)
		return;
	run_reset(a);
	cnie_sm_free(&a->sm);
	cnie_sm_free(&a->retired);
	a->pace_done = false;
	a->challenge_valid = false;
	cnie_wipe(a->rnd_ic, sizeof(a->rnd_ic));
}

cnie_sm *
emu_auth_sm(emu_auth *a)
{
	return a == NULL ? NULL : a->sm;
}

bool
emu_auth_pace_done(const emu_auth *a)
{
	return a != NULL && a->sm != NULL && a->pace_done;
}

void
emu_auth_drop_sm(emu_auth *a)
{
	if (a == NULL)
		return;
	cnie_sm_free(&a->sm);
	a->pace_done = false;
}

void
emu_auth_set_deterministic(emu_auth *a, bool on)
{
	if (a != NULL)
		a->deterministic = on;
}

/* ---- GET CHALLENGE / EXTERNAL AUTHENTICATE (BAC) ------------------------- */

static int
get_challenge(emu_auth *a, const cnie_apdu *cmd, cnie_buf *resp, uint16_t *sw)
{
	int r;

	if (cmd->nc != 0 || cmd->ne != CNIE_BAC_RND_LEN || cmd->p1 != 0 || cmd->p2 != 0) {
		*sw = SW_WRONG_LENGTH;
		return 1;
	}
	if ((r = a->rng(a->rng_arg, a->rnd_ic, sizeof(a->rnd_ic))) != 0)
		return r;
	if ((r = cnie_buf_put(resp, a->rnd_ic, sizeof(a->rnd_ic))) != 0)
		return r;
	a->challenge_valid = true;
	*sw = SW_OK;
	return 1;
}

static int
external_authenticate(emu_auth *a, const cnie_apdu *cmd, cnie_buf *resp, uint16_t *sw)
{
	cnie_bac *bac = NULL;
	cnie_sm *sm = NULL;
	uint8_t k_ic[CNIE_BAC_K_LEN], out[CNIE_BAC_AUTH_LEN];
	int r;

	if (!a->have_mrz || !a->challenge_valid) {
		*sw = SW_CONDITIONS;
		return 1;
	}
	if (cmd->nc != CNIE_BAC_AUTH_LEN) {
		*sw = SW_WRONG_LENGTH;
		return 1;
	}
	/* One try per challenge. */
	a->challenge_valid = false;
	if ((r = a->rng(a->rng_arg, k_ic, sizeof(k_ic))) != 0 ||
	    (r = cnie_bac_new(a->mrz_info, &bac)) != 0)
		goto out;
	r = cnie_bac_card_auth(bac, a->rnd_ic, cmd->data, cmd->nc, k_ic, out, &sm);
	if (r == CNIE_ERR_BAC) {
		*sw = a->wrong_key_sw;
		r = 1;
		goto out;
	}
	if (r != 0 || (r = cnie_buf_put(resp, out, sizeof(out))) != 0)
		goto out;
	run_reset(a);
	install_sm(a, sm);
	sm = NULL;
	a->pace_done = false;
	*sw = SW_OK;
	r = 1;
out:
	cnie_sm_free(&sm);
	cnie_bac_free(&bac);
	cnie_wipe(k_ic, sizeof(k_ic));
	cnie_wipe(out, sizeof(out));
	return r;
}

/* ---- MSE:SET AT -------------------------------------------------------- */

/*
 * The card's side of several PACEInfos (9303-11 9.2.1): the one the
 * terminal names by OID (80) and parameterId (84, needed only when the
 * OID is offered with several), in *infos.  NULL when EF.CardAccess offers
 * no such PACEInfo.
 */
static const cnie_pace_info *
pace_offer(const emu_auth *a, const cnie_tlv *oid, const uint8_t *d, size_t n,
    cnie_pace_infos *infos)
{
	const cnie_pace_info *hit = NULL;
	cnie_tlv id, seq, po;
	cnie_cur c;
	long want = -1;
	size_t i, k;

	if (cnie_pace_infos_parse(a->card_access, a->card_access_len, infos) != 0)
		return NULL;
	if (cnie_tlv_find(d, n, 0x84, &id) == 0) {
		if (id.len == 0 || id.len > 3)
			return NULL;
		want = 0;
		for (k = 0; k < id.len; k++)
			want = (want << 8) | id.value[k];
	}
	for (i = 0; i < infos->n; i++) {
		const cnie_pace_info *pi = &infos->info[i];

		/* The info's first element is its OID: 30 L { 06 L oid ... }. */
		if (cnie_tlv_parse_one(pi->der, pi->der_len, &seq) != 0)
			continue;
		cnie_cur_init(&c, seq.value, seq.len);
		if (cnie_tlv_next(&c, &po) != 0 || po.len != oid->len ||
		    memcmp(po.value, oid->value, oid->len) != 0)
			continue;
		if (want >= 0 && pi->param_id != want)
			continue;
		if (hit != NULL)
			return NULL; /* ambiguous without parameterId */
		hit = pi;
	}
	return hit;
}

static int curve_id(EVP_PKEY *key);

static int
mse_pace(emu_auth *a, const uint8_t *d, size_t n, uint16_t *sw)
{
	cnie_tlv oid, ref, id;
	cnie_pace_infos *infos = NULL;
	const cnie_pace_info *hit;
	uint8_t h[20];
	int nid;
	bool ok;

	run_reset(a);
	if (cnie_tlv_validate(d, n, 2) != 0 || cnie_tlv_find(d, n, 0x80, &oid) != 0 ||
	    cnie_tlv_find(d, n, 0x83, &ref) != 0 || ref.len != 1) {
		*sw = SW_WRONG_DATA;
		return 1;
	}
	if (a->card_access == NULL) {
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	if ((a->ctx = EAC_CTX_new()) == NULL || (infos = calloc(1, sizeof(*infos))) == NULL) {
		free(infos);
		return CNIE_ERR_NOMEM;
	}
	/*
	 * PACE-CAM (9303-11 4.4.3.5) needs the chip's static Chip
	 * Authentication key on the PACE domain parameters; a chip without one
	 * could not offer it.
	 */
	hit = pace_offer(a, &oid, d, n, infos);
	ok = hit != NULL && cnie_pace_ctx_init(a->ctx, infos, hit) == 0 &&
	    (hit->mapping != CNIE_PACE_CAM ||
		(a->ca_key != NULL && curve_id(a->ca_key) == a->ctx->pace_ctx->id));
	a->cam = ok && hit->mapping == CNIE_PACE_CAM;
	a->im = ok && hit->mapping == CNIE_PACE_IM;
	free(infos);
	if (!ok) {
		ERR_clear_error();
		run_reset(a);
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	/* The OID must be the one EF.CardAccess offers (and its parameterId). */
	nid = oid_nid(oid.value, oid.len);
	if (nid == NID_undef || nid != a->ctx->pace_ctx->protocol) {
		run_reset(a);
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	if (cnie_tlv_find(d, n, 0x84, &id) == 0) {
		uint32_t v = 0;
		size_t i;

		for (i = 0; i < id.len && i < 4; i++)
			v = (v << 8) | id.value[i];
		if (id.len == 0 || id.len > 4 || (int)v != a->ctx->pace_ctx->id) {
			run_reset(a);
			*sw = SW_REF_NOT_FOUND;
			return 1;
		}
	}
	switch (ref.value[0]) {
	case 0x01: /* MRZ: SHA-1(MRZ_information) as the raw secret */
		if (!a->have_mrz)
			break;
		if (EVP_Digest(a->mrz_info, strlen(a->mrz_info), h, NULL, EVP_sha1(), NULL) != 1) {
			run_reset(a);
			return CNIE_ERR_CRYPTO;
		}
		a->sec = PACE_SEC_new((const char *)h, sizeof(h), PACE_RAW);
		OPENSSL_cleanse(h, sizeof(h));
		break;
	case 0x02:
		if (a->can != NULL)
			a->sec = PACE_SEC_new(a->can, strlen(a->can), PACE_CAN);
		break;
	default:
		break;
	}
	if (a->sec == NULL) {
		run_reset(a);
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	a->state = ST_PACE_SET;
	*sw = SW_OK;
	return 1;
}

/* The key's standardized domain parameter id (TR-03110-3 Table 4), -1 if none. */
static int
curve_id(EVP_PKEY *key)
{
	static const struct {
		const char *name;
		int id;
	} ids[] = {
		{ "prime192v1", 8 }, { "brainpoolP192r1", 9 }, { "secp224r1", 10 },
		{ "brainpoolP224r1", 11 }, { "prime256v1", 12 }, { "brainpoolP256r1", 13 },
		{ "brainpoolP320r1", 14 }, { "secp384r1", 15 }, { "brainpoolP384r1", 16 },
		{ "brainpoolP512r1", 17 }, { "secp521r1", 18 },
	};
	char name[64];
	size_t i, len = 0;
	BIGNUM *q = NULL;
	int qbits;

	/* DH: the standardized groups 0-2 (RFC 5114 2.1-2.3), told by p and q. */
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_DH || EVP_PKEY_get_base_id(key) == EVP_PKEY_DHX) {
		if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_FFC_Q, &q) != 1)
			return -1;
		qbits = BN_num_bits(q);
		BN_free(q);
		if (EVP_PKEY_get_bits(key) == 1024 && qbits == 160)
			return 0;
		if (EVP_PKEY_get_bits(key) == 2048 && qbits == 224)
			return 1;
		if (EVP_PKEY_get_bits(key) == 2048 && qbits == 256)
			return 2;
		return -1;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
		&len) != 1)
		return -1;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(name, ids[i].name) == 0)
			return ids[i].id;
	return -1;
}

/* Is oid[0..n) the OID of a ChipAuthenticationInfo in DG14? */
static bool
dg14_has_ca_oid(const emu_auth *a, const uint8_t *oid, size_t n)
{
	cnie_tlv dg, set, seq, o;
	cnie_cur c, s;

	if (a->dg14 == NULL || cnie_tlv_parse_one(a->dg14, a->dg14_len, &dg) != 0 ||
	    dg.tag != 0x6E || cnie_tlv_parse_one(dg.value, dg.len, &set) != 0 || set.tag != 0x31)
		return false;
	cnie_cur_init(&c, set.value, set.len);
	while (cnie_cur_left(&c) > 0) {
		if (cnie_tlv_next(&c, &seq) != 0)
			return false;
		if (seq.tag != 0x30)
			continue;
		cnie_cur_init(&s, seq.value, seq.len);
		if (cnie_tlv_next(&s, &o) != 0 || o.tag != 0x06)
			continue;
		if (o.len == n && memcmp(o.value, oid, n) == 0)
			return true;
	}
	return false;
}

static int
mse_ca(emu_auth *a, const uint8_t *d, size_t n, uint16_t *sw)
{
	cnie_tlv oid;
	int nid, cid;

	run_reset(a);
	if (a->sm == NULL) {
		/* CA runs inside the BAC/PACE channel (9303-11 6.2). */
		*sw = SW_SECURITY;
		return 1;
	}
	if (cnie_tlv_validate(d, n, 2) != 0 || cnie_tlv_find(d, n, 0x80, &oid) != 0) {
		*sw = SW_WRONG_DATA;
		return 1;
	}
	nid = oid_nid(oid.value, oid.len);
	if (a->ca_key == NULL || !dg14_has_ca_oid(a, oid.value, oid.len) ||
	    (nid != NID_id_CA_ECDH_3DES_CBC_CBC && nid != NID_id_CA_ECDH_AES_CBC_CMAC_128 &&
		nid != NID_id_CA_ECDH_AES_CBC_CMAC_192 && nid != NID_id_CA_ECDH_AES_CBC_CMAC_256 &&
		nid != NID_id_CA_DH_3DES_CBC_CBC && nid != NID_id_CA_DH_AES_CBC_CMAC_128 &&
		nid != NID_id_CA_DH_AES_CBC_CMAC_192 && nid != NID_id_CA_DH_AES_CBC_CMAC_256) ||
	    (cid = curve_id(a->ca_key)) < 0) {
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	if ((a->ctx = EAC_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EAC_CTX_init_ca(a->ctx, nid, cid) != 1 || a->ctx->ca_ctx == NULL ||
	    a->ctx->ca_ctx->ka_ctx == NULL) {
		run_reset(a);
		*sw = SW_REF_NOT_FOUND;
		return 1;
	}
	/* The card's static key replaces the placeholder of the parameters. */
	if (EVP_PKEY_up_ref(a->ca_key) != 1) {
		run_reset(a);
		return CNIE_ERR_CRYPTO;
	}
	EVP_PKEY_free(a->ctx->ca_ctx->ka_ctx->key);
	a->ctx->ca_ctx->ka_ctx->key = a->ca_key;
	a->ca_nid = nid;
	a->state = ST_CA_SET;
	*sw = SW_OK;
	return 1;
}

/* ---- GENERAL AUTHENTICATE --------------------------------------------- */

/* Value of DO tag in 7C{...}; a 7C with no content gives an empty value. */
static int
ga_get(const cnie_apdu *cmd, uint32_t tag, BUF_MEM **out)
{
	cnie_tlv outer, inner;

	*out = NULL;
	if (cmd->nc == 0 || cnie_tlv_parse_one(cmd->data, cmd->nc, &outer) != 0 ||
	    outer.tag != 0x7C)
		return CNIE_ERR_ENCODING;
	if (tag == 0)
		return outer.len == 0 ? 0 : CNIE_ERR_ENCODING;
	if (cnie_tlv_validate(outer.value, outer.len, 1) != 0 ||
	    cnie_tlv_find(outer.value, outer.len, tag, &inner) != 0 || inner.len == 0)
		return CNIE_ERR_ENCODING;
	if ((*out = cnie_pace_bufmem(inner.value, inner.len)) == NULL)
		return CNIE_ERR_NOMEM;
	return 0;
}

static int
put_ga(cnie_buf *resp, uint32_t tag, const BUF_MEM *v)
{
	size_t mark;
	int r;

	if ((r = cnie_tlv_open(resp, 0x7C, &mark)) != 0)
		return r;
	if (v != NULL && (r = cnie_tlv_put(resp, tag, v->data, v->length)) != 0)
		return r;
	return cnie_tlv_close(resp, mark);
}

/*
 * The chip's half of Chip Authentication Mapping (9303-11 4.4.3.5):
 * CA_IC = SK_IC^-1 * SK_Map,IC mod n, with SK_Map,IC its generic-mapping
 * private key and SK_IC its static Chip Authentication key, as an octet
 * string of the order's length; A_IC = E(KSenc, CA_IC) in CBC with IV =
 * E(KSenc, -1) after ISO/IEC 9797-1 method 2 padding.  Written here with
 * OpenSSL directly, independently of libcnie's terminal side.
 */
static int
cam_data(emu_auth *a, cnie_buf *enc)
{
	static const uint8_t ones[16] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	const KA_CTX *ka = a->ctx->pace_ctx->ka_ctx;
	BIGNUM *sk_map = NULL, *sk_ic = NULL, *n = NULL, *ca = NULL;
	BN_CTX *bc = NULL;
	EVP_CIPHER_CTX *cx = NULL;
	const EVP_CIPHER *cbc, *ecb;
	uint8_t plain[66 + 16], iv[16], out[66 + 16];
	size_t olen, plen;
	int l1 = 0, l2 = 0, r = CNIE_ERR_CRYPTO;

	switch (ka->k_enc != NULL ? ka->k_enc->length : 0) {
	case 16:
		cbc = EVP_aes_128_cbc();
		ecb = EVP_aes_128_ecb();
		break;
	case 24:
		cbc = EVP_aes_192_cbc();
		ecb = EVP_aes_192_ecb();
		break;
	case 32:
		cbc = EVP_aes_256_cbc();
		ecb = EVP_aes_256_ecb();
		break;
	default:
		return CNIE_ERR_INTERNAL;
	}
	if ((bc = BN_CTX_new()) == NULL || (ca = BN_new()) == NULL ||
	    EVP_PKEY_get_bn_param(a->ctx->pace_ctx->static_key, OSSL_PKEY_PARAM_PRIV_KEY,
		&sk_map) != 1 ||
	    EVP_PKEY_get_bn_param(a->ca_key, OSSL_PKEY_PARAM_PRIV_KEY, &sk_ic) != 1 ||
	    EVP_PKEY_get_bn_param(a->ca_key, OSSL_PKEY_PARAM_EC_ORDER, &n) != 1 ||
	    BN_mod_inverse(ca, sk_ic, n, bc) == NULL ||
	    BN_mod_mul(ca, ca, sk_map, n, bc) != 1)
		goto out;
	/* Test fault: another number, well formed, that does not verify. */
	if (a->cam_fault == EMU_CAM_WRONG && BN_mod_add(ca, ca, BN_value_one(), n, bc) != 1)
		goto out;
	olen = (size_t)BN_num_bytes(n);
	if (olen > 66 || BN_bn2binpad(ca, plain, (int)olen) != (int)olen)
		goto out;
	plen = (olen / 16 + 1) * 16;
	memset(plain + olen, 0, plen - olen);
	/* Test fault: the padding's 80 missing. */
	plain[olen] = a->cam_fault == EMU_CAM_PADDING ? 0x00 : 0x80;
	if ((cx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(cx, ecb, NULL, (const uint8_t *)ka->k_enc->data, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 ||
	    EVP_EncryptUpdate(cx, iv, &l1, ones, sizeof(ones)) != 1 || l1 != 16 ||
	    EVP_EncryptInit_ex(cx, cbc, NULL, (const uint8_t *)ka->k_enc->data, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 ||
	    EVP_EncryptUpdate(cx, out, &l1, plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(cx, out + l1, &l2) != 1 || (size_t)(l1 + l2) != plen)
		goto out;
	r = cnie_buf_put(enc, out, plen);
out:
	EVP_CIPHER_CTX_free(cx);
	BN_clear_free(sk_map);
	BN_clear_free(sk_ic);
	BN_free(n);
	BN_clear_free(ca);
	BN_CTX_free(bc);
	cnie_wipe(plain, sizeof(plain));
	cnie_wipe(iv, sizeof(iv));
	return r;
}

/* 7C{86 T.PICC, 8A A_IC}: the last PACE-CAM answer (9303-11 4.4.4.2). */
static int
cam_answer(emu_auth *a, const BUF_MEM *token, cnie_buf *resp)
{
	cnie_buf *enc = NULL;
	size_t mark;
	int r;

	if ((enc = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cam_data(a, enc)) != 0 || (r = cnie_tlv_open(resp, 0x7C, &mark)) != 0 ||
	    (r = cnie_tlv_put(resp, 0x86, token->data, token->length)) != 0)
		goto out;
	if (a->cam_fault != EMU_CAM_ABSENT &&
	    (r = cnie_tlv_put(resp, 0x8A, cnie_buf_ptr(enc), cnie_buf_len(enc))) != 0)
		goto out;
	r = cnie_tlv_close(resp, mark);
out:
	cnie_buf_free(&enc);
	return r;
}

/*
 * Integrated mapping's nonce (9303-11 4.4.3.3.2: s of l bits, l = 256 for
 * AES-192/256 and 128 for 3DES, where OpenPACE's step 1 draws one cipher
 * block): a fresh s of that length, z = E(K_pi, s) in CBC with IV 0, and
 * s kept as the context's nonce.  K_pi = KDF(pi, 3) (9303-11 9.7.1, 9.7.3):
 * SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256, truncated to the
 * key length.
 */
static int
im_nonce(emu_auth *a, BUF_MEM **z)
{
	EAC_CTX *ctx = a->ctx;
	const EVP_CIPHER *e = ctx->pace_ctx->ka_ctx->cipher;
	size_t l = cnie_pace_im_nonce_len(e);
	int kl = EVP_CIPHER_get_key_length(e);
	const EVP_MD *md = kl == 16 ? EVP_sha1() : EVP_sha256();
	static const uint8_t c3[4] = { 0, 0, 0, 3 };
	uint8_t h[EVP_MAX_MD_SIZE], s[32], out[32];
	EVP_MD_CTX *mc = NULL;
	EVP_CIPHER_CTX *cx = NULL;
	unsigned hl = 0;
	int o1 = 0, o2 = 0, r = CNIE_ERR_CRYPTO;

	if (l == (size_t)EVP_CIPHER_get_block_size(e))
		return 0; /* step 1's nonce already has the length */
	if (l > sizeof(s) || a->sec == NULL || a->sec->encoded == NULL)
		return CNIE_ERR_INTERNAL;
	if ((mc = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(mc, md, NULL) != 1 ||
	    EVP_DigestUpdate(mc, a->sec->encoded->data, a->sec->encoded->length) != 1 ||
	    EVP_DigestUpdate(mc, c3, sizeof(c3)) != 1 || EVP_DigestFinal_ex(mc, h, &hl) != 1 ||
	    (int)hl < kl || RAND_bytes(s, (int)l) != 1 || (cx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(cx, e, NULL, h, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 ||
	    EVP_EncryptUpdate(cx, out, &o1, s, (int)l) != 1 ||
	    EVP_EncryptFinal_ex(cx, out + o1, &o2) != 1 || (size_t)(o1 + o2) != l)
		goto done;
	BUF_MEM_clear_free(ctx->pace_ctx->nonce);
	ctx->pace_ctx->nonce = cnie_pace_bufmem(s, l);
	BUF_MEM_clear_free(*z);
	*z = cnie_pace_bufmem(out, l);
	r = ctx->pace_ctx->nonce != NULL && *z != NULL ? 0 : CNIE_ERR_NOMEM;
done:
	EVP_MD_CTX_free(mc);
	EVP_CIPHER_CTX_free(cx);
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(s, sizeof(s));
	return r;
}

static int
ga_pace(emu_auth *a, const cnie_apdu *cmd, cnie_buf *resp, uint16_t *sw)
{
	BUF_MEM *in = NULL, *out = NULL;
	cnie_sm *sm = NULL;
	EAC_CTX *ctx = a->ctx;
	det_guard g = { NULL, false };
	uint16_t fail = SW_WRONG_DATA;
	int r = 0;

	switch (a->state) {
	case ST_PACE_SET:
		/* Step 1: z = E(Kpi, s) (9303-11 4.4.3.3). */
		if ((r = ga_get(cmd, 0, &in)) != 0)
			goto fail;
		if ((r = det_begin(a, (size_t)EVP_CIPHER_block_size(ctx->pace_ctx->ka_ctx->cipher),
			 &g)) != 0)
			goto out;
		out = PACE_STEP1_enc_nonce(ctx, a->sec);
		det_end(&g);
		fail = SW_AUTH_FAILED;
		if (out != NULL && a->im && im_nonce(a, &out) != 0) {
			BUF_MEM_clear_free(out);
			out = NULL;
		}
		if (out == NULL || (r = put_ga(resp, 0x80, out)) != 0)
			goto fail;
		a->state = ST_PACE_1;
		break;

	case ST_PACE_1:
		if (a->im) {
			/*
			 * Step 2, integrated mapping (9303-11 4.4.3.3.2): the
			 * terminal's nonce t; G~ = f(R_p(s, t)); the answer is an
			 * empty 7C.
			 */
			if ((r = ga_get(cmd, 0x81, &a->term_map)) != 0)
				goto fail;
			fail = SW_AUTH_FAILED;
			if (cnie_pace_im_map(ctx, (const uint8_t *)a->term_map->data,
				a->term_map->length) != 0 || (r = put_ga(resp, 0, NULL)) != 0)
				goto fail;
			a->state = ST_PACE_2;
			break;
		}
		/* Step 2: mapping (generic mapping: H = SK.PICC x PK.PCD). */
		if ((r = ga_get(cmd, 0x81, &a->term_map)) != 0)
			goto fail;
		if ((r = det_begin(a, key_draw_len(ctx), &g)) != 0)
			goto out;
		out = PACE_STEP3A_generate_mapping_data(ctx);
		fail = SW_AUTH_FAILED;
		if (out == NULL ||
		    (out->length == a->term_map->length &&
			memcmp(out->data, a->term_map->data, out->length) == 0) ||
		    PACE_STEP3A_map_generator(ctx, a->term_map) != 1) {
			det_end(&g);
			goto fail;
		}
		det_end(&g);
		if ((r = put_ga(resp, 0x82, out)) != 0)
			goto fail;
		a->state = ST_PACE_2;
		break;

	case ST_PACE_2:
		/* Step 3: ephemeral key agreement on the mapped generator. */
		if ((r = ga_get(cmd, 0x83, &a->term_eph)) != 0)
			goto fail;
		if ((r = det_begin(a, key_draw_len(ctx), &g)) != 0)
			goto out;
		out = PACE_STEP3B_generate_ephemeral_key(ctx);
		det_end(&g);
		fail = SW_AUTH_FAILED;
		if (out == NULL || PACE_STEP3B_compute_shared_secret(ctx, a->term_eph) != 1 ||
		    PACE_STEP3C_derive_keys(ctx) != 1 || (r = put_ga(resp, 0x84, out)) != 0)
			goto fail;
		a->state = ST_PACE_3;
		break;

	case ST_PACE_3:
		/* Step 4: T.PCD must verify; answer T.PICC = MAC(KSmac, PK.PCD). */
		if ((r = ga_get(cmd, 0x85, &in)) != 0)
			goto fail;
		fail = a->wrong_key_sw;
		if (PACE_STEP3D_verify_authentication_token(ctx, in) != 1) {
			cnie_log_debug("PACE: terminal token does not verify");
			goto fail;
		}
		if ((out = PACE_STEP3D_compute_authentication_token(ctx, a->term_eph)) == NULL)
			goto fail;
		if (a->cam) {
			if ((r = cam_answer(a, out, resp)) != 0)
				goto fail;
		} else if ((r = put_ga(resp, 0x86, out)) != 0) {
			goto fail;
		}
		{
			const KA_CTX *ka = ctx->pace_ctx->ka_ctx;
			cnie_sm_cipher c;

			if (cnie_pace_cipher_of(ka, &c) != 0 || ka->k_enc == NULL || ka->k_mac == NULL ||
			    cnie_sm_new(c, (const uint8_t *)ka->k_enc->data,
				(const uint8_t *)ka->k_mac->data, ka->k_enc->length, NULL, 0,
				&sm) != 0) {
				cnie_buf_reset(resp);
				goto fail;
			}
		}
		run_reset(a);
		install_sm(a, sm);
		sm = NULL;
		a->pace_done = true;
		break;

	default:
		*sw = SW_CONDITIONS;
		r = 1;
		goto out;
	}
	*sw = SW_OK;
	r = 1;
	goto out;
fail:
	/* Any failure ends the run (9303-11 4.4.4.2): start again with MSE. */
	if (r == CNIE_ERR_NOMEM)
		goto out;
	cnie_buf_reset(resp);
	run_reset(a);
	*sw = fail;
	r = 1;
out:
	det_end(&g);
	BUF_MEM_clear_free(in);
	BUF_MEM_clear_free(out);
	cnie_sm_free(&sm);
	return r;
}

static int
ga_ca(emu_auth *a, const cnie_apdu *cmd, cnie_buf *resp, uint16_t *sw)
{
	BUF_MEM *pk = NULL;
	const KA_CTX *ka;
	cnie_sm *sm = NULL;
	cnie_sm_cipher c;
	uint8_t kenc[32], kmac[32];
	size_t klen;
	int r;

	if (ga_get(cmd, 0x80, &pk) != 0) {
		run_reset(a);
		*sw = SW_WRONG_DATA;
		r = 1;
		goto out;
	}
	if (CA_STEP4_compute_shared_secret(a->ctx, pk) != 1) {
		run_reset(a);
		*sw = SW_WRONG_DATA;
		r = 1;
		goto out;
	}
	ka = a->ctx->ca_ctx->ka_ctx;
	if ((r = cnie_pace_cipher_of(ka, &c)) != 0 || ka->shared_secret == NULL)
		goto out;
	/* ICAO CA: KSenc = KDF(K, 1), KSmac = KDF(K, 2) (9303-11 6.2.3, 9.7.1). */
	klen = cnie_sm_key_len(c);
	if ((r = cnie_sm_kdf(c, (const uint8_t *)ka->shared_secret->data,
		 ka->shared_secret->length, 1, kenc, klen)) != 0 ||
	    (r = cnie_sm_kdf(c, (const uint8_t *)ka->shared_secret->data,
		 ka->shared_secret->length, 2, kmac, klen)) != 0 ||
	    (r = cnie_sm_new(c, kenc, kmac, klen, NULL, 0, &sm)) != 0)
		goto out;
	if ((r = put_ga(resp, 0, NULL)) != 0)
		goto out;
	run_reset(a);
	/* This answer goes under the old session; the next command under the new. */
	install_sm(a, sm);
	sm = NULL;
	*sw = SW_OK;
	r = 1;
out:
	BUF_MEM_clear_free(pk);
	cnie_sm_free(&sm);
	cnie_wipe(kenc, sizeof(kenc));
	cnie_wipe(kmac, sizeof(kmac));
	return r;
}

/* ---- INTERNAL AUTHENTICATE (Active Authentication) ----------------------- */

/* The OpenSSL digest of a hash of the table (cnie/hash.h). */
static const EVP_MD *
aa_md(cnie_card_hash id)
{
	const cnie_hash_info *hi = cnie_hash_by_id(id);

	return hi != NULL ? EVP_get_digestbyname(hi->ossl_name) : NULL;
}

/* ISO/IEC 10118-3 hash identifier of an ISO/IEC 9796-2 trailer XX CC. */
static uint8_t
aa_hash_id(cnie_card_hash id)
{
	switch (id) {
	case CNIE_CARD_HASH_SHA1:
		return 0x33;
	case CNIE_CARD_HASH_SHA224:
		return 0x38;
	case CNIE_CARD_HASH_SHA256:
		return 0x34;
	case CNIE_CARD_HASH_SHA384:
		return 0x36;
	default:
		return 0x35; /* SHA-512 */
	}
}

/* ISO/IEC 9796-2 scheme 1, partial recovery; output min(s, n - s). */
static int
aa_rsa(emu_auth *a, const uint8_t *chal, size_t cn, cnie_buf *resp)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *md = NULL;
	BIGNUM *n = NULL, *s = NULL, *t = NULL;
	uint8_t *f = NULL, *sig = NULL;
	const EVP_MD *h = aa_md(a->aa_hash_rsa);
	size_t k, m1, siglen, tlen = a->aa_explicit_trailer ? 2 : 1;
	int bits, r = CNIE_ERR_CRYPTO;

	bits = EVP_PKEY_get_bits(a->aa_key);
	if (bits < 1024 || bits % 8 != 0 || h == NULL)
		return CNIE_ERR_UNSUPPORTED;
	k = (size_t)bits / 8;
	m1 = k - 1 - (size_t)EVP_MD_get_size(h) - tlen;
	if ((f = malloc(k)) == NULL || (sig = malloc(k)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	f[0] = 0x6A; /* header: partial message recovery */
	if ((r = a->rng(a->rng_arg, f + 1, m1)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, h, NULL) != 1 ||
	    EVP_DigestUpdate(md, f + 1, m1) != 1 || EVP_DigestUpdate(md, chal, cn) != 1 ||
	    EVP_DigestFinal_ex(md, f + 1 + m1, NULL) != 1)
		goto out;
	if (a->aa_explicit_trailer) {
		f[k - 2] = aa_hash_id(a->aa_hash_rsa);
		f[k - 1] = 0xCC;
	} else {
		f[k - 1] = 0xBC;
	}
	siglen = k;
	if ((pc = EVP_PKEY_CTX_new(a->aa_key, NULL)) == NULL || EVP_PKEY_sign_init(pc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_sign(pc, sig, &siglen, f, k) != 1 || siglen != k)
		goto out;
	if (EVP_PKEY_get_bn_param(a->aa_key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    (s = BN_bin2bn(sig, (int)k, NULL)) == NULL || (t = BN_new()) == NULL ||
	    BN_sub(t, n, s) != 1)
		goto out;
	if (BN_cmp(t, s) < 0 && BN_bn2binpad(t, sig, (int)k) != (int)k)
		goto out;
	r = cnie_buf_put(resp, sig, k);
out:
	EVP_PKEY_CTX_free(pc);
	EVP_MD_CTX_free(md);
	BN_free(n);
	BN_clear_free(s);
	BN_clear_free(t);
	cnie_freezero(f, f == NULL ? 0 : k);
	cnie_freezero(sig, sig == NULL ? 0 : k);
	return r;
}

/* ECDSA over H(challenge), plain r || s (BSI TR-03111 5.2.1). */
static int
aa_ec(emu_auth *a, const uint8_t *chal, size_t cn, cnie_buf *resp)
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	uint8_t der[160], *out;
	const unsigned char *q = der;
	size_t dl = sizeof(der), half;
	int r = CNIE_ERR_CRYPTO;

	half = (size_t)(EVP_PKEY_get_bits(a->aa_key) + 7) / 8;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, aa_md(a->aa_hash_ec), NULL, a->aa_key) != 1 ||
	    EVP_DigestSign(md, der, &dl, chal, cn) != 1 ||
	    (es = d2i_ECDSA_SIG(NULL, &q, (long)dl)) == NULL)
		goto out;
	if ((r = cnie_buf_reserve(resp, 2 * half, &out)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if (BN_bn2binpad(ECDSA_SIG_get0_r(es), out, (int)half) != (int)half ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), out + half, (int)half) != (int)half)
		goto out;
	r = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return r;
}

static int
internal_authenticate(emu_auth *a, const cnie_apdu *cmd, cnie_buf *resp, uint16_t *sw)
{
	int r;

	if (cmd->p1 != 0 || cmd->p2 != 0 || cmd->nc != 8) {
		*sw = cmd->nc != 8 ? SW_WRONG_LENGTH : 0x6A86;
		return 1;
	}
	if (EVP_PKEY_get_base_id(a->aa_key) == EVP_PKEY_RSA)
		r = aa_rsa(a, cmd->data, cmd->nc, resp);
	else if (EVP_PKEY_get_base_id(a->aa_key) == EVP_PKEY_EC)
		r = aa_ec(a, cmd->data, cmd->nc, resp);
	else
		r = CNIE_ERR_UNSUPPORTED;
	if (r != 0) {
		cnie_buf_reset(resp);
		return r;
	}
	*sw = SW_OK;
	return 1;
}

/* ---- dispatch ------------------------------------------------------------ */

int
emu_auth_handle(emu_auth *a, const cnie_apdu *cmd, bool icao_selected, cnie_buf *resp,
    uint16_t *sw)
{
	if (a == NULL || cmd == NULL || resp == NULL || sw == NULL ||
	    (cmd->nc > 0 && cmd->data == NULL))
		return CNIE_ERR_INVALID_ARG;
	/* The session replaced during the previous call is no longer needed. */
	cnie_sm_free(&a->retired);
	/* Interindustry class only (b8 = 0), whatever the SM and chaining bits. */
	if ((cmd->cla & 0x80) != 0)
		return 0;

	switch (cmd->ins) {
	case 0x84:
		return get_challenge(a, cmd, resp, sw);
	case 0x82:
		if (!icao_selected)
			return 0;
		return external_authenticate(a, cmd, resp, sw);
	case 0x22:
		if (cmd->p1 == 0xC1 && cmd->p2 == 0xA4)
			return mse_pace(a, cmd->data, cmd->nc, sw);
		if (cmd->p1 == 0x41 && cmd->p2 == 0xA4)
			return mse_ca(a, cmd->data, cmd->nc, sw);
		return 0;
	case 0x86:
		if (cmd->p1 != 0 || cmd->p2 != 0) {
			*sw = 0x6A86;
			return 1;
		}
		if (a->state == ST_CA_SET)
			return ga_ca(a, cmd, resp, sw);
		return ga_pace(a, cmd, resp, sw);
	case 0x88:
		if (!icao_selected || a->aa_key == NULL)
			return 0;
		return internal_authenticate(a, cmd, resp, sw);
	default:
		return 0;
	}
}
