/*
 * config.c -- tapbridge.conf: lines, words, directives, checks; see config.h.
 *
 * Reading is byte by byte into a fixed line buffer, so NUL bytes, endless
 * lines and a missing final newline are ordinary input, not hazards.  A
 * line is split into words by config_words.c (double quotes group, '#'
 * starts a comment), the first word is looked up in a sorted directive
 * table that says where the directive may appear and whether it may
 * repeat, and its handler hands the value to its check in config_value.c,
 * which stores it or says why not.  A faulty line is reported here as
 * "file:line: message" and skipped; parsing goes on.  Cross-field checks
 * run at end of file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/config.h"

#include "config_impl.h"

#ifndef DAEMON_USER
#define DAEMON_USER "tapbridge"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

#define PEERS_MAX	1024

enum ctx {
	CTX_GLOBAL,
	CTX_PEER,
};

struct parser {
	struct config *c;
	const char *name;
	int line;
	int errors;
	struct config_peer *peer;	/* open block, or NULL */
	struct config_peer scratch;	/* block of a peer not kept */
	int peers_seen;			/* "peer" lines, kept or not */
	bool brace_missing;		/* last line: "peer x" without '{' */
	struct cw_line w;		/* the current line's words */
	char why[CV_WHY_MAX];		/* a handler's reason for -1 */
};

struct directive {
	const char *keyword;
	int (*handle)(struct parser *p, const char *kw, const char *val);
	enum ctx ctx;
	bool may_repeat;
	size_t line_off;		/* of its int line field */
};

static void vreport(const char *name, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vreport(const char *name, int line, const char *fmt, va_list ap)
{
	char msg[CV_WHY_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		log_warnx("%s:%d: %s", name, line, msg);
	else
		log_warnx("%s: %s", name, msg);
}

/* perr_at(p, line, fmt, ...): report an error at line (0: the file). */
static void __attribute__((format(printf, 3, 4)))
perr_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p->name, line, fmt, ap);
	va_end(ap);
	p->errors++;
}

/* perr(p, fmt, ...): report an error on the current line. */
#define perr(p, ...)	perr_at((p), (p)->line, __VA_ARGS__)

/*
 * Directive handlers: the value checks of config_value.c, pointed at the
 * field each directive sets.  0, or -1 with the reason in p->why.
 */

static int do_interface(struct parser *p, const char *kw, const char *val)
{
	return cv_ifname(kw, val, p->c->interface, p->why);
}

static int do_bridge(struct parser *p, const char *kw, const char *val)
{
	return cv_ifname(kw, val, p->c->bridge, p->why);
}

static int do_lan_port(struct parser *p, const char *kw, const char *val)
{
	return cv_ifname(kw, val, p->c->lan_port, p->why);
}

static int do_private_key(struct parser *p, const char *kw, const char *val)
{
	return cv_path(kw, val, p->c->private_key, p->why);
}

static int do_preshared_key(struct parser *p, const char *kw,
			    const char *val)
{
	return cv_path(kw, val, p->peer->preshared_key, p->why);
}

static int do_control_socket(struct parser *p, const char *kw,
			     const char *val)
{
	return cv_socket_path(kw, val, p->c->control_socket, p->why);
}

static int do_rekey_interval(struct parser *p, const char *kw,
			     const char *val)
{
	return cv_seconds(kw, val, 10, 120, &p->c->rekey_interval, p->why);
}

static int do_wan_mtu(struct parser *p, const char *kw, const char *val)
{
	return cv_wan_mtu(kw, val, &p->c->wan_mtu, p->why);
}

static int do_clamp_mss(struct parser *p, const char *kw, const char *val)
{
	return cv_yes_no(kw, val, &p->c->clamp_mss, p->why);
}

static int do_lan_gro(struct parser *p, const char *kw, const char *val)
{
	return cv_yes_no(kw, val, &p->c->lan_gro, p->why);
}

static int do_user(struct parser *p, const char *kw, const char *val)
{
	return cv_name(kw, val, p->c->user, p->why);
}

static int do_control_group(struct parser *p, const char *kw,
			    const char *val)
{
	return cv_name(kw, val, p->c->control_group, p->why);
}

static int do_keepalive(struct parser *p, const char *kw, const char *val)
{
	return cv_seconds(kw, val, 0, 3600, &p->peer->keepalive, p->why);
}

static int do_listen(struct parser *p, const char *kw, const char *val)
{
	return cv_listen(kw, val, &p->c->listen, p->why);
}

static int do_endpoint(struct parser *p, const char *kw, const char *val)
{
	return cv_endpoint(kw, val, &p->peer->endpoint, p->why);
}

static int do_public_key(struct parser *p, const char *kw, const char *val)
{
	return cv_public_key(kw, val, p->peer->public_key, p->why);
}

#define AT(f)	offsetof(struct config, f)
#define PAT(f)	offsetof(struct config_peer, f)

/* Sorted by keyword (strcmp order) for bsearch; "peer" is handled apart. */
static const struct directive directives[] = {
	{ "bridge", do_bridge, CTX_GLOBAL, false, AT(bridge_line) },
	{ "clamp-mss", do_clamp_mss, CTX_GLOBAL, false, AT(clamp_mss_line) },
	{ "control-group", do_control_group, CTX_GLOBAL, false,
	  AT(control_group_line) },
	{ "control-socket", do_control_socket, CTX_GLOBAL, false,
	  AT(control_socket_line) },
	{ "endpoint", do_endpoint, CTX_PEER, false, PAT(endpoint.line) },
	{ "interface", do_interface, CTX_GLOBAL, false, AT(interface_line) },
	{ "keepalive", do_keepalive, CTX_PEER, false, PAT(keepalive_line) },
	{ "lan-gro", do_lan_gro, CTX_GLOBAL, false, AT(lan_gro_line) },
	{ "lan-port", do_lan_port, CTX_GLOBAL, false, AT(lan_port_line) },
	{ "listen", do_listen, CTX_GLOBAL, false, AT(listen.line) },
	{ "peer", NULL, CTX_GLOBAL, true, 0 },
	{ "preshared-key", do_preshared_key, CTX_PEER, false,
	  PAT(preshared_key_line) },
	{ "private-key", do_private_key, CTX_GLOBAL, false,
	  AT(private_key_line) },
	{ "public-key", do_public_key, CTX_PEER, false, PAT(public_key_line) },
	{ "rekey-interval", do_rekey_interval, CTX_GLOBAL, false,
	  AT(rekey_interval_line) },
	{ "user", do_user, CTX_GLOBAL, false, AT(user_line) },
	{ "wan-mtu", do_wan_mtu, CTX_GLOBAL, false, AT(wan_mtu_line) },
};

static int directive_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct directive *)elem)->keyword);
}

static const struct directive *directive_find(const char *kw)
{
	return bsearch(kw, directives, sizeof(directives) /
		       sizeof(directives[0]), sizeof(directives[0]),
		       directive_cmp);
}

/* Peer blocks */

static bool is_word(const struct parser *p, int n, const char *s);

/* block_unclosed(p): the open block never got its '}'. */
static void block_unclosed(struct parser *p)
{
	if (*p->peer->name)
		perr_at(p, p->peer->line, "peer '%s' is missing its closing "
			"'}'", p->peer->name);
	else
		perr_at(p, p->peer->line, "peer block is missing its closing "
			"'}'");
	p->peer = NULL;
}

static struct config_peer *peer_add(struct parser *p, const char *name)
{
	struct config *c = p->c;
	struct config_peer *np;

	if (c->npeers == PEERS_MAX) {
		perr(p, "too many peers (at most %d)", PEERS_MAX);
		return NULL;
	}
	/* Capacity is 4, then the next power of two: grow when full. */
	if (c->npeers == 0 || (c->npeers >= 4 &&
			       !(c->npeers & (c->npeers - 1)))) {
		np = reallocarray(c->peers, c->npeers ? 2 * c->npeers : 4,
				  sizeof(*np));
		if (!np) {
			log_warn("%s:%d: peer '%s'", p->name, p->line, name);
			p->errors++;
			return NULL;
		}
		c->peers = np;
	}
	np = &c->peers[c->npeers++];
	memset(np, 0, sizeof(*np));
	np->line = p->line;
	return np;
}

static void block_open(struct parser *p, struct config_peer *peer)
{
	p->peer = peer;
	memset(peer, 0, sizeof(*peer));
	peer->line = p->line;
}

/* peer_line_ok(p): whether the line is "peer NAME {"; reports why not. */
static bool peer_line_ok(struct parser *p)
{
	if (p->w.nwords == 1 || is_word(p, 1, "{"))
		perr(p, "'peer' needs a name and '{'");
	else if (p->w.nwords > 3)
		perr(p, "'peer' takes a name and '{'");
	else if (p->w.nwords == 2 || !is_word(p, 2, "{"))
		perr(p, "peer '%s' must be followed by '{' on the same line",
		     cv_show(p->w.word[1]));
	else
		return true;
	return false;
}

/*
 * do_peer(p): "peer NAME {".  Any "peer" line with more words opens a
 * block, right or wrong, so what follows is still checked as a block; a
 * peer with a bad or taken name is parsed into scratch space, not kept.
 */
static void do_peer(struct parser *p)
{
	bool named = p->w.nwords > 1 && !is_word(p, 1, "{");
	bool opens = p->w.nwords > 1;
	const char *name = p->w.word[1];
	const struct config_peer *old;
	struct config_peer *np;

	if (p->peer)
		block_unclosed(p);
	p->peers_seen++;
	if (opens)
		block_open(p, &p->scratch);
	if (!peer_line_ok(p))
		p->brace_missing = p->w.nwords == 2 && named;
	if (!named)
		return;
	if (cv_peer_name(name, p->why) < 0) {
		perr(p, "%s", p->why);
		return;
	}
	cv_copy(p->scratch.name, sizeof(p->scratch.name), name);
	old = config_find_peer(p->c, name);
	if (old) {
		perr(p, "peer '%s' defined twice (first at line %d)", name,
		     old->line);
		return;
	}
	if (opens && (np = peer_add(p, name))) {
		p->peer = np;
		cv_copy(np->name, sizeof(np->name), name);
	}
}

static void do_close(struct parser *p)
{
	if (!p->peer)
		perr(p, "'}' without an open peer block");
	else if (p->w.nwords > 1)
		perr(p, "'}' must be alone on its line");
	p->peer = NULL;
}

static bool is_word(const struct parser *p, int n, const char *s)
{
	return n >= 0 && n < p->w.nwords && n < CW_WORDS_MAX &&
	       !p->w.quoted[n] && !strcmp(p->w.word[n], s);
}

/* line_of(p, d): the line field of directive d in the current context. */
static int *line_of(struct parser *p, const struct directive *d)
{
	char *base = d->ctx == CTX_PEER ? (char *)p->peer : (char *)p->c;

	return (int *)(void *)(base + d->line_off);
}

/* context_ok(p, d): whether d may appear here; reports why not. */
static bool context_ok(struct parser *p, const struct directive *d)
{
	if (d->ctx == CTX_GLOBAL && p->peer)
		perr(p, "'%s' is not valid inside a peer block", d->keyword);
	else if (d->ctx == CTX_GLOBAL && p->peers_seen)
		perr(p, "'%s' must come before the first peer block",
		     d->keyword);
	else if (d->ctx == CTX_PEER && !p->peer)
		perr(p, "'%s' is only valid inside a peer block", d->keyword);
	else
		return true;
	return false;
}

static void dispatch(struct parser *p)
{
	const char *kw = p->w.word[0];
	bool brace_missing = p->brace_missing;
	const struct directive *d;
	int *line;

	p->brace_missing = false;
	if (is_word(p, 0, "}")) {
		do_close(p);
	} else if (is_word(p, 0, "{")) {
		if (!brace_missing || p->w.nwords > 1)
			perr(p, "'{' must end the 'peer NAME' line");
	} else if (!(d = directive_find(kw))) {
		perr(p, "unknown directive '%s' (see tapbridge.conf(5))",
		     cv_show(kw));
	} else if (!d->handle) {
		do_peer(p);
	} else if (context_ok(p, d)) {
		line = line_of(p, d);
		if (!d->may_repeat && *line) {
			perr(p, "'%s' given twice (first at line %d)", kw,
			     *line);
			return;
		}
		*line = p->line;
		if (p->w.nwords < 2)
			perr(p, "'%s' needs a value", kw);
		else if (p->w.nwords > 2)
			perr(p, "'%s' takes one value", kw);
		else if (d->handle(p, kw, p->w.word[1]) < 0)
			perr(p, "%s", p->why);
	}
}

/* line_end(p, s, len): one complete line, without its '\n'. */
static void line_end(struct parser *p, const char *s, size_t len)
{
	p->line++;
	/* A UTF-8 byte-order mark, as some editors write: not text. */
	if (p->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		len -= 3;
	}
	if (len > 0 && len <= LINE_MAX_LEN + 1 && s[len - 1] == '\r')
		len--;
	if (len > LINE_MAX_LEN) {
		p->brace_missing = false;
		perr(p, "line is longer than %d characters", LINE_MAX_LEN);
		return;
	}
	if (cw_split(&p->w, s, len, p->why) < 0) {
		perr(p, "%s", p->why);
		return;
	}
	if (p->w.nwords == 0)
		return;
	dispatch(p);
}

/* Checks across directives, once the whole file is read */

static void check_ifnames(struct parser *p)
{
	const struct config *c = p->c;
	const struct {
		const char *kw;
		const char *val;
		int line;
	} n[] = {
		{ "interface", c->interface, c->interface_line },
		{ "bridge", c->bridge, c->bridge_line },
		{ "lan-port", c->lan_port, c->lan_port_line },
	};
	size_t i, j;

	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (*n[i].val && !strcmp(n[i].val, n[j].val))
				perr_at(p, n[i].line > n[j].line ? n[i].line :
					n[j].line, "'%s' and '%s' are both "
					"'%s'", n[i].kw, n[j].kw, n[i].val);
}

static void check_peers(struct parser *p)
{
	const struct config *c = p->c;
	const struct config_peer *a, *b;
	size_t i, j;

	for (i = 0; i < c->npeers; i++) {
		a = &c->peers[i];
		if (!a->public_key_line)
			perr_at(p, a->line, "peer '%s': no 'public-key'",
				a->name);
		if (!a->endpoint.line && !c->listen.line)
			perr_at(p, a->line, "peer '%s': no 'endpoint' and no "
				"'listen'", a->name);
		for (j = 0; j < i && a->public_key_line; j++) {
			b = &c->peers[j];
			if (b->public_key_line &&
			    !sodium_is_zero(a->public_key, KEYS_LEN) &&
			    !memcmp(a->public_key, b->public_key, KEYS_LEN)) {
				perr_at(p, a->public_key_line, "peer '%s' has "
					"the same 'public-key' as peer '%s' "
					"(line %d)", a->name, b->name,
					b->public_key_line);
				break;
			}
		}
	}
}

static void finish(struct parser *p)
{
	const struct config *c = p->c;

	if (p->peer)
		block_unclosed(p);
	if (!c->private_key_line)
		perr_at(p, 0, "no 'private-key'");
	if (!p->peers_seen)
		perr_at(p, 0, "no peer defined");
	check_peers(p);
	check_ifnames(p);
	if (!c->control_socket_line &&
	    strlen(c->control_socket) >= SUN_PATH_LEN)
		perr_at(p, 0, "default control socket '%s' is %zu bytes or "
			"longer: set 'control-socket'",
			cv_show(c->control_socket), SUN_PATH_LEN);
}

/* Public functions */

void config_init(struct config *c, const char *file)
{
	const char *base, *slash;
	size_t n;

	memset(c, 0, sizeof(*c));
	file = file ? file : "";
	snprintf(c->file, sizeof(c->file), "%s", file);
	cv_copy(c->interface, sizeof(c->interface), "tap0");
	cv_copy(c->bridge, sizeof(c->bridge), "br0");
	c->rekey_interval = 120;
	c->wan_mtu = 0;
	c->clamp_mss = true;
	c->lan_gro = true;
	cv_copy(c->user, sizeof(c->user), DAEMON_USER);

	slash = strrchr(file, '/');
	base = slash ? slash + 1 : file;
	n = strlen(base);
	if (n >= 5 && !strcmp(base + n - 5, ".conf"))
		n -= 5;
	if (n == 0) {
		base = "tapbridge";
		n = strlen(base);
	}
	snprintf(c->control_socket, sizeof(c->control_socket),
		 "%s/tapbridge/%.*s.sock", RUNSTATEDIR, (int)n, base);
}

void config_fini(struct config *c)
{
	free(c->peers);
	c->peers = NULL;
	c->npeers = 0;
}

int config_parse(FILE *f, const char *name, struct config *c)
{
	char buf[LINE_MAX_LEN + 2];
	struct parser p;
	size_t len = 0;
	int ch;

	memset(&p, 0, sizeof(p));
	p.c = c;
	if (name && name != c->file)
		snprintf(c->file, sizeof(c->file), "%s", name);
	p.name = c->file;
	while ((ch = getc(f)) != EOF) {
		if (ch == '\n') {
			line_end(&p, buf, len);
			len = 0;
		} else if (len < sizeof(buf)) {
			buf[len++] = (char)ch;
		} else {
			len = sizeof(buf) + 1;	/* too long, stays so */
		}
	}
	if (ferror(f)) {
		/* What was read is partial: checks across it would mislead. */
		log_warn("cannot read '%s'", p.name);
		return -1;
	}
	if (len > 0)
		line_end(&p, buf, len);
	finish(&p);
	return p.errors ? -1 : 0;
}

int config_load(const char *path, struct config *c)
{
	FILE *f;
	int r;

	config_init(c, path);
	f = fopen(path, "re");
	if (!f) {
		log_warn("cannot open '%s'", path);
		return -1;
	}
	r = config_parse(f, path, c);
	fclose(f);
	return r;
}

const struct config_peer *config_find_peer(const struct config *c,
					   const char *name)
{
	size_t i;

	for (i = 0; i < c->npeers; i++)
		if (!strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}
