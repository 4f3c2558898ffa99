/*
 * Who is on the other end of a loopback TCP connection, and may they use
 * the card.
 *
 * The Origin allowlist binds browsers only: any local process can send any
 * Origin header.  So the daemon also checks the peer's user: by default
 * only the user cnied runs as; "allow-user" names others (the kiosk's
 * browser user).
 *
 * Method: sock_diag (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY), an exact
 * lookup of the client's socket by the connection's 4-tuple (the client's
 * address and port as source, ours as destination).  The kernel answers
 * with that socket's owner (sk_uid, the creator's fsuid).  Race-free: the
 * 4-tuple names exactly one connection while our end of it is open (no
 * other connection can reuse it), and the answer comes from the kernel's
 * socket table, not from a text file read later.  A socket that is no
 * longer a full socket (TIME_WAIT, SYN_RECV: no owner recorded) is refused,
 * as is any answer that does not describe the asked 4-tuple.  The other
 * way, scanning /proc/net/tcp for the inode and its uid, reads the same
 * table through text, costs a scan per connection and needs the same
 * tuple match; the netlink socket needs AF_NETLINK in the units'
 * RestrictAddressFamilies (src/cnied/systemd).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "cnied.h"

/* TCP states of a full socket with an owner (include/net/tcp_states.h). */
static bool
full_socket_state(unsigned st)
{
	/* 6 TIME_WAIT and 12 NEW_SYN_RECV are mini sockets without an owner. */
	return st >= 1 && st <= 11 && st != 6;
}

int
cnied_peer_uid(int fd, uint32_t *uid)
{
	struct sockaddr_storage loc, rem;
	socklen_t ll = sizeof(loc), rl = sizeof(rem);
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr nh;
		char b[8192];
	} ans;
	struct pollfd pfd;
	ssize_t n;
	int s, rc = -1;

	if (getsockname(fd, (struct sockaddr *)&loc, &ll) != 0 ||
	    getpeername(fd, (struct sockaddr *)&rem, &rl) != 0 || loc.ss_family != rem.ss_family)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.r.sdiag_family = (uint8_t)loc.ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	/* The client's socket: its source is our peer, its destination us. */
	if (loc.ss_family == AF_INET) {
		const struct sockaddr_in *l = (const void *)&loc, *p = (const void *)&rem;
		req.r.id.idiag_sport = p->sin_port;
		req.r.id.idiag_dport = l->sin_port;
		memcpy(req.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &l->sin_addr, 4);
	} else if (loc.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)&loc)->sin6_addr)) {
		/* A dual-stack listener: the client's socket is an IPv4 one. */
		const struct sockaddr_in6 *l = (const void *)&loc, *p = (const void *)&rem;
		req.r.sdiag_family = AF_INET;
		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = l->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr.s6_addr[12], 4);
		memcpy(req.r.id.idiag_dst, &l->sin6_addr.s6_addr[12], 4);
	} else if (loc.ss_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const void *)&loc, *p = (const void *)&rem;
		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = l->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &l->sin6_addr, 16);
	} else {
		return -1;
	}
	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return -1;
	if (sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) !=
	    (ssize_t)sizeof(req))
		goto out;
	pfd.fd = s;
	pfd.events = POLLIN;
	/* The kernel answers at once; the bound only guards the event loop. */
	if (poll(&pfd, 1, 1000) != 1)
		goto out;
	n = recv(s, &ans, sizeof(ans), MSG_DONTWAIT);
	if (n < 0 || !NLMSG_OK(&ans.nh, (size_t)n) || ans.nh.nlmsg_seq != 1)
		goto out;
	if (ans.nh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    ans.nh.nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
		const struct inet_diag_msg *m = NLMSG_DATA(&ans.nh);
		/* The answer must describe the very socket asked for. */
		if (m->idiag_family == req.r.sdiag_family &&
		    m->id.idiag_sport == req.r.id.idiag_sport &&
		    m->id.idiag_dport == req.r.id.idiag_dport &&
		    memcmp(m->id.idiag_src, req.r.id.idiag_src, sizeof(m->id.idiag_src)) == 0 &&
		    memcmp(m->id.idiag_dst, req.r.id.idiag_dst, sizeof(m->id.idiag_dst)) == 0 &&
		    full_socket_state(m->idiag_state)) {
			*uid = m->idiag_uid;
			rc = 0;
		}
	}
out:
	close(s);
	return rc;
}

bool
cnied_peer_allowed(const cnied_config *cfg, uint32_t uid)
{
	size_t i;

	if (uid == cfg->self_uid)
		return true;
	for (i = 0; i < cfg->nusers; i++)
		if (cfg->users[i] == uid)
			return true;
	return false;
}
