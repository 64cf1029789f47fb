"""A real SMTP server (aiosmtpd) and a webhook receiver for danvan's reminder tests.

Each email received is written to DIR/mail-NNNN.eml (the raw message, as the SMTP server got it,
with the envelope in X-Envelope-* headers); each webhook call to DIR/hook-NNNN.json with its
headers. Prints "READY <smtp port> <webhook port>" once both listen on 127.0.0.1, then runs until
killed. With --fail-first N, the first N SMTP transactions are refused (451), for the retries;
writing N to DIR/fail-next refuses the next N.
"""
import argparse
import email
import email.policy
import http.server
import itertools
import json
import os
import socket
import threading
import time

from aiosmtpd.controller import Controller

counter = itertools.count(1)
lock = threading.Lock()


class Handler:
    def __init__(self, out, fail_first):
        self.out = out
        self.fail_left = fail_first

    async def handle_DATA(self, server, session, envelope):
        with lock:
            # A test asks for the next N transactions to be refused by writing N to fail-next.
            control = os.path.join(self.out, "fail-next")
            if os.path.exists(control):
                with open(control) as f:
                    self.fail_left += int(f.read().strip() or "0")
                os.remove(control)
            if self.fail_left > 0:
                self.fail_left -= 1
                return "451 Requested action aborted: try again later"
            n = next(counter)
        raw = envelope.original_content
        with open(os.path.join(self.out, f"mail-{n:04d}.eml"), "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "envelope_from": envelope.mail_from,
            "envelope_to": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "list_unsubscribe": str(msg.get("List-Unsubscribe", "")),
            "list_unsubscribe_post": str(msg.get("List-Unsubscribe-Post", "")),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        }
        path = os.path.join(self.out, f"mail-{n:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def webhook_handler(out):
    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                n = next(counter)
            record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                      "body": body.decode("utf-8")}
            path = os.path.join(out, f"hook-{n:04d}.json")
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
            os.rename(path + ".tmp", path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Hook


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--fail-first", type=int, default=0)
    a = p.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(Handler(a.dir, a.fail_first), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), webhook_handler(a.dir))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"READY {smtp_port} {httpd.server_address[1]}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
