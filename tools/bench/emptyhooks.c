// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach some of emptyhooks.bpf.c's programs, which return at once, and
 * pin their links, so that they stay attached after this exits:
 *
 *   emptyhooks PIN_DIR PROG...
 *
 * Each link is pinned as PIN_DIR/PROG; removing the pin detaches it.
 * tools/bench/attached.sh measures an open with them, the floor under
 * bima's programs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "bench/emptyhooks.skel.h"

static bool wanted(const char *name, int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(name, argv[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct emptyhooks *skel;
	struct bpf_program *prog;
	struct bpf_link *link;
	char pin[512];
	int err = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: emptyhooks PIN_DIR PROG...\n");
		return 2;
	}
	skel = emptyhooks__open();
	if (!skel) {
		fprintf(stderr, "emptyhooks: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program (prog, skel->obj)
		bpf_program__set_autoload(prog, wanted(bpf_program__name(prog), argc, argv));
	err = emptyhooks__load(skel);
	if (err) {
		fprintf(stderr, "emptyhooks: cannot load the programs: %s\n", strerror(-err));
		goto out;
	}
	bpf_object__for_each_program (prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		err = libbpf_get_error(link);
		if (err) {
			fprintf(stderr, "emptyhooks: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(-err));
			goto out;
		}
		snprintf(pin, sizeof(pin), "%s/%s", argv[1], bpf_program__name(prog));
		err = bpf_link__pin(link, pin);
		bpf_link__destroy(link); /* the pin holds it */
		if (err) {
			fprintf(stderr, "emptyhooks: cannot pin %s: %s\n", pin, strerror(-err));
			goto out;
		}
	}
out:
	emptyhooks__destroy(skel);
	return err ? 1 : 0;
}
