#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# OCI-SIF with several images in its root index: `oci mount` takes the one
# whose platform is the host's and runs it; an index with no image for this
# machine, or a config blob for another architecture, gets one line naming
# the image and leaves nothing.  Images are built here, offline, with
# mksquashfs and tests/lib/make-oci-sif.py.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/oci-sif.sh"
require_root
require_cmd mksquashfs busybox jq runc losetup python3

T=$(mktemp -d /tmp/sifoci-h13a-images.XXXXXX)
chmod 0755 "$T"
RUNC_ROOT=$T/runc-root
cleanup() {
  runc_delete_all "$RUNC_ROOT"
  release_mounts "$T" "$T"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
oci_sif_platforms

# one rootfs per platform, told apart by a file the command prints
for p in host other; do
  r=$T/root-$p
  mkdir -p "$r/bin"
  cp "$(command -v busybox)" "$r/bin/busybox"
  ln -s busybox "$r/bin/sh"; ln -s busybox "$r/bin/cat"
  echo "rootfs for $p" >"$r/which"
  mksquashfs "$r" "$T/$p.sqfs" -noappend -all-root -quiet >/dev/null
done
echo '{"Cmd":["/bin/cat","/which"],"Env":["PATH=/bin"]}' >"$T/config.json"
MK="python3 $SIFOCI_TESTS/lib/make-oci-sif.py"
$MK "$T/two.sif" --image "linux/$OTHER" "$T/config.json" "$T/other.sqfs" \
  --image "linux/$HOST" "$T/config.json" "$T/host.sqfs"
tap_ok $? "an OCI-SIF with linux/$OTHER and linux/$HOST images is built"

B=$T/two
tap_run "mount picks the host's image among two" "$OCI" mount "$T/two.sif" "$B"
tap_is "$(jq -c .process.args "$B/config.json")" '["/bin/cat","/which"]' "its config's command"
jq '.process.terminal = false' "$B/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$B/config.json"
out=$(cd "$B" && timeout 60 runc --root "$RUNC_ROOT" run "sifoci-h13a-plat-$$" </dev/null 2>&1)
tap_is "$out" "rootfs for host" "runc runs the host's layer, not the other platform's"
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$T/two.sif"; echo $?)" "nothing left after umount"

# only a foreign image: refused, one line naming what it holds
$MK "$T/foreign.sif" --image "linux/$OTHER" "$T/config.json" "$T/other.sqfs"
$MK "$T/notlinux.sif" --image "windows/$HOST" "$T/config.json" "$T/host.sqfs"
for c in "foreign|OCI-SIF holds no image for linux/$HOST \(it holds linux/$OTHER\)" \
         "notlinux|OCI-SIF holds no image for linux/$HOST \(it holds windows/$HOST\)"; do
  name=${c%%|*} want=${c#*|} B=$T/$name
  err=$("$OCI" mount "$T/$name.sif" "$B" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$name: mount exits 1 with one line"
  tap_like "$err" "^oci: mount '$T/$name.sif': .*$want\$" "$name: the error says which platforms it holds"
  tap_ok "$(is_gone "$B" "$T/$name.sif"; echo $?)" "$name: no bundle dir, mount or loop device left"
done

# the index says host, the config blob says another architecture
$MK "$T/lying.sif" --image "linux/$HOST@$OTHER" "$T/config.json" "$T/host.sqfs"
B=$T/lying
err=$("$OCI" mount "$T/lying.sif" "$B" 2>&1 >/dev/null); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "config for $OTHER: mount exits 1 with one line"
tap_like "$err" "^oci: mount '$T/lying.sif': .*OCI image config: the image is for $OTHER, this machine runs $HOST\$" \
  "config for $OTHER: the error names both architectures"
tap_ok "$(is_gone "$B" "$T/lying.sif"; echo $?)" "config for $OTHER: nothing left"
tap_done
