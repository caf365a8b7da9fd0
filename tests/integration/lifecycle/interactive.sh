#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What an interactive user trips on (issue 11): a slow reader behind
# `oci run` gets every byte, re-attach redraws, a terminal bundle without a
# terminal, exit statuses 126/127 through run, argument errors that help,
# `oci exec`'s own words.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=
MB50=52428800

# --- 1. the foreground client is never dropped: it holds the output back
b=$(bundle big ".process.args = $(sh_args "head -c $MB50 /dev/zero; exit 3")")
out=$(oci run -b "$b" big1 </dev/null | (sleep 4; wc -c); echo "rc=${PIPESTATUS[0]}")
tap_is "$(echo $out)" "$MB50 rc=3" "run behind a reader paused 4 s: every byte of 50 MB, the container's status"
tap_ok $(run_gone "$ROOT/big1"; echo $?) "and nothing left behind"

b=$(bundle big-late ".process.args = $(sh_args "sleep 1; head -c $MB50 /dev/zero; exit 4")")
oci create -b "$b" big2 2>/dev/null && oci start big2
out=$(oci attach big2 </dev/null 2>/dev/null | (sleep 4; wc -c); echo "rc=${PIPESTATUS[0]}")
tap_is "$(echo $out)" "$MB50 rc=4" "attach behind a reader paused 4 s: every byte, the container's status"
oci delete -f big2 2>/dev/null
b=$(bundle big-forever ".process.args = $(sh_args "sleep 1; head -c $MB50 /dev/zero; sleep 1000")")
oci create -b "$b" big3 2>/dev/null && oci start big3
oci attach --drop-if-slow big3 </dev/null 2>"$T/drop.err" | (sleep 5; cat >/dev/null)
tap_like "$(cat "$T/drop.err")" \
  "^oci: attach 'big3': detached: you read nothing for 2 s; the container is still running" \
  "attach --drop-if-slow behind a stalled reader: dropped, and told so in words"
tap_is "$(state_field big3 .status)" running "and the container runs on"
oci delete -f big3 2>/dev/null

# --- 2. re-attach redraws: the shell's prompt comes back without a key
b=$(bundle tty '.process.terminal = true | .process.args = ["sh"]')
oci create -b "$b" tty1 2>/dev/null && oci start tty1
tap_run "attach, then detach with ctrl-p ctrl-q" \
  python3 "$PTY_DRIVE" 'send=echo hel""lo\n' 'expect=hello' 'send=\x10\x11' \
  'expect=\ndetached from container tty1' exit=0 -- "$OCI" --root "$ROOT" attach tty1
tap_run "re-attach: the prompt is redrawn with nothing typed" \
  python3 "$PTY_DRIVE" --timeout 5 'expect=/ # ' 'send=\x10\x11' exit=0 \
  -- "$OCI" --root "$ROOT" attach tty1
oci delete -f tty1 2>/dev/null

# --- 3. a terminal bundle without a terminal on stdin: it runs on pipes,
# gets the end of its input, and its output and status come back
out=$(echo 'echo from-a-pipe; exit 4' | timeout 20 "$OCI" --root "$ROOT" run -b "$b" tty2 2>&1); rc=$?
tap_is "$rc:$out" "4:from-a-pipe" "run of a terminal bundle fed from a pipe runs on pipes: output and status"
out=$(timeout 20 "$OCI" --root "$ROOT" run -b "$b" tty2 </dev/null 2>&1); rc=$?
tap_is "$rc" 0 "from /dev/null the shell gets its end of input and exits, no prompt forever"
tap_ok $(run_gone "$ROOT/tty2"; echo $?) "and leaves nothing"
oci run -d -b "$b" tty3 </dev/null 2>/dev/null; tap_is "$?" 0 "run -d of it is fine"
oci delete -f tty3 2>/dev/null

# --- 4. exit statuses of run and attach
b=$(bundle nocmd '.process.args = ["no-such-command"]')
oci run -b "$b" nf1 </dev/null 2>/dev/null; tap_is "$?" 127 "run of a missing command is 127"
b=$(bundle noexec '.process.args = ["/etc/not-exec"]')
oci run -b "$b" ne1 </dev/null 2>/dev/null; tap_is "$?" 126 "run of a non-executable is 126"
tap_ok $([ ! -e "$ROOT/nf1" ] && [ ! -e "$ROOT/ne1" ]; echo $?) "neither leaves a state dir"
b=$(bundle exit9 ".process.args = $(sh_args 'exit 9')")
oci create -b "$b" st1 2>/dev/null && oci start st1 && wait_status st1 stopped
err=$(oci attach st1 </dev/null 2>&1); rc=$?
tap_is "$rc:$err" "9:oci: attach 'st1': the container has stopped (exit status 9)" \
  "attach to a stopped container says so, with its status, and exits with it"
oci delete st1 2>/dev/null

# --- 5. argument errors that help
usage_is() { # usage_is DESCRIPTION EXPECTED-FIRST-LINE ARGS...: exit 2, that line
  local what=$1 want=$2 got rc; shift 2
  got=$(oci "$@" 2>&1 </dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$got" | head -1)" "2:$want" "$what"
}
usage_is "exec -x names -x, not 'exec'" "oci: exec: unknown option '-x'" exec -x c1 true
usage_is "exec -tx names -x" "oci: exec: unknown option '-x'" exec -tx c1 true
usage_is "an unknown long option is named" "oci: exec: unknown option '--frob'" exec --frob=1 c1 true
usage_is "--env without a value: missing value" "oci: exec: option '--env': missing value" exec --env
usage_is "--root without a value: missing value" "oci: option '--root': missing value" --root
usage_is "a typo of a verb: did you mean" "oci: unknown command 'strat': did you mean 'start'?" strat c1
usage_is "runc's -bundle is named" \
  "oci: run: unknown option '-bundle': long options take two dashes ('--bundle')" run -bundle "$T" c1
usage_is "words after run's ID: the command comes from config.json" \
  "oci: run: 'sh' after the ID: the command comes from config.json (process.args); use 'oci exec ID CMD...' for another one in the running container, or 'oci run IMAGE CMD...'" \
  run -b "$T" c1 sh -c ls
printf '%-32s' '#!/usr/bin/env run-singularity' >"$T/image.sif"; printf 'SIF_MAGIC\0' >>"$T/image.sif"
usage_is "run -b IMAGE.sif: that is an image" \
  "oci: run: bundle '$T/image.sif': that is an image: 'oci run --name c1 $T/image.sif' runs it from a bundle of its own (or 'oci mount $T/image.sif DIR', then 'oci run -b DIR c1')" \
  run -b "$T/image.sif" c1
b=$(bundle long "del(.hostname) | .process.args = $(sh_args 'sleep 1000')")
oci run -d -b "$b" ln1 2>/dev/null
err=$(oci run -d -b "$b" ln2 2>&1)
tap_like "$err" "^oci: warning: container 'ln1' runs from bundle '$b' too: the two share its writable layer" \
  "a second container on one bundle: a warning"
oci delete -f ln2 2>/dev/null
err=$(printf '{"pids": {"limit": 7' | oci update -f - ln1 2>&1); rc=$?
tap_is "$rc:$err" "1:oci: update: 'stdin' is not valid JSON: line 1, column 20: '}' expected near end of file" \
  "update with bad JSON names the position"
printf '{\n "pids": }' >"$T/bad.json"
tap_like "$(oci update -f "$T/bad.json" ln1 2>&1)" "'$T/bad.json' is not valid JSON: line 2, column 10" \
  "  ... from a file too"
tap_is "$(echo '{"pids": {"limit": 70}}' | oci update -f - ln1 2>&1; echo $?)" 0 "good JSON from stdin still works"
tap_is "$(ls "$ROOT/ln1" | grep -c update)" 0 "  ... and leaves no copy behind"
tap_is "$(oci exec -it ln1 echo combined 2>&1 </dev/null)" \
  "oci: exec -t: stdin is not a terminal (drop -t, or use a terminal)" "exec -it parses (-i a no-op, -t checked)"
tap_is "$(oci exec -i ln1 echo fine 2>&1 </dev/null)" "fine" "exec -i is accepted"

# --- 6. oci exec speaks for itself
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >"$ROOTFS/etc/passwd"
tap_is "$(oci exec -u nobody ln1 id -u 2>&1)" 65534 "exec -u NAME: resolved through the image's /etc/passwd"
err=$(oci exec -u nosuchuser ln1 id 2>&1); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | grep -c 'parsing')" "125:0" "exec -u unknown name: 125, no runc parse error"
tap_like "$err" "^oci: exec in 'ln1': -u 'nosuchuser'" "  ... ours, naming -u"
err=$(oci exec --cwd /nonexistent ln1 true 2>&1); rc=$?
tap_is "$rc:$err" "125:oci: exec 'ln1': --cwd '/nonexistent': no such directory in the container" \
  "exec --cwd to a missing dir names --cwd, in one line of ours"
err=$(oci exec ln1 no-such-command 2>&1); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "127:1" "exec of a missing command: 127 and one line"
tap_like "$err" "^oci: exec 'ln1': .*no-such-command.*not found" "  ... ours, naming the container and the command"
err=$(oci exec ln1 /etc/passwd 2>&1); rc=$?
tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "126:1" "exec of a non-executable: 126 and one line"
tap_like "$err" "^oci: exec 'ln1': .*/etc/passwd.*permission denied" "  ... ours, naming the file"
err=$(oci exec ln1 sh -c 'echo first >&2; echo last-line >&2; exit 127' 2>&1); rc=$?
tap_is "$rc:$err" "127:first
last-line" "a command's own 127 keeps its stderr, last line included, and gets no line of ours"
if freezer_works; then
  oci pause ln1
  err=$(oci exec ln1 true 2>&1); rc=$?
  tap_is "$rc:$err" "125:oci: exec 'ln1': the container is paused ('oci resume ln1' first)" \
    "exec in a paused container says so (no --ignore-paused)"
  oci resume ln1
fi

# --- 7. the hostname is the container's ID unless the bundle set one
tap_is "$(oci exec ln1 hostname)" ln1 "the hostname defaults to the container ID"
b=$(bundle placeholder ".hostname = \"sifoci\" | .process.args = $(sh_args 'hostname')")
tap_is "$(oci run -b "$b" hn0 </dev/null)" hn0 "  ... also over oci mount's placeholder"
b=$(bundle named ".hostname = \"chosen\" | .process.args = $(sh_args 'hostname')")
tap_is "$(oci run -b "$b" hn1 </dev/null)" chosen "a hostname set in config.json stands"
oci delete -f ln1 2>/dev/null

tap_done
