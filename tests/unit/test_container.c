// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attribution: the container runtimes' cgroup layouts, container ids as
 * `bima log --container` matches them, the bima_container mark, and the
 * bima-ct template against a known-answer vector.
 *
 * Provenance of the bima-ct vector (hand-built, with Python's hashlib and
 * struct, independently of bima's code, from the layout in template.h):
 *   f = lambda b: le32(len(b)) + b
 *   data = f(b"sha256:\0" + sha256(b"abc")) + f(b"/usr/bin/abc\0")
 *        + f(le64(1234)) + f(le64(4026531841)) + f(b"docker\0")
 *        + f(ID + b"\0") + f(b"/system.slice/docker-" + ID + b".scope\0")
 *   with ID = "4f3c2b1a" * 8; the template hash is sha1(data).
 */
#include <stdlib.h>

#include "check.h"
#include "container.h"
#include "template.h"
#include "views.h"

#define ID64 "4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a"

static const char ct_data_hex[] =
	"280000007368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
	"ad0d0000002f7573722f62696e2f6162630008000000d20400000000000008000000010000f00000000007"
	"000000646f636b657200410000003466336332623161346633633262316134663363326231613466336332"
	"6231613466336332623161346633633262316134663363326231613466336332623161005c0000002f7379"
	"7374656d2e736c6963652f646f636b65722d34663363326231613466336332623161346633633262316134"
	"6633633262316134663363326231613466336332623161346633633262316134663363326231612e73636f"
	"706500";
static const char ct_hash_hex[] = "730e502ed0d8d86dab8c54884b86195f3414f98b";

static void expect(const char *path, const char *runtime, const char *id)
{
	struct container ct;

	container_from_path(path, &ct);
	CHECK_STR(ct.runtime, runtime, path);
	CHECK_STR(ct.id, id, path);
}

static void test_layouts(void)
{
	expect("/system.slice/docker-" ID64 ".scope", "docker", ID64);
	expect("/docker/" ID64, "docker", ID64);
	expect("/docker/" ID64 "/init.scope", "docker", ID64); /* the container's own cgroups */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/"
	       "cri-containerd-" ID64 ".scope",
	       "containerd", ID64);
	expect("/kubepods/burstable/pod12345678-aaaa-bbbb/" ID64, "cri", ID64);
	expect("/kubepods/pod12345678-aaaa-bbbb/" ID64, "cri", ID64);
	expect("/kubepods.slice/kubepods-pod1.slice/crio-" ID64 ".scope", "cri-o", ID64);
	expect("/machine.slice/libpod-" ID64 ".scope", "podman", ID64);
	expect("/machine.slice/libpod-" ID64 ".scope/container", "podman", ID64);
	expect("/libpod_parent/libpod-" ID64, "podman", ID64);
	expect("/machine.slice/machine-web\\x2d1.scope", "nspawn", "web-1");
	expect("/machine.slice/machine-web\\x2d1.scope/payload", "nspawn", "web-1");
	/* Not containers: the host, conmon, an id too short, no hex, a lookalike elsewhere */
	expect("/", "", "");
	expect("", "", "");
	expect("/system.slice/sshd.service", "", "");
	expect("/machine.slice/libpod-conmon-" ID64 ".scope", "", "");
	expect("/kubepods.slice/crio-conmon-" ID64 ".scope", "", "");
	expect("/system.slice/docker-abc.scope", "", "");
	expect("/system.slice/docker-" ID64 "x.scope", "", "");
	expect("/user.slice/" ID64, "", "");
	expect("/system.slice/machine-foo.scope", "", "");
}

static void test_matches(void)
{
	struct container docker = { "docker", ID64 }, host = { "", "" };

	CHECK(container_matches(&docker, ID64), "the whole id matches", "");
	CHECK(container_matches(&docker, "4f3c2b1a4f3c"), "a prefix matches", "");
	CHECK(container_matches(&docker, "docker:4f3c"), "runtime:prefix matches", "");
	CHECK(!container_matches(&docker, "podman:4f3c"), "another runtime does not", "");
	CHECK(!container_matches(&docker, "4f3d"), "another id does not", "");
	CHECK(!container_matches(&docker, ""), "nothing matches no id", "");
	CHECK(!container_matches(&docker, "docker:"), "nor a runtime alone", "");
	CHECK(!container_matches(&docker, "host"), "a container is not the host", "");
	CHECK(container_matches(&host, "host"), "host matches the host", "");
	CHECK(!container_matches(&host, "4f3c"), "the host has no id", "");
}

static void test_mark(void)
{
	struct attribution a = { .cgroup_id = 77,
				 .mnt_ns = 4026532000ull,
				 .ct = { "podman", ID64 },
				 .cgroup = "/a b/libpod-" ID64 ".scope" };
	struct attribution b, host = { .cgroup_id = 1, .mnt_ns = 5, .cgroup = "/" };
	struct buf text = {}, store = {};

	CHECK_EQ(container_mark_format(&text, &a), 0, "a mark is formatted");
	CHECK_EQ(container_mark_parse(text.p, text.len, &b, &store), 0, "and parsed");
	CHECK_EQ(b.cgroup_id, 77, "cgroup id");
	CHECK_EQ(b.mnt_ns, 4026532000ull, "mount namespace");
	CHECK_STR(b.ct.runtime, "podman", "runtime");
	CHECK_STR(b.ct.id, ID64, "container id");
	CHECK_STR(b.cgroup, "/a b/libpod-" ID64 ".scope", "a cgroup path with a space");
	text.len = 0;
	container_mark_format(&text, &host);
	CHECK_EQ(container_mark_parse(text.p, text.len, &b, &store), 0, "a host mark is parsed");
	CHECK_STR(b.ct.runtime, "", "the host's runtime is empty (\"-\")");
	CHECK_STR(b.ct.id, "", "and its id");
	CHECK(container_mark_parse((const uint8_t *)"cgroup=1 mntns=x runtime=- container=- path=/",
				   46, &b, &store) == -EBADMSG,
	      "a mark with a bad number is refused", "");
	CHECK(container_mark_parse((const uint8_t *)"cgroup=1 mntns=2", 16, &b, &store) == -EBADMSG,
	      "a cut mark is refused", "");
	buf_free(&text);
	buf_free(&store);
}

static void test_ct(void)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	struct attribution a = { .cgroup_id = 1234,
				 .mnt_ns = 4026531841ull,
				 .ct = { "docker", ID64 },
				 .cgroup = "/system.slice/docker-" ID64 ".scope" };
	uint8_t digest[32], want[512];
	char hex[41], why[TEMPLATE_WHY_LEN];
	struct buf data = {}, entry = {}, line = {};
	struct template_entry e;
	struct template_fields f;
	size_t n = strlen(ct_data_hex) / 2, used;

	for (size_t i = 0; i < n; i++)
		sscanf(ct_data_hex + 2 * i, "%2hhx", &want[i]);
	hashalg_digest(sha256, "abc", 3, digest);
	CHECK_EQ(template_data_ct(&data, sha256, digest, "/usr/bin/abc", &a), 0, "bima-ct data");
	CHECK(data.len == n && !memcmp(data.p, want, n), "bima-ct data is the hand-built vector",
	      "%zu bytes, want %zu", data.len, n);
	CHECK_EQ(template_encode(&entry, 11, TEMPLATE_CT, data.p, data.len, false), 0, "encoded");
	CHECK_EQ(template_decode(entry.p, entry.len, &e, &used, why), 0, "decoded");
	hex_encode(e.digest, 20, hex);
	CHECK_STR(hex, ct_hash_hex, "template hash");
	CHECK_EQ(template_fields(&e, &f, why), 0, "fields");
	CHECK(f.attributed, "bima-ct is attributed", "");
	CHECK_EQ(f.cgroup_id, 1234, "cgid");
	CHECK_EQ(f.mnt_ns, 4026531841ull, "mntns");
	CHECK_STR(f.runtime, "docker", "ctrt");
	CHECK_STR(f.container, ID64, "ctid");
	CHECK_STR(f.path, "/usr/bin/abc", "n-ng");
	CHECK_EQ(template_format_ascii(&line, &e, why), 0, "ASCII");
	buf_put(&line, "", 1);
	CHECK_STR((char *)line.p,
		  "11 730e502ed0d8d86dab8c54884b86195f3414f98b bima-ct "
		  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
		  "/usr/bin/abc 1234 4026531841 docker " ID64 " /system.slice/docker-" ID64
		  ".scope\n",
		  "ASCII line");

	/* A host entry whose cgroup is not known: empty strings, "-" in ASCII. */
	a = (struct attribution){ .cgroup_id = 9, .mnt_ns = 8, .cgroup = "" };
	data.len = entry.len = line.len = 0;
	template_data_ct(&data, sha256, digest, "/x", &a);
	template_encode(&entry, 11, TEMPLATE_CT, data.p, data.len, false);
	template_decode(entry.p, entry.len, &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "a host entry's fields");
	template_format_ascii(&line, &e, why);
	buf_put(&line, "", 1);
	CHECK(strstr((char *)line.p, " /x 9 8 - - -\n") != NULL, "empty fields are \"-\"", "%s",
	      (char *)line.p);

	/* Malformed: cgid of 4 bytes; a string field without its NUL. */
	data.p[data.len - 1 - 0] = 'x'; /* cgpath's NUL */
	entry.len = 0;
	template_encode(&entry, 11, TEMPLATE_CT, data.p, data.len, false);
	template_decode(entry.p, entry.len, &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), -EBADMSG, "a cgpath without its NUL is refused");
	CHECK(strstr(why, "cgpath") != NULL, "and named", "%s", why);
	buf_free(&data);
	buf_free(&entry);
	buf_free(&line);
}

static void test_lookup(void)
{
	struct cgroups *cg;
	struct attribution a = {};

	CHECK_EQ(cgroups__new(&cg), 0, "a cgroup table");
	cgroups_made(cg, 1ull << 62, "/system.slice/docker-" ID64 ".scope");
	cgroups_lookup(cg, 1ull << 62, &a);
	CHECK_STR(a.ct.id, ID64, "a cgroup made is named by its record");
	cgroups_removed(cg, 1ull << 62);
	cgroups_lookup(cg, 1ull << 62, &a);
	CHECK_STR(a.cgroup, "", "a cgroup removed and gone is not known");
	CHECK_STR(a.ct.runtime, "", "and has no container");
	cgroups__free(cg);
}

/* One entry through attrib_next(): ima-buf (buf) or ima-ng, a violation or not. */
static int attrib_one(struct attrib_reader *r, const char *path, const char *buf, bool violation,
		      struct attribution *a)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	uint8_t digest[32] = { 1 };
	struct buf entry = {}, data = {};
	struct template_entry e;
	struct template_fields f;
	char why[TEMPLATE_WHY_LEN];
	size_t used;
	int ret;

	template_data_ng(&data, sha256, digest, path, (const uint8_t *)buf, buf ? strlen(buf) : 0);
	template_encode(&entry, 10, buf ? "ima-buf" : "ima-ng", data.p, data.len, violation);
	template_decode(entry.p, entry.len, &e, &used, why);
	template_fields(&e, &f, why);
	ret = attrib_next(r, 1, &e, &f, a);
	buf_free(&entry);
	buf_free(&data);
	return ret;
}

/* A violation's data is not covered by the PCR: no mark, no container. */
static void test_violation(void)
{
	static const char mark[] = "cgroup=42 mntns=7 runtime=docker container=" ID64 " path=/d";
	struct attrib_reader r = {};
	struct attribution a;

	CHECK_EQ(attrib_one(&r, CONTAINER_MARK_NAME, mark, false, &a), 0, "a mark is no file");
	CHECK_EQ(attrib_one(&r, "/bin/true", NULL, false, &a), 1, "the file after it");
	CHECK(a.cgroup_id == 42 && !strcmp(a.ct.runtime, "docker"),
	      "is attributed to the mark's container", "cgroup %llu",
	      (unsigned long long)a.cgroup_id);
	CHECK_EQ(attrib_one(&r, "/bin/true", NULL, true, &a), 0,
		 "a violation is no file: it names nothing");
	attrib_reader_free(&r);

	r = (struct attrib_reader){};
	CHECK_EQ(attrib_one(&r, CONTAINER_MARK_NAME, mark, true, &a), 0,
		 "a violation-shaped mark is read as nothing");
	CHECK_EQ(attrib_one(&r, "/bin/true", NULL, false, &a), 1, "the file after it");
	CHECK_EQ(a.cgroup_id, 0, "is in no container: the violation's data is not covered");
	attrib_reader_free(&r);
}

/*
 * The daemon's "logged once" key for an ima-ng entry: the same entry in the
 * same cgroup and mount namespace has the same key; another cgroup, mount
 * namespace or template hash, another key, so that entry is logged again.
 */
static void test_key(void)
{
	struct attribution a = { .cgroup_id = 4242, .mnt_ns = 4026531841ull }, b = a;
	uint8_t th[20] = { 1, 2, 3 }, k1[20], k2[20];

	CHECK_EQ(container_entry_key(th, &a, k1), 0, "key: computed");
	container_entry_key(th, &b, k2);
	CHECK(!memcmp(k1, k2, 20), "key: the same entry, cgroup and namespace: the same key", "");
	CHECK(memcmp(k1, th, 20), "key: not the template hash itself", "");
	b.cgroup_id++;
	container_entry_key(th, &b, k2);
	CHECK(memcmp(k1, k2, 20), "key: another cgroup, another key", "");
	b = a;
	b.mnt_ns++;
	container_entry_key(th, &b, k2);
	CHECK(memcmp(k1, k2, 20), "key: another mount namespace, another key", "");
	th[19] ^= 1;
	container_entry_key(th, &a, k2);
	CHECK(memcmp(k1, k2, 20), "key: another template hash, another key", "");
}

TEST_MAIN(CASE(layouts), CASE(key), CASE(matches), CASE(mark), CASE(ct), CASE(lookup),
	  CASE(violation))
