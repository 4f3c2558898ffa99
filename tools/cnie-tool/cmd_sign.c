/*
 * cnie-tool sign / verify.  sign: hash a file (or take a hash), verify the
 * PIN (PIN pad, pinentry or stdin), sign on the card with the
 * authentication or the signature key.  verify: check a signature with
 * the card's certificate or a certificate file (OpenSSL).  ECDSA
 * signatures are DER (ECDSA-Sig-Value) unless --raw (r || s); verify
 * takes both.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/hash.h>

#include "cnie_tool.h"

#define MAX_SIG_FILE 4096
#define MAX_CERT_FILE 65536

/* The hash of a file, or the hex hash given; checks its length. */
static int
get_hash(const char *in, const char *hex, const cnie_hash_info *hi, uint8_t *out,
    size_t *out_len)
{
	if (hex != NULL) {
		cnie_buf *b = cnie_buf_new();
		int r;

		if (b == NULL)
			return CNIE_ERR_NOMEM;
		if ((r = cnie_unhex(hex, b)) != 0 || cnie_buf_len(b) != hi->len) {
			cnie_buf_free(&b);
			return CNIE_ERR_INVALID_ARG;
		}
		memcpy(out, cnie_buf_ptr(b), hi->len);
		*out_len = hi->len;
		cnie_buf_free(&b);
		return 0;
	}
	{
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		const EVP_MD *md = EVP_get_digestbyname(hi->ossl_name);
		unsigned char buf[16384];
		unsigned int l = 0;
		FILE *f = fopen(in, "rb");
		size_t n;
		int r = CNIE_ERR_CRYPTO;

		if (f == NULL) {
			EVP_MD_CTX_free(ctx);
			return CNIE_ERR_IO;
		}
		if (ctx == NULL || md == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
			goto done;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			if (EVP_DigestUpdate(ctx, buf, n) != 1)
				goto done;
		if (ferror(f)) {
			r = CNIE_ERR_IO;
			goto done;
		}
		if (EVP_DigestFinal_ex(ctx, out, &l) == 1) {
			*out_len = l;
			r = 0;
		}
done:
		fclose(f);
		EVP_MD_CTX_free(ctx);
		return r;
	}
}

/*
 * The hash sign and verify work on: --hash-alg alg (any spelling of
 * cnie/hash.h) over the file in, or the hex hash given.  0, or the exit
 * code after the message.
 */
static int
hash_input(cnie_tool *tool, const char *cmd, const char *in, const char *hex, const char *alg,
    const cnie_hash_info **hi, uint8_t hash[CNIE_HASH_MAX_LEN], size_t *hash_len)
{
	int r;

	if ((*hi = cnie_hash_by_name(alg, CNIE_HASH_NAME_ANY)) == NULL)
		return cnie_tool_usage_error(tool, N_("%s: unknown --hash-alg \"%s\""), cmd, alg);
	if ((r = get_hash(in, hex, *hi, hash, hash_len)) == 0)
		return CNIE_TOOL_EXIT_OK;
	if (r == CNIE_ERR_INVALID_ARG)
		return cnie_tool_usage_error(tool, N_("%s: --hash must be %zu bytes of hex for %s"),
		    cmd, (*hi)->len, (*hi)->cli_name);
	return cnie_tool_fail(tool, r, in);
}

static int
read_file(const char *path, size_t max, uint8_t **out, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	size_t got;

	*out = NULL;
	if (f == NULL)
		return CNIE_ERR_IO;
	if ((p = malloc(max + 1)) == NULL) {
		fclose(f);
		return CNIE_ERR_NOMEM;
	}
	got = fread(p, 1, max + 1, f);
	fclose(f);
	if (got > max) {
		free(p);
		return CNIE_ERR_TOO_LONG;
	}
	*out = p;
	*n = got;
	return 0;
}

int
cnie_tool_cmd_sign(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "in", required_argument, NULL, 'i' },
		{ "hash", required_argument, NULL, 'H' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "pss", no_argument, NULL, 'S' },
		{ "raw", no_argument, NULL, 'r' },
		{ "pin-stdin", no_argument, NULL, 's' },
		{ "pinentry", required_argument, NULL, 'p' },
		{ "pinpad", no_argument, NULL, 'P' },
		{ "no-pinpad", no_argument, NULL, 'N' },
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "pin-argv-insecure", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool_secret_src pin_src = { 0 }, can_src = { 0 };
	const char *role = NULL, *in = NULL, *hex = NULL, *alg = "sha256", *outpath = NULL;
	bool pss = false, raw = false;
	int pinpad = -1, c, r, rc = CNIE_TOOL_EXIT_OK, tries = -1, fd;
	cnie_card *card = NULL;
	cnie_card_key_info key;
	cnie_card_mech mech;
	const cnie_hash_info *hi;
	uint8_t hash[CNIE_HASH_MAX_LEN], *sig = NULL;
	size_t hash_len = 0, sig_len = 0;
	char pin[64];
	char *hashhex = NULL;

	memset(pin, 0, sizeof(pin));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': role = optarg; break;
		case 'i': in = optarg; break;
		case 'H': hex = optarg; break;
		case 'a': alg = optarg; break;
		case 'o': outpath = optarg; break;
		case 'S': pss = true; break;
		case 'r': raw = true; break;
		case 's': pin_src.from_stdin = true; can_src.from_stdin = true; break;
		case 'p': pin_src.pinentry = can_src.pinentry = optarg; break;
		case 'P': pinpad = 1; break;
		case 'N': pinpad = 0; break;
		case 'c': can_src.from_stdin = true; break;
		case 1: pin_src.insecure = optarg; break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool sign --key auth|sign (--in FILE|--hash "
			    "HEX) [--hash-alg sha256] --out SIG [--pss] [--raw]\n"
			    "       [--pin-stdin|--pinentry PROGRAM|--pinpad] [--can-stdin]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "sign", argv[optind]);
	if (role == NULL || (strcmp(role, "auth") != 0 && strcmp(role, "sign") != 0))
		return cnie_tool_usage_error(tool, N_("sign: --key auth or --key sign"));
	if ((in == NULL) == (hex == NULL))
		return cnie_tool_usage_error(tool, N_("sign: give --in FILE or --hash HEX"));
	if (outpath == NULL)
		return cnie_tool_usage_error(tool, N_("sign: --out SIG is required"));
	if ((rc = hash_input(tool, "sign", in, hex, alg, &hi, hash, &hash_len)) != 0)
		return rc;
	if ((r = cnie_tool_open_card(tool, &can_src, &card)) != 0)
		return cnie_tool_fail(tool, r, tool->reader_used[0] ? tool->reader_used : "sign");
	if ((r = cnie_tool_find_key(card, role, &key)) != 0) {
		rc = cnie_tool_fail(tool, r, N_("finding the key"));
		goto out;
	}
	memset(&mech, 0, sizeof(mech));
	if (key.type == CNIE_CARD_KEY_EC) {
		mech.type = CNIE_CARD_MECH_ECDSA;
		mech.hash = CNIE_CARD_HASH_NONE;
		mech.flags = raw ? 0 : CNIE_CARD_SIG_ECDSA_DER;
	} else {
		mech.type = pss ? CNIE_CARD_MECH_RSA_PSS : CNIE_CARD_MECH_RSA_PKCS1;
		mech.hash = hi->id;
	}
	{
		const cnie_transport_caps *caps = cnie_transport_get_caps(cnie_card_transport(card));
		bool pad = pinpad == 1 || (pinpad == -1 && caps->pinpad_verify &&
		    !pin_src.from_stdin && pin_src.insecure == NULL);

		if (pad) {
			if (!tool->json)
				fprintf(stderr, "%s\n", _("Enter the PIN on the reader's PIN pad."));
			r = cnie_card_pin_verify_pinpad(card, &tries);
		} else if ((r = cnie_tool_ask_secret(tool, &pin_src, strcmp(role, "sign") == 0 ?
		    _("Enter the PIN to make a signature with your CNIE card.") :
		    _("Enter the PIN of your CNIE card."), _("PIN:"), pin, sizeof(pin))) == 0) {
			r = cnie_card_pin_verify(card, pin, &tries);
		}
		cnie_wipe(pin, sizeof(pin));
		if (r != 0) {
			if (r == CNIE_ERR_PIN_INCORRECT && tries >= 0 && !tool->json)
				fprintf(stderr, ngettext("cnie-tool: wrong PIN, %d try left\n",
				    "cnie-tool: wrong PIN, %d tries left\n", (unsigned long)tries), tries);
			rc = cnie_tool_fail(tool, r, N_("PIN"));
			goto out;
		}
	}
	if ((r = cnie_card_sign(card, key.id, key.id_len, &mech, hash, hash_len, NULL,
	    &sig_len)) != 0 || (sig = malloc(sig_len)) == NULL ||
	    (r = cnie_card_sign(card, key.id, key.id_len, &mech, hash, hash_len, sig,
	    &sig_len)) != 0) {
		rc = cnie_tool_fail(tool, r ? r : CNIE_ERR_NOMEM, N_("signing"));
		goto out;
	}
	if ((fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, sig, sig_len) != (ssize_t)sig_len || close(fd) != 0) {
		rc = cnie_tool_fail(tool, CNIE_ERR_IO, outpath);
		goto out;
	}
	hashhex = cnie_tool_hex(hash, hash_len);
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "reader",
		    tool->reader_used, "key", role, "algorithm", key.type == CNIE_CARD_KEY_EC ?
		    (raw ? "ECDSA (r||s)" : "ECDSA (DER)") : pss ? "RSA-PSS" : "RSA-PKCS1",
		    "hash_alg", hi->cli_name, "hash", hashhex, "signature_len", (int)sig_len,
		    "out", outpath));
	} else {
		const char *algo = key.type == CNIE_CARD_KEY_EC ? "ECDSA" : pss ? "RSA-PSS" :
		    "RSA PKCS#1 v1.5";

		/* TRANSLATORS: the hash (sha256), the file, the algorithm (ECDSA), the
		 * signature's size in bytes, the output file. */
		if (strcmp(role, "sign") == 0 && in != NULL)
			printf(ngettext("Signed the %s hash of %s with the signature key (%s): "
			    "%zu byte written to %s\n", "Signed the %s hash of %s with the "
			    "signature key (%s): %zu bytes written to %s\n", sig_len), hi->cli_name,
			    in, algo, sig_len, outpath);
		else if (in != NULL)
			printf(ngettext("Signed the %s hash of %s with the authentication key (%s): "
			    "%zu byte written to %s\n", "Signed the %s hash of %s with the "
			    "authentication key (%s): %zu bytes written to %s\n", sig_len),
			    hi->cli_name, in, algo, sig_len, outpath);
		else if (strcmp(role, "sign") == 0)
			printf(ngettext("Signed the given %s hash with the signature key (%s): "
			    "%zu byte written to %s\n", "Signed the given %s hash with the "
			    "signature key (%s): %zu bytes written to %s\n", sig_len), hi->cli_name,
			    algo, sig_len, outpath);
		else
			printf(ngettext("Signed the given %s hash with the authentication key (%s): "
			    "%zu byte written to %s\n", "Signed the given %s hash with the "
			    "authentication key (%s): %zu bytes written to %s\n", sig_len),
			    hi->cli_name, algo, sig_len, outpath);
	}
out:
	free(hashhex);
	free(sig);
	cnie_card_free(&card);
	return rc;
}

/* ECDSA r || s (each half the length) to DER, for OpenSSL. */
static int
raw_to_der(const uint8_t *sig, size_t n, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(n / 2), NULL);
	BIGNUM *ss = BN_bin2bn(sig + n / 2, (int)(n / 2), NULL);
	unsigned char *p = NULL;
	int l;

	if (s == NULL || r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return CNIE_ERR_NOMEM;
	}
	l = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	if (l <= 0)
		return CNIE_ERR_CRYPTO;
	*der = p;
	*der_len = (size_t)l;
	return 0;
}

/* A DER ECDSA-Sig-Value of exactly n bytes (else r || s is assumed). */
static bool
is_der_ecdsa(const uint8_t *sig, size_t n)
{
	const unsigned char *p = sig;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
	bool ok = s != NULL && p == sig + n;

	ECDSA_SIG_free(s);
	return ok;
}

static X509 *
load_cert_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	X509 *x = NULL;

	if (read_file(path, MAX_CERT_FILE, &buf, &n) != 0)
		return NULL;
	{
		BIO *b = BIO_new_mem_buf(buf, (int)n);

		if (b != NULL)
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (x == NULL) {
		const unsigned char *p = buf;

		x = d2i_X509(NULL, &p, (long)n);
	}
	free(buf);
	return x;
}

int
cnie_tool_cmd_verify(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'C' },
		{ "in", required_argument, NULL, 'i' },
		{ "hash", required_argument, NULL, 'H' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "sig", required_argument, NULL, 'g' },
		{ "pss", no_argument, NULL, 'S' },
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cnie_tool_secret_src can_src = { 0 };
	const char *role = NULL, *certpath = NULL, *in = NULL, *hex = NULL, *alg = "sha256",
	    *sigpath = NULL;
	bool pss = false, valid = false;
	int c, r, rc;
	const cnie_hash_info *hi;
	uint8_t hash[CNIE_HASH_MAX_LEN], *sig = NULL, *der_sig = NULL;
	size_t hash_len = 0, sig_len = 0, der_sig_len = 0;
	X509 *x = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pk;
	cnie_card *card = NULL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': role = optarg; break;
		case 'C': certpath = optarg; break;
		case 'i': in = optarg; break;
		case 'H': hex = optarg; break;
		case 'a': alg = optarg; break;
		case 'g': sigpath = optarg; break;
		case 'S': pss = true; break;
		case 'c': can_src.from_stdin = true; break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool verify (--key auth|sign|--cert FILE) "
			    "(--in FILE|--hash HEX) [--hash-alg sha256] --sig SIG [--pss] [--can-stdin]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "verify", argv[optind]);
	if ((role == NULL) == (certpath == NULL) ||
	    (role != NULL && strcmp(role, "auth") != 0 && strcmp(role, "sign") != 0))
		return cnie_tool_usage_error(tool, N_("verify: give --key auth|sign or --cert FILE"));
	if ((in == NULL) == (hex == NULL))
		return cnie_tool_usage_error(tool, N_("verify: give --in FILE or --hash HEX"));
	if (sigpath == NULL)
		return cnie_tool_usage_error(tool, N_("verify: --sig SIG is required"));
	if ((rc = hash_input(tool, "verify", in, hex, alg, &hi, hash, &hash_len)) != 0)
		return rc;
	if ((r = read_file(sigpath, MAX_SIG_FILE, &sig, &sig_len)) != 0)
		return cnie_tool_fail(tool, r, sigpath);
	if (certpath != NULL) {
		if ((x = load_cert_file(certpath)) == NULL) {
			rc = cnie_tool_fail(tool, CNIE_ERR_ENCODING, certpath);
			goto out;
		}
	} else {
		cnie_card_key_info key;
		const uint8_t *der = NULL;
		const unsigned char *p;
		size_t der_len = 0;

		if ((r = cnie_tool_open_card(tool, &can_src, &card)) != 0 ||
		    (r = cnie_tool_find_key(card, role, &key)) != 0 ||
		    (r = cnie_card_certificate(card, key.id, key.id_len, &der, &der_len)) != 0) {
			rc = cnie_tool_fail(tool, r, N_("reading the certificate"));
			goto out;
		}
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)der_len)) == NULL) {
			rc = cnie_tool_fail(tool, CNIE_ERR_ENCODING, N_("the card's certificate"));
			goto out;
		}
	}
	pk = X509_get0_pubkey(x);
	if (pk == NULL || (pctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(hi->ossl_name)) != 1) {
		rc = cnie_tool_fail(tool, CNIE_ERR_CRYPTO, N_("preparing the verification"));
		goto out;
	}
	if (EVP_PKEY_is_a(pk, "RSA") && pss &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
		rc = cnie_tool_fail(tool, CNIE_ERR_CRYPTO, N_("preparing the verification"));
		goto out;
	}
	if (EVP_PKEY_is_a(pk, "EC") && !is_der_ecdsa(sig, sig_len) && sig_len % 2 == 0 &&
	    raw_to_der(sig, sig_len, &der_sig, &der_sig_len) == 0)
		valid = EVP_PKEY_verify(pctx, der_sig, der_sig_len, hash, hash_len) == 1;
	else
		valid = EVP_PKEY_verify(pctx, sig, sig_len, hash, hash_len) == 1;
	rc = valid ? CNIE_TOOL_EXIT_OK : CNIE_TOOL_EXIT_FAIL;
	if (tool->json)
		cnie_tool_print_json(json_pack("{s:b,s:s,s:s,s:s}", "valid", valid, "hash_alg",
		    hi->cli_name, "signature", sigpath, "certificate",
		    certpath ? certpath : role));
	else
		printf(valid ? _("Signature %s: VALID\n") : _("Signature %s: INVALID\n"), sigpath);
out:
	OPENSSL_free(der_sig);
	EVP_PKEY_CTX_free(pctx);
	X509_free(x);
	free(sig);
	cnie_card_free(&card);
	return rc;
}
