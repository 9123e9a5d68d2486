/*
 * test_config.c -- the tapbridge.conf parser: values, defaults, and the
 * exact "file:line: message" of every kind of mistake.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tapbridge/config.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#ifndef DAEMON_USER
#define DAEMON_USER "tapbridge"
#endif

/* RFC 7748 section 6.1 public keys, base64 computed outside this code. */
#define PUB_A	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PUB_B	"3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="

/* A valid file is HEAD (line 1), then PEER_A (lines N..N+3). */
#define HEAD	"private-key /etc/tapbridge/private.key\n"
#define PEER_A	"peer a {\npublic-key " PUB_A "\n" \
		"endpoint 198.18.0.2:7000\n}\n"

static const uint8_t alice_pub[KEYS_LEN] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d,
	0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38,
	0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
};

/* slurp(f): the whole stream from the start, NUL-terminated; free it. */
static char *slurp(FILE *f)
{
	char *s;
	long n;

	fflush(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	cr_assert_not_null(s);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	return s;
}

/*
 * parse_as(file, text, len, c, rc): config_init(c, file) and config_parse
 * of text under the name "tapbridge.conf", with stderr caught in a
 * temporary file.  Returns what was logged (caller frees).
 */
static char *parse_as(const char *file, const char *text, size_t len,
		      struct config *c, int *rc)
{
	char *buf = malloc(len + 1), *out;
	FILE *in, *err;
	int saved;

	cr_assert_not_null(buf);
	memcpy(buf, text, len);
	in = fmemopen(buf, len, "r");
	err = tmpfile();
	cr_assert(in && err);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(fileno(err), STDERR_FILENO), 0);
	config_init(c, file);
	*rc = config_parse(in, "tapbridge.conf", c);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	out = slurp(err);
	fclose(err);
	fclose(in);
	free(buf);
	return out;
}

static char *parse_n(const char *text, size_t len, struct config *c, int *rc)
{
	return parse_as("/etc/tapbridge/tapbridge.conf", text, len, c, rc);
}

static char *parse(const char *text, struct config *c, int *rc)
{
	return parse_n(text, strlen(text), c, rc);
}

/* expect_only(text, msg): text fails with exactly msg logged. */
static void expect_only(const char *text, const char *msg)
{
	struct config c;
	char *err;
	int rc;

	err = parse(text, &c, &rc);
	cr_expect_str_eq(err, msg, "got\n%sinstead of\n%s", err, msg);
	cr_expect_eq(rc, -1, "input:\n%s", text);
	config_fini(&c);
	free(err);
}

Test(config, full_example_puts_every_value_and_line_in_the_struct)
{
	static const char text[] =
		"# office A\n"
		"interface tap1\n"
		"bridge br1\n"
		"lan-port eth1\n"
		"listen 198.18.0.1:7000   # WAN side\n"
		"private-key /etc/tapbridge/private.key\n"
		"control-socket /run/tapbridge/a.sock\n"
		"rekey-interval 60\n"
		"wan-mtu 1420\n"
		"clamp-mss no\n"
		"peer branch {\n"
		"\tpublic-key " PUB_A "\n"
		"    endpoint 203.0.113.7:7001\n"
		"\tpreshared-key /etc/tapbridge/branch.psk\n"
		"\tkeepalive 25\n"
		"}\n"
		"peer hq.2 {\n"
		"\tpublic-key " PUB_B "\n"
		"}\n";
	const struct config_peer *p;
	struct config c;
	char *err;
	int rc;

	err = parse(text, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(c.file, "tapbridge.conf");
	cr_expect_str_eq(c.interface, "tap1");
	cr_expect_eq(c.interface_line, 2);
	cr_expect_str_eq(c.bridge, "br1");
	cr_expect_eq(c.bridge_line, 3);
	cr_expect_str_eq(c.lan_port, "eth1");
	cr_expect_eq(c.lan_port_line, 4);
	cr_expect_str_eq(c.listen.host, "198.18.0.1");
	cr_expect_eq(c.listen.port, 7000);
	cr_expect_eq(c.listen.line, 5);
	cr_expect_str_eq(c.private_key, "/etc/tapbridge/private.key");
	cr_expect_eq(c.private_key_line, 6);
	cr_expect_str_eq(c.control_socket, "/run/tapbridge/a.sock");
	cr_expect_eq(c.control_socket_line, 7);
	cr_expect_eq(c.rekey_interval, 60);
	cr_expect_eq(c.rekey_interval_line, 8);
	cr_expect_eq(c.wan_mtu, 1420);
	cr_expect_eq(c.wan_mtu_line, 9);
	cr_expect(!c.clamp_mss);
	cr_expect_eq(c.clamp_mss_line, 10);
	cr_assert_eq(c.npeers, 2);

	p = config_find_peer(&c, "branch");
	cr_assert_eq(p, &c.peers[0]);
	cr_expect_eq(p->line, 11);
	cr_expect_arr_eq(p->public_key, alice_pub, KEYS_LEN);
	cr_expect_eq(p->public_key_line, 12);
	cr_expect_str_eq(p->endpoint.host, "203.0.113.7");
	cr_expect_eq(p->endpoint.port, 7001);
	cr_expect_eq(p->endpoint.line, 13);
	cr_expect_str_eq(p->preshared_key, "/etc/tapbridge/branch.psk");
	cr_expect_eq(p->preshared_key_line, 14);
	cr_expect_eq(p->keepalive, 25);
	cr_expect_eq(p->keepalive_line, 15);

	p = config_find_peer(&c, "hq.2");
	cr_assert_eq(p, &c.peers[1]);
	cr_expect_eq(p->line, 17);
	cr_expect_eq(p->endpoint.line, 0);
	cr_expect_str_empty(p->endpoint.host);
	cr_expect_str_empty(p->preshared_key);
	cr_expect_eq(p->keepalive, 0);
	cr_expect_null(config_find_peer(&c, "hq"));
	config_fini(&c);
	free(err);
}

Test(config, lan_gro_no_is_kept_with_its_line)
{
	struct config c;
	char *err;
	int rc;

	err = parse(HEAD "lan-gro no\n" PEER_A, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect(!c.lan_gro);
	cr_expect_eq(c.lan_gro_line, 2);
	config_fini(&c);
	free(err);
}

Test(config, defaults_come_from_config_init)
{
	struct config c;
	char *err;
	int rc;

	err = parse(HEAD PEER_A, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(c.interface, "tap0");
	cr_expect_eq(c.interface_line, 0);
	cr_expect_str_eq(c.bridge, "br0");
	cr_expect_str_empty(c.lan_port);
	cr_expect_str_empty(c.listen.host);
	cr_expect_eq(c.listen.port, 0);
	cr_expect_eq(c.listen.line, 0);
	cr_expect_str_eq(c.control_socket, RUNSTATEDIR
			 "/tapbridge/tapbridge.sock");
	cr_expect_eq(c.control_socket_line, 0);
	cr_expect_eq(c.rekey_interval, 120);
	cr_expect_eq(c.rekey_interval_line, 0);
	cr_expect_eq(c.wan_mtu, 0, "wan-mtu defaults to discovery");
	cr_expect(c.clamp_mss, "clamp-mss defaults to yes");
	cr_expect(c.lan_gro, "lan-gro defaults to yes");
	cr_expect_eq(c.lan_gro_line, 0);
	cr_expect_str_eq(c.user, DAEMON_USER);
	cr_assert_eq(c.npeers, 1);
	cr_expect_eq(c.peers[0].keepalive, 0);
	cr_expect_eq(c.peers[0].keepalive_line, 0);
	config_fini(&c);
	cr_expect_null(c.peers);
	cr_expect_eq(c.npeers, 0);
	free(err);
}

Test(config, control_socket_default_is_derived_from_the_file_name)
{
	static const struct {
		const char *file, *sock;
	} rows[] = {
		{ "/etc/tapbridge/tapbridge.conf", "tapbridge.sock" },
		{ "office-a.conf", "office-a.sock" },
		{ "/etc/x/branch", "branch.sock" },
		{ "/etc/x/a.conf.bak", "a.conf.bak.sock" },
		{ "/etc/x/.conf", "tapbridge.sock" },
		{ "/etc/x/", "tapbridge.sock" },
		{ "", "tapbridge.sock" },
	};
	char want[CONFIG_PATH_MAX];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		config_init(&c, rows[i].file);
		snprintf(want, sizeof(want), "%s/tapbridge/%s", RUNSTATEDIR,
			 rows[i].sock);
		cr_expect_str_eq(c.control_socket, want, "file '%s'",
				 rows[i].file);
		config_fini(&c);
	}
}

/* A peer block after HEAD (lines 2-4), with x as its lines 5... */
#define PEER_A_WITH(x) \
	"peer a {\npublic-key " PUB_A "\nendpoint 198.18.0.2:7000\n" x "}\n"
#define ROW(text, msg)	{ text, sizeof(text) - 1, "tapbridge.conf" msg "\n" }

static const struct {
	const char *text;
	size_t len;
	const char *msg;
} mistakes[] = {
	/* words */
	ROW(HEAD "foo bar\n" PEER_A,
	    ":2: unknown directive 'foo' (see tapbridge.conf(5))"),
	/* a byte-order mark is skipped only at the very start */
	ROW(HEAD "\xef\xbb\xbfrekey-interval 60\n" PEER_A,
	    ":2: unknown directive '\\xef\\xbb\\xbfrekey-interval' "
	    "(see tapbridge.conf(5))"),
	ROW(HEAD "\xc3\xa9t\xc3\xa9 1\n" PEER_A,
	    ":2: unknown directive '\\xc3\\xa9t\\xc3\\xa9' "
	    "(see tapbridge.conf(5))"),
	ROW("bridge \"br1\n" HEAD PEER_A, ":1: unterminated quoted string"),
	ROW("bridge \"b\\r1\"\n" HEAD PEER_A,
	    ":1: only \\\" and \\\\ may follow '\\' in a quoted string"),
	ROW("bridge \"br\"1\n" HEAD PEER_A,
	    ":1: missing space after closing '\"'"),
	ROW("bridge br\"1\"\n" HEAD PEER_A,
	    ":1: unexpected '\"' inside a word"),
	ROW("bridge br\x01\n" HEAD PEER_A, ":1: invalid character '\\x01'"),
	ROW("bridge br\0x\n" HEAD PEER_A, ":1: invalid character '\\x00'"),
	ROW("bridge b\rr\n" HEAD PEER_A, ":1: invalid character '\\x0d'"),
	ROW("bridge \"b\tr\"\n" HEAD PEER_A, ":1: invalid character '\\x09'"),
	/* where a directive may appear, and how often */
	ROW(HEAD "public-key " PUB_A "\n" PEER_A,
	    ":2: 'public-key' is only valid inside a peer block"),
	ROW(HEAD PEER_A_WITH("bridge br1\n"),
	    ":5: 'bridge' is not valid inside a peer block"),
	ROW(HEAD PEER_A "bridge br1\n",
	    ":6: 'bridge' must come before the first peer block"),
	ROW("bridge br1\nbridge br2\n" HEAD PEER_A,
	    ":2: 'bridge' given twice (first at line 1)"),
	ROW(HEAD PEER_A_WITH("endpoint 198.18.0.3:7000\n"),
	    ":5: 'endpoint' given twice (first at line 4)"),
	ROW("listen\n" HEAD PEER_A, ":1: 'listen' needs a value"),
	ROW(HEAD PEER_A_WITH("keepalive\n"), ":5: 'keepalive' needs a value"),
	ROW("interface tap0 tap1\n" HEAD PEER_A,
	    ":1: 'interface' takes one value"),
	/* numbers */
	ROW(HEAD PEER_A_WITH("keepalive 99999\n"),
	    ":5: 'keepalive' must be between 0 and 3600, got '99999'"),
	ROW(HEAD PEER_A_WITH("keepalive -1\n"),
	    ":5: 'keepalive' must be between 0 and 3600, got '-1'"),
	ROW(HEAD PEER_A_WITH("keepalive 18446744073709551616\n"),
	    ":5: 'keepalive' must be between 0 and 3600, "
	    "got '18446744073709551616'"),
	ROW(HEAD PEER_A_WITH("keepalive 25s\n"),
	    ":5: 'keepalive' must be a whole number of seconds, got '25s'"),
	ROW("rekey-interval 9\n" HEAD PEER_A,
	    ":1: 'rekey-interval' must be between 10 and 120, got '9'"),
	ROW("rekey-interval 121\n" HEAD PEER_A,
	    ":1: 'rekey-interval' must be between 10 and 120, got '121'"),
	ROW("wan-mtu 575\n" HEAD PEER_A,
	    ":1: 'wan-mtu' must be 'auto' or between 576 and 9000, got '575'"),
	ROW("wan-mtu 9001\n" HEAD PEER_A,
	    ":1: 'wan-mtu' must be 'auto' or between 576 and 9000, "
	    "got '9001'"),
	ROW("wan-mtu discover\n" HEAD PEER_A,
	    ":1: 'wan-mtu' must be 'auto' or between 576 and 9000, "
	    "got 'discover'"),
	ROW("user root;\n" HEAD PEER_A,
	    ":1: 'user' must be a name of 1 to 31 letters, digits, "
	    "'_', '.' or '-', got 'root;'"),
	ROW("control-group a b\n" HEAD PEER_A,
	    ":1: 'control-group' takes one value"),
	ROW("clamp-mss maybe\n" HEAD PEER_A,
	    ":1: 'clamp-mss' must be 'yes' or 'no', got 'maybe'"),
	ROW("lan-gro on\n" HEAD PEER_A,
	    ":1: 'lan-gro' must be 'yes' or 'no', got 'on'"),
	/* interface names */
	ROW("interface abcdefghijklmnop\n" HEAD PEER_A,
	    ":1: 'interface' must be at most 15 characters, "
	    "got 'abcdefghijklmnop'"),
	ROW("bridge a/b\n" HEAD PEER_A,
	    ":1: 'bridge' must not contain '/', ':', '%' or spaces, "
	    "got 'a/b'"),
	ROW("lan-port \"e 1\"\n" HEAD PEER_A,
	    ":1: 'lan-port' must not contain '/', ':', '%' or spaces, "
	    "got 'e 1'"),
	ROW("lan-port ..\n" HEAD PEER_A,
	    ":1: 'lan-port' must not be '.' or '..'"),
	ROW("interface \"\"\n" HEAD PEER_A,
	    ":1: 'interface' must not be empty"),
	/* addresses */
	ROW("listen example.com:7000\n" HEAD PEER_A,
	    ":1: 'listen' must be IPv4:port, [IPv6]:port or a port, "
	    "got 'example.com:7000'"),
	ROW("listen fd00::1:7000\n" HEAD PEER_A,
	    ":1: 'listen' must be IPv4:port, [IPv6]:port or a port, "
	    "got 'fd00::1:7000'"),
	ROW("listen [::1]\n" HEAD PEER_A,
	    ":1: 'listen' must be IPv4:port, [IPv6]:port or a port, "
	    "got '[::1]'"),
	ROW("listen [198.18.0.1]:7000\n" HEAD PEER_A,
	    ":1: 'listen' must be IPv4:port, [IPv6]:port or a port, "
	    "got '[198.18.0.1]:7000'"),
	ROW("listen 0\n" HEAD PEER_A,
	    ":1: 'listen' port must be between 1 and 65535, got '0'"),
	ROW("listen 198.18.0.1:65536\n" HEAD PEER_A,
	    ":1: 'listen' port must be between 1 and 65535, got '65536'"),
	ROW("listen 198.18.0.1:\n" HEAD PEER_A,
	    ":1: 'listen' port must be between 1 and 65535, got ''"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint 198.18.0.2\n}\n",
	    ":4: 'endpoint' must be host:port or [IPv6]:port, "
	    "got '198.18.0.2'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint a_b:7000\n}\n",
	    ":4: 'endpoint' host must be an IPv4 address or a DNS name, "
	    "got 'a_b'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint 256.1.1.1:7000\n}\n",
	    ":4: 'endpoint' host must be an IPv4 address or a DNS name, "
	    "got '256.1.1.1'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint -gw.example:1\n}\n",
	    ":4: 'endpoint' host must be an IPv4 address or a DNS name, "
	    "got '-gw.example'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint [198.18.0.2]:1\n}\n",
	    ":4: 'endpoint' host must be an IPv6 address inside [ ], "
	    "got '198.18.0.2'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint gw:70000\n}\n",
	    ":4: 'endpoint' port must be between 1 and 65535, got '70000'"),
	/* paths */
	ROW("control-socket tb.sock\n" HEAD PEER_A,
	    ":1: 'control-socket' must be an absolute path, got 'tb.sock'"),
	ROW("private-key \"\"\n" PEER_A, ":1: 'private-key' must not be empty"),
	ROW(HEAD PEER_A_WITH("preshared-key \"\"\n"),
	    ":5: 'preshared-key' must not be empty"),
	/* keys */
	ROW(HEAD "peer a {\npublic-key "
	    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo\n"
	    "endpoint 198.18.0.2:7000\n}\n",
	    ":3: 'public-key' is not a base64 key of 32 bytes (paste the "
	    "peer's: what 'tapbridge pubkey' prints on the peer)"),
	ROW(HEAD "peer a {\npublic-key "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "endpoint 198.18.0.2:7000\n}\n",
	    ":3: 'public-key' is all zeros, not a public key"),
	/* blocks */
	ROW(HEAD PEER_A PEER_A, ":6: peer 'a' defined twice (first at line 2)"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint 198.18.0.2:7000\n",
	    ":2: peer 'a' is missing its closing '}'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint 198.18.0.2:7000\n"
	    "peer b {\npublic-key " PUB_B "\nendpoint 198.18.0.3:7000\n}\n",
	    ":2: peer 'a' is missing its closing '}'"),
	ROW(HEAD PEER_A "}\n", ":6: '}' without an open peer block"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\nendpoint 198.18.0.2:7000\n"
	    "} x\n", ":5: '}' must be alone on its line"),
	ROW(HEAD "peer a\npublic-key " PUB_A "\nendpoint 198.18.0.2:7000\n}\n",
	    ":2: peer 'a' must be followed by '{' on the same line"),
	ROW(HEAD "peer a\n{\npublic-key " PUB_A "\n"
	    "endpoint 198.18.0.2:7000\n}\n",
	    ":2: peer 'a' must be followed by '{' on the same line"),
	ROW(HEAD "peer a \"{\"\npublic-key " PUB_A "\n"
	    "endpoint 198.18.0.2:7000\n}\n",
	    ":2: peer 'a' must be followed by '{' on the same line"),
	ROW(HEAD "peer\n" PEER_A, ":2: 'peer' needs a name and '{'"),
	ROW(HEAD "peer a b c d e f g h i j {\npublic-key " PUB_A "\n"
	    "endpoint 198.18.0.2:7000\n}\n", ":2: 'peer' takes a name and '{'"),
	ROW(HEAD "{\n" PEER_A, ":2: '{' must end the 'peer NAME' line"),
	ROW(HEAD "peer a/b {\npublic-key " PUB_A "\n}\n",
	    ":2: peer name 'a/b' must be 1 to 31 characters of "
	    "A-Z a-z 0-9 _ . -"),
	ROW(HEAD "peer abcdefghijklmnopqrstuvwxyz012345 {\n}\n",
	    ":2: peer name 'abcdefghijklmnopqrstuvwxyz012345' must be 1 to 31 "
	    "characters of A-Z a-z 0-9 _ . -"),
	/* checks across directives */
	ROW(PEER_A, ": no 'private-key'"),
	ROW(HEAD, ": no peer defined"),
	ROW(HEAD "peer a {\nendpoint 198.18.0.2:7000\n}\n",
	    ":2: peer 'a': no 'public-key'"),
	ROW(HEAD "peer a {\npublic-key " PUB_A "\n}\n",
	    ":2: peer 'a': no 'endpoint' and no 'listen'"),
	ROW(HEAD PEER_A "peer b {\npublic-key " PUB_A "\n"
	    "endpoint 198.18.0.3:7000\n}\n",
	    ":7: peer 'b' has the same 'public-key' as peer 'a' (line 3)"),
	ROW("interface br0\n" HEAD PEER_A,
	    ":1: 'interface' and 'bridge' are both 'br0'"),
	ROW("lan-port eth1\ninterface eth1\n" HEAD PEER_A,
	    ":2: 'interface' and 'lan-port' are both 'eth1'"),
	ROW("lan-port br0\n" HEAD PEER_A,
	    ":1: 'bridge' and 'lan-port' are both 'br0'"),
};

Test(config, each_mistake_is_reported_with_its_exact_message)
{
	struct config c;
	size_t i;
	char *err;
	int rc;

	for (i = 0; i < sizeof(mistakes) / sizeof(mistakes[0]); i++) {
		err = parse_n(mistakes[i].text, mistakes[i].len, &c, &rc);
		cr_expect_str_eq(err, mistakes[i].msg, "row %zu: got\n%s"
				 "instead of\n%s", i, err, mistakes[i].msg);
		cr_expect_eq(rc, -1, "row %zu", i);
		config_fini(&c);
		free(err);
	}
}

Test(config, all_errors_of_a_file_are_reported_in_one_run)
{
	expect_only("interface x/y\n"
		    "bridge\n"
		    "bridge a b\n"
		    "public-key x\n"
		    "peer a {\n"
		    "\tkeepalive -1\n"
		    "\tendpoint [fd00::1]:0\n"
		    "peer a {\n"
		    "}\n"
		    "}\n"
		    "peer b {\n"
		    "\tpublic-key AAAA\n"
		    "}\n",
		    "tapbridge.conf:1: 'interface' must not contain '/', ':', "
		    "'%' or spaces, got 'x/y'\n"
		    "tapbridge.conf:2: 'bridge' needs a value\n"
		    "tapbridge.conf:3: 'bridge' given twice (first at line 2)\n"
		    "tapbridge.conf:4: 'public-key' is only valid inside a "
		    "peer block\n"
		    "tapbridge.conf:6: 'keepalive' must be between 0 and 3600, "
		    "got '-1'\n"
		    "tapbridge.conf:7: 'endpoint' port must be between 1 and "
		    "65535, got '0'\n"
		    "tapbridge.conf:5: peer 'a' is missing its closing '}'\n"
		    "tapbridge.conf:8: peer 'a' defined twice (first at line "
		    "5)\n"
		    "tapbridge.conf:10: '}' without an open peer block\n"
		    "tapbridge.conf:12: 'public-key' is not a base64 key of 32 "
		    "bytes (paste the peer's: what 'tapbridge pubkey' prints "
		    "on the peer)\n"
		    "tapbridge.conf: no 'private-key'\n"
		    "tapbridge.conf:5: peer 'a': no 'public-key'\n"
		    "tapbridge.conf:11: peer 'b': no 'endpoint' and no "
		    "'listen'\n");
}

Test(config, a_peer_without_endpoint_is_fine_when_we_listen)
{
	struct config c;
	char *err;
	int rc;

	err = parse("listen 7000\n" HEAD "peer a {\npublic-key " PUB_A
		    "\n}\n", &c, &rc);
	cr_expect_str_empty(err);
	cr_expect_eq(rc, 0);
	cr_expect_str_empty(c.listen.host);
	cr_expect_eq(c.listen.port, 7000);
	config_fini(&c);
	free(err);
}

Test(config, listen_and_endpoint_accept_every_documented_form)
{
	static const struct {
		const char *kw, *val, *host;
		uint16_t port;
	} rows[] = {
		{ "listen", "7000", "", 7000 },
		{ "listen", "0.0.0.0:7000", "0.0.0.0", 7000 },
		{ "listen", "[::]:65535", "::", 65535 },
		{ "listen", "198.18.0.1:1", "198.18.0.1", 1 },
		{ "listen", "[fd00::1]:7000", "fd00::1", 7000 },
		{ "endpoint", "203.0.113.7:7000", "203.0.113.7", 7000 },
		{ "endpoint", "[fd00::2]:7001", "fd00::2", 7001 },
		{ "endpoint", "gw.branch.example:7000", "gw.branch.example",
		  7000 },
		{ "endpoint", "gw-2.example.:9", "gw-2.example.", 9 },
		{ "endpoint", "localhost:7000", "localhost", 7000 },
	};
	const struct config_endpoint *e;
	char text[512];
	struct config c;
	size_t i;
	char *err;
	int rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (*rows[i].kw == 'l')
			snprintf(text, sizeof(text), "listen %s\n" HEAD
				 "peer a {\npublic-key " PUB_A "\n}\n",
				 rows[i].val);
		else
			snprintf(text, sizeof(text), HEAD "peer a {\n"
				 "public-key " PUB_A "\nendpoint %s\n}\n",
				 rows[i].val);
		err = parse(text, &c, &rc);
		cr_expect_str_empty(err, "%s %s", rows[i].kw, rows[i].val);
		cr_expect_eq(rc, 0);
		e = *rows[i].kw == 'l' ? &c.listen : &c.peers[0].endpoint;
		cr_expect_str_eq(e->host, rows[i].host, "%s", rows[i].val);
		cr_expect_eq(e->port, rows[i].port, "%s", rows[i].val);
		config_fini(&c);
		free(err);
	}
}

Test(config, quoted_strings_and_comments)
{
	static const char text[] =
		"# a comment line\n"
		"   # an indented one\n"
		"bridge br1#no space needed before a comment\n"
		"private-key \"/etc/tape bridge/\\\"x\\\"\\\\#1.key\"  # q\n"
		"\"interface\" \"tap9\"\n"
		"peer a {   # the branch office\n"
		"\tpublic-key \"" PUB_A "\"\n"
		"\tendpoint 198.18.0.2:7000\n"
		"\tpreshared-key \"\\\\\"\n"
		"}   # end of a\n";
	struct config c;
	char *err;
	int rc;

	err = parse(text, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(c.bridge, "br1");
	cr_expect_str_eq(c.private_key, "/etc/tape bridge/\"x\"\\#1.key");
	cr_expect_str_eq(c.interface, "tap9");
	cr_assert_eq(c.npeers, 1);
	cr_expect_arr_eq(c.peers[0].public_key, alice_pub, KEYS_LEN);
	cr_expect_str_eq(c.peers[0].preshared_key, "\\");
	config_fini(&c);
	free(err);
}

Test(config, utf8_byte_order_mark_is_skipped)
{
	/* As Notepad saves it: a byte-order mark, then CRLF lines. */
	static const char text[] =
		"\xef\xbb\xbf" "bridge br1\r\n"
		"private-key /k\r\n"
		"peer a {\r\n"
		"public-key " PUB_A "\r\n"
		"endpoint 198.18.0.2:7000\r\n"
		"}\r\n";
	struct config c;
	char *err;
	int rc;

	err = parse(text, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(c.bridge, "br1");
	cr_expect_eq(c.bridge_line, 1);
	cr_assert_eq(c.npeers, 1);
	config_fini(&c);
	free(err);
}

Test(config, crlf_line_ends_are_accepted)
{
	static const char text[] =
		"bridge br1\r\n"
		"private-key /k\r\n"
		"\r\n"
		"peer a {\r\n"
		"public-key " PUB_A "\r\n"
		"endpoint 198.18.0.2:7000 # comment\r\n"
		"}\r\n";
	struct config c;
	char *err;
	int rc;

	err = parse(text, &c, &rc);
	cr_assert_str_empty(err);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(c.bridge, "br1");
	cr_expect_str_eq(c.private_key, "/k");
	cr_assert_eq(c.npeers, 1);
	cr_expect_eq(c.peers[0].endpoint.port, 7000);
	cr_expect_eq(c.peers[0].endpoint.line, 6);
	config_fini(&c);
	free(err);
}

Test(config, last_line_needs_no_newline)
{
	struct config c;
	char *err;
	int rc;

	err = parse(HEAD "peer a {\npublic-key " PUB_A "\n"
		    "endpoint 198.18.0.2:7000\n}", &c, &rc);
	cr_expect_str_empty(err);
	cr_expect_eq(rc, 0);
	config_fini(&c);
	free(err);
	expect_only(HEAD PEER_A "bridge", "tapbridge.conf:6: 'bridge' must "
		    "come before the first peer block\n");
}

Test(config, empty_input_lacks_key_and_peer)
{
	expect_only("", "tapbridge.conf: no 'private-key'\n"
		    "tapbridge.conf: no peer defined\n");
	expect_only("\n\n# nothing\n", "tapbridge.conf: no 'private-key'\n"
		    "tapbridge.conf: no peer defined\n");
}

Test(config, lines_longer_than_1023_characters_are_refused)
{
	char text[4096], *p;
	struct config c;
	char *err;
	int rc;

	/* 1023 characters, and 1023 plus a '\r', are fine. */
	p = text + sprintf(text, "%s", HEAD);
	*p++ = '#';
	memset(p, 'x', 1022);
	p += 1022;
	p += sprintf(p, "\r\n" PEER_A "#");
	memset(p, 'y', 1022);
	p += 1022;
	strcpy(p, "\n");
	err = parse(text, &c, &rc);
	cr_expect_str_empty(err);
	cr_expect_eq(rc, 0);
	config_fini(&c);
	free(err);

	/* 1024 characters are not, whatever they are; the next line counts. */
	p = text + sprintf(text, "%s", "bridge ");
	memset(p, 'b', 1017);
	p += 1017;
	sprintf(p, "\n%s%s}\n", HEAD, PEER_A);
	expect_only(text, "tapbridge.conf:1: line is longer than 1023 "
		    "characters\n"
		    "tapbridge.conf:7: '}' without an open peer block\n");
}

Test(config, long_values_are_cut_in_messages)
{
	char text[1024], *p;

	p = text + sprintf(text, "control-socket /");
	memset(p, 's', 107);
	sprintf(p + 107, "\n%s%s", HEAD, PEER_A);
	expect_only(text, "tapbridge.conf:1: 'control-socket' must be shorter "
		    "than 108 bytes, got '/sssssssssssssssssssssssssssssssss"
		    "ssssssssssssssssssssssssssssss...'\n");
}

Test(config, a_derived_control_socket_must_fit_sun_path)
{
	char file[256];
	struct config c;
	char *err;
	int rc;

	memset(file, 'f', 120);
	strcpy(file + 120, ".conf");
	err = parse_as(file, HEAD PEER_A, strlen(HEAD PEER_A), &c, &rc);
	cr_expect_eq(rc, -1);
	cr_expect(strncmp(err, "tapbridge.conf: default control socket '",
			  40) == 0 && strstr(err, "...' is 108 bytes or "
					     "longer: set 'control-socket'\n"),
		  "got %s", err);
	config_fini(&c);
	free(err);
	err = parse_as(file, "control-socket /run/x.sock\n" HEAD PEER_A,
		       strlen("control-socket /run/x.sock\n" HEAD PEER_A), &c,
		       &rc);
	cr_expect_str_empty(err);
	cr_expect_eq(rc, 0);
	config_fini(&c);
	free(err);
}

Test(config, at_most_1024_peers)
{
	size_t size = 1025 * 96 + 64, i;
	char *text = malloc(size), *p;
	struct config c;
	char *err, want[128];
	int rc;

	cr_assert_not_null(text);
	p = text + sprintf(text, "listen 7000\n" HEAD);
	for (i = 0; i < 1025; i++)
		p += sprintf(p, "peer p%zu {\npublic-key %s\n}\n", i,
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	err = parse(text, &c, &rc);
	cr_expect_eq(c.npeers, 1024);
	cr_expect_str_eq(c.peers[1023].name, "p1023");
	snprintf(want, sizeof(want), "tapbridge.conf:%d: too many peers "
		 "(at most 1024)\n", 3 + 1024 * 3);
	cr_expect(strstr(err, want), "no '%s'", want);
	config_fini(&c);
	free(err);
	free(text);
}

Test(config, config_fini_allows_reuse)
{
	struct config c;
	char *err;
	int rc;

	err = parse(HEAD PEER_A, &c, &rc);
	cr_expect_eq(rc, 0);
	free(err);
	config_fini(&c);
	config_fini(&c);
	err = parse("bridge br7\n" HEAD PEER_A "peer b {\npublic-key " PUB_B
		    "\nendpoint [fd00::9]:1\n}\n", &c, &rc);
	cr_expect_eq(rc, 0);
	cr_expect_str_eq(c.bridge, "br7");
	cr_expect_eq(c.npeers, 2);
	cr_expect_str_eq(config_find_peer(&c, "b")->endpoint.host, "fd00::9");
	config_fini(&c);
	free(err);
}

/* xorshift64: a fixed, reproducible stream of bytes for the garbage tests */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* check_sane(c): whatever was parsed, every string ends inside its field. */
static void check_sane(const struct config *c)
{
	size_t i;

	cr_assert_lt(strnlen(c->interface, IFNAMSIZ), IFNAMSIZ);
	cr_assert_lt(strnlen(c->bridge, IFNAMSIZ), IFNAMSIZ);
	cr_assert_lt(strnlen(c->lan_port, IFNAMSIZ), IFNAMSIZ);
	cr_assert_lt(strnlen(c->listen.host, CONFIG_HOST_MAX),
		     CONFIG_HOST_MAX);
	cr_assert_leq(c->npeers, 1024);
	for (i = 0; i < c->npeers; i++) {
		cr_assert_lt(strnlen(c->peers[i].name, CONFIG_NAME_MAX),
			     CONFIG_NAME_MAX);
		cr_assert_gt(strlen(c->peers[i].name), 0);
		cr_assert_lt(strnlen(c->peers[i].endpoint.host,
				     CONFIG_HOST_MAX), CONFIG_HOST_MAX);
	}
}

Test(config, garbage_bytes_never_crash_the_parser)
{
	static const char base[] = "interface tap1\nlisten [::]:7000\n" HEAD
		"control-socket \"/run/a b.sock\"\n" PEER_A
		"peer b {\npublic-key " PUB_B "\nendpoint gw.example:1\n"
		"keepalive 10\npreshared-key /p\n}\n";
	static const char alphabet[] = "\"\\#{} \t\r\n\0\x01\xff:[]./-=aZ09";
	char buf[2048];
	uint64_t seed = 0x7461706272696467;
	struct config c;
	size_t i, k, len;
	char *err;
	int rc;

	for (i = 0; i < 3000; i++) {
		if (i % 2) {	/* random bytes */
			len = next(&seed) % sizeof(buf);
			for (k = 0; k < len; k++)
				buf[k] = (char)next(&seed);
		} else {	/* the valid file, mutated here and there */
			len = sizeof(base) - 1;
			memcpy(buf, base, len);
			for (k = next(&seed) % 8 + 1; k > 0; k--)
				buf[next(&seed) % len] =
					alphabet[next(&seed) %
						 (sizeof(alphabet) - 1)];
		}
		err = parse_n(buf, len, &c, &rc);
		cr_assert(rc == 0 || rc == -1);
		cr_assert_eq(rc == 0, *err == '\0', "rc %d, log '%s'", rc, err);
		check_sane(&c);
		config_fini(&c);
		free(err);
	}
}

/* load(path, c, rc): config_load with stderr caught; returns the log. */
static char *load(const char *path, struct config *c, int *rc)
{
	FILE *err = tmpfile();
	char *out;
	int saved;

	cr_assert_not_null(err);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	*rc = config_load(path, c);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	out = slurp(err);
	fclose(err);
	return out;
}

Test(config, config_load_reads_a_file_and_names_it_in_messages)
{
	char dir[] = "/tmp/tbcfg.XXXXXX", path[64], want[256];
	struct config c;
	FILE *f;
	char *err;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/office.conf", dir);

	err = load(path, &c, &rc);
	snprintf(want, sizeof(want), "cannot open '%s': No such file or "
		 "directory\n", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(rc, -1);
	config_fini(&c);
	free(err);

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(HEAD PEER_A "rekey-interval 1\n", f);
	fclose(f);
	err = load(path, &c, &rc);
	snprintf(want, sizeof(want), "%s:6: 'rekey-interval' must come before "
		 "the first peer block\n", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(rc, -1);
	cr_expect_str_eq(c.file, path);
	cr_expect_str_eq(c.control_socket,
			 RUNSTATEDIR "/tapbridge/office.sock");
	cr_expect_eq(c.npeers, 1);
	config_fini(&c);
	free(err);

	err = load(dir, &c, &rc);
	snprintf(want, sizeof(want), "cannot read '%s': Is a directory\n", dir);
	cr_expect_str_eq(err, want);
	cr_expect_eq(rc, -1);
	config_fini(&c);
	free(err);

	unlink(path);
	rmdir(dir);
}
