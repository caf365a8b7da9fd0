#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile input against the CLI (issue 10): untrusted text on the terminal
# (class 5), a FIFO or a directory as --log-path (class 6), state no command
# could clean (class 11: ROOT/ID removed or state.json damaged under a live
# container) and a container nesting 300 directories (class 12).  Each case
# builds its own input under our temp dir, with IDs unique to this run; the
# EXIT trap removes every container, monitor, cgroup, mount, loop device and
# state dir, also when a case fails half-way.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd runc jq losetup siftool mksquashfs busybox pgrep mkfifo
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

T=$(mktemp -d /tmp/sifoci-hostile.XXXXXX)
chmod 0755 "$T"
IMG=$T/img
ROOT=$T/root
mkdir -p "$IMG" "$ROOT" "$T/bundles"
P=hst$$ # ID prefix
ESC=$'\x1b'

cleanup() {
  local id pid d
  for id in $(ls "$ROOT" 2>/dev/null); do "$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1; done
  for pid in $(pgrep -f -- "--state-dir $ROOT/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  for d in /sys/fs/cgroup/*/sifoci-*-"$P"-* /sys/fs/cgroup/sifoci-*-"$P"-*; do
    [ -d "$d" ] || continue
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    rmdir "$d" 2>/dev/null
  done
  for d in "$T"/bundles/*; do
    [ -e "$d/.sifoci-mount.json" ] && "$OCI" umount "$d" >/dev/null 2>&1
  done
  release_mounts "$T" "$IMG"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

oci() { "$OCI" --root "$ROOT" "$@"; }
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$1/stat" 2>/dev/null; }
monitors_of() { pgrep -f -- "--state-dir $ROOT/$1( |\$)" 2>/dev/null | wc -l; }
# the container's cgroup dirs (own-bundle.c: /sifoci-HASH(ROOT)-ID), in any hierarchy
cgroups_of() { ls -d /sys/fs/cgroup/*/sifoci-*-"$1" /sys/fs/cgroup/sifoci-*-"$1" 2>/dev/null | wc -l; }
# what is left of ID: its state dir, a monitor, its cgroup, a process of PIDS
left_of() { # left_of ID [PID...]
  local id=$1 what= p
  shift
  [ -e "$ROOT/$id" ] && what="$what state-dir"
  [ "$(monitors_of "$id")" = 0 ] || what="$what monitor"
  [ "$(cgroups_of "$id")" = 0 ] || what="$what cgroup"
  # a pid of the container's that is still alive and still in its cgroup
  # (not a pid reused meanwhile by another engineer's process)
  for p; do alive "$p" && grep -q -- "-$id\$" "/proc/$p/cgroup" 2>/dev/null && what="$what process-$p"; done
  echo "${what# }"
}
wait_clean() { # wait_clean ID [PID...]: until nothing is left (5 s)
  local i
  for i in $(seq 50); do
    [ -z "$(left_of "$@")" ] && return 0
    sleep 0.1
  done
  return 1
}
# one line, the escapes visible as text, no raw control byte
one_clean_line() { [ "$(printf '%s' "$1" | wc -l)" -le 1 ] && ! printf '%s' "$1" | LC_ALL=C grep -q '[[:cntrl:]]'; }

cp "$FX/busybox.sif" "$IMG/busybox.sif"
BB=$IMG/busybox.sif
bundle() { # bundle DIR SCRIPT [IMAGE]: a SIF bundle at DIR running `sh -c SCRIPT`
  "$OCI" mount "${3:-$BB}" "$1" >/dev/null || return 1
  jq --arg s "$2" '.process.terminal = false | .process.args = ["sh", "-c", $s]' \
    "$1/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$1/config.json"
}
B=$T/bundles/main
bundle "$B" 'sleep 1000 & wait' || tap_skip_all "oci mount failed"
# the pids of a running container's processes, from its cgroup
ctr_pids() { cat $(ls -d /sys/fs/cgroup/pids/sifoci-*-"$1" /sys/fs/cgroup/sifoci-*-"$1" 2>/dev/null | head -1)/cgroup.procs 2>/dev/null; }

# =====================================================================
# Class 5: untrusted text reaches the terminal escaped
# =====================================================================
bad_path="$T/no"$'\n'"such$ESC[31m.sif"
err=$("$OCI" inspect "$bad_path" 2>&1)
tap_ok "$(one_clean_line "$err"; echo $?)" "a path with a newline and ESC: the error is one line without control bytes"
tap_like "$err" "^oci: inspect '$T/no\\\\nsuch\\\\x1b\\[31m\\.sif'" "the path's newline and ESC show as \\n and \\x1b"

err=$("$OCI" --root "$ROOT" delete "bad"$'\n'"id$ESC[2J" 2>&1)
tap_ok "$(! printf '%s' "$err" | LC_ALL=C grep -q "$ESC"; echo $?)" "an ID with ESC: no escape sequence reaches the terminal"
tap_like "$(printf '%s' "$err" | head -1)" "^oci: invalid container ID 'bad\\\\nid\\\\x1b\\[2J'" "an ID with a newline: its error is one line, escaped"
tap_is "$(printf '%s' "$err" | sed -n 2p)" "Try 'oci delete --help'." "a usage error's hint is a line of its own"

# a descriptor name with an ANSI sequence, a newline and a C1 CSI byte
cp "$BB" "$IMG/evil-name.sif"
printf 'evil\033[31mred\nnext\233x\0' | dd of="$IMG/evil-name.sif" bs=1 seek=$((4096 + 73)) conv=notrunc status=none
out=$("$OCI" inspect "$IMG/evil-name.sif" 2>&1)
tap_ok "$(! printf '%s' "$out" | LC_ALL=C grep -q "$ESC"; echo $?)" "inspect: a descriptor name's ESC does not reach the terminal"
tap_like "$out" 'name=evil\\x1b\[31mred\\nnext\\x9bx' "inspect: the name shows escaped (\\x1b, \\n, \\x9b)"
name=$("$OCI" inspect --json "$IMG/evil-name.sif" | jq -r '.descriptors[0].name' 2>/dev/null)
tap_is "$name" 'evil\x1b[31mred\nnext\x9bx' "inspect --json: a name that is not UTF-8 is given escaped, not dropped"

# a bundle path with ESC in list's table
EB="$T/bundles/e$ESC[31mvil"
if bundle "$EB" 'sleep 1000'; then
  oci create -b "$EB" "$P-esc" >/dev/null 2>&1
  out=$(oci list 2>&1)
  tap_ok "$(! printf '%s' "$out" | LC_ALL=C grep -q "$ESC"; echo $?)" "list: a bundle path's ESC does not reach the terminal"
  tap_like "$out" "$P-esc .*/bundles/e\\\\x1b\\[31mvil" "list: the bundle path shows escaped"
  oci delete -f "$P-esc" >/dev/null 2>&1
  "$OCI" umount "$EB" >/dev/null 2>&1
else
  tap_ok 1 "oci mount to a path with ESC"
fi

# =====================================================================
# Class 6: a FIFO, a directory, a device or '' as --log-path
# =====================================================================
mkfifo "$T/fifo"
mkdir "$T/logdir"
for what in fifo:"$T/fifo":"a FIFO" dir:"$T/logdir":"a directory" dev:/dev/null:"a character device"; do
  tag=${what%%:*}
  rest=${what#*:}
  path=${rest%%:*}
  kind=${rest#*:}
  id=$P-log-$tag
  start=$(date +%s)
  err=$(timeout 30 "$OCI" --root "$ROOT" create -b "$B" --log-path "$path" "$id" 2>&1)
  rc=$?
  took=$(($(date +%s) - start))
  tap_is "$rc:$err" "1:oci: create '$id': --log-path '$path' is $kind; the log must be a regular file" \
    "--log-path $kind: refused in one line naming it"
  tap_ok "$([ "$took" -le 3 ]; echo $?)" "--log-path $kind: refused at once (${took}s)"
  tap_is "$(left_of "$id")" "" "--log-path $kind: nothing left"
done
err=$(oci create -b "$B" --log-path '' "$P-log-empty" 2>&1)
tap_is "$?:$(printf '%s' "$err" | head -1)" "2:oci: --log-path must not be empty" "--log-path '': a usage error"
tap_is "$(left_of "$P-log-empty")" "" "--log-path '': nothing left"

# =====================================================================
# Class 11: state no command could clean
# =====================================================================
id=$P-rmrf
oci create -b "$B" "$id" >/dev/null && oci start "$id"
sleep 0.3
pids=$(ctr_pids "$id")
mon=$(pgrep -f -- "--state-dir $ROOT/$id( |\$)")
tap_ok "$([ -n "$pids" ] && [ -n "$mon" ] && [ "$(cgroups_of "$id")" -gt 0 ]; echo $?)" \
  "rm -rf ROOT/ID: the container runs (pids $(echo $pids), monitor $mon) in its cgroup"
rm -rf --one-file-system "${ROOT:?}/$id"
out=$(oci delete -f "$id" 2>&1)
rc=$?
tap_is "$rc" 0 "rm -rf ROOT/ID: delete -f succeeds"
tap_like "$out" "^oci: container '$id' had no state dir .*: ended 1 monitor, killed [1-9][0-9]* process" \
  "rm -rf ROOT/ID: delete -f says what it ended"
wait_clean "$id" $pids $mon
tap_is "$(left_of "$id" $pids $mon)" "" "rm -rf ROOT/ID: no monitor, container process or cgroup is left"
err=$(oci delete -f "$id" 2>&1)
tap_is "$?:$err" "1:oci: container '$id' does not exist" "rm -rf ROOT/ID: a second delete -f finds nothing"

id=$P-damaged
oci create -b "$B" "$id" >/dev/null && oci start "$id"
sleep 0.3
pids=$(ctr_pids "$id")
mon=$(pgrep -f -- "--state-dir $ROOT/$id( |\$)")
printf '{"id": "%s", broken' "$id" >"$ROOT/$id/state.json"
tap_like "$(oci list 2>&1)" "$id +0 +damaged: state\\.json: " "damaged state.json: list shows it damaged, with the reason"
tap_is "$(oci list --format json | jq -r --arg i "$id" '.[] | select(.id == $i) | .status')" damaged \
  "damaged state.json: list --format json shows it damaged"
tap_like "$(oci list --format json | jq -r --arg i "$id" '.[] | select(.id == $i) | .error')" "^state\\.json: " \
  "damaged state.json: the JSON says why"
err=$(oci delete "$id" 2>&1)
tap_like "$?:$err" "^1:oci: container '$id' is damaged \\(state\\.json: .*\\); use 'oci delete -f $id'$" \
  "damaged state.json: delete without -f refuses, naming -f"
tap_run "damaged state.json: delete -f succeeds" oci delete -f "$id"
wait_clean "$id" $pids $mon
tap_is "$(left_of "$id" $pids $mon)" "" "damaged state.json: no state dir, monitor, container process or cgroup is left"

# state.json cut to nothing (a full disk), then a valid JSON that is no object
for dmg in empty array; do
  id=$P-$dmg
  oci create -b "$B" "$id" >/dev/null && oci start "$id"
  sleep 0.3
  pids=$(ctr_pids "$id")
  if [ $dmg = empty ]; then : >"$ROOT/$id/state.json"; else echo '[]' >"$ROOT/$id/state.json"; fi
  tap_like "$(oci list 2>&1)" "$id +0 +damaged: state\\.json: " "state.json $dmg: list shows it damaged"
  err=$(oci state "$id" 2>&1)
  tap_like "$?:$err" "^1:oci: container '$id' is damaged \\(state\\.json: .*\\); 'oci delete -f $id' removes it$" \
    "state.json $dmg: state says it is damaged and how to remove it"
  tap_run "state.json $dmg: delete -f succeeds" oci delete -f "$id"
  wait_clean "$id" $pids
  tap_is "$(left_of "$id" $pids)" "" "state.json $dmg: nothing is left"
done

# =====================================================================
# Class 12: a container nests 300 directories; umount removes them all
# =====================================================================
DB=$T/bundles/deep
cp "$BB" "$IMG/deep.sif" # its own image: `losetup -j` then sees only this bundle's device
if bundle "$DB" 'i=0; while [ $i -lt 300 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; echo made' "$IMG/deep.sif"; then
  out=$(timeout 60 "$OCI" --root "$ROOT" run -b "$DB" "$P-deep" 2>&1)
  tap_is "$?:$out" "0:made" "a container nests 300 directories in its rootfs"
  oci delete -f "$P-deep" >/dev/null 2>&1
  err=$("$OCI" umount "$DB" 2>&1)
  tap_is "$?:$err" "0:" "oci umount of the bundle with 300 nested directories succeeds"
  tap_ok "$([ ! -e "$DB" ] && [ -z "$(mounts_under "$DB")" ] && [ -z "$(loops_of "$IMG/deep.sif")" ]; echo $?)" \
    "oci umount leaves no bundle dir, mount or loop device"
else
  tap_ok 1 "oci mount of the deep bundle"
fi

tap_done
