/* notify: tells systemd how a daemon is doing (sd_notify), the only module
 * that includes <systemd/sd-daemon.h>.  Outside a Type=notify unit
 * (NOTIFY_SOCKET unset: a terminal, `minyi up`, the tests) every call does
 * nothing. */
#ifndef MINYI_NOTIFY_H
#define MINYI_NOTIFY_H

/* "READY=1" plus a STATUS= line; call once the ready line is logged. */
void notify_ready(const char *status);
/* "RELOADING=1" before a reload, "READY=1" after it (done = 0 / 1). */
void notify_reloading(int done);
/* "STOPPING=1" once a stop was asked for. */
void notify_stopping(void);

#endif
