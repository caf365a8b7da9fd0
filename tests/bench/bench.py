#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sifoci benchmarks: each row is ours against a reference measured in the
same run, repetitions interleaved, medians compared. See README.md.

Run through run.sh (it builds oci and sets OCI / OCI_MONITOR)."""

import argparse
import ctypes
import datetime
import json
import os
import platform
import pty
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tty

MiB = 1 << 20
DEVNULL = subprocess.DEVNULL
LINE = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2)[:99]
assert len(LINE) == 99  # + '\n' = 100-byte lines


class BenchError(Exception):
    pass


def now():
    return time.perf_counter()


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def run(cmd, check=True, capture=False, timeout=120, **kw):
    """subprocess.run with stdin and stdout from /dev/null unless given, stderr
    captured (or kw stderr: a file, for commands whose stderr outlives them)."""
    kw.setdefault("stdin", DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE if capture else DEVNULL)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        p = subprocess.run(cmd, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(map(str, cmd))}: timed out after {timeout} s")
    if check and p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()[-600:] if p.stderr else ""
        raise BenchError(f"{' '.join(map(str, cmd))}: exit {p.returncode}: {err}")
    return p


def version_of(cmd, pat=r"version"):
    """The first line of `cmd`'s output matching pat, trimmed to the version."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return f"{os.path.basename(cmd[0])} not installed"
    for ln in p.stdout.decode(errors="replace").splitlines():
        if re.search(pat, ln):
            return re.sub(r"\s*\(c\).*", "", ln.strip())
    return f"{os.path.basename(cmd[0])} ?"


# ---------------------------------------------------------------- inotify
_libc = ctypes.CDLL(None, use_errno=True)
IN_CREATE, IN_MOVED_TO = 0x100, 0x80


class DirWatch:
    """Waits for a file to appear in a directory, without busy polling.

    All watches share one inotify instance that stays open for the whole
    run: closing an inotify fd that had watches waits for an SRCU grace
    period (about 20 ms here), which must never land in a timed section.
    A watch is removed with inotify_rm_watch (cheap), or by the kernel
    when its directory goes."""

    _fd = -1

    @classmethod
    def _inotify(cls):
        if cls._fd < 0:
            cls._fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if cls._fd < 0:
                raise OSError(ctypes.get_errno(), "inotify_init1")
        return cls._fd

    def __init__(self, d):
        self.fd = self._inotify()
        self.wd = _libc.inotify_add_watch(self.fd, os.fsencode(d), IN_CREATE | IN_MOVED_TO)
        if self.wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {d}")

    def wait(self, path, timeout=60):
        """Returns perf_counter() at the moment `path` was seen."""
        deadline = time.monotonic() + timeout
        while True:
            if os.path.exists(path):
                return now()
            rem = deadline - time.monotonic()
            if rem <= 0:
                raise BenchError(f"timeout waiting for {path}")
            r, _, _ = select.select([self.fd], [], [], min(rem, 0.05))
            if r:
                try:
                    while os.read(self.fd, 65536):
                        pass
                except BlockingIOError:
                    pass

    def close(self):
        if self.wd >= 0:
            _libc.inotify_rm_watch(self.fd, self.wd)  # EINVAL when its dir is gone: fine
            self.wd = -1

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def proc_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def wait_gone(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while not proc_gone(pid):
        if time.monotonic() > deadline:
            raise BenchError(f"process {pid} did not exit")
        time.sleep(0.002)


def mem_of(pid):
    """(VmRSS KiB, Pss KiB) of a process."""
    rss = pss = None
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                rss = int(ln.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for ln in f:
            if ln.startswith("Pss:"):
                pss = int(ln.split()[1])
    if rss is None or pss is None:
        raise BenchError(f"no VmRSS/Pss for pid {pid}")
    return rss, pss


def proc_wchar(pid):
    """Bytes a process has passed to write() so far (its stdout to /dev/null,
    plus a few bytes of stderr at most)."""
    with open(f"/proc/{pid}/io") as f:
        for ln in f:
            if ln.startswith("wchar:"):
                return int(ln.split()[1])
    raise BenchError(f"no wchar for pid {pid}")


def k8s_payload(path):
    """Bytes of container output a kubernetes-format log holds:
    (sum of record texts + one '\\n' per F record, records)."""
    total = nrec = 0
    rest = b""
    with open(path, "rb") as f:
        while True:
            blk = f.read(1 << 24)
            if not blk:
                break
            lines = (rest + blk).split(b"\n")
            rest = lines.pop()
            for ln in lines:
                i = ln.index(b" ")
                j = ln.index(b" ", i + 1)
                tag = ln[j + 1:j + 2]
                if tag not in (b"F", b"P"):
                    raise BenchError(f"{path}: bad record {ln[:80]!r}")
                total += max(0, len(ln) - (j + 3)) + (tag == b"F")
                nrec += 1
    if rest:
        raise BenchError(f"{path}: last record has no newline")
    return total, nrec


# ---------------------------------------------------------------- the bench
class Bench:
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
        self.w = None
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
        self.w = tempfile.mkdtemp(prefix="sifoci-bench.", dir=os.environ.get("BENCH_TMPDIR", "/var/tmp"))
        os.chmod(self.w, 0o700)
        for d in ("runc-root", "runc-conmon", "conmon", "conmon-exits", "conmon-socks", "out"):
            os.makedirs(os.path.join(self.w, d))
        self.rt = os.path.join(self.w, "runc-root")
        self.rtc = os.path.join(self.w, "runc-conmon")
        self.log(f"work dir {self.w}; building images")
        self.small = self.make_sif("small", 0)
        self.big = self.make_sif("big", self.a.big_mib * MiB) if self.want(5) else None
        self.bundle = os.path.join(self.w, "bundle")
        run(self.ocicmd("mount", self.small, self.bundle))
        self.bundles.append(self.bundle)
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
        shutil.rmtree(r)
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
        shutil.rmtree(os.path.join(self.w, "conmon", cid), ignore_errors=True)
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

    # ------------------------------------------------------------ row 1
    def row1(self):
        N = self.a.runs
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
                    if os.path.exists(self.statedir(cid)):
                        raise BenchError(f"oci run left {self.statedir(cid)} behind")
                    self.ours.discard(cid)
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
                     goal=("<=", 1.15))
        if use_podman:
            self.add_row("1b", "oci run /bin/true  vs podman run (runc)", "ms", ms(ours), ms(pod),
                         "podman run --rootfs")

    # ------------------------------------------------------------ row 2
    def ours_cycle(self, cid, steps):
        t0 = now()
        self.ours_create(cid)
        t1 = now()
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
        shutil.rmtree(os.path.join(self.w, "conmon", cid), ignore_errors=True)
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
                     goal=("<", 1.0))
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

    # ------------------------------------------------------------ row 4
    def row4(self):
        size = self.a.log_mib * MiB
        kinds = [
            # dd prints its summary on stderr: keep that out of the count
            ("large writes (dd bs=1M)", "large",
             ["/bin/sh", "-c", f"exec dd if=/dev/zero bs=1M count={self.a.log_mib} 2>/dev/null"]),
            ("100-byte lines", "lines", ["/bin/sh", "-c", f"yes {LINE.decode()} | head -c {size}"]),
        ]
        out = os.path.join(self.w, "out")
        for label, key, args in kinds:
            self.set_config(args)
            res = {"ours": [], "conmon": [], "raw": []}
            for i in range(self.a.log_runs):
                order = ["ours", "conmon", "raw"]
                k = i % 3
                for who in order[k:] + order[:k]:
                    os.sync()
                    verify = i < 1 or self.a.verify_all
                    res[who].append(size / MiB / getattr(self, f"tp_{who}")(out, size, verify))
            self.add_row(f"4{'a' if key == 'large' else 'c'}", f"log {label}  vs conmon k8s-file", "MiB/s",
                         res["ours"], res["conmon"], "conmon k8s-file",
                         goal=(">=", 2.0 if key == "large" else 1.0))
            self.add_row(f"4{'b' if key == 'large' else 'd'}", f"log {label}  vs runc > file", "MiB/s",
                         res["ours"], res["raw"], "runc, stdout > file")

    def check_log(self, who, path, size, verify):
        st = os.stat(path).st_size
        if st < size:
            raise BenchError(f"{who} log {path} has {st} bytes < {size} of output: data lost")
        if verify:
            got, nrec = k8s_payload(path)
            if not size <= got <= size + 1:
                raise BenchError(f"{who} log {path} holds {got} bytes of output, expected {size}")
            self.notes.append(f"row 4 check: {who} log held {got} payload bytes in {nrec} records "
                              f"({st / MiB:.0f} MiB file) for {size} bytes written")

    def tp_ours(self, out, size, verify):
        cid = self.new_id()
        self.ours_create(cid)
        sd = self.statedir(cid)
        try:
            with DirWatch(sd) as w:
                t0 = now()
                run(self.ocicmd("start", cid))
                t = w.wait(os.path.join(sd, "exit.json"), timeout=600) - t0
            with open(os.path.join(sd, "exit.json")) as f:
                ex = json.load(f)
            if ex.get("exitCode") != 0:
                raise BenchError(f"ours {cid}: container exit {ex}")
            self.check_log("ours", os.path.join(sd, "container.log"), size, verify)
        finally:
            self.ours_delete(cid, force=True)
        return t

    def tp_conmon(self, out, size, verify):
        cid = self.new_id()
        log = os.path.join(out, f"{cid}.log")
        self.conmon_create(cid, log_path=log)
        try:
            with DirWatch(os.path.join(self.w, "conmon-exits")) as w:
                t0 = now()
                run([self.runc, "--root", self.rtc, "start", cid])
                t = w.wait(self.conmon_exit_file(cid), timeout=600) - t0
            time.sleep(0.01)
            with open(self.conmon_exit_file(cid)) as f:
                code = f.read().strip()
            if code != "0":
                raise BenchError(f"conmon {cid}: container exit {code!r}")
            self.check_log("conmon", log, size, verify)
        finally:
            self.conmon_delete(cid, force=True)
            os.unlink(log)
        return t

    def runc_detached(self, cid, stdin, stdout):
        """runc create with the container's stdio passed through; returns a pidfd."""
        pidf = os.path.join(self.w, f"{cid}.pid")
        errf = os.path.join(self.w, f"{cid}.stderr")
        # the container keeps runc's stdio: stderr to a file, not a pipe we wait on
        with open(errf, "wb") as e:
            p = run([self.runc, "--root", self.rt, "create", "-b", self.bundle, "--pid-file", pidf, cid],
                    stdin=stdin, stdout=stdout, stderr=e, check=False)
        with open(errf, "rb") as e:
            msg = e.read().decode(errors="replace").strip()
        os.unlink(errf)
        if p.returncode != 0:
            raise BenchError(f"runc create {cid}: exit {p.returncode}: {msg[-600:]}")
        with open(pidf) as f:
            pid = int(f.read())
        os.unlink(pidf)
        return os.pidfd_open(pid)

    def tp_raw(self, out, size, verify):
        cid = self.new_id()
        path = os.path.join(out, f"{cid}.raw")
        try:
            with open(path, "wb") as f:
                pfd = self.runc_detached(cid, DEVNULL, f)
            try:
                t0 = now()
                run([self.runc, "--root", self.rt, "start", cid])
                select.select([pfd], [], [], 600)
                t = now() - t0
            finally:
                os.close(pfd)
            if os.stat(path).st_size != size:
                raise BenchError(f"runc > file wrote {os.stat(path).st_size} bytes, expected {size}")
        finally:
            run([self.runc, "--root", self.rt, "delete", "--force", cid], check=False)
            os.unlink(path)
        return t

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

    # ------------------------------------------------------------ row 6
    def drain_count(self, fd, timeout=600):
        n = 0
        deadline = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
            if not r:
                raise BenchError("timeout reading container output")
            b = os.read(fd, 1 << 20)
            if not b:
                return n, now()
            n += len(b)

    def attach_ours(self, size, sink):
        """One `oci attach` client on a container that writes `size` bytes once it
        reads a line. sink "null": the client writes to /dev/null; "pipe": to a
        pipe we read and count. Returns (seconds, bytes received or None, dropped)."""
        cid = self.new_id()
        self.ours_create(cid)
        n = None
        try:
            run(self.ocicmd("start", cid))
            p = subprocess.Popen(self.ocicmd("attach", cid), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE if sink == "pipe" else DEVNULL,
                                 stderr=subprocess.PIPE)
            try:
                time.sleep(0.2)  # let the client connect before the output starts
                t0 = now()
                p.stdin.write(b"go\n")
                p.stdin.flush()
                if sink == "pipe":
                    n, t1 = self.drain_count(p.stdout.fileno())
                    p.wait(timeout=600)
                else:
                    # wait without reaping, to read what it wrote from /proc/PID/io
                    pfd = os.pidfd_open(p.pid)
                    try:
                        select.select([pfd], [], [], 600)
                    finally:
                        os.close(pfd)
                    t1 = now()
                    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
                    n = proc_wchar(p.pid)
                    p.wait(timeout=30)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                for f in (p.stdin, p.stdout):
                    if f:
                        f.close()
            err = p.stderr.read().decode(errors="replace").strip()
            p.stderr.close()
            try:
                with open(os.path.join(self.statedir(cid), "monitor.log")) as f:
                    mlog = f.read()
            except FileNotFoundError:
                mlog = ""
            dropped = "dropped" in mlog
            if p.returncode != 0 and not dropped:
                raise BenchError(f"oci attach exit {p.returncode}: {err}")
            if sink == "pipe" and n != size and not dropped:
                raise BenchError(f"oci attach received {n} bytes, expected {size}, no drop noted")
            if n < size and not dropped:
                raise BenchError(f"oci attach wrote {n} bytes, expected {size}, no drop noted")
            n = min(n, size)
            if dropped:
                self.drops.append((sink, n, p.returncode, err))
        finally:
            self.ours_delete(cid, force=True)
        return t1 - t0, n, dropped

    def attach_raw(self, size, sink):
        """The same container under bare runc, its stdout straight to the sink."""
        cid = self.new_id()
        ir, iw = os.pipe()
        orr, ow = os.pipe() if sink == "pipe" else (-1, os.open(os.devnull, os.O_WRONLY))
        pfd = -1
        try:
            pfd = self.runc_detached(cid, ir, ow)
            os.close(ir)
            os.close(ow)
            ir = ow = -1
            run([self.runc, "--root", self.rt, "start", cid])
            time.sleep(0.2)
            t0 = now()
            os.write(iw, b"go\n")
            if sink == "pipe":
                n, t1 = self.drain_count(orr)
                if n != size:
                    raise BenchError(f"runc passthrough: {n} bytes, expected {size}")
            select.select([pfd], [], [], 600)
            if sink != "pipe":
                t1 = now()
        finally:
            for fd in (ir, iw, orr, ow, pfd):
                if fd >= 0:
                    os.close(fd)
            run([self.runc, "--root", self.rt, "delete", "--force", cid], check=False)
        return t1 - t0

    def pty_keystrokes(self, argv, nkeys):
        """Runs argv on a pty in raw mode (a `cat` container's console), sends one
        byte at a time and times its echo. Returns the list of latencies."""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                tty.setraw(0)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.children.add(pid)
        out = bytearray()

        def read_some(timeout):
            r, _, _ = select.select([fd], [], [], timeout)
            if not r:
                return b""
            try:
                b = os.read(fd, 65536)
            except OSError:
                b = b""
            if not b:
                raise BenchError(f"{argv[0]} exited early: {bytes(out[-300:])!r}")
            out.extend(b)
            return b

        lat = []
        try:
            # ready when a byte typed comes back echoed by the container's pty
            deadline = time.monotonic() + 20
            os.write(fd, b"x")
            while b"x" not in out:
                if time.monotonic() > deadline:
                    raise BenchError(f"{argv[0]}: no echo, output {bytes(out[-300:])!r}")
                read_some(0.5)
            while read_some(0.2):
                pass
            for _ in range(nkeys):
                t0 = now()
                os.write(fd, b"a")
                while True:
                    b = read_some(5)
                    if b"a" in b:
                        break
                    if not b:
                        raise BenchError(f"{argv[0]}: keystroke not echoed")
                lat.append(now() - t0)
            os.write(fd, b"\n")
            time.sleep(0.05)
            os.write(fd, b"\x04")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if not read_some(0.2) and os.waitpid(pid, os.WNOHANG)[0] == pid:
                        self.children.discard(pid)
                        break
                except BenchError:
                    break
        finally:
            if pid in self.children:
                try:
                    _, st = os.waitpid(pid, os.WNOHANG)
                    if not _:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
                self.children.discard(pid)
            os.close(fd)
        return lat

    def row6(self):
        size = self.a.attach_mib * MiB
        self.set_config(["/bin/sh", "-c", f"read x; exec dd if=/dev/zero bs=1M count={self.a.attach_mib} 2>/dev/null"])
        for sink, row, label in (("null", "6a", "attach client > /dev/null"),
                                 ("pipe", "6b", "attach client > pipe reader")):
            ours, ref, ndrop, got = [], [], 0, []
            for i in range(self.a.runs):
                for who in (("ours", "raw") if i % 2 == 0 else ("raw", "ours")):
                    if who == "ours":
                        t, n, dropped = self.attach_ours(size, sink)
                        ndrop += dropped
                        got.append(n)
                        ours.append(n / MiB / t)
                    else:
                        ref.append(size / MiB / self.attach_raw(size, sink))
            self.add_row(row, f"{label}  vs runc stdout to the same", "MiB/s", ours, ref,
                         f"runc, stdout {'> /dev/null' if sink == 'null' else 'pipe'}, no monitor")
            if ndrop:
                self.rows[-1]["res"] = f"DROPPED {ndrop}/{len(ours)}"
                self.notes.append(f"row {row}: the monitor dropped the attach client as too slow in {ndrop} of "
                                  f"{len(ours)} runs; median received {median(got) / MiB:.1f} of "
                                  f"{size / MiB:.0f} MiB; oci attach exit codes "
                                  f"{sorted(set(d[2] for d in self.drops if d[0] == sink))}")

        self.set_config(["/bin/cat"], terminal=True)
        o_lat, r_lat = [], []
        for i in range(self.a.key_sessions):
            for who in (("ours", "runc") if i % 2 == 0 else ("runc", "ours")):
                cid = self.new_id()
                if who == "ours":
                    self.ours.add(cid)
                    o_lat += self.pty_keystrokes(self.ocicmd("run", "-b", self.bundle, cid), self.a.keys)
                    if os.path.exists(self.statedir(cid)):
                        self.ours_delete(cid, force=True)
                    self.ours.discard(cid)
                else:
                    r_lat += self.pty_keystrokes([self.runc, "--root", self.rt, "run", "-b", self.bundle, cid],
                                                 self.a.keys)
                    run([self.runc, "--root", self.rt, "delete", "--force", cid], check=False)
        us = lambda xs: [x * 1e6 for x in xs]
        self.add_row("6c", "keystroke echo through PTY  vs runc run -t", "µs", us(o_lat), us(r_lat),
                     "runc's console proxy", n=(len(o_lat), len(r_lat)))
        self.set_config(["/bin/true"])

    # ------------------------------------------------------------ cleanup
    def cleanup(self):
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for pid in list(self.children):
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            for cid in list(self.ours):
                if os.path.exists(self.statedir(cid)):
                    run(self.ocicmd("delete", "-f", cid), check=False)
            for cid in list(self.podmans):
                run([self.podman, "rm", "-f", "--ignore", cid], check=False)
            if self.w:
                for rt in (self.rt if hasattr(self, "rt") else None, getattr(self, "rtc", None)):
                    if rt and os.path.isdir(rt):
                        p = run([self.runc, "--root", rt, "list", "-q"], check=False, capture=True)
                        for cid in p.stdout.decode().split():
                            run([self.runc, "--root", rt, "delete", "--force", cid], check=False)
                for pid in self.conmons.values():
                    if pid:
                        try:
                            wait_gone(pid, 5)
                        except BenchError:
                            os.kill(pid, signal.SIGKILL)
            for m in reversed(self.fuse):
                if run([self.fusermount, "-u", m], check=False).returncode != 0:
                    run([self.fusermount, "-u", "-z", m], check=False)
            for b in reversed(self.bundles):
                if os.path.exists(b):
                    p = run(self.ocicmd("umount", b), check=False)
                    if p.returncode != 0:
                        self.log(f"cleanup: oci umount {b}: {p.stderr.decode().strip()}")
            if self.w and not self.a.keep:
                shutil.rmtree(self.w, ignore_errors=True)
            left = [d for d in os.listdir(self.root) if d.startswith(self.tag)] if os.path.isdir(self.root) else []
            if left:
                self.log(f"cleanup: left behind under {self.root}: {left}")
        finally:
            signal.signal(signal.SIGINT, old)

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
            f"runs      {a.runs} per row (interleaved); row 3: {max(3, min(a.runs, 7))} each + {a.idle} idle "
            f"containers at once; row 4: {a.log_runs} x {a.log_mib} MiB; row 5: {a.big_mib} MiB image; "
            f"row 6: {a.attach_mib} MiB, {a.key_sessions} x {a.keys} keystrokes"
            + ("  [--quick]" if a.quick else ""),
        ]
        return h

    def table(self):
        hdr = ["#", "benchmark", "unit", "ours", "reference", "ratio", "goal", "result"]
        lines = []
        for r in self.rows:
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


def fmt(x):
    if x != x:
        return "nan"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller sizes (CI)")
    ap.add_argument("--runs", type=int, help="repetitions per row (default 15, quick 5)")
    ap.add_argument("--only", type=lambda s: [int(x) for x in s.split(",")], help="rows to run, e.g. 1,5")
    ap.add_argument("--no-podman", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a goal is missed")
    ap.add_argument("--verify-all", action="store_true", help="parse every row-4 log, not just the first")
    a = ap.parse_args()
    a.runs = a.runs or (5 if a.quick else 15)
    a.log_runs = min(a.runs, 3 if a.quick else 9)
    a.log_mib = 50 if a.quick else 500
    a.attach_mib = 50 if a.quick else 200
    a.big_mib = 1024
    a.idle = 20 if a.quick else 100
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
    rc = 0
    try:
        head = b.header()
        b.setup()
        for row in (1, 2, 3, 4, 5, 6):
            if b.want(row):
                b.log(f"row {row} ...")
                t0 = time.monotonic()
                try:
                    getattr(b, f"row{row}")()
                except BenchError as e:
                    if interrupted:  # a clean-up error hid the interrupt
                        raise KeyboardInterrupt
                    rc = 1
                    b.log(f"row {row} FAILED: {e}")
                    b.notes.append(f"row {row} failed: {e}")
                b.log(f"row {row} took {time.monotonic() - t0:.0f} s")
    except KeyboardInterrupt:
        b.log("interrupted, cleaning up")
        rc = 130
    finally:
        b.cleanup()
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
