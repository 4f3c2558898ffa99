/*
 * bench_pace: PACE generic mapping vs integrated mapping vs chip
 * authentication mapping (ICAO 9303-11 4.4.3), brainpoolP256r1 and
 * AES-128 each, against the in-process reference card (a copy of
 * CNIE_BUILD_DIR/cards/ec whose EF.CardAccess offers the one mapping).
 *
 * Two flows per mapping:
 *   open:      cnie_icao_open with the CAN (EF.CardAccess, MSE:SET AT, four
 *              GENERAL AUTHENTICATE, SELECT of the application under SM);
 *   chip auth: open, read DG14, cnie_icao_chip_auth (GM and IM: the Chip
 *              Authentication protocol, MSE + GA + a SELECT under the new
 *              keys; CAM: no APDU, the PACE run's proof is checked).
 * Each is timed with the emulator's timing model off (the host's and the
 * emulator's own computation, mean of ROUNDS) and on (a contactless card,
 * one run: APDUs, bytes, wall time), beside its floor: the fewest APDUs
 * the flow can take.  Figures and ratios only, never an assertion.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/refcard.h>
#include <cnie/tlv.h>
#include <cnie/transport.h>

#include "testutil.h"

/* bench_card.c's contactless timing model (per APDU, bit rate, EC, RSA, PACE step). */
#define TIMING_ON "5000,106000,150000,80000,40000"
#define TIMING_OFF "0,0,0,0,0"
#define ROUNDS 20
#define CAN "123456"

typedef struct mapping {
	const char *name;
	uint8_t arc; /* id-PACE-<arc>-AES-CBC-CMAC-128 */
} mapping;

static const mapping maps[] = { { "GM", 2 }, { "IM", 4 }, { "CAM", 6 } };

typedef struct result {
	double open_ms, auth_ms;	     /* timing off, mean */
	double open_model_ms, auth_model_ms; /* timing on */
	uint64_t open_apdus, auth_apdus, open_bytes, auth_bytes;
} result;

static char root[64];

/* A copy of the EC card offering one PACEInfo {arc, AES-128, brainpoolP256r1}. */
static int
make_card(const mapping *m, char *dir, size_t n)
{
	const uint8_t ca[] = { 0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07,
		0x02, 0x02, 0x04, m->arc, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x0D };
	char cmd[3 * PATH_MAX], path[PATH_MAX + 32];
	FILE *f;
	bool ok;

	snprintf(dir, n, "%s/%s", root, m->name);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/cards/ec' '%s'", tu_build_dir(), dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/files/3F00-011C", dir);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(ca, 1, sizeof(ca), f) == sizeof(ca);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* One flow: APDUs and bytes from the transport's counters, ms the wall time. */
static int
flow(const char *dir, const char *timing, bool auth, double *ms, uint64_t *apdus,
    uint64_t *bytes)
{
	cnie_icao_secret can = { CNIE_ICAO_CAN, CAN, 0 };
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_buf *dg14 = NULL;
	cnie_transport_stats st;
	double t0;
	int r;

	if (setenv("CNIE_EMU_TIMING", timing, 1) != 0)
		return CNIE_ERR_NOMEM;
	if ((r = cnie_refcard_open(dir, "/nonexistent/state.json", true, &t)) != 0)
		return r;
	cnie_transport_reset_stats(t);
	t0 = tu_now_us();
	if ((r = cnie_icao_open(t, &can, &ic)) != 0)
		goto out;
	if (auth) {
		if ((dg14 = cnie_buf_new()) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		if ((r = cnie_icao_read(ic, 14, dg14, NULL, NULL)) != 0 ||
		    (r = cnie_icao_chip_auth(ic, cnie_buf_ptr(dg14), cnie_buf_len(dg14))) != 0)
			goto out;
		if (cnie_icao_chip_authenticated(ic) == CNIE_ICAO_CHIP_NONE) {
			r = CNIE_ERR_INTERNAL;
			goto out;
		}
	}
	*ms = (tu_now_us() - t0) / 1000.0;
	cnie_transport_get_stats(t, &st);
	*apdus = st.apdus;
	*bytes = st.bytes_sent + st.bytes_received;
out:
	cnie_buf_free(&dg14);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	return r;
}

static int
measure(const mapping *m, result *res)
{
	char dir[PATH_MAX];
	double ms, sum_open = 0, sum_auth = 0;
	uint64_t a, b;
	int i, r;

	memset(res, 0, sizeof(*res));
	if (make_card(m, dir, sizeof(dir)) != 0)
		return CNIE_ERR_IO;
	for (i = 0; i < ROUNDS; i++) {
		if ((r = flow(dir, TIMING_OFF, false, &ms, &a, &b)) != 0)
			return r;
		sum_open += ms;
		if ((r = flow(dir, TIMING_OFF, true, &ms, &a, &b)) != 0)
			return r;
		sum_auth += ms;
	}
	res->open_ms = sum_open / ROUNDS;
	res->auth_ms = sum_auth / ROUNDS;
	if ((r = flow(dir, TIMING_ON, false, &res->open_model_ms, &res->open_apdus,
		 &res->open_bytes)) != 0 ||
	    (r = flow(dir, TIMING_ON, true, &res->auth_model_ms, &res->auth_apdus,
		 &res->auth_bytes)) != 0)
		return r;
	return 0;
}

int
main(void)
{
	char tmpl[] = "/tmp/cnie-bench-pace-XXXXXX", cmd[PATH_MAX + 16];
	result res[sizeof(maps) / sizeof(maps[0])];
	/*
	 * Floors.  open: READ BINARY of EF.CardAccess (22 bytes, one APDU),
	 * MSE:SET AT, four GENERAL AUTHENTICATE, SELECT = 7.  chip auth: + DG14
	 * (one SM READ BINARY when it fits the first read, 223 bytes, else one
	 * more for the rest over extended length), + MSE, GA and SELECT under
	 * the new keys for CA; nothing more for CAM.
	 */
	const uint64_t open_floor = 7, ca_floor = 3;
	uint64_t dg14_floor = 2;
	char path[PATH_MAX];
	uint8_t dg14[4096];
	ssize_t dg14_len;
	size_t i;
	int r, rc = 0;

	if (tu_build_dir() == NULL) {
		fprintf(stderr, "bench_pace: CNIE_BUILD_DIR not set\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/cards/ec/files/3F00-A002-010E", tu_build_dir());
	if ((dg14_len = tu_read_file(path, dg14, sizeof(dg14))) > 0 && dg14_len <= 223)
		dg14_floor = 1;
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s", tmpl);
	printf("PACE mappings, brainpoolP256r1, AES-128, in-process reference card\n");
	printf("%-5s %-9s %6s %6s %7s %12s %12s\n", "map", "flow", "APDUs", "floor", "bytes",
	    "compute ms", "model ms");
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		uint64_t af;

		if ((r = measure(&maps[i], &res[i])) != 0) {
			fprintf(stderr, "bench_pace: %s: %s\n", maps[i].name, cnie_strerror(r));
			rc = 1;
			goto out;
		}
		af = open_floor + dg14_floor + (maps[i].arc == 6 ? 0 : ca_floor);
		printf("%-5s %-9s %6llu %6llu %7llu %12.2f %12.1f\n", maps[i].name, "open",
		    (unsigned long long)res[i].open_apdus, (unsigned long long)open_floor,
		    (unsigned long long)res[i].open_bytes, res[i].open_ms, res[i].open_model_ms);
		printf("%-5s %-9s %6llu %6llu %7llu %12.2f %12.1f\n", maps[i].name, "chip auth",
		    (unsigned long long)res[i].auth_apdus, (unsigned long long)af,
		    (unsigned long long)res[i].auth_bytes, res[i].auth_ms, res[i].auth_model_ms);
	}
	for (i = 1; i < sizeof(maps) / sizeof(maps[0]); i++)
		printf("%s/GM: open compute %.2fx, model %.2fx; chip auth compute %.2fx, model "
		       "%.2fx, APDUs %llu vs %llu\n",
		    maps[i].name, res[i].open_ms / res[0].open_ms,
		    res[i].open_model_ms / res[0].open_model_ms, res[i].auth_ms / res[0].auth_ms,
		    res[i].auth_model_ms / res[0].auth_model_ms,
		    (unsigned long long)res[i].auth_apdus, (unsigned long long)res[0].auth_apdus);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_pace: cannot remove %s\n", root);
	return rc;
}
