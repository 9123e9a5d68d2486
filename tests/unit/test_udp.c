/*
 * test_udp.c -- the tunnel socket's address family: what udp_open binds
 * and what udp_plan (tapbridge -t) predicts must agree, on a host with
 * IPv6 and on one without (socket() wrapped to refuse AF_INET6 as such a
 * kernel does), and endpoints resolve for that family.  Binds ephemeral
 * ports only; sends nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tapbridge/udp.h"

int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol);

static int no_ipv6;

/* Linked with -Wl,--wrap=socket: the library's socket() calls come here. */
int __wrap_socket(int domain, int type, int protocol)
{
	if (no_ipv6 && domain == AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return __real_socket(domain, type, protocol);
}

static int host_has_ipv6(void)
{
	int fd = __real_socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* open and plan for host agree on the family; it is returned. */
static int family_of(const char *host)
{
	struct udp opened, planned;

	cr_assert_eq(udp_open(&opened, host, 0), 0, "udp_open('%s')", host);
	cr_assert_eq(udp_plan(&planned, host, 0), 0, "udp_plan('%s')", host);
	cr_assert_eq(planned.fd, -1);
	cr_assert_eq(planned.family, opened.family,
		     "'%s': -t plans family %d, the daemon binds %d", host,
		     planned.family, opened.family);
	cr_assert_eq(planned.local.sa.sa_family, opened.family);
	udp_close(&opened);
	return planned.family;
}

Test(udp, any_address_is_dual_stack_where_there_is_ipv6)
{
	if (!host_has_ipv6())
		cr_skip_test("this host has no IPv6 sockets");
	cr_assert_eq(family_of(""), AF_INET6);
	cr_assert_eq(family_of("0.0.0.0"), AF_INET);
	cr_assert_eq(family_of("::"), AF_INET6);
}

Test(udp, any_address_is_ipv4_on_a_host_without_ipv6)
{
	struct udp u;
	union pkt_addr a;
	char why[256];

	no_ipv6 = 1;
	cr_assert_eq(family_of(""), AF_INET);
	cr_assert_eq(family_of("0.0.0.0"), AF_INET);
	/* An IPv6 listen address cannot be had at all. */
	cr_assert_eq(udp_open(&u, "::", 0), -1);
	/* Endpoints resolve for IPv4: not v4-mapped, no IPv6. */
	cr_assert_eq(udp_plan(&u, "", 7000), 0);
	cr_assert_eq(udp_resolve(&u, "198.18.0.2", 7000, &a, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(a.sa.sa_family, AF_INET);
	cr_assert_eq(udp_resolve(&u, "fd00::2", 7000, &a, why, sizeof(why)),
		     -1);
	cr_assert_str_eq(why, "'fd00::2' has no IPv4 address, and this host "
			 "has no IPv6");
}

/* With 'listen' at listen, the endpoint wrong (of the other family) is
 * refused saying why, and right resolves to an address of family. */
static void one_family(const char *listen, const char *wrong,
		       const char *right, int family, const char *why_wrong)
{
	struct udp u;
	union pkt_addr a;
	char why[256];

	cr_assert_eq(udp_plan(&u, listen, 7000), 0);
	cr_assert_eq(udp_resolve(&u, wrong, 7000, &a, why, sizeof(why)), -1);
	cr_assert_str_eq(why, why_wrong);
	cr_assert_eq(udp_resolve(&u, right, 7000, &a, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(a.sa.sa_family, family);
}

Test(udp, an_ipv4_listen_address_resolves_ipv4_only)
{
	one_family("198.18.0.1", "fd00::2", "198.18.0.2", AF_INET,
		   "'fd00::2' has no IPv4 address, and the 'listen' address "
		   "makes this gateway use IPv4 only (listen on all "
		   "addresses, or on one of the other family)");
}

Test(udp, an_ipv6_listen_address_resolves_ipv6_only)
{
	one_family("fd00::1", "198.18.0.2", "fd00::2", AF_INET6,
		   "'198.18.0.2' has no IPv6 address, and the 'listen' "
		   "address makes this gateway use IPv6 only (listen on all "
		   "addresses, or on one of the other family)");
}
