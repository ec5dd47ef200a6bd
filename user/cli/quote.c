// SPDX-License-Identifier: GPL-2.0-only
/* bima ak and quote: the attestation key, and a quote of the PCR handed over with the log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ak.h"
#include "bundle.h"
#include "cli.h"
#include "hashalg.h"
#include "log.h"
#include "msg.h"
#include "tpm.h"

struct quote_args {
	const char *log_dir, *tcti;
	unsigned long pcr;
	const char *nonce, *out;
	unsigned long since;
};

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

/* Their options are told in the usage above. */
#define A struct quote_args
static const struct cli_opt ak_opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, 0, NULL),
	CLI_STR("tcti", "TCTI", A, tcti, 0, NULL),
	{},
};

static const struct cli_opt quote_opts[] = {
	CLI_STR("log-dir", "DIR", A, log_dir, 0, NULL),
	CLI_STR("tcti", "TCTI", A, tcti, 0, NULL),
	CLI_ULONG("pcr", "N", A, pcr, 0, 23, 0, NULL),
	CLI_STR("nonce", "HEX", A, nonce, 0, NULL),
	CLI_STR("out", "DIR", A, out, 0, NULL),
	CLI_ULONG("since", "ID", A, since, 1, ~0ul, 0, NULL),
	{},
};
#undef A

const struct cli_command cli_ak = { .usage = ak_usage, .opts = ak_opts, .from_state = true };
const struct cli_command cli_quote = { .usage = quote_usage,
				       .opts = quote_opts,
				       .from_state = true };

int cli_nonce(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = hex ? strlen(hex) : 0;

	*len = n / 2;
	for (size_t i = 0; i < *len && n <= 128; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1 ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			*len = 0;
	if (!*len || n % 2 || n > 128) {
		pr_usage("--nonce: 1 to 64 bytes in hex, not \"%s\"", hex ?: "");
		return -EINVAL;
	}
	return 0;
}

static int open_ak(const struct quote_args *a, struct tpm **tpm, struct tpm_ak *ak)
{
	int err = tpm__open(a->tcti, tpm);

	if (!err && mkdir(a->log_dir, 0700) && errno != EEXIST)
		err = -errno;
	return err ?: ak_load_or_create(*tpm, a->log_dir, ak);
}

int cmd_ak(int argc, char **argv)
{
	struct quote_args a = { .log_dir = DEFAULT_LOG_DIR, .tcti = DEFAULT_TCTI };
	struct tpm *tpm = NULL;
	struct tpm_ak ak;
	int err;

	err = cli_parse_sub(&cli_ak, "export", argc, argv, &a);
	if (err >= 0)
		return err;
	err = open_ak(&a, &tpm, &ak) ?: ak_write_pem(&ak, stdout);
	tpm__free(tpm);
	return err ? 1 : 0;
}

/* The quote, then the log after it: it may run ahead of the quote, never behind it. */
static int quote(const struct quote_args *a, const uint8_t *nonce, size_t nlen)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	char dir[LOG_PATH_MAX];
	struct tpm *tpm = NULL;
	struct tpm_quote q;
	struct tpm_ak ak;
	uint32_t reset, restart;
	size_t nbanks;
	int err;

	err = open_ak(a, &tpm, &ak) ?: tpm_banks(tpm, a->pcr, banks, &nbanks);
	err = err ?: tpm_epoch(tpm, &reset, &restart);
	err = err ?: log_epoch_dir(dir, sizeof(dir), a->log_dir, reset, restart);
	if (!err && access(dir, F_OK)) {
		pr_err("%s: no log of the TPM's epoch: nothing a quote could vouch for", dir);
		err = -ENOENT;
	}
	err = err ?: tpm_quote(tpm, &ak, nonce, nlen, a->pcr, banks, nbanks, &q);
	err = err ?: ak_verify(&ak, &q) ?: bundle_write_quote(a->out, &q);
	err = err ?: bundle_write_log(dir, a->since, a->out);
	if (!err && a->since)
		pr_info("quoted PCR %lu in %zu bank(s): %s/quote.attest, quote.sig, and the log "
			"of %s from anchor %lu",
			a->pcr, nbanks, a->out, strrchr(dir, '/') + 1, a->since);
	else if (!err)
		pr_info("quoted PCR %lu in %zu bank(s): %s/quote.attest, quote.sig, and the log "
			"of %s",
			a->pcr, nbanks, a->out, strrchr(dir, '/') + 1);
	tpm__free(tpm);
	return err;
}

int cmd_quote(int argc, char **argv)
{
	struct quote_args a = { .log_dir = DEFAULT_LOG_DIR, .tcti = DEFAULT_TCTI, .pcr = 10 };
	uint8_t nonce[64];
	size_t nlen;
	int err = cli_parse(&cli_quote, argc, argv, &a);

	if (err)
		return err > 0 ? 0 : 2;
	if (cli_nonce(a.nonce, nonce, &nlen))
		return 2;
	if (!a.out) {
		pr_usage("quote needs --out DIR");
		return 2;
	}
	return quote(&a, nonce, nlen) ? 1 : 0;
}
