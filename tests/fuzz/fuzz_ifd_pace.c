/*
 * libFuzzer harness for the virtual PACE reader's parser of EXECUTE_PACE
 * input (PC/SC part 10 amendment 1; ifd_pace_parse in
 * drivers/ifd/ifd_pace.c): the bytes any PC/SC client may send with
 * SCardControl.  Properties checked (abort() on violation): a parsed
 * EstablishPACEChannel has CHAT, password and certificate description
 * inside the input, in that order, and its fields add up to the whole
 * input; any other function carries no data.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cnie/reader_pace.h>

#include "ifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
	if (n > 0 && (p == NULL || p < lo || p + n > hi))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifd_pace_req q;

	if (ifd_pace_parse(data, size, &q) != 0)
		return 0;
	if (q.function != CNIE_RPACE_ESTABLISH) {
		if (size != 3)
			abort();
		return 0;
	}
	inside(q.chat, q.chat_len, data, data + size);
	inside(q.pin, q.pin_len, data, data + size);
	inside(q.cert_desc, q.cert_desc_len, data, data + size);
	if (3 + 1 + 1 + q.chat_len + 1 + q.pin_len + 2 + q.cert_desc_len != size)
		abort();
	if (q.pin_len > 0 && q.chat_len > 0 && q.pin < q.chat + q.chat_len)
		abort();
	return 0;
}
