#!/usr/bin/env python3
"""Learns the crisis detector's word weights from the project's labelled sets.

The rules (webapp/src/main/resources/safety/rules-<language>.json) catch what somebody wrote down;
fresh phrasings of indirect ideation ("my parents would be less stressed with me gone") mostly
escape them. This script learns, from every labelled message we have in a language, how much each word
and each pair of adjacent words says "risk (level >= 2)", by logistic regression, and which
category a risky message belongs to, by a softmax over the categories. RuleDetector adds their
verdict to the rules' (WordScorer reads the file this writes). It is data like the rules: a table
of numbers, no model runtime, no network.

Inputs: webapp/src/test/resources/safety/*-<language>.tsv, except the
blind held-out sets holdout7-*.tsv, which measure the result and are never trained on. Multi-turn rows
are left out: their label belongs to the whole conversation, and the detector scores one message
at a time.

Output: webapp/src/main/resources/safety/words-<language>.json, the same bytes for the same inputs
(full-batch gradient descent from zeros, a fixed number of steps, no randomness).

Usage: scripts/train-crisis-words.py [LANGUAGE]   (default en; needs numpy: the venv of
scripts/setup-toolchain.sh)
"""
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "webapp/src/test/resources/safety"
OUT = ROOT / "webapp/src/main/resources/safety"
HELD_OUT_PREFIX = "holdout7-"
RISK_GROUPS = {"direct", "indirect", "method_plan", "imminent", "self_harm", "harm_to_others", "abuse", "medical",
               "third_person", "misspelling"}
CATEGORIES = ["suicide", "self_harm", "harm_to_others", "abuse", "medical"]  # as the labelled sets name them
CATEGORY_IDS = ["suicide", "self_harm", "harm_to_others", "abuse", "medical_emergency"]  # as Category.id() does
MIN_COUNT = 2  # a feature seen once says more about its sentence than about the phenomenon
L2 = 1e-3  # weight decay: spreads the weight over the many words that say the same
STEPS = 3000
LEARNING_RATE = 1.0
# The probability above which a message counts as risk, chosen on the ~270 distinct user messages
# of the default model's corpus (everyday therapy openers, its ~15 crisis examples aside) as the
# lowest that flags no more of them than before (2-3): 0.72 flags 2 ("I feel like I've wasted my
# life", "My parents are divorcing and both of them want me to take their side"), 0.7 four (with
# "I'm having a bad day"), 0.75 none. The other languages have no such corpus and take the same
# value (their blind everyday sets measure what it costs them).
THRESHOLD = 0.72
# How each language's text is cut into stems, written into the weights file for WordScorer to read
# the same way: the endings cut to a stem (the first that leaves at least three letters), and whether
# an apostrophe is dropped (English: "don't" and "dont", "I'm" and "im" are one word whichever way a
# person types it; with the apostrophe kept, texting style itself became a risk signal: "im" weighed
# +1.0) or separates two words (elision: "j'ai", "l'ecole").
# Light stemming on purpose: with a few thousand labelled messages, "morir", "muero", "muerte"
# must share features to teach one thing, and a wrong cut only merges two rare words.
TOKENS = {
    "en": {"apostrophes": "drop", "endings": ["ing", "ed", "es", "s", "ly"]},
    "es": {"apostrophes": "split",
           "endings": ["amente", "mente", "aciones", "acion", "iendo", "ando", "arme", "erme", "irme", "arte", "erte",
                       "irte", "arse", "erse", "irse", "adas", "idas", "ados", "idos", "ada", "ida", "ado", "ido",
                       "aban", "aba", "ias", "ia", "ar", "er", "ir", "as", "es", "os", "a", "o", "e", "s"]},
    "fr": {"apostrophes": "split",
           "endings": ["issements", "issement", "ements", "ement", "ations", "ation", "euses", "euse", "aient", "ables",
                       "able", "ais", "ait", "ant", "ions", "iez", "ons", "eux", "ez", "er", "ir", "re", "es", "ee", "e",
                       "s", "x"]},
    "de": {"apostrophes": "split",
           "endings": ["ungen", "ung", "heit", "keit", "lich", "isch", "ern", "em", "en", "er", "es", "st", "et", "e",
                       "n", "s", "t"]},
}


def normalised(text):
    """Lower case, accents dropped (people type "esta" for "está", "tote" for "töte"), sharp s as
    "ss". WordScorer.normalised must stay the same."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).replace("\u00df", "ss")


def stem(word, endings):
    """The first of endings that leaves at least three letters, cut. WordScorer.stem must stay the same."""
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def features(text, tokens):
    """The stems of the normalised words (runs of letters, apostrophes dropped or splitting words as the
    language has it), every pair of adjacent stems, and every pair one stem apart ("want _ die").

    WordScorer.features in the webapp must stay the same function.
    """
    text = normalised(text)
    if tokens["apostrophes"] == "drop":
        text = text.replace("'", "")
    stems = [stem(w, tokens["endings"]) for w in re.findall(r"[a-z]+", text)]
    return (set(stems) | {a + " " + b for a, b in zip(stems, stems[1:])}
            | {a + " _ " + b for a, b in zip(stems, stems[2:])})


def labelled_rows(language):
    files = sorted(p for p in SETS.glob(f"*-{language}.tsv") if not p.name.startswith(HELD_OUT_PREFIX))
    rows = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            group, level, category, text = line.split("\t")[:4]
            if group == "multi_turn" or " || " in text:
                continue
            rows.append((group, int(level), category, text))
    return files, rows


class SparseRows:
    """The rows' features as (row, feature) index pairs: [rows, features] with a 1 at each pair.

    A message has a few dozen of the thousands of features, so products through the pairs take a
    few hundred thousand additions where a dense matrix took hundreds of millions (minutes per
    training); np.bincount adds in a fixed order, so the result is the same on every run.
    """

    def __init__(self, row_features, index):
        pairs = [(r, index[f]) for r, fs in enumerate(row_features) for f in sorted(fs) if f in index]
        self.rows = np.array([r for r, _ in pairs], dtype=np.int64)
        self.cols = np.array([c for _, c in pairs], dtype=np.int64)
        self.shape = (len(row_features), len(index))

    def subset(self, kept):
        """The rows listed in kept, renumbered from 0."""
        position = np.full(self.shape[0], -1, dtype=np.int64)
        position[np.asarray(kept, dtype=np.int64)] = np.arange(len(kept))
        chosen = position[self.rows] >= 0
        out = SparseRows.__new__(SparseRows)
        out.rows, out.cols, out.shape = position[self.rows[chosen]], self.cols[chosen], (len(kept), self.shape[1])
        return out

    def times(self, w):
        """x @ w for w of [features] or [features, classes]."""
        if w.ndim == 1:
            return np.bincount(self.rows, weights=w[self.cols], minlength=self.shape[0])
        return np.stack([self.times(w[:, k]) for k in range(w.shape[1])], axis=1)

    def transposed_times(self, v):
        """x.T @ v for v of [rows] or [rows, classes]."""
        if v.ndim == 1:
            return np.bincount(self.cols, weights=v[self.rows], minlength=self.shape[1])
        return np.stack([self.transposed_times(v[:, k]) for k in range(v.shape[1])], axis=1)


def fit_logistic(x, y, l2):
    weights, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(x.times(weights) + bias)))
        weights -= LEARNING_RATE * (x.transposed_times(p - y) / len(y) + l2 * weights)
        bias -= LEARNING_RATE * float((p - y).mean())
    return weights, bias


def fit_softmax(x, labels, classes, l2):
    weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
    target = np.eye(classes)[labels]
    for _ in range(STEPS):
        z = x.times(weights) + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        weights -= LEARNING_RATE * (x.transposed_times(p - target) / len(labels) + l2 * weights)
        bias -= LEARNING_RATE * (p - target).mean(axis=0)
    return weights, bias


def main():
    language = sys.argv[1] if len(sys.argv) > 1 else "en"
    tokens = TOKENS[language]
    files, rows = labelled_rows(language)
    row_features = [features(text, tokens) for _, _, _, text in rows]
    counts = Counter(f for fs in row_features for f in fs)
    vocabulary = sorted(f for f, c in counts.items() if c >= MIN_COUNT)
    index = {f: i for i, f in enumerate(vocabulary)}
    x = SparseRows(row_features, index)  # [rows, features], 1 where the row has the feature
    risky = np.array([level >= 2 and group in RISK_GROUPS for group, level, _, _ in rows])
    # One head per level: "risk" (>= 2), "high" (>= 3), "imminent" (>= 4); the detector asks the
    # next one only when the one below says yes, so a higher head never adds a false positive.
    heads = {}
    for name, least in (("risk", 2), ("high", 3), ("imminent", 4)):
        y = np.array([level >= least and group in RISK_GROUPS for group, level, _, _ in rows], dtype=np.float64)
        heads[name] = fit_logistic(x, y, L2)

    categorised = [r for r, (_, _, category, _) in enumerate(rows) if risky[r] and category in CATEGORIES]
    labels = np.array([CATEGORIES.index(rows[r][2]) for r in categorised])
    category_weights, category_bias = fit_softmax(x.subset(categorised), labels, len(CATEGORIES), L2)

    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    model = {
        "language": language,
        "version": digest.hexdigest()[:12],
        "_comment": "Written by scripts/train-crisis-words.py from the labelled sets named in 'trained_on'; "
                    "do not edit by hand. Risk probability: sigmoid(bias + sum of the weights of the message's "
                    "features); category: the largest of category_bias + the sum of the features' category weights. One such "
                    "probability per level head (risk, high, imminent).",
        "trained_on": [p.name for p in files],
        "rows": len(rows),
        "threshold": THRESHOLD,
        "tokens": tokens,
        "levels": {"risk": 2, "high": 3, "imminent": 4},
        "bias": {name: round(float(b), 6) for name, (_, b) in heads.items()},
        "categories": CATEGORY_IDS,
        "category_bias": [round(float(b), 6) for b in category_bias],
        "features": {f: {**{name: round(float(w[i]), 6) for name, (w, _) in heads.items()},
                         "categories": [round(float(w), 6) for w in category_weights[i]]}
                     for f, i in index.items()},
    }

    def probability(head, text):  # with the rounded weights, as WordScorer reads them
        z = model["bias"][head] + sum(model["features"][f][head] for f in features(text, tokens) if f in model["features"])
        return 1.0 / (1.0 + np.exp(-z))

    examples = [rows[r][3] for r in range(0, len(rows), max(1, len(rows) // 12))][:12]
    model["checks"] = [{"text": t, **{head: round(float(probability(head, t)), 9) for head in heads}}
                       for t in examples]
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"words-{language}.json"
    # one feature a line, so that a retraining shows as a readable diff
    head = {k: v for k, v in model.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False) + ": " + json.dumps(w, separators=(",", ":"))
             for f, w in model["features"].items()]
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "features": {\n' + ",\n".join(lines) + "\n }\n}\n"
    target.write_text(text, encoding="utf-8")
    print(f"{target}: {len(rows)} rows from {len(files)} sets, {len(vocabulary)} features, "
          f"{int(risky.sum())} risky, version {model['version']}")


if __name__ == "__main__":
    main()
