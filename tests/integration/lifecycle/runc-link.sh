#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci --runtime runc` where `runc` is a link to crun (some distributions
# ship it so) must drive crun with crun's flags: the adapter tells runc from
# crun by the file the name resolves to, not by the name.  The flags that
# show it: exec --env, where crun replaces the container's environment and
# runc adds to it, so for crun oci repeats the config's variables first.
# A spy in front of each real runtime records its command lines; a spy
# named runc that really is runc is the control.  Real crun, hence
# crun_private_ns (common.sh) as in crun.sh.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
require_cmd crun unshare
crun_private_ns "${BASH_SOURCE[0]}"
lc_setup
REAL_CRUN=$(command -v crun)
REAL_RUNC=$(PATH=$PATH:/usr/sbin:/sbin command -v runc)

# spy DIR NAME REAL: DIR/NAME notes each call in DIR/calls, then runs REAL
spy() {
  mkdir -p "$1"
  printf '#!/bin/sh\necho "$*" >>"%s/calls"\nexec "%s" "$@"\n' "$1" "$3" >"$1/$2"
  chmod +x "$1/$2"
}
spy "$T/linked" crun "$REAL_CRUN"
ln -s crun "$T/linked/runc"
spy "$T/plain" runc "$REAL_RUNC"

b=$(bundle rl '.process.args = ["sleep", "100"] | .process.env = ["PATH=/bin", "FROM_CONFIG=yes"]')

# through DIR (first in PATH) as `--runtime runc`: create, start, exec
# with one --env; prints the command's environment
through() { # through DIR ID
  PATH="$1:$PATH" RUNTIME=runc oci create -b "$b" "$2" >/dev/null 2>&1 &&
    oci start "$2" && oci exec -e ADDED=1 "$2" env | sort
}

env_linked=$(through "$T/linked" rl-crun)
tap_is "$(state_field rl-crun .runtime)" "runc" "the runtime keeps the name it was given"
tap_like "$(cat "$T/linked/calls")" " create .*rl-crun" "the runc link ran crun's create (through the spy)"
tap_like "$(grep ' exec ' "$T/linked/calls")" \
  " exec --env PATH=/bin --env FROM_CONFIG=yes --env ADDED=1 rl-crun env$" \
  "runc -> crun: exec gets crun's flags (the config's env repeated before --env)"
tap_is "$(echo "$env_linked" | grep -c -e '^FROM_CONFIG=yes$' -e '^ADDED=1$' -e '^PATH=/bin$')" 3 \
  "  ... so the command sees the config's variables and the added one"

env_plain=$(through "$T/plain" rl-runc)
tap_like "$(grep ' exec ' "$T/plain/calls")" " exec --env ADDED=1 rl-runc env$" \
  "a runc that is runc: exec gets runc's flags (only the added --env)"
tap_is "$(echo "$env_plain" | grep -c -e '^FROM_CONFIG=yes$' -e '^ADDED=1$' -e '^PATH=/bin$')" 3 \
  "  ... and the same environment"

tap_run "delete -f (crun behind the link)" oci delete -f rl-crun
tap_run "delete -f (runc)" oci delete -f rl-runc
runs_settle "$ROOT"
tap_is "$(ls -A "$ROOT" | wc -l)" 0 "nothing left under --root"
tap_done
