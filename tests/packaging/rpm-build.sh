#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/rpm/sifoci.spec builds: `rpmbuild -bb --nodeps` (Debian's rpm;
# the BuildRequires name Fedora's packages) from the `meson dist` tarball,
# the .rpm holds the programs, the monitor, the man pages, completion and
# docs, requires runc, and rpmlint (when there is one) finds no error.
#   rpm-build.sh BUILD_DIR
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
build=$1
src=$(cd "$SIFOCI_TESTS/.." && pwd)
require_cmd rpmbuild meson git
git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1 || tap_skip_all "not a git checkout: no meson dist"
work=$(mktemp -d "${TMPDIR:-/tmp}/h15-rpm-build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
version=$(sed -n 's/^Version: *//p' "$src/packaging/rpm/sifoci.spec")
tap_is "$version" "$(meson introspect --projectinfo "$build" | sed -nE 's/.*"version": "([^"]*)".*/\1/p')" \
  "the spec's Version is the project's"

tap_run "meson dist" meson dist -C "$build" --no-tests --allow-dirty --formats xztar
# the unit suite (%check) runs in CI already; here the package is the point
rpmbuild -bb --nodeps --nocheck --define "_topdir $work/rpm" --define "_sourcedir $build/meson-dist" \
  "$src/packaging/rpm/sifoci.spec" >"$work/rpmbuild.log" 2>&1
rc=$?
tap_ok $rc "rpmbuild -bb --nodeps packaging/rpm/sifoci.spec"
[ $rc -eq 0 ] || { tail -15 "$work/rpmbuild.log" | sed 's/^/#   /'; tap_done; }
rpm=$(find "$work/rpm/RPMS" -name "sifoci-$version-*.rpm" | head -1)
tap_like "$rpm" '\.rpm$' "the .rpm is there"

list=$(rpm -qlp "$rpm" 2>/dev/null)
missing=()
for f in /usr/bin/oci /usr/bin/oci-runc /usr/libexec/sifoci/oci-monitor /usr/share/man/man1/oci.1 \
  /usr/share/man/man1/oci-runc.1 /usr/share/man/man8/oci-monitor.8 /usr/share/bash-completion/completions/oci \
  /usr/share/zsh/site-functions/_oci /usr/share/fish/vendor_completions.d/oci.fish \
  /usr/share/doc/sifoci/README.md /usr/share/doc/sifoci/CHANGELOG.md \
  /usr/share/doc/sifoci/examples/slurm/oci.conf; do
  grep -qE "^$f(\.gz)?$" <<<"$list" || missing+=("$f")
done
for v in $("$OCI" --help | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}'); do
  grep -qE "^/usr/share/man/man1/oci-$v\.1(\.gz)?$" <<<"$list" || missing+=("oci-$v.1")
done
tap_is "${missing[*]}" "" "the .rpm holds the programs, the monitor, every man page, completion, docs"
tap_like "$(rpm -qp --requires "$rpm" 2>/dev/null)" '^runc' "Requires: runc"
tap_is "$(rpm -qp --recommends "$rpm" 2>&1 | sort | tr '\n' ' ')" "fuse-overlayfs shadow-utils squashfuse " \
  "Recommends: shadow-utils (newuidmap), squashfuse, fuse-overlayfs"
tap_is "$(rpm -qp --suggests "$rpm" 2>&1)" "crun" "Suggests: crun"

if command -v rpmlint >/dev/null 2>&1; then
  lint=$(rpmlint -r "$src/packaging/rpm/sifoci.rpmlintrc" "$rpm" "$src/packaging/rpm/sifoci.spec" 2>&1)
  tap_is "$(grep -E '^[^ ]+: E: ' <<<"$lint" | tr '\n' ';')" "" "rpmlint: no errors"
  tap_diag "rpmlint: $(tail -1 <<<"$lint")"
else
  tap_diag "no rpmlint"
fi
tap_done
