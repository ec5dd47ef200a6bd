// SPDX-License-Identifier: GPL-2.0-only
/* bima run: load the BPF-LSM programs and collect measurements. */
#include <errno.h>
#include <string.h>

#include "anchor.h"
#include "ascii.h"
#include "cli.h"
#include "collector.h"
#include "container.h"
#include "control.h"
#include "loader.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"
#include "protect.h"
#include "template.h"

#define DEFAULT_RINGBUF (4u << 20)
#define DEFAULT_GRACE_S 10
#define DEFAULT_SNAP_ENTRIES 100000
#define DEFAULT_SNAP_ENTRIES_S "100000"
#define DEFAULT_SNAP_INTERVAL 3600
#define DEFAULT_SNAP_INTERVAL_S "3600"

struct run_args {
	const char *log_dir;
	const char *tcti;
	unsigned long pcr;
	const char *policy;
	bool strict_policy;
	unsigned long ringbuf_size;
	bool fail_closed;
	unsigned long grace;   /* seconds; 0 when not given */
	unsigned long max_lag; /* ms; 0 when not given */
	unsigned long snap_entries, snap_interval;
	enum retention retention;
	unsigned long retention_anchors;
	const char *ascii;	   /* --ascii, or NULL when not given */
	const char *template;	   /* --template, or NULL when not given */
	const char *control;	   /* the control socket, or NULL for none */
	enum protect_mode protect; /* PROTECT_AUTO when not given */
	const char *metrics_file;  /* or NULL */
};

static const char usage[] =
	"Usage: bima run [--log-dir DIR] [--tcti TCTI] [--pcr N]\n"
	"                [--policy FILE [--strict-policy]]\n"
	"                [--ringbuf-size BYTES]\n"
	"                [--fail-closed [--grace SECONDS] [--max-extend-lag MS]]\n"
	"                [--snapshot-entries N] [--snapshot-interval SECONDS]\n"
	"                [--retention keep|compress|remove [--retention-anchors N]]\n"
	"                [--ascii PATH|none] [--template auto|ima-ng|" TEMPLATE_CT "]\n"
	"                [--control PATH|none] [--protect yes|no] [--metrics-file PATH]\n"
	"                [-v]\n"
	"\n"
	"Measure what the policy selects among execs (BPRM_CHECK), executable file\n"
	"mappings (MMAP_CHECK), opens (FILE_CHECK, Linux 6.9 and later), the files the\n"
	"kernel reads (MODULE_CHECK, FIRMWARE_CHECK, KEXEC_KERNEL_CHECK,\n"
	"KEXEC_INITRAMFS_CHECK, POLICY_CHECK) and BPF programs (BPF_CHECK): the kernel\n"
	"hashes the file, once until it changes, bima appends an entry to the log, makes\n"
	"it durable, and only then extends PCR N in every active TPM bank. Each entry\n"
	"names the task's cgroup, mount namespace and container, under the TPM's cover.\n"
	"\n";

/* --ringbuf-size: a power of two of at least 4096, at most 1 GiB. */
static int parse_ringbuf(const char *opt, const char *value, void *ulong)
{
	unsigned long *n = ulong;

	if (cli_ulong(opt, value, 0, 1ul << 30, n))
		return -EINVAL;
	if (*n < 4096 || (*n & (*n - 1))) {
		pr_usage("%s: %lu is not a power of two of at least 4096", opt, *n);
		return -EINVAL;
	}
	return 0;
}

static int parse_retention(const char *opt, const char *value, void *mode)
{
	if (anchor_retention_parse(value, mode)) {
		pr_usage("%s: \"%s\" is not keep, compress or remove", opt, value);
		return -EINVAL;
	}
	return 0;
}

/* --metrics-file: an absolute path. */
static int parse_metrics_file(const char *opt, const char *value, void *str)
{
	if (value[0] != '/') {
		pr_usage("%s: an absolute path", opt);
		return -EINVAL;
	}
	*(const char **)str = value;
	return 0;
}

static int parse_protect(const char *opt, const char *value, void *mode)
{
	if (protect_parse(value, mode)) {
		pr_usage("%s: yes or no, not \"%s\"", opt, value);
		return -EINVAL;
	}
	return 0;
}

#define A struct run_args
/* bima run's options: also the keys of the configuration file. */
static const struct cli_opt opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, CLI_KEY,
		"log directory, one directory per TPM epoch (" DEFAULT_LOG_DIR ")"),
	CLI_STR("tcti", "TCTI", A, tcti, CLI_KEY,
		"TPM access, tpm2-tss TCTI string (" DEFAULT_TCTI ")"),
	CLI_ULONG("pcr", "N", A, pcr, 0, 23, CLI_KEY,
		  "PCR to extend, 0-23 (10: the log then starts with the kernel's\n"
		  "own IMA boot_aggregate and replays PCR 10 exactly)"),
	CLI_STR("policy", "FILE", A, policy, CLI_KEY,
		"the measurement policy (see `bima policy --help`); without\n"
		"it, a new load uses the built-in one (`bima policy default`)\n"
		"and a daemon that adopts pinned programs keeps theirs"),
	CLI_FLAG("strict-policy", A, strict_policy, CLI_KEY,
		 "refuse the policy's IMA rules bima would skip or drop with\n"
		 "a warning, as `bima policy check --strict`"),
	CLI_FN("ringbuf-size", "BYTES", A, ringbuf_size, parse_ringbuf, CLI_KEY,
	       "ring buffer size, a power of two of at least 4096 (4194304)"),
	CLI_FLAG("fail-closed", A, fail_closed, CLI_KEY,
		 "deny (EPERM) an operation the policy measures whose record\n"
		 "cannot be made: the ring buffer is full, or no daemon has\n"
		 "shown a sign of life for --grace seconds. bima itself is let\n"
		 "through. Risk: a host whose daemon stops, or cannot keep up,\n"
		 "can run nothing new until a daemon runs again or\n"
		 "`bima stop --unload` removes the hooks"),
	CLI_ULONG("grace", "SECONDS", A, grace, 1, 3600, CLI_KEY,
		  "with --fail-closed: how long the daemon may be absent, 1-3600\n"
		  "(10)"),
	CLI_ULONG("max-extend-lag", "MS", A, max_lag, 1, 3600000, CLI_KEY,
		  "with --fail-closed: also deny what the policy measures while\n"
		  "an entry has waited for the TPM longer than MS, 1-3600000\n"
		  "(no bound): the longest a logged measurement stays out of\n"
		  "the PCR while measured operations go on"),
	CLI_ULONG("snapshot-entries", "N", A, snap_entries, 0, 1ul << 40, CLI_KEY,
		  "take a snapshot every N log entries; 0: never (" DEFAULT_SNAP_ENTRIES_S ")"),
	CLI_ULONG("snapshot-interval", "SECONDS", A, snap_interval, 0, 30 * 86400, CLI_KEY,
		  "and every so many seconds; 0: never (" DEFAULT_SNAP_INTERVAL_S ").\n"
		  "A snapshot logs a snapshot_aggregate entry, has the TPM\n"
		  "quote it, closes the segment and has the kernel keep an\n"
		  "anchor; `bima snapshot` takes one now"),
	CLI_FN("retention", "keep|compress|remove", A, retention, parse_retention, CLI_KEY,
	       "after each snapshot, what becomes of the segments up to\n"
	       "the one closed by the newest quoted anchor (or the N-th\n"
	       "newest, --retention-anchors N): kept as they are (keep,\n"
	       "the default), gzip-compressed in place (the log still\n"
	       "verifies from its start), or removed with the older\n"
	       "anchors (it verifies from that anchor on)"),
	CLI_ULONG("retention-anchors", "N", A, retention_anchors, 1, 1000, CLI_KEY,
		  "how many of the newest quoted anchors keep the segments\n"
		  "after them as written, 1-1000 (1)"),
	CLI_FN("ascii", "PATH|none", A, ascii, cli_path_or_none, CLI_KEY,
	       "keep the epoch's ASCII list (ascii_runtime_measurements,\n"
	       "what the kernel would print for the log's entries) in its\n"
	       "directory, each entry's line durable before its extend, and\n"
	       "link PATH to it, for a Keylime agent's ima_ml_path;\n"
	       "on PCR 10 by default (" ASCII_DEFAULT_LINK "), else none"),
	CLI_FN("template", "auto|ima-ng|" TEMPLATE_CT, A, template, cli_template, CLI_KEY,
	       "the file entries' template: " TEMPLATE_CT " holds the cgroup, mount\n"
	       "namespace and container in the entry itself; ima-ng, which\n"
	       "Keylime and IMA's tools parse, is preceded by an ima-buf\n" CONTAINER_MARK_NAME
	       " entry whenever they change. auto\n"
	       "(the default): ima-ng where the ASCII list is kept (PCR 10,\n"
	       "or --ascii), else " TEMPLATE_CT),
	CLI_FN("control", "PATH|none", A, control, cli_control, CLI_KEY,
	       "listen on this Unix socket (" CONTROL_DEFAULT ") for\n"
	       "`bima status`, `bima snapshot` and `bima stop`, from root\n"
	       "only (SO_PEERCRED); a daemon already listening there makes\n"
	       "this one refuse to start; none: no socket"),
	CLI_FN("protect", "yes|no", A, protect, parse_protect, CLI_KEY,
	       "self-protection: while the daemon runs, the hooks refuse\n"
	       "(EPERM) every other process writing, truncating, chmod,\n"
	       "chown, creating, unlinking or renaming anything in DIR or\n" LOADER_PIN_DIR
	       ", and writing bima's maps, running its\n"
	       "programs or detaching its links; reading stays open, and\n"
	       "bima itself may still put a policy in force. When the\n"
	       "daemon exits, nothing is refused until the next one runs.\n"
	       "By default on, unless the kernel lacks the hooks, bima runs\n"
	       "in a PID namespace of its own, or DIR holds files that are\n"
	       "not bima's (yes protects them too). To remove old logs,\n"
	       "`bima stop` first"),
	CLI_FN("metrics-file", "PATH", A, metrics_file, parse_metrics_file, CLI_KEY,
	       "rewrite PATH with the daemon's metrics in the Prometheus\n"
	       "text format, for node_exporter's textfile collector (name\n"
	       "it *.prom): every " METRICS_FILE_INTERVAL_STR " seconds and when the daemon\n"
	       "stops, atomically (a temporary file beside it, renamed)"),
	CLI_VERBOSE("print every measurement; twice, also libbpf's detail"),
	{},
};
#undef A

const struct cli_command cli_run = { .usage = usage, .opts = opts, .col = 23 };

const char *cli_ascii_link(const char *ascii, unsigned long pcr)
{
	if (ascii)
		return strcmp(ascii, "none") ? ascii : NULL;
	return pcr == 10 ? ASCII_DEFAULT_LINK : NULL;
}

bool cli_ct_template(const char *template, const char *ascii_link)
{
	if (template && strcmp(template, "auto"))
		return !strcmp(template, TEMPLATE_CT);
	return !ascii_link;
}

/* The policy, compiled and checked against the PCR before anything starts; 0 or an exit status. */
static int run_policy(const struct run_args *a, struct policy *p)
{
	int err = policy_read(p, a->policy, a->strict_policy ? POLICY_STRICT : 0);

	if (err > 0)
		pr_usage("policy %s: %d error(s); nothing was started", a->policy, err);
	if (!err && policy_check_pcr(p, a->policy ?: "built-in", a->pcr))
		err = 1;
	return err ? 2 : 0;
}

int cmd_run(int argc, char **argv)
{
	static struct policy p;
	struct collector_opts o;
	struct run_args a = { .log_dir = DEFAULT_LOG_DIR,
			      .tcti = DEFAULT_TCTI,
			      .pcr = 10,
			      .ringbuf_size = DEFAULT_RINGBUF,
			      .control = CONTROL_DEFAULT,
			      .snap_entries = DEFAULT_SNAP_ENTRIES,
			      .snap_interval = DEFAULT_SNAP_INTERVAL,
			      .retention_anchors = 1 };
	const char *ascii;
	int err = cli_parse(&cli_run, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if ((a.grace || a.max_lag) && !a.fail_closed) {
		pr_usage("%s applies only with --fail-closed",
			 a.grace ? "--grace" : "--max-extend-lag");
		return 2;
	}
	err = run_policy(&a, &p);
	policy_free(&p);
	if (err)
		return err;
	ascii = cli_ascii_link(a.ascii, a.pcr);
	o = (struct collector_opts){ .log_dir = a.log_dir,
				     .tcti = a.tcti,
				     .pcr = a.pcr,
				     .ringbuf_size = a.ringbuf_size,
				     .fail_closed = a.fail_closed,
				     .grace_ms = (a.grace ?: DEFAULT_GRACE_S) * 1000,
				     .max_lag_ms = a.max_lag,
				     .policy = &p.map,
				     .policy_given = a.policy,
				     .snapshot_entries = a.snap_entries,
				     .snapshot_interval = a.snap_interval,
				     .retention = a.retention,
				     .retention_anchors = a.retention_anchors,
				     .ascii_link = ascii,
				     .ct_template = cli_ct_template(a.template, ascii),
				     .control = a.control,
				     .protect = a.protect,
				     .metrics_file = a.metrics_file };
	return collector_run(&o) ? 1 : 0;
}
