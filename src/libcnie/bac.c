/*
 * Basic Access Control, ICAO 9303-11 clause 4.3 (key derivation 9.7),
 * worked example in Appendix D.  See src/libcnie/include/cnie/bac.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cnie/apdu.h>
#include <cnie/bac.h>
#include <cnie/error.h>
#include <cnie/log.h>

#include "mrz_internal.h"
#include "sm_internal.h"

struct cnie_bac {
	uint8_t kenc[16];
	uint8_t kmac[16];
	/* Terminal state between _auth and _finish. */
	uint8_t rnd_ic[8];
	uint8_t rnd_ifd[8];
	uint8_t k_ifd[16];
	int armed;
};

/* ---- MRZ ------------------------------------------------------------ */

static int
mrz_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 10;
	if (ch == '<')
		return 0;
	return -1;
}

/* Check digit of ICAO 9303-3 clause 4.9: weights 7, 3, 1, modulo 10. */
static int
mrz_check_digit(const char *s, size_t n, char *out)
{
	static const int w[3] = { 7, 3, 1 };
	int sum = 0, v;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v = mrz_value(s[i])) < 0)
			return CNIE_ERR_INVALID_ARG;
		sum += v * w[i % 3];
	}
	*out = (char)('0' + sum % 10);
	return 0;
}

static int
is_date(const char *s)
{
	size_t i;

	for (i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
cnie_mrz_info(const char *doc_no, const char *birth, const char *expiry, char *out,
    size_t out_len)
{
	char info[CNIE_MRZ_INFO_LEN + 1];
	size_t n;
	int r;

	if (doc_no == NULL || birth == NULL || expiry == NULL || out == NULL ||
	    out_len < sizeof(info))
		return CNIE_ERR_INVALID_ARG;
	n = strlen(doc_no);
	if (n == 0 || n > 9 || strlen(birth) != 6 || strlen(expiry) != 6 || !is_date(birth) ||
	    !is_date(expiry))
		return CNIE_ERR_INVALID_ARG;
	memset(info, '<', 9);
	memcpy(info, doc_no, n);
	memcpy(info + 10, birth, 6);
	memcpy(info + 17, expiry, 6);
	info[CNIE_MRZ_INFO_LEN] = '\0';
	if ((r = mrz_check_digit(info, 9, &info[9])) != 0 ||
	    (r = mrz_check_digit(info + 10, 6, &info[16])) != 0 ||
	    (r = mrz_check_digit(info + 17, 6, &info[23])) != 0)
		goto out;
	memcpy(out, info, sizeof(info));
out:
	cnie_wipe(info, sizeof(info));
	return r;
}

int
cnie_mrz_info_from_mrz(const char *mrz, char *out, size_t out_len)
{
	cnie_mrz m;
	cnie_mrz_field bad = CNIE_MRZ_FIELD_NONE;
	int r;

	if (mrz == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_mrz_parse_access(mrz, strlen(mrz), &m, &bad)) != 0) {
		cnie_log_info("MRZ refused: %s (%s)", cnie_mrz_field_name(bad), cnie_error_name(r));
		return CNIE_ERR_INVALID_ARG;
	}
	r = cnie_mrz_access_info(&m, out, out_len);
	cnie_mrz_clear(&m);
	return r;
}

/* ---- protocol ------------------------------------------------------- */

int
cnie_bac_new(const char *mrz_info, cnie_bac **out)
{
	cnie_bac *b = NULL;
	uint8_t h[20];
	int r = CNIE_ERR_CRYPTO;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if (mrz_info == NULL || strlen(mrz_info) < CNIE_MRZ_INFO_LEN ||
	    strlen(mrz_info) > CNIE_MRZ_INFO_MAX)
		return CNIE_ERR_INVALID_ARG;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return CNIE_ERR_NOMEM;
	/* Kseed = first 16 bytes of SHA-1(MRZ_information) (9303-11 9.7.2). */
	if (EVP_Digest(mrz_info, strlen(mrz_info), h, NULL, EVP_sha1(), NULL) != 1)
		goto out;
	if ((r = cnie_sm_kdf(CNIE_SM_3DES, h, 16, 1, b->kenc, 16)) != 0 ||
	    (r = cnie_sm_kdf(CNIE_SM_3DES, h, 16, 2, b->kmac, 16)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	cnie_wipe(h, sizeof(h));
	cnie_bac_free(&b);
	return r;
}

void
cnie_bac_free(cnie_bac **b)
{
	if (b == NULL || *b == NULL)
		return;
	cnie_freezero(*b, sizeof(**b));
	*b = NULL;
}

/* E = 3DES(Kenc, S), M = MAC(Kmac, pad(E)) (9303-11 4.3.3). */
static int
bac_seal(const cnie_bac *b, const uint8_t s[32], uint8_t out[40])
{
	uint8_t m[40];
	int r;

	if ((r = cnie_sm_3des_cbc(b->kenc, 1, s, 32, out)) != 0)
		return r;
	memcpy(m, out, 32);
	m[32] = 0x80;
	memset(m + 33, 0, 7);
	r = cnie_sm_retail_mac(b->kmac, m, sizeof(m), out + 32);
	cnie_wipe(m, sizeof(m));
	return r;
}

/* Checks M, then decrypts E into s. CNIE_ERR_BAC on a wrong MAC. */
static int
bac_open(const cnie_bac *b, const uint8_t *in, size_t n, uint8_t s[32])
{
	uint8_t m[40], mac[8];
	int r;

	if (in == NULL || n != CNIE_BAC_AUTH_LEN)
		return CNIE_ERR_BAC;
	memcpy(m, in, 32);
	m[32] = 0x80;
	memset(m + 33, 0, 7);
	if ((r = cnie_sm_retail_mac(b->kmac, m, sizeof(m), mac)) != 0)
		goto out;
	if (cnie_memeq_ct(mac, in + 32, 8) != 0) {
		r = CNIE_ERR_BAC;
		goto out;
	}
	r = cnie_sm_3des_cbc(b->kenc, 0, in, 32, s);
out:
	cnie_wipe(m, sizeof(m));
	cnie_wipe(mac, sizeof(mac));
	return r;
}

/* KSenc/KSmac from K.IFD ^ K.IC, SSC from the randoms (9303-11 9.7.4, 9.8.3). */
static int
bac_session(const uint8_t k_ifd[16], const uint8_t k_ic[16], const uint8_t rnd_ic[8],
    const uint8_t rnd_ifd[8], cnie_sm **sm)
{
	uint8_t seed[16], ksenc[16], ksmac[16], ssc[8];
	size_t i;
	int r;

	for (i = 0; i < 16; i++)
		seed[i] = (uint8_t)(k_ifd[i] ^ k_ic[i]);
	memcpy(ssc, rnd_ic + 4, 4);
	memcpy(ssc + 4, rnd_ifd + 4, 4);
	if ((r = cnie_sm_kdf(CNIE_SM_3DES, seed, 16, 1, ksenc, 16)) != 0 ||
	    (r = cnie_sm_kdf(CNIE_SM_3DES, seed, 16, 2, ksmac, 16)) != 0)
		goto out;
	r = cnie_sm_new(CNIE_SM_3DES, ksenc, ksmac, 16, ssc, 8, sm);
out:
	cnie_wipe(seed, sizeof(seed));
	cnie_wipe(ksenc, sizeof(ksenc));
	cnie_wipe(ksmac, sizeof(ksmac));
	return r;
}

int
cnie_bac_terminal_auth(cnie_bac *b, const uint8_t rnd_ic[CNIE_BAC_RND_LEN],
    const uint8_t rnd_ifd[CNIE_BAC_RND_LEN], const uint8_t k_ifd[CNIE_BAC_K_LEN],
    uint8_t out[CNIE_BAC_AUTH_LEN])
{
	uint8_t s[32];
	int r;

	if (b == NULL || rnd_ic == NULL || rnd_ifd == NULL || k_ifd == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	/* S = RND.IFD || RND.IC || K.IFD (9303-11 4.3.3.1). */
	memcpy(s, rnd_ifd, 8);
	memcpy(s + 8, rnd_ic, 8);
	memcpy(s + 16, k_ifd, 16);
	if ((r = bac_seal(b, s, out)) == 0) {
		memcpy(b->rnd_ic, rnd_ic, 8);
		memcpy(b->rnd_ifd, rnd_ifd, 8);
		memcpy(b->k_ifd, k_ifd, 16);
		b->armed = 1;
	}
	cnie_wipe(s, sizeof(s));
	return r;
}

int
cnie_bac_terminal_finish(cnie_bac *b, const uint8_t *resp, size_t n, cnie_sm **sm)
{
	uint8_t r_[32];
	int r;

	if (b == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	*sm = NULL;
	if (!b->armed)
		return CNIE_ERR_STATE;
	if ((r = bac_open(b, resp, n, r_)) != 0)
		goto out;
	/* R = RND.IC || RND.IFD || K.IC: both randoms must come back. */
	if (cnie_memeq_ct(r_, b->rnd_ic, 8) != 0 || cnie_memeq_ct(r_ + 8, b->rnd_ifd, 8) != 0) {
		r = CNIE_ERR_BAC;
		goto out;
	}
	r = bac_session(b->k_ifd, r_ + 16, b->rnd_ic, b->rnd_ifd, sm);
out:
	b->armed = 0;
	cnie_wipe(b->k_ifd, sizeof(b->k_ifd));
	cnie_wipe(r_, sizeof(r_));
	return r;
}

int
cnie_bac_card_auth(cnie_bac *b, const uint8_t rnd_ic[CNIE_BAC_RND_LEN], const uint8_t *cmd,
    size_t n, const uint8_t k_ic[CNIE_BAC_K_LEN], uint8_t out[CNIE_BAC_AUTH_LEN],
    cnie_sm **sm)
{
	uint8_t s[32], resp[32];
	int r;

	if (b == NULL || rnd_ic == NULL || k_ic == NULL || out == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	*sm = NULL;
	if ((r = bac_open(b, cmd, n, s)) != 0)
		goto out;
	/* S = RND.IFD || RND.IC || K.IFD: RND.IC must be our challenge. */
	if (cnie_memeq_ct(s + 8, rnd_ic, 8) != 0) {
		r = CNIE_ERR_BAC;
		goto out;
	}
	memcpy(resp, rnd_ic, 8);
	memcpy(resp + 8, s, 8);
	memcpy(resp + 16, k_ic, 16);
	if ((r = bac_seal(b, resp, out)) != 0)
		goto out;
	r = bac_session(s + 16, k_ic, rnd_ic, s, sm);
out:
	cnie_wipe(s, sizeof(s));
	cnie_wipe(resp, sizeof(resp));
	return r;
}

int
cnie_bac_run(cnie_transport *t, const char *mrz_info, cnie_sm **sm)
{
	cnie_bac *b = NULL;
	cnie_buf *resp = NULL;
	cnie_apdu a;
	uint8_t rnd_ic[8], rnd_ifd[8], k_ifd[16], auth[40];
	uint16_t sw = 0;
	int r;

	if (t == NULL || mrz_info == NULL || sm == NULL)
		return CNIE_ERR_INVALID_ARG;
	*sm = NULL;
	if ((r = cnie_bac_new(mrz_info, &b)) != 0)
		return r;
	if ((resp = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	/* GET CHALLENGE (ISO 7816-4 11.5.3), 8 bytes. */
	cnie_apdu_init(&a, 0x00, 0x84, 0x00, 0x00);
	a.ne = 8;
	if ((r = cnie_apdu_transmit_ok(t, &a, resp, &sw)) != 0)
		goto out;
	if (cnie_buf_len(resp) != 8) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	memcpy(rnd_ic, cnie_buf_ptr(resp), 8);
	if (RAND_bytes(rnd_ifd, sizeof(rnd_ifd)) != 1 || RAND_bytes(k_ifd, sizeof(k_ifd)) != 1) {
		r = CNIE_ERR_CRYPTO;
		goto out;
	}
	if ((r = cnie_bac_terminal_auth(b, rnd_ic, rnd_ifd, k_ifd, auth)) != 0)
		goto out;
	/* EXTERNAL AUTHENTICATE (ISO 7816-4 11.5.4). */
	cnie_buf_reset(resp);
	cnie_apdu_init(&a, 0x00, 0x82, 0x00, 0x00);
	a.data = auth;
	a.nc = sizeof(auth);
	a.ne = sizeof(auth);
	a.flags = CNIE_APDU_SENSITIVE | CNIE_APDU_SENSITIVE_RESP;
	if ((r = cnie_apdu_transmit(t, &a, resp, &sw)) != 0)
		goto out;
	/*
	 * The words chips use for a cryptogram made with other keys (a wrong
	 * MRZ): 6300 (9303-11 4.3 "authentication failed"), 63Cx, 6982, and
	 * 6988 from chips that check the MAC as secure messaging.
	 */
	if (sw == 0x6300 || (sw & 0xFFF0) == 0x63C0 || sw == 0x6982 || sw == 0x6988) {
		cnie_log_info("BAC refused by the card (SW %04X): wrong MRZ", sw);
		r = CNIE_ERR_BAC;
		goto out;
	}
	if (sw != 0x9000) {
		r = cnie_sw_to_error(sw);
		if (r == 0)
			r = CNIE_ERR_BAC;
		goto out;
	}
	r = cnie_bac_terminal_finish(b, cnie_buf_ptr(resp), cnie_buf_len(resp), sm);
out:
	cnie_wipe(rnd_ifd, sizeof(rnd_ifd));
	cnie_wipe(k_ifd, sizeof(k_ifd));
	cnie_wipe(auth, sizeof(auth));
	cnie_buf_free(&resp);
	cnie_bac_free(&b);
	return r;
}
