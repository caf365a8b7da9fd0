# SPDX-License-Identifier: Apache-2.0
# Shared by the overlay tests (sourced after mount/common.sh): a container
# run in a bundle, a refusal check, and the two mount cycles every
# persistent overlay has to survive.

# run_in BUNDLE CMD: runc run of sh -c CMD, terminal off
run_in() {
  N=$((N + 1))
  jq --arg c "$2" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $c]' \
    "$1/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "$MOUNT_TEST_NAME-$$-$N" </dev/null 2>&1)
}

# overlay_refused DESCRIPTION REGEX CHECK IMAGE BUNDLE ARGS...: `oci mount
# ARGS IMAGE BUNDLE` fails with one line (the usage hint aside) matching
# REGEX, and the command CHECK then passes (nothing left)
overlay_refused() {
  local desc=$1 re=$2 check=$3 img=$4 b=$5 err rc
  shift 5
  err=$("$OCI" mount "$@" "$img" "$b" 2>&1); rc=$?
  tap_ok "$([ $rc -ne 0 ] && [ "$(printf '%s\n' "$err" | grep -vc 'oci mount --help')" = 1 ]; echo $?)" \
    "$desc: refused with one line"
  tap_like "$err" "$re" "$desc: says why"
  tap_ok "$($check; echo $?)" "$desc: leaves nothing"
}

# two_cycles WHAT CHECK IMAGE BUNDLE ARGS...: mounted with ARGS, the
# container writes /srv/kept.txt and deletes /etc/group; umount leaves
# nothing (CHECK); mounted again with ARGS, the container sees both and
# adds a line; umount.  The overlay then holds "first" and "second".
two_cycles() {
  local what=$1 check=$2 img=$3 b=$4 out
  shift 4
  tap_run "mount $what" "$OCI" mount "$@" "$img" "$b"
  out=$(run_in "$b" 'echo first >/srv/kept.txt && rm /etc/group && cat /srv/kept.txt')
  tap_is "$out" "first" "$what: the container writes"
  tap_run "$what: umount" "$OCI" umount "$b"
  tap_ok "$($check; echo $?)" "$what: umount leaves no bundle, mount or loop device"
  tap_run "$what: mount again" "$OCI" mount "$@" "$img" "$b"
  out=$(run_in "$b" 'cat /srv/kept.txt; [ -e /etc/group ] && echo group || echo nogroup; echo second >>/srv/kept.txt')
  tap_is "$out" "first
nogroup" "$what: the second mount sees the first one's file and its deletion"
  tap_run "$what: umount again" "$OCI" umount "$b"
  tap_ok "$($check; echo $?)" "$what: nothing left"
}
