# SPDX-License-Identifier: Apache-2.0
# Real unprivileged users for the tests, made and taken back the same way
# by every suite that needs one.  A subordinate range given here is 65536
# IDs from 3000000000 + (uid % 19000) * 65536: far above useradd's own
# allocations (100000 + 65536 * N), and distinct for every user alive at
# once because it follows the uid, so suites running side by side never
# share IDs.  /etc/subuid and /etc/subgid are edited under one lock.
TEST_SUBID_LOCK=/etc/.sifoci-subid.lock

# test_user_add NAME HOME [--make-home] [--subids] [--run-dir]
#   --make-home: useradd makes HOME (otherwise the caller does, or not)
#   --subids:    a subordinate uid and gid range of its own
#   --run-dir:   /run/user/UID, 0700, the user's (its XDG_RUNTIME_DIR)
test_user_add() {
  local u=$1 home=$2 mk=-M subids=0 rundir=0 uid start a
  shift 2
  for a; do
    case $a in
    --make-home) mk=-m ;;
    --subids) subids=1 ;;
    --run-dir) rundir=1 ;;
    *) echo "test_user_add: unknown option $a" >&2; return 2 ;;
    esac
  done
  # no automatic subordinate ranges: the range is ours
  useradd -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$mk" -d "$home" -s /bin/sh "$u" || return 1
  uid=$(id -u "$u")
  [ "$rundir" = 1 ] && install -d -m 0700 -o "$u" -g "$u" "/run/user/$uid"
  if [ "$subids" = 1 ]; then
    start=$((3000000000 + (uid % 19000) * 65536))
    (
      flock 9
      echo "$u:$start:65536" >>/etc/subuid
      echo "$u:$start:65536" >>/etc/subgid
    ) 9>"$TEST_SUBID_LOCK"
  fi
  return 0
}

# test_user_subid_start NAME: the first subordinate uid NAME has
test_user_subid_start() { awk -F: -v u="$1" '$1 == u {print $2; exit}' /etc/subuid; }

# test_user_kill NAME: SIGKILL to every process of NAME, waited for (5 s)
test_user_kill() {
  local uid
  uid=$(id -u "$1" 2>/dev/null) || return 0
  pkill -KILL -U "$uid" 2>/dev/null
  for _ in $(seq 50); do pgrep -U "$uid" >/dev/null || break; sleep 0.1; done
}

# test_user_remove NAME [HOME]: its processes, /run/user/UID, its range
# lines and the account; HOME too when given (refused while it holds a
# mount: the caller unmounts first)
test_user_remove() {
  local u=$1 home=${2:-} uid
  if uid=$(id -u "$u" 2>/dev/null); then
    test_user_kill "$u"
    rm -rf --one-file-system "/run/user/$uid"
    userdel "$u" >/dev/null 2>&1
  fi
  if [ -n "$home" ] && [ -d "$home" ]; then
    if [ -n "$(mounts_under "$home/")" ]; then
      echo "test_user_remove: $home still holds mounts, left in place" >&2
    else
      rm -rf --one-file-system "$home"
    fi
  fi
  (
    flock 9
    sed -i "/^$u:/d" /etc/subuid /etc/subgid
  ) 9>"$TEST_SUBID_LOCK"
}

# test_user_as NAME CMD...: CMD as NAME (its groups, its home from passwd)
# in a clean environment: PATH, OCI_MONITOR and SIFOCI_RUNTIME passed on;
# XDG_RUNTIME_DIR is AS_XDG when set, else /run/user/UID when that exists.
# With AS_EXEC=1 it replaces the calling shell.
test_user_as() {
  local u=$1 uid home xdg
  shift
  uid=$(id -u "$u") || return 1
  home=$(getent passwd "$u" | cut -d: -f6)
  xdg=${AS_XDG:-}
  [ -z "$xdg" ] && [ -d "/run/user/$uid" ] && xdg=/run/user/$uid
  ${AS_EXEC:+exec} setpriv --reuid="$uid" --regid="$(id -g "$u")" --init-groups --reset-env -- \
    env HOME="$home" USER="$u" ${xdg:+XDG_RUNTIME_DIR="$xdg"} \
    PATH=/usr/local/bin:/usr/bin:/bin OCI_MONITOR="$OCI_MONITOR" \
    ${SIFOCI_RUNTIME:+SIFOCI_RUNTIME="$SIFOCI_RUNTIME"} "$@"
}

# test_user_oci_undo NAME HOME: as NAME, `oci delete -f` every container in
# its state root (/run/user/UID/sifoci) and `oci umount` every bundle right
# under HOME; then what a failed umount left there (FUSE mounts), deepest
# first, lazily unmounted.  Before test_user_remove.
test_user_oci_undo() {
  local u=$1 home=$2 uid id b m
  uid=$(id -u "$u" 2>/dev/null) || return 0
  for id in $(ls "/run/user/$uid/sifoci" 2>/dev/null); do
    test_user_as "$u" "$OCI" delete -f "$id" >/dev/null 2>&1
  done
  for b in "$home"/*; do
    [ -e "$b/.sifoci-mount.json" ] && test_user_as "$u" "$OCI" umount "$b" >/dev/null 2>&1
  done
  for m in $(mounts_under "$home" | sort -r); do umount -l "$m" 2>/dev/null; done
  return 0
}
