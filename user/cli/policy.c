// SPDX-License-Identifier: GPL-2.0-only
/*
 * bima policy: check a measurement policy, put one in force, print the
 * built-in one, or export a Keylime runtime policy. Its subcommands take a
 * file and repeated options, and no configuration file: they parse their
 * own arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
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
	const char *log_dir = DEFAULT_LOG_DIR, *epoch = NULL;
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
			log_dir = optarg;
			break;
		case 'e':
			epoch = optarg; /* implies --log */
			from_log = true;
			break;
		default:
			err = -EINVAL;
		}
	}
	if (!err && (optind < argc || (!trees && !from_log))) {
		fputs(usage, stderr);
		err = -EINVAL;
	}
	if (!err && from_log)
		err = cli_epoch_dir(log_dir, epoch, dir, sizeof(dir))
			      ?: runtime_policy_out_log(o, dir);
	err = err ?: runtime_policy_out_print(o, stdout);
	runtime_policy_out__free(o);
	return err == -EINVAL ? 2 : err ? 1 : 0;
}

/* `bima policy check|load [--strict] FILE`. */
static int policy_check_load(const char *sub, const char *path, unsigned int flags)
{
	static struct policy p;
	int err = policy_read(&p, path, flags);

	if (err < 0)
		return 2;
	if (err > 0) {
		/* The compiler's summary, after its FILE:LINE:COLUMN lines and as they are. */
		fprintf(stderr, "%s: %d error(s)%s\n", path, err,
			!strcmp(sub, "load") ? "; the policy in force stays" : "");
		err = 1;
	} else if (!strcmp(sub, "check")) {
		policy_print(&p, stdout);
		printf("%s: %zu rule(s) of at most %d\n", path, p.nrules, BIMA_RULES_MAX);
	} else {
		err = policy_load(&p, path);
	}
	policy_free(&p);
	return err;
}

int cmd_policy(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	unsigned int flags = 0;

	if (argc >= 2 && !strcmp(sub, "export-keylime"))
		return policy_export(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(sub, "default")) {
		fputs(policy_default, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(sub, "--help") || !strcmp(sub, "-h"))) {
		fputs(usage, stdout);
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
		fputs(usage, stderr);
		return 2;
	}
	return policy_check_load(sub, argv[2], flags);
}
