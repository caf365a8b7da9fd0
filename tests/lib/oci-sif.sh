# SPDX-License-Identifier: Apache-2.0
# Shared by the tests that build OCI-SIF images offline with
# make-oci-sif.py (tests/integration/images/).  Source after tap.sh.

# is_gone BUNDLE IMAGE: no BUNDLE, nothing mounted under it, no loop
# device backed by IMAGE
is_gone() { [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && [ -z "$(loops_of "$2")" ]; }

# HOST, the OCI name of this machine's architecture, and OTHER, one it
# does not run; the test is skipped where there are none
oci_sif_platforms() {
  case $(uname -m) in
    x86_64) HOST=amd64 OTHER=arm64 ;;
    aarch64) HOST=arm64 OTHER=amd64 ;;
    *) tap_skip_all "no test platforms for $(uname -m)" ;;
  esac
}

# runc_delete_all ROOT: every container under runc's state ROOT, forced
runc_delete_all() {
  local id
  for id in $(runc --root "$1" list -q 2>/dev/null); do
    runc --root "$1" delete -f "$id" >/dev/null 2>&1
  done
}
