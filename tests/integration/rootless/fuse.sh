#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci mount --method fuse as a real unprivileged user made here (useradd,
# a subordinate range, /run/user/UID): real squashfuse_ll, fuse-overlayfs
# and fusermount3.  /dev/fuse is 0600 on some hosts (stock Debian: 0666):
# the test sets 0666 and puts back the mode it found; /etc/fuse.conf gets
# user_allow_other for the part that needs it and is put back too.
#   - what is missing (/dev/fuse closed, no squashfuse, fuse-overlayfs or
#     fusermount3): one line naming it and its package, nothing left
#   - the lifecycle core on a fuse bundle: run with exit codes, a PTY run,
#     create/start/attach/detach, exec, kill, delete, logs
#   - ownership inside as in the image; User 65534 with and without
#     allow_other
#   - umount after kill -9 of either daemon; after a killed oci mount
#   - afterwards no FUSE mount, daemon, process or state of the user
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd useradd userdel setpriv jq python3 newuidmap newgidmap runc unshare \
  squashfuse_ll fuse-overlayfs fusermount3
[ -c /dev/fuse ] || tap_skip_all "no /dev/fuse"
PTY_DRIVE="$SIFOCI_TESTS/integration/lifecycle/pty-drive.py"
FIX=$(fixtures_dir) || tap_skip_all "no fixtures"

T=$(mktemp -d /tmp/sifoci-rlfuse.XXXXXX)
chmod 755 "$T"
UA=sffu$$
MAIN_PID=$BASHPID
FUSE_MODE=$(stat -c %a /dev/fuse)
cp -p /etc/fuse.conf "$T/fuse.conf.orig" 2>/dev/null || : >"$T/fuse.conf.none"

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  chmod "$FUSE_MODE" /dev/fuse
  if [ -e "$T/fuse.conf.orig" ]; then cat "$T/fuse.conf.orig" >/etc/fuse.conf; fi
  test_user_oci_undo "$UA" "$HA"
  test_user_remove "$UA" "$HA"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# as USER CMD...: CMD as USER; with AS_EXEC=1 in place of the shell
as() { test_user_as "$@"; }

HA=/home/$UA-fu
test_user_add "$UA" "$HA" --make-home --run-dir --subids || tap_skip_all "useradd failed"
UIDA=$(id -u "$UA")
cp "$FIX/busybox.sif" "$FIX/busybox-docker.sif" "$T/"
chmod 644 "$T"/*.sif
as "$UA" test -x "$OCI" || tap_skip_all "'$OCI' is not reachable for an ordinary user"

# no_trace: nothing of a failed mount is left (no bundle, no mount, no daemon)
no_trace() {
  [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && ! pgrep -f -- "$1/" >/dev/null
}
# one_line_like OUT REGEX DESC: OUT is one line matching REGEX
one_line_like() {
  tap_like "$1" "$2" "$3"
  tap_is "$(printf '%s\n' "$1" | wc -l)" 1 "... in one line"
}
record_pid() { jq -r ".mounts[] | select(.target == \"$2\") | .pid" "$1/.sifoci-mount.json"; }
set_args() {
  local b=$1 term=$2 args
  shift 2
  args=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
  as "$UA" bash -c 'jq --argjson t "$1" --argjson a "$2" ".process.args = \$a | .process.terminal = \$t" \
      "$3/config.json" >"$3/c.tmp" && mv "$3/c.tmp" "$3/config.json"' bash "$term" "$args" "$b"
}

# ---- what is missing: one line, nothing made
chmod 0600 /dev/fuse
out=$(as "$UA" "$OCI" mount --method fuse "$T/busybox.sif" "$HA/e" 2>&1)
one_line_like "$out" "/dev/fuse is not open to this user" "/dev/fuse 0600: says so"
tap_ok "$(no_trace "$HA/e"; echo $?)" "... and leaves nothing"
out=$(as "$UA" "$OCI" mount "$T/busybox.sif" "$HA/e" 2>&1)
tap_is "$(jq -r .method "$HA/e/.sifoci-mount.json" 2>&1)" extract "auto without a usable /dev/fuse: extract"
as "$UA" "$OCI" umount "$HA/e" >/dev/null 2>&1
chmod 0666 /dev/fuse

# a tool made unusable in a private mount namespace (an empty file over it)
: >"$T/not-a-tool"
without() { # without TOOL... -- CMD: CMD as the user, those tools gone
  local binds=""
  while [ "$1" != -- ]; do
    binds+="mount --bind $T/not-a-tool /usr/bin/$1 && "
    shift
  done
  shift
  unshare -m bash -c "mount --make-rprivate / && $binds \"\$@\"" bash "$@"
}
# bound over : named in the message : its package
for tool in "squashfuse_ll squashfuse:squashfuse:squashfuse" "fuse-overlayfs:fuse-overlayfs:fuse-overlayfs" \
  "fusermount3:fusermount3:fuse3"; do
  IFS=: read -r names name pkg <<<"$tool"
  out=$(without $names -- setpriv --reuid="$UIDA" --regid="$(id -g "$UA")" --init-groups \
    env HOME="$HA" XDG_RUNTIME_DIR="/run/user/$UIDA" "$OCI" mount --method fuse "$T/busybox.sif" "$HA/e" 2>&1)
  one_line_like "$out" "--method fuse: no $name .*apt-get install $pkg\)$" "no $name: names it and its package"
  tap_ok "$(no_trace "$HA/e"; echo $?)" "... and leaves nothing"
done
out=$(without squashfuse_ll squashfuse fuse-overlayfs -- setpriv --reuid="$UIDA" --regid="$(id -g "$UA")" \
  --init-groups env HOME="$HA" "$OCI" mount "$T/busybox.sif" "$HA/e" 2>&1)
tap_is "$(jq -r .method "$HA/e/.sifoci-mount.json" 2>&1)" extract "auto without the FUSE tools: extract"
as "$UA" "$OCI" umount "$HA/e" >/dev/null 2>&1

# ---- mount: both FUSE mounts, visible outside any namespace
B=$HA/b
out=$(as "$UA" "$OCI" mount --method fuse "$T/busybox.sif" "$B" 2>&1)
tap_is "$?" 0 "mount --method fuse as $UA"
tap_like "$out" "note: no user_allow_other in /etc/fuse.conf" "without user_allow_other: a one-line note"
tap_like "$(awk -v p="$B/.image" '$5 == p' /proc/self/mountinfo)" "ro,nosuid,nodev.* - fuse.squashfuse_ll .*user_id=$UIDA" \
  ".image: squashfuse_ll, ro, nosuid, nodev, the user's"
tap_like "$(awk -v p="$B/rootfs" '$5 == p' /proc/self/mountinfo)" "nosuid,nodev.* - fuse.fuse-overlayfs .*user_id=$UIDA" \
  "rootfs: fuse-overlayfs, nosuid, nodev, the user's"
tap_is "$(jq -c '[.method, [.mounts[].type], ([.mounts[].pid] | map(. > 1) | all)]' "$B/.sifoci-mount.json")" \
  '["fuse",["fuse.squashfuse_ll","fuse.fuse-overlayfs"],true]' "the record: method, both mounts, their daemons"
tap_is "$(as "$UA" stat -c '%u:%g %a' "$B/rootfs" "$B/rootfs/etc/passwd" | tr '\n' ' ')" "$UIDA:$(id -g "$UA") 755 $UIDA:$(id -g "$UA") 644 " \
  "outside: the image's root files are the user's (its container root)"

# ---- the lifecycle core
out=$(as "$UA" "$OCI" run -b "$B" f1 </dev/null 2>&1)
tap_like "$out" 'hello from the runscript' "run: the runscript's output"
set_args "$B" false sh -c 'echo out; echo err >&2; stat -c "%u:%g %a" / /etc/passwd; echo w >/written; exit 7'
out=$(as "$UA" "$OCI" run -b "$B" f1 </dev/null 2>&1)
tap_is "$?" 7 "run: the container's exit code (7)"
tap_like "$out" '^out' "run: its stdout"
tap_like "$out" 'err' "run: its stderr"
tap_is "$(printf '%s\n' "$out" | grep -c '^0:0 755$\|^0:0 644$')" 2 "inside: / and /etc/passwd are 0:0 as in the image"
tap_is "$(cat "$B/overlay/upper/written" 2>&1)" w "a write lands in overlay/upper"
set_args "$B" true sh
tap_run "PTY run: tty, exit 5" as "$UA" python3 "$PTY_DRIVE" --timeout 20 \
  'send=tty\n' 'expect=/dev/pts/' 'send=exit 5\n' 'exit=5' -- "$OCI" run -b "$B" f2
tap_run "create" as "$UA" "$OCI" create -b "$B" f3
tap_run "start" as "$UA" "$OCI" start f3
tap_is "$(as "$UA" "$OCI" state f3 | jq -r .status)" running "state: running"
tap_run "attach, type, detach (ctrl-p ctrl-q)" as "$UA" python3 "$PTY_DRIVE" --timeout 20 \
  'send=echo hi-$((6*7))\n' 'expect=hi-42' 'send=\x10\x11' 'expect=detached' 'exit=0' -- "$OCI" attach f3
as "$UA" "$OCI" exec f3 sh -c 'exit 3'
tap_is "$?" 3 "exec: the command's status"
tap_is "$(as "$UA" "$OCI" exec f3 cat /written)" w "exec: sees the bundle's writes"
tap_fails "umount refuses a bundle a container runs from" as "$UA" "$OCI" umount "$B"
tap_like "$(as "$UA" "$OCI" umount "$B" 2>&1)" "f3' uses it|another mount namespace|busy" "... saying why"
tap_ok "$(awk -v p="$B/rootfs" '$5 == p' /proc/self/mountinfo | grep -q .; echo $?)" "... and the mounts stay"
tap_run "kill" as "$UA" "$OCI" kill -t 1 f3
tap_like "$(as "$UA" "$OCI" state f3 | jq -r .status)" stopped "state: stopped"
tap_like "$(as "$UA" "$OCI" logs f3)" 'hi-42' "logs hold the session"
tap_run "delete" as "$UA" "$OCI" delete f3
tap_is "$(as "$UA" "$OCI" list -q)" "" "list: empty"
ovl=$(record_pid "$B" rootfs) sq=$(record_pid "$B" .image)
tap_run "umount" as "$UA" "$OCI" umount "$B"
tap_ok "$(no_trace "$B"; echo $?)" "umount: no bundle, no mount left"
tap_is "$(ps -o stat= -p "$ovl,$sq" | grep -cv Z)" 0 "... both daemons exited"

# ---- User 65534: allow_other needed
out=$(as "$UA" "$OCI" mount --method fuse "$T/busybox-docker.sif" "$HA/d" 2>&1)
one_line_like "$out" "runs as 65534:65534.*user_allow_other" "User 65534 without user_allow_other: refused, saying why"
tap_ok "$(no_trace "$HA/d"; echo $?)" "... and leaves nothing"
out=$(as "$UA" "$OCI" mount "$T/busybox-docker.sif" "$HA/d" 2>&1)
tap_is "$(jq -r .method "$HA/d/.sifoci-mount.json" 2>&1)" extract "auto for it: extract"
as "$UA" "$OCI" umount "$HA/d" >/dev/null 2>&1
echo user_allow_other >>/etc/fuse.conf
tap_run "with user_allow_other: mount --method fuse" as "$UA" "$OCI" mount --method fuse "$T/busybox-docker.sif" "$HA/d"
tap_like "$(awk -v p="$HA/d/rootfs" '$5 == p' /proc/self/mountinfo)" "allow_other" "... the overlay has allow_other"
set_args "$HA/d" false sh -c 'id -u; touch /tmp/x; stat -c "%u:%g" /tmp/x /etc/passwd; rm /etc/group; exit 4'
out=$(as "$UA" "$OCI" run -b "$HA/d" f4 </dev/null 2>&1)
tap_is "$?" 4 "User 65534: exit code"
tap_like "$out" '^65534' "User 65534 runs as 65534 inside"
tap_is "$(printf '%s\n' "$out" | grep -c '^65534:65534$\|^0:0$')" 2 "... its file is 65534's, /etc/passwd root's"
tap_like "$out" "can't remove '/etc/group': Permission denied" "... and root's files are not its to delete"
tap_run "umount it" as "$UA" "$OCI" umount "$HA/d"
cat "$T/fuse.conf.orig" >/etc/fuse.conf 2>/dev/null

# ---- --overlay DIR as the user: fuse-overlayfs keeps the container's
# writes (and their owners, in its xattrs) in DIR/upper across mounts; an
# image-file overlay is refused in one line
OVD=$HA/.ovl
as "$UA" mkdir -p "$OVD" "$HA/.ovl-ro/srv"
as "$UA" sh -c "echo layer >'$HA/.ovl-ro/srv/ro.txt'"
for cycle in 1 2; do
  tap_run "mount --method fuse --overlay DIR --overlay DIR:ro as $UA (cycle $cycle)" \
    as "$UA" "$OCI" mount --quiet --method fuse --overlay "$OVD" --overlay "$HA/.ovl-ro:ro" "$T/busybox.sif" "$B"
  set_args "$B" false sh -c 'cat /srv/ro.txt /srv/kept.txt 2>/dev/null; echo c >>/srv/kept.txt; stat -c "%u:%g" /srv/kept.txt'
  out=$(as "$UA" "$OCI" run -b "$B" fo$cycle </dev/null 2>&1)
  tap_is "$out" "layer$([ $cycle = 2 ] && printf '\nc')
0:0" "cycle $cycle: the read-only layer, the earlier cycle's write, the owner inside"
  tap_run "... umount" as "$UA" "$OCI" umount "$B"
  tap_ok "$(no_trace "$B"; echo $?)" "... nothing left"
done
tap_is "$(cat "$OVD/upper/srv/kept.txt" 2>&1 | tr '\n' ' ')" "c c " "both writes are in DIR/upper"
truncate -s 16M "$T/ovl.img" && mkfs.ext3 -q -F "$T/ovl.img" >/dev/null 2>&1 && chmod 644 "$T/ovl.img"
out=$(as "$UA" "$OCI" mount --method fuse --overlay "$T/ovl.img" "$T/busybox.sif" "$B" 2>&1)
one_line_like "$out" "an ext3 image file needs --method kernel \(root\); without root it would take fuse2fs" \
  "--overlay EXT3-FILE as $UA: refused"
tap_ok "$(no_trace "$B"; echo $?)" "... nothing left"
rm -rf --one-file-system "$OVD" "$HA/.ovl-ro"

# ---- a daemon killed: the dead mount gives ENOTCONN, umount takes it down
for which in rootfs .image; do
  as "$UA" "$OCI" mount --quiet --method fuse "$T/busybox.sif" "$B" >/dev/null 2>&1
  pid=$(record_pid "$B" "$which")
  kill -KILL "$pid"
  for _ in $(seq 50); do [ -z "$(ps -o stat= -p "$pid" | grep -v Z)" ] && break; sleep 0.1; done
  tap_like "$(as "$UA" stat "$B/$which/" 2>&1)" "Transport endpoint is not connected" "kill -9 of the $which daemon: ENOTCONN"
  tap_run "... umount" as "$UA" "$OCI" umount "$B"
  tap_ok "$(no_trace "$B"; echo $?)" "... nothing left"
done

# ---- oci mount killed at points along the way: umount finishes it
bad=0
for delay in 0.02 0.08 0.15 0.3; do
  # the background job is oci itself, so that the kill hits it
  (AS_EXEC=1 as "$UA" "$OCI" mount --quiet --method fuse "$T/busybox.sif" "$HA/k" >/dev/null 2>&1) &
  sleep "$delay"
  kill -KILL $! 2>/dev/null
  wait $! 2>/dev/null
  rec=$(cat "$HA/k/.sifoci-mount.json" 2>/dev/null | jq -c .mounts)
  if [ -e "$HA/k" ]; then
    out=$(as "$UA" "$OCI" umount "$HA/k" 2>&1) || { bad=1; tap_diag "umount after a kill at $delay s: $out"; }
  fi
  for _ in $(seq 50); do no_trace "$HA/k" && break; sleep 0.1; done
  no_trace "$HA/k" || { bad=1; tap_diag "left after a kill at $delay s: $(mounts_under "$HA/k") (record: $rec)"; }
done
tap_ok $bad "mount killed at 4 points: umount (or nothing) leaves no bundle, mount or daemon"

# ---- nothing left
tap_is "$(grep -c " $HA/" /proc/self/mountinfo)" 0 "no FUSE mount of the user left"
live_of() { local n=0 p; for p in $(pgrep -U "$1"); do
  awk '{exit ($3 == "Z") ? 1 : 0}' "/proc/$p/stat" 2>/dev/null && { n=$((n + 1)); ps -o pid=,args= -p "$p" >&2; }
done; echo $n; }
for _ in $(seq 50); do [ "$(live_of "$UIDA" 2>/dev/null)" = 0 ] && break; sleep 0.2; done
tap_is "$(live_of "$UIDA")" 0 "no process of $UA left (squashfuse, fuse-overlayfs or other)"
tap_is "$(ls -A "/run/user/$UIDA/sifoci" 2>/dev/null)" "" "no container state left"
tap_is "$(ls -A "$HA" | grep -cv '^\.')" 0 "no bundle directory left"
tap_done
