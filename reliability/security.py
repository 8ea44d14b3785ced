#!/usr/bin/python3
"""Security, against a service this script starts (ADMIN_TOKEN set):

1. POST /api/v1/cache/clear is refused (401) without a token, with a wrong X-Admin-Token and
   with a wrong Bearer token, and accepted with the right one. The service runs with API_KEY set:
   both inference endpoints refuse (401) a request without it, with a wrong one or one character
   short, and serve it with the key in X-API-Key or as a Bearer token; health stays open.
2. A unique marker sent in user_input (use_cache true, then false, and once in the history and
   system prompt) appears in no line of the server's output (run.sh's stdout and stderr, captured
   to a file), nor in any log file the java process holds open (Payara's server.log if any), nor in
   either metrics endpoint. Read after the service stopped, so that everything was flushed.
3. Cache keys: the response cache stores entries under keyed hashes, HMAC-SHA256 with the cache
   secret over CacheKey's digest of the exact fields (webapp/src/main/java/org/therapeia/cache/
   CacheSecret.java), and seals each value (AES-256-GCM, key and expiry bound in); this script
   checks the source says so. That forged entries are never served is measured by
   reliability/forged_cache.py.

    /usr/bin/python3 reliability/security.py [--port 18293]
"""
import argparse
import json
import os
import re
import sys
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18293)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    token = "sec-" + uuid.uuid4().hex
    api_key = "key-" + uuid.uuid4().hex
    log_path = os.path.join(args.out, "security-server.log")
    svc = common.Service(args.port, log_path, admin_token=token, api_key=api_key)
    svc.start()
    checks, details = {}, {}

    # --- 1. admin token ---
    def clear(headers):
        return svc.request("POST", "/api/v1/cache/clear", body=b"", headers=headers, timeout=30)[0]
    attempts = {
        "no_token": clear({}),
        "wrong_x_admin_token": clear({"X-Admin-Token": "wrong"}),
        "wrong_bearer": clear({"Authorization": "Bearer wrong"}),
        "empty_x_admin_token": clear({"X-Admin-Token": ""}),
        "token_prefix": clear({"X-Admin-Token": token[:-1]}),
        "right_x_admin_token": clear({"X-Admin-Token": token}),
        "right_bearer": clear({"Authorization": "Bearer " + token}),
    }
    details["cache_clear_status"] = attempts
    checks["clear_refused_without_or_wrong_token"] = all(
        v == 401 for k, v in attempts.items() if not k.startswith("right"))
    checks["clear_accepted_with_token"] = all(200 <= v < 300 for k, v in attempts.items() if k.startswith("right"))

    def infer_status(path, headers):
        body = json.dumps({"user_input": "Is the key needed?", "max_new_tokens": 4, "use_cache": False}).encode()
        return svc.request("POST", path, body=body, headers=dict(headers, **{"Content-Type": "application/json",
                                                                             "Accept": "text/event-stream, */*"}))[0]
    key_attempts = {}
    for path in ("/api/v1/inference", "/api/v1/inference/stream"):
        for name, headers in (("no_key", {}), ("wrong_key", {"X-API-Key": "wrong"}), ("empty_key", {"X-API-Key": ""}),
                              ("key_prefix", {"X-API-Key": api_key[:-1]}), ("wrong_bearer", {"Authorization": "Bearer x"}),
                              ("right_x_api_key", {"X-API-Key": api_key}),
                              ("right_bearer", {"Authorization": "Bearer " + api_key})):
            key_attempts[path + " " + name] = infer_status(path, headers)
    details["api_key_status"] = key_attempts
    checks["inference_refused_without_or_wrong_key"] = all(
        v == 401 for k, v in key_attempts.items() if " right" not in k)
    checks["inference_served_with_key"] = all(v == 200 for k, v in key_attempts.items() if " right" in k)
    checks["health_needs_no_key"] = svc.request("GET", "/health/ready")[0] == 200

    # --- 2. marker in no log line ---
    marker = "ZQXMARKER" + uuid.uuid4().hex.upper()
    statuses = []
    for use_cache in (True, True, False):
        status, _, body = svc.infer({"user_input": "I feel %s today." % marker, "use_cache": use_cache,
                                     "max_new_tokens": 16}, timeout=60)
        statuses.append((use_cache, status, json.loads(body).get("cache_hit")))
    status, _, _ = svc.infer({"user_input": "again", "system_prompt": "Remember " + marker,
                              "conversation_history": [{"role": "user", "content": marker},
                                                       {"role": "assistant", "content": "ok " + marker}],
                              "use_cache": True, "max_new_tokens": 16}, timeout=60)
    statuses.append(("history+system_prompt", status, None))
    status, _, _ = svc.infer({"user_input": "Streamed %s." % marker, "use_cache": False, "max_new_tokens": 16},
                             timeout=60, path="/api/v1/inference/stream")
    statuses.append(("streamed", status, None))
    # a bad request carrying the marker: the 400 path must not log it either
    bad_status = svc.request("POST", "/api/v1/inference",
                             body=('{"user_input": "%s", "temperature": "%s"}' % (marker, marker)).encode(),
                             headers={"Content-Type": "application/json", "X-API-Key": api_key})[0]
    statuses.append(("bad_request", bad_status, None))
    details["marker_requests"] = statuses
    checks["marker_requests_answered"] = all(s[1] == 200 for s in statuses[:-1]) and bad_status == 400
    checks["cache_hit_on_repeat"] = statuses[1][2] is True

    metrics_text = svc.request("GET", "/metrics?scope=application")[2] + svc.request("GET", "/api/v1/metrics")[2]
    checks["marker_not_in_metrics"] = marker.encode() not in metrics_text

    # log files the java process has open (Payara's server.log, if it writes one)
    pid = svc.java_pid()
    open_logs = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if re.search(r"\.log(\.\d+)?$|server\.log", target) and os.path.isfile(target):
            open_logs.add(target)
    time.sleep(2)
    contents = {}
    for path in sorted(open_logs):  # Payara deletes its runtime folder (and server.log) when it stops
        with open(path, "rb") as f:
            contents[path] = f.read()
    svc.stop()  # flushes run.sh's captured output
    with open(log_path, "rb") as f:
        contents[log_path] = f.read()
    scanned = {}
    hits = []
    for path, data in contents.items():
        lines = data.splitlines()
        scanned[path] = len(lines)
        hits += ["%s:%d" % (path, i + 1) for i, line in enumerate(lines) if marker.encode() in line]
    details["scanned_log_lines"] = scanned
    details["marker_hits"] = hits[:20]
    checks["marker_in_no_log_line"] = not hits and scanned[log_path] > 0

    # --- 3. cache keys are hashes ---
    src = os.path.join(common.ROOT, "webapp/src/main/java/org/therapeia/cache")
    key_src = open(os.path.join(src, "CacheKey.java")).read()
    secret_src = open(os.path.join(src, "CacheSecret.java")).read()
    cache_src = open(os.path.join(src, "ResponseCache.java")).read()
    checks["cache_key_is_keyed_hash"] = ('MessageDigest.getInstance("SHA-256")' in key_src
                                         and '"HmacSHA256"' in secret_src
                                         and "secret.storedKey(key)" in cache_src
                                         and "secret.unseal(stored" in cache_src)
    service_src = open(os.path.join(common.ROOT,
                                    "webapp/src/main/java/org/therapeia/inference/InferenceService.java")).read()
    details["cache_key_call_sites"] = [line.strip() for line in service_src.splitlines() if "CacheKey.of(" in line]
    details["response_cache_type"] = "Cache<String, String>" if "Cache<String, String>" in cache_src else "?"

    result = {"check": "security", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "marker": marker, "details": details, "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "security.json"), result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
