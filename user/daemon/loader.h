/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF side: load the measurement programs, attach them, and pin maps,
 * programs and links under LOADER_PIN_DIR so bpftool shows them by name.
 * The pins outlive the daemon: measurement goes on into the ring buffer
 * while no daemon runs, and the next daemon adopts the pins and drains it.
 */
#ifndef BIMA_LOADER_H
#define BIMA_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/bima.h"

#define LOADER_PIN_DIR "/sys/fs/bpf/bima"

struct loader;

struct loader_opts {
	uint32_t ringbuf_size; /* bytes, a power of two and a multiple of the page size */
	bool adopt_only;       /* do not load: fail with -ENOENT when nothing is pinned */
	bool fail_closed;      /* deny what cannot be recorded (BIMA_CFG_FAIL_CLOSED) */
	uint32_t grace_ms;     /* with fail_closed: the daemon's longest silence */
	uint32_t max_lag_ms;   /* with fail_closed: the TPM's longest lag; 0: no bound */
	uint32_t pcr;	       /* the PCR the daemon extends (bima_config.pcr) */
	/* Put in force at load; when adopting, only if policy_given, else the pinned one stays. */
	const struct bima_policy *policy;
	bool policy_given;
	/* Self-protection (BIMA_CFG_PROTECT) of log_dir, the pin directory and the objects. */
	bool protect;
	const char *log_dir;
	const char *control; /* the control socket, or NULL: its lock file is bima's own */
};

/*
 * Adopt the pinned objects if there are any and they come from this build,
 * else load, attach and pin. Errors are logged here, with what to do.
 */
int loader__open(const struct loader_opts *opts, struct loader **out);
/* Let go of the objects; the pins, and so the measurement, stay. */
void loader__free(struct loader *l);
/* Detach the hooks and remove every pin, naming each; the maps live until freed. */
void loader_unload(struct loader *l);

/*
 * Become the daemon of the pinned objects, if this build pinned them, before
 * the log is written: under self-protection only the daemon may write it.
 * -EBUSY (reported) while another daemon protects them; 0 when there is
 * nothing to claim (loader__open() then loads, or says why it cannot adopt).
 */
int loader_claim(const struct loader_opts *opts);

bool loader_adopted(const struct loader *l);
/* The pid of the daemon that last configured the pinned objects, or -ENOENT. */
int loader_pinned_daemon(int *pid);
/*
 * The configuration of the pinned objects: -ENOENT when nothing is pinned,
 * -ESTALE (reported) when another build pinned them.
 */
int loader_pinned_config(struct bima_config *cfg);
/*
 * Put a policy in force in the pinned objects (`bima policy load`). The
 * switch is itself a record in the ring buffer, which a daemon logs.
 */
int loader_pinned_policy(const struct bima_policy *pol);
/* The policy in force. */
int loader_policy(const struct loader *l, struct bima_policy *pol);
/* The attached hooks (their pinned links), as "exec (BPRM_CHECK), ..." */
void loader_describe(char *buf, size_t size);
int loader_events_fd(const struct loader *l);
/* The bima_reader map: where the daemon publishes its read position (ringbuf_publish()). */
int loader_reader_fd(const struct loader *l);
/*
 * Which load of the BPF programs this is, as "MAPID-BOOT": the ring
 * buffer's map id and the start of the kernel's boot id (a kexec'd kernel
 * numbers its maps from 1 again). Sequence numbers start at 0 with each load.
 */
#define LOADER_LOAD_ID_LEN 24
void loader_load_id(const struct loader *l, char *buf, size_t size);
int loader_stats(const struct loader *l, struct bima_stats *st);
/*
 * The counters kept a copy a CPU (bima_cpu_stats: cache hits), summed,
 * from the pinned map; no daemon needed. 0 or -errno (-ENOENT: no pins).
 */
int loader_cpu_stats(struct bima_cpu_stats *sum);
int loader_config(const struct loader *l, struct bima_config *cfg);
/* Remember, in the kernel, how many drops the log already records. */
int loader_set_drops_logged(const struct loader *l, uint64_t drops);
/*
 * bima's own files again (bima_config.own_ino), after the daemon wrote one
 * anew: its settings for the other commands, a new file at each start.
 */
int loader_set_own(const struct loader *l, const struct loader_opts *opts);
/* Tell the hooks the daemon is alive (bima_config.heartbeat_ns); so do the others here. */
int loader_heartbeat(const struct loader *l);
/*
 * Tell the hooks since when (CLOCK_MONOTONIC ns) entries wait for the TPM,
 * 0 once none does (bima_config.unextended_ns).
 */
int loader_set_unextended(const struct loader *l, uint64_t since_ns);

/* The anchor with the highest id (id 0: none yet). */
int loader_last_anchor(const struct loader *l, struct bima_anchor *last);
int loader_pinned_last_anchor(struct bima_anchor *last);
/* Every slot of the pinned bima_anchors map (id 0: empty); -ENOENT if nothing is pinned. */
int loader_pinned_anchors(struct bima_anchor out[BIMA_ANCHORS_MAX]);
/* Record a snapshot anchor; a->id must be above every id held (-EINVAL otherwise). */
int loader_add_anchor(const struct loader *l, const struct bima_anchor *a);

#endif
