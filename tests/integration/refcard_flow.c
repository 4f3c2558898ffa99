/*
 * Issue-3 acceptance flow against a reference card, through any transport:
 *
 *   refcard_flow refcard CARD_DIR PKI_DIR       in-process emulator
 *   refcard_flow pcsc READER_SUBSTRING PKI_DIR contact|contactless
 *
 * Contact: reads EF.DIR, finds the PKI application's AID in it, selects it,
 * reads the authentication certificate (4331) and verifies it against the
 * test citizen CA.  Contactless: the PKI application refuses READ BINARY
 * before PACE (6982), a wrong CAN fails PACE, PACE with CAN 123456 opens
 * secure messaging, and the same certificate is read inside it.
 * Exit 0 only when every step gave exactly the expected outcome.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cnie/apdu.h>
#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>
#include <cnie/sm.h>
#include <cnie/tlv.h>

static const uint8_t pki_aid[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };
static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			printf("ok: ");                                        \
		} else {                                                       \
			printf("FAIL: ");                                      \
			failures++;                                            \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

/* One command, plain or inside SM; returns the exchange error, *sw the card's word. */
static int
xfer(cnie_transport *t, cnie_sm *sm, const cnie_apdu *a, cnie_buf *out, uint16_t *sw)
{
	cnie_buf *cmd = NULL, *raw = NULL;
	int r;

	if (sm == NULL)
		return cnie_apdu_transmit(t, a, out, sw);
	if ((cmd = cnie_buf_new()) == NULL || (raw = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if ((r = cnie_sm_wrap_command(sm, a, cmd)) != 0 ||
	    (r = cnie_transport_transmit(t, cnie_buf_ptr(cmd), cnie_buf_len(cmd), 0, raw)) != 0)
		goto out;
	r = cnie_sm_unwrap_response(sm, cnie_buf_ptr(raw), cnie_buf_len(raw), out, sw);
out:
	cnie_buf_free(&cmd);
	cnie_buf_free(&raw);
	return r;
}

static int
select_fid(cnie_transport *t, cnie_sm *sm, uint8_t p1, uint16_t fid, uint16_t *sw)
{
	uint8_t d[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
	cnie_apdu a;
	cnie_buf *b = cnie_buf_new();
	int r;

	cnie_apdu_init(&a, 0x00, 0xA4, p1, 0x0C);
	a.data = d;
	a.nc = sizeof(d);
	r = b == NULL ? CNIE_ERR_NOMEM : xfer(t, sm, &a, b, sw);
	cnie_buf_free(&b);
	return r;
}

static int
select_aid(cnie_transport *t, cnie_sm *sm, uint16_t *sw)
{
	cnie_apdu a;
	cnie_buf *b = cnie_buf_new();
	int r;

	cnie_apdu_init(&a, 0x00, 0xA4, 0x04, 0x0C);
	a.data = pki_aid;
	a.nc = sizeof(pki_aid);
	r = b == NULL ? CNIE_ERR_NOMEM : xfer(t, sm, &a, b, sw);
	cnie_buf_free(&b);
	return r;
}

/* Reads the current EF to its end in chunks (short READ BINARY). */
static int
read_ef(cnie_transport *t, cnie_sm *sm, cnie_buf *out, uint16_t *sw)
{
	cnie_apdu a;
	size_t off = 0, before;
	int r;

	for (;;) {
		if (off > 0x7fff)
			return CNIE_ERR_TOO_LONG;
		cnie_apdu_init(&a, 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off);
		a.ne = 0xDF;
		before = cnie_buf_len(out);
		if ((r = xfer(t, sm, &a, out, sw)) != 0)
			return r;
		if (*sw == 0x6282 || (*sw == 0x6B00 && off > 0)) {
			*sw = 0x9000;
			return 0;
		}
		if (*sw != 0x9000)
			return 0;
		if (cnie_buf_len(out) - before < a.ne)
			return 0;
		off += cnie_buf_len(out) - before;
	}
}

static void
check_cert(const cnie_buf *der, const char *pki_dir, const char *what)
{
	const uint8_t *p = cnie_buf_ptr(der);
	char path[4096];
	X509 *cert = NULL, *ca = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	FILE *f;
	char *subject = NULL;
	int ok = 0;

	cert = d2i_X509(NULL, &p, (long)cnie_buf_len(der));
	CHECK(cert != NULL, "%s: authentication certificate parses (%zu bytes)", what,
	    cnie_buf_len(der));
	if (cert == NULL)
		return;
	subject = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	printf("   subject: %s\n", subject != NULL ? subject : "?");
	snprintf(path, sizeof(path), "%s/citizen-ca.pem", pki_dir);
	if ((f = fopen(path, "r")) != NULL) {
		ca = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (ca != NULL && (store = X509_STORE_new()) != NULL &&
	    X509_STORE_add_cert(store, ca) == 1 && (ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, store, cert, NULL) == 1) {
		/* Partial chain: the citizen CA is the anchor under test. */
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
		ok = X509_verify_cert(ctx) == 1;
	}
	CHECK(ok, "%s: certificate chains to %s", what, path);
	OPENSSL_free(subject);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(cert);
}

static void
contact_flow(cnie_transport *t, const char *pki_dir)
{
	cnie_buf *dir = cnie_buf_new(), *cert = cnie_buf_new();
	cnie_tlv app, aid;
	uint16_t sw = 0;
	int r;

	r = select_fid(t, NULL, 0x00, 0x3F00, &sw);
	CHECK(r == 0 && sw == 0x9000, "SELECT MF -> %04X (%s)", sw, cnie_strerror(r));
	r = select_fid(t, NULL, 0x02, 0x2F00, &sw);
	CHECK(r == 0 && sw == 0x9000, "SELECT EF.DIR -> %04X", sw);
	r = read_ef(t, NULL, dir, &sw);
	CHECK(r == 0 && sw == 0x9000 && cnie_buf_len(dir) > 0, "READ EF.DIR: %zu bytes",
	    cnie_buf_len(dir));
	r = cnie_tlv_find(cnie_buf_ptr(dir), cnie_buf_len(dir), 0x61, &app);
	if (r == 0)
		r = cnie_tlv_find(app.value, app.len, 0x4F, &aid);
	CHECK(r == 0 && aid.len == sizeof(pki_aid) && memcmp(aid.value, pki_aid, aid.len) == 0,
	    "EF.DIR names the PKI application AID");
	r = select_aid(t, NULL, &sw);
	CHECK(r == 0 && sw == 0x9000, "SELECT PKI application -> %04X", sw);
	r = select_fid(t, NULL, 0x02, 0x4331, &sw);
	CHECK(r == 0 && sw == 0x9000, "SELECT 4331 -> %04X", sw);
	r = read_ef(t, NULL, cert, &sw);
	CHECK(r == 0 && sw == 0x9000, "READ certificate -> %04X", sw);
	check_cert(cert, pki_dir, "contact");
	cnie_buf_free(&dir);
	cnie_buf_free(&cert);
}

static void
contactless_flow(cnie_transport *t, const char *pki_dir)
{
	cnie_buf *ca = cnie_buf_new(), *cert = cnie_buf_new(), *junk = cnie_buf_new();
	cnie_sm *sm = NULL;
	uint16_t sw = 0;
	int r;

	r = select_aid(t, NULL, &sw);
	CHECK(r == 0 && sw == 0x9000, "contactless SELECT PKI application -> %04X", sw);
	r = select_fid(t, NULL, 0x02, 0x4331, &sw);
	if (r == 0 && sw == 0x9000)
		r = read_ef(t, NULL, junk, &sw);
	CHECK(r == 0 && sw == 0x6982, "PKI refused without PACE -> %04X", sw);

	r = select_fid(t, NULL, 0x00, 0x3F00, &sw);
	if (r == 0 && sw == 0x9000)
		r = select_fid(t, NULL, 0x02, 0x011C, &sw);
	if (r == 0 && sw == 0x9000)
		r = read_ef(t, NULL, ca, &sw);
	CHECK(r == 0 && sw == 0x9000 && cnie_buf_len(ca) > 0, "READ EF.CardAccess: %zu bytes",
	    cnie_buf_len(ca));

	r = cnie_pace_run(t, cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN, "654321", 6, &sm);
	CHECK(r == CNIE_ERR_PACE && sm == NULL, "PACE with a wrong CAN -> %s",
	    cnie_error_name(r));
	cnie_sm_free(&sm);

	r = cnie_pace_run(t, cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN, "123456", 6, &sm);
	CHECK(r == 0 && sm != NULL, "PACE with CAN 123456 -> %s", cnie_error_name(r));
	if (sm != NULL) {
		r = select_aid(t, sm, &sw);
		CHECK(r == 0 && sw == 0x9000, "SM SELECT PKI application -> %04X", sw);
		r = select_fid(t, sm, 0x02, 0x4331, &sw);
		CHECK(r == 0 && sw == 0x9000, "SM SELECT 4331 -> %04X", sw);
		r = read_ef(t, sm, cert, &sw);
		CHECK(r == 0 && sw == 0x9000, "SM READ certificate -> %04X (%s)", sw,
		    cnie_strerror(r));
		check_cert(cert, pki_dir, "contactless");
	}
	cnie_sm_free(&sm);
	cnie_buf_free(&ca);
	cnie_buf_free(&cert);
	cnie_buf_free(&junk);
}

static int
open_pcsc(const char *match, cnie_pcsc **ctx, cnie_transport **t)
{
	char **names = NULL;
	size_t n = 0, i;
	int r;

	if ((r = cnie_pcsc_new(ctx)) != 0 || (r = cnie_pcsc_list_readers(*ctx, &names, &n)) != 0)
		return r;
	r = CNIE_ERR_READER_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if (strstr(names[i], match) != NULL) {
			printf("reader: %s\n", names[i]);
			r = cnie_pcsc_connect(*ctx, names[i], t);
			break;
		}
	}
	cnie_pcsc_free_names(&names);
	return r;
}

int
main(int argc, char **argv)
{
	cnie_pcsc *ctx = NULL;
	cnie_transport *t = NULL;
	bool contactless = false;
	const char *pki;
	int r;

	if (argc == 4 && strcmp(argv[1], "refcard") == 0) {
		pki = argv[3];
		r = cnie_refcard_open(argv[2], NULL, false, &t);
		CHECK(r == 0, "open in-process reference card (contact): %s", cnie_strerror(r));
		if (r == 0)
			contact_flow(t, pki);
		cnie_transport_free(&t);
		r = cnie_refcard_open(argv[2], NULL, true, &t);
		CHECK(r == 0, "open in-process reference card (contactless): %s",
		    cnie_strerror(r));
		if (r == 0)
			contactless_flow(t, pki);
	} else if (argc == 5 && strcmp(argv[1], "pcsc") == 0) {
		pki = argv[3];
		contactless = strcmp(argv[4], "contactless") == 0;
		r = open_pcsc(argv[2], &ctx, &t);
		CHECK(r == 0, "connect to reader matching '%s': %s", argv[2], cnie_strerror(r));
		if (r == 0) {
			if (contactless)
				contactless_flow(t, pki);
			else
				contact_flow(t, pki);
		}
	} else {
		fprintf(stderr, "usage: refcard_flow refcard CARD_DIR PKI_DIR\n"
				"       refcard_flow pcsc READER_SUBSTRING PKI_DIR contact|contactless\n");
		return 2;
	}
	cnie_transport_free(&t);
	cnie_pcsc_free(&ctx);
	printf("%s\n", failures == 0 ? "refcard_flow: all checks passed" : "refcard_flow: FAILED");
	return failures == 0 ? 0 : 1;
}
