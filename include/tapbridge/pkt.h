/*
 * pkt.h -- packet buffers: a fixed pool allocated at start, each buffer a
 * window (data, len) inside fixed storage with headroom in front.
 *
 * A TAP read lands at data = head + PKT_HEADROOM, leaving room to push the
 * inner header, the secretbox MAC and the data header in front of the frame
 * without a copy; a received datagram is opened in place and pulled down to
 * the frame.  Buffers move between modules in a struct pkt_batch with
 * exactly one owner; functions that take ownership say "consumes".  Nothing
 * here allocates after pkt_pool_new.  Misuse (pull past the end, double
 * free) is a BUG and aborts; it can never be triggered by packet bytes,
 * because every length from the wire is checked before a pull.
 */
#ifndef TAPBRIDGE_PKT_H
#define TAPBRIDGE_PKT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PKT_HEADROOM	64	/* >= data header + MAC + inner header */
#define PKT_TAILROOM	64
#define PKT_BATCH	64	/* packets per syscall batch */

#define BUG_ON(cond)							\
	do {								\
		if (cond)						\
			pkt_bug(__FILE__, __LINE__, #cond);		\
	} while (0)

void pkt_bug(const char *file, int line, const char *what)
	__attribute__((noreturn));

/* A datagram peer address: IPv4, IPv6 or v4-mapped IPv6. */
union pkt_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* pkt_addr_key(key, a): a's address alone (no port) in 16 bytes, IPv4 in
 * its v4-mapped IPv6 form; zeros for another family. */
void pkt_addr_key(uint8_t key[16], const union pkt_addr *a);

struct pkt {
	uint8_t *data;		/* start of the valid bytes */
	uint32_t len;		/* valid bytes from data */
	uint32_t gso_size;	/* several datagrams of this size back to
				 * back (UDP GSO/GRO); 0 = one datagram */
	uint32_t room;		/* bytes from head to end of storage */
	union pkt_addr addr;	/* source (rx) or destination (tx) */
	struct pkt *next;	/* free list and staging queues */
	uint8_t *head;		/* start of storage */
	int in_pool;		/* 1 while on the free list */
};

struct pkt_pool;

/*
 * pkt_pool_new(count, mtu): count buffers, each with room for PKT_HEADROOM
 * + mtu + PKT_TAILROOM bytes.  Returns NULL (errno set) if memory fails.
 */
struct pkt_pool *pkt_pool_new(unsigned count, unsigned mtu);
/* pkt_pool_free(pool): free all storage; NULL is a no-op. */
void pkt_pool_free(struct pkt_pool *pool);
/* pkt_get(pool): a reset buffer (data at headroom, len 0), or NULL. */
struct pkt *pkt_get(struct pkt_pool *pool);
/* pkt_put(pool, p): consumes p; NULL is a no-op. */
void pkt_put(struct pkt_pool *pool, struct pkt *p);
/* pkt_pool_avail(pool): buffers currently free. */
unsigned pkt_pool_avail(const struct pkt_pool *pool);
/* pkt_pool_mtu(pool): largest payload a buffer holds after headroom. */
unsigned pkt_pool_mtu(const struct pkt_pool *pool);

/* pkt_reset(p): empty window at the default headroom. */
static inline void pkt_reset(struct pkt *p)
{
	p->data = p->head + PKT_HEADROOM;
	p->len = 0;
	p->gso_size = 0;
}

/* pkt_tailroom(p): bytes writable after data + len. */
static inline size_t pkt_tailroom(const struct pkt *p)
{
	return (size_t)(p->head + p->room - (p->data + p->len));
}

/* pkt_push(p, n): grow the window n bytes to the front; returns data. */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	BUG_ON((size_t)(p->data - p->head) < n);
	p->data -= n;
	p->len += (uint32_t)n;
	return p->data;
}

/* pkt_pull(p, n): drop n bytes from the front; returns the new data. */
static inline uint8_t *pkt_pull(struct pkt *p, size_t n)
{
	BUG_ON(p->len < n);
	p->data += n;
	p->len -= (uint32_t)n;
	return p->data;
}

/* pkt_trim(p, len): shorten the window to len bytes. */
static inline void pkt_trim(struct pkt *p, size_t len)
{
	BUG_ON(len > p->len);
	p->len = (uint32_t)len;
}

struct pkt_batch {
	unsigned n;
	struct pkt *p[PKT_BATCH];
};

/* pkt_batch_put(pool, b): consumes every packet of b; b is left empty. */
void pkt_batch_put(struct pkt_pool *pool, struct pkt_batch *b);

/*
 * pkt_gso_append(q, p, max_segs, max_len): append the one datagram in p to
 * q as one more UDP GSO segment, if q can take it: every segment of q so
 * far has the same size (q->gso_size, or q->len when q holds one), p is no
 * larger (a shorter one ends q: nothing is appended after it), and q stays
 * within max_segs segments, max_len bytes and its storage.  Returns 1 if
 * appended (q->gso_size then set), 0 if q and p are left as they were.
 */
int pkt_gso_append(struct pkt *q, const struct pkt *p, unsigned max_segs,
		   size_t max_len);

#endif
