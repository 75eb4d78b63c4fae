#include "loadgen/host/labstate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/host/netns.h"
#include "loadgen/host/procfs.h"
#include "loadgen/host/sysctl.h"

struct ct_labstate {
	char *path;
	char *dir;
	char *sysroot; /* tests: fake /proc/sys */
	json_t *root;  /* the whole file */
};

void ct_sysctl_key_to_path(const char *key, char *out, size_t len)
{
	size_t i = 0;

	for (; key[i] && i + 1 < len; i++)
		out[i] = key[i] == '.' ? '/' : key[i];
	out[i] = '\0';
}

/* Write tmp, fsync, rename over, fsync the directory: after a crash the file
 * is either the old or the new version, never a torn one. */
static int save(struct ct_labstate *st)
{
	char tmp[512];
	int fd, dfd, ret = 0;
	char *text;
	size_t len, off = 0;

	text = json_dumps(st->root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	/* The writer's pid in the name: a temporary whose writer died can be
	 * told from one being written (see sweep_tmps). */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", st->path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			ret = -errno;
			close(fd);
			goto out;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		ret = -errno;
		close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, st->path) < 0) {
		ret = -errno;
		goto out;
	}
	dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(text);
	return ret;
}

static char *dirname_of(const char *path)
{
	char *d = strdup(path), *slash;

	if (!d)
		return NULL;
	slash = strrchr(d, '/');
	if (slash && slash != d)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	else
		strcpy(d, ".");
	return d;
}

struct ct_labstate *ct_labstate_create(const char *dir, const char *run_id)
{
	struct ct_labstate *st = calloc(1, sizeof(*st));
	unsigned long long start = 0;
	char path[512];
	int e, fd;

	if (!st)
		return NULL;
	if (!dir)
		dir = CT_LABSTATE_DIR;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s.json", dir, run_id);
	/* Claim the name exclusively so two runs never share a journal. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	close(fd);
	st->path = strdup(path);
	st->dir = strdup(dir);
	ct_proc_start_time(getpid(), &start);
	st->root = json_pack("{s:i, s:s, s:b, s:{s:i, s:I}, s:f, s:[]}", "version", 1, "run_id",
			     run_id, "persistent", 0, "owner", "pid", (int)getpid(), "start",
			     (json_int_t)start, "created", (double)time(NULL), "journal");
	if (!st->path || !st->dir || !st->root) {
		errno = ENOMEM;
		goto fail_unlink;
	}
	e = save(st);
	if (e < 0) {
		errno = -e;
		goto fail_unlink;
	}
	return st;
fail_unlink:
	e = errno;
	unlink(path);
	errno = e;
fail:
	e = errno;
	ct_labstate_free(st);
	errno = e;
	return NULL;
}

struct ct_labstate *ct_labstate_load(const char *path)
{
	struct ct_labstate *st = calloc(1, sizeof(*st));
	json_error_t jerr;
	int e;

	if (!st)
		return NULL;
	st->root = json_load_file(path, 0, &jerr);
	if (!st->root) {
		e = access(path, F_OK) ? errno : EINVAL;
		ct_labstate_free(st);
		errno = e;
		return NULL;
	}
	if (!json_is_array(json_object_get(st->root, "journal")) ||
	    !json_is_string(json_object_get(st->root, "run_id"))) {
		ct_labstate_free(st);
		errno = EINVAL;
		return NULL;
	}
	st->path = strdup(path);
	st->dir = dirname_of(path);
	if (!st->path || !st->dir) {
		ct_labstate_free(st);
		errno = ENOMEM;
		return NULL;
	}
	return st;
}

void ct_labstate_free(struct ct_labstate *st)
{
	if (!st)
		return;
	json_decref(st->root);
	free(st->path);
	free(st->dir);
	free(st->sysroot);
	free(st);
}

void ct_labstate_set_sysroot(struct ct_labstate *st, const char *root)
{
	free(st->sysroot);
	st->sysroot = root ? strdup(root) : NULL;
}

const char *ct_labstate_run_id(const struct ct_labstate *st)
{
	return json_string_value(json_object_get(st->root, "run_id"));
}

const char *ct_labstate_path(const struct ct_labstate *st)
{
	return st->path;
}

pid_t ct_labstate_owner_pid(const struct ct_labstate *st)
{
	return (pid_t)json_integer_value(
	    json_object_get(json_object_get(st->root, "owner"), "pid"));
}

bool ct_labstate_owner_alive(const struct ct_labstate *st)
{
	json_t *owner = json_object_get(st->root, "owner");

	return ct_proc_is((pid_t)json_integer_value(json_object_get(owner, "pid")),
			  (unsigned long long)json_integer_value(json_object_get(owner, "start")));
}

bool ct_labstate_persistent(const struct ct_labstate *st)
{
	return json_is_true(json_object_get(st->root, "persistent"));
}

json_t *ct_labstate_journal(const struct ct_labstate *st)
{
	return json_object_get(st->root, "journal");
}

json_t *ct_labstate_info(const struct ct_labstate *st)
{
	return json_object_get(st->root, "info");
}

static int append(struct ct_labstate *st, json_t *entry)
{
	if (!entry)
		return -ENOMEM;
	if (json_array_append_new(ct_labstate_journal(st), entry) < 0)
		return -ENOMEM;
	return save(st);
}

static bool same_str(json_t *v, const char *s)
{
	if (!s)
		return json_is_null(v) || !v;
	return json_is_string(v) && !strcmp(json_string_value(v), s);
}

int ct_labstate_add_netns(struct ct_labstate *st, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(ct_labstate_journal(st), i, e)
	{
		if (same_str(json_object_get(e, "type"), "netns") &&
		    same_str(json_object_get(e, "name"), name))
			return 0;
	}
	return append(st, json_pack("{s:s, s:s}", "type", "netns", "name", name));
}

int ct_labstate_add_sysctl(struct ct_labstate *st, const char *scope, const char *netns,
			   const char *key, const char *old, const char *new_value)
{
	size_t i;
	json_t *e;

	json_array_foreach(ct_labstate_journal(st), i, e)
	{
		if (same_str(json_object_get(e, "type"), "sysctl") &&
		    same_str(json_object_get(e, "key"), key) &&
		    same_str(json_object_get(e, "netns"), netns)) {
			/* Keep the first old value: that is what the host had. */
			if (json_object_set_new(e, "new", json_string(new_value)) < 0)
				return -ENOMEM;
			return save(st);
		}
	}
	return append(st, json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}", "type", "sysctl", "scope",
				    scope, "netns", netns ? json_string(netns) : json_null(), "key",
				    key, "old", old, "new", new_value));
}

int ct_labstate_add_proc(struct ct_labstate *st, const char *what, pid_t pid,
			 unsigned long long start, const char *netns)
{
	return append(st, json_pack("{s:s, s:s, s:i, s:I, s:o}", "type", "proc", "what", what,
				    "pid", (int)pid, "start", (json_int_t)start, "netns",
				    netns ? json_string(netns) : json_null()));
}

int ct_labstate_add_file(struct ct_labstate *st, const char *path)
{
	return append(st, json_pack("{s:s, s:s}", "type", "file", "path", path));
}

static void say(bool verbose, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int ct_labstate_add_dpdk_dir(struct ct_labstate *st, const char *prefix)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", CT_DPDK_RUNDIR, prefix);
	return append(st, json_pack("{s:s, s:s}", "type", "dpdk", "path", path));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* A DPDK runtime directory: removed with what the EAL left in it (its
 * config, memory-segment maps, sockets), and the parent if now empty. Only
 * under CT_DPDK_RUNDIR, whatever the file says. */
static int remove_dpdk_dir(const json_t *e, bool verbose, const char *why)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	size_t n = strlen(CT_DPDK_RUNDIR);
	if (!path || strncmp(path, CT_DPDK_RUNDIR "/", n + 1) || strchr(path + n + 1, '/') ||
	    strstr(path, ".."))
		return 0;
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return 0;
	int ret = nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (ret == 0) {
		say(verbose, why, "removed %s", path);
		(void)rmdir(CT_DPDK_RUNDIR);
	}
	return ret < 0 ? -errno : ret;
}

static bool journal_created_netns(json_t *journal, const char *name);

int ct_labstate_add_preload(struct ct_labstate *st, const char *netns, unsigned long long count)
{
	size_t i;
	json_t *e;

	if (!netns || !journal_created_netns(ct_labstate_journal(st), netns))
		return -EINVAL;
	/* A fresh netns makes them again: one entry, with the latest count. */
	json_array_foreach(ct_labstate_journal(st), i, e)
	{
		if (same_str(json_object_get(e, "type"), "ctpreload") &&
		    same_str(json_object_get(e, "netns"), netns)) {
			if (json_object_set_new(e, "count", json_integer((json_int_t)count)) < 0)
				return -ENOMEM;
			return save(st);
		}
	}
	return append(st, json_pack("{s:s, s:s, s:I}", "type", "ctpreload", "netns", netns, "count",
				    (json_int_t)count));
}

int ct_labstate_drop_proc(struct ct_labstate *st, pid_t pid)
{
	json_t *j = ct_labstate_journal(st), *e;
	size_t i;

	json_array_foreach(j, i, e)
	{
		if (same_str(json_object_get(e, "type"), "proc") &&
		    json_integer_value(json_object_get(e, "pid")) == pid) {
			json_array_remove(j, i);
			return save(st);
		}
	}
	return 0;
}

int ct_labstate_set_persistent(struct ct_labstate *st, bool persistent)
{
	if (json_object_set_new(st->root, "persistent", json_boolean(persistent)) < 0)
		return -ENOMEM;
	return save(st);
}

int ct_labstate_set_info(struct ct_labstate *st, json_t *info)
{
	if (json_object_set(st->root, "info", info) < 0)
		return -ENOMEM;
	return save(st);
}

static void say(bool verbose, const char *why, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (verbose)
		ct_note("%s%s%s%s", line, why ? " (" : "", why ? why : "", why ? ")" : "");
	else
		ct_info("%s", line);
}

/* End a process we started, unless its PID now belongs to someone else. */
static int end_proc(json_t *e, bool verbose, const char *why)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(e, "pid"));
	unsigned long long start =
	    (unsigned long long)json_integer_value(json_object_get(e, "start"));
	const char *what = json_string_value(json_object_get(e, "what"));

	if (!ct_proc_is(pid, start))
		return 0;
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	for (int i = 0; i < 300 && ct_proc_is(pid, start); i++) {
		/* Reap it if it is our child; otherwise its parent (init) does. */
		waitpid(pid, NULL, WNOHANG);
		usleep(10000);
	}
	if (ct_proc_is(pid, start)) {
		kill(pid, SIGKILL);
		for (int i = 0; i < 100 && ct_proc_is(pid, start); i++) {
			waitpid(pid, NULL, WNOHANG);
			usleep(10000);
		}
	}
	waitpid(pid, NULL, WNOHANG);
	say(verbose, why, "ended %s (pid %d)", what ? what : "process", (int)pid);
	return 0;
}

static bool journal_created_netns(json_t *journal, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(journal, i, e)
	{
		if (same_str(json_object_get(e, "type"), "netns") &&
		    same_str(json_object_get(e, "name"), name))
			return true;
	}
	return false;
}

static int restore_sysctl(struct ct_labstate *st, json_t *e, bool verbose, const char *why)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *old = json_string_value(json_object_get(e, "old"));
	const char *nw = json_string_value(json_object_get(e, "new"));
	const char *netns = json_string_value(json_object_get(e, "netns"));
	char path[512], rel[256], now[256];
	struct ct_err err = {.msg = ""};
	int nsfd = -1, ret;

	if (!key || !old)
		return -EINVAL;
	if (netns) {
		/* It dies with the netns when we made that netns. */
		if (st->sysroot || journal_created_netns(ct_labstate_journal(st), netns) ||
		    !ct_netns_exists(netns))
			return 0;
		nsfd = ct_netns_open(netns);
		if (nsfd < 0)
			return 0;
	}
	ct_sysctl_key_to_path(key, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", st->sysroot ? st->sysroot : "/proc/sys", rel);
	if (ct_sysctl_read_path(nsfd, path, now, sizeof(now)) == 0 && !strcmp(now, old)) {
		if (nsfd >= 0)
			close(nsfd);
		return 0;
	}
	ret = ct_sysctl_write_path(nsfd, path, old, &err);
	if (nsfd >= 0)
		close(nsfd);
	if (ret < 0) {
		ct_error("could not restore %s = %s%s%s: %s; set it by hand: sysctl -w %s='%s'",
			 key, old, netns ? " in netns " : "", netns ? netns : "", err.msg, key,
			 old);
		return ret;
	}
	if (why) {
		char reason[512];
		snprintf(reason, sizeof(reason), "was set to %s by %s", nw ? nw : "?", why);
		say(verbose, reason, "restored %s = %s%s%s", key, old, netns ? " in netns " : "",
		    netns ? netns : "");
	} else {
		say(verbose, NULL, "restored %s = %s%s%s", key, old, netns ? " in netns " : "",
		    netns ? netns : "");
	}
	return 0;
}

int ct_labstate_rollback(struct ct_labstate *st, bool verbose, const char *why)
{
	json_t *journal = ct_labstate_journal(st), *e;
	int first = 0, ret;

	for (size_t i = json_array_size(journal); i-- > 0;) {
		const char *type;

		e = json_array_get(journal, i);
		type = json_string_value(json_object_get(e, "type"));
		if (!type)
			continue;
		ret = 0;
		if (!strcmp(type, "proc")) {
			ret = end_proc(e, verbose, why);
		} else if (!strcmp(type, "sysctl")) {
			ret = restore_sysctl(st, e, verbose, why);
		} else if (!strcmp(type, "file")) {
			const char *path = json_string_value(json_object_get(e, "path"));
			if (path && unlink(path) < 0 && errno != ENOENT)
				ret = -errno;
		} else if (!strcmp(type, "dpdk")) {
			ret = remove_dpdk_dir(e, verbose, why);
		} else if (!strcmp(type, "ctpreload")) {
			const char *ns = json_string_value(json_object_get(e, "netns"));
			if (ns && !st->sysroot && ct_netns_exists(ns))
				say(verbose, why,
				    "%lld preloaded conntrack entries go with netns %s",
				    (long long)json_integer_value(json_object_get(e, "count")), ns);
		} else if (!strcmp(type, "netns")) {
			const char *name = json_string_value(json_object_get(e, "name"));
			if (name && !st->sysroot && ct_netns_exists(name)) {
				ret = ct_netns_del(name);
				if (ret == 0)
					say(verbose, why, "removed netns %s", name);
			}
		}
		if (ret < 0 && !first)
			first = ret;
	}
	if (first == 0) {
		char tmp[600];

		if (unlink(st->path) < 0 && errno != ENOENT)
			first = -errno;
		/* A save cut short by the owner's death leaves its temporary. */
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", st->path, (int)ct_labstate_owner_pid(st));
		unlink(tmp);
	} else {
		ct_error("the lab state %s is kept so that 'sudo ctload lab down --all' can "
			 "retry",
			 st->path);
	}
	return first;
}

/* "<id>.json.<pid>.tmp": the pid of its writer, or 0 when name is not one. */
static pid_t tmp_writer(const char *name, size_t *base_len)
{
	const char *end = name + strlen(name), *dot;
	long pid;
	char *stop;

	if (end - name < 10 || strcmp(end - 4, ".tmp"))
		return 0;
	for (dot = end - 5; dot > name && *dot != '.'; dot--)
		;
	if (dot - name < 5 || strncmp(dot - 5, ".json", 5))
		return 0;
	pid = strtol(dot + 1, &stop, 10);
	if (stop != end - 4 || pid <= 0)
		return 0;
	*base_len = (size_t)(dot - name);
	return (pid_t)pid;
}

/* Remove the temporaries of writers that died (a save cut short by a
 * SIGKILL). Returns whether a live writer still has one for state file
 * `live_for` (a run between its first claim and its first save). */
static bool sweep_tmps(const char *dir, const char *live_for)
{
	bool live = false;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while ((de = readdir(d))) {
		size_t base_len;
		pid_t pid = tmp_writer(de->d_name, &base_len);
		char path[512];

		if (!pid)
			continue;
		if (kill(pid, 0) == 0 || errno == EPERM) {
			if (live_for && strlen(live_for) == base_len &&
			    !strncmp(de->d_name, live_for, base_len))
				live = true;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return live;
}

static bool is_state_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

struct ct_labstate **ct_labstate_list(const char *dir)
{
	struct ct_labstate **list;
	size_t n = 0, cap = 8;
	struct dirent *de;
	DIR *d;

	if (!dir)
		dir = CT_LABSTATE_DIR;
	list = calloc(cap + 1, sizeof(*list));
	if (!list)
		return NULL;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? list : (free(list), NULL);
	sweep_tmps(dir, NULL);
	while ((de = readdir(d))) {
		char path[512];
		struct ct_labstate *st;

		if (!is_state_file(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		st = ct_labstate_load(path);
		if (!st) {
			/* An empty file is a lab that died before its first save,
			 * unless its writer is alive and saving right now. */
			struct stat sb;
			if (stat(path, &sb) == 0 && sb.st_size == 0) {
				if (!sweep_tmps(dir, de->d_name))
					unlink(path);
			}
			else
				ct_warn("skipping unreadable lab state %s: %s", path,
					strerror(errno));
			continue;
		}
		if (n == cap) {
			struct ct_labstate **bigger = realloc(list, (cap * 2 + 1) * sizeof(*list));
			if (!bigger) {
				ct_labstate_free(st);
				break;
			}
			list = bigger;
			cap *= 2;
		}
		list[n++] = st;
		list[n] = NULL;
	}
	closedir(d);
	return list;
}

void ct_labstate_list_free(struct ct_labstate **list)
{
	if (!list)
		return;
	for (struct ct_labstate **p = list; *p; p++)
		ct_labstate_free(*p);
	free(list);
}

int ct_labstate_recover_dir(const char *dir, const char *sysroot, bool include_persistent)
{
	struct ct_labstate **list = ct_labstate_list(dir);
	int count = 0, first = 0;

	if (!list)
		return -errno;
	for (struct ct_labstate **p = list; *p; p++) {
		struct ct_labstate *st = *p;
		char why[256];
		int fd, ret;

		if (!ct_labstate_persistent(st) && ct_labstate_owner_alive(st))
			continue; /* a live run: never undo under its feet */
		if (ct_labstate_persistent(st) && !include_persistent)
			continue;
		/* Two ctloads starting at once must not both undo the same lab. */
		fd = open(st->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0 || access(st->path, F_OK) < 0) {
			close(fd);
			continue;
		}
		if (sysroot)
			ct_labstate_set_sysroot(st, sysroot);
		if (ct_labstate_persistent(st))
			snprintf(why, sizeof(why), "lab %s", ct_labstate_run_id(st));
		else
			snprintf(why, sizeof(why), "run %s, pid %d, which died",
				 ct_labstate_run_id(st), (int)ct_labstate_owner_pid(st));
		ret = ct_labstate_rollback(st, true, why);
		close(fd);
		if (ret < 0 && !first)
			first = ret;
		count++;
	}
	ct_labstate_list_free(list);
	return first < 0 ? first : count;
}

int ct_labstate_recover_stale(void)
{
	return ct_labstate_recover_dir(NULL, NULL, false);
}
