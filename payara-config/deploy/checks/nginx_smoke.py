#!/usr/bin/env python3
"""Runs payara-config/deploy/nginx/nginx.conf for real, on loopback, in front of two fake nodes,
and checks what the file promises: least-connections balancing, a node's 503 + Retry-After passed
through untouched and not retried elsewhere, a 503 problem with Retry-After when no node answers,
413 over the body limit, streamed replies passed on unbuffered, the operator locations, and unknown
paths refused.

The fake nodes speak only as much HTTP as the checks need; the real service is checked by its own
tests. Ports are picked free on 127.0.0.1; nothing else is contacted. Usage:
    nginx_smoke.py NGINX_CONF
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

failures = 0


def check(what, ok, detail=""):
    global failures
    print(("  ok   " if ok else "  FAIL ") + "nginx: " + what + ("" if ok else "  (" + detail + ")"))
    if not ok:
        failures += 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeNode(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name):
        self.name = name
        self.hits = 0
        self.down = False
        self.lock = threading.Lock()
        self.stream_aborted = threading.Event()
        super().__init__(("127.0.0.1", 0), FakeHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "application/problem+json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def gone(self):
        # a stopped node: drop the (kept-alive) connection without answering
        if self.server.down:
            self.close_connection = True
            return True
        return False

    def do_GET(self):
        if self.gone():
            return
        self.reply(200, {"node": self.server.name, "path": self.path})

    def do_POST(self):
        if self.gone():
            return
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.hits += 1
        if self.path.endswith("/stream"):
            self.stream()
            return
        if request.get("busy"):
            self.reply(503, {"type": "urn:therapeia:problem:queue-full", "status": 503, "node": self.server.name},
                       [("Retry-After", "7")])
            return
        time.sleep(float(request.get("hold", 0)))
        self.reply(200, {"node": self.server.name})


    def stream(self):
        # server-sent events the way a node streams a reply: the first piece, a pause of 1.5 s,
        # then a piece every 0.2 s for 4 s; a write that fails is what tells a node its client left
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for i in range(21):
                self.wfile.write(b'event: token\ndata: {"text": "piece %d"}\n\n' % i)
                self.wfile.flush()
                time.sleep(1.5 if i == 0 else 0.2)
        except OSError:
            self.server.stream_aborted.set()


def first_event_after(port, path):
    """Seconds from sending a POST to path until the first server-sent event arrives; the client
    hangs up right after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        start = time.time()
        sock.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2\r\n\r\n{}" % path).encode())
        received = b""
        while b"event: token" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            received += chunk
        return time.time() - start


def call(port, method, path, body=None, timeout=15):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), payload
    finally:
        conn.close()


def node_of(payload):
    try:
        return json.loads(payload).get("node")
    except ValueError:
        return None


def main():
    conf = os.path.abspath(sys.argv[1])
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    a, b = FakeNode("A"), FakeNode("B")
    port = free_port()
    work = tempfile.mkdtemp(prefix="therapeia-nginx-")
    text = open(conf).read()
    upstreams = re.findall(r"server 127\.0\.0\.1:(\d+)", text)
    if len(upstreams) != 2:
        check("two upstream servers on 127.0.0.1 to stand in for", False, str(upstreams))
        return 1
    text = text.replace("127.0.0.1:%s " % upstreams[0], "127.0.0.1:%d " % a.port)
    text = text.replace("127.0.0.1:%s " % upstreams[1], "127.0.0.1:%d " % b.port)
    text = re.sub(r"listen \d+;", "listen 127.0.0.1:%d;" % port, text)
    text = re.sub(r"error_log \S+", "error_log %s/error.log" % work, text)
    text = re.sub(r"access_log \S+", "access_log %s/access.log" % work, text)
    if os.geteuid() != 0:
        text = re.sub(r"^user .*;$", "", text, flags=re.M)
    test_conf = os.path.join(work, "nginx.conf")
    with open(test_conf, "w") as f:
        f.write(text)

    proc = subprocess.Popen([nginx, "-p", work, "-c", test_conf, "-g", "daemon off; pid %s/nginx.pid;" % work],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        if proc.poll() is not None:
            check("nginx starts", False, proc.stdout.read().decode(errors="replace"))
            return 1

        status, _, payload = call(port, "POST", "/api/v1/inference", {"user_input": "hi"})
        check("POST /api/v1/inference reaches a node", status == 200 and node_of(payload) in ("A", "B"),
              "%s %r" % (status, payload))

        # least_conn: while one request holds a node, the next ones go to the other node (round
        # robin would alternate and put every second one on the busy node)
        held = {}

        def hold():
            held["reply"] = call(port, "POST", "/api/v1/inference", {"hold": 2})

        t = threading.Thread(target=hold)
        t.start()
        time.sleep(0.5)
        others = [node_of(call(port, "POST", "/api/v1/inference", {"n": i})[2]) for i in range(4)]
        t.join()
        busy = node_of(held["reply"][2])
        check("least_conn: requests avoid the node busy with a long generation",
              busy in ("A", "B") and all(n is not None and n != busy for n in others),
              "busy node %s, others went to %s" % (busy, others))

        # a node's 503 passes through with its Retry-After, and is not retried on the other node
        hits_before = a.hits + b.hits
        status, headers, payload = call(port, "POST", "/api/v1/inference", {"busy": True})
        check("a node's 503 reaches the client with its Retry-After and body",
              status == 503 and headers.get("retry-after") == "7" and b"queue-full" in payload,
              "%s %s %r" % (status, headers.get("retry-after"), payload))
        check("a node's 503 is not retried on another node", a.hits + b.hits - hits_before == 1,
              "nodes saw %d requests" % (a.hits + b.hits - hits_before))

        status, _, _ = call(port, "POST", "/api/v1/inference", b"x" * (300 * 1024))
        check("a body over 256 KiB ends at the balancer with 413", status == 413, str(status))

        first = first_event_after(port, "/api/v1/inference/stream")
        check("a streamed reply's first event passes before the next one is written (no buffering)",
              first is not None and first < 1.2, "first event after %s s; the second comes at 1.5 s" % first)
        aborted = any(node.stream_aborted.wait(timeout=6) for node in (a, b))
        check("a client that hangs up mid-stream makes the node's next write fail (nginx closes upstream)",
              aborted, "the node wrote the whole stream")

        status, _, payload = call(port, "GET", "/health/ready")
        check("/health/ready is proxied", status == 200 and b"/health/ready" in payload, str(status))
        status, _, _ = call(port, "GET", "/metrics")
        check("/metrics is proxied for this host", status == 200, str(status))
        status, _, _ = call(port, "POST", "/api/v1/cache/clear")
        check("/api/v1/cache/clear is proxied for this host", status == 200, str(status))
        status, _, _ = call(port, "GET", "/etc/passwd")
        check("unknown paths answer 404 without reaching a node", status == 404, str(status))

        for node in (a, b):
            node.down = True
            node.shutdown()
            node.server_close()
        status, headers, payload = call(port, "POST", "/api/v1/inference", {"user_input": "hi"})
        problem = {}
        try:
            problem = json.loads(payload)
        except ValueError:
            pass
        check("no node reachable: 503 problem+json with Retry-After",
              status == 503 and headers.get("retry-after") == "5"
              and headers.get("content-type", "").startswith("application/problem+json")
              and problem.get("status") == 503,
              "%s %s %r" % (status, headers, payload))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
