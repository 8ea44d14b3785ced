#!/usr/bin/env python3
"""Multi-turn conversations against a running Therapeia service (seed API), the workload of the
prefix cache (issue 12): CONVERSATIONS conversations of TURNS turns, CONCURRENCY at a time; each
turn resends the system prompt, the whole history and the model's previous replies. Greedy and
without the response cache, so that runs with the prefix cache off and on compute the same replies.

Per turn index it prints TTFT (the service's metadata.time_to_first_token: arrival to first token)
and the client's latency, P50/P95, prompt tokens computed vs reused (metadata.input_tokens,
input_tokens_reused), the history messages the prompt kept (P50, metadata.history_messages), and
"held, not reused": the tokens the conversation's previous turn left in its KV slot (its prompt
and reply but the last sampled token) that this turn did not reuse. That is 0 when the prompt
extends the previous one exactly; otherwise the history window's start moved, another
conversation took the slot, or the reply as resent does not tokenise back to the generated ids
(crisis resources added to it, say). --compare A.json B.json prints the on/off ratios of two runs.

Turn 1 comes in two kinds, printed apart under each table: the first CONCURRENCY conversations
start together on an idle engine (their prefills share one step and nothing decodes beside them),
the later ones start as another ends, beside running conversations, like every later turn (the
steady state). By default conversation i opens like conversation i mod 3, so a later conversation's
first turn reuses an earlier one's whole prompt and computes one token; --distinct-openers gives
each conversation its own first message (a new user's first turn in the steady state): the message
of conversation i opened by a greeting naming i, since the plain messages come back as later turns
of other conversations, and once a history window has moved, an earlier conversation's prompt may
start with the very message that opens a later one (the system prompt, that message and the model's
greedy reply to it: the later one's whole first prompt, found warm).
--think-time S waits S seconds between a reply and the conversation's next turn, as a person reads
and types: where the engine is then idle, the service prefills the beginning of a turn whose
history window will move (prefix_cache.prefill_ahead), so that turn computes only its own message.
Stdlib only.

  conversation_benchmark.py --url http://127.0.0.1:18191 --label on --json on.json
  conversation_benchmark.py --compare off.json on.json
"""
import argparse
import json
import statistics
import sys
import threading
import time
import urllib.request

SYSTEM_PROMPT = (
    "You are a supportive, non-judgemental listener in a mental-health support service. Reflect what the "
    "person says, ask one gentle open question at a time, never diagnose, never give medical advice, and "
    "keep replies short and warm. If the person mentions any risk to their safety, encourage them to reach "
    "out to local emergency services or a crisis line right away. Respect their pace, and remember that "
    "they are the expert on their own life; your role is to help them think, not to decide for them.")
USER_MESSAGES = [
    "I've been feeling anxious lately and I can't really say why.",
    "It's worse in the evenings, when everything is quiet.",
    "Work has been a lot. My manager keeps changing priorities.",
    "I lie awake going over conversations from the day.",
    "My partner says I should just relax, which doesn't help.",
    "I used to run in the mornings but I stopped a few months ago.",
    "Sometimes I feel like I'm letting everyone down.",
    "I tried writing things down once and it helped a little.",
    "I don't want to make a big deal of it with my friends.",
    "Maybe I could try the running again this week.",
    "What would a small first step look like?",
    "Thank you, this helped me think it through.",
]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def post(url, body, timeout):
    request = urllib.request.Request(url + "/api/v1/inference", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        payload = json.loads(reply.read())
    return payload, time.perf_counter() - start


def conversation(args, index, results, lock):
    history = []
    for turn in range(args.turns):
        opener = (f"Hello, I'm user {index + 1}. " + USER_MESSAGES[index % len(USER_MESSAGES)]
                  if args.distinct_openers else USER_MESSAGES[index % 3])
        user = USER_MESSAGES[(index + turn) % len(USER_MESSAGES)] if turn else opener
        body = {"user_input": user, "conversation_history": history, "system_prompt": SYSTEM_PROMPT,
                "use_cache": False, "temperature": 0.0, "max_new_tokens": args.max_new_tokens}
        reply, latency = post(args.url, body, args.timeout)
        meta = reply["metadata"]
        with lock:
            results.append({"conversation": index, "turn": turn + 1, "latency": latency,
                            "ttft": meta["time_to_first_token"], "queue": meta.get("queue_time", 0.0),
                            "input_tokens": meta["input_tokens"],
                            "reused": meta.get("input_tokens_reused", 0),
                            "generated": reply["tokens_generated"], "history_messages": meta["history_messages"]})
        history = history + [{"role": "user", "content": user}, {"role": "assistant", "content": reply["response"]}]
        if turn + 1 < args.turns:
            time.sleep(args.think_time)  # the person reads the reply and types the next message


def run(args):
    results, lock, pending = [], threading.Lock(), list(range(args.conversations))
    errors = []

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                index = pending.pop(0)
            try:
                conversation(args, index, results, lock)
            except Exception as e:  # a failed conversation is reported, not hidden
                errors.append(f"conversation {index}: {e}")

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("\n".join(errors), file=sys.stderr)
    return results


def held_not_reused(results):
    """Per result (conversation, turn): what the previous turn's slot held that this turn did not reuse."""
    by_key = {(r["conversation"], r["turn"]): r for r in results}
    lost = {}
    for (conversation, turn), r in by_key.items():
        previous = by_key.get((conversation, turn - 1))
        if previous is not None and "generated" in previous:
            held = previous["input_tokens"] + previous["generated"] - 1
            lost[(conversation, turn)] = max(0, held - r["reused"])
    return lost


def table(label, results, concurrency):
    lines = [f"### {label}", "",
             "| turn | n | TTFT P50 (ms) | TTFT P95 (ms) | latency P50 (ms) | latency P95 (ms) | history kept P50 "
             "| prompt tokens | computed | reused | held, not reused |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lost = held_not_reused(results)
    for turn in sorted({r["turn"] for r in results}):
        rows = [r for r in results if r["turn"] == turn]
        ttft = [r["ttft"] * 1000 for r in rows]
        latency = [r["latency"] * 1000 for r in rows]
        kept = [r["history_messages"] for r in rows if "history_messages" in r]
        prompt = sum(r["input_tokens"] for r in rows)
        reused = sum(r["reused"] for r in rows)
        turn_lost = [lost[(r["conversation"], turn)] for r in rows if (r["conversation"], turn) in lost]
        lines.append(f"| {turn} | {len(rows)} | {percentile(ttft, 50):.0f} | {percentile(ttft, 95):.0f} | "
                     f"{percentile(latency, 50):.0f} | {percentile(latency, 95):.0f} | "
                     f"{percentile(kept, 50) if kept else '-'} | {prompt} | {prompt - reused} | {reused} | "
                     f"{sum(turn_lost) if turn_lost else '-'} |")
    prompt = sum(r["input_tokens"] for r in results)
    reused = sum(r["reused"] for r in results)
    lines.append(f"| all | {len(results)} | | | | | | {prompt} | {prompt - reused} | {reused} | {sum(lost.values())} |")
    lines.append("")
    lines.extend(first_turns(results, concurrency))
    return "\n".join(lines)


def first_turns(results, concurrency):
    """Turn 1 in its two kinds: the first CONCURRENCY conversations start together on an idle engine
    (their prefills share one step, nothing decodes beside them), the later ones start as another
    conversation ends, beside running ones, as the other turns do (the steady state)."""
    lines = []
    for kind, rows in (("started together on an idle engine", [r for r in results if r["turn"] == 1
                                                                and r["conversation"] < concurrency]),
                       ("started later, beside running conversations", [r for r in results if r["turn"] == 1
                                                                         and r["conversation"] >= concurrency])):
        if rows:
            ttft = [r["ttft"] * 1000 for r in rows]
            queue = [r.get("queue", 0.0) * 1000 for r in rows]
            computed = [r["input_tokens"] - r["reused"] for r in rows]
            lines.append(f"turn 1, {len(rows)} conversations {kind}: TTFT P50 {percentile(ttft, 50):.0f} ms, "
                         f"queue P50 {percentile(queue, 50):.0f} ms, computed P50 {percentile(computed, 50)} tokens")
    return lines


def compare(off_file, on_file):
    off, on = (json.load(open(f)) for f in (off_file, on_file))
    if not off["results"] or not on["results"]:
        return "nothing to compare: a run has no results"
    lines = ["### prefix cache on / off (same turn index)", "",
             "| turn | TTFT P50 off (ms) | TTFT P50 on (ms) | on/off | latency P50 off (ms) | latency P50 on (ms) | on/off |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for turn in sorted({r["turn"] for r in on["results"]}):
        def p50(results, key):
            return percentile([r[key] * 1000 for r in results if r["turn"] == turn], 50)
        a, b = p50(off["results"], "ttft"), p50(on["results"], "ttft")
        c, d = p50(off["results"], "latency"), p50(on["results"], "latency")
        lines.append(f"| {turn} | {a:.0f} | {b:.0f} | {b / a:.2f} | {c:.0f} | {d:.0f} | {d / c:.2f} |")
    first = percentile([r["ttft"] for r in on["results"] if r["turn"] == 1], 50)
    last_turn = max(r["turn"] for r in on["results"])
    last = percentile([r["ttft"] for r in on["results"] if r["turn"] == last_turn], 50)
    lines.append("")
    lines.append(f"prefix cache on: TTFT P50 turn {last_turn} / turn 1 = {last / first:.2f}")
    later = [r["ttft"] for r in on["results"] if r["turn"] == 1 and r["conversation"] >= on["args"]["concurrency"]]
    if later:
        lines.append(f"prefix cache on: TTFT P50 turn {last_turn} / turn 1 of the conversations that started later "
                     f"(the steady state) = {last / percentile(later, 50):.2f}")
    lines.extend(first_turns(on["results"], on["args"]["concurrency"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--think-time", type=float, default=0.0,
                        help="seconds between a reply and the conversation's next turn (a person reading and "
                             "typing; the service prefills a moved window's beginning ahead when idle)")
    parser.add_argument("--distinct-openers", action="store_true",
                        help="every conversation opens with its own message (by default conversation i opens like "
                             "conversation i mod 3, so a later one's first turn reuses an earlier one's whole prompt)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--label", default="run")
    parser.add_argument("--json")
    parser.add_argument("--compare", nargs=2, metavar=("OFF_JSON", "ON_JSON"))
    args = parser.parse_args()
    if args.compare:
        print(compare(*args.compare))
        return 0
    results = run(args)
    print(table(args.label, results, args.concurrency))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "args": vars(args), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
