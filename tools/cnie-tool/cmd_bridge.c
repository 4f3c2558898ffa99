/*
 * cnie-tool bridge status|trust [--state-dir DIR]
 *
 * status: reads cnied's port file, connects over TLS trusting only the
 * bridge's own STATE/ca.pem (never the system store: the CA is local),
 * GET /v1/status, prints it, and says in which NSS databases the CA is
 * trusted.  trust: installs ca.pem into the user's NSS databases
 * (~/.pki/nssdb for Chromium, every Firefox profile: nssdb.h) with
 * certutil (libnss3-tools) run directly, no shell.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cnie_tool.h"
#include "nssdb.h"

extern char **environ;

#define BRIDGE_NICK "CNIE local bridge CA"

static int
state_dir(const char *opt, char *out, size_t max)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (opt != NULL)
		return snprintf(out, max, "%s", opt) < (int)max ? 0 : -1;
	if (x != NULL && x[0] == '/')
		return snprintf(out, max, "%s/cnied", x) < (int)max ? 0 : -1;
	if (home == NULL)
		return -1;
	return snprintf(out, max, "%s/.local/state/cnied", home) < (int)max ? 0 : -1;
}

/* The DER of STATE/ca.pem (malloc) or NULL. */
static unsigned char *
ca_der(const char *dir, size_t *len)
{
	char path[4200];
	unsigned char *der = NULL, *p;
	X509 *x;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return NULL;
	n = i2d_X509(x, NULL);
	if (n > 0 && (der = malloc((size_t)n)) != NULL) {
		p = der;
		i2d_X509(x, &p);
		*len = (size_t)n;
	}
	X509_free(x);
	return der;
}

/*
 * NSS databases of the user (nssdb.h: Chromium's ~/.pki/nssdb and every
 * Firefox profile, snap and flatpak ones included: trust is data in the
 * database, which the sandboxed browsers read too).  create: make the
 * databases that do not exist yet (trust).
 */
static size_t
nss_dbs(char dbs[][1024], size_t max, bool create)
{
	cnie_tool_nssdb found[CNIE_TOOL_NSSDB_MAX];
	size_t n, i, k = 0;

	n = cnie_tool_nssdb_find(found, max < CNIE_TOOL_NSSDB_MAX ? max : CNIE_TOOL_NSSDB_MAX,
	    create);
	for (i = 0; i < n; i++) {
		if (create && cnie_tool_nssdb_create(&found[i]) != 0)
			continue;
		/* Both 1024 bytes, NUL-terminated by cnie_tool_nssdb_find. */
		memcpy(dbs[k++], found[i].dir, sizeof(found[i].dir));
	}
	return k;
}

static bool
trusted_in(const char *db, const unsigned char *der, size_t der_len)
{
	static char out[16384];
	char dbarg[1100];
	const char *argv[] = {"certutil", "-L", "-d", dbarg, "-n", BRIDGE_NICK, "-r", NULL};
	size_t n = 0;

	snprintf(dbarg, sizeof(dbarg), "sql:%s", db);
	return cnie_tool_run(argv, out, sizeof(out), &n) == 0 && n == der_len &&
	    memcmp(out, der, n) == 0;
}

/* At most this many listeners are read from the port file (cnied writes one or two). */
#define MAX_LISTENERS 8

/*
 * Splits a port file line, "127.0.0.1:28219" or "[::1]:28219", into its
 * numeric host (brackets removed) and port; -1 for anything else.
 */
static int
split_hostport(const char *line, char *host, size_t host_max, int *port)
{
	const char *colon = strrchr(line, ':');
	size_t hl;
	char *end;
	long p;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	hl = (size_t)(colon - line);
	if (hl >= 2 && line[0] == '[' && line[hl - 1] == ']') {
		line++;
		hl -= 2;
	}
	if (hl == 0 || hl >= host_max)
		return -1;
	memcpy(host, line, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* A TCP connection to the numeric host:port, or -1 with errno set. */
static int
connect_numeric(const char *host, int port)
{
	struct addrinfo hints, *res = NULL;
	char ps[16];
	int fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) != 0) {
		errno = EINVAL;
		return -1;
	}
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			e = errno;
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * GET /v1/status over TLS to one listener of the port file (line:
 * "127.0.0.1:P" or "[::1]:P"), trusting ca.pem only and checking that the
 * server certificate names that address.
 */
/* s in the user's language (local) or as is, English, for --json. */
static const char *msg(bool local, const char *s) __attribute__((format_arg(2)));

static const char *
msg(bool local, const char *s)
{
	return local ? gettext(s) : s;
}

static int
get_status(const char *dir, const char *line, bool local, json_t **out, char *err,
    size_t err_max)
{
	char ca[4200], req[512], host[64], *body;
	static char resp[65536];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509_VERIFY_PARAM *vp;
	size_t n = 0;
	int fd = -1, r = -1, k, port;
	json_error_t je;

	if (split_hostport(line, host, sizeof(host), &port) != 0) {
		snprintf(err, err_max, msg(local, N_("the port file names \"%s\", which is not an address "
		    "and port")), line);
		return -1;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto out;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, err_max, msg(local, N_("cannot read %s")), ca);
		goto out;
	}
	if ((fd = connect_numeric(host, port)) < 0) {
		snprintf(err, err_max, msg(local, N_("cannot connect to %s: %s (is cnied running?)")), line,
		    strerror(errno));
		goto out;
	}
	if ((ssl = SSL_new(ctx)) == NULL)
		goto out;
	vp = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set1_ip_asc(vp, host);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		snprintf(err, err_max, msg(local, N_("TLS with the bridge at %s failed: %s")), line,
		    ERR_reason_error_string(ERR_get_error()));
		goto out;
	}
	snprintf(req, sizeof(req), "GET /v1/status HTTP/1.1\r\nHost: %.200s\r\n"
	    "Connection: close\r\n\r\n", line);
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
		goto out;
	while (n < sizeof(resp) - 1 && (k = SSL_read(ssl, resp + n, (int)(sizeof(resp) - 1 - n))) >
	    0)
		n += (size_t)k;
	resp[n] = '\0';
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || (body = strstr(resp, "\r\n\r\n")) == NULL) {
		snprintf(err, err_max, msg(local, N_("unexpected answer from the bridge at %s")), line);
		goto out;
	}
	if ((*out = json_loads(body + 4, 0, &je)) == NULL) {
		snprintf(err, err_max, msg(local, N_("bad JSON from the bridge at %s")), line);
		goto out;
	}
	r = 0;
out:
	if (ssl != NULL)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return r;
}

/*
 * The listeners of STATE/cnied.port (one a line, IPv4 first: docs/bridge-api.md)
 * into lines[]; the number read, 0 when there is no port file.
 */
static size_t
read_port_file(const char *path, char lines[][128], size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	char buf[128];

	if (f == NULL)
		return 0;
	while (n < max && fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0')
			snprintf(lines[n++], 128, "%s", buf);
	}
	fclose(f);
	return n;
}

static int
bridge_status(cnie_tool *tool, const char *dir)
{
	char path[4200], err[8600] = "", dbs[32][1024], lines[MAX_LISTENERS][128], host[64];
	json_t *st = NULL, *trust = json_array(), *listeners = json_array(), *readers, *rd;
	const char *used = NULL;
	unsigned char *der;
	size_t der_len = 0, ndb, nl, i;
	int port = 0, rc;
	bool local = !tool->json; /* --json: the error in English */

	snprintf(path, sizeof(path), "%s/cnied.port", dir);
	nl = read_port_file(path, lines, MAX_LISTENERS);
	if (nl == 0)
		snprintf(err, sizeof(err), msg(local, N_("cnied is not running (no port file %s)")), path);
	/* Each listener the port file names, in its order: an IPv6-only cnied lists [::1]. */
	for (i = 0; i < nl; i++) {
		json_array_append_new(listeners, json_string(lines[i]));
		if (st == NULL && get_status(dir, lines[i], local, &st, err, sizeof(err)) == 0)
			used = lines[i];
	}
	if (used != NULL)
		(void)split_hostport(used, host, sizeof(host), &port);
	else if (nl > 0)
		(void)split_hostport(lines[0], host, sizeof(host), &port);
	der = ca_der(dir, &der_len);
	ndb = nss_dbs(dbs, 32, false);
	for (i = 0; der != NULL && i < ndb; i++)
		if (trusted_in(dbs[i], der, der_len))
			json_array_append_new(trust, json_string(dbs[i]));
	free(der);
	rc = st != NULL ? CNIE_TOOL_EXIT_OK : CNIE_TOOL_EXIT_NO_SERVICE;
	if (tool->json) {
		json_t *j = json_pack("{s:b,s:i,s:s?,s:o,s:s,s:o}", "running", st != NULL, "port",
		    port, "address", used, "listeners", listeners, "stateDir", dir, "trustedIn",
		    trust);
		if (st != NULL) {
			json_object_set(j, "status", st);
		} else {
			/* docs/errors.md: the JavaScript client's code for the same state. */
			json_object_set_new(j, "code", json_string("bridge-unreachable"));
			json_object_set_new(j, "error", json_string(err));
		}
		cnie_tool_print_json(j);
	} else {
		json_decref(listeners);
		if (st == NULL) {
			printf(_("bridge: NOT RUNNING: %s\n"), err);
		} else {
			/* TRANSLATORS: %s is the address and port, %s the version, %s the
			 * transport (pcsc or reference-card). */
			printf(_("bridge: running on https://%s (cnied %s, %s)\n"), used,
			    json_string_value(json_object_get(st, "version")),
			    json_string_value(json_object_get(st, "transport")));
			readers = json_object_get(st, "readers");
			json_array_foreach(readers, i, rd) {
				if (json_is_true(json_object_get(rd, "card")))
					printf(_("  reader: %s (card)\n"),
					    json_string_value(json_object_get(rd, "name")));
				else
					printf(_("  reader: %s\n"),
					    json_string_value(json_object_get(rd, "name")));
			}
		}
		if (json_array_size(trust) == 0)
			printf(_("CA %s/ca.pem: not trusted in any NSS database (run `cnie-tool "
			    "bridge trust`)\n"), dir);
		else
			json_array_foreach(trust, i, rd)
				printf(_("CA trusted in: %s\n"), json_string_value(rd));
		/* cnied renews its CA before it expires: profiles keep the old one. */
		if (json_array_size(trust) > 0 && json_array_size(trust) < ndb) {
			size_t missing = ndb - json_array_size(trust);

			printf(ngettext("CA not trusted yet in %zu browser profile (run `cnie-tool "
			    "bridge trust`)\n", "CA not trusted yet in %zu browser profiles (run "
			    "`cnie-tool bridge trust`)\n", missing), missing);
		}
		json_decref(trust);
	}
	json_decref(st);
	return rc;
}

static int
bridge_trust(cnie_tool *tool, const char *dir)
{
	char ca[4200], dbs[32][1024], dbarg[1100];
	json_t *done = json_array(), *failed = json_array();
	unsigned char *der;
	size_t der_len, ndb, i;
	int rc = CNIE_TOOL_EXIT_OK;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if ((der = ca_der(dir, &der_len)) == NULL) {
		if (tool->json)
			cnie_tool_print_json(json_pack("{s:{s:s,s:s}}", "error", "code", "not-found",
			    "message", "no bridge CA (start cnied once first)"));
		else
			fprintf(stderr, _("cnie-tool: no bridge CA at %s (start cnied once first)\n"),
			    ca);
		json_decref(done);
		json_decref(failed);
		return CNIE_TOOL_EXIT_FAIL;
	}
	ndb = nss_dbs(dbs, 32, true);
	for (i = 0; i < ndb; i++) {
		const char *argv[] = {"certutil", "-A", "-d", dbarg, "-n", BRIDGE_NICK, "-t", "C,,", "-i",
		    ca, NULL};
		snprintf(dbarg, sizeof(dbarg), "sql:%s", dbs[i]);
		/* Replace an older CA of the same name (a new state dir, a new CA). */
		if (!trusted_in(dbs[i], der, der_len)) {
			const char *del[] = {"certutil", "-D", "-d", dbarg, "-n", BRIDGE_NICK, NULL};
			(void)cnie_tool_run(del, NULL, 0, NULL);
			(void)cnie_tool_run(argv, NULL, 0, NULL);
		}
		if (trusted_in(dbs[i], der, der_len))
			json_array_append_new(done, json_string(dbs[i]));
		else {
			json_array_append_new(failed, json_string(dbs[i]));
			rc = CNIE_TOOL_EXIT_FAIL;
		}
	}
	free(der);
	if (ndb == 0)
		rc = CNIE_TOOL_EXIT_FAIL;
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:s,s:o,s:o}", "ca", ca, "trustedIn", done,
		    "failed", failed));
	} else {
		json_t *v;
		json_array_foreach(done, i, v)
			printf(_("CA trusted in: %s\n"), json_string_value(v));
		json_array_foreach(failed, i, v)
			printf(_("FAILED to add the CA to: %s (is certutil from libnss3-tools "
			    "installed?)\n"), json_string_value(v));
		if (ndb == 0)
			printf("%s\n", _("no NSS database found or created (HOME unset?)"));
		json_decref(done);
		json_decref(failed);
	}
	return rc;
}

int
cnie_tool_cmd_bridge(cnie_tool *tool, int argc, char **argv)
{
	const char *sub = NULL, *opt_dir = NULL;
	char dir[4096];
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
			opt_dir = argv[++i];
		else if (strncmp(argv[i], "--state-dir=", 12) == 0)
			opt_dir = argv[i] + 12;
		else if (sub == NULL && argv[i][0] != '-')
			sub = argv[i];
		else
			sub = "";
	}
	if (sub == NULL || (strcmp(sub, "status") != 0 && strcmp(sub, "trust") != 0)) {
		if (tool->json)
			cnie_tool_print_json(json_pack("{s:{s:s,s:s}}", "error", "code", "usage",
			    "message", "usage: cnie-tool bridge status|trust [--state-dir DIR]"));
		else
			fprintf(stderr, _("usage: %s\n"),
			    "cnie-tool bridge status|trust [--state-dir DIR]");
		return CNIE_TOOL_EXIT_USAGE;
	}
	if (state_dir(opt_dir, dir, sizeof(dir)) != 0) {
		if (tool->json)
			cnie_tool_print_json(json_pack("{s:{s:s,s:s}}", "error", "code", "usage",
			    "message", "no state directory (set HOME or --state-dir)"));
		else
			fprintf(stderr, "%s\n",
			    _("cnie-tool: no state directory (set HOME or --state-dir)"));
		return CNIE_TOOL_EXIT_USAGE;
	}
	return strcmp(sub, "status") == 0 ? bridge_status(tool, dir) : bridge_trust(tool, dir);
}
