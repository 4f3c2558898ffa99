/*
 * Loopback listeners: the --listen syntax (loopback addresses only), the
 * port of a socket handed over by systemd, and the name of the program
 * holding a port, so "port in use" says who holds it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cnied.h"

/* Names the program listening on a TCP port (from /proc), for the "port in use" error. */
void
cnied_listen_port_holder(uint16_t port, char *out, size_t max)
{
	static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	unsigned long inode = 0;
	char line[512], want[8], link[64], path[600];
	struct dirent *d, *fd;
	DIR *proc, *fds;
	size_t t;

	snprintf(out, max, "another program");
	snprintf(want, sizeof(want), ":%04X", port);
	for (t = 0; t < 2 && inode == 0; t++) {
		FILE *f = fopen(tables[t], "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			char local[128], st[8];
			unsigned long ino;
			if (sscanf(line, "%*d: %127s %*s %7s %*s %*s %*s %*s %*s %lu", local, st,
			    &ino) != 3)
				continue;
			size_t l = strlen(local);
			if (l > 5 && strcmp(local + l - 5, want) == 0 && strcmp(st, "0A") == 0) {
				inode = ino;
				break;
			}
		}
		fclose(f);
	}
	if (inode == 0 || (proc = opendir("/proc")) == NULL)
		return;
	while ((d = readdir(proc)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", d->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fd = readdir(fds)) != NULL) {
			char target[64];
			ssize_t n;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", d->d_name, fd->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			snprintf(link, sizeof(link), "socket:[%lu]", inode);
			if (strcmp(target, link) == 0) {
				char comm[16] = "?";
				FILE *f;
				snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
				if ((f = fopen(path, "r")) != NULL) {
					if (fgets(comm, sizeof(comm), f) != NULL)
						comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
				if (snprintf(out, max, "%s (pid %s)", comm, d->d_name) < 0)
					snprintf(out, max, "%s", comm);
				closedir(fds);
				closedir(proc);
				return;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* "127.0.0.1:P", "[::1]:P", "localhost:P" -> numeric loopback address + port. */
int
cnied_listen_parse(const char *s, char *addr, size_t amax, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned char bin[16];
	char *end;
	unsigned long p;
	size_t l;

	if (colon == NULL)
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || p > 65535)
		return -1;
	*port = (uint16_t)p;
	l = (size_t)(colon - s);
	if (l >= amax)
		return -1;
	if (l > 2 && s[0] == '[' && s[l - 1] == ']') {
		memcpy(addr, s + 1, l - 2);
		addr[l - 2] = '\0';
	} else {
		memcpy(addr, s, l);
		addr[l] = '\0';
	}
	if (strcmp(addr, "localhost") == 0)
		snprintf(addr, amax, "127.0.0.1");
	/* Loopback only: 127.0.0.0/8 or ::1. */
	if (inet_pton(AF_INET, addr, bin) == 1)
		return bin[0] == 127 ? 0 : -1;
	if (inet_pton(AF_INET6, addr, bin) == 1) {
		static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    1};
		return memcmp(bin, lo, 16) == 0 ? 0 : -1;
	}
	return -1;
}

int
cnied_listen_fd_port(int fd, uint16_t *port, bool *loopback)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		*port = ntohs(a->sin_port);
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		*port = ntohs(a->sin6_port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return 0;
	}
	return -1;
}
