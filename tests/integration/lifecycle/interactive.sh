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
tap_ok $([ ! -e "$ROOT/big1" ]; echo $?) "and nothing left behind"

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

tap_done
