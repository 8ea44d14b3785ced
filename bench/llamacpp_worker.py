#!/usr/bin/env python3
"""Times llama.cpp on one GGUF file, the way therapeia-bench times our engine; prints one JSON line.

Runs inside the llama.cpp venv that bench/llamacpp_build.py made (its python has the llama_cpp
bindings and numpy, nothing else), started by bench/llamacpp_benchmark.py once per rep.

It calls llama.cpp's C API through the bindings' ctypes layer, as llama-bench does through C++:
one context, batch 1, the prompt in one llama_decode (n_batch = n_ubatch = prompt length), then one
llama_decode per new token. Python adds a few microseconds per token (a ctypes call and a numpy
argmax) to steps of milliseconds.

Measured as our therapeia-bench measures itself, after one warm-up generation:
* prefill tokens/s = prompt tokens / time to first token, where the first token is the greedy pick
  from the prompt's last logits (a user sees that one first);
* decode tokens/s = (new tokens - 1) / time from the first token to the last, each step decoding
  the previous greedy pick.
Flash attention is left at llama.cpp's own default (auto), KV cache at its default type (f16).
"""

import argparse
import json
import random
import statistics
import sys
import time

import llama_cpp as llama
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()

    llama.llama_backend_init()
    model_params = llama.llama_model_default_params()
    model_params.n_gpu_layers = 0
    model = llama.llama_model_load_from_file(args.gguf.encode(), model_params)
    if not model:
        raise SystemExit(f"llama.cpp could not load {args.gguf}")
    n_vocab = llama.llama_vocab_n_tokens(llama.llama_model_get_vocab(model))

    ctx_params = llama.llama_context_default_params()
    ctx_params.n_ctx = args.prompt_tokens + args.new_tokens + 8
    ctx_params.n_batch = args.prompt_tokens  # the whole prompt in one llama_decode, as our engine takes it
    ctx_params.n_ubatch = args.prompt_tokens
    ctx_params.n_threads = args.threads
    ctx_params.n_threads_batch = args.threads
    ctx = llama.llama_init_from_model(model, ctx_params)
    if not ctx:
        raise SystemExit("llama.cpp could not create a context")
    memory = llama.llama_get_memory(ctx)
    rng = random.Random(1234)

    def decode(tokens):
        """Feeds tokens after what the KV cache holds; returns the greedy pick from the last logits."""
        array = (llama.llama_token * len(tokens))(*tokens)
        rc = llama.llama_decode(ctx, llama.llama_batch_get_one(array, len(tokens)))
        if rc != 0:
            raise SystemExit(f"llama_decode returned {rc}")
        logits = np.ctypeslib.as_array(llama.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        return int(logits.argmax())  # reading the logits waits for the computation

    def generate(new_tokens):
        llama.llama_memory_clear(memory, True)
        prompt = [rng.randrange(3, n_vocab) for _ in range(args.prompt_tokens)]
        start = time.perf_counter()
        token = decode(prompt)
        first = time.perf_counter()
        for _ in range(new_tokens - 1):
            token = decode([token])
        return first - start, time.perf_counter() - first

    generate(2)  # warm-up: buffer allocation, thread pool start, weight repacking
    prefill, ttft, decode_rates = [], [], []
    for _ in range(args.runs):
        to_first, rest = generate(args.new_tokens)
        ttft.append(to_first)
        prefill.append(args.prompt_tokens / to_first)
        decode_rates.append((args.new_tokens - 1) / rest)

    print(json.dumps({
        "prefill_tokens_per_s": statistics.median(prefill),
        "ttft_s": statistics.median(ttft),
        "decode_tokens_per_s": statistics.median(decode_rates),
        "batch": 1,
        "runs": args.runs,
        "threads": args.threads,
        "system_info": llama.llama_print_system_info().decode(),
    }))
    llama.llama_free(ctx)
    llama.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
