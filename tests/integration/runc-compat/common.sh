# SPDX-License-Identifier: Apache-2.0
# Shared by the runc-compat tests (sourced, bash): the binary under test and a
# busybox root filesystem and bundle made from Debian's busybox-static.
#   OCI_RUNC  oci-runc under test (default: the link beside $OCI)
#   RUNC      the runc to compare with (default: runc in PATH)
OCI_RUNC=${OCI_RUNC:-$(dirname "${OCI:-/usr/bin/oci}")/oci-runc}
RUNC=${RUNC:-$(PATH=$PATH:/usr/sbin:/sbin command -v runc)}
COMPAT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The applets as links to one static busybox (which is itself in the list).
make_rootfs() { # make_rootfs DIR
  local a
  mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/etc" "$1/root" || return 1
  cp "$(command -v busybox)" "$1/bin/busybox" || return 1
  for a in $(busybox --list); do
    [ "$a" = busybox ] || ln -s busybox "$1/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$1/etc/passwd"
  echo 'root:x:0:' >"$1/etc/group"
}

# A bundle whose root is ROOTFS (absolute, shared), running ARGS (a JSON
# array), with a terminal when TTY is true.
make_bundle() { # make_bundle DIR ROOTFS ARGS_JSON [TTY]
  mkdir -p "$1" && "$RUNC" spec -b "$1" || return 1
  jq --arg root "$2" --argjson args "$3" --argjson tty "${4:-false}" \
    '.root.path = $root | .process.args = $args | .process.terminal = $tty' \
    "$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

is_static() { ! ldd "$1" >/dev/null 2>&1; }

# A runc that notes each call's arguments in DIR/calls before running runc:
# set SIFOCI_RUNTIME=DIR/runc to see that a caller really went through
# oci-runc (which then runs it: its name keeps runc's flavor).
make_spy() { # make_spy DIR
  mkdir -p "$1" || return 1
  printf '#!/bin/sh\necho "$*" >>"%s/calls"\nexec "%s" "$@"\n' "$1" "$RUNC" >"$1/runc"
  chmod +x "$1/runc"
}
