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
 * daemon_run(c, mode): run until told to stop.  Returns 0 after a clean
 * stop, -1 if setup failed (logged; nothing left behind).
 */
int daemon_run(const struct config *c, enum daemon_mode mode);

/*
 * daemon_check(c): what `tapbridge -t` does beyond parsing: load and check
 * every key file.  Returns 0, or -1 (each problem logged).
 */
int daemon_check(const struct config *c);

#endif
