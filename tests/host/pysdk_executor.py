"""pysdk_executor.py: the scripted executor of test_sdk_python_executor.py,
on agora_sdk's ExecutorDriver (started by the agent; PYTHONPATH names
sdk/python). Each task's data (JSON) says what it does:
    {"do": "finish"}     TASK_RUNNING, then TASK_FINISHED
    {"do": "wait"}       TASK_RUNNING, then TASK_KILLED when killed
    {"do": "exit"}       TASK_RUNNING, then the executor exits 3
    {"do": "on_lost"}    TASK_RUNNING; TASK_FINISHED ("sent while
                         disconnected") as soon as the agent is lost
Framework messages are echoed back as b"echo:" + message; registered and
reregistered are told to the scheduler as messages "registered" and
"reregistered"."""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "sdk", "python"))
import agora_sdk  # noqa: E402


class Scripted(agora_sdk.Executor):
    def __init__(self):
        self.lock = threading.Lock()
        self.on_lost = []

    def registered(self, driver, executor_info, framework_info, agent_info):
        driver.sendFrameworkMessage(b"registered")

    def reregistered(self, driver, agent_info):
        driver.sendFrameworkMessage(b"reregistered")

    def disconnected(self, driver):
        with self.lock:
            tasks, self.on_lost = self.on_lost, []
        for tid in tasks:
            driver.sendStatusUpdate({"task_id": tid, "state": "TASK_FINISHED",
                                     "message": "sent while disconnected"})

    def launchTask(self, driver, task):
        do = json.loads(agora_sdk.unb64(task.get("data")) or b"{}").get("do")
        driver.sendStatusUpdate({"task_id": task["task_id"], "state": "TASK_RUNNING"})
        if do == "finish":
            driver.sendStatusUpdate({"task_id": task["task_id"], "state": "TASK_FINISHED",
                                     "data": b"done"})
        elif do == "exit":
            os._exit(3)  # the executor dies: its tasks are lost, the scheduler told
        elif do == "on_lost":
            with self.lock:
                self.on_lost.append(task["task_id"])

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_KILLED"})

    def frameworkMessage(self, driver, message):
        driver.sendFrameworkMessage(b"echo:" + message)

    def error(self, driver, message):
        print("executor error:", message, file=sys.stderr, flush=True)


status = agora_sdk.ExecutorDriver(Scripted()).run()
print("driver status", status, file=sys.stderr, flush=True)
sys.exit(0 if status == agora_sdk.DRIVER_STOPPED else 1)
