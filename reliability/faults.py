#!/usr/bin/python3
"""Faults, against a service this script starts (default model unless MODEL_PATH is set).

1. Disconnect mid-generation: a raw socket sends a greedy request with max_new_tokens 1024 and
   closes after ~50 ms; /metrics?scope=application's therapeia_running_sequences must return to 0
   within --free-within seconds, then a normal request succeeds. The same request sent connected
   tells how long it runs and how many tokens it makes; the rise of therapeia_tokens_generated_total
   caused by the disconnected request says whether the server cancelled it early (fewer tokens)
   or let it run to its end.
2. Failing requests fail alone: a prompt too long for the context (a clean 400 problem), and a
   request that fills the context exactly (prompt + max_new_tokens == the context); after each a
   normal request succeeds. (No HTTP input reaches a failure inside the native engine that the
   Java side does not check first; the context-filling request is the closest edge.)

    /usr/bin/python3 reliability/faults.py [--port 18291]
"""
import argparse
import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

RUNNING = "therapeia_running_sequences"
TOKENS = "therapeia_tokens_generated_total"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18291)
    ap.add_argument("--free-within", type=float, default=5.0)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    svc = common.Service(args.port, os.path.join(args.out, "faults-server.log"))
    svc.start()
    checks, details = {}, {}

    def normal():
        status, _, body = svc.infer({"user_input": "Thank you for listening.", "use_cache": False,
                                     "max_new_tokens": 32}, timeout=60)
        return status == 200 and "response" in json.loads(body)

    # --- 1. disconnect mid-generation ---
    payload = {"user_input": "Tell me a long story about calm.", "use_cache": False,
               "max_new_tokens": 1024, "temperature": 0}
    # the same request, connected: its length and duration (greedy: the same tokens each time)
    tokens0 = svc.metric(TOKENS)
    status, _, body = svc.infer(payload, timeout=120)
    connected = json.loads(body)
    details["connected_twin"] = {"status": status, "tokens_generated": connected.get("tokens_generated"),
                                 "latency_s": connected.get("latency"),
                                 "finish_reason": connected.get("metadata", {}).get("finish_reason")}
    details["connected_twin"]["tokens_metric_delta"] = svc.metric(TOKENS) - tokens0

    trials = []
    for trial in range(5):
        tokens_before = svc.metric(TOKENS)
        body = json.dumps(payload).encode()
        head = ("POST /api/v1/inference HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (args.port, len(body))).encode()
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        sock.sendall(head + body)
        time.sleep(0.05)
        # was it running when we left? (sampled right before closing)
        running_at_close = svc.metric(RUNNING)
        sock.close()
        closed = time.time()
        freed_after = None
        peak = running_at_close
        while time.time() - closed < args.free_within:
            value = svc.metric(RUNNING)
            peak = max(peak, value)
            if value == 0:
                freed_after = time.time() - closed
                break
            time.sleep(0.01)
        time.sleep(0.5)
        trials.append({"running_at_close": running_at_close, "freed_after_s":
                       None if freed_after is None else round(freed_after, 3),
                       "tokens_generated_by_disconnected": svc.metric(TOKENS) - tokens_before})
    details["disconnect_trials"] = trials
    checks["disconnect_frees_sequence"] = all(t["freed_after_s"] is not None for t in trials)
    checks["normal_after_disconnect"] = normal()
    twin = details["connected_twin"]["tokens_metric_delta"]
    details["disconnect_cancelled_early"] = any(t["tokens_generated_by_disconnected"] < twin for t in trials)

    # --- 2. failing requests fail alone ---
    status, _, body = svc.infer({"user_input": "ab " * 1300, "use_cache": False, "max_new_tokens": 1024})
    details["prompt_too_long"] = {"status": status, "body": body[:400].decode("utf-8", "replace")}
    checks["prompt_too_long_is_clean_400"] = (status == 400 and
                                              json.loads(body).get("field") == "user_input")
    checks["normal_after_prompt_too_long"] = normal()

    # fill the context exactly: measure the prompt's tokens, then ask for the rest of the context
    probe = {"user_input": "ab " * 700, "use_cache": False, "max_new_tokens": 1, "temperature": 0}
    status, _, body = svc.infer(probe)
    input_tokens = json.loads(body)["metadata"]["input_tokens"]
    edge = []
    for extra in (0, 1):
        n = 2048 - input_tokens + extra
        status, _, body = svc.infer(dict(probe, max_new_tokens=n), timeout=120)
        edge.append({"input_tokens": input_tokens, "max_new_tokens": n, "status": status,
                     "body": body[:300].decode("utf-8", "replace")})
    details["context_edge"] = edge
    checks["context_edge_no_5xx"] = all(e["status"] < 500 for e in edge)
    checks["normal_after_context_edge"] = normal()

    ready, live, normal_status, normal_ok = svc.healthy_after()
    checks["healthy_after"] = ready == 200 and live == 200 and normal_ok
    result = {"check": "faults", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "details": details, "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "faults.json"), result)
    svc.stop()
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
