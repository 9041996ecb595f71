#!/usr/bin/python3
"""The cluster test's client: a steady, bounded load through nginx, and
the report of what it saw.

  load.py run URL SECONDS OUT     signs two users up, then for SECONDS
                                  sends authenticated reads, payment
                                  creates and uploads at fixed rates, each
                                  create and upload under its own
                                  Idempotency-Key and sent again with the
                                  same key on 502, 503 or a broken
                                  connection (as a client should); writes
                                  one JSON line per answer to OUT
  load.py report OUT ACCESS_LOG MARKS
                                  counts by kind and status, the seconds
                                  of 502/503, where nginx sent the load
                                  between the marks (kill, back), and
                                  prints the checks as "ok"/"FAIL" lines
  load.py report-db OUT           the same for a database failover: a
                                  read may be 503 with Retry-After (no
                                  host takes writes, or reads, until the
                                  replica is promoted), a write must end
                                  201; and how many seconds 503 lasted

GH_LOAD_TRIES (12) sends of one key at most, GH_LOAD_BACKOFF (0.25) the
pause before the next, in seconds (a test waits less than Retry-After).
For the report: GH_LOAD_MAX_SEND, when set, the most seconds one send
may take; GH_LOAD_EXPECT_503=0, that a failover need not show 503s.

Only the loopback address of the nginx host's namespace is a target, and
every loop ends by its deadline: nothing here runs unbounded.
"""

import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

PW = "tall-lamp-quiet-river-42"
RATES = {"read": 40.0, "create": 8.0, "upload": 2.0}   # requests per second
TRIES = int(os.environ.get("GH_LOAD_TRIES", "12"))
MAX_SEND = float(os.environ.get("GH_LOAD_MAX_SEND", "0"))
EXPECT_503 = os.environ.get("GH_LOAD_EXPECT_503", "1") == "1"
BACKOFF = float(os.environ.get("GH_LOAD_BACKOFF", "0.25"))


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        if u.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("load.py: only loopback is a target")
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.conn = None

    def send(self, method, path, body=None, headers=None):
        """(status, headers dict, body bytes); status 0 when the
        connection broke before an answer."""
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    self.host, self.port, context=self.ctx, timeout=30)
            try:
                self.conn.request(method, path, body=body,
                                  headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                h = {k.lower(): v for k, v in r.getheaders()}
                if h.get("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, h, data
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
        return 0, {}, b""


def login(c, name):
    body = json.dumps({"username": name, "email": name + "@example.com",
                       "password": PW})
    hj = {"Content-Type": "application/json"}
    c.send("POST", "/api/v1/auth/register", body, hj)
    st, _, data = c.send("POST", "/api/v1/auth/login",
                         json.dumps({"login": name, "password": PW}), hj)
    if st != 200:
        raise SystemExit("load.py: login of %s: %d %s" % (name, st, data[:200]))
    return json.loads(data)["access_token"]


def worker(kind, url, token, deadline, rate, out, lock, tag):
    c = Client(url)
    auth = {"Authorization": "Bearer " + token}
    n = 0
    start = time.time()
    while True:
        due = start + n / rate
        now = time.time()
        if due >= deadline:
            break
        if due > now:
            time.sleep(due - now)
        n += 1
        if kind == "read":
            t0 = time.time()
            # Auth's and payment's pools both: each is on both hosts.
            rpath = "/api/v1/payments?limit=5" if n % 2 else "/api/v1/auth/me"
            st, h, _ = c.send("GET", rpath, None, auth)
            rec = {"t": t0, "kind": kind, "status": st, "tries": 1,
                   "ra": "retry-after" in h, "dur": time.time() - t0}
        else:
            key = "%s-%s-%d" % (tag, kind, n)
            if kind == "create":
                path = "/api/v1/payments"
                body = json.dumps({"amount": 100 + n % 900,
                                   "currency": "EUR"})
                ctype = "application/json"
            else:
                path = "/api/v1/media?title=cluster%%20%d&filename=c%d.pdf" % (n, n)
                body = b"%PDF-1.4\n% cluster upload " + key.encode() + b"\n"
                ctype = "application/pdf"
            hdr = dict(auth)
            hdr["Content-Type"] = ctype
            hdr["Idempotency-Key"] = key
            t0 = time.time()
            seen = []
            dur = 0.0
            for tries in range(1, TRIES + 1):
                t1 = time.time()
                st, h, data = c.send("POST", path, body, hdr)
                dur = max(dur, time.time() - t1)
                seen.append(st)
                if st not in (0, 502, 503):
                    break
                if st == 503 and "retry-after" not in h:
                    seen.append("503-without-retry-after")
                time.sleep(BACKOFF)
            rec = {"t": t0, "kind": kind, "status": st, "tries": tries,
                   "seen": seen, "key": key, "dur": dur}
            if st == 201:
                try:
                    j = json.loads(data)
                    rec["ref"] = j.get("reference") or j.get("id")
                except ValueError:
                    pass
        with lock:
            out.write(json.dumps(rec) + "\n")


def run(url, seconds, path):
    c = Client(url)
    tag = "c%d" % int(time.time())
    tokens = [login(c, "%s_u%d" % (tag, i)) for i in range(2)]
    deadline = time.time() + seconds
    lock = threading.Lock()
    threads = []
    with open(path, "w") as out:
        i = 0
        for kind, rate in RATES.items():
            # Two threads per kind, each at half the rate.
            for _ in range(2):
                t = threading.Thread(target=worker, args=(
                    kind, url, tokens[i % 2], deadline, rate / 2, out, lock,
                    "%s-%d" % (tag, i)))
                i += 1
                t.start()
                threads.append(t)
        for t in threads:
            t.join(seconds + 120)


def iso_second(s):
    # nginx's $time_iso8601: 2026-12-01T17:49:30+00:00
    return int(time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
               - time.timezone)


def report(path, access_log, marks_path, db=False):
    recs = [json.loads(l) for l in open(path)]
    fails = 0

    def check(ok, what):
        nonlocal fails
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            fails += 1

    by = {}
    for r in recs:
        by.setdefault(r["kind"], []).append(r)
    for kind in ("read", "create", "upload"):
        rs = by.get(kind, [])
        codes = {}
        for r in rs:
            codes[r["status"]] = codes.get(r["status"], 0) + 1
        retried = sum(1 for r in rs if r["tries"] > 1)
        sends = {}
        for r in rs:
            for st in r.get("seen", [r["status"]]):
                if isinstance(st, int):
                    sends[st] = sends.get(st, 0) + 1
        longest = max((r.get("dur", 0) for r in rs), default=0)
        print("  %-6s %5d requests, final answers %s; %d needed a retry; "
              "every send %s (0: the connection broke); the longest send "
              "%.1f s" % (kind, len(rs), json.dumps(codes, sort_keys=True),
                          retried, json.dumps(sends, sort_keys=True), longest))
        if MAX_SEND:
            check(longest <= MAX_SEND, "%ss: every answer within %g s "
                  "(the longest: %.1f s)" % (kind, MAX_SEND, longest))
    reads = by.get("read", [])
    if db:
        bad_reads = [r for r in reads if r["status"] != 200 and
                     not (r["status"] == 503 and r.get("ra"))]
        check(reads and not bad_reads,
              "reads: %d of %d answered other than 200, or 503 with "
              "Retry-After" % (len(bad_reads), len(reads)))
    else:
        bad_reads = [r for r in reads if r["status"] != 200]
        check(reads and not bad_reads,
              "reads: %d of %d failed (nginx retries them on the live host; "
              "the client never does)" % (len(bad_reads), len(reads)))
    for kind in ("create", "upload"):
        rs = by.get(kind, [])
        bad = [r for r in rs if r["status"] != 201]
        check(rs and not bad, "%ss: %d of %d never answered 201 (retried with "
              "their key on 502/503)" % (kind, len(bad), len(rs)))
        no_ra = [r for r in rs if "503-without-retry-after" in r.get("seen", [])]
        check(not no_ra, "%ss: every 503 had Retry-After (%d without)"
              % (kind, len(no_ra)))
    # Seconds in which some send was answered 502/503 or broke.
    bad_secs = set()
    for r in recs:
        if any(s in (0, 502, 503) for s in r.get("seen", [r["status"]])):
            bad_secs.add(int(r["t"]))
    print("  seconds with a 502/503 or a broken send: %d" % len(bad_secs))
    with open(path + ".created", "w") as f:
        for r in recs:
            if r["kind"] in ("create", "upload") and r["status"] == 201:
                f.write("%s %s %s\n" % (r["kind"], r["key"], r.get("ref", "")))
    if db:
        # The sends answered 503, second by second: the failover.
        s503 = sorted({int(r["t"]) for r in recs
                       if 503 in r.get("seen", [r["status"]])})
        span = s503[-1] - s503[0] + 1 if s503 else 0
        print("  503 answers in %d distinct seconds, from first to last %d s"
              % (len(s503), span))
        if EXPECT_503:
            check(s503, "the failover was seen (503 answers while no host "
                  "took writes)")
        if s503:
            after = [r for r in reads if r["t"] >= s503[-1] + 1]
            check(after and all(r["status"] == 200 for r in after),
                  "after the last 503, every read is 200 again (%d reads)"
                  % len(after))
        return fails
    marks = json.load(open(marks_path))

    # Where nginx sent the load: the last upstream of each request.
    ups = {"before": {}, "down": {}, "back": {}}
    for line in open(access_log):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not e.get("uri", "").startswith("/api/v1/payments"):
            continue
        t = iso_second(e["time_iso8601"])
        last = e["upstream_addr"].split(", ")[-1].split(":")[0]
        if marks["start"] <= t < marks["kill"]:
            phase = "before"
        elif marks["kill"] + 2 <= t < marks["back"]:
            phase = "down"
        elif t >= marks["back"] + 12:
            phase = "back"
        else:
            continue
        ups[phase][last] = ups[phase].get(last, 0) + 1
    for phase in ("before", "down", "back"):
        print("  payment requests by app host, %-6s %s"
              % (phase, json.dumps(ups[phase], sort_keys=True)))
    a1, a2 = marks["app1"], marks["app2"]
    check(ups["before"].get(a1) and ups["before"].get(a2),
          "both app hosts took load before the kill")
    check(ups["down"].get(a1) and not ups["down"].get(a2),
          "only the live host answered while the other was down")
    check(ups["back"].get(a2, 0) > 0,
          "the host that came back takes load again")
    return fails


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "run":
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "report":
        return 1 if report(sys.argv[2], sys.argv[3], sys.argv[4]) else 0
    if len(sys.argv) == 3 and sys.argv[1] == "report-db":
        return 1 if report(sys.argv[2], None, None, db=True) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
