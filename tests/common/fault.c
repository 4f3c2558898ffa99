/*
 * Fault injection by --wrap (fault.h).  Each wrapper asks fault_fail()
 * whether this call is the one to fail and then either fails the way the
 * real function documents (NULL, 0, -1) or calls the real one.  The state
 * is per thread, so only the test's thread is affected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <eac/eac.h>
#include <eac/pace.h>

#include <cnie/error.h>

#include "fault.h"

#define MAX_SITES 65536
#define MAX_NAMES 64

static _Thread_local struct {
	bool on;
	int paused;
	unsigned long n;	/* calls counted since fault_start */
	unsigned long fail_at;	/* 0: count only */
	const char *hit;	/* the function failed, NULL before */
} F;

/* The counting run's call sites and per-function tallies. */
static void *site_log[MAX_SITES];
static unsigned long site_n;
static struct {
	const char *name;
	unsigned long n;
} tally[MAX_NAMES];

static void
tally_add(const char *name)
{
	size_t i;

	for (i = 0; i < MAX_NAMES && tally[i].name != NULL; i++) {
		if (tally[i].name == name) {
			tally[i].n++;
			return;
		}
	}
	if (i < MAX_NAMES) {
		tally[i].name = name;
		tally[i].n = 1;
	}
}

static bool
fault_fail(const char *name, void *site)
{
	if (!F.on || F.paused > 0)
		return false;
	F.n++;
	if (F.fail_at == 0) {
		if (site_n < MAX_SITES)
			site_log[site_n++] = site;
		tally_add(name);
		return false;
	}
	if (F.n != F.fail_at)
		return false;
	F.hit = name;
	return true;
}

void
fault_start(unsigned long fail_at)
{
	F.on = true;
	F.paused = 0;
	F.n = 0;
	F.fail_at = fail_at;
	F.hit = NULL;
}

unsigned long
fault_stop(void)
{
	F.on = false;
	return F.n;
}

bool
fault_injected(void)
{
	return F.hit != NULL;
}

unsigned long
fault_failed_at(void)
{
	return F.hit != NULL ? F.fail_at : 0;
}

const char *
fault_injected_name(void)
{
	return F.hit != NULL ? F.hit : "-";
}

void
fault_pause(void)
{
	F.paused++;
}

void
fault_resume(void)
{
	if (F.paused > 0)
		F.paused--;
}

/* ---- the wrappers ----------------------------------------------------- */

/*
 * ret __wrap_NAME PARAMS: fails with FAILVAL when scheduled, else calls
 * __real_NAME ARGS (the linker binds __real_NAME to the real NAME).
 */
#define WRAP(ret, name, failval, params, args)                                 \
	ret __real_##name params;                                              \
	ret __wrap_##name params;                                              \
	ret __wrap_##name params                                               \
	{                                                                      \
		if (fault_fail(#name, __builtin_return_address(0)))            \
			return failval;                                        \
		return __real_##name args;                                     \
	}

WRAP(void *, malloc, NULL, (size_t n), (n))
WRAP(void *, calloc, NULL, (size_t m, size_t n), (m, n))
WRAP(void *, realloc, NULL, (void *p, size_t n), (p, n))
WRAP(char *, strdup, NULL, (const char *s), (s))

WRAP(int, RAND_bytes, 0, (unsigned char *p, int n), (p, n))

WRAP(BIGNUM *, BN_bin2bn, NULL, (const unsigned char *s, int len, BIGNUM *ret), (s, len, ret))
WRAP(ECDSA_SIG *, ECDSA_SIG_new, NULL, (void), ())
WRAP(int, ECDSA_SIG_set0, 0, (ECDSA_SIG *sig, BIGNUM *r, BIGNUM *s), (sig, r, s))
WRAP(int, i2d_ECDSA_SIG, -1, (const ECDSA_SIG *sig, unsigned char **pp), (sig, pp))
WRAP(X509 *, d2i_X509, NULL, (X509 **a, const unsigned char **pp, long len), (a, pp, len))
WRAP(EVP_PKEY *, X509_get0_pubkey, NULL, (const X509 *x), (x))

WRAP(int, EVP_Digest, 0, (const void *data, size_t count, unsigned char *md,
    unsigned int *size, const EVP_MD *type, ENGINE *impl),
    (data, count, md, size, type, impl))
WRAP(EVP_MD_CTX *, EVP_MD_CTX_new, NULL, (void), ())
WRAP(int, EVP_DigestInit_ex, 0, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl),
    (ctx, type, impl))
WRAP(int, EVP_DigestUpdate, 0, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt))
WRAP(int, EVP_DigestFinal_ex, 0, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s),
    (ctx, md, s))

WRAP(EVP_PKEY_CTX *, EVP_PKEY_CTX_new, NULL, (EVP_PKEY *pkey, ENGINE *e), (pkey, e))
WRAP(int, EVP_PKEY_CTX_set_rsa_padding, 0, (EVP_PKEY_CTX *ctx, int pad), (ctx, pad))
WRAP(int, EVP_PKEY_CTX_set_rsa_pss_saltlen, 0, (EVP_PKEY_CTX *ctx, int len), (ctx, len))
WRAP(int, EVP_PKEY_CTX_set_signature_md, 0, (EVP_PKEY_CTX *ctx, const EVP_MD *md), (ctx, md))
WRAP(int, EVP_PKEY_verify_init, 0, (EVP_PKEY_CTX *ctx), (ctx))
WRAP(int, EVP_PKEY_verify, -1, (EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
    const unsigned char *tbs, size_t tbslen), (ctx, sig, siglen, tbs, tbslen))
WRAP(int, EVP_PKEY_verify_recover_init, 0, (EVP_PKEY_CTX *ctx), (ctx))
WRAP(int, EVP_PKEY_verify_recover, -1, (EVP_PKEY_CTX *ctx, unsigned char *rout,
    size_t *routlen, const unsigned char *sig, size_t siglen),
    (ctx, rout, routlen, sig, siglen))

WRAP(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, NULL, (void), ())
WRAP(int, EVP_CIPHER_CTX_set_padding, 0, (EVP_CIPHER_CTX *c, int pad), (c, pad))
WRAP(int, EVP_CipherInit_ex, 0, (EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl,
    const unsigned char *key, const unsigned char *iv, int enc),
    (ctx, type, impl, key, iv, enc))
WRAP(int, EVP_CipherUpdate, 0, (EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl,
    const unsigned char *in, int inl), (ctx, out, outl, in, inl))
WRAP(int, EVP_CipherFinal_ex, 0, (EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl),
    (ctx, out, outl))
WRAP(int, EVP_EncryptInit_ex, 0, (EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl,
    const unsigned char *key, const unsigned char *iv), (ctx, type, impl, key, iv))
WRAP(int, EVP_EncryptUpdate, 0, (EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl,
    const unsigned char *in, int inl), (ctx, out, outl, in, inl))

WRAP(EVP_MAC *, EVP_MAC_fetch, NULL, (OSSL_LIB_CTX *libctx, const char *algorithm,
    const char *properties), (libctx, algorithm, properties))
WRAP(EVP_MAC_CTX *, EVP_MAC_CTX_new, NULL, (EVP_MAC *mac), (mac))
WRAP(int, EVP_MAC_init, 0, (EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen,
    const OSSL_PARAM params[]), (ctx, key, keylen, params))
WRAP(int, EVP_MAC_update, 0, (EVP_MAC_CTX *ctx, const unsigned char *data, size_t datalen),
    (ctx, data, datalen))
WRAP(int, EVP_MAC_final, 0, (EVP_MAC_CTX *ctx, unsigned char *out, size_t *outl,
    size_t outsize), (ctx, out, outl, outsize))

WRAP(BUF_MEM *, BUF_MEM_new, NULL, (void), ())
WRAP(size_t, BUF_MEM_grow, 0, (BUF_MEM *str, size_t len), (str, len))
WRAP(EAC_CTX *, EAC_CTX_new, NULL, (void), ())
WRAP(int, EAC_CTX_init_ef_cardaccess, 0, (unsigned const char *in, size_t in_len,
    EAC_CTX *ctx), (in, in_len, ctx))
WRAP(PACE_SEC *, PACE_SEC_new, NULL, (const char *sec, size_t sec_len, enum s_type type),
    (sec, sec_len, type))
WRAP(int, PACE_STEP2_dec_nonce, 0, (const EAC_CTX *ctx, const PACE_SEC *pi,
    const BUF_MEM *enc_nonce), (ctx, pi, enc_nonce))
WRAP(BUF_MEM *, PACE_STEP3A_generate_mapping_data, NULL, (const EAC_CTX *ctx), (ctx))
WRAP(int, PACE_STEP3A_map_generator, 0, (const EAC_CTX *ctx, const BUF_MEM *in), (ctx, in))
WRAP(BUF_MEM *, PACE_STEP3B_generate_ephemeral_key, NULL, (EAC_CTX *ctx), (ctx))
WRAP(int, PACE_STEP3B_compute_shared_secret, 0, (const EAC_CTX *ctx, const BUF_MEM *in),
    (ctx, in))
WRAP(int, PACE_STEP3C_derive_keys, 0, (const EAC_CTX *ctx), (ctx))
WRAP(BUF_MEM *, PACE_STEP3D_compute_authentication_token, NULL, (const EAC_CTX *ctx,
    const BUF_MEM *pub), (ctx, pub))
WRAP(int, PACE_STEP3D_verify_authentication_token, -1, (const EAC_CTX *ctx,
    const BUF_MEM *token), (ctx, token))

/* ---- the sweep ---------------------------------------------------------- */

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

static unsigned long
distinct_sites(void)
{
	unsigned long i, d = 0;

	qsort(site_log, site_n, sizeof(site_log[0]), cmp_ptr);
	for (i = 0; i < site_n; i++)
		if (i == 0 || site_log[i] != site_log[i - 1])
			d++;
	return d;
}

/* The errors other than NOMEM and CRYPTO, by failed function. */
static struct {
	const char *name;
	int err;
	unsigned long n;
} others[MAX_NAMES];

static void
other_add(const char *name, int err)
{
	size_t i;

	for (i = 0; i < MAX_NAMES && others[i].name != NULL; i++) {
		if (others[i].name == name && others[i].err == err) {
			others[i].n++;
			return;
		}
	}
	if (i < MAX_NAMES) {
		others[i].name = name;
		others[i].err = err;
		others[i].n = 1;
	}
}

/* Errors that claim the card judged the PIN: never the result of a local failure. */
static bool
card_verdict(int r)
{
	return r == CNIE_ERR_PIN_INCORRECT || r == CNIE_ERR_PIN_BLOCKED;
}

void
fault_sweep(const char *name, fault_scenario run, void *arg, fault_report *rep)
{
	unsigned long k, absorbed_shown = 0;
	size_t i;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(tally, 0, sizeof(tally));
	memset(others, 0, sizeof(others));
	site_n = 0;

	fault_start(0);
	r = run(arg);
	rep->calls = fault_stop();
	if (r != FAULT_RUN_OK)
		fail_msg("%s: the run without faults failed: %d (%s)", name, r,
		    r < 0 ? cnie_strerror(r) : "wrong result");
	assert_true(rep->calls > 0);
	rep->sites = distinct_sites();

	for (k = 1; k <= rep->calls; k++) {
		fault_start(k);
		r = run(arg);
		fault_stop();
		if (!fault_injected()) {
			/* The path diverged before call k: it must still be right. */
			if (r != FAULT_RUN_OK)
				fail_msg("%s: call %lu not reached, yet the run failed: %d", name, k, r);
			continue;
		}
		if (r == FAULT_RUN_WRONG)
			fail_msg("%s: %s failing at call %lu: success with a wrong result", name,
			    fault_injected_name(), k);
		if (r == FAULT_RUN_OK) {
			if (absorbed_shown++ < 8)
				printf("  %s: %s failing at call %lu: absorbed, result checked\n",
				    name, fault_injected_name(), k);
			rep->absorbed++;
			continue;
		}
		if (r > 0 || strcmp(cnie_strerror(r), "unknown error") == 0)
			fail_msg("%s: %s failing at call %lu: %d is not a cnie error", name,
			    fault_injected_name(), k, r);
		if (card_verdict(r))
			fail_msg("%s: %s failing at call %lu reported a PIN verdict: %s", name,
			    fault_injected_name(), k, cnie_strerror(r));
		rep->errors++;
		if (r == CNIE_ERR_NOMEM)
			rep->nomem++;
		else if (r == CNIE_ERR_CRYPTO)
			rep->crypto++;
		else
			other_add(fault_injected_name(), r);
	}
	printf("FIGURE fault %s: %lu injection points (%lu distinct call sites); "
	    "%lu errors (%lu NOMEM, %lu CRYPTO, %lu other), %lu absorbed with a checked "
	    "result\n", name, rep->calls, rep->sites, rep->errors, rep->nomem, rep->crypto,
	    rep->errors - rep->nomem - rep->crypto, rep->absorbed);
	for (i = 0; i < MAX_NAMES && others[i].name != NULL; i++)
		printf("  %s: %s failing: %s (%d) x%lu\n", name, others[i].name,
		    cnie_strerror(others[i].err), others[i].err, others[i].n);
	printf("  %s calls:", name);
	for (i = 0; i < MAX_NAMES && tally[i].name != NULL; i++)
		printf(" %s %lu", tally[i].name, tally[i].n);
	printf("\n");
	fflush(stdout);
}
