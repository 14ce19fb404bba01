/* log: one line per event on stderr, "PROGRAM[PID]: LEVEL: text".
 * Per-report lines start with the report id ("ID: what happened") so that
 * `grep ID` follows a report through every daemon. */
#ifndef MINYI_LOG_H
#define MINYI_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Set the program name shown on every line (borrowed; must outlive logging). */
void log_init(const char *program);
/* Lines below this level are dropped (default INFO; MINYI_DEBUG=1 -> DEBUG). */
void log_set_level(enum log_level level);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
