#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* Written once by main() before threads start, read-only afterwards. */
static enum ct_log_level max_level = CT_LOG_NOTE;

void ct_log_set_level(enum ct_log_level level)
{
	max_level = level;
}

enum ct_log_level ct_log_get_level(void)
{
	return max_level;
}

void ct_log(enum ct_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "note", "info", "debug"};
	int saved = errno;
	char line[2048];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per message so lines from threads do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, names[level], line);
	errno = saved;
}
