// SPDX-License-Identifier: GPL-2.0-only
/* bima: command-line dispatch only. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ak.h"
#include "anchor.h"
#include "ascii.h"
#include "bundle.h"
#include "collector.h"
#include "container.h"
#include "config.h"
#include "control.h"
#include "hashalg.h"
#include "keylime.h"
#include "loader.h"
#include "cel.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"
#include "protect.h"
#include "runtime_policy.h"
#include "verify.h"
#include "views.h"

#ifndef BIMA_VERSION
#define BIMA_VERSION "0.1.0"
#endif

#define DEFAULT_LOG_DIR "/var/lib/bima"
#define DEFAULT_TCTI "device:/dev/tpmrm0"
#define DEFAULT_RINGBUF (4u << 20)
#define DEFAULT_GRACE_S 10
#define DEFAULT_SNAP_ENTRIES 100000
#define DEFAULT_SNAP_ENTRIES_S "100000"
#define DEFAULT_SNAP_INTERVAL 3600
#define DEFAULT_SNAP_INTERVAL_S "3600"
#define STATUS_TIMEOUT_MS 10000
#define SNAPSHOT_TIMEOUT_MS (CONTROL_SNAPSHOT_MS + 5000) /* the daemon answers within this */
#define STOP_TIMEOUT_MS 60000

static const char usage[] =
	"Usage: bima COMMAND [OPTIONS]\n"
	"\n"
	"File measurement with BPF-LSM: the kernel hashes, bima logs and extends the TPM.\n"
	"\n"
	"Commands:\n"
	"  run      load the BPF-LSM programs and collect measurements until SIGINT/SIGTERM\n"
	"  log      print an epoch's log in IMA's ASCII format\n"
	"  verify   replay an epoch's log, from its start or an anchor, against the TPM or a\n"
	"           quote, and optionally a Keylime runtime policy\n"
	"  status   show what the running daemon is doing (through its control socket)\n"
	"  stop     stop the running daemon; with --unload also remove the BPF programs\n"
	"  snapshot have the running daemon take a snapshot now\n"
	"  ak       export the attestation key's public key (PEM)\n"
	"  quote    have the TPM quote the PCR, and hand it over with the log\n"
	"  keylime  check what a Keylime agent on this host needs\n"
	"  policy   check a measurement policy, put one in force, print the built-in one,\n"
	"           or export a Keylime runtime policy\n"
	"  help     show this text; `bima COMMAND --help` shows a command's options\n"
	"  version  print the version\n"
	"\n"
	"A command that takes options (all but policy) reads " CONFIG_DEFAULT " first, if\n"
	"it exists, or the file of --config FILE given as its first option (--config\n"
	"none: no file). Its lines are \"key = value\", a key one of bima run's long\n"
	"options (yes or no for one without a value); a command takes the keys it has\n"
	"options for, and its command line has the last word.\n"
	"\n"
	"See bima(8), and bima-COMMAND(8) for each command.\n";

static const char run_usage[] =
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
	"\n"
	"  --log-dir DIR        log directory, one directory per TPM epoch (" DEFAULT_LOG_DIR ")\n"
	"  --tcti TCTI          TPM access, tpm2-tss TCTI string (" DEFAULT_TCTI ")\n"
	"  --pcr N              PCR to extend, 0-23 (10: the log then starts with the kernel's\n"
	"                       own IMA boot_aggregate and replays PCR 10 exactly)\n"
	"  --policy FILE        the measurement policy (see `bima policy --help`); without\n"
	"                       it, a new load uses the built-in one (`bima policy default`)\n"
	"                       and a daemon that adopts pinned programs keeps theirs\n"
	"  --strict-policy      refuse the policy's IMA rules bima would skip or drop with\n"
	"                       a warning, as `bima policy check --strict`\n"
	"  --ringbuf-size BYTES ring buffer size, a power of two of at least 4096 (4194304)\n"
	"  --fail-closed        deny (EPERM) an operation the policy measures whose record\n"
	"                       cannot be made: the ring buffer is full, or no daemon has\n"
	"                       shown a sign of life for --grace seconds. bima itself is let\n"
	"                       through. Risk: a host whose daemon stops, or cannot keep up,\n"
	"                       can run nothing new until a daemon runs again or\n"
	"                       `bima stop --unload` removes the hooks\n"
	"  --grace SECONDS      with --fail-closed: how long the daemon may be absent, 1-3600\n"
	"                       (10)\n"
	"  --max-extend-lag MS  with --fail-closed: also deny what the policy measures while\n"
	"                       an entry has waited for the TPM longer than MS, 1-3600000\n"
	"                       (no bound): the longest a logged measurement stays out of\n"
	"                       the PCR while measured operations go on\n"
	"  --snapshot-entries N take a snapshot every N log entries; 0: never "
	"(" DEFAULT_SNAP_ENTRIES_S ")\n"
	"  --snapshot-interval SECONDS\n"
	"                       and every so many seconds; 0: never (" DEFAULT_SNAP_INTERVAL_S
	").\n"
	"                       A snapshot logs a snapshot_aggregate entry, has the TPM\n"
	"                       quote it, closes the segment and has the kernel keep an\n"
	"                       anchor; `bima snapshot` takes one now\n"
	"  --retention keep|compress|remove\n"
	"                       after each snapshot, what becomes of the segments up to\n"
	"                       the one closed by the newest quoted anchor (or the N-th\n"
	"                       newest, --retention-anchors N): kept as they are (keep,\n"
	"                       the default), gzip-compressed in place (the log still\n"
	"                       verifies from its start), or removed with the older\n"
	"                       anchors (it verifies from that anchor on)\n"
	"  --retention-anchors N\n"
	"                       how many of the newest quoted anchors keep the segments\n"
	"                       after them as written, 1-1000 (1)\n"
	"  --ascii PATH|none    keep the epoch's ASCII list (ascii_runtime_measurements,\n"
	"                       what the kernel would print for the log's entries) in its\n"
	"                       directory, each entry's line durable before its extend, and\n"
	"                       link PATH to it, for a Keylime agent's ima_ml_path;\n"
	"                       on PCR 10 by default (" ASCII_DEFAULT_LINK "), else none\n"
	"  --template auto|ima-ng|" TEMPLATE_CT "\n"
	"                       the file entries' template: " TEMPLATE_CT
	" holds the cgroup, mount\n"
	"                       namespace and container in the entry itself; ima-ng, which\n"
	"                       Keylime and IMA's tools parse, is preceded by an ima-buf\n"
	"                       " CONTAINER_MARK_NAME " entry whenever they change. auto\n"
	"                       (the default): ima-ng where the ASCII list is kept (PCR 10,\n"
	"                       or --ascii), else " TEMPLATE_CT "\n"
	"  --control PATH|none  listen on this Unix socket (" CONTROL_DEFAULT ") for\n"
	"                       `bima status`, `bima snapshot` and `bima stop`, from root\n"
	"                       only (SO_PEERCRED); a daemon already listening there makes\n"
	"                       this one refuse to start; none: no socket\n"
	"  --protect yes|no     self-protection: while the daemon runs, the hooks refuse\n"
	"                       (EPERM) every other process writing, truncating, chmod,\n"
	"                       chown, creating, unlinking or renaming anything in DIR or\n"
	"                       " LOADER_PIN_DIR ", and writing bima's maps, running its\n"
	"                       programs or detaching its links; reading stays open, and\n"
	"                       bima itself may still put a policy in force. When the\n"
	"                       daemon exits, nothing is refused until the next one runs.\n"
	"                       By default on, unless the kernel lacks the hooks, bima runs\n"
	"                       in a PID namespace of its own, or DIR holds files that are\n"
	"                       not bima's (yes protects them too). To remove old logs,\n"
	"                       `bima stop` first\n"
	"  --metrics-file PATH  rewrite PATH with the daemon's metrics in the Prometheus\n"
	"                       text format, for node_exporter's textfile collector (name\n"
	"                       it *.prom): every " METRICS_FILE_INTERVAL_STR
	" seconds and when the daemon\n"
	"                       stops, atomically (a temporary file beside it, renamed)\n"
	"  -v, --verbose        print every measurement; twice, also libbpf's detail\n";

static const char log_usage[] =
	"Usage: bima log [--log-dir DIR] [--epoch NAME] [--container ID] [--json]\n"
	"       bima log [--log-dir DIR] [--epoch NAME] --format cel-json|cel-json-array\n"
	"\n"
	"Print the log of the newest TPM epoch (or of --epoch, a directory name such as\n"
	"epoch-0-0) as \"PCR template-hash template-name algo:digest path\" lines, as\n"
	"IMA's ASCII list has them; " TEMPLATE_CT " entries go on with \"cgroup-id mnt-ns\n"
	"runtime container cgroup-path\" (\"-\" for an empty one). Entries of the\n"
	"kernel's other templates (ima, ima-ngv2, evm-sig, an ima_template_fmt=, ...)\n"
	"print as the kernel prints them. The log is not checked against the TPM here\n"
	"(`bima verify` does). Exits 1 at the first corrupt entry, after the entries\n"
	"before it.\n"
	"\n"
	"  --log-dir DIR   log directory (" DEFAULT_LOG_DIR ")\n"
	"  --epoch NAME    epoch directory to print\n"
	"  --container ID  only the file entries of this container: a prefix of its id,\n"
	"                  RUNTIME:PREFIX (docker, containerd, cri, cri-o, podman, nspawn),\n"
	"                  or host for those of no container\n"
	"  --json          one JSON object per entry and line: segment, index, pcr,\n"
	"                  template_hash, template, algo, digest, path, buf (ima-buf), and\n"
	"                  for file entries group, cgroup_id, mnt_ns, runtime, container,\n"
	"                  cgroup\n"
	"  --format cel-json\n"
	"                  the TCG Canonical Event Log in JSON, one record per entry:\n"
	"                  recnum, pcr, digests (hashAlg, digest: what was extended into\n"
	"                  each bank, in hex), content_type ima_template, content\n"
	"                  (template_name, template_data in hex); as RFC 7464 JSON text\n"
	"                  sequences (RS before, LF after each record), as systemd writes\n"
	"                  /run/log/systemd/tpm2-measure.log. The banks are those the\n"
	"                  log's first snapshot names, else sha1, sha256, sha384 and\n"
	"                  sha512. A log whose first segments retention removed is\n"
	"                  refused (exit 1): a replay from zero could not match it\n"
	"  --format cel-json-array\n"
	"                  the same records as one JSON array\n";

static const char verify_usage[] =
	"Usage: bima verify [--log-dir DIR] [--tcti TCTI] [--epoch NAME] [--since ID]\n"
	"                   [--reject-userspace-hashes] [--runtime-policy FILE]\n"
	"                   [--by-container [--allowlist FILE] [--json]]\n"
	"       bima verify --quote PREFIX --ak FILE --nonce HEX [--log-dir DIR] [--since ID]\n"
	"\n"
	"Check each entry's template hash and each snapshot against the log before it\n"
	"(its id, the previous one it names, its TPM epoch, the entries it counts, the\n"
	"digests of the segment it closes, the PCR values) and its quote (the attestation\n"
	"key's signature, the nonce, the TPM epoch and clock, the PCR digest). Then replay\n"
	"the log in every bank and compare it with the TPM's PCRs, or, with --quote and no\n"
	"TPM at all, with the PCR digest of a quote that `bima quote` made. A log that runs\n"
	"ahead of the TPM or the quote (a prefix of it matches: the rest came later) is\n"
	"accepted, and said so. The log is read from the start of the epoch or, where\n"
	"retention removed the segments before, from the oldest anchor left.\n"
	"\n"
	"Exit status: 0 verified, 1 the log is corrupt, altered or does not match (the\n"
	"first bad entry, and the cause where the log tells it, are named; a malformed\n"
	"quote, a kernel sequence number neither logged nor counted lost, and under\n"
	"--runtime-policy any violation fail too), 2 could not verify (usage, no log, no\n"
	"TPM, a missing or unreadable quote or key, --quote without --ak).\n"
	"Everything in the directory verified is taken as hostile: keys come only from\n"
	"--ak or the TPM, and a violation's name and digest, which the PCR does not\n"
	"cover, count for nothing.\n"
	"Then \"note:\" lines tell what the log records: lost measurements, unhashed files,\n"
	"violations, files hashed in userspace, torn or inconsistent entries, entries\n"
	"extended from the log alone at a start, kexecs, whether every kernel sequence\n"
	"number is logged or counted lost, the snapshots and quotes checked, and the\n"
	"anchor it started from.\n"
	"\n"
	"  --log-dir DIR   log directory (" DEFAULT_LOG_DIR "), or the directory `bima quote`\n"
	"                  wrote\n"
	"  --tcti TCTI     TPM access (" DEFAULT_TCTI ")\n"
	"  --epoch NAME    verify this epoch directory instead of the TPM's (or the quote's)\n"
	"  --since ID      start from anchor ID (its snapshot_aggregate entry, kept as\n"
	"                  anchor-ID.bin), whose quote must verify: the entries before it\n"
	"                  are not checked\n"
	"  --quote PREFIX  compare with the quote in PREFIX.attest and PREFIX.sig instead of\n"
	"                  the TPM; the epoch is the quote's\n"
	"  --ak FILE       the attestation key's public key, PEM (`bima ak export`), for\n"
	"                  every quote; needed with --quote (never a key from the directory\n"
	"                  verified), else the log directory's, if the TPM holds it\n"
	"  --nonce HEX     with --quote: the nonce the quote must be over, 1 to 64 bytes\n"
	"  --runtime-policy FILE\n"
	"                  fail (1) unless every entry passes FILE, a Keylime runtime policy\n"
	"                  (`bima policy export-keylime`): its name matches an exclude, or\n"
	"                  its digest is among those FILE allows for its name\n"
	"  --reject-userspace-hashes\n"
	"                  fail (1) if bima hashed any file in userspace because the kernel\n"
	"                  could not (a bima_userspace_hash entry precedes each)\n"
	"  --by-container  then summarise the file entries per container (\"runtime:id\",\n"
	"                  \"host\", or \"unattributed\" for ima-ng entries no " CONTAINER_MARK_NAME
	"\n"
	"                  entry precedes in their segment): entries and unique files\n"
	"  --allowlist FILE\n"
	"                  with --by-container: also count and name each container's file\n"
	"                  digests not in FILE, a Keylime runtime policy (its digests, for\n"
	"                  any name) or lines \"HEX-DIGEST [PATH]\" as sha256sum prints them\n"
	"  --json          with --by-container: print the summary as one JSON object on\n"
	"                  standard output (\"verdict\": verified, mismatch or error, and\n"
	"                  \"containers\"), and the report above on standard error\n";

static const char stop_usage[] =
	"Usage: bima stop [--unload [--force]] [--control PATH|none] [--log-dir DIR]\n"
	"                 [--tcti TCTI] [--pcr N] [--ascii PATH|none]\n"
	"                 [--template auto|ima-ng|" TEMPLATE_CT "]\n"
	"\n"
	"Ask the running bima daemon, through its control socket, to stop, and wait until\n"
	"it has logged and extended what it read and exited (60 s at most). A daemon that\n"
	"does not listen there (`bima run --control none`) but is named in the pinned\n"
	"bima_config map is sent SIGTERM instead, and this says so. The BPF-LSM hooks stay\n"
	"attached and keep measuring into the ring buffer; the next `bima run` logs what\n"
	"queued up meanwhile. Exit status: 0 stopped, or no daemon ran (with --unload:\n"
	"and the pins are removed), 1 it did not stop, the socket refused this user, or\n"
	"the unload failed, 2 usage.\n"
	"\n"
	"  --control PATH|none\n"
	"                the daemon's control socket (" CONTROL_DEFAULT "); none: signal it\n"
	"  --unload      then detach the hooks, log every record still queued (which needs\n"
	"                the log and the TPM, as for `bima run`), and remove every pin in\n"
	"                " LOADER_PIN_DIR ", naming each\n"
	"  --force       with --unload: remove the pins without logging what is queued\n"
	"                (for pins of another bima build or a broken pin set); queued\n"
	"                records are lost, and no entry in the log says so\n"
	"  --log-dir, --tcti, --pcr, --ascii, --template   as for `bima run`; the PCR is\n"
	"                the pinned programs' unless --pcr (or the configuration file) names one\n";

static const char policy_usage[] =
	"Usage: bima policy check [--strict] FILE\n"
	"       bima policy load [--strict] FILE\n"
	"       bima policy default\n"
	"       bima policy export-keylime (--tree DIR... | --log) [--exclude REGEX...]\n"
	"                                  [--log-dir DIR] [--epoch NAME]\n"
	"\n"
	"check    compile FILE, a policy in IMA's policy language (measure, dont_measure;\n"
	"         func=, mask=, uid=, euid=, fowner=, fgroup= with =, < or >; fsmagic=,\n"
	"         fsuuid=, pcr=; and bima's cgroup= and func=BPF_CHECK), and print the\n"
	"         compiled rules. Every error is printed as FILE:LINE:COLUMN: reason.\n"
	"         cgroup= takes a path below " POLICY_CGROUP_ROOT " or a container runtime's\n"
	"         layout: kubepods, machine, or RUNTIME:ID (a running container).\n"
	"         An IMA policy loads as it is, each of these with a warning: rules of\n"
	"         IMA's other actions (appraise, dont_appraise, audit, hash, dont_hash)\n"
	"         are skipped, as they change nothing measured; a dont_measure rule\n"
	"         with a condition bima cannot evaluate (LSM labels, fsname=, gid=, ...)\n"
	"         is dropped, so bima measures more; lines kernel IMA would refuse are\n"
	"         named. --strict makes each of these an error\n"
	"load     compile FILE and put it in force in the running BPF programs, replacing\n"
	"         the policy in force at once; the log records the change as an entry\n"
	"         named bima_policy whose digest is FILE's sha256. A policy whose pcr=\n"
	"         is not the PCR bima extends is refused\n"
	"default  print the built-in policy: IMA's ima_policy=tcb, the kexec rules IMA's\n"
	"         architecture policy adds under secure boot, and BPF_CHECK\n"
	"export-keylime\n"
	"         print a Keylime runtime policy (JSON) that allows the sha256 of every\n"
	"         regular file under each DIR (mounts not crossed), or every entry of the\n"
	"         newest epoch's log (--log, or --epoch) but those recording a fault; it\n"
	"         excludes bima's bookkeeping entries (bima_seq, snapshot_aggregate,\n"
	"         " CONTAINER_MARK_NAME ") and each REGEX (matched at the start of a name,\n"
	"         as Keylime does). Exit\n"
	"         status: 0 printed, 1 a tree or the log cannot be read, 2 usage\n"
	"\n"
	"The kernel evaluates the rules in order and the first that matches decides, as\n"
	"in IMA; what no rule matches is not measured. Exit status: 0 done, 1 errors in\n"
	"FILE or the policy could not be put in force, 2 FILE cannot be read.\n";

enum {
	OPT_LOG_DIR = 256,
	OPT_TCTI,
	OPT_PCR,
	OPT_RINGBUF,
	OPT_FAIL_CLOSED,
	OPT_GRACE,
	OPT_MAX_LAG,
	OPT_EPOCH,
	OPT_UNLOAD,
	OPT_FORCE,
	OPT_POLICY,
	OPT_REJECT_UHASH,
	OPT_SNAP_ENTRIES,
	OPT_SNAP_INTERVAL,
	OPT_NONCE,
	OPT_OUT,
	OPT_QUOTE,
	OPT_AK,
	OPT_SINCE,
	OPT_RETENTION,
	OPT_RETENTION_ANCHORS,
	OPT_ASCII,
	OPT_RUNTIME_POLICY,
	OPT_TEMPLATE,
	OPT_CONTAINER,
	OPT_BY_CONTAINER,
	OPT_ALLOWLIST,
	OPT_JSON,
	OPT_CONTROL,
	OPT_PROTECT,
	OPT_STRICT_POLICY,
	OPT_METRICS_FILE,
	OPT_FORMAT,
};

static const struct option options[] = {
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "tcti", required_argument, NULL, OPT_TCTI },
	{ "pcr", required_argument, NULL, OPT_PCR },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "fail-closed", no_argument, NULL, OPT_FAIL_CLOSED },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "max-extend-lag", required_argument, NULL, OPT_MAX_LAG },
	{ "epoch", required_argument, NULL, OPT_EPOCH },
	{ "unload", no_argument, NULL, OPT_UNLOAD },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "reject-userspace-hashes", no_argument, NULL, OPT_REJECT_UHASH },
	{ "snapshot-entries", required_argument, NULL, OPT_SNAP_ENTRIES },
	{ "snapshot-interval", required_argument, NULL, OPT_SNAP_INTERVAL },
	{ "nonce", required_argument, NULL, OPT_NONCE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "quote", required_argument, NULL, OPT_QUOTE },
	{ "ak", required_argument, NULL, OPT_AK },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "retention-anchors", required_argument, NULL, OPT_RETENTION_ANCHORS },
	{ "ascii", required_argument, NULL, OPT_ASCII },
	{ "runtime-policy", required_argument, NULL, OPT_RUNTIME_POLICY },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "by-container", no_argument, NULL, OPT_BY_CONTAINER },
	{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "protect", required_argument, NULL, OPT_PROTECT },
	{ "strict-policy", no_argument, NULL, OPT_STRICT_POLICY },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

struct args {
	const char *log_dir;
	const char *tcti;
	const char *epoch;
	const char *policy;
	const char *nonce, *out;
	const char *quote, *ak;
	const char *ascii; /* --ascii, or NULL when not given */
	const char *runtime_policy;
	const char *template; /* --template, or NULL when not given */
	const char *container, *allowlist;
	const char *control; /* the control socket, or NULL for none */
	const char *format;  /* --format, or NULL when not given */
	const char *metrics_file;
	unsigned long since;
	enum retention retention;
	unsigned long retention_anchors;
	unsigned long pcr;
	bool pcr_given; /* --pcr, or the configuration file's pcr */
	unsigned long ringbuf_size;
	unsigned long grace;   /* seconds; 0 when not given */
	unsigned long max_lag; /* ms; 0 when not given */
	unsigned long snap_entries, snap_interval;
	bool fail_closed;
	bool unload;
	bool force;
	bool reject_uhash;
	bool strict_policy;
	bool by_container, json;
	enum protect_mode protect; /* PROTECT_AUTO when not given */
};

/* bima run's options: also the keys of the configuration file. */
static const int run_opts[] = { OPT_LOG_DIR,
				OPT_TCTI,
				OPT_PCR,
				OPT_RINGBUF,
				OPT_FAIL_CLOSED,
				OPT_GRACE,
				OPT_MAX_LAG,
				OPT_POLICY,
				OPT_STRICT_POLICY,
				OPT_SNAP_ENTRIES,
				OPT_SNAP_INTERVAL,
				OPT_RETENTION,
				OPT_RETENTION_ANCHORS,
				OPT_ASCII,
				OPT_TEMPLATE,
				OPT_CONTROL,
				OPT_PROTECT,
				OPT_METRICS_FILE,
				0 };

/* A number of min..max; an error names the option and the range. */
static int parse_ulong(const char *opt, const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || *out < min || *out > max) {
		fprintf(stderr, "bima: %s: invalid value \"%s\" (%lu..%lu)\n", opt, s, min, max);
		return -EINVAL;
	}
	return 0;
}

/* Parse the options; `allowed` lists the OPT_* a command takes. Returns 1 for --help. */
static int parse_args(int argc, char **argv, const char *help, const int *allowed, struct args *a)
{
	int opt;

	*a = (struct args){ .log_dir = DEFAULT_LOG_DIR,
			    .tcti = DEFAULT_TCTI,
			    .pcr = 10,
			    .ringbuf_size = DEFAULT_RINGBUF,
			    .control = CONTROL_DEFAULT,
			    .snap_entries = DEFAULT_SNAP_ENTRIES,
			    .snap_interval = DEFAULT_SNAP_INTERVAL,
			    .retention_anchors = 1 };
	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		bool ok = opt == 'v' || opt == 'h';

		for (const int *p = allowed; *p; p++)
			ok |= *p == opt;
		if (!ok || opt == '?') {
			if (opt != '?')
				fprintf(stderr, "bima: option %s does not apply to this command\n",
					argv[optind - 1]);
			fputs(help, stderr);
			return -EINVAL;
		}
		switch (opt) {
		case 'v':
			msg_verbosity++;
			msg_max_level = MSG_DEBUG;
			break;
		case 'h':
			fputs(help, stdout);
			return 1;
		case OPT_LOG_DIR:
			a->log_dir = optarg;
			break;
		case OPT_TCTI:
			a->tcti = optarg;
			break;
		case OPT_EPOCH:
			a->epoch = optarg;
			break;
		case OPT_POLICY:
			a->policy = optarg;
			break;
		case OPT_STRICT_POLICY:
			a->strict_policy = true;
			break;
		case OPT_NONCE:
			a->nonce = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_QUOTE:
			a->quote = optarg;
			break;
		case OPT_AK:
			a->ak = optarg;
			break;
		case OPT_RUNTIME_POLICY:
			a->runtime_policy = optarg;
			break;
		case OPT_TEMPLATE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "ima-ng") &&
			    strcmp(optarg, TEMPLATE_CT)) {
				fprintf(stderr,
					"bima: --template: \"%s\" is not auto, ima-ng or "
					"%s\n",
					optarg, TEMPLATE_CT);
				return -EINVAL;
			}
			a->template = optarg;
			break;
		case OPT_CONTAINER:
			a->container = optarg;
			break;
		case OPT_ALLOWLIST:
			a->allowlist = optarg;
			break;
		case OPT_BY_CONTAINER:
			a->by_container = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_FORMAT:
			a->format = optarg;
			break;
		case OPT_PROTECT:
			if (protect_parse(optarg, &a->protect)) {
				fprintf(stderr, "bima: --protect: yes or no, not \"%s\"\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_ASCII:
			if (optarg[0] != '/' && strcmp(optarg, "none")) {
				fprintf(stderr, "bima: --ascii: an absolute path, or none\n");
				return -EINVAL;
			}
			a->ascii = optarg;
			break;
		case OPT_CONTROL:
			if (optarg[0] != '/' && strcmp(optarg, "none")) {
				fprintf(stderr, "bima: --control: an absolute path, or none\n");
				return -EINVAL;
			}
			a->control = strcmp(optarg, "none") ? optarg : NULL;
			break;
		case OPT_METRICS_FILE:
			if (optarg[0] != '/') {
				fprintf(stderr, "bima: --metrics-file: an absolute path\n");
				return -EINVAL;
			}
			a->metrics_file = optarg;
			break;
		case OPT_SINCE:
			if (parse_ulong("--since", optarg, 1, ~0ul, &a->since))
				return -EINVAL;
			break;
		case OPT_RETENTION:
			if (anchor_retention_parse(optarg, &a->retention)) {
				fprintf(stderr,
					"bima: --retention: \"%s\" is not keep, compress or "
					"remove\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_RETENTION_ANCHORS:
			if (parse_ulong("--retention-anchors", optarg, 1, 1000,
					&a->retention_anchors))
				return -EINVAL;
			break;
		case OPT_UNLOAD:
			a->unload = true;
			break;
		case OPT_FORCE:
			a->force = true;
			break;
		case OPT_REJECT_UHASH:
			a->reject_uhash = true;
			break;
		case OPT_FAIL_CLOSED:
			a->fail_closed = true;
			break;
		case OPT_GRACE:
			if (parse_ulong("--grace", optarg, 1, 3600, &a->grace))
				return -EINVAL;
			break;
		case OPT_MAX_LAG:
			if (parse_ulong("--max-extend-lag", optarg, 1, 3600000, &a->max_lag))
				return -EINVAL;
			break;
		case OPT_PCR:
			if (parse_ulong("--pcr", optarg, 0, 23, &a->pcr))
				return -EINVAL;
			a->pcr_given = true;
			break;
		case OPT_SNAP_ENTRIES:
			if (parse_ulong("--snapshot-entries", optarg, 0, 1ul << 40,
					&a->snap_entries))
				return -EINVAL;
			break;
		case OPT_SNAP_INTERVAL:
			if (parse_ulong("--snapshot-interval", optarg, 0, 30 * 86400,
					&a->snap_interval))
				return -EINVAL;
			break;
		case OPT_RINGBUF:
			if (parse_ulong("--ringbuf-size", optarg, 0, 1ul << 30, &a->ringbuf_size))
				return -EINVAL;
			if (a->ringbuf_size < 4096 || (a->ringbuf_size & (a->ringbuf_size - 1))) {
				fprintf(stderr,
					"bima: --ringbuf-size: %lu is not a power of two "
					"of at least 4096\n",
					a->ringbuf_size);
				return -EINVAL;
			}
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bima: unexpected argument \"%s\"\n", argv[optind]);
		fputs(help, stderr);
		return -EINVAL;
	}
	return 0;
}

/* Where the epoch's ASCII list is linked: --ascii, by default only on PCR 10. */
static const char *ascii_link(const struct args *a)
{
	if (a->ascii)
		return strcmp(a->ascii, "none") ? a->ascii : NULL;
	return a->pcr == 10 ? ASCII_DEFAULT_LINK : NULL;
}

/* Whether file entries are bima-ct: --template, by default unless an ASCII list is kept. */
static bool ct_template(const struct args *a)
{
	if (a->template && strcmp(a->template, "auto"))
		return !strcmp(a->template, TEMPLATE_CT);
	return !ascii_link(a);
}

#define CONFIG_MAX 64 /* settings in a configuration file */
#define ARGS_MAX 63   /* arguments of a command, after its name and --config FILE */

/* The settings of a configuration file, as "--key=value" arguments. */
struct config {
	const char *path;
	char *args[CONFIG_MAX];
	int n;
};

static int config_setting(const char *key, const char *value, unsigned int line, void *arg)
{
	struct config *c = arg;
	const struct option *o;
	struct args scratch;
	char *check[2] = { "bima", NULL };
	bool flag;

	for (o = options; o->name && strcmp(o->name, key); o++)
		;
	for (const int *p = run_opts; o->name && *p; p++)
		if (*p == o->val)
			goto known;
	fprintf(stderr, "bima: %s:%u: unknown key \"%s\" (the keys are bima run's long options)\n",
		c->path, line, key);
	return -EINVAL;
known:
	flag = o->has_arg == no_argument;
	if (flag && strcmp(value, "yes") && strcmp(value, "no")) {
		fprintf(stderr, "bima: %s:%u: %s takes yes or no, not \"%s\"\n", c->path, line, key,
			value);
		return -EINVAL;
	}
	if (flag && !strcmp(value, "no"))
		return 0;
	if (c->n == CONFIG_MAX) {
		fprintf(stderr, "bima: %s:%u: more than %d settings\n", c->path, line, CONFIG_MAX);
		return -EINVAL;
	}
	if (flag ? asprintf(&c->args[c->n], "--%s", key) < 0
		 : asprintf(&c->args[c->n], "--%s=%s", key, value) < 0)
		return -ENOMEM;
	/* The value as the option takes it: checked here, so that the line is named. */
	check[1] = c->args[c->n++];
	optind = 0;
	if (parse_args(2, check, "", run_opts, &scratch)) {
		fprintf(stderr, "bima: %s:%u: the setting above is refused\n", c->path, line);
		return -EINVAL;
	}
	return 0;
}

/*
 * Parse a command's options after the settings of the configuration file
 * (--config FILE, or /etc/bima/bima.conf if it exists), which apply where
 * the command takes them; the command line has the last word. Returns 1
 * for --help.
 */
static int parse(int argc, char **argv, const char *help, const int *allowed, struct args *a)
{
	struct config c = { .path = CONFIG_DEFAULT };
	/* The command's name, the settings, the arguments and a NULL. */
	char *merged[1 + CONFIG_MAX + ARGS_MAX + 1];
	int n = 0, err, rest = 1;

	if (argc > 2 && !strcmp(argv[1], "--config")) {
		c.path = argv[2];
		rest = 3;
	}
	if (argc - rest > ARGS_MAX) {
		fprintf(stderr, "bima: too many arguments: %d, at most %d\n", argc - rest,
			ARGS_MAX);
		return -EINVAL;
	}
	err = strcmp(c.path, "none") ? config_read(c.path, config_setting, &c) : 0;
	if (err == -ENOENT && rest == 1)
		err = 0; /* no configuration file: the defaults */
	else if (err == -ENOENT)
		fprintf(stderr, "bima: --config %s: no such file\n", c.path);
	merged[n++] = argv[0];
	for (int i = 0; i < c.n; i++) {
		const char *eq = strchr(c.args[i], '=');
		size_t len = eq ? (size_t)(eq - c.args[i] - 2) : strlen(c.args[i] + 2);
		bool taken = false;

		/* A setting applies to a command that takes the option. */
		for (const struct option *o = options; o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, c.args[i] + 2, len))
				for (const int *p = allowed; *p; p++)
					taken |= *p == o->val;
		if (taken)
			merged[n++] = c.args[i];
	}
	for (int i = rest; i < argc; i++)
		merged[n++] = argv[i];
	merged[n] = NULL;
	optind = 0;
	/* The settings stay allocated: what parse_args() sets points into them. */
	return err ?: parse_args(n, merged, help, allowed, a);
}

static int cmd_run(int argc, char **argv)
{
	static struct policy p;
	struct collector_opts o;
	struct args a;
	int err = parse(argc, argv, run_usage, run_opts, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if ((a.grace || a.max_lag) && !a.fail_closed) {
		fprintf(stderr, "bima: %s applies only with --fail-closed\n",
			a.grace ? "--grace" : "--max-extend-lag");
		return 2;
	}
	err = policy_read(&p, a.policy, a.strict_policy ? POLICY_STRICT : 0);
	if (err > 0)
		fprintf(stderr, "bima: policy %s: %d error(s); nothing was started\n", a.policy,
			err);
	if (!err && policy_check_pcr(&p, a.policy ?: "built-in", a.pcr))
		err = 1;
	policy_free(&p);
	if (err)
		return 2;
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
				     .ascii_link = ascii_link(&a),
				     .ct_template = ct_template(&a),
				     .control = a.control,
				     .protect = a.protect,
				     .metrics_file = a.metrics_file };
	return collector_run(&o) ? 1 : 0;
}

/* The pid of the running daemon named in the pinned config, or 0. */
static int running_daemon(void)
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
 * the pid of a daemon that runs without it, found the old way, which is
 * then sent signal, said so; or 0.
 */
static int daemon_without_socket(const char *path, const char *signal)
{
	int pid = running_daemon();

	if (pid && path)
		pr_notice("no bima daemon listens on %s, but bima (pid %d) runs (with another "
			  "--control, or none): sending it %s",
			  path, pid, signal);
	return pid;
}

/* Ask the daemon to stop, and wait until it has; 0 too if none runs. */
static int stop_daemon(const char *path)
{
	int pid = 0, err = -ENOENT;

	if (path)
		err = control_request(path, "stop", STOP_TIMEOUT_MS, true, NULL, &pid);
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
		pr_err("cannot stop bima (pid %d): %s", pid, strerror(errno));
		return -errno;
	}
	return wait_exit(pid);
}

static int cmd_stop(int argc, char **argv)
{
	static const int allowed[] = { OPT_LOG_DIR, OPT_TCTI,	  OPT_PCR,
				       OPT_UNLOAD,  OPT_FORCE,	  OPT_ASCII,
				       OPT_CONTROL, OPT_TEMPLATE, 0 };
	struct collector_opts o;
	struct bima_config cfg;
	struct args a;
	int err = parse(argc, argv, stop_usage, allowed, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.force && !a.unload) {
		fprintf(stderr, "bima: --force applies only with --unload\n");
		return 2;
	}
	if (stop_daemon(a.control))
		return 1;
	if (!a.unload)
		return 0;
	if (a.force) {
		pr_warn("removing the pins without logging the records still queued");
		loader_unload(NULL);
		return 0;
	}
	/* The PCR the pinned programs were loaded for, unless told otherwise. */
	if (!a.pcr_given && !loader_pinned_config(&cfg) && cfg.pcr != a.pcr) {
		pr_info("the pinned programs extend PCR %u: unloading with it", cfg.pcr);
		a.pcr = cfg.pcr;
	}
	o = (struct collector_opts){ .log_dir = a.log_dir,
				     .tcti = a.tcti,
				     .pcr = a.pcr,
				     .ringbuf_size = DEFAULT_RINGBUF,
				     .unload = true,
				     .ascii_link = ascii_link(&a),
				     .ct_template = ct_template(&a) };
	return collector_run(&o) ? 1 : 0;
}

static const char status_usage[] =
	"Usage: bima status [--control PATH] [--format text|openmetrics|prometheus]\n"
	"\n"
	"Ask the running daemon, through its control socket (" CONTROL_DEFAULT "; root\n"
	"only), what it is doing, and print its answer, a \"name: value\" line each:\n"
	"pid, log-dir, epoch (the TPM epoch's directory), segment (the one written),\n"
	"pcr, load (which load of the BPF programs), entries (the epoch's log entries\n"
	"the TPM holds), logged (records this daemon logged), lost (measurements the log\n"
	"records as lost), unextended-bytes and unextended-entries (durable entries that\n"
	"wait for the TPM), extend-lag-ms (how long the oldest of them has waited),\n"
	"queued-bytes (records in the ring buffer), tpm (reachable or unreachable),\n"
	"snapshot-pending, last-snapshot (the id of the log's last snapshot; 0: none),\n"
	"fail-closed, cache-hits (measurements the re-measurement cache spared since the\n"
	"programs were loaded). Exit status: 0 answered, 1 no daemon listens, it refused\n"
	"this user or did not answer, 2 usage.\n"
	"\n"
	"  --control PATH  the daemon's control socket (" CONTROL_DEFAULT ")\n"
	"  --format text|openmetrics|prometheus\n"
	"                  the \"name: value\" lines (text, the default), or the daemon's\n"
	"                  metrics as OpenMetrics 1.0 text (ending \"# EOF\") or in the\n"
	"                  Prometheus text format 0.0.4; see bima-status(8)\n";

static int cmd_status(int argc, char **argv)
{
	static const int allowed[] = { OPT_CONTROL, OPT_FORMAT, 0 };
	struct bima_cpu_stats cpu;
	enum metrics_format fmt;
	char request[32] = "status";
	struct args a;
	int err = parse(argc, argv, status_usage, allowed, &a), pid;

	if (err)
		return err > 0 ? 0 : 2;
	if (a.format && strcmp(a.format, "text") && metrics_parse_format(a.format, &fmt)) {
		fprintf(stderr, "bima: --format: text, openmetrics or prometheus, not \"%s\"\n",
			a.format);
		return 2;
	}
	if (a.format && strcmp(a.format, "text"))
		snprintf(request, sizeof(request), "metrics %s", a.format);
	if (!a.control) {
		fprintf(stderr, "bima: status asks the daemon through its control socket: "
				"--control none leaves nothing to ask\n");
		return 2;
	}
	err = control_request(a.control, request, STATUS_TIMEOUT_MS, false, stdout, &pid);
	/* Counters the kernel keeps a copy a CPU: read here, from the pinned map. */
	if (!err && !strcmp(request, "status") && !loader_cpu_stats(&cpu))
		printf("cache-hits: %llu\n", (unsigned long long)cpu.cache_hits);
	if (err == -ENOENT && (pid = running_daemon()))
		pr_err("no bima daemon listens on %s, but bima (pid %d) runs: without a control "
		       "socket (--control none), or with another (--control PATH)",
		       a.control, pid);
	else if (err == -ENOENT)
		pr_err("no bima daemon listens on %s (is `bima run` running?)", a.control);
	return err ? 1 : 0;
}

static const char snapshot_usage[] =
	"Usage: bima snapshot [--control PATH|none]\n"
	"\n"
	"Have the running daemon take a snapshot now: it logs a snapshot_aggregate entry\n"
	"(the PCR values, the entry count, the kernel sequence number, the digest of the\n"
	"segment it closes, the previous snapshot's id), extends it, has the TPM quote it,\n"
	"closes the segment read-only, starts the next, and has the kernel keep the anchor\n"
	"in the bima_anchors map. Asked through its control socket, the daemon answers\n"
	"once the kernel holds the anchor, and this prints it. A daemon that does not\n"
	"listen there (`bima run --control none`) but is named in the pinned bima_config\n"
	"map is sent SIGUSR1 instead, and the anchor is read from the pinned map. Exit\n"
	"status: 0 taken, 1 no daemon runs, the socket refused this user, or the snapshot\n"
	"could not be taken (the log cannot be written) or had no anchor within 30\n"
	"seconds (a TPM that does not answer is waited for that long), 2 usage.\n"
	"\n"
	"  --control PATH|none\n"
	"                the daemon's control socket (" CONTROL_DEFAULT "); none: signal it\n";

/* `bima snapshot` for a daemon without a control socket: SIGUSR1, then poll the pinned anchors. */
static int snapshot_by_signal(int pid)
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
	control_format_anchor(stdout, &now);
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	static const int allowed[] = { OPT_CONTROL, 0 };
	struct args a;
	int err = parse(argc, argv, snapshot_usage, allowed, &a), pid = 0;

	if (err)
		return err > 0 ? 0 : 2;
	err = a.control ? control_request(a.control, "snapshot", SNAPSHOT_TIMEOUT_MS, false, stdout,
					  &pid)
			: -ENOENT;
	if (err != -ENOENT)
		return err ? 1 : 0;
	pid = daemon_without_socket(a.control, "SIGUSR1");
	if (pid)
		return snapshot_by_signal(pid);
	if (a.control)
		pr_err("no bima daemon listens on %s (is `bima run` running?)", a.control);
	else
		pr_err("no bima daemon runs: start one with `bima run`");
	return 1;
}

static const char ak_usage[] =
	"Usage: bima ak export [--log-dir DIR] [--tcti TCTI]\n"
	"\n"
	"Print the attestation key's public key as PEM. The key (ECC P-256, ECDSA with\n"
	"SHA-256, restricted signing, under a storage primary of the endorsement\n"
	"hierarchy, so that its quotes show the TPM's reset and restart counts) is\n"
	"created in DIR (ak.pub, ak.priv) on first use and loaded from there after.\n";

static const char quote_usage[] =
	"Usage: bima quote --nonce HEX --out DIR [--since ID] [--log-dir DIR] [--tcti TCTI]\n"
	"                  [--pcr N]\n"
	"\n"
	"For a remote verifier: have the TPM quote PCR N (10) in every bank with the\n"
	"attestation key over the nonce (1 to 64 bytes), then copy the log of the TPM's\n"
	"epoch, from anchor ID or all of it, into DIR:\n"
	"\n"
	"  DIR/quote.attest   the TPMS_ATTEST the TPM signed\n"
	"  DIR/quote.sig      the ECDSA signature, DER: `openssl dgst -sha256 -verify\n"
	"                     ak.pem -signature DIR/quote.sig DIR/quote.attest` checks it\n"
	"  DIR/epoch-R-S/     the segments after the one anchor ID closes, and the\n"
	"                     anchors and quotes of the snapshots from ID on\n"
	"\n"
	"The log is copied after the quote, so it may run ahead of it, never behind.\n"
	"`bima verify --log-dir DIR --quote DIR/quote --ak ak.pem --nonce HEX` checks it\n"
	"on any machine, with no TPM. Exit status: 0 written, 1 failed, 2 usage.\n";

static int open_ak(const struct args *a, struct tpm **tpm, struct tpm_ak *ak)
{
	int err = tpm__open(a->tcti, tpm);

	if (!err && mkdir(a->log_dir, 0700) && errno != EEXIST)
		err = -errno;
	return err ?: ak_load_or_create(*tpm, a->log_dir, ak);
}

/*
 * `bima COMMAND SUB [OPTIONS]` with one subcommand SUB: the exit status for
 * usage or --help, or -1 to go on with the options in *a.
 */
static int parse_sub(int argc, char **argv, const char *sub, const char *usage, const int *allowed,
		     struct args *a)
{
	int err;

	if (argc < 2 || strcmp(argv[1], sub)) {
		bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	err = parse(argc - 1, argv + 1, usage, allowed, a);
	return err ? (err > 0 ? 0 : 2) : -1;
}

static int cmd_ak(int argc, char **argv)
{
	static const int allowed[] = { OPT_LOG_DIR, OPT_TCTI, 0 };
	struct tpm *tpm = NULL;
	struct tpm_ak ak;
	struct args a;
	int err;

	err = parse_sub(argc, argv, "export", ak_usage, allowed, &a);
	if (err >= 0)
		return err;
	err = open_ak(&a, &tpm, &ak) ?: ak_write_pem(&ak, stdout);
	tpm__free(tpm);
	return err ? 1 : 0;
}

/* A nonce: 1 to 64 bytes in hex. */
static int parse_nonce(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = hex ? strlen(hex) : 0;

	*len = n / 2;
	for (size_t i = 0; i < *len && n <= 128; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1 ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			*len = 0;
	if (!*len || n % 2 || n > 128) {
		fprintf(stderr, "bima: --nonce: 1 to 64 bytes in hex, not \"%s\"\n", hex ?: "");
		return -EINVAL;
	}
	return 0;
}

static int cmd_quote(int argc, char **argv)
{
	static const int allowed[] = { OPT_LOG_DIR, OPT_TCTI,  OPT_PCR, OPT_NONCE,
				       OPT_OUT,	    OPT_SINCE, 0 };
	const struct hashalg *banks[TPM_BANKS_MAX];
	char dir[LOG_PATH_MAX];
	uint8_t nonce[64];
	struct tpm *tpm = NULL;
	struct tpm_quote q;
	struct tpm_ak ak;
	struct args a;
	uint32_t reset, restart;
	size_t nbanks, nlen;
	int err;

	err = parse(argc, argv, quote_usage, allowed, &a);
	if (err)
		return err > 0 ? 0 : 2;
	if (parse_nonce(a.nonce, nonce, &nlen))
		return 2;
	if (!a.out) {
		fprintf(stderr, "bima: quote needs --out DIR\n");
		return 2;
	}
	err = open_ak(&a, &tpm, &ak) ?: tpm_banks(tpm, a.pcr, banks, &nbanks);
	err = err ?: tpm_epoch(tpm, &reset, &restart);
	err = err ?: log_epoch_dir(dir, sizeof(dir), a.log_dir, reset, restart);
	if (!err && access(dir, F_OK)) {
		pr_err("%s: no log of the TPM's epoch: nothing a quote could vouch for", dir);
		err = -ENOENT;
	}
	err = err ?: tpm_quote(tpm, &ak, nonce, nlen, a.pcr, banks, nbanks, &q);
	err = err ?: ak_verify(&ak, &q) ?: bundle_write_quote(a.out, &q);
	/* The log after the quote: it may run ahead of the quote, never behind it. */
	err = err ?: bundle_write_log(dir, a.since, a.out);
	if (!err && a.since)
		pr_info("quoted PCR %lu in %zu bank(s): %s/quote.attest, quote.sig, and the log "
			"of %s from anchor %lu",
			a.pcr, nbanks, a.out, strrchr(dir, '/') + 1, a.since);
	else if (!err)
		pr_info("quoted PCR %lu in %zu bank(s): %s/quote.attest, quote.sig, and the log "
			"of %s",
			a.pcr, nbanks, a.out, strrchr(dir, '/') + 1);
	tpm__free(tpm);
	return err ? 1 : 0;
}

/* The epoch directory named by --epoch, or the newest one. */
static int pick_epoch(const struct args *a, char *dir, size_t len)
{
	int err;

	if (a->epoch) {
		if (strchr(a->epoch, '/'))
			snprintf(dir, len, "%s", a->epoch);
		else
			snprintf(dir, len, "%s/%s", a->log_dir, a->epoch);
		return 0;
	}
	err = log_latest_epoch(dir, len, a->log_dir);
	if (err)
		pr_err("%s: no epoch directory found: %s", a->log_dir,
		       err == -ENOENT ? "no log yet" : strerror(-err));
	return err;
}

/* One entry of `bima log`: as a line of IMA's ASCII list or of JSON, if it is selected. */
static int log_entry(const struct args *a, struct log_cursor *c, struct attrib_reader *ar,
		     const struct template_entry *e, char *why)
{
	struct template_fields f;
	struct attribution at;
	int file;

	if (!a->container && !a->json)
		return template_print_ascii(stdout, e, why);
	if (template_fields(e, &f, why))
		return -EBADMSG;
	file = attrib_next(ar, log_cursor_segment(c), e, &f, &at);
	if (file < 0) {
		snprintf(why, TEMPLATE_WHY_LEN, "a %s entry that cannot be read",
			 CONTAINER_MARK_NAME);
		return file;
	}
	if (a->container && (!file || !at.cgroup_id || !container_matches(&at.ct, a->container)))
		return 0;
	if (!a->json)
		return template_print_ascii(stdout, e, why);
	return view_print_json(stdout, log_cursor_segment(c), log_cursor_index(c), e, &f,
			       file ? &at : NULL);
}

static int cmd_log(int argc, char **argv)
{
	static const int allowed[] = { OPT_LOG_DIR, OPT_EPOCH,	OPT_CONTAINER,
				       OPT_JSON,    OPT_FORMAT, 0 };
	char dir[LOG_PATH_MAX], why[TEMPLATE_WHY_LEN];
	struct attrib_reader ar = {};
	struct log_cursor *c;
	struct template_entry e;
	enum cel_framing cel;
	struct args a;
	int err = parse(argc, argv, log_usage, allowed, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.format && (cel_framing_parse(a.format, &cel) || a.json || a.container)) {
		fprintf(stderr, "bima: --format: cel-json or cel-json-array, without --json or "
				"--container (a replay needs every entry)\n");
		return 2;
	}
	if (pick_epoch(&a, dir, sizeof(dir)))
		return 2;
	if (a.format) {
		err = cel_write_epoch(stdout, dir, cel);
		return err == -ENOENT ? 2 : err ? 1 : 0;
	}
	err = log_cursor__open(dir, 0, &c);
	if (err) {
		pr_err("%s: %s", dir, strerror(-err));
		return 2;
	}
	while ((err = log_cursor_next(c, &e)) > 0) {
		err = log_entry(&a, c, &ar, &e, why);
		if (err) {
			pr_err("segment %u, entry %u: %s", log_cursor_segment(c),
			       log_cursor_index(c), why);
			break;
		}
	}
	if (err < 0 && log_cursor_error(c)[0]) /* not yet reported */
		pr_err("%s", log_cursor_error(c));
	log_cursor__free(c);
	attrib_reader_free(&ar);
	return err < 0 ? 1 : 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const int allowed[] = {
		OPT_LOG_DIR,   OPT_TCTI,  OPT_EPOCH, OPT_REJECT_UHASH,	 OPT_QUOTE,
		OPT_AK,	       OPT_NONCE, OPT_SINCE, OPT_RUNTIME_POLICY, OPT_BY_CONTAINER,
		OPT_ALLOWLIST, OPT_JSON,  0
	};
	char dir[LOG_PATH_MAX];
	struct verify_opts o = {};
	struct args a;
	int err = parse(argc, argv, verify_usage, allowed, &a), json_fd = -1;

	if (err)
		return err > 0 ? 0 : VERIFY_ERROR;
	if ((a.allowlist || a.json) && !a.by_container) {
		fprintf(stderr, "bima: --allowlist and --json apply only with --by-container\n");
		return VERIFY_ERROR;
	}
	if (a.json) {
		/* The JSON alone on standard output; what verify reports goes to standard error. */
		fflush(stdout);
		json_fd = dup(STDOUT_FILENO);
		o.json = json_fd >= 0 ? fdopen(json_fd, "w") : NULL;
		if (!o.json || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			pr_err("--json: %s", strerror(errno));
			return VERIFY_ERROR;
		}
	}
	if (a.epoch && pick_epoch(&a, dir, sizeof(dir)))
		return VERIFY_ERROR;
	if (!a.quote != !a.nonce) {
		fprintf(stderr, "bima: --quote and --nonce go together: a quote is checked "
				"against the nonce the verifier chose\n");
		return VERIFY_ERROR;
	}
	if (a.nonce && parse_nonce(a.nonce, o.nonce, &o.nonce_len))
		return VERIFY_ERROR;
	o.log_dir = a.log_dir;
	o.epoch_dir = a.epoch ? dir : NULL;
	o.tcti = a.tcti;
	o.quote = a.quote;
	o.ak_pem = a.ak;
	o.since = a.since;
	o.reject_uhash = a.reject_uhash;
	o.runtime_policy = a.runtime_policy;
	o.by_container = a.by_container;
	o.allowlist = a.allowlist;
	err = verify_run(&o);
	if (o.json && fclose(o.json)) {
		pr_err("--json: %s", strerror(errno));
		return VERIFY_ERROR;
	}
	return err;
}

static const char keylime_usage[] =
	"Usage: bima keylime check [--ascii PATH] [--log-dir DIR] [--tcti TCTI]\n"
	"\n"
	"Check what a Keylime agent on this host needs, an item a line (\"ok:\" or\n"
	"\"FAIL:\"): PATH (" ASCII_DEFAULT_LINK ") is the ASCII list of the TPM's\n"
	"epoch; bima extends PCR 10; kernel IMA adds nothing after its boot_aggregate,\n"
	"which is the list's first line; the banks bima extends. Then print the\n"
	"ima_ml_path line for the agent's configuration. Exit status: 0 all ok, 1 an item\n"
	"is not, 2 usage or no TPM.\n";

static int cmd_keylime(int argc, char **argv)
{
	static const int allowed[] = { OPT_LOG_DIR, OPT_TCTI, OPT_ASCII, 0 };
	struct args a;
	int err;

	err = parse_sub(argc, argv, "check", keylime_usage, allowed, &a);
	if (err >= 0)
		return err;
	return keylime_check(a.log_dir, a.tcti,
			     a.ascii && strcmp(a.ascii, "none") ? a.ascii : ASCII_DEFAULT_LINK);
}

/* `bima policy load`: put FILE in force in the pinned programs. */
static int policy_load(struct policy *p, const char *path)
{
	struct bima_config cfg;
	char hex[65];
	int err, pid;

	err = loader_pinned_config(&cfg);
	if (err == -ENOENT)
		pr_err("nothing is pinned in %s: no bima programs run; start them with `bima run "
		       "--policy %s`",
		       LOADER_PIN_DIR, path);
	if (err || policy_check_pcr(p, path, cfg.pcr) || loader_pinned_policy(&p->map))
		return 1;
	hex_encode(p->map.digest, sizeof(p->map.digest), hex);
	pr_info("policy %s (%zu rule(s), sha256:%s) is now in force", path, p->nrules, hex);
	if (loader_pinned_daemon(&pid) || pid <= 0 || kill(pid, 0))
		pr_warn("no bima daemon runs: the record of the change waits in the ring buffer "
			"for the next `bima run` to log it");
	return 0;
}

/*
 * `bima policy export-keylime`: its own options, for they repeat:
 * --tree DIR... --log --exclude REGEX... --log-dir DIR --epoch NAME
 */
static int policy_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "log", no_argument, NULL, 'l' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "log-dir", required_argument, NULL, 'd' },
		{ "epoch", required_argument, NULL, 'e' },
		{},
	};
	struct runtime_policy_out *o = NULL;
	struct args a = { .log_dir = DEFAULT_LOG_DIR };
	char dir[LOG_PATH_MAX];
	bool from_log = false, trees = false;
	int opt, err;

	err = runtime_policy_out__new(&o);
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			trees = true;
			err = runtime_policy_out_tree(o, optarg);
			break;
		case 'l':
			from_log = true;
			break;
		case 'x':
			err = runtime_policy_out_exclude(o, optarg);
			break;
		case 'd':
			a.log_dir = optarg;
			break;
		case 'e':
			a.epoch = optarg; /* implies --log */
			from_log = true;
			break;
		default:
			err = -EINVAL;
		}
	}
	if (!err && (optind < argc || (!trees && !from_log))) {
		fputs(policy_usage, stderr);
		err = -EINVAL;
	}
	if (!err && from_log)
		err = pick_epoch(&a, dir, sizeof(dir)) ?: runtime_policy_out_log(o, dir);
	err = err ?: runtime_policy_out_print(o, stdout);
	runtime_policy_out__free(o);
	return err == -EINVAL ? 2 : err ? 1 : 0;
}

static int cmd_policy(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	static struct policy p;
	unsigned int flags = 0;
	int err;

	if (argc >= 2 && !strcmp(sub, "export-keylime"))
		return policy_export(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(sub, "default")) {
		fputs(policy_default, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(sub, "--help") || !strcmp(sub, "-h"))) {
		fputs(policy_usage, stdout);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[2], "--strict")) {
		flags = POLICY_STRICT;
		argv[2] = argv[3];
	} else if (argc == 4 && !strcmp(argv[3], "--strict")) {
		flags = POLICY_STRICT;
	} else if (argc != 3) {
		sub = "";
	}
	if (strcmp(sub, "check") && strcmp(sub, "load")) {
		fputs(policy_usage, stderr);
		return 2;
	}
	err = policy_read(&p, argv[2], flags);
	if (err < 0)
		return 2;
	if (err > 0) {
		fprintf(stderr, "%s: %d error(s)%s\n", argv[2], err,
			!strcmp(sub, "load") ? "; the policy in force stays" : "");
		err = 1;
	} else if (!strcmp(sub, "check")) {
		policy_print(&p, stdout);
		printf("%s: %zu rule(s) of at most %d\n", argv[2], p.nrules, BIMA_RULES_MAX);
	} else {
		err = policy_load(&p, argv[2]);
	}
	policy_free(&p);
	return err;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "log"))
		return cmd_log(argc - 1, argv + 1);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(cmd, "stop"))
		return cmd_stop(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(argc - 1, argv + 1);
	if (!strcmp(cmd, "snapshot"))
		return cmd_snapshot(argc - 1, argv + 1);
	if (!strcmp(cmd, "ak"))
		return cmd_ak(argc - 1, argv + 1);
	if (!strcmp(cmd, "quote"))
		return cmd_quote(argc - 1, argv + 1);
	if (!strcmp(cmd, "keylime"))
		return cmd_keylime(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("bima %s\n", BIMA_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "bima: unknown command \"%s\"\n%s", cmd, usage);
	return 2;
}
