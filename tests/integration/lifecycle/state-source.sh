#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci state` and `oci list` come from the monitor and the state dir, not
# from a runtime process per container: they agree with runc through
# create, start, pause, resume and the exit, start no runtime process
# while the monitor lives, and when the monitor is killed they ask the
# runtime and say so.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=
require_cmd strace
# LeakSanitizer cannot run under ptrace
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

runc_status() { runc --root "$ROOT/$1/runtime" state "$1" 2>/dev/null | jq -r .status; }
list_status() { oci list --format json | jq -r --arg id "$1" '.[] | select(.id == $id) | .status'; }
# the runtime processes `oci CMD...` starts
runtime_execs() {
  strace -f -qq -e trace=execve -o "$T/trace" "$OCI" --root "$ROOT" "$@" >/dev/null 2>&1
  grep -c 'execve("[^"]*/\(runc\|crun\)"' "$T/trace"
}
agree() { # agree ID STATUS WHEN
  tap_is "$(state_field "$1" .status) $(list_status "$1") $(runc_status "$1")" "$2 $2 $2" \
    "$3: state, list and runc say $2"
}

b=$(bundle src ".process.args = $(sh_args 'sleep 1000')")
oci create -b "$b" h18s1 2>/dev/null
agree h18s1 created "after create"
tap_is "$(runtime_execs state h18s1)" 0 "state of a created container runs no runtime"
tap_is "$(state_field h18s1 .statusSource)" monitor "statusSource: monitor"
oci start h18s1
tap_ok $(wait_status h18s1 running; echo $?) "running"
agree h18s1 running "after start"
tap_is "$(state_field h18s1 .pid)" "$(runc --root "$ROOT/h18s1/runtime" state h18s1 | jq .pid)" \
  "state's pid is runc's"
tap_is "$(runtime_execs state h18s1)" 0 "state of a running container runs no runtime"
tap_is "$(runtime_execs list)" 0 "list runs no runtime"
if freezer_works; then
  oci pause h18s1
  agree h18s1 paused "after pause"
  tap_is "$(runtime_execs list)" 0 "list of a paused container runs no runtime"
  oci resume h18s1
  agree h18s1 running "after resume"
fi
oci kill h18s1 KILL
tap_ok $(wait_status h18s1 stopped; echo $?) "stopped"
tap_is "$(state_field h18s1 .status) $(list_status h18s1)" "stopped stopped" \
  "after the exit: state and list say stopped (runc has forgotten it)"
oci delete h18s1

# the monitor killed: the runtime is asked, and the state says so
oci create -b "$b" h18s2 2>/dev/null && oci start h18s2
tap_ok $(wait_status h18s2 running; echo $?) "second container running"
mon=$(state_field h18s2 .monitorPid)
kill -9 "$mon"
for i in $(seq 50); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
tap_is "$(state_field h18s2 '[.monitor, .status, .statusSource] | join(" ")')" \
  "dead running runtime" "monitor killed: status from the runtime"
tap_like "$(state_field h18s2 .statusNote)" "monitor is gone" "  ... and the state says so"
agree h18s2 running "monitor killed"
tap_ok $([ "$(runtime_execs state h18s2)" -ge 1 ]; echo $?) "  ... a runtime process was asked"
tap_run "delete -f" oci delete -f h18s2
tap_done
