/*
 * test_sandbox.c -- the network process's seccomp filter, applied for real
 * by sandbox_enter in a forked process: what the data path needs passes,
 * signals and resource limits reach this process only, and anything else
 * kills it (SIGSYS).
 *
 * Also: sandbox_root's directories get their mode whatever the umask.
 *
 * Needs root (chroot, a change of uid); skipped otherwise, and in the
 * sanitizer and valgrind builds, whose runtimes make system calls of their
 * own (there the filter only logs, or would kill the tool).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tapbridge/log.h"
#include "tapbridge/sandbox.h"

static char root[] = "/tmp/test_sandbox.XXXXXX";

static void setup(void)
{
	const char *pre = getenv("LD_PRELOAD");

	if (geteuid() != 0)
		cr_skip_test("SKIPPED: needs root (chroot, setuid); run make "
			     "unit as root");
#ifdef TAPBRIDGE_SANITIZE
	cr_skip_test("SKIPPED in sanitizer builds: the filter only logs");
#endif
	if (pre && strstr(pre, "vgpreload"))
		cr_skip_test("SKIPPED under valgrind: its own system calls");
	log_init(LOG_TO_STDERR, 0, "test_sandbox");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	if (root[strlen(root) - 1] != 'X')
		rmdir(root);
}

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 10);

/* In a child, enter the sandbox as nobody and run fn; its wait status. */
static int sandboxed(int (*fn)(pid_t parent))
{
	pid_t parent = getpid(), pid;
	int status;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (sandbox_enter(root, 65534, 65534) < 0)
			_exit(100);
		_exit(fn(parent));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit0(int status, const char *what)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s: status %#x", what, (unsigned)status);
}

static void assert_killed(int status, const char *what)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "%s: status %#x, not killed by SIGSYS", what,
		  (unsigned)status);
}

static int signal_self(pid_t parent)
{
	return syscall(SYS_tgkill, getpid(), gettid(), 0) == 0 ? 0 : 1;
}

static int signal_parent(pid_t parent)
{
	syscall(SYS_tgkill, parent, parent, 0);
	return 0;
}

static int limits_self(pid_t parent)
{
	struct rlimit r;

	return syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r) == 0 ? 0 : 1;
}

static int limits_parent(pid_t parent)
{
	struct rlimit r;

	syscall(SYS_prlimit64, parent, RLIMIT_NOFILE, NULL, &r);
	return 0;
}

static int udp_socket(pid_t parent)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	return fd >= 0 ? 0 : 1;
}

static int netlink_socket(pid_t parent)
{
	socket(AF_NETLINK, SOCK_RAW, 0);
	return 0;
}

static int ping_socket(pid_t parent)
{
	socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	return 0;
}

static int udplite_socket(pid_t parent)
{
	socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE);
	return 0;
}

static int limits_raise(pid_t parent)
{
	struct rlimit r = { 1024, 1024 };

	syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &r, NULL);
	return 0;
}

static int memory_rw(pid_t parent)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED && mprotect(p, 4096, PROT_NONE) == 0 &&
	       mprotect(p, 4096, PROT_READ) == 0 ? 0 : 1;
}

static int memory_exec(pid_t parent)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	     -1, 0);
	return 0;
}

static int memory_make_exec(pid_t parent)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 0;
}

static int open_file(pid_t parent)
{
	/* Refused politely: there are no files in the chroot anyway. */
	return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", 0) < 0 &&
	       errno == EACCES ? 0 : 1;
}

Test(sandbox, what_the_data_path_needs_passes)
{
	assert_exit0(sandboxed(signal_self), "tgkill of itself");
	assert_exit0(sandboxed(limits_self), "prlimit64 of itself");
	assert_exit0(sandboxed(udp_socket), "a UDP socket");
	assert_exit0(sandboxed(open_file), "openat, refused with EACCES");
	assert_exit0(sandboxed(memory_rw), "memory read, written, guarded");
}

Test(sandbox, other_processes_are_out_of_reach)
{
	assert_killed(sandboxed(signal_parent), "tgkill of another process");
	assert_killed(sandboxed(limits_parent),
		      "prlimit64 of another process");
}

Test(sandbox, anything_else_kills_the_process)
{
	assert_killed(sandboxed(netlink_socket), "a netlink socket");
	assert_killed(sandboxed(ping_socket), "an ICMP (ping) socket");
	assert_killed(sandboxed(udplite_socket), "a UDP-Lite socket");
	assert_killed(sandboxed(limits_raise), "prlimit64 setting a limit");
	assert_killed(sandboxed(memory_exec), "executable memory");
	assert_killed(sandboxed(memory_make_exec),
		      "memory made executable");
}

/* The directories sandbox_root makes are 0755 under any umask: the
 * control socket's directory (by default the sandbox's parent) must stay
 * searchable for a control-group. */
Test(sandbox_root, made_directories_are_0755_whatever_the_umask)
{
	char base[] = "/tmp/test_sandbox_root.XXXXXX", dir[64], path[80];
	mode_t old, got_dir = 0, got_path = 0;
	struct stat st;
	int rc;

	if (geteuid() != 0)
		cr_skip_test("SKIPPED: needs root (the directory must be "
			     "root's); run make unit as root");
	cr_assert_not_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/run", base);
	snprintf(path, sizeof(path), "%s/empty", dir);
	old = umask(077);
	rc = sandbox_root(path);
	umask(old);
	if (stat(dir, &st) == 0)
		got_dir = st.st_mode & 07777;
	if (stat(path, &st) == 0)
		got_path = st.st_mode & 07777;
	rmdir(path);	/* before any assertion can end the test */
	rmdir(dir);
	rmdir(base);
	cr_assert_eq(rc, 0);
	cr_assert_eq(got_dir, 0755, "%s is %o", dir, got_dir);
	cr_assert_eq(got_path, 0755, "%s is %o", path, got_path);
}
