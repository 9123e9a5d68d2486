/*
 * tap.c -- TAP device I/O; see tap.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tapbridge/log.h"
#include "tapbridge/tap.h"

int tap_open(const char *name, int *created)
{
	struct ifreq ifr;
	int fd;

	*created = if_nametoindex(name) == 0;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_warn("cannot open '/dev/net/tun'");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (errno == EINVAL && !*created)
			log_warnx("interface '%s' exists and is not a TAP "
				  "device tapbridge can attach to", name);
		else
			log_warn("cannot create TAP device '%s'", name);
		close(fd);
		return -1;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &(int){ TAP_VNET_HDR_LEN }) < 0) {
		log_warn("TAP device '%s': cannot set the vnet header size",
			 name);
		close(fd);
		return -1;
	}
	return fd;
}

#ifndef TUN_F_USO4
#define TUN_F_USO4	0x20	/* Linux 6.2 */
#define TUN_F_USO6	0x40
#endif

bool tap_offload_uso(int fd, unsigned base)
{
	return ioctl(fd, TUNSETOFFLOAD,
		     (unsigned long)(base | TUN_F_USO4 | TUN_F_USO6)) == 0;
}

/* One interface ioctl on a throwaway socket. */
static int link_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	rc = ioctl(fd, req, ifr);
	close(fd);
	return rc;
}

int tap_link_get(const char *name, struct tap_link *l)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (link_ioctl(name, SIOCGIFMTU, &ifr) < 0)
		goto fail;
	l->mtu = ifr.ifr_mtu;
	if (link_ioctl(name, SIOCGIFTXQLEN, &ifr) < 0)
		goto fail;
	l->qlen = ifr.ifr_qlen;
	return 0;
fail:
	log_warn("cannot read the mtu and queue length of '%s'", name);
	return -1;
}

int tap_link_set(const char *name, const struct tap_link *l)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = l->mtu;
	if (link_ioctl(name, SIOCSIFMTU, &ifr) < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = l->qlen;
	if (link_ioctl(name, SIOCSIFTXQLEN, &ifr) < 0)
		goto fail;
	return 0;
fail:
	log_warn("cannot restore the mtu and queue length of '%s'", name);
	return -1;
}

int tap_offload(int fd, const char *name, unsigned flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0) {
		log_warn("TAP device '%s': offloads refused", name);
		return -1;
	}
	return 0;
}

int tap_read_batch(int fd, struct pkt_pool *pool, struct pkt_batch *b)
{
	int got = 0;

	while (b->n < PKT_BATCH) {
		struct pkt *p = pkt_get(pool);
		ssize_t n;

		if (!p)
			break;
		n = read(fd, p->data, pkt_tailroom(p));
		if (n <= 0) {
			pkt_put(pool, p);
			if (n == 0 || errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		p->len = (uint32_t)n;
		b->p[b->n++] = p;
		got++;
	}
	return got;
}

int tap_write(int fd, const uint8_t *vnet, const uint8_t *frame, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)vnet,
		  .iov_len = TAP_VNET_HDR_LEN },
		{ .iov_base = (void *)(uintptr_t)frame, .iov_len = len },
	};
	ssize_t n;

	do {
		n = writev(fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)(len + TAP_VNET_HDR_LEN) ? 0 : -1;
}
