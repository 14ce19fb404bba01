/* log.c: stderr logging, one line per call, written with a single write(2)
 * so that lines from several processes sharing a pipe never interleave. */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_program = "minyi";
static enum log_level log_min = LOG_LEVEL_INFO;

void log_init(const char *program)
{
    log_program = program;
    const char *dbg = getenv("MINYI_DEBUG");
    if (dbg && *dbg && strcmp(dbg, "0") != 0)
        log_min = LOG_LEVEL_DEBUG;
}

void log_set_level(enum log_level level)
{
    log_min = level;
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[4096];
    if (level < log_min)
        return;
    int n = snprintf(line, sizeof line, "%s[%d]: %s: ", log_program, (int)getpid(),
                     names[level]);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)  /* keep it one line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

#define LOG_FN(fn, lvl)                          \
    void fn(const char *fmt, ...)                \
    {                                            \
        va_list ap;                              \
        va_start(ap, fmt);                       \
        log_emit(lvl, fmt, ap);                  \
        va_end(ap);                              \
    }
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)
