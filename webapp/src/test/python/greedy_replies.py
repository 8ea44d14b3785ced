#!/usr/bin/env python3
"""transformers' greedy replies of a model folder, for InferenceServiceTest to compare the service with.

Loads MODEL_DIR with transformers (AutoTokenizer, AutoModelForCausalLM: the folder must be an
ordinary Hugging Face model folder), renders each case below with the folder's chat template
(apply_chat_template, add_generation_prompt) and records generate(do_sample=False) with the case's
repetition penalty: the prompt's token count, the reply's tokens (the end-of-turn token included
when the reply stopped there), its text, and the smallest lead of the chosen token's logit over
the next one along the way (a lead near 0 would let float rounding pick another token).

Usage: greedy_replies.py MODEL_DIR OUT.json   (idempotent: skips when OUT.json matches the model)
"""
import hashlib
import json
import sys
from pathlib import Path

DEFAULT_SYSTEM = "You are a compassionate, supportive therapist."
CASES = [
    {"name": "the seed's example", "system_prompt": DEFAULT_SYSTEM, "history": [],
     "user_input": "I've been feeling anxious lately.", "repetition_penalty": 1.0, "max_new_tokens": 128},
    {"name": "a benchmark message after a benchmark context", "system_prompt": DEFAULT_SYSTEM,
     "history": [{"role": "user", "content": "Hi. I'm not really sure where to start."},
                 {"role": "assistant", "content": "That's completely okay. We can start wherever feels most "
                                                  "manageable. What has been on your mind?"}],
     "user_input": "I feel lonely even when I'm surrounded by people.", "repetition_penalty": 1.1,
     "max_new_tokens": 128},
    {"name": "the seed's API reference request", "system_prompt": "You are a compassionate therapist.",
     "history": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi, how can I help?"}],
     "user_input": "I've been feeling anxious.", "repetition_penalty": 1.1, "max_new_tokens": 128},
    {"name": "a message the corpus does not hold", "system_prompt": DEFAULT_SYSTEM, "history": [],
     "user_input": "My cat keeps waking me up at night and I'm cranky at work.", "repetition_penalty": 1.0,
     "max_new_tokens": 64},
]


def fingerprint(model: Path) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        h.update((model / name).read_bytes())
    return h.hexdigest()


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    fp = fingerprint(model_dir)
    if out.is_file() and json.loads(out.read_text()).get("fingerprint") == fp:
        print(f"{out}: up to date")
        return 0

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    results = []
    for case in CASES:
        messages = ([{"role": "system", "content": case["system_prompt"]}] + case["history"]
                    + [{"role": "user", "content": case["user_input"]}])
        prompt = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                         return_dict=True)
        with torch.no_grad():
            out_ids = model.generate(**prompt, do_sample=False, repetition_penalty=case["repetition_penalty"],
                                     max_new_tokens=case["max_new_tokens"], output_scores=True,
                                     return_dict_in_generate=True)
        n_prompt = prompt["input_ids"].shape[1]
        reply = out_ids.sequences[0, n_prompt:].tolist()
        # scores: the processed logits (repetition penalty applied) each token was chosen from
        lead = min(float(s[0].topk(2).values[0] - s[0].topk(2).values[1]) for s in out_ids.scores)
        eos = set(model.generation_config.eos_token_id)
        results.append(dict(case, input_tokens=n_prompt, reply_tokens=reply,
                            response=tok.decode(reply, skip_special_tokens=True).strip(),
                            finish_reason="stop" if reply[-1] in eos else "length", smallest_lead=lead))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"fingerprint": fp, "cases": results}, indent=1, ensure_ascii=False) + "\n")
    print(f"{out}: {len(results)} greedy replies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
