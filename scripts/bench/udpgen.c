/*
 * udpgen.c -- the UDP load generator of scripts/bench.sh.
 *
 *   udpgen send ADDR PORT SIZE MBITS SECONDS SEGS
 *   udpgen recv ADDR PORT SECONDS
 *
 * send: SIZE-byte datagrams to ADDR:PORT at MBITS Mbit/s of UDP payload
 * for SECONDS, paced by the clock.  With SEGS > 1 each send hands the
 * kernel SEGS datagrams at once with UDP GSO (UDP_SEGMENT, as QUIC stacks
 * do): they leave as SEGS separate datagrams, but the sending host pays
 * for one trip through its stack.  With SEGS = 1 every datagram is its own
 * trip (sendmmsg, 32 per call), as from a plain sender.  Prints "sent
 * DATAGRAMS BYTES NANOSECONDS".
 *
 * recv: counts the datagrams arriving at ADDR:PORT, reading them with UDP
 * GRO (many per read when the path delivers them so) and recvmmsg, until
 * SECONDS have passed or, after the first, nothing came for a second.
 * Prints "ready" once bound, then "received DATAGRAMS BYTES".
 *
 * A bench tool, not part of tapbridge: the point is that the generator
 * costs the machine little, so that a run measures the tunnel rather than
 * the load generator (iperf3 3.12 makes one syscall and one trip through
 * the stack per datagram, and on a two-core box takes most of a core for
 * ~1.2 Gbit/s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

#define MAX_SEGS	64
#define MAX_BYTES	65000
#define BATCH		32
#define RX_BUF		65536

static void die(const char *what)
{
	fprintf(stderr, "udpgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: udpgen send ADDR PORT SIZE MBITS SECONDS SEGS\n"
			"       udpgen recv ADDR PORT SECONDS\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		usage();
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A UDP socket for ADDR:PORT (IPv4 or IPv6); fills sa and its length. */
static int udp_socket(const char *addr, const char *port,
		      struct sockaddr_storage *sa, socklen_t *salen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	uint16_t p = (uint16_t)num(port, 1, 65535);
	int fd;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*salen = sizeof(*s6);
	} else {
		usage();
	}
	fd = socket(sa->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	return fd;
}

static int do_send(char **av)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	long size = num(av[2], 1, 1472), mbits = num(av[3], 1, 100000);
	long secs = num(av[4], 1, 600), segs = num(av[5], 1, MAX_SEGS);
	int fd = udp_socket(av[0], av[1], &sa, &salen);
	uint64_t start, end, t, due, sent = 0, bytes = 0;
	double ns_per_byte = 8000.0 / (double)mbits;	/* 1e9 * 8 / 1e6 */
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t per_send;
	uint8_t *buf;
	int i, n, sndbuf = 4 << 20;

	if (segs * size > MAX_BYTES)
		segs = MAX_BYTES / size;
	per_send = (size_t)(segs * size);
	buf = calloc(1, per_send > (size_t)size * BATCH ? per_send :
			 (size_t)size * BATCH);
	if (!buf)
		die("calloc");
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0)
		die("connect");
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (segs > 1 && setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT,
				   &(int){ (int)size }, sizeof(int)) < 0)
		die("UDP_SEGMENT");
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf + (size_t)i * (size_t)size;
		iov[i].iov_len = (size_t)size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_ns();
	end = start + (uint64_t)secs * 1000000000u;
	while ((t = now_ns()) < end) {
		/* When is the next burst due at this rate? */
		due = start + (uint64_t)((double)bytes * ns_per_byte);
		if (due > t) {
			struct timespec ts = { 0, (long)(due - t) };

			if (due > end)
				break;
			nanosleep(&ts, NULL);
			continue;
		}
		if (segs > 1) {
			if (send(fd, buf, per_send, 0) < 0) {
				if (errno == ENOBUFS || errno == EAGAIN)
					continue;
				die("send");
			}
			sent += (uint64_t)segs;
			bytes += per_send;
			continue;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			die("sendmmsg");
		}
		sent += (uint64_t)n;
		bytes += (uint64_t)n * (uint64_t)size;
	}
	printf("sent %llu %llu %llu\n", (unsigned long long)sent,
	       (unsigned long long)bytes,
	       (unsigned long long)(now_ns() - start));
	free(buf);
	close(fd);
	return 0;
}

/* Datagrams in one read: len bytes, cut at the GRO size if there is one. */
static uint64_t datagrams(struct msghdr *mh, size_t len)
{
	struct cmsghdr *c;
	int gso;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&gso, CMSG_DATA(c), sizeof(gso));
			if (gso > 0)
				return (len + (size_t)gso - 1) / (size_t)gso;
		}
	}
	return 1;
}

static int do_recv(char **av)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	long secs = num(av[2], 1, 600);
	int fd = udp_socket(av[0], av[1], &sa, &salen);
	int on = 1, rcvbuf = 8 << 20, i, n;
	static uint8_t bufs[8][RX_BUF];
	static uint8_t ctl[8][CMSG_SPACE(sizeof(int))];
	struct mmsghdr msgs[8];
	struct iovec iov[8];
	uint64_t end, last = 0, got = 0, bytes = 0, t;
	struct timeval tv = { 0, 200000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0)
		die("bind");
	printf("ready\n");
	fflush(stdout);
	end = now_ns() + (uint64_t)secs * 1000000000u;
	while ((t = now_ns()) < end) {
		if (last && t - last > 1000000000u)
			break;		/* the sender is done */
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < 8; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = RX_BUF;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = ctl[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(fd, msgs, 8, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		for (i = 0; i < n; i++) {
			got += datagrams(&msgs[i].msg_hdr, msgs[i].msg_len);
			bytes += msgs[i].msg_len;
		}
		last = now_ns();
	}
	printf("received %llu %llu\n", (unsigned long long)got,
	       (unsigned long long)bytes);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "send"))
		return do_send(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv + 2);
	usage();
	return 2;
}
