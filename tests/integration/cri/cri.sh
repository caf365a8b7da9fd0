#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Kubernetes' view of sifoci: containerd's CRI plugin with the shipped runtime
# handler (packaging/containerd/sifoci-cri.toml, oci-runc as the runc v2
# shim's binary), driven over the CRI v1 gRPC API as kubelet drives it, by
# cri-client.py.  Every case runs in a pod of handler sifoci and, as the
# control, in one of handler runc (plain runc): a case that fails for both is
# the host's, not sifoci's.  A private containerd (own root, state, sockets,
# runtime roots, cgroup parent) on host-network pods; the pause and busybox
# images are OCI layouts made here from busybox-static (no registry).
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/integration/runc-compat/common.sh"
require_root
require_cmd containerd ctr containerd-shim-runc-v2 protoc jq busybox
[ -n "$RUNC" ] || tap_skip_all "no runc"
[ -x "$OCI_RUNC" ] || tap_skip_all "no oci-runc at $OCI_RUNC"
is_static "$(command -v busybox)" || tap_skip_all "busybox is not static (busybox-static)"
# Debian's grpc and protobuf are /usr/bin/python3's, not a python3 first in PATH
PY=/usr/bin/python3
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
  tap_skip_all "$PY cannot import grpc and google.protobuf (python3-grpcio, python3-protobuf)"

HERE=$SIFOCI_TESTS/integration/cri
SHIPPED=$SIFOCI_TESTS/../packaging/containerd/sifoci-cri.toml
T=$(mktemp -d /tmp/sifoci-cri.XXXXXX)
S=$$-$RANDOM
SOCK=$T/containerd.sock
CG=sifoci-cri-$S # the pods' cgroup parent, as kubelet gives one
PAUSE=sifoci.local/pause:$S
IMG=sifoci.local/busybox:$S
HANDLERS=(sifoci runc)
TASKS=$T/state/io.containerd.runtime.v2.task/k8s.io
daemon=

daemon_client= cri_to= cri_from=
# cri [--timeout S] METHOD [REQUEST_JSON]: one CRI call, its answer as JSON on
# stdout or the error on stderr; through the client started by start_client
# (one process for every call), else a client of its own
cri() {
  local to=30 line
  [ "$1" = --timeout ] && to=$2 && shift 2
  if [ -z "$daemon_client" ]; then
    timeout $((to + 30)) "$PY" "$HERE/cri-client.py" --socket "$SOCK" --pb "$T/pb" --timeout "$to" "$@"
    return
  fi
  # a subshell writes, so that a client gone (SIGPIPE) fails the call, not the test
  (printf '%s %s %s\n' "$1" "$to" "${2:-"{}"}") 2>/dev/null >&"$cri_to" &&
    IFS= read -r -t $((to + 30)) line <&"$cri_from" || {
    echo "cri: $1: no answer from cri-client.py" >&2
    return 1
  }
  case $line in
    "ok "*) echo "${line#ok }" ;;
    *) echo "${line#error }" >&2 && return 1 ;;
  esac
}
start_client() {
  coproc CRI_CLIENT { exec "$PY" "$HERE/cri-client.py" --socket "$SOCK" --pb "$T/pb" --serve; }
  daemon_client=$CRI_CLIENT_PID
  # bash closes a coprocess's own fds in pipelines: keep copies for them
  exec {cri_to}>&"${CRI_CLIENT[1]}" {cri_from}<&"${CRI_CLIENT[0]}"
}
ct() { timeout 60 ctr -a "$SOCK" -n k8s.io "$@"; }
cgroup_dirs() { # every hierarchy's directory for the cgroup parent
  local d
  for d in /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG; do [ -d "$d" ] && echo "$d"; done
}
cleanup() {
  local id r m s i
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    for id in $(cri ListPodSandbox 2>/dev/null | jq -r '.items[].id' 2>/dev/null); do
      cri StopPodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null 2>&1
      cri RemovePodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null 2>&1
    done
    ct images rm "$PAUSE" "$IMG" >/dev/null 2>&1
  fi
  if [ -n "$daemon_client" ]; then
    exec {cri_to}>&- {cri_from}<&-
    kill "$daemon_client" 2>/dev/null
    wait "$daemon_client" 2>/dev/null
    daemon_client= cri_to= cri_from=
  fi
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null
    for i in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  # what a failed run or a dead containerd left: containers in our runtime
  # roots, our shims (they name our socket), their sockets, mounts, cgroups
  for r in "$T/sifoci-root/k8s.io" "$T/runc-root/k8s.io"; do
    [ -d "$r" ] || continue
    for id in $("$RUNC" --root "$r" list -q 2>/dev/null); do "$RUNC" --root "$r" delete -f "$id" >/dev/null 2>&1; done
  done
  for id in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK( |$)" 2>/dev/null); do kill -9 "$id" 2>/dev/null; done
  for s in $(cat "$T/shim-sockets" 2>/dev/null); do [ -S "$s" ] && rm -f "$s"; done
  for m in $(mounts_under "$T" | sort -r); do umount -l "$m" 2>/dev/null; done
  for m in $(cgroup_dirs); do find "$m" -depth -type d -exec rmdir {} + 2>/dev/null; done
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$T/pb" "$T/cni/bin" "$T/cni/conf" "$T/logs" || tap_skip_all "cannot make $T"
protoc -I "$HERE" --python_out="$T/pb" cri.proto || tap_skip_all "protoc cannot compile $HERE/cri.proto"

# The images: the pause image is a static busybox as /bin/sleep; the
# containers' image is a busybox root filesystem with every applet.
mkdir -p "$T/pause/bin" && cp "$(command -v busybox)" "$T/pause/bin/sleep" &&
  "$PY" "$HERE/oci-image.py" "$T/pause" "$PAUSE" "$T/pause.tar" /bin/sleep 2147483647 &&
  make_rootfs "$T/rootfs" &&
  "$PY" "$HERE/oci-image.py" "$T/rootfs" "$IMG" "$T/image.tar" sh || tap_skip_all "could not build the images"

# The daemon's own settings, then the shipped handler with this build's
# oci-runc and a runtime root in $T: the lines users paste, changed only there.
cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  # a sandbox that may not lower OOM scores fails every pod without this
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$T/cni/bin"
    conf_dir = "$T/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "$T/runc-root"
EOF
sed -e "s|^\( *BinaryName = \)\"/usr/bin/oci-runc\"$|\1\"$OCI_RUNC\"|" \
  -e "s|^\( *Root = \)\"/run/containerd/sifoci\"$|\1\"$T/sifoci-root\"|" "$SHIPPED" >"$T/handler.toml"
tap_is "$(diff "$SHIPPED" "$T/handler.toml" | grep -c '^>')" 2 \
  "the shipped handler's BinaryName and Root are where the test expects them"
cat "$T/handler.toml" >>"$T/config.toml"
# the README shows users the files this test uses, as they are
in_readme() { # in_readme FILE: FILE, bar its SPDX line, is in README.md word for word
  "$PY" -c 'import sys; f = open(sys.argv[1]).read().split("\n", 1)[1]; sys.exit(f not in open(sys.argv[2]).read())' \
    "$1" "$SIFOCI_TESTS/../README.md"
}
tap_run "README.md shows packaging/containerd/sifoci-cri.toml as shipped" in_readme "$SHIPPED"
tap_run "README.md shows packaging/kubernetes/runtimeclass.yaml as shipped" \
  in_readme "$SIFOCI_TESTS/../packaging/kubernetes/runtimeclass.yaml"

# The shims inherit containerd's environment: oci-runc runs the spy, which
# shows that the sifoci pods really went through oci-runc.
make_spy "$T/spy" || tap_skip_all "could not write $T/spy"
SIFOCI_RUNTIME=$T/spy/runc containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
daemon=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.2; done
start_client
for i in $(seq 50); do cri --timeout 5 Version >/dev/null 2>&1 && break; sleep 0.2; done
ver=$(cri --timeout 5 Version 2>&1) || tap_skip_all "containerd's CRI did not answer: $ver; $(tail -2 "$T/containerd.log")"
tap_like "$ver" '"runtime_api_version": "v1' "a private containerd answers CRI v1 Version on $SOCK"
tap_run "ctr -n k8s.io image import: the pause image" ct images import "$T/pause.tar"
tap_run "ctr -n k8s.io image import: the busybox image" ct images import "$T/image.tar"
tap_like "$(cri ImageStatus "{\"image\": {\"image\": \"$IMG\"}}" 2>&1)" "\"repo_tags\": \[\"$IMG\"\]" \
  "CRI ImageStatus sees the imported image"

# --- the cases, each for a pod of handler sifoci and one of handler runc ---
# check DESC EXPECTED FN ARGS...: FN H ARGS... prints what handler H gives;
# "@H@" in EXPECTED is the handler.  sifoci's answer is the test; runc's is
# the control, so that a failure of both is the host's.
check() {
  local desc=$1 want=$2 fn=$3 h got
  shift 3
  for h in "${HANDLERS[@]}"; do
    got=$("$fn" "$h" "$@" 2>&1)
    if [ "$h" = runc ]; then
      tap_is "$got" "${want//@H@/$h}" "$desc (runc, the control)"
    else
      tap_is "$got" "${want//@H@/$h}" "$desc ($h)"
    fi
  done
}
id_of() { cat "$T/id/$1-$2"; } # id_of H NAME: the CRI id of pod or container NAME
# The sandbox config, as kubelet writes it for a host-network pod: hostname
# empty (a NODE pod has the host's), its own cgroup parent and log directory.
pod_config() {
  jq -cn --arg n "p-$1-$S" --arg uid "uid-$1-$S" --arg logs "$T/logs/$1" --arg cg "/$CG" '{
    metadata: {name: $n, uid: $uid, namespace: "sifoci-cri", attempt: 0},
    log_directory: $logs,
    linux: {cgroup_parent: $cg,
      security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}}'
}
run_pod() {
  local out id
  mkdir -p "$T/id" "$T/logs/$1"
  out=$(cri RunPodSandbox "$(jq -cn --argjson c "$(pod_config "$1")" --arg h "$1" \
    '{config: $c, runtime_handler: $h}')") || return 1
  id=$(jq -r .pod_sandbox_id <<<"$out") && echo "$id" >"$T/id/$1-pod"
  # the shim's socket, outside $T: it must be gone when the pod is
  sed 's|^unix://||' "$TASKS/$id/address" >>"$T/shim-sockets" 2>/dev/null
  cri PodSandboxStatus "{\"pod_sandbox_id\": \"$id\"}" | jq -r '"\(.status.state) \(.status.runtime_handler)"'
}
# start_container H NAME SCRIPT: create and start `sh -c SCRIPT` in H's pod,
# its log at NAME.log in the pod's log directory
start_container() {
  local cfg out id
  cfg=$(jq -cn --arg n "$2" --arg img "$IMG" --arg s "$3" '{metadata: {name: $n},
    image: {image: $img}, command: ["sh", "-c", $s], log_path: ($n + ".log"),
    linux: {security_context: {namespace_options: {pid: "CONTAINER"}}}}')
  out=$(cri CreateContainer "$(jq -cn --arg p "$(id_of "$1" pod)" --argjson c "$cfg" \
    --argjson sc "$(pod_config "$1")" '{pod_sandbox_id: $p, config: $c, sandbox_config: $sc}')") || return 1
  id=$(jq -r .container_id <<<"$out") && echo "$id" >"$T/id/$1-$2"
  cri StartContainer "{\"container_id\": \"$id\"}" >/dev/null && echo started
}
STATUS='"\(.status.state) \(.status.exit_code) \(.status.reason)"'
status_of() { # status_of H NAME [JQ]: ContainerStatus, as "state exit_code reason" or JQ
  cri ContainerStatus "{\"container_id\": \"$(id_of "$1" "$2")\"}" | jq -r "${3:-$STATUS}"
}
wait_exit() { # wait_exit H NAME: its status once it has exited (15 s at most)
  local i st
  for i in $(seq 60); do
    st=$(status_of "$1" "$2") || return 1
    case $st in CONTAINER_EXITED*) break ;; esac
    sleep 0.25
  done
  echo "$st"
}
# log_of H NAME: the CRI log's lines as "stream tag text", sorted (stdout and
# stderr are separate pipes); a line not in the CRI format shows as BAD: ...
CRI_LINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) (stdout|stderr) [FP] '
log_of() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ $CRI_LINE ]]; then echo "${line#* }"; else echo "BAD: $line"; fi
  done <"$T/logs/$1/$2.log" | sort | paste -sd'|'
}
exec_in() { # exec_in H NAME TIMEOUT CMD...: ExecSync, as "stdout|stderr|exit_code"
  local h=$1 n=$2 to=$3 a cmd
  shift 3
  cmd=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -cs .)
  cri ExecSync "$(jq -cn --arg c "$(id_of "$h" "$n")" --argjson to "$to" --argjson cmd "$cmd" \
    '{container_id: $c, cmd: $cmd, timeout: $to}')" |
    jq -r '"\(.stdout | rtrimstr("\n"))|\(.stderr | rtrimstr("\n"))|\(.exit_code)"'
}
update_memory() { # update_memory H NAME BYTES: UpdateContainerResources
  cri UpdateContainerResources "$(jq -cn --arg c "$(id_of "$1" "$2")" --argjson m "$3" \
    '{container_id: $c, linux: {memory_limit_in_bytes: $m, cpu_shares: 512}}')" >/dev/null && echo updated
}
stop_timed() { # stop_timed H NAME GRACE: StopContainer, then "seconds it took: status"
  local t0 t1
  t0=$(date +%s.%N)
  cri --timeout 60 StopContainer "{\"container_id\": \"$(id_of "$1" "$2")\", \"timeout\": $3}" >/dev/null || return 1
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" -v g="$3" 'BEGIN { d = b - a; print (d < g ? "before" : d < g + 6 ? "after" : "long after") " the grace period" }'): $(status_of "$1" "$2")"
}
remove_container() { cri RemoveContainer "{\"container_id\": \"$(id_of "$1" "$2")\"}" >/dev/null && echo removed; }
log_has() { # log_has H NAME TEXT: wait (10 s at most) for TEXT in the log
  local i
  for i in $(seq 40); do grep -qF -- "$3" "$T/logs/$1/$2.log" 2>/dev/null && echo yes && return; sleep 0.25; done
  echo no
}

check "RunPodSandbox: a ready host-network pod" "SANDBOX_READY @H@" run_pod
check "StartContainer: sh exiting 3" started start_container exit 'echo out; echo err >&2; exit 3'
check "ContainerStatus: exited, exit code 3" "CONTAINER_EXITED 3 Error" wait_exit exit
check "the log at the CRI log path, in the CRI format" "stderr F err|stdout F out" log_of exit
check "ContainerStatus: the log path" "$T/logs/@H@/exit.log" status_of exit .status.log_path
check "RemoveContainer" removed remove_container exit

check "StartContainer: a service that ends on SIGTERM" started start_container svc \
  'trap "echo got-term; exit 0" TERM; echo up; while :; do sleep 1; done'
check "ContainerStatus: running" "CONTAINER_RUNNING 0 " status_of svc
check "ExecSync: stdout, stderr and exit code" "ex-out|ex-err|7" exec_in svc 10 sh -c 'echo ex-out; echo ex-err >&2; exit 7'
check "ExecSync: a host-network pod has the host's name" "$(hostname)||0" exec_in svc 10 hostname
check "UpdateContainerResources: memory 64 MiB, cpu shares 512" updated update_memory svc 67108864
check "the container's cgroup has the new memory limit" "67108864||0" exec_in svc 10 sh -c \
  'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
check "ContainerStatus: the new resources" "67108864 512" status_of svc \
  '"\(.status.resources.linux.memory_limit_in_bytes) \(.status.resources.linux.cpu_shares)"'
check "StopContainer: SIGTERM ends it within the grace period" "before the grace period: CONTAINER_EXITED 0 Completed" \
  stop_timed svc 10
check "the stop's output reached the log" "yes" log_has svc "stdout F got-term"
check "RemoveContainer" removed remove_container svc

check "StartContainer: one that ignores SIGTERM" started start_container stubborn \
  'trap "" TERM; echo stubborn; while :; do sleep 1; done'
check "it is up, SIGTERM ignored" yes log_has stubborn "stdout F stubborn"
check "StopContainer: SIGKILL after the grace period, exit code 137" \
  "after the grace period: CONTAINER_EXITED 137 Error" stop_timed stubborn 2

# Teardown as kubelet does it; the stopped container goes with the pod.
stop_remove_pod() {
  local p
  p=$(id_of "$1" pod)
  cri StopPodSandbox "{\"pod_sandbox_id\": \"$p\"}" >/dev/null &&
    cri RemovePodSandbox "{\"pod_sandbox_id\": \"$p\"}" >/dev/null || return 1
  echo "pods: $(cri ListPodSandbox | jq --arg p "$p" '[.items[] | select(.id == $p)] | length')" \
    "containers: $(cri ListContainers | jq --arg p "$p" '[.containers[] | select(.pod_sandbox_id == $p)] | length')"
}
check "StopPodSandbox, RemovePodSandbox: no pod, no container" "pods: 0 containers: 0" stop_remove_pod
left_behind() { # what a removed pod could leave: containers, shims, mounts, bundles, cgroups
  local p root=$T/runc-root/k8s.io
  p=$(id_of "$1" pod)
  [ "$1" = sifoci ] && root=$T/sifoci-root/k8s.io
  "$RUNC" --root "$root" list -q 2>/dev/null
  pgrep -f "containerd-shim-runc-v2 .*-id $p -address $SOCK( |$)"
  mounts_under "$TASKS/$p"
  [ -e "$TASKS/$p" ] && echo "$TASKS/$p"
  for d in $(cgroup_dirs); do find "$d" -mindepth 1 -type d -name "$p*"; done
  for d in $(cat "$T/id/$1-"*); do for c in $(cgroup_dirs); do [ -d "$c/$d" ] && echo "$c/$d"; done; done
}
check "nothing left: no container, shim, mount, bundle or cgroup" "" left_behind
sockets=$(for s in $(cat "$T/shim-sockets" 2>/dev/null); do [ -e "$s" ] && echo "$s"; done)
tap_is "$sockets" "" "the pods' shim sockets are gone"

calls=$(cat "$T/spy/calls" 2>/dev/null)
tap_like "$(head -1 <<<"$calls")" "^--root $T/sifoci-root/k8s.io --log [^ ]*/log.json --log-format json create --bundle " \
  "the sifoci pods' shim called oci-runc, with runc's global flags"
verbs=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "json") { print $(i + 1); break } }' <<<"$calls" | sort -u | paste -sd' ')
tap_is "$verbs" "create delete exec kill start update" "oci-runc saw create, start, exec, update, kill, delete"
tap_is "$(grep -c "runc-root" <<<"$calls")" 0 "the runc pods did not go through oci-runc"
tap_done
