/*
 * nss_restart: a long-lived NSS client (as Firefox is) across a pcscd
 * restart (issue 11, item 3).  Run under tests/harness/with-pcscd
 * --virtual; reader 0 holds the EC test card, PIN 1234.
 *
 *   nss_restart MODULE
 *
 * In one process: a fresh NSS database (a temporary directory),
 * cnie-pkcs11.so added to it (SECMOD_AddNewModule), the contact reader's
 * token found and its certificates listed; then pcscd is stopped and
 * started again through $CNIE_PCSCD_RESTART while the module stays loaded,
 * and the same NSS process must see the token again (PK11_IsPresent,
 * PK11_FindSlotByName, the certificates listed again), log in
 * (PK11_Authenticate, the password callback gives the PIN once and never
 * again on a retry) and sign (PK11_Sign), the signature verified with
 * OpenSSL against the token's certificate.  Prints the time from pcscd
 * back to the token visible through NSS; the limit is the "Done
 * when": 5 s.  Exit 0 when all held.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cert.h>
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secmod.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define READER "CNIE Virtual Contact Reader"
#define MODNAME "CNIE restart test"
#define BACK_LIMIT_S 5.0 /* the "Done when" */

static int pin_asked;

/* The PIN once; NULL on a retry: the software never re-sends a PIN. */
static char *
pin_cb(PK11SlotInfo *slot, PRBool retry, void *arg)
{
	(void)slot;
	(void)arg;
	pin_asked++;
	return retry ? NULL : PORT_Strdup("1234");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The module's slot of the contact reader (a new reference), or NULL. */
static PK11SlotInfo *
contact_slot(SECMODModule *mod)
{
	CK_SLOT_INFO si;
	int i;

	for (i = 0; i < mod->slotCount; i++) {
		if (PK11_GetSlotInfo(mod->slots[i], &si) == SECSuccess &&
		    memcmp(si.slotDescription, READER, strlen(READER)) == 0)
			return PK11_ReferenceSlot(mod->slots[i]);
	}
	return NULL;
}

/* Number of certificates NSS lists on the slot's token (-1: none/error). */
static int
count_certs(PK11SlotInfo *slot)
{
	CERTCertList *l = PK11_ListCertsInSlot(slot);
	CERTCertListNode *n;
	int k = 0;

	if (l == NULL)
		return -1;
	for (n = CERT_LIST_HEAD(l); !CERT_LIST_END(n, l); n = CERT_LIST_NEXT(n))
		k++;
	CERT_DestroyCertList(l);
	return k;
}

/* Verifies a raw r||s ECDSA signature of hash with the certificate's key. */
static bool
ec_verified(const CERTCertificate *c, const unsigned char *sig, unsigned sl,
    const unsigned char *hash, size_t hl)
{
	const unsigned char *dp = c->derCert.data;
	unsigned char der[160], *op = der;
	X509 *x = d2i_X509(NULL, &dp, (long)c->derCert.len);
	EVP_PKEY *pub = x != NULL ? X509_get_pubkey(x) : NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(sl / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + sl / 2, (int)(sl / 2), NULL);
	EVP_PKEY_CTX *ctx = NULL;
	bool ok = false;
	int len;

	if (pub != NULL && es != NULL && r != NULL && s != NULL && sl % 2 == 0 &&
	    ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL; /* owned by es */
		len = i2d_ECDSA_SIG(es, NULL);
		if (len > 0 && (size_t)len <= sizeof(der) && i2d_ECDSA_SIG(es, &op) == len &&
		    (ctx = EVP_PKEY_CTX_new(pub, NULL)) != NULL &&
		    EVP_PKEY_verify_init(ctx) == 1 &&
		    EVP_PKEY_verify(ctx, der, (size_t)len, hash, hl) == 1)
			ok = true;
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	X509_free(x);
	return ok;
}

/*
 * Logs in, then signs with the authentication key (the one without
 * CKA_ALWAYS_AUTHENTICATE) of a certificate on the slot and verifies.
 */
static bool
login_and_sign(PK11SlotInfo *slot, const char *when)
{
	CERTCertList *l;
	CERTCertListNode *n;
	unsigned char hash[32], sigbuf[160];
	SECItem h = { siBuffer, hash, sizeof(hash) }, sig = { siBuffer, sigbuf, 0 };
	SECItem aa = { siBuffer, NULL, 0 };
	bool signed_ok = false;
	int len;

	if (PK11_Authenticate(slot, PR_TRUE, NULL) != SECSuccess || !PK11_IsLoggedIn(slot, NULL)) {
		fprintf(stderr, "nss_restart: %s: PK11_Authenticate failed (NSS error %d)\n", when,
		    PORT_GetError());
		return false;
	}
	memset(hash, 0x5a, sizeof(hash));
	hash[0] = when[0];
	if ((l = PK11_ListCertsInSlot(slot)) == NULL)
		return false;
	for (n = CERT_LIST_HEAD(l); !CERT_LIST_END(n, l) && !signed_ok; n = CERT_LIST_NEXT(n)) {
		SECKEYPrivateKey *key = PK11_FindPrivateKeyFromCert(slot, n->cert, NULL);
		bool always = false;

		if (key == NULL)
			continue;
		if (PK11_ReadRawAttribute(PK11_TypePrivKey, key, CKA_ALWAYS_AUTHENTICATE, &aa) ==
		    SECSuccess) {
			always = aa.len == 1 && aa.data[0] != 0;
			SECITEM_FreeItem(&aa, PR_FALSE);
		}
		len = PK11_SignatureLen(key);
		if (!always && key->keyType == ecKey && len > 0 && (size_t)len <= sizeof(sigbuf)) {
			sig.len = (unsigned)len;
			if (PK11_Sign(key, &sig, &h) != SECSuccess) {
				fprintf(stderr, "nss_restart: %s: PK11_Sign failed (NSS error %d)\n",
				    when, PORT_GetError());
			} else if (!ec_verified(n->cert, sig.data, sig.len, hash, sizeof(hash))) {
				fprintf(stderr, "nss_restart: %s: the signature does not verify\n", when);
			} else {
				printf("nss_restart: %s: login and signature (authentication key) "
				    "verified\n", when);
				signed_ok = true;
			}
		}
		SECKEY_DestroyPrivateKey(key);
		if (!always)
			break; /* the first authentication key decides */
	}
	CERT_DestroyCertList(l);
	if (!signed_ok)
		fprintf(stderr, "nss_restart: %s: no verified signature\n", when);
	return signed_ok;
}

static int
run(const char *module, const char *script, const char *dbdir)
{
	char db[1100], cmd[1200], tokname[33];
	SECMODModule *mod = NULL;
	PK11SlotInfo *slot = NULL, *byname;
	double t0, back = -1;
	int certs, certs2, ok = 1;

	snprintf(db, sizeof(db), "sql:%s", dbdir);
	if (NSS_InitReadWrite(db) != SECSuccess) {
		fprintf(stderr, "nss_restart: NSS_InitReadWrite(%s) failed (%d)\n", db,
		    PORT_GetError());
		return 1;
	}
	PK11_SetPasswordFunc(pin_cb);
	/*
	 * "Friendly" (modutil -mechanisms FRIENDLY): the certificates are
	 * public objects, listed without a login, as the module publishes them.
	 */
	if (SECMOD_AddNewModule(MODNAME, module, PUBLIC_MECH_FRIENDLY_FLAG, 0) != SECSuccess ||
	    (mod = SECMOD_FindModule(MODNAME)) == NULL) {
		fprintf(stderr, "nss_restart: cannot add %s to NSS (%d)\n", module, PORT_GetError());
		goto fail;
	}
	if ((slot = contact_slot(mod)) == NULL || !PK11_IsPresent(slot)) {
		fprintf(stderr, "nss_restart: no token in \"%s\" through NSS\n", READER);
		goto fail;
	}
	snprintf(tokname, sizeof(tokname), "%s", PK11_GetTokenName(slot));
	certs = count_certs(slot);
	printf("nss_restart: token \"%s\", %d certificates, before the restart\n", tokname, certs);
	if (certs <= 0 || !login_and_sign(slot, "before the restart"))
		goto fail;

	snprintf(cmd, sizeof(cmd), "'%s' stop", script);
	if (system(cmd) != 0) {
		fprintf(stderr, "nss_restart: cannot stop pcscd\n");
		goto fail;
	}
	/* NSS re-reads presence at most once a second per slot. */
	for (int k = 0; k < 60 && PK11_IsPresent(slot); k++)
		usleep(50000);
	if (PK11_IsPresent(slot)) {
		fprintf(stderr, "nss_restart: NSS still shows the token with pcscd stopped\n");
		ok = 0;
	} else {
		printf("nss_restart: pcscd stopped, NSS shows no token\n");
	}
	snprintf(cmd, sizeof(cmd), "'%s' start", script);
	if (system(cmd) != 0) {
		fprintf(stderr, "nss_restart: cannot start pcscd\n");
		goto fail;
	}
	t0 = now_s();
	while (now_s() - t0 < BACK_LIMIT_S) {
		if (PK11_IsPresent(slot)) {
			back = now_s() - t0;
			break;
		}
		usleep(20000);
	}
	printf("nss_restart: pcscd back -> token visible through NSS after %.2f s (limit %.0f s)\n",
	    back, BACK_LIMIT_S);
	if (back < 0)
		goto fail;
	byname = PK11_FindSlotByName(tokname);
	if (byname == NULL || byname != slot) {
		fprintf(stderr, "nss_restart: PK11_FindSlotByName(\"%s\") %s\n", tokname,
		    byname == NULL ? "finds nothing" : "finds another slot");
		ok = 0;
	}
	if (byname != NULL)
		PK11_FreeSlot(byname);
	certs2 = count_certs(slot);
	printf("nss_restart: after the restart, %d certificates on \"%s\"\n", certs2, tokname);
	if (certs2 != certs)
		ok = 0;
	if (!login_and_sign(slot, "after the restart"))
		ok = 0;
	printf("nss_restart: PIN asked %d times (one login per card session)\n", pin_asked);
	PK11_FreeSlot(slot);
	SECMOD_DestroyModule(mod);
	if (NSS_Shutdown() != SECSuccess)
		ok = 0;
	return ok ? 0 : 1;
fail:
	if (slot != NULL)
		PK11_FreeSlot(slot);
	if (mod != NULL)
		SECMOD_DestroyModule(mod);
	NSS_Shutdown();
	return 1;
}

int
main(int argc, char **argv)
{
	const char *script = getenv("CNIE_PCSCD_RESTART");
	char dir[] = "/tmp/nss-restart.XXXXXX", cmd[128];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: nss_restart MODULE (under with-pcscd --virtual)\n");
		return 2;
	}
	if (script == NULL) {
		fprintf(stderr, "nss_restart: CNIE_PCSCD_RESTART not set (run under with-pcscd)\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL)
		return 2;
	setenv("NSS_SDB_USE_CACHE", "no", 1);
	rc = run(argv[1], script, dir);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "nss_restart: cannot remove %s\n", dir);
	printf("nss_restart: %s\n", rc == 0 ? "passed" : "FAILED");
	return rc;
}
