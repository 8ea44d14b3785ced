"""llama.cpp for the benchmark baseline: built from source, outside the repository, once per CPU kind.

A benchmark baseline only: nothing in the build, the tests or CI uses it.

Where the source comes from: the PyPI sdist of llama-cpp-python, pinned below, which vendors
llama.cpp at a pinned commit (its git metadata in the sdist names the commit; checked below).
pip builds that llama.cpp from source with CMake, with the GGML options of the CPU kind, into a
venv under ~/.cache/therapeia/llama.cpp; the benchmark then drives it through the bindings' C API
(bench/llamacpp_worker.py). The same unpacked sdist provides llama.cpp's own converter,
convert_hf_to_gguf.py, and its gguf-py, for bench/gguf_convert.py.

CPU kinds:
  native  GGML_NATIVE=ON: -march=native, so on this machine AVX-512 (F/BW/VL/DQ, VNNI, BF16);
  avx2    the AVX2-only CPU, emulated on an AVX-512 machine: GGML_NATIVE=OFF with AVX, AVX2, FMA,
          F16C and BMI2 on and every AVX-512, AVX-VNNI and AMX option off (ggml picks its kernels
          at compile time from these flags, so this build runs the AVX2 code paths only).
"""

import json
import os
import subprocess
import sys
import tarfile

LLAMA_CPP_PYTHON = "0.3.36"
# llama.cpp commit vendored by that sdist (vendor/llama.cpp); checked against the sdist on unpack.
LLAMA_CPP_COMMIT = "0c1e57098bba43ac29e6e3b677cdceebdd22334f"
# The bindings' runtime dependencies, pinned (pip would otherwise take the newest).
BINDING_PINS = ["numpy==2.4.6", "typing-extensions==4.16.0", "diskcache==5.6.3", "jinja2==3.1.6",
                "MarkupSafe==3.0.4"]
# For the converter, beside the torch venv's torch, transformers, numpy, pyyaml and tqdm.
CONVERTER_PINS = ["sentencepiece==0.2.1"]

DEFAULT_ROOT = os.path.join(os.path.expanduser("~"), ".cache", "therapeia", "llama.cpp")

# LLAVA_BUILD=OFF: the multimodal library is not needed and would double the build time.
CMAKE_ARGS = {
    "native": ["-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=ON"],
    "avx2": ["-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
             "-DGGML_F16C=ON", "-DGGML_BMI2=ON", "-DGGML_AVX_VNNI=OFF", "-DGGML_AVX512=OFF",
             "-DGGML_AVX512_VBMI=OFF", "-DGGML_AVX512_VNNI=OFF", "-DGGML_AVX512_BF16=OFF", "-DGGML_AMX_TILE=OFF",
             "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"],
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    log("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)


def sdist_dir(root=DEFAULT_ROOT):
    """The unpacked sdist (downloaded once with pip); its vendor/llama.cpp is at LLAMA_CPP_COMMIT."""
    unpacked = os.path.join(root, f"llama_cpp_python-{LLAMA_CPP_PYTHON}")
    if os.path.exists(os.path.join(unpacked, ".therapeia-unpacked")):
        return unpacked
    archive = os.path.join(root, "dl", f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz")
    if not os.path.exists(archive):
        os.makedirs(os.path.dirname(archive), exist_ok=True)
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", os.path.dirname(archive)])
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    with open(os.path.join(unpacked, ".git", "modules", "vendor", "llama.cpp", "HEAD")) as f:
        head = f.read().strip()
    if head != LLAMA_CPP_COMMIT:
        raise RuntimeError(f"llama-cpp-python {LLAMA_CPP_PYTHON} vendors llama.cpp {head}, expected {LLAMA_CPP_COMMIT}")
    open(os.path.join(unpacked, ".therapeia-unpacked"), "w").close()
    return unpacked


def llama_cpp_source(root=DEFAULT_ROOT):
    return os.path.join(sdist_dir(root), "vendor", "llama.cpp")


def ensure_llamacpp(kind, root=DEFAULT_ROOT):
    """Returns the python of the venv whose llama_cpp was built for `kind`; builds it when absent
    (on 2 busy cores this takes 10-20 minutes, once)."""
    venv = os.path.join(root, f"venv-{LLAMA_CPP_PYTHON}-{kind}")
    python = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, "therapeia-build.json")
    build = {"llama_cpp_python": LLAMA_CPP_PYTHON, "llama_cpp_commit": LLAMA_CPP_COMMIT, "cmake_args": CMAKE_ARGS[kind],
             "pins": BINDING_PINS}
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == build:
                return python
    sdist_dir(root)  # downloads the sdist and checks its llama.cpp commit before anything is built
    archive = os.path.join(root, "dl", f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz")
    log(f"building llama.cpp {LLAMA_CPP_COMMIT[:12]} ({kind}) into {venv} from {archive} ...")
    run([os.path.join(sys.base_prefix, "bin", "python3"), "-m", "venv", "--clear", venv])
    env = dict(os.environ, CMAKE_ARGS=" ".join(CMAKE_ARGS[kind]),
               CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 1))
    # --no-cache-dir: pip's wheel cache is keyed by the sdist alone, so it would hand the first
    # kind's build to the second.
    run([python, "-m", "pip", "install", "--no-cache-dir", archive] + BINDING_PINS, env=env)
    with open(marker, "w") as f:
        json.dump(build, f)
    return python


def converter_path(root=DEFAULT_ROOT):
    """PYTHONPATH entries the converter needs beside the torch venv: its pinned extra packages."""
    target = os.path.join(root, "converter-deps")
    marker = os.path.join(target, ".therapeia-pins")
    if not (os.path.exists(marker) and open(marker).read() == " ".join(CONVERTER_PINS)):
        run([sys.executable, "-m", "pip", "install", "--no-deps", "--upgrade", "--target", target] + CONVERTER_PINS)
        with open(marker, "w") as f:
            f.write(" ".join(CONVERTER_PINS))
    return [target]
