/*
 * libFuzzer harness for the readers of a PACE reader's answers (PC/SC part
 * 10 amendment 1 EXECUTE_PACE, src/libcnie/reader_pace.c): the input is one
 * whole SCardControl answer.  Properties checked (abort() on violation):
 * cnie_rpace_split keeps the data inside the input and exactly as long as
 * wLengthOutputData says; every field cnie_rpace_parse_establish returns
 * lies inside that data, in order, and their lengths add up to it;
 * cnie_rpace_parse_caps reads one byte of the data; the dwResult mapping
 * is total (an error or 0, never a crash) and 0 only for dwResult 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cnie/error.h>
#include <cnie/reader_pace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
	if (n == 0)
		return;
	if (p == NULL || p < lo || p + n > hi)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *d = NULL, *end;
	size_t n = 0, sum;
	uint32_t result = 0;
	cnie_rpace_establish e;
	uint8_t caps;
	int r;

	if (cnie_rpace_split(data, size, &result, &d, &n) != 0)
		return 0;
	if (size < 6 || n != size - 6 || (n > 0 && d != data + 6))
		abort();
	r = cnie_rpace_result_error(result);
	if ((r == 0) != (result == 0) || r > 0 || cnie_rpace_result_name(result) == NULL)
		abort();
	if (cnie_rpace_parse_caps(d, n, &caps) == 0 && caps != d[n - 1])
		abort();
	if (cnie_rpace_parse_establish(d, n, &e) != 0)
		return 0;
	end = d + n;
	inside(e.card_access, e.card_access_len, d + 4, end);
	inside(e.car_curr, e.car_curr_len, d + 4, end);
	inside(e.car_prev, e.car_prev_len, d + 4, end);
	inside(e.id_icc, e.id_icc_len, d + 4, end);
	sum = 4 + e.card_access_len;
	if (e.car_curr != NULL || e.car_prev != NULL || e.id_icc != NULL || sum < n)
		sum += 1 + e.car_curr_len + 1 + e.car_prev_len + 2 + e.id_icc_len;
	if (sum != n)
		abort();
	return 0;
}
