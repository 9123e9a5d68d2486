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
 * parse_n(text, len, c, rc): config_init(c, "/etc/tapbridge/tapbridge.conf")
 * and config_parse of text under the name "tapbridge.conf", with stderr
 * caught in a temporary file.  Returns what was logged (caller frees).
 */
static char *parse_n(const char *text, size_t len, struct config *c, int *rc)
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
	config_init(c, "/etc/tapbridge/tapbridge.conf");
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

static char *parse(const char *text, struct config *c, int *rc)
{
	return parse_n(text, strlen(text), c, rc);
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
		"\n"
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
	cr_assert_eq(c.npeers, 2);

	p = config_find_peer(&c, "branch");
	cr_assert_eq(p, &c.peers[0]);
	cr_expect_eq(p->line, 10);
	cr_expect_arr_eq(p->public_key, alice_pub, KEYS_LEN);
	cr_expect_eq(p->public_key_line, 11);
	cr_expect_str_eq(p->endpoint.host, "203.0.113.7");
	cr_expect_eq(p->endpoint.port, 7001);
	cr_expect_eq(p->endpoint.line, 12);
	cr_expect_str_eq(p->preshared_key, "/etc/tapbridge/branch.psk");
	cr_expect_eq(p->preshared_key_line, 13);
	cr_expect_eq(p->keepalive, 25);
	cr_expect_eq(p->keepalive_line, 14);

	p = config_find_peer(&c, "hq.2");
	cr_assert_eq(p, &c.peers[1]);
	cr_expect_eq(p->line, 16);
	cr_expect_eq(p->endpoint.line, 0);
	cr_expect_str_empty(p->endpoint.host);
	cr_expect_str_empty(p->preshared_key);
	cr_expect_eq(p->keepalive, 0);
	cr_expect_null(config_find_peer(&c, "hq"));
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
