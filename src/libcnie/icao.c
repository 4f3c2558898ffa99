/*
 * The identity application (ICAO 9303 eMRTD) over a transport: access
 * control, LDS reads inside secure messaging, Active and Chip
 * Authentication.  See cnie/icao.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cnie/apdu.h>
#include <cnie/bac.h>
#include <cnie/buf.h>
#include <cnie/cache.h>
#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/icao.h>
#include <cnie/log.h>
#include <cnie/pa.h>
#include <cnie/pace.h>
#include <cnie/sm.h>
#include <cnie/tlv.h>
#include <cnie/transport.h>

#include <cnie/pace_internal.h>

#include "hash_internal.h"
#include "lds_internal.h"

/* ICAO application identifier (9303-10 4.1). */
static const uint8_t icao_aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
/* EF.CardAccess: SFI 28 of the MF (9303-10 3.11.3). */
#define ICAO_SFI_CARD_ACCESS 0x1C
/* READ BINARY offset on 15 bits (ISO 7816-4 7.2.3, P1 b8 = 0). */
#define ICAO_MAX_OFFSET 0x7FFF
/* Largest DO'53' header of an odd-INS READ BINARY answer (53 82 LL LL). */
#define ICAO_DO53_HDR 4
/* First read: fits one short SM answer on any path (sm.h: 223 bytes). */
#define ICAO_FIRST_READ 0xDF
/* EF.CardAccess is a few hundred bytes at most. */
#define ICAO_MAX_CARD_ACCESS 4096

/* 0.4.0.127.0.7.2.2.3.2 id-CA-ECDH, last arc the cipher (9303-11 9.2.5). */
static const uint8_t oid_ca_ecdh[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02 };
/* 0.4.0.127.0.7.2.2.1.2 id-PK-ECDH (9303-11 9.2.6). */
static const uint8_t oid_pk_ecdh[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02 };
/* 0.4.0.127.0.7.2.2.3.1 id-CA-DH and 0.4.0.127.0.7.2.2.1.1 id-PK-DH (same clauses). */
static const uint8_t oid_ca_dh[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x01 };
static const uint8_t oid_pk_dh[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x01 };

#define SW_OK 0x9000
#define SW_EOF 0x6282

struct cnie_icao {
	cnie_transport *inner; /* borrowed */
	cnie_transport *sm;    /* owned: the secure messaging transport */
	bool pace;
	/* PACE-CAM: CA_IC and PK_Map,IC of the run, until DG14's key checks them. */
	bool cam;
	uint8_t cam_ca[CNIE_PACE_CAM_MAX];
	size_t cam_ca_len;
	uint8_t cam_map[1 + 2 * CNIE_PACE_CAM_MAX];
	size_t cam_map_len;
	int chip_auth; /* CNIE_ICAO_CHIP_* proven so far */
};

/* ---- helpers ----------------------------------------------------------- */

static int
select_app(cnie_transport *t)
{
	cnie_apdu a;
	cnie_buf *b;
	uint16_t sw;
	int r;

	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x04, 0x0C);
	a.data = icao_aid;
	a.nc = sizeof(icao_aid);
	r = cnie_apdu_transmit_ok(t, &a, b, &sw);
	cnie_buf_free(&b);
	return r;
}

/*
 * Selects the MF (ISO 7816-4 7.1.1, P1 00 with no data): EF.CardAccess is
 * an EF of the MF and the SFI is looked up in the current DF, which may
 * still be an application from an earlier session on this card.
 */
static int
select_mf(cnie_transport *t)
{
	cnie_apdu a;
	cnie_buf *b;
	uint16_t sw;
	int r;

	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x00, 0x0C);
	r = cnie_apdu_transmit_ok(t, &a, b, &sw);
	cnie_buf_free(&b);
	return r;
}

/*
 * READ BINARY with odd INS (ISO 7816-4 7.2.3) for offsets above 32767:
 * P1-P2 = 0000 (the current EF), data DO'54' with the offset on the
 * fewest bytes, the answer a DO'53' holding the bytes read.  ne counts
 * the DO'53' header too (4 bytes at most for a length up to 65535).
 */
static int
read_chunk_odd(cnie_transport *t, size_t off, size_t ne, cnie_buf *out)
{
	cnie_apdu a;
	cnie_buf *raw = NULL;
	cnie_tlv d;
	uint8_t do54[6];
	uint16_t sw = 0;
	size_t k = 0, i;
	int r;

	if (off > 0xFFFFFFu)
		return CNIE_ERR_TOO_LONG;
	do54[0] = 0x54;
	for (i = 3; i > 0; i--)
		if (k > 0 || (off >> (8 * (i - 1))) != 0 || i == 1)
			do54[2 + k++] = (uint8_t)(off >> (8 * (i - 1)));
	do54[1] = (uint8_t)k;
	if ((raw = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	cnie_apdu_init(&a, 0x00, 0xB1, 0x00, 0x00);
	a.data = do54;
	a.nc = 2 + k;
	a.ne = ne;
	a.flags = CNIE_APDU_SENSITIVE_RESP;
	if ((r = cnie_apdu_transmit(t, &a, raw, &sw)) != 0)
		goto out;
	if (sw != SW_OK && (sw != SW_EOF || cnie_buf_len(raw) == 0)) {
		r = (r = cnie_sw_to_error(sw)) != 0 ? r : CNIE_ERR_CARD;
		goto out;
	}
	/* Exactly one DO'53' with at least one byte, nothing after it. */
	if (cnie_tlv_parse_one(cnie_buf_ptr(raw), cnie_buf_len(raw), &d) != 0 || d.tag != 0x53 ||
	    d.len == 0 || d.hdr_len + d.len != cnie_buf_len(raw)) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	r = cnie_buf_put(out, d.value, d.len);
out:
	cnie_buf_free(&raw);
	return r;
}

/*
 * One READ BINARY: by SFI at offset 0 (that makes the file current, ISO
 * 7816-4 7.2.2), else at a 15-bit offset of the current EF, and beyond
 * that with odd INS.  6282 (end of file) with data is a short read, not
 * an error.
 */
static int
read_chunk(cnie_transport *t, int sfi, size_t off, size_t ne, cnie_buf *out)
{
	cnie_apdu a;
	uint16_t sw = 0;
	size_t before = cnie_buf_len(out);
	int r;

	if (sfi == 0 && off > ICAO_MAX_OFFSET)
		return read_chunk_odd(t, off, ne, out);
	if (sfi != 0)
		cnie_apdu_init(&a, 0x00, 0xB0, (uint8_t)(0x80 | sfi), 0x00);
	else
		cnie_apdu_init(&a, 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off);
	a.ne = ne;
	a.flags = CNIE_APDU_SENSITIVE_RESP; /* personal data: masked in traces */
	if ((r = cnie_apdu_transmit(t, &a, out, &sw)) != 0)
		return r;
	if (sw == SW_OK || (sw == SW_EOF && cnie_buf_len(out) > before))
		return 0;
	(void)cnie_buf_truncate(out, before);
	return (r = cnie_sw_to_error(sw)) != 0 ? r : CNIE_ERR_CARD;
}

/* Size of the whole TLV starting at p[0..n): header + declared length. */
static int
tlv_total(const uint8_t *p, size_t n, size_t *total)
{
	cnie_cur c;
	uint8_t b, nl;
	uint32_t len = 0;
	size_t hdr;

	cnie_cur_init(&c, p, n);
	if (cnie_cur_u8(&c, &b) != 0)
		return CNIE_ERR_TRUNCATED;
	if (b == 0x00 || b == 0xFF)
		return CNIE_ERR_ENCODING;
	if ((b & 0x1F) == 0x1F) {
		/* LDS tags have at most two bytes (9303-10 4.6). */
		if (cnie_cur_u8(&c, &b) != 0)
			return CNIE_ERR_TRUNCATED;
		if ((b & 0x80) != 0)
			return CNIE_ERR_ENCODING;
	}
	if (cnie_cur_u8(&c, &b) != 0)
		return CNIE_ERR_TRUNCATED;
	if (b < 0x80) {
		len = b;
	} else {
		nl = (uint8_t)(b & 0x7F);
		if (nl == 0 || nl > 3)
			return CNIE_ERR_ENCODING;
		if (cnie_cur_uint_be(&c, nl, &len) != 0)
			return CNIE_ERR_TRUNCATED;
	}
	hdr = c.pos;
	if (len > CNIE_ICAO_MAX_FILE - hdr)
		return CNIE_ERR_TOO_LONG;
	*total = hdr + len;
	return 0;
}

/* Reads a whole transparent LDS file by SFI over t (plain or SM). */
static int
read_file(cnie_transport *t, int sfi, cnie_buf *out, cnie_icao_progress_fn progress, void *arg)
{
	const cnie_transport_caps *caps;
	cnie_buf *f = NULL;
	size_t chunk, total, want;
	int r;

	if ((caps = cnie_transport_get_caps(t)) == NULL || caps->max_resp < 3)
		return CNIE_ERR_INTERNAL;
	chunk = caps->max_resp - 2;
	if (!caps->extended && chunk > CNIE_APDU_SHORT_MAX_NE)
		chunk = CNIE_APDU_SHORT_MAX_NE;
	if (chunk > CNIE_APDU_EXT_MAX_NE)
		chunk = CNIE_APDU_EXT_MAX_NE;
	if ((f = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	/*
	 * The first part both starts the file and tells its size, which saves
	 * a separate 4..6-byte header read.  With extended length it asks for
	 * a whole chunk: most files (DG2 and EF.SOD included) then come in one
	 * APDU; with short APDUs one short-answer chunk.
	 */
	if ((r = read_chunk(t, sfi, 0,
	    caps->extended || chunk < ICAO_FIRST_READ ? chunk : ICAO_FIRST_READ, f)) != 0)
		goto out;
	if ((r = tlv_total(cnie_buf_ptr(f), cnie_buf_len(f), &total)) != 0)
		goto out;
	if (cnie_buf_len(f) > total) {
		/* Bytes after the TLV are not part of the LDS object. */
		if ((r = cnie_buf_truncate(f, total)) != 0)
			goto out;
	}
	if (progress != NULL)
		progress(cnie_buf_len(f), total, arg);
	while (cnie_buf_len(f) < total) {
		want = total - cnie_buf_len(f);
		if (cnie_buf_len(f) > ICAO_MAX_OFFSET) {
			/* Odd INS: the answer's DO'53' header (53 82 LL LL) counts in Ne. */
			if (chunk <= ICAO_DO53_HDR) {
				r = CNIE_ERR_UNSUPPORTED;
				goto out;
			}
			if (want > chunk - ICAO_DO53_HDR)
				want = chunk - ICAO_DO53_HDR;
			want += ICAO_DO53_HDR;
		} else if (want > chunk) {
			want = chunk;
		}
		if ((r = read_chunk(t, 0, cnie_buf_len(f), want, f)) != 0)
			goto out;
		if (cnie_buf_len(f) > total) {
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		if (progress != NULL)
			progress(cnie_buf_len(f), total, arg);
	}
	r = cnie_buf_put_buf(out, f);
out:
	cnie_buf_free(&f);
	return r;
}

/* ---- open ------------------------------------------------------------- */

static int
open_bac(cnie_icao *ic, const char *mrz_info)
{
	cnie_sm *sm = NULL;
	int r;

	/* BAC runs with the application selected (9303-11 4.3). */
	if ((r = select_app(ic->inner)) != 0)
		return r;
	if ((r = cnie_bac_run(ic->inner, mrz_info, &sm)) != 0)
		return r;
	ic->pace = false;
	ic->cam = false;
	return cnie_sm_transport_new(ic->inner, sm, &ic->sm);
}

/*
 * Keeps what a PACE-CAM run leaves to check (9303-11 4.4.3.5): the chip
 * is not authenticated until cnie_icao_chip_auth has matched them with
 * the static key of DG14, itself vouched for by Passive Authentication.
 */
static int
cam_keep(cnie_icao *ic, const cnie_pace *run)
{
	const uint8_t *ca, *map;
	size_t ca_len, map_len;
	int r;

	ic->cam = false;
	cnie_wipe(ic->cam_ca, sizeof(ic->cam_ca));
	ic->cam_ca_len = ic->cam_map_len = 0;
	if ((r = cnie_pace_terminal_cam(run, &ca, &ca_len, &map, &map_len)) == CNIE_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if (ca_len > sizeof(ic->cam_ca) || map_len > sizeof(ic->cam_map))
		return CNIE_ERR_BAD_RESPONSE;
	memcpy(ic->cam_ca, ca, ca_len);
	ic->cam_ca_len = ca_len;
	memcpy(ic->cam_map, map, map_len);
	ic->cam_map_len = map_len;
	ic->cam = true;
	return 0;
}

static int
secret_ok(const cnie_icao_secret *secret)
{
	return secret != NULL && secret->value != NULL &&
	    (secret->type == CNIE_ICAO_CAN || secret->type == CNIE_ICAO_MRZ);
}

/*
 * Access control on ic->inner: PACE from EF.CardAccess, else BAC; then
 * the application is selected inside the new session, which replaces any
 * earlier one in ic->sm.
 */
static int
establish(cnie_icao *ic, const cnie_icao_secret *secret)
{
	cnie_transport *t = ic->inner;
	cnie_buf *ca = NULL;
	cnie_sm *sm = NULL;
	cnie_pace *run = NULL;
	char info[64];
	const char *pw;
	size_t pwlen;
	cnie_pace_secret type;
	bool have_ca = false;
	int r;

	memset(info, 0, sizeof(info));
	cnie_transport_free(&ic->sm);
	/* A new session proves nothing yet: CA or CAM is checked again on it. */
	ic->chip_auth = CNIE_ICAO_CHIP_NONE;
	if (secret->type == CNIE_ICAO_MRZ &&
	    (r = cnie_mrz_info_from_mrz(secret->value, info, sizeof(info))) != 0)
		goto out;
	if ((ca = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_buf_set_max(ca, ICAO_MAX_CARD_ACCESS)) != 0)
		goto out;
	if ((secret->flags & CNIE_ICAO_NO_PACE) == 0) {
		/*
		 * EF.CardAccess is read plain from the MF (9303-10 3.11.3), by
		 * its SFI, which is unique to the MF.  The MF is current after
		 * the ATR (7816-4 7.1.1), so the read comes first; when another
		 * program left another DF current (PC/SC keeps the card's state
		 * between connections), the card refuses it and the read is
		 * repeated after SELECT MF.
		 */
		r = read_file(t, ICAO_SFI_CARD_ACCESS, ca, NULL, NULL);
		if (r <= CNIE_ERR_CARD && r >= CNIE_ERR_SW_NOT_ENOUGH_MEMORY) {
			cnie_buf_reset(ca);
			if ((r = select_mf(t)) != 0)
				goto out;
			r = read_file(t, ICAO_SFI_CARD_ACCESS, ca, NULL, NULL);
		}
		if (r == 0)
			have_ca = true;
		else if (r != CNIE_ERR_SW_FILE_NOT_FOUND)
			goto out;
	}
	if (have_ca) {
		if (secret->type == CNIE_ICAO_CAN) {
			type = CNIE_PACE_CAN;
			pw = secret->value;
		} else {
			type = CNIE_PACE_MRZ;
			pw = info;
		}
		pwlen = strlen(pw);
		r = cnie_pace_run_keep(t, cnie_buf_ptr(ca), cnie_buf_len(ca), type, pw, pwlen,
		    &run);
		if (r == 0) {
			ic->pace = true;
			if ((r = cam_keep(ic, run)) != 0 ||
			    (r = cnie_pace_terminal_take_sm(run, &sm)) != 0 ||
			    (r = cnie_sm_transport_new(t, sm, &ic->sm)) != 0)
				goto out;
		} else if (r != CNIE_ERR_UNSUPPORTED) {
			goto out;
		}
	}
	if (ic->sm == NULL) {
		/* No PACE: BAC, which needs the MRZ (9303-11 4.3). */
		if (secret->type != CNIE_ICAO_MRZ) {
			r = CNIE_ERR_UNSUPPORTED;
			goto out;
		}
		if ((r = open_bac(ic, info)) != 0)
			goto out;
	}
	r = select_app(ic->sm);
out:
	cnie_wipe(info, sizeof(info));
	cnie_pace_terminal_free(&run);
	cnie_buf_free(&ca);
	if (r != 0)
		cnie_transport_free(&ic->sm);
	return r;
}

int
cnie_icao_open(cnie_transport *t, const cnie_icao_secret *secret, cnie_icao **out)
{
	cnie_icao *ic = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (t == NULL || !secret_ok(secret) || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		return CNIE_ERR_NOMEM;
	ic->inner = t;
	if ((r = establish(ic, secret)) != 0) {
		cnie_icao_free(&ic);
		return r;
	}
	*out = ic;
	return 0;
}

void
cnie_icao_free(cnie_icao **icao)
{
	if (icao == NULL || *icao == NULL)
		return;
	cnie_transport_free(&(*icao)->sm);
	/* Holds CA_IC (CAM): wiped with the rest. */
	cnie_freezero(*icao, sizeof(**icao));
	*icao = NULL;
}

int
cnie_icao_used_pace(const cnie_icao *icao)
{
	return icao != NULL && icao->pace;
}

int
cnie_icao_used_cam(const cnie_icao *icao)
{
	return icao != NULL && icao->pace && icao->cam;
}

int
cnie_icao_chip_authenticated(const cnie_icao *icao)
{
	return icao == NULL ? CNIE_ICAO_CHIP_NONE : icao->chip_auth;
}

cnie_transport *
cnie_icao_transport(cnie_icao *icao)
{
	return icao != NULL ? icao->sm : NULL;
}

/* ---- reads ------------------------------------------------------------ */

int
cnie_icao_read(cnie_icao *icao, int file, cnie_buf *out, cnie_icao_progress_fn progress,
    void *arg)
{
	if (icao == NULL || out == NULL || icao->sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (!((file >= 1 && file <= CNIE_LDS_MAX_DG) || file == CNIE_ICAO_EF_COM ||
	    file == CNIE_ICAO_EF_SOD))
		return CNIE_ERR_INVALID_ARG;
	return read_file(icao->sm, file, out, progress, arg);
}

void
cnie_icao_files_clear(cnie_icao_files *files)
{
	size_t i;

	if (files == NULL)
		return;
	cnie_buf_free(&files->com);
	cnie_buf_free(&files->sod);
	for (i = 0; i <= CNIE_LDS_MAX_DG; i++)
		cnie_buf_free(&files->dg[i]);
}

static int
read_new(cnie_icao *icao, int file, cnie_buf **out, cnie_icao_progress_fn progress, void *arg)
{
	int r;

	if ((*out = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_icao_read(icao, file, *out, progress, arg)) != 0)
		cnie_buf_free(out);
	return r;
}

/*
 * The opt-in LDS cache (CNIE_ICAO_READ_CACHED): entries "dgN" under a key
 * made of EF.SOD's SHA-256 (bytes 0..15 as the "serial", 16..23 as the
 * content check), so one document's entries never serve another.  A
 * cached DG is used only when its hash equals the one EF.SOD, just read
 * from the card, holds for it (cnie_pa_verify's DG step); any other entry
 * is read from the card again and rewritten.
 */
static int
lds_cache_open(const cnie_buf *sod, cnie_cache **out)
{
	uint8_t md[32];

	*out = NULL;
	if (!cnie_cache_enabled())
		return 0;
	if (SHA256(cnie_buf_ptr(sod), cnie_buf_len(sod), md) == NULL)
		return CNIE_ERR_CRYPTO;
	if (cnie_cache_open(md, 16, md + 16, CNIE_CACHE_CHECK_LEN, out) != 0)
		*out = NULL; /* no usable cache directory: read the card */
	return 0;
}

/* Takes from the cache each listed DG whose hash matches EF.SOD. */
static int
lds_cache_take(cnie_cache *cache, const cnie_buf *sod, const cnie_lds_com *com,
    cnie_icao_files *files)
{
	cnie_pa_dg dgs[CNIE_LDS_MAX_DG];
	cnie_pa_trust *none = NULL;
	cnie_pa_result res;
	cnie_buf *b[CNIE_LDS_MAX_DG + 1] = { NULL };
	char name[8];
	size_t i, n = 0;
	int r, dg;

	for (i = 0; i < com->ndgs; i++) {
		dg = com->dgs[i];
		if (dg < 1 || dg > CNIE_LDS_MAX_DG || b[dg] != NULL)
			continue;
		snprintf(name, sizeof(name), "dg%d", dg);
		if ((b[dg] = cnie_buf_new()) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		if (cnie_cache_get(cache, name, b[dg]) != 0) {
			cnie_buf_free(&b[dg]);
			continue;
		}
		dgs[n].number = dg;
		dgs[n].data = cnie_buf_ptr(b[dg]);
		dgs[n].len = cnie_buf_len(b[dg]);
		n++;
	}
	r = 0;
	if (n == 0)
		goto out;
	/* No trust anchors: only the hash step matters here; PA is the caller's. */
	if ((r = cnie_pa_trust_new(&none)) != 0)
		goto out;
	(void)cnie_pa_verify(cnie_buf_ptr(sod), cnie_buf_len(sod), dgs, n, none, 0, &res);
	for (dg = 1; dg <= CNIE_LDS_MAX_DG; dg++) {
		if (b[dg] == NULL)
			continue;
		if (res.dg[dg] == CNIE_PA_DG_MATCH) {
			files->dg[dg] = b[dg];
			b[dg] = NULL;
		} else {
			snprintf(name, sizeof(name), "dg%d", dg);
			(void)cnie_cache_remove(cache, name);
		}
	}
out:
	for (dg = 0; dg <= CNIE_LDS_MAX_DG; dg++)
		cnie_buf_free(&b[dg]);
	cnie_pa_trust_free(&none);
	return r;
}

int
cnie_icao_read_all(cnie_icao *icao, cnie_icao_files *files, cnie_icao_progress_fn progress,
    void *arg)
{
	return cnie_icao_read_all_ex(icao, 0, files, progress, arg);
}

int
cnie_icao_read_all_ex(cnie_icao *icao, unsigned flags, cnie_icao_files *files,
    cnie_icao_progress_fn progress, void *arg)
{
	return cnie_icao_read_all_secret(icao, NULL, flags, files, progress, arg);
}

/*
 * read_new, and when the chip has ended secure messaging (a plain
 * 6987/6988/6882, sm_transport.c) or the card was reset, access control
 * once more with the caller's secret and the file read again, once.
 */
static int
read_recover(cnie_icao *icao, const cnie_icao_secret *secret, int file, cnie_buf **out,
    cnie_icao_progress_fn progress, void *arg)
{
	int r = read_new(icao, file, out, progress, arg);

	if ((r != CNIE_ERR_SM && r != CNIE_ERR_LOGIN_LOST) || secret == NULL)
		return r;
	cnie_log_info("identity: the secure messaging session ended: access control again");
	if ((r = establish(icao, secret)) != 0)
		return r;
	return read_new(icao, file, out, progress, arg);
}

/* Files listed in EF.COM that the chip may refuse: skipped, the rest read. */
static bool
skippable(int r)
{
	/*
	 * 6982: DG3/DG4 need Terminal Authentication (9303-11 7), not ours;
	 * 6A82: a DG EF.COM lists but the chip does not hold.
	 */
	return r == CNIE_ERR_SW_SECURITY_STATUS || r == CNIE_ERR_SW_FILE_NOT_FOUND;
}

int
cnie_icao_read_all_secret(cnie_icao *icao, const cnie_icao_secret *secret, unsigned flags,
    cnie_icao_files *files, cnie_icao_progress_fn progress, void *arg)
{
	cnie_lds_com *com = NULL;
	cnie_cache *cache = NULL;
	char name[8];
	size_t i;
	int r, dg;

	if (icao == NULL || files == NULL || (flags & ~(unsigned)CNIE_ICAO_READ_CACHED) != 0 ||
	    (secret != NULL && !secret_ok(secret)))
		return CNIE_ERR_INVALID_ARG;
	memset(files, 0, sizeof(*files));
	if ((r = read_recover(icao, secret, CNIE_ICAO_EF_COM, &files->com, progress, arg)) != 0 ||
	    (r = cnie_lds_com_parse(cnie_buf_ptr(files->com), cnie_buf_len(files->com),
		 &com)) != 0)
		goto out;
	if ((flags & CNIE_ICAO_READ_CACHED) != 0) {
		/* EF.SOD first: it keys the cache and vouches for each entry. */
		if ((r = read_recover(icao, secret, CNIE_ICAO_EF_SOD, &files->sod, progress,
			 arg)) != 0 ||
		    (r = lds_cache_open(files->sod, &cache)) != 0)
			goto out;
		if (cache != NULL && (r = lds_cache_take(cache, files->sod, com, files)) != 0)
			goto out;
	}
	for (i = 0; i < com->ndgs; i++) {
		dg = com->dgs[i];
		if (dg < 1 || dg > CNIE_LDS_MAX_DG || files->dg[dg] != NULL)
			continue;
		r = read_recover(icao, secret, dg, &files->dg[dg], progress, arg);
		if (skippable(r)) {
			cnie_log_info("identity: DG%d refused (%s): skipped", dg, cnie_error_name(r));
			r = 0;
			continue;
		}
		if (r != 0)
			goto out;
		if (cache != NULL) {
			snprintf(name, sizeof(name), "dg%d", dg);
			if (cnie_cache_put(cache, name, cnie_buf_ptr(files->dg[dg]),
			    cnie_buf_len(files->dg[dg])) != 0)
				cnie_log_info("cache: could not store a data group");
		}
	}
	if (files->sod == NULL)
		r = read_recover(icao, secret, CNIE_ICAO_EF_SOD, &files->sod, progress, arg);
out:
	cnie_cache_free(&cache);
	cnie_lds_com_free(&com);
	if (r != 0)
		cnie_icao_files_clear(files);
	return r;
}

/* ---- Active Authentication ---------------------------------------------- */

/* DG15 (6F { SubjectPublicKeyInfo }) to a public key. */
static int
dg15_key(const uint8_t *dg15, size_t n, EVP_PKEY **key)
{
	cnie_tlv t;
	const unsigned char *p;
	int r;

	if ((r = cnie_tlv_parse_one(dg15, n, &t)) != 0)
		return r;
	if (t.tag != 0x6F || t.len == 0 || t.len > INT32_MAX)
		return CNIE_ERR_ENCODING;
	p = t.value;
	if ((*key = d2i_PUBKEY(NULL, &p, (long)t.len)) == NULL || p != t.value + t.len) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return CNIE_ERR_ENCODING;
	}
	return 0;
}

/*
 * The hash an ISO/IEC 9796-2 trailer names: BC (implicit: SHA-1, the
 * ICAO choice) or the two-byte trailer XX CC with XX an ISO/IEC 10118-3
 * hash identifier (33 SHA-1, 38 SHA-224, 34 SHA-256, 36 SHA-384, 35
 * SHA-512).  *tlen gets the trailer length; NULL when not recognised.
 */
static const cnie_hash_info *
iso9796_trailer(const uint8_t *f, size_t k, size_t *tlen)
{
	cnie_card_hash id;

	if (f[k - 1] == 0xBC) {
		*tlen = 1;
		return cnie_hash_by_id(CNIE_CARD_HASH_SHA1);
	}
	if (f[k - 1] != 0xCC)
		return NULL;
	*tlen = 2;
	switch (f[k - 2]) {
	case 0x33:
		id = CNIE_CARD_HASH_SHA1;
		break;
	case 0x38:
		id = CNIE_CARD_HASH_SHA224;
		break;
	case 0x34:
		id = CNIE_CARD_HASH_SHA256;
		break;
	case 0x36:
		id = CNIE_CARD_HASH_SHA384;
		break;
	case 0x35:
		id = CNIE_CARD_HASH_SHA512;
		break;
	default:
		return NULL;
	}
	return cnie_hash_by_id(id);
}

/*
 * ISO/IEC 9796-2 scheme 1 verification (9303-11 6.1.2): F = s^e mod n,
 * or n - F when the signer sent min(s, n - s); F = 6A || M1 || H || T
 * with H = hash(M1 || challenge) (partial recovery, header 6A) and T the
 * trailer naming the hash (iso9796_trailer).
 */
static int
aa_verify_rsa(EVP_PKEY *key, const uint8_t *chal, size_t cn, const uint8_t *sig, size_t sn)
{
	BIGNUM *n = NULL, *e = NULL, *s = NULL, *f = NULL;
	BN_CTX *bc = NULL;
	uint8_t *fb = NULL, h[CNIE_HASH_MAX_LEN];
	EVP_MD_CTX *md = NULL;
	const cnie_hash_info *hi;
	size_t k = 0, tlen = 0, hl;
	int r = CNIE_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    (bc = BN_CTX_new()) == NULL || (f = BN_new()) == NULL)
		goto out;
	k = (size_t)BN_num_bytes(n);
	if (sn != k || k < 2 + CNIE_HASH_MAX_LEN + 2) {
		r = CNIE_ERR_VERIFY_FAILED;
		goto out;
	}
	if ((s = BN_bin2bn(sig, (int)sn, NULL)) == NULL)
		goto out;
	if (BN_cmp(s, n) >= 0) {
		r = CNIE_ERR_VERIFY_FAILED;
		goto out;
	}
	if (BN_mod_exp(f, s, e, n, bc) != 1)
		goto out;
	/* Trailers BC and CC make F even; n is odd, so an odd F means n - F was sent. */
	if (BN_is_odd(f) && BN_sub(f, n, f) != 1)
		goto out;
	if ((fb = malloc(k)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (BN_bn2binpad(f, fb, (int)k) != (int)k)
		goto out;
	r = CNIE_ERR_VERIFY_FAILED;
	if (fb[0] != 0x6A || (hi = iso9796_trailer(fb, k, &tlen)) == NULL) {
		cnie_log_debug("active authentication: not ISO 9796-2 partial recovery with a "
			       "known trailer");
		goto out;
	}
	hl = hi->len;
	if (k < 1 + hl + tlen + 1)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, cnie_hash_md(hi->id), NULL) != 1 ||
	    EVP_DigestUpdate(md, fb + 1, k - 1 - hl - tlen) != 1 ||
	    EVP_DigestUpdate(md, chal, cn) != 1 || EVP_DigestFinal_ex(md, h, NULL) != 1) {
		r = CNIE_ERR_CRYPTO;
		goto out;
	}
	if (cnie_memeq_ct(h, fb + k - tlen - hl, hl) == 0)
		r = 0;
out:
	if (fb != NULL)
		cnie_freezero(fb, k);
	EVP_MD_CTX_free(md);
	BN_free(n);
	BN_free(e);
	BN_free(s);
	BN_clear_free(f);
	BN_CTX_free(bc);
	return r;
}

/* ECDSA plain r || s (BSI TR-03111 5.2.1) over hash(challenge). */
static int
aa_verify_ec(EVP_PKEY *key, const EVP_MD *hash, const uint8_t *chal, size_t cn,
    const uint8_t *sig, size_t sn)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	int dn, r = CNIE_ERR_CRYPTO, v;

	if (sn == 0 || sn % 2 != 0 || sn > 264)
		return CNIE_ERR_VERIFY_FAILED;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(sig, (int)(sn / 2), NULL)) == NULL ||
	    (bs = BN_bin2bn(sig + sn / 2, (int)(sn / 2), NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((dn = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, hash, NULL, key) != 1)
		goto out;
	v = EVP_DigestVerify(md, der, (size_t)dn, chal, cn);
	r = v == 1 ? 0 : v == 0 ? CNIE_ERR_VERIFY_FAILED : CNIE_ERR_CRYPTO;
	if (v < 0)
		r = CNIE_ERR_VERIFY_FAILED; /* malformed signature values */
out:
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return r;
}

int
cnie_icao_active_auth(cnie_icao *icao, const uint8_t *challenge, size_t challenge_len,
    const uint8_t *dg15, size_t dg15_len, cnie_buf *sig)
{
	return cnie_icao_active_auth_ex(icao, challenge, challenge_len, dg15, dg15_len, NULL, 0,
	    sig);
}

int
cnie_icao_active_auth_ex(cnie_icao *icao, const uint8_t *challenge, size_t challenge_len,
    const uint8_t *dg15, size_t dg15_len, const uint8_t *dg14, size_t dg14_len, cnie_buf *sig)
{
	EVP_PKEY *key = NULL;
	cnie_buf *resp = NULL;
	cnie_card_hash ec_hash = CNIE_CARD_HASH_SHA256;
	cnie_apdu a;
	uint16_t sw;
	int r;

	if (icao == NULL || icao->sm == NULL || challenge == NULL ||
	    challenge_len != CNIE_ICAO_AA_CHALLENGE_LEN || dg15 == NULL || sig == NULL ||
	    (dg14 == NULL && dg14_len != 0))
		return CNIE_ERR_INVALID_ARG;
	if ((r = dg15_key(dg15, dg15_len, &key)) != 0)
		return r;
	if (dg14 != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
		/* The hash DG14's ActiveAuthenticationInfo names (9303-11 6.1). */
		r = cnie_lds_dg14_aa_hash(dg14, dg14_len, &ec_hash);
		if (r == CNIE_ERR_NOT_FOUND) {
			ec_hash = CNIE_CARD_HASH_SHA256;
		} else if (r != 0) {
			cnie_log_info("active authentication: DG14's ActiveAuthenticationInfo "
				      "unusable (%s)", cnie_error_name(r));
			goto out;
		}
	}
	if ((resp = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	cnie_apdu_init(&a, 0x00, 0x88, 0x00, 0x00);
	a.data = challenge;
	a.nc = challenge_len;
	a.ne = CNIE_APDU_SHORT_MAX_NE;
	if ((r = cnie_apdu_transmit_ok(icao->sm, &a, resp, &sw)) != 0)
		goto out;
	if (cnie_buf_len(resp) == 0) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	if ((r = cnie_buf_put_buf(sig, resp)) != 0)
		goto out;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		r = aa_verify_rsa(key, challenge, challenge_len, cnie_buf_ptr(resp),
		    cnie_buf_len(resp));
		break;
	case EVP_PKEY_EC:
		r = aa_verify_ec(key, cnie_hash_md(ec_hash), challenge, challenge_len,
		    cnie_buf_ptr(resp), cnie_buf_len(resp));
		break;
	default:
		r = CNIE_ERR_UNSUPPORTED;
		break;
	}
out:
	EVP_PKEY_free(key);
	cnie_buf_free(&resp);
	return r;
}

/* ---- Chip Authentication ---------------------------------------------- */

typedef struct ca_info {
	const uint8_t *oid; /* id-CA-ECDH-* or id-CA-DH-* (borrowed from DG14) */
	bool dh;
	size_t oid_len;
	uint32_t key_id;    /* 0 = absent */
	const uint8_t *spki; /* ChipAuthenticationPublicKeyInfo's key */
	size_t spki_len;
	uint32_t pk_key_id;
} ca_info;

/* Small non-negative INTEGER. */
static int
der_uint(const cnie_tlv *t, uint32_t *v)
{
	size_t i;

	if (t->tag != 0x02 || t->len == 0 || t->len > 4)
		return CNIE_ERR_ENCODING;
	*v = 0;
	for (i = 0; i < t->len; i++)
		*v = (*v << 8) | t->value[i];
	return 0;
}

/*
 * Walks DG14's SecurityInfos (9303-11 9.2) for the CA info and key: the
 * first ChipAuthenticationInfo (ECDH or DH) and the first public key of the
 * same key agreement.
 */
static int
dg14_parse(const uint8_t *dg14, size_t n, ca_info *ci)
{
	struct {
		const uint8_t *spki;
		size_t len;
		uint32_t id;
	} pk[2]; /* [0] id-PK-ECDH, [1] id-PK-DH */
	cnie_tlv oid, x;
	cnie_cur c, s;
	uint32_t v;
	int r, k;

	memset(ci, 0, sizeof(*ci));
	memset(pk, 0, sizeof(pk));
	if ((r = cnie_lds_dg14_open(dg14, n, &c)) != 0)
		return r;
	while ((r = cnie_lds_security_info_next(&c, &oid, &s)) == 0) {
		if (ci->oid == NULL && oid.len == sizeof(oid_ca_ecdh) + 1 &&
		    (memcmp(oid.value, oid_ca_ecdh, sizeof(oid_ca_ecdh)) == 0 ||
			memcmp(oid.value, oid_ca_dh, sizeof(oid_ca_dh)) == 0)) {
			/* ChipAuthenticationInfo: version, optional keyId. */
			if ((r = cnie_tlv_next(&s, &x)) != 0 || (r = der_uint(&x, &v)) != 0)
				return r;
			if (v != 1)
				continue; /* version 2 is EAC2's CA: not ours */
			ci->oid = oid.value;
			ci->oid_len = oid.len;
			ci->dh = memcmp(oid.value, oid_ca_dh, sizeof(oid_ca_dh)) == 0;
			if (cnie_cur_left(&s) > 0 &&
			    ((r = cnie_tlv_next(&s, &x)) != 0 || (r = der_uint(&x, &ci->key_id)) != 0))
				return r;
		} else if (oid.len == sizeof(oid_pk_ecdh) &&
		    (memcmp(oid.value, oid_pk_ecdh, sizeof(oid_pk_ecdh)) == 0 ||
			memcmp(oid.value, oid_pk_dh, sizeof(oid_pk_dh)) == 0)) {
			/* The first key of each agreement; the info picks one at the end. */
			k = memcmp(oid.value, oid_pk_dh, sizeof(oid_pk_dh)) == 0 ? 1 : 0;
			if (pk[k].spki != NULL)
				continue;
			if ((r = cnie_tlv_next(&s, &x)) != 0)
				return r;
			if (x.tag != 0x30)
				return CNIE_ERR_ENCODING;
			pk[k].spki = x.value - x.hdr_len;
			pk[k].len = x.hdr_len + x.len;
			if (cnie_cur_left(&s) > 0 &&
			    ((r = cnie_tlv_next(&s, &x)) != 0 || (r = der_uint(&x, &pk[k].id)) != 0))
				return r;
		}
	}
	if (r != CNIE_ERR_NOT_FOUND)
		return r;
	if (ci->oid == NULL || pk[ci->dh ? 1 : 0].spki == NULL)
		return CNIE_ERR_UNSUPPORTED;
	ci->spki = pk[ci->dh ? 1 : 0].spki;
	ci->spki_len = pk[ci->dh ? 1 : 0].len;
	ci->pk_key_id = pk[ci->dh ? 1 : 0].id;
	if (ci->key_id != 0 && ci->pk_key_id != 0 && ci->key_id != ci->pk_key_id)
		return CNIE_ERR_UNSUPPORTED;
	return 0;
}

int
cnie_icao_dg14_chip_key(const uint8_t *dg14, size_t n, bool *dh, const uint8_t **spki,
    size_t *spki_len)
{
	ca_info ci;
	int r;

	if (dg14 == NULL || dh == NULL || spki == NULL || spki_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = dg14_parse(dg14, n, &ci)) != 0)
		return r;
	*dh = ci.dh;
	*spki = ci.spki;
	*spki_len = ci.spki_len;
	return 0;
}

/* Cipher of id-CA-ECDH-* from its last arc (9303-11 9.2.5). */
static int
ca_cipher(const ca_info *ci, cnie_sm_cipher *c)
{
	switch (ci->oid[ci->oid_len - 1]) {
	case 1:
		*c = CNIE_SM_3DES;
		return 0;
	case 2:
		*c = CNIE_SM_AES128;
		return 0;
	case 3:
		*c = CNIE_SM_AES192;
		return 0;
	case 4:
		*c = CNIE_SM_AES256;
		return 0;
	default:
		return CNIE_ERR_UNSUPPORTED;
	}
}

/*
 * Ephemeral key agreement on the chip key's domain parameters: *pub gets
 * PK.PCD (ECDH: the uncompressed point; DH: the public value on the
 * length of p), K = the x coordinate of the shared point (ECDH, TR-03111)
 * or the shared DH value without leading zeros, as OpenPACE computes it
 * (9303-11 9.6).
 */
static int
ca_ka(EVP_PKEY *chip, cnie_buf *pub, uint8_t *k, size_t *klen)
{
	EVP_PKEY_CTX *kc = NULL, *dc = NULL;
	EVP_PKEY *eph = NULL;
	unsigned char *pt = NULL;
	size_t ptn, n;
	int r = CNIE_ERR_CRYPTO;

	if ((kc = EVP_PKEY_CTX_new(chip, NULL)) == NULL || EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_keygen(kc, &eph) != 1)
		goto out;
	if ((ptn = EVP_PKEY_get1_encoded_public_key(eph, &pt)) == 0)
		goto out;
	if ((r = cnie_buf_put(pub, pt, ptn)) != 0)
		goto out;
	r = CNIE_ERR_CRYPTO;
	if ((dc = EVP_PKEY_CTX_new(eph, NULL)) == NULL || EVP_PKEY_derive_init(dc) != 1 ||
	    EVP_PKEY_derive_set_peer(dc, chip) != 1 || EVP_PKEY_derive(dc, NULL, &n) != 1 ||
	    n > *klen || EVP_PKEY_derive(dc, k, &n) != 1)
		goto out;
	*klen = n;
	r = 0;
out:
	OPENSSL_free(pt);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(eph);
	return r;
}

/*
 * PACE-CAM's check (9303-11 4.4.3.5): PK_Map,IC = CA_IC * PK_IC with PK_IC
 * a ChipAuthenticationPublicKeyInfo (id-PK-ECDH) of DG14 on the PACE
 * curve; with several such keys, one must match.  No APDU: the chip
 * proved itself in the PACE run, this only checks that proof.
 */
static int
cam_check(cnie_icao *icao, const uint8_t *dg14, size_t dg14_len)
{
	cnie_tlv oid, x;
	cnie_cur c, s;
	EVP_PKEY *pk;
	const unsigned char *p;
	int r, v, keys = 0;

	if ((r = cnie_lds_dg14_open(dg14, dg14_len, &c)) != 0)
		return r;
	while ((r = cnie_lds_security_info_next(&c, &oid, &s)) == 0) {
		if (oid.len != sizeof(oid_pk_ecdh) ||
		    memcmp(oid.value, oid_pk_ecdh, sizeof(oid_pk_ecdh)) != 0)
			continue;
		if ((r = cnie_tlv_next(&s, &x)) != 0)
			return r;
		if (x.tag != 0x30)
			return CNIE_ERR_ENCODING;
		p = x.value - x.hdr_len;
		if ((pk = d2i_PUBKEY(NULL, &p, (long)(x.hdr_len + x.len))) == NULL ||
		    p != x.value + x.len) {
			EVP_PKEY_free(pk);
			return CNIE_ERR_ENCODING;
		}
		keys++;
		v = cnie_pace_cam_verify(pk, icao->cam_map, icao->cam_map_len, icao->cam_ca,
		    icao->cam_ca_len);
		EVP_PKEY_free(pk);
		if (v == 0) {
			icao->chip_auth = CNIE_ICAO_CHIP_CAM;
			cnie_log_debug("chip authentication mapping: verified");
			return 0;
		}
		/* A key on another curve is not this chip's CAM key: try the next. */
		if (v != CNIE_ERR_VERIFY_FAILED && v != CNIE_ERR_BAD_RESPONSE &&
		    v != CNIE_ERR_UNSUPPORTED)
			return v;
	}
	if (r != CNIE_ERR_NOT_FOUND)
		return r;
	if (keys == 0) {
		cnie_log_warn("chip authentication mapping: DG14 has no ECDH chip key");
		return CNIE_ERR_UNSUPPORTED;
	}
	/* The chip's authentication data does not match its key: not this chip. */
	cnie_log_warn("chip authentication mapping: the chip's authentication data does not "
		      "match DG14's key");
	return CNIE_ERR_AUTH_FAILED;
}

int
cnie_icao_chip_auth(cnie_icao *icao, const uint8_t *dg14, size_t dg14_len)
{
	ca_info ci;
	EVP_PKEY *chip = NULL;
	cnie_buf *cmd = NULL, *pub = NULL, *resp = NULL;
	cnie_transport *nt = NULL;
	cnie_sm *sm = NULL;
	cnie_sm_cipher c;
	const unsigned char *p;
	uint8_t k[512], kenc[32], kmac[32];
	size_t klen = sizeof(k), kl, mark;
	cnie_apdu a;
	uint16_t sw;
	int r;

	if (icao == NULL || icao->sm == NULL || dg14 == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (icao->cam)
		return cam_check(icao, dg14, dg14_len);
	if ((r = dg14_parse(dg14, dg14_len, &ci)) != 0 || (r = ca_cipher(&ci, &c)) != 0)
		return r;
	p = ci.spki;
	if ((chip = d2i_PUBKEY(NULL, &p, (long)ci.spki_len)) == NULL ||
	    p != ci.spki + ci.spki_len) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	/* The key must be of the info's agreement: ECDH, or DH (9303-11 6.2). */
	if (ci.dh ? (EVP_PKEY_get_base_id(chip) != EVP_PKEY_DH &&
		EVP_PKEY_get_base_id(chip) != EVP_PKEY_DHX) :
		    EVP_PKEY_get_base_id(chip) != EVP_PKEY_EC) {
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	/* Caps the DH modulus: PK.PCD goes in one GENERAL AUTHENTICATE. */
	if (ci.dh && EVP_PKEY_get_bits(chip) > 4096) {
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if ((cmd = cnie_buf_new()) == NULL || (pub = cnie_buf_new()) == NULL ||
	    (resp = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = ca_ka(chip, pub, k, &klen)) != 0)
		goto out;
	/* MSE:SET AT for CA: 80 cryptographic mechanism, 84 key id (9303-11 6.2.4). */
	if ((r = cnie_tlv_put(cmd, 0x80, ci.oid, ci.oid_len)) != 0 ||
	    (ci.key_id != 0 && (r = cnie_tlv_put_uint(cmd, 0x84, ci.key_id)) != 0))
		goto out;
	cnie_apdu_init(&a, 0x00, 0x22, 0x41, 0xA4);
	a.data = cnie_buf_ptr(cmd);
	a.nc = cnie_buf_len(cmd);
	if ((r = cnie_apdu_transmit_ok(icao->sm, &a, resp, &sw)) != 0) {
		if (r != CNIE_ERR_SM)
			r = CNIE_ERR_AUTH_FAILED;
		goto out;
	}
	/* GENERAL AUTHENTICATE 7C{80 PK.PCD}; the card answers 7C 00. */
	cnie_buf_reset(cmd);
	cnie_buf_reset(resp);
	if ((r = cnie_tlv_open(cmd, 0x7C, &mark)) != 0 ||
	    (r = cnie_tlv_put(cmd, 0x80, cnie_buf_ptr(pub), cnie_buf_len(pub))) != 0 ||
	    (r = cnie_tlv_close(cmd, mark)) != 0)
		goto out;
	cnie_apdu_init(&a, 0x00, 0x86, 0x00, 0x00);
	a.data = cnie_buf_ptr(cmd);
	a.nc = cnie_buf_len(cmd);
	a.ne = CNIE_APDU_SHORT_MAX_NE;
	if ((r = cnie_apdu_transmit_ok(icao->sm, &a, resp, &sw)) != 0) {
		if (r != CNIE_ERR_SM)
			r = CNIE_ERR_AUTH_FAILED;
		goto out;
	}
	/* KSenc = KDF(K, 1), KSmac = KDF(K, 2), SSC 0 (9303-11 6.2.3, 9.7.1). */
	kl = cnie_sm_key_len(c);
	if ((r = cnie_sm_kdf(c, k, klen, 1, kenc, kl)) != 0 ||
	    (r = cnie_sm_kdf(c, k, klen, 2, kmac, kl)) != 0 ||
	    (r = cnie_sm_new(c, kenc, kmac, kl, NULL, 0, &sm)) != 0)
		goto out;
	/* The old session is over on both sides from here. */
	cnie_transport_free(&icao->sm);
	r = cnie_sm_transport_new(icao->inner, sm, &nt);
	sm = NULL;
	if (r != 0)
		goto out;
	icao->sm = nt;
	/* Only a chip holding the DG14 private key can answer under K. */
	if ((r = select_app(icao->sm)) != 0) {
		cnie_log_warn("chip authentication: new session refused (%s)", cnie_error_name(r));
		r = CNIE_ERR_AUTH_FAILED;
	} else {
		icao->chip_auth = CNIE_ICAO_CHIP_CA;
	}
out:
	cnie_wipe(k, sizeof(k));
	cnie_wipe(kenc, sizeof(kenc));
	cnie_wipe(kmac, sizeof(kmac));
	cnie_sm_free(&sm);
	EVP_PKEY_free(chip);
	cnie_buf_free(&cmd);
	cnie_buf_free(&pub);
	cnie_buf_free(&resp);
	return r;
}
