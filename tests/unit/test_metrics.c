// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics (user/daemon/metrics.c): the OpenMetrics and Prometheus texts of a
 * known status, sample by sample; what differs between the two encodings
 * (# EOF, # UNIT, a counter family's name); the largest text fits in a
 * control socket reply; both texts taken by the parsers of Debian's
 * python3-prometheus-client, with the values read back; the file for the
 * textfile collector written atomically, 0644, with no temporary file
 * left, and a directory that does not exist refused with nothing written;
 * `metrics openmetrics` through a real control socket gives the same text,
 * and an unknown format an error.
 * Run one case by naming it: test_metrics CASE.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "fake_status.h"
#include "metrics.h"

#define NOW FAKE_STATUS_NOW /* the time the texts are written at */

/* The text of st in fmt, malloc'd. */
static char *text_of(const struct control_status *st, enum metrics_format fmt)
{
	char *p = calloc(1, 2 * METRICS_TEXT_MAX); /* twice: case_largest measures it */
	FILE *f = p ? fmemopen(p, 2 * METRICS_TEXT_MAX - 1, "w") : NULL;

	if (f) {
		metrics_write(f, st, fmt, NOW);
		fclose(f);
	}
	return p;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && p[n] == '\n')
			return true;
	return false;
}

#define CHECK_LINE(text, line, name) CHECK(has_line(text, line), name, "no line \"%s\"", line)

static void case_openmetrics(void)
{
	struct control_status st;
	char *t;

	fake_status(NULL, &st);
	t = text_of(&st, METRICS_OPENMETRICS);
	CHECK_LINE(t, "# TYPE bima_measurements_logged counter",
		   "openmetrics: a counter's family is named without _total");
	CHECK_LINE(t, "bima_measurements_logged_total{hook=\"BPRM_CHECK\"} 11",
		   "openmetrics: logged by hook, BPRM_CHECK");
	CHECK_LINE(t, "bima_measurements_logged_total{hook=\"FILE_CHECK\"} 22",
		   "openmetrics: logged by hook, FILE_CHECK");
	CHECK_LINE(t, "bima_measurements_logged_total{hook=\"MODULE_CHECK\"} 0",
		   "openmetrics: a hook that logged nothing has its 0");
	CHECK_LINE(t, "bima_measurements_lost_total 5", "openmetrics: lost");
	CHECK_LINE(t, "bima_measurements_dropped_total{hook=\"MMAP_CHECK\"} 5",
		   "openmetrics: dropped by hook, the kernel's count");
	CHECK_LINE(t, "bima_measurements_dropped_total{hook=\"BPRM_CHECK\"} 0",
		   "openmetrics: a hook that dropped nothing has its 0");
	CHECK_LINE(t, "bima_measurements_denied_total{hook=\"BPRM_CHECK\"} 3",
		   "openmetrics: denied by hook, BPRM_CHECK");
	CHECK_LINE(t, "bima_measurements_denied_total{hook=\"MODULE_CHECK\"} 1",
		   "openmetrics: denied by hook, MODULE_CHECK");
	CHECK(!strstr(t, "bima_measurements_denied_total 4"),
	      "openmetrics: denied has no sample without a hook (sum() would count it twice)", "");
	CHECK_LINE(t, "bima_measurements_repeated_total 17", "openmetrics: repeated");
	CHECK_LINE(t, "bima_cache_hits_total 31337", "openmetrics: cache hits");
	CHECK_LINE(t, "bima_violations_total 3", "openmetrics: violations");
	CHECK_LINE(t, "bima_hash_errors_total 1", "openmetrics: hash errors");
	CHECK_LINE(t, "bima_protect_denied_total 8", "openmetrics: self-protection refusals");
	CHECK_LINE(t, "bima_tpm_errors_total 2", "openmetrics: TPM errors");
	CHECK_LINE(t, "bima_log_entries 1234", "openmetrics: log entries");
	CHECK_LINE(t, "bima_log_bytes 987654", "openmetrics: log bytes");
	CHECK_LINE(t, "# UNIT bima_log_bytes bytes", "openmetrics: a unit where the name has one");
	CHECK_LINE(t, "bima_ringbuf_size_bytes 4194304", "openmetrics: ring buffer size");
	CHECK_LINE(t, "bima_ringbuf_queued_bytes 88", "openmetrics: ring buffer, queued");
	CHECK_LINE(t, "bima_ringbuf_held_bytes 4096", "openmetrics: ring buffer, held");
	CHECK_LINE(t, "bima_ringbuf_held_records 9", "openmetrics: ring buffer, held records");
	CHECK_LINE(t, "bima_extend_lag_seconds 1.041", "openmetrics: extend lag in seconds");
	CHECK_LINE(t, "bima_extend_lag_entries 3", "openmetrics: extend lag in entries");
	CHECK_LINE(t, "bima_extend_lag_bytes 77", "openmetrics: extend lag in bytes");
	CHECK_LINE(t, "bima_tpm_up 1", "openmetrics: the TPM answers");
	CHECK_LINE(t, "bima_last_snapshot_id 6", "openmetrics: last snapshot's id");
	CHECK_LINE(t, "bima_last_snapshot_timestamp_seconds 1799999958",
		   "openmetrics: last snapshot's time");
	CHECK_LINE(t, "bima_last_snapshot_age_seconds 42", "openmetrics: last snapshot's age");
	CHECK_LINE(t, "bima_start_time_seconds 1799999400", "openmetrics: the daemon's start");
	CHECK(strlen(t) > 6 && !strcmp(t + strlen(t) - 6, "# EOF\n"),
	      "openmetrics: ends with # EOF", "ends \"%s\"",
	      strlen(t) > 20 ? t + strlen(t) - 20 : t);
	CHECK(!strpbrk(t, "\\"), "openmetrics: nothing to escape", "");
	free(t);
}

static void case_prometheus(void)
{
	struct control_status st;
	char *t;

	fake_status(NULL, &st);
	t = text_of(&st, METRICS_PROMETHEUS);
	CHECK_LINE(t, "# TYPE bima_measurements_logged_total counter",
		   "prometheus: a counter's family is named as its samples");
	CHECK_LINE(t, "bima_measurements_logged_total{hook=\"BPRM_CHECK\"} 11",
		   "prometheus: the same samples");
	CHECK_LINE(t, "# TYPE bima_log_bytes gauge", "prometheus: a gauge");
	CHECK(!strstr(t, "# EOF"), "prometheus: no # EOF", "");
	CHECK(!strstr(t, "# UNIT"), "prometheus: no # UNIT", "");
	free(t);
}

/* What is not known is left out, not written as 0. */
static void case_unknown(void)
{
	struct control_status st;
	char *t;

	fake_status(NULL, &st);
	st.kernel_stats = st.cpu_stats = false;
	st.snapshot_time = 0;
	st.tpm_ok = false;
	t = text_of(&st, METRICS_OPENMETRICS);
	CHECK(!strstr(t, "bima_violations") && !strstr(t, "bima_measurements_denied") &&
		      !strstr(t, "bima_measurements_dropped_total"),
	      "unread kernel counters: no sample", "");
	CHECK(!strstr(t, "bima_cache_hits"), "unread cache hits: no sample", "");
	CHECK(!strstr(t, "bima_last_snapshot_age"), "a snapshot of unknown time: no age", "");
	CHECK_LINE(t, "bima_tpm_up 0", "a TPM that failed: bima_tpm_up 0");
	free(t);
}

/* The largest text fits in a control socket reply. */
static void case_largest(void)
{
	struct control_status st;
	char *t;

	fake_status(NULL, &st);
	st.entries = st.lost = st.unextended = st.unextended_entries = st.extend_lag_ms =
		UINT64_MAX;
	st.queued = st.uncovered = st.held = st.last_snapshot = st.repeated = UINT64_MAX;
	st.tpm_errors = st.ringbuf_size = st.log_bytes = st.denied = st.violations = UINT64_MAX;
	st.hash_errors = st.protect_denied = st.cache_hits = UINT64_MAX;
	st.start_time = st.snapshot_time = INT64_MAX;
	for (int h = 0; h < CONTROL_HOOKS; h++)
		st.logged_by_hook[h] = st.dropped_by_hook[h] = st.denied_by_hook[h] = UINT64_MAX;
	t = text_of(&st, METRICS_OPENMETRICS);
	CHECK(strlen(t) < METRICS_TEXT_MAX, "the largest text fits METRICS_TEXT_MAX", "%zu bytes",
	      strlen(t));
	CHECK(METRICS_TEXT_MAX <= CONTROL_REPLY_MAX - 80, "and a control socket reply", "");
	printf("# the largest text: %zu bytes\n", strlen(t));
	free(t);
	CHECK_EQ(atoi(METRICS_FILE_INTERVAL_STR), METRICS_FILE_INTERVAL_S,
		 "--help says the interval the daemon keeps");
}

/* Both texts through python3-prometheus-client's parsers, values read back. */
static void case_python(void)
{
	static const char script[] =
		"import sys\n"
		"from prometheus_client.parser import text_string_to_metric_families as prom\n"
		"from prometheus_client.openmetrics.parser import text_string_to_metric_families "
		"as om\n"
		"for name, parse in ((sys.argv[1], om), (sys.argv[2], prom)):\n"
		"    v = {}\n"
		"    for fam in parse(open(name).read()):\n"
		"        for s in fam.samples:\n"
		"            v[(fam.name, fam.type, s.name, tuple(sorted(s.labels.items())))] = "
		"s.value\n"
		"    print(float(v[('bima_measurements_logged', 'counter', "
		"'bima_measurements_logged_total', (('hook', 'FILE_CHECK'),))]),\n"
		"          float(v[('bima_extend_lag_seconds', 'gauge', 'bima_extend_lag_seconds', "
		"())]),\n"
		"          float(v[('bima_cache_hits', 'counter', 'bima_cache_hits_total', ())]), "
		"len(v))\n";
	char dir[] = "/tmp/bima-test-metrics-XXXXXX", *cmd = NULL, out[256] = "", *lines[2];
	struct control_status st;
	FILE *f, *p;

	fake_status(NULL, &st);
	if (!mkdtemp(dir))
		return;
	for (int i = 0; i < 2; i++) {
		char *t = text_of(&st, i ? METRICS_PROMETHEUS : METRICS_OPENMETRICS);

		if (asprintf(&lines[i], "%s/%s", dir, i ? "prom.txt" : "om.txt") < 0)
			return;
		f = fopen(lines[i], "w");
		fputs(t, f);
		fclose(f);
		free(t);
	}
	f = fopen("/tmp/bima-test-metrics-parse.py", "w");
	fputs(script, f);
	fclose(f);
	/* Debian's python3, which has the package (tools/deps.sh), whatever PATH says. */
	if (asprintf(&cmd, "/usr/bin/python3 /tmp/bima-test-metrics-parse.py %s %s 2>&1", lines[0],
		     lines[1]) < 0)
		return;
	p = popen(cmd, "r");
	if (p) {
		size_t n = fread(out, 1, sizeof(out) - 1, p);

		out[n] = '\0';
		pclose(p);
	}
	/* 11 hooks each logged, dropped and denied, 18 more samples, and 3 of the snapshot. */
	CHECK_STR(out, "22.0 1.041 31337.0 54\n22.0 1.041 31337.0 54\n",
		  "both texts parse, with the values written");
	unlink("/tmp/bima-test-metrics-parse.py");
	unlink(lines[0]);
	unlink(lines[1]);
	rmdir(dir);
	free(lines[0]);
	free(lines[1]);
	free(cmd);
}

static int entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 2;
}

static void case_file(void)
{
	char dir[] = "/tmp/bima-test-metrics-XXXXXX", path[64], bad[96], *want,
	     got[METRICS_TEXT_MAX];
	struct metrics_file mf = { .path = path };
	struct control_status st;
	struct stat sb;
	size_t n = 0;
	FILE *f;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/bima.prom", dir);
	metrics_file_update(&mf, fake_status, NULL, false);
	fake_status(NULL, &st);
	want = text_of(&st, METRICS_PROMETHEUS);
	f = fopen(path, "r");
	if (f) {
		n = fread(got, 1, sizeof(got) - 1, f);
		fclose(f);
	}
	got[n] = '\0';
	/* The age is taken at the time of writing: compare what does not move. */
	CHECK(n > 0 && !strncmp(got, want, strstr(want, "bima_last_snapshot_age") - want),
	      "the file holds the Prometheus text", "%zu bytes", n);
	CHECK(!stat(path, &sb) && (sb.st_mode & 0777) == 0644, "the file is 0644", "%o",
	      (unsigned)(sb.st_mode & 0777));
	CHECK_EQ(entries_in(dir), 1, "no temporary file is left beside it");
	CHECK(mf.next >= time(NULL) + METRICS_FILE_INTERVAL_S - 1 && !mf.failed,
	      "the next write is an interval on", "");
	unlink(path);
	metrics_file_update(&mf, fake_status, NULL, false);
	CHECK(stat(path, &sb) && errno == ENOENT, "not rewritten before the interval", "");
	metrics_file_update(&mf, fake_status, NULL, true);
	CHECK(!stat(path, &sb), "rewritten when forced (a stop)", "");
	snprintf(bad, sizeof(bad), "%s/missing/bima.prom", dir);
	CHECK_EQ(metrics_file_write(bad, &st, NOW), -ENOENT,
		 "a directory that does not exist: -ENOENT");
	mf.path = bad;
	metrics_file_update(&mf, fake_status, NULL, true);
	CHECK(mf.failed, "and the failure is kept, to be said once", "");
	CHECK_EQ(entries_in(dir), 1, "nothing else was written");
	unlink(path);
	rmdir(dir);
	free(want);
}

/* `metrics openmetrics` through a real control socket, served as the daemon does. */
static void case_socket(void)
{
	char dir[] = "/tmp/bima-test-metrics-XXXXXX", sock[64], *want, *got = NULL;
	struct control_status st;
	struct control *ctl;
	size_t len = 0;
	int pid, daemon = 0, err, bad;
	FILE *out;

	if (geteuid() != 0) {
		printf("ok - # skip the socket case: the control socket's directory must be "
		       "root's\n");
		return;
	}
	if (!mkdtemp(dir) || chmod(dir, 0755))
		return;
	snprintf(sock, sizeof(sock), "%s/control", dir);
	if (control__open(sock, &ctl))
		return;
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 500; i++) { /* 5 s at most */
			control_serve(ctl, fake_status, NULL);
			usleep(10000);
		}
		_exit(0);
	}
	out = open_memstream(&got, &len);
	err = control_request(sock, "metrics openmetrics", 5000, false, out, &daemon);
	fclose(out);
	bad = control_request(sock, "metrics xml", 5000, false, NULL, &daemon);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	control__free(ctl);
	snprintf(sock, sizeof(sock), "%s/control.lock", dir); /* kept by design, as a daemon's */
	unlink(sock);
	rmdir(dir);
	fake_status(NULL, &st);
	want = text_of(&st, METRICS_OPENMETRICS);
	CHECK_EQ(err, 0, "metrics openmetrics is answered ok");
	/* The age is taken when the daemon answers: compare up to it. */
	CHECK(got && !strncmp(got, want, strstr(want, "bima_last_snapshot_age") - want) &&
		      strstr(got, "# EOF\n"),
	      "the same text as metrics_write, to # EOF", "got %zu bytes", len);
	CHECK_EQ(bad, 1, "metrics xml: an error (unknown metrics format), said");
	free(want);
	free(got);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "openmetrics", case_openmetrics }, { "prometheus", case_prometheus },
	{ "unknown", case_unknown },	     { "largest", case_largest },
	{ "python", case_python },	     { "file", case_file },
	{ "socket", case_socket },
};

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (argc < 2 || !strcmp(argv[1], cases[i].name))
			cases[i].fn();
	return CHECK_DONE();
}
