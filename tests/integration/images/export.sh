#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci export: a native SIF, a Docker-derived native SIF, a plain
# squashfs, a sandbox directory and OCI-SIFs (one layer; two layers where
# the second deletes a file and makes a directory opaque) written as an OCI
# layout and as an oci-archive, checked blob by blob
# (tests/lib/check-oci-layout.py), loaded into podman (its own store under
# T) and run there: podman prints what `oci run` of the same image prints.
# Bad images, a tampered layer and a DEST that is in the way get one line
# and leave nothing; so does a ^C.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd mksquashfs unsquashfs busybox jq runc losetup python3 podman
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

S=h13exp-$$
T=$(mktemp -d "/tmp/sifoci-$S.XXXXXX")
chmod 0755 "$T"
W=$T/work
mkdir -p "$W"
had_shm_lock=false
[ -e /dev/shm/libpod_lock ] && had_shm_lock=true
P=(podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" --storage-driver vfs
  --cgroup-manager cgroupfs --events-backend file --runtime "$(command -v runc)")
U=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${P[@]}" system reset -f >/dev/null 2>&1
  local id
  for id in $("$OCI" --root "$T/state" list -q 2>/dev/null); do
    "$OCI" --root "$T/state" delete -f "$id" >/dev/null 2>&1
  done
  release_mounts "$T" "$FX"
  release_mounts "$T" "$W"
  # the lock segment podman made, unless another podman may be using it
  $had_shm_lock || pgrep -x podman >/dev/null || rm -f /dev/shm/libpod_lock
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
CHECK="python3 $SIFOCI_TESTS/lib/check-oci-layout.py"
MK="python3 $SIFOCI_TESTS/lib/make-oci-sif.py"
N=0

# oci_out IMAGE [ARGS-JSON]: what `oci run` prints for IMAGE, its own
# command or ARGS (a bundle mounted for it and unmounted again)
oci_out() {
  N=$((N + 1))
  local b=$T/b$N f='.process.terminal = false'
  [ $# -gt 1 ] && f="$f | .process.args = $2"
  "$OCI" mount "$1" "$b" >/dev/null 2>&1 || { echo "oci mount '$1' failed"; return; }
  jq "$f" "$b/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$b/config.json"
  timeout 60 "$OCI" --root "$T/state" run -b "$b" "$S-$N" </dev/null 2>&1
  "$OCI" umount "$b" >/dev/null 2>&1
}
pm_out() { timeout 120 "${P[@]}" run --rm "${U[@]}" "$@" </dev/null 2>&1; }
# alike DESC REGEX IMAGE ARGS-JSON PODMAN-ARGS...: `oci run` of IMAGE (its
# own command for ARGS-JSON "") prints a match of REGEX, and `podman run
# PODMAN-ARGS` prints the same
alike() {
  local desc=$1 re=$2 image=$3 args=$4 want
  shift 4
  if [ -n "$args" ]; then want=$(oci_out "$image" "$args"); else want=$(oci_out "$image"); fi
  tap_like "$want" "$re" "$desc: oci run"
  tap_is "$(pm_out "$@")" "$want" "$desc: podman run prints what oci run prints"
}
# load ARCHIVE-OR-DIR: podman load, the name it reports
load() {
  "${P[@]}" load -i "$1" 2>"$T/load.err" | sed -n 's/^Loaded image: //p' | tail -1
}
# left_beside DEST: what export left in DEST's directory but DEST itself
left_beside() { find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").export-*"; }

# ---- a native SIF: layout directory and oci-archive
L=$T/bb-layout
tap_run "export busybox.sif to a layout directory" "$OCI" export "$FX/busybox.sif" "$L"
sum=$($CHECK "$L" 2>&1)
tap_ok $? "the layout's blobs match their descriptors ($(echo "$sum" | head -c 200))"
tap_is "$(jq -r .ref <<<"$sum")" "busybox:latest" "the ref name comes from the file name"
tap_is "$(jq -c .platform <<<"$sum")" "{\"architecture\":\"$(jq -r .config.architecture <<<"$sum")\",\"os\":\"linux\"}" "the index names the config's platform"
tap_is "$(jq -c .config.config.Cmd <<<"$sum")" '["/.singularity.d/actions/run"]' "native image: Cmd is what oci mount runs"
tap_like "$(jq -r '.config.config.Env[]' <<<"$sum")" '^PATH=' "...and Env its PATH"
tap_is "$(jq -r '.layers[0] | .["bin/busybox"].type, .["bin/sh"].type, .["bin/sh"].link, .["etc/passwd"].mode' <<<"$sum" | tr '\n' ' ')" "file symlink busybox 0644 " "the layer holds busybox, its links and /etc/passwd"
tap_is "$(stat -c %a "$L")" 755 "the layout directory is 0755"
tap_is "$(left_beside "$L")" "" "no temporary directory is left"
# podman names a layout directory after its path, not its ref name
tap_is "$(cd "$T" && load bb-layout)" "localhost/bb-layout" "podman load takes the layout directory"

A=$T/bb.tar
tap_run "export busybox.sif to an oci-archive" "$OCI" export -t localhost/sifoci-bb:$S "$FX/busybox.sif" "$A"
tap_ok "$($CHECK "$A" >/dev/null; echo $?)" "the archive's blobs match their descriptors"
IMG=$(load "$A")
tap_is "$IMG" "localhost/sifoci-bb:$S" "podman load takes the oci-archive, named by --tag"
[ -n "$IMG" ] || sed 's/^/#   /' "$T/load.err" | tail -5
alike "cat /etc/passwd" '^root:x:0:0:' "$FX/busybox.sif" '["/bin/cat","/etc/passwd"]' \
  "$IMG" cat /etc/passwd
alike "the image's own command (Cmd: the runscript)" '^runscript: ' "$FX/busybox.sif" "" "$IMG"

# ---- a Docker-derived native SIF: Entrypoint, Cmd, User, WorkingDir
A=$T/docker.tar
tap_run "export busybox-docker.sif" "$OCI" export "$FX/busybox-docker.sif" "$A"
sum=$($CHECK "$A")
tap_is "$(jq -c '.config.config | [.Entrypoint, .Cmd, .User, .WorkingDir]' <<<"$sum")" \
  "$(siftool dump 1 "$FX/busybox-docker.sif" | jq -c '[.Entrypoint, .Cmd, .User, .WorkingDir]')" \
  "its oci-config.json is the config"
IMG=$(load "$A")
alike "Entrypoint and Cmd" '^entrypoint: ' "$FX/busybox-docker.sif" "" "$IMG"
alike "User 65534 and WorkingDir /srv" '^65534 65534 /srv$' "$FX/busybox-docker.sif" \
  '["/bin/sh","-c","echo $(id -u) $(id -g) $(pwd)"]' --entrypoint /bin/sh "$IMG" -c 'echo $(id -u) $(id -g) $(pwd)'

# ---- a plain squashfs file
siftool dump 2 "$FX/busybox.sif" >"$W/rootfs.sqfs"
A=$T/sq.tar
tap_run "export a plain squashfs" "$OCI" export "$W/rootfs.sqfs" "$A"
sum=$($CHECK "$A")
tap_is "$(jq -r .ref <<<"$sum")" "rootfs:latest" "its ref name"
IMG=$(load "$A")
alike "squashfs: cat /etc/group" '^root:x:0:' "$W/rootfs.sqfs" '["/bin/cat","/etc/group"]' \
  "$IMG" cat /etc/group

# ---- a sandbox directory (unpacked as `singularity build --sandbox` leaves it)
SB=$W/sandbox
unsquashfs -q -n -d "$SB" "$W/rootfs.sqfs" >/dev/null
ln "$SB/etc/passwd" "$SB/etc/passwd-link"
A=$T/sb.tar
tap_run "export a sandbox directory" "$OCI" export "$SB" "$A"
sum=$($CHECK "$A")
tap_is "$(jq -r '.layers[0] | .["etc/passwd"].type, .["etc/passwd-link"].type, .["etc/passwd-link"].link, .["bin/sh"].link' <<<"$sum" | tr '\n' ' ')" \
  "file hardlink etc/passwd busybox " "its files, hard links and symlinks"
tap_is "$(jq -c .config.config.Cmd <<<"$sum")" '["/.singularity.d/actions/run"]' "its runscript is Cmd"
IMG=$(load "$A")
alike "sandbox: the runscript" '^runscript: ' "$SB" "" "$IMG"
rm "$SB/etc/passwd-link"

# ---- OCI-SIF: one layer, then two with a whiteout and an opaque directory
R1=$W/l1 R2=$W/l2 LONG=$(printf 'd%.0s' $(seq 1 70))
mkdir -p "$R1/bin" "$R1/opq" "$R2/opq" "$R2/$LONG/$LONG"
cp "$(command -v busybox)" "$R1/bin/busybox"
for a in sh cat ls test; do ln -s busybox "$R1/bin/$a"; done
echo "from layer 1" >"$R1/which"
echo gone >"$R1/gone"
echo old >"$R1/opq/old"
echo new >"$R2/opq/new"
ln "$R2/opq/new" "$R2/opq/hard"
echo long >"$R2/$LONG/$LONG/file"
mkfifo "$R2/fifo"
python3 -c 'import os, sys
os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")
os.setxattr(sys.argv[1], "user.note", b"kept")' "$R2/opq"
mksquashfs "$R1" "$W/l1.sqfs" -noappend -all-root -quiet >/dev/null
# the deleted /gone: an overlayfs whiteout, a 0:0 character device
mksquashfs "$R2" "$W/l2.sqfs" -noappend -all-root -quiet -p "gone c 000 root root 0 0" \
  -p "null c 666 root root 1 3" >/dev/null
echo '{"Cmd":["/bin/cat","/which"],"Env":["PATH=/bin"]}' >"$W/config.json"
case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
$MK "$W/one.sif" --image "linux/$ARCH" "$W/config.json" "$W/l1.sqfs"
$MK "$W/two.sif" --image "linux/$ARCH" "$W/config.json" "$W/l1.sqfs,$W/l2.sqfs"

A=$T/one.tar
tap_run "export a one-layer OCI-SIF" "$OCI" export "$W/one.sif" "$A"
sum=$($CHECK "$A")
tap_is "$(jq -c '.config.config' <<<"$sum")" '{"Cmd":["/bin/cat","/which"],"Env":["PATH=/bin"]}' "its config blob's config"
IMG=$(load "$A")
alike "OCI-SIF: its Cmd" '^from layer 1$' "$W/one.sif" "" "$IMG"

A=$T/two.tar
tap_run "export a two-layer OCI-SIF" "$OCI" export "$W/two.sif" "$A"
sum=$($CHECK "$A")
tap_is "$(jq '.layers | length' <<<"$sum")" 2 "two tar layers"
l2=$(jq -c '.layers[1]' <<<"$sum")
tap_is "$(jq -r '.[".wh.gone"].type, (has("gone") | tostring)' <<<"$l2" | tr '\n' ' ')" "file false " "the 0:0 device is an OCI whiteout .wh.gone"
tap_is "$(jq -r '.["opq/.wh..wh..opq"].type, (.opq.xattrs | keys | join(","))' <<<"$l2" | tr '\n' ' ')" "file user.note " "the opaque dir gets .wh..wh..opq, keeps user.note and loses trusted.overlay.opaque"
tap_is "$(jq -r '.["opq/hard"].type, .["opq/new"].type, .["opq/new"].link' <<<"$l2" | tr '\n' ' ')" "file hardlink opq/hard " "a hard link is a link entry"
tap_is "$(jq -r '.null.type, .null.dev, .fifo.type' <<<"$l2" | tr '\n' ' ')" "char 1:3 fifo " "a device node and a FIFO"
tap_is "$(jq -r --arg p "$LONG/$LONG/file" '.[$p].size' <<<"$l2")" 5 "a 146-byte path (PAX) reads back whole"
IMG=$(load "$A")
tap_is "$(pm_out "$IMG" sh -c 'test -e /gone && echo gone is there; ls /opq; cat /which')" \
  "$(printf 'hard\nnew\nfrom layer 1')" "podman: /gone deleted, /opq holds only layer 2's files"

# ---- refused, in one line, leaving nothing
refused() { # refused DESC EXPECTED-REGEX DEST ARGS...
  local desc=$1 re=$2 dest=$3 out rc
  shift 3
  out=$("$OCI" export "$@" "$dest" 2>&1)
  rc=$?
  tap_like "$rc $(echo "$out" | wc -l) $out" "^1 1 oci: export $re" "$desc: one line"
  tap_is "$(left_beside "$dest")" "" "$desc: no temporary directory left"
}
refused "a broken SIF" "'$FX/bad-magic.sif': neither a SIF image" "$T/x1.tar" "$FX/bad-magic.sif"
tap_ok "$([ ! -e "$T/x1.tar" ]; echo $?)" "...and no archive"
refused "a cut squashfs" "'$FX/bad-sqfs-cut.sif': .*partition" "$T/x2" "$FX/bad-sqfs-cut.sif"
tap_ok "$([ ! -e "$T/x2" ]; echo $?)" "...and no layout"
cp "$W/two.sif" "$W/tampered.sif"
# make-oci-sif.py: 5 descriptors from byte 4096, then layer 1's data
off=$((4096 + 5 * 585 + $(stat -c %s "$W/l1.sqfs") / 2))
printf 'X' | dd of="$W/tampered.sif" bs=1 seek="$off" conv=notrunc status=none
refused "a tampered layer" "'$W/tampered.sif': OCI layer 1: .*does not match its digest" "$T/x3.tar" "$W/tampered.sif"
tap_ok "$([ ! -e "$T/x3.tar" ]; echo $?)" "...and no archive"
mkdir "$T/full" && echo keep >"$T/full/mine"
refused "a non-empty DEST directory" "'$W/one.sif': '$T/full' is not empty" "$T/full" "$W/one.sif"
tap_is "$(ls -A "$T/full")" "mine" "...which keeps what it held"
echo keep >"$T/have.tar"
refused "an existing archive" "'$W/one.sif': '$T/have.tar' is not overwritten" "$T/have.tar" "$W/one.sif"
tap_is "$(cat "$T/have.tar")" "keep" "...which is not touched"
out=$("$OCI" export -t "Bad Tag" "$W/one.sif" "$T/x5" 2>&1)
tap_is "$?:$(echo "$out" | head -1)" "2:oci: export: --tag 'Bad Tag' is not an image reference name (letters and digits, joined by one of - . _ : @ + /)" "a bad --tag is a usage error"
tap_ok "$([ ! -e "$T/x5" ] && [ -z "$(left_beside "$T/x5")" ]; echo $?)" "...and nothing is written"

# ---- ^C half way: the export stops, removes what it wrote and exits 130
mkdir "$W/zero" && truncate -s 256M "$W/zero/big" # sparse: quick to pack, slow to export
mksquashfs "$W/zero" "$W/zero.sqfs" -noappend -all-root -quiet >/dev/null
"$OCI" export "$W/zero.sqfs" "$T/zero.tar" 2>"$T/int.err" &
pid=$!
# no event says "the export has begun": its temporary directory is looked for
until [ -n "$(left_beside "$T/zero.tar")" ] || ! kill -0 $pid 2>/dev/null; do sleep 0.01; done
kill -INT $pid
wait $pid
tap_is "$?:$(cat "$T/int.err")" "130:oci: export '$W/zero.sqfs': interrupted by SIGINT" "SIGINT ends an export with 130 and one line"
tap_ok "$([ ! -e "$T/zero.tar" ] && [ -z "$(left_beside "$T/zero.tar")" ]; echo $?)" "...leaving no archive and no temporary directory"

mkdir "$T/empty"
tap_run "an empty DEST directory is filled" "$OCI" export "$W/one.sif" "$T/empty"
tap_ok "$($CHECK "$T/empty" >/dev/null; echo $?)" "...with a valid layout"
tap_done
