/*
 * The PKI application layer (src/libcnie/card.c) against the in-process reference
 * card: each test runs on a fresh copy of CNIE_BUILD_DIR/cards/<card> with
 * its own state file, so PIN counters never leak between tests.  Every
 * signature is checked with OpenSSL against the card's certificate.
 *
 *   test_card          unit tests (cmocka)
 *   test_card pcsc     the same open/verify/sign flow through PC/SC, on the
 *                      "CNIE Virtual Contact Reader" (run under with-pcscd)
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/hash.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>
#include <cnie/transport.h>

#include "unitutil.h"

#ifndef CNIE_BUILD_DIR
#error "CNIE_BUILD_DIR must name the build directory"
#endif

typedef struct fixture {
	char dir[PATH_MAX];
	cnie_card *card;
} fixture;

static int
copy_card(fixture *f, const char *name, cnie_transport **t)
{
	char tmpl[] = "/tmp/cnie-card-XXXXXX", cmd[3 * PATH_MAX], state[PATH_MAX + 16];
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/cards/%s' '%s/card'", CNIE_BUILD_DIR, name, f->dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/card", f->dir);
	snprintf(state, sizeof(state), "%s/state.json", f->dir);
	/* The blocked card's starting state ships in its directory. */
	{
		char src[PATH_MAX + 32], cp[3 * PATH_MAX];

		snprintf(src, sizeof(src), "%s/card/state.json", f->dir);
		if (access(src, F_OK) == 0) {
			snprintf(cp, sizeof(cp), "cp '%s' '%s'", src, state);
			if (system(cp) != 0)
				return -1;
		}
	}
	return cnie_refcard_open(cmd, state, false, t);
}

static int
open_copy(fixture *f, const char *name)
{
	cnie_transport *t = NULL;
	int r;

	if ((r = copy_card(f, name, &t)) != 0)
		return r;
	return cnie_card_open(t, &f->card);
}

static int
setup_card(void **state, const char *name)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || open_copy(f, name) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_ec(void **state) { return setup_card(state, "ec"); }
static int setup_rsa(void **state) { return setup_card(state, "rsa"); }
static int setup_expired(void **state) { return setup_card(state, "expired"); }
static int setup_blocked(void **state) { return setup_card(state, "blocked"); }

static int
teardown(void **state)
{
	fixture *f = *state;
	char cmd[PATH_MAX + 16];

	cnie_card_free(&f->card);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The key with this key reference. */
static void
key_by_ref(cnie_card *c, uint8_t ref, cnie_card_key_info *k)
{
	size_t n, i;

	assert_int_equal(cnie_card_key_count(c, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(cnie_card_get_key(c, i, k), 0);
		if (k->key_ref == ref)
			return;
	}
	fail_msg("no key with reference %02x", ref);
}

static EVP_PKEY *
cert_key(cnie_card *c, const cnie_card_key_info *k)
{
	const uint8_t *der, *p;
	size_t len;
	X509 *x;
	EVP_PKEY *pk;

	assert_int_equal(cnie_card_certificate(c, k->id, k->id_len, &der, &len), 0);
	p = der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_non_null(pk = X509_get_pubkey(x));
	X509_free(x);
	return pk;
}

/* ---- discovery --------------------------------------------------------- */

static void
check_discovery(cnie_card *c, cnie_card_key_type type, uint32_t auth_bits, uint32_t sign_bits)
{
	cnie_card_key_info k;
	const uint8_t *der, *p, *der2;
	size_t n, len, len2, i;
	const char *serial;
	X509 *x;

	assert_int_equal(cnie_card_key_count(c, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cnie_card_get_key(c, 2, &k), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_card_serial(c, &serial), 0);
	assert_int_equal(strlen(serial), 16);
	for (i = 0; i < 2; i++) {
		const ASN1_OCTET_STRING *ski;
		const ASN1_BIT_STRING *bits;
		uint8_t sha[SHA_DIGEST_LENGTH];

		assert_int_equal(cnie_card_get_key(c, i, &k), 0);
		assert_int_equal(k.type, type);
		if (k.key_ref == 0x81) {
			assert_int_equal(k.bits, auth_bits);
			assert_false(k.always_pin);
			assert_int_equal(k.usage, CNIE_CARD_USAGE_SIGN);
		} else {
			assert_int_equal(k.key_ref, 0x82);
			assert_int_equal(k.bits, sign_bits);
			assert_true(k.always_pin);
			assert_int_equal(k.usage,
			    CNIE_CARD_USAGE_SIGN | CNIE_CARD_USAGE_NON_REPUDIATION);
		}
		assert_int_equal(cnie_card_certificate(c, k.id, k.id_len, &der, &len), 0);
		p = der;
		assert_non_null(x = d2i_X509(NULL, &p, (long)len));
		assert_ptr_equal(p, der + len);
		/* iD = SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
		assert_non_null(ski = X509_get0_subject_key_id(x));
		assert_int_equal(ASN1_STRING_length(ski), (int)k.id_len);
		assert_memory_equal(ASN1_STRING_get0_data(ski), k.id, k.id_len);
		bits = X509_get0_pubkey_bitstr(x);
		SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), sha);
		assert_memory_equal(sha, k.id, sizeof(sha));
		X509_free(x);
		/* Cached: the same bytes, no new APDU. */
		{
			cnie_transport_stats s0, s1;

			cnie_transport_get_stats(cnie_card_transport(c), &s0);
			assert_int_equal(cnie_card_certificate(c, k.id, k.id_len, &der2, &len2), 0);
			cnie_transport_get_stats(cnie_card_transport(c), &s1);
			assert_ptr_equal(der2, der);
			assert_int_equal(len2, len);
			assert_int_equal(s1.apdus, s0.apdus);
		}
	}
	{
		uint8_t bad[20] = { 0 };

		assert_int_equal(cnie_card_certificate(c, bad, sizeof(bad), &der, &len),
		    CNIE_ERR_NOT_FOUND);
	}
}

static void
test_discovery_ec(void **state)
{
	fixture *f = *state;

	check_discovery(f->card, CNIE_CARD_KEY_EC, 256, 384);
}

static void
test_discovery_rsa(void **state)
{
	fixture *f = *state;

	check_discovery(f->card, CNIE_CARD_KEY_RSA, 2048, 3072);
}

/* Open sends only SELECT AID: the card is identified by its application. */
static void
test_open_apdus(void **state)
{
	fixture *f = *state;
	cnie_transport_stats s;

	cnie_transport_get_stats(cnie_card_transport(f->card), &s);
	assert_int_equal(s.apdus, 1);
}

/*
 * EF.DIR on request: the PKI and ICAO applications; the PKI application is
 * current again afterwards (a signature right after works).
 */
static void
test_applications(void **state)
{
	static const uint8_t pki[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };
	static const uint8_t icao[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	cnie_p15_dir *dir = NULL;
	const cnie_p15_app *app;
	uint8_t hash[32] = { 4 }, sig[128];
	size_t sl = sizeof(sig);

	assert_int_equal(cnie_card_applications(NULL, &dir), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_card_applications(f->card, &dir), 0);
	assert_int_equal(cnie_p15_dir_find(dir, pki, sizeof(pki), &app), 0);
	assert_int_equal(cnie_p15_dir_find(dir, icao, sizeof(icao), &app), 0);
	cnie_p15_dir_free(&dir);
	key_by_ref(f->card, 0x81, &k);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
}

/*
 * Every CDF certificate is listed, the keys' own and the CA's (authority),
 * and each one's DER is readable by its iD.
 */
static void
test_cert_list(void **state)
{
	fixture *f = *state;
	cnie_card_cert_info ci;
	cnie_card_key_info k;
	const uint8_t *der;
	size_t n = 0, nk = 0, len, i, j, cas = 0, matched = 0;

	assert_int_equal(cnie_card_cert_count(f->card, &n), 0);
	assert_int_equal(cnie_card_key_count(f->card, &nk), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(cnie_card_get_cert(f->card, i, &ci), 0);
		assert_true(ci.id_len > 0);
		assert_int_equal(cnie_card_certificate(f->card, ci.id, ci.id_len, &der, &len), 0);
		assert_true(len > 100 && der[0] == 0x30);
		cas += ci.authority;
		for (j = 0; j < nk; j++) {
			assert_int_equal(cnie_card_get_key(f->card, j, &k), 0);
			if (k.id_len == ci.id_len && memcmp(k.id, ci.id, ci.id_len) == 0) {
				assert_false(ci.authority);
				matched++;
			}
		}
	}
	assert_int_equal(cas, 1);
	assert_int_equal(matched, nk);
	assert_int_equal(cnie_card_get_cert(f->card, n, &ci), CNIE_ERR_NOT_FOUND);
	assert_int_equal(cnie_card_get_cert(NULL, 0, &ci), CNIE_ERR_INVALID_ARG);
}

/* ---- not a CNIE --------------------------------------------------------- */

/* A card that knows no file and no application. */
static int
blank_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	(void)ctx;
	(void)cmd;
	(void)cmd_len;
	if (*resp_len < 2)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	resp[0] = 0x6A;
	resp[1] = 0x82;
	*resp_len = 2;
	return 0;
}

static void
blank_free(void *ctx)
{
	(void)ctx;
}

static void
test_not_recognised(void **state)
{
	static const cnie_transport_ops ops = { .transmit = blank_transmit, .free = blank_free };
	cnie_transport_caps caps = { .max_cmd = 261, .max_resp = 258 };
	cnie_transport *t = NULL;
	cnie_card *c = NULL;

	(void)state;
	assert_int_equal(cnie_transport_new(&ops, NULL, &caps, "blank", &t), 0);
	assert_int_equal(cnie_card_open(t, &c), CNIE_ERR_CARD_NOT_RECOGNISED);
	assert_null(c);
	assert_int_equal(cnie_card_open(NULL, &c), CNIE_ERR_INVALID_ARG);
}

/* ---- PIN --------------------------------------------------------------- */

static void
assert_status(cnie_card *c, int tries, bool blocked, bool verified)
{
	int t = 99;
	bool b = !blocked, v = !verified;

	assert_int_equal(cnie_card_pin_status(c, &t, &b, &v), 0);
	assert_int_equal(t, tries);
	assert_int_equal(b, blocked);
	assert_int_equal(v, verified);
}

static void
test_pin_verify(void **state)
{
	fixture *f = *state;
	int tries = 99;

	assert_status(f->card, 3, false, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "9999", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	assert_status(f->card, 2, false, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", &tries), 0);
	assert_status(f->card, -1, false, true);
	/* The right PIN put the counter back to 3: a wrong one now leaves 2. */
	assert_int_equal(cnie_card_pin_verify(f->card, "0000", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
}

static void
test_pin_format(void **state)
{
	fixture *f = *state;
	cnie_transport_stats s0, s1;
	int tries = 99;

	assert_status(f->card, 3, false, false);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s0);
	assert_int_equal(cnie_card_pin_verify(f->card, "123", &tries), CNIE_ERR_PIN_FORMAT);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234567890123", &tries),
	    CNIE_ERR_PIN_FORMAT);
	assert_int_equal(cnie_card_pin_verify(f->card, "12a4", &tries), CNIE_ERR_PIN_FORMAT);
	assert_int_equal(cnie_card_pin_verify(f->card, "", &tries), CNIE_ERR_PIN_FORMAT);
	assert_int_equal(cnie_card_pin_change(f->card, "1234", "12", &tries),
	    CNIE_ERR_PIN_FORMAT);
	assert_int_equal(cnie_card_pin_unblock(f->card, "1234567", "1234", &tries),
	    CNIE_ERR_PIN_FORMAT);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s1);
	assert_int_equal(s1.apdus, s0.apdus); /* nothing sent */
	assert_int_equal(tries, 99);
	assert_status(f->card, 3, false, false);
}

static void
test_pin_blocked_unblock(void **state)
{
	fixture *f = *state;
	int tries = 99;

	assert_status(f->card, 0, true, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", &tries), CNIE_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(cnie_card_pin_unblock(f->card, "87654321", "4321", &tries),
	    CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 9);
	assert_int_equal(cnie_card_pin_unblock(f->card, "12345678", "4321", &tries), 0);
	assert_status(f->card, 3, false, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	assert_int_equal(cnie_card_pin_verify(f->card, "4321", &tries), 0);
}

static void
test_pin_change(void **state)
{
	fixture *f = *state;
	int tries = 99;

	assert_int_equal(cnie_card_pin_change(f->card, "1111", "567890", &tries),
	    CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	assert_int_equal(cnie_card_pin_change(f->card, "1234", "567890", &tries), 0);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(cnie_card_pin_verify(f->card, "567890", &tries), 0);
}

/* PUK tries by an empty VERIFY on reference 82: no try spent, PIN untouched. */
static void
test_puk_status(void **state)
{
	fixture *f = *state;
	int tries = 99;
	bool blocked = true;

	assert_int_equal(cnie_card_puk_status(NULL, &tries, &blocked), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 10);
	assert_false(blocked);
	/* Asking again spends nothing. */
	tries = 99;
	assert_int_equal(cnie_card_puk_status(f->card, &tries, NULL), 0);
	assert_int_equal(tries, 10);
	assert_int_equal(cnie_card_puk_status(f->card, NULL, NULL), 0);
	assert_int_equal(cnie_card_pin_unblock(f->card, "87654321", "4321", &tries),
	    CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 9);
	tries = 99;
	blocked = true;
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 9);
	assert_false(blocked);
	/* The user PIN's counter is its own. */
	assert_status(f->card, 3, false, false);
	/* A wrong user PIN does not touch the PUK counter. */
	assert_int_equal(cnie_card_pin_verify(f->card, "9999", &tries), CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 9);
	/* A right unblock gives the PUK its tries back. */
	assert_int_equal(cnie_card_pin_unblock(f->card, "12345678", "4321", &tries), 0);
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 10);
	assert_false(blocked);
}

/* A card whose user PIN is blocked still tells the PUK's tries. */
static void
test_puk_status_blocked(void **state)
{
	fixture *f = *state;
	int tries = 99;
	bool blocked = true;

	assert_status(f->card, 0, true, false);
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 10);
	assert_false(blocked);
	assert_int_equal(cnie_card_pin_unblock(f->card, "00000000", "4321", &tries),
	    CNIE_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 9);
	assert_int_equal(cnie_card_puk_status(f->card, &tries, &blocked), 0);
	assert_int_equal(tries, 9);
	assert_false(blocked);
	assert_status(f->card, 0, true, false);
}

/* The in-process transport has no PIN pad: nothing is sent. */
static void
test_pin_change_pinpad_unsupported(void **state)
{
	fixture *f = *state;
	cnie_transport_stats s0, s1;
	int tries = 99;

	assert_int_equal(cnie_card_pin_change_pinpad(NULL, &tries), CNIE_ERR_INVALID_ARG);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s0);
	assert_int_equal(cnie_card_pin_change_pinpad(f->card, &tries), CNIE_ERR_UNSUPPORTED);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s1);
	assert_int_equal(s1.apdus, s0.apdus);
	assert_int_equal(s1.controls, s0.controls);
	assert_int_equal(tries, 99);
}

/* ---- signatures -------------------------------------------------------- */

static const uint8_t msg[] = "CNIE test message";

/* OpenSSL's digest for h, by the name in cnie/hash.h (test_hash checks the names). */
static const EVP_MD *
md_of(cnie_card_hash h)
{
	const cnie_hash_info *hi = cnie_hash_by_id(h);

	return hi != NULL ? EVP_get_digestbyname(hi->ossl_name) : NULL;
}

/* Signs the hash of msg with the key ref (PIN verified first) and checks it with OpenSSL. */
static void
sign_and_check(cnie_card *c, uint8_t ref, cnie_card_mech_type type, cnie_card_hash h,
    unsigned flags, bool internal_auth)
{
	cnie_card_mech m = { type, h, flags };
	cnie_card_key_info k;
	uint8_t hash[64], sig[1024], block[128];
	unsigned hl = 0;
	size_t sl, max = 0, bl = 0;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx;
	const EVP_MD *md = md_of(h != CNIE_CARD_HASH_NONE ? h : CNIE_CARD_HASH_SHA256);
	int r;

	key_by_ref(c, ref, &k);
	assert_int_equal(EVP_Digest(msg, sizeof(msg), hash, &hl, md, NULL), 1);
	if (type == CNIE_CARD_MECH_RSA_PKCS1_RAW) {
		/* A SHA-256 DigestInfo built by the caller (RFC 8017 9.2 note 1). */
		static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
			0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

		memcpy(block, prefix, sizeof(prefix));
		memcpy(block + sizeof(prefix), hash, hl);
		bl = sizeof(prefix) + hl;
	} else {
		memcpy(block, hash, hl);
		bl = hl;
	}
	assert_int_equal(cnie_card_pin_verify(c, "1234", NULL), 0);
	r = internal_auth ? cnie_card_internal_auth(c, k.id, k.id_len, &m, block, bl, NULL, &max) :
	    cnie_card_sign(c, k.id, k.id_len, &m, block, bl, NULL, &max);
	assert_int_equal(r, 0);
	assert_true(max <= sizeof(sig));
	sl = max;
	r = internal_auth ? cnie_card_internal_auth(c, k.id, k.id_len, &m, block, bl, sig, &sl) :
	    cnie_card_sign(c, k.id, k.id_len, &m, block, bl, sig, &sl);
	assert_int_equal(r, 0);
	assert_true(sl <= max);

	pk = cert_key(c, &k);
	assert_non_null(ctx = EVP_PKEY_CTX_new(pk, NULL));
	if (type == CNIE_CARD_MECH_RSA_PKCS1_RAW) {
		uint8_t rec[512];
		size_t rl = sizeof(rec);

		assert_int_equal(sl, (k.bits + 7) / 8);
		assert_int_equal(EVP_PKEY_verify_recover_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		assert_int_equal(EVP_PKEY_verify_recover(ctx, rec, &rl, sig, sl), 1);
		assert_int_equal(rl, bl);
		assert_memory_equal(rec, block, bl);
	} else {
		uint8_t der[256];
		const uint8_t *vsig = sig;
		size_t vl = sl;

		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		if (type == CNIE_CARD_MECH_ECDSA && (flags & CNIE_CARD_SIG_ECDSA_DER) == 0) {
			/* r || s, each the order's length: re-encode for OpenSSL. */
			size_t n = (k.bits + 7) / 8;
			ECDSA_SIG *es = ECDSA_SIG_new();
			unsigned char *p = der;

			assert_int_equal(sl, 2 * n);
			assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)n, NULL),
			    BN_bin2bn(sig + n, (int)n, NULL)), 1);
			vl = (size_t)i2d_ECDSA_SIG(es, &p);
			ECDSA_SIG_free(es);
			vsig = der;
		} else if (type != CNIE_CARD_MECH_ECDSA) {
			assert_int_equal(sl, (k.bits + 7) / 8);
			assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
			if (type == CNIE_CARD_MECH_RSA_PSS) {
				assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx,
				    RSA_PKCS1_PSS_PADDING), 1);
				assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
				    (int)hl), 1);
			} else {
				assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx,
				    RSA_PKCS1_PADDING), 1);
			}
		}
		assert_int_equal(EVP_PKEY_verify(ctx, vsig, vl, hash, hl), 1);
		/* And it fails on another hash: the check can fail. */
		hash[0] ^= 1;
		assert_int_not_equal(EVP_PKEY_verify(ctx, vsig, vl, hash, hl), 1);
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

static const cnie_card_hash all_hashes[] = { CNIE_CARD_HASH_SHA1, CNIE_CARD_HASH_SHA224,
	CNIE_CARD_HASH_SHA256, CNIE_CARD_HASH_SHA384, CNIE_CARD_HASH_SHA512 };

static void
test_sign_rsa(void **state)
{
	fixture *f = *state;
	size_t i;
	uint8_t ref;

	for (ref = 0x81; ref <= 0x82; ref++) {
		for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++) {
			sign_and_check(f->card, ref, CNIE_CARD_MECH_RSA_PKCS1, all_hashes[i], 0,
			    false);
			sign_and_check(f->card, ref, CNIE_CARD_MECH_RSA_PSS, all_hashes[i], 0,
			    false);
		}
		sign_and_check(f->card, ref, CNIE_CARD_MECH_RSA_PKCS1_RAW, CNIE_CARD_HASH_NONE, 0,
		    false);
	}
	sign_and_check(f->card, 0x81, CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA256, 0, true);
	sign_and_check(f->card, 0x81, CNIE_CARD_MECH_RSA_PSS, CNIE_CARD_HASH_SHA384, 0, true);
}

static void
test_sign_ec(void **state)
{
	fixture *f = *state;
	size_t i;
	uint8_t ref;

	for (ref = 0x81; ref <= 0x82; ref++) {
		for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++) {
			sign_and_check(f->card, ref, CNIE_CARD_MECH_ECDSA, all_hashes[i], 0, false);
			sign_and_check(f->card, ref, CNIE_CARD_MECH_ECDSA, all_hashes[i],
			    CNIE_CARD_SIG_ECDSA_DER, false);
		}
		sign_and_check(f->card, ref, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_NONE, 0, false);
	}
	sign_and_check(f->card, 0x81, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256,
	    CNIE_CARD_SIG_ECDSA_DER, true);
}

static void
test_sign_expired(void **state)
{
	fixture *f = *state;

	sign_and_check(f->card, 0x82, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0, false);
}

/* The signature key needs a fresh VERIFY for every signature; the auth key does not. */
static void
test_sign_needs_fresh_pin(void **state)
{
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info ks, ka;
	uint8_t hash[32] = { 1 }, sig[128];
	size_t sl;

	key_by_ref(f->card, 0x82, &ks);
	key_by_ref(f->card, 0x81, &ka);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ks.id, ks.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_SW_SECURITY_STATUS);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ks.id, ks.id_len, &m, hash, 32, sig, &sl), 0);
	assert_int_equal(sl, 96);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ks.id, ks.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_SW_SECURITY_STATUS);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ka.id, ka.id_len, &m, hash, 32, sig, &sl), 0);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ka.id, ka.id_len, &m, hash, 32, sig, &sl), 0);
	assert_int_equal(sl, 64);
}

/* VERIFY P1=FF: the card forgets the PIN; without a login it is a no-op. */
static void
test_logout(void **state)
{
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info ka;
	uint8_t hash[32] = { 1 }, sig[128];
	size_t sl;

	key_by_ref(f->card, 0x81, &ka);
	assert_int_equal(cnie_card_logout(NULL), CNIE_ERR_INVALID_ARG);
	/* No login yet: fine, still not verified, no try spent. */
	assert_int_equal(cnie_card_logout(f->card), 0);
	assert_status(f->card, 3, false, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_status(f->card, -1, false, true);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ka.id, ka.id_len, &m, hash, 32, sig, &sl), 0);
	assert_int_equal(cnie_card_logout(f->card), 0);
	assert_status(f->card, 3, false, false);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ka.id, ka.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_SW_SECURITY_STATUS);
	/* Twice in a row: fine too. */
	assert_int_equal(cnie_card_logout(f->card), 0);
	/* And a login works again afterwards. */
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, ka.id, ka.id_len, &m, hash, 32, sig, &sl), 0);
}

/* Caller errors caught before any APDU. */
static void
test_sign_args(void **state)
{
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_mech rsa = { CNIE_CARD_MECH_RSA_PKCS1, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	cnie_transport_stats s0, s1;
	uint8_t hash[32] = { 0 }, sig[128], id[20] = { 0 };
	size_t sl;

	key_by_ref(f->card, 0x81, &k);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s0);
	sl = 63;
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(sl, 64);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 31, sig, &sl),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &rsa, hash, 32, sig, &sl),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_card_sign(f->card, id, sizeof(id), &m, hash, 32, sig, &sl),
	    CNIE_ERR_NOT_FOUND);
	m.flags = CNIE_CARD_SIG_ECDSA_DER;
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, NULL, &sl), 0);
	assert_int_equal(sl, 2 * (32 + 1 + 3) + 4);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s1);
	assert_int_equal(s1.apdus, s0.apdus);
}

/* APDUs for a cold "open + verify + sign" and a warm "verify + sign". */
static void
test_apdu_count(void **state)
{
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	cnie_transport_stats s;
	uint8_t hash[32] = { 0 }, sig[128];
	size_t sl = sizeof(sig);
	uint64_t cold;

	key_by_ref(f->card, 0x82, &k);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s);
	cold = s.apdus;
	cnie_transport_reset_stats(cnie_card_transport(f->card));
	sl = sizeof(sig);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	cnie_transport_get_stats(cnie_card_transport(f->card), &s);
	printf("APDUs: open + discovery + verify + sign = %llu; warm verify + sign = %llu\n",
	    (unsigned long long)cold, (unsigned long long)s.apdus);
	assert_int_equal(s.apdus, 3);
}

/* ---- on-disk cache (src/libcnie/include/cnie/cache.h) -------------------------------- */

/* XDG_CACHE_HOME of the cache tests: never the real home. */
static char cache_home[64];

static int
setup_cache(void **state)
{
	char t[] = "/tmp/cnie-cardcache-XXXXXX";

	*state = NULL;
	if (mkdtemp(t) == NULL)
		return -1;
	snprintf(cache_home, sizeof(cache_home), "%s", t);
	setenv("XDG_CACHE_HOME", cache_home, 1);
	unsetenv("CNIE_NO_CACHE");
	return 0;
}

static int
teardown_cache(void **state)
{
	char cmd[128];

	(void)state;
	setenv("CNIE_NO_CACHE", "1", 1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_home);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A fresh copy of card (serial replaced by new_serial when not NULL):
 * open, discovery, the certificate of key 82, VERIFY, sign.  Returns the
 * APDUs of the whole flow; md gets SHA-256 of the certificate.
 */
static uint64_t
cache_flow(const char *card, const char *new_serial, uint8_t md[32])
{
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	cnie_transport_stats s;
	cnie_transport *t = NULL;
	fixture f;
	const uint8_t *der;
	const char *serial;
	uint8_t hash[32] = { 0 }, sig[128];
	size_t sl = sizeof(sig), len;
	char cmd[3 * PATH_MAX], state[PATH_MAX + 16];

	memset(&f, 0, sizeof(f));
	assert_int_equal(copy_card(&f, card, &t), 0);
	if (new_serial != NULL) {
		snprintf(cmd, sizeof(cmd),
		    "sed -i 's/\"serial\": \"[0-9A-F]*\"/\"serial\": \"%s\"/' "
		    "'%s/card/card.json'", new_serial, f.dir);
		assert_int_equal(system(cmd), 0);
		/* The reference card reads its directory when opened: open again. */
		cnie_transport_free(&t);
		snprintf(cmd, sizeof(cmd), "%s/card", f.dir);
		snprintf(state, sizeof(state), "%s/state.json", f.dir);
		assert_int_equal(cnie_refcard_open(cmd, state, false, &t), 0);
	}
	assert_int_equal(cnie_card_open(t, &f.card), 0);
	key_by_ref(f.card, 0x82, &k);
	assert_int_equal(cnie_card_serial(f.card, &serial), 0);
	assert_int_equal(cnie_card_certificate(f.card, k.id, k.id_len, &der, &len), 0);
	SHA256(der, len, md);
	assert_int_equal(cnie_card_pin_verify(f.card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f.card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	cnie_transport_get_stats(cnie_card_transport(f.card), &s);
	cnie_card_free(&f.card);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f.dir);
	assert_int_equal(system(cmd), 0);
	return s.apdus;
}

/* Number of entries of the cache directory; each must be 0600, the directory 0700. */
static size_t
cache_entries(void)
{
	char dir[PATH_MAX], p[2 * PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cnie", cache_home);
	if (stat(dir, &st) != 0)
		return 0;
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * Cold: open 1 (SELECT AID) + GET DATA + discovery 5 (odd-INS READ BINARY
 * by FID of ODF, TokenInfo for the serial, AODF, PrKDF, CDF) +
 * certificate 1 + VERIFY + MSE + PSO.  Warm: open 1 + GET DATA + VERIFY +
 * MSE + PSO (discovery and the certificate come from $XDG_CACHE_HOME/cnie).
 */
#define CACHE_COLD 11
#define CACHE_WARM 5
#define CACHE_OFF (CACHE_COLD - 1) /* no GET DATA */
#define PRKDF_PARSE_ERROR CNIE_ERR_ENCODING /* the ODF read as a PrKDF */

static void
test_cache_warm(void **state)
{
	uint8_t md0[32], md1[32];
	uint64_t cold, warm;

	(void)state;
	cold = cache_flow("ec", NULL, md0);
	assert_int_equal(cache_entries(), 6); /* odf tokeninfo aodf prkdf cdf cert */
	warm = cache_flow("ec", NULL, md1);
	printf("APDUs open + discovery + certificate + verify + sign: cold %llu, warm %llu\n",
	    (unsigned long long)cold, (unsigned long long)warm);
	assert_memory_equal(md0, md1, 32);
	assert_true(warm < cold);
	assert_int_equal(cold, CACHE_COLD);
	assert_int_equal(warm, CACHE_WARM);
	assert_int_equal(cache_entries(), 6);
}

static void
test_cache_disabled(void **state)
{
	uint8_t md[32];

	(void)state;
	setenv("CNIE_NO_CACHE", "1", 1);
	assert_int_equal(cache_flow("ec", NULL, md), CACHE_OFF);
	assert_int_equal(cache_flow("ec", NULL, md), CACHE_OFF);
	assert_int_equal(cache_entries(), 0);
}

/* Flips one content byte of the entry whose name ends with suffix. */
static void
flip_entry(const char *suffix)
{
	char pat[PATH_MAX];
	glob_t g;
	FILE *fp;
	int ch;

	snprintf(pat, sizeof(pat), "%s/cnie/*-%s", cache_home, suffix);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_non_null(fp = fopen(g.gl_pathv[0], "r+b"));
	assert_int_equal(fseek(fp, 50, SEEK_SET), 0);
	assert_int_not_equal(ch = fgetc(fp), EOF);
	assert_int_equal(fseek(fp, 50, SEEK_SET), 0);
	assert_int_not_equal(fputc(ch ^ 0x80, fp), EOF);
	assert_int_equal(fclose(fp), 0);
	globfree(&g);
}

static void
test_cache_corrupt(void **state)
{
	uint8_t md0[32], md1[32];
	uint64_t n;

	(void)state;
	assert_int_equal(cache_flow("ec", NULL, md0), CACHE_COLD);
	/* A damaged CDF: one READ BINARY from the card, the entry rewritten. */
	flip_entry("cdf");
	n = cache_flow("ec", NULL, md1);
	assert_memory_equal(md0, md1, 32);
	assert_int_equal(n, CACHE_WARM + 1);
	assert_int_equal(cache_entries(), 6);
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_WARM);
	/* A damaged certificate: read again from the card, same bytes. */
	flip_entry("cert-*");
	n = cache_flow("ec", NULL, md1);
	assert_memory_equal(md0, md1, 32);
	assert_true(n > CACHE_WARM);
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_WARM);
	assert_memory_equal(md0, md1, 32);
}

/* An entry with a good digest that the parser refuses is deleted, then re-read. */
static void
test_cache_unparsable(void **state)
{
	cnie_transport *t = NULL;
	cnie_card *card = NULL;
	fixture f;
	uint8_t md0[32], md1[32];
	char cmd[3 * PATH_MAX];
	size_t n;

	(void)state;
	assert_int_equal(cache_flow("ec", NULL, md0), CACHE_COLD);
	/* The ODF entry in place of the PrKDF one: header and digest are right. */
	snprintf(cmd, sizeof(cmd),
	    "cd '%s/cnie' && for f in *-odf; do cp \"$f\" \"${f%%-odf}-prkdf\"; done",
	    cache_home);
	assert_int_equal(system(cmd), 0);
	memset(&f, 0, sizeof(f));
	assert_int_equal(copy_card(&f, "ec", &t), 0);
	assert_int_equal(cnie_card_open(t, &card), 0);
	assert_int_equal(cnie_card_key_count(card, &n), PRKDF_PARSE_ERROR);
	cnie_card_free(&card);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cache_entries(), 2); /* TokenInfo and the certificate */
	/* ODF, AODF, PrKDF, CDF from the card again, then warm. */
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_WARM + 4);
	assert_memory_equal(md0, md1, 32);
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_WARM);
}

/* Hex of an iD, as in cache entry names. */
static void
id_hex(const cnie_card_key_info *k, char *out)
{
	size_t i;

	for (i = 0; i < k->id_len; i++)
		sprintf(out + 2 * i, "%02x", k->id[i]);
}

/*
 * A card whose certificate changed under the same serial: the cached
 * certificate of key 82 replaced by key 81's (a well-formed entry).  The
 * signature does not verify with it: CNIE_ERR_CARD_CHANGED, the card's
 * entries deleted, and the next session reads the right certificate.
 */
static void
test_cache_card_changed(void **state)
{
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k1, k2;
	cnie_transport *t = NULL;
	fixture f;
	const uint8_t *der;
	uint8_t hash[32] = { 0 }, sig[128], md0[32], md1[32], md_k1[32];
	size_t sl = sizeof(sig), len;
	char cmd[3 * PATH_MAX], h1[2 * CNIE_CARD_MAX_ID + 1], h2[2 * CNIE_CARD_MAX_ID + 1];

	(void)state;
	assert_int_equal(cache_flow("ec", NULL, md0), CACHE_COLD);
	memset(&f, 0, sizeof(f));
	assert_int_equal(copy_card(&f, "ec", &t), 0);
	assert_int_equal(cnie_card_open(t, &f.card), 0);
	key_by_ref(f.card, 0x81, &k1);
	key_by_ref(f.card, 0x82, &k2);
	assert_int_equal(cnie_card_certificate(f.card, k1.id, k1.id_len, &der, &len), 0);
	SHA256(der, len, md_k1);
	cnie_card_free(&f.card);
	id_hex(&k1, h1);
	id_hex(&k2, h2);
	snprintf(cmd, sizeof(cmd),
	    "cd '%s/cnie' && for f in *-cert-%s; do cp \"$f\" \"${f%%-cert-%s}-cert-%s\"; done",
	    cache_home, h1, h1, h2);
	assert_int_equal(system(cmd), 0);
	/* The stale certificate is served from the cache; the signature exposes it. */
	{
		char cd[PATH_MAX + 8], st[PATH_MAX + 16];

		snprintf(cd, sizeof(cd), "%s/card", f.dir);
		snprintf(st, sizeof(st), "%s/state.json", f.dir);
		assert_int_equal(cnie_refcard_open(cd, st, false, &t), 0);
	}
	assert_int_equal(cnie_card_open(t, &f.card), 0);
	assert_int_equal(cnie_card_certificate(f.card, k2.id, k2.id_len, &der, &len), 0);
	SHA256(der, len, md1);
	assert_memory_equal(md1, md_k1, 32);
	assert_int_equal(cnie_card_pin_verify(f.card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f.card, k2.id, k2.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_CARD_CHANGED);
	cnie_card_free(&f.card);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cache_entries(), 1); /* key 81's certificate only */
	/* The next session reads the card: the right certificate, then warm again. */
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_COLD);
	assert_memory_equal(md0, md1, 32);
	assert_int_equal(cache_flow("ec", NULL, md1), CACHE_WARM);
}

/* Another serial with the very same files: nothing from the first card's entries. */
static void
test_cache_other_card(void **state)
{
	uint8_t md0[32], md1[32];

	(void)state;
	assert_int_equal(cache_flow("ec", NULL, md0), CACHE_COLD);
	assert_int_equal(cache_flow("ec", "0123456789ABCDEF", md1), CACHE_COLD);
	assert_memory_equal(md0, md1, 32);
	assert_int_equal(cache_entries(), 12);
	assert_int_equal(cache_flow("ec", "0123456789ABCDEF", md1), CACHE_WARM);
}

/* ---- reset by another program ------------------------------------------ */

/* A transport over the reference card that reports one reset on demand. */
typedef struct resetter {
	cnie_transport *inner;
	bool reset_next;
	int reconnects;
} resetter;

static resetter *the_resetter;

static int
rs_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	resetter *rs = ctx;
	cnie_buf *b;
	int r;

	if (rs->reset_next) {
		/* Another program reset the card: its security state is gone. */
		rs->reset_next = false;
		if ((r = cnie_transport_reset(rs->inner, false)) != 0)
			return r;
		return CNIE_ERR_CARD_RESET;
	}
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_transport_transmit(rs->inner, cmd, n, 0, b)) == 0) {
		if (cnie_buf_len(b) > *resp_len)
			r = CNIE_ERR_BUFFER_TOO_SMALL;
		else {
			memcpy(resp, cnie_buf_ptr(b), cnie_buf_len(b));
			*resp_len = cnie_buf_len(b);
		}
	}
	cnie_buf_free(&b);
	return r;
}

static int
rs_reconnect(void *ctx)
{
	((resetter *)ctx)->reconnects++;
	return 0;
}

static void
rs_free(void *ctx)
{
	resetter *rs = ctx;

	cnie_transport_free(&rs->inner);
	free(rs);
}

static int
setup_resetter(void **state)
{
	static const cnie_transport_ops ops = { .transmit = rs_transmit,
		.reconnect = rs_reconnect, .free = rs_free };
	fixture *f = calloc(1, sizeof(*f));
	cnie_transport *t = NULL;
	resetter *rs = calloc(1, sizeof(*rs));

	if (f == NULL || rs == NULL || copy_card(f, "ec", &rs->inner) != 0)
		goto fail;
	/* rs (and the reference card in it) now belongs to t, then to the card. */
	if (cnie_transport_new(&ops, rs, cnie_transport_get_caps(rs->inner), "resetter",
	    &t) != 0) {
		rs = NULL;
		goto fail;
	}
	the_resetter = rs;
	rs = NULL;
	if (cnie_card_open(t, &f->card) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	if (rs != NULL)
		rs_free(rs);
	free(f);
	return -1;
}

static void
test_login_lost(void **state)
{
	fixture *f = *state;
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	uint8_t hash[32] = { 2 }, sig[128];
	size_t sl = sizeof(sig);

	key_by_ref(f->card, 0x81, &k);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	the_resetter->reset_next = true;
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_LOGIN_LOST);
	assert_int_equal(the_resetter->reconnects, 1);
	/* Reported once; the application is selected again, the PIN is not verified. */
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_SW_SECURITY_STATUS);
	assert_status(f->card, 3, false, false);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
}

/* ---- contactless (PACE) -------------------------------------------------- */

/*
 * A reset under PACE kills the secure messaging session: the call reports
 * CNIE_ERR_CARD_RESET, cnie_card_resume needs the CAN again (a wrong one
 * fails and may be retried), then the session works with the PIN
 * verified anew; discovery is not repeated.
 */
static void
test_resume_contactless(void **state)
{
	static const cnie_transport_ops ops = { .transmit = rs_transmit,
		.reconnect = rs_reconnect, .free = rs_free };
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	fixture *f = calloc(1, sizeof(*f));
	cnie_transport *t = NULL;
	resetter *rs = calloc(1, sizeof(*rs));
	cnie_card_key_info k;
	cnie_transport_stats a, b;
	uint8_t hash[32] = { 3 }, sig[128];
	size_t sl = sizeof(sig);
	char dir[PATH_MAX + 8], st[PATH_MAX + 16];

	assert_non_null(f);
	assert_non_null(rs);
	*state = f;
	assert_int_equal(copy_card(f, "ec", &t), 0);
	cnie_transport_free(&t);
	snprintf(dir, sizeof(dir), "%s/card", f->dir);
	snprintf(st, sizeof(st), "%s/state.json", f->dir);
	assert_int_equal(cnie_refcard_open(dir, st, true, &rs->inner), 0);
	assert_int_equal(cnie_transport_new(&ops, rs, cnie_transport_get_caps(rs->inner),
	    "resetter", &t), 0);
	the_resetter = rs;
	assert_int_equal(cnie_card_open_ex(t, "123456", &f->card), 0);
	key_by_ref(f->card, 0x81, &k);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	rs->reset_next = true;
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_CARD_RESET);
	assert_int_equal(cnie_card_resume(f->card, NULL), CNIE_ERR_NEED_CAN);
	assert_int_equal(cnie_card_resume(f->card, "654321"), CNIE_ERR_PACE);
	assert_int_equal(cnie_card_resume(f->card, "123456"), 0);
	cnie_transport_get_stats(cnie_card_transport(f->card), &a);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl),
	    CNIE_ERR_SW_SECURITY_STATUS);
	assert_int_equal(cnie_card_pin_verify(f->card, "1234", NULL), 0);
	sl = sizeof(sig);
	assert_int_equal(cnie_card_sign(f->card, k.id, k.id_len, &m, hash, 32, sig, &sl), 0);
	/* MSE + PSO, VERIFY, MSE + PSO: nothing read again. */
	cnie_transport_get_stats(cnie_card_transport(f->card), &b);
	assert_int_equal(b.apdus - a.apdus, 5);
}

static void
test_contactless(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	cnie_transport *t = NULL;
	char dir[PATH_MAX + 8], st[PATH_MAX + 16];

	(void)state;
	assert_non_null(f);
	*state = f;
	/* copy_card makes the directory; reopen it over the contactless interface. */
	assert_int_equal(copy_card(f, "ec", &t), 0);
	cnie_transport_free(&t);
	snprintf(dir, sizeof(dir), "%s/card", f->dir);
	snprintf(st, sizeof(st), "%s/state.json", f->dir);

	assert_int_equal(cnie_refcard_open(dir, st, true, &t), 0);
	assert_int_equal(cnie_card_open(t, &f->card), CNIE_ERR_NEED_CAN);
	assert_null(f->card);
	assert_int_equal(cnie_refcard_open(dir, st, true, &t), 0);
	assert_int_equal(cnie_card_open_ex(t, "654321", &f->card), CNIE_ERR_PACE);
	assert_int_equal(cnie_refcard_open(dir, st, true, &t), 0);
	assert_int_equal(cnie_card_open_ex(t, "12a456", &f->card), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_refcard_open(dir, st, true, &t), 0);
	assert_int_equal(cnie_card_open_ex(t, "123456", &f->card), 0);
	check_discovery(f->card, CNIE_CARD_KEY_EC, 256, 384);
	assert_status(f->card, 3, false, false);
	/* The reader would send CHANGE REFERENCE DATA in plain: refused under PACE. */
	assert_int_equal(cnie_card_pin_change_pinpad(f->card, NULL), CNIE_ERR_UNSUPPORTED);
	sign_and_check(f->card, 0x82, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA384,
	    CNIE_CARD_SIG_ECDSA_DER, false);
	sign_and_check(f->card, 0x81, CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0, true);
}

/* ---- PC/SC ------------------------------------------------------------- */

static int
pcsc_flow(void)
{
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256,
		CNIE_CARD_SIG_ECDSA_DER };
	cnie_card_key_info k;
	cnie_pcsc *ctx = NULL;
	cnie_card *c = NULL;
	char **names = NULL;
	const char *reader = NULL;
	uint8_t hash[32], sig[128];
	size_t n, i, sl = sizeof(sig);
	int r, tries = -1, ok = 0;

	SHA256(msg, sizeof(msg), hash);
	if ((r = cnie_pcsc_new(&ctx)) != 0 || (r = cnie_pcsc_list_readers(ctx, &names, &n)) != 0) {
		printf("FAIL: pcsc: %s\n", cnie_strerror(r));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strstr(names[i], "CNIE Virtual Contact Reader") != NULL)
			reader = names[i];
	if (reader == NULL) {
		printf("FAIL: no CNIE Virtual Contact Reader\n");
		goto out;
	}
	if ((r = cnie_card_open_reader(ctx, reader, &c)) != 0 ||
	    (r = cnie_card_pin_status(c, &tries, NULL, NULL)) != 0 || tries != 3 ||
	    (r = cnie_card_pin_verify(c, "1234", NULL)) != 0) {
		printf("FAIL: open/PIN: %s tries %d\n", cnie_strerror(r), tries);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if ((r = cnie_card_get_key(c, i, &k)) != 0)
			goto out;
		if (k.key_ref == 0x82)
			break;
	}
	if ((r = cnie_card_sign(c, k.id, k.id_len, &m, hash, sizeof(hash), sig, &sl)) != 0) {
		printf("FAIL: sign: %s\n", cnie_strerror(r));
		goto out;
	}
	{
		EVP_PKEY *pk;
		EVP_PKEY_CTX *pc;
		const uint8_t *der, *p;
		size_t len;
		X509 *x;

		if ((r = cnie_card_certificate(c, k.id, k.id_len, &der, &len)) != 0)
			goto out;
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		pk = x != NULL ? X509_get_pubkey(x) : NULL;
		pc = pk != NULL ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
		ok = pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
		    EVP_PKEY_verify(pc, sig, sl, hash, sizeof(hash)) == 1;
		EVP_PKEY_CTX_free(pc);
		EVP_PKEY_free(pk);
		X509_free(x);
	}
	printf("%s: signature through PC/SC verified\n", ok ? "ok" : "FAIL");
out:
	cnie_card_free(&c);
	cnie_pcsc_free_names(&names);
	cnie_pcsc_free(&ctx);
	return ok ? 0 : 1;
}

#define PCHECK(cond, ...)                                                      \
	do {                                                                   \
		bool pcheck_ok_ = (cond);                                      \
		printf("%s: ", pcheck_ok_ ? "ok" : "FAIL");                    \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		if (!pcheck_ok_)                                               \
			failures++;                                            \
	} while (0)

/* PIN entry on the virtual PIN-pad reader (reader 2), keys queued with cnie-sim. */
static int
pinpad_flow(const char *sim_path)
{
	cnie_card_mech m = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_SHA256, 0 };
	cnie_card_key_info k;
	cnie_transport_stats s0, s1;
	cnie_pcsc *ctx = NULL;
	cnie_card *c = NULL;
	char **names = NULL;
	const char *reader = NULL;
	uint8_t hash[32] = { 3 }, sig[128];
	size_t n = 0, i, sl;
	int r, tries = -1, failures = 0;

	if ((r = cnie_pcsc_new(&ctx)) != 0 || (r = cnie_pcsc_list_readers(ctx, &names, &n)) != 0)
		failures++;
	for (i = 0; i < n; i++)
		if (strstr(names[i], "CNIE Virtual PIN-pad Reader") != NULL)
			reader = names[i];
	PCHECK(reader != NULL, "PIN-pad reader present");
	if (reader == NULL || (r = cnie_card_open_reader(ctx, reader, &c)) != 0) {
		PCHECK(0, "open: %s", cnie_error_name(r));
		goto out;
	}
	PCHECK(cnie_transport_get_caps(cnie_card_transport(c))->pinpad_verify, "caps");
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "9999", NULL) == 0, "keys 9999");
	r = cnie_card_pin_verify_pinpad(c, &tries);
	PCHECK(r == CNIE_ERR_PIN_INCORRECT && tries == 2, "wrong PIN on the pad: %s, %d",
	    cnie_error_name(r), tries);
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "cancel", NULL) == 0, "keys cancel");
	r = cnie_card_pin_verify_pinpad(c, &tries);
	PCHECK(r == CNIE_ERR_PINPAD_CANCELLED, "cancel: %s", cnie_error_name(r));
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", NULL) == 0, "keys 1234");
	cnie_transport_get_stats(cnie_card_transport(c), &s0);
	r = cnie_card_pin_verify_pinpad(c, &tries);
	cnie_transport_get_stats(cnie_card_transport(c), &s1);
	/* One SELECT before the pad's VERIFY (docs/card-profile.md 9). */
	PCHECK(r == 0 && s1.controls == s0.controls + 1 && s1.apdus == s0.apdus + 1,
	    "right PIN on the pad: %s", cnie_error_name(r));
	for (i = 0; i < 2; i++)
		if (cnie_card_get_key(c, i, &k) == 0 && k.key_ref == 0x82)
			break;
	sl = sizeof(sig);
	r = cnie_card_sign(c, k.id, k.id_len, &m, hash, sizeof(hash), sig, &sl);
	PCHECK(r == 0 && sl == 96, "signature after PIN-pad entry: %s", cnie_error_name(r));
	sl = sizeof(sig);
	r = cnie_card_sign(c, k.id, k.id_len, &m, hash, sizeof(hash), sig, &sl);
	PCHECK(r == CNIE_ERR_SW_SECURITY_STATUS, "second signature refused: %s",
	    cnie_error_name(r));
	{
		bool verified = false;

		r = cnie_card_pin_status(c, &tries, NULL, &verified);
		PCHECK(r == 0 && verified && tries == -1, "PIN verified: %d", tries);
	}
	PCHECK(cnie_transport_get_caps(cnie_card_transport(c))->pinpad_modify, "modify caps");
	/* PIN change on the pad: current PIN, new PIN, confirmation (bConfirmPIN 03). */
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "cancel", NULL) == 0, "keys cancel");
	r = cnie_card_pin_change_pinpad(c, &tries);
	PCHECK(r == CNIE_ERR_PINPAD_CANCELLED, "change cancelled: %s", cnie_error_name(r));
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", "567890", "567891", NULL) == 0,
	    "keys mismatch");
	r = cnie_card_pin_change_pinpad(c, &tries);
	PCHECK(r == CNIE_ERR_PIN_FORMAT, "confirmation differs: %s", cnie_error_name(r));
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "1111", "567890", "567890", NULL) == 0,
	    "keys wrong current");
	tries = 99;
	r = cnie_card_pin_change_pinpad(c, &tries);
	PCHECK(r == CNIE_ERR_PIN_INCORRECT && tries == 2, "wrong current PIN on the pad: %s, %d",
	    cnie_error_name(r), tries);
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "1234", "567890", "567890", NULL) == 0,
	    "keys change");
	cnie_transport_get_stats(cnie_card_transport(c), &s0);
	r = cnie_card_pin_change_pinpad(c, &tries);
	cnie_transport_get_stats(cnie_card_transport(c), &s1);
	PCHECK(r == 0 && s1.controls == s0.controls + 1 && s1.apdus == s0.apdus + 1,
	    "PIN changed on the pad: %s", cnie_error_name(r));
	r = cnie_card_pin_verify(c, "1234", &tries);
	PCHECK(r == CNIE_ERR_PIN_INCORRECT && tries == 2, "old PIN refused: %s, %d",
	    cnie_error_name(r), tries);
	r = cnie_card_pin_verify(c, "567890", &tries);
	PCHECK(r == 0, "new PIN verified in software: %s", cnie_error_name(r));
	/* Back to 1234 so that the card's state stays as the other tests expect. */
	PCHECK(tu_runl(sim_path, "--reader", "2", "keys", "567890", "1234", "1234", NULL) == 0,
	    "keys change back");
	r = cnie_card_pin_change_pinpad(c, &tries);
	PCHECK(r == 0, "PIN changed back on the pad: %s", cnie_error_name(r));
	r = cnie_card_pin_verify(c, "1234", &tries);
	PCHECK(r == 0, "PIN 1234 again: %s", cnie_error_name(r));
	{
		bool blocked = true;

		tries = 99;
		r = cnie_card_puk_status(c, &tries, &blocked);
		PCHECK(r == 0 && tries == 10 && !blocked, "PUK status through PC/SC: %s, %d",
		    cnie_error_name(r), tries);
	}
out:
	cnie_card_free(&c);
	cnie_pcsc_free_names(&names);
	cnie_pcsc_free(&ctx);
	return failures == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discovery_ec, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_rsa, setup_rsa, teardown),
		cmocka_unit_test_setup_teardown(test_open_apdus, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_applications, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_cert_list, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_cert_list, setup_rsa, teardown),
		cmocka_unit_test(test_not_recognised),
		cmocka_unit_test_setup_teardown(test_pin_verify, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_pin_format, setup_rsa, teardown),
		cmocka_unit_test_setup_teardown(test_pin_blocked_unblock, setup_blocked, teardown),
		cmocka_unit_test_setup_teardown(test_pin_change, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_puk_status, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_puk_status_blocked, setup_blocked, teardown),
		cmocka_unit_test_setup_teardown(test_pin_change_pinpad_unsupported, setup_ec,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_rsa, setup_rsa, teardown),
		cmocka_unit_test_setup_teardown(test_sign_ec, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_sign_expired, setup_expired, teardown),
		cmocka_unit_test_setup_teardown(test_sign_needs_fresh_pin, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_logout, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_sign_args, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_apdu_count, setup_ec, teardown),
		cmocka_unit_test_setup_teardown(test_login_lost, setup_resetter, teardown),
		cmocka_unit_test_teardown(test_contactless, teardown),
		cmocka_unit_test_setup_teardown(test_cache_warm, setup_cache, teardown_cache),
		cmocka_unit_test_setup_teardown(test_cache_disabled, setup_cache, teardown_cache),
		cmocka_unit_test_setup_teardown(test_cache_corrupt, setup_cache, teardown_cache),
		cmocka_unit_test_teardown(test_resume_contactless, teardown),
		cmocka_unit_test_setup_teardown(test_cache_card_changed, setup_cache,
		    teardown_cache),
		cmocka_unit_test_setup_teardown(test_cache_other_card, setup_cache,
		    teardown_cache),
		cmocka_unit_test_setup_teardown(test_cache_unparsable, setup_cache,
		    teardown_cache),
	};

	/* Only the cache tests use the on-disk cache, in a temporary XDG_CACHE_HOME. */
	setenv("CNIE_NO_CACHE", "1", 1);

	if (argc == 2 && strcmp(argv[1], "pcsc") == 0)
		return pcsc_flow();
	if (argc == 3 && strcmp(argv[1], "pinpad") == 0)
		return pinpad_flow(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
