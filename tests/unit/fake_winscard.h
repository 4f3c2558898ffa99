/*
 * A scripted stand-in for pcsc-lite's winscard API (and for
 * cnie_transport_new), linked into test_pcsc and fuzz_pcsc so that
 * src/libcnie/pcsc.c can be driven without pcscd: the executable's definitions take
 * precedence over libpcsclite's.  Tests set `fake` and read back what
 * pcsc.c asked for.
 */
#ifndef CNIE_FAKE_WINSCARD_H
#define CNIE_FAKE_WINSCARD_H

#include <stdbool.h>
#include <stdint.h>

#include <PCSC/winscard.h>

#include <cnie/transport.h>

#define FAKE_READERS 4

struct fake_reader {
	const char *name;
	DWORD state; /* SCARD_STATE_* with the event counter in the upper word */
	uint8_t atr[MAX_ATR_SIZE];
	DWORD atr_len;
};

struct fake_pcsc {
	LONG establish_rv;
	unsigned contexts; /* established minus released */

	const char *readers; /* multi-string as pcscd sends it */
	DWORD readers_len;
	LONG list_rv;

	struct fake_reader rd[FAKE_READERS];
	size_t nrd;
	/* Blocking SCardGetStatusChange: mark rd[changed] changed, else rv. */
	int wait_changed;
	LONG wait_rv;
	unsigned waits;
	DWORD pnp_current; /* dwCurrentState passed for the PnP reader */

	LONG cancel_rv;
	unsigned cancels;

	LONG connect_rv;
	DWORD proto;
	unsigned handles; /* connected minus disconnected */
	DWORD disconnect_disposition;

	uint8_t atr[64];
	DWORD atr_len;
	LONG status_rv;

	uint8_t features[512];
	DWORD features_len;
	LONG features_rv;
	/* Answer to any other control code when control_len > 0 (else 90 00). */
	uint8_t control_out[64];
	DWORD control_len;
	bool has_maxinput;
	uint8_t maxinput[8];
	DWORD maxinput_len;

	const SCARD_IO_REQUEST *last_pci;
	uint8_t resp[300];
	DWORD resp_len;
	LONG transmit_rv;
	DWORD last_cmd_len;

	DWORD last_init;
	LONG reconnect_rv;
	DWORD reconnect_proto;

	DWORD last_control;
	DWORD last_control_in;
	unsigned begins, ends;
	DWORD end_disposition;
};

extern struct fake_pcsc fake;

/* Everything zero except: success codes, a T=1 card, wait_changed = -1. */
void fake_reset(void);

/* What cnie_pcsc_connect handed to cnie_transport_new. */
struct fake_transport_seen {
	const cnie_transport_ops *ops;
	void *ctx;
	cnie_transport_caps caps;
	char name[128];
	unsigned live;
};
extern struct fake_transport_seen fake_tr;

#endif
