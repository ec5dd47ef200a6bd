#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The deployment files in tools/deploy: the systemd unit passes
# `systemd-analyze verify` (and a broken copy does not, so the check can
# fail); the DaemonSet manifest is valid YAML with what a DaemonSet needs
# and what bima needs (privileged, hostPID, the host's /sys/fs/bpf,
# /sys/kernel/security, /dev/tpmrm0 and state directory); every package the
# container build file installs is in Debian's archive.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
deploy=$top/tools/deploy
work=$(mktemp -d /tmp/bima-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (make deps)"

# The unit as installed, with ExecStart at the binary this build made.
sed "s|/usr/local/sbin/bima|$top/.output/bima|" "$deploy/bima.service" >"$work/bima.service"
systemd-analyze verify "$work/bima.service" >"$work/verify.out" 2>&1
check_eq "systemd-analyze verify accepts bima.service (0)" $? 0
check_eq "without a warning" "$(cat "$work/verify.out")" ""
sed 's/^Restart=always/Restart=sometimes/' "$work/bima.service" >"$work/broken.service"
systemd-analyze verify "$work/broken.service" >"$work/broken.out" 2>&1
check_grep "a broken copy is refused (the check can fail)" 'Failed to parse service restart specifier' "$work/broken.out"
check_grep "the unit starts before a Keylime agent" '^Before=.*keylime_agent.service' "$deploy/bima.service"

/usr/bin/python3 - "$deploy/bima-daemonset.yaml" >"$work/yaml.out" 2>&1 <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["apiVersion"] == "apps/v1" and d["kind"] == "DaemonSet", "not a DaemonSet"
assert d["metadata"]["name"], "no name"
spec = d["spec"]
labels = spec["template"]["metadata"]["labels"]
assert spec["selector"]["matchLabels"].items() <= labels.items(), "selector does not match the pod's labels"
pod = spec["template"]["spec"]
assert pod["hostPID"] is True, "not hostPID"
c = pod["containers"][0]
assert c["name"] and c["image"], "container without name or image"
assert c["securityContext"]["privileged"] is True, "not privileged"
vols = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
for path in ("/sys/fs/bpf", "/sys/kernel/security", "/dev/tpmrm0", "/var/lib/bima"):
    assert mounts.get(path) == path, "%s is not the host's" % path
print("ok")
PY
check_eq "the DaemonSet is valid YAML with what a DaemonSet and bima need" "$(cat "$work/yaml.out")" ok

missing= packages=0
for p in $(sed -n 's/^RUN apt-get update && apt-get install -y --no-install-recommends //p; /^\t/p' \
	"$deploy/Containerfile" | sed 's/&&.*//; s/\\$//'); do
	packages=$((packages + 1))
	apt-cache show "$p" >/dev/null 2>&1 || missing="$missing $p"
done
check "the Containerfile's package lists are read ($packages packages)" test "$packages" -ge 20
check_eq "every package the Containerfile installs is in Debian's archive" "$missing" ""
done_testing
