"""The Python scheduler driver follows the leading master (issue 16):
master="zk://..." against a real 3-member ZooKeeper ensemble
(scripts/zk-ensemble) whose znodes the test writes as Mesos's masters do,
naming a real agora-master (tests/lib/pycluster.py); a new leader's znode
and a re-subscription with the same framework id; a list of masters whose
first is gone and whose second is a standby answering 307; bad URLs.
Run as root by ctest (host.sdk_python_zk)."""

import http.server
import json
import os
import queue
import struct
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycluster  # noqa: E402

sys.path.insert(0, pycluster.sdk_path())
import agora_sdk  # noqa: E402
from agora_sdk import zk  # noqa: E402

SRC = os.environ.get("AGORA_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZK_ENSEMBLE = os.path.join(SRC, "scripts", "zk-ensemble")


def create(servers, path, data, flags):
    """create(path, data) with an open ACL; flags 2: PERSISTENT_SEQUENTIAL.
    The name made."""
    s = zk._Session(*servers[0])
    try:
        acl = struct.pack(">i", 1) + struct.pack(">i", 31) + zk._ustring("world") + zk._ustring("anyone")
        body = zk._ustring(path) + struct.pack(">i", len(data)) + data + acl + struct.pack(">i", flags)
        err, reply = s.call(1, body)
        if err not in (0, -110):  # -110: it exists
            raise RuntimeError("create %s: ZooKeeper error %d" % (path, err))
        if err:
            return path
        (n,) = struct.unpack(">i", reply[:4])
        return reply[4:4 + n].decode()
    finally:
        s.close()


def delete(servers, path):
    s = zk._Session(*servers[0])
    try:
        err, _ = s.call(2, zk._ustring(path) + struct.pack(">i", -1))
        if err:
            raise RuntimeError("delete %s: ZooKeeper error %d" % (path, err))
    finally:
        s.close()


def mesos_info(mid, port):
    return json.dumps({"id": mid, "ip": 16777343, "port": port, "pid": "master@127.0.0.1:%d" % port,
                       "hostname": "localhost", "address": {"hostname": "localhost",
                                                            "ip": "127.0.0.1", "port": port}}).encode()


class Recorder(agora_sdk.Scheduler):
    def __init__(self):
        self.events = queue.Queue()

    def registered(self, driver, framework_id, master_info):
        self.events.put(("registered", framework_id["value"]))

    def reregistered(self, driver, master_info):
        self.events.put(("reregistered", None))

    def wait(self, kind, timeout=30):
        while True:
            ev = self.events.get(timeout=timeout)
            if ev[0] == kind:
                return ev


class Standby(http.server.BaseHTTPRequestHandler):
    target = 0
    hits = 0

    def do_POST(self):
        Standby.hits += 1
        self.send_response(307)
        self.send_header("Location", "//127.0.0.1:%d%s" % (Standby.target, self.path))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class ZkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = pycluster.Cluster()
        cls.cluster.start_master()
        cls.zkdir = os.path.join(cls.cluster.dir, "zk")
        r = subprocess.run([ZK_ENSEMBLE, "start", cls.zkdir, "3"])
        if r.returncode == 77:
            raise unittest.SkipTest("Debian's zookeeper package is not installed")
        assert r.returncode == 0, "the ensemble did not start"
        with open(os.path.join(cls.zkdir, "zk.servers")) as f:
            cls.servers_text = f.read().strip()
        cls.servers = [(h, int(p)) for h, p in (s.split(":") for s in cls.servers_text.split(","))]

    @classmethod
    def tearDownClass(cls):
        subprocess.run([ZK_ENSEMBLE, "kill", cls.zkdir])
        cls.cluster.stop()

    def test_follows_the_leader_named_in_zookeeper(self):
        url = "zk://%s/agora" % self.servers_text
        create(self.servers, "/agora", b"", 0)
        a = create(self.servers, "/agora/json.info_", mesos_info("m1", self.cluster.port), 2)
        self.assertEqual(zk.find_leader(*zk.parse_url(url)), ("127.0.0.1", self.cluster.port))
        rec = Recorder()
        d = agora_sdk.SchedulerDriver(rec, {"name": "zk-py", "failover_timeout": 60}, url,
                                      backoff_base=0.1, backoff_max=0.5)
        d.start()
        try:
            fid = rec.wait("registered")[1]
            # A new leader (here the same master, behind a new znode that
            # names a standby which redirects to it); the old one goes and
            # its stream ends: the driver subscribes again, same id.
            srv = http.server.HTTPServer(("127.0.0.1", 0), Standby)
            Standby.target = self.cluster.port
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            create(self.servers, "/agora/json.info_",
                   json.dumps({"address": {"ip": "127.0.0.1", "port": srv.server_port}}).encode(), 2)
            delete(self.servers, a)
            self.cluster.master_kill()
            self.cluster.start_master()
            rec.wait("reregistered")
            self.assertGreaterEqual(Standby.hits, 1, "the standby's 307 was not followed")
            # reregistered(), not registered(): the same framework id.
            self.assertEqual(d.framework_id, {"value": fid})
            srv.shutdown()
        finally:
            d.stop(failover=True)
            d.join()

    def test_a_list_of_masters_and_a_307(self):
        srv = http.server.HTTPServer(("127.0.0.1", 0), Standby)
        Standby.target = self.cluster.port
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        rec = Recorder()
        d = agora_sdk.SchedulerDriver(rec, {"name": "list-py"},
                                      "127.0.0.1:%d,127.0.0.1:%d" % (pycluster.free_port(),
                                                                     srv.server_port),
                                      backoff_base=0.1, backoff_max=0.5)
        d.start()
        try:
            rec.wait("registered")
        finally:
            d.stop()
            d.join()
            srv.shutdown()

    def test_bad_urls_are_refused_naming_what_is_wrong(self):
        for url, words in (("zk://h1:2181", "no path"), ("zk://u:p@h1:2181/a", "credentials"),
                           ("zk://h1/a", "not HOST:PORT"), ("zk://h1:2181/a//b", "component")):
            with self.assertRaises(ValueError) as cm:
                agora_sdk.SchedulerDriver(Recorder(), {}, url)
            self.assertIn(words, str(cm.exception))
            self.assertIn("master", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
