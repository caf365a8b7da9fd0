#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci mount` bundle options, each seen from inside a container run by
# `oci run` with real runc: a file through a bind, read-only enforced, home
# and HOME, scratch and workdir, --no-mount, env, cwd, hostname, DNS,
# --no-mount, namespaces (net, pid, ipc, uts), CapEff, seccomp, apparmor,
# and the limits in the container's cgroup files (v1 controllers here, v2
# where the host has it).  The --help groups.  Then conflicting
# and bad options: exit 2, one line, nothing made.
. "$SIFOCI_TESTS/integration/options/common.sh"
require_root
require_cmd siftool mksquashfs jq runc python3
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

options_setup h14-opt
mkdir -p "$T/src" "$T/home" "$T/work"
cp "$FX/busybox.sif" "$FX/busybox-docker.sif" "$IMG/"
echo "through the bind" >"$T/src/file"
# has_cap HEX BIT: is capability number BIT set in the CapEff mask HEX?
has_cap() { [ $(((0x$1 >> $2) & 1)) = 1 ]; }
capeff() { run "$1" 'grep CapEff /proc/self/status' | awk '{print $2}'; }

# ---- mounts: --bind ro and rw, --mount, --home, comma lists
tap_run "mount with -B (ro), --bind (rw), --mount, --home" \
  mnt m -B "$T/src:/mnt/ro:ro" --bind "$T/src:/mnt/rw:rw,$T/src:/mnt/rw2" \
  --mount "type=bind,src=$T/src,dst=/mnt/m,ro" --home "$T/home:/home/me"
out=$(run m 'cat /mnt/ro/file; echo x >/mnt/ro/new || echo ro-refused; echo w >/mnt/rw/new &&
  echo rw-wrote; cat /mnt/rw2/file; echo y >/mnt/m/new2 || echo mount-ro-refused;
  echo "HOME=$HOME"; echo h >"$HOME/h" && echo home-wrote')
tap_like "$out" "^through the bind" "-B: the host file is visible in the container"
tap_like "$out" "ro-refused" ":ro: a write through it fails"
tap_like "$out" "Read-only file system" ":ro: ... with EROFS"
tap_is "$(cat "$T/src/new" 2>&1)" "w" ":rw: the container's write reached the host"
tap_like "$out" "mount-ro-refused" "--mount type=bind,...,ro: read-only"
tap_like "$out" "HOME=/home/me" "--home sets HOME"
tap_is "$(cat "$T/home/h" 2>&1)" "h" "--home: the home directory is the host's"
tap_is "$(cfg m '[.mounts[] | select(.destination == "/mnt/ro") | .options[]] | join(",")')" \
  '"rbind,nosuid,nodev,ro"' "config.json: a bind is rbind,nosuid,nodev,ro"
rm -f "$T/src/new"

# ---- --scratch (tmpfs), --workdir (/tmp, /var/tmp and scratch on the host)
tap_run "mount with --scratch, --workdir" mnt w -S /scratch,/other --workdir "$T/work"
out=$(run w 'echo a >/tmp/a; echo b >/var/tmp/b; echo s >/scratch/s; grep " /other " /proc/mounts')
tap_is "$(cat "$T/work/tmp/a" "$T/work/var_tmp/b" "$T/work/scratch/_scratch/s" 2>&1 | tr '\n' ' ')" \
  "a b s " "--workdir: /tmp, /var/tmp and a scratch dir are the workdir's"
tap_like "$out" "/other" "--scratch: the other scratch dir is mounted"
tap_is "$(stat -c %a "$T/work/tmp")" 1777 "--workdir: tmp is 1777, as /tmp is"
tap_run "mount with --scratch alone" mnt s -S /scratch
tap_like "$(run s 'grep " /scratch " /proc/mounts')" "^tmpfs /scratch tmpfs .*nosuid,nodev" \
  "--scratch without --workdir: a tmpfs, nosuid,nodev"

# ---- --no-mount
tap_run "mount with --no-mount sys,tmp --workdir" mnt nm --no-mount sys,tmp --workdir "$T/work"
out=$(run nm 'ls /sys | wc -l; grep -c " /tmp " /proc/mounts')
tap_is "$(echo "$out" | tr '\n' ' ')" "0 0 " "--no-mount sys,tmp: /sys is empty, /tmp not the workdir's"
tap_is "$(cfg nm '[.mounts[].destination | select(startswith("/sys") or . == "/tmp")] | length')" 0 \
  "--no-mount sys,tmp: no /sys, /sys/fs/cgroup or /tmp mount in config.json"

# --no-mount dev: the rootfs's own /dev (an extracted one: kernel and fuse
# rootfs are nodev, where runc's nodes cannot be opened: refused below)
tap_run "mount --method extract with --no-mount dev" mnt nd --method extract --no-mount dev
out=$(run nd 'grep -c " /dev " /proc/mounts; echo x >/dev/null && echo null-ok')
tap_is "$(echo "$out" | sed -n 1p)" 0 "--no-mount dev: no /dev mount in the container"
tap_like "$out" "null-ok" "--no-mount dev: runc's nodes in the rootfs's /dev work"
tap_is "$(cfg nd '[.mounts[].destination | select(startswith("/dev"))] | length')" 0 \
  "--no-mount dev: no /dev, /dev/pts, /dev/shm or /dev/mqueue mount in config.json"

# ---- process: env, env-file, cleanenv, cwd, hostname, dns
printf '# comment\n\nFROM_FILE=one\nexport QUOTED="two words"\n' >"$T/env"
tap_run "mount with --env, --env-file, --cwd, --hostname, --dns" \
  mnt p --env A=1 --env "B=x,y" --env-file "$T/env" --cwd /etc --hostname h14-box --dns 192.0.2.1,2001:db8::1
out=$(run p 'echo "A=$A B=$B F=$FROM_FILE Q=$QUOTED"; pwd; hostname; cat /etc/resolv.conf')
tap_like "$out" "A=1 B=x,y F=one Q=two words" "--env and --env-file: the variables are set"
tap_like "$out" "^/etc$" "--cwd: the working directory"
tap_like "$out" "^h14-box$" "--hostname: the container's hostname"
tap_like "$out" "nameserver 192.0.2.1" "--dns: the first name server in /etc/resolv.conf"
tap_like "$out" "nameserver 2001:db8::1" "--dns: the IPv6 one too"
tap_is "$(stat -c %a "$T/p/resolv.conf")" 644 "--dns: BUNDLE/resolv.conf"

IMAGE=$IMG/busybox-docker.sif tap_run "Docker image with --cleanenv --env KEEP=1" mnt ce --cleanenv --env KEEP=1
out=$(run ce 'env')
tap_like "$out" "KEEP=1" "--cleanenv: --env still sets"
tap_ok "$(printf '%s' "$out" | grep -c DOCKER_VAR)" "--cleanenv: the image's DOCKER_VAR is gone"
tap_like "$out" "PATH=.*/opt/image/bin" "--cleanenv: the image's PATH stays"

# ---- namespaces
tap_run "mount (defaults)" mnt d
out=$(run d 'ls /sys/class/net; readlink /proc/self/ns/net')
tap_is "$(echo "$out" | head -1)" "lo" "default: a network namespace with only lo"
tap_ok "$([ "$(echo "$out" | tail -1)" != "$(readlink /proc/self/ns/net)" ]; echo $?)" \
  "default: not the host's network namespace"
tap_run "mount with --net host --pid host" mnt nh --net host --pid host
out=$(run nh 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid; test -e /etc/resolv.conf && echo has-resolv')
tap_is "$(echo "$out" | head -2 | tr '\n' ' ')" \
  "$(readlink /proc/self/ns/net) $(readlink /proc/self/ns/pid) " "--net host --pid host: the host's namespaces"
if [ -e /etc/resolv.conf ]; then
  tap_like "$out" "has-resolv" "--net host: the host's resolv.conf"
fi

tap_run "mount with --ipc host --uts host" mnt ih --ipc host --uts host
out=$(run ih 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts')
tap_is "$(echo "$out" | tr '\n' ' ')" "$(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts) " \
  "--ipc host --uts host: the host's IPC and UTS namespaces"
out=$(run d 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts')
tap_ok "$([ "$(echo "$out" | sed -n 1p)" != "$(readlink /proc/self/ns/ipc)" ] &&
  [ "$(echo "$out" | sed -n 2p)" != "$(readlink /proc/self/ns/uts)" ]; echo $?)" \
  "default: IPC and UTS namespaces of its own"

# ---- capabilities and seccomp (bits: 12 NET_ADMIN, 13 NET_RAW, 19 SYS_PTRACE, 21 SYS_ADMIN)
tap_run "mount (default caps)" mnt c0
c=$(capeff c0)
tap_ok "$(has_cap "$c" 13 && ! has_cap "$c" 21; echo $?)" "default CapEff $c: NET_RAW, no SYS_ADMIN"
tap_run "mount with --add-caps sys_ptrace,CAP_NET_ADMIN --drop-caps net_raw" \
  mnt c1 --add-caps sys_ptrace,CAP_NET_ADMIN --drop-caps net_raw
c=$(capeff c1)
tap_ok "$(has_cap "$c" 19 && has_cap "$c" 12 && ! has_cap "$c" 13; echo $?)" \
  "--add-caps/--drop-caps: CapEff $c has SYS_PTRACE and NET_ADMIN, not NET_RAW"
tap_run "mount with --no-privs" mnt c2 --no-privs
out=$(run c2 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status')
tap_like "$out" "CapEff:.0000000000000000" "--no-privs: CapEff is 0"
tap_like "$out" "CapBnd:.0000000000000000" "--no-privs: the bounding set is empty"
tap_like "$out" "NoNewPrivs:.1" "--no-privs: NoNewPrivs"
tap_run "mount with --keep-privs" mnt c3 --keep-privs
c=$(capeff c3)
own=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
tap_is "$c" "$own" "--keep-privs: CapEff $c is this host's bounding set"
tap_ok "$(has_cap "$c" 21; echo $?)" "--keep-privs: ... with SYS_ADMIN"
tap_like "$(run c3 'mkdir /m && mount -t tmpfs t /m && echo mounted')" "mounted" \
  "--keep-privs: the seccomp profile follows the capabilities (mount works)"

tap_like "$(run c0 'grep Seccomp: /proc/self/status')" "Seccomp:.2" "default: a seccomp filter"
tap_run "mount with --security seccomp:unconfined" mnt sc --security seccomp:unconfined
tap_like "$(run sc 'grep Seccomp: /proc/self/status')" "Seccomp:.0" "seccomp:unconfined: no filter"
cat >"$T/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
tap_run "mount with --security seccomp:FILE" mnt sf --security "seccomp:$T/seccomp.json"
out=$(run sf 'mkdir /x || echo mkdir-refused; touch /y && echo touch-works')
tap_like "$out" "mkdir-refused" "seccomp:FILE: the profile's rule holds (mkdir fails)"
tap_like "$out" "touch-works" "seccomp:FILE: ... and its default action (allow) too"

# ---- limits, read back from the container's own cgroup files
cg_file() { # cg_file CONTROLLER FILE: the path inside the container (v1), or v2's
  if [ -d /sys/fs/cgroup/"$1" ]; then echo "/sys/fs/cgroup/$1/$2"; else echo "/sys/fs/cgroup/$3"; fi
}
tap_run "mount with --memory 64m --memory-swap 128m --memory-reservation 32m --pids-limit 42 --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0" \
  mnt l --memory 64m --memory-swap 128m --memory-reservation 32m --pids-limit 42 --cpus 0.5 \
  --cpu-shares 512 --cpuset-cpus 0
out=$(run l "cat $(cg_file memory memory.limit_in_bytes memory.max) $(cg_file pids pids.max pids.max) \
  $(cg_file cpu cpu.cfs_quota_us cpu.max) $(cg_file cpu cpu.shares cpu.weight) \
  $(cg_file cpuset cpuset.cpus cpuset.cpus) $(cg_file memory memory.soft_limit_in_bytes memory.low)")
tap_is "$(echo "$out" | sed -n 1p)" 67108864 "--memory 64m: the cgroup's memory limit is 67108864"
tap_is "$(echo "$out" | sed -n 2p)" 42 "--pids-limit 42: pids.max"
tap_like "$(echo "$out" | sed -n 3p)" "^50000" "--cpus 0.5: quota 50000 per 100000"
tap_like "$(echo "$out" | sed -n 4p)" "^[0-9]+$" "--cpu-shares: a weight is set"
[ -d /sys/fs/cgroup/cpu ] && tap_is "$(echo "$out" | sed -n 4p)" 512 "--cpu-shares 512: cpu.shares"
tap_is "$(echo "$out" | sed -n 5p)" 0 "--cpuset-cpus 0: cpuset.cpus"
[ -d /sys/fs/cgroup/memory ] && tap_is "$(echo "$out" | sed -n 6p)" 33554432 \
  "--memory-reservation 32m: the soft limit"
if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
  tap_is "$(run l 'cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')" 134217728 \
    "--memory-swap 128m: memsw limit"
fi
out=$(run l 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived'); rc=$?
tap_ok "$(printf '%s' "$out" | grep -q survived; [ $? = 1 ] && [ $rc = 137 ]; echo $?)" \
  "--memory 64m: a shell holding 100 MB is killed (status $rc)"
tap_is "$(cfg l .linux.resources.memory)" '{"limit":67108864,"swap":134217728,"reservation":33554432}' \
  "config.json: memory limit, swap, reservation in bytes"
tap_is "$(cfg l .linux.resources.blockIO)" null "no --blkio-weight: no blockIO"
tap_run "mount with --blkio-weight 300" mnt bw --blkio-weight 300
tap_is "$(cfg bw .linux.resources.blockIO.weight)" 300 "--blkio-weight 300: linux.resources.blockIO.weight"
out=$(run bw 'cd /sys/fs/cgroup; cat blkio/blkio.bfq.weight blkio/blkio.weight io.bfq.weight io.weight 2>/dev/null')
tap_like "$out" "(^|[^0-9])300$" "--blkio-weight 300: the weight in the container's own blkio (io) cgroup"

cat >"$T/cgroups.toml" <<'EOF'
# as SingularityCE's cgroups.toml
[memory]
    limit = 52_428_800
[pids]
    limit = 17
[[devices]]
    allow = true
    access = "rwm"
    type = "c"
    major = 1
    minor = 3
EOF
tap_run "mount with --apply-cgroups FILE.toml --pids-limit 23" mnt ct --apply-cgroups "$T/cgroups.toml" --pids-limit 23
out=$(run ct "cat $(cg_file memory memory.limit_in_bytes memory.max) $(cg_file pids pids.max pids.max)")
tap_is "$(echo "$out" | tr '\n' ' ')" "52428800 23 " "--apply-cgroups TOML: its memory limit; --pids-limit wins over its pids"
tap_is "$(cfg ct '.linux.resources.devices | length')" 2 "--apply-cgroups: its device rule follows the deny-all"
echo '{"memory": {"limit": 41943040}}' >"$T/cgroups.json"
tap_run "mount with --apply-cgroups FILE.json" mnt cj --apply-cgroups "$T/cgroups.json"
tap_is "$(run cj "cat $(cg_file memory memory.limit_in_bytes memory.max)")" 41943040 "--apply-cgroups JSON: the memory limit"

# ---- --security apparmor:PROFILE: process.apparmorProfile; where the host
# has no AppArmor (runc would refuse to start it) mount says so
BUNDLES+=("$T/aa")
out=$("$OCI" mount --quiet --security apparmor:h14r-prof "$IMG/busybox.sif" "$T/aa" 2>&1)
tap_is "$?:$(cfg aa .process.apparmorProfile)" '0:"h14r-prof"' "--security apparmor:P: process.apparmorProfile"
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
  tap_is "$out" "" "--security apparmor:P with AppArmor here: no note"
else
  tap_like "$out" "^oci: mount '.*': note: --security apparmor: AppArmor is not enabled on this host" \
    "--security apparmor:P without AppArmor here: a one-line note"
  tap_like "$(run aa 'echo started')" "apparmor" "... and runc does refuse it, saying why"
fi

# ---- what the bundle asked for stays in the record; umount removes resolv.conf
tap_is "$(jq -c '.options[0]' "$T/p/.sifoci-mount.json" 2>&1)" '["env","A=1"]' \
  "the mount record keeps the options as asked"
out=$("$OCI" inspect "$T/p" 2>&1)
tap_like "$out" "--hostname h14-box" "oci inspect BUNDLE: lists the options asked"
tap_like "$out" "Image: +$IMG/busybox.sif" "oci inspect BUNDLE: the image"
tap_is "$("$OCI" inspect --json "$T/p" | jq -c '.options[1]')" '["env","B=x,y"]' \
  "oci inspect --json BUNDLE: the options as pairs"
tap_like "$("$OCI" inspect "$T/src" 2>&1)" "without a mount record" "oci inspect DIR: not a bundle, says so"
tap_run "umount the --dns bundle" "$OCI" umount "$T/p"
tap_ok "$([ ! -e "$T/p" ]; echo $?)" "umount: the bundle (and its resolv.conf) is gone"

# ---- bad or conflicting options: exit 2, one line (and the --help hint), no bundle
bad=(
  "--home $T/home --no-home|--home and --no-home cannot go together"
  "--home $T/home --no-mount home|--home and --no-mount home cannot go together"
  "--no-privs --keep-privs|--no-privs and --keep-privs cannot go together"
  "--no-privs --add-caps sys_admin|--no-privs and --add-caps cannot go together"
  "--hostname x --uts host|--hostname and --uts host cannot go together"
  "-B /nonexistent-h14|--bind: source '/nonexistent-h14': No such file or directory"
  "-B $T/src:relative|a path in the container must be absolute"
  "-B $T/src:/proc/kcore|destination '/proc/kcore' is inside \(or holds\) the masked path '/proc/kcore'"
  "-B $T/src:/a:rx|'rx' is neither ro nor rw"
  "-B $T/src:/a -B $T/src:/a|'/a' is mounted on twice"
  "--mount type=tmpfs,dst=/a|only type=bind is supported"
  "--memory 10q|unknown unit 'q'"
  "--memory 1k|at least 6 MiB"
  "--memory 64m --memory-swap 32m|cannot be less than --memory"
  "--memory-swap 1g|--memory-swap needs --memory"
  "--cpus -1|a positive number of CPUs"
  "--cpu-shares 1|must be from 2 to 262144"
  "--cpuset-cpus 3-1|ranges ascending"
  "--pids-limit 0|0 would allow no process"
  "--blkio-weight 5|must be from 10 to 1000"
  "--add-caps cap_bogus|'cap_bogus': no such capability"
  "--net bridge|'none' or 'host'"
  "--dns 300.1.1.1|not an IPv4 or IPv6 address"
  "--hostname bad_name|only letters, digits"
  "--env =x|NAME must be letters"
  "--no-mount bogus|not one of sys, dev, tmp, home"
  "--no-mount proc|runc and crun need /proc"
  "--no-mount dev|--no-mount dev needs --method extract: the kernel method's rootfs is mounted nodev"
  "--security selinux:x|takes seccomp:unconfined, seccomp:FILE or apparmor:PROFILE"
)
for b in "${bad[@]}"; do
  args=${b%%|*} want=${b#*|}
  # shellcheck disable=SC2086 # the options are words
  err=$("$OCI" mount $args "$IMG/busybox.sif" "$T/bad" 2>&1 >/dev/null)
  rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | grep -vc "^Try ")" "2:1" "$args: exit 2, one line"
  tap_like "$err" "^oci: mount.*$want" "$args: '$want'"
  tap_ok "$([ ! -e "$T/bad" ]; echo $?)" "$args: no bundle made"
done
printf 'GOOD=1\nnot a pair\n' >"$T/bad-env"
tap_like "$("$OCI" mount --env-file "$T/bad-env" "$IMG/busybox.sif" "$T/bad" 2>&1)" \
  "--env-file '$T/bad-env': line 2: not NAME=VALUE" "--env-file: the file and line of a bad one"
printf '[memory]\nlimit = 1.5\n' >"$T/bad.toml"
tap_like "$("$OCI" mount --apply-cgroups "$T/bad.toml" "$IMG/busybox.sif" "$T/bad" 2>&1)" \
  "'$T/bad.toml': line 2: floats are not supported" "--apply-cgroups: the TOML file and line"
printf '[memory]\nlimt = 1\n' >"$T/bad2.toml"
tap_like "$("$OCI" mount --apply-cgroups "$T/bad2.toml" "$IMG/busybox.sif" "$T/bad" 2>&1)" \
  "unknown key 'memory.limt'" "--apply-cgroups: an unknown key is named"
echo '{"defaultAction": 1}' >"$T/bad-seccomp.json"
tap_like "$("$OCI" mount --security "seccomp:$T/bad-seccomp.json" "$IMG/busybox.sif" "$T/bad" 2>&1)" \
  "not a seccomp profile" "--security seccomp:FILE: a file that is no profile"
tap_ok "$([ ! -e "$T/bad" ]; echo $?)" "no bundle made by any of them"

help=$("$OCI" mount --help 2>&1)
tap_like "$(printf '%s\n' "$help" | grep -E '^[A-Z][a-z].*:$' | tr '\n' '|')" \
  "Mounts:\|Process and environment:\|Namespaces and privileges:\|Resource limits \(cgroups\):\|Devices \(CDI\):" \
  "oci mount --help: the five groups, in order"
for g in "Mounts:|--bind.*--mount .*--home.*--no-home.*--scratch.*--workdir.*--no-mount" \
  "Process and environment:|--env .*--env-file.*--cleanenv.*--cwd.*--hostname.*--dns" \
  "Namespaces and privileges:|--net .*--pid .*--ipc .*--uts .*--add-caps.*--drop-caps.*--no-privs.*--keep-privs.*--security" \
  "Resource limits \(cgroups\):|--cpus .*--cpu-shares.*--cpuset-cpus.*--memory .*--memory-swap.*--memory-reservation.*--pids-limit.*--blkio-weight.*--apply-cgroups"; do
  title=${g%%|*} want=${g#*|}
  tap_like "$(printf '%s\n' "$help" | sed -En "/^$title\$/,/^\$/p" | tr '\n' ' ')" "$want" \
    "oci mount --help: ${title%:} lists its options"
done

tap_is "$("$OCI" --root "$ST" list -q 2>&1)" "" "no container left"
tap_done
