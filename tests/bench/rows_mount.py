# SPDX-License-Identifier: Apache-2.0
"""Row 5: `oci mount` + `oci umount` of a small and a 1 GiB SIF, against
squashfuse_ll + fuse-overlayfs; and `oci mount --method fuse` against the
same two daemons started by hand."""

import json
import os

from cleanup import UMOUNT_TIMEOUT, pids_with_arg, remove_tree
from util import BenchError, now, run


class MountRows:
    # ------------------------------------------------------------ row 5
    def sif_offset(self, sif):
        d = json.loads(run(self.ocicmd("inspect", "--json", sif), capture=True).stdout)
        for o in d["descriptors"]:
            if o.get("partition", {}).get("fs") == "Squashfs":
                return o["offset"]
        raise BenchError(f"{sif}: no squashfs partition")

    def mount_ours(self, sif, hold=False, method=None):
        """ms of `oci mount` + `oci umount`, or None when the umount had to be
        retried (busy: the sample is dropped, the retries counted)."""
        b = os.path.join(self.w, "mnt-ours" if method is None else f"mnt-{method}")
        self.bundles.append(b)  # before the mount: one cut short is undone too
        t0 = now()
        run(self.ocicmd("mount", *(["--method", method] if method else []), sif, b))
        t1 = now()
        if not os.path.exists(os.path.join(b, "rootfs/bin/busybox")):
            raise BenchError("oci mount: no rootfs/bin/busybox")
        if hold:
            return None
        t2 = now()
        p = run(self.ocicmd("umount", b), check=False)
        t3 = now()
        if p.returncode != 0:
            self.log(f"row 5: oci umount {b}: {p.stderr.decode(errors='replace').strip()}; retrying")
            self.oci_umount(b)
            self.umount_retried += 1
            return None
        self.bundles.remove(b)
        return (t1 - t0) + (t3 - t2)

    def mount_fuse(self, sif, off, hold=False):
        """ms of what SingularityCE 4 does: squashfuse_ll, fuse-overlayfs on it,
        then the overlay unmounted, its daemon gone (it holds the lower mount
        busy until it exits), the squashfs unmounted, its daemon gone."""
        b = os.path.join(self.w, "mnt-fuse")
        lower, upper, work, rootfs = (os.path.join(b, x) for x in (".image", "upper", "work", "rootfs"))
        t0 = now()
        for d in (lower, upper, work, rootfs):
            os.makedirs(d)
        self.fuse.append(lower)
        run([self.sqfuse, "-o", f"offset={off}", sif, lower])
        self.fuse.append(rootfs)
        run([self.fuseovl, "-o", f"lowerdir={lower},upperdir={upper},workdir={work}", rootfs])
        t1 = now()
        if not os.path.exists(os.path.join(rootfs, "bin/busybox")):
            raise BenchError("fuse-overlayfs: no rootfs/bin/busybox")
        ovl, sq = pids_with_arg(rootfs), pids_with_arg(lower)
        if not ovl or not sq:
            raise BenchError(f"no FUSE daemon found: fuse-overlayfs {ovl}, squashfuse {sq}")
        if hold:
            return None
        t2 = now()
        # the overlay first, and its daemon gone before the squashfs goes:
        # until it exits it holds files of the lower mount open (busy)
        hows = [self.fuse_unmount(m, pids) for m, pids in ((rootfs, ovl), (lower, sq))]
        remove_tree(b)
        t3 = now()
        if any(hows):  # a sample with a minute of waiting in it means nothing
            self.fuse_last_resort += [h for h in hows if h]
            return None
        return (t1 - t0) + (t3 - t2)

    def row5(self):
        have_fuse = bool(self.sqfuse and self.fuseovl and self.fusermount)
        offs = {s: self.sif_offset(s) for s in (self.small, self.big)}
        self.umount_retried = 0
        self.fuse_last_resort = []
        if self.a.fail_row == 5:
            self.mount_ours(self.small, hold=True)
            what = "an oci mount"
            if have_fuse:
                self.mount_fuse(self.small, offs[self.small], hold=True)
                what += " and two FUSE mounts"
            self.fail_here(5, what + " live")
        o_small, o_big, f_small, f_big, of_small = [], [], [], [], []
        for i in range(self.a.runs):
            jobs = [(o_small, lambda: self.mount_ours(self.small)), (o_big, lambda: self.mount_ours(self.big))]
            if have_fuse:
                jobs += [(f_small, lambda: self.mount_fuse(self.small, offs[self.small])),
                         (f_big, lambda: self.mount_fuse(self.big, offs[self.big])),
                         (of_small, lambda: self.mount_ours(self.small, method="fuse"))]
            k = i % len(jobs)
            for lst, fn in jobs[k:] + jobs[:k]:
                t = fn()
                if t is not None:
                    lst.append(t * 1000)
        gib = f"{self.a.big_mib / 1024:g} GiB" if self.a.big_mib >= 1024 else f"{self.a.big_mib} MiB"
        self.add_row("5a", f"mount+umount {gib} SIF  vs 1 MiB SIF", "ms", o_big, o_small,
                     "oci, 1 MiB SIF", goal=("within", 0.2))
        if have_fuse:
            self.add_row("5b", "mount+umount 1 MiB SIF  vs squashfuse", "ms", o_small, f_small,
                         "squashfuse_ll+fuse-overlayfs")
            self.add_row("5c", f"mount+umount {gib} SIF  vs squashfuse", "ms", o_big, f_big,
                         "squashfuse_ll+fuse-overlayfs")
            self.add_row("5d", "--method fuse, 1 MiB SIF  vs by hand", "ms", of_small, f_small,
                         "squashfuse_ll+fuse-overlayfs", goal=("<=", 1.1))
            if self.fuse_last_resort:
                self.notes.append(f"row 5: FUSE unmounts that needed the last resort (busy for "
                                  f"{UMOUNT_TIMEOUT} s; samples left out): {'; '.join(self.fuse_last_resort)}")
        else:
            self.notes.append("row 5: squashfuse or fuse-overlayfs missing, no FUSE reference")
        if self.umount_retried:
            self.notes.append(f"row 5: {self.umount_retried} oci umount(s) were busy (a mount namespace "
                              "copy made elsewhere?) and retried; those samples are left out")
