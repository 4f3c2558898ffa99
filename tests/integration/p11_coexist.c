/*
 * p11_coexist: several programs on one card through a private pcscd
 * (run under tests/harness/with-pcscd --virtual; reader 0 holds the EC
 * card, PIN 1234), no card movement.  Issue 11; the rules are in
 * docs/card-profile.md 9 and pkcs11/README.md "Login".
 *
 *   p11_coexist MODULE coexist   two processes sign through cnie-pkcs11.so
 *                                (login once, every signature verified)
 *                                while a third lists slots and tokens in a
 *                                loop and a fourth, plain PC/SC, selects
 *                                other DFs of the card between their calls
 *                                (as `cnie-tool info` does): 0 failed
 *                                operations
 *   p11_coexist MODULE logout    one process loops login / sign / logout,
 *                                another logs in once and signs: every
 *                                signature of the second succeeds
 *   p11_coexist MODULE restart   pcscd stops and starts again under a
 *                                loaded module ($CNIE_PCSCD_RESTART of the
 *                                harness): the old session gets
 *                                CKR_DEVICE_REMOVED, the token comes back on
 *                                the same slot ID within 5 s, login and
 *                                signature work, C_WaitForSlotEvent reports
 *                                the removal and the return
 *   p11_coexist MODULE chaos SECONDS CNIE-SIM
 *                                random remove / insert / reset of the card
 *                                in reader 0 every 50-500 ms while two
 *                                processes sign and verify and a plain
 *                                PC/SC program reads other DFs: fails on a
 *                                crash, a hang (> 10 s in one operation), a
 *                                signature that does not verify, or a PIN
 *                                try lost; clean errors counted by kind
 *   p11_coexist MODULE worker READER NAME
 *                                one chaos signer alone on the reader whose
 *                                name starts with READER, until SIGTERM
 *                                (tests/integration/desktop_mix.py runs
 *                                several beside cnied and cnie-tool); its
 *                                last line: "NAME: ops=N clean=N other=N
 *                                wrong=N kinds=NAME:N,..." (exit 3 on a
 *                                wrong signature, killed by SIGALRM on a
 *                                hang)
 *   p11_coexist MODULE pinpad_removed CNIE-SIM
 *                                the card is pulled while the PIN pad waits
 *                                for the PIN: C_Login answers
 *                                CKR_DEVICE_REMOVED, the slot shows no token
 *
 * Prints one line per process with its counts; exit 0 when every
 * operation succeeded and each process did its share.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <PCSC/winscard.h>

#include "p11_v3.h"

/* The test card's PIN (tests/cards/ec.json); C_Login takes a non-const pointer. */
static CK_UTF8CHAR pin[] = "1234";
#define READER "CNIE Virtual Contact Reader"
#define SIGNS 40	  /* signatures per signing process */
#define INTERFERE_MIN 10 /* other-program transactions that must have run */

static const char *module_path;
static const char *reader_name = READER;

typedef struct p11 {
	void *dl;
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
} p11;

/* Loads the module, initialises it and finds the contact reader's slot. */
static int
p11_load(p11 *p)
{
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;
	CK_SLOT_INFO si;

	memset(p, 0, sizeof(*p));
	if ((p->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList")) == NULL ||
	    gfl(&p->f) != CKR_OK || p->f->C_Initialize(NULL) != CKR_OK)
		return -1;
	if (p->f->C_GetSlotList(CK_FALSE, slots, &n) != CKR_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (p->f->C_GetSlotInfo(slots[i], &si) == CKR_OK &&
		    memcmp(si.slotDescription, reader_name, strlen(reader_name)) == 0) {
			p->slot = slots[i];
			return 0;
		}
	}
	return -1;
}

static void
p11_unload(p11 *p)
{
	if (p->f != NULL)
		p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
}

/* The authentication key (no CKA_ALWAYS_AUTHENTICATE) and its certificate's public key. */
static int
find_key(p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key, EVP_PKEY **pub)
{
	CK_OBJECT_CLASS kc = CKO_PRIVATE_KEY, cc = CKO_CERTIFICATE;
	CK_ATTRIBUTE kq = { CKA_CLASS, &kc, sizeof(kc) };
	CK_OBJECT_HANDLE h[8], cert;
	CK_ULONG n = 0, i, one = 0;
	CK_BBOOL always = CK_FALSE;
	CK_BYTE id[64], der[4096];
	CK_ATTRIBUTE ka[2] = { { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) },
		{ CKA_ID, id, sizeof(id) } };
	CK_ATTRIBUTE cq[2] = { { CKA_CLASS, &cc, sizeof(cc) }, { CKA_ID, id, 0 } };
	CK_ATTRIBUTE cv = { CKA_VALUE, der, sizeof(der) };
	const unsigned char *dp = der;
	X509 *x;

	*pub = NULL;
	if (p->f->C_FindObjectsInit(s, &kq, 1) != CKR_OK)
		return -1;
	p->f->C_FindObjects(s, h, 8, &n);
	p->f->C_FindObjectsFinal(s);
	for (i = 0; i < n; i++) {
		ka[1].ulValueLen = sizeof(id);
		if (p->f->C_GetAttributeValue(s, h[i], ka, 2) == CKR_OK && !always)
			break;
	}
	if (i == n)
		return -1;
	*key = h[i];
	cq[1].ulValueLen = ka[1].ulValueLen;
	if (p->f->C_FindObjectsInit(s, cq, 2) != CKR_OK)
		return -1;
	p->f->C_FindObjects(s, &cert, 1, &one);
	p->f->C_FindObjectsFinal(s);
	if (one != 1 || p->f->C_GetAttributeValue(s, cert, &cv, 1) != CKR_OK)
		return -1;
	if ((x = d2i_X509(NULL, &dp, (long)cv.ulValueLen)) == NULL)
		return -1;
	*pub = X509_get_pubkey(x);
	X509_free(x);
	return *pub != NULL ? 0 : -1;
}

/* The RSA card (tests/cards/rsa.json): CKM_SHA256_RSA_PKCS of msg, verified. */
static CK_RV
sign_verified_rsa(p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, EVP_PKEY *pub,
    CK_BYTE *msg, CK_ULONG ml)
{
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[512];
	CK_ULONG sl = sizeof(sig);
	EVP_MD_CTX *md;
	int ok;
	CK_RV rv;

	if ((rv = p->f->C_SignInit(s, &m, key)) != CKR_OK ||
	    (rv = p->f->C_Sign(s, msg, ml, sig, &sl)) != CKR_OK)
		return rv;
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(md, sig, sl, msg, ml) == 1;
	EVP_MD_CTX_free(md);
	return ok ? CKR_OK : CKR_SIGNATURE_INVALID;
}

/*
 * One signature of a fresh hash, verified: CKR_OK only when it verifies
 * (ECDSA; CKM_SHA256_RSA_PKCS for an RSA key).
 */
static CK_RV
sign_verified(p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, EVP_PKEY *pub, unsigned seq)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32], sig[132], der[160];
	CK_ULONG sl = sizeof(sig);
	unsigned char *dp = der;
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *es;
	BIGNUM *r, *sv;
	int len, ok;
	CK_RV rv;

	memset(hash, 0, sizeof(hash));
	memcpy(hash, &seq, sizeof(seq));
	hash[31] = (CK_BYTE)getpid();
	if (EVP_PKEY_base_id(pub) == EVP_PKEY_RSA)
		return sign_verified_rsa(p, s, key, pub, hash, sizeof(hash));
	if ((rv = p->f->C_SignInit(s, &m, key)) != CKR_OK ||
	    (rv = p->f->C_Sign(s, hash, sizeof(hash), sig, &sl)) != CKR_OK)
		return rv;
	if (sl == 0 || sl % 2 != 0 || (es = ECDSA_SIG_new()) == NULL)
		return CKR_GENERAL_ERROR;
	r = BN_bin2bn(sig, (int)(sl / 2), NULL);
	sv = BN_bin2bn(sig + sl / 2, (int)(sl / 2), NULL);
	if (r == NULL || sv == NULL || ECDSA_SIG_set0(es, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(es);
		return CKR_GENERAL_ERROR;
	}
	len = i2d_ECDSA_SIG(es, &dp);
	ECDSA_SIG_free(es);
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	ok = len > 0 && ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_verify(ctx, der, (size_t)len, hash, sizeof(hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? CKR_OK : CKR_SIGNATURE_INVALID;
}

/* ---- the processes ------------------------------------------------------ */

/* Set by SIGTERM: the process finishes its current operation and reports. */
static volatile sig_atomic_t stop;
/* Read end of the start barrier: closed by the parent once all are spawned. */
static int start_fd = -1, start_wfd = -1;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Installs the SIGTERM handler and waits until every process exists. */
static void
ready(void)
{
	struct sigaction sa;
	char ch;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	while (read(start_fd, &ch, 1) > 0)
		;
}

/*
 * Logs in (once, or before each signature with relogin) and signs at
 * least SIGNS times, and on until SIGTERM when until_stopped.  Exit
 * status: 0 when every operation succeeded.
 */
static int
signer(const char *name, bool relogin, bool until_stopped)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	EVP_PKEY *pub = NULL;
	p11 p;
	int i, failed = 0, done = 0;
	CK_RV rv;

	ready();
	if (p11_load(&p) != 0 ||
	    p.f->C_OpenSession(p.slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		fprintf(stderr, "%s: no session\n", name);
		return 1;
	}
	if ((rv = p.f->C_Login(s, CKU_USER, pin, 4)) != CKR_OK ||
	    find_key(&p, s, &key, &pub) != 0) {
		fprintf(stderr, "%s: login or key: 0x%lx\n", name, (unsigned long)rv);
		return 1;
	}
	for (i = 0; i < SIGNS || (until_stopped && !stop); i++) {
		if (relogin && i > 0 &&
		    (rv = p.f->C_Login(s, CKU_USER, pin, 4)) != CKR_OK) {
			fprintf(stderr, "%s: C_Login %d: 0x%lx\n", name, i, (unsigned long)rv);
			failed++;
			continue;
		}
		if ((rv = sign_verified(&p, s, key, pub, (unsigned)i)) != CKR_OK) {
			if (failed < 5)
				fprintf(stderr, "%s: signature %d: 0x%lx\n", name, i,
				    (unsigned long)rv);
			failed++;
		} else {
			done++;
		}
		if (relogin && (rv = p.f->C_Logout(s)) != CKR_OK) {
			fprintf(stderr, "%s: C_Logout %d: 0x%lx\n", name, i, (unsigned long)rv);
			failed++;
		}
		/*
		 * Logged out for a while, as an application between two uses;
		 * a pause between signatures too, so that the others get their
		 * turn (pcsc-lite polls a held transaction every 100 ms).
		 */
		usleep(relogin ? 10000 : 2000);
	}
	printf("%s: %d signatures verified, %d failed operations\n", name, done, failed);
	EVP_PKEY_free(pub);
	p11_unload(&p);
	return failed == 0 && done == i ? 0 : 1;
}

/*
 * A token browser (what `pkcs11-tool -L` and NSS do on each event): loads
 * the module, checks that the slot shows its token, reads its info.
 */
static int
lister(volatile sig_atomic_t *stop_flag, int rounds)
{
	CK_SLOT_ID slots[16];
	CK_TOKEN_INFO ti;
	int i, failed = 0, done = 0;
	CK_ULONG n, k;
	p11 p;

	ready();
	for (i = 0; i < rounds && !*stop_flag; i++) {
		if (p11_load(&p) != 0) {
			failed++;
			p11_unload(&p);
			continue;
		}
		n = 16;
		if (p.f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
			failed++;
		else {
			for (k = 0; k < n && slots[k] != p.slot; k++)
				;
			if (k == n) {
				fprintf(stderr, "lister: token missing from the slot list\n");
				failed++;
			} else if (p.f->C_GetTokenInfo(p.slot, &ti) != CKR_OK) {
				fprintf(stderr, "lister: C_GetTokenInfo failed\n");
				failed++;
			} else {
				done++;
			}
		}
		p11_unload(&p);
	}
	printf("lister: %d token listings, %d failed\n", done, failed);
	return failed == 0 && done > 0 ? 0 : 1;
}

/* One APDU, SW returned (0 on a transport failure). */
static unsigned
apdu(SCARDHANDLE h, DWORD proto, const BYTE *cmd, DWORD n)
{
	BYTE resp[300];
	DWORD rl = sizeof(resp);

	if (SCardTransmit(h, proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0, cmd, n,
	    NULL, resp, &rl) != SCARD_S_SUCCESS || rl < 2)
		return 0;
	return (unsigned)(resp[rl - 2] << 8 | resp[rl - 1]);
}

/*
 * Another program on the same card, in plain PC/SC: in its own
 * transactions, selects the ICAO application, the MF and EF.DIR and reads
 * it, until told to stop.  Never resets the card or the PIN status.
 */
static int
interferer_run(bool chaos)
{
	static const BYTE sel_icao[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02,
		0x47, 0x10, 0x01 };
	static const BYTE sel_dir[] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, 0x2F, 0x00 };
	static const BYTE sel_mf[] = { 0x00, 0xA4, 0x00, 0x0C };
	static const BYTE read_dir[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
	char readers[2048], *rd = NULL;
	DWORD len = sizeof(readers), proto;
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	int done = 0, failed = 0;
	char *p;

	ready();
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS ||
	    SCardListReaders(ctx, NULL, readers, &len) != SCARD_S_SUCCESS)
		return chaos ? 0 : 1;
	for (p = readers; *p != '\0'; p += strlen(p) + 1)
		if (strncmp(p, READER, strlen(READER)) == 0)
			rd = p;
	if (rd == NULL)
		return 1;
	/*
	 * Until stopped, and in coexist mode at least INTERFERE_MIN transactions
	 * whatever the others' speed (a fast machine finished the signers after
	 * 9): the test proves nothing if the interferer hardly ran.  A failure
	 * ends it, so this cannot spin.
	 */
	while (!stop || (!chaos && done < INTERFERE_MIN && failed == 0)) {
		if (SCardConnect(ctx, rd, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
		    &h, &proto) != SCARD_S_SUCCESS) {
			/* With the card coming and going, no card is an answer too. */
			if (chaos)
				usleep(20000);
			else
				failed++;
			continue;
		}
		for (int i = 0; i < 5 && (!stop || (!chaos && done < INTERFERE_MIN)); i++) {
			if (SCardBeginTransaction(h) != SCARD_S_SUCCESS) {
				failed++;
				break;
			}
			if (apdu(h, proto, sel_icao, sizeof(sel_icao)) != 0x9000 ||
			    apdu(h, proto, sel_mf, sizeof(sel_mf)) != 0x9000 ||
			    apdu(h, proto, sel_dir, sizeof(sel_dir)) != 0x9000 ||
			    apdu(h, proto, read_dir, sizeof(read_dir)) == 0)
				failed++;
			else
				done++;
			/* Leave another DF current for the next program. */
			if (i % 2 == 0)
				apdu(h, proto, sel_icao, sizeof(sel_icao));
			SCardEndTransaction(h, SCARD_LEAVE_CARD);
			usleep(2000);
		}
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	}
	SCardReleaseContext(ctx);
	printf("%s: %d transactions on other DFs, %d failed\n", chaos ? "chaos reader" :
	    "interferer", done, failed);
	if (chaos)
		return 0; /* the card goes away under it: only crashes and hangs count */
	return failed == 0 && done >= INTERFERE_MIN ? 0 : 1;
}

static int
interferer(void)
{
	return interferer_run(false);
}

static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int rc;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(start_wfd);
		rc = fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	return pid;
}

static int
run_signer_once(void *arg)
{
	(void)arg;
	return signer("signer (login once)", false, false);
}

static int
run_signer_twice(void *arg)
{
	(void)arg;
	return signer("signer (login once, until the other stops)", false, true);
}

static int
run_relogin(void *arg)
{
	(void)arg;
	return signer("signer (login/sign/logout loop)", true, false);
}

static int
run_interferer(void *arg)
{
	(void)arg;
	return interferer();
}

static int
run_lister(void *arg)
{
	(void)arg;
	return lister(&stop, 30);
}

/* ---- card pulled during PIN-pad entry --------------------------------- */

typedef struct login_call {
	p11 *p;
	CK_SESSION_HANDLE s;
	CK_RV rv;
} login_call;

static void *
login_pinpad(void *arg)
{
	login_call *lc = arg;

	lc->rv = lc->p->f->C_Login(lc->s, CKU_USER, NULL, 0);
	return NULL;
}

/* Runs `cnie-sim --reader N ARGS`; its first output line in out (may be NULL). */
static int
sim(const char *path, int reader, const char *args, char *out, size_t cap)
{
	char cmd[1536];
	FILE *fp;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' --reader %d %s", path, reader, args);
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL && (fgets(out, (int)cap, fp) == NULL))
		out[0] = '\0';
	rc = pclose(fp);
	return rc;
}

static int
pinpad_removed(const char *sim_path)
{
	static const char pad[] = "CNIE Virtual PIN-pad Reader";
	CK_SLOT_ID slots[16], pad_slot;
	CK_SLOT_INFO si;
	CK_ULONG n = 16, i;
	pthread_t th;
	login_call lc;
	char st[512];
	int k, ok = 1;
	p11 p;

	if (p11_load(&p) != 0 || p.f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return 1;
	for (i = 0; i < n; i++)
		if (p.f->C_GetSlotInfo(slots[i], &si) == CKR_OK &&
		    memcmp(si.slotDescription, pad, strlen(pad)) == 0)
			break;
	if (i == n) {
		fprintf(stderr, "pinpad_removed: no token in the PIN-pad reader\n");
		return 1;
	}
	pad_slot = slots[i];
	memset(&lc, 0, sizeof(lc));
	lc.p = &p;
	if (p.f->C_OpenSession(pad_slot, CKF_SERIAL_SESSION, NULL, NULL, &lc.s) != CKR_OK ||
	    pthread_create(&th, NULL, login_pinpad, &lc) != 0)
		return 1;
	/* Until the pad waits for the PIN: the condition, polled (no fixed sleep). */
	for (k = 0; k < 400; k++) {
		if (sim(sim_path, 2, "status", st, sizeof(st)) == 0 &&
		    strstr(st, "\"pin_waiting\":true") != NULL)
			break;
		usleep(25000);
	}
	if (k == 400) {
		fprintf(stderr, "pinpad_removed: the pad never waited for the PIN (%s)\n", st);
		ok = 0;
	}
	if ((k = sim(sim_path, 2, "remove", st, sizeof(st))) != 0) {
		fprintf(stderr, "pinpad_removed: cnie-sim remove: %d %s\n", k, st);
		ok = 0;
	}
	pthread_join(th, NULL);
	printf("C_Login on the PIN pad, card pulled: 0x%lx (want CKR_DEVICE_REMOVED 0x%lx)\n",
	    (unsigned long)lc.rv, (unsigned long)CKR_DEVICE_REMOVED);
	if (lc.rv != CKR_DEVICE_REMOVED)
		ok = 0;
	n = 16;
	if (p.f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		ok = 0;
	for (k = 0; k < (int)n; k++) {
		if (slots[k] == pad_slot) {
			fprintf(stderr, "pinpad_removed: the slot still shows a token\n");
			ok = 0;
		}
	}
	p11_unload(&p);
	return ok ? 0 : 1;
}

/* ---- pcscd restarted under a loaded module ------------------------------ */

typedef struct waiter {
	p11 *p;
	CK_SLOT_ID slot;
	pthread_mutex_t mu;
	int events;	/* C_WaitForSlotEvent returns for slot */
	CK_RV last;
} waiter;

static void *
wait_events(void *arg)
{
	waiter *w = arg;
	CK_SLOT_ID s;
	CK_RV rv;

	for (;;) {
		rv = w->p->f->C_WaitForSlotEvent(0, &s, NULL);
		pthread_mutex_lock(&w->mu);
		w->last = rv;
		if (rv == CKR_OK && s == w->slot)
			w->events++;
		pthread_mutex_unlock(&w->mu);
		if (rv != CKR_OK)
			return NULL;
	}
}

static int
waiter_events(waiter *w)
{
	int n;

	pthread_mutex_lock(&w->mu);
	n = w->events;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* True when slot shows a token (a fresh list, as NSS reads it after an event). */
static bool
token_listed(p11 *p, CK_SLOT_ID slot)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 0, i;

	if (p->f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n > 16)
		return false;
	n = 16;
	if (p->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return false;
	for (i = 0; i < n; i++)
		if (slots[i] == slot)
			return true;
	return false;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
restart(void)
{
	const char *script = getenv("CNIE_PCSCD_RESTART");
	CK_SESSION_HANDLE s, s2;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32] = { 1 }, sig[132];
	CK_ULONG sl = sizeof(sig);
	EVP_PKEY *pub = NULL;
	char cmd[1024];
	pthread_t th;
	waiter w;
	double t0, back = -1;
	int ok = 1, k, ev_down;
	CK_RV rv;
	p11 p;

#define RCHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); ok = 0; } } while (0)
	if (script == NULL) {
		fprintf(stderr, "restart: CNIE_PCSCD_RESTART not set (run under with-pcscd)\n");
		return 1;
	}
	if (p11_load(&p) != 0 ||
	    p.f->C_OpenSession(p.slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
	    p.f->C_Login(s, CKU_USER, pin, 4) != CKR_OK || find_key(&p, s, &key, &pub) != 0 ||
	    sign_verified(&p, s, key, pub, 1) != CKR_OK) {
		fprintf(stderr, "restart: no signature before the restart\n");
		return 1;
	}
	memset(&w, 0, sizeof(w));
	w.p = &p;
	w.slot = p.slot;
	pthread_mutex_init(&w.mu, NULL);
	if (pthread_create(&th, NULL, wait_events, &w) != 0)
		return 1;

	snprintf(cmd, sizeof(cmd), "'%s' stop", script);
	RCHECK(system(cmd) == 0, "restart: cannot stop pcscd");
	rv = p.f->C_SignInit(s, &m, key);
	if (rv == CKR_OK)
		rv = p.f->C_Sign(s, hash, sizeof(hash), sig, &sl);
	RCHECK(rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID,
	    "restart: signature with pcscd stopped: 0x%lx", (unsigned long)rv);
	RCHECK(!token_listed(&p, p.slot), "restart: token listed with pcscd stopped");
	for (k = 0; k < 100 && waiter_events(&w) == 0; k++)
		usleep(50000);
	ev_down = waiter_events(&w);
	RCHECK(ev_down >= 1, "restart: no slot event for the stop");

	snprintf(cmd, sizeof(cmd), "'%s' start", script);
	RCHECK(system(cmd) == 0, "restart: cannot start pcscd");
	t0 = now_s();
	while (now_s() - t0 < 5.0) {
		if (token_listed(&p, p.slot)) {
			back = now_s() - t0;
			break;
		}
		usleep(50000);
	}
	printf("restart: token back on slot %lu after %.2f s (limit 5 s)\n",
	    (unsigned long)p.slot, back);
	RCHECK(back >= 0, "restart: token not back within 5 s");
	rv = p.f->C_SignInit(s, &m, key);
	RCHECK(rv == CKR_SESSION_HANDLE_INVALID, "restart: old session after the restart: 0x%lx",
	    (unsigned long)rv);
	for (k = 0; k < 100 && waiter_events(&w) <= ev_down; k++)
		usleep(50000);
	RCHECK(waiter_events(&w) > ev_down, "restart: no slot event for the return");
	EVP_PKEY_free(pub);
	pub = NULL;
	RCHECK(p.f->C_OpenSession(p.slot, CKF_SERIAL_SESSION, NULL, NULL, &s2) == CKR_OK &&
	    p.f->C_Login(s2, CKU_USER, pin, 4) == CKR_OK && find_key(&p, s2, &key, &pub) == 0 &&
	    sign_verified(&p, s2, key, pub, 2) == CKR_OK,
	    "restart: login and signature after the restart");
	printf("restart: %d slot events, old session refused, new login and signature %s\n",
	    waiter_events(&w), ok ? "verified" : "FAILED");
	EVP_PKEY_free(pub);
	p11_unload(&p); /* C_Finalize wakes the waiter */
	pthread_join(th, NULL);
	RCHECK(w.last == CKR_CRYPTOKI_NOT_INITIALIZED, "restart: waiter ended with 0x%lx",
	    (unsigned long)w.last);
	return ok ? 0 : 1;
#undef RCHECK
}

/* ---- chaos: the card comes and goes under load --------------------------- */

#define HANG_S 10 /* one operation longer than this is a hang */

/* Outcome kinds a signer counts; the first ones are clean. */
static const CK_RV clean_rv[] = { CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID,
	CKR_USER_NOT_LOGGED_IN, CKR_TOKEN_NOT_PRESENT, CKR_KEY_HANDLE_INVALID,
	CKR_OBJECT_HANDLE_INVALID, CKR_SESSION_CLOSED };

static bool
is_clean(CK_RV rv)
{
	size_t i;

	for (i = 0; i < sizeof(clean_rv) / sizeof(clean_rv[0]); i++)
		if (rv == clean_rv[i])
			return true;
	return false;
}

static const char *
rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED: return "DEVICE_REMOVED";
	case CKR_SESSION_HANDLE_INVALID: return "SESSION_HANDLE_INVALID";
	case CKR_USER_NOT_LOGGED_IN: return "USER_NOT_LOGGED_IN";
	case CKR_TOKEN_NOT_PRESENT: return "TOKEN_NOT_PRESENT";
	case CKR_KEY_HANDLE_INVALID: return "KEY_HANDLE_INVALID";
	case CKR_OBJECT_HANDLE_INVALID: return "OBJECT_HANDLE_INVALID";
	case CKR_SESSION_CLOSED: return "SESSION_CLOSED";
	case CKR_USER_ALREADY_LOGGED_IN: return "USER_ALREADY_LOGGED_IN";
	case CKR_DEVICE_ERROR: return "DEVICE_ERROR";
	case CKR_FUNCTION_FAILED: return "FUNCTION_FAILED";
	case CKR_GENERAL_ERROR: return "GENERAL_ERROR";
	case CKR_PIN_INCORRECT: return "PIN_INCORRECT";
	case CKR_SLOT_ID_INVALID: return "SLOT_ID_INVALID";
	default: return NULL;
	}
}

/* Outcome counts by CKR code (distinct codes, few). */
typedef struct kinds {
	CK_RV rv[16];
	unsigned n[16];
	unsigned used;
} kinds;

static void
kinds_add(kinds *k, CK_RV rv)
{
	unsigned i;

	for (i = 0; i < k->used && k->rv[i] != rv; i++)
		;
	if (i == k->used) {
		if (k->used == 16)
			return;
		k->rv[k->used++] = rv;
	}
	k->n[i]++;
}

static void
kinds_print(const kinds *k)
{
	const char *nm;
	unsigned i;

	for (i = 0; i < k->used; i++) {
		nm = rv_name(k->rv[i]);
		if (nm != NULL)
			printf("%s%s:%u", i ? "," : "", nm, k->n[i]);
		else
			printf("%s0x%lx:%u", i ? "," : "", (unsigned long)k->rv[i], k->n[i]);
	}
	if (k->used == 0)
		printf("-");
}

/*
 * Signs and verifies until SIGTERM, logging in again whenever the token
 * came back.  Exit: 0, or 3 when a signature did not verify.  SIGALRM
 * (HANG_S per operation) ends it on a hang.
 */
static int
chaos_signer(const char *name)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	EVP_PKEY *pub = NULL;
	unsigned ok = 0, clean = 0, unclean = 0, wrong = 0, seq = 0;
	CK_RV rv, first_unclean = CKR_OK;
	const char *step = "", *first_step = "";
	kinds kd;
	p11 p;

	memset(&kd, 0, sizeof(kd));
	ready();
	if (p11_load(&p) != 0) {
		fprintf(stderr, "%s: no slot for \"%s\"\n", name, reader_name);
		return 1;
	}
	while (!stop) {
		alarm(HANG_S);
		if (s == CK_INVALID_HANDLE) {
			EVP_PKEY_free(pub);
			pub = NULL;
			if (!token_listed(&p, p.slot)) {
				alarm(0);
				usleep(20000);
				continue;
			}
			step = "C_OpenSession";
			rv = p.f->C_OpenSession(p.slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
			if (rv == CKR_OK) {
				step = "C_Login";
				rv = p.f->C_Login(s, CKU_USER, pin, 4);
			}
			if (rv == CKR_OK && find_key(&p, s, &key, &pub) != 0)
				rv = CKR_DEVICE_REMOVED; /* objects gone mid-listing */
		} else {
			step = "C_Sign";
			rv = sign_verified(&p, s, key, pub, seq++);
		}
		alarm(0);
		if (rv == CKR_OK) {
			ok++;
			usleep(1000); /* an application, not a spinning loop */
			continue;
		}
		if (rv != CKR_SIGNATURE_INVALID)
			kinds_add(&kd, rv);
		if (rv == CKR_SIGNATURE_INVALID) {
			wrong++;
		} else if (is_clean(rv) || rv == CKR_USER_ALREADY_LOGGED_IN) {
			clean++;
		} else {
			if (unclean++ == 0) {
				first_unclean = rv;
				first_step = step;
			}
		}
		if (s != CK_INVALID_HANDLE)
			p.f->C_CloseSession(s);
		s = CK_INVALID_HANDLE;
	}
	EVP_PKEY_free(pub);
	p11_unload(&p);
	printf("%s: %u operations, %u clean errors, %u other errors (first: %s 0x%lx), "
	    "%u wrong signatures\n", name, ok, clean, unclean, first_step,
	    (unsigned long)first_unclean, wrong);
	printf("%s: ops=%u clean=%u other=%u wrong=%u kinds=", name, ok, clean, unclean, wrong);
	kinds_print(&kd);
	printf("\n");
	return wrong != 0 ? 3 : 0;
}

static int
run_chaos_a(void *arg)
{
	(void)arg;
	return chaos_signer("chaos signer 1");
}

static int
run_chaos_b(void *arg)
{
	(void)arg;
	return chaos_signer("chaos signer 2");
}

/* A plain PC/SC program that keeps reading while the card comes and goes. */
static int
run_chaos_reader(void *arg)
{
	(void)arg;
	return interferer_run(true);
}

/* How a child ended: 0 fine, else a counted failure (message printed). */
static int
chaos_reap(pid_t pid, const char *what, unsigned *hangs, unsigned *crashes)
{
	int st;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return 1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		printf("%s: HANG (an operation took more than %d s)\n", what, HANG_S);
		(*hangs)++;
		return 1;
	}
	if (WIFSIGNALED(st)) {
		printf("%s: CRASH (signal %d)\n", what, WTERMSIG(st));
		(*crashes)++;
		return 1;
	}
	if (WEXITSTATUS(st) == 3)
		printf("%s: WRONG signature(s)\n", what);
	return WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int
chaos(int seconds, const char *sim_path)
{
	const char *bd = getenv("CNIE_BUILD_DIR");
	char card[1024], args[1200], out[512];
	unsigned events = 0, hangs = 0, crashes = 0, kind[3] = { 0, 0, 0 };
	bool present = true;
	pid_t a, b, c;
	double t0;
	int fails = 0, k;
	CK_TOKEN_INFO ti;
	p11 p;

	if (bd == NULL) {
		fprintf(stderr, "chaos: CNIE_BUILD_DIR not set\n");
		return 1;
	}
	snprintf(card, sizeof(card), "%s/cards/ec", bd);
	srand((unsigned)getpid());
	a = spawn(run_chaos_a, NULL);
	b = spawn(run_chaos_b, NULL);
	c = spawn(run_chaos_reader, NULL);
	close(start_wfd);
	start_wfd = -1;
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		usleep((useconds_t)(50000 + rand() % 450000));
		/* 0 remove, 1 insert (when out), 2 reset (a power cycle). */
		k = !present ? 1 : rand() % 2 == 0 ? 0 : 2;
		if (k == 0)
			snprintf(args, sizeof(args), "remove");
		else if (k == 1)
			snprintf(args, sizeof(args), "insert '%s'", card);
		else
			snprintf(args, sizeof(args), "reset");
		if (sim(sim_path, 0, args, out, sizeof(out)) == 0) {
			events++;
			kind[k]++;
			present = k != 0;
		}
	}
	if (!present) {
		snprintf(args, sizeof(args), "insert '%s'", card);
		(void)sim(sim_path, 0, args, out, sizeof(out));
	}
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	kill(c, SIGTERM);
	fails += chaos_reap(a, "chaos signer 1", &hangs, &crashes);
	fails += chaos_reap(b, "chaos signer 2", &hangs, &crashes);
	fails += chaos_reap(c, "chaos reader", &hangs, &crashes);
	/* A power cycle clears the PIN status: the card's own counter shows. */
	(void)sim(sim_path, 0, "reset", out, sizeof(out));
	memset(&ti, 0, sizeof(ti));
	for (k = 0; k < 100; k++) {
		if (p11_load(&p) == 0 && token_listed(&p, p.slot) &&
		    p.f->C_GetTokenInfo(p.slot, &ti) == CKR_OK) {
			p11_unload(&p);
			break;
		}
		p11_unload(&p);
		usleep(50000);
	}
	printf("chaos: %u card events in %d s (%u removals, %u insertions, %u resets), "
	    "%u crashes, %u hangs\n", events, seconds, kind[0], kind[1], kind[2], crashes, hangs);
	if (k == 100 || (ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
	    CKF_USER_PIN_LOCKED)) != 0) {
		printf("chaos: PIN tries lost (token flags 0x%lx)\n", (unsigned long)ti.flags);
		fails++;
	} else {
		printf("chaos: PIN tries intact\n");
	}
	return fails == 0 && events >= (unsigned)seconds ? 0 : 1;
}

/* Waits for pid; true when it exited 0. */
static bool
reap(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int
main(int argc, char **argv)
{
	pid_t a, b, c = -1, d = -1;
	int start[2];
	bool ok;

	if (argc < 3) {
		fprintf(stderr, "usage: p11_coexist MODULE coexist|logout|pinpad_removed [CNIE-SIM]\n");
		return 2;
	}
	module_path = argv[1];
	setenv("CNIE_NO_CACHE", "1", 1); /* every process reads the card: more to interleave */
	if (pipe(start) != 0)
		return 2;
	start_fd = start[0];
	start_wfd = start[1];
	if (strcmp(argv[2], "coexist") == 0) {
		d = spawn(run_interferer, NULL);
		a = spawn(run_signer_once, NULL);
		b = spawn(run_signer_twice, NULL);
		c = spawn(run_lister, NULL);
		close(start[1]);
		ok = reap(a);
		kill(b, SIGTERM);
		ok = reap(b) && ok;
		ok = reap(c) && ok;
		kill(d, SIGTERM);
		ok = reap(d) && ok;
	} else if (strcmp(argv[2], "logout") == 0) {
		/* b signs from a's first login to a's last logout. */
		a = spawn(run_relogin, NULL);
		b = spawn(run_signer_twice, NULL);
		close(start[1]);
		ok = reap(a);
		kill(b, SIGTERM);
		ok = reap(b) && ok;
	} else if (strcmp(argv[2], "chaos") == 0 && argc == 5) {
		ok = chaos(atoi(argv[3]), argv[4]) == 0;
	} else if (strcmp(argv[2], "worker") == 0 && argc == 5) {
		/* Alone: no start barrier; SIGTERM ends it (ready() sets the handler). */
		close(start[0]);
		close(start[1]);
		reader_name = argv[3];
		return chaos_signer(argv[4]);
	} else if (strcmp(argv[2], "restart") == 0) {
		ok = restart() == 0;
	} else if (strcmp(argv[2], "pinpad_removed") == 0 && argc == 4) {
		ok = pinpad_removed(argv[3]) == 0;
	} else {
		fprintf(stderr, "p11_coexist: unknown test %s\n", argv[2]);
		return 2;
	}
	printf("p11_coexist %s: %s\n", argv[2], ok ? "passed" : "FAILED");
	return ok ? 0 : 1;
}
