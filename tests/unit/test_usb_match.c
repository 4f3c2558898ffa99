/*
 * cnie-tool's USB/PC-SC matching (tools/cnie-tool/usb_match.c) on
 * synthetic descriptors, reader names and Info.plist excerpts, hostile
 * ones included: no hardware, no libusb, no pcscd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/error.h>

#include "usb_match.h"

/* ---- descriptors ------------------------------------------------------ */

static cnie_usb_dev
dev(uint16_t vid, uint16_t pid, const char *mf, const char *prod)
{
	cnie_usb_dev d;

	memset(&d, 0, sizeof(d));
	d.vid = vid;
	d.pid = pid;
	snprintf(d.manufacturer, sizeof(d.manufacturer), "%s", mf);
	snprintf(d.product, sizeof(d.product), "%s", prod);
	return d;
}

static void
test_ccid_by_interface_class(void **state)
{
	cnie_usb_dev d = dev(0x072f, 0x90cc, "", "");

	(void)state;
	d.iface_class[0] = 0x03; /* HID */
	d.n_ifaces = 1;
	assert_false(cnie_usb_is_ccid(&d));
	d.iface_class[1] = 0x0B;
	d.n_ifaces = 2;
	assert_true(cnie_usb_is_ccid(&d));
	d.n_ifaces = 0;
	d.device_class = 0x0B; /* class at device level */
	assert_true(cnie_usb_is_ccid(&d));
	assert_false(cnie_usb_is_ccid(NULL));
}

/* A configuration: 9-byte header, then the given descriptors. */
static size_t
config(uint8_t *out, const uint8_t *body, size_t n)
{
	out[0] = 9;
	out[1] = 0x02;
	out[2] = (uint8_t)((9 + n) & 0xFF);
	out[3] = (uint8_t)((9 + n) >> 8);
	out[4] = 1;
	out[5] = 1;
	out[6] = 0;
	out[7] = 0x80;
	out[8] = 50;
	memcpy(out + 9, body, n);
	return 9 + n;
}

static void
test_config_ccid_reader(void **state)
{
	/* Interface 0 class 0B, its 54-byte CCID class descriptor (0x21), 3 endpoints. */
	uint8_t body[9 + 54 + 3 * 7], buf[256];
	cnie_usb_dev d;
	size_t n, o = 0;

	(void)state;
	memset(body, 0, sizeof(body));
	memcpy(body, (const uint8_t[]){ 9, 0x04, 0, 0, 3, 0x0B, 0, 0, 0 }, 9);
	o = 9;
	body[o] = 54;
	body[o + 1] = 0x21;
	o += 54;
	for (int e = 0; e < 3; e++, o += 7) {
		body[o] = 7;
		body[o + 1] = 0x05;
	}
	n = config(buf, body, sizeof(body));
	memset(&d, 0, sizeof(d));
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), 0);
	assert_int_equal(d.n_ifaces, 1);
	assert_int_equal(d.iface_class[0], 0x0B);
	assert_true(cnie_usb_is_ccid(&d));
}

static void
test_config_alt_settings_counted_once(void **state)
{
	uint8_t body[27], buf[64];
	cnie_usb_dev d;
	size_t n;

	(void)state;
	memcpy(body, (const uint8_t[]){ 9, 0x04, 0, 0, 0, 0x03, 0, 0, 0 }, 9);
	memcpy(body + 9, (const uint8_t[]){ 9, 0x04, 0, 1, 0, 0x0B, 0, 0, 0 }, 9); /* alt 1 */
	memcpy(body + 18, (const uint8_t[]){ 9, 0x04, 1, 0, 0, 0x08, 0, 0, 0 }, 9);
	n = config(buf, body, sizeof(body));
	memset(&d, 0, sizeof(d));
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), 0);
	assert_int_equal(d.n_ifaces, 2);
	assert_int_equal(d.iface_class[0], 0x03);
	assert_int_equal(d.iface_class[1], 0x08);
	assert_false(cnie_usb_is_ccid(&d));
}

static void
test_config_hostile(void **state)
{
	uint8_t buf[600] = { 0 }, body[9];
	cnie_usb_dev d;
	size_t n;

	(void)state;
	memset(&d, 0, sizeof(d));
	/* Shorter than a configuration descriptor. */
	assert_int_equal(cnie_usb_parse_config(buf, 0, &d), CNIE_ERR_TRUNCATED);
	memcpy(body, (const uint8_t[]){ 9, 0x04, 0, 0, 0, 0x0B, 0, 0, 0 }, 9);
	n = config(buf, body, 9);
	/* wTotalLength beyond the buffer. */
	assert_int_equal(cnie_usb_parse_config(buf, n - 1, &d), CNIE_ERR_TRUNCATED);
	/* Not a configuration descriptor. */
	buf[1] = 0x01;
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), CNIE_ERR_ENCODING);
	buf[1] = 0x02;
	/* wTotalLength smaller than the header. */
	buf[2] = 5;
	buf[3] = 0;
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), CNIE_ERR_ENCODING);
	/* A zero bLength inside (would loop forever). */
	body[0] = 0;
	n = config(buf, body, 9);
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), CNIE_ERR_ENCODING);
	/* A descriptor running past wTotalLength. */
	body[0] = 200;
	n = config(buf, body, 9);
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), CNIE_ERR_TRUNCATED);
	/* An interface descriptor of 5 bytes. */
	memcpy(body, (const uint8_t[]){ 5, 0x04, 0, 0, 0 }, 5);
	n = config(buf, body, 5);
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), CNIE_ERR_ENCODING);
	/* One dangling byte after the last descriptor. */
	memcpy(body, (const uint8_t[]){ 9, 0x04, 0, 0, 0, 0x0B, 0, 0, 0 }, 9);
	n = config(buf, body, 9);
	buf[2] = (uint8_t)(n + 1);
	buf[n] = 9;
	assert_int_equal(cnie_usb_parse_config(buf, n + 1, &d), CNIE_ERR_TRUNCATED);
	assert_int_equal(cnie_usb_parse_config(NULL, 9, &d), CNIE_ERR_INVALID_ARG);
}

static void
test_config_many_interfaces_capped(void **state)
{
	uint8_t body[64 * 9], buf[sizeof(body) + 9];
	cnie_usb_dev d;
	size_t n;

	(void)state;
	for (int i = 0; i < 64; i++)
		memcpy(body + 9 * i, (const uint8_t[]){ 9, 0x04, (uint8_t)i, 0, 0, 0xFF, 0, 0, 0 },
		    9);
	body[9 * 63 + 5] = 0x0B; /* beyond the cap: not seen */
	n = config(buf, body, sizeof(body));
	memset(&d, 0, sizeof(d));
	assert_int_equal(cnie_usb_parse_config(buf, n, &d), 0);
	assert_int_equal(d.n_ifaces, CNIE_USB_MAX_IFACES);
	assert_false(cnie_usb_is_ccid(&d));
}

/* ---- Info.plist -------------------------------------------------------- */

static const char plist[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
    "\t<key>CFBundleExecutable</key>\n\t<string>libccid.so</string>\n"
    "\t<key>ifdVendorID</key>\n\t<array>\n"
    "\t\t<string>0x072F</string>\n"
    "\t\t<!-- a comment between elements -->\n"
    "\t\t<string>0x08E6</string>\n"
    "\t\t<string>0x058f</string>\n"
    "\t</array>\n"
    "\t<key>ifdProductID</key>\n\t<array>\n"
    "\t\t<string>0x90CC</string>\n\t\t<string>0x3437</string>\n\t\t<string>0x9540</string>\n"
    "\t</array>\n"
    "\t<key>ifdFriendlyName</key>\n\t<array>\n"
    "\t\t<string>ACS ACR 38U-CCID</string>\n\t\t<string>Gemalto PC Twin Reader</string>\n"
    "\t\t<string>Alcor Micro AU9540 &amp; friends</string>\n"
    "\t</array>\n</dict>\n</plist>\n";

static void
test_plist_parse(void **state)
{
	cnie_usb_ccid_list l;
	const cnie_usb_ccid_entry *e;

	(void)state;
	assert_int_equal(cnie_usb_ccid_list_parse(plist, strlen(plist), &l), 0);
	assert_int_equal(l.n, 3);
	e = cnie_usb_ccid_find(&l, 0x08e6, 0x3437);
	assert_non_null(e);
	assert_string_equal(e->name, "Gemalto PC Twin Reader");
	e = cnie_usb_ccid_find(&l, 0x058f, 0x9540);
	assert_non_null(e);
	assert_string_equal(e->name, "Alcor Micro AU9540 & friends");
	/* Vendor of one entry, product of another: not listed. */
	assert_null(cnie_usb_ccid_find(&l, 0x072f, 0x3437));
	assert_null(cnie_usb_ccid_find(NULL, 0x072f, 0x90cc));
	cnie_usb_ccid_list_free(&l);
	assert_null(l.e);
}

static int
parse_str(const char *vid, const char *pid, const char *names)
{
	char text[4096];
	cnie_usb_ccid_list l;
	int r;

	snprintf(text, sizeof(text),
	    "<key>ifdVendorID</key><array>%s</array><key>ifdProductID</key><array>%s</array>%s",
	    vid, pid, names);
	r = cnie_usb_ccid_list_parse(text, strlen(text), &l);
	if (r == 0)
		cnie_usb_ccid_list_free(&l);
	else
		assert_null(l.e);
	return r;
}

static void
test_plist_hostile(void **state)
{
	cnie_usb_ccid_list l;
	char *big;
	size_t n, cap;

	(void)state;
	/* Names absent: fine.  Empty arrays: fine. */
	assert_int_equal(parse_str("<string>0x1</string>", "<string>0x2</string>", ""), 0);
	assert_int_equal(parse_str("", "", ""), 0);
	/* Arrays of different lengths. */
	assert_int_equal(parse_str("<string>0x1</string><string>0x3</string>",
	    "<string>0x2</string>", ""), CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<string>0x1</string>", "<string>0x2</string>",
	    "<key>ifdFriendlyName</key><array></array>"), CNIE_ERR_ENCODING);
	/* Malformed IDs. */
	assert_int_equal(parse_str("<string>0xZZ</string>", "<string>0x2</string>", ""),
	    CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<string>0x12345</string>", "<string>0x2</string>", ""),
	    CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<string>1234</string>", "<string>0x2</string>", ""),
	    CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<string>0x</string>", "<string>0x2</string>", ""),
	    CNIE_ERR_ENCODING);
	/* Unterminated element, unterminated comment, unexpected element. */
	assert_int_equal(parse_str("<string>0x1", "<string>0x2</string>", ""), CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<!-- <string>0x1</string>", "", ""), CNIE_ERR_ENCODING);
	assert_int_equal(parse_str("<integer>1</integer>", "", ""), CNIE_ERR_ENCODING);
	/* A key with no array after it. */
	assert_int_equal(cnie_usb_ccid_list_parse("<key>ifdVendorID</key>", 22, &l),
	    CNIE_ERR_ENCODING);
	/* No product array at all. */
	assert_int_equal(cnie_usb_ccid_list_parse("<key>ifdVendorID</key><array></array>", 37, &l),
	    CNIE_ERR_ENCODING);
	/* The text ends in the middle of the key (length given, no NUL relied on). */
	assert_int_equal(cnie_usb_ccid_list_parse(plist, 200, &l), CNIE_ERR_ENCODING);
	/* Too large a file. */
	assert_int_equal(cnie_usb_ccid_list_parse(plist, CNIE_USB_PLIST_MAX + 1, &l),
	    CNIE_ERR_TOO_LONG);
	/* Too many entries. */
	cap = (CNIE_USB_PLIST_MAX_ENTRIES + 1) * 24 + 64;
	big = malloc(cap);
	assert_non_null(big);
	n = (size_t)snprintf(big, cap, "<key>ifdVendorID</key><array>");
	for (int i = 0; i <= CNIE_USB_PLIST_MAX_ENTRIES; i++)
		n += (size_t)snprintf(big + n, cap - n, "<string>0x1</string>");
	n += (size_t)snprintf(big + n, cap - n, "</array>");
	assert_int_equal(cnie_usb_ccid_list_parse(big, n, &l), CNIE_ERR_TOO_LONG);
	free(big);
	/* A very long name is truncated, control characters replaced. */
	{
		char names[600], text[1200];

		memset(names, 'A', 400);
		names[400] = '\0';
		names[3] = '\t';
		snprintf(text, sizeof(text), "<key>ifdVendorID</key><array><string>0x1</string>"
		    "</array><key>ifdProductID</key><array><string>0x2</string></array>"
		    "<key>ifdFriendlyName</key><array><string>%s</string></array>", names);
		assert_int_equal(cnie_usb_ccid_list_parse(text, strlen(text), &l), 0);
		assert_int_equal(strlen(l.e[0].name), CNIE_USB_MAX_STR - 1);
		assert_int_equal(l.e[0].name[3], ' ');
		cnie_usb_ccid_list_free(&l);
	}
	assert_int_equal(cnie_usb_ccid_list_parse(NULL, 0, &l), CNIE_ERR_INVALID_ARG);
}

static void
test_match_by_usb_strings(void **state)
{
	const char *readers[] = { "CNIE Virtual Contact Reader 00 00",
		"Gemalto PC Twin Reader 01 00", "Alcor Micro USB Smart Card Reader 02 00" };
	cnie_usb_dev g = dev(0x08e6, 0x3437, "Gemalto", "PC Twin Reader");
	cnie_usb_dev a = dev(0x058f, 0x9540, "Alcor Micro", "Alcor Micro USB Smart Card Reader");
	cnie_usb_dev x = dev(0x1234, 0x5678, "Nobody", "Unknown Reader");

	(void)state;
	assert_int_equal(cnie_usb_match_reader(&g, NULL, readers, 3, NULL), 1);
	/* iProduct already starts with iManufacturer. */
	assert_int_equal(cnie_usb_match_reader(&a, NULL, readers, 3, NULL), 2);
	assert_int_equal(cnie_usb_match_reader(&x, NULL, readers, 3, NULL), -1);
	assert_int_equal(cnie_usb_match_reader(&x, NULL, readers, 0, NULL), -1);
	assert_int_equal(cnie_usb_match_reader(NULL, NULL, readers, 3, NULL), -1);
}

static void
test_match_interface_and_case(void **state)
{
	const char *readers[] = { "Yubico YubiKey OTP+FIDO+CCID [CCID Interface] 00 00",
		"GEMALTO   pc twin reader 01 00" };
	cnie_usb_dev y = dev(0x1050, 0x0407, "Yubico", "YubiKey OTP+FIDO+CCID");
	cnie_usb_dev g = dev(0x08e6, 0x3437, "Gemalto", "PC Twin Reader");

	(void)state;
	assert_int_equal(cnie_usb_match_reader(&y, NULL, readers, 2, NULL), 0);
	assert_int_equal(cnie_usb_match_reader(&g, NULL, readers, 2, NULL), 1);
}

static void
test_match_friendly_name_without_strings(void **state)
{
	const char *readers[] = { "ACS ACR 38U-CCID 00 00" };
	cnie_usb_dev d = dev(0x072f, 0x90cc, "", "");

	(void)state;
	assert_int_equal(cnie_usb_match_reader(&d, "ACS ACR 38U-CCID", readers, 1, NULL), 0);
	assert_int_equal(cnie_usb_match_reader(&d, NULL, readers, 1, NULL), -1);
	assert_int_equal(cnie_usb_match_reader(&d, "", readers, 1, NULL), -1);
}

static void
test_match_no_prefix_false_positive(void **state)
{
	/* "ACS ACR38" must not take "ACS ACR38U ...": only a whole name matches. */
	const char *readers[] = { "ACS ACR38U-CCID 00 00" };
	cnie_usb_dev d = dev(0x072f, 0x9000, "ACS", "ACR38");

	(void)state;
	assert_int_equal(cnie_usb_match_reader(&d, NULL, readers, 1, NULL), -1);
}

static void
test_match_two_identical_readers(void **state)
{
	const char *readers[] = { "Gemalto PC Twin Reader 00 00", "Gemalto PC Twin Reader 01 00" };
	cnie_usb_dev g = dev(0x08e6, 0x3437, "Gemalto", "PC Twin Reader");
	bool used[2] = { false, false };
	int first, second;

	(void)state;
	first = cnie_usb_match_reader(&g, NULL, readers, 2, used);
	assert_int_equal(first, 0);
	used[first] = true;
	second = cnie_usb_match_reader(&g, NULL, readers, 2, used);
	assert_int_equal(second, 1);
	used[second] = true;
	/* A third identical device: pcscd shows no reader for it. */
	assert_int_equal(cnie_usb_match_reader(&g, NULL, readers, 2, used), -1);
}

static void
test_match_hostile_names(void **state)
{
	char longname[1024];
	const char *readers[] = { NULL, longname, "\x01\x02 00 00", "" };
	cnie_usb_dev d;

	(void)state;
	memset(longname, 'R', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(&d, 0, sizeof(d));
	memset(d.manufacturer, 'R', sizeof(d.manufacturer) - 1);
	memset(d.product, 'R', sizeof(d.product) - 1);
	/* Long names are cut at the buffers; nothing overflows, nothing matches wrongly. */
	assert_int_equal(cnie_usb_match_reader(&d, NULL, readers, 4, NULL), -1);
	d = dev(1, 2, "\x01", "\x02");
	assert_int_equal(cnie_usb_match_reader(&d, NULL, readers, 4, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ccid_by_interface_class),
		cmocka_unit_test(test_config_ccid_reader),
		cmocka_unit_test(test_config_alt_settings_counted_once),
		cmocka_unit_test(test_config_hostile),
		cmocka_unit_test(test_config_many_interfaces_capped),
		cmocka_unit_test(test_plist_parse),
		cmocka_unit_test(test_plist_hostile),
		cmocka_unit_test(test_match_by_usb_strings),
		cmocka_unit_test(test_match_interface_and_case),
		cmocka_unit_test(test_match_friendly_name_without_strings),
		cmocka_unit_test(test_match_no_prefix_false_positive),
		cmocka_unit_test(test_match_two_identical_readers),
		cmocka_unit_test(test_match_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
