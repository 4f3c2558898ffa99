/*
 * The IFD handler entry points (drivers/ifd) called as pcscd calls them,
 * with the real emulator and the build's ec test card: Lun checks, caller
 * buffer sizes, the event wait, the control socket.  Skipped (77) when the
 * test cards are not built, a failure under CI=true (tu_skip).
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <PCSC/ifdhandler.h>
#include <PCSC/reader.h>

#include "ifd.h"
#include "testutil.h"

#define LUN0 0x00000
#define LUN1 0x10000

static char card[PATH_MAX];
static char dir[PATH_MAX];
static char baddir[PATH_MAX];

/* Sends raw bytes to the reader's control socket; returns the reply line. */
static void
ctl_raw(const char *d, const char *msg, size_t n, char *reply, size_t cap)
{
	struct sockaddr_un sa;
	size_t len = 0;
	ssize_t k;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(d) + sizeof("/control.sock") <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, d, strlen(d));
	memcpy(sa.sun_path + strlen(d), "/control.sock", sizeof("/control.sock"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, msg, n), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	while (len < cap - 1 && (k = read(fd, reply + len, cap - 1 - len)) > 0)
		len += (size_t)k;
	reply[len] = '\0';
	close(fd);
}

static void
ctl(const char *line, char *reply, size_t cap)
{
	char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s\n", line);
	ctl_raw(dir, buf, strlen(buf), reply, cap);
}

static int
setup_dirs(void **state)
{
	char path[PATH_MAX + 32];
	const char *b = getenv("CNIE_BUILD_DIR");
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_ifd.XXXXXX");
	snprintf(baddir, sizeof(baddir), "/tmp/test_ifd_bad.XXXXXX");
	if (mkdtemp(dir) == NULL || mkdtemp(baddir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/reader.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"type\": \"pinpad\", \"card\": \"%s\", \"state\": \"%s/ec.json\"}\n", card,
	    dir);
	fclose(f);
	snprintf(path, sizeof(path), "%s/reader.json", baddir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"type\": \"contact\", \"cards\": \"%s\"}\n", card);
	fclose(f);
	(void)b;
	return 0;
}

static int
teardown_dirs(void **state)
{
	char cmd[2 * PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, baddir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_lun_outside_the_table_is_refused(void **state)
{
	UCHAR v[8];
	DWORD len = sizeof(v);

	(void)state;
	assert_int_equal(IFDHICCPresence(IFD_MAX_READERS << 16), IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHICCPresence(0x00001), IFD_COMMUNICATION_ERROR); /* slot 1 */
	assert_int_equal(IFDHICCPresence(0xFFFFFFFF), IFD_COMMUNICATION_ERROR);
	/* A reader never opened. */
	assert_int_equal(IFDHICCPresence(3 << 16), IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHGetCapabilities(3 << 16, TAG_IFD_SLOTS_NUMBER, &len, v),
	    IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHCreateChannelByName(IFD_MAX_READERS << 16, dir),
	    IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHCreateChannel(LUN0, 0), IFD_NO_SUCH_DEVICE);
}

static void
test_bad_reader_json_is_no_such_device(void **state)
{
	char rel[] = "relative/dir";

	(void)state;
	/* "cards" is not a key: a typo must not give an empty reader silently. */
	assert_int_equal(IFDHCreateChannelByName(LUN1, baddir), IFD_NO_SUCH_DEVICE);
	assert_int_equal(IFDHICCPresence(LUN1), IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHCreateChannelByName(LUN1, rel), IFD_NO_SUCH_DEVICE);
}

static void
test_open_and_capabilities(void **state)
{
	UCHAR v[64];
	DWORD len;
	RESPONSECODE (*poll_fn)(DWORD, int);
	uint32_t max;

	(void)state;
	assert_int_equal(IFDHCreateChannelByName(LUN0, dir), IFD_SUCCESS);
	assert_int_equal(IFDHCreateChannelByName(LUN0, dir), IFD_COMMUNICATION_ERROR);

	len = 0;
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_SLOTS_NUMBER, &len, v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = 1;
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_SLOTS_NUMBER, &len, v), IFD_SUCCESS);
	assert_int_equal(len, 1);
	assert_int_equal(v[0], 1);
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_SIMULTANEOUS_ACCESS, &len, v),
	    IFD_SUCCESS);
	assert_int_equal(len, 1);
	assert_int_equal(v[0], IFD_MAX_READERS);
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_THREAD_SAFE, &len, v), IFD_SUCCESS);
	assert_int_equal(v[0], 1);
	len = sizeof(poll_fn) - 1;
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len, v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len, v),
	    IFD_SUCCESS);
	assert_int_equal(len, sizeof(poll_fn));
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, SCARD_ATTR_MAXINPUT, &len, v), IFD_SUCCESS);
	assert_int_equal(len, 4);
	memcpy(&max, v, sizeof(max));
	assert_int_equal(max, 65544);
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, 0x12345678, &len, v), IFD_ERROR_TAG);
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_SLOTS_NUMBER, NULL, v),
	    IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHSetCapabilities(LUN0, TAG_IFD_SLOTS_NUMBER, 1, v), IFD_ERROR_TAG);
}

static void
test_power_and_transmit_check_buffers(void **state)
{
	static UCHAR select_pki[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x43, 0x4E, 0x49,
		0x45, 0x50, 0x4B, 0x49 };
	SCARD_IO_HEADER pci = { SCARD_PROTOCOL_T1, 8 }, rpci = { 0, 0 };
	UCHAR atr[MAX_ATR_SIZE], resp[258];
	DWORD atr_len = sizeof(atr), len;

	(void)state;
	assert_int_equal(IFDHICCPresence(LUN0), IFD_ICC_PRESENT);
	/* Not powered yet: no ATR, no APDU. */
	len = sizeof(resp);
	assert_int_equal(IFDHTransmitToICC(LUN0, pci, select_pki, sizeof(select_pki),
	    resp, &len, &rpci), IFD_COMMUNICATION_ERROR);
	assert_int_equal(len, 0);
	assert_int_equal(IFDHPowerICC(LUN0, IFD_POWER_UP, atr, &atr_len), IFD_SUCCESS);
	assert_true(atr_len >= 2 && atr[0] == 0x3B);
	assert_int_equal(IFDHSetProtocolParameters(LUN0, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	assert_int_equal(IFDHSetProtocolParameters(LUN0, SCARD_PROTOCOL_RAW, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);

	len = sizeof(resp);
	assert_int_equal(IFDHTransmitToICC(LUN0, pci, select_pki, sizeof(select_pki),
	    resp, &len, &rpci), IFD_SUCCESS);
	/* 9000, or 61xx: FCI waiting for a GET RESPONSE (no Le sent). */
	assert_int_equal(len, 2);
	assert_true(resp[0] == 0x90 || resp[0] == 0x61);
	assert_int_equal(rpci.Protocol, SCARD_PROTOCOL_T1);
	/* A one-byte buffer cannot take a status word: nothing is written. */
	len = 1;
	resp[0] = 0xEE;
	assert_int_equal(IFDHTransmitToICC(LUN0, pci, select_pki, sizeof(select_pki),
	    resp, &len, NULL), IFD_ERROR_INSUFFICIENT_BUFFER);
	assert_int_equal(len, 0);
	assert_int_equal(resp[0], 0xEE);
	/* Shorter than a header. */
	len = sizeof(resp);
	assert_int_equal(IFDHTransmitToICC(LUN0, pci, select_pki, 3, resp, &len, NULL),
	    IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHTransmitToICC(LUN0, pci, select_pki, sizeof(select_pki),
	    resp, NULL, NULL), IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHPowerICC(LUN0, IFD_POWER_DOWN, NULL, NULL), IFD_SUCCESS);
	assert_int_equal(IFDHPowerICC(LUN0, 12345, atr, &atr_len), IFD_NOT_SUPPORTED);
}

static void
test_control_features_and_unknown_codes(void **state)
{
	UCHAR buf[64];
	DWORD ret = 99;

	(void)state;
	assert_int_equal(IFDHControl(LUN0, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, 11, &ret),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	assert_int_equal(ret, 0);
	assert_int_equal(IFDHControl(LUN0, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf,
	    sizeof(buf), &ret), IFD_SUCCESS);
	assert_int_equal(ret, 12);
	assert_memory_equal(buf, ((const UCHAR[]){ 0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x04,
		0x42, 0x33, 0x00, 0x07 }), 12);
	assert_int_equal(IFDHControl(LUN0, SCARD_CTL_CODE(1), NULL, 0, buf, sizeof(buf), &ret),
	    IFD_ERROR_NOT_SUPPORTED);
	assert_int_equal(IFDHControl(LUN0, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf,
	    sizeof(buf), NULL), IFD_COMMUNICATION_ERROR);
	/* Malformed PIN structure: refused before any key is awaited. */
	assert_int_equal(IFDHControl(LUN0, IFD_IOCTL_VERIFY_PIN_DIRECT, buf, 10, buf, sizeof(buf),
	    &ret), IFD_COMMUNICATION_ERROR);
}

static void
test_control_socket_commands(void **state)
{
	char reply[1024];

	(void)state;
	ctl("status", reply, sizeof(reply));
	assert_non_null(strstr(reply, "ok {\"reader\":0,\"type\":\"pinpad\""));
	assert_non_null(strstr(reply, "\"present\":true"));
	ctl("bogus", reply, sizeof(reply));
	assert_int_equal(strncmp(reply, "error unknown command", 21), 0);
	ctl("keys 12345678901234567", reply, sizeof(reply));
	assert_int_equal(strncmp(reply, "error keys", 10), 0);
	ctl("keys 1234 x", reply, sizeof(reply));
	assert_int_equal(strncmp(reply, "error keys", 10), 0);
	ctl("status", reply, sizeof(reply));
	assert_non_null(strstr(reply, "\"keys\":0")); /* all or nothing */
	ctl("keys 1234 cancel", reply, sizeof(reply));
	assert_string_equal(reply, "ok queued 2\n");
	ctl("keys clear", reply, sizeof(reply));
	assert_string_equal(reply, "ok queued 0\n");
	ctl_raw(dir, "status", 6, reply, sizeof(reply)); /* no newline */
	assert_int_equal(strncmp(reply, "error bad request", 17), 0);
	ctl_raw(dir, "status\nstatus\n", 14, reply, sizeof(reply));
	assert_int_equal(strncmp(reply, "error bad request", 17), 0);
	ctl("insert relative/card", reply, sizeof(reply));
	assert_int_equal(strncmp(reply, "error a card is already inserted", 32), 0);
}

/* Sends line to the control socket once thread waiter is blocked in its wait. */
struct later {
	const char *line;
	pid_t waiter;
	bool blocked;
};

static void *
send_later(void *arg)
{
	struct later *l = arg;
	char reply[256];

	l->blocked = tu_wait_blocked(l->waiter);
	ctl(l->line, reply, sizeof(reply));
	return NULL;
}

/* Longer than the test's ctest TIMEOUT: a wait that is not woken fails the test. */
#define FOREVER_MS 600000

static void
test_event_wait_returns_on_card_movement(void **state)
{
	RESPONSECODE (*poll_fn)(DWORD, int);
	RESPONSECODE (*stop_fn)(DWORD);
	UCHAR v[16];
	DWORD len = sizeof(v);
	char line[PATH_MAX + 16], reply[256];
	struct later l;
	pthread_t t;
	double t0, dt;

	(void)state;
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len, v),
	    IFD_SUCCESS);
	memcpy(&poll_fn, v, sizeof(poll_fn));
	len = sizeof(v);
	assert_int_equal(IFDHGetCapabilities(LUN0, TAG_IFD_STOP_POLLING_THREAD, &len, v),
	    IFD_SUCCESS);
	memcpy(&stop_fn, v, sizeof(stop_fn));

	/* Nothing happens: the wait lasts its timeout (it does not end early). */
	assert_int_equal(IFDHICCPresence(LUN0), IFD_ICC_PRESENT);
	t0 = tu_now_ms();
	assert_int_equal(poll_fn(LUN0, 200), IFD_SUCCESS);
	dt = tu_now_ms() - t0;
	assert_true(dt >= 190);

	/*
	 * A removal while the wait is blocked ends it: the wait has no
	 * timeout that could end it instead (a missed wake-up hangs the test
	 * until ctest's TIMEOUT fails it).
	 */
	l.line = "remove";
	l.waiter = tu_gettid();
	l.blocked = false;
	assert_int_equal(pthread_create(&t, NULL, send_later, &l), 0);
	assert_int_equal(poll_fn(LUN0, FOREVER_MS), IFD_SUCCESS);
	pthread_join(t, NULL);
	assert_true(l.blocked);
	/* A change not yet reported: no wait at all (else it would hang). */
	assert_int_equal(poll_fn(LUN0, FOREVER_MS), IFD_SUCCESS);
	assert_int_equal(IFDHICCPresence(LUN0), IFD_ICC_NOT_PRESENT);
	ctl("remove", reply, sizeof(reply));
	assert_string_equal(reply, "error no card\n");

	snprintf(line, sizeof(line), "insert %s", card);
	ctl(line, reply, sizeof(reply));
	assert_string_equal(reply, "ok inserted\n");
	assert_int_equal(IFDHICCPresence(LUN0), IFD_ICC_PRESENT);

	/* pcscd stopping the reader: the wait ends now and for good (else it hangs). */
	assert_int_equal(stop_fn(LUN0), IFD_SUCCESS);
	assert_int_equal(poll_fn(LUN0, FOREVER_MS), IFD_SUCCESS);
	assert_int_equal(poll_fn(LUN0, FOREVER_MS), IFD_SUCCESS);
}

static void
test_close_removes_the_socket(void **state)
{
	char path[PATH_MAX + 32];
	struct stat st;

	(void)state;
	assert_int_equal(IFDHCloseChannel(LUN0), IFD_SUCCESS);
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(IFDHICCPresence(LUN0), IFD_COMMUNICATION_ERROR);
	assert_int_equal(IFDHCloseChannel(LUN0), IFD_COMMUNICATION_ERROR);
	/* And it opens again. */
	assert_int_equal(IFDHCreateChannelByName(LUN0, dir), IFD_SUCCESS);
	assert_int_equal(IFDHICCPresence(LUN0), IFD_ICC_PRESENT);
	assert_int_equal(IFDHCloseChannel(LUN0), IFD_SUCCESS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lun_outside_the_table_is_refused),
		cmocka_unit_test(test_bad_reader_json_is_no_such_device),
		cmocka_unit_test(test_open_and_capabilities),
		cmocka_unit_test(test_power_and_transmit_check_buffers),
		cmocka_unit_test(test_control_features_and_unknown_codes),
		cmocka_unit_test(test_control_socket_commands),
		cmocka_unit_test(test_event_wait_returns_on_card_movement),
		cmocka_unit_test(test_close_removes_the_socket),
	};
	const char *b = getenv("CNIE_BUILD_DIR");
	char path[PATH_MAX + 32];
	struct stat st;

	if (b == NULL || snprintf(card, sizeof(card), "%s/cards/ec", b) >= (int)sizeof(card))
		return tu_skip("test_ifd: CNIE_BUILD_DIR unset or too long");
	snprintf(path, sizeof(path), "%s/card.json", card);
	if (stat(path, &st) != 0)
		return tu_skip("test_ifd: %s not built", path);
	return cmocka_run_group_tests(tests, setup_dirs, teardown_dirs);
}
