#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The built .deb in a fresh Debian 12 chroot (debootstrap --variant=minbase
# bookworm, from the mirror apt uses here): apt installs it with its
# Depends, then from the installed files only `oci --version`, `oci inspect`
# and `oci mount`/`run`/`umount` of a test image (the monitor from
# /usr/libexec/sifoci, runc from the package it pulled in), and `apt-get
# purge` leaves none of its files.  The base system is made once and kept as
# a tarball under the build dir.
#   deb-chroot.sh DEB_DIR CACHE_DIR   (DEB_DIR: deb-build's; built there if missing)
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
deb_dir=$1
cache=$2
src=$(cd "$SIFOCI_TESTS/.." && pwd)
require_root
require_cmd debootstrap chroot dpkg-buildpackage
arch=$(dpkg --print-architecture)
deb=$(ls "$deb_dir"/sifoci_*_"$arch".deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
  mkdir -p "$deb_dir"
  DEB_BUILD_OPTIONS=nocheck "$src/packaging/debian/build-deb.sh" "$deb_dir" >"$deb_dir/build.log" 2>&1 ||
    tap_skip_all "the .deb did not build (see $deb_dir/build.log)"
  rm -rf --one-file-system "$deb_dir"/sifoci-[0-9]*/
  deb=$(ls "$deb_dir"/sifoci_*_"$arch".deb | head -1)
fi
fixtures=$(fixtures_dir) || tap_skip_all "no fixtures"

# the mirror apt uses here (deb822 or one-line sources), else Debian's own
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d "${TMPDIR:-/tmp}/h15-deb-chroot.XXXXXX")
root=$work/root
cleanup() {
  # the chroot's mounts, deepest first (also those the test left on error)
  local m
  for m in $(mounts_under "$root" | sort -r); do umount -l "$m" 2>/dev/null; done
  for m in $(losetup -j "$root/tmp/busybox.sif" 2>/dev/null | cut -d: -f1); do losetup -d "$m" 2>/dev/null; done
  [ -z "$(mounts_under "$root")" ] && rm -rf --one-file-system "$work"
}
trap cleanup EXIT

base=$cache/bookworm-minbase-$arch.tar
if [ ! -s "$base" ]; then
  mkdir -p "$cache" "$work/base"
  if ! debootstrap --variant=minbase bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -5 "$work/debootstrap.log" | sed 's/^/# /'
    tap_skip_all "debootstrap bookworm from $mirror failed"
  fi
  cp /etc/resolv.conf "$work/base/etc/resolv.conf"
  chroot "$work/base" apt-get update -qq >"$work/apt-update.log" 2>&1 ||
    tap_skip_all "apt-get update in the chroot failed: $(tail -1 "$work/apt-update.log")"
  chroot "$work/base" apt-get clean
  tar -C "$work/base" --one-file-system -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf --one-file-system "$work/base"
fi
tap_diag "base: $base; mirror: $mirror"
mkdir "$root"
tar -C "$root" -xf "$base"
tap_ok $? "a fresh Debian 12 chroot"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# pivot_root (runc) needs the chroot's root to be a mount point; each mount
# a slave, so that unmounting here never reaches the host's
mount --bind "$root" "$root" && mount --make-rslave "$root" &&
  mount -t proc proc "$root/proc" &&
  mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" &&
  mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" &&
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
tap_ok $? "the chroot's /, /proc, /dev, /sys and /run mounted"
# in the chroot, with nothing of the build's environment (OCI_MONITOR, ...)
in_chroot() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C "$@"; }

tap_is "$(in_chroot sh -c 'command -v oci; command -v runc' 2>&1)" "" "before: neither oci nor runc in the chroot"
cp "$deb" "$root/tmp/sifoci.deb"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"
in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/sifoci.deb \
  >"$work/install.log" 2>&1
rc=$?
tap_ok $rc "apt-get install ./sifoci.deb (its Depends from the mirror)"
[ $rc -eq 0 ] || tail -10 "$work/install.log" | sed 's/^/#   /'
tap_is "$(in_chroot sh -c 'for c in oci oci-runc runc; do command -v $c; done' | tr '\n' ' ')" \
  "/usr/bin/oci /usr/bin/oci-runc /usr/sbin/runc " \
  "installed: oci, oci-runc, and runc through Depends"
tap_like "$(in_chroot oci --version 2>&1)" '^oci version [0-9]' "oci --version"
tap_like "$(in_chroot man -w oci-mount 2>&1; ls "$root/usr/share/man/man1/oci-mount.1.gz")" 'oci-mount\.1\.gz' \
  "the man page oci-mount(1) is installed"

cp "$fixtures/busybox.sif" "$root/tmp/busybox.sif"
tap_like "$(in_chroot oci inspect /tmp/busybox.sif 2>&1)" 'Squashfs' "oci inspect of a test image"
tap_run "oci mount (kernel: loop, squashfs, overlay)" in_chroot oci mount /tmp/busybox.sif /var/tmp/h15-deb-bundle
out=$(in_chroot oci run -b /var/tmp/h15-deb-bundle h15-deb-run </dev/null 2>&1)
rc=$?
tap_is "$rc" 0 "oci run: the container ran and exited 0"
[ -n "$out" ] && tap_diag "its output: $(head -3 <<<"$out" | tr '\n' ' ')"
tap_is "$(in_chroot oci list -q 2>&1)" "" "oci run removed its container"
tap_run "oci umount" in_chroot oci umount /var/tmp/h15-deb-bundle
tap_is "$(losetup -j "$root/tmp/busybox.sif")" "" "no loop device left on the image"

files=$(in_chroot dpkg-query -L sifoci | sort -r)
in_chroot env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sifoci >"$work/purge.log" 2>&1
tap_ok $? "apt-get purge sifoci"
left=()
while IFS= read -r f; do
  [ -n "$f" ] || continue
  # directories other packages share (/usr/bin, /usr/share/man/man1) stay
  if [ -d "$root$f" ] && ! [ -L "$root$f" ]; then
    case $f in *sifoci* | */_oci) left+=("$f") ;; esac
  elif [ -e "$root$f" ] || [ -L "$root$f" ]; then
    left+=("$f")
  fi
done <<<"$files"
tap_is "${left[*]}" "" "after purge: none of the package's files, nor its own directories"
tap_is "$(in_chroot dpkg-query -W -f '${Status}' sifoci 2>/dev/null)" "" "after purge: dpkg knows no sifoci"
tap_is "$(find "$root/run/sifoci" -mindepth 1 2>/dev/null)" "" "no container state left in /run/sifoci"

for m in $(mounts_under "$root" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
tap_is "$(mounts_under "$root")" "" "every chroot mount unmounted"
tap_done
