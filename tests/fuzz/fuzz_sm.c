/*
 * libFuzzer harness for secure messaging: hostile bytes into
 * cnie_sm_unwrap_command (the card) and cnie_sm_unwrap_response (the
 * terminal), plus round trips that must give back exactly what went in.
 *
 * Input: one mode byte, then the bytes.  Mode bit 0: 0 = AES-128 with the
 * 9303-11 App. G.1 session keys (SSC 0), 1 = 3DES with the App. D session
 * keys and SSC, so the seed corpus (the worked examples' protected APDUs)
 * passes the MAC and reaches decryption.  Bits 1-2: 0 unwrap a command,
 * 1 unwrap a response, 2 wrap a (decoded) plain command then unwrap it on
 * a twin session, 3 wrap a response (first two bytes = SW) then unwrap it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/sm.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t aes_enc[16] = { 0xF5, 0xF0, 0xE3, 0x5C, 0x0D, 0x71, 0x61, 0xEE, 0x67,
	0x24, 0xEE, 0x51, 0x3A, 0x0D, 0x9A, 0x7F };
static const uint8_t aes_mac[16] = { 0xFE, 0x25, 0x1C, 0x78, 0x58, 0xB3, 0x56, 0xB2, 0x45,
	0x14, 0xB3, 0xBD, 0x5F, 0x42, 0x97, 0xD1 };
static const uint8_t des_enc[16] = { 0x97, 0x9E, 0xC1, 0x3B, 0x1C, 0xBF, 0xE9, 0xDC, 0xD0,
	0x1A, 0xB0, 0xFE, 0xD3, 0x07, 0xEA, 0xE5 };
static const uint8_t des_mac[16] = { 0xF1, 0xCB, 0x1F, 0x1F, 0xB5, 0xAD, 0xF2, 0x08, 0x80,
	0x6B, 0x89, 0xDC, 0x57, 0x9D, 0xC1, 0xF8 };
/* App. D SSC before the SELECT (the card's unwrap increments to ..27). */
static const uint8_t des_ssc[8] = { 0x88, 0x70, 0x22, 0x12, 0x0C, 0x06, 0xC2, 0x26 };

static cnie_sm *
session(int des)
{
	cnie_sm *sm = NULL;

	if (des)
		(void)cnie_sm_new(CNIE_SM_3DES, des_enc, des_mac, 16, des_ssc, 8, &sm);
	else
		(void)cnie_sm_new(CNIE_SM_AES128, aes_enc, aes_mac, 16, NULL, 0, &sm);
	if (sm == NULL)
		abort();
	return sm;
}

static void
roundtrip_command(const uint8_t *p, size_t n, int des)
{
	cnie_sm *term = session(des), *card = session(des);
	cnie_buf *prot = cnie_buf_new(), *back = cnie_buf_new(), *want = cnie_buf_new();
	cnie_apdu a;

	if (prot == NULL || back == NULL || want == NULL)
		abort();
	if (cnie_apdu_decode(p, n, &a, NULL) != 0 || (a.cla & 0x0C) != 0)
		goto out;
	a.flags = 0;
	if (cnie_sm_wrap_command(term, &a, prot) != 0)
		goto out;
	if (cnie_sm_unwrap_command(card, cnie_buf_ptr(prot), cnie_buf_len(prot), back) != 0)
		abort();
	/* The card sees the same command, class bits aside. */
	if (cnie_apdu_encode(&a, true, want, NULL) != 0)
		abort();
	if (cnie_buf_len(back) < 4 || memcmp(cnie_buf_ptr(back), cnie_buf_ptr(want), 4) != 0)
		abort();
	{
		cnie_apdu b;

		if (cnie_apdu_decode(cnie_buf_ptr(back), cnie_buf_len(back), &b, NULL) != 0 ||
		    b.nc != a.nc || b.ne != a.ne || (a.nc > 0 && memcmp(a.data, b.data, a.nc) != 0))
			abort();
	}
out:
	cnie_buf_free(&prot);
	cnie_buf_free(&back);
	cnie_buf_free(&want);
	cnie_sm_free(&term);
	cnie_sm_free(&card);
}

static void
roundtrip_response(const uint8_t *p, size_t n, int des)
{
	cnie_sm *term = session(des), *card = session(des);
	cnie_buf *prot = cnie_buf_new(), *back = cnie_buf_new();
	uint16_t sw, got = 0;

	if (prot == NULL || back == NULL)
		abort();
	if (n < 2)
		goto out;
	sw = (uint16_t)((p[0] << 8) | p[1]);
	if (cnie_sm_wrap_response(card, p + 2, n - 2, sw, prot) != 0)
		abort();
	if (cnie_sm_unwrap_response(term, cnie_buf_ptr(prot), cnie_buf_len(prot), back, &got) != 0 ||
	    got != sw || cnie_buf_len(back) != n - 2 ||
	    (n > 2 && memcmp(cnie_buf_ptr(back), p + 2, n - 2) != 0))
		abort();
out:
	cnie_buf_free(&prot);
	cnie_buf_free(&back);
	cnie_sm_free(&term);
	cnie_sm_free(&card);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_sm *sm;
	cnie_buf *out;
	uint16_t sw;
	int des, mode;

	if (size < 1 || size > 70000)
		return 0;
	des = data[0] & 1;
	mode = (data[0] >> 1) & 3;
	data++;
	size--;
	switch (mode) {
	case 0:
	case 1:
		sm = session(des);
		if ((out = cnie_buf_new()) == NULL)
			abort();
		if (mode == 0) {
			if (cnie_sm_unwrap_command(sm, data, size, out) != 0 && cnie_buf_len(out) != 0)
				abort(); /* nothing comes out of a refused command */
		} else {
			if (cnie_sm_unwrap_response(sm, data, size, out, &sw) != 0 &&
			    cnie_buf_len(out) != 0)
				abort();
		}
		cnie_buf_free(&out);
		cnie_sm_free(&sm);
		break;
	case 2:
		roundtrip_command(data, size, des);
		break;
	default:
		roundtrip_response(data, size, des);
		break;
	}
	return 0;
}
