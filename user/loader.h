/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF side: load the measurement programs, attach them, and pin maps,
 * programs and links under LOADER_PIN_DIR so bpftool shows them by name.
 */
#ifndef BIMA_LOADER_H
#define BIMA_LOADER_H

#include <stdint.h>

#include "../bpf/bima.h"

#define LOADER_PIN_DIR "/sys/fs/bpf/bima"

struct loader;

struct loader_opts {
	uint32_t ringbuf_size; /* bytes, a power of two and a multiple of the page size */
};

/* Load, attach and pin; errors are logged here, with what to do about them. */
int loader__open(const struct loader_opts *opts, struct loader **out);
/* Detach the hooks and remove the pins (the maps live on until freed). */
void loader_detach(struct loader *l);
void loader__free(struct loader *l);

int loader_events_fd(const struct loader *l);
int loader_stats(const struct loader *l, struct bima_stats *st);

#endif
