/* The lab journal must let any later ctload put the host back as it was:
 * the first old value of a key is what gets restored, a dead owner's lab is
 * rolled back, a live or persistent one is left alone, and only processes
 * that still have their recorded start time are ended. Sysctls live under a
 * fake /proc/sys in a temp dir, so no privilege is needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadgen/host/labstate.h"
#include "loadgen/host/procfs.h"

static char dir[128], sysroot[160], keyfile[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static void setup(void)
{
	char cmd[1024];

	snprintf(dir, sizeof(dir), "/tmp/ct-labstate-%d", (int)getpid());
	snprintf(sysroot, sizeof(sysroot), "%s/sys", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s/state %s/net/netfilter", dir, dir,
		 sysroot);
	cr_assert_eq(system(cmd), 0);
	snprintf(keyfile, sizeof(keyfile), "%s/net/netfilter/nf_conntrack_max", sysroot);
	write_file(keyfile, "262144\n");
	strcat(dir, "/state");
}

static void teardown(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/ct-labstate-%d", (int)getpid());
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

TestSuite(labstate, .init = setup, .fini = teardown);

static const char *path_of(const char *id)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s.json", dir, id);
	return p;
}

Test(labstate, create_records_owner_and_refuses_duplicates)
{
	struct ct_labstate *st = ct_labstate_create(dir, "ab12"), *again, *back;

	cr_assert_not_null(st);
	cr_expect_eq(access(path_of("ab12"), F_OK), 0);
	again = ct_labstate_create(dir, "ab12");
	cr_expect_null(again);
	cr_expect_eq(errno, EEXIST);
	back = ct_labstate_load(path_of("ab12"));
	cr_assert_not_null(back);
	cr_expect_str_eq(ct_labstate_run_id(back), "ab12");
	cr_expect_eq(ct_labstate_owner_pid(back), getpid());
	cr_expect(ct_labstate_owner_alive(back));
	cr_expect_not(ct_labstate_persistent(back));
	ct_labstate_free(back);
	ct_labstate_free(st);
}

Test(labstate, first_old_value_is_restored)
{
	struct ct_labstate *st = ct_labstate_create(dir, "k1"), *back;
	json_t *j;

	cr_assert_not_null(st);
	ct_labstate_set_sysroot(st, sysroot);
	cr_assert_eq(ct_labstate_add_sysctl(st, "host", NULL, "net.netfilter.nf_conntrack_max",
					    "262144", "2000"),
		     0);
	write_file(keyfile, "2000\n");
	/* A second trial changes it again: the journal keeps the host's value. */
	cr_assert_eq(ct_labstate_add_sysctl(st, "host", NULL, "net.netfilter.nf_conntrack_max",
					    "2000", "4000"),
		     0);
	write_file(keyfile, "4000\n");
	back = ct_labstate_load(path_of("k1"));
	cr_assert_not_null(back, "the file on disk has both changes (fsync'd before the write)");
	j = ct_labstate_journal(back);
	cr_expect_eq(json_array_size(j), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "old")), "262144");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "new")), "4000");
	ct_labstate_free(back);

	cr_expect_eq(ct_labstate_rollback(st, false, NULL), 0);
	cr_expect_str_eq(read_file(keyfile), "262144");
	cr_expect_neq(access(path_of("k1"), F_OK), 0, "state file removed after rollback");
	ct_labstate_free(st);
}

Test(labstate, dead_owner_is_recovered)
{
	pid_t child = fork();
	int status;

	cr_assert_geq(child, 0);
	if (child == 0) {
		/* A run that changes the host and dies without cleaning up. */
		struct ct_labstate *st = ct_labstate_create(dir, "dead");
		if (!st ||
		    ct_labstate_add_sysctl(st, "host", NULL, "net.netfilter.nf_conntrack_max",
					   "262144", "2000") < 0)
			_exit(1);
		write_file(keyfile, "2000\n");
		_exit(0);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_str_eq(read_file(keyfile), "2000");

	cr_expect_eq(ct_labstate_recover_dir(dir, sysroot, false), 1);
	cr_expect_str_eq(read_file(keyfile), "262144");
	cr_expect_neq(access(path_of("dead"), F_OK), 0);
	cr_expect_eq(ct_labstate_recover_dir(dir, sysroot, false), 0, "nothing left to recover");
}

Test(labstate, live_and_persistent_labs_are_left_alone)
{
	struct ct_labstate *live = ct_labstate_create(dir, "live");
	pid_t child;
	int status;

	cr_assert_not_null(live);
	cr_assert_eq(ct_labstate_add_sysctl(live, "host", NULL, "net.netfilter.nf_conntrack_max",
					    "262144", "3000"),
		     0);
	write_file(keyfile, "3000\n");
	cr_expect_eq(ct_labstate_recover_dir(dir, sysroot, false), 0);
	cr_expect_str_eq(read_file(keyfile), "3000", "a live run's change is not undone");

	child = fork();
	if (child == 0) {
		struct ct_labstate *st = ct_labstate_create(dir, "kept");
		if (!st || ct_labstate_set_persistent(st, true) < 0)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_eq(ct_labstate_recover_dir(dir, sysroot, false), 0);
	cr_expect_eq(access(path_of("kept"), F_OK), 0, "`lab up` outlives its process");
	cr_expect_eq(ct_labstate_recover_dir(dir, sysroot, true), 1, "`lab down --all` ends it");
	cr_expect_neq(access(path_of("kept"), F_OK), 0);
	cr_expect_eq(access(path_of("live"), F_OK), 0, "the live run is still untouched");
	ct_labstate_rollback(live, false, NULL);
	ct_labstate_free(live);
}

Test(labstate, ends_only_the_process_it_started)
{
	struct ct_labstate *st = ct_labstate_create(dir, "procs");
	unsigned long long start = 0;
	pid_t sleeper = fork(), other;
	int status;

	cr_assert_not_null(st);
	if (sleeper == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	other = fork();
	if (other == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	usleep(50000);
	cr_assert_eq(ct_proc_start_time(sleeper, &start), 0);
	cr_assert_eq(ct_labstate_add_proc(st, "ctserver", sleeper, start, NULL), 0);
	/* Same PID number recorded with another start time: a recycled PID. */
	cr_assert_eq(ct_labstate_add_proc(st, "ctserver", other, start + 12345, NULL), 0);
	cr_expect_eq(ct_labstate_rollback(st, false, NULL), 0);
	/* Ended and reaped (it was our child): the PID is gone. */
	cr_expect(kill(sleeper, 0) < 0 && errno == ESRCH, "ours was ended");
	cr_expect_eq(waitpid(other, &status, WNOHANG), 0, "the other is still running");
	kill(other, SIGKILL);
	waitpid(other, &status, 0);
	ct_labstate_free(st);
}

Test(labstate, proc_start_time)
{
	unsigned long long a = 0, b = 0;

	cr_assert_eq(ct_proc_start_time(getpid(), &a), 0);
	cr_assert_eq(ct_proc_start_time(getpid(), &b), 0);
	cr_expect_eq(a, b);
	cr_expect(ct_proc_is(getpid(), a));
	cr_expect_not(ct_proc_is(getpid(), a + 1));
	cr_expect_eq(ct_proc_start_time(0x3fffffff, &a), -ESRCH);
}

Test(labstate, key_to_path)
{
	char p[128];

	ct_sysctl_key_to_path("net.ipv4.tcp_tw_reuse", p, sizeof(p));
	cr_expect_str_eq(p, "net/ipv4/tcp_tw_reuse");
}

/* A run killed inside its first save leaves an empty state file and the
 * save's temporary: the next ctload removes both. A run saving right now
 * (its writer alive) keeps both. */
Test(labstate, killed_first_save_leaves_nothing)
{
	char dead_tmp[600], live_tmp[600];
	pid_t child = fork();
	struct ct_labstate **list;

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	cr_assert_eq(waitpid(child, NULL, 0), child);
	write_file(path_of("d1e5"), "");
	snprintf(dead_tmp, sizeof(dead_tmp), "%s.%d.tmp", path_of("d1e5"), (int)child);
	write_file(dead_tmp, "{\"run_id\": \"d1e");
	write_file(path_of("11fe"), "");
	snprintf(live_tmp, sizeof(live_tmp), "%s.%d.tmp", path_of("11fe"), (int)getpid());
	write_file(live_tmp, "{\"run_id\": \"11f");

	list = ct_labstate_list(dir);
	cr_assert_not_null(list);
	cr_expect_null(list[0], "no readable lab state");
	ct_labstate_list_free(list);
	cr_expect_neq(access(path_of("d1e5"), F_OK), 0, "the dead run's empty state is removed");
	cr_expect_neq(access(dead_tmp, F_OK), 0, "and its temporary");
	cr_expect_eq(access(path_of("11fe"), F_OK), 0, "the live writer's state is kept");
	cr_expect_eq(access(live_tmp, F_OK), 0, "and its temporary");
}

/* A preload is journaled only into a netns the journal made (its entries go
 * with that netns), once per netns with the latest count. */
Test(labstate, preload_only_into_the_labs_own_netns)
{
	struct ct_labstate *st = ct_labstate_create(dir, "pl01"), *back;
	json_t *j;
	size_t n = 0, i;
	json_t *e;

	cr_assert_not_null(st);
	ct_labstate_set_sysroot(st, sysroot);
	cr_expect_eq(ct_labstate_add_preload(st, "ctl-pl01-srv", 1000), -EINVAL);
	cr_expect_eq(ct_labstate_add_preload(st, NULL, 1000), -EINVAL);
	cr_assert_eq(ct_labstate_add_netns(st, "ctl-pl01-srv"), 0);
	cr_expect_eq(ct_labstate_add_preload(st, "ctl-pl01-srv", 1000), 0);
	cr_expect_eq(ct_labstate_add_preload(st, "ctl-pl01-srv", 2000), 0);
	back = ct_labstate_load(path_of("pl01"));
	cr_assert_not_null(back);
	j = ct_labstate_journal(back);
	json_array_foreach(j, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "type")), "ctpreload")) {
			n++;
			cr_expect_eq(json_integer_value(json_object_get(e, "count")), 2000);
		}
	}
	cr_expect_eq(n, 1);
	ct_labstate_free(back);
	cr_expect_eq(ct_labstate_rollback(st, false, NULL), 0);
	ct_labstate_free(st);
}
