/*
 * Writes a card directory (docs/card-dir.md).  The card is written into a
 * fresh directory beside the target and renamed into place, so that a
 * reader (the emulator, a test) never sees half a card.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include <cnie/error.h>

#include "perso.h"

#define PATH_MAXLEN 4096

static int
fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static int
join(char *out, const char *a, const char *b)
{
	if ((size_t)snprintf(out, PATH_MAXLEN, "%s/%s", a, b) >= PATH_MAXLEN)
		return CNIE_ERR_TOO_LONG;
	return 0;
}

/* Writes p[0..n) to path with mode, refusing to follow or reuse a file. */
static int
write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
	const uint8_t *q = p;
	ssize_t w;
	int fd, r = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode)) < 0)
		return CNIE_ERR_IO;
	while (n > 0) {
		if ((w = write(fd, q, n)) < 0) {
			if (errno == EINTR)
				continue;
			r = CNIE_ERR_IO;
			break;
		}
		q += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0)
		r = CNIE_ERR_IO;
	return r;
}

/* A private key as unencrypted PKCS#8 PEM, mode 0600. */
static int
write_key(const char *path, EVP_PKEY *key)
{
	BIO *bio = NULL;
	char *p;
	long n;
	int r = CNIE_ERR_CRYPTO;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return CNIE_ERR_NOMEM;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0)
		r = write_bytes(path, p, (size_t)n, 0600);
	BIO_free(bio);
	return r;
}

static json_t *
str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
key_entry(const char *name, const char *ref, const char *file, const char *app,
    const char *const *use, size_t nuse, const char *pin, int always_pin)
{
	json_t *k = json_object();

	json_object_set_new(k, "name", json_string(name));
	if (ref != NULL)
		json_object_set_new(k, "ref", json_string(ref));
	json_object_set_new(k, "file", json_string(file));
	json_object_set_new(k, "app", json_string(app));
	json_object_set_new(k, "use", str_array(use, nuse));
	if (pin != NULL) {
		json_object_set_new(k, "pin", json_string(pin));
		json_object_set_new(k, "always_pin", json_boolean(always_pin));
	}
	return k;
}

int
perso_card_json(const perso_card *card, char **out)
{
	static const char *const ifaces[] = { "contact", "contactless" };
	static const char *const auth_use[] = { "sign", "internal-authenticate" };
	static const char *const sign_use[] = { "sign" };
	static const char *const aa_use[] = { "active-authentication" };
	static const char *const ca_use[] = { "chip-authentication" };
	const perso_desc *d = &card->desc;
	json_t *root = NULL, *o, *a, *e;
	size_t i;
	int r = CNIE_ERR_NOMEM;

	*out = NULL;
	if ((root = json_object()) == NULL)
		goto out;
	json_object_set_new(root, "format", json_integer(1));
	json_object_set_new(root, "description", json_string(d->description));
	json_object_set_new(root, "serial", json_string(d->serial));
	o = json_object();
	json_object_set_new(o, "contact", json_string(card->atr_contact));
	json_object_set_new(o, "contactless", json_string(card->atr_contactless));
	json_object_set_new(root, "atr", o);
	json_object_set_new(root, "interfaces", str_array(ifaces, 2));

	a = json_array();
	e = json_object();
	json_object_set_new(e, "name", json_string("pki"));
	json_object_set_new(e, "aid", json_string("F0434E4945504B49"));
	json_object_set_new(e, "fid", json_string("A001"));
	json_object_set_new(e, "contactless", json_string("pace"));
	json_array_append_new(a, e);
	e = json_object();
	json_object_set_new(e, "name", json_string("icao"));
	json_object_set_new(e, "aid", json_string("A0000002471001"));
	json_object_set_new(e, "fid", json_string("A002"));
	json_object_set_new(e, "contactless", json_string("pace"));
	json_object_set_new(e, "contact", json_string("pace-or-bac"));
	json_array_append_new(a, e);
	json_object_set_new(root, "applications", a);

	a = json_array();
	for (i = 0; i < card->nfiles; i++) {
		e = json_object();
		json_object_set_new(e, "path", json_string(card->files[i].path));
		json_object_set_new(e, "read", json_string(card->files[i].read));
		if (card->files[i].sfi != 0)
			json_object_set_new(e, "sfi", json_integer(card->files[i].sfi));
		json_array_append_new(a, e);
	}
	json_object_set_new(root, "files", a);

	a = json_array();
	e = json_object();
	json_object_set_new(e, "name", json_string("pin"));
	json_object_set_new(e, "ref", json_string("81"));
	json_object_set_new(e, "value", json_string(d->pin));
	json_object_set_new(e, "min", json_integer(4));
	json_object_set_new(e, "max", json_integer(12));
	json_object_set_new(e, "tries", json_integer(3));
	json_object_set_new(e, "puk", json_string("puk"));
	json_array_append_new(a, e);
	e = json_object();
	json_object_set_new(e, "name", json_string("puk"));
	json_object_set_new(e, "ref", json_string("82"));
	json_object_set_new(e, "value", json_string(d->puk));
	json_object_set_new(e, "min", json_integer(8));
	json_object_set_new(e, "max", json_integer(8));
	json_object_set_new(e, "tries", json_integer(10));
	json_array_append_new(a, e);
	json_object_set_new(root, "pins", a);

	a = json_array();
	json_array_append_new(a, key_entry("auth", "81", "keys/auth.pem", "pki", auth_use, 2,
	    "pin", 0));
	json_array_append_new(a, key_entry("sign", "82", "keys/sign.pem", "pki", sign_use, 1,
	    "pin", 1));
	json_array_append_new(a, key_entry("aa", NULL, "keys/aa.pem", "icao", aa_use, 1,
	    NULL, 0));
	json_array_append_new(a, key_entry("ca", "01", "keys/chip.pem", "icao", ca_use, 1,
	    NULL, 0));
	json_object_set_new(root, "keys", a);

	o = json_object();
	json_object_set_new(o, "can", json_string(d->can));
	json_object_set_new(o, "mrz", json_string(card->mrz));
	json_object_set_new(root, "secrets", o);
	o = json_object();
	json_object_set_new(o, "oid", json_string("04007F00070202040202"));
	json_object_set_new(o, "parameter_id", json_integer(13));
	json_object_set_new(root, "pace", o);
	json_object_set_new(root, "blocked", json_false());

	if ((*out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
		r = 0;
out:
	json_decref(root);
	return r;
}

static int
state_json(const perso_desc *d, char **out)
{
	json_t *root, *pins, *p;

	*out = NULL;
	if ((root = json_object()) == NULL)
		return CNIE_ERR_NOMEM;
	json_object_set_new(root, "format", json_integer(1));
	pins = json_object();
	p = json_object();
	json_object_set_new(p, "tries", json_integer(d->pin_tries_left));
	json_object_set_new(pins, "pin", p);
	p = json_object();
	json_object_set_new(p, "tries", json_integer(d->puk_tries_left));
	json_object_set_new(pins, "puk", p);
	json_object_set_new(root, "pins", pins);
	*out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return *out == NULL ? CNIE_ERR_NOMEM : 0;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

/* Removes a tree we created ourselves (no symlink is followed). */
static void
rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char keys_readme[] =
    "TEST KEYS ONLY.\n\n"
    "These private keys belong to a test card made by cnie-perso from a seed\n"
    "that is public (tests/cards/NAME.json): anyone can recompute them.  Never\n"
    "trust them, never use them for anything but tests.\n";

/* JSON text plus a final newline; frees text. */
static int
write_json(const char *path, char *text)
{
	size_t n = strlen(text);
	char *t;
	int r;

	if ((t = malloc(n + 2)) == NULL) {
		free(text);
		return CNIE_ERR_NOMEM;
	}
	memcpy(t, text, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	/* card.json holds the test PIN, PUK and CAN: owner-only like the keys. */
	r = write_bytes(path, t, n + 1, 0600);
	cnie_freezero(t, n + 2);
	cnie_freezero(text, n);
	return r;
}

static int
write_card(const perso_card *card, const char *dir, char *err, size_t errlen)
{
	const struct {
		const char *file;
		EVP_PKEY *key;
	} keys[] = {
		{ "auth.pem", card->auth_key }, { "sign.pem", card->sign_key },
		{ "aa.pem", card->aa_key }, { "chip.pem", card->chip_key },
	};
	char path[PATH_MAXLEN], sub[PATH_MAXLEN], *text = NULL;
	const perso_file *f;
	size_t i;
	int r;

	if ((r = join(sub, dir, "files")) != 0 || mkdir(sub, 0755) != 0)
		return fail(err, errlen, r ? r : CNIE_ERR_IO, "%s: cannot create", sub);
	for (i = 0; i < card->nfiles; i++) {
		f = &card->files[i];
		if ((r = join(path, sub, f->path)) != 0 ||
		    (r = write_bytes(path, cnie_buf_ptr(f->data), cnie_buf_len(f->data),
		    0644)) != 0)
			return fail(err, errlen, r, "%s: cannot write", path);
	}
	if ((r = join(sub, dir, "keys")) != 0 || mkdir(sub, 0700) != 0)
		return fail(err, errlen, r ? r : CNIE_ERR_IO, "%s: cannot create", sub);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((r = join(path, sub, keys[i].file)) != 0 ||
		    (r = write_key(path, keys[i].key)) != 0)
			return fail(err, errlen, r, "%s: cannot write", path);
	}
	if ((r = join(path, sub, "README")) != 0 ||
	    (r = write_bytes(path, keys_readme, strlen(keys_readme), 0644)) != 0)
		return fail(err, errlen, r, "%s: cannot write", path);

	if ((r = perso_card_json(card, &text)) != 0)
		return fail(err, errlen, r, "card.json: %s", cnie_strerror(r));
	if ((r = join(path, dir, "card.json")) != 0 || (r = write_json(path, text)) != 0)
		return fail(err, errlen, r, "%s: cannot write", path);
	/* No state.json means counters at their maximum (docs/card-dir.md). */
	if (card->desc.pin_tries_left != 3 || card->desc.puk_tries_left != 10) {
		if ((r = state_json(&card->desc, &text)) != 0)
			return fail(err, errlen, r, "state.json: %s", cnie_strerror(r));
		if ((r = join(path, dir, "state.json")) != 0 ||
		    (r = write_json(path, text)) != 0)
			return fail(err, errlen, r, "%s: cannot write", path);
	}
	if ((r = join(sub, dir, "pki")) != 0 || mkdir(sub, 0755) != 0)
		return fail(err, errlen, r ? r : CNIE_ERR_IO, "%s: cannot create", sub);
	if ((r = perso_pki_write(&card->pki, sub)) != 0)
		return fail(err, errlen, r, "%s: cannot write the PKI", sub);
	return 0;
}

static bool
dir_empty(const char *path)
{
	struct dirent *e;
	bool empty = true;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return false;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* dir/.name.XXXXXX: a fresh name beside the target, on the same file system. */
static int
sibling(const char *target, const char *what, char *out)
{
	const char *slash = strrchr(target, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, PATH_MAXLEN, ".%s.%s.XXXXXX", target, what);
	else
		n = snprintf(out, PATH_MAXLEN, "%.*s/.%s.%s.XXXXXX", (int)(slash - target),
		    target, slash + 1, what);
	return n < 0 || n >= PATH_MAXLEN ? CNIE_ERR_TOO_LONG : 0;
}

int
perso_card_write(const perso_card *card, const char *out_dir, const char *pki_dir,
    bool force, char *err, size_t errlen)
{
	char tmp[PATH_MAXLEN], old[PATH_MAXLEN], check[PATH_MAXLEN], dir[PATH_MAXLEN];
	struct stat st;
	bool have_tmp = false, have_old = false;
	size_t n;
	int r;

	snprintf(dir, sizeof(dir), "%s", out_dir);
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	if (n == 0 || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0 || strcmp(dir, "..") == 0)
		return fail(err, errlen, CNIE_ERR_INVALID_ARG, "--out: not a usable directory");
	/* An empty directory (build tools create the output's folder) is
	 * replaced freely; a card directory only with force; nothing else. */
	if (lstat(dir, &st) == 0 && !(S_ISDIR(st.st_mode) && dir_empty(dir))) {
		if (!S_ISDIR(st.st_mode) || (r = join(check, dir, "card.json")) != 0 ||
		    lstat(check, &st) != 0)
			return fail(err, errlen, CNIE_ERR_STATE,
			    "%s: exists and is not a card directory: not replaced", dir);
		if (!force)
			return fail(err, errlen, CNIE_ERR_STATE,
			    "%s: exists (use --force to replace it)", dir);
	}
	if ((r = sibling(dir, "new", tmp)) != 0)
		return fail(err, errlen, r, "--out: path too long");
	if (mkdtemp(tmp) == NULL)
		return fail(err, errlen, CNIE_ERR_IO, "%s: cannot create a directory beside it: %s",
		    dir, strerror(errno));
	have_tmp = true;
	if ((r = write_card(card, tmp, err, errlen)) != 0)
		goto out;
	if (lstat(dir, &st) == 0) {
		if ((r = sibling(dir, "old", old)) != 0 || mkdtemp(old) == NULL) {
			r = fail(err, errlen, r ? r : CNIE_ERR_IO, "%s: cannot set aside", dir);
			goto out;
		}
		have_old = true;
		/* rename(2) replaces the empty directory old. */
		if (rename(dir, old) != 0) {
			rmdir(old);
			have_old = false;
			r = fail(err, errlen, CNIE_ERR_IO, "%s: cannot set aside: %s", dir,
			    strerror(errno));
			goto out;
		}
	}
	if (rename(tmp, dir) != 0) {
		r = fail(err, errlen, CNIE_ERR_IO, "%s: cannot rename into place: %s", dir,
		    strerror(errno));
		if (have_old && rename(old, dir) == 0)
			have_old = false;
		goto out;
	}
	have_tmp = false;
	if (pki_dir != NULL) {
		if (mkdir(pki_dir, 0755) != 0 && errno != EEXIST) {
			r = fail(err, errlen, CNIE_ERR_IO, "%s: cannot create: %s", pki_dir,
			    strerror(errno));
			goto out;
		}
		if ((r = perso_pki_write(&card->pki, pki_dir)) != 0) {
			r = fail(err, errlen, r, "%s: cannot write the PKI", pki_dir);
			goto out;
		}
	}
	r = 0;
out:
	if (have_tmp)
		rm_tree(tmp);
	if (have_old)
		rm_tree(old);
	return r;
}
