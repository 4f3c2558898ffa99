/*
 * libFuzzer harness for the PACE terminal's parsing of the chip's answers
 * (cnie_pace_terminal_next, src/libcnie/pace.c), for each mapping it runs:
 * byte 0 picks EF.CardAccess (GM, IM or CAM over ECDH; GM or IM over DH);
 * the rest is a sequence of answers, each a 2-byte length, the data and a
 * 2-byte status word, fed to the step machine in turn.  Properties (abort()
 * on violation): every error ends the run (a further call gives
 * CNIE_ERR_STATE); the run never completes, since that needs the chip's
 * token under keys only the password gives; commands stay within short
 * APDU data.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/apdu.h>
#include <cnie/error.h>
#include <cnie/pace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SET { PACEInfo { id-PACE-<map>-AES-128, 2, parameterId } } */
static const uint8_t card_access[5][22] = {
	{ 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04,
	    0x02, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x0D },
	{ 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04,
	    0x04, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x0D },
	{ 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04,
	    0x06, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x0D },
	{ 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04,
	    0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x00 },
	{ 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04,
	    0x03, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x00 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cnie_pace *p = NULL;
	cnie_apdu cmd;
	const uint8_t *resp = NULL;
	size_t n = 0, len;
	uint16_t sw = 0;
	bool done = false;
	int r, step;

	if (size < 1)
		return 0;
	if (cnie_pace_terminal_new(card_access[data[0] % 5], sizeof(card_access[0]), CNIE_PACE_CAN,
		"123456", 6, &p) != 0)
		return 0;
	data++;
	size--;
	for (step = 0; step < 8; step++) {
		r = cnie_pace_terminal_next(p, resp, n, sw, &cmd, &done);
		if (r != 0) {
			if (cnie_pace_terminal_next(p, NULL, 0, 0x9000, &cmd, &done) != CNIE_ERR_STATE)
				abort();
			break;
		}
		if (done || cmd.nc > 65535)
			abort();
		if (size < 2)
			break;
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size || size - len < 2)
			break;
		resp = data;
		n = len;
		sw = (uint16_t)(data[len] << 8 | data[len + 1]);
		data += len + 2;
		size -= len + 2;
	}
	cnie_pace_terminal_free(&p);
	return 0;
}
