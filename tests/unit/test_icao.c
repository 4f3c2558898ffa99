/*
 * The identity application reader against the reference card:
 *
 *   test_icao                         in-process card (ec and rsa)
 *   test_icao pcsc READER_SUBSTRING contact|contactless
 *                                     the EC card through pcscd
 *
 * Full LDS read + Passive Authentication against the test CSCA, wrong CAN,
 * BAC over contact, Active and Chip Authentication, progress reports.
 * CNIE_BUILD_DIR locates the generated cards and PKI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/pa.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>
#include <cnie/transport.h>

/* The test cards' secrets (card.json "secrets"). */
#define TEST_CAN "123456"
#define RSA_CAN "234567"
#define EC_MRZ "I<MARZT00000013<<<<<<<<<<<<<<<9003152F3106305MAR<<<<<<<<<<<4BENALI<<FATIMA<ZAHRA<<<<<<<<<<"

static const char *pcsc_reader; /* NULL: in-process card */
static bool pcsc_contactless;
static cnie_pcsc *pcsc_ctx;

static const char *
build_dir(void)
{
	const char *bd = getenv("CNIE_BUILD_DIR");

	assert_non_null(bd);
	return bd;
}

/* The card named card ("ec", "rsa") on the wanted interface. */
static void
open_card(const char *card, bool contactless, cnie_transport **t)
{
	char dir[4096], **names = NULL;
	size_t n = 0, i;

	if (pcsc_reader == NULL) {
		snprintf(dir, sizeof(dir), "%s/cards/%s", build_dir(), card);
		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", contactless, t),
		    0);
		return;
	}
	*t = NULL;
	assert_int_equal(cnie_pcsc_list_readers(pcsc_ctx, &names, &n), 0);
	for (i = 0; i < n; i++)
		if (strstr(names[i], pcsc_reader) != NULL) {
			assert_int_equal(cnie_pcsc_connect(pcsc_ctx, names[i], t), 0);
			break;
		}
	cnie_pcsc_free_names(&names);
	assert_non_null(*t);
}

static bool
use_contactless(void)
{
	return pcsc_reader == NULL ? true : pcsc_contactless;
}

static void
open_can_of(const char *card, cnie_transport *t, cnie_icao **ic)
{
	cnie_icao_secret s = { CNIE_ICAO_CAN, strcmp(card, "rsa") == 0 ? RSA_CAN : TEST_CAN, 0 };

	assert_int_equal(cnie_icao_open(t, &s, ic), 0);
	assert_true(cnie_icao_used_pace(*ic));
}

static void
open_can(cnie_transport *t, cnie_icao **ic)
{
	open_can_of("ec", t, ic);
}

typedef struct progress {
	size_t calls, last, total;
	bool monotonic;
} progress;

static void
on_progress(size_t done, size_t total, void *arg)
{
	progress *p = arg;

	if (p->calls > 0 && p->total == total && done <= p->last)
		p->monotonic = false;
	if (done > total)
		p->monotonic = false;
	p->calls++;
	p->last = done;
	p->total = total;
}

/* Reads everything, checks PA against cards/pki/csca.pem. */
static void
full_read_pa(const char *card)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_files f;
	cnie_pa_trust *trust = NULL;
	cnie_pa_dg dgs[CNIE_LDS_MAX_DG];
	cnie_pa_result res;
	cnie_transport_stats st;
	char path[4096];
	size_t n = 0;
	int i;

	open_card(card, use_contactless(), &t);
	open_can_of(card, t, &ic);
	cnie_transport_reset_stats(t);
	assert_int_equal(cnie_icao_read_all(ic, &f, NULL, NULL), 0);
	cnie_transport_get_stats(t, &st);
	printf("# %s full LDS read (%s): %llu APDUs, %llu bytes sent, %llu received\n", card,
	    pcsc_reader != NULL ? pcsc_reader : "in-process", (unsigned long long)st.apdus,
	    (unsigned long long)st.bytes_sent, (unsigned long long)st.bytes_received);
	assert_non_null(f.com);
	assert_non_null(f.sod);
	/* The reference card's LDS: DG1, DG2, DG11, DG12, DG14, DG15. */
	assert_non_null(f.dg[1]);
	assert_non_null(f.dg[2]);
	assert_non_null(f.dg[11]);
	assert_non_null(f.dg[12]);
	assert_non_null(f.dg[14]);
	assert_non_null(f.dg[15]);
	assert_int_equal(cnie_buf_ptr(f.dg[2])[0], 0x75);
	for (i = 1; i <= CNIE_LDS_MAX_DG; i++) {
		if (f.dg[i] == NULL)
			continue;
		dgs[n].number = i;
		dgs[n].data = cnie_buf_ptr(f.dg[i]);
		dgs[n].len = cnie_buf_len(f.dg[i]);
		n++;
	}
	assert_int_equal(n, 6);
	snprintf(path, sizeof(path), "%s/cards/pki/csca.pem", build_dir());
	assert_int_equal(cnie_pa_trust_new(&trust), 0);
	assert_int_equal(cnie_pa_trust_add_file(trust, path), 0);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(f.sod), cnie_buf_len(f.sod), dgs, n, trust, 0,
	    &res), 0);
	assert_int_equal(res.dg[1], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[2], CNIE_PA_DG_MATCH);
	assert_int_equal(res.dg[15], CNIE_PA_DG_MATCH);
	cnie_pa_trust_free(&trust);
	cnie_icao_files_clear(&f);
	assert_null(f.com);
	cnie_icao_free(&ic);
	assert_null(ic);
	cnie_transport_free(&t);
}

static void
test_full_read_pa_ec(void **state)
{
	(void)state;
	full_read_pa("ec");
}

static void
test_full_read_pa_rsa(void **state)
{
	(void)state;
	full_read_pa("rsa");
}

/*
 * DG2 (7472 bytes) with a progress report after each part: one part when
 * the transport takes extended answers that large, else several.
 */
static void
test_progress(void **state)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_buf *b = cnie_buf_new();
	progress p = { 0, 0, 0, true };

	(void)state;
	open_card("ec", use_contactless(), &t);
	open_can(t, &ic);
	assert_int_equal(cnie_icao_read(ic, 2, b, on_progress, &p), 0);
	assert_true(p.monotonic);
	{
		const cnie_transport_caps *caps = cnie_transport_get_caps(cnie_icao_transport(ic));

		if (caps->extended && caps->max_resp >= 7472 + 2)
			assert_int_equal(p.calls, 1);
		else
			assert_true(p.calls >= 2);
	}
	assert_int_equal(p.total, 7472);
	assert_int_equal(p.last, 7472);
	assert_int_equal(cnie_buf_len(b), 7472);
	/* Not an LDS file: refused before any APDU. */
	assert_int_equal(cnie_icao_read(ic, 17, b, NULL, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_icao_read(ic, 0, b, NULL, NULL), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_buf_len(b), 7472);
	/* DG3 is not on the card. */
	assert_int_equal(cnie_icao_read(ic, 3, b, NULL, NULL), CNIE_ERR_SW_FILE_NOT_FOUND);
	assert_int_equal(cnie_buf_len(b), 7472);
	cnie_buf_free(&b);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

static void
test_wrong_can(void **state)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = (cnie_icao *)1;
	cnie_icao_secret s = { CNIE_ICAO_CAN, "654321", 0 };

	(void)state;
	open_card("ec", use_contactless(), &t);
	assert_int_equal(cnie_icao_open(t, &s, &ic), CNIE_ERR_PACE);
	assert_null(ic);
	/* The right CAN still works afterwards (CAN tries are not counted). */
	open_can(t, &ic);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

/* PACE with the MRZ as the password. */
static void
test_pace_mrz(void **state)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_secret s = { CNIE_ICAO_MRZ, EC_MRZ, 0 };
	cnie_buf *b = cnie_buf_new();

	(void)state;
	open_card("ec", use_contactless(), &t);
	assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
	assert_true(cnie_icao_used_pace(ic));
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x61);
	cnie_buf_free(&b);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

/* Contact policy pace-or-bac: BAC with the MRZ opens the application. */
static void
test_bac_contact(void **state)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_secret s = { CNIE_ICAO_MRZ, EC_MRZ, CNIE_ICAO_NO_PACE };
	cnie_icao_secret can = { CNIE_ICAO_CAN, TEST_CAN, CNIE_ICAO_NO_PACE };
	cnie_icao_secret bad = { CNIE_ICAO_MRZ,
		"I<MARZT00000024<<<<<<<<<<<<<<<9003152F3106305MAR<<<<<<<<<<<4BENALI<<FATIMA<ZAHRA<<<<<<<<<<",
		CNIE_ICAO_NO_PACE };
	cnie_buf *b = NULL;

	(void)state;
	if (pcsc_reader != NULL && pcsc_contactless)
		skip();
	b = cnie_buf_new();
	open_card("ec", false, &t);
	/* A CAN is a PACE password: no BAC with it. */
	assert_int_equal(cnie_icao_open(t, &can, &ic), CNIE_ERR_UNSUPPORTED);
	assert_null(ic);
	/* Another document number (valid check digit): BAC fails. */
	assert_int_equal(cnie_icao_open(t, &bad, &ic), CNIE_ERR_BAC);
	assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
	assert_false(cnie_icao_used_pace(ic));
	assert_int_equal(cnie_icao_read(ic, CNIE_ICAO_EF_COM, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_len(b), 26);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x60);
	cnie_buf_free(&b);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

static void
aa_ca(const char *card)
{
	static const uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_buf *dg14 = cnie_buf_new(), *dg15 = cnie_buf_new(), *sig = cnie_buf_new();
	cnie_buf *b = cnie_buf_new();

	open_card(card, use_contactless(), &t);
	open_can_of(card, t, &ic);
	assert_int_equal(cnie_icao_read(ic, 14, dg14, NULL, NULL), 0);
	assert_int_equal(cnie_icao_read(ic, 15, dg15, NULL, NULL), 0);
	assert_int_equal(cnie_icao_active_auth(ic, chal, sizeof(chal), cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), sig), 0);
	assert_true(cnie_buf_len(sig) >= 64);
	/* A wrong challenge length is refused before any APDU. */
	assert_int_equal(cnie_icao_active_auth(ic, chal, 7, cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), sig), CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(dg14), cnie_buf_len(dg14)), 0);
	/* The new session works for reads and AA. */
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x61);
	cnie_buf_reset(sig);
	assert_int_equal(cnie_icao_active_auth(ic, chal, sizeof(chal), cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), sig), 0);
	cnie_buf_free(&dg14);
	cnie_buf_free(&dg15);
	cnie_buf_free(&sig);
	cnie_buf_free(&b);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

static void
test_aa_ca_ec(void **state)
{
	(void)state;
	aa_ca("ec");
}

static void
test_aa_ca_rsa(void **state)
{
	(void)state;
	aa_ca("rsa");
}

/* CA with a DG14 whose key is not the chip's: the new session fails. */
static void
test_ca_wrong_key(void **state)
{
	cnie_transport *t = NULL, *t2 = NULL;
	cnie_icao *ic = NULL, *ic2 = NULL;
	static const uint8_t chal[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	cnie_buf *other = cnie_buf_new(), *b = cnie_buf_new(), *dg15 = cnie_buf_new();
	cnie_buf *sig = cnie_buf_new();

	(void)state;
	if (pcsc_reader != NULL) {
		cnie_buf_free(&other);
		cnie_buf_free(&b);
		cnie_buf_free(&dg15);
		cnie_buf_free(&sig);
		skip(); /* needs the rsa card */
	}
	open_card("rsa", true, &t2);
	open_can_of("rsa", t2, &ic2);
	assert_int_equal(cnie_icao_read(ic2, 14, other, NULL, NULL), 0);
	assert_int_equal(cnie_icao_read(ic2, 15, dg15, NULL, NULL), 0);
	open_card("ec", true, &t);
	open_can(t, &ic);
	/* AA of the EC chip checked with the RSA card's DG15: no match; sig kept. */
	assert_int_equal(cnie_icao_active_auth(ic, chal, sizeof(chal), cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), sig), CNIE_ERR_VERIFY_FAILED);
	assert_int_equal(cnie_buf_len(sig), 64);
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(other), cnie_buf_len(other)),
	    CNIE_ERR_AUTH_FAILED);
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), CNIE_ERR_SM);
	/* Garbage DG14. */
	assert_int_equal(cnie_icao_chip_auth(ic2, (const uint8_t *)"\x6E\x02\x31\x00", 4),
	    CNIE_ERR_UNSUPPORTED);
	cnie_buf_free(&other);
	cnie_buf_free(&b);
	cnie_buf_free(&dg15);
	cnie_buf_free(&sig);
	cnie_icao_free(&ic);
	cnie_icao_free(&ic2);
	cnie_transport_free(&t);
	cnie_transport_free(&t2);
}

/* One full read with flags; returns the APDUs it took and fills files. */
static uint64_t
read_all_counted(unsigned flags, cnie_icao_files *files)
{
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_transport_stats a, b;

	open_card("ec", use_contactless(), &t);
	open_can(t, &ic);
	cnie_transport_get_stats(t, &a);
	assert_int_equal(cnie_icao_read_all_ex(ic, flags, files, NULL, NULL), 0);
	cnie_transport_get_stats(t, &b);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	return b.apdus - a.apdus;
}

static void
assert_same_files(const cnie_icao_files *x, const cnie_icao_files *y)
{
	int dg;

	for (dg = 1; dg <= CNIE_LDS_MAX_DG; dg++) {
		assert_true((x->dg[dg] == NULL) == (y->dg[dg] == NULL));
		if (x->dg[dg] == NULL)
			continue;
		assert_int_equal(cnie_buf_len(x->dg[dg]), cnie_buf_len(y->dg[dg]));
		assert_memory_equal(cnie_buf_ptr(x->dg[dg]), cnie_buf_ptr(y->dg[dg]),
		    cnie_buf_len(x->dg[dg]));
	}
	assert_int_equal(cnie_buf_len(x->sod), cnie_buf_len(y->sod));
}

/*
 * The opt-in LDS cache: nothing stored without the flag; with it, the
 * second read takes EF.COM and EF.SOD from the card and every DG from the
 * cache, byte for byte; an entry that is a well-formed cache file but not
 * the DG EF.SOD vouches for (DG1's bytes under DG11's name) is read from
 * the card again.
 */
static void
test_lds_cache(void **state)
{
	char tmpl[] = "/tmp/cnie-ldscache-XXXXXX", cmd[256];
	cnie_icao_files f0, f1, f2;
	uint64_t n0, n1, n2, n3;
	size_t ndg = 0;
	int dg;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(setenv("XDG_CACHE_HOME", tmpl, 1), 0);
	unsetenv("CNIE_NO_CACHE");
	n0 = read_all_counted(0, &f0);
	snprintf(cmd, sizeof(cmd), "test ! -e '%s/cnie'", tmpl);
	assert_int_equal(system(cmd), 0); /* personal data stays off disk by default */
	for (dg = 1; dg <= CNIE_LDS_MAX_DG; dg++)
		ndg += f0.dg[dg] != NULL;
	assert_int_equal(n0, 2 + ndg); /* EF.COM, each DG, EF.SOD: one APDU each */
	n1 = read_all_counted(CNIE_ICAO_READ_CACHED, &f1);
	assert_int_equal(n1, n0);
	assert_same_files(&f0, &f1);
	cnie_icao_files_clear(&f1);
	n2 = read_all_counted(CNIE_ICAO_READ_CACHED, &f2);
	assert_int_equal(n2, 2); /* EF.COM and EF.SOD */
	assert_same_files(&f0, &f2);
	cnie_icao_files_clear(&f2);
	snprintf(cmd, sizeof(cmd), "cd '%s/cnie' && for f in *-dg1; do cp \"$f\" \"${f%%-dg1}-dg11\"; done",
	    tmpl);
	assert_int_equal(system(cmd), 0);
	n3 = read_all_counted(CNIE_ICAO_READ_CACHED, &f2);
	assert_int_equal(n3, 3); /* DG11 from the card again */
	assert_same_files(&f0, &f2);
	cnie_icao_files_clear(&f2);
	assert_int_equal(read_all_counted(CNIE_ICAO_READ_CACHED, &f2), 2);
	cnie_icao_files_clear(&f2);
	assert_int_equal(setenv("CNIE_NO_CACHE", "1", 1), 0);
	assert_int_equal(read_all_counted(CNIE_ICAO_READ_CACHED, &f2), n0);
	cnie_icao_files_clear(&f2);
	unsetenv("CNIE_NO_CACHE");
	cnie_icao_files_clear(&f0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
	unsetenv("XDG_CACHE_HOME");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_read_pa_ec),
		cmocka_unit_test(test_full_read_pa_rsa),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_wrong_can),
		cmocka_unit_test(test_pace_mrz),
		cmocka_unit_test(test_bac_contact),
		cmocka_unit_test(test_aa_ca_ec),
		cmocka_unit_test(test_aa_ca_rsa),
		cmocka_unit_test(test_ca_wrong_key),
		cmocka_unit_test(test_lds_cache),
	};
	const struct CMUnitTest pcsc_tests[] = {
		cmocka_unit_test(test_full_read_pa_ec),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_wrong_can),
		cmocka_unit_test(test_pace_mrz),
		cmocka_unit_test(test_bac_contact),
		cmocka_unit_test(test_aa_ca_ec),
	};
	int r;

	if (argc == 4 && strcmp(argv[1], "pcsc") == 0) {
		pcsc_reader = argv[2];
		pcsc_contactless = strcmp(argv[3], "contactless") == 0;
		if (cnie_pcsc_new(&pcsc_ctx) != 0)
			return 1;
		r = cmocka_run_group_tests(pcsc_tests, NULL, NULL);
		cnie_pcsc_free(&pcsc_ctx);
		return r;
	}
	if (argc != 1)
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
