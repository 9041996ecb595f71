#!/usr/bin/python3
"""A FastCGI client of the integration suite, talking to a pool's socket
as nginx does with fastcgi_keep_conn on (FCGI_KEEP_CONN set, the
connection kept between requests).

    fcgi-client.py release SOCKET PID...

checks how a worker that stops lets go of a kept connection
(lib/gh_app.c, conn_release): one ping on a kept connection, then
SIGTERM to every PID (the pool's workers); the worker holding the
connection must not close it, but send an empty FCGI_STDERR record (on
which nginx closes an idle kept connection), still answer a request
written into it, with the same record after the answer's
FCGI_END_REQUEST, and exit once the client has closed.  Prints what it
saw; exit status 0 when all of that held, 1 when not.
"""
import os
import select
import signal
import socket
import struct
import sys
import time

BEGIN, END, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7


def record(rtype, body=b"", rid=1):
    return struct.pack(">BBHHBx", 1, rtype, rid, len(body), 0) + body


def pair(name, value):
    out = b""
    for s in (name, value):
        n = len(s)
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def ping_request(path):
    env = {
        "REQUEST_METHOD": "GET", "DOCUMENT_URI": path, "REQUEST_URI": path,
        "SCRIPT_NAME": path, "QUERY_STRING": "", "CONTENT_TYPE": "",
        "CONTENT_LENGTH": "", "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "https", "HTTPS": "on", "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000", "SERVER_NAME": "localhost",
        "SERVER_PORT": "443", "REQUEST_ID": "f" * 32,
    }
    params = b"".join(pair(k.encode(), v.encode()) for k, v in env.items())
    return (record(BEGIN, struct.pack(">HB5x", 1, 1)) + record(PARAMS, params)
            + record(PARAMS) + record(STDIN))


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def fill(self, timeout):
        """More bytes into buf; False at the end of the stream or time."""
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return False
        data = self.s.recv(65536)
        if not data:
            raise EOFError
        self.buf += data
        return True

    def next_record(self, timeout):
        """(type, body) of the next record, None when none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack(">BBHHBx", self.buf[:8])
                if len(self.buf) >= 8 + clen + plen:
                    body = self.buf[8:8 + clen]
                    self.buf = self.buf[8 + clen + plen:]
                    return rtype, body
            left = deadline - time.monotonic()
            if left <= 0 or not self.fill(left):
                return None

    def answer(self, timeout=5):
        """The STDOUT of one answer, up to its FCGI_END_REQUEST; the
        records that came before the answer's first STDOUT are skipped
        if they are empty FCGI_STDERR ones, as nginx skips them."""
        out, before = b"", []
        while True:
            rec = self.next_record(timeout)
            if rec is None:
                raise TimeoutError("no whole answer")
            rtype, body = rec
            if rtype == END:
                return out, before
            if rtype == STDOUT:
                out += body
            elif not out:
                before.append(rec)


def status_of(out):
    head = out.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n"):
        if line.lower().startswith("status:"):
            return line.split(":", 1)[1].strip().split(" ")[0]
    return "200"


def release(sock, pids):
    path = "/api/v1/payment/ping"
    c = Conn(sock)
    c.s.sendall(ping_request(path))
    out, _ = c.answer()
    if status_of(out) != "200":
        print("the first ping was not 200: %r" % out[:200])
        return 1
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        rec = c.next_record(3)
    except EOFError:
        print("the stopping worker closed the kept connection itself")
        return 1
    if rec != (STDERR, b""):
        print("no empty FCGI_STDERR record from the stopping worker: %r" % (rec,))
        return 1
    # nginx had picked the connection and written a request just then.
    c.s.sendall(ping_request(path))
    try:
        out, before = c.answer()
        after = c.next_record(3)
    except (EOFError, TimeoutError) as e:
        print("the stopping worker did not answer on its kept connection: %s" % e)
        return 1
    if status_of(out) != "200" or before:
        print("the answer while stopping: %r (before it: %r)" % (out[:200], before))
        return 1
    if after != (STDERR, b""):
        print("no empty FCGI_STDERR record after the answer while stopping: %r" % (after,))
        return 1
    c.s.close()
    print("released: a record asked the client to close, a request written "
          "meanwhile was answered")
    return 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "release":
        return release(sys.argv[2], sys.argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
