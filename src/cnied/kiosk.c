/*
 * Kiosk mode: cnied opens no dialog (docs/kiosk.md "Security").
 *
 * At a kiosk nobody sits in a desktop session cnied could open a pinentry
 * in, and a dialog on the kiosk's screen would be drawn by the kiosk
 * browser's user anyway.  So the three things a dialog does are done
 * elsewhere:
 *   - consent: on the kiosk page.  The page is the only allowed origin
 *     (an explicit allow-origin, the operator's), and only the kiosk
 *     browser's user may connect (allow-user, peer.c), so the page that
 *     asked the holder is the page that sends the request;
 *   - the PIN: on the reader's PIN pad only, where no software on the
 *     kiosk sees it; a reader without one is refused for PIN operations
 *     (CNIED_ERR_PINPAD_REQUIRED), never a fallback to a dialog;
 *   - the CAN (contactless cards, the ICAO application): it would need a
 *     reader that runs PACE itself; refused (CNIED_ERR_PACE_READER_REQUIRED).
 *
 * Also here: the public copies of ca.pem and cnied.port (public-dir), so
 * that the kiosk browser's user can trust the bridge CA and find the port
 * although the state dir is cnied's own (0700).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cnie/log.h>

#include "cnied.h"

/* ca.pem and cnied.port are small; anything larger is not ours. */
#define PUBLIC_FILE_MAX 65536

bool
cnied_kiosk_consent(const cnied_config *cfg, const char *origin, const char *op)
{
	if (!cfg->kiosk)
		return false;
	/* The origin is the allowlisted kiosk page's (checked by the front). */
	cnie_log_info("kiosk: %s for %s: consent given on the kiosk page", op, origin);
	return true;
}

int
cnied_kiosk_pin_dialog(const cnied_config *cfg)
{
	return cfg->kiosk ? CNIED_ERR_PINPAD_REQUIRED : 0;
}

int
cnied_kiosk_can_dialog(const cnied_config *cfg)
{
	return cfg->kiosk ? CNIED_ERR_PACE_READER_REQUIRED : 0;
}

int
cnied_kiosk_check(const cnied_config *cfg, bool origins_explicit)
{
	if (!cfg->kiosk)
		return 0;
	if (!origins_explicit || cfg->norigins == 0) {
		fprintf(stderr, "cnied: kiosk mode needs allow-origin: the kiosk page's origin "
		    "(consent is given on that page, so no default origin is used)\n");
		return -1;
	}
	if (cfg->nusers == 0) {
		fprintf(stderr, "cnied: kiosk mode needs allow-user: the user the kiosk browser "
		    "runs as (otherwise it cannot connect)\n");
		return -1;
	}
	return 0;
}

int
cnied_public_dir_check(const char *dir)
{
	struct stat st;

	if (dir[0] != '/') {
		fprintf(stderr, "cnied: public-dir %s is not an absolute path\n", dir);
		return -1;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cnied: public-dir %s is not a directory (kiosk unit: "
		    "RuntimeDirectory=cnied)\n", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		fprintf(stderr, "cnied: public-dir %s must belong to this user and be writable "
		    "by nobody else (mode 0755)\n", dir);
		return -1;
	}
	return 0;
}

/* Reads a whole small regular file of ours, not through a symlink. */
static ssize_t
read_small(const char *path, char *buf, size_t max)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (size_t)st.st_size > max) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

int
cnied_public_copy(const char *state_dir, const char *public_dir, const char *name)
{
	char buf[PUBLIC_FILE_MAX];
	char src[4200], dst[4200], tmp[4300];
	ssize_t n;
	size_t off = 0;
	int fd;

	if (snprintf(src, sizeof(src), "%s/%s", state_dir, name) >= (int)sizeof(src) ||
	    snprintf(dst, sizeof(dst), "%s/%s", public_dir, name) >= (int)sizeof(dst) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", public_dir, name) >= (int)sizeof(tmp))
		return -1;
	if ((n = read_small(src, buf, sizeof(buf))) < 0)
		return -1;
	/* mkostemp: O_CREAT|O_EXCL, never a planted name or symlink. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -1;
	/* Public on purpose: a certificate and a port number, no secret. */
	if (fchmod(fd, 0644) != 0)
		goto fail;
	while (off < (size_t)n) {
		ssize_t w = write(fd, buf + off, (size_t)n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) != 0)
		goto fail;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return -1;
}
