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
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/icao.h>
#include <cnie/lds.h>
#include <cnie/pa.h>
#include <cnie/pcsc.h>
#include <cnie/refcard.h>
#include <cnie/tlv.h>
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
		"I<MARZT00000024<<<<<<<<<<<<<<<9003152F3106305MAR<<<<<<<<<<<2BENALI<<FATIMA<ZAHRA<<<<<<<<<<",
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

/*
 * Variant of the EC card for the chips that answer errors with a plain
 * status word (card.json "icao.plain_errors" = mode, docs/card-profile.md):
 * EF.COM also lists DG3 (present, read "never": 6982), DG4 (absent: 6A82)
 * and DG5, a 40004-byte file (offsets past 32767: odd-INS READ BINARY).
 */
#define BIG_DG_LEN 40000u
/* Most PACEInfos "variant-pace" writes. */
#define CNIE_PACE_TEST_MAX 8

static void
big_dg(uint8_t *p)
{
	size_t i;

	p[0] = 0x65;
	p[1] = 0x82;
	p[2] = (uint8_t)(BIG_DG_LEN >> 8);
	p[3] = (uint8_t)BIG_DG_LEN;
	for (i = 0; i < BIG_DG_LEN; i++)
		p[4 + i] = (uint8_t)(i * 7 + (i >> 8));
}

static int
write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int make_variant_of(const char *base, const char *mode, const char *wrong_key_sw,
    const char *mrz, const char *out);

static int
make_variant(const char *mode, const char *wrong_key_sw, const char *mrz, const char *out)
{
	return make_variant_of("ec", mode, wrong_key_sw, mrz, out);
}

static int
make_variant_of(const char *base, const char *mode, const char *wrong_key_sw, const char *mrz,
    const char *out)
{
	static const uint8_t com[] = { 0x60, 0x1B, 0x5F, 0x01, 0x04, '0', '1', '0', '7', 0x5F,
		0x36, 0x06, '0', '4', '0', '0', '0', '0', 0x5C, 0x09, 0x61, 0x75, 0x63, 0x76,
		0x65, 0x6B, 0x6C, 0x6E, 0x6F };
	static const uint8_t dg3[] = { 0x63, 0x03, 0x01, 0x02, 0x03 };
	static uint8_t big[4 + BIG_DG_LEN];
	char cmd[8192], path[4096];
	json_t *root, *files, *o;
	int r;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s/cards/%s' '%s'", out, build_dir(),
	    base, out);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/card.json", out);
	if ((root = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	files = json_object_get(root, "files");
	o = json_pack("{s:s, s:s, s:i}", "path", "3F00-A002-0103", "read", "never", "sfi", 3);
	json_array_append_new(files, o);
	o = json_pack("{s:s, s:s, s:i}", "path", "3F00-A002-0105", "read", "sm", "sfi", 5);
	json_array_append_new(files, o);
	o = json_pack("{s:s}", "plain_errors", mode);
	if (wrong_key_sw != NULL)
		json_object_set_new(o, "wrong_key_sw", json_string(wrong_key_sw));
	json_object_set_new(root, "icao", o);
	if (mrz != NULL)
		json_object_set_new(json_object_get(root, "secrets"), "mrz", json_string(mrz));
	r = json_dump_file(root, path, JSON_INDENT(1));
	json_decref(root);
	big_dg(big);
	snprintf(path, sizeof(path), "%s/files/3F00-A002-011E", out);
	r |= write_file(path, com, sizeof(com));
	snprintf(path, sizeof(path), "%s/files/3F00-A002-0103", out);
	r |= write_file(path, dg3, sizeof(dg3));
	snprintf(path, sizeof(path), "%s/files/3F00-A002-0105", out);
	r |= write_file(path, big, sizeof(big));
	return r;
}

/*
 * Reads the variant: DG3 and DG4 skipped, DG5 whole, the rest there; with
 * "end" the session is re-established with the CAN for the read, and a
 * read without the secret fails as the chip ended the session.
 */
static void
plain_errors_read(cnie_transport *t, bool ended)
{
	static uint8_t want[4 + BIG_DG_LEN];
	cnie_icao_secret can = { CNIE_ICAO_CAN, TEST_CAN, 0 };
	cnie_icao *ic = NULL;
	cnie_icao_files f;

	big_dg(want);
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_int_equal(cnie_icao_read_all_secret(ic, &can, 0, &f, NULL, NULL), 0);
	assert_null(f.dg[3]);
	assert_null(f.dg[4]);
	assert_non_null(f.dg[1]);
	assert_non_null(f.dg[2]);
	assert_non_null(f.dg[15]);
	assert_non_null(f.sod);
	assert_non_null(f.dg[5]);
	assert_int_equal(cnie_buf_len(f.dg[5]), sizeof(want));
	assert_memory_equal(cnie_buf_ptr(f.dg[5]), want, sizeof(want));
	cnie_icao_files_clear(&f);
	cnie_icao_free(&ic);
	/* Without the secret: a chip that ended the session stops the read. */
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_int_equal(cnie_icao_read_all_ex(ic, 0, &f, NULL, NULL), ended ? CNIE_ERR_SM : 0);
	if (!ended) {
		assert_null(f.dg[3]);
		assert_non_null(f.dg[5]);
	}
	cnie_icao_files_clear(&f);
	cnie_icao_free(&ic);
}

/*
 * short_apdus: the path has no extended length, so DG5 comes in short
 * chunks and everything past offset 32767 through odd-INS READ BINARY
 * (with extended length it comes whole in one even-INS APDU).
 */
static void
plain_errors_inproc(const char *mode, bool ended, bool short_apdus)
{
	char dir[4096];
	cnie_transport *t = NULL;
	cnie_transport_caps caps;

	snprintf(dir, sizeof(dir), "%s/cards-plain-%s", build_dir(), mode);
	assert_int_equal(make_variant(mode, NULL, NULL, dir), 0);
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	if (short_apdus) {
		caps = *cnie_transport_get_caps(t);
		caps.extended = false;
		caps.max_cmd = 261;
		caps.max_resp = 258;
		assert_int_equal(cnie_transport_set_caps(t, &caps), 0);
	}
	plain_errors_read(t, ended);
	cnie_transport_free(&t);
}

static void
test_plain_errors_keep(void **state)
{
	(void)state;
	plain_errors_inproc("keep", false, false);
	plain_errors_inproc("keep", false, true);
}

static void
test_plain_errors_end(void **state)
{
	(void)state;
	plain_errors_inproc("end", true, true);
}

/* The same card with errors answered under SM (the default, "protected"). */
static void
test_plain_errors_protected(void **state)
{
	(void)state;
	plain_errors_inproc("protected", false, false);
}

/*
 * Chips that answer a wrong key with 6982 or 6988 instead of 6300 (card.json
 * "icao.wrong_key_sw"): still a wrong CAN (PACE) or MRZ (BAC).
 */
static void
test_wrong_key_words(void **state)
{
	static const char *const words[] = { "6982", "6988", "63C2" };
	cnie_icao_secret can = { CNIE_ICAO_CAN, "654321", 0 };
	cnie_icao_secret mrz = { CNIE_ICAO_MRZ,
		"I<MARZT00000024<<<<<<<<<<<<<<<9003152F3106305MAR<<<<<<<<<<<2BENALI<<FATIMA<ZAHRA<<<<<<<<<<",
		CNIE_ICAO_NO_PACE };
	char dir[4096];
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/cards-wrong-key-%s", build_dir(), words[i]);
		assert_int_equal(make_variant("protected", words[i], NULL, dir), 0);
		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
		assert_int_equal(cnie_icao_open(t, &can, &ic), CNIE_ERR_PACE);
		cnie_transport_free(&t);
		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", false, &t), 0);
		assert_int_equal(cnie_icao_open(t, &mrz, &ic), CNIE_ERR_BAC);
		assert_null(ic);
		cnie_transport_free(&t);
	}
}

/*
 * Access with the MRZ of each layout (chips whose holder's MRZ is a TD3
 * passport, a TD2 or a TD1 with a long document number, 9303-4/-5/-6
 * specimens): PACE and, over contact, BAC.
 */
static void
test_mrz_layouts(void **state)
{
	static const char *const mrzs[] = {
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
		"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6",
		"I<UTOD23145890<7349<<<<<<<<<<<3407127M9507122UTO<<<<<<<<<<<2"
		"STEVENSON<<PETER<JOHN<<<<<<<<<",
	};
	char dir[4096];
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_secret s = { CNIE_ICAO_MRZ, NULL, 0 };
	cnie_buf *b = cnie_buf_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mrzs) / sizeof(mrzs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/cards-mrz-%zu", build_dir(), i);
		assert_int_equal(make_variant("protected", NULL, mrzs[i], dir), 0);
		s.value = mrzs[i];
		s.flags = 0;
		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
		assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
		assert_true(cnie_icao_used_pace(ic));
		assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
		cnie_icao_free(&ic);
		cnie_transport_free(&t);
		s.flags = CNIE_ICAO_NO_PACE;
		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", false, &t), 0);
		assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
		assert_false(cnie_icao_used_pace(ic));
		cnie_icao_free(&ic);
		cnie_transport_free(&t);
	}
	cnie_buf_free(&b);
}

/* Sets card.json "icao".key = value in the card directory dir. */
static void
set_icao(const char *dir, const char *key, const char *value)
{
	char path[4096];
	json_t *root;

	snprintf(path, sizeof(path), "%s/card.json", dir);
	assert_non_null(root = json_load_file(path, 0, NULL));
	assert_int_equal(json_object_set_new(json_object_get(root, "icao"), key,
	    json_string(value)), 0);
	assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
	json_decref(root);
}

/* DG14's ActiveAuthenticationInfo made to name ecdsa-plain-<arc> (TR-03111). */
static void
patch_dg14_aa(const char *dir, uint8_t arc)
{
	static const uint8_t plain[] = { 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x01,
		0x04, 0x01 };
	char path[4096];
	uint8_t b[4096];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/files/3F00-A002-010E", dir);
	assert_non_null(f = fopen(path, "rb"));
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	for (i = 0; i + sizeof(plain) < n; i++)
		if (memcmp(b + i, plain, sizeof(plain)) == 0)
			break;
	assert_true(i + sizeof(plain) < n);
	b[i + sizeof(plain)] = arc;
	assert_int_equal(write_file(path, b, n), 0);
}

/*
 * The last two bytes of the ISO/IEC 9796-2 message F recovered from an RSA
 * AA signature with the DG15 key (F, or n - F when that one is even).
 */
static unsigned
rsa_trailer(const cnie_buf *dg15, const cnie_buf *sig)
{
	const unsigned char *p = cnie_buf_ptr(dg15) + 2 + (cnie_buf_ptr(dg15)[1] & 0x80 ?
	    (cnie_buf_ptr(dg15)[1] & 0x7F) : 0);
	EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)cnie_buf_len(dg15));
	BIGNUM *n = NULL, *e = NULL, *sb, *f = BN_new();
	BN_CTX *bc = BN_CTX_new();
	uint8_t out[1024];
	int k;

	assert_non_null(key);
	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	sb = BN_bin2bn(cnie_buf_ptr(sig), (int)cnie_buf_len(sig), NULL);
	assert_int_equal(BN_mod_exp(f, sb, e, n, bc), 1);
	if (BN_is_odd(f))
		assert_int_equal(BN_sub(f, n, f), 1);
	k = BN_num_bytes(n);
	assert_true(k <= (int)sizeof(out));
	assert_int_equal(BN_bn2binpad(f, out, k), k);
	BN_free(n);
	BN_free(e);
	BN_free(sb);
	BN_free(f);
	BN_CTX_free(bc);
	EVP_PKEY_free(key);
	return (unsigned)(out[k - 2] << 8 | out[k - 1]);
}

/* Opens dir, reads DG14/DG15, runs AA with and without DG14; returns both results. */
static unsigned last_trailer;

static void
aa_of(const char *dir, const char *can, int *with_dg14, int *without)
{
	static const uint8_t chal[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	cnie_icao_secret s = { CNIE_ICAO_CAN, can, 0 };
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_buf *dg14 = cnie_buf_new(), *dg15 = cnie_buf_new(), *sig = cnie_buf_new();

	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
	assert_int_equal(cnie_icao_read(ic, 14, dg14, NULL, NULL), 0);
	assert_int_equal(cnie_icao_read(ic, 15, dg15, NULL, NULL), 0);
	*with_dg14 = cnie_icao_active_auth_ex(ic, chal, sizeof(chal), cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), cnie_buf_ptr(dg14), cnie_buf_len(dg14), sig);
	cnie_buf_reset(sig);
	*without = cnie_icao_active_auth(ic, chal, sizeof(chal), cnie_buf_ptr(dg15),
	    cnie_buf_len(dg15), sig);
	if (strstr(dir, "-rsa-") != NULL)
		last_trailer = rsa_trailer(dg15, sig);
	cnie_buf_free(&dg14);
	cnie_buf_free(&dg15);
	cnie_buf_free(&sig);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

/*
 * Active Authentication, ICAO 9303-11 6.1: RSA with every ISO/IEC 9796-2
 * trailer (BC and XX CC for each SHA) and ECDSA with each hash DG14's
 * ActiveAuthenticationInfo names (card.json "icao.aa_hash"/"aa_trailer").
 */
static void
test_aa_variants(void **state)
{
	static const struct {
		const char *hash, *trailer;
	} rsa[] = { { "sha1", "bc" }, { "sha1", "explicit" }, { "sha224", "explicit" },
		{ "sha256", "explicit" }, { "sha384", "explicit" }, { "sha512", "explicit" } };
	static const char *const ec[] = { NULL, "sha1", "sha224", "sha256", "sha384", "sha512" };
	char dir[4096];
	int with, without;
	uint8_t arc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/cards-aa-rsa-%s-%s", build_dir(), rsa[i].hash,
		    rsa[i].trailer);
		assert_int_equal(make_variant_of("rsa", "protected", NULL, NULL, dir), 0);
		set_icao(dir, "aa_hash", rsa[i].hash);
		set_icao(dir, "aa_trailer", rsa[i].trailer);
		aa_of(dir, RSA_CAN, &with, &without);
		/* RSA: the trailer names the hash, with or without DG14. */
		assert_int_equal(with, 0);
		assert_int_equal(without, 0);
		/* The chip did use that trailer (ISO/IEC 10118-3 identifiers). */
		if (strcmp(rsa[i].trailer, "bc") == 0)
			assert_int_equal(last_trailer & 0xFF, 0xBC);
		else
			assert_int_equal(last_trailer, (unsigned)(0xCC |
			    (strcmp(rsa[i].hash, "sha1") == 0 ? 0x3300 :
			    strcmp(rsa[i].hash, "sha224") == 0 ? 0x3800 :
			    strcmp(rsa[i].hash, "sha256") == 0 ? 0x3400 :
			    strcmp(rsa[i].hash, "sha384") == 0 ? 0x3600 : 0x3500)));
	}
	for (arc = 1; arc <= 5; arc++) {
		snprintf(dir, sizeof(dir), "%s/cards-aa-ec-%s", build_dir(), ec[arc]);
		assert_int_equal(make_variant("protected", NULL, NULL, dir), 0);
		patch_dg14_aa(dir, arc);
		aa_of(dir, TEST_CAN, &with, &without);
		assert_int_equal(with, 0);
		/* Without DG14, SHA-256 is assumed: right only for that hash. */
		assert_int_equal(without, arc == 3 ? 0 : CNIE_ERR_VERIFY_FAILED);
	}
	/* A chip signing with another hash than its DG14 names: refused. */
	snprintf(dir, sizeof(dir), "%s/cards-aa-ec-mismatch", build_dir());
	assert_int_equal(make_variant("protected", NULL, NULL, dir), 0);
	set_icao(dir, "aa_hash", "sha384");
	aa_of(dir, TEST_CAN, &with, &without);
	assert_int_equal(with, CNIE_ERR_VERIFY_FAILED);
	/* DG14 naming an algorithm that is not ECDSA-plain: unsupported, said so. */
	patch_dg14_aa(dir, 9);
	aa_of(dir, TEST_CAN, &with, &without);
	assert_int_equal(with, CNIE_ERR_UNSUPPORTED);
}

/* PACEInfo { id-PACE-<map>-<cipher>, 2, parameterId } (9303-11 9.2.1). */
static void
put_pace_info(cnie_buf *b, uint8_t map, uint8_t cipher, uint8_t param)
{
	const uint8_t info[] = { 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02,
		0x04, map, cipher, 0x02, 0x01, 0x02, 0x02, 0x01, param };

	assert_int_equal(cnie_buf_put(b, info, sizeof(info)), 0);
}

/* Writes dir's EF.CardAccess: SET { the PACEInfos (map, cipher, param) triples }. */
static void
set_card_access(const char *dir, const uint8_t (*infos)[3], size_t n)
{
	cnie_buf *body = cnie_buf_new(), *ca = cnie_buf_new();
	char path[4096];
	size_t i;

	for (i = 0; i < n; i++)
		put_pace_info(body, infos[i][0], infos[i][1], infos[i][2]);
	assert_int_equal(cnie_tlv_put(ca, 0x31, cnie_buf_ptr(body), cnie_buf_len(body)), 0);
	snprintf(path, sizeof(path), "%s/files/3F00-011C", dir);
	assert_int_equal(write_file(path, cnie_buf_ptr(ca), cnie_buf_len(ca)), 0);
	cnie_buf_free(&body);
	cnie_buf_free(&ca);
}

/*
 * After PACE-CAM: the chip is not authenticated until DG14's key checks
 * its data; then it is, by CAM, with no APDU, and the session is the same.
 */
static void
cam_proves(cnie_icao *ic)
{
	cnie_buf *dg14 = cnie_buf_new(), *b = cnie_buf_new();

	assert_true(cnie_icao_used_cam(ic));
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_NONE);
	assert_int_equal(cnie_icao_read(ic, 14, dg14, NULL, NULL), 0);
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(dg14), cnie_buf_len(dg14)), 0);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_CAM);
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x61);
	cnie_buf_free(&dg14);
	cnie_buf_free(&b);
}

/* Opens t with the CAN and then the MRZ (PACE both times), reads DG1. */
static void
pace_reads_t(cnie_transport *t)
{
	cnie_icao_secret can = { CNIE_ICAO_CAN, TEST_CAN, 0 };
	cnie_icao_secret mrz = { CNIE_ICAO_MRZ, EC_MRZ, 0 };
	cnie_icao *ic = NULL;
	cnie_buf *b = cnie_buf_new();

	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_true(cnie_icao_used_pace(ic));
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x61);
	if (cnie_icao_used_cam(ic))
		cam_proves(ic);
	else
		assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_NONE);
	cnie_icao_free(&ic);
	assert_int_equal(cnie_icao_open(t, &mrz, &ic), 0);
	assert_true(cnie_icao_used_pace(ic));
	if (cnie_icao_used_cam(ic))
		cam_proves(ic);
	cnie_icao_free(&ic);
	cnie_buf_free(&b);
}

static void
pace_reads(const char *dir)
{
	cnie_transport *t = NULL;

	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	pace_reads_t(t);
	cnie_transport_free(&t);
}

/* Through pcscd: a variant made by "test_icao variant-pace DIR ...", inserted. */
static void
test_pace_pcsc(void **state)
{
	cnie_transport *t = NULL;

	(void)state;
	open_card("ec", true, &t);
	pace_reads_t(t);
	cnie_transport_free(&t);
}

/*
 * A card whose EF.CardAccess offers one PACEInfo { id-PACE-<map>-<cipher>,
 * 2, param } (map: 1 GM-DH, 2 GM-ECDH, 3 IM-DH, 4 IM-ECDH), read whole.
 */
static void
pace_one(uint8_t map, uint8_t cipher, uint8_t param)
{
	char dir[4096];
	uint8_t one[1][3] = { { map, cipher, param } };

	snprintf(dir, sizeof(dir), "%s/cards-pace-%u-%u-%u", build_dir(), map, cipher, param);
	assert_int_equal(make_variant("protected", NULL, NULL, dir), 0);
	set_card_access(dir, (const uint8_t (*)[3])one, 1);
	pace_reads(dir);
}

/*
 * EF.CardAccess with several PACEInfos (generic and integrated mapping,
 * chip authentication mapping, unknown protocols): the library runs the
 * one it prefers (CAM), with the CAN and with the MRZ; then every
 * combination of mapping (generic, integrated), key agreement,
 * standardized domain parameters and cipher (3DES, AES-128/192/256) alone,
 * ECDH and DH.  Integrated mapping uses the nonce of l bits (l = 128 or
 * 256, 9303-11 4.4.3.3.2) and skips secp224r1 (p = 1 mod 4).
 */
static void
test_pace_infos(void **state)
{
	/* IM-ECDH, CAM, an unknown mapping (5), GM-ECDH-AES128 on BrainpoolP256r1. */
	static const uint8_t several[][3] = { { 4, 2, 13 }, { 6, 2, 13 }, { 5, 2, 13 },
		{ 2, 2, 13 } };
	static const uint8_t ciphers[] = { 1, 2, 3, 4 };
	static const uint8_t ec_params[] = { 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 };
	static const uint8_t dh_params[] = { 0, 1, 2 };
	char dir[4096];
	size_t i, k;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/cards-pace-several", build_dir());
	assert_int_equal(make_variant("protected", NULL, NULL, dir), 0);
	set_card_access(dir, several, sizeof(several) / sizeof(several[0]));
	pace_reads(dir);
	for (k = 0; k < sizeof(ciphers); k++) {
		for (i = 0; i < sizeof(ec_params); i++) {
			pace_one(2, ciphers[k], ec_params[i]);
			if (ec_params[i] != 10)
				pace_one(4, ciphers[k], ec_params[i]);
		}
		for (i = 0; i < sizeof(dh_params); i++) {
			pace_one(1, ciphers[k], dh_params[i]);
			pace_one(3, ciphers[k], dh_params[i]);
		}
	}
}

/*
 * Chip Authentication Mapping (9303-11 4.4.3.5): offered beside GM, as
 * chips do, it is chosen, with the CAN and the MRZ, for each AES key
 * length; the chip is authenticated by CAM once DG14's key checks its
 * data.  A chip whose data does not match its DG14 key (card.json
 * "icao.cam_fault": "wrong") or a DG14 of another chip: not authenticated,
 * said so, the session still readable.  Data that does not decrypt to a
 * padded value ("padding") or that is missing ("absent"): PACE fails as a
 * protocol error, not a wrong CAN.
 */
static void
cam_variant(const char *dir, uint8_t cipher, const char *fault)
{
	uint8_t infos[2][3] = { { 2, 2, 13 }, { 6, 2, 13 } };

	infos[1][1] = cipher;
	assert_int_equal(make_variant("protected", NULL, NULL, dir), 0);
	set_card_access(dir, (const uint8_t (*)[3])infos, 2);
	if (fault != NULL)
		set_icao(dir, "cam_fault", fault);
}

static void
test_cam(void **state)
{
	static const uint8_t ciphers[] = { 2, 3, 4 };
	cnie_icao_secret can = { CNIE_ICAO_CAN, TEST_CAN, 0 };
	cnie_transport *t = NULL, *t2 = NULL;
	cnie_icao *ic = NULL, *ic2 = NULL;
	cnie_buf *other = cnie_buf_new(), *dg14 = cnie_buf_new(), *b = cnie_buf_new();
	char dir[4096];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ciphers); i++) {
		snprintf(dir, sizeof(dir), "%s/cards-pace-cam-%u", build_dir(), ciphers[i]);
		cam_variant(dir, ciphers[i], NULL);
		pace_reads(dir);
	}
	/* A wrong CAN under CAM and under IM: the wrong-key error, as with GM. */
	{
		cnie_icao_secret bad = { CNIE_ICAO_CAN, "654321", 0 };
		char imdir[4096];
		uint8_t im[1][3] = { { 4, 2, 13 } };

		assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
		assert_int_equal(cnie_icao_open(t, &bad, &ic), CNIE_ERR_PACE);
		cnie_transport_free(&t);
		snprintf(imdir, sizeof(imdir), "%s/cards-pace-im-wrong-can", build_dir());
		assert_int_equal(make_variant("protected", NULL, NULL, imdir), 0);
		set_card_access(imdir, (const uint8_t (*)[3])im, 1);
		assert_int_equal(cnie_refcard_open(imdir, "/nonexistent/state.json", true, &t), 0);
		assert_int_equal(cnie_icao_open(t, &bad, &ic), CNIE_ERR_PACE);
		assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
		assert_false(cnie_icao_used_cam(ic));
		cnie_icao_free(&ic);
		cnie_transport_free(&t);
	}
	/* Another chip's DG14 (the RSA card's brainpoolP256r1 key): no match. */
	open_card("rsa", true, &t2);
	open_can_of("rsa", t2, &ic2);
	assert_int_equal(cnie_icao_read(ic2, 14, other, NULL, NULL), 0);
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_true(cnie_icao_used_cam(ic));
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(other), cnie_buf_len(other)),
	    CNIE_ERR_AUTH_FAILED);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_NONE);
	/* A DG14 without an ECDH key: unsupported, not a verdict on the chip. */
	assert_int_equal(cnie_icao_chip_auth(ic, (const uint8_t *)"\x6E\x02\x31\x00", 4),
	    CNIE_ERR_UNSUPPORTED);
	assert_int_equal(cnie_icao_read(ic, 14, dg14, NULL, NULL), 0);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);

	/* The chip's data does not match its own key. */
	snprintf(dir, sizeof(dir), "%s/cards-pace-cam-wrong", build_dir());
	cam_variant(dir, 2, "wrong");
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_true(cnie_icao_used_cam(ic));
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(dg14), cnie_buf_len(dg14)),
	    CNIE_ERR_AUTH_FAILED);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_NONE);
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);

	/* Malformed or missing DO'8A': a protocol error. */
	snprintf(dir, sizeof(dir), "%s/cards-pace-cam-padding", build_dir());
	cam_variant(dir, 2, "padding");
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), CNIE_ERR_BAD_RESPONSE);
	assert_null(ic);
	cnie_transport_free(&t);
	snprintf(dir, sizeof(dir), "%s/cards-pace-cam-absent", build_dir());
	cam_variant(dir, 2, "absent");
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), CNIE_ERR_BAD_RESPONSE);
	cnie_transport_free(&t);

	/* GM only (the reference card): no CAM, chip authenticated by CA. */
	open_card("ec", true, &t);
	open_can(t, &ic);
	assert_false(cnie_icao_used_cam(ic));
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(dg14), cnie_buf_len(dg14)), 0);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_CA);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	cnie_icao_free(&ic2);
	cnie_transport_free(&t2);
	cnie_buf_free(&other);
	cnie_buf_free(&dg14);
	cnie_buf_free(&b);
}

/*
 * The passport profile (tests/cards/passport.json): DG1 holds a TD3 MRZ
 * (ICAO 9303-4); the whole LDS reads and passes PA against its CSCA; the
 * TD3 MRZ opens the chip with PACE and, over contact, with BAC.
 */
static void
test_passport(void **state)
{
	char dir[2048], path[4096], mrz[100];
	cnie_icao_secret can = { CNIE_ICAO_CAN, "345678", 0 };
	cnie_icao_secret s = { CNIE_ICAO_MRZ, mrz, 0 };
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_files f;
	cnie_pa_trust *trust = NULL;
	cnie_pa_dg dgs[CNIE_LDS_MAX_DG];
	cnie_pa_result res;
	cnie_lds_dg1 *dg1 = NULL;
	json_t *root;
	size_t n = 0;
	int i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/cards-passport/passport", build_dir());
	snprintf(path, sizeof(path), "%s/card.json", dir);
	assert_non_null(root = json_load_file(path, 0, NULL));
	assert_int_equal(snprintf(mrz, sizeof(mrz), "%s",
	    json_string_value(json_object_get(json_object_get(root, "secrets"), "mrz"))), 88);
	json_decref(root);
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_int_equal(cnie_icao_read_all(ic, &f, NULL, NULL), 0);
	assert_int_equal(cnie_lds_dg1_parse(cnie_buf_ptr(f.dg[1]), cnie_buf_len(f.dg[1]), &dg1,
	    NULL), 0);
	assert_int_equal(dg1->mrz.format, CNIE_MRZ_TD3);
	assert_string_equal(dg1->mrz.document_code, "P");
	assert_string_equal(dg1->mrz.document_number, "PT0000007");
	assert_string_equal(dg1->mrz.primary_identifier, "ALAOUI");
	cnie_lds_dg1_free(&dg1);
	for (i = 1; i <= CNIE_LDS_MAX_DG; i++) {
		if (f.dg[i] == NULL)
			continue;
		dgs[n].number = i;
		dgs[n].data = cnie_buf_ptr(f.dg[i]);
		dgs[n].len = cnie_buf_len(f.dg[i]);
		n++;
	}
	snprintf(path, sizeof(path), "%s/cards-passport/pki/csca.pem", build_dir());
	assert_int_equal(cnie_pa_trust_new(&trust), 0);
	assert_int_equal(cnie_pa_trust_add_file(trust, path), 0);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(f.sod), cnie_buf_len(f.sod), dgs, n, trust, 0,
	    &res), 0);
	cnie_pa_trust_free(&trust);
	cnie_icao_files_clear(&f);
	cnie_icao_free(&ic);
	assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
	assert_true(cnie_icao_used_pace(ic));
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	s.flags = CNIE_ICAO_NO_PACE;
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", false, &t), 0);
	assert_int_equal(cnie_icao_open(t, &s, &ic), 0);
	assert_false(cnie_icao_used_pace(ic));
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
}

/* Through pcscd: the variant made by "test_icao variant end DIR", inserted. */
static void
test_plain_errors_pcsc(void **state)
{
	cnie_transport *t = NULL;

	(void)state;
	open_card("ec", true, &t);
	plain_errors_read(t, true);
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

/*
 * Chip Authentication over DH (tests/cards/dhca.json: DG14 with
 * id-CA-DH-AES-CBC-CMAC-128 and a 1024-bit MODP key): the session moves to
 * the new keys and reads go on; DG14 passes Passive Authentication.  A DH
 * card's DG14 given to an ECDH chip: the new session fails.
 */
static void
test_ca_dh(void **state)
{
	char dir[4096], path[4096];
	cnie_icao_secret can = { CNIE_ICAO_CAN, TEST_CAN, 0 };
	cnie_transport *t = NULL;
	cnie_icao *ic = NULL;
	cnie_icao_files f;
	cnie_pa_trust *trust = NULL;
	cnie_pa_dg dg;
	cnie_pa_result res;
	cnie_buf *b = cnie_buf_new();

	(void)state;
	snprintf(dir, sizeof(dir), "%s/cards-dhca/dhca", build_dir());
	assert_int_equal(cnie_refcard_open(dir, "/nonexistent/state.json", true, &t), 0);
	assert_int_equal(cnie_icao_open(t, &can, &ic), 0);
	assert_int_equal(cnie_icao_read_all(ic, &f, NULL, NULL), 0);
	assert_non_null(f.dg[14]);
	dg.number = 14;
	dg.data = cnie_buf_ptr(f.dg[14]);
	dg.len = cnie_buf_len(f.dg[14]);
	snprintf(path, sizeof(path), "%s/cards-dhca/pki/csca.pem", build_dir());
	assert_int_equal(cnie_pa_trust_new(&trust), 0);
	assert_int_equal(cnie_pa_trust_add_file(trust, path), 0);
	assert_int_equal(cnie_pa_verify(cnie_buf_ptr(f.sod), cnie_buf_len(f.sod), &dg, 1, trust, 0,
	    &res), 0);
	assert_int_equal(res.dg[14], CNIE_PA_DG_MATCH);
	cnie_pa_trust_free(&trust);
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(f.dg[14]), cnie_buf_len(f.dg[14])), 0);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_CA);
	assert_int_equal(cnie_icao_read(ic, 1, b, NULL, NULL), 0);
	assert_int_equal(cnie_buf_ptr(b)[0], 0x61);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	/* The DH DG14 on the EC card (an ECDH chip key): the card refuses. */
	open_card("ec", true, &t);
	open_can(t, &ic);
	assert_int_equal(cnie_icao_chip_auth(ic, cnie_buf_ptr(f.dg[14]), cnie_buf_len(f.dg[14])),
	    CNIE_ERR_AUTH_FAILED);
	assert_int_equal(cnie_icao_chip_authenticated(ic), CNIE_ICAO_CHIP_NONE);
	cnie_icao_free(&ic);
	cnie_transport_free(&t);
	cnie_icao_files_clear(&f);
	cnie_buf_free(&b);
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
		cmocka_unit_test(test_plain_errors_keep),
		cmocka_unit_test(test_plain_errors_end),
		cmocka_unit_test(test_plain_errors_protected),
		cmocka_unit_test(test_wrong_key_words),
		cmocka_unit_test(test_mrz_layouts),
		cmocka_unit_test(test_aa_variants),
		cmocka_unit_test(test_pace_infos),
		cmocka_unit_test(test_cam),
		cmocka_unit_test(test_ca_dh),
		cmocka_unit_test(test_passport),
	};
	const struct CMUnitTest variant_tests[] = {
		cmocka_unit_test(test_plain_errors_pcsc),
	};
	const struct CMUnitTest pace_variant_tests[] = {
		cmocka_unit_test(test_pace_pcsc),
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
	/* variant MODE OUT [WRONG_KEY_SW|- [MRZ]]: writes a variant card for scripts. */
	if (argc >= 4 && argc <= 6 && strcmp(argv[1], "variant") == 0)
		return make_variant(argv[2], argc > 4 && strcmp(argv[4], "-") != 0 ? argv[4] : NULL,
			   argc > 5 ? argv[5] : NULL, argv[3]) == 0 ? 0 : 1;
	/* variant-pace OUT MAP CIPHER PARAM...: the EC card with those PACEInfos. */
	if (argc >= 6 && (argc - 3) % 3 == 0 && strcmp(argv[1], "variant-pace") == 0) {
		uint8_t infos[CNIE_PACE_TEST_MAX][3];
		size_t n = 0;
		int i;

		for (i = 3; i + 2 < argc && n < CNIE_PACE_TEST_MAX; i += 3, n++) {
			infos[n][0] = (uint8_t)atoi(argv[i]);
			infos[n][1] = (uint8_t)atoi(argv[i + 1]);
			infos[n][2] = (uint8_t)atoi(argv[i + 2]);
		}
		if (make_variant("protected", NULL, NULL, argv[2]) != 0)
			return 1;
		set_card_access(argv[2], (const uint8_t (*)[3])infos, n);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "pcsc-pace") == 0) {
		pcsc_reader = argv[2];
		pcsc_contactless = true;
		if (cnie_pcsc_new(&pcsc_ctx) != 0)
			return 1;
		r = cmocka_run_group_tests(pace_variant_tests, NULL, NULL);
		cnie_pcsc_free(&pcsc_ctx);
		return r;
	}
	if (argc == 3 && strcmp(argv[1], "pcsc-plain-end") == 0) {
		pcsc_reader = argv[2];
		pcsc_contactless = true;
		if (cnie_pcsc_new(&pcsc_ctx) != 0)
			return 1;
		r = cmocka_run_group_tests(variant_tests, NULL, NULL);
		cnie_pcsc_free(&pcsc_ctx);
		return r;
	}
	if (argc != 1)
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
