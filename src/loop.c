/*
 * loop.c -- epoll, timerfd and signalfd; see loop.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tapbridge/log.h"
#include "tapbridge/loop.h"

#define LOOP_MAX_HANDLERS 16

struct handler {
	int fd;
	void (*fn)(void *);
	void *cookie;
};

struct loop {
	int epfd;
	int timerfd;
	int sigfd;
	int running;
	void (*tick_fn)(void *);
	void *tick_cookie;
	void (*sig_fn)(void *, int);
	void *sig_cookie;
	struct handler h[LOOP_MAX_HANDLERS];
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	int i;

	if (!l) {
		log_warn("event loop");
		return NULL;
	}
	l->timerfd = l->sigfd = -1;
	for (i = 0; i < LOOP_MAX_HANDLERS; i++)
		l->h[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		log_warn("epoll_create1");
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
}

int loop_add(struct loop *l, int fd, void (*fn)(void *), void *cookie)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i;

	for (i = 0; i < LOOP_MAX_HANDLERS && l->h[i].fd >= 0; i++)
		;
	if (i == LOOP_MAX_HANDLERS) {
		log_warnx("event loop: too many descriptors");
		return -1;
	}
	ev.data.ptr = &l->h[i];
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("epoll_ctl add fd %d", fd);
		return -1;
	}
	l->h[i].fd = fd;
	l->h[i].fn = fn;
	l->h[i].cookie = cookie;
	return 0;
}

void loop_del(struct loop *l, int fd)
{
	int i;

	for (i = 0; i < LOOP_MAX_HANDLERS; i++)
		if (l->h[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->h[i].fd = -1;
		}
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_timer(void *cookie)
{
	struct loop *l = cookie;
	uint64_t expirations;

	if (read(l->timerfd, &expirations, sizeof(expirations)) > 0)
		l->tick_fn(l->tick_cookie);
}

int loop_tick(struct loop *l, unsigned ms, void (*fn)(void *), void *cookie)
{
	struct itimerspec its;

	l->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0) {
		log_warn("timerfd_create");
		return -1;
	}
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(l->timerfd, 0, &its, NULL) < 0) {
		log_warn("timerfd_settime");
		return -1;
	}
	l->tick_fn = fn;
	l->tick_cookie = cookie;
	return loop_add(l, l->timerfd, on_timer, l);
}

static void on_signal(void *cookie)
{
	struct loop *l = cookie;
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
		l->sig_fn(l->sig_cookie, (int)si.ssi_signo);
}

static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

int loop_block_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	handled_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		log_warn("sigprocmask");
		return -1;
	}
	return 0;
}

int loop_signals(struct loop *l, void (*fn)(void *, int), void *cookie)
{
	sigset_t set;

	if (loop_block_signals() < 0)
		return -1;
	handled_signals(&set);
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0) {
		log_warn("signalfd");
		return -1;
	}
	l->sig_fn = fn;
	l->sig_cookie = cookie;
	return loop_add(l, l->sigfd, on_signal, l);
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_MAX_HANDLERS];
	int n, i;

	l->running = 1;
	while (l->running) {
		n = epoll_wait(l->epfd, ev, LOOP_MAX_HANDLERS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return -1;
		}
		for (i = 0; i < n && l->running; i++) {
			struct handler *h = ev[i].data.ptr;

			if (h->fd >= 0)
				h->fn(h->cookie);
		}
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->running = 0;
}
