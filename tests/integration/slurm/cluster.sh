#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A one-node Slurm of its own (Debian's slurm-wlm and munge) in a directory,
# without systemd: what slurm.sh and the bench's Slurm row share.
#   cluster.sh start DIR   write DIR/etc/slurm.conf (ports: two free ones),
#                          start munged, slurmctld, slurmd, wait for the node
#                          to be idle; prints the node name.  PIDs in
#                          DIR/cluster.pids.  DIR/etc/oci.conf is the
#                          caller's to write (read for every step), and so
#                          is DIR/etc/prolog (slurm.conf's Prolog when it
#                          is there at start).
#   cluster.sh stop DIR    cancel every job, wait for the steps to end, stop
#                          the daemons by PID (reverse order).
# Layout: DIR/etc (slurm.conf), DIR/munge (socket, 0755: users' srun talk to
# it), DIR/munge-key (0700), DIR/ctld, DIR/spool, DIR/log.  Users' commands
# need SLURM_CONF=DIR/etc/slurm.conf.
set -u

free_ports() { # two free TCP ports next to each other, away from 6817/6818
  local p used
  used=$(ss -Htan | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
  for p in $(shuf -i 20000-40000 -n 50); do
    grep -qx "$p" <<<"$used" || grep -qx "$((p + 1))" <<<"$used" || { echo "$p"; return; }
  done
  return 1
}

pid_alive() { kill -0 "$1" 2>/dev/null; }

start() {
  local D=$1 port node n
  mkdir -p "$D/etc" "$D/munge" "$D/munge-key" "$D/ctld" "$D/spool" "$D/log"
  chmod 755 "$D" "$D/etc" "$D/munge"
  chmod 700 "$D/munge-key"
  port=$(free_ports) || { echo "cluster.sh: no free ports" >&2; return 1; }
  node=$(hostname -s)
  local prolog=
  [ -x "$D/etc/prolog" ] && prolog="Prolog=$D/etc/prolog"
  cat >"$D/etc/slurm.conf" <<EOF
ClusterName=sifoci-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
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
$prolog
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
  : >"$D/cluster.pids"
  head -c 1024 /dev/urandom >"$D/munge-key/munge.key"
  chmod 0400 "$D/munge-key/munge.key"
  # each in the foreground, so that $! is the daemon's PID
  munged --foreground --force --socket="$D/munge/munge.socket" --key-file="$D/munge-key/munge.key" \
    --pid-file="$D/munge-key/munged.pid" --log-file="$D/log/munged.log" \
    --seed-file="$D/munge-key/seed" </dev/null >"$D/log/munged.out" 2>&1 &
  echo $! >>"$D/cluster.pids"
  for n in $(seq 50); do [ -S "$D/munge/munge.socket" ] && break; sleep 0.1; done
  slurmctld -D -i -f "$D/etc/slurm.conf" </dev/null >"$D/log/slurmctld.out" 2>&1 &
  echo $! >>"$D/cluster.pids"
  slurmd -D -f "$D/etc/slurm.conf" </dev/null >"$D/log/slurmd.out" 2>&1 &
  echo $! >>"$D/cluster.pids"
  for n in $(seq 150); do
    case $(SLURM_CONF=$D/etc/slurm.conf sinfo -h -n "$node" -o %T 2>/dev/null) in
    idle | idle*)
      echo "$node"
      return 0
      ;;
    esac
    sleep 0.2
  done
  tail -5 "$D"/log/*.log "$D"/log/*.out | sed 's/^/# /' >&2
  echo "cluster.sh: the one-node Slurm did not come up" >&2
  return 1
}

stop() {
  local D=$1 pids i pid n
  [ -s "$D/cluster.pids" ] || return 0
  mapfile -t pids <"$D/cluster.pids"
  export SLURM_CONF=$D/etc/slurm.conf
  if pid_alive "${pids[1]:-0}"; then
    scancel --full >/dev/null 2>&1
    # steps end through RunTimeKill/Delete; their slurmstepd must go before slurmd
    for n in $(seq 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && ! pgrep -f "^slurmstepd: \[" >/dev/null && break
      sleep 0.2
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for n in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    for n in $(seq 20); do pid_alive "$pid" || break; sleep 0.1; done
  done
  : >"$D/cluster.pids"
}

case ${1:-} in
start | stop) [ $# = 2 ] && "$1" "$2" ;;
*)
  echo "usage: cluster.sh start|stop DIR" >&2
  exit 2
  ;;
esac
