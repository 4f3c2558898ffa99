/*
 * bench_pkcs11: one PKCS#11 flow, from C_Initialize to a verified
 * signature, as an application does it, timed phase by phase.
 *
 *   bench_pkcs11 MODULE [auth|sign]
 *
 * Flow: dlopen MODULE, C_GetFunctionList, C_Initialize (CKF_OS_LOCKING_OK),
 * C_GetSlotList(token present), C_OpenSession on the first slot with a
 * token, C_Login (PIN from $BENCH_PIN, default 1234), find the key (auth:
 * a signing key without CKA_ALWAYS_AUTHENTICATE; sign: one with it, then
 * C_Login CKU_CONTEXT_SPECIFIC), its certificate (same CKA_ID, CKA_VALUE),
 * C_Sign of SHA-256 of 64 bytes (CKM_ECDSA over the hash, or
 * CKM_SHA256_RSA_PKCS), verification with OpenSSL against the certificate,
 * C_Finalize.  With $BENCH_APDU_CMD (a command printing the reader's
 * status JSON, e.g. `cnie-sim --reader 0 status`), the card APDUs of each
 * phase are counted from the reader's counter (the command runs between
 * phases, outside the timed spans).
 *
 * Prints one line per phase and a total; a benchmark prints figures, it
 * never asserts a time.  Exit: 0 verified signature; 1 the flow failed
 * (the message says where; e.g. no token: the module does not recognise
 * the card); 2 usage.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "testutil.h"

#define MAX_OBJS 16

static CK_FUNCTION_LIST_PTR p11;
static const char *apdu_cmd;

/* The reader's APDU counter ("apdus":N in the status JSON), or -1. */
static long
apdus_now(void)
{
	char line[4096];
	const char *p;
	FILE *f;
	long n = -1;

	if (apdu_cmd == NULL || (f = popen(apdu_cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "\"apdus\":")) != NULL)
			n = strtol(p + 8, NULL, 10);
	if (pclose(f) != 0)
		return -1;
	return n;
}

struct phase {
	const char *name;
	double t0, ms;
	long a0, apdus;
};

static struct phase phases[8];
static size_t nphases;
static double total_ms;
static long total_apdus;

static void
phase_begin(const char *name)
{
	struct phase *p = &phases[nphases];

	p->name = name;
	p->a0 = apdus_now();
	p->t0 = tu_now_ms();
}

static void
phase_end(void)
{
	struct phase *p = &phases[nphases++];
	long a;

	p->ms = tu_now_ms() - p->t0;
	a = apdus_now();
	p->apdus = (a >= 0 && p->a0 >= 0) ? a - p->a0 : -1;
	total_ms += p->ms;
	if (p->apdus >= 0 && total_apdus >= 0)
		total_apdus += p->apdus;
	else
		total_apdus = -1;
}

static int
ck(CK_RV rv, const char *what)
{
	if (rv == CKR_OK)
		return 0;
	fprintf(stderr, "bench_pkcs11: %s: CKR 0x%lx\n", what, (unsigned long)rv);
	return -1;
}

static CK_BBOOL
get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { t, &v, sizeof(v) };

	if (p11->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return CK_FALSE;
	return v;
}

/* Finds the private key (auth or sign) and its certificate's DER. */
static int
find_key(CK_SESSION_HANDLE s, bool want_always, CK_OBJECT_HANDLE *key, CK_KEY_TYPE *kt,
    unsigned char **cert, CK_ULONG *cert_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY, ccls = CKO_CERTIFICATE;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tk[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_SIGN, &yes, sizeof(yes) } };
	CK_OBJECT_HANDLE objs[MAX_OBJS], c;
	CK_ULONG n = 0, i, nc = 0;
	unsigned char id[256];
	CK_ATTRIBUTE aid = { CKA_ID, id, sizeof(id) };
	CK_ATTRIBUTE akt = { CKA_KEY_TYPE, kt, sizeof(*kt) };
	CK_ATTRIBUTE tc[2];
	CK_ATTRIBUTE av = { CKA_VALUE, NULL, 0 };

	if (ck(p11->C_FindObjectsInit(s, tk, 2), "C_FindObjectsInit(private keys)") != 0)
		return -1;
	if (ck(p11->C_FindObjects(s, objs, MAX_OBJS, &n), "C_FindObjects") != 0)
		return -1;
	(void)p11->C_FindObjectsFinal(s);
	for (i = 0; i < n; i++)
		if ((get_bool(s, objs[i], CKA_ALWAYS_AUTHENTICATE) == CK_TRUE) == want_always)
			break;
	if (i == n) {
		fprintf(stderr, "bench_pkcs11: no %s key among %lu private keys\n",
		    want_always ? "signature (always-authenticate)" : "authentication",
		    (unsigned long)n);
		return -1;
	}
	*key = objs[i];
	if (ck(p11->C_GetAttributeValue(s, *key, &aid, 1), "CKA_ID") != 0 ||
	    ck(p11->C_GetAttributeValue(s, *key, &akt, 1), "CKA_KEY_TYPE") != 0)
		return -1;
	tc[0] = (CK_ATTRIBUTE){ CKA_CLASS, &ccls, sizeof(ccls) };
	tc[1] = (CK_ATTRIBUTE){ CKA_ID, id, aid.ulValueLen };
	if (ck(p11->C_FindObjectsInit(s, tc, 2), "C_FindObjectsInit(certificate)") != 0)
		return -1;
	if (ck(p11->C_FindObjects(s, &c, 1, &nc), "C_FindObjects(certificate)") != 0)
		return -1;
	(void)p11->C_FindObjectsFinal(s);
	if (nc != 1) {
		fprintf(stderr, "bench_pkcs11: no certificate with the key's CKA_ID\n");
		return -1;
	}
	if (ck(p11->C_GetAttributeValue(s, c, &av, 1), "CKA_VALUE size") != 0)
		return -1;
	if ((*cert = malloc(av.ulValueLen)) == NULL)
		return -1;
	av.pValue = *cert;
	if (ck(p11->C_GetAttributeValue(s, c, &av, 1), "CKA_VALUE") != 0)
		return -1;
	*cert_len = av.ulValueLen;
	return 0;
}

/* PKCS#11 ECDSA signatures are r || s; OpenSSL verifies DER. */
static int
verify(const unsigned char *der, CK_ULONG der_len, CK_KEY_TYPE kt, const unsigned char *msg,
    size_t msg_len, const unsigned char *sig, CK_ULONG sig_len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)der_len);
	EVP_PKEY *pk = x != NULL ? X509_get0_pubkey(x) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dsig[256], *q;
	const unsigned char *vs = sig;
	size_t vlen = sig_len;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int ok = 0, k;

	if (pk == NULL || md == NULL)
		goto out;
	if (kt == CKK_EC) {
		if (sig_len == 0 || sig_len % 2 != 0 || sig_len > 2 * 66)
			goto out;
		r = BN_bin2bn(sig, (int)(sig_len / 2), NULL);
		s = BN_bin2bn(sig + sig_len / 2, (int)(sig_len / 2), NULL);
		if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL ||
		    ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL;
		q = dsig;
		if ((k = i2d_ECDSA_SIG(es, &q)) <= 0)
			goto out;
		vs = dsig;
		vlen = (size_t)k;
	}
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, vs, vlen, msg, msg_len) == 1;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	X509_free(x);
	return ok ? 0 : -1;
}

/* ---- two readers, two threads (issue 11) -------------------------------- */

#define TWO_SIGS 10

static CK_UTF8CHAR two_pin[] = "1234"; /* the test cards (tests/cards) */

typedef struct two_job {
	CK_SLOT_ID slot;
	int ok;
	double s; /* seconds for TWO_SIGS signatures, login excluded */
} two_job;

static double
two_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Logs in on the job's slot and signs TWO_SIGS hashes with the authentication key. */
static void *
two_run(void *arg)
{
	two_job *j = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE kt = 0;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	unsigned char *cert = NULL, hash[32], sig[1024];
	CK_ULONG cert_len = 0, sl;
	double t0;
	int i;

	j->ok = 0;
	memset(hash, 0x33, sizeof(hash));
	if (p11->C_OpenSession(j->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return NULL;
	if (p11->C_Login(s, CKU_USER, two_pin, 4) == CKR_OK &&
	    find_key(s, false, &key, &kt, &cert, &cert_len) == 0) {
		m.mechanism = kt == CKK_RSA ? CKM_SHA256_RSA_PKCS : CKM_ECDSA;
		t0 = two_now();
		for (i = 0; i < TWO_SIGS; i++) {
			sl = sizeof(sig);
			if (p11->C_SignInit(s, &m, key) == CKR_OK &&
			    p11->C_Sign(s, hash, sizeof(hash), sig, &sl) == CKR_OK)
				j->ok++;
		}
		j->s = two_now() - t0;
		p11->C_Logout(s);
	}
	free(cert);
	p11->C_CloseSession(s);
	return NULL;
}

/*
 * The first two tokens (two readers), each signed on by its own thread:
 * the time of both together over the time of one alone (goal <= 1.3).
 */
static int
two_readers(const char *module)
{
	CK_C_INITIALIZE_ARGS ia = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	two_job a, b;
	pthread_t ta, tb;
	double one, both, t0;
	void *h;

	if ((h = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return 1;
	*(void **)&gfl = dlsym(h, "C_GetFunctionList");
	if (gfl == NULL || gfl(&p11) != CKR_OK || p11->C_Initialize(&ia) != CKR_OK)
		return 1;
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK || n < 2) {
		fprintf(stderr, "bench_pkcs11 two: needs two tokens (%lu)\n", (unsigned long)n);
		p11->C_Finalize(NULL);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.slot = slots[0];
	b.slot = slots[1];
	two_run(&a); /* discovery and certificates read once: warm for both */
	two_run(&b);
	two_run(&a);
	one = a.s;
	t0 = two_now();
	if (pthread_create(&ta, NULL, two_run, &a) != 0 ||
	    pthread_create(&tb, NULL, two_run, &b) != 0)
		return 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	both = two_now() - t0;
	printf("  two readers, two threads x %d signatures: one reader alone %.0f ms (signatures), "
	    "both at once %.0f ms (wall, logins too) -> ratio %.2f (goal <= 1.3); signatures %d+%d\n",
	    TWO_SIGS, one * 1000, both * 1000, both / (one > 0 ? one : 1), a.ok, b.ok);
	p11->C_Finalize(NULL);
	return a.ok == TWO_SIGS && b.ok == TWO_SIGS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS ia = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16, cert_len = 0, sig_len = 0;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE kt = 0;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	const char *pin = getenv("BENCH_PIN");
	unsigned char msg[64], hash[32], sig[1024], *cert = NULL, *in;
	unsigned int hlen = sizeof(hash);
	CK_ULONG in_len;
	bool want_sign;
	void *h;
	size_t i;
	int rc = 1, inited = 0;

	if (argc == 3 && strcmp(argv[2], "two") == 0)
		return two_readers(argv[1]);
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "auth") != 0 &&
	    strcmp(argv[2], "sign") != 0)) {
		fprintf(stderr, "usage: bench_pkcs11 MODULE [auth|sign|two]\n");
		return 2;
	}
	want_sign = argc == 3 && strcmp(argv[2], "sign") == 0;
	if (pin == NULL)
		pin = "1234";
	apdu_cmd = getenv("BENCH_APDU_CMD");
	memset(msg, 0x5a, sizeof(msg));
	total_apdus = 0;

	if ((h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "bench_pkcs11: %s\n", dlerror());
		return 1;
	}
	*(void **)&gfl = dlsym(h, "C_GetFunctionList");
	if (gfl == NULL || ck(gfl(&p11), "C_GetFunctionList") != 0)
		goto out;

	phase_begin("C_Initialize..C_OpenSession");
	if (ck(p11->C_Initialize(&ia), "C_Initialize") != 0)
		goto out;
	inited = 1;
	if (ck(p11->C_GetSlotList(CK_TRUE, slots, &nslots), "C_GetSlotList") != 0)
		goto out;
	if (nslots == 0) {
		fprintf(stderr, "bench_pkcs11: no token (the module does not see a card it knows)\n");
		goto out;
	}
	if (ck(p11->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s),
	    "C_OpenSession") != 0)
		goto out;
	phase_end();

	phase_begin("C_Login");
	if (ck(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin)),
	    "C_Login") != 0)
		goto out;
	phase_end();

	phase_begin("find key + certificate");
	if (find_key(s, want_sign, &key, &kt, &cert, &cert_len) != 0)
		goto out;
	phase_end();

	EVP_Digest(msg, sizeof(msg), hash, &hlen, EVP_sha256(), NULL);
	in = hash;
	in_len = hlen;
	if (kt == CKK_RSA) {
		mech.mechanism = CKM_SHA256_RSA_PKCS;
		in = msg;
		in_len = sizeof(msg);
	}
	phase_begin("C_SignInit + C_Sign");
	if (ck(p11->C_SignInit(s, &mech, key), "C_SignInit") != 0)
		goto out;
	if (want_sign && ck(p11->C_Login(s, CKU_CONTEXT_SPECIFIC,
	    (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin)), "C_Login(CONTEXT_SPECIFIC)") != 0)
		goto out;
	sig_len = sizeof(sig);
	if (ck(p11->C_Sign(s, in, in_len, sig, &sig_len), "C_Sign") != 0)
		goto out;
	phase_end();

	phase_begin("verify (OpenSSL)");
	if (verify(cert, cert_len, kt, msg, sizeof(msg), sig, sig_len) != 0) {
		fprintf(stderr, "bench_pkcs11: the signature does not verify\n");
		goto out;
	}
	phase_end();
	rc = 0;
out:
	if (s != CK_INVALID_HANDLE)
		(void)p11->C_CloseSession(s);
	if (inited)
		(void)p11->C_Finalize(NULL);
	for (i = 0; i < nphases; i++) {
		if (phases[i].apdus >= 0)
			printf("  %-28s %8.1f ms  %3ld APDUs\n", phases[i].name, phases[i].ms,
			    phases[i].apdus);
		else
			printf("  %-28s %8.1f ms\n", phases[i].name, phases[i].ms);
	}
	if (rc == 0) {
		/* Phases 1 and 3: C_Login, C_SignInit + C_Sign (and the
		 * context-specific login of the signature key). */
		if (phases[1].apdus >= 0 && phases[3].apdus >= 0)
			printf("  %-28s %8.1f ms  %3ld APDUs  (goal: at most 5 with a warm cache)\n",
			    "PIN + sign", phases[1].ms + phases[3].ms,
			    phases[1].apdus + phases[3].apdus);
		if (total_apdus >= 0)
			printf("  %-28s %8.1f ms  %3ld APDUs  (%s key, %s, verified)\n", "total",
			    total_ms, total_apdus, want_sign ? "signature" : "authentication",
			    kt == CKK_RSA ? "RSA" : "EC");
		else
			printf("  %-28s %8.1f ms  (%s key, verified)\n", "total", total_ms,
			    want_sign ? "signature" : "authentication");
	}
	free(cert);
	dlclose(h);
	return rc;
}
