/*
 * fuzz_config.c -- libFuzzer target for config_parse.
 *
 * Input: the text of a tapbridge.conf, read through fmemopen from a heap
 * copy.  The parser's messages (log_warnx to stderr) are silenced once at
 * start.  Beyond memory safety (and leaks, once config_fini has run) it
 * checks the parser's promises: the result is 0 or -1; whatever it
 * returns, every string it stored is terminated inside its array, every
 * line it recorded is a line of the input and there are no more peers than
 * lines; and a configuration it accepts is complete and in range: a
 * private key, at least one peer, every peer with a distinct name and a
 * distinct non-zero public key and an endpoint (or a global listen),
 * values inside their documented ranges and distinct interface names.
 *
 *   make fuzz-replay       (replays tests/fuzz/corpus/config)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tapbridge/config.h"

#include "fuzz_support.h"

#define NAME	"fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_log();
	if (sodium_init() < 0)
		abort();
	return 0;
}

/* s is a C string inside its size bytes. */
static void terminated(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

#define TERMINATED(field)	terminated((field), sizeof(field))

static void line_ok(int line, int lines)
{
	if (line < 0 || line > lines)
		abort();	/* a line the input does not have */
}

static void check_peer(const struct config_peer *p, int lines)
{
	TERMINATED(p->name);
	TERMINATED(p->endpoint.host);
	TERMINATED(p->preshared_key);
	line_ok(p->line, lines);
	line_ok(p->public_key_line, lines);
	line_ok(p->endpoint.line, lines);
	line_ok(p->preshared_key_line, lines);
	line_ok(p->keepalive_line, lines);
}

static void check_always(const struct config *c, int lines)
{
	size_t i;

	TERMINATED(c->file);
	TERMINATED(c->interface);
	TERMINATED(c->bridge);
	TERMINATED(c->lan_port);
	TERMINATED(c->listen.host);
	TERMINATED(c->private_key);
	TERMINATED(c->control_socket);
	TERMINATED(c->user);
	if (strcmp(c->file, NAME))
		abort();
	line_ok(c->interface_line, lines);
	line_ok(c->bridge_line, lines);
	line_ok(c->lan_port_line, lines);
	line_ok(c->listen.line, lines);
	line_ok(c->private_key_line, lines);
	line_ok(c->control_socket_line, lines);
	line_ok(c->rekey_interval_line, lines);
	line_ok(c->wan_mtu_line, lines);
	line_ok(c->clamp_mss_line, lines);
	line_ok(c->user_line, lines);
	if (c->npeers > (size_t)lines || (c->npeers && !c->peers))
		abort();
	for (i = 0; i < c->npeers; i++)
		check_peer(&c->peers[i], lines);
}

static void check_accepted(const struct config *c)
{
	const struct config_peer *a, *b;
	size_t i, j;

	if (!c->private_key_line || !c->private_key[0] || !c->npeers ||
	    c->rekey_interval < 10 || c->rekey_interval > 120 ||
	    (c->wan_mtu && (c->wan_mtu < CONFIG_WAN_MTU_MIN ||
			    c->wan_mtu > CONFIG_WAN_MTU_MAX)) ||
	    !c->interface[0] || !c->bridge[0] ||
	    !strcmp(c->interface, c->bridge) ||
	    !strcmp(c->interface, c->lan_port) ||
	    !strcmp(c->bridge, c->lan_port))
		abort();
	for (i = 0; i < c->npeers; i++) {
		a = &c->peers[i];
		if (!a->name[0] || !a->public_key_line ||
		    sodium_is_zero(a->public_key, KEYS_LEN) ||
		    (!a->endpoint.line && !c->listen.line) ||
		    (a->endpoint.line && !a->endpoint.port) ||
		    a->keepalive > 3600)
			abort();
		for (j = 0; j < i; j++) {
			b = &c->peers[j];
			if (!strcmp(a->name, b->name) ||
			    !memcmp(a->public_key, b->public_key, KEYS_LEN))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char *text;
	FILE *f;
	int ret, lines = 1;
	size_t i;

	text = malloc(size ? size : 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	f = fmemopen(text, size, "r");
	if (!f) {
		free(text);
		return 0;
	}
	config_init(&c, "/etc/tapbridge/tapbridge.conf");
	ret = config_parse(f, NAME, &c);
	if (ret != 0 && ret != -1)
		abort();
	check_always(&c, lines);
	if (ret == 0)
		check_accepted(&c);
	config_fini(&c);
	if (c.peers || c.npeers)
		abort();
	fclose(f);
	free(text);
	return 0;
}
