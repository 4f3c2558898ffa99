/*
 * The user's NSS databases (browser profiles), shared by `cnie-tool
 * register|unregister`, `bridge trust` and `doctor` (nssdb.c).
 *
 * Where browsers keep them on Debian and its derivatives:
 *   ~/.pki/nssdb                                   Chromium, Google Chrome
 *   ~/.mozilla/firefox/PROFILE                     Firefox, Firefox ESR
 *   ~/.config/mozilla/firefox/PROFILE              Firefox (XDG layout, newer)
 *   ~/snap/firefox/common/.mozilla/firefox/PROFILE Firefox snap (confined)
 *   ~/.var/app/org.mozilla.firefox/{.mozilla,config/mozilla}/firefox/PROFILE
 *                                                  Firefox flatpak (sandboxed)
 */
#ifndef CNIE_TOOL_NSSDB_H
#define CNIE_TOOL_NSSDB_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	CNIE_TOOL_NSSDB_CHROMIUM,
	CNIE_TOOL_NSSDB_FIREFOX,
	CNIE_TOOL_NSSDB_FIREFOX_SNAP,
	CNIE_TOOL_NSSDB_FIREFOX_FLATPAK,
} cnie_tool_nssdb_kind;

typedef struct cnie_tool_nssdb {
	char dir[1024];		   /* the database directory (cert9.db, pkcs11.txt) */
	char shown[1024];	   /* dir with $HOME written as ~ (messages) */
	cnie_tool_nssdb_kind kind;
} cnie_tool_nssdb;

/* At most this many databases are looked at (profiles beyond are ignored). */
#define CNIE_TOOL_NSSDB_MAX 64

/*
 * Fills out[0..max) with the NSS databases under $HOME, in a stable order
 * (Chromium first, then each location's profiles by name).  A Firefox
 * profile is a directory holding cert9.db, prefs.js or times.json.  With
 * create_chromium, ~/.pki/nssdb is created (certutil -N) when missing.
 * Returns the count; 0 when HOME is unset.
 */
size_t cnie_tool_nssdb_find(cnie_tool_nssdb *out, size_t max, bool create_chromium);

/* "Chromium/Chrome", "Firefox", "Firefox (snap)", "Firefox (flatpak)". */
const char *cnie_tool_nssdb_kind_name(cnie_tool_nssdb_kind k);

/*
 * Why a module on the host cannot load in this database's browser (snap
 * and flatpak sandboxes), or NULL when it can.
 */
const char *cnie_tool_nssdb_sandbox_reason(cnie_tool_nssdb_kind k);

/*
 * Reads the database's module list (pkcs11.txt, never loading a module):
 * 1 when a module whose library is cnie-pkcs11.so is listed (its library
 * path into lib, its name into name), 2 when only p11-kit-proxy is (which
 * loads p11-kit's modules, cnie among them), 0 when neither, -1 when there
 * is no list.  lib and name may be NULL.
 */
int cnie_tool_nssdb_module(const cnie_tool_nssdb *db, char *lib, size_t lib_len, char *name,
    size_t name_len);

/*
 * Makes sure the database exists (certutil -N with an empty password, as
 * the browser does on first start).  0 or -1.
 */
int cnie_tool_nssdb_create(const cnie_tool_nssdb *db);

/*
 * Runs argv (no shell, stdin and stderr on /dev/null), its standard output
 * into out (at most max bytes kept, NUL-terminated when out_len is NULL
 * and max > 0).  Returns the exit status, or -1 (not started, killed).
 */
int cnie_tool_run(const char *const argv[], char *out, size_t max, size_t *out_len);

/*
 * The installed PKCS#11 module, by absolute path: opt when given (must
 * exist), else beside this program's installation (BINDIR/../LIBDIR/
 * pkcs11), else in p11-kit's module directory.  0, or -1 when none exists.
 */
int cnie_tool_module_path(const char *opt, char *out, size_t len);

#endif
