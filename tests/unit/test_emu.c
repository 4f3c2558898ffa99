/*
 * The reference card (drivers/emu): a card directory made here (two EC
 * keys and one RSA key generated with OpenSSL) and every command's
 * success and refusal with its exact status word: SELECT, READ BINARY
 * (short, SFI, odd INS with DO 54, extended), access conditions, VERIFY /
 * CHANGE REFERENCE DATA / RESET RETRY COUNTER with counters persisted
 * across close and reopen, MSE:SET + PSO:CDS and INTERNAL AUTHENTICATE
 * with signatures verified by OpenSSL, the signature key's PIN before
 * each signature, 61xx / GET RESPONSE and 6Cxx, contactless access only
 * after PACE (libcnie's terminal), power cycles, chaining, the strict
 * loader's messages and the test hooks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cnie/apdu.h>
#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pace.h>
#include <cnie/sm.h>

#include "emu.h"

#define ATR_CONTACT "3B8C8131FE458031A873B401C064434E4945FD"
/* Same ATR without the card capabilities (73 ...): no extended length. */
#define ATR_SHORT "3B888131FE458031A864434E4945FF"
#define ATR_CL "3B888001434E494500817100F8"
#define CARD_ACCESS "31143012060A04007F0007020204020202010202010D"
#define SERIAL "81D8DD304F8A3E96"
#define AID_PKI "F0434E4945504B49"
#define AID_ICAO "A0000002471001"
#define BIG_LEN 40000u
#define CERT_LEN 600u

static EVP_PKEY *k_auth, *k_sign, *k_rsa;
static char g_dir[64];
static uint8_t g_resp[CNIE_EMU_MAX_RESP];

typedef struct fx {
	cnie_emu *e;
	cnie_buf *d; /* response data of the last command */
	char state[128];
} fx;

/* ---- the card directory ---------------------------------------------- */

static void
write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
write_hex_file(const char *dir, const char *name, const char *hex)
{
	cnie_buf *b = cnie_buf_new();

	assert_int_equal(cnie_unhex(hex, b), 0);
	write_file(dir, name, cnie_buf_ptr(b), cnie_buf_len(b));
	cnie_buf_free(&b);
}

static void
write_key(const char *dir, const char *name, EVP_PKEY *k)
{
	char path[256];
	BIO *bio;

	snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
	assert_non_null(bio = BIO_new_file(path, "w"));
	assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
	BIO_free(bio);
}

static uint8_t
cert_byte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static uint8_t
big_byte(size_t i)
{
	return (uint8_t)((i >> 3) ^ i);
}

static const char card_json_fmt[] =
    "{\"format\":1,\"description\":\"unit test card\",\"serial\":\"" SERIAL "\","
    "\"atr\":{\"contact\":\"%s\",\"contactless\":\"" ATR_CL "\"},"
    "\"interfaces\":[\"contact\",\"contactless\"],"
    "\"applications\":["
    " {\"name\":\"pki\",\"aid\":\"" AID_PKI "\",\"fid\":\"A001\",\"contactless\":\"pace\"},"
    " {\"name\":\"icao\",\"aid\":\"" AID_ICAO "\",\"fid\":\"A002\",\"contactless\":\"pace\","
    "  \"contact\":\"pace-or-bac\"}],"
    "\"files\":["
    " {\"path\":\"3F00-2F00\",\"read\":\"always\"},"
    " {\"path\":\"3F00-011C\",\"read\":\"always\",\"sfi\":28},"
    " {\"path\":\"3F00-A001-4331\",\"read\":\"always\",\"sfi\":3},"
    " {\"path\":\"3F00-A001-4332\",\"read\":\"always\"},"
    " {\"path\":\"3F00-A001-0001\",\"read\":\"pin\"},"
    " {\"path\":\"3F00-A001-0002\",\"read\":\"never\"},"
    " {\"path\":\"3F00-A002-0101\",\"read\":\"sm\",\"sfi\":1}],"
    "\"pins\":["
    " {\"name\":\"pin\",\"ref\":\"81\",\"value\":\"1234\",\"min\":4,\"max\":12,\"tries\":3,"
    "  \"puk\":\"puk\"},"
    " {\"name\":\"puk\",\"ref\":\"82\",\"value\":\"12345678\",\"min\":8,\"max\":8,\"tries\":10}],"
    "\"keys\":["
    " {\"name\":\"auth\",\"ref\":\"81\",\"file\":\"keys/auth.pem\",\"app\":\"pki\","
    "  \"use\":[\"sign\",\"internal-authenticate\"],\"pin\":\"pin\",\"always_pin\":false},"
    " {\"name\":\"sign\",\"ref\":\"82\",\"file\":\"keys/sign.pem\",\"app\":\"pki\","
    "  \"use\":[\"sign\"],\"pin\":\"pin\",\"always_pin\":true},"
    " {\"name\":\"rsa\",\"ref\":\"83\",\"file\":\"keys/rsa.pem\",\"app\":\"pki\","
    "  \"use\":[\"sign\",\"internal-authenticate\"],\"pin\":\"pin\"}],"
    "\"secrets\":{\"can\":\"123456\"},"
    "\"pace\":{\"oid\":\"04007F00070202040202\",\"parameter_id\":13},"
    "\"blocked\":false%s}";

static void
write_card_json(const char *dir, const char *atr, const char *extra)
{
	char *json = NULL;

	assert_true(asprintf(&json, card_json_fmt, atr, extra) > 0);
	write_file(dir, "card.json", json, strlen(json));
	free(json);
}

static void
make_card(char *dir, const char *atr, const char *extra)
{
	char sub[128];
	uint8_t *big;
	size_t i;

	strcpy(dir, "/tmp/cnie-emu-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/files", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/keys", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_key(dir, "auth.pem", k_auth);
	write_key(dir, "sign.pem", k_sign);
	write_key(dir, "rsa.pem", k_rsa);
	write_hex_file(dir, "files/3F00-2F00", "61094F07A0000002471001");
	write_hex_file(dir, "files/3F00-011C", CARD_ACCESS);
	assert_non_null(big = malloc(BIG_LEN));
	for (i = 0; i < CERT_LEN; i++)
		big[i] = cert_byte(i);
	write_file(dir, "files/3F00-A001-4331", big, CERT_LEN);
	for (i = 0; i < BIG_LEN; i++)
		big[i] = big_byte(i);
	write_file(dir, "files/3F00-A001-4332", big, BIG_LEN);
	free(big);
	write_file(dir, "files/3F00-A001-0001", "PINFILE", 7);
	write_file(dir, "files/3F00-A001-0002", "NEVER", 5);
	write_file(dir, "files/3F00-A002-0101", "DG1-MRZ<<", 9);
	write_card_json(dir, atr, extra);
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	(void)nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int
group_setup(void **state)
{
	(void)state;
	k_auth = EVP_EC_gen("P-256");
	k_sign = EVP_EC_gen("P-384");
	k_rsa = EVP_RSA_gen(2048);
	if (k_auth == NULL || k_sign == NULL || k_rsa == NULL)
		return -1;
	make_card(g_dir, ATR_CONTACT, "");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_tree(g_dir);
	EVP_PKEY_free(k_auth);
	EVP_PKEY_free(k_sign);
	EVP_PKEY_free(k_rsa);
	return 0;
}

static void
power(fx *f, cnie_emu_iface iface)
{
	uint8_t atr[40];
	size_t n = sizeof(atr);

	assert_int_equal(cnie_emu_power_on(f->e, iface, atr, &n), 0);
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state.json", g_dir);
	(void)unlink(f->state);
	if (cnie_emu_open(g_dir, NULL, &f->e) != 0 || (f->d = cnie_buf_new()) == NULL)
		return -1;
	power(f, CNIE_EMU_CONTACT);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;

	cnie_emu_free(&f->e);
	assert_null(f->e);
	cnie_buf_free(&f->d);
	(void)unlink(f->state);
	free(f);
	return 0;
}

/* ---- exchanging APDUs -------------------------------------------------- */

static uint16_t
tx_raw(fx *f, const uint8_t *cmd, size_t n)
{
	size_t len = sizeof(g_resp);

	assert_int_equal(cnie_emu_transmit(f->e, cmd, n, g_resp, &len), 0);
	assert_true(len >= 2);
	cnie_buf_reset(f->d);
	assert_int_equal(cnie_buf_put(f->d, g_resp, len - 2), 0);
	return (uint16_t)(g_resp[len - 2] << 8 | g_resp[len - 1]);
}

/* Sends a command given in hex; the response data lands in f->d. */
static uint16_t
tx(fx *f, const char *hex)
{
	cnie_buf *b = cnie_buf_new();
	uint16_t sw;

	assert_int_equal(cnie_unhex(hex, b), 0);
	sw = tx_raw(f, cnie_buf_ptr(b), cnie_buf_len(b));
	cnie_buf_free(&b);
	return sw;
}

/* Under secure messaging: wraps, sends, checks and unwraps (SW from DO 99). */
static uint16_t
tx_sm(fx *f, cnie_sm *sm, const cnie_apdu *a)
{
	cnie_buf *b = cnie_buf_new(), *plain = cnie_buf_new();
	uint16_t sw = 0, outer;
	size_t len = sizeof(g_resp);

	assert_int_equal(cnie_sm_wrap_command(sm, a, b), 0);
	assert_int_equal(cnie_emu_transmit(f->e, cnie_buf_ptr(b), cnie_buf_len(b), g_resp, &len), 0);
	outer = (uint16_t)(g_resp[len - 2] << 8 | g_resp[len - 1]);
	assert_int_equal(outer, 0x9000);
	assert_int_equal(cnie_sm_unwrap_response(sm, g_resp, len, plain, &sw), 0);
	cnie_buf_reset(f->d);
	assert_int_equal(cnie_buf_put_buf(f->d, plain), 0);
	cnie_buf_free(&b);
	cnie_buf_free(&plain);
	return sw;
}

static void
assert_data_hex(fx *f, const char *hex)
{
	cnie_buf *b = cnie_buf_new();

	assert_int_equal(cnie_unhex(hex, b), 0);
	assert_int_equal(cnie_buf_len(f->d), cnie_buf_len(b));
	assert_memory_equal(cnie_buf_ptr(f->d), cnie_buf_ptr(b), cnie_buf_len(b));
	cnie_buf_free(&b);
}

static void
select_pki(fx *f)
{
	assert_int_equal(tx(f, "00A4040C08" AID_PKI), 0x9000);
}

static void
verify_pin(fx *f)
{
	assert_int_equal(tx(f, "002000810431323334"), 0x9000);
}

static char *
read_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	static char text[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return text;
}

/* ---- loading ------------------------------------------------------------ */

static void
expect_load_error(const char *json_extra, const char *atr, const char *needle)
{
	char dir[64], err[256];
	cnie_emu *e = NULL;

	make_card(dir, atr, json_extra);
	assert_int_not_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), 0);
	assert_null(e);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
	rm_tree(dir);
}

static void
test_load_strict(void **state)
{
	char dir[64], err[256], path[128];
	cnie_emu *e = NULL;

	(void)state;
	expect_load_error(",\"bogus\":1", ATR_CONTACT, "bogus: unknown field");
	expect_load_error(",\"hooks\":{\"tamper\":\"3F00-9999\"}", ATR_CONTACT, "hooks.tamper");
	expect_load_error(",\"hooks\":{\"flip\":1}", ATR_CONTACT, "hooks.flip: unknown field");
	/* Wrong TCK. */
	expect_load_error("", "3B8C8131FE458031A873B401C064434E494500", "atr.contact");
	expect_load_error(",\"blocked\":\"yes\"", ATR_CONTACT, "blocked");

	/* A field of a nested entry, and a missing file. */
	make_card(dir, ATR_CONTACT, "");
	snprintf(path, sizeof(path), "%s/files/3F00-A001-0002", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), CNIE_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "files/3F00-A001-0002"));
	write_file(dir, "card.json", "{\"format\":2}", 12);
	assert_int_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), CNIE_ERR_ENCODING);
	assert_non_null(strstr(err, "format"));
	write_file(dir, "card.json", "{\"format\":1,", 12);
	assert_int_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), CNIE_ERR_ENCODING);
	assert_non_null(strstr(err, "card.json: line 1"));
	rm_tree(dir);

	/* state.json is as strict. */
	make_card(dir, ATR_CONTACT, "");
	write_file(dir, "state.json", "{\"format\":1,\"pins\":{\"pin\":{\"tries\":9}}}", 39);
	assert_int_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), CNIE_ERR_ENCODING);
	assert_non_null(strstr(err, "pins.pin.tries"));
	write_file(dir, "state.json", "{\"format\":1,\"pins\":{\"pan\":{\"tries\":1}}}", 39);
	assert_int_equal(cnie_emu_open_ex(dir, NULL, &e, err, sizeof(err)), CNIE_ERR_ENCODING);
	assert_non_null(strstr(err, "pins.pan"));
	rm_tree(dir);

	assert_int_equal(cnie_emu_open_ex("/nonexistent-dir", NULL, &e, err, sizeof(err)),
	    CNIE_ERR_ENCODING);
	assert_int_equal(cnie_emu_open(NULL, NULL, &e), CNIE_ERR_INVALID_ARG);
}

/* ---- power ------------------------------------------------------------- */

static void
test_power(void **state)
{
	fx *f = *state;
	uint8_t atr[40], small[4], cmd[] = { 0x00, 0xA4, 0x00, 0x0C };
	size_t n = sizeof(atr), len = sizeof(g_resp);
	cnie_buf *want = cnie_buf_new();

	assert_int_equal(cnie_emu_power_on(f->e, CNIE_EMU_CONTACT, atr, &n), 0);
	assert_int_equal(cnie_unhex(ATR_CONTACT, want), 0);
	assert_int_equal(n, cnie_buf_len(want));
	assert_memory_equal(atr, cnie_buf_ptr(want), n);
	n = sizeof(small);
	assert_int_equal(cnie_emu_power_on(f->e, CNIE_EMU_CONTACT, small, &n),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	n = sizeof(atr);
	assert_int_equal(cnie_emu_power_on(f->e, CNIE_EMU_CONTACTLESS, atr, &n), 0);
	cnie_buf_reset(want);
	assert_int_equal(cnie_unhex(ATR_CL, want), 0);
	assert_int_equal(n, cnie_buf_len(want));
	assert_memory_equal(atr, cnie_buf_ptr(want), n);

	cnie_emu_power_off(f->e);
	assert_int_equal(cnie_emu_transmit(f->e, cmd, sizeof(cmd), g_resp, &len),
	    CNIE_ERR_NO_CARD);
	power(f, CNIE_EMU_CONTACT);
	len = 100;
	assert_int_equal(cnie_emu_transmit(f->e, cmd, sizeof(cmd), g_resp, &len),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	len = sizeof(g_resp);
	assert_int_equal(cnie_emu_transmit(f->e, cmd, sizeof(cmd), g_resp, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(g_resp[0] << 8 | g_resp[1], 0x9000);
	cnie_buf_free(&want);
}

/* ---- class, instruction, lengths --------------------------------------- */

static void
test_class_and_ins(void **state)
{
	fx *f = *state;

	assert_int_equal(tx(f, "80A4000C"), 0x6E00);
	assert_int_equal(tx(f, "FFCA000000"), 0x6E00);
	assert_int_equal(tx(f, "20A4000C"), 0x6E00);
	assert_int_equal(tx(f, "01A4000C"), 0x6881);
	assert_int_equal(tx(f, "40A4000C"), 0x6881);
	assert_int_equal(tx(f, "0070000001"), 0x6881);
	assert_int_equal(tx(f, "04A4000C"), 0x6882);	   /* proprietary SM */
	assert_int_equal(tx(f, "0CA4000C"), 0x6882);	   /* SM with no session */
	assert_int_equal(tx(f, "00EE0000"), 0x6D00);
	assert_int_equal(tx(f, "00A400"), 0x6700);	   /* 3 bytes */
	assert_int_equal(tx(f, ""), 0x6700);
	assert_int_equal(tx(f, "00A4000C053F00"), 0x6700); /* Lc 5, 2 bytes */
	assert_int_equal(tx(f, "00C0000010"), 0x6985);	   /* nothing pending */
	assert_int_equal(tx(f, "0022FFFF"), 0x6A86);
	assert_int_equal(tx(f, "00880000020102"), 0x6985); /* no key in the MF */
}

/* ---- SELECT ------------------------------------------------------------ */

static void
test_select_variants(void **state)
{
	fx *f = *state;

	assert_int_equal(tx(f, "00A4080404A001433100"), 0x9000);
	assert_data_hex(f, "620E8002025882010183024331" "8A0105");
	assert_int_equal(tx(f, "00A4000400"), 0x9000); /* P1 00, no data: the MF */
	assert_data_hex(f, "620A820138" "83023F00" "8A0105");
	assert_int_equal(tx(f, "00A4040008" AID_PKI "00"), 0x9000);
	assert_data_hex(f, "6214820138" "8302A001" "8408" AID_PKI "8A0105");
	assert_int_equal(tx(f, "00A4020C024331"), 0x9000);
	assert_int_equal(tx(f, "00A4020C024444"), 0x6A82);
	assert_int_equal(tx(f, "00A4030C"), 0x9000);	  /* parent: the MF */
	assert_int_equal(tx(f, "00A4030C"), 0x6A82);	  /* the MF has none */
	assert_int_equal(tx(f, "00A4010C02A002"), 0x9000);
	assert_int_equal(tx(f, "00A4010C02A001"), 0x6A82); /* no DF under a DF */
	assert_int_equal(tx(f, "00A4000C023F00"), 0x9000);
	assert_int_equal(tx(f, "00A4000C022F00"), 0x9000);
	assert_int_equal(tx(f, "00A4000C02A001"), 0x9000);
	assert_int_equal(tx(f, "00A4000C024331"), 0x9000);
	assert_int_equal(tx(f, "00A4090C024332"), 0x9000);
	assert_int_equal(tx(f, "00A4090C02A001"), 0x6A82);
	assert_int_equal(tx(f, "00A4080C02011C"), 0x9000);
	assert_int_equal(tx(f, "00A4080C043F00A001"), 0x6A82); /* the MF is implicit */
	assert_int_equal(tx(f, "00A4040C07A0000002471002"), 0x6A82);
	assert_int_equal(tx(f, "00A4040C07" AID_ICAO), 0x9000);
	assert_int_equal(tx(f, "00A4040C"), 0x9000); /* P1 04 without a name: the MF */
	/* Refusals. */
	assert_int_equal(tx(f, "00A4000C03A00101"), 0x6700);
	assert_int_equal(tx(f, "00A4080C03A00143"), 0x6700);
	assert_int_equal(tx(f, "00A4010C"), 0x6700);
	assert_int_equal(tx(f, "00A4040C11" "0102030405060708090A0B0C0D0E0F1011"), 0x6700);
	assert_int_equal(tx(f, "00A4050C023F00"), 0x6A86);
	assert_int_equal(tx(f, "00A40008023F00"), 0x6A86);
	assert_int_equal(tx(f, "00A40002023F00"), 0x6A86);
	/* A failed SELECT keeps the current EF. */
	assert_int_equal(tx(f, "00A4080C04A0014331"), 0x9000);
	assert_int_equal(tx(f, "00A4020C029999"), 0x6A82);
	assert_int_equal(tx(f, "00B0000002"), 0x9000);
	assert_data_hex(f, "0108");
	/* FCP with no Le (case 3): 61xx, then GET RESPONSE. */
	assert_int_equal(tx(f, "00A4000402A001"), 0x6116);
	assert_int_equal(cnie_buf_len(f->d), 0);
	assert_int_equal(tx(f, "00C0000016"), 0x9000);
	assert_data_hex(f, "6214820138" "8302A001" "8408" AID_PKI "8A0105");
}

/* ---- READ BINARY --------------------------------------------------------- */

static void
test_read_binary(void **state)
{
	fx *f = *state;
	char cmd[64];
	size_t i;

	assert_int_equal(tx(f, "00B0000010"), 0x6986); /* no current EF */
	assert_int_equal(tx(f, "00A4080C04A0014331"), 0x9000);
	assert_int_equal(tx(f, "00B0000004"), 0x9000);
	assert_data_hex(f, "01080F16");
	assert_int_equal(tx(f, "00B0000003"), 0x9000);
	/* Offset 0x0100 (256): 7*256+1 = 0x701 -> 01. */
	assert_int_equal(tx(f, "00B0010002"), 0x9000);
	assert_data_hex(f, "0108");
	/* Le 00 = 256 bytes. */
	assert_int_equal(tx(f, "00B0000000"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 256);
	/* Near the end: fewer bytes than Ne, 6282. */
	assert_int_equal(tx(f, "00B0025010"), 0x6282);
	assert_int_equal(cnie_buf_len(f->d), CERT_LEN - 0x250);
	for (i = 0; i < cnie_buf_len(f->d); i++)
		assert_int_equal(cnie_buf_ptr(f->d)[i], cert_byte(0x250 + i));
	/* Offset at and past the end. */
	assert_int_equal(tx(f, "00B0025801"), 0x6B00);
	assert_int_equal(tx(f, "00B07FFF01"), 0x6B00);
	/* Wrong lengths: no Le, a data field. */
	assert_int_equal(tx(f, "00B00000"), 0x6700);
	assert_int_equal(tx(f, "00B000000100"), 0x6700);
	/* SFI 3 (P1 = 83) from the PKI DF, offset in P2. */
	assert_int_equal(tx(f, "00A4040C08" AID_PKI), 0x9000);
	assert_int_equal(tx(f, "00B0830102"), 0x9000);
	assert_data_hex(f, "080F");
	assert_int_equal(tx(f, "00B0840002"), 0x6A82);	/* no SFI 4 */
	assert_int_equal(tx(f, "00B0A30002"), 0x6A86);	/* P1 101xxxxx */
	assert_int_equal(tx(f, "00B09F0002"), 0x6A86);	/* SFI 31 */
	/* SFI from the MF: EF.CardAccess (28). */
	assert_int_equal(tx(f, "00A4000C"), 0x9000);
	assert_int_equal(tx(f, "00B09C0000"), 0x6282);
	assert_data_hex(f, CARD_ACCESS);
	/* The SFI made EF.CardAccess current. */
	assert_int_equal(tx(f, "00B0000002"), 0x9000);
	assert_data_hex(f, "3114");

	/* Odd INS with DO 54 beyond 32767, extended Le; the answer is in DO 53. */
	assert_int_equal(tx(f, "00A4080C04A0014332"), 0x9000);
	assert_int_equal(tx(f, "00B100000454029000" "05"), 0x9000);
	snprintf(cmd, sizeof(cmd), "5303%02X%02X%02X", big_byte(0x9000), big_byte(0x9001),
	    big_byte(0x9002));
	assert_data_hex(f, cmd);
	/* Extended Le 0000 (65536) at offset 39000: 1000 bytes left, 6282. */
	assert_int_equal(tx(f, "00B10000000004" "54029858" "0000"), 0x6282);
	assert_int_equal(cnie_buf_len(f->d), 4 + 1000);
	assert_memory_equal(cnie_buf_ptr(f->d), "\x53\x82\x03\xE8", 4);
	for (i = 0; i < 1000; i++)
		assert_int_equal(cnie_buf_ptr(f->d)[4 + i], big_byte(39000 + i));
	/* DO 53 fills Le exactly: Le 130 gives 127 content bytes. */
	assert_int_equal(tx(f, "00B100000454020000" "82"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 129);
	/* Odd INS by FID and by SFI. */
	assert_int_equal(tx(f, "00A4040C08" AID_PKI), 0x9000);
	assert_int_equal(tx(f, "00B1433103540100" "02"), 0x6700); /* no room for a byte */
	assert_int_equal(tx(f, "00B1433103540100" "04"), 0x9000);
	assert_data_hex(f, "53020108");
	assert_int_equal(tx(f, "00B1000303540101" "04"), 0x9000);
	assert_data_hex(f, "5302080F");
	assert_int_equal(tx(f, "00B1444403540100" "04"), 0x6A82);
	assert_int_equal(tx(f, "00B1000003550100" "04"), 0x6A80);
	assert_int_equal(tx(f, "00B10000025401" "04"), 0x6A80);
	assert_int_equal(tx(f, "00B100000454010203" "04"), 0x6A80);
	assert_int_equal(tx(f, "00B1000004"), 0x6700);
	assert_int_equal(tx(f, "00B100000454020258" "04"), 0x6B00);
	/* Extended Le on B0: 600 bytes at once. */
	assert_int_equal(tx(f, "00B0830000" "0258"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), CERT_LEN);
}

static void
test_extended_needs_atr(void **state)
{
	char dir[64];
	fx g;

	(void)state;
	memset(&g, 0, sizeof(g));
	make_card(dir, ATR_SHORT, "");
	assert_int_equal(cnie_emu_open(dir, NULL, &g.e), 0);
	assert_non_null(g.d = cnie_buf_new());
	power(&g, CNIE_EMU_CONTACT);
	assert_int_equal(tx(&g, "00A4080C04A0014331"), 0x9000);
	assert_int_equal(tx(&g, "00B00000000100"), 0x6700);
	assert_int_equal(tx(&g, "00B0000000"), 0x9000);
	cnie_emu_free(&g.e);
	cnie_buf_free(&g.d);
	rm_tree(dir);
}

static void
test_access_conditions(void **state)
{
	fx *f = *state;

	select_pki(f);
	assert_int_equal(tx(f, "00A4020C020001"), 0x9000);
	assert_int_equal(tx(f, "00B0000007"), 0x6982);
	verify_pin(f);
	assert_int_equal(tx(f, "00B0000007"), 0x9000);
	assert_data_hex(f, "50494E46494C45");
	assert_int_equal(tx(f, "00A4020C020002"), 0x9000);
	assert_int_equal(tx(f, "00B0000005"), 0x6982);
	/* DG1: "sm"; and the ICAO application wants PACE or BAC over contact. */
	assert_int_equal(tx(f, "00A4040C07" AID_ICAO), 0x9000);
	assert_int_equal(tx(f, "00B0810009"), 0x6982);
	assert_int_equal(tx(f, "00A4020C020101"), 0x9000); /* SELECT is allowed */
	assert_int_equal(tx(f, "00B0000009"), 0x6982);
}

/* ---- PINs ---------------------------------------------------------------- */

static void
test_verify(void **state)
{
	fx *f = *state;

	assert_int_equal(tx(f, "0020008100"), 0x6A88); /* the PIN lives in the PKI DF */
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x63C3);
	assert_int_equal(tx(f, "002000810431323335"), 0x63C2);
	assert_int_equal(tx(f, "00200081"), 0x63C2);
	/* Outside 4..12: refused, no try spent. */
	assert_int_equal(tx(f, "0020008103313233"), 0x6A80);
	assert_int_equal(tx(f, "002000810D31323334353637383930313233"), 0x6A80);
	assert_int_equal(tx(f, "00200081"), 0x63C2);
	/* A prefix of the PIN is wrong. */
	assert_int_equal(tx(f, "00200081053132333400"), 0x63C1);
	verify_pin(f);
	assert_int_equal(tx(f, "00200081"), 0x9000);
	/* The counter came back: persisted. */
	assert_non_null(strstr(read_text(f->state), "\"tries\": 3"));
	assert_int_equal(tx(f, "002000830431323334"), 0x6A88);
	assert_int_equal(tx(f, "002001810431323334"), 0x6A86);
	/* P1 FF: verification status reset. */
	assert_int_equal(tx(f, "002000810131"), 0x6A80);
	assert_int_equal(tx(f, "00200081"), 0x9000);
	assert_int_equal(tx(f, "00FF"), 0x6700);
	assert_int_equal(tx(f, "0020FF81"), 0x9000);
	assert_int_equal(tx(f, "00200081"), 0x63C3);
	assert_int_equal(tx(f, "0020FF810131"), 0x6700);
	/* The PUK's counter reads the same way. */
	assert_int_equal(tx(f, "00200082"), 0x63CA);
}

static void
test_pin_block_persist_unblock(void **state)
{
	fx *f = *state;
	char err[256];

	select_pki(f);
	assert_int_equal(tx(f, "002000810439393939"), 0x63C2);
	assert_int_equal(tx(f, "002000810439393939"), 0x63C1);
	/* Survives close and reopen. */
	cnie_emu_free(&f->e);
	assert_int_equal(cnie_emu_open_ex(g_dir, NULL, &f->e, err, sizeof(err)), 0);
	power(f, CNIE_EMU_CONTACT);
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x63C1);
	assert_int_equal(tx(f, "002000810439393939"), 0x63C0);
	assert_int_equal(tx(f, "00200081"), 0x6983);
	assert_int_equal(tx(f, "002000810431323334"), 0x6983); /* even the right PIN */
	assert_int_equal(tx(f, "002400811831323334FFFFFFFFFFFFFFFF35363738FFFFFFFFFFFFFFFF"),
	    0x6983);
	cnie_emu_free(&f->e);
	assert_int_equal(cnie_emu_open(g_dir, NULL, &f->e), 0);
	power(f, CNIE_EMU_CONTACT);
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x6983);

	/* RESET RETRY COUNTER: wrong PUK spends a PUK try. */
	assert_int_equal(tx(f, "002C01810831313131313131"), 0x6700);
	assert_int_equal(tx(f, "002C0181083131313131313131"), 0x63C9);
	assert_int_equal(tx(f, "00200082"), 0x63C9);
	assert_int_equal(tx(f, "002C0182083132333435363738"), 0x6985); /* nothing unblocks the PUK */
	assert_int_equal(tx(f, "002C0381083132333435363738"), 0x6A86);
	assert_int_equal(tx(f, "002C0183083132333435363738"), 0x6A88);
	/* P1 01: PUK only; the PIN is back with its old value. */
	assert_int_equal(tx(f, "002C0181083132333435363738"), 0x9000);
	assert_int_equal(tx(f, "00200081"), 0x63C3);
	assert_int_equal(tx(f, "00200082"), 0x63CA);
	verify_pin(f);

	/* P1 00: PUK || new PIN padded to 12 with FF. */
	assert_int_equal(tx(f, "002C0081143132333435363738" "393837363534FFFFFFFFFFFF"), 0x9000);
	assert_int_equal(tx(f, "00200081"), 0x63C3); /* not verified by the reset */
	assert_int_equal(tx(f, "002000810431323334"), 0x63C2);
	assert_int_equal(tx(f, "0020008106393837363534"), 0x9000);
	assert_non_null(strstr(read_text(f->state), "\"value\": \"987654\""));
	/* Malformed padding: 6A80, nothing spent. */
	assert_int_equal(tx(f, "002C0081143132333435363738" "3938FF3736FFFFFFFFFFFFFF"), 0x6A80);
	assert_int_equal(tx(f, "002C0081143132333435363738" "3938FFFFFFFFFFFFFFFFFFFF"), 0x6A80);
	assert_int_equal(tx(f, "00200082"), 0x63CA);
	/* The new value survives a reopen. */
	cnie_emu_free(&f->e);
	assert_int_equal(cnie_emu_open(g_dir, NULL, &f->e), 0);
	power(f, CNIE_EMU_CONTACT);
	select_pki(f);
	assert_int_equal(tx(f, "0020008106393837363534"), 0x9000);
}

static void
test_change_reference_data(void **state)
{
	fx *f = *state;

	select_pki(f);
	/* old (12, FF padded) || new (12, FF padded). */
	assert_int_equal(tx(f, "0024008118" "31323334FFFFFFFFFFFFFFFF" "3131313131FFFFFFFFFFFFFF"),
	    0x9000);
	assert_int_equal(tx(f, "00200081"), 0x9000); /* a change verifies */
	assert_int_equal(tx(f, "0020FF81"), 0x9000);
	assert_int_equal(tx(f, "002000810431323334"), 0x63C2);
	assert_int_equal(tx(f, "00200081053131313131"), 0x9000);
	/* Wrong old value spends a try. */
	assert_int_equal(tx(f, "0024008118" "31323334FFFFFFFFFFFFFFFF" "3232323232FFFFFFFFFFFFFF"),
	    0x63C2);
	/* Wrong length, bad padding, too short a new value, P1 01. */
	assert_int_equal(tx(f, "0024008108" "31313131FFFFFFFF"), 0x6700);
	assert_int_equal(tx(f, "0024008118" "3131313131FFFFFFFFFFFFFF" "323232FFFFFFFFFFFFFFFFFF"),
	    0x6A80);
	assert_int_equal(tx(f, "0024018118" "3131313131FFFFFFFFFFFFFF" "3232323232FFFFFFFFFFFFFF"),
	    0x6A86);
	assert_int_equal(tx(f, "00200081"), 0x63C2);
	assert_non_null(strstr(read_text(f->state), "\"value\": \"11111\""));
}

/* ---- signatures ---------------------------------------------------------- */

static void
ec_verify(EVP_PKEY *k, const uint8_t *hash, size_t hn, const uint8_t *rs, size_t n)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	unsigned char *der = NULL;
	int dn;

	assert_non_null(sig);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(rs, (int)n / 2, NULL),
			     BN_bin2bn(rs + n / 2, (int)n / 2, NULL)),
	    1);
	assert_true((dn = i2d_ECDSA_SIG(sig, &der)) > 0);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, der, (size_t)dn, hash, hn), 1);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX_free(ctx);
}

static void
rsa_verify(EVP_PKEY *k, bool pss, const uint8_t *hash, const uint8_t *sig, size_t n)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);

	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx,
			     pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING),
	    1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, sig, n, hash, 32), 1);
	EVP_PKEY_CTX_free(ctx);
}

#define HASH32 "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define HASH48 HASH32 "202122232425262728292A2B2C2D2E2F"
#define DI_SHA256 "3031300D060960864801650304020105000420"

static void
hash_bytes(uint8_t *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h[i] = (uint8_t)i;
}

static void
test_sign_key_needs_pin_each_time(void **state)
{
	fx *f = *state;
	uint8_t h[48];

	hash_bytes(h, sizeof(h));
	select_pki(f);
	assert_int_equal(tx(f, "002A9E9A30" HASH48 "00"), 0x6985); /* no MSE:SET */
	assert_int_equal(tx(f, "002241B606800102840182"), 0x6A80);  /* RSA alg, EC key */
	assert_int_equal(tx(f, "002241B606800105840182"), 0x6A80);
	assert_int_equal(tx(f, "002241B603840199"), 0x6A88);
	assert_int_equal(tx(f, "002241B603800104"), 0x6A80);	      /* no key reference */
	assert_int_equal(tx(f, "002241B6058401828401"), 0x6A80);      /* malformed */
	assert_int_equal(tx(f, "002241A403840182"), 0x6A80);	      /* not for INTERNAL AUTH */
	assert_int_equal(tx(f, "002241B606800199840182"), 0x6A80);
	assert_int_equal(tx(f, "002241B606800004840182"), 0x6A80);
	assert_int_equal(tx(f, "002241B606800104840182"), 0x9000);
	assert_int_equal(tx(f, "002A9E9A30" HASH48 "00"), 0x6982); /* no PIN */
	verify_pin(f);
	assert_int_equal(tx(f, "002A9E9A30" HASH48 "00"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 96);
	ec_verify(k_sign, h, 48, cnie_buf_ptr(f->d), 96);
	/* One signature per VERIFY. */
	assert_int_equal(tx(f, "002A9E9A30" HASH48 "00"), 0x6982);
	verify_pin(f);
	/* Other commands in between do not cancel the permit. */
	assert_int_equal(tx(f, "00A4020C024331"), 0x9000);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x9000);
	ec_verify(k_sign, h, 32, cnie_buf_ptr(f->d), 96);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6982);
	/* Bad inputs. */
	verify_pin(f);
	assert_int_equal(tx(f, "002A9E9A00"), 0x6700);
	assert_int_equal(tx(f, "002A9E9B20" HASH32 "00"), 0x6A86);
	assert_int_equal(tx(f, "002A9E9A1F" "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E" "00"),
	    0x6A80);
	/* The permit was spent by that attempt. */
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6982);
	/* Leaving the DF drops the security environment. */
	verify_pin(f);
	assert_int_equal(tx(f, "00A4000C"), 0x9000);
	select_pki(f);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6985);
}

static void
test_auth_key_ec(void **state)
{
	fx *f = *state;
	uint8_t h[32];

	hash_bytes(h, sizeof(h));
	select_pki(f);
	/* No DO 80: the key's default (ECDSA). */
	assert_int_equal(tx(f, "002241A403840181"), 0x9000);
	assert_int_equal(tx(f, "0088000020" HASH32 "00"), 0x6982);
	verify_pin(f);
	assert_int_equal(tx(f, "0088000020" HASH32 "00"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 64);
	ec_verify(k_auth, h, 32, cnie_buf_ptr(f->d), 64);
	/* Not always_pin: a second one needs no VERIFY. */
	assert_int_equal(tx(f, "0088000020" HASH32 "00"), 0x9000);
	ec_verify(k_auth, h, 32, cnie_buf_ptr(f->d), 64);
	assert_int_equal(tx(f, "0088010020" HASH32 "00"), 0x6A86);
	assert_int_equal(tx(f, "0088000000"), 0x6700);
	assert_int_equal(tx(f, "0088000005010203040500"), 0x6A80);
	/* PSO with the authentication key (its "use" has "sign"). */
	assert_int_equal(tx(f, "002241B603840181"), 0x9000);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x9000);
	ec_verify(k_auth, h, 32, cnie_buf_ptr(f->d), 64);
}

static void
test_rsa_and_get_response(void **state)
{
	fx *f = *state;
	uint8_t h[32], sig[256];

	hash_bytes(h, sizeof(h));
	select_pki(f);
	verify_pin(f);
	assert_int_equal(tx(f, "002241B606800102840183"), 0x9000);
	/* PKCS#1 v1.5 needs a DigestInfo. */
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6A80);
	assert_int_equal(tx(f, "002A9E9A33" DI_SHA256 HASH32 "00"), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 256);
	rsa_verify(k_rsa, false, h, cnie_buf_ptr(f->d), 256);
	/* Le 80: 128 bytes, 61 80, then GET RESPONSE. */
	assert_int_equal(tx(f, "002A9E9A33" DI_SHA256 HASH32 "80"), 0x6180);
	assert_int_equal(cnie_buf_len(f->d), 128);
	memcpy(sig, cnie_buf_ptr(f->d), 128);
	assert_int_equal(tx(f, "00C0000100"), 0x6A86);
	assert_int_equal(tx(f, "00C00000"), 0x6700);
	assert_int_equal(tx(f, "00C0000040"), 0x6140);
	memcpy(sig + 128, cnie_buf_ptr(f->d), 64);
	assert_int_equal(tx(f, "0CC0000000"), 0x9000); /* the SM bits are ignored */
	assert_int_equal(cnie_buf_len(f->d), 64);
	memcpy(sig + 192, cnie_buf_ptr(f->d), 64);
	rsa_verify(k_rsa, false, h, sig, 256);
	assert_int_equal(tx(f, "00C0000040"), 0x6985);
	/* No Le at all (case 3): everything through GET RESPONSE. */
	assert_int_equal(tx(f, "002A9E9A33" DI_SHA256 HASH32), 0x6100);
	assert_int_equal(cnie_buf_len(f->d), 0);
	/* Another command drops what was pending. */
	assert_int_equal(tx(f, "00200081"), 0x9000);
	assert_int_equal(tx(f, "00C0000000"), 0x6985);
	/* PSS over the raw hash, and INTERNAL AUTHENTICATE with PKCS#1. */
	assert_int_equal(tx(f, "002241B606800105840183"), 0x9000);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x9000);
	rsa_verify(k_rsa, true, h, cnie_buf_ptr(f->d), 256);
	assert_int_equal(tx(f, "002A9E9A13" DI_SHA256 "00"), 0x6A80);
	assert_int_equal(tx(f, "002241A406800102840183"), 0x9000);
	assert_int_equal(tx(f, "0088000033" DI_SHA256 HASH32 "00"), 0x9000);
	rsa_verify(k_rsa, false, h, cnie_buf_ptr(f->d), 256);
	assert_int_equal(tx(f, "002241A406800104840183"), 0x6A80); /* ECDSA on RSA */
}

static void
test_get_data(void **state)
{
	fx *f = *state;

	assert_int_equal(tx(f, "00CA005A00"), 0x9000);
	assert_data_hex(f, SERIAL);
	assert_int_equal(tx(f, "00CA005A04"), 0x6C08);
	assert_int_equal(tx(f, "00CA005A"), 0x6108);
	assert_int_equal(tx(f, "00C0000008"), 0x9000);
	assert_data_hex(f, SERIAL);
	assert_int_equal(tx(f, "00CA005F00"), 0x6A88);
	assert_int_equal(tx(f, "00CA005A0101"), 0x6700);
}

/* ---- chaining, power cycle --------------------------------------------- */

static void
test_chaining(void **state)
{
	fx *f = *state;

	select_pki(f);
	assert_int_equal(tx(f, "1020008102" "3132"), 0x9000);
	assert_int_equal(tx(f, "0020008102" "3334"), 0x9000);
	assert_int_equal(tx(f, "00200081"), 0x9000);
	/* A different command ends an open chain. */
	assert_int_equal(tx(f, "0020FF81"), 0x9000);
	assert_int_equal(tx(f, "1020008102" "3132"), 0x9000);
	assert_int_equal(tx(f, "00A4020C024331"), 0x9000);
	assert_int_equal(tx(f, "0020008102" "3334"), 0x6A80); /* 2 digits alone */
}

static void
test_power_cycle_drops_state(void **state)
{
	fx *f = *state;

	select_pki(f);
	verify_pin(f);
	assert_int_equal(tx(f, "002241B603840181"), 0x9000);
	assert_int_equal(tx(f, "00B0830002"), 0x9000);
	cnie_emu_power_off(f->e);
	power(f, CNIE_EMU_CONTACT);
	assert_int_equal(tx(f, "00B0000002"), 0x6986); /* back at the MF, no EF */
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x63C3);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6985);
	assert_int_equal(tx(f, "002241B603840181"), 0x9000);
	assert_int_equal(tx(f, "002A9E9A20" HASH32 "00"), 0x6982);
}

/* ---- contactless --------------------------------------------------------- */

static int
run_pace(fx *f, const char *can, cnie_sm **sm)
{
	cnie_buf *ca = cnie_buf_new(), *cmd = cnie_buf_new();
	cnie_pace *p = NULL;
	cnie_apdu a;
	uint16_t sw = 0;
	bool done = false;
	int r = 0, i;

	assert_int_equal(cnie_unhex(CARD_ACCESS, ca), 0);
	assert_int_equal(cnie_pace_terminal_new(cnie_buf_ptr(ca), cnie_buf_len(ca), CNIE_PACE_CAN,
			     can, strlen(can), &p),
	    0);
	cnie_buf_reset(f->d);
	for (i = 0; i < 8; i++) {
		if ((r = cnie_pace_terminal_next(p, cnie_buf_ptr(f->d), cnie_buf_len(f->d), sw, &a,
			 &done)) != 0)
			break;
		if (done) {
			r = cnie_pace_terminal_take_sm(p, sm);
			break;
		}
		cnie_buf_reset(cmd);
		assert_int_equal(cnie_apdu_encode(&a, true, cmd, NULL), 0);
		sw = tx_raw(f, cnie_buf_ptr(cmd), cnie_buf_len(cmd));
	}
	cnie_pace_terminal_free(&p);
	cnie_buf_free(&ca);
	cnie_buf_free(&cmd);
	return r;
}

static void
test_contactless_needs_pace(void **state)
{
	fx *f = *state;
	cnie_sm *sm = NULL;
	cnie_apdu a;
	uint8_t h[48], pin[] = { '1', '2', '3', '4' };
	uint8_t mse[] = { 0x80, 0x01, 0x04, 0x84, 0x01, 0x82 };

	hash_bytes(h, sizeof(h));
	cnie_emu_power_off(f->e);
	power(f, CNIE_EMU_CONTACTLESS);
	/* The MF is open: EF.CardAccess. */
	assert_int_equal(tx(f, "00B09C0000"), 0x6282);
	assert_int_equal(tx(f, "00CA005A00"), 0x6982); /* the serial is not for the air */
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x6982);
	assert_int_equal(tx(f, "002000810431323334"), 0x6982);
	assert_int_equal(tx(f, "002241B603840182"), 0x6982);
	assert_int_equal(tx(f, "00A4020C024331"), 0x9000);
	assert_int_equal(tx(f, "00B0000002"), 0x6982);
	assert_int_equal(tx(f, "0084000008"), 0x6982); /* no BAC on a PACE-only DF */
	/* Wrong CAN: no session. */
	assert_int_equal(run_pace(f, "654321", &sm), CNIE_ERR_PACE);
	assert_null(sm);
	assert_int_equal(tx(f, "00B0000002"), 0x6982);
	/* PACE with the CAN, the PKI application selected. */
	assert_int_equal(run_pace(f, "123456", &sm), 0);
	assert_non_null(sm);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 2;
	assert_int_equal(tx_sm(f, sm, &a), 0x9000);
	assert_data_hex(f, "0108");
	cnie_apdu_init(&a, 0x00, 0x20, 0x00, 0x81);
	a.data = pin;
	a.nc = sizeof(pin);
	a.flags = CNIE_APDU_SENSITIVE;
	assert_int_equal(tx_sm(f, sm, &a), 0x9000);
	cnie_apdu_init(&a, 0x00, 0x22, 0x41, 0xB6);
	a.data = mse;
	a.nc = sizeof(mse);
	assert_int_equal(tx_sm(f, sm, &a), 0x9000);
	cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = h;
	a.nc = 48;
	a.ne = 256;
	assert_int_equal(tx_sm(f, sm, &a), 0x9000);
	assert_int_equal(cnie_buf_len(f->d), 96);
	ec_verify(k_sign, h, 48, cnie_buf_ptr(f->d), 96);
	cnie_apdu_init(&a, 0x00, 0xCA, 0x00, 0x5A);
	a.ne = 256;
	assert_int_equal(tx_sm(f, sm, &a), 0x9000);
	assert_data_hex(f, SERIAL);
	/* A plain command ends the session (ICAO 9303-11 9.8.4.2). */
	assert_int_equal(tx(f, "00B0000002"), 0x6982);
	assert_int_equal(tx(f, "0CB000000D970102" "8E080102030405060708" "00"), 0x6882);
	cnie_sm_free(&sm);

	/* A forged MAC: 6988, and the session is gone. */
	assert_int_equal(run_pace(f, "123456", &sm), 0);
	assert_int_equal(tx(f, "0CB000000D970102" "8E080102030405060708" "00"), 0x6988);
	cnie_apdu_init(&a, 0x00, 0xB0, 0x00, 0x00);
	a.ne = 2;
	{
		cnie_buf *b = cnie_buf_new();

		assert_int_equal(cnie_sm_wrap_command(sm, &a, b), 0);
		assert_int_equal(tx_raw(f, cnie_buf_ptr(b), cnie_buf_len(b)), 0x6882);
		cnie_buf_free(&b);
	}
	cnie_sm_free(&sm);
	/* Power cycle: the session is gone too. */
	assert_int_equal(run_pace(f, "123456", &sm), 0);
	cnie_emu_power_off(f->e);
	power(f, CNIE_EMU_CONTACTLESS);
	select_pki(f);
	assert_int_equal(tx(f, "00B0830002"), 0x6982);
	cnie_sm_free(&sm);
}

/* ---- hooks --------------------------------------------------------------- */

static void
test_hooks(void **state)
{
	fx *f = *state;
	uint8_t chal1[8], chal2[8], exp[32], in[40];
	unsigned int len = 0;
	cnie_emu_stats st;
	char dir[64];
	fx g;

	/* Queued bytes first, then the seeded DRBG: SHA-256(SHA-256(seed) || 0^8). */
	assert_int_equal(cnie_emu_queue_random(f->e, (const uint8_t *)"ABCDEFGH", 8), 0);
	assert_int_equal(tx(f, "0084000008"), 0x9000);
	assert_data_hex(f, "4142434445464748");
	assert_int_equal(cnie_emu_set_seed(f->e, (const uint8_t *)"seed", 4), 0);
	assert_int_equal(tx(f, "0084000008"), 0x9000);
	memcpy(chal1, cnie_buf_ptr(f->d), 8);
	assert_int_equal(EVP_Digest("seed", 4, in, &len, EVP_sha256(), NULL), 1);
	memset(in + 32, 0, 8);
	assert_int_equal(EVP_Digest(in, 40, exp, &len, EVP_sha256(), NULL), 1);
	assert_memory_equal(chal1, exp, 8);
	assert_int_equal(tx(f, "0084000008"), 0x9000);
	assert_memory_equal(cnie_buf_ptr(f->d), exp + 8, 8);
	assert_int_equal(cnie_emu_set_seed(f->e, (const uint8_t *)"seed", 4), 0);
	assert_int_equal(tx(f, "0084000008"), 0x9000);
	memcpy(chal2, cnie_buf_ptr(f->d), 8);
	assert_memory_equal(chal1, chal2, 8);

	/* Garbage: never SW 9000 on an empty answer of a SELECT, reproducible. */
	cnie_emu_set_garbage(f->e, true);
	assert_int_equal(cnie_emu_set_seed(f->e, (const uint8_t *)"g", 1), 0);
	{
		size_t n1 = sizeof(g_resp), n2;
		uint8_t first[64];

		assert_int_equal(cnie_emu_transmit(f->e, (const uint8_t *)"\x00\xA4\x00\x0C", 4,
				     g_resp, &n1),
		    0);
		assert_true(n1 < 64);
		memcpy(first, g_resp, n1);
		assert_int_equal(cnie_emu_set_seed(f->e, (const uint8_t *)"g", 1), 0);
		n2 = sizeof(g_resp);
		assert_int_equal(cnie_emu_transmit(f->e, (const uint8_t *)"\x00\xA4\x00\x0C", 4,
				     g_resp, &n2),
		    0);
		assert_int_equal(n1, n2);
		assert_memory_equal(first, g_resp, n1);
	}
	cnie_emu_set_garbage(f->e, false);
	assert_int_equal(tx(f, "00A4000C"), 0x9000);

	/* Counters and the timing model. */
	cnie_emu_get_stats(f->e, &st);
	assert_int_equal(st.apdus, cnie_emu_apdu_count(f->e));
	assert_true(st.apdus >= 7);
	assert_int_equal(st.slept_us, 0);
	cnie_emu_set_timing(f->e, &(cnie_emu_timing){ .apdu_latency_us = 1000, .bit_rate = 8000 });
	assert_int_equal(tx(f, "00A4000C"), 0x9000); /* 6 bytes: 1000 + 6000 us */
	cnie_emu_get_stats(f->e, &st);
	assert_int_equal(st.slept_us, 7000);
	cnie_emu_set_timing(f->e, NULL);

	/* The tamper hook flips the last byte of the file it names. */
	memset(&g, 0, sizeof(g));
	make_card(dir, ATR_CONTACT, ",\"hooks\":{\"tamper\":\"3F00-A001-4331\"}");
	setenv("CNIE_EMU_TIMING", "500,0,0,0,0", 1);
	assert_int_equal(cnie_emu_open(dir, NULL, &g.e), 0);
	unsetenv("CNIE_EMU_TIMING");
	assert_non_null(g.d = cnie_buf_new());
	power(&g, CNIE_EMU_CONTACT);
	assert_int_equal(tx(&g, "00A4080C04A0014331"), 0x9000);
	assert_int_equal(tx(&g, "00B0025708"), 0x6282);
	assert_int_equal(cnie_buf_len(g.d), 1);
	assert_int_equal(cnie_buf_ptr(g.d)[0], cert_byte(CERT_LEN - 1) ^ 0x01);
	cnie_emu_get_stats(g.e, &st);
	assert_int_equal(st.slept_us, 1000);
	cnie_emu_free(&g.e);
	cnie_buf_free(&g.d);
	rm_tree(dir);
}

/* The fuzzing hook: counters and values back to card.json, state file untouched. */
static void
test_reset_state_and_no_persist(void **state)
{
	fx *f = *state;

	cnie_emu_set_persist(f->e, false);
	select_pki(f);
	assert_int_equal(tx(f, "002000810439393939"), 0x63C2);
	assert_int_equal(tx(f, "0024008118" "31323334FFFFFFFFFFFFFFFF" "3131313131FFFFFFFFFFFFFF"),
	    0x9000);
	assert_null(read_text(f->state)); /* nothing written */
	cnie_emu_reset_state(f->e);
	assert_int_equal(cnie_emu_transmit(f->e, (const uint8_t *)"\x00\xA4\x00\x0C", 4, g_resp,
			     &(size_t){ sizeof(g_resp) }),
	    CNIE_ERR_NO_CARD); /* and powered off */
	power(f, CNIE_EMU_CONTACT);
	select_pki(f);
	assert_int_equal(tx(f, "00200081"), 0x63C3);
	verify_pin(f); /* the old value again */
}

/* A card described as blocked starts with its PIN blocked. */
static void
test_blocked_card(void **state)
{
	char dir[64];
	fx g;

	(void)state;
	memset(&g, 0, sizeof(g));
	make_card(dir, ATR_CONTACT, "");
	/* Replace "blocked":false by true through the extra field is not possible: rewrite. */
	{
		char *json = NULL, *p;

		assert_true(asprintf(&json, card_json_fmt, ATR_CONTACT, "") > 0);
		assert_non_null(p = strstr(json, "\"blocked\":false"));
		memcpy(p, "\"blocked\":true ", 15);
		write_file(dir, "card.json", json, strlen(json));
		free(json);
	}
	assert_int_equal(cnie_emu_open(dir, NULL, &g.e), 0);
	assert_non_null(g.d = cnie_buf_new());
	power(&g, CNIE_EMU_CONTACT);
	select_pki(&g);
	assert_int_equal(tx(&g, "00200081"), 0x6983);
	assert_int_equal(tx(&g, "00200082"), 0x63CA);
	cnie_emu_free(&g.e);
	cnie_buf_free(&g.d);
	rm_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_strict),
		cmocka_unit_test_setup_teardown(test_power, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_and_ins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_binary, setup, teardown),
		cmocka_unit_test(test_extended_needs_atr),
		cmocka_unit_test_setup_teardown(test_access_conditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_block_persist_unblock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_reference_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_key_needs_pin_each_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_key_ec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_and_get_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_cycle_drops_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contactless_needs_pace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test(test_blocked_card),
		cmocka_unit_test_setup_teardown(test_reset_state_and_no_persist, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
