/*
 * The HTTPS front (http.c): listeners, TLS connections, evhttp, event
 * streams.  Everything libevent's HTTP stays behind these three calls.
 */
#ifndef CNIED_HTTP_H
#define CNIED_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "cnied.h"

struct event_base;
struct ssl_ctx_st;

/*
 * Listens on cfg's loopback addresses (or on the nfds sockets systemd
 * handed over) and serves requests through the route table.  ports gets
 * the ports actually bound.  0; -1 on failure; -2 when an address could
 * not be bound (already reported on stderr).
 */
int cnied_http_start(struct event_base *base, const cnied_config *cfg,
    struct ssl_ctx_st *ssl, const int *fds, size_t nfds, uint16_t *ports,
    size_t *nports);
/* "127.0.0.1:P" / "[::1]:P" of each listener, IPv4 first (the port file). */
size_t cnied_http_addrs(char (*out)[64], size_t max);
/* Ends the event streams and frees the server. */
void cnied_http_stop(void);
/* The events.c sink: writes one event text to every open event stream. */
void cnied_http_broadcast(const char *text, void *arg);

#endif
