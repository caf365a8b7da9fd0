# SPDX-License-Identifier: Apache-2.0
"""Rows 10-12: asking about containers and running in them: `oci state`
vs `runc state`, `oci list` of many containers vs `runc list` of as many,
`oci exec /bin/true` vs `runc exec` (issue 18: no runtime start-up per
container in state and list)."""

from subprocess import DEVNULL

from util import BenchError, now, run


class QueryRows:
    def runc_create(self, cid):
        # the container keeps runc's stdio: nothing of ours to wait on
        run([self.runc, "--root", self.rt, "create", "-b", self.bundle, cid], stderr=DEVNULL)

    def runc_delete_all(self, ids):
        for cid in ids:
            try:
                run([self.runc, "--root", self.rt, "delete", "--force", cid])
            except BenchError as e:
                self.log(f"{cid}: {e}")

    def ours_delete_all(self, ids):
        for cid in ids:
            try:
                self.ours_delete(cid, force=True)
            except BenchError as e:
                self.log(f"{cid}: {e}")

    def timed(self, cmd):
        t0 = now()
        run(cmd, capture=True)
        return (now() - t0) * 1000

    def interleaved(self, ours_cmd, ref_cmd, n):
        ours, ref = [], []
        for i in range(n):
            pair = [(ours, ours_cmd), (ref, ref_cmd)]
            for lst, cmd in (pair if i % 2 == 0 else pair[::-1]):
                lst.append(self.timed(cmd))
        return ours, ref

    def running_pair(self):
        """One running `sleep 1000` of ours and one under bare runc (IDs)."""
        self.set_config(["/bin/sleep", "1000"])
        o, r = self.new_id(), self.new_id()
        try:
            self.ours_create(o)
            run(self.ocicmd("start", o))
            self.runc_create(r)
            run([self.runc, "--root", self.rt, "start", r])
        except BaseException:
            self.ours_delete_all([o])
            self.runc_delete_all([r])
            raise
        return o, r

    # ------------------------------------------------------------ row 10
    def row10(self):
        o, r = self.running_pair()
        try:
            ours, ref = self.interleaved(self.ocicmd("state", o),
                                         [self.runc, "--root", self.rt, "state", r], self.a.runs * 2)
        finally:
            self.ours_delete_all([o])
            self.runc_delete_all([r])
        self.add_row("10", "oci state (running)  vs runc state", "ms", ours, ref, "runc state",
                     goal=("<=", 1.0))

    # ------------------------------------------------------------ row 11
    def row11(self):
        self.set_config(["/bin/sleep", "1000"])
        K = self.a.list_n
        ours_ids, runc_ids = [], []
        try:
            for _ in range(K):
                cid = self.new_id()
                ours_ids.append(cid)
                self.ours_create(cid)
                cid = self.new_id()
                runc_ids.append(cid)
                self.runc_create(cid)
            self.fail_here(11, f"{K} created containers of ours and of runc")
            ours, ref = self.interleaved(self.ocicmd("list"), [self.runc, "--root", self.rt, "list"],
                                         self.a.runs)
        finally:
            self.ours_delete_all(ours_ids)
            self.runc_delete_all(runc_ids)
        self.add_row("11", f"oci list, {K} containers  vs runc list", "ms", ours, ref, "runc list",
                     goal=("<=", 1.5))

    # ------------------------------------------------------------ row 12
    def row12(self):
        o, r = self.running_pair()
        try:
            ours, ref = self.interleaved(self.ocicmd("exec", o, "/bin/true"),
                                         [self.runc, "--root", self.rt, "exec", r, "/bin/true"],
                                         self.a.runs)
        finally:
            self.ours_delete_all([o])
            self.runc_delete_all([r])
        self.add_row("12", "oci exec /bin/true  vs runc exec", "ms", ours, ref, "runc exec",
                     goal=("<=", 1.05))
