# SPDX-License-Identifier: Apache-2.0
"""Helpers of the benchmarks: running commands, waiting for files and
processes, reading /proc, parsing kubernetes logs, formatting."""

import ctypes
import os
import re
import select
import statistics
import subprocess
import time

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


def fmt(x):
    if x != x:
        return "nan"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"

