#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctime.h"
#include "ct_config.h"
#include "loadgen/engine/engine.h"
#include "loadgen/run/loadcfg.h"
#include "loadgen/scenario/scenario.h"

Test(engine, connection_state_fits_in_512_bytes)
{
	/* The receive buffer lives inside the struct: this is all a
	 * connection in flight costs ctload (the kernel's socket aside). The
	 * engine reports it itself, through its ops table. */
	struct ct_engine_config cfg = {
	    .name = "kernel", .dport_lo = 1, .dport_hi = 1, .netns_fd = -1, .threads = 1};
	cfg.dst.ss_family = AF_INET;
	struct ct_engine *e = ct_engine_new(&cfg);
	cr_assert_not_null(e);
	cr_expect_str_eq(ct_engine_name(e), "kernel");
	size_t n = ct_engine_conn_size(e);
	cr_expect_gt(n, 0);
	cr_expect_leq(n, 512, "struct conn is %zu bytes", n);
	ct_engine_free(e);
}

/* An engine this build lacks (dpdk or pcap, when their libraries were
 * missing; with both built, a name no backend has). */
Test(engine, an_engine_not_built_in_is_refused)
{
#if !CT_HAVE_DPDK
	const char *name = "dpdk";
#elif !CT_HAVE_PCAP
	const char *name = "pcap";
#else
	const char *name = "nosuch";
#endif
	struct ct_engine_config cfg = {
	    .name = name, .dport_lo = 1, .dport_hi = 1, .netns_fd = -1, .threads = 1};
	cfg.dst.ss_family = AF_INET;
	cr_expect_null(ct_engine_new(&cfg));
	cr_expect_eq(errno, ENOENT);
}

/* threads = 0: half the CPUs ctload may run on, at least one (the server
 * runs on the same host); an explicit count, from the config or [load]
 * threads, is kept. */
Test(engine, default_threads_are_half_the_cpus)
{
	struct ct_engine_config cfg;
	cpu_set_t set;

	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	unsigned cpus = (unsigned)CPU_COUNT(&set);
	unsigned want = cpus >= 2 ? cpus / 2 : 1;
	cr_expect_eq(ct_engine_threads(&cfg), want, "%u CPUs: %u threads, want %u", cpus,
		     ct_engine_threads(&cfg), want);
	cfg.load.threads = 3;
	cr_expect_eq(ct_engine_threads(&cfg), 3);
	cfg.threads = 5;
	cr_expect_eq(ct_engine_threads(&cfg), 5);
}

/* The one mapping from a scenario to an engine's [load]: every field the
 * engine reads, the enums mapped, close = auto resolved. */
Test(engine, loadcfg_maps_the_load_section)
{
	struct ct_err err;
	char path[] = "/tmp/test_engine_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("[scenario]\nname = t\ntopology = host\nseed = 7\n[server]\n"
	      "target = 127.0.0.1:1\n[load]\nrate = 100/s\nrate_end = 300/s\nprofile = ramp\n"
	      "duration = 2s\nmax_connections = 50\nrequest = \"x{seq}\"\nexpect = \"OK\"\n"
	      "expect_start = \"HTTP/1.1 \"\n"
	      "connect_timeout = 1s\nreply_timeout = 2s\nports = range 40000-40099\n"
	      "close = rst\nthreads = 3\nmax_inflight = 77\nlaunch_window = 2ms\n",
	      f);
	fclose(f);
	struct ct_scenario *sc = ct_scenario_load(path, NULL, 0, &err);
	unlink(path);
	cr_assert_not_null(sc, "%s", err.msg);
	struct ct_engine_config cfg = {.netns_fd = -1};
	ct_loadcfg_fill(&cfg, sc);
	cr_expect_str_eq(cfg.name, "kernel");
	cr_expect_eq(cfg.load.sched.profile, CT_SCHED_RAMP);
	cr_expect_eq(cfg.load.sched.rate, 100);
	cr_expect_eq(cfg.load.sched.rate_end, 300);
	cr_expect_eq(cfg.load.sched.duration_ns, 2 * CT_NS_PER_SEC);
	cr_expect_eq(cfg.load.sched.max_connections, 50);
	cr_expect_eq(cfg.load.sched.seed, 7);
	cr_expect_str_eq(cfg.load.request, "x{seq}");
	cr_expect_str_eq(cfg.load.expect, "OK");
	cr_expect_str_eq(cfg.load.expect_start, "HTTP/1.1 ");
	cr_expect_eq(cfg.load.connect_timeout_ns, CT_NS_PER_SEC);
	cr_expect_eq(cfg.load.reply_timeout_ns, 2 * CT_NS_PER_SEC);
	cr_expect_eq(cfg.load.ports, CT_ENGINE_PORTS_RANGE);
	cr_expect_eq(cfg.load.port_lo, 40000);
	cr_expect_eq(cfg.load.port_hi, 40099);
	cr_expect_eq(cfg.load.close, CT_ENGINE_CLOSE_RST);
	cr_expect_eq(cfg.load.threads, 3);
	cr_expect_eq(cfg.load.max_inflight, 77);
	cr_expect_eq(cfg.load.launch_window_ns, 2 * CT_NS_PER_MSEC);
	cr_expect_eq(cfg.netns_fd, -1, "the target is left alone");
	ct_scenario_free(sc);
}

/* A one-thread memcache-ish server: read a line, answer END, close. */
struct srv {
	int lfd;
	int served;
	volatile int stop;
};

static void *serve(void *arg)
{
	struct srv *s = arg;
	while (!s->stop) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0 && write(fd, "END\r\n", 5) == 5)
			s->served++;
		close(fd);
	}
	return NULL;
}

static int listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 512), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct ct_scenario *scenario(const char *body)
{
	char path[] = "/tmp/test_engine_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs(body, f);
	fclose(f);
	struct ct_err err;
	struct ct_scenario *sc = ct_scenario_load(path, NULL, 0, &err);
	unlink(path);
	cr_assert_not_null(sc, "%s", err.msg);
	return sc;
}

static void run_engine(struct ct_scenario *sc, uint16_t port, struct ct_engine_stats *st)
{
	struct ct_engine_config cfg = {
	    .dport_lo = port, .dport_hi = port, .netns_fd = -1, .threads = 2};
	ct_loadcfg_fill(&cfg, sc);
	struct sockaddr_in *d = (struct sockaddr_in *)&cfg.dst;
	d->sin_family = AF_INET;
	d->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct ct_engine *e = ct_engine_new(&cfg);
	cr_assert_not_null(e);
	cr_assert_eq(ct_engine_start(e), 0);
	uint64_t end = ct_now_ns() + 20 * CT_NS_PER_SEC;
	do {
		usleep(20000);
		ct_engine_snapshot(e, st);
	} while (st->running && ct_now_ns() < end);
	cr_assert_eq(st->running, 0, "the engine stops by itself");
	ct_engine_free(e);
}

Test(engine, every_scheduled_connection_completes_against_a_loopback_server)
{
	static struct srv s;
	static struct ct_engine_stats st;
	uint16_t port;
	pthread_t th;
	s.lfd = listen_any(&port);
	pthread_create(&th, NULL, serve, &s);
	struct ct_scenario *sc = scenario("[scenario]\nname = t\ntopology = host\n[server]\n"
					  "target = 127.0.0.1:1\n[load]\nrate = 500/s\n"
					  "duration = 1s\n");
	run_engine(sc, port, &st);
	s.stop = 1;
	pthread_join(th, NULL);
	close(s.lfd);
	cr_expect_eq(st.attempted, 500);
	cr_expect_eq(st.established, 500);
	cr_expect_eq(st.completed, 500, "completed %llu, failures timeout %llu protocol %llu",
		     (unsigned long long)st.completed,
		     (unsigned long long)st.failures[CT_FAIL_TIMEOUT],
		     (unsigned long long)st.failures[CT_FAIL_PROTOCOL]);
	cr_expect_eq(s.served, 500, "the server counted the same");
	cr_expect_eq(st.connect.n, 500);
	cr_expect_eq(st.total.n, 500);
	cr_expect_eq(st.connect_call.n, 500);
	cr_expect_eq(st.inflight, 0);
	ct_scenario_free(sc);
}

Test(engine, a_closed_port_counts_as_refused)
{
	static struct ct_engine_stats st;
	uint16_t port;
	int fd = listen_any(&port);
	close(fd); /* now nothing listens there */
	struct ct_scenario *sc = scenario("[scenario]\nname = t\ntopology = host\n[server]\n"
					  "target = 127.0.0.1:1\n[load]\nrate = 200/s\n"
					  "duration = 500ms\n");
	run_engine(sc, port, &st);
	cr_expect_eq(st.attempted, 100);
	cr_expect_eq(st.failures[CT_FAIL_REFUSED], 100);
	cr_expect_eq(st.completed, 0);
	ct_scenario_free(sc);
}

Test(engine, a_wrong_reply_counts_as_protocol)
{
	static struct srv s;
	static struct ct_engine_stats st;
	uint16_t port;
	pthread_t th;
	s.lfd = listen_any(&port);
	pthread_create(&th, NULL, serve, &s);
	struct ct_scenario *sc = scenario("[scenario]\nname = t\ntopology = host\n[server]\n"
					  "target = 127.0.0.1:1\n[load]\nrate = 200/s\n"
					  "duration = 250ms\nexpect = \"VALUE\"\n");
	run_engine(sc, port, &st);
	s.stop = 1;
	pthread_join(th, NULL);
	close(s.lfd);
	cr_expect_eq(st.failures[CT_FAIL_PROTOCOL], 50);
	ct_scenario_free(sc);
}

/* Median of n blocking connect() calls to 127.0.0.1:port, ns: over loopback
 * the kernel completes the handshake inside the call. */
static uint64_t kernel_connect_ns(uint16_t port, int n)
{
	uint64_t t[128];
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_leq(n, 128);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		uint64_t t0 = ct_now_ns();
		cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		t[i] = ct_now_ns() - t0;
		close(fd);
		usleep(3000);
	}
	for (int i = 1; i < n; i++) /* insertion sort: n is small */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			uint64_t x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[n / 2];
}

/* With the default launch window a wake-up neither comes late (libevent's
 * own timers run on a 4 ms jiffy clock: p50 was 1 ms) nor counts its early
 * start: at 300/s the connect p50 is the kernel's handshake. */
Test(engine, connect_latency_at_a_low_rate_is_the_handshake)
{
	static struct srv s;
	static struct ct_engine_stats st;
	uint16_t port;
	pthread_t th;
	s.lfd = listen_any(&port);
	pthread_create(&th, NULL, serve, &s);
	uint64_t ref = kernel_connect_ns(port, 100);
	struct ct_scenario *sc = scenario("[scenario]\nname = t\ntopology = host\n[server]\n"
					  "target = 127.0.0.1:1\n[load]\nrate = 300/s\n"
					  "duration = 1s\n");
	run_engine(sc, port, &st);
	s.stop = 1;
	pthread_join(th, NULL);
	close(s.lfd);
	uint64_t p50 = ct_hist_quantile(&st.connect, 0.5);
	cr_expect_eq(st.completed, 300);
	cr_expect_leq(p50, ref + 200 * CT_NS_PER_USEC,
		      "connect p50 %.3f ms, a blocking connect() %.3f ms", p50 / 1e6, ref / 1e6);
	ct_scenario_free(sc);
}
