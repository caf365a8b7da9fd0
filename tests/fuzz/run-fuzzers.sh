#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-fuzzers.sh [SECONDS] [HARNESS...]: build the libFuzzer harnesses with
# clang (ASan+UBSan) and run each for SECONDS (default 60) on one core,
# starting from the seed corpora.  Prints executions and crashes per harness.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
harnesses=${*:-sif image-config proto squashfs image-spec mount-record toml cdi-spec}
B=build-fuzz
[ -d $B ] || CC=clang meson setup $B -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C $B >/dev/null
shared=${SIFOCI_SHARED:-$(cd .. && pwd)/shared}/testdata/sif
for h in $harnesses; do
  work=$(mktemp -d)
  seeds=(tests/fuzz/corpus/$h)
  [ "$h" = sif ] && [ -d "$shared" ] && seeds+=("$shared")
  mkdir -p "$work/corpus" "$work/crashes"
  log=$work/log
  rc=0
  "$B/tests/fuzz/fuzz-$h" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1 "$work/corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  crashes=$(find "$work/crashes" -type f | wc -l)
  printf '%-13s %6ss  executions %-10s corpus %-5s crashes %s (exit %s)\n' "$h" "$secs" "${execs:-?}" \
    "$(ls "$work/corpus" | wc -l)" "$crashes" "$rc"
  if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "  artifacts kept in $work"; tail -30 "$log"
  else
    rm -rf "$work"
  fi
done
