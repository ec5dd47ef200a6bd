/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The re-measurement cache: a file's state when it was last hashed, on a
 * filesystem that tells changes, kept in its inode's storage (bima_inodes),
 * and the violation state. Part of measure.bpf.c, included where it needs
 * it.
 */
#ifndef BIMA_CACHE_BPF_H
#define BIMA_CACHE_BPF_H

/*
 * Whether the filesystem, by its magic and s_iflags, can tell bima that a
 * file changed: by its change cookie (i_version) with the times, by the
 * times and size alone, or not at all (the file is measured every time, as
 * IMA does for them).
 */
static __always_inline bool cacheable(__u64 magic, __u64 iflags)
{
	switch (magic) {
	case 0x65735546: /* fuse: the server changes files behind the kernel's back */
	case 0x794c7630: /* overlayfs: its real inode is checked instead (content_inode) */
	case 0x01021997: /* 9p */
	case 0x6969:	 /* nfs */
	case 0xfe534d42: /* smb3 */
	case 0xff534d42: /* cifs */
	case 0x00c36400: /* ceph */
		return false;
	}
	return !(iflags & SB_I_IMA_UNVERIFIABLE_SIGNATURE);
}

/*
 * name(inode, now): the inode's state now, as the cache compares it, read
 * with R. The change cookie is read whether or not the filesystem keeps it
 * (SB_I_VERSION): where it does not, the times and size tell, and a cookie
 * that moves all the same only makes the file hashed again. So the hit
 * path (cache_hit) reads no superblock.
 */
#define DEFINE_READ_INODE(name, R, read_times)                                           \
	static __always_inline void name(struct inode *inode, struct bima_inode *now)    \
	{                                                                                \
		now->i_version = R(inode, i_version.counter) >> I_VERSION_QUERIED_SHIFT; \
		now->size = R(inode, i_size);                                            \
		read_times(inode, now);                                                  \
	}

DEFINE_READ_INODE(read_inode_load, LOAD, read_times_load)
DEFINE_READ_INODE(read_inode_probe, PROBE, read_times_probe)

/*
 * name(inode, now): the file's state now (read_inode, with R), and whether
 * its filesystem can tell changes (cacheable).
 */
#define DEFINE_READ_STATE(name, R, read_inode)                                        \
	static __always_inline bool name(struct inode *inode, struct bima_inode *now) \
	{                                                                             \
		struct super_block *sb = R(inode, i_sb);                              \
                                                                                      \
		read_inode(inode, now);                                               \
		return cacheable(R(sb, s_magic), R(sb, s_iflags));                    \
	}

DEFINE_READ_STATE(read_state_load, LOAD, read_inode_load)
DEFINE_READ_STATE(read_state_probe, PROBE, read_inode_probe)

/* The inode's own state (read_inode) the same in a and b. */
static __always_inline bool same_inode(const struct bima_inode *a, const struct bima_inode *b)
{
	return a->i_version == b->i_version && a->size == b->size && a->ctime_sec == b->ctime_sec &&
	       a->ctime_nsec == b->ctime_nsec && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec;
}

static __always_inline bool same_state(const struct bima_inode *a, const struct bima_inode *b)
{
	return same_inode(a, b) && a->real_ino == b->real_ino && a->real_gen == b->real_gen &&
	       a->real_dev == b->real_dev && a->real_generation == b->real_generation;
}

/*
 * The inode that holds the content of file, whose inode is inode: inode
 * itself, or on overlayfs the real inode beneath (overlay.bpf.h), whose
 * state the cache then compares. NULL: an overlay file whose real inode
 * cannot be told, which is not cached.
 */
static __always_inline struct inode *content_inode(struct file *file, struct inode *inode)
{
	return on_overlay(inode) ? overlay_real_inode(file, inode) : inode;
}

/*
 * A cache hit, on this CPU's counter. Atomic all the same: a sleepable
 * program can be preempted by another on the same CPU, and a plain
 * increment would then lose one; on a line no other CPU writes, the
 * atomic add costs no cache line transfer.
 */
static __always_inline void count_hit(void)
{
	struct bima_cpu_stats *cs;
	__u32 zero = 0;

	cs = bpf_map_lookup_elem(&bima_cpu_stats, &zero);
	if (cs)
		__sync_fetch_and_add(&cs->cache_hits, 1);
}

/* Whether entry c was kept with gen as it is now: no writer opened since (cache_holds). */
static __always_inline bool no_writer_since(struct bima_inode *c)
{
	return c->valid_gen == *(volatile __u64 *)&c->gen + 1;
}

/*
 * Whether the cache holds the file: hashed in the state it has now, with no
 * writer open then, and no writer opened since (on overlayfs, it or the
 * real inode beneath: the real inode's identity and writers' opens are in
 * the state). A plain load of gen, no atomic (which BPF makes a full
 * barrier): a hit needs no order between the state read and gen read. The
 * hit stands for the moment gen was read: no writer had opened the file
 * since it was hashed, so none can have written it since (cache_keep). A
 * measurement that goes on to hash the file reads gen again, with a
 * barrier (measure_file).
 */
static __always_inline bool cache_holds(struct bima_inode *c, const struct bima_inode *now)
{
	return no_writer_since(c) && same_state(c, now);
}

/*
 * Keep the file as hashed in state now, gen being the writers' opens
 * counted before the hashing began, when no writer had it open (writers(),
 * read after gen). The state may be older than what was hashed, never
 * newer: a writer's change the state cannot show (the same size within one
 * clock tick, on a filesystem without i_version) needs a writer, which
 * was not open when gen was read, so opened later and moved gen on
 * (cache_writer) before it could write: the kernel counts a writer in
 * i_writecount before the file_open hook, and the hook moves gen on before
 * the open returns. An open during the hashing: the hash may be of the
 * content before its writes, and the entry is not kept. An open after the
 * test below: valid_gen is then gen + 1 of a gen that has moved on, and
 * does not hold. A measurement that began before another one's writer
 * opened cannot undo the later one's entry but at worst makes it hash
 * again.
 */
static __always_inline void cache_keep(struct bima_inode *c, const struct bima_inode *now,
				       __u64 gen)
{
	if (__sync_fetch_and_add(&c->gen, 0) != gen)
		return;
	c->i_version = now->i_version;
	c->ctime_sec = now->ctime_sec;
	c->mtime_sec = now->mtime_sec;
	c->size = now->size;
	c->ctime_nsec = now->ctime_nsec;
	c->mtime_nsec = now->mtime_nsec;
	c->real_ino = now->real_ino;
	c->real_gen = now->real_gen;
	c->real_dev = now->real_dev;
	c->real_generation = now->real_generation;
	c->valid_gen = gen + 1;
}

/* The violation state: measured while open for reading (bima.h, read_measured). */
static __always_inline void mark_read(struct file *file, struct bima_inode *c)
{
	if (!(file->f_mode & FMODE_WRITE) && !c->read_measured)
		c->read_measured = 1;
}

/*
 * Whether a writer has the file open, read after gen (cache_keep): the
 * inode, and on overlayfs the real inode beneath, which may be opened for
 * writing without the overlay (its opens move its bima_real entry on).
 * Only writers the kernel counts (FMODE_WRITER: what an open of a regular
 * file for writing makes), as IMA's last-writer test counts them.
 */
static __always_inline bool writers(struct inode *inode, struct inode *real)
{
	if (inode->i_writecount.counter > 0)
		return true;
	return real && real != inode && PROBE(real, i_writecount.counter) > 0;
}

/*
 * A writer opens the file (file_open): its entry, and the entry of an
 * overlay file above it (bima_real), no longer hold, from before the
 * writer can write. A file whose writer is open is not kept (writers()),
 * so a writer's close needs nothing.
 */
static __always_inline void cache_writer(struct inode *inode)
{
	struct bima_inode *c = bpf_inode_storage_get(&bima_inodes, inode, 0, 0);

	if (c)
		__sync_fetch_and_add(&c->gen, 1);
	/* Overlayfs's own files beneath an overlay file too: they are files on the real inode. */
	real_written(inode);
}

/*
 * The hit path's test of an entry kept for an overlay inode (c->real_ino):
 * whether the file overlayfs opened beneath file checks out (opened_as),
 * overlayfs reads from its inode now (overlay_reads), that inode is the
 * real inode the entry names (device, number, generation), and its state
 * and writers' opens (bima_real) are the entry's. It does not test again
 * that the real inode is a regular file on a filesystem the cache trusts,
 * not an overlay: the entry was kept only for such a one (file_state,
 * keep_measured), and the identity names it, as long as the entry lives:
 * the overlay inode, which carries the entry, holds its lower and upper
 * dentries, so neither their inodes nor their filesystems' devices can
 * go to another file meanwhile. A plain load of the real inode's count,
 * as of gen (cache_holds).
 */
static __always_inline bool overlay_holds(struct file *file, struct inode *inode,
					  const struct bima_inode *c)
{
	struct bima_inode now = {};
	struct inode *real;
	struct real_key k;
	__u64 *gen;

	real = overlay_opened_inode(file);
	if (!real || !overlay_reads(inode, real))
		return false;
	real_key(real, &k);
	if (k.ino != c->real_ino || k.dev != c->real_dev || k.generation != c->real_generation)
		return false;
	read_inode_probe(real, &now);
	if (!same_inode(c, &now))
		return false;
	gen = bpf_map_lookup_elem(&bima_real, &k);
	return gen && *(volatile __u64 *)gen == c->real_gen;
}

/*
 * The hit path, which the hooks take before anything else but the
 * violations' test: whether the cache holds file, whose inode is inode
 * (not NULL), opened for reading only or not. It reads the inode's state
 * alone: an entry is kept only for a regular file on a filesystem that
 * tells changes (cacheable), which an inode stays. An entry kept for an
 * overlay inode names the real inode beneath (real_ino), whose state it
 * reads instead (overlay_holds). On a hit, the
 * daemon's own access too: a hit records nothing, and only the violation
 * state, which the daemon's accesses never set, needs the daemon test.
 */
static __always_inline bool cache_hit(struct file *file, struct inode *inode, bool reading)
{
	struct bima_inode now = {}, *c;

	c = bpf_inode_storage_get(&bima_inodes, inode, 0, 0);
	if (!c || !no_writer_since(c))
		return false;
	if (c->real_ino) {
		if (!overlay_holds(file, inode, c))
			return false;
	} else {
		read_inode_load(inode, &now);
		if (!same_inode(c, &now))
			return false;
	}
	if (reading && !c->read_measured && !is_daemon()) /* as mark_read */
		c->read_measured = 1;
	count_hit();
	return true;
}

#endif
