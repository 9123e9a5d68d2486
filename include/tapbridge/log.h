/*
 * log.h -- diagnostics to stderr (foreground) or syslog (daemon).
 *
 * The OpenBSD daemon shape: log_warn adds the errno text and keeps errno;
 * log_warnx does not.  fatal/fatalx exit the process and may be called only
 * from main.c and the privileged parent, never from library modules.  Never
 * pass key bytes or frame contents to any of these.  The hot path calls none
 * of them: drops bump counters, and the few warnings an operator needs are
 * rate-limited where they are detected.
 */
#ifndef TAPBRIDGE_LOG_H
#define TAPBRIDGE_LOG_H

#include <stdint.h>
#include <sys/socket.h>

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
};

/* log_init(dest, verbosity, ident): 0 = info, 1 = debug.  Callable again. */
void log_init(enum log_dest dest, int verbosity, const char *ident);
/* log_procname(name): tag following lines with the process role. */
void log_procname(const char *name);

/*
 * log_set_sink(sink): hand every line to sink(pri, line) instead of syslog
 * or standard error (NULL: back to them).  The sandboxed network process
 * passes its lines to the parent this way; the connection to syslog it
 * inherited is closed, so that only the parent writes to syslog or to its
 * standard error (the journal, under systemd), after checking every line.
 */
void log_set_sink(void (*sink)(int pri, const char *line));

/* log_line(pri, line): log a line as it is (the parent, for the child). */
void log_line(int pri, const char *line);
int log_verbosity(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * log_addr(sa, buf, len): format an address as "198.18.0.1:7000" or
 * "[fd00::1]:7000" (v4-mapped v6 shown as v4); returns buf.
 */
#define LOG_ADDR_LEN 64
const char *log_addr(const struct sockaddr *sa, char *buf, size_t len);

#endif
