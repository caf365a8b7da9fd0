# SPDX-License-Identifier: Apache-2.0
"""Row 5: `oci mount` + `oci umount` of a small and a 1 GiB SIF, against
squashfuse_ll + fuse-overlayfs."""

import json
import os
import shutil

from util import BenchError, now, run


class MountRows:
    # ------------------------------------------------------------ row 5
    def sif_offset(self, sif):
        d = json.loads(run(self.ocicmd("inspect", "--json", sif), capture=True).stdout)
        for o in d["descriptors"]:
            if o.get("partition", {}).get("fs") == "Squashfs":
                return o["offset"]
        raise BenchError(f"{sif}: no squashfs partition")

    def mount_ours(self, sif):
        b = os.path.join(self.w, "mnt-ours")
        t0 = now()
        run(self.ocicmd("mount", sif, b))
        t1 = now()
        self.bundles.append(b)
        if not os.path.exists(os.path.join(b, "rootfs/bin/busybox")):
            raise BenchError("oci mount: no rootfs/bin/busybox")
        t2 = now()
        run(self.ocicmd("umount", b))
        t3 = now()
        self.bundles.remove(b)
        return (t1 - t0) + (t3 - t2)

    def mount_fuse(self, sif, off):
        b = os.path.join(self.w, "mnt-fuse")
        lower, upper, work, rootfs = (os.path.join(b, x) for x in (".image", "upper", "work", "rootfs"))
        t0 = now()
        for d in (lower, upper, work, rootfs):
            os.makedirs(d)
        run([self.sqfuse, "-o", f"offset={off}", sif, lower])
        self.fuse.append(lower)
        run([self.fuseovl, "-o", f"lowerdir={lower},upperdir={upper},workdir={work}", rootfs])
        self.fuse.append(rootfs)
        t1 = now()
        if not os.path.exists(os.path.join(rootfs, "bin/busybox")):
            raise BenchError("fuse-overlayfs: no rootfs/bin/busybox")
        t2 = now()
        for m in (rootfs, lower):
            run([self.fusermount, "-u", m])
            self.fuse.remove(m)
        shutil.rmtree(b)
        t3 = now()
        return (t1 - t0) + (t3 - t2)

    def row5(self):
        have_fuse = bool(self.sqfuse and self.fuseovl and self.fusermount)
        offs = {s: self.sif_offset(s) for s in (self.small, self.big)}
        o_small, o_big, f_small, f_big = [], [], [], []
        for i in range(self.a.runs):
            jobs = [(o_small, lambda: self.mount_ours(self.small)), (o_big, lambda: self.mount_ours(self.big))]
            if have_fuse:
                jobs += [(f_small, lambda: self.mount_fuse(self.small, offs[self.small])),
                         (f_big, lambda: self.mount_fuse(self.big, offs[self.big]))]
            k = i % len(jobs)
            for lst, fn in jobs[k:] + jobs[:k]:
                lst.append(fn() * 1000)
        gib = f"{self.a.big_mib / 1024:g} GiB" if self.a.big_mib >= 1024 else f"{self.a.big_mib} MiB"
        self.add_row("5a", f"mount+umount {gib} SIF  vs 1 MiB SIF", "ms", o_big, o_small,
                     "oci, 1 MiB SIF", goal=("within", 0.2))
        if have_fuse:
            self.add_row("5b", "mount+umount 1 MiB SIF  vs squashfuse", "ms", o_small, f_small,
                         "squashfuse_ll+fuse-overlayfs")
            self.add_row("5c", f"mount+umount {gib} SIF  vs squashfuse", "ms", o_big, f_big,
                         "squashfuse_ll+fuse-overlayfs")
        else:
            self.notes.append("row 5: squashfuse or fuse-overlayfs missing, no FUSE reference")

