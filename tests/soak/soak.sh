#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# soak.sh [--quick] [--report-system] [RUNS] [PARALLEL] [BATCH]
#
# Leak soak for oci + oci-monitor + runc on a SIF bundle (`oci mount`):
#   1. RUNS (default 500) sequential `oci run` of a short command, each
#      checked: stdout, stderr, exit status 3, no state dir left;
#   2. PARALLEL (default 100) create/start/kill/delete cycles, BATCH (default
#      10) at a time, each checking its own results (created, running,
#      stopped with exitCode 143 after SIGTERM, deleted, nothing left);
# and counts, before and after (with up to SOAK_SETTLE seconds, default 30,
# for stragglers): loop devices, mounts, monitor/runc/container processes,
# zombies, state dirs, runc state dirs, cgroups, the system's open file
# handles.  Prints a table of figures, durations and failures; exits 0 only
# when every cycle passed and every count is back.
#
# --quick is 20 runs and 10 cycles.  Counts scoped to the soak (its image,
# its --root, its IDs) must come back exactly; system-wide counts must come
# back to at most their starting value (file handles: +SOAK_FD_SLACK,
# default 32) - other work on the machine can only make them lower, not
# leave them higher, unless it started during the soak and is still
# running: with --report-system (or SOAK_SYSTEM=report) they are shown but
# do not fail the soak (the meson test does this: the machine may be busy).
#
# Needs root, runc, jq, siftool, mksquashfs, busybox.  The oci under test is
# $OCI (else `oci` in PATH); it finds oci-monitor itself ($OCI_MONITOR,
# beside it, or ../monitor/ in a build tree).  Example, release build:
#   meson setup build-soak --buildtype=release && meson compile -C build-soak
#   sudo OCI=$PWD/build-soak/src/oci tests/soak/soak.sh
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIFOCI_TESTS=${SIFOCI_TESTS:-$(cd "$HERE/.." && pwd)}
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/tap.sh" # (run_gone)

QUICK=0
while [ $# -gt 0 ]; do
  case $1 in
  --quick) QUICK=1 ;;
  --report-system) SOAK_SYSTEM=report ;;
  *) break ;;
  esac
  shift
done
if [ $QUICK = 1 ]; then RUNS=${1:-20} PAR=${2:-10}; else RUNS=${1:-500} PAR=${2:-100}; fi
BATCH=${3:-10}
SETTLE=${SOAK_SETTLE:-30}
FD_SLACK=${SOAK_FD_SLACK:-32}
OCI=${OCI:-$(command -v oci)}
die() { echo "soak: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -n "$OCI" ] && [ -x "$OCI" ] || die "no oci binary (set \$OCI)"
for c in runc jq siftool mksquashfs busybox losetup pgrep; do command -v $c >/dev/null || die "no $c"; done
case "$RUNS$PAR$BATCH" in *[!0-9]*) die "usage: soak.sh [--quick] [--report-system] [RUNS] [PARALLEL] [BATCH]" ;; esac
[ "$BATCH" -ge 1 ] || BATCH=1
FX=$(fixtures_dir) || die "fixtures could not be built"

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T=$(mktemp -d /tmp/sifoci-soak.XXXXXX)
chmod 0755 "$T"
ROOT=$T/root
PFX=soak$$ # every ID starts with it; runc names the cgroups after the ID
MAIN_PID=$BASHPID
IMG=$T/busybox.sif

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local id pid m
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null; done
  for id in $(ls "$ROOT" 2>/dev/null); do "$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1; done
  for pid in $(pgrep -f -- "--state-dir $ROOT/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  for m in "$T"/b-*; do [ -e "$m/.sifoci-mount.json" ] && "$OCI" umount "$m" >/dev/null 2>&1; done
  for m in $(awk -v p="$T/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null; done
  for m in $(losetup -j "$IMG" 2>/dev/null | cut -d: -f1); do losetup -d "$m" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# ---- what is counted
zombie_count() { ps -eo stat= | grep -c '^Z'; }
# live processes in cgroups named after our IDs
ctr_procs() {
  local f pid n=0
  for f in $(grep -lE "/$PFX-[^/]*\$" /proc/[0-9]*/cgroup 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/cgroup}
    [ -r "/proc/$pid/stat" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$pid/stat" 2>/dev/null && n=$((n + 1))
  done
  echo $n
}
runc_state_dirs() { # the runtime's own state of our containers, and /run/runc's
  local n=0 d
  for d in "$ROOT"/*/runtime/*; do [ -e "$d" ] && n=$((n + 1)); done
  echo $n
}
# processes: zombies are counted apart (this host's init may be slow to
# reap), the others only when alive
# KEY|LABEL|SCOPE: soak = must match exactly; sys = must be <= before
METRICS="loop_img|loop devices of the soak image|soak
loop_all|loop devices (losetup -a)|sys
mnt_soak|mounts under the soak dir|soak
mnt_all|mounts (/proc/self/mountinfo lines)|sys
mon_soak|oci-monitor processes of the soak|soak
mon_all|oci-monitor processes (all)|sys
runc_all|runc processes (all)|sys
ctr_soak|container processes (soak cgroups)|soak
zombies|zombie processes (all)|sys
state_dirs|state dirs under the soak --root|soak
runc_state|runc state dirs (soak containers)|soak
runc_default|runc state dirs in /run/runc|sys
cgroups|cgroup dirs named after soak IDs|soak
file_nr|open file handles (file-nr)|sys"
metric() {
  case $1 in
  loop_img) losetup -j "$IMG" 2>/dev/null | wc -l ;;
  loop_all) losetup -a 2>/dev/null | wc -l ;;
  mnt_soak) awk -v p="$T/" 'index($5, p) == 1' /proc/self/mountinfo | wc -l ;;
  mnt_all) wc -l </proc/self/mountinfo ;;
  mon_soak) pgrep -f -- "--state-dir $ROOT/" 2>/dev/null | wc -l ;;
  mon_all) ps -eo stat=,comm= | awk '$1 !~ /^Z/ && $2 == "oci-monitor"' | wc -l ;;
  runc_all) ps -eo stat=,args= | awk '$1 !~ /^Z/ && $2 ~ /^(\/[^ ]*\/)?runc$/' | wc -l ;;
  ctr_soak) ctr_procs ;;
  zombies) zombie_count ;;
  state_dirs) ls -A "$ROOT" 2>/dev/null | wc -l ;;
  runc_state) runc_state_dirs ;;
  runc_default) ls -A /run/runc 2>/dev/null | wc -l ;;
  cgroups) find /sys/fs/cgroup -maxdepth 4 -type d -name "$PFX-*" 2>/dev/null | wc -l ;;
  file_nr) cut -f1 /proc/sys/fs/file-nr ;;
  esac
}
declare -A BEFORE AFTER
snapshot() { # snapshot ARRAY
  local line key
  while IFS='|' read -r key _ _; do
    eval "$1[\$key]=\$(metric \$key)"
  done <<<"$METRICS"
}
# is every count back? (prints the keys that are not)
not_back() {
  local key label scope b a out=
  while IFS='|' read -r key label scope; do
    b=${BEFORE[$key]}
    a=$(metric "$key")
    AFTER[$key]=$a
    if [ "$scope" = soak ]; then
      [ "$a" = "$b" ] || out="$out $key"
    elif [ "$key" = file_nr ]; then
      [ "$a" -le $((b + FD_SLACK)) ] || out="$out $key"
    else
      [ "$a" -le "$b" ] || out="$out $key"
    fi
  done <<<"$METRICS"
  echo "${out# }"
}

# ---- setup: two bundles from one image (they share its loop device)
t0=$(now_ms)
cp "$FX/busybox.sif" "$IMG"
bundle() { # bundle NAME JQ-ARGS-ARRAY
  "$OCI" mount "$IMG" "$T/b-$1" >/dev/null || die "oci mount failed"
  jq --argjson a "$2" '.process.terminal = false | .process.args = $a' "$T/b-$1/config.json" >"$T/cfg" &&
    cat "$T/cfg" >"$T/b-$1/config.json" || die "config.json of $1"
}
# loop devices, mounts and file handles of the setup itself are not leaks:
# the baseline is taken after it (and the final figures after teardown)
declare -A PRE
snapshot PRE
bundle run '["sh", "-c", "echo soak-out; echo soak-err >&2; exit 3"]'
bundle cycle '["sh", "-c", "trap \"exit 143\" TERM; echo ready; sleep 1000 & wait"]'
mkdir -p "$ROOT" "$T/par"
# one throw-away run so that page cache and runc's first-use costs are not
# counted as the soak's
"$OCI" --root "$ROOT" run -b "$T/b-run" "$PFX-warmup" >/dev/null 2>&1 </dev/null
sleep 1
snapshot BEFORE
t_setup=$(($(now_ms) - t0))

# ---- 1. sequential runs
seq_fail=0
seq_times=()
t0=$(now_ms)
for i in $(seq "$RUNS"); do
  id=$PFX-s$i
  s=$(now_ms)
  "$OCI" --root "$ROOT" run -b "$T/b-run" "$id" >"$T/out" 2>"$T/err" </dev/null
  rc=$?
  seq_times+=($(($(now_ms) - s)))
  why=
  [ $rc = 3 ] || why="$why exit $rc"
  [ "$(cat "$T/out")" = soak-out ] || why="$why stdout '$(head -c 100 "$T/out")'"
  [ "$(cat "$T/err")" = soak-err ] || why="$why stderr '$(head -c 200 "$T/err")'"
  "$OCI" --root "$ROOT" state "$id" >/dev/null 2>&1 && why="$why state-after-run"
  run_gone "$ROOT/$id" || why="$why state-dir-left"
  if [ -n "$why" ]; then
    seq_fail=$((seq_fail + 1))
    [ $seq_fail -le 10 ] && echo "soak: run $i ($id):$why" >&2
    "$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
  fi
  [ $QUICK = 1 ] || [ $((i % 100)) != 0 ] || echo "soak: $i/$RUNS runs, $seq_fail failed" >&2
done
t_seq=$(($(now_ms) - t0))

# ---- 2. parallel create/start/kill/delete cycles
cycle() { # cycle N: writes $T/par/N (ms, or "FAIL reason")
  local n=$1 id=$PFX-p$1 s why= st i
  local o=("$OCI" --root "$ROOT")
  s=$(now_ms)
  "${o[@]}" create -b "$T/b-cycle" "$id" >/dev/null 2>"$T/par/$n.err" || why="create: $(cat "$T/par/$n.err")"
  if [ -z "$why" ]; then
    st=$("${o[@]}" state "$id" 2>&1 | jq -r .status 2>/dev/null)
    [ "$st" = created ] || why="state after create: $st"
  fi
  [ -n "$why" ] || "${o[@]}" start "$id" 2>"$T/par/$n.err" || why="start: $(cat "$T/par/$n.err")"
  if [ -z "$why" ]; then
    # running, and the shell has set its trap (it printed "ready")
    for i in $(seq 100); do
      [ "$("${o[@]}" state "$id" 2>/dev/null | jq -r .status)" = running ] &&
        grep -q ready "$ROOT/$id/container.log" 2>/dev/null && break
      sleep 0.05
    done
    [ $i -lt 100 ] || why="not running/ready after start"
  fi
  [ -n "$why" ] || "${o[@]}" kill "$id" TERM 2>"$T/par/$n.err" || why="kill: $(cat "$T/par/$n.err")"
  if [ -z "$why" ]; then
    for i in $(seq 200); do
      st=$("${o[@]}" state "$id" 2>/dev/null | jq -r '.status + " " + (.exitCode|tostring)')
      [ "$st" = "stopped 143" ] && break
      sleep 0.05
    done
    [ "$st" = "stopped 143" ] || why="after kill: '$st', wanted 'stopped 143'"
  fi
  [ -n "$why" ] || "${o[@]}" delete "$id" 2>"$T/par/$n.err" || why="delete: $(cat "$T/par/$n.err")"
  [ -n "$why" ] || [ ! -e "$ROOT/$id" ] || why="state dir left after delete"
  if [ -n "$why" ]; then
    "${o[@]}" delete -f "$id" >/dev/null 2>&1
    echo "FAIL $why" >"$T/par/$n"
  else
    echo $(($(now_ms) - s)) >"$T/par/$n"
  fi
}
t0=$(now_ms)
running=0
for n in $(seq "$PAR"); do
  cycle "$n" &
  running=$((running + 1))
  if [ $running -ge "$BATCH" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
t_par=$(($(now_ms) - t0))
par_fail=0
par_times=()
for n in $(seq "$PAR"); do
  r=$(cat "$T/par/$n" 2>/dev/null || echo "FAIL no result")
  case $r in
  FAIL*)
    par_fail=$((par_fail + 1))
    [ $par_fail -le 10 ] && echo "soak: cycle $n ($PFX-p$n): ${r#FAIL }" >&2
    ;;
  *) par_times+=("$r") ;;
  esac
done

# ---- settle and compare
t0=$(now_ms)
left=$(not_back)
waited_for=$left
while [ -n "$left" ] && [ $(($(now_ms) - t0)) -lt $((SETTLE * 1000)) ]; do
  sleep 0.5
  left=$(not_back)
done
# not_back ran in subshells: take the figures once more in this one
while IFS='|' read -r key _ _; do AFTER[$key]=$(metric "$key"); done <<<"$METRICS"
t_settle=$(($(now_ms) - t0))

# ---- teardown, then the figures against the very start
for m in "$T"/b-*; do "$OCI" umount "$m" >/dev/null 2>&1 || echo "soak: umount $m failed" >&2; done
sleep 0.5
declare -A FINAL
snapshot FINAL

# ---- report
stats() { # stats MS...: mean p50 p95 max
  [ $# -gt 0 ] || { echo "- - - -"; return; }
  printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1; s += $1} END {
    p50 = v[int((NR - 1) * 0.50) + 1]; p95 = v[int((NR - 1) * 0.95) + 1];
    printf "%.0f %d %d %d\n", s / NR, p50, p95, v[NR]}'
}
ok=0
printf '\nsifoci soak, started %s, %s (runc %s)\n' "$STARTED" "$OCI" "$(runc --version | sed -n '1s/runc version //p')"
printf '%d sequential runs, %d create/start/kill/delete cycles %d at a time\n\n' "$RUNS" "$PAR" "$BATCH"
printf '%-40s %8s %8s %8s %8s  %s\n' "count" "start" "before" "after" "final" "check"
while IFS='|' read -r key label scope; do
  b=${BEFORE[$key]} a=${AFTER[$key]} p=${PRE[$key]} f=${FINAL[$key]}
  if [ "$scope" = soak ]; then
    [ "$a" = "$b" ] && [ "$f" = "$p" ] && res=ok || res=LEAK
  elif [ "$key" = file_nr ]; then
    [ "$a" -le $((b + FD_SLACK)) ] && [ "$f" -le $((p + FD_SLACK)) ] && res=ok || res=HIGHER
  else
    [ "$a" -le "$b" ] && [ "$f" -le "$p" ] && res=ok || res=HIGHER
  fi
  if [ "$res" != ok ]; then
    if [ "$scope" = soak ] || [ "${SOAK_SYSTEM:-check}" != report ]; then ok=1; else res="$res (reported only)"; fi
  fi
  printf '%-40s %8s %8s %8s %8s  %s\n' "$label" "$p" "$b" "$a" "$f" "$res"
done <<<"$METRICS"
printf '(start: before setup; before/after: around the cycles, bundles mounted; final: after umount)\n\n'
read -r sm s50 s95 smax <<<"$(stats "${seq_times[@]}")"
read -r pm p50 p95 pmax <<<"$(stats "${par_times[@]}")"
printf '%-28s %9s %9s %8s %8s %8s %8s\n' "phase" "total s" "failures" "mean ms" "p50 ms" "p95 ms" "max ms"
secs() { awk -v m="$1" 'BEGIN {printf "%.1f", m / 1000}'; }
printf '%-28s %9s %9s\n' "setup (mount, warm-up)" "$(secs $t_setup)" -
printf '%-28s %9s %9d %8s %8s %8s %8s\n' "sequential oci run" "$(secs $t_seq)" "$seq_fail" "$sm" "$s50" "$s95" "$smax"
printf '%-28s %9s %9d %8s %8s %8s %8s\n' "parallel cycles" "$(secs $t_par)" "$par_fail" "$pm" "$p50" "$p95" "$pmax"
printf '%-28s %9s           (waited for: %s)\n' "settle" "$(secs $t_settle)" "${waited_for:-nothing}"
if [ $seq_fail -ne 0 ] || [ $par_fail -ne 0 ]; then ok=1; fi
printf '\nresult: %s\n' "$([ $ok = 0 ] && echo PASS || echo FAIL)"
exit $ok
