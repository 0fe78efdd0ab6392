"""The machinery the scheduler and executor drivers share: a thread that
holds the SUBSCRIBE stream (RecordIO of JSON events) and re-subscribes with
a backoff, a thread that runs the callbacks one at a time, and the HTTP
calls. Internal: use SchedulerDriver and ExecutorDriver."""

import base64
import http.client
import json
import logging
import queue
import random
import re
import socket
import threading
import traceback
import urllib.parse

from .recordio import Reader, RecordIOError

log = logging.getLogger("agora_sdk")

# mesos_pb2.Status: what the driver methods return.
DRIVER_NOT_STARTED = 1
DRIVER_RUNNING = 2
DRIVER_ABORTED = 3
DRIVER_STOPPED = 4

# TaskState names after which a task does not change.
TERMINAL_STATES = frozenset(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
                             "TASK_LOST", "TASK_DROPPED", "TASK_GONE",
                             "TASK_GONE_BY_OPERATOR"])

# How long one call (an HTTP POST) may take.
CALL_TIMEOUT = 15.0
# Connecting and waiting for the SUBSCRIBE answer's headers.
CONNECT_TIMEOUT = 10.0


class Fatal(Exception):
    """The peer refused us for good: abort, do not retry."""


def parse_endpoint(text, default_port, what):
    """"host:port", "http://host:port[/...]" or "host" -> (host, port).
    A ValueError names ``what`` and says why."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("%s: empty address" % what)
    t = text.strip()
    if "://" in t:
        u = urllib.parse.urlsplit(t)
        if u.scheme != "http":
            raise ValueError("%s: %r: only http:// is supported" % (what, text))
        t = u.netloc
    else:
        t = t.split("/", 1)[0]
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", t)
    if not m:
        raise ValueError("%s: %r is not host:port" % (what, text))
    host = m.group(1) or m.group(3)
    port = m.group(2) or m.group(4)
    port = int(port) if port else default_port
    if not 0 < port < 65536:
        raise ValueError("%s: %r: port %d is out of range" % (what, text, port))
    return host, port


_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "secs": 1.0, "mins": 60.0,
          "hrs": 3600.0, "days": 86400.0, "weeks": 604800.0}


def parse_duration(text, what):
    """A Mesos duration ("15mins", "2secs", "500ms", "1.5hrs") or a plain
    number of seconds -> seconds. A ValueError names ``what``."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-z]*)\s*", text or "")
    if not m or (m.group(2) and m.group(2) not in _UNITS):
        raise ValueError("%s: %r is not a duration (a number and one of %s)"
                         % (what, text, ", ".join(_UNITS)))
    return float(m.group(1)) * _UNITS.get(m.group(2) or "secs")


class Backoff:
    """Doubling delays from ``base`` to ``top`` seconds, with jitter (each
    a random point in the upper half of its step)."""

    def __init__(self, base, top):
        self.base, self.top = base, max(base, top)
        self._next = base

    def next(self):
        d = self._next
        self._next = min(self.top, self._next * 2)
        return d / 2 + random.random() * d / 2

    def reset(self):
        self._next = self.base


def b64(data):
    """bytes (or str, as UTF-8) -> the base64 text of a v1 JSON bytes field."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text):
    """A v1 JSON bytes field (base64 text) -> bytes; b"" for none."""
    if not text:
        return b""
    try:
        return base64.b64decode(text)
    except (ValueError, TypeError):
        return text.encode("utf-8") if isinstance(text, str) else b""


class Driver:
    """The shared driver. Subclasses give ``_subscribe_request()``,
    ``_on_event(event)``, ``_on_lost(why)`` and ``_path``."""

    _path = "/"
    _what = "peer"

    def __init__(self, host, port):
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._status = DRIVER_NOT_STARTED
        self._subscribed = False
        self._queue = queue.Queue()
        self._stream_sock = None
        self._post_conn = None
        self._post_lock = threading.Lock()
        self._reader = self._dispatcher = None
        self._backoff = Backoff(0.5, 30.0)
        self._watchdog = None  # read timeout on the stream; None: none
        self._fatal_sent = False
        self._stopping = False  # stop() under way: the peer's goodbye is no error

    # --- status ---------------------------------------------------------

    @property
    def status(self):
        return self._status

    @property
    def aborted(self):
        return self._status == DRIVER_ABORTED

    @property
    def subscribed(self):
        return self._subscribed and self._status == DRIVER_RUNNING

    def start(self):
        """Start the driver: subscribe now, and again whenever the stream is
        lost. Returns DRIVER_RUNNING (only the first call does anything)."""
        with self._lock:
            if self._status != DRIVER_NOT_STARTED:
                return self._status
            self._status = DRIVER_RUNNING
        self._dispatcher = threading.Thread(target=self._dispatch_loop, daemon=True,
                                            name="agora-sdk-callbacks")
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="agora-sdk-stream")
        self._dispatcher.start()
        self._reader.start()
        return DRIVER_RUNNING

    def join(self, timeout=None):
        """Wait until the driver is stopped or aborted and its callbacks
        are done; returns its status (DRIVER_RUNNING if ``timeout``
        seconds passed first)."""
        with self._lock:
            if self._status == DRIVER_NOT_STARTED:
                return self._status
            if not self._cond.wait_for(lambda: self._status != DRIVER_RUNNING, timeout):
                return self._status
        t = self._dispatcher
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        return self._status

    def run(self):
        """start() then join()."""
        self.start()
        return self.join()

    def abort(self):
        """Stop without telling the peer anything; returns DRIVER_ABORTED."""
        return self._finish(DRIVER_ABORTED)

    def _finish(self, status):
        with self._lock:
            if self._status != DRIVER_RUNNING:
                if self._status == DRIVER_NOT_STARTED:
                    self._status = status
                return self._status
            self._status = status
            self._subscribed = False
            sock = self._stream_sock
            self._cond.notify_all()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._close_post()
        self._queue.put(None)
        return status

    # --- callbacks ------------------------------------------------------

    def _post(self, fn, *args, always=False):
        """Run ``fn(*args)`` on the callback thread; unless ``always``,
        only while the driver still runs."""
        self._queue.put((fn, args, always))

    def _dispatch_loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args, always = item
            if not always and self._status != DRIVER_RUNNING:
                continue
            try:
                fn(*args)
            except Exception:  # a callback's bug aborts the driver, as in Mesos
                log.error("a callback raised; the driver is aborted:\n%s", traceback.format_exc())
                self._finish(DRIVER_ABORTED)

    # --- the stream -----------------------------------------------------

    def _read_loop(self):
        while self._status == DRIVER_RUNNING:
            try:
                why = self._stream_once()
            except Fatal as e:
                self._fatal(str(e))
                return
            except (OSError, http.client.HTTPException, RecordIOError, ValueError) as e:
                why = "%s: %s" % (type(e).__name__, e)
            except Exception as e:  # a bug here must not leave a driver that hears nothing
                log.error("the stream thread failed:\n%s", traceback.format_exc())
                why = "%s: %s" % (type(e).__name__, e)
            with self._lock:
                self._subscribed = False
                self._stream_sock = None
                if self._status != DRIVER_RUNNING or self._stopping:
                    return
            log.info("the stream from the %s is lost: %s", self._what, why)
            delay = self._on_lost(why)
            if delay is None:
                return
            with self._lock:
                self._cond.wait_for(lambda: self._status != DRIVER_RUNNING, delay)

    def _fatal(self, message):
        """Abort, then tell the callbacks' error() (once)."""
        with self._lock:
            if self._status != DRIVER_RUNNING or self._fatal_sent or self._stopping:
                return
            self._fatal_sent = True
        self._post(self._error_cb, message, always=True)
        self._finish(DRIVER_ABORTED)

    def _pick_peer(self):
        """Before each SUBSCRIBE: where to send it (self._host, _port).
        The scheduler driver's standby masters override it."""

    def _stream_once(self):
        """One SUBSCRIBE: returns why the stream ended, or raises."""
        self._pick_peer()
        body, headers = self._subscribe_request()
        conn = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)
        try:
            conn.connect()
            # Held here: http.client drops conn.sock once the answer says
            # "Connection: close" (the response reads on through it).
            sock = conn.sock
            with self._lock:
                if self._status != DRIVER_RUNNING:
                    return "stopped"
                self._stream_sock = sock
            h = {"Content-Type": "application/json", "Accept": "application/json"}
            h.update(headers)
            conn.request("POST", self._path, body=json.dumps(body).encode("utf-8"), headers=h)
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("Location") or ""
                self._host, self._port = parse_endpoint(
                    urllib.parse.urljoin("http://%s:%d/" % (self._host, self._port), loc)
                    if loc.startswith("//") or "://" in loc else loc, self._port, "Location")
                return "redirected to %s:%d" % (self._host, self._port)
            if resp.status != 200:
                text = resp.read(4096).decode("utf-8", "replace").strip()
                msg = "SUBSCRIBE refused by the %s (HTTP %d): %s" % (self._what, resp.status, text)
                if 400 <= resp.status < 500 and resp.status not in (408, 429):
                    raise Fatal(msg)
                return msg
            self._on_stream_open(resp)
            reader = Reader()
            while self._status == DRIVER_RUNNING:
                sock.settimeout(self._watchdog)
                try:
                    data = resp.read1(65536)
                except socket.timeout:
                    return "no event from the %s for %.0f s" % (self._what, self._watchdog)
                if not data:
                    if reader.partial():
                        return "the stream from the %s ended inside a record" % self._what
                    return "the stream from the %s ended" % self._what
                for rec in reader.feed(data):
                    try:
                        ev = json.loads(rec)
                    except ValueError as e:
                        return "a bad event from the %s: %s" % (self._what, e)
                    if not isinstance(ev, dict):
                        return "a bad event from the %s: not a JSON object" % self._what
                    self._on_event(ev)
                if reader.failed:
                    return reader.failed
            return "stopped"
        finally:
            conn.close()

    def _reset_stream(self):
        """Drop the stream so that the driver subscribes again."""
        with self._lock:
            sock = self._stream_sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- calls ----------------------------------------------------------

    def _close_post(self):
        with self._post_lock:
            if self._post_conn is not None:
                self._post_conn.close()
            self._post_conn = None

    def _send(self, call, headers=None):
        """POST ``call``: (HTTP code, body text); code 0 when no answer
        came (the text says why). Thread-safe; one call at a time."""
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        body = json.dumps(call).encode("utf-8")
        with self._post_lock:
            for attempt in (0, 1):
                fresh = self._post_conn is None
                if fresh:
                    self._post_conn = http.client.HTTPConnection(self._host, self._port,
                                                                 timeout=CALL_TIMEOUT)
                try:
                    self._post_conn.request("POST", self._path, body=body, headers=h)
                    resp = self._post_conn.getresponse()
                    text = resp.read().decode("utf-8", "replace")
                    if resp.getheader("Connection", "").lower() == "close":
                        self._post_conn.close()
                        self._post_conn = None
                    return resp.status, text
                except (http.client.RemoteDisconnected, BrokenPipeError,
                        ConnectionResetError) as e:
                    # A kept-alive connection the peer closed: once more
                    # on a new one.
                    self._post_conn.close()
                    self._post_conn = None
                    if fresh or attempt:
                        return 0, "no answer from the %s: %s" % (self._what, e)
                except (OSError, http.client.HTTPException) as e:
                    self._post_conn.close()
                    self._post_conn = None
                    return 0, "no answer from the %s: %s" % (self._what, e)
        return 0, "no answer"
