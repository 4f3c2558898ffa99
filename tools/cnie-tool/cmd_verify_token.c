/*
 * cnie-tool verify-token: checks a Web eID authentication token (the
 * answer of the bridge's /v1/authenticate) as a portal does, with the
 * library's verifier (cnie/webeid.h).  The nonce was issued by the caller
 * (a portal in another language, a script): it is registered as issued at
 * --issued-at and consumed by this one verification.
 *
 *   cnie-tool verify-token --origin O --nonce N [--issued-at UNIX]
 *       [--max-age S] [--time UNIX] --ca FILE|DIR [--token FILE|-]
 *
 * Exit 0 valid, 1 invalid (the reason is printed), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include <cnie/error.h>
#include <cnie/webeid.h>

#include "cnie_tool.h"

static const char usage_syntax[] =
    "cnie-tool verify-token --origin ORIGIN --nonce NONCE [--issued-at UNIX]\n"
    "           [--max-age SECONDS] [--time UNIX] --ca FILE|DIR [--token FILE|-]";

/* A reason of cnie/webeid.h for a person (the library's English, translated). */
static const char *
reason_text(int reason)
{
	switch (reason) {
	case CNIE_WEBEID_OK: return _("token valid");
	case CNIE_WEBEID_BAD_ARGUMENT:
		return _("bad verification parameters (expected origin, nonce, stores)");
	case CNIE_WEBEID_INTERNAL: return _("internal error (allocation or crypto library)");
	case CNIE_WEBEID_FORMAT: return _("not a well-formed web-eid:1 authentication token");
	case CNIE_WEBEID_SIGNATURE_MISMATCH:
		return _("signature does not verify over this origin and nonce (wrong origin or "
		    "tampered token)");
	case CNIE_WEBEID_NONCE_UNKNOWN: return _("challenge nonce not issued by this portal");
	case CNIE_WEBEID_NONCE_REPLAYED: return _("challenge nonce already used");
	case CNIE_WEBEID_NONCE_EXPIRED: return _("challenge nonce too old");
	case CNIE_WEBEID_SIGNATURE_INVALID:
		return _("signature malformed for the algorithm and key");
	case CNIE_WEBEID_CERT_INVALID: return _("authentication certificate does not parse");
	case CNIE_WEBEID_CERT_UNTRUSTED:
		return _("authentication certificate does not chain to a trusted CA");
	case CNIE_WEBEID_CERT_EXPIRED: return _("authentication certificate (or its CA) expired");
	case CNIE_WEBEID_CERT_NOT_YET_VALID:
		return _("authentication certificate (or its CA) not yet valid");
	case CNIE_WEBEID_KEY_USAGE: return _("not an authentication certificate (key usage)");
	case CNIE_WEBEID_ALGORITHM:
		return _("algorithm unknown or not matching the certificate key");
	default: return cnie_webeid_reason_text(reason);
	}
}

static int
parse_time(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Reads at most CNIE_WEBEID_TOKEN_MAX + 1 bytes: more is refused as format. */
static int
read_token(const char *path, char **out, size_t *outlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;
	int r = 0;

	if (f == NULL)
		return CNIE_ERR_IO;
	if ((buf = malloc(CNIE_WEBEID_TOKEN_MAX + 1)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	n = fread(buf, 1, CNIE_WEBEID_TOKEN_MAX + 1, f);
	if (ferror(f)) {
		free(buf);
		r = CNIE_ERR_IO;
		goto out;
	}
	/* A trailing newline from a shell pipe is not part of the JSON text. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	*out = buf;
	*outlen = n;
out:
	if (f != stdin)
		fclose(f);
	return r;
}

int
cnie_tool_cmd_verify_token(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "issued-at", required_argument, NULL, 'i' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "time", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *origin = NULL, *nonce = NULL, *ca = NULL, *token_path = "-";
	long long issued_at = 0, max_age = 300, at = 0;
	cnie_webeid_nonce_store *nonces = NULL;
	cnie_webeid_trust *trust = NULL;
	cnie_webeid_params p;
	cnie_webeid_info info;
	char *token = NULL, *cert_b64 = NULL;
	size_t token_len = 0;
	int c, r, reason, rc = CNIE_TOOL_EXIT_FAIL;

	memset(&info, 0, sizeof(info));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			origin = optarg;
			break;
		case 'n':
			nonce = optarg;
			break;
		case 'i':
			if (parse_time(optarg, 1, LLONG_MAX / 2, &issued_at) != 0)
				return cnie_tool_usage_error(tool, N_("verify-token: bad --issued-at \"%s\""), optarg);
			break;
		case 'm':
			if (parse_time(optarg, 1, 86400, &max_age) != 0)
				return cnie_tool_usage_error(tool, N_("verify-token: --max-age must be 1..86400"));
			break;
		case 't':
			if (parse_time(optarg, 1, LLONG_MAX / 2, &at) != 0)
				return cnie_tool_usage_error(tool, N_("verify-token: bad --time \"%s\""), optarg);
			break;
		case 'c':
			ca = optarg;
			break;
		case 'k':
			token_path = optarg;
			break;
		case 'j':
			tool->json = true;
			break;
		case 'h':
			printf(_("usage: %s\n"), usage_syntax);
			puts(_("  Verifies a Web eID (web-eid:1.0) authentication token read from FILE or\n"
			    "  standard input: nonce freshness (issued at --issued-at, default now, valid\n"
			    "  --max-age seconds, default 300), origin-bound signature, certificate chain\n"
			    "  to the CAs of --ca at --time (default now), key usage.\n"
			    "  Exit 0 valid, 1 invalid."));
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "verify-token",
		    argv[optind]);
	if (origin == NULL || nonce == NULL || ca == NULL)
		return cnie_tool_usage_error(tool, N_("verify-token: --origin, --nonce and --ca are required"));
	if (at == 0)
		at = (long long)time(NULL);
	if (issued_at == 0)
		issued_at = at;

	if ((r = cnie_webeid_trust_new(&trust)) != 0 ||
	    (r = cnie_webeid_nonce_store_new(1, (unsigned)max_age, &nonces)) != 0) {
		rc = cnie_tool_fail(tool, r, "verify-token");
		goto out;
	}
	if ((r = cnie_webeid_trust_add_path(trust, ca)) != 0) {
		rc = cnie_tool_fail(tool, r, ca);
		goto out;
	}
	if ((r = cnie_webeid_nonce_add(nonces, nonce, (time_t)issued_at)) != 0) {
		rc = cnie_tool_usage_error(tool,
		    N_("verify-token: --nonce must be 44..%d base64 characters (32 bytes or more)"),
		    CNIE_WEBEID_NONCE_MAX);
		goto out;
	}
	if ((r = read_token(token_path, &token, &token_len)) != 0) {
		rc = cnie_tool_fail(tool, r, token_path);
		goto out;
	}
	p.origin = origin;
	p.nonce = nonce;
	p.nonces = nonces;
	p.trust = trust;
	p.now = (time_t)at;
	reason = cnie_webeid_verify(token, token_len, &p, &info);
	if (reason == CNIE_WEBEID_BAD_ARGUMENT) {
		rc = cnie_tool_usage_error(tool,
		    N_("verify-token: --origin must be https://host[:port] with no path or trailing slash"));
		goto out;
	}
	if (info.certificate != NULL && info.certificate_len < INT_MAX / 2 &&
	    (cert_b64 = malloc(4 * ((info.certificate_len + 2) / 3) + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)cert_b64, info.certificate, (int)info.certificate_len);
	if (tool->json) {
		json_t *j = json_pack("{s:b,s:s,s:s}", "valid", reason == CNIE_WEBEID_OK,
		    "reason", cnie_webeid_reason_code(reason),
		    "message", cnie_webeid_reason_text(reason));

		if (j != NULL && info.algorithm[0] != '\0')
			json_object_set_new(j, "algorithm", json_string(info.algorithm));
		if (j != NULL && info.subject[0] != '\0') {
			json_object_set_new(j, "subject", json_string(info.subject));
			json_object_set_new(j, "commonName", json_string(info.common_name));
			json_object_set_new(j, "serialNumber", json_string(info.serial_number));
			json_object_set_new(j, "fingerprint", json_string(info.fingerprint));
		}
		if (j != NULL && cert_b64 != NULL)
			json_object_set_new(j, "certificate", json_string(cert_b64));
		cnie_tool_print_json(j);
	} else if (reason == CNIE_WEBEID_OK) {
		/* TRANSLATORS: the certificate's subject, the algorithm (ES384). */
		printf(_("valid: %s (%s)\n"), info.subject, info.algorithm);
	} else {
		/* TRANSLATORS: why the token is invalid, then its code (never translated). */
		printf(_("invalid: %s (%s)\n"), reason_text(reason), cnie_webeid_reason_code(reason));
	}
	rc = reason == CNIE_WEBEID_OK ? CNIE_TOOL_EXIT_OK : CNIE_TOOL_EXIT_FAIL;
out:
	free(cert_b64);
	free(token);
	cnie_webeid_info_clear(&info);
	cnie_webeid_trust_free(&trust);
	cnie_webeid_nonce_store_free(&nonces);
	return rc;
}
