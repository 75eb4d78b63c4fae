#include "loadgen/host/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

#define NETNS_RUN_DIR "/run/netns"

/* Only async-signal-safe calls between fork() and exec(): ctload may have
 * threads by the time a lab is built or rebuilt. */
static void child_exec(int nsfd, const char *const argv[], int in_fd, int out_fd, int err_fd,
		       bool new_session)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (new_session)
		setsid();
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
		_exit(126);
	if (in_fd >= 0 && dup2(in_fd, 0) < 0)
		_exit(126);
	if (out_fd >= 0 && dup2(out_fd, 1) < 0)
		_exit(126);
	if (err_fd >= 0 && dup2(err_fd, 2) < 0)
		_exit(126);
	execvp(argv[0], (char *const *)argv);
	_exit(errno == ENOENT ? 127 : 126);
}

int ct_exec(int nsfd, const char *const argv[], const char *stdin_text, struct ct_err *err)
{
	char out[1024];
	size_t got = 0;
	int in_fd = -1, out_fd = -1, status, ret;
	pid_t pid;

	/* Stdin and the captured output go through memory files rather than
	 * pipes: a long `ip -batch` script cannot deadlock against a chatty
	 * child. */
	in_fd = memfd_create("ctload-stdin", MFD_CLOEXEC);
	out_fd = memfd_create("ctload-out", MFD_CLOEXEC);
	if (in_fd < 0 || out_fd < 0) {
		ret = -errno;
		ct_err_set(err, CT_EXIT_ENV, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if (stdin_text) {
		size_t len = strlen(stdin_text), off = 0;

		while (off < len) {
			ssize_t n = write(in_fd, stdin_text + off, len - off);
			if (n < 0) {
				ret = -errno;
				ct_err_set(err, CT_EXIT_ENV, "writing %s's input: %s", argv[0],
					   strerror(errno));
				goto out;
			}
			off += (size_t)n;
		}
		if (lseek(in_fd, 0, SEEK_SET) < 0) {
			ret = -errno;
			goto out;
		}
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		ct_err_set(err, CT_EXIT_ENV, "fork for %s: %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(nsfd, argv, in_fd, out_fd, out_fd, false);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	{
		ssize_t n = pread(out_fd, out, sizeof(out) - 1, 0);
		got = n > 0 ? (size_t)n : 0;
		out[got] = '\0';
		while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
			out[--got] = '\0';
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ret = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		ret = -ENOENT;
		ct_err_set(err, CT_EXIT_ENV, "%s: not found (install it: sudo scripts/setup)",
			   argv[0]);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
		ret = -EIO;
		ct_err_set(err, CT_EXIT_ENV, "%s: could not enter the netns or start", argv[0]);
	} else {
		ret = -EIO;
		ct_err_set(err, CT_EXIT_ENV, "%s: %s", argv[0],
			   got ? out : "failed without a message");
	}
out:
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	return ret;
}

int ct_netns_add(const char *name, struct ct_err *err)
{
	const char *add[] = {"ip", "netns", "add", name, NULL};
	const char *lo[] = {"ip", "-n", name, "link", "set", "lo", "up", NULL};
	int ret;

	ret = ct_exec(-1, add, NULL, err);
	if (ret < 0)
		return ret;
	return ct_exec(-1, lo, NULL, err);
}

bool ct_netns_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	return access(path, F_OK) == 0;
}

int ct_netns_del(const char *name)
{
	const char *del[] = {"ip", "netns", "del", name, NULL};
	struct ct_err err = {.msg = ""};
	int ret;

	if (!ct_netns_exists(name))
		return 0;
	ret = ct_exec(-1, del, NULL, &err);
	if (ret < 0)
		ct_warn("deleting netns %s: %s", name, err.msg);
	return ret;
}

int ct_netns_open(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

char **ct_netns_list(const char *prefix)
{
	size_t n = 0, cap = 8;
	char **names = calloc(cap + 1, sizeof(*names));
	struct dirent *de;
	DIR *d;

	if (!names)
		return NULL;
	d = opendir(NETNS_RUN_DIR);
	if (!d) {
		if (errno == ENOENT)
			return names;
		free(names);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (n == cap) {
			char **bigger = realloc(names, (cap * 2 + 1) * sizeof(*names));
			if (!bigger)
				goto fail;
			names = bigger;
			cap *= 2;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto fail;
		names[++n] = NULL;
	}
	closedir(d);
	return names;
fail:
	closedir(d);
	ct_netns_list_free(names);
	errno = ENOMEM;
	return NULL;
}

void ct_netns_list_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

struct ns_job {
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static void *ns_thread(void *p)
{
	struct ns_job *job = p;

	if (setns(job->nsfd, CLONE_NEWNET) < 0) {
		job->ret = -errno;
		return NULL;
	}
	job->ret = job->fn(job->arg);
	return NULL;
}

int ct_netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	struct ns_job job = {.nsfd = nsfd, .fn = fn, .arg = arg, .ret = 0};
	pthread_t th;
	int ret;

	if (nsfd < 0)
		return fn(arg);
	ret = pthread_create(&th, NULL, ns_thread, &job);
	if (ret)
		return -ret;
	ret = pthread_join(th, NULL);
	if (ret)
		return -ret;
	return job.ret;
}

struct open_job {
	const char *path;
	int flags;
};

static int do_open(void *p)
{
	struct open_job *job = p;
	char path[512];
	int fd;

	if (!strncmp(job->path, "/proc/net/", 10))
		snprintf(path, sizeof(path), "/proc/thread-self/net/%s", job->path + 10);
	else
		snprintf(path, sizeof(path), "%s", job->path);
	fd = open(path, job->flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ct_netns_open_file(int nsfd, const char *path, int flags)
{
	struct open_job job = {.path = path, .flags = flags};

	return ct_netns_run(nsfd, do_open, &job);
}

int ct_ip_batch(const char *name, const char *script, struct ct_err *err)
{
	const char *with_ns[] = {"ip", "-n", name, "-batch", "-", NULL};
	const char *here[] = {"ip", "-batch", "-", NULL};

	return ct_exec(-1, name ? with_ns : here, script, err);
}

int ct_nft_apply(int nsfd, const char *ruleset, struct ct_err *err)
{
	const char *argv[] = {"nft", "-f", "-", NULL};

	return ct_exec(nsfd, argv, ruleset, err);
}

pid_t ct_netns_spawn(int nsfd, const char *const argv[], int log_fd, int *release_fd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = log_fd >= 0 ? log_fd : null_fd;
	int gate[2];
	pid_t pid;

	if (null_fd < 0)
		return -errno;
	if (pipe2(gate, O_CLOEXEC) < 0) {
		int e = errno;
		close(null_fd);
		return -e;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(null_fd);
		close(gate[0]);
		close(gate[1]);
		return -e;
	}
	if (pid == 0) {
		char go = 0;
		ssize_t n;

		/* Wait for the parent's word: EOF (it died, or refused) means
		 * the start was never recorded, so never run. */
		close(gate[1]);
		do
			n = read(gate[0], &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || go != 'g')
			_exit(125);
		/* The log fd must survive exec even if opened O_CLOEXEC. */
		child_exec(nsfd, argv, null_fd, out, out, true);
	}
	close(gate[0]);
	close(null_fd);
	*release_fd = gate[1];
	return pid;
}

void ct_netns_release(int release_fd, bool go)
{
	if (release_fd < 0)
		return;
	if (go) {
		ssize_t n;
		do
			n = write(release_fd, "g", 1);
		while (n < 0 && errno == EINTR);
	}
	close(release_fd);
}
