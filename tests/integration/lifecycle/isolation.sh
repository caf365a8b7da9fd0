#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every container has a cgroup of its own: two containers of one ID under
# two state roots, and a plain runc container of that name, never share
# one, so pause and update of one leave the others alone.  And the runtime
# runs each container from a bundle of its own (ROOT/ID/bundle) while oci
# reports the user's.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
RUNTIME=
ROOT_A=$T/root-a ROOT_B=$T/root-b RUNC_ROOT=$T/runc-root
b=$(bundle twin ".process.args = $(sh_args 'trap "exit 0" TERM; while :; do sleep 0.1; done')")
oa() { "$OCI" --root "$ROOT_A" "$@"; }
ob() { "$OCI" --root "$ROOT_B" "$@"; }
cleanup_twins() {
  oa delete -f twin >/dev/null 2>&1; ob delete -f twin >/dev/null 2>&1
  runc --root "$RUNC_ROOT" delete -f twin >/dev/null 2>&1
}
trap 'cleanup_twins; lc_cleanup' EXIT

tap_run "create and start 'twin' under root A" sh -c "'$OCI' --root '$ROOT_A' create -b '$b' twin >/dev/null 2>&1 && '$OCI' --root '$ROOT_A' start twin"
tap_run "the same ID under root B" sh -c "'$OCI' --root '$ROOT_B' create -b '$b' twin >/dev/null 2>&1 && '$OCI' --root '$ROOT_B' start twin"
(cd "$b" && runc --root "$RUNC_ROOT" run -d twin >/dev/null 2>&1 </dev/null)
tap_is "$?" 0 "a plain runc container named 'twin' too"

ROOT=$ROOT_A; cg_a=$(cgroup_of twin pids || cgroup_of twin)
ROOT=$ROOT_B; cg_b=$(cgroup_of twin pids || cgroup_of twin)
rpid=$(runc --root "$RUNC_ROOT" state twin | jq -r .pid)
cg_r=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ {print $3; exit} $1 == 0 {v2=$3} END {if (v2 != "") print v2}' "/proc/$rpid/cgroup" | head -1)
tap_like "$cg_a" "^/sifoci-[0-9a-f]{16}-twin$" "root A's container has a cgroup of its own ($cg_a)"
tap_ok "$([ -n "$cg_b" ] && [ "$cg_a" != "$cg_b" ] && [ "$cg_a" != "$cg_r" ] && [ "$cg_b" != "$cg_r" ]; echo $?)" \
  "three containers named twin, three cgroups ($cg_a, $cg_b, $cg_r)"
tap_is "$(oa state twin | jq -r .bundle)" "$b" "state shows the user's bundle"
tap_is "$(jq -r '.root.path + " " + .annotations["org.sifoci.bundle"]' "$ROOT_A/twin/bundle/config.json")" \
  "$ROOTFS $b" "the runtime's bundle is the container's own, naming the user's"

if freezer_works; then
  tap_run "pause twin under root A" oa pause twin
  tap_is "$(ob state twin | jq -r .status)" running "root B's twin is still running"
  out=$(timeout 10 "$OCI" --root "$ROOT_B" exec twin echo alive 2>&1)
  tap_is "$out" alive "... and not frozen: exec in it answers"
  out=$(timeout 10 runc --root "$RUNC_ROOT" exec twin echo alive 2>&1)
  tap_is "$out" alive "the plain runc twin is not frozen either"
  tap_run "resume twin under root A" oa resume twin
fi
echo '{"pids": {"limit": 55}}' | oa update -f - twin
tap_is "$?" 0 "update root A's twin"
ROOT=$ROOT_A; tap_is "$(pids_max twin)" 55 "its pids limit is 55"
ROOT=$ROOT_B; tap_ok "$([ "$(pids_max twin)" != 55 ]; echo $?)" "root B's twin keeps its own limit"

cleanup_twins
tap_ok "$([ ! -e "$ROOT_A/twin" ] && [ ! -e "$ROOT_B/twin" ]; echo $?)" "both state dirs removed"
tap_ok "$([ ! -d "/sys/fs/cgroup/pids$cg_a" ] && [ ! -d "/sys/fs/cgroup$cg_a" ]; echo $?)" "root A's cgroup is gone with it"
tap_done
