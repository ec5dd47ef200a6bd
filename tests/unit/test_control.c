// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (user/daemon/control.c) over real Unix sockets, with a
 * server process that runs control_serve() in a loop as the daemon does,
 * and fake status and snapshot answers: the modes of the directory, the
 * socket and its lock; status lines; an unknown request, a line too long,
 * a client that sends nothing (answered at its deadline while others are
 * served), a client too many; a snapshot answered with its anchor, one
 * refused, one still waiting when the daemon stops; a second server
 * refused while one listens; a stale socket replaced; a file of another
 * kind and a directory others can write refused, and a server that
 * finds the lock held (another is starting); stop answered, the
 * connection held until the server is gone, the socket removed. As root,
 * a peer of uid 65534 is refused by SO_PEERCRED even where the file would
 * let it in (the server's warning names its pid and uid), and so is root of
 * a user namespace that uid 65534 made; it is refused by the file mode
 * where the file would not let it in; and a socket served by uid 65534 is
 * not trusted by the client. Not as root, the test runs as root of a user
 * namespace of its own, and says which checks that leaves out.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "check.h"
#include "control.h"
#include "fake_status.h"

static char path[100], errlog[256], dir[128];
static bool root; /* as root, not root of a user namespace of our own */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * The server: snapshot requests are answered, in turn, with anchor 7 after
 * 300 ms, refused ("the log cannot be written"), and then left waiting.
 */
static int serve(int ready_fd)
{
	struct bima_anchor a = { .id = 7, .seq = 9, .entries = 3, .segment = 2, .pcr = 10 };
	struct control *ctl;
	long long due = 0;
	int asks = 0;

	int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (fd < 0 || dup2(fd, 2) < 0 || control__open(path, &ctl))
		return 1;
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	for (;;) {
		struct pollfd p = { .fd = control_fd(ctl), .events = POLLIN };

		poll(&p, 1, 100);
		if (control_serve(ctl, fake_status, NULL))
			break;
		if (due && now_ms() >= due) {
			control_snapshot_done(ctl, 7, &a, NULL);
			due = 0;
		}
		if (asks < 2 && control_snapshot_asked(ctl) && ++asks == 1) {
			control_snapshot_started(ctl, 7);
			due = now_ms() + 300;
		} else if (asks == 2 && control_snapshot_asked(ctl)) {
			control_snapshot_done(ctl, 0, NULL, "the log cannot be written");
			asks++;
		}
	}
	control__free(ctl);
	return 0;
}

/* SIGKILL a child of ours and reap it; never a pid below 1 (kill(-1) would hit every process). */
static void kill_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static pid_t start_server(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that dies takes its server along */
		close(p[0]);
		_exit(serve(p[1]));
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) { /* it could not listen */
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%.99s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Read what the server sends until it closes, or timeout_ms; the time it took in *ms. */
static void read_all(int fd, char *out, size_t size, int timeout_ms, long long *ms)
{
	long long start = now_ms();
	size_t len = 0;
	ssize_t n;

	out[0] = '\0';
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms - (int)(now_ms() - start)) <= 0)
			break;
		n = recv(fd, out + len, size - 1 - len, 0);
		if (n <= 0)
			break; /* closed; or reset, with data unread */
		len += n;
		out[len] = '\0';
	}
	if (ms)
		*ms = now_ms() - start;
}

/* One request on a connection of its own; the whole reply in out. */
static void raw_request(const char *req, size_t len, char *out, size_t size)
{
	int fd = raw_connect();

	out[0] = '\0';
	if (fd < 0)
		return;
	if (send(fd, req, len, MSG_NOSIGNAL) < 0)
		fprintf(stderr, "send: %s\n", strerror(errno));
	read_all(fd, out, size, 5000, NULL);
	close(fd);
}

static bool log_has(const char *s)
{
	char text[16384] = "";
	FILE *f = fopen(errlog, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	return strstr(text, s) != NULL;
}

/* As uid 65534 in a child: run fn, and hand back its result through a pipe. */
static int as_nobody(int (*fn)(char *out, size_t size), char *out, size_t size, pid_t *child)
{
	int p[2], status = -1;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		char text[4096] = "";
		int r;

		close(p[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(99);
		prctl(PR_SET_DUMPABLE, 1); /* its /proc/self/uid_map is its own again */
		r = fn(text, sizeof(text));
		if (write(p[1], text, strlen(text)) < 0)
			_exit(98);
		_exit(r < 0 ? -r : r);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	*child = pid;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int nobody_raw(char *out, size_t size)
{
	int fd = raw_connect();

	if (fd < 0)
		return -fd;
	send(fd, "status\n", 7, MSG_NOSIGNAL); /* it may be refused, and closed, before */
	read_all(fd, out, size, 5000, NULL);
	return 0;
}

static bool own_userns(void);

/* Root of a user namespace of its own, which uid 65534 made. */
static int nobody_userns_raw(char *out, size_t size)
{
	if (!own_userns() || getuid() != 0)
		return 97;
	return nobody_raw(out, size);
}

static int nobody_client(char *out, size_t size)
{
	int pid;

	return control_request(path, "status", 5000, false, NULL, &pid);
}

/* The peer checks, as root: SO_PEERCRED, the file mode, and the client's check of the server. */
static void check_peers(const char *dir)
{
	char out[4096], msg[128], evil[300];
	pid_t child, pid;
	int r, fd;

	chmod(path, 0666); /* the file lets anyone in: SO_PEERCRED must keep them out */
	r = as_nobody(nobody_raw, out, sizeof(out), &child);
	CHECK_EQ(r, 0, "uid 65534 connects once the file is 0666");
	CHECK(strstr(out, "error: permission denied: only root may use ") &&
		      strstr(out, "(you are uid 65534)\n"),
	      "and SO_PEERCRED refuses it, saying so in one line", "\"%s\"", out);
	CHECK(!strstr(out, "pid:"), "and it is told nothing else", "\"%s\"", out);
	snprintf(msg, sizeof(msg), "control socket: refused pid %d (uid 65534, gid 65534)",
		 (int)child);
	CHECK(log_has(msg), "the server's warning names the peer's pid and uid", "no \"%s\"", msg);
	usleep(1100000); /* past the one-warning-a-second limit */
	r = as_nobody(nobody_userns_raw, out, sizeof(out), &child);
	CHECK_EQ(r, 0, "uid 65534 becomes root of a user namespace of its own, and connects");
	CHECK(strstr(out, "(you are uid 65534)\n"),
	      "but SO_PEERCRED shows the server uid 65534: refused", "\"%s\"", out);
	snprintf(msg, sizeof(msg), "control socket: refused pid %d (uid 65534, gid 65534)",
		 (int)child);
	CHECK(log_has(msg), "and named in a warning", "no \"%s\"", msg);
	chmod(path, 0600);
	r = as_nobody(nobody_client, out, sizeof(out), &child);
	CHECK_EQ(r, EACCES, "with the file 0600, uid 65534 cannot even connect (EACCES)");

	/* A socket another user serves: the client does not trust it. */
	snprintf(evil, sizeof(evil), "%s/evil", dir);
	mkdir(evil, 0777);
	chmod(evil, 0777);
	strcat(evil, "/control");
	pid = fork();
	if (!pid) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(a.sun_path, sizeof(a.sun_path), "%.99s", evil);
		umask(0);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4))
			_exit(1);
		fd = accept(fd, NULL, NULL);
		if (send(fd, "ok\n", 3, 0) < 0)
			_exit(1);
		sleep(5);
		_exit(0);
	}
	for (int i = 0; i < 50 && access(evil, F_OK); i++)
		usleep(20000);
	r = control_request(evil, "status", 3000, false, NULL, &fd);
	CHECK_EQ(r, -EPERM, "the client does not trust a socket that uid 65534 serves");
	kill_child(pid);
}

/* Not root: become root of a user namespace of our own, which the server trusts as root. */
static bool own_userns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int fd;

	if (unshare(CLONE_NEWUSER))
		return false;
	fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd >= 0 && (write(fd, "deny", 4) < 0 || close(fd)))
		return false;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) < 0 || close(fd))
		return false;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	fd = open("/proc/self/gid_map", O_WRONLY);
	return fd >= 0 && write(fd, map, strlen(map)) >= 0 && !close(fd);
}
/* A request as the bima commands make it; what the client printed in *text, to free. */
static int client_request(const char *req, bool until_closed, char **text, int *pid)
{
	size_t len;
	FILE *f = open_memstream(text, &len);
	int r = control_request(path, req, 5000, until_closed, f, pid);

	fclose(f);
	return r;
}

static char tmpl[] = "/tmp/bima-test-control-XXXXXX";
static pid_t owner; /* the test's process: a forked child removes nothing */

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p) && errno != ENOENT ? -1 : 0;
}

/* At exit: the cases' directories, their sockets, locks and logs. */
static void remove_tree(void)
{
	if (getpid() == owner && nftw(tmpl, remove_one, 16, FTW_DEPTH | FTW_PHYS))
		printf("# %s is left: %s\n", tmpl, strerror(errno));
}

/*
 * Once per run: a deadline, root (or root of a user namespace of our own),
 * and the directory that holds each case's, removed at exit.
 */
static const char *prepare(void)
{
	static bool done;

	if (done)
		return tmpl;
	done = true;
	alarm(120); /* a test that hangs fails */
	root = geteuid() == 0;
	if (!root && !own_userns()) {
		printf("skip - not root, and no user namespace to be root in: %s\n",
		       strerror(errno));
		exit(77);
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpl))
		exit(1);
	owner = getpid();
	atexit(remove_tree);
	if (chmod(tmpl, 0755)) /* 0755: uid 65534 may come in */
		exit(1);
	return tmpl;
}

/* A directory of the case's own: the socket at run/control in it, the server's stderr beside. */
static void fresh(void)
{
	snprintf(dir, sizeof(dir), "%s/%s", prepare(), check_case);
	if (mkdir(dir, 0755) || chmod(dir, 0755))
		exit(1);
	snprintf(path, sizeof(path), "%.87s/run/control", dir);
	snprintf(errlog, sizeof(errlog), "%s/server.err", dir);
}

/* A fresh directory, and a server listening in it; a test whose server cannot listen stops. */
static pid_t fresh_server(void)
{
	pid_t server;

	fresh();
	server = start_server();
	if (server <= 0) {
		printf("# the server does not listen at %s\n", path);
		exit(1);
	}
	return server;
}

/* Places a server refuses; a client where no server is. */
static void test_refused(void)
{
	struct control *second = NULL;
	char other[300];
	struct stat st;
	int pid;

	fresh();
	snprintf(other, sizeof(other), "%s/open", dir);
	mkdir(other, 0777);
	chmod(other, 0777);
	strcat(other, "/control");
	CHECK_EQ(control__open(other, &second), -EPERM, "a directory others can write is refused");
	snprintf(other, sizeof(other), "%s/file", dir);
	mkdir(other, 0755);
	strcat(other, "/control");
	close(open(other, O_CREAT | O_WRONLY, 0600));
	CHECK_EQ(control__open(other, &second), -ENOTSOCK,
		 "a file that is not a socket is not replaced");
	CHECK(!stat(other, &st) && S_ISREG(st.st_mode), "and stays as it was", "mode %o",
	      st.st_mode);
	CHECK_EQ(control_request(path, "status", 1000, false, NULL, &pid), -ENOENT,
		 "a client finds no daemon where there is no socket (-ENOENT)");
}

/* The modes of the directory, the socket and its lock. */
static void test_listen(void)
{
	char other[300];
	struct stat st;
	pid_t server;

	fresh();
	server = start_server();
	CHECK(server > 0, "the server listens", "%d", server);
	if (server <= 0)
		return;
	snprintf(other, sizeof(other), "%s/run", dir);
	CHECK(!stat(other, &st) && (st.st_mode & 07777) == 0755,
	      "the missing directory was created 0755", "mode %o", st.st_mode & 07777);
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600,
	      "the socket is 0600", "mode %o", st.st_mode);
	strcat(other, "/control.lock");
	CHECK(!stat(other, &st) && (st.st_mode & 07777) == 0600, "its lock file is 0600", "mode %o",
	      st.st_mode & 07777);
	kill_child(server);
}

static void test_status(void)
{
	pid_t server = fresh_server();
	char out[8192], *text = NULL;
	int r, pid;

	r = client_request("status", false, &text, &pid);
	CHECK_EQ(r, 0, "status: ok");
	CHECK_EQ(pid, server, "the client learns the server's pid by SO_PEERCRED");
	snprintf(out, sizeof(out),
		 "pid: %d\nlog-dir: /var/lib/bima\nepoch: epoch-3-1\n"
		 "segment: /var/lib/bima/epoch-3-1/segment-000002.bin\npcr: 10\nload: 42-abcd\n"
		 "entries: 1234\nlogged: 1200\nlost: 5\nunextended-bytes: 77\nunextended-entries: "
		 "3\n"
		 "extend-lag-ms: 1041\nqueued-bytes: "
		 "88\nuncovered-records: 9\nheld-bytes: 4096\ntpm: reachable\nreconciling: yes\n"
		 "reconcile-read-entries: 5120\nreconcile-total-entries: 9876\nsnapshot-pending: "
		 "no\nlast-snapshot: "
		 "6\nfail-closed: no\n",
		 (int)server);
	CHECK_STR(text, out, "status: every line, the final ok not among them");
	free(text);
	raw_request("status\n", 7, out, sizeof(out));
	CHECK(strlen(out) > 3 && !strcmp(out + strlen(out) - 3, "ok\n"),
	      "on the wire, the last line is ok", "\"%s\"", out);
	raw_request("status\r\n", 8, out, sizeof(out));
	CHECK(!strncmp(out, "pid: ", 5), "a CRLF line is taken too", "\"%s\"", out);
	kill_child(server);
}

/* An unknown request; a line too long. */
static void test_requests(void)
{
	pid_t server = fresh_server();
	char out[8192], flood[4096];
	int pid;

	raw_request("reboot\n", 7, out, sizeof(out));
	CHECK_STR(out, "error: unknown request \"reboot\" (status, snapshot or stop)\n",
		  "an unknown request: one error line");
	CHECK_EQ(control_request(path, "frobnicate", 5000, false, NULL, &pid), 1,
		 "which the client reports as 1");
	memset(flood, 'x', sizeof(flood));
	raw_request(flood, sizeof(flood), out, sizeof(out));
	CHECK_STR(out, "error: a request is one line of at most 63 bytes\n",
		  "4096 bytes without a newline: refused at 63");
	kill_child(server);
}

/* Clients that send nothing; a client too many. */
static void test_clients(void)
{
	pid_t server = fresh_server();
	int idle[CONTROL_CLIENTS_MAX], r, pid;
	char out[8192];
	long long ms;

	/* Clients that send nothing hold a slot until their deadline, and no more. */
	for (int i = 0; i < 5; i++)
		idle[i] = raw_connect();
	usleep(300000);
	ms = now_ms();
	r = control_request(path, "status", 5000, false, NULL, &pid);
	ms = now_ms() - ms;
	CHECK(r == 0 && ms < 1000, "status is answered while 5 clients send nothing",
	      "r %d after %lld ms", r, ms);
	read_all(idle[0], out, sizeof(out), 5000, &ms);
	CHECK_STR(out, "error: no request line within 2000 ms\n",
		  "a client that sends nothing is told so");
	CHECK(ms >= 1500 && ms < 3000, "at its deadline, 2 s after it connected",
	      "after %lld ms more", ms + 300);
	for (int i = 0; i < 5; i++)
		close(idle[i]);
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		idle[i] = raw_connect();
	usleep(300000);
	raw_request("status\n", 7, out, sizeof(out));
	CHECK_STR(out, "error: busy: 16 clients are being served; try again\n",
		  "a client beyond the 16 being served is told busy");
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		close(idle[i]);
	usleep(300000); /* the server sees them go */
	CHECK_EQ(control_request(path, "status", 5000, false, NULL, &pid), 0,
		 "their slots are free again once they hang up");
	kill_child(server);
}

/* A second server, while one listens. */
static void test_second(void)
{
	pid_t server = fresh_server();
	struct control *second = NULL;
	struct stat st;
	int pid;

	CHECK_EQ(control__open(path, &second), -EADDRINUSE,
		 "a second server is refused while one listens");
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode), "and leaves its socket alone", "%s",
	      strerror(errno));
	CHECK_EQ(control_request(path, "status", 5000, false, NULL, &pid), 0,
		 "which still answers");
	kill_child(server);
}

/* A snapshot answered with its anchor (the server's first), then one refused (its second). */
static void test_snapshot(void)
{
	static const char anchor_line[] =
		"snapshot 7: 3 entries, segment 2 closed, kernel sequence number 9\n";
	pid_t server = fresh_server();
	char out[8192], *text = NULL;
	int r, pid;

	r = client_request("snapshot", false, &text, &pid);
	CHECK_EQ(r, 0, "snapshot: ok once the anchor is recorded");
	CHECK(text && !strncmp(text, anchor_line, strlen(anchor_line)) &&
		      strstr(text, "\n  quote: none"),
	      "with the anchor's lines", "\"%s\"", text);
	free(text);
	raw_request("snapshot\n", 9, out, sizeof(out));
	CHECK_STR(out, "error: snapshot not taken: the log cannot be written\n",
		  "a snapshot that cannot be taken: its cause");
	kill_child(server);
}

/* Peers of another uid, and a socket another user serves. */
static void test_peers(void)
{
	pid_t server = fresh_server();

	if (root)
		check_peers(dir);
	else
		printf("# not run (not root): a peer of another uid, refused by SO_PEERCRED "
		       "and by the file mode; a socket another user serves\n");
	kill_child(server);
}

/*
 * Stop answered, the connection held until the server is gone, the socket
 * removed; a snapshot still waiting (the server's third) is told so.
 */
static void test_stop(void)
{
	pid_t server = fresh_server();
	char out[8192], *text = NULL;
	int fd, r, pid, status;
	struct stat st;

	raw_request("snapshot\n", 9, out, sizeof(out)); /* the first, answered */
	raw_request("snapshot\n", 9, out, sizeof(out)); /* the second, refused */
	/* A snapshot still waiting when the server stops is told so. */
	fd = raw_connect();
	if (send(fd, "snapshot\n", 9, MSG_NOSIGNAL) != 9)
		exit(1);
	usleep(300000);
	r = client_request("stop", true, &text, &pid);
	CHECK_EQ(r, 0, "stop: ok, and the connection closed");
	snprintf(out, sizeof(out), "pid: %d\n", (int)server);
	CHECK_STR(text, out, "its line: the pid");
	free(text);
	waitpid(server, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server has stopped, cleanly",
	      "status %x", status);
	read_all(fd, out, sizeof(out), 2000, NULL);
	CHECK_STR(out, "error: the daemon stopped before it could answer\n",
		  "a snapshot still waiting is told the daemon stopped");
	close(fd);
	CHECK(stat(path, &st) && errno == ENOENT, "the socket is removed at exit", "%s",
	      strerror(errno));
}

/* A stale socket replaced; a server that finds the lock held. */
static void test_stale(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *second = NULL;
	char other[300];
	pid_t server;
	int fd, status, pid;

	fresh();
	snprintf(other, sizeof(other), "%s/run", dir);
	if (mkdir(other, 0755))
		exit(1);
	/* A socket left by a daemon that died: bound, never unlinked. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.99s", path);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "a stale socket is made");
	close(fd);
	CHECK_EQ(control_request(path, "status", 1000, false, NULL, &pid), -ENOENT,
		 "where no one listens: -ENOENT (no daemon)");
	server = start_server();
	if (!CHECK(server > 0, "a new server replaces the stale socket", "%d", server))
		return;
	CHECK(log_has("replaced ") && log_has(", the control socket of a daemon that is gone"),
	      "saying so", "in %s", errlog);
	CHECK_EQ(control_request(path, "status", 5000, false, NULL, &pid), 0, "and answers");
	kill_child(server); /* as a daemon killed: the socket stays */
	/* One that is starting holds the lock (the socket is still stale): a second waits its turn.
	 */
	snprintf(other, sizeof(other), "%s.lock", path);
	fd = open(other, O_RDWR);
	CHECK_EQ(flock(fd, LOCK_EX | LOCK_NB), 0, "the lock is free once the server is killed");
	CHECK_EQ(control__open(path, &second), -EADDRINUSE,
		 "while another holds the lock, a server is refused");
	close(fd);
	server = start_server();
	CHECK(server > 0, "the socket of a SIGKILLed server is replaced too", "%d", server);
	CHECK_EQ(control_request(path, "stop", 5000, true, NULL, &pid), 0, "which stops");
	if (server > 0)
		waitpid(server, &status, 0);
}

TEST_MAIN(CASE(refused), CASE(listen), CASE(status), CASE(requests), CASE(clients), CASE(second),
	  CASE(snapshot), CASE(peers), CASE(stop), CASE(stale))
