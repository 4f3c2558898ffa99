/*
 * Fault injection into the PKCS#15 parsers (src/libcnie/pkcs15.c,
 * tests/common/fault.h) on the real files of the generated EC and RSA test
 * cards: EF.DIR, ODF, TokenInfo, AODF, PrKDF and CDF.  Every allocation on
 * that path fails once in turn: each run must end in an error, or in the
 * same objects as the run without faults (a summary of counts, labels,
 * serial and ids is compared), never a partial list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pkcs15.h>

#include "fault.h"
#include "unitutil.h"

enum { F_DIR, F_ODF, F_TOKENINFO, F_AODF, F_PRKDF, F_CDF, NFILES };

static const char *const names[NFILES] = { "3F00-2F00", "3F00-A001-5031", "3F00-A001-5032",
	"3F00-A001-4401", "3F00-A001-4402", "3F00-A001-4404" };

typedef struct card_files {
	cnie_buf *f[NFILES];
	char want[4096]; /* the summary of the run without faults */
	char got[4096];
} card_files;

static void
put_id(char *s, size_t cap, const uint8_t *id, size_t n)
{
	size_t i, used = strlen(s);

	for (i = 0; i < n && used + 3 < cap; i++, used += 2)
		snprintf(s + used, cap - used, "%02X", id[i]);
	if (used + 2 < cap)
		snprintf(s + used, cap - used, ";");
}

/* Parses every file; writes a summary of what was parsed to sum. */
static int
parse_all(card_files *c, char *sum, size_t cap)
{
	cnie_p15_dir *dir = NULL;
	cnie_p15_odf *odf = NULL;
	cnie_p15_tokeninfo *ti = NULL;
	cnie_p15_aodf *aodf = NULL;
	cnie_p15_prkdf *prkdf = NULL;
	cnie_p15_cdf *cdf = NULL;
	size_t i;
	int r;

#define P(fn, idx, dst)                                                        \
	if ((r = fn(cnie_buf_ptr(c->f[idx]), cnie_buf_len(c->f[idx]), dst)) != 0) \
		goto out
	P(cnie_p15_dir_parse, F_DIR, &dir);
	P(cnie_p15_odf_parse, F_ODF, &odf);
	P(cnie_p15_tokeninfo_parse, F_TOKENINFO, &ti);
	P(cnie_p15_aodf_parse, F_AODF, &aodf);
	P(cnie_p15_prkdf_parse, F_PRKDF, &prkdf);
	P(cnie_p15_cdf_parse, F_CDF, &cdf);
#undef P
	fault_pause();
	snprintf(sum, cap, "dir %zu odf %zu aodf %zu prkdf %zu cdf %zu serial %s label %s;",
	    dir->count, odf->count, aodf->count, prkdf->count, cdf->count, ti->serial, ti->label);
	for (i = 0; i < dir->count; i++)
		put_id(sum, cap, dir->apps[i].aid, dir->apps[i].aid_len);
	for (i = 0; i < prkdf->count; i++)
		put_id(sum, cap, prkdf->keys[i].id, prkdf->keys[i].id_len);
	for (i = 0; i < cdf->count; i++)
		put_id(sum, cap, cdf->certs[i].id, cdf->certs[i].id_len);
	fault_resume();
out:
	cnie_p15_dir_free(&dir);
	cnie_p15_odf_free(&odf);
	cnie_p15_tokeninfo_free(&ti);
	cnie_p15_aodf_free(&aodf);
	cnie_p15_prkdf_free(&prkdf);
	cnie_p15_cdf_free(&cdf);
	return r;
}

static int
run(void *arg)
{
	card_files *c = arg;
	int r;

	c->got[0] = '\0';
	if ((r = parse_all(c, c->got, sizeof(c->got))) != 0)
		return r;
	return strcmp(c->got, c->want) == 0 ? FAULT_RUN_OK : FAULT_RUN_WRONG;
}

static void
sweep(const char *card)
{
	card_files c;
	fault_report rep;
	char name[32];
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NFILES; i++)
		c.f[i] = tu_card_file(card, names[i]);
	assert_int_equal(parse_all(&c, c.want, sizeof(c.want)), 0);
	snprintf(name, sizeof(name), "pkcs15-%s", card);
	fault_sweep(name, run, &c, &rep);
	assert_true(rep.errors > 0);
	for (i = 0; i < NFILES; i++)
		cnie_buf_free(&c.f[i]);
}

static void
test_ec_card_files_fail_cleanly(void **state)
{
	(void)state;
	sweep("ec");
}

static void
test_rsa_card_files_fail_cleanly(void **state)
{
	(void)state;
	sweep("rsa");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_card_files_fail_cleanly),
		cmocka_unit_test(test_rsa_card_files_fail_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
