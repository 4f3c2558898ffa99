/*
 * Private to libcnie (beside the sources): the MRZ parse for the access
 * protocols.  BAC and PACE use only the document number, the birth and
 * the expiry dates (ICAO 9303-11 4.3.2), so their check digits and the
 * date ranges are verified but not the composite check digit (nor the
 * TD3 personal number's), which guards fields the protocols never use:
 * the published worked examples (9303-11 App. D, BSI TR-03110 G.1) carry
 * MRZs whose composite digit does not verify.  Input from a person goes
 * through cnie_mrz_parse, which checks everything.
 */
#ifndef CNIE_MRZ_INTERNAL_H
#define CNIE_MRZ_INTERNAL_H

#include <stddef.h>

#include <cnie/mrz.h>

int cnie_mrz_parse_access(const char *s, size_t len, cnie_mrz *out, cnie_mrz_field *bad);

#endif
