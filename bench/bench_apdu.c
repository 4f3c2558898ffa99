/*
 * bench_apdu: plain APDUs per second through pcscd and the virtual reader
 * (libifd-cnie-sim + reference card): a loop of SELECT (PKI application),
 * SELECT (authentication certificate EF 4331) and READ BINARY (256 bytes).
 *
 * usage: bench_apdu [-r READER_INDEX] [-s SECONDS]
 * Prints one line: "apdu_per_second N (APDUS in S s, reader NAME)".
 * Exit: 0, 1 on a PC/SC or card error, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>

#include "testutil.h"

static const BYTE sel_app[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x43, 0x4E, 0x49, 0x45,
	0x50, 0x4B, 0x49 };
static const BYTE sel_ef[] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, 0x43, 0x31 };
static const BYTE read_bin[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };

static int
xmit(SCARDHANDLE h, DWORD proto, const BYTE *cmd, DWORD n, int check_ok)
{
	BYTE resp[300];
	DWORD len = sizeof(resp);
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	LONG rv;

	rv = SCardTransmit(h, pci, cmd, n, NULL, resp, &len);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_apdu: SCardTransmit: %s\n", pcsc_stringify_error(rv));
		return -1;
	}
	if (len < 2)
		return -1;
	if (check_ok && !(resp[len - 2] == 0x90 && resp[len - 1] == 0x00) &&
	    resp[len - 2] != 0x61 && resp[len - 2] != 0x62) {
		fprintf(stderr, "bench_apdu: status word %02X%02X\n", resp[len - 2],
		    resp[len - 1]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	SCARDCONTEXT ctx = 0;
	SCARDHANDLE h = 0;
	DWORD proto = 0, len = 0;
	char *readers = NULL, *name;
	double secs = 3.0, t0, t;
	unsigned long n = 0;
	long idx = 0, i;
	int c, rc = 1;
	LONG rv;

	while ((c = getopt(argc, argv, "r:s:")) != -1) {
		switch (c) {
		case 'r':
			idx = strtol(optarg, NULL, 10);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: bench_apdu [-r READER_INDEX] [-s SECONDS]\n");
			return 2;
		}
	}
	if (secs <= 0 || secs > 600 || idx < 0)
		return 2;
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) != SCARD_S_SUCCESS)
		goto pcsc_fail;
	len = SCARD_AUTOALLOCATE;
	if ((rv = SCardListReaders(ctx, NULL, (LPSTR)&readers, &len)) != SCARD_S_SUCCESS)
		goto pcsc_fail;
	for (name = readers, i = 0; *name != '\0' && i < idx; name += strlen(name) + 1, i++)
		;
	if (*name == '\0') {
		fprintf(stderr, "bench_apdu: no reader %ld\n", idx);
		goto out;
	}
	rv = SCardConnect(ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		goto pcsc_fail;
	t0 = tu_now_ms() / 1e3;
	do {
		if (xmit(h, proto, sel_app, sizeof(sel_app), 1) != 0 ||
		    xmit(h, proto, sel_ef, sizeof(sel_ef), 1) != 0 ||
		    xmit(h, proto, read_bin, sizeof(read_bin), 1) != 0)
			goto out;
		n += 3;
		t = tu_now_ms() / 1e3 - t0;
	} while (t < secs);
	printf("apdu_per_second %.0f (%lu APDUs in %.2f s, reader %s)\n", (double)n / t, n, t,
	    name);
	rc = 0;
	goto out;
pcsc_fail:
	fprintf(stderr, "bench_apdu: %s\n", pcsc_stringify_error(rv));
out:
	if (h != 0)
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	if (readers != NULL)
		SCardFreeMemory(ctx, readers);
	if (ctx != 0)
		SCardReleaseContext(ctx);
	return rc;
}
