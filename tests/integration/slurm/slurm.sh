#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real one-node Slurm (Debian's slurm-wlm and munge, installed by
# tests/ci/deps.sh; started and stopped by PID by cluster.sh) running job
# steps through packaging/slurm/oci.conf, with packaging/slurm/
# prolog-sifoci.sh as its Prolog: the shipped files with only their paths
# changed.  The cases run twice: as root with a kernel-mounted bundle, and
# as an unprivileged user made here (useradd, a subordinate range) with the
# rootless bundle it made itself (`oci mount --method extract`), its steps
# run by its own srun/sbatch/scancel.  Everything lives in a temp dir; at
# the end no job, container, monitor, mount, state dir or user is left.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd runc jq munged slurmctld slurmd srun sbatch scontrol scancel sinfo squeue ss \
  useradd userdel setpriv newuidmap newgidmap
SLURM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$SLURM_DIR/cluster.sh
SHIPPED=$SLURM_DIR/../../../packaging/slurm
[ -r "$SHIPPED/oci.conf" ] && [ -r "$SHIPPED/prolog-sifoci.sh" ] || tap_skip_all "no $SHIPPED/oci.conf"
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"
MONITOR=${OCI_MONITOR:-$(dirname "$OCI")/../monitor/oci-monitor}

T=$(mktemp -d /tmp/sifoci-slurm.XXXXXX)
chmod 755 "$T"
MAIN_PID=$BASHPID
B=$T/bundle # root's
U=sfsl$$    # the unprivileged user, its bundle $UB in its home $UH
UH=$T/uhome
UB=$UH/b
export SLURM_CONF=$T/etc/slurm.conf
unset SLURM_JOB_ID SLURM_JOBID

as_user() { # CMD as the user, a clean environment (+ Slurm's config)
  setpriv --reuid="$UID_U" --regid="$(id -g "$U")" --init-groups --reset-env -- \
    env HOME="$UH" USER="$U" LOGNAME="$U" PATH=/usr/local/bin:/usr/bin:/bin SLURM_CONF="$SLURM_CONF" "$@"
}

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local id pid r uid
  "$CLUSTER" stop "$T"
  # root's delete -f acts as the owner in the user's state root
  for r in "$T"/run/*; do
    for id in $(ls "$r" 2>/dev/null); do "$OCI" --root "$r" delete -f "$id" >/dev/null 2>&1; done
  done
  for pid in $(pgrep -f -- "--state-dir $T/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  [ -d "$B" ] && "$OCI" umount "$B" >/dev/null 2>&1
  if uid=$(id -u "$U" 2>/dev/null); then
    [ -e "$UB/.sifoci-mount.json" ] && as_user "$OCI" umount "$UB" >/dev/null 2>&1
  fi
  test_user_remove "$U"
  release_mounts "$T" "$FX"
  [ -z "$(mounts_under "$T")" ] && rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT # meson's timeout: the EXIT trap still cleans up
trap 'exit 143' TERM

# --- the user, with a range of its own far above the usual allocations
test_user_add "$U" "$UH" --subids || tap_skip_all "useradd failed"
UID_U=$(id -u "$U")
install -d -m 0755 -o "$U" -g "$U" "$UH"
mkdir -p "$T/img" "$T/bin" "$T/etc" "$T/log"
cp "$FX/plain.sif" "$T/img/plain.sif"
chmod 644 "$T/img/plain.sif"

# --- the bundles: a real SIF; Slurm gives the args
"$OCI" mount "$T/img/plain.sif" "$B" >/dev/null || tap_skip_all "oci mount failed"
as_user test -x "$OCI" || tap_skip_all "'$OCI' is not reachable for an ordinary user"
as_user "$OCI" mount --method extract "$T/img/plain.sif" "$UB" >/dev/null ||
  tap_skip_all "oci mount --method extract as $U failed"

# --- oci: the binary under test, found where the shipped file says /usr/bin/oci
# (a wrapper that also notes each call Slurm makes, for the diagnostics)
printf '#!/bin/sh\necho "$(date +%%T.%%N) $(id -u) $*" >>%q\nOCI_MONITOR=%q exec %q "$@"\n' \
  "$T/log/oci-calls.log" "$MONITOR" "$OCI" >"$T/bin/oci"
chmod 755 "$T/bin/oci"
install -m 0666 /dev/null "$T/log/oci-calls.log" # root's calls and the user's
# the shipped files with only their paths changed
ship() { sed -e "s|/usr/bin/oci|$T/bin/oci|g" -e "s|/run/sifoci-slurm|$T/run|g" "$SHIPPED/$1"; }
ship oci.conf >"$T/etc/oci.conf"
ship prolog-sifoci.sh >"$T/etc/prolog"
chmod 755 "$T/etc/prolog"
t0=$SECONDS
NODE=$("$CLUSTER" start "$T") || tap_skip_all "the one-node Slurm did not come up"
tap_ok 0 "munged, slurmctld and slurmd up, node $NODE idle after $((SECONDS - t0)) s"

# WHO's one container step; a hung one fails its case instead of the whole run
step() {
  local who=$1
  shift
  if [ "$who" = root ]; then
    timeout "${STEP_TIMEOUT:-60}" srun -N1 -n1 --container="$B" "$@"
  else
    as_user timeout "${STEP_TIMEOUT:-60}" srun -N1 -n1 --container="$UB" "$@"
  fi
}
as_who() { # as_who WHO CMD...: CMD as root or as the user
  local who=$1
  shift
  if [ "$who" = root ]; then "$@"; else as_user "$@"; fi
}
runroot_of() { [ "$1" = root ] && echo "$T/run/0" || echo "$T/run/$UID_U"; }

# what a finished step may not leave: container, state dir, monitor, spool copy
# (KEEP: the time-limit jobs' container ID parts, still running meanwhile)
KEEP=.none.
KEEP_SPOOL=.none.
leftovers() {
  local what= ids spool
  ids=$(find "$T"/run -mindepth 2 -maxdepth 2 -printf '%f\n' 2>/dev/null | grep -vE -- "$KEEP")
  [ -n "$ids" ] && what+="state:$(echo $ids)"
  pgrep -af -- "--state-dir $T/run/" | grep -vE -- "$KEEP" | grep -q . && what+=" monitor"
  spool=$(ls -d "$T"/spool/oci-job* 2>/dev/null | grep -vE -- "$KEEP_SPOOL")
  [ -n "$spool" ] && what+=" spool-copy:$spool"
  echo "$what"
}
wait_clean() { # wait_clean SECONDS: until nothing is left, or SECONDS
  local n left
  for n in $(seq $(($1 * 10))); do
    left=$(leftovers)
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "$left"
  return 1
}
running_container() { # running_container WHO: the one container in WHO's state root, once running
  local n id r
  r=$(runroot_of "$1")
  for n in $(seq 150); do
    id=$(ls "$r" 2>/dev/null | grep -vE -- "$KEEP" | head -1)
    if [ -n "$id" ] && [ "$("$OCI" --root "$r" state "$id" 2>/dev/null | jq -r .status)" = running ]; then
      echo "$id"
      return 0
    fi
    sleep 0.1
  done
  return 1
}
job_named() { # job_named NAME: its ID once it runs
  local n
  for n in $(seq 100); do
    [ -n "$(squeue -h -n "$1" -t R -o %i)" ] && break
    sleep 0.1
  done
  squeue -h -n "$1" -o %i
}

# --- the time limit cases run first, in the background: slurmctld enforces
# limits in minutes, so each takes more than a minute; the others run meanwhile
declare -A TL_SRUN TL_JOB
TL_START=$SECONDS
for who in root user; do
  STEP_TIMEOUT=200 step "$who" -t 1 -J "timelimit-$who" sleep 600 >"$T/tl-$who.out" 2>&1 &
  TL_SRUN[$who]=$!
  TL_JOB[$who]=$(job_named "timelimit-$who")
done
KEEP="\.(${TL_JOB[root]:-none}|${TL_JOB[user]:-none})\."
KEEP_SPOOL="oci-job0*(${TL_JOB[root]:-none}|${TL_JOB[user]:-none})-"

cases() { # cases WHO: every case as root or as the user
  local who=$1 out got id pid srun_pid job cpid t0 gone n state fails i r
  r=$(runroot_of "$who")
  tap_diag "--- as $who (state root $r)"
  out=$(step "$who" sh -c 'echo to-stdout; echo to-stderr >&2' 2>"$T/err")
  got="$out|$(cat "$T/err")"
  tap_is "$got" "to-stdout|to-stderr" "$who: srun --container: stdout and stderr separate"
  # a failure that printed the same text once: show the bytes
  [ "$got" = "to-stdout|to-stderr" ] || tap_diag "bytes: $(printf '%s' "$got" | od -An -c | tr -s ' ')"
  out=$(printf 'line one\nline two\n' | step "$who" sh -c 'cat; echo end')
  tap_is "$out" "$(printf 'line one\nline two\nend')" "$who: stdin piped into the container"
  step "$who" sh -c 'exit 3'
  tap_is $? 3 "$who: exit 3 in the container: srun exits 3"
  # Slurm appends the job's environment to the image's: PATH twice, the
  # job's last, as a shell that set it again would see it
  out=$(as_who "$who" env PATH="/job/bin:/usr/bin:/bin" SIFOCI_SLURM_VAR=job \
    timeout 60 srun -N1 -n1 --container="$([ "$who" = root ] && echo "$B" || echo "$UB")" \
    sh -c 'echo "$PATH|$SIFOCI_SLURM_VAR"; env | grep -c "^PATH="' </dev/null)
  tap_is "$out" "$(printf '%s\n1' "/job/bin:/usr/bin:/bin|job")" "$who: duplicate PATH from Slurm: the job's (the last) wins, once"
  [ "$who" = root ] || tap_is "$(step "$who" id -u </dev/null)" 0 "$who: the user is root in the container's user namespace"

  # --- a signal death: SIGKILL to the container's init from outside
  step "$who" sleep 600 &
  srun_pid=$!
  id=$(running_container "$who")
  pid=$("$OCI" --root "$r" state "$id" | jq -r .pid)
  kill -KILL "$pid"
  wait "$srun_pid"
  tap_is $? 137 "$who: container killed by SIGKILL: srun exits 128+9"
  out=$(wait_clean 10)
  tap_is "$?$out" 0 "$who: after the signal death nothing is left"

  # --- scancel (by the job's owner) of a running step: sleep as pid 1
  # ignores SIGTERM, so this needs RunTimeKill/Delete (run by root, in the
  # user's state root for the user's job); gone within KillWait (5 s)
  step "$who" -J "cancelme-$who" sleep 600 &
  srun_pid=$!
  id=$(running_container "$who")
  job=$(squeue -h -n "cancelme-$who" -o %i)
  cpid=$("$OCI" --root "$r" state "$id" | jq -r .pid)
  t0=$SECONDS
  tap_diag "scancel of job $job at $(date +%T.%N)"
  as_who "$who" scancel "$job"
  wait "$srun_pid"
  gone=
  for n in $(seq 80); do kill -0 "$cpid" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
  tap_is "${gone:-still running}" 1 "$who: scancel: the container's process ends (after $((SECONDS - t0)) s)"
  out=$(wait_clean 10)
  tap_is "$?$out" 0 "$who: scancel: no container, monitor, state or spool copy left"
  # Slurm runs Kill only after KillWait and two Queries (each an `oci state`:
  # about 0.5 s here, over 1 s under ASan on a busy 2-core machine, and 9-10 s
  # in all once at load 15), then the clean-up: a bound, not a benchmark
  tap_ok $((SECONDS - t0 > 5 + 15)) "$who: scancel: all gone within KillWait (5 s) + 15 s"
  tap_diag "Slurm's calls for job $job:"
  grep -F ".$job." "$T/log/oci-calls.log" | sed "s|$T/||g; s/^/#   /"

  # --- sbatch --container: the batch script in the container, its ExitCode
  install -d -m 0755 -o "$(runroot_of "$who" | xargs basename)" "$T/batch-$who"
  job=$(as_who "$who" sbatch --parsable --container="$([ "$who" = root ] && echo "$B" || echo "$UB")" \
    -o "$T/batch-$who/%j.out" --wrap 'echo in-batch; exit 5')
  for n in $(seq 150); do
    state=$(scontrol show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z]*')
    case $state in *PENDING | *RUNNING | *CONFIGURING | *COMPLETING | "") sleep 0.2 ;; *) break ;; esac
  done
  tap_like "$(scontrol show job "$job")" "ExitCode=5:0" "$who: sbatch --container: job ExitCode 5:0"
  # (22.05's slurmstepd appends its own complaint about the Query of the
  # container it has just deleted: see the README)
  tap_is "$(head -1 "$T/batch-$who/$job.out" 2>/dev/null)" "in-batch" "$who: sbatch --container: the batch output"

  # --- 20 steps in a row
  fails=0
  for i in $(seq 20); do
    out=$(step "$who" sh -c "echo step-$i" </dev/null) && [ "$out" = "step-$i" ] || fails=$((fails + 1))
  done
  tap_is "$fails" 0 "$who: 20 steps in a row, each with its output and status 0"
  out=$(wait_clean 10)
  tap_is "$?$out" 0 "$who: after 20 steps nothing is left"
}
cases root
cases user
tap_is "$(stat -c '%U %a' "$T/run/$UID_U")|$(stat -c '%U %a' "$T/run")" "$U 700|root 755" \
  "the Prolog made the user's state root (the user's, 0700) in a root-owned 0755 directory"
# the wrapper's line: TIME UID --root ROOT VERB ... ID
tap_is "$(awk -v u="$UID_U" -v n=".$U." '$5 == "run" && index($NF, n) { print ($2 == u && $4 ~ "/run/" u "$") ? "user" : "WRONG" }' \
  "$T/log/oci-calls.log" | sort -u)" "user" \
  "the user's RunTimeRuns ran as the user, in its state root"
tap_is "$(awk -v u="$UID_U" -v n=".$U." '$5 != "run" && index($NF, n) { print ($2 == 0 && $4 ~ "/run/" u "$") ? "root" : "WRONG" }' \
  "$T/log/oci-calls.log" | sort -u)" "root" \
  "its Query/Kill/Delete ran as root, in the user's state root"

# --- srun -t 1, started first: slurmctld ends it after a minute (+KillWait)
for who in root user; do
  wait "${TL_SRUN[$who]}"
  rc=$?
  tap_ok $((rc == 0)) "$who: srun -t 1: the step was ended (srun $rc after $((SECONDS - TL_START)) s)"
  tap_like "$(cat "$T/tl-$who.out")" "TIME LIMIT" "$who: srun -t 1: Slurm says the time limit ended it"
done
KEEP=.none.
KEEP_SPOOL=.none.
out=$(wait_clean 10)
tap_is "$?$out" 0 "time limits: no container, monitor, state or spool copy left"
tap_diag "Slurm's calls in all (uid verb): $(awk '{print $2, $5}' "$T/log/oci-calls.log" | sort | uniq -c | xargs)"
tap_done
