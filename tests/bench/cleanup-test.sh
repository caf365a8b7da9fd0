#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark leaves nothing behind: `bench.py --quick --fail-row 5`
# (row 5 fails with an oci mount and two FUSE mounts live), then a run
# stopped by SIGTERM with idle containers up. After each: no mount under
# the work dir, no loop device on its images, no process with the run's tag
# (oci-monitor, conmon, squashfuse, fuse-overlayfs), no state dir, no work
# dir; the failed row is FAIL in the table and every other row ran.
. "$SIFOCI_TESTS/lib/tap.sh"
require_root
require_cmd python3 runc conmon jq mksquashfs siftool busybox squashfuse_ll fuse-overlayfs fusermount3 \
  munged slurmctld slurmd srun sinfo scancel
[ -e /dev/fuse ] || tap_skip_all "no /dev/fuse"
BENCH=$SIFOCI_TESTS/bench/bench.py
ROOT=${OCI_ROOT:-/run/sifoci}
T=$(mktemp -d /var/tmp/bench-cleanup.XXXXXX) # BENCH_TMPDIR: the work dirs go in here
# rows 8 and 9 run as a user the bench makes, whose dirs are in here too;
# row 13's one-node Slurm (munged, slurmctld, slurmd) lives in here as well
chmod 755 "$T"
O=$(mktemp -d /tmp/bench-cleanup-out.XXXXXX) # the bench's output, outside T

tap_unlike() { # tap_unlike GOT REGEX DESCRIPTION
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    tap_ok 1 "$3"
    printf '%s\n' "$1" | grep -E -- "$2" | head -5 | sed 's/^/#   /'
  else
    tap_ok 0 "$3"
  fi
}

# Processes whose command line holds the tag (bash only: a grep would match itself).
procs_with() {
  local f c p
  for f in /proc/[0-9]*/cmdline; do
    c=$( { tr '\0' ' ' <"$f"; } 2>/dev/null) || continue
    p=${f#/proc/}
    [[ $c != *"$1"* ]] || printf '%s: %s\n' "${p%/cmdline}" "${c:0:120}"
  done
}

# Checks after one run; $1 = its stderr, $2 = label.
check_left() {
  local err=$1 what=$2 tag wd i left
  tag=$(sed -n 's/^\[bench\] tag \(bench[0-9]*\); work dir \(.*\); building images$/\1/p' "$err")
  wd=$(sed -n 's/^\[bench\] tag bench[0-9]*; work dir \(.*\); building images$/\1/p' "$err")
  tap_like "$tag:$wd" "^bench[0-9]+:$T/" "$what: the bench said its tag and work dir"
  [ -n "$tag" ] || tag=never-matches-$$
  tap_is "$(awk -v p="$T/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo)" "" "$what: nothing mounted under the work dir"
  # another test's `unshare -m` may hold a copy of a mount for a while: bounded wait
  for i in $(seq 60); do
    left=$(losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$T/")
    [ -z "$left" ] && break
    sleep 0.5
  done
  tap_is "$left" "" "$what: no loop device on the bench's images"
  for i in $(seq 20); do
    left=$(procs_with "$tag")
    [ -z "$left" ] && break
    sleep 0.5
  done
  tap_is "$left" "" "$what: no process with the run's tag (monitors, conmons, FUSE daemons)"
  tap_is "$(ls "$ROOT" 2>/dev/null | grep "^$tag-")" "" "$what: no state dir under $ROOT"
  if command -v podman >/dev/null; then
    tap_is "$(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$tag-")" "" "$what: no podman container"
  fi
  tap_is "$(ls -A "$T")" "" "$what: the work dir is gone"
  tap_unlike "$(cat "$err")" "cleanup: |left behind" "$what: the clean-up reported no leftovers"
}

# 1. --quick with row 5 failing on purpose (fewer runs, a small big image: this
# is about the clean-up, not the figures)
t0=$(date +%s)
BENCH_TMPDIR=$T timeout 600 python3 -B "$BENCH" --quick --runs 3 --big-mib 64 --fail-row 5 >"$O/out" 2>"$O/err"
rc=$?
tap_diag "quick run with --fail-row 5: exit $rc after $(($(date +%s) - t0)) s"
tap_is "$rc" 1 "exit status 1 when a row failed"
tap_like "$(grep '^| 5 ' "$O/out")" 'FAIL: failing on purpose \(--fail-row 5\) with an oci mount.*\| FAIL +\|$' \
  "row 5 is FAIL in the table, with its reason"
rows="1a 1b 2 3a 3b 3c 3d 4a 4b 4c 4d 6a 6b 6c 8 9 10 11 12 13"
command -v podman >/dev/null || rows=${rows/1b /}
missing=
for r in $rows; do
  grep -Eq "^\| $r +\|.*\| (PASS|MISS|info|DROPPED [0-9/]+) +\|$" "$O/out" || missing="$missing $r"
done
tap_is "$missing" "" "every other row ran and has a result"
tap_like "$(cat "$O/err")" 'row 6 took' "the run went on after row 5"
check_left "$O/err" "fail-row 5"
[ "$TAP_FAILED" -eq 0 ] || { sed 's/^/#   /' "$O/err" | tail -40; }

# 2. SIGTERM while row 3 has idle containers up
BENCH_TMPDIR=$T timeout 300 python3 -B "$BENCH" --quick --only 3 --runs 3 >"$O/out2" 2>"$O/err2" &
pid=$!
for i in $(seq 240); do
  grep -q 'row 3a:' "$O/err2" && break
  sleep 0.5
done
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
tap_is "$rc" 130 "SIGTERM: the bench exits 130"
tap_like "$(cat "$O/err2")" 'interrupted, cleaning up' "SIGTERM: it says it cleans up"
check_left "$O/err2" "SIGTERM"

# our own dirs: T only when nothing is mounted under it (never rm -r across a mount)
if [ -z "$(awk -v p="$T" 'index($5, p) == 1' /proc/self/mountinfo)" ]; then
  rm -rf --one-file-system "$T"
else
  tap_diag "kept $T: still mounted under it"
fi
rm -rf "$O"
tap_done
