#!/usr/bin/python3
"""A real SMTP server for the mailer's tests (Debian's python3-aiosmtpd).

    smtp-server.py serve DIR PORT CERT KEY [--implicit-tls] [--text]
    smtp-server.py show FILE

serve: listens on 127.0.0.1:PORT with STARTTLS required (or TLS from the
start with --implicit-tls) and AUTH (PLAIN, LOGIN) required, over TLS
only, for the user and password in DIR/user and DIR/password.  Every
message accepted is written whole to DIR/mail/<time>-<counter>.eml (by a
rename: a file there is complete), its envelope to DIR/envelopes/ under
the same name.  Control files, read at each command:

    DIR/mode  tempfail: RCPT answers 451; permfail: RCPT answers 550
    DIR/slow  milliseconds RCPT waits before it answers; DIR/waiting then
              holds the number of RCPTs seen so far and the time (ns since
              the epoch) the wait ends

With --text (script/server's local relay), each message is also written
as DIR/mail/<name>.txt, its main headers and its text part decoded, for
a person to read and click, and a line on stdout names it.

The server exits when its parent (the test) goes away or DIR is removed.
DIR/ready appears once it listens.

show: prints a stored message as JSON: its headers (decoded), the
content types and transfer encodings of its parts, and the text and HTML
parts decoded.
"""
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading
import time
import warnings

# aiosmtpd 1.4 warns of its own use of a deprecated attribute at each AUTH.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

DIR = None
TEXT = False
COUNTER = 0
RCPTS = 0
LOCK = threading.Lock()


def control(name):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        global RCPTS
        with LOCK:
            RCPTS += 1
            seen = RCPTS
        slow = control("slow")
        if slow:
            until = time.time_ns() + int(slow) * 1000000
            write_atomic(os.path.join(DIR, "waiting"),
                         ("%d %d\n" % (seen, until)).encode())
            await asyncio.sleep(int(slow) / 1000.0)
        mode = control("mode")
        if mode == "tempfail":
            return "451 4.3.0 Try again later (test tempfail)"
        if mode == "permfail":
            return "550 5.1.1 <%s>: Recipient address rejected " \
                "(test permfail)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global COUNTER
        with LOCK:
            COUNTER += 1
            name = "%d-%06d" % (time.time_ns(), COUNTER)
        write_atomic(os.path.join(DIR, "mail", name + ".eml"),
                     envelope.original_content)
        write_atomic(os.path.join(DIR, "envelopes", name + ".json"),
                     json.dumps({
                         "mail_from": envelope.mail_from,
                         "rcpt_tos": envelope.rcpt_tos,
                         "authenticated": session.authenticated,
                         "tls": session.ssl is not None,
                     }).encode())
        if TEXT:
            readable(os.path.join(DIR, "mail", name),
                     envelope.original_content)
        return "250 2.0.0 Ok: queued as %s" % name


def readable(base, raw):
    """base.txt: what a mail reader shows of the message, links whole."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    lines = ["%s: %s" % (h, msg.get(h)) for h in
             ("From", "To", "Subject", "Date", "Message-ID")
             if msg.get(h) is not None]
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else "(no text part)\n"
    text = text.replace("\r\n", "\n")
    write_atomic(base + ".txt",
                 ("\n".join(lines) + "\n\n" + text).encode())
    print("mail to %s: \"%s\" in %s.txt" % (msg.get("To"),
                                           msg.get("Subject"), base),
          flush=True)


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    user = control("user").encode()
    password = control("password").encode()
    if auth_data.login == user and auth_data.password == password:
        return AuthResult(success=True, auth_data=auth_data)
    # handled=False: smtp_AUTH answers 535 itself.
    return AuthResult(success=False, handled=False)


def watchdog(parent):
    while True:
        time.sleep(0.2)
        if os.getppid() != parent or not os.path.isdir(DIR):
            os._exit(0)


def serve(args):
    global DIR, TEXT
    from aiosmtpd.controller import Controller
    DIR, port, cert, key = args[0], int(args[1]), args[2], args[3]
    implicit = "--implicit-tls" in args[4:]
    TEXT = "--text" in args[4:]
    os.makedirs(os.path.join(DIR, "mail"), exist_ok=True)
    os.makedirs(os.path.join(DIR, "envelopes"), exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    kwargs = dict(hostname="127.0.0.1", port=port,
                  authenticator=authenticator, auth_required=True,
                  auth_require_tls=True, ready_timeout=10)
    if implicit:
        kwargs["ssl_context"] = context
        kwargs["server_hostname"] = "localhost"
        # aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH; here the
        # whole connection is TLS before the first byte.
        kwargs["auth_require_tls"] = False
    else:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    controller = Controller(Handler(), **kwargs)
    threading.Thread(target=watchdog, args=(os.getppid(),),
                     daemon=True).start()
    controller.start()
    write_atomic(os.path.join(DIR, "ready"), b"ok")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()


def show(args):
    with open(args[0], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    out = {"headers": {k: str(v) for k, v in msg.items()},
           "raw_subject": msg.get("Subject").__str__()
           if msg.get("Subject") else None,
           "content_type": msg.get_content_type(),
           "parts": []}
    with open(args[0], "rb") as f:
        raw = f.read()
    out["raw_headers"] = raw.split(b"\r\n\r\n", 1)[0].decode("ascii",
                                                           "replace")
    for part in msg.walk():
        if part.is_multipart():
            continue
        out["parts"].append({
            "type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    print(json.dumps(out))


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "show":
        show(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
