# SPDX-License-Identifier: Apache-2.0
# Shared by the lifecycle tests (sourced, bash): a busybox bundle made with
# `runc spec` + jq (no `oci mount`), a private --root, cleanup of every
# container, monitor and temp dir on exit, and the core suite that runs
# against both runc and crun.
. "$SIFOCI_TESTS/lib/tap.sh"
LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PTY_DRIVE="$LIFECYCLE_DIR/pty-drive.py"

lc_setup() { # lc_setup: temp dir, --root, rootfs, cleanup trap
  require_root
  require_cmd runc jq busybox python3
  T=$(mktemp -d /tmp/sifoci-lc.XXXXXX)
  ROOT=$T/root
  ROOTFS=$T/rootfs
  mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/tmp"
  cp /bin/busybox "$ROOTFS/bin/"
  local a
  for a in $("$ROOTFS/bin/busybox" --list); do
    [ -e "$ROOTFS/bin/$a" ] || ln -s busybox "$ROOTFS/bin/$a"
  done
  echo 'not a program' >"$ROOTFS/etc/not-exec"
  chmod 644 "$ROOTFS/etc/not-exec"
  (cd "$T" && runc spec) || tap_skip_all "runc spec failed"
  mv "$T/config.json" "$T/spec.json"
  LC_MAIN_PID=$BASHPID
  trap lc_cleanup EXIT
}

# Every container under $ROOT goes, then any monitor still naming $ROOT
# (only ours: the path is unique), then the temp dir.
lc_cleanup() {
  local id pid
  # a subshell (a background job, a watchdog) may run the EXIT trap too:
  # only the test itself cleans up
  [ "$BASHPID" = "$LC_MAIN_PID" ] || return 0
  if [ -d "$ROOT" ]; then
    for id in $(ls "$ROOT" 2>/dev/null); do
      "$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
    done
  fi
  for pid in $(pgrep -f -- "--state-dir $ROOT/" 2>/dev/null); do
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$T"
}

# crun 1.8 refuses cgroups in hybrid mode (v1 controllers plus cgroup2 at
# /sys/fs/cgroup/unified): on such a host SCRIPT runs again in a private
# mount namespace without that mount, and stays there, monitors included.
crun_private_ns() { # crun_private_ns SCRIPT
  if [ -z "${SIFOCI_CRUN_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    export SIFOCI_CRUN_NS=1
    exec unshare -m --propagation private -- bash -c \
      'umount /sys/fs/cgroup/unified || exit 99; exec bash "$0"' "$1"
  fi
}

oci() { "$OCI" --root "$ROOT" ${RUNTIME:+--runtime "$RUNTIME"} "$@"; }

# bundle NAME JQ-FILTER: $T/NAME with the shared rootfs and the filter
# applied to the `runc spec` default (terminal false, args from the filter).
bundle() {
  mkdir -p "$T/$1"
  jq --arg rootfs "$ROOTFS" ".root.path = \$rootfs | .root.readonly = true |
      .process.terminal = false | $2" "$T/spec.json" >"$T/$1/config.json"
  echo "$T/$1"
}

# sh -c SCRIPT as the container's process
sh_args() { jq -cn --arg s "$1" '["sh", "-c", $s]'; }

state_field() { oci state "$1" 2>/dev/null | jq -r "$2"; }

wait_status() { # wait_status ID STATUS [SECONDS]
  local i
  for i in $(seq $((${3:-10} * 10))); do
    [ "$(state_field "$1" .status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

wait_gone() { # wait_gone PATH [SECONDS]: until PATH does not exist
  local i
  for i in $(seq $((${2:-10} * 10))); do
    [ -e "$1" ] || return 0
    sleep 0.1
  done
  return 1
}

# a process that runs (a zombie does not: this host's init may be slow to reap)
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$1/stat" 2>/dev/null; }

# wait_bounded PID: `wait` for a background job, killing it after 30 s so a
# bug shows as a failure rather than a hung suite (bash reaps its jobs as
# they end, so kill -0 fails once one is done)
wait_bounded() {
  local i
  for i in $(seq 300); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null
  wait "$1"
}

monitors_of() { pgrep -f -- "--state-dir $ROOT/$1" 2>/dev/null | wc -l; }

# The cgroup of container ID's init for CONTROLLER (v1), or its v2 cgroup.
cgroup_of() { # cgroup_of ID [CONTROLLER]
  local pid; pid=$(state_field "$1" .pid)
  [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
  awk -F: -v c="${2:-}" 'c != "" && $2 ~ "(^|,)" c "(,|$)" {print $3; exit} c == "" && $1 == 0 {print $3; exit}' "/proc/$pid/cgroup"
}

# The container's pids.max as the host sees it (cgroup v1 or v2), or "".
pids_max() {
  local f cg
  cg=$(cgroup_of "$1" pids) || cg=
  [ -n "$cg" ] || cg=$(cgroup_of "$1") || return 0
  for f in "/sys/fs/cgroup/pids$cg/pids.max" "/sys/fs/cgroup$cg/pids.max"; do
    [ -r "$f" ] && { cat "$f"; return; }
  done
}

freezer_works() { [ -d /sys/fs/cgroup/freezer ] || [ -e /sys/fs/cgroup/cgroup.controllers ]; }

# The lifecycle every runtime must get right.  P prefixes the test names.
core_suite() {
  local P=$1 b out err rc id=${1}c1
  b=$(bundle "core-$P" ".process.args = $(sh_args 'echo out; echo err >&2; trap "exit 143" TERM; sleep 1000 & wait')")

  err=$(oci create -b "$b" "$id" 2>&1 >/dev/null); rc=$?
  tap_is "$rc" 0 "$P: create exits 0"
  tap_like "$err" "^Container $id created with PID [0-9]+$" "$P: create says the PID"
  tap_is "$(state_field "$id" .status)" created "$P: state is created"
  tap_like "$(oci state "$id" | jq -r '[.attachSocket, .monitorPid, .monitor, .logPath] | join(" ")')" \
    "^$ROOT/$id/attach [0-9]+ running /" "$P: state names the attach socket, monitor and log"
  err=$(oci create -b "$b" "$id" 2>&1); rc=$?
  tap_is "$rc:$err" "1:oci: container '$id' already exists" "$P: a second create of the ID fails"

  tap_run "$P: start" oci start "$id"
  tap_ok $(wait_status "$id" running; echo $?) "$P: state is running"
  tap_is "$(oci exec "$id" echo hello 2>&1)" hello "$P: exec output"
  oci exec "$id" sh -c 'exit 3'; tap_is "$?" 3 "$P: exec exit status 3"
  oci exec "$id" no-such-command 2>/dev/null; tap_is "$?" 127 "$P: exec of a missing command is 127"
  oci exec "$id" /etc/not-exec 2>/dev/null; tap_is "$?" 126 "$P: exec of a non-executable is 126"
  oci exec nonexistent-$P true 2>/dev/null; tap_is "$?" 125 "$P: exec in an unknown container is 125"
  tap_is "$(oci exec -e K=v1 --cwd /tmp -u 1000:1000 "$id" sh -c 'echo $K $(id -u):$(id -g) $(pwd)')" \
    "v1 1000:1000 /tmp" "$P: exec --env --cwd --user"
  oci exec -d "$id" sleep 1; tap_is "$?" 0 "$P: exec --detach"

  tap_like "$(oci list)" "^$id +[0-9]+ +running +$b " "$P: list shows the container"
  tap_is "$(oci list -q)" "$id" "$P: list -q"
  tap_is "$(oci list --format json | jq -r '.[0].id + " " + .[0].status')" "$id running" "$P: list --format json"

  if freezer_works; then
    tap_run "$P: pause" oci pause "$id"
    tap_is "$(state_field "$id" .status)" paused "$P: state is paused"
    tap_run "$P: resume" oci resume "$id"
    tap_is "$(state_field "$id" .status)" running "$P: state is running again"
  fi
  echo '{"pids": {"limit": 77}}' | oci update -f - "$id"
  tap_is "$?" 0 "$P: update -f - reads the resources from stdin"
  local pm; pm=$(pids_max "$id")
  [ -n "$pm" ] && tap_is "$pm" 77 "$P: the pids limit is in the cgroup"

  out=$(oci logs "$id" 2>/dev/null); err=$(oci logs "$id" 2>&1 >/dev/null)
  tap_is "$out|$err" "out|err" "$P: logs: stdout to stdout, stderr to stderr"

  tap_run "$P: kill (SIGTERM by default)" oci kill "$id"
  tap_ok $(wait_status "$id" stopped; echo $?) "$P: state is stopped"
  tap_is "$(state_field "$id" '.exitCode')" 143 "$P: exitCode 143 after SIGTERM"
  tap_like "$(state_field "$id" '.finishedAt')" '^20[0-9-]+T[0-9:.]+Z$' "$P: finishedAt"
  tap_fails "$P: kill of a stopped container fails" oci kill "$id" KILL
  tap_run "$P: delete" oci delete "$id"
  err=$(oci state "$id" 2>&1); rc=$?
  tap_is "$rc:$err" "1:oci: container '$id' does not exist" "$P: state after delete: does not exist"
  tap_ok $([ ! -e "$ROOT/$id" ]; echo $?) "$P: state dir removed"
  tap_is "$(monitors_of "$id")" 0 "$P: no monitor left"

  # a run: exit status and separate streams, nothing left behind
  b=$(bundle "run7-$P" ".process.args = $(sh_args 'echo to-out; echo to-err >&2; exit 7')")
  oci run -b "$b" "${P}r7" >"$T/run.out" 2>"$T/run.err" </dev/null; rc=$?
  tap_is "$rc" 7 "$P: run exits with the container's status"
  tap_is "$(cat "$T/run.out")|$(cat "$T/run.err")" "to-out|to-err" "$P: run: stdout and stderr apart"
  p=$(oci state "${P}r7" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$p" "1:oci: container '${P}r7' does not exist" \
    "$P: once run returns, state says the container does not exist"
  tap_ok $(run_gone "$ROOT/${P}r7"; echo $?) "$P: run leaves no state dir and no monitor"

  # a create that fails leaves nothing, and says why in one line
  b=$(bundle "bad-$P" '.process.args = ["/nonexistent"]')
  err=$(oci create -b "$b" "${P}bad" 2>&1); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$P: failed create: exit 1, one line"
  tap_like "$err" "nonexistent" "$P: failed create: the runtime's reason"
  tap_ok $([ ! -e "$ROOT/${P}bad" ]; echo $?) "$P: failed create: no state dir"
  tap_is "$(monitors_of "${P}bad")" 0 "$P: failed create: no monitor"
  oci run -b "$b" "${P}badrun" </dev/null >/dev/null 2>&1; rc=$?
  tap_is "$rc" 127 "$P: failed run of a missing command: 127"
  tap_ok $([ ! -e "$ROOT/${P}badrun" ]; echo $?) "$P: failed run: no state dir"
}
