/*
 * test_priv.c -- the privileged parent's side of stopping
 * (daemon_priv_reap in src/daemon_priv.c) against a network process that
 * does not stop: one that keeps sending log lines and ignores the end of
 * the conversation must not keep the parent from killing it and going on
 * with its teardown.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tapbridge/log.h"
#include "tapbridge/priv.h"

#include "../../src/daemon_impl.h"

TestSuite(priv, .timeout = 30);

/*
 * A compromised network process: log lines for ever, 64 per sendmmsg, so
 * that it writes them faster than the parent, which takes one per recv,
 * can read them.
 */
static void flood_logs(int fd)
{
	uint8_t msg[4 + 1 + 60];
	struct mmsghdr mm[64];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	unsigned i;

	signal(SIGPIPE, SIG_IGN);
	memset(msg, 0, 4);
	msg[0] = PRIV_LOG;
	msg[4] = 6;	/* LOG_INFO */
	memset(msg + 5, 'x', sizeof(msg) - 5);
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < 64; i++) {
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;)
		sendmmsg(fd, mm, 64, 0);
}

Test(priv, a_network_process_that_keeps_logging_is_killed_at_the_stop)
{
	struct daemon d;
	int sv[2], null;
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		     0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive us */
		close(sv[0]);
		flood_logs(sv[1]);
	}
	close(sv[1]);
	/* What it logs is not the point: keep it out of the test's output. */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	cr_assert_geq(null, 0);
	fflush(stderr);
	cr_assert_geq(dup2(null, STDERR_FILENO), 0);
	log_init(LOG_TO_STDERR, 0, "test_priv");

	memset(&d, 0, sizeof(d));
	d.ipc = sv[0];
	d.child = pid;
	cr_assert_eq(fcntl(d.ipc, F_SETFL, O_NONBLOCK), 0);
	alarm(20);	/* a reap that never returns ends here, not hangs */
	daemon_priv_reap(&d);	/* before the fix: never returned */
	alarm(0);

	cr_assert_eq(d.child, 0);
	cr_assert(WIFSIGNALED(d.child_status) &&
		  WTERMSIG(d.child_status) == SIGKILL,
		  "the flooding process was not killed (status %#x)",
		  d.child_status);
	cr_assert_eq(kill(pid, 0), -1, "it is still there");
	close(sv[0]);
	close(null);
}
