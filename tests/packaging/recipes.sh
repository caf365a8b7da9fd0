#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's recipes for Slurm, podman, containerd, CRI-O and Kubernetes
# are files under packaging/, shown in the README as they are (bar the SPDX
# line; for Slurm's oci.conf its RunTime lines), their TOML parses, and a
# test uses each one that this machine can run.
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
require_cmd python3
top=$(cd "$SIFOCI_TESTS/.." && pwd)
readme=$top/README.md
shown() { # shown FILE: FILE (bar an SPDX first line) is in the README word for word
  python3 - "$1" "$readme" <<'PY'
import sys
text = open(sys.argv[1]).read()
first, _, rest = text.partition("\n")
body = rest if "SPDX-License-Identifier" in first else text
sys.exit(body not in open(sys.argv[2]).read())
PY
}
for f in containerd/sifoci-cri.toml kubernetes/runtimeclass.yaml \
  containers/containers.conf.d/sifoci.conf crio/crio.conf.d/50-sifoci.conf; do
  tap_run "README shows packaging/$f as shipped" shown "$top/packaging/$f"
done
missing=()
while IFS= read -r line; do
  grep -qF -- "$line" "$readme" || missing+=("$line")
done < <(grep '^RunTime' "$top/packaging/slurm/oci.conf")
tap_is "${missing[*]}" "" "README shows packaging/slurm/oci.conf's RunTime lines as shipped"
for f in containerd/sifoci-cri.toml containers/containers.conf.d/sifoci.conf crio/crio.conf.d/50-sifoci.conf; do
  tap_run "packaging/$f is valid TOML" python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' \
    "$top/packaging/$f"
done
# the tests that run them (CRI-O is not on Debian 12: its file is only checked here)
for pair in "slurm/oci.conf integration/slurm/slurm.sh" "slurm/prolog-sifoci.sh integration/slurm" \
  "containerd/sifoci-cri.toml integration/cri/cri.sh" "kubernetes/runtimeclass.yaml integration/cri/cri.sh" \
  "containers/containers.conf.d/sifoci.conf integration/runc-compat/podman.sh"; do
  set -- $pair
  grep -rqF -- "packaging/$1" "$SIFOCI_TESTS/$2" 2>/dev/null || grep -rqF -- "$(basename "$1")" "$SIFOCI_TESTS/$2"
  tap_ok $? "packaging/$1 is used by tests/$2"
done
tap_done
