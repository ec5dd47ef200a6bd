/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The service manager's readiness protocol (systemd's sd_notify, without
 * libsystemd): a datagram to the Unix socket $NOTIFY_SOCKET names, when it
 * is set. With Type=notify, systemd starts what is ordered after bima
 * (sysinit.target, and everything after it) only once bima says READY=1,
 * which it does once the hooks are attached and the log is open: nothing
 * that starts later runs unmeasured.
 */
#ifndef BIMA_NOTIFY_H
#define BIMA_NOTIFY_H

/* Send text ("READY=1", "STOPPING=1", ...); nothing without $NOTIFY_SOCKET. */
void notify(const char *text);

#endif
