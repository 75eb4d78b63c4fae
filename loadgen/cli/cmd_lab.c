/* cmd_lab — `ctload lab up FILE | status | down [ID] [--all]`: a lab that
 * outlives a run, for demos and for poking at it with ss and conntrack.
 *
 * `lab up` builds the lab of a scenario (see lab.h) and leaves it up; with
 * --foreground (or --for DURATION) it holds it until SIGINT/SIGTERM (or the
 * time is up) and then takes it down, sampling into DIR/timeseries.jsonl
 * when --dir is given. `lab down` ends a lab made by `lab up`, and rolls back
 * any lab whose ctload died (SIGKILL), saying what it restored; --all also
 * removes every stray ctl-* netns no live ctload owns. `lab status` works
 * without root (it only reads); up and down need root. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/cli/cli.h"
#include "loadgen/lab/lab.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/procfs.h"
#include "loadgen/host/netns.h"
#include "loadgen/probe/sampler.h"
#include "loadgen/scenario/scenario.h"

#define NEED_ROOT                                                                                  \
	"ctload lab needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network namespaces; "      \
	"run with sudo"

static void usage(FILE *out);

static bool is_root(void)
{
	return geteuid() == 0;
}

/* Hold a foreground lab, sampling it into DIR/timeseries.jsonl if asked. */
static int hold(struct ct_lab *lab, const char *dir, uint64_t for_ns, uint64_t interval)
{
	uint64_t start = ct_now_ns(), next = start;

	FILE *ts = NULL;

	if (dir) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/timeseries.jsonl", dir);
		ts = fopen(path, "ae");
		if (!ts)
			ct_warn("no timeseries: %s: %s", path, strerror(errno));
	}
	while (!ct_stop_requested() && (!for_ns || ct_now_ns() - start < for_ns)) {
		size_t n;
		const struct ct_sample_source *src = ct_lab_sources(lab, &n);
		json_t *sample = json_pack("{s:f}", "t", (double)(ct_now_ns() - start) / 1e9);

		for (size_t i = 0; sample && i < n; i++)
			src[i].fill(src[i].ctx, sample);
		if (ts && sample) {
			char *line = json_dumps(sample, JSON_COMPACT);
			if (line) {
				fprintf(ts, "%s\n", line);
				fflush(ts);
				free(line);
			}
		}
		json_decref(sample);
		next += interval;
		ct_sleep_until_ns(next);
	}
	if (ts)
		fclose(ts);
	return 0;
}

static void print_up(struct ct_lab *lab)
{
	json_t *info = ct_lab_info(lab);
	const char *cli = ct_lab_netns(lab, CT_ROLE_CLIENT);

	printf("lab %s up: path=%s conntrack_on=%s\n", ct_lab_id(lab),
	       json_string_value(json_object_get(info, "path")),
	       json_string_value(json_object_get(info, "conntrack_on")));
	printf("  client  %-16s %s\n", cli, json_string_value(json_object_get(info, "clients")));
	if (ct_lab_netns(lab, CT_ROLE_ROUTER))
		printf("  router  %s\n", ct_lab_netns(lab, CT_ROLE_ROUTER));
	const char *engine = json_string_value(json_object_get(info, "server_engine"));

	printf("  server  %-16s %s (%s %s, pid %d, log %s)\n", ct_lab_netns(lab, CT_ROLE_SERVER),
	       json_string_value(json_object_get(info, "server")), engine ? engine : "ctserver",
	       json_string_value(json_object_get(info, "server_mode")),
	       (int)json_integer_value(json_object_get(info, "server_pid")),
	       json_string_value(json_object_get(info, "server_log")));
	fflush(stdout);
}

/* `lab up`'s command line. */
struct up_opts {
	const char *file;
	char **sets;
	size_t n_set;
	const char *dir;
	bool foreground;
	uint64_t for_ns;
};

/* Read `lab up`'s options into o: -1 to go on, else the exit code. */
static int up_parse(int argc, char **argv, struct up_opts *o)
{
	static const struct option opts[] = {
	    {"set", required_argument, NULL, 's'},  {"dir", required_argument, NULL, 'd'},
	    {"foreground", no_argument, NULL, 'f'}, {"for", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': {
			char **bigger = realloc(o->sets, (o->n_set + 1) * sizeof(*o->sets));
			if (!bigger)
				return CT_EXIT_USAGE;
			o->sets = bigger;
			o->sets[o->n_set++] = optarg;
			break;
		}
		case 'd':
			o->dir = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'F': {
			char why[128];
			if (ct_parse_duration(optarg, &o->for_ns, why, sizeof(why)) < 0 ||
			    !o->for_ns) {
				ct_error("lab up --for '%s': %s", optarg,
					 o->for_ns ? why : "must be > 0");
				return CT_EXIT_USAGE;
			}
			o->foreground = true;
			break;
		}
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error("lab up: unknown or incomplete option (try 'ctload lab --help')");
			return CT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		ct_error("lab up: expected one scenario FILE (try 'ctload lab --help')");
		return CT_EXIT_USAGE;
	}
	o->file = argv[optind];
	return -1;
}

/* The lab is up: hold it in the foreground and take it down, or leave it up
 * on its own. Returns the exit code. */
static int up_hold_or_detach(struct ct_lab *lab, const struct ct_scenario *sc,
			     const struct up_opts *o)
{
	int code = CT_EXIT_OK;

	/* A signal that came while building also takes the lab down. */
	if (o->foreground || ct_stop_requested()) {
		if (o->foreground && !ct_stop_requested())
			printf("holding the lab%s; Ctrl-C or SIGTERM takes it down\n",
			       o->for_ns ? " for the given time" : "");
		fflush(stdout);
		hold(lab, o->dir, o->for_ns,
		     sc->report.sample_interval_ns ? sc->report.sample_interval_ns
						   : 100 * CT_NS_PER_MSEC);
		if (ct_lab_down(lab) < 0)
			code = CT_EXIT_ENV;
		else
			printf("lab down: netns removed, settings restored\n");
	} else {
		const char *id = ct_lab_id(lab);
		char cli[64];
		snprintf(cli, sizeof(cli), "%s", ct_lab_netns(lab, CT_ROLE_CLIENT));
		printf("use it: sudo ip netns exec %s bash; end it: sudo ctload lab down %s\n", cli,
		       id);
		if (ct_lab_detach(lab) < 0) {
			ct_error("could not mark the lab persistent; taking it down");
			code = CT_EXIT_ENV;
		}
	}
	return code;
}

/* Load the scenario, check we may, build the lab. Returns the exit code. */
static int up_run(const struct up_opts *o)
{
	struct ct_scenario *sc;
	struct ct_err serr, lerr;
	struct ct_lab *lab;
	int code = CT_EXIT_USAGE;

	sc = ct_scenario_load(o->file, o->sets, o->n_set, &serr);
	if (!sc) {
		ct_error("%s", serr.msg);
		return CT_EXIT_USAGE;
	}
	if (!is_root()) {
		ct_error(NEED_ROOT);
		code = CT_EXIT_ENV;
		goto out;
	}
	if (ct_signals_install() < 0) {
		ct_error("cannot install signal handlers: %s", strerror(errno));
		code = CT_EXIT_ENV;
		goto out;
	}
	if (o->dir && mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		ct_error("lab up --dir %s: %s", o->dir, strerror(errno));
		code = CT_EXIT_ENV;
		goto out;
	}
	lab = ct_lab_up(sc, o->dir, &lerr);
	if (!lab) {
		ct_error("%s", lerr.msg);
		code = lerr.code ? lerr.code : CT_EXIT_ENV;
		goto out;
	}
	print_up(lab);
	code = up_hold_or_detach(lab, sc, o);
out:
	ct_scenario_free(sc);
	return code;
}

static int cmd_up(int argc, char **argv)
{
	struct up_opts o = {0};
	int code = up_parse(argc, argv, &o);

	if (code < 0)
		code = up_run(&o);
	free(o.sets);
	return code;
}

static void print_counters(const char *role, const char *ns)
{
	struct ct_ns_counters c;
	struct ct_sampler *s;
	int fd = ct_netns_open(ns);

	if (fd < 0)
		return;
	s = ct_sampler_new(role, fd);
	close(fd);
	if (!s)
		return;
	if (ct_sampler_read(s, true, &c) == 0) {
		printf("    %-7s %-16s tcp inuse %llu tw %llu", role, ns,
		       (unsigned long long)c.tcp_inuse, (unsigned long long)c.tcp_tw);
		if (c.has_ct)
			printf("  conntrack %llu/%llu drop %llu", (unsigned long long)c.ct_count,
			       (unsigned long long)c.ct_max,
			       (unsigned long long)c.ctstat[CT_CTSTAT_DROP]);
		if (c.has_states && c.ct_states[7])
			printf(" (TIME_WAIT %llu)", (unsigned long long)c.ct_states[7]);
		printf("\n");
	}
	ct_sampler_free(s);
}

/* One entry of a lab's journal: a sysctl it changed or a process it started. */
static void print_journal_entry(const json_t *e)
{
	const char *type = json_string_value(json_object_get(e, "type"));

	if (!type)
		return;
	if (!strcmp(type, "sysctl"))
		printf("  sysctl %s = %s (was %s) [%s%s%s]\n",
		       json_string_value(json_object_get(e, "key")),
		       json_string_value(json_object_get(e, "new")),
		       json_string_value(json_object_get(e, "old")),
		       json_string_value(json_object_get(e, "scope")),
		       json_is_string(json_object_get(e, "netns")) ? " " : "",
		       json_is_string(json_object_get(e, "netns"))
			   ? json_string_value(json_object_get(e, "netns"))
			   : "");
	else if (!strcmp(type, "proc"))
		printf(
		    "  process %s pid %d%s\n", json_string_value(json_object_get(e, "what")),
		    (int)json_integer_value(json_object_get(e, "pid")),
		    ct_proc_is((pid_t)json_integer_value(json_object_get(e, "pid")),
			       (unsigned long long)json_integer_value(json_object_get(e, "start")))
			? ""
			: " (not running)");
}

/* One lab for people: who owns it, its topology, its journal, and (as root)
 * the counters of its netns now. */
static void print_lab(struct ct_labstate *st)
{
	json_t *info = ct_labstate_info(st), *journal = ct_labstate_journal(st), *e;
	bool alive = ct_labstate_owner_alive(st);
	size_t i;

	printf("lab %s: %s", ct_labstate_run_id(st),
	       ct_labstate_persistent(st) ? "up (ctload lab up)"
	       : alive			  ? "in use by a running ctload"
		       : "left by a ctload that died (ctload lab down restores it)");
	if (!ct_labstate_persistent(st))
		printf(", pid %d", (int)ct_labstate_owner_pid(st));
	printf("\n");
	if (info)
		printf("  path=%s conntrack_on=%s clients %s -> server %s\n",
		       json_string_value(json_object_get(info, "path")),
		       json_string_value(json_object_get(info, "conntrack_on")),
		       json_string_value(json_object_get(info, "clients")),
		       json_string_value(json_object_get(info, "server")));
	json_array_foreach(journal, i, e)
	{
		print_journal_entry(e);
	}
	if (is_root() && info) {
		json_t *ns = json_object_get(info, "netns");
		const char *role;
		json_t *v;
		printf("  counters now:\n");
		json_object_foreach(ns, role, v)
		{
			print_counters(role, json_string_value(v));
		}
	}
}

/* One lab as JSON, for `lab status --json`. */
static json_t *lab_json(struct ct_labstate *st)
{
	return json_pack("{s:s, s:b, s:i, s:b, s:O?, s:O}", "id", ct_labstate_run_id(st),
			 "persistent", ct_labstate_persistent(st), "owner_pid",
			 (int)ct_labstate_owner_pid(st), "owner_alive", ct_labstate_owner_alive(st),
			 "info", ct_labstate_info(st), "journal", ct_labstate_journal(st));
}

/* Stray: a ctl- netns no state file lists. */
static bool is_stray(const char *netns)
{
	char id[16] = "";
	char path[512];

	sscanf(netns, "ctl-%15[^-]", id);
	snprintf(path, sizeof(path), "%s/%s.json", CT_LABSTATE_DIR, id);
	return access(path, F_OK) != 0;
}

static void print_strays(void)
{
	char **names = ct_netns_list("ctl-");
	int shown = 0;

	for (char **p = names; p && *p; p++) {
		if (!is_stray(*p))
			continue;
		if (!shown++)
			printf("stray lab netns (ctload lab down --all removes "
			       "them):\n");
		printf("  %s\n", *p);
	}
	ct_netns_list_free(names);
}

static int cmd_status(int argc, char **argv)
{
	bool as_json = argc > 1 && !strcmp(argv[1], "--json");
	struct ct_labstate **list;
	json_t *all;
	int n = 0;

	if (argc > 1 && !as_json) {
		usage(!strcmp(argv[1], "--help") ? stdout : stderr);
		return strcmp(argv[1], "--help") ? CT_EXIT_USAGE : CT_EXIT_OK;
	}
	list = ct_labstate_list(NULL);
	if (!list) {
		ct_error("reading %s: %s", CT_LABSTATE_DIR, strerror(errno));
		return CT_EXIT_ENV;
	}
	all = json_array();
	for (struct ct_labstate **p = list; *p; p++, n++)
		if (as_json)
			json_array_append_new(all, lab_json(*p));
		else
			print_lab(*p);
	ct_labstate_list_free(list);
	if (as_json) {
		char *text = json_dumps(all, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		if (n == 0)
			printf("no lab is up\n");
		print_strays();
	}
	json_decref(all);
	return CT_EXIT_OK;
}

/* Take down one lab by its state; the caller holds nothing. */
static int down_one(struct ct_labstate *st)
{
	char why[128];
	int fd = open(ct_labstate_path(st), O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return 0; /* someone else just took it down */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		ct_error("lab %s is being taken down by another ctload", ct_labstate_run_id(st));
		return -EBUSY;
	}
	if (ct_labstate_persistent(st))
		snprintf(why, sizeof(why), "lab %s", ct_labstate_run_id(st));
	else
		snprintf(why, sizeof(why), "run %s, pid %d, which died", ct_labstate_run_id(st),
			 (int)ct_labstate_owner_pid(st));
	ret = ct_labstate_rollback(st, true, why);
	close(fd);
	if (ret == 0)
		printf("lab %s down\n", ct_labstate_run_id(st));
	return ret;
}

/* `lab down`'s arguments: -1 to go on, else the exit code. idbuf holds the
 * ID taken out of a netns name. */
static int down_parse(int argc, char **argv, const char **id, bool *all, char idbuf[static 16])
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			*all = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CT_EXIT_OK;
		} else if (argv[i][0] != '-' && !*id) {
			*id = argv[i];
			/* Accept the netns name or prefix too: ctl-3f2a-cli -> 3f2a. */
			if (!strncmp(*id, "ctl-", 4)) {
				idbuf[0] = '\0';
				sscanf(*id, "ctl-%15[^-]", idbuf);
				*id = idbuf;
			}
		} else {
			ct_error("lab down: unexpected '%s' (try 'ctload lab --help')", argv[i]);
			return CT_EXIT_USAGE;
		}
	}
	return -1;
}

/* Take down the labs asked for: ID, --all, or the one `lab up` left. A lab
 * whose ctload still runs is left to it. Returns the exit code. */
static int down_labs(struct ct_labstate **list, const char *id, bool all)
{
	int code = CT_EXIT_OK, up = 0;

	for (struct ct_labstate **p = list; *p; p++)
		if (ct_labstate_persistent(*p))
			up++;
	for (struct ct_labstate **p = list; *p; p++) {
		struct ct_labstate *st = *p;
		bool mine = all || (id && !strcmp(id, ct_labstate_run_id(st))) ||
			    (!id && up == 1 && ct_labstate_persistent(st));

		if (!mine)
			continue;
		if (!ct_labstate_persistent(st) && ct_labstate_owner_alive(st)) {
			if (id)
				ct_error("lab %s belongs to the running ctload pid %d; stop it "
					 "(Ctrl-C or kill %d) and it takes its lab down",
					 ct_labstate_run_id(st), (int)ct_labstate_owner_pid(st),
					 (int)ct_labstate_owner_pid(st));
			if (id)
				code = CT_EXIT_USAGE;
			continue;
		}
		if (down_one(st) < 0)
			code = CT_EXIT_ENV;
		if (id)
			id = "";
	}
	if (id && id[0]) {
		ct_error("no lab %s (see 'ctload lab status')", id);
		code = CT_EXIT_USAGE;
	} else if (!id && !all && up > 1) {
		ct_error("%d labs are up; name one (ctload lab down ID) or use --all", up);
		code = CT_EXIT_USAGE;
	}
	return code;
}

/* Stray netns: a ctl- name that no remaining state file accounts for.
 * Returns 0, or -1 when one could not be removed. */
static int down_strays(void)
{
	char **names = ct_netns_list("ctl-");
	int ret = 0;

	for (char **p = names; p && *p; p++) {
		if (!is_stray(*p))
			continue;
		if (ct_netns_del(*p) == 0)
			ct_note("removed stray netns %s", *p);
		else
			ret = -1;
	}
	ct_netns_list_free(names);
	return ret;
}

static int cmd_down(int argc, char **argv)
{
	const char *id = NULL;
	bool all = false;
	struct ct_labstate **list;
	char idbuf[16];
	int code, down_code;

	if ((code = down_parse(argc, argv, &id, &all, idbuf)) >= 0)
		return code;
	if (!is_root()) {
		ct_error(NEED_ROOT);
		return CT_EXIT_ENV;
	}
	/* Whatever else happens, undo what dead runs left. */
	code = ct_labstate_recover_stale() < 0 ? CT_EXIT_ENV : CT_EXIT_OK;
	list = ct_labstate_list(NULL);
	if (!list) {
		ct_error("reading %s: %s", CT_LABSTATE_DIR, strerror(errno));
		return CT_EXIT_ENV;
	}
	down_code = down_labs(list, id, all);
	ct_labstate_list_free(list);
	if (down_code != CT_EXIT_OK)
		code = down_code;
	if (all && down_strays() < 0)
		code = CT_EXIT_ENV;
	return code;
}

/* `lab recover`: undo only what killed ctload runs left (their netns, the
 * sysctls they changed, their ctserver); labs made by `lab up` stay up. */
static int cmd_recover(int argc, char **argv)
{
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CT_EXIT_OK;
		}
		ct_error("lab recover: unexpected '%s' (try 'ctload lab --help')", argv[i]);
		return CT_EXIT_USAGE;
	}
	if (!is_root()) {
		ct_error(NEED_ROOT);
		return CT_EXIT_ENV;
	}
	n = ct_labstate_recover_stale();
	if (n < 0)
		return CT_EXIT_ENV;
	if (n == 0)
		ct_note("nothing to recover: no lab of a killed ctload run is left");
	return CT_EXIT_OK;
}

/* The verbs of `ctload lab`, as iproute2's ip does it: {name, function,
 * synopsis, the lines of its options}; the help text is made from them. */
static const struct lab_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis; /* after "ctload lab " */
	const char *options;  /* its lines in the list of options */
} verbs[] = {
    {"up", cmd_up, "up FILE [--set K=V]... [--dir DIR] [--foreground | --for DUR]",
     "  up FILE          build the lab and leave it up (end it with 'ctload lab down')\n"
     "  --set K=V        override a scenario key (repeatable)\n"
     "  --dir DIR        write server.log, events.log (and timeseries.jsonl when held) there\n"
     "  --foreground     hold the lab until Ctrl-C or SIGTERM, then take it down\n"
     "  --for DUR        hold it for DUR (e.g. 30s), then take it down\n"},
    {"status", cmd_status, "status [--json]",
     "  status           labs that are up, their netns, settings and live counters\n"},
    {"down", cmd_down, "down [ID] [--all]",
     "  down [ID]        take down the lab made by 'lab up' (ID when there are several)\n"
     "  --all            every lab and every stray ctl-* netns no running ctload owns\n"},
    {"recover", cmd_recover, "recover",
     "  recover          undo only what killed ctload runs left; 'lab up' labs stay\n"},
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *out)
{
	for (size_t i = 0; i < N_VERBS; i++)
		fprintf(out, "%s ctload lab %s\n", i ? "      " : "Usage:", verbs[i].synopsis);
	fprintf(out,
		"Build the network namespaces of a scenario's lab (client, server, router), apply\n"
		"its [sysctl.*] settings and start ctserver inside, and leave it up for you to\n"
		"use: sudo ip netns exec ctl-ID-cli bash.\n\n");
	for (size_t i = 0; i < N_VERBS; i++)
		fputs(verbs[i].options, out);
	fprintf(
	    out,
	    "\nEvery down restores the sysctls the lab changed; a lab left by a ctload that was\n"
	    "killed is rolled back by the next 'ctload lab down' or 'ctload run'.\n"
	    "Exit: 0 ok, 2 bad usage or scenario, 3 environment (not root, no netns).\n");
}

int ct_cmd_lab(int argc, char **argv)
{
	char names[64] = "";

	if (argc < 2) {
		usage(stderr);
		return CT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CT_EXIT_OK;
	}
	for (size_t i = 0; i < N_VERBS; i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	/* "up, status or down" */
	for (size_t i = 0; i < N_VERBS; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 !i		   ? ""
			 : i + 1 < N_VERBS ? ", "
					   : " or ",
			 verbs[i].name);
	ct_error("lab: unknown subcommand '%s'; use %s", argv[1], names);
	return CT_EXIT_USAGE;
}
