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
