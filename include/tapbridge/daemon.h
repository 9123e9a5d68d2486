/*
 * daemon.h -- running tapbridge: build everything a configuration asks for
 * (keys, TAP, bridge, socket, peers, control socket), run the event loop,
 * and undo it all on SIGTERM or SIGINT.
 *
 * Owns the order of setup and the reverse order of teardown.  Every setup
 * failure is reported once where it is detected and unwinds what was done,
 * so a failed start leaves the system as it found it.
 */
#ifndef TAPBRIDGE_DAEMON_H
#define TAPBRIDGE_DAEMON_H

#include "tapbridge/config.h"

enum daemon_mode {
	DAEMON_FOREGROUND,
	DAEMON_BACKGROUND,
};

/*
 * daemon_run(c, mode, pidfile): run the configuration *c (heap-allocated)
 * until told to stop.  A reload may replace it: *c is the one in force at
 * the end, still the caller's to free.  The pidfile is written once set up
 * (in the background: always, by default next to the control socket,
 * NAME.sock -> NAME.pid; in the foreground: only when pidfile is given).
 * Returns 0 after a clean stop, -1 if setup failed or the network process
 * died (logged; nothing left behind).
 */
int daemon_run(struct config **c, enum daemon_mode mode, const char *pidfile);

/*
 * daemon_check(c): what `tapbridge -t` does beyond parsing: load and check
 * every key file, resolve every endpoint, look the user up.  Returns 0, or
 * -1 (each problem logged).
 */
int daemon_check(const struct config *c);

#endif
