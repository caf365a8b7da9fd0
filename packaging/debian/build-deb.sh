#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the sifoci .deb from this source tree:
#   packaging/debian/build-deb.sh OUTDIR [dpkg-buildpackage options]
# Debian's tools want debian/ at the top of the source, and a build writes
# into the tree; so the sources (git's tracked and new files, or the whole
# tree outside git) are copied to OUTDIR/sifoci-VERSION, packaging/debian
# becomes its debian/, and `dpkg-buildpackage -us -uc -b` runs there. The
# .deb, .buildinfo and .changes land in OUTDIR.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: build-deb.sh OUTDIR [dpkg-buildpackage options]" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
tree=$out/sifoci-$version
mkdir -p "$out"
if [ -e "$tree" ]; then
  echo "build-deb.sh: '$tree' exists; remove it first" >&2
  exit 1
fi
mkdir "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
else
  tar -C "$src" --exclude='./build*' -cf - . | tar -C "$tree" -xf -
fi
cp -r "$src/packaging/debian" "$tree/debian"
rm -f "$tree/debian/build-deb.sh"
(cd "$tree" && dpkg-buildpackage -us -uc -b "$@")
