#!/usr/bin/env python3
"""Side by side on CPU: Therapeia, llama.cpp and transformers on the same random weights, batch 1.

A benchmark, not a test: nothing is asserted, numbers are printed (a markdown table last).

* Models: the random-weight folders of bench/cpu_benchmark.py (default smollm2, the SmolLM2-135M
  shape). Ours (`therapeia-bench`) and transformers load the float32 safetensors in the dtype under
  test; llama.cpp loads the same weights converted by its own convert_hf_to_gguf.py to f32, bf16
  and Q8_0 (bench/gguf_convert.py).
* llama.cpp: built from source at a pinned commit outside the repository, once per CPU kind
  (bench/llamacpp_build.py), timed through its C API by bench/llamacpp_worker.py.
* dtypes: float32, bfloat16 and 8-bit: ours `--dtype int8` (weight-only int8) against llama.cpp
  Q8_0; an engine build without int8 shows "n/a (not built)". Transformers runs float32 and
  bfloat16 as in cpu_benchmark.py.
* Interleaved rep by rep (this VM's speed drifts from minute to minute): rep 1 of every (dtype,
  engine) cell, then rep 2 of each, and so on; each rep is one process of that engine (load,
  warm-up generation, one timed generation), so a slow minute hits every cell alike. Medians.
* Per rep, as cpu_benchmark.py measures: prefill tokens/s = prompt tokens / time to first token
  (256-token prompt), decode tokens/s = tokens after the first / their time (64 new tokens,
  greedy, EOS ignored), peak RSS of the engine's process; same thread count for all.
* Decode bandwidth limit per dtype: copy bandwidth (measured at the start and the end, the higher
  kept) / bytes a batch-1 decode step reads (weights at the dtype's size, Q8_0's 34 bytes per 32
  for 8-bit, lm_head in full, one embedding row, KV cache at the mean decode position in that
  dtype, 16-bit for 8-bit).
* CPU kinds (--cpu): `native` (this machine as it is) and `avx2`, an AVX2-only CPU emulated on an
  AVX-512 machine: llama.cpp's AVX2 build, ours with THERAPEIA_CPU_ISA=avx2, and for ours and
  transformers oneDNN, ATen and MKL capped at AVX2 (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY,
  MKL_ENABLE_INSTRUCTIONS).

Usage (the torch venv's python; run measurements under the benchmark lock):
  flock /tmp/therapeia-bench.lock $VENV/bin/python bench/llamacpp_benchmark.py --cpu both \
      --bench-bin native/target/cmake/therapeia-bench
  $VENV/bin/python bench/llamacpp_benchmark.py --quick        # plumbing check: 2 layers, 1 rep
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cpu_benchmark as bench  # noqa: E402
import gguf_convert  # noqa: E402
import llamacpp_build  # noqa: E402

DTYPES = ("float32", "bfloat16", "int8")
ENGINES = ("ours", "llama.cpp", "transformers")
WORKER = os.path.join(HERE, "llamacpp_worker.py")
# Bytes a decode step reads per weight and per KV-cache value, by dtype. 8-bit: Q8_0 stores 32
# int8 values and one float16 scale per block (34 bytes per 32); llama.cpp's KV cache is float16.
WEIGHT_BYTES = {"float32": 4.0, "bfloat16": 2.0, "int8": 34 / 32}
KV_BYTES = {"float32": 4, "bfloat16": 2, "int8": 2}
# The AVX2-only CPU, emulated: the caps of every library our engine and transformers run on.
AVX2_ENV = {"THERAPEIA_CPU_ISA": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
DECODE_TARGET = 0.70  # of the bandwidth limit (issue 16)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def last_line(error):
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "?"


class Cell:
    """One (model, dtype, engine): its reps, or why it has none."""

    def __init__(self):
        self.reps = []
        self.unavailable = None

    def median(self, key):
        values = [r[key] for r in self.reps if r.get(key) is not None]
        return statistics.median(values) if values else None


def run_rep(engine, args, kind_python, folder, dtype):
    """One process of `engine` on (folder, dtype): load, warm-up, one timed generation."""
    one = argparse.Namespace(**dict(vars(args), runs=1))
    if engine == "ours":
        return bench.run_ours(one, folder, dtype, 1)
    if engine == "transformers":
        return bench.run_transformers(one, folder, dtype, 1)
    gguf = gguf_convert.gguf_file(folder, dtype)
    bench.note_busy(f"llama.cpp {os.path.basename(gguf)}")
    return bench.run_measured([kind_python, WORKER, "--gguf", gguf, "--threads", str(args.threads),
                               "--prompt-tokens", str(args.prompt_tokens), "--new-tokens", str(args.new_tokens),
                               "--runs", "1"], env=bench.child_env(args.threads), timeout=args.timeout)


def unavailable_before_running(engine, folder, dtype):
    if engine == "transformers" and dtype == "int8":
        return "n/a (no 8-bit CPU path compared)"
    if engine == "llama.cpp":
        try:
            gguf_convert.gguf_file(folder, dtype)
        except Exception as e:  # the converter refuses some models (see gguf_convert.py)
            return f"n/a (conversion failed: {last_line(e)})"
    return None


def unavailable_after_failure(engine, dtype, error):
    # An engine build without int8 rejects the setting ("dtype 'int8' is not supported"); that is a
    # cell to skip, not a failure. Only the process's stderr counts: the message's first line
    # holds the command, which names int8 anyway.
    stderr = str(error).split("\n", 1)[-1]
    if engine == "ours" and dtype == "int8" and "'int8' is not supported" in stderr:
        return "n/a (not built)"
    return f"n/a (failed: {last_line(error)})"


def run_kind(kind, args, models):
    """All reps of every cell for one CPU kind; returns (results, facts)."""
    for key in AVX2_ENV:
        os.environ.pop(key, None)
    if kind == "avx2":
        os.environ.update(AVX2_ENV)  # inherited by every child through bench.child_env
    python = llamacpp_build.ensure_llamacpp(kind) if "llama.cpp" in args.engines else None
    bench.BUSY_BEFORE.clear()
    facts = {"kind": kind, "load_average_start": load_average()}
    bench.note_busy("the bandwidth measurement")
    bandwidth, read_bandwidth = bench.memory_bandwidth(args.threads)
    log(f"[{kind}] memory bandwidth: copy {bandwidth / 1e9:.2f} GB/s, read-only {read_bandwidth / 1e9:.2f} GB/s")

    results = {}
    for model in models:
        folder = bench.ensure_model(model, args.layers, args.cache_dir)
        for dtype in args.dtypes:
            cells = {engine: Cell() for engine in args.engines}
            for engine, cell in cells.items():
                cell.unavailable = unavailable_before_running(engine, folder, dtype)
            results[(model, dtype, folder)] = cells

    for rep in range(args.runs):
        for (model, dtype, folder), cells in results.items():
            for engine, cell in cells.items():
                if cell.unavailable:
                    continue
                try:
                    res = run_rep(engine, args, python, folder, dtype)
                except (RuntimeError, ValueError) as e:  # failed, killed at --timeout, or no JSON
                    cell.unavailable = unavailable_after_failure(engine, dtype, e)
                    log(f"[{kind}] rep {rep + 1} {model} {dtype} {engine}: {cell.unavailable}")
                    continue
                cell.reps.append(res)
                log(f"[{kind}] rep {rep + 1} {model} {dtype} {engine}: prefill {res['prefill_tokens_per_s']:.1f} "
                    f"tok/s, decode {res['decode_tokens_per_s']:.2f} tok/s, load {load_average()}")

    bench.note_busy("the second bandwidth measurement")
    bandwidth2, read2 = bench.memory_bandwidth(args.threads)
    facts.update({
        "load_average_end": load_average(),
        "copy_bandwidth_gb_s_start_end": [round(bandwidth / 1e9, 2), round(bandwidth2 / 1e9, 2)],
        "bandwidth": max(bandwidth, bandwidth2),  # a busy neighbour only lowers it
        "read_only_bandwidth_gb_s": round(max(read_bandwidth, read2) / 1e9, 2),
        "busy": list(bench.BUSY_BEFORE),
    })
    for (model, dtype, folder), cells in results.items():
        per_token = (bench.weight_bytes_per_token(folder, WEIGHT_BYTES[dtype])
                     + bench.kv_bytes_per_token(folder, KV_BYTES[dtype], args.prompt_tokens + args.new_tokens / 2))
        facts[(model, dtype)] = facts["bandwidth"] / per_token
    llama_reps = [r for cells in results.values() for r in cells.get("llama.cpp", Cell()).reps]
    facts["llama_system_info"] = llama_reps[0]["system_info"] if llama_reps else None
    return results, facts


def describe_kind(kind):
    if kind == "native":
        return "this CPU as it is"
    return ("AVX2-only CPU, EMULATED on this CPU: llama.cpp built with GGML_NATIVE=OFF, AVX2/FMA/F16C on, "
            "AVX-512/AVX-VNNI/AMX off; ours and transformers with " + ", ".join(f"{k}={v}" for k, v in AVX2_ENV.items()))


def times(value):
    return "-" if value is None else f"{value:.2f}x"


def report(kind, results, facts, machine, args):
    fmt, ratio = bench.fmt, bench.ratio
    lines = []
    p = lines.append
    p("")
    p(f"### CPU kind: {kind} ({describe_kind(kind)})")
    p("")
    p(f"- CPU: {machine['cpu']}; flags: {machine['cpu_flags'] or 'no avx2'}; {machine['usable_cpus']} usable of "
      f"{machine['logical_cpus']} logical CPUs, {machine['memory']}; {args.threads} threads for every engine")
    p(f"- llama.cpp {llamacpp_build.LLAMA_CPP_COMMIT[:12]} (llama-cpp-python {llamacpp_build.LLAMA_CPP_PYTHON} "
      f"sdist, built from source): {facts['llama_system_info'] or '-'}")
    p(f"- torch {machine['torch']}, transformers {machine['transformers']}; ours: {args.bench_bin}")
    p(f"- load average at the start {facts['load_average_start']}, at the end {facts['load_average_end']}")
    p(f"- memory bandwidth (copy of 1 GiB, read + write, best of 7, GB/s at the start and the end "
      f"{facts['copy_bandwidth_gb_s_start_end']}): {facts['bandwidth'] / 1e9:.1f} GB/s; read-only "
      f"{facts['read_only_bandwidth_gb_s']:.1f} GB/s")
    p(f"- prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens, batch 1, greedy; medians of {args.runs} "
      f"reps interleaved across engines and dtypes, each rep its own process"
      + (f"; {args.layers} layers (quick mode)" if args.layers else ""))
    p("")
    p("| model | dtype | engine | prefill tok/s | TTFT ms | decode tok/s | decode limit tok/s | % of limit "
      "| peak RSS MB | decode tok/s per rep |")
    p("|---|---|---|--:|--:|--:|--:|--:|--:|---|")
    targets = []
    for (model, dtype, _), cells in results.items():
        limit = facts[(model, dtype)]
        for engine, cell in cells.items():
            if cell.unavailable and not cell.reps:
                p(f"| {model} | {dtype} | {engine} | {cell.unavailable} | | | {fmt(limit, 1)} | | | |")
                continue
            decode = cell.median("decode_tokens_per_s")
            ttft = cell.median("ttft_s")
            p(f"| {model} | {dtype} | {engine} | {fmt(cell.median('prefill_tokens_per_s'))} "
              f"| {fmt(ttft and ttft * 1000)} | {fmt(decode, 2)} | {fmt(limit, 1)} "
              f"| {fmt(decode and 100 * decode / limit, 0)} | {fmt(cell.median('peak_rss_mb'), 0)} "
              f"| {', '.join(fmt(r['decode_tokens_per_s'], 1) for r in cell.reps)} |")
        ours, theirs = cells.get("ours"), cells.get("llama.cpp")
        if ours and theirs:
            prefill_ratio = ratio(ours.median("prefill_tokens_per_s"), theirs.median("prefill_tokens_per_s"))
            decode_ratio = ratio(ours.median("decode_tokens_per_s"), theirs.median("decode_tokens_per_s"))
            p(f"| {model} | {dtype} | **ours / llama.cpp** | **{times(prefill_ratio)}** | "
              f"| **{times(decode_ratio)}** | | | | |")
            ours_decode = ours.median("decode_tokens_per_s")
            targets.append((model, dtype, [
                ("prefill >= llama.cpp", prefill_ratio, 1.0),
                ("decode >= llama.cpp", decode_ratio, 1.0),
                (f"decode >= {DECODE_TARGET:.0%} of limit", ours_decode and ours_decode / limit, DECODE_TARGET),
            ]))
    if facts["busy"]:
        p("")
        p("WARNING: the machine was busy before " + ", ".join(f"{w} ({b:.2f} CPUs)" for w, b in facts["busy"])
          + "; rerun on a quiet machine.")
    if targets:
        p("")
        p(f"Targets (issue 16), {kind}:")
        for model, dtype, checks in targets:
            parts = []
            for label, value, goal in checks:
                mark = "n/a" if value is None else ("ok" if value >= goal else "MISSED")
                parts.append(f"{label}: {fmt(value, 2)} ({mark})")
            p(f"- {model} {dtype}: " + "; ".join(parts))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="Therapeia vs llama.cpp vs transformers on CPU, batch 1")
    ap.add_argument("--cpu", default="native", choices=["native", "avx2", "both"],
                    help="avx2 emulates an AVX2-only CPU on an AVX-512 machine (see the module doc)")
    ap.add_argument("--models", default="smollm2", help=f"comma list of {','.join(bench.MODELS)}")
    ap.add_argument("--dtypes", default=",".join(DTYPES))
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--threads", type=int, default=None, help="default: usable CPUs")
    ap.add_argument("--runs", type=int, default=3, help="reps per cell, interleaved")
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--layers", type=int, default=0, help="override num_hidden_layers (plumbing checks)")
    ap.add_argument("--quick", action="store_true", help="plumbing check: 2 layers, 32-token prompt, 8 new, 1 rep")
    ap.add_argument("--bench-bin", default=os.environ.get("THERAPEIA_BENCH", bench.DEFAULT_BENCH_BIN))
    ap.add_argument("--cache-dir", default=os.environ.get("THERAPEIA_BENCH_MODELS", bench.DEFAULT_CACHE))
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per engine process")
    ap.add_argument("--json-out", help="also write all reps as JSON here")
    args = ap.parse_args()
    args.hf_experts = "default"  # transformers' own experts implementation, as cpu_benchmark.py's default
    if args.quick:
        args.layers, args.prompt_tokens, args.new_tokens, args.runs = 2, 32, 8, 1
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0))
    args.dtypes = [d for d in args.dtypes.split(",") if d]
    args.engines = [e for e in args.engines.split(",") if e]
    models = [m for m in args.models.split(",") if m]
    for name, allowed, given in (("model", bench.MODELS, models), ("dtype", DTYPES, args.dtypes),
                                 ("engine", ENGINES, args.engines)):
        for value in given:
            if value not in allowed:
                ap.error(f"unknown {name} {value}")
    if "ours" in args.engines and not os.access(args.bench_bin, os.X_OK):
        ap.error(f"--bench-bin {args.bench_bin} is not an executable (build therapeia-bench, or leave out ours)")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    t_start = time.time()
    machine = bench.machine_info(args.threads)
    log(f"machine: {json.dumps(machine)}; load average {load_average()}")
    dump = {}
    print(f"## llama.cpp side by side, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    for kind in (["native", "avx2"] if args.cpu == "both" else [args.cpu]):
        results, facts = run_kind(kind, args, models)
        print(report(kind, results, facts, machine, args), flush=True)  # each kind as soon as it is done
        dump[kind] = {"facts": {str(k): v for k, v in facts.items()},
                      "cells": {f"{m}/{d}/{e}": {"reps": c.reps, "unavailable": c.unavailable}
                                for (m, d, _), cells in results.items() for e, c in cells.items()}}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": machine, "args": vars(args), "kinds": dump}, f, indent=1, default=str)
    log(f"total {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
