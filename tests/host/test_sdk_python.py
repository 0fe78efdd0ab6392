"""The Python framework SDK (sdk/python, agora_sdk) against a real
agora-master and agora-agent on 127.0.0.1 (tests/lib/pycluster.py): subscribe,
offers, a command task to RUNNING and FINISHED, acknowledgements (implicit,
and explicit: an unacknowledged update comes again), kill, reconcile,
decline / suppress / revive, the master SIGKILLed and restarted (the driver
re-subscribes with the same framework id and the task is still there), a
call the master refuses and a refused subscription reported to error().
Run as root by ctest (host.sdk_python)."""

import os
import queue
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycluster  # noqa: E402

sys.path.insert(0, pycluster.sdk_path())
import agora_sdk  # noqa: E402
from agora_sdk import DRIVER_ABORTED, DRIVER_RUNNING, DRIVER_STOPPED  # noqa: E402

TOKEN = os.getpid()
WAIT = 30.0


def scalar(name, value):
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def task(tid, cmd):
    return {"name": tid, "task_id": {"value": tid}, "command": {"value": cmd},
            "resources": [scalar("cpus", 0.1), scalar("mem", 32)]}


def sleeper(tid):
    """A task that runs until killed; its process is found by TOKEN."""
    return task(tid, "exec sleep 120.%d" % TOKEN)


def kill_sleepers():
    """End this run's task processes by pid (an agent leaves them running)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"sleep", b"120.%d" % TOKEN]:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


class Recorder(agora_sdk.Scheduler):
    """Every callback as (name, args) on a queue; offers kept for the test
    to answer; ``on_offers`` may answer them in the callback."""

    def __init__(self):
        self.events = queue.Queue()
        self.on_offers = None

    def _rec(self, name, *args):
        self.events.put((name, args))

    def registered(self, driver, fid, master_info):
        self._rec("registered", fid, master_info)

    def reregistered(self, driver, master_info):
        self._rec("reregistered", master_info)

    def disconnected(self, driver):
        self._rec("disconnected")

    def resourceOffers(self, driver, offers):
        if self.on_offers:
            self.on_offers(driver, offers)
        self._rec("offers", offers)

    def offerRescinded(self, driver, oid):
        self._rec("rescinded", oid)

    def statusUpdate(self, driver, status):
        self._rec("update", status)

    def frameworkMessage(self, driver, eid, aid, data):
        self._rec("message", eid, aid, data)

    def slaveLost(self, driver, aid):
        self._rec("slaveLost", aid)

    def executorLost(self, driver, eid, aid, status):
        self._rec("executorLost", eid, aid, status)

    def error(self, driver, message):
        self._rec("error", message)

    def wait(self, pred, timeout=WAIT, what="an event"):
        """The first event for which pred(name, args) is true; the others
        before it are dropped. Fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0f s" % (what, timeout))
            try:
                name, args = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if pred(name, args):
                return name, args

    def wait_name(self, name, timeout=WAIT):
        return self.wait(lambda n, a: n == name, timeout, name)[1]

    def wait_state(self, tid, state, timeout=WAIT):
        def match(n, a):
            return (n == "update" and a[0]["task_id"]["value"] == tid
                    and a[0]["state"] == state)
        return self.wait(match, timeout, "%s for %s" % (state, tid))[1][0]

    def quiet(self, name, secs):
        """True when no `name` event comes for `secs` seconds."""
        try:
            self.wait(lambda n, a: n == name, secs, name)
            return False
        except AssertionError:
            return True


class SchedulerDriverTest(unittest.TestCase):
    cluster = None

    @classmethod
    def setUpClass(cls):
        # Updates are retried after 1 s, so that an unacknowledged one is
        # seen coming again within the test.
        cls.cluster = pycluster.Cluster(["--update_backoff_ms=1000"]).start()

    @classmethod
    def tearDownClass(cls):
        kill_sleepers()
        if cls.cluster:
            cls.cluster.stop()

    def setUp(self):
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            if d.status == DRIVER_RUNNING:
                d.stop()
                d.join(10)

    def driver(self, name, implicit=True, **fw):
        rec = Recorder()
        info = {"name": name, "user": "nobody", "failover_timeout": 300}
        info.update(fw)
        d = agora_sdk.SchedulerDriver(rec, info, self.cluster.master, implicit)
        self.drivers.append(d)
        return d, rec

    def launch_one(self, d, rec, t):
        offers = rec.wait_name("offers")[0]
        self.assertEqual(d.launchTasks(offers[0]["id"], [t]), DRIVER_RUNNING)
        return offers[0]

    def test_subscribe_offers_launch_finish(self):
        d, rec = self.driver("py-launch")
        self.assertEqual(d.start(), DRIVER_RUNNING)
        fid, mi = rec.wait_name("registered")
        self.assertTrue(fid["value"])
        self.assertEqual(d.framework_id, fid)
        self.assertEqual(mi.get("port"), self.cluster.port)
        offer = self.launch_one(d, rec, task("t-finish", "echo hello from agora"))
        self.assertEqual(offer["hostname"], "pysdk-agent")
        self.assertTrue(any(r["name"] == "cpus" for r in offer["resources"]))
        running = rec.wait_state("t-finish", "TASK_RUNNING")
        self.assertEqual(running["agent_id"], offer["agent_id"])
        done = rec.wait_state("t-finish", "TASK_FINISHED")
        self.assertTrue(done.get("uuid"))
        # Implicitly acknowledged: the agent stops sending it (it retries
        # every second until acknowledged; a retry may cross the
        # acknowledgement, so the updates must stop, not never come).
        self.assert_updates_stop(rec)
        self.assertEqual(d.stop(), DRIVER_STOPPED)
        self.assertEqual(d.join(10), DRIVER_STOPPED)
        fws = self.cluster.operator({"type": "GET_FRAMEWORKS"})["get_frameworks"]
        active = [f["framework_info"]["id"]["value"] for f in fws.get("frameworks", [])]
        self.assertNotIn(fid["value"], active, "stop() without failover tears down")

    def test_explicit_acknowledge(self):
        d, rec = self.driver("py-ack", implicit=False)
        d.start()
        rec.wait_name("registered")
        self.launch_one(d, rec, task("t-ack", "true"))
        def of_task(n, a):
            return n == "update" and a[0]["task_id"]["value"] == "t-ack"
        first = rec.wait(of_task, what="an update of t-ack")[1][0]
        again = rec.wait(of_task, 10, "t-ack's first update again")[1][0]
        self.assertEqual((again["state"], again["uuid"]), (first["state"], first["uuid"]),
                         "the agent resends the unacknowledged update")
        # Acknowledged one by one, the later updates come, to FINISHED.
        st = again
        while st["state"] != "TASK_FINISHED":
            d.acknowledgeStatusUpdate(st)
            nxt = rec.wait(of_task, what="the update after %s" % st["state"])[1][0]
            if nxt["uuid"] == st["uuid"]:
                continue  # a resend crossed our acknowledgement
            st = nxt
        d.acknowledgeStatusUpdate(st)
        self.assert_updates_stop(rec)

    def assert_updates_stop(self, rec):
        """No update for 3 s within 15 s: acknowledged updates stop coming."""
        deadline = time.monotonic() + 15
        while not rec.quiet("update", 3):
            self.assertLess(time.monotonic(), deadline, "acknowledged updates keep coming")

    def test_kill(self):
        d, rec = self.driver("py-kill")
        d.start()
        rec.wait_name("registered")
        self.launch_one(d, rec, sleeper("t-kill"))
        rec.wait_state("t-kill", "TASK_RUNNING")
        d.killTask({"value": "t-kill"})
        killed = rec.wait(lambda n, a: n == "update" and a[0]["state"] in (
            "TASK_KILLED", "TASK_FAILED", "TASK_FINISHED"), what="the end of t-kill")[1][0]
        self.assertEqual(killed["state"], "TASK_KILLED")
        # An unknown task: the master answers with TASK_LOST.
        d.killTask({"value": "no-such-task"})
        lost = rec.wait_state("no-such-task", "TASK_LOST")
        self.assertEqual(lost.get("reason"), "REASON_RECONCILIATION")

    def test_reconcile(self):
        d, rec = self.driver("py-reconcile")
        d.start()
        rec.wait_name("registered")
        offer = self.launch_one(d, rec, sleeper("t-rec"))
        rec.wait_state("t-rec", "TASK_RUNNING")
        d.reconcileTasks([{"task_id": {"value": "t-rec"}, "agent_id": offer["agent_id"]}])
        st = rec.wait_state("t-rec", "TASK_RUNNING")
        self.assertEqual(st.get("reason"), "REASON_RECONCILIATION")
        d.reconcileTasks([])  # implicit: every task of the framework
        st = rec.wait_state("t-rec", "TASK_RUNNING")
        self.assertEqual(st.get("reason"), "REASON_RECONCILIATION")
        d.reconcileTasks([{"task_id": {"value": "t-unknown"}}])
        st = rec.wait(lambda n, a: n == "update" and a[0]["task_id"]["value"] == "t-unknown",
                      what="an answer for t-unknown")[1][0]
        self.assertIn(st["state"], ("TASK_LOST", "TASK_UNKNOWN", "TASK_GONE"))
        d.killTask({"value": "t-rec"})
        rec.wait_state("t-rec", "TASK_KILLED")

    def test_decline_suppress_revive(self):
        d, rec = self.driver("py-offers")
        d.start()
        rec.wait_name("registered")
        offers = rec.wait_name("offers")[0]
        d.declineOffer([o["id"] for o in offers], {"refuse_seconds": 600})
        self.assertTrue(rec.quiet("offers", 4), "an offer within a 600 s decline filter")
        d.reviveOffers()
        offers = rec.wait_name("offers", 15)[0]
        d.suppressOffers()
        d.declineOffer([o["id"] for o in offers], {"refuse_seconds": 0})
        self.assertTrue(rec.quiet("offers", 4), "an offer while suppressed")
        d.reviveOffers()
        rec.wait_name("offers", 15)

    def test_bad_call_reported_to_error(self):
        d, rec = self.driver("py-bad")
        d.start()
        rec.wait_name("registered")
        d.call({"type": "NO_SUCH_CALL"})
        msg = rec.wait_name("error")[0]
        self.assertIn("NO_SUCH_CALL refused by the master (HTTP 400)", msg)
        self.assertGreater(len(msg), len("NO_SUCH_CALL refused by the master (HTTP 400): "))
        d.killTask({"value": ""})
        msg = rec.wait_name("error")[0]
        self.assertIn("KILL refused by the master", msg)
        self.assertIn("task_id", msg)
        # Not fatal: the driver goes on.
        self.assertEqual(d.status, DRIVER_RUNNING)
        self.assertTrue(d.subscribed)

    def test_refused_subscription_is_fatal(self):
        d, rec = self.driver("py-gone")
        d.start()
        fid = rec.wait_name("registered")[0]
        d.stop()  # TEARDOWN: the id is gone for good
        d.join(10)
        d2, rec2 = self.driver("py-gone", id=fid)
        d2.start()
        msg = rec2.wait_name("error")[0]
        # The master's ERROR event, as Mesos words it.
        self.assertEqual(msg, "the master: Framework has been removed")
        self.assertEqual(d2.join(10), DRIVER_ABORTED)
        self.assertTrue(d2.aborted)


class RescindTest(unittest.TestCase):
    """Its own cluster: offers time out after 1 s."""

    def test_offer_rescinded(self):
        c = pycluster.Cluster(master_flags=["--offer_timeout=1secs"])
        try:
            c.start()
            rec = Recorder()
            d = agora_sdk.SchedulerDriver(rec, {"name": "py-rescind", "user": "nobody"}, c.master)
            d.start()
            rec.wait_name("registered")
            offer = rec.wait_name("offers")[0][0]
            # Not answered: rescinded by the master's --offer_timeout.
            self.assertEqual(rec.wait_name("rescinded", 15)[0], offer["id"])
            # Answering it now is too late: the master refuses or the
            # launch ends TASK_LOST; either way the framework hears.
            d.launchTasks(offer["id"], [task("t-late", "true")])
            name, args = rec.wait(lambda n, a: n == "error" or (
                n == "update" and a[0]["task_id"]["value"] == "t-late"), 15, "an answer")
            self.assertTrue(name == "error" or args[0]["state"] == "TASK_LOST", (name, args))
            d.stop()
            self.assertEqual(d.join(10), DRIVER_STOPPED)
        finally:
            c.stop()


class MasterRestartTest(unittest.TestCase):
    """Its own cluster: the master is SIGKILLed and restarted."""

    def test_resubscribe_after_master_restart(self):
        c = pycluster.Cluster()
        try:
            c.start()
            rec = Recorder()
            d = agora_sdk.SchedulerDriver(rec, {"name": "py-failover", "user": "nobody",
                                                "failover_timeout": 300}, c.master,
                                          backoff_base=0.2, backoff_max=1.0)
            d.start()
            fid = rec.wait_name("registered")[0]
            offers = rec.wait_name("offers")[0]
            d.launchTasks(offers[0]["id"], [sleeper("t-survive")])
            rec.wait_state("t-survive", "TASK_RUNNING")
            c.master_kill()
            rec.wait_name("disconnected", 60)
            self.assertFalse(d.subscribed)
            c.start_master()
            rec.wait_name("reregistered", 60)
            self.assertEqual(d.framework_id, fid, "re-subscribed with the same id")
            # The master learns the agent's tasks when the agent
            # re-registers; only then is reconciliation meaningful.
            deadline = time.monotonic() + 60
            while not any(t["task_id"]["value"] == "t-survive" for t in c.operator(
                    {"type": "GET_TASKS"})["get_tasks"].get("tasks", [])):
                self.assertLess(time.monotonic(), deadline, "the agent re-registered its task")
                time.sleep(0.3)
            # The task is still the framework's, and still runs.
            d.reconcileTasks([{"task_id": {"value": "t-survive"}}])
            st = rec.wait(lambda n, a: n == "update" and a[0]["task_id"]["value"] == "t-survive",
                          60, "reconciliation of t-survive")[1][0]
            self.assertEqual(st["state"], "TASK_RUNNING", st)
            d.killTask({"value": "t-survive"})
            rec.wait_state("t-survive", "TASK_KILLED", 60)
            d.stop()
            self.assertEqual(d.join(10), DRIVER_STOPPED)
        finally:
            kill_sleepers()
            c.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
