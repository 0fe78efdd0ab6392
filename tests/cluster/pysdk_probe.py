"""pysdk_probe.py MASTER: can this cluster's agents run a custom executor
fetched from a URI? Launches one task with a CUSTOM executor whose command
has a file:// URI, and prints one line:
    UNSUPPORTED <message>   the task was refused with "not supported"
    OK <state>              anything else came (the capability is there)
    NOANSWER                nothing within 60 s
For test_pysdk_pi.sh, which skips on UNSUPPORTED. Tears its framework down."""

import os
import queue
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "sdk", "python"))
import agora_sdk  # noqa: E402


class Probe(agora_sdk.Scheduler):
    def __init__(self):
        self.answer = queue.Queue()
        self.sent = False

    def resourceOffers(self, driver, offers):
        for o in offers:
            if self.sent:
                driver.declineOffer(o["id"])
                continue
            self.sent = True
            res = [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                   {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]
            driver.launchTasks(o["id"], [{
                "name": "probe", "task_id": {"value": "probe"}, "resources": res,
                "executor": {"type": "CUSTOM", "executor_id": {"value": "probe"},
                             "resources": res, "command": {
                                 "value": "exit 0", "uris": [{"value": "file:///etc/hostname"}]}}}])

    def statusUpdate(self, driver, status):
        if status["task_id"]["value"] == "probe":
            self.answer.put(status)

    def error(self, driver, message):
        print("error:", message, file=sys.stderr)


p = Probe()
d = agora_sdk.SchedulerDriver(p, {"name": "pysdk-probe", "user": "nobody"}, sys.argv[1])
d.start()
try:
    st = p.answer.get(timeout=60)
    msg = st.get("message", "")
    if st["state"] in ("TASK_ERROR", "TASK_FAILED", "TASK_DROPPED") and "not supported" in msg:
        print("UNSUPPORTED", st["state"], msg)
    else:
        print("OK", st["state"], msg)
except queue.Empty:
    print("NOANSWER")
d.stop()
d.join(10)
