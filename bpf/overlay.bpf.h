/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real inode beneath an overlayfs file, for the re-measurement cache
 * (see docs/cache.md). IMA keeps its cache of an
 * overlay file on the overlay inode and checks the real inode that holds
 * the content (d_real_inode()): its identity and its change state. BPF
 * cannot call d_real_inode(); overlay_real_inode() reads what overlayfs
 * keeps instead, and trusts it only once it checks out:
 *
 * - the overlay file's private_data is the real file overlayfs opened
 *   (Linux up to 6.12), or a struct ovl_file whose first member, realfile,
 *   it is (6.13 and later);
 * - that file names the overlay file's dentry as the path it was opened
 *   by: its f_path up to 6.7 (a "fake path"), its struct backing_file's
 *   user_path from 6.8 on (or the f_path of its user_path_file, a layout
 *   proposed since), where f_path is the real path (whose inode it must
 *   then be);
 * - its inode is a regular file, not the overlay inode, not on an overlay;
 * - it is the inode overlayfs reads now: the overlay inode has no upper
 *   dentry (the file was never copied up), or the upper dentry's inode is
 *   this one. A file opened before a copy-up keeps its lower file (and maps
 *   it), while reads, the hashing's included, go to the upper one: such a
 *   file, like a metacopy upper whose data is below, is not cached.
 * Anything else: no real inode, and the file is hashed at every access.
 *
 * overlayfs's own types (struct ovl_inode, struct ovl_file) come from its
 * BTF: the module's, which libbpf reads when it loads the programs, if the
 * module is loaded then (user/daemon/loader.c asks the kernel for it). Without
 * it, no overlay file is cached.
 *
 * A change to the real inode is seen by its state (read_state) and by its
 * writers' opens, which bima_file_open counts in bima_real (and an entry is
 * not kept while it has a writer open: writers() in cache.bpf.h): the real inode
 * is reached by no BTF pointer, so it can have no inode storage of its own
 * from here. Included by measure.bpf.c.
 */
#ifndef BIMA_OVERLAY_BPF_H
#define BIMA_OVERLAY_BPF_H

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* fs/overlayfs/ovl_entry.h: the overlay inode and its upper dentry (offsets by CO-RE). */
struct ovl_inode___bima {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

/* fs/overlayfs/file.c, 6.13 and later: what an overlay file's private_data points to. */
struct ovl_file___bima {
	struct file *realfile;
} __attribute__((preserve_access_index));

/* fs/file_table.c, 6.8 and later: a real file overlayfs opened, and the overlay path. */
struct backing_file___bima {
	struct file file;
	struct path user_path;
} __attribute__((preserve_access_index));

/* A later layout proposed upstream: the overlay path in a struct file of its own. */
struct backing_file___bima_file {
	struct file file;
	struct file user_path_file;
} __attribute__((preserve_access_index));

/* A real inode: its device, number and generation (a reused number is another file). */
struct real_key {
	__u64 ino;
	__u32 dev;
	__u32 generation;
};

#define REAL_MAX 16384

/*
 * Writers' opens of the real inodes beneath the overlay files measured:
 * gen starts at a value no entry had before (bima_real_stamp << 32) and a
 * writer's open adds 1. When the map is full, the least recently used
 * entry goes, and an overlay file on it is hashed again at its next access
 * (its entry comes back with another gen).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, REAL_MAX);
	__type(key, struct real_key);
	__type(value, __u64);
} bima_real SEC(".maps");

/* Entries of bima_real made so far: the start of the next one's gen. */
__u64 bima_real_stamp = 0;

static __always_inline bool on_overlay(struct inode *inode)
{
	return BPF_CORE_READ(inode, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC;
}

static __always_inline void real_key(struct inode *inode, struct real_key *k)
{
	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->generation = BPF_CORE_READ(inode, i_generation);
}

/*
 * The file overlayfs opened beneath the overlay file, unchecked. The
 * overlay file is the hook's, which the verifier trusts: private_data, a
 * void pointer, is a plain load, a scalar.
 */
static __always_inline struct file *overlay_realfile(struct file *file)
{
	void *priv = file->private_data;
	struct ovl_file___bima *of = priv;

	if (bpf_core_type_exists(struct ovl_file___bima))
		return BPF_CORE_READ(of, realfile);
	return priv;
}

/*
 * Whether real, a file overlayfs opened, whose f_path.dentry is rd and
 * whose inode is ri, was opened by the overlay path to dentry.
 */
static __always_inline bool opened_as(struct file *real, struct dentry *rd, struct inode *ri,
				      struct dentry *dentry)
{
	struct backing_file___bima_file *bff;
	struct backing_file___bima *bf;
	struct dentry *user;

	if (rd == dentry)
		return true; /* up to 6.7 */
	if (bpf_core_field_exists(struct backing_file___bima, user_path)) {
		bf = (void *)real - bpf_core_field_offset(struct backing_file___bima, file);
		user = BPF_CORE_READ(bf, user_path.dentry);
	} else if (bpf_core_field_exists(struct backing_file___bima_file, user_path_file)) {
		bff = (void *)real - bpf_core_field_offset(struct backing_file___bima_file, file);
		user = BPF_CORE_READ(bff, user_path_file.f_path.dentry);
	} else {
		return false;
	}
	/* And f_path is the real path. */
	return user == dentry && BPF_CORE_READ(rd, d_inode) == ri;
}

/*
 * The inode of the file overlayfs opened beneath file, a file of the
 * overlay (the hook's), if that file checks out as opened by file's path
 * (opened_as); NULL if not. Each field read once: a read through a
 * pointer the verifier cannot type is a helper call.
 */
static __always_inline struct inode *overlay_opened_inode(struct file *file)
{
	struct file *rf;
	struct dentry *rd;
	struct inode *ri;

	if (!bpf_core_type_exists(struct ovl_inode___bima))
		return NULL;
	rf = overlay_realfile(file);
	if (!rf)
		return NULL;
	rd = BPF_CORE_READ(rf, f_path.dentry);
	ri = BPF_CORE_READ(rf, f_inode);
	return ri && opened_as(rf, rd, ri, file->f_path.dentry) ? ri : NULL;
}

/*
 * Whether overlayfs reads inode's content from real now: the overlay inode
 * has no upper dentry (never copied up), or its upper dentry's inode is real.
 */
static __always_inline bool overlay_reads(struct inode *inode, struct inode *real)
{
	struct ovl_inode___bima *oi;
	struct dentry *upper;

	oi = (void *)inode - bpf_core_field_offset(struct ovl_inode___bima, vfs_inode);
	upper = BPF_CORE_READ(oi, __upperdentry);
	return !upper || BPF_CORE_READ(upper, d_inode) == real;
}

/*
 * The inode that holds the content of file, a regular file on overlayfs
 * whose inode is inode, checked as above; NULL when it does not check out.
 */
static __always_inline struct inode *overlay_real_inode(struct file *file, struct inode *inode)
{
	struct inode *real = overlay_opened_inode(file);

	if (!real || real == inode || on_overlay(real) ||
	    (BPF_CORE_READ(real, i_mode) & S_IFMT) != S_IFREG || !overlay_reads(inode, real))
		return NULL;
	return real;
}

/*
 * The real inode's writers' opens into now (real_gen, with its identity),
 * its bima_real entry made if need be; false when it has none and create
 * is false, or none can be made.
 */
static __always_inline bool real_gen(struct inode *real, struct bima_inode *now, bool create)
{
	struct real_key k;
	__u64 *gen, first;

	real_key(real, &k);
	gen = bpf_map_lookup_elem(&bima_real, &k);
	if (!gen && create) {
		first = __sync_fetch_and_add(&bima_real_stamp, 1) << 32;
		bpf_map_update_elem(&bima_real, &k, &first, BPF_NOEXIST);
		gen = bpf_map_lookup_elem(&bima_real, &k);
	}
	if (!gen)
		return false;
	now->real_ino = k.ino;
	now->real_dev = k.dev;
	now->real_generation = k.generation;
	now->real_gen = __sync_fetch_and_add(gen, 0);
	return true;
}

/* A writer opens a file: if its inode lies beneath an overlay file measured, count it. */
static __always_inline void real_written(struct inode *inode)
{
	struct real_key k;
	__u64 *gen;

	if (!bima_real_stamp)
		return; /* no overlay file measured yet: nothing to look up */
	real_key(inode, &k);
	gen = bpf_map_lookup_elem(&bima_real, &k);
	if (gen)
		__sync_fetch_and_add(gen, 1);
}

#endif /* BIMA_OVERLAY_BPF_H */
