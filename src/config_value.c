/*
 * config_value.c -- tapbridge.conf values, one at a time; see config_impl.h.
 *
 * Each check takes one word of a directive line and either stores what it
 * means or writes why it cannot: numbers with their ranges, durations,
 * yes/no, names, paths, interface names, "host:port" endpoints with IPv4,
 * IPv6 or DNS hosts, and base64 public keys.  Nothing here knows about
 * lines, blocks or files, and nothing here logs: the grammar in config.c
 * puts "file:line: " in front of the reason and reports it.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config_impl.h"

#define SHOW_MAX	64		/* characters of a value in a message */

/* fail(why, fmt, ...): write the reason into why; returns -1. */
static int __attribute__((format(printf, 2, 3)))
fail(char why[CV_WHY_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, CV_WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

const char *cv_show(const char *s)
{
	static char bufs[2][SHOW_MAX * 4 + 4];
	static int which;
	char *b = bufs[which ^= 1], *o = b;
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	for (n = 0; u[n] && n < SHOW_MAX; n++) {
		if (u[n] < 0x20 || u[n] >= 0x7f)
			o += sprintf(o, "\\x%02x", u[n]);
		else
			*o++ = (char)u[n];
	}
	strcpy(o, u[n] ? "..." : "");
	return b;
}

int cv_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Numbers and ports */

/*
 * number(s, max, out): s is decimal digits only, value <= max; 0 or -1.
 * Returns -2 if s is not a plain (perhaps signed) integer at all.
 */
static int number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *d = s + (*s == '-');

	if (!*d || strspn(d, "0123456789") != strlen(d))
		return -2;
	if (*s == '-')
		return -1;
	for (; *d; d++) {
		if (v > (ULONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*d - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int cv_seconds(const char *kw, const char *val, unsigned lo, unsigned hi,
	       unsigned *out, char why[CV_WHY_MAX])
{
	unsigned long v;
	int r = number(val, hi, &v);

	if (r == -2)
		return fail(why, "'%s' must be a whole number of seconds, "
			    "got '%s'", kw, cv_show(val));
	if (r < 0 || v < lo)
		return fail(why, "'%s' must be between %u and %u, got '%s'",
			    kw, lo, hi, cv_show(val));
	*out = (unsigned)v;
	return 0;
}

int cv_wan_mtu(const char *kw, const char *val, unsigned *out,
	       char why[CV_WHY_MAX])
{
	unsigned long v;

	if (!strcmp(val, "auto"))
		v = 0;
	else if (number(val, CONFIG_WAN_MTU_MAX, &v) < 0 ||
		 v < CONFIG_WAN_MTU_MIN)
		return fail(why, "'%s' must be 'auto' or between %u and %u, "
			    "got '%s'", kw, CONFIG_WAN_MTU_MIN,
			    CONFIG_WAN_MTU_MAX, cv_show(val));
	*out = (unsigned)v;
	return 0;
}

int cv_yes_no(const char *kw, const char *val, bool *out,
	      char why[CV_WHY_MAX])
{
	if (!strcmp(val, "yes"))
		*out = true;
	else if (!strcmp(val, "no"))
		*out = false;
	else
		return fail(why, "'%s' must be 'yes' or 'no', got '%s'", kw,
			    cv_show(val));
	return 0;
}

/* port(kw, s, out, why): a port 1..65535; 0 or -1. */
static int port(const char *kw, const char *s, uint16_t *out,
		char why[CV_WHY_MAX])
{
	unsigned long v;

	if (number(s, 65535, &v) < 0 || v == 0)
		return fail(why, "'%s' port must be between 1 and 65535, "
			    "got '%s'", kw, cv_show(s));
	*out = (uint16_t)v;
	return 0;
}

/* Names and paths */

int cv_ifname(const char *kw, const char *val, char dst[IFNAMSIZ],
	      char why[CV_WHY_MAX])
{
	if (!*val)
		return fail(why, "'%s' must not be empty", kw);
	if (strlen(val) >= IFNAMSIZ)
		return fail(why, "'%s' must be at most %d characters, "
			    "got '%s'", kw, IFNAMSIZ - 1, cv_show(val));
	if (strpbrk(val, "/:% \t"))
		return fail(why, "'%s' must not contain '/', ':', '%%' or "
			    "spaces, got '%s'", kw, cv_show(val));
	if (!strcmp(val, ".") || !strcmp(val, ".."))
		return fail(why, "'%s' must not be '.' or '..'", kw);
	cv_copy(dst, IFNAMSIZ, val);
	return 0;
}

int cv_path(const char *kw, const char *val, char dst[CONFIG_PATH_MAX],
	    char why[CV_WHY_MAX])
{
	if (!*val)
		return fail(why, "'%s' must not be empty", kw);
	if (cv_copy(dst, CONFIG_PATH_MAX, val) < 0)
		return fail(why, "'%s' is too long", kw);
	return 0;
}

int cv_socket_path(const char *kw, const char *val,
		   char dst[CONFIG_PATH_MAX], char why[CV_WHY_MAX])
{
	if (val[0] != '/')
		return fail(why, "'%s' must be an absolute path, got '%s'",
			    kw, cv_show(val));
	if (strlen(val) >= SUN_PATH_LEN)
		return fail(why, "'%s' must be shorter than %zu bytes, "
			    "got '%s'", kw, SUN_PATH_LEN, cv_show(val));
	cv_copy(dst, CONFIG_PATH_MAX, val);
	return 0;
}

#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789_.-"

int cv_name(const char *kw, const char *val, char dst[CONFIG_NAME_MAX],
	    char why[CV_WHY_MAX])
{
	size_t n = strlen(val);

	if (n == 0 || n >= CONFIG_NAME_MAX ||
	    strspn(val, NAME_CHARS) != n || val[0] == '-')
		return fail(why, "'%s' must be a name of 1 to %d letters, "
			    "digits, '_', '.' or '-', got '%s'", kw,
			    CONFIG_NAME_MAX - 1, cv_show(val));
	cv_copy(dst, CONFIG_NAME_MAX, val);
	return 0;
}

int cv_peer_name(const char *val, char why[CV_WHY_MAX])
{
	size_t n = strlen(val);

	if (n == 0 || n >= CONFIG_NAME_MAX || strspn(val, NAME_CHARS) != n)
		return fail(why, "peer name '%s' must be 1 to %d characters "
			    "of A-Z a-z 0-9 _ . -", cv_show(val),
			    CONFIG_NAME_MAX - 1);
	return 0;
}

/* Addresses */

/*
 * split(s, host, port): "host:port" or "[v6]:port" into its parts (host
 * without brackets, in the buffer it came from); -1 if neither shape.
 * *v6 says whether brackets were used.
 */
static int split(char *s, char **host, char **portp, bool *v6)
{
	char *colon;

	*v6 = s[0] == '[';
	if (*v6) {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			return -1;
		*colon++ = '\0';
		*host = s + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':') || colon == s)
			return -1;
		*host = s;
	}
	*colon = '\0';
	*portp = colon + 1;
	return 0;
}

/* is_ip(af, s): s is an address of family af, in its one usual form. */
static bool is_ip(int af, const char *s)
{
	struct in6_addr a;

	return inet_pton(af, s, &a) == 1;
}

/*
 * is_hostname(s): letters, digits, '-' and '.' in labels of 1..63
 * characters, 253 in all, an optional final dot; the last label is not all
 * digits, so "1.2.3" or "256.0.0.1" can never be taken for an address.
 */
static bool is_hostname(const char *s)
{
	size_t len = strlen(s), i, label = 0;
	bool digits = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", s[i]))
			return false;
		if ((label == 0 && s[i] == '-') || ++label > 63)
			return false;
		digits = digits && s[i] >= '0' && s[i] <= '9';
	}
	return s[len - 1] != '-' && !digits;
}

int cv_listen(const char *kw, const char *val, struct config_endpoint *e,
	      char why[CV_WHY_MAX])
{
	char buf[LINE_MAX_LEN + 1], *host, *portp;
	bool v6;

	cv_copy(buf, sizeof(buf), val);
	if (strspn(val, "0123456789") == strlen(val)) {
		host = buf + strlen(buf);
		portp = buf;
	} else if (split(buf, &host, &portp, &v6) < 0 ||
		   !is_ip(v6 ? AF_INET6 : AF_INET, host)) {
		return fail(why, "'%s' must be IPv4:port, [IPv6]:port or a "
			    "port, got '%s'", kw, cv_show(val));
	}
	if (port(kw, portp, &e->port, why) < 0)
		return -1;
	cv_copy(e->host, sizeof(e->host), host);
	return 0;
}

int cv_endpoint(const char *kw, const char *val, struct config_endpoint *e,
		char why[CV_WHY_MAX])
{
	char buf[LINE_MAX_LEN + 1], *host, *portp;
	bool v6;

	cv_copy(buf, sizeof(buf), val);
	if (split(buf, &host, &portp, &v6) < 0)
		return fail(why, "'%s' must be host:port or [IPv6]:port, "
			    "got '%s'", kw, cv_show(val));
	if (!is_ip(v6 ? AF_INET6 : AF_INET, host) &&
	    (v6 || !is_hostname(host)))
		return fail(why, "'%s' host must be %s, got '%s'", kw, v6 ?
			    "an IPv6 address inside [ ]" :
			    "an IPv4 address or a DNS name", cv_show(host));
	if (port(kw, portp, &e->port, why) < 0)
		return -1;
	cv_copy(e->host, sizeof(e->host), host);
	return 0;
}

/* Keys */

int cv_public_key(const char *kw, const char *val, uint8_t key[KEYS_LEN],
		  char why[CV_WHY_MAX])
{
	if (keys_from_base64(key, val) < 0)
		return fail(why, "'%s' is not a base64 key of %d bytes (paste "
			    "the peer's: what 'tapbridge pubkey' prints on "
			    "the peer)",
			    kw, KEYS_LEN);
	if (sodium_is_zero(key, KEYS_LEN))
		return fail(why, "'%s' is all zeros, not a public key", kw);
	return 0;
}
