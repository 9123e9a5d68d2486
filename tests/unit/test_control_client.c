/*
 * test_control_client.c -- the client side of the control socket
 * (control_query, as `tapbridge status` uses it) against a daemon that
 * misbehaves: the answer comes from the sandboxed network process, which
 * is not trusted to keep it short, to end it, or to keep terminal control
 * sequences out of it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tapbridge/control.h"
#include "tapbridge/log.h"

static char dir[] = "/tmp/tb-control-client-XXXXXX";
static char path[sizeof(dir) + 16];
static pid_t server = -1;

enum behaviour { ESCAPES, ENDLESS, SILENT };

/* A fake daemon on path: accept one client, read its request, then act. */
static void serve(enum behaviour b)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char esc[] =
		"peer \x1b]0;owned\x07 up\r\n\x1b[2Jdone\tok\x7f\n";
	char buf[4096];
	int fd, c;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	server = fork();
	cr_assert_geq(server, 0);
	if (server > 0) {
		close(fd);
		return;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	c = accept(fd, NULL, NULL);
	if (c < 0 || recv(c, buf, sizeof(buf), 0) <= 0)
		_exit(1);
	switch (b) {
	case ESCAPES:
		send(c, esc, sizeof(esc) - 1, 0);
		break;
	case ENDLESS:
		memset(buf, 'x', sizeof(buf));
		while (send(c, buf, sizeof(buf), 0) > 0)
			;
		break;
	case SILENT:
		pause();
		break;
	}
	_exit(0);
}

static void setup(void)
{
	log_init(LOG_TO_STDERR, 0, "test_control_client");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.sock", dir);
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	unlink(path);
	rmdir(dir);
}

TestSuite(control_client, .init = setup, .fini = teardown, .timeout = 30);

Test(control_client, control_characters_do_not_reach_the_terminal)
{
	char *got = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&got, &len);

	cr_assert_not_null(out);
	serve(ESCAPES);
	cr_assert_eq(control_query(path, "status", out), 0);
	fclose(out);
	cr_assert_str_eq(got, "peer ?]0;owned? up?\n?[2Jdone\tok?\n");
	free(got);
}

/* The query against a daemon behaving so fails with errno err. */
static void expect_given_up(enum behaviour b, int err)
{
	FILE *out = fopen("/dev/null", "w");

	cr_assert_not_null(out);
	serve(b);
	cr_assert_eq(control_query(path, "status", out), -1);
	cr_assert_eq(errno, err, "errno %d, want %d", errno, err);
	fclose(out);
}

Test(control_client, an_endless_answer_is_cut_off)
{
	expect_given_up(ENDLESS, EMSGSIZE);
}

Test(control_client, a_daemon_that_never_answers_is_not_waited_for)
{
	expect_given_up(SILENT, ETIMEDOUT);
}
