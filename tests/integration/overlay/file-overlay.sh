#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount --overlay FILE with image files built here (mkfs.ext3,
# mksquashfs), real loop devices, overlayfs and runc: a writable ext3 file
# keeps what the container wrote across two mount cycles, an ext3 ':ro'
# and a squashfs file are read-only layers, conflicting or bad files are
# refused with one line, and a mount killed at any point is taken apart
# by umount.  After each case: no bundle, mount or loop device left.
MOUNT_TEST_NAME=h13ovf-file
. "$SIFOCI_TESTS/integration/mount/common.sh" mkfs.ext3 e2fsck debugfs findmnt sha256sum
. "$SIFOCI_TESTS/integration/overlay/common.sh"

cp "$FX/busybox.sif" "$IMG/busybox.sif"
BB=$IMG/busybox.sif
B=$T/bundle
B2=$T/second
EXT=$T/state.img # the writable one: upper/ and work/ made by oci mount
truncate -s 64M "$EXT" && mkfs.ext3 -q -F "$EXT" >/dev/null 2>&1
mkdir -p "$T/sq/srv" "$T/sq/etc"
echo "from the squashfs" >"$T/sq/srv/sq.txt"
SQ=$T/layer.sqfs
mksquashfs "$T/sq" "$SQ" -quiet -noappend -all-root >/dev/null
sq_sum=$(sha256sum <"$SQ")

# gone BUNDLE FILE...: no bundle, mount under it or loop device of the image or FILEs
gone() {
  local b=$1 f
  shift
  [ ! -e "$b" ] && [ -z "$(mounts_under "$b")" ] && [ -z "$(loops_of "$BB")" ] || return 1
  for f; do [ -z "$(loops_of "$f")" ] || return 1; done
  [ -z "$(ls -a "$(dirname "$b")" | grep sifoci-new)" ]
}
rootfs_opts() { awk -v p="$1/rootfs" '$5 == p {print $NF}' /proc/self/mountinfo; }

gone_b() { gone "$B" "$EXT"; }

# ---- an ext3 file, writable: how it is mounted and recorded
tap_run "mount --overlay EXT3-FILE" "$OCI" mount --overlay "$EXT" "$BB" "$B"
tap_like "$(findmnt -n -o FSTYPE,VFS-OPTIONS --mountpoint "$B/.overlays/0")" "^ext[34] +rw," \
  "the file is mounted read-write on .overlays/0"
tap_like "$(rootfs_opts "$B")" "upperdir=$B/.overlays/0/upper,workdir=$B/.overlays/0/work" \
  "its upper/ and work/ (made by oci mount) are the overlay's"
tap_ok "$([ ! -e "$B/overlay/upper" ]; echo $?)" "no bundle-local upper dir"
ent=$(jq -c '.overlays[0] | [.path, .mode, .kind, .mount, (.loop.device | test("^/dev/loop[0-9]+$"))]' \
  "$B/.sifoci-mount.json")
tap_is "$ent" "[\"$EXT\",\"rw\",\"ext3\",\".overlays/0\",true]" "the record names the file, its mount and its loop device"
dev=$(jq -r '.overlays[0].loop.device' "$B/.sifoci-mount.json")
tap_is "$(loops_of "$EXT" | cut -d: -f1)" "$dev" "that loop device is the file's only one"
tap_like "$(losetup -n -O RO "$dev")" "^ *0$" "and it is read-write"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(gone_b; echo $?)" "umount leaves no bundle, mount or loop device"

# ---- what the container writes survives two mount cycles, and a third
two_cycles "--overlay EXT3-FILE" gone_b "$BB" "$B" --overlay "$EXT"
tap_run "e2fsck -n finds the file system clean after umount" e2fsck -n -f "$EXT"
tap_run "mount --overlay EXT3-FILE a third time" "$OCI" mount --overlay "$EXT:rw" "$BB" "$B"
out=$(run_in "$B" 'cat /srv/kept.txt')
tap_is "$out" "first
second" "the third mount (':rw' spelled out) sees both cycles' writes"
tap_run "umount the third" "$OCI" umount "$B"
tap_ok "$(gone_b; echo $?)" "nothing left"

# ---- ext3 ':ro', a squashfs file and a directory, stacked: the first given on top
ext_sum=$(sha256sum <"$EXT")
mkdir -p "$T/dir/srv"
echo "from the directory" >"$T/dir/srv/dir.txt"
echo "dir over squashfs" >"$T/dir/srv/sq.txt"
tap_run "mount --overlay EXT3:ro --overlay SQUASHFS --overlay DIR:ro" \
  "$OCI" mount --overlay "$EXT:ro" --overlay "$SQ" --overlay "$T/dir:ro" "$BB" "$B"
tap_like "$(findmnt -n -o FSTYPE,VFS-OPTIONS --mountpoint "$B/.overlays/0")" "^ext[34] +ro," \
  "the ext3 file is mounted read-only"
tap_like "$(findmnt -n -o FSTYPE,VFS-OPTIONS --mountpoint "$B/.overlays/1")" "^squashfs +ro," \
  "the squashfs file is mounted read-only"
tap_like "$(rootfs_opts "$B")" \
  "lowerdir=$B/.overlays/0/upper:$B/.overlays/1:$T/dir:$B/.image,upperdir=$B/overlay/upper" \
  "lower layers in the order given, above the image; the upper is the bundle's"
tap_is "$(jq -c '[.overlays[] | [.mode, .kind]]' "$B/.sifoci-mount.json")" \
  '[["ro","ext3"],["ro","squashfs"],["ro",null]]' "the record lists the three"
err=$(touch "$B/.overlays/0/upper/x" 2>&1)
tap_like "$err" "Read-only file system" "a write into the ext3 ':ro' layer fails with EROFS"
err=$(touch "$B/.overlays/1/x" 2>&1)
tap_like "$err" "Read-only file system" "so does one into the squashfs layer"
out=$(run_in "$B" 'cat /srv/kept.txt /srv/sq.txt /srv/dir.txt; echo third >/srv/kept.txt; echo over >/srv/sq.txt; cat /srv/kept.txt /srv/sq.txt')
tap_is "$out" "first
second
from the squashfs
from the directory
third
over" "the container sees every layer's files, the ext3 one above the squashfs; its writes go to the bundle's upper"
tap_run "umount the stacked bundle" "$OCI" umount "$B"
tap_ok "$(gone "$B" "$EXT" "$SQ"; echo $?)" "nothing left"
tap_is "$(sha256sum <"$EXT")" "$ext_sum" "the ext3 ':ro' file is unchanged"
tap_is "$(sha256sum <"$SQ")" "$sq_sum" "the squashfs file is unchanged"

# ---- refusals: one line, nothing left
# refusals: one line, nothing left (with HELD set: another bundle holds
# the image and EXT, so only B2 and no further loop device of them)
held() { echo "$(loops_of "$EXT" | wc -l) $(loops_of "$BB" | wc -l)"; }
nothing_left() {
  if [ -n "${HELD:-}" ]; then
    [ ! -e "$B2" ] && [ -z "$(mounts_under "$B2")" ] && [ "$(held)" = "$HELD" ]
  else
    gone "$B2" "$EXT" "$SQ"
  fi
}
refused() { # refused DESCRIPTION REGEX ARGS...
  local desc=$1 re=$2
  shift 2
  overlay_refused "$desc" "$re" nothing_left "$BB" "$B2" "$@"
}
truncate -s 64M "$T/other.img" && mkfs.ext3 -q -F "$T/other.img" >/dev/null 2>&1
refused "squashfs ':rw'" "a squashfs file is read-only" --overlay "$SQ:rw"
refused "two writable ext3 files" "only one writable layer" --overlay "$EXT" --overlay "$T/other.img"
refused "a writable ext3 file and a writable directory" "only one writable layer" \
  --overlay "$T/dir" --overlay "$EXT"
refused "an ext3 file and --writable-tmpfs" "only one writable layer" --writable-tmpfs --overlay "$EXT"
refused "one file twice" "the same file as '$EXT', given twice" --overlay "$EXT" --overlay "$EXT:ro"
head -c 1M /dev/urandom >"$T/random.bin"
refused "a file that is no image" "'$T/random.bin': neither a directory, an ext3 image nor a squashfs" \
  --overlay "$T/random.bin"
truncate -s 16M "$T/four.img" && mkfs.ext4 -q -F "$T/four.img" >/dev/null 2>&1
refused "an ext4 file" "an ext4 file system" --overlay "$T/four.img"
refused "a SIF file" "a SIF image, not an overlay" --overlay "$BB:ro"
refused "an ext3 ':ro' file with no upper/" "has no upper/ directory" --overlay "$T/other.img:ro"
tap_ok "$([ -z "$(loops_of "$T/other.img")" ]; echo $?)" "and no loop device of it is left"
cp "$EXT" "$T/damaged.img"
debugfs -w -R "clri /upper" "$T/damaged.img" >/dev/null 2>&1 # a dangling directory entry
refused "a damaged ext3 file" "e2fsck -n finds the ext3 file system damaged" --overlay "$T/damaged.img"
tap_ok "$([ -z "$(loops_of "$T/damaged.img")" ]; echo $?)" "and no loop device of it is left"
mkdir -p "$T/rofs"
mount --bind "$T" "$T/rofs" && mount -o remount,bind,ro "$T/rofs"
refused "a writable ext3 file on a read-only file system" "cannot be opened for writing" \
  --overlay "$T/rofs/state.img"
umount "$T/rofs"
refused "--method extract" "--method extract unpacks the image into a plain directory" \
  --method extract --overlay "$EXT"
if command -v squashfuse >/dev/null && command -v fuse-overlayfs >/dev/null && [ -c /dev/fuse ]; then
  refused "--method fuse with an ext3 file" "an ext3 image file needs --method kernel .root.; without root it would take fuse2fs" \
    --method fuse --overlay "$EXT"
  refused "--method fuse with a squashfs file" "a squashfs file as a layer needs --method kernel" \
    --method fuse --overlay "$SQ"
  refused "--method fuse with --writable-tmpfs" "--writable-tmpfs needs --method kernel .root.; --method fuse" \
    --method fuse --writable-tmpfs
else
  tap_diag "no squashfuse/fuse-overlayfs or /dev/fuse: the --method fuse refusals are not checked"
fi

# ---- a file another bundle holds
tap_run "mount the ext3 file in one bundle" "$OCI" mount --overlay "$EXT" "$BB" "$B"
HELD=$(held)
refused "the same file writable in a second bundle" "'$EXT': in use by another bundle \(" --overlay "$EXT"
refused "the same file read-only beside a writer" "in use by another bundle that writes to it" \
  --overlay "$EXT:ro"
HELD=
tap_run "umount the first" "$OCI" umount "$B"
tap_run "two bundles share a squashfs file read-only" "$OCI" mount --overlay "$SQ" "$BB" "$B"
tap_run "(the second)" "$OCI" mount --overlay "$SQ" "$BB" "$B2"
tap_is "$(loops_of "$SQ" | wc -l)" "1" "through one loop device"
tap_run "umount both" sh -c "'$OCI' umount '$B' && '$OCI' umount '$B2'"
tap_ok "$(gone "$B" "$EXT" "$SQ" && gone "$B2"; echo $?)" "nothing left"

# ---- oci mount SIGKILLed: while e2fsck checks the file (loop bound and
# recorded, nothing mounted), and at moments spread over the whole mount
mkdir -p "$T/slow"
cat >"$T/slow/e2fsck" <<SH
#!/bin/sh
echo \$\$ >"$T/fsck.pid"
exec sleep 60
SH
chmod 0755 "$T/slow/e2fsck"
PATH=$T/slow:$PATH "$OCI" mount --overlay "$EXT" --overlay "$SQ" "$BB" "$B" >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do [ -s "$T/fsck.pid" ] && break; sleep 0.1; done
tap_ok "$([ -s "$T/fsck.pid" ] && [ -n "$(loops_of "$EXT")" ]; echo $?)" "mount reached e2fsck with the loop device bound"
kill -9 "$pid"
wait "$pid" 2>/dev/null
kill -9 "$(cat "$T/fsck.pid")" 2>/dev/null
tap_is "$(jq -r '.overlays[0].loop.device | test("^/dev/loop")' "$B/.sifoci-mount.json" 2>&1)" "true" \
  "the killed mount's record has the file's loop device"
tap_run "umount after the kill" "$OCI" umount "$B"
tap_ok "$(gone "$B" "$EXT" "$SQ"; echo $?)" "nothing left after the kill in e2fsck"
probs=
for d in 0.01 0.03 0.06 0.1 0.15 0.2 0.3 0.5; do
  "$OCI" mount --overlay "$EXT" --overlay "$SQ" --overlay "$T/dir:ro" "$BB" "$B" >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -e "$B" ]; then "$OCI" umount "$B" >/dev/null 2>&1 || probs="$probs; umount after $d s failed"; fi
  "$OCI" umount "$B" >/dev/null 2>&1 # sweeps what a mount killed before its rename left
  gone "$B" "$EXT" "$SQ" || probs="$probs; left after $d s: $(mounts_under "$B") $(loops_of "$EXT") $(ls -a "$T" | grep sifoci-new)"
done
tap_is "${probs#; }" "" "mounts killed at 8 moments: umount leaves nothing each time"
tap_run "the file system is clean after the kills" e2fsck -n -f "$EXT"
tap_done
