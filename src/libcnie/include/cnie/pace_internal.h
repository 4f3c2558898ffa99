/*
 * Internal (not installed, not exported) helpers of pace.c, shared with
 * libcnie's tests and the reference card (drivers/emu/emu_auth.c) through
 * the cnie_internal target, so terminal and card derive sessions alike.
 */
#ifndef CNIE_PACE_INTERNAL_H
#define CNIE_PACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <eac/eac.h>
#include <eac/pace.h>

#include <cnie/pace.h>
#include <cnie/sm.h>

/* EAC_init() once per process. */
void cnie_pace_lib_init(void);
/* The OpenPACE context of a run (borrowed; NULL after a failure). Tests only. */
EAC_CTX *cnie_pace_eac_ctx(const cnie_pace *p);
int cnie_pace_cipher_of(const KA_CTX *ka, cnie_sm_cipher *out);
int cnie_pace_session_of(const KA_CTX *ka, cnie_sm **sm);
int cnie_pace_secret_new(cnie_pace_secret type, const char *secret, size_t n, PACE_SEC **out);
/* OID contents (no tag/length) of an OpenPACE protocol NID (borrowed). */
int cnie_pace_oid_of(int nid, const uint8_t **oid, size_t *n);
/* A new BUF_MEM holding a copy of p[0..n). */
BUF_MEM *cnie_pace_bufmem(const uint8_t *p, size_t n);
/* The value of DO tag inside a 7C answer, as a new BUF_MEM. */
int cnie_pace_ga_get(const uint8_t *resp, size_t n, uint32_t tag, BUF_MEM **out);

#endif
