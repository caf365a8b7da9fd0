# SPDX-License-Identifier: Apache-2.0
# TAP helpers for the integration tests (sourced, bash).
#   OCI          the oci binary under test (set by meson)
#   OCI_MONITOR  the oci-monitor binary under test
#   MUST_WORK=1  turns "skipped: no X" into a failure (CI)
set -u
TAP_N=0
TAP_FAILED=0

tap_ok() { # tap_ok STATUS DESCRIPTION  (STATUS 0 = pass)
  TAP_N=$((TAP_N + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $TAP_N - $2"
  else
    echo "not ok $TAP_N - $2"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}

# tap_run DESCRIPTION CMD...: pass when CMD exits 0; shows its output on failure
tap_run() {
  local desc=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  tap_ok $rc "$desc"
  [ $rc -eq 0 ] || printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
  return $rc
}

# tap_fails DESCRIPTION CMD...: pass when CMD exits non-zero
tap_fails() {
  local desc=$1 rc
  shift
  "$@" >/dev/null 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then tap_ok 0 "$desc"; else tap_ok 1 "$desc"; fi
}

tap_is() { # tap_is GOT EXPECTED DESCRIPTION
  if [ "$1" = "$2" ]; then
    tap_ok 0 "$3"
  else
    tap_ok 1 "$3"
    printf '#   got:      %s\n#   expected: %s\n' "$1" "$2" | head -20
  fi
}

tap_like() { # tap_like GOT REGEX DESCRIPTION
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    tap_ok 0 "$3"
  else
    tap_ok 1 "$3"
    printf '#   got:      %s\n#   expected to match: %s\n' "$1" "$2" | head -20
  fi
}

tap_diag() { echo "# $*"; }

tap_done() {
  echo "1..$TAP_N"
  [ "$TAP_FAILED" -eq 0 ]
  exit $?
}

# Skip the whole test, or fail it when MUST_WORK=1.
tap_skip_all() {
  if [ "${MUST_WORK:-0}" = 1 ]; then
    echo "1..1"
    echo "not ok 1 - required but unavailable: $*"
    exit 1
  fi
  echo "1..0 # SKIP $*"
  exit 0
}

# run_gone ROOT/ID: `oci run` returns at the container's exit; its monitor
# then deletes the runtime's container and removes ROOT/ID in the
# background (renamed to ROOT/.gone-PID-ID first) and exits.  True once
# neither dir nor that monitor is left, within 10 s.
run_gone() {
  local i root=${1%/*} id=${1##*/}
  for i in $(seq 1000); do
    if [ ! -e "$1" ] && ! compgen -G "$root/.gone-*-$id" >/dev/null &&
      ! pgrep -f -- "--state-dir $1( |\$)" >/dev/null; then
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# runs_settle ROOT: run_gone for every foreground run under ROOT (no run-mode
# monitor of ROOT left, no ROOT/.gone-* dir), within 10 s.
runs_settle() {
  local i
  for i in $(seq 1000); do
    if ! compgen -G "$1/.gone-*" >/dev/null &&
      ! pgrep -f -- "--state-dir $1/[^ ]* .*--run-mode" >/dev/null; then
      return 0
    fi
    sleep 0.01
  done
  return 1
}

require_root() { [ "$(id -u)" = 0 ] || tap_skip_all "needs root"; }
require_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || tap_skip_all "no $c"; done; }

# What the machine holds that a test could leak: loop devices backed by FILE.
loops_of() { losetup -j "$1" 2>/dev/null; }
mounts_under() { awk -v p="$1" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo; }

# Teardown: unmount everything under DIR (deepest first, lazily: only here,
# so that a failed test cannot leave mounts) and detach the loop devices
# backed by the SIF files in IMGDIR.
release_mounts() { # release_mounts DIR IMGDIR
  local m l
  for m in $(mounts_under "$1" | sort -r); do umount -l "$m" 2>/dev/null; done
  for l in "$2"/*.sif; do
    for m in $(losetup -j "$l" 2>/dev/null | cut -d: -f1); do losetup -d "$m" 2>/dev/null; done
  done
}
