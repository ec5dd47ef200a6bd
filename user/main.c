// SPDX-License-Identifier: GPL-2.0-only
/* bima: the command table; each command lives in cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "msg.h"

#ifndef BIMA_VERSION
#define BIMA_VERSION "0.1.0"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const struct cli_verb cli_verbs[] = {
	{ "run", cmd_run, &cli_run,
	  "load the BPF-LSM programs and collect measurements until SIGINT/SIGTERM" },
	{ "log", cmd_log, &cli_log, "print an epoch's log in IMA's ASCII format" },
	{ "verify", cmd_verify, &cli_verify,
	  "replay an epoch's log, from its start or an anchor, against the TPM or a\n"
	  "quote, and optionally a Keylime runtime policy" },
	{ "status", cmd_status, &cli_status,
	  "show what the running daemon is doing (through its control socket)" },
	{ "stop", cmd_stop, &cli_stop,
	  "stop the running daemon; with --unload also remove the BPF programs" },
	{ "snapshot", cmd_snapshot, &cli_snapshot, "have the running daemon take a snapshot now" },
	{ "ak", cmd_ak, &cli_ak, "export the attestation key's public key (PEM)" },
	{ "quote", cmd_quote, &cli_quote,
	  "have the TPM quote the PCR, and hand it over with the log" },
	{ "keylime", cmd_keylime, &cli_keylime, "check what a Keylime agent on this host needs" },
	{ "policy", cmd_policy, NULL,
	  "check a measurement policy, put one in force, print the built-in one,\n"
	  "or export a Keylime runtime policy" },
	{ "help", cmd_help, NULL,
	  "show this text; `bima COMMAND --help` shows a command's options" },
	{ "version", cmd_version, NULL, "print the version" },
	{},
};

static void usage(FILE *f)
{
	fputs("Usage: bima COMMAND [OPTIONS]\n"
	      "\n"
	      "File measurement with BPF-LSM: the kernel hashes, bima logs and extends the TPM.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		fprintf(f, "  %-8s ", v->name);
		for (const char *p = v->summary; *p; p++)
			if (*p == '\n')
				fputs("\n           ", f); /* under the first line */
			else
				fputc(*p, f);
		fputc('\n', f);
	}
	fputs("\n"
	      "A command that takes options (all but policy) reads " CONFIG_DEFAULT " first, if\n"
	      "it exists, or the file of --config FILE given as its first option (--config\n"
	      "none: no file). Its lines are \"key = value\", a key one of bima run's long\n"
	      "options (yes or no for one without a value); a command takes the keys it has\n"
	      "options for, and its command line has the last word.\n"
	      "\n"
	      "See bima(8), and bima-COMMAND(8) for each command.\n",
	      f);
}

static int cmd_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	printf("bima %s\n", BIMA_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "help";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	for (const struct cli_verb *v = cli_verbs; v->name; v++)
		if (!strcmp(name, v->name))
			return v->fn(argc - 1, argv + 1);
	pr_usage("unknown command \"%s\"", name);
	usage(stderr);
	return 2;
}
