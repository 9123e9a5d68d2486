/*
 * main.c -- tapbridge's command line: parse argv, wire the modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/config.h"
#include "tapbridge/control.h"
#include "tapbridge/daemon.h"
#include "tapbridge/keys.h"
#include "tapbridge/log.h"

#define DEFAULT_CONF SYSCONFDIR "/tapbridge/tapbridge.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tapbridge [-f] [-v]... [-c file] [-p pidfile]\n"
		"       tapbridge -t [-c file]\n"
		"       tapbridge genkey\n"
		"       tapbridge pubkey\n"
		"       tapbridge status [--json | --prometheus] [-c file]\n"
		"       tapbridge -V | -h\n"
		"(-c is also --config, -V --version, -h --help)\n");
}

/* A key and a newline to standard output, with no copy left in a stdio
 * buffer; 0, or -1 (logged) if it could not all be written. */
static int put_key(const char *cmd, const char *b64)
{
	char line[KEYS_B64_LEN + 1];
	size_t len = strlen(b64), off = 0;
	ssize_t n;
	int rc = 0;

	memcpy(line, b64, len);
	line[len++] = '\n';
	while (off < len) {
		n = write(STDOUT_FILENO, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%s: cannot write the key", cmd);
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	sodium_memzero(line, sizeof(line));
	return rc;
}

static int cmd_genkey(void)
{
	struct keys_secret *s = keys_secret_new();
	char b64[KEYS_B64_LEN];
	int rc;

	if (!s)
		fatal("genkey");
	keys_generate(s);
	keys_to_base64(b64, s->key);
	keys_secret_free(s);
	rc = put_key("genkey", b64);
	sodium_memzero(b64, sizeof(b64));
	return rc < 0 ? 1 : 0;
}

static int cmd_pubkey(void)
{
	struct keys_secret *s = keys_secret_new();
	char line[256], b64[KEYS_B64_LEN];
	uint8_t pub[KEYS_LEN];
	int rc = 1;

	if (!s)
		fatal("pubkey");
	if (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (keys_from_base64(s->key, line) == 0 &&
		    keys_public(pub, s) == 0) {
			keys_to_base64(b64, pub);
			rc = put_key("pubkey", b64) < 0 ? 2 : 0;
		}
	}
	sodium_memzero(line, sizeof(line));
	keys_secret_free(s);
	if (rc == 1)
		log_warnx("pubkey: standard input does not hold a base64 "
			  "private key of 32 bytes");
	return rc ? 1 : 0;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = DEFAULT_CONF, *req = "status";
	struct config c;
	int ch, rc, formats = 0;
	FILE *f;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'j':
		case 'p':
			req = ch == 'j' ? "status json" : "status prometheus";
			formats++;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (formats > 1 || optind != argc) {
		usage(stderr);
		return 1;
	}
	config_init(&c, file);
	f = fopen(file, "re");
	if (!f) {
		log_warn("cannot open '%s'", file);
		return 1;
	}
	/* Errors in the file (an edit not reloaded yet, say) leave the
	 * daemon running on its old one: still ask it, where the file
	 * says, as long as the file could be read. */
	if (config_parse(f, file, &c) < 0) {
		if (ferror(f)) {
			fclose(f);
			config_fini(&c);
			return 1;
		}
		log_warnx("'%s' has the errors above; asking the daemon at "
			  "'%s' all the same", file, c.control_socket);
	}
	fclose(f);
	rc = control_query(c.control_socket, req, stdout) < 0;
	config_fini(&c);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = DEFAULT_CONF, *pidfile = NULL;
	int ch, foreground = 0, test = 0, verbose = 0, rc;
	struct config *c;

	while ((ch = getopt_long(argc, argv, "c:fhp:tvV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("tapbridge %s\n", TAPBRIDGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (test && pidfile) {
		log_warnx("-p is for a daemon that runs: it cannot go with -t");
		return 1;
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	/* stderr until the daemon detaches: start-up errors are seen */
	log_init(LOG_TO_STDERR, verbose, "tapbridge");
	c = calloc(1, sizeof(*c));
	if (!c)
		fatal("config");
	if (config_load(file, c) < 0) {
		rc = -1;
	} else if (test) {
		rc = daemon_check(c);
		if (rc == 0)
			printf("configuration OK\n");
	} else {
		rc = daemon_run(&c, foreground ? DAEMON_FOREGROUND :
					     DAEMON_BACKGROUND, pidfile);
	}
	config_fini(c);
	free(c);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	int fd;

	/* Descriptors 0 to 2 open, on /dev/null if they were not: a socket
	 * must not take one, to be covered by /dev/null when the daemon
	 * goes into the background. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	/* And nothing else inherited (a shell's or a supervisor's stray
	 * descriptors), least of all into the network process's sandbox. */
	if (close_range(3, ~0U, 0) < 0) {
		int max = (int)sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close(fd);
	}
	log_init(LOG_TO_STDERR, 0, "tapbridge");
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	if (argc >= 2 && !strcmp(argv[1], "genkey") && argc == 2)
		return cmd_genkey();
	if (argc >= 2 && !strcmp(argv[1], "pubkey") && argc == 2)
		return cmd_pubkey();
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}
