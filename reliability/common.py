"""Shared helpers of the reliability checks (Python 3 standard library only).

Each check starts its own service through scripts/run.sh (HOST=127.0.0.1, its own port, its own
ADMIN_TOKEN, the default model unless MODEL_PATH is set; the checks that need long generations pass
random_weight_model()), captures run.sh's output to a file,
waits for /health/ready, and always stops the service it started (SIGTERM to the java process
run.sh exec'd into, SIGKILL after 30 s) when the check ends, fails or is interrupted.
"""
import atexit
import http.client
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_SH = os.path.join(ROOT, "scripts", "run.sh")


class Service:
    def __init__(self, port, log_path, env=None, admin_token="reliability-token", api_key=None):
        self.port = port
        self.host = "127.0.0.1"
        self.log_path = log_path
        self.admin_token = admin_token
        self.api_key = api_key  # when set, the service requires it and infer() sends it
        self.env = dict(os.environ)
        self.env.pop("API_KEY", None)
        self.env.update({"HOST": self.host, "PORT": str(port), "ADMIN_TOKEN": admin_token})
        if api_key:
            self.env["API_KEY"] = api_key
        self.env.update(env or {})
        self.proc = None

    def start(self, ready_timeout=900):
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([RUN_SH], cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("run.sh exited with %s; see %s" % (self.proc.returncode, self.log_path))
            try:
                status, _, _ = self.request("GET", "/health/ready", timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError("service not ready after %d s; see %s" % (ready_timeout, self.log_path))

    def _on_signal(self, signum, frame):
        self.stop()
        sys.exit(128 + signum)

    def java_pid(self):
        """run.sh execs java, so its PID becomes the java process; else look for a java child."""
        pid = self.proc.pid
        try:
            if os.path.basename(os.readlink("/proc/%d/exe" % pid)) == "java":
                return pid
        except OSError:
            pass
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and os.path.basename(os.readlink("/proc/%s/exe" % entry)) == "java":
                    return int(entry)
            except OSError:
                continue
        raise RuntimeError("no java process under run.sh (pid %d)" % pid)

    def rss_kib(self):
        with open("/proc/%d/status" % self.java_pid()) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        except ProcessLookupError:
            pass
        self._log.close()

    # --- HTTP ---
    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data
        finally:
            conn.close()

    def infer(self, payload, timeout=30, path="/api/v1/inference"):
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        return self.request("POST", path, body=json.dumps(payload).encode(), headers=headers, timeout=timeout)

    def metric(self, name):
        """Value of an application-scope Prometheus gauge/counter (first sample with that name)."""
        _, _, data = self.request("GET", "/metrics?scope=application", timeout=10)
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        raise KeyError(name)

    def healthy_after(self):
        """(/health/ready status, /health/live status, one normal request's status and body)."""
        ready = self.request("GET", "/health/ready", timeout=10)[0]
        live = self.request("GET", "/health/live", timeout=10)[0]
        status, _, body = self.infer({"user_input": "I've been feeling anxious lately.", "use_cache": False,
                                      "max_new_tokens": 32}, timeout=60)
        ok = status == 200 and "response" in json.loads(body)
        return ready, live, status, ok


def report(path, result):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(json.dumps(result, indent=2, sort_keys=True))


def cache_dir():
    return os.environ.get("THERAPEIA_CACHE", os.path.expanduser("~/.cache/therapeia"))


def toolchain_python():
    """The Python of scripts/setup-toolchain.sh's virtual environment (torch, transformers, tokenizers)."""
    setup = open(os.path.join(ROOT, "scripts", "setup-toolchain.sh")).read()
    version = [line.split("=", 1)[1].strip() for line in setup.splitlines() if line.startswith("TORCH_VERSION=")][0]
    return os.path.join(cache_dir(), "venv-torch" + version, "bin", "python")


def random_weight_model():
    """MODEL_PATH for the checks that need long generations: MODEL_PATH when set, else the random-weight
    model (scripts/make-random-model.py, built into $THERAPEIA_CACHE/random-model on first use), whose
    greedy replies run to max_new_tokens; the trained default model ends its replies after a few dozen tokens."""
    if os.environ.get("MODEL_PATH"):
        return os.environ["MODEL_PATH"]
    python = toolchain_python()
    if not os.path.exists(python):
        subprocess.run([os.path.join(ROOT, "scripts", "setup-toolchain.sh")], check=True,
                       env=dict(os.environ, THERAPEIA_CACHE=cache_dir()))
    path = os.path.join(cache_dir(), "random-model")
    subprocess.run([python, os.path.join(ROOT, "scripts", "make-random-model.py"), path], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def default_out():
    return os.path.join(ROOT, "target", "reliability")
