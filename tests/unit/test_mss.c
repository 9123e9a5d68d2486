/*
 * test_mss.c -- TCP MSS clamping: which frames are clamped, to what, with a
 * checksum that a full independent computation accepts, and no reads or
 * writes outside malformed, truncated or random frames.
 *
 * Frames come from a small builder driven by a table of rows.  Checksums
 * are verified here from scratch (RFC 1071 over pseudo-header and
 * segment), never by the incremental code under test.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tapbridge/mss.h"

#define UNTOUCHED	(-1L)
#define MAX_FRAME	1400
#define FRAME_BUF	2048
#define MAX_MSS_SEEN	10

/* TCP options as bytes. */
#define O_MSS(v)	2, 4, (uint8_t)((v) >> 8), (uint8_t)(v)
#define O_NOP		1
#define O_EOL		0
#define O_SACKOK	4, 2
#define O_WS(s)		3, 3, (s)
#define O_TS		8, 10, 0, 0, 0, 1, 0, 0, 0, 0

#define TH_FIN_		0x01
#define TH_SYN_		0x02
#define TH_PSH_		0x08
#define TH_ACK_		0x10

/* IPv4 fragment kinds of struct spec.frag. */
enum { FRAG_NONE, FRAG_MF, FRAG_OFFSET };

/* What to build.  Zero means "the normal value" for every field. */
struct spec {
	int ipver;		/* 4 or 6; 0 = ARP */
	int tags;		/* VLAN tags in front: 0..3 */
	uint8_t proto;		/* IP protocol; 0 = TCP */
	uint8_t flags;		/* TCP flags */
	uint8_t opts[40];	/* TCP options, padded with EOL to 4 */
	size_t optlen;
	int ip_opt_words;	/* IPv4 options (NOPs), 32-bit words */
	uint8_t ext[10];	/* IPv6 extension headers, in order */
	int n_ext;
	int frag;		/* IPv4: enum above; IPv6: see ext (44) */
	size_t payload;		/* TCP payload bytes */
	size_t pad_to;		/* Ethernet padding up to this length */
	int doff;		/* TCP data offset override, words */
	int iplen_adj;		/* added to the IP length field */
	int ihl;		/* IPv4 IHL override */
	uint8_t ver;		/* IP version nibble override */
};

/* What was built, found by the builder, not by the code under test. */
struct built {
	uint8_t f[FRAME_BUF];
	size_t len;
	int ipver;
	size_t ip;		/* IP header offset */
	size_t tcp;		/* TCP header offset */
	size_t seg;		/* TCP header + payload */
	size_t mss[MAX_MSS_SEEN];	/* frame offsets of MSS values */
	int n_mss;
};

struct row {
	const char *desc;
	struct spec s;
	size_t max_frame;
	long expect;		/* MSS after the call, or UNTOUCHED */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071: add bytes to a running sum as big-endian 16-bit words. */
static uint64_t sum_bytes(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header plus segment, as found in the frame at b's offsets. */
static uint16_t tcp_sum(const struct built *b, uint8_t proto)
{
	const uint8_t *ip = b->f + b->ip;
	uint64_t sum = 0;

	if (b->ipver == 4) {
		sum = sum_bytes(sum, ip + 12, 8);
		sum += proto;
	} else {
		sum = sum_bytes(sum, ip + 8, 32);
		sum += proto;
	}
	sum += b->seg;
	return fold(sum_bytes(sum, b->f + b->tcp, b->seg));
}

static int tcp_csum_ok(const struct built *b)
{
	return tcp_sum(b, IPPROTO_TCP) == 0xffff;
}

static size_t build_l2(const struct spec *s, uint8_t *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	size_t off = 12;
	int i;

	memcpy(f, macs, sizeof(macs));
	for (i = 0; i < s->tags; i++) {
		/* QinQ: service tag outside, customer tag inside. */
		put16(f + off, i == 0 && s->tags > 1 ? 0x88a8 : 0x8100);
		put16(f + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

static size_t build_tcp(const struct spec *s, struct built *b, size_t off)
{
	size_t optlen = (s->optlen + 3) & ~(size_t)3, i, hlen;
	uint8_t *t = b->f + off;
	int doff;

	hlen = 20 + optlen;
	doff = s->doff ? s->doff : (int)(hlen / 4);
	memset(t, 0, hlen);
	put16(t, 40000);
	put16(t + 2, 80);
	put16(t + 4, 0x1234);
	put16(t + 6, 0x5678);
	if (s->flags & TH_ACK_)
		put16(t + 10, 0x9abc);
	t[12] = (uint8_t)(doff << 4);
	t[13] = s->flags;
	put16(t + 14, 64240);
	memcpy(t + 20, s->opts, s->optlen);
	for (i = 0; i < s->payload; i++)
		t[hlen + i] = (uint8_t)(i * 7 + 3);
	/* Record MSS options the way a receiver would read them. */
	for (i = 20; i < hlen && t[i] != O_EOL;) {
		if (t[i] == O_NOP) {
			i++;
			continue;
		}
		if (t[i] == 2 && t[i + 1] == 4 && b->n_mss < MAX_MSS_SEEN)
			b->mss[b->n_mss++] = off + i + 2;
		if (t[i + 1] < 2)
			break;
		i += t[i + 1];
	}
	b->tcp = off;
	b->seg = hlen + s->payload;
	return off + b->seg;
}

static size_t build_v4(const struct spec *s, struct built *b, size_t off)
{
	uint8_t *ip = b->f + off;
	size_t ihl = 20 + 4 * (size_t)s->ip_opt_words, end;
	uint16_t fragf = 0x4000;	/* DF */

	memset(ip, 0, ihl);
	memset(ip + 20, 1, ihl - 20);	/* IP option NOPs */
	end = build_tcp(s, b, off + ihl);
	ip[0] = (uint8_t)((s->ver ? s->ver : 4) << 4 |
			  (s->ihl ? s->ihl : (int)(ihl / 4)));
	put16(ip + 2, (uint16_t)((int)(end - off) + s->iplen_adj));
	put16(ip + 4, 0x4242);
	if (s->frag == FRAG_MF)
		fragf = 0x2000;
	else if (s->frag == FRAG_OFFSET)
		fragf = 185;		/* 1480 / 8 */
	put16(ip + 6, fragf);
	ip[8] = 64;
	ip[9] = s->proto ? s->proto : IPPROTO_TCP;
	ip[12] = 198;
	ip[13] = 18;
	ip[15] = 1;
	ip[16] = 198;
	ip[17] = 18;
	ip[19] = 2;
	put16(ip + 10, (uint16_t)~fold(sum_bytes(0, ip, ihl)));
	return end;
}

static size_t build_v6(const struct spec *s, struct built *b, size_t off)
{
	uint8_t *ip = b->f + off, *e;
	size_t p = off + 40, end;
	uint8_t *prev = ip + 6;
	int i;

	memset(ip, 0, 40);
	ip[0] = (uint8_t)((s->ver ? s->ver : 6) << 4);
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = 1;
	ip[24] = 0xfd;
	ip[39] = 2;
	for (i = 0; i < s->n_ext; i++) {
		e = b->f + p;
		*prev = s->ext[i];
		memset(e, 0, 8);
		if (s->ext[i] == 0 || s->ext[i] == 60) {
			e[2] = 1;	/* PadN, 4 bytes */
			e[3] = 4;
		} else if (s->ext[i] == 43) {
			e[2] = 253;	/* experimental type, segments left 0 */
		}
		prev = e;
		p += 8;
	}
	*prev = s->proto ? s->proto : IPPROTO_TCP;
	end = build_tcp(s, b, p);
	put16(ip + 4, (uint16_t)((int)(end - off - 40) + s->iplen_adj));
	return end;
}

static size_t build_arp(struct built *b, size_t off)
{
	static const uint8_t arp[28] = {
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 1,
		0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
	};

	memcpy(b->f + off, arp, sizeof(arp));
	return off + sizeof(arp);
}

static void build(const struct spec *s, struct built *b)
{
	uint16_t type = s->ipver == 4 ? 0x0800 : s->ipver == 6 ? 0x86dd :
			0x0806;
	size_t off;

	memset(b, 0, sizeof(*b));
	b->ipver = s->ipver;
	off = build_l2(s, b->f, type);
	b->ip = off;
	if (s->ipver == 4)
		off = build_v4(s, b, off);
	else if (s->ipver == 6)
		off = build_v6(s, b, off);
	else
		off = build_arp(b, off);
	if (s->ipver)
		put16(b->f + b->tcp + 16,
		      (uint16_t)~tcp_sum(b, s->proto ? s->proto : IPPROTO_TCP));
	for (; off < s->pad_to; off++)
		b->f[off] = 0xaa;	/* padding that must not be summed */
	b->len = off;
	if (s->ipver && !s->iplen_adj && !s->proto)
		cr_assert(tcp_csum_ok(b), "builder checksum broken");
}

/*
 * After a clamp: every MSS is at most the expected value (and equal where
 * it was bigger), the checksum verifies, and nothing else changed.
 */
static void check_clamped(const struct built *before, const struct built *b,
			  long expect, const char *desc)
{
	size_t i;
	int k, is_mss;
	uint16_t old;

	cr_assert(b->n_mss > 0, "%s: row has no MSS option", desc);
	for (k = 0; k < b->n_mss; k++) {
		old = get16(before->f + b->mss[k]);
		cr_assert_eq(get16(b->f + b->mss[k]),
			     old > expect ? (uint16_t)expect : old,
			     "%s: MSS %u, want %ld", desc,
			     (unsigned int)get16(b->f + b->mss[k]), expect);
	}
	cr_assert(tcp_csum_ok(b), "%s: checksum does not verify", desc);
	for (i = 0; i < b->len; i++) {
		is_mss = i == b->tcp + 16 || i == b->tcp + 17;
		for (k = 0; k < b->n_mss; k++)
			if (i == b->mss[k] || i == b->mss[k] + 1)
				is_mss = 1;
		if (!is_mss)
			cr_assert_eq(b->f[i], before->f[i],
				     "%s: byte %zu changed", desc, i);
	}
}

static const struct row rows[] = {
	{ "ipv4 syn mss 1460", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, 1346 },
	{ "ipv4 syn-ack", { .ipver = 4, .flags = TH_SYN_ | TH_ACK_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, 1346 },
	{ "ipv6 syn", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4 }, MAX_FRAME, 1326 },
	{ "ipv6 syn-ack", { .ipver = 6, .flags = TH_SYN_ | TH_ACK_,
	  .opts = { O_MSS(1440) }, .optlen = 4 }, MAX_FRAME, 1326 },
	{ "ipv4 one 802.1q tag", { .ipver = 4, .tags = 1, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, 1342 },
	{ "ipv4 qinq", { .ipver = 4, .tags = 2, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, 1338 },
	{ "ipv6 one 802.1q tag", { .ipver = 6, .tags = 1, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4 }, MAX_FRAME, 1322 },
	{ "ipv6 qinq", { .ipver = 6, .tags = 2, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4 }, MAX_FRAME, 1318 },
	{ "three tags are not parsed", { .ipver = 4, .tags = 3,
	  .flags = TH_SYN_, .opts = { O_MSS(1460) }, .optlen = 4 },
	  MAX_FRAME, UNTOUCHED },
	{ "linux syn options", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460), O_SACKOK, O_TS, O_NOP, O_WS(7) },
	  .optlen = 20 }, MAX_FRAME, 1346 },
	{ "mss at odd offset after a nop", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_NOP, O_MSS(1460), O_NOP, O_NOP, O_NOP },
	  .optlen = 8 }, MAX_FRAME, 1346 },
	{ "ipv6 mss at odd offset", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_WS(7), O_MSS(8940), O_EOL }, .optlen = 8 },
	  MAX_FRAME, 1326 },
	{ "odd offset with payload", { .ipver = 4, .tags = 1,
	  .flags = TH_SYN_ | TH_ACK_, .opts = { O_NOP, O_MSS(65535) },
	  .optlen = 5, .payload = 33 }, MAX_FRAME, 1342 },
	{ "syn without mss", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_NOP, O_NOP, O_SACKOK, O_WS(7) }, .optlen = 7 },
	  MAX_FRAME, UNTOUCHED },
	{ "syn without options", { .ipver = 6, .flags = TH_SYN_ },
	  MAX_FRAME, UNTOUCHED },
	{ "ack with an mss option", { .ipver = 4, .flags = TH_ACK_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "data with an mss option", { .ipver = 6,
	  .flags = TH_ACK_ | TH_PSH_, .opts = { O_MSS(1460) }, .optlen = 4,
	  .payload = 200 }, MAX_FRAME, UNTOUCHED },
	{ "fin with an mss option", { .ipver = 4, .flags = TH_FIN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "mss below the limit", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1200) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "mss equal to the limit", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1346) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "mss one above the limit", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1347) }, .optlen = 4 }, MAX_FRAME, 1346 },
	{ "ipv6 mss equal to the limit", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1326) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "ipv6 hop-by-hop", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4, .ext = { 0 }, .n_ext = 1 },
	  MAX_FRAME, 1326 },
	{ "ipv6 hop-by-hop, routing, destination", { .ipver = 6,
	  .flags = TH_SYN_, .opts = { O_MSS(1440) }, .optlen = 4,
	  .ext = { 0, 43, 60 }, .n_ext = 3 }, MAX_FRAME, 1326 },
	{ "ipv6 eight extension headers", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4,
	  .ext = { 0, 60, 60, 60, 60, 60, 43, 60 }, .n_ext = 8 },
	  MAX_FRAME, 1326 },
	{ "ipv6 nine extension headers", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4,
	  .ext = { 0, 60, 60, 60, 60, 60, 60, 43, 60 }, .n_ext = 9 },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv6 fragment header", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4, .ext = { 44 }, .n_ext = 1 },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv6 fragment header after hop-by-hop", { .ipver = 6,
	  .flags = TH_SYN_, .opts = { O_MSS(1440) }, .optlen = 4,
	  .ext = { 0, 44 }, .n_ext = 2 }, MAX_FRAME, UNTOUCHED },
	{ "ipv6 unknown extension header", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4, .ext = { 51 }, .n_ext = 1 },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv4 first fragment (mf)", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .frag = FRAG_MF },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv4 later fragment (offset)", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .frag = FRAG_OFFSET },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv4 udp", { .ipver = 4, .proto = IPPROTO_UDP, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "ipv6 udp", { .ipver = 6, .proto = IPPROTO_UDP, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, MAX_FRAME, UNTOUCHED },
	{ "arp", { .ipver = 0, .pad_to = 60 }, MAX_FRAME, UNTOUCHED },
	{ "ipv4 ethernet padding to 60", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .pad_to = 60 },
	  MAX_FRAME, 1346 },
	{ "ipv6 trailing padding", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4, .pad_to = 97 },
	  MAX_FRAME, 1326 },
	{ "ipv4 options count as fixed 20", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .ip_opt_words = 3 },
	  MAX_FRAME, 1346 },
	{ "tiny max_frame floors at 88", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, 60, MSS_MIN },
	{ "zero max_frame floors at 88", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4 }, 0, MSS_MIN },
	{ "max_frame one above the floor", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4 }, 14 + 20 + 20 + 89, 89 },
	{ "mss below the floor is never raised", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(64) }, .optlen = 4 }, 60,
	  UNTOUCHED },
	{ "jumbo max_frame leaves 65535", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(65535) }, .optlen = 4 }, 70000, UNTOUCHED },
	{ "jumbo max_frame clamps 65535 to 9000", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(65535) }, .optlen = 4 },
	  9054, 9000 },
	{ "two mss options are both clamped", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(1460), O_NOP, O_MSS(9000) },
	  .optlen = 9 }, MAX_FRAME, 1346 },
	{ "mss kind with length 3 is not an mss", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { 2, 3, 0x05, O_NOP }, .optlen = 4 },
	  MAX_FRAME, UNTOUCHED },
	{ "mss after end of options is ignored", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_EOL, 0, 0, 0, O_MSS(1460) },
	  .optlen = 8 }, MAX_FRAME, UNTOUCHED },
	{ "option length 1 after mss: untouched", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(1460), 8, 1, 0, 0 },
	  .optlen = 8 }, MAX_FRAME, UNTOUCHED },
	{ "option length 0 before mss: untouched", { .ipver = 6,
	  .flags = TH_SYN_, .opts = { 5, 0, O_NOP, O_NOP, O_MSS(1460) },
	  .optlen = 8 }, MAX_FRAME, UNTOUCHED },
	{ "option running past data offset", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(1460), 8, 10, 0, 0 },
	  .optlen = 8, .payload = 20 }, MAX_FRAME, UNTOUCHED },
	{ "option length byte missing", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460), O_NOP, O_NOP, O_NOP, 3 }, .optlen = 8 },
	  MAX_FRAME, UNTOUCHED },
	{ "data offset below 5", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .doff = 4 }, MAX_FRAME,
	  UNTOUCHED },
	{ "data offset past the segment", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .doff = 15, .payload = 8 },
	  MAX_FRAME, UNTOUCHED },
	{ "ipv4 total length past the frame", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(1460) }, .optlen = 4,
	  .iplen_adj = 1 }, MAX_FRAME, UNTOUCHED },
	{ "ipv4 total length short of the tcp header", { .ipver = 4,
	  .flags = TH_SYN_, .opts = { O_MSS(1460) }, .optlen = 4,
	  .iplen_adj = -5 }, MAX_FRAME, UNTOUCHED },
	{ "ipv6 payload length past the frame", { .ipver = 6,
	  .flags = TH_SYN_, .opts = { O_MSS(1440) }, .optlen = 4,
	  .iplen_adj = 1 }, MAX_FRAME, UNTOUCHED },
	{ "ipv6 payload length zero (jumbogram)", { .ipver = 6,
	  .flags = TH_SYN_, .opts = { O_MSS(1440) }, .optlen = 4,
	  .iplen_adj = -24 }, MAX_FRAME, UNTOUCHED },
	{ "ipv4 ihl 4", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .ihl = 4 }, MAX_FRAME,
	  UNTOUCHED },
	{ "ipv4 ihl past total length", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .ihl = 15 }, MAX_FRAME,
	  UNTOUCHED },
	{ "ipv6 ethertype with version 4", { .ipver = 6, .flags = TH_SYN_,
	  .opts = { O_MSS(1440) }, .optlen = 4, .ver = 4 }, MAX_FRAME,
	  UNTOUCHED },
	{ "ipv4 ethertype with version 6", { .ipver = 4, .flags = TH_SYN_,
	  .opts = { O_MSS(1460) }, .optlen = 4, .ver = 6 }, MAX_FRAME,
	  UNTOUCHED },
};

#define N_ROWS	(sizeof(rows) / sizeof(rows[0]))

Test(mss, every_table_row_gets_its_expected_mss)
{
	static struct built before, b;
	size_t r;
	int ret;

	for (r = 0; r < N_ROWS; r++) {
		build(&rows[r].s, &b);
		before = b;
		ret = mss_clamp(b.f, b.len, rows[r].max_frame);
		if (rows[r].expect == UNTOUCHED) {
			cr_assert_eq(ret, 0, "%s: returned %d", rows[r].desc,
				     ret);
			cr_assert_eq(memcmp(b.f, before.f, sizeof(b.f)), 0,
				     "%s: frame changed", rows[r].desc);
			continue;
		}
		cr_assert_eq(ret, 1, "%s: returned %d", rows[r].desc, ret);
		check_clamped(&before, &b, rows[r].expect, rows[r].desc);
		cr_assert_eq(memcmp(b.f + b.len, before.f + b.len,
				    sizeof(b.f) - b.len), 0,
			     "%s: wrote past the frame", rows[r].desc);
		/* Clamping is idempotent. */
		before = b;
		cr_assert_eq(mss_clamp(b.f, b.len, rows[r].max_frame), 0,
			     "%s: second clamp", rows[r].desc);
		cr_assert_eq(memcmp(b.f, before.f, sizeof(b.f)), 0);
	}
}

Test(mss, odd_offset_mss_really_straddles_checksum_words)
{
	static const struct spec s = { .ipver = 4, .flags = TH_SYN_,
		.opts = { O_NOP, O_MSS(1460) }, .optlen = 5 };
	struct built b;

	build(&s, &b);
	cr_assert_eq((b.mss[0] - b.tcp) % 2, 1);
	cr_assert_eq(mss_clamp(b.f, b.len, MAX_FRAME), 1);
	cr_assert_eq(get16(b.f + b.mss[0]), 1346);
	cr_assert(tcp_csum_ok(&b));
}

/* xorshift64*: reproducible pseudo-random numbers for the sweeps below. */
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

/* A random well-formed SYN: header shape, options, payload, MSS. */
static void random_syn(struct spec *s, uint16_t mss)
{
	size_t lead = rnd_below(4), i;

	memset(s, 0, sizeof(*s));
	s->ipver = rnd() & 1 ? 4 : 6;
	s->tags = (int)rnd_below(3);
	s->flags = rnd() & 1 ? TH_SYN_ : TH_SYN_ | TH_ACK_;
	for (i = 0; i < lead; i++)
		s->opts[i] = O_NOP;	/* 0..3 NOPs: both parities */
	s->opts[lead] = 2;
	s->opts[lead + 1] = 4;
	put16(s->opts + lead + 2, mss);
	s->optlen = lead + 4;
	if (rnd() & 1) {
		s->opts[s->optlen++] = 4;	/* SACK permitted */
		s->opts[s->optlen++] = 2;
	}
	s->payload = rnd_below(64);
	if (s->ipver == 4)
		s->ip_opt_words = (int)rnd_below(3);
	else if (rnd() & 1)
		s->n_ext = 1;		/* hop-by-hop */
}

Test(mss, random_syns_clamp_to_the_formula_with_valid_checksums)
{
	static struct built before, b;
	struct spec s;
	size_t max_frame, l2, limit;
	uint16_t mss;
	int i, ret, clamped = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 20000; i++) {
		mss = (uint16_t)rnd();
		random_syn(&s, mss);
		max_frame = rnd_below(2200);
		build(&s, &b);
		before = b;
		ret = mss_clamp(b.f, b.len, max_frame);
		l2 = 14 + 4 * (size_t)s.tags;
		limit = l2 + (s.ipver == 4 ? 20 : 40) + 20;
		limit = max_frame > limit + MSS_MIN ? max_frame - limit :
			MSS_MIN;
		if (mss <= limit) {
			cr_assert_eq(ret, 0);
			cr_assert_eq(memcmp(&b, &before, sizeof(b)), 0);
			continue;
		}
		cr_assert_eq(ret, 1, "mss %u max_frame %zu", mss, max_frame);
		check_clamped(&before, &b, (long)limit, "random syn");
		clamped++;
	}
	cr_assert_gt(clamped, 5000);
}

/* The same frame at an exact-size heap buffer, so ASan sees any overrun. */
static int clamp_exact(const uint8_t *f, size_t len, size_t max_frame,
		       uint8_t *out)
{
	uint8_t *heap = malloc(len);	/* glibc: malloc(0) is not NULL */
	int ret;

	cr_assert(heap);
	memcpy(heap, f, len);
	ret = mss_clamp(heap, len, max_frame);
	memcpy(out, heap, len);
	free(heap);
	return ret;
}

Test(mss, every_truncation_is_left_untouched_and_read_in_bounds)
{
	static const struct spec specs[] = {
		{ .ipver = 4, .flags = TH_SYN_, .payload = 3,
		  .opts = { O_NOP, O_MSS(1460), O_SACKOK, O_WS(7) },
		  .optlen = 10 },
		{ .ipver = 6, .tags = 2, .flags = TH_SYN_,
		  .opts = { O_MSS(1460) }, .optlen = 4,
		  .ext = { 0, 43, 60 }, .n_ext = 3 },
		{ .ipver = 4, .tags = 1, .flags = TH_SYN_ | TH_ACK_,
		  .opts = { O_MSS(1460) }, .optlen = 4, .ip_opt_words = 2 },
		{ .ipver = 4, .flags = TH_SYN_, .opts = { O_MSS(1460) },
		  .optlen = 4, .pad_to = 60 },
	};
	static struct built b;
	uint8_t out[FRAME_BUF];
	size_t k, n, ip_end;
	int ret;

	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		build(&specs[k], &b);
		ip_end = b.tcp + b.seg;
		for (n = 0; n < b.len; n++) {
			ret = clamp_exact(b.f, n, MAX_FRAME, out);
			if (n < ip_end) {
				cr_assert_eq(ret, 0, "spec %zu prefix %zu",
					     k, n);
			}
			if (ret == 0)
				cr_assert_eq(memcmp(out, b.f, n), 0,
					     "spec %zu prefix %zu written", k,
					     n);
			else
				cr_assert_eq(ret, 1);
		}
		/* The whole frame still clamps. */
		cr_assert_eq(clamp_exact(b.f, b.len, MAX_FRAME, out), 1);
	}
}

Test(mss, random_garbage_never_crashes)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8 };
	uint8_t f[256], out[256];
	size_t len, i, off;
	int n, ret, ones = 0;

	rng_state = 0x0123456789abcdefULL;
	for (n = 0; n < 200000; n++) {
		len = rnd_below(sizeof(f) + 1);
		for (i = 0; i < len; i++)
			f[i] = (uint8_t)rnd();
		/* Steer most frames past the first checks. */
		for (off = 12; off + 2 <= len && rnd() % 4; off += 4)
			put16(f + off, types[rnd_below(4)]);
		if (rnd() & 1)
			for (i = 14; i < len && i < 26; i += 4)
				f[i] = rnd() & 1 ? 0x45 : 0x60;
		ret = clamp_exact(f, len, rnd_below(2000), out);
		cr_assert(ret == 0 || ret == 1);
		if (ret == 0)
			cr_assert_eq(memcmp(out, f, len), 0);
		ones += ret;
	}
	cr_log_info("random garbage: %d of %d frames clamped", ones, n);
}

Test(mss, mutated_syns_never_crash_and_clamp_idempotently)
{
	static struct built b;
	uint8_t out[FRAME_BUF], again[FRAME_BUF];
	struct spec s;
	size_t max_frame;
	int n, k, ret, clamped = 0;

	rng_state = 0xfeedfacecafebeefULL;
	for (n = 0; n < 50000; n++) {
		random_syn(&s, (uint16_t)rnd());
		build(&s, &b);
		for (k = (int)rnd_below(4) + 1; k > 0; k--)
			b.f[rnd_below(b.len)] = (uint8_t)rnd();
		max_frame = rnd_below(2000);
		ret = clamp_exact(b.f, b.len, max_frame, out);
		cr_assert(ret == 0 || ret == 1);
		if (ret == 0) {
			cr_assert_eq(memcmp(out, b.f, b.len), 0);
			continue;
		}
		cr_assert_eq(clamp_exact(out, b.len, max_frame, again), 0);
		cr_assert_eq(memcmp(out, again, b.len), 0);
		clamped++;
	}
	cr_assert_gt(clamped, 1000);	/* the mutations left many valid */
}
