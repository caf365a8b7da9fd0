#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount --overlay DIR[:ro] and --writable-tmpfs with real overlayfs and
# runc: a directory overlay keeps what the container wrote across two
# mount cycles, a read-only one shows it without taking writes, a tmpfs
# upper forgets at umount, and conflicting options are refused with one
# line, leaving nothing behind.
MOUNT_TEST_NAME=h13b-overlay
. "$SIFOCI_TESTS/integration/mount/common.sh" findmnt

cp "$FX/busybox.sif" "$IMG/busybox.sif"
BB=$IMG/busybox.sif
B=$T/bundle
OV=$T/persist
mkdir -p "$OV"

# run_in BUNDLE CMD: runc run of sh -c CMD, terminal off
run_in() {
  N=$((N + 1))
  jq --arg c "$2" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $c]' \
    "$1/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "h13b-ov-$$-$N" </dev/null 2>&1)
}
is_gone() { [ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ] && [ -z "$(loops_of "$BB")" ]; }

# ---- cycle 1: write into the directory overlay
tap_run "mount --overlay DIR" "$OCI" mount --overlay "$OV" "$BB" "$B"
opts=$(awk -v p="$B/rootfs" '$5 == p {print $NF}' /proc/self/mountinfo)
tap_like "$opts" "upperdir=$OV/upper,workdir=$OV/work" "the overlay's upper and work dirs are DIR's"
tap_is "$(jq -c '.overlays' "$B/.sifoci-mount.json")" "[{\"path\":\"$OV\",\"mode\":\"rw\"}]" \
  "the mount record names the overlay"
tap_ok "$([ ! -e "$B/overlay/upper" ]; echo $?)" "no bundle-local upper dir"
out=$(run_in "$B" 'echo first >/srv/kept.txt && rm /etc/group && cat /srv/kept.txt')
tap_is "$out" "first" "the container writes"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "umount leaves no bundle, mount or loop device"
tap_is "$(cat "$OV/upper/srv/kept.txt" 2>&1)" "first" "the write is kept in DIR/upper after umount"

# ---- cycle 2: the same overlay again
tap_run "mount --overlay DIR again" "$OCI" mount --overlay "$OV" "$BB" "$B"
out=$(run_in "$B" 'cat /srv/kept.txt; [ -e /etc/group ] && echo group || echo nogroup; echo second >>/srv/kept.txt')
tap_is "$out" "first
nogroup" "the second mount sees the first one's file and its deletion"
tap_run "umount again" "$OCI" umount "$B"

# ---- cycle 3: read-only
tap_run "mount --overlay DIR:ro" "$OCI" mount --overlay "$OV:ro" "$BB" "$B"
out=$(run_in "$B" 'cat /srv/kept.txt; echo third >/srv/kept.txt; echo rc=$?')
tap_like "$out" "^first
second" "a read-only overlay shows both cycles' writes"
tap_run "umount the read-only one" "$OCI" umount "$B"
tap_is "$(cat "$OV/upper/srv/kept.txt")" "first
second" "a read-only overlay takes no writes"

# ---- --writable-tmpfs
tap_run "mount --writable-tmpfs" "$OCI" mount --writable-tmpfs "$BB" "$B"
tap_is "$(findmnt -n -o FSTYPE --mountpoint "$B/overlay")" "tmpfs" \
  "BUNDLE/overlay is a tmpfs"
out=$(run_in "$B" 'echo tmp >/srv/t.txt && cat /srv/t.txt')
tap_is "$out" "tmp" "the container writes to the tmpfs upper"
tap_run "umount the tmpfs bundle" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "umount takes the tmpfs away too"

# ---- conflicts: one line, nothing left
mkdir -p "$T/other"
refused() { # refused DESCRIPTION REGEX ARGS...
  local desc=$1 re=$2 err rc
  shift 2
  err=$("$OCI" mount "$@" "$BB" "$B" 2>&1); rc=$?
  tap_ok "$([ $rc -ne 0 ] && [ "$(printf '%s\n' "$err" | grep -vc 'oci mount --help')" = 1 ]; echo $?)" \
    "$desc: refused with one line"
  tap_like "$err" "$re" "$desc: says why"
  tap_ok "$(is_gone; echo $?)" "$desc: leaves nothing"
}
refused "two writable overlays" "only one writable layer" --overlay "$OV" --overlay "$T/other"
refused "--writable-tmpfs with a writable overlay" "only one writable" \
  --writable-tmpfs --overlay "$OV"
refused "a missing overlay" "--overlay '$T/nope'" --overlay "$T/nope"
touch "$T/file.img"
refused "a file overlay" "not a directory" --overlay "$T/file.img"
mkdir -p "$T/a,b"
refused "a path overlayfs cannot carry" "cannot carry" --overlay "$T/a,b"
refused "--overlay with --method extract" "need --method kernel" --method extract --overlay "$OV"
tap_done
