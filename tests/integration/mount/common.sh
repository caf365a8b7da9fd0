# SPDX-License-Identifier: Apache-2.0
# Shared set-up of the mount tests (sourced): root, tools, fixtures, a temp
# dir T with its own runc root and image dir, and a cleanup trap that leaves
# no container, mount or loop device.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_root
require_cmd siftool mksquashfs busybox jq runc losetup setpriv "$@"
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

T=$(mktemp -d "/tmp/sifoci-$MOUNT_TEST_NAME.XXXXXX")
chmod 0755 "$T"
RUNC_ROOT=$T/runc-root
IMG=$T/img
mkdir -p "$IMG"
N=0

cleanup() {
  local id
  for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
    runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1
  done
  release_mounts "$T" "$IMG"
  rm -rf "$T"
}
trap cleanup EXIT
