/*
 * libFuzzer harness for the MRZ parser (src/libcnie/mrz.c).  Properties checked on
 * every input (abort() on violation):
 *  - success leaves every string NUL-terminated within its field and made
 *    of [A-Z0-9< ]; check digits are digits; the access info round-trips
 *    its three check digits;
 *  - failure names a field and leaves the struct cleared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>
#include <cnie/mrz.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap), i;

	if (n == cap)
		abort();
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '<' || s[i] == ' '))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cnie_mrz zero;
	cnie_mrz m;
	cnie_mrz_field bad;
	char info[64];
	int r;

	r = cnie_mrz_parse((const char *)data, size, &m, &bad);
	if (r != 0) {
		if (bad == CNIE_MRZ_FIELD_NONE || memcmp(&m, &zero, sizeof(m)) != 0)
			abort();
		return 0;
	}
	if (bad != CNIE_MRZ_FIELD_NONE)
		abort();
	check_str(m.document_code, sizeof(m.document_code));
	check_str(m.issuing_state, sizeof(m.issuing_state));
	check_str(m.document_number, sizeof(m.document_number));
	check_str(m.optional_data, sizeof(m.optional_data));
	check_str(m.optional_data2, sizeof(m.optional_data2));
	check_str(m.birth_date, sizeof(m.birth_date));
	check_str(m.expiry_date, sizeof(m.expiry_date));
	check_str(m.nationality, sizeof(m.nationality));
	check_str(m.primary_identifier, sizeof(m.primary_identifier));
	check_str(m.secondary_identifier, sizeof(m.secondary_identifier));
	if (cnie_mrz_access_info(&m, info, sizeof(info)) != 0)
		abort();
	r = cnie_mrz_check_digit(m.birth_date, 6);
	if (r < 0 || m.birth_date_check != '0' + r)
		abort();
	r = cnie_mrz_check_digit(m.expiry_date, 6);
	if (r < 0 || m.expiry_date_check != '0' + r)
		abort();
	cnie_mrz_clear(&m);
	return 0;
}
