#!/usr/bin/env python3
"""Checks payara-config/deploy/Dockerfile against a build context that stage-image.sh filled:
what hadolint cannot know. Every COPY source exists in the context; the ENTRYPOINT is a staged,
executable file; LD_LIBRARY_PATH and THERAPEIA_NATIVE_LIBRARY point into copied folders; the image
runs as a non-root user, declares a HEALTHCHECK on /health/ready and exposes 8080. Usage:
    check_dockerfile.py DOCKERFILE CONTEXT_DIR
"""
import json
import os
import re
import shlex
import sys

failures = 0


def check(what, ok, detail=""):
    global failures
    print(("  ok   " if ok else "  FAIL ") + "Dockerfile: " + what + ("" if ok else "  (" + str(detail) + ")"))
    if not ok:
        failures += 1


def instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        lines.append(current.strip())
        current = ""
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def main():
    dockerfile, context = sys.argv[1], sys.argv[2]
    ins = instructions(dockerfile)
    stages = [rest for word, rest in ins if word == "FROM"]
    args = dict(re.match(r"(\w+)=(\S+)", rest).groups() for word, rest in ins if word == "ARG" and "=" in rest)
    final_base = stages[-1].split()[0]
    final_base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), final_base)
    check("final stage on an NVIDIA CUDA image (%s)" % final_base, final_base.startswith("nvidia/cuda:"))
    jre = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), stages[0].split()[0])
    check("Java 17 from Temurin (%s)" % jre, jre.startswith("eclipse-temurin:17"))

    final_index = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    final = ins[final_index:]
    copied = {}  # destination -> source in the context
    for word, rest in final:
        if word != "COPY":
            continue
        parts = shlex.split(rest)
        if any(p.startswith("--from") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        *sources, dest = parts
        for src in sources:
            exists = os.path.exists(os.path.join(context, src))
            check("COPY %s exists in the context" % src, exists, os.path.join(context, src))
            copied[dest.rstrip("/")] = os.path.join(context, src.rstrip("/"))

    def staged(path):
        """The context file that lands at image path `path`, or None."""
        for dest, src in copied.items():
            if path == dest:
                return src
            if path.startswith(dest + "/"):
                return os.path.join(src, path[len(dest) + 1:])
        return None

    env = {}
    for word, rest in final:
        if word == "ENV":
            for token in shlex.split(rest):
                if "=" in token:
                    k, v = token.split("=", 1)
                    env[k] = v
    for d in env.get("LD_LIBRARY_PATH", "").split(":"):
        src = staged(d)
        check("LD_LIBRARY_PATH entry %s is a copied folder" % d, src is not None and os.path.isdir(src), src)
    native = env.get("THERAPEIA_NATIVE_LIBRARY")
    src = staged(native or "")
    check("THERAPEIA_NATIVE_LIBRARY %s is copied" % native, src is not None and os.path.isfile(src), src)

    entry = [rest for word, rest in final if word == "ENTRYPOINT"]
    entry_cmd = json.loads(entry[-1]) if entry else []
    src = staged(entry_cmd[0]) if entry_cmd else None
    check("ENTRYPOINT (exec form) %s is a staged executable" % (entry_cmd[:1],),
          src is not None and os.path.isfile(src) and os.access(src, os.X_OK), src)

    users = [rest for word, rest in final if word == "USER"]
    check("runs as a non-root user", users and users[-1].split(":")[0] not in ("root", "0"), users)
    health = [rest for word, rest in final if word == "HEALTHCHECK"]
    check("HEALTHCHECK probes /health/ready", health and "/health/ready" in health[-1], health)
    exposed = " ".join(rest for word, rest in final if word == "EXPOSE").split()
    check("EXPOSE 8080", "8080" in exposed, exposed)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
