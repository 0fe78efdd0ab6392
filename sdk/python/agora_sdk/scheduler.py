"""SchedulerDriver: a framework's connection to agora's master over the
Mesos v1 scheduler API (POST /api/v1/scheduler: a SUBSCRIBE stream of
RecordIO events, and calls carrying its Mesos-Stream-Id)."""

import copy
import getpass
import os

from . import _base, zk
from ._base import DRIVER_RUNNING, DRIVER_STOPPED, TERMINAL_STATES, b64, unb64

__all__ = ["SchedulerDriver", "MesosSchedulerDriver"]


def _ids(x):
    """One id dict, a str, or a list of them -> a list of id dicts."""
    if x is None:
        return []
    if isinstance(x, (dict, str)):
        x = [x]
    return [{"value": i} if isinstance(i, str) else dict(i) for i in x]


class SchedulerDriver(_base.Driver):
    """The driver of a Scheduler, in the shape of Mesos's
    ``MesosSchedulerDriver(scheduler, framework, master,
    implicitAcknowledgements=True)``.

    ``framework`` is a FrameworkInfo dict ({"name": ..., "user": ...,
    "failover_timeout": ..., "checkpoint": ..., "roles"/"role": ...}; an
    empty ``user`` becomes the current user's name; an ``id`` resumes that
    framework). ``master`` is "host:port" or "http://host:port".

    Reliability: when the stream ends, fails, is refused with a 5xx, or is
    silent for five heartbeat intervals, the driver calls ``disconnected``
    and subscribes again after a backoff (0.5 s doubling to 30 s, with
    jitter), with the framework id it was given: set ``failover_timeout``
    so that the master keeps the framework and its tasks meanwhile (0, as
    in Mesos, removes it when the stream breaks). A 4xx answer to
    SUBSCRIBE and an ERROR event are fatal: the driver aborts and calls
    ``error``.

    Calls return the driver's status (DRIVER_RUNNING) once the master
    answered the POST (at most 15 s, from any thread); a call made
    while not subscribed is not sent, and one the master refuses (not 202)
    or that gets no answer is reported to ``error`` with the call's type,
    the HTTP code and the master's reason.
    """

    _path = "/api/v1/scheduler"
    _what = "master"

    def __init__(self, scheduler, framework, master, implicitAcknowledgements=True,
                 backoff_base=0.5, backoff_max=30.0):
        # Standby masters (issue 16): "zk://..." (the leader is asked of
        # ZooKeeper before each SUBSCRIBE), or "h1:5050,h2:5050,..." (the
        # next one after a lost stream; a standby's 307 is followed).
        self._zk = None
        self._masters = []
        self._follow = False
        if isinstance(master, str) and master.startswith("zk://"):
            self._zk = zk.parse_url(master, "master")
            host, port = "", 0
        else:
            text = master if isinstance(master, str) else ""
            self._masters = [_base.parse_endpoint(m, 5050, "master") for m in text.split(",")]
            host, port = self._masters[0]
        self._next = 1 % max(len(self._masters), 1)
        super().__init__(host, port)
        self.scheduler = scheduler
        self.framework = copy.deepcopy(dict(framework))
        if not self.framework.get("user"):
            try:
                self.framework["user"] = getpass.getuser()
            except (KeyError, OSError):  # a uid with no name (a container)
                self.framework["user"] = str(os.getuid())
        self.framework.setdefault("name", "agora-framework")
        self.implicit_acknowledgements = implicitAcknowledgements
        self._backoff = _base.Backoff(backoff_base, backoff_max)
        self._stream_id = ""
        self._registered_once = False
        self._offer_agents = {}  # offer id -> agent id, from OFFERS
        self._task_agents = {}  # task id -> agent id, from UPDATE

    # --- the subscription ----------------------------------------------

    @property
    def framework_id(self):
        """The framework id ({"value": ...}) once subscribed, else None."""
        return self.framework.get("id")

    def _subscribe_request(self):
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": self.framework}}
        if self.framework.get("id"):
            call["framework_id"] = self.framework["id"]
        return call, {}

    def _on_stream_open(self, resp):
        self._stream_id = resp.getheader("Mesos-Stream-Id") or ""
        self._watchdog = 5 * 15.0  # until SUBSCRIBED says the interval

    def _pick_peer(self):
        if self._follow:  # a 307 named the leader: go there once
            self._follow = False
            return
        if self._zk:
            self._host, self._port = zk.find_leader(*self._zk)

    def _on_lost(self, why):
        self._follow = why.startswith("redirected to")
        if not self._follow and len(self._masters) > 1:
            self._host, self._port = self._masters[self._next]
            self._next = (self._next + 1) % len(self._masters)
        self._offer_agents.clear()
        self._post(self.scheduler.disconnected, self)
        return self._backoff.next()

    def _error_cb(self, message):
        self.scheduler.error(self, message)

    def _on_event(self, ev):
        t = ev.get("type")
        s = self.scheduler
        if t == "SUBSCRIBED":
            sub = ev.get("subscribed") or {}
            fid = sub.get("framework_id")
            if not isinstance(fid, dict) or not fid.get("value"):
                raise ValueError("SUBSCRIBED without a framework_id")
            hb = sub.get("heartbeat_interval_seconds") or 15.0
            self._watchdog = 5 * float(hb)
            self.framework["id"] = fid
            with self._lock:
                self._subscribed = True
            self._backoff.reset()
            master_info = sub.get("master_info") or {}
            if self._registered_once:
                self._post(s.reregistered, self, master_info)
            else:
                self._registered_once = True
                self._post(s.registered, self, fid, master_info)
        elif t == "OFFERS":
            offers = (ev.get("offers") or {}).get("offers") or []
            for o in offers:
                oid = (o.get("id") or {}).get("value")
                if oid:
                    self._offer_agents[oid] = o.get("agent_id")
            self._post(s.resourceOffers, self, offers)
        elif t == "RESCIND":
            oid = (ev.get("rescind") or {}).get("offer_id") or {}
            self._offer_agents.pop(oid.get("value"), None)
            self._post(s.offerRescinded, self, oid)
        elif t == "UPDATE":
            status = (ev.get("update") or {}).get("status") or {}
            tid = (status.get("task_id") or {}).get("value")
            if tid and status.get("state") in TERMINAL_STATES:
                self._task_agents.pop(tid, None)  # ended: nothing left to kill
            elif tid and status.get("agent_id"):
                self._task_agents[tid] = status["agent_id"]
            self._post(self._deliver_update, status)
        elif t == "MESSAGE":
            m = ev.get("message") or {}
            self._post(s.frameworkMessage, self, m.get("executor_id"), m.get("agent_id"),
                       unb64(m.get("data")))
        elif t == "FAILURE":
            f = ev.get("failure") or {}
            if f.get("executor_id"):
                self._post(s.executorLost, self, f["executor_id"], f.get("agent_id"),
                           f.get("status"))
            else:
                self._post(s.slaveLost, self, f.get("agent_id"))
        elif t == "ERROR":
            msg = (ev.get("error") or {}).get("message") or "ERROR event without a message"
            raise _base.Fatal("the master: " + msg)
        # HEARTBEAT: reading it re-armed the watchdog. INVERSE_OFFERS,
        # RESCIND_INVERSE_OFFER, UPDATE_OPERATION_STATUS: not for this API.

    def _deliver_update(self, status):
        self.scheduler.statusUpdate(self, status)
        if self.implicit_acknowledgements and self._status == DRIVER_RUNNING:
            self._acknowledge(status)

    # --- calls ----------------------------------------------------------

    def _call(self, call):
        kind = call.get("type", "?")
        with self._lock:
            if self._status != DRIVER_RUNNING:
                return self._status
            if not self._subscribed:
                self._post(self._error_cb, "%s not sent: the driver is not subscribed "
                           "(it re-subscribes by itself)" % kind)
                return self._status
            call = dict(call, framework_id=self.framework["id"])
            sid = self._stream_id
        code, text = self._send(call, {"Mesos-Stream-Id": sid})
        if code not in (200, 202):
            why = ("refused by the master (HTTP %d): %s" % (code, text.strip()) if code
                   else "not answered: " + text)
            self._post(self._error_cb, "%s %s" % (kind, why))
        return self._status

    def call(self, call):
        """Any v1 call (a dict with "type"), sent with the framework id."""
        return self._call(call)

    def _agent_of_offer(self, offer_ids):
        for o in offer_ids:
            a = self._offer_agents.get(o.get("value"))
            if a:
                return a
        return None

    def launchTasks(self, offerIds, tasks, filters=None):
        """ACCEPT the offers (an id dict or a list) with one LAUNCH of
        ``tasks`` (TaskInfo dicts; a task without ``agent_id`` gets the
        offer's, ``slave_id`` is taken as ``agent_id``, bytes ``data`` is
        base64-encoded)."""
        ids = _ids(offerIds)
        agent = self._agent_of_offer(ids)
        infos = []
        for t in tasks:
            t = dict(t)
            if "slave_id" in t and "agent_id" not in t:
                t["agent_id"] = t.pop("slave_id")
            if "agent_id" not in t and agent:
                t["agent_id"] = agent
            if isinstance(t.get("data"), (bytes, bytearray)):
                t["data"] = b64(t["data"])
            infos.append(t)
        return self.acceptOffers(ids, [{"type": "LAUNCH", "launch": {"task_infos": infos}}],
                                 filters)

    def acceptOffers(self, offerIds, operations, filters=None):
        """ACCEPT with any operations (Offer.Operation dicts)."""
        ids = _ids(offerIds)
        for o in ids:
            self._offer_agents.pop(o.get("value"), None)
        acc = {"offer_ids": ids, "operations": list(operations)}
        if filters is not None:
            acc["filters"] = filters
        return self._call({"type": "ACCEPT", "accept": acc})

    def declineOffer(self, offerId, filters=None):
        """DECLINE one offer (or a list); ``filters`` as {"refuse_seconds": N}."""
        ids = _ids(offerId)
        for o in ids:
            self._offer_agents.pop(o.get("value"), None)
        dec = {"offer_ids": ids}
        if filters is not None:
            dec["filters"] = filters
        return self._call({"type": "DECLINE", "decline": dec})

    def killTask(self, taskId, agentId=None, killPolicy=None):
        """KILL a task; the agent is the one its last update named unless
        given. An unknown task gets a TASK_LOST update."""
        tid = _ids(taskId)[0]
        kill = {"task_id": tid}
        agent = agentId or self._task_agents.get(tid["value"])
        if agent:
            kill["agent_id"] = _ids(agent)[0]
        if killPolicy:
            kill["kill_policy"] = killPolicy
        return self._call({"type": "KILL", "kill": kill})

    def reviveOffers(self, roles=None):
        """REVIVE: lift filters, offers again (for ``roles``, a list, or all)."""
        call = {"type": "REVIVE"}
        if roles:
            call["revive"] = {"roles": list(roles)}
        return self._call(call)

    def suppressOffers(self, roles=None):
        """SUPPRESS: no offers until reviveOffers."""
        call = {"type": "SUPPRESS"}
        if roles:
            call["suppress"] = {"roles": list(roles)}
        return self._call(call)

    def _acknowledge(self, status):
        if not status.get("uuid") or not status.get("agent_id"):
            return self._status  # the master's own updates need none
        return self._call({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": status["agent_id"], "task_id": status["task_id"],
            "uuid": status["uuid"]}})

    def acknowledgeStatusUpdate(self, status):
        """ACKNOWLEDGE an update (the TaskStatus dict as delivered). Until
        acknowledged, the agent sends it again and holds back the task's
        later updates. With implicit acknowledgements this is not needed."""
        return self._acknowledge(status)

    def sendFrameworkMessage(self, executorId, agentId, data):
        """MESSAGE to an executor; ``data`` is bytes (or str, as UTF-8)."""
        return self._call({"type": "MESSAGE", "message": {
            "agent_id": _ids(agentId)[0], "executor_id": _ids(executorId)[0],
            "data": b64(data)}})

    def reconcileTasks(self, tasks):
        """RECONCILE: ``tasks`` are TaskStatus dicts (task_id, and agent_id
        if known); an empty list asks for every task of the framework."""
        rec = []
        for t in tasks:
            r = {"task_id": _ids(t["task_id"])[0]}
            if t.get("agent_id"):
                r["agent_id"] = _ids(t["agent_id"])[0]
            rec.append(r)
        return self._call({"type": "RECONCILE", "reconcile": {"tasks": rec}})

    def requestResources(self, requests):
        """REQUEST (Mesos's; the master answers whether it supports it)."""
        return self._call({"type": "REQUEST", "request": {"requests": list(requests)}})

    def stop(self, failover=False):
        """Stop. ``failover=False``: TEARDOWN first (every task is killed,
        the framework removed); True: the framework stays registered at
        the master for its failover_timeout, for a new driver with the
        same id. Returns DRIVER_STOPPED."""
        if not failover and self._status == DRIVER_RUNNING:
            self._stopping = True
            if self._subscribed:
                self._call({"type": "TEARDOWN"})
            else:
                self._post(self._error_cb, "TEARDOWN not sent: the driver is not "
                           "subscribed; the framework stays until its failover_timeout",
                           always=True)
        return self._finish(DRIVER_STOPPED)


MesosSchedulerDriver = SchedulerDriver
