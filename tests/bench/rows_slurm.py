# SPDX-License-Identifier: Apache-2.0
"""Row 13, Slurm: 10 container job steps in a row (`srun --container=B
/bin/true`) through sifoci, with the shipped packaging/slurm/oci.conf,
against the same 10 steps through plain runc, with the oci.conf Slurm's
own container guide gives for runc (RunTimeRun, Query, Kill, Delete).
One real one-node Slurm (tests/integration/slurm/cluster.sh) serves both;
slurmstepd reads oci.conf for every step, so the two files take turns,
interleaved. The bundle is the bench's own (root, kernel method). Goal
<= 1.1x."""

import os
import re
import time

from cleanup import remove_tree
from util import DEVNULL, BenchError, now, run

STEPS = 10


class SlurmRows:
    def slurm_setup(self):
        here = os.path.dirname(os.path.abspath(__file__))
        self.sl_cluster = os.path.join(here, "..", "integration", "slurm", "cluster.sh")
        self.sl_shipped = os.path.join(here, "..", "..", "packaging", "slurm", "oci.conf")
        for t in ("srun", "slurmctld", "slurmd", "munged", "sinfo", "scancel"):
            if not run(["sh", "-c", f"command -v {t}"], check=False).returncode == 0:
                raise BenchError(f"row 13 needs {t} (slurm-wlm, munge)")
        # the daemons' command lines hold the work dir, so the run's tag
        self.sl_dir = os.path.join(self.w, "slurm")
        os.makedirs(self.sl_dir)
        os.chmod(self.sl_dir, 0o755)
        self.extra_cleanups.append(("slurm cluster", self.slurm_cleanup))
        p = run(["bash", self.sl_cluster, "start", self.sl_dir], capture=True, check=False, timeout=120)
        if p.returncode != 0:
            raise BenchError("the one-node Slurm did not come up: "
                             + p.stderr.decode(errors="replace").strip().splitlines()[-1:][0])
        self.sl_env = dict(os.environ, SLURM_CONF=os.path.join(self.sl_dir, "etc", "slurm.conf"))
        self.sl_env.pop("SLURM_JOB_ID", None)
        self.sl_env.pop("SLURM_JOBID", None)
        run_root = os.path.join(self.sl_dir, "run")
        monitor = os.environ.get("OCI_MONITOR")
        oci = f"env OCI_MONITOR={monitor} {self.oci}" if monitor else self.oci
        with open(self.sl_shipped) as f:
            shipped = f.read()
        self.sl_conf_ours = shipped.replace("/usr/bin/oci", oci).replace("/run/sifoci-slurm", run_root)
        if self.sl_conf_ours == shipped or not re.search(r"^RunTimeRun=", shipped, re.M):
            raise BenchError(f"'{self.sl_shipped}' does not look like the shipped oci.conf")
        rr = os.path.join(self.sl_dir, "runc-root")
        cid = "%n.%u.%j.%s.%t"
        self.sl_conf_runc = "".join([
            f'RunTimeQuery="exec {self.runc} --root {rr} state {cid}"\n',
            f'RunTimeKill="exec {self.runc} --root {rr} kill -a {cid} KILL"\n',
            f'RunTimeDelete="exec {self.runc} --root {rr} delete --force {cid}"\n',
            f'RunTimeRun="exec {self.runc} --root {rr} run {cid} -b %b"\n'])

    def slurm_use(self, conf):
        path = os.path.join(self.sl_dir, "etc", "oci.conf")
        with open(path + ".new", "w") as f:
            f.write(conf)
        os.rename(path + ".new", path)

    def slurm_steps(self):
        """STEPS steps in a row; each must exit 0 and print what it ran."""
        t0 = now()
        for _ in range(STEPS):
            p = run(["srun", "-N1", "-n1", f"--container={self.bundle}", "/bin/echo", "step-ok"],
                    env=self.sl_env, capture=True, check=False, timeout=120, stdin=DEVNULL)
            if p.returncode != 0 or p.stdout.strip() != b"step-ok":
                raise BenchError(f"srun --container: exit {p.returncode}, "
                                 f"out {p.stdout[:80]!r}, err {p.stderr.decode(errors='replace').strip()[:160]}")
        return now() - t0

    def slurm_cleanup(self):
        d = getattr(self, "sl_dir", None)
        if not d or not os.path.isdir(d):
            return
        left = []
        run(["bash", self.sl_cluster, "stop", d], check=False, timeout=180)
        # containers a step cut short left: ours through oci, runc's through runc
        rr = os.path.join(d, "runc-root")
        for r in (os.path.join(d, "run", x) for x in (os.listdir(os.path.join(d, "run"))
                                                      if os.path.isdir(os.path.join(d, "run")) else [])):
            for cid in os.listdir(r):
                run([self.oci, "--root", r, "delete", "-f", cid], check=False)
        if os.path.isdir(rr):
            for cid in os.listdir(rr):
                run([self.runc, "--root", rr, "delete", "--force", cid], check=False)
        for _ in range(50):
            if run(["pgrep", "-f", d], check=False).returncode != 0:
                break
            time.sleep(0.1)
        try:
            remove_tree(d)
        except (BenchError, OSError) as e:
            left.append(str(e))
        self.sl_dir = None
        if left:
            raise BenchError("; ".join(left))

    # ------------------------------------------------------------ row 13
    def row13(self):
        self.slurm_setup()
        self.set_config(["/bin/true"])
        self.fail_here(13, "a one-node Slurm up")
        ours, ref = [], []
        runs = max(3, min(self.a.runs, 7))
        for i in range(runs + 1):  # the first of each warms slurmd and the caches
            for who, conf, out in (("ours", self.sl_conf_ours, ours), ("ref", self.sl_conf_runc, ref)):
                self.slurm_use(conf)
                t = self.slurm_steps()
                if i:
                    out.append(t * 1000)
        self.add_row(13, f"{STEPS} Slurm container steps (srun --container)", "ms", ours, ref,
                     "plain runc in oci.conf", goal=("<=", 1.1), n=(runs, runs))
        self.slurm_cleanup()
