#!/usr/bin/env python3
"""Builds the default model folder Therapeia serves on a fresh machine: a small Llama the project
trains itself, on its own corpus of short supportive exchanges (scripts/default-model/corpus.jsonl),
with a byte-level BPE tokenizer trained on the same corpus, the ChatML template and the special
tokens <|im_start|> and <|im_end|> (end of turn, where replies stop). It is a demonstration model,
not a clinical one: point MODEL_PATH at a real Hugging Face model folder for real use.

Training is deterministic (fixed seeds, fixed thread count) and takes a minute or two on two
cores. A trained folder is kept in $THERAPEIA_CACHE/default-models/<fingerprint> (fingerprint: a
hash of the corpus, the recipe's code, the system prompts it is trained with and the torch and
transformers versions), so the build trains once per machine and recipe, and OUTPUT_DIR gets a copy.

Usage: make-default-model.py OUTPUT_DIR   (idempotent: an up-to-date folder is left as it is)
Needs torch, transformers and tokenizers: the venv of scripts/setup-toolchain.sh.
"""
import fcntl
import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
RECIPE = SCRIPTS / "default-model"
sys.path.insert(0, str(RECIPE))
import chatml_folder  # noqa: E402
import training  # noqa: E402

CORPUS = RECIPE / "corpus.jsonl"
# the service's configuration: the system prompts the model learns to follow are the ones it gets
SERVICE_CONFIG = SCRIPTS.parent / "webapp" / "src" / "main" / "resources" / "META-INF" / "microprofile-config.properties"
SEED_SYSTEM_PROMPT = "You are a compassionate therapist."  # the seed's API reference example

SEED = 20260519
THREADS = 2
# more than the merges the corpus allows: the tokenizer stops when every word of the corpus is one token
# (about 2,800), so the model writes whole words and never makes one up from pieces
VOCAB_SIZE = 4096
ARCHITECTURE = dict(hidden_size=192, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=2048, rms_norm_eps=1e-6, rope_theta=10000.0,
                    tie_word_embeddings=True)
TRAINING = dict(epochs=30, batch_tokens=1024, learning_rate=3e-3, warmup_steps=30, corruption=0.1)


def log(message):
    print(f"make-default-model: {message}", file=sys.stderr, flush=True)


def service_setting(key):
    """A value of the service's microprofile-config.properties (single-line key=value entries)."""
    for line in SERVICE_CONFIG.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name.strip() == key:
            return value.strip()
    raise KeyError(f"{key} is not set in {SERVICE_CONFIG}")


def prompts():
    return training.system_prompts(service_setting("default_system_prompt"), SEED_SYSTEM_PROMPT,
                                   service_setting("safety.addendum"))


def fingerprint():
    h = hashlib.sha256()
    for path in (Path(__file__).resolve(), RECIPE / "chatml_folder.py", RECIPE / "training.py", CORPUS):
        h.update(path.read_bytes())
    h.update(repr(prompts()).encode())
    for package in ("torch", "transformers", "tokenizers"):
        h.update(f"{package}=={importlib.metadata.version(package)}".encode())
    return h.hexdigest()


def build(folder: Path, fp: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    corpus = training.read_corpus(CORPUS)
    ordinary, crisis = prompts()
    texts = [m["content"] for c in corpus for m in c["messages"]] + [p for p in ordinary + crisis if p]
    tok = chatml_folder.train_tokenizer(texts, VOCAB_SIZE, whole_contractions=True)
    hf_tok = chatml_folder.hf_tokenizer(tok)

    torch.manual_seed(SEED)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), bos_token_id=None,
                         eos_token_id=tok.token_to_id(chatml_folder.END_OF_TURN),
                         pad_token_id=tok.token_to_id(chatml_folder.PAD), **ARCHITECTURE)
    model = LlamaForCausalLM(config).to(torch.float32)
    parameters = sum(p.numel() for p in model.parameters())
    log(f"training a {config.num_hidden_layers}-layer Llama ({parameters / 1e6:.2f} M parameters, vocabulary "
        f"{config.vocab_size}) on {len(corpus)} conversations, {THREADS} threads")
    seconds, loss = training.train(model, hf_tok, corpus, (ordinary, crisis), seed=SEED, log=log, **TRAINING)
    log(f"trained in {seconds:.0f} s, final loss {loss:.3f}")

    work = chatml_folder.scratch_beside(folder)
    model.save_pretrained(work, safe_serialization=True)
    chatml_folder.save_tokenizer(hf_tok, work)
    chatml_folder.save_generation_config(tok, work)
    chatml_folder.install(work, folder, fp)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).expanduser().resolve()
    fp = fingerprint()
    if chatml_folder.is_current(out, fp):
        print(f"{out}: up to date")
        return 0
    store = Path(os.environ.get("THERAPEIA_CACHE", Path.home() / ".cache" / "therapeia")) / "default-models"
    trained = store / fp[:16]
    store.mkdir(parents=True, exist_ok=True)
    # one build trains, a concurrent one (another module, another checkout) waits and copies
    with open(store / (fp[:16] + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not chatml_folder.is_current(trained, fp):
            build(trained, fp)
    chatml_folder.copy_into(trained, out, fp)
    print(f"{out}: the trained default model ({trained})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
