/*
 * offload.c -- the LAN port's receive offloads; see offload.h.
 *
 * SIOCETHTOOL as ethtool -k and -K use it: the string set ETH_SS_FEATURES
 * names every bit of the device's feature words (ETHTOOL_GSSET_INFO for
 * their number, ETHTOOL_GSTRINGS for the names), ETHTOOL_GFEATURES reads
 * the words and ETHTOOL_SFEATURES changes the bits marked valid.  The bit
 * of a name is the same for every device of a running kernel.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tapbridge/log.h"
#include "tapbridge/offload.h"

#define MAX_FEATURES	4096	/* Linux 6.18 names 70 */

/* One device, its feature names and words. */
struct dev {
	int fd;				/* any socket: the ioctl's handle */
	char name[IFNAMSIZ];
	uint32_t n;			/* features */
	uint32_t words;			/* 32-bit words holding them */
	struct ethtool_gstrings *names;	/* n * ETH_GSTRING_LEN bytes */
	struct ethtool_gfeatures *get;	/* words blocks */
};

static int dev_ioctl(const struct dev *d, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, d->name, sizeof(ifr.ifr_name));
	ifr.ifr_data = data;
	return ioctl(d->fd, SIOCETHTOOL, &ifr);
}

static void dev_close(struct dev *d)
{
	int saved = errno;

	if (d->fd >= 0)
		close(d->fd);
	free(d->names);
	free(d->get);
	errno = saved;
}

/* Open interface name: its feature names and words.  0, or -1 (errno). */
static int dev_open(struct dev *d, const char *name)
{
	struct ethtool_sset_info *info;
	size_t len = strlen(name);

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (len >= sizeof(d->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(d->name, name, len + 1);
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -1;
	info = calloc(1, sizeof(*info) + sizeof(info->data[0]));
	if (!info)
		return -1;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	if (dev_ioctl(d, info) < 0) {
		free(info);
		return -1;
	}
	if (!(info->sset_mask & (1ULL << ETH_SS_FEATURES)) ||
	    info->data[0] == 0 || info->data[0] > MAX_FEATURES) {
		free(info);
		errno = EOPNOTSUPP;
		return -1;
	}
	d->n = info->data[0];
	free(info);
	d->words = (d->n + 31) / 32;
	d->names = calloc(1, sizeof(*d->names) + (size_t)d->n * ETH_GSTRING_LEN);
	d->get = calloc(1, sizeof(*d->get) +
			   d->words * sizeof(d->get->features[0]));
	if (!d->names || !d->get)
		return -1;
	d->names->cmd = ETHTOOL_GSTRINGS;
	d->names->string_set = ETH_SS_FEATURES;
	d->names->len = d->n;
	if (dev_ioctl(d, d->names) < 0)
		return -1;
	/* The kernel may name fewer than it counted (not more). */
	if (d->names->len < d->n)
		d->n = d->names->len;
	d->get->cmd = ETHTOOL_GFEATURES;
	d->get->size = d->words;
	return dev_ioctl(d, d->get);
}

/* The bit named want, or -1 when this kernel has no such feature. */
static long dev_find(const struct dev *d, const char *want)
{
	const char *s;
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		s = (const char *)d->names->data + (size_t)i * ETH_GSTRING_LEN;
		if (!strncmp(s, want, ETH_GSTRING_LEN))
			return i;
	}
	return -1;
}

static const struct ethtool_get_features_block *
dev_block(const struct dev *d, uint32_t bit, uint32_t *mask)
{
	*mask = 1u << (bit % 32);
	return &d->get->features[bit / 32];
}

/* Set the n bits of bit to on (requested), leaving every other alone. */
static int dev_set(struct dev *d, const uint32_t *bit, unsigned n, bool on)
{
	struct ethtool_sfeatures *sf;
	uint32_t m;
	unsigned i;
	int rc;

	sf = calloc(1, sizeof(*sf) + d->words * sizeof(sf->features[0]));
	if (!sf)
		return -1;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = d->words;
	for (i = 0; i < n; i++) {
		m = 1u << (bit[i] % 32);
		sf->features[bit[i] / 32].valid |= m;
		if (on)
			sf->features[bit[i] / 32].requested |= m;
	}
	rc = dev_ioctl(d, sf);
	free(sf);
	return rc < 0 ? -1 : 0;
}

int offload_lan_on(const char *ifname, bool udp, struct offload_saved *saved)
{
	static const char *const want[OFFLOAD_MAX] = {
		"rx-gro", "rx-udp-gro-forwarding",
	};
	const struct ethtool_get_features_block *blk;
	struct dev d;
	uint32_t m;
	unsigned i, n = 0;
	size_t at = 0;
	long bit;
	int rc = -1;

	memset(saved, 0, sizeof(*saved));
	if (dev_open(&d, ifname) < 0)
		goto fail;
	for (i = 0; i < (udp ? 2u : 1u); i++) {
		bit = dev_find(&d, want[i]);
		if (bit < 0)
			continue;	/* an older kernel */
		blk = dev_block(&d, (uint32_t)bit, &m);
		/* Found on (as asked for by someone), or fixed: not ours. */
		if (blk->requested & m || !(blk->available & m) ||
		    blk->never_changed & m)
			continue;
		saved->bit[n++] = (uint32_t)bit;
		at += (size_t)snprintf(saved->what + at, sizeof(saved->what) -
				       at, "%s%s", at ? ", " : "", want[i]);
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	saved->ifindex = (int)if_nametoindex(ifname);
	if (saved->ifindex == 0 || dev_set(&d, saved->bit, n, true) < 0) {
		memset(saved, 0, sizeof(*saved));
		goto fail;
	}
	saved->n = n;
	log_info("lan-port '%s': turned on %s (off again at the stop)",
		 ifname, saved->what);
	rc = (int)n;
	goto out;
fail:
	log_warn("lan-port '%s': cannot turn on GRO; frames from the LAN are "
		 "read one by one", ifname);
out:
	dev_close(&d);
	return rc;
}

void offload_restore(struct offload_saved *saved)
{
	char name[IF_NAMESIZE];
	struct dev d;

	if (saved->n == 0 || !if_indextoname((unsigned)saved->ifindex, name))
		goto out;	/* nothing done, or the port is gone */
	if (dev_open(&d, name) < 0 || dev_set(&d, saved->bit, saved->n,
					       false) < 0)
		log_warn("lan-port '%s': cannot turn %s off again", name,
			 saved->what);
	else
		log_info("lan-port '%s': turned %s off again", name,
			 saved->what);
	dev_close(&d);
out:
	memset(saved, 0, sizeof(*saved));
}
