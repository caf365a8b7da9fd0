#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What `oci mount` does with hostile images (one line naming the file, exit
# 1, nothing left behind) and what the bundles it makes allow under runc:
# the default seccomp profile, nodev and nosuid.  Images are copied into our
# temp dir first, so `losetup -j` sees only our loop devices.
MOUNT_TEST_NAME=security
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

img() { # img NAME: a private copy of a fixture
  local dst=$IMG/$1.sif
  [ -e "$dst" ] || cp "$FX/$1.sif" "$dst"
  echo "$dst"
}
cfg() { jq -c "$2" "$1/config.json"; }
# run_as BUNDLE UID ARGS-JSON: runc run, no terminal, as UID (gid the same)
run_as() {
  N=$((N + 1))
  jq --argjson a "$3" --argjson u "$2" \
    '.process.terminal = false | .process.args = $a | .process.user = {uid: $u, gid: $u}' \
    "$1/config.json" >"$T/cfg.tmp" && cat "$T/cfg.tmp" >"$1/config.json" &&
    (cd "$1" && timeout 60 runc --root "$RUNC_ROOT" run "sifoci-sec-$$-$N" </dev/null 2>&1)
}
run_in() { run_as "$1" 0 "$2"; }
is_gone() { # is_gone BUNDLE IMAGE: no dir, no mount under it, no loop device
  [ ! -e "$1" ] && [ -z "$(mounts_under "$1")" ] && [ -z "$(loops_of "$2")" ]
}
mountinfo_line() { awk -v p="$1" '$5 == p' /proc/self/mountinfo; }

# ---- hostile images: exit 1, one line naming the file and the problem,
# nothing made.  NAME|what the error must say
hostile=(
  "bad-sqfs-magic|partition 2 holds no squashfs \(bad magic\)"
  "bad-sqfs-blocksize|squashfs in partition 2 has a bad superblock: invalid block size"
  "bad-sqfs-tables|squashfs in partition 2 is corrupt \(a table lies outside it\)"
  "bad-sqfs-short|partition 1 holds no squashfs \(40 bytes is too small\)"
  "bad-sqfs-cut|squashfs in partition 1 claims [0-9]+ bytes but the partition holds 65536"
  "bad-sqfs-size|squashfs in partition 2 claims [0-9]+ bytes but the partition holds 1044480"
  "bad-ext3-as-squashfs|partition 1 holds no squashfs \(bad magic\)"
  "bad-overlap-header|object 2 overlaps the SIF header"
  "bad-overlap|object 2 overlaps the descriptor table"
  "bad-two-primary|partitions 1 and 2 are both primary system partitions"
  "bad-dtotal|descriptor table \(9223372036854775807 descriptors at offset 4096\) ends past the end of the file"
  "bad-dtotal-mul|descriptor table \(15766447926247481 descriptors at offset 4096\) ends past the end of the file"
  "bad-dtotal-neg|descriptor count -9223372036854775808 is negative"
  "bad-dfree|free descriptor count 9223372036854775807 is out of range"
  "bad-doffset|descriptors at offset 9223372036854775807\) ends past the end of the file"
  "bad-int64|partition 2 ends past the end of the file"
  "bad-config-json|oci-config.json is not valid JSON"
  "bad-config-array|oci-config.json is not a JSON object"
  "bad-config-string|oci-config.json is not a JSON object"
  "bad-config-env100k|more than 4096 args and env entries"
  "bad-config-deep|oci-config.json is not valid JSON: maximum parsing depth reached"
  "bad-config-nul|oci-config.json holds a NUL character \(\\\\u0000\) in a string"
  "bad-config-longwd|WorkingDir is too long"
  "bad-config-type-cmd|Cmd must be an array of strings"
  "bad-config-type-env|Env\[0\] is not a string"
  "bad-config-type-user|User must be a string"
  "bad-config-type-volumes|Volumes must be an object"
  "bad-config-type-labels|Labels\['a'\] is not a string"
)
for h in "${hostile[@]}"; do
  name=${h%%|*} want=${h#*|}
  if [ ! -e "$FX/$name.sif" ]; then
    tap_diag "no $name.sif in $FX (old fixtures or no mkfs.ext3): skipped"
    continue
  fi
  f=$(img "$name")
  B=$T/hostile
  err=$("$OCI" mount "$f" "$B" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$name: exit 1, one line"
  tap_like "$err" "^oci: mount '$f': .*$want" "$name: '$want'"
  tap_ok "$(is_gone "$B" "$f"; echo $?)" "$name: no bundle dir, mount or loop device left"
done

# ---- labels an image sets must not configure the runtime: only the OCI
# image namespace reaches annotations as it is, the rest is namespaced
if [ -e "$FX/hostile-labels.sif" ]; then
  f=$(img hostile-labels)
  B=$T/labels
  tap_run "mount hostile-labels.sif" "$OCI" mount "$f" "$B"
  tap_is "$(jq -r '.annotations | keys | map(select(startswith("org.sifoci.label.") or startswith("org.opencontainers.image.") | not)) | join(",")' "$B/config.json")" "" \
    "no annotation outside the OCI image namespace and our own"
  for k in run.oci.seccomp_bpf_data org.systemd.property.CPUQuota org.criu.config io.kubernetes.cri.container-type; do
    tap_is "$(jq -r --arg k "$k" '.annotations[$k] // "absent"' "$B/config.json")" absent "label '$k' is not an annotation a runtime reads"
  done
  tap_is "$(jq -r '.annotations["org.sifoci.label.run.oci.seccomp_bpf_data"]' "$B/config.json")" AAAA "... it is kept under org.sifoci.label."
  tap_is "$(jq -r '.annotations["org.opencontainers.image.title"]' "$B/config.json")" hostile "an OCI image annotation is kept as it is"
  tap_run "umount it" "$OCI" umount "$B"
  tap_ok "$(is_gone "$B" "$f"; echo $?)" "hostile-labels: nothing left"
fi

# ---- OCI-SIF blobs are checked against their digests before use: a
# tampered config (its command) or layer (its files) is refused
OCISIF=${SIFOCI_SHARED:-/nonexistent}/testdata/sif/busybox-oci.sif
if [ -e "$OCISIF" ]; then
  # flip one byte of the config blob's Cmd, keeping the JSON valid
  cp "$OCISIF" "$IMG/tampered-config.sif"
  off=$(grep -abo '"default"' "$IMG/tampered-config.sif" | head -1 | cut -d: -f1)
  printf 'X' | dd of="$IMG/tampered-config.sif" bs=1 seek=$((off + 1)) conv=notrunc status=none
  # and one byte inside the squashfs layer (object 1, from offset 32176)
  cp "$OCISIF" "$IMG/tampered-layer.sif"
  printf 'Z' | dd of="$IMG/tampered-layer.sif" bs=1 seek=$((32176 + 200000)) conv=notrunc status=none
  for c in "tampered-config|OCI image config: object 2 \(sha256:[0-9a-f]{64}\): its data does not match its digest" \
           "tampered-layer|OCI layer: object 1 \(sha256:[0-9a-f]{64}\): its data does not match its digest"; do
    name=${c%%|*} want=${c#*|}
    f=$IMG/$name.sif B=$T/$name
    err=$("$OCI" mount "$f" "$B" 2>&1 >/dev/null); rc=$?
    tap_is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$name: mount exits 1 with one line"
    tap_like "$err" "^oci: mount '$f': $want" "$name: the error names the blob"
    tap_ok "$(is_gone "$B" "$f"; echo $?)" "$name: no bundle dir, mount or loop device left"
  done
  err=$("$OCI" inspect "$IMG/tampered-config.sif" 2>&1 >/dev/null); rc=$?
  tap_like "$rc $err" "^1 oci: inspect '.*': (OCI image [0-9]+: )?OCI image config: object 2 .*does not match its digest" \
    "inspect refuses the tampered config too"
  cp "$OCISIF" "$IMG/oci-ok.sif"
  tap_run "the untampered OCI-SIF still mounts" "$OCI" mount "$IMG/oci-ok.sif" "$T/oci-ok"
  tap_run "and unmounts" "$OCI" umount "$T/oci-ok"
  tap_ok "$(is_gone "$T/oci-ok" "$IMG/oci-ok.sif"; echo $?)" "untampered OCI-SIF: nothing left"
fi

# ---- a FIFO (or any other non-file) as the image: refused at once, never
# a blocked open
mkfifo "$IMG/fifo.sif"
for verb in inspect mount; do
  args=("$IMG/fifo.sif"); [ $verb = mount ] && args+=("$T/fifo-bundle")
  err=$(timeout 10 "$OCI" $verb "${args[@]}" 2>&1 >/dev/null); rc=$?
  tap_is "$rc:$err" "1:oci: $verb '$IMG/fifo.sif': not a regular file" "a FIFO as IMAGE: $verb refuses it at once"
done
tap_ok "$([ ! -e "$T/fifo-bundle" ]; echo $?)" "a FIFO as IMAGE: no bundle made"
rm -f "$IMG/fifo.sif"

# ---- names without a NUL: 128 bytes are a valid name; "oci-config.json"
# followed by more bytes is another name (its content is not JSON: reading
# it would fail the mount)
if [ -e "$FX/name-128.sif" ]; then
  f=$(img name-128)
  tap_is "$("$OCI" inspect --json "$f" | jq -c '[.descriptors[].name | length]')" "[128,128]" "128-byte names without NUL are read whole, and no further"
  B=$T/name128
  tap_run "an image with 128-byte names mounts" "$OCI" mount "$f" "$B"
  tap_run "...and umounts" "$OCI" umount "$B"
  f=$(img name-config-nonul)
  B=$T/nonul
  tap_run "'oci-config.json' + 113 bytes without NUL is not taken for oci-config.json" "$OCI" mount "$f" "$B"
  tap_is "$(cfg "$B" .process.args)" '["/bin/sh"]' "...the image is treated as having no config"
  tap_run "...and umounts" "$OCI" umount "$B"
  tap_ok "$(is_gone "$B" "$f"; echo $?)" "...leaving nothing"
else
  tap_diag "no name-128.sif in $FX (old fixtures): name tests skipped"
fi

# ---- the default seccomp profile in config.json
case $(uname -m) in
  x86_64) arches='["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]' ;;
  aarch64) arches='["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"]' ;;
  *) arches= ;;
esac
BB=$(img busybox)
B=$T/bb
tap_run "mount busybox.sif" "$OCI" mount "$BB" "$B"
tap_is "$(cfg "$B" '.linux.seccomp | [.defaultAction, .defaultErrnoRet]')" '["SCMP_ACT_ERRNO",1]' "seccomp: everything not allowed fails with EPERM"
[ -n "$arches" ] && tap_is "$(cfg "$B" '.linux.seccomp.architectures')" "$arches" "seccomp: the host's architectures"
allowed() { # the names allowed unconditionally
  jq -r '.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW" and (has("args") | not)) | .names[]' "$1/config.json"
}
A=$(allowed "$B")
tap_ok "$(for s in read write openat execve wait4 exit_group mmap futex socketpair setuid capset chroot; do
  printf '%s\n' "$A" | grep -qx "$s" || { echo "missing $s" >&2; exit 1; }
done; echo $?)" "seccomp: ordinary syscalls allowed, chroot with CAP_SYS_CHROOT"
tap_ok "$(for s in mount umount2 unshare setns clone3 keyctl add_key bpf reboot kexec_load init_module swapon pivot_root open_by_handle_at userfaultfd; do
  ! printf '%s\n' "$A" | grep -qx "$s" || { echo "allowed $s" >&2; exit 1; }
done; echo $?)" "seccomp: mount, namespaces, keyrings, bpf, reboot, modules, swap not allowed without their capability"
tap_is "$(cfg "$B" '[.linux.seccomp.syscalls[] | select(.names == ["clone"]) | .args[0] | [.index, .value, .valueTwo, .op]]')" '[[0,2114060288,0,"SCMP_CMP_MASKED_EQ"]]' "seccomp: clone only without namespace flags"
tap_is "$(cfg "$B" '[.linux.seccomp.syscalls[] | select(.names == ["clone3"]) | [.action, .errnoRet]]')" '[["SCMP_ACT_ERRNO",38]]' "seccomp: clone3 fails with ENOSYS (libc falls back to clone)"
tap_is "$(cfg "$B" '[.linux.seccomp.syscalls[] | select(.names == ["personality"]) | .args[0].value]')" '[0,8,131072,131080,4294967295]' "seccomp: personality only for the Linux personas"

# busybox works under it
out=$(run_in "$B" '["/bin/sh","-c","set -e; ls / >/dev/null; head -1 /etc/passwd; id; sleep 0.1; date +%Y >/dev/null; mkdir /tmp/d; echo hi >/tmp/d/f; cat /tmp/d/f; cp /tmp/d/f /tmp/d/g; tar -C /tmp -czf /tmp/d.tgz d; tar -tzf /tmp/d.tgz | sort | tr \"\\n\" \" \"; echo; ps -o comm | grep -qx ps && echo ps-ok; hostname; uname -s; echo x | sha256sum | cut -c1-8; find /etc -name passwd; (sleep 0.2 & wait) ; kill -0 $$; linux32 uname -m >/dev/null; echo done"]')
tap_is "$out" "root:x:0:0:root:/root:/bin/sh
uid=0(root) gid=0(root)
hi
d/ d/f d/g 
ps-ok
sifoci
Linux
73cb3858
/etc/passwd
done" "sh, ls, cat, id, sleep, date, cp, tar+gzip, ps, hostname, uname, sha256sum, find, background jobs, linux32 work"
out=$(run_in "$B" '["/.singularity.d/actions/run","a1"]')
tap_is "$out" "runscript: hello from the runscript args:a1" "the image's runscript runs"
out=$(run_as "$B" 65534 '["/bin/sh","-c","id -u; echo ok > /tmp/x && cat /tmp/x"]')
tap_is "$(echo $out)" "65534 ok" "a non-root user runs under it too"
out=$(run_in "$B" '["/bin/sh","-c","unshare -U true; echo rc=$?"]')
# stdout and stderr come through separate pipes: their order is not fixed
tap_is "$(printf '%s\n' "$out" | grep -c -e '^unshare: .*Operation not permitted$' -e '^rc=1$')" 2 "unshare -U (no capability needed) fails with EPERM under the profile"
tap_run "umount" "$OCI" umount "$B"

# --no-seccomp
B=$T/noseccomp
tap_run "mount --no-seccomp" "$OCI" mount --no-seccomp "$BB" "$B"
tap_is "$(cfg "$B" '[(.linux | has("seccomp")), (.linux.namespaces | length), (.process.capabilities.bounding | length)]')" '[false,5,15]' "--no-seccomp leaves linux.seccomp out and the rest as it was"
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ]; then
  out=$(run_in "$B" '["/bin/sh","-c","unshare -U true; echo rc=$?"]')
  tap_is "$out" "rc=0" "...and the same unshare -U works without it: the profile denied it, not the capabilities"
fi
tap_run "umount" "$OCI" umount "$B"
tap_ok "$(is_gone "$B" "$BB"; echo $?)" "nothing left"

# ---- security.sif: device nodes, setuid binaries, and syscall probes
if [ ! -e "$FX/security.sif" ]; then
  tap_diag "no security.sif in $FX (old fixtures or no static C compiler): nodev/nosuid/probe tests skipped"
  tap_done
fi
SE=$(img security)
B=$T/sec
tap_run "mount security.sif" "$OCI" mount "$SE" "$B"
tap_like "$(mountinfo_line "$B/.image")" " ro,nosuid,nodev[, ]" "the squashfs is mounted nosuid,nodev"
tap_like "$(mountinfo_line "$B/rootfs")" " rw,nosuid,nodev[, ]" "the overlay is mounted nosuid,nodev"
tap_ok "$([ -c "$B/rootfs/dev/evil" ] && [ -u "$B/rootfs/bin/probe-suid" ]; echo $?)" "the image holds a device node (c 1 3) and a setuid-root binary"
err=$(head -c1 "$B/rootfs/dev/evil" 2>&1); rc=$?
tap_like "$rc $err" "^1 .*Permission denied" "the device node can't be opened on the host (rootfs)"
err=$(head -c1 "$B/.image/dev/evil" 2>&1); rc=$?
tap_like "$rc $err" "^1 .*Permission denied" "...nor in the squashfs"
out=$(run_in "$B" '["/bin/sh","-c","/bin/probe open /srv/evil; /bin/probe open /dev/null"]')
tap_is "$(echo $out)" "EACCES ok" "in the container, root can't open it (EACCES) though the same device at /dev/null opens"
out=$(run_as "$B" 65534 '["/bin/probe-suid","ids"]')
tap_is "$out" "65534 65534" "a setuid-root binary run as 65534 keeps euid 65534 in the container"
out=$(run_as "$B" 65534 '["/bin/busybox-suid","id","-u"]')
tap_is "$out" "65534" "a setuid-root busybox 'id -u' prints 65534"
# control: the same binary, setuid root on a mount that allows it
cp "$B/.image/bin/probe-suid" "$T/probe-suid" && chmod 4755 "$T/probe-suid"
if findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
  tap_diag "$T is on a nosuid mount: setuid control skipped"
else
  tap_is "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/probe-suid" ids)" "65534 0" "control: the same binary gets euid 0 where setuid is honoured"
fi

# each probe: expected under the profile, expected without it ("!X" = not X)
probes=(
  "keyctl|EPERM|!EPERM"
  "personality-norandom|EPERM|ok"
  "personality-linux32|ok|ok"
  "clone3|ENOSYS|EINVAL"
  "socket-vsock|EPERM|!EPERM"
  "socket-alg|EPERM|!EPERM"
  "socket-inet|ok|ok"
  "socket-unix|ok|ok"
  "unshare-user|EPERM|"
  "userfaultfd|EPERM|"
  "chroot|ok|ok"
)
script='for p in '
for p in "${probes[@]}"; do script="$script ${p%%|*}"; done
script="$script; do echo \$p=\$(/bin/probe \$p); done"
out_sec=$(run_in "$B" "$(jq -cn --arg s "$script" '["/bin/sh","-c",$s]')")
tap_run "umount security bundle" "$OCI" umount "$B"
tap_run "mount security.sif --no-seccomp" "$OCI" mount --no-seccomp "$SE" "$B"
out_none=$(run_in "$B" "$(jq -cn --arg s "$script" '["/bin/sh","-c",$s]')")
tap_run "umount it" "$OCI" umount "$B"
got() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
for p in "${probes[@]}"; do
  IFS='|' read -r name with without <<<"$p"
  tap_is "$(got "$out_sec" "$name")" "$with" "profile: $name -> $with"
  case $without in
    "") ;;
    !*) tap_ok "$([ "$(got "$out_none" "$name")" != "${without#!}" ]; echo $?)" "no profile: $name is not ${without#!} ($(got "$out_none" "$name"))" ;;
    *) tap_is "$(got "$out_none" "$name")" "$without" "no profile: $name -> $without" ;;
  esac
done
tap_ok "$(is_gone "$B" "$SE"; echo $?)" "security bundle fully removed"

# ---- volumes: the container's root can write a setuid-root file there;
# every bind the bundle adds is nosuid,nodev so it gains nobody anything
if [ -e "$FX/security-volume.sif" ]; then
  SV=$(img security-volume)
  B=$T/secvol
  tap_run "mount security-volume.sif" "$OCI" mount "$SV" "$B"
  tap_is "$(jq -c '[.mounts[] | select(.options // [] | index("rbind") or index("bind")) | (.options | index("nosuid") != null and index("nodev") != null)] | (length > 0 and all)' "$B/config.json")" true \
    "every bind mount the bundle adds is nosuid,nodev"
  run_in "$B" '["/bin/sh","-c","cp /bin/probe /vol/p && chmod 4755 /vol/p"]' >/dev/null
  tap_ok "$([ -u "$B"/volumes/*/p ]; echo $?)" "the container's root left a setuid-root file in the volume"
  out=$(run_as "$B" 65534 '["/vol/p","ids"]')
  tap_is "$out" "65534 65534" "run from the volume as 65534, it keeps euid 65534"
  tap_run "umount security-volume bundle" "$OCI" umount "$B"
  tap_ok "$(is_gone "$B" "$SV"; echo $?)" "security-volume bundle fully removed"
fi

# ---- crun takes the same profile (its libseccomp may know other names).
# crun 1.8 refuses hybrid cgroups: run it in a mount namespace without the
# cgroup2 mount, as tests/integration/lifecycle/crun.sh does.
if command -v crun >/dev/null; then
  B=$T/crun
  out=$(unshare -m --propagation private bash -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 99; fi
    "$OCI" mount "$1" "$2" || exit 98
    jq --arg s "$3" ".process.terminal = false | .process.args = [\"/bin/sh\", \"-c\", \$s]" \
      "$2/config.json" >"$2.cfg" && cat "$2.cfg" >"$2/config.json"
    (cd "$2" && timeout 60 crun --root "$4" run "sifoci-sec-$$-crun" </dev/null 2>&1)
    "$OCI" umount "$2" >/dev/null || echo "umount failed"' _ "$SE" "$B" "$script" "$T/crun-root")
  tap_is "$(got "$out" keyctl) $(got "$out" clone3) $(got "$out" socket-vsock) $(got "$out" socket-inet)" "EPERM ENOSYS EPERM ok" "crun runs the bundle with the profile applied"
  tap_ok "$(is_gone "$B" "$SE"; echo $?)" "crun bundle fully removed"
fi

# ---- nothing left on the machine by this test
tap_is "$(mounts_under "$T")" "" "no mounts left under the test dir"
left=""
for f in "$IMG"/*.sif; do left="$left$(loops_of "$f")"; done
tap_is "$left" "" "no loop devices left on the test images"
tap_done
