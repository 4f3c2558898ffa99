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

/* GET /v1/status over TLS to 127.0.0.1:port, trusting ca.pem only. */
static int
get_status(const char *dir, int port, json_t **out, char *err, size_t err_max)
{
	char ca[4200], req[256], *body;
	static char resp[65536];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	struct sockaddr_in sa;
	X509_VERIFY_PARAM *vp;
	size_t n = 0;
	int fd = -1, r = -1, k;
	json_error_t je;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto out;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, err_max, "cannot read %s", ca);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, err_max, "cannot connect to 127.0.0.1:%d: %s (is cnied running?)",
		    port, strerror(errno));
		goto out;
	}
	if ((ssl = SSL_new(ctx)) == NULL)
		goto out;
	vp = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set1_ip_asc(vp, "127.0.0.1");
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		snprintf(err, err_max, "TLS with the bridge failed: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto out;
	}
	snprintf(req, sizeof(req), "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Connection: close\r\n\r\n", port);
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
		goto out;
	while (n < sizeof(resp) - 1 && (k = SSL_read(ssl, resp + n, (int)(sizeof(resp) - 1 - n))) >
	    0)
		n += (size_t)k;
	resp[n] = '\0';
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || (body = strstr(resp, "\r\n\r\n")) == NULL) {
		snprintf(err, err_max, "unexpected answer from the bridge");
		goto out;
	}
	if ((*out = json_loads(body + 4, 0, &je)) == NULL) {
		snprintf(err, err_max, "bad JSON from the bridge");
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

static int
bridge_status(cnie_tool *tool, const char *dir)
{
	char path[4200], line[128], err[8600] = "", dbs[32][1024];
	json_t *st = NULL, *trust = json_array(), *readers, *rd;
	unsigned char *der;
	size_t der_len = 0, ndb, i;
	int port = 0, rc;
	FILE *f;
	char *colon;

	snprintf(path, sizeof(path), "%s/cnied.port", dir);
	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line), f) == NULL ||
	    (colon = strrchr(line, ':')) == NULL || (port = atoi(colon + 1)) <= 0) {
		if (f != NULL)
			fclose(f);
		snprintf(err, sizeof(err), "cnied is not running (no port file %s)", path);
		port = 0;
	} else {
		fclose(f);
	}
	if (port > 0)
		(void)get_status(dir, port, &st, err, sizeof(err));
	der = ca_der(dir, &der_len);
	ndb = nss_dbs(dbs, 32, false);
	for (i = 0; der != NULL && i < ndb; i++)
		if (trusted_in(dbs[i], der, der_len))
			json_array_append_new(trust, json_string(dbs[i]));
	free(der);
	rc = st != NULL ? CNIE_TOOL_EXIT_OK : CNIE_TOOL_EXIT_NO_SERVICE;
	if (tool->json) {
		json_t *j = json_pack("{s:b,s:i,s:s,s:o}", "running", st != NULL, "port", port,
		    "stateDir", dir, "trustedIn", trust);
		if (st != NULL)
			json_object_set(j, "status", st);
		else
			json_object_set_new(j, "error", json_string(err));
		cnie_tool_print_json(j);
	} else {
		if (st == NULL) {
			printf("bridge: NOT RUNNING — %s\n", err);
		} else {
			printf("bridge: running on https://127.0.0.1:%d (cnied %s, %s)\n", port,
			    json_string_value(json_object_get(st, "version")),
			    json_string_value(json_object_get(st, "transport")));
			readers = json_object_get(st, "readers");
			json_array_foreach(readers, i, rd)
				printf("  reader: %s%s\n", json_string_value(json_object_get(rd, "name")),
				    json_is_true(json_object_get(rd, "card")) ? " (card)" : "");
		}
		if (json_array_size(trust) == 0)
			printf("CA %s/ca.pem: not trusted in any NSS database (run `cnie-tool bridge "
			    "trust`)\n", dir);
		else
			json_array_foreach(trust, i, rd)
				printf("CA trusted in: %s\n", json_string_value(rd));
		/* cnied renews its CA before it expires: profiles keep the old one. */
		if (json_array_size(trust) > 0 && json_array_size(trust) < ndb)
			printf("CA not trusted yet in %zu browser profile(s) (run `cnie-tool bridge "
			    "trust`)\n", ndb - json_array_size(trust));
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
		fprintf(stderr, "cnie-tool: no bridge CA at %s (start cnied once first)\n", ca);
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
			printf("CA trusted in: %s\n", json_string_value(v));
		json_array_foreach(failed, i, v)
			printf("FAILED to add the CA to: %s (is certutil from libnss3-tools "
			    "installed?)\n", json_string_value(v));
		if (ndb == 0)
			printf("no NSS database found or created (HOME unset?)\n");
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
		fprintf(stderr, "usage: cnie-tool bridge status|trust [--state-dir DIR]\n");
		return CNIE_TOOL_EXIT_USAGE;
	}
	if (state_dir(opt_dir, dir, sizeof(dir)) != 0) {
		fprintf(stderr, "cnie-tool: no state directory (set HOME or --state-dir)\n");
		return CNIE_TOOL_EXIT_USAGE;
	}
	return strcmp(sub, "status") == 0 ? bridge_status(tool, dir) : bridge_trust(tool, dir);
}
