/*
 * On-disk cache of read-only card data (src/libcnie/include/cnie/cache.h): one file per
 * entry in $XDG_CACHE_HOME/cnie, each with a header that lets a corrupt or
 * truncated file be told from a good one.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cnie/cache.h>
#include <cnie/error.h>
#include <cnie/log.h>

#define CACHE_MAGIC "CNC1"
#define CACHE_VERSION 1
#define CACHE_HDR_LEN (4 + 4 + 4 + 32)
#define CACHE_PATH_MAX 4096

struct cnie_cache {
	char dir[CACHE_PATH_MAX];
	char key[2 * (CNIE_CACHE_MAX_SERIAL + CNIE_CACHE_CHECK_LEN) + 2];
};

int
cnie_cache_enabled(void)
{
	const char *v = getenv("CNIE_NO_CACHE");

	return v == NULL || v[0] == '\0' || strcmp(v, "0") == 0;
}

static void
hex(char *dst, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[p[i] >> 4];
		dst[2 * i + 1] = digits[p[i] & 0x0F];
	}
	dst[2 * n] = '\0';
}

/* Creates dir (0700) if missing; an existing one must be ours and private. */
static int
private_dir(const char *dir, bool must_be_private)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return CNIE_ERR_IO;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return CNIE_ERR_PERMISSION;
	if (must_be_private && (st.st_mode & 077) != 0)
		return CNIE_ERR_PERMISSION;
	return 0;
}

int
cnie_cache_open(const uint8_t *serial, size_t serial_len, const uint8_t *check,
    size_t check_len, cnie_cache **out)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home;
	char parent[CACHE_PATH_MAX];
	cnie_cache *c = NULL;
	int n, r;

	if (out != NULL)
		*out = NULL;
	if (serial == NULL || serial_len == 0 || serial_len > CNIE_CACHE_MAX_SERIAL ||
	    check == NULL || check_len != CNIE_CACHE_CHECK_LEN || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (!cnie_cache_enabled())
		return CNIE_ERR_UNSUPPORTED;
	/* XDG Base Directory: a relative $XDG_CACHE_HOME is invalid, ignore it. */
	if (base != NULL && base[0] == '/')
		n = snprintf(parent, sizeof(parent), "%s", base);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/')
		n = snprintf(parent, sizeof(parent), "%s/.cache", home);
	else
		return CNIE_ERR_UNSUPPORTED;
	if (n < 0 || (size_t)n >= sizeof(parent))
		return CNIE_ERR_UNSUPPORTED;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CNIE_ERR_NOMEM;
	n = snprintf(c->dir, sizeof(c->dir), "%s/cnie", parent);
	if (n < 0 || (size_t)n >= sizeof(c->dir) - CNIE_CACHE_MAX_NAME - sizeof(c->key) - 16) {
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = private_dir(parent, false)) != 0 || (r = private_dir(c->dir, true)) != 0) {
		cnie_log_info("cache disabled: no private cache directory");
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	hex(c->key, serial, serial_len);
	c->key[2 * serial_len] = '-';
	hex(c->key + 2 * serial_len + 1, check, check_len);
	*out = c;
	c = NULL;
out:
	free(c);
	return r;
}

void
cnie_cache_free(cnie_cache **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free(*cp);
	*cp = NULL;
}

static bool
valid_name(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strnlen(name, CNIE_CACHE_MAX_NAME + 1)) == 0 ||
	    n > CNIE_CACHE_MAX_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-'))
			return false;
	return true;
}

int
cnie_cache_path(const cnie_cache *c, const char *name, char *out, size_t out_len)
{
	int n;

	if (c == NULL || !valid_name(name) || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	n = snprintf(out, out_len, "%s/%s-%s", c->dir, c->key, name);
	if (n < 0 || (size_t)n >= out_len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	return 0;
}

static int
sha256(const uint8_t *p, size_t n, uint8_t md[32])
{
	unsigned int l = 0;

	if (EVP_Digest(p, n, md, &l, EVP_sha256(), NULL) != 1 || l != 32)
		return CNIE_ERR_CRYPTO;
	return 0;
}

/* Checks the header and digest of a whole entry file (untrusted bytes). */
static int
check_entry(const uint8_t *p, size_t n, const uint8_t **body, size_t *body_len)
{
	uint8_t want[32], md[32];
	const uint8_t *magic;
	uint8_t ver, pad[3];
	uint32_t len;
	cnie_cur cur;
	int r;

	cnie_cur_init(&cur, p, n);
	cnie_cur_take(&cur, 4, &magic);
	cnie_cur_u8(&cur, &ver);
	cnie_cur_copy(&cur, pad, sizeof(pad));
	cnie_cur_u32be(&cur, &len);
	cnie_cur_copy(&cur, want, sizeof(want));
	if (cur.err != 0)
		return CNIE_ERR_TRUNCATED;
	if (memcmp(magic, CACHE_MAGIC, 4) != 0 || ver != CACHE_VERSION ||
	    pad[0] != 0 || pad[1] != 0 || pad[2] != 0 || len > CNIE_CACHE_MAX_ENTRY)
		return CNIE_ERR_ENCODING;
	if (cnie_cur_left(&cur) != len)
		return CNIE_ERR_TRUNCATED;
	if ((r = cnie_cur_take(&cur, len, body)) != 0)
		return r;
	if ((r = sha256(*body, len, md)) != 0)
		return r;
	if (CRYPTO_memcmp(md, want, sizeof(md)) != 0)
		return CNIE_ERR_ENCODING;
	*body_len = len;
	return 0;
}

int
cnie_cache_get(cnie_cache *c, const char *name, cnie_buf *out)
{
	char path[CACHE_PATH_MAX];
	uint8_t *raw = NULL;
	const uint8_t *body;
	size_t got = 0, body_len, cap = CACHE_HDR_LEN + CNIE_CACHE_MAX_ENTRY;
	struct stat st;
	ssize_t k = 0;
	int fd = -1, r;

	if (c == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_cache_path(c, name, path, sizeof(path))) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return CNIE_ERR_NOT_FOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size < 0 || (size_t)st.st_size > cap) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	if ((raw = malloc((size_t)st.st_size + 1)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	/* One byte more than the size: a file growing under us is corrupt too. */
	while (got <= (size_t)st.st_size) {
		k = read(fd, raw + got, (size_t)st.st_size + 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (k < 0 || got != (size_t)st.st_size) {
		r = CNIE_ERR_IO;
		goto out;
	}
	if ((r = check_entry(raw, got, &body, &body_len)) != 0)
		goto out;
	r = cnie_buf_put(out, body, body_len);
out:
	if (fd >= 0)
		close(fd);
	if (raw != NULL)
		cnie_freezero(raw, (size_t)st.st_size + 1);
	if (r == CNIE_ERR_ENCODING || r == CNIE_ERR_TRUNCATED || r == CNIE_ERR_IO) {
		/* A bad entry is removed: the caller reads the card and rewrites it. */
		cnie_log_info("cache: bad entry %s removed", name);
		(void)unlink(path);
		r = CNIE_ERR_NOT_FOUND;
	}
	return r;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return CNIE_ERR_IO;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
cnie_cache_put(cnie_cache *c, const char *name, const uint8_t *p, size_t n)
{
	char path[CACHE_PATH_MAX], tmp[CACHE_PATH_MAX + 16];
	uint8_t hdr[CACHE_HDR_LEN];
	int fd = -1, r, l;

	if (c == NULL || (p == NULL && n > 0))
		return CNIE_ERR_INVALID_ARG;
	if (n > CNIE_CACHE_MAX_ENTRY)
		return CNIE_ERR_TOO_LONG;
	if ((r = cnie_cache_path(c, name, path, sizeof(path))) != 0)
		return r;
	l = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (l < 0 || (size_t)l >= sizeof(tmp))
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(hdr, CACHE_MAGIC, 4);
	hdr[4] = CACHE_VERSION;
	hdr[5] = hdr[6] = hdr[7] = 0;
	hdr[8] = (uint8_t)(n >> 24);
	hdr[9] = (uint8_t)(n >> 16);
	hdr[10] = (uint8_t)(n >> 8);
	hdr[11] = (uint8_t)n;
	if ((r = sha256(p, n, hdr + 12)) != 0)
		return r;
	/* mkstemp creates the file 0600 (POSIX.1-2008). */
	if ((fd = mkstemp(tmp)) < 0)
		return CNIE_ERR_IO;
	if ((r = write_all(fd, hdr, sizeof(hdr))) != 0 || (r = write_all(fd, p, n)) != 0)
		goto out;
	/* No fsync (src/libcnie/include/cnie/cache.h): the digest catches a torn entry. */
	if (fchmod(fd, 0600) != 0) {
		r = CNIE_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = CNIE_ERR_IO;
		goto out;
	}
	fd = -1;
	/* rename(2) replaces the entry atomically: readers see old or new, never half. */
	if (rename(tmp, path) != 0)
		r = CNIE_ERR_IO;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		(void)unlink(tmp);
	return r;
}

int
cnie_cache_remove(cnie_cache *c, const char *name)
{
	char path[CACHE_PATH_MAX];
	int r;

	if ((r = cnie_cache_path(c, name, path, sizeof(path))) != 0)
		return r;
	if (unlink(path) != 0 && errno != ENOENT)
		return CNIE_ERR_IO;
	return 0;
}
