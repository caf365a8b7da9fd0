#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount / umount with real loop devices, squashfs, overlayfs and runc.
# Every image is copied into our temp dir first, so `losetup -j` sees only
# our loop devices even when other tests mount the same fixtures.
MOUNT_TEST_NAME=mount
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" unshare

img() { # img NAME [DIR]: a private copy of a fixture (or shared) image
  local src=${2:-$FX}/$1.sif dst=$IMG/${3:-}$1.sif
  [ -e "$dst" ] || cp "$src" "$dst"
  echo "$dst"
}
cfg() { jq -c "$2" "$1/config.json"; }
# run_in BUNDLE ARGS-JSON: runc run with terminal off and these args
run_in() {
  N=$((N + 1))
  jq --argjson a "$2" '.process.terminal = false | .process.args = $a' "$1/config.json" >"$T/cfg.tmp" &&
    cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "sifoci-mount-$$-$N" </dev/null 2>&1)
}
mode() { stat -c %a "$1"; }
is_gone() { # is_gone BUNDLE IMAGE: no dir, no mount under it, no loop device
  [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && [ -z "$(loops_of "$2")" ]
}
mountinfo_line() { awk -v p="$1" '$5 == p' /proc/self/mountinfo; }

# ---- busybox.sif: the native image
BB=$(img busybox)
B=$T/bb
tap_run "mount busybox.sif" "$OCI" mount "$BB" "$B"
tap_ok "$([ -x "$B/rootfs/bin/busybox" ] && [ -d "$B/rootfs/.singularity.d" ]; echo $?)" "rootfs has /bin/busybox and /.singularity.d"
tap_is "$(mode "$B") $(mode "$B/overlay") $(mode "$B/overlay/work") $(mode "$B/volumes")" "700 700 700 700" "bundle, overlay, work and volumes are 0700"
tap_is "$(unshare -m sh -c "umount '$B/rootfs' && umount '$B/.image' && stat -c %a '$B/rootfs' '$B/.image'" | tr '\n' ' ')" "700 700 " "rootfs and .image mount points are 0700 underneath"
tap_is "$(mode "$B/overlay/upper")" "755" "overlay/upper (the container's /) is 0755"
tap_is "$(mode "$B/config.json") $(mode "$B/.sifoci-mount.json")" "600 600" "config.json and the record are 0600"
tap_like "$(mountinfo_line "$B/rootfs")" " - overlay overlay .*lowerdir=$B/.image,upperdir=$B/overlay/upper,workdir=$B/overlay/work" "rootfs is an overlay in mountinfo"
sq=$(mountinfo_line "$B/.image")
tap_like "$sq" "^[0-9]+ [0-9]+ 7:[0-9]+ / $B/.image ro,nosuid,nodev[, ].* - squashfs /dev/loop[0-9]+ ro" "squashfs mounted ro,nosuid,nodev from a loop device"
tap_like "$(mountinfo_line "$B/rootfs")" " rw,nosuid,nodev[, ]" "overlay mounted nosuid,nodev"
tap_like "$(losetup -j "$BB" -O RO,AUTOCLEAR -n -l 2>/dev/null)" "^ *1 +1 *$" "loop device is read-only with autoclear"
tap_is "$(losetup -j "$BB" | grep -c "offset 32768, sizelimit 1044480")" 1 "loop device maps the partition's offset and size"
tap_is "$(cfg "$B" '[.ociVersion, .hostname, .root.path]')" "[\"1.0.2-dev\",\"sifoci\",\"$B/rootfs\"]" "ociVersion, hostname, absolute root.path"
tap_is "$(cfg "$B" '.process.args')" '["/.singularity.d/actions/run"]' "native image runs /.singularity.d/actions/run"
tap_is "$(cfg "$B" '[.process.user.uid, .process.user.gid, .process.cwd, .process.terminal, (.process.capabilities.bounding|length)]')" '[0,0,"/",true,15]' "defaults: root, cwd /, terminal, 15 caps"
tap_is "$(jq -r '[.mounts[].destination] | join(" ")' "$B/config.json")" "/proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup" "default mounts plus cgroup"
tap_is "$(cfg "$B" '[(.linux.maskedPaths|length), (.linux.readonlyPaths|length), ([.linux.namespaces[].type]|join(","))]')" '[10,5,"pid,network,ipc,uts,mount"]' "masked/readonly paths and namespaces"
tap_is "$(jq -r '.state' "$B/.sifoci-mount.json")" "mounted" "record says mounted"
out=$(run_in "$B" '["/bin/cat","/etc/passwd"]')
tap_like "$out" "^nobody:x:65534:65534:" "runc runs the config and sees the image's /etc/passwd"
out=$(run_in "$B" '["/.singularity.d/actions/run","a1"]')
tap_is "$out" "runscript: hello from the runscript args:a1" "actions/run sources the env and runs the runscript"
out=$(run_in "$B" '["/bin/sh","-c","echo written > /written; rm /etc/group"]')
tap_is "$(cat "$B/overlay/upper/written" 2>&1)" "written" "writes in the container land in overlay/upper"
tap_ok "$([ -c "$B/overlay/upper/etc/group" ]; echo $?)" "deletions in the container are whiteouts in overlay/upper"
tap_ok "$([ -f "$B/.image/etc/group" ]; echo $?)" "the image itself is unchanged"

# umount refusals while it is mounted
tap_fails "mount into a mounted bundle fails" "$OCI" mount "$BB" "$B"
err=$("$OCI" mount "$BB" "$B" 2>&1)
tap_like "$err" "exists and is not empty \(it is already mounted\)" "...saying it is already mounted"
tap_run "umount busybox bundle" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$BB"; echo $?)" "after umount: no bundle dir, no mounts, no loop device"
err=$("$OCI" umount "$B" 2>&1); rc=$?
tap_is "$rc" 1 "umount of an unmounted bundle exits 1"
tap_like "$err" "^oci: umount '$B': .*already unmounted" "...with a clear error"

# ---- busybox-docker.sif: image config applied
DK=$(img busybox-docker)
B=$T/docker
tap_run "mount busybox-docker.sif" "$OCI" mount "$DK" "$B"
tap_is "$(cfg "$B" '.process.args')" '["/bin/echo","entrypoint:","default","cmd args"]' "args = Entrypoint + Cmd"
tap_is "$(cfg "$B" '[.process.env[] | select(startswith("DOCKER_VAR=") or startswith("EMPTY_VAR=") or startswith("PATH="))]')" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/image/bin","DOCKER_VAR=docker value","EMPTY_VAR="]' "env: image PATH wins, DOCKER_VAR, EMPTY_VAR= kept"
tap_is "$(cfg "$B" '[.process.cwd, .process.user.uid, .process.user.gid]')" '["/srv",65534,65534]' "cwd /srv, user 65534:65534"
tap_is "$(cfg "$B" '[.mounts[] | select(.type == "none") | [.destination, .source, (.options|join(","))]]')" "[[\"/data\",\"$B/volumes/_data\",\"rbind,rw,nosuid,nodev\"],[\"/var/cache/app\",\"$B/volumes/_var_cache_app\",\"rbind,rw,nosuid,nodev\"]]" "volumes become bind mounts"
tap_ok "$([ -d "$B/volumes/_data" ] && [ -d "$B/volumes/_var_cache_app" ]; echo $?)" "volume directories created"
tap_is "$(cfg "$B" '.annotations["org.opencontainers.image.title"]')" '"busybox-docker"' "labels become annotations"
out=$(run_in "$B" '["/bin/echo","entrypoint:","default","cmd args"]')
tap_is "$out" "entrypoint: default cmd args" "runc runs the entrypoint"
out=$(run_in "$B" '["/bin/sh","-c","id -u; id -g; pwd; echo \"$DOCKER_VAR\"; grep -c \" /data \" /proc/self/mountinfo"]')
tap_is "$(echo $out)" "65534 65534 /srv docker value 1" "the container runs as 65534 in /srv with the image env and /data mounted"
echo volume-data >"$B/volumes/_data/f"
out=$(run_in "$B" '["/bin/cat","/data/f"]')
tap_is "$out" "volume-data" "the volume directory is what the container sees at /data"
tap_run "umount busybox-docker bundle" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$DK"; echo $?)" "docker bundle fully removed"

# ---- named user, plain, two system partitions
NU=$(img named-user)
B=$T/named
tap_run "mount named-user.sif" "$OCI" mount "$NU" "$B"
tap_is "$(cfg "$B" '[.process.user.uid, .process.user.gid, .process.args]')" '[65534,65534,["/bin/id"]]' "User 'nobody' resolved through the image's passwd"
out=$(run_in "$B" '["/bin/id"]')
tap_like "$out" "^uid=65534\(nobody\) gid=65534\(nogroup\)" "runc runs as nobody"
tap_run "umount named-user bundle" "$OCI" umount "$B"

PL=$(img plain)
B=$T/plain
tap_run "mount plain.sif" "$OCI" mount "$PL" "$B"
tap_is "$(cfg "$B" '.process.args')" '["/bin/sh"]' "image without /.singularity.d runs /bin/sh"
tap_run "umount plain bundle" "$OCI" umount "$B"

TS=$(img two-system)
B=$T/two
tap_run "mount two-system.sif" "$OCI" mount "$TS" "$B"
tap_ok "$([ -x "$B/rootfs/bin/busybox" ] && [ ! -e "$B/rootfs/etc/motd" ]; echo $?)" "the primary partition is mounted, not the first one"
tap_run "umount two-system bundle" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$TS"; echo $?)" "two-system bundle fully removed"

# ---- image files read through symlinks (fixture added later: skip if absent)
if [ -e "$FX/symlinks.sif" ]; then
  SL=$(img symlinks)
  B=$T/links
  tap_run "mount symlinks.sif" "$OCI" mount "$SL" "$B"
  tap_is "$(cfg "$B" '[.process.args, .process.user.uid, .process.user.gid]')" '[["/.singularity.d/runscript"],1234,777]' "passwd/group/runscript found through relative, climbing and absolute links"
  out=$(run_in "$B" '["/.singularity.d/runscript"]')
  tap_is "$out" "linked runscript" "the linked runscript runs"
  tap_run "umount symlinks bundle" "$OCI" umount "$B"
  err=$("$OCI" mount "$(img bad-link-loop)" "$T/loop" 2>&1)
  tap_like "$err" "too many levels of symbolic links" "a link loop in the image stops at the hop limit"
else
  tap_diag "no symlinks.sif in $FX (old fixtures): link tests skipped"
fi

# ---- two bundles share one loop device
B1=$T/share1 B2=$T/share2
tap_run "mount busybox.sif into a first bundle" "$OCI" mount "$BB" "$B1"
tap_run "mount busybox.sif into a second bundle" "$OCI" mount "$BB" "$B2"
tap_is "$(loops_of "$BB" | wc -l)" 1 "both bundles share one loop device"
tap_is "$(jq -r '.loop.attached' "$B1/.sifoci-mount.json") $(jq -r '.loop.attached' "$B2/.sifoci-mount.json")" "true false" "the record says who attached it"
tap_run "umount the first" "$OCI" umount "$B1"
tap_ok "$([ -x "$B2/rootfs/bin/busybox" ] && [ "$(loops_of "$BB" | wc -l)" = 1 ]; echo $?)" "the second still works on the shared device"
tap_run "umount the second" "$OCI" umount "$B2"
tap_ok "$(is_gone "$B1" "$BB" && is_gone "$B2" "$BB"; echo $?)" "after both: no loop device, no mounts, no dirs"

# ---- an existing empty bundle dir is used and kept; a non-empty one refused
B=$T/existing
mkdir -m 0750 "$B"
tap_run "mount into an existing empty directory" "$OCI" mount "$PL" "$B"
tap_run "umount it" "$OCI" umount "$B"
tap_ok "$([ -d "$B" ] && [ -z "$(ls -A "$B")" ] && [ "$(mode "$B")" = 750 ]; echo $?)" "a directory that existed before mount is kept, empty, with its mode"
touch "$B/mine"
err=$("$OCI" mount "$PL" "$B" 2>&1); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "non-empty bundle: exit 1, one line"
tap_like "$err" "exists and is not empty" "...saying it is not empty"
tap_ok "$([ "$(ls -A "$B")" = mine ] && [ -z "$(loops_of "$PL")" ]; echo $?)" "...and nothing was touched"
err=$("$OCI" umount "$B" 2>&1); rc=$?
tap_is "$rc" 1 "umount of a directory mount did not make exits 1"
tap_like "$err" "^oci: umount '$B': not made by oci mount" "...saying it was not made by oci mount"
tap_ok "$([ -e "$B/mine" ]; echo $?)" "...and leaves it alone"
mkdir -m 0777 "$T/open"
err=$("$OCI" mount "$PL" "$T/open" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && [ -z "$(ls -A "$T/open")" ] && [ -z "$(loops_of "$PL")" ]; echo $?)" "a world-writable existing bundle dir is refused"
tap_like "$err" "writable by group or others" "...saying why"
err=$("$OCI" mount "$PL" "$T/bad,name" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && [ ! -e "$T/bad,name" ]; echo $?)" "bundle path with ',' refused before anything is made"
tap_like "$err" "overlayfs options" "...saying why"

# ---- a container still running from the bundle
B=$T/busy
"$OCI" mount "$PL" "$B"
jq '.process.terminal = false | .process.args = ["/bin/sleep","30"]' "$B/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$B/config.json"
(cd "$B" && runc --root "$RUNC_ROOT" run -d "sifoci-mount-$$-busy" </dev/null >/dev/null 2>&1)
err=$("$OCI" umount "$B" 2>&1); rc=$?
tap_is "$rc" 1 "umount with a running container fails"
tap_like "$err" "still mounted in another mount namespace .* container" "...naming the reason"
tap_ok "$([ -n "$(mountinfo_line "$B/rootfs")" ] && [ -d "$B/overlay/upper" ]; echo $?)" "...and leaves the bundle intact"
runc --root "$RUNC_ROOT" delete -f "sifoci-mount-$$-busy" >/dev/null 2>&1
tap_run "umount after the container is gone" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$PL"; echo $?)" "busy bundle removed once free"

# ---- crash recovery: records that name more than exists
B=$T/crash
"$OCI" mount "$BB" "$B"
umount "$B/rootfs"
jq '.state = "mounting"' "$B/.sifoci-mount.json" >"$T/rec.tmp" && cat "$T/rec.tmp" >"$B/.sifoci-mount.json"
tap_run "umount after a crash before the overlay mount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$BB"; echo $?)" "...removes everything"
mkdir -m 0700 "$B"
printf '{"format":"sifoci-mount","version":1,"state":"mounting","bundle":"%s","bundleCreated":true,"image":{"path":"%s","dev":1,"ino":1,"offset":0,"size":0},"mounts":[],"created":["rootfs",".image","overlay","overlay/upper","overlay/work","volumes","config.json"]}' "$B" "$BB" >"$B/.sifoci-mount.json"
chmod 0600 "$B/.sifoci-mount.json"
mkdir "$B/rootfs"
tap_run "umount after a crash right after the record was written" "$OCI" umount "$B"
tap_ok "$([ ! -e "$B" ]; echo $?)" "...removes the bundle"
mkdir -m 0700 "$B"
printf '{"format":"sifoci-mount","version":1,"state":"mounted","bundle":"/x","bundleCreated":false,"image":{"path":"/x","dev":1,"ino":1,"offset":0,"size":0},"mounts":[],"created":["../../etc"]}' >"$B/.sifoci-mount.json"
chmod 0600 "$B/.sifoci-mount.json"
err=$("$OCI" umount "$B" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && [ -e "$B/.sifoci-mount.json" ]; echo $?)" "a record naming paths outside the bundle is refused"
tap_like "$err" "damaged" "...as damaged"
rm -rf "$B"

# a crash between LOOP_SET_FD and LOOP_SET_STATUS64 (kernels without
# LOOP_CONFIGURE) leaves a bound device without autoclear: umount detaches
# it when the record says we attached it, and only then
loop_record() { # loop_record BUNDLE DEVICE ATTACHED
  local maj min
  maj=$((0x$(stat -c %t "$2"))) min=$((0x$(stat -c %T "$2")))
  printf '{"format":"sifoci-mount","version":1,"state":"mounting","bundle":"%s","bundleCreated":true,"image":{"path":"%s","dev":%s,"ino":%s,"offset":32768,"size":1044480},"loop":{"device":"%s","major":%s,"minor":%s,"attached":%s},"mounts":[],"created":[]}' \
    "$1" "$PL" "$(stat -c %d "$PL")" "$(stat -c %i "$PL")" "$2" "$maj" "$min" "$3" >"$1/.sifoci-mount.json"
  chmod 0600 "$1/.sifoci-mount.json"
}
mkdir -m 0700 "$B"
dev=$(losetup -r -o 32768 --sizelimit 1044480 -f --show "$PL")
loop_record "$B" "$dev" false
tap_run "umount with a record of a reused loop device" "$OCI" umount "$B"
tap_is "$(loops_of "$PL" | wc -l)" 1 "...leaves a device it did not attach alone"
mkdir -m 0700 "$B"
loop_record "$B" "$dev" true
tap_run "umount with a record of an attached device that lost autoclear" "$OCI" umount "$B"
tap_is "$(loops_of "$PL")" "" "...detaches it"
tap_ok "$([ ! -e "$B" ]; echo $?)" "...and removes the bundle"

# ---- failures half way are undone (a tmpfs that runs out of inodes)
B=$T/small/b
mkdir "$T/small"
seen_overlay=0 all_clean=0
for n in $(seq 4 20); do
  mount -t tmpfs -o "nr_inodes=$n,mode=0755" tmpfs "$T/small"
  if err=$("$OCI" mount "$DK" "$B" 2>&1); then
    "$OCI" umount "$B" >/dev/null 2>&1
  else
    case $err in *"mounting the overlay"*) seen_overlay=1 ;; esac
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && is_gone "$B" "$DK" || { all_clean=1; tap_diag "n=$n left something: $err"; }
  fi
  umount "$T/small"
done
tap_is "$seen_overlay" 1 "a failure after the squashfs mount was provoked"
tap_is "$all_clean" 0 "every failed mount undid all its steps and printed one line"

# ---- bad images: exit 1, one line naming the file, nothing left behind
bads=""
for f in "$FX"/bad-*.sif; do bads="$bads $(img "$(basename "$f" .sif)")"; done
if [ -d "${SIFOCI_SHARED:-/nonexistent}/testdata/sif" ]; then
  for i in truncated badmagic badversion header-only descriptor-overflow descriptor-int64-overflow descriptors-beyond-eof deffile-only no-partition; do
    bads="$bads $(img "$i" "$SIFOCI_SHARED/testdata/sif" shared-)"
  done
fi
for f in $bads; do
  name=$(basename "$f")
  B=$T/bad-bundle
  err=$("$OCI" mount "$f" "$B" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$name: exit 1, one line on stderr"
  tap_like "$err" "^oci: mount '$f': " "$name: the error names the file"
  tap_ok "$(is_gone "$B" "$f"; echo $?)" "$name: no bundle dir, mount or loop device left"
done
err=$("$OCI" mount "$(img bad-sqfs-size)" "$T/x" 2>&1)
tap_like "$err" "squashfs in partition 2 claims [0-9]+ bytes but the partition holds 1044480" "superblock size checked against the partition"

# ---- the shared reference images
if [ -d "${SIFOCI_SHARED:-/nonexistent}/testdata/sif" ]; then
  for i in busybox busybox-docker two-system ext3-overlay busybox-oci; do
    f=$(img "$i" "$SIFOCI_SHARED/testdata/sif" shared-)
    B=$T/shared-$i
    tap_run "shared $i.sif mounts" "$OCI" mount "$f" "$B"
    case $i in
      busybox-docker | busybox-oci)
        want='DOCKER_VAR=docker value'
        [ "$i" = busybox-oci ] && want='OCI_VAR=oci value'
        tap_is "$(cfg "$B" '[.process.args, (.process.env|map(select(startswith("DOCKER_VAR=") or startswith("OCI_VAR=")))), .process.cwd, .process.user.uid]')" "[[\"/bin/echo\",\"entrypoint:\",\"default\",\"cmd args\"],[\"$want\"],\"/srv\",65534]" "shared $i.sif: args, env, cwd, user"
        out=$(run_in "$B" "$(cfg "$B" .process.args)")
        tap_is "$out" "entrypoint: default cmd args" "shared $i.sif runs its entrypoint"
        ;;
      busybox | two-system)
        tap_ok "$([ -x "$B/rootfs/bin/busybox" ]; echo $?)" "shared $i.sif: busybox in rootfs"
        out=$(run_in "$B" '["/.singularity.d/actions/run"]')
        tap_like "$out" "hello from busybox.sif" "shared $i.sif runs its runscript"
        ;;
      *) tap_ok "$([ -d "$B/rootfs/.singularity.d" ]; echo $?)" "shared $i.sif: the squashfs primary is mounted" ;;
    esac
    tap_run "shared $i.sif umounts" "$OCI" umount "$B"
    tap_ok "$(is_gone "$B" "$f"; echo $?)" "shared $i.sif: nothing left"
  done
fi

# ---- a mount killed between making its temporary directory and renaming
# it into place leaves PARENT/.NAME.sifoci-new-PID (with at most its first
# record): the next mount or umount of NAME sweeps it; a live creator's is
# left alone
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p "$T/sweep"
for left in ".b.sifoci-new-$dead" ".b.sifoci-new-$$"; do
  mkdir "$T/sweep/$left" && echo '{}' >"$T/sweep/$left/.sifoci-mount.json"
done
tap_run "mount over a dead mount's leftover" "$OCI" mount "$PL" "$T/sweep/b"
tap_ok "$([ ! -e "$T/sweep/.b.sifoci-new-$dead" ]; echo $?)" "mount sweeps what a killed mount of the same name left"
tap_ok "$([ -e "$T/sweep/.b.sifoci-new-$$" ]; echo $?)" "... but not what a live process is making"
mkdir "$T/sweep/.b.sifoci-new-$dead"
tap_run "umount" "$OCI" umount "$T/sweep/b"
tap_ok "$([ ! -e "$T/sweep/.b.sifoci-new-$dead" ]; echo $?)" "umount sweeps it too"
rm -rf --one-file-system "$T/sweep/.b.sifoci-new-$$"
rmdir "$T/sweep"

# ---- usage and privileges
"$OCI" mount "$PL" >/dev/null 2>&1; tap_is "$?" 2 "mount with one argument is a usage error"
"$OCI" umount >/dev/null 2>&1; tap_is "$?" 2 "umount without argument is a usage error"
# (rootless mounts themselves: tests/integration/rootless)
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$OCI" mount --method kernel "$PL" "$T/nonroot" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && [ ! -e "$T/nonroot" ]; echo $?)" "non-root --method kernel fails and makes nothing"
tap_like "$err" "--method kernel needs root" "...saying it needs root"
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$OCI" mount "$PL" "$T/nonroot" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && [ ! -e "$T/nonroot" ]; echo $?)" "non-root mount into a directory it cannot write fails and makes nothing"
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$OCI" umount "$T" 2>&1); rc=$?
tap_ok "$([ $rc = 1 ]; echo $?)" "non-root umount of a directory mount did not make fails"
tap_like "$err" "not made by oci mount" "...saying so"

# ---- nothing left on the machine by this test
tap_is "$(mounts_under "$T")" "" "no mounts left under the test dir"
left=""
for f in "$IMG"/*.sif; do left="$left$(loops_of "$f")"; done
tap_is "$left" "" "no loop devices left on the test images"
tap_done
