#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount --overlay DIR[:ro] and --writable-tmpfs with real overlayfs and
# runc: a directory overlay keeps what the container wrote across two
# mount cycles, a read-only one shows it without taking writes, a tmpfs
# upper forgets at umount, and conflicting options are refused with one
# line, leaving nothing behind.
MOUNT_TEST_NAME=h13b-overlay
. "$SIFOCI_TESTS/integration/mount/common.sh" findmnt
. "$SIFOCI_TESTS/integration/overlay/common.sh"

cp "$FX/busybox.sif" "$IMG/busybox.sif"
BB=$IMG/busybox.sif
B=$T/bundle
OV=$T/persist
mkdir -p "$OV"

is_gone() { [ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ] && [ -z "$(loops_of "$BB")" ]; }

# ---- a directory overlay: how it is mounted and recorded
tap_run "mount --overlay DIR" "$OCI" mount --overlay "$OV" "$BB" "$B"
opts=$(awk -v p="$B/rootfs" '$5 == p {print $NF}' /proc/self/mountinfo)
tap_like "$opts" "upperdir=$OV/upper,workdir=$OV/work" "the overlay's upper and work dirs are DIR's"
tap_is "$(jq -c '.overlays' "$B/.sifoci-mount.json")" "[{\"path\":\"$OV\",\"mode\":\"rw\"}]" \
  "the mount record names the overlay"
tap_ok "$([ ! -e "$B/overlay/upper" ]; echo $?)" "no bundle-local upper dir"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "umount leaves no bundle, mount or loop device"

# ---- what the container writes survives two mount cycles
two_cycles "--overlay DIR" is_gone "$BB" "$B" --overlay "$OV"
tap_is "$(cat "$OV/upper/srv/kept.txt" 2>&1)" "first
second" "the writes are kept in DIR/upper after umount"

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

# ---- --method fuse: fuse-overlayfs stacks the same directories
if command -v squashfuse >/dev/null && command -v fuse-overlayfs >/dev/null && [ -c /dev/fuse ]; then
  FOV=$T/fuse-persist
  mkdir -p "$FOV" "$T/fuse-ro/srv"
  echo "read-only layer" >"$T/fuse-ro/srv/ro.txt"
  tap_run "mount --method fuse --overlay DIR --overlay DIR:ro" \
    "$OCI" mount --method fuse --overlay "$FOV" --overlay "$T/fuse-ro:ro" "$BB" "$B"
  tap_is "$(findmnt -n -o FSTYPE --mountpoint "$B/rootfs")" "fuse.fuse-overlayfs" "rootfs is fuse-overlayfs"
  out=$(run_in "$B" 'cat /srv/ro.txt')
  tap_is "$out" "read-only layer" "the read-only directory is a layer"
  tap_run "umount the fuse bundle" "$OCI" umount "$B"
  tap_ok "$(is_gone; echo $?)" "nothing left"
  two_cycles "--method fuse --overlay DIR" is_gone "$BB" "$B" --method fuse --overlay "$FOV"
  tap_is "$(cat "$FOV/upper/srv/kept.txt" 2>&1)" "first
second" "fuse-overlayfs kept the writes in DIR/upper"
  tap_run "the kernel method takes that DIR read-only" "$OCI" mount --overlay "$FOV:ro" "$BB" "$B"
  out=$(run_in "$B" 'cat /srv/kept.txt; [ -e /etc/group ] && echo group || echo nogroup')
  tap_is "$out" "first
second
nogroup" "and sees its files and its whiteout"
  tap_run "umount" "$OCI" umount "$B"
else
  tap_diag "no squashfuse/fuse-overlayfs or /dev/fuse: --method fuse with --overlay DIR not checked"
fi

# ---- conflicts: one line, nothing left
mkdir -p "$T/other"
refused() { # refused DESCRIPTION REGEX ARGS...
  local desc=$1 re=$2
  shift 2
  overlay_refused "$desc" "$re" is_gone "$BB" "$B" "$@"
}
refused "two writable overlays" "only one writable layer" --overlay "$OV" --overlay "$T/other"
refused "--writable-tmpfs with a writable overlay" "only one writable" \
  --writable-tmpfs --overlay "$OV"
refused "a missing overlay" "--overlay '$T/nope'" --overlay "$T/nope"
touch "$T/file.img"
refused "a file that is no overlay image" "neither a directory, an ext3 image nor a squashfs file" \
  --overlay "$T/file.img"
mkdir -p "$T/a,b"
refused "a path overlayfs cannot carry" "cannot carry" --overlay "$T/a,b"
refused "--overlay with --method extract" "need --method kernel" --method extract --overlay "$OV"
tap_done
