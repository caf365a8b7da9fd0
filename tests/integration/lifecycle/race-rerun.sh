#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Commands right after a container's end do not race its monitor's
# clean-up: `oci run` of the same ID, and `oci umount` of the bundle, 200
# times in a row (the monitor deletes the runtime's container and, in run
# mode, the state dir after the exit status reached the client).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=
N=${SIFOCI_RACE_N:-200}

b=$(bundle rr '.process.args = ["true"]')
fails=0
for i in $(seq "$N"); do
  if ! out=$(oci run -b "$b" h18rr 2>&1 </dev/null); then
    fails=$((fails + 1)); tap_diag "run $i: $out"
  fi
done
tap_is "$fails" 0 "$N runs of one ID in a row all succeed"
tap_ok $(run_gone "$ROOT/h18rr"; echo $?) "no state dir left"

# create/start/delete of one ID, the delete right after the exit
b=$(bundle rd '.process.args = ["true"]')
fails=0
for i in $(seq $((N / 10))); do
  oci create -b "$b" h18rd 2>/dev/null && oci start h18rd && wait_status h18rd stopped 10 &&
    oci delete h18rd || { fails=$((fails + 1)); tap_diag "cycle $i failed"; }
done
tap_is "$fails" 0 "create/start/delete right after the exit: all succeed"
tap_is "$(monitors_of h18rd)" 0 "no monitor left"
tap_done
