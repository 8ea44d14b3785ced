#!/usr/bin/env python3
"""A random-weight LlamaForCausalLM of SmolLM2-135M's shape (hidden 576, 30 layers, 9 heads, 3 KV
heads, intermediate 1536, tied embeddings, rope theta 1e5) with the tokenizer and chat template of
another model folder (bench/RESULTS.md used the random-weight model of scripts/make-random-model.py:
its 512-token byte-level BPE, so the vocabulary is that tokenizer's, not SmolLM2's 49152). For
benchmarks: its replies mean nothing.

Usage: make_smollm2_shaped_model.py TOKENIZER_MODEL_DIR OUTPUT_DIR   (idempotent)
"""
import json
import shutil
import sys
from pathlib import Path


def main():
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    if (out / "model.safetensors").exists():
        print(f"{out}: exists")
        return 0
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        if (source / name).exists():
            shutil.copy(source / name, out / name)
    base = json.loads((source / "config.json").read_text())
    torch.manual_seed(4321)
    config = LlamaConfig(vocab_size=base["vocab_size"], hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048,
                         rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=base.get("eos_token_id"),
                         pad_token_id=base.get("pad_token_id"))
    LlamaForCausalLM(config).to(torch.float32).eval().save_pretrained(out, safe_serialization=True)
    if (source / "generation_config.json").exists():
        shutil.copy(source / "generation_config.json", out / "generation_config.json")
    print(f"{out}: SmolLM2-135M-shaped LlamaForCausalLM, vocabulary {base['vocab_size']} (random weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
