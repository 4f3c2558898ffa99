/* The in-process reference card transport: see include/cnie/refcard.h. */
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/refcard.h>

#include "emu.h"

struct refcard {
	cnie_emu *emu;
	cnie_emu_iface iface;
	uint8_t atr[33];
	size_t atr_len;
};

static int
rc_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct refcard *rc = ctx;

	if (*resp_len < CNIE_EMU_MAX_RESP)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	return cnie_emu_transmit(rc->emu, cmd, n, resp, resp_len);
}

static int
rc_reset(void *ctx, bool unpower)
{
	struct refcard *rc = ctx;

	(void)unpower; /* the emulator has no warm reset distinct from power-up */
	cnie_emu_power_off(rc->emu);
	rc->atr_len = sizeof(rc->atr);
	return cnie_emu_power_on(rc->emu, rc->iface, rc->atr, &rc->atr_len);
}

static int
rc_reconnect(void *ctx)
{
	(void)ctx;
	return 0;
}

static int
rc_atr(void *ctx, uint8_t *atr, size_t *n)
{
	struct refcard *rc = ctx;

	if (*n < rc->atr_len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(atr, rc->atr, rc->atr_len);
	*n = rc->atr_len;
	return 0;
}

static void
rc_free(void *ctx)
{
	struct refcard *rc = ctx;

	if (rc == NULL)
		return;
	cnie_emu_power_off(rc->emu);
	cnie_emu_free(&rc->emu);
	free(rc);
}

static const cnie_transport_ops refcard_ops = {
	.transmit = rc_transmit,
	.reset = rc_reset,
	.reconnect = rc_reconnect,
	.atr = rc_atr,
	.free = rc_free,
};

int
cnie_refcard_open(const char *card_dir, const char *state_path, bool contactless,
    cnie_transport **out)
{
	struct refcard *rc = NULL;
	cnie_transport_caps caps;
	int r;

	if (card_dir == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return CNIE_ERR_NOMEM;
	rc->iface = contactless ? CNIE_EMU_CONTACTLESS : CNIE_EMU_CONTACT;
	if ((r = cnie_emu_open(card_dir, state_path, &rc->emu)) != 0)
		goto out;
	rc->atr_len = sizeof(rc->atr);
	if ((r = cnie_emu_power_on(rc->emu, rc->iface, rc->atr, &rc->atr_len)) != 0)
		goto out;
	/* In process there is no reader in the way: extended length end to end. */
	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = CNIE_MAX_COMMAND;
	caps.max_resp = CNIE_MAX_RESPONSE;
	caps.extended = true;
	caps.contactless = contactless;
	r = cnie_transport_new(&refcard_ops, rc, &caps,
	    contactless ? "CNIE Reference Card (contactless)" : "CNIE Reference Card", out);
	rc = NULL; /* owned by the transport, or freed by it on failure */
out:
	if (rc != NULL)
		rc_free(rc);
	return r;
}
