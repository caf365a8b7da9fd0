#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci inspect agrees with `siftool list`; bad images give one-line errors.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
require_cmd siftool mksquashfs busybox
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

# siftool's table (without its rule lines) == ours (without name/digest)
ours() { "$OCI" inspect "$1" | sed -n '/^ID /,/^$/p' | sed '/^$/d; s/  name=.*//; s/  sha256:.*//; s/[[:space:]]*$//'; }
theirs() { siftool list "$1" | grep -v '^---' | sed 's/[[:space:]]*$//'; }
imgs="$FX/busybox.sif $FX/busybox-docker.sif $FX/two-system.sif $FX/plain.sif"
if [ -d "${SIFOCI_SHARED:-/nonexistent}/testdata/sif" ]; then
  for i in busybox busybox-docker two-system ext3-overlay deffile-only; do imgs="$imgs $SIFOCI_SHARED/testdata/sif/$i.sif"; done
fi
for img in $imgs; do
  tap_is "$(ours "$img")" "$(theirs "$img")" "inspect agrees with siftool list: $(basename "$img")"
done

out=$("$OCI" inspect --json "$FX/busybox-docker.sif")
tap_is "$(printf '%s' "$out" | jq -c '.config.Entrypoint + .config.Cmd')" '["/bin/echo","entrypoint:","default","cmd args"]' "inspect --json shows Entrypoint and Cmd"
tap_is "$(printf '%s' "$out" | jq -r '.config.WorkingDir + " " + .config.User')" "/srv 65534:65534" "inspect --json shows WorkingDir and User"
tap_is "$(printf '%s' "$out" | jq -r '[.descriptors[] | select(.partition.type=="*System") | .id] | join(",")')" "2" "inspect --json marks the primary partition"
tap_like "$("$OCI" inspect "$FX/busybox-docker.sif")" 'DOCKER_VAR=docker value' "table shows the image Env"

for bad in bad-magic bad-version bad-header-only bad-truncated bad-int64 bad-dtotal bad-overlap bad-config-json; do
  err=$("$OCI" inspect "$FX/$bad.sif" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$bad.sif: exit 1 and one line on stderr"
  tap_like "$err" "^oci: inspect '.*$bad.sif': " "$bad.sif: error names the file"
done
"$OCI" inspect >/dev/null 2>&1; tap_is "$?" 2 "missing argument is a usage error (2)"
"$OCI" inspect --bogus x >/dev/null 2>&1; tap_is "$?" 2 "unknown option is a usage error (2)"
tap_like "$("$OCI" inspect --help)" '^Usage: oci inspect' "inspect --help"
tap_like "$("$OCI" --version)" '^oci version [0-9]' "--version"
"$OCI" inspect /nonexistent.sif 2>"$FX/.err-$$"; tap_like "$(cat "$FX/.err-$$")" "^oci: inspect '/nonexistent.sif': open: No such file" "missing file named in the error"
rm -f "$FX/.err-$$"
tap_done
