/* rundir — see rundir.h. */
#include "loadgen/run/rundir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct_config.h"
#include "common/ctime.h"
#include "common/log.h"

struct ct_rundir {
	char *path;
	FILE *ts;
	json_t *summary;
};

/* mkdir -p */
static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	char *s;
	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *new_summary(const struct ct_scenario *sc);

struct ct_rundir *ct_rundir_open(const char *dir, const struct ct_scenario *sc)
{
	struct ct_rundir *rd = calloc(1, sizeof(*rd));
	char *p = NULL;
	FILE *f = NULL;
	int rc = -ENOMEM;

	if (!rd)
		goto fail;
	if (dir) {
		rd->path = strdup(dir);
	} else {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		const char *name =
		    sc->scenario.name && sc->scenario.name[0] ? sc->scenario.name : "run";
		if (asprintf(&rd->path, "runs/%s-%s", name, stamp) < 0)
			rd->path = NULL;
	}
	if (!rd->path)
		goto fail;
	if ((rc = mkdirs(rd->path)) < 0) {
		ct_error("cannot create the run directory %s: %s", rd->path, strerror(-rc));
		goto fail;
	}
	if (!(p = join(rd->path, "summary.json")))
		goto fail;
	if (access(p, F_OK) == 0) {
		ct_error("%s already holds a run (summary.json); choose another --out", rd->path);
		rc = -EEXIST;
		goto fail;
	}
	free(p);
	if (!(p = join(rd->path, "scenario.ini")))
		goto fail;
	f = fopen(p, "w");
	if (!f || (rc = ct_scenario_write(sc, f)) < 0 || fclose(f) != 0) {
		rc = rc < 0 ? rc : -errno;
		ct_error("cannot write %s: %s", p, strerror(-rc));
		f = NULL;
		goto fail;
	}
	f = NULL;
	free(p);
	if (!(p = join(rd->path, "timeseries.jsonl")))
		goto fail;
	rd->ts = fopen(p, "w");
	if (!rd->ts) {
		rc = -errno;
		ct_error("cannot create %s: %s", p, strerror(errno));
		goto fail;
	}
	free(p);
	p = NULL;

	if (!(rd->summary = new_summary(sc)))
		goto fail;
	if ((rc = ct_rundir_flush(rd)) < 0)
		goto fail;
	return rd;
fail:
	if (f)
		fclose(f);
	free(p);
	ct_rundir_close(rd);
	errno = -rc;
	return NULL;
}

/* The summary as a run starts. */
static json_t *new_summary(const struct ct_scenario *sc)
{
	char started[32];
	iso_now(started, sizeof(started));
	json_t *summary =
	    json_pack("{s:s, s:s, s:s, s:s, s:[], s:[], s:[]}", "ctload_version", CT_VERSION,
		      "scenario", sc->scenario.name ? sc->scenario.name : "", "topology",
		      ct_topology_name(sc->scenario.topology), "started", started, "steps",
		      "thresholds", "expect");
	if (summary && sc->server.target)
		json_object_set_new(summary, "target", json_string(sc->server.target));
	return summary;
}

struct ct_rundir *ct_rundir_memory(const struct ct_scenario *sc)
{
	struct ct_rundir *rd = calloc(1, sizeof(*rd));
	if (rd && !(rd->summary = new_summary(sc))) {
		free(rd);
		rd = NULL;
	}
	if (!rd)
		ct_error("out of memory for the run's summary");
	return rd;
}

const char *ct_rundir_path(const struct ct_rundir *rd)
{
	return rd->path;
}

int ct_rundir_sample(struct ct_rundir *rd, const json_t *sample)
{
	if (!rd->path)
		return 0;
	if (json_dumpf(sample, rd->ts, JSON_COMPACT | JSON_REAL_PRECISION(6)) < 0 ||
	    fputc('\n', rd->ts) == EOF || fflush(rd->ts) == EOF) {
		int rc = errno ? -errno : -EIO;
		ct_error("cannot write %s/timeseries.jsonl: %s", rd->path, strerror(-rc));
		return rc;
	}
	return 0;
}

json_t *ct_rundir_summary(struct ct_rundir *rd)
{
	return rd->summary;
}

int ct_rundir_flush(struct ct_rundir *rd)
{
	if (!rd->path) /* in memory: nothing to write */
		return 0;
	char *tmp = join(rd->path, "summary.json.tmp"), *dst = join(rd->path, "summary.json");
	int rc = 0;
	char finished[32];

	if (!tmp || !dst) {
		rc = -ENOMEM;
		goto out;
	}
	iso_now(finished, sizeof(finished));
	json_object_set_new(rd->summary, "finished", json_string(finished));
	if (json_dump_file(rd->summary, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0) {
		rc = -EIO;
		ct_error("cannot write %s", tmp);
		goto out;
	}
	if (rename(tmp, dst) < 0) {
		rc = -errno;
		ct_error("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
	}
out:
	free(tmp);
	free(dst);
	return rc;
}

void ct_rundir_close(struct ct_rundir *rd)
{
	if (!rd)
		return;
	if (rd->summary)
		ct_rundir_flush(rd);
	if (rd->ts)
		fclose(rd->ts);
	json_decref(rd->summary);
	free(rd->path);
	free(rd);
}
