# SPDX-License-Identifier: Apache-2.0
# Builds the suite's SIF fixtures once per build tree (sourced, bash), with
# Debian's siftool and squashfs-tools.  `fixtures_dir` prints the directory.
#
#   busybox.sif          native image: busybox + /.singularity.d (actions/run,
#                        runscript, env/90-environment.sh), /etc/passwd+group
#   busybox-docker.sif   + oci-config.json: Entrypoint, Cmd, Env, WorkingDir
#                        /srv, User 65534:65534, Volumes /data, Labels
#   named-user.sif       oci-config.json with User "nobody" (resolved through
#                        the image's own /etc/passwd and /etc/group)
#   plain.sif            busybox only: no /.singularity.d, no config
#   two-system.sif       an arm64 System partition before the primary one
#   bad-*.sif            hostile or broken variants (see make_bad)
FIXTURE_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fixtures_dir() {
  local dir=${SIFOCI_FIXTURES:-${MESON_BUILD_ROOT:-/tmp}/sifoci-fixtures}
  mkdir -p "$dir"
  (
    flock 9
    # rebuilt when the recipe changed: .complete holds the recipe's hash
    local want
    want=$(cat "$FIXTURE_SRC_DIR/make-fixtures.sh" "$FIXTURE_SRC_DIR/probe.c" | sha256sum)
    if [ "$(cat "$dir/.complete" 2>/dev/null)" != "$want" ]; then
      bash "$FIXTURE_SRC_DIR/make-fixtures.sh" "$dir" >"$dir/.log" 2>&1 || exit 1
      printf '%s\n' "$want" >"$dir/.complete"
    fi
  ) 9>"$dir/.lock" || { echo "fixture build failed, see $dir/.log" >&2; return 1; }
  echo "$dir"
}
