// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control_client.h"
#include "loader.h"
#include "msg.h"

int control_daemon_pid(void)
{
	char path[64], comm[32] = "";
	FILE *f;
	int pid;

	if (loader_pinned_daemon(&pid) || pid <= 0 || pid == getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0; /* gone already */
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "bima\n") ? 0 : pid; /* else the pid was reused */
}

bool control_daemon_alive(void)
{
	int pid;

	return !loader_pinned_daemon(&pid) && pid > 0 && !kill(pid, 0);
}

/* Wait up to 30 s for pid to exit. */
static int wait_exit(int pid)
{
	for (int waited = 0; !kill(pid, 0) && waited < 600; waited++)
		usleep(50000);
	if (!kill(pid, 0)) {
		pr_err("bima (pid %d) did not stop within 30 s", pid);
		return -ETIMEDOUT;
	}
	pr_info("stopped bima (pid %d)", pid);
	return 0;
}

/*
 * No daemon listens on the control socket at path (or NULL: none is used):
 * the pid of a daemon that runs without it, which is then sent signal, said
 * so; or 0.
 */
static int daemon_without_socket(const char *path, const char *signal)
{
	int pid = control_daemon_pid();

	if (pid && path)
		pr_notice("no bima daemon listens on %s, but bima (pid %d) runs (with another "
			  "--control, or none): sending it %s",
			  path, pid, signal);
	else if (pid)
		pr_notice("bima (pid %d) runs without a control socket (--control none): sending "
			  "it %s",
			  pid, signal);
	return pid;
}

int control_stop(const char *path)
{
	int pid = 0, err = -ENOENT;

	if (path)
		err = control_request(path, "stop", CONTROL_STOP_MS, true, NULL, &pid);
	if (!err)
		return wait_exit(pid);
	if (err != -ENOENT)
		return err;
	pid = daemon_without_socket(path, "SIGTERM");
	if (!pid) {
		pr_info("no bima daemon runs");
		return 0;
	}
	if (kill(pid, SIGTERM)) {
		err = -errno;
		pr_err("cannot stop bima (pid %d): %s", pid, strerror(-err));
		return err;
	}
	return wait_exit(pid);
}

/* A snapshot of a daemon without a control socket: SIGUSR1, then poll the pinned anchors. */
static int snapshot_by_signal(int pid, FILE *out)
{
	struct bima_anchor before, now = {};
	int waited;

	if (loader_pinned_last_anchor(&before)) {
		pr_err("no bima daemon runs: start one with `bima run`");
		return 1;
	}
	if (kill(pid, SIGUSR1)) {
		pr_err("cannot signal bima (pid %d): %s", pid, strerror(errno));
		return 1;
	}
	for (waited = 0; waited < 300; waited++) {
		usleep(100000);
		if (!loader_pinned_last_anchor(&now) && now.id > before.id)
			break;
	}
	if (now.id <= before.id) {
		pr_err("bima (pid %d) recorded no anchor within 30 s (is its TPM answering?)", pid);
		return 1;
	}
	control_format_anchor(out, &now);
	return 0;
}

int control_snapshot(const char *path, FILE *out)
{
	int err = -ENOENT, pid = 0;

	if (path)
		err = control_request(path, "snapshot", CONTROL_SNAPSHOT_WAIT_MS, false, out, &pid);
	if (err != -ENOENT)
		return err ? 1 : 0;
	pid = daemon_without_socket(path, "SIGUSR1");
	if (pid)
		return snapshot_by_signal(pid, out);
	if (path)
		pr_err("no bima daemon listens on %s (is `bima run` running?)", path);
	else
		pr_err("no bima daemon runs: start one with `bima run`");
	return 1;
}
