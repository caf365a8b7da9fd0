#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `meson install` into a DESTDIR puts every program, page and completion
# where it belongs; `meson dist` makes a tarball that configures and builds
# on its own and says the project's version; a build from git says git's.
#   install-dist.sh BUILD_DIR
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
build=$1
src=$(cd "$SIFOCI_TESTS/.." && pwd)
require_cmd meson git xz
work=$(mktemp -d "${TMPDIR:-/tmp}/h15-install-dist.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
version=$(meson introspect --projectinfo "$build" | sed -nE 's/.*"version": "([^"]*)".*/\1/p')
prefix=$(meson introspect --buildoptions "$build" |
  python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')

tap_run "meson install --destdir" meson install -C "$build" --no-rebuild --destdir "$work/dest"
d=$work/dest$prefix
missing=()
for f in bin/oci bin/oci-runc share/man/man1/oci.1 share/man/man1/oci-mount.1 \
  share/man/man1/oci-runc.1 share/man/man8/oci-monitor.8 \
  share/bash-completion/completions/oci share/zsh/site-functions/_oci \
  share/fish/vendor_completions.d/oci.fish; do
  [ -s "$d/$f" ] || missing+=("$f")
done
tap_is "${missing[*]}" "" "installed: programs, man pages, completion under $prefix"
monitor=$(find "$work/dest" -name oci-monitor -type f -perm -u+x)
tap_like "$monitor" "^$work/dest$prefix/libexec" "installed: oci-monitor in the libexec dir"
for v in $("$OCI" --help | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}'); do
  [ -s "$d/share/man/man1/oci-$v.1" ] || missing+=("oci-$v.1")
done
tap_is "${missing[*]}" "" "installed: a man page for every verb"
tap_like "$(MANWIDTH=100 man -l "$d/share/man/man1/oci-mount.1" 2>/dev/null)" '--method' \
  "man -l renders the installed oci-mount(1)"
tap_like "$("$d/bin/oci" --version)" "^oci version $version" "the installed oci runs"

if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  tap_is "$("$OCI" --version)" "oci version $(sh "$src/packaging/version.sh" "$version")" \
    "built from git: --version is git describe's"
  tap_like "$("$OCI" --version)" "^oci version $version-g[0-9a-f]+|^oci version [0-9]" \
    "built from git: --version is one word after 'oci version'"
  # the tarball is what is committed (HEAD); dirty trees are allowed here so
  # that the test runs during development
  tap_run "meson dist" meson dist -C "$build" --no-tests --allow-dirty --formats xztar
  tarball=$build/meson-dist/sifoci-$version.tar.xz
  listing=$(tar -tJf "$tarball" 2>/dev/null | sed "s|^sifoci-$version/||")
  missing=()
  for f in meson.build meson_options.txt version.h.in CHANGELOG.md README.md packaging/version.sh \
    packaging/man/oci-mount.1.scd packaging/completion/oci.bash src/oci.c monitor/main.c; do
    grep -qx -- "$f" <<<"$listing" || missing+=("$f")
  done
  tap_is "${missing[*]}" "" "the tarball has the sources, pages, completion and changelog"
  tap_is "$(grep -cE '^\.git(/|$)' <<<"$listing")" 0 "the tarball has no git metadata"
  mkdir "$work/dist"
  tar -C "$work/dist" -xJf "$tarball"
  tap_run "the tarball configures on its own" \
    meson setup "$work/dist/build" "$work/dist/sifoci-$version" --wrap-mode=nodownload -Dwerror=true
  tap_run "the tarball builds" meson compile -C "$work/dist/build"
  tap_is "$("$work/dist/build/src/oci" --version)" "oci version $version" \
    "built from the tarball: --version is the project's"
  tap_run "the tarball's build installs" meson install -C "$work/dist/build" --no-rebuild --destdir "$work/dist/dest"
else
  tap_diag "not a git checkout: meson dist not tried"
fi
tap_done
