#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Multi-layer OCI-SIF, built here offline (mksquashfs, make-oci-sif.py):
# layer 2 deletes a file of layer 1 (an OverlayFS whiteout, char device
# 0:0) and replaces /etc/passwd; layer 3 makes a directory opaque (xattr
# trusted.overlay.opaque=y).  From inside a running container: the file is
# gone, the opaque directory holds only layer 3's files, the image's user
# comes from the top-most passwd; with --method kernel (a loop device and a
# squashfs mount per layer), --method extract as root and as a real
# unprivileged user.  A tampered layer: one line naming its digest, nothing
# left.  Several platforms in one index and --platform.  `oci mount` killed
# at many points, then `oci umount`: no loop device, mount or directory.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/oci-sif.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd mksquashfs busybox jq runc losetup python3 setpriv useradd userdel newuidmap sha256sum

T=$(mktemp -d /tmp/sifoci-h13ml-layers.XXXXXX)
chmod 0755 "$T"
RUNC_ROOT=$T/runc-root
U=sfml$$u
MAIN_PID=$BASHPID
FUSE_MODE=
cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local b
  [ -n "$FUSE_MODE" ] && chmod "$FUSE_MODE" /dev/fuse
  runc_delete_all "$RUNC_ROOT"
  if id "$U" >/dev/null 2>&1; then
    for b in "/home/$U-ml"/*; do
      [ -e "$b/.sifoci-mount.json" ] && test_user_as "$U" "$OCI" umount "$b" >/dev/null 2>&1
    done
    # what a failed umount left: FUSE mounts under the home, deepest first
    for b in $(mounts_under "/home/$U-ml" | sort -r); do umount -l "$b" 2>/dev/null; done
    test_user_kill "$U"
    test_user_remove "$U" "/home/$U-ml"
  fi
  for b in "$T"/b*; do [ -e "$b/.sifoci-mount.json" ] && "$OCI" umount "$b" >/dev/null 2>&1; done
  release_mounts "$T" "$T"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
oci_sif_platforms

# --- the three layers
L1=$T/l1 L2=$T/l2 L3=$T/l3
mkdir -p "$L1/bin" "$L1/etc" "$L1/op" "$L2/etc" "$L2/op" "$L3/op"
cp "$(command -v busybox)" "$L1/bin/busybox"
for c in sh cat ls test id; do ln -s busybox "$L1/bin/$c"; done
printf 'root:x:0:0::/root:/bin/sh\n' >"$L1/etc/passwd"
printf 'root:x:0:\n' >"$L1/etc/group"
echo "layer 1" >"$L1/keep"
echo "from layer 1" >"$L1/gone"
echo "lower a" >"$L1/op/a"
echo "lower b" >"$L1/op/b"
mknod "$L2/gone" c 0 0
printf 'root:x:0:0::/root:/bin/sh\nlayer2:x:2345:0::/:/bin/sh\n' >"$L2/etc/passwd"
echo "layer 2" >"$L2/op/c"
echo "layer 3" >"$L3/op/three"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$L3/op" ||
  tap_skip_all "cannot set trusted.overlay.opaque here"
for l in 1 2 3; do
  mksquashfs "$T/l$l" "$T/l$l.sqfs" -noappend -all-root -quiet -xattrs >/dev/null ||
    tap_skip_all "mksquashfs failed"
done
# a container command that says what it sees
cat >"$T/config.json" <<'EOF'
{"Cmd": ["/bin/sh", "-c", "cat /keep; test -e /gone && echo gone: present || echo gone: absent; echo op: $(ls /op); id -u"],
 "Env": ["PATH=/bin"], "User": "layer2"}
EOF
WANT=$'layer 1\ngone: absent\nop: three\n2345'
MK="python3 $SIFOCI_TESTS/lib/make-oci-sif.py"
$MK "$T/three.sif" --image "linux/$HOST" "$T/config.json" "$T/l1.sqfs,$T/l2.sqfs,$T/l3.sqfs"
tap_ok $? "a 3-layer OCI-SIF is built"
chmod 0644 "$T/three.sif"

# run_bundle B ID: the bundle's command under runc, its output
run_bundle() {
  jq '.process.terminal = false' "$1/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$1/config.json"
  (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "sifoci-h13ml-$2-$$" </dev/null 2>&1)
}

# --- kernel method
B=$T/b-kernel
tap_run "kernel: mount a 3-layer image" "$OCI" mount --method kernel "$T/three.sif" "$B"
tap_is "$(loops_of "$T/three.sif" | wc -l)" 3 "kernel: one loop device per layer"
tap_is "$(mounts_under "$B/.layers/" | sort | tr '\n' ' ')" "$B/.layers/0 $B/.layers/1 $B/.layers/2 " \
  "kernel: each layer mounted on .layers/N"
tap_is "$(jq -c '[.version, (.layerLoops | length), [.mounts[].target]]' "$B/.sifoci-mount.json")" \
  '[2,3,[".layers/0",".layers/1",".layers/2","rootfs"]]' "kernel: the record lists the layers' loops and mounts"
tap_like "$(awk -v m="$B/rootfs" '$5 == m' /proc/self/mountinfo)" \
  "lowerdir=$B/.layers/2:$B/.layers/1:$B/.layers/0," "kernel: the overlay stacks them, layer 3 on top"
tap_is "$(jq -c .process.user "$B/config.json")" '{"uid":2345,"gid":0}' \
  "kernel: the image's user comes from the top-most /etc/passwd (layer 2's)"
tap_is "$(run_bundle "$B" kernel)" "$WANT" \
  "kernel: in the container the whiteout's file is gone and the opaque dir holds only layer 3's file"
tap_run "kernel: umount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$T/three.sif"; echo $?)" "kernel: no loop device, mount or directory left"

# --- extract method, as root
B=$T/b-extract
tap_run "extract: mount a 3-layer image" "$OCI" mount --method extract --quiet "$T/three.sif" "$B"
tap_is "$(run_bundle "$B" extract)" "$WANT" "extract: the container sees the same merged tree"
tap_ok "$([ ! -e "$B/rootfs/gone" ] && [ ! -L "$B/rootfs/gone" ]; echo $?)" "extract: no whiteout written"
tap_is "$(ls -A "$B/rootfs/op" | tr '\n' ' ')" "three " "extract: the opaque dir has only layer 3's file"
tap_is "$(python3 -c 'import os, sys; print(sorted(os.listxattr(sys.argv[1])))' "$B/rootfs/op")" "[]" \
  "extract: the opaque marker is not copied"
tap_is "$(cat "$B/rootfs/etc/passwd" | wc -l)" 2 "extract: layer 2's /etc/passwd replaced layer 1's"
tap_run "extract: umount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$T/three.sif"; echo $?)" "extract: nothing left"

# --- fuse method (as root): a squashfuse per layer under fuse-overlayfs
if command -v squashfuse_ll >/dev/null && command -v fuse-overlayfs >/dev/null && [ -c /dev/fuse ]; then
  B=$T/b-fuse
  tap_run "fuse: mount a 3-layer image" "$OCI" mount --method fuse "$T/three.sif" "$B"
  tap_is "$(jq -c '[.method, [.mounts[].target]]' "$B/.sifoci-mount.json")" \
    '["fuse",[".layers/0",".layers/1",".layers/2","rootfs"]]' "fuse: a squashfuse mount per layer, then the overlay"
  ovl=$(jq -r '.mounts[] | select(.target == "rootfs") | .pid' "$B/.sifoci-mount.json")
  tap_like "$(tr '\0' ' ' </proc/"$ovl"/cmdline)" "lowerdir=$B/.layers/2:$B/.layers/1:$B/.layers/0," \
    "fuse: fuse-overlayfs stacks them, layer 3 on top"
  tap_is "$(run_bundle "$B" fuse)" "$WANT" "fuse: in the container the whiteout and the opaque dir are honoured"
  tap_run "fuse: umount" "$OCI" umount "$B"
  tap_ok "$([ ! -e "$B" ] && [ -z "$(mounts_under "$B")" ] && ! pgrep -f -- "$B/" >/dev/null; echo $?)" \
    "fuse: no mount, daemon or directory left"
else
  tap_ok 0 "# SKIP fuse: no squashfuse_ll, fuse-overlayfs or /dev/fuse"
fi

# --- extract as an unprivileged user (user namespace with its own range)
if test_user_add "$U" "/home/$U-ml" --make-home --run-dir --subids; then
  H=/home/$U-ml
  out=$(test_user_as "$U" bash -c "cd && '$OCI' mount --method extract --quiet '$T/three.sif' ~/b 2>&1 &&
        '$OCI' run -b ~/b sifoci-h13ml-rl </dev/null 2>&1; echo rc=\$?")
  tap_is "$out" "$WANT"$'\nrc=0' "rootless extract: oci run sees the merged tree"
  tap_run "rootless extract: umount" test_user_as "$U" "$OCI" umount "$H/b"
  tap_ok "$([ ! -e "$H/b" ]; echo $?)" "rootless extract: bundle removed"
  # --method fuse as the user: squashfuse per layer through fusermount3.
  # /dev/fuse may be closed to users here: opened for this step only (as
  # tests/integration/rootless/fuse.sh does), its mode restored after.
  # The image runs as root: another user would need allow_other.
  if command -v squashfuse_ll >/dev/null && command -v fuse-overlayfs >/dev/null &&
    command -v fusermount3 >/dev/null && [ -c /dev/fuse ]; then
    jq 'del(.User)' "$T/config.json" >"$T/rootcfg.json"
    $MK "$T/three-root.sif" --image "linux/$HOST" "$T/rootcfg.json" "$T/l1.sqfs,$T/l2.sqfs,$T/l3.sqfs"
    chmod 0644 "$T/three-root.sif"
    FUSE_MODE=$(stat -c %a /dev/fuse)
    chmod 0666 /dev/fuse
    out=$(test_user_as "$U" bash -c "cd && '$OCI' mount --method fuse '$T/three-root.sif' ~/bf 2>/dev/null &&
          jq -r '[.mounts[].target] | join(\" \")' ~/bf/.sifoci-mount.json &&
          '$OCI' run -b ~/bf sifoci-h13ml-rlf </dev/null 2>&1; echo rc=\$?")
    tap_is "$out" ".layers/0 .layers/1 .layers/2 rootfs"$'\n'"${WANT%2345}0"$'\nrc=0' \
      "rootless fuse: a squashfuse per layer; oci run sees the merged tree"
    tap_run "rootless fuse: umount" test_user_as "$U" "$OCI" umount "$H/bf"
    chmod "$FUSE_MODE" /dev/fuse
    FUSE_MODE=
    tap_ok "$([ ! -e "$H/bf" ] && [ -z "$(mounts_under "$H/bf")" ]; echo $?)" "rootless fuse: nothing left"
  fi
else
  tap_ok 1 "rootless: useradd failed"
fi

# --- oci inspect: the layers, the config digest, the platform
out=$("$OCI" inspect "$T/three.sif")
D=()
for l in 1 2 3; do D+=("sha256:$(sha256sum "$T/l$l.sqfs" | cut -d' ' -f1)"); done
tap_like "$out" "OCI image 1 of 1: platform linux/$HOST" "inspect: the image's platform"
tap_like "$out" "layer 0 +${D[0]}  [0-9]+ bytes  application/vnd.sylabs.image.layer.v1.squashfs" \
  "inspect: layer 0 with its digest, size and media type"
tap_like "$out" "layer 2 +${D[2]} " "inspect: layer 2, the top one, last"
tap_like "$out" "config +sha256:[0-9a-f]{64}  [0-9]+ bytes" "inspect: the config blob's digest"
tap_is "$("$OCI" inspect --json "$T/three.sif" | jq -c '[.ociImages[0].platform, [.ociImages[0].layers[].digest]]')" \
  "[{\"os\":\"linux\",\"architecture\":\"$HOST\"},[\"${D[0]}\",\"${D[1]}\",\"${D[2]}\"]]" \
  "inspect --json: ociImages lists the platform and the layers' digests, bottom first"

# --- whiteouts seen by user resolution: /etc/passwd deleted by a layer
# (OverlayFS char device, or AUFS .wh.passwd) leaves no user 'layer2'
mkdir -p "$T/wo/etc" "$T/wa/etc"
mknod "$T/wo/etc/passwd" c 0 0
: >"$T/wa/etc/.wh.passwd"
for w in wo wa; do
  mksquashfs "$T/$w" "$T/$w.sqfs" -noappend -all-root -quiet >/dev/null
  $MK "$T/$w.sif" --image "linux/$HOST" "$T/config.json" "$T/l1.sqfs,$T/l2.sqfs,$T/$w.sqfs"
  B=$T/b-$w
  err=$("$OCI" mount --method kernel "$T/$w.sif" "$B" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$w: passwd whited out above the user's layer: mount exits 1, one line"
  tap_like "$err" "^oci: mount '$T/$w.sif': image config: User 'layer2': the image has no /etc/passwd" \
    "$w: user resolution sees no /etc/passwd"
  tap_ok "$(is_gone "$B" "$T/$w.sif"; echo $?)" "$w: nothing left"
done

# --- AUFS-style whiteouts, extracted: .wh.gone deletes /gone,
# .wh..wh..opq makes /op opaque; neither marker is written
mkdir -p "$T/aufs/op"
: >"$T/aufs/.wh.gone"
: >"$T/aufs/op/.wh..wh..opq"
echo "aufs" >"$T/aufs/op/five"
mksquashfs "$T/aufs" "$T/aufs.sqfs" -noappend -all-root -quiet >/dev/null
echo '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}' >"$T/plain.json"
$MK "$T/aufs.sif" --image "linux/$HOST" "$T/plain.json" "$T/l1.sqfs,$T/aufs.sqfs"
B=$T/b-aufs
tap_run "aufs: extract" "$OCI" mount --method extract --quiet "$T/aufs.sif" "$B"
tap_is "$(cd "$B/rootfs" && ls -A . op | tr '\n' ' ')" ".: bin etc keep op  op: five " \
  "aufs: /gone deleted, /op holds only the upper layer's file, no .wh. entry written"
tap_run "aufs: umount" "$OCI" umount "$B"

# --- a tampered layer: one byte of layer 2 flipped
cp "$T/three.sif" "$T/tampered.sif"
python3 - "$T/tampered.sif" "$T/l2.sqfs" <<'EOF'
import sys
img = open(sys.argv[1], "r+b")
data = img.read()
at = data.find(open(sys.argv[2], "rb").read()) + 200
img.seek(at)
img.write(bytes([data[at] ^ 0xFF]))
EOF
D2=sha256:$(sha256sum "$T/l2.sqfs" | cut -d' ' -f1)
B=$T/b-tampered
err=$("$OCI" mount "$T/tampered.sif" "$B" 2>&1 >/dev/null); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "tampered layer: mount exits 1 with one line"
tap_like "$err" "^oci: mount '$T/tampered.sif': OCI layer: object [0-9]+ \($D2\): its data does not match its digest" \
  "tampered layer: the error names the layer's digest"
tap_ok "$(is_gone "$B" "$T/tampered.sif"; echo $?)" "tampered layer: no bundle, mount or loop device left"

# --- several platforms: the 3-layer image, a variant of it, another architecture
mkdir -p "$T/v/bin"
cp "$(command -v busybox)" "$T/v/bin/busybox"
echo "the vtest variant" >"$T/v/which"
mksquashfs "$T/v" "$T/v.sqfs" -noappend -all-root -quiet >/dev/null
echo '{"Cmd":["/bin/busybox","cat","/which"]}' >"$T/vconfig.json"
$MK "$T/multi.sif" --image "linux/$OTHER" "$T/vconfig.json" "$T/v.sqfs" \
  --image "linux/$HOST" "$T/config.json" "$T/l1.sqfs,$T/l2.sqfs,$T/l3.sqfs" \
  --image "linux/$HOST/vtest" "$T/vconfig.json" "$T/v.sqfs"
B=$T/b-plat
tap_run "platforms: default mount" "$OCI" mount "$T/multi.sif" "$B"
tap_is "$(cat "$B/rootfs/keep")" "layer 1" "platforms: the default is linux/$HOST without a variant"
tap_run "platforms: umount" "$OCI" umount "$B"
tap_run "platforms: --platform linux/$HOST/vtest" "$OCI" mount --platform "linux/$HOST/vtest" "$T/multi.sif" "$B"
tap_is "$(cat "$B/rootfs/which")" "the vtest variant" "platforms: --platform picks the variant"
tap_run "platforms: umount" "$OCI" umount "$B"
HOLDS="linux/$OTHER, linux/$HOST, linux/$HOST/vtest"
for c in "linux/s390x|OCI-SIF holds no image for linux/s390x \(it holds $HOLDS\)" \
         "linux/$HOST/v9|OCI-SIF holds no image for linux/$HOST/v9 \(it holds $HOLDS\)" \
         "linux/$OTHER|OCI image config: the image is for $OTHER, this machine runs $HOST"; do
  p=${c%%|*} want=${c#*|}
  err=$("$OCI" mount --platform "$p" "$T/multi.sif" "$B" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "--platform $p: mount exits 1 with one line"
  tap_like "$err" "^oci: mount '$T/multi.sif': $want\$" "--platform $p: the error says why"
  tap_ok "$(is_gone "$B" "$T/multi.sif"; echo $?)" "--platform $p: nothing left"
done
err=$("$OCI" mount --platform linux "$T/multi.sif" "$B" 2>&1 >/dev/null); rc=$?
tap_is "$rc" 2 "--platform linux: a usage error"
tap_like "$err" "not OS/ARCH\[/VARIANT\]" "--platform linux: says the form"

# --- oci mount killed at many points, then oci umount: by time (before
# and while it works), and the moment each layer's mount appears
# kill_when B WHAT: start oci mount of three.sif on B, SIGKILL it when WHAT
# is mounted (busy-polling mountinfo: the window is milliseconds); prints
# "killed" when it died by it
kill_when() {
  python3 - "$OCI" "$T/three.sif" "$1" "$2" <<'EOF'
import os, signal, subprocess, sys
oci, image, bundle, what = sys.argv[1:]
p = subprocess.Popen([oci, "mount", "--method", "kernel", image, bundle],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
target = os.path.join(bundle, what)
while p.poll() is None:
    with open("/proc/self/mountinfo") as f:
        if any(l.split()[4] == target for l in f):
            p.send_signal(signal.SIGKILL)
            break
print("killed" if p.wait() == -signal.SIGKILL else "finished")
EOF
}
bad=0 mid=0 rounds=0
# check_left B LABEL: oci umount B when it is there; nothing may be left
check_left() {
  [ "$(jq -r .state "$1/.sifoci-mount.json" 2>/dev/null)" = mounting ] && mid=$((mid + 1))
  local out=
  [ -e "$1" ] && out=$("$OCI" umount "$1" 2>&1)
  rounds=$((rounds + 1))
  if ! is_gone "$1" "$T/three.sif"; then
    bad=$((bad + 1))
    tap_diag "$2: umount said '$out'; left $(ls -A "$1" 2>/dev/null | tr '\n' ' ') $(mounts_under "$1") $(loops_of "$T/three.sif")"
    release_mounts "$1" "$T"
    rm -rf --one-file-system "$1"
  fi
}
B=$T/b-kill
for d in 0 0.002 0.005 0.01 0.02 0.03 0.05 0.08; do
  "$OCI" mount --method kernel "$T/three.sif" "$B" >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  check_left "$B" "killed after ${d}s"
done
killed=0
for what in .layers/0 .layers/1 .layers/2 rootfs; do
  [ "$(kill_when "$B" "$what")" = killed ] && killed=$((killed + 1))
  check_left "$B" "killed once $what was mounted"
done
tap_diag "killed in the middle (record in state mounting) in $mid of $rounds rounds; $killed of 4 at a layer's mount"
tap_ok "$([ "$mid" -ge 1 ]; echo $?)" "mount was killed half way at least once"
tap_is "$bad" 0 "mount killed at $rounds points: oci umount leaves no loop device, mount or directory"
tap_done
