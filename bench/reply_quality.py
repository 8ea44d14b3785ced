#!/usr/bin/python3
"""How readable a running service's replies are: the share of replies that are valid UTF-8,
printable, made of words, and end at the end-of-turn token (finish_reason "stop").

Sends, with the service's default generation settings and use_cache false (so each reply is
sampled anew), the seed's example request --repeat times, and each of the benchmark client's
messages (benchmark-client/.../TherapeuticMessages.java, read from the source) in each of its
conversation contexts. A reply counts as:
  utf8       its bytes in the HTTP body decode as UTF-8 and it holds no U+FFFD
  printable  no control character other than a newline
  words      every word (a run of letters and apostrophes) is one the default model's corpus
             (scripts/default-model/corpus.jsonl) holds: English the model was taught, no fragments
  stop       metadata.finish_reason is "stop"
and "readable" when all four hold. Prints a table and writes the replies to --out (JSON).

    /usr/bin/python3 bench/reply_quality.py [--url http://127.0.0.1:8080] [--repeat 20] [--out FILE]
"""
import argparse
import http.client
import json
import os
import re
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGES_JAVA = os.path.join(ROOT, "benchmark-client", "src", "main", "java", "org", "therapeia", "benchmark",
                             "TherapeuticMessages.java")
CORPUS = os.path.join(ROOT, "scripts", "default-model", "corpus.jsonl")
SEED_EXAMPLE = "I've been feeling anxious lately."
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


def java_string(literal):
    return json.loads('"' + literal + '"')  # the messages use only escapes JSON shares with Java


def benchmark_inputs():
    """(message, history) pairs: every message in every context, as TherapeuticMessages holds them."""
    source = open(MESSAGES_JAVA, encoding="utf-8").read()
    messages_part, contexts_part = source.split("CONTEXTS", 1)
    messages = [java_string(m) for m in re.findall(r'^\s+"((?:[^"\\]|\\.)*)"[,)]', messages_part, re.M)]
    contexts = [[]]
    for turn in re.findall(r'ChatTurn\.(user|assistant)\(((?:\s*"(?:[^"\\]|\\.)*"\s*\+?)+)\)', contexts_part):
        text = "".join(java_string(s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', turn[1]))
        if turn[0] == "user":
            contexts.append([])
        contexts[-1].append({"role": turn[0], "content": text})
    return [(m, c) for m in messages for c in contexts]


def corpus_words():
    words = set()
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            for message in json.loads(line)["messages"]:
                words.update(w.lower() for w in WORD.findall(message["content"]))
    return words


def ask(url, user_input, history):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=120)
    body = json.dumps({"user_input": user_input, "conversation_history": history, "use_cache": False})
    headers = {"Content-Type": "application/json"}
    if os.environ.get("API_KEY"):
        headers["X-API-Key"] = os.environ["API_KEY"]
    try:
        conn.request("POST", "/api/v1/inference", body=body.encode(), headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def judge(raw, known):
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {"utf8": False, "printable": False, "words": False, "stop": False, "response": None}
    text = reply["response"]
    unknown = sorted({w for w in WORD.findall(text) if w.lower() not in known})
    return {"utf8": "\ufffd" not in text,
            "printable": all(c == "\n" or c.isprintable() for c in text),
            "words": bool(WORD.search(text)) and not unknown,
            "stop": reply["metadata"]["finish_reason"] == "stop",
            "unknown_words": unknown, "tokens": reply["tokens_generated"], "response": text}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "reply-quality.json"))
    args = ap.parse_args()
    known = corpus_words()
    groups = {"seed example": [(SEED_EXAMPLE, [])] * args.repeat, "benchmark messages": benchmark_inputs()}
    results = {}
    print("%-20s %5s %6s %9s %6s %6s %9s" % ("inputs", "n", "utf8", "printable", "words", "stop", "readable"))
    for name, inputs in groups.items():
        rows = []
        for user_input, history in inputs:
            status, raw = ask(args.url, user_input, history)
            if status != 200:
                sys.exit("HTTP %d for a request: %s" % (status, raw[:200]))
            row = judge(raw, known)
            row["readable"] = row["utf8"] and row["printable"] and row["words"] and row["stop"]
            rows.append(dict(row, user_input=user_input, history_turns=len(history)))
        results[name] = rows
        share = {k: sum(r[k] for r in rows) / len(rows) for k in ("utf8", "printable", "words", "stop", "readable")}
        print("%-20s %5d %5.0f%% %8.0f%% %5.0f%% %5.0f%% %8.0f%%" % (name, len(rows), *(100 * share[k] for k in
                                                                         ("utf8", "printable", "words", "stop",
                                                                          "readable"))))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    print("replies: " + args.out)


if __name__ == "__main__":
    main()
