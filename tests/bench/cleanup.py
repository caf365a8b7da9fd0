# SPDX-License-Identifier: Apache-2.0
"""What the bench leaves on the machine, and taking it back.

Every container, monitor, child, FUSE mount and `oci mount` bundle is
registered before it is made. reclaim() undoes all of them but the main
bundle (after a failed row, and at the end); cleanup() then unmounts the
main bundle and removes the work directory -- only when nothing is mounted
under it any more, and never across a mount point (remove_tree). A mount
that will not go is reported and its directory kept: deleting through a
live mount destroys whatever is mounted there (the bundle's
.sifoci-mount.json, the image), and `oci umount` could not undo it."""

import os
import re
import signal
import stat
import time

from util import BenchError, run, wait_gone

UMOUNT_TIMEOUT = 60  # seconds of retrying a busy unmount


def _unescape(s):
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mounts_under(top):
    """Mount points (in our mount namespace) at top or below it, deepest first."""
    top = os.path.realpath(top).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for ln in f:
            mp = _unescape(ln.split()[4])
            if mp == top or mp.startswith(top + "/"):
                out.append(mp)
    return sorted(set(out), key=len, reverse=True)


def remove_tree(top):
    """rm -r that never crosses a mount: refuses (BenchError, nothing removed)
    when /proc/self/mountinfo shows a mount at or under top, and while
    walking skips and reports any directory on another device than top."""
    if not os.path.lexists(top):
        return
    live = mounts_under(top)
    if live:
        raise BenchError(f"not removing {top}: still mounted under it: {' '.join(live)}")
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        dev = os.fstat(fd).st_dev
        crossed = []
        _remove_at(fd, top, dev, crossed)
    finally:
        os.close(fd)
    if crossed:
        raise BenchError(f"not removing {top}: other file systems under it: {' '.join(crossed)}")
    os.rmdir(top)


def _remove_at(dfd, path, dev, crossed):
    with os.scandir(dfd) as it:
        entries = list(it)
    for e in entries:
        st = os.lstat(e.name, dir_fd=dfd)
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(e.name, dir_fd=dfd)
            continue
        sub = os.path.join(path, e.name)
        if st.st_dev != dev:
            crossed.append(sub)
            continue
        cfd = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        try:
            if os.fstat(cfd).st_dev != dev:  # mounted on between lstat and open
                crossed.append(sub)
                continue
            n = len(crossed)
            _remove_at(cfd, sub, dev, crossed)
        finally:
            os.close(cfd)
        if len(crossed) == n:
            os.rmdir(e.name, dir_fd=dfd)


def pids_with_arg(arg):
    """Processes with `arg` as one of their arguments (a FUSE daemon has its
    mount point there)."""
    out = []
    want = os.fsencode(arg)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if want in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


class Cleanup:
    """Mixin of Bench: the registry (ours, conmons, podmans, children, fuse,
    bundles) is set up in Bench.__init__."""

    # ------------------------------------------------------------ FUSE
    def fuse_unmount(self, mnt, pids=None, timeout=UMOUNT_TIMEOUT):
        """fusermount3 -u, retried while busy (a daemon of an upper mount still
        letting go, a copy of the namespace made by someone's unshare -m), then
        waits for the daemon to exit. After `timeout`, `fusermount3 -u -z` and
        a SIGTERM to a daemon we started that still will not exit. Returns
        None, or what the last resort was (for the row's note)."""
        if pids is None:
            pids = pids_with_arg(mnt)
        deadline = time.monotonic() + timeout
        delay, last, how = 0.002, "", None
        while mnt in mounts_under(mnt):
            p = run([self.fusermount, "-u", mnt], check=False)
            if p.returncode == 0:
                break
            last = p.stderr.decode(errors="replace").strip()
            if time.monotonic() > deadline:
                self.log(f"{mnt}: {last}; unmounting lazily (fusermount3 -u -z)")
                run([self.fusermount, "-u", "-z", mnt], check=False)
                how = "fusermount3 -u -z"
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        if mnt in mounts_under(mnt):
            raise BenchError(f"{mnt} is still mounted: {last}")
        for pid in pids:
            try:
                wait_gone(pid, 10)
            except BenchError:
                self.log(f"{mnt}: FUSE daemon {pid} did not exit, SIGTERM")
                try:
                    os.kill(pid, signal.SIGTERM)
                    wait_gone(pid, 10)
                except (ProcessLookupError, BenchError):
                    pass
                how = (how + ", " if how else "") + "SIGTERM to its daemon"
        if mnt in self.fuse:
            self.fuse.remove(mnt)
        return how

    # ------------------------------------------------------------ oci mount
    def oci_umount(self, b, timeout=UMOUNT_TIMEOUT):
        """oci umount, retried for `timeout` s: it refuses while the overlay is
        also mounted in another mount namespace (another test's unshare -m
        copied it) and a busy mount. BenchError when it will not go."""
        deadline = time.monotonic() + timeout
        while True:
            p = run(self.ocicmd("umount", b), check=False)
            if p.returncode == 0 or (not os.path.lexists(os.path.join(b, ".sifoci-mount.json"))
                                     and not mounts_under(b)):
                if b in self.bundles:
                    self.bundles.remove(b)
                return
            err = p.stderr.decode(errors="replace").strip()
            if time.monotonic() > deadline:
                raise BenchError(f"oci umount {b}: {err}")
            time.sleep(0.5)

    # ------------------------------------------------------------ all of it
    def reclaim(self, keep=()):
        """Undoes everything registered but the bundles in `keep`; returns the
        list of what could not be undone."""
        problems = []

        def attempt(what, fn, *args):
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - report, go on with the rest
                problems.append(f"{what}: {e}")
                self.log(f"cleanup: {what}: {e}")

        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.children.discard(pid)
        for cid in list(self.ours):
            if os.path.exists(self.statedir(cid)):
                p = run(self.ocicmd("delete", "-f", cid), check=False)
                # (a run's monitor may have removed it meanwhile)
                if p.returncode != 0 and b"does not exist" not in p.stderr:
                    problems.append(f"oci delete -f {cid}: {p.stderr.decode(errors='replace').strip()}")
                    continue
            self.ours.discard(cid)
        for cid in list(self.podmans):
            run([self.podman, "rm", "-f", "--ignore", cid], check=False, timeout=120)
            self.podmans.discard(cid)
        for rt in (getattr(self, "rt", None), getattr(self, "rtc", None)):
            if rt and os.path.isdir(rt):
                p = run([self.runc, "--root", rt, "list", "-q"], check=False, capture=True)
                for cid in p.stdout.decode().split():
                    run([self.runc, "--root", rt, "delete", "--force", cid], check=False)
        for cid, pid in list(self.conmons.items()):
            if pid:
                try:
                    wait_gone(pid, 5)
                except BenchError:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        wait_gone(pid, 5)
                    except (ProcessLookupError, BenchError):
                        pass
            self.conmons.pop(cid, None)
        for m in reversed(list(self.fuse)):
            attempt(f"fusermount3 -u {m}", self.fuse_unmount, m)
        for b in reversed(list(self.bundles)):
            if b not in keep:
                attempt(f"oci umount {b}", self.oci_umount, b)
        if not keep:  # a row's own things (the rootless user) go at the very end
            for what, fn in getattr(self, "extra_cleanups", []):
                attempt(what, fn)
        return problems

    def cleanup(self):
        """Everything, the work directory last. Idempotent; signals are held
        off while it runs. Returns the list of what was left behind."""
        if self.cleaned:
            return []
        self.cleaned = True
        held = {}
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            held[sig] = signal.signal(sig, lambda s, f: self.log(f"signal {s} during clean-up: finishing it first"))
        try:
            problems = self.reclaim()
            if self.w and not self.a.keep:
                live = mounts_under(self.w)
                if live:
                    problems.append(f"kept {self.w}: still mounted under it: {' '.join(live)}")
                else:
                    try:
                        remove_tree(self.w)
                    except (BenchError, OSError) as e:
                        problems.append(str(e))
            left = [d for d in os.listdir(self.root) if d.startswith(self.tag)] if os.path.isdir(self.root) else []
            if left:
                problems.append(f"left behind under {self.root}: {left}")
            for p in problems:
                self.log(f"cleanup: {p}")
            return problems
        finally:
            for sig, h in held.items():
                signal.signal(sig, h)
