#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the user's walkthrough scenario (../shared/scenarios/seed-walkthrough.sh:
# mount, interactive run, create, state, start, attach/detach, exec, kill,
# delete, umount) against the oci under test.
#
# One defect in how the scenario builds its image is corrected first, and
# said: it links every applet of `busybox --list` to busybox, and Debian's
# list includes "busybox" itself, so `ln -sf busybox bin/busybox` replaces
# the binary with a link to itself and the image has no shell.  The
# correction skips that one name; every command the scenario runs against
# oci is unchanged.
set -u
src=${1:?usage: walkthrough.sh SCENARIO}
tmp=$(mktemp /tmp/sifoci-walkthrough.XXXXXX.sh)
trap 'rm -f "$tmp"' EXIT
broken='for a in $("$W/root/bin/busybox" --list); do ln -sf busybox "$W/root/bin/$a"; done'
fixed='for a in $("$W/root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$W/root/bin/$a"; done'
if grep -qF -- "$broken" "$src"; then
  echo "# correcting the scenario's image build: the applet loop would replace /bin/busybox with a self-link"
  python3 - "$src" "$tmp" "$broken" "$fixed" <<'PY'
import sys
src, dst, broken, fixed = sys.argv[1:]
open(dst, "w").write(open(src).read().replace(broken, fixed))
PY
else
  cp "$src" "$tmp"
fi
# not exec: the EXIT trap must still remove the copy
bash "$tmp"
