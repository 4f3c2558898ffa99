/*
 * libFuzzer harness for the virtual PIN pad's PC/SC part 10 structures
 * (drivers/ifd/ifd_pinpad.c), the bytes any local PC/SC client can send
 * with SCardControl.
 *
 * Input: byte 0 selects VERIFY (b0 = 0) or MODIFY (b0 = 1); byte 1 and
 * byte 2 give the lengths (0..16) of the current and new PINs; the rest is
 * the structure.  Properties checked (abort() on violation):
 *  - a parse error leaves nothing to build; a successful parse borrows a
 *    template that lies inside the input;
 *  - a built command fits the output buffer, keeps the template's header,
 *    has Lc equal to the data length, and never exceeds a short APDU;
 *  - a PIN of a length outside min..max is always CNIE_ERR_PIN_FORMAT.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>

#include "ifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char digits[] = "0123456789012345";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifd_pin_req req;
	uint8_t out[300];
	size_t old_len, new_len, len = 0;
	bool modify;
	int r;

	if (size < 3)
		return 0;
	modify = (data[0] & 1) != 0;
	old_len = data[1] % 17;
	new_len = data[2] % 17;
	data += 3;
	size -= 3;
	if (ifd_pin_parse(data, size, modify, &req) != 0)
		return 0;
	if (req.apdu < data || req.apdu_len > size || req.apdu + req.apdu_len > data + size)
		abort();
	r = ifd_pin_build(&req, digits, old_len, digits, new_len, out, sizeof(out), &len);
	if (new_len < req.min || new_len > req.max || new_len == 0) {
		if (r != CNIE_ERR_PIN_FORMAT)
			abort();
		return 0;
	}
	if (r != 0) {
		if (len != 0)
			abort();
		return 0;
	}
	if (len < 6 || len > 4 + 1 + 255 + 1 || memcmp(out, req.apdu, 4) != 0)
		abort();
	if ((size_t)out[4] + 5 != len && (size_t)out[4] + 6 != len)
		abort();
	return 0;
}
