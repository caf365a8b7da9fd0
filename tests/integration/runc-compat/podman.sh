#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman --runtime oci-runc gives what podman --runtime runc gives: plain and
# -t output, stdin, exit status, run -d + exec + stop + rm.  Podman keeps its
# store in a temp --root/--runroot/--tmpdir, so the system store is not
# touched.  This sandbox needs --network none, cgroupfs, a file event log and
# rlimits no higher than the current ones.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/integration/runc-compat/common.sh"
require_root
require_cmd podman jq busybox
[ -n "$RUNC" ] || tap_skip_all "no runc"
[ -x "$OCI_RUNC" ] || tap_skip_all "no oci-runc at $OCI_RUNC"
is_static "$(command -v busybox)" || tap_skip_all "busybox is not static (busybox-static)"

T=$(mktemp -d /tmp/sifoci-podman.XXXXXX)
S=$$-$RANDOM
IMG=localhost/sifoci-busybox:$S
had_shm_lock=false
[ -e /dev/shm/libpod_lock ] && had_shm_lock=true
P=(podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" --cgroup-manager cgroupfs
  --events-backend file)
U=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${P[@]}" system reset -f >/dev/null 2>&1
  local m
  for m in $(mounts_under "$T" | sort -r); do umount -l "$m" 2>/dev/null; done
  # the lock segment podman made, unless another podman may be using it
  $had_shm_lock || pgrep -x podman >/dev/null || rm -f /dev/shm/libpod_lock
  rm -rf "$T"
}
trap cleanup EXIT

make_rootfs "$T/rootfs" || tap_skip_all "could not build a busybox rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
if ! "${P[@]}" import "$T/rootfs.tar" "$IMG" >"$T/import.log" 2>&1; then
  tap_skip_all "podman import failed here: $(tail -1 "$T/import.log")"
fi

# pm o|r ARGS...: podman with oci-runc (o) or runc (r) as its runtime; "@C@"
# in an argument becomes that runtime's long-running container.
pm() {
  local w=$1 rt=$RUNC x a=()
  shift
  [ "$w" = o ] && rt=$OCI_RUNC
  for x in "$@"; do a+=("${x//@C@/sifoci-$w-$S}"); done
  "${P[@]}" --runtime "$rt" "${a[@]}"
}
IN=/dev/null # what `both` feeds podman on stdin
# both DESC EXPECTED ARGS...: "stdout|status" through oci-runc is EXPECTED,
# and the same as through runc (carriage returns from a terminal dropped).
both() {
  local desc=$1 want=$2 w rc got=()
  shift 2
  for w in o r; do
    pm $w "$@" <"$IN" >"$T/out-$w" 2>"$T/err-$w"
    rc=$?
    got+=("$(tr -d '\r' <"$T/out-$w")|$rc")
  done
  tap_is "${got[0]}" "$want" "$desc"
  [ "${got[0]}" = "$want" ] || sed 's/^/#   stderr: /' "$T/err-o" | head -5
  tap_is "${got[0]}" "${got[1]}" "$desc: as with runc"
}
# quiet ARGS...: status of podman with each runtime, "o r"
quiet() {
  local w out=
  for w in o r; do
    pm $w "$@" </dev/null >/dev/null 2>"$T/err-$w"
    out+="$? "
  done
  echo "${out% }"
}

both "run: plain output" "hello|0" run --rm "${U[@]}" "$IMG" echo hello
both "run -t: output through the caller's console socket" "hello|0" run --rm -t "${U[@]}" "$IMG" echo hello
got=$(pm o run --rm -t "${U[@]}" "$IMG" echo hello </dev/null | od -An -c | tr -s ' ')
tap_is "$got" " h e l l o \r \n" "run -t: the output went through a terminal"
both "run: exit status 5 passes through" "|5" run --rm "${U[@]}" "$IMG" sh -c 'exit 5'
both "run: stdout apart from stderr, status 3" "out|3" run --rm "${U[@]}" "$IMG" sh -c 'echo out; echo err >&2; exit 3'
echo piped >"$T/stdin"
IN=$T/stdin both "run -i: stdin passes through" "piped|0" run --rm -i "${U[@]}" "$IMG" cat
IN=/dev/null

tap_is "$(quiet run -d --name @C@ "${U[@]}" "$IMG" sleep 300)" "0 0" "run -d"
both "inspect: running" "running|0" inspect --format '{{.State.Status}}' @C@
tap_like "$(pm o inspect --format '{{.OCIRuntime}}' @C@)" 'oci-runc$' "podman recorded oci-runc as the container's runtime"
c=$(pm o inspect --format '{{.State.ConmonPid}}' @C@)
tap_like "$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null)" " -r $OCI_RUNC " "conmon drives oci-runc"
both "exec: output" "inexec|0" exec @C@ echo inexec
both "exec -t: output" "inexec-t|0" exec -t @C@ echo inexec-t
both "exec: exit status 7 passes through" "|7" exec @C@ sh -c 'exit 7'
both "exec: a missing command is 127" "|127" exec @C@ /no/such/cmd
both "exec -e -w -u" "bar /tmp 1|0" exec -e FOO=bar -w /tmp -u 1 @C@ sh -c 'echo $FOO $(pwd) $(id -u)'
both "top: the container's processes" "$(printf 'COMMAND\nsleep 300 ')|0" top @C@ args
tap_is "$(quiet pause @C@)" "0 0" "pause"
both "inspect: paused" "paused|0" inspect --format '{{.State.Status}}' @C@
tap_is "$(quiet unpause @C@)" "0 0" "unpause"
tap_is "$(quiet stop -t 1 @C@)" "0 0" "stop (SIGTERM ignored by pid 1, then SIGKILL)"
both "inspect: exited 137 after stop" "exited 137|0" inspect --format '{{.State.Status}} {{.State.ExitCode}}' @C@
tap_is "$(quiet start @C@)" "0 0" "start again after stop"
tap_is "$(quiet kill @C@)" "0 0" "kill"
tap_is "$(quiet wait @C@)" "0 0" "wait"
tap_is "$(quiet rm @C@)" "0 0" "rm"
both "ps -a: gone" "|0" ps -a --filter name=@C@ --format '{{.Names}}'

# The shipped packaging/containers/containers.conf.d/sifoci.conf (oci-runc's
# path made the build's) makes sifoci podman's runtime without --runtime.
SHIPPED_CONF=$SIFOCI_TESTS/../packaging/containers/containers.conf.d/sifoci.conf
sed "s|^sifoci = \\[\"/usr/bin/oci-runc\"\\]$|sifoci = [\"$OCI_RUNC\"]|" "$SHIPPED_CONF" >"$T/containers.conf"
tap_is "$(diff "$SHIPPED_CONF" "$T/containers.conf" | grep -c '^>')" 1 \
  "the shipped containers.conf.d/sifoci.conf names /usr/bin/oci-runc where the test expects it"
CONTAINERS_CONF=$T/containers.conf "${P[@]}" run -d --name "sifoci-conf-$S" "${U[@]}" "$IMG" sleep 300 >/dev/null 2>"$T/conf.err"
tap_is "$(CONTAINERS_CONF=$T/containers.conf "${P[@]}" inspect --format '{{.OCIRuntime}}' "sifoci-conf-$S" 2>&1)" \
  "sifoci" "with the shipped containers.conf.d/sifoci.conf podman's runtime is sifoci"
tap_is "$(CONTAINERS_CONF=$T/containers.conf "${P[@]}" exec "sifoci-conf-$S" echo via-conf 2>&1)" "via-conf" \
  "with the shipped containers.conf.d/sifoci.conf: exec"
CONTAINERS_CONF=$T/containers.conf "${P[@]}" rm -f -t 0 "sifoci-conf-$S" >/dev/null 2>&1
tap_ok $? "with the shipped containers.conf.d/sifoci.conf: rm -f"
tap_done
