#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real one-node Slurm (Debian's slurm-wlm and munge, installed by
# tests/ci/deps.sh) running job steps through packaging/slurm/oci.conf.
# Everything lives in a temp dir: the config, a munge key, the daemons'
# spool, state and pid files, ports that were free; munged, slurmctld and
# slurmd are started here and stopped by PID at the end, with every job,
# container, monitor and mount.
#   tests/integration/slurm/slurm.sh [--bench]   (--bench: 10 steps through
#   sifoci vs plain runc, printed as a diagnostic)
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd runc jq munged slurmctld slurmd srun sbatch scontrol scancel sinfo squeue ss
SLURM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHIPPED_CONF=$SLURM_DIR/../../../packaging/slurm/oci.conf
[ -r "$SHIPPED_CONF" ] || tap_skip_all "no $SHIPPED_CONF"
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"
MONITOR=${OCI_MONITOR:-$(dirname "$OCI")/../monitor/oci-monitor}

T=$(mktemp -d /tmp/sifoci-slurm.XXXXXX)
chmod 755 "$T"
MAIN_PID=$BASHPID
PIDS=() # munged slurmctld slurmd, stopped in reverse
RUNROOT=$T/run/0
B=$T/bundle

stop_daemons() {
  local i pid n
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for n in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  PIDS=()
}

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local id n pid
  if [ ${#PIDS[@]} -gt 0 ]; then
    scancel --full -u root >/dev/null 2>&1
    # steps end through RunTimeKill/Delete; their slurmstepd must go before slurmd
    for n in $(seq 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && ! pgrep -f "^slurmstepd: \[" >/dev/null && break
      sleep 0.2
    done
  fi
  stop_daemons
  for id in $(ls "$RUNROOT" 2>/dev/null); do "$OCI" --root "$RUNROOT" delete -f "$id" >/dev/null 2>&1; done
  for pid in $(pgrep -f -- "--state-dir $T/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  [ -d "$B" ] && "$OCI" umount "$B" >/dev/null 2>&1
  release_mounts "$T" "$FX"
  [ -z "$(mounts_under "$T")" ] && rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT # meson's timeout: the EXIT trap still cleans up
trap 'exit 143' TERM

# two free TCP ports next to each other, away from the usual 6817/6818
free_ports() {
  local p used
  used=$(ss -Htan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
  for p in $(shuf -i 20000-40000 -n 50); do
    grep -qx "$p" <<<"$used" || grep -qx "$((p + 1))" <<<"$used" || { echo "$p"; return; }
  done
  return 1
}

# --- the bundle: a real SIF through `oci mount`; Slurm gives the args
"$OCI" mount "$FX/plain.sif" "$B" >/dev/null || tap_skip_all "oci mount failed"

# --- oci: the binary under test, found where the shipped file says /usr/bin/oci
mkdir -p "$T/bin" "$T/etc" "$T/munge" "$T/ctld" "$T/spool" "$T/log"
# (which also notes each call Slurm makes, for the diagnostics below)
printf '#!/bin/sh\necho "$(date +%%T.%%N) $(id -u) $*" >>%q\nOCI_MONITOR=%q exec %q "$@"\n' \
  "$T/log/oci-calls.log" "$MONITOR" "$OCI" >"$T/bin/oci"
chmod 755 "$T/bin/oci"
# the shipped oci.conf with only its paths changed
sed -e "s|/usr/bin/oci|$T/bin/oci|g" -e "s|/run/sifoci-slurm|$T/run|g" "$SHIPPED_CONF" >"$T/etc/oci.conf"
cp "$T/etc/oci.conf" "$T/etc/oci.conf.sifoci"

PORT=$(free_ports) || tap_skip_all "no free ports"
NODE=$(hostname -s)
cat >"$T/etc/slurm.conf" <<EOF
ClusterName=sifoci-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
StateSaveLocation=$T/ctld
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmdDebug=verbose
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
KillWait=5
MinJobAge=600
InactiveLimit=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
export SLURM_CONF=$T/etc/slurm.conf
unset SLURM_JOB_ID SLURM_JOBID

# --- the daemons, each in the foreground so that $! is its PID
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 0400 "$T/munge/munge.key"
chmod 0700 "$T/munge"
munged --foreground --force --socket="$T/munge/munge.socket" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/log/munged.log" --seed-file="$T/munge/seed" \
  >"$T/log/munged.out" 2>&1 &
PIDS+=($!)
for n in $(seq 50); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
PIDS+=($!)
idle=
for n in $(seq 150); do
  case $(sinfo -h -n "$NODE" -o %T 2>/dev/null) in idle | idle*) idle=1; break ;; esac
  sleep 0.2
done
if [ -z "$idle" ]; then
  tail -5 "$T"/log/*.log "$T"/log/*.out | sed 's/^/# /'
  tap_skip_all "the one-node Slurm did not come up"
fi
tap_ok 0 "munged, slurmctld and slurmd up, node $NODE idle after $((n / 5)).$((n % 5 * 2)) s"

# one container step; a hung one fails its case instead of the whole run
step() { timeout 60 srun -N1 -n1 --container="$B" "$@"; }

# what a finished step may not leave: container, state dir, monitor, spool copy, cgroup
# (KEEP: the time-limit job's container ID part, still running meanwhile)
KEEP=.none.
leftovers() {
  local what= ids spool
  ids=$(ls "$RUNROOT" 2>/dev/null | grep -vF -- "$KEEP")
  [ -n "$ids" ] && what+="state:$(echo $ids)"
  pgrep -af -- "--state-dir $RUNROOT/" | grep -vF -- "$KEEP" | grep -q . && what+=" monitor"
  spool=$(ls -d "$T"/spool/oci-job* 2>/dev/null | grep -v -- "${KEEP_SPOOL:-.none.}")
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
running_container() { # the one container of this state root, once running
  local n id
  for n in $(seq 150); do
    id=$(ls "$RUNROOT" 2>/dev/null | grep -vF -- "$KEEP" | head -1)
    if [ -n "$id" ] && [ "$("$OCI" --root "$RUNROOT" state "$id" 2>/dev/null | jq -r .status)" = running ]; then
      echo "$id"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# --- the time limit case runs first, in the background: slurmctld enforces
# limits in minutes, so it takes more than a minute; the other cases run meanwhile
srun -N1 -n1 -t 1 -J timelimit --container="$B" sleep 600 >"$T/tl.out" 2>&1 &
TL_SRUN=$!
TL_START=$SECONDS
for n in $(seq 100); do [ -n "$(squeue -h -n timelimit -t R -o %i)" ] && break; sleep 0.1; done
TL_JOB=$(squeue -h -n timelimit -o %i)
KEEP=".$TL_JOB."
KEEP_SPOOL=oci-job$(printf %05u "${TL_JOB:-0}")-

# --- output, stdin, exit codes
out=$(step sh -c 'echo to-stdout; echo to-stderr >&2' 2>"$T/err")
tap_is "$out|$(cat "$T/err")" "to-stdout|to-stderr" "srun --container: stdout and stderr separate"
out=$(printf 'line one\nline two\n' | step sh -c 'cat; echo end')
tap_is "$out" "$(printf 'line one\nline two\nend')" "stdin piped into the container"
step sh -c 'exit 3'
tap_is $? 3 "exit 3 in the container: srun exits 3"
# Slurm appends the job's environment to the image's: PATH twice, the
# job's last, as a shell that set it again would see it
out=$(PATH="/job/bin:$PATH" SIFOCI_SLURM_VAR=job step sh -c 'echo "$PATH|$SIFOCI_SLURM_VAR"; env | grep -c "^PATH="' </dev/null)
tap_is "$out" "$(printf '%s\n1' "/job/bin:$PATH|job")" "duplicate PATH from Slurm: the job's (the last) wins, once"

# --- a signal death: SIGKILL to the container's init from outside
step sleep 600 &
srun_pid=$!
id=$(running_container)
pid=$("$OCI" --root "$RUNROOT" state "$id" | jq -r .pid)
kill -KILL "$pid"
wait "$srun_pid"
tap_is $? 137 "container killed by SIGKILL: srun exits 128+9"
out=$(wait_clean 10)
tap_is "$?$out" 0 "after the signal death nothing is left"

# --- scancel of a running step: sleep as pid 1 ignores SIGTERM, so this needs
# RunTimeKill/Delete; the container must be gone within KillWait (5 s)
step -J cancelme sleep 600 &
srun_pid=$!
id=$(running_container)
job=$(squeue -h -n cancelme -o %i)
cpid=$("$OCI" --root "$RUNROOT" state "$id" | jq -r .pid)
t0=$SECONDS
scancel_at=$(date +%T.%N)
scancel "$job"
wait "$srun_pid"
gone=
for n in $(seq 80); do kill -0 "$cpid" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
tap_is "${gone:-still running}" 1 "scancel: the container's process ends (after $((SECONDS - t0)) s)"
out=$(wait_clean 10)
tap_is "$?$out" 0 "scancel: no container, monitor, state or spool copy left"
# Slurm runs Kill only after KillWait and two Queries (each an `oci state`:
# about 0.5 s here, over 1 s under ASan on a busy 2-core machine)
tap_ok $((SECONDS - t0 > 5 + 5)) "scancel: all gone within KillWait (5 s) + 5 s"
tap_diag "scancel at $scancel_at; Slurm's calls for job $job:"
grep -F ".$job." "$T/log/oci-calls.log" | sed "s|$T/||g; s/^/#   /"

# --- sbatch --container: the batch script in the container, its ExitCode
job=$(sbatch --parsable --container="$B" -o "$T/batch.%j.out" --wrap 'echo in-batch; exit 5')
for n in $(seq 150); do
  state=$(scontrol show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z]*')
  case $state in *PENDING | *RUNNING | *CONFIGURING | *COMPLETING | "") sleep 0.2 ;; *) break ;; esac
done
tap_like "$(scontrol show job "$job")" "ExitCode=5:0" "sbatch --container: job ExitCode 5:0"
# (22.05's slurmstepd appends its own complaint about the Query of the
# container it has just deleted: see the README)
tap_is "$(head -1 "$T/batch.$job.out" 2>/dev/null)" "in-batch" "sbatch --container: the batch output"

# --- 20 steps in a row
fails=0
for i in $(seq 20); do
  out=$(step sh -c "echo step-$i" </dev/null) && [ "$out" = "step-$i" ] || fails=$((fails + 1))
done
tap_is "$fails" 0 "20 steps in a row, each with its output and status 0"
out=$(wait_clean 10)
tap_is "$?$out" 0 "after 20 steps nothing is left"

# --- srun -t 1, started first: slurmctld ends it after a minute (+KillWait)
wait "$TL_SRUN"
tl_rc=$?
tap_ok $((tl_rc == 0)) "srun -t 1: the step was ended (srun $tl_rc after $((SECONDS - TL_START)) s)"
tap_like "$(cat "$T/tl.out")" "TIME LIMIT" "srun -t 1: Slurm says the time limit ended it"
KEEP=.none.
KEEP_SPOOL=
out=$(wait_clean 10)
tap_is "$?$out" 0 "time limit: no container, monitor, state or spool copy left"
tap_diag "Slurm's calls in all: $(awk '{print $5}' "$T/log/oci-calls.log" | sort | uniq -c | xargs)"

if [ "${1:-}" = --bench ]; then
  bench() { # bench N: N steps of /bin/true, milliseconds
    local t0 i
    t0=$(date +%s%N)
    for i in $(seq "$1"); do step true </dev/null; done
    echo $((($(date +%s%N) - t0) / 1000000))
  }
  # plain runc, run as Slurm's guide does, in the same mode
  sed -e "s|$T/bin/oci --root \([^ ]*\) state|runc --root \1-runc state|" \
    -e "s|$T/bin/oci --root \([^ ]*\) kill -s KILL|runc --root \1-runc kill|" \
    -e "s|$T/bin/oci --root \([^ ]*\) delete -f|runc --root \1-runc delete --force|" \
    -e "s|$T/bin/oci --root \([^ ]*\) run -b %b \(.*\)\"|runc --root \1-runc run \2 -b %b\"|" \
    "$T/etc/oci.conf.sifoci" >"$T/etc/oci.conf.runc"
  for round in 1 2 3; do
    q0=$(grep -c _try_parse "$T/log/slurmd.log")
    cp "$T/etc/oci.conf.runc" "$T/etc/oci.conf"
    r=$(bench 10)
    q1=$(grep -c _try_parse "$T/log/slurmd.log")
    cp "$T/etc/oci.conf.sifoci" "$T/etc/oci.conf"
    s=$(bench 10)
    q2=$(grep -c _try_parse "$T/log/slurmd.log")
    tap_diag "bench round $round: 10 container steps: sifoci $s ms, plain runc $r ms" \
      "(slurmstepd's Query complaints: sifoci $((q2 - q1)), runc $((q1 - q0)))"
  done
fi
tap_done
