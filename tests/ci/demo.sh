#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo command: installs what is missing, builds sifoci, makes a
# small SIF from Debian's busybox-static, turns it into an OCI bundle, runs a
# container from it, and removes everything again.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (mounts and containers need it)" >&2; exit 1; }
bash tests/ci/deps.sh demo
BUILD=${BUILD:-build-demo}
[ -d "$BUILD" ] || meson setup "$BUILD" --buildtype=release >/dev/null
meson compile -C "$BUILD" >/dev/null
OCI=$PWD/$BUILD/src/oci
export OCI_MONITOR=$PWD/$BUILD/monitor/oci-monitor

W=$(mktemp -d /tmp/sifoci-demo.XXXXXX)
BUNDLE=$W/bundle
ID=demo-$$
cleanup() {
  "$OCI" delete -f "$ID" >/dev/null 2>&1 || true
  [ -e "$BUNDLE/config.json" ] && "$OCI" umount "$BUNDLE" || true
  rm -rf "$W"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "== making demo.sif from busybox-static (squashfs + siftool)"
R=$W/rootfs
mkdir -p "$R"/{bin,etc,proc,sys,dev,tmp,srv}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
echo "Hello from a file inside the SIF image" >"$R/srv/hello.txt"
mksquashfs "$R" "$W/rootfs.sqfs" -noappend -all-root -quiet -no-progress >/dev/null
cat >"$W/oci-config.json" <<'JSON'
{"Cmd": ["/bin/sh", "-c", "echo \"Hello from container $(hostname): $(cat hello.txt)\"; echo \"I am $(id -un) (uid $(id -u)) in $(pwd)\"; ls /"],
 "Env": ["GREETING=hi"], "WorkingDir": "/srv", "User": "nobody"}
JSON
siftool new "$W/demo.sif"
siftool add --datatype 6 --filename oci-config.json "$W/demo.sif" "$W/oci-config.json"
case "$(uname -m)" in aarch64) arch=4 ;; i?86) arch=1 ;; ppc64le) arch=6 ;; s390x) arch=11 ;; riscv64) arch=12 ;; *) arch=2 ;; esac
siftool add --datatype 4 --parttype 2 --partfs 1 --partarch $arch --groupid 1 "$W/demo.sif" "$W/rootfs.sqfs"

step oci inspect demo.sif
"$OCI" inspect "$W/demo.sif"

step oci mount demo.sif "$BUNDLE"
"$OCI" mount "$W/demo.sif" "$BUNDLE"
step ls -la "$BUNDLE"
ls -la "$BUNDLE"
step "findmnt below the bundle"
awk -v b="$BUNDLE" 'index($5, b) == 1 || $5 ~ /sifoci/ {print $5, $9, $10}' /proc/self/mountinfo
step "jq '.process | {args, env, cwd, user}' config.json"
jq '.process | {args, env, cwd, user}' "$BUNDLE/config.json"

# The demo runs without a terminal, so the container gets plain pipes.
jq '.process.terminal = false' "$BUNDLE/config.json" >"$W/c.json" && cat "$W/c.json" >"$BUNDLE/config.json"
step oci run -b "$BUNDLE" "$ID"
"$OCI" run -b "$BUNDLE" "$ID"
echo "(exit status $?)"

step oci umount "$BUNDLE"
"$OCI" umount "$BUNDLE"
echo "bundle removed: $([ -e "$BUNDLE" ] && echo no || echo yes); loop devices for demo.sif: $(losetup -j "$W/demo.sif" | wc -l)"
