#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `oci mount --method extract` against `unsquashfs -d` of squashfs-tools on
# one squashfs with the awkward cases: owners, setuid/setgid/sticky modes,
# hard links, symlinks, a FIFO, a device node (skipped and counted),
# user.* xattrs, an empty file, a sparse file, files larger than one
# worker's piece (8 MiB) and many small ones sharing fragment blocks.
# Every entry's type, mode, owner, size, mtime, link count, content and
# xattrs must match, with 1 thread (the walk writes), 2 and 3 workers.  A
# disk that fills while the workers write: one line, nothing left.
. "$SIFOCI_TESTS/lib/tap.sh"
require_root
require_cmd mksquashfs unsquashfs siftool python3
T=$(mktemp -d /tmp/sifoci-h12x-ex.XXXXXX)
cleanup() {
  mountpoint -q "$T/small" && umount "$T/small"
  for b in "$T"/b*; do [ -e "$b/.sifoci-mount.json" ] && "$OCI" umount "$b" >/dev/null 2>&1; done
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

R=$T/tree
mkdir -p "$R"/{bin,etc,ro,tmp,deep/a/b/c/d,many}
cp /bin/busybox "$R/bin/"
echo root:x:0:0::/root:/bin/sh >"$R/etc/passwd"
install -m 4755 /dev/null "$R/bin/suid" && echo x >"$R/bin/suid" && chmod 4755 "$R/bin/suid"
echo g >"$R/bin/sgid" && chown 0:50 "$R/bin/sgid" && chmod 2711 "$R/bin/sgid"
echo owned >"$R/etc/owned" && chown 1000:1001 "$R/etc/owned" && chmod 0640 "$R/etc/owned"
chmod 1777 "$R/tmp"
: >"$R/empty"
head -c 20M /dev/urandom >"$R/big" # three pieces
truncate -s 30M "$R/sparse" && echo tail | dd of="$R/sparse" bs=1 seek=$((29 * 1024 * 1024)) conv=notrunc status=none
ln "$R/big" "$R/big.link"
echo linked >"$R/etc/one" && ln "$R/etc/one" "$R/etc/two" && ln "$R/etc/one" "$R/deep/three"
ln -s ../bin/busybox "$R/etc/sym" && ln -s /nowhere "$R/dangling"
mkfifo "$R/fifo"
mknod "$R/null" c 1 3
for i in $(seq 300); do echo "small $i" >"$R/many/f$i"; done
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.sifoci", b"kept"); os.setxattr(sys.argv[2], "user.big", b"x" * 300)' \
  "$R/etc/owned" "$R/big"
echo ro >"$R/ro/file" && chmod 0555 "$R/ro"
touch -h -d '2001-02-03 04:05:06' "$R/etc/sym" "$R/etc/owned" "$R/ro"
mksquashfs "$R" "$T/img.sqfs" -noappend -no-progress -quiet -xattrs >/dev/null ||
  tap_skip_all "mksquashfs failed"
siftool new "$T/img.sif" >/dev/null
siftool add --datatype 4 --partfs 1 --parttype 2 --partarch 2 --groupid 1 "$T/img.sif" "$T/img.sqfs" >/dev/null
unsquashfs -q -n -d "$T/ref" "$T/img.sqfs" >/dev/null 2>&1

# manifest DIR: one line per entry, everything the two must agree on
manifest() {
  python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    dirs.sort()
    for name in [""] + sorted(dirs + files) if d == root else sorted(dirs + files):
        p = os.path.join(d, name) if name else d
        st = os.lstat(p)
        rel = os.path.relpath(p, root)
        typ = stat.S_IFMT(st.st_mode)
        extra = ""
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                extra = hashlib.sha256(f.read()).hexdigest()[:16] + f" size={st.st_size}"
        elif stat.S_ISLNK(st.st_mode):
            extra = "-> " + os.readlink(p)
        xa = "" if stat.S_ISLNK(st.st_mode) else ",".join(
            f"{k}={os.getxattr(p, k)!r}" for k in sorted(os.listxattr(p)))
        mtime = int(st.st_mtime)
        print(f"{rel} type={typ:o} mode={stat.S_IMODE(st.st_mode):o} own={st.st_uid}:{st.st_gid} "
              f"nlink={st.st_nlink if not stat.S_ISDIR(st.st_mode) else '-'} mtime={mtime} {extra} {xa}")
EOF
}
# unsquashfs makes device nodes; an extraction skips them
manifest "$T/ref" | grep -v '^null ' >"$T/ref.txt"
tap_like "$(grep '^etc/owned ' "$T/ref.txt")" 'user.sifoci' "the reference holds the xattr (the test can see a difference)"

for th in 1 2 3; do
  out=$(SIFOCI_EXTRACT_THREADS=$th "$OCI" mount --method extract "$T/img.sif" "$T/b$th" 2>&1)
  tap_is "$?" 0 "threads=$th: mount --method extract"
  tap_like "$out" '1 device node\(s\) in the image skipped' "threads=$th: the device node is counted in one note"
  manifest "$T/b$th/rootfs" >"$T/b$th.txt"
  d=$(diff "$T/ref.txt" "$T/b$th.txt")
  tap_is "$d" "" "threads=$th: every entry as unsquashfs makes it ($(wc -l <"$T/ref.txt") entries)"
  tap_is "$(stat -c %i "$T/b$th/rootfs/etc/one")" "$(stat -c %i "$T/b$th/rootfs/deep/three")" \
    "threads=$th: hard links share one inode"
  tap_is "$("$OCI" umount "$T/b$th" 2>&1; echo "rc=$?")" "rc=0" "threads=$th: umount"
  tap_ok "$([ ! -e "$T/b$th" ]; echo $?)" "threads=$th: nothing left"
done

# disk full while several workers write: 12 MiB holds part of 'big' only
mkdir "$T/small"
mount -t tmpfs -o size=12m tmpfs "$T/small"
for th in 1 2; do
  out=$(SIFOCI_EXTRACT_THREADS=$th "$OCI" mount --method extract --quiet "$T/img.sif" "$T/small/b" 2>&1)
  tap_is "$?" 1 "threads=$th, disk full: mount fails"
  tap_like "$out" "^oci: mount '.*': extracting the image into 'rootfs': extracting '/[^']*': No space left on device$" \
    "threads=$th, disk full: one line naming the file"
  tap_is "$(echo "$out" | wc -l)" 1 "... one line"
  tap_is "$(ls -A "$T/small")" "" "threads=$th, disk full: the partial tree is removed"
done
umount "$T/small"
tap_done
