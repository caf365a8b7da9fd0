#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What oci loads at start (meson option static_libs): linked from their
# archives, jansson, libsquashfs, its compressors and libyaml are not among
# its NEEDED libraries, and libc still is (getpwuid needs NSS); otherwise
# they all are.  Also the .deb's choice (tests/packaging/deb-build.sh).
#   linkage.sh static|shared
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
require_cmd readelf
want=$1
needed=$(readelf -d "$OCI" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
tap_diag "oci NEEDED: $needed"
ours=$(grep -oE 'lib(jansson|squashfs|yaml-0|z|lzma|lz4|zstd)\.so[.0-9]*' <<<"$needed" | tr '\n' ' ')
if [ "$want" = static ]; then
  tap_is "$ours" "" "oci needs none of jansson, libsquashfs, its compressors, libyaml at run time"
else
  tap_ok "$(grep -q libjansson <<<"$ours" && grep -q libsquashfs <<<"$ours"; echo $?)" \
    "oci loads the shared jansson and libsquashfs"
fi
tap_ok "$(grep -q 'libc\.so' <<<"$needed"; echo $?)" "oci still loads the shared libc"
tap_done
