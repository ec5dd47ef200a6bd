// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector alone, on the host: synthetic records of new files, put
 * into a real BPF ring buffer by a syscall program (collector.bpf.c), go
 * through the daemon's own rounds (collector_bench(): ring buffer, entries,
 * durable log), and the time they take is reported. Without --tcti there
 * is no TPM: the epoch is made here, with SHA-1 and SHA-256 banks, and the
 * entries are not extended. With --tcti the epoch is begun as `bima run`
 * begins it and every entry is extended too.
 *
 *   collector [--records N] [--runs R] [--template ima-ng|bima-ct] [--ascii]
 *             [--tcti TCTI] [--pcr N] [--window BYTES] DIR
 *
 * --window keeps that many bytes of the entries waiting for the TPM in
 * memory (the daemon's 4 MiB by default); the rest are read back from the
 * log. Each run also prints the memory the queue took at most (window_kB).
 *
 * Each run fills the ring buffer with N records (not timed), then drains
 * it. One line per run: when the log held them all, wall time, CPU time
 * and of it user time (ms), records a second of wall time and of CPU time,
 * CPU ns a record, and all CPUs' busy ns a record (all_ns: what the
 * kernel's workers did for it too, such as a TPM command; from
 * /proc/schedstat, "-" where the kernel has none); then the median of
 * each column. On a shared machine the CPU figures are the ones to
 * compare.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/collector.skel.h"
#include "collector.h"
#include "epoch.h"
#include "msg.h"
#include "schedstat.h"

#define HASH_ALGO_SHA256 4 /* the kernel's enum hash_algo */
#define RUNS_MAX 64

/* What bench_push takes: the record's size, then the record. */
struct push {
	uint32_t size;
	uint32_t pad;
	union {
		struct bima_event ev;
		uint8_t bytes[4096];
	};
};

/* A few cgroups, as a host with a session, services and a container has them. */
static const char *const cgroup_paths[] = {
	"/user.slice/user-0.slice/session-1.scope",
	"/system.slice/cron.service",
	"/system.slice/"
	"docker-4f9a2c51d0e8b7a6c3f1e2d4b5a69788c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2.scope",
	"/init.scope",
};
#define NCGROUPS (sizeof(cgroup_paths) / sizeof(cgroup_paths[0]))
#define CGROUP_ID0 4242
#define MNT_NS0 4026531841ull
/* Records in a row from one cgroup: a process measures files in bursts. */
#define CGROUP_RUN 256

struct bench {
	struct bench_push *skel;
	int prog_fd, map_fd;
	uint64_t seq, file; /* the next record's sequence number, and file number */
};

/* CPU time so far, and of it in user space, ns. */
static void cpu_ns(uint64_t *cpu, uint64_t *user)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec * 1000000000ull + ru.ru_utime.tv_usec * 1000ull;
	*cpu = *user + ru.ru_stime.tv_sec * 1000000000ull + ru.ru_stime.tv_usec * 1000ull;
}

/* A run's line: times in ms, records a second of wall and of CPU time, ns a record. */
static void print_run(const char *run, unsigned int records, uint64_t durable, uint64_t wall,
		      uint64_t cpu, uint64_t user, uint64_t all, size_t window)
{
	char all_ns[24] = "-";

	if (all)
		snprintf(all_ns, sizeof(all_ns), "%.0f", (double)all / records);
	printf("%-4s %9u %10.1f %10.1f %8.1f %8.1f %10.0f %10.0f %7.0f %7s %9zu\n", run, records,
	       durable / 1e6, wall / 1e6, cpu / 1e6, user / 1e6, records * 1e9 / wall,
	       records * 1e9 / cpu, (double)cpu / records, all_ns, window >> 10);
}

static int push(struct bench *b, struct push *p, size_t path_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = p);

	p->size = sizeof(p->ev) + path_len;
	p->ev.path_len = path_len;
	run.ctx_size_in = offsetof(struct push, bytes) + p->size;
	if (bpf_prog_test_run_opts(b->prog_fd, &run))
		return -errno;
	return run.retval ? -ENOSPC : 0;
}

/* The records a burst of new files makes: one measurement of each. */
static int fill(struct bench *b, unsigned int n)
{
	static struct push p;
	int err = 0;

	for (unsigned int i = 0; !err && i < n; i++, b->file++) {
		unsigned int cg = (b->file / CGROUP_RUN) % NCGROUPS;
		int len;

		memset(&p, 0, sizeof(p));
		p.ev.seq = b->seq++;
		p.ev.cgroup_id = CGROUP_ID0 + cg;
		p.ev.mnt_ns = MNT_NS0 + (cg == 2); /* the container has its own */
		p.ev.ino = 100000 + b->file;
		p.ev.i_version = 1;
		p.ev.ctime_sec = 1765000000 + b->file / 1000;
		p.ev.dev = 8 << 20 | 1;
		p.ev.generation = (uint32_t)(b->file * 2654435761u);
		p.ev.tgid = p.ev.pid = 1000 + cg;
		p.ev.hook = BIMA_HOOK_FILE_CHECK;
		p.ev.hash_algo = HASH_ALGO_SHA256;
		snprintf(p.ev.comm, sizeof(p.ev.comm), "python3");
		len = snprintf(p.ev.path, sizeof(p.bytes) - sizeof(p.ev),
			       "/var/lib/build/src/module-%03lu/file-%07lu.py",
			       (unsigned long)(b->file / 1000), (unsigned long)b->file);
		hashalg_digest(hashalg_by_name("sha256", 6), p.ev.path, len, p.ev.digest);
		err = push(b, &p, len + 1);
	}
	return err;
}

/* cgroup mkdir records, as the hooks send for cgroups made after the load. */
static int fill_cgroups(struct bench *b)
{
	static struct push p;
	int err = 0;

	for (size_t i = 0; !err && i < NCGROUPS; i++) {
		memset(&p, 0, sizeof(p));
		p.ev.hook = BIMA_REC_CGROUP_MKDIR; /* as the kernel's: no sequence number */
		p.ev.cgroup_id = CGROUP_ID0 + i;
		err = push(b, &p, snprintf(p.ev.path, 256, "%s", cgroup_paths[i]) + 1);
	}
	return err;
}

/* An epoch with no TPM: the log of a TPM with SHA-1 and SHA-256 banks, never extended. */
static int epoch_without_tpm(struct epoch *ep, const char *dir, uint32_t pcr,
			     const char *ascii_link, struct log **log)
{
	const struct hashalg *banks[] = { hashalg_by_name("sha1", 4),
					  hashalg_by_name("sha256", 6) };
	int err;

	memset(ep, 0, sizeof(*ep));
	ep->pcr = pcr;
	ep->logged.max = DIGESTSET_EPOCH_MAX;
	replay_init(&ep->replay, banks, 2);
	err = log_epoch_dir(ep->dir, sizeof(ep->dir), dir, 0, 0);
	err = err ?: log_make_dir(ep->dir);
	err = err ?: ascii_link ? ascii__open(ep->dir, ascii_link, &ep->ascii) : 0;
	return err ?: log__open(ep->dir, log);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: collector [--records N] [--runs R] [--template ima-ng|bima-ct] "
			"[--ascii] [--tcti TCTI] [--pcr N] [--window BYTES] DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "template", required_argument, NULL, 't' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "pcr", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'w' },
		{},
	};
	unsigned int records = 100000, runs = 5, pcr = 11;
	size_t window = 0, peak, peak_max = 0;
	uint64_t wall[RUNS_MAX], durable[RUNS_MAX], cpu[RUNS_MAX], user[RUNS_MAX], all[RUNS_MAX];
	uint64_t taken;
	const char *tcti = NULL;
	char ascii_link[LOG_PATH_MAX] = "";
	bool ct = false, ascii = false;
	struct bench b = {};
	struct tpm *tpm = NULL;
	struct log *log = NULL;
	struct epoch ep;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			records = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			ct = !strcmp(optarg, TEMPLATE_CT);
			break;
		case 'a':
			ascii = true;
			break;
		case 'T':
			tcti = optarg;
			break;
		case 'p':
			pcr = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			window = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || !runs || runs > RUNS_MAX || !records)
		usage();
	msg_max_level = MSG_WARN;
	if (ascii)
		snprintf(ascii_link, sizeof(ascii_link), "%s/ascii", argv[optind]);

	b.skel = bench_push__open();
	if (!b.skel)
		return 1;
	/* Room for every record of a run: about 300 bytes each, in a power of two. */
	err = bpf_map__set_max_entries(b.skel->maps.bench_events,
				       1u << (32 - __builtin_clz(records * 320u)));
	err = err ?: bench_push__load(b.skel);
	if (err) {
		fprintf(stderr, "collector: cannot load the benchmark's BPF program: %s\n",
			strerror(-err));
		return 1;
	}
	b.prog_fd = bpf_program__fd(b.skel->progs.bench_push);
	b.map_fd = bpf_map__fd(b.skel->maps.bench_events);

	err = tcti ? tpm__open(tcti, &tpm)
			      ?: epoch_begin(&ep, tpm, argv[optind], pcr, ascii ? ascii_link : NULL,
					     &log)
		   : epoch_without_tpm(&ep, argv[optind], pcr, ascii ? ascii_link : NULL, &log);
	err = err ?: fill_cgroups(&b);
	if (err) {
		fprintf(stderr, "collector: %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	printf("%u runs of %u records: %s%s, %s\n", runs, records, ct ? TEMPLATE_CT : "ima-ng",
	       ascii ? " and the ASCII list" : "", tcti ? tcti : "no TPM");
	printf("%-4s %9s %10s %10s %8s %8s %10s %10s %7s %7s %9s\n", "run", "records", "durable_ms",
	       "wall_ms", "cpu_ms", "user_ms", "records/s", "rec/cpu_s", "cpu_ns", "all_ns",
	       "window_kB");
	for (unsigned int r = 0; r < runs; r++) {
		struct timespec a, z;
		uint64_t c0, u0, c1, u1, a0;
		char name[16];

		err = fill(&b, records);
		if (err) {
			fprintf(stderr, "collector: cannot fill the ring buffer: %s\n",
				strerror(-err));
			return 1;
		}
		a0 = all_cpus_ns();
		cpu_ns(&c0, &u0);
		clock_gettime(CLOCK_MONOTONIC, &a);
		err = collector_bench(&ep, log, tpm, b.map_fd, ct, window, &taken, &durable[r],
				      &peak);
		clock_gettime(CLOCK_MONOTONIC, &z);
		cpu_ns(&c1, &u1);
		all[r] = a0 ? all_cpus_ns() - a0 : 0;
		cpu[r] = c1 - c0;
		user[r] = u1 - u0;
		wall[r] = (z.tv_sec - a.tv_sec) * 1000000000ull + z.tv_nsec - a.tv_nsec;
		if (err || taken != records) {
			fprintf(stderr, "collector: run %u: %lu of %u records taken: %s\n", r,
				(unsigned long)taken, records, strerror(-err));
			return 1;
		}
		snprintf(name, sizeof(name), "%u", r + 1);
		print_run(name, records, durable[r], wall[r], cpu[r], user[r], all[r], peak);
		peak_max = peak > peak_max ? peak : peak_max;
	}
	qsort(wall, runs, sizeof(wall[0]), cmp_u64);
	qsort(cpu, runs, sizeof(cpu[0]), cmp_u64);
	qsort(user, runs, sizeof(user[0]), cmp_u64);
	qsort(durable, runs, sizeof(durable[0]), cmp_u64);
	qsort(all, runs, sizeof(all[0]), cmp_u64);
	print_run("med", records, durable[runs / 2], wall[runs / 2], cpu[runs / 2], user[runs / 2],
		  all[runs / 2], peak_max);
	log__close(log);
	epoch_end(&ep);
	tpm__free(tpm);
	bench_push__destroy(b.skel);
	return 0;
}
