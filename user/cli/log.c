// SPDX-License-Identifier: GPL-2.0-only
/* bima log: print an epoch's log as IMA's ASCII list, or as JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cel.h"
#include "cli.h"
#include "container.h"
#include "log.h"
#include "msg.h"
#include "template.h"
#include "views.h"

struct log_args {
	const char *log_dir;
	const char *epoch;
	const char *container;
	bool json;
	const char *format; /* cel-json or cel-json-array, or NULL */
};

static const char usage[] =
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
	"\n";

#define A struct log_args
static const struct cli_opt opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, 0,
		"log directory (the running bima's, else " DEFAULT_LOG_DIR ")"),
	CLI_STR("epoch", "NAME", A, epoch, 0, "epoch directory to print"),
	CLI_STR("container", "ID", A, container, 0,
		"only the file entries of this container: a prefix of its id,\n"
		"RUNTIME:PREFIX (docker, containerd, cri, cri-o, podman, nspawn),\n"
		"or host for those of no container"),
	CLI_FLAG("json", A, json, 0,
		 "one JSON object per entry and line: segment, index, pcr,\n"
		 "template_hash, template, algo, digest, path, buf (ima-buf), and\n"
		 "for file entries group, cgroup_id, mnt_ns, runtime, container,\n"
		 "cgroup"),
	CLI_STR("format", "cel-json|cel-json-array", A, format, 0,
		"the TCG Canonical Event Log in JSON, one record per entry:\n"
		"recnum, pcr, digests (hashAlg, digest: what was extended into\n"
		"each bank, in hex), content_type ima_template, content\n"
		"(template_name, template_data in hex); cel-json as RFC 7464\n"
		"JSON text sequences (RS before, LF after each record), as\n"
		"systemd writes /run/log/systemd/tpm2-measure.log, and\n"
		"cel-json-array as one JSON array. The banks are those the\n"
		"log's first snapshot names, else sha1, sha256, sha384 and\n"
		"sha512. A log whose first segments retention removed is\n"
		"refused (exit 1): a replay from zero could not match it"),
	{},
};
#undef A

const struct cli_command cli_log = { .usage = usage, .opts = opts, .col = 18, .from_state = true };

int cli_epoch_dir(const char *log_dir, const char *epoch, char *dir, size_t len)
{
	int err;

	if (epoch) {
		if (strchr(epoch, '/'))
			snprintf(dir, len, "%s", epoch);
		else
			snprintf(dir, len, "%s/%s", log_dir, epoch);
		return 0;
	}
	err = log_latest_epoch(dir, len, log_dir);
	if (err)
		pr_err("%s: no epoch directory found: %s", log_dir,
		       err == -ENOENT ? "no log yet" : strerror(-err));
	return err;
}

/* One entry: as a line of IMA's ASCII list or of JSON, if it is selected. */
static int log_entry(const struct log_args *a, struct log_cursor *c, struct attrib_reader *ar,
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

int cmd_log(int argc, char **argv)
{
	char dir[LOG_PATH_MAX], why[TEMPLATE_WHY_LEN];
	struct attrib_reader ar = {};
	struct log_args a = { .log_dir = DEFAULT_LOG_DIR };
	struct log_cursor *c;
	struct template_entry e;
	enum cel_framing cel;
	int err = cli_parse(&cli_log, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (a.format && (cel_framing_parse(a.format, &cel) || a.json || a.container)) {
		pr_usage("--format: cel-json or cel-json-array, without --json or --container (a "
			 "replay needs every entry)");
		return 2;
	}
	if (cli_epoch_dir(a.log_dir, a.epoch, dir, sizeof(dir)))
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
