#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The core lifecycle suite against crun.  crun 1.8 refuses cgroups in
# hybrid mode (v1 controllers plus cgroup2 at /sys/fs/cgroup/unified), so on
# such a host the suite runs in a private mount namespace without that
# mount; the whole suite, monitors included, stays in that namespace.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
require_cmd crun unshare
if [ -z "${SIFOCI_CRUN_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
  export SIFOCI_CRUN_NS=1
  exec unshare -m --propagation private -- bash -c \
    'umount /sys/fs/cgroup/unified || exit 99; exec bash "$0"' "${BASH_SOURCE[0]}"
fi
lc_setup
RUNTIME=crun
core_suite crun
tap_is "$(ls "$ROOT" | wc -l)" 0 "nothing left under --root"
tap_done
