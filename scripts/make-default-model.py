#!/usr/bin/env python3
"""Builds the default model folder Therapeia serves on a fresh machine.

A small random-weight LlamaForCausalLM (seeded, so every run writes the same weights) with a
byte-level BPE tokenizer trained here on a short built-in English text, a ChatML chat template
and the special tokens <|im_start|> and <|im_end|> (end of sequence). Its replies are meaningless:
it exists so that the service starts and answers at once. Point MODEL_PATH at a real Hugging Face
model folder (e.g. Qwen2.5-0.5B-Instruct) for real replies.

Usage: make-default-model.py OUTPUT_DIR   (idempotent: an up-to-date folder is left as it is)
Needs torch, transformers and tokenizers: the venv of scripts/setup-toolchain.sh.
"""
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

RECIPE_VERSION = "1"
SEED = 1234
VOCAB_SIZE = 512
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
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
FILES = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
         "tokenizer_config.json", "special_tokens_map.json"]


def fingerprint():
    return hashlib.sha256((RECIPE_VERSION + CORPUS + CHATML_TEMPLATE + str(SEED)).encode()).hexdigest()


def up_to_date(out: Path) -> bool:
    stamp = out / ".therapeia-default-model"
    return stamp.is_file() and stamp.read_text().strip() == fingerprint() and all((out / f).is_file() for f in FILES)


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([line for line in CORPUS.splitlines() if line.strip()] * 4, trainer)
    return tok


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).expanduser().resolve()
    if up_to_date(out):
        print(f"{out}: up to date")
        return 0

    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    # write into a temporary sibling, then move the files: a crash never leaves half a model
    work = Path(tempfile.mkdtemp(prefix=".default-model-", dir=out.parent))

    tok = build_tokenizer()
    vocab = tok.get_vocab_size()
    ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=None, eos_token="<|im_end|>",
                                     pad_token="<|endoftext|>", unk_token=None,
                                     additional_special_tokens=["<|im_start|>"])
    hf_tok.chat_template = CHATML_TEMPLATE
    hf_tok.model_max_length = 2048
    hf_tok.save_pretrained(work)
    # keep the template in tokenizer_config.json (what most published models still do) and drop
    # a separate chat_template.jinja, so there is one source of truth
    tc_path = work / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text())
    tc["chat_template"] = CHATML_TEMPLATE
    tc_path.write_text(json.dumps(tc, indent=2, ensure_ascii=False) + "\n")
    (work / "chat_template.jinja").unlink(missing_ok=True)
    if not (work / "special_tokens_map.json").exists():
        (work / "special_tokens_map.json").write_text(json.dumps(
            {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
             "additional_special_tokens": ["<|im_start|>"]}, indent=2) + "\n")

    torch.manual_seed(SEED)
    config = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.save_pretrained(work, safe_serialization=True)
    GenerationConfig(eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]], pad_token_id=ids["<|endoftext|>"],
                     do_sample=True, temperature=0.7, top_p=0.9, top_k=50,
                     repetition_penalty=1.1, max_new_tokens=256).save_pretrained(work)

    for f in work.iterdir():
        os.replace(f, out / f.name)
    work.rmdir()
    (out / ".therapeia-default-model").write_text(fingerprint() + "\n")
    print(f"{out}: LlamaForCausalLM, vocabulary {vocab}, eos <|im_end|>={ids['<|im_end|>']} (random weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
