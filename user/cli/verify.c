// SPDX-License-Identifier: GPL-2.0-only
/* bima verify: replay an epoch's log against the TPM or a quote. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "log.h"
#include "msg.h"
#include "verify.h"

struct verify_args {
	const char *log_dir, *tcti, *epoch;
	unsigned long since;
	const char *quote, *ak, *nonce;
	const char *runtime_policy;
	bool reject_uhash;
	bool by_container;
	const char *allowlist;
	bool json;
};

static const char usage[] =
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
	"\n";

#define A struct verify_args
static const struct cli_opt opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, 0,
		"log directory (the running bima's, else " DEFAULT_LOG_DIR "), or the\n"
		"directory `bima quote` wrote"),
	CLI_STR("tcti", "TCTI", A, tcti, 0,
		"TPM access (the running bima's, else " DEFAULT_TCTI ")"),
	CLI_STR("epoch", "NAME", A, epoch, 0,
		"verify this epoch directory instead of the TPM's (or the quote's)"),
	CLI_ULONG("since", "ID", A, since, 1, ~0ul, 0,
		  "start from anchor ID (its snapshot_aggregate entry, kept as\n"
		  "anchor-ID.bin), whose quote must verify: the entries before it\n"
		  "are not checked"),
	CLI_STR("quote", "PREFIX", A, quote, 0,
		"compare with the quote in PREFIX.attest and PREFIX.sig instead of\n"
		"the TPM; the epoch is the quote's"),
	CLI_STR("ak", "FILE", A, ak, 0,
		"the attestation key's public key, PEM (`bima ak export`), for\n"
		"every quote; needed with --quote (never a key from the directory\n"
		"verified), else the log directory's, if the TPM holds it"),
	CLI_STR("nonce", "HEX", A, nonce, 0,
		"with --quote: the nonce the quote must be over, 1 to 64 bytes"),
	CLI_STR("runtime-policy", "FILE", A, runtime_policy, 0,
		"fail (1) unless every entry passes FILE, a Keylime runtime policy\n"
		"(`bima policy export-keylime`): its name matches an exclude, or\n"
		"its digest is among those FILE allows for its name"),
	CLI_FLAG("reject-userspace-hashes", A, reject_uhash, 0,
		 "fail (1) if bima hashed any file in userspace because the kernel\n"
		 "could not (a bima_userspace_hash entry precedes each)"),
	CLI_FLAG("by-container", A, by_container, 0,
		 "then summarise the file entries per container (\"runtime:id\",\n"
		 "\"host\", or \"unattributed\" for ima-ng entries no " CONTAINER_MARK_NAME "\n"
		 "entry precedes in their segment): entries and unique files"),
	CLI_STR("allowlist", "FILE", A, allowlist, 0,
		"with --by-container: also count and name each container's file\n"
		"digests not in FILE, a Keylime runtime policy (its digests, for\n"
		"any name) or lines \"HEX-DIGEST [PATH]\" as sha256sum prints them"),
	CLI_FLAG("json", A, json, 0,
		 "with --by-container: print the summary as one JSON object on\n"
		 "standard output (\"verdict\": verified, mismatch or error, and\n"
		 "\"containers\"), and the report above on standard error"),
	{},
};
#undef A

const struct cli_command cli_verify = {
	.usage = usage, .opts = opts, .col = 18, .from_state = true
};

/* Options that go together; 0 or an error, said. */
static int verify_check(const struct verify_args *a)
{
	if ((a->allowlist || a->json) && !a->by_container) {
		pr_usage("--allowlist and --json apply only with --by-container");
		return -EINVAL;
	}
	return 0;
}

/* --json: the JSON alone on standard output, into *json; what verify reports to standard error. */
static int json_to_stdout(FILE **json)
{
	int fd;

	fflush(stdout);
	fd = dup(STDOUT_FILENO);
	*json = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!*json || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		pr_err("--json: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The options of verify.h from the command's; 0 or an error, said. */
static int verify_opts(const struct verify_args *a, char *dir, size_t len, struct verify_opts *o)
{
	if (a->epoch && cli_epoch_dir(a->log_dir, a->epoch, dir, len))
		return -ENOENT;
	if (!a->quote != !a->nonce) {
		pr_usage("--quote and --nonce go together: a quote is checked against the nonce "
			 "the verifier chose");
		return -EINVAL;
	}
	if (a->nonce && cli_nonce(a->nonce, o->nonce, &o->nonce_len))
		return -EINVAL;
	o->log_dir = a->log_dir;
	o->epoch_dir = a->epoch ? dir : NULL;
	o->tcti = a->tcti;
	o->quote = a->quote;
	o->ak_pem = a->ak;
	o->since = a->since;
	o->reject_uhash = a->reject_uhash;
	o->runtime_policy = a->runtime_policy;
	o->by_container = a->by_container;
	o->allowlist = a->allowlist;
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a = { .log_dir = DEFAULT_LOG_DIR, .tcti = DEFAULT_TCTI };
	char dir[LOG_PATH_MAX];
	struct verify_opts o = {};
	int err = cli_parse(&cli_verify, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : VERIFY_ERROR;
	if (verify_check(&a) || (a.json && json_to_stdout(&o.json)) ||
	    verify_opts(&a, dir, sizeof(dir), &o))
		return VERIFY_ERROR;
	err = verify_run(&o);
	if (o.json && fclose(o.json)) {
		pr_err("--json: %s", strerror(errno));
		return VERIFY_ERROR;
	}
	return err;
}
