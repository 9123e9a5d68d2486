/*
 * config_impl.h -- what the files of the configuration parser share beyond
 * config.h.  Not part of any public surface: only the src/config*.c
 * files include it.
 *
 *   config.c        the grammar: lines, words, peer blocks, the directive
 *                   table, "file:line:" messages, checks across directives
 *   config_words.c  one line into words: blanks, quotes, comments
 *   config_value.c  one value at a time: numbers and durations, yes/no,
 *                   names, paths, interface names, addresses, keys
 *
 * Every cv_ ("config value") check takes the directive's keyword, used in
 * its message, and the value as one word.  It returns 0 once it has stored
 * the value, or -1 with the reason written into why: the whole message,
 * without the "file:line: " the caller puts in front when it reports it.
 * On -1 nothing is stored unless the function says otherwise.  No cv_
 * function logs or counts errors; that is the grammar's job.
 */
#ifndef TAPBRIDGE_CONFIG_IMPL_H
#define TAPBRIDGE_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "tapbridge/config.h"

#define LINE_MAX_LEN	1023		/* characters, without the newline */
#define SUN_PATH_LEN	sizeof(((struct sockaddr_un *)0)->sun_path)
#define CV_WHY_MAX	512		/* any parser message; longer are cut */

#define CW_WORDS_MAX	8		/* words kept; more are only counted */

/* One line split into words: the first CW_WORDS_MAX kept, all counted. */
struct cw_line {
	char *word[CW_WORDS_MAX];	/* NUL-terminated, inside buf */
	bool quoted[CW_WORDS_MAX];	/* the word was written "..." */
	int nwords;			/* words on the line, kept or not */
	char buf[2 * (LINE_MAX_LEN + 1)];
};

/*
 * cw_split(l, s, len, why): split the line s[0..len) (no newline, at most
 * LINE_MAX_LEN bytes) into l.  Returns 0, or -1 with the reason in why (a
 * control character, an unterminated or badly placed quote, a bad escape);
 * l is then incomplete.
 */
int cw_split(struct cw_line *l, const char *s, size_t len,
	     char why[CV_WHY_MAX]);

/*
 * cv_show(s): s made safe for a message: control and non-ASCII bytes as
 * \xNN, cut at 64 characters with "...".  Uses one of two static
 * buffers, so a message may show two values.
 */
const char *cv_show(const char *s);
/* cv_copy(dst, size, src): bounded copy; 0, or -1 (dst untouched). */
int cv_copy(char *dst, size_t size, const char *src);

/* cv_seconds(kw, val, lo, hi, out, why): whole seconds from lo to hi. */
int cv_seconds(const char *kw, const char *val, unsigned lo, unsigned hi,
	       unsigned *out, char why[CV_WHY_MAX]);
/*
 * cv_wan_mtu(kw, val, out, why): "auto" (stored as 0) or a number from
 * CONFIG_WAN_MTU_MIN to CONFIG_WAN_MTU_MAX.
 */
int cv_wan_mtu(const char *kw, const char *val, unsigned *out,
	       char why[CV_WHY_MAX]);
/* cv_yes_no(kw, val, out, why): "yes" (true) or "no" (false). */
int cv_yes_no(const char *kw, const char *val, bool *out,
	      char why[CV_WHY_MAX]);
/*
 * cv_ifname(kw, val, dst, why): a network interface name: not empty,
 * shorter than IFNAMSIZ, no '/', ':', '%' or blanks, not "." or "..".
 */
int cv_ifname(const char *kw, const char *val, char dst[IFNAMSIZ],
	      char why[CV_WHY_MAX]);
/* cv_path(kw, val, dst, why): a file path, not empty, that fits dst. */
int cv_path(const char *kw, const char *val, char dst[CONFIG_PATH_MAX],
	    char why[CV_WHY_MAX]);
/*
 * cv_socket_path(kw, val, dst, why): an absolute path that fits the
 * sun_path of a Unix socket address.
 */
int cv_socket_path(const char *kw, const char *val,
		   char dst[CONFIG_PATH_MAX], char why[CV_WHY_MAX]);
/*
 * cv_name(kw, val, dst, why): a user or group name: 1 to
 * CONFIG_NAME_MAX - 1 letters, digits, '_', '.' or '-', not starting
 * with '-'.
 */
int cv_name(const char *kw, const char *val, char dst[CONFIG_NAME_MAX],
	    char why[CV_WHY_MAX]);
/*
 * cv_peer_name(val, why): whether val may name a peer: 1 to
 * CONFIG_NAME_MAX - 1 of A-Z a-z 0-9 _ . -; checks only, stores nothing.
 */
int cv_peer_name(const char *val, char why[CV_WHY_MAX]);
/*
 * cv_listen(kw, val, e, why): "IPv4:port", "[IPv6]:port" or a bare port
 * (host "": any address), port 1..65535, into e->host and e->port.
 */
int cv_listen(const char *kw, const char *val, struct config_endpoint *e,
	      char why[CV_WHY_MAX]);
/*
 * cv_endpoint(kw, val, e, why): "host:port" with an IPv4 address or a
 * DNS name, or "[IPv6]:port", port 1..65535, into e->host and e->port.
 */
int cv_endpoint(const char *kw, const char *val, struct config_endpoint *e,
		char why[CV_WHY_MAX]);
/*
 * cv_public_key(kw, val, key, why): the base64 of a KEYS_LEN-byte key
 * that is not all zeros, decoded into key.  On -1 key is all zeros.
 */
int cv_public_key(const char *kw, const char *val, uint8_t key[KEYS_LEN],
		  char why[CV_WHY_MAX]);

#endif
