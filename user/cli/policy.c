// SPDX-License-Identifier: GPL-2.0-only
/*
 * bima policy: check a measurement policy, put one in force, print the
 * built-in one, or export a Keylime runtime policy. Each subcommand has its
 * table of options (no configuration file applies); they share one usage
 * text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "container.h"
#include "control_client.h"
#include "hashalg.h"
#include "loader.h"
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "runtime_policy.h"

static const char usage[] =
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
	"FILE or the policy could not be put in force, 2 FILE cannot be read.\n"
	"\n"
	"See bima-policy(8) for details, and bima-policy(5) for the language.\n";

/* Values of a repeated option, in the order given. */
struct str_list {
	const char **v;
	size_t n;
};

struct policy_args {
	const char *file; /* check, load */
	bool strict;
	struct str_list trees, excludes; /* export-keylime */
	bool log;
	const char *log_dir, *epoch;
};

/* CLI_FN: one more value of a repeated option, into a struct str_list. */
static int list_add(const char *opt, const char *value, void *field)
{
	struct str_list *l = field;
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v) {
		pr_err("%s %s: %s", opt, value, strerror(ENOMEM));
		return -ENOMEM;
	}
	v[l->n++] = value;
	l->v = v;
	return 0;
}

/* Their options are told in the usage above. */
#define A struct policy_args
static const struct cli_opt file_opts[] = {
	CLI_FLAG("strict", A, strict, 0, NULL),
	{},
};

static const struct cli_opt export_opts[] = {
	CLI_FN("tree", "DIR", A, trees, list_add, 0, NULL),
	CLI_FLAG("log", A, log, 0, NULL),
	CLI_FN("exclude", "REGEX", A, excludes, list_add, 0, NULL),
	CLI_STR("log-dir", "DIR", A, log_dir, 0, NULL),
	CLI_STR("epoch", "NAME", A, epoch, 0, NULL),
	{},
};

/* Each subcommand's: one of another is named as not applying, not as unknown. */
static const struct cli_opt *const family[] = { file_opts, export_opts, NULL };

static const struct cli_command file_cmd = { .usage = usage,
					     .opts = file_opts,
					     .no_config = true,
					     .operand = "FILE",
					     .operand_off = offsetof(A, file),
					     .family = family };
static const struct cli_command default_cmd = { .usage = usage,
						.no_config = true,
						.family = family };
static const struct cli_command export_cmd = {
	.usage = usage, .opts = export_opts, .no_config = true, .family = family
};
#undef A

/* `bima policy load`: put FILE in force in the pinned programs. */
static int policy_load(struct policy *p, const char *path)
{
	struct bima_config cfg;
	char hex[65];
	int err;

	err = loader_pinned_config(&cfg);
	if (err == -ENOENT)
		pr_err("nothing is pinned in %s: no bima programs run; start them with `bima run "
		       "--policy %s`",
		       LOADER_PIN_DIR, path);
	if (err || policy_check_pcr(p, path, cfg.pcr) || loader_pinned_policy(&p->map))
		return 1;
	hex_encode(p->map.digest, sizeof(p->map.digest), hex);
	pr_info("policy %s (%zu rule(s), sha256:%s) is now in force", path, p->nrules, hex);
	if (!control_daemon_alive())
		pr_warn("no bima daemon runs: the record of the change waits in the ring buffer "
			"for the next `bima run` to log it");
	return 0;
}

/*
 * `bima policy export-keylime`: the files of the trees, walked once the
 * command line is known to be right, or the log's entries; the excludes.
 */
static int policy_export(const struct policy_args *a)
{
	bool from_log = a->log || a->epoch; /* --epoch implies --log */
	struct runtime_policy_out *o = NULL;
	char dir[LOG_PATH_MAX];
	int err;

	if (!a->trees.n && !from_log) {
		pr_usage("export-keylime needs --tree DIR or --log");
		cli_usage(&export_cmd, stderr);
		return 2;
	}
	err = runtime_policy_out__new(&o);
	for (size_t i = 0; !err && i < a->trees.n; i++)
		err = runtime_policy_out_tree(o, a->trees.v[i]);
	for (size_t i = 0; !err && i < a->excludes.n; i++)
		err = runtime_policy_out_exclude(o, a->excludes.v[i]);
	if (!err && from_log)
		err = cli_epoch_dir(a->log_dir, a->epoch, dir, sizeof(dir))
			      ?: runtime_policy_out_log(o, dir);
	err = err ?: runtime_policy_out_print(o, stdout);
	runtime_policy_out__free(o);
	return err ? 1 : 0;
}

/* `bima policy check|load [--strict] FILE`. */
static int policy_check_load(bool load, const struct policy_args *a)
{
	static struct policy p;
	int err = policy_read(&p, a->file, a->strict ? POLICY_STRICT : 0);

	if (err < 0)
		return 2;
	if (err > 0) {
		/* The compiler's summary, after its FILE:LINE:COLUMN lines and as they are. */
		fprintf(stderr, "%s: %d error(s)%s\n", a->file, err,
			load ? "; the policy in force stays" : "");
		err = 1;
	} else if (!load) {
		policy_print(&p, stdout);
		printf("%s: %zu rule(s) of at most %d\n", a->file, p.nrules, BIMA_RULES_MAX);
	} else {
		err = policy_load(&p, a->file);
	}
	policy_free(&p);
	return err;
}

static int sub_check(const struct policy_args *a)
{
	return policy_check_load(false, a);
}

static int sub_load(const struct policy_args *a)
{
	return policy_check_load(true, a);
}

static int sub_default(const struct policy_args *a)
{
	fputs(policy_default, stdout);
	return 0;
}

/* The subcommands: each its options, and what it does with them. */
static const struct {
	const char *name;
	const struct cli_command *cmd;
	int (*fn)(const struct policy_args *a);
} subs[] = {
	{ "check", &file_cmd, sub_check },
	{ "load", &file_cmd, sub_load },
	{ "default", &default_cmd, sub_default },
	{ "export-keylime", &export_cmd, policy_export },
	{},
};

int cmd_policy(int argc, char **argv)
{
	struct policy_args a = { .log_dir = DEFAULT_LOG_DIR };
	int i = 0, err;

	while (subs[i].name && (argc < 2 || strcmp(argv[1], subs[i].name)))
		i++;
	if (!subs[i].name)
		i = 0; /* none, or not one: the usage, after naming it */
	err = cli_parse_sub(subs[i].cmd, subs[i].name, argc, argv, &a);
	if (err < 0)
		err = subs[i].fn(&a);
	free(a.trees.v);
	free(a.excludes.v);
	return err;
}
