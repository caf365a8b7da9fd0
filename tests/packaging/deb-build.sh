#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/debian builds: `dpkg-buildpackage -us -uc -b` (through
# packaging/debian/build-deb.sh) makes sifoci_*.deb with the programs, the
# monitor in /usr/libexec/sifoci, every man page, completion and docs, the
# relations the issue asks for, and lintian finds no error in it.
#   deb-build.sh OUTDIR   (the .deb stays there for deb-chroot)
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
out=$1
src=$(cd "$SIFOCI_TESTS/.." && pwd)
require_cmd dpkg-buildpackage dh lintian scdoc
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (lintian and dpkg-buildpackage as root here)"
# a fresh build every time, but never a tree that may hold anything else
if [ -d "$out" ]; then
  rm -rf --one-file-system "$out"
fi
mkdir -p "$out"
DEB_BUILD_OPTIONS=nocheck "$src/packaging/debian/build-deb.sh" "$out" >"$out/build.log" 2>&1
rc=$?
tap_ok $rc "dpkg-buildpackage -us -uc -b (log: $out/build.log)"
[ $rc -eq 0 ] || { tail -20 "$out/build.log" | sed 's/^/#   /'; tap_done; }
deb=$(ls "$out"/sifoci_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
tap_like "$deb" 'sifoci_[0-9].*\.deb$' "the .deb is there"
rm -rf --one-file-system "$out"/sifoci-[0-9]*/

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
missing=()
for f in /usr/bin/oci /usr/bin/oci-runc /usr/libexec/sifoci/oci-monitor \
  /usr/share/man/man1/oci.1.gz /usr/share/man/man1/oci-runc.1.gz /usr/share/man/man8/oci-monitor.8.gz \
  /usr/share/bash-completion/completions/oci /usr/share/zsh/vendor-completions/_oci \
  /usr/share/fish/vendor_completions.d/oci.fish /usr/share/doc/sifoci/README.md.gz \
  /usr/share/doc/sifoci/changelog.gz /usr/share/doc/sifoci/copyright \
  /usr/share/doc/sifoci/examples/slurm/oci.conf /usr/share/doc/sifoci/examples/containerd/sifoci-cri.toml \
  /usr/share/doc/sifoci/examples/kubernetes/runtimeclass.yaml \
  /usr/share/doc/sifoci/examples/containers/containers.conf.d/sifoci.conf \
  /usr/share/doc/sifoci/examples/crio/crio.conf.d/50-sifoci.conf; do
  grep -qx -- "$f" <<<"$contents" || missing+=("$f")
done
for v in $("$OCI" --help | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}'); do
  grep -qx -- "/usr/share/man/man1/oci-$v.1.gz" <<<"$contents" || missing+=("oci-$v.1.gz")
done
tap_is "${missing[*]}" "" "the .deb holds the programs, the monitor, every man page, completion, docs, examples"

field() { dpkg-deb -f "$deb" "$1"; }
tap_like "$(field Depends)" '(^|, )runc($|,)' "Depends: runc"
# static_libs=disabled in debian/rules: the distribution's library updates reach oci
tap_like "$(field Depends)" 'libsquashfs1' "Depends: libsquashfs1 (oci on the shared libraries)"
tap_is "$(field Recommends)" "uidmap, squashfuse, fuse-overlayfs" "Recommends: uidmap, squashfuse, fuse-overlayfs"
tap_is "$(field Suggests)" "crun" "Suggests: crun"

lint=$(lintian --no-tag-display-limit "$deb" 2>&1)
errors=$(grep '^E: ' <<<"$lint")
tap_is "$errors" "" "lintian: no errors"
[ -z "$lint" ] || tap_diag "lintian: $(grep -c '^[WIN]: ' <<<"$lint") warnings/notes"
tap_done
