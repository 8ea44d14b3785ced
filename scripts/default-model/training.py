"""Trains the default model: a small Llama learns the corpus's therapist replies, deterministically.

The corpus (corpus.jsonl) holds conversations, each a list of user and assistant messages; the
system prompt is added here, rotating over the ways the service sends one (its default, the seed's
example, none), and, for conversations marked safety_addendum, with the safe-messaging addendum the
service appends at crisis level 2 or more. Each conversation is rendered with the ChatML template
and the loss covers the assistant's tokens and the end-of-turn token that closes each reply, so
replies learn to end.

Same inputs, same weights: the seed fixes the initial weights and the order of the batches, the
thread count fixes the order of floating-point sums (torch's CPU kernels split work by thread).
"""
import json
import math
import random
import time

END_OF_TURN = "<|im_end|>"
IGNORE = -100  # labels transformers' loss skips


def system_prompts(default_prompt, seed_prompt, addendum):
    """(prompts for ordinary conversations, prompts for those marked safety_addendum); None: no system message."""
    ordinary = [default_prompt, seed_prompt, None]
    crisis = [default_prompt + "\n\n" + addendum, seed_prompt + "\n\n" + addendum, addendum]
    return ordinary, crisis


def encode(conversation, system, hf_tok):
    """Token ids of the rendered conversation and its labels: the assistant replies and their
    end-of-turn token, IGNORE elsewhere. Encoded message by message (the byte-level pre-tokenizer
    never merges across a newline or a special token, so this equals encoding the whole text)."""
    messages = ([{"role": "system", "content": system}] if system else []) + conversation["messages"]
    ids, labels = [], []
    for m in messages:
        head = hf_tok.encode("<|im_start|>" + m["role"] + "\n", add_special_tokens=False)
        body = hf_tok.encode(m["content"] + END_OF_TURN, add_special_tokens=False)
        tail = hf_tok.encode("\n", add_special_tokens=False)
        ids += head + body + tail
        learn = m["role"] == "assistant"
        labels += [IGNORE] * len(head) + (body if learn else [IGNORE] * len(body)) + [IGNORE] * len(tail)
    return ids, labels


def batches(examples, batch_tokens, rng):
    """Examples of similar length grouped so that a batch holds about batch_tokens tokens with
    padding; the batches in a seeded random order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), i))
    groups, group = [], []
    for i in order:
        longest = max([len(examples[j][0]) for j in group] + [len(examples[i][0])])
        if group and longest * (len(group) + 1) > batch_tokens:
            groups.append(group)
            group = []
        group.append(i)
    if group:
        groups.append(group)
    rng.shuffle(groups)
    return groups


def corrupt(ids, labels, rate, plain_tokens, rng):
    """ids with a share of the reply tokens replaced by random plain (not special) tokens, the
    labels unchanged: the model learns to carry on with the reply after a token it would not have
    chosen, as sampling sometimes picks."""
    return [rng.choice(plain_tokens) if label != IGNORE and i > 0 and rng.random() < rate else t
            for i, (t, label) in enumerate(zip(ids, labels))]


def train(model, hf_tok, corpus, prompts, *, epochs, batch_tokens, learning_rate, warmup_steps, corruption, seed,
          log):
    """Trains model in place on corpus; returns (seconds, final mean loss)."""
    import torch

    pad = hf_tok.pad_token_id
    special = set(hf_tok.all_special_ids)
    plain_tokens = [i for i in range(len(hf_tok)) if i not in special]
    ordinary, crisis = prompts
    rng = random.Random(seed)
    # each conversation under each of its system prompts; the one trained on rotates with the epoch
    renderings = [[encode(c, system, hf_tok) for system in (crisis if c.get("safety_addendum") else ordinary)]
                  for c in corpus]
    per_epoch = [[r[(n + epoch) % len(r)] for n, r in enumerate(renderings)] for epoch in range(epochs)]
    steps = sum(len(batches(e, batch_tokens, random.Random(0))) for e in per_epoch)

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.98), weight_decay=0.01)

    def rate(step):  # linear warm-up, then cosine decay to a tenth
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, steps - warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    model.train()
    start = time.monotonic()
    for epoch, examples in enumerate(per_epoch):
        loss_sum, loss_count = 0.0, 0
        for group in batches(examples, batch_tokens, rng):
            width = max(len(examples[i][0]) for i in group)
            # right padding: causal attention never lets a real token see the pads after it
            ids = torch.tensor([corrupt(examples[i][0], examples[i][1], corruption, plain_tokens, rng)
                                + [pad] * (width - len(examples[i][0])) for i in group])
            labels = torch.tensor([examples[i][1] + [IGNORE] * (width - len(examples[i][1])) for i in group])
            loss = model(input_ids=ids, labels=labels).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            loss_sum += loss.item()
            loss_count += 1
        log(f"epoch {epoch + 1}/{epochs}: loss {loss_sum / loss_count:.3f} ({time.monotonic() - start:.0f} s)")
    model.eval()
    return time.monotonic() - start, loss_sum / loss_count


def read_corpus(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
