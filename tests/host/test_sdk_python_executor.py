"""The Python SDK's ExecutorDriver (sdk/python, agora_sdk) on a real
agora-agent, driven by a SchedulerDriver through a real agora-master
(tests/lib/pycluster.py); the executor is tests/host/pysdk_executor.py.
Checks: the executor subscribes (registered), its updates reach the
scheduler (source SOURCE_EXECUTOR, its executor_id, their data), messages
both ways, KILL, TEARDOWN ends it (exit 0); the agent SIGKILLed and
restarted: the executor re-subscribes (reregistered), an update it made
while the agent was down reaches the scheduler, and its other task still
runs and can be killed. An agent that refuses custom executors fails it
with its message. ctest: host.sdk_python_executor."""

import json
import os
import signal
import time
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import pycluster  # noqa: E402

sys.path.insert(0, pycluster.sdk_path())
import agora_sdk  # noqa: E402
from agora_sdk import DRIVER_STOPPED  # noqa: E402
from test_sdk_python import Recorder, scalar  # noqa: E402

SCRIPT = os.path.join(HERE, "pysdk_executor.py")
EXECUTOR = {"type": "CUSTOM", "executor_id": {"value": "pyexec"}, "name": "pysdk executor",
            "command": {"value": "exec python3 " + SCRIPT},
            "resources": [scalar("cpus", 0.1), scalar("mem", 64)]}


def task(tid, do):
    return {"name": tid, "task_id": {"value": tid}, "executor": EXECUTOR,
            "resources": [scalar("cpus", 0.1), scalar("mem", 16)],
            "data": json.dumps({"do": do}).encode()}


def kill_executors():
    """End executors left by a failed test, by pid."""
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if SCRIPT.encode() in argv[1:2]:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def framework(c, name):
    rec = Recorder()
    d = agora_sdk.SchedulerDriver(rec, {"name": name, "user": "nobody", "checkpoint": True,
                                        "failover_timeout": 300}, c.master)
    d.start()
    rec.wait_name("registered")
    return d, rec


def wait_message(rec, data, timeout=60):
    return rec.wait(lambda n, a: n == "message" and a[2] == data, timeout,
                    "the message %r" % data)[1]


def probe():
    """None when the agent runs custom executors, else its refusal."""
    c = pycluster.Cluster().start()
    try:
        d, rec = framework(c, "py-exec-probe")
        offers = rec.wait_name("offers")[0]
        d.launchTasks(offers[0]["id"], [task("probe", "finish")])
        st = rec.wait(lambda n, a: n == "update", 60, "an update of the probe")[1][0]
        d.stop()
        d.join(10)
        if st["state"] in ("TASK_ERROR", "TASK_DROPPED") and "not supported" in st.get(
                "message", ""):
            return "%s %s" % (st["state"], st.get("message"))
        return None
    finally:
        kill_executors()
        c.stop()


class ExecutorDriverTest(unittest.TestCase):
    def setUp(self):
        self.c = pycluster.Cluster(["--update_backoff_ms=1000"]).start()

    def tearDown(self):
        kill_executors()
        self.c.stop()

    def test_updates_messages_kill_teardown(self):
        d, rec = framework(self.c, "py-exec")
        offers = rec.wait_name("offers")[0]
        d.launchTasks(offers[0]["id"], [task("x-fin", "finish"), task("x-wait", "wait")])
        eid, aid, _ = wait_message(rec, b"registered")
        self.assertEqual(eid, {"value": "pyexec"})
        self.assertEqual(aid, offers[0]["agent_id"])
        fin = rec.wait_state("x-fin", "TASK_FINISHED", 60)
        self.assertEqual(fin.get("source"), "SOURCE_EXECUTOR")
        self.assertEqual(fin.get("executor_id"), {"value": "pyexec"})
        self.assertEqual(agora_sdk.unb64(fin.get("data")), b"done")
        rec.wait_state("x-wait", "TASK_RUNNING", 60)
        d.sendFrameworkMessage(eid, aid, b"hello \x00 executor")
        wait_message(rec, b"echo:hello \x00 executor")
        d.killTask({"value": "x-wait"})
        rec.wait_state("x-wait", "TASK_KILLED", 60)
        self.assertEqual(d.stop(), DRIVER_STOPPED)
        # TEARDOWN: the agent sends SHUTDOWN, the driver stops, the
        # executor exits 0.
        deadline = time.monotonic() + 30
        while "exit status 0" not in self.c.log_tail("agora-agent", 50):
            self.assertLess(time.monotonic(), deadline,
                            "the executor exited 0: " + self.c.log_tail("agora-agent"))
            time.sleep(0.2)

    def test_executor_exit_is_executor_lost(self):
        d, rec = framework(self.c, "py-exec-exit")
        offers = rec.wait_name("offers")[0]
        d.launchTasks(offers[0]["id"], [task("e-exit", "exit")])
        eid, aid, status = rec.wait_name("executorLost", 60)
        self.assertEqual((eid, aid), ({"value": "pyexec"}, offers[0]["agent_id"]))
        self.assertIn(status, (3, 3 << 8), "the executor's exit status 3")
        st = rec.wait(lambda n, a: n == "update" and a[0]["task_id"]["value"] == "e-exit"
                      and a[0]["state"] not in ("TASK_STARTING", "TASK_RUNNING"), 60,
                      "the end of e-exit")[1][0]
        self.assertIn(st["state"], ("TASK_LOST", "TASK_FAILED"))
        self.assertEqual(st.get("reason"), "REASON_EXECUTOR_TERMINATED")
        d.stop()
        d.join(10)

    def test_agent_restart_executor_resubscribes(self):
        d, rec = framework(self.c, "py-exec-restart")
        offers = rec.wait_name("offers")[0]
        d.launchTasks(offers[0]["id"], [task("r-long", "wait"), task("r-lost", "on_lost")])
        rec.wait_state("r-long", "TASK_RUNNING", 60)
        rec.wait_state("r-lost", "TASK_RUNNING", 60)
        self.c.agent_kill()
        self.c.start_agent()
        fin = rec.wait_state("r-lost", "TASK_FINISHED", 90)
        self.assertEqual(fin.get("message"), "sent while disconnected")
        wait_message(rec, b"reregistered", 60)
        d.killTask({"value": "r-long"})
        rec.wait_state("r-long", "TASK_KILLED", 60)
        d.stop()
        d.join(10)


if __name__ == "__main__":
    why = probe()
    if why:
        print("FAIL: the agent refused a custom executor: " + why)
        sys.exit(1)
    r = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if r.wasSuccessful() else 1)
