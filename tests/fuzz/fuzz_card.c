/*
 * libFuzzer harness: the card layer (src/libcnie/card.c) against a hostile card.
 * The input is the card's side of the conversation: a list of responses,
 * each a 2-byte big-endian length then that many bytes (data + SW).  The
 * harness opens the card, reads the PKCS#15 structures and certificates,
 * asks the PIN status, verifies a PIN and signs with every key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/transport.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fz_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	cnie_cur *c = ctx;
	cnie_cur one;
	uint16_t n;

	(void)cmd;
	(void)cmd_len;
	if (cnie_cur_u16be(c, &n) != 0 || cnie_cur_sub(c, n, &one) != 0)
		return CNIE_ERR_COMM;
	if (n > *resp_len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(resp, cnie_cur_peek(&one), n);
	*resp_len = n;
	return 0;
}

static void
fz_free(void *ctx)
{
	(void)ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cnie_transport_ops ops = { .transmit = fz_transmit, .free = fz_free };
	cnie_transport_caps caps = { .max_cmd = 65544, .max_resp = 65538, .extended = true };
	cnie_card_mech rsa = { CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_mech ec = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_NONE, CNIE_CARD_SIG_ECDSA_DER };
	cnie_transport *t = NULL;
	static int env_done;
	cnie_card *card = NULL;
	cnie_card_key_info k;
	const uint8_t *der;
	const char *s;
	uint8_t hash[32] = { 0 }, sig[1200];
	size_t n = 0, i, dl, sl;
	cnie_cur cur;
	int tries;
	bool b, v;

	/* The harness plays a card: its conversation must not depend on, or
	 * write to, the user's on-disk cache. */
	if (!env_done) {
		setenv("CNIE_NO_CACHE", "1", 1);
		env_done = 1;
	}

	cnie_cur_init(&cur, data, size);
	if (size > 1 && data[0] == 0xFF)
		caps.extended = false, caps.max_resp = 258, caps.max_cmd = 261;
	if (cnie_transport_new(&ops, &cur, &caps, "fuzz", &t) != 0)
		return 0;
	if (cnie_card_open(t, &card) != 0)
		return 0;
	(void)cnie_card_serial(card, &s);
	(void)cnie_card_label(card, &s);
	(void)cnie_card_pin_status(card, &tries, &b, &v);
	(void)cnie_card_pin_verify(card, "1234", &tries);
	if (cnie_card_key_count(card, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (cnie_card_get_key(card, i, &k) != 0)
				continue;
			(void)cnie_card_certificate(card, k.id, k.id_len, &der, &dl);
			sl = sizeof(sig);
			(void)cnie_card_sign(card, k.id, k.id_len,
			    k.type == CNIE_CARD_KEY_RSA ? &rsa : &ec, hash, sizeof(hash), sig, &sl);
		}
	}
	(void)cnie_card_pin_change(card, "1234", "5678", &tries);
	(void)cnie_card_pin_unblock(card, "12345678", "1234", &tries);
	cnie_card_free(&card);
	return 0;
}
