#!/usr/bin/env python3
"""run_tasks.py: the smallest framework on the Python SDK (agora_sdk).

    PYTHONPATH=sdk/python examples/python/run_tasks.py [--master HOST:PORT] [N]

Runs N shell commands (default 3) as tasks on whatever offers come, prints
each state change, and exits 0 when all FINISHED (1 if any did not). The
master is --master, else $AGORA_MASTER, else 127.0.0.1:5050."""

import argparse
import os
import sys

from agora_sdk import TERMINAL_STATES, Scheduler, SchedulerDriver


class RunTasks(Scheduler):
    def __init__(self, n):
        self.todo = ["py-%d-%d" % (os.getpid(), i) for i in range(n)]
        self.left, self.failed = n, 0

    def registered(self, driver, frameworkId, masterInfo):
        print("registered as", frameworkId["value"], flush=True)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            if not self.todo:
                driver.declineOffer(offer["id"], {"refuse_seconds": 30})
                continue
            tid = self.todo.pop()
            driver.launchTasks(offer["id"], [{
                "name": tid, "task_id": {"value": tid},
                "command": {"value": "echo hello from $(hostname) as task " + tid},
                "resources": [{"name": n, "type": "SCALAR", "scalar": {"value": v}}
                              for n, v in (("cpus", 0.1), ("mem", 32))]}])

    def statusUpdate(self, driver, status):
        tid, state = status["task_id"]["value"], status["state"]
        print(tid, state, status.get("message", ""), flush=True)
        if state in TERMINAL_STATES:
            self.left -= 1
            self.failed += state != "TASK_FINISHED"
            if self.left == 0:
                driver.stop()

    def error(self, driver, message):
        print("error:", message, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--master", default=os.environ.get("AGORA_MASTER", "127.0.0.1:5050"))
    ap.add_argument("n", nargs="?", type=int, default=3)
    a = ap.parse_args()
    fw = RunTasks(a.n)
    # user "nobody": the tasks need no more (root would get a user namespace).
    driver = SchedulerDriver(fw, {"name": "run_tasks.py", "user": "nobody"}, a.master)
    status = driver.run()
    print("all %d tasks ended, %d failed (driver status %d)" % (a.n, fw.failed, status))
    return 0 if fw.failed == 0 and fw.left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
