#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The SIF's own ext3 overlay partition (as `singularity overlay create`
# lays it out, built here with mkfs.ext3 -d and siftool): oci mount puts
# its upper/ read-only under the writable layer; umount leaves no mount
# and no loop device; the image file is never written.
MOUNT_TEST_NAME=h13b-sifpart
. "$SIFOCI_TESTS/integration/mount/common.sh" mkfs.ext3 e2fsck debugfs findmnt
. "$SIFOCI_TESTS/integration/overlay/common.sh"

case "$(uname -m)" in x86_64) ARCH=2 ;; aarch64) ARCH=4 ;; *) ARCH=2 ;; esac
SIF=$IMG/with-overlay.sif
cp "$FX/busybox.sif" "$SIF"
mkdir -p "$T/ovl/upper/srv" "$T/ovl/work"
echo "from the partition" >"$T/ovl/upper/srv/part.txt"
truncate -s 4M "$T/ovl.img"
mkfs.ext3 -q -F -d "$T/ovl" "$T/ovl.img" >/dev/null 2>&1
siftool add --datatype 4 --partfs 2 --parttype 4 --partarch $ARCH --groupid 1 "$SIF" "$T/ovl.img" >/dev/null
sum=$(sha256sum <"$SIF")
B=$T/bundle

is_gone() { [ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ] && [ -z "$(loops_of "$SIF")" ]; }

tap_run "mount a SIF with an ext3 overlay partition" "$OCI" mount "$SIF" "$B"
tap_like "$(findmnt -n -o FSTYPE,VFS-OPTIONS --mountpoint "$B/.sif-overlay")" \
  "^ext[34] +ro," "the partition is mounted read-only on .sif-overlay"
tap_like "$(awk -v p="$B/rootfs" '$5 == p {print $NF}' /proc/self/mountinfo)" \
  "lowerdir=$B/.sif-overlay/upper:$B/.image" "its upper/ lies between the writable layer and the image"
tap_is "$(jq -c '[.mounts[].target]' "$B/.sifoci-mount.json")" '[".image",".sif-overlay","rootfs"]' \
  "the record lists the partition's mount"
out=$(run_in "$B" 'cat /srv/part.txt; echo new >/srv/part.txt; cat /srv/part.txt')
tap_is "$out" "from the partition
new" "the container sees the partition's file and writes over it in its own layer"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "no bundle, mount or loop device left"
tap_is "$(sha256sum <"$SIF")" "$sum" "the image file is unchanged"

# ---- --writable: the partition is the upper layer, writes kept in the SIF
tap_run "mount --writable" "$OCI" mount --writable "$SIF" "$B"
tap_like "$(findmnt -n -o FSTYPE,VFS-OPTIONS --mountpoint "$B/.sif-overlay")" "^ext[34] +rw," \
  "the partition is mounted read-write"
tap_like "$(awk -v p="$B/rootfs" '$5 == p {print $NF}' /proc/self/mountinfo)" \
  "upperdir=$B/.sif-overlay/upper,workdir=$B/.sif-overlay/work" "its upper/ and work/ are the overlay's"
tap_ok "$([ ! -e "$B/overlay/upper" ]; echo $?)" "no bundle-local upper dir"
B2=$T/second
err=$("$OCI" mount --writable "$SIF" "$B2" 2>&1)
tap_like "$err" "overlay partition [0-9]+ is in use by another bundle" "a second --writable is refused"
tap_ok "$([ ! -e "$B2" ]; echo $?)" "and leaves no bundle"
err=$("$OCI" mount "$SIF" "$B2" 2>&1)
tap_like "$err" "overlay partition [0-9]+ is in use by another bundle with --writable" \
  "a read-only mount beside a --writable one is refused"
tap_ok "$([ ! -e "$B2" ]; echo $?)" "and leaves no bundle either"
out=$(run_in "$B" 'echo written >/srv/kept.txt; rm /srv/part.txt; cat /srv/kept.txt')
tap_is "$out" "written" "the container writes into the partition"
tap_run "umount the writable bundle" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "no bundle, mount or loop device left"
tap_ok "$([ "$(sha256sum <"$SIF")" != "$sum" ]; echo $?)" "the SIF file changed"
tap_run "mount it read-only again" "$OCI" mount "$SIF" "$B"
out=$(run_in "$B" 'cat /srv/kept.txt; [ -e /srv/part.txt ] && echo part || echo nopart')
tap_is "$out" "written
nopart" "the next mount sees the write and the deletion"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone; echo $?)" "nothing left"

# ---- refusals: one line, nothing left
refused() { # refused DESCRIPTION REGEX IMAGE ARGS...
  local desc=$1 re=$2
  REFUSED_IMG=$3
  shift 3
  overlay_refused "$desc" "$re" refused_gone "$REFUSED_IMG" "$B" "$@"
}
refused_gone() { [ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ] && [ -z "$(loops_of "$REFUSED_IMG")" ]; }
cp "$FX/busybox.sif" "$IMG/no-part.sif"
refused "--writable without a partition" "has no ext3 overlay partition" "$IMG/no-part.sif" --writable
refused "--writable with --writable-tmpfs" "only one writable layer" "$SIF" --writable --writable-tmpfs
mkdir -p "$T/dir"
refused "--writable with a writable --overlay" "only one writable layer" "$SIF" --writable --overlay "$T/dir"
mkdir -p "$T/ro"
mount --bind -o ro "$IMG" "$T/ro" && mount -o remount,bind,ro "$T/ro"
refused "--writable on a read-only file" "cannot be opened for writing" "$T/ro/with-overlay.sif" --writable
umount "$T/ro"
# a damaged file system: e2fsck -n finds it, nothing is mounted
cp "$T/ovl.img" "$T/damaged.img"
debugfs -w -R "clri /work" "$T/damaged.img" >/dev/null 2>&1 # a dangling directory entry
cp "$FX/busybox.sif" "$IMG/damaged.sif"
siftool add --datatype 4 --partfs 2 --parttype 4 --partarch $ARCH --groupid 1 "$IMG/damaged.sif" "$T/damaged.img" >/dev/null
refused "--writable on a damaged partition" "e2fsck -n finds overlay partition [0-9]+ damaged" \
  "$IMG/damaged.sif" --writable

# a partition that says ext3 but is not: one line, nothing left
cp "$FX/busybox.sif" "$IMG/bad-part.sif"
head -c 65536 /dev/zero >"$T/zero.img"
siftool add --datatype 4 --partfs 2 --parttype 4 --partarch $ARCH --groupid 1 "$IMG/bad-part.sif" "$T/zero.img" >/dev/null
err=$("$OCI" mount "$IMG/bad-part.sif" "$B" 2>&1)
tap_like "$err" "overlay partition [0-9]+ says ext3 but holds no ext3 superblock" "a bad partition is named"
tap_is "$(printf '%s\n' "$err" | wc -l)" "1" "in one line"
tap_ok "$([ ! -e "$B" ] && [ -z "$(loops_of "$IMG/bad-part.sif")" ]; echo $?)" "and nothing is left"
tap_done
