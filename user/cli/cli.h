/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line: a table of commands (main.c's cli_verbs), each in a file
 * of this folder with its usage text and its table of options. One table
 * drives parsing, range checks, the options in --help, and the keys of the
 * configuration file (config.h):
 *
 *   struct run_args { const char *log_dir; unsigned long pcr; ... };
 *   static const struct cli_opt run_opts[] = {
 *           CLI_STR("log-dir", "DIR", struct run_args, log_dir, CLI_KEY,
 *                   "log directory ..."),
 *           CLI_ULONG("pcr", "N", struct run_args, pcr, 0, 23, CLI_KEY, "PCR ..."),
 *           {},
 *   };
 *
 * A command fills its struct with its defaults, then calls cli_parse(),
 * which applies the configuration file's settings it has options for, then
 * (with from_state) the running daemon's, then the command line. Every command also takes -v
 * (--verbose) and -h (--help).
 */
#ifndef BIMA_CLI_H
#define BIMA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_LOG_DIR "/var/lib/bima"
#define DEFAULT_TCTI "device:/dev/tpmrm0"

enum cli_kind {
	CLI_FLAG,    /* no value: sets a bool */
	CLI_STR,     /* a const char *, as given */
	CLI_ULONG,   /* an unsigned long of min..max */
	CLI_FN,	     /* parsed by fn into its field */
	CLI_VERBOSE, /* -v: raises msg_verbosity (every command takes it; listed where it helps) */
};

/* A key of the configuration file: the file's settings of it apply to every command taking it. */
#define CLI_KEY 1u
/* Given, it must agree with the running daemon's setting of it (from_state), if there is one. */
#define CLI_STATE 2u

struct cli_opt {
	const char *name; /* the long option, without "--"; also its key with CLI_KEY */
	const char *arg;  /* what it takes as --help names it (DIR, N, ...); NULL: nothing */
	/* Its --help text, lines after the first indented to the column; NULL: not listed. */
	const char *help;
	enum cli_kind kind;
	size_t off;		/* of its field in the command's struct */
	unsigned long min, max; /* CLI_ULONG: the values taken */
	/* CLI_FN: parse value into field; an error names the option and is reported here. */
	int (*fn)(const char *opt, const char *value, void *field);
	unsigned int flags; /* CLI_KEY, CLI_STATE */
	char short_name;    /* 'v', or 0 */
};

#define CLI_FLAG(name, type, field, flags, help)                                        \
	{                                                                               \
		name, NULL, help, CLI_FLAG, offsetof(type, field), 0, 0, NULL, flags, 0 \
	}
#define CLI_STR(name, arg, type, field, flags, help)                                  \
	{                                                                             \
		name, arg, help, CLI_STR, offsetof(type, field), 0, 0, NULL, flags, 0 \
	}
#define CLI_ULONG(name, arg, type, field, min, max, flags, help)                            \
	{                                                                                   \
		name, arg, help, CLI_ULONG, offsetof(type, field), min, max, NULL, flags, 0 \
	}
#define CLI_FN(name, arg, type, field, fn, flags, help)                            \
	{                                                                          \
		name, arg, help, CLI_FN, offsetof(type, field), 0, 0, fn, flags, 0 \
	}
#define CLI_VERBOSE(help)                                                 \
	{                                                                 \
		"verbose", NULL, help, CLI_VERBOSE, 0, 0, 0, NULL, 0, 'v' \
	}

/* A command's usage and options. */
struct cli_command {
	/* The synopsis and description, up to the options (ending in a blank line if any). */
	const char *usage;
	const struct cli_opt *opts; /* ends with {} */
	int col;		    /* the column at which --help starts an option's text */
	const char *tail;	    /* after the options, or NULL */
	bool no_config;		    /* the configuration file does not apply */
	/*
	 * The running daemon's settings (runstate.h) apply, over the
	 * configuration file's: the command acts on the daemon or its log.
	 */
	bool from_state;
	/*
	 * The one argument it takes after its options, as its usage names it
	 * ("FILE"), into the const char * at operand_off of its struct; NULL:
	 * it takes none.
	 */
	const char *operand;
	size_t operand_off;
	/*
	 * A subcommand's siblings' option tables, ending with NULL, when the
	 * command table does not hold them (policy's): one of theirs is named
	 * as not applying to it, not as unknown.
	 */
	const struct cli_opt *const *family;
};

/* A line of main.c's command table. */
struct cli_verb {
	const char *name;
	int (*fn)(int argc,
		  char **argv);	       /* argv[0] is the command's name; returns the exit status */
	const struct cli_command *cmd; /* its options; NULL: none, or its subcommands' (policy) */
	const char *summary;	       /* bima --help's text, lines after the first indented */
};
extern const struct cli_verb cli_verbs[]; /* ends with {} */

/*
 * Parse a command's options into args (its struct, holding its defaults):
 * first the settings of the configuration file (--config FILE as the first
 * option, or CONFIG_DEFAULT if it exists) that the command has options for,
 * then the command line, which has the last word. Returns 0 to go on, 1
 * after printing --help, or -EINVAL (-ENOENT for a --config that does not
 * exist) after saying why, with the usage where the command line is wrong.
 */
int cli_parse(const struct cli_command *c, int argc, char **argv, void *args);
/* Print the command's usage and options. */
void cli_usage(const struct cli_command *c, FILE *f);
/*
 * `bima COMMAND SUB [OPTIONS]`, SUB the subcommand whose options are c
 * (ak export, keylime check, policy's): the exit status of usage or
 * --help, or -1 to go on with the options in args. Another word in SUB's
 * place is named as unknown.
 */
int cli_parse_sub(const struct cli_command *c, const char *sub, int argc, char **argv, void *args);

/* A number of min..max into out; an error names the option (opt, "--name") and the range. */
int cli_ulong(const char *opt, const char *s, unsigned long min, unsigned long max,
	      unsigned long *out);
/* The kinds of value more than one command takes (CLI_FN); field types as named. */
int cli_path_or_none(const char *opt, const char *value, void *str); /* "/..." or none */
int cli_control(const char *opt, const char *value, void *str);	     /* same, none: NULL */
int cli_template(const char *opt, const char *value, void *str);     /* auto|ima-ng|bima-ct */

/* The ASCII list's link for --ascii (NULL: not given) and the PCR: by default only on PCR 10. */
const char *cli_ascii_link(const char *ascii, unsigned long pcr);
/* Whether file entries are bima-ct: --template (NULL: auto), by default unless a list is kept. */
bool cli_ct_template(const char *template, const char *ascii_link);

/* A nonce, 1 to 64 bytes in hex, into out (64 bytes); the error is reported. */
int cli_nonce(const char *hex, uint8_t *out, size_t *len);
/* The epoch directory named by epoch (NULL: the newest in log_dir); the error is reported. */
int cli_epoch_dir(const char *log_dir, const char *epoch, char *dir, size_t len);

/* The commands. */
extern const struct cli_command cli_run, cli_stop, cli_status, cli_snapshot, cli_log, cli_verify,
	cli_ak, cli_quote, cli_keylime;
int cmd_run(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ak(int argc, char **argv);
int cmd_quote(int argc, char **argv);
int cmd_keylime(int argc, char **argv);
int cmd_policy(int argc, char **argv);

#endif
