#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci run`: one runtime call (`run --detach`) that starts the container
# with the client already attached, and output straight to the client's
# pipe (the monitor writes to it): the first byte arrives every time, the
# exit code too, 64 MiB come through equal to the log, stdout and stderr
# stay apart, and a reader that sleeps gets everything without the
# monitor buffering more than its bound.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
require_cmd sha256sum

# the runtime behind a wrapper that records each call's verb
CALLS=$T/calls
cat >"$T/rt" <<EOF
#!/bin/sh
for a in "\$@"; do
  case \$a in run|create|start|delete|state|kill) echo "\$a" >>"$CALLS"; break;; esac
done
exec runc "\$@"
EOF
chmod 755 "$T/rt"
RUNTIME=$T/rt
calls() { sort "$CALLS" 2>/dev/null | uniq -c | awk '{printf "%s%s:%s", sep, $2, $1; sep=" "}'; }

# --- one runtime call ---
b=$(bundle one '.process.args = ["printf", "x"]')
: >"$CALLS"
out=$(oci run -b "$b" h18run-one </dev/null)
tap_is "$out" "x" "oci run prints the container's output"
tap_is "$(calls)" "delete:1 run:1" "one 'run' call starts it (no create, no start); the monitor's delete ends it"
: >"$CALLS"
oci run -d -b "$b" h18run-d </dev/null 2>/dev/null
tap_ok $? "oci run -d"
wait_status h18run-d stopped 10
tap_is "$(state_field h18run-d .exitCode)" 0 "-d: stopped with exit code 0, from the monitor's record"
oci delete h18run-d
tap_like "$(calls)" "^(delete:1 )?run:1$" "-d: one 'run' call too"

# --- the first byte, every time ---
bad=0
for i in $(seq 50); do
  out=$(oci run -b "$b" h18run-x </dev/null 2>&1)
  [ "$out" = x ] || { bad=$((bad + 1)); tap_diag "run $i printed '$out'"; }
done
tap_is "$bad" 0 "50 runs of 'printf x' print x every time"

# --- the exit code ---
b=$(bundle code ".process.args = $(sh_args 'echo out; echo err >&2; exit 7')")
oci run -b "$b" h18run-code </dev/null >"$T/code.out" 2>"$T/code.err"
tap_is $? 7 "the exit code reaches the client"
tap_is "$(cat "$T/code.out")" "out" "stdout to our stdout (a file)"
tap_is "$(cat "$T/code.err")" "err" "stderr to our stderr, apart"
# (the order of two streams read from two pipes is only what the monitor
# saw first: apart in time, as a terminal user sees them)
b=$(bundle code2 ".process.args = $(sh_args 'echo out; sleep 0.2; echo err >&2; exit 7')")
out=$(oci run -b "$b" h18run-code 2>&1 </dev/null | cat)
tap_is "$out" "out
err" "both into one pipe (2>&1)"

# --- 64 MiB: the client's bytes, the log's and the file's agree ---
head -c $((64 << 20)) /dev/urandom >"$ROOTFS/tmp/data"
want=$(sha256sum <"$ROOTFS/tmp/data" | cut -d' ' -f1)
# the log's exact bytes from its CRI records: F ends a line, P is a part;
# a last empty F after a P ends output that had no newline at its end
log_bytes() {
  python3 -c '
import sys
out, tags = sys.stdout.buffer, [b"F", b"F"]
pending = b""
for line in open(sys.argv[1], "rb"):
    _, stream, tag, text = line[:-1].split(b" ", 3)
    if stream != b"stdout":
        continue
    out.write(pending)
    pending = text + (b"\n" if tag == b"F" else b"")
    tags = [tags[1], tag]
if not (tags == [b"P", b"F"] and pending == b"\n"):
    out.write(pending)
' "$1"
}
b=$(bundle big '.process.args = ["cat", "/tmp/data"]')
got=$(oci run -b "$b" --log-path "$T/big.log" h18run-big </dev/null |
  sha256sum | cut -d' ' -f1)
tap_is "$got" "$want" "64 MiB through a pipe: the client's bytes are the file's"
tap_is "$(log_bytes "$T/big.log" | sha256sum | cut -d' ' -f1)" "$want" "and the log's bytes too"

# --- a reader that sleeps (longer than the stall time of an unheld
# client), then reads slowly: everything arrives, the monitor stays small ---
rm -f "$T/big.log"
slow_reader() {
  python3 -c '
import hashlib, os, sys, time
time.sleep(3)
h = hashlib.sha256()
while True:
    b = os.read(0, 1 << 20)
    if not b:
        break
    h.update(b)
    time.sleep(0.02)
print(h.hexdigest())
'
}
(oci run -b "$b" --log-path "$T/big.log" h18run-slow </dev/null |
  slow_reader >"$T/slow.sum") &
job=$!
sleep 1.5
mon=$(pgrep -f -- "--state-dir $ROOT/h18run-slow" | head -1)
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$mon/status" 2>/dev/null)
sleep 1
rss2=$(awk '/^VmRSS/ {print $2}' "/proc/$mon/status" 2>/dev/null)
wait "$job"
tap_is "$(cat "$T/slow.sum")" "$want" "a sleeping, then slow reader gets all 64 MiB"
tap_is "$(log_bytes "$T/big.log" | sha256sum | cut -d' ' -f1)" "$want" "and the log has every byte"
tap_diag "monitor VmRSS while the reader slept: ${rss1:-?} KiB, ${rss2:-?} KiB"
tap_ok $([ -n "$rss2" ] && [ "$rss2" -lt 16384 ]; echo $?) \
  "the monitor holds output back (under 16 MiB resident), it does not buffer it"

# --- a reader that goes away: the container runs on, the log has it all ---
got=$(oci run -b "$b" --log-path "$T/gone.log" h18run-gone </dev/null |
  head -c 10 | wc -c)
tap_is "$got" 10 "a reader that takes 10 bytes and leaves"
tap_is "$(log_bytes "$T/gone.log" | sha256sum | cut -d' ' -f1)" "$want" \
  "the container ran to its end: the log has every byte"
tap_ok $(run_gone "$ROOT/h18run-gone"; echo $?) "and its state dir is gone"
tap_done
