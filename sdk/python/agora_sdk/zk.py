"""The leading master in ZooKeeper, standard library only (issue 16).

Masters started with ``--zk zk://h1:2181,h2:2181/agora`` contend under the
path with EPHEMERAL|SEQUENCE znodes ``json.info_<seq>`` holding their
MasterInfo as JSON; the lowest sequence leads (as Mesos's masters do).
This module speaks the few requests of ZooKeeper's wire protocol it needs
(connect, getChildren, getData, closeSession) on a short-lived session and
reads the leader once: the scheduler driver asks again before each
(re)subscription, which is when a framework needs a leader (a leader that
dies or loses ZooKeeper ends its streams). No watches are kept."""

import json
import re
import socket
import struct

_CONNECT_TIMEOUT = 3.0
_SESSION_MS = 6000
_OP_GET_DATA, _OP_GET_CHILDREN, _OP_CLOSE = 4, 8, -11
_ZNONODE = -101


class NoLeader(ValueError):
    """ZooKeeper names no leader (or cannot be reached): the reason."""


def parse_url(text, what="master"):
    """"zk://host:port[,host:port...]/path" -> ([(host, port)...], path).
    A ValueError names ``what`` and says what is wrong (credentials are not
    supported)."""
    if not isinstance(text, str) or not text.startswith("zk://"):
        raise ValueError("%s: %r is not a ZooKeeper URL (zk://HOST:PORT/PATH)" % (what, text))
    rest = text[5:]
    auth, slash, path = rest.partition("/")
    if "@" in auth:
        raise ValueError("%s: %r: credentials in the URL (user:password@) are not supported"
                         % (what, text))
    if not auth:
        raise ValueError("%s: %r: no ZooKeeper server" % (what, text))
    servers = []
    for one in auth.split(","):
        m = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})", one)
        if not m or not 0 < int(m.group(2)) < 65536:
            raise ValueError("%s: %r: %r is not HOST:PORT (port 1-65535)" % (what, text, one))
        servers.append((m.group(1).strip("[]"), int(m.group(2))))
    path = "/" + path
    if not slash or path == "/":
        raise ValueError("%s: %r: no path after the servers (e.g. zk://h1:2181/agora)"
                         % (what, text))
    parts = path[1:].split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError("%s: %r: the path has an empty, `.` or `..` component" % (what, text))
    return servers, path


def _ustring(s):
    b = s.encode("utf-8")
    return struct.pack(">i", len(b)) + b


class _Session:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT)
        self.xid = 0
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
        # passwd (16 zero bytes), readOnly.
        req = struct.pack(">iqiq", 0, 0, _SESSION_MS, 0) + struct.pack(">i", 16) + b"\0" * 16
        req += b"\0"
        self._send(req)
        resp = self._recv()
        if len(resp) < 20:
            raise NoLeader("ZooKeeper at %s:%d refused the session" % (host, port))

    def _send(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("ZooKeeper closed the connection")
            buf += chunk
        return buf

    def _recv(self):
        (n,) = struct.unpack(">i", self._recv_exact(4))
        if not 0 <= n <= 1 << 20:
            raise OSError("a bad ZooKeeper frame (%d bytes)" % n)
        return self._recv_exact(n)

    def call(self, op, body):
        """One request: (err, the reply after its header)."""
        self.xid += 1
        self._send(struct.pack(">ii", self.xid, op) + body)
        while True:
            r = self._recv()
            xid, _zxid, err = struct.unpack(">iqi", r[:16])
            if xid == self.xid:
                return err, r[16:]
            # Other xids (-1 watch events, -2 pings) are not ours.

    def close(self):
        try:
            self.xid += 1
            self._send(struct.pack(">ii", self.xid, _OP_CLOSE))
        except OSError:
            pass
        self.sock.close()


def _leader_address(info, znode):
    addr = info.get("address") if isinstance(info.get("address"), dict) else {}
    port = addr.get("port")
    for key in ("ip", "hostname"):
        if isinstance(port, int) and 0 < port < 65536 and addr.get(key):
            return str(addr[key]), port
    port = info.get("port")
    if isinstance(port, int) and 0 < port < 65536:
        ip = info.get("ip")
        if isinstance(ip, int) and 0 < ip <= 0xFFFFFFFF:  # s_addr as a number
            return socket.inet_ntoa(struct.pack("<I", ip)), port
        if info.get("hostname"):
            return str(info["hostname"]), port
    m = re.fullmatch(r"[^@]*@(.+):([0-9]+)", str(info.get("pid", "")))
    if m and 0 < int(m.group(2)) < 65536:
        return m.group(1), int(m.group(2))
    raise NoLeader("the MasterInfo in %s has no address" % znode)


def find_leader(servers, path):
    """(host, port) of the leading master, or NoLeader with the reason."""
    errors = []
    for host, port in servers:
        try:
            s = _Session(host, port)
        except OSError as e:
            errors.append("%s:%d: %s" % (host, port, e))
            continue
        try:
            err, body = s.call(_OP_GET_CHILDREN, _ustring(path) + b"\0")
            if err == _ZNONODE:
                raise NoLeader("the path %s does not exist in ZooKeeper" % path)
            if err:
                raise NoLeader("ZooKeeper answered error %d to getChildren(%s)" % (err, path))
            (count,) = struct.unpack(">i", body[:4])
            off, seqs = 4, []
            for _ in range(max(count, 0)):
                (n,) = struct.unpack(">i", body[off:off + 4])
                name = body[off + 4:off + 4 + n].decode("utf-8", "replace")
                off += 4 + n
                m = re.fullmatch(r"json\.info_([0-9]+)", name)
                if m:
                    seqs.append((int(m.group(1)), name))
            if not seqs:
                raise NoLeader("no master contends under %s" % path)
            znode = "%s/%s" % (path, min(seqs)[1])
            err, body = s.call(_OP_GET_DATA, _ustring(znode) + b"\0")
            if err:
                raise NoLeader("ZooKeeper answered error %d to getData(%s)" % (err, znode))
            (n,) = struct.unpack(">i", body[:4])
            try:
                info = json.loads(body[4:4 + max(n, 0)].decode("utf-8"))
            except ValueError as e:
                raise NoLeader("the MasterInfo in %s is not JSON: %s" % (znode, e))
            if not isinstance(info, dict):
                raise NoLeader("the MasterInfo in %s is not a JSON object" % znode)
            return _leader_address(info, znode)
        except (OSError, struct.error) as e:
            errors.append("%s:%d: %s" % (host, port, e))
        finally:
            s.close()
    raise NoLeader("no ZooKeeper server answered: " + "; ".join(errors))
