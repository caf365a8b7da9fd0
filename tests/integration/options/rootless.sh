#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci mount` bundle options on the rootless path: a real unprivileged user
# made here (tests/lib/test-users.sh: a subordinate range, /run/user/UID)
# mounts with --method extract (and fuse, /dev/fuse opened to users for
# that part and put back) and runs with `oci run`, each effect seen from
# inside the container: a bind of a directory the user owns (ro enforced,
# rw writes reaching it), --home and HOME, --scratch, --env, --cwd,
# --hostname, --net none, --drop-caps and --no-privs in CapEff, a CDI
# device (a node bound from the host, an env var, a bind) from a spec the
# user wrote; a CDI node whose hostPath is elsewhere is that node bound
# (nothing can be made in a user namespace), one the host does not have or
# with other numbers is one line.  Limits without a delegated cgroup (none
# here for users without systemd): a note at mount, one line from run
# naming the limit; with one, the limit in the container's cgroup files.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd useradd userdel setpriv jq newuidmap newgidmap runc mksquashfs siftool
FIX=$(fixtures_dir) || tap_skip_all "no fixtures"

T=$(mktemp -d /tmp/sifoci-h14r-rl.XXXXXX)
chmod 755 "$T"
UA=sfh14r$$
HA=/home/$UA-opt
MAIN_PID=$BASHPID
FUSE_MODE=$(stat -c %a /dev/fuse 2>/dev/null)

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  [ -n "$FUSE_MODE" ] && chmod "$FUSE_MODE" /dev/fuse
  test_user_oci_undo "$UA" "$HA"
  test_user_remove "$UA" "$HA"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

as() { test_user_as "$@"; }

test_user_add "$UA" "$HA" --make-home --run-dir --subids || tap_skip_all "useradd failed"
UIDA=$(id -u "$UA")
cp "$FIX/busybox.sif" "$T/"
chmod 644 "$T/busybox.sif"
as "$UA" test -x "$OCI" || tap_skip_all "'$OCI' is not reachable for an ordinary user"
N=0

# umnt NAME [OPTION...]: oci mount as the user into $HA/NAME
umnt() {
  local b=$HA/$1
  shift
  as "$UA" "$OCI" mount --quiet "$@" "$T/busybox.sif" "$b"
}
# urun NAME SCRIPT: sh -c SCRIPT in $HA/NAME under oci run as the user, no
# terminal, with a timeout (test_user_as is a function: bash runs it)
urun() {
  local b=$HA/$1
  N=$((N + 1))
  as "$UA" sh -c 'jq --arg s "$2" ".process.terminal = false | .process.args = [\"sh\", \"-c\", \$s]" \
      "$1/config.json" >"$1/c.tmp" && mv "$1/c.tmp" "$1/config.json"' sh "$b" "$2"
  timeout 120 bash -c "$(declare -f test_user_as); test_user_as \"\$@\"" bash \
    "$UA" "$OCI" run -b "$b" "h14r-rl-$$-$N" </dev/null 2>&1
}
ucfg() { jq -c "$2" "$HA/$1/config.json"; }
has_cap() { [ $(((0x$1 >> $2) & 1)) = 1 ]; }

as "$UA" mkdir -p "$HA/src" "$HA/home" "$HA/cdi"
as "$UA" sh -c "echo 'through the bind' >'$HA/src/file'; echo 'the cdi mount' >'$HA/cdi-file'"

# ---- mounts, process, namespaces, capabilities in one extracted bundle
tap_run "as $UA: mount --method extract with -B ro/rw, --home, -S, --env, --cwd, --hostname, --net none, --drop-caps" \
  umnt e --method extract -B "$HA/src:/mnt/ro:ro" -B "$HA/src:/mnt/rw" --home "$HA/home:/home/me" \
  -S /scratch --env H14R=rootless --cwd /etc --hostname h14r-rl --net none --drop-caps net_raw
out=$(urun e 'cat /mnt/ro/file; echo x >/mnt/ro/new || echo ro-refused; echo w >/mnt/rw/new && echo rw-wrote;
  echo "HOME=$HOME"; echo h >"$HOME/h"; grep " /scratch " /proc/mounts; echo "env=$H14R"; pwd; hostname;
  ls /sys/class/net | tr "\n" " "; echo; grep CapEff /proc/self/status')
tap_like "$out" "^through the bind" "-B: the user's file is visible in the container"
tap_like "$out" "ro-refused" ":ro: a write through the bind fails"
tap_like "$out" "Read-only file system" ":ro: ... with EROFS"
tap_is "$(cat "$HA/src/new" 2>&1)" "w" "-B rw: the container's write reached the user's directory"
tap_is "$(stat -c %U "$HA/src/new" 2>&1)" "$UA" "-B rw: ... as the user (the container's root is the user)"
tap_like "$out" "HOME=/home/me" "--home: HOME"
tap_is "$(cat "$HA/home/h" 2>&1)" "h" "--home: the home directory is the user's"
tap_like "$out" "^tmpfs /scratch tmpfs" "--scratch: a tmpfs"
tap_like "$out" "env=rootless" "--env: the variable is set"
tap_like "$out" "^/etc$" "--cwd: the working directory"
tap_like "$out" "^h14r-rl$" "--hostname: the container's hostname"
tap_like "$out" "^lo $" "--net none: only loopback"
c=$(printf '%s\n' "$out" | awk '/^CapEff/ {print $2}')
tap_ok "$(has_cap "$c" 0 && ! has_cap "$c" 13; echo $?)" "--drop-caps net_raw: CapEff $c has CHOWN, not NET_RAW"
tap_like "$(as "$UA" "$OCI" inspect "$HA/e" 2>&1)" "--hostname h14r-rl" "oci inspect BUNDLE as the user: the options asked"

tap_run "as $UA: mount with --no-privs" umnt np --method extract --no-privs
out=$(urun np 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status')
tap_like "$out" "CapEff:.0000000000000000" "--no-privs: CapEff is 0"
tap_like "$out" "NoNewPrivs:.1" "--no-privs: NoNewPrivs"

# ---- limits: a user without a delegated cgroup cannot have them applied
delegated=$(bash -c "$(declare -f test_user_as); test_user_as $UA cat /proc/self/cgroup" | sed -n 's/^0:://p')
if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -n "$delegated" ] &&
  [ "$(stat -c %U "/sys/fs/cgroup$(dirname "$delegated")" 2>/dev/null)" = "$UA" ]; then
  tap_run "as $UA: mount with --memory 64m --pids-limit 42" umnt l --method extract --memory 64m --pids-limit 42
  out=$(urun l 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max')
  tap_is "$(echo "$out" | tr '\n' ' ')" "67108864 42 " "delegated cgroup: the limits in the container's cgroup"
else
  out=$(umnt l --method extract --memory 64m --pids-limit 42 2>&1)
  tap_is "$?" 0 "as $UA: mount with --memory 64m --pids-limit 42 (no delegated cgroup here)"
  tap_like "$out" "^oci: mount '.*': note: --memory: this user has no delegated cgroup: 'oci run' and 'oci create' will refuse" \
    "mount: a one-line note that the limits cannot be applied here"
  tap_is "$(printf '%s\n' "$out" | grep -c .)" 1 "... one line"
  tap_is "$(ucfg l '[.linux.resources.memory.limit, .linux.resources.pids.limit]')" "[67108864,42]" \
    "the bundle still holds the limits (for a runtime that has cgroups)"
  out=$(urun l 'echo started')
  rc=$?
  tap_is "$rc:$(printf '%s\n' "$out" | grep -c .)" "125:1" "run: refused, one line"
  tap_like "$out" "linux.resources.memory, but as a user other than root without a delegated cgroup" \
    "run: the line names the limit and why"
  tap_ok "$(! printf '%s' "$out" | grep -q started; echo $?)" "run: the container did not start"
fi

# ---- a CDI device from the user's own spec: a host node (bound from the
# host in a user namespace, as runc does), env, a bind
cat >"$HA/cdi/rl.yaml" <<EOF
cdiVersion: 0.6.0
kind: example.org/rl
devices:
  - name: kmsg
    containerEdits:
      env: [H14R_CDI=kmsg]
      deviceNodes:
        - path: /dev/kmsg
      mounts:
        - hostPath: $HA/cdi-file
          containerPath: /etc/h14r-cdi
          options: [ro]
  - name: elsewhere
    containerEdits:
      deviceNodes:
        - path: /dev/h14r-null
          hostPath: /dev/null
  - name: missing
    containerEdits:
      deviceNodes:
        - path: /dev/h14r-missing
          type: c
          major: 1
          minor: 3
  - name: wrong
    containerEdits:
      deviceNodes:
        - path: /dev/h14r-wrong
          hostPath: /dev/null
          major: 1
          minor: 5
EOF
chown -R "$UA" "$HA/cdi"
tap_run "as $UA: mount with --device from a spec in --cdi-dirs" \
  umnt dv --method extract --cdi-dirs "$HA/cdi" --device example.org/rl=kmsg
out=$(urun dv 'ls -ln /dev/kmsg; echo "cdi=$H14R_CDI"; cat /etc/h14r-cdi; echo y >/etc/h14r-cdi || echo cdi-ro')
tap_like "$out" "^crw-r--r-- .* 1, +11 .*/dev/kmsg" "CDI node: /dev/kmsg (1:11) in the container, the host's node bound"
tap_like "$out" "cdi=kmsg" "CDI env: set"
tap_like "$out" "the cdi mount" "CDI mount: the user's file bound in"
tap_like "$out" "cdi-ro" "CDI mount: ... read-only"
tap_run "as $UA: mount with a CDI node whose hostPath is elsewhere" \
  umnt de --method extract --cdi-dirs "$HA/cdi" --device example.org/rl=elsewhere
out=$(urun de 'ls -ln /dev/h14r-null; echo x >/dev/h14r-null && echo null-written')
tap_like "$out" "^crw-rw-rw- .* 1, +3 .*/dev/h14r-null" "hostPath elsewhere: the host's /dev/null bound at /dev/h14r-null"
tap_like "$out" "null-written" "... and usable"
tap_is "$(ucfg de '[[.mounts[] | select(.destination == "/dev/h14r-null") | .source, .type],
  [.linux.devices[]? | select(.path == "/dev/h14r-null")]]')" '[["/dev/null","bind"],[]]' \
  "config.json: a bind of the host node, no linux.devices entry (nothing to mknod in a user namespace)"
for d in missing wrong; do
  out=$(umnt dn --method extract --cdi-dirs "$HA/cdi" --device "example.org/rl=$d" 2>&1)
  rc=$?
  tap_is "$rc:$(printf '%s\n' "$out" | grep -vc "^Try ")" "2:1" "CDI node $d, as a user: refused, one line (and the --help hint)"
  tap_ok "$([ ! -e "$HA/dn" ]; echo $?)" "... no bundle made"
  case $d in
  missing) want="rl.yaml: device node '/dev/h14r-missing': '/dev/h14r-missing' is not a device node here, and in a user namespace .* can only be bound from the host" ;;
  wrong) want="rl.yaml: device node '/dev/h14r-wrong': the type or numbers given are not those of '/dev/null'" ;;
  esac
  tap_like "$out" "^oci: mount .*$want" "... naming the spec, the node and why"
done

# ---- fuse: the same options on a fuse bundle (/dev/fuse opened to users)
if [ -n "$FUSE_MODE" ] && command -v squashfuse_ll >/dev/null && command -v fuse-overlayfs >/dev/null &&
  command -v fusermount3 >/dev/null; then
  chmod 0666 /dev/fuse
  tap_run "as $UA: mount --method fuse with -B ro, --env, --hostname" \
    umnt f --method fuse -B "$HA/src:/mnt/ro:ro" --env H14R=fuse --hostname h14r-fu
  out=$(urun f 'cat /mnt/ro/file; echo x >/mnt/ro/x || echo ro-refused; echo "env=$H14R"; hostname')
  tap_like "$out" "^through the bind" "fuse: the bind is visible"
  tap_like "$out" "ro-refused" "fuse: ... read-only"
  tap_like "$out" "env=fuse" "fuse: --env"
  tap_like "$out" "^h14r-fu$" "fuse: --hostname"
  tap_run "as $UA: umount the fuse bundle" as "$UA" "$OCI" umount "$HA/f"
  chmod "$FUSE_MODE" /dev/fuse
else
  TAP_N=$((TAP_N + 1))
  echo "ok $TAP_N - fuse bundle with options # SKIP no /dev/fuse, squashfuse_ll, fuse-overlayfs or fusermount3"
fi

for b in e np l dv de; do
  tap_run "as $UA: umount $b" as "$UA" "$OCI" umount "$HA/$b"
done
tap_is "$(ls -A "/run/user/$UIDA/sifoci" 2>/dev/null)" "" "no container of the user's left"
tap_is "$(mounts_under "$HA")" "" "no mount left under the user's home"
tap_done
