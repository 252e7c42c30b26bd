"""Tests of the fake Consul agent (fake_consul.py) against Consul's documented behaviour.

Run: /usr/bin/python3 -B -m unittest discover -s Tests/ConsulFake
Each test class starts its own fake on free loopback ports (port 0), with a small --time-scale so that the
deregistration of critical services takes about a second instead of a minute.
"""

import base64
import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_consul.py")
TIME_SCALE = 0.02  # deregistration minimum 1.2 s, reaper every 0.6 s
TOKEN = "test-token-0f1e2d"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)

    @property
    def index(self):
        value = self.headers.get("X-Consul-Index")
        return int(value) if value is not None else None


def call(address, method, path, body=None, headers=None, timeout=15):
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


class FakeConsul:
    """One fake process: agents, control, stderr in a file."""

    def __init__(self, agents=2, extra=(), data_dir=None):
        self.log = tempfile.NamedTemporaryFile(prefix="fake-consul-", suffix=".log", delete=False)
        command = [sys.executable, "-B", FAKE, "--control", "127.0.0.1:0", "--time-scale", str(TIME_SCALE)]
        for _ in range(agents):
            command += ["--agent", "127.0.0.1:0"]
        if data_dir:
            command += ["--data-dir", data_dir]
        command += list(extra)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the fake did not start: {line!r}; log: {self.read_log()}")
        ready = json.loads(line[len("READY "):])
        self.agents = ready["agents"]
        self.control = ready["control"]

    def read_log(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as source:
            return source.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.log.close()

    def remove_log(self):
        os.unlink(self.log.name)

    def state(self):
        return call(self.control, "GET", "/state").json()

    def post(self, path):
        reply = call(self.control, "POST", path)
        assert reply.status == 200, (reply.status, reply.text)
        return reply.json()


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class FakeTestCase(unittest.TestCase):
    fake_args = ()
    agents = 2

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeConsul(cls.agents, cls.fake_args)
        cls.a = cls.fake.agents[0]
        cls.b = cls.fake.agents[-1]

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.fake.remove_log()

    def put(self, key, value=b"", query="", address=None):
        return call(address or self.a, "PUT", f"/v1/kv/{key}{query}", body=value)

    def get(self, path, address=None, headers=None, timeout=15):
        return call(address or self.a, "GET", path, headers=headers, timeout=timeout)

    def register(self, definition, address=None, query=""):
        reply = call(address or self.a, "PUT", f"/v1/agent/service/register{query}", body=definition)
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.body, b"")
        return reply

    def instances(self, name, query="", address=None):
        reply = self.get(f"/v1/health/service/{name}{query}", address)
        self.assertEqual(reply.status, 200, reply.text)
        return reply, {n["Service"]["ID"]: n for n in reply.json()}

    def assertPlainError(self, reply, status, message):
        self.assertEqual(reply.status, status, reply.text)
        self.assertEqual(reply.text, message)
        self.assertTrue(reply.headers.get("Content-Type", "").startswith("text/plain"))


class KVTests(FakeTestCase):
    def test_missing_key_is_404_with_an_empty_body_and_an_index(self):
        reply = self.get("/v1/kv/kv-missing/never")
        self.assertEqual(reply.status, 404)
        self.assertEqual(reply.body, b"")
        self.assertGreaterEqual(reply.index, 1)
        self.assertEqual(reply.headers["X-Consul-KnownLeader"], "true")
        self.assertEqual(reply.headers["X-Consul-LastContact"], "0")

    def test_put_then_get_returns_an_array_with_a_base64_value(self):
        reply = self.put("kv-shape/zip", b"test")
        self.assertEqual((reply.status, reply.json()), (200, True))
        reply = self.get("/v1/kv/kv-shape/zip")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["Content-Type"], "application/json")
        [entry] = reply.json()
        self.assertEqual(set(entry), {"LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"})
        self.assertEqual(entry["Key"], "kv-shape/zip")
        self.assertEqual(base64.b64decode(entry["Value"]), b"test")
        self.assertEqual((entry["Flags"], entry["LockIndex"]), (0, 0))
        self.assertEqual(entry["CreateIndex"], entry["ModifyIndex"])
        self.assertEqual(reply.index, entry["ModifyIndex"])
        self.put("kv-shape/zip", b"changed")
        [changed] = self.get("/v1/kv/kv-shape/zip").json()
        self.assertEqual(changed["CreateIndex"], entry["CreateIndex"])
        self.assertGreater(changed["ModifyIndex"], entry["ModifyIndex"])

    def test_both_agents_share_the_store(self):
        self.put("kv-shared/k", b"v", address=self.a)
        [entry] = self.get("/v1/kv/kv-shared/k", self.b).json()
        self.assertEqual(base64.b64decode(entry["Value"]), b"v")

    def test_empty_value_is_null_and_flags_are_kept(self):
        self.assertEqual(self.put("kv-empty/k", b"", "?flags=42").json(), True)
        [entry] = self.get("/v1/kv/kv-empty/k").json()
        self.assertIsNone(entry["Value"])
        self.assertEqual(entry["Flags"], 42)

    def test_raw(self):
        self.put("kv-raw/k", b"\x00raw bytes")
        reply = self.get("/v1/kv/kv-raw/k?raw")
        self.assertEqual(reply.body, b"\x00raw bytes")
        self.assertEqual(reply.headers["Content-Type"], "text/plain")
        self.assertEqual(reply.headers["X-Content-Type-Options"], "nosniff")

    def test_recurse_is_sorted_and_its_index_is_the_highest_modify_index(self):
        self.put("kv-rec/b", b"2")
        self.put("kv-rec/a", b"1")
        self.put("kv-rec/c/d", b"3")
        self.put("kv-recx", b"outside the prefix")
        reply = self.get("/v1/kv/kv-rec/?recurse")
        entries = reply.json()
        self.assertEqual([e["Key"] for e in entries], ["kv-rec/a", "kv-rec/b", "kv-rec/c/d"])
        self.assertEqual(reply.index, max(e["ModifyIndex"] for e in entries))
        nothing = self.get("/v1/kv/kv-rec-nothing/?recurse")
        self.assertEqual((nothing.status, nothing.body), (404, b""))
        self.assertGreaterEqual(nothing.index, 1)

    def test_keys_with_a_separator(self):
        for key in ("kv-keys/a", "kv-keys/b", "kv-keys/sub/x", "kv-keys/sub/y"):
            self.put(key, b"v")
        self.assertEqual(self.get("/v1/kv/kv-keys/?keys&separator=/").json(),
                         ["kv-keys/a", "kv-keys/b", "kv-keys/sub/"])
        self.assertEqual(self.get("/v1/kv/kv-keys/?keys").json(),
                         ["kv-keys/a", "kv-keys/b", "kv-keys/sub/x", "kv-keys/sub/y"])
        self.assertEqual(self.get("/v1/kv/kv-keys-none/?keys").status, 404)

    def test_cas(self):
        self.assertIs(self.put("kv-cas/k", b"1", "?cas=0").json(), True)
        self.assertIs(self.put("kv-cas/k", b"2", "?cas=0").json(), False)
        [entry] = self.get("/v1/kv/kv-cas/k").json()
        reply = self.put("kv-cas/k", b"3", f"?cas={entry['ModifyIndex'] + 1000}")
        self.assertEqual((reply.status, reply.json()), (200, False))
        self.assertIs(self.put("kv-cas/k", b"4", f"?cas={entry['ModifyIndex']}").json(), True)
        [entry] = self.get("/v1/kv/kv-cas/k").json()
        self.assertEqual(base64.b64decode(entry["Value"]), b"4")

    def test_delete(self):
        self.put("kv-del/a", b"1")
        self.put("kv-del/b/c", b"2")
        [entry] = self.get("/v1/kv/kv-del/a").json()
        self.assertIs(call(self.a, "DELETE", f"/v1/kv/kv-del/a?cas={entry['ModifyIndex'] + 1}").json(), False)
        self.assertIs(call(self.a, "DELETE", "/v1/kv/kv-del/a").json(), True)
        self.assertIs(call(self.a, "DELETE", "/v1/kv/kv-del/a").json(), True)  # missing: still true
        self.assertEqual(self.get("/v1/kv/kv-del/a").status, 404)
        self.assertIs(call(self.a, "DELETE", "/v1/kv/kv-del/?recurse").json(), True)
        self.assertEqual(self.get("/v1/kv/kv-del/?recurse").status, 404)

    def test_key_validation(self):
        self.assertPlainError(self.get("/v1/kv/%2Fleading"), 400, "key must not begin with a '/'")
        self.assertPlainError(self.put("a/%2E%2E/b", b"x"), 400, "key contains path traversal sequence")
        reply = self.get("/v1/kv//double")  # Go's ServeMux cleans the path first
        self.assertEqual((reply.status, reply.headers["Location"]), (301, "/v1/kv/double"))
        self.assertPlainError(self.get("/v1/kv/"), 400, "Missing key name")
        self.assertPlainError(self.put("", b"x"), 400, "Missing key name")

    def test_value_size_limit(self):
        self.assertEqual(self.put("kv-size/max", b"x" * 512 * 1024).status, 200)
        reply = self.put("kv-size/over", b"x" * (512 * 1024 + 1))
        self.assertEqual(reply.status, 413)
        self.assertTrue(reply.text.startswith("Request body(524289 bytes) too large, max size: 524288 bytes."))

    def test_conflicting_flags_and_bad_numbers(self):
        reply = self.put("kv-flags/k", b"x", "?cas=1&acquire=abc")
        self.assertPlainError(reply, 400, "Conflicting flags: acquire=abc&cas=1\n")
        self.assertPlainError(self.put("kv-flags/k", b"x", "?flags=x"), 500,
                              'strconv.ParseUint: parsing "x": invalid syntax')

    def test_wrong_method_is_405_with_allow(self):
        reply = call(self.a, "POST", "/v1/kv/kv-method/k", body=b"x")
        self.assertPlainError(reply, 405, "method POST not allowed")
        self.assertEqual(reply.headers["Allow"], "OPTIONS,GET,PUT,DELETE")
        reply = call(self.a, "GET", "/v1/agent/service/register")
        self.assertEqual((reply.status, reply.headers["Allow"]), (405, "OPTIONS,PUT"))

    def test_query_parameter_errors(self):
        self.assertPlainError(self.get("/v1/kv/k?stale&consistent"), 400,
                              "Cannot specify ?stale with ?consistent, conflicting semantics.")
        self.assertPlainError(self.get("/v1/kv/k?wait=10q&index=1"), 400, "Invalid wait time")
        self.assertPlainError(self.get("/v1/kv/k?index=-1"), 400, "Invalid index")
        self.assertPlainError(self.get("/v1/kv/k?dc=dc2"), 500, "No path to datacenter")
        self.assertEqual(self.get("/v1/kv/kv-missing?dc=dc1&stale").status, 404)

    def test_large_answers_are_gzipped_when_accepted(self):
        self.put("kv-gzip/k", b"y" * 4000)
        plain = self.get("/v1/kv/kv-gzip/k")
        zipped = self.get("/v1/kv/kv-gzip/k", headers={"Accept-Encoding": "gzip"})
        self.assertIsNone(plain.headers.get("Content-Encoding"))
        self.assertEqual(zipped.headers["Content-Encoding"], "gzip")
        self.assertEqual(gzip.decompress(zipped.body), plain.body)

    def test_throttle_answers_429(self):
        self.fake.post("/throttle?count=2")
        self.assertPlainError(self.get("/v1/kv/kv-throttle"), 429,
                              "rate limit exceeded, try again later or against a different server")
        self.assertEqual(self.get("/v1/kv/kv-throttle", self.b).status, 429)
        self.assertEqual(self.get("/v1/kv/kv-throttle").status, 404)

    def test_status_leader(self):
        self.assertEqual(self.get("/v1/status/leader").json(), "127.0.0.1:8300")


class BlockingTests(FakeTestCase):
    def blocked_get(self, path, results):
        started = time.monotonic()
        reply = self.get(path)
        results.append((reply, time.monotonic() - started))

    def test_returns_when_the_key_changes(self):
        self.put("blk/change", b"1")
        index = self.get("/v1/kv/blk/change").index
        results = []
        thread = threading.Thread(target=self.blocked_get, args=(f"/v1/kv/blk/change?index={index}&wait=5s", results))
        thread.start()
        time.sleep(0.3)
        self.assertTrue(thread.is_alive(), "the query should block")
        self.put("blk/change", b"2")
        thread.join(5)
        reply, elapsed = results[0]
        self.assertLess(elapsed, 2)
        self.assertGreater(reply.index, index)
        self.assertEqual(base64.b64decode(reply.json()[0]["Value"]), b"2")

    def test_returns_when_the_wait_ends(self):
        self.put("blk/timeout", b"1")
        index = self.get("/v1/kv/blk/timeout").index
        self.put("blk/other", b"an unrelated key does not wake the query")
        started = time.monotonic()
        reply = self.get(f"/v1/kv/blk/timeout?index={index}&wait=500ms")
        elapsed = time.monotonic() - started
        self.assertEqual((reply.status, reply.index), (200, index))
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 0.5 + 0.5 / 16 + 0.5)

    def test_missing_key_blocks_on_the_kv_table_index(self):
        self.put("blk/table", b"1")
        missing = self.get("/v1/kv/blk/absent")
        [entry] = self.get("/v1/kv/blk/table").json()
        self.assertEqual((missing.status, missing.index), (404, entry["ModifyIndex"]))
        results = []
        thread = threading.Thread(target=self.blocked_get,
                                  args=(f"/v1/kv/blk/absent?index={missing.index}&wait=5s", results))
        thread.start()
        time.sleep(0.2)
        self.put("blk/absent", b"here")
        thread.join(5)
        self.assertEqual(results[0][0].status, 200)

    def test_a_delete_wakes_a_prefix_query(self):
        self.put("blk/tree/a", b"1")
        self.put("blk/tree/b", b"2")
        index = self.get("/v1/kv/blk/tree/?recurse").index
        results = []
        thread = threading.Thread(target=self.blocked_get,
                                  args=(f"/v1/kv/blk/tree/?recurse&index={index}&wait=5s", results))
        thread.start()
        time.sleep(0.2)
        call(self.a, "DELETE", "/v1/kv/blk/tree/a")
        thread.join(5)
        reply = results[0][0]
        self.assertEqual([e["Key"] for e in reply.json()], ["blk/tree/b"])
        self.assertGreater(reply.index, index)  # the tombstone's index

    def test_index_going_backwards(self):
        self.put("blk/back", b"1")
        reply = self.get("/v1/kv/blk/back")
        index = reply.index
        results = []
        thread = threading.Thread(target=self.blocked_get,
                                  args=(f"/v1/kv/blk/back?index={index}&wait=10s", results))
        thread.start()
        time.sleep(0.2)
        answer = self.fake.post("/index/backwards?by=5")
        thread.join(5)
        reply, elapsed = results[0]
        self.assertLess(elapsed, 2, "a restore returns blocked queries at once")
        self.assertEqual(reply.index, answer["index"])
        self.assertLess(reply.index, index)
        self.assertEqual(reply.json()[0]["ModifyIndex"], answer["index"])
        # A query still holding the old, higher index blocks until the wait ends.
        started = time.monotonic()
        self.get(f"/v1/kv/blk/back?index={index}&wait=300ms")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        # The next write goes on from the lowered index.
        self.put("blk/back", b"2")
        self.assertEqual(self.get("/v1/kv/blk/back").index, answer["index"] + 1)


class HealthTests(FakeTestCase):
    def test_shape_of_a_result(self):
        self.register({"ID": "shape-1", "Name": "shape", "Address": "10.1.10.12", "Port": 8000,
                       "Tags": ["primary"], "Meta": {"version": "4.0"}, "Weights": {"Passing": 10, "Warning": 1},
                       "Check": {"CheckID": "shape-1-ttl", "Name": "shape TTL", "TTL": "30s", "Status": "passing"}})
        reply, instances = self.instances("shape")
        node = instances["shape-1"]
        self.assertEqual(reply.headers["X-Consul-Effective-Consistency"], "leader")
        for name in ("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta"):
            self.assertIn(name, node["Node"])
        self.assertEqual(node["Node"]["Datacenter"], "dc1")
        self.assertEqual(node["Node"]["Node"], f"node-{self.a.rsplit(':', 1)[1]}")
        service = node["Service"]
        for name in ("ID", "Service", "Tags", "Address", "TaggedAddresses", "Meta", "Port", "Weights", "Namespace"):
            self.assertIn(name, service)
        self.assertEqual((service["Address"], service["Port"], service["Tags"]), ("10.1.10.12", 8000, ["primary"]))
        self.assertEqual(service["Weights"], {"Passing": 10, "Warning": 1})
        self.assertEqual(service["TaggedAddresses"]["lan_ipv4"], {"Address": "10.1.10.12", "Port": 8000})
        checks = {c["CheckID"]: c for c in node["Checks"]}
        self.assertEqual(set(checks), {"serfHealth", "shape-1-ttl"})
        self.assertEqual(checks["serfHealth"]["ServiceTags"], [])
        self.assertEqual(checks["serfHealth"]["Status"], "passing")
        self.assertEqual(checks["shape-1-ttl"]["ServiceTags"], ["primary"])
        self.assertEqual(reply.index, self.fake.state()["catalog"]["services"]["shape"]["index"])

    def test_defaults_and_normalisation(self):
        self.register({"Name": "plain", "Check": {"TTL": "30s"}})
        node = self.instances("plain")[1]["plain"]  # ID defaults to the name
        self.assertEqual(node["Service"]["Tags"], [])
        self.assertIsNone(node["Service"]["Meta"])
        self.assertNotIn("Port", node["Service"])  # `json:",omitempty"`: an empty port is left out
        self.assertEqual(node["Service"]["Address"], "")  # the client falls back to Node.Address
        self.assertEqual(node["Service"]["Weights"], {"Passing": 1, "Warning": 1})
        [check] = [c for c in node["Checks"] if c["CheckID"] != "serfHealth"]
        self.assertEqual((check["CheckID"], check["Name"], check["Status"]),
                         ("service:plain", "Service 'plain' check", "critical"))

    def test_unknown_service_is_an_empty_array(self):
        reply = self.get("/v1/health/service/no-such-service")
        self.assertEqual((reply.status, reply.json()), (200, []))
        self.assertGreaterEqual(reply.index, 1)

    def test_passing_follows_ttl_pass_and_expiry(self):
        self.register({"ID": "ttl-1", "Name": "ttl", "Port": 1, "Check": {"CheckID": "ttl-1-ttl", "TTL": "700ms"}})
        self.assertEqual(self.instances("ttl", "?passing")[1], {})  # critical until the first pass
        self.assertIn("ttl-1", self.instances("ttl")[1])
        reply = call(self.a, "PUT", "/v1/agent/check/pass/ttl-1-ttl?note=all%20good")
        self.assertEqual((reply.status, reply.body), (200, b""))
        node = self.instances("ttl", "?passing=true")[1]["ttl-1"]
        self.assertEqual([c["Output"] for c in node["Checks"] if c["CheckID"] == "ttl-1-ttl"], ["all good"])
        self.assertIn("ttl-1", self.instances("ttl", "?passing=1")[1])
        self.assertIn("ttl-1", self.instances("ttl", "?passing=false")[1])
        self.assertTrue(wait_until(lambda: not self.instances("ttl", "?passing")[1], 3))
        node = self.instances("ttl")[1]["ttl-1"]
        [check] = [c for c in node["Checks"] if c["CheckID"] == "ttl-1-ttl"]
        self.assertEqual((check["Status"], check["Output"]),
                         ("critical", "TTL expired (last output before timeout follows): all good"))
        call(self.a, "PUT", "/v1/agent/check/warn/ttl-1-ttl")
        self.assertEqual(self.instances("ttl", "?passing")[1], {})  # warning is not passing
        self.assertPlainError(self.get("/v1/health/service/ttl?passing=maybe"), 400, "Invalid value for ?passing")

    def test_check_update(self):
        self.register({"ID": "upd-1", "Name": "upd", "Check": {"CheckID": "upd-1-ttl", "TTL": "30s"}})
        reply = call(self.a, "PUT", "/v1/agent/check/update/upd-1-ttl", body={"Status": "passing", "Output": "fine"})
        self.assertEqual(reply.status, 200)
        check = self.get("/v1/agent/checks").json()["upd-1-ttl"]
        self.assertEqual((check["Status"], check["Output"]), ("passing", "fine"))
        self.assertPlainError(call(self.a, "PUT", "/v1/agent/check/update/upd-1-ttl", body={"Status": "ok"}),
                              400, "Invalid check status: 'ok'")

    def test_blocking_health_query(self):
        self.register({"ID": "blk-1", "Name": "blkh", "Check": {"CheckID": "blk-1-ttl", "TTL": "30s"}})
        reply = self.get("/v1/health/service/blkh")
        index = reply.index
        # A heartbeat that changes nothing does not wake the query.
        call(self.a, "PUT", "/v1/agent/check/fail/blk-1-ttl")
        self.assertEqual(self.get("/v1/health/service/blkh").index, index)
        results = []

        def blocked():
            results.append(self.get(f"/v1/health/service/blkh?index={index}&wait=5s", self.b))

        thread = threading.Thread(target=blocked)
        thread.start()
        time.sleep(0.2)
        self.assertTrue(thread.is_alive())
        call(self.a, "PUT", "/v1/agent/check/pass/blk-1-ttl")
        thread.join(5)
        self.assertGreater(results[0].index, index)
        self.assertEqual([c["Status"] for c in results[0].json()[0]["Checks"]], ["passing", "passing"])

    def test_services_on_both_agents_are_in_the_catalog(self):
        self.register({"ID": "both-a", "Name": "both", "Port": 1, "Check": {"TTL": "30s", "Status": "passing"}})
        self.register({"ID": "both-b", "Name": "both", "Port": 2, "Check": {"TTL": "30s", "Status": "passing"}},
                      self.b)
        for address in (self.a, self.b):
            instances = self.instances("both", "?passing", address)[1]
            self.assertEqual(set(instances), {"both-a", "both-b"})
            self.assertNotEqual(instances["both-a"]["Node"]["Node"], instances["both-b"]["Node"]["Node"])
        self.assertEqual(set(self.get("/v1/agent/services", self.b).json()), {"both-b"})

    def test_critical_service_is_deregistered_after_the_scaled_minimum(self):
        started = time.monotonic()
        self.register({"ID": "reap-1", "Name": "reap",
                       "Check": {"CheckID": "reap-1-ttl", "TTL": "300ms", "DeregisterCriticalServiceAfter": "10ms"}})
        minimum = 60 * TIME_SCALE  # 10ms is raised to the (scaled) minute
        self.assertTrue(wait_until(lambda: self.get("/v1/agent/checks").json().get(
            "reap-1-ttl", {}).get("Output") == "TTL expired", 2))
        while time.monotonic() - started < 0.3 + minimum * 0.8:
            self.assertIn("reap-1", self.instances("reap")[1], "deregistered before the minimum")
            time.sleep(0.1)
        self.assertTrue(wait_until(lambda: not self.instances("reap")[1], 0.3 + minimum + 30 * TIME_SCALE + 2))
        self.assertEqual(self.get("/v1/agent/services").json().get("reap-1"), None)
        self.assertEqual(call(self.a, "PUT", "/v1/agent/check/pass/reap-1-ttl").status, 404)

    def test_unknown_check_and_service(self):
        self.assertPlainError(call(self.a, "PUT", "/v1/agent/check/pass/nope"), 404,
                              'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.')
        self.assertPlainError(call(self.a, "PUT", "/v1/agent/service/deregister/nope"), 404,
                              'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.')
        self.fake.post("/legacy-agent-errors?enable=true")
        try:
            self.assertPlainError(call(self.a, "PUT", "/v1/agent/check/pass/nope"), 500,
                                  'CheckID "nope" does not have associated TTL')
            self.assertEqual(call(self.a, "PUT", "/v1/agent/service/deregister/nope").status, 200)
        finally:
            self.fake.post("/legacy-agent-errors?enable=false")

    def test_non_ttl_check_cannot_be_passed(self):
        self.register({"ID": "http-1", "Name": "httpcheck",
                       "Check": {"CheckID": "http-1-check", "HTTP": "http://127.0.0.1:1/", "Interval": "10s"}})
        self.assertPlainError(call(self.a, "PUT", "/v1/agent/check/pass/http-1-check"), 500,
                              'CheckID "http-1-check" does not have associated TTL')

    def test_deregister(self):
        self.register({"ID": "dereg-1", "Name": "dereg", "Check": {"TTL": "30s"}})
        index = self.get("/v1/health/service/dereg").index
        self.assertEqual(call(self.a, "PUT", "/v1/agent/service/deregister/dereg-1").status, 200)
        reply = self.get("/v1/health/service/dereg")
        self.assertEqual(reply.json(), [])
        self.assertGreater(reply.index, index)
        self.assertEqual(call(self.a, "PUT", "/v1/agent/check/pass/service:dereg-1").status, 404)

    def test_reregistration_keeps_the_check_status_and_changes_nothing(self):
        definition = {"ID": "rereg-1", "Name": "rereg", "Check": {"CheckID": "rereg-1-ttl", "TTL": "30s"}}
        self.register(definition)
        call(self.a, "PUT", "/v1/agent/check/pass/rereg-1-ttl")
        index = self.get("/v1/health/service/rereg").index
        self.register(definition)
        reply, instances = self.instances("rereg", "?passing")
        self.assertIn("rereg-1", instances)
        self.assertEqual(reply.index, index)

    def test_replace_existing_checks(self):
        self.register({"ID": "repl-1", "Name": "repl", "Checks": [{"CheckID": "c1", "TTL": "30s"},
                                                                   {"CheckID": "c2", "TTL": "30s"}]})
        self.register({"ID": "repl-1", "Name": "repl", "Check": {"CheckID": "c1", "TTL": "30s"}})
        self.assertLessEqual({"c1", "c2"}, set(self.get("/v1/agent/checks").json()))
        self.register({"ID": "repl-1", "Name": "repl", "Check": {"CheckID": "c1", "TTL": "30s"}},
                      query="?replace-existing-checks")
        checks = self.get("/v1/agent/checks").json()
        self.assertIn("c1", checks)
        self.assertNotIn("c2", checks)

    def test_registration_errors(self):
        def register(body):
            return call(self.a, "PUT", "/v1/agent/service/register", body=body)

        self.assertPlainError(register({"Port": 1}), 400, "Missing service name")
        self.assertPlainError(register(""), 400, "Request decode failed: EOF")
        self.assertPlainError(register({"Name": "bad", "Check": {"TTL": "10s", "Status": "ok"}}), 400,
                              "Status for checks must 'passing', 'warning', 'critical'")
        self.assertPlainError(register({"Name": "bad", "Check": {"Notes": "no TTL"}}), 400,
                              "Invalid check: TTL must be > 0 for TTL checks")
        self.assertPlainError(register({"Name": "bad", "Address": "0.0.0.0"}), 400, "Invalid service address")

    def test_agent_stop_and_start(self):
        port = self.b.rsplit(":", 1)[1]
        self.register({"ID": "crash-1", "Name": "crash", "Check": {"CheckID": "crash-1-ttl", "TTL": "30s",
                                                                   "Status": "passing"}}, self.b)
        index = self.get("/v1/health/service/crash").index
        watch = []

        def blocked():  # a watch on the crashing agent loses its connection
            try:
                watch.append(self.get(f"/v1/kv/crash-watch?index=1000000&wait=10s", self.b))
            except (ConnectionError, http.client.HTTPException) as error:
                watch.append(error)

        thread = threading.Thread(target=blocked)
        thread.start()
        time.sleep(0.2)
        self.fake.post(f"/agents/{port}/stop")
        thread.join(3)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(watch[0], (ConnectionError, http.client.HTTPException))
        try:
            with self.assertRaises(ConnectionError):
                self.get("/v1/kv/anything", self.b)
            reply, instances = self.instances("crash")
            self.assertGreater(reply.index, index)
            serf = [c for c in instances["crash-1"]["Checks"] if c["CheckID"] == "serfHealth"]
            self.assertEqual(serf[0]["Status"], "critical")
            self.assertEqual(self.instances("crash", "?passing")[1], {})
        finally:
            self.fake.post(f"/agents/{port}/start")
        self.assertEqual(self.instances("crash")[1], {})  # the restarted agent forgot it: gone from the catalog
        self.assertEqual(call(self.b, "PUT", "/v1/agent/check/pass/crash-1-ttl").status, 404)
        self.assertEqual(self.get("/v1/agent/services", self.b).json(), {})


class ACLTests(FakeTestCase):
    agents = 1
    fake_args = ("--acl-token", TOKEN)

    def test_anonymous_and_unknown_tokens(self):
        self.assertPlainError(self.get("/v1/kv/acl/k"), 403, "Permission denied")
        self.assertPlainError(self.put("acl/k", b"x"), 403, "Permission denied")
        self.assertPlainError(self.get("/v1/kv/acl/k", headers={"X-Consul-Token": "wrong"}), 403, "ACL not found")
        self.assertEqual(self.get("/v1/kv/acl/k").headers["X-Consul-Default-ACL-Policy"], "deny")
        reply = call(self.a, "PUT", "/v1/agent/service/register", body={"Name": "aclsvc"})
        self.assertEqual(reply.status, 403)
        self.assertTrue(reply.text.startswith("Permission denied: anonymous token lacks permission 'service:write'"))
        self.assertEqual(self.get("/v1/status/leader").status, 200)

    def test_token_in_header_bearer_or_query(self):
        headers = {"X-Consul-Token": TOKEN}
        self.assertEqual(call(self.a, "PUT", "/v1/kv/acl/ok", body=b"v", headers=headers).json(), True)
        self.assertEqual(self.get("/v1/kv/acl/ok", headers={"Authorization": f"Bearer {TOKEN}"}).status, 200)
        self.assertEqual(self.get(f"/v1/kv/acl/ok?token={TOKEN}").status, 200)
        self.register_with_token = call(self.a, "PUT", "/v1/agent/service/register", headers=headers,
                                        body={"Name": "aclsvc", "Check": {"TTL": "30s", "Status": "passing"}})
        self.assertEqual(self.register_with_token.status, 200)
        self.assertEqual(len(self.get("/v1/health/service/aclsvc", headers=headers).json()), 1)
        self.assertEqual(self.get("/v1/health/service/aclsvc").json(), [])  # anonymous reads are filtered
        self.assertNotIn(TOKEN, self.fake.read_log())


class PersistenceTests(unittest.TestCase):
    def test_kv_and_index_survive_a_restart_but_services_do_not(self):
        data_dir = tempfile.mkdtemp(prefix="fake-consul-data-")
        try:
            fake = FakeConsul(1, data_dir=data_dir)
            try:
                address = fake.agents[0]
                call(address, "PUT", "/v1/kv/keep/me", body=b"kept")
                call(address, "PUT", "/v1/agent/service/register", body={"Name": "gone", "Check": {"TTL": "30s"}})
                [before] = call(address, "GET", "/v1/kv/keep/me").json()
                index_before = fake.state()["index"]
            finally:
                fake.stop()
                fake.remove_log()
            self.assertTrue(os.path.exists(os.path.join(data_dir, "state.json")))
            fake = FakeConsul(1, data_dir=data_dir)
            try:
                address = fake.agents[0]
                [after] = call(address, "GET", "/v1/kv/keep/me").json()
                self.assertEqual(after, before)
                self.assertGreaterEqual(fake.state()["index"], index_before)
                self.assertEqual(call(address, "GET", "/v1/agent/services").json(), {})
                self.assertEqual(call(address, "GET", "/v1/health/service/gone").json(), [])
            finally:
                fake.stop()
                fake.remove_log()
        finally:
            shutil.rmtree(data_dir)


if __name__ == "__main__":
    unittest.main()
