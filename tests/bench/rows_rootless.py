# SPDX-License-Identifier: Apache-2.0
"""Rows 8 and 9, rootless: an unprivileged user made for the run (useradd,
a subordinate range of its own, /run/user/UID), removed at the end.

Row 8: `oci run` of /bin/true as that user against `runc --rootless=true
run` on the same extracted bundle (goal <= 1.15x).
Row 9: extraction of a 256 MiB tree (files of /usr, gzip) as that user:
`oci mount --method extract --quiet` against `unsquashfs -d` of
squashfs-tools on the same squashfs, in MiB/s of file data; only the
extraction is timed (the umount and rm -rf are not)."""

import fcntl
import os
import platform
import pwd
import shutil
import subprocess
import tempfile
import time

from cleanup import remove_tree
from util import DEVNULL, MiB, BenchError, now, run

SUBID_LOCK = "/etc/.sifoci-subid.lock"  # the rootless tests take it too


class RootlessRows:
    # ------------------------------------------------------------ the user
    def rl_setup(self):
        if getattr(self, "rl_user", None):
            return
        if not shutil.which("useradd") or not shutil.which("setpriv"):
            raise BenchError("rows 8-9 need useradd and setpriv")
        self.rl_user = f"sfbench{os.getpid() % 100000}"
        self.extra_cleanups.append(("rootless user", self.rl_cleanup))
        run(["useradd", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", "-M", "-d", "/nonexistent",
             "-s", "/bin/sh", self.rl_user])
        pw = pwd.getpwnam(self.rl_user)
        self.rl_uid, self.rl_gid = pw.pw_uid, pw.pw_gid
        start = 3500000000 + (os.getpid() % 10000) * 65536
        with open(SUBID_LOCK, "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            for f in ("/etc/subuid", "/etc/subgid"):
                with open(f, "a") as out:
                    out.write(f"{self.rl_user}:{start}:65536\n")
        self.rl_xdg = f"/run/user/{self.rl_uid}"
        os.makedirs(self.rl_xdg, mode=0o700)
        os.chown(self.rl_xdg, self.rl_uid, self.rl_gid)
        # the user's own dir: the work dir is root's, 0700
        self.rl_dir = tempfile.mkdtemp(prefix=f"sifoci-bench.{self.tag}.rl.",
                                       dir=os.environ.get("BENCH_TMPDIR", "/var/tmp"))
        os.chmod(self.rl_dir, 0o700)
        os.chown(self.rl_dir, self.rl_uid, self.rl_gid)
        for exe in (self.oci, os.environ.get("OCI_MONITOR") or self.oci):
            if self.rl_call(["test", "-x", exe], check=False).returncode != 0:
                raise BenchError(f"'{exe}' is not reachable for an ordinary user (build it outside a 0700 dir)")

    def rl_cmd(self, cmd):
        env = ["env", f"HOME={self.rl_dir}", f"USER={self.rl_user}", f"XDG_RUNTIME_DIR={self.rl_xdg}",
               "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]
        if os.environ.get("OCI_MONITOR"):
            env.append(f"OCI_MONITOR={os.environ['OCI_MONITOR']}")
        return ["setpriv", f"--reuid={self.rl_uid}", f"--regid={self.rl_gid}", "--init-groups",
                "--reset-env", "--", *env, *cmd]

    def rl_call(self, cmd, check=True, timeout=300, **kw):
        return run(self.rl_cmd(cmd), check=check, timeout=timeout, **kw)

    def rl_cleanup(self):
        """Bundles (umount as the user), processes, the user's dirs, its
        ranges, the user. Raises with what was left."""
        user = getattr(self, "rl_user", None)
        if not user:
            return
        left = []
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            uid = None
        if uid is not None and os.path.isdir(getattr(self, "rl_dir", "")):
            for b in os.listdir(self.rl_dir):
                p = os.path.join(self.rl_dir, b)
                if os.path.exists(os.path.join(p, ".sifoci-mount.json")):
                    r = self.rl_call([self.oci, "umount", p], check=False)
                    if r.returncode != 0:
                        left.append(f"oci umount {p}: {r.stderr.decode(errors='replace').strip()}")
        if uid is not None:
            subprocess.run(["pkill", "-KILL", "-U", str(uid)], stdout=DEVNULL, stderr=DEVNULL)
            for _ in range(50):
                if subprocess.run(["pgrep", "-U", str(uid)], stdout=DEVNULL).returncode != 0:
                    break
                time.sleep(0.1)
        for d in (getattr(self, "rl_dir", None), getattr(self, "rl_xdg", None)):
            if d and os.path.isdir(d):
                try:
                    remove_tree(d)
                except (BenchError, OSError) as e:
                    left.append(str(e))
        with open(SUBID_LOCK, "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            for f in ("/etc/subuid", "/etc/subgid"):
                with open(f) as fh:
                    lines = fh.readlines()
                keep = [ln for ln in lines if not ln.startswith(f"{user}:")]
                if keep != lines:
                    with open(f, "w") as fh:
                        fh.writelines(keep)
        if uid is not None and run(["userdel", user], check=False).returncode != 0:
            left.append(f"userdel {user} failed")
        self.rl_user = None
        if left:
            raise BenchError("; ".join(left))

    # ------------------------------------------------------------ row 8
    def row8(self):
        self.rl_setup()
        sif = os.path.join(self.rl_dir, "small.sif")
        shutil.copy(self.small, sif)
        os.chown(sif, self.rl_uid, self.rl_gid)
        b = os.path.join(self.rl_dir, "b")
        self.rl_call([self.oci, "mount", "--quiet", sif, b])
        cfg = os.path.join(b, "config.json")
        p = self.rl_call(["jq", '.process.args=["/bin/true"] | .process.terminal=false', cfg], capture=True)
        with open(cfg, "wb") as f:
            f.write(p.stdout)
        # The mounted config.json has no user namespace: `oci create` adds
        # it (mappings, rootless mounts) in the config it hands the runtime,
        # STATE/ID/bundle/config.json. runc gets that same config.
        probe = f"{self.tag}-rlcfg"
        self.rl_call([self.oci, "create", "-b", b, probe], stdin=DEVNULL, timeout=60)
        ref_b = os.path.join(self.rl_dir, "bref")
        self.rl_call(["mkdir", ref_b])
        self.rl_call(["cp", os.path.join(self.rl_xdg, "sifoci", probe, "bundle", "config.json"), ref_b])
        self.rl_call([self.oci, "delete", "-f", probe], timeout=60)
        rtroot = os.path.join(self.rl_dir, "runc")
        self.fail_here(8, "a rootless bundle mounted")
        ours, ref = [], []
        for i in range(self.a.runs + 1):  # the first of each warms the caches
            for who in ("ours", "ref"):
                cid = f"{self.tag}-rl{i}"
                cmd = ([self.oci, "run", "-b", b, cid] if who == "ours" else
                       [self.runc, "--root", rtroot, "--rootless=true", "run", "-b", ref_b, cid])
                t0 = now()
                self.rl_call(cmd, stdin=DEVNULL, timeout=60)
                dt = (now() - t0) * 1000
                if i:
                    (ours if who == "ours" else ref).append(dt)
        self.add_row(8, "rootless oci run /bin/true", "ms", ours, ref, "runc --rootless run",
                     goal=("<=", 1.15))

    # ------------------------------------------------------------ row 9
    def rl_tree(self, top, limit):
        """Files of /usr (each at most 8 MiB, symlinks kept) until LIMIT bytes."""
        total = 0
        for src in ("/usr/lib", "/usr/share", "/usr/bin"):
            for d, dirs, files in os.walk(src):
                dirs.sort()
                rel = os.path.relpath(d, "/")
                os.makedirs(os.path.join(top, rel), exist_ok=True)
                for name in sorted(files):
                    p, q = os.path.join(d, name), os.path.join(top, rel, name)
                    try:
                        if os.path.islink(p):
                            os.symlink(os.readlink(p), q)
                        elif os.path.isfile(p):
                            size = os.path.getsize(p)
                            if size <= 8 * MiB and total + size <= limit:
                                shutil.copyfile(p, q)
                                total += size
                    except OSError:
                        continue
                    if total >= limit - 64 * 1024:
                        return total
        return total

    def row9(self):
        self.rl_setup()
        tree = os.path.join(self.w, "rl-tree")
        data = self.rl_tree(tree, 256 * MiB)
        sq = os.path.join(self.rl_dir, "x.sqfs")
        run(["mksquashfs", tree, sq, "-noappend", "-all-root", "-no-progress", "-quiet"], timeout=900)
        remove_tree(tree)
        sif = os.path.join(self.rl_dir, "x.sif")
        run(["siftool", "new", sif])
        arch = {"x86_64": "2", "aarch64": "4", "ppc64le": "6", "s390x": "11", "riscv64": "12"}.get(
            platform.machine(), "2")
        run(["siftool", "add", "--datatype", "4", "--partfs", "1", "--parttype", "2", "--partarch", arch,
             "--groupid", "1", sif, sq], timeout=600)
        for f in (sq, sif):
            os.chown(f, self.rl_uid, self.rl_gid)
        b, u = os.path.join(self.rl_dir, "xb"), os.path.join(self.rl_dir, "xu")
        self.fail_here(9, "the rootless user and its images")
        ours, ref = [], []
        runs = max(3, min(self.a.runs, 7))
        for i in range(runs + 1):
            t0 = now()
            self.rl_call([self.oci, "mount", "--method", "extract", "--quiet", sif, b], timeout=600)
            dt = now() - t0
            self.rl_call([self.oci, "umount", b], timeout=600)
            t1 = now()
            self.rl_call(["unsquashfs", "-q", "-n", "-d", u, sq], stdout=DEVNULL, timeout=600)
            dr = now() - t1
            remove_tree(u)
            if i:  # the first of each warms the page cache
                ours.append(data / MiB / dt)
                ref.append(data / MiB / dr)
        self.add_row(9, f"extract {data // MiB} MiB image (rootless)", "MiB/s", ours, ref,
                     "unsquashfs -d", goal=(">=", 1.0), higher_better=True)
        self.notes.append(f"row 9: {data // MiB} MiB of file data from /usr, gzip; the extraction timed "
                          f"alone (umount / rm -rf not); oci with {os.cpu_count()} CPUs' worth of workers")
