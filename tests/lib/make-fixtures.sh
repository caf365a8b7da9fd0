#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make-fixtures.sh OUTDIR: the test suite's own SIF images (see fixtures.sh).
set -euo pipefail
OUT=$1
mkdir -p "$OUT"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for t in siftool mksquashfs busybox; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done

case "$(uname -m)" in
  x86_64) ARCH=2 ;; aarch64) ARCH=4 ;; i?86) ARCH=1 ;; ppc64le) ARCH=6 ;; s390x) ARCH=11 ;; riscv64) ARCH=12 ;; *) ARCH=2 ;;
esac
BUSYBOX=$(command -v busybox)

rootfs() { # rootfs DIR: static busybox with its applet links and a passwd
  local r=$1 a
  mkdir -p "$r"/{bin,etc,dev,proc,sys,tmp,root,srv,home,var/tmp}
  cp "$BUSYBOX" "$r/bin/busybox"
  for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
}

singularity_d() { # singularity_d DIR: the tree `singularity build` writes, abridged
  local s=$1/.singularity.d
  mkdir -p "$s/actions" "$s/env" "$s/libs"
  cat >"$s/actions/run" <<'SH'
#!/bin/sh
for script in /.singularity.d/env/*.sh; do
    if [ -f "$script" ]; then
        . "$script"
    fi
done
if test -x /.singularity.d/runscript; then
    exec /.singularity.d/runscript "$@"
fi
exec /bin/sh "$@"
SH
  cat >"$s/runscript" <<'SH'
#!/bin/sh
echo "runscript: $GREETING args:$*"
SH
  printf '#!/bin/sh\nexport GREETING="hello from the runscript"\n' >"$s/env/90-environment.sh"
  printf '{\n\t"org.label-schema.schema-version": "1.0"\n}\n' >"$s/labels.json"
  chmod 0755 "$s/actions/run" "$s/runscript" "$s/env/90-environment.sh"
  ln -sf .singularity.d/runscript "$1/singularity"
}

squash() { mksquashfs "$1" "$2" -noappend -all-root -comp gzip -no-progress -quiet >/dev/null; }

new_sif() { rm -f "$1"; siftool new "$1" >/dev/null; }
add_part() { # add_part SIF SQUASHFS [siftool options]
  local f=$1 s=$2; shift 2
  siftool add --datatype 4 --partfs 1 --parttype 2 --partarch $ARCH --groupid 1 "$@" "$f" "$s" >/dev/null
}
add_json() { # add_json SIF NAME FILE
  siftool add --datatype 6 --groupid 1 --filename "$2" "$1" "$3" >/dev/null
}

# ---- native
rootfs "$W/native"; singularity_d "$W/native"; squash "$W/native" "$W/native.sqfs"
printf 'bootstrap: localimage\nfrom: busybox\n' >"$W/def"
new_sif "$OUT/busybox.sif"
siftool add --datatype 1 --groupid 1 "$OUT/busybox.sif" "$W/def" >/dev/null
add_part "$OUT/busybox.sif" "$W/native.sqfs"

# ---- plain: no /.singularity.d
rootfs "$W/plain"; squash "$W/plain" "$W/plain.sqfs"
new_sif "$OUT/plain.sif"; add_part "$OUT/plain.sif" "$W/plain.sqfs"

# ---- docker-derived
cat >"$W/docker-config.json" <<'JSON'
{"Entrypoint":["/bin/echo","entrypoint:"],"Cmd":["default","cmd args"],
 "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/image/bin","DOCKER_VAR=docker value","EMPTY_VAR="],
 "WorkingDir":"/srv","User":"65534:65534","Volumes":{"/data":{},"/var/cache/app":{}},
 "Labels":{"org.opencontainers.image.title":"busybox-docker"}}
JSON
new_sif "$OUT/busybox-docker.sif"
add_json "$OUT/busybox-docker.sif" oci-config.json "$W/docker-config.json"
add_part "$OUT/busybox-docker.sif" "$W/native.sqfs"

printf '{"Cmd":["/bin/id"],"User":"nobody"}' >"$W/named.json"
new_sif "$OUT/named-user.sif"
add_json "$OUT/named-user.sif" oci-config.json "$W/named.json"
add_part "$OUT/named-user.sif" "$W/plain.sqfs"

# ---- two system partitions, the primary second
mkdir -p "$W/alt/etc"; echo "not the rootfs" >"$W/alt/etc/motd"; squash "$W/alt" "$W/alt.sqfs"
new_sif "$OUT/two-system.sif"
siftool add --datatype 4 --partfs 1 --parttype 1 --partarch 4 --groupid 2 "$OUT/two-system.sif" "$W/alt.sqfs" >/dev/null
add_part "$OUT/two-system.sif" "$W/native.sqfs"

# ---- broken images (byte patches on copies of busybox.sif)
le64() { # le64 FILE OFFSET VALUE
  python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<q", int(sys.argv[3])))' "$@"
}
put() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
prim=$((4096 + 585))   # busybox.sif: Def.FILE in slot 0, the partition in slot 1
cp "$OUT/busybox.sif" "$OUT/bad-magic.sif"; put "$OUT/bad-magic.sif" 32 'SIF_MAGIK'
cp "$OUT/busybox.sif" "$OUT/bad-version.sif"; put "$OUT/bad-version.sif" 42 '02'
head -c 128 "$OUT/busybox.sif" >"$OUT/bad-header-only.sif"
size=$(stat -c %s "$OUT/busybox.sif")
cp "$OUT/busybox.sif" "$OUT/bad-truncated.sif"; truncate -s $((size - 300000)) "$OUT/bad-truncated.sif"
cp "$OUT/busybox.sif" "$OUT/bad-int64.sif"; le64 "$OUT/bad-int64.sif" $((prim + 25)) $((0x7fffffffffffff00))
cp "$OUT/busybox.sif" "$OUT/bad-dtotal.sif"; le64 "$OUT/bad-dtotal.sif" 88 $((0x7fffffffffffffff))
cp "$OUT/busybox.sif" "$OUT/bad-overlap.sif"; le64 "$OUT/bad-overlap.sif" $((prim + 17)) 4096
# a squashfs partition whose superblock claims more bytes than the partition holds
cp "$OUT/busybox.sif" "$OUT/bad-sqfs-size.sif"
off=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(struct.unpack("<q", f.read(8))[0])' "$OUT/busybox.sif" $((prim + 17)))
le64 "$OUT/bad-sqfs-size.sif" $((off + 40)) $((size * 4))
cp "$OUT/busybox.sif" "$OUT/bad-sqfs-magic.sif"; put "$OUT/bad-sqfs-magic.sif" "$off" 'XXXX'
new_sif "$OUT/bad-no-partition.sif"; siftool add --datatype 1 "$OUT/bad-no-partition.sif" "$W/def" >/dev/null
printf 'not json {' >"$W/notjson"
new_sif "$OUT/bad-config-json.sif"; add_json "$OUT/bad-config-json.sif" oci-config.json "$W/notjson"
add_part "$OUT/bad-config-json.sif" "$W/plain.sqfs"
# siftool refuses a second primary: add a System partition and flip its type
new_sif "$OUT/bad-two-primary.sif"; add_part "$OUT/bad-two-primary.sif" "$W/plain.sqfs"
add_part "$OUT/bad-two-primary.sif" "$W/plain.sqfs" --parttype 1
put "$OUT/bad-two-primary.sif" $((prim + 205)) '\002'
# ext3 bytes behind a partition that says squashfs
if command -v mkfs.ext3 >/dev/null; then
  truncate -s 2M "$W/ext3.img"; mkfs.ext3 -q -F "$W/ext3.img" >/dev/null 2>&1
  new_sif "$OUT/bad-ext3-as-squashfs.sif"; add_part "$OUT/bad-ext3-as-squashfs.sif" "$W/ext3.img"
fi
ls "$OUT"

# ---- symlinks inside the image (mount reads image files with libsquashfs):
#   symlinks.sif        /etc/passwd is a relative link that climbs past the
#                       root, /etc/group an absolute link, the runscript a
#                       link; User "app:appgrp" resolves to 1234:777
#   bad-link-loop.sif   /etc/passwd is a link loop and User needs it
rootfs "$W/links"
rm -f "$W/links/etc/passwd" "$W/links/etc/group"
mkdir -p "$W/links/usr/share/base" "$W/links/.singularity.d"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:4321::/:/bin/sh\n' >"$W/links/usr/share/base/passwd"
printf 'root:x:0:\nappgrp:x:777:\n' >"$W/links/usr/share/base/group"
printf '#!/bin/sh\necho "linked runscript"\n' >"$W/links/usr/share/base/runscript"
chmod 0755 "$W/links/usr/share/base/runscript"
ln -s ../../../../../usr/share/base/passwd "$W/links/etc/passwd"
ln -s /usr/share/base/group "$W/links/etc/group"
ln -s ../usr/share/base/runscript "$W/links/.singularity.d/runscript"
squash "$W/links" "$W/links.sqfs"
printf '{"User":"app:appgrp"}' >"$W/links.json"
new_sif "$OUT/symlinks.sif"
add_json "$OUT/symlinks.sif" oci-config.json "$W/links.json"
add_part "$OUT/symlinks.sif" "$W/links.sqfs"
rootfs "$W/loop"
rm -f "$W/loop/etc/passwd"
ln -s passwd2 "$W/loop/etc/passwd"
ln -s /etc/passwd "$W/loop/etc/passwd2"
squash "$W/loop" "$W/loop.sqfs"
printf '{"User":"app"}' >"$W/loop.json"
new_sif "$OUT/bad-link-loop.sif"
add_json "$OUT/bad-link-loop.sif" oci-config.json "$W/loop.json"
add_part "$OUT/bad-link-loop.sif" "$W/loop.sqfs"
ls "$OUT/symlinks.sif" "$OUT/bad-link-loop.sif"

# ---- hostile images and images that must mount safely (tests/integration/
# mount/security.sh).  Byte patches on busybox.sif (descriptor table at
# 4096: Def.FILE in slot 0, the partition in slot 1) and small new SIFs.
#   bad-sqfs-short.sif       partition of 40 bytes: a cut superblock
#   bad-sqfs-cut.sif         partition holds the first 64 KiB of the squashfs
#   bad-sqfs-blocksize.sif   superblock block_size 3
#   bad-sqfs-tables.sif      superblock inode table start past bytes_used
#   bad-overlap-header.sif   partition starts inside the SIF header
#   bad-dtotal-mul.sif       descriptor count whose table size overflows int64
#   bad-dtotal-neg.sif       descriptor count INT64_MIN
#   bad-dfree.sif            free descriptor count INT64_MAX
#   bad-doffset.sif          descriptor table offset INT64_MAX
#   bad-config-{array,string}.sif   oci-config.json is JSON but not an object
#   bad-config-{env100k,deep,nul,longwd,type-*}.sif   hostile oci-config.json
#   name-128.sif             object names of 128 bytes without a NUL (valid)
#   name-config-nonul.sif    "oci-config.json" + 113 bytes, no NUL, holding
#                            text that is not JSON: must not be taken for it
#   security.sif             device nodes (dev/evil, srv/evil: c 1 3), a
#                            setuid-root probe and busybox (tests/lib/probe.c)
sec_off=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(struct.unpack("<q", f.read(8))[0])' "$OUT/busybox.sif" $((4096 + 585 + 17)))
le32() { # le32 FILE OFFSET VALUE
  python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<I", int(sys.argv[3])))' "$@"
}
head -c 40 "$W/native.sqfs" >"$W/short.sqfs"
new_sif "$OUT/bad-sqfs-short.sif"; add_part "$OUT/bad-sqfs-short.sif" "$W/short.sqfs"
head -c 65536 "$W/native.sqfs" >"$W/cut.sqfs"
new_sif "$OUT/bad-sqfs-cut.sif"; add_part "$OUT/bad-sqfs-cut.sif" "$W/cut.sqfs"
cp "$OUT/busybox.sif" "$OUT/bad-sqfs-blocksize.sif"; le32 "$OUT/bad-sqfs-blocksize.sif" $((sec_off + 12)) 3
cp "$OUT/busybox.sif" "$OUT/bad-sqfs-tables.sif"; le64 "$OUT/bad-sqfs-tables.sif" $((sec_off + 64)) $((0x7000000000000000))
cp "$OUT/busybox.sif" "$OUT/bad-overlap-header.sif"; le64 "$OUT/bad-overlap-header.sif" $((4096 + 585 + 17)) 64
cp "$OUT/busybox.sif" "$OUT/bad-dtotal-mul.sif"; le64 "$OUT/bad-dtotal-mul.sif" 88 $((0x7fffffffffffffff / 585 + 1))
cp "$OUT/busybox.sif" "$OUT/bad-dtotal-neg.sif"; le64 "$OUT/bad-dtotal-neg.sif" 88 -9223372036854775808
cp "$OUT/busybox.sif" "$OUT/bad-dfree.sif"; le64 "$OUT/bad-dfree.sif" 80 $((0x7fffffffffffffff))
cp "$OUT/busybox.sif" "$OUT/bad-doffset.sif"; le64 "$OUT/bad-doffset.sif" 96 $((0x7fffffffffffffff))

config_sif() { # config_sif NAME: bad-NAME.sif with $W/NAME.json as oci-config.json
  new_sif "$OUT/bad-$1.sif"
  add_json "$OUT/bad-$1.sif" oci-config.json "$W/$1.json"
  add_part "$OUT/bad-$1.sif" "$W/plain.sqfs"
}
printf '[1,2]' >"$W/config-array.json"
printf '"str"' >"$W/config-string.json"
python3 -c 'import json; print(json.dumps({"Env": ["V%d=%d" % (i, i) for i in range(100000)]}))' >"$W/config-env100k.json"
python3 -c 'print("{\"Labels\":{\"a\":" + "[" * 100000 + "]" * 100000 + "}}")' >"$W/config-deep.json"
printf '{"Env":["A=x\\u0000y"]}' >"$W/config-nul.json"
python3 -c 'import json; print(json.dumps({"WorkingDir": "/" + "a" * (1 << 20)}))' >"$W/config-longwd.json"
printf '{"Cmd":"/bin/sh"}' >"$W/config-type-cmd.json"
printf '{"Env":[1]}' >"$W/config-type-env.json"
printf '{"User":0}' >"$W/config-type-user.json"
printf '{"Volumes":["/data"]}' >"$W/config-type-volumes.json"
printf '{"Labels":{"a":1}}' >"$W/config-type-labels.json"
for c in array string env100k deep nul longwd type-cmd type-env type-user type-volumes type-labels; do
  config_sif "config-$c"
done

cp "$OUT/busybox.sif" "$OUT/name-128.sif"
printf 'D%.0s' $(seq 128) | dd of="$OUT/name-128.sif" bs=1 seek=$((4096 + 73)) conv=notrunc status=none
printf 'P%.0s' $(seq 128) | dd of="$OUT/name-128.sif" bs=1 seek=$((4096 + 585 + 73)) conv=notrunc status=none
new_sif "$OUT/name-config-nonul.sif"
add_json "$OUT/name-config-nonul.sif" oci-config.json "$W/notjson"
add_part "$OUT/name-config-nonul.sif" "$W/plain.sqfs"
{ printf 'oci-config.json'; printf 'x%.0s' $(seq 113); } |
  dd of="$OUT/name-config-nonul.sif" bs=1 seek=$((4096 + 73)) conv=notrunc status=none

# Labels that runtimes would act on as annotations: they must not reach
# config.json's annotations as they are.
printf '%s' '{"Labels":{"run.oci.seccomp_bpf_data":"AAAA","org.systemd.property.CPUQuota":"1%",
 "org.criu.config":"/tmp/x","io.kubernetes.cri.container-type":"sandbox",
 "org.opencontainers.image.title":"hostile","maintainer":"someone"}}' >"$W/hostile-labels.json"
new_sif "$OUT/hostile-labels.sif"
add_json "$OUT/hostile-labels.sif" oci-config.json "$W/hostile-labels.json"
add_part "$OUT/hostile-labels.sif" "$W/plain.sqfs"

# The setuid check needs a binary that keeps its privileges: busybox drops
# them for `id`, so a setuid busybox proves nothing on its own.
if ${CC:-cc} -static -O2 -o "$W/probe" "$(dirname "${BASH_SOURCE[0]}")/probe.c" 2>"$W/probe.log"; then
  rootfs "$W/sec"
  cp "$W/probe" "$W/sec/bin/probe"
  cp "$W/probe" "$W/sec/bin/probe-suid"
  cp "$BUSYBOX" "$W/sec/bin/busybox-suid"
  chmod 0755 "$W/sec/bin/probe"
  chmod 4755 "$W/sec/bin/probe-suid" "$W/sec/bin/busybox-suid"
  mksquashfs "$W/sec" "$W/sec.sqfs" -noappend -all-root -comp gzip -no-progress -quiet \
    -p "dev/evil c 666 root root 1 3" -p "srv/evil c 666 root root 1 3" >/dev/null
  new_sif "$OUT/security.sif"; add_part "$OUT/security.sif" "$W/sec.sqfs"
  ls "$OUT/security.sif"
  # the same with a volume, which the container's root can write to
  printf '{"Cmd":["/bin/sh"],"Volumes":{"/vol":{}}}' >"$W/volume.json"
  new_sif "$OUT/security-volume.sif"
  add_json "$OUT/security-volume.sif" oci-config.json "$W/volume.json"
  add_part "$OUT/security-volume.sif" "$W/sec.sqfs"
else
  echo "no static C compiler: security.sif not built" >&2; cat "$W/probe.log" >&2
fi
