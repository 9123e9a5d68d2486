/*
 * loop.h -- the event loop: epoll over descriptors, one periodic timer
 * (timerfd) and signals (signalfd: no work in signal handlers).
 *
 * Handlers register as callback plus cookie; loop knows nothing of packets.
 * Descriptors are level-triggered and each callback does at most one batch
 * of work before returning, so no descriptor starves another.
 */
#ifndef TAPBRIDGE_LOOP_H
#define TAPBRIDGE_LOOP_H

#include <stdint.h>

struct loop;

/* loop_new(): a loop with no handlers, or NULL (logged). */
struct loop *loop_new(void);
/* loop_free(l): close the loop's own descriptors; NULL is a no-op. */
void loop_free(struct loop *l);

/* loop_add(l, fd, fn, cookie): call fn(cookie) while fd is readable.
 * Returns 0, or -1 (logged). */
int loop_add(struct loop *l, int fd, void (*fn)(void *), void *cookie);
/* loop_del(l, fd): stop watching fd. */
void loop_del(struct loop *l, int fd);

/* loop_now_ms(): CLOCK_MONOTONIC in milliseconds, the clock of timeouts. */
uint64_t loop_now_ms(void);

/* loop_tick(l, ms, fn, cookie): call fn(cookie) every ms milliseconds.
 * Returns 0, or -1 (logged). */
int loop_tick(struct loop *l, unsigned ms, void (*fn)(void *), void *cookie);

/*
 * loop_block_signals(): block SIGTERM, SIGINT, SIGQUIT, SIGHUP and SIGCHLD,
 * and ignore SIGPIPE, SIGUSR1 and SIGUSR2, so that none can end the process
 * on the way: one that arrives before loop_signals waits for it.  Returns
 * 0, or -1 (logged).
 */
int loop_block_signals(void);

/*
 * loop_signals(l, fn, cookie): loop_block_signals, then call fn(cookie,
 * signo) from the loop for each of the blocked ones, also those that
 * arrived since.  Returns 0, or -1 (logged).
 */
int loop_signals(struct loop *l, void (*fn)(void *, int), void *cookie);

/* loop_run(l): dispatch until loop_stop.  Returns 0, or -1 (logged). */
int loop_run(struct loop *l);
/* loop_stop(l): make loop_run return after the current callback. */
void loop_stop(struct loop *l);

#endif
