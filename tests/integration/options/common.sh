# SPDX-License-Identifier: Apache-2.0
# What the options tests share (sourced, bash): a work dir $T with a state
# root $ST and the image copies in $IMG, bundles made by `mnt` and taken
# apart at exit, `run` of a script in one, `cfg` of its config.json.
#   options_setup PREFIX: makes $T (/tmp/sifoci-PREFIX.XXXXXX); the IDs of
#   `run` start with PREFIX too.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"

options_setup() {
  OPTIONS_PREFIX=$1
  T=$(mktemp -d "/tmp/sifoci-$1.XXXXXX")
  chmod 0755 "$T"
  ST=$T/state
  IMG=$T/img
  mkdir -p "$IMG"
  N=0
  BUNDLES=()
  trap options_cleanup EXIT
}

options_cleanup() {
  local id b
  for id in $("$OCI" --root "$ST" list -q 2>/dev/null); do
    "$OCI" --root "$ST" delete -f "$id" >/dev/null 2>&1
  done
  for b in "${BUNDLES[@]}"; do
    [ -e "$b/.sifoci-mount.json" ] && "$OCI" umount "$b" >/dev/null 2>&1
  done
  release_mounts "$T" "$IMG"
  rm -rf --one-file-system "$T"
}

# mnt NAME [OPTION...]: oci mount busybox.sif (or $IMAGE) into $T/NAME
mnt() {
  local b=$T/$1
  shift
  BUNDLES+=("$b")
  "$OCI" mount --quiet "$@" "${IMAGE:-$IMG/busybox.sif}" "$b"
}

# run NAME SCRIPT: sh -c SCRIPT in bundle $T/NAME under oci run, no terminal;
# prints what it printed (stdout and stderr)
run() {
  local b=$T/$1
  N=$((N + 1))
  jq --arg s "$2" '.process.terminal = false | .process.args = ["sh", "-c", $s]' \
    "$b/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$b/config.json"
  timeout 120 "$OCI" --root "$ST" run -b "$b" "$OPTIONS_PREFIX-$$-$N" </dev/null 2>&1
}

cfg() { jq -c "$2" "$T/$1/config.json"; }
