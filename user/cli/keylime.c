// SPDX-License-Identifier: GPL-2.0-only
/* bima keylime check: what a Keylime agent on this host needs. */
#include <string.h>

#include "ascii.h"
#include "cli.h"
#include "keylime.h"

struct keylime_args {
	const char *log_dir, *tcti, *ascii;
};

static const char usage[] =
	"Usage: bima keylime check [--ascii PATH] [--log-dir DIR] [--tcti TCTI]\n"
	"\n"
	"Check what a Keylime agent on this host needs, an item a line (\"ok:\" or\n"
	"\"FAIL:\"): PATH (" ASCII_DEFAULT_LINK ") is the ASCII list of the TPM's\n"
	"epoch; bima extends PCR 10; kernel IMA adds nothing after its boot_aggregate,\n"
	"which is the list's first line; the banks bima extends. Then print the\n"
	"ima_ml_path line for the agent's configuration. Exit status: 0 all ok, 1 an item\n"
	"is not, 2 usage or no TPM.\n";

/* Its options are told in the usage above. */
#define A struct keylime_args
static const struct cli_opt opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, 0, NULL),
	CLI_STR("tcti", "TCTI", A, tcti, 0, NULL),
	CLI_FN("ascii", "PATH", A, ascii, cli_path_or_none, 0, NULL),
	{},
};
#undef A

const struct cli_command cli_keylime = { .usage = usage, .opts = opts, .from_state = true };

int cmd_keylime(int argc, char **argv)
{
	struct keylime_args a = { .log_dir = DEFAULT_LOG_DIR, .tcti = DEFAULT_TCTI };
	int err;

	err = cli_parse_sub(&cli_keylime, "check", argc, argv, &a);
	if (err >= 0)
		return err;
	return keylime_check(a.log_dir, a.tcti,
			     a.ascii && strcmp(a.ascii, "none") ? a.ascii : ASCII_DEFAULT_LINK);
}
