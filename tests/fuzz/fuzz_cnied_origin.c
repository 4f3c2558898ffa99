/*
 * libFuzzer harness for cnied's Origin and Host checks (src/cnied/origin.c).
 * Properties (abort() on violation):
 *  - an allowed origin is byte-identical to an allowlist entry;
 *  - a valid origin starts with http:// or https://, has no '/', '?', '#',
 *    '@' or whitespace after the scheme, and no trailing '/';
 *  - an allowed Host names a loopback host and a configured port.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cnied.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char o1[] = "https://portal.example", o2[] = "http://localhost:8080";
	static const uint16_t ports[] = {28219, 8443};
	cnied_config cfg;
	const char *s = (const char *)data;
	size_t i, start;

	memset(&cfg, 0, sizeof(cfg));
	cfg.origins[0] = o1;
	cfg.origins[1] = o2;
	cfg.norigins = 2;
	if (cnied_origin_allowed(&cfg, s, size)) {
		if (!((size == strlen(o1) && memcmp(s, o1, size) == 0) ||
		    (size == strlen(o2) && memcmp(s, o2, size) == 0)))
			abort();
	}
	if (cnied_origin_valid(s, size) == 0) {
		if (size >= 8 && memcmp(s, "https://", 8) == 0)
			start = 8;
		else if (size >= 7 && memcmp(s, "http://", 7) == 0)
			start = 7;
		else
			abort();
		for (i = start; i < size; i++)
			if (strchr("/?#@ \t\r\n", s[i]) != NULL || s[i] == '\0')
				abort();
	}
	if (cnied_host_allowed(s, size, ports, 2)) {
		if (!((size > 10 && strncmp(s, "127.0.0.1:", 10) == 0) ||
		    (size > 6 && strncmp(s, "[::1]:", 6) == 0) ||
		    (size > 10 && strncasecmp(s, "localhost:", 10) == 0)))
			abort();
	}
	return 0;
}
