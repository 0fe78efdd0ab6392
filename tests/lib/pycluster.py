"""pycluster: a real agora-master and agora-agent on 127.0.0.1 for the
Python SDK's tests (tests/host/test_sdk_python.py). Each in a temporary
directory of its own, on free ports; the master can be SIGKILLed and
restarted on the same port and work_dir; everything started is ended by
pid. AGORA_BUILD_DIR (ctest sets it) says where the programs are."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

SRC = os.environ.get("AGORA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("AGORA_BUILD_DIR") or os.path.join(SRC, "build")


def sdk_path():
    """The checkout's sdk/python, for sys.path."""
    return os.path.join(SRC, "sdk", "python")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _isolation_flags():
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            have = f.read().split()
    except OSError:
        have = []
    return [] if "cpu" in have and "memory" in have else ["--no_isolation"]


class Cluster:
    """start() the master and one agent; master_restart(); stop()."""

    def __init__(self, agent_flags=(), master_flags=()):
        self.dir = tempfile.mkdtemp(prefix="agora-pysdk.")
        self.port = free_port()
        self.agent_port = free_port()
        self.master = "127.0.0.1:%d" % self.port
        self.agent_flags = list(agent_flags)
        self.master_flags = list(master_flags)
        self.master_proc = self.agent_proc = None

    def _spawn(self, name, args):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        try:
            return subprocess.Popen([os.path.join(BUILD, "bin", name)] + args, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def start_master(self):
        self.master_proc = self._spawn("agora-master", [
            "--ip=127.0.0.1", "--port=%d" % self.port,
            "--work_dir=" + os.path.join(self.dir, "master")] + self.master_flags)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                if self.master_proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError("agora-master did not start: " + self.log_tail("agora-master"))

    def start(self):
        self.start_master()
        self.start_agent()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.agents():
                return self
            if self.agent_proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("the agent did not register: " + self.log_tail("agora-agent"))

    def start_agent(self):
        """The agent (again after agent_kill: same work_dir and port)."""
        self.agent_proc = self._spawn("agora-agent", [
            "--master=" + self.master, "--work_dir=" + os.path.join(self.dir, "agent"),
            "--port=%d" % self.agent_port, "--hostname=pysdk-agent"]
            + _isolation_flags() + self.agent_flags)

    def agent_kill(self):
        self.agent_proc.send_signal(signal.SIGKILL)
        self.agent_proc.wait(10)

    def operator(self, call):
        req = urllib.request.Request("http://%s/api/v1" % self.master,
                                     data=json.dumps(call).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def agents(self):
        try:
            return self.operator({"type": "GET_AGENTS"}).get("get_agents", {}).get("agents", [])
        except OSError:
            return []

    def master_kill(self):
        self.master_proc.send_signal(signal.SIGKILL)
        self.master_proc.wait(10)

    def log_tail(self, name, n=15):
        try:
            with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self, keep=False):
        for p in (self.agent_proc, self.master_proc):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in (self.agent_proc, self.master_proc):
            if p is None:
                continue
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait(10)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
