#!/usr/bin/env python3
"""A Standard Webhooks receiver for Vigil's webhook tests.

Every request is verified with the reference `standardwebhooks` library (PyPI), independent of
Vigil's signer. Verified messages go to OUT/verified.jsonl (id and body, one JSON line, once per
id: a redelivery of an id already seen, which at-least-once delivery allows, is counted in
OUT/duplicates.txt instead, as a receiver deduplicating by `webhook-id` would); failed verifications to OUT/bad.txt; every request
to OUT/requests.txt. The files persist across restarts of the receiver on the same OUT.

Modes: ok (204 for a verified message, 401 for a bad one), gone (410 for everything), redirect
(302 to /redirected; a request that reaches /redirected is logged as such). --delay holds each
answer, for timeout tests. Prints "READY <port>" once listening.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


def append(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", required=True, help="whsec_ secret the receiver knows")
    p.add_argument("--out", required=True, help="directory for the result files")
    p.add_argument("--mode", choices=["ok", "gone", "redirect"], default="ok")
    p.add_argument("--delay", type=float, default=0.0)
    args = p.parse_args()

    webhook = Webhook(args.secret)
    os.makedirs(args.out, exist_ok=True)
    verified_path = os.path.join(args.out, "verified.jsonl")
    seen = set()
    lock = threading.Lock()
    if os.path.exists(verified_path):
        with open(verified_path, encoding="utf-8") as f:
            seen = {json.loads(line)["id"] for line in f if line.strip()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            msg_id = self.headers.get("webhook-id", "")
            if args.delay:
                time.sleep(args.delay)
            with lock:
                append(os.path.join(args.out, "requests.txt"), f"{self.path} {msg_id}")
            if self.path == "/redirected":
                self.answer(500)
                return
            if args.mode == "gone":
                self.answer(410)
                return
            if args.mode == "redirect":
                self.answer(302, {"Location": "/redirected"})
                return
            try:
                webhook.verify(body, dict(self.headers.items()))
            except Exception as e:  # any verification failure is a bad signature
                with lock:
                    append(os.path.join(args.out, "bad.txt"), f"{msg_id} {type(e).__name__}: {e}")
                self.answer(401)
                return
            with lock:
                if msg_id in seen:
                    append(os.path.join(args.out, "duplicates.txt"), msg_id)
                else:
                    seen.add(msg_id)
                    append(verified_path, json.dumps({"id": msg_id, "body": body.decode()}))
            self.answer(204)

        def do_GET(self):
            # Only a followed redirect would GET: log it and accept it, so following one shows.
            with lock:
                append(os.path.join(args.out, "requests.txt"), f"{self.path} GET")
            self.answer(200)

        def answer(self, status, headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"READY {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
