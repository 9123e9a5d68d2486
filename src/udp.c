/*
 * udp.c -- the tunnel socket; see udp.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tapbridge/log.h"
#include "tapbridge/udp.h"

/*
 * Socket buffers: a limit, not an allocation.  The network process shares
 * a small gateway's cores with the kernel's forwarding and may not run for
 * milliseconds while a GSO sender's bursts arrive: with 4 MB (8 MB of
 * truesize once the kernel doubles it) the receiving gateway of the lab
 * overflowed and passed about 1.5 Gbit/s of 1400-byte datagrams, with 32 MB
 * 1.6 to 1.9 (issue 6, session 9).
 */
#define UDP_SOCKBUF (32 * 1024 * 1024)

static void set_buffers(int fd)
{
	int sz = UDP_SOCKBUF;

	/* FORCE works with CAP_NET_ADMIN; fall back to the capped size. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* Never fragment: DF on every datagram, v4 and v6 (and v4-mapped). */
static int set_df(int fd, int family)
{
	int v4 = IP_PMTUDISC_DO, v6 = IPV6_PMTUDISC_DO;

	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6,
		       sizeof(v6)) < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4)) < 0 &&
	    family == AF_INET)
		return -1;
	return 0;
}

static int parse_bind(const char *host, uint16_t port, union pkt_addr *a,
		      int *v6only)
{
	memset(a, 0, sizeof(*a));
	*v6only = 1;
	if (*host == '\0') {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_addr = in6addr_any;
		a->in6.sin6_port = htons(port);
		*v6only = 0;
		return 0;
	}
	if (inet_pton(AF_INET, host, &a->in4.sin_addr) == 1) {
		a->in4.sin_family = AF_INET;
		a->in4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		*v6only = !IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
		return 0;
	}
	return -1;
}

/* a: every IPv4 address, port. */
static void any_ipv4(union pkt_addr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in4.sin_family = AF_INET;
	a->in4.sin_port = htons(port);
}

static int open_bound(struct udp *u, const union pkt_addr *a, int v6only)
{
	socklen_t len;
	int fd;

	fd = socket(a->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (a->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		       sizeof(v6only)) < 0)
		goto fail_close;
	if (set_df(fd, a->sa.sa_family) < 0)
		goto fail_close;
	len = a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in4);
	if (bind(fd, &a->sa, len) < 0)
		goto fail_close;
	u->local = *a;
	len = sizeof(u->local);
	getsockname(fd, &u->local.sa, &len);
	set_buffers(fd);
	u->fd = fd;
	u->family = a->sa.sa_family;
	/* Offloads are an optimisation: without them, one datagram a call. */
	setsockopt(fd, IPPROTO_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
	u->gso = setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &(int){ 0 },
			    sizeof(int)) == 0;
	return 0;

fail_close:
	close(fd);
	return -1;
}

int udp_open(struct udp *u, const char *host, uint16_t port)
{
	char buf[LOG_ADDR_LEN];
	union pkt_addr a;
	int v6only;

	u->fd = -1;
	u->no_ipv6 = 0;
	if (parse_bind(host, port, &a, &v6only) < 0) {
		log_warnx("cannot listen on '%s': not a numeric address", host);
		return -1;
	}
	if (open_bound(u, &a, v6only) == 0)
		return 0;
	if (*host == '\0' && errno == EAFNOSUPPORT) {
		/* No IPv6 on this host: fall back to IPv4 only. */
		any_ipv4(&a, port);
		if (open_bound(u, &a, 1) == 0) {
			u->no_ipv6 = 1;
			return 0;
		}
	}
	log_warn("cannot listen on %s", log_addr(&a.sa, buf, sizeof(buf)));
	return -1;
}

int udp_plan(struct udp *u, const char *host, uint16_t port)
{
	int fd, v6only;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if (parse_bind(host, port, &u->local, &v6only) < 0)
		return -1;
	if (*host == '\0') {
		/* As udp_open: IPv4 only on a host without IPv6. */
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			close(fd);
		else if (errno == EAFNOSUPPORT) {
			any_ipv4(&u->local, port);
			u->no_ipv6 = 1;
		}
	}
	u->family = u->local.sa.sa_family;
	return 0;
}

void udp_close(struct udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

static void map_v4(union pkt_addr *a)
{
	struct sockaddr_in v4 = a->in4;

	memset(a, 0, sizeof(*a));
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_port = v4.sin_port;
	a->in6.sin6_addr.s6_addr[10] = 0xff;
	a->in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&a->in6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
}

int udp_resolve(const struct udp *u, const char *host, uint16_t port,
		union pkt_addr *out, char *why, size_t whylen)
{
	struct addrinfo hints, *res, *ai;
	int err, v6only = u->family == AF_INET6 &&
			  !IN6_IS_ADDR_UNSPECIFIED(&u->local.in6.sin6_addr);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_family = u->family == AF_INET ? AF_INET :
			  v6only ? AF_INET6 : AF_UNSPEC;
	err = getaddrinfo(host, NULL, &hints, &res);
	if ((err == EAI_NONAME || err == EAI_NODATA ||
	     err == EAI_ADDRFAMILY) && hints.ai_family != AF_UNSPEC) {
		/* Of the other family only?  Say so, and why. */
		hints.ai_family = AF_UNSPEC;
		if (getaddrinfo(host, NULL, &hints, &res) == 0) {
			freeaddrinfo(res);
			if (u->no_ipv6)
				snprintf(why, whylen, "'%s' has no IPv4 "
					 "address, and this host has no IPv6",
					 host);
			else
				snprintf(why, whylen, "'%s' has no %s "
					 "address, and the 'listen' address "
					 "makes this gateway use %s only (listen "
					 "on all addresses, or on one of the "
					 "other family)", host,
					 u->family == AF_INET ? "IPv4" : "IPv6",
					 u->family == AF_INET ? "IPv4" : "IPv6");
			return -1;
		}
	}
	if (err) {
		snprintf(why, whylen, "cannot resolve '%s': %s", host,
			 gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			break;
	if (!ai) {
		freeaddrinfo(res);
		snprintf(why, whylen, "'%s' has no address of the family "
			 "tapbridge listens on", host);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	if (out->sa.sa_family == AF_INET) {
		out->in4.sin_port = htons(port);
		if (u->family == AF_INET6)
			map_v4(out);
	} else {
		out->in6.sin6_port = htons(port);
	}
	return 0;
}

static socklen_t addr_len(const union pkt_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in4);
}

#define CMSG_ROOM CMSG_SPACE(sizeof(int))

/* The UDP_GRO segment size of a received message, or 0. */
static uint32_t gro_size(struct msghdr *mh)
{
	struct cmsghdr *cm;
	int v;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (uint32_t)v : 0;
		}
	return 0;
}

int udp_recv_batch(struct udp *u, struct pkt_pool *pool, struct pkt_batch *b)
{
	struct mmsghdr msgs[PKT_BATCH];
	struct iovec iov[PKT_BATCH];
	struct pkt *got[PKT_BATCH];
	char cbuf[PKT_BATCH][CMSG_ROOM];
	unsigned want = 0, i;
	int n;

	while (b->n + want < PKT_BATCH) {
		struct pkt *p = pkt_get(pool);

		if (!p)
			break;
		/* Datagrams land at the head: opening pulls off headers. */
		p->data = p->head;
		got[want] = p;
		iov[want].iov_base = p->data;
		iov[want].iov_len = p->room;
		memset(&msgs[want], 0, sizeof(msgs[want]));
		msgs[want].msg_hdr.msg_iov = &iov[want];
		msgs[want].msg_hdr.msg_iovlen = 1;
		msgs[want].msg_hdr.msg_name = &p->addr;
		msgs[want].msg_hdr.msg_namelen = sizeof(p->addr);
		msgs[want].msg_hdr.msg_control = cbuf[want];
		msgs[want].msg_hdr.msg_controllen = CMSG_ROOM;
		want++;
	}
	if (want == 0)
		return 0;
	do {
		n = recvmmsg(u->fd, msgs, want, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		for (i = 0; i < want; i++)
			pkt_put(pool, got[i]);
		return errno == EAGAIN ? 0 : -1;
	}
	for (i = 0; i < want; i++) {
		if (i < (unsigned)n && !(msgs[i].msg_hdr.msg_flags &
					 MSG_TRUNC)) {
			got[i]->len = msgs[i].msg_len;
			got[i]->gso_size = gro_size(&msgs[i].msg_hdr);
			if (got[i]->gso_size >= got[i]->len)
				got[i]->gso_size = 0;
			b->p[b->n++] = got[i];
		} else {
			pkt_put(pool, got[i]);
		}
	}
	return n;
}

/* Ask for UDP GSO on one message: datagrams of size bytes. */
static void set_segment(struct msghdr *mh, char *buf, uint16_t size)
{
	struct cmsghdr *cm;

	memset(buf, 0, CMSG_ROOM);	/* the padding goes to the kernel too */
	mh->msg_control = buf;
	mh->msg_controllen = CMSG_ROOM;
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = IPPROTO_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(cm), &size, sizeof(size));
	mh->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
}

/* Datagrams in packet p. */
static unsigned datagrams(const struct pkt *p)
{
	if (!p->gso_size || p->len <= p->gso_size)
		return 1;
	return (p->len + p->gso_size - 1) / p->gso_size;
}

/* Send the datagrams of GSO packet p one at a time; returns how many the
 * kernel refused. */
static unsigned send_split(struct udp *u, const struct pkt *p)
{
	size_t off, n;
	unsigned failed = 0;
	ssize_t r;

	for (off = 0; off < p->len; off += n) {
		n = p->len - off < p->gso_size ? p->len - off : p->gso_size;
		do {
			r = sendto(u->fd, p->data + off, n, 0, &p->addr.sa,
				   addr_len(&p->addr));
		} while (r < 0 && errno == EINTR);
		if (r < 0) {
			failed++;
			if (errno == EMSGSIZE)
				u->too_big++;
		}
	}
	return failed;
}

/* The kernel refused packet p with err; count it, or send it split. */
static void send_failed(struct udp *u, const struct pkt *p, int err,
			bool segmented)
{
	unsigned failed;

	if (segmented && (err == EIO || err == EINVAL)) {
		failed = send_split(u, p);
		u->send_errors += failed;
		if (!failed && u->gso) {
			u->gso = 0;
			log_warnx("the kernel refuses UDP GSO sends here (%s): "
				  "one datagram per send from now on",
				  strerror(err));
		}
		return;
	}
	if (err == EMSGSIZE)
		u->too_big++;
	u->send_errors += datagrams(p);
}

int udp_send_batch(struct udp *u, const struct pkt_batch *b)
{
	struct mmsghdr msgs[PKT_BATCH];
	struct iovec iov[PKT_BATCH];
	char cbuf[PKT_BATCH][CMSG_ROOM];
	unsigned i, done = 0;

	for (i = 0; i < b->n; i++) {
		struct pkt *p = b->p[i];

		iov[i].iov_base = p->data;
		iov[i].iov_len = p->len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &p->addr;
		msgs[i].msg_hdr.msg_namelen = addr_len(&p->addr);
		if (p->gso_size && p->len > p->gso_size)
			set_segment(&msgs[i].msg_hdr, cbuf[i],
				    (uint16_t)p->gso_size);
	}
	while (done < b->n) {
		int n = sendmmsg(u->fd, msgs + done, b->n - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* This one failed: skip it.  (Older kernels say
			 * EINVAL when a GSO segment exceeds the path MTU:
			 * sent split, those say EMSGSIZE.) */
			send_failed(u, b->p[done], errno,
				    msgs[done].msg_hdr.msg_controllen != 0);
			done++;
			continue;
		}
		done += (unsigned)n;
	}
	return (int)done;
}

int udp_send(struct udp *u, const void *buf, size_t len,
	     const union pkt_addr *to)
{
	ssize_t n;

	do {
		n = sendto(u->fd, buf, len, 0, &to->sa, addr_len(to));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EMSGSIZE)
		u->too_big++;
	return n < 0 ? -1 : 0;
}

static bool is_v4(const union pkt_addr *a)
{
	return a->sa.sa_family == AF_INET ||
	       (a->sa.sa_family == AF_INET6 &&
		IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr));
}

unsigned udp_ip_overhead(const union pkt_addr *to)
{
	return (is_v4(to) ? 20 : 40) + 8;
}

unsigned udp_route_mtu(const struct udp *u, const union pkt_addr *to)
{
	union pkt_addr a = *to;
	socklen_t len = sizeof(int);
	int fd, mtu = 0, v4 = is_v4(to);

	if (to->sa.sa_family == AF_UNSPEC)
		return 0;
	if (v4 && a.sa.sa_family == AF_INET6) {
		/* Ask about the IPv4 route behind a v4-mapped address. */
		memset(&a, 0, sizeof(a));
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = to->in6.sin6_port;
		memcpy(&a.in4.sin_addr, &to->in6.sin6_addr.s6_addr[12], 4);
	}
	fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, &a.sa, addr_len(&a)) < 0 ||
	    getsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
		       v4 ? IP_MTU : IPV6_MTU, &mtu, &len) < 0)
		mtu = 0;
	close(fd);
	return mtu > 0 ? (unsigned)mtu : 0;
}

bool udp_addr_equal(const union pkt_addr *a, const union pkt_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return false;
}
