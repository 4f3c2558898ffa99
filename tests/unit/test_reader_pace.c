/*
 * PACE run by the reader (PC/SC part 10 amendment 1, FEATURE_EXECUTE_PACE):
 *
 *  - libcnie's bounded readers of the reader's answers
 *    (src/libcnie/reader_pace.c) on well-formed and hostile bytes, and the
 *    dwResult -> error table;
 *  - the virtual PACE reader's input parser (drivers/ifd/ifd_pace.c) on
 *    hostile bytes;
 *  - cnie_card_open_ex / cnie_card_resume / cnie_card_pin_verify_pinpad
 *    (src/libcnie/card.c) end to end in process: a transport over the IFD
 *    handler entry points (as pcscd calls them) of a reader of type "pace"
 *    holding the build's ec card, its keypad scripted through the control
 *    socket: CAN and PIN on the keypad, wrong CAN, cancel, timeout, a
 *    reset and the resume;
 *  - card.c against a reader answering hostile EstablishPACEChannel
 *    output: every one a clean error, the keypad never asked twice.
 *
 * Skipped (77) when the test cards are not built, a failure under CI=true.
 */
#include <limits.h>
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
#include <unistd.h>

#include <cmocka.h>

#include <PCSC/ifdhandler.h>
#include <PCSC/reader.h>

#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/reader_pace.h>
#include <cnie/transport.h>

#include "ifd.h"
#include "testutil.h"

#define LUN 0x00000

static char card[PATH_MAX];
static char dir[PATH_MAX];

/* ---- libcnie's readers of the reader's answers ------------------------- */

static void
test_split(void **state)
{
	static const uint8_t ok[] = { 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC0 };
	static const uint8_t err[] = { 0x01, 0x00, 0x20, 0xF0, 0x00, 0x00 };
	static const uint8_t longer[] = { 0, 0, 0, 0, 0x02, 0x00, 0xC0 };
	static const uint8_t shorter[] = { 0, 0, 0, 0, 0x00, 0x00, 0xC0 };
	static const uint8_t huge[] = { 0, 0, 0, 0, 0xFF, 0xFF };
	const uint8_t *d = NULL;
	size_t n = 99;
	uint32_t res = 1;
	uint8_t caps = 0;

	(void)state;
	assert_int_equal(cnie_rpace_split(ok, sizeof(ok), &res, &d, &n), 0);
	assert_int_equal(res, 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(d, ok + 6);
	assert_int_equal(cnie_rpace_parse_caps(d, n, &caps), 0);
	assert_int_equal(caps, 0xC0);
	assert_int_equal(cnie_rpace_split(err, sizeof(err), &res, &d, &n), 0);
	assert_int_equal(res, 0xF0200001u); /* little-endian dwResult */
	assert_int_equal(n, 0);
	assert_null(d);
	assert_int_equal(cnie_rpace_split(longer, sizeof(longer), &res, &d, &n), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_rpace_split(shorter, sizeof(shorter), &res, &d, &n),
	    CNIE_ERR_ENCODING);
	assert_int_equal(cnie_rpace_split(huge, sizeof(huge), &res, &d, &n), CNIE_ERR_ENCODING);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(cnie_rpace_split(ok, i, &res, &d, &n), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_split(NULL, 0, &res, &d, &n), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_split(NULL, 3, &res, &d, &n), CNIE_ERR_INVALID_ARG);
}

static void
test_caps(void **state)
{
	static const uint8_t one[] = { 0x40 }, two[] = { 0x01, 0xC0 }, bad2[] = { 0x02, 0xC0 },
			     three[] = { 0x01, 0xC0, 0x00 };
	uint8_t caps = 0;

	(void)state;
	assert_int_equal(cnie_rpace_parse_caps(one, 1, &caps), 0);
	assert_int_equal(caps, 0x40);
	assert_int_equal(cnie_rpace_parse_caps(two, 2, &caps), 0);
	assert_int_equal(caps, 0xC0);
	assert_int_equal(cnie_rpace_parse_caps(bad2, 2, &caps), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_rpace_parse_caps(three, 3, &caps), CNIE_ERR_ENCODING);
	assert_int_equal(cnie_rpace_parse_caps(NULL, 0, &caps), CNIE_ERR_ENCODING);
}

static void
test_establish_output(void **state)
{
	static const uint8_t minimal[] = { 0x90, 0x00, 0x02, 0x00, 0x31, 0x00 };
	static const uint8_t empty_ca[] = { 0x90, 0x00, 0x00, 0x00 };
	static const uint8_t full[] = { 0x90, 0x00, 0x01, 0x00, 0x31, 0x02, 'D', 'E', 0x00,
		0x03, 0x00, 0xAA, 0xBB, 0xCC };
	static const uint8_t ca_over[] = { 0x90, 0x00, 0x05, 0x00, 0x31, 0x00 };
	static const uint8_t ca_max[] = { 0x90, 0x00, 0xFF, 0xFF, 0x31 };
	static const uint8_t car_over[] = { 0x90, 0x00, 0x00, 0x00, 0x09, 'D' };
	static const uint8_t half_tail[] = { 0x90, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t id_over[] = { 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0xAA };
	static const uint8_t trailing[] = { 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7F };
	cnie_rpace_establish e;

	(void)state;
	assert_int_equal(cnie_rpace_parse_establish(minimal, sizeof(minimal), &e), 0);
	assert_int_equal(e.mse_sw, 0x9000);
	assert_int_equal(e.card_access_len, 2);
	assert_ptr_equal(e.card_access, minimal + 4);
	assert_null(e.car_curr);
	assert_int_equal(cnie_rpace_parse_establish(empty_ca, sizeof(empty_ca), &e), 0);
	assert_null(e.card_access);
	assert_int_equal(cnie_rpace_parse_establish(full, sizeof(full), &e), 0);
	assert_int_equal(e.car_curr_len, 2);
	assert_memory_equal(e.car_curr, "DE", 2);
	assert_int_equal(e.car_prev_len, 0);
	assert_int_equal(e.id_icc_len, 3);
	assert_ptr_equal(e.id_icc, full + 11);
	/* Every length checked against what is left; nothing after the last field. */
	assert_int_equal(cnie_rpace_parse_establish(ca_over, sizeof(ca_over), &e),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_parse_establish(ca_max, sizeof(ca_max), &e),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_parse_establish(car_over, sizeof(car_over), &e),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_parse_establish(half_tail, sizeof(half_tail), &e),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_parse_establish(id_over, sizeof(id_over), &e),
	    CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_rpace_parse_establish(trailing, sizeof(trailing), &e),
	    CNIE_ERR_TRAILING);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(cnie_rpace_parse_establish(minimal, i, &e), CNIE_ERR_TRUNCATED);
}

static void
test_result_errors(void **state)
{
	static const struct {
		uint32_t result;
		int err;
	} t[] = {
		{ 0x00000000u, 0 },
		{ 0xF00663C2u, CNIE_ERR_PACE },	 /* step 4: wrong password, tries left */
		{ 0xF0066300u, CNIE_ERR_PACE },
		{ 0xF0066982u, CNIE_ERR_PACE },
		{ 0xF0036300u, CNIE_ERR_PACE },
		{ 0xE0000006u, CNIE_ERR_PACE },	 /* the card's token did not verify */
		{ 0xF0200001u, CNIE_ERR_PINPAD_CANCELLED },
		{ 0xF0200002u, CNIE_ERR_PINPAD_TIMEOUT },
		{ 0xF0100002u, CNIE_ERR_NO_CARD },
		{ 0xF0100001u, CNIE_ERR_COMM },
		{ 0xE0000001u, CNIE_ERR_BAD_RESPONSE },
		{ 0xE0000002u, CNIE_ERR_BAD_RESPONSE },
		{ 0xE0000003u, CNIE_ERR_UNSUPPORTED },
		{ 0xF0006A82u, CNIE_ERR_SW_FILE_NOT_FOUND }, /* SELECT EF.CardAccess */
		{ 0xF0016982u, CNIE_ERR_SW_SECURITY_STATUS }, /* READ BINARY: not the password */
		{ 0xF0026A80u, CNIE_ERR_SW_WRONG_DATA }, /* MSE:SET AT */
		{ 0xF0009000u, CNIE_ERR_CARD },	 /* a "failure" wrapping 9000 */
		{ 0xD0000001u, CNIE_ERR_TRANSPORT },
		{ 0xD0000003u, CNIE_ERR_TRANSPORT },
		{ 0xF0070000u, CNIE_ERR_TRANSPORT },
		{ 0x12345678u, CNIE_ERR_TRANSPORT },
		{ 0xFFFFFFFFu, CNIE_ERR_TRANSPORT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(cnie_rpace_result_error(t[i].result), t[i].err);
		assert_non_null(cnie_rpace_result_name(t[i].result));
	}
}

/* ---- the virtual PACE reader's input parser ---------------------------- */

static void
test_driver_input(void **state)
{
	static const uint8_t est[] = { 0x02, 0x09, 0x00, 0x02, 0x01, 0x7F, 0x02, '1', '2', 0x01,
		0x00, 'X' };
	static const uint8_t caps[] = { 0x01, 0x00, 0x00 };
	static const uint8_t caps_data[] = { 0x01, 0x01, 0x00, 0x00 };
	static const uint8_t chat_over[] = { 0x02, 0x05, 0x00, 0x02, 0x09, 0x00, 0x00, 0x00 };
	static const uint8_t pin_over[] = { 0x02, 0x05, 0x00, 0x02, 0x00, 0x05, 0x00, 0x00 };
	static const uint8_t desc_over[] = { 0x02, 0x05, 0x00, 0x02, 0x00, 0x00, 0x10, 0x00 };
	static const uint8_t extra[] = { 0x02, 0x06, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t len_over[] = { 0x02, 0xFF, 0xFF, 0x02, 0x00 };
	struct ifd_pace_req q;

	(void)state;
	assert_int_equal(ifd_pace_parse(est, sizeof(est), &q), 0);
	assert_int_equal(q.function, 2);
	assert_int_equal(q.pin_id, 2);
	assert_int_equal(q.chat_len, 1);
	assert_int_equal(q.pin_len, 2);
	assert_memory_equal(q.pin, "12", 2);
	assert_int_equal(q.cert_desc_len, 1);
	assert_ptr_equal(q.cert_desc, est + 11);
	assert_int_equal(ifd_pace_parse(caps, sizeof(caps), &q), 0);
	assert_int_equal(q.function, 1);
	assert_int_equal(ifd_pace_parse(caps_data, sizeof(caps_data), &q), CNIE_ERR_TRAILING);
	assert_int_equal(ifd_pace_parse(chat_over, sizeof(chat_over), &q), CNIE_ERR_ENCODING);
	assert_int_equal(ifd_pace_parse(pin_over, sizeof(pin_over), &q), CNIE_ERR_ENCODING);
	assert_int_equal(ifd_pace_parse(desc_over, sizeof(desc_over), &q), CNIE_ERR_ENCODING);
	assert_int_equal(ifd_pace_parse(extra, sizeof(extra), &q), CNIE_ERR_TRAILING);
	assert_int_equal(ifd_pace_parse(len_over, sizeof(len_over), &q), CNIE_ERR_ENCODING);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ifd_pace_parse(est, i, &q), CNIE_ERR_TRUNCATED);
	for (size_t i = 3; i < sizeof(est); i++)
		assert_int_equal(ifd_pace_parse(est, i, &q), CNIE_ERR_ENCODING);
}

/* ---- card.c over the IFD handler of a PACE reader ---------------------- */

/* Sends one control line to the reader's socket; the reply must start with "ok". */
static void
ctl(const char *line)
{
	struct sockaddr_un sa;
	char reply[512];
	size_t len = 0;
	ssize_t k;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(dir) + sizeof("/control.sock") <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/control.sock", sizeof("/control.sock"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	assert_int_equal(write(fd, "\n", 1), 1);
	shutdown(fd, SHUT_WR);
	while (len < sizeof(reply) - 1 && (k = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
		len += (size_t)k;
	reply[len] = '\0';
	close(fd);
	if (strncmp(reply, "ok", 2) != 0)
		fail_msg("control '%s': %s", line, reply);
}

/* What pcsc.c would be for this reader: transmit and control through the IFD handler. */
typedef struct ifdt {
	bool reset_pending; /* a reset another client made: SCardBeginTransaction reports it */
	unsigned controls;
	unsigned begins;
} ifdt;

static int
ifdt_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	SCARD_IO_HEADER pci = { 1, 8 };
	DWORD len = (DWORD)*resp_len;

	(void)ctx;
	if (IFDHTransmitToICC(LUN, pci, (PUCHAR)(uintptr_t)cmd, (DWORD)n, resp, &len, NULL) !=
	    IFD_SUCCESS)
		return CNIE_ERR_COMM;
	*resp_len = len;
	return 0;
}

static int
ifdt_begin(void *ctx)
{
	ifdt *s = ctx;

	s->begins++;
	return s->reset_pending ? CNIE_ERR_CARD_RESET : 0;
}

static int
ifdt_reconnect(void *ctx)
{
	((ifdt *)ctx)->reset_pending = false;
	return 0;
}

static int
ifdt_control(void *ctx, uint32_t code, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t *out_len)
{
	DWORD got = 0;

	((ifdt *)ctx)->controls++;
	if (IFDHControl(LUN, code, (PUCHAR)(uintptr_t)in, (DWORD)in_len, out, (DWORD)*out_len,
	    &got) != IFD_SUCCESS)
		return CNIE_ERR_TRANSPORT;
	*out_len = got;
	return 0;
}

static const cnie_transport_ops ifdt_ops = {
	.transmit = ifdt_transmit,
	.begin = ifdt_begin,
	.reconnect = ifdt_reconnect,
	.control = ifdt_control,
};

static ifdt st;

static cnie_transport *
pace_transport(void)
{
	cnie_transport_caps caps;
	cnie_transport *t = NULL;
	UCHAR atr[MAX_ATR_SIZE];
	DWORD atr_len = sizeof(atr);

	memset(&st, 0, sizeof(st));
	assert_int_equal(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &atr_len), IFD_SUCCESS);
	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = 261;
	caps.max_resp = 258;
	caps.contactless = true;
	caps.pinpad_verify = true;
	caps.ioctl_verify = IFD_IOCTL_VERIFY_PIN_DIRECT;
	caps.reader_pace = true;
	caps.ioctl_pace = IFD_IOCTL_EXECUTE_PACE;
	assert_int_equal(cnie_transport_new(&ifdt_ops, &st, &caps, "pace", &t), 0);
	return t;
}

static int
setup_reader(void **state)
{
	char path[PATH_MAX + 32];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_reader_pace.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/reader.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"type\": \"pace\", \"card\": \"%s\", \"state\": \"%s/ec.json\"}\n", card, dir);
	fclose(f);
	return IFDHCreateChannelByName(LUN, dir) == IFD_SUCCESS ? 0 : -1;
}

static int
teardown_reader(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	IFDHCloseChannel(LUN);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_card_over_reader_pace(void **state)
{
	cnie_card *c = NULL;
	const char *serial = NULL;
	int tries = 0;
	bool verified = true;

	(void)state;
	/* The keypad: the CAN, no CAN from the computer. */
	ctl("keys 123456");
	assert_int_equal(cnie_card_open_ex(pace_transport(), NULL, &c), 0);
	assert_int_equal(st.controls, 1);
	assert_int_equal(cnie_card_serial(c, &serial), 0);
	assert_non_null(serial);
	assert_int_equal(cnie_card_pin_status(c, &tries, NULL, &verified), 0);
	assert_int_equal(tries, 3);
	assert_false(verified);
	/* The PIN pad inside the reader's secure messaging. */
	ctl("keys 1234");
	assert_int_equal(cnie_card_pin_verify_pinpad(c, &tries), 0);
	assert_int_equal(cnie_card_pin_status(c, NULL, NULL, &verified), 0);
	assert_true(verified);
	/* A wrong PIN on the keypad: a clean PIN error, through the channel. */
	ctl("keys 9999");
	assert_int_equal(cnie_card_pin_verify_pinpad(c, &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	ctl("keys 1234");
	assert_int_equal(cnie_card_pin_verify_pinpad(c, &tries), 0);

	/* Another client reset the card: the reader's channel ended with it. */
	assert_int_equal(IFDHPowerICC(LUN, IFD_RESET, (UCHAR[MAX_ATR_SIZE]){ 0 },
	    &(DWORD){ MAX_ATR_SIZE }), IFD_SUCCESS);
	st.reset_pending = true;
	assert_int_equal(cnie_card_pin_status(c, NULL, NULL, NULL), CNIE_ERR_CARD_RESET);
	/* resume: the reader asks for the CAN on its keypad again; can unused. */
	ctl("keys 123456");
	assert_int_equal(cnie_card_resume(c, NULL), 0);
	assert_int_equal(st.controls, 5);
	assert_int_equal(cnie_card_pin_status(c, &tries, NULL, &verified), 0);
	assert_false(verified);
	assert_int_equal(tries, 3);

	/* resume with a cancel on the keypad: a clean error, asked once. */
	assert_int_equal(IFDHPowerICC(LUN, IFD_RESET, (UCHAR[MAX_ATR_SIZE]){ 0 },
	    &(DWORD){ MAX_ATR_SIZE }), IFD_SUCCESS);
	st.reset_pending = true;
	assert_int_equal(cnie_card_pin_status(c, NULL, NULL, NULL), CNIE_ERR_CARD_RESET);
	ctl("keys cancel");
	assert_int_equal(cnie_card_resume(c, "123456"), CNIE_ERR_PINPAD_CANCELLED);
	assert_int_equal(st.controls, 6);
	ctl("keys 123456");
	assert_int_equal(cnie_card_resume(c, NULL), 0);
	assert_int_equal(cnie_card_serial(c, &serial), 0);
	cnie_card_free(&c);
}

static void
test_card_keypad_errors(void **state)
{
	cnie_card *c = NULL;

	(void)state;
	ctl("keys 654321");
	assert_int_equal(cnie_card_open_ex(pace_transport(), NULL, &c), CNIE_ERR_PACE);
	assert_null(c);
	assert_int_equal(st.controls, 1); /* never asked again by the library */
	ctl("keys cancel");
	assert_int_equal(cnie_card_open_ex(pace_transport(), NULL, &c), CNIE_ERR_PINPAD_CANCELLED);
	ctl("keys timeout");
	assert_int_equal(cnie_card_open_ex(pace_transport(), NULL, &c), CNIE_ERR_PINPAD_TIMEOUT);
	/* A CAN given by the caller is not sent: the keypad still decides. */
	ctl("keys 654321");
	assert_int_equal(cnie_card_open_ex(pace_transport(), "123456", &c), CNIE_ERR_PACE);
	ctl("keys 123456");
	assert_int_equal(cnie_card_open_ex(pace_transport(), "654321", &c), 0);
	cnie_card_free(&c);
}

/* ---- card.c against hostile reader answers ----------------------------- */

static const uint8_t *script_out;
static size_t script_len;
static unsigned script_controls;
static uint16_t script_sw = 0x9000;

static int
script_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	(void)ctx;
	(void)cmd;
	(void)n;
	resp[0] = (uint8_t)(script_sw >> 8);
	resp[1] = (uint8_t)script_sw;
	*resp_len = 2;
	return 0;
}

static int
script_control(void *ctx, uint32_t code, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t *out_len)
{
	(void)ctx;
	(void)in;
	(void)in_len;
	script_controls++;
	assert_int_equal(code, 0x42330020u);
	if (script_len > *out_len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	if (script_len > 0)
		memcpy(out, script_out, script_len);
	*out_len = script_len;
	return 0;
}

static const cnie_transport_ops script_ops = {
	.transmit = script_transmit,
	.control = script_control,
};

static int
open_scripted(const uint8_t *out, size_t n, uint16_t sw)
{
	cnie_transport_caps caps;
	cnie_transport *t = NULL;
	cnie_card *c = NULL;
	int r;

	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = 261;
	caps.max_resp = 258;
	caps.contactless = true;
	caps.reader_pace = true;
	caps.ioctl_pace = 0x42330020u;
	assert_int_equal(cnie_transport_new(&script_ops, NULL, &caps, "script", &t), 0);
	script_out = out;
	script_len = n;
	script_sw = sw;
	script_controls = 0;
	r = cnie_card_open_ex(t, NULL, &c);
	assert_int_equal(script_controls, 1);
	if (r == 0)
		assert_non_null(c);
	else
		assert_null(c);
	cnie_card_free(&c);
	return r;
}

static void
test_card_hostile_reader(void **state)
{
	static const uint8_t good[] = { 0, 0, 0, 0, 0x06, 0x00, 0x90, 0x00, 0x02, 0x00, 0x31, 0x00 };
	static const uint8_t short4[] = { 0, 0, 0, 0 };
	static const uint8_t len_lie[] = { 0, 0, 0, 0, 0x07, 0x00, 0x90, 0x00, 0x02, 0x00, 0x31,
		0x00 };
	static const uint8_t ca_lie[] = { 0, 0, 0, 0, 0x06, 0x00, 0x90, 0x00, 0x09, 0x00, 0x31,
		0x00 };
	static const uint8_t ok_no_data[] = { 0, 0, 0, 0, 0x00, 0x00 };
	static const uint8_t ok_mse_bad[] = { 0, 0, 0, 0, 0x04, 0x00, 0x6A, 0x80, 0x00, 0x00 };
	static const uint8_t wrong_can[] = { 0xC2, 0x63, 0x06, 0xF0, 0x04, 0x00, 0x90, 0x00, 0x00,
		0x00 };
	static const uint8_t unknown[] = { 0x78, 0x56, 0x34, 0x12, 0x00, 0x00 };

	(void)state;
	assert_int_equal(open_scripted(good, sizeof(good), 0x9000), 0);
	/* The reader's secure messaging failed (6988 from the reader): session ended. */
	assert_int_equal(open_scripted(good, sizeof(good), 0x6988), CNIE_ERR_CARD_RESET);
	assert_int_equal(open_scripted(short4, sizeof(short4), 0x9000), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(NULL, 0, 0x9000), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(len_lie, sizeof(len_lie), 0x9000), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(ca_lie, sizeof(ca_lie), 0x9000), CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(ok_no_data, sizeof(ok_no_data), 0x9000),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(ok_mse_bad, sizeof(ok_mse_bad), 0x9000),
	    CNIE_ERR_BAD_RESPONSE);
	assert_int_equal(open_scripted(wrong_can, sizeof(wrong_can), 0x9000), CNIE_ERR_PACE);
	assert_int_equal(open_scripted(unknown, sizeof(unknown), 0x9000), CNIE_ERR_TRANSPORT);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_establish_output),
		cmocka_unit_test(test_result_errors),
		cmocka_unit_test(test_driver_input),
		cmocka_unit_test(test_card_hostile_reader),
	};
	const struct CMUnitTest reader[] = {
		cmocka_unit_test(test_card_over_reader_pace),
		cmocka_unit_test(test_card_keypad_errors),
	};
	const char *b = getenv("CNIE_BUILD_DIR");
	char path[PATH_MAX + 32];
	struct stat sb;
	int r;

	setenv("CNIE_NO_CACHE", "1", 1);
	if ((r = cmocka_run_group_tests(pure, NULL, NULL)) != 0)
		return r;
	if (b == NULL || snprintf(card, sizeof(card), "%s/cards/ec", b) >= (int)sizeof(card))
		return tu_skip("test_reader_pace: CNIE_BUILD_DIR unset or too long");
	snprintf(path, sizeof(path), "%s/card.json", card);
	if (stat(path, &sb) != 0)
		return tu_skip("test_reader_pace: %s not built", path);
	return cmocka_run_group_tests(reader, setup_reader, teardown_reader);
}
