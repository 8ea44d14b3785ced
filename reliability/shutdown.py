#!/usr/bin/python3
"""Shutdown under load, against a service this script starts (the random-weight model unless MODEL_PATH
is set: its greedy replies run to max_new_tokens, so generations are in flight when the stop comes).

16 streaming and 16 plain clients each send one long greedy request (max_new_tokens 1024,
use_cache false) to a service with BATCH_SIZE=4 and ENGINE_THREADS=1, so that most of them are
still running or waiting when, once the engine is busy, the java process gets SIGTERM. While it
drains (SHUTDOWN_DRAIN_SECONDS, --drain, default 3 s: short, so that some generations finish and
some do not), a prober sends new requests and health probes. Each client is counted as:

  reply    a full reply: 200 with the response object, or a stream ending with its `done` event
  problem  a 503 application/problem+json with Retry-After (plain), or a stream ending with an
           `error` event holding a problem (generations the drain could not finish)
  other    anything else: another status or body, a stream that ends without done or error, a
           connection closed or reset
  hang     no end within the client's timeout (request.timeout + 60 s)

Checks: hang == 0, other == 0, replies + problems == 32; the java process exits by itself within
the drain time plus --margin seconds (default 20) with status 0 or 143 (128 + SIGTERM: the JVM's
ordinary end after its shutdown hooks); its output shows no JVM crash ("A fatal error has been
detected", SIGSEGV) and no hs_err_pid*.log appeared in the checkout or the server's folders. What
new requests and health probes got during the drain is recorded, not checked (Payara itself
answers them with its own 503 page once it has begun to stop the application).

    /usr/bin/python3 reliability/shutdown.py [--port 18294] [--drain 3] [--margin 20]
"""
import argparse
import collections
import glob
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CLIENTS_PER_KIND = 16
REQUEST_TIMEOUT = 30


def classify_plain(status, headers, body):
    if status == 200:
        try:
            return "reply" if "response" in json.loads(body) else "other"
        except ValueError:
            return "other"
    problem = headers.get("content-type", "").startswith("application/problem+json")
    if status == 503 and problem and "retry-after" in headers:
        return "problem"
    return "other"


def classify_stream(status, headers, body):
    if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
        return classify_plain(status, headers, body)  # refused before the stream began
    events = [line[len("event:"):].strip() for line in body.decode("utf-8", "replace").split("\n")
              if line.startswith("event:")]
    last = events[-1] if events else None
    if last == "done":
        return "reply"
    if last == "error":
        data = body.decode("utf-8", "replace").rsplit("data:", 1)[-1].strip()
        try:
            problem = json.loads(data.split("\n", 1)[0])
            return "problem" if "status" in problem and "type" in problem else "other"
        except ValueError:
            return "other"
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18294)
    ap.add_argument("--drain", type=float, default=3)
    ap.add_argument("--margin", type=float, default=20)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    log_path = os.path.join(args.out, "shutdown-server.log")
    hs_err_before = set(glob.glob(os.path.join(common.ROOT, "**", "hs_err_pid*.log"), recursive=True))
    svc = common.Service(args.port, log_path, env={
        "MODEL_PATH": common.random_weight_model(), "SHUTDOWN_DRAIN_SECONDS": "%g" % args.drain, "BATCH_SIZE": "4", "ENGINE_THREADS": "1",
        "REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)})
    svc.start()
    java_pid = svc.java_pid()
    client_timeout = REQUEST_TIMEOUT + 60

    lock = threading.Lock()
    outcomes = []

    def client(i, stream):
        payload = {"user_input": "Tell me a long story about a calm lake, number %d." % i,
                   "use_cache": False, "max_new_tokens": 1024, "temperature": 0}
        path = "/api/v1/inference/stream" if stream else "/api/v1/inference"
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream" if stream else "application/json"}
        started = time.time()
        try:
            conn = http.client.HTTPConnection(svc.host, svc.port, timeout=client_timeout)
            conn.request("POST", path, body=json.dumps(payload).encode(), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            hdrs = dict((k.lower(), v) for k, v in resp.getheaders())
            kind = (classify_stream if stream else classify_plain)(resp.status, hdrs, body)
            detail = "%d %s" % (resp.status, body[-200:].decode("utf-8", "replace").replace("\n", " "))
            conn.close()
        except TimeoutError:
            kind, detail = "hang", "no end within %d s" % client_timeout
        except OSError as e:
            kind, detail = "other", repr(e)
        except http.client.HTTPException as e:
            kind, detail = "other", repr(e)
        with lock:
            outcomes.append({"client": i, "stream": stream, "kind": kind, "seconds": round(time.time() - started, 2),
                             "detail": detail if kind == "other" else None})

    threads = [threading.Thread(target=client, args=(i, i % 2 == 0)) for i in range(2 * CLIENTS_PER_KIND)]
    for t in threads:
        t.start()
    # SIGTERM once the engine is busy with them
    busy = {"running": 0.0, "queue": 0.0}
    deadline = time.time() + 30
    while time.time() < deadline:
        busy = {"running": svc.metric("therapeia_running_sequences"), "queue": svc.metric("therapeia_queue_depth")}
        if busy["running"] >= 4 and busy["queue"] >= 8:
            break
        time.sleep(0.05)
    sigterm_at = time.time()
    os.kill(java_pid, signal.SIGTERM)

    # new requests and readiness while it drains: recorded
    during = collections.Counter()
    while svc.proc.poll() is None and time.time() - sigterm_at < args.drain + args.margin:
        for method, path, body in (("GET", "/health/ready", None),
                                   ("POST", "/api/v1/inference",
                                    json.dumps({"user_input": "A new request.", "max_new_tokens": 4}).encode())):
            try:
                status, hdrs, _ = svc.request(method, path, body=body, timeout=10,
                                              headers={"Content-Type": "application/json"})
                during["%s %s: %d %s%s" % (method, path, status, hdrs.get("content-type", "").split(";")[0],
                                           " Retry-After" if "retry-after" in hdrs else "")] += 1
            except (OSError, http.client.HTTPException) as e:
                during["%s %s: %s" % (method, path, type(e).__name__)] += 1
        time.sleep(0.2)
    try:
        exit_code = svc.proc.wait(max(1.0, args.drain + args.margin - (time.time() - sigterm_at)))
        exited_after = time.time() - sigterm_at
    except subprocess.TimeoutExpired:
        exit_code, exited_after = None, None
    for t in threads:
        t.join(client_timeout + 10)
    svc.stop()  # kills it should it still be there

    with open(log_path, "rb") as f:
        server_output = f.read().decode("utf-8", "replace")
    hs_err = sorted(set(glob.glob(os.path.join(common.ROOT, "**", "hs_err_pid*.log"), recursive=True))
                    - hs_err_before)
    counts = collections.Counter(o["kind"] for o in outcomes)
    checks = {
        "no_client_hung": counts["hang"] == 0 and all(not t.is_alive() for t in threads),
        "every_client_got_a_reply_or_a_problem": counts["other"] == 0
        and counts["reply"] + counts["problem"] == 2 * CLIENTS_PER_KIND,
        "exited_within_drain_plus_margin": exited_after is not None,
        "clean_exit_status": exit_code in (0, 143),
        "no_jvm_crash": "A fatal error has been detected" not in server_output and "SIGSEGV" not in server_output
        and not hs_err,
    }
    result = {"check": "shutdown", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "drain_seconds": args.drain, "busy_at_sigterm": busy,
              "counts": {k: counts[k] for k in ("reply", "problem", "other", "hang")},
              "counts_by_endpoint": {
                  "stream": dict(collections.Counter(o["kind"] for o in outcomes if o["stream"])),
                  "plain": dict(collections.Counter(o["kind"] for o in outcomes if not o["stream"]))},
              "exit_code": exit_code, "exited_after_s": None if exited_after is None else round(exited_after, 2),
              "during_drain": dict(during), "hs_err_files": hs_err,
              "outcomes": sorted(outcomes, key=lambda o: o["client"]),
              "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "shutdown.json"), result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
