/*
 * bridge.c -- create, enslave, bring up, release and delete through
 * libnl-route-3; see bridge.h.
 *
 * Ownership rules: a bridge is ours when we created it or when it carries
 * the alias "BRIDGE_ALIAS pid N" of a tapbridge that no longer runs (or the
 * plain BRIDGE_ALIAS of older versions); one whose tapbridge runs is
 * refused; only ours is deleted
 * on teardown and given our defaults (STP off, forward delay 0).  A port is
 * released on teardown when we enslaved it, or when it was already a port
 * of a bridge that is ours.  An interface we brought up that was down is put
 * down again on teardown.
 *
 * Kernel quirk: IFLA_IFALIAS in the creating RTM_NEWLINK is ignored, so the
 * alias is set by a second request right after creation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "tapbridge/log.h"
#include "tapbridge/bridge.h"

struct port {
	char	name[IFNAMSIZ];
	int	ifindex;	/* 0: no such port configured */
	bool	present;	/* already a port of this bridge at setup */
	bool	enslaved;	/* ours: release it on teardown */
	bool	restore_down;	/* was down before setup */
};

struct bridge {
	struct nl_sock	*sk;
	char		 name[IFNAMSIZ];
	int		 ifindex;
	bool		 ours;		/* created or taken over: delete it */
	bool		 restore_down;	/* not ours and was down before */
	struct port	 tap;
	struct port	 lan;
};

static int copy_name(char *dst, const char *src, const char *what)
{
	size_t len = strlen(src);

	if (len == 0 || len >= IFNAMSIZ) {
		log_warnx("invalid %s name '%s'", what, src);
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

/* Fetch a link by ifindex (or by name if ifindex is 0); *l = NULL if gone. */
static int link_find(struct nl_sock *sk, int ifindex, const char *name,
		     struct rtnl_link **l)
{
	int err;

	*l = NULL;
	err = rtnl_link_get_kernel(sk, ifindex, ifindex ? NULL : name, l);
	if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) {
		*l = NULL;
		return 0;
	}
	return err;
}

static bool is_gone(int err)
{
	return err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND;
}

static bool is_bridge(struct rtnl_link *l)
{
	const char *type = rtnl_link_get_type(l);

	return type && strcmp(type, "bridge") == 0;
}

/* Change IFF_UP on one interface; returns a libnl error code or 0. */
static int link_set_up(struct nl_sock *sk, int ifindex, bool up)
{
	struct rtnl_link *chg;
	int err;

	chg = rtnl_link_alloc();
	if (!chg)
		return -NLE_NOMEM;
	rtnl_link_set_ifindex(chg, ifindex);
	if (up)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	err = rtnl_link_change(sk, chg, chg, 0);
	rtnl_link_put(chg);
	return err;
}

#define NAME_BUF 32	/* an interface name or "ifindex N" */

static void master_name(struct nl_sock *sk, int ifindex, char *buf)
{
	struct rtnl_link *m = NULL;
	const char *name = NULL;

	if (link_find(sk, ifindex, NULL, &m) == 0 && m)
		name = rtnl_link_get_name(m);
	if (name)
		snprintf(buf, NAME_BUF, "%s", name);
	else
		snprintf(buf, NAME_BUF, "ifindex %d", ifindex);
	if (m)
		rtnl_link_put(m);
}

/* Is pid a running tapbridge (other than this one)? */
static bool tapbridge_runs(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid == (int)getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strcmp(comm, "tapbridge\n");
}

/* Which tapbridge an alias names: 0 none (not ours), -1 one that left it
 * without a pid (older versions), else its pid. */
static int alias_owner(const char *alias)
{
	int pid, n = 0;

	if (!alias || strncmp(alias, BRIDGE_ALIAS, strlen(BRIDGE_ALIAS)))
		return 0;
	alias += strlen(BRIDGE_ALIAS);
	if (!*alias)
		return -1;
	if (sscanf(alias, " pid %d%n", &pid, &n) == 1 && !alias[n] && pid > 0)
		return pid;
	return 0;
}

/* Look up br; refuse a non-bridge or one a running tapbridge uses; take
 * over one left by a tapbridge that is gone. */
static int find_bridge(struct bridge *b)
{
	struct rtnl_link *l;
	int err, owner;

	err = link_find(b->sk, 0, b->name, &l);
	if (err < 0) {
		log_warnx("cannot look up '%s': %s", b->name, nl_geterror(err));
		return -1;
	}
	if (!l)
		return 0;
	if (!is_bridge(l)) {
		log_warnx("'%s' exists and is not a bridge", b->name);
		rtnl_link_put(l);
		return -1;
	}
	b->ifindex = rtnl_link_get_ifindex(l);
	owner = alias_owner(rtnl_link_get_ifalias(l));
	if (owner > 0 && tapbridge_runs(owner)) {
		log_warnx("bridge '%s' belongs to the tapbridge running as pid "
			  "%d: give each instance a bridge of its own", b->name,
			  owner);
		rtnl_link_put(l);
		return -1;
	}
	if (owner) {
		b->ours = true;
		log_info("taking over bridge '%s' left by a previous tapbridge",
			 b->name);
		bridge_claim(b);
	} else {
		b->restore_down = !(rtnl_link_get_flags(l) & IFF_UP);
		log_info("using existing bridge '%s'", b->name);
	}
	rtnl_link_put(l);
	return 0;
}

/* Look up a port to be: it must exist and belong to no other master. */
static int find_port(struct bridge *b, struct port *p, const char *what)
{
	struct rtnl_link *l;
	char master[NAME_BUF];
	int err, m, ret = -1;

	err = link_find(b->sk, 0, p->name, &l);
	if (err < 0) {
		log_warnx("cannot look up '%s': %s", p->name, nl_geterror(err));
		return -1;
	}
	if (!l) {
		log_warnx("%s '%s' does not exist", what, p->name);
		return -1;
	}
	p->ifindex = rtnl_link_get_ifindex(l);
	m = rtnl_link_get_master(l);
	if (p->ifindex == b->ifindex) {
		log_warnx("%s '%s' is the bridge itself", what, p->name);
	} else if (p != &b->tap && p->ifindex == b->tap.ifindex) {
		log_warnx("%s '%s' is the tap", what, p->name);
	} else if (is_bridge(l)) {
		log_warnx("%s '%s' is a bridge", what, p->name);
	} else if (m > 0 && m != b->ifindex) {
		master_name(b->sk, m, master);
		log_warnx("%s '%s' is already a port of '%s'", what, p->name,
			  master);
	} else {
		p->present = m > 0;
		p->enslaved = p->present && b->ours;
		p->restore_down = !(rtnl_link_get_flags(l) & IFF_UP);
		ret = 0;
	}
	rtnl_link_put(l);
	return ret;
}

/* Delete our bridge, by ifindex when known; returns 0 or -1 (logged). */
static int delete_bridge(struct bridge *b)
{
	struct rtnl_link *l;
	int err;

	l = rtnl_link_alloc();
	if (!l) {
		log_warnx("cannot delete bridge '%s': %s", b->name,
			  nl_geterror(-NLE_NOMEM));
		return -1;
	}
	if (b->ifindex > 0)
		rtnl_link_set_ifindex(l, b->ifindex);
	else
		rtnl_link_set_name(l, b->name);
	err = rtnl_link_delete(b->sk, l);
	rtnl_link_put(l);
	if (err < 0 && !is_gone(err)) {
		log_warnx("cannot delete bridge '%s': %s", b->name,
			  nl_geterror(err));
		return -1;
	}
	if (err == 0)
		log_info("deleted bridge '%s'", b->name);
	return 0;
}

/* Mark a bridge as this tapbridge's, for a later instance to recognise. */
static int set_alias(struct bridge *b)
{
	char alias[sizeof(BRIDGE_ALIAS) + 32];
	struct rtnl_link *chg;
	int err;

	chg = rtnl_link_alloc();
	if (!chg)
		return -NLE_NOMEM;
	snprintf(alias, sizeof(alias), "%s pid %d", BRIDGE_ALIAS,
		 (int)getpid());
	rtnl_link_set_ifindex(chg, b->ifindex);
	rtnl_link_set_ifalias(chg, alias);
	err = rtnl_link_change(b->sk, chg, chg, 0);
	rtnl_link_put(chg);
	return err;
}

int bridge_claim(struct bridge *b)
{
	int err;

	if (!b->ours)
		return 0;
	err = set_alias(b);
	if (err < 0) {
		log_warnx("cannot mark bridge '%s' as ours: %s", b->name,
			  nl_geterror(err));
		return -1;
	}
	return 0;
}

static int create_bridge(struct bridge *b)
{
	struct rtnl_link *l;
	int err;

	l = rtnl_link_bridge_alloc();
	if (!l) {
		err = -NLE_NOMEM;
		goto fail;
	}
	rtnl_link_set_name(l, b->name);
	err = rtnl_link_add(b->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (err < 0)
		goto fail;
	b->ours = true;
	log_info("created bridge '%s'", b->name);

	err = rtnl_link_get_kernel(b->sk, 0, b->name, &l);
	if (err < 0)
		goto fail_delete;
	b->ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	err = set_alias(b);
	if (err < 0)
		goto fail_delete;
	return 0;

fail_delete:
	log_warnx("cannot set up bridge '%s': %s", b->name, nl_geterror(err));
	delete_bridge(b);
	b->ours = false;
	b->ifindex = 0;
	return -1;
fail:
	log_warnx("cannot create bridge '%s': %s", b->name, nl_geterror(err));
	return -1;
}

/*
 * STP off and forward delay 0, so ports forward at once.  libnl-route-3.7
 * has no setter for IFLA_BR_*, so build the RTM_NEWLINK with libnl-3.
 */
static int set_defaults(struct bridge *b)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = b->ifindex,
	};
	struct nlattr *info, *data;
	struct nl_msg *msg;
	int err = -NLE_NOMEM;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (!msg)
		goto fail;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, 0) < 0) {
		nlmsg_free(msg);
		goto fail;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	err = nl_send_sync(b->sk, msg);	/* frees msg */
	if (err < 0)
		goto fail;
	return 0;
fail:
	log_warnx("cannot set stp off and forward delay 0 on '%s': %s",
		  b->name, nl_geterror(err));
	return -1;
}

/* Undo port_attach: release p if ours, put it down if it was down. */
static void port_detach(struct bridge *b, struct port *p)
{
	struct rtnl_link *l;
	int err, m;

	err = link_find(b->sk, p->ifindex, NULL, &l);
	if (err < 0) {
		log_warnx("cannot look up '%s': %s", p->name, nl_geterror(err));
		return;
	}
	if (!l)
		return;		/* gone with its owner: nothing to undo */
	m = rtnl_link_get_master(l);
	rtnl_link_put(l);
	if (p->enslaved && m != b->ifindex) {
		log_info("'%s' is no longer a port of '%s', leaving it alone",
			 p->name, b->name);
		return;
	}
	if (p->enslaved) {
		err = rtnl_link_release_ifindex(b->sk, p->ifindex);
		if (err < 0 && !is_gone(err)) {
			log_warnx("cannot release '%s' from '%s': %s", p->name,
				  b->name, nl_geterror(err));
			return;
		}
		p->enslaved = false;
		if (err < 0)
			return;
		log_info("released '%s' from '%s'", p->name, b->name);
	}
	if (p->restore_down) {
		err = link_set_up(b->sk, p->ifindex, false);
		if (err < 0 && !is_gone(err))
			log_warnx("cannot bring down '%s': %s", p->name,
				  nl_geterror(err));
	}
}

/* Enslave p to the bridge unless it is a port already, bring it up. */
static int port_attach(struct bridge *b, struct port *p)
{
	int err;

	if (!p->present) {
		err = rtnl_link_enslave_ifindex(b->sk, b->ifindex, p->ifindex);
		if (err < 0) {
			log_warnx("cannot enslave '%s' to '%s': %s", p->name,
				  b->name, nl_geterror(err));
			return -1;
		}
		p->enslaved = true;
		log_info("enslaved '%s' to '%s'", p->name, b->name);
	}
	if (p->restore_down) {
		err = link_set_up(b->sk, p->ifindex, true);
		if (err < 0) {
			log_warnx("cannot bring up '%s': %s", p->name,
				  nl_geterror(err));
			if (!p->present)
				port_detach(b, p);
			return -1;
		}
	}
	return 0;
}

static int bridge_up(struct bridge *b)
{
	int err;

	if (!b->ours && !b->restore_down)
		return 0;	/* not ours and up already */
	err = link_set_up(b->sk, b->ifindex, true);
	if (err < 0) {
		log_warnx("cannot bring up '%s': %s", b->name, nl_geterror(err));
		return -1;
	}
	return 0;
}

static int sock_open(struct bridge *b)
{
	int err;

	b->sk = nl_socket_alloc();
	if (!b->sk) {
		log_warnx("cannot open rtnetlink socket: %s",
			  nl_geterror(-NLE_NOMEM));
		return -1;
	}
	err = nl_connect(b->sk, NETLINK_ROUTE);
	if (err < 0) {
		log_warnx("cannot open rtnetlink socket: %s", nl_geterror(err));
		nl_socket_free(b->sk);
		b->sk = NULL;
		return -1;
	}
	return 0;
}

static int set_names(struct bridge *b, const char *br, const char *tap,
		     const char *lan)
{
	if (copy_name(b->name, br ? br : "", "bridge") < 0 ||
	    copy_name(b->tap.name, tap ? tap : "", "tap") < 0)
		return -1;
	if (lan && *lan && copy_name(b->lan.name, lan, "lan-port") < 0)
		return -1;
	return 0;
}

struct bridge *bridge_setup(const char *br, const char *tap, const char *lan,
			    enum bridge_part *failed)
{
	struct bridge *b;
	bool created = false, has_lan = lan && *lan;

	*failed = BRIDGE_PART_OTHER;
	b = calloc(1, sizeof(*b));
	if (!b) {
		log_warn("cannot set up bridge '%s'", br ? br : "");
		return NULL;
	}
	if (set_names(b, br, tap, lan) < 0 || sock_open(b) < 0)
		goto fail_free;
	*failed = BRIDGE_PART_BRIDGE;
	if (find_bridge(b) < 0)
		goto fail_sock;
	*failed = BRIDGE_PART_TAP;
	if (find_port(b, &b->tap, "tap") < 0)
		goto fail_sock;
	*failed = BRIDGE_PART_LAN;
	if (has_lan && find_port(b, &b->lan, "lan-port") < 0)
		goto fail_sock;

	*failed = BRIDGE_PART_BRIDGE;
	created = b->ifindex == 0;
	if (created && create_bridge(b) < 0)
		goto fail_sock;
	if (b->ours && set_defaults(b) < 0)
		goto fail_delete_bridge;
	*failed = BRIDGE_PART_TAP;
	if (port_attach(b, &b->tap) < 0)
		goto fail_delete_bridge;
	*failed = BRIDGE_PART_LAN;
	if (has_lan && port_attach(b, &b->lan) < 0)
		goto fail_release_tap;
	*failed = BRIDGE_PART_BRIDGE;
	if (bridge_up(b) < 0)
		goto fail_release_lan;
	return b;

fail_release_lan:
	if (has_lan && !b->lan.present)
		port_detach(b, &b->lan);
fail_release_tap:
	if (!b->tap.present)
		port_detach(b, &b->tap);
fail_delete_bridge:
	if (created)
		delete_bridge(b);
fail_sock:
	nl_socket_free(b->sk);
fail_free:
	free(b);
	return NULL;
}

unsigned bridge_get_mtu(struct bridge *b, const char *ifname)
{
	struct rtnl_link *l;
	unsigned mtu;
	int err;

	err = link_find(b->sk, 0, ifname, &l);
	if (err < 0 || !l) {
		log_warnx("cannot read mtu of '%s': %s", ifname,
			  err < 0 ? nl_geterror(err) : "no such interface");
		return 0;
	}
	mtu = rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	return mtu;
}

/* One unsigned link attribute, read with get and written with set. */
struct link_attr {
	const char *name;	/* in messages: "cannot set NAME of ..." */
	unsigned (*get)(struct rtnl_link *l);
	void (*set)(struct rtnl_link *l, unsigned v);
};

static const struct link_attr attr_mtu = {
	"mtu", rtnl_link_get_mtu, rtnl_link_set_mtu,
};
static const struct link_attr attr_txqlen = {
	"the queue length", rtnl_link_get_txqlen, rtnl_link_set_txqlen,
};

/* Set attribute a of ifname to v: 1 if changed, 0 if it was v, -1
 * (logged) on failure. */
static int link_set(struct bridge *b, const char *ifname,
		    const struct link_attr *a, unsigned v)
{
	struct rtnl_link *l, *chg;
	unsigned cur;
	int err, ifindex;

	err = link_find(b->sk, 0, ifname, &l);
	if (err < 0 || !l) {
		log_warnx("cannot set %s of '%s': %s", a->name, ifname,
			  err < 0 ? nl_geterror(err) : "no such interface");
		return -1;
	}
	ifindex = rtnl_link_get_ifindex(l);
	cur = a->get(l);
	rtnl_link_put(l);
	if (cur == v)
		return 0;
	/* a fresh object: a kernel one would resend all its attributes */
	chg = rtnl_link_alloc();
	if (!chg) {
		err = -NLE_NOMEM;
	} else {
		rtnl_link_set_ifindex(chg, ifindex);
		a->set(chg, v);
		err = rtnl_link_change(b->sk, chg, chg, 0);
		rtnl_link_put(chg);
	}
	if (err < 0) {
		log_warnx("cannot set %s of '%s' to '%u': %s", a->name, ifname,
			  v, nl_geterror(err));
		return -1;
	}
	return 1;
}

int bridge_set_mtu(struct bridge *b, const char *ifname, unsigned mtu)
{
	int rc = link_set(b, ifname, &attr_mtu, mtu);

	if (rc > 0)
		log_info("set mtu of '%s' to '%u'", ifname, mtu);
	return rc < 0 ? -1 : 0;
}

int bridge_set_txqlen(struct bridge *b, const char *ifname, unsigned len)
{
	return link_set(b, ifname, &attr_txqlen, len) < 0 ? -1 : 0;
}

void bridge_forget(struct bridge *b)
{
	if (!b)
		return;
	nl_socket_free(b->sk);
	free(b);
}

void bridge_teardown(struct bridge *b)
{
	if (!b)
		return;
	if (b->lan.ifindex > 0)
		port_detach(b, &b->lan);
	if (b->tap.ifindex > 0)
		port_detach(b, &b->tap);
	if (b->ours) {
		delete_bridge(b);
	} else if (b->restore_down) {
		int err = link_set_up(b->sk, b->ifindex, false);

		if (err < 0 && !is_gone(err))
			log_warnx("cannot bring down '%s': %s", b->name,
				  nl_geterror(err));
	}
	nl_socket_free(b->sk);
	free(b);
}
