/*
 * The user's NSS databases (nssdb.h): discovery, the module list of a
 * database, running the NSS tools (certutil, modutil) without a shell.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cnie_tool.h"
#include "nssdb.h"

extern char **environ;

/*
 * Set by cmake/CnieInstall.cmake: the module relative to this program's
 * directory once installed, and p11-kit's module directory.
 */
#ifndef CNIE_TOOL_MODULE_REL
#define CNIE_TOOL_MODULE_REL "../lib/pkcs11/cnie-pkcs11.so"
#endif
#ifndef CNIE_TOOL_P11_MODULE_DIR
#define CNIE_TOOL_P11_MODULE_DIR "/usr/lib/pkcs11"
#endif

/* pkcs11.txt holds a few entries: anything longer is not NSS's. */
#define PKCS11_TXT_MAX_LINES 4096

int
cnie_tool_run(const char *const argv[], char *out, size_t max, size_t *out_len)
{
	/* posix_spawnp's argv is char *const[]: it does not write to the strings. */
	union {
		const char *const *c;
		char *const *m;
	} av = { argv };
	posix_spawn_file_actions_t fa;
	int p[2], st;
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	if (pipe(p) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, av.m, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	for (;;) {
		char buf[4096];

		r = read(p[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* Keep room for the terminating NUL; drop what does not fit. */
		if (out != NULL && max > 0 && n < max - 1) {
			size_t k = (size_t)r < max - 1 - n ? (size_t)r : max - 1 - n;
			memcpy(out + n, buf, k);
			n += k;
		}
	}
	close(p[0]);
	if (out != NULL && max > 0)
		out[n] = '\0';
	if (out_len != NULL)
		*out_len = n;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *
cnie_tool_nssdb_kind_name(cnie_tool_nssdb_kind k)
{
	switch (k) {
	case CNIE_TOOL_NSSDB_CHROMIUM:
		return "Chromium/Chrome";
	case CNIE_TOOL_NSSDB_FIREFOX:
		return "Firefox";
	case CNIE_TOOL_NSSDB_FIREFOX_SNAP:
		return "Firefox (snap)";
	case CNIE_TOOL_NSSDB_FIREFOX_FLATPAK:
		return "Firefox (flatpak)";
	}
	return "?";
}

const char *
cnie_tool_nssdb_sandbox_reason(cnie_tool_nssdb_kind k)
{
	/*
	 * A module named by path is dlopen()ed inside the browser's sandbox,
	 * whose /usr is the snap's or flatpak runtime's: the host's module and
	 * the libraries it links (pcsc-lite, OpenSSL, OpenPACE, jansson) are
	 * not there, and pcscd's socket is not reachable without the
	 * sandbox's own smart-card interface.
	 */
	switch (k) {
	case CNIE_TOOL_NSSDB_FIREFOX_SNAP:
		/* English (N_): translated where it is printed for a person. */
		return N_("the snap's confinement has its own /usr: the host's cnie-pkcs11.so and "
		       "the libraries it needs cannot load there; use Debian's firefox-esr package");
	case CNIE_TOOL_NSSDB_FIREFOX_FLATPAK:
		return N_("the flatpak sandbox has its own /usr: the host's cnie-pkcs11.so and the "
		       "libraries it needs cannot load there; use Debian's firefox-esr package");
	default:
		return NULL;
	}
}

static void
shown_path(const char *home, const char *dir, char *out, size_t len)
{
	size_t h = strlen(home);

	if (strncmp(dir, home, h) == 0 && dir[h] == '/')
		snprintf(out, len, "~%s", dir + h);
	else
		snprintf(out, len, "%s", dir);
}

static bool
is_file(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return false;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The profiles under base (one Firefox location), sorted by name. */
static size_t
add_profiles(const char *home, const char *base, cnie_tool_nssdb_kind kind,
    cnie_tool_nssdb *out, size_t n, size_t max)
{
	char *names[CNIE_TOOL_NSSDB_MAX];
	size_t k = 0, i;
	struct dirent *e;
	DIR *d;

	if ((d = opendir(base)) == NULL)
		return n;
	while ((e = readdir(d)) != NULL && k < CNIE_TOOL_NSSDB_MAX) {
		char dir[1024];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name) >= (int)sizeof(dir))
			continue;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!is_file(dir, "cert9.db") && !is_file(dir, "prefs.js") &&
		    !is_file(dir, "times.json"))
			continue;
		if ((names[k] = strdup(e->d_name)) != NULL)
			k++;
	}
	closedir(d);
	qsort(names, k, sizeof(names[0]), cmp_names);
	for (i = 0; i < k; i++) {
		if (n < max && snprintf(out[n].dir, sizeof(out[n].dir), "%s/%s", base,
		    names[i]) < (int)sizeof(out[n].dir)) {
			shown_path(home, out[n].dir, out[n].shown, sizeof(out[n].shown));
			out[n].kind = kind;
			n++;
		}
		free(names[i]);
	}
	return n;
}

int
cnie_tool_nssdb_create(const cnie_tool_nssdb *db)
{
	char dbarg[1100];
	const char *argv[] = { "certutil", "-N", "--empty-password", "-d", dbarg, NULL };

	if (is_file(db->dir, "cert9.db"))
		return 0;
	snprintf(dbarg, sizeof(dbarg), "sql:%s", db->dir);
	return cnie_tool_run(argv, NULL, 0, NULL) == 0 && is_file(db->dir, "cert9.db") ? 0 : -1;
}

size_t
cnie_tool_nssdb_find(cnie_tool_nssdb *out, size_t max, bool create_chromium)
{
	static const struct {
		const char *rel;
		cnie_tool_nssdb_kind kind;
	} firefox[] = {
		{ ".mozilla/firefox", CNIE_TOOL_NSSDB_FIREFOX },
		{ ".config/mozilla/firefox", CNIE_TOOL_NSSDB_FIREFOX },
		{ "snap/firefox/common/.mozilla/firefox", CNIE_TOOL_NSSDB_FIREFOX_SNAP },
		{ ".var/app/org.mozilla.firefox/.mozilla/firefox", CNIE_TOOL_NSSDB_FIREFOX_FLATPAK },
		{ ".var/app/org.mozilla.firefox/config/mozilla/firefox",
		    CNIE_TOOL_NSSDB_FIREFOX_FLATPAK },
	};
	const char *home = getenv("HOME");
	char base[1024];
	size_t n = 0;
	struct stat st;

	if (home == NULL || home[0] != '/' || max == 0)
		return 0;
	snprintf(out[0].dir, sizeof(out[0].dir), "%s/.pki/nssdb", home);
	shown_path(home, out[0].dir, out[0].shown, sizeof(out[0].shown));
	out[0].kind = CNIE_TOOL_NSSDB_CHROMIUM;
	if (stat(out[0].dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		n++;
	} else if (create_chromium) {
		snprintf(base, sizeof(base), "%s/.pki", home);
		(void)mkdir(base, 0700);
		if (mkdir(out[0].dir, 0700) == 0 && cnie_tool_nssdb_create(&out[0]) == 0)
			n++;
	}
	for (size_t i = 0; i < sizeof(firefox) / sizeof(firefox[0]); i++) {
		if (snprintf(base, sizeof(base), "%s/%s", home, firefox[i].rel) >= (int)sizeof(base))
			continue;
		n = add_profiles(home, base, firefox[i].kind, out, n, max);
	}
	return n;
}

static bool
is_cnie_library(const char *lib)
{
	const char *b = strrchr(lib, '/');

	b = b != NULL ? b + 1 : lib;
	return strcmp(b, "cnie-pkcs11.so") == 0;
}

int
cnie_tool_nssdb_module(const cnie_tool_nssdb *db, char *lib, size_t lib_len, char *name,
    size_t name_len)
{
	char path[PATH_MAX], line[4096], cur_lib[4096] = "", cur_name[256] = "";
	int found = 0, lines = 0;
	bool more = true;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/pkcs11.txt", db->dir) >= (int)sizeof(path))
		return -1;
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	/*
	 * NSS's sql: module list: entries of "key=value" lines ("library=",
	 * "name=", ...) separated by blank lines.
	 */
	while (more && found != 1) {
		more = fgets(line, sizeof(line), f) != NULL && lines++ < PKCS11_TXT_MAX_LINES;
		if (more) {
			line[strcspn(line, "\r\n")] = '\0';
			/* A name longer than 255 bytes is not ours: cut, never overrun. */
			if (strncmp(line, "library=", 8) == 0 &&
			    snprintf(cur_lib, sizeof(cur_lib), "%s", line + 8) >= (int)sizeof(cur_lib))
				cur_lib[0] = '\0';
			else if (strncmp(line, "name=", 5) == 0 &&
			    snprintf(cur_name, sizeof(cur_name), "%s", line + 5) >= (int)sizeof(cur_name))
				cur_name[sizeof(cur_name) - 1] = '\0';
			if (line[0] != '\0')
				continue;
		}
		/* End of an entry. */
		if (cur_lib[0] != '\0' && is_cnie_library(cur_lib)) {
			if (lib != NULL)
				snprintf(lib, lib_len, "%s", cur_lib);
			if (name != NULL)
				snprintf(name, name_len, "%s", cur_name);
			found = 1;
		} else if (strstr(cur_lib, "p11-kit-proxy") != NULL) {
			found = 2;
		}
		cur_lib[0] = cur_name[0] = '\0';
	}
	fclose(f);
	return found;
}

int
cnie_tool_module_path(const char *opt, char *out, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64], *slash, *real;
	ssize_t n;

	if (opt != NULL) {
		if ((real = realpath(opt, NULL)) == NULL)
			return -1;
		snprintf(out, len, "%s", real);
		free(real);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/%s", exe, CNIE_TOOL_MODULE_REL);
			if ((real = realpath(cand, NULL)) != NULL) {
				snprintf(out, len, "%s", real);
				free(real);
				return 0;
			}
		}
	}
	snprintf(cand, sizeof(cand), "%s/cnie-pkcs11.so", CNIE_TOOL_P11_MODULE_DIR);
	if ((real = realpath(cand, NULL)) != NULL) {
		snprintf(out, len, "%s", real);
		free(real);
		return 0;
	}
	return -1;
}
