/*
 * Fuzzes what src/libcnie/pcsc.c takes from outside the process: the reader list
 * from pcscd, the ATR, the PC/SC part 10 feature list and
 * SCARD_ATTR_MAXINPUT.  The scripted winscard (tests/unit/fake_winscard.c)
 * plays pcscd and the reader.
 *
 * Input: flags(1) atr_len(1) atr maxinput(4) feat_len(2, BE) features
 *        reader-multistring(rest)
 * flags: bit 0 T=0 (else T=1), bit 1 reader reports MAXINPUT,
 *        bit 2 reader answers the feature request.
 *
 * Invariants checked (abort on violation): capabilities within the
 * protocol limits, extended only on T=1, PIN pad flags only with a control
 * code, no handle or context leaked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

#include "fake_winscard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_caps(const cnie_transport_caps *c, DWORD proto)
{
	if (c->max_cmd == 0 || c->max_cmd > CNIE_MAX_COMMAND)
		abort();
	if (c->max_resp == 0 || c->max_resp > CNIE_MAX_RESPONSE)
		abort();
	if (c->extended && proto != SCARD_PROTOCOL_T1)
		abort();
	if (!c->extended && (c->max_cmd > 261 || c->max_resp > 258))
		abort();
	if (!c->pinpad_verify && c->ioctl_verify != 0)
		abort();
	if (!c->pinpad_modify && c->ioctl_modify != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_cur c;
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	char **names = NULL;
	static char readers[4096];
	uint8_t flags = 0, alen = 0, atr[64];
	uint16_t flen = 0;
	size_t n = 0, rlen;
	const uint8_t *p;

	fake_reset();
	cnie_cur_init(&c, data, size);
	if (cnie_cur_u8(&c, &flags) != 0 || cnie_cur_u8(&c, &alen) != 0)
		return 0;
	alen = (uint8_t)(alen % (MAX_ATR_SIZE + 1));
	if (cnie_cur_copy(&c, fake.atr, alen) != 0)
		return 0;
	fake.atr_len = alen;
	fake.proto = (flags & 1) ? SCARD_PROTOCOL_T0 : SCARD_PROTOCOL_T1;
	if (cnie_cur_copy(&c, fake.maxinput, 4) != 0)
		return 0;
	fake.has_maxinput = (flags & 2) != 0;
	fake.maxinput_len = 4;
	if (cnie_cur_u16be(&c, &flen) != 0)
		return 0;
	flen = (uint16_t)(flen % (sizeof(fake.features) + 1));
	if (cnie_cur_copy(&c, fake.features, flen) != 0)
		return 0;
	fake.features_len = flen;
	fake.features_rv = (flags & 4) ? SCARD_S_SUCCESS : SCARD_E_UNSUPPORTED_FEATURE;

	/* The reader list, exactly as long as the input says (no NUL added). */
	rlen = cnie_cur_left(&c);
	if (rlen > sizeof(readers))
		rlen = sizeof(readers);
	p = cnie_cur_peek(&c);
	if (rlen > 0 && p != NULL) {
		memcpy(readers, p, rlen);
		fake.readers = readers;
		fake.readers_len = (DWORD)rlen;
	}

	if (cnie_pcsc_new(&ctx) != 0)
		abort();
	if (cnie_pcsc_list_readers(ctx, &names, &n) == 0) {
		if (names == NULL || names[n] != NULL)
			abort();
	} else if (names != NULL) {
		abort();
	}
	cnie_pcsc_free_names(&names);

	if (cnie_pcsc_connect(ctx, "Reader", &t) == 0) {
		check_caps(&fake_tr.caps, fake.proto);
		n = sizeof(atr);
		if (fake_tr.ops->atr(fake_tr.ctx, atr, &n) == 0 &&
		    (n != fake.atr_len || memcmp(atr, fake.atr, n) != 0))
			abort();
		cnie_transport_free(&t);
	}
	cnie_pcsc_free(&ctx);
	if (fake.handles != 0 || fake.contexts != 0)
		abort();
	return 0;
}
