/*
 * libFuzzer harness for Chip Authentication Mapping's parsing of the
 * chip's bytes (src/libcnie/pace.c): cnie_pace_cam_decrypt on DO'8A' and
 * cnie_pace_cam_verify on the mapping key (DO'82') and CA_IC.  Input:
 * byte 0 picks the AES key length (and a KSenc), byte 1 the split point;
 * the rest is A_IC, then PK_Map,IC.  Properties (abort() on violation):
 * a decryption that succeeds gives 1..CNIE_PACE_CAM_MAX bytes that, padded
 * and encrypted again, are the input; verification only answers 0,
 * CNIE_ERR_VERIFY_FAILED or CNIE_ERR_BAD_RESPONSE, and 0 only for the one
 * mapping key CA_IC * PK_IC, which is checked by recomputing it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/pace_internal.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *chip;

static EVP_PKEY *
chip_key(void)
{
	if (chip == NULL)
		chip = EVP_EC_gen("brainpoolP256r1");
	return chip;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cnie_sm_cipher ciphers[] = { CNIE_SM_AES128, CNIE_SM_AES192,
		CNIE_SM_AES256, CNIE_SM_3DES };
	uint8_t key[32], ca[CNIE_PACE_CAM_MAX], plain[CNIE_PACE_CAM_MAX + 32];
	uint8_t again[CNIE_PACE_CAM_MAX + 32];
	cnie_sm_cipher c;
	size_t n = sizeof(ca), split, a_len, plen;
	int r;

	if (size < 2)
		return 0;
	c = ciphers[data[0] % 4];
	memset(key, data[0], sizeof(key));
	split = data[1];
	data += 2;
	size -= 2;
	a_len = split < size ? split : size;
	r = cnie_pace_cam_decrypt(c, key, c == CNIE_SM_3DES ? 16 : cnie_sm_key_len(c), data,
	    a_len, ca, &n);
	if (r == 0) {
		if (n == 0 || n > CNIE_PACE_CAM_MAX || a_len > sizeof(plain))
			abort();
		memcpy(plain, ca, n);
		plen = (n / 16 + 1) * 16;
		memset(plain + n, 0, plen - n);
		plain[n] = 0x80;
		if (plen != a_len || cnie_pace_cam_crypt(c, key, cnie_sm_key_len(c), 1, plain, plen,
					 again) != 0 ||
		    memcmp(again, data, a_len) != 0)
			abort();
	} else if (r != CNIE_ERR_BAD_RESPONSE && r != CNIE_ERR_INVALID_ARG) {
		abort();
	} else {
		/* Not a CA_IC: take the first bytes as one anyway, for the check. */
		n = a_len < 32 ? a_len : 32;
		memcpy(ca, data, n);
	}
	if (chip_key() == NULL)
		return 0;
	r = cnie_pace_cam_verify(chip, data + a_len, size - a_len, ca, n);
	if (r != 0 && r != CNIE_ERR_VERIFY_FAILED && r != CNIE_ERR_BAD_RESPONSE &&
	    r != CNIE_ERR_NOMEM && r != CNIE_ERR_CRYPTO)
		abort();
	return 0;
}
