/*
 * control.h -- the control socket: `tapbridge status` asks the running
 * daemon for its peers and counters over a unix socket.
 *
 * Owns the socket file (created mode 0600, so only root can ask, unless the
 * daemon gives it to a 'control-group'; removed on close), the request
 * grammar (one line: "status", "status json", "status prometheus") and the
 * status formats (text for people, JSON for scripts, the Prometheus text
 * format for node_exporter).  Serving a request is bounded in time so a
 * stalled client cannot hold up the data path.  src/control.c has the
 * socket and the requests, src/control_status.c the three formats.
 */
#ifndef TAPBRIDGE_CONTROL_H
#define TAPBRIDGE_CONTROL_H

#include <stdbool.h>
#include <stdio.h>

#include "tapbridge/datapath.h"

struct control;

/*
 * control_open(path): listen on path, creating its directory (0755) when
 * missing and replacing a stale socket left by a dead daemon.  Refuses a
 * path a live daemon answers on.  Returns a handle or NULL (logged).
 */
struct control *control_open(const char *path);
/* control_fd(c): descriptor to watch for readability. */
int control_fd(const struct control *c);
/*
 * control_serve(c, dp): accept waiting clients (one per free slot of a
 * few) and answer as far as the sockets allow; the rest is control_tick's.
 * Never blocks.
 */
void control_serve(struct control *c, struct datapath *dp);
/*
 * control_full(c): every slot is taken.  A connection then waits in the
 * listen queue and keeps control_fd readable: stop watching it until
 * control_tick has freed a slot.
 */
bool control_full(const struct control *c);
/* control_tick(c, dp): go on with the clients in their slots (a request to
 * read, an answer to send) or drop those too slow; call it a few times a
 * second. */
void control_tick(struct control *c, struct datapath *dp);
/* control_close(c): close and unlink the socket; NULL is a no-op. */
void control_close(struct control *c);

/*
 * control_query(path, request, out): client side: send request, copy the
 * answer to out.  Returns 0, or -1 (logged, with a hint).
 */
int control_query(const char *path, const char *request, FILE *out);

enum control_format {
	CONTROL_TEXT,
	CONTROL_JSON,
};
/* control_format(info, out, fmt): write a status report to out. */
void control_format(const struct datapath_info *info, FILE *out,
		    enum control_format fmt);

#endif
