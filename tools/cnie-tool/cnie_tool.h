/*
 * cnie-tool: what every subcommand file (cmd_*.c) shares with main.c.
 *
 * A subcommand is `int cnie_tool_cmd_NAME(cnie_tool *tool, int argc,
 * char **argv)`: argv[0] is the subcommand name, the global options
 * (--json, --reader, --reference-card, -v) are already parsed into *tool.
 * It prints its own result (human text, or exactly one JSON document on
 * stdout with --json) and returns one of the exit codes below.
 */
#ifndef CNIE_TOOL_H
#define CNIE_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libintl.h>

#include <cnie/card.h>
#include <cnie/pcsc.h>
#include <cnie/transport.h>

/*
 * Messages for people: _("...") translated through the "cnie" gettext
 * catalogue (po/), N_("...") only marked for po/cnie.pot.  JSON output,
 * codes and machine-read names stay untranslated.
 */
#define _(s) gettext(s)
#define N_(s) (s)

/* Exit codes (documented in cnie-tool(1)). */
enum {
	CNIE_TOOL_EXIT_OK = 0,	      /* done; every doctor check OK or WARN */
	CNIE_TOOL_EXIT_FAIL = 1,      /* the operation or a check failed (verification, doctor FAIL) */
	CNIE_TOOL_EXIT_USAGE = 2,     /* bad command line */
	CNIE_TOOL_EXIT_NO_SERVICE = 3, /* pcscd unreachable, no reader, no card, card not recognised */
	CNIE_TOOL_EXIT_PIN = 4,	      /* PIN/PUK incorrect or blocked */
	CNIE_TOOL_EXIT_CANCELLED = 5, /* the user cancelled (pinentry, PIN pad) */
};

typedef struct cnie_tool {
	bool json;		    /* --json: one JSON document on stdout */
	const char *reader;	    /* --reader NAME (NULL: the only reader with a card) */
	const char *reference_card; /* --reference-card DIR: in-process reference card instead of PC/SC */
	int verbose;		    /* -v count */
	/* Owned by main.c, freed after the subcommand (NULL until used). */
	cnie_pcsc *pcsc;	    /* the PC/SC context behind a transport */
	char reader_used[256];	    /* reader a transport was opened on ("" none) */
	/* The readers --reader matched, or that hold a card, when that was a
	 * choice the user must make (cnie_tool_fail lists them with --json). */
	json_t *candidates;
	/* Why the last failure happened, when cnie_tool_fail says more than the error. */
	enum {
		CNIE_TOOL_WHY_NONE,
		CNIE_TOOL_WHY_READER_AMBIGUOUS, /* --reader fits several readers (candidates) */
		CNIE_TOOL_WHY_SEVERAL_CARDS,	/* several readers hold a card (candidates) */
		CNIE_TOOL_WHY_NO_DIALOG,	/* the PIN dialog could not be shown */
	} why;
	int why_err;			/* the error why explains */
} cnie_tool;

/* Maps a cnie_error (include/cnie/error.h) to an exit code (main.c). */
int cnie_tool_exit_for_error(int cnie_err);
/* Prints j (stolen) as one JSON document on stdout, then a newline (main.c). */
void cnie_tool_print_json(json_t *j);

/*
 * Prints an error for err (a cnie_error) on stderr, or as one JSON document
 * {"error":{"code":NAME,"message":TEXT}} on stdout with --json; returns
 * cnie_tool_exit_for_error(err).  what: context, e.g. N_("reading the card")
 * (translated on stderr, English in --json), or a path or a reader name.
 */
int cnie_tool_fail(cnie_tool *tool, int err, const char *what);
/* The identity of `cnie-tool identity --json`'s document j, for a person (identity_text.c). */
void cnie_tool_print_identity(json_t *j);
/* err's message in the user's language (main.c; libcnie's English for the rare ones). */
const char *cnie_tool_strerror(int err);
/*
 * As cnie_tool_fail for a command-line error: exit code CNIE_TOOL_EXIT_USAGE.
 * fmt is an N_("...") msgid: translated on stderr, English in --json.
 */
int cnie_tool_usage_error(cnie_tool *tool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Opens a transport to the card: the in-process reference card
 * (--reference-card) or the PC/SC reader named by --reader (exact name,
 * else a unique substring), else the only reader with a card (several:
 * CNIE_ERR_BUSY with a message asking for --reader; never a random pick).
 */
int cnie_tool_open_transport(cnie_tool *tool, cnie_transport **out);

/* Where a secret (PIN, PUK, CAN, MRZ) comes from (secret.c). */
typedef struct cnie_tool_secret_src {
	bool from_stdin;	  /* one line of stdin per secret asked */
	const char *pinentry;	  /* Assuan pinentry program (NULL: "pinentry") */
	const char *insecure;	  /* the value itself, from argv (explicit flag only) */
	bool none;		  /* no way to ask (doctor): CNIE_ERR_NEED_CAN */
} cnie_tool_secret_src;

/*
 * Asks one secret into out (NUL-terminated, at most out_len - 1 bytes):
 * from src->insecure, stdin or pinentry (desc and prompt shown).  Errors:
 * CNIE_ERR_CANCELLED (the user cancelled, or end of input),
 * CNIE_ERR_TOO_LONG, CNIE_ERR_IO (pinentry could not be started),
 * CNIE_ERR_NEED_CAN (src->none).  The caller wipes out.
 */
int cnie_tool_secret_get(const cnie_tool_secret_src *src, const char *desc,
    const char *prompt, char *out, size_t out_len);

/*
 * cnie_tool_secret_get for a subcommand (main.c): when the PIN dialog
 * cannot be shown (no pinentry, no terminal, no display) the user is told
 * how to go on (--pin-stdin, --can-stdin) on stderr, once (by secret.c for
 * a pinentry that failed, else here), cnie_tool_fail adds nothing, and the
 * --json documents carry the same advice ("fix").
 */
int cnie_tool_ask_secret(cnie_tool *tool, const cnie_tool_secret_src *src, const char *desc,
    const char *prompt, char *out, size_t out_len);
/* The advice after a failed PIN dialog (English, for --json), or NULL. */
const char *cnie_tool_dialog_fix(const cnie_tool *tool, int err);

/*
 * Opens the PKI application (cnie_card_open) on the transport; over a
 * contactless transport the CAN is asked from src first.
 */
int cnie_tool_open_card(cnie_tool *tool, const cnie_tool_secret_src *src, cnie_card **out);

/* Lower-case hex of p[0..n) into a new string (caller frees), NULL on OOM. */
char *cnie_tool_hex(const uint8_t *p, size_t n);

/*
 * Certificates (cert.c).  Summary as JSON: subject, issuer, serial,
 * not_before, not_after (ISO 8601 UTC), key ("EC P-256", "RSA 2048"),
 * key_usage [...], sha256 fingerprint.  NULL on a malformed certificate.
 */
json_t *cnie_tool_cert_json(const uint8_t *der, size_t n);
/* Validity period; 0 or CNIE_ERR_ENCODING. */
int cnie_tool_cert_validity(const uint8_t *der, size_t n, long long *not_before,
    long long *not_after);
/*
 * Checks the chain of der to the certificates of ca (a PEM file or a
 * directory of PEM/DER files) at time now: 0, CNIE_ERR_UNTRUSTED or
 * CNIE_ERR_EXPIRED; why gets OpenSSL's reason.
 */
int cnie_tool_cert_chain(const uint8_t *der, size_t n, const char *ca, char *why,
    size_t why_len);
/* Formats a time as "YYYY-MM-DDThh:mm:ssZ" into buf (>= 21 bytes). */
void cnie_tool_time_iso(long long t, char *buf, size_t len);

/*
 * Photo (photo.c): converts a JPEG or JPEG 2000 (JP2 or J2K) image to PNG
 * written at path (0600).  CNIE_ERR_ENCODING for an undecodable image,
 * CNIE_ERR_IO for the file.
 */
int cnie_tool_photo_to_png(const uint8_t *img, size_t n, bool jpeg2000, const char *path);
/* As cnie_tool_photo_to_png into a FILE. */
int cnie_tool_photo_to_png_file(const uint8_t *img, size_t n, bool jpeg2000, FILE *f);

/*
 * cmd_readers.c: PC/SC readers and USB CCID devices as JSON ({"pcscd",
 * "readers":[...], "usb":[...]}); *pcsc_err gets the PC/SC error (0,
 * CNIE_ERR_NO_SERVICE, CNIE_ERR_NO_READER...).  NULL on OOM.
 */
json_t *cnie_tool_readers_scan(cnie_tool *tool, int *pcsc_err);
/* The fix line for a USB CCID device (an element of "usb") pcscd does not show. */
const char *cnie_tool_usb_unseen_fix(json_t *dev, bool pcscd_running);

/* cmd_info.c: "auth" or "sign" (the nonRepudiation key) for a key. */
const char *cnie_tool_key_role(const cnie_card_key_info *k);
/* The key of role "auth" or "sign"; CNIE_ERR_NOT_FOUND if none. */
int cnie_tool_find_key(cnie_card *c, const char *role, cnie_card_key_info *out);
/* A key as JSON (role, id, label, type, bits, usage...), with its certificate's summary. */
json_t *cnie_tool_key_json(cnie_card *c, const cnie_card_key_info *k, bool with_cert);

/* Subcommands: cmd_<name>.c each. */
int cnie_tool_cmd_readers(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_info(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_identity(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_certs(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_pin(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_sign(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_verify(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_doctor(cnie_tool *tool, int argc, char **argv);
/* cmd_bridge.c (with cnied): `bridge status|trust`. */
int cnie_tool_cmd_bridge(cnie_tool *tool, int argc, char **argv);
/* cmd_register.c: the module in the user's browsers (NSS databases, nssdb.h). */
int cnie_tool_cmd_register(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_unregister(cnie_tool *tool, int argc, char **argv);
/* cmd_verify_token.c (with the Web eID verifier, cnie/webeid.h). */
int cnie_tool_cmd_verify_token(cnie_tool *tool, int argc, char **argv);

#endif
