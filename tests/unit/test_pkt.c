/*
 * test_pkt.c -- packet buffers: pkt_gso_append, which turns a run of
 * sealed datagrams to one peer into one UDP GSO send.  The kernel cuts a
 * GSO buffer into gso_size pieces, only the last of which may be shorter,
 * so an append must never break that shape.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tapbridge/log.h"
#include "tapbridge/pkt.h"

#define MTU	65536
#define SEGS	64
#define MAXLEN	65000

static struct pkt_pool *pool;

static void setup(void)
{
	pool = pkt_pool_new(4, MTU);
	cr_assert_not_null(pool);
}

static void teardown(void)
{
	pkt_pool_free(pool);
}

TestSuite(pkt, .init = setup, .fini = teardown);

/* A buffer holding one datagram of len bytes, each byte tag + offset. */
static struct pkt *dgram(size_t len, uint8_t tag)
{
	struct pkt *p = pkt_get(pool);
	size_t i;

	cr_assert_not_null(p);
	for (i = 0; i < len; i++)
		p->data[i] = (uint8_t)(tag + i);
	p->len = (uint32_t)len;
	return p;
}

static void assert_piece(const struct pkt *q, size_t off, size_t len,
			 uint8_t tag)
{
	size_t i;

	for (i = 0; i < len; i++)
		cr_assert_eq(q->data[off + i], (uint8_t)(tag + i),
			     "byte %zu of the piece at %zu", i, off);
}

Test(pkt, equal_datagrams_append_in_order)
{
	struct pkt *q = dgram(1500, 0), *p;
	uint8_t t;

	for (t = 1; t < 10; t++) {
		p = dgram(1500, t);
		cr_assert_eq(pkt_gso_append(q, p, SEGS, MAXLEN), 1);
		cr_assert_eq(p->len, 1500, "p was changed");
		pkt_put(pool, p);
	}
	cr_assert_eq(q->len, 15000);
	cr_assert_eq(q->gso_size, 1500);
	for (t = 0; t < 10; t++)
		assert_piece(q, (size_t)t * 1500, 1500, t);
	pkt_put(pool, q);
}

Test(pkt, shorter_datagram_is_the_last)
{
	struct pkt *q = dgram(1500, 0), *a = dgram(1500, 1), *b = dgram(80, 2);
	struct pkt *c = dgram(80, 3);

	cr_assert_eq(pkt_gso_append(q, a, SEGS, MAXLEN), 1);
	cr_assert_eq(pkt_gso_append(q, b, SEGS, MAXLEN), 1);
	cr_assert_eq(q->len, 3080);
	/* Nothing after a short piece, not even one of the same size. */
	cr_assert_eq(pkt_gso_append(q, c, SEGS, MAXLEN), 0);
	cr_assert_eq(q->len, 3080);
	cr_assert_eq(q->gso_size, 1500);
	assert_piece(q, 3000, 80, 2);
	pkt_put(pool, a);
	pkt_put(pool, b);
	pkt_put(pool, c);
	pkt_put(pool, q);
}

Test(pkt, larger_datagram_is_refused)
{
	struct pkt *q = dgram(100, 0), *p = dgram(101, 1);

	cr_assert_eq(pkt_gso_append(q, p, SEGS, MAXLEN), 0);
	cr_assert_eq(q->len, 100);
	cr_assert_eq(q->gso_size, 0, "q must stay one datagram");
	pkt_put(pool, p);
	pkt_put(pool, q);
}

Test(pkt, limits_on_segments_and_bytes_hold)
{
	struct pkt *q = dgram(1000, 0), *p = dgram(1000, 1);
	unsigned n = 1;

	while (pkt_gso_append(q, p, 8, MAXLEN))
		n++;
	cr_assert_eq(n, 8);
	cr_assert_eq(q->len, 8000);
	pkt_put(pool, q);

	q = dgram(1000, 0);
	n = 1;
	while (pkt_gso_append(q, p, SEGS, 5500))
		n++;
	cr_assert_eq(n, 5);
	cr_assert_eq(q->len, 5000);
	pkt_put(pool, p);
	pkt_put(pool, q);
}

Test(pkt, storage_end_is_respected)
{
	struct pkt *q = dgram(1000, 0), *p = dgram(1000, 1);
	size_t room = pkt_tailroom(q);
	unsigned n = 1;

	while (pkt_gso_append(q, p, 1000, 1000000))
		n++;
	cr_assert_eq(n, 1 + room / 1000);
	cr_assert_leq(pkt_tailroom(q), 999);
	pkt_put(pool, p);
	pkt_put(pool, q);
}

Test(pkt, gso_buffers_and_empty_ones_are_not_appended)
{
	struct pkt *q = dgram(1000, 0), *p = dgram(2000, 1), *e = dgram(0, 2);

	p->gso_size = 1000;	/* already two datagrams */
	cr_assert_eq(pkt_gso_append(q, p, SEGS, MAXLEN), 0);
	cr_assert_eq(pkt_gso_append(q, e, SEGS, MAXLEN), 0);
	cr_assert_eq(pkt_gso_append(e, q, SEGS, MAXLEN), 0);
	cr_assert_eq(q->len, 1000);
	pkt_put(pool, e);
	pkt_put(pool, p);
	pkt_put(pool, q);
}

static int bug_fd = -1;

static void bug_sink(int pri, const char *line)
{
	(void)pri;
	if (write(bug_fd, line, strlen(line)) < 0)
		_exit(3);
}

/*
 * A broken promise (here: pulling more than a packet holds) aborts after
 * saying where, through the log: in the network process that is the only
 * way out, its standard error being /dev/null.
 */
Test(pkt, a_bug_is_logged_before_the_abort)
{
	const char *pre = getenv("LD_PRELOAD");
	char got[256] = "";
	int fds[2], status;
	struct pkt *p;
	pid_t pid;

	if (pre && strstr(pre, "vgpreload"))
		cr_skip_test("SKIPPED under valgrind: the child aborts on "
			     "purpose, which valgrind reports with its stack");
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		bug_fd = fds[1];
		log_set_sink(bug_sink);
		p = pkt_get(pool);
		if (!p)
			_exit(2);
		p->len = 10;
		pkt_pull(p, 11);
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(read(fds[0], got, sizeof(got) - 1) >= 0);
	close(fds[0]);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		  "status %#x", (unsigned)status);
	cr_assert(strstr(got, "BUG at ") && strstr(got, "pkt.h"),
		  "the log got '%s'", got);
}
