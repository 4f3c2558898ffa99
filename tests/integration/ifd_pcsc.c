/*
 * Virtual reader driver seen from a PC/SC client (winscard, through a
 * private pcscd set up by tests/integration/ifd_run.sh):
 *
 *   ifd_pcsc events SIM CARDDIR   insert/remove by cnie-sim reach
 *                                 SCardGetStatusChange (latency printed)
 *   ifd_pcsc reset SIM CARDDIR    reset drops the PIN state, handles get
 *                                 SCARD_W_REMOVED_CARD; the PIN counter
 *                                 survives remove/insert (state file)
 *   ifd_pcsc pinpad SIM           PC/SC part 10 verify/modify with queued keys
 *   ifd_pcsc spend                one wrong PIN (tries 3 -> 2)
 *   ifd_pcsc tries N              the PIN has N tries left, then restores it
 *   ifd_pcsc pace SIM CARDDIR     the PACE reader (index 3): PC/SC part 10
 *                                 amendment 1 EXECUTE_PACE with the CAN on
 *                                 its keypad, a second client through the
 *                                 reader's channel, Destroy, reset, wrong
 *                                 CAN, cancel, timeout, malformed inputs
 *
 * CNIE_SIM_BASE names the readers' state directory.  Exit 0 = pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/reader.h>
#include <PCSC/winscard.h>

#include "testutil.h"

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			exit(1);                                               \
		}                                                              \
	} while (0)

static const char *sim_path;
static SCARDCONTEXT ctx;

static void
reader_name(int idx, char *out, size_t cap)
{
	char buf[2048], *p;
	DWORD len = sizeof(buf);
	int i;

	CHECK(SCardListReaders(ctx, NULL, buf, &len) == SCARD_S_SUCCESS, "SCardListReaders");
	for (p = buf, i = 0; *p != '\0' && i < idx; p += strlen(p) + 1, i++)
		;
	CHECK(*p != '\0' && strlen(p) < cap, "no reader %d", idx);
	memcpy(out, p, strlen(p) + 1);
}

/* Waits until the card is (want = 1) or is not (want = 0) present; returns ms waited. */
static double
wait_card(const char *name, int want, DWORD timeout_ms)
{
	SCARD_READERSTATE rs;
	double t0 = tu_now_ms();
	LONG rv;

	memset(&rs, 0, sizeof(rs));
	rs.szReader = name;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	for (;;) {
		rv = SCardGetStatusChange(ctx, rs.dwCurrentState == SCARD_STATE_UNAWARE ? 0 :
		    timeout_ms, &rs, 1);
		CHECK(rv == SCARD_S_SUCCESS, "SCardGetStatusChange: %s (waiting for %s)",
		    pcsc_stringify_error(rv), want ? "insertion" : "removal");
		if (((rs.dwEventState & SCARD_STATE_PRESENT) != 0) == (want != 0))
			return tu_now_ms() - t0;
		rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
		CHECK(tu_now_ms() - t0 < timeout_ms, "card state not reached in %lu ms",
		    (unsigned long)timeout_ms);
	}
}

static SCARDHANDLE
connect_reader(const char *name, DWORD *proto)
{
	SCARDHANDLE h;
	LONG rv;

	rv = SCardConnect(ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &h, proto);
	CHECK(rv == SCARD_S_SUCCESS, "SCardConnect %s: %s", name, pcsc_stringify_error(rv));
	return h;
}

/* Sends an APDU given in hex; returns the status word, or -rv on a PC/SC error. */
static long
apdu(SCARDHANDLE h, DWORD proto, const char *hex)
{
	BYTE cmd[300], resp[1024];
	DWORD n = 0, len = sizeof(resp);
	unsigned v;
	LONG rv;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		CHECK(sscanf(hex, "%2x", &v) == 1 && n < sizeof(cmd), "bad hex");
		cmd[n++] = (BYTE)v;
		hex += 2;
	}
	rv = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, cmd, n,
	    NULL, resp, &len);
	if (rv != SCARD_S_SUCCESS)
		return -(long)rv;
	CHECK(len >= 2, "short response");
	return (long)((resp[len - 2] << 8) | resp[len - 1]);
}

#define SELECT_PKI "00 A4 04 00 08 F0 43 4E 49 45 50 4B 49"
#define VERIFY_STATUS "00 20 00 81"
#define VERIFY_1234 "00 20 00 81 04 31 32 33 34"
#define VERIFY_9999 "00 20 00 81 04 39 39 39 39"

/* SELECT answers 9000, or 61xx when FCI is waiting (no Le in the command). */
static int
select_ok(long sw)
{
	return sw == 0x9000 || (sw >= 0x6100 && sw <= 0x61FF);
}

static int
sort_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_events(const char *card)
{
	char name[256];
	double rem[5], ins[5];
	int i;

	reader_name(0, name, sizeof(name));
	wait_card(name, 1, 2000);
	for (i = 0; i < 5; i++) {
		double t0 = tu_now_ms();

		CHECK(tu_runl(sim_path, "--reader", "0", "remove", NULL) == 0, "cnie-sim remove");
		wait_card(name, 0, 2000);
		rem[i] = tu_now_ms() - t0;
		t0 = tu_now_ms();
		CHECK(tu_runl(sim_path, "--reader", "0", "insert", card, NULL) == 0, "cnie-sim insert");
		wait_card(name, 1, 2000);
		ins[i] = tu_now_ms() - t0;
	}
	qsort(rem, 5, sizeof(rem[0]), sort_cmp);
	qsort(ins, 5, sizeof(ins[0]), sort_cmp);
	printf("latency (cnie-sim start to SCardGetStatusChange return), 5 runs:\n"
	       "  remove: median %.1f ms, max %.1f ms\n  insert: median %.1f ms, max %.1f ms\n",
	    rem[2], rem[4], ins[2], ins[4]);
	/* The latency is a figure (bench/run prints it), not a timed assertion:
	 * the test proves each movement is seen; the waits above only bound a hang. */
	return 0;
}

static int
cmd_reset(const char *card)
{
	char name[256], path[4096];
	const char *base = getenv("CNIE_SIM_BASE");
	DWORD proto;
	SCARDHANDLE h;
	struct stat st;
	long sw;

	CHECK(base != NULL, "CNIE_SIM_BASE");
	reader_name(0, name, sizeof(name));
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	CHECK(select_ok(apdu(h, proto, SELECT_PKI)), "SELECT");
	CHECK((sw = apdu(h, proto, VERIFY_1234)) == 0x9000, "VERIFY 1234: %04lX", sw);
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x9000, "VERIFY status: %04lX", sw);

	/* reset: the open handle learns the card went away, the PIN state is gone. */
	CHECK(tu_runl(sim_path, "--reader", "0", "reset", NULL) == 0, "cnie-sim reset");
	sw = apdu(h, proto, SELECT_PKI);
	CHECK(sw == -(long)SCARD_W_REMOVED_CARD, "after reset: %ld, want SCARD_W_REMOVED_CARD", sw);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	/* pcscd has seen the removal; wait until it has powered the card up again. */
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	CHECK(select_ok(apdu(h, proto, SELECT_PKI)), "SELECT after reset");
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x63C3, "PIN still verified: %04lX", sw);

	/* A wrong PIN: the counter goes to the reader's state file... */
	CHECK((sw = apdu(h, proto, VERIFY_9999)) == 0x63C2, "VERIFY 9999: %04lX", sw);
	snprintf(path, sizeof(path), "%s/reader0/ec.state.json", base);
	CHECK(stat(path, &st) == 0, "no state file %s", path);
	snprintf(path, sizeof(path), "%s/state.json", card);
	CHECK(stat(path, &st) != 0, "state written into the build's card directory %s", path);
	SCardDisconnect(h, SCARD_LEAVE_CARD);

	/* ...and survives taking the card out and putting it back. */
	CHECK(tu_runl(sim_path, "--reader", "0", "remove", NULL) == 0, "remove");
	wait_card(name, 0, 2000);
	CHECK(tu_runl(sim_path, "--reader", "0", "insert", card, NULL) == 0, "insert");
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	CHECK(select_ok(apdu(h, proto, SELECT_PKI)), "SELECT");
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x63C2, "tries after reinsert: %04lX", sw);
	CHECK((sw = apdu(h, proto, VERIFY_1234)) == 0x9000, "VERIFY 1234: %04lX", sw);
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x9000, "VERIFY status: %04lX", sw);
	SCardDisconnect(h, SCARD_RESET_CARD);
	printf("reset and state file ok\n");
	return 0;
}

/* ---- PIN pad ---------------------------------------------------------- */

static DWORD ioctl_verify, ioctl_modify;

static size_t
put_le16(BYTE *p, unsigned v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	return 2;
}

static size_t
put_le32(BYTE *p, unsigned long v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
	return 4;
}

/* PIN_VERIFY_STRUCTURE: ASCII, variable length (digits only), VERIFY PIN 81. */
static size_t
verify_struct(BYTE *b, BYTE timeout)
{
	static const BYTE tpl[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };
	size_t n = 0;

	b[n++] = timeout;
	b[n++] = 0;	/* bTimerOut2 */
	b[n++] = 0x82;	/* bytes, position 0, left, ASCII */
	b[n++] = 0x00;	/* no length field, block = the digits */
	b[n++] = 0x00;
	n += put_le16(b + n, (4 << 8) | 12);
	b[n++] = 0x02;	/* validation key */
	b[n++] = 0x01;
	n += put_le16(b + n, 0x0409);
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	n += put_le32(b + n, sizeof(tpl));
	memcpy(b + n, tpl, sizeof(tpl));
	return n + sizeof(tpl);
}

/* PIN_MODIFY_STRUCTURE: CHANGE REFERENCE DATA, old || new, each ASCII in 12 FF-padded bytes. */
static size_t
modify_struct(BYTE *b, BYTE timeout)
{
	size_t n = 0;

	b[n++] = timeout;
	b[n++] = 0;
	b[n++] = 0x82;
	b[n++] = 0x0C;	/* 12-byte blocks */
	b[n++] = 0x00;
	b[n++] = 0;	/* bInsertionOffsetOld */
	b[n++] = 12;	/* bInsertionOffsetNew */
	n += put_le16(b + n, (4 << 8) | 12);
	b[n++] = 0x03;	/* current PIN, then new PIN twice */
	b[n++] = 0x02;
	b[n++] = 0x03;
	n += put_le16(b + n, 0x0409);
	b[n++] = 0;
	b[n++] = 1;
	b[n++] = 2;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	n += put_le32(b + n, 5 + 24);
	memcpy(b + n, (const BYTE[]){ 0x00, 0x24, 0x00, 0x81, 0x18 }, 5);
	memset(b + n + 5, 0xFF, 24);
	return n + 5 + 24;
}

/* One PIN-pad operation: returns the SW, or -rv on a PC/SC error. */
static long
pinpad(SCARDHANDLE h, DWORD code, const BYTE *s, size_t n, double *ms)
{
	BYTE resp[258];
	DWORD len = 0;
	double t0 = tu_now_ms();
	LONG rv;

	rv = SCardControl(h, code, s, (DWORD)n, resp, sizeof(resp), &len);
	if (ms != NULL)
		*ms = tu_now_ms() - t0;
	if (rv != SCARD_S_SUCCESS)
		return -(long)rv;
	CHECK(len == 2, "PIN pad response of %lu bytes", (unsigned long)len);
	return (long)((resp[0] << 8) | resp[1]);
}

static void
features(SCARDHANDLE h, DWORD *verify, DWORD *modify)
{
	BYTE buf[256];
	DWORD len = 0, i;
	LONG rv;

	*verify = *modify = 0;
	rv = SCardControl(h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &len);
	CHECK(rv == SCARD_S_SUCCESS, "GET_FEATURE_REQUEST: %s", pcsc_stringify_error(rv));
	CHECK(len % 6 == 0, "feature list length %lu", (unsigned long)len);
	for (i = 0; i < len; i += 6) {
		DWORD code = ((DWORD)buf[i + 2] << 24) | ((DWORD)buf[i + 3] << 16) |
		    ((DWORD)buf[i + 4] << 8) | buf[i + 5];

		CHECK(buf[i + 1] == 4, "feature length");
		if (buf[i] == FEATURE_VERIFY_PIN_DIRECT)
			*verify = code;
		else if (buf[i] == FEATURE_MODIFY_PIN_DIRECT)
			*modify = code;
	}
}

static int
cmd_pinpad(void)
{
	char name[256];
	BYTE vs[64], ms[64];
	size_t vn, mn;
	DWORD proto, v0, m0;
	SCARDHANDLE h;
	double t;
	long sw;

	/* A contact reader has no PIN pad. */
	reader_name(0, name, sizeof(name));
	h = connect_reader(name, &proto);
	features(h, &v0, &m0);
	CHECK(v0 == 0 && m0 == 0, "contact reader announces a PIN pad");
	vn = verify_struct(vs, 2);
	CHECK(pinpad(h, 0x42330006, vs, vn, NULL) == -(long)SCARD_E_UNSUPPORTED_FEATURE,
	    "verify on a contact reader");
	SCardDisconnect(h, SCARD_LEAVE_CARD);

	reader_name(2, name, sizeof(name));
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	features(h, &ioctl_verify, &ioctl_modify);
	CHECK(ioctl_verify == SCARD_CTL_CODE(0x330000 + FEATURE_VERIFY_PIN_DIRECT),
	    "verify code %08lX", (unsigned long)ioctl_verify);
	CHECK(ioctl_modify == SCARD_CTL_CODE(0x330000 + FEATURE_MODIFY_PIN_DIRECT),
	    "modify code %08lX", (unsigned long)ioctl_modify);
	CHECK(select_ok(apdu(h, proto, SELECT_PKI)), "SELECT");

	/* Keys typed before the request are used. */
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, &t)) == 0x9000, "verify: %04lX", sw);
	printf("PIN-pad verify with queued keys: 9000 in %.1f ms\n", t);
	CHECK(apdu(h, proto, VERIFY_STATUS) == 0x9000, "PIN not verified");

	/* Cancel, explicit timeout, no key at all (bTimerOut 1 s). */
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "cancel", NULL) == 0, "keys cancel");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x6401, "cancel: %04lX", sw);
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "timeout", NULL) == 0, "keys timeout");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x6400, "timeout: %04lX", sw);
	vn = verify_struct(vs, 1);
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, &t)) == 0x6400, "no keys: %04lX", sw);
	CHECK(t >= 900 && t < 3000, "bTimerOut 1 s took %.0f ms", t);
	vn = verify_struct(vs, 2);

	/* Too short for wPINMaxExtraDigit (4..12): the pad refuses, no try spent. */
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "12", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x6403, "short PIN: %04lX", sw);
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x63C3 || sw == 0x9000, "tries: %04lX", sw);

	/* A wrong PIN reaches the card; the right one restores the counter. */
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "9999", "1234", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x63C2, "wrong PIN: %04lX", sw);
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x9000, "right PIN: %04lX", sw);

	/* Modify: current, new, confirmation; then back. */
	mn = modify_struct(ms, 2);
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", "5678", "5679", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_modify, ms, mn, NULL)) == 0x6402, "mismatch: %04lX", sw);
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", "5678", "5678", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_modify, ms, mn, NULL)) == 0x9000, "modify: %04lX", sw);
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "5678", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_verify, vs, vn, NULL)) == 0x9000, "new PIN: %04lX", sw);
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "5678", "1234", "1234", NULL) == 0, "keys");
	CHECK((sw = pinpad(h, ioctl_modify, ms, mn, NULL)) == 0x9000, "modify back: %04lX", sw);
	CHECK(apdu(h, proto, VERIFY_1234) == 0x9000, "PIN 1234 after modify back");

	/* A malformed structure (ulDataLength one too many) is refused. */
	vs[15]++;
	CHECK(pinpad(h, ioctl_verify, vs, vn, NULL) == -(long)SCARD_E_NOT_TRANSACTED,
	    "malformed structure accepted");
	vs[15]--;
	/* Keys are never left over for the next request. */
	CHECK(tu_runl(sim_path, "--reader", "2", "keys", "clear", NULL) == 0, "keys clear");
	SCardDisconnect(h, SCARD_RESET_CARD);
	printf("PIN pad ok\n");
	return 0;
}

static int
cmd_tries(long want)
{
	char name[256];
	DWORD proto;
	SCARDHANDLE h;
	long sw;

	reader_name(0, name, sizeof(name));
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	CHECK(select_ok(apdu(h, proto, SELECT_PKI)), "SELECT");
	if (want < 0) {
		CHECK((sw = apdu(h, proto, VERIFY_9999)) == 0x63C2, "VERIFY 9999: %04lX", sw);
	} else {
		CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x63C0 + want,
		    "tries: %04lX, want 63C%ld", sw, want);
		CHECK((sw = apdu(h, proto, VERIFY_1234)) == 0x9000, "VERIFY 1234: %04lX", sw);
	}
	SCardDisconnect(h, SCARD_RESET_CARD);
	return 0;
}

/* ---- the PACE reader (PC/SC part 10 amendment 1) ---------------------- */

/* One EXECUTE_PACE exchange; returns dwResult, data copied to out (cap bytes). */
static unsigned long
exec_pace(SCARDHANDLE h, DWORD code, const BYTE *in, size_t n, BYTE *out, size_t cap,
    size_t *out_len)
{
	BYTE resp[4096];
	DWORD len = 0;
	LONG rv;
	size_t dl;

	rv = SCardControl(h, code, in, (DWORD)n, resp, sizeof(resp), &len);
	CHECK(rv == SCARD_S_SUCCESS, "EXECUTE_PACE: %s", pcsc_stringify_error(rv));
	CHECK(len >= 6, "EXECUTE_PACE answer of %lu bytes", (unsigned long)len);
	dl = (size_t)resp[4] | (size_t)resp[5] << 8;
	CHECK(dl == len - 6, "wLengthOutputData %zu for %lu bytes", dl, (unsigned long)len);
	CHECK(dl <= cap, "output too long");
	if (dl > 0)
		memcpy(out, resp + 6, dl);
	*out_len = dl;
	return (unsigned long)resp[0] | (unsigned long)resp[1] << 8 |
	    (unsigned long)resp[2] << 16 | (unsigned long)resp[3] << 24;
}

static DWORD
pace_feature(SCARDHANDLE h)
{
	BYTE buf[256];
	DWORD len = 0, i, code = 0;
	LONG rv;

	rv = SCardControl(h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &len);
	CHECK(rv == SCARD_S_SUCCESS, "GET_FEATURE_REQUEST: %s", pcsc_stringify_error(rv));
	for (i = 0; i + 6 <= len; i += 6) {
		if (buf[i] == FEATURE_EXECUTE_PACE)
			code = ((DWORD)buf[i + 2] << 24) | ((DWORD)buf[i + 3] << 16) |
			    ((DWORD)buf[i + 4] << 8) | buf[i + 5];
	}
	return code;
}

/* The reader's status line from cnie-sim contains want. */
static void
sim_status_has(const char *want)
{
	char cmd[4096], line[1024];
	FILE *f;
	int found = 0;

	snprintf(cmd, sizeof(cmd), "'%s' --reader 3 status", sim_path);
	CHECK((f = popen(cmd, "r")) != NULL, "popen");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, want) != NULL)
			found = 1;
	pclose(f);
	CHECK(found, "cnie-sim status of reader 3 lacks %s", want);
}

/*
 * Outside PACE the card answers the PKI application's commands over the
 * air 6982 (card-profile.md 6); through the reader's channel they work.
 */
static int
plain_refused(SCARDHANDLE h, DWORD proto)
{
	long sw = apdu(h, proto, SELECT_PKI);

	if (!select_ok(sw) && sw != 0x6982) {
		fprintf(stderr, "SELECT: %04lX\n", sw);
		return 0;
	}
	sw = apdu(h, proto, VERIFY_STATUS);
	if (sw != 0x6982)
		fprintf(stderr, "VERIFY status outside PACE: %04lX\n", sw);
	return sw == 0x6982;
}

/* EstablishPACEChannel, PinID CAN, no CHAT, PIN from the keypad, no description. */
static const BYTE establish_can[] = { 0x02, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00 };

static int
cmd_pace(const char *card)
{
	static const BYTE caps_in[] = { 0x01, 0x00, 0x00 }, destroy_in[] = { 0x03, 0x00, 0x00 };
	/* Hostile or unsupported inputs and the dwResult the reader owes them. */
	static const struct {
		BYTE in[16];
		size_t n;
		unsigned long want;
	} bad[] = {
		{ { 0x02, 0x06, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00 }, 8, 0xD0000001ul },
		{ { 0x02, 0xFF, 0xFF, 0x02 }, 4, 0xD0000001ul },
		{ { 0x02 }, 1, 0xD0000001ul },
		{ { 0x02, 0x03, 0x00, 0x02, 0x05, 0x00 }, 6, 0xD0000001ul },
		{ { 0x09, 0x00, 0x00 }, 3, 0xD0000002ul },
		{ { 0x02, 0x06, 0x00, 0x02, 0x01, 0x7F, 0x00, 0x00, 0x00 }, 9, 0xD0000003ul },
		{ { 0x02, 0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00 }, 8, 0xE0000003ul },
		{ { 0x02, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00 }, 8, 0xD0000003ul },
	};
	char name[256];
	BYTE out[2048];
	size_t n, i;
	DWORD proto, proto2, code;
	SCARDHANDLE h, h2;
	SCARDCONTEXT ctx2;
	unsigned long res;
	long sw;

	reader_name(3, name, sizeof(name));
	CHECK(strstr(name, "PACE") != NULL, "reader 3 is %s", name);
	CHECK(tu_runl(sim_path, "--reader", "3", "insert", card, NULL) == 0, "insert");
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	CHECK((code = pace_feature(h)) != 0, "no FEATURE_EXECUTE_PACE on reader 3");
	res = exec_pace(h, code, caps_in, sizeof(caps_in), out, sizeof(out), &n);
	CHECK(res == 0 && n == 1 && (out[0] & 0x40) != 0 && (out[0] & 0x80) != 0,
	    "GetReaderPACECapabilities: %08lX, %zu bytes, %02X", res, n, n > 0 ? out[0] : 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		res = exec_pace(h, code, bad[i].in, bad[i].n, out, sizeof(out), &n);
		CHECK(res == bad[i].want, "bad input %zu: %08lX, want %08lX", i, res, bad[i].want);
	}
	printf("capabilities and malformed inputs ok\n");

	/* Before PACE the card refuses the PKI application's commands over the air. */
	CHECK(plain_refused(h, proto), "before PACE");

	/* The CAN on the keypad: the channel is up, the client talks plainly. */
	CHECK(tu_runl(sim_path, "--reader", "3", "keys", "123456", NULL) == 0, "keys");
	res = exec_pace(h, code, establish_can, sizeof(establish_can), out, sizeof(out), &n);
	CHECK(res == 0, "EstablishPACEChannel: %08lX", res);
	CHECK(n >= 4 && out[0] == 0x90 && out[1] == 0x00, "StatusMSESetAT");
	CHECK(n == 4 + ((size_t)out[2] | (size_t)out[3] << 8) && n > 4 && out[4] == 0x31,
	    "EF.CardAccess in the output (%zu bytes)", n);
	sim_status_has("\"pace\":\"up\"");
	CHECK(select_ok(sw = apdu(h, proto, SELECT_PKI)), "SELECT through the channel: %04lX", sw);
	CHECK((sw = apdu(h, proto, VERIFY_STATUS)) == 0x63C3, "VERIFY status: %04lX", sw);

	/* A second client shares the reader's channel (the IFD API cannot tell clients apart). */
	CHECK(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx2) == SCARD_S_SUCCESS,
	    "second context");
	CHECK(SCardConnect(ctx2, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &h2, &proto2) == SCARD_S_SUCCESS, "second connect");
	CHECK(select_ok(sw = apdu(h2, proto2, SELECT_PKI)), "second client SELECT: %04lX", sw);
	CHECK((sw = apdu(h2, proto2, VERIFY_STATUS)) == 0x63C3, "second client VERIFY: %04lX", sw);
	printf("second client talks through the reader's channel\n");

	/* DestroyPACEChannel: plain again, the card refuses. */
	res = exec_pace(h, code, destroy_in, sizeof(destroy_in), out, sizeof(out), &n);
	CHECK(res == 0 && n == 0, "DestroyPACEChannel: %08lX", res);
	sim_status_has("\"pace\":\"none\"");
	CHECK(plain_refused(h2, proto2), "after Destroy");

	/* A reset ends the channel: every handle learns of it, the card is plain again. */
	CHECK(tu_runl(sim_path, "--reader", "3", "keys", "123456", NULL) == 0, "keys");
	res = exec_pace(h, code, establish_can, sizeof(establish_can), out, sizeof(out), &n);
	CHECK(res == 0, "EstablishPACEChannel again: %08lX", res);
	CHECK(tu_runl(sim_path, "--reader", "3", "reset", NULL) == 0, "reset");
	sw = apdu(h, proto, SELECT_PKI);
	CHECK(sw == -(long)SCARD_W_REMOVED_CARD, "after reset: %ld", sw);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardDisconnect(h2, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx2);
	wait_card(name, 1, 2000);
	h = connect_reader(name, &proto);
	sim_status_has("\"pace\":\"none\"");
	CHECK(plain_refused(h, proto), "after reset");
	printf("Destroy and reset end the channel\n");

	/* Wrong CAN: the card refuses the last GENERAL AUTHENTICATE; no channel. */
	CHECK(tu_runl(sim_path, "--reader", "3", "keys", "654321", NULL) == 0, "keys");
	res = exec_pace(h, code, establish_can, sizeof(establish_can), out, sizeof(out), &n);
	CHECK((res & 0xFFFF0000ul) == 0xF0060000ul, "wrong CAN: %08lX", res);
	sim_status_has("\"pace\":\"none\"");
	/* Cancel and no entry on the keypad. */
	CHECK(tu_runl(sim_path, "--reader", "3", "keys", "cancel", NULL) == 0, "keys cancel");
	res = exec_pace(h, code, establish_can, sizeof(establish_can), out, sizeof(out), &n);
	CHECK(res == 0xF0200001ul, "cancel: %08lX", res);
	CHECK(tu_runl(sim_path, "--reader", "3", "keys", "timeout", NULL) == 0, "keys timeout");
	res = exec_pace(h, code, establish_can, sizeof(establish_can), out, sizeof(out), &n);
	CHECK(res == 0xF0200002ul, "timeout: %08lX", res);
	/* The CAN given by the host (lengthPIN > 0) is accepted too, as the amendment allows. */
	{
		static const BYTE host_can[] = { 0x02, 0x0B, 0x00, 0x02, 0x00, 0x06, '1', '2', '3',
			'4', '5', '6', 0x00, 0x00 };

		res = exec_pace(h, code, host_can, sizeof(host_can), out, sizeof(out), &n);
		CHECK(res == 0, "EstablishPACEChannel with the host's CAN: %08lX", res);
		CHECK(select_ok(sw = apdu(h, proto, SELECT_PKI)), "SELECT: %04lX", sw);
	}
	printf("wrong CAN, cancel, timeout ok\n");
	SCardDisconnect(h, SCARD_RESET_CARD);
	CHECK(tu_runl(sim_path, "--reader", "3", "remove", NULL) == 0, "remove");
	return 0;
}

int
main(int argc, char **argv)
{
	LONG rv;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: ifd_pcsc events|reset|pinpad|pace|spend|tries ...\n");
		return 2;
	}
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	CHECK(rv == SCARD_S_SUCCESS, "SCardEstablishContext: %s", pcsc_stringify_error(rv));
	if (strcmp(argv[1], "events") == 0 && argc == 4) {
		sim_path = argv[2];
		rc = cmd_events(argv[3]);
	} else if (strcmp(argv[1], "reset") == 0 && argc == 4) {
		sim_path = argv[2];
		rc = cmd_reset(argv[3]);
	} else if (strcmp(argv[1], "pinpad") == 0 && argc == 3) {
		sim_path = argv[2];
		rc = cmd_pinpad();
	} else if (strcmp(argv[1], "pace") == 0 && argc == 4) {
		sim_path = argv[2];
		rc = cmd_pace(argv[3]);
	} else if (strcmp(argv[1], "spend") == 0 && argc == 2) {
		rc = cmd_tries(-1);
	} else if (strcmp(argv[1], "tries") == 0 && argc == 3) {
		rc = cmd_tries(strtol(argv[2], NULL, 10));
	} else {
		fprintf(stderr, "ifd_pcsc: bad arguments\n");
		rc = 2;
	}
	SCardReleaseContext(ctx);
	return rc;
}
