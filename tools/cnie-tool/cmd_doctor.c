/*
 * cnie-tool doctor: walks the chain a support desk asks about, in order —
 * pcscd installed and reachable, readers, USB CCID devices pcscd does not
 * show, card present and recognised, applications, PIN and PUK not
 * blocked, certificates valid and chained, the PKCS#11 module registered
 * (p11-kit, NSS), the bridge running and its CA trusted — and prints each
 * check as OK, WARN, FAIL (with the fix) or SKIP.  Exit 1 on any FAIL.
 *
 * The report (--json, --report FILE) carries no personal data: no
 * certificate subject, no name, the card serial only as a hash prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cnie/error.h>

#include "cnie_tool.h"
#include "nssdb.h"

extern char **environ;

#define RUN_MAX_OUTPUT (256u * 1024u)
#define EXPIRY_WARN_DAYS 30
/* docs/bridge-api.md: the bridge's default port. */
#define CNIE_BRIDGE_DEFAULT_PORT "28219"

typedef struct doctor {
	cnie_tool *tool;
	json_t *checks;
	int ok, warn, fail, skip;
	bool quiet; /* --json: nothing on stdout but the document */
	int err;    /* the cnie_error the next check reports (0: none), see check() */
	/* The next check's sentence already translated with ngettext (plural forms). */
	const char *plural;
	/* An N_() sentence the next check adds after its own, ": detail" (0: none). */
	const char *detail;
} doctor;

/* The user's language for fmt: d->plural when a count chose it, else the catalogue's. */
static const char *local_format(doctor *d, const char *fmt) __attribute__((format_arg(2)));

static const char *
local_format(doctor *d, const char *fmt)
{
	const char *l = d->plural != NULL ? d->plural : gettext(fmt);

	d->plural = NULL;
	return l;
}

static void
check(doctor *d, const char *id, const char *status, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * One check: fmt and fix are N_() msgids, English in the report (--json,
 * --report: a support desk reads it) and in the user's language on
 * stdout.  d->err, when set, adds the error: its shared code as "error" in
 * the report, its message after the sentence.  The status words (OK,
 * WARN, FAIL, SKIP) are the report's codes and stay as they are.
 */
static void
check(doctor *d, const char *id, const char *status, const char *fix, const char *fmt, ...)
{
	char msg[640], local[1024];
	size_t l;
	va_list ap, ap2;
	json_t *c;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	vsnprintf(local, sizeof(local), local_format(d, fmt), ap2);
	va_end(ap2);
	va_end(ap);
	if (d->detail != NULL) {
		l = strlen(msg);
		snprintf(msg + l, sizeof(msg) - l, ": %s", d->detail);
		l = strlen(local);
		snprintf(local + l, sizeof(local) - l, ": %s", gettext(d->detail));
	}
	if (d->err != 0) {
		l = strlen(msg);
		snprintf(msg + l, sizeof(msg) - l, " (%s)", cnie_strerror(d->err));
		l = strlen(local);
		snprintf(local + l, sizeof(local) - l, " (%s)", cnie_tool_strerror(d->err));
	}
	if (strcmp(status, "OK") == 0)
		d->ok++;
	else if (strcmp(status, "WARN") == 0)
		d->warn++;
	else if (strcmp(status, "FAIL") == 0)
		d->fail++;
	else
		d->skip++;
	c = json_pack("{s:s,s:s,s:s,s:s?}", "id", id, "status", status, "message", msg, "fix",
	    fix);
	if (c != NULL && d->err != 0)
		json_object_set_new(c, "error", json_string(cnie_error_code_name(d->err)));
	json_array_append_new(d->checks, c);
	d->err = 0;
	d->detail = NULL;
	if (!d->quiet) {
		printf("[%-4s] %s\n", status, local);
		if (fix != NULL)
			printf(_("       fix: %s\n"), gettext(fix));
	}
}

/* Runs argv (no shell), stdout into out (NUL-terminated, bounded).  Exit status or -1. */
static int
run_capture(const char *const argv[], char *out, size_t out_len)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], status = -1;
	size_t got = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe(pfd) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + 1 < out_len) {
			size_t k = (size_t)n < out_len - 1 - got ? (size_t)n : out_len - 1 - got;

			memcpy(out + got, buf, k);
			got += k;
		}
	}
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];
	static const char *const extra[] = { "/usr/sbin", "/sbin", "/usr/local/sbin", NULL };

	for (size_t i = 0; extra[i] != NULL; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", extra[i], prog);
		if (access(buf, X_OK) == 0)
			return true;
	}
	while (path != NULL && *path != '\0') {
		size_t l = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, path, prog);
		if (l > 0 && access(buf, X_OK) == 0)
			return true;
		path += l;
		if (*path == ':')
			path++;
	}
	return false;
}

static void
home_path(char *out, size_t len, const char *rel)
{
	const char *home = getenv("HOME");

	snprintf(out, len, "%s/%s", home ? home : "", rel);
}

/* ---- PC/SC and the card ------------------------------------------------ */

/* Whole sentences for each key (never "the %s certificate" built from a word). */
#define BY_ROLE(sign, auth_text, sign_text) ((sign) ? (sign_text) : (auth_text))

/* The key's certificate: validity, then the chain to ca. */
static void
check_certificate(doctor *d, cnie_card *card, const cnie_card_key_info *k, const char *ca)
{
	bool sign = strcmp(cnie_tool_key_role(k), "sign") == 0;
	const uint8_t *der = NULL;
	size_t der_len = 0;
	long long nb = 0, na = 0, now = (long long)time(NULL);
	char id[32], date[32], why[256];
	int r;

	snprintf(id, sizeof(id), "certificate-%s", cnie_tool_key_role(k));
	if (cnie_card_certificate(card, k->id, k->id_len, &der, &der_len) != 0 ||
	    cnie_tool_cert_validity(der, der_len, &nb, &na) != 0) {
		check(d, id, "FAIL", N_("the card is damaged or not personalised: contact the "
		    "issuer"), BY_ROLE(sign, N_("the authentication certificate cannot be read"),
		    N_("the signature certificate cannot be read")));
		return;
	}
	cnie_tool_time_iso(na, date, sizeof(date));
	if (na < now)
		check(d, id, "FAIL", N_("renew the card: the issuer renews its certificates"),
		    BY_ROLE(sign, N_("the authentication certificate expired on %.10s"),
		    N_("the signature certificate expired on %.10s")), date);
	else if (nb > now)
		check(d, id, "FAIL", N_("check the computer's clock"),
		    BY_ROLE(sign, N_("the authentication certificate is not valid yet"),
		    N_("the signature certificate is not valid yet")));
	else if (na - now < (long long)EXPIRY_WARN_DAYS * 86400)
		check(d, id, "WARN", N_("renew the card soon"),
		    BY_ROLE(sign, N_("the authentication certificate expires on %.10s"),
		    N_("the signature certificate expires on %.10s")), date);
	else
		check(d, id, "OK", NULL,
		    BY_ROLE(sign, N_("the authentication certificate is valid until %.10s"),
		    N_("the signature certificate is valid until %.10s")), date);
	snprintf(id, sizeof(id), "chain-%s", cnie_tool_key_role(k));
	if (ca == NULL) {
		check(d, id, "SKIP", NULL,
		    BY_ROLE(sign, N_("the authentication certificate's chain is not checked "
		    "(give --ca FILE|DIR)"), N_("the signature certificate's chain is not "
		    "checked (give --ca FILE|DIR)")));
		return;
	}
	r = cnie_tool_cert_chain(der, der_len, ca, why, sizeof(why));
	if (r == 0) {
		check(d, id, "OK", NULL,
		    BY_ROLE(sign, N_("the authentication certificate chains to the CA"),
		    N_("the signature certificate chains to the CA")));
	} else if (r == CNIE_ERR_EXPIRED) {
		d->err = r;
		check(d, id, "FAIL", N_("renew the card"),
		    BY_ROLE(sign, N_("the authentication certificate's chain: %s"),
		    N_("the signature certificate's chain: %s")), why);
	} else {
		d->err = r;
		check(d, id, "FAIL", N_("check that --ca names the CNIE issuing CA"),
		    BY_ROLE(sign, N_("the authentication certificate does not chain to %s: %s"),
		    N_("the signature certificate does not chain to %s: %s")), ca, why);
	}
}

static void
check_card(doctor *d, const char *ca, const cnie_tool_secret_src *src, json_t *report)
{
	cnie_tool *tool = d->tool;
	cnie_card *card = NULL;
	const char *serial = NULL;
	size_t nkeys = 0;
	int r, tries = -1, puk_tries = -1;
	bool blocked = false, verified = false, puk_blocked = false;

	r = cnie_tool_open_card(tool, src, &card);
	if (r == CNIE_ERR_CARD_NOT_RECOGNISED) {
		d->err = r;
		check(d, "card-recognised", "FAIL",
		    N_("insert a CNIE card: this card has no CNIE PKI application (another kind "
		    "of card, or a CNIE inserted the wrong way)"),
		    N_("the card in %s is not recognised as a CNIE"), tool->reader_used);
		return;
	}
	if (r == CNIE_ERR_NEED_CAN || r == CNIE_ERR_CANCELLED || r == CNIE_ERR_PACE) {
		d->err = r;
		check(d, "card-recognised", "WARN",
		    N_("use a contact reader, or rerun with --can-stdin and the card's CAN"),
		    N_("the card is on a contactless reader: the card checks need the CAN"));
		return;
	}
	if (r != 0) {
		d->err = r;
		check(d, "card-recognised", "FAIL",
		    r == CNIE_ERR_SHARING ? N_("close the program that holds the card exclusively") :
		    N_("remove and insert the card again; if it persists, try another reader"),
		    N_("cannot open the card in %s"), tool->reader_used);
		return;
	}
	check(d, "card-recognised", "OK", NULL, N_("CNIE recognised in %s"), tool->reader_used);
	if (cnie_card_serial(card, &serial) == 0 && serial != NULL) {
		unsigned char md[32];
		char *h;

		/* Correlates tickets without giving the serial away. */
		if (EVP_Digest(serial, strlen(serial), md, NULL, EVP_sha256(), NULL) == 1 &&
		    (h = cnie_tool_hex(md, 8)) != NULL) {
			json_object_set_new(report, "card_id_sha256_prefix", json_string(h));
			free(h);
		}
	}
	if ((r = cnie_card_key_count(card, &nkeys)) != 0 || nkeys == 0) {
		const char *fix = N_("the card's PKI application is damaged or not personalised: "
		    "contact the issuer");

		d->err = r;
		if (r != 0)
			check(d, "applications", "FAIL", fix, N_("the PKI application cannot be read"));
		else
			check(d, "applications", "FAIL", fix, N_("the PKI application has no private "
			    "key"));
		goto out;
	}
	d->plural = ngettext("PKI application with %zu key", "PKI application with %zu keys", nkeys);
	check(d, "applications", "OK", NULL, nkeys == 1 ? "PKI application with %zu key" :
	    "PKI application with %zu keys", nkeys);

	r = cnie_card_pin_status(card, &tries, &blocked, &verified);
	if (r != 0) {
		d->err = r;
		check(d, "pin", "FAIL", N_("remove and insert the card again"),
		    N_("cannot read the PIN status"));
	} else if (blocked) {
		check(d, "pin", "FAIL", N_("unblock it with the PUK: cnie-tool pin unblock"),
		    N_("the PIN is blocked"));
	} else if (tries == 1) {
		check(d, "pin", "WARN", N_("a correct PIN resets the counter; after the last wrong "
		    "try the PIN is blocked"), N_("the PIN has one try left"));
	} else if (tries >= 0 && tries < 3) {
		check(d, "pin", "WARN", N_("a correct PIN resets the counter; after the last wrong "
		    "try the PIN is blocked"), N_("the PIN has %d tries left"), tries);
	} else if (tries >= 0) {
		check(d, "pin", "OK", NULL, N_("PIN not blocked (all tries left)"));
	} else {
		check(d, "pin", "OK", NULL, N_("PIN not blocked (verified)"));
	}
	r = cnie_card_puk_status(card, &puk_tries, &puk_blocked);
	if (r == 0 && puk_blocked)
		check(d, "puk", "FAIL", N_("a blocked PUK is final: the card must be replaced"),
		    N_("the PUK is blocked"));
	else if (r == 0)
		check(d, "puk", "OK", NULL, N_("PUK not blocked"));

	for (size_t i = 0; i < nkeys; i++) {
		cnie_card_key_info k;

		if (cnie_card_get_key(card, i, &k) == 0)
			check_certificate(d, card, &k, ca);
	}
out:
	cnie_card_free(&card);
}

static void
check_pcsc(doctor *d, const char *ca, const cnie_tool_secret_src *src, json_t *report)
{
	cnie_tool *tool = d->tool;
	json_t *scan, *readers, *usb, *v;
	size_t i, with_card = 0, unseen = 0;
	const char *first = NULL;
	int err = 0;

	if (tool->reference_card != NULL) {
		check(d, "pcscd", "SKIP", NULL, N_("pcscd not checked: in-process reference card %s"),
		    tool->reference_card);
		check_card(d, ca, src, report);
		return;
	}
	if (in_path("pcscd"))
		check(d, "pcscd-installed", "OK", NULL, N_("pcscd is installed"));
	else
		check(d, "pcscd-installed", "FAIL", "sudo apt-get install pcscd",
		    N_("pcscd (the PC/SC smart card service) is not installed"));
	if ((scan = cnie_tool_readers_scan(tool, &err)) == NULL) {
		check(d, "pcscd", "FAIL", NULL, N_("out of memory"));
		return;
	}
	readers = json_object_get(scan, "readers");
	usb = json_object_get(scan, "usb");
	if (err != 0 && err != CNIE_ERR_NO_READER)
		d->err = err;
	if (err == CNIE_ERR_NO_SERVICE)
		check(d, "pcscd", "FAIL", "sudo systemctl enable --now pcscd.socket",
		    N_("pcscd is not running or not reachable"));
	else if (err != 0 && err != CNIE_ERR_NO_READER)
		check(d, "pcscd", "FAIL", "sudo systemctl restart pcscd",
		    N_("pcscd answers with an error"));
	else
		check(d, "pcscd", "OK", NULL, N_("pcscd is running"));
	if (err == 0 || err == CNIE_ERR_NO_READER) {
		if (json_array_size(readers) == 0)
			check(d, "readers", "FAIL", N_("plug in a smart card reader; if one is plugged "
			    "in, see the USB check"), N_("no smart card reader is seen by pcscd"));
		else
		{
			size_t n = json_array_size(readers);

			d->plural = ngettext("%zu reader seen by pcscd", "%zu readers seen by pcscd", n);
			check(d, "readers", "OK", NULL, n == 1 ? "%zu reader seen by pcscd" :
			    "%zu readers seen by pcscd", n);
		}
	}
	if (strcmp(json_string_value(json_object_get(scan, "usb_scan")), "ok") != 0) {
		check(d, "usb", "SKIP", NULL, N_("USB devices not checked (libusb unavailable)"));
	} else {
		json_array_foreach(usb, i, v) {
			if (json_is_true(json_object_get(v, "in_pcsc")))
				continue;
			unseen++;
			check(d, "usb", "WARN", cnie_tool_usb_unseen_fix(v, err != CNIE_ERR_NO_SERVICE),
			    json_is_true(json_object_get(v, "libccid_lists")) ?
			    N_("USB CCID reader %s (%s %s) is plugged in but pcscd shows no reader for "
			    "it; libccid lists it") :
			    N_("USB CCID reader %s (%s %s) is plugged in but pcscd shows no reader for "
			    "it; libccid does not list it"),
			    json_string_value(json_object_get(v, "id")),
			    json_string_value(json_object_get(v, "manufacturer")),
			    json_string_value(json_object_get(v, "product")));
		}
		if (unseen == 0)
		{
			size_t n = json_array_size(usb);

			d->plural = ngettext("%zu USB CCID device, none missing from pcscd",
			    "%zu USB CCID devices, none missing from pcscd", n);
			check(d, "usb", "OK", NULL, n == 1 ? "%zu USB CCID device, none missing from "
			    "pcscd" : "%zu USB CCID devices, none missing from pcscd", n);
		}
	}
	json_object_set_new(report, "readers", json_integer((json_int_t)json_array_size(readers)));
	if (err != 0 || json_array_size(readers) == 0) {
		check(d, "card", "SKIP", NULL, N_("card not checked (no reader)"));
		json_decref(scan);
		return;
	}
	json_array_foreach(readers, i, v) {
		if (!json_is_true(json_object_get(v, "card")))
			continue;
		if (tool->reader == NULL || strstr(json_string_value(json_object_get(v, "name")),
		    tool->reader) != NULL) {
			if (first == NULL)
				first = json_string_value(json_object_get(v, "name"));
			with_card++;
		}
	}
	if (with_card == 0) {
		const char *fix = N_("insert the card in the reader (chip first, facing up for a "
		    "contact reader)");

		if (tool->reader != NULL)
			check(d, "card", "FAIL", fix, N_("no card in %s"), tool->reader);
		else
			check(d, "card", "FAIL", fix, N_("no card in any reader"));
		json_decref(scan);
		return;
	}
	if (with_card > 1) {
		/* The fix names a real reader, quoted for the shell. */
		char fix[400];
		snprintf(fix, sizeof(fix), "cnie-tool doctor --reader '%s'", first);
		d->plural = ngettext("%zu reader has a card; checking the one in %s (another: "
		    "--reader)", "%zu readers have a card; checking the one in %s (another: "
		    "--reader)", with_card);
		check(d, "card", "WARN", strchr(first, '\'') == NULL ? fix : NULL,
		    "%zu readers have a card; checking the one in %s (another: --reader)",
		    with_card, first);
	}
	else
		check(d, "card", "OK", NULL, N_("card present in %s"), first);
	/* The first reader with a card, by exact name: never an arbitrary pick. */
	{
		const char *saved = tool->reader;
		char name[256];

		snprintf(name, sizeof(name), "%s", first);
		tool->reader = name;
		check_card(d, ca, src, report);
		tool->reader = saved;
	}
	json_decref(scan);
}

/* ---- PKCS#11 registration ------------------------------------------------ */

/* True when dir holds a p11-kit *.module file whose module: names cnie-pkcs11.so. */
static bool
module_file_in(const char *dir, char *found, size_t found_len)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	int files = 0;
	bool ok = false;

	while (!ok && dh != NULL && (e = readdir(dh)) != NULL && files < 256) {
		size_t l = strlen(e->d_name);
		char path[4096], line[512];
		FILE *f;
		int lines = 0;

		if (l < 8 || strcmp(e->d_name + l - 7, ".module") != 0)
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL && lines++ < 200) {
			if (strncmp(line, "module:", 7) == 0 && strstr(line, "cnie-pkcs11.so")) {
				snprintf(found, found_len, "%s", path);
				ok = true;
				break;
			}
		}
		fclose(f);
	}
	if (dh != NULL)
		closedir(dh);
	return ok;
}

static void
check_pkcs11(doctor *d)
{
	static cnie_tool_nssdb dbs[CNIE_TOOL_NSSDB_MAX];
	char user_dir[4096], found[4096], lib[4096];
	size_t n, i;
	bool ok = false;

	home_path(user_dir, sizeof(user_dir), ".config/pkcs11/modules");
	ok = module_file_in("/usr/share/p11-kit/modules", found, sizeof(found)) ||
	    module_file_in("/etc/pkcs11/modules", found, sizeof(found)) ||
	    module_file_in(user_dir, found, sizeof(found));
	if (ok)
		check(d, "pkcs11-p11kit", "OK", NULL, N_("PKCS#11 module registered with p11-kit (%s)"),
		    found);
	else
		check(d, "pkcs11-p11kit", "WARN", "sudo apt-get install cnie-pkcs11",
		    N_("the CNIE PKCS#11 module is not registered with p11-kit: "
		    "applications will not see the card"));
	/* Each browser profile: Debian's NSS does not load p11-kit-proxy by itself. */
	n = cnie_tool_nssdb_find(dbs, CNIE_TOOL_NSSDB_MAX, false);
	if (n == 0)
		check(d, "pkcs11-nss", "SKIP", NULL, N_("no browser profile (NSS database) found"));
	for (i = 0; i < n; i++) {
		const char *why = cnie_tool_nssdb_sandbox_reason(dbs[i].kind);
		const char *browser = cnie_tool_nssdb_kind_name(dbs[i].kind);
		int st = cnie_tool_nssdb_module(&dbs[i], lib, sizeof(lib), NULL, 0);

		if (st == 1 && access(lib, R_OK) == 0)
			check(d, "pkcs11-nss", "OK", NULL, N_("%s (%s) loads the module %s"),
			    dbs[i].shown, browser, lib);
		else if (st == 1)
			check(d, "pkcs11-nss", "WARN", "cnie-tool register", N_("%s (%s) names the "
			    "module %s, which does not exist"), dbs[i].shown, browser, lib);
		else if (st == 2)
			check(d, "pkcs11-nss", "OK", NULL, N_("%s (%s) loads p11-kit-proxy, and so "
			    "p11-kit's modules"), dbs[i].shown, browser);
		else if (why != NULL && (d->detail = why) != NULL)
			check(d, "pkcs11-nss", "WARN", "sudo apt-get install firefox-esr",
			    N_("%s (%s) cannot load the CNIE module"), dbs[i].shown, browser);
		else
			check(d, "pkcs11-nss", "WARN", "cnie-tool register", N_("%s (%s) does not "
			    "load the CNIE module: the browser will not see the card"), dbs[i].shown,
			    browser);
	}
}

/* ---- the bridge ------------------------------------------------------------ */

static bool
state_dir(char *out, size_t len)
{
	const char *x = getenv("XDG_STATE_HOME");

	if (x != NULL && x[0] == '/')
		snprintf(out, len, "%s/cnied", x);
	else if (getenv("HOME") != NULL)
		home_path(out, len, ".local/state/cnied");
	else
		return false;
	return true;
}

/* Connects to "host:port" or "[v6]:port" with a 2 s limit. */
static bool
can_connect(const char *hostport)
{
	char host[128], port[16];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *res = NULL;
	bool ok = false;
	size_t hl;

	if (colon == NULL || strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(port))
		return false;
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && hostport[0] == '[' && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return false;
	for (struct addrinfo *a = res; a != NULL && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pollfd p;
		int e = 0;
		socklen_t el = sizeof(e);

		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			ok = true;
		} else if (errno == EINPROGRESS) {
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, 2000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
				ok = true;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

/* DER of the first certificate of a PEM file (caller frees). */
static int
pem_der(const char *path, unsigned char **der, int *len)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	*der = NULL;
	if (f == NULL)
		return -1;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return -1;
	*len = i2d_X509(x, der);
	X509_free(x);
	return *len > 0 ? 0 : -1;
}

/* True when the NSS database dbarg holds a certificate equal to ca (DER) as a CA. */
static bool
nss_has(const char *dbarg, const unsigned char *ca, int ca_len)
{
	static char list[RUN_MAX_OUTPUT], one[RUN_MAX_OUTPUT];
	const char *argv[] = { "certutil", "-L", "-d", dbarg, NULL };
	char *line, *save = NULL;
	int n = 0;

	if (run_capture(argv, list, sizeof(list)) != 0)
		return false;
	for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char nick[512];
		size_t l = strlen(line);
		const char *argv2[] = { "certutil", "-L", "-d", dbarg, "-n", nick, "-a", NULL };
		X509 *x;
		BIO *b;
		unsigned char *der = NULL;
		int dl;
		bool eq;

		/* Lines: "<nickname><spaces><trust flags, e.g. CT,C,C>". */
		if (n++ < 3 || l < 6 || l >= sizeof(nick))
			continue;
		while (l > 0 && line[l - 1] == ' ')
			l--;
		while (l > 0 && line[l - 1] != ' ')
			l--;
		while (l > 0 && line[l - 1] == ' ')
			l--;
		if (l == 0)
			continue;
		memcpy(nick, line, l);
		nick[l] = '\0';
		if (run_capture(argv2, one, sizeof(one)) != 0)
			continue;
		if ((b = BIO_new_mem_buf(one, -1)) == NULL)
			continue;
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		if (x == NULL)
			continue;
		dl = i2d_X509(x, &der);
		X509_free(x);
		eq = dl == ca_len && der != NULL && memcmp(der, ca, (size_t)dl) == 0;
		OPENSSL_free(der);
		if (eq)
			return true;
	}
	return false;
}

static void
check_bridge(doctor *d)
{
	static cnie_tool_nssdb dbs[CNIE_TOOL_NSSDB_MAX];
	char dir[4096], path[4200], dbarg[4200], line[128];
	unsigned char *ca = NULL;
	size_t n, i;
	int ca_len = 0, lines = 0;
	bool up = false;
	FILE *f;

	if (!state_dir(dir, sizeof(dir))) {
		check(d, "bridge", "SKIP", NULL, N_("bridge not checked (no HOME)"));
		return;
	}
	snprintf(path, sizeof(path), "%s/cnied.port", dir);
	if ((f = fopen(path, "r")) == NULL) {
		/* Socket activation: systemd listens before cnied writes its port file. */
		if (getenv("CNIE_DOCTOR_NO_DEFAULT_PORT") == NULL &&
		    can_connect("127.0.0.1:" CNIE_BRIDGE_DEFAULT_PORT)) {
			check(d, "bridge", "OK", NULL, N_("a listener on the bridge's default port "
			    "127.0.0.1:%s (socket activation; no port file yet)"),
			    CNIE_BRIDGE_DEFAULT_PORT);
			return;
		}
		check(d, "bridge", "WARN", "systemctl --user enable --now cnied.socket",
		    N_("the bridge cnied is not running (no %s): portal login needs it"), path);
		return;
	}
	while (!up && lines < 8 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		lines++;
		if (line[0] != '\0' && can_connect(line)) {
			up = true;
			check(d, "bridge", "OK", NULL, N_("the bridge cnied listens on %s"), line);
		}
	}
	fclose(f);
	if (!up) {
		check(d, "bridge", "WARN", "systemctl --user restart cnied.socket",
		    N_("the bridge cnied is not running (its port file %s is stale)"), path);
		return;
	}
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (pem_der(path, &ca, &ca_len) != 0) {
		check(d, "bridge-trust", "WARN", "systemctl --user restart cnied.service",
		    N_("the bridge's CA certificate %s cannot be read"), path);
		return;
	}
	/* The CA is per user: trusted in each profile, never by system policy. */
	n = cnie_tool_nssdb_find(dbs, CNIE_TOOL_NSSDB_MAX, false);
	if (!in_path("certutil"))
		check(d, "bridge-trust", "SKIP", NULL, N_("certutil not installed (libnss3-tools): "
		    "trust not checked"));
	else if (n == 0)
		check(d, "bridge-trust", "WARN", "cnie-tool bridge trust", N_("no browser profile "
		    "(NSS database) trusts the bridge's CA: browsers will refuse the bridge"));
	for (i = 0; i < n && in_path("certutil"); i++) {
		snprintf(dbarg, sizeof(dbarg), "sql:%s", dbs[i].dir);
		if (nss_has(dbarg, ca, ca_len))
			check(d, "bridge-trust", "OK", NULL, N_("the bridge's CA is trusted in %s (%s)"),
			    dbs[i].shown, cnie_tool_nssdb_kind_name(dbs[i].kind));
		else
			check(d, "bridge-trust", "WARN", "cnie-tool bridge trust", N_("the bridge's CA "
			    "is not trusted in %s (%s): the browser will refuse the bridge"),
			    dbs[i].shown, cnie_tool_nssdb_kind_name(dbs[i].kind));
	}
	OPENSSL_free(ca);
}

int
cnie_tool_cmd_doctor(cnie_tool *tool, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "ca", required_argument, NULL, 'a' },
		{ "can-stdin", no_argument, NULL, 'c' },
		{ "no-bridge", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	doctor d;
	const char *report_path = NULL, *ca = NULL;
	cnie_tool_secret_src src = { 0 };
	bool bridge = true;
	json_t *report;
	char when[32];
	int c, rc;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': report_path = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': src.from_stdin = true; break;
		case 'B': bridge = false; break;
		case 'h':
			printf(_("usage: %s\n"), "cnie-tool doctor [--json] [--report FILE] "
			    "[--ca FILE|DIR] [--can-stdin] [--no-bridge]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), "doctor",
		    argv[optind]);
	/* Without --can-stdin a contactless card is reported, never prompted for. */
	if (!src.from_stdin)
		src.none = true;
	d.tool = tool;
	d.quiet = tool->json;
	d.checks = json_array();
	report = json_object();
	cnie_tool_time_iso((long long)time(NULL), when, sizeof(when));
	json_object_set_new(report, "tool", json_string("cnie-tool " CNIE_VERSION));
	json_object_set_new(report, "time", json_string(when));
	check_pcsc(&d, ca, &src, report);
	check_pkcs11(&d);
	if (bridge)
		check_bridge(&d);
	else
		check(&d, "bridge", "SKIP", NULL, N_("bridge not checked (--no-bridge)"));
	json_object_set_new(report, "checks", d.checks);
	json_object_set_new(report, "summary", json_pack("{s:i,s:i,s:i,s:i}", "ok", d.ok,
	    "warn", d.warn, "fail", d.fail, "skip", d.skip));
	json_object_set_new(report, "result", json_string(d.fail ? "FAIL" : d.warn ? "WARN" :
	    "OK"));
	rc = d.fail > 0 ? CNIE_TOOL_EXIT_FAIL : CNIE_TOOL_EXIT_OK;
	if (report_path != NULL) {
		int fd = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || json_dumpfd(report, fd, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
		    write(fd, "\n", 1) != 1 || close(fd) != 0) {
			fprintf(stderr, _("cnie-tool: cannot write the report %s\n"), report_path);
			rc = CNIE_TOOL_EXIT_FAIL;
		} else if (!tool->json) {
			printf(_("Report written to %s (no personal data)\n"), report_path);
		}
	}
	if (tool->json) {
		cnie_tool_print_json(report);
	} else {
		/* TRANSLATORS: OK, WARN, FAIL and SKIP are the status words shown in
		 * brackets before each check: keep them as they are. */
		printf(_("%d OK, %d WARN, %d FAIL, %d SKIP\n"), d.ok, d.warn, d.fail, d.skip);
		json_decref(report);
	}
	return rc;
}
