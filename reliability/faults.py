#!/usr/bin/python3
"""Faults, against a service this script starts (the random-weight model unless MODEL_PATH is set:
a disconnect can only be seen in the middle of a long generation).

1. Disconnect mid-generation: a raw socket sends a greedy request with max_new_tokens 1024 to the
   streaming endpoint and closes after the first event; /metrics?scope=application's
   therapeia_running_sequences must return to 0 within --free-within seconds, and the rise of
   therapeia_tokens_generated_total (every token the engine made) must stay below that of the same
   request sent connected: the server cancelled the generation. Then a normal request succeeds.
   The same is measured for the plain endpoint (closed ~50 ms after sending), which cannot notice
   a departed client and runs the generation to its end: checked is only that its sequence is then
   freed, within 3 times the connected request's own time.
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
ABANDONED = "therapeia_requests_abandoned_total"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18291)
    ap.add_argument("--free-within", type=float, default=5.0)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    svc = common.Service(args.port, os.path.join(args.out, "faults-server.log"),
                         env={"MODEL_PATH": common.random_weight_model()})
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

    def disconnect(path, wait_for_first_event, free_within):
        """Sends payload to path on a raw socket and closes it: after the first event or comment of
        a stream, or ~50 ms after sending a plain request. Returns how the server took it, waiting
        up to free_within seconds for the sequence to be freed."""
        tokens_before = svc.metric(TOKENS)
        body = json.dumps(payload).encode()
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "Accept: text/event-stream, application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (path, args.port, len(body))).encode()
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        sock.sendall(head + body)
        if wait_for_first_event:
            received = b""
            while b"\nevent:" not in received and b"\n:" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        else:
            time.sleep(0.05)
        running_at_close = svc.metric(RUNNING)  # was it running when we left?
        sock.close()
        closed = time.time()
        freed_after = None
        while time.time() - closed < free_within:
            if svc.metric(RUNNING) == 0:
                freed_after = time.time() - closed
                break
            time.sleep(0.01)
        time.sleep(0.5)
        return {"running_at_close": running_at_close,
                "freed_after_s": None if freed_after is None else round(freed_after, 3),
                "tokens_generated_by_disconnected": svc.metric(TOKENS) - tokens_before}

    twin = details["connected_twin"]["tokens_metric_delta"]
    abandoned_before = svc.metric(ABANDONED)
    streamed = [disconnect("/api/v1/inference/stream", True, args.free_within) for _ in range(5)]
    details["stream_disconnect_trials"] = streamed
    details["stream_abandoned_counted"] = svc.metric(ABANDONED) - abandoned_before
    checks["stream_disconnect_frees_sequence"] = all(t["freed_after_s"] is not None for t in streamed)
    checks["stream_disconnect_cancels_generation"] = all(
        t["tokens_generated_by_disconnected"] < twin for t in streamed)
    checks["normal_after_stream_disconnect"] = normal()

    # the plain endpoint cannot notice a departed client (README, NOTES.md): its generation runs to
    # its end, so what is checked is only that the sequence is then freed, within three times the
    # connected twin's own time (a fixed limit failed on a machine loaded by other work: one of five
    # was still generating after 5 s)
    plain_limit = max(args.free_within, 3 * details["connected_twin"]["latency_s"])
    plain = [disconnect("/api/v1/inference", False, plain_limit) for _ in range(5)]
    details["plain_disconnect_trials"] = plain
    checks["plain_disconnect_frees_sequence"] = all(t["freed_after_s"] is not None for t in plain)
    details["plain_disconnect_cancelled_early"] = any(t["tokens_generated_by_disconnected"] < twin for t in plain)
    checks["normal_after_plain_disconnect"] = normal()

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
