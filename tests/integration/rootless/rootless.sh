#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Rootless: two real unprivileged users made here (useradd, subordinate
# ranges for the first only, /run/user/UID 0700), commands run as them with
# setpriv and XDG_RUNTIME_DIR set.  The README's "done when": oci mount +
# oci run with the output and exit code, native and Docker-derived
# (User 65534) images; the detached cycle; a PTY run; the second user can
# reach nothing of the first's; umount leaves nothing.  Then odd hosts:
# XDG_RUNTIME_DIR someone else's, unset, or its sifoci a symlink; newuidmap
# missing; no subordinate ranges; disk full while
# extracting, an image owner outside the mapping.  The bundles here are
# extracted (--method extract): auto takes fuse where /dev/fuse is open to
# users (fuse.sh tests that method).  Everything made here
# (users, ranges, /run/user dirs, processes, mounts) goes at the end.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd useradd userdel setpriv jq python3 newuidmap newgidmap runc mksquashfs siftool
PTY_DRIVE="$SIFOCI_TESTS/integration/lifecycle/pty-drive.py"
FIX=$(fixtures_dir) || tap_skip_all "no fixtures"

T=$(mktemp -d /tmp/sifoci-rl.XXXXXX)
chmod 755 "$T"
UA=sfrl$$a UB=sfrl$$b
MAIN_PID=$BASHPID

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local u uid id
  for u in "$UA" "$UB"; do
    uid=$(id -u "$u" 2>/dev/null) || continue
    for id in $(ls "/run/user/$uid/sifoci" 2>/dev/null); do
      as "$u" "$OCI" delete -f "$id" >/dev/null 2>&1
    done
    for b in /home/"$u"-rl/*; do
      [ -e "$b/.sifoci-mount.json" ] && as "$u" "$OCI" umount "$b" >/dev/null 2>&1
    done
    test_user_kill "$u"
  done
  mountpoint -q "$T/small" && umount "$T/small"
  for u in "$UA" "$UB"; do test_user_remove "$u" "/home/$u-rl"; done
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# as USER CMD...: CMD as USER (AS_XDG: another XDG_RUNTIME_DIR)
as() { test_user_as "$@"; }

# a subordinate range for the first only
test_user_add "$UA" "/home/$UA-rl" --make-home --run-dir --subids || tap_skip_all "useradd failed"
test_user_add "$UB" "/home/$UB-rl" --make-home --run-dir || tap_skip_all "useradd failed"
SUB_START=$(test_user_subid_start "$UA")
UIDA=$(id -u "$UA") UIDB=$(id -u "$UB")
HA=/home/$UA-rl HB=/home/$UB-rl
cp "$FIX/busybox.sif" "$FIX/busybox-docker.sif" "$T/"
chmod 644 "$T"/*.sif
as "$UA" test -x "$OCI" || tap_skip_all "'$OCI' is not reachable for an ordinary user"

# set_args USER BUNDLE TERMINAL ARG...: the bundle's process args
set_args() {
  local u=$1 b=$2 term=$3 args
  shift 3
  # not jq --args: jq 1.6 takes a "-c" among them for its own option
  args=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
  as "$u" bash -c 'jq --argjson t "$1" --argjson a "$2" ".process.args = \$a | .process.terminal = \$t" \
      "$3/config.json" >"$3/c.tmp" && mv "$3/c.tmp" "$3/config.json"' bash "$term" "$args" "$b"
}

# --- the README's example: mount + run, output and exit code
out=$(as "$UA" bash -c "cd && '$OCI' mount --method extract '$T/busybox.sif' ~/b && '$OCI' run -b ~/b c1 </dev/null; echo rc=\$?" 2>&1)
tap_like "$out" 'hello from the runscript' "native image: oci run prints the runscript's output as $UA"
tap_like "$out" 'rc=0$' "native image: exit status 0"
tap_is "$(stat -c %U "$HA/b/rootfs/bin")" "$UA" "extracted: image root's files belong to the user (the container's root)"
tap_is "$(stat -c %a "$HA/b")" 700 "bundle directory is 0700"
set_args "$UA" "$HA/b" false sh -c 'echo out; echo err >&2; exit 7'
out=$(as "$UA" "$OCI" run -b "$HA/b" c1 </dev/null 2>&1)
tap_is "$?" 7 "native image: the container's exit code (7)"
tap_like "$out" '^out' "native image: its stdout"
tap_like "$out" 'err' "native image: its stderr"
run_gone "/run/user/$UIDA/sifoci/c1"
tap_is "$(ls -A /run/user/$UIDA/sifoci 2>&1)" "" "run removed its state"
tap_is "$(stat -c '%U %a' /run/user/$UIDA/sifoci)" "$UA 700" "state root: \$XDG_RUNTIME_DIR/sifoci, 0700, the user's"

out=$(as "$UA" bash -c "'$OCI' mount --method extract '$T/busybox-docker.sif' ~/d && '$OCI' run -b ~/d c2 </dev/null; echo rc=\$?" 2>&1)
tap_like "$out" 'entrypoint: default cmd args' "Docker-derived image: Entrypoint + Cmd output"
tap_like "$out" 'rc=0$' "Docker-derived image: exit status 0"
set_args "$UA" "$HA/d" false sh -c 'id -u; id -g; touch /tmp/x; exit 4'
out=$(as "$UA" "$OCI" run -b "$HA/d" c2 </dev/null 2>&1)
tap_is "$?" 4 "Docker-derived image, User 65534: exit code"
tap_is "$(echo "$out" | head -2 | tr '\n' ' ')" "65534 65534 " "User 65534:65534 runs as 65534 inside (a subordinate ID outside)"
tap_is "$(stat -c %u "$HA/d/rootfs/tmp/x")" $((SUB_START + 65533)) "its file is owned by subordinate ID 65534 on disk"

# --- the detached cycle
set_args "$UA" "$HA/b" true sh
tap_run "create" as "$UA" "$OCI" create -b "$HA/b" c3
tap_run "start" as "$UA" "$OCI" start c3
tap_is "$(as "$UA" "$OCI" state c3 | jq -r .status)" running "state: running"
tap_like "$(as "$UA" "$OCI" list -q)" '^c3$' "list shows it"
tap_run "attach, type, detach (ctrl-p ctrl-q)" as "$UA" python3 "$PTY_DRIVE" --timeout 20 \
  'send=echo hi-$((6*7))\n' 'expect=hi-42' 'send=\x10\x11' 'expect=detached' 'exit=0' -- "$OCI" attach c3
as "$UA" "$OCI" exec c3 sh -c 'exit 3'
tap_is "$?" 3 "exec: the command's status"
tap_is "$(as "$UA" "$OCI" exec c3 id -u)" 0 "exec: root in the container"
# pause needs the container's cgroup: where none is delegated, a clear no
if out=$(as "$UA" "$OCI" pause c3 2>&1); then
  tap_is "$(as "$UA" "$OCI" state c3 | jq -r .status)" paused "pause (delegated cgroup): paused"
  tap_run "resume" as "$UA" "$OCI" resume c3
else
  tap_like "$out" "needs the container's cgroup" "pause without a delegated cgroup: says why"
  tap_is "$(echo "$out" | wc -l)" 1 "... in one line"
fi

# --- the second user
tap_fails "$UB cannot list $UA's containers" as "$UB" "$OCI" --root "/run/user/$UIDA/sifoci" list
tap_is "$(as "$UB" "$OCI" list -q 2>&1)" "" "$UB's own list is empty"
tap_fails "$UB cannot attach to $UA's container" as "$UB" "$OCI" --root "/run/user/$UIDA/sifoci" attach --no-stdin c3
tap_fails "$UB cannot delete it" as "$UB" "$OCI" --root "/run/user/$UIDA/sifoci" delete -f c3
tap_fails "$UB cannot read its log" as "$UB" "$OCI" --root "/run/user/$UIDA/sifoci" logs c3
tap_fails "$UB cannot umount $UA's bundle" as "$UB" "$OCI" umount "$HA/b"
tap_is "$(as "$UA" "$OCI" state c3 | jq -r .status)" running "$UA's container still runs"
tap_is "$("$OCI" list -q 2>&1 | grep -cx c3)" 0 "root's list (/run/sifoci) does not show it"

tap_fails "umount refuses a bundle a container runs from" as "$UA" "$OCI" umount "$HA/b"
tap_run "kill" as "$UA" "$OCI" kill -t 1 c3
tap_like "$(as "$UA" "$OCI" state c3 | jq -c '{status, exitCode}')" '"stopped"' "state: stopped"
tap_like "$(as "$UA" "$OCI" logs c3)" 'hi-42' "logs hold the session"
tap_run "delete" as "$UA" "$OCI" delete c3
tap_is "$(as "$UA" "$OCI" list -q)" "" "list: empty"

# --- a PTY run
tap_run "PTY run: tty, exit 5" as "$UA" python3 "$PTY_DRIVE" --timeout 20 \
  'send=tty\n' 'expect=/dev/pts/' 'send=exit 5\n' 'exit=5' -- "$OCI" run -b "$HA/b" c4

# --- umount leaves nothing
tap_run "umount the native bundle" as "$UA" "$OCI" umount "$HA/b"
tap_run "umount the Docker bundle (files of subordinate IDs)" as "$UA" "$OCI" umount "$HA/d"
tap_is "$(ls -A "$HA" | grep -c '^[bd]$')" 0 "no bundle directory left"
tap_is "$(grep -c " $HA/" /proc/self/mountinfo)" 0 "no mount left"
# live processes only, waited for: this host's init reaps orphans late, and
# a zombie for a moment is no leak
live_of() { local n=0 p; for p in $(pgrep -U "$1"); do
  awk '{exit ($3 == "Z") ? 1 : 0}' "/proc/$p/stat" 2>/dev/null && { n=$((n + 1)); ps -o pid=,args= -p "$p" >&2; }
done; echo $n; }
for i in $(seq 50); do [ "$(live_of "$UIDA" 2>/dev/null)" = 0 ] && break; sleep 0.2; done
tap_is "$(live_of "$UIDA")" 0 "no process of $UA left"
tap_is "$(pgrep -U "$SUB_START" | wc -l)" 0 "no process of its subordinate IDs left"

# --- odd hosts
as "$UA" "$OCI" mount --method extract "$T/busybox.sif" "$HA/b" >/dev/null 2>&1
out=$(AS_XDG=/run/user/$UIDB as "$UA" "$OCI" create -b "$HA/b" c5 2>&1)
tap_like "$out" "not by you" "XDG_RUNTIME_DIR someone else's: one clear line"
tap_is "$(echo "$out" | wc -l)" 1 "... exactly one line"
out=$(as "$UA" "$OCI" --root "$T" create -b "$HA/b" c5 2>&1)
tap_like "$out" "state root '$T' is owned by uid 0" "a state root someone else owns: refused"
# XDG_RUNTIME_DIR unset: the fallback /tmp/sifoci-UID, made 0700 and the user's
rm -rf --one-file-system "/tmp/sifoci-$UIDA"
out=$(as "$UA" env -u XDG_RUNTIME_DIR "$OCI" create -b "$HA/b" c5x 2>&1)
tap_is "$(stat -c '%U %a' "/tmp/sifoci-$UIDA" 2>&1)" "$UA 700" "XDG_RUNTIME_DIR unset: state in /tmp/sifoci-UID, 0700, the user's ($out)"
tap_like "$(as "$UA" env -u XDG_RUNTIME_DIR "$OCI" list -q 2>&1)" '^c5x$' "... and list finds the container there"
as "$UA" env -u XDG_RUNTIME_DIR "$OCI" delete -f c5x >/dev/null 2>&1
tap_run "... delete leaves an empty state root" rmdir "/tmp/sifoci-$UIDA"
# XDG_RUNTIME_DIR/sifoci a symbolic link (to a directory of the user's): refused
install -d -m 0700 -o "$UA" -g "$UA" "$T/xdg-a" "$T/xdg-a-target"
ln -s "$T/xdg-a-target" "$T/xdg-a/sifoci"
out=$(AS_XDG=$T/xdg-a as "$UA" "$OCI" create -b "$HA/b" c5y 2>&1)
tap_like "$out" "symbolic link|symlink" "XDG_RUNTIME_DIR/sifoci a symbolic link: refused ($out)"
tap_is "$(echo "$out" | wc -l)" 1 "... in one line"
tap_is "$(ls -A "$T/xdg-a-target")" "" "... and nothing made through it"
# newuidmap missing (an empty file over it, in a mount namespace of our own)
: >"$T/empty-helper"
out=$(unshare -m sh -c "mount --bind '$T/empty-helper' \"\$(command -v newuidmap)\" &&
  setpriv --reuid=$UIDA --regid=\$(id -g $UA) --init-groups --reset-env -- env HOME=$HA USER=$UA \
    XDG_RUNTIME_DIR=/run/user/$UIDA PATH=/usr/local/bin:/usr/bin:/bin \
    '$OCI' mount --method extract '$T/busybox.sif' '$HA/nm'" 2>&1)
tap_like "$out" "newuidmap/newgidmap are not installed" "newuidmap missing (user with subordinate IDs): one clear line"
tap_is "$(ls -d "$HA/nm" 2>/dev/null)" "" "... and no bundle left"
as "$UA" "$OCI" umount "$HA/b" >/dev/null 2>&1
out=$(as "$UB" bash -c "'$OCI' mount --method extract '$T/busybox.sif' ~/b && '$OCI' run -b ~/b c6 </dev/null; echo rc=\$?" 2>&1)
tap_like "$out" 'note: no subordinate IDs' "no subordinate ranges: a one-line note"
tap_like "$out" 'hello from the runscript' "... and the container still runs"
tap_run "... umount" as "$UB" "$OCI" umount "$HB/b"
out=$(as "$UB" "$OCI" mount --method extract "$T/busybox-docker.sif" "$HB/d" 2>&1)
# files of the image are root's: fine; its User needs 65534, which is not mapped
tap_like "$(as "$UB" "$OCI" run -b "$HB/d" c7 </dev/null 2>&1; echo "rc=$?")" 'rc=[1-9]' \
  "no subordinate ranges: User 65534 fails (not mapped)"
as "$UB" "$OCI" umount "$HB/d" >/dev/null 2>&1

# an image with a file owned by 70000: outside a single-ID mapping
mkdir -p "$T/odd/bin" && cp /bin/busybox "$T/odd/bin/" && touch "$T/odd/owned"
chown 70000:70000 "$T/odd/owned"
mksquashfs "$T/odd" "$T/odd.sqfs" -noappend -comp gzip -no-progress -quiet >/dev/null
siftool new "$T/odd.sif" >/dev/null
siftool add --datatype 4 --partfs 1 --parttype 2 --partarch 2 --groupid 1 "$T/odd.sif" "$T/odd.sqfs" >/dev/null
chmod 644 "$T/odd.sif"
out=$(as "$UB" "$OCI" mount --method extract "$T/odd.sif" "$HB/o" 2>&1)
tap_like "$out" "'/owned' in the image is owned by 70000:70000, which the user namespace does not map" \
  "an owner outside the mapping: one line naming the file"
tap_ok "$([ ! -e "$HB/o" ]; echo $?)" "... and no bundle left"

# disk full: a 1 MiB tmpfs cannot hold busybox
mkdir "$T/small"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$T/small"
chown "$UA" "$T/small"
out=$(as "$UA" "$OCI" mount --method extract --quiet "$T/busybox.sif" "$T/small/b" 2>&1)
tap_like "$out" 'No space left on device' "disk full while extracting: one clear line"
tap_is "$(ls -A "$T/small")" "" "... the partial tree is removed"
umount "$T/small"

# the progress bar: on a terminal only
tap_run "extract on a terminal draws a progress bar" as "$UA" python3 "$PTY_DRIVE" --timeout 30 \
  'expect=MiB/s' 'exit=0' -- "$OCI" mount --method extract "$T/busybox.sif" "$HA/p"
tap_is "$(as "$UA" "$OCI" umount "$HA/p" 2>&1)" "" "... umount"
tap_is "$(as "$UA" "$OCI" mount --method extract "$T/busybox.sif" "$HA/p" 2>&1 | wc -c)" 0 "silent on a pipe"
as "$UA" "$OCI" umount "$HA/p" >/dev/null 2>&1

# a mount killed at any moment of an extraction leaves what umount finishes
mkdir -p "$T/big/bin" && cp /bin/busybox "$T/big/bin/"
for i in $(seq 40); do head -c 1M /dev/urandom >"$T/big/f$i"; done
mksquashfs "$T/big" "$T/big.sqfs" -noappend -noI -noD -noF -no-progress -quiet >/dev/null
siftool new "$T/big.sif" >/dev/null
siftool add --datatype 4 --partfs 1 --parttype 2 --partarch 2 --groupid 1 "$T/big.sif" "$T/big.sqfs" >/dev/null
chmod 644 "$T/big.sif"
bad=0
for delay in 0.05 0.15 0.3; do
  # exec: $! is oci itself, not a subshell that would die alone
  (AS_EXEC=1 as "$UA" "$OCI" mount --method extract --quiet "$T/big.sif" "$HA/k" >/dev/null 2>&1) &
  sleep "$delay"
  kill -KILL $! 2>/dev/null
  wait $! 2>/dev/null
  # nothing, or a bundle that umount takes apart
  if [ -e "$HA/k" ]; then as "$UA" "$OCI" umount "$HA/k" >/dev/null 2>&1 || bad=1; fi
  [ -z "$(ls -A "$HA" | grep -v '^\.')" ] || bad=1
done
tap_ok $bad "mount killed during extraction (3 points): umount removes all of it"

tap_like "$(as "$UA" "$OCI" mount --method kernel "$T/busybox.sif" "$HA/k" 2>&1)" 'needs root' \
  "--method kernel as a user: refused, saying why"
tap_done
