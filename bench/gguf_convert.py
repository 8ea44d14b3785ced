#!/usr/bin/env python3
"""The benchmark's Hugging Face folders as GGUF files, made by llama.cpp's own converter.

convert_hf_to_gguf.py (from the llama.cpp source that bench/llamacpp_build.py unpacks) turns the
same random-weight float32 safetensors our engine and transformers load into f32, bf16 and Q8_0
GGUF files, cached beside the models (keyed by the model folder and the llama.cpp commit).

The random models carry no tokenizer, and the converter wants one. For Llama-family models it
takes a SentencePiece tokenizer.model and pads its vocabulary with [PAD<n>] tokens up to the
config's vocab_size, so a small SentencePiece model trained here on generated words is enough: the
benchmark feeds token ids, never text, and the embedding and lm_head keep the config's full
vocabulary. The tokenizer goes into a staging folder of links to the model's files, so the model
folder the other engines load stays as it is. (Models whose converter insists on a known BPE
pre-tokenizer, such as OLMoE, are refused by the converter; the benchmark reports that cell n/a.)

Run as a script only for its internal step (training the tokenizer in the torch venv with the
pinned sentencepiece on the path): gguf_convert.py make-tokenizer STAGING_DIR.
"""

import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import llamacpp_build  # noqa: E402

# The benchmark's dtype -> the converter's --outtype.
OUTTYPES = {"float32": "f32", "bfloat16": "bf16", "int8": "q8_0"}
TOKENIZER_VOCAB = 512


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def converter_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(llamacpp_build.converter_path() + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def staging_dir(model_dir):
    """A folder with links to the model's files plus a tokenizer.model the converter accepts."""
    staging = model_dir.rstrip("/") + ".gguf-source"
    if os.path.exists(os.path.join(staging, "tokenizer.model")):
        return staging
    os.makedirs(staging, exist_ok=True)
    for name in os.listdir(model_dir):
        if name.endswith((".json", ".safetensors")) and not os.path.exists(os.path.join(staging, name)):
            os.symlink(os.path.join(model_dir, name), os.path.join(staging, name))
    subprocess.run([sys.executable, os.path.abspath(__file__), "make-tokenizer", staging], env=converter_env(),
                   check=True)
    return staging


def gguf_file(model_dir, dtype):
    """The GGUF file of `model_dir` in the converter's type for `dtype`; converts once."""
    outtype = OUTTYPES[dtype]
    commit = llamacpp_build.LLAMA_CPP_COMMIT[:12]
    out = os.path.join(os.path.dirname(model_dir.rstrip("/")), f"gguf-{commit}",
                       f"{os.path.basename(model_dir.rstrip('/'))}-{outtype}.gguf")
    if os.path.exists(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    source = staging_dir(model_dir)
    converter = os.path.join(llamacpp_build.llama_cpp_source(), "convert_hf_to_gguf.py")
    log(f"converting {model_dir} to {outtype} with llama.cpp's converter ...")
    partial = out + ".partial"  # a killed conversion leaves no file that looks finished
    proc = subprocess.run([sys.executable, converter, source, "--outtype", outtype, "--outfile", partial],
                          env=converter_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"convert_hf_to_gguf.py failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    os.replace(partial, out)
    return out


def make_tokenizer(staging):
    import sentencepiece

    # Words of 2-7 letters, drawn with a fixed seed: enough text for TOKENIZER_VOCAB pieces.
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 7))) for _ in range(3000)]
    sentences = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(5000)]
    # Ids 0/1/2 = unk/bos/eos, as the models' config (pad 0, bos 1, eos 2).
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=os.path.join(staging, "tokenizer"),
        vocab_size=TOKENIZER_VOCAB, model_type="bpe", unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        hard_vocab_limit=False, minloglevel=2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make-tokenizer":
        sys.exit(make_tokenizer(sys.argv[2]))
    sys.exit("usage: gguf_convert.py make-tokenizer STAGING_DIR (internal step; see the module doc)")
