"""What the project's own model folders share: a byte-level BPE tokenizer with the ChatML special
tokens, its Hugging Face files (the chat template kept in tokenizer_config.json), the generation
defaults, and an all-or-nothing install of a finished folder.

Used by make-default-model.py (the trained default model) and make-random-model.py (the
random-weight model of the tests that need long generations).
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
END_OF_TURN = "<|im_end|>"
PAD = "<|endoftext|>"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
FILES = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
         "tokenizer_config.json", "special_tokens_map.json"]
STAMP = ".therapeia-default-model"


# GPT-2's split of text into words (ByteLevel's own), except that a word keeps its apostrophes:
# "I'm", "don't" and "mother's" are one piece each, never a word and a separate "'m" or "'s"
WORDS_WITH_APOSTROPHES = r" ?\p{L}+(?:'\p{L}+)*| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def train_tokenizer(texts, vocab_size, whole_contractions=False):
    """A byte-level BPE trained on texts: every byte is a token, so any text encodes. With
    whole_contractions, words are split from text as WORDS_WITH_APOSTROPHES does, not as GPT-2 does."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    if whole_contractions:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(WORDS_WITH_APOSTROPHES), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return tok


def hf_tokenizer(tok):
    """The transformers tokenizer over tok: end of turn is EOS, the ChatML template."""
    from transformers import PreTrainedTokenizerFast

    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=None, eos_token=END_OF_TURN,
                                     pad_token=PAD, unk_token=None, additional_special_tokens=["<|im_start|>"])
    hf_tok.chat_template = CHATML_TEMPLATE
    hf_tok.model_max_length = 2048
    return hf_tok


def save_tokenizer(hf_tok, folder: Path):
    hf_tok.save_pretrained(folder)
    # keep the template in tokenizer_config.json (what most published models still do) and drop
    # a separate chat_template.jinja, so there is one source of truth
    tc_path = folder / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text())
    tc["chat_template"] = CHATML_TEMPLATE
    tc_path.write_text(json.dumps(tc, indent=2, ensure_ascii=False) + "\n")
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    if not (folder / "special_tokens_map.json").exists():
        (folder / "special_tokens_map.json").write_text(json.dumps(
            {"eos_token": END_OF_TURN, "pad_token": PAD, "additional_special_tokens": ["<|im_start|>"]},
            indent=2) + "\n")


def save_generation_config(tok, folder: Path):
    """The seed's sampling defaults; generation stops at the end of a turn (or of a text)."""
    from transformers import GenerationConfig

    GenerationConfig(eos_token_id=[tok.token_to_id(END_OF_TURN), tok.token_to_id(PAD)],
                     pad_token_id=tok.token_to_id(PAD), do_sample=True, temperature=0.7, top_p=0.9, top_k=50,
                     repetition_penalty=1.1, max_new_tokens=256).save_pretrained(folder)


def is_current(folder: Path, fingerprint: str) -> bool:
    stamp = folder / STAMP
    return (stamp.is_file() and stamp.read_text().strip() == fingerprint
            and all((folder / f).is_file() for f in FILES))


def scratch_beside(folder: Path) -> Path:
    """A temporary sibling of folder to write into (same file system: the install is a rename)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="." + folder.name + "-", dir=folder.parent))


def install(work: Path, folder: Path, fingerprint: str):
    """Moves the finished files of work into folder, stamp last: a crash never leaves a folder
    that looks complete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STAMP).unlink(missing_ok=True)
    for f in work.iterdir():
        if f.is_file():
            os.replace(f, folder / f.name)
    shutil.rmtree(work, ignore_errors=True)
    (folder / STAMP).write_text(fingerprint + "\n")


def copy_into(source: Path, folder: Path, fingerprint: str):
    """Copies a complete model folder into folder (through a scratch sibling, then install)."""
    work = scratch_beside(folder)
    for name in FILES:
        shutil.copyfile(source / name, work / name)
    install(work, folder, fingerprint)
