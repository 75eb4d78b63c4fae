/* The lab API as `ctload run` uses it: a target the engine can connect
 * through from the client netns, samples and step figures that show the
 * traffic, per-trial sysctls, a fresh netns with nothing left over, and a
 * down that leaves nothing behind. Needs root (skipped otherwise), but for
 * conntrack_on_router_needs_a_router, which is refused before the host is
 * touched. The address plan alone is tested without root (test_addr.c). */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sig.h"
#include "loadgen/lab/lab.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/scenario/scenario.h"
#include "loadgen/host/sysctl.h"

static struct ct_scenario *load(const char *text)
{
	char path[] = "/tmp/ct-test-lab-XXXXXX";
	struct ct_err err;
	struct ct_scenario *sc;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	sc = ct_scenario_load(path, NULL, 0, &err);
	unlink(path);
	cr_assert_not_null(sc, "scenario: %s", err.msg);
	return sc;
}

static void use_sibling_ctserver(void)
{
	char self[PATH_MAX - 32], path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	cr_assert_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	/* The test binary lives in build/tests/, ctserver in build/. */
	snprintf(path, sizeof(path), "%s/../ctserver", self);
	if (!getenv("CTSERVER"))
		setenv("CTSERVER", path, 1);
}

struct conn_job {
	const struct ct_trial_target *t;
	bool wait_eof; /* close only after the server did (it closes first) */
	int done;
};

/* As an engine thread does: enter the client netns, then connect. */
static void *connect_some(void *p)
{
	struct conn_job *job = p;

	if (setns(job->t->netns_fd, CLONE_NEWNET) < 0)
		return NULL;
	for (int i = 0; i < 20; i++) {
		struct sockaddr_in dst = *(const struct sockaddr_in *)&job->t->dst;
		const struct sockaddr *src =
		    (const struct sockaddr *)&job->t->src[i % job->t->n_src];
		char buf[16];
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		dst.sin_port = htons((uint16_t)(job->t->port_lo + i % 2));
		if (fd < 0)
			continue;
		if (bind(fd, src, sizeof(struct sockaddr_in)) == 0 &&
		    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0 &&
		    write(fd, "hi\r\n", 4) == 4 && read(fd, buf, sizeof(buf)) > 0) {
			ssize_t n = 1;
			while (job->wait_eof && n > 0)
				n = read(fd, buf, sizeof(buf));
			if (n == 0 || !job->wait_eof)
				job->done++;
		}
		close(fd);
	}
	return NULL;
}

static int connect_through_ex(const struct ct_trial_target *t, bool wait_eof)
{
	struct conn_job job = {.t = t, .wait_eof = wait_eof};
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, connect_some, &job), 0);
	pthread_join(th, NULL);
	return job.done;
}

static int connect_through(const struct ct_trial_target *t)
{
	return connect_through_ex(t, false);
}

/* One counter of one netns as the lab's samplers report it now. */
static long long ns_value(struct ct_lab *lab, const char *role, const char *key)
{
	size_t n_src;
	const struct ct_sample_source *src = ct_lab_sources(lab, &n_src);
	json_t *sample = json_object();
	long long v;

	for (size_t i = 0; i < n_src; i++)
		src[i].fill(src[i].ctx, sample);
	v = json_integer_value(
	    json_object_get(json_object_get(json_object_get(sample, "ns"), role), key));
	json_decref(sample);
	return v;
}

static struct ct_scenario *point(const struct ct_scenario *sc, const char *key, const char *value)
{
	struct ct_scenario *pt = ct_scenario_dup(sc);
	struct ct_err serr;

	cr_assert_not_null(pt);
	cr_assert_eq(ct_scenario_set(pt, key, value, &serr), 0, "%s=%s: %s", key, value, serr.msg);
	return pt;
}

static int server_pid(struct ct_lab *lab)
{
	return (int)json_integer_value(json_object_get(ct_lab_info(lab), "server_pid"));
}

static ino_t ns_inode(int fd)
{
	struct stat st;

	cr_assert_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A failed assertion ends the test before ct_lab_down(): undo what this
 * worker's labs did, so a failing test leaves nothing on the host. */
static void undo_own_labs(void)
{
	struct ct_labstate **list = ct_labstate_list(NULL);

	for (struct ct_labstate **p = list; p && *p; p++)
		if (ct_labstate_owner_pid(*p) == getpid())
			ct_labstate_rollback(*p, true, "test cleanup");
	ct_labstate_list_free(list);
}

TestSuite(lab, .fini = undo_own_labs);

Test(lab, up_target_samples_fresh_down, .timeout = 60)
{
	struct ct_scenario *sc, *pt;
	struct ct_err serr;
	struct ct_err err;
	struct ct_trial_target t;
	struct ct_lab *lab;
	char name_cli[64], v[64], ip[INET_ADDRSTRLEN];
	const struct ct_sample_source *src, *hooks;
	size_t n_src, n_hooks;
	json_t *sample, *step;
	ino_t before;
	int old_fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to build network namespaces");
	use_sibling_ctserver();
	sc = load("[scenario]\nname = t\n[lab]\nclients = 2\npath = direct\nconntrack_on = server\n"
		  "[server]\nmode = echo\nport = 11700-11701\n[load]\nrate = 10/s\n");
	lab = ct_lab_up(sc, NULL, &err);
	cr_assert_not_null(lab, "lab up: %s", err.msg);
	snprintf(name_cli, sizeof(name_cli), "%s", ct_lab_netns(lab, CT_ROLE_CLIENT));
	cr_expect(ct_netns_exists(name_cli));
	cr_expect_null(ct_lab_netns(lab, CT_ROLE_ROUTER), "direct has no router");

	ct_lab_target(lab, &t);
	cr_expect_geq(t.netns_fd, 0);
	cr_expect_eq(t.n_src, 2);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&t.src[1])->sin_addr, ip, sizeof(ip));
	cr_expect_str_eq(ip, "198.18.0.2");
	inet_ntop(AF_INET, &((struct sockaddr_in *)&t.dst)->sin_addr, ip, sizeof(ip));
	cr_expect_str_eq(ip, "198.19.0.1");
	cr_expect_eq(t.port_lo, 11700);
	cr_expect_eq(t.port_hi, 11701);
	cr_expect_eq(ct_lab_tuple_space(lab), 2ull * 2 * (60999 - 32768 + 1));

	cr_assert_eq(ct_lab_step_begin(lab), 0);
	cr_expect_eq(connect_through(&t), 20, "20 connections from the client netns");

	usleep(300000); /* the last FINs are still on their way */
	src = ct_lab_sources(lab, &n_src);
	/* neigh: the host's neighbour table counters, where it can read them. */
	cr_expect_eq(n_src, access("/proc/net/stat/arp_cache", R_OK) == 0 ? 4 : 3,
		     "client, server, kmsg, neigh");
	sample = json_object();
	for (size_t i = 0; i < n_src; i++)
		cr_expect_eq(src[i].fill(src[i].ctx, sample), 0, "source %s", src[i].name);
	{
		char *dump = json_dumps(sample, JSON_COMPACT);
		cr_expect_geq(json_integer_value(json_object_get(
				  json_object_get(json_object_get(sample, "ns"), "client"), "tw")),
			      20, "the client closed first: its TIME_WAIT shows in the sample: %s",
			      dump);
		free(dump);
	}
	cr_expect_geq(json_integer_value(json_object_get(
			  json_object_get(json_object_get(sample, "ns"), "server"), "ct.count")),
		      20, "conntrack_on = server: entries in the server netns");
	json_decref(sample);

	hooks = ct_lab_step_hooks(lab, &n_hooks);
	step = json_object();
	for (size_t i = 0; i < n_hooks; i++)
		cr_expect_eq(hooks[i].fill(hooks[i].ctx, step), 0);
	cr_expect_geq(
	    json_integer_value(json_object_get(json_object_get(step, "tw"), "client_peak")), 20);
	cr_expect_geq(json_integer_value(json_object_get(json_object_get(step, "ct"), "peak")), 20);
	cr_expect_gt(json_integer_value(json_object_get(json_object_get(step, "ct"), "limit")), 0);
	cr_expect_geq(
	    json_integer_value(json_object_get(json_object_get(step, "tuples"), "in_use_peak")), 20,
	    "20 distinct tuples held (TIME_WAIT)");
	/* The drops outside conntrack: nothing dropped 20 connections. */
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(step, "listen"), "drops")),
		     0);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(step, "dev"), "rx_drop")),
		     0);
	cr_expect_not_null(json_object_get(json_object_get(step, "dev"), "tx_drop"));
	json_decref(step);

	/* A sweep point's settings, applied per trial. */
	pt = ct_scenario_dup(sc);
	cr_assert_not_null(pt);
	cr_assert_eq(ct_scenario_set(pt, "sysctl.client.net.ipv4.tcp_tw_reuse", "0", &serr), 0,
		     "%s", serr.msg);
	cr_assert_eq(ct_lab_apply_sysctls(lab, pt, &err), 0, "%s", err.msg);
	cr_expect_eq(
	    ct_sysctl_read(ct_lab_client_netns_fd(lab), "net.ipv4.tcp_tw_reuse", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "0");

	/* cooldown = fresh-netns: no TIME_WAIT left, settings kept, server back. */
	/* Hold the old netns so its inode number cannot be reused. */
	old_fd = dup(ct_lab_client_netns_fd(lab));
	before = ns_inode(old_fd);
	cr_assert_eq(ct_lab_fresh(lab, &err), 0, "fresh: %s", err.msg);
	cr_expect_neq(ns_inode(ct_lab_client_netns_fd(lab)), before, "a new client netns");
	close(old_fd);
	cr_expect_eq(
	    ct_sysctl_read(ct_lab_client_netns_fd(lab), "net.ipv4.tcp_tw_reuse", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "0", "per-trial settings re-applied in the fresh netns");
	src = ct_lab_sources(lab, &n_src);
	sample = json_object();
	for (size_t i = 0; i < n_src; i++)
		src[i].fill(src[i].ctx, sample);
	cr_expect_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(sample, "ns"), "client"), "tw")),
		     0, "no TIME_WAIT survives a fresh netns");
	json_decref(sample);
	ct_lab_target(lab, &t);
	cr_expect_eq(connect_through(&t), 20, "ctserver restarted in the fresh server netns");

	cr_expect_eq(ct_lab_down(lab), 0);
	cr_expect_not(ct_netns_exists(name_cli), "down removed the netns");
	ct_scenario_free(pt);
	ct_scenario_free(sc);
}

Test(lab, conntrack_on_router_needs_a_router)
{
	struct ct_scenario *sc;
	struct ct_err err;

	/* The scenario parser refuses this too; the lab must not rely on it. */
	sc = load("[scenario]\nname = t\n[lab]\npath = router\nconntrack_on = router\n"
		  "[load]\nrate = 10/s\n");
	sc->lab.path = CT_PATH_DIRECT;
	cr_expect_null(ct_lab_up(sc, NULL, &err));
	cr_expect_eq(err.code, 2);
	cr_expect(strstr(err.msg, "conntrack_on = router") != NULL, "%s", err.msg);
	ct_scenario_free(sc);
}

/* A [sweep] over [server] keys and [lab] clients: each step gets its own
 * ctserver and client addresses, a fresh netns keeps them, and the
 * topology cannot change under a running lab. */
Test(lab, set_server_follows_the_step, .timeout = 60)
{
	struct ct_scenario *sc, *same, *pt, *bad;
	struct ct_err serr;
	struct ct_err err;
	struct ct_trial_target t;
	struct ct_lab *lab;
	char ip[INET_ADDRSTRLEN];
	int pid0, pid1;

	if (geteuid() != 0)
		cr_skip_test("needs root to build network namespaces");
	use_sibling_ctserver();
	sc = load("[scenario]\nname = t\n[lab]\nclients = 1\npath = direct\nconntrack_on = server\n"
		  "[server]\nmode = echo\nport = 11720\nclose = client\n[load]\nrate = 10/s\n");
	lab = ct_lab_up(sc, NULL, &err);
	cr_assert_not_null(lab, "lab up: %s", err.msg);
	pid0 = server_pid(lab);
	cr_assert_gt(pid0, 0);

	same = point(sc, "load.rate", "20/s");
	cr_assert_eq(ct_lab_set_server(lab, same, &err), 0, "%s", err.msg);
	cr_expect_eq(server_pid(lab), pid0, "the same [server] settings keep ctserver");

	pt = point(sc, "server.close", "server");
	cr_assert_eq(ct_scenario_set(pt, "server.port", "11720-11721", &serr), 0);
	cr_assert_eq(ct_scenario_set(pt, "lab.clients", "3", &serr), 0);
	cr_assert_eq(ct_lab_apply_sysctls(lab, pt, &err), 0, "%s", err.msg);
	cr_assert_eq(ct_lab_set_server(lab, pt, &err), 0, "%s", err.msg);
	pid1 = server_pid(lab);
	cr_expect(pid1 > 0 && pid1 != pid0, "a new ctserver (%d, was %d)", pid1, pid0);
	cr_expect(kill(pid0, 0) < 0, "the old ctserver ended");
	cr_expect_str_eq(json_string_value(json_object_get(ct_lab_info(lab), "server_close")),
			 "server");
	cr_expect_str_eq(json_string_value(json_object_get(ct_lab_info(lab), "server")),
			 "198.19.0.1:11720-11721");
	ct_lab_target(lab, &t);
	cr_expect_eq(t.port_lo, 11720);
	cr_expect_eq(t.port_hi, 11721, "the target has the new port range");
	cr_assert_eq(t.n_src, 3, "three client addresses");
	inet_ntop(AF_INET, &((struct sockaddr_in *)&t.src[2])->sin_addr, ip, sizeof(ip));
	cr_expect_str_eq(ip, "198.18.0.3");
	cr_expect_eq(ct_lab_tuple_space(lab), 3ull * 2 * (60999 - 32768 + 1));

	/* Both ports, every client address; the server now closes first. */
	cr_expect_eq(connect_through_ex(&t, true), 20, "20 connections to the new ctserver");
	usleep(300000);
	cr_expect_geq(ns_value(lab, "server", "tw"), 20, "close = server: TIME_WAIT on the server");
	cr_expect_eq(ns_value(lab, "client", "tw"), 0, "and none on the client");

	/* Fewer clients: addresses go from the top. */
	cr_assert_eq(ct_scenario_set(pt, "lab.clients", "2", &serr), 0);
	cr_assert_eq(ct_lab_set_server(lab, pt, &err), 0, "%s", err.msg);
	cr_expect_eq(server_pid(lab), pid1, "a clients change alone keeps ctserver");
	ct_lab_target(lab, &t);
	cr_expect_eq(t.n_src, 2);
	cr_expect_eq(connect_through(&t), 20, "through the two remaining addresses");

	/* The topology is fixed. */
	bad = point(pt, "lab.path", "router");
	cr_expect_eq(ct_lab_set_server(lab, bad, &err), -EINVAL);
	cr_expect_eq(err.code, 2);
	cr_expect(strstr(err.msg, "lab.path") && strstr(err.msg, "router"), "%s", err.msg);
	cr_expect_eq(ct_lab_apply_sysctls(lab, bad, &err), -EINVAL, "apply_sysctls refuses too");
	cr_expect_eq(server_pid(lab), pid1, "a refused step changes nothing");

	/* A fresh netns keeps the step's server and clients. */
	cr_assert_eq(ct_lab_fresh(lab, &err), 0, "fresh: %s", err.msg);
	cr_expect_str_eq(json_string_value(json_object_get(ct_lab_info(lab), "server_close")),
			 "server");
	ct_lab_target(lab, &t);
	cr_expect_eq(t.port_hi, 11721);
	cr_expect_eq(t.n_src, 2);
	cr_expect_eq(connect_through_ex(&t, true), 20, "both ports and clients after fresh");
	usleep(300000);
	cr_expect_geq(ns_value(lab, "server", "tw"), 20, "still close = server after fresh");

	cr_expect_eq(ct_lab_down(lab), 0);
	ct_scenario_free(bad);
	ct_scenario_free(pt);
	ct_scenario_free(same);
	ct_scenario_free(sc);
}

/* cooldown = drain: waits until conntrack entries expire (short timeouts
 * here), names what is left when the wait runs out, and stops on request. */
Test(lab, drain_waits_for_the_counts, .timeout = 90)
{
	struct ct_scenario *sc, *pt;
	struct ct_err err;
	struct ct_trial_target t;
	struct ct_lab *lab;
	char cli[64];
	long long ct;

	if (geteuid() != 0)
		cr_skip_test("needs root to build network namespaces");
	use_sibling_ctserver();
	/* No socket TIME_WAIT on the client (the bucket limit is 0), and every
	 * conntrack state a finished connection can be in lasts 3 s. */
	sc = load("[scenario]\nname = t\n[lab]\npath = direct\nconntrack_on = server\n"
		  "[server]\nmode = echo\nport = 11730-11731\n[load]\nrate = 10/s\n"
		  "[sysctl.client]\nnet.ipv4.tcp_max_tw_buckets = 0\n"
		  "[sysctl.server]\n"
		  "net.netfilter.nf_conntrack_tcp_timeout_time_wait = 3\n"
		  "net.netfilter.nf_conntrack_tcp_timeout_close = 3\n"
		  "net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 3\n"
		  "net.netfilter.nf_conntrack_tcp_timeout_close_wait = 3\n"
		  "net.netfilter.nf_conntrack_tcp_timeout_last_ack = 3\n");
	lab = ct_lab_up(sc, NULL, &err);
	cr_assert_not_null(lab, "lab up: %s", err.msg);
	snprintf(cli, sizeof(cli), "%s", ct_lab_netns(lab, CT_ROLE_CLIENT));
	cr_expect_eq(ct_lab_drain(lab, 5000000000ull, &err), 0, "nothing to drain: %s", err.msg);

	ct_lab_target(lab, &t);
	cr_expect_eq(connect_through(&t), 20);
	usleep(300000);
	ct = ns_value(lab, "server", "ct.count");
	cr_expect_geq(ct, 20, "20 conntrack entries to drain");
	cr_expect_eq(ns_value(lab, "client", "tw"), 0, "no client TIME_WAIT (buckets = 0)");
	cr_expect_eq(ct_lab_drain(lab, 30000000000ull, &err), 0, "drain: %s", err.msg);
	cr_expect_eq(ns_value(lab, "server", "ct.count"), 0, "drained: no entry left");

	/* Client TIME_WAIT lasts 60 s: a 1 s wait gives up and says so. */
	pt = point(sc, "sysctl.client.net.ipv4.tcp_max_tw_buckets", "4096");
	cr_assert_eq(ct_lab_apply_sysctls(lab, pt, &err), 0, "%s", err.msg);
	cr_expect_eq(connect_through(&t), 20);
	usleep(300000);
	cr_expect_eq(ct_lab_drain(lab, 1000000000ull, &err), -ETIMEDOUT);
	cr_expect(strstr(err.msg, "client netns") && strstr(err.msg, cli) &&
		      strstr(err.msg, "TIME_WAIT sockets") && strstr(err.msg, "after"),
		  "the message names what did not drain: %s", err.msg);

	/* A stop request ends the wait at once. */
	ct_stop_flag = 1;
	cr_expect_eq(ct_lab_drain(lab, 30000000000ull, &err), -EINTR, "%s", err.msg);
	ct_stop_flag = 0;

	cr_expect_eq(ct_lab_down(lab), 0);
	ct_scenario_free(pt);
	ct_scenario_free(sc);
}
