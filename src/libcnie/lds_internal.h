/*
 * Private to libcnie (beside the sources): the walk over DG14's
 * SecurityInfos (ICAO 9303-10 4.7.14, 9303-11 9.2), shared by Chip
 * Authentication (icao.c) and the Active Authentication algorithm
 * (lds.c) so that the framing is checked in one place.
 */
#ifndef CNIE_LDS_INTERNAL_H
#define CNIE_LDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/tlv.h>

/* Opens DG14 (tag 6E) and positions *set on its SET OF SecurityInfo. */
int cnie_lds_dg14_open(const uint8_t *p, size_t n, cnie_cur *set);

/*
 * Next SecurityInfo of *set: SEQUENCE { protocol OBJECT IDENTIFIER, ... }.
 * *oid gets the protocol; *body the rest of the SEQUENCE.  Returns
 * CNIE_ERR_NOT_FOUND at the end of the set.
 */
int cnie_lds_security_info_next(cnie_cur *set, cnie_tlv *oid, cnie_cur *body);

/*
 * icao.c: the Chip Authentication info Chip Authentication would use from
 * DG14 (the first ChipAuthenticationInfo version 1, ECDH or DH, and the
 * first public key of the same agreement with a matching keyId).  *dh tells
 * the agreement; *spki and *spki_len point into dg14 (the key's DER
 * SubjectPublicKeyInfo-shaped SEQUENCE, not yet decoded).  For tests and
 * the DG14 fuzz harness; errors as cnie_icao_chip_auth's parsing.
 */
int cnie_icao_dg14_chip_key(const uint8_t *dg14, size_t n, bool *dh, const uint8_t **spki,
    size_t *spki_len);

#endif
