/* Scripted winscard and transport constructor: see fake_winscard.h. */
#include <stdlib.h>
#include <string.h>

#include <PCSC/reader.h>

#include <cnie/error.h>

#include "fake_winscard.h"

struct fake_pcsc fake;
struct fake_transport_seen fake_tr;

#define FAKE_CTX ((SCARDCONTEXT)0x1234)
#define FAKE_CARD ((SCARDHANDLE)0x5678)

void
fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&fake_tr, 0, sizeof(fake_tr));
	fake.proto = SCARD_PROTOCOL_T1;
	fake.reconnect_proto = SCARD_PROTOCOL_T1;
	fake.wait_changed = -1;
	fake.wait_rv = SCARD_E_TIMEOUT;
	fake.features_rv = SCARD_E_UNSUPPORTED_FEATURE;
}

LONG
SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	(void)scope, (void)r1, (void)r2;
	if (fake.establish_rv != SCARD_S_SUCCESS)
		return fake.establish_rv;
	*ctx = FAKE_CTX;
	fake.contexts++;
	return SCARD_S_SUCCESS;
}

LONG
SCardReleaseContext(SCARDCONTEXT ctx)
{
	if (ctx != FAKE_CTX || fake.contexts == 0)
		return SCARD_E_INVALID_HANDLE;
	fake.contexts--;
	return SCARD_S_SUCCESS;
}

LONG
SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR out, LPDWORD len)
{
	(void)groups;
	if (ctx != FAKE_CTX)
		return SCARD_E_INVALID_HANDLE;
	if (fake.list_rv != SCARD_S_SUCCESS)
		return fake.list_rv;
	if (fake.readers == NULL || fake.readers_len == 0)
		return SCARD_E_NO_READERS_AVAILABLE;
	if (out != NULL) {
		if (*len < fake.readers_len)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(out, fake.readers, fake.readers_len);
	}
	*len = fake.readers_len;
	return SCARD_S_SUCCESS;
}

static struct fake_reader *
find_reader(const char *name)
{
	size_t i;

	for (i = 0; i < fake.nrd; i++)
		if (strcmp(fake.rd[i].name, name) == 0)
			return &fake.rd[i];
	return NULL;
}

/* pcsc-lite 1.9.9 semantics: unknown reader → SCARD_E_UNKNOWN_READER. */
LONG
SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *rs, DWORD n)
{
	struct fake_reader *r;
	bool changed = false;
	DWORD i;

	if (ctx != FAKE_CTX)
		return SCARD_E_INVALID_HANDLE;
	if (n > PCSCLITE_MAX_READERS_CONTEXTS)
		return SCARD_E_INVALID_PARAMETER;
	for (i = 0; i < n; i++) {
		if (strcmp(rs[i].szReader, "\\\\?PnP?\\Notification") == 0) {
			fake.pnp_current = rs[i].dwCurrentState;
			rs[i].dwEventState = 0;
			continue;
		}
		if ((r = find_reader(rs[i].szReader)) == NULL)
			return SCARD_E_UNKNOWN_READER;
		rs[i].dwEventState = r->state;
		rs[i].cbAtr = r->atr_len;
		memcpy(rs[i].rgbAtr, r->atr, r->atr_len);
		if (rs[i].dwCurrentState == SCARD_STATE_UNAWARE ||
		    rs[i].dwCurrentState != r->state) {
			rs[i].dwEventState |= SCARD_STATE_CHANGED;
			changed = true;
		}
	}
	if (changed)
		return SCARD_S_SUCCESS;
	if (timeout == 0)
		return SCARD_E_TIMEOUT;
	fake.waits++;
	if (fake.wait_changed >= 0 && (DWORD)fake.wait_changed < n) {
		rs[fake.wait_changed].dwEventState |= SCARD_STATE_CHANGED;
		return SCARD_S_SUCCESS;
	}
	return fake.wait_rv;
}

LONG
SCardCancel(SCARDCONTEXT ctx)
{
	if (ctx != FAKE_CTX)
		return SCARD_E_INVALID_HANDLE;
	fake.cancels++;
	return fake.cancel_rv;
}

LONG
SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protos, LPSCARDHANDLE h,
    LPDWORD proto)
{
	(void)reader;
	if (ctx != FAKE_CTX)
		return SCARD_E_INVALID_HANDLE;
	if (share != SCARD_SHARE_SHARED || protos != (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1))
		return SCARD_E_INVALID_VALUE;
	if (fake.connect_rv != SCARD_S_SUCCESS)
		return fake.connect_rv;
	*h = FAKE_CARD;
	*proto = fake.proto;
	fake.handles++;
	return SCARD_S_SUCCESS;
}

LONG
SCardDisconnect(SCARDHANDLE h, DWORD disposition)
{
	if (h != FAKE_CARD || fake.handles == 0)
		return SCARD_E_INVALID_HANDLE;
	fake.handles--;
	fake.disconnect_disposition = disposition;
	return SCARD_S_SUCCESS;
}

LONG
SCardReconnect(SCARDHANDLE h, DWORD share, DWORD protos, DWORD init, LPDWORD proto)
{
	(void)share, (void)protos;
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	fake.last_init = init;
	if (fake.reconnect_rv != SCARD_S_SUCCESS)
		return fake.reconnect_rv;
	*proto = fake.reconnect_proto;
	return SCARD_S_SUCCESS;
}

LONG
SCardBeginTransaction(SCARDHANDLE h)
{
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	fake.begins++;
	return SCARD_S_SUCCESS;
}

LONG
SCardEndTransaction(SCARDHANDLE h, DWORD disposition)
{
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	fake.ends++;
	fake.end_disposition = disposition;
	return SCARD_S_SUCCESS;
}

LONG
SCardStatus(SCARDHANDLE h, LPSTR name, LPDWORD name_len, LPDWORD state, LPDWORD proto,
    LPBYTE atr, LPDWORD atr_len)
{
	(void)name;
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	if (fake.status_rv != SCARD_S_SUCCESS)
		return fake.status_rv;
	if (name_len != NULL)
		*name_len = 0;
	if (state != NULL)
		*state = SCARD_SPECIFIC;
	if (proto != NULL)
		*proto = fake.proto;
	if (atr_len != NULL) {
		/* Like pcsc-lite: the ATR must fit the caller's buffer. */
		if (atr != NULL && *atr_len < fake.atr_len)
			return SCARD_E_INSUFFICIENT_BUFFER;
		if (atr != NULL)
			memcpy(atr, fake.atr, fake.atr_len);
		*atr_len = fake.atr_len;
	}
	return SCARD_S_SUCCESS;
}

LONG
SCardControl(SCARDHANDLE h, DWORD code, LPCVOID in, DWORD in_len, LPVOID out, DWORD out_max,
    LPDWORD got)
{
	(void)in;
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	fake.last_control = code;
	fake.last_control_in = in_len;
	if (code == CM_IOCTL_GET_FEATURE_REQUEST) {
		if (fake.features_rv != SCARD_S_SUCCESS)
			return fake.features_rv;
		if (out_max < fake.features_len)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(out, fake.features, fake.features_len);
		*got = fake.features_len;
		return SCARD_S_SUCCESS;
	}
	if (fake.control_len > 0) {
		if (out_max < fake.control_len)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(out, fake.control_out, fake.control_len);
		*got = fake.control_len;
		return SCARD_S_SUCCESS;
	}
	/* Any other code: echo a 2-byte answer 90 00. */
	if (out_max < 2)
		return SCARD_E_INSUFFICIENT_BUFFER;
	((uint8_t *)out)[0] = 0x90;
	((uint8_t *)out)[1] = 0x00;
	*got = 2;
	return SCARD_S_SUCCESS;
}

LONG
SCardGetAttrib(SCARDHANDLE h, DWORD id, LPBYTE out, LPDWORD len)
{
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	if (id != SCARD_ATTR_MAXINPUT || !fake.has_maxinput)
		return SCARD_E_UNSUPPORTED_FEATURE;
	if (*len < fake.maxinput_len)
		return SCARD_E_INSUFFICIENT_BUFFER;
	memcpy(out, fake.maxinput, fake.maxinput_len);
	*len = fake.maxinput_len;
	return SCARD_S_SUCCESS;
}

LONG
SCardTransmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd, DWORD cmd_len,
    SCARD_IO_REQUEST *rpci, LPBYTE resp, LPDWORD resp_len)
{
	(void)cmd, (void)rpci;
	if (h != FAKE_CARD)
		return SCARD_E_INVALID_HANDLE;
	fake.last_pci = pci;
	fake.last_cmd_len = cmd_len;
	if (fake.transmit_rv != SCARD_S_SUCCESS)
		return fake.transmit_rv;
	if (*resp_len < fake.resp_len)
		return SCARD_E_INSUFFICIENT_BUFFER;
	memcpy(resp, fake.resp, fake.resp_len);
	*resp_len = fake.resp_len;
	return SCARD_S_SUCCESS;
}

/* Stands in for src/libcnie/transport.c: records what pcsc.c passes. */
int
cnie_transport_new(const cnie_transport_ops *ops, void *ctx, const cnie_transport_caps *caps,
    const char *name, cnie_transport **out)
{
	if (ops == NULL || ctx == NULL || caps == NULL || name == NULL || out == NULL) {
		if (ops != NULL && ops->free != NULL)
			ops->free(ctx);
		return CNIE_ERR_INVALID_ARG;
	}
	fake_tr.ops = ops;
	fake_tr.ctx = ctx;
	fake_tr.caps = *caps;
	strncpy(fake_tr.name, name, sizeof(fake_tr.name) - 1);
	fake_tr.live++;
	/* Opaque to the tests: the pointer only says "a transport". */
	*out = (cnie_transport *)ctx;
	return 0;
}

void
cnie_transport_free(cnie_transport **t)
{
	if (t == NULL || *t == NULL)
		return;
	if (fake_tr.ops != NULL && (void *)*t == fake_tr.ctx) {
		fake_tr.ops->free(fake_tr.ctx);
		fake_tr.live--;
	}
	*t = NULL;
}
