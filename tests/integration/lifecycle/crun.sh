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
tap_is "$(ls "$ROOT" | wc -l)" 0 "nothing left under --root"
tap_done
