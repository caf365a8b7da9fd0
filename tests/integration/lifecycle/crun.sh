#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The core lifecycle suite against crun (on a hybrid-cgroup host in a
# private mount namespace: crun_private_ns in common.sh says why).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
require_cmd crun unshare
crun_private_ns "${BASH_SOURCE[0]}"
lc_setup
RUNTIME=crun
core_suite crun

# crun's `run --detach` leaves an intermediate process for a moment: a
# container that ends before that one does reaches the monitor (the
# subreaper) only when it exits, and its status must still be known.
B=$(bundle crun-short '.process.args = ["/bin/true"]')
unknown=0
for i in $(seq 40); do
  oci run -d -b "$B" "short$i" >/dev/null 2>&1 </dev/null || unknown=$((unknown + 1))
done
for i in $(seq 40); do
  wait_status "short$i" stopped 10
  [ "$(state_field "short$i" .exitCode)" = 0 ] || unknown=$((unknown + 1))
  oci delete "short$i" 2>/dev/null
done
tap_is "$unknown" 0 "40 short detached crun runs: every exit code recorded (0)"
runs_settle "$ROOT"
tap_is "$(ls -A "$ROOT" | wc -l)" 0 "nothing left under --root"
tap_done
