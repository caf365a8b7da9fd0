#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs, from Debian 12's packages, whatever sifoci needs that is missing.
#   tests/ci/deps.sh [build|test|demo|bench]   (default: test — everything the suite uses)
set -euo pipefail
what=${1:-test}
pkgs=(build-essential meson ninja-build pkg-config libjansson-dev libsquashfs-dev libglib2.0-dev libyaml-dev
      runc squashfs-tools siftool busybox-static jq util-linux e2fsprogs python3 scdoc uidmap)
case "$what" in
  build) pkgs=(build-essential meson ninja-build pkg-config libjansson-dev libsquashfs-dev libglib2.0-dev
               libyaml-dev) ;;
  demo) ;;
  test) pkgs+=(crun conmon clang clang-format libclang-rt-14-dev podman containerd valgrind
                squashfuse fuse-overlayfs fuse3
                python3-grpcio python3-protobuf protobuf-compiler
                slurm-wlm munge
                debhelper lintian debootstrap rpm rpmlint bash-completion zsh fish) ;;
  bench) pkgs+=(conmon podman squashfuse fuse-overlayfs fuse3) ;;
  *) echo "usage: deps.sh [build|test|demo|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "deps.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
