/*
 * libcnie-refcard.so.1's one entry point: the emulator (emu.h) behind the
 * table libcnie's in-process reference-card transport loads on demand
 * (src/libcnie/include/cnie/refcard_module.h, src/libcnie/refcard.c).
 */
#include <cnie/export.h>
#include <cnie/log.h>
#include <cnie/refcard_module.h>

#include "emu.h"

CNIE_EXPORT const cnie_refcard_module *cnie_refcard_module_v1(void);

static void
m_set_log(cnie_log_level level, cnie_log_sink sink, void *arg)
{
	cnie_log_set_level(level);
	cnie_log_set_sink(sink, arg);
}

static int
m_open(const char *card_dir, const char *state_path, void **card)
{
	cnie_emu *emu = NULL;
	int r;

	if ((r = cnie_emu_open(card_dir, state_path, &emu)) == 0)
		*card = emu;
	return r;
}

static void
m_close(void *card)
{
	cnie_emu *emu = card;

	cnie_emu_free(&emu);
}

static int
m_power_on(void *card, bool contactless, uint8_t *atr, size_t *atr_len)
{
	return cnie_emu_power_on(card, contactless ? CNIE_EMU_CONTACTLESS : CNIE_EMU_CONTACT,
	    atr, atr_len);
}

static void
m_power_off(void *card)
{
	cnie_emu_power_off(card);
}

static int
m_transmit(void *card, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	return cnie_emu_transmit(card, cmd, n, resp, resp_len);
}

static const cnie_refcard_module module = {
	.abi = CNIE_REFCARD_ABI,
	.set_log = m_set_log,
	.open = m_open,
	.close = m_close,
	.power_on = m_power_on,
	.power_off = m_power_off,
	.transmit = m_transmit,
	.max_resp = CNIE_EMU_MAX_RESP,
};

const cnie_refcard_module *
cnie_refcard_module_v1(void)
{
	return &module;
}
