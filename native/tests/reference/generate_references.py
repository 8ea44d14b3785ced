#!/usr/bin/env python3
"""Generate the project's own Hugging Face reference data for the C++ parity tests.

Builds tiny random-weight decoder models with transformers (5.17.0), saves them with
``save_pretrained`` (safetensors + generation_config.json) and records what transformers
computes for them: all-position logits in float32 and bfloat16, and 32 greedy tokens per
prompt. Also records the outputs of transformers' sampling logits processors on made-up
logits (``sampling.json``). See README.md next to this file for the formats.

Deterministic (seeded, single-threaded) and idempotent: if ``OUT/.complete`` holds the hash
of this script (and of the torch/transformers versions) the script exits at once.

Usage: python generate_references.py --out DIR [--force] [--check]
  --check also prints, per model, KV-cache-incremental vs full-forward logits and bf16 vs fp32.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

SCRIPT_PATH = os.path.abspath(__file__)
TRANSFORMERS_VERSION = "5.17.0"

VOCAB = 96
MAX_POS = 128
PROMPT_LENGTHS = (7, 13, 21)
NEW_TOKENS = 32
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2  # prompts draw from [3, V): these three never occur in prompts
INIT_STD = 0.5  # embeddings, lm_head, biases: logits spread out (|max| ~10-18), argmax changes
LINEAR_GAIN = 1.5  # projection matrices: N(0, (1.5 / sqrt(fan_in))^2), activations stay O(1)
MAX_ATTEMPTS = 25  # seeds tried per model until every acceptance check passes
MIN_GREEDY_MARGIN = 2e-3  # top1 - top2 logit gap at every greedy step (robust token-for-token parity)
# MoE: gap between the k-th and (k+1)-th router logit of every token (prompt + greedy tokens) in
# every sparse layer. Float32 rounding moves router logits by ~1e-6; a flipped expert choice would
# move the logits by O(1), so the choice of experts must not hinge on rounding.
MIN_ROUTER_MARGIN = 1e-3


def script_hash():
    h = hashlib.sha256()
    with open(SCRIPT_PATH, "rb") as f:
        h.update(f.read())
    import importlib.metadata as md

    for pkg in ("torch", "transformers"):
        try:
            h.update(f"{pkg}=={md.version(pkg)}".encode())
        except md.PackageNotFoundError:
            h.update(f"{pkg}==missing".encode())
    return h.hexdigest()


def f32(x):
    """A float32 value as the shortest JSON number that round-trips it through float32."""
    return float(f"{float(x):.9g}")


def model_specs():
    """One entry per model folder. `config` holds the kwargs of the transformers config class."""
    common = dict(
        vocab_size=VOCAB,
        max_position_embeddings=MAX_POS,
        rms_norm_eps=1e-6,
        pad_token_id=PAD_ID,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
    )
    # llama3 rope on head_dim 16, theta 5e5: wavelengths 2*pi*theta^(2i/16) = 6.3, 32.4, 167, ...
    # With original_max_position_embeddings 64 the limits are high_freq_wavelen = 64/4 = 16 and
    # low_freq_wavelen = 64/1 = 64, so one frequency stays, one is smoothed and the rest are scaled
    # by 1/8: all three branches of the llama3 formula are exercised. (With 32 the limits are 8
    # and 32 and no wavelength falls in the smoothed band.)
    llama3_rope = dict(
        rope_type="llama3",
        rope_theta=500000.0,
        factor=8.0,
        low_freq_factor=1.0,
        high_freq_factor=4.0,
        original_max_position_embeddings=64,
    )
    llama = dict(
        common,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=False,
        rope_parameters=llama3_rope,
    )
    qwen3 = dict(
        common,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,  # 4 * 16 = 64 != hidden 32
        tie_word_embeddings=True,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0),
    )
    return [
        dict(name="llama", cls="LlamaForCausalLM", seed=1000, config=llama),
        dict(
            name="llama_bias",
            cls="LlamaForCausalLM",
            seed=2000,
            config=dict(
                common,
                hidden_size=48,
                intermediate_size=80,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=4,
                attention_bias=True,  # q, k, v AND o_proj get a bias in LlamaAttention
                mlp_bias=True,
                tie_word_embeddings=True,
                rope_parameters=dict(rope_type="linear", factor=2.0, rope_theta=10000.0),
            ),
        ),
        dict(
            name="mistral",
            cls="MistralForCausalLM",
            seed=3000,
            config=dict(
                common,
                hidden_size=64,
                intermediate_size=96,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                sliding_window=5,  # key j visible from query i iff i - 5 < j <= i
                tie_word_embeddings=False,
                rope_parameters=dict(rope_type="default", rope_theta=10000.0),
            ),
        ),
        dict(
            name="qwen2",
            cls="Qwen2ForCausalLM",
            seed=4000,
            config=dict(
                common,
                hidden_size=64,
                intermediate_size=96,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                tie_word_embeddings=False,
                rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
            ),
        ),
        dict(name="qwen3", cls="Qwen3ForCausalLM", seed=5000, config=qwen3),
        # Same shapes as qwen3 (own seed); ~114 KB of tensors in 40 KB shards -> 3 shards + index.
        dict(name="qwen3_sharded", cls="Qwen3ForCausalLM", seed=6000, config=qwen3, max_shard_size="40KB"),
        dict(
            name="llama_bf16",
            cls="LlamaForCausalLM",
            seed=7000,
            config=dict(llama, num_hidden_layers=2, tie_word_embeddings=False),
            save_dtype="bfloat16",
        ),
    ] + moe_specs(common)


def moe_specs(common):
    """Mixture-of-experts models. transformers 5.17 holds the experts of every family as stacked
    3-D parameters (`mlp.experts.gate_up_proj` [E, 2I, H] with gate rows first, `mlp.experts.down_proj`
    [E, H, I], router `mlp.gate.weight` [E, H]). `save_pretrained` (save_original_format=True, the
    default) converts them back to the Hub layout: one tensor per expert, for Mixtral under
    `block_sparse_moe.experts.N.w1/w3/w2` with router `block_sparse_moe.gate.weight`, for the others
    under `mlp.experts.N.gate_proj/up_proj/down_proj`. `stacked=True` saves with
    save_original_format=False, which writes the 3-D tensors as they are."""
    mixtral = dict(
        common,
        hidden_size=64,
        intermediate_size=48,  # per expert
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        num_local_experts=4,
        num_experts_per_tok=2,  # softmax over all 4, top-2 renormalised
        tie_word_embeddings=False,
        rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
    )
    qwen3_moe = dict(
        common,
        hidden_size=32,
        intermediate_size=80,  # unused: no dense layer
        moe_intermediate_size=24,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        num_experts=6,
        num_experts_per_tok=2,
        norm_topk_prob=True,
        tie_word_embeddings=True,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0),
    )
    olmoe = dict(
        common,
        hidden_size=64,
        intermediate_size=32,  # per expert
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        num_experts=8,
        num_experts_per_tok=2,
        norm_topk_prob=False,
        clip_qkv=2.0,  # q/k/v projections are N(0, ~1.5^2): a good share of the values is clipped
        tie_word_embeddings=False,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0),
    )
    return [
        dict(name="mixtral", cls="MixtralForCausalLM", seed=8000, config=mixtral),
        # Stacked Mixtral is written under `mlp.experts.*` / `mlp.gate.weight`, not `block_sparse_moe`.
        dict(name="mixtral_stacked", cls="MixtralForCausalLM", seed=8500, config=mixtral, stacked=True),
        dict(
            name="qwen2_moe",
            cls="Qwen2MoeForCausalLM",
            seed=9000,
            config=dict(
                common,
                hidden_size=48,
                intermediate_size=80,  # the dense layer (mlp_only_layers)
                moe_intermediate_size=24,
                shared_expert_intermediate_size=40,
                num_hidden_layers=3,
                num_attention_heads=4,
                num_key_value_heads=2,
                num_experts=6,
                num_experts_per_tok=3,
                norm_topk_prob=False,
                decoder_sparse_step=1,
                mlp_only_layers=[1],  # layers 0 and 2 are sparse, layer 1 is a dense Qwen2MoeMLP
                qkv_bias=True,
                tie_word_embeddings=False,
                rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
            ),
        ),
        dict(name="qwen3_moe", cls="Qwen3MoeForCausalLM", seed=10000, config=qwen3_moe),
        # Qwen3-MoE applies sliding_window to every layer once use_sliding_window is set.
        dict(
            name="qwen3_moe_window",
            cls="Qwen3MoeForCausalLM",
            seed=11000,
            config=dict(qwen3_moe, use_sliding_window=True, sliding_window=4),
        ),
        dict(name="olmoe", cls="OlmoeForCausalLM", seed=12000, config=olmoe),
        dict(
            name="olmoe_stacked",
            cls="OlmoeForCausalLM",
            seed=12500,
            config=dict(olmoe, norm_topk_prob=True, clip_qkv=None),
            stacked=True,
        ),
    ]


# --------------------------------------------------------------------------------------------
# models


def reinit_(model, torch, std):
    """Re-draw every parameter: projection matrices N(0, (LINEAR_GAIN / sqrt(fan_in))^2),
    embeddings / lm_head / biases N(0, std^2), norm weights (incl. Qwen3 q/k norms) 1 + N(0, 0.1^2).

    The output-embedding row of EOS is then shrunk so that its logit stays near 0 and EOS is
    (almost) never the argmax: greedy references then always run the full 32 tokens (checked).
    With tied embeddings this also shrinks EOS's input embedding, which no prompt uses.
    """
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied parameters appear once
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif p.dim() == 2 and "embed" not in name and "lm_head" not in name:
                p.normal_(0.0, LINEAR_GAIN / p.shape[1] ** 0.5)
            elif p.dim() == 3:  # stacked experts [E, out, in]
                p.normal_(0.0, LINEAR_GAIN / p.shape[2] ** 0.5)
            else:
                p.normal_(0.0, std)
        model.get_output_embeddings().weight[EOS_ID].mul_(0.02)


def make_prompts(torch, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in PROMPT_LENGTHS]


def full_logits(model, torch, prompt):
    with torch.no_grad():
        ids = torch.tensor([prompt])
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
    return out.logits[0].float()  # [T, V]


def greedy(model, torch, prompt):
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=NEW_TOKENS,
            return_dict_in_generate=True,
            output_logits=True,
        )
    tokens = out.sequences[0, len(prompt):].tolist()
    steps = torch.cat([l.float() for l in out.logits], 0)  # [n, V] raw logits per step
    top2 = steps.topk(2, dim=-1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    return tokens, margin


def is_moe(spec):
    return "num_experts_per_tok" in spec["config"]


def router_check(model, torch, sequences):
    """Full forward over each sequence (prompt + greedy tokens); returns the smallest gap between
    the k-th and (k+1)-th router logit over all tokens and sparse layers, and the number of
    (layer, expert) pairs that no token was routed to."""
    k = model.config.num_experts_per_tok
    gap, chosen = float("inf"), None
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor([seq])
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False,
                        output_router_logits=True)
            per_layer = torch.stack([r.float().reshape(len(seq), -1) for r in out.router_logits])  # [L, T, E]
            top = per_layer.sort(dim=-1, descending=True).values
            gap = min(gap, float((top[..., k - 1] - top[..., k]).min()))
            hit = torch.zeros_like(per_layer).scatter_(-1, per_layer.topk(k, dim=-1).indices, 1.0).amax(1)  # [L, E]
            chosen = hit if chosen is None else torch.maximum(chosen, hit)
    return gap, int((chosen == 0).sum())


def kv_cache_check(model, torch, prompt, full):
    """Prefill prompt[:-3], then 3 single-token steps with the cache; compare with `full`."""
    import numpy as np

    with torch.no_grad():
        ids = torch.tensor([prompt])
        out = model(input_ids=ids[:, :-3], use_cache=True)
        pkv = out.past_key_values
        rows = [out.logits[0].float()]
        for t in range(len(prompt) - 3, len(prompt)):
            out = model(input_ids=ids[:, t : t + 1], past_key_values=pkv, use_cache=True)
            pkv = out.past_key_values
            rows.append(out.logits[0].float())
    inc = torch.cat(rows, 0).numpy()
    return float(np.abs(inc - full.numpy()).max())


def build_model(spec, folder, seed, transformers, torch):
    cls = getattr(transformers, spec["cls"])
    config = cls.config_class(**spec["config"])
    torch.manual_seed(seed)
    model = cls(config)
    reinit_(model, torch, INIT_STD)
    model.generation_config = transformers.GenerationConfig(
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID
    )
    if spec.get("save_dtype") == "bfloat16":
        model = model.to(torch.bfloat16)
    kwargs = {}
    if spec.get("stacked"):
        kwargs["save_original_format"] = False  # keep the 3-D expert tensors
    if "max_shard_size" in spec:
        kwargs["max_shard_size"] = spec["max_shard_size"]
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    model.save_pretrained(folder, **kwargs)


def load(spec, folder, dtype, transformers, torch):
    cls = getattr(transformers, spec["cls"])
    kwargs = {"experts_implementation": "eager"} if is_moe(spec) else {}  # the plain per-expert loop
    model = cls.from_pretrained(folder, dtype=dtype, attn_implementation="eager", **kwargs)
    model.eval()
    return model


def generate_model(spec, out_dir, transformers, torch, check):
    folder = os.path.join(out_dir, spec["name"])
    failures = []
    for attempt in range(MAX_ATTEMPTS):
        seed = spec["seed"] + attempt
        build_model(spec, folder, seed, transformers, torch)
        prompts = make_prompts(torch, seed + 500)
        m32 = load(spec, folder, torch.float32, transformers, torch)
        fulls = [full_logits(m32, torch, p) for p in prompts]
        greedies, margins, why = [], [], None
        for p, full in zip(prompts, fulls):
            if len(set(full.argmax(-1).tolist())) < 3:
                why = "all-position argmax nearly constant"
                break
            toks, margin = greedy(m32, torch, p)
            if len(toks) != NEW_TOKENS or EOS_ID in toks:
                why = "greedy produced EOS"
                break
            if len(set(toks)) < 4:
                why = f"greedy nearly constant ({len(set(toks))} distinct)"
                break
            if margin < MIN_GREEDY_MARGIN:
                why = f"greedy top1-top2 margin {margin:.2e} < {MIN_GREEDY_MARGIN}"
                break
            greedies.append(toks)
            margins.append(margin)
        if why is None and is_moe(spec):
            router_gap, unused = router_check(m32, torch, [p + t for p, t in zip(prompts, greedies)])
            if router_gap < MIN_ROUTER_MARGIN:
                why = f"router k-th / (k+1)-th logit gap {router_gap:.2e} < {MIN_ROUTER_MARGIN}"
            elif unused:
                why = f"{unused} (layer, expert) pairs never routed to"
        if why is None:
            break
        failures.append(f"seed {seed}: {why}")
    else:
        raise SystemExit(f"{spec['name']}: no seed passed the checks: {failures}")

    mbf = load(spec, folder, torch.bfloat16, transformers, torch)
    bf16 = [full_logits(mbf, torch, p) for p in prompts]

    ref = {
        "architecture": spec["cls"],
        "prompts": prompts,
        "logits_float32": [[[f32(v) for v in row] for row in full.tolist()] for full in fulls],
        "logits_bfloat16": [[[float(v) for v in row] for row in b.tolist()] for b in bf16],
        "greedy": greedies,
        "meta": {
            "seed": seed,
            "eos_token_id": EOS_ID,
            "bos_token_id": BOS_ID,
            "pad_token_id": PAD_ID,
            "saved_dtype": spec.get("save_dtype", "float32"),
            "min_greedy_margin": f32(min(margins)),
            **({"moe": {"num_experts": m32.config.num_experts,  # attribute_map covers num_local_experts
                        "num_experts_per_tok": m32.config.num_experts_per_tok,
                        "stacked_experts": bool(spec.get("stacked")),
                        "min_router_margin": f32(router_gap)}} if is_moe(spec) else {}),
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
        },
    }
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))

    report = {"seed": seed, "rejected": failures, "min_margin": min(margins)}
    if is_moe(spec):
        report["router_margin"] = router_gap
    if check:
        import numpy as np

        kv = max(kv_cache_check(m32, torch, p, full) for p, full in zip(prompts, fulls))
        # greedy tokens == argmax of a full forward over prompt + greedy tokens
        for p, toks in zip(prompts, greedies):
            seq_logits = full_logits(m32, torch, p + toks)
            assert seq_logits[len(p) - 1 : -1].argmax(-1).tolist() == toks, spec["name"]
        d = [np.abs(b.numpy() - f.numpy()) for b, f in zip(bf16, fulls)]
        scale = max(float(np.abs(f.numpy()).max()) for f in fulls)
        agree = np.mean(np.concatenate([(b.argmax(-1) == f.argmax(-1)).numpy() for b, f in zip(bf16, fulls)]))
        report.update(
            kv_max_abs=kv,
            bf16_max_abs=max(float(x.max()) for x in d),
            bf16_mean_abs=float(np.mean(np.concatenate([x.ravel() for x in d]))),
            max_abs_logit=scale,
            kv_rel=kv / scale,
            bf16_argmax_agree=float(agree),
        )
    return report


# --------------------------------------------------------------------------------------------
# sampling processors
#
# Order verified in transformers 5.17.0, src/transformers/generation/utils.py,
# GenerationMixin._get_logits_processor (lines 1252-1499 of the installed file):
#   line 1303: RepetitionPenaltyLogitsProcessor  (if repetition_penalty != 1.0; before the warpers,
#              applied for greedy decoding too; sees prompt + generated ids)
#   line 1422: user-supplied logits_processor merged
#   line 1425: `if generation_config.do_sample:` (the former "LogitsWarpers", sampling only)
#   line 1440: TemperatureLogitsWarper           (if temperature != 1.0)
#   line 1442: TopHLogitsWarper                  (if top_h is set)
#   line 1444: TopKLogitsWarper                  (if top_k != 0; GenerationConfig default top_k = 50!)
#   line 1448: TopPLogitsWarper                  (if top_p < 1.0)
#   line 1452..: MinP, Typical, Epsilon, Eta warpers
# min_tokens_to_keep = 1 without beams. Then `_sample` (line ~3042) takes the last position's logits
# in float32, runs the list, softmax over the result and torch.multinomial (argmax when greedy).
# generate_sampling() below builds the list with that very method and checks it matches.

PROCESSOR_ORDER = [
    "RepetitionPenaltyLogitsProcessor",
    "TemperatureLogitsWarper",
    "TopKLogitsWarper",
    "TopPLogitsWarper",
]

SAMPLING_DOC = (
    "Order from transformers 5.17.0 generation/utils.py GenerationMixin._get_logits_processor: "
    "RepetitionPenaltyLogitsProcessor(penalty) if repetition_penalty != 1.0 (also in greedy mode; "
    "penalises every id of prompt + generated tokens once: x<0 ? x*p : x/p); then, only when do_sample=True: "
    "TemperatureLogitsWarper(t) if temperature != 1.0 (x/t; t must be > 0), TopKLogitsWarper(k) if top_k != 0 "
    "(keeps every x >= k-th largest value, so ties at the boundary are kept; k is clamped to V), "
    "TopPLogitsWarper(p) if top_p < 1.0 (sort ascending, softmax, cumsum, drop tokens whose cumulative "
    "probability <= 1 - p, always keep the largest), then MinP/Typical/Epsilon/Eta when set. Dropped "
    "tokens become -inf (null here). The result is softmaxed and sampled with torch.multinomial. "
    "Note: GenerationConfig fills an unset top_k with 50, so HF sampling is top-k 50 unless told otherwise."
)


def sampling_cases(torch):
    g = torch.Generator().manual_seed(42)

    def rnd(v, scale=2.0):
        # distinct values with 3 decimals (exact in JSON, float32-rounded in the processors)
        while True:
            x = [round(float(a), 3) for a in (torch.randn(v, generator=g) * scale)]
            if len(set(x)) == v:
                return x

    def ids(v, n):
        return torch.randint(0, v, (n,), generator=g).tolist()

    cases = []

    def add(name, logits, prev=(), t=1.0, k=0, p=1.0, r=1.0):
        cases.append(
            dict(name=name, logits=list(logits), previous_ids=list(prev), temperature=t, top_k=k, top_p=p,
                 repetition_penalty=r)
        )

    base = rnd(16)
    add("identity_all_off", base)
    # repetition penalty alone
    add("rep_1.3_mixed_signs", rnd(20), prev=[0, 3, 5, 7, 11, 19], r=1.3)
    neg = [-abs(x) - 0.5 for x in rnd(12)]
    add("rep_1.5_all_negative", neg, prev=[1, 2, 3, 10], r=1.5)
    add("rep_1.2_duplicate_ids", rnd(16), prev=[4, 4, 4, 9, 2, 9, 4], r=1.2)
    add("rep_0.8_reward", rnd(16), prev=[0, 5, 6, 15], r=0.8)
    add("rep_2.0_zero_logit", [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, -0.25], prev=[0, 1, 2, 7], r=2.0)
    add("rep_1.3_empty_previous", rnd(10), prev=[], r=1.3)
    add("rep_1.1_large_vocab", rnd(50, 4.0), prev=ids(50, 30), r=1.1)
    # temperature alone
    add("temp_0.7", rnd(16), t=0.7)
    add("temp_1.5", rnd(16), t=1.5)
    add("temp_0.1", rnd(24), t=0.1)
    # top-k alone
    add("topk_1", rnd(16), k=1)
    add("topk_5", rnd(16), k=5)
    add("topk_3_ties_at_boundary", [1.0, 3.0, 2.0, 2.0, 2.0, 0.5, -1.0, 2.0, 0.0, 3.5], k=3)
    add("topk_2_tied_max", [4.0, 1.0, 4.0, 4.0, 0.0, -3.0], k=2)
    add("topk_larger_than_vocab", rnd(10), k=15)
    add("topk_equal_vocab", rnd(10), k=10)
    # top-p alone
    add("topp_0.9", rnd(20), p=0.9)
    add("topp_0.5", rnd(20), p=0.5)
    one = rnd(12, 0.5)
    one[7] = 6.0  # p(token 7) ~ 0.99
    add("topp_0.8_keeps_exactly_one", one, p=0.8)
    add("topp_0.01_tiny_keeps_one", rnd(16), p=0.01)
    add("topp_0.99", rnd(30, 3.0), p=0.99)
    add("topp_0.7_flat_distribution", rnd(12, 0.2), p=0.7)
    # combinations (order: repetition penalty, temperature, top-k, top-p)
    add("combo_all_four", rnd(32, 3.0), prev=ids(32, 12), t=0.8, k=10, p=0.9, r=1.2)
    add("combo_all_four_hot", rnd(40, 3.0), prev=ids(40, 20), t=1.7, k=25, p=0.6, r=1.4)
    add("combo_all_four_cold", rnd(24, 3.0), prev=ids(24, 8), t=0.3, k=6, p=0.95, r=1.05)
    add("combo_all_four_reward", rnd(16, 1.0), prev=[1, 1, 3, 8], t=0.9, k=8, p=0.8, r=0.7)
    add("combo_temp_topk", rnd(20), t=0.5, k=4)
    add("combo_temp_topp", rnd(20), t=2.0, p=0.75)
    add("combo_topk_topp", rnd(20), k=6, p=0.5)
    add("combo_rep_topk_penalty_changes_set", [5.0, 4.9, 4.8, 1.0, 0.5, -0.5, 4.7, 0.0], prev=[0, 1], k=3, r=1.5)
    add("combo_rep_topp_negative", neg, prev=[0, 4, 8], p=0.6, r=1.3)
    return cases


def apply_case(case, processors_module, torch):
    """Apply the enabled processors in PROCESSOR_ORDER with the real transformers classes."""
    lp = processors_module
    procs = []
    if case["repetition_penalty"] != 1.0:
        procs.append(lp.RepetitionPenaltyLogitsProcessor(penalty=float(case["repetition_penalty"])))
    if case["temperature"] not in (0.0, 1.0):
        procs.append(lp.TemperatureLogitsWarper(float(case["temperature"])))
    if case["top_k"] != 0:
        procs.append(lp.TopKLogitsWarper(top_k=int(case["top_k"]), min_tokens_to_keep=1))
    if case["top_p"] < 1.0:
        procs.append(lp.TopPLogitsWarper(top_p=float(case["top_p"]), min_tokens_to_keep=1))
    input_ids = torch.tensor([case["previous_ids"]], dtype=torch.long).reshape(1, -1)
    scores = torch.tensor([case["logits"]], dtype=torch.float32)
    for proc in procs:
        if isinstance(proc, lp.TopPLogitsWarper):
            # Robustness of the case itself: no cumulative probability may sit within 1e-4 of the
            # 1 - top_p cut (else float rounding in another implementation could flip a token).
            probs = torch.softmax(scores.double(), -1).sort().values.cumsum(-1)
            gap = float((probs - (1.0 - proc.top_p)).abs().min())
            assert gap > 1e-4, (case["name"], gap)
        scores = proc(input_ids, scores)
    return scores, [type(p).__name__ for p in procs]


def generate_sampling(out_dir, transformers, torch, model):
    from transformers.generation import logits_process as lp

    cases = sampling_cases(torch)
    for case in cases:
        scores, names = apply_case(case, lp, torch)
        # Cross-check: the list GenerationMixin._get_logits_processor builds for do_sample=True with
        # these settings must be the same classes, in the same order, with the same result.
        gc = transformers.GenerationConfig(
            do_sample=True,
            temperature=float(case["temperature"]) if case["temperature"] != 0.0 else 1.0,
            top_k=int(case["top_k"]),
            top_p=float(case["top_p"]),
            repetition_penalty=float(case["repetition_penalty"]),
        )
        hf_list = model._get_logits_processor(
            generation_config=gc, input_ids_seq_length=max(1, len(case["previous_ids"])), device="cpu"
        )
        hf_names = [type(p).__name__ for p in hf_list]
        assert hf_names == names, (case["name"], hf_names, names)
        input_ids = torch.tensor([case["previous_ids"]], dtype=torch.long).reshape(1, -1)
        hf_scores = hf_list(input_ids, torch.tensor([case["logits"]], dtype=torch.float32))
        assert torch.equal(hf_scores, scores), case["name"]
        assert torch.isfinite(scores).any(), case["name"]
        case["expected"] = [None if v == float("-inf") else f32(v) for v in scores[0].tolist()]
        case["applied"] = names
    doc = {
        "processor_order": PROCESSOR_ORDER,
        "source": "transformers 5.17.0 src/transformers/generation/utils.py GenerationMixin._get_logits_processor",
        "semantics": "temperature 0 or 1 = off, top_k 0 = off, top_p 1 = off, repetition_penalty 1 = off; "
        "expected null = -inf (token removed)",
        "how_transformers_builds_the_list": SAMPLING_DOC,
        "transformers_version": transformers.__version__,
    }
    with open(os.path.join(out_dir, "sampling.json"), "w") as f:
        json.dump(dict(doc, cases=cases), f, indent=1)
    return len(cases)


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--force", action="store_true", help="regenerate even if OUT/.complete is current")
    ap.add_argument("--check", action="store_true",
                    help="also print KV-cache vs full-forward and bf16 vs fp32 differences")
    args = ap.parse_args()

    out_dir = os.path.abspath(args.out)
    marker = os.path.join(out_dir, ".complete")
    digest = script_hash()
    if not args.force and os.path.exists(marker):
        with open(marker) as f:
            if f.read().strip() == digest:
                print(f"references in {out_dir} are current")
                return 0

    t0 = time.time()
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()

    if transformers.__version__ != TRANSFORMERS_VERSION:
        print(f"warning: transformers {transformers.__version__}, references are defined with "
              f"{TRANSFORMERS_VERSION}", file=sys.stderr)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()

    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(marker):
        os.remove(marker)

    specs = model_specs()
    for spec in specs:
        rep = generate_model(spec, out_dir, transformers, torch, args.check)
        extra = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in rep.items()
                         if k != "rejected")
        print(f"{spec['name']:14s} {extra}  rejected seeds: {len(rep['rejected'])}", flush=True)
        if args.check and rep["kv_rel"] > 1e-5:
            print(f"  warning: KV-cache logits differ from full forward by {rep['kv_rel']:.3g} of max |logit|")

    from transformers import LlamaConfig, LlamaForCausalLM

    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=8, hidden_size=8, intermediate_size=8, num_hidden_layers=1,
                                        num_attention_heads=1, num_key_value_heads=1))
    n = generate_sampling(out_dir, transformers, torch, tiny)
    print(f"sampling.json: {n} cases")

    with open(marker, "w") as f:
        f.write(digest + "\n")
    print(f"done in {time.time() - t0:.1f} s -> {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
