/* logs — where the lab's server.log and events.log go, and events.log's
 * lines: wall time, source ("lab", "kernel"), text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/host/labstate.h"
#include "loadgen/lab/lab_int.h"

void ct_lab_logs_line(struct ct_lab *lab, double wall, const char *source, const char *text)
{
	char stamp[64];
	time_t secs = (time_t)wall;
	struct tm tm;

	if (!lab->events)
		return;
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(lab->events, "%s.%03dZ %s: %s\n", stamp, (int)((wall - (double)secs) * 1000),
		source, text);
	fflush(lab->events);
}

void ct_lab_event(struct ct_lab *lab, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ct_debug("lab: %s", text);
	ct_lab_logs_line(lab, ct_wall_s(), "lab", text);
}

int ct_lab_logs_open(struct ct_lab *lab, const char *run_dir, struct ct_err *err)
{
	int ret;

	if (run_dir) {
		snprintf(lab->server_log, sizeof(lab->server_log), "%s/server.log", run_dir);
		snprintf(lab->events_log, sizeof(lab->events_log), "%s/events.log", run_dir);
	} else {
		snprintf(lab->server_log, sizeof(lab->server_log), "%s/%s.server.log",
			 CT_LABSTATE_DIR, lab->id);
		snprintf(lab->events_log, sizeof(lab->events_log), "%s/%s.events.log",
			 CT_LABSTATE_DIR, lab->id);
		if ((ret = ct_labstate_add_file(lab->st, lab->server_log)) < 0 ||
		    (ret = ct_labstate_add_file(lab->st, lab->events_log)) < 0) {
			ct_err_set(err, CT_EXIT_ENV, "recording lab logs: %s", strerror(-ret));
			return ret;
		}
	}
	lab->events = fopen(lab->events_log, "ae");
	if (!lab->events) {
		ct_err_set(err, CT_EXIT_ENV, "opening %s: %s", lab->events_log, strerror(errno));
		return -errno;
	}
	return 0;
}

void ct_lab_logs_close(struct ct_lab *lab)
{
	if (lab->events)
		fclose(lab->events);
	lab->events = NULL;
}
