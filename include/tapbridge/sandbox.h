/*
 * sandbox.h -- confinement of the two processes of tapbridge.
 *
 * The network process, which parses every byte from the internet, enters
 * the sandbox before its first packet: chroot into an empty root-owned
 * directory, the configured unprivileged user and its group only, no
 * capability left (bounding set included), no-new-privs, death with its
 * parent (SIGKILL, whatever state it is in), and a seccomp allowlist of the
 * few system calls the data path makes; anything else kills it.  The privileged parent keeps root's identity but only the
 * capabilities teardown and supervision need.  Nothing here can be undone;
 * every step is checked and a failure is fatal to the caller.
 */
#ifndef TAPBRIDGE_SANDBOX_H
#define TAPBRIDGE_SANDBOX_H

#include <sys/types.h>

/* sandbox_user(name, uid, gid): look the user up.  0, or -1 (logged, with
 * a hint on how to create it). */
int sandbox_user(const char *name, uid_t *uid, gid_t *gid);

/*
 * sandbox_make_parent(path): make the directory path is in (one level),
 * 0755 whatever the umask: the sandbox's parent and the control socket's
 * directory (by default the same) must stay searchable for a
 * control-group.  One that exists is kept.  0, or -1 (logged).
 */
int sandbox_make_parent(const char *path);

/*
 * sandbox_root(path): make sure path is an empty directory owned by root
 * and writable by nobody else, creating it (0755) when missing.  0 or -1
 * (logged).
 */
int sandbox_root(const char *path);

/*
 * sandbox_enter(root, uid, gid): confine this process for good (see
 * above).  Returns 0, or -1 (logged) if any step failed; the caller must
 * then exit without touching a packet.
 */
int sandbox_enter(const char *root, uid_t uid, gid_t gid);

/*
 * sandbox_parent(): keep only CAP_NET_ADMIN (teardown over rtnetlink) and
 * CAP_KILL (stopping the network process, which runs as another user), in
 * every capability set.  0 or -1 (logged).
 */
int sandbox_parent(void);

#endif
