/* report — the entry point (see report.h): check that DIR is a run
 * directory, read it once, then write report.html and timeseries.csv, each
 * through a temporary file. */
#include "loadgen/report/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/report/report_int.h"

/* Write `path` through a temporary file and rename, so a reader never
 * sees half a file. */
static int write_atomic(struct ct_rep *r, const char *path, int (*fn)(struct ct_rep *, FILE *),
			struct ct_err *err)
{
	char *tmp = NULL;
	int rc = 0;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		ct_err_set(err, CT_EXIT_ENV, "cannot write %s: %s%s", path, strerror(errno),
			   errno == EACCES || errno == EROFS ? " (write elsewhere with --out FILE)"
							     : "");
		goto out;
	}
	rc = fn(r, f);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		ct_err_set(err, CT_EXIT_ENV, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		ct_err_set(err, CT_EXIT_ENV, "cannot rename %s to %s: %s", tmp, path,
			   strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

/* A directory with summary.json or timeseries.jsonl: 0, or -errno with err. */
static int check_run_dir(const char *run_dir, struct ct_err *err)
{
	struct stat st;

	if (stat(run_dir, &st) < 0) {
		int rc = -errno;
		ct_err_set(err, errno == ENOENT || errno == ENOTDIR ? CT_EXIT_USAGE : CT_EXIT_ENV,
			   "%s: %s", run_dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s is not a directory (give the run directory `ctload run` "
			   "wrote)",
			   run_dir);
		return -ENOTDIR;
	}
	char *ps = ct_rep_path(run_dir, "summary.json"),
	     *pt = ct_rep_path(run_dir, "timeseries.jsonl");
	bool has = ps && pt && (access(ps, F_OK) == 0 || access(pt, F_OK) == 0);
	free(ps);
	free(pt);
	if (!has) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s is not a run directory: it has neither summary.json nor "
			   "timeseries.jsonl",
			   run_dir);
		return -ENOTDIR;
	}
	return 0;
}

/* `name` beside the file at `path`. NULL on ENOMEM. */
static char *beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	char *p = NULL;

	if (!slash)
		return strdup(name);
	if (asprintf(&p, "%.*s/%s", (int)(slash - path), path, name) < 0)
		return NULL;
	return p;
}

/* Where the page and the CSV files go: html_path (NULL: DIR/report.html),
 * the CSV beside it; with html_path, links to the run's files are absolute. */
static int out_paths(struct ct_rep *r, const char *html_path, char **html, char **csv, char **hist)
{
	if (html_path) {
		char *abs = realpath(r->dir, NULL);
		if (abs && asprintf(&r->link_base, "file://%s/", abs) < 0)
			r->link_base = NULL;
		free(abs);
	}
	*html = html_path ? strdup(html_path) : ct_rep_path(r->dir, "report.html");
	if (!*html)
		return -ENOMEM;
	*csv = beside(*html, "timeseries.csv");
	*hist = beside(*html, "connect_hist.csv");
	return *csv && *hist ? 0 : -ENOMEM;
}

int ct_report_write(const char *run_dir, const char *html_path, struct ct_err *err)
{
	struct ct_rep r = {0};
	char *html = NULL, *csv = NULL, *hist = NULL;
	int rc;

	if ((rc = check_run_dir(run_dir, err)) < 0)
		return rc;
	if ((rc = ct_rep_load(&r, run_dir)) < 0 || (rc = ct_rep_steps_build(&r)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "report of %s: %s", run_dir, strerror(-rc));
		goto out;
	}
	if ((rc = out_paths(&r, html_path, &html, &csv, &hist)) < 0)
		goto out;
	if ((rc = write_atomic(&r, html, ct_rep_write_html, err)) < 0 ||
	    (rc = write_atomic(&r, csv, ct_rep_write_csv, err)) < 0)
		goto out;
	rc = write_atomic(&r, hist, ct_rep_write_hist_csv, err);
out:
	free(html);
	free(csv);
	free(hist);
	ct_rep_free(&r);
	return rc;
}

int ct_report_build(const char *run_dir, struct ct_err *err)
{
	return ct_report_write(run_dir, NULL, err);
}
