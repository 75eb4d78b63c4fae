#include "loadgen/run/safety.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/log.h"
#include "common/units.h"

/* "HOST:PORT", "HOST:LO-HI", "[V6]:PORT". */
int ct_safety_parse_target(const char *text, struct sockaddr_storage *ss, uint16_t *lo,
			   uint16_t *hi, char *why, size_t whylen)
{
	char host[256];
	const char *ports;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host)) {
			snprintf(why, whylen, "'%s' is not [IPV6]:PORT", text);
			return -EINVAL;
		}
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = 0;
		ports = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host) || colon == text) {
			snprintf(why, whylen, "'%s' is not HOST:PORT (e.g. 127.0.0.1:11211)", text);
			return -EINVAL;
		}
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = 0;
		ports = colon + 1;
	}
	char pwhy[128] = "";
	if (ct_parse_port_range(ports, lo, hi, pwhy, sizeof(pwhy)) < 0) {
		snprintf(why, whylen, "'%s': %s", text, pwhy);
		return -EINVAL;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc || !ai) {
		snprintf(why, whylen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		return (a >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* The inode of init_net since Linux 6.x fixed it (PROC_NET_INIT_INO). */
#define NET_INIT_INO 0xEFFFFFF9UL

static int ppid_of(int pid)
{
	char path[64], line[256];
	int ppid = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

/* 1 in the init netns, 0 in another, and 1 (the safe answer) when we
 * cannot tell. /proc/1/ns/net may be unreadable even to root (a sandbox
 * protecting pid 1): then the fixed init inode decides, and on kernels
 * without it an ancestor in another netns (the shell before `ip netns
 * exec`) shows that we were moved. */
static int in_init_netns(void)
{
	struct stat self, other;
	if (stat("/proc/self/ns/net", &self) < 0)
		return 1;
	if (stat("/proc/1/ns/net", &other) == 0)
		return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
	if (self.st_ino == NET_INIT_INO)
		return 1;
	for (int pid = getppid(), hops = 0; pid > 1 && hops < 64; pid = ppid_of(pid), hops++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &other) == 0 && other.st_ino != self.st_ino)
			return 0;
	}
	return 1;
}

/* A usable 0/0 route in this netns (IPv4 or IPv6); true when unreadable. */
static bool has_default_route(void)
{
	char line[512];
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		char ifn[64], dst[16], gw[16], mask[16];
		unsigned flags;
		if (sscanf(line, "%63s %15s %15s %x %*s %*s %*s %15s", ifn, dst, gw, &flags,
			   mask) == 5 &&
		    !strcmp(dst, "00000000") && !strcmp(mask, "00000000") && (flags & 0x1)) {
			fclose(f);
			return true;
		}
	}
	fclose(f);
	f = fopen("/proc/net/ipv6_route", "r");
	if (!f)
		return false; /* no IPv6 in this kernel */
	while (fgets(line, sizeof(line), f)) {
		char dst[40], plen[4];
		unsigned flags;
		if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %x", dst, plen, &flags) == 3 &&
		    !strcmp(plen, "00") && strspn(dst, "0") == 32 && (flags & 0x1) &&
		    !(flags & 0x200) /* RTF_REJECT: the kernel's null route */) {
			fclose(f);
			return true;
		}
	}
	fclose(f);
	return false;
}

bool ct_safety_target_allowed(const struct sockaddr_storage *ss)
{
	if (is_loopback(ss))
		return true;
	return !in_init_netns() && !has_default_route();
}

/* A target outside the rule: allowed when an allowlist entry holds it (said
 * once, so a run on a real network is never silent), else refused with
 * the entry that would allow it. */
static int refuse_unlisted(const struct ct_scenario *sc, const struct ct_allow *allow,
			   const struct ct_trial_target *target)
{
	const struct ct_allow_entry *e =
	    ct_allow_match(allow, &target->dst, target->port_lo, target->port_hi);
	if (e) {
		ct_note("target %s is outside the lab, allowed by %s: load goes to a real network",
			sc->server.target, e->from);
		return 0;
	}
	char addr[INET6_ADDRSTRLEN] = "?", ports[16];
	const void *a = target->dst.ss_family == AF_INET6
			    ? (const void *)&((const struct sockaddr_in6 *)&target->dst)->sin6_addr
			    : (const void *)&((const struct sockaddr_in *)&target->dst)->sin_addr;
	inet_ntop(target->dst.ss_family, a, addr, sizeof(addr));
	if (target->port_lo == target->port_hi)
		snprintf(ports, sizeof(ports), "%u", target->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", target->port_lo, target->port_hi);
	int v6 = target->dst.ss_family == AF_INET6;
	ct_error(
	    "target %s is outside the lab: ctload only sends to loopback, into a network "
	    "namespace without a default route, or to a target on the allowlist. If %s is "
	    "your lab's device under test, allow it on purpose with --allow-target %s%s/%d%s:%s "
	    "or a line in the root-owned %s (see ctload(1), TARGET ALLOWLIST)",
	    sc->server.target, addr, v6 ? "[" : "", addr, v6 ? 128 : 32, v6 ? "]" : "", ports,
	    ct_allow_file_path());
	return -EPERM;
}

/* topology = host: the [server] target, under the safety rule. */
int ct_safety_host_target(const struct ct_scenario *sc, const char *file,
			  const struct ct_allow *allow, struct ct_trial_target *target)
{
	char why[640];
	if (!sc->server.target) {
		ct_error("%s: [server] target: required with topology = host (e.g. target = "
			 "127.0.0.1:11211)",
			 file);
		return -EINVAL;
	}
	if (ct_safety_parse_target(sc->server.target, &target->dst, &target->port_lo,
				   &target->port_hi, why, sizeof(why)) < 0) {
		ct_error("%s: [server] target: %s", file, why);
		return -EINVAL;
	}
	if (!ct_safety_target_allowed(&target->dst) && refuse_unlisted(sc, allow, target) < 0)
		return -EPERM;
	for (size_t a = 0; a < sc->n_sweep; a++) {
		if (!strncmp(sc->sweep[a].key, "sysctl.", 7)) {
			ct_error("%s:%d: [sweep] %s: sysctl axes need topology = lab (host mode "
				 "changes nothing on the host)",
				 file, sc->sweep[a].line, sc->sweep[a].key);
			return -EINVAL;
		}
	}
	return 0;
}
