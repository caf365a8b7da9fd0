#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Container lifecycle with runc: the core suite, then run/attach on a
# terminal, detach and re-attach, two clients, signals, a killed monitor,
# logs, usage errors.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=
core_suite runc

# --- terminal: run with a resize, exit status through the pty
b=$(bundle tty '.process.terminal = true | .process.args = ["sh"]')
tap_run "run on a terminal: stty size follows a resize, exit status 5" \
  python3 "$PTY_DRIVE" --rows 24 --cols 80 'send=stty size\n' 'expect=24 80' resize=30x100 sleep=0.3 \
  'send=stty size\n' 'expect=30 100' 'send=exit 5\n' exit=5 -- "$OCI" --root "$ROOT" run -b "$b" tty1
tap_ok $(run_gone "$ROOT/tty1"; echo $?) "terminal run leaves no state dir"

# --- attach to a terminal container, detach with ctrl-p ctrl-q, re-attach
oci create -b "$b" tty2 2>/dev/null && oci start tty2
tap_run "attach, then detach with ctrl-p ctrl-q (exit 0, a note)" \
  python3 "$PTY_DRIVE" 'send=echo hel""lo\n' 'expect=hello' 'send=\x10\x11' \
  'expect=detached from container tty2' exit=0 -- "$OCI" --root "$ROOT" attach tty2
tap_is "$(state_field tty2 .status)" running "still running after the detach"
tap_run "--detach-keys z,z: one z passes through, zz detaches" \
  python3 "$PTY_DRIVE" 'send=echo az\n' 'expect=\naz' 'send=zz' 'expect=detached' exit=0 \
  -- "$OCI" --root "$ROOT" attach --detach-keys z,z tty2
tap_run "re-attach; the size follows; exit 3 is attach's status" \
  python3 "$PTY_DRIVE" --rows 33 --cols 101 'send=stty size\n' 'expect=33 101' 'send=exit 3\n' exit=3 \
  -- "$OCI" --root "$ROOT" attach tty2
tap_ok $(wait_status tty2 stopped; echo $?) "stopped after exit"
tap_is "$(state_field tty2 .exitCode)" 3 "exitCode 3"
out=$(oci attach tty2 2>/dev/null); rc=$?
tap_is "$rc:$out" "3:" "attach to a stopped container: its status, no output (a note on stderr)"
oci delete tty2

# --- attach before start: nothing is lost; two clients both get everything
b=$(bundle ticks ".process.args = $(sh_args 'for i in 1 2 3; do echo tick$i; sleep 0.2; done; exit 4')")
oci create -b "$b" two 2>/dev/null
oci attach --no-stdin two >"$T/a1.out" 2>&1 &
a1=$!
oci attach --no-stdin two >"$T/a2.out" 2>&1 &
a2=$!
sleep 0.5
oci start two
wait_bounded $a1; r1=$?
wait_bounded $a2; r2=$?
tap_is "$r1:$r2" "4:4" "two attach clients both get the exit status"
tap_is "$(cat "$T/a1.out" | tr '\n' ' ')|$(cat "$T/a2.out" | tr '\n' ' ')" \
  "tick1 tick2 tick3 |tick1 tick2 tick3 " "two attach clients both get all output (attached before start)"
oci delete two

# --- kill without a signal stops even an init that ignores SIGTERM
b=$(bundle ign ".process.args = $(sh_args 'trap "" TERM; echo up; while :; do sleep 1; done')")
oci create -b "$b" ign1 2>/dev/null && oci start ign1
start=$(date +%s)
err=$(oci kill --timeout 1 ign1 2>&1); rc=$?
tap_is "$rc" 0 "kill (no signal named) returns 0"
tap_like "$err" "still running after 1 s, sending SIGKILL" "kill says it escalated to SIGKILL"
tap_ok $(wait_status ign1 stopped; echo $?) "kill (no signal named): an init ignoring SIGTERM is stopped"
tap_is "$(state_field ign1 .exitCode)" 137 "exitCode 137 after the SIGKILL"
oci delete ign1
oci create -b "$b" ign2 2>/dev/null && oci start ign2
oci kill -s TERM ign2; sleep 1.5
tap_is "$(state_field ign2 .status)" running "kill -s TERM (named): no escalation, still running"
oci delete -f ign2

# --- run forwards signals; stdin reaches the container
b=$(bundle sig ".process.args = $(sh_args 'trap "echo got-usr1; exit 42" USR1; echo ready; sleep 1000 & wait')")
"$OCI" --root "$ROOT" run -b "$b" sig1 >"$T/sig.out" 2>&1 </dev/null &
rp=$!  # oci itself, not a subshell: no function here
for i in $(seq 50); do grep -q ready "$T/sig.out" 2>/dev/null && break; sleep 0.1; done
kill -USR1 $rp
wait_bounded $rp; rc=$?
tap_is "$rc:$(grep -c got-usr1 "$T/sig.out")" "42:1" "run forwards SIGUSR1 to the container"
b=$(bundle cat '.process.args = ["sh", "-c", "cat; echo done"]')
tap_is "$(printf 'line1\nline2\n' | oci run -b "$b" cat1)" "line1
line2
done" "run: stdin to the container, EOF closes it"

# --- run -d
b=$(bundle bg ".process.args = $(sh_args 'sleep 1000')")
err=$(oci run -d -b "$b" bg1 2>&1); rc=$?
tap_is "$rc" 0 "run -d exits 0"
tap_like "$err" "^Container bg1 created with PID [0-9]+$" "run -d says the PID"
tap_is "$(state_field bg1 .status)" running "run -d: running"
err=$(oci umount "$b" 2>&1); rc=$?
tap_is "$rc" 1 "umount refuses a bundle a live container uses"
tap_like "$err" "container 'bg1' uses it" "  ... and names the container"
err=$(oci delete bg1 2>&1); rc=$?
tap_is "$rc" 1 "delete refuses a running container"
tap_like "$err" "is running" "  ... and says so"
tap_run "delete -f kills and removes it" oci delete -f bg1
tap_ok $([ ! -e "$ROOT/bg1" ]; echo $?) "delete -f: no state dir"
tap_ok $(oci umount "$b" 2>&1 | grep -q 'uses it'; [ $? -ne 0 ]; echo $?) "umount no longer sees a user after the delete"

# --- the monitor killed with SIGKILL
oci run -d -b "$b" mk 2>/dev/null
mon=$(state_field mk .monitorPid)
cpid=$(state_field mk .pid)
kill -9 "$mon"
for i in $(seq 50); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
tap_is "$(state_field mk '.monitor + " " + .status')" "dead running" "state says the monitor is dead"
err=$(timeout 20 "$OCI" --root "$ROOT" attach mk 2>&1 </dev/null); rc=$?
tap_is "$rc" 125 "attach without a monitor: 125"
tap_like "$err" "monitor is dead" "  ... and says why"
tap_run "delete -f after a dead monitor" oci delete -f mk
tap_ok $([ ! -e "$ROOT/mk" ]; echo $?) "  ... no state dir"
tap_ok $(! alive "$cpid"; echo $?) "  ... no container process"

# --- logs: --tail, -f
b=$(bundle lines ".process.args = $(sh_args 'for i in 1 2 3 4 5; do echo line$i; sleep 0.1; done; printf partial')")
oci create -b "$b" lg 2>/dev/null
oci start lg
out=$(timeout 20 "$OCI" --root "$ROOT" logs -f lg); rc=$?
tap_is "$rc:$(echo "$out" | tr '\n' ' ')" "0:line1 line2 line3 line4 line5 partial " "logs -f follows until the exit"
tap_is "$(oci logs --tail 2 lg | tr '\n' ' ')" "line5 partial " "logs --tail 2"
oci delete lg

# --- a json log at a path of our choice
b=$(bundle jlog ".process.args = $(sh_args 'echo j-out; echo j-err >&2')")
oci run -b "$b" --log-format json --log-path "$T/j.log" jl1 </dev/null >/dev/null 2>&1
tap_is "$(jq -r .stream "$T/j.log" | sort | tr '\n' ' ')" "stderr stdout " "--log-format json --log-path: json records there"
oci create -b "$b" --log-format json --log-path "$T/j2.log" jl2 2>/dev/null
oci start jl2
wait_status jl2 stopped
tap_is "$(oci logs jl2 2>/dev/null)|$(oci logs jl2 2>&1 >/dev/null)" "j-out|j-err" "logs reads a json log"
oci delete jl2
tap_ok $([ -e "$T/j2.log" ]; echo $?) "a log outside the state dir stays after delete"

# --- usage and errors
oci kill nosuch NOTASIG >/dev/null 2>&1; tap_is "$?" 2 "kill with a bad signal: usage error"
oci state 'bad/id' >/dev/null 2>&1; tap_is "$?" 2 "an invalid ID is a usage error"
oci state nosuch >/dev/null 2>&1; tap_is "$?" 1 "unknown ID: 1"
oci create nosuch >/dev/null 2>&1; tap_is "$?" 2 "create without --bundle: usage error"
oci update nosuch >/dev/null 2>&1; tap_is "$?" 2 "update without -f: usage error"
tap_like "$("$OCI" run --help)" '^Usage: oci run' "run --help"

runs_settle "$ROOT"
tap_is "$(ls -A "$ROOT" | wc -l)" 0 "nothing left under --root"
tap_done
