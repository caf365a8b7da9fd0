#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Faults: what a killed CLI, a killed monitor, a full log filesystem, a
# missing or failing runtime and racing commands leave behind, with SIF
# bundles (`oci mount`) and real runc.  Each case has its own --root under
# our temp dir and IDs unique to this run (runc names cgroups after the ID);
# the EXIT trap removes every container, monitor, mount, loop device and
# state dir, also when a case fails half-way.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd runc jq losetup siftool mksquashfs busybox pgrep
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

T=$(mktemp -d /tmp/sifoci-faults.XXXXXX)
chmod 0755 "$T"
IMG=$T/img
mkdir -p "$IMG" "$T/roots" "$T/bundles" "$T/bin" "$T/tmpfs"
P=flt$$ # ID prefix
MAIN_PID=$BASHPID

cleanup() {
  local r d id pid m l
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null; done
  for r in "$T"/roots/*; do
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
  release_mounts "$T" "$IMG"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # meson's timeout: clean up all the same

# ---- helpers

new_root() { ROOT=$T/roots/$1; mkdir -p "$ROOT"; } # a --root per case
oci() { "$OCI" --root "$ROOT" "$@"; }
state_field() { oci state "$1" 2>/dev/null | jq -r "$2"; }

# a process that runs (a zombie does not: this host's init may be slow to reap)
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$1/stat" 2>/dev/null; }

monitors_of() { pgrep -f -- "--state-dir $ROOT/$1( |\$)" 2>/dev/null | wc -l; }

# live processes in the container's cgroup (runc names it after the ID)
ctr_procs() {
  local f pid n=0
  for f in $(grep -lE "/$1\$" /proc/[0-9]*/cgroup 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/cgroup}
    alive "$pid" && n=$((n + 1))
  done
  echo $n
}

# nothing of ID is left: no state dir (so no runc state, it lives in
# ROOT/ID/runtime), no monitor, no container process
left_of() {
  local what=
  [ -e "$ROOT/$1" ] && what="$what state-dir"
  [ "$(monitors_of "$1")" = 0 ] || what="$what monitor"
  [ "$(ctr_procs "$1")" = 0 ] || what="$what container-process"
  echo "${what# }"
}
# wait_clean ID [SECONDS]: until left_of is empty (processes take a moment)
wait_clean() {
  local i
  for i in $(seq $((${2:-5} * 10))); do
    [ -z "$(left_of "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

dead() { ! alive "$1"; }
has_monitor() { [ "$(monitors_of "$1")" = 1 ]; }
is_status() { [ "$(state_field "$1" .status)" = "$2" ]; }
job_done() { ! kill -0 "$1" 2>/dev/null; } # bash reaps its jobs as they end

wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
  local i n=$(($1 * 20))
  shift
  for i in $(seq $n); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# The private copy of busybox.sif: `losetup -j` then sees only our devices.
cp "$FX/busybox.sif" "$IMG/busybox.sif"
BB=$IMG/busybox.sif

# bundle NAME SCRIPT: a SIF bundle running `sh -c SCRIPT NAME` without a
# terminal (NAME as $0 marks the process)
bundle() {
  local b=$T/bundles/$1
  "$OCI" mount "$BB" "$b" >/dev/null || return 1
  jq --arg s "$2" --arg n "$1" '.process.terminal = false | .process.args = ["sh", "-c", $s, $n]' \
    "$b/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$b/config.json" && echo "$b"
}

# runtimes: slow (sleeps before `create`), failing, failing only at create
cat >"$T/bin/slow-runc" <<'SH'
#!/bin/sh
for a; do [ "$a" = create ] && sleep "${SLOW_RUNC_DELAY:-0.3}"; done
exec runc "$@"
SH
printf '#!/bin/sh\necho "fail-runc: this runtime always fails" >&2\nexit 1\n' >"$T/bin/fail-runc"
cat >"$T/bin/failcreate-runc" <<'SH'
#!/bin/sh
for a; do [ "$a" = create ] && { echo "failcreate-runc: create refused on purpose" >&2; exit 1; }; done
exec runc "$@"
SH
chmod 0755 "$T"/bin/*

B=$(bundle main 'echo started; sleep 1000 & wait') || tap_skip_all "oci mount failed"

# =====================================================================
# 1. SIGKILL of `oci create` at several points.  Whatever moment it died,
#    `oci state` says what the container is, `oci delete -f` removes all of
#    it, and the ID can be created again.
# =====================================================================
new_root create-kill
kill_create() { # kill_create LABEL DELAY [RUNTIME]: one round; prints problems
  local label=$1 k=$2 rt=${3:-} id=$P-ck$((++KC)) pid rc st src probs=
  "$OCI" --root "$ROOT" ${rt:+--runtime "$rt"} create -b "$B" "$id" >/dev/null 2>&1 &
  pid=$!
  sleep "$k"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  st=$(oci state "$id" 2>&1)
  src=$?
  if [ $src = 0 ]; then
    printf '%s' "$st" | jq -e '.status | test("^(creating|created)$")' >/dev/null ||
      probs="$probs; state exit 0 without created/creating: $(echo $st | head -c 200)"
  elif ! printf '%s' "$st" | grep -Eq "^oci: container '$id' (is incomplete \(its create did not finish\); 'oci delete -f $id' removes it|does not exist)$"; then
    probs="$probs; state said: $st"
  fi
  if [ -e "$ROOT/$id" ]; then
    oci delete -f "$id" >/dev/null 2>"$T/del.err" || probs="$probs; delete -f failed: $(cat "$T/del.err")"
  fi
  wait_clean "$id" || probs="$probs; left after delete -f: $(left_of "$id")"
  # the same ID again, with the plain runtime
  if oci create -b "$B" "$id" >/dev/null 2>"$T/re.err" && [ "$(state_field "$id" .status)" = created ]; then
    oci delete -f "$id" >/dev/null 2>&1
    wait_clean "$id" || probs="$probs; re-created container left: $(left_of "$id")"
  else
    probs="$probs; create again failed: $(cat "$T/re.err")"
  fi
  [ -z "$probs" ] || tap_diag "$label, kill after ${k}s (state: $(echo $st | head -c 80)):$probs"
  [ -z "$probs" ]
}
KC=0
bad=0
export SLOW_RUNC_DELAY=0.3
for k in 0.002 0.01 0.03 0.06 0.1 0.2 0.3 0.35 0.4 0.45 0.5 0.7 1.0; do
  kill_create "slow runtime" "$k" "$T/bin/slow-runc" || bad=$((bad + 1))
done
tap_is "$bad" 0 "create killed at 13 points (runtime sleeping 0.3 s first): state tells, delete -f cleans, re-create works"
bad=0
for k in 0.005 0.02 0.04 0.06 0.08 0.1 0.12 0.14 0.16 0.2 0.25 0.3; do
  kill_create "runc" "$k" || bad=$((bad + 1))
done
tap_is "$bad" 0 "create killed at 12 points with plain runc: state tells, delete -f cleans, re-create works"

# After the monitor reported: the CLI is stopped while it waits, the
# monitor finishes the create and reports into the socket, then the CLI is
# killed before it can record the container.
id=$P-after-report
SLOW_RUNC_DELAY=0.5 "$OCI" --root "$ROOT" --runtime "$T/bin/slow-runc" create -b "$B" "$id" >/dev/null 2>&1 &
pid=$!
wait_for 5 has_monitor "$id"
kill -STOP "$pid"
runtime_created() { [ "$(runc --root "$ROOT/$id/runtime" state "$id" 2>/dev/null | jq -r .status)" = created ]; }
wait_for 10 runtime_created
tap_ok $? "killed after the report: the monitor finished the create meanwhile"
sleep 0.3 # the report is in the socket
cpid=$(cat "$ROOT/$id/container.pid" 2>/dev/null)
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null
err=$(oci state "$id" 2>&1)
tap_is "$?:$err" "1:oci: container '$id' is incomplete (its create did not finish); 'oci delete -f $id' removes it" \
  "killed after the report: state says incomplete and how to remove it"
tap_ok "$( [ "$(monitors_of "$id")" = 1 ] && alive "$cpid"; echo $?)" "killed after the report: monitor and container init still there"
tap_run "killed after the report: delete -f" oci delete -f "$id"
wait_clean "$id"
tap_is "$(left_of "$id")" "" "killed after the report: no state dir, monitor or container process"
tap_ok "$(! alive "$cpid"; echo $?)" "killed after the report: the container init is gone"
tap_run "killed after the report: the ID can be created again" oci create -b "$B" "$id"
oci delete -f "$id" >/dev/null 2>&1
# A burst of early kills (the first milliseconds: state dir being made and
# locked), then delete -f of whatever appeared.
for i in $(seq 40); do
  id=$P-burst$i
  "$OCI" --root "$ROOT" create -b "$B" "$id" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' $((i % 25 + 1)))" # 1..25 ms
  { kill -9 "$pid"; wait "$pid"; } 2>/dev/null
done
for id in $(ls "$ROOT"); do oci delete -f "$id" >/dev/null 2>&1; done
bad=0
for i in $(seq 40); do wait_clean "$P-burst$i" 2 || bad=$((bad + 1)); done
tap_is "$bad" 0 "40 creates killed in their first 25 ms: delete -f of each leaves nothing"
# A kill between mkdirat(".new-PID-...") and the rename leaves that dir;
# the next create sweeps those whose creator is gone.
tap_is "$(ls -A "$ROOT" | tr '\n' ' ')" "" "create kills leave nothing under --root (no half-made .new-* dirs either)"

# =====================================================================
# 2. SIGKILL of `oci mount` at various times, on a 32 MiB image: either the
#    bundle was never made, or `oci umount` removes all of it.
# =====================================================================
mkdir -p "$T/big/bin" "$T/big/data"
cp "$(command -v busybox)" "$T/big/bin/busybox"
ln -s busybox "$T/big/bin/sh"
head -c 32M /dev/urandom >"$T/big/data/blob"
mksquashfs "$T/big" "$T/big.sqfs" -noappend -all-root -comp gzip -no-progress -quiet >/dev/null
case "$(uname -m)" in x86_64) arch=2 ;; aarch64) arch=4 ;; *) arch=2 ;; esac
siftool new "$IMG/big.sif" >/dev/null &&
  siftool add --datatype 4 --partfs 1 --parttype 2 --partarch $arch --groupid 1 "$IMG/big.sif" "$T/big.sqfs" >/dev/null
rm -rf "$T/big" "$T/big.sqfs"
BIG=$IMG/big.sif
# A new bundle dir appears only with its first record in it; a kill during a
# later record update leaves a .tmp that umount removes too.
bad=0 made=0 never=0 complete=0 n=0
# The kill points are spread over how long one whole mount takes here:
# fixed delays all landed before the bundle dir existed on a loaded machine
# (a sanitizer build starts slowly), and would all land after it on a fast
# one.
t0=$(date +%s%N)
"$OCI" mount "$BIG" "$T/bundles/timing" >/dev/null 2>&1 && "$OCI" umount "$T/bundles/timing" >/dev/null 2>&1
full_us=$((($(date +%s%N) - t0) / 2000)) # about one mount, in µs
kill_points=$(awk -v f="$full_us" 'BEGIN { n = split("0 2 5 10 15 20 25 30 40 50 60 70 80 90 100 120 150", p, " ");
  for (i = 1; i <= n; i++) printf "%.6f ", p[i] * f / 100 / 1e6 }')
tap_diag "one mount takes about ${full_us} µs here; kills at: $kill_points"
for pass in 1 2; do
  for k in $kill_points; do
    n=$((n + 1))
    mb=$T/bundles/mk$n
    "$OCI" mount "$BIG" "$mb" >/dev/null 2>&1 &
    pid=$!
    sleep "$k"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    [ $rc = 0 ] && complete=$((complete + 1))
    if [ -e "$mb" ]; then
      made=$((made + 1))
      if ! err=$("$OCI" umount "$mb" 2>&1); then
        bad=$((bad + 1))
        tap_diag "mount killed after ${k}s (exit $rc): umount failed: $err"
      fi
    else
      never=$((never + 1))
    fi
    if [ -e "$mb" ] || [ -n "$(mounts_under "$mb")" ] || [ -n "$(loops_of "$BIG")" ]; then
      bad=$((bad + 1))
      tap_diag "mount killed after ${k}s (exit $rc): left: dir=$([ -e "$mb" ] && ls -A "$mb" | tr '\n' ,) mounts=$(mounts_under "$mb" | tr '\n' ,) loop=$(loops_of "$BIG")"
      for m in $(mounts_under "$mb" | sort -r); do umount -l "$m"; done
      for m in $(losetup -j "$BIG" | cut -d: -f1); do losetup -d "$m"; done
      rm -rf "$mb"
    fi
  done
done
tap_diag "mount killed $n times: $never before the bundle dir existed, $((made - complete)) half-made, $complete finished"
tap_is "$bad" 0 "mount killed at $n points: umount removes everything, or nothing was made"
tap_ok "$([ $((made - complete)) -gt 0 ]; echo $?)" "some kills hit a half-made bundle"
# the kill the loop above landed once in CI: between config.json's temp file
# and its rename, so the bundle held '.config.json.tmp'; umount must take it
"$OCI" mount "$BIG" "$T/bundles/tmpfile" >/dev/null 2>&1
: >"$T/bundles/tmpfile/.config.json.tmp"
"$OCI" umount "$T/bundles/tmpfile" >/dev/null 2>&1
tap_ok "$([ ! -e "$T/bundles/tmpfile" ]; echo $?)" "a file's temp name left by a kill mid-write: umount removes it and the bundle"

# =====================================================================
# 3. SIGKILL of the monitor
# =====================================================================
new_root monitor-kill
# a running container
id=$P-mk-run
oci run -d -b "$B" "$id" >/dev/null 2>&1
mon=$(state_field "$id" .monitorPid)
cpid=$(state_field "$id" .pid)
kill -9 "$mon"
wait_for 5 dead "$mon"
tap_is "$(state_field "$id" '.monitor + " " + .status')" "dead running" "monitor killed (running container): state says monitor dead"
tap_run "monitor killed (running container): delete --force" oci delete --force "$id"
wait_clean "$id"
tap_is "$(left_of "$id")" "" "monitor killed (running container): no state dir, monitor or container process"
tap_ok "$(! alive "$cpid"; echo $?)" "monitor killed (running container): the container process is gone"
tap_run "monitor killed (running container): the ID runs again" oci run -d -b "$B" "$id"
oci delete -f "$id" >/dev/null 2>&1

# a created, never started container
id=$P-mk-created
oci create -b "$B" "$id" >/dev/null 2>&1
mon=$(state_field "$id" .monitorPid)
cpid=$(state_field "$id" .pid)
kill -9 "$mon"
wait_for 5 dead "$mon"
tap_is "$(state_field "$id" '.monitor + " " + .status')" "dead created" "monitor killed (created container): state says monitor dead"
tap_run "monitor killed (created container): delete --force" oci delete --force "$id"
wait_clean "$id"
tap_is "$(left_of "$id")" "" "monitor killed (created container): nothing left"
tap_ok "$(! alive "$cpid"; echo $?)" "monitor killed (created container): runc init is gone"

# the monitor killed while the runtime creates: create fails in one line,
# and leaves nothing
bad=0
for k in 0.05 0.2 0.35 0.4 0.45; do
  id=$P-mk-during$k
  SLOW_RUNC_DELAY=0.3 "$OCI" --root "$ROOT" --runtime "$T/bin/slow-runc" create -b "$B" "$id" >"$T/mk.out" 2>&1 &
  pid=$!
  sleep "$k"
  pkill -9 -f -- "--state-dir $ROOT/$id( |\$)"
  wait "$pid"
  rc=$?
  if [ $rc = 0 ]; then # the create had finished: a normal container
    oci delete -f "$id" >/dev/null 2>&1
  elif [ $rc != 1 ] || [ "$(wc -l <"$T/mk.out")" != 1 ]; then
    bad=$((bad + 1))
    tap_diag "monitor killed after ${k}s: create exit $rc: $(cat "$T/mk.out")"
  fi
  wait_clean "$id" || { bad=$((bad + 1)); tap_diag "monitor killed after ${k}s: left $(left_of "$id")"; }
done
tap_is "$bad" 0 "monitor killed during the runtime's create: create fails in one line, nothing left"
tap_is "$(ls -A "$ROOT" | tr '\n' ' ')" "" "monitor kills leave nothing under --root"

# =====================================================================
# 4. The log on a full filesystem: 1 MiB tmpfs, the container writes 5 MiB
#    then keeps printing
# =====================================================================
new_root logfull
FULL=$T/tmpfs/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=1m,mode=0700 "sifoci-faults" "$FULL"; then
  id=$P-logfull
  LB=$(bundle logfull 'trap "exit 3" TERM
    yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 5242880
    head -c 1048576 /dev/zero | tr "\0" x
    echo; echo big-done
    while :; do echo tick; sleep 0.1; done')
  oci create --log-path "$FULL/ctr.log" -b "$LB" "$id" >/dev/null 2>&1 && oci start "$id"
  tap_ok $? "full log fs: create and start"
  enospc() { grep -q 'No space left on device' "$ROOT/$id/monitor.log" 2>/dev/null; }
  wait_for 20 enospc
  tap_ok $? "full log fs: the write error is in STATE/monitor.log"
  sleep 1
  tap_is "$(state_field "$id" '.status + " " + .monitor')" "running running" "full log fs: the container and its monitor keep running"
  oci attach --no-stdin "$id" >"$T/attach.out" 2>&1 &
  apid=$!
  has_ticks() { [ "$(grep -c '^tick$' "$T/attach.out")" -ge 3 ]; }
  wait_for 10 has_ticks
  tap_ok $? "full log fs: an attached client gets the output"
  oci kill "$id" TERM
  wait_for 10 is_status "$id" stopped
  wait_for 10 job_done "$apid" || kill -9 "$apid"
  wait "$apid"
  arc=$?
  tap_is "$arc" 3 "full log fs: attach ends with the container's status"
  tap_is "$(state_field "$id" '.status + " " + (.exitCode|tostring)')" "stopped 3" "full log fs: exit code 3 recorded"
  nfail=$(grep -c 'write failed' "$ROOT/$id/monitor.log")
  # cutting the file back frees a little room, so writes fail and succeed
  # by turns while the disk stays full: still one note
  tap_is "$nfail" 1 "full log fs: the write error is noted once in monitor.log"
  [ "$nfail" = 1 ] || sed 's/^/#   /' "$ROOT/$id/monitor.log" | head -10
  tap_run "full log fs: delete" oci delete "$id"
  umount "$FULL"
  "$OCI" umount "$LB" >/dev/null
else
  tap_diag "cannot mount a tmpfs: full-log case skipped"
fi

# =====================================================================
# 5. A missing or failing runtime: one line, exit 1, nothing left
# =====================================================================
new_root runtime
rt_case() { # rt_case DESC RUNTIME REGEX
  local id=$P-rt$((++RTN)) err rc
  err=$(oci --runtime "$2" create -b "$B" "$id" 2>&1)
  rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$1: exit 1, one line"
  tap_like "$err" "$3" "$1: the error says why"
  wait_clean "$id" 2
  tap_is "$(left_of "$id")" "" "$1: no state dir, no monitor"
}
RTN=0
rt_case "missing runtime" /nonexistent/runc "^oci: runtime '/nonexistent/runc': No such file or directory$"
cp "$T/bin/fail-runc" "$T/bin/noexec-runc" && chmod 0644 "$T/bin/noexec-runc"
rt_case "non-executable runtime" "$T/bin/noexec-runc" "^oci: runtime '.*noexec-runc' is not an executable file$"
rt_case "runtime that always fails" "$T/bin/fail-runc" "^oci: create '$P-rt[0-9]+': fail-runc: this runtime always fails$"
rt_case "runtime whose create fails" "$T/bin/failcreate-runc" "^oci: create '$P-rt[0-9]+': failcreate-runc: create refused on purpose$"
tap_is "$(ls -A "$ROOT" | tr '\n' ' ')" "" "failed runtimes leave nothing under --root"
# an empty SIFOCI_RUNTIME means the default, as unset does (it was an error)
id=$P-rt-empty
err=$(SIFOCI_RUNTIME= "$OCI" --root "$ROOT" create -b "$B" "$id" 2>&1 >/dev/null); rc=$?
tap_is "$rc:$(jq -r .runtime "$ROOT/$id/state.json" 2>/dev/null)" "0:runc" "SIFOCI_RUNTIME= (empty) creates with the default runtime ($err)"
"$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
wait_clean "$id" 2
tap_is "$(left_of "$id")" "" "... and its delete leaves nothing"

# =====================================================================
# 6. Two creates of one ID at once, 10 rounds
# =====================================================================
new_root race
won=0 msg_ok=0 one=0 clean=0
for r in $(seq 10); do
  id=$P-race$r
  "$OCI" --root "$ROOT" create -b "$B" "$id" >/dev/null 2>"$T/r1.err" &
  p1=$!
  "$OCI" --root "$ROOT" create -b "$B" "$id" >/dev/null 2>"$T/r2.err" &
  p2=$!
  wait $p1
  r1=$?
  wait $p2
  r2=$?
  lose=$T/r2.err
  [ $r2 = 0 ] && lose=$T/r1.err
  if [ "$r1$r2" = 01 ] || [ "$r1$r2" = 10 ]; then won=$((won + 1)); else tap_diag "round $r: exits $r1 and $r2"; fi
  if grep -Eq "^oci: (create '$id': )?container '$id' (already exists|is being created)$" "$lose" && [ "$(wc -l <"$lose")" = 1 ]; then
    msg_ok=$((msg_ok + 1))
  else
    tap_diag "round $r: loser said: $(cat "$lose")"
  fi
  if [ "$(oci list -q | tr '\n' ' ')" = "$id " ] && [ "$(ls -A "$ROOT" | tr '\n' ' ')" = "$id " ] &&
    [ "$(monitors_of "$id")" = 1 ] && [ "$(state_field "$id" .status)" = created ]; then
    one=$((one + 1))
  else
    tap_diag "round $r: list: $(oci list -q | tr '\n' ' ') dirs: $(ls -A "$ROOT" | tr '\n' ' ') monitors: $(monitors_of "$id")"
  fi
  oci delete -f "$id" >/dev/null 2>&1
  if wait_clean "$id" && [ -z "$(ls -A "$ROOT")" ]; then clean=$((clean + 1)); else tap_diag "round $r: left $(left_of "$id")"; fi
done
tap_is "$won" 10 "two creates of one ID: exactly one wins, in 10 of 10 rounds"
tap_is "$msg_ok" 10 "two creates of one ID: the loser says the ID exists, in one line"
tap_is "$one" 10 "two creates of one ID: exactly one container, one monitor"
tap_is "$clean" 10 "two creates of one ID: delete -f leaves nothing"

# =====================================================================
# 7. umount of a bundle a running container uses
# =====================================================================
new_root umount-busy
UB=$(bundle busy 'echo started; sleep 1000 & wait')
id=$P-busy
oci run -d -b "$UB" "$id" >/dev/null 2>&1
tap_is "$(state_field "$id" .status)" running "busy bundle: the container runs"
err=$(oci umount "$UB" 2>&1)
rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "busy bundle: umount refused, exit 1, one line"
tap_like "$err" "container '$id' uses it" "busy bundle: the error names the container"
tap_ok "$([ -n "$(awk -v p="$UB/rootfs" '$5 == p' /proc/self/mountinfo)" ] &&
  [ -n "$(awk -v p="$UB/.image" '$5 == p' /proc/self/mountinfo)" ] &&
  [ -n "$(loops_of "$BB")" ] && [ -e "$UB/.sifoci-mount.json" ] && [ -e "$UB/config.json" ]; echo $?)" \
  "busy bundle: rootfs, squashfs, loop device and record intact"
tap_is "$(oci exec "$id" cat /proc/1/cmdline | tr '\0' ' ')" "sh -c echo started; sleep 1000 & wait busy " "busy bundle: the container still works"
tap_run "busy bundle: delete -f" oci delete -f "$id"
tap_run "busy bundle: umount works after the delete" oci umount "$UB"
tap_ok "$([ ! -e "$UB" ] && [ -z "$(mounts_under "$UB")" ]; echo $?)" "busy bundle: removed"

# ---- the shared bundle, and the image's loop device
tap_run "umount the main bundle" "$OCI" umount "$B"
tap_is "$(loops_of "$BB")$(mounts_under "$T")" "" "no loop device, no mount left"
tap_done
