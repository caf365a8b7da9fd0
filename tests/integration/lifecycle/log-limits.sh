#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --log-size-max BYTES and --log-rotate N on create and run: the log is
# rotated at BYTES into LOG.1 .. LOG.N (the oldest dropped), no file passes
# BYTES, and bad values are usage errors that leave nothing behind.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=

b=$(bundle lines ".process.args = $(sh_args 'i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); done')")
out=$(oci run -b "$b" --log-path "$T/r.log" --log-size-max 200 --log-rotate 3 h18lr1 </dev/null)
tap_is "$(printf '%s\n' "$out" | wc -l)" 60 "run: every line reaches the client"
tap_is "$(ls "$T" | grep -c '^r\.log')" 4 "run: the log and 3 rotated files"
tap_ok $([ ! -e "$T/r.log.4" ]; echo $?) "no fourth rotated file"
big=0
for f in "$T"/r.log*; do [ "$(stat -c %s "$f")" -le 200 ] || big=1; done
tap_is "$big" 0 "no file passes 200 bytes"
tap_like "$(tail -n 1 "$T/r.log")" 'line-59$' "the newest lines are in the log"
tap_like "$(head -n 1 "$T/r.log.1")" 'line-[0-9]+$' "LOG.1 holds the lines before"

oci create -b "$b" --log-path "$T/c.log" --log-size-max 300 h18lr2 2>/dev/null && oci start h18lr2
tap_ok $(wait_status h18lr2 stopped; echo $?) "create: stopped"
tap_is "$(ls "$T" | grep -c '^c\.log')" 2 "create: --log-size-max alone keeps one rotated file"
oci delete h18lr2

err=$(oci run -b "$b" --log-rotate 2 h18lr3 2>&1 </dev/null); rc=$?
tap_is "$rc" 2 "--log-rotate without --log-size-max: usage error"
tap_like "$err" "needs --log-size-max" "  ... says why"
err=$(oci create -b "$b" --log-size-max 12x h18lr3 2>&1); rc=$?
tap_is "$rc:$(head -n1 <<<"$err")" "2:oci: --log-size-max '12x': give a number of bytes above 0" \
  "--log-size-max 12x: usage error"
err=$(oci create -b "$b" --log-size-max 100 --log-rotate 0 h18lr3 2>&1); rc=$?
tap_is "$rc" 2 "--log-rotate 0: usage error"
tap_ok $([ ! -e "$ROOT/h18lr3" ]; echo $?) "refused: no state dir"
tap_done
