# SPDX-License-Identifier: Apache-2.0
"""Rows 4 and 6: container output into the log and through `oci attach`
(and a pty), against conmon and bare runc."""

import json
import os
import pty
import select
import signal
import subprocess
import time
import tty

from util import DEVNULL, LINE, MiB, BenchError, DirWatch, k8s_payload, median, now, proc_wchar, run


class IoRows:
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
            self.fail_here(4, f"container {cid} created")
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
                self.fail_here(6, f"container {cid} and an attach client running")
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
                    self.check_run_gone(cid)
                    self.ours.discard(cid)
                else:
                    r_lat += self.pty_keystrokes([self.runc, "--root", self.rt, "run", "-b", self.bundle, cid],
                                                 self.a.keys)
                    run([self.runc, "--root", self.rt, "delete", "--force", cid], check=False)
        us = lambda xs: [x * 1e6 for x in xs]
        self.add_row("6c", "keystroke echo through PTY  vs runc run -t", "µs", us(o_lat), us(r_lat),
                     "runc's console proxy", n=(len(o_lat), len(r_lat)))
        self.set_config(["/bin/true"])

