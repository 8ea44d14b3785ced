#!/usr/bin/python3
"""Fuzz: --count (default 10,000) generated bad requests, seeded, against a service this script
starts. Kinds: random bytes, truncated valid JSON, huge strings (fields over their limits and
bodies over limits.body-bytes), invalid UTF-8, deep nesting (up to 10,000 nested arrays/objects),
wrong content types, wrong methods, wrong types per field. Fails on any 5xx other than 503 with
Retry-After, on any hang (no answer within --timeout seconds) and on a connection error (except
a reset while sending a body over the limit after the server answered early); afterwards a valid
request must be answered with a reply and /health/live must be UP. Two kinds must also get one
exact answer: a body that is not UTF-8 (malformed, overlong, surrogate or out-of-range sequences)
is 400 with a problem naming `body`, and a Content-Type that is not JSON (another type, one that
does not parse, a wildcard) is 415 with a problem naming `Content-Type`. Prints counts by kind and
status; exit status 0 when all hold.

    /usr/bin/python3 reliability/fuzz.py [--count 10000] [--seed 42] [--port 18292]
"""
import argparse
import collections
import concurrent.futures
import json
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

BODY_LIMIT = 262144
FIELDS = ["user_input", "conversation_history", "system_prompt", "use_cache", "max_new_tokens",
          "temperature", "top_p", "top_k", "repetition_penalty", "seed"]
WRONG_VALUES = [None, True, False, 0, -1, 1.5, -1e308, 1e309, 2 ** 63, -(2 ** 64), "", "x", "12", "NaN",
                [], [1, 2], {}, {"a": 1}, [{"role": "user"}], [{"role": "robot", "content": "hi"}],
                [{"role": "user", "content": 5}], [{"content": "hi"}], [None], "\u0000", "\ud800"]


def valid():
    return {"user_input": "I've been feeling anxious lately.", "use_cache": False, "max_new_tokens": 8}


def dumps(obj):
    return json.dumps(obj).encode()


def inference_path(r):
    """The plain endpoint, or one time in four the streaming one (same reader, same checks)."""
    return "/api/v1/inference/stream" if r.random() < 0.25 else "/api/v1/inference"


def gen_random_bytes(r):
    return "POST", inference_path(r), "application/json", bytes(r.getrandbits(8) for _ in range(r.randrange(0, 600)))


def gen_truncated(r):
    req = valid()
    if r.random() < 0.5:
        req["conversation_history"] = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]
        req["system_prompt"] = "Be kind."
    body = dumps(req)
    return "POST", inference_path(r), "application/json", body[:r.randrange(0, len(body))]


def gen_huge(r):
    choice = r.randrange(5)
    if choice == 0:  # whole body over the limit
        n = BODY_LIMIT + r.randrange(1, 200000)
        return "POST", inference_path(r), "application/json", dumps({"user_input": "a" * n})
    if choice == 1:  # garbage over the limit, not even JSON
        return "POST", inference_path(r), "application/json", b"x" * (BODY_LIMIT + r.randrange(1, 100000))
    req = valid()
    n = r.choice([4001, 5000, 50000, 200000])
    if choice == 2:
        req["user_input"] = "b" * n
    elif choice == 3:
        req["system_prompt"] = "c" * n
    else:
        req["conversation_history"] = [{"role": "user", "content": "d" * n}]
    return "POST", inference_path(r), "application/json", dumps(req)


BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
            b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80",
            # overlong NUL and slash (2, 3, 4 bytes), a lone low surrogate, a CESU-8 pair, beyond U+10FFFF
            b"\xc0\x80", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xed\xb0\x80", b"\xed\xa0\xbd\xed\xb8\x80",
            b"\xf4\x90\x80\x80"]


def gen_bad_utf8(r):
    req = valid()
    field = r.choice(["user_input", "system_prompt", "history"])
    marker = "MARKERUTF8"
    if field == "history":
        req["conversation_history"] = [{"role": "user", "content": marker}]
    else:
        req[field] = marker
    body = dumps(req).replace(marker.encode(), b"ok " + r.choice(BAD_UTF8) + b" ok")
    if r.random() < 0.2:  # a bad byte outside any string
        body = body.replace(b"{", b"{" + r.choice(BAD_UTF8), 1)
    return "POST", inference_path(r), "application/json", body


def gen_deep(r):
    depth = r.choice([10, 100, 500, 999, 1000, 1001, 2000, 5000, 10000])
    kind = r.randrange(4)
    if kind == 0:
        body = b"[" * depth + b"]" * depth
    elif kind == 1:
        body = b'{"a":' * depth + b"1" + b"}" * depth
    elif kind == 2:
        body = b'{"user_input":' + b"[" * depth + b"]" * depth + b"}"
    else:
        body = (b'{"user_input":"hi","conversation_history":' + b"[" * depth + b"]" * depth + b"}")
    if r.random() < 0.3:  # unclosed
        body = body[:len(body) // 2 + 1]
    return "POST", inference_path(r), "application/json", body


JSON_TYPES = ["", "application/json; charset=latin1", "application/json; charset=utf-16"]  # "": no header


def gen_content_type(r):
    ct = r.choice(["text/plain", "application/xml", "multipart/form-data; boundary=x",
                   "application/x-www-form-urlencoded", "application/octet-stream", "", "garbage",
                   "application/json; charset=latin1", "application/json; charset=utf-16", "*/*",
                   "application/*", "text/plain; charset=utf-8"])
    body = dumps(valid()) if r.random() < 0.5 else b"user_input=hello"
    return "POST", inference_path(r), ct, body


def exact_answer(kind, ctype):
    """(status, problem field) the request must get, or None where only "no 5xx, no hang" holds."""
    if kind == "invalid_utf8":
        return 400, "body"
    if kind == "content_type" and ctype not in JSON_TYPES:
        return 415, "Content-Type"
    return None


def answers_exactly(expected, status, hdrs, data):
    if status != expected[0] or not hdrs.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        problem = json.loads(data)
    except ValueError:
        return False
    return problem.get("status") == expected[0] and problem.get("field") == expected[1]


def gen_method(r):
    method = r.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO"])
    path = r.choice(["/api/v1/inference", "/api/v1/inference/stream", "/api/v1/cache/clear", "/api/v1/metrics",
                     "/api/v1/nothing", "/api/v1/inference/x", "/health/ready", "/metrics"])
    if method == "GET" and path in ("/api/v1/metrics", "/health/ready", "/metrics"):
        method = "DELETE"
    return method, path, "application/json", dumps(valid()) if r.random() < 0.5 else None


def gen_wrong_type(r):
    req = valid()
    for _ in range(r.randrange(1, 3)):
        req[r.choice(FIELDS)] = r.choice(WRONG_VALUES)
    if r.random() < 0.1:
        req = r.choice([[], "text", 5, None, [req]])
    if r.random() < 0.1:
        req = {"unknown_field": 1, **(req if isinstance(req, dict) else {})}
    body = json.dumps(req, allow_nan=True).encode("utf-8", "surrogatepass")
    return "POST", inference_path(r), "application/json", body


GENERATORS = [("random_bytes", gen_random_bytes), ("truncated_json", gen_truncated), ("huge", gen_huge),
              ("invalid_utf8", gen_bad_utf8), ("deep_nesting", gen_deep), ("content_type", gen_content_type),
              ("wrong_method", gen_method), ("wrong_types", gen_wrong_type)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--port", type=int, default=18292)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()

    r = random.Random(args.seed)
    cases = []
    for i in range(args.count):
        name, gen = GENERATORS[i % len(GENERATORS)]
        cases.append((name,) + gen(r))

    svc = common.Service(args.port, os.path.join(args.out, "fuzz-server.log"))
    svc.start()
    lock = threading.Lock()
    by_kind = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    failures = []
    inexact = []  # requests of a kind with one exact answer that got another

    def send(case):
        name, method, path, ctype, body = case
        headers = {"Content-Type": ctype} if ctype else {}
        expected = exact_answer(name, ctype)
        try:
            status, hdrs, data = svc.request(method, path, body=body, headers=headers, timeout=args.timeout)
            outcome = str(status)
            bad = status >= 500 and not (status == 503 and "retry-after" in hdrs)
            if expected and not answers_exactly(expected, status, hdrs, data):
                with lock:
                    inexact.append({"kind": name, "path": path, "content_type": ctype, "expected": list(expected),
                                    "status": status, "reply": data[:200].decode("utf-8", "replace")})
        except TimeoutError:
            outcome, bad, data = "hung", True, b""
        except OSError as e:
            outcome, data = "conn:" + type(e).__name__, repr(e).encode()
            bad = not (body is not None and len(body) > BODY_LIMIT)
        with lock:
            by_kind[name][outcome] += 1
            totals[outcome] += 1
            if bad:
                failures.append({"kind": name, "method": method, "path": path, "content_type": ctype,
                                 "body_len": len(body or b""), "body_head": (body or b"")[:60].decode("latin1"),
                                 "outcome": outcome, "reply": data[:200].decode("utf-8", "replace")})

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(send, cases))
    elapsed = time.time() - t0

    ready, live, normal_status, normal_ok = svc.healthy_after()
    failed_by_kind = collections.Counter(f["kind"] for f in failures)
    inexact_by_kind = collections.Counter(f["kind"] for f in inexact)
    checks = {"no_5xx_no_hang": not failures, "valid_request_answered": normal_ok, "live_up": live == 200,
              "at_least_10000": len(cases) >= 10000 or args.count < 10000,
              "invalid_utf8_is_400_naming_body": inexact_by_kind["invalid_utf8"] == 0,
              "non_json_content_type_is_415_naming_it": inexact_by_kind["content_type"] == 0}
    result = {"check": "fuzz", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "seed": args.seed, "requests": len(cases), "elapsed_s": round(elapsed, 1),
              "counts_by_status": dict(totals), "counts_by_kind": {k: dict(v) for k, v in by_kind.items()},
              "failures": len(failures), "failures_by_kind": dict(failed_by_kind),
              "failure_examples": failures[:3] + [f for f in failures if f["kind"] != "deep_nesting"][:10],
              "inexact": len(inexact), "inexact_by_kind": dict(inexact_by_kind), "inexact_examples": inexact[:10],
              "after": {"ready": ready, "live": live, "valid_request_status": normal_status},
              "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "fuzz.json"), result)
    svc.stop()
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
