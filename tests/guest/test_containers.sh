#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: attribution. cgroup v2 hierarchies laid out as docker (systemd and
# cgroupfs drivers), containerd and CRI-O under kubelet, podman and
# systemd-nspawn name them; in each, a process in a mount namespace of its
# own (unshare -m) runs an executable no other run has. The log names the
# right runtime, container id, cgroup path and mount namespace for each,
# and "host" for one run outside them:
#   1. bima-ct (--pcr 11): a cgroup made before the daemon started (looked
#      up by its id), cgroups made while it runs (the kernel's records), and
#      one made, used and removed while the daemon was stopped (SIGSTOP):
#      named from the kernel's record although it is gone when the daemon
#      reads it. `bima verify` replays the container fields to the TPM;
#      one container id changed, its template hash made anew, does not.
#      `bima verify --by-container --json --allowlist` counts per container.
#   2. ima-ng (PCR 10, the default): bima_container marks before the file
#      entries; `bima log --container` gives the same answers; verify passes.
#   3. A policy scoped by the runtimes' layouts (cgroup=podman:ID,
#      cgroup=kubepods) measures in and only in its scope.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/containers-test
cg=/sys/fs/cgroup
rm -rf "$work"
mkdir -p "$work/bin"
mountpoint -q $cg || mount -t cgroup2 cgroup2 $cg

id() { printf '%s' "$1" | sha256sum | cut -c1-64; } # a 64-hex container id
ID_DOCKER=$(id docker) ID_DOCKERFS=$(id dockerfs) ID_CTRD=$(id containerd)
ID_CRIO=$(id crio) ID_PODMAN=$(id podman) ID_GONE=$(id gone)
POD=kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice
declare -A path runtime cid
layout() { # NAME CGROUP-PATH RUNTIME ID
	path[$1]=$2 runtime[$1]=$3 cid[$1]=$4
}
layout docker "/system.slice/docker-$ID_DOCKER.scope" docker "$ID_DOCKER"
layout dockerfs "/docker/$ID_DOCKERFS" docker "$ID_DOCKERFS"
layout containerd "/kubepods.slice/kubepods-burstable.slice/$POD/cri-containerd-$ID_CTRD.scope" \
	containerd "$ID_CTRD"
layout crio "/kubepods.slice/kubepods-besteffort.slice/crio-$ID_CRIO.scope" cri-o "$ID_CRIO"
layout podman "/machine.slice/libpod-$ID_PODMAN.scope" podman "$ID_PODMAN"
layout nspawn '/machine.slice/machine-web\x2d1.scope' nspawn web-1
layout gone "/system.slice/docker-$ID_GONE.scope" docker "$ID_GONE"

# run_in NAME RUN: run $work/bin/NAME-RUN in NAME's cgroup, in a new mount
# namespace, and note that namespace in $work/ns-NAME-RUN.
run_in() {
	local name=$1 run=$2 bin=$work/bin/$1-$2
	unique_copy /bin/true "$bin"
	chmod +x "$bin"
	mkdir -p "$cg${path[$name]}"
	unshare -m sh -c 'echo $$ >"$1/cgroup.procs" && readlink /proc/self/ns/mnt >"$2" && exec "$3"' \
		sh "$cg${path[$name]}" "$work/ns-$name-$run" "$bin"
	check_eq "$name: $bin runs in ${path[$name]}, in its own mount namespace" $? 0
}

# expect LOG_JSON NAME RUN: the log's entry for NAME-RUN names NAME's container.
expect() {
	local json=$1 name=$2 run=$3 got want
	got=$(python3 - "$json" "$work/bin/$name-$run" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("path") == sys.argv[2]:
        print(e["runtime"] or "-", e["container"] or "-", e["cgroup"] or "-",
              e["mnt_ns"], e["group"])
EOF
	)
	if [ "$name" = host ]; then
		want="- - $(cat /proc/self/cgroup | sed 's/^0:://') $(stat -L -c %i /proc/self/ns/mnt) host"
	else
		want="${runtime[$name]} ${cid[$name]} ${path[$name]} $(sed 's/.*\[\(.*\)\]/\1/' "$work/ns-$name-$run") ${runtime[$name]}:${cid[$name]}"
	fi
	check_eq "$name: the entry of $name-$run names runtime, container, cgroup, mount namespace" "$got" "$want"
}

host_run() {
	unique_copy /bin/true "$work/bin/host-$1"
	chmod +x "$work/bin/host-$1"
	"$work/bin/host-$1"
}

# 1. bima-ct on PCR 11.
ct=$work/ct
mkdir -p "$cg${path[docker]}"                       # made before the daemon
start_bima "$work/ct.out" --pcr 11 --log-dir "$ct" --tcti "$tcti" || exit 1
check_grep "the daemon says its file entries are bima-ct" 'file entries are bima-ct' "$work/ct.out"
for name in docker dockerfs containerd crio podman nspawn; do run_in "$name" 1; done
host_run 1
# A cgroup made, used and removed while the daemon does not read the ring buffer.
signal_bima STOP
run_in gone 1
rmdir "$cg${path[gone]}"
check "the cgroup ${path[gone]} is gone before the daemon reads its records" test ! -e "$cg${path[gone]}"
kill -CONT "$bima_pid"
sleep 2
stop_bima

"$bima" log --log-dir "$ct" --json >"$work/ct.json"
check_eq "bima log --json exits 0" $? 0
for name in docker dockerfs containerd crio podman nspawn gone; do expect "$work/ct.json" "$name" 1; done
expect "$work/ct.json" host 1
"$bima" log --log-dir "$ct" >"$work/ct.txt"
check_grep "the ASCII line of a bima-ct entry ends with the container fields" \
	"^11 [0-9a-f]{40} bima-ct sha256:$(sha256 "$work/bin/podman-1") $(ere "$work/bin/podman-1") [0-9]+ [0-9]+ podman $ID_PODMAN $(ere "${path[podman]}")\$" \
	"$work/ct.txt"
"$bima" log --log-dir "$ct" --container "${ID_CRIO:0:12}" >"$work/crio.txt"
check_eq "bima log --container <12-digit prefix> lists that container's entries, crio-1 among them" \
	"$(grep -vc " cri-o $ID_CRIO " "$work/crio.txt") $(grep -c -- "$work/bin/crio-1 " "$work/crio.txt")" "0 1"
"$bima" log --log-dir "$ct" --container "docker:" >"$work/none.txt"
check_eq "bima log --container docker: (no id) lists nothing" "$(grep -c . "$work/none.txt")" 0
"$bima" log --log-dir "$ct" --container host --json >"$work/host.json"
check "bima log --container host has the host run and no container's" \
	python3 -c 'import json,sys; es=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not (any(e["path"].endswith("/host-1") for e in es) and all(e["runtime"]=="" for e in es)))' "$work/host.json"

"$bima" verify --log-dir "$ct" --tcti "$tcti" >"$work/verify-ct.out" 2>&1
check_eq "bima verify: the bima-ct log, container fields included, replays to PCR 11" $? 0
check_grep "it says so" 'PCR 11: the log replays to the TPM' "$work/verify-ct.out"

# One entry's container id changed, and its template hash made anew to match.
cp -a "$ct" "$work/forged"
python3 - "$work/forged" "$ID_PODMAN" <<'EOF'
import glob, hashlib, struct, sys
want = sys.argv[2].encode()
for seg in sorted(glob.glob(sys.argv[1] + "/epoch-*/segment-*.bin")):
    b = bytearray(open(seg, "rb").read())
    off = 0
    while off < len(b):
        nlen = struct.unpack_from("<I", b, off + 24)[0]
        dat = off + 28 + nlen
        dlen = struct.unpack_from("<I", b, dat)[0]
        data = b[dat + 4:dat + 4 + dlen]
        i = data.find(want)
        if b[off + 28:off + 28 + nlen] == b"bima-ct" and i >= 0:
            data[i] ^= 0x01                      # another container
            b[dat + 4:dat + 4 + dlen] = data
            b[off + 4:off + 24] = hashlib.sha1(bytes(data)).digest()
            open(seg, "wb").write(b)
            print("forged", seg, off)
            sys.exit(0)
        off = dat + 4 + dlen
sys.exit(1)
EOF
check_eq "a podman entry's container id is changed, its template hash made anew" $? 0
"$bima" verify --log-dir "$work/forged" --tcti "$tcti" >"$work/verify-forged.out" 2>&1
check_eq "bima verify of the forged log exits 1: the TPM covers the container fields" $? 1
check_grep "it fails on the PCR" 'FAIL: PCR 11: no prefix of the log replays' "$work/verify-forged.out"

sha256sum "$work/bin/docker-1" "$work/bin/crio-1" >"$work/allow.txt"
"$bima" verify --log-dir "$ct" --tcti "$tcti" --by-container --allowlist "$work/allow.txt" --json \
	>"$work/by.json" 2>"$work/by.err"
check_eq "bima verify --by-container --json exits 0" $? 0
check "its JSON: verified; docker-1 allowed, podman-1 not; a host group, nothing unattributed" \
	python3 - "$work/by.json" "$ID_DOCKER" "$ID_PODMAN" "$work/bin" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
c = {g["group"]: g for g in s["containers"]}
d, p = c["docker:" + sys.argv[2]], c["podman:" + sys.argv[3]]
na = lambda g: [x["path"] for x in g["not_allowed"]]
ok = (s["verdict"] == "verified" and d["entries"] >= 1 and d["unique_files"] == d["entries"]
      and sys.argv[4] + "/docker-1" not in na(d) and sys.argv[4] + "/podman-1" in na(p)
      and "host" in c and "unattributed" not in c)
if not ok:
    print(json.dumps(s, indent=1))
sys.exit(not ok)
EOF
check_grep "the report goes to standard error" 'PCR 11: the log replays' "$work/by.err"
"$bima" verify --log-dir "$ct" --tcti "$tcti" --by-container >"$work/by.txt" 2>&1
check_grep "the text summary names the CRI-O container" "^  cri-o:$ID_CRIO: [0-9]+ entries, [0-9]+ unique files\$" "$work/by.txt"

# 2. ima-ng with marks, on PCR 10. A load of the programs of its own: a log
# that went on with the load the bima-ct log began would lack that load's
# first sequence numbers, which bima verify fails as measurements missing.
# Without --pcr: the PCR is the pinned programs'.
"$bima" stop --unload --log-dir "$ct" --tcti "$tcti" --template bima-ct >"$work/unload.out" 2>&1
check_eq "bima stop --unload of the bima-ct log, with no --pcr" $? 0
check_grep "takes PCR 11 from the running daemon's settings" 'unloading: the log in .*, PCR 11$' \
	"$work/unload.out"
check "and removes them" test ! -e /sys/fs/bpf/bima
ng=$work/ng
start_bima "$work/ng.out" --log-dir "$ng" --tcti "$tcti" || exit 1
check_grep "the daemon says its file entries are ima-ng, with marks" \
	'file entries are ima-ng; .* bima_container entries' "$work/ng.out"
for name in docker containerd podman nspawn; do run_in "$name" 2; done
host_run 2
readlink /proc/self/ns/mnt >/dev/null
sleep 1
stop_bima
"$bima" log --log-dir "$ng" >"$work/ng.txt"
check_grep "the file entries are ima-ng" "^10 [0-9a-f]{40} ima-ng sha256:$(sha256 "$work/bin/podman-2") $(ere "$work/bin/podman-2")\$" "$work/ng.txt"
"$bima" log --log-dir "$ng" --json >"$work/ng.json"
check "the last bima_container mark before the podman entry names podman's container" \
	python3 - "$work/ng.json" "$work/bin/podman-2" "$ID_PODMAN" <<'EOF'
import json, sys
mark = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["path"] == "bima_container":
        mark = bytes.fromhex(e["buf"]).decode()
    elif e["path"] == sys.argv[2]:
        print(mark)
        sys.exit(not (mark and " runtime=podman container=%s path=/" % sys.argv[3] in mark))
sys.exit(1)
EOF
check "and no entry is bima-ct" test "$(grep -c ' bima-ct ' "$work/ng.txt")" -eq 0
for name in docker containerd podman nspawn; do expect "$work/ng.json" "$name" 2; done
expect "$work/ng.json" host 2
"$bima" verify --log-dir "$ng" --tcti "$tcti" >"$work/verify-ng.out" 2>&1
status=$?
check_eq "bima verify: the ima-ng log with its marks replays to PCR 10" $status 0
[ $status -eq 0 ] || sed 's/^/    verify| /' "$work/verify-ng.out"

# A daemon that starts again on an ima-ng log knows what it logged for whom:
# readlink (re-hashed at each exec here: the guest's root is 9p, which the
# cache leaves alone) is logged for the host once, not once again.
host_readlinks() {
	"$bima" log --log-dir "$ng" --container host --json |
		python3 -c 'import json,sys; print(sum(json.loads(l)["path"] == "/usr/bin/readlink" for l in sys.stdin))'
}
before=$(host_readlinks)
start_bima "$work/ng2.out" --log-dir "$ng" --tcti "$tcti" || exit 1
readlink /proc/self/ns/mnt >/dev/null
sleep 1
stop_bima
check_eq "after a restart, the host's readlink is not logged again (was $before)" "$(host_readlinks)" "$before"

# 3. cgroup= of the runtimes' layouts: skip one container by its id, measure
#    the kubelet's pods (the kubepods.slice layout exists since step 1).
printf '%s\n' "dont_measure cgroup=podman:${ID_PODMAN:0:12}" "measure func=BPRM_CHECK cgroup=kubepods" \
	"measure func=BPRM_CHECK cgroup=/machine.slice" >"$work/scope.policy"
"$bima" policy check "$work/scope.policy" >"$work/scope.out" 2>&1
check_eq "bima policy check of cgroup=podman:PREFIX and cgroup=kubepods exits 0" $? 0
check_grep "podman:PREFIX is the container's cgroup" "cgroup=$(ere "${path[podman]}") " "$work/scope.out"
check_grep "kubepods is /kubepods.slice" 'cgroup=/kubepods\.slice ' "$work/scope.out"
printf '%s\n' "measure cgroup=podman:ffffffffffff" >"$work/none.policy"
"$bima" policy check "$work/none.policy" >"$work/none.out" 2>&1
check_eq "a container that does not run is refused (exit 1)" $? 1
check_grep "with its line and why" 'none\.policy:1:[0-9]+: cgroup=podman:ffffffffffff: no running container' "$work/none.out"
start_bima "$work/scope-run.out" --log-dir "$ng" --tcti "$tcti" --policy "$work/scope.policy" || exit 1
for name in podman nspawn containerd; do run_in "$name" 3; done
host_run 3
sleep 1
stop_bima
"$bima" log --log-dir "$ng" >"$work/scope.txt"
for x in podman-3 host-3; do
	check "$x is not measured (outside the scope)" test "$(grep -c -- "$work/bin/$x\$" "$work/scope.txt")" -eq 0
done
for x in nspawn-3 containerd-3; do
	check_grep "$x is measured (inside /machine.slice, kubepods)" "ima-ng sha256:$(sha256 "$work/bin/$x") $(ere "$work/bin/$x")\$" "$work/scope.txt"
done

for d in "${path[@]}"; do rmdir "$cg$d" 2>/dev/null; done
done_testing
