"""ExecutorDriver: an executor's connection to its agent over the Mesos v1
executor API (POST /api/v1/executor at MESOS_AGENT_ENDPOINT: a SUBSCRIBE
stream of RecordIO events; UPDATE and MESSAGE calls)."""

import collections
import copy
import os
import time
import uuid

from . import _base
from ._base import DRIVER_RUNNING, DRIVER_STOPPED, TERMINAL_STATES, b64, unb64

__all__ = ["ExecutorDriver", "MesosExecutorDriver"]



class ExecutorDriver(_base.Driver):
    """The driver of an Executor, in the shape of Mesos's
    ``MesosExecutorDriver(executor)``. It reads the environment the agent
    gives an executor: MESOS_AGENT_ENDPOINT (host:port), MESOS_FRAMEWORK_ID,
    MESOS_EXECUTOR_ID (required), MESOS_CHECKPOINT ("1": the agent recovers
    the executor after a restart), MESOS_RECOVERY_TIMEOUT (default 15mins),
    MESOS_SUBSCRIPTION_BACKOFF_MAX (default 2secs), MESOS_DIRECTORY and
    MESOS_SANDBOX (``driver.sandbox``). ``environ`` replaces os.environ
    (tests).

    Reliability: every update sent with sendStatusUpdate is kept until the
    agent's ACKNOWLEDGED for it, and every task until its terminal update
    is acknowledged; both are sent again in the next SUBSCRIBE
    (``unacknowledged_updates``, ``unacknowledged_tasks``). When the
    connection is lost, a checkpointing executor calls ``disconnected``
    and subscribes again with a backoff up to MESOS_SUBSCRIPTION_BACKOFF_MAX
    until MESOS_RECOVERY_TIMEOUT has passed; then (or at once when not
    checkpointing) ``shutdown`` is called and the driver stops.
    """

    _path = "/api/v1/executor"
    _what = "agent"

    def __init__(self, executor, environ=None):
        env = os.environ if environ is None else environ
        self.executor = executor
        self.problem = None
        missing = [k for k in ("MESOS_AGENT_ENDPOINT", "MESOS_FRAMEWORK_ID",
                               "MESOS_EXECUTOR_ID") if not env.get(k)]
        host, port = "127.0.0.1", 5051
        self.checkpoint = env.get("MESOS_CHECKPOINT", "0") == "1"
        self.recovery_timeout = 15 * 60.0
        backoff_max = 2.0
        try:
            if missing:
                raise ValueError("%s not set: this program must be started by an agent "
                                 "as an executor" % ", ".join(missing))
            host, port = _base.parse_endpoint(env["MESOS_AGENT_ENDPOINT"], 5051,
                                              "MESOS_AGENT_ENDPOINT")
            if env.get("MESOS_RECOVERY_TIMEOUT"):
                self.recovery_timeout = _base.parse_duration(env["MESOS_RECOVERY_TIMEOUT"],
                                                             "MESOS_RECOVERY_TIMEOUT")
            if env.get("MESOS_SUBSCRIPTION_BACKOFF_MAX"):
                backoff_max = _base.parse_duration(env["MESOS_SUBSCRIPTION_BACKOFF_MAX"],
                                                   "MESOS_SUBSCRIPTION_BACKOFF_MAX")
        except ValueError as e:
            self.problem = str(e)
        super().__init__(host, port)
        self._backoff = _base.Backoff(min(0.1, backoff_max) or 0.1, backoff_max)
        self.framework_id = {"value": env.get("MESOS_FRAMEWORK_ID", "")}
        self.executor_id = {"value": env.get("MESOS_EXECUTOR_ID", "")}
        self.sandbox = env.get("MESOS_SANDBOX") or env.get("MESOS_DIRECTORY") or os.getcwd()
        self._registered_once = False
        self._in_subscribe = set()
        self._posted = set()  # uuids the agent took since the last SUBSCRIBE
        self._lost_since = None
        self._updates = collections.OrderedDict()  # uuid (base64) -> Update
        self._tasks = collections.OrderedDict()  # task id -> TaskInfo

    def start(self):
        """Subscribe to the agent. A missing or bad environment aborts the
        driver at once (``error`` names the variable): DRIVER_ABORTED."""
        if self.problem and self._status == _base.DRIVER_NOT_STARTED:
            r = super().start()
            if r == DRIVER_RUNNING:
                self._fatal(self.problem)
            return self._status
        return super().start()

    # --- the subscription ----------------------------------------------

    def unacknowledged(self):
        """(updates, tasks) not acknowledged yet: copies, for tests and
        for an executor that wants to know."""
        with self._lock:
            return ([copy.deepcopy(u["status"]) for u in self._updates.values()],
                    [copy.deepcopy(t) for t in self._tasks.values()])

    def _subscribe_request(self):
        if self.problem:
            raise _base.Fatal(self.problem)
        with self._lock:
            sub = {"unacknowledged_tasks": list(self._tasks.values()),
                   "unacknowledged_updates": list(self._updates.values())}
            self._in_subscribe = set(self._updates)
            self._posted.clear()
        return {"type": "SUBSCRIBE", "framework_id": self.framework_id,
                "executor_id": self.executor_id, "subscribe": sub}, {}

    def _on_stream_open(self, resp):
        self._watchdog = None  # the agent may send no heartbeats

    def _on_lost(self, why):
        now = time.monotonic()
        if self._lost_since is None:
            self._lost_since = now
            if self._registered_once:
                self._post(self.executor.disconnected, self)
        # Without checkpointing, a subscribed executor is done when its agent
        # goes; before its first SUBSCRIBED any executor tries for the
        # recovery timeout (an agent answering 503 while it starts).
        gone = not self.checkpoint and self._registered_once
        if gone or now - self._lost_since >= self.recovery_timeout:
            reason = ("the framework does not checkpoint" if gone else
                      "no agent for MESOS_RECOVERY_TIMEOUT (%.0f s)" % self.recovery_timeout)
            self._post(self._shutdown_and_stop, "connection to the agent lost (%s); %s"
                       % (why, reason))
            return None
        return min(self._backoff.next(), self.recovery_timeout - (now - self._lost_since))

    def _shutdown_and_stop(self, why=None):
        _base.log.info("executor shutting down: %s", why or "SHUTDOWN from the agent")
        try:
            self.executor.shutdown(self)
        finally:
            self._finish(DRIVER_STOPPED)

    def _error_cb(self, message):
        self.executor.error(self, message)

    def _on_event(self, ev):
        t = ev.get("type")
        x = self.executor
        if t == "SUBSCRIBED":
            sub = ev.get("subscribed") or {}
            with self._lock:
                self._subscribed = True
            self._lost_since = None
            self._backoff.reset()
            # Updates made after the SUBSCRIBE was sent and before this
            # were not sent: now.
            self._post(self._send_kept, always=True)
            if self._registered_once:
                self._post(x.reregistered, self, sub.get("agent_info") or {})
            else:
                self._registered_once = True
                self._post(x.registered, self, sub.get("executor_info") or {},
                           sub.get("framework_info") or {}, sub.get("agent_info") or {})
        elif t == "LAUNCH":
            task = (ev.get("launch") or {}).get("task") or {}
            with self._lock:
                self._tasks[(task.get("task_id") or {}).get("value")] = task
            self._post(x.launchTask, self, task)
        elif t == "LAUNCH_GROUP":
            group = (ev.get("launch_group") or {}).get("task_group") or {}
            with self._lock:
                for task in group.get("tasks") or []:
                    self._tasks[(task.get("task_id") or {}).get("value")] = task
            self._post(x.launchTaskGroup, self, group)
        elif t == "KILL":
            self._post(x.killTask, self, (ev.get("kill") or {}).get("task_id") or {})
        elif t == "ACKNOWLEDGED":
            ack = ev.get("acknowledged") or {}
            with self._lock:
                upd = self._updates.pop(ack.get("uuid"), None)
                self._posted.discard(ack.get("uuid"))
                if upd is not None and upd["status"].get("state") in TERMINAL_STATES:
                    tid = (upd["status"].get("task_id") or {}).get("value")
                    self._tasks.pop(tid, None)
        elif t == "MESSAGE":
            self._post(x.frameworkMessage, self, unb64((ev.get("message") or {}).get("data")))
        elif t == "SHUTDOWN":
            self._post(self._shutdown_and_stop, None, always=True)
        elif t == "ERROR":
            msg = (ev.get("error") or {}).get("message") or "ERROR event without a message"
            raise _base.Fatal("the agent: " + msg)
        # HEARTBEAT: nothing to do.

    # --- calls ----------------------------------------------------------

    def _call(self, call):
        kind = call["type"]
        with self._lock:
            if self._status != DRIVER_RUNNING:
                return self._status
            subscribed = self._subscribed
        if not subscribed:
            return None
        call = dict(call, framework_id=self.framework_id, executor_id=self.executor_id)
        return self._send(call)

    def _send_kept(self):
        with self._lock:
            late = [u for k, u in self._updates.items()
                    if k not in self._in_subscribe and k not in self._posted]
        for u in late:
            self._post_update(u)

    def _post_update(self, update):
        r = self._call({"type": "UPDATE", "update": update})
        if r is None or isinstance(r, int):
            return  # kept: sent with the next SUBSCRIBE
        code, text = r
        st = update["status"]
        if code in (200, 202):
            with self._lock:
                self._posted.add(st["uuid"])
        elif code == 0:
            # The connection is gone: subscribe again, which resends it.
            self._reset_stream()
        elif code not in (200, 202):
            with self._lock:
                self._updates.pop(st["uuid"], None)
            self._post(self._error_cb, "UPDATE of task %s refused by the agent (HTTP %d): %s"
                       % (st["task_id"].get("value"), code, text.strip()))

    def sendStatusUpdate(self, status):
        """UPDATE: a TaskStatus dict (task_id and state at least). The driver
        sets executor_id, source, timestamp and a fresh uuid, keeps the
        update until the agent acknowledges it, and sends it again on every
        re-subscription until then (also when it cannot be sent now).
        TASK_STAGING is refused (as in Mesos): ``error``."""
        if self._status != DRIVER_RUNNING:
            return self._status
        st = copy.deepcopy(dict(status))
        if not isinstance(st.get("task_id"), dict) or "state" not in st:
            self._post(self._error_cb, "UPDATE not sent: a TaskStatus needs task_id and state")
            return self._status
        if st["state"] == "TASK_STAGING":
            self._post(self._error_cb, "UPDATE not sent: TASK_STAGING is not allowed "
                       "from an executor (task %s)" % st["task_id"].get("value"))
            return self._status
        if isinstance(st.get("data"), (bytes, bytearray)):
            st["data"] = b64(st["data"])
        st.setdefault("executor_id", self.executor_id)
        st["source"] = "SOURCE_EXECUTOR"
        st["timestamp"] = time.time()
        st["uuid"] = b64(uuid.uuid4().bytes)
        update = {"status": st}
        with self._lock:
            self._updates[st["uuid"]] = update
        self._post_update(update)
        return self._status

    def sendFrameworkMessage(self, data):
        """MESSAGE to the scheduler; ``data`` is bytes (or str, as UTF-8).
        Not kept: one that cannot be sent is reported to ``error``."""
        r = self._call({"type": "MESSAGE", "message": {"data": b64(data)}})
        if r is None:
            self._post(self._error_cb, "MESSAGE not sent: not subscribed to the agent")
        elif not isinstance(r, int) and r[0] not in (200, 202):
            self._post(self._error_cb, "MESSAGE %s" % (
                "refused by the agent (HTTP %d): %s" % (r[0], r[1].strip()) if r[0]
                else "not answered: " + r[1]))
        return self._status

    def stop(self):
        """Stop (the agent sees the connection close). DRIVER_STOPPED."""
        return self._finish(DRIVER_STOPPED)


MesosExecutorDriver = ExecutorDriver
