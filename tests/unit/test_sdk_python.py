"""Unit tests of the Python framework SDK (sdk/python, agora_sdk) with no
daemon: RecordIO parsing (split frames, partial reads, bad lengths), and the
drivers' protocol against a fake peer on 127.0.0.1 (an HTTP server in this
process that streams RecordIO events as the test says): the executor driver
(SUBSCRIBE with its ids, LAUNCH/KILL/MESSAGE/SHUTDOWN/ERROR, unacknowledged
updates and tasks sent again on re-subscription, ACKNOWLEDGED, the recovery
timeout, a bad environment) and the scheduler driver (the heartbeat
watchdog, a stream cut inside a record, 503 retried, 4xx fatal, Mesos-Stream-Id
on calls, a redirect, a callback that raises). ctest: unit.sdk_python."""

import base64
import http.server
import json
import os
import queue
import sys
import threading
import time
import unittest

SRC = os.environ.get("AGORA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "sdk", "python"))
import agora_sdk  # noqa: E402
from agora_sdk import DRIVER_ABORTED, DRIVER_RUNNING, DRIVER_STOPPED  # noqa: E402
from agora_sdk.recordio import Reader, RecordIOError, encode  # noqa: E402

WAIT = 10.0


class RecordIOTest(unittest.TestCase):
    def test_encode(self):
        self.assertEqual(encode(b"hello"), b"5\nhello")
        self.assertEqual(encode("é"), b"2\n\xc3\xa9")
        self.assertEqual(encode(b""), b"0\n")

    def test_whole_records_in_one_feed(self):
        r = Reader()
        self.assertEqual(r.feed(b"3\nabc2\nde0\n1\nf"), [b"abc", b"de", b"", b"f"])
        self.assertFalse(r.partial())

    def test_every_split(self):
        data = encode(b'{"type":"HEARTBEAT"}') + encode(b"x" * 300) + encode(b"")
        want = [b'{"type":"HEARTBEAT"}', b"x" * 300, b""]
        for cut in range(len(data) + 1):
            r = Reader()
            got = r.feed(data[:cut]) + r.feed(data[cut:])
            self.assertEqual(got, want, "split at %d" % cut)

    def test_byte_by_byte(self):
        data = encode(b"first") + encode(b"second record")
        ends = {len(encode(b"first")) - 1, len(data) - 1}  # a record's last byte
        r = Reader()
        got = []
        for i in range(len(data)):
            got += r.feed(data[i:i + 1])
            self.assertEqual(r.partial(), i not in ends, "byte %d" % i)
        self.assertEqual(got, [b"first", b"second record"])
        self.assertFalse(r.partial())

    def test_partial_header_and_body(self):
        r = Reader()
        self.assertEqual(r.feed(b"1"), [])
        self.assertEqual(r.feed(b"0\nhello"), [])
        self.assertTrue(r.partial())
        self.assertEqual(r.feed(b"world3\nab"), [b"helloworld"])
        self.assertEqual(r.feed(b"c"), [b"abc"])

    def test_bad_length(self):
        for bad in (b"x\nabc", b"-1\n", b"1a\nb", b"\nabc", b"12345678901234567890123", b"1\r\na"):
            r = Reader()
            with self.assertRaises(RecordIOError, msg=bad):
                r.feed(bad)
            with self.assertRaises(RecordIOError):
                r.feed(b"1\na")  # and it stays failed

    @staticmethod
    def reference(data, max_record):
        """The records of `data` parsed at once, and whether it is bad."""
        out, pos = [], 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            head = data[pos:nl if nl >= 0 else len(data)]
            if nl < 0:
                return out, len(head) > 20 or not head.isdigit()
            if not head.isdigit() or int(head) > max_record:
                return out, True
            end = nl + 1 + int(head)
            if end > len(data):
                return out, False
            out.append(data[nl + 1:end])
            pos = end
        return out, False

    def test_random_streams_in_random_pieces(self):
        """Records (some too large), mutated and cut at random, fed in random
        pieces: the same records and the same verdict as the bytes parsed at
        once; RecordIOError and nothing else."""
        import random
        rnd = random.Random(15)
        for _ in range(3000):
            data = b"".join(encode(bytes(rnd.randrange(256) for _ in range(rnd.randrange(70))))
                            for _ in range(rnd.randrange(1, 5)))
            if rnd.random() < 0.5:
                k = rnd.randrange(len(data))
                data = data[:k] + bytes([rnd.choice(b"0123456789\n\rx")]) + data[k + 1:]
            if rnd.random() < 0.3:
                data = data[:rnd.randrange(len(data))]
            r = Reader(max_record=64)
            out, pos, bad = [], 0, False
            while pos < len(data) and not bad:
                n = rnd.randrange(1, 12)
                try:
                    out += r.feed(data[pos:pos + n])
                except RecordIOError:
                    bad = True
                bad = bad or r.failed is not None
                pos += n
            self.assertEqual((out, bad), self.reference(data, 64), data)

    def test_too_large(self):
        r = Reader(max_record=10)
        self.assertEqual(r.feed(b"10\n0123456789"), [b"0123456789"])
        with self.assertRaisesRegex(RecordIOError, "11 bytes"):
            r.feed(b"11\n")

    def test_durations_and_endpoints(self):
        from agora_sdk import _base
        self.assertEqual(_base.parse_duration("15mins", "X"), 900.0)
        self.assertEqual(_base.parse_duration("500ms", "X"), 0.5)
        self.assertEqual(_base.parse_duration("2", "X"), 2.0)
        with self.assertRaisesRegex(ValueError, "MESOS_RECOVERY_TIMEOUT.*'soon'"):
            _base.parse_duration("soon", "MESOS_RECOVERY_TIMEOUT")
        self.assertEqual(_base.parse_endpoint("http://h:1/x", 5, "m"), ("h", 1))
        self.assertEqual(_base.parse_endpoint("h", 5, "m"), ("h", 5))
        self.assertEqual(_base.parse_endpoint("[::1]:7", 5, "m"), ("::1", 7))
        with self.assertRaisesRegex(ValueError, "master.*out of range"):
            _base.parse_endpoint("h:70000", 5, "master")
        with self.assertRaisesRegex(ValueError, "only http"):
            _base.parse_endpoint("https://h:1", 5, "master")


class Stream:
    """One SUBSCRIBE held open by the fake peer."""

    def __init__(self, body, headers):
        self.body, self.headers = body, headers
        self.out = queue.Queue()

    def send(self, event, split=False):
        rec = encode(json.dumps(event))
        if split:
            for i in range(len(rec)):
                self.out.put(rec[i:i + 1])
        else:
            self.out.put(rec)

    def raw(self, data):
        self.out.put(data)

    def end(self):
        self.out.put(None)


class FakePeer:
    """An HTTP/1.1 server: SUBSCRIBE calls become Streams on `streams`
    (answered `subscribe_reply` first if set), others are recorded on
    `calls` as (body, headers) and answered `reply`."""

    def __init__(self):
        peer = self
        self.streams = queue.Queue()
        self.calls = queue.Queue()
        self.reply = (202, b"")
        self.subscribe_reply = []  # (code, body, headers) answered in turn
        self.live = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                if body.get("type") != "SUBSCRIBE":
                    peer.calls.put((body, dict(self.headers)))
                    code, text = peer.reply
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                if peer.subscribe_reply:
                    code, text, hdrs = peer.subscribe_reply.pop(0)
                    peer.streams.put(Stream(body, dict(self.headers)))
                    self.send_response(code)
                    for k, v in hdrs.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                s = Stream(body, dict(self.headers))
                peer.live.append(self)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Mesos-Stream-Id", "stream-%d" % id(s))
                if peer.stream_close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.flush()
                peer.streams.put(s)
                while True:
                    try:
                        data = s.out.get(timeout=0.2)
                    except queue.Empty:
                        if peer.closing:
                            data = None
                        else:
                            continue
                    if data is None:
                        self.close_connection = True
                        try:
                            self.wfile.write(b"0\r\n\r\n")
                        except OSError:
                            pass
                        return
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    except OSError:
                        return

        self.closing = False
        self.stream_close = False  # streams say "Connection: close"
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stream(self, timeout=WAIT):
        return self.streams.get(timeout=timeout)

    def call(self, timeout=WAIT):
        return self.calls.get(timeout=timeout)

    def close(self):
        self.closing = True
        self.server.shutdown()
        self.server.server_close()


class Events:
    """Records callbacks as (name, args)."""

    def __init__(self):
        self.q = queue.Queue()

    def rec(self, name, *args):
        self.q.put((name, args))

    def wait(self, name, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                n, a = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if n == name:
                return a
        raise AssertionError("no %s callback within %.0f s" % (name, timeout))


class RecExecutor(agora_sdk.Executor):
    def __init__(self):
        self.ev = Events()
        self.on_launch = None

    def registered(self, d, ei, fi, ai):
        self.ev.rec("registered", ei, fi, ai)

    def reregistered(self, d, ai):
        self.ev.rec("reregistered", ai)

    def disconnected(self, d):
        self.ev.rec("disconnected")

    def launchTask(self, d, task):
        if self.on_launch:
            self.on_launch(d, task)
        self.ev.rec("launchTask", task)

    def killTask(self, d, tid):
        self.ev.rec("killTask", tid)

    def frameworkMessage(self, d, msg):
        self.ev.rec("frameworkMessage", msg)

    def shutdown(self, d):
        self.ev.rec("shutdown")

    def error(self, d, msg):
        self.ev.rec("error", msg)


def task_info(tid):
    return {"name": tid, "task_id": {"value": tid}, "agent_id": {"value": "A"},
            "resources": []}


class ExecutorDriverTest(unittest.TestCase):
    def setUp(self):
        self.peer = FakePeer()
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            d.abort()
            d.join(5)
        self.peer.close()

    def env(self, **kw):
        e = {"MESOS_AGENT_ENDPOINT": "127.0.0.1:%d" % self.peer.port,
             "MESOS_FRAMEWORK_ID": "F1", "MESOS_EXECUTOR_ID": "E1",
             "MESOS_CHECKPOINT": "1", "MESOS_SUBSCRIPTION_BACKOFF_MAX": "200ms",
             "MESOS_RECOVERY_TIMEOUT": "15mins", "MESOS_SANDBOX": "/sb"}
        e.update(kw)
        return {k: v for k, v in e.items() if v is not None}

    def start(self, **env):
        x = RecExecutor()
        d = agora_sdk.ExecutorDriver(x, self.env(**env))
        self.drivers.append(d)
        d.start()
        return d, x

    def subscribed(self, s, split=False):
        s.send({"type": "SUBSCRIBED", "subscribed": {
            "executor_info": {"executor_id": {"value": "E1"}},
            "framework_info": {"id": {"value": "F1"}, "name": "fw"},
            "agent_info": {"hostname": "agent-1"}}}, split)

    def test_subscribe_launch_update_resend_ack(self):
        d, x = self.start()
        self.assertEqual(d.sandbox, "/sb")
        s = self.peer.stream()
        self.assertEqual(s.body["type"], "SUBSCRIBE")
        self.assertEqual(s.body["framework_id"], {"value": "F1"})
        self.assertEqual(s.body["executor_id"], {"value": "E1"})
        self.assertEqual(s.body["subscribe"]["unacknowledged_updates"], [])
        self.assertEqual(s.body["subscribe"]["unacknowledged_tasks"], [])
        self.subscribed(s, split=True)  # one byte per chunk
        ei, fi, ai = x.ev.wait("registered")
        self.assertEqual((ei["executor_id"]["value"], fi["name"], ai["hostname"]),
                         ("E1", "fw", "agent-1"))
        x.on_launch = lambda drv, t: drv.sendStatusUpdate(
            {"task_id": t["task_id"], "state": "TASK_RUNNING", "data": b"\x00hi"})
        s.send({"type": "LAUNCH", "launch": {"task": task_info("t1")}})
        self.assertEqual(x.ev.wait("launchTask")[0]["task_id"]["value"], "t1")
        call, hdrs = self.peer.call()
        self.assertEqual(call["type"], "UPDATE")
        self.assertEqual(call["framework_id"], {"value": "F1"})
        self.assertEqual(call["executor_id"], {"value": "E1"})
        st = call["update"]["status"]
        self.assertEqual(st["state"], "TASK_RUNNING")
        self.assertEqual(st["source"], "SOURCE_EXECUTOR")
        self.assertEqual(st["executor_id"], {"value": "E1"})
        self.assertEqual(len(base64.b64decode(st["uuid"])), 16)
        self.assertEqual(base64.b64decode(st["data"]), b"\x00hi")
        self.assertGreater(st["timestamp"], time.time() - 60)
        # The agent restarts before acknowledging: the driver subscribes
        # again with the update and the task.
        s.end()
        x.ev.wait("disconnected")
        s2 = self.peer.stream()
        sub = s2.body["subscribe"]
        self.assertEqual([u["status"]["uuid"] for u in sub["unacknowledged_updates"]],
                         [st["uuid"]])
        self.assertEqual([t["task_id"]["value"] for t in sub["unacknowledged_tasks"]], ["t1"])
        self.subscribed(s2)
        self.assertEqual(x.ev.wait("reregistered")[0]["hostname"], "agent-1")
        d.sendStatusUpdate({"task_id": {"value": "t1"}, "state": "TASK_FINISHED"})
        fin = self.peer.call()[0]["update"]["status"]
        s2.send({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t1"},
                                                         "uuid": st["uuid"]}})
        s2.send({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t1"},
                                                         "uuid": fin["uuid"]}})
        deadline = time.monotonic() + WAIT
        while d.unacknowledged() != ([], []):
            self.assertLess(time.monotonic(), deadline, d.unacknowledged())
            time.sleep(0.05)
        s2.end()
        s3 = self.peer.stream()
        self.assertEqual(s3.body["subscribe"]["unacknowledged_updates"], [])
        self.assertEqual(s3.body["subscribe"]["unacknowledged_tasks"], [])

    def test_update_while_disconnected_is_kept(self):
        d, x = self.start()
        s = self.peer.stream()
        # Not subscribed yet (no SUBSCRIBED): the update waits.
        d.sendStatusUpdate({"task_id": {"value": "t9"}, "state": "TASK_RUNNING"})
        self.assertEqual(len(d.unacknowledged()[0]), 1)
        self.subscribed(s)
        x.ev.wait("registered")
        call = self.peer.call()[0]
        self.assertEqual(call["update"]["status"]["task_id"]["value"], "t9")

    def test_events(self):
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        s.send({"type": "KILL", "kill": {"task_id": {"value": "t2"}}})
        self.assertEqual(x.ev.wait("killTask")[0], {"value": "t2"})
        s.send({"type": "MESSAGE", "message": {"data": base64.b64encode(b"ping").decode()}})
        self.assertEqual(x.ev.wait("frameworkMessage")[0], b"ping")
        s.send({"type": "HEARTBEAT"})
        s.send({"type": "LAUNCH_GROUP", "launch_group": {"task_group": {
            "tasks": [task_info("g1"), task_info("g2")]}}})
        self.assertEqual(x.ev.wait("launchTask")[0]["task_id"]["value"], "g1")
        self.assertEqual(x.ev.wait("launchTask")[0]["task_id"]["value"], "g2")
        d.sendFrameworkMessage(b"pong")
        call = self.peer.call()[0]
        self.assertEqual(call["type"], "MESSAGE")
        self.assertEqual(base64.b64decode(call["message"]["data"]), b"pong")
        d.sendStatusUpdate({"task_id": {"value": "g1"}, "state": "TASK_STAGING"})
        self.assertIn("TASK_STAGING", x.ev.wait("error")[0])
        self.peer.reply = (400, b"Failed to validate executor::Call: bad status")
        d.sendStatusUpdate({"task_id": {"value": "g1"}, "state": "TASK_RUNNING"})
        msg = x.ev.wait("error")[0]
        self.assertIn("refused by the agent (HTTP 400): Failed to validate", msg)
        self.assertEqual(d.unacknowledged()[0], [], "a refused update is not kept")
        s.send({"type": "SHUTDOWN"})
        x.ev.wait("shutdown")
        self.assertEqual(d.join(WAIT), DRIVER_STOPPED)

    def test_error_event_aborts(self):
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s)
        s.send({"type": "ERROR", "error": {"message": "framework removed"}})
        self.assertIn("framework removed", x.ev.wait("error")[0])
        self.assertEqual(d.join(WAIT), DRIVER_ABORTED)

    def test_not_checkpointing_shuts_down_when_lost(self):
        d, x = self.start(MESOS_CHECKPOINT="0")
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        s.end()
        x.ev.wait("disconnected")
        x.ev.wait("shutdown")
        self.assertEqual(d.join(WAIT), DRIVER_STOPPED)

    def test_first_subscribe_retried(self):
        self.peer.subscribe_reply = [(503, b"agent starting", {})]
        d, x = self.start(MESOS_CHECKPOINT="0")
        self.assertEqual(self.peer.stream().body["type"], "SUBSCRIBE")  # the 503
        self.subscribed(self.peer.stream())
        x.ev.wait("registered")
        self.assertEqual(d.status, DRIVER_RUNNING)

    def test_recovery_timeout(self):
        d, x = self.start(MESOS_RECOVERY_TIMEOUT="1secs")
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        t0 = time.monotonic()
        self.peer.close()  # the agent is gone: connections refused
        x.ev.wait("disconnected")
        x.ev.wait("shutdown")
        self.assertEqual(d.join(WAIT), DRIVER_STOPPED)
        self.assertLess(time.monotonic() - t0, 5)

    def test_bad_environment(self):
        for env, want in ((dict(MESOS_AGENT_ENDPOINT=None), "MESOS_AGENT_ENDPOINT not set"),
                          (dict(MESOS_EXECUTOR_ID=""), "MESOS_EXECUTOR_ID not set"),
                          (dict(MESOS_RECOVERY_TIMEOUT="later"), "MESOS_RECOVERY_TIMEOUT"),
                          (dict(MESOS_AGENT_ENDPOINT="h:0"), "MESOS_AGENT_ENDPOINT")):
            x = RecExecutor()
            d = agora_sdk.ExecutorDriver(x, self.env(**env))
            d.start()
            self.assertIn(want, x.ev.wait("error")[0])
            self.assertEqual(d.join(WAIT), DRIVER_ABORTED)


class RecScheduler(agora_sdk.Scheduler):
    def __init__(self):
        self.ev = Events()
        self.raise_on_offers = False

    def slaveLost(self, d, aid):
        self.ev.rec("slaveLost", aid)

    def executorLost(self, d, eid, aid, status):
        self.ev.rec("executorLost", eid, aid, status)

    def frameworkMessage(self, d, eid, aid, data):
        self.ev.rec("frameworkMessage", eid, aid, data)

    def offerRescinded(self, d, oid):
        self.ev.rec("offerRescinded", oid)

    def registered(self, d, fid, mi):
        self.ev.rec("registered", fid, mi)

    def reregistered(self, d, mi):
        self.ev.rec("reregistered", mi)

    def disconnected(self, d):
        self.ev.rec("disconnected")

    def resourceOffers(self, d, offers):
        if self.raise_on_offers:
            raise RuntimeError("a bug in the framework")
        self.ev.rec("offers", offers)

    def error(self, d, msg):
        self.ev.rec("error", msg)


class SchedulerDriverFakeMasterTest(unittest.TestCase):
    def setUp(self):
        self.peer = FakePeer()
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            d.abort()
            d.join(5)
        self.peer.close()

    def start(self, master=None):
        x = RecScheduler()
        d = agora_sdk.SchedulerDriver(x, {"name": "fw", "user": "u", "failover_timeout": 60},
                                      master or "127.0.0.1:%d" % self.peer.port,
                                      backoff_base=0.05, backoff_max=0.2)
        self.drivers.append(d)
        d.start()
        return d, x

    @staticmethod
    def subscribed(s, hb=15):
        s.send({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "F7"},
                                                     "heartbeat_interval_seconds": hb}})

    def test_watchdog_and_resubscribe_with_id(self):
        d, x = self.start()
        s = self.peer.stream()
        fi = s.body["subscribe"]["framework_info"]
        self.assertNotIn("framework_id", s.body)
        self.assertEqual((fi["name"], fi["user"], fi["failover_timeout"]), ("fw", "u", 60))
        self.subscribed(s, hb=0.2)
        self.assertEqual(x.ev.wait("registered")[0], {"value": "F7"})
        # Silent for 5 heartbeats (1 s): lost, and subscribed again with the id.
        t0 = time.monotonic()
        x.ev.wait("disconnected")
        self.assertGreater(time.monotonic() - t0, 0.5)
        s2 = self.peer.stream()
        self.assertEqual(s2.body["framework_id"], {"value": "F7"})
        self.assertEqual(s2.body["subscribe"]["framework_info"]["id"], {"value": "F7"})
        self.subscribed(s2)
        x.ev.wait("reregistered")
        # Calls carry the framework id and the stream's id.
        d.reviveOffers()
        call, hdrs = self.peer.call()
        self.assertEqual(call, {"type": "REVIVE", "framework_id": {"value": "F7"}})
        self.assertEqual(hdrs.get("Mesos-Stream-Id"), "stream-%d" % id(s2))

    def test_events_to_callbacks(self):
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        s.send({"type": "FAILURE", "failure": {"agent_id": {"value": "A1"}}})
        self.assertEqual(x.ev.wait("slaveLost"), ({"value": "A1"},))
        s.send({"type": "FAILURE", "failure": {"agent_id": {"value": "A1"},
                                               "executor_id": {"value": "E"}, "status": 768}})
        self.assertEqual(x.ev.wait("executorLost"), ({"value": "E"}, {"value": "A1"}, 768))
        s.send({"type": "MESSAGE", "message": {"agent_id": {"value": "A1"},
                                               "executor_id": {"value": "E"},
                                               "data": base64.b64encode(b"\xff\x00").decode()}})
        self.assertEqual(x.ev.wait("frameworkMessage"),
                         ({"value": "E"}, {"value": "A1"}, b"\xff\x00"))
        s.send({"type": "OFFERS", "offers": {"offers": [{"id": {"value": "o1"},
                                                         "agent_id": {"value": "A1"}}]}})
        x.ev.wait("offers")
        # A task launched without agent_id gets its offer's.
        d.launchTasks({"value": "o1"}, [{"name": "t", "task_id": {"value": "t"},
                                         "data": b"\x01"}])
        call = self.peer.call()[0]
        ti = call["accept"]["operations"][0]["launch"]["task_infos"][0]
        self.assertEqual(ti["agent_id"], {"value": "A1"})
        self.assertEqual(ti["data"], base64.b64encode(b"\x01").decode())
        s.send({"type": "RESCIND", "rescind": {"offer_id": {"value": "o2"}}})
        self.assertEqual(x.ev.wait("offerRescinded"), ({"value": "o2"},))

    def test_stream_with_connection_close(self):
        self.peer.stream_close = True
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s, hb=0.2)
        x.ev.wait("registered")
        s.send({"type": "HEARTBEAT"})
        x.ev.wait("disconnected")  # the watchdog still works on it
        self.subscribed(self.peer.stream())
        x.ev.wait("reregistered")

    def test_cut_inside_a_record(self):
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        s.raw(b"40\n{\"type\":")
        s.end()
        x.ev.wait("disconnected")
        s2 = self.peer.stream()
        self.assertEqual(s2.body["framework_id"], {"value": "F7"})

    def test_bad_stream_is_lost_not_fatal(self):
        d, x = self.start()
        s = self.peer.stream()
        s.raw(b"zz\n{}")
        x.ev.wait("disconnected")
        self.subscribed(self.peer.stream())
        x.ev.wait("registered")
        self.assertEqual(d.status, DRIVER_RUNNING)

    def test_good_event_then_garbage_in_one_chunk(self):
        d, x = self.start()
        s = self.peer.stream()
        s.raw(encode(json.dumps({"type": "SUBSCRIBED", "subscribed": {
            "framework_id": {"value": "F7"}}})) + b"zz\n")
        self.assertEqual(x.ev.wait("registered")[0], {"value": "F7"})
        x.ev.wait("disconnected")
        self.assertEqual(self.peer.stream().body["framework_id"], {"value": "F7"})

    def test_503_retried_400_fatal(self):
        self.peer.subscribe_reply = [(503, b"busy", {}),
                                     (400, b"Failed to validate: framework_info.user", {})]
        d, x = self.start()
        self.peer.stream()
        x.ev.wait("disconnected")
        self.peer.stream()
        msg = x.ev.wait("error")[0]
        self.assertIn("SUBSCRIBE refused by the master (HTTP 400): Failed to validate", msg)
        self.assertEqual(d.join(WAIT), DRIVER_ABORTED)

    def test_redirect(self):
        other = FakePeer()
        try:
            self.peer.subscribe_reply = [
                (307, b"", {"Location": "//127.0.0.1:%d/api/v1/scheduler" % other.port})]
            d, x = self.start()
            self.peer.stream()
            s = other.stream()
            self.subscribed(s)
            x.ev.wait("registered")
            d.suppressOffers()
            self.assertEqual(other.call()[0]["type"], "SUPPRESS")
        finally:
            for dr in self.drivers:
                dr.abort()
            other.close()

    def test_call_while_disconnected_and_refused_call(self):
        d, x = self.start()
        s = self.peer.stream()
        d.declineOffer({"value": "o1"})
        self.assertIn("DECLINE not sent: the driver is not subscribed", x.ev.wait("error")[0])
        self.subscribed(s)
        x.ev.wait("registered")
        self.peer.reply = (400, b"Failed to validate scheduler::Call: Expecting 'offer_ids'")
        d.declineOffer([])
        self.assertIn("DECLINE refused by the master (HTTP 400): Failed to validate",
                      x.ev.wait("error")[0])
        self.assertEqual(d.status, DRIVER_RUNNING)

    def test_callback_that_raises_aborts(self):
        d, x = self.start()
        x.raise_on_offers = True
        s = self.peer.stream()
        self.subscribed(s)
        s.send({"type": "OFFERS", "offers": {"offers": [{"id": {"value": "o"}}]}})
        self.assertEqual(d.join(WAIT), DRIVER_ABORTED)

    def test_error_event_is_fatal_and_stop_failover_keeps(self):
        d, x = self.start()
        s = self.peer.stream()
        self.subscribed(s)
        x.ev.wait("registered")
        s.send({"type": "ERROR", "error": {"message": "Framework has been removed"}})
        self.assertIn("Framework has been removed", x.ev.wait("error")[0])
        self.assertEqual(d.join(WAIT), DRIVER_ABORTED)
        d2, x2 = self.start()
        s2 = self.peer.stream()
        self.subscribed(s2)
        x2.ev.wait("registered")
        self.assertEqual(d2.stop(failover=True), DRIVER_STOPPED)
        with self.assertRaises(queue.Empty):
            self.peer.calls.get(timeout=0.5)  # no TEARDOWN


if __name__ == "__main__":
    unittest.main(verbosity=2)
