#!/usr/bin/env python3
"""CPU benchmark: Therapeia (therapeia-bench) against Hugging Face transformers on the same weights.

A benchmark, not a test: nothing is asserted, numbers are printed. One run on one machine:

* creates random-weight models of real shapes with transformers (cached under --cache-dir, so a
  rerun only loads them):
    smollm2  LlamaForCausalLM shaped like SmolLM2-135M: hidden 576, 30 layers, 9 heads, 3 KV
             heads, intermediate 1536, vocabulary 49152, tied embeddings, rope theta 1e5
    olmoe    OlmoeForCausalLM shaped like OLMoE-1B-7B with the width divided by 4 and everything
             else kept: hidden 512 (was 2048), expert size 256 (was 1024), 16 layers, 64 experts,
             top-8 (1/8 of the expert weights active per token, as in OLMoE), 8 heads of 64, q/k
             norm, vocabulary 50304, untied. 471M parameters (1.9 GB in float32), 93M active.
* measures the machine's memory bandwidth (best of several 1 GiB tensor copies, bytes read +
  written per second, with the benchmark's thread count);
* runs each engine in its own subprocess per (model, dtype, batch), peak memory read from that
  process's rusage (ru_maxrss): ours through `therapeia-bench`, transformers in a worker mode of
  this script (eager attention, the same float32 files loaded in the same dtype,
  torch.set_num_threads(--threads));
* measures, medians over --runs: prefill tokens/s and time to first token for a 256-token prompt
  (batch 1), decode tokens/s at batch 1 and 8 (64 new tokens, equal-length random prompts,
  greedy, EOS ignored), peak RSS;
* prints for batch-1 decode the bandwidth limit (bandwidth / bytes read per token: every weight
  read once per token, the lm_head in full, one embedding row, the k routed experts out of E,
  and the KV cache at the mean decode position) and the fraction of it each engine reaches;
* prints ours / transformers ratios, the issue's targets, the machine, and a markdown table last.

Usage (venv with torch + transformers, e.g. /root/.cache/therapeia/venv-torch2.11.0/bin/python):
  python bench/cpu_benchmark.py --bench-bin native/target/cmake/therapeia-bench
  python bench/cpu_benchmark.py --models smollm2 --dtypes float32 --engines transformers  # no binary
  python bench/cpu_benchmark.py --layers 2 --runs 1 --new-tokens 8   # a quick dry run of the plumbing
"""

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_BENCH_BIN = os.path.join(REPO, "native", "target", "cmake", "therapeia-bench")
DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "therapeia", "bench-models")
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2

MODELS = {
    "smollm2": dict(
        cls="LlamaForCausalLM",
        about="SmolLM2-135M shape (Llama)",
        config=dict(
            vocab_size=49152,
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            max_position_embeddings=2048,
            rms_norm_eps=1e-5,
            tie_word_embeddings=True,
            rope_parameters=dict(rope_type="default", rope_theta=100000.0),
            hidden_act="silu",
        ),
    ),
    "olmoe": dict(
        cls="OlmoeForCausalLM",
        about="OLMoE-1B-7B layout, width / 4 (64 experts top-8)",
        config=dict(
            vocab_size=50304,
            hidden_size=512,
            intermediate_size=256,  # per expert
            num_hidden_layers=16,
            num_attention_heads=8,
            num_key_value_heads=8,
            num_experts=64,
            num_experts_per_tok=8,
            norm_topk_prob=False,
            max_position_embeddings=4096,
            rms_norm_eps=1e-5,
            tie_word_embeddings=False,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        ),
    ),
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# models


def model_config(name, layers):
    spec = MODELS[name]
    cfg = dict(spec["config"], pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID)
    if layers:
        cfg["num_hidden_layers"] = layers
    return spec["cls"], cfg


def ensure_model(name, layers, cache_dir):
    """Creates (once, in a subprocess) a random-weight float32 checkpoint; returns its folder."""
    cls_name, cfg = model_config(name, layers)
    key = json.dumps([cls_name, cfg, package_version("transformers")], sort_keys=True)
    folder = os.path.join(cache_dir, f"{name}-L{cfg['num_hidden_layers']}-{hashlib.sha256(key.encode()).hexdigest()[:10]}")
    if not os.path.exists(os.path.join(folder, ".complete")):
        log(f"creating {name} ({cfg['num_hidden_layers']} layers) in {folder} ...")
        res = run_measured([sys.executable, os.path.abspath(__file__), "--worker", "make-model", "--models", name,
                            "--layers", str(layers), "--model-dir", folder], env=child_env(os.cpu_count()))
        log(f"  {res['parameters'] / 1e6:.1f}M parameters, {res['wall_s']:.1f} s")
    return folder


def make_model_worker(args):
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    cls_name, cfg = model_config(args.models, args.layers)
    key = json.dumps([cls_name, cfg, transformers.__version__], sort_keys=True)
    torch.manual_seed(0)
    cls = getattr(transformers, cls_name)
    model = cls(cls.config_class(**cfg))  # transformers' own init: normal(0, initializer_range)
    model.generation_config = transformers.GenerationConfig(bos_token_id=BOS_ID, eos_token_id=EOS_ID,
                                                            pad_token_id=PAD_ID)
    model.save_pretrained(args.model_dir)
    with open(os.path.join(args.model_dir, ".complete"), "w") as f:
        f.write(key + "\n")
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters())}))
    return 0


def safetensors_shapes(folder):
    """{name: shape} from the JSON headers of the folder's .safetensors files (no torch needed)."""
    shapes = {}
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".safetensors"):
            with open(os.path.join(folder, fn), "rb") as f:
                n = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(n))
            shapes.update({k: v["shape"] for k, v in header.items() if k != "__metadata__"})
    return shapes


def weight_bytes_per_token(folder, dtype_bytes):
    """Bytes of weights a batch-1 decode step reads: every tensor once, except the embedding (one
    row; in full when it doubles as the lm_head) and the experts (top-k of E)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    experts = cfg.get("num_experts") or cfg.get("num_local_experts")
    top_k = cfg.get("num_experts_per_tok")
    tied = cfg.get("tie_word_embeddings", False)
    total = 0.0
    for name, shape in safetensors_shapes(folder).items():
        n = 1
        for s in shape:
            n *= s
        if "embed_tokens" in name and not tied:
            n = shape[-1]  # one row
        elif ".experts." in name and experts:
            n = n * top_k / experts
        total += n * dtype_bytes
    return total


def kv_bytes_per_token(folder, dtype_bytes, context):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    return 2 * cfg["num_hidden_layers"] * kv_heads * head_dim * context * dtype_bytes


# ------------------------------------------------------------------------------------------------
# subprocesses


def run_measured(cmd, env=None, timeout=None):
    """Runs cmd; returns (its last stdout line as JSON + wall_s + peak_rss_mb of that very process,
    from wait4's rusage, so both engines are measured the same way)."""
    t0 = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    res = json.loads(stdout.strip().splitlines()[-1])
    res["self_reported_peak_rss_mb"] = res.get("peak_rss_mb")
    res["peak_rss_mb"] = usage.ru_maxrss / 1024.0  # KiB on Linux
    res["wall_s"] = time.time() - t0
    return res


def cpu_busy(seconds=0.5):
    """CPUs kept busy by anything on the machine over `seconds` (from /proc/stat), or None."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total (jiffies)

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return None
    cpus = os.cpu_count() or 1
    return cpus * (1 - (idle1 - idle0) / max(1, total1 - total0))


BUSY_BEFORE = []  # (what, busy CPUs just before it started)


def child_env(threads):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def note_busy(what):
    busy = cpu_busy()
    if busy is not None and busy > 0.25:
        log(f"  warning: {busy:.2f} CPUs busy before {what}: another process competes, timings are suspect")
        BUSY_BEFORE.append((what, busy))


def run_ours(args, folder, dtype, batch):
    note_busy(f"ours {os.path.basename(folder)} {dtype} batch {batch}")
    cmd = [args.bench_bin, "--model", folder, "--dtype", dtype, "--threads", str(args.threads),
           "--prompt-tokens", str(args.prompt_tokens), "--new-tokens", str(args.new_tokens),
           "--batch", str(batch), "--runs", str(args.runs)]
    return run_measured(cmd, env=child_env(args.threads), timeout=args.timeout)


def run_transformers(args, folder, dtype, batch):
    note_busy(f"transformers {os.path.basename(folder)} {dtype} batch {batch}")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "transformers", "--model-dir", folder, "--dtype", dtype,
           "--threads", str(args.threads), "--prompt-tokens", str(args.prompt_tokens),
           "--new-tokens", str(args.new_tokens), "--batch", str(batch), "--runs", str(args.runs),
           "--hf-experts", args.hf_experts]
    if batch > 1:
        cmd.append("--skip-prefill")
    return run_measured(cmd, env=child_env(args.threads), timeout=args.timeout)


# ------------------------------------------------------------------------------------------------
# transformers worker (runs in its own process)


def transformers_worker(args):
    import resource

    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    cls = getattr(transformers, cfg["architectures"][0])
    kwargs = {}
    if args.hf_experts != "default" and "num_experts_per_tok" in cfg:
        kwargs["experts_implementation"] = args.hf_experts
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    model = cls.from_pretrained(args.model_dir, dtype=dtype, attn_implementation="eager", **kwargs).eval()
    experts_impl = getattr(model.config, "_experts_implementation_internal", None) or getattr(
        model.config, "_experts_implementation", None)
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(1234)

    def prompts(batch):
        return torch.randint(3, vocab, (batch, args.prompt_tokens), generator=gen)

    class Clock(transformers.LogitsProcessor):
        """Called once per generated position, right after that position's forward."""

        def __init__(self):
            self.times = []

        def __call__(self, input_ids, scores):
            self.times.append(time.perf_counter())
            return scores

    def generate(ids, new_tokens):
        clock = Clock()
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                do_sample=False,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,  # EOS can not end it early
                pad_token_id=PAD_ID,
                logits_processor=transformers.LogitsProcessorList([clock]),
            )
        end = time.perf_counter()
        assert out.shape[1] == ids.shape[1] + new_tokens, out.shape
        return start, clock.times, end

    generate(prompts(1), 2)  # warm-up: allocator growth, kernel selection
    prefill, ttft, decode = [], [], []
    for _ in range(args.runs):
        if not args.skip_prefill:
            start, _, end = generate(prompts(1), 1)  # prefill + first token, as a user sees it
            ttft.append(end - start)
            prefill.append(args.prompt_tokens / (end - start))
        # Decode: from the first token (after the prefill forward) to the end: new_tokens - 1
        # forwards of `batch` rows each.
        _, times, end = generate(prompts(args.batch), args.new_tokens)
        decode.append(args.batch * (args.new_tokens - 1) / (end - times[0]))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    res = {
        "prefill_tokens_per_s": statistics.median(prefill) if prefill else None,
        "ttft_s": statistics.median(ttft) if ttft else None,
        "decode_tokens_per_s": statistics.median(decode),
        "decode_runs": decode,
        "batch": args.batch,
        "runs": args.runs,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,  # KiB on Linux
        "threads": torch.get_num_threads(),
        "experts_implementation": experts_impl,
    }
    print(json.dumps(res))
    return 0


# ------------------------------------------------------------------------------------------------
# machine


def package_version(name):
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def machine_info(threads):
    cpu = platform.processor() or "?"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    fl = line.split(":", 1)[1].split()
                    flags = " ".join(x for x in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni",
                                                 "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8", "amx_tile")
                                     if x in fl)
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "memory": mem,
        "threads": threads,
        "torch": package_version("torch"),
        "transformers": package_version("transformers"),
        "python": platform.python_version(),
        "host": platform.node(),
    }


def bandwidth_worker(args, gib=1.0, repeats=7):
    """Best of `repeats` copies of a `gib` GiB float32 tensor; (bytes read + bytes written) / s."""
    import torch

    torch.set_num_threads(args.threads)
    n = int(gib * 2**30) // 4
    src = torch.ones(n, dtype=torch.float32)
    dst = torch.zeros(n, dtype=torch.float32)  # both touched: no page faults in the timed copies
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dst.copy_(src)
        times.append(time.perf_counter() - t0)
    # For information: read-only streaming (what decode mostly does) can beat the copy figure, since
    # a copy without non-temporal stores also reads each destination line before writing it.
    reads = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        src.sum()
        reads.append(time.perf_counter() - t0)
    print(json.dumps({"bytes_per_s": 2 * n * 4 / min(times), "median_bytes_per_s": 2 * n * 4 / statistics.median(times),
                      "read_bytes_per_s": n * 4 / min(reads)}))
    return 0


def memory_bandwidth(threads):
    # A subprocess: this process stays small, and a child's ru_maxrss starts from its parent's
    # high-water mark on Linux (kept across fork/vfork + exec), which would spoil the peak RSS.
    res = run_measured([sys.executable, os.path.abspath(__file__), "--worker", "bandwidth", "--threads",
                        str(threads)], env=child_env(threads))
    return res["bytes_per_s"], res["read_bytes_per_s"]


# ------------------------------------------------------------------------------------------------
# report


def fmt(x, digits=1):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}f}"


def ratio(a, b):
    return a / b if a and b else None


def report(results, machine, bandwidth, args):
    lines = []
    p = lines.append
    p("")
    p(f"Machine: {machine['cpu']} ({machine['cpu_flags'] or 'no avx2'}), {machine['usable_cpus']} usable of "
      f"{machine['logical_cpus']} logical CPUs, {machine['memory']}; torch {machine['torch']}, transformers "
      f"{machine['transformers']}, {machine['threads']} threads")
    p(f"Memory bandwidth (copy of 1 GiB, read + write, {machine['threads']} threads, best of 7 at the start and "
      f"7 at the end, GB/s {machine['copy_bandwidth_gb_s_start_end']}): "
      f"{bandwidth / 1e9:.1f} GB/s (read-only sum of 1 GiB, for information: {machine['read_only_bandwidth_gb_s']:.1f} GB/s)")
    p(f"Prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens, greedy, EOS ignored, medians of "
      f"{args.runs} runs; decode tok/s counts the tokens after the first; peak RSS of each engine's own process "
      f"(batch 1).")
    p("")
    hdr = ("| model | dtype | engine | prefill tok/s | TTFT ms | decode b1 tok/s | b1 limit tok/s | % of limit "
           "| decode b8 tok/s | b8 / b1 | peak RSS MB |")
    p(hdr)
    p("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    targets = []
    for (model, dtype), r in results.items():
        limit = r["limit_tokens_per_s"]
        for engine in ("ours", "transformers"):
            e = r.get(engine)
            if not e:
                continue
            b1, b8 = e.get(1), e.get(8)
            d1 = b1["decode_tokens_per_s"] if b1 else None
            d8 = b8["decode_tokens_per_s"] if b8 else None
            p(f"| {model} | {dtype} | {engine} | {fmt(b1 and b1['prefill_tokens_per_s'])} "
              f"| {fmt(b1 and b1['ttft_s'] and b1['ttft_s'] * 1000)} | {fmt(d1, 2)} | {fmt(limit, 2)} "
              f"| {fmt(d1 and 100 * d1 / limit, 0)} | {fmt(d8, 2)} | {fmt(ratio(d8, d1), 2)} "
              f"| {fmt(b1 and b1['peak_rss_mb'], 0)} |")
        o, t = r.get("ours"), r.get("transformers")
        if o and t and o.get(1) and t.get(1):
            o1, t1 = o[1], t[1]
            o8, t8 = o.get(8), t.get(8)
            row = {
                "prefill": ratio(o1["prefill_tokens_per_s"], t1["prefill_tokens_per_s"]),
                "ttft": ratio(o1["ttft_s"], t1["ttft_s"]),
                "b1": ratio(o1["decode_tokens_per_s"], t1["decode_tokens_per_s"]),
                "b8": ratio(o8 and o8["decode_tokens_per_s"], t8 and t8["decode_tokens_per_s"]),
                "rss": ratio(o1["peak_rss_mb"], t1["peak_rss_mb"]),
            }
            p(f"| {model} | {dtype} | **ours / transformers** | **{fmt(row['prefill'], 2)}x** "
              f"| {fmt(row['ttft'], 2)}x | **{fmt(row['b1'], 2)}x** | | | **{fmt(row['b8'], 2)}x** | "
              f"| {fmt(row['rss'], 2)}x |")
            own8 = ratio(o8 and o8["decode_tokens_per_s"], o1["decode_tokens_per_s"])
            frac = o1["decode_tokens_per_s"] / limit
            targets.append((model, dtype, [
                ("batch-1 decode >= 1.5x transformers", row["b1"], 1.5),
                ("batch-8 decode >= 4x own batch-1", own8, 4.0),
                ("prefill >= transformers", row["prefill"], 1.0),
                ("batch-1 decode >= 60% of bandwidth limit", frac, 0.6),
            ]))
    if BUSY_BEFORE:
        p("")
        p("WARNING: the machine was busy before " + ", ".join(f"{w} ({b:.2f} CPUs)" for w, b in BUSY_BEFORE)
          + "; rerun on a quiet machine.")
    if targets:
        p("")
        p("Targets (issue 3):")
        for model, dtype, checks in targets:
            parts = []
            for label, value, goal in checks:
                mark = "ok" if value is not None and value >= goal else "MISSED"
                parts.append(f"{label}: {fmt(value, 2)} ({mark})")
            p(f"- {model} {dtype}: " + "; ".join(parts))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Therapeia vs transformers on CPU")
    ap.add_argument("--models", default="smollm2,olmoe", help=f"comma list of {','.join(MODELS)}")
    ap.add_argument("--dtypes", default="float32,bfloat16", help="comma list of float32, bfloat16, int8 (ours only)")
    ap.add_argument("--engines", default="ours,transformers")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=None, help="default: usable CPUs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--layers", type=int, default=0, help="override num_hidden_layers (dry runs)")
    ap.add_argument("--bench-bin", default=os.environ.get("THERAPEIA_BENCH", DEFAULT_BENCH_BIN))
    ap.add_argument("--cache-dir", default=os.environ.get("THERAPEIA_BENCH_MODELS", DEFAULT_CACHE))
    ap.add_argument("--hf-experts", default="default",
                    help="transformers experts_implementation for MoE (default: what transformers picks)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per engine subprocess")
    ap.add_argument("--json-out", help="also write all results as JSON here")
    # worker mode (internal)
    ap.add_argument("--worker", choices=["transformers", "bandwidth", "make-model"], help=argparse.SUPPRESS)
    ap.add_argument("--model-dir", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--skip-prefill", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if args.worker:
        return {"transformers": transformers_worker, "bandwidth": bandwidth_worker,
                "make-model": make_model_worker}[args.worker](args)

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models = [m for m in args.models.split(",") if m]
    dtypes = [d for d in args.dtypes.split(",") if d]
    engines = [e for e in args.engines.split(",") if e]
    batches = [int(b) for b in args.batches.split(",") if b]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m}")
    if "ours" in engines and not os.access(args.bench_bin, os.X_OK):
        ap.error(f"--bench-bin {args.bench_bin} is not an executable (build therapeia-bench, or --engines transformers)")

    t_start = time.time()
    machine = machine_info(args.threads)
    note_busy("the bandwidth measurement")
    log(f"machine: {json.dumps(machine)}")
    bandwidth, read_bandwidth = memory_bandwidth(args.threads)
    log(f"memory bandwidth: copy {bandwidth / 1e9:.2f} GB/s, read-only {read_bandwidth / 1e9:.2f} GB/s")
    machine["read_only_bandwidth_gb_s"] = round(read_bandwidth / 1e9, 2)

    results = {}
    for model in models:
        folder = ensure_model(model, args.layers, args.cache_dir)
        for dtype in dtypes:
            # int8: a byte per weight and a float32 scale per 32 (the norms and the embedding row, in
            # float32, are negligible); its KV cache stays float32.
            weight_bytes = {"float32": 4, "bfloat16": 2, "int8": 1.125}[dtype]
            kv_bytes = {"float32": 4, "bfloat16": 2, "int8": 4}[dtype]
            mean_context = args.prompt_tokens + args.new_tokens / 2
            per_token = weight_bytes_per_token(folder, weight_bytes) + kv_bytes_per_token(folder, kv_bytes, mean_context)
            r = {"bytes_per_token": per_token, "limit_tokens_per_s": bandwidth / per_token}
            log(f"{model} {dtype}: {per_token / 1e6:.1f} MB read per batch-1 decode token -> limit "
                f"{bandwidth / per_token:.2f} tok/s")
            for engine in engines:
                if engine == "transformers" and dtype == "int8":
                    log("  transformers: no int8 weights here; skipped")
                    continue
                r[engine] = {}
                for batch in batches:
                    runner = run_ours if engine == "ours" else run_transformers
                    res = runner(args, folder, dtype, batch)
                    log(f"  {engine:12s} batch {batch}: {json.dumps(res)}")
                    r[engine][batch] = res
            results[(model, dtype)] = r

    # Bandwidth again at the end; the higher of the two is the machine's (a busy neighbour only lowers it).
    note_busy("the second bandwidth measurement")
    bandwidth2, read2 = memory_bandwidth(args.threads)
    log(f"memory bandwidth at the end: copy {bandwidth2 / 1e9:.2f} GB/s, read-only {read2 / 1e9:.2f} GB/s")
    machine["copy_bandwidth_gb_s_start_end"] = [round(bandwidth / 1e9, 2), round(bandwidth2 / 1e9, 2)]
    if bandwidth2 > bandwidth:
        for r in results.values():
            r["limit_tokens_per_s"] = bandwidth2 / r["bytes_per_token"]
        bandwidth = bandwidth2
    machine["read_only_bandwidth_gb_s"] = round(max(read_bandwidth, read2) / 1e9, 2)
    text = report(results, machine, bandwidth, args)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": machine, "bandwidth_bytes_per_s": bandwidth, "args": vars(args),
                       "results": {f"{m}/{d}": {k: v for k, v in r.items()} for (m, d), r in results.items()}},
                      f, indent=1, default=str)
    log(f"total {time.time() - t_start:.0f} s")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
