#!/usr/bin/python3
"""OpenAI API conformance through the official OpenAI Python SDK, against a service this script
starts (API_KEY set): an independent client, not the Java SDK the integration tests use.

The SDK (`openai`, pinned below) goes into a virtual environment of its own, target/openai-sdk-venv
(made with /usr/bin/python3 -m venv and pip on the first run; later runs reuse it), and the script
re-runs itself with that environment's Python. Checks, each through the SDK's own calls:

1. models: `models.list()` names the served model first; `models.retrieve()` of it.
2. non-streamed: a greedy (`temperature: 0`) completion of a four-message conversation (system,
   user, assistant, user) has OpenAI's shape (`chatcmpl-` id, `chat.completion`, the assistant's
   message, a finish reason, usage adding up) and the same reply and token count as the seed's API
   (`/api/v1/inference`) gives for that conversation.
3. streamed: a seeded sampled reply with text, generated live as a stream: one id and `created`
   for every chunk, the role in the first delta, a finish reason in the last choice chunk, no
   usage; the content deltas concatenate to the same request's non-streamed reply and to the
   seed API's reply for that conversation, temperature and seed.
4. include_usage: exactly one usage chunk, the last, with no choices and the non-streamed usage.
5. stop: that reply cut at a stop string taken from its own middle ends before it
   (`finish_reason: stop`), streamed (live) or not; the stream never shows a piece of the stop string.
6. request forms: a developer message reads as a system message, an array of text parts as the
   string, `max_tokens` as `max_completion_tokens` (the same greedy reply each time); `seed: -1`
   after an unseeded request with the same temperature gets its own reply (the seed API's
   uncached one), not the unseeded reply the cache holds.
7. errors, as the SDK's exception types with OpenAI's fields: a bad parameter (400
   `BadRequestError`, `param: temperature`), an unsupported one (`tools`, audio output), `n: 2`, a
   model that is not served (404 `NotFoundError`, `code: model_not_found`, `param: model`), a wrong
   key and no key (401 `AuthenticationError`, on chat and on models); then a normal request is
   still served.

    /usr/bin/python3 reliability/openai_sdk.py [--port 18299]
"""
import os
import subprocess
import sys

OPENAI_SDK = "openai==3.51.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "openai-sdk-venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")


def in_sdk_venv():
    """Re-runs this script with the SDK's virtual environment, creating it first if need be."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    pinned = subprocess.run([VENV_PYTHON, "-c", "import importlib.metadata as m; print(m.version('openai'))"],
                            capture_output=True, text=True) if os.path.exists(VENV_PYTHON) else None
    if pinned is None or pinned.returncode != 0 or pinned.stdout.strip() != OPENAI_SDK.split("==")[1]:
        print("installing %s into %s" % (OPENAI_SDK, VENV), flush=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", VENV], check=True)
        subprocess.run([VENV_PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", OPENAI_SDK],
                       check=True)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


in_sdk_venv()

import argparse  # noqa: E402
import json  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402

import openai  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CONVERSATION = [
    {"role": "system", "content": "You are a compassionate, supportive therapist."},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi, how can I help?"},
    {"role": "user", "content": "I have been feeling low."},
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18299)
    ap.add_argument("--out", default=common.default_out())
    args = ap.parse_args()
    api_key = "key-" + uuid.uuid4().hex
    svc = common.Service(args.port, os.path.join(args.out, "openai_sdk-server.log"), api_key=api_key)
    svc.start()
    base = "http://%s:%d/v1" % (svc.host, svc.port)
    client = openai.OpenAI(base_url=base, api_key=api_key, max_retries=0, timeout=120)
    checks, details = {}, {"sdk": "openai " + openai.__version__}

    def check(name, fn):
        try:
            ok, detail = fn()
        except Exception as e:  # a failed check, reported with what went wrong
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
        checks[name] = bool(ok)
        details[name] = detail

    try:
        model = client.models.list().data[0].id
        details["model"] = model

        def models():
            listed = [m.id for m in client.models.list().data]
            one = client.models.retrieve(model)
            return listed[0] == model and one.id == model and one.object == "model", {"listed": listed}
        check("models", models)

        greedy = dict(model=model, messages=CONVERSATION, temperature=0, max_completion_tokens=16)
        plain = client.chat.completions.create(**greedy)
        content = plain.choices[0].message.content or ""

        def non_streamed():
            seed_status, _, seed_body = svc.infer({
                "user_input": CONVERSATION[3]["content"], "system_prompt": CONVERSATION[0]["content"],
                "conversation_history": CONVERSATION[1:3], "temperature": 0, "max_new_tokens": 16,
                "use_cache": False})
            seed = json.loads(seed_body)
            u = plain.usage
            ok = (plain.id.startswith("chatcmpl-") and plain.object == "chat.completion" and plain.model == model
                  and len(plain.choices) == 1 and plain.choices[0].message.role == "assistant"
                  and plain.choices[0].finish_reason in ("stop", "length")
                  and u.total_tokens == u.prompt_tokens + u.completion_tokens
                  and seed_status == 200 and seed["response"] == content
                  and seed["tokens_generated"] == u.completion_tokens)
            return ok, {"finish_reason": plain.choices[0].finish_reason, "usage": u.model_dump(),
                        "same_as_seed_api": seed_status == 200 and seed["response"] == content}
        check("non_streamed", non_streamed)

        # a sampled, seeded conversation whose reply has text (greedy replies of the default model have
        # little or none), found by streaming: each stream is generated live (a miss), then cached
        sampled = None
        for seed in range(40):
            params = dict(model=model, messages=CONVERSATION, temperature=1.0, seed=seed, max_completion_tokens=24)
            live = list(client.chat.completions.create(stream=True, **params))
            if len("".join(c.choices[0].delta.content or "" for c in live if c.choices)) >= 6:
                sampled = params
                break
        details["sampled_seed"] = sampled and sampled["seed"]

        def streamed():
            text = "".join(c.choices[0].delta.content or "" for c in live if c.choices)
            choice_chunks = [c for c in live if c.choices]
            again = client.chat.completions.create(**sampled)  # the same request, now from the cache
            seed_status, _, seed_body = svc.infer({
                "user_input": CONVERSATION[3]["content"], "system_prompt": CONVERSATION[0]["content"],
                "conversation_history": CONVERSATION[1:3], "temperature": 1.0, "seed": sampled["seed"],
                "max_new_tokens": 24, "use_cache": False})
            ok = (len({c.id for c in live}) == 1 and len({c.created for c in live}) == 1
                  and live[0].choices[0].delta.role == "assistant"
                  and choice_chunks[-1].choices[0].finish_reason in ("stop", "length")
                  and all(c.choices[0].finish_reason is None for c in choice_chunks[:-1])
                  and all(c.usage is None for c in live)
                  and text == again.choices[0].message.content
                  and seed_status == 200 and json.loads(seed_body)["response"] == text)
            return ok, {"chunks": len(live), "reply_chars": len(text),
                        "equals_non_streamed": text == again.choices[0].message.content,
                        "equals_seed_api": seed_status == 200 and json.loads(seed_body)["response"] == text}
        check("streamed", streamed)

        def include_usage():
            plain_usage = client.chat.completions.create(**sampled).usage
            chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True},
                                                         **sampled))
            with_usage = [c for c in chunks if c.usage is not None]
            last = chunks[-1]
            ok = (len(with_usage) == 1 and last is with_usage[0] and last.choices == []
                  and last.usage.model_dump() == plain_usage.model_dump())
            return ok, {"usage_chunks": len(with_usage), "usage": last.usage.model_dump() if last.usage else None}
        check("include_usage", include_usage)

        def stop():
            free = client.chat.completions.create(**sampled).choices[0].message.content
            stop_string = free[len(free) // 2:len(free) // 2 + 2]
            expected = free[:free.index(stop_string)].strip()
            # streamed first, so that it is generated live (the plain request after it is a cache hit)
            pieces = [c.choices[0].delta.content or "" for c in
                      client.chat.completions.create(stop=[stop_string], stream=True, **sampled) if c.choices]
            cut = client.chat.completions.create(stop=stop_string, **sampled)
            ok = (cut.choices[0].message.content == expected and cut.choices[0].finish_reason == "stop"
                  and "".join(pieces) == expected and not any(stop_string in p for p in pieces))
            return ok, {"stop": stop_string, "reply_chars": len(free), "kept_chars": len(expected),
                        "streamed_pieces": len(pieces), "streamed_equals": "".join(pieces) == expected}
        check("stop", stop)

        def request_forms():
            def greedy_reply(**kw):
                return client.chat.completions.create(model=model, temperature=0, **kw).choices[0].message.content or ""

            system, rest = CONVERSATION[0], CONVERSATION[1:]
            last = dict(rest[-1], content=[{"type": "text", "text": rest[-1]["content"]}])
            forms = {
                "developer": greedy_reply(messages=[dict(system, role="developer")] + rest, max_completion_tokens=16),
                "text_parts": greedy_reply(messages=[system] + rest[:-1] + [last], max_completion_tokens=16),
                "max_tokens": greedy_reply(messages=CONVERSATION, max_tokens=16),
            }
            # an unseeded sampled reply is cached for every unseeded request; seed -1 must not read it (an
            # everyday message: one with a risk signal, such as feeling low, is never cached)
            everyday = "My week was busy and I slept badly."
            sampled_params = dict(model=model, messages=[{"role": "user", "content": everyday}], temperature=1.3,
                                  max_completion_tokens=12)
            for _ in range(2):  # the second a cache hit: the entry is written by then
                client.chat.completions.create(**sampled_params)
            minus_one = client.chat.completions.create(seed=-1, **sampled_params).choices[0].message.content
            seed_status, _, seed_body = svc.infer({"user_input": everyday, "temperature": 1.3, "seed": -1,
                                                   "max_new_tokens": 12, "use_cache": False})
            own = seed_status == 200 and json.loads(seed_body)["response"] == minus_one
            ok = all(reply == content for reply in forms.values()) and own
            return ok, {"same_greedy_reply": {k: v == content for k, v in forms.items()},
                        "seed_minus_one_own_reply": own}
        check("request_forms", request_forms)

        def error(call, kind):
            try:
                call()
            except kind as e:
                return {"status": e.status_code, "type": e.type, "param": e.param, "code": e.code,
                        "error_body_fields": sorted(e.body) if isinstance(e.body, dict) else None}
            raise AssertionError("expected " + kind.__name__)

        def errors():
            found = {
                "bad_param": error(lambda: client.chat.completions.create(model=model, messages=CONVERSATION,
                                                                           temperature=9), openai.BadRequestError),
                "tools": error(lambda: client.chat.completions.create(
                    model=model, messages=CONVERSATION,
                    tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]),
                    openai.BadRequestError),
                "n": error(lambda: client.chat.completions.create(model=model, messages=CONVERSATION, n=2),
                           openai.BadRequestError),
                "audio": error(lambda: client.chat.completions.create(
                    model=model, messages=CONVERSATION, modalities=["text", "audio"],
                    audio={"voice": "alloy", "format": "wav"}), openai.BadRequestError),
                "wrong_model": error(lambda: client.chat.completions.create(model="gpt-4o", messages=CONVERSATION),
                                     openai.NotFoundError),
                "wrong_model_streamed": error(lambda: list(client.chat.completions.create(
                    model="gpt-4o", messages=CONVERSATION, stream=True)), openai.NotFoundError),
                "wrong_key": error(lambda: openai.OpenAI(base_url=base, api_key="wrong", max_retries=0)
                                   .chat.completions.create(model=model, messages=CONVERSATION),
                                   openai.AuthenticationError),
                "wrong_key_models": error(lambda: openai.OpenAI(base_url=base, api_key="wrong", max_retries=0)
                                          .models.list(), openai.AuthenticationError),
            }
            fields = ["code", "message", "param", "type"]
            ok = (found["bad_param"]["status"] == 400 and found["bad_param"]["param"] == "temperature"
                  and found["bad_param"]["type"] == "invalid_request_error"
                  and found["tools"]["param"] == "tools" and found["n"]["param"] == "n"
                  and found["audio"]["param"] == "modalities" and found["audio"]["code"] == "unsupported_parameter"
                  and found["wrong_model"]["status"] == 404 and found["wrong_model"]["code"] == "model_not_found"
                  and found["wrong_model"]["param"] == "model" and found["wrong_model_streamed"]["status"] == 404
                  and found["wrong_key"]["status"] == 401 and found["wrong_key_models"]["status"] == 401
                  and found["wrong_key"]["type"] == "authentication_error"
                  and all(f["error_body_fields"] == fields for f in found.values()))
            return ok, found
        check("errors", errors)

        def still_serving():
            again = client.chat.completions.create(**greedy)
            return (again.choices[0].message.content or "") == content, "greedy reply unchanged after the errors"
        check("still_serving", still_serving)
    finally:
        svc.stop()
    result = {"passed": all(checks.values()), "checks": checks, "details": details}
    common.report(os.path.join(args.out, "openai_sdk.json"), result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
