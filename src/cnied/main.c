/*
 * cnied: the local HTTPS bridge between portal pages and the CNIE card.
 *
 * Startup: options and config file, state directory (0700), single
 * instance lock (flock on cnied.lock), TLS identity, listeners (bound here
 * or received from systemd), port file, then the event loop.  The daemon
 * warns when run as root (it never needs privileges: the card is reached
 * through pcscd; kiosk mode has its own system user).
 *
 * systemd socket activation: the sd_listen_fds(3) protocol is implemented
 * here in a few lines (LISTEN_PID must be ours, LISTEN_FDS sockets from
 * fd 3), so cnied does not link libsystemd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include <cnie/error.h>
#include <cnie/log.h>

#include "api.h"
#include "cnied.h"
#include "http.h"
#include "worker.h"

/* Relative to the directory of the cnied binary (src/cnied/CMakeLists.txt). */
#ifndef CNIED_DEFAULT_REFCARD
#define CNIED_DEFAULT_REFCARD "../../cards/ec"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cnied [options]\n"
	    "  --foreground              stay in the foreground, log to stderr\n"
	    "  --listen ADDR:PORT        loopback listener (repeatable; default 127.0.0.1:%d\n"
	    "                            and [::1]:%d; port 0 picks a free port)\n"
	    "  --allow-origin ORIGIN     allowed origin, exact scheme://host[:port] (repeatable)\n"
	    "  --pinentry PROGRAM        Assuan pinentry for PIN, CAN and consent\n"
	    "                            (default pinentry; $CNIE_PINENTRY overrides)\n"
	    "  --state-dir DIR           certificate, port file, lock (default\n"
	    "                            $XDG_STATE_HOME/cnied)\n"
	    "  --reference-card[=DIR]    use the in-process reference card (default DIR:\n"
	    "                            $CNIE_REFCARD_DIR, else the build tree's cards/ec:\n"
	    "                            BINDIR/%s)\n"
	    "  --config FILE             config file (default $XDG_CONFIG_HOME/cnied/cnied.conf)\n"
	    "  --audit FILE              append an audit line per card operation\n"
	    "  --request-timeout SECS    whole-request deadline (default 10)\n"
	    "  --idle-timeout SECS       keep-alive idle timeout (default 30)\n"
	    "  --queue-timeout SECS      wait for the card before \"busy\" (default 60)\n"
	    "  --pin-timeout SECS        pinentry dialog timeout (default 120)\n"
	    "  --max-connections N       concurrent connections (default %d)\n"
	    "  --allow-user USER         let USER (name or uid) connect too; by default only\n"
	    "                            the user cnied runs as may (repeatable)\n"
	    "  --kiosk                   kiosk mode: no dialog; consent on the kiosk page,\n"
	    "                            PIN on the reader's PIN pad only (docs/kiosk.md)\n"
	    "  --public-dir DIR          also write ca.pem and cnied.port there, readable by\n"
	    "                            every user (kiosk: /run/cnied)\n"
	    "  --check-config            print the settings in effect (config file and\n"
	    "                            options) and exit\n"
	    "  --syslog                  log to syslog\n"
	    "  -v, --verbose             more logging (repeat)\n"
	    "  --version, --help\n",
	    CNIED_DEFAULT_PORT, CNIED_DEFAULT_PORT, CNIED_DEFAULT_REFCARD,
	    CNIED_MAX_CONNECTIONS);
}

enum {
	OPT_FOREGROUND = 256,
	OPT_LISTEN,
	OPT_ORIGIN,
	OPT_PINENTRY,
	OPT_STATE,
	OPT_REFCARD,
	OPT_CONFIG,
	OPT_AUDIT,
	OPT_REQ_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_QUEUE_TIMEOUT,
	OPT_PIN_TIMEOUT,
	OPT_MAX_CONN,
	OPT_USER,
	OPT_KIOSK,
	OPT_PUBLIC_DIR,
	OPT_CHECK_CONFIG,
	OPT_SYSLOG,
	OPT_VERSION,
	OPT_HELP,
};

static int
set_int(const char *v, int min, int max, int *out)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || l < min || l > max)
		return -1;
	*out = (int)l;
	return 0;
}

static void
replace(char **slot, const char *v)
{
	free(*slot);
	*slot = strdup(v);
}

/* allow-user: a user name, or a numeric uid. */
static int
add_user(cnied_config *cfg, const char *v)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int uid;

	if (cfg->nusers >= CNIED_MAX_USERS)
		return -1;
	if (v[0] >= '0' && v[0] <= '9') {
		if (set_int(v, 0, 2147483647, &uid) != 0)
			return -1;
		cfg->users[cfg->nusers++] = (uint32_t)uid;
		return 0;
	}
	if (getpwnam_r(v, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		fprintf(stderr, "cnied: allow-user: no user \"%s\"\n", v);
		return -1;
	}
	cfg->users[cfg->nusers++] = (uint32_t)pw.pw_uid;
	return 0;
}

/* One setting from the command line or the config file; 0 or -1. */
static int
apply(cnied_config *cfg, int opt, const char *v)
{
	switch (opt) {
	case OPT_LISTEN:
		if (cfg->nlisten >= CNIED_MAX_LISTEN)
			return -1;
		cfg->listen[cfg->nlisten++] = strdup(v);
		return 0;
	case OPT_ORIGIN:
		if (cfg->norigins >= CNIED_MAX_ORIGINS || cnied_origin_valid(v, strlen(v)) != 0) {
			fprintf(stderr, "cnied: origin \"%s\" is not scheme://host[:port] "
			    "(lower case, no path, no trailing slash)\n", v);
			return -1;
		}
		cfg->origins[cfg->norigins++] = strdup(v);
		return 0;
	case OPT_PINENTRY:
		replace(&cfg->pinentry, v);
		return 0;
	case OPT_STATE:
		replace(&cfg->state_dir, v);
		return 0;
	case OPT_REFCARD:
		replace(&cfg->refcard_dir, v);
		return 0;
	case OPT_AUDIT:
		replace(&cfg->audit_path, v);
		return 0;
	case OPT_REQ_TIMEOUT:
		return set_int(v, 1, 3600, &cfg->request_timeout);
	case OPT_IDLE_TIMEOUT:
		return set_int(v, 1, 3600, &cfg->idle_timeout);
	case OPT_QUEUE_TIMEOUT:
		return set_int(v, 1, 3600, &cfg->queue_timeout);
	case OPT_PIN_TIMEOUT:
		return set_int(v, 1, 3600, &cfg->pin_timeout);
	case OPT_MAX_CONN:
		return set_int(v, 4, 4096, &cfg->max_connections);
	case OPT_USER:
		return add_user(cfg, v);
	case OPT_KIOSK:
		/* The config file's kiosk = true|false; --kiosk passes "true". */
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return -1;
		cfg->kiosk = strcmp(v, "true") == 0;
		return 0;
	case OPT_PUBLIC_DIR:
		replace(&cfg->public_dir, v);
		return 0;
	}
	return -1;
}

/* "key = value" lines, '#' comments; keys are the long option names. */
static int
load_config(cnied_config *cfg, const char *path, bool required)
{
	static const struct {
		const char *key;
		int opt;
	} keys[] = {{"listen", OPT_LISTEN}, {"allow-origin", OPT_ORIGIN},
	    {"pinentry", OPT_PINENTRY}, {"state-dir", OPT_STATE},
	    {"reference-card", OPT_REFCARD}, {"audit", OPT_AUDIT},
	    {"request-timeout", OPT_REQ_TIMEOUT}, {"idle-timeout", OPT_IDLE_TIMEOUT},
	    {"queue-timeout", OPT_QUEUE_TIMEOUT}, {"pin-timeout", OPT_PIN_TIMEOUT},
	    {"max-connections", OPT_MAX_CONN}, {"allow-user", OPT_USER},
	    {"kiosk", OPT_KIOSK}, {"public-dir", OPT_PUBLIC_DIR}};
	char line[1024];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (f == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		fprintf(stderr, "cnied: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *e;
		size_t i;
		bool done = false;
		lineno++;
		line[strcspn(line, "\r\n#")] = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '\0')
			continue;
		if ((v = strchr(k, '=')) == NULL)
			goto bad;
		*v++ = '\0';
		for (e = v - 2; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(k, keys[i].key) == 0) {
				if (apply(cfg, keys[i].opt, v) != 0)
					goto bad;
				done = true;
			}
		}
		if (!done)
			goto bad;
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "cnied: %s:%d: bad setting\n", path, lineno);
	fclose(f);
	return -1;
}

/*
 * --check-config: every key of the config file with the value in effect,
 * in the file's own syntax ("# key = (not set)" for an unset one).
 */
static void
print_config(const cnied_config *cfg, const char *path)
{
	size_t i;

	printf("# cnied settings in effect (config file: %s)\n", path);
	for (i = 0; i < cfg->nlisten; i++)
		printf("listen = %s\n", cfg->listen[i]);
	if (cfg->nlisten == 0)
		printf("# listen = (not set: 127.0.0.1:%d and [::1]:%d)\n", CNIED_DEFAULT_PORT,
		    CNIED_DEFAULT_PORT);
	for (i = 0; i < cfg->norigins; i++)
		printf("allow-origin = %s\n", cfg->origins[i]);
	if (cfg->norigins == 0)
		printf("# allow-origin = (not set: every page is refused)\n");
	printf("pinentry = %s\n", cfg->pinentry != NULL ? cfg->pinentry : "pinentry");
	printf("%sstate-dir = %s\n", cfg->state_dir != NULL ? "" : "# ",
	    cfg->state_dir != NULL ? cfg->state_dir : "(not set)");
	printf("%sreference-card = %s\n", cfg->refcard_dir != NULL ? "" : "# ",
	    cfg->refcard_dir != NULL ? cfg->refcard_dir : "(not set: PC/SC)");
	printf("%saudit = %s\n", cfg->audit_path != NULL ? "" : "# ",
	    cfg->audit_path != NULL ? cfg->audit_path : "(not set: no audit log)");
	printf("request-timeout = %d\n", cfg->request_timeout);
	printf("idle-timeout = %d\n", cfg->idle_timeout);
	printf("queue-timeout = %d\n", cfg->queue_timeout);
	printf("pin-timeout = %d\n", cfg->pin_timeout);
	printf("max-connections = %d\n", cfg->max_connections);
	for (i = 0; i < cfg->nusers; i++)
		printf("allow-user = %u\n", (unsigned)cfg->users[i]);
	if (cfg->nusers == 0)
		printf("# allow-user = (not set: only uid %u)\n", (unsigned)cfg->self_uid);
	printf("kiosk = %s\n", cfg->kiosk ? "true" : "false");
	printf("%spublic-dir = %s\n", cfg->public_dir != NULL ? "" : "# ",
	    cfg->public_dir != NULL ? cfg->public_dir : "(not set)");
}

/* systemd sd_listen_fds(3) protocol: fds 3.. when LISTEN_PID is us. */
static size_t
listen_fds(int *fds, size_t max)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int count, i;
	size_t k = 0;

	if (pid == NULL || n == NULL || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	if (set_int(n, 1, 64, &count) != 0)
		return 0;
	for (i = 0; i < count && k < max; i++) {
		int fd = 3 + i;
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		fds[k++] = fd;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return k;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Twice a day: a certificate near its end is renewed before browsers see it expire. */
static const char *tls_dir, *public_dir;
static SSL_CTX *tls_ctx;

static void
on_tls_check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	int r = cnied_tls_refresh(tls_dir, tls_ctx);

	if (r < 0)
		cnie_log_error("cannot renew the TLS certificate in %s", tls_dir);
	else if (r == 1 && public_dir != NULL &&
	    cnied_public_copy(tls_dir, public_dir, "ca.pem") != 0)
		cnie_log_error("cannot copy the renewed ca.pem to %s: %s", public_dir,
		    strerror(errno));
}

/* The last answer is out: a moment for the loop to write it, then exit. */
static void
on_idle(void *arg)
{
	struct timeval flush = {0, 200000};

	event_base_loopexit(arg, &flush);
}

/*
 * SIGTERM/SIGINT: queued jobs and the open dialog are cancelled, their
 * clients get 503 "shutting-down" and the audit gets their lines (worker.c),
 * then the loop ends.  At most 4 s even if a card command hangs: systemd's
 * stop timeout is far away, and a supervisor's SIGKILL never has to come.
 * The card is left as it is: no logout command is sent at shutdown (the
 * PIN state stays the card session's business, pkcs11/README.md).
 */
/*
 * The state dir holds the TLS key: it must be ours and closed to others.
 * Group- or world-writable: repaired (0700) with a log line; another
 * owner, or a file in it owned by someone else: refused.
 */
static int
check_state_dir(const char *dir)
{
	static const char *const files[] = {"ca.pem", "server.pem", "server.key", "cnied.lock",
	    "cnied.port", "refcard-state.json"};
	struct stat st;
	char p[4200];
	size_t i;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cnied: %s is not a directory\n", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "cnied: %s belongs to uid %u, not to this user: refused\n", dir,
		    (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & 022) {
		cnie_log_warn("%s was writable by others (mode %03o): set to 0700", dir,
		    (unsigned)(st.st_mode & 0777));
		if (chmod(dir, 0700) != 0) {
			fprintf(stderr, "cnied: cannot fix the mode of %s: %s\n", dir,
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (lstat(p, &st) != 0)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			fprintf(stderr, "cnied: %s is not a file of this user: refused (remove it)\n",
			    p);
			return -1;
		}
		if ((st.st_mode & 022) && chmod(p, st.st_mode & 0755) == 0)
			cnie_log_warn("%s was writable by others: fixed", p);
	}
	return 0;
}

/* The port file, one listener a line; a temporary file renamed over it. */
static int
write_port_file(const char *dir, const char *path)
{
	char tmp[4300], addrs[CNIED_MAX_LISTEN][64];
	size_t i, n = cnied_http_addrs(addrs, CNIED_MAX_LISTEN);
	FILE *f;
	int fd, ok = 1;

	snprintf(tmp, sizeof(tmp), "%s/.cnied.port.XXXXXX", dir);
	/* mkostemp: O_CREAT|O_EXCL, so a planted name or symlink is never followed. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (fprintf(f, "%s\n", addrs[i]) < 0)
			ok = 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct timeval hard = {4, 0};

	(void)what;
	cnie_log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(arg, &hard);
	if (!cnied_worker_shutdown(on_idle, arg))
		on_idle(arg);
}

static char *
default_path(const char *env, const char *home_rel, const char *leaf)
{
	const char *base = getenv(env), *home = getenv("HOME");
	char *out = NULL;

	if (base != NULL && base[0] == '/') {
		if (asprintf(&out, "%s/%s", base, leaf) < 0)
			out = NULL;
	} else if (home != NULL) {
		if (asprintf(&out, "%s/%s/%s", home, home_rel, leaf) < 0)
			out = NULL;
	}
	return out;
}

/* BINDIR/CNIED_DEFAULT_REFCARD, BINDIR the directory of this program (caller frees). */
static char *
default_refcard(void)
{
	char exe[4096], *slash, *out = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return strdup(CNIED_DEFAULT_REFCARD);
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&out, "%s/%s", exe, CNIED_DEFAULT_REFCARD) < 0)
		out = NULL;
	return out;
}

/*
 * jansson's allocator.  jansson 2.14 does not survive its own allocation
 * failures: a failed buffer growth while lexing is ignored (a byte
 * dropped, then a write past the buffer: heap corruption), upstream
 * akheron/jansson issue 362.  Out of memory inside jansson therefore stops
 * the daemon (a broken invariant) rather than let it run on corrupted
 * memory; systemd restarts it.
 */
static void *
json_alloc_or_abort(size_t n)
{
	static const char msg[] = "cnied: out of memory in jansson: aborting\n";
	void *p = malloc(n);

	if (p == NULL) {
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)w;
		abort();
	}
	return p;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"foreground", no_argument, NULL, OPT_FOREGROUND},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"allow-origin", required_argument, NULL, OPT_ORIGIN},
	    {"pinentry", required_argument, NULL, OPT_PINENTRY},
	    {"state-dir", required_argument, NULL, OPT_STATE},
	    {"reference-card", optional_argument, NULL, OPT_REFCARD},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"audit", required_argument, NULL, OPT_AUDIT},
	    {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT},
	    {"pin-timeout", required_argument, NULL, OPT_PIN_TIMEOUT},
	    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
	    {"allow-user", required_argument, NULL, OPT_USER},
	    {"kiosk", no_argument, NULL, OPT_KIOSK},
	    {"public-dir", required_argument, NULL, OPT_PUBLIC_DIR},
	    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
	    {"syslog", no_argument, NULL, OPT_SYSLOG},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0}};
	cnied_config cfg;
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL, *tls_timer = NULL;
	SSL_CTX *ssl = NULL;
	const char *config_path = NULL;
	char *def_config = NULL, path[4200];
	int fds[16], lock_fd = -1, opt, verbose = 0, rc = 1, r;
	size_t nfds, nports = 0, i;
	uint16_t ports[CNIED_MAX_LISTEN];
	bool use_syslog = false, refcard = false, check_only = false, origins_explicit;

	json_set_alloc_funcs(json_alloc_or_abort, free); /* before any jansson use */
	cnied_locale_init(); /* the dialogs in the user's language */
	memset(&cfg, 0, sizeof(cfg));
	cfg.request_timeout = 10;
	cfg.idle_timeout = 30;
	cfg.queue_timeout = 60;
	cfg.pin_timeout = 120;
	cfg.max_connections = CNIED_MAX_CONNECTIONS;
	cfg.self_uid = (uint32_t)geteuid();

	/* First pass: --config only, so the command line overrides the file. */
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < (size_t)argc)
			config_path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_path = argv[i] + 9;
	}
	if (config_path != NULL) {
		if (load_config(&cfg, config_path, true) != 0) {
			rc = 2;
			goto done;
		}
	} else if ((def_config = default_path("XDG_CONFIG_HOME", ".config",
	    "cnied/cnied.conf")) != NULL) {
		if (load_config(&cfg, def_config, false) != 0) {
			free(def_config);
			rc = 2;
			goto done;
		}
	}
	free(def_config);
	while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_FOREGROUND:
			cfg.foreground = true;
			break;
		case OPT_REFCARD:
			refcard = true;
			if (optarg != NULL)
				replace(&cfg.refcard_dir, optarg);
			break;
		case OPT_CONFIG:
			break;
		case OPT_KIOSK:
			cfg.kiosk = true;
			break;
		case OPT_CHECK_CONFIG:
			check_only = true;
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case 'v':
			verbose++;
			break;
		case OPT_VERSION:
			printf("cnied %s\n", CNIE_VERSION);
			rc = 0;
			goto done;
		case OPT_HELP:
			usage(stdout);
			rc = 0;
			goto done;
		default:
			if (opt < OPT_FOREGROUND || apply(&cfg, opt, optarg) != 0) {
				if (opt >= OPT_FOREGROUND)
					fprintf(stderr, "cnied: bad value for an option: %s\n",
					    optarg);
				usage(stderr);
				rc = 2;
				goto done;
			}
		}
	}
	if (optind != argc) {
		usage(stderr);
		rc = 2;
		goto done;
	}
	if (refcard && cfg.refcard_dir == NULL) {
		const char *e = getenv("CNIE_REFCARD_DIR");
		cfg.refcard_dir = e != NULL && e[0] != '\0' ? strdup(e) : default_refcard();
	}
	if (use_syslog)
		cnie_log_use_syslog("cnied");
	if (verbose > 0)
		cnie_log_set_level(verbose > 1 ? CNIE_LOG_DEBUG : CNIE_LOG_INFO);
	/* $CNIE_PINENTRY, else --pinentry or the config file, else "pinentry". */
	{
		char *p = strdup(cnie_pinentry_program(cfg.pinentry));

		if (p == NULL) {
			fprintf(stderr, "cnied: out of memory\n");
			rc = 1;
			goto done;
		}
		free(cfg.pinentry);
		cfg.pinentry = p;
	}
	if (cfg.state_dir == NULL &&
	    (cfg.state_dir = default_path("XDG_STATE_HOME", ".local/state", "cnied")) == NULL) {
		fprintf(stderr, "cnied: no state directory (set HOME or --state-dir)\n");
		rc = 2;
		goto done;
	}
	if (cfg.nlisten == 0) {
		char v4[32], v6[32];
		snprintf(v4, sizeof(v4), "127.0.0.1:%d", CNIED_DEFAULT_PORT);
		snprintf(v6, sizeof(v6), "[::1]:%d", CNIED_DEFAULT_PORT);
		apply(&cfg, OPT_LISTEN, v4);
		apply(&cfg, OPT_LISTEN, v6);
	}
	origins_explicit = cfg.norigins > 0;
	if (cfg.norigins == 0 && !cfg.kiosk) {
		/*
		 * The portal's origins (CMake CNIED_DEFAULT_ORIGINS; the national
		 * portal by default).  Any --allow-origin or allow-origin line
		 * replaces this list rather than adding to it.
		 */
		static const char *const defaults[] = { CNIED_DEFAULT_ORIGINS };

		for (size_t k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++)
			if (defaults[k][0] != '\0')
				apply(&cfg, OPT_ORIGIN, defaults[k]);
	}
	if (cnied_kiosk_check(&cfg, origins_explicit) != 0) {
		rc = 2;
		goto done;
	}
	if (check_only) {
		print_config(&cfg, config_path != NULL ? config_path :
		    "$XDG_CONFIG_HOME/cnied/cnied.conf when present");
		rc = 0;
		goto done;
	}
	if (cfg.norigins == 0)
		fprintf(stderr, "cnied: warning: no --allow-origin: every page is refused\n");
	if (geteuid() == 0)
		fprintf(stderr, "cnied: warning: running as root; run as a user (kiosk: "
		    "the cnied system user)\n");
	/* No core dumps: the process holds PINs for a moment. */
	{
		struct rlimit rl = {0, 0};
		(void)setrlimit(RLIMIT_CORE, &rl);
	}
	umask(077);
	if (mkdir_p(cfg.state_dir, 0700) != 0) {
		fprintf(stderr, "cnied: cannot create %s: %s\n", cfg.state_dir, strerror(errno));
		goto out;
	}
	if (check_state_dir(cfg.state_dir) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/cnied.lock", cfg.state_dir);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "cnied: another cnied is already running with state dir %s\n",
		    cfg.state_dir);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cnied_tls_init(cfg.state_dir, &ssl) != 0) {
		fprintf(stderr, "cnied: cannot set up TLS in %s\n", cfg.state_dir);
		goto out;
	}
	/* The CA's public copy, for the kiosk browser's user (docs/kiosk.md). */
	if (cfg.public_dir != NULL && cnied_public_dir_check(cfg.public_dir) != 0)
		goto out;
	if (cfg.public_dir != NULL &&
	    cnied_public_copy(cfg.state_dir, cfg.public_dir, "ca.pem") != 0) {
		fprintf(stderr, "cnied: cannot write %s/ca.pem: %s\n", cfg.public_dir,
		    strerror(errno));
		goto out;
	}
	if (cfg.kiosk)
		cnie_log_info("kiosk mode: no dialog; consent on the kiosk page, PIN on the "
		    "PIN pad only");
	if (cnied_audit_open(cfg.audit_path) != 0) {
		fprintf(stderr, "cnied: cannot open audit log %s: %s\n", cfg.audit_path,
		    strerror(errno));
		goto out;
	}
	if (evthread_use_pthreads() != 0 || (base = event_base_new()) == NULL)
		goto out;
	nfds = listen_fds(fds, sizeof(fds) / sizeof(fds[0]));
	if ((r = cnied_http_start(base, &cfg, ssl, fds, nfds, ports, &nports)) != 0) {
		if (r == -1)
			fprintf(stderr, "cnied: cannot start the HTTPS listener\n");
		goto out;
	}
	cnied_api_init(&cfg);
	/* Reader events go to the front's event streams (http.c). */
	if (cnied_events_start(base, &cfg, cnied_http_broadcast, NULL) != 0 ||
	    cnied_worker_start(base, &cfg) != 0) {
		fprintf(stderr, "cnied: cannot start threads\n");
		goto out;
	}
	/* Port file: written after the listeners exist, so clients can connect. */
	snprintf(path, sizeof(path), "%s/cnied.port", cfg.state_dir);
	if (write_port_file(cfg.state_dir, path) != 0)
		cnie_log_warn("cannot write %s: %s", path, strerror(errno));
	else if (cfg.public_dir != NULL &&
	    cnied_public_copy(cfg.state_dir, cfg.public_dir, "cnied.port") != 0)
		cnie_log_warn("cannot copy cnied.port to %s: %s", cfg.public_dir, strerror(errno));
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) != 0 ||
	    evsignal_add(sigterm, NULL) != 0)
		goto out;
	tls_dir = cfg.state_dir;
	public_dir = cfg.public_dir;
	tls_ctx = ssl;
	{
		struct timeval half_day = {12 * 3600, 0};
		if ((tls_timer = event_new(base, -1, EV_PERSIST, on_tls_check, NULL)) == NULL ||
		    event_add(tls_timer, &half_day) != 0)
			goto out;
	}
	if (!cfg.foreground && nfds == 0 && !use_syslog)
		cnie_log_info("running (use --foreground under a supervisor)");
	fprintf(stderr, "cnied %s listening on port %u (%s)\n", CNIE_VERSION, ports[0],
	    cfg.refcard_dir != NULL ? "reference card" : "PC/SC");
	event_base_dispatch(base);
	/* A pinentry that ignored SIGTERM must not hold the worker's join. */
	cnied_pinentry_abort(CNIED_ERR_SHUTDOWN);
	cnied_pinentry_kill();
	rc = 0;
	(void)unlink(path);
	if (cfg.public_dir != NULL) {
		snprintf(path, sizeof(path), "%s/cnied.port", cfg.public_dir);
		(void)unlink(path);
	}
out:
	cnied_worker_stop();
	cnied_events_stop();
	cnied_http_stop();
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (tls_timer != NULL)
		event_free(tls_timer);
	if (base != NULL)
		event_base_free(base);
	SSL_CTX_free(ssl);
	cnied_audit_close();
	if (lock_fd >= 0)
		close(lock_fd);
done:
	for (i = 0; i < cfg.nlisten; i++)
		free(cfg.listen[i]);
	for (i = 0; i < cfg.norigins; i++)
		free(cfg.origins[i]);
	free(cfg.pinentry);
	free(cfg.state_dir);
	free(cfg.audit_path);
	free(cfg.refcard_dir);
	free(cfg.public_dir);
	return rc;
}
