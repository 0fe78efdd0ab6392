#!/usr/bin/env python3
"""pi.py: a distributed Monte Carlo estimate of pi on agora, a framework
with its own executor, both in this file, on the Python SDK (agora_sdk).

    PYTHONPATH=sdk/python examples/python/pi.py [--master HOST:PORT]
        [--tasks 16] [--samples 200000] [--per-offer 4] [--user nobody]

The scheduler serves itself and agora_sdk as pi-executor.tar.gz over HTTP;
each agent fetches it (CommandInfo.uris) and starts one executor (`pi.py
--executor`) that runs the agent's tasks: each throws `samples` random points
at the unit square and reports its hits in its TASK_FINISHED update's data.
The scheduler sums them, prints pi and the tasks per agent, and exits 0 when
every task FINISHED."""

import argparse
import io
import json
import os
import random
import socket
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import agora_sdk
from agora_sdk import TERMINAL_STATES, Executor, ExecutorDriver, Scheduler, SchedulerDriver


class PiExecutor(Executor):
    def launchTask(self, driver, task):  # not on the driver's thread: run() below
        threading.Thread(target=self.run, args=(driver, task), daemon=True).start()

    def run(self, driver, task):
        driver.sendStatusUpdate({"task_id": task["task_id"], "state": "TASK_RUNNING"})
        job = json.loads(agora_sdk.unb64(task["data"]))  # bytes fields are base64
        rnd = random.Random(job["seed"])
        hits = sum(rnd.random() ** 2 + rnd.random() ** 2 <= 1.0 for _ in range(job["samples"]))
        driver.sendStatusUpdate({"task_id": task["task_id"], "state": "TASK_FINISHED", "data":
                                 json.dumps({"hits": hits, "samples": job["samples"]}).encode()})


def bundle():
    """pi.py and the agora_sdk package as a tar.gz, for the agents to fetch."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(os.path.abspath(__file__), "pi.py")
        pkg = os.path.dirname(os.path.abspath(agora_sdk.__file__))
        for name in sorted(os.listdir(pkg)):
            if name.endswith(".py"):
                tar.add(os.path.join(pkg, name), "agora_sdk/" + name)
    return buf.getvalue()


def serve(master_host, blob):
    """An HTTP server for the bundle on the address that reaches the master."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((socket.gethostbyname(master_host), 9))
        ip = s.getsockname()[0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/pi-executor.tar.gz"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(blob) if ok else 0))
            self.end_headers()
            self.wfile.write(blob if ok else b"")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer((ip, 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return "http://%s:%d/pi-executor.tar.gz" % (ip, httpd.server_address[1])


def scalars(cpus, mem):
    return [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}]


class PiScheduler(Scheduler):
    def __init__(self, args, url):
        self.args, self.todo, self.hits, self.samples = args, list(range(args.tasks)), 0, 0
        self.left, self.failed, self.per_host, self.hosts = args.tasks, 0, {}, {}  # host: tasks
        self.executor = {"type": "CUSTOM", "executor_id": {"value": "pi-%d" % os.getpid()},
                         "name": "pi executor", "resources": scalars(0.1, 32), "command": {
                             "value": 'cd "$MESOS_SANDBOX" && PYTHONPATH=. exec python3 -B pi.py '
                                      "--executor", "uris": [{"value": url, "extract": True}]}}

    def resourceOffers(self, driver, offers):
        for offer in offers:
            self.hosts[offer["agent_id"]["value"]] = offer["hostname"]
            have = {r["name"]: r.get("scalar", {}).get("value", 0) for r in offer["resources"]}
            fit = int(min(have.get("cpus", 0) - 0.1, (have.get("mem", 0) - 32) / 160) * 10 + 1e-6)
            batch = [self.todo.pop() for _ in range(min(self.args.per_offer, len(self.todo), fit))]
            if not batch:
                driver.declineOffer(offer["id"], {"refuse_seconds": 60})
                continue
            driver.launchTasks(offer["id"], [{
                "name": "pi-%d" % i, "task_id": {"value": "pi-%d-%d" % (os.getpid(), i)},
                "executor": self.executor, "resources": scalars(0.1, 16),
                "data": json.dumps({"samples": self.args.samples, "seed": i}).encode()}
                for i in batch],
                {"refuse_seconds": 1})

    def statusUpdate(self, driver, status):
        state = status["state"]
        print(status["task_id"]["value"], state, status.get("message", ""), flush=True)
        if state not in TERMINAL_STATES:
            return
        self.left -= 1
        if state == "TASK_FINISHED":
            r = json.loads(agora_sdk.unb64(status.get("data", "")))
            self.hits, self.samples = self.hits + r["hits"], self.samples + r["samples"]
            host = self.hosts.get(status["agent_id"]["value"], "?")
            self.per_host[host] = self.per_host.get(host, 0) + 1
        else:
            self.failed += 1
        if self.left == 0:
            driver.stop()

    def error(self, driver, message):
        print("error:", message, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executor", action="store_true", help="run as the executor")
    ap.add_argument("--master", default=os.environ.get("AGORA_MASTER", "127.0.0.1:5050"))
    ap.add_argument("--tasks", type=int, default=16)
    ap.add_argument("--samples", type=int, default=200000)
    ap.add_argument("--per-offer", type=int, default=4)
    ap.add_argument("--user", default="nobody")
    args = ap.parse_args()
    if args.executor:
        return 0 if ExecutorDriver(PiExecutor()).run() == agora_sdk.DRIVER_STOPPED else 1
    url = serve(args.master.rsplit("//", 1)[-1].rsplit(":", 1)[0], bundle())
    fw = PiScheduler(args, url)
    SchedulerDriver(fw, {"name": "pi.py", "user": args.user, "checkpoint": True}, args.master).run()
    if fw.samples:
        print("pi is about %.5f (%d samples)" % (4.0 * fw.hits / fw.samples, fw.samples))
    print("tasks per agent:", json.dumps(fw.per_host, sort_keys=True))
    print("%d tasks, %d failed" % (args.tasks, fw.failed))
    return 0 if fw.failed == 0 and fw.left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
