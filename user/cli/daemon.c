// SPDX-License-Identifier: GPL-2.0-only
/* bima stop, status and snapshot: the running daemon, asked through its control socket. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "collector.h"
#include "control_client.h"
#include "loader.h"
#include "metrics.h"
#include "msg.h"
#include "runstate.h"
#include "template.h"

#define DEFAULT_RINGBUF (4u << 20)

struct stop_args {
	bool unload, force;
	const char *control; /* the control socket, or NULL for none */
	const char *log_dir, *tcti;
	unsigned long pcr; /* ULONG_MAX when not given */
	const char *ascii, *template;
};

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
	"\n";

#define A struct stop_args
static const struct cli_opt stop_opts[] = {
	CLI_FN("control", "PATH|none", A, control, cli_control, 0,
	       "the daemon's control socket (" CONTROL_DEFAULT "); none: signal it"),
	CLI_FLAG("unload", A, unload, 0,
		 "then detach the hooks, log every record still queued (which needs\n"
		 "the log and the TPM, as for `bima run`), and remove every pin in\n" LOADER_PIN_DIR
		 ", naming each"),
	CLI_FLAG("force", A, force, 0,
		 "with --unload: remove the pins without logging what is queued\n"
		 "(for pins of another bima build or a broken pin set); queued\n"
		 "records are lost, and no entry in the log says so"),
	/* As for bima run: said once, in the tail. */
	CLI_STR("log-dir", "DIR", A, log_dir, CLI_STATE, NULL),
	CLI_STR("tcti", "TCTI", A, tcti, 0, NULL),
	CLI_ULONG("pcr", "N", A, pcr, 0, 23, CLI_STATE, NULL),
	CLI_FN("ascii", "PATH|none", A, ascii, cli_path_or_none, CLI_STATE, NULL),
	CLI_FN("template", "auto|ima-ng|" TEMPLATE_CT, A, template, cli_template, CLI_STATE, NULL),
	{},
};
#undef A

const struct cli_command cli_stop = {
	.usage = stop_usage,
	.opts = stop_opts,
	.col = 16,
	.tail = "  --log-dir, --tcti, --pcr, --ascii, --template   as for `bima run`; by default\n"
		"                the running (or pinned) bima's, from " RUNSTATE_PATH ";\n"
		"                given, --log-dir, --pcr, --ascii and --template must agree\n"
		"                with it\n",
	.from_state = true,
};

/* --unload: detach the hooks, log what is queued, remove the pins. */
static int unload(struct stop_args *a)
{
	struct collector_opts o;
	struct bima_config cfg;
	const char *ascii;

	if (a->force) {
		pr_warn("removing the pins without logging the records still queued");
		loader_unload(NULL);
		runstate_remove(RUNSTATE_PATH);
		return 0;
	}
	/* The PCR the pinned programs were loaded for, unless told otherwise. */
	if (a->pcr == ULONG_MAX) {
		a->pcr = 10;
		if (!loader_pinned_config(&cfg) && cfg.pcr != a->pcr) {
			pr_info("the pinned programs extend PCR %u: unloading with it", cfg.pcr);
			a->pcr = cfg.pcr;
		}
	}
	pr_info("unloading: the log in %s, PCR %lu", a->log_dir, a->pcr);
	ascii = cli_ascii_link(a->ascii, a->pcr);
	o = (struct collector_opts){ .log_dir = a->log_dir,
				     .tcti = a->tcti,
				     .pcr = a->pcr,
				     .ringbuf_size = DEFAULT_RINGBUF,
				     .unload = true,
				     .ascii_link = ascii,
				     .ct_template = cli_ct_template(a->template, ascii) };
	return collector_run(&o) ? 1 : 0;
}

int cmd_stop(int argc, char **argv)
{
	struct stop_args a = { .control = CONTROL_DEFAULT,
			       .log_dir = DEFAULT_LOG_DIR,
			       .tcti = DEFAULT_TCTI,
			       .pcr = ULONG_MAX };
	int err = cli_parse(&cli_stop, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.force && !a.unload) {
		pr_usage("--force applies only with --unload");
		return 2;
	}
	if (control_stop(a.control))
		return 1;
	return a.unload ? unload(&a) : 0;
}

struct control_args {
	const char *control; /* the control socket, or NULL for none */
};

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
	"reconciling (yes while the log is read again for a TPM that lost extends),\n"
	"reconcile-read-entries and reconcile-total-entries (how far that read is),\n"
	"snapshot-pending, last-snapshot (the id of the log's last snapshot; 0: none),\n"
	"fail-closed, cache-hits (measurements the re-measurement cache spared since the\n"
	"programs were loaded). Exit status: 0 answered, 1 no daemon listens, it refused\n"
	"this user or did not answer, 2 usage.\n"
	"\n";

struct status_args {
	const char *control; /* the control socket, or NULL for none */
	const char *format;  /* text, or a metrics_format */
};

static int parse_format(const char *opt, const char *value, void *str)
{
	enum metrics_format fmt;

	if (strcmp(value, "text") && metrics_parse_format(value, &fmt)) {
		pr_usage("%s: text, openmetrics or prometheus, not \"%s\"", opt, value);
		return -EINVAL;
	}
	*(const char **)str = value;
	return 0;
}

static const struct cli_opt status_opts[] = {
	CLI_FN("control", "PATH", struct status_args, control, cli_control, 0,
	       "the daemon's control socket (" CONTROL_DEFAULT ")"),
	CLI_FN("format", "text|openmetrics|prometheus", struct status_args, format, parse_format, 0,
	       "the \"name: value\" lines (text, the default), or the daemon's\n"
	       "metrics as OpenMetrics 1.0 text (ending \"# EOF\") or in the\n"
	       "Prometheus text format 0.0.4; see bima-status(8)"),
	{},
};

const struct cli_command cli_status = {
	.usage = status_usage, .opts = status_opts, .col = 18, .from_state = true
};

int cmd_status(int argc, char **argv)
{
	struct status_args a = { .control = CONTROL_DEFAULT, .format = "text" };
	struct bima_cpu_stats cpu;
	char request[32] = "status";
	int err = cli_parse(&cli_status, argc, argv, &a), pid;

	if (err)
		return err > 0 ? 0 : 2;
	if (strcmp(a.format, "text"))
		snprintf(request, sizeof(request), "metrics %s", a.format);
	if (!a.control) {
		pr_usage("status asks the daemon through its control socket: --control none "
			 "leaves nothing to ask");
		return 2;
	}
	err = control_request(a.control, request, CONTROL_STATUS_MS, false, stdout, &pid);
	/* Counters the kernel keeps a copy a CPU: read here, from the pinned map. */
	if (!err && !strcmp(request, "status") && !loader_cpu_stats(&cpu))
		printf("cache-hits: %llu\n", (unsigned long long)cpu.cache_hits);
	if (err == -ENOENT && (pid = control_daemon_pid()))
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
	"\n";

static const struct cli_opt snapshot_opts[] = {
	CLI_FN("control", "PATH|none", struct control_args, control, cli_control, 0,
	       "the daemon's control socket (" CONTROL_DEFAULT "); none: signal it"),
	{},
};

const struct cli_command cli_snapshot = {
	.usage = snapshot_usage, .opts = snapshot_opts, .col = 16, .from_state = true
};

int cmd_snapshot(int argc, char **argv)
{
	struct control_args a = { .control = CONTROL_DEFAULT };
	int err = cli_parse(&cli_snapshot, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : 2;
	return control_snapshot(a.control, stdout);
}
