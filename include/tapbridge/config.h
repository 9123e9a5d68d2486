/*
 * config.h -- the tapbridge.conf grammar, its parser and its defaults.
 *
 * config_parse is pure: it reads text and fills a struct config, touching no
 * socket, netlink, key file or privilege, so tests and fuzzers drive it with
 * fmemopen.  Every error is reported as "FILE:LINE: message" and parsing
 * goes on so one run shows every mistake.  Every stored value keeps the line
 * it came from, so checks done later (key files, name resolution) can point
 * at it.  Defaults live in config_init and nowhere else; tapbridge.conf(5)
 * documents the same values and ranges.
 */
#ifndef TAPBRIDGE_CONFIG_H
#define TAPBRIDGE_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tapbridge/keys.h"

#define CONFIG_NAME_MAX		32	/* peer names, with the NUL */
#define CONFIG_HOST_MAX		256
#define CONFIG_PATH_MAX		4096
#define CONFIG_WAN_MTU_MIN	576
#define CONFIG_WAN_MTU_MAX	9000

/* A "host:port" or "[v6]:port" as written; resolved later, not here. */
struct config_endpoint {
	char host[CONFIG_HOST_MAX];	/* without brackets; "" = unset */
	uint16_t port;
	int line;			/* 0 = unset */
};

struct config_peer {
	char name[CONFIG_NAME_MAX];
	int line;			/* of "peer NAME {" */
	uint8_t public_key[KEYS_LEN];
	int public_key_line;		/* 0 = missing */
	struct config_endpoint endpoint;	/* optional */
	char preshared_key[CONFIG_PATH_MAX];	/* path; "" = none */
	int preshared_key_line;
	unsigned keepalive;		/* seconds; 0 = off */
	int keepalive_line;
};

struct config {
	char file[CONFIG_PATH_MAX];	/* name used in messages */
	char interface[IFNAMSIZ];
	int interface_line;
	char bridge[IFNAMSIZ];
	int bridge_line;
	char lan_port[IFNAMSIZ];	/* "" = none */
	int lan_port_line;
	bool lan_gro;			/* turn on the LAN port's GRO */
	int lan_gro_line;
	struct config_endpoint listen;	/* host "" with port = any address */
	char private_key[CONFIG_PATH_MAX];
	int private_key_line;
	char control_socket[CONFIG_PATH_MAX];
	int control_socket_line;
	unsigned rekey_interval;	/* seconds */
	int rekey_interval_line;
	unsigned wan_mtu;		/* 0 = discover ("auto") */
	int wan_mtu_line;
	bool clamp_mss;
	int clamp_mss_line;
	char user[CONFIG_NAME_MAX];	/* the network process runs as */
	int user_line;
	char control_group[CONFIG_NAME_MAX];	/* "" = root only */
	int control_group_line;

	struct config_peer *peers;	/* malloc'd array */
	size_t npeers;
};

/*
 * config_init(c, file): set every default; file is the configuration's
 * path, used in messages and to derive the default control socket
 * (RUNSTATEDIR/tapbridge/<basename without .conf>.sock).
 */
void config_init(struct config *c, const char *file);
/* config_fini(c): free what config_parse allocated; c may be reused. */
void config_fini(struct config *c);

/*
 * config_parse(f, name, c): parse the whole stream into c (after
 * config_init; name is copied into c->file), then run the cross-field
 * checks.  Every error is logged
 * with log_warnx as "name:line: message".  Returns 0, or -1 if there was
 * any error (c then holds what parsed and must still be config_fini'd).
 */
int config_parse(FILE *f, const char *name, struct config *c);

/* config_load(path, c): config_init + fopen + config_parse; 0 or -1. */
int config_load(const char *path, struct config *c);

/* config_find_peer(c, name): the peer called name, or NULL. */
const struct config_peer *config_find_peer(const struct config *c,
					   const char *name);

#endif
