# SPDX-License-Identifier: Apache-2.0
"""Rows 1-3: starting containers (oci run, create/start/wait/delete) and
the idle monitor's memory, against runc, podman and conmon."""

import os
import time

from cleanup import remove_tree
from util import BenchError, DirWatch, median, mem_of, now, run


class RunRows:
    # ------------------------------------------------------------ row 1
    def check_run_gone(self, cid):
        """After `oci run` returns its container is gone to `oci state`;
        its monitor then removes the state dir within moments (untimed)."""
        p = run(self.ocicmd("state", cid), check=False, capture=True)
        if p.returncode == 0 or b"does not exist" not in p.stderr:
            raise BenchError(f"oci state {cid} after oci run: exit {p.returncode}, "
                             f"{p.stderr.decode(errors='replace').strip()}")
        deadline = now() + 10
        while os.path.exists(self.statedir(cid)):
            if now() > deadline:
                raise BenchError(f"oci run left {self.statedir(cid)} behind")
            time.sleep(0.005)

    def row1(self):
        # 50 ms a run, and the runtime's own spread is +-5 ms: the medians
        # of 15 moved the ratio by 0.1 between runs on a quiet machine
        N = self.a.runs if self.a.quick else max(self.a.runs, 61)
        self.set_config(["/bin/true"])
        ours, rnc, pod = [], [], []
        use_podman = self.podman and not self.a.no_podman
        for i in range(N):
            order = ["ours", "runc", "podman"] if use_podman else ["ours", "runc"]
            k = i % len(order)
            for who in order[k:] + order[:k]:
                cid = self.new_id()
                if who == "ours":
                    self.ours.add(cid)
                    t0 = now()
                    run(self.ocicmd("run", "-b", self.bundle, cid))
                    ours.append(now() - t0)
                    self.check_run_gone(cid)
                    self.ours.discard(cid)
                    self.fail_here(1, "the bundle mounted, runc and podman containers made")
                elif who == "runc":
                    t0 = now()
                    run([self.runc, "--root", self.rt, "run", "-b", self.bundle, cid])
                    rnc.append(now() - t0)
                else:
                    self.podmans.add(cid)
                    t0 = now()
                    run([self.podman, "--runtime", self.runc, "run", "--rm", "--name", cid,
                         "--network", "none", "--ulimit", "nofile=1024:1024",
                         "--ulimit", "nproc=1024:1024", "--rootfs", os.path.join(self.bundle, "rootfs"),
                         "/bin/true"])
                    pod.append(now() - t0)
                    self.podmans.discard(cid)
        ms = lambda xs: [x * 1000 for x in xs]
        self.add_row("1a", "oci run /bin/true  vs runc run", "ms", ms(ours), ms(rnc), "runc run",
                     goal=("<=", 1.0))
        if use_podman:
            self.add_row("1b", "oci run /bin/true  vs podman run (runc)", "ms", ms(ours), ms(pod),
                         "podman run --rootfs")

    # ------------------------------------------------------------ row 2
    def ours_cycle(self, cid, steps):
        t0 = now()
        self.ours_create(cid)
        t1 = now()
        self.fail_here(2, f"container {cid} created")
        with DirWatch(self.statedir(cid)) as w:
            run(self.ocicmd("start", cid))
            t2 = now()
            t3 = w.wait(os.path.join(self.statedir(cid), "exit.json"))
        self.ours_delete(cid)
        t4 = now()
        steps.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
        return t4 - t0

    def conmon_cycle(self, cid, steps):
        with DirWatch(os.path.join(self.w, "conmon-exits")) as w:
            t0 = now()
            self.conmon_create(cid)
            t1 = now()
            run([self.runc, "--root", self.rtc, "start", cid])
            t2 = now()
            t3 = w.wait(self.conmon_exit_file(cid))
            run([self.runc, "--root", self.rtc, "delete", cid])
            t4 = now()
        steps.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
        self.conmons.pop(cid, None)
        remove_tree(os.path.join(self.w, "conmon", cid))
        os.unlink(self.conmon_exit_file(cid))
        return t4 - t0

    def row2(self):
        self.set_config(["/bin/true"])
        ours, ref, so, sc = [], [], [], []
        for i in range(self.a.runs):
            pair = [(ours, self.ours_cycle, so), (ref, self.conmon_cycle, sc)]
            for lst, fn, st in (pair if i % 2 == 0 else pair[::-1]):
                lst.append(fn(self.new_id(), st) * 1000)
        self.add_row("2", "create/start/wait/delete  vs conmon+runc", "ms", ours, ref, "conmon 2.1.6",
                     goal=("<=", 0.9))
        med = lambda st, k: median([x[k] for x in st]) * 1000
        self.notes.append("row 2 steps (medians, ms): " + "; ".join(
            f"{name} ours {med(so, k):.1f} / conmon+runc {med(sc, k):.1f}"
            for k, name in enumerate(("create", "start", "start->exit file", "delete"))))

    # ------------------------------------------------------------ row 3
    def ours_idle(self, cid):
        self.ours_create(cid)
        run(self.ocicmd("start", cid))
        return self.ours_monitor_pid(cid)

    def conmon_idle(self, cid):
        self.conmon_create(cid)
        run([self.runc, "--root", self.rtc, "start", cid])
        return self.conmons[cid]

    def conmon_stop(self, cid):
        with DirWatch(os.path.join(self.w, "conmon-exits")) as w:
            run([self.runc, "--root", self.rtc, "kill", cid, "KILL"])
            w.wait(self.conmon_exit_file(cid))
        self.conmon_delete(cid)

    def row3(self):
        self.set_config(["/bin/sleep", "1000"])
        reps = max(3, min(self.a.runs, 7))
        o_rss, o_pss, c_rss, c_pss = [], [], [], []
        for i in range(reps):
            for who in (("ours", "conmon") if i % 2 == 0 else ("conmon", "ours")):
                cid = self.new_id()
                pid = self.ours_idle(cid) if who == "ours" else self.conmon_idle(cid)
                time.sleep(0.5)
                rss, pss = mem_of(pid)
                if who == "ours":
                    o_rss.append(rss)
                    o_pss.append(pss)
                    self.ours_delete(cid, force=True)
                else:
                    c_rss.append(rss)
                    c_pss.append(pss)
                    self.conmon_stop(cid)
        self.add_row("3a", "idle monitor VmRSS  vs conmon", "KiB", o_rss, c_rss, "conmon", goal=("<=", 0.6))
        self.add_row("3b", "idle monitor Pss    vs conmon", "KiB", o_pss, c_pss, "conmon", goal=("<=", 0.6))

        K = self.a.idle
        tot = {}
        for who in ("ours", "conmon"):
            ids = []
            try:
                pids = []
                for _ in range(K):
                    cid = self.new_id()
                    ids.append(cid)
                    pids.append(self.ours_idle(cid) if who == "ours" else self.conmon_idle(cid))
                self.fail_here(3, f"{K} idle containers and their {who} monitors")
                time.sleep(1.0)
                ms = [mem_of(p) for p in pids]
                tot[who] = (sum(m[0] for m in ms), sum(m[1] for m in ms))
            finally:
                for cid in ids:  # best effort: cleanup() gets whatever is left
                    try:
                        if who == "ours":
                            self.ours_delete(cid, force=True)
                        elif self.conmons.get(cid):
                            self.conmon_stop(cid)
                    except BenchError as e:
                        self.log(f"{cid}: {e}")
        self.add_row("3c", f"{K} idle monitors, total VmRSS", "KiB", [tot["ours"][0]], [tot["conmon"][0]],
                     "conmon", goal=("<=", 0.6), n=(1, 1))
        self.add_row("3d", f"{K} idle monitors, total Pss", "KiB", [tot["ours"][1]], [tot["conmon"][1]],
                     "conmon", goal=("<=", 0.6), n=(1, 1))

