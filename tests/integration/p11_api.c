/*
 * p11_api: cnie-pkcs11.so through dlopen(), as applications load it, run
 * under tests/harness/with-pcscd --virtual (reader 0: EC card, 1:
 * contactless, empty, 2: PIN pad with the EC card; PIN 1234).
 *
 *   p11_api MODULE CNIE-SIM TEST
 *
 * Each TEST checks exact CKR codes and real outcomes (signatures verified
 * with OpenSSL against the certificate read from the token).  Prints
 * "ok"/"FAIL" per check; exit 0 when all passed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <PCSC/winscard.h>

#include "p11_v3.h"
#include "testutil.h"

static CK_FUNCTION_LIST *f;
static const char *sim;
static int failures, checks;
static const char *module_path;

#define PIN "1234"

static const char *
rvname(CK_RV rv)
{
	static char buf[32];

	switch (rv) {
#define N(x) case x: return #x
	N(CKR_OK); N(CKR_ARGUMENTS_BAD); N(CKR_CRYPTOKI_NOT_INITIALIZED);
	N(CKR_CRYPTOKI_ALREADY_INITIALIZED); N(CKR_SLOT_ID_INVALID); N(CKR_TOKEN_NOT_PRESENT);
	N(CKR_SESSION_HANDLE_INVALID); N(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	N(CKR_BUFFER_TOO_SMALL); N(CKR_ATTRIBUTE_TYPE_INVALID); N(CKR_ATTRIBUTE_SENSITIVE);
	N(CKR_OBJECT_HANDLE_INVALID); N(CKR_KEY_HANDLE_INVALID); N(CKR_PIN_INCORRECT);
	N(CKR_PIN_LOCKED); N(CKR_USER_NOT_LOGGED_IN); N(CKR_USER_ALREADY_LOGGED_IN);
	N(CKR_DEVICE_REMOVED); N(CKR_OPERATION_NOT_INITIALIZED); N(CKR_OPERATION_ACTIVE);
	N(CKR_FUNCTION_NOT_SUPPORTED); N(CKR_MECHANISM_INVALID); N(CKR_NO_EVENT);
	N(CKR_USER_TYPE_INVALID); N(CKR_MECHANISM_PARAM_INVALID); N(CKR_KEY_TYPE_INCONSISTENT);
	N(CKR_DATA_LEN_RANGE); N(CKR_SESSION_READ_ONLY); N(CKR_RANDOM_NO_RNG);
	N(CKR_KEY_FUNCTION_NOT_PERMITTED); N(CKR_PIN_LEN_RANGE); N(CKR_DEVICE_ERROR);
	N(CKR_TOKEN_WRITE_PROTECTED); N(CKR_GENERAL_ERROR); N(CKR_FUNCTION_FAILED);
#undef N
	default:
		snprintf(buf, sizeof(buf), "0x%lx", rv);
		return buf;
	}
}

static void
check_rv(const char *what, CK_RV got, CK_RV want)
{
	checks++;
	if (got == want) {
		printf("ok   %-60s %s\n", what, rvname(got));
	} else {
		printf("FAIL %-60s got %s", what, rvname(got));
		printf(", want %s\n", rvname(want));
		failures++;
	}
	fflush(stdout);
}

static void
check(const char *what, bool cond)
{
	checks++;
	printf("%s %s\n", cond ? "ok  " : "FAIL", what);
	if (!cond)
		failures++;
	fflush(stdout);
}

static void
load(void)
{
	CK_RV (*gfl)(CK_FUNCTION_LIST **);
	void *h = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	gfl = (CK_RV(*)(CK_FUNCTION_LIST **))dlsym(h, "C_GetFunctionList");
	if (gfl == NULL || gfl(&f) != CKR_OK) {
		fprintf(stderr, "C_GetFunctionList missing\n");
		exit(2);
	}
	check_rv("C_GetFunctionList(NULL)", gfl(NULL), CKR_ARGUMENTS_BAD);
}

static void *
sym(const char *name)
{
	void *h = dlopen(module_path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	void *p = h != NULL ? dlsym(h, name) : NULL;

	if (h != NULL)
		dlclose(h);
	return p;
}

/* A writable copy of a string (Cryptoki takes non-const pointers). */
static CK_UTF8CHAR *
uc(const char *str)
{
	static CK_UTF8CHAR bufs[8][64];
	static unsigned next;
	CK_UTF8CHAR *b = bufs[next++ % 8];

	snprintf((char *)b, 64, "%s", str);
	return b;
}

static int
simctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
simctl(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null", sim, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *
card_dir(const char *name)
{
	static char buf[4096];
	const char *b = getenv("CNIE_BUILD_DIR");

	snprintf(buf, sizeof(buf), "%s/cards/%s", b != NULL ? b : ".", name);
	return buf;
}

static void
init(void)
{
	CK_RV rv = f->C_Initialize(NULL);

	if (rv != CKR_OK) {
		printf("FAIL C_Initialize: %s\n", rvname(rv));
		exit(1);
	}
}

static CK_SESSION_HANDLE
open_session(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s = 0;
	CK_ULONG n = 0;
	CK_RV rv;

	f->C_GetSlotList(CK_FALSE, NULL, &n);
	rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		printf("FAIL C_OpenSession(%lu): %s\n", slot, rvname(rv));
		exit(1);
	}
	return s;
}

static CK_RV
login(CK_SESSION_HANDLE s)
{
	return f->C_Login(s, CKU_USER, uc(PIN), 4);
}

/* Objects of a class; returns the count. */
static CK_ULONG
find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_ULONG n = 0;

	if (f->C_FindObjectsInit(s, &t, 1) != CKR_OK)
		return 0;
	f->C_FindObjects(s, out, max, &n);
	f->C_FindObjectsFinal(s);
	return n;
}

static bool
get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE t = { type, &b, sizeof(b) };

	return f->C_GetAttributeValue(s, o, &t, 1) == CKR_OK && b == CK_TRUE;
}

/* The certificate object with the same CKA_ID as key; its public key. */
static EVP_PKEY *
key_pub(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	uint8_t id[64], der[4096];
	CK_ATTRIBUTE a = { CKA_ID, id, sizeof(id) };
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, id, 0 } };
	CK_ATTRIBUTE v = { CKA_VALUE, der, sizeof(der) };
	CK_OBJECT_HANDLE c;
	CK_ULONG n = 0;
	const unsigned char *p = der;
	X509 *x;
	EVP_PKEY *pk = NULL;

	if (f->C_GetAttributeValue(s, key, &a, 1) != CKR_OK)
		return NULL;
	t[1].ulValueLen = a.ulValueLen;
	if (f->C_FindObjectsInit(s, t, 2) != CKR_OK)
		return NULL;
	f->C_FindObjects(s, &c, 1, &n);
	f->C_FindObjectsFinal(s);
	if (n != 1 || f->C_GetAttributeValue(s, c, &v, 1) != CKR_OK)
		return NULL;
	if ((x = d2i_X509(NULL, &p, (long)v.ulValueLen)) != NULL) {
		pk = X509_get_pubkey(x);
		X509_free(x);
	}
	return pk;
}

static const EVP_MD *
mech_md(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_SHA1_RSA_PKCS: case CKM_SHA1_RSA_PKCS_PSS: case CKM_ECDSA_SHA1:
		return EVP_sha1();
	case CKM_SHA224_RSA_PKCS: case CKM_SHA224_RSA_PKCS_PSS: case CKM_ECDSA_SHA224:
		return EVP_sha224();
	case CKM_SHA256_RSA_PKCS: case CKM_SHA256_RSA_PKCS_PSS: case CKM_ECDSA_SHA256:
		return EVP_sha256();
	case CKM_SHA384_RSA_PKCS: case CKM_SHA384_RSA_PKCS_PSS: case CKM_ECDSA_SHA384:
		return EVP_sha384();
	case CKM_SHA512_RSA_PKCS: case CKM_SHA512_RSA_PKCS_PSS: case CKM_ECDSA_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static CK_MECHANISM_TYPE
md_ck(const EVP_MD *md)
{
	switch (EVP_MD_get_size(md)) {
	case 20: return CKM_SHA_1;
	case 28: return CKM_SHA224;
	case 32: return CKM_SHA256;
	case 48: return CKM_SHA384;
	default: return CKM_SHA512;
	}
}

static CK_RSA_PKCS_MGF_TYPE
md_mgf(const EVP_MD *md)
{
	switch (EVP_MD_get_size(md)) {
	case 20: return CKG_MGF1_SHA1;
	case 28: return CKG_MGF1_SHA224;
	case 32: return CKG_MGF1_SHA256;
	case 48: return CKG_MGF1_SHA384;
	default: return CKG_MGF1_SHA512;
	}
}

/*
 * Verifies sig over msg for mechanism m (raw mechanisms: msg is the input
 * to the mechanism, i.e. the hash or the DigestInfo; raw_md names the hash).
 */
static bool
verify(EVP_PKEY *pk, CK_MECHANISM_TYPE m, const EVP_MD *raw_md, const uint8_t *msg,
    size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	const EVP_MD *md = mech_md(m);
	uint8_t hash[64], der[256], rec[1024];
	unsigned int hl = 0;
	size_t rl = sizeof(rec);
	EVP_PKEY_CTX *c = NULL;
	bool ok = false;

	if (md != NULL)
		EVP_Digest(msg, msg_len, hash, &hl, md, NULL);
	else {
		memcpy(hash, msg, msg_len > 64 ? 64 : msg_len);
		hl = (unsigned int)msg_len;
		md = raw_md;
	}
	if ((c = EVP_PKEY_CTX_new(pk, NULL)) == NULL)
		return false;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		unsigned char *p = der;
		int dl;
		size_t half = sig_len / 2;

		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
		    BN_bin2bn(sig + half, (int)half, NULL));
		dl = i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		ok = EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_verify(c, der, (size_t)dl, hash, hl) == 1;
	} else if (m == CKM_RSA_PKCS) {
		ok = EVP_PKEY_verify_recover_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_verify_recover(c, rec, &rl, sig, sig_len) == 1 && rl == msg_len &&
		    memcmp(rec, msg, rl) == 0;
	} else {
		bool pss = m == CKM_RSA_PKCS_PSS || (m >= CKM_SHA256_RSA_PKCS_PSS &&
		    m <= CKM_SHA512_RSA_PKCS_PSS) || m == CKM_SHA1_RSA_PKCS_PSS ||
		    m == CKM_SHA224_RSA_PKCS_PSS;

		ok = EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, md) == 1;
		if (ok && pss)
			ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 &&
			    EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) == 1;
		else if (ok)
			ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
		ok = ok && EVP_PKEY_verify(c, sig, sig_len, hash, hl) == 1;
	}
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* Private key with CKA_ALWAYS_AUTHENTICATE == want (logged-in session). */
static CK_OBJECT_HANDLE
private_key(CK_SESSION_HANDLE s, bool always)
{
	CK_OBJECT_HANDLE k[8];
	CK_ULONG n = find(s, CKO_PRIVATE_KEY, k, 8), i;

	for (i = 0; i < n; i++)
		if (get_bool(s, k[i], CKA_ALWAYS_AUTHENTICATE) == always)
			return k[i];
	return CK_INVALID_HANDLE;
}

/* One signature with the authentication key (EC: ECDSA_SHA256), verified. */
static CK_RV
sign_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, EVP_PKEY *pk, bool *verified)
{
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	uint8_t msg[100], sig[1024];
	CK_ULONG sl = sizeof(sig);
	CK_RV rv;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
		m.mechanism = CKM_SHA256_RSA_PKCS;
	memset(msg, 0x5A, sizeof(msg));
	*verified = false;
	if ((rv = f->C_SignInit(s, &m, key)) != CKR_OK)
		return rv;
	if ((rv = f->C_Sign(s, msg, sizeof(msg), sig, &sl)) != CKR_OK)
		return rv;
	*verified = verify(pk, m.mechanism, NULL, msg, sizeof(msg), sig, sl);
	return CKR_OK;
}

/* ---- tests --------------------------------------------------------------- */

static void
t_before_init(void)
{
	CK_INFO info;
	CK_ULONG n;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;

	check_rv("C_GetInfo before C_Initialize", f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_GetSlotList before C_Initialize", f->C_GetSlotList(CK_FALSE, NULL, &n),
	    CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_GetSlotInfo before", f->C_GetSlotInfo(0, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_OpenSession before", f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s),
	    CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_CloseSession before", f->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_Login before", f->C_Login(1, CKU_USER, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_Sign before", f->C_Sign(1, NULL, 0, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_EncryptInit before", f->C_EncryptInit(1, NULL, 0),
	    CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_WaitForSlotEvent before", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
	    CKR_CRYPTOKI_NOT_INITIALIZED);
	check_rv("C_Finalize before", f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	init();
	check_rv("C_GetInfo after C_Initialize", f->C_GetInfo(&info), CKR_OK);
	check("C_GetInfo: Cryptoki 2.40", info.cryptokiVersion.major == 2 &&
	    info.cryptokiVersion.minor == 40);
	check_rv("C_GetInfo(NULL)", f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_Finalize", f->C_Finalize(NULL), CKR_OK);
	check_rv("C_GetInfo after C_Finalize", f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static CK_RV cb_create(void **m) { *m = malloc(1); return CKR_OK; }
static CK_RV cb_destroy(void *m) { free(m); return CKR_OK; }
static CK_RV cb_lock(void *m) { (void)m; return CKR_OK; }
static CK_RV cb_unlock(void *m) { (void)m; return CKR_OK; }

static void
t_init_args(void)
{
	CK_C_INITIALIZE_ARGS a;
	int dummy;

	memset(&a, 0, sizeof(a));
	a.pReserved = &dummy;
	check_rv("C_Initialize pReserved != NULL", f->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.CreateMutex = cb_create;
	check_rv("C_Initialize with one mutex callback only", f->C_Initialize(&a),
	    CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.flags = CKF_OS_LOCKING_OK;
	check_rv("C_Initialize CKF_OS_LOCKING_OK", f->C_Initialize(&a), CKR_OK);
	check_rv("C_Initialize again", f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	check_rv("C_Finalize(non-NULL)", f->C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
	check_rv("C_Finalize", f->C_Finalize(NULL), CKR_OK);
	a.CreateMutex = cb_create;
	a.DestroyMutex = cb_destroy;
	a.LockMutex = cb_lock;
	a.UnlockMutex = cb_unlock;
	a.flags = 0;
	check_rv("C_Initialize with mutex callbacks", f->C_Initialize(&a), CKR_OK);
	check_rv("C_Finalize", f->C_Finalize(NULL), CKR_OK);
}

static void
t_bad_calls(void)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE s, ro;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE o[8], cert;
	CK_MECHANISM_INFO mi;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM_TYPE mt[32];
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_BYTE b = 1, sig[256], data[32];
	CK_ATTRIBUTE bad_class = { CKA_CLASS, &b, 1 };
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_ULONG sl;
	CK_OBJECT_HANDLE key;

	init();
	check_rv("C_GetSlotList(count NULL)", f->C_GetSlotList(CK_FALSE, NULL, NULL),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_GetSlotList size", f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	/* tests/harness/setup-virtual-readers: contact, contactless, PIN pad, PACE reader. */
	check("four slots (four readers)", n == 4);
	n = 1;
	check_rv("C_GetSlotList 1-entry buffer", f->C_GetSlotList(CK_FALSE, slots, &n),
	    CKR_BUFFER_TOO_SMALL);
	check("  count set to 4", n == 4);
	n = 8;
	check_rv("C_GetSlotList(tokenPresent)", f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	check("two tokens: slots 0 and 2", n == 2 && slots[0] == 0 && slots[1] == 2);
	check_rv("C_GetSlotInfo(99)", f->C_GetSlotInfo(99, &si), CKR_SLOT_ID_INVALID);
	check_rv("C_GetSlotInfo(0, NULL)", f->C_GetSlotInfo(0, NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_GetSlotInfo(0)", f->C_GetSlotInfo(0, &si), CKR_OK);
	check("slot 0: removable hardware slot with token", si.flags ==
	    (CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | CKF_TOKEN_PRESENT));
	check_rv("C_GetSlotInfo(1)", f->C_GetSlotInfo(1, &si), CKR_OK);
	check("slot 1 (contactless, empty): no token", !(si.flags & CKF_TOKEN_PRESENT));
	check_rv("C_GetTokenInfo(1) empty", f->C_GetTokenInfo(1, &ti), CKR_TOKEN_NOT_PRESENT);
	check_rv("C_GetTokenInfo(0, NULL)", f->C_GetTokenInfo(0, NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_GetTokenInfo(0)", f->C_GetTokenInfo(0, &ti), CKR_OK);
	check("token flags: login required, write protected, no PIN pad",
	    (ti.flags & (CKF_LOGIN_REQUIRED | CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED)) ==
	    (CKF_LOGIN_REQUIRED | CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED) &&
	    !(ti.flags & (CKF_PROTECTED_AUTHENTICATION_PATH | CKF_USER_PIN_COUNT_LOW)));
	check_rv("C_OpenSession without CKF_SERIAL_SESSION",
	    f->C_OpenSession(0, CKF_RW_SESSION, NULL, NULL, &s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	check_rv("C_OpenSession(phSession NULL)",
	    f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_OpenSession on the empty slot",
	    f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_TOKEN_NOT_PRESENT);
	check_rv("C_OpenSession(99)", f->C_OpenSession(99, CKF_SERIAL_SESSION, NULL, NULL, &s),
	    CKR_SLOT_ID_INVALID);
	check_rv("C_CloseSession(invalid)", f->C_CloseSession(0x12345), CKR_SESSION_HANDLE_INVALID);
	check_rv("C_OpenSession RW (write-protected token)",
	    f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	check_rv("C_OpenSession RO", f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro),
	    CKR_OK);
	check_rv("C_GetSessionInfo", f->C_GetSessionInfo(s, &info), CKR_OK);
	check("RW public session", info.state == CKS_RW_PUBLIC_SESSION && info.slotID == 0);
	check_rv("C_GetSessionInfo(NULL)", f->C_GetSessionInfo(s, NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_GetMechanismList(count NULL)", f->C_GetMechanismList(0, NULL, NULL),
	    CKR_ARGUMENTS_BAD);
	n = 0;
	check_rv("C_GetMechanismList size", f->C_GetMechanismList(0, NULL, &n), CKR_OK);
	check("EC token: 6 mechanisms", n == 6);
	n = 2;
	check_rv("C_GetMechanismList small buffer", f->C_GetMechanismList(0, mt, &n),
	    CKR_BUFFER_TOO_SMALL);
	check_rv("C_GetMechanismInfo(CKM_RSA_PKCS) on EC token",
	    f->C_GetMechanismInfo(0, CKM_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
	check_rv("C_GetMechanismInfo(CKM_ECDSA)", f->C_GetMechanismInfo(0, CKM_ECDSA, &mi), CKR_OK);
	check("CKM_ECDSA: hardware sign", (mi.flags & (CKF_HW | CKF_SIGN)) == (CKF_HW | CKF_SIGN));
	check_rv("C_FindObjectsInit(NULL template, 1)", f->C_FindObjectsInit(s, NULL, 1),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_FindObjects without init", f->C_FindObjects(s, o, 8, &n),
	    CKR_OPERATION_NOT_INITIALIZED);
	check_rv("C_FindObjectsFinal without init", f->C_FindObjectsFinal(s),
	    CKR_OPERATION_NOT_INITIALIZED);
	check_rv("C_FindObjectsInit(wrong-size CKA_CLASS)", f->C_FindObjectsInit(s, &bad_class, 1),
	    CKR_OK);
	check_rv("C_FindObjectsInit twice", f->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
	check_rv("C_FindObjects(NULL)", f->C_FindObjects(s, NULL, 8, &n), CKR_ARGUMENTS_BAD);
	n = 99;
	check_rv("C_FindObjects", f->C_FindObjects(s, o, 8, &n), CKR_OK);
	check("wrong-size template matches nothing", n == 0);
	f->C_FindObjectsFinal(s);
	check_rv("C_FindObjectsInit(all)", f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	f->C_FindObjects(s, o, 8, &n);
	f->C_FindObjectsFinal(s);
	check("public session: 5 objects (3 certificates, 2 public keys)", n == 5);
	n = find(s, CKO_PRIVATE_KEY, o, 8);
	check("no private key before login", n == 0);
	check_rv("C_GetAttributeValue(invalid object)", f->C_GetAttributeValue(s, 0xdead, &t, 1),
	    CKR_OBJECT_HANDLE_INVALID);
	n = find(s, CKO_CERTIFICATE, &cert, 1);
	check_rv("C_GetAttributeValue(NULL template)", f->C_GetAttributeValue(s, cert, NULL, 1),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_SignInit(NULL mechanism)", f->C_SignInit(s, NULL, cert), CKR_ARGUMENTS_BAD);
	check_rv("C_SignInit(invalid key)", f->C_SignInit(s, &m, 0xdead), CKR_KEY_HANDLE_INVALID);
	check_rv("C_Sign without C_SignInit", f->C_Sign(s, data, 32, sig, &sl),
	    CKR_OPERATION_NOT_INITIALIZED);
	check_rv("C_SignFinal without C_SignInit", f->C_SignFinal(s, sig, &sl),
	    CKR_OPERATION_NOT_INITIALIZED);
	check_rv("C_Login(CKU_SO)", f->C_Login(s, CKU_SO, uc(PIN), 4),
	    CKR_USER_TYPE_INVALID);
	check_rv("C_Login(type 99)", f->C_Login(s, 99, uc(PIN), 4),
	    CKR_USER_TYPE_INVALID);
	check_rv("C_Login(NULL PIN) without PIN pad", f->C_Login(s, CKU_USER, NULL, 0),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_Login(CKU_CONTEXT_SPECIFIC) without an operation",
	    f->C_Login(s, CKU_CONTEXT_SPECIFIC, uc(PIN), 4),
	    CKR_OPERATION_NOT_INITIALIZED);
	check_rv("C_Logout not logged in", f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	check_rv("C_EncryptInit", f->C_EncryptInit(s, &m, cert), CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_DigestInit", f->C_DigestInit(s, &m), CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_VerifyInit", f->C_VerifyInit(s, &m, cert), CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_GenerateRandom", f->C_GenerateRandom(s, data, 8), CKR_RANDOM_NO_RNG);
	check_rv("C_InitPIN", f->C_InitPIN(s, uc(PIN), 4), CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_InitToken", f->C_InitToken(0, uc(PIN), 4, uc("x")), CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_GetOperationState", f->C_GetOperationState(s, NULL, &n),
	    CKR_FUNCTION_NOT_SUPPORTED);
	check_rv("C_CreateObject on RO session", f->C_CreateObject(ro, &t, 1, &key),
	    CKR_SESSION_READ_ONLY);
	check_rv("C_CreateObject on RW session", f->C_CreateObject(s, &t, 1, &key),
	    CKR_TOKEN_WRITE_PROTECTED);
	check_rv("C_DestroyObject(certificate)", f->C_DestroyObject(s, cert), CKR_ACTION_PROHIBITED);
	check_rv("C_SetPIN on RO session", f->C_SetPIN(ro, uc(PIN), 4,
	    uc(PIN), 4), CKR_SESSION_READ_ONLY);
	check_rv("C_Login", login(s), CKR_OK);
	check_rv("C_Login again", login(ro), CKR_USER_ALREADY_LOGGED_IN);
	f->C_GetSessionInfo(ro, &info);
	check("login is token-wide: RO session in user state", info.state == CKS_RO_USER_FUNCTIONS);
	key = private_key(s, false);
	check("authentication key found after login", key != CK_INVALID_HANDLE);
	check_rv("C_SignInit(certificate)", f->C_SignInit(s, &m, cert), CKR_KEY_FUNCTION_NOT_PERMITTED);
	m.mechanism = CKM_RSA_PKCS;
	check_rv("C_SignInit(CKM_RSA_PKCS, EC key)", f->C_SignInit(s, &m, key),
	    CKR_KEY_TYPE_INCONSISTENT);
	m.mechanism = CKM_ECDSA;
	m.pParameter = data;
	m.ulParameterLen = 4;
	check_rv("C_SignInit(CKM_ECDSA with a parameter)", f->C_SignInit(s, &m, key),
	    CKR_MECHANISM_PARAM_INVALID);
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	m.mechanism = 0x80001234;
	check_rv("C_SignInit(unknown mechanism)", f->C_SignInit(s, &m, key), CKR_MECHANISM_INVALID);
	m.mechanism = CKM_ECDSA;
	check_rv("C_SignInit(CKM_ECDSA)", f->C_SignInit(s, &m, key), CKR_OK);
	check_rv("C_SignInit again", f->C_SignInit(s, &m, key), CKR_OPERATION_ACTIVE);
	memset(data, 1, sizeof(data));
	check_rv("C_Sign size query", f->C_Sign(s, data, 32, NULL, &sl), CKR_OK);
	check("  P-256: 64 bytes", sl == 64);
	sl = 10;
	check_rv("C_Sign 10-byte buffer", f->C_Sign(s, data, 32, sig, &sl), CKR_BUFFER_TOO_SMALL);
	check("  length set to 64", sl == 64);
	check_rv("C_Sign(NULL length)", f->C_Sign(s, data, 32, sig, NULL), CKR_ARGUMENTS_BAD);
	check_rv("  operation ended", f->C_Sign(s, data, 32, sig, &sl), CKR_OPERATION_NOT_INITIALIZED);
	f->C_SignInit(s, &m, key);
	sl = sizeof(sig);
	check_rv("C_Sign(CKM_ECDSA, 17 bytes)", f->C_Sign(s, data, 17, sig, &sl), CKR_DATA_LEN_RANGE);
	f->C_SignInit(s, &m, key);
	sl = sizeof(sig);
	check_rv("C_Sign(CKM_ECDSA, 32 bytes)", f->C_Sign(s, data, 32, sig, &sl), CKR_OK);
	check("  64-byte signature", sl == 64);
	check_rv("C_Logout", f->C_Logout(s), CKR_OK);
	check_rv("C_SignInit after logout", f->C_SignInit(s, &m, key), CKR_USER_NOT_LOGGED_IN);
	check_rv("C_CloseSession", f->C_CloseSession(s), CKR_OK);
	check_rv("C_CloseSession twice", f->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
	check_rv("C_CloseAllSessions(0)", f->C_CloseAllSessions(0), CKR_OK);
	check_rv("RO session closed too", f->C_GetSessionInfo(ro, &info), CKR_SESSION_HANDLE_INVALID);
	check_rv("C_Finalize", f->C_Finalize(NULL), CKR_OK);
}

static void
t_interfaces(void)
{
	CK_RV (*gil)(CK_INTERFACE *, CK_ULONG *) =
	    (CK_RV(*)(CK_INTERFACE *, CK_ULONG *))sym("C_GetInterfaceList");
	CK_RV (*gi)(CK_UTF8CHAR *, CK_VERSION *, CK_INTERFACE **, CK_FLAGS) =
	    (CK_RV(*)(CK_UTF8CHAR *, CK_VERSION *, CK_INTERFACE **, CK_FLAGS))sym("C_GetInterface");
	CK_INTERFACE list[4], *ip = NULL;
	CK_VERSION v240 = { 2, 40 }, v31 = { 3, 1 };
	CK_ULONG n = 0;
	const CK_VERSION *v;
	p11_function_list_3_0 *f3;
	CK_INFO info;

	check("C_GetInterfaceList and C_GetInterface exported", gil != NULL && gi != NULL);
	if (gil == NULL || gi == NULL)
		return;
	check_rv("C_GetInterfaceList(count NULL)", gil(NULL, NULL), CKR_ARGUMENTS_BAD);
	check_rv("C_GetInterfaceList size", gil(NULL, &n), CKR_OK);
	check("two interfaces", n == 2);
	n = 1;
	check_rv("C_GetInterfaceList small buffer", gil(list, &n), CKR_BUFFER_TOO_SMALL);
	n = 4;
	check_rv("C_GetInterfaceList", gil(list, &n), CKR_OK);
	check("\"PKCS 11\" 3.0 and 2.40", n == 2 &&
	    strcmp((char *)list[0].pInterfaceName, "PKCS 11") == 0 &&
	    strcmp((char *)list[1].pInterfaceName, "PKCS 11") == 0 &&
	    ((CK_VERSION *)list[0].pFunctionList)->major == 3 &&
	    ((CK_VERSION *)list[1].pFunctionList)->major == 2 &&
	    ((CK_VERSION *)list[1].pFunctionList)->minor == 40);
	check_rv("C_GetInterface(ppInterface NULL)", gi(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
	check_rv("C_GetInterface(default)", gi(NULL, NULL, &ip, 0), CKR_OK);
	v = ip != NULL ? ip->pFunctionList : NULL;
	check("default interface is 3.0", v != NULL && v->major == 3 && v->minor == 0);
	ip = NULL;
	check_rv("C_GetInterface(\"PKCS 11\", 2.40)", gi(uc("PKCS 11"), &v240, &ip, 0),
	    CKR_OK);
	check("  the 2.40 list", ip != NULL && ip->pFunctionList == (void *)f);
	ip = NULL;
	check_rv("C_GetInterface(\"Vendor\")", gi(uc("Vendor"), NULL, &ip, 0),
	    CKR_ARGUMENTS_BAD);
	check("  no interface returned", ip == NULL);
	check_rv("C_GetInterface(3.1)", gi(uc("PKCS 11"), &v31, &ip, 0),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_GetInterface(fork-safe flag)",
	    gi(uc("PKCS 11"), NULL, &ip, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
	gi(NULL, NULL, &ip, 0);
	f3 = ip->pFunctionList;
	check_rv("3.0 list: C_Initialize", f3->C_Initialize(NULL), CKR_OK);
	check_rv("3.0 list: C_GetInfo", f3->C_GetInfo(&info), CKR_OK);
	check_rv("3.0 list: C_SessionCancel(invalid)", f3->C_SessionCancel(0x77, 0),
	    CKR_SESSION_HANDLE_INVALID);
	check_rv("3.0 list: C_Finalize", f3->C_Finalize(NULL), CKR_OK);
}

static CK_ULONG
get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG v = CK_UNAVAILABLE_INFORMATION;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return CK_UNAVAILABLE_INFORMATION;
	return v;
}

/*
 * CKA_CERTIFICATE_CATEGORY: the two key certificates 1 (token user), the
 * CA's 2 (authority), CKA_TRUSTED false on all; no key carries the CA's
 * CKA_ID; the CA's CKA_VALUE is the card's EF 4333 byte for byte.
 */
static void
check_categories(CK_SESSION_HANDLE s, const CK_OBJECT_HANDLE *certs, CK_ULONG nc,
    const CK_OBJECT_HANDLE *keys, CK_ULONG nk, const CK_OBJECT_HANDLE *pubs, CK_ULONG np)
{
	static uint8_t file[4096], val[4096];
	uint8_t caid[64], id[64];
	CK_ATTRIBUTE a = { CKA_ID, caid, sizeof(caid) };
	CK_ULONG i, user = 0, ca = 0, other = 0, ca_len = 0, fl;
	CK_OBJECT_HANDLE cah = CK_INVALID_HANDLE;
	bool trusted = false, shared = false;
	char path[4200];

	for (i = 0; i < nc; i++) {
		CK_ULONG c = get_ulong(s, certs[i], CKA_CERTIFICATE_CATEGORY);

		if (c == 1)
			user++;
		else if (c == 2) {
			ca++;
			cah = certs[i];
		} else
			other++;
		trusted = trusted || get_bool(s, certs[i], CKA_TRUSTED);
	}
	check("CKA_CERTIFICATE_CATEGORY: 2 token user (1), 1 authority (2)",
	    user == 2 && ca == 1 && other == 0);
	check("CKA_TRUSTED false on every certificate", !trusted);
	if (cah == CK_INVALID_HANDLE)
		return;
	if (f->C_GetAttributeValue(s, cah, &a, 1) == CKR_OK)
		ca_len = a.ulValueLen;
	for (i = 0; i < nk + np; i++) {
		CK_ATTRIBUTE b = { CKA_ID, id, sizeof(id) };

		if (f->C_GetAttributeValue(s, i < nk ? keys[i] : pubs[i - nk], &b, 1) == CKR_OK &&
		    b.ulValueLen == ca_len && memcmp(id, caid, ca_len) == 0)
			shared = true;
	}
	check("the CA certificate has a CKA_ID of its own, no key object has it",
	    ca_len > 0 && !shared);
	snprintf(path, sizeof(path), "%s/files/3F00-A001-4333", card_dir("ec"));
	{
		ssize_t got = tu_read_file(path, file, sizeof(file));

		fl = got > 0 ? (CK_ULONG)got : 0;
	}
	a.type = CKA_VALUE;
	a.pValue = val;
	a.ulValueLen = sizeof(val);
	check("the CA certificate's CKA_VALUE is the card's EF 4333",
	    fl > 0 && f->C_GetAttributeValue(s, cah, &a, 1) == CKR_OK && a.ulValueLen == fl &&
	    memcmp(val, file, fl) == 0);
}

/* CK_TOKEN_INFO.label: "CNIE " + the serial, space padded to 32. */
static void
check_token_label(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;
	char want[32];

	check_rv("C_GetTokenInfo", f->C_GetTokenInfo(slot, &ti), CKR_OK);
	memset(want, ' ', sizeof(want));
	memcpy(want, "CNIE ", 5);
	memcpy(want + 5, ti.serialNumber, sizeof(ti.serialNumber));
	printf("  token label '%.32s', serial '%.16s'\n", (const char *)ti.label,
	    (const char *)ti.serialNumber);
	check("token label = \"CNIE \" + serial (16 hex digits), space padded",
	    memcmp(ti.label, want, 32) == 0 && ti.serialNumber[0] != ' ' &&
	    ti.serialNumber[15] != ' ');
}

static void
t_attributes(void)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE certs[4], keys[4], pubs[4];
	CK_ULONG nc, nk, np, i;
	uint8_t buf[4096], id1[64], id2[64], label1[256], label2[256], iss[1024], ser[64];
	CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
	CK_ATTRIBUTE bad[3];
	CK_BBOOL bl;
	CK_ULONG always = 0;
	const unsigned char *p;
	X509 *x = NULL;
	bool linked = true;

	init();
	s = open_session(0);
	check_rv("C_GetAttributeValue(CKA_VALUE) size query", (nc = find(s, CKO_CERTIFICATE,
	    certs, 4), f->C_GetAttributeValue(s, certs[0], &v, 1)), CKR_OK);
	check("three certificates (authentication, signature, CA); size > 0", nc == 3 &&
	    v.ulValueLen > 100 && v.ulValueLen < sizeof(buf));
	v.pValue = buf;
	v.ulValueLen -= 1;
	check_rv("CKA_VALUE one byte short", f->C_GetAttributeValue(s, certs[0], &v, 1),
	    CKR_BUFFER_TOO_SMALL);
	check("  ulValueLen = CK_UNAVAILABLE_INFORMATION", v.ulValueLen == CK_UNAVAILABLE_INFORMATION);
	v.ulValueLen = sizeof(buf);
	check_rv("CKA_VALUE", f->C_GetAttributeValue(s, certs[0], &v, 1), CKR_OK);
	p = buf;
	x = d2i_X509(NULL, &p, (long)v.ulValueLen);
	check("CKA_VALUE is the DER certificate", x != NULL && p == buf + v.ulValueLen);
	{
		CK_ATTRIBUTE t[2] = { { CKA_ISSUER, iss, sizeof(iss) },
			{ CKA_SERIAL_NUMBER, ser, sizeof(ser) } };
		unsigned char *di = NULL, *ds = NULL;
		int li = x != NULL ? i2d_X509_NAME(X509_get_issuer_name(x), &di) : 0;
		int ls = x != NULL ? i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &ds) : 0;

		check_rv("CKA_ISSUER + CKA_SERIAL_NUMBER", f->C_GetAttributeValue(s, certs[0], t, 2),
		    CKR_OK);
		check("  match the certificate", li > 0 && ls > 0 && t[0].ulValueLen == (CK_ULONG)li &&
		    memcmp(iss, di, (size_t)li) == 0 && t[1].ulValueLen == (CK_ULONG)ls &&
		    memcmp(ser, ds, (size_t)ls) == 0);
		OPENSSL_free(di);
		OPENSSL_free(ds);
	}
	X509_free(x);
	bad[0].type = CKA_LABEL;
	bad[0].pValue = label1;
	bad[0].ulValueLen = sizeof(label1);
	bad[1].type = 0x80000123;
	bad[1].pValue = buf;
	bad[1].ulValueLen = sizeof(buf);
	bad[2].type = CKA_CLASS;
	bad[2].pValue = buf;
	bad[2].ulValueLen = 1;
	check_rv("template with an unknown type", f->C_GetAttributeValue(s, certs[0], bad, 3),
	    CKR_ATTRIBUTE_TYPE_INVALID);
	check("  valid one filled, unknown and short marked", bad[0].ulValueLen > 0 &&
	    bad[0].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
	    bad[1].ulValueLen == CK_UNAVAILABLE_INFORMATION &&
	    bad[2].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	check_rv("C_Login", login(s), CKR_OK);
	nk = find(s, CKO_PRIVATE_KEY, keys, 4);
	np = find(s, CKO_PUBLIC_KEY, pubs, 4);
	check("two private keys, two public keys", nk == 2 && np == 2);
	for (i = 0; i < nk && i < 2; i++) {
		CK_ATTRIBUTE a[2] = { { CKA_ID, id1, sizeof(id1) }, { CKA_LABEL, label1, sizeof(label1) } };
		CK_ATTRIBUTE b[2] = { { CKA_ID, id2, sizeof(id2) }, { CKA_LABEL, label2, sizeof(label2) } };
		CK_ULONG j;
		bool found = false;

		f->C_GetAttributeValue(s, keys[i], a, 2);
		for (j = 0; j < nc; j++) {
			b[0].ulValueLen = sizeof(id2);
			b[1].ulValueLen = sizeof(label2);
			f->C_GetAttributeValue(s, certs[j], b, 2);
			if (a[0].ulValueLen == b[0].ulValueLen &&
			    memcmp(id1, id2, a[0].ulValueLen) == 0 && a[1].ulValueLen == b[1].ulValueLen &&
			    memcmp(label1, label2, a[1].ulValueLen) == 0)
				found = true;
		}
		linked = linked && found;
		check("private key: CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN, not extractable",
		    get_bool(s, keys[i], CKA_PRIVATE) && get_bool(s, keys[i], CKA_SENSITIVE) &&
		    get_bool(s, keys[i], CKA_SIGN) && !get_bool(s, keys[i], CKA_EXTRACTABLE) &&
		    !get_bool(s, keys[i], CKA_DECRYPT));
		always += get_bool(s, keys[i], CKA_ALWAYS_AUTHENTICATE) ? 1 : 0;
		v.type = CKA_VALUE;
		v.pValue = buf;
		v.ulValueLen = sizeof(buf);
		check_rv("private key CKA_VALUE", f->C_GetAttributeValue(s, keys[i], &v, 1),
		    CKR_ATTRIBUTE_SENSITIVE);
		check("  ulValueLen = CK_UNAVAILABLE_INFORMATION",
		    v.ulValueLen == CK_UNAVAILABLE_INFORMATION);
		v.type = CKA_PRIVATE_EXPONENT;
		v.ulValueLen = sizeof(buf);
		check_rv("private key CKA_PRIVATE_EXPONENT", f->C_GetAttributeValue(s, keys[i], &v, 1),
		    CKR_ATTRIBUTE_SENSITIVE);
	}
	check("each private key has a certificate with its CKA_ID and CKA_LABEL", linked);
	check("exactly one key with CKA_ALWAYS_AUTHENTICATE", always == 1);
	bl = CK_FALSE;
	{
		CK_ATTRIBUTE t = { CKA_PRIVATE, &bl, sizeof(bl) };
		CK_OBJECT_HANDLE o[8];
		CK_ULONG n = 0;

		f->C_FindObjectsInit(s, &t, 1);
		f->C_FindObjects(s, o, 8, &n);
		f->C_FindObjectsFinal(s);
		check("CKA_PRIVATE=false template: 5 public objects", n == 5);
	}
	check_categories(s, certs, nc, keys, nk, pubs, np);
	check_token_label(0);
	f->C_Finalize(NULL);
}

/* Every mechanism of the token, single- and multi-part, on every key. */
static void
t_sign_all(void)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE keys[4];
	CK_MECHANISM_TYPE mt[32];
	CK_ULONG nk, nm = 32, i, j;
	uint8_t msg[777], sig[1024], in[128];
	char what[160];
	static const EVP_MD *(*const raw_mds[])(void) = { EVP_sha1, EVP_sha224, EVP_sha256,
		EVP_sha384, EVP_sha512 };

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	init();
	s = open_session(0);
	check_rv("C_Login", login(s), CKR_OK);
	nk = find(s, CKO_PRIVATE_KEY, keys, 4);
	check_rv("C_GetMechanismList", f->C_GetMechanismList(0, mt, &nm), CKR_OK);
	for (i = 0; i < nk; i++) {
		EVP_PKEY *pk = key_pub(s, keys[i]);
		bool always = get_bool(s, keys[i], CKA_ALWAYS_AUTHENTICATE);

		check("public key from the certificate", pk != NULL);
		if (pk == NULL)
			continue;
		for (j = 0; j < nm; j++) {
			const EVP_MD *md = mech_md(mt[j]);
			size_t r, nraw = md != NULL ? 1 : 5;

			for (r = 0; r < nraw; r++) {
				CK_RSA_PKCS_PSS_PARAMS pss;
				CK_MECHANISM m = { mt[j], NULL, 0 };
				const EVP_MD *hmd = md != NULL ? md : raw_mds[r]();
				uint8_t *data = msg;
				size_t dlen = sizeof(msg);
				unsigned int hl = 0;
				int part;

				if (md == NULL) {
					/* Raw: the hash, or for CKM_RSA_PKCS its DigestInfo. */
					EVP_Digest(msg, sizeof(msg), in + 19, &hl, hmd, NULL);
					data = in + 19;
					dlen = hl;
					if (mt[j] == CKM_RSA_PKCS) {
						static const uint8_t di256[19] = { 0x30, 0x31, 0x30, 0x0d,
							0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
							0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
						if (hl != 32)
							continue;
						memcpy(in, di256, 19);
						data = in;
						dlen = 19 + 32;
					}
				}
				if (mt[j] == CKM_RSA_PKCS_PSS || (mt[j] >= CKM_SHA256_RSA_PKCS_PSS &&
				    mt[j] <= CKM_SHA512_RSA_PKCS_PSS) || mt[j] == CKM_SHA1_RSA_PKCS_PSS ||
				    mt[j] == CKM_SHA224_RSA_PKCS_PSS) {
					pss.hashAlg = md_ck(hmd);
					pss.mgf = md_mgf(hmd);
					pss.sLen = (CK_ULONG)EVP_MD_get_size(hmd);
					m.pParameter = &pss;
					m.ulParameterLen = sizeof(pss);
				}
				for (part = 0; part < (md != NULL ? 2 : 1); part++) {
					CK_ULONG sl = sizeof(sig);
					CK_RV rv;
					bool ok;

					snprintf(what, sizeof(what), "key %lu mech 0x%lx %s%s%s", i, mt[j],
					    md == NULL ? EVP_MD_get0_name(hmd) : "",
					    part ? " multi-part" : " single-part",
					    always ? " (always-auth)" : "");
					rv = f->C_SignInit(s, &m, keys[i]);
					if (rv == CKR_OK && always) {
						CK_ULONG x = sizeof(sig);

						if (part == 0 && r == 0 && j == 0)
							check_rv("always-auth key: C_Sign without context login",
							    f->C_Sign(s, data, dlen, sig, &x),
							    CKR_USER_NOT_LOGGED_IN);
						if (part == 0 && r == 0 && j == 0)
							rv = f->C_SignInit(s, &m, keys[i]);
						if (rv == CKR_OK)
							rv = f->C_Login(s, CKU_CONTEXT_SPECIFIC,
							    uc(PIN), 4);
					}
					if (rv == CKR_OK && part == 0) {
						rv = f->C_Sign(s, data, dlen, sig, &sl);
					} else if (rv == CKR_OK) {
						rv = f->C_SignUpdate(s, data, 100);
						if (rv == CKR_OK)
							rv = f->C_SignUpdate(s, data + 100, dlen - 100);
						if (rv == CKR_OK)
							rv = f->C_SignFinal(s, NULL, &sl);
						if (rv == CKR_OK)
							rv = f->C_SignFinal(s, sig, &sl);
					}
					ok = rv == CKR_OK && verify(pk, mt[j], hmd, data, dlen, sig, sl);
					if (rv != CKR_OK)
						printf("     (%s)\n", rvname(rv));
					check(what, ok);
				}
			}
		}
		EVP_PKEY_free(pk);
	}
	if (nm > 0) {
		CK_MECHANISM m = { CKM_RSA_PKCS_PSS, NULL, 0 };
		CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 20 };
		CK_OBJECT_HANDLE k = private_key(s, false);

		m.pParameter = &pss;
		m.ulParameterLen = sizeof(pss);
		if (mt[0] == CKM_RSA_PKCS) {
			check_rv("PSS sLen 20 with SHA-256", f->C_SignInit(s, &m, k),
			    CKR_MECHANISM_PARAM_INVALID);
			pss.sLen = 32;
			pss.mgf = CKG_MGF1_SHA1;
			check_rv("PSS MGF1-SHA1 with SHA-256", f->C_SignInit(s, &m, k),
			    CKR_MECHANISM_PARAM_INVALID);
			m.ulParameterLen = 3;
			check_rv("PSS short parameter", f->C_SignInit(s, &m, k),
			    CKR_MECHANISM_PARAM_INVALID);
			m.mechanism = CKM_SHA384_RSA_PKCS_PSS;
			m.ulParameterLen = sizeof(pss);
			pss.mgf = CKG_MGF1_SHA256;
			check_rv("SHA384-PSS with hashAlg SHA-256", f->C_SignInit(s, &m, k),
			    CKR_MECHANISM_PARAM_INVALID);
		}
	}
	f->C_Finalize(NULL);
}

static CK_FLAGS
token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;

	memset(&ti, 0, sizeof(ti));
	f->C_GetTokenInfo(slot, &ti);
	return ti.flags;
}

static void
t_wrong_pin(void)
{
	CK_SESSION_HANDLE s;

	init();
	s = open_session(0);
	check_rv("C_Login wrong PIN", f->C_Login(s, CKU_USER, uc("9999"), 4),
	    CKR_PIN_INCORRECT);
	check("token flags: CKF_USER_PIN_COUNT_LOW", (token_flags(0) & (CKF_USER_PIN_COUNT_LOW |
	    CKF_USER_PIN_FINAL_TRY)) == CKF_USER_PIN_COUNT_LOW);
	check_rv("C_Login wrong PIN again", f->C_Login(s, CKU_USER, uc("9999"), 4),
	    CKR_PIN_INCORRECT);
	check("token flags: CKF_USER_PIN_FINAL_TRY", token_flags(0) & CKF_USER_PIN_FINAL_TRY);
	check_rv("C_Login PIN too short (nothing sent)", f->C_Login(s, CKU_USER,
	    uc("12"), 2), CKR_PIN_LEN_RANGE);
	check("  still the final try", token_flags(0) & CKF_USER_PIN_FINAL_TRY);
	check_rv("C_Login right PIN", login(s), CKR_OK);
	check("counter restored: no low/final/locked flag", !(token_flags(0) &
	    (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)));
	f->C_Finalize(NULL);
}

/* Until slot has (want) or has not a token; bounded, not timed. */
static bool
wait_token(CK_SLOT_ID slot, bool want)
{
	CK_SLOT_INFO si;
	int i;

	for (i = 0; i < 200; i++) {
		if (f->C_GetSlotInfo(slot, &si) == CKR_OK &&
		    ((si.flags & CKF_TOKEN_PRESENT) != 0) == want)
			return true;
		usleep(50000);
	}
	return false;
}

/*
 * Until pcscd has seen a change on slot (cnie-sim returns before pcscd's
 * polling notices); bounded, not timed.
 */
static bool
wait_slot_event(CK_SLOT_ID want)
{
	CK_SLOT_ID slot;
	int i;

	for (i = 0; i < 200; i++) {
		if (f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL) == CKR_OK && slot == want)
			return true;
		usleep(50000);
	}
	return false;
}

static void
t_blocked(void)
{
	CK_SESSION_HANDLE s;
	CK_ULONG n;

	init();
	f->C_GetSlotList(CK_FALSE, NULL, &n);
	check("cnie-sim remove", simctl("--reader 0 remove") == 0);
	check("token gone", wait_token(0, false));
	check("cnie-sim insert blocked card", simctl("--reader 0 insert %s", card_dir("blocked")) == 0);
	check("token back", wait_token(0, true));
	check("token flags: CKF_USER_PIN_LOCKED", token_flags(0) & CKF_USER_PIN_LOCKED);
	s = open_session(0);
	check_rv("C_Login on the blocked card", login(s), CKR_PIN_LOCKED);
	f->C_Finalize(NULL);
}

struct worker {
	CK_SLOT_ID slot;
	int n, ok;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	EVP_PKEY *pk;
	bool v;
	int i;

	if (f->C_OpenSession(w->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return NULL;
	k = private_key(s, false);
	pk = key_pub(s, k);
	for (i = 0; i < w->n && pk != NULL; i++)
		if (sign_once(s, k, pk, &v) == CKR_OK && v)
			w->ok++;
	EVP_PKEY_free(pk);
	f->C_CloseSession(s);
	return NULL;
}

static void
run_workers(const CK_SLOT_ID *slots, int nthreads, const char *what)
{
	pthread_t th[8];
	struct worker w[8];
	CK_SESSION_HANDLE keep[3];
	int i, total = 0;
	char buf[128];

	/* One session per slot stays open to hold the login. */
	for (i = 0; i < nthreads; i++) {
		bool seen = false;
		int j;

		for (j = 0; j < i; j++)
			seen = seen || slots[j] == slots[i];
		if (!seen) {
			keep[i < 3 ? i : 2] = open_session(slots[i]);
			check_rv("C_Login", login(keep[i < 3 ? i : 2]), CKR_OK);
		}
	}
	for (i = 0; i < nthreads; i++) {
		w[i].slot = slots[i];
		w[i].n = 5;
		w[i].ok = 0;
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].ok;
	}
	snprintf(buf, sizeof(buf), "%s: %d of %d signatures verified", what, total, 5 * nthreads);
	check(buf, total == 5 * nthreads);
}

static void
t_threads(void)
{
	static const CK_SLOT_ID slots[4] = { 0, 0, 0, 0 };

	init();
	run_workers(slots, 4, "4 threads on one token");
	f->C_Finalize(NULL);
}

static void
t_two_tokens(void)
{
	static const CK_SLOT_ID slots[4] = { 0, 2, 0, 2 };

	init();
	run_workers(slots, 4, "4 threads on two tokens (readers 0 and 2)");
	f->C_Finalize(NULL);
}

/*
 * A thread in a blocking C_WaitForSlotEvent.  waiter_start returns once the
 * thread is inside the call and blocked in pcsc-lite's wait for pcscd: it
 * announces its thread id just before the call, then tu_wait_blocked
 * watches its kernel state until it sleeps in one system call on several
 * looks in a row (SCardGetStatusChange's wait for pcscd).  A condition
 * polled to a deadline, not a sleep.
 */
struct waiter {
	CK_SLOT_ID slot;
	CK_RV rv;
	pid_t tid;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
};

static void *
waiter_run(void *arg)
{
	struct waiter *w = arg;

	w->slot = 99;
	pthread_mutex_lock(&w->mu);
	w->tid = tu_gettid();
	w->started = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->rv = f->C_WaitForSlotEvent(0, &w->slot, NULL);
	return NULL;
}

/* Starts w's thread; true once it is blocked in C_WaitForSlotEvent (10 s at most). */
static bool
waiter_start(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, waiter_run, w) != 0)
		return false;
	pthread_mutex_lock(&w->mu);
	while (!w->started)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return tu_wait_blocked(w->tid);
}

static void
waiter_join(struct waiter *w)
{
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

static void
t_events(void)
{
	CK_SLOT_ID slot = 99;
	CK_ULONG n;
	CK_RV rv = CKR_NO_EVENT;
	struct waiter w;
	CK_SESSION_HANDLE s;
	int i;

	init();
	f->C_GetSlotList(CK_FALSE, NULL, &n);
	check_rv("C_WaitForSlotEvent(NULL slot)", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_WaitForSlotEvent(DONT_BLOCK), nothing happened",
	    f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	check("cnie-sim --reader 0 remove", simctl("--reader 0 remove") == 0);
	for (i = 0; i < 200 && rv == CKR_NO_EVENT; i++) {
		rv = f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
		if (rv == CKR_NO_EVENT)
			usleep(50000);
	}
	check_rv("C_WaitForSlotEvent(DONT_BLOCK) sees the removal", rv, CKR_OK);
	check("  on slot 0", slot == 0);
	check_rv("  then no more events", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
	    CKR_NO_EVENT);
	check("slot 0 without token", wait_token(0, false));
	check("a thread blocks in C_WaitForSlotEvent", waiter_start(&w));
	check("cnie-sim --reader 0 insert ec", simctl("--reader 0 insert %s", card_dir("ec")) == 0);
	waiter_join(&w);
	check_rv("blocking C_WaitForSlotEvent sees the insertion", w.rv, CKR_OK);
	check("  on slot 0", w.slot == 0);
	check("slot 0 with token again", wait_token(0, true));
	s = open_session(0);
	check_rv("C_Login on the re-inserted card", login(s), CKR_OK);
	f->C_Finalize(NULL);
}

static void
t_finalize_wakes(void)
{
	struct waiter w;
	CK_ULONG n;

	init();
	f->C_GetSlotList(CK_FALSE, NULL, &n);
	check("a thread blocks in C_WaitForSlotEvent", waiter_start(&w));
	check_rv("C_Finalize with a blocked C_WaitForSlotEvent", f->C_Finalize(NULL), CKR_OK);
	waiter_join(&w);
	check_rv("the waiter returns", w.rv, CKR_CRYPTOKI_NOT_INITIALIZED);
	init();
	check_rv("C_Initialize again and C_Finalize", f->C_Finalize(NULL), CKR_OK);
}

/* Another program resets the card through PC/SC (SCardReconnect RESET). */
static bool
pcsc_reset_card(const char *reader)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	bool ok = false;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return false;
	if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &h, &proto) == SCARD_S_SUCCESS) {
		ok = SCardReconnect(h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
		    SCARD_RESET_CARD, &proto) == SCARD_S_SUCCESS;
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	}
	SCardReleaseContext(ctx);
	return ok;
}

/* The slot's reader name (the slot description is the reader's). */
static void
slot_reader(CK_SLOT_ID slot, char reader[65])
{
	CK_SLOT_INFO si;
	int i;

	memset(&si, ' ', sizeof(si));
	f->C_GetSlotInfo(slot, &si);
	memcpy(reader, si.slotDescription, 64);
	reader[64] = '\0';
	for (i = 63; i >= 0 && reader[i] == ' '; i--)
		reader[i] = '\0';
}

static LONG
pcsc_xfer(SCARDHANDLE h, DWORD proto, const uint8_t *cmd, DWORD n, uint16_t *sw)
{
	uint8_t resp[258];
	DWORD rl = sizeof(resp);
	LONG r = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, cmd, n,
	    NULL, resp, &rl);

	*sw = r == SCARD_S_SUCCESS && rl >= 2 ? (uint16_t)(resp[rl - 2] << 8 | resp[rl - 1]) : 0;
	return r;
}

/*
 * Another program asks the card for the user PIN's status (empty VERIFY on
 * reference 81, ISO 7816-4 11.5.6; SELECT of the PKI application first if
 * the card says 6A88).  Exit status: 0 verified, 1 not verified, 2 error.
 */
static int
pcsc_pin_status(const char *reader)
{
	static const uint8_t select_pki[] = { 0x00, 0xA4, 0x04, 0x0C, 0x08, 0xF0, 0x43, 0x4E,
		0x49, 0x45, 0x50, 0x4B, 0x49 };
	static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x81 };
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	uint16_t sw = 0;
	int ret = 2;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return 2;
	if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &h, &proto) == SCARD_S_SUCCESS) {
		if (SCardBeginTransaction(h) == SCARD_S_SUCCESS) {
			if (pcsc_xfer(h, proto, verify, sizeof(verify), &sw) == SCARD_S_SUCCESS &&
			    sw == 0x6A88 &&
			    pcsc_xfer(h, proto, select_pki, sizeof(select_pki), &sw) ==
			    SCARD_S_SUCCESS && sw == 0x9000)
				pcsc_xfer(h, proto, verify, sizeof(verify), &sw);
			SCardEndTransaction(h, SCARD_LEAVE_CARD);
		}
		if (sw == 0x9000)
			ret = 0;
		else if ((sw & 0xFFF0) == 0x63C0)
			ret = 1;
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	}
	SCardReleaseContext(ctx);
	return ret;
}

/* The PIN status another process sees: 0 verified, 1 not, 2 error. */
static int
other_process_pin_status(const char *reader)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0)
		_exit(pcsc_pin_status(reader));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 2;
	return WEXITSTATUS(st);
}

/*
 * With CNIE_PKCS11_LOGOUT=card (pkcs11/README.md "Login"; the default
 * leaves the card's PIN status to the other programs, tested by
 * tests/integration/p11_coexist.c), logout reaches the card (VERIFY
 * P1=FF): after C_Logout, after the last session of a logged-in token
 * closes, after C_CloseAllSessions, another process finds the PIN not
 * verified; C_Sign needs C_Login again.
 */
static void
t_logout(void)
{
	CK_SESSION_HANDLE s, s2;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE k;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	EVP_PKEY *pk;
	char reader[65];
	bool v = false;

	if (setenv("CNIE_PKCS11_LOGOUT", "card", 1) != 0)
		check("setenv", false);
	init();
	s = open_session(0);
	slot_reader(0, reader);
	check("another process: PIN not verified before C_Login",
	    other_process_pin_status(reader) == 1);
	check_rv("C_Logout before C_Login", f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	check_rv("C_Login", login(s), CKR_OK);
	check("another process: PIN verified after C_Login", other_process_pin_status(reader) == 0);
	k = private_key(s, false);
	pk = key_pub(s, k);
	check_rv("C_Sign", pk != NULL ? sign_once(s, k, pk, &v) : CKR_GENERAL_ERROR, CKR_OK);
	check("  verifies", v);
	check_rv("C_Logout", f->C_Logout(s), CKR_OK);
	check("another process: PIN not verified after C_Logout",
	    other_process_pin_status(reader) == 1);
	check_rv("C_GetSessionInfo", f->C_GetSessionInfo(s, &info), CKR_OK);
	check("  session public", info.state == CKS_RO_PUBLIC_SESSION);
	check_rv("C_SignInit after C_Logout", f->C_SignInit(s, &m, k), CKR_USER_NOT_LOGGED_IN);
	check_rv("C_Logout twice", f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	check_rv("C_Login again", login(s), CKR_OK);
	check_rv("C_Sign after C_Login again", pk != NULL ? sign_once(s, k, pk, &v) :
	    CKR_GENERAL_ERROR, CKR_OK);
	check("  verifies", v);

	/* Closing sessions: the login (and the card's PIN status) goes with the last one. */
	s2 = open_session(0);
	check_rv("C_CloseSession (another session still open)", f->C_CloseSession(s), CKR_OK);
	check("another process: PIN still verified", other_process_pin_status(reader) == 0);
	check_rv("C_GetSessionInfo of the other session", f->C_GetSessionInfo(s2, &info), CKR_OK);
	check("  still logged in", info.state == CKS_RO_USER_FUNCTIONS);
	check_rv("C_CloseSession of the last session", f->C_CloseSession(s2), CKR_OK);
	check("another process: PIN not verified after the last C_CloseSession",
	    other_process_pin_status(reader) == 1);
	s = open_session(0);
	check_rv("new session: C_GetSessionInfo", f->C_GetSessionInfo(s, &info), CKR_OK);
	check("  public", info.state == CKS_RO_PUBLIC_SESSION);
	check_rv("new session: C_Login", login(s), CKR_OK);
	check("another process: PIN verified", other_process_pin_status(reader) == 0);
	check_rv("C_CloseAllSessions", f->C_CloseAllSessions(0), CKR_OK);
	check("another process: PIN not verified after C_CloseAllSessions",
	    other_process_pin_status(reader) == 1);

	/* Another program logs out under us: the next signature says so, once. */
	s = open_session(0);
	check_rv("C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	{
		pid_t pid;
		int st = -1;

		if ((pid = fork()) == 0) {
			/* A second process with the module: login, logout. */
			CK_SESSION_HANDLE cs;
			CK_RV rv = f->C_Initialize(NULL);

			if (rv == CKR_OK)
				rv = f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &cs);
			if (rv == CKR_OK)
				rv = f->C_Login(cs, CKU_USER, uc(PIN), 4);
			if (rv == CKR_OK)
				rv = f->C_Logout(cs);
			f->C_Finalize(NULL);
			_exit(rv == CKR_OK ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		check("a second process logged in and out through the module",
		    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	check_rv("C_Sign: the card lost the PIN", pk != NULL ? sign_once(s, k, pk, &v) :
	    CKR_GENERAL_ERROR, CKR_USER_NOT_LOGGED_IN);
	check_rv("C_GetSessionInfo", f->C_GetSessionInfo(s, &info), CKR_OK);
	check("  session back to public", info.state == CKS_RO_PUBLIC_SESSION);
	check_rv("C_Login again", login(s), CKR_OK);
	check_rv("C_Sign", pk != NULL ? sign_once(s, k, pk, &v) : CKR_GENERAL_ERROR, CKR_OK);
	check("  verifies", v);
	EVP_PKEY_free(pk);
	f->C_Finalize(NULL);
}

static void
t_reset(void)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	CK_SLOT_INFO si;
	CK_OBJECT_HANDLE k;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	uint8_t sig[256];
	CK_ULONG sl = sizeof(sig);
	EVP_PKEY *pk;
	char reader[65];
	bool v = false;
	pid_t pid;
	int st;

	init();
	s = open_session(0);
	f->C_GetSlotInfo(0, &si);
	memcpy(reader, si.slotDescription, 64);
	reader[64] = '\0';
	for (st = 63; st >= 0 && reader[st] == ' '; st--)
		reader[st] = '\0';
	check_rv("C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	pk = key_pub(s, k);
	check_rv("C_SignInit", f->C_SignInit(s, &m, k), CKR_OK);
	/* A second process resets the card between C_Login and C_Sign. */
	if ((pid = fork()) == 0)
		_exit(pcsc_reset_card(reader) ? 0 : 1);
	waitpid(pid, &st, 0);
	check("another process reset the card (SCardReconnect RESET)",
	    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_rv("C_Sign after the reset: login lost", f->C_Sign(s, uc("x"), 1, sig, &sl),
	    CKR_USER_NOT_LOGGED_IN);
	check_rv("C_GetSessionInfo", f->C_GetSessionInfo(s, &info), CKR_OK);
	check("session back to public", info.state == CKS_RO_PUBLIC_SESSION);
	check_rv("C_Login again", login(s), CKR_OK);
	check_rv("C_Sign works again", sign_once(s, k, pk, &v), CKR_OK);
	check("  and verifies", v);

	/* cnie-sim reset is a power cycle the reader shows as removal. */
	check("cnie-sim --reader 0 reset", simctl("--reader 0 reset") == 0);
	check("pcscd saw it", wait_slot_event(0));
	check_rv("C_SignInit + C_Sign after cnie-sim reset",
	    f->C_SignInit(s, &m, k) == CKR_OK ? f->C_Sign(s, uc("x"), 1, sig, &sl) :
	    CKR_GENERAL_ERROR, CKR_DEVICE_REMOVED);
	check_rv("old session invalid", f->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);
	EVP_PKEY_free(pk);
	s = open_session(0);
	check_rv("new session: C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	pk = key_pub(s, k);
	check_rv("new session: C_Sign", pk != NULL ? sign_once(s, k, pk, &v) : CKR_GENERAL_ERROR,
	    CKR_OK);
	check("  and verifies", v);
	EVP_PKEY_free(pk);
	f->C_Finalize(NULL);
}

static void
t_removal(void)
{
	CK_SESSION_HANDLE s, s2;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE k;
	CK_ATTRIBUTE t = { CKA_ID, NULL, 0 };

	init();
	s = open_session(0);
	check_rv("C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	check("cnie-sim remove", simctl("--reader 0 remove") == 0);
	check("pcscd saw it", wait_slot_event(0));
	check_rv("C_GetSessionInfo after removal", f->C_GetSessionInfo(s, &info), CKR_DEVICE_REMOVED);
	check_rv("then the session is invalid", f->C_GetSessionInfo(s, &info),
	    CKR_SESSION_HANDLE_INVALID);
	check_rv("C_OpenSession without card", f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL,
	    &s2), CKR_TOKEN_NOT_PRESENT);
	check("cnie-sim insert", simctl("--reader 0 insert %s", card_dir("ec")) == 0);
	check("token back", wait_token(0, true));
	s2 = open_session(0);
	f->C_GetSessionInfo(s2, &info);
	check("re-inserted card: a new token, logged out", info.state == CKS_RO_PUBLIC_SESSION);
	check_rv("old key handle invalid on the new token", f->C_GetAttributeValue(s2, k, &t, 1),
	    CKR_OBJECT_HANDLE_INVALID);
	f->C_Finalize(NULL);
}

static void
t_fork(void)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	EVP_PKEY *pk;
	CK_INFO info;
	pid_t pid;
	bool v = false;
	int st;

	init();
	s = open_session(0);
	check_rv("parent: C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	pk = key_pub(s, k);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		CK_SESSION_HANDLE cs;
		CK_OBJECT_HANDLE ck;
		EVP_PKEY *cpk;
		int bad = 0;

		bad += f->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED;
		bad += f->C_Initialize(NULL) != CKR_OK;
		cs = open_session(0);
		bad += login(cs) != CKR_OK;
		ck = private_key(cs, false);
		cpk = key_pub(cs, ck);
		bad += cpk == NULL || sign_once(cs, ck, cpk, &v) != CKR_OK || !v;
		EVP_PKEY_free(cpk);
		bad += f->C_Finalize(NULL) != CKR_OK;
		_exit(bad == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	check("child: not initialised, then C_Initialize, login, sign, verify",
	    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_rv("parent: C_Sign after the child", sign_once(s, k, pk, &v), CKR_OK);
	check("  and verifies", v);
	EVP_PKEY_free(pk);
	f->C_Finalize(NULL);
}

static void
t_pinpad(void)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	EVP_PKEY *pk;
	bool v = false;

	init();
	s = open_session(2);
	check("PIN-pad slot: CKF_PROTECTED_AUTHENTICATION_PATH",
	    token_flags(2) & CKF_PROTECTED_AUTHENTICATION_PATH);
	check("cnie-sim --reader 2 keys 9999", simctl("--reader 2 keys 9999") == 0);
	check_rv("C_Login(NULL PIN), wrong PIN typed", f->C_Login(s, CKU_USER, NULL, 0),
	    CKR_PIN_INCORRECT);
	check("cnie-sim --reader 2 keys cancel", simctl("--reader 2 keys cancel") == 0);
	check_rv("C_Login(NULL PIN), Cancel pressed", f->C_Login(s, CKU_USER, NULL, 0),
	    CKR_FUNCTION_CANCELED);
	check("cnie-sim --reader 2 keys 1234", simctl("--reader 2 keys 1234") == 0);
	check_rv("C_Login(NULL PIN) on the PIN pad", f->C_Login(s, CKU_USER, NULL, 0), CKR_OK);
	k = private_key(s, false);
	pk = key_pub(s, k);
	check_rv("C_Sign", pk != NULL ? sign_once(s, k, pk, &v) : CKR_GENERAL_ERROR, CKR_OK);
	check("  and verifies", v);
	EVP_PKEY_free(pk);
	f->C_Finalize(NULL);
}

static void
t_set_pin(void)
{
	CK_SESSION_HANDLE s, ps;

	init();
	/* No C_GetSlotList first: slot IDs are known from an earlier run. */
	check_rv("C_OpenSession RW", f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
	    NULL, &s), CKR_OK);
	check_rv("C_SetPIN wrong old PIN", f->C_SetPIN(s, uc("9999"), 4, uc("5678"), 4),
	    CKR_PIN_INCORRECT);
	check_rv("C_SetPIN(NULL old PIN) without PIN pad", f->C_SetPIN(s, NULL, 0, uc("5678"), 4),
	    CKR_ARGUMENTS_BAD);
	check_rv("C_SetPIN 1234 -> 5678", f->C_SetPIN(s, uc(PIN), 4, uc("5678"), 4), CKR_OK);
	check_rv("C_Login old PIN", login(s), CKR_PIN_INCORRECT);
	check_rv("C_Login new PIN", f->C_Login(s, CKU_USER, uc("5678"), 4), CKR_OK);
	check_rv("C_SetPIN 5678 -> 1234", f->C_SetPIN(s, uc("5678"), 4, uc(PIN), 4), CKR_OK);
	check_rv("C_Logout", f->C_Logout(s), CKR_OK);
	check_rv("C_Login 1234", login(s), CKR_OK);
	/* On the PIN pad: current PIN, new PIN, confirmation. */
	check_rv("C_OpenSession RW on the PIN pad",
	    f->C_OpenSession(2, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &ps), CKR_OK);
	check("cnie-sim --reader 2 keys 1234 4321 4321",
	    simctl("--reader 2 keys 1234 4321 4321") == 0);
	check_rv("C_SetPIN(NULL, NULL) on the PIN pad", f->C_SetPIN(ps, NULL, 0, NULL, 0), CKR_OK);
	check_rv("C_Login with the new PIN", f->C_Login(ps, CKU_USER, uc("4321"), 4), CKR_OK);
	f->C_Finalize(NULL);
}

/*
 * A card in the contactless reader is a token at once, with nothing sent
 * (PACE waits for a login: pkcs11/README.md "Contactless"; the logins are
 * in tests/integration/p11_contactless.sh).  A pinentry that cannot run
 * fails C_Login cleanly.
 */
static void
t_contactless(void)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot = 99;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h;
	CK_ULONG n;
	CK_RV rv = CKR_NO_EVENT;
	int i;

	setenv("CNIE_PINENTRY", "/nonexistent/pinentry", 1);
	init();
	f->C_GetSlotList(CK_FALSE, NULL, &n);
	check("cnie-sim --reader 1 insert ec", simctl("--reader 1 insert %s", card_dir("ec")) == 0);
	for (i = 0; i < 200 && (rv != CKR_OK || slot != 1); i++) {
		rv = f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
		if (rv == CKR_NO_EVENT)
			usleep(50000);
	}
	check_rv("slot event on the contactless slot", rv, CKR_OK);
	check_rv("C_GetSlotInfo(1)", f->C_GetSlotInfo(1, &si), CKR_OK);
	check("card present: a token", (si.flags & CKF_TOKEN_PRESENT) != 0);
	check_rv("C_GetTokenInfo(1)", f->C_GetTokenInfo(1, &ti), CKR_OK);
	check("label 'CNIE contactless'", memcmp(ti.label, "CNIE contactless ", 17) == 0);
	check("CKF_LOGIN_REQUIRED", (ti.flags & CKF_LOGIN_REQUIRED) != 0);
	check_rv("C_OpenSession(1)", f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &s),
	    CKR_OK);
	check_rv("C_FindObjectsInit", f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	n = 1;
	check_rv("C_FindObjects", f->C_FindObjects(s, &h, 1, &n), CKR_OK);
	check("no object before login", n == 0);
	f->C_FindObjectsFinal(s);
	check_rv("C_Login without a usable pinentry", f->C_Login(s, CKU_USER, uc("1234"), 4),
	    CKR_FUNCTION_FAILED);
	n = 0;
	f->C_GetSlotList(CK_TRUE, NULL, &n);
	check("C_GetSlotList(CK_TRUE): 3 tokens", n == 3);
	f->C_Finalize(NULL);
	unsetenv("CNIE_PINENTRY");
}

/* APDUs in pcscd's log (with-pcscd --apdu-log; CNIE_PCSCD_LOG names it). */
static long
apdu_lines(void)
{
	const char *path = getenv("CNIE_PCSCD_LOG");
	char line[4096];
	long n = 0;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "APDU: ") != NULL)
			n++;
	fclose(fp);
	return n;
}

/* Settles pcscd's log: it is written by another process. */
static long
apdu_count(void)
{
	long a, b = apdu_lines();

	do {
		a = b;
		usleep(100000);
		b = apdu_lines();
	} while (a != b);
	return b;
}

/* C_Initialize .. verified signature; returns the APDUs it took. */
static long
flow(const char *what, bool token_present)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	CK_ULONG n;
	EVP_PKEY *pk;
	bool v = false;
	long a0 = apdu_count(), a1;
	char buf[160];

	init();
	a1 = apdu_count();
	snprintf(buf, sizeof(buf), "%s: C_Initialize sends no APDU", what);
	check(buf, a1 == a0);
	/* CK_TRUE opens the card of every reader to tell whether it is a CNIE. */
	f->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, NULL, &n);
	s = open_session(0);
	check_rv("C_Login", login(s), CKR_OK);
	k = private_key(s, false);
	pk = key_pub(s, k);
	check_rv("C_Sign", pk != NULL ? sign_once(s, k, pk, &v) : CKR_GENERAL_ERROR, CKR_OK);
	check("  verified", v);
	EVP_PKEY_free(pk);
	f->C_Finalize(NULL);
	return apdu_count() - a0;
}

static void
t_apdu_count(void)
{
	char dir[] = "/tmp/p11-cache.XXXXXX";
	long cold, warm, warm_all;

	if (apdu_lines() < 0)
		exit(tu_skip("no pcscd APDU log (run under with-pcscd --apdu-log)"));
	if (mkdtemp(dir) == NULL)
		exit(2);
	setenv("XDG_CACHE_HOME", dir, 1);
	unsetenv("CNIE_NO_CACHE");
	cold = flow("cold cache", false);
	warm = flow("warm cache", false);
	warm_all = flow("warm cache, C_GetSlotList(CK_TRUE)", true);
	printf("FIGURE apdus C_Initialize..verified signature, one token (open, login, find, "
	    "sign): cold %ld, warm %ld\n", cold, warm);
	printf("FIGURE apdus same, warm, after C_GetSlotList(CK_TRUE) with 2 cards: %ld\n",
	    warm_all);
	check("warm cache needs fewer APDUs than cold", warm > 0 && warm < cold);
	/* issue 5: at most 5 card APDUs for a warm PIN + signature. */
	check("warm: at most 5 APDUs (SELECT, GET DATA, VERIFY, MSE:SET, PSO)", warm <= 5);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", dir);
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "before_init", t_before_init },
	{ "init_args", t_init_args },
	{ "bad_calls", t_bad_calls },
	{ "interfaces", t_interfaces },
	{ "attributes", t_attributes },
	{ "sign_all", t_sign_all },
	{ "wrong_pin", t_wrong_pin },
	{ "blocked", t_blocked },
	{ "threads", t_threads },
	{ "two_tokens", t_two_tokens },
	{ "events", t_events },
	{ "finalize_wakes", t_finalize_wakes },
	{ "reset", t_reset },
	{ "removal", t_removal },
	{ "fork", t_fork },
	{ "pinpad", t_pinpad },
	{ "apdu_count", t_apdu_count },
	{ "contactless", t_contactless },
	{ "set_pin", t_set_pin },
	{ "logout", t_logout },
};

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 4) {
		fprintf(stderr, "usage: p11_api MODULE CNIE-SIM TEST\n");
		return 2;
	}
	module_path = argv[1];
	sim = argv[2];
	if (getenv("XDG_CACHE_HOME") == NULL)
		setenv("CNIE_NO_CACHE", "1", 0);
	load();
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(tests[i].name, argv[3]) == 0) {
			int before = checks;

			tests[i].fn();
			printf("%s: %d checks, %d failed\n", argv[3], checks, failures);
			/* A test that checked nothing proved nothing. */
			if (checks == before) {
				printf("FAIL %s ran no check\n", argv[3]);
				return 1;
			}
			return failures == 0 ? 0 : 1;
		}
	}
	fprintf(stderr, "unknown test %s\n", argv[3]);
	return 2;
}
