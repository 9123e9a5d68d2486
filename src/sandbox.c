/*
 * sandbox.c -- chroot, credentials, capabilities, seccomp; see sandbox.h.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "tapbridge/log.h"
#include "tapbridge/sandbox.h"

int sandbox_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		log_warnx("user '%s' does not exist: create it (useradd "
			  "--system --no-create-home --shell /usr/sbin/nologin "
			  "%s) or name another one with 'user'", name, name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx("user '%s' is root: the network process must run "
			  "unprivileged", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int is_empty_dir(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int empty = 1;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* mkdir path 0755 whatever the umask; an existing one is kept. */
static int make_dir(const char *path, const char *what)
{
	if (mkdir(path, 0755) == 0)
		chmod(path, 0755);
	else if (errno != EEXIST) {
		log_warn("cannot create %s '%s'", what, path);
		return -1;
	}
	return 0;
}

int sandbox_make_parent(const char *path)
{
	char parent[4096], *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return 0;
	*slash = '\0';
	return make_dir(parent, "directory");
}


int sandbox_root(const char *path)
{
	struct stat st;

	if (sandbox_make_parent(path) < 0 ||
	    make_dir(path, "sandbox directory") < 0)
		return -1;
	if (lstat(path, &st) < 0) {
		log_warn("sandbox directory '%s'", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		log_warnx("sandbox directory '%s' must be a directory owned by "
			  "root and writable by nobody else", path);
		return -1;
	}
	if (!is_empty_dir(path)) {
		log_warnx("sandbox directory '%s' must be empty", path);
		return -1;
	}
	return 0;
}

/* Everything the data path, the control socket and logging call. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(accept4), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close),
	SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getrandom), SCMP_SYS(munmap), SCMP_SYS(madvise),
	SCMP_SYS(mlock),
	SCMP_SYS(munlock), SCMP_SYS(brk), SCMP_SYS(mremap),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(futex), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(restart_syscall),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
};

static int load_seccomp(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc = -1;

#ifdef TAPBRIDGE_SANITIZE
	/* Sanitizer builds (tests only): their runtime calls outside the
	 * list; log those instead of killing, the filter stays in place. */
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
#endif
	if (!ctx)
		return -1;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) < 0)
			goto out;
	/*
	 * Signals (abort) and resource limits (libc): this process only, not
	 * others of the same uid, such as another instance's.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
			     SCMP_A0(SCMP_CMP_EQ, 0),
			     SCMP_A2(SCMP_CMP_EQ, 0)) < 0)	/* read only */
		goto out;
	/* Memory (malloc, sodium_malloc's guard pages), never executable. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) < 0)
		goto out;
	/* Path MTU queries: UDP sockets of the two IP families only (not
	 * ping sockets, not UDP-Lite). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
			     SCMP_A0(SCMP_CMP_EQ, AF_INET),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
			     SCMP_A2(SCMP_CMP_EQ, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
			     SCMP_A0(SCMP_CMP_EQ, AF_INET6),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
			     SCMP_A2(SCMP_CMP_EQ, 0)) < 0)
		goto out;
	/* Files: there are none in the chroot; fail politely, do not kill
	 * (libc may look for locale or time zone data). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat),
			     0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0) <
		    0)
		goto out;
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	if (rc < 0)
		errno = rc < -1 ? -rc : EINVAL;
	return rc < 0 ? -1 : 0;
}

int sandbox_enter(const char *root, uid_t uid, gid_t gid)
{
	pid_t parent = getppid();

	tzset();	/* before the zone files are out of reach */
	if (chroot(root) < 0 || chdir("/") < 0) {
		log_warn("cannot chroot to '%s'", root);
		return -1;
	}
	/* New ids, no supplementary group, no capability left in any set,
	 * the bounding set included. */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP |
			    CAPNG_CLEAR_BOUNDING) < 0) {
		log_warnx("cannot switch to uid %u gid %u and drop every "
			  "capability", (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || getgroups(0, NULL) > 0) {
		log_warnx("credentials did not change as asked");
		return -1;
	}
	if (setresuid(0, 0, 0) == 0) {
		log_warnx("could regain root after dropping it");
		return -1;
	}
	/* Die with the parent, even stopped or stuck: set after the change
	 * of ids, which clears it; a parent already gone is seen after. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != parent) {
		log_warnx("cannot tie this process's life to its parent's");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_warn("cannot set no-new-privs");
		return -1;
	}
	if (load_seccomp() < 0) {
		log_warn("cannot load the seccomp filter");
		return -1;
	}
	return 0;
}

int sandbox_parent(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				  CAPNG_BOUNDING_SET, CAP_NET_ADMIN, CAP_KILL,
			  -1) < 0 ||
	    capng_apply(CAPNG_SELECT_BOTH) < 0) {
		log_warnx("cannot reduce the capabilities of the privileged "
			  "process");
		return -1;
	}
	return 0;
}
