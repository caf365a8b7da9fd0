# SPDX-License-Identifier: Apache-2.0
"""Row 14: `oci run` stdout throughput into a pipe against the bare runtime
writing into the same kind of pipe (runc; crun in the mount namespace the
crun tests use), and `oci run /bin/true` with crun against `crun run`."""

import os
import shutil
import subprocess
import time

from util import MiB, BenchError, median, now, run

# crun 1.8 refuses cgroups in hybrid mode: its commands (and ours, whose
# monitor runs the crun) run in a private mount namespace without the
# cgroup2 mount at /sys/fs/cgroup/unified (tests/integration/lifecycle/common.sh)
CRUN_NS = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', "sh"]


class PipeRows:
    def crun_prefix(self):
        return CRUN_NS if os.path.ismount("/sys/fs/cgroup/unified") else []

    def pipe_rate(self, argv, size):
        """Runs argv with its stdout a pipe we read (1 MiB reads) and count.
        MiB/s from the first byte to the end of the output, so that the
        start-up (measured by rows 1a and 14c) does not count."""
        r, w = os.pipe()
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w,
                                 stderr=subprocess.PIPE)
        finally:
            os.close(w)
        n = n0 = 0
        first = None
        try:
            while True:
                b = os.read(r, 1 << 20)
                if not b:
                    break
                if first is None:
                    first, n0 = now(), len(b)
                n += len(b)
            t1 = now()
            err = p.stderr.read().decode(errors="replace").strip()
            p.wait(timeout=120)
        finally:
            os.close(r)
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()
        if p.returncode != 0:
            raise BenchError(f"{' '.join(argv)}: exit {p.returncode}: {err[-300:]}")
        if n != size:
            raise BenchError(f"{' '.join(argv)}: {n} bytes through the pipe, expected {size}")
        return (n - n0) / MiB / max(t1 - first, 1e-9)

    def crun_root(self):
        d = os.path.join(self.w, "crun-root")
        os.makedirs(d, exist_ok=True)
        return d

    def crun_cleanup(self):
        root = os.path.join(self.w, "crun-root")
        if not os.path.isdir(root):
            return
        for cid in os.listdir(root):
            run(self.crun_prefix() + [self.crun, "--root", root, "delete", "--force", cid],
                check=False)

    def row14(self):
        self.crun = shutil.which("crun")
        mib = self.a.pipe_mib
        size = mib * MiB
        # 1 MiB writes (busybox head writes 4 KiB at a time: that would
        # measure the container's own syscalls more than the pipe)
        self.set_config(["/bin/dd", "if=/dev/zero", "bs=1M", f"count={mib}"])
        runs = max(3, min(self.a.runs, 9))
        # a: runc; b: crun, both ways in its namespace
        kinds = [("a", [], [], self.runc, "runc run")]
        if self.crun:
            self.extra_cleanups.append(("crun containers", self.crun_cleanup))
            kinds.append(("b", self.crun_prefix(), ["--runtime", self.crun], self.crun, "crun run"))
        else:
            self.notes.append("row 14b/14c: no crun installed")
        for sub, prefix, rtopt, rt, refname in kinds:
            root = self.rt if sub == "a" else self.crun_root()
            ours, ref = [], []
            for i in range(runs):
                for who in (("ours", "ref") if i % 2 == 0 else ("ref", "ours")):
                    cid = self.new_id()
                    if who == "ours":
                        self.ours.add(cid)
                        ours.append(self.pipe_rate(
                            prefix + self.ocicmd(*rtopt, "run", "-b", self.bundle, cid), size))
                        self.ours.discard(cid)
                        self.fail_here(14, "the bundle mounted")
                    else:
                        ref.append(self.pipe_rate(
                            prefix + [rt, "--root", root, "run", "-b", self.bundle, cid], size))
                        run(prefix + [rt, "--root", root, "delete", "--force", cid], check=False)
            ns = " (private mount ns)" if prefix else ""
            self.add_row(f"14{sub}", f"oci run stdout → pipe, {mib} MiB  vs {refname}{ns}", "MiB/s",
                         ours, ref, f"{refname} → pipe", goal=(">=", 0.8) if sub == "a" else None,
                         higher_better=True)
        if not self.crun:
            return
        # c: oci run /bin/true with crun vs crun run, both in the namespace
        self.set_config(["/bin/true"])
        prefix, root = self.crun_prefix(), self.crun_root()
        ours, ref = [], []
        for i in range(self.a.runs):
            for who in (("ours", "ref") if i % 2 == 0 else ("ref", "ours")):
                cid = self.new_id()
                if who == "ours":
                    self.ours.add(cid)
                    t0 = now()
                    run(prefix + self.ocicmd("--runtime", self.crun, "run", "-b", self.bundle, cid))
                    ours.append((now() - t0) * 1000)
                    self.ours.discard(cid)
                else:
                    t0 = now()
                    run(prefix + [self.crun, "--root", root, "run", "-b", self.bundle, cid])
                    ref.append((now() - t0) * 1000)
                    run(prefix + [self.crun, "--root", root, "delete", "--force", cid], check=False)
        ns = " (private mount ns, both)" if prefix else ""
        self.add_row("14c", f"oci run /bin/true with crun  vs crun run{ns}", "ms", ours, ref,
                     "crun run")
