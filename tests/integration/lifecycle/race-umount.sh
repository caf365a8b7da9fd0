#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci run -b B c1; oci run -b B c1; oci umount B` on a mounted SIF bundle,
# many times in a row (50 in the suite, for its time budget under ASan;
# SIFOCI_RACE_N=200 for more): the second run and the umount come while
# the monitor of the run before may still be cleaning up, and wait for it
# instead of failing.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
lc_setup
require_cmd siftool mksquashfs losetup
RUNTIME=
N=${SIFOCI_RACE_N:-50}
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"
IMG=$T/img
mkdir -p "$IMG"
cp "$FX/busybox.sif" "$IMG/bb.sif"
trap 'release_mounts "$T" "$IMG"; lc_cleanup' EXIT

B=$T/bundle
fails=0
for i in $(seq "$N"); do
  step=mount
  "$OCI" mount --quiet "$IMG/bb.sif" "$B" >/dev/null 2>"$T/err" &&
    jq '.process.terminal = false | .process.args = ["true"]' "$B/config.json" >"$T/c.json" &&
    cp "$T/c.json" "$B/config.json" &&
    step=run1 && oci run -b "$B" h18um </dev/null >/dev/null 2>"$T/err" &&
    step=run2 && oci run -b "$B" h18um </dev/null >/dev/null 2>"$T/err" &&
    step=umount && "$OCI" --root "$ROOT" umount "$B" 2>"$T/err" ||
    { fails=$((fails + 1)); tap_diag "round $i, $step: $(cat "$T/err")"; release_mounts "$T" "$IMG"; }
  [ "$fails" -lt 5 ] || break
done
tap_is "$fails" 0 "$N rounds of run, run, umount on one bundle: all succeed"
tap_is "$(mounts_under "$B" | wc -l)" 0 "no mount left under the bundle"
tap_is "$(loops_of "$IMG/bb.sif" | wc -l)" 0 "no loop device left"
tap_done
