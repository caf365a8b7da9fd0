#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount --method fuse as root: real squashfuse_ll and fuse-overlayfs
# daemons (root mounts without fusermount3), real runc.  The mounts, their
# options and the record; a container that runs, writes and keeps its
# exit code; umount with no mount and no daemon left, also after kill -9
# of either daemon and after a killed oci mount.
MOUNT_TEST_NAME=mount-fuse
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" squashfuse_ll fuse-overlayfs
[ -c /dev/fuse ] || tap_skip_all "no /dev/fuse"

BB=$IMG/busybox.sif DK=$IMG/busybox-docker.sif
cp "$FX/busybox.sif" "$FX/busybox-docker.sif" "$IMG/"
mountinfo_line() { awk -v p="$1" '$5 == p' /proc/self/mountinfo; }
record_pid() { jq -r ".mounts[] | select(.target == \"$2\") | .pid" "$1/.sifoci-mount.json"; }
alive() { [ -n "$(ps -o stat= -p "$1" | grep -v Z)" ]; }
is_gone() { # no dir, no mount, no daemon serving anything under it
  [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && ! pgrep -f -- "$1/" >/dev/null
}
run_in() {
  N=$((N + 1))
  jq --argjson a "$2" '.process.terminal = false | .process.args = $a' "$1/config.json" >"$T/cfg.tmp" &&
    cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "sifoci-mfuse-$$-$N" </dev/null 2>&1)
}

B=$T/bb
tap_run "mount --method fuse busybox.sif" "$OCI" mount --method fuse "$BB" "$B"
tap_like "$(mountinfo_line "$B/.image")" " ro,nosuid,nodev[, ].* - fuse.squashfuse_ll .*user_id=0" ".image: squashfuse_ll, ro, nosuid, nodev"
tap_like "$(mountinfo_line "$B/rootfs")" " rw,nosuid,nodev[, ].* - fuse.fuse-overlayfs .*allow_other" \
  "rootfs: fuse-overlayfs, nosuid, nodev (not fuse-overlayfs' suid default for root), allow_other"
tap_is "$(jq -c '[.method, [.mounts[].target], [.mounts[].type]]' "$B/.sifoci-mount.json")" \
  '["fuse",[".image","rootfs"],["fuse.squashfuse_ll","fuse.fuse-overlayfs"]]' "the record: method fuse, both mounts"
ovl=$(record_pid "$B" rootfs) sq=$(record_pid "$B" .image)
tap_like "$(tr '\0' ' ' </proc/"$ovl"/cmdline)" "fuse-overlayfs -f -o lowerdir=$B/.image,upperdir=$B/overlay/upper,workdir=$B/overlay/work" \
  "the record names the overlay's daemon"
tap_like "$(tr '\0' ' ' </proc/"$sq"/cmdline)" "squashfuse_ll -f -o ro,nosuid,nodev,offset=32768 " "... and the squashfs's"
tap_is "$(ps -o sid= -p "$ovl" | tr -d ' ')" "$ovl" "the daemons lead sessions of their own"
tap_is "$(stat -c '%U:%G %a' "$B/rootfs/etc/passwd")" "root:root 644" "files as the image has them"
out=$(run_in "$B" '["/bin/sh","-c","echo hi; echo w > /written; rm /etc/group; exit 6"]')
tap_is "$?" 6 "runc runs it: the exit code"
tap_is "$out" "hi" "... its output"
tap_is "$(cat "$B/overlay/upper/written")" w "writes land in overlay/upper"
tap_ok "$([ -f "$B/.image/etc/group" ] && [ ! -e "$B/rootfs/etc/group" ]; echo $?)" "a deletion hides the image's file, the image keeps it"
tap_fails "mount into it again fails" "$OCI" mount --method fuse "$BB" "$B"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B"; echo $?)" "... no bundle, no mount"
tap_ok "$(! alive "$ovl" && ! alive "$sq"; echo $?)" "... both daemons exited"

# the Docker image: User 65534 (root's overlay has allow_other)
B=$T/dk
tap_run "mount --method fuse busybox-docker.sif" "$OCI" mount --method fuse "$DK" "$B"
out=$(run_in "$B" '["/bin/sh","-c","id -u; touch /tmp/x; stat -c %u:%g /tmp/x"]')
tap_is "$(echo $out)" "65534 65534:65534" "User 65534 runs and owns what it writes"
tap_is "$(stat -c %u:%g "$B/overlay/upper/tmp/x")" "65534:65534" "... on disk too (root's daemon chowns)"
tap_run "umount it" "$OCI" umount "$B"

# a mount that is not ours on rootfs: refused, nothing unmounted
B=$T/other
"$OCI" mount --method fuse "$BB" "$B" >/dev/null 2>&1
mount -t tmpfs -o size=1m tmpfs "$B/rootfs"
err=$("$OCI" umount "$B" 2>&1)
tap_like "$err" "'rootfs' holds a mount that is not the fuse.fuse-overlayfs oci mount made" "umount checks the type of each mount"
umount "$B/rootfs"
tap_run "... and finishes once it is gone" "$OCI" umount "$B"

# a daemon killed: ENOTCONN, and umount still takes the bundle apart
for which in rootfs .image; do
  B=$T/kill
  "$OCI" mount --method fuse "$BB" "$B" >/dev/null 2>&1
  pid=$(record_pid "$B" "$which")
  kill -KILL "$pid"
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  tap_like "$(stat "$B/$which/" 2>&1)" "Transport endpoint is not connected" "kill -9 of the $which daemon: ENOTCONN"
  tap_run "... umount" "$OCI" umount "$B"
  tap_ok "$(is_gone "$B"; echo $?)" "... nothing left"
done

# oci mount killed along the way
bad=0
for delay in 0.01 0.05 0.1 0.2; do
  B=$T/k
  "$OCI" mount --method fuse "$BB" "$B" >/dev/null 2>&1 &
  sleep "$delay"
  kill -KILL $! 2>/dev/null
  wait $! 2>/dev/null
  if [ -e "$B" ]; then "$OCI" umount "$B" >/dev/null 2>&1 || bad=1; fi
  for _ in $(seq 50); do is_gone "$B" && break; sleep 0.1; done
  is_gone "$B" || { bad=1; tap_diag "left after a kill at $delay s: $(mounts_under "$B")"; }
done
tap_ok $bad "oci mount killed at 4 points: umount leaves no bundle, mount or daemon"
tap_is "$(mounts_under "$T" | wc -l)" 0 "no FUSE mount left under the test's directory"
tap_is "$(pgrep -f -- "$T/" | wc -l)" 0 "no squashfuse or fuse-overlayfs of ours left"
tap_done
