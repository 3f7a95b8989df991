"""Test harness: run the real emulator as a subprocess and talk to its control plane.

    from emulator.harness import Emulator
    with Emulator(vms=50, days=7, seed=1) as em:
        requests.get(em.base_url + "/api/", verify=em.ca_file)

The server is started as ``sys.executable tests/emulator --port 0 ...`` (a real process on a
real socket, exactly what integration tests and humans run), the harness waits for the
``EM emulator listening on <base>`` line, and on exit sends SIGTERM (then SIGKILL after a
grace period). Control-plane calls use urllib with the emulator's CA, so the harness has no
third-party dependency.
"""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

EMULATOR_DIR = os.path.dirname(os.path.abspath(__file__))
LISTEN_PREFIX = "EM emulator listening on "


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """Context manager around one emulator process.

    Keyword arguments: ``vms``, ``days``, ``seed`` (generated fleet) or ``dataset`` (path, or a
    dict written to a temp file); ``tls`` (default True; False = plain HTTP); ``latency_ms``;
    ``session_idle_seconds``; ``now`` (ISO string, fixed clock); ``task_seconds``; ``faults``
    (start-up fault spec, dict/list); ``username``/``password``; ``extra_args`` (list);
    ``startup_timeout`` (seconds, default 60); ``em_version`` (``"12"`` or ``"13"``; None = the
    emulator's default, 13); ``running_end_time`` (placeholder end time of running sessions, ``""``
    for none; None = per version); ``as_of`` (True: the as-of view, see asof.py) and
    ``late_collection`` (its outages, a list of ``{"server", "from", "until"}``).
    """

    def __init__(self, vms=50, days=7, seed=1, dataset=None, tls=True, latency_ms=None,
                 session_idle_seconds=None, now=None, task_seconds=None, faults=None,
                 username="emadmin", password="emadmin-Pass1", extra_args=None, startup_timeout=60,
                 host="127.0.0.1", em_version=None, running_end_time=None, as_of=False, late_collection=None):
        self.em_version = em_version
        self.as_of, self.late_collection = as_of, late_collection
        self.running_end_time = running_end_time
        self.vms, self.days, self.seed = vms, days, seed
        self.dataset_arg = dataset
        self.tls = tls
        self.latency_ms = latency_ms
        self.session_idle_seconds = session_idle_seconds
        self.now = now
        self.task_seconds = task_seconds
        self.faults = faults
        self.username = username
        self.password = password
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self.host = host
        self.port = None
        self.base_url = None
        self.ca_file = None
        self.proc = None
        self._tmp = None
        self._stderr_lines = []

    # ------------------------------------------------------------ lifecycle
    def command(self):
        cmd = [sys.executable, EMULATOR_DIR, "--host", self.host, "--port", "0",
               "--username", self.username, "--password", self.password]
        if self.dataset_arg is not None:
            path = self.dataset_arg
            if isinstance(path, (dict, list)):
                path = os.path.join(self._tmp, "dataset.json")
                with open(path, "w", encoding="utf-8") as fh:
                    json.dump(self.dataset_arg, fh)
            cmd += ["--dataset", str(path)]
        else:
            cmd += ["--vms", str(self.vms), "--days", str(self.days), "--seed", str(self.seed)]
        if self.tls:
            cmd += ["--tls-dir", os.path.join(self._tmp, "tls")]
        else:
            cmd += ["--http"]
        if self.latency_ms is not None:
            cmd += ["--latency-ms", str(self.latency_ms)]
        if self.session_idle_seconds is not None:
            cmd += ["--session-idle-seconds", str(self.session_idle_seconds)]
        if self.now is not None:
            cmd += ["--now", str(self.now)]
        if self.task_seconds is not None:
            cmd += ["--task-seconds", str(self.task_seconds)]
        if self.faults is not None:
            cmd += ["--faults", json.dumps(self.faults)]
        if self.em_version is not None:
            cmd += ["--em-version", str(self.em_version)]
        if self.running_end_time is not None:
            cmd += ["--running-end-time", str(self.running_end_time)]
        if self.as_of:
            cmd += ["--as-of"]
        if self.late_collection:
            cmd += ["--late-collection", json.dumps(self.late_collection)]
        return cmd + self.extra_args

    def start(self):
        self._tmp = tempfile.mkdtemp(prefix="em-emulator-")
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8", env=env)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        found = {}

        def read_stdout():
            for line in self.proc.stdout:
                if line.startswith(LISTEN_PREFIX) and "base" not in found:
                    found["base"] = line[len(LISTEN_PREFIX):].strip()
                    break
            for dummy in self.proc.stdout:  # keep draining so the child never blocks on a full pipe
                pass

        threading.Thread(target=read_stdout, daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while "base" not in found:
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise EmulatorError("emulator exited with %s: %s" % (self.proc.returncode,
                                                                     "".join(self._stderr_lines)[-4000:]))
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError("emulator did not start within %ss" % self.startup_timeout)
            time.sleep(0.02)
        self.base_url = found["base"]
        self.port = int(self.base_url.rsplit(":", 1)[1])
        if self.tls:
            self.ca_file = os.path.join(self._tmp, "tls", "ca.pem")
        return self

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr_lines.append(line)
            if len(self._stderr_lines) > 2000:
                del self._stderr_lines[:1000]

    @property
    def stderr_text(self):
        return "".join(self._stderr_lines)

    def stop(self, timeout=10):
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        rc = self.proc.returncode
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ------------------------------------------------------------ control plane
    @property
    def api_url(self):
        return self.base_url + "/api"

    def _control(self, method, path, doc=None):
        data = None if doc is None else json.dumps(doc).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.tls else None
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=60) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raise EmulatorError("%s %s -> %s: %s" % (method, path, e.code, e.read().decode("utf-8", "replace")))

    def stats(self):
        return self._control("GET", "/_emulator/stats")

    def reset_stats(self):
        return self._control("POST", "/_emulator/stats/reset", {})

    def dataset(self):
        return self._control("GET", "/_emulator/dataset")

    def set_faults(self, spec):
        return self._control("POST", "/_emulator/faults", spec)

    def clear_faults(self):
        return self._control("DELETE", "/_emulator/faults")

    def faults_state(self):
        return self._control("GET", "/_emulator/faults")

    def set_view(self, as_of=True, late_collection=None):
        """Turn the as-of view (asof.py) on, with its late-collection outages, or off (``as_of=False``)."""
        return self._control("POST", "/_emulator/view", {"as_of": as_of, "late_collection": late_collection or []})

    def set_clock(self, now):
        """Fix the emulator's data clock (ISO string) or pass None to follow real time."""
        return self._control("POST", "/_emulator/clock", {"now": now})
