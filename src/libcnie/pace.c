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

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

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
	cnie_pace_mapping mapping;
	BUF_MEM *card_map;	/* PK_Map,IC: the chip's mapping key (CAM) */
	uint8_t cam_ca[CNIE_PACE_CAM_MAX];	/* CA_IC decrypted from DO'8A' (CAM) */
	size_t cam_ca_len;
	cnie_sm *sm;
};

static pthread_once_t eac_once = PTHREAD_ONCE_INIT;

/*
 * id-PACE-ECDH-CAM-AES-CBC-CMAC-128/192/256 (9303-11 9.2.1, id-PACE 6),
 * indexed by cnie_sm_cipher.  The installed OpenPACE has no NID for them
 * (its PACE_CTX_set_protocol knows GM and IM only), so they are added to
 * OpenSSL's object table once, unless a newer OpenPACE already did.
 */
static int cam_nids[CNIE_SM_AES256 + 1];

static void
cam_register(void)
{
	static const struct {
		cnie_sm_cipher c;
		const char *oid, *sn;
	} cams[] = {
		{ CNIE_SM_AES128, "0.4.0.127.0.7.2.2.4.6.2", "id-PACE-ECDH-CAM-AES-CBC-CMAC-128" },
		{ CNIE_SM_AES192, "0.4.0.127.0.7.2.2.4.6.3", "id-PACE-ECDH-CAM-AES-CBC-CMAC-192" },
		{ CNIE_SM_AES256, "0.4.0.127.0.7.2.2.4.6.4", "id-PACE-ECDH-CAM-AES-CBC-CMAC-256" },
	};
	size_t i;
	int nid;

	for (i = 0; i < sizeof(cams) / sizeof(cams[0]); i++) {
		if ((nid = OBJ_txt2nid(cams[i].oid)) == NID_undef)
			nid = OBJ_create(cams[i].oid, cams[i].sn, cams[i].sn);
		cam_nids[cams[i].c] = nid;
	}
	ERR_clear_error();
}

static void
eac_init_once(void)
{
	EAC_init();
	cam_register();
}

int
cnie_pace_cam_nid(cnie_sm_cipher c)
{
	cnie_pace_lib_init();
	if (c < CNIE_SM_AES128 || c > CNIE_SM_AES256)
		return NID_undef;
	return cam_nids[c];
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

/*
 * What the library runs: version 2, known parameters; generic mapping, or
 * chip authentication mapping, which 9303-11 4.4.3.5 defines for ECDH
 * with AES only.
 */
static bool
pace_usable(const cnie_pace_infos *infos, const cnie_pace_info *pi)
{
	if (!pi->supported || pi->version != 2)
		return false;
	if (pi->mapping == CNIE_PACE_CAM) {
		if (!pi->ecdh || pi->cipher == CNIE_SM_3DES)
			return false;
	} else if (pi->mapping == CNIE_PACE_IM) {
		/*
		 * Integrated mapping with every cipher (pace_im.c), but not on
		 * secp224r1, whose p is 1 mod 4 (the point encoding needs 3 mod 4).
		 */
		if (pi->ecdh && pi->param_id == 10)
			return false;
	} else if (pi->mapping != CNIE_PACE_GM) {
		return false;
	}
	if (pi->param_id >= 0 && pi->param_id <= 31)
		return std_param(pi->param_id, pi->ecdh);
	return pace_dpi_of(infos, pi) != NULL;
}

/*
 * Preference rank, higher is better: chip authentication mapping first
 * (it authenticates the chip in the same run, 9303-11 4.4.3.5), then ECDH
 * before DH, then the stronger cipher, then generic before integrated
 * mapping (the one every chip has).
 */
static int
pace_rank(const cnie_pace_info *pi)
{
	return (pi->mapping == CNIE_PACE_CAM ? 64 : 0) + (pi->ecdh ? 32 : 0) +
	    2 * (int)pi->cipher + (pi->mapping == CNIE_PACE_GM ? 1 : 0);
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

/*
 * OpenPACE runs chip authentication mapping as the generic mapping it is
 * up to the tokens (9303-11 4.4.3.5: the mapping is GM's), and integrated
 * mapping as generic mapping whose mapping step is skipped (pace_im.c
 * installs the generator): so it gets the info with the GM OID of the same
 * key agreement and cipher; the protocol is then set to the NID of the
 * real OID, which the tokens' public key data object carries (9303-11
 * 9.4).  Nothing else in OpenPACE's steps reads the protocol.
 */
/* NID of an OID given as contents octets (NID_undef when unknown). */
static int
pace_nid(const uint8_t *oid, size_t n)
{
	uint8_t der[2 + 32];
	const unsigned char *q = der;
	ASN1_OBJECT *obj = NULL;
	int nid;

	if (n == 0 || n > sizeof(der) - 2)
		return NID_undef;
	der[0] = 0x06;
	der[1] = (uint8_t)n;
	memcpy(der + 2, oid, n);
	if (d2i_ASN1_OBJECT(&obj, &q, (long)(n + 2)) == NULL) {
		ERR_clear_error();
		return NID_undef;
	}
	nid = OBJ_obj2nid(obj);
	ASN1_OBJECT_free(obj);
	return nid;
}

int
cnie_pace_ctx_init(EAC_CTX *ctx, const cnie_pace_infos *infos, const cnie_pace_info *info)
{
	cnie_buf *one = NULL;
	uint8_t *q;
	size_t i, n;
	int r, nid = NID_undef;

	if (ctx == NULL || infos == NULL || info == NULL)
		return CNIE_ERR_INVALID_ARG;
	cnie_pace_lib_init();
	if ((one = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_pace_card_access_of(infos, info, one)) != 0)
		goto out;
	if (info->mapping == CNIE_PACE_CAM || info->mapping == CNIE_PACE_IM) {
		/* The mapping arc right after id-PACE, inside the info's OID. */
		q = cnie_buf_mutable_ptr(one);
		n = cnie_buf_len(one);
		r = CNIE_ERR_INTERNAL;
		for (i = 0; i + 2 + sizeof(oid_pace) + 2 <= n; i++)
			if (q[i] == 0x06 && q[i + 1] == sizeof(oid_pace) + 2 &&
			    memcmp(q + i + 2, oid_pace, sizeof(oid_pace)) == 0) {
				nid = pace_nid(q + i + 2, sizeof(oid_pace) + 2);
				/* id-PACE-ECDH-GM (2) or id-PACE-DH-GM (1). */
				q[i + 2 + sizeof(oid_pace)] = info->ecdh ? 2 : 1;
				r = nid == NID_undef ? CNIE_ERR_UNSUPPORTED : 0;
				break;
			}
		if (r != 0)
			goto out;
	}
	if (EAC_CTX_init_ef_cardaccess(cnie_buf_ptr(one), cnie_buf_len(one), ctx) != 1 ||
	    ctx->pace_ctx == NULL || ctx->pace_ctx->ka_ctx == NULL) {
		ERR_clear_error();
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if (nid != NID_undef)
		ctx->pace_ctx->protocol = nid;
	r = 0;
out:
	cnie_buf_free(&one);
	return r;
}

int
cnie_pace_terminal_new(const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_pace **out)
{
	cnie_pace *p = NULL;
	cnie_pace_infos *infos = NULL;
	const cnie_pace_info *pick;
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
	if ((infos = calloc(1, sizeof(*infos))) == NULL) {
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
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	p->type = type;
	p->mapping = pick->mapping;
	if ((p->cmd = cnie_buf_new()) == NULL || (p->ctx = EAC_CTX_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_pace_secret_new(type, secret, secret_len, &p->sec)) != 0)
		goto out;
	if ((r = cnie_pace_ctx_init(p->ctx, infos, pick)) != 0) {
		if (r == CNIE_ERR_UNSUPPORTED)
			cnie_log_info("EF.CardAccess: OpenPACE refused the chosen PACEInfo");
		goto out;
	}
	if ((r = cnie_pace_cipher_of(p->ctx->pace_ctx->ka_ctx, &p->cipher)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	free(infos);
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
	BUF_MEM_clear_free(p->card_map);
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

/*
 * Step 3 (both mappings done): our ephemeral key on the mapped generator
 * into GENERAL AUTHENTICATE's 0x83 (chained: more steps follow).
 */
static int
send_ephemeral(cnie_pace *p, EAC_CTX *ctx, cnie_apdu *cmd)
{
	BUF_MEM *mine;
	int r;

	if ((mine = PACE_STEP3B_generate_ephemeral_key(ctx)) == NULL)
		return CNIE_ERR_CRYPTO;
	r = build_ga(p, 0x83, mine);
	BUF_MEM_clear_free(mine);
	if (r != 0)
		return r;
	set_cmd(p, cmd, 0x10, 0x86, 0x00, 0x00, 256);
	p->state = PACE_ST_KA;
	return 0;
}

/*
 * CAM: the last answer's DO'8A' (9303-11 4.4.4.2, mandatory with CAM),
 * decrypted with KSenc into CA_IC.  Its check against the chip's static
 * key waits for DG14 (cnie_icao_chip_auth).
 */
static int
cam_take(cnie_pace *p, const uint8_t *resp, size_t n)
{
	const KA_CTX *ka = p->ctx->pace_ctx->ka_ctx;
	BUF_MEM *enc = NULL;
	int r;

	if ((r = cnie_pace_ga_get(resp, n, 0x8A, &enc)) != 0) {
		cnie_log_info("PACE-CAM: the chip sent no encrypted chip authentication data");
		return r;
	}
	p->cam_ca_len = sizeof(p->cam_ca);
	if (ka->k_enc == NULL)
		r = CNIE_ERR_INTERNAL;
	else
		r = cnie_pace_cam_decrypt(p->cipher, (const uint8_t *)ka->k_enc->data,
		    ka->k_enc->length, (const uint8_t *)enc->data, enc->length, p->cam_ca,
		    &p->cam_ca_len);
	if (r != 0)
		cnie_log_info("PACE-CAM: malformed encrypted chip authentication data (%s)",
		    cnie_error_name(r));
	BUF_MEM_clear_free(enc);
	return r;
}

/*
 * The chip's answer to the IM mapping step: a 7C template with no mapping
 * data (9303-11 4.4.4.2: DO'82' is absent for IM; an empty one is taken).
 */
static int
im_answer_ok(const uint8_t *resp, size_t n)
{
	cnie_tlv outer, inner;

	if (resp == NULL || cnie_tlv_parse_one(resp, n, &outer) != 0 || outer.tag != 0x7C ||
	    cnie_tlv_validate(outer.value, outer.len, 1) != 0 ||
	    (outer.len > 0 && (cnie_tlv_find(outer.value, outer.len, 0x82, &inner) != 0 ||
		inner.len != 0 || inner.hdr_len + inner.len != outer.len))) {
		cnie_log_info("PACE-IM: malformed GENERAL AUTHENTICATE answer to the mapping");
		return CNIE_ERR_BAD_RESPONSE;
	}
	return 0;
}

/* Processes the answer to the last command and builds the next one. */
static int
step(cnie_pace *p, const uint8_t *resp, size_t n, uint16_t sw, cnie_apdu *cmd, bool *done)
{
	BUF_MEM *in = NULL, *token = NULL;
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
		if (p->mapping == CNIE_PACE_IM) {
			/* IM: our nonce t, of the key's length k (9303-11 4.4.3.3.2). */
			int k = EVP_CIPHER_get_key_length(ctx->pace_ctx->ka_ctx->cipher);

			if (k <= 0 || (p->my_map = BUF_MEM_new()) == NULL ||
			    BUF_MEM_grow(p->my_map, (size_t)k) != (size_t)k ||
			    RAND_bytes((unsigned char *)p->my_map->data, k) != 1)
				goto out;
		} else if ((p->my_map = PACE_STEP3A_generate_mapping_data(ctx)) == NULL) {
			goto out;
		}
		if ((r = build_ga(p, 0x81, p->my_map)) != 0)
			goto out;
		set_cmd(p, cmd, 0x10, 0x86, 0x00, 0x00, 256);
		p->state = PACE_ST_MAP;
		break;

	case PACE_ST_MAP:
		if (p->mapping == CNIE_PACE_IM) {
			/* IM: the chip answers an empty 7C; both map s and t. */
			if ((r = im_answer_ok(resp, n)) != 0)
				goto out;
			if ((r = cnie_pace_im_map(ctx, (const uint8_t *)p->my_map->data,
				 p->my_map->length)) != 0) {
				cnie_log_info("PACE-IM: mapping failed (%s)", cnie_error_name(r));
				goto out;
			}
			if ((r = send_ephemeral(p, ctx, cmd)) != 0)
				goto out;
			break;
		}
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
		/* CAM checks PK_Map,IC against the chip's static key later. */
		BUF_MEM_clear_free(p->card_map);
		p->card_map = in;
		in = NULL;
		if ((r = send_ephemeral(p, ctx, cmd)) != 0)
			goto out;
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
		if (p->mapping == CNIE_PACE_CAM && (r = cam_take(p, resp, n)) != 0)
			goto out;
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
	int r;

	if (t == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	*sm = NULL;
	if ((r = cnie_pace_run_keep(t, card_access, card_access_len, type, secret, secret_len,
		 &p)) == 0)
		r = cnie_pace_terminal_take_sm(p, sm);
	cnie_pace_terminal_free(&p);
	return r;
}

int
cnie_pace_run_keep(cnie_transport *t, const uint8_t *card_access, size_t card_access_len,
    cnie_pace_secret type, const char *secret, size_t secret_len, cnie_pace **out)
{
	cnie_pace *p = NULL;
	cnie_buf *resp = NULL;
	cnie_apdu cmd;
	uint16_t sw = 0;
	bool done = false;
	int r, guard;

	if (t == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
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
	if (!done) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	*out = p;
	p = NULL;
out:
	cnie_buf_free(&resp);
	cnie_pace_terminal_free(&p);
	return r;
}

/* ---- Chip Authentication Mapping (9303-11 4.4.3.5) ------------------- */

/*
 * OpenPACE has no CAM step (it ends at the tokens), so the decryption of
 * the chip's authentication data and the check of PK_Map,IC are written
 * here over OpenSSL's EVP, EC and BN functions.
 */

int
cnie_pace_terminal_cam(const cnie_pace *p, const uint8_t **ca, size_t *ca_len,
    const uint8_t **map, size_t *map_len)
{
	if (p == NULL || ca == NULL || ca_len == NULL || map == NULL || map_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (p->state != PACE_ST_DONE)
		return CNIE_ERR_STATE;
	if (p->mapping != CNIE_PACE_CAM || p->card_map == NULL || p->cam_ca_len == 0)
		return CNIE_ERR_NOT_FOUND;
	*ca = p->cam_ca;
	*ca_len = p->cam_ca_len;
	*map = (const uint8_t *)p->card_map->data;
	*map_len = p->card_map->length;
	return 0;
}

cnie_pace_mapping
cnie_pace_terminal_mapping(const cnie_pace *p)
{
	return p == NULL ? 0 : p->mapping;
}

static const EVP_CIPHER *
cam_aes(cnie_sm_cipher c, bool cbc)
{
	switch (c) {
	case CNIE_SM_AES128:
		return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
	case CNIE_SM_AES192:
		return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
	case CNIE_SM_AES256:
		return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

/* One pass of cipher over in[0..n) (whole blocks, no padding) into out. */
static int
cam_crypt(const EVP_CIPHER *ciph, const uint8_t *key, const uint8_t *iv, int enc,
    const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *cx = NULL;
	int l1 = 0, l2 = 0, r = CNIE_ERR_CRYPTO;

	if (n > INT32_MAX)
		return CNIE_ERR_INVALID_ARG;
	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if (EVP_CipherInit_ex(cx, ciph, NULL, key, iv, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_CipherUpdate(cx, out, &l1, in, (int)n) == 1 &&
	    EVP_CipherFinal_ex(cx, out + l1, &l2) == 1 && (size_t)(l1 + l2) == n)
		r = 0;
	EVP_CIPHER_CTX_free(cx);
	return r;
}

int
cnie_pace_cam_crypt(cnie_sm_cipher c, const uint8_t *ksenc, size_t klen, int enc,
    const uint8_t *in, size_t n, uint8_t *out)
{
	static const uint8_t minus1[16] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	uint8_t iv[16];
	int r;

	if (ksenc == NULL || in == NULL || out == NULL || cam_aes(c, true) == NULL ||
	    klen != cnie_sm_key_len(c) || n == 0 || n % 16 != 0)
		return CNIE_ERR_INVALID_ARG;
	/* IV = E(KSenc, -1): -1 is the all-ones block (9303-11 4.4.3.5). */
	if ((r = cam_crypt(cam_aes(c, false), ksenc, NULL, 1, minus1, sizeof(minus1), iv)) != 0)
		return r;
	r = cam_crypt(cam_aes(c, true), ksenc, iv, enc, in, n, out);
	cnie_wipe(iv, sizeof(iv));
	return r;
}

int
cnie_pace_cam_decrypt(cnie_sm_cipher c, const uint8_t *ksenc, size_t klen, const uint8_t *a,
    size_t a_len, uint8_t *out, size_t *out_len)
{
	uint8_t plain[CNIE_PACE_CAM_MAX + 16];
	size_t n;
	int r;

	if (out == NULL || out_len == NULL || (a == NULL && a_len > 0))
		return CNIE_ERR_INVALID_ARG;
	/*
	 * A_IC is CA_IC (at most the largest order, 66 bytes) padded with
	 * ISO/IEC 9797-1 method 2: whole AES blocks, at most one of padding.
	 */
	if (a_len == 0 || a_len % 16 != 0 || a_len > sizeof(plain))
		return CNIE_ERR_BAD_RESPONSE;
	if ((r = cnie_pace_cam_crypt(c, ksenc, klen, 0, a, a_len, plain)) != 0)
		goto out;
	for (n = a_len; n > 0 && plain[n - 1] == 0x00; n--)
		;
	r = CNIE_ERR_BAD_RESPONSE;
	if (n == 0 || plain[n - 1] != 0x80 || a_len - (n - 1) > 16)
		goto out;
	n--;
	if (n == 0 || n > CNIE_PACE_CAM_MAX)
		goto out;
	if (n > *out_len) {
		r = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	memcpy(out, plain, n);
	*out_len = n;
	r = 0;
out:
	cnie_wipe(plain, sizeof(plain));
	return r;
}

/* The group and public point of an EC key, named or explicit parameters. */
static int
cam_key_point(EVP_PKEY *key, BN_CTX *bc, EC_GROUP **g, EC_POINT **pt)
{
	OSSL_PARAM *params = NULL;
	uint8_t pub[1 + 2 * CNIE_PACE_CAM_MAX];
	size_t n = 0;
	int r = CNIE_ERR_UNSUPPORTED;

	*g = NULL;
	*pt = NULL;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return r;
	r = CNIE_ERR_ENCODING;
	if (EVP_PKEY_todata(key, EVP_PKEY_PUBLIC_KEY, &params) != 1 ||
	    (*g = EC_GROUP_new_from_params(params, NULL, NULL)) == NULL ||
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
		&n) != 1 || (*pt = EC_POINT_new(*g)) == NULL ||
	    EC_POINT_oct2point(*g, *pt, pub, n, bc) != 1)
		goto out;
	r = 0;
out:
	OSSL_PARAM_free(params);
	if (r != 0) {
		EC_POINT_free(*pt);
		EC_GROUP_free(*g);
		*pt = NULL;
		*g = NULL;
	}
	return r;
}

int
cnie_pace_cam_verify(EVP_PKEY *pk_ic, const uint8_t *pk_map, size_t pk_map_len,
    const uint8_t *ca, size_t ca_len)
{
	EC_GROUP *g = NULL;
	EC_POINT *pic = NULL, *pmap = NULL, *prod = NULL;
	BN_CTX *bc = NULL;
	BIGNUM *k = NULL;
	const BIGNUM *order;
	int r;

	if (pk_ic == NULL || pk_map == NULL || ca == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((bc = BN_CTX_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cam_key_point(pk_ic, bc, &g, &pic)) != 0)
		goto out;
	r = CNIE_ERR_NOMEM;
	if ((pmap = EC_POINT_new(g)) == NULL || (prod = EC_POINT_new(g)) == NULL)
		goto out;
	/* The chip's own values: off the curve or out of range is malformed. */
	r = CNIE_ERR_BAD_RESPONSE;
	if (ca_len == 0 || ca_len > CNIE_PACE_CAM_MAX ||
	    EC_POINT_oct2point(g, pmap, pk_map, pk_map_len, bc) != 1 ||
	    EC_POINT_is_at_infinity(g, pmap) == 1 ||
	    (order = EC_GROUP_get0_order(g)) == NULL ||
	    (k = BN_bin2bn(ca, (int)ca_len, NULL)) == NULL || BN_is_zero(k) ||
	    BN_cmp(k, order) >= 0)
		goto out;
	/* PK_Map,IC = KA(CA_IC, PK_IC, D_IC): the point CA_IC * PK_IC (ECDH). */
	r = CNIE_ERR_CRYPTO;
	if (EC_POINT_mul(g, prod, NULL, pic, k, bc) != 1)
		goto out;
	r = EC_POINT_cmp(g, prod, pmap, bc) == 0 ? 0 : CNIE_ERR_VERIFY_FAILED;
out:
	BN_clear_free(k);
	EC_POINT_free(pic);
	EC_POINT_free(pmap);
	EC_POINT_free(prod);
	EC_GROUP_free(g);
	BN_CTX_free(bc);
	ERR_clear_error();
	return r;
}
