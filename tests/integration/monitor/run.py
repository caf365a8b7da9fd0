#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration checks for oci-monitor with the real runc (root only).

Usage: OCI_MONITOR=BUILD/monitor/oci-monitor tests/integration/monitor/run.py [-v] [-k NAME] [--bench]
       (`meson test -C BUILD monitor` sets OCI_MONITOR)
Env:   OCI_MONITOR (required), RUNC (default: runc in PATH),
       BUSYBOX (default: /bin/busybox, static)
Output is TAP.  Every container ID starts with montest-; containers, state
dirs and processes are cleaned up on exit, also on Ctrl-C.
"""
import argparse
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

MONITOR = os.environ.get("OCI_MONITOR", "")
RUNC = os.environ.get("RUNC") or shutil.which("runc") or "runc"
BUSYBOX = os.environ.get("BUSYBOX", "/bin/busybox")

HELLO, STDOUT, STDERR, EXIT, STDIN, RESIZE, CLOSE_STDIN, DETACH = range(1, 9)
MAX_FRAME = 32769

VERBOSE = False
WORK = None
CONTAINERS = []  # (state_dir, id)
PIDS = []        # monitor pids we started
N = 0
FAILED = 0


def log(*a):
    if VERBOSE:
        print("#", *a, flush=True)


def ok(cond, name, diag=None):
    global N, FAILED
    N += 1
    print(("ok" if cond else "not ok"), N, "-", name, flush=True)
    if not cond:
        FAILED += 1
        if diag:
            for line in str(diag).splitlines()[:20]:
                print("#   " + line)
    return cond


# ---------------------------------------------------------------- fixtures

def make_rootfs():
    root = os.path.join(WORK, "rootfs")
    os.makedirs(os.path.join(root, "bin"))
    for d in ("proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(BUSYBOX, os.path.join(root, "bin/busybox"))
    names = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split()
    for n in names:
        if n != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", n))
    spec_dir = os.path.join(WORK, "spec")
    os.makedirs(spec_dir)
    subprocess.run([RUNC, "spec", "--bundle", spec_dir], check=True)
    with open(os.path.join(spec_dir, "config.json")) as f:
        spec = json.load(f)
    spec["root"] = {"path": root, "readonly": True}
    return spec


SPEC = None


def bundle(name, args, terminal=False):
    d = os.path.join(WORK, "bundles", name)
    os.makedirs(d)
    spec = json.loads(json.dumps(SPEC))
    spec["process"]["args"] = args
    spec["process"]["terminal"] = terminal
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(spec, f)
    return d


class Mon:
    """One oci-monitor run."""

    def __init__(self, name, args, terminal=False, extra=(), runtime=None, log_path=None,
                 timeout=30):
        self.id = "montest-%d-%s" % (os.getpid(), name)
        self.bundle = bundle(name, args, terminal)
        self.state = os.path.join(WORK, "state", self.id)
        os.makedirs(self.state, mode=0o700)
        CONTAINERS.append((self.state, self.id))
        self.log = log_path or os.path.join(self.state, "container.log")
        r, w = os.pipe()
        cmd = [MONITOR, "--id", self.id, "--bundle", self.bundle, "--state-dir", self.state,
               "--runtime", runtime or RUNC, "--log-path", self.log, "--report-fd", str(w)]
        if terminal:
            cmd.append("--terminal")
        cmd += list(extra)
        log("run", " ".join(cmd))
        self.proc = subprocess.Popen(cmd, pass_fds=(w,), stdin=subprocess.DEVNULL)
        PIDS.append(self.proc.pid)
        os.close(w)
        self.report_raw = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            rl, _, _ = select.select([r], [], [], 0.2)
            if rl:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                self.report_raw += chunk
        os.close(r)
        self.report = None
        try:
            self.report = json.loads(self.report_raw)
        except ValueError:
            pass
        # The monitor keeps the pid it was started with (it forks only when
        # started as a process group leader); monitor.pid has it.
        self.pid = self.proc.pid
        try:
            with open(os.path.join(self.state, "monitor.pid")) as f:
                self.pid = int(f.read())
                PIDS.append(self.pid)
        except (OSError, ValueError):
            pass

    def runc(self, *args, check=False):
        return subprocess.run([RUNC, "--root", os.path.join(self.state, "runtime")] + list(args),
                              capture_output=True, text=True, check=check)

    def start(self):
        return self.runc("start", self.id, check=True)

    def exit_record(self, timeout=60):
        path = os.path.join(self.state, "exit.json")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    return json.load(f)
            time.sleep(0.002)
        return None

    def wait_monitor(self, timeout=30):
        """Exit status of the monitor."""
        if self.pid == self.proc.pid:
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == self.pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.005)
        return None

    def attach(self):
        return Client(self.state)


class Client:
    def __init__(self, state):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        dfd = os.open(state, os.O_PATH)
        try:
            self.s.connect("/proc/self/fd/%d/attach" % dfd)
        finally:
            os.close(dfd)
        self.out = bytearray()
        self.err = bytearray()
        self.exit = None
        self.hello = None
        self.closed = False

    def send(self, t, payload=b""):
        self.s.send(bytes([t]) + payload)

    def resize(self, rows, cols):
        self.send(RESIZE, struct.pack("<HH", rows, cols))

    def pump(self, timeout=60, until=None):
        """Read frames until EOF (or UNTIL(self) is true)."""
        deadline = time.time() + timeout
        while not self.closed and time.time() < deadline:
            if until and until(self):
                return True
            r, _, _ = select.select([self.s], [], [], 0.2)
            if not r:
                continue
            try:
                f = self.s.recv(MAX_FRAME + 1)
            except ConnectionResetError:
                f = b""
            if not f:
                self.closed = True
                break
            t = f[0]
            if t == HELLO:
                self.hello = (f[1], f[2])
            elif t == STDOUT:
                self.out += f[1:]
            elif t == STDERR:
                self.err += f[1:]
            elif t == EXIT:
                self.exit = struct.unpack("<ii", f[1:9])
            else:
                raise RuntimeError("bad frame type %d" % t)
        return until(self) if until else self.closed

    def close(self):
        self.s.close()


def parse_k8s_log(path):
    """stream -> bytes, plus the records."""
    out = {"stdout": bytearray(), "stderr": bytearray()}
    records = []
    with open(path, "rb") as f:
        data = f.read()
    for line in data.split(b"\n")[:-1]:
        ts, stream, tag, text = line.split(b" ", 3)
        records.append((stream.decode(), tag.decode(), len(text)))
        out[stream.decode()] += text
        if tag == b"F":
            out[stream.decode()] += b"\n"
    return out, records


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def gone(path):
    return not os.path.exists(path)


# ---------------------------------------------------------------- tests

def t_exit_code():
    m = Mon("exit7", ["sh", "-c", "echo out; echo err >&2; printf partial; exit 7"])
    ok(m.report and "pid" in m.report, "create reports the pid", m.report_raw)
    mode = os.stat(os.path.join(m.state, "attach")).st_mode
    ok(mode == 0o140600, "attach socket mode 0600", oct(mode))
    c = m.attach()
    c.pump(timeout=2, until=lambda c: c.hello is not None)
    ok(c.hello == (0, 1), "HELLO: no terminal, created", c.hello)
    m.start()
    c.pump()
    ok(c.exit == (7, 0), "EXIT frame carries 7", c.exit)
    ok(bytes(c.out) == b"out\npartial" and bytes(c.err) == b"err\n",
       "stdout and stderr are separate frames", (c.out, c.err))
    rec = m.exit_record()
    ok(rec and rec["exitCode"] == 7 and rec["signal"] == 0 and rec["finishedAt"].endswith("Z"),
       "exit.json has exitCode 7", rec)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    with open(m.log) as f:
        lines = f.read().splitlines()
    kinds = [l.split(" ", 1)[1] for l in lines]
    ok(kinds.count("stdout F out") == 1 and "stderr F err" in kinds and
       kinds[-1] == "stdout F " and "stdout P partial" in kinds,
       "kubernetes log: F lines, P partial, final empty F", "\n".join(lines))
    ok(all(len(l.split(" ")[0]) == 30 for l in lines), "timestamps have 9 fractional digits")
    ok(gone(os.path.join(m.state, "attach")) and gone(os.path.join(m.state, "monitor.pid")),
       "attach socket and monitor.pid removed at exit")
    c.close()


def t_signal_exit():
    m = Mon("sig", ["sleep", "1000"])
    m.start()
    m.runc("kill", m.id, "KILL")
    rec = m.exit_record()
    ok(rec and rec["exitCode"] == 137 and rec["signal"] == 9, "signal exit: 128+9, signal 9", rec)
    m.wait_monitor()


def expected_lines(total):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef\n"
    reps = total // len(line) + 1
    return (line * reps)[:total], line


def t_10mib():
    total = 10 * 1024 * 1024
    want, line = expected_lines(total)
    m = Mon("10m", ["sh", "-c", "yes %s | head -c %d" % (line[:-1].decode(), total)])
    m.start()
    rec = m.exit_record()
    ok(rec and rec["exitCode"] == 0, "10 MiB container exits 0", rec)
    m.wait_monitor()
    out, records = parse_k8s_log(m.log)
    # the output ends inside a line: the final empty F record closes it
    ok(len(out["stdout"]) == total + 1 and hashlib.sha256(out["stdout"]).digest() ==
       hashlib.sha256(want + b"\n").digest(), "10 MiB fully in the log, byte for byte",
       "got %d bytes" % len(out["stdout"]))
    ok(records[-1][1] == "F", "the last record is F")


def t_slow_client():
    # A client that connects and never reads holds the container back for
    # the grace period (2 s), then it is dropped and the output flows.
    total = 200 * 1024 * 1024
    m = Mon("slow", ["sh", "-c", "head -c %d /dev/zero" % total])
    c = m.attach()  # connects and never reads
    t0 = time.time()
    m.start()
    rec = m.exit_record(timeout=120)
    dt = time.time() - t0
    ok(rec and rec["exitCode"] == 0, "container writing 200 MiB finishes while a client never reads",
       rec)
    log("200 MiB with a stuck client in %.2f s" % dt)
    ok(2 <= dt < 15, "it waited for the stuck client about the grace period (%.1f s)" % dt)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    size = 0
    with open(m.log, "rb") as f:
        for line in f:
            ts, stream, tag, text = line.split(b" ", 3)
            size += len(text) - 1
    ok(size == total, "the log has all 200 MiB", "got %d" % size)
    with open(os.path.join(m.state, "monitor.log")) as f:
        notes = f.read()
    ok("attach client dropped" in notes, "the stuck client was dropped", notes)
    c.close()


def expected_digest(total):
    """sha256 of expected_lines(total)[0] without holding it all."""
    _, line = expected_lines(0)
    block = line * ((1 << 20) // len(line))
    h = hashlib.sha256()
    left = total
    while left >= len(block):
        h.update(block)
        left -= len(block)
    h.update((line * (left // len(line) + 1))[:left])
    return h.hexdigest()


def lines_producer(total):
    _, line = expected_lines(0)
    return ["sh", "-c", "yes %s | head -c %d" % (line[:-1].decode(), total)]


def read_stream(c, sink, per_tick=None, tick=0.0, timeout=300):
    """Reads C to its end, handing STDOUT payloads to SINK; with PER_TICK,
    at most that many bytes per TICK seconds.  -> (bytes, EXIT or None)."""
    n = 0
    deadline = time.time() + timeout
    c.s.settimeout(timeout)
    while time.time() < deadline:
        got = 0
        while per_tick is None or got < per_tick:
            try:
                f = c.s.recv(MAX_FRAME + 1)
            except (ConnectionResetError, socket.timeout):
                f = b""
            if not f:
                return n, c.exit
            if f[0] == STDOUT:
                sink(f[1:])
                n += len(f) - 1
                got += len(f) - 1
            elif f[0] == EXIT:
                c.exit = struct.unpack("<ii", f[1:9])
            elif f[0] != HELLO:
                raise RuntimeError("unexpected frame type %d" % f[0])
        time.sleep(tick)
    return n, c.exit


def notes(m):
    try:
        with open(os.path.join(m.state, "monitor.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def t_slow_reader():
    # Backpressure: a client that reads 1 MiB every 50 ms holds the container
    # back but is never dropped, and gets exactly what the log got.
    total = 100 << 20
    m = Mon("slowread", lines_producer(total))
    c = m.attach()
    m.start()
    t0 = time.time()
    h = hashlib.sha256()
    n, ex = read_stream(c, h.update, per_tick=1 << 20, tick=0.05)
    dt = time.time() - t0
    log("100 MiB to a client reading 1 MiB / 50 ms in %.1f s" % dt)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    out, _ = parse_k8s_log(m.log)
    ok(n == total and h.hexdigest() == expected_digest(total),
       "a client reading slowly gets all 100 MiB, byte for byte", "got %d" % n)
    ok(len(out["stdout"]) == total + 1 and
       hashlib.sha256(out["stdout"][:-1]).hexdigest() == h.hexdigest(),
       "and exactly what the log has", "log has %d" % len(out["stdout"]))
    ok(ex == (0, 0), "then EXIT", ex)
    ok(dt > 4, "the container was held back to the client's pace (%.1f s)" % dt)
    ok("dropped" not in notes(m), "the slow client was not dropped", notes(m))
    c.close()


def t_terminal_slow_reader():
    # The same through a pty: 20 MiB without newlines (no \r\n added),
    # a client taking 1 MiB every 50 ms.
    total = 20 << 20
    m = Mon("ttyslow", ["sh", "-c", "yes x | tr -d '\\n' | head -c %d" % total], terminal=True)
    c = m.attach()
    m.start()
    xs = [0]
    n, ex = read_stream(c, lambda b: xs.__setitem__(0, xs[0] + b.count(b"x")),
                        per_tick=1 << 20, tick=0.05)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    out, _ = parse_k8s_log(m.log)
    ok(n == total and xs[0] == total and ex == (0, 0),
       "terminal: a slow client gets all 20 MiB, then EXIT", (n, xs[0], ex))
    ok(len(out["stdout"]) == total + 1, "and the log has it", len(out["stdout"]))
    ok("dropped" not in notes(m), "not dropped", notes(m))
    c.close()


def t_fast_client():
    # A client that reads as fast as it can is never dropped: 5 runs of
    # 200 MiB, odd runs through a pipe into sha256sum.
    total = 200 << 20
    want = expected_digest(total)
    for i in range(5):
        m = Mon("fast%d" % i, lines_producer(total))
        c = m.attach()
        m.start()
        t0 = time.time()
        if i % 2:
            p = subprocess.Popen(["sha256sum"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            n, ex = read_stream(c, p.stdin.write)
            p.stdin.close()
            digest = p.stdout.read().split()[0].decode()
            p.wait()
        else:
            h = hashlib.sha256()
            n, ex = read_stream(c, h.update)
            digest = h.hexdigest()
        dt = time.time() - t0
        log("fast run %d: 200 MiB to a full-speed client%s in %.2f s" %
            (i, " (via a pipe)" if i % 2 else "", dt))
        ok(n == total and digest == want and ex == (0, 0),
           "fast client, run %d%s: all 200 MiB and EXIT" % (i + 1, " (pipe)" if i % 2 else ""),
           "got %d bytes, exit %r, notes: %s" % (n, ex, notes(m)))
        ok(m.wait_monitor() == 0 and "dropped" not in notes(m), "not dropped, monitor exits 0",
           notes(m))
        os.unlink(m.log)
        c.close()


def t_exit_while_paused():
    # The container writes 2.5 MiB (more than a client queue takes before
    # reading pauses, plus a socket buffer), then 0.5 MiB more, and exits
    # while reading is paused with output left in its pipe.  One client
    # starts reading after 1.5 s (within the grace period), one never
    # reads: the exit waits, the stuck client is dropped, the reader gets
    # everything and then EXIT; the log has it all.
    a_len, b_len = 5 << 19, 1 << 19
    total = a_len + b_len
    m = Mon("exitpaused", ["sh", "-c", "yes abcdefghi | head -c %d; sleep 0.3; "
                           "yes abcdefghi | head -c %d; exit 3" % (a_len, b_len)])
    late, stuck = m.attach(), m.attach()
    m.start()
    t0 = time.time()
    status = None
    while status != "stopped" and time.time() < t0 + 1.4:
        time.sleep(0.05)
        st = m.runc("state", m.id)
        status = json.loads(st.stdout)["status"] if st.returncode == 0 else st.stderr
    ok(status == "stopped" and gone(os.path.join(m.state, "exit.json")),
       "container gone, exit.json waits for the output still in its pipe", status)
    time.sleep(max(0.0, t0 + 1.5 - time.time()))
    h = hashlib.sha256()
    n, ex = read_stream(late, h.update)
    log("late reader done after %.2f s" % (time.time() - t0))
    want = (b"abcdefghi\n" * (a_len // 10 + 1))[:a_len] + (b"abcdefghi\n" * (b_len // 10 + 1))[:b_len]
    ok(n == total and h.digest() == hashlib.sha256(want).digest() and ex == (3, 0),
       "a client that reads late gets all of it, then EXIT 3", (n, ex))
    rec = m.exit_record()
    ok(rec and rec["exitCode"] == 3, "exit.json says 3", rec)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    stuck.pump(timeout=5)
    ok(stuck.closed and stuck.exit is None and "attach client dropped" in notes(m),
       "the client that never reads was dropped", notes(m))
    out, _ = parse_k8s_log(m.log)
    # (it ends inside a line: the final empty F record closes it)
    ok(bytes(out["stdout"]) == want + b"\n", "the log has all of it", len(out["stdout"]))
    late.close()
    stuck.close()


def t_two_clients():
    m = Mon("two", ["sh", "-c", "seq 1 200000; seq 1 1000 >&2"])
    a, b = m.attach(), m.attach()
    m.start()
    a.pump()
    b.pump()
    want = "".join("%d\n" % i for i in range(1, 200001)).encode()
    want_err = "".join("%d\n" % i for i in range(1, 1001)).encode()
    ok(bytes(a.out) == want and bytes(b.out) == want, "two clients both get all stdout",
       (len(a.out), len(b.out), len(want)))
    ok(bytes(a.err) == want_err and bytes(b.err) == want_err, "and all stderr")
    ok(a.exit == (0, 0) and b.exit == (0, 0), "both get EXIT")
    m.wait_monitor()


def t_stdin_pipe():
    m = Mon("stdin", ["sh", "-c", "cat; echo done"])
    c = m.attach()
    m.start()
    payload = b"x" * 100000 + b"\n"
    for i in range(0, len(payload), 30000):
        c.send(STDIN, payload[i:i + 30000])
    c.send(CLOSE_STDIN)
    c.pump()
    ok(bytes(c.out) == payload + b"done\n", "stdin reaches the container, CLOSE_STDIN ends it",
       len(c.out))
    ok(c.exit == (0, 0), "exit 0 after stdin EOF", c.exit)
    m.wait_monitor()


def t_stdin_not_read():
    # The container never reads stdin; a client pushes 8 MiB at it.  The
    # monitor must keep serving output and exit normally.
    m = Mon("noread", ["sh", "-c", "sleep 3; echo alive"])
    c = m.attach()
    m.start()
    c.s.setblocking(False)
    sent = 0
    chunk = b"\0" * 30000
    deadline = time.time() + 2
    while sent < 8 << 20 and time.time() < deadline:
        try:
            c.send(STDIN, chunk)
            sent += len(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    with open("/proc/%d/status" % m.pid) as f:
        rss = [l for l in f if l.startswith("VmRSS")][0].split()[1]
    log("monitor VmRSS with a full stdin queue: %s kB" % rss)
    c.s.setblocking(True)
    c.pump()
    ok(bytes(c.out) == b"alive\n" and c.exit == (0, 0),
       "stdin nobody reads does not block the monitor (%d KiB pushed)" % (sent // 1024), c.out)
    m.wait_monitor()


def t_terminal_resize():
    m = Mon("tty", ["sh", "-c", "stty size; read x; stty size; echo got:$x"], terminal=True)
    ok(m.report and "pid" in m.report, "terminal create reports the pid", m.report_raw)
    c = m.attach()
    c.resize(40, 120)  # before start (and the pty exists already)
    c.pump(timeout=2, until=lambda c: c.hello is not None)
    ok(c.hello == (1, 1), "HELLO: terminal, created", c.hello)
    m.start()
    c.pump(timeout=10, until=lambda c: b"40 120" in c.out)
    ok(b"40 120" in c.out, "stty size sees the resize", bytes(c.out))
    c.resize(50, 132)
    time.sleep(0.2)
    c.send(STDIN, b"hello\r")
    c.pump()
    ok(b"50 132" in c.out and b"got:hello" in c.out, "second resize and stdin through the pty",
       bytes(c.out))
    ok(c.exit == (0, 0), "terminal container exits 0", c.exit)
    m.wait_monitor()
    with open(m.log, newline="") as f:
        text = f.read()
    ok(" stdout F 40 120\r" in text and "stderr" not in text, "terminal output logged as stdout",
       text)


def t_resize_before_pty():
    # A resize sent while `runc create` is still running is applied when
    # the pty arrives.  A slow runtime wrapper makes the window wide.
    wrapper = os.path.join(WORK, "slow-runc.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nsleep 1\nexec %s \"$@\"\n" % RUNC)
    os.chmod(wrapper, 0o755)
    m_id = "montest-%d-early" % os.getpid()
    state = os.path.join(WORK, "state", m_id)
    # Start the monitor by hand so we can attach before create finishes.
    b = bundle("early", ["stty", "size"], terminal=True)
    os.makedirs(state, mode=0o700)
    CONTAINERS.append((state, m_id))
    r, w = os.pipe()
    p = subprocess.Popen([MONITOR, "--id", m_id, "--bundle", b, "--state-dir", state,
                          "--runtime", wrapper, "--log-path", os.path.join(state, "log"),
                          "--terminal", "--report-fd", str(w)], pass_fds=(w,))
    os.close(w)
    # the socket's path exists from bind(); it takes connections from
    # listen(), a moment later (much later under ASan on a busy machine)
    deadline = time.time() + 30
    while True:
        try:
            c = Client(state)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.time() > deadline:
                raise
            time.sleep(0.01)
    c.resize(33, 77)
    rep = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        rep += chunk
    os.close(r)
    with open(os.path.join(state, "monitor.pid")) as f:
        mpid = int(f.read())
        PIDS.append(mpid)
    subprocess.run([RUNC, "--root", os.path.join(state, "runtime"), "start", m_id], check=True)
    c.pump()
    ok(b"33 77" in c.out, "resize before the pty exists is applied", (rep, bytes(c.out)))
    ok(p.wait(timeout=10) == 0 and mpid == p.pid, "monitor keeps its pid and exits 0")


def t_create_failure():
    m = Mon("fail", ["/nonexistent"])
    raw = m.report_raw
    ok(raw.endswith(b"\n") and raw.count(b"\n") == 1 and m.report and "error" in m.report,
       "create failure reports one {\"error\"} line", raw)
    ok(m.report and "nonexistent" in m.report.get("error", ""), "with the runtime's message",
       m.report)
    ok(m.pid is not None and m.wait_monitor() == 1, "monitor exits 1", m.pid)
    ok(m.pid is None or not proc_alive(m.pid), "no monitor process left")
    lst = m.runc("list", "-q").stdout.split()
    ok(m.id not in lst and gone(os.path.join(m.state, "runtime", m.id)), "no runtime state left",
       lst)
    ok(gone(os.path.join(m.state, "attach")) and gone(os.path.join(m.state, "monitor.pid")),
       "no socket, no monitor.pid")
    ok(gone(m.log), "the log file it created is gone")
    leftovers = subprocess.run(["pgrep", "-f", m.id], capture_output=True, text=True).stdout
    ok(leftovers.strip() == "", "no process mentions the container", leftovers)


def t_create_timeout():
    hang = 9000000 + os.getpid()  # a sleep only this harness run starts
    fake = os.path.join(WORK, "hang-runtime.sh")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ncase \" $* \" in *' create '*) exec sleep %d;; esac\nexit 0\n" % hang)
    os.chmod(fake, 0o755)
    t0 = time.time()
    m = Mon("hang", ["true"], runtime=fake, extra=["--create-timeout", "1"])
    dt = time.time() - t0
    ok(m.report and "timed out" in m.report.get("error", ""), "create timeout reported",
       m.report_raw)
    ok(dt < 5, "within the timeout (%.1f s)" % dt)
    ok(m.wait_monitor() == 1, "monitor exits 1")
    left = subprocess.run(["pgrep", "-f", "sleep %d" % hang], capture_output=True, text=True).stdout
    ok(left.strip() == "" or all(not proc_alive(int(p)) for p in left.split()),
       "the hung runtime was killed", left)


def t_monitor_sigkill():
    m = Mon("kill9", ["sleep", "1000"])
    m.start()
    time.sleep(0.2)
    os.kill(m.pid, signal.SIGKILL)
    m.wait_monitor()
    time.sleep(0.2)
    st = m.runc("state", m.id)
    state = json.loads(st.stdout)["status"] if st.returncode == 0 else st.stderr
    ok(state == "running", "container survives SIGKILL of its monitor", state)
    m.runc("delete", "--force", m.id)


def t_sigterm_forward():
    m = Mon("term", ["sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done"])
    c = m.attach()
    m.start()
    c.pump(timeout=5, until=lambda c: b"ready" in c.out)
    c2 = m.attach()
    c2.pump(timeout=2, until=lambda c: c.hello is not None)
    ok(c2.hello == (0, 2), "HELLO after start says running", c2.hello)
    c2.send(DETACH)
    os.kill(m.pid, signal.SIGTERM)
    c.pump()
    ok(c.exit == (3, 0), "SIGTERM to the monitor reaches the container", c.exit)
    m.wait_monitor()


def t_log_enospc():
    # a 16 KiB tmpfs (the log must be a regular file: /dev/full is refused)
    full = os.path.join(WORK, "full")
    os.mkdir(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "montest-full", full], check=True)
    try:
        m = Mon("enospc", ["sh", "-c", "seq 1 20000; echo end"],
                log_path=os.path.join(full, "ctr.log"))
        c = m.attach()
        m.start()
        c.pump()
        want = "".join("%d\n" % i for i in range(1, 20001)).encode() + b"end\n"
        ok(bytes(c.out) == want and c.exit == (0, 0), "log on a full disk: the client still gets "
           "everything and the exit", (len(c.out), c.exit))
        ok(m.wait_monitor() == 0, "monitor exits 0")
    finally:
        subprocess.run(["umount", full])
        os.rmdir(full)
    with open(os.path.join(m.state, "monitor.log")) as f:
        notes = f.read()
    ok(notes.count("No space left") == 1, "the write error is reported once", notes)


def t_unknown_exit():
    # A runtime whose container is not our child (here: a process of the
    # harness): the monitor can only see it go, and must not make up a code.
    fake = os.path.join(WORK, "foreign-runtime.sh")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncase " $* " in *" create "*)\n'
                '  while [ $# -gt 0 ]; do [ "$1" = --pid-file ] && pf=$2; shift; done\n'
                '  echo "$MONTEST_FOREIGN_PID" > "$pf";;\nesac\nexit 0\n')
    os.chmod(fake, 0o755)
    sleeper = subprocess.Popen(["sleep", "1"])
    os.environ["MONTEST_FOREIGN_PID"] = str(sleeper.pid)
    try:
        m = Mon("foreign", ["true"], runtime=fake)
    finally:
        del os.environ["MONTEST_FOREIGN_PID"]
    ok(m.report == {"pid": sleeper.pid}, "reports the pid the runtime wrote", m.report_raw)
    c = m.attach()
    c.pump(timeout=10)
    rec = m.exit_record(timeout=10)
    ok(rec and rec["exitCode"] is None and rec.get("error"), "exit.json says the status is unknown",
       rec)
    ok(c.closed and c.exit is None, "clients get no made-up EXIT frame", c.exit)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    sleeper.wait()


def t_run_mode():
    m = Mon("runmode", ["sh", "-c", "echo bye; exit 5"], extra=["--run-mode"])
    c = m.attach()
    m.start()
    c.pump()
    ok(c.exit == (5, 0) and bytes(c.out) == b"bye\n", "run-mode: EXIT 5", c.exit)
    ok(m.wait_monitor() == 0, "monitor exits 0")
    ok(gone(m.state), "run-mode removes the state dir")


def t_json_log():
    m = Mon("json", ["sh", "-c", "echo 'a \"q\"'; printf 'x\\ty'"], extra=["--log-format", "json"])
    m.start()
    m.exit_record()
    m.wait_monitor()
    with open(m.log) as f:
        recs = [json.loads(l) for l in f]
    ok([r["log"] for r in recs] == ['a "q"\n', "x\ty"] and recs[0]["stream"] == "stdout",
       "json log lines", recs)


def t_rotation():
    m = Mon("rot", ["sh", "-c", "seq 1 5000"], extra=["--log-max-size", "20000"])
    m.start()
    m.exit_record()
    m.wait_monitor()
    old = os.path.getsize(m.log + ".1")
    cur = os.path.getsize(m.log)
    ok(old <= 20000 and cur <= 20000 and old > 0, "rotation keeps both files within the bound",
       (old, cur))
    out, _ = parse_k8s_log(m.log)
    ok(out["stdout"].endswith(b"4999\n5000\n"), "the newest lines are in the current file")


def t_pid_file():
    pf = os.path.join(WORK, "user.pid")
    m = Mon("pidfile", ["true"], extra=["--pid-file", pf])
    with open(pf) as f:
        ok(int(f.read()) == m.report["pid"], "--pid-file gets the container pid")
    m.start()
    m.exit_record()
    m.wait_monitor()


def rss_file_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("RssFile:")][0].split()[1])


def t_idle_memory():
    m = Mon("idle", ["sleep", "1000"])
    t_report = time.monotonic()
    early = rss_file_kib(m.pid)
    early_ms = (time.monotonic() - t_report) * 1000
    m.start()
    time.sleep(0.5)
    with open("/proc/%d/status" % m.pid) as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    # the start-up's file pages go MON_TRIM_DELAY_MS (200 ms) after the
    # create, not at once: a short container's exit waits for nothing
    late = int(st["RssFile"].split()[0])
    if early_ms < 150:
        ok(late < early, "the monitor gives its start-up's file pages back once it waits",
           (early, late))
    else:
        log("RssFile read %.0f ms after the report, too late to compare: %d, then %d kB" % (
            early_ms, early, late))
    rss = st["VmRSS"].strip()
    thr = st["Threads"].strip()
    print("# idle monitor: VmRSS %s, RssAnon %s, RssFile %s, threads %s, fds %d" % (
        rss, st["RssAnon"].strip(), st["RssFile"].strip(), thr,
        len(os.listdir("/proc/%d/fd" % m.pid))))
    ok(thr == "1", "one thread", thr)
    m.runc("kill", m.id, "KILL")
    rec = m.exit_record()
    ok(rec and rec["exitCode"] == 137, "killed idle container: 137", rec)
    m.wait_monitor()


def bench(total_mib=500, runs=int(os.environ.get("BENCH_RUNS", "3"))):
    """BENCH_KIND=dd (1 MiB writes, no newline) or lines (101-byte lines)."""
    total = total_mib << 20
    res = []
    if os.environ.get("BENCH_KIND") == "lines":
        producer = ["sh", "-c", "yes %s | head -c %d" % ("x" * 100, total)]
    else:
        producer = ["dd", "if=/dev/zero", "bs=1M", "count=%d" % total_mib]
    for i in range(runs):
        m = Mon("bench%d" % i, producer)
        os.sync()
        t0 = time.time()
        m.start()
        m.exit_record(timeout=300)
        dt = time.time() - t0
        res.append(total_mib / dt)
        m.wait_monitor()
        os.unlink(m.log)
    base = []
    for i in range(runs if os.environ.get("BENCH_BASE", "1") == "1" else 0):
        b = bundle("base%d" % i, producer)
        out = os.path.join(WORK, "runc-run.out")
        cid = "montest-%d-base%d" % (os.getpid(), i)
        root = os.path.join(WORK, "runc-root")
        CONTAINERS.append((os.path.join(WORK, "runc-root-state"), cid))
        os.sync()
        t0 = time.time()
        with open(out, "wb") as f:
            subprocess.run([RUNC, "--root", root, "run", "--bundle", b, cid], stdout=f,
                           stderr=subprocess.DEVNULL, check=True)
        base.append(total_mib / (time.time() - t0))
        os.unlink(out)
    res.sort()
    base.sort() if base else base.append(0)
    print("# bench %s %d MiB: monitor->k8s log %s MiB/s (median %.0f); runc run > file %s "
          "MiB/s (median %.0f)" % (" ".join(producer), total_mib, ["%.0f" % r for r in res], res[len(res) // 2],
                                   ["%.0f" % r for r in base], base[len(base) // 2]))


TESTS = [t_exit_code, t_signal_exit, t_10mib, t_slow_client, t_exit_while_paused, t_slow_reader,
         t_terminal_slow_reader, t_fast_client, t_two_clients, t_stdin_pipe,
         t_stdin_not_read, t_terminal_resize, t_resize_before_pty, t_create_failure,
         t_create_timeout, t_monitor_sigkill, t_sigterm_forward, t_log_enospc, t_unknown_exit,
         t_run_mode, t_json_log,
         t_rotation, t_pid_file, t_idle_memory]


def cleanup():
    for state, cid in CONTAINERS:
        for root in (os.path.join(state, "runtime"), os.path.join(WORK or "", "runc-root")):
            if os.path.isdir(root):
                subprocess.run([RUNC, "--root", root, "delete", "--force", cid],
                               capture_output=True)
    for pid in PIDS:
        if proc_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if WORK and os.path.isdir(WORK):
        shutil.rmtree(WORK, ignore_errors=True)


def main():
    global VERBOSE, WORK, SPEC
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", help="run tests whose name contains this")
    ap.add_argument("--bench", action="store_true", help="also measure throughput")
    a = ap.parse_args()
    VERBOSE = a.v
    if not MONITOR:
        print("Bail out! OCI_MONITOR is not set: the oci-monitor binary to test "
              "(meson test sets it; by hand: OCI_MONITOR=BUILD/monitor/oci-monitor)")
        return 1
    if os.geteuid() != 0 or not shutil.which(RUNC) and not os.path.exists(RUNC):
        print("1..0 # SKIP needs root and runc")
        return 0
    if not os.access(MONITOR, os.X_OK):
        print("Bail out! OCI_MONITOR=%s is not an executable" % MONITOR)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    WORK = tempfile.mkdtemp(prefix="montest-")
    # Subreaper: containers whose monitor we SIGKILL come to us, not to init.
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    try:
        SPEC = make_rootfs()
        for t in TESTS:
            if a.k and a.k not in t.__name__:
                continue
            print("# " + t.__name__, flush=True)
            try:
                t()
            except Exception as e:  # a broken test is a failure, not a crash
                ok(False, t.__name__ + " raised", repr(e))
            reap_orphans()
        if a.bench:
            bench()
    except KeyboardInterrupt:
        print("Bail out! interrupted")
    finally:
        cleanup()
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
