/* cmd_respond — `ctload respond --iface IF --addr A [--port P|LO-HI]
 * [--mode memcache|echo] [--close client|server|rst] [--backend pcap|dpdk
 * ...]`: the stateless
 * responder (engine/packet/rloop.h) on an interface of the current netns
 * until SIGTERM or SIGINT. The lab starts it in its server netns for
 * [server] engine = responder; it prints one "ready" line (the lab waits
 * for it) and its counters when it ends. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sig.h"
#include "common/srvmode.h"
#include "common/units.h"
#include "loadgen/cli/cli.h"
#include "loadgen/engine/packet/rloop.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload respond --iface IF --addr IPV4 [--port P|LO-HI]\n"
		"                      [--mode memcache|echo] [--close client|server|rst]\n"
		"                      [--backend pcap|dpdk [--eal ARGS] [--dpdk-port SPEC]\n"
		"                      [--file-prefix P]]\n"
		"Answer TCP connections to IPV4:P on interface IF of this network namespace\n"
		"without the kernel and without state per connection (ctload's stateless\n"
		"responder, through libpcap or DPDK): ARP for IPV4, SYN-ACK with a cookie ISN, the\n"
		"reply to a request (memcache: END\\r\\n, echo: the request), with a FIN\n"
		"(--close server), followed by a RST (--close rst), or alone, the client's\n"
		"FIN answered (--close client, the default). IPV4 must not be an address of\n"
		"the interface, or the kernel answers too (with RSTs). The lab runs it in\n"
		"its server netns for [server] engine = responder[-dpdk]. Runs until SIGTERM or\n"
		"SIGINT; prints a line 'responder pid N ready' once the port is open, and\n"
		"its counters at the end.\n"
		"  --port     port or range answered (default 11211)\n"
		"  --backend  pcap (default) or dpdk: DPDK's EAL in this process with --eal\n"
		"             (default --no-huge -m 512 --no-pci --no-telemetry) and\n"
		"             --file-prefix P (default ctload: give each DPDK process on the\n"
		"             host its own), the port --dpdk-port (default\n"
		"             net_af_packet0,iface={iface}); busy-polls, napping when idle\n"
		"  -h, --help this text\n"
		"Exit: 0 stopped by a signal, 2 bad usage, 3 the interface cannot be opened.\n");
}

/* One option into c (mode and close into *m, *cl): -1 to go on, else
 * the exit code. */
static int one_opt(int o, const char *arg, struct ct_rloop_cfg *c, enum ct_srv_mode *m,
		   enum ct_srv_close *cl)
{
	struct in_addr a;
	char why[128];

	switch (o) {
	case 'i':
		c->ifname = arg;
		return -1;
	case 'a':
		if (inet_pton(AF_INET, arg, &a) == 1) {
			c->addr = ntohl(a.s_addr);
			return -1;
		}
		ct_error("respond: --addr '%s': an IPv4 address", arg);
		return CT_EXIT_USAGE;
	case 'p':
		if (ct_parse_port_range(arg, &c->port_lo, &c->port_hi, why, sizeof(why)) == 0)
			return -1;
		ct_error("respond: --port '%s': %s", arg, why);
		return CT_EXIT_USAGE;
	case 'm':
		if (ct_srv_mode_parse(arg, m) == 0 && *m != CT_SRV_HTTP)
			return -1;
		ct_error("respond: --mode '%s': memcache or echo", arg);
		return CT_EXIT_USAGE;
	case 'c':
		if (ct_srv_close_parse(arg, cl) == 0)
			return -1;
		ct_error("respond: --close '%s': client, server or rst", arg);
		return CT_EXIT_USAGE;
	case 'b':
		if (!strcmp(arg, "pcap") || !strcmp(arg, "dpdk")) {
			c->backend = arg;
			return -1;
		}
		ct_error("respond: --backend '%s': pcap or dpdk", arg);
		return CT_EXIT_USAGE;
	case 'e':
		c->eal = arg;
		return -1;
	case 'd':
		c->port = arg;
		return -1;
	case 'f':
		c->file_prefix = arg;
		return -1;
	case 'h':
		usage(stdout);
		return CT_EXIT_OK;
	default:
		return CT_EXIT_USAGE;
	}
}

static int parse_args(int argc, char **argv, struct ct_rloop_cfg *c)
{
	static const struct option opts[] = {
	    {"iface", required_argument, NULL, 'i'},	 {"addr", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},	 {"mode", required_argument, NULL, 'm'},
	    {"close", required_argument, NULL, 'c'},	 {"backend", required_argument, NULL, 'b'},
	    {"eal", required_argument, NULL, 'e'},	 {"dpdk-port", required_argument, NULL, 'd'},
	    {"file-prefix", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum ct_srv_mode m = CT_SRV_MEMCACHE;
	enum ct_srv_close cl = CT_SRV_CLOSE_CLIENT;
	int o, rc;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == '?' || o == ':') {
			ct_error("respond: unknown option or missing value '%s' (try 'ctload "
				 "respond --help')",
				 argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
		if ((rc = one_opt(o, optarg, c, &m, &cl)) >= 0)
			return rc;
	}
	if (optind < argc || !c->ifname || !c->addr) {
		ct_error("respond: needs --iface and --addr, and no other argument (try "
			 "'ctload respond --help')");
		return CT_EXIT_USAGE;
	}
	c->mode = m == CT_SRV_ECHO ? CT_RESP_ECHO : CT_RESP_MEMCACHE;
	c->close = cl == CT_SRV_CLOSE_SERVER ? CT_RESP_CLOSE_SERVER
		   : cl == CT_SRV_CLOSE_RST  ? CT_RESP_CLOSE_RST
					     : CT_RESP_CLOSE_CLIENT;
	return -1;
}

/* The line the lab waits for (flushed: stdout is its server.log). */
static void ready(void *arg, const uint8_t mac[6])
{
	const struct ct_rloop_cfg *c = arg;
	struct in_addr a = {.s_addr = htonl(c->addr)};
	char buf[INET_ADDRSTRLEN];

	printf("responder pid %d ready on %s (%02x:%02x:%02x:%02x:%02x:%02x) via %s for "
	       "%s:%u-%u\n",
	       (int)getpid(), c->ifname, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	       c->backend, inet_ntop(AF_INET, &a, buf, sizeof(buf)), c->port_lo, c->port_hi);
	fflush(stdout);
}

int ct_cmd_respond(int argc, char **argv)
{
	struct ct_rloop_cfg c = {.backend = "pcap", .port_lo = 11211, .port_hi = 11211};
	struct ct_rloop_stats st;
	struct ct_err err = {0};
	int rc = parse_args(argc, argv, &c);

	if (rc >= 0)
		return rc;
	c.ready = ready;
	c.ready_arg = &c;
	ct_signals_install();
	if (ct_rloop_run(&c, &st, &err) < 0) {
		ct_error("%s", err.msg);
		return ct_err_code(&err, CT_EXIT_ENV);
	}
	printf("responder pid %d stopped: frames rx %llu tx %llu (dropped %llu); SYN %llu, "
	       "requests %llu, FIN %llu, bad cookie %llu, ARP %llu, ignored %llu\n",
	       (int)getpid(), (unsigned long long)st.rx, (unsigned long long)st.tx,
	       (unsigned long long)st.tx_dropped, (unsigned long long)st.resp.syn,
	       (unsigned long long)st.resp.request, (unsigned long long)st.resp.fin,
	       (unsigned long long)st.resp.bad_cookie, (unsigned long long)st.resp.arp,
	       (unsigned long long)st.resp.ignored);
	return CT_EXIT_OK;
}
