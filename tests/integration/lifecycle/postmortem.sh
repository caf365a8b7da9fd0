#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The monitor's post-mortem (exit.json, `oci state` of a stopped
# container): a container killed for memory says oomKilled true and 137,
# one killed by SIGKILL from outside 137 and oomKilled false; the runtime's
# container is gone once the monitor has finished, and `oci delete` runs
# no runtime process.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=

# 32 MiB, no swap on top; busybox dd with a 64 MiB block touches all of it
mem=$((32 << 20))
b=$(bundle oom ".linux.resources.memory = {limit: $mem, swap: $mem} |
  .process.args = [\"dd\", \"if=/dev/zero\", \"of=/dev/null\", \"bs=64M\", \"count=1\"]")
oci run -b "$b" h18oom1 </dev/null >/dev/null 2>&1; rc=$?
tap_is "$rc" 137 "a run that passes its 32 MiB limit ends with 137"

oci create -b "$b" h18oom2 2>/dev/null && oci start h18oom2
tap_ok $(wait_status h18oom2 stopped 20; echo $?) "the detached one stops"
st=$(oci state h18oom2)
tap_is "$(jq -r '[.status, .exitCode, .exitSignal, .oomKilled] | join(" ")' <<<"$st")" \
  "stopped 137 9 true" "state: stopped, exitCode 137, exitSignal 9, oomKilled true"
tap_like "$(jq -r .memoryPeak <<<"$st")" '^[0-9]+$' "state: memoryPeak is a number"
tap_ok $([ "$(jq -r .memoryPeak <<<"$st")" -le $((mem + (1 << 20))) ]; echo $?) \
  "memoryPeak is within the limit"
tap_like "$(jq -r .cpuTimeNs <<<"$st")" '^[0-9]+$' "state: cpuTimeNs is a number"
tap_is "$(jq -r .oomKilled "$ROOT/h18oom2/exit.json")" true "exit.json has oomKilled true"
tap_ok $(wait_gone "$ROOT/h18oom2/monitor.pid"; echo $?) "the monitor ends"
tap_ok $([ ! -e "$ROOT/h18oom2/runtime/h18oom2" ]; echo $?) \
  "the monitor deleted the runtime's container"
tap_is "$(runc --root "$ROOT/h18oom2/runtime" list -q)" "" "runc no longer lists it"

# `oci delete` of the stopped container starts no runtime: a runtime on
# PATH that would fail loudly is never run (the recorded path is absolute,
# so watch for any runc process under our root instead)
strace_ok=0
command -v strace >/dev/null && strace_ok=1
# LeakSanitizer cannot run under ptrace
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
if [ "$strace_ok" = 1 ]; then
  strace -f -qq -e trace=execve -o "$T/delete.trace" "$OCI" --root "$ROOT" delete h18oom2
  tap_is "$?" 0 "delete of the stopped container"
  tap_is "$(grep -c 'execve("[^"]*\(runc\|crun\)' "$T/delete.trace")" 0 \
    "delete ran no runtime process"
else
  tap_run "delete of the stopped container" oci delete h18oom2
fi
tap_ok $([ ! -e "$ROOT/h18oom2" ]; echo $?) "its state dir is gone"

# SIGKILL from outside: 137 too, but not for memory
b=$(bundle sleeper ".process.args = $(sh_args 'sleep 1000')")
oci create -b "$b" h18k9 2>/dev/null && oci start h18k9
tap_ok $(wait_status h18k9 running; echo $?) "running"
oci kill h18k9 KILL
tap_ok $(wait_status h18k9 stopped; echo $?) "stopped after kill -9"
tap_is "$(state_field h18k9 '[.exitCode, .exitSignal, .oomKilled] | join(" ")')" "137 9 false" \
  "kill -9: exitCode 137, exitSignal 9, oomKilled false"
if [ "$strace_ok" = 1 ]; then
  strace -f -qq -e trace=execve -o "$T/state-stopped.trace" "$OCI" --root "$ROOT" state h18k9 >/dev/null
  tap_is "$(grep -c 'execve("[^"]*\(runc\|crun\)' "$T/state-stopped.trace")" 0 \
    "state of a stopped container ran no runtime process"
fi
tap_run "delete" oci delete h18k9

# a normal exit: 0, oomKilled false
b=$(bundle zero ".process.args = [\"true\"]")
oci create -b "$b" h18z 2>/dev/null && oci start h18z
tap_ok $(wait_status h18z stopped; echo $?) "true stops"
tap_is "$(state_field h18z '[.status, .exitCode, .oomKilled] | join(" ")')" "stopped 0 false" \
  "true: stopped, 0, oomKilled false"
tap_run "delete" oci delete h18z

# The init gone while its last output is still on its way to a client that
# is behind (oci run's reader sleeps; 4 MB is more than the client's queue
# and pipe hold, less than that plus the container's pipe): the first state
# that is not running is stopped with the exit code, never without it.
b=$(bundle behind ".process.args = $(sh_args 'head -c 4000000 /dev/zero; exit 3')")
oci run -b "$b" h18behind </dev/null 2>/dev/null | { sleep 1; cat >/dev/null; } &
job=$!
first=
for i in $(seq 200); do
  first=$(state_field h18behind '.status + " " + (.exitCode|tostring)')
  case $first in "running"* | "creat"* | "") sleep 0.02 ;; *) break ;; esac
done
tap_is "$first" "stopped 3" "a stopped container's state has its exit code while a client is behind"
wait "$job"
tap_ok $(run_gone "$ROOT/h18behind"; echo $?) "... and the run is removed once the reader has it"

# A status the monitor cannot learn (the runtime wrote the pid of a process
# that is not the monitor's to reap): the foreground run ends, exit 125,
# saying so, rather than waiting for an EXIT that cannot come.
cat >"$T/foreign-runtime" <<'SH'
#!/bin/sh
case " $* " in *" run "* | *" create "*)
  while [ $# -gt 0 ]; do [ "$1" = --pid-file ] && pf=$2; shift; done
  echo "$H18_FOREIGN_PID" >"$pf" ;;
esac
exit 0
SH
chmod 0755 "$T/foreign-runtime"
sleep 1 &
export H18_FOREIGN_PID=$!
timeout -k 5 30 "$OCI" --root "$ROOT" --runtime "$T/foreign-runtime" run -b "$b" h18unk \
  </dev/null >/dev/null 2>"$T/unk.err"
rc=$?
unset H18_FOREIGN_PID
tap_is "$rc:$(wc -l <"$T/unk.err")" "125:1" "a run whose exit status is unknown ends: 125, one line"
tap_like "$(cat "$T/unk.err")" "h18unk.*exit status is unknown" "... saying the exit status is unknown"
tap_ok $(run_gone "$ROOT/h18unk"; echo $?) "... and its monitor removes it"
wait
tap_done
