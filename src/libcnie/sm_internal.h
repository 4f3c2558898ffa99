/*
 * Internal (not exported) helpers of sm.c shared with bac.c and pace.c.
 */
#ifndef CNIE_SM_INTERNAL_H
#define CNIE_SM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* ISO/IEC 9797-1 MAC algorithm 3 with DES over m[0..n) (n a multiple of 8, padded). */
int cnie_sm_retail_mac(const uint8_t key[16], const uint8_t *m, size_t n, uint8_t mac[8]);
/* 2-key 3DES CBC with a zero IV, no padding (n a multiple of 8). */
int cnie_sm_3des_cbc(const uint8_t key[16], int enc, const uint8_t *in, size_t n, uint8_t *out);

typedef struct cnie_sm cnie_sm;
/*
 * Puts back an SSC read with cnie_sm_get_ssc (n bytes, the cipher's block):
 * for a protected command that was built but never sent (sm_transport.c).
 */
int cnie_sm_set_ssc(cnie_sm *sm, const uint8_t *ssc, size_t n);

#endif
