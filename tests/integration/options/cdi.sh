#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci mount --device` through hand-written CDI specs (JSON and YAML) for
# harmless devices: a char node with /dev/null's numbers under another
# name, env vars, a bind of a temp file, a createRuntime and a prestart hook
# writing markers on the host; CDI 0.7.0's additionalGids (the groups of
# the container's process) and intelRdt (linux.intelRdt); each seen from
# inside a container run by `oci run` with real runc, and in config.json.
# netDevices (1.1.0) are refused: runc 1.1 has no linux.netDevices.  Then malformed specs, an
# unknown device or kind, a bad cdiVersion: one line, nothing made; --nv
# and --rocm without a spec say what is missing.
. "$SIFOCI_TESTS/integration/options/common.sh"
require_root
require_cmd siftool mksquashfs jq runc mknod
FX=$(fixtures_dir) || tap_skip_all "fixtures could not be built"

options_setup h14c-cdi
CDI=$T/cdi
mkdir -p "$CDI" "$T/devs" "$T/cdi-late"
cp "$FX/busybox.sif" "$IMG/"
mknod -m 0666 "$T/devs/test0" c 1 3 # /dev/null's numbers, under another name
echo "through the CDI mount" >"$T/cdi-file"

# a JSON spec: spec-level env, a node whose numbers come from the host, one
# with its numbers given, a bind mount, a createRuntime hook
cat >"$CDI/example.json" <<EOF
{
  "cdiVersion": "0.6.0",
  "kind": "example.org/test",
  "containerEdits": {"env": ["CDI_SPEC_LEVEL=yes"]},
  "devices": [
    {"name": "dev0", "containerEdits": {
      "env": ["CDI_DEVICE=dev0"],
      "deviceNodes": [
        {"path": "/dev/sifoci-test0", "hostPath": "$T/devs/test0"},
        {"path": "/dev/sifoci-zero", "type": "c", "major": 1, "minor": 5, "permissions": "r"}
      ],
      "mounts": [{"hostPath": "$T/cdi-file", "containerPath": "/etc/sifoci-cdi-file",
                  "options": ["ro", "nosuid"]}],
      "hooks": [{"hookName": "createRuntime", "path": "/bin/sh",
                 "args": ["sh", "-c", "cat >$T/hook-createRuntime"]}]
    }},
    {"name": "other", "containerEdits": {"env": ["CDI_OTHER=1"]}}
  ]
}
EOF
# a YAML spec, with a prestart hook and a node taken wholly from the host
cat >"$CDI/yaml-spec.yaml" <<EOF
cdiVersion: 0.5.0
kind: example.org/yaml
devices:
  - name: one
    containerEdits:
      env:
        - YAML_DEVICE=one
      deviceNodes:
        - path: /dev/sifoci-test2
          hostPath: $T/devs/test0
          fileMode: 0640
      hooks:
        - hookName: prestart
          path: /bin/sh
          args: [sh, -c, "echo prestart >$T/hook-prestart"]
EOF

tap_run "mount with --device (JSON and YAML specs) from --cdi-dirs" \
  mnt d --cdi-dirs "$CDI" --device example.org/test=dev0 --device example.org/yaml=one
out=$(run d 'echo "env: $CDI_SPEC_LEVEL $CDI_DEVICE $YAML_DEVICE ${CDI_OTHER:-none}";
  ls -ln /dev/sifoci-test0 /dev/sifoci-test2; echo x >/dev/sifoci-test0 && echo node-written;
  head -c 4 /dev/sifoci-zero | od -An -tx1; cat /etc/sifoci-cdi-file;
  echo y >/etc/sifoci-cdi-file || echo mount-ro')
tap_like "$out" "env: yes dev0 one none" "env: the spec's, the devices', not another device's"
tap_like "$out" "^crw-rw-rw- +1 0 +0 +1, +3 .*/dev/sifoci-test0" \
  "a node with the host node's type, numbers and mode"
tap_like "$out" "^crw-r----- .* 1, +3 .*/dev/sifoci-test2" "YAML: fileMode 0640 given, numbers from the host"
tap_like "$out" "node-written" "the node is allowed by the device cgroup"
tap_like "$out" "00 00 00 00" "a node with its numbers given (1:5) reads zeros"
tap_like "$out" "through the CDI mount" "the spec's mount is bound in"
tap_like "$out" "mount-ro" "... with its ro option"
tap_is "$(jq -r .status "$T/hook-createRuntime" 2>&1)" "creating" \
  "the createRuntime hook ran on the host with the state on stdin"
tap_is "$(cat "$T/hook-prestart" 2>&1)" "prestart" "YAML: the prestart hook ran on the host"
tap_is "$(cfg d '[.linux.devices[] | select(.path == "/dev/sifoci-test0") | .type, .major, .minor]')" \
  '["c",1,3]' "config.json: linux.devices has the node"
tap_is "$(cfg d '[.linux.resources.devices[] | select(.major == 1 and .minor == 5) | .allow, .access]')" \
  '[true,"r"]' "config.json: an allow rule with the spec's permissions"
tap_is "$(cfg d '.mounts[] | select(.destination == "/etc/sifoci-cdi-file") | [.type, .options]')" \
  '["bind",["bind","ro","nosuid"]]' "config.json: a mount without type is a bind"
tap_is "$(cfg d '[.hooks.createRuntime[0].path, .hooks.prestart[0].path]')" '["/bin/sh","/bin/sh"]' \
  "config.json: the hooks under their names"
tap_like "$("$OCI" inspect "$T/d" 2>&1)" "device.*example.org/test=dev0" \
  "oci inspect BUNDLE lists the device asked for"
tap_run "umount d" "$OCI" umount "$T/d"

# CDI 0.7.0's additionalGids and intelRdt; 1.1.0's netDevices, refused
cat >"$CDI/v07.json" <<EOF
{"cdiVersion": "0.7.0", "kind": "example.org/v07",
 "containerEdits": {"additionalGids": [44, 0]},
 "devices": [
   {"name": "gids", "containerEdits": {"additionalGids": [20, 44]}},
   {"name": "rdt", "containerEdits": {"intelRdt": {"closID": "h14r-clos", "l3CacheSchema": "L3:0=f",
     "enableCMT": true}}},
   {"name": "rdt2", "containerEdits": {"intelRdt": {"closID": "h14r-later"}}}
 ]}
EOF
tap_run "mount with a device with additionalGids (spec and device level)" \
  mnt g --cdi-dirs "$CDI" --device example.org/v07=gids
tap_is "$(cfg g .process.user.additionalGids)" "[44,20]" \
  "config.json: process.user.additionalGids, each once, without group 0"
tap_like "$(run g 'grep ^Groups: /proc/self/status')" "^Groups:.*\b20 44\b" \
  "additionalGids: the container's process is in groups 20 and 44"
tap_run "umount g" "$OCI" umount "$T/g"
tap_run "mount with two intelRdt devices" \
  mnt r --cdi-dirs "$CDI" --device example.org/v07=rdt --device example.org/v07=rdt2
tap_is "$(cfg r .linux.intelRdt)" '{"closID":"h14r-later"}' "config.json: linux.intelRdt, the later device's"
tap_run "mount with an intelRdt device" mnt r1 --cdi-dirs "$CDI" --device example.org/v07=rdt
tap_is "$(cfg r1 .linux.intelRdt)" '{"closID":"h14r-clos","l3CacheSchema":"L3:0=f","enableCMT":true}' \
  "config.json: linux.intelRdt as the spec has it"
if [ -d /sys/fs/resctrl/info ]; then
  tap_like "$(run r1 'echo started')" "started" "intelRdt: runc starts it where resctrl is mounted"
else
  out=$(run r1 'echo started')
  tap_ok "$(! printf '%s' "$out" | grep -q started; echo $?)" \
    "intelRdt without resctrl here: runc refuses to start it ($(printf '%s' "$out" | grep -io 'intel rdt[^"]*' | head -1))"
fi
tap_run "umount r" "$OCI" umount "$T/r"
tap_run "umount r1" "$OCI" umount "$T/r1"

# a later directory wins for the same device
cat >"$T/cdi-late/late.json" <<EOF
{"cdiVersion": "0.8.0", "kind": "example.org/test",
 "devices": [{"name": "other", "containerEdits": {"env": ["CDI_OTHER=late"]}}]}
EOF
tap_run "mount with a device that two directories have" \
  mnt l --cdi-dirs "$CDI,$T/cdi-late" --device example.org/test=other
tap_is "$(cfg l '[.process.env[] | select(startswith("CDI_"))]')" '["CDI_OTHER=late"]' \
  "the later directory's spec wins (and its own spec-level edits only)"
tap_run "umount l" "$OCI" umount "$T/l"

# ---- bad specs and devices: one line naming the file or device, no bundle
mkdir -p "$T/b1" "$T/b2" "$T/b3" "$T/b4" "$T/b5" "$T/b7" "$T/b8" "$T/b9" "$T/b10"
echo '{"cdiVersion": "0.6.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {"additionalGids": [5]}}]}' >"$T/b7/gids-old.json"
echo '{"cdiVersion": "0.7.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {"additionalGids": [-1]}}]}' >"$T/b8/gids-bad.json"
echo '{"cdiVersion": "0.7.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {"intelRdt": {"closID": "../x"}}}]}' >"$T/b9/rdt-bad.json"
echo '{"cdiVersion": "1.1.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {"netDevices": [{"hostInterfaceName": "h14r0", "name": "eth1"}]}}]}' >"$T/b10/net.json"
echo '{"cdiVersion": "0.6.0", "kind": "example.org/x", "devices": [' >"$T/b1/broken.json"
echo '{"cdiVersion": "0.2.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {}}]}' >"$T/b2/old.json"
echo '{"cdiVersion": "0.6.0", "kind": "example.org/x", "devices": [{"name": "a", "containerEdits": {"deviceNodes": [{"hostPath": "/dev/null"}]}}]}' >"$T/b3/nopath.json"
printf 'cdiVersion: 0.6.0\nkind: example.org/x\ndevices: [ {name: a\n' >"$T/b4/broken.yaml"
echo '{"cdiVersion": "0.6.0", "kind": "nokind", "devices": [{"name": "a", "containerEdits": {}}]}' >"$T/b5/kind.json"
# YAML aliases nested: 8^7 nodes from a few lines are refused, not built
mkdir -p "$T/b6"
{
  echo 'a: &a [x, x, x, x, x, x, x, x]'
  prev=a
  for k in b c d e f g; do
    echo "$k: &$k [*$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev]"
    prev=$k
  done
} >"$T/b6/aliases.yaml"
bad=(
  "--cdi-dirs $T/b6 --device example.org/x=a|$T/b6/aliases.yaml: .*too many nodes"
  "--cdi-dirs $T/b1 --device example.org/x=a|$T/b1/broken.json: line 2: not valid JSON"
  "--cdi-dirs $T/b2 --device example.org/x=a|$T/b2/old.json: cdiVersion '0.2.0' is not one of 0.3.0 to 1.1.x"
  "--cdi-dirs $T/b7 --device example.org/x=a|$T/b7/gids-old.json: devices\[0\].containerEdits: additionalGids and intelRdt need cdiVersion 0.7.0"
  "--cdi-dirs $T/b8 --device example.org/x=a|$T/b8/gids-bad.json: .*additionalGids must be a list of group ids"
  "--cdi-dirs $T/b9 --device example.org/x=a|$T/b9/rdt-bad.json: .*intelRdt.closID must be a name without '/'"
  "--cdi-dirs $T/b10 --device example.org/x=a|$T/b10/net.json: netDevices are not supported: linux.netDevices needs runtime-spec 1.2"
  "--cdi-dirs $T/b3 --device example.org/x=a|$T/b3/nopath.json: devices\[0\].containerEdits.deviceNodes\[0\]: path must be"
  "--cdi-dirs $T/b4 --device example.org/x=a|$T/b4/broken.yaml: line [0-9]+: not valid YAML"
  "--cdi-dirs $T/b5 --device example.org/x=a|$T/b5/kind.json: kind must be VENDOR/CLASS"
  "--cdi-dirs $CDI --device example.org/test=nope|--device example.org/test=nope: no device 'nope' .*$CDI/example.json"
  "--cdi-dirs $CDI --device example.org/none=a|--device example.org/none=a: no CDI spec of kind 'example.org/none' in $CDI$"
  "--cdi-dirs $CDI --nv|--nv: no CDI spec of kind nvidia.com/gpu in $CDI "
  "--cdi-dirs $CDI,$T/cdi-late --rocm|--rocm: no CDI spec of kind amd.com/gpu in $CDI, $T/cdi-late "
  "--device nogpu|a CDI device is VENDOR/CLASS=NAME"
  "--cdi-dirs relative --device a.b/c=d|a spec directory must be an absolute path"
)
for b in "${bad[@]}"; do
  args=${b%%|*} want=${b#*|}
  # shellcheck disable=SC2086 # the options are words
  err=$("$OCI" mount $args "$IMG/busybox.sif" "$T/bad" 2>&1 >/dev/null)
  rc=$?
  tap_is "$([ "$rc" != 0 ] && echo fail):$(printf '%s\n' "$err" | grep -vc "^Try ")" "fail:1" \
    "$args: fails, one line"
  tap_like "$err" "^oci: mount.*$want" "$args: '$want'"
  tap_ok "$([ ! -e "$T/bad" ]; echo $?)" "$args: no bundle made"
done

help=$("$OCI" mount --help 2>&1)
tap_like "$(printf '%s\n' "$help" | sed -n '/^Devices (CDI):/,$p' | tr '\n' ' ')" \
  "--device VENDOR/CLASS=NAME.*--cdi-dirs DIR.*--nv .*--rocm " "oci mount --help: the devices group"

# A real GPU, where this host has one and its vendor's CDI spec: --nv gives
# the container the vendor's device nodes.  Nowhere else to try it from.
gpu_spec=$(grep -lsE '"?kind"?: *"?nvidia.com/gpu"?' /etc/cdi/* /var/run/cdi/* 2>/dev/null | head -1)
if [ -n "$gpu_spec" ] && [ -e /dev/nvidia0 ]; then
  BUNDLES+=("$T/gpu")
  "$OCI" mount --nv "$IMG/busybox.sif" "$T/gpu" >/dev/null 2>&1
  tap_like "$(run gpu 'ls /dev/nvidia0' 2>&1)" "^/dev/nvidia0$" "--nv with $gpu_spec: /dev/nvidia0 in the container"
  "$OCI" umount "$T/gpu" >/dev/null 2>&1
else
  TAP_N=$((TAP_N + 1))
  echo "ok $TAP_N - --nv on a real GPU # SKIP no NVIDIA GPU with a CDI spec in /etc/cdi or /var/run/cdi here"
fi

tap_is "$("$OCI" --root "$ST" list -q 2>&1)" "" "no container left"
tap_done
