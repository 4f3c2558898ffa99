/*
 * libFuzzer harness: cnie-perso's description parser (tools/perso/desc.c)
 * on arbitrary bytes.  It must return 0 or CNIE_ERR_ENCODING with a
 * NUL-terminated message naming the problem, and never read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/error.h>

#include "perso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PERSO_ERRLEN];
	perso_desc d;
	int r;

	if (size > 16384)
		return 0;
	r = perso_desc_parse((const char *)data, size, &d, err, sizeof(err));
	if (r != 0 && r != CNIE_ERR_ENCODING)
		abort();
	if (r != 0 && (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0'))
		abort();
	if (r == 0 && (strlen(d.serial) != 16 || d.cert_not_after.y == 0))
		abort();
	perso_desc_clear(&d);
	return 0;
}
