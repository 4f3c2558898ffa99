/*
 * The control socket of a virtual reader: DIR/control.sock, a Unix stream
 * socket served by one thread per reader.  Protocol: the client sends one
 * line (at most IFD_CTL_LINE_MAX bytes, '\n'-terminated), the driver
 * answers one line "ok ..." or "error ..." and closes the connection.
 *
 * The socket is the virtual card slot: whoever can use it can insert cards
 * and type PINs, so it is mode 0600 and only the driver's own user (or
 * root) is served (SO_PEERCRED).  Command lines may carry PIN digits: they
 * are wiped after use and never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>

#include "ifd.h"

#define CTL_IO_TIMEOUT_MS 2000

/* Reads one line into buf (NUL-terminated, without '\n'); -1 on failure. */
static int
read_line(int fd, char *buf, size_t cap)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec dl, now;
	size_t len = 0;
	ssize_t k;
	long left;

	ifd_deadline(&dl, CTL_IO_TIMEOUT_MS);
	while (len < cap - 1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (dl.tv_sec - now.tv_sec) * 1000 + (dl.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		k = read(fd, buf + len, cap - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		len += (size_t)k;
		if (memchr(buf + len - (size_t)k, '\n', (size_t)k) != NULL)
			break;
	}
	buf[len] = '\0';
	/* Exactly one line: a missing or early newline is refused. */
	if (len == 0 || buf[len - 1] != '\n' || strchr(buf, '\n') != buf + len - 1)
		return -1;
	buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (strlen(buf) != len)
		return -1; /* embedded NUL */
	return 0;
}

static void
write_all(int fd, const char *s, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, s, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void
serve(struct ifd_reader *r, int fd)
{
	char line[IFD_CTL_LINE_MAX], reply[IFD_CTL_LINE_MAX + 8];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	size_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    clen != sizeof(cred) || (cred.uid != getuid() && cred.uid != 0)) {
		cnie_log_warn("reader %u: control connection from another user refused", r->idx);
		write_all(fd, "error permission denied\n", 24);
		return;
	}
	if (read_line(fd, line, sizeof(line)) != 0) {
		write_all(fd, "error bad request (one line, newline-terminated)\n", 49);
		goto out;
	}
	reply[0] = '\0';
	ifd_reader_command(r, line, reply, sizeof(reply) - 1);
	n = strlen(reply);
	reply[n++] = '\n';
	write_all(fd, reply, n);
out:
	cnie_wipe(line, sizeof(line));
}

static void *
ctl_main(void *arg)
{
	struct ifd_reader *r = arg;
	struct pollfd pfd[2];
	int fd;

	for (;;) {
		pfd[0].fd = r->listen_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->wake[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			cnie_log_error("reader %u: control poll: %s", r->idx, strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(r, fd);
		close(fd);
	}
	return NULL;
}

int
ifd_ctl_start(struct ifd_reader *r)
{
	struct sockaddr_un sa;
	struct stat st;
	int k, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	k = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", r->dir, IFD_CTL_SOCK);
	if (k < 0 || (size_t)k >= sizeof(sa.sun_path)) {
		cnie_log_error("reader %u: reader directory path too long for a socket", r->idx);
		return CNIE_ERR_TOO_LONG;
	}
	/* A socket left by a previous daemon is replaced; anything else is kept. */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			cnie_log_error("reader %u: %s exists and is not a socket", r->idx,
			    sa.sun_path);
			return CNIE_ERR_IO;
		}
		unlink(sa.sun_path);
	}
	if (pipe2(r->wake, O_CLOEXEC) != 0)
		return CNIE_ERR_IO;
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(sa.sun_path, 0600) != 0 || listen(r->listen_fd, 8) != 0) {
		cnie_log_error("reader %u: control socket %s: %s", r->idx, sa.sun_path,
		    strerror(errno));
		rc = CNIE_ERR_IO;
		goto fail;
	}
	if (pthread_create(&r->ctl_thread, NULL, ctl_main, r) != 0) {
		rc = CNIE_ERR_NOMEM;
		goto fail;
	}
	r->ctl_running = true;
	return 0;
fail:
	ifd_ctl_stop(r);
	return rc;
}

void
ifd_ctl_stop(struct ifd_reader *r)
{
	char path[PATH_MAX + 32];

	if (r->ctl_running) {
		(void)!write(r->wake[1], "x", 1);
		pthread_join(r->ctl_thread, NULL);
		r->ctl_running = false;
	}
	if (r->listen_fd >= 0) {
		close(r->listen_fd);
		r->listen_fd = -1;
		snprintf(path, sizeof(path), "%s/%s", r->dir, IFD_CTL_SOCK);
		unlink(path);
	}
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
	r->wake[0] = r->wake[1] = -1;
}
