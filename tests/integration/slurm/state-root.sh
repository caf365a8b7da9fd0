#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A state root shared by a user and root, as Slurm's oci.conf has it: the
# job user's `oci run` in /run/sifoci-slurm/UID (a directory the
# administrator's Prolog made, in a root-owned 0755 parent), root's
# state/kill/delete in the same directory.  Root acts there as the user
# (ctr_root_act_as_owner): a runtime state.json the user forged cannot aim
# root's kill at a process of root's; root follows no symlink of the user's
# and no path another user could swap.  One real user made here (useradd,
# a subordinate range), removed at the end with everything it ran.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/lib/fixtures.sh"
. "$SIFOCI_TESTS/lib/test-users.sh"
require_root
require_cmd useradd userdel setpriv jq newuidmap newgidmap runc
FX=$(fixtures_dir) || tap_skip_all "no fixtures"

T=$(mktemp -d /tmp/sifoci-sr.XXXXXX)
chmod 755 "$T"
U=sfsr$$
MAIN_PID=$BASHPID
VICTIM=

cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  local uid id
  [ -n "$VICTIM" ] && kill -9 "$VICTIM" 2>/dev/null
  if uid=$(id -u "$U" 2>/dev/null); then
    for id in $(ls "$T/run/$uid" 2>/dev/null); do as "$OCI" --root "$T/run/$uid" delete -f "$id" >/dev/null 2>&1; done
    [ -e "$T/home/b/.sifoci-mount.json" ] && as "$OCI" umount "$T/home/b" >/dev/null 2>&1
  fi
  test_user_remove "$U"
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

as() { test_user_as "$U" "$@"; } # CMD as the user, a clean environment

test_user_add "$U" "$T/home" --subids || tap_skip_all "useradd failed"
UID_U=$(id -u "$U")
install -d -m 0755 -o "$U" -g "$U" "$T/home"
cp "$FX/plain.sif" "$T/plain.sif"
chmod 644 "$T/plain.sif"
as test -x "$OCI" || tap_skip_all "'$OCI' is not reachable for an ordinary user"
as "$OCI" mount --method extract "$T/plain.sif" "$T/home/b" >/dev/null || tap_skip_all "oci mount --method extract failed"
as sh -c 'jq ".process.args = [\"sleep\", \"600\"] | .process.terminal = false" "$1/config.json" >"$1/c.tmp" && mv "$1/c.tmp" "$1/config.json"' sh "$T/home/b"

# --- the Prolog's directory: root-owned 0755 parent, the user's 0700 root in it
install -d -m 0755 "$T/run"
install -d -m 0700 -o "$U" -g "$U" "$T/run/$UID_U"
R=$T/run/$UID_U
tap_run "the user's create in a state root under a root-owned 0755 directory" \
  as "$OCI" --root "$R" create -b "$T/home/b" c1
tap_run "... and start" as "$OCI" --root "$R" start c1
out=$("$OCI" --root "$R" state c1 2>&1 | jq -r .status 2>&1)
tap_is "$out" running "root's state of the user's container"
tap_is "$(stat -c %U "$R/c1")" "$U" "the container's state dir is the user's"

# --- a forged runtime state: the pid of a process of root's
sleep 600 &
VICTIM=$!
f=$R/c1/runtime/c1/state.json
real=$(jq -r .init_process_pid "$f")
start=$(awk '{print $22}' "/proc/$VICTIM/stat")
as sh -c 'jq ".init_process_pid = $2 | .init_process_start = $3" "$1" >"$1.t" && mv "$1.t" "$1"' sh "$f" "$VICTIM" "$start"
tap_is "$(jq -r .init_process_pid "$f")" "$VICTIM" "the user rewrote runc's state.json to name root's process"
out=$("$OCI" --root "$R" kill -s KILL c1 2>&1)
tap_is "$?" 1 "root's kill in the user's state root fails (it acts as the user)"
tap_like "$out" "not permitted" "... with the runtime's EPERM"
sleep 0.3
tap_ok "$(kill -0 "$VICTIM" 2>/dev/null; echo $?)" "root's process is alive"
as sh -c 'jq ".init_process_pid = $2 | .init_process_start = $3" "$1" >"$1.t" && mv "$1.t" "$1"' sh "$f" "$real" \
  "$(awk '{print $22}' "/proc/$real/stat")"
tap_run "with the state put back, root's kill -s KILL works" "$OCI" --root "$R" kill -s KILL c1
gone=
for _ in $(seq 50); do kill -0 "$real" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
tap_is "${gone:-alive}" 1 "... and the container's init is gone"
tap_run "root's delete -f in the user's state root" "$OCI" --root "$R" delete -f c1
tap_is "$(ls -A "$R")" "" "... leaves nothing"
tap_is "$(pgrep -af -- "--state-dir $R/" | wc -l)" 0 "... and no monitor"

# --- paths root refuses for a user's directory
ln -s "$R" "$T/link"
out=$("$OCI" --root "$T/link" state c1 2>&1)
tap_is "$?|$(echo "$out" | wc -l)" "1|1" "a symlink to the user's state root: refused, one line"
tap_like "$out" "symbolic link to a directory of uid $UID_U" "... saying so"
out=$("$OCI" --root "$R/../$UID_U" state c1 2>&1)
tap_like "$out" "not canonical" "a path with '..' to it: refused"
# someone else's directory above a user's state root (uid 4000000001: no account)
install -d -m 0755 -o 4000000001 "$T/other"
install -d -m 0700 -o "$U" "$T/other/st"
out=$("$OCI" --root "$T/other/st" list 2>&1)
tap_like "$out" "'$T/other' above it is uid 4000000001's" "a directory above it of a third uid: refused"
# root-owned but open to others, not sticky
install -d -m 0777 "$T/open"
install -d -m 0700 -o "$U" "$T/open/st"
out=$("$OCI" --root "$T/open/st" list 2>&1)
tap_like "$out" "'$T/open' above it" "a root-owned directory above it open to others: refused"
out=$(as "$OCI" --root "$T/open/st" state c1 2>&1)
tap_like "$out" "open to others .mode 0777. and not sticky" "... and the user is refused it too"
# sticky, as /tmp: fine for both
install -d -m 1777 "$T/sticky"
install -d -m 0700 -o "$U" "$T/sticky/st"
tap_run "a root-owned sticky directory above it: root lists" "$OCI" --root "$T/sticky/st" list -q
tap_run "... and so does the user" as "$OCI" --root "$T/sticky/st" list -q
# a user without an account: root becomes the uid and the directory's group
install -d -m 0700 -o 4000000002 -g 4000000002 "$T/sticky/noacct"
tap_is "$("$OCI" --root "$T/sticky/noacct" list -q 2>&1)" "" "a state root of a uid without an account: root lists it as that uid"
# root's own state roots are as before
tap_run "root's own state root" "$OCI" --root "$T/rootsr" list -q
tap_done
