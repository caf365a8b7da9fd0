#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd's runc shim driving oci-runc (`ctr run --runc-binary`) gives what
# it gives with runc: output, exit status, -t, a detached task with exec,
# pause and kill; a SIF exported with `oci export` imports and runs.  A
# private containerd on a temp socket, with its root, state, runc root and
# fifos in a temp dir; the image is an OCI layout tar made here from
# busybox-static (no network).
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/integration/runc-compat/common.sh"
require_root
require_cmd containerd ctr containerd-shim-runc-v2 jq busybox sha256sum script
[ -n "$RUNC" ] || tap_skip_all "no runc"
[ -x "$OCI_RUNC" ] || tap_skip_all "no oci-runc at $OCI_RUNC"
is_static "$(command -v busybox)" || tap_skip_all "busybox is not static (busybox-static)"

T=$(mktemp -d /tmp/sifoci-containerd.XXXXXX)
S=$$-$RANDOM
NS=sifoci-$S
SOCK=$T/containerd.sock
IMG=docker.io/library/sifoci-busybox:$S
daemon=
# ct ARGS...: ctr on our socket and namespace, never waiting forever
ct() { timeout 60 ctr -a "$SOCK" -n "$NS" "$@"; }
cleanup() {
  local id m r
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    for id in $(ct tasks ls -q 2>/dev/null); do
      ct tasks kill -s KILL "$id" >/dev/null 2>&1
      ct tasks delete -f "$id" >/dev/null 2>&1
    done
    for id in $(ct containers ls -q 2>/dev/null); do ct containers delete "$id" >/dev/null 2>&1; done
    ct images rm "$IMG" >/dev/null 2>&1
    [ -z "${SIF_IMG:-}" ] || ct images rm "$SIF_IMG" >/dev/null 2>&1
    kill "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  # what a dead containerd left: containers in our runc roots, our shims
  for r in "$T"/runc-root-*/"$NS"; do
    [ -d "$r" ] || continue
    for id in $("$RUNC" --root "$r" list -q 2>/dev/null); do "$RUNC" --root "$r" delete -f "$id" >/dev/null 2>&1; done
  done
  for id in $(pgrep -f "containerd-shim-runc-v2 -namespace $NS " 2>/dev/null); do kill "$id" 2>/dev/null; done
  for m in $(mounts_under "$T" | sort -r); do umount -l "$m" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

# An OCI image layout with one uncompressed layer, as a tar.
blob() { # blob FILE: store FILE as a blob, print its digest and size
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$T/img/blobs/sha256/$d"
  echo "sha256:$d $(stat -c %s "$T/img/blobs/sha256/$d")"
}
make_image() {
  local arch layer lsize config csize manifest msize
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  mkdir -p "$T/img/blobs/sha256" && make_rootfs "$T/rootfs" || return 1
  tar -C "$T/rootfs" -cf "$T/layer.tar" . || return 1
  read -r layer lsize < <(blob "$T/layer.tar")
  jq -n --arg arch "$arch" --arg diff "$layer" '{architecture: $arch, os: "linux",
    config: {Env: ["PATH=/bin"], Cmd: ["sh"]}, rootfs: {type: "layers", diff_ids: [$diff]}}' >"$T/config.json"
  read -r config csize < <(blob "$T/config.json")
  jq -n --arg c "$config" --argjson cs "$csize" --arg l "$layer" --argjson ls "$lsize" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$T/manifest.json"
  read -r manifest msize < <(blob "$T/manifest.json")
  jq -n --arg m "$manifest" --argjson ms "$msize" --arg name "$IMG" --arg arch "$arch" '{schemaVersion: 2,
    manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
      platform: {architecture: $arch, os: "linux"},
      annotations: {"io.containerd.image.name": $name}}]}' >"$T/img/index.json"
  echo '{"imageLayoutVersion": "1.0.0"}' >"$T/img/oci-layout"
  tar -C "$T/img" -cf "$T/image.tar" oci-layout index.json blobs
}
make_image || tap_skip_all "could not build the image"

cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF
# the shims inherit containerd's environment: oci-runc runs the spy, which
# shows that the shim really went through oci-runc
make_spy "$T/spy" || tap_skip_all "could not write $T/spy"
SIFOCI_RUNTIME=$T/spy/runc containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
daemon=$!
for i in $(seq 100); do timeout 5 ctr -a "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
timeout 5 ctr -a "$SOCK" version >/dev/null 2>&1 || tap_skip_all "containerd did not start: $(tail -1 "$T/containerd.log")"
tap_ok 0 "a private containerd on $SOCK"
tap_run "ctr images import (an OCI layout made here)" ct images import "$T/image.tar"
tap_like "$(ct images check "name==$IMG" 2>&1)" "complete" "the image is complete"

# cr o|r ARGS...: ctr run with oci-runc (o) or runc (r) as the runc binary;
# "@ID@" in an argument becomes a container ID of that runtime.
cr() {
  local w=$1 bin=$RUNC x a=()
  shift
  [ "$w" = o ] && bin=$OCI_RUNC
  for x in "$@"; do a+=("${x//@ID@/$w-$S}"); done
  ct run --runc-binary "$bin" --runc-root "$T/runc-root-$w" --fifo-dir "$T/fifo" "${a[@]}"
}
IN=/dev/null
# both DESC EXPECTED ARGS...: "stdout|status" through oci-runc is EXPECTED,
# and the same as through runc.
both() {
  local desc=$1 want=$2 w rc got=()
  shift 2
  for w in o r; do
    cr $w "$@" <"$IN" >"$T/out-$w" 2>"$T/err-$w"
    rc=$?
    got+=("$(tr -d '\r' <"$T/out-$w")|$rc")
  done
  tap_is "${got[0]}" "$want" "$desc"
  [ "${got[0]}" = "$want" ] || sed 's/^/#   stderr: /' "$T/err-o" | head -5
  tap_is "${got[0]}" "${got[1]}" "$desc: as with runc"
}

both "run: output" "hello|0" --rm "$IMG" @ID@ echo hello
both "run: exit status 5 passes through" "|5" --rm "$IMG" @ID@ sh -c 'exit 5'
both "run: stdout apart from stderr, status 3" "out|3" --rm "$IMG" @ID@ sh -c 'echo out; echo err >&2; exit 3'
# -t wants a terminal on ctr's stdin: script(1) gives it one
for w in o r; do
  bin=$RUNC
  [ $w = o ] && bin=$OCI_RUNC
  timeout 60 script -qec "ctr -a '$SOCK' -n '$NS' run --runc-binary '$bin' --runc-root '$T/runc-root-$w' --fifo-dir '$T/fifo' --rm -t '$IMG' t-$w-$S sh -c 'tty; exit 4'" /dev/null \
    </dev/null >"$T/tty-$w" 2>&1
  echo "|$?" >>"$T/tty-$w"
done
# script(1) may echo a control character before the output: keep the tty line
tty_of() { echo "$(grep -o '/dev/pts/[0-9]*' "$1")$(tail -1 "$1")"; }
tap_is "$(tty_of "$T/tty-o")" "/dev/pts/0|4" "run -t: a terminal, and its exit status"
tap_is "$(tty_of "$T/tty-o")" "$(tty_of "$T/tty-r")" "run -t: as with runc"

# A detached task: exec, kill, exit status
c() { # c o|r ARGS...: plain ctr; "@ID@" as in cr
  local w=$1 x a=()
  shift
  for x in "$@"; do a+=("${x//@ID@/$w-d-$S}"); done
  ct "${a[@]}"
}
for w in o r; do cr $w -d "$IMG" "$w-d-$S" sleep 300 >/dev/null 2>"$T/d-$w"; echo $? >"$T/drc-$w"; done
tap_is "$(cat "$T/drc-o") $(cat "$T/drc-r")" "0 0" "run -d: a detached task"
for w in o r; do
  c $w tasks exec --fifo-dir "$T/fifo" --exec-id e1 @ID@ sh -c 'echo inexec; exit 6' >"$T/x-$w" 2>&1
  echo "|$?" >>"$T/x-$w"
done
tap_is "$(cat "$T/x-o")" "$(printf 'inexec\n|6')" "tasks exec: output and exit status"
tap_is "$(cat "$T/x-o")" "$(cat "$T/x-r")" "tasks exec: as with runc"
for w in o r; do c $w tasks ls | awk -v id="$w-d-$S" '$1 == id {print $3}' >"$T/st-$w"; done
tap_is "$(cat "$T/st-o")" RUNNING "tasks ls: RUNNING"
for w in o r; do c $w tasks pause @ID@ && c $w tasks ls | awk -v id="$w-d-$S" '$1 == id {print $3}'; done >"$T/p" 2>&1
tap_is "$(paste -sd' ' "$T/p")" "PAUSED PAUSED" "tasks pause"
for w in o r; do c $w tasks resume @ID@; done
for w in o r; do
  c $w tasks kill -s KILL @ID@
  for i in $(seq 50); do
    [ "$(c $w tasks ls | awk -v id="$w-d-$S" '$1 == id {print $3}')" = STOPPED ] && break
    sleep 0.1
  done
  c $w tasks delete @ID@ 2>&1 | grep -o 'exit code [0-9]*' | awk '{print $3}'
done >"$T/k" 2>&1
tap_is "$(paste -sd' ' "$T/k")" "137 137" "tasks kill -s KILL, delete: exit status 137"
for w in o r; do c $w containers delete @ID@; done

# a SIF image for containerd: `oci export` to an oci-archive, ctr imports it
. "$SIFOCI_TESTS/lib/fixtures.sh"
SIF_IMG=docker.io/library/sifoci-sif:$S
if FX=$(fixtures_dir) && "$OCI" export -t "$SIF_IMG" "$FX/busybox.sif" "$T/sif.tar"; then
  tap_run "ctr images import what oci export made of busybox.sif" ct images import "$T/sif.tar"
  both "the exported SIF runs: its runscript" "runscript: hello from the runscript args:|0" \
    --rm "$SIF_IMG" @ID@
else
  tap_ok 1 "oci export busybox.sif to an oci-archive"
fi
tap_is "$(ct containers ls -q | paste -sd' ')" "" "no container left"
calls=$(head -1 "$T/spy/calls" 2>/dev/null)
tap_like "$calls" "--root $T/runc-root-o/$NS --log [^ ]*/log.json --log-format json create " "the shim called oci-runc, with runc's global flags"
tap_like "$(grep -c -e ' start ' -e ' exec ' -e ' kill ' -e ' delete ' -e ' pause ' -e ' resume ' "$T/spy/calls")" '^[1-9]' "start, exec, kill, delete, pause, resume went through oci-runc"
tap_is "$(grep -c "runc-root-r" "$T/spy/calls")" 0 "the runc runs did not"
tap_done
