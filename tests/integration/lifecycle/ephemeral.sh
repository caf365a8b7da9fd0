#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci run IMAGE [ARGS]` and `oci create IMAGE ID`: the bundle is mounted
# in the container's state dir and gone with it.  After each case: no
# mount, no loop device on the image, no monitor, no state dir.  Covers
# ARGS (native runscript, Docker Cmd/Entrypoint), exit codes, mount
# options, -d + exec + delete, create + start + delete, the foreground
# `oci` killed with SIGKILL (`oci delete -f` cleans up; or the monitor,
# when the container ends), and failures half-way (bad image, bad option,
# runtime create failing) that leave nothing.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lc_setup
require_cmd siftool mksquashfs losetup
RUNTIME=
case $(uname -m) in
x86_64) ARCH=2 ;; aarch64) ARCH=4 ;; i?86) ARCH=1 ;; ppc64le) ARCH=6 ;; s390x) ARCH=11 ;; *) ARCH=2 ;;
esac
IMG=$T/img
mkdir -p "$IMG" "$T/data"
. "$SIFOCI_TESTS/lib/test-users.sh"
RU=
# rootless_cleanup: the user's containers, then the user (test-users.sh)
rootless_cleanup() {
  [ -n "$RU" ] && [ "$BASHPID" = "$LC_MAIN_PID" ] || return 0
  local id
  for id in $(ls "/run/user/$(id -u "$RU")/sifoci" 2>/dev/null); do
    test_user_as "$RU" "$OCI" delete -f "$id" >/dev/null 2>&1
  done
  test_user_remove "$RU" "/home/$RU"
}
trap 'rootless_cleanup; release_mounts "$T" "$IMG"; lc_cleanup' EXIT

# busybox.sif as `singularity pull docker://busybox` makes it: its
# runscript runs the arguments it gets, else a shell
mkdir -p "$ROOTFS/.singularity.d"
printf '#!/bin/sh\n[ $# -gt 0 ] && exec "$@"\nexec /bin/sh\n' >"$ROOTFS/.singularity.d/runscript"
chmod 0755 "$ROOTFS/.singularity.d/runscript"
mksquashfs "$ROOTFS" "$T/bb.sqfs" -noappend -all-root -no-progress -quiet >/dev/null ||
  tap_skip_all "mksquashfs failed"
sif() { # sif NAME [OCI-CONFIG-JSON]
  siftool new "$IMG/$1" >/dev/null
  if [ -n "${2:-}" ]; then
    printf '%s' "$2" >"$T/$1.json"
    siftool add --datatype 6 --groupid 1 --filename oci-config.json "$IMG/$1" "$T/$1.json" >/dev/null
  fi
  siftool add --datatype 4 --partfs 1 --parttype 2 --partarch $ARCH --groupid 1 "$IMG/$1" "$T/bb.sqfs" >/dev/null
}
sif busybox.sif
sif docker.sif '{"Entrypoint":["/bin/echo","ep:"],"Cmd":["default","cmd"]}'
head -c 100000 /dev/urandom >"$IMG/bad.sif"
cd "$IMG" || exit 1

# nothing_left WHAT: no state dir, mount, loop device or monitor of ours
nothing_left() {
  local left
  left="dirs=$(ls "$ROOT" 2>/dev/null | wc -l) mounts=$(mounts_under "$ROOT" | wc -l)"
  left+=" loops=$(cat <(loops_of "$IMG/busybox.sif") <(loops_of "$IMG/docker.sif") | wc -l)"
  left+=" monitors=$(pgrep -f -- "--state-dir $ROOT/" | wc -l)"
  tap_is "$left" "dirs=0 mounts=0 loops=0 monitors=0" "$1: nothing left"
}

out=$(oci run busybox.sif echo hi </dev/null 2>"$T/err")
tap_is "$?:$out" "0:hi" "oci run busybox.sif echo hi prints hi"
tap_like "$(cat "$T/err")" '^oci: container busybox-[0-9a-f]{8}$' "the generated ID is said on stderr"
nothing_left "run busybox.sif echo hi"

oci run busybox.sif sh -c 'exit 7' </dev/null 2>/dev/null
tap_is "$?" 7 "the exit code passes through"
oci run busybox.sif /nonexistent </dev/null 2>/dev/null
tap_is "$?" 127 "a command not found is 127"
nothing_left "exit codes"

echo bound >"$T/data/f"
out=$(oci run --name h13eph-opt --bind "$T/data:/data:ro" --env H13EPH=seen busybox.sif -- \
  sh -c 'cat /data/f; echo "$H13EPH"; touch /data/x 2>/dev/null || echo ro' </dev/null 2>&1)
tap_is "$out" "$(printf 'bound\nseen\nro')" "--bind and --env reach the container (--name, --)"
nothing_left "mount options"

tap_is "$(oci run docker.sif a b </dev/null 2>/dev/null)" "ep: a b" "Docker image: ARGS replace Cmd, the Entrypoint stays"
tap_is "$(oci run docker.sif </dev/null 2>/dev/null)" "ep: default cmd" "Docker image without ARGS: Entrypoint + Cmd"
nothing_left "Docker image"

# -d: a service until delete
oci run -d --name h13eph-d busybox.sif sleep 100 </dev/null >/dev/null 2>&1
tap_is "$(state_field h13eph-d .status)" running "run -d: running"
tap_is "$(state_field h13eph-d .bundle)" "$ROOT/h13eph-d/image" "its bundle is in its state dir"
tap_is "$(oci exec h13eph-d echo inside 2>&1)" inside "exec in it"
tap_is "$(mounts_under "$ROOT/h13eph-d/image" | wc -l)" 2 "its image and rootfs are mounted"
oci delete -f h13eph-d
tap_is "$?" 0 "delete -f"
nothing_left "run -d, delete -f"

# create IMAGE ID, start, kill, delete (no -f)
oci create busybox.sif h13eph-c </dev/null >/dev/null 2>&1
tap_is "$(state_field h13eph-c .status)" created "create IMAGE ID"
oci start h13eph-c
tap_is "$(state_field h13eph-c .status)" running "start"
oci kill h13eph-c KILL >/dev/null 2>&1
wait_status h13eph-c stopped
oci delete h13eph-c
tap_is "$?" 0 "delete of the stopped container"
nothing_left "create, start, delete"

# run_killed ID SECONDS: `oci run --name ID busybox.sif sleep SECONDS`
# killed with SIGKILL once the container runs
run_killed() {
  oci run --name "$1" busybox.sif sleep "$2" </dev/null >/dev/null 2>&1 &
  local k=$!
  wait_status "$1" running 20
  kill -9 "$k"
  wait "$k" 2>/dev/null
}

# the foreground oci killed with SIGKILL mid-run: the next command cleans up
run_killed h13eph-k 30
tap_is "$(state_field h13eph-k .status)" running "SIGKILL of oci run: the container goes on"
oci delete -f h13eph-k
tap_is "$?" 0 "delete -f after the SIGKILL"
nothing_left "SIGKILL, then delete -f"

# ... and when the container ends by itself, its monitor cleans up
run_killed h13eph-k2 2
wait_gone "$ROOT/h13eph-k2" 20
tap_ok $? "SIGKILL of oci run, container ended: its monitor removed the state dir"
nothing_left "SIGKILL, container ended"

# failures half-way: one line, exit 125 (2 for usage), nothing left
oci run --name h13eph-bad bad.sif echo </dev/null >/dev/null 2>"$T/err"
tap_is "$?:$(wc -l <"$T/err")" "125:1" "a bad image: 125, one line"
tap_like "$(cat "$T/err")" "^oci: .*'bad.sif'" "... naming the image"
nothing_left "bad image"
oci run --name h13eph-bad --memory lots busybox.sif echo </dev/null >/dev/null 2>"$T/err"
tap_is "$?:$(head -1 "$T/err")" "2:oci: run: --memory 'lots': a size in bytes, or with a unit: k, m, g, t (1024-based)" "a bad option: a usage error"
oci run --name h13eph-bad --overlay "$T/no-such-dir" busybox.sif echo </dev/null >/dev/null 2>"$T/err"
tap_is "$?:$(wc -l <"$T/err")" "125:1" "a missing --overlay dir: one line"
"$OCI" --root "$ROOT" --runtime /bin/false run --name h13eph-bad busybox.sif echo </dev/null >/dev/null 2>"$T/err"
tap_is "$?:$(wc -l <"$T/err")" "125:1" "the runtime's create fails: one line"
nothing_left "bad option, overlay, runtime failure"
oci run no-such.sif echo </dev/null >/dev/null 2>"$T/err"
tap_like "$?:$(head -1 "$T/err")" "^2:oci: run: image 'no-such.sif': No such file" "no such image: a usage error naming it"
oci create busybox.sif 'bad/id' </dev/null >/dev/null 2>"$T/err"
tap_like "$?:$(head -1 "$T/err")" "^2:oci: invalid container ID 'bad/id'" "create IMAGE with a bad ID: refused"
nothing_left "no such image, bad ID"

# the bundle form as it was: -b before or after the ID, mount options refused
B=$(bundle classic '.process.args = ["true"]')
oci run h13eph-cl -b "$B" </dev/null >/dev/null 2>"$T/err"
tap_is "$?" 0 "oci run ID -b BUNDLE: the bundle form, as before"
oci run -b "$B" --env A=b h13eph-cl </dev/null >/dev/null 2>"$T/err"
tap_like "$?:$(head -1 "$T/err")" "^2:oci: run: a mount option needs an image" "-b with a mount option: refused"
oci run -b "$B" h13eph-cl sh -c ls </dev/null >/dev/null 2>"$T/err"
tap_like "$?:$(head -1 "$T/err")" "^2:oci: run: 'sh' after the ID: " "-b BUNDLE ID CMD: the hint, as before"
oci run -b "$IMG/busybox.sif" h13eph-cl </dev/null >/dev/null 2>"$T/err"
tap_like "$(head -1 "$T/err")" "'oci run --name h13eph-cl .*busybox.sif' runs it" "an image as the bundle: the image form named"
nothing_left "the bundle form"

# rootless, as a real user with subordinate IDs: extracted (no mounts)
if command -v useradd >/dev/null && command -v setpriv >/dev/null && command -v newuidmap >/dev/null; then
  RU=h13eph$$
  test_user_add "$RU" "/home/$RU" --make-home --subids --run-dir || tap_skip_all "useradd failed"
  chmod 755 "$T" "$IMG"
  ru_root=/run/user/$(id -u "$RU")/sifoci
  out=$(cd "$IMG" && test_user_as "$RU" "$OCI" run --quiet --method extract busybox.sif sh -c 'echo hi; exit 3' </dev/null 2>/dev/null)
  tap_is "$?:$out" "3:hi" "rootless: oci run busybox.sif prints hi, its exit code passes through"
  live=0 # an exited monitor may wait a moment for this host's init to reap it
  for p in $(pgrep -u "$RU" -f oci-monitor); do alive "$p" && live=$((live + 1)); done
  tap_is "$(ls "$ru_root" 2>/dev/null | wc -l) $live" "0 0" "rootless: no state dir, no monitor left"
fi
tap_done
