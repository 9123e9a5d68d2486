/*
 * pkt.c -- the fixed packet pool; see pkt.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/log.h"
#include "tapbridge/pkt.h"

struct pkt_pool {
	struct pkt *pkts;
	uint8_t *storage;
	struct pkt *free;
	unsigned count;
	unsigned avail;
	unsigned mtu;
};

void pkt_bug(const char *file, int line, const char *what)
{
	/* Through the log: in the network process standard error is
	 * /dev/null, and the line must reach the parent. */
	log_warnx("BUG at %s:%d: %s", file, line, what);
	abort();
}

void pkt_addr_key(uint8_t key[16], const union pkt_addr *a)
{
	memset(key, 0, 16);
	if (a->sa.sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &a->in4.sin_addr, 4);
	} else if (a->sa.sa_family == AF_INET6) {
		memcpy(key, &a->in6.sin6_addr, 16);
	}
}

struct pkt_pool *pkt_pool_new(unsigned count, unsigned mtu)
{
	struct pkt_pool *pool;
	size_t room = PKT_HEADROOM + (size_t)mtu + PKT_TAILROOM;
	unsigned i;

	room = (room + 63) & ~(size_t)63;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->pkts = calloc(count, sizeof(*pool->pkts));
	if (!pool->pkts)
		goto fail_free_pool;
	if (posix_memalign((void **)&pool->storage, 64, room * count)) {
		errno = ENOMEM;
		goto fail_free_pkts;
	}
	pool->count = count;
	pool->mtu = mtu;
	for (i = 0; i < count; i++) {
		struct pkt *p = &pool->pkts[i];

		p->head = pool->storage + room * i;
		p->room = (uint32_t)room;
		p->in_pool = 1;
		p->next = pool->free;
		pool->free = p;
	}
	pool->avail = count;
	return pool;

fail_free_pkts:
	free(pool->pkts);
fail_free_pool:
	free(pool);
	return NULL;
}

void pkt_pool_free(struct pkt_pool *pool)
{
	if (!pool)
		return;
	free(pool->storage);
	free(pool->pkts);
	free(pool);
}

struct pkt *pkt_get(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;

	if (!p)
		return NULL;
	pool->free = p->next;
	pool->avail--;
	p->next = NULL;
	p->in_pool = 0;
	pkt_reset(p);
	return p;
}

void pkt_put(struct pkt_pool *pool, struct pkt *p)
{
	if (!p)
		return;
	BUG_ON(p->in_pool);
	BUG_ON(p < pool->pkts || p >= pool->pkts + pool->count);
	p->in_pool = 1;
	p->next = pool->free;
	pool->free = p;
	pool->avail++;
}

unsigned pkt_pool_avail(const struct pkt_pool *pool)
{
	return pool->avail;
}

unsigned pkt_pool_mtu(const struct pkt_pool *pool)
{
	return pool->mtu;
}

void pkt_batch_put(struct pkt_pool *pool, struct pkt_batch *b)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		pkt_put(pool, b->p[i]);
	b->n = 0;
}

int pkt_gso_append(struct pkt *q, const struct pkt *p, unsigned max_segs,
		   size_t max_len)
{
	uint32_t seg = q->gso_size ? q->gso_size : q->len;

	if (!seg || !p->len || p->gso_size || p->len > seg || q->len % seg ||
	    q->len / seg >= max_segs || (size_t)q->len + p->len > max_len ||
	    p->len > pkt_tailroom(q))
		return 0;
	memcpy(q->data + q->len, p->data, p->len);
	q->len += p->len;
	q->gso_size = seg;
	return 1;
}
