#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Receive a pty master over a unix socket (runc's --console-socket protocol:
one SCM_RIGHTS fd) and copy what the container writes to stdout until the
terminal closes.  usage: console-socket.py SOCKET_PATH [TIMEOUT_S]"""
import array
import os
import select
import socket
import sys

path = sys.argv[1]
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(timeout)
conn, _ = srv.accept()
fds = array.array("i")
_, anc, _, _ = conn.recvmsg(1024, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
conn.close()
srv.close()
if not fds:
    sys.exit("console-socket: no fd received")
master = fds[0]
while True:
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        sys.exit("console-socket: timed out")
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: the container's side of the terminal is closed
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
