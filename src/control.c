/*
 * control.c -- the control socket: listening, serving one request, the
 * client side; see control.h.  The reports themselves are rendered by
 * control_status.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tapbridge/control.h"
#include "tapbridge/log.h"
#include "tapbridge/loop.h"
#include "tapbridge/sandbox.h"

#include "control_impl.h"

#define CONTROL_REQ_MAX 64
#define CONTROL_CLIENTS 4	/* served at once */
#define ANSWER_MAX	(16u << 20)	/* bytes a client takes, at most */
#define ANSWER_WAIT_S	10		/* for each part of an answer */
#define CONTROL_WAIT_MS 1000	/* for the request, after the accept */
#define CONTROL_SEND_MS 10000	/* for the client to read the answer */

/*
 * Nothing here blocks the network process.  A client whose request has not
 * arrived at the accept, or who has not read all of a long answer (the
 * socket takes some 200 KB at once; a Prometheus report of 1000 peers is
 * 1.4 MB), keeps a slot and is served again at every tick; one that is too
 * slow (CONTROL_WAIT_MS for the request, CONTROL_SEND_MS for the answer) is
 * dropped, its answer cut short.
 */
struct control {
	int fd;
	struct sockaddr_un sun;
	struct control_client {
		int fd;			/* -1: free */
		uint64_t since_ms;	/* accepted, or answer ready */
		char *out;		/* the answer; NULL: no request yet */
		size_t len, sent;
	} client[CONTROL_CLIENTS];
};

static int fill_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		log_warnx("control socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* A socket file nobody answers on is stale and may be replaced. */
static int clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket '%s' exists and is not a socket",
			  sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live) {
		log_warnx("control socket '%s' is in use by a running "
			  "tapbridge", sun->sun_path);
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

struct control *control_open(const char *path)
{
	struct control *c = calloc(1, sizeof(*c));
	mode_t old;
	int i;

	if (!c)
		return NULL;
	for (i = 0; i < CONTROL_CLIENTS; i++)
		c->client[i].fd = -1;
	if (fill_sun(&c->sun, path) < 0 || sandbox_make_parent(path) < 0 ||
	    clear_stale(&c->sun) < 0)
		goto fail_free;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		log_warn("control socket");
		goto fail_free;
	}
	old = umask(0077);
	if (bind(c->fd, (struct sockaddr *)&c->sun, sizeof(c->sun)) < 0) {
		umask(old);
		log_warn("cannot bind control socket '%s'", path);
		goto fail_close;
	}
	umask(old);
	if (chmod(path, 0600) < 0) {
		log_warn("control socket '%s'", path);
		goto fail_unlink;
	}
	if (listen(c->fd, 8) < 0) {
		log_warn("cannot listen on control socket '%s'", path);
		goto fail_unlink;
	}
	return c;

fail_unlink:
	unlink(path);
fail_close:
	close(c->fd);
fail_free:
	free(c);
	return NULL;
}

int control_fd(const struct control *c)
{
	return c->fd;
}

static void drop_client(struct control_client *cl)
{
	close(cl->fd);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

void control_close(struct control *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			drop_client(&c->client[i]);
	close(c->fd);
	unlink(c->sun.sun_path);
	free(c);
}

/* Render the answer to request req into cl->out. */
static int render(struct control_client *cl, const char *req,
		  struct datapath *dp)
{
	struct datapath_info info;
	FILE *f;

	f = open_memstream(&cl->out, &cl->len);
	if (!f)
		return -1;
	datapath_info(dp, &info);
	if (!strcmp(req, "status"))
		control_format(&info, f, CONTROL_TEXT);
	else if (!strcmp(req, "status json"))
		control_format(&info, f, CONTROL_JSON);
	else if (!strcmp(req, "status prometheus"))
		control_prometheus(&info, f);
	else
		fprintf(f, "error: unknown request\n");
	if (fclose(f) != 0) {
		free(cl->out);
		cl->out = NULL;
		return -1;
	}
	return 0;
}

/*
 * Move client cl on as far as it goes without waiting: read its request,
 * render the answer, send what the socket takes.  Returns 1 when it is done
 * with (answered, gone or broken: drop it), 0 to try again later.
 */
static int serve(struct control_client *cl, struct datapath *dp,
		 uint64_t now)
{
	char req[CONTROL_REQ_MAX + 1];
	ssize_t n;

	if (!cl->out) {
		n = recv(cl->fd, req, CONTROL_REQ_MAX, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return now - cl->since_ms >= CONTROL_WAIT_MS;
		if (n <= 0)
			return 1;
		req[n] = '\0';
		req[strcspn(req, "\r\n")] = '\0';
		if (render(cl, req, dp) < 0)
			return 1;
		cl->since_ms = now;
	}
	while (cl->sent < cl->len) {
		n = send(cl->fd, cl->out + cl->sent, cl->len - cl->sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return now - cl->since_ms >= CONTROL_SEND_MS;
		if (n <= 0)
			return 1;
		cl->sent += (size_t)n;
	}
	return 1;
}

void control_tick(struct control *c, struct datapath *dp)
{
	uint64_t now = loop_now_ms();
	int i;

	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (c->client[i].fd >= 0 && serve(&c->client[i], dp, now))
			drop_client(&c->client[i]);
}

bool control_full(const struct control *c)
{
	int i;

	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (c->client[i].fd < 0)
			return false;
	return true;
}

void control_serve(struct control *c, struct datapath *dp)
{
	struct control_client *cl;
	int fd, i;

	/* One per free slot: the loop comes back for the rest after the
	 * data path had its turn. */
	for (i = 0; i < CONTROL_CLIENTS; i++) {
		cl = &c->client[i];
		if (cl->fd >= 0)
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			break;
		cl->fd = fd;
		cl->since_ms = loop_now_ms();
		if (serve(cl, dp, cl->since_ms))
			drop_client(cl);
	}
}

/*
 * The whole answer of the daemon on fd, into *buf (malloc'd, NUL-ended): at
 * most ANSWER_MAX bytes (EMSGSIZE), each part within ANSWER_WAIT_S
 * (ETIMEDOUT).  What answers is the sandboxed network process, which is
 * not trusted to end its answer or to keep it short.
 */
static int read_answer(int fd, char **buf, size_t *len)
{
	struct timeval tv = { .tv_sec = ANSWER_WAIT_S };
	char chunk[4096];
	size_t total = 0;
	ssize_t n;
	FILE *f;
	int err;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	f = open_memstream(buf, len);
	if (!f)
		return -1;
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
		total += (size_t)n;
		if (total > ANSWER_MAX) {
			n = -1;
			errno = EMSGSIZE;
			break;
		}
		fwrite(chunk, 1, (size_t)n, f);
	}
	err = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT :
								   errno;
	if (fclose(f) != 0 || n < 0) {
		free(*buf);
		*buf = NULL;
		errno = n < 0 ? err : errno;
		return -1;
	}
	return 0;
}

/* Control characters but newline and tab become '?': an answer goes to a
 * terminal as it is, and must not drive it. */
static void defang(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' &&
		     s[i] != '\t') || s[i] == 0x7f)
			s[i] = '?';
}

int control_query(const char *path, const char *request, FILE *out)
{
	struct sockaddr_un sun;
	char req[CONTROL_REQ_MAX + 2], *ans = NULL;
	size_t len = 0;
	int fd, rc = -1;

	if (fill_sun(&sun, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EACCES || errno == EPERM)
			log_warn("cannot connect to control socket '%s' (only "
				 "root and members of its 'control-group' "
				 "may)", path);
		else
			log_warn("cannot connect to control socket '%s' (is "
				 "tapbridge running with this configuration?)",
				 path);
		goto out_close;
	}
	snprintf(req, sizeof(req), "%s\n", request);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
	    read_answer(fd, &ans, &len) < 0) {
		log_warn("control socket '%s'", path);
		goto out_close;
	}
	defang(ans, len);
	if (len == 0) {
		log_warnx("control socket '%s': no answer from the daemon",
			  path);
	} else if (!strncmp(ans, "error: ", 7)) {
		log_warnx("control socket '%s': request '%s' refused (a daemon "
			  "older than this command?): %.*s", path, request,
			  (int)strcspn(ans + 7, "\n"), ans + 7);
	} else {
		fwrite(ans, 1, len, out);
		rc = 0;
	}
	free(ans);
out_close:
	close(fd);
	return rc;
}
