/*
 * The reference card against arbitrary APDU sequences: whatever the bytes,
 * every command gets an answer of at most CNIE_EMU_MAX_RESP bytes ending
 * in a status word, and nothing crashes or leaks.  The card is the fixture
 * of tests/cards-fixture/emu, reopened for every input (state in memory
 * only) so that inputs do not depend on each other.
 *
 * Input: a first byte of flags (b1 contactless; b2 with b8-b5 clear: run
 * PACE with the CAN first, so that later records can be protected), then
 * records:
 * ctrl (b1 protect with the PACE session, b2 power cycle first),
 * length (2 bytes, big-endian, clipped to what is left), the APDU.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/log.h>
#include <cnie/pace.h>
#include <cnie/sm.h>

#include "emu.h"

#ifndef CNIE_EMU_FIXTURE
#error "CNIE_EMU_FIXTURE must name the fixture card directory"
#endif

#define MAX_RECORDS 64
#define CARD_ACCESS_HEX "31143012060A04007F0007020204020202010202010D"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t resp[CNIE_EMU_MAX_RESP];

static void
check(int r, size_t n)
{
	/* The emulator's contract: an answer with a status word, always. */
	if (r != 0 || n < 2 || n > CNIE_EMU_MAX_RESP)
		abort();
}

static cnie_sm *
pace(cnie_emu *e)
{
	cnie_buf *ca = cnie_buf_new(), *cmd = cnie_buf_new();
	cnie_pace *p = NULL;
	cnie_sm *sm = NULL;
	cnie_apdu a;
	size_t n = 0;
	uint16_t sw = 0;
	bool done = false;
	int i;

	if (ca == NULL || cmd == NULL || cnie_unhex(CARD_ACCESS_HEX, ca) != 0 ||
	    cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN, "123456", 6,
		&p) != 0)
		goto out;
	for (i = 0; i < 8; i++) {
		if (cnie_pace_terminal_next(p, n >= 2 ? resp : NULL, n >= 2 ? n - 2 : 0, sw, &a,
			&done) != 0)
			break;
		if (done) {
			(void)cnie_pace_terminal_take_sm(p, &sm);
			break;
		}
		cnie_buf_reset(cmd);
		if (cnie_apdu_encode(&a, true, cmd, NULL) != 0)
			break;
		n = sizeof(resp);
		check(cnie_emu_transmit(e, cnie_buf_ptr(cmd), cnie_buf_len(cmd), resp, &n), n);
		sw = (uint16_t)(resp[n - 2] << 8 | resp[n - 1]);
	}
out:
	cnie_pace_terminal_free(&p);
	cnie_buf_free(&ca);
	cnie_buf_free(&cmd);
	return sm;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cnie_emu *e;
	cnie_sm *sm = NULL;
	cnie_buf *wrapped = NULL, *plain = NULL;
	cnie_emu_iface iface;
	cnie_apdu a;
	uint8_t atr[40], flags, ctrl;
	size_t atr_len = sizeof(atr), len, n, rec;
	uint16_t sw;
	cnie_cur c;

	cnie_log_set_level(CNIE_LOG_ERROR);
	if (size < 1)
		return 0;
	cnie_cur_init(&c, data, size);
	(void)cnie_cur_u8(&c, &flags);
	if (e == NULL) {
		if (cnie_emu_open(CNIE_EMU_FIXTURE, "/nonexistent/cnie-fuzz-state.json", &e) != 0)
			abort();
		cnie_emu_set_persist(e, false);
	}
	cnie_emu_reset_state(e);
	(void)cnie_emu_set_seed(e, (const uint8_t *)"fuzz", 4);
	iface = (flags & 1) != 0 ? CNIE_EMU_CONTACTLESS : CNIE_EMU_CONTACT;
	if (cnie_emu_power_on(e, iface, atr, &atr_len) != 0)
		abort();
	/* PACE is costly: only with the high bits clear, so most inputs skip it. */
	if ((flags & 0xF2) == 0x02)
		sm = pace(e);
	if ((wrapped = cnie_buf_new()) == NULL || (plain = cnie_buf_new()) == NULL)
		goto out;
	for (rec = 0; rec < MAX_RECORDS && cnie_cur_left(&c) > 0; rec++) {
		uint16_t l16 = 0;
		const uint8_t *apdu;

		if (cnie_cur_u8(&c, &ctrl) != 0)
			break;
		(void)cnie_cur_u16be(&c, &l16);
		len = l16 < cnie_cur_left(&c) ? l16 : cnie_cur_left(&c);
		if (cnie_cur_take(&c, len, &apdu) != 0)
			break;
		if ((ctrl & 2) != 0) {
			cnie_emu_power_off(e);
			atr_len = sizeof(atr);
			if (cnie_emu_power_on(e, iface, atr, &atr_len) != 0)
				abort();
		}
		cnie_buf_reset(wrapped);
		if ((ctrl & 1) != 0 && sm != NULL && cnie_apdu_decode(apdu, len, &a, NULL) == 0 &&
		    cnie_sm_wrap_command(sm, &a, wrapped) == 0) {
			apdu = cnie_buf_ptr(wrapped);
			len = cnie_buf_len(wrapped);
		}
		n = sizeof(resp);
		check(cnie_emu_transmit(e, apdu, len, resp, &n), n);
		if ((ctrl & 1) != 0 && sm != NULL) {
			/* Keep the terminal's counter in step; failures are fine. */
			cnie_buf_reset(plain);
			(void)cnie_sm_unwrap_response(sm, resp, n, plain, &sw);
		}
	}
out:
	cnie_buf_free(&wrapped);
	cnie_buf_free(&plain);
	cnie_sm_free(&sm);
	return 0;
}
