/*
 * priv.c -- messages between the privileged parent and the network
 * process; see priv.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/priv.h"

#define PRIV_MSG_MAX 512

long priv_body_len(enum priv_type type)
{
	switch (type) {
	case PRIV_READY:
	case PRIV_RELOAD_END:
		return 0;
	case PRIV_RELOAD_BEGIN:
		return sizeof(struct priv_reload);
	case PRIV_PEER:
		return sizeof(struct peer_spec);
	case PRIV_RELOAD_DONE:
		return 1 + sizeof(uint32_t);
	case PRIV_LOG:
		return 1 + PRIV_LOG_MAX;	/* at most: see priv_recv */
	}
	return -1;
}

int priv_send(int fd, enum priv_type type, const void *body, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)type, 0, 0, 0 };
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)(uintptr_t)body, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(hdr) + len) ? 0 : -1;
}

int priv_recv(int fd, enum priv_type *type, void *body, size_t max,
	      size_t *len)
{
	uint8_t buf[PRIV_MSG_MAX];
	ssize_t n;
	long want;
	int rc = -1;

	do {
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return -1;
	errno = EPROTO;
	if (n < 4 || n > (ssize_t)sizeof(buf) || buf[1] || buf[2] || buf[3])
		goto out;
	*type = (enum priv_type)buf[0];
	want = priv_body_len(*type);
	/* A log line is the one message of variable length. */
	if (*type == PRIV_LOG && n - 4 >= 2 && n - 4 <= want)
		want = n - 4;
	if (want < 0 || (size_t)want > max || n - 4 != want)
		goto out;
	memcpy(body, buf + 4, (size_t)want);
	*len = (size_t)want;
	rc = 1;
out:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

void priv_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	       (struct sockaddr *)&sun, len);
	close(fd);
}
