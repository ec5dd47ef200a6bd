// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workload of tools/bench/hooks.sh: N times one operation that goes
 * through bima's hooks, without a shell in between, so that the hooks'
 * counters see little besides it.
 *
 *   hookload open FILE N       open FILE for reading, read a byte, close
 *   hookload mmap FILE N       map FILE executable, unmap (FILE opened once)
 *   hookload exec PROGRAM N    fork, exec PROGRAM, wait
 *   hookload rewrite FILE N    write FILE anew, then open it and read a byte
 *
 * Built static by hooks.sh, so that its own exec maps nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what, const char *file)
{
	perror(file);
	fprintf(stderr, "hookload: %s failed\n", what);
	exit(1);
}

static void read_one(const char *file)
{
	char c;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || read(fd, &c, 1) < 0)
		fail("open", file);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *op, *file;
	long n, i;
	char buf[64];
	int fd, st;
	void *p;

	if (argc != 4) {
		fprintf(stderr, "usage: hookload open|mmap|exec|rewrite FILE N\n");
		return 2;
	}
	op = argv[1], file = argv[2], n = atol(argv[3]);
	fd = open(file, O_RDONLY); /* for mmap */
	if (fd < 0)
		fail("open", file);
	for (i = 0; i < n; i++) {
		if (!strcmp(op, "open")) {
			read_one(file);
		} else if (!strcmp(op, "mmap")) {
			p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
			if (p == MAP_FAILED)
				fail("mmap", file);
			munmap(p, 4096);
		} else if (!strcmp(op, "exec")) {
			pid_t pid = fork();

			if (pid == 0) {
				execl(file, file, (char *)NULL);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &st, 0) < 0 || st != 0)
				fail("exec", file);
		} else if (!strcmp(op, "rewrite")) {
			int w = open(file, O_WRONLY | O_TRUNC);

			snprintf(buf, sizeof(buf), "round %ld\n", i);
			if (w < 0 || write(w, buf, strlen(buf)) < 0)
				fail("write", file);
			close(w);
			read_one(file);
		} else {
			fprintf(stderr, "hookload: unknown operation %s\n", op);
			return 2;
		}
	}
	return 0;
}
