#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run a command on a new pseudo-terminal and drive it, expect-style.

    pty-drive.py [--rows N] [--cols N] [--timeout S] STEP... -- CMD [ARG...]

Steps, in order:
    send=TEXT      write TEXT (Python escapes: \\n, \\x10) to the terminal
    expect=REGEX   wait until the output since the last expect matches
    resize=RxC     set the window size (the kernel sends SIGWINCH)
    sleep=SECONDS
    exit=N         wait for the command to end with status N
Exits 0 when every step passed, else 1 with the output as diagnostics.
"""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    argv = sys.argv[1:]
    rows, cols, timeout = 24, 80, 20.0
    while argv and argv[0].startswith("--") and argv[0] != "--":
        opt, val = argv[0], argv[1]
        argv = argv[2:]
        if opt == "--rows":
            rows = int(val)
        elif opt == "--cols":
            cols = int(val)
        elif opt == "--timeout":
            timeout = float(val)
    sep = argv.index("--")
    steps, cmd = argv[:sep], argv[sep + 1:]

    pid, master = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(master, rows, cols)
    seen = b""
    mark = 0
    status = None

    def pump(wait):
        nonlocal seen
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(master, 65536)
        except OSError:
            return False
        if not data:
            return False
        seen += data
        return True

    def fail(why):
        sys.stdout.write("# pty-drive: %s\n" % why)
        for line in seen.decode(errors="replace").splitlines():
            sys.stdout.write("#   | %r\n" % line)
        sys.exit(1)

    for step in steps:
        kind, _, arg = step.partition("=")
        deadline = time.monotonic() + timeout
        if kind == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(max(0.0, end - time.monotonic()))
        elif kind == "resize":
            r, c = arg.split("x")
            set_size(master, int(r), int(c))
        elif kind == "expect":
            rx = re.compile(arg.encode())
            while True:
                m = rx.search(seen, mark)
                if m:
                    mark = m.end()
                    break
                if time.monotonic() > deadline:
                    fail("timed out expecting %r" % arg)
                if not pump(0.1):
                    m = rx.search(seen, mark)
                    if m:
                        mark = m.end()
                        break
                    fail("output ended expecting %r" % arg)
        elif kind == "exit":
            while status is None:
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    fail("timed out waiting for the exit")
                pump(0.1)
                w, st = os.waitpid(pid, os.WNOHANG)
                if w == pid:
                    status = os.waitstatus_to_exitcode(st)
            while pump(0.05):
                pass
            if status != int(arg):
                fail("exit status %d, expected %s" % (status, arg))
        else:
            fail("unknown step %r" % step)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    sys.stdout.write("".join("# %s\n" % l for l in seen.decode(errors="replace").splitlines()[-3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
