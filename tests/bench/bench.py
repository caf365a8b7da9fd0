#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sifoci benchmarks: each row is ours against a reference measured in the
same run, repetitions interleaved, medians compared. See README.md.

Run through run.sh (it builds oci and sets OCI / OCI_MONITOR)."""

import argparse
import atexit
import datetime
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # nothing written into the source tree

from cleanup import Cleanup, remove_tree  # noqa: E402
from rows_io import IoRows  # noqa: E402
from rows_mount import MountRows  # noqa: E402
from rows_pipe import PipeRows  # noqa: E402
from rows_rootless import RootlessRows  # noqa: E402
from rows_query import QueryRows  # noqa: E402
from rows_run import RunRows  # noqa: E402
from rows_slurm import SlurmRows  # noqa: E402
from util import DEVNULL, MiB, BenchError, fmt, median, run, version_of, wait_gone  # noqa: E402


ROW_TITLES = {1: "oci run /bin/true", 2: "create/start/wait/delete", 3: "idle monitor memory",
              4: "log throughput", 5: "mount+umount SIF", 6: "attach and PTY",
              8: "rootless oci run /bin/true", 9: "rootless extraction", 10: "oci state",
              11: "oci list", 12: "oci exec /bin/true", 13: "10 Slurm container steps",
              14: "oci run output into a pipe; crun"}


def one_line(e):
    """An exception as one line: why a row failed."""
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg if isinstance(e, BenchError) else f"{type(e).__name__}: {msg}"


# ---------------------------------------------------------------- the bench
class Bench(Cleanup, RunRows, QueryRows, IoRows, MountRows, RootlessRows, SlurmRows, PipeRows):
    def __init__(self, a):
        self.a = a
        self.oci = os.path.abspath(os.environ.get("OCI", "build-bench/src/oci"))
        self.root = os.environ.get("OCI_ROOT", "/run/sifoci")
        self.ociglobal = ["--root", self.root] if "OCI_ROOT" in os.environ else []
        self.runc = shutil.which("runc") or "/usr/sbin/runc"
        self.conmon = shutil.which("conmon")
        self.podman = shutil.which("podman")
        self.sqfuse = shutil.which("squashfuse_ll") or shutil.which("squashfuse")
        self.fuseovl = shutil.which("fuse-overlayfs")
        self.fusermount = shutil.which("fusermount3") or shutil.which("fusermount")
        self.tag = f"bench{os.getpid()}"
        self.n = 0
        # cleanup registry
        self.ours = set()          # oci container ids
        self.conmons = {}          # id -> conmon pid (or None)
        self.podmans = set()
        self.bundles = []          # oci-mounted bundles
        self.fuse = []             # fuse mountpoints, mount order
        self.children = set()      # pids we forked (pty sessions)
        self.extra_cleanups = []   # (what, fn): rows' own clean-up (rows_rootless)
        self.cleaned = False
        self.w = None
        self.bundle = None
        self.rows = []
        self.notes = []
        self.drops = []

    # ------------------------------------------------------------ helpers
    def new_id(self):
        self.n += 1
        return f"{self.tag}-{self.n}"

    def ocicmd(self, *args):
        return [self.oci, *self.ociglobal, *args]

    def statedir(self, cid):
        return os.path.join(self.root, cid)

    def set_config(self, args, terminal=False):
        cfg = os.path.join(self.bundle, "config.json")
        p = run(["jq", "--argjson", "a", json.dumps(args), "--argjson", "t", json.dumps(terminal),
                 ".process.terminal=$t | .process.args=$a"], stdin=open(cfg, "rb"), capture=True)
        with open(cfg, "wb") as f:
            f.write(p.stdout)

    def drop_caches_and_sync(self):
        os.sync()

    # ------------------------------------------------------------ setup
    def setup(self):
        # the tag in the name: every process of ours (FUSE daemons, monitors,
        # conmons) has it in its command line
        self.w = os.path.realpath(tempfile.mkdtemp(prefix=f"sifoci-bench.{self.tag}.",
                                                   dir=os.environ.get("BENCH_TMPDIR", "/var/tmp")))
        os.chmod(self.w, 0o700)
        for d in ("runc-root", "runc-conmon", "conmon", "conmon-exits", "conmon-socks", "out"):
            os.makedirs(os.path.join(self.w, d))
        self.rt = os.path.join(self.w, "runc-root")
        self.rtc = os.path.join(self.w, "runc-conmon")
        self.log(f"tag {self.tag}; work dir {self.w}; building images")
        self.small = self.make_sif("small", 0)
        self.big = self.make_sif("big", self.a.big_mib * MiB) if self.want(5) else None
        self.bundle = os.path.join(self.w, "bundle")
        self.bundles.append(self.bundle)  # before: a mount cut short is undone too
        run(self.ocicmd("mount", self.small, self.bundle))
        self.set_config(["/bin/true"])

    def make_sif(self, name, extra_bytes):
        r = os.path.join(self.w, f"{name}-root")
        bb = shutil.which("busybox")
        for d in ("bin", "etc", "dev", "proc", "sys", "tmp", "root", "data"):
            os.makedirs(os.path.join(r, d))
        shutil.copy(bb, os.path.join(r, "bin/busybox"))
        for app in run([bb, "--list"], capture=True).stdout.decode().split():
            if app != "busybox":
                os.symlink("busybox", os.path.join(r, "bin", app))
        with open(os.path.join(r, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        flags = []
        if extra_bytes:
            # incompressible payload, stored uncompressed so the build is fast
            with open(os.path.join(r, "data/random"), "wb") as f:
                run(["head", "-c", str(extra_bytes), "/dev/urandom"], stdout=f, timeout=600)
            flags = ["-noI", "-noD", "-noF", "-noX", "-no-duplicates"]
        sq = os.path.join(self.w, f"{name}.sqfs")
        run(["mksquashfs", r, sq, "-noappend", "-all-root", "-no-progress", "-quiet", *flags], timeout=900)
        remove_tree(r)
        sif = os.path.join(self.w, f"{name}.sif")
        run(["siftool", "new", sif])
        arch = {"x86_64": "2", "aarch64": "4", "ppc64le": "6", "s390x": "11", "riscv64": "12"}.get(
            platform.machine(), "2")
        run(["siftool", "add", "--datatype", "4", "--partfs", "1", "--parttype", "2", "--partarch", arch,
             "--groupid", "1", sif, sq], timeout=600)
        os.unlink(sq)
        return sif

    # ------------------------------------------------------------ ours
    def ours_create(self, cid, log_path=None):
        cmd = self.ocicmd("create", "-b", self.bundle)
        if log_path:
            cmd += ["--log-path", log_path]
        self.ours.add(cid)
        run(cmd + [cid])

    def ours_delete(self, cid, force=False):
        run(self.ocicmd("delete", *(["-f"] if force else []), cid))
        self.ours.discard(cid)

    def ours_monitor_pid(self, cid):
        st = json.loads(run(self.ocicmd("state", cid), capture=True).stdout)
        return int(st["monitorPid"])

    # ------------------------------------------------------------ conmon (monitor-anchors.md, Appendix A)
    def conmon_create(self, cid, log_path=None):
        ud = os.path.join(self.w, "conmon", cid)
        os.makedirs(ud)
        log_path = log_path or os.path.join(ud, "ctr.log")
        sr, sw = os.pipe()
        pr, pw = os.pipe()
        cmd = [self.conmon, "--api-version", "1", "-c", cid, "-u", cid, "-n", cid, "-r", self.runc,
               "-b", self.bundle, "-p", f"{ud}/pidfile", "-P", f"{ud}/conmon.pid",
               "--exit-dir", os.path.join(self.w, "conmon-exits"), "--persist-dir", ud,
               "--socket-dir-path", os.path.join(self.w, "conmon-socks"),
               "-l", f"k8s-file:{log_path}", "--runtime-arg", "--root", "--runtime-arg", self.rtc]
        env = dict(os.environ, _OCI_SYNCPIPE=str(sw), _OCI_STARTPIPE=str(pr))
        self.conmons[cid] = None
        try:
            with open(f"{ud}/conmon.stderr", "wb") as err:
                p = subprocess.Popen(cmd, pass_fds=(sw, pr), env=env, cwd=ud, stdin=DEVNULL,
                                     stdout=DEVNULL, stderr=err)
            os.close(sw)
            os.close(pr)
            sw = pr = -1
            os.write(pw, b"\0")
            p.wait(timeout=60)
            data = b""
            while not data.endswith(b"\n"):
                r, _, _ = select.select([sr], [], [], 60)
                if not r:
                    raise BenchError(f"conmon {cid}: no sync message")
                b = os.read(sr, 8192)
                if not b:
                    break
                data += b
            msg = json.loads(data.decode() or "{}")
            if msg.get("data", -1) < 0:
                raise BenchError(f"conmon {cid}: {msg}")
            with open(f"{ud}/conmon.pid") as f:
                self.conmons[cid] = int(f.read().strip())
            return msg["data"]
        finally:
            for fd in (sr, sw, pr, pw):
                if fd >= 0:
                    os.close(fd)

    def conmon_exit_file(self, cid):
        return os.path.join(self.w, "conmon-exits", cid)

    def conmon_delete(self, cid, force=False):
        run([self.runc, "--root", self.rtc, "delete", *(["--force"] if force else []), cid])
        pid = self.conmons.pop(cid, None)
        if pid:
            wait_gone(pid)
        remove_tree(os.path.join(self.w, "conmon", cid))
        try:
            os.unlink(self.conmon_exit_file(cid))
        except FileNotFoundError:
            pass

    # ------------------------------------------------------------ recording
    def log(self, msg):
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    def want(self, row):
        return not self.a.only or row in self.a.only

    def add_row(self, row, what, unit, ours, ref, refname, goal=None, higher_better=False, n=None,
                ratio_goal=None):
        """goal: ("<=", x) / (">=", x) / ("<", x) / ("within", x) on the ratio ours/ref."""
        mo, mr = median(ours), median(ref)
        ratio = mo / mr if mr else float("nan")
        res = "info"
        if goal:
            op, x = goal
            ok = {"<=": ratio <= x, ">=": ratio >= x, "<": ratio < x,
                  "within": abs(ratio - 1) <= x}[op]
            res = "PASS" if ok else "MISS"
        self.rows.append(dict(row=row, what=what, unit=unit, ours=mo, ref=mr, refname=refname,
                              ratio=ratio, goal=goal, res=res, n=n or (len(ours), len(ref))))
        self.log(f"row {row}: {what}: {fmt(mo)} vs {fmt(mr)} {unit} -> {ratio:.2f}x {res}")

    def fail_row(self, row, reason):
        """A row that could not run: one FAIL line in the table, why in it."""
        self.rows.append(dict(row=str(row), what=ROW_TITLES[row], unit="-", fail=reason, res="FAIL"))
        self.notes.append(f"row {row} failed: {reason}")

    def fail_here(self, row, what):
        """--fail-row ROW: make that row fail on purpose, here, with `what` live."""
        if self.a.fail_row == row:
            raise BenchError(f"failing on purpose (--fail-row {row}) with {what}")

    # ------------------------------------------------------------ report
    def header(self):
        def cpu_model():
            with open("/proc/cpuinfo") as f:
                for ln in f:
                    if ln.startswith("model name"):
                        return ln.split(":", 1)[1].strip()
            return platform.processor() or "?"

        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
        a = self.a
        h = [
            f"date      {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
            f"machine   {os.cpu_count()} CPUs, {cpu_model()}, {mem} MiB RAM, kernel {platform.release()}, "
            f"load {os.getloadavg()[0]:.2f} at start",
            "versions  " + "; ".join([
                version_of([self.oci, "--version"]), version_of([self.runc, "--version"]),
                version_of([self.conmon or "conmon", "--version"]),
                version_of([self.podman or "podman", "--version"]),
                version_of([self.sqfuse or "squashfuse_ll", "--version"], r"^squashfuse"),
                version_of([self.fuseovl or "fuse-overlayfs", "--version"], r"^fuse-overlayfs"),
                version_of(["hyperfine", "--version"], "hyperfine") + " (not used)"]),
            f"runs      {a.runs} per row (interleaved); row 1: {a.runs if a.quick else max(a.runs, 61)}; "
            f"row 3: {max(3, min(a.runs, 7))} each + {a.idle} idle "
            f"containers at once; row 4: {a.log_runs} x {a.log_mib} MiB; row 5: {a.big_mib} MiB image; "
            f"row 6: {a.attach_mib} MiB, {a.key_sessions} x {a.keys} keystrokes"
            + ("  [--quick]" if a.quick else ""),
        ]
        return h

    def table(self):
        hdr = ["#", "benchmark", "unit", "ours", "reference", "ratio", "goal", "result"]
        lines = []
        for r in self.rows:
            if r["res"] == "FAIL":
                lines.append([r["row"], r["what"], "-", "-", f"FAIL: {r['fail'][:140]}", "-", "-", "FAIL"])
                continue
            g = r["goal"]
            goal = "-" if not g else (f"{1 - g[1]:g}..{1 + g[1]:g}x" if g[0] == "within" else f"{g[0]} {g[1]:g}x")
            lines.append([r["row"], r["what"], r["unit"], fmt(r["ours"]), f"{fmt(r['ref'])} ({r['refname']})",
                          f"{r['ratio']:.2f}x", goal, r["res"]])
        w = [max(len(str(x)) for x in col) for col in zip(hdr, *lines)]
        out = ["| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |",
               "|" + "|".join("-" * (x + 2) for x in w) + "|"]
        for ln in lines:
            out.append("| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(ln)) + " |")
        return out




def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller sizes (CI)")
    ap.add_argument("--runs", type=int, help="repetitions per row (default 15, quick 5)")
    ap.add_argument("--only", type=lambda s: [int(x) for x in s.split(",")], help="rows to run, e.g. 1,5")
    ap.add_argument("--no-podman", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a goal is missed")
    ap.add_argument("--verify-all", action="store_true", help="parse every row-4 log, not just the first")
    ap.add_argument("--big-mib", type=int, metavar="N", help="size of row 5's big image (default 1024)")
    ap.add_argument("--fail-row", type=int, metavar="N", default=int(os.environ.get("BENCH_FAIL_ROW") or 0),
                    help="make row N fail on purpose (tests the clean-up; env BENCH_FAIL_ROW)")
    a = ap.parse_args()
    a.runs = a.runs or (5 if a.quick else 15)
    a.log_runs = min(a.runs, 3 if a.quick else 9)
    a.log_mib = 50 if a.quick else 500
    a.attach_mib = 50 if a.quick else 200
    a.pipe_mib = 64 if a.quick else 512
    a.big_mib = a.big_mib or 1024
    a.idle = 20 if a.quick else 100
    a.list_n = 40 if a.quick else 200
    a.keys = 50 if a.quick else 200
    a.key_sessions = 2 if a.quick else 3
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    b = Bench(a)
    for t, what in ((b.oci, "oci (set OCI)"), (shutil.which("jq"), "jq"), (shutil.which("mksquashfs"), "mksquashfs"),
                    (shutil.which("siftool"), "siftool"), (shutil.which("busybox"), "busybox")):
        if not t or not os.path.exists(t):
            sys.exit(f"bench: missing {what}")
    if not b.conmon:
        sys.exit("bench: conmon is needed for the references of rows 2-4")

    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    # SIGINT too: a background job of a script starts with it ignored
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    atexit.register(b.cleanup)  # any other way out (cleanup() runs once)
    rc = 0
    head = b.header()
    try:
        try:
            b.setup()
            setup_failed = None
        except Exception as e:  # noqa: BLE001 - no row can run without it
            if interrupted:
                raise KeyboardInterrupt
            rc, setup_failed = 1, one_line(e)
            b.log(f"set-up FAILED: {setup_failed}")
            traceback.print_exc(file=sys.stderr)
        for row in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14):
            if setup_failed and b.want(row):
                b.fail_row(row, f"set-up failed: {setup_failed}")
            elif b.want(row):
                b.log(f"row {row} ...")
                t0 = time.monotonic()
                try:
                    getattr(b, f"row{row}")()
                except Exception as e:  # noqa: BLE001 - a failed row must not stop the others
                    if interrupted:  # a clean-up error hid the interrupt
                        raise KeyboardInterrupt
                    rc = 1
                    why = one_line(e)
                    b.log(f"row {row} FAILED: {why}")
                    if not isinstance(e, BenchError):
                        traceback.print_exc(file=sys.stderr)
                    b.fail_row(row, why)
                    # give back what the row held before the next one runs
                    for p in b.reclaim(keep=(b.bundle,)):
                        b.notes.append(f"row {row}: clean-up after the failure: {p}")
                b.log(f"row {row} took {time.monotonic() - t0:.0f} s")
    except KeyboardInterrupt:
        b.log("interrupted, cleaning up")
        rc = 130
    finally:
        left = b.cleanup()
    if left:
        b.notes += [f"clean-up: {p}" for p in left]
        rc = rc or 1
    if rc == 130:
        sys.exit(rc)
    print("\n".join(head))
    print(f"load      {os.getloadavg()[0]:.2f} at end")
    print()
    print("\n".join(b.table()))
    if b.notes:
        print()
        for n in b.notes:
            print(f"- {n}")
    if a.strict and any(r["res"] == "MISS" for r in b.rows):
        rc = rc or 3
    sys.exit(rc)


if __name__ == "__main__":
    main()
