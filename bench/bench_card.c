/*
 * bench_card: the card layer (libcnie's PKI and ICAO applications) against
 * the in-process reference card with the emulator's timing model on.
 *
 *   bench_card BUILD_DIR
 *
 * For each flow: APDUs, bytes each way and wall time, beside the flow's
 * floor (the fewest APDUs and bytes the card profile, docs/card-profile.md,
 * allows for the same work, computed here from first principles and from
 * the card directory's file sizes) and the floor's time under the same
 * timing model.  A benchmark prints figures; it never asserts a time.
 * Exit status: 0 when every flow ran, 1 when a flow failed (an error, not a
 * slow figure), 2 on usage errors.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cnie/buf.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/lds.h>
#include <cnie/pa.h>
#include <cnie/refcard.h>
#include <cnie/transport.h>

#include "testutil.h"

/* ---- timing model ------------------------------------------------------ */

/*
 * Realistic figures.  Contact: T=1 at 115200 bit/s (a reader negotiating
 * a fast TA1 over ISO 7816-3 PPS); contactless: ISO 14443 at 106 kbit/s.
 * Per APDU 5 ms (reader + card OS turnaround).  Private-key operations of
 * a current smart-card chip: EC 80 ms, RSA-2048 150 ms; PACE 40 ms per
 * GENERAL AUTHENTICATE step (the emulator charges pace_us for each step).
 */
#define LATENCY_US 5000u
#define CONTACT_BPS 115200u
#define CONTACTLESS_BPS 106000u
#define RSA_US 150000u
#define EC_US 80000u
#define PACE_US 40000u

#define PIN "1234"
#define PA_ROUNDS 50

/* Profile constants (docs/card-profile.md section 2). */
static const uint8_t pki_aid[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };
static const uint8_t icao_aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };

/* A flow's cost: measured, or the floor. */
typedef struct cost {
	uint64_t apdus, sent, recv;
	double us;  /* wall time (measured) or the model's time (floor) */
	uint64_t key_us; /* floor only: key-operation time included in us */
} cost;

typedef struct floor_acc {
	cost c;
	uint32_t bps;
	char how[1024];
} floor_acc;

static const char *build_dir;
static int failures;

/* Adds one APDU of cmd/resp bytes and key_us of key operations to the floor. */
static void
floor_apdu(floor_acc *f, const char *what, size_t cmd, size_t resp, uint32_t key_us)
{
	size_t n = strlen(f->how);

	f->c.apdus++;
	f->c.sent += cmd;
	f->c.recv += resp;
	f->c.key_us += key_us;
	f->c.us += LATENCY_US + (double)(cmd + resp) * 8.0 * 1e6 / f->bps + key_us;
	snprintf(f->how + n, sizeof(f->how) - n, "%s%s %zu/%zu", n > 0 ? " + " : "", what, cmd,
	    resp);
}

/* Bytes of a BER length field for n. */
static size_t
ber_len(size_t n)
{
	return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4;
}

/*
 * One READ BINARY (odd INS, B1) of a whole EF of the current DF by FID:
 * no SELECT needed (profile 3: P1P2 = FID, data 54 01 00, answer in DO 53
 * filling at most Ne).  Short Ne (256) when DO 53 + SW fit, else extended
 * (Lc 3 bytes, Le 2 bytes).
 */
static void
floor_read_fid(floor_acc *f, const char *what, size_t size)
{
	size_t data = 1 + ber_len(size) + size;

	if (data <= 256)
		floor_apdu(f, what, 4 + 1 + 3 + 1, data + 2, 0);
	else
		floor_apdu(f, what, 4 + 3 + 3 + 2, data + 2, 0);
}

/*
 * One READ BINARY (B0, SFI in P1) of a whole EF inside ICAO secure
 * messaging (9303-11 9.8, AES: 16-byte blocks, ISO 9797-1 padding method 2
 * always adds a byte; 8-byte MAC).  Command: header, Lc, 97 (Le) + 8E 08,
 * Le.  Response: 87 L 01 <cryptogram> + 99 02 SW + 8E 08 MAC + SW.
 */
static void
floor_read_sfi_sm(floor_acc *f, const char *what, size_t size)
{
	size_t crypt = (size / 16 + 1) * 16;
	size_t resp = 1 + ber_len(1 + crypt) + 1 + crypt + 4 + 10;

	if (resp <= 256) /* short: 97 01 00, Lc 1, Le 1 */
		floor_apdu(f, what, 4 + 1 + 3 + 10 + 1, resp + 2, 0);
	else		 /* extended: 97 02 00 00, Lc 3, Le 2 */
		floor_apdu(f, what, 4 + 3 + 4 + 10 + 2, resp + 2, 0);
}

static size_t
file_size(const char *card_dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/files/%s", card_dir, name);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "bench_card: %s: %s\n", path, strerror(errno));
		failures++;
		return 0;
	}
	return (size_t)st.st_size;
}

/* ---- printing ---------------------------------------------------------- */

static double
ratio(double m, double f)
{
	return f > 0 ? m / f : 0;
}

static void
print_flow(const char *name, const cost *m, const floor_acc *f, const char *extra_goal,
    bool extra_ok)
{
	double ra = ratio((double)m->apdus, (double)f->c.apdus);
	double rb = ratio((double)(m->sent + m->recv), (double)(f->c.sent + f->c.recv));
	double rt = ratio(m->us, f->c.us);
	bool ok = ra <= 1.10 && rb <= 1.10 && rt <= 1.10;

	printf("%-34s %6llu %7llu %8llu %10.1f\n", name, (unsigned long long)m->apdus,
	    (unsigned long long)m->sent, (unsigned long long)m->recv, m->us / 1000.0);
	printf("%-34s %6llu %7llu %8llu %10.1f\n", "  floor", (unsigned long long)f->c.apdus,
	    (unsigned long long)f->c.sent, (unsigned long long)f->c.recv, f->c.us / 1000.0);
	printf("  measured/floor: APDUs %.2fx, bytes %.2fx, time %.2fx   goal <= 1.10x: %s\n",
	    ra, rb, rt, ok ? "met" : "MISSED");
	if (extra_goal != NULL)
		printf("  goal %s: %s\n", extra_goal, extra_ok ? "met" : "MISSED");
	printf("  floor APDUs (cmd/resp bytes): %s\n", f->how);
	printf("  floor time = %u us x %llu APDUs + %llu bytes x 8 / %u bit/s + %.1f ms key ops\n",
	    LATENCY_US, (unsigned long long)f->c.apdus,
	    (unsigned long long)(f->c.sent + f->c.recv), f->bps, (double)f->c.key_us / 1000.0);
}

static void
print_header(void)
{
	printf("%-34s %6s %7s %8s %10s\n", "flow", "APDUs", "sent", "received", "wall ms");
}

/* ---- card copies ------------------------------------------------------- */

typedef struct workdir {
	char dir[64];	 /* temp root (mkdtemp of a short template) */
	char card[128];	 /* copy of the card directory */
	char state[128]; /* PIN counter file */
	char cache[128]; /* XDG_CACHE_HOME */
} workdir;

static int
workdir_new(workdir *w, const char *name)
{
	char tmpl[] = "/tmp/cnie-bench-XXXXXX", cmd[3 * PATH_MAX];

	memset(w, 0, sizeof(*w));
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(w->dir, sizeof(w->dir), "%s", tmpl);
	snprintf(w->card, sizeof(w->card), "%s/card", w->dir);
	snprintf(w->state, sizeof(w->state), "%s/state.json", w->dir);
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->dir);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/cards/%s' '%s' && mkdir '%s'", build_dir, name,
	    w->card, w->cache);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static void
workdir_free(workdir *w)
{
	char cmd[PATH_MAX + 16];

	if (w->dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_card: cannot remove %s\n", w->dir);
	w->dir[0] = '\0';
}

static int
open_refcard(const workdir *w, bool contactless, cnie_transport **t)
{
	char timing[128];

	/* The emulator reads its timing model at open (drivers/emu/emu.c). */
	snprintf(timing, sizeof(timing), "%u,%u,%u,%u,%u", LATENCY_US,
	    contactless ? CONTACTLESS_BPS : CONTACT_BPS, RSA_US, EC_US, PACE_US);
	if (setenv("CNIE_EMU_TIMING", timing, 1) != 0)
		return CNIE_ERR_NOMEM;
	return cnie_refcard_open(w->card, w->state, contactless, t);
}

/* ---- flows 1 and 2: open + PIN + sign (contact) ------------------------ */

static int
pin_sign(const workdir *w, cost *m, cnie_card_key_info *key_out)
{
	cnie_transport *t = NULL;
	cnie_card *c = NULL;
	cnie_card_key_info k;
	cnie_card_mech mech;
	cnie_transport_stats st;
	const uint8_t *der;
	uint8_t in[64], sig[1024];
	size_t n, i, der_len, in_len, sig_len = sizeof(sig);
	double t0;
	bool found = false;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = open_refcard(w, false, &t)) != 0)
		goto out;
	t0 = tu_now_us();
	r = cnie_card_open(t, &c);
	t = NULL;
	if (r != 0)
		goto out;
	if ((r = cnie_card_key_count(c, &n)) != 0)
		goto out;
	for (i = 0; i < n && !found; i++) {
		if ((r = cnie_card_get_key(c, i, &k)) != 0)
			goto out;
		found = (k.usage & CNIE_CARD_USAGE_NON_REPUDIATION) != 0;
	}
	if (!found) {
		r = CNIE_ERR_NOT_FOUND;
		goto out;
	}
	/* A signing application shows the key's certificate first. */
	if ((r = cnie_card_certificate(c, k.id, k.id_len, &der, &der_len)) != 0)
		goto out;
	if ((r = cnie_card_pin_verify(c, PIN, NULL)) != 0)
		goto out;
	memset(&mech, 0, sizeof(mech));
	if (k.type == CNIE_CARD_KEY_RSA) {
		mech.type = CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = CNIE_CARD_HASH_SHA256;
		in_len = 32;
	} else {
		mech.type = CNIE_CARD_MECH_ECDSA;
		mech.hash = CNIE_CARD_HASH_NONE;
		in_len = k.bits <= 256 ? 32 : k.bits <= 384 ? 48 : 64;
	}
	memset(in, 0x5A, sizeof(in));
	if ((r = cnie_card_sign(c, k.id, k.id_len, &mech, in, in_len, sig, &sig_len)) != 0)
		goto out;
	m->us = tu_now_us() - t0;
	cnie_transport_get_stats(cnie_card_transport(c), &st);
	m->apdus = st.apdus;
	m->sent = st.bytes_sent;
	m->recv = st.bytes_received;
	*key_out = k;
out:
	cnie_card_free(&c);
	cnie_transport_free(&t);
	return r;
}

/* SELECT of an application by AID, no answer data (P2 0C). */
static size_t
select_aid_len(size_t aid_len)
{
	return 4 + 1 + aid_len;
}

/*
 * Cold floor: SELECT PKI AID (card identified by its application, EF.DIR
 * not needed); GET DATA serial, because with the on-disk cache on the
 * flow must also key what it stores for the next run (the warm floor
 * below needs the same APDU); the PKCS#15 files needed to find the key, its PIN and its
 * certificate: ODF (where the DFs are), AODF (PIN reference, lengths),
 * PrKDF (key reference, iD), CDF (certificate path) - TokenInfo is not
 * needed to sign; the certificate; VERIFY; MSE:SET DST (84 only: the key's
 * default algorithm); PSO:CDS with short Le.
 */
static void
floor_sign_tail(floor_acc *f, const cnie_card_key_info *k)
{
	size_t sig_len, in_len;
	uint32_t op;

	floor_apdu(f, "VERIFY", 4 + 1 + strlen(PIN), 2, 0);
	floor_apdu(f, "MSE:SET DST", 4 + 1 + 3, 2, 0);
	if (k->type == CNIE_CARD_KEY_RSA) {
		in_len = 19 + 32; /* DigestInfo SHA-256 */
		sig_len = k->bits / 8;
		op = RSA_US;
	} else {
		in_len = k->bits <= 256 ? 32 : k->bits <= 384 ? 48 : 64;
		sig_len = 2 * ((k->bits + 7) / 8);
		op = EC_US;
	}
	floor_apdu(f, "PSO:CDS", 4 + 1 + in_len + 1, sig_len + 2, op);
}

static void
floor_cold(floor_acc *f, const workdir *w, const cnie_card_key_info *k)
{
	memset(f, 0, sizeof(*f));
	f->bps = CONTACT_BPS;
	floor_apdu(f, "SELECT AID", select_aid_len(sizeof(pki_aid)), 2, 0);
	floor_apdu(f, "GET DATA serial", 5, 8 + 2, 0);
	floor_read_fid(f, "ODF", file_size(w->card, "3F00-A001-5031"));
	floor_read_fid(f, "AODF", file_size(w->card, "3F00-A001-4401"));
	floor_read_fid(f, "PrKDF", file_size(w->card, "3F00-A001-4402"));
	floor_read_fid(f, "CDF", file_size(w->card, "3F00-A001-4404"));
	floor_read_fid(f, "cert", file_size(w->card, "3F00-A001-4332"));
	floor_sign_tail(f, k);
}

/*
 * Warm floor: what was read before is on disk, but the cache must be
 * matched to this card: SELECT AID, GET DATA serial (8 bytes), then
 * VERIFY, MSE:SET, PSO.
 */
static void
floor_warm(floor_acc *f, const cnie_card_key_info *k)
{
	memset(f, 0, sizeof(*f));
	f->bps = CONTACT_BPS;
	floor_apdu(f, "SELECT AID", select_aid_len(sizeof(pki_aid)), 2, 0);
	floor_apdu(f, "GET DATA serial", 5, 8 + 2, 0);
	floor_sign_tail(f, k);
}

static void
bench_sign(const char *card)
{
	workdir w;
	cost cold, warm;
	cnie_card_key_info k;
	floor_acc fc, fw;
	char name[64];
	int r;

	if (workdir_new(&w, card) != 0) {
		fprintf(stderr, "bench_card: cannot copy card %s\n", card);
		failures++;
		return;
	}
	if (setenv("XDG_CACHE_HOME", w.cache, 1) != 0) {
		failures++;
		goto out;
	}
	if ((r = pin_sign(&w, &cold, &k)) != 0) {
		fprintf(stderr, "bench_card: %s cold sign: %s\n", card, cnie_strerror(r));
		failures++;
		goto out;
	}
	floor_cold(&fc, &w, &k);
	snprintf(name, sizeof(name), "(1) %s open+PIN+sign, cold", card);
	print_flow(name, &cold, &fc, NULL, true);
	if ((r = pin_sign(&w, &warm, &k)) != 0) {
		fprintf(stderr, "bench_card: %s warm sign: %s\n", card, cnie_strerror(r));
		failures++;
		goto out;
	}
	floor_warm(&fw, &k);
	snprintf(name, sizeof(name), "(2) %s open+PIN+sign, warm", card);
	print_flow(name, &warm, &fw, "warm PIN+sign <= 5 APDUs", warm.apdus <= 5);
	if (warm.apdus == cold.apdus)
		printf("  (warm = cold: no on-disk cache in this build)\n");
out:
	unsetenv("XDG_CACHE_HOME");
	workdir_free(&w);
}

/* ---- flow 5: another client moved the DF between two calls -------------- */

/* APDUs of one call: after mv (another client's SELECT, not counted) or none. */
static int
count_call(cnie_card *c, const uint8_t *mv, size_t mv_len, bool verify,
    const cnie_card_key_info *k, uint64_t *apdus)
{
	cnie_transport *t = cnie_card_transport(c);
	cnie_transport_stats a, b;
	cnie_card_mech mech = { CNIE_CARD_MECH_ECDSA, CNIE_CARD_HASH_NONE, 0 };
	uint8_t in[32], sig[1024];
	size_t sig_len = sizeof(sig);
	cnie_buf *resp;
	int r;

	if (mv != NULL) {
		/* The reference card is in process: this APDU stands for another program's. */
		if ((resp = cnie_buf_new()) == NULL)
			return CNIE_ERR_NOMEM;
		r = cnie_transport_transmit(t, mv, mv_len, 0, resp);
		cnie_buf_free(&resp);
		if (r != 0)
			return r;
	}
	cnie_transport_get_stats(t, &a);
	if (verify) {
		r = cnie_card_pin_verify(c, PIN, NULL);
	} else {
		if (k->type == CNIE_CARD_KEY_RSA) {
			mech.type = CNIE_CARD_MECH_RSA_PKCS1;
			mech.hash = CNIE_CARD_HASH_SHA256;
		}
		memset(in, 0x5A, sizeof(in));
		r = cnie_card_sign(c, k->id, k->id_len, &mech, in, sizeof(in), sig, &sig_len);
	}
	cnie_transport_get_stats(t, &b);
	*apdus = b.apdus - a.apdus;
	return r;
}

/*
 * docs/card-profile.md 9: a call pays nothing when nobody else used the
 * card since our last one, and the refused command plus one SELECT when
 * another client left another DF current.
 */
static void
bench_other_client(const char *card)
{
	static const uint8_t sel_mf[] = { 0x00, 0xA4, 0x00, 0x0C };
	static const uint8_t sel_icao[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00,
		0x02, 0x47, 0x10, 0x01 };
	cnie_transport *t = NULL;
	cnie_card *c = NULL;
	cnie_card_key_info k;
	const uint8_t *der;
	uint64_t alone_v = 0, alone_s = 0, mf_s = 0, icao_s = 0, icao_v = 0;
	size_t n, i, der_len;
	bool found = false;
	workdir w;
	int r;

	if (workdir_new(&w, card) != 0) {
		failures++;
		return;
	}
	if ((r = open_refcard(&w, false, &t)) != 0 || (r = cnie_card_open(t, &c)) != 0)
		goto out;
	t = NULL;
	if ((r = cnie_card_key_count(c, &n)) != 0)
		goto out;
	for (i = 0; i < n && !found; i++) {
		if ((r = cnie_card_get_key(c, i, &k)) != 0)
			goto out;
		found = (k.usage & CNIE_CARD_USAGE_NON_REPUDIATION) == 0; /* one VERIFY, many */
	}
	if (!found || (r = cnie_card_certificate(c, k.id, k.id_len, &der, &der_len)) != 0 ||
	    (r = count_call(c, NULL, 0, true, &k, &alone_v)) != 0 ||
	    (r = count_call(c, NULL, 0, false, &k, &alone_s)) != 0 ||
	    (r = count_call(c, NULL, 0, false, &k, &alone_s)) != 0 ||
	    (r = count_call(c, sel_mf, sizeof(sel_mf), false, &k, &mf_s)) != 0 ||
	    (r = count_call(c, sel_icao, sizeof(sel_icao), false, &k, &icao_s)) != 0 ||
	    (r = count_call(c, sel_icao, sizeof(sel_icao), true, &k, &icao_v)) != 0)
		goto out;
	printf("(5) %s another client moved the DF between two calls (APDUs of our call)\n", card);
	printf("  signature: alone %llu; after SELECT MF %llu; after SELECT ICAO %llu\n",
	    (unsigned long long)alone_s, (unsigned long long)mf_s, (unsigned long long)icao_s);
	printf("  VERIFY:    alone %llu; after SELECT ICAO %llu\n", (unsigned long long)alone_v,
	    (unsigned long long)icao_v);
	printf("  extra when the DF was moved: %llu (the refused command + SELECT)\n",
	    (unsigned long long)(mf_s - alone_s));
out:
	if (r != 0) {
		fprintf(stderr, "bench_card: %s other client: %s\n", card, cnie_strerror(r));
		failures++;
	}
	cnie_card_free(&c);
	cnie_transport_free(&t);
	workdir_free(&w);
}

/* ---- flow 3: full LDS read over contactless with PACE ------------------ */

/*
 * EF.CardAccess: SET { SEQUENCE { OID, INTEGER version, INTEGER paramId } }
 * (our own card directory's file, parsed only for the floor's sizes).
 */
static int
pace_params(const workdir *w, size_t *oid_len, size_t *field)
{
	char path[PATH_MAX];
	uint8_t b[256];
	size_t n, o;
	FILE *fp;
	unsigned id;

	snprintf(path, sizeof(path), "%s/files/3F00-011C", w->card);
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(b, 1, sizeof(b), fp);
	fclose(fp);
	/* 31 L 30 L 06 L oid 02 01 v 02 01 id: short lengths only. */
	if (n < 6 || b[0] != 0x31 || b[2] != 0x30 || b[4] != 0x06)
		return -1;
	*oid_len = b[5];
	o = 6 + *oid_len;
	if (o + 6 > n || b[o] != 0x02 || b[o + 1] != 0x01 || b[o + 3] != 0x02 ||
	    b[o + 4] != 0x01)
		return -1;
	id = b[o + 5];
	/* ICAO 9303-11 9.5.1 standardized domain parameters. */
	switch (id) {
	case 8: case 9: *field = 24; break;
	case 10: case 11: *field = 28; break;
	case 12: case 13: *field = 32; break;
	case 14: *field = 40; break;
	case 15: case 16: *field = 48; break;
	case 17: *field = 64; break;
	case 18: *field = 66; break;
	default: return -1;
	}
	return 0;
}

/*
 * Floor: READ BINARY SFI 28 (EF.CardAccess, plain, MF current after
 * power-up); PACE: MSE:SET AT (80 OID, 83 01 02 CAN), GENERAL AUTHENTICATE
 * x4 (nonce, map, key agreement: 7C 43 8x 41 <point>, mutual auth 85/86
 * 08 <token>); SELECT ICAO AID under SM; one READ BINARY by SFI per file
 * (EF.COM, the DGs it lists, EF.SOD) under SM.
 */
static int
floor_lds(floor_acc *f, const workdir *w, const cnie_icao_files *files, bool cached)
{
	static const struct { int dg; const char *fid; } dgs[] = {
		{ 1, "3F00-A002-0101" }, { 2, "3F00-A002-0102" }, { 3, "3F00-A002-0103" },
		{ 4, "3F00-A002-0104" }, { 5, "3F00-A002-0105" }, { 6, "3F00-A002-0106" },
		{ 7, "3F00-A002-0107" }, { 8, "3F00-A002-0108" }, { 9, "3F00-A002-0109" },
		{ 10, "3F00-A002-010A" }, { 11, "3F00-A002-010B" }, { 12, "3F00-A002-010C" },
		{ 13, "3F00-A002-010D" }, { 14, "3F00-A002-010E" }, { 15, "3F00-A002-010F" },
		{ 16, "3F00-A002-0110" },
	};
	size_t oid_len, field, pt, i, ca;
	char what[16];

	memset(f, 0, sizeof(*f));
	f->bps = CONTACTLESS_BPS;
	if (pace_params(w, &oid_len, &field) != 0)
		return -1;
	ca = file_size(w->card, "3F00-011C");
	floor_apdu(f, "READ CardAccess", 5, ca + 2, 0);
	floor_apdu(f, "MSE:SET AT", 4 + 1 + 2 + oid_len + 3, 2, 0);
	pt = 1 + 2 * field;
	floor_apdu(f, "GA nonce", 4 + 1 + 2 + 1, 2 + 2 + 16 + 2, PACE_US);
	floor_apdu(f, "GA map", 4 + 1 + 2 + 2 + pt + 1, 2 + 2 + pt + 2, PACE_US);
	floor_apdu(f, "GA agree", 4 + 1 + 2 + 2 + pt + 1, 2 + 2 + pt + 2, PACE_US);
	floor_apdu(f, "GA auth", 4 + 1 + 4 + 8 + 1, 4 + 8 + 2, PACE_US);
	/* 87 11 01 <AID padded to 16> + 8E 08 MAC, Le 00; answer 99 + 8E + SW. */
	floor_apdu(f, "SM SELECT AID",
	    4 + 1 + (3 + (sizeof(icao_aid) / 16 + 1) * 16) + 10 + 1, 4 + 10 + 2, 0);
	floor_read_sfi_sm(f, "COM", file_size(w->card, "3F00-A002-011E"));
	/* Warm opt-in LDS cache: the DGs come from disk, vouched for by EF.SOD. */
	for (i = 0; i < sizeof(dgs) / sizeof(dgs[0]); i++) {
		if (cached || files->dg[dgs[i].dg] == NULL)
			continue;
		snprintf(what, sizeof(what), "DG%d", dgs[i].dg);
		floor_read_sfi_sm(f, what, file_size(w->card, dgs[i].fid));
	}
	floor_read_sfi_sm(f, "SOD", file_size(w->card, "3F00-A002-011D"));
	return 0;
}

static void
bench_pa(const char *card, const cnie_icao_files *files)
{
	cnie_pa_trust *trust = NULL;
	cnie_pa_dg dgs[CNIE_LDS_MAX_DG];
	cnie_pa_result res;
	char path[PATH_MAX], desc[128];
	size_t n = 0, bytes = 0;
	double t0, us;
	int i, r;

	snprintf(path, sizeof(path), "%s/cards/pki/csca.pem", build_dir);
	if ((r = cnie_pa_trust_new(&trust)) != 0 ||
	    (r = cnie_pa_trust_add_file(trust, path)) != 0) {
		fprintf(stderr, "bench_card: %s: %s\n", path, cnie_strerror(r));
		failures++;
		goto out;
	}
	for (i = 1; i <= CNIE_LDS_MAX_DG; i++) {
		if (files->dg[i] == NULL)
			continue;
		dgs[n].number = i;
		dgs[n].data = cnie_buf_ptr(files->dg[i]);
		dgs[n].len = cnie_buf_len(files->dg[i]);
		bytes += dgs[n].len;
		n++;
	}
	t0 = tu_now_us();
	for (i = 0; i < PA_ROUNDS; i++) {
		r = cnie_pa_verify(cnie_buf_ptr(files->sod), cnie_buf_len(files->sod), dgs, n,
		    trust, 0, &res);
		if (r != 0)
			break;
	}
	us = (tu_now_us() - t0) / PA_ROUNDS;
	if (r != 0) {
		fprintf(stderr, "bench_card: %s PA: %s\n", card,
		    cnie_pa_describe(&res, desc, sizeof(desc)));
		failures++;
		goto out;
	}
	printf("(4) %s Passive Authentication: %.2f ms CPU per verify (mean of %d; %zu DGs, "
	    "%zu DG bytes + %zu SOD bytes, %s; no card I/O)\n", card, us / 1000.0, PA_ROUNDS, n,
	    bytes, cnie_buf_len(files->sod), res.hash_alg);
out:
	cnie_pa_trust_free(&trust);
}

static void
bench_lds(const char *card, const char *can, bool cached)
{
	workdir w;
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_files files;
	cnie_icao_secret s = { CNIE_ICAO_CAN, can, 0 };
	cnie_transport_stats st;
	floor_acc f;
	cost m;
	char name[64];
	double t0;
	int r;

	memset(&files, 0, sizeof(files));
	if (workdir_new(&w, card) != 0) {
		fprintf(stderr, "bench_card: cannot copy card %s\n", card);
		failures++;
		return;
	}
	if (cached && setenv("XDG_CACHE_HOME", w.cache, 1) != 0) {
		r = CNIE_ERR_IO;
		goto out;
	}
	/* With the cache, a first read fills it; the second is measured. */
	for (int round = cached ? 0 : 1; round < 2; round++) {
		cnie_icao_files_clear(&files);
		cnie_icao_free(&ic);
		cnie_transport_free(&t);
		if ((r = open_refcard(&w, true, &t)) != 0)
			goto out;
		t0 = tu_now_us();
		if ((r = cnie_icao_open(t, &s, &ic)) != 0)
			goto out;
		if ((r = cnie_icao_read_all_ex(ic, cached ? CNIE_ICAO_READ_CACHED : 0, &files,
		    NULL, NULL)) != 0)
			goto out;
	}
	memset(&m, 0, sizeof(m));
	m.us = tu_now_us() - t0;
	/* The outer transport: every APDU on the air, PACE included. */
	cnie_transport_get_stats(t, &st);
	m.apdus = st.apdus;
	m.sent = st.bytes_sent;
	m.recv = st.bytes_received;
	if (floor_lds(&f, &w, &files, cached) != 0) {
		fprintf(stderr, "bench_card: %s: EF.CardAccess not understood\n", card);
		failures++;
		goto out;
	}
	snprintf(name, sizeof(name), cached ? "(3w) %s PACE + LDS, warm LDS cache" :
	    "(3) %s PACE + full LDS read", card);
	print_flow(name, &m, &f, NULL, true);
	if (files.sod != NULL && !cached)
		bench_pa(card, &files);
out:
	if (r != 0) {
		fprintf(stderr, "bench_card: %s LDS read: %s\n", card, cnie_strerror(r));
		failures++;
	}
	if (cached)
		unsetenv("XDG_CACHE_HOME");
	cnie_icao_files_clear(&files);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	workdir_free(&w);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_card BUILD_DIR\n");
		return 2;
	}
	build_dir = argv[1];
	printf("timing model: %u us per APDU; contact T=1 %u bit/s, contactless %u bit/s; "
	    "RSA %u ms, EC %u ms per private-key op; PACE %u ms per GENERAL AUTHENTICATE\n",
	    LATENCY_US, CONTACT_BPS, CONTACTLESS_BPS, RSA_US / 1000, EC_US / 1000,
	    PACE_US / 1000);
	printf("floor: fewest APDUs/bytes docs/card-profile.md allows for the same work; "
	    "floor time = the model over the floor's APDUs\n");
	print_header();
	bench_sign("ec");
	bench_sign("rsa");
	bench_other_client("ec");
	bench_lds("ec", "123456", false);
	bench_lds("ec", "123456", true);
	bench_lds("rsa", "234567", false);
	return failures == 0 ? 0 : 1;
}
