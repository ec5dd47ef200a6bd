# SPDX-License-Identifier: GPL-2.0-only
#
# make            build ./bima (BPF objects, skeleton, daemon) and the man pages
#                 into .output/
# make test       install what tests need (as root), then make check
# make check      build, run every test; installs nothing
# make run        install, build and run bima here, or in the bundled guest
# make deps       install the Debian packages for building, running, testing
# make vmlinux    regenerate vmlinux/vmlinux.h from the reference guest kernel
# make format     apply .clang-format to the C sources
# make install    install bima into $(DESTDIR)$(PREFIX)/sbin, its man pages into
#                 $(DESTDIR)$(PREFIX)/share/man/man5 and man8
# make deb        build the Debian package into .output/deb (from a copy of the tree)
# V=1 shows the full commands.

OUTPUT := .output
CLANG ?= clang-19
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
SCDOC ?= scdoc
PREFIX ?= /usr/local
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

PKGS := libbpf tss2-esys tss2-mu tss2-tctildr tss2-rc libcrypto zlib json-c
CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror -I$(OUTPUT) -Ibpf -Iuser \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
DEPFLAGS := -MMD -MP
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
# Every .c under user/, found rather than listed: main.c and cli/ are the
# command line, the rest goes into libbima.a, which bima, the tests and the
# tools link. Objects mirror the tree under $(OUTPUT); -MMD -MP writes each
# one's header dependencies beside it. user/'s folders follow the data path
# (kernel -> daemon -> log -> tpm; log -> verify); a header is included by
# its name alone, from any of them.
USER_SRCS := $(shell find user -name '*.c' | LC_ALL=C sort)
USER_DIRS := $(sort $(patsubst %/,%,$(dir $(USER_SRCS) $(shell find user -name '*.h'))))
CFLAGS += $(addprefix -I,$(filter-out user,$(USER_DIRS)))
CLI_SRCS := user/main.c $(filter user/cli/%,$(USER_SRCS))
LIB_SRCS := $(filter-out $(CLI_SRCS),$(USER_SRCS))
CLI_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CLI_SRCS))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
LIB := $(OUTPUT)/libbima.a
# The same library built with AddressSanitizer and UBSan, for the fuzz run.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_OBJS := $(patsubst %.c,$(OUTPUT)/asan/%.o,$(LIB_SRCS))
ASAN_LIB := $(OUTPUT)/asan/libbima.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TEST_HELPERS := $(OUTPUT)/tests/tpm-writer $(OUTPUT)/bench/collector $(OUTPUT)/bench/extend \
	$(OUTPUT)/bench/emptyhooks
DEPS := $(patsubst %.o,%.d,$(CLI_OBJS) $(LIB_OBJS) $(ASAN_OBJS)) \
	$(patsubst %,%.d,$(UNIT_BINS) $(TEST_HELPERS))
# The man pages: man/NAME.SECTION.scd, scdoc's source, becomes the roff page
# $(OUTPUT)/man/NAME.SECTION. Their date is the release's, the newest in
# debian/changelog (dpkg-buildpackage sets SOURCE_DATE_EPOCH to it too),
# so that a page does not change with the day it is built.
MAN_PAGES := $(patsubst man/%.scd,$(OUTPUT)/man/%,$(wildcard man/*.scd))
MAN5 := $(filter %.5,$(MAN_PAGES))
MAN8 := $(filter %.8,$(MAN_PAGES))
MANDIR := $(DESTDIR)$(PREFIX)/share/man
SOURCE_DATE_EPOCH ?= $(shell date -d "$$(sed -n 's/^ -- .*>  //p' debian/changelog | head -n 1)" +%s)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all clean deps test check unit man run install vmlinux format deb

all: bima man

bima: $(OUTPUT)/bima
	$(call msg,LN,$@)
	$(Q)ln -sf $< $@

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench $(OUTPUT)/man:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# An object waits for the skeletons (a file may include one); once built,
# its .d names the headers it includes, generated or not.
$(OUTPUT)/user/%.o: user/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/asan/user/%.o: user/%.c | $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(ASAN_LIB): $(ASAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/bima: $(CLI_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit $< $(LIB) $(LDLIBS) -o $@

# The fuzz run: the parsers, and all they call, built with the sanitizers.
$(OUTPUT)/tests/test_fuzz: tests/unit/test_fuzz.c $(ASAN_LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(DEPFLAGS) -Itests/unit $< $(ASAN_LIB) $(LDLIBS) -o $@

# The writer keeps a kernel IMA list of its own (--kernel-ima): bima's code reads
# it through the writer's wrappers of the functions that read the kernel's.
$(OUTPUT)/tests/tpm-writer: tests/tpm/writer.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB) $(LDLIBS) \
		-Wl,--wrap=kernel_ima_read,--wrap=kernel_ima_count -o $@

# tools/bench/collector.sh: the collector's rounds fed by a syscall program.
$(OUTPUT)/bench/%.bpf.o: tools/bench/%.bpf.c vmlinux/vmlinux.h | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/collector.skel.h: $(OUTPUT)/bench/collector.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench_push > $@

$(OUTPUT)/bench/collector: tools/bench/collector.c $(OUTPUT)/bench/collector.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB) $(LDLIBS) -o $@

# tools/bench/extend.c: what a TPM2_PCR_Extend costs, through ESYS and as the daemon sends it.
$(OUTPUT)/bench/extend: tools/bench/extend.c $(LIB) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB) $(LDLIBS) -o $@

# tools/bench/attached.sh: the floor, programs that return at once.
$(OUTPUT)/bench/emptyhooks.skel.h: $(OUTPUT)/bench/emptyhooks.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name emptyhooks > $@

$(OUTPUT)/bench/emptyhooks: tools/bench/emptyhooks.c $(OUTPUT)/bench/emptyhooks.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LDLIBS) -o $@

unit: $(UNIT_BINS) $(TEST_HELPERS)

man: $(MAN_PAGES)

$(OUTPUT)/man/%: man/%.scd debian/changelog | $(OUTPUT)/man
	$(call msg,SCDOC,$@)
	$(Q)SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(SCDOC) <$< >$@

deps:
	$(Q)tools/deps.sh

# check builds and runs every test and installs nothing; test installs what
# the tests need first (as root), then checks.
check: all unit
	$(Q)tests/run.sh

test: deps
	$(Q)$(MAKE) --no-print-directory check

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/run.sh

install: bima man
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/sbin/bima)
	$(Q)install -D -m 0755 $(OUTPUT)/bima $(DESTDIR)$(PREFIX)/sbin/bima
	$(call msg,INSTALL,$(MANDIR)/man5 man8)
	$(Q)install -d $(MANDIR)/man5 $(MANDIR)/man8
	$(Q)install -m 0644 $(MAN5) $(MANDIR)/man5
	$(Q)install -m 0644 $(MAN8) $(MANDIR)/man8

# dpkg-buildpackage cleans the tree it builds (make clean) and writes to its
# parent: it gets a copy, so that this tree and its .output stay as they are.
deb:
	$(call msg,DEB,$(OUTPUT)/deb)
	$(Q)rm -rf $(OUTPUT)/deb && mkdir -p $(OUTPUT)/deb/src
	$(Q)tar -cf - --exclude=./.output --exclude=./.cache --exclude=./.git --exclude=./bima . | \
		tar -C $(OUTPUT)/deb/src -xf -
	$(Q)cd $(OUTPUT)/deb/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	$(Q)ls $(OUTPUT)/deb/*.deb

vmlinux:
	$(Q)tools/make-vmlinux.sh vmlinux/vmlinux.h

format:
	$(Q)tools/check-format.sh --fix

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) bima

-include $(DEPS)
