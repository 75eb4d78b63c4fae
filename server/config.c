#include "server/config.h"

#include "common/units.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ct_srv_config_defaults(struct ct_srv_config *cfg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = CT_SRV_MEMCACHE;
	strcpy(cfg->bind, "0.0.0.0");
	cfg->port_lo = cfg->port_hi = 11211;
	cfg->workers = ncpu > 0 ? (unsigned)ncpu : 1;
	cfg->backlog = 1024;
	cfg->max_conns = 4096;
	cfg->idle_timeout_ns = 60ULL * 1000000000ULL;
	cfg->close = CT_SRV_CLOSE_CLIENT;
	cfg->memory = 64ULL << 20;
	cfg->item_max = 1ULL << 20;
	cfg->body = CT_SRV_BODY_DEFAULT;
}

void ct_srv_usage(FILE *f)
{
	fputs("usage: ctserver [options]\n"
	      "\n"
	      "The server bundled with ctload: an echo, memcached-text-protocol or HTTP\n"
	      "server whose close policy decides which side keeps TIME_WAIT.\n"
	      "\n"
	      "  --mode echo|memcache|http  protocol (default memcache); http answers\n"
	      "                           GET and HEAD with a --body of bytes\n"
	      "  --bind ADDR              address to listen on (default 0.0.0.0; IPv6 allowed)\n"
	      "  --port P | LO-HI         port or port range, every worker listens on each\n"
	      "                           (default 11211); a range spreads load over tuples\n"
	      "  --workers N              worker threads, one event loop each (default: CPUs)\n"
	      "  --backlog N              listen backlog (default 1024)\n"
	      "  --max-conns N            open connections at most; past it new ones are\n"
	      "                           accepted and reset at once (default 4096)\n"
	      "  --idle-timeout DUR       close a connection silent this long, 0 = never\n"
	      "                           (default 60s)\n"
	      "  --close client|server|rst  after a reply: wait for the client's FIN\n"
	      "                           (TIME_WAIT on the client; default), close first\n"
	      "                           (TIME_WAIT on the server; http's default), or\n"
	      "                           reset (none)\n"
	      "  --close-delay DUR        wait this long before the server's own close\n"
	      "  --memory SIZE            bound of the memcache store (default 64MiB)\n"
	      "  --item-max SIZE          largest item (default 1MiB, as memcached -I)\n"
	      "  --body SIZE              http: body of every reply, 0..64MiB (default 16KiB)\n"
	      "  --stall DUR@AFTER        after AFTER of uptime stop reading for DUR\n"
	      "                           (for coordinated-omission checks), e.g. 2s@5s\n"
	      "  -v, --verbose            more messages (repeat for debug)\n"
	      "  -V, --version            print the version\n"
	      "  -h, --help               this text\n"
	      "\n"
	      "Units: durations 10s 250ms 2m, sizes 64MiB 1MB 512. See ctserver(1).\n",
	      f);
}

static int parse_uint(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out,
		      char *err, size_t err_len)
{
	char why[128];
	int r = ct_parse_count(s, out, why, sizeof(why));

	if (r < 0) {
		snprintf(err, err_len, "%s '%s': %s", opt, s, why);
		return -EINVAL;
	}
	if (*out < lo || *out > hi) {
		snprintf(err, err_len, "%s '%s': must be between %llu and %llu", opt, s,
			 (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	return 0;
}

static int parse_dur(const char *opt, const char *s, uint64_t *out, char *err, size_t err_len)
{
	char why[128];

	if (ct_parse_duration(s, out, why, sizeof(why)) < 0) {
		snprintf(err, err_len, "%s '%s': %s", opt, s, why);
		return -EINVAL;
	}
	return 0;
}

static int parse_stall(const char *s, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	const char *at = strchr(s, '@');
	char dur[64];

	if (!at || (size_t)(at - s) >= sizeof(dur)) {
		snprintf(err, err_len, "--stall '%s': expected DURATION@AFTER, e.g. 2s@5s", s);
		return -EINVAL;
	}
	memcpy(dur, s, (size_t)(at - s));
	dur[at - s] = '\0';
	if (parse_dur("--stall", dur, &cfg->stall_for_ns, err, err_len) < 0 ||
	    parse_dur("--stall", at + 1, &cfg->stall_after_ns, err, err_len) < 0)
		return -EINVAL;
	return 0;
}

/* ---- one handler per option with a value: 0, or -EINVAL with err set ---- */

static int opt_mode(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	if (ct_srv_mode_parse(arg, &cfg->mode) < 0) {
		snprintf(err, err_len, "--mode '%s': use echo, memcache or http", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_bind(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	if (strlen(arg) >= sizeof(cfg->bind)) {
		snprintf(err, err_len, "--bind '%s': too long for an address", arg);
		return -EINVAL;
	}
	strcpy(cfg->bind, arg);
	return 0;
}

static int opt_port(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	char why[128];

	if (ct_parse_port_range(arg, &cfg->port_lo, &cfg->port_hi, why, sizeof(why)) < 0) {
		snprintf(err, err_len, "--port '%s': %s", arg, why);
		return -EINVAL;
	}
	return 0;
}

static int opt_workers(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	uint64_t v;

	if (parse_uint("--workers", arg, 1, CT_SRV_MAX_WORKERS, &v, err, err_len) < 0)
		return -EINVAL;
	cfg->workers = (unsigned)v;
	return 0;
}

static int opt_backlog(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	uint64_t v;

	if (parse_uint("--backlog", arg, 1, 1 << 20, &v, err, err_len) < 0)
		return -EINVAL;
	cfg->backlog = (int)v;
	return 0;
}

static int opt_max_conns(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	uint64_t v;

	if (parse_uint("--max-conns", arg, 1, 1 << 24, &v, err, err_len) < 0)
		return -EINVAL;
	cfg->max_conns = (unsigned)v;
	return 0;
}

static int opt_idle(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	return parse_dur("--idle-timeout", arg, &cfg->idle_timeout_ns, err, err_len);
}

static int opt_close(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	cfg->close_given = true;
	if (strcmp(arg, "client") == 0) {
		cfg->close = CT_SRV_CLOSE_CLIENT;
	} else if (strcmp(arg, "server") == 0) {
		cfg->close = CT_SRV_CLOSE_SERVER;
	} else if (strcmp(arg, "rst") == 0) {
		cfg->close = CT_SRV_CLOSE_RST;
	} else {
		snprintf(err, err_len, "--close '%s': use client, server or rst", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_close_delay(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	return parse_dur("--close-delay", arg, &cfg->close_delay_ns, err, err_len);
}

/* A size of at least 1KiB (--memory, --item-max). */
static int parse_size_opt(const char *opt, const char *arg, uint64_t *out, char *err,
			  size_t err_len)
{
	char why[128];
	uint64_t v;

	if (ct_parse_size(arg, &v, why, sizeof(why)) < 0) {
		snprintf(err, err_len, "%s '%s': %s", opt, arg, why);
		return -EINVAL;
	}
	if (v < 1024) {
		snprintf(err, err_len, "%s '%s': at least 1KiB", opt, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int opt_memory(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	return parse_size_opt("--memory", arg, &cfg->memory, err, err_len);
}

static int opt_item_max(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	return parse_size_opt("--item-max", arg, &cfg->item_max, err, err_len);
}

static int opt_body(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	char why[128];

	if (ct_parse_size(arg, &cfg->body, why, sizeof(why)) < 0) {
		snprintf(err, err_len, "--body '%s': %s", arg, why);
		return -EINVAL;
	}
	if (cfg->body > CT_SRV_BODY_MAX) {
		snprintf(err, err_len, "--body '%s': at most 64MiB", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_stall(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	return parse_stall(arg, cfg, err, err_len);
}

/* The options that take a value, each with its handler; getopt_long returns
 * OPT_BASE + the index of the one it found. */
#define OPT_BASE 256
static const struct srv_opt {
	const char *name; /* --NAME */
	int (*set)(const char *arg, struct ct_srv_config *cfg, char *err, size_t err_len);
} srv_opts[] = {
    {"mode", opt_mode},		{"bind", opt_bind},	    {"port", opt_port},
    {"workers", opt_workers},	{"backlog", opt_backlog},   {"max-conns", opt_max_conns},
    {"idle-timeout", opt_idle}, {"close", opt_close},	    {"close-delay", opt_close_delay},
    {"memory", opt_memory},	{"item-max", opt_item_max}, {"stall", opt_stall},
    {"body", opt_body},
};
#define N_SRV_OPTS (sizeof(srv_opts) / sizeof(srv_opts[0]))

/* getopt_long's table: the options above, then the flags. */
static void long_options(struct option *o)
{
	static const struct option flags[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	for (size_t i = 0; i < N_SRV_OPTS; i++)
		o[i] =
		    (struct option){srv_opts[i].name, required_argument, NULL, OPT_BASE + (int)i};
	memcpy(o + N_SRV_OPTS, flags, sizeof(flags));
}

int ct_srv_config_parse(int argc, char **argv, struct ct_srv_config *cfg, char *err, size_t err_len)
{
	struct option opts[N_SRV_OPTS + 4];
	int c;

	ct_srv_config_defaults(cfg);
	long_options(opts);
	optind = 0; /* a fresh scan, also when called more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vVh", opts, NULL)) != -1) {
		if (c >= OPT_BASE && c < OPT_BASE + (int)N_SRV_OPTS) {
			if (srv_opts[c - OPT_BASE].set(optarg, cfg, err, err_len) < 0)
				return -EINVAL;
			continue;
		}
		switch (c) {
		case 'v':
			cfg->verbose++;
			break;
		case 'V':
			return CT_SRV_CONFIG_VERSION;
		case 'h':
			return CT_SRV_CONFIG_HELP;
		case ':':
			snprintf(err, err_len, "%s needs a value; see ctserver --help",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, err_len, "unknown option '%s'; see ctserver --help",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s'; see ctserver --help",
			 argv[optind]);
		return -EINVAL;
	}
	/* An HTTP/1.0-style server closes after its reply unless told otherwise. */
	if (cfg->mode == CT_SRV_HTTP && !cfg->close_given)
		cfg->close = CT_SRV_CLOSE_SERVER;
	if (cfg->item_max > cfg->memory) {
		snprintf(err, err_len,
			 "--item-max is larger than --memory; lower it or raise --memory");
		return -EINVAL;
	}
	return 0;
}
