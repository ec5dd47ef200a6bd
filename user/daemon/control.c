// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket, both ends (control.h). The daemon's end is driven by
 * its event loop: control_fd() is an epoll set of the listening socket and
 * the clients whose request is still being read, so the loop wakes for
 * them, and control_serve() then does what is ready without blocking. A
 * client whose request is read leaves the set: it waits for its answer
 * (a snapshot) or for the daemon to stop, and sends nothing that counts.
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "file.h"
#include "hashalg.h"
#include "metrics.h"
#include "msg.h"

#define CONTROL_BACKLOG 16
#define WARN_EVERY_MS 1000 /* refused peers: at most one warning a second */

enum client_state {
	CL_FREE,
	CL_READING,    /* its request is not yet whole */
	CL_WAIT_START, /* snapshot: waits for one to begin */
	CL_WAIT_DONE,  /* snapshot: waits for snap_id's anchor */
	CL_HELD,       /* stop: answered; closed when the daemon has stopped */
};

struct client {
	int fd;
	enum client_state state;
	long long deadline_ms;
	uint64_t snap_id; /* CL_WAIT_DONE */
	size_t len;
	char line[CONTROL_LINE_MAX];
};

struct control {
	struct sockaddr_un addr;
	int lfd, epfd, lock_fd;
	dev_t dev; /* the socket file bound, so that only it is removed */
	ino_t ino;
	long long warned_ms;
	unsigned long unwarned; /* refusals not warned about since */
	struct client cl[CONTROL_CLIENTS_MAX];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int make_addr(const char *path, struct sockaddr_un *addr)
{
	*addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/* The directory of the socket: made if missing; root's, and writable by root alone. */
static int check_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		pr_err("--control %s: a path in a directory of its own, such as %s", path,
		       CONTROL_DEFAULT);
		return -EINVAL;
	}
	*slash = '\0';
	err = mkdir(dir, 0755) && errno != EEXIST ? -errno : file_root_dir(dir, &st);
	if (err && err != -EPERM) {
		pr_err("control socket: %s: %s", dir, strerror(-err));
		return err;
	}
	if (err) {
		pr_err("control socket: %s must be a directory that root owns and no one else can "
		       "write (it is %s, uid %u, mode %04o): another user could replace the "
		       "socket",
		       dir, S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
		       (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/*
 * Whether a daemon listens on addr: 1 (with its pid, or 0 if its backlog
 * is full), 0 if nothing does (no file, or a socket nobody listens on), or
 * -ENOTSOCK for a file of another kind.
 */
static int listener(const struct sockaddr_un *addr, int *pid)
{
	struct ucred cr = {};
	socklen_t len = sizeof(cr);
	struct stat st;
	int fd, r;

	*pid = 0;
	if (lstat(addr->sun_path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	if (!r && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		*pid = cr.pid;
	r = !r || errno == EAGAIN; /* EAGAIN: it listens, its backlog is full */
	close(fd);
	return r;
}

static int refuse_second(const char *path, int pid)
{
	if (pid)
		pr_err("a bima daemon (pid %d) already runs and listens on %s: not starting a "
		       "second one (`bima stop` stops it)",
		       pid, path);
	else
		pr_err("a bima daemon already runs and listens on %s: not starting a second one "
		       "(`bima stop` stops it)",
		       path);
	return -EADDRINUSE;
}

/* Take PATH.lock, which a running daemon holds; or name that daemon. */
static int take_lock(struct control *ctl, const char *path)
{
	char lock[sizeof(ctl->addr.sun_path) + 8];
	int pid, err;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	ctl->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ctl->lock_fd >= 0 && !flock(ctl->lock_fd, LOCK_EX | LOCK_NB))
		return 0;
	err = -errno;
	if (err != -EWOULDBLOCK) {
		pr_err("control socket: %s: %s", lock, strerror(-err));
		return err;
	}
	if (listener(&ctl->addr, &pid) > 0)
		return refuse_second(path, pid);
	pr_err("another bima daemon holds %s (it is starting, or stopping): not starting a "
	       "second one",
	       lock);
	return -EADDRINUSE;
}

static int bind_listen(struct control *ctl, const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN };
	bool bound = false;
	struct stat st;
	mode_t mask;
	int err;

	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->lfd < 0)
		goto fail;
	mask = umask(0177); /* the socket is made 0600 */
	bound = !bind(ctl->lfd, (const struct sockaddr *)&ctl->addr, sizeof(ctl->addr));
	umask(mask);
	if (!bound || chmod(path, 0600) || stat(path, &st) || listen(ctl->lfd, CONTROL_BACKLOG))
		goto fail;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0 || epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev))
		goto fail;
	return 0;
fail:
	err = -errno;
	pr_err("control socket %s: %s", path, strerror(-err));
	if (bound)
		unlink(path);
	return err;
}

int control__open(const char *path, struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int err, pid;

	if (!ctl)
		return -ENOMEM;
	ctl->lfd = ctl->epfd = ctl->lock_fd = -1;
	err = make_addr(path, &ctl->addr);
	if (err)
		pr_err("--control %s: longer than a socket's path can be (%zu bytes)", path,
		       sizeof(ctl->addr.sun_path) - 1);
	err = err ?: check_dir(path) ?: take_lock(ctl, path);
	if (err)
		goto fail;
	err = listener(&ctl->addr, &pid);
	if (err == -ENOTSOCK)
		pr_err("%s exists and is not a socket: not replacing it", path);
	else if (err > 0)
		err = refuse_second(path, pid);
	if (err)
		goto fail;
	if (!unlink(path))
		pr_notice("replaced %s, the control socket of a daemon that is gone", path);
	err = bind_listen(ctl, path);
	if (err)
		goto fail;
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		ctl->cl[i].fd = -1;
	*out = ctl;
	return 0;
fail:
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	if (ctl->lock_fd >= 0)
		close(ctl->lock_fd);
	free(ctl);
	return err;
}

int control_fd(const struct control *ctl)
{
	return ctl->epfd;
}

/* Send a reply in one go, not waiting: what a client cannot take now, it does not get. */
static void send_text(int fd, const char *text, size_t len)
{
	ssize_t n = send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n != (ssize_t)len)
		pr_debug("control socket: a reply of %zu bytes was cut to %zd", len, n);
}

/* Send lines (may be empty) and the last one, "ok" or "error: CAUSE". */
static void reply(int fd, const char *lines, const char *fmt, ...)
{
	char text[CONTROL_REPLY_MAX];
	size_t len = snprintf(text, sizeof(text) - 80, "%s", lines);
	va_list ap;

	if (len >= sizeof(text) - 80) { /* too long: whole lines only */
		char *nl = memrchr(text, '\n', sizeof(text) - 81);

		len = nl ? (size_t)(nl + 1 - text) : 0;
	}
	va_start(ap, fmt);
	len += vsnprintf(text + len, sizeof(text) - len - 1, fmt, ap);
	va_end(ap);
	if (len > sizeof(text) - 2)
		len = sizeof(text) - 2;
	text[len++] = '\n';
	send_text(fd, text, len);
}

static void drop(struct control *ctl, struct client *cl)
{
	if (cl->state == CL_READING)
		epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	cl->fd = -1;
	cl->state = CL_FREE;
}

void control__free(struct control *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *cl = &ctl->cl[i];

		if (cl->state == CL_READING || cl->state == CL_WAIT_START ||
		    cl->state == CL_WAIT_DONE)
			reply(cl->fd, "", "error: the daemon stopped before it could answer");
		if (cl->state != CL_FREE)
			drop(ctl, cl);
	}
	if (!stat(ctl->addr.sun_path, &st) && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->addr.sun_path);
	close(ctl->lfd);
	close(ctl->epfd);
	close(ctl->lock_fd); /* PATH.lock stays: removing it would race with a new daemon */
	free(ctl);
}

/* A peer that is not root: told so, and named in a warning (at most one a second). */
static void refuse_peer(struct control *ctl, int fd, const struct ucred *cr)
{
	long long now = now_ms();

	reply(fd, "", "error: permission denied: only root may use %s (you are uid %u)",
	      ctl->addr.sun_path, (unsigned int)cr->uid);
	if (now - ctl->warned_ms < WARN_EVERY_MS) {
		ctl->unwarned++;
		return;
	}
	if (ctl->unwarned)
		pr_warn("control socket: refused pid %d (uid %u, gid %u): only root may use it "
			"(and %lu more refused since the last warning)",
			(int)cr->pid, (unsigned int)cr->uid, (unsigned int)cr->gid, ctl->unwarned);
	else
		pr_warn("control socket: refused pid %d (uid %u, gid %u): only root may use it",
			(int)cr->pid, (unsigned int)cr->uid, (unsigned int)cr->gid);
	ctl->warned_ms = now;
	ctl->unwarned = 0;
}

static struct client *free_slot(struct control *ctl)
{
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->cl[i].state == CL_FREE)
			return &ctl->cl[i];
	return NULL;
}

/* Take the connections waiting, at most CONTROL_CLIENTS_MAX a call. */
static void accept_clients(struct control *ctl)
{
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *cl;
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return; /* EAGAIN: none left; else the next round tries again */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
			close(fd);
			continue;
		}
		if (cr.uid != 0) {
			refuse_peer(ctl, fd, &cr);
			close(fd);
			continue;
		}
		cl = free_slot(ctl);
		ev.data.ptr = cl;
		if (!cl || epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			reply(fd, "", "error: busy: %d clients are being served; try again",
			      CONTROL_CLIENTS_MAX);
			close(fd);
			continue;
		}
		*cl = (struct client){ .fd = fd,
				       .state = CL_READING,
				       .deadline_ms = now_ms() + CONTROL_REQUEST_MS };
	}
}

static void status_lines(const struct control_status *st, char *text, size_t size)
{
	const char *epoch = strrchr(st->epoch_dir, '/');

	snprintf(text, size,
		 "pid: %d\n"
		 "log-dir: %s\n"
		 "epoch: %s\n"
		 "segment: %s\n"
		 "pcr: %u\n"
		 "load: %s\n"
		 "entries: %llu\n"
		 "logged: %llu\n"
		 "lost: %llu\n"
		 "unextended-bytes: %llu\n"
		 "unextended-entries: %llu\n"
		 "extend-lag-ms: %llu\n"
		 "queued-bytes: %llu\n"
		 "uncovered-records: %llu\n"
		 "held-bytes: %llu\n"
		 "tpm: %s\n"
		 "reconciling: %s\n"
		 "reconcile-read-entries: %llu\n"
		 "reconcile-total-entries: %llu\n"
		 "snapshot-pending: %s\n"
		 "last-snapshot: %llu\n"
		 "fail-closed: %s\n",
		 st->pid, st->log_dir, epoch ? epoch + 1 : st->epoch_dir, st->segment, st->pcr,
		 st->load_id, (unsigned long long)st->entries, (unsigned long long)st->logged,
		 (unsigned long long)st->lost, (unsigned long long)st->unextended,
		 (unsigned long long)st->unextended_entries, (unsigned long long)st->extend_lag_ms,
		 (unsigned long long)st->queued, (unsigned long long)st->uncovered,
		 (unsigned long long)st->held,
		 st->tpm_ok ? "reachable" : "unreachable (extends wait, retried with backoff)",
		 st->reconciling ? "yes" : "no", (unsigned long long)st->reconcile_read,
		 (unsigned long long)st->reconcile_total, st->snapshot_pending ? "yes" : "no",
		 (unsigned long long)st->last_snapshot, st->fail_closed ? "yes" : "no");
}

/* "metrics FORMAT": the status as metrics (metrics.h). */
static void metrics_reply(struct client *cl, control_status_fn fn, void *arg)
{
	char text[CONTROL_REPLY_MAX - 80] = "";
	struct control_status st = {};
	enum metrics_format fmt;
	FILE *f;

	if (metrics_parse_format(cl->line + 8, &fmt)) {
		reply(cl->fd, "",
		      "error: unknown metrics format \"%.*s\" (openmetrics or prometheus)",
		      CONTROL_LINE_MAX, cl->line + 8);
		return;
	}
	fn(arg, &st);
	f = fmemopen(text, sizeof(text), "w");
	if (!f) {
		reply(cl->fd, "", "error: %s", strerror(errno));
		return;
	}
	metrics_write(f, &st, fmt, time(NULL));
	fclose(f);
	reply(cl->fd, text, "ok");
}

/* A whole request line: answer it, or leave the client to wait. Returns true for stop. */
static bool handle(struct control *ctl, struct client *cl, control_status_fn fn, void *arg)
{
	char text[CONTROL_REPLY_MAX - 80];

	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, cl->fd, NULL); /* it has nothing more to say */
	if (!strncmp(cl->line, "metrics ", 8)) {
		metrics_reply(cl, fn, arg);
	} else if (!strcmp(cl->line, "status")) {
		struct control_status st = {};

		fn(arg, &st);
		status_lines(&st, text, sizeof(text));
		reply(cl->fd, text, "ok");
	} else if (!strcmp(cl->line, "snapshot")) {
		cl->state = CL_WAIT_START;
		cl->deadline_ms = now_ms() + CONTROL_SNAPSHOT_MS;
		return false;
	} else if (!strcmp(cl->line, "stop")) {
		snprintf(text, sizeof(text), "pid: %d\n", (int)getpid());
		reply(cl->fd, text, "ok");
		cl->state = CL_HELD;
		pr_info("stopping: asked through the control socket");
		return true;
	} else {
		reply(cl->fd, "", "error: unknown request \"%.*s\" (status, snapshot or stop)",
		      CONTROL_LINE_MAX, cl->line);
	}
	cl->state = CL_FREE; /* not in the epoll set any more */
	close(cl->fd);
	cl->fd = -1;
	return false;
}

/* Read what a client sent; a whole line is handled. Returns true for stop. */
static bool read_client(struct control *ctl, struct client *cl, control_status_fn fn, void *arg)
{
	ssize_t n = recv(cl->fd, cl->line + cl->len, sizeof(cl->line) - 1 - cl->len, MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) { /* gone before its request was whole */
		drop(ctl, cl);
		return false;
	}
	cl->len += n;
	cl->line[cl->len] = '\0';
	nl = memchr(cl->line, '\n', cl->len);
	if (!nl && cl->len == sizeof(cl->line) - 1) {
		reply(cl->fd, "", "error: a request is one line of at most %d bytes",
		      CONTROL_LINE_MAX - 1);
		drop(ctl, cl);
		return false;
	}
	if (!nl)
		return false;
	*nl = '\0';
	if (nl > cl->line && nl[-1] == '\r')
		nl[-1] = '\0';
	return handle(ctl, cl, fn, arg);
}

bool control_serve(struct control *ctl, control_status_fn fn, void *arg)
{
	struct epoll_event ev[CONTROL_CLIENTS_MAX + 1];
	long long now;
	bool stop = false;
	int n;

	if (!ctl)
		return false;
	n = epoll_wait(ctl->epfd, ev, CONTROL_CLIENTS_MAX + 1, 0);
	for (int i = 0; i < n; i++) {
		struct client *cl = ev[i].data.ptr;

		if (!cl)
			accept_clients(ctl);
		else if (cl->state == CL_READING)
			stop |= read_client(ctl, cl, fn, arg);
	}
	now = now_ms();
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *cl = &ctl->cl[i];

		if (cl->state == CL_FREE || cl->state == CL_HELD || now < cl->deadline_ms)
			continue;
		if (cl->state == CL_READING)
			reply(cl->fd, "", "error: no request line within %d ms",
			      CONTROL_REQUEST_MS);
		else if (cl->state == CL_WAIT_START)
			reply(cl->fd, "",
			      "error: snapshot not taken: it could not begin within %d s (the TPM "
			      "does not answer, or entries still wait for it)",
			      CONTROL_SNAPSHOT_MS / 1000);
		else
			reply(cl->fd, "",
			      "error: snapshot %llu: no anchor within %d s (the TPM does not "
			      "answer?); it is recorded once the TPM holds the snapshot",
			      (unsigned long long)cl->snap_id, CONTROL_SNAPSHOT_MS / 1000);
		drop(ctl, cl);
	}
	return stop;
}

bool control_snapshot_asked(const struct control *ctl)
{
	for (int i = 0; ctl && i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->cl[i].state == CL_WAIT_START)
			return true;
	return false;
}

void control_snapshot_started(struct control *ctl, uint64_t id)
{
	for (int i = 0; ctl && i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->cl[i].state == CL_WAIT_START) {
			ctl->cl[i].state = CL_WAIT_DONE;
			ctl->cl[i].snap_id = id;
		}
}

void control_snapshot_done(struct control *ctl, uint64_t id, const struct bima_anchor *a,
			   const char *error)
{
	char text[CONTROL_REPLY_MAX - 80] = "";
	FILE *f;

	if (!ctl)
		return;
	if (!error) {
		f = fmemopen(text, sizeof(text), "w");
		if (f) {
			control_format_anchor(f, a);
			fclose(f);
		}
	}
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *cl = &ctl->cl[i];

		if (id ? cl->state != CL_WAIT_DONE || cl->snap_id != id
		       : cl->state != CL_WAIT_START)
			continue;
		if (error && id)
			reply(cl->fd, "", "error: snapshot %llu: %s", (unsigned long long)id,
			      error);
		else if (error)
			reply(cl->fd, "", "error: snapshot not taken: %s", error);
		else
			reply(cl->fd, text, "ok");
		drop(ctl, cl);
	}
}

void control_format_anchor(FILE *f, const struct bima_anchor *a)
{
	static const uint8_t zero[sizeof(a->quote_sha256)];
	char hex[2 * HASHALG_MAX_SIZE + 1];

	fprintf(f, "snapshot %llu: %llu entries, segment %u closed, kernel sequence number %llu\n",
		(unsigned long long)a->id, (unsigned long long)a->entries, a->segment,
		(unsigned long long)a->seq);
	for (int b = 0; b < BIMA_ANCHOR_BANKS && a->bank_alg[b]; b++) {
		const struct hashalg *alg = hashalg_by_tpm_id(a->bank_alg[b]);

		if (!alg)
			continue;
		hex_encode(a->pcr_value[b], alg->size, hex);
		fprintf(f, "  PCR %u %s: %s\n", a->pcr, alg->name, hex);
	}
	if (memcmp(a->quote_sha256, zero, sizeof(zero))) {
		hex_encode(a->quote_sha256, sizeof(a->quote_sha256), hex);
		fprintf(f, "  quote: quote-%llu.attest, quote-%llu.sig (sha256 %s)\n",
			(unsigned long long)a->id, (unsigned long long)a->id, hex);
	} else {
		fprintf(f, "  quote: none (the daemon's messages say why)\n");
	}
}

/*
 * The client's side. Wait until fd is readable or the deadline passes;
 * -ETIMEDOUT then.
 */
static int wait_readable(int fd, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long left;
	int n;

	do {
		left = deadline_ms - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int connect_daemon(const char *path, int *pid)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un addr;
	struct ucred cr = {};
	socklen_t len = sizeof(cr);
	int fd, err;

	err = make_addr(path, &addr);
	if (err) {
		pr_err("--control %s: longer than a socket's path can be", path);
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A daemon that cannot take a connection (its backlog is full) fails it in time. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (const struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		if (err == -ENOENT || err == -ECONNREFUSED)
			return -ENOENT; /* no socket, or the one of a daemon that is gone */
		if (err == -EACCES || err == -EPERM)
			pr_err("permission denied: only root may use %s", path);
		else if (err == -EAGAIN)
			pr_err("the bima daemon on %s takes no connection now (too many waiting); "
			       "try again",
			       path);
		else
			pr_err("cannot connect to %s: %s", path, strerror(-err));
		return err;
	}
	/* A socket another user serves is not the daemon's, whatever it answers. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || cr.uid != 0) {
		pr_err("%s is served by uid %u, not root: not a bima daemon; not trusting it", path,
		       (unsigned int)cr.uid);
		close(fd);
		return -EPERM;
	}
	*pid = cr.pid;
	return fd;
}

int control_request(const char *path, const char *request, int timeout_ms, bool wait_close,
		    FILE *out, int *pid)
{
	long long deadline = now_ms() + timeout_ms;
	char text[CONTROL_REPLY_MAX + 1], *line, *nl;
	size_t len = 0;
	int fd, err = 0, daemon = 0;
	ssize_t n;

	fd = connect_daemon(path, &daemon);
	if (fd < 0)
		return fd;
	/* A daemon that refuses this peer answers, and closes, before it reads: read on. */
	snprintf(text, sizeof(text), "%s\n", request);
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0)
		pr_debug("%s: sending the request: %s", path, strerror(errno));
	/* Lines until the last, "ok" or "error: ...". */
	for (line = text;;) {
		nl = memchr(line, '\n', text + len - line);
		if (nl) {
			*nl = '\0';
			if (!strcmp(line, "ok"))
				break;
			if (!strncmp(line, "error: ", 7)) {
				pr_err("%s", line + 7);
				err = 1;
				break;
			}
			if (out)
				fprintf(out, "%s\n", line);
			line = nl + 1;
			continue;
		}
		if (line > text) { /* keep the partial line at the start */
			len -= line - text;
			memmove(text, line, len);
			line = text;
		}
		if (len == sizeof(text) - 1) {
			pr_err("%s: a reply line of more than %zu bytes", path, len);
			err = 1;
			break;
		}
		err = wait_readable(fd, deadline);
		n = err ? -1 : recv(fd, text + len, sizeof(text) - 1 - len, 0);
		if (err == -ETIMEDOUT) {
			pr_err("the bima daemon (pid %d) did not answer within %d s", daemon,
			       timeout_ms / 1000);
			err = 1;
			break;
		}
		if (n <= 0) {
			pr_err("the bima daemon (pid %d) closed the connection before it answered "
			       "(is it stopping?)",
			       daemon);
			err = 1;
			break;
		}
		len += n;
	}
	/* Stop: the daemon closes the connection once it has stopped. */
	while (!err && wait_close) {
		err = wait_readable(fd, deadline);
		n = err ? 0 : recv(fd, text, sizeof(text), 0);
		if (err) {
			pr_err("the bima daemon (pid %d) did not stop within %d s", daemon,
			       timeout_ms / 1000);
			err = 1;
		} else if (n <= 0) {
			break;
		}
	}
	close(fd);
	if (!err)
		*pid = daemon;
	return err;
}
