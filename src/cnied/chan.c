/*
 * A pipe carrying pointers from a worker thread to the event loop (the
 * card worker's finished jobs, the reader watcher's event texts).  A
 * pointer is written whole or not at all: PIPE_BUF is far above its size.
 */
#include <fcntl.h>
#include <unistd.h>

#include <event2/event.h>

#include "cnied.h"

static void
chan_cb(evutil_socket_t fd, short what, void *arg)
{
	cnied_chan *c = arg;
	void *p;

	(void)what;
	while (read(fd, &p, sizeof(p)) == (ssize_t)sizeof(p))
		c->cb(p, c->arg);
}

int
cnied_chan_open(cnied_chan *c, struct event_base *base, void (*cb)(void *ptr, void *arg),
    void *arg)
{
	c->cb = cb;
	c->arg = arg;
	if (pipe2(c->fd, O_CLOEXEC | O_NONBLOCK) != 0) {
		c->fd[0] = c->fd[1] = -1;
		return -1;
	}
	/* The sender's end blocks (never drops a pointer); the loop's end does not. */
	(void)fcntl(c->fd[1], F_SETFL, 0);
	c->ev = event_new(base, c->fd[0], EV_READ | EV_PERSIST, chan_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) != 0)
		return -1;
	return 0;
}

int
cnied_chan_send(cnied_chan *c, void *ptr)
{
	return write(c->fd[1], &ptr, sizeof(ptr)) == (ssize_t)sizeof(ptr) ? 0 : -1;
}

void
cnied_chan_close(cnied_chan *c, void (*drop)(void *ptr))
{
	void *p;

	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = NULL;
	if (c->fd[0] >= 0)
		while (read(c->fd[0], &p, sizeof(p)) == (ssize_t)sizeof(p))
			drop(p);
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	c->fd[0] = c->fd[1] = -1;
}
