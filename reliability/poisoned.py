#!/usr/bin/python3
"""Poisoned requests among ordinary ones, against a service this script starts (default model
unless MODEL_PATH is set).

Issue 10: one request with "temperature": 1e-39, sent while four ordinary requests ran, made all
five answer 500. Here every ordinary greedy request is first sent alone, and its reply kept; then,
in each of --rounds rounds, the ordinary requests are sent again all at once together with every
extreme value of every generation parameter that still parses as JSON (huge, negative, 1e-39,
subnormal, beyond a double or a long, -0, a fraction for an integer, numbers as strings; to both
inference endpoints) and with requests at the very edges of the accepted ranges. Checks:

- ordinary_harmed == 0: an ordinary request is harmed when it does not answer 200 with the reply
  it gave alone;
- every poisoned request answers its own 4xx problem naming its field (no 5xx, none hung);
- every edge-of-range request answers 200 (the engine computes it safely);
- afterwards ready and live UP, a normal request answered, no engine failure counted
  (therapeia_errors_total{kind="engine"} and {kind="sequence_failed"} unchanged).

    /usr/bin/python3 reliability/poisoned.py [--rounds 5 --port 18297]
"""
import argparse
import concurrent.futures
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PLAIN = "/api/v1/inference"
STREAM = "/api/v1/inference/stream"
ORDINARY = 8
HI = '"user_input": "I feel a little better today.", "use_cache": false, "max_new_tokens": 24'

# parameter -> extreme JSON values (as written in the body); each is refused with a 400 naming it
EXTREMES = {
    "temperature": ["1e-39", "-1e-39", "4.9e-324", "1e-400", "0.001", "1e308", "1e400", "-1e400", "-0.5",
                    "1e999999999", '"NaN"', '"Infinity"', '"0.7"', "true", "[0.7]", "{}"],
    "repetition_penalty": ["1e-39", "4.9e-324", "0", "-0.0", "-1.1", "1e308", "1e400", "0.0099", "10.5",
                           '"NaN"'],
    "top_p": ["0", "-0.0", "1e-400", "1.0000001", "1e308", "-1", '"0.9"'],
    "top_k": ["-1", "2147483648", "9223372036854775808", "1e19", "1e308", "2.5", "1e-400", '"50"'],
    "seed": ["9223372036854775808", "-9223372036854775809", "1e19", "1e999999999", "0.5", "1e-400", '"1"'],
    "max_new_tokens": ["0", "-1", "-0.0", "1025", "2147483648", "9223372036854775808", "1e308", "1.5"],
}
# accepted, at the edges of the ranges: each computed safely by the engine, 200
EDGES = [
    "{" + HI + ', "temperature": 0.01, "repetition_penalty": 0.01}',
    "{" + HI + ', "temperature": 5, "repetition_penalty": 10, "top_k": 2147483647}',
    "{" + HI + ', "temperature": 0.01, "top_p": 1e-300, "seed": -9223372036854775808}',
    "{" + HI + ', "temperature": -0.0, "repetition_penalty": 0.01, "seed": 9223372036854775807}',
    "{" + HI + ', "temperature": 5e0, "top_p": 1, "top_k": 0, "seed": 0}',
]


def poisoned_bodies():
    bodies = []
    for field, values in EXTREMES.items():
        for value in values:
            if field == "max_new_tokens":
                body = '{"user_input": "Hello.", "use_cache": false, "max_new_tokens": %s}' % value
            elif field == "temperature":
                body = "{%s, \"temperature\": %s}" % (HI, value)
            else:
                body = "{%s, \"temperature\": 0.7, \"%s\": %s}" % (HI, field, value)
            bodies.append((field, value, body))
    return bodies


def ordinary_body(i):
    return json.dumps({"user_input": "Ordinary request %d among poisoned ones." % i, "use_cache": False,
                       "max_new_tokens": 32, "temperature": 0})


def post(svc, path, body, timeout=60):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if svc.api_key:
        headers["X-API-Key"] = svc.api_key
    try:
        status, resp_headers, data = svc.request("POST", path, body=body.encode(), headers=headers,
                                                 timeout=timeout)
        return status, resp_headers.get("content-type", ""), data
    except OSError as e:  # a hang (timeout) or a dropped connection
        return None, "", repr(e).encode()


def errors(svc, kind):
    _, _, data = svc.request("GET", "/metrics?scope=application", timeout=10)
    total = 0.0
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("therapeia_errors_total{") and 'kind="%s"' % kind in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18297)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    svc = common.Service(args.port, os.path.join(args.out, "poisoned-server.log"))
    svc.start()
    checks, details = {}, {}

    alone = []
    for i in range(ORDINARY):
        status, _, data = post(svc, PLAIN, ordinary_body(i))
        if status != 200:
            raise RuntimeError("ordinary request %d alone answered %s: %s" % (i, status, data[:300]))
        alone.append(json.loads(data)["response"])

    engine_before = {k: errors(svc, k) for k in ("engine", "sequence_failed")}
    poisoned = poisoned_bodies()
    counts = {"ordinary_sent": 0, "ordinary_harmed": 0, "poisoned_sent": 0, "poisoned_4xx_naming_field": 0,
              "poisoned_5xx": 0, "poisoned_other": 0, "edge_sent": 0, "edge_200": 0}
    harmed, wrong_poisoned, wrong_edges = [], [], []
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        for r in range(args.rounds):
            # the poisoned request first, the ordinary ones right behind it, then the rest
            jobs = [("poisoned", poisoned[0], pool.submit(post, svc, PLAIN, poisoned[0][2]))]
            for i in range(ORDINARY):
                jobs.append(("ordinary", i, pool.submit(post, svc, PLAIN, ordinary_body(i))))
            for n, edge in enumerate(EDGES):
                jobs.append(("edge", n, pool.submit(post, svc, PLAIN, edge)))
            for n, p in enumerate(poisoned[1:], start=1):
                path = STREAM if (n + r) % 2 else PLAIN
                jobs.append(("poisoned", p, pool.submit(post, svc, path, p[2])))
            for kind, what, future in jobs:
                status, content_type, data = future.result()
                if kind == "ordinary":
                    counts["ordinary_sent"] += 1
                    ok = status == 200 and json.loads(data).get("response") == alone[what]
                    if not ok:
                        counts["ordinary_harmed"] += 1
                        harmed.append({"round": r, "request": what, "status": status,
                                       "body": data[:300].decode("utf-8", "replace")})
                elif kind == "edge":
                    counts["edge_sent"] += 1
                    if status == 200:
                        counts["edge_200"] += 1
                    else:
                        wrong_edges.append({"round": r, "body": EDGES[what], "status": status,
                                            "reply": data[:300].decode("utf-8", "replace")})
                else:
                    field, value, _ = what
                    counts["poisoned_sent"] += 1
                    named = False
                    if status is not None and 400 <= status < 500 and content_type.startswith(
                            "application/problem+json"):
                        named = json.loads(data).get("field") == field
                    if named:
                        counts["poisoned_4xx_naming_field"] += 1
                    else:
                        counts["poisoned_5xx" if status is not None and status >= 500 else "poisoned_other"] += 1
                        wrong_poisoned.append({"round": r, "field": field, "value": value, "status": status,
                                               "reply": data[:300].decode("utf-8", "replace")})
    details["seconds"] = round(time.time() - started, 1)
    details["counts"] = counts
    details["poisoned_values_per_round"] = {f: len(v) for f, v in EXTREMES.items()}
    details["harmed"] = harmed[:20]
    details["poisoned_not_refused_as_expected"] = wrong_poisoned[:20]
    details["edges_not_200"] = wrong_edges[:20]

    checks["ordinary_harmed_is_zero"] = counts["ordinary_harmed"] == 0
    checks["every_poisoned_request_refused_naming_its_field"] = (
        counts["poisoned_4xx_naming_field"] == counts["poisoned_sent"])
    checks["every_edge_request_answered"] = counts["edge_200"] == counts["edge_sent"]
    engine_after = {k: errors(svc, k) for k in engine_before}
    details["engine_errors_before_after"] = {k: [engine_before[k], engine_after[k]] for k in engine_before}
    checks["no_engine_failure"] = engine_after == engine_before
    ready, live, normal_status, normal_ok = svc.healthy_after()
    checks["healthy_after"] = ready == 200 and live == 200 and normal_ok
    result = {"check": "poisoned", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "details": details, "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "poisoned.json"), result)
    svc.stop()
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
