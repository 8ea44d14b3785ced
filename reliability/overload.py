#!/usr/bin/python3
"""Overload: concurrency 32 against a queue that holds far fewer (QUEUE_CAPACITY=4, BATCH_SIZE=8,
the random-weight model unless MODEL_PATH is set, so that requests of up to 1024 tokens run that long,
REQUEST_TIMEOUT=1 s) for --duration seconds (default 300). Every request must end as 200, 503 with
Retry-After, or 504; none lost (sent == ended), none hung (the client waits REQUEST_TIMEOUT + 30 s);
the java process's VmRSS after the run within 10% of VmRSS after the warm-up; /health/ready and
/health/live UP afterwards, running sequences and queue depth back to 0, and a normal request
succeeds. Exit status 0 when all hold.

    /usr/bin/python3 reliability/overload.py [--duration 300] [--warmup 30] [--port 18290]
"""
import argparse
import collections
import json
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--warmup", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--port", type=int, default=18290)
    ap.add_argument("--queue-capacity", default="4")
    ap.add_argument("--request-timeout", default="1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()

    svc = common.Service(args.port, os.path.join(args.out, "overload-server.log"), env={
        "MODEL_PATH": common.random_weight_model(), "QUEUE_CAPACITY": args.queue_capacity, "REQUEST_TIMEOUT": args.request_timeout})
    t0 = time.time()
    svc.start()
    startup_s = time.time() - t0
    client_timeout = float(args.request_timeout) + 30

    lock = threading.Lock()
    counts = collections.Counter()
    anomalies = []
    state = {"sent": 0, "ended": 0, "hung": 0, "latency_max": {}}

    def worker(idx, stop_at, record):
        rnd = random.Random(args.seed * 1000 + idx)
        while time.time() < stop_at:
            payload = {"user_input": "overload %d %d: I feel stressed about work." % (idx, rnd.randrange(10 ** 9)),
                       "use_cache": False,
                       "max_new_tokens": rnd.choice([16, 64, 256, 1024]),
                       "temperature": rnd.choice([0, 0.7])}
            if record:
                with lock:
                    state["sent"] += 1
            started = time.time()
            try:
                status, headers, body = svc.infer(payload, timeout=client_timeout)
                kind = str(status)
                if status == 503:
                    kind = "503+Retry-After" if "retry-after" in headers else "503-no-Retry-After"
            except TimeoutError:
                kind = "hung"
            except OSError as e:
                kind = "error:" + type(e).__name__
                body = repr(e).encode()
            elapsed = time.time() - started
            if not record:
                continue
            with lock:
                state["ended"] += 1
                counts[kind] += 1
                state["latency_max"][kind] = max(state["latency_max"].get(kind, 0), elapsed)
                if kind not in ("200", "503+Retry-After", "504") and len(anomalies) < 20:
                    anomalies.append({"kind": kind, "body": body[:300].decode("utf-8", "replace")})
            if kind.startswith("503"):
                time.sleep(0.02)  # a short pause, far below Retry-After, to keep the queue overflowing

    def phase(seconds, record):
        stop_at = time.time() + seconds
        threads = [threading.Thread(target=worker, args=(i, stop_at, record)) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    phase(args.warmup, False)
    time.sleep(3)
    rss_before = svc.rss_kib()
    rss_samples = []
    sampler_stop = threading.Event()

    def sample():
        while not sampler_stop.wait(10):
            rss_samples.append(svc.rss_kib())
    threading.Thread(target=sample, daemon=True).start()
    t1 = time.time()
    phase(args.duration, True)
    run_s = time.time() - t1
    sampler_stop.set()
    time.sleep(3)
    rss_after = svc.rss_kib()
    running = svc.metric("therapeia_running_sequences")
    queue = svc.metric("therapeia_queue_depth")
    ready, live, normal_status, normal_ok = svc.healthy_after()

    rss_change = (rss_after - rss_before) / rss_before
    allowed = {"200", "503+Retry-After", "504"}
    checks = {
        "only_200_503RetryAfter_504": set(counts) <= allowed,
        "none_lost": state["sent"] == state["ended"],
        "none_hung": counts["hung"] == 0,
        "rss_within_10pct": abs(rss_change) <= 0.10,
        "ready_up": ready == 200,
        "live_up": live == 200,
        "engine_idle": running == 0 and queue == 0,
        "normal_request_ok": normal_ok,
        "overflowed_queue": counts["503+Retry-After"] > 0,
    }
    result = {
        "check": "overload", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {"concurrency": args.concurrency, "duration_s": args.duration, "warmup_s": args.warmup,
                   "QUEUE_CAPACITY": args.queue_capacity, "REQUEST_TIMEOUT": args.request_timeout,
                   "BATCH_SIZE": os.environ.get("BATCH_SIZE", "8 (default)"), "client_timeout_s": client_timeout,
                   "JAVA_OPTS": os.environ.get("JAVA_OPTS", "")},
        "startup_s": round(startup_s, 1), "measured_s": round(run_s, 1),
        "sent": state["sent"], "ended": state["ended"], "counts": dict(counts),
        "max_latency_s": {k: round(v, 3) for k, v in state["latency_max"].items()},
        "rss_kib_before": rss_before, "rss_kib_after": rss_after, "rss_change_pct": round(100 * rss_change, 2),
        "rss_kib_samples": rss_samples,
        "after": {"ready": ready, "live": live, "running_sequences": running, "queue_depth": queue,
                  "normal_request_status": normal_status},
        "anomalies": anomalies, "checks": checks, "passed": all(checks.values()),
    }
    common.report(os.path.join(args.out, "overload.json"), result)
    svc.stop()
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
