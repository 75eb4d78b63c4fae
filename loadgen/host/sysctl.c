#include "loadgen/host/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"

void ct_sysctl_normalize(char *value)
{
	char *w = value;
	int blank = 0;

	for (const char *r = value; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n') {
			blank = 1;
			continue;
		}
		if (blank && w != value)
			*w++ = ' ';
		blank = 0;
		*w++ = *r;
	}
	*w = '\0';
}

static void key_path(const char *key, char *path, size_t len)
{
	char rel[256];

	if (strchr(key, '/') && key[0] == '/') {
		snprintf(path, len, "%s", key);
		return;
	}
	ct_sysctl_key_to_path(key, rel, sizeof(rel));
	snprintf(path, len, "/proc/sys/%s", rel);
}

struct rw_job {
	const char *path;
	const char *value; /* NULL: read */
	char *buf;
	size_t len;
};

static int do_rw(void *p)
{
	struct rw_job *job = p;
	int fd, ret = 0;

	fd = open(job->path, (job->value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (job->value) {
		size_t len = strlen(job->value);
		ssize_t n = write(fd, job->value, len);
		if (n < 0)
			ret = -errno;
		else if ((size_t)n != len)
			ret = -EIO;
	} else {
		ssize_t n = read(fd, job->buf, job->len - 1);
		if (n < 0) {
			ret = -errno;
		} else {
			job->buf[n] = '\0';
			ct_sysctl_normalize(job->buf);
		}
	}
	close(fd);
	return ret;
}

int ct_sysctl_read_path(int nsfd, const char *path, char *buf, size_t len)
{
	struct rw_job job = {.path = path, .buf = buf, .len = len};

	if (len < 2)
		return -EINVAL;
	buf[0] = '\0';
	return ct_netns_run(nsfd, do_rw, &job);
}

int ct_sysctl_read(int nsfd, const char *key, char *buf, size_t len)
{
	char path[512];

	key_path(key, path, sizeof(path));
	return ct_sysctl_read_path(nsfd, path, buf, len);
}

int ct_sysctl_write_path(int nsfd, const char *path, const char *value, struct ct_err *err)
{
	struct rw_job job = {.path = path, .value = value};
	int ret = ct_netns_run(nsfd, do_rw, &job);

	if (ret < 0) {
		const char *hint = "";
		if (ret == -EINVAL)
			hint = " (out of the range this kernel accepts)";
		else if (ret == -EACCES || ret == -EPERM)
			hint = " (read-only here: global keys such as nf_conntrack_max are set in "
			       "[sysctl.host], and need root)";
		else if (ret == -ENOENT)
			hint = " (no such key in this kernel)";
		ct_err_set(err, CT_EXIT_ENV, "the kernel refused it: %s%s", strerror(-ret), hint);
	}
	return ret;
}

int ct_sysctl_write(int nsfd, const char *key, const char *value, struct ct_err *err)
{
	char path[512];

	key_path(key, path, sizeof(path));
	return ct_sysctl_write_path(nsfd, path, value, err);
}

int ct_sysctl_apply(struct ct_labstate *st, const char *scope, int nsfd, const char *netns,
		    const char *key, const char *value, struct ct_err *err)
{
	char old[256], now[256], want[256];
	struct ct_err why = {.msg = ""};
	int ret;

	ret = ct_sysctl_read(nsfd, key, old, sizeof(old));
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV, "%s%s%s%s: cannot read it: %s%s", key,
			   netns ? " (netns " : "", netns ? netns : "", netns ? ")" : "",
			   strerror(-ret),
			   ret == -ENOENT ? " (no such key in this kernel, or its module is not "
					    "loaded)"
					  : "");
		return ret;
	}
	snprintf(want, sizeof(want), "%s", value);
	ct_sysctl_normalize(want);
	if (st) {
		ret = ct_labstate_add_sysctl(st, scope, netns, key, old, want);
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "recording sysctl %s in %s: %s", key,
				   ct_labstate_path(st), strerror(-ret));
			return ret;
		}
	}
	ret = ct_sysctl_write(nsfd, key, want, &why);
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV, "%s = %s%s%s%s: %s", key, want,
			   netns ? " (netns " : "", netns ? netns : "", netns ? ")" : "", why.msg);
		return ret;
	}
	if (ct_sysctl_read(nsfd, key, now, sizeof(now)) == 0 && strcmp(now, want))
		ct_note("sysctl %s: wrote '%s', the kernel holds '%s'", key, want, now);
	ct_debug("sysctl %s = %s [%s] (was %s)", key, want, scope, old);
	return 0;
}
