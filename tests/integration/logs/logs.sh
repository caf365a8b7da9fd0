#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The container log under hostile conditions, with SIF bundles and real
# runc: a FIFO as --log-path, a --root whose file system the log fills
# (the exit code must survive), output that is not text (every byte must
# come back from `oci logs`, in both formats), --tail across a line cut by
# the other stream, and `logs -f` across a logrotate-style mv + reopen.
# Each case has its own --root under our temp dir and IDs unique to this
# run; the EXIT trap removes every container, monitor, mount, loop device
# and state dir, also when a case fails half-way.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd runc jq losetup pgrep cmp timeout
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

T=$(mktemp -d /tmp/sifoci-logs.XXXXXX)
chmod 0755 "$T"
IMG=$T/img
mkdir -p "$IMG" "$T/roots" "$T/bundles" "$T/tmpfs"
P=lg$$ # ID prefix
MAIN_PID=$BASHPID

cleanup() {
  local r d id pid
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null; done
  for r in "$T"/roots/* "$T"/tmpfs/*; do
    [ -d "$r" ] || continue
    for id in $(ls "$r" 2>/dev/null); do "$OCI" --root "$r" delete -f "$id" >/dev/null 2>&1; done
    for pid in $(pgrep -f -- "--state-dir $r/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    for d in "$r"/*/runtime; do
      [ -d "$d" ] || continue
      for id in $(runc --root "$d" list -q 2>/dev/null); do runc --root "$d" delete -f "$id" >/dev/null 2>&1; done
    done
  done
  for d in "$T"/bundles/*; do
    [ -e "$d/.sifoci-mount.json" ] && "$OCI" umount "$d" >/dev/null 2>&1
  done
  for d in "$T"/tmpfs/*; do mountpoint -q "$d" && umount "$d"; done
  release_mounts "$T" "$IMG"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # meson's timeout: clean up all the same

new_root() { ROOT=$T/roots/$1; mkdir -p "$ROOT"; } # a --root per case
oci() { "$OCI" --root "$ROOT" "$@"; }
state_field() { oci state "$1" 2>/dev/null | jq -r "$2"; }
is_status() { [ "$(state_field "$1" .status)" = "$2" ]; }
monitors_of() { pgrep -f -- "--state-dir $ROOT/$1( |\$)" 2>/dev/null | wc -l; }
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
  local i n=$(($1 * 20))
  shift
  for i in $(seq $n); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
no_monitor() { [ "$(monitors_of "$1")" = 0 ]; }
job_done() { ! kill -0 "$1" 2>/dev/null; } # bash reaps its jobs as they end
# nothing of ID is left: no state dir, no monitor
left_of() {
  local what=
  [ -e "$ROOT/$1" ] && what="$what state-dir"
  [ "$(monitors_of "$1")" = 0 ] || what="$what monitor"
  echo "${what# }"
}

cp "$FX/busybox.sif" "$IMG/busybox.sif"
# bundle NAME SCRIPT: a SIF bundle running `sh -c SCRIPT NAME`, no terminal
bundle() {
  local b=$T/bundles/$1
  "$OCI" mount "$IMG/busybox.sif" "$b" >/dev/null || return 1
  jq --arg s "$2" --arg n "$1" '.process.terminal = false | .process.args = ["sh", "-c", $s, $n]' \
    "$b/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$b/config.json" && echo "$b"
}
# run_to_end ID ARGS...: create, start, wait until stopped
run_to_end() {
  local id=$1
  shift
  oci create "$@" "$id" >/dev/null 2>&1 && oci start "$id" && wait_for 20 is_status "$id" stopped
}

# =====================================================================
# 1. A FIFO as --log-path: the monitor refuses it at once (no open that
#    blocks), in one line, and leaves nothing
# =====================================================================
new_root fifo
B=$(bundle fifo 'echo hi') || tap_skip_all "oci mount failed"
mkfifo "$T/log.fifo"
S=$ROOT/direct
mkdir -m 0700 "$S"
start=$(date +%s%N)
"$OCI_MONITOR" --id "$P-fifo" --bundle "$B" --state-dir "$S" --runtime "$(command -v runc)" \
  --log-path "$T/log.fifo" --report-fd 3 3>"$T/fifo.rep" 2>/dev/null &
mpid=$!
wait_for 10 job_done "$mpid" || kill -9 "$mpid" # blocked in open(): a failure
wait "$mpid"
rc=$?
rep=$(cat "$T/fifo.rep")
ms=$((($(date +%s%N) - start) / 1000000))
tap_is "$rc:$(printf '%s' "$rep" | jq -r .error)" "1:log '$T/log.fifo' is a FIFO, not a regular file" \
  "monitor with a FIFO as --log-path: exit 1, the error says why"
tap_ok "$([ "$ms" -lt 5000 ]; echo $?)" "  ... at once (${ms} ms)"
tap_is "$(ls -A "$S" | grep -vx monitor.log | tr '\n' ' ')" "" \
  "  ... and leaves nothing in the state dir but its note"
rm -f "$S/monitor.log"
rmdir "$S"
# through the CLI: whoever checks it, create fails fast in one line
start=$(date +%s%N)
"$OCI" --root "$ROOT" create --log-path "$T/log.fifo" -b "$B" "$P-fifo" >"$T/fifo.err" 2>&1 &
cpid=$!
wait_for 15 job_done "$cpid" || kill -9 "$cpid"
wait "$cpid"
rc=$?
err=$(cat "$T/fifo.err")
ms=$((($(date +%s%N) - start) / 1000000))
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "create --log-path FIFO: exit 1, one line"
tap_like "$err" "FIFO" "  ... naming the FIFO: $err"
tap_ok "$([ "$ms" -lt 10000 ]; echo $?)" "  ... without waiting (${ms} ms)"
tap_is "$(left_of "$P-fifo")" "" "  ... nothing left"

# =====================================================================
# 2. --root on a small file system that the container's own log fills:
#    the exit code is still recorded, the monitor never looks dead, and
#    delete works on the full file system
# =====================================================================
FULL=$T/tmpfs/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=2m,mode=0700 sifoci-logs "$FULL"; then
  ROOT=$FULL
  id=$P-full
  FB=$(bundle full 'head -c 4194304 /dev/zero | tr "\0" x; echo; echo done; exit 7')
  run_to_end "$id" -b "$FB"
  tap_ok $? "full --root: the container ran and stopped"
  avail=$(df --output=avail -k "$FULL" | tail -1 | tr -d ' ')
  # full, or it was: a record the disk cut off is truncated back to where
  # it began, which can free the space again; the monitor notes the error
  enospc=$(grep -c 'No space left' "$FULL/$id/monitor.log" 2>/dev/null)
  tap_ok "$([ "$avail" -lt 64 ] || [ "${enospc:-0}" -gt 0 ]; echo $?)" \
    "full --root: the log filled the file system (${avail} KiB free now, ${enospc:-0} notes of ENOSPC)"
  wait_for 10 no_monitor "$id"
  tap_is "$(state_field "$id" '(.exitCode|tostring) + " " + .monitor')" "7 exited" \
    "full --root: state says exitCode 7, monitor exited (not dead)"
  tap_is "$(jq -c .exitCode "$ROOT/$id/exit.json" 2>/dev/null)" 7 "full --root: exit.json holds 7"
  tap_run "full --root: delete" oci delete "$id"
  tap_is "$(left_of "$id")$(ls -A "$ROOT" | tr '\n' ' ')" "" "full --root: nothing left"
  # no reserved room (removed by hand) and not a page left when it exits:
  # the monitor keeps the status and stays (never "dead"), and writes the
  # record once there is room again
  id=$P-full2
  RB=$(bundle full2 'echo hi; exit 7')
  oci create -b "$RB" "$id" >/dev/null 2>&1 && rm "$ROOT/$id/exit.reserve"
  tap_ok $? "no reserve: create"
  head -c 4m /dev/zero >"$FULL/filler" 2>/dev/null # every page left
  oci start "$id"
  tap_ok $? "no reserve: start on the full file system"
  wait_for 20 is_status "$id" stopped
  sleep 1.5
  tap_is "$(state_field "$id" '.status + " " + .monitor + " " + (.exitCode|tostring)')" "stopped running null" \
    "no room for the exit record: stopped, the monitor stays (not dead), no code yet"
  rm -f "$FULL/filler"
  : >"$ROOT/$id/container.log" # room again
  has_exit() { [ -e "$ROOT/$1/exit.json" ]; }
  wait_for 5 has_exit "$id"
  wait_for 5 no_monitor "$id"
  tap_is "$(state_field "$id" '(.exitCode|tostring) + " " + .monitor')" "7 exited" \
    "room again: exit code 7 written, the monitor has left"
  tap_run "no reserve: delete" oci delete "$id"
  "$OCI" umount "$RB" >/dev/null
  # a --root that has no room at all: create fails at once, in one line
  head -c 4m /dev/zero >"$FULL/filler" 2>/dev/null
  err=$(timeout 60 "$OCI" --root "$ROOT" create -b "$FB" "$P-nospace" 2>&1)
  rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "no room in --root: create fails, one line ($err)"
  rm -f "$FULL/filler"
  tap_is "$(left_of "$P-nospace")$(ls -A "$ROOT" | tr '\n' ' ')" "" "no room in --root: nothing left"
  umount "$FULL"
  "$OCI" umount "$FB" >/dev/null
else
  tap_diag "cannot mount a tmpfs: full --root case skipped"
fi

# =====================================================================
# 3. Output that is not text: invalid UTF-8, NULs, escapes, CR, a
#    character cut between two writes.  `oci logs` gives back every byte,
#    stdout and stderr each, with both log formats.
# =====================================================================
new_root bytes
OUT='plain\n bad \377\376 utf8 \300\257\n nul\000in\000line\n esc \033[1mbold\033[0m \007\n cr\r\n quote " back \\\\ tab \t\n end \342\202'
ERR='err \377\000\n'
BYB=$(bundle bytes "printf '$OUT'; sleep 0.2; printf '\\254 euro\\n'; printf '$ERR' >&2")
printf "$OUT" >"$T/want.out"
printf '\254 euro\n' >>"$T/want.out"
printf "$ERR" >"$T/want.err"
for fmt in kubernetes json; do
  id=$P-bytes-$fmt
  run_to_end "$id" -b "$BYB" --log-format "$fmt"
  oci logs "$id" >"$T/got.out" 2>"$T/got.err"
  tap_ok "$(cmp "$T/want.out" "$T/got.out" >&2; echo $?)" "$fmt: oci logs gives back stdout byte for byte"
  tap_ok "$(cmp "$T/want.err" "$T/got.err" >&2; echo $?)" "$fmt: ... and stderr"
  if [ "$fmt" = json ]; then
    log=$(state_field "$id" .logPath)
    tap_ok "$(jq -e . "$log" >/dev/null; echo $?)" "json: every record is valid JSON"
    tap_like "$(jq -r 'select(.logBase64) | .log' "$log" | head -1)" $'\xef\xbf\xbd' \
      "json: a record with invalid bytes has U+FFFD in log, and logBase64"
  fi
  oci delete "$id"
done

# =====================================================================
# 4. --tail 1 when a stderr line cut a stdout line in two
# =====================================================================
new_root tail
TB=$(bundle tail 'echo one; printf four; echo three >&2')
for fmt in kubernetes json; do
  id=$P-tail-$fmt
  run_to_end "$id" -b "$TB" --log-format "$fmt"
  oci logs --tail 1 "$id" >"$T/t.out" 2>"$T/t.err"
  want=four
  [ $fmt = kubernetes ] && want='four\n' # the final record closes the line
  printf "$want" | cmp - "$T/t.out" >/dev/null
  tap_ok $? "$fmt: --tail 1 prints the last line, 'four' ($(od -c "$T/t.out" | head -1))"
  tap_is "$(cat "$T/t.err")" "" "$fmt: --tail 1: nothing of the earlier stderr line"
  want="fourthree "
  [ $fmt = kubernetes ] && want="fourthree  "
  tap_is "$(oci logs --tail 2 "$id" 2>&1 | tr '\n' ' ')" "$want" "$fmt: --tail 2: both lines"
  oci delete "$id"
done

# =====================================================================
# 5. logrotate: `mv container.log container.log.1` while `logs -f` runs,
#    then `oci logs --reopen`.  A follower started before the mv and one
#    started between the mv and the reopen each print all 30 lines once.
# =====================================================================
new_root rotate
id=$P-rot
RB=$(bundle rot 'i=0; while [ $i -lt 30 ]; do i=$((i + 1)); echo line$i; sleep 0.1; done')
oci create -b "$RB" "$id" >/dev/null 2>&1
LOG=$(state_field "$id" .logPath)
timeout 60 "$OCI" --root "$ROOT" logs -f "$id" >"$T/f1.out" 2>&1 &
f1=$!
oci start "$id"
has() { grep -q " $2\$" "$1" 2>/dev/null; } # has FILE TEXT: a record of TEXT
wait_for 10 has "$LOG" line8
mv "$LOG" "$LOG.1"
timeout 60 "$OCI" --root "$ROOT" logs -f "$id" >"$T/f2.out" 2>&1 &
f2=$!
wait_for 10 has "$LOG.1" line16
tap_run "logs --reopen" oci logs --reopen "$id"
tap_ok "$([ -f "$LOG" ]; echo $?)" "  ... the monitor made a new log file"
wait_for 20 job_done "$f1"
wait_for 20 job_done "$f2"
want=$(seq -f 'line%g' 30)
tap_is "$(cat "$T/f1.out")" "$want" "logs -f started before the mv: 30 lines, once each"
tap_is "$(cat "$T/f2.out")" "$want" "logs -f started between the mv and the reopen: 30 lines, once each"
tap_is "$(oci logs "$id")" "$want" "logs afterwards: 30 lines (the moved part, then the new file)"
tap_ok "$(has "$LOG" line30 && ! has "$LOG.1" line30; echo $?)" "after the reopen the monitor writes the new file"
err=$(oci logs --reopen "$id" 2>&1)
tap_is "$?:$err" "1:oci: container '$id' has no monitor (it has ended): no log to reopen" \
  "logs --reopen after the end: one line says why"
oci delete "$id"

for b in "$T"/bundles/*; do [ -e "$b/.sifoci-mount.json" ] && "$OCI" umount "$b" >/dev/null; done
tap_is "$(loops_of "$IMG/busybox.sif")$(mounts_under "$T")" "" "no loop device, no mount left"
tap_done
