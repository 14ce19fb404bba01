/* notify.c: sd_notify calls for Type=notify units.  Failures are ignored:
 * systemd notices a daemon that never says READY=1 by its start timeout,
 * and there is nothing better a daemon could do about a lost datagram. */
#include "notify.h"
#include <stdio.h>
#include <systemd/sd-daemon.h>

void notify_ready(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status ? status : "ready");
    (void)sd_notify(0, msg);
}

void notify_reloading(int done)
{
    (void)sd_notify(0, done ? "READY=1" : "RELOADING=1");
}

void notify_stopping(void)
{
    (void)sd_notify(0, "STOPPING=1");
}
