#!/usr/bin/env python3
"""Builds a small random-weight model folder: the tests that need long generations use it.

A two-layer LlamaForCausalLM with random weights (seeded, so every run writes the same weights), a
byte-level BPE tokenizer trained here on a short built-in English text, the ChatML template and the
special tokens <|im_start|> and <|im_end|> (end of sequence). Its replies are meaningless and, with
greedy decoding, rarely end before max_new_tokens: what tests of shutdowns, departing clients and
full engines need to keep the engine busy. The service's default model is the trained one of
make-default-model.py.

Usage: make-random-model.py OUTPUT_DIR   (idempotent: an up-to-date folder is left as it is)
Needs torch, transformers and tokenizers: the venv of scripts/setup-toolchain.sh.
"""
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "default-model"))
import chatml_folder  # noqa: E402

RECIPE_VERSION = "1"
SEED = 1234
VOCAB_SIZE = 512
CORPUS = """
I have been feeling anxious lately and I am not sure why. It is hard to sleep at night.
Thank you for sharing that with me. It sounds like you are carrying a lot right now.
What do you notice in your body when the anxiety comes? Sometimes naming it helps.
I feel tired, my chest is tight, and my thoughts keep racing about work and family.
That makes sense. Let us take a slow breath together and look at one worry at a time.
You are a compassionate, supportive therapist. Listen carefully and respond with warmth.
Hello, how are you today? I would like to talk about how my week went.
It was a difficult week. I argued with my friend and I keep thinking about it.
How did you feel after the argument? What would you like to happen next?
I want to feel calmer and to understand myself better. Can you help me with that?
Of course. We can explore what helps you feel safe, and build small habits that support you.
"""


def fingerprint():
    return hashlib.sha256((RECIPE_VERSION + CORPUS + chatml_folder.CHATML_TEMPLATE + str(SEED)).encode()).hexdigest()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).expanduser().resolve()
    if chatml_folder.is_current(out, fingerprint()):
        print(f"{out}: up to date")
        return 0

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    work = chatml_folder.scratch_beside(out)
    tok = chatml_folder.train_tokenizer([line for line in CORPUS.splitlines() if line.strip()] * 4, VOCAB_SIZE)
    chatml_folder.save_tokenizer(chatml_folder.hf_tokenizer(tok), work)

    torch.manual_seed(SEED)
    end_of_turn = tok.token_to_id(chatml_folder.END_OF_TURN)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=end_of_turn, pad_token_id=tok.token_to_id(chatml_folder.PAD))
    LlamaForCausalLM(config).to(torch.float32).eval().save_pretrained(work, safe_serialization=True)
    chatml_folder.save_generation_config(tok, work)
    chatml_folder.install(work, out, fingerprint())
    print(f"{out}: LlamaForCausalLM, vocabulary {config.vocab_size}, eos <|im_end|>={end_of_turn} (random weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
