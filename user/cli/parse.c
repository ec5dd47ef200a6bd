// SPDX-License-Identifier: GPL-2.0-only
/*
 * A command's options from its table (cli.h): the configuration file's
 * settings, then the command line; and the options in its --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "msg.h"
#include "runstate.h"
#include "template.h"

#define CONFIG_MAX 64	/* settings in a configuration file */
#define ARGS_MAX 63	/* arguments of a command that reads it, after its name and --config FILE */
#define OPTS_MAX 64	/* long options of all commands, each name once */
#define CMD_OPTS_MAX 32 /* options of one command */

/* A field of any kind the tables use, for checking a setting that the command does not take. */
union cli_value {
	const char *s;
	unsigned long ul;
	bool b;
	int i;
};

/* The option called name in table t, or NULL. */
static const struct cli_opt *opt_find(const struct cli_opt *t, const char *name)
{
	for (; t && t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* The configuration file's key called name: an option with CLI_KEY in any command. */
static const struct cli_opt *key_find(const char *name)
{
	for (const struct cli_verb *v = cli_verbs; v->name; v++) {
		const struct cli_opt *o = v->cmd ? opt_find(v->cmd->opts, name) : NULL;

		if (o && (o->flags & CLI_KEY))
			return o;
	}
	return NULL;
}

int cli_ulong(const char *opt, const char *s, unsigned long min, unsigned long max,
	      unsigned long *out)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || n < min || n > max) {
		pr_usage("%s: invalid value \"%s\" (%lu..%lu)", opt, s, min, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* Option o given value (NULL for a flag): into field, its place in the command's struct. */
static int opt_set(const struct cli_opt *o, const char *value, void *field)
{
	char opt[64];

	snprintf(opt, sizeof(opt), "--%s", o->name);
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)field = true;
		return 0;
	case CLI_STR:
		*(const char **)field = value;
		return 0;
	case CLI_ULONG:
		return cli_ulong(opt, value, o->min, o->max, field);
	case CLI_FN:
		return o->fn(opt, value, field);
	case CLI_VERBOSE:
		break;
	}
	return -EINVAL;
}

struct config_ctx {
	const char *path;
	const struct cli_command *c;
	void *args;
	int n;				 /* settings read */
	const char *state[CMD_OPTS_MAX]; /* RUNSTATE_PATH's value of each of c's options, or NULL */
};

/*
 * One setting of the configuration file: checked as the key's option takes
 * it, so that a refused value names its line, and applied if the command
 * takes the option. The value stays allocated: the command's struct may point to it.
 */
static int config_setting(const char *key, const char *value, unsigned int line, void *arg)
{
	struct config_ctx *x = arg;
	const struct cli_opt *k = key_find(key), *o;
	union cli_value scratch;
	char *copy;

	if (!k) {
		pr_usage("%s:%u: unknown key \"%s\" (the keys are bima run's long options)",
			 x->path, line, key);
		return -EINVAL;
	}
	if (k->kind == CLI_FLAG && strcmp(value, "yes") && strcmp(value, "no")) {
		pr_usage("%s:%u: %s takes yes or no, not \"%s\"", x->path, line, key, value);
		return -EINVAL;
	}
	if (k->kind == CLI_FLAG && !strcmp(value, "no"))
		return 0;
	if (x->n++ == CONFIG_MAX) {
		pr_usage("%s:%u: more than %d settings", x->path, line, CONFIG_MAX);
		return -EINVAL;
	}
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	if (opt_set(k, copy, &scratch)) {
		pr_usage("%s:%u: the setting above is refused", x->path, line);
		free(copy);
		return -EINVAL;
	}
	o = opt_find(x->c->opts, key);
	return o ? opt_set(o, copy, (char *)x->args + o->off) : 0;
}

/* One setting of RUNSTATE_PATH: applied if the command takes it, and kept for parse_argv. */
static int state_setting(const char *key, const char *value, unsigned int line, void *arg)
{
	struct config_ctx *x = arg;
	const struct cli_opt *o = opt_find(x->c->opts, key);
	char *copy;

	if (!o || o - x->c->opts >= CMD_OPTS_MAX)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	if (opt_set(o, copy, (char *)x->args + o->off)) {
		pr_usage("%s:%u: the setting above is refused", RUNSTATE_PATH, line);
		free(copy);
		return -EINVAL;
	}
	x->state[o - x->c->opts] = copy;
	return 0;
}

/* The running daemon's settings (runstate.h), if there are any that may be trusted. */
static int read_state(struct config_ctx *x)
{
	int err = runstate_check(RUNSTATE_PATH);

	err = err ?: config_read(RUNSTATE_PATH, state_setting, x);
	return err == -ENOENT || err == -EPERM ? 0 : err; /* none, or not the daemon's: said */
}

/* Whether two values of option o are the same setting: a path with or without its last '/'. */
static bool same_setting(const struct cli_opt *o, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (o->kind == CLI_ULONG)
		return strtoul(a, NULL, 0) == strtoul(b, NULL, 0);
	if (!strcmp(o->name, "template") && !strcmp(b, "auto"))
		return true;
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !memcmp(a, b, la);
}

/* Table t's long options that l (n of them) does not hold yet; -E2BIG, said, if they do not fit. */
static int longopts_add(struct option *l, int *n, const struct cli_opt *t)
{
	for (const struct cli_opt *o = t; o && o->name; o++) {
		int i = 0;

		while (i < *n && strcmp(l[i].name, o->name))
			i++;
		if (i < *n)
			continue;
		if (*n == OPTS_MAX) {
			pr_err("more than %d options: raise OPTS_MAX", OPTS_MAX);
			return -E2BIG;
		}
		l[*n] = (struct option){ o->name,
					 o->kind == CLI_FLAG ? no_argument : required_argument,
					 NULL, 256 + *n };
		(*n)++;
	}
	return 0;
}

/*
 * Every command's long options, each name once, for getopt: an option of
 * another command is then named as one that does not apply to this one.
 * Those of c and its family too, when the command table does not hold
 * them (policy's subcommands: theirs are not the other commands'). -v and
 * -h come back as 'v' and 'h', the others as 256 + their index. Returns
 * -E2BIG, said, if OPTS_MAX is too small for them.
 */
static int longopts_fill(struct option *l, const struct cli_command *c)
{
	int n = 0, err = 0;

	l[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	l[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (const struct cli_verb *v = cli_verbs; v->name && !err; v++)
		err = longopts_add(l, &n, v->cmd ? v->cmd->opts : NULL);
	err = err ?: longopts_add(l, &n, c->opts);
	for (const struct cli_opt *const *t = c->family; t && *t && !err; t++)
		err = longopts_add(l, &n, *t);
	l[n] = (struct option){};
	return err;
}

/*
 * The command line, argv[0] the command's name. An option with CLI_STATE
 * must agree with the running daemon's setting of it, if there is one.
 */
static int parse_argv(const struct config_ctx *x, int argc, char **argv)
{
	const struct cli_command *c = x->c;
	void *args = x->args;
	struct option longopts[OPTS_MAX + 1];
	const struct cli_opt *o;
	int opt;

	if (longopts_fill(longopts, c))
		return -E2BIG;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage(c, stdout);
			return 1;
		}
		if (opt == 'v') {
			msg_verbosity++;
			msg_max_level = MSG_DEBUG;
			continue;
		}
		if (opt == '?') { /* getopt said why */
			cli_usage(c, stderr);
			return -EINVAL;
		}
		o = opt_find(c->opts, longopts[opt - 256].name);
		if (!o) {
			pr_usage("option --%s does not apply to this command",
				 longopts[opt - 256].name);
			cli_usage(c, stderr);
			return -EINVAL;
		}
		if (opt_set(o, optarg, (char *)args + o->off))
			return -EINVAL;
		if ((o->flags & CLI_STATE) && o - c->opts < CMD_OPTS_MAX && x->state[o - c->opts] &&
		    !same_setting(o, x->state[o - c->opts], optarg)) {
			pr_usage("--%s %s: the pinned bima runs with %s = %s (%s): leave --%s out, "
				 "and it is taken from there",
				 o->name, optarg, o->name, x->state[o - c->opts], RUNSTATE_PATH,
				 o->name);
			return -EINVAL;
		}
	}
	if (c->operand && optind == argc) {
		pr_usage("missing argument %s", c->operand);
		cli_usage(c, stderr);
		return -EINVAL;
	}
	if (c->operand)
		*(const char **)((char *)args + c->operand_off) = argv[optind++];
	if (optind < argc) {
		pr_usage("unexpected argument \"%s\"", argv[optind]);
		cli_usage(c, stderr);
		return -EINVAL;
	}
	return 0;
}

int cli_parse(const struct cli_command *c, int argc, char **argv, void *args)
{
	struct config_ctx x = { .path = CONFIG_DEFAULT, .c = c, .args = args };
	int err = 0, rest = 1;

	if (!c->no_config && argc > 2 && !strcmp(argv[1], "--config")) {
		x.path = argv[2];
		rest = 3;
	}
	/* One that reads no file takes any number: policy export-keylime's options repeat. */
	if (!c->no_config && argc - rest > ARGS_MAX) {
		pr_usage("too many arguments: %d, at most %d", argc - rest, ARGS_MAX);
		return -EINVAL;
	}
	if (!c->no_config && strcmp(x.path, "none"))
		err = config_read(x.path, config_setting, &x);
	if (err == -ENOENT && rest == 1)
		err = 0; /* no configuration file: the defaults */
	else if (err == -ENOENT)
		pr_usage("--config %s: no such file", x.path);
	if (!err && c->from_state)
		err = read_state(&x);
	if (err)
		return err;
	/* The command's name, then what follows --config FILE. */
	argv[rest - 1] = argv[0];
	return parse_argv(&x, argc - rest + 1, argv + rest - 1);
}

int cli_parse_sub(const struct cli_command *c, const char *sub, int argc, char **argv, void *args)
{
	int err;

	if (argc < 2 || strcmp(argv[1], sub)) {
		bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		if (argc > 1 && !help)
			pr_usage("unknown subcommand \"%s\"", argv[1]);
		cli_usage(c, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	err = cli_parse(c, argc - 1, argv + 1, args);
	return err ? (err > 0 ? 0 : 2) : -1;
}

/* "  --name ARG", then its text from column col, on the next line if the name reaches it. */
static void usage_opt(const struct cli_opt *o, int col, FILE *f)
{
	int n;

	if (o->short_name)
		n = fprintf(f, "  -%c, --%s", o->short_name, o->name);
	else
		n = fprintf(f, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ?: "");
	if (n >= col) {
		fputc('\n', f);
		n = 0;
	}
	fprintf(f, "%*s", col - n, "");
	for (const char *p = o->help; *p; p++) {
		fputc(*p, f);
		if (*p == '\n' && p[1])
			fprintf(f, "%*s", col, "");
	}
	fputc('\n', f);
}

void cli_usage(const struct cli_command *c, FILE *f)
{
	fputs(c->usage, f);
	for (const struct cli_opt *o = c->opts; o && o->name; o++)
		if (o->help)
			usage_opt(o, c->col, f);
	if (c->tail)
		fputs(c->tail, f);
	for (const struct cli_verb *v = cli_verbs; v->name; v++)
		if (v->cmd == c)
			fprintf(f, "\nSee bima-%s(8) for details.\n", v->name);
}

int cli_path_or_none(const char *opt, const char *value, void *str)
{
	if (value[0] != '/' && strcmp(value, "none")) {
		pr_usage("%s: an absolute path, or none", opt);
		return -EINVAL;
	}
	*(const char **)str = value;
	return 0;
}

int cli_control(const char *opt, const char *value, void *str)
{
	int err = cli_path_or_none(opt, value, str);

	if (!err && !strcmp(value, "none"))
		*(const char **)str = NULL;
	return err;
}

int cli_template(const char *opt, const char *value, void *str)
{
	if (strcmp(value, "auto") && strcmp(value, "ima-ng") && strcmp(value, TEMPLATE_CT)) {
		pr_usage("%s: \"%s\" is not auto, ima-ng or %s", opt, value, TEMPLATE_CT);
		return -EINVAL;
	}
	*(const char **)str = value;
	return 0;
}
