/*
 * tap.c -- TAP device I/O; see tap.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
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
