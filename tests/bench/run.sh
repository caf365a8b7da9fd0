#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh [--quick] [bench.py options]: sifoci against runc,
# conmon, podman, squashfuse and raw pipes; prints a table of medians.
# Needs root. Installs what is missing first (tests/ci/deps.sh bench): runc,
# conmon, jq, squashfs-tools, siftool, busybox-static, podman, squashfuse,
# fuse-overlayfs.
#   OCI          the oci binary (default: build-bench/src/oci, built here
#                with `meson setup build-bench --buildtype=release` if missing)
#   OCI_MONITOR  its monitor (default: next to OCI's build, monitor/oci-monitor)
#   OCI_ROOT     oci --root (default /run/sifoci)
#   BENCH_TMPDIR where images, bundles and logs go (default /var/tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root" >&2; exit 1; }
bash "$top/tests/ci/deps.sh" bench >&2

if [ -z "${OCI:-}" ]; then
  OCI=$top/build-bench/src/oci
  if [ ! -x "$OCI" ]; then
    echo "run.sh: building $top/build-bench (release, no sanitizers)" >&2
    [ -d "$top/build-bench" ] || meson setup "$top/build-bench" "$top" --buildtype=release >/dev/null
    meson compile -C "$top/build-bench" >/dev/null
  fi
fi
OCI=$(readlink -f "$OCI")
if [ -z "${OCI_MONITOR:-}" ]; then
  for m in "$(dirname "$OCI")/../monitor/oci-monitor" "$(dirname "$OCI")/oci-monitor"; do
    [ -x "$m" ] && { OCI_MONITOR=$(readlink -f "$m"); break; }
  done
fi
export OCI OCI_MONITOR=${OCI_MONITOR:-}
[ -n "$OCI_MONITOR" ] || unset OCI_MONITOR
exec python3 -B "$here/bench.py" "$@"
