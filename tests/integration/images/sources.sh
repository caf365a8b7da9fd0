#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Image kinds besides SIF: a plain squashfs file, told apart by its magic,
# mounted, run with real runc and unmounted leaving nothing; files that are
# neither SIF nor squashfs refused in one line naming their first bytes.
MOUNT_TEST_NAME=images-sources
. "$SIFOCI_TESTS/integration/mount/common.sh" unsquashfs
trap 'release_sources; cleanup' EXIT
release_sources() { # loops on our non-.sif images (release_mounts takes *.sif)
  local m f
  for m in $(mounts_under "$T" | sort -r); do umount -l "$m" 2>/dev/null; done
  for f in "$IMG"/*.sqfs; do
    for m in $(losetup -j "$f" 2>/dev/null | cut -d: -f1); do losetup -d "$m" 2>/dev/null; done
  done
}
run_in() { # run_in BUNDLE ARGS-JSON
  N=$((N + 1))
  jq --argjson a "$2" '.process.terminal = false | .process.args = $a' "$1/config.json" >"$T/cfg.tmp" &&
    cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "h13c-sources-$$-$N" </dev/null 2>&1)
}
is_gone() { [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && [ -z "$(loops_of "$2")" ]; }

# ---- a plain squashfs file: busybox.sif's system partition on its own
SQ=$IMG/rootfs.sqfs
siftool dump 2 "$FX/busybox.sif" >"$SQ"
tap_is "$(head -c4 "$SQ")" "hsqs" "the squashfs fixture starts with its magic"
B=$T/sq
tap_run "mount rootfs.sqfs" "$OCI" mount "$SQ" "$B"
tap_like "$(awk -v p="$B/.image" '$5 == p' /proc/self/mountinfo)" " - squashfs /dev/loop[0-9]+ ro" "the squashfs file is loop-mounted on .image"
tap_like "$(losetup -j "$SQ" -O OFFSET -n -l)" "^ *0 *$" "the loop device starts at byte 0 of the file"
tap_is "$(jq -c .process.args "$B/config.json")" '["/.singularity.d/actions/run"]' "no image config: defaults, its /.singularity.d runscript"
tap_is "$(jq -r .image.offset "$B/.sifoci-mount.json") $(jq -r .image.size "$B/.sifoci-mount.json")" "0 $(stat -c %s "$SQ")" "the record names the whole file"
out=$(run_in "$B" '["/.singularity.d/actions/run","a1"]')
tap_is "$out" "runscript: hello from the runscript args:a1" "runc runs its runscript"
tap_run "umount the squashfs bundle" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$SQ"; echo $?)" "after umount: no bundle dir, no mounts, no loop device"

B=$T/sqx
tap_run "mount rootfs.sqfs --method extract" "$OCI" mount --method extract "$SQ" "$B"
out=$(run_in "$B" '["/bin/cat","/etc/passwd"]')
tap_like "$out" "^nobody:x:65534:65534:" "runc runs from the extracted squashfs"
tap_run "umount the extracted bundle" "$OCI" umount "$B"
tap_ok "$([ ! -e "$B" ]; echo $?)" "the extracted bundle is gone"

# ---- a sandbox directory (as `singularity build --sandbox` makes it)
SB=$T/sandbox
unsquashfs -q -n -d "$SB" "$SQ" >/dev/null
before=$(cd "$SB" && find . -printf '%p %m %s\n' | sort | sha256sum)
B=$T/sb
tap_run "mount ./sandbox" "$OCI" mount "$SB" "$B"
tap_like "$(awk -v p="$B/rootfs" '$5 == p' /proc/self/mountinfo)" " - overlay overlay .*lowerdir=$SB,upperdir=$B/overlay/upper" "the sandbox is the overlay's lower dir"
tap_is "$(jq -c .process.args "$B/config.json")" '["/.singularity.d/actions/run"]' "its /.singularity.d runscript is the command"
out=$(run_in "$B" '["/.singularity.d/actions/run","s1"]')
tap_is "$out" "runscript: hello from the runscript args:s1" "runc runs the sandbox's runscript with its env"
out=$(run_in "$B" '["/bin/sh","-c","echo new > /new; rm /etc/group"]')
tap_ok "$([ -f "$B/overlay/upper/new" ] && [ -f "$SB/etc/group" ] && [ ! -e "$SB/new" ]; echo $?)" "writes go to the upper dir, the sandbox is unchanged"
tap_run "umount the sandbox bundle" "$OCI" umount "$B"
tap_ok "$([ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ]; echo $?)" "after umount: no bundle dir, no mounts"
tap_is "$(cd "$SB" && find . -printf '%p %m %s\n' | sort | sha256sum)" "$before" "the sandbox's files are as before"
err=$("$OCI" mount --method extract "$SB" "$T/sbx" 2>&1); rc=$?
tap_is "$rc:$err" "1:oci: mount '$SB': a sandbox directory is mounted with --method kernel only (root); --method extract does not take one yet" "other methods refuse a sandbox in one line"
tap_ok "$([ ! -e "$T/sbx" ]; echo $?)" "...leaving no bundle"
err=$("$OCI" mount "$SB" "$SB/inner" 2>&1); rc=$?
tap_like "$rc:$err" "^1:oci: mount '$SB': " "a bundle inside the sandbox is refused in one line"
tap_ok "$([ ! -e "$SB/inner" ]; echo $?)" "...leaving nothing in the sandbox"

# ---- neither SIF nor squashfs
printf '#!/bin/sh\necho not an image\n' >"$IMG/script.sh"
err=$("$OCI" mount "$IMG/script.sh" "$T/no1" 2>&1); rc=$?
tap_is "$rc" 1 "a shell script is refused"
tap_is "$err" "oci: mount '$IMG/script.sh': neither a SIF image (no 'SIF_MAGIC' at byte 32) nor a squashfs (it starts with 23 21 2f 62, not 68 73 71 73 'hsqs')" "...in one line naming its first bytes"
tap_ok "$([ ! -e "$T/no1" ]; echo $?)" "...and no bundle is made"
: >"$IMG/empty"
err=$("$OCI" mount "$IMG/empty" "$T/no2" 2>&1)
tap_is "$err" "oci: mount '$IMG/empty': the file is empty, not a SIF or squashfs image" "an empty file is refused in one line"
head -c 4096 "$SQ" >"$IMG/cut.sqfs"
err=$("$OCI" mount "$IMG/cut.sqfs" "$T/no3" 2>&1); rc=$?
tap_like "$rc $(echo "$err" | wc -l) $err" "^1 1 oci: mount '$IMG/cut.sqfs': .*the squashfs file" "a cut squashfs is refused in one line naming it"
tap_ok "$([ ! -e "$T/no3" ] && [ -z "$(loops_of "$IMG/cut.sqfs")" ]; echo $?)" "...leaving no bundle and no loop device"
err=$("$OCI" mount "$FX/bad-magic.sif" "$T/no4" 2>&1)
tap_like "$err" "neither a SIF image" "a SIF with a broken magic is neither"
tap_done
