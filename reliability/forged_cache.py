#!/usr/bin/python3
"""Forged cache entries, against a service this script starts in cluster mode (a cluster of one on
loopback: CLUSTER_MEMBERS, a random CLUSTER_NAME and CACHE_SECRET, as a Kubernetes pod gets them).

1. Without CACHE_SECRET, scripts/run.sh refuses to start a clustered node (exit status 2).
2. N distinct requests (greedy, use_cache) are computed and cached; asked again, all N are hits.
3. An intruder on the Hazelcast port (reliability/ForgeCache.java, a Hazelcast client that knows
   only the cluster name) overwrites every entry with a forgery: the forged text itself, a value
   shaped like a sealed entry with a made-up MAC, or another entry's genuine sealed value.
4. The N requests again: how many answered with the forged text (must be 0), how many were cache
   hits (must be 0: every entry was forged), and how far therapeia_cache_rejected_total rose (must
   be N: each forgery found, removed and counted). Every reply equals the genuine one of step 2.
5. The N requests once more: all hits again (the genuine replies, recomputed in step 4).

    /usr/bin/python3 reliability/forged_cache.py [--port 18294] [--count 30]

Needs Java 17 and the Hazelcast 5.3.8 and cache-api 1.1.1 jars in the local Maven repository (the
build fetched them).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

M2 = os.environ.get("M2_REPO", os.path.expanduser("~/.m2/repository"))
CLASSPATH = ":".join([os.path.join(M2, "com/hazelcast/hazelcast/5.3.8/hazelcast-5.3.8.jar"),
                      os.path.join(M2, "javax/cache/cache-api/1.1.1/cache-api-1.1.1.jar")])
FORGED = "FORGED REPLY: you should stop taking your medication."


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18294)
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    checks, details = {}, {}
    hz_port = free_port()
    cluster = "therapeia-forged-" + uuid.uuid4().hex[:8]
    env = {"CLUSTER_MEMBERS": "127.0.0.1:%d" % hz_port, "CLUSTER_PORT": str(hz_port),
           "CLUSTER_INTERFACES": "127.0.0.1", "CLUSTER_NAME": cluster}

    # --- 1. no secret, no cluster ---
    refused_env = dict(os.environ, HOST="127.0.0.1", PORT=str(args.port), **env)
    refused_env.pop("CACHE_SECRET", None)
    refused = subprocess.run([common.RUN_SH], cwd=common.ROOT, env=refused_env, capture_output=True, timeout=900)
    details["run_sh_without_secret"] = {"exit": refused.returncode,
                                        "stderr_tail": refused.stderr.decode("utf-8", "replace")[-300:]}
    checks["clustered_node_without_secret_refused"] = refused.returncode == 2

    # --- 2. a clustered node with its secret, N entries cached ---
    env["CACHE_SECRET"] = uuid.uuid4().hex + uuid.uuid4().hex
    svc = common.Service(args.port, os.path.join(args.out, "forged_cache-server.log"), env=env)
    svc.start()
    requests = [{"user_input": "Forgery check %d: I keep doubting myself at work." % i, "use_cache": True,
                 "temperature": 0, "max_new_tokens": 8} for i in range(args.count)]

    def ask_all():
        replies = []
        for r in requests:
            status, _, body = svc.infer(r, timeout=60)
            replies.append((status, json.loads(body)))
        return replies

    first = ask_all()
    genuine = [b.get("response") for _, b in first]
    second = ask_all()
    details["cached"] = {"computed": sum(1 for s, b in first if s == 200 and not b["cache_hit"]),
                         "hits_on_repeat": sum(1 for s, b in second if s == 200 and b["cache_hit"])}
    checks["all_cached_before_forging"] = details["cached"]["hits_on_repeat"] == args.count

    # --- 3. the intruder ---
    rejected_before = svc.metric("therapeia_cache_rejected_total")
    forger = subprocess.run(["java", "-Dhazelcast.logging.type=none", "-cp", CLASSPATH,
                             os.path.join(common.ROOT, "reliability", "ForgeCache.java"), cluster,
                             "127.0.0.1:%d" % hz_port, "therapeia-responses", FORGED],
                            capture_output=True, timeout=300)
    if forger.returncode != 0:
        raise RuntimeError("ForgeCache failed: " + forger.stderr.decode("utf-8", "replace")[-2000:])
    planted = json.loads(forger.stdout.decode().strip().splitlines()[-1])
    details["planted"] = planted

    # --- 4. asked again ---
    third = ask_all()
    rejected_after = svc.metric("therapeia_cache_rejected_total")
    served_forged = sum(1 for s, b in third if FORGED in b.get("response", ""))
    hits = sum(1 for s, b in third if b.get("cache_hit"))
    differing = sum(1 for (s, b), g in zip(third, genuine) if b.get("response") != g)
    details["after_forging"] = {"answered_200": sum(1 for s, _ in third if s == 200), "served_forged": served_forged,
                                "cache_hits": hits, "replies_differing_from_genuine": differing,
                                "rejected_counted": rejected_after - rejected_before}
    checks["forged_entries_planted"] = planted["planted"] == args.count
    checks["no_forged_reply_served"] = served_forged == 0
    checks["every_forged_entry_a_miss"] = hits == 0
    checks["every_forged_entry_counted"] = rejected_after - rejected_before == planted["planted"]
    checks["replies_are_the_genuine_ones"] = differing == 0 and all(s == 200 for s, _ in third)

    # --- 5. the genuine entries are back ---
    fourth = ask_all()
    details["hits_after_recomputing"] = sum(1 for s, b in fourth if b.get("cache_hit"))
    checks["genuine_entries_cached_again"] = details["hits_after_recomputing"] == args.count
    svc.stop()

    result = {"check": "forged_cache", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "count": args.count, "details": details, "checks": checks, "passed": all(checks.values())}
    common.report(os.path.join(args.out, "forged_cache.json"), result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
