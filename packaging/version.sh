#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The version `oci --version` prints, from git when the sources are a git
# checkout (meson's vcs_tag runs this; without git, or outside a checkout,
# it fails and the build uses the project's version):
#   a release tag vX.Y.Z itself       X.Y.Z[-dirty]
#   N commits after one               X.Y.Z-N-gHASH[-dirty]
#   no release tag yet                VERSION-gHASH[-dirty] (VERSION: $1)
# Always one word starting with a digit (oci-runc's runc-style line needs it).
set -eu
src=$(dirname "$0")/..
git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 1
if d=$(git -C "$src" describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
  echo "${d#v}"
else
  echo "$1-g$(git -C "$src" describe --always --dirty)"
fi
