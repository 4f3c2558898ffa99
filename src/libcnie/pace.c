/*
 * PACE, terminal side, ICAO 9303-11 clause 4.4 (worked example App. G),
 * over OpenPACE.  See src/libcnie/include/cnie/pace.h for the step machine.
 *
 * OpenPACE does the cryptography (nonce decryption, mapping, key
 * agreement, key derivation, tokens); this file builds and parses the
 * APDUs: MSE:SET AT (9303-11 4.4.4.1) and the four GENERAL AUTHENTICATE
 * dynamic authentication data objects 7C{80..86} (4.4.4.2), every received
 * byte through cnie_tlv.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <eac/eac.h>
#include <eac/objects.h>
#include <eac/pace.h>

#include <cnie/bac.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pace.h>
#include <cnie/tlv.h>

#include <cnie/pace_internal.h>

enum pace_state {
	PACE_ST_START = 0, /* next: MSE:SET AT */
	PACE_ST_MSE,	   /* sent MSE:SET AT */
	PACE_ST_NONCE,	   /* sent GA step 1 */
	PACE_ST_MAP,	   /* sent GA step 2 */
	PACE_ST_KA,	   /* sent GA step 3 */
	PACE_ST_TOKEN,	   /* sent GA step 4 */
	PACE_ST_DONE,
	PACE_ST_FAILED,
};

struct cnie_pace {
	EAC_CTX *ctx;
	PACE_SEC *sec;
	cnie_pace_secret type;
	enum pace_state state;
	cnie_sm_cipher cipher;
	cnie_buf *cmd;		/* data of the last command built */
	BUF_MEM *my_map;	/* own mapping data (reflection check) */
	BUF_MEM *card_eph;	/* PK.PICC */
	cnie_sm *sm;
};

static pthread_once_t eac_once = PTHREAD_ONCE_INIT;

static void
eac_init_once(void)
{
	EAC_init();
}

void
cnie_pace_lib_init(void)
{
	(void)pthread_once(&eac_once, eac_init_once);
}

EAC_CTX *
cnie_pace_eac_ctx(const cnie_pace *p)
{
	return p == NULL ? NULL : p->ctx;
}

/* Maps OpenPACE's cipher to ours: 3DES (8-byte block) or AES by key size. */
int
cnie_pace_cipher_of(const KA_CTX *ka, cnie_sm_cipher *out)
{
	if (ka == NULL || ka->cipher == NULL)
		return CNIE_ERR_UNSUPPORTED;
	if (EVP_CIPHER_block_size(ka->cipher) == 8 && EVP_CIPHER_key_length(ka->cipher) == 16) {
		*out = CNIE_SM_3DES;
		return 0;
	}
	switch (EVP_CIPHER_key_length(ka->cipher)) {
	case 16:
		*out = CNIE_SM_AES128;
		return 0;
	case 24:
		*out = CNIE_SM_AES192;
		return 0;
	case 32:
		*out = CNIE_SM_AES256;
		return 0;
	}
	return CNIE_ERR_UNSUPPORTED;
}

/* Builds the SM session from the derived keys (SSC 0, 9303-11 9.8.2). */
int
cnie_pace_session_of(const KA_CTX *ka, cnie_sm **sm)
{
	cnie_sm_cipher cipher;
	int r;

	if ((r = cnie_pace_cipher_of(ka, &cipher)) != 0)
		return r;
	if (ka->k_enc == NULL || ka->k_mac == NULL || ka->k_enc->length != ka->k_mac->length)
		return CNIE_ERR_PACE;
	return cnie_sm_new(cipher, (const uint8_t *)ka->k_enc->data,
	    (const uint8_t *)ka->k_mac->data, ka->k_enc->length, NULL, 0, sm);
}

int
cnie_pace_secret_new(cnie_pace_secret type, const char *secret, size_t n, PACE_SEC **out)
{
	uint8_t h[20];
	enum s_type t;

	*out = NULL;
	switch (type) {
	case CNIE_PACE_MRZ:
		/*
		 * OpenPACE's PACE_MRZ parses a TD1 MRZ; we take MRZ_information
		 * (any document format) and give its SHA-1 as the raw secret,
		 * which is what the MRZ encoding is (9303-11 4.4.3.1).
		 */
		if (n < CNIE_MRZ_INFO_LEN || n > CNIE_MRZ_INFO_MAX)
			return CNIE_ERR_INVALID_ARG;
		if (EVP_Digest(secret, n, h, NULL, EVP_sha1(), NULL) != 1)
			return CNIE_ERR_CRYPTO;
		*out = PACE_SEC_new((const char *)h, sizeof(h), PACE_RAW);
		OPENSSL_cleanse(h, sizeof(h));
		return *out == NULL ? CNIE_ERR_CRYPTO : 0;
	case CNIE_PACE_CAN:
		t = PACE_CAN;
		break;
	case CNIE_PACE_PIN:
		t = PACE_PIN;
		break;
	case CNIE_PACE_PUK:
		t = PACE_PUK;
		break;
	default:
		return CNIE_ERR_INVALID_ARG;
	}
	if (n == 0 || n > 64)
		return CNIE_ERR_INVALID_ARG;
	*out = PACE_SEC_new(secret, n, t);
	/* The length is checked above: a failure here is OpenPACE's own. */
	return *out == NULL ? CNIE_ERR_CRYPTO : 0;
}

/* ---- EF.CardAccess: PACEInfo and PACEDomainParameterInfo ------------- */

/* 0.4.0.127.0.7.2.2.4 id-PACE (BSI TR-03110-3 A.1.1, 9303-11 9.2.1). */
static const uint8_t oid_pace[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04 };

/* Mapping and key agreement of the arc after id-PACE; false when unknown. */
static bool
pace_arc(uint8_t arc, cnie_pace_mapping *m, bool *ecdh)
{
	switch (arc) {
	case 1:
		*m = CNIE_PACE_GM;
		*ecdh = false;
		return true;
	case 2:
		*m = CNIE_PACE_GM;
		*ecdh = true;
		return true;
	case 3:
		*m = CNIE_PACE_IM;
		*ecdh = false;
		return true;
	case 4:
		*m = CNIE_PACE_IM;
		*ecdh = true;
		return true;
	case 6:
		*m = CNIE_PACE_CAM;
		*ecdh = true;
		return true;
	default:
		return false;
	}
}

/* A small non-negative DER INTEGER (at most 4 bytes). */
static int
pace_uint(const cnie_tlv *t, long *v)
{
	size_t i;

	if (t->tag != 0x02 || t->len == 0 || t->len > 4 || (t->value[0] & 0x80) != 0)
		return CNIE_ERR_ENCODING;
	*v = 0;
	for (i = 0; i < t->len; i++)
		*v = (*v << 8) | t->value[i];
	return 0;
}

/* Standardized domain parameters (9303-11 9.5.1, TR-03110-3 A.2.1.1). */
static bool
std_param(long id, bool ecdh)
{
	return ecdh ? id >= 8 && id <= 18 : id >= 0 && id <= 2;
}

int
cnie_pace_infos_parse(const uint8_t *ca, size_t n, cnie_pace_infos *out)
{
	cnie_tlv set, seq, oid, t;
	cnie_cur c, s;
	cnie_pace_info *pi;
	cnie_pace_dpi *d;
	long v;
	int r;

	if (ca == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if ((r = cnie_tlv_validate(ca, n, 8)) != 0 || (r = cnie_tlv_parse_one(ca, n, &set)) != 0)
		return r;
	if (set.tag != 0x31)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&c, set.value, set.len);
	while (cnie_cur_left(&c) > 0) {
		const uint8_t *start = cnie_cur_peek(&c);

		if ((r = cnie_tlv_next_der(&c, &seq)) != 0)
			return r;
		if (seq.tag != 0x30)
			return CNIE_ERR_ENCODING;
		cnie_cur_init(&s, seq.value, seq.len);
		if ((r = cnie_tlv_next_der(&s, &oid)) != 0)
			return r;
		if (oid.tag != 0x06)
			return CNIE_ERR_ENCODING;
		if (oid.len < sizeof(oid_pace) + 1 ||
		    memcmp(oid.value, oid_pace, sizeof(oid_pace)) != 0)
			continue; /* another protocol's SecurityInfo */
		if (oid.len == sizeof(oid_pace) + 2) {
			/* PACEInfo: protocol, version, parameterId OPTIONAL. */
			if (out->n == CNIE_PACE_MAX_INFOS)
				return CNIE_ERR_TOO_LONG;
			pi = &out->info[out->n];
			pi->der = start;
			pi->der_len = seq.hdr_len + seq.len;
			pi->param_id = -1;
			if ((r = cnie_tlv_next_der(&s, &t)) != 0 || (r = pace_uint(&t, &v)) != 0)
				return r;
			pi->version = v > 0xFF ? 0xFF : (int)v;
			if (cnie_cur_left(&s) > 0) {
				if ((r = cnie_tlv_next_der(&s, &t)) != 0 ||
				    (r = pace_uint(&t, &pi->param_id)) != 0)
					return r;
			}
			if ((r = cnie_cur_end(&s)) != 0)
				return r;
			out->n++;
			pi->supported = pace_arc(oid.value[sizeof(oid_pace)], &pi->mapping,
			    &pi->ecdh);
			switch (oid.value[sizeof(oid_pace) + 1]) {
			case 1:
				pi->cipher = CNIE_SM_3DES;
				break;
			case 2:
				pi->cipher = CNIE_SM_AES128;
				break;
			case 3:
				pi->cipher = CNIE_SM_AES192;
				break;
			case 4:
				pi->cipher = CNIE_SM_AES256;
				break;
			default:
				pi->supported = false;
				break;
			}
		} else if (oid.len == sizeof(oid_pace) + 1) {
			/* PACEDomainParameterInfo: protocol, domainParameter, parameterId OPTIONAL. */
			if (out->ndpi == CNIE_PACE_MAX_INFOS)
				return CNIE_ERR_TOO_LONG;
			d = &out->dpi[out->ndpi];
			d->der = start;
			d->der_len = seq.hdr_len + seq.len;
			d->param_id = -1;
			if ((r = cnie_tlv_next_der(&s, &t)) != 0)
				return r;
			if (t.tag != 0x30)
				return CNIE_ERR_ENCODING;
			if (cnie_cur_left(&s) > 0) {
				if ((r = cnie_tlv_next_der(&s, &t)) != 0 ||
				    (r = pace_uint(&t, &d->param_id)) != 0)
					return r;
			}
			if ((r = cnie_cur_end(&s)) != 0)
				return r;
			out->ndpi++;
		}
	}
	return 0;
}

/* The PACEDomainParameterInfo giving info's proprietary parameters, NULL if none. */
static const cnie_pace_dpi *
pace_dpi_of(const cnie_pace_infos *infos, const cnie_pace_info *info)
{
	size_t i;

	for (i = 0; i < infos->ndpi; i++)
		if (infos->dpi[i].param_id == info->param_id)
			return &infos->dpi[i];
	return NULL;
}

/* What the library runs today: generic mapping, version 2, known parameters. */
static bool
pace_usable(const cnie_pace_infos *infos, const cnie_pace_info *pi)
{
	if (!pi->supported || pi->version != 2 || pi->mapping != CNIE_PACE_GM)
		return false;
	if (pi->param_id >= 0 && pi->param_id <= 31)
		return std_param(pi->param_id, pi->ecdh);
	return pace_dpi_of(infos, pi) != NULL;
}

/* Preference rank: higher is better. */
static int
pace_rank(const cnie_pace_info *pi)
{
	return (pi->ecdh ? 16 : 0) + (int)pi->cipher;
}

const cnie_pace_info *
cnie_pace_select(const cnie_pace_infos *infos)
{
	const cnie_pace_info *best = NULL;
	size_t i;

	if (infos == NULL)
		return NULL;
	for (i = 0; i < infos->n; i++) {
		if (!pace_usable(infos, &infos->info[i]))
			continue;
		if (best == NULL || pace_rank(&infos->info[i]) > pace_rank(best))
			best = &infos->info[i];
	}
	return best;
}

int
cnie_pace_card_access_of(const cnie_pace_infos *infos, const cnie_pace_info *info,
    cnie_buf *out)
{
	const cnie_pace_dpi *d;
	size_t mark;
	int r;

	if (infos == NULL || info == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_tlv_open(out, 0x31, &mark)) != 0 ||
	    (r = cnie_buf_put(out, info->der, info->der_len)) != 0)
		return r;
	if ((info->param_id < 0 || info->param_id > 31) && (d = pace_dpi_of(infos, info)) != NULL &&
	    (r = cnie_buf_put(out, d->der, d->der_len)) != 0)
		return r;
	return cnie_tlv_close(out, mark);
}

int
cnie_pace_terminal_new(const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_pace **out)
{
	cnie_pace *p = NULL;
	cnie_pace_infos *infos = NULL;
	const cnie_pace_info *pick;
	cnie_buf *one = NULL;
	size_t i;
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (card_access == NULL || card_access_len == 0 || secret == NULL)
		return CNIE_ERR_INVALID_ARG;
	cnie_pace_lib_init();
	/*
	 * Every PACEInfo is read and one chosen (cnie_pace_select); OpenPACE
	 * gets an EF.CardAccess with that one alone, so an offer it would
	 * refuse (integrated mapping under the context's TR-03110 version, an
	 * unknown protocol) does not sink the one we can run.
	 */
	if ((infos = calloc(1, sizeof(*infos))) == NULL || (one = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_pace_infos_parse(card_access, card_access_len, infos)) != 0) {
		cnie_log_info("EF.CardAccess malformed (%s)", cnie_error_name(r));
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	for (i = 0; i < infos->n; i++)
		cnie_log_debug("PACEInfo %zu: mapping %d, %s, cipher %d, version %d, parameterId %ld",
		    i, (int)infos->info[i].mapping, infos->info[i].ecdh ? "ECDH" : "DH",
		    (int)infos->info[i].cipher, infos->info[i].version, infos->info[i].param_id);
	if ((pick = cnie_pace_select(infos)) == NULL) {
		cnie_log_info("EF.CardAccess: none of its %zu PACEInfo(s) is supported", infos->n);
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = cnie_pace_card_access_of(infos, pick, one)) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	p->type = type;
	if ((p->cmd = cnie_buf_new()) == NULL || (p->ctx = EAC_CTX_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_pace_secret_new(type, secret, secret_len, &p->sec)) != 0)
		goto out;
	if (EAC_CTX_init_ef_cardaccess(cnie_buf_ptr(one), cnie_buf_len(one), p->ctx) != 1 ||
	    p->ctx->pace_ctx == NULL || p->ctx->pace_ctx->ka_ctx == NULL) {
		cnie_log_info("EF.CardAccess: OpenPACE refused the chosen PACEInfo");
		ERR_clear_error();
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = cnie_pace_cipher_of(p->ctx->pace_ctx->ka_ctx, &p->cipher)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	free(infos);
	cnie_buf_free(&one);
	cnie_pace_terminal_free(&p);
	return r;
}

void
cnie_pace_terminal_free(cnie_pace **pp)
{
	cnie_pace *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	EAC_CTX_clear_free(p->ctx);
	PACE_SEC_clear_free(p->sec);
	BUF_MEM_clear_free(p->my_map);
	BUF_MEM_clear_free(p->card_eph);
	cnie_buf_free(&p->cmd);
	cnie_sm_free(&p->sm);
	cnie_freezero(p, sizeof(*p));
	*pp = NULL;
}

int
cnie_pace_oid_of(int nid, const uint8_t **oid, size_t *n)
{
	const ASN1_OBJECT *obj;
	int len;

	if ((obj = OBJ_nid2obj(nid)) == NULL || (len = (int)OBJ_length(obj)) <= 0 ||
	    (*oid = OBJ_get0_data(obj)) == NULL)
		return CNIE_ERR_UNSUPPORTED;
	*n = (size_t)len;
	return 0;
}

/* MSE:SET AT data (9303-11 4.4.4.1): 80 OID, 83 password, 84 parameter id. */
static int
build_mse(cnie_pace *p)
{
	const uint8_t *oid;
	size_t oid_len;
	uint8_t ref = (uint8_t)p->type;
	int r;

	if ((r = cnie_pace_oid_of(p->ctx->pace_ctx->protocol, &oid, &oid_len)) != 0 ||
	    (r = cnie_tlv_put(p->cmd, 0x80, oid, oid_len)) != 0 ||
	    (r = cnie_tlv_put(p->cmd, 0x83, &ref, 1)) != 0)
		return r;
	/* parameterId: which domain parameters when several are offered. */
	if (p->ctx->pace_ctx->id >= 0 && p->ctx->pace_ctx->id <= 0xFFFF)
		r = cnie_tlv_put_uint(p->cmd, 0x84, (uint32_t)p->ctx->pace_ctx->id);
	return r;
}

/* 7C { tag value } or 7C 00 when value is NULL. */
static int
build_ga(cnie_pace *p, uint32_t tag, const BUF_MEM *value)
{
	size_t mark;
	int r;

	if ((r = cnie_tlv_open(p->cmd, 0x7C, &mark)) != 0)
		return r;
	if (value != NULL &&
	    (r = cnie_tlv_put(p->cmd, tag, value->data, value->length)) != 0)
		return r;
	return cnie_tlv_close(p->cmd, mark);
}

BUF_MEM *
cnie_pace_bufmem(const uint8_t *p, size_t n)
{
	BUF_MEM *b;

	if ((b = BUF_MEM_new()) == NULL)
		return NULL;
	if (n > 0 && BUF_MEM_grow(b, n) != n) {
		BUF_MEM_free(b);
		return NULL;
	}
	if (n > 0)
		memcpy(b->data, p, n);
	b->length = n;
	return b;
}

/*
 * Finds DO tag inside the answer's 7C template and returns it as a fresh
 * BUF_MEM (OpenPACE's currency).  Exactly one 7C, nothing after it.
 */
int
cnie_pace_ga_get(const uint8_t *resp, size_t n, uint32_t tag, BUF_MEM **out)
{
	cnie_tlv outer, inner;

	*out = NULL;
	if (resp == NULL || cnie_tlv_parse_one(resp, n, &outer) != 0 || outer.tag != 0x7C ||
	    cnie_tlv_validate(outer.value, outer.len, 1) != 0 ||
	    cnie_tlv_find(outer.value, outer.len, tag, &inner) != 0 || inner.len == 0) {
		/* A malformed answer is a protocol error, not a wrong password. */
		cnie_log_info("PACE: malformed GENERAL AUTHENTICATE answer (no DO %02X)",
		    (unsigned)tag);
		return CNIE_ERR_BAD_RESPONSE;
	}
	if ((*out = cnie_pace_bufmem(inner.value, inner.len)) == NULL)
		return CNIE_ERR_NOMEM;
	return 0;
}

static void
set_cmd(cnie_pace *p, cnie_apdu *cmd, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    size_t ne)
{
	cnie_apdu_init(cmd, cla, ins, p1, p2);
	cmd->data = cnie_buf_ptr(p->cmd);
	cmd->nc = cnie_buf_len(p->cmd);
	cmd->ne = ne;
	cmd->flags = CNIE_APDU_NO_CHAINING;
}

/* Processes the answer to the last command and builds the next one. */
static int
step(cnie_pace *p, const uint8_t *resp, size_t n, uint16_t sw, cnie_apdu *cmd, bool *done)
{
	BUF_MEM *in = NULL, *mine = NULL, *token = NULL;
	EAC_CTX *ctx = p->ctx;
	int r = CNIE_ERR_PACE;

	cnie_buf_reset(p->cmd);
	if (p->state != PACE_ST_START && sw != 0x9000) {
		cnie_log_info("PACE step %d refused by the card (SW %04X)", (int)p->state, sw);
		/*
		 * Only the mutual authentication (step 4) shows a wrong password:
		 * the chip checks our token there (9303-11 4.4.3.4) and answers
		 * 6300, 63Cx, 6982 or 6988 depending on the chip.  Before it the
		 * chip cannot know the password: a refusal is the card's error.
		 */
		if (p->state == PACE_ST_TOKEN && (sw == 0x6300 || (sw & 0xFFF0) == 0x63C0 ||
		    sw == 0x6982 || sw == 0x6988))
			return CNIE_ERR_PACE;
		return (r = cnie_sw_to_error(sw)) != 0 ? r : CNIE_ERR_CARD;
	}

	switch (p->state) {
	case PACE_ST_START:
		if ((r = build_mse(p)) != 0)
			goto out;
		set_cmd(p, cmd, 0x00, 0x22, 0xC1, 0xA4, 0);
		p->state = PACE_ST_MSE;
		break;

	case PACE_ST_MSE:
		/* Step 1: ask for the encrypted nonce. */
		if ((r = build_ga(p, 0, NULL)) != 0)
			goto out;
		set_cmd(p, cmd, 0x10, 0x86, 0x00, 0x00, 256);
		p->state = PACE_ST_NONCE;
		break;

	case PACE_ST_NONCE:
		/* s = D(Kpi, z), then our mapping data (9303-11 4.4.3.3). */
		if ((r = cnie_pace_ga_get(resp, n, 0x80, &in)) != 0)
			goto out;
		/* A nonce that does not decrypt (not whole blocks) is malformed. */
		r = CNIE_ERR_BAD_RESPONSE;
		if (PACE_STEP2_dec_nonce(ctx, p->sec, in) != 1)
			goto out;
		/*
		 * Steps without card input: a failure is local (memory, OpenSSL),
		 * not a wrong CAN, and must not tell the holder to retype it.
		 */
		r = CNIE_ERR_CRYPTO;
		if ((p->my_map = PACE_STEP3A_generate_mapping_data(ctx)) == NULL)
			goto out;
		if ((r = build_ga(p, 0x81, p->my_map)) != 0)
			goto out;
		set_cmd(p, cmd, 0x10, 0x86, 0x00, 0x00, 256);
		p->state = PACE_ST_MAP;
		break;

	case PACE_ST_MAP:
		if ((r = cnie_pace_ga_get(resp, n, 0x82, &in)) != 0)
			goto out;
		/* Mapping data that is no valid point or equals ours: protocol error. */
		r = CNIE_ERR_BAD_RESPONSE;
		/* A card echoing our own mapping data is an attack (TR-03110-3 A.3.4). */
		if (in->length == p->my_map->length &&
		    memcmp(in->data, p->my_map->data, in->length) == 0)
			goto out;
		if (PACE_STEP3A_map_generator(ctx, in) != 1)
			goto out;
		r = CNIE_ERR_CRYPTO;
		if ((mine = PACE_STEP3B_generate_ephemeral_key(ctx)) == NULL)
			goto out;
		if ((r = build_ga(p, 0x83, mine)) != 0)
			goto out;
		set_cmd(p, cmd, 0x10, 0x86, 0x00, 0x00, 256);
		p->state = PACE_ST_KA;
		break;

	case PACE_ST_KA:
		if ((r = cnie_pace_ga_get(resp, n, 0x84, &p->card_eph)) != 0)
			goto out;
		r = CNIE_ERR_BAD_RESPONSE;
		/* OpenPACE refuses PK.PICC == PK.PCD here. */
		if (PACE_STEP3B_compute_shared_secret(ctx, p->card_eph) != 1)
			goto out;
		r = CNIE_ERR_CRYPTO;
		if (PACE_STEP3C_derive_keys(ctx) != 1)
			goto out;
		if ((token = PACE_STEP3D_compute_authentication_token(ctx, p->card_eph)) == NULL)
			goto out;
		if ((r = build_ga(p, 0x85, token)) != 0)
			goto out;
		set_cmd(p, cmd, 0x00, 0x86, 0x00, 0x00, 256);
		p->state = PACE_ST_TOKEN;
		break;

	case PACE_ST_TOKEN:
		/* 7C{86 T.PICC [87 CAR] [88 CAR]}: the card proves the same keys. */
		if ((r = cnie_pace_ga_get(resp, n, 0x86, &in)) != 0)
			goto out;
		/* 0: the token differs (wrong CAN); -1: the check itself failed. */
		if ((r = PACE_STEP3D_verify_authentication_token(ctx, in)) != 1) {
			cnie_log_info("PACE: card token does not verify");
			r = r == 0 ? CNIE_ERR_PACE : CNIE_ERR_CRYPTO;
			goto out;
		}
		if ((r = cnie_pace_session_of(ctx->pace_ctx->ka_ctx, &p->sm)) != 0)
			goto out;
		p->state = PACE_ST_DONE;
		*done = true;
		break;

	default:
		r = CNIE_ERR_STATE;
		goto out;
	}
	r = 0;
out:
	BUF_MEM_clear_free(in);
	BUF_MEM_clear_free(mine);
	BUF_MEM_clear_free(token);
	return r;
}

int
cnie_pace_terminal_next(cnie_pace *p, const uint8_t *resp, size_t resp_len, uint16_t sw,
    cnie_apdu *cmd, bool *done)
{
	int r;

	if (p == NULL || cmd == NULL || done == NULL || (resp == NULL && resp_len > 0))
		return CNIE_ERR_INVALID_ARG;
	*done = false;
	memset(cmd, 0, sizeof(*cmd));
	if (p->state == PACE_ST_DONE || p->state == PACE_ST_FAILED)
		return CNIE_ERR_STATE;
	if ((r = step(p, resp, resp_len, sw, cmd, done)) != 0) {
		p->state = PACE_ST_FAILED;
		memset(cmd, 0, sizeof(*cmd));
		/* Nothing of the failed run is kept (keys, nonce). */
		EAC_CTX_clear_free(p->ctx);
		p->ctx = NULL;
		ERR_clear_error();
	}
	return r;
}

int
cnie_pace_terminal_take_sm(cnie_pace *p, cnie_sm **sm)
{
	if (p == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (p->state != PACE_ST_DONE || p->sm == NULL)
		return CNIE_ERR_STATE;
	*sm = p->sm;
	p->sm = NULL;
	return 0;
}

int
cnie_pace_terminal_card_key(const cnie_pace *p, const uint8_t **key, size_t *n)
{
	if (p == NULL || key == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (p->state != PACE_ST_DONE || p->card_eph == NULL)
		return CNIE_ERR_STATE;
	*key = (const uint8_t *)p->card_eph->data;
	*n = p->card_eph->length;
	return 0;
}

int
cnie_pace_run(cnie_transport *t, const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_sm **sm)
{
	cnie_pace *p = NULL;
	cnie_buf *resp = NULL;
	cnie_apdu cmd;
	uint16_t sw = 0;
	bool done = false;
	int r, guard;

	if (t == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	*sm = NULL;
	if ((r = cnie_pace_terminal_new(card_access, card_access_len, type, secret, secret_len,
		 &p)) != 0)
		return r;
	if ((resp = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	for (guard = 0; guard < 8; guard++) {
		if ((r = cnie_pace_terminal_next(p, cnie_buf_ptr(resp), cnie_buf_len(resp), sw, &cmd,
			 &done)) != 0)
			goto out;
		if (done)
			break;
		cnie_buf_reset(resp);
		if ((r = cnie_apdu_transmit(t, &cmd, resp, &sw)) != 0)
			goto out;
	}
	r = done ? cnie_pace_terminal_take_sm(p, sm) : CNIE_ERR_INTERNAL;
out:
	cnie_buf_free(&resp);
	cnie_pace_terminal_free(&p);
	return r;
}
