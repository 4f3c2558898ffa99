/*
 * libFuzzer harness for the Web eID token verifier (src/libcnie/webeid.c): the
 * input is the token JSON, verified for a fixed origin and nonce against a
 * fixed CA (the seed corpus holds a valid token of a leaf under that CA, so
 * the fuzzer starts from the deepest path).  Properties (abort() on
 * violation):
 *  - the reason is one of the enum's values and has a code string;
 *  - the info strings are NUL-terminated; a valid token has its algorithm,
 *    its certificate and a 64-digit fingerprint;
 *  - single use: verifying the same token again is NONCE_REPLAYED.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/webeid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "https://portal.example.ma"
#define NONCE "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define NOW ((time_t)1800000000) /* 2027-01-15: inside the seed leaf's validity */

static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkjCCATigAwIBAgIBATAKBggqhkjOPQQDAjAfMQswCQYDVQQGEwJNQTEQMA4G\n"
    "A1UEAwwHRlVaWiBDQTAgFw0yNjEyMDIwNzU2MzlaGA8yMDUxMDcyNDA3NTYzOVow\n"
    "HzELMAkGA1UEBhMCTUExEDAOBgNVBAMMB0ZVWlogQ0EwWTATBgcqhkjOPQIBBggq\n"
    "hkjOPQMBBwNCAAQvPkfa4zS39e3/1w1uKr+aTQA8HTEt5Z6NFB88HZfuz79MVSkR\n"
    "y5oF5P+AWb4XJPQ4eVs7vVuvNAiUqZ8h6Hvlo2MwYTAdBgNVHQ4EFgQUrk/a94OA\n"
    "vEEeOWna2/1jQ8gz2xEwHwYDVR0jBBgwFoAUrk/a94OAvEEeOWna2/1jQ8gz2xEw\n"
    "DwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDSAAw\n"
    "RQIgblknEj/U4i1lE79EHr5qmJRh2EXo+3gzdxJZsomRW/ICIQD9RjMcfW4w2LLS\n"
    "VYh6QYwNEG4a3niPAXmqOFjhmqtHEQ==\n"
    "-----END CERTIFICATE-----\n";

static void
check_str(const char *s, size_t cap)
{
	if (strnlen(s, cap) == cap)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cnie_webeid_trust *trust;
	cnie_webeid_nonce_store *nonces = NULL;
	cnie_webeid_params p;
	cnie_webeid_info info;
	int r;

	if (trust == NULL && (cnie_webeid_trust_new(&trust) != 0 ||
	    cnie_webeid_trust_add_mem(trust, (const uint8_t *)ca_pem, sizeof(ca_pem) - 1) != 0))
		abort();
	if (cnie_webeid_nonce_store_new(4, 300, &nonces) != 0 ||
	    cnie_webeid_nonce_add(nonces, NONCE, NOW - 10) != 0)
		abort();
	p.origin = ORIGIN;
	p.nonce = NONCE;
	p.nonces = nonces;
	p.trust = trust;
	p.now = NOW;
	r = cnie_webeid_verify((const char *)data, size, &p, &info);
	if (r < CNIE_WEBEID_OK || r > CNIE_WEBEID_ALGORITHM ||
	    strcmp(cnie_webeid_reason_code(r), "unknown") == 0)
		abort();
	check_str(info.algorithm, sizeof(info.algorithm));
	check_str(info.subject, sizeof(info.subject));
	check_str(info.common_name, sizeof(info.common_name));
	check_str(info.serial_number, sizeof(info.serial_number));
	check_str(info.fingerprint, sizeof(info.fingerprint));
	if (r == CNIE_WEBEID_OK && (info.algorithm[0] == '\0' || info.certificate == NULL ||
	    strlen(info.fingerprint) != 64))
		abort();
	cnie_webeid_info_clear(&info);
	if (cnie_webeid_verify((const char *)data, size, &p, NULL) != CNIE_WEBEID_NONCE_REPLAYED)
		abort();
	cnie_webeid_nonce_store_free(&nonces);
	return 0;
}
