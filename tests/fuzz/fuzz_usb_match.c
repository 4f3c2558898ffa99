/*
 * libFuzzer harness for cnie-tool's USB matching (tools/cnie-tool/
 * usb_match.c): the first byte picks the surface, the rest is the input.
 *   0: libccid Info.plist text -> cnie_usb_ccid_list_parse; on success
 *      every entry's name is NUL-terminated within its field;
 *   1: a raw configuration descriptor -> cnie_usb_parse_config; never
 *      more interfaces than the cap;
 *   2: reader names (NUL-separated) -> cnie_pcsc_reader_base and
 *      cnie_usb_match_reader with a fixed device; the index returned is
 *      in range.
 * abort() on any violated property.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>

#include "usb_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		cnie_usb_ccid_list l;

		if (cnie_usb_ccid_list_parse((const char *)data + 1, size - 1, &l) == 0) {
			for (size_t i = 0; i < l.n; i++)
				if (strnlen(l.e[i].name, sizeof(l.e[i].name)) == sizeof(l.e[i].name))
					abort();
			if (l.n > 0 && cnie_usb_ccid_find(&l, l.e[0].vid, l.e[0].pid) == NULL)
				abort();
			cnie_usb_ccid_list_free(&l);
		} else if (l.e != NULL || l.n != 0) {
			abort();
		}
		break;
	}
	case 1: {
		cnie_usb_dev d;

		memset(&d, 0, sizeof(d));
		if (cnie_usb_parse_config(data + 1, size - 1, &d) == 0 &&
		    d.n_ifaces > CNIE_USB_MAX_IFACES)
			abort();
		break;
	}
	default: {
		char *copy = malloc(size);
		const char *names[MAX_NAMES];
		size_t n = 0, off = 1;
		cnie_usb_dev d;
		char base[64];
		int m;

		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		copy[size - 1] = '\0';
		while (off < size && n < MAX_NAMES) {
			names[n++] = copy + off;
			if (cnie_pcsc_reader_base(copy + off, base, sizeof(base)) >= sizeof(base) ||
			    strnlen(base, sizeof(base)) == sizeof(base))
				abort();
			off += strlen(copy + off) + 1;
		}
		memset(&d, 0, sizeof(d));
		memcpy(d.manufacturer, "Gemalto", 8);
		memcpy(d.product, "PC Twin Reader", 15);
		m = cnie_usb_match_reader(&d, "ACS ACR 38U-CCID", names, n, NULL);
		if (m < -1 || m >= (int)n)
			abort();
		free(copy);
		break;
	}
	}
	return 0;
}
