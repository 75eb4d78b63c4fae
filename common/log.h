/* log — messages to stderr, prefixed with the program name and a level.
 *
 * Errors that reach the user say what failed, on what, and what to do.
 * The verbosity is set once by main() before any thread starts. */
#pragma once

enum ct_log_level {
	CT_LOG_ERROR = 0,
	CT_LOG_WARN,
	CT_LOG_NOTE,
	CT_LOG_INFO,
	CT_LOG_DEBUG,
};

/* Messages above this level are dropped (default CT_LOG_NOTE). */
void ct_log_set_level(enum ct_log_level level);
enum ct_log_level ct_log_get_level(void);

void ct_log(enum ct_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ct_error(...) ct_log(CT_LOG_ERROR, __VA_ARGS__)
#define ct_warn(...)  ct_log(CT_LOG_WARN, __VA_ARGS__)
#define ct_note(...)  ct_log(CT_LOG_NOTE, __VA_ARGS__)
#define ct_info(...)  ct_log(CT_LOG_INFO, __VA_ARGS__)
#define ct_debug(...) ct_log(CT_LOG_DEBUG, __VA_ARGS__)
