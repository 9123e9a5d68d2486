/*
 * log.c -- stderr or syslog diagnostics; see log.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "tapbridge/log.h"

static enum log_dest dest = LOG_TO_STDERR;
static int verbosity;
static const char *procname;
static void (*sink)(int, const char *);

void log_set_sink(void (*fn)(int pri, const char *line))
{
	sink = fn;
	if (sink && dest == LOG_TO_SYSLOG)
		closelog();	/* the connection is not the sink's to use */
}

void log_line(int pri, const char *line)
{
	if (dest == LOG_TO_SYSLOG)
		syslog(pri, "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

void log_init(enum log_dest d, int v, const char *ident)
{
	dest = d;
	verbosity = v;
	if (dest == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_procname(const char *name)
{
	procname = name;
}

int log_verbosity(void)
{
	return verbosity;
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
	__attribute__((format(printf, 2, 0)));

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sink) {
		char line[1200];

		snprintf(line, sizeof(line), "%s%s%s%s%s",
			 procname ? procname : "", procname ? ": " : "", msg,
			 suffix ? ": " : "", suffix ? suffix : "");
		sink(pri, line);
		return;
	}
	if (dest == LOG_TO_SYSLOG) {
		if (procname)
			syslog(pri, "%s: %s%s%s", procname, msg,
			       suffix ? ": " : "", suffix ? suffix : "");
		else
			syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
			       suffix ? suffix : "");
		return;
	}
	if (procname)
		fprintf(stderr, "%s: ", procname);
	fprintf(stderr, "%s%s%s\n", msg, suffix ? ": " : "",
		suffix ? suffix : "");
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

const char *log_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	struct in_addr v4;

	switch (sa ? sa->sa_family : AF_UNSPEC) {
	case AF_INET:
		s4 = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
		break;
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
			inet_ntop(AF_INET, &v4, host, sizeof(host));
			snprintf(buf, len, "%s:%u", host,
				 ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, host,
				  sizeof(host));
			snprintf(buf, len, "[%s]:%u", host,
				 ntohs(s6->sin6_port));
		}
		break;
	default:
		snprintf(buf, len, "(none)");
	}
	return buf;
}
