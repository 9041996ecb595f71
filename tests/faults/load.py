#!/usr/bin/python3
"""The load of the fault scenarios (tests/faults/run), and their verdicts.

    load.py run --port PORT --ca CERT --token-file FILE --events FILE
                --stop-file FILE [--read PATH]... [--readers N]
                [--read-rate R] [--writers N] [--write-rate W]
                [--key-prefix P] [--key-deadline S] [--drain S]
                [--timeout S]
    load.py summary --events FILE [--marks FILE] [--rows FILE]
                [--settle S] [--strict PATH]...
    load.py kill [--wait S] KILL|TERM PID
    load.py selftest

run: HTTPS with kept connections (HTTP/1.1, the certificate checked
against CERT) to localhost:PORT until STOP-FILE exists.  Readers GET the
--read paths in turn, never retrying: a read that is not 200 is a failed
request; so is one not answered in --timeout seconds (10), as a client
gives up.  Writers create payments, each under an Idempotency-Key of its
own (also its description, so that the database can be asked how many
rows each key made), and retry a key as a good client does: on 503, 409
and 429 after Retry-After, on 502, 504 and a lost connection after a
short backoff, with the same key and body, until an answer of 201 or
--key-deadline seconds.  R and W are requests per second over all the
threads of a kind; 0: as fast as the threads go (at most one request in
flight per thread).  After the stop file appears a writer finishes the
key it has, and every thread gets --drain seconds (10) to end; a request
still unanswered then is a "hung" event.  Every attempt is one JSON line
in EVENTS (times in seconds since the epoch):

    {"k": "r", "p": PATH, "t0": SENT, "t1": ANSWERED, "s": STATUS,
     "ra": RETRY-AFTER or null, "e": ERROR or null}
    {"k": "w", "key": KEY, "n": ATTEMPT, ... as above, "ref": REFERENCE}
    {"k": "ack", "key": KEY, "ref": REFERENCE, "t": WHEN, "n": ATTEMPTS}
    {"k": "gaveup", "key": KEY, "t": WHEN, "n": ATTEMPTS}
    {"k": "hung", "p": PATH, "key": KEY or null, "t0": SENT, "t1": GIVEN UP}

kill: sends the signal to PID, a worker, as soon as it serves a request
(it holds a socket it did not hold before, the connection it accepted,
or it is out of its wait on the connections nginx keeps), at most S
seconds (1) later; prints busy, idle (no request came) or gone.
A worker killed while it waits in accept() takes no request with it; one
killed in the middle of a request is what nginx's retry is for.

selftest: summary's counts of a made-up run with one fault of each kind
(and of one without), checked; the run script starts with it.

summary: one JSON object of counts.  MARKS holds lines "NAME TIME" from
the run script; each pair outage_start/outage_end is an outage, and its
span runs from its start to SETTLE seconds after its end.  ROWS holds
the database's payments of the run, "DESCRIPTION|REFERENCE" a line.
Counts: reads and writes by status; failed: an error, a hung request, or
a status other than 2xx, except 503 and 409 with Retry-After to a
request in flight during an outage's span (but not to a --strict PATH,
which needs no database); 503 without Retry-After and
503 outside every span; settle_s, the longest time from an outage's end
to the answer, not 2xx, of a request sent after it (and before the next
outage); in_flight, creates sent before an outage began and answered
after; held, keys answered 409 outside every span (still held by a
request that died); lost, acknowledged keys whose payment is not in the
database; duplicated, keys with more than one payment; unfinished keys;
slowest_s, the longest answer.
"""
import argparse
import http.client
import json
import os
import signal
import ssl
import sys
import threading
import time

RETRY_STATUS = (409, 429, 503)
UNKNOWN_STATUS = (502, 504)


# What each thread waits on: its thread id's request, while it has one.
DOING = {}


class Out:
    """One events file shared by all the threads: a line per write."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def put(self, ev):
        line = json.dumps(ev, separators=(",", ":"))
        with self.lock:
            self.f.write(line + "\n")


class Client:
    """A kept HTTPS connection, made again after any error."""

    def __init__(self, port, ctx, timeout):
        self.port = port
        self.ctx = ctx
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, headers, body=None):
        """(status, headers dict lowercased, body bytes) or an exception."""
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(
                "localhost", self.port, context=self.ctx,
                timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if r.will_close:
                self.close()
            return r.status, hdrs, data
        except Exception:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None


class Pacer:
    """Spaces one thread's requests: `rate` per second over `threads`."""

    def __init__(self, rate, threads):
        self.gap = threads / rate if rate > 0 else 0
        self.next = time.time()

    def wait(self):
        if self.gap == 0:
            return
        self.next += self.gap
        d = self.next - time.time()
        if d > 0:
            time.sleep(d)
        else:
            self.next = time.time()


def attempt(client, method, path, headers, body=None):
    """Sends once; the event's fields and the answer's body."""
    t0 = time.time()
    ev = {"t0": t0, "s": None, "ra": None, "e": None}
    data = b""
    me = threading.get_ident()
    DOING[me] = {"p": path, "t0": t0, "key": headers.get("Idempotency-Key"),
                "s": None, "ra": None, "e": "no answer"}
    try:
        status, hdrs, data = client.request(method, path, headers, body)
        ev["s"] = status
        ev["ra"] = hdrs.get("retry-after")
    except Exception as e:
        ev["e"] = type(e).__name__ + ": " + str(e)[:200]
    ev["t1"] = time.time()
    DOING.pop(me, None)
    return ev, data


def reader(args, ctx, out, stop, tid):
    client = Client(args.port, ctx, args.timeout)
    pace = Pacer(args.read_rate, args.readers)
    headers = {"Authorization": "Bearer " + args.token}
    i = tid
    while not stop():
        path = args.read[i % len(args.read)]
        i += 1
        ev, _ = attempt(client, "GET", path, headers)
        ev.update(k="r", p=path)
        out.put(ev)
        pace.wait()
    client.close()


def retry_wait(ev, backoff):
    """How long a good client waits before it sends the key again."""
    if ev["s"] in RETRY_STATUS and ev["ra"] is not None:
        try:
            return min(float(ev["ra"]), 30.0)
        except ValueError:
            pass
    return backoff


def writer(args, ctx, out, stop, tid):
    client = Client(args.port, ctx, args.timeout)
    pace = Pacer(args.write_rate, args.writers)
    seq = 0
    while not stop():
        seq += 1
        key = "%s-%d-%d" % (args.key_prefix, tid, seq)
        body = json.dumps({"amount": 100 + seq, "currency": "EUR",
                           "description": key}).encode()
        headers = {"Authorization": "Bearer " + args.token,
                   "Content-Type": "application/json",
                   "Idempotency-Key": key}
        start = time.time()
        n = 0
        backoff = 0.25
        while True:
            n += 1
            ev, data = attempt(client, "POST", "/api/v1/payments", headers,
                               body)
            ev.update(k="w", key=key, n=n)
            if ev["s"] == 201:
                try:
                    ev["ref"] = json.loads(data)["reference"]
                except (ValueError, KeyError, TypeError):
                    ev["e"] = "201 without a reference"
            out.put(ev)
            if ev["s"] == 201 and ev["e"] is None:
                out.put({"k": "ack", "key": key, "ref": ev["ref"],
                         "t": ev["t1"], "n": n})
                break
            retry = (ev["e"] is not None or ev["s"] in RETRY_STATUS or
                     ev["s"] in UNKNOWN_STATUS)
            wait = retry_wait(ev, backoff)
            if not retry or time.time() + wait - start > args.key_deadline:
                out.put({"k": "gaveup", "key": key, "t": time.time(),
                         "n": n})
                break
            time.sleep(wait)
            backoff = min(backoff * 2, 4.0)
        pace.wait()
    client.close()


# The worker's wait (lib/gh_app.c): ppoll on its connections and the
# listening socket.  In any other system call, or running, it holds a
# request.  (x86-64 and arm64 numbers; libpq waits in poll, not ppoll.)
PPOLL = {"x86_64": 271, "aarch64": 73}.get(os.uname().machine)


def kill(args):
    """Signals PID once it serves a request, or after WAIT seconds.  A
    worker serves one when it holds a socket it did not hold before (the
    connection it accepted), or when it is out of its wait on the
    connections it keeps (/proc/PID/syscall: not in ppoll)."""
    fds = "/proc/%d/fd" % args.pid

    def sockets():
        found = set()
        for fd in os.listdir(fds):
            try:
                target = os.readlink(os.path.join(fds, fd))
            except OSError:
                continue
            if target.startswith("socket:"):
                found.add(target)
        return found

    def waiting():
        if PPOLL is None:
            return True
        with open("/proc/%d/syscall" % args.pid) as f:
            call = f.read().split(" ", 1)[0]
        return call == str(PPOLL)

    state = "idle"
    try:
        before = sockets()
        end = time.time() + args.wait
        while time.time() < end:
            if not waiting() or sockets() - before:
                state = "busy"
                break
        os.kill(args.pid, getattr(signal, "SIG" + args.signal))
    except (FileNotFoundError, ProcessLookupError):
        state = "gone"
    print(state)
    return 0 if state != "gone" else 1


def run(args):
    with open(args.token_file) as f:
        args.token = f.read().strip()
    ctx = ssl.create_default_context(cafile=args.ca)
    out = Out(args.events)
    stopping = threading.Event()

    threads = []
    if args.read:
        for t in range(args.readers):
            threads.append(threading.Thread(
                target=reader, args=(args, ctx, out, stopping.is_set, t),
                daemon=True))
    for t in range(args.writers):
        threads.append(threading.Thread(
            target=writer, args=(args, ctx, out, stopping.is_set, t),
            daemon=True))
    for t in threads:
        t.start()
    while not os.path.exists(args.stop_file):
        time.sleep(0.1)
    stopping.set()
    end = time.time() + args.drain
    for t in threads:
        t.join(max(0, end - time.time()))
    # A request that never got its answer is a failed one too.
    for t in threads:
        if t.is_alive() and t.ident in DOING:
            out.put(dict(DOING[t.ident], k="hung", t1=time.time()))
    out.f.flush()
    return 0


def good(ev):
    return ev["e"] is None and ev["s"] is not None and 200 <= ev["s"] < 300


def tally(events, outages, rows, settle, strict):
    """The counts of summary (see the top) from the events, the outages
    as (start, end) pairs, the rows as {description: [reference, ...]}
    (None: not asked), the settle time and the --strict paths."""

    def last_end(t):
        """The end of the outage t is after, if no other began since."""
        end = None
        for start, e in outages:
            if start <= t:
                end = e if e <= t else None
        return end

    def overlaps(ev):
        return any(ev["t0"] <= end + settle and ev["t1"] >= start
                   for start, end in outages)

    res = {"reads": 0, "writes": 0, "status": {}, "errors": 0,
           "failed": 0, "failed_examples": [], "503": 0,
           "503_no_retry_after": 0, "503_outside": 0, "409": 0,
           "settle_s": 0.0, "acked": 0, "gaveup": 0, "keys": 0,
           "lost": 0, "duplicated": 0, "unfinished": 0,
           "in_flight": 0, "held": 0, "hung": 0, "slowest_s": 0.0}
    keys = set()
    held = set()
    acks = {}
    for ev in events:
        if ev["k"] == "ack":
            acks[ev["key"]] = ev["ref"]
            continue
        if ev["k"] == "gaveup":
            res["gaveup"] += 1
            continue
        if ev["k"] == "hung":
            res["hung"] += 1
            res["failed"] += 1
            if len(res["failed_examples"]) < 5:
                res["failed_examples"].append(ev)
            continue
        res["reads" if ev["k"] == "r" else "writes"] += 1
        if ev["k"] == "w":
            keys.add(ev["key"])
        res["slowest_s"] = max(res["slowest_s"], ev["t1"] - ev["t0"])
        s = str(ev["s"]) if ev["e"] is None else "error"
        res["status"][s] = res["status"].get(s, 0) + 1
        if ev["e"] is not None:
            res["errors"] += 1
        if ev["s"] == 503:
            res["503"] += 1
            if ev["ra"] is None:
                res["503_no_retry_after"] += 1
        if ev["s"] == 409:
            res["409"] += 1
        end = last_end(ev["t0"])
        if not good(ev) and end is not None:
            res["settle_s"] = max(res["settle_s"], ev["t1"] - end)
        if ev["k"] == "w" and any(ev["t0"] < start < ev["t1"]
                                  for start, _ in outages):
            res["in_flight"] += 1
        waited = (ev["e"] is None and ev["s"] in (409, 503) and
                  ev["ra"] is not None and overlaps(ev) and
                  ev.get("p") not in strict)
        if ev["s"] == 409 and not waited:
            held.add(ev["key"])
        if ev["s"] == 503 and not overlaps(ev):
            res["503_outside"] += 1
        if not good(ev) and not waited:
            res["failed"] += 1
            if len(res["failed_examples"]) < 5:
                res["failed_examples"].append(ev)
    res["keys"] = len(keys)
    res["held"] = len(held)
    res["acked"] = len(acks)
    res["unfinished"] = len(keys) - len(acks)
    if rows is not None:
        res["rows"] = sum(len(v) for v in rows.values())
        res["duplicated"] = sum(1 for v in rows.values() if len(v) > 1)
        res["lost"] = sum(1 for k, ref in acks.items()
                          if ref not in rows.get(k, []))
    res["settle_s"] = round(res["settle_s"], 3)
    res["slowest_s"] = round(res["slowest_s"], 3)
    return res


def summary(args):
    events = []
    with open(args.events) as f:
        for line in f:
            events.append(json.loads(line))
    marks = {}
    if args.marks:
        with open(args.marks) as f:
            for line in f:
                name, t = line.split()
                marks.setdefault(name, []).append(float(t))
    outages = list(zip(marks.get("outage_start", []),
                       marks.get("outage_end", [])))
    rows = None
    if args.rows:
        rows = {}
        with open(args.rows) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    desc, ref = line.split("|", 1)
                    rows.setdefault(desc, []).append(ref)
    res = tally(events, outages, rows, args.settle, args.strict)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 0


def selftest(args):
    """The verdicts must see what they are there to see: a run with one
    fault of each kind is counted as such, and a clean one as clean."""

    def w(key, n, t0, t1, s, ra=None, ref=None):
        return {"k": "w", "key": key, "n": n, "t0": t0, "t1": t1, "s": s,
                "ra": ra, "e": None, "ref": ref}

    def r(p, t0, t1, s, ra=None, e=None):
        return {"k": "r", "p": p, "t0": t0, "t1": t1, "s": s, "ra": ra,
                "e": e}

    clean = [
        w("a", 1, 100.0, 100.1, 201, ref="pay_a"),
        {"k": "ack", "key": "a", "ref": "pay_a", "t": 100.1, "n": 1},
        w("c", 1, 100.9, 101.2, 503, ra="5"),
        w("c", 2, 106.0, 106.1, 201, ref="pay_c"),
        {"k": "ack", "key": "c", "ref": "pay_c", "t": 106.1, "n": 2},
        r("/x", 101.5, 101.6, 503, ra="5"),
        r("/ping", 101.5, 101.6, 200),
        r("/x", 104.5, 104.6, 200),
    ]
    faulty = clean + [
        w("b", 1, 100.2, 100.3, 201, ref="pay_b"),
        {"k": "ack", "key": "b", "ref": "pay_b", "t": 100.3, "n": 1},
        w("d", 1, 110.0, 110.1, 409, ra="1"),
        r("/ping", 101.5, 101.6, 503, ra="5"),
        r("/x", 101.5, 101.6, 503),
        r("/x", 110.0, 110.1, 503, ra="5"),
        r("/x", 111.0, 111.1, 502),
        r("/x", 112.0, 122.0, None, e="TimeoutError"),
        {"k": "hung", "p": "/x", "key": None, "t0": 113.0, "t1": 123.0,
         "s": None, "ra": None, "e": "no answer"},
    ]
    outages = [(101.0, 103.0)]
    rows = {"a": ["pay_a"], "c": ["pay_c"]}
    got = tally(clean, outages, rows, 2, ["/ping"])
    want = {"failed": 0, "lost": 0, "duplicated": 0, "held": 0,
            "503_no_retry_after": 0, "503_outside": 0, "in_flight": 1,
            "unfinished": 0, "settle_s": 0.0, "hung": 0}
    bad = ["clean %s: %r, wanted %r" % (k, got[k], v)
           for k, v in want.items() if got[k] != v]
    rows = {"a": ["pay_a"], "b": ["pay_x"], "c": ["pay_c", "pay_c2"]}
    got = tally(faulty, outages, rows, 2, ["/ping"])
    # d's 409, the ping's 503, the 503 without Retry-After, the 503
    # outside the outage, the 502, the timeout, the hung request.
    want = {"failed": 7, "lost": 1, "duplicated": 1, "held": 1,
            "503_no_retry_after": 1, "503_outside": 1, "in_flight": 1,
            "unfinished": 1, "settle_s": 19.0, "hung": 1}
    bad += ["faulty %s: %r, wanted %r" % (k, got[k], v)
            for k, v in want.items() if got[k] != v]
    for line in bad:
        print("load.py selftest: " + line, file=sys.stderr)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(prog="load.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--ca", required=True)
    r.add_argument("--token-file", required=True)
    r.add_argument("--events", required=True)
    r.add_argument("--stop-file", required=True)
    r.add_argument("--read", action="append", default=[])
    r.add_argument("--readers", type=int, default=2)
    r.add_argument("--read-rate", type=float, default=0)
    r.add_argument("--writers", type=int, default=0)
    r.add_argument("--write-rate", type=float, default=0)
    r.add_argument("--key-prefix", default="faults")
    r.add_argument("--key-deadline", type=float, default=90)
    r.add_argument("--drain", type=float, default=10)
    r.add_argument("--timeout", type=float, default=10)
    s = sub.add_parser("summary")
    s.add_argument("--events", required=True)
    s.add_argument("--marks")
    s.add_argument("--rows")
    s.add_argument("--settle", type=float, default=0)
    s.add_argument("--strict", action="append", default=[])
    sub.add_parser("selftest")
    k = sub.add_parser("kill")
    k.add_argument("--wait", type=float, default=1)
    k.add_argument("signal", choices=("KILL", "TERM"))
    k.add_argument("pid", type=int)
    args = p.parse_args()
    return {"run": run, "summary": summary, "kill": kill,
            "selftest": selftest}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
