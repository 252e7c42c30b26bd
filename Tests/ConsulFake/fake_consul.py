#!/usr/bin/env python3
"""A fake Consul agent for Beacon's tests -- NOT Consul.

No Consul binary can be had on the test machines, so Beacon's Consul client is tested against this small
stand-in, written from Consul's documented HTTP API and, where the documentation is silent, from what the
agent's source does (agent/http.go, agent/kvs_endpoint.go, agent/agent_endpoint.go, agent/health_endpoint.go,
agent/consul/kvs_endpoint.go, agent/consul/state/kvs.go, agent/local/state.go). Python 3.11, standard library
only. It answers like a Consul 1.11+ client agent (see --legacy-agent-errors for the older answers).

One process is one datacenter, "dc1", with one or more agents, each on its own address. The agents share the
KV store, the raft-like index (a uint64 that every applied write advances) and the catalog, which is the union
of the agents' local services; each agent has its own node ("node-<port>") and its own local services and
checks, which it syncs to the catalog at once (no anti-entropy delay).

Usage:
    fake_consul.py --agent 127.0.0.1:28500 [--agent 127.0.0.1:28502 ...] [--control 127.0.0.1:28599]
                   [--data-dir DIR] [--time-scale 0.05] [--acl-token TOKEN ... | --acl-token-file FILE]
                   [--legacy-agent-errors]

    --agent HOST:PORT    an agent's HTTP API (repeatable; port 0 picks a free port)
    --control HOST:PORT  the test-control API below (optional)
    --data-dir DIR       keep the KV store and the index in DIR/state.json (written atomically after every
                         write, loaded at start) as an agent with a data directory keeps them; agent-local
                         services and checks are never kept: a restarted agent has forgotten them
    --time-scale F       multiplies the agent's own fixed durations (default 1): the 1 minute minimum of
                         DeregisterCriticalServiceAfter, the 30 s reaper interval and the 5 minute
                         check_update_interval. 0.05 makes them 3 s, 1.5 s and 15 s. Nothing a client sends
                         (TTL, DeregisterCriticalServiceAfter, ?wait) is scaled.
    --acl-token TOKEN    enable ACLs with default policy deny; TOKEN may do everything (repeatable)
    --acl-token-file F   the same, one token a line (keeps tokens off the command line)
    --legacy-agent-errors
                         answer as agents before Consul 1.11 did: check/pass|warn|fail|update of an unknown
                         check is 500 `CheckID "<id>" does not have associated TTL` (1.11+: 404 `Unknown check
                         ID ...`), deregistering an unknown service is 200 (1.11+: 404 `Unknown service ID
                         ...`), and permission errors are plain `Permission denied`

When every listener is up it prints one line to stdout:
    READY {"agents": ["127.0.0.1:28500", ...], "control": "127.0.0.1:28599"}

HTTP API (every agent):
    GET|PUT|DELETE /v1/kv/<key>   ?recurse ?keys ?separator ?raw ?flags ?cas (?acquire/?release: no sessions
                                  exist, so acquire fails with 500 `invalid session` and release answers false)
    GET  /v1/health/service/<name>  ?passing ?tag
    PUT  /v1/agent/service/register  ?replace-existing-checks
    PUT  /v1/agent/service/deregister/<id>
    PUT  /v1/agent/check/pass/<id>, /warn/<id>, /fail/<id>  ?note     PUT /v1/agent/check/update/<id>
    GET  /v1/agent/services, /v1/agent/checks, /v1/agent/self, /v1/status/leader, /v1/status/peers
  Reads of KV and health take ?index=&wait= (blocking queries: default wait 5m, at most 10m, plus a random
  jitter of up to wait/16), ?stale, ?consistent, ?dc (anything but dc1: 500 `No path to datacenter`), and set
  X-Consul-Index (never 0), X-Consul-Knownleader: true and X-Consul-Lastcontact: 0. Header names are written
  in Go's canonical form, as Consul's Go server writes them. Bodies of 1400 bytes and more are gzipped when
  the client accepts gzip. Error bodies are plain text.

Test-control API (--control; no authentication, JSON answers):
    GET  /state                     the index, the KV store, every agent's local services and checks, the catalog
    POST /index/backwards?by=N      the index goes back by N (to at least 1), as after a snapshot restore: every
                                    CreateIndex/ModifyIndex and table index above the new index is lowered to
                                    it, and blocked queries return at once with the lower index
    POST /throttle?count=N          the next N API requests (any agent; /v1/status/* excepted) get 429
    POST /agents/<port>/stop        the agent crashes: its listener and connections close, it forgets its
                                    services and checks; its node's serfHealth check turns critical and its
                                    services stay in the catalog (as a dead node's do)
    POST /agents/<port>/start       the agent comes back with nothing registered: serfHealth passes again and
                                    its old services leave the catalog (as anti-entropy removes them)
    POST /legacy-agent-errors?enable=true|false   switch --legacy-agent-errors at run time

Deviations from a real agent (on purpose, to stay small): no sessions, locks, transactions, catalog, events,
prepared queries, Connect, namespaces or partitions; only TTL checks run (HTTP/TCP/script... checks are
accepted and keep their initial status); ?filter and ?node-meta are refused (400), ?near and ?cached are
ignored; KV tombstones are never reaped; ACLs know only all-powerful tokens and the anonymous token (which may
do nothing: single-key reads and all writes are denied, lists and health results come back filtered); the
catalog follows the agents at once; a stopped agent's node turns critical at once; health results carry
"Namespace": "default" as the documented (Enterprise) sample does. Logs go to stderr, one line per request,
with query parameter names but never their values.
"""

import argparse
import base64
import gzip
import ipaddress
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

DATACENTER = "dc1"
LEADER_ADDRESS = "127.0.0.1:8300"
VERSION = "1.22.0"
LEGACY_VERSION = "1.10.12"
KV_MAX_VALUE_SIZE = 512 * 1024  # kv_max_value_size
KV_MAX_VALUE_SIZE_DOC = "https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size"
OTHER_BODY_LIMIT = 8 * 1024 * 1024
CHECK_OUTPUT_MAX = 4096  # OutputMaxSize of a TTL check
DEFAULT_QUERY_TIME = 300.0
MAX_QUERY_TIME = 600.0
JITTER_FRACTION = 16
GZIP_MIN_SIZE = 1400  # gziphandler.DefaultMinSize
# A real agent's own durations; --time-scale multiplies them.
CHECK_DEREGISTER_MIN = 60.0  # DeregisterCriticalServiceAfter is raised to at least this
CHECK_REAP_INTERVAL = 30.0  # how often services with a too-long critical check are removed
CHECK_UPDATE_INTERVAL = 300.0  # an output-only change reaches the catalog after 1/2 to 3/2 of this
TICK = 0.05
RATE_LIMITED = "rate limit exceeded, try again later or against a different server"
MANAGEMENT, ANONYMOUS = "management", "anonymous"
UNTHROTTLED_PREFIXES = ("/v1/status/",)  # never throttled: scripts/servers polls them


# ---------------------------------------------------------------- Go-compatible parsing and output


def go_quote(text):
    """Go's %q, close enough for the messages here."""
    return json.dumps(text, ensure_ascii=False)


def parse_uint(text):
    """strconv.ParseUint(text, 10, 64), with its error message."""
    if text and text.isascii() and text.isdigit():
        value = int(text)
        if value < 1 << 64:
            return value
        raise ValueError(f"strconv.ParseUint: parsing {go_quote(text)}: value out of range")
    raise ValueError(f"strconv.ParseUint: parsing {go_quote(text)}: invalid syntax")


def parse_bool(text):
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]*)")


def parse_duration(text):
    """time.ParseDuration ("1m30s", "250ms", "-5s", "0"), in seconds."""
    s = text
    negative = s[:1] == "-"
    if s[:1] in ("-", "+"):
        s = s[1:]
    if s == "0":
        return 0.0
    if s == "":
        raise ValueError(f"time: invalid duration {go_quote(text)}")
    total = 0.0
    while s:
        part = _DURATION_PART.match(s)
        whole, fraction, unit = part.group(1), part.group(2), part.group(3)
        if whole == "" and not fraction:
            raise ValueError(f"time: invalid duration {go_quote(text)}")
        if unit == "":
            raise ValueError(f"time: missing unit in duration {go_quote(text)}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        total += float(f"{whole or 0}.{fraction or 0}") * _DURATION_UNITS[unit]
        s = s[part.end():]
    return -total if negative else total


def go_json(value, pretty=False):
    """encoding/json output: compact (or MarshalIndent with 4 spaces for ?pretty), <>& escaped."""
    if pretty:
        text = json.dumps(value, indent=4, ensure_ascii=False) + "\n"
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode("utf-8", "replace")


def go_clean_path(path):
    """net/http's cleanPath: path.Clean, keeping a trailing slash (ServeMux redirects to it)."""
    if path == "":
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    clean = "/" + "/".join(parts)
    if path.endswith("/") and clean != "/":
        clean += "/"
    return clean


def go_values_encode(query):
    """url.Values.Encode: sorted by key."""
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k in sorted(query) for v in query[k])


def log(message):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
    with _log_lock:
        sys.stderr.write(f"{stamp} {message}\n")
        sys.stderr.flush()


_log_lock = threading.Lock()


class APIError(Exception):
    """An error answer: a status and a plain-text body (empty for some)."""

    def __init__(self, status, message=""):
        super().__init__(message)
        self.status = status
        self.message = message


class Abort(Exception):
    """The connection goes away without an answer: the agent stopped, or the client left."""


class BodyError(ValueError):
    """A request body that does not decode into what the endpoint expects."""


# ---------------------------------------------------------------- request bodies (service definitions)


def field(obj, name):
    """A JSON member matched as Consul decodes them: any case, snake_case or CamelCase."""
    want = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.replace("_", "").lower() == want:
            return value
    return None


def type_error(value, target, go_type):
    """encoding/json's UnmarshalTypeError message."""
    return BodyError(f"json: cannot unmarshal {json_kind(value)} into Go struct field {target} of type {go_type}")


def get_str(obj, name, where):
    value = field(obj, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise type_error(value, f"{where}.{name}", "string")
    return value


def get_int(obj, name, where):
    value = field(obj, name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise type_error(value, f"{where}.{name}", "int")
    return int(value)


def get_bool(obj, name, where):
    value = field(obj, name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise type_error(value, f"{where}.{name}", "bool")
    return value


def get_duration(obj, name, where):
    """A duration given as a Go duration string or as nanoseconds; seconds, 0 when absent."""
    value = field(obj, name)
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as error:
            raise BodyError(str(error)) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1e9
    raise type_error(value, f"{where}.{name}", "time.Duration")


def get_string_list(obj, name, where):
    value = field(obj, name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise type_error(value, f"{where}.{name}", "[]string")
    return list(value)


def get_string_map(obj, name, where):
    value = field(obj, name)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise type_error(value, f"{where}.{name}", "map[string]string")
    return dict(value)


def json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def format_duration(seconds):
    """time.Duration.String for whole milliseconds and up ("1m0s", "15s", "1.5s")."""
    if seconds == 0:
        return "0s"
    text, rest = "", round(seconds * 1000)
    hours, rest = divmod(rest, 3600_000)
    minutes, rest = divmod(rest, 60_000)
    if hours:
        text += f"{hours}h"
    if hours or minutes:
        text += f"{minutes}m"
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return text + secs + "s"


_OTHER_CHECK_KINDS = (("HTTP", "http"), ("TCP", "tcp"), ("UDP", "udp"), ("GRPC", "grpc"), ("H2PING", "h2ping"),
                      ("Args", "script"), ("ScriptArgs", "script"), ("DockerContainerID", "docker"),
                      ("OSService", "os_service"))


def parse_check(obj, where):
    """A check of a service definition (CheckType) as decoded, or None for an absent or empty one."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise type_error(obj, where, "structs.CheckType")
    if not any(v not in (None, "", 0, False, [], {}) for v in obj.values()):
        return None  # CheckType.Empty()
    check = {
        "CheckID": get_str(obj, "CheckID", "CheckType"),
        "Name": get_str(obj, "Name", "CheckType"),
        "Notes": get_str(obj, "Notes", "CheckType"),
        "Status": get_str(obj, "Status", "CheckType"),
        "TTL": get_duration(obj, "TTL", "CheckType"),
        "Interval": get_duration(obj, "Interval", "CheckType"),
        "Timeout": get_duration(obj, "Timeout", "CheckType"),
        "DeregisterCriticalServiceAfter": get_duration(obj, "DeregisterCriticalServiceAfter", "CheckType"),
        "Type": "",
    }
    for name, kind in _OTHER_CHECK_KINDS:
        if field(obj, name) not in (None, "", []):
            check["Type"] = kind
            break
    check["Alias"] = bool(field(obj, "AliasNode") or field(obj, "AliasService"))
    return check


def validate_check(check):
    """CheckType.Validate, then the kind of check it is ("ttl", "http", "alias", ...)."""
    alias = check.pop("Alias")
    interval_check = check["Type"] != ""
    if check["Interval"] > 0 and check["TTL"] > 0:
        raise APIError(400, "Invalid check: Interval and TTL cannot both be specified")
    if interval_check and check["Interval"] <= 0:
        raise APIError(400, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService "
                            "checks")
    if interval_check and alias:
        raise APIError(400, "Invalid check: Interval cannot be set for Alias checks")
    if alias and check["TTL"] > 0:
        raise APIError(400, "Invalid check: TTL must be not be set for Alias checks")
    if not interval_check and not alias and check["TTL"] <= 0:
        raise APIError(400, "Invalid check: TTL must be > 0 for TTL checks")
    if alias:
        check["Type"] = "alias"
    elif not interval_check:
        check["Type"] = "ttl"


class LocalService:
    """A service registered with one agent."""

    def __init__(self, definition):
        where = "ServiceDefinition"
        self.name = get_str(definition, "Name", where)
        self.id = get_str(definition, "ID", where) or self.name
        self.tags = get_string_list(definition, "Tags", where)
        self.address = get_str(definition, "Address", where)
        self.port = get_int(definition, "Port", where)
        self.meta = get_string_map(definition, "Meta", where)
        self.enable_tag_override = get_bool(definition, "EnableTagOverride", where)
        weights = field(definition, "Weights")
        if weights is None:
            self.weights = {"Passing": 1, "Warning": 1}
        elif isinstance(weights, dict):
            self.weights = {"Passing": get_int(weights, "Passing", "Weights"),
                            "Warning": get_int(weights, "Warning", "Weights")}
        else:
            raise type_error(weights, "ServiceDefinition.Weights", "structs.Weights")
        self.tagged_addresses = {}
        tagged = field(definition, "TaggedAddresses")
        if tagged is not None:
            if not isinstance(tagged, dict) or not all(isinstance(v, dict) for v in tagged.values()):
                raise BodyError("json: cannot unmarshal into Go struct field ServiceDefinition.TaggedAddresses "
                                "of type map[string]structs.ServiceAddress")
            for key, value in tagged.items():
                self.tagged_addresses[key] = {"Address": get_str(value, "Address", "ServiceAddress"),
                                              "Port": get_int(value, "Port", "ServiceAddress")}
        # The agent adds lan_ipv4/wan_ipv4 (or _ipv6) addresses for a service address that is an IP.
        try:
            ip = ipaddress.ip_address(self.address)
        except ValueError:
            ip = None
        if ip is not None:
            family = "ipv4" if ip.version == 4 else "ipv6"
            for scope in ("lan", "wan"):
                self.tagged_addresses.setdefault(f"{scope}_{family}", {"Address": self.address, "Port": self.port})

    def record(self):
        """The service as the catalog keeps it (structs.NodeService, without the raft indexes)."""
        record = {"ID": self.id, "Service": self.name, "Tags": self.tags, "Address": self.address}
        if self.tagged_addresses:
            record["TaggedAddresses"] = {k: dict(v) for k, v in sorted(self.tagged_addresses.items())}
        record["Meta"] = dict(self.meta) if self.meta is not None else None
        if self.port:
            record["Port"] = self.port  # `json:",omitempty"`
        record["Weights"] = dict(self.weights)
        record["EnableTagOverride"] = self.enable_tag_override
        record["Proxy"] = {"Mode": "", "MeshGateway": {}, "Expose": {}}
        record["Connect"] = {}
        record["PeerName"] = ""
        return record

    def agent_view(self):
        """GET /v1/agent/services' shape (api.AgentService)."""
        view = {"ID": self.id, "Service": self.name, "Tags": list(self.tags or []),
                "Meta": dict(self.meta or {}), "Port": self.port, "Address": self.address}
        if self.tagged_addresses:
            view["TaggedAddresses"] = {k: dict(v) for k, v in sorted(self.tagged_addresses.items())}
        view["Weights"] = dict(self.weights)
        view["EnableTagOverride"] = self.enable_tag_override
        view["Datacenter"] = DATACENTER
        return view


class LocalCheck:
    """A check registered with one agent; only TTL checks ever change by themselves."""

    def __init__(self, check_id, definition, service, time_scale):
        self.id = check_id
        self.name = definition["Name"] or f"Service '{service.name}' check"
        self.notes = definition["Notes"]
        self.type = definition["Type"]
        self.service_id, self.service_name, self.service_tags = service.id, service.name, service.tags
        self.interval = format_duration(definition["Interval"]) if definition["Interval"] else ""
        self.timeout = format_duration(definition["Timeout"]) if definition["Timeout"] else ""
        self.ttl = definition["TTL"] if self.type == "ttl" else None
        reap_after = definition["DeregisterCriticalServiceAfter"]
        self.reap_after = max(reap_after, CHECK_DEREGISTER_MIN * time_scale) if reap_after > 0 else None
        self.status = definition["Status"] or "critical"
        self.output = ""  # the agent's own view (GET /v1/agent/checks)
        self.synced_output = ""  # what the agent sends to the catalog (output-only changes wait)
        self.last_output = ""  # for "TTL expired (last output before timeout follows): ..."
        self.ttl_deadline = None  # monotonic time at which the TTL expires
        self.critical_since = None  # monotonic time of the last change to critical, as CriticalTime
        self.deferred_sync_at = None  # monotonic time at which an output-only change reaches the catalog

    def record(self, node):
        """The check as the catalog keeps it (structs.HealthCheck, without the raft indexes)."""
        return {"Node": node, "CheckID": self.id, "Name": self.name, "Status": self.status, "Notes": self.notes,
                "Output": self.synced_output, "ServiceID": self.service_id, "ServiceName": self.service_name,
                "ServiceTags": self.service_tags, "Type": self.type, "Interval": self.interval,
                "Timeout": self.timeout, "ExposedPort": 0, "Definition": {}}

    def agent_view(self, node):
        view = self.record(node)
        view["Output"] = self.output
        view["ServiceTags"] = list(self.service_tags or [])
        return view


class Agent:
    """One agent: an address, a node, local services and checks."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.node = ""
        self.node_id = ""
        self.services = {}  # service ID -> LocalService
        self.checks = {}  # check ID -> LocalCheck
        self.running = False
        self.registered = False  # its node has been in the catalog since the process started
        self.server = None
        self.thread = None
        self.connections = set()
        self.connections_lock = threading.Lock()
        self.next_reap = 0.0

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def bind(self, api):
        """Open the listener (port 0 picks a free port); connections queue until serve()."""
        server = AgentHTTPServer((self.host, self.port), AgentRequestHandler)
        server.agent, server.api = self, api
        self.port = server.server_address[1]
        if not self.node:
            self.node = f"node-{self.port}"
            self.node_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-consul/{DATACENTER}/{self.node}"))
        self.server = server

    def serve(self):
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"agent-{self.port}", daemon=True)
        self.thread.start()

    def close(self):
        """Close the listener and every open connection (a crash: clients see their connections drop)."""
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# ---------------------------------------------------------------- the datacenter's state


class Consul:
    """The datacenter: KV store, catalog, raft-like index, agents. One lock guards it all."""

    def __init__(self, time_scale=1.0, data_dir=None, acl_tokens=(), legacy_agent_errors=False):
        self.lock = threading.Condition(threading.RLock())
        self.time_scale = time_scale
        self.data_dir = data_dir
        self.acl_tokens = set(acl_tokens)
        self.acl_enabled = bool(self.acl_tokens)
        self.legacy_agent_errors = legacy_agent_errors
        self.index = 0  # the raft index: every applied write takes the next one
        self.kv = {}  # key -> {"Key", "Flags", "Value": bytes|None, "LockIndex", "CreateIndex", "ModifyIndex"}
        self.kv_table_index = 0  # index of the last change to the kvs table
        self.tombstones = {}  # key (or deleted prefix) -> index of the delete; never reaped here
        self.tombstone_table_index = 0
        self.nodes = {}  # node name -> structs.Node
        self.catalog_services = {}  # (node, service ID) -> structs.NodeService
        self.catalog_checks = {}  # (node, check ID) -> structs.HealthCheck
        self.service_index = {}  # service name -> index of the last change to its instances or their checks
        self.extinction_index = 0  # index at which the last instance of some service went away
        self.catalog_index = 0  # index of the last catalog write
        self.generation = 0  # advanced by /index/backwards: blocked queries return at once
        self.blocked = 0  # queries waiting in block() now, for the tests (GET /state)
        self.throttle = 0
        self.agents = []
        self.dirty = False
        if data_dir:
            self._load()

    # -- raft-like index and persistence

    def _next_index(self):
        self.index += 1
        self.dirty = True
        return self.index

    def commit(self, wake=False):
        """After a change: persist (when there is a data directory) and wake blocked queries."""
        if self.dirty:
            self.dirty = False
            wake = True
            if self.data_dir:
                self._save()
        if wake:
            self.lock.notify_all()

    def _state_path(self):
        return os.path.join(self.data_dir, "state.json")

    def _save(self):
        state = {
            "index": self.index,
            "kv_table_index": self.kv_table_index,
            "tombstone_table_index": self.tombstone_table_index,
            "kv": [dict(e, Value=encode_value(e["Value"])) for e in self.kv.values()],
            "tombstones": self.tombstones,
        }
        path = self._state_path()
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def _load(self):
        os.makedirs(self.data_dir, exist_ok=True)
        path = self._state_path()
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as source:
            state = json.load(source)
        self.index = state["index"]
        self.kv_table_index = state["kv_table_index"]
        self.tombstone_table_index = state["tombstone_table_index"]
        self.tombstones = dict(state["tombstones"])
        for entry in state["kv"]:
            value = entry["Value"]
            self.kv[entry["Key"]] = dict(entry, Value=base64.b64decode(value) if value is not None else None)
        log(f"loaded {len(self.kv)} key(s) at index {self.index} from {path}")

    # -- ACLs

    def resolve_token(self, token):
        """The token's authorizer: MANAGEMENT (may do everything) or ANONYMOUS (may do nothing)."""
        if not self.acl_enabled:
            return MANAGEMENT
        if token == "":
            return ANONYMOUS
        if token in self.acl_tokens:
            return MANAGEMENT
        raise APIError(403, "ACL not found")

    # -- KV (agent/consul/state/kvs.go)

    def kv_max_index(self):
        return max(self.kv_table_index, self.tombstone_table_index)

    def kv_get(self, key):
        """(index, entry or None): the entry's ModifyIndex, or the KV table's index when it is missing."""
        entry = self.kv.get(key)
        if entry is not None:
            return entry["ModifyIndex"], entry
        return self.kv_max_index(), None

    def kv_list(self, prefix):
        """(index, entries): the highest ModifyIndex or tombstone under the prefix, else the table's index."""
        entries = [self.kv[k] for k in sorted(self.kv) if k.startswith(prefix)]
        top = max((e["ModifyIndex"] for e in entries), default=0)
        if prefix:
            top = max([top] + [i for k, i in self.tombstones.items() if k.startswith(prefix)])
        else:
            top = self.kv_max_index()
        return (top or self.kv_max_index()), entries

    def kv_put(self, key, value, flags, cas=None, acquire=None, release=None):
        index = self._next_index()  # every applied write takes an index, even one that changes nothing
        if acquire is not None:
            raise APIError(500, "missing session" if acquire == "" else f"invalid session {go_quote(acquire)}")
        if release is not None:
            if release == "":
                raise APIError(500, "missing session")
            return False  # no session holds any key
        current = self.kv.get(key)
        if cas is not None:
            if cas == 0 and current is not None:
                return False
            if cas != 0 and (current is None or current["ModifyIndex"] != cas):
                return False
        if current is not None and current["Value"] == value and current["Flags"] == flags \
                and current["LockIndex"] == 0:
            return True  # the same entry: nothing is written
        self.kv[key] = {"LockIndex": 0, "Key": key, "Flags": flags, "Value": value,
                        "CreateIndex": current["CreateIndex"] if current else index, "ModifyIndex": index}
        self.kv_table_index = index
        return True

    def kv_delete(self, key, recurse=False, cas=None):
        index = self._next_index()
        if recurse:
            doomed = [k for k in self.kv if k.startswith(key)]
            if doomed:
                for k in doomed:
                    del self.kv[k]
                if key:  # one tombstone for the prefix; none when the whole tree goes
                    self.tombstones[key] = index
                    self.tombstone_table_index = index
                self.kv_table_index = index
            return True
        current = self.kv.get(key)
        if current is None:
            return True  # a missing key is deleted, CAS or not
        if cas is not None and current["ModifyIndex"] != cas:
            return False
        del self.kv[key]
        self.tombstones[key] = index
        self.tombstone_table_index = index
        self.kv_table_index = index
        return True

    # -- catalog

    def _service_changed(self, name, index):
        """Index bookkeeping after a write touching service `name` (maxIndexForService's entries)."""
        self.catalog_index = index
        if any(s["Service"] == name for s in self.catalog_services.values()):
            self.service_index[name] = index
        else:
            self.service_index.pop(name, None)
            self.extinction_index = index

    def _node_services_changed(self, node, index):
        self.catalog_index = index
        for (n, _), service in list(self.catalog_services.items()):
            if n == node:
                self._service_changed(service["Service"], index)

    def _set_serf_health(self, agent, status, output):
        index = self._next_index()
        key = (agent.node, "serfHealth")
        check = self.catalog_checks.get(key)
        if check is None:
            check = {"Node": agent.node, "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": status,
                     "Notes": "", "Output": output, "ServiceID": "", "ServiceName": "", "ServiceTags": [],
                     "Type": "", "Interval": "", "Timeout": "", "ExposedPort": 0, "Definition": {},
                     "CreateIndex": index, "ModifyIndex": index}
        self.catalog_checks[key] = dict(check, Status=status, Output=output, ModifyIndex=index)
        self._node_services_changed(agent.node, index)

    def _register_node(self, agent):
        index = self._next_index()
        node = self.nodes.get(agent.node)
        self.nodes[agent.node] = {
            "ID": agent.node_id, "Node": agent.node, "Address": agent.host, "Datacenter": DATACENTER,
            "TaggedAddresses": {"lan": agent.host, "lan_ipv4": agent.host, "wan": agent.host,
                                "wan_ipv4": agent.host},
            "Meta": {"consul-network-segment": ""},
            "CreateIndex": node["CreateIndex"] if node else index, "ModifyIndex": index,
        }
        self.catalog_index = index
        self._set_serf_health(agent, "passing", "Agent alive and reachable")

    def _put_catalog_check(self, node, check, index):
        record = check.record(node)
        current = self.catalog_checks.get((node, check.id))
        if current is not None and strip_indexes(current) == record:
            return False
        record["CreateIndex"] = current["CreateIndex"] if current else index
        record["ModifyIndex"] = index
        self.catalog_checks[(node, check.id)] = record
        return True

    def sync(self, agent):
        """Anti-entropy, at once: make the catalog's view of the agent's node match its local state."""
        node = agent.node
        for key in [k for k in self.catalog_services if k[0] == node and k[1] not in agent.services]:
            index = self._next_index()
            service = self.catalog_services.pop(key)
            for check_key in [k for k, c in self.catalog_checks.items() if k[0] == node and c["ServiceID"] == key[1]]:
                del self.catalog_checks[check_key]
            self._service_changed(service["Service"], index)
        for key in [k for k, c in self.catalog_checks.items()
                    if k[0] == node and c["ServiceID"] and k[1] not in agent.checks]:
            index = self._next_index()
            self._service_changed(self.catalog_checks.pop(key)["ServiceName"], index)
        for service_id, service in agent.services.items():
            record = service.record()
            current = self.catalog_services.get((node, service_id))
            if current is not None and strip_indexes(current) == record:
                continue
            index = self._next_index()  # the service and its checks: one write
            self.catalog_services[(node, service_id)] = dict(
                record, CreateIndex=current["CreateIndex"] if current else index, ModifyIndex=index)
            for check in agent.checks.values():
                if check.service_id == service_id:
                    self._put_catalog_check(node, check, index)
            self._service_changed(service.name, index)
            if current is not None and current["Service"] != service.name:
                self._service_changed(current["Service"], index)
        for check in agent.checks.values():
            current = self.catalog_checks.get((node, check.id))
            if current is None or strip_indexes(current) != check.record(node):
                index = self._next_index()
                self._put_catalog_check(node, check, index)
                self._service_changed(check.service_name, index)

    def health_service(self, name, tags):
        """(index, [CheckServiceNode]) for /v1/health/service/<name>, before ?passing."""
        keys = sorted(k for k, s in self.catalog_services.items() if s["Service"] == name)
        results = []
        for node, service_id in keys:
            service = self.catalog_services[(node, service_id)]
            if tags and not all(t in (service["Tags"] or []) for t in tags):
                continue
            node_checks = sorted((c for (n, _), c in self.catalog_checks.items() if n == node and not c["ServiceID"]),
                                 key=lambda c: c["CheckID"])
            service_checks = sorted((c for (n, _), c in self.catalog_checks.items()
                                     if n == node and c["ServiceID"] == service_id), key=lambda c: c["CheckID"])
            checks = []
            for check in node_checks + service_checks:
                check = json.loads(json.dumps(check))
                check["ServiceTags"] = check["ServiceTags"] or []
                check = insert_before(check, "CreateIndex", "Namespace", "default")
                checks.append(check)
            service = json.loads(json.dumps(service))
            service["Tags"] = service["Tags"] or []
            service = insert_before(service, "CreateIndex", "Namespace", "default")
            results.append({"Node": json.loads(json.dumps(self.nodes[node])), "Service": service, "Checks": checks})
        if keys:
            index = self.service_index.get(name, self.catalog_index)
        else:
            index = self.extinction_index or self.catalog_index
        return index, results

    # -- agent-local operations (agent/agent.go, agent/local/state.go)

    def register_service(self, agent, service, check_definitions, replace_existing_checks):
        now = time.monotonic()
        snapshot = {cid: (c.status, c.output) for cid, c in agent.checks.items()}
        agent.services[service.id] = service
        kept = set()
        for number, definition in enumerate(check_definitions, 1):
            check_id = definition["CheckID"]
            if not check_id:
                check_id = f"service:{service.id}" + (f":{number}" if len(check_definitions) > 1 else "")
            check = LocalCheck(check_id, definition, service, self.time_scale)
            if check_id in snapshot:  # a re-registration keeps the check's status and output
                check.status, check.output = snapshot[check_id]
            check.synced_output = check.output
            if check.ttl is not None:
                check.ttl_deadline = now + check.ttl
            agent.checks[check_id] = check
            kept.add(check_id)
        if replace_existing_checks:
            for check_id in [c.id for c in agent.checks.values() if c.service_id == service.id and c.id not in kept]:
                del agent.checks[check_id]
        self.sync(agent)
        self.commit()

    def deregister_service(self, agent, service_id):
        agent.services.pop(service_id, None)
        for check_id in [c.id for c in agent.checks.values() if c.service_id == service_id]:
            del agent.checks[check_id]
        self.sync(agent)
        self.commit()

    def update_check(self, check, status, output, now):
        """local.State.UpdateCheck: a status change goes to the catalog at once, an output change later."""
        if status == "critical":
            if check.critical_since is None:
                check.critical_since = now
        else:
            check.critical_since = None
        if check.status == status and check.output == output:
            return
        if check.status == status:
            check.output = output
            if check.deferred_sync_at is None:
                interval = CHECK_UPDATE_INTERVAL * self.time_scale
                check.deferred_sync_at = now + interval / 2 + random.random() * interval
            return
        check.status, check.output, check.synced_output = status, output, output

    def set_ttl_status(self, agent, check, status, output):
        """CheckTTL.SetStatus: new status and output, TTL clock restarted."""
        now = time.monotonic()
        size = len(output.encode())
        if size > CHECK_OUTPUT_MAX:
            output = (output.encode()[:CHECK_OUTPUT_MAX].decode(errors="ignore")
                      + f" ... (captured {CHECK_OUTPUT_MAX} of {size} bytes)")
        self.update_check(check, status, output, now)
        check.last_output = output
        check.ttl_deadline = now + check.ttl
        self.sync(agent)
        self.commit()

    def tick(self):
        """TTL expiries, deferred output syncs and the reaper; run every TICK seconds."""
        with self.lock:
            now = time.monotonic()
            for agent in self.agents:
                if not agent.running:
                    continue
                for check in list(agent.checks.values()):
                    if check.ttl_deadline is not None and now >= check.ttl_deadline:
                        check.ttl_deadline = None
                        expired = "TTL expired"
                        if check.last_output:
                            expired += f" (last output before timeout follows): {check.last_output}"
                        self.update_check(check, "critical", expired, now)
                    if check.deferred_sync_at is not None and now >= check.deferred_sync_at:
                        check.deferred_sync_at = None
                        check.synced_output = check.output
                if now >= agent.next_reap:
                    agent.next_reap = now + CHECK_REAP_INTERVAL * self.time_scale
                    self._reap(agent, now)
                self.sync(agent)
            self.commit()

    def _reap(self, agent, now):
        for check in list(agent.checks.values()):
            if (check.service_id in agent.services and check.reap_after is not None
                    and check.critical_since is not None and now - check.critical_since > check.reap_after):
                log(f"[{agent.address}] check {check.id!r} critical for more than "
                    f"{format_duration(check.reap_after)}: deregistering service {check.service_id!r}")
                agent.services.pop(check.service_id, None)
                for check_id in [c.id for c in agent.checks.values() if c.service_id == check.service_id]:
                    del agent.checks[check_id]

    # -- agents coming and going

    def start_agent(self, agent, api):
        if agent.server is None:
            agent.bind(api)
        with self.lock:
            agent.running = True
            agent.next_reap = time.monotonic() + CHECK_REAP_INTERVAL * self.time_scale
            if agent.registered:
                self._set_serf_health(agent, "passing", "Agent alive and reachable")
            else:
                agent.registered = True
                self._register_node(agent)
            self.sync(agent)  # drops what the catalog still has from before a crash
            self.commit()
        agent.serve()
        log(f"[{agent.address}] agent up, node {agent.node}")

    def stop_agent(self, agent):
        with self.lock:
            agent.running = False
            agent.services.clear()
            agent.checks.clear()
            self._set_serf_health(agent, "critical", "Agent not live or unreachable")
            self.commit()
        agent.close()
        log(f"[{agent.address}] agent stopped (crash): local services and checks forgotten")

    # -- test controls

    def index_backwards(self, by):
        """As after a snapshot restore: the index and every index above the new one go back."""
        new = max(1, self.index - by)

        def lower(record):
            for name in ("CreateIndex", "ModifyIndex"):
                if record.get(name, 0) > new:
                    record[name] = new

        for record in list(self.kv.values()) + list(self.nodes.values()) + list(self.catalog_services.values()) \
                + list(self.catalog_checks.values()):
            lower(record)
        self.tombstones = {k: min(i, new) for k, i in self.tombstones.items()}
        self.service_index = {k: min(i, new) for k, i in self.service_index.items()}
        self.kv_table_index = min(self.kv_table_index, new)
        self.tombstone_table_index = min(self.tombstone_table_index, new)
        self.extinction_index = min(self.extinction_index, new)
        self.catalog_index = min(self.catalog_index, new)
        self.index = new
        self.generation += 1
        self.dirty = True
        self.commit()
        return new

    def state(self):
        return {
            "datacenter": DATACENTER,
            "index": self.index,
            "kv_index": self.kv_max_index(),
            "time_scale": self.time_scale,
            "acl": self.acl_enabled,
            "legacy_agent_errors": self.legacy_agent_errors,
            "throttle": self.throttle,
            "blocked_queries": self.blocked,
            "kv": {k: dict(e, Value=encode_value(e["Value"])) for k, e in sorted(self.kv.items())},
            "agents": [{
                "address": a.address, "node": a.node, "running": a.running,
                "services": {sid: s.agent_view() for sid, s in sorted(a.services.items())},
                "checks": {cid: {"Status": c.status, "Output": c.output, "ServiceID": c.service_id,
                                 "TTL": format_duration(c.ttl) if c.ttl is not None else ""}
                           for cid, c in sorted(a.checks.items())},
            } for a in self.agents],
            "catalog": {
                "index": self.catalog_index,
                "services": {name: {"index": self.service_index.get(name, 0),
                                    "instances": [{"Node": n, "ID": sid, "Port": s.get("Port", 0),
                                                   "Checks": {c["CheckID"]: c["Status"] for (cn, _), c
                                                              in sorted(self.catalog_checks.items())
                                                              if cn == n and c["ServiceID"] in ("", sid)}}
                                                  for (n, sid), s in sorted(self.catalog_services.items())
                                                  if s["Service"] == name]}
                             for name in sorted({s["Service"] for s in self.catalog_services.values()})},
            },
        }


def encode_value(value):
    return base64.b64encode(value).decode() if value is not None else None


def strip_indexes(record):
    return {k: v for k, v in record.items() if k not in ("CreateIndex", "ModifyIndex")}


def insert_before(record, before, key, value):
    out = {}
    for k, v in record.items():
        if k == before:
            out[key] = value
        out[k] = v
    return out


def entry_json(entry):
    """structs.DirEntry: Value base64, null for an empty value (Session only while locked: never here)."""
    return {"LockIndex": entry["LockIndex"], "Key": entry["Key"], "Flags": entry["Flags"],
            "Value": encode_value(entry["Value"]), "CreateIndex": entry["CreateIndex"],
            "ModifyIndex": entry["ModifyIndex"]}


def filter_non_passing(nodes):
    """filterNonPassing, swap and all: an instance with any check not passing goes."""
    out, count, i = list(nodes), len(nodes), 0
    while i < count:
        if any(check["Status"] != "passing" for check in out[i]["Checks"]):
            out[i], out[count - 1] = out[count - 1], None
            count -= 1
            continue
        i += 1
    return out[:count]


def validate_key(key):
    """The key checks of Consul 1.21.6+/1.22 (leading '/', '..' segments, leading or trailing spaces)."""
    if key.startswith("/"):
        raise APIError(400, "key must not begin with a '/'")
    if ".." in key.split("/") or ".." in key.split("\\"):
        raise APIError(400, "key contains path traversal sequence")
    lowered = key.lower()
    if any(s in lowered for s in ("%2e%2e%2f", "%2e%2e/", "..%2f", "%2e%2e%5c")):
        raise APIError(400, "key contains encoded path traversal sequence")
    if key != key.strip(" "):
        raise APIError(400, "key must not begin or end with a space")


# ---------------------------------------------------------------- the HTTP API


class Request:
    def __init__(self, method, target, headers, body, body_size, body_too_large, connection):
        self.method = method
        self.raw_path, _, self.raw_query = split_target(target)
        self.path = unquote(self.raw_path, errors="replace")
        self.query = parse_qs(self.raw_query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.body_size = body_size
        self.body_too_large = body_too_large
        self.connection = connection

    def has(self, name):
        return name in self.query

    def param(self, name):
        values = self.query.get(name)
        return values[0] if values else ""

    def token(self):
        """?token, else X-Consul-Token, else Authorization: Bearer (agent/http.go parseTokenInternal)."""
        token = self.param("token")
        if token:
            return token
        token = self.headers.get("X-Consul-Token", "")
        if token:
            return token
        parts = self.headers.get("Authorization", "").split(" ")
        if len(parts) > 1 and parts[0].lower() == "bearer":
            return " ".join(parts[1:]).strip().split(" ")[0].strip()
        return ""


class Response:
    def __init__(self, status=200, body=b"", content_type=None):
        self.status = status
        self.body = body
        self.headers = []
        if content_type:
            self.headers.append(("Content-Type", content_type))


def text_response(status, message):
    """What Consul's wrap() writes for an error: the status and the message; Go sniffs text/plain."""
    body = message.encode()
    return Response(status, body, "text/plain; charset=utf-8" if body else None)


class QueryOptions:
    def __init__(self, datacenter, min_index, wait, consistency):
        self.datacenter, self.min_index, self.wait, self.consistency = datacenter, min_index, wait, consistency


def client_gone(connection):
    """True when the client closed its connection (a blocked query then ends without an answer)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class API:
    """The agents' HTTP endpoints. Each returns a Response or raises APIError."""

    # pattern, is-a-prefix, methods, handler name
    ROUTES = [
        ("/v1/kv/", True, ("GET", "PUT", "DELETE"), "kv"),
        ("/v1/health/service/", True, ("GET",), "health_service"),
        ("/v1/agent/service/register", False, ("PUT",), "register_service"),
        ("/v1/agent/service/deregister/", True, ("PUT",), "deregister_service"),
        ("/v1/agent/check/pass/", True, ("PUT",), "check_pass"),
        ("/v1/agent/check/warn/", True, ("PUT",), "check_warn"),
        ("/v1/agent/check/fail/", True, ("PUT",), "check_fail"),
        ("/v1/agent/check/update/", True, ("PUT",), "check_update"),
        ("/v1/agent/services", False, ("GET",), "agent_services"),
        ("/v1/agent/checks", False, ("GET",), "agent_checks"),
        ("/v1/agent/self", False, ("GET",), "agent_self"),
        ("/v1/status/leader", False, ("GET",), "status_leader"),
        ("/v1/status/peers", False, ("GET",), "status_peers"),
    ]

    def __init__(self, consul):
        self.consul = consul

    # -- the wrapper (agent/http.go: ServeMux, wrap())

    def serve(self, agent, req):
        clean = go_clean_path(req.raw_path)
        if clean != req.raw_path:  # ServeMux redirects to the clean path
            return redirect(req, clean)
        route = None
        for pattern, prefix, methods, name in self.ROUTES:
            if req.path == pattern or (prefix and req.path.startswith(pattern)):
                route = (pattern, methods, name)
                break
            if prefix and req.path + "/" == pattern:
                return redirect(req, req.raw_path + "/")
        if route is None:
            if req.path == "/":
                return text_response(200, "Consul Agent: UI disabled. (This is fake_consul.py, a fake agent "
                                          "for tests, not Consul.)")
            if "/v1/" in req.path:
                return text_response(404, "Invalid URL path: not a recognized HTTP API endpoint\n")
            return text_response(404, "Invalid URL path: if attempting to use the HTTP API, "
                                      "ensure the path starts with '/v1/'\n")
        pattern, methods, name = route
        policy = ("X-Consul-Default-Acl-Policy", "deny" if self.consul.acl_enabled else "allow")
        allow = ",".join(("OPTIONS",) + methods)
        if req.method == "OPTIONS":
            response = Response()
            response.headers += [policy, ("Allow", allow)]
            return response
        if req.method not in methods:
            response = text_response(405, f"method {req.method} not allowed")
        elif self._throttled(req):
            response = text_response(429, RATE_LIMITED)
        else:
            try:
                response = getattr(self, name)(agent, req)
            except APIError as error:
                response = text_response(error.status, error.message)
        if response.status == 405:
            response.headers.append(("Allow", allow))
        response.headers.append(policy)
        return response

    def _throttled(self, req):
        if req.path.startswith(UNTHROTTLED_PREFIXES):
            return False
        with self.consul.lock:
            if self.consul.throttle > 0:
                self.consul.throttle -= 1
                return True
        return False

    def json(self, req, value, status=200):
        return Response(status, go_json(value, pretty=req.has("pretty")), "application/json")

    def query_options(self, req):
        """parse(): ?stale/?consistent/?max_stale, then ?wait and ?index; errors are 400."""
        stale, consistent = req.has("stale"), req.has("consistent")
        max_stale = req.param("max_stale")
        if max_stale:
            try:
                if parse_duration(max_stale) > 0:
                    stale = True
            except ValueError:
                raise APIError(400, f"Invalid max_stale value {go_quote(max_stale)}") from None
        if stale and consistent:
            raise APIError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        wait = 0.0
        if req.param("wait"):
            try:
                wait = parse_duration(req.param("wait"))
            except ValueError:
                raise APIError(400, "Invalid wait time") from None
        min_index = 0
        if req.param("index"):
            try:
                min_index = parse_uint(req.param("index"))
            except ValueError:
                raise APIError(400, "Invalid index") from None
        consistency = "consistent" if consistent else "stale" if stale else "leader"
        return QueryOptions(req.param("dc"), min_index, wait, consistency)

    def rpc(self, req, options=None):
        """What happens when the agent forwards to the servers: the datacenter, then the token."""
        if options is not None and options.datacenter not in ("", DATACENTER):
            raise APIError(500, "No path to datacenter")
        with self.consul.lock:
            return self.consul.resolve_token(req.token())

    def denied(self, resource, level, name):
        """acl.PermissionDeniedByACL for the anonymous token (agent endpoints)."""
        if self.consul.legacy_agent_errors:
            return APIError(403, "Permission denied")
        return APIError(403, f"Permission denied: anonymous token lacks permission '{resource}:{level}' on "
                             f"\"{name}\". The anonymous token is used implicitly when a request does not "
                             "specify a token.")

    def block(self, agent, req, options, query):
        """blockingQuery: run `query` (-> (index, result)) until the index passes ?index or the wait ends."""
        consul = self.consul
        with consul.lock:
            index, result = query()
            index = max(index, 1)
            if options.min_index == 0 or index > options.min_index:
                return index, result
            timeout = options.wait
            if timeout > MAX_QUERY_TIME:
                timeout = MAX_QUERY_TIME
            elif timeout <= 0:
                timeout = DEFAULT_QUERY_TIME
            timeout += random.random() * timeout / JITTER_FRACTION
            deadline = time.monotonic() + timeout
            generation = consul.generation
            consul.blocked += 1
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return index, result
                    consul.lock.wait(min(remaining, 0.25))
                    if not agent.running or client_gone(req.connection):
                        raise Abort()
                    index, result = query()
                    index = max(index, 1)
                    if index > options.min_index or consul.generation != generation:
                        return index, result
            finally:
                consul.blocked -= 1

    @staticmethod
    def set_meta(response, index, consistency=None):
        response.headers += [("X-Consul-Index", str(max(index, 1))), ("X-Consul-Knownleader", "true"),
                             ("X-Consul-Lastcontact", "0")]
        if consistency:
            response.headers.append(("X-Consul-Effective-Consistency", consistency))

    @staticmethod
    def refuse_unsupported(req, *names):
        for name in names:
            if req.has(name):
                raise APIError(400, f"?{name} is not implemented by the fake Consul agent")

    # -- KV

    def kv(self, agent, req):
        options = self.query_options(req)
        key = req.path[len("/v1/kv/"):]
        if key:
            validate_key(key)
        if req.method == "GET":
            return self.kv_keys(agent, req, options, key) if req.has("keys") else self.kv_get(agent, req, options, key)
        if req.method == "PUT":
            return self.kv_put(req, options, key)
        return self.kv_delete(req, options, key)

    def kv_get(self, agent, req, options, key):
        recurse = req.has("recurse")
        if not recurse and key == "":
            raise APIError(400, "Missing key name")
        authz = self.rpc(req, options)
        consul = self.consul

        def query():
            if recurse:
                index, entries = consul.kv_list(key)
                return index, [] if authz == ANONYMOUS else [entry_json(e) for e in entries]
            index, entry = consul.kv_get(key)
            if authz == ANONYMOUS:
                raise APIError(403, "Permission denied")
            return index, [entry_json(entry)] if entry else []

        index, entries = self.block(agent, req, options, query)
        if not entries:
            response = Response(404)
        elif req.has("raw") and not recurse:
            value = base64.b64decode(entries[0]["Value"]) if entries[0]["Value"] is not None else b""
            response = Response(200, value, "text/plain")
            response.headers += [("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", "sandbox")]
        else:
            response = self.json(req, entries)
        self.set_meta(response, index)
        return response

    def kv_keys(self, agent, req, options, prefix):
        separator = ""
        if req.has("seperator"):  # Consul still reads the old misspelling
            separator = req.param("seperator")
        if req.has("separator"):
            separator = req.param("separator")
        authz = self.rpc(req, options)
        consul = self.consul

        def query():
            index, entries = consul.kv_list(prefix)
            if authz == ANONYMOUS:
                entries = []
            keys, seen = [], set()
            for entry in entries:
                if not separator:
                    keys.append(entry["Key"])
                    continue
                after = entry["Key"][len(prefix):]
                at = after.find(separator)
                if at < 0:
                    keys.append(entry["Key"])
                    continue
                key = entry["Key"][:len(prefix) + at + len(separator)]
                if key not in seen:
                    seen.add(key)
                    keys.append(key)
            return index, keys

        index, keys = self.block(agent, req, options, query)
        response = Response(404) if not keys and prefix else self.json(req, keys)
        self.set_meta(response, index)
        return response

    def conflicting(self, req, *flags):
        if sum(1 for flag in flags if req.has(flag)) > 1:
            raise APIError(400, f"Conflicting flags: {go_values_encode(req.query)}\n")

    @staticmethod
    def uint_param(req, name):
        try:
            return parse_uint(req.param(name))
        except ValueError as error:
            raise APIError(500, str(error)) from None

    def kv_put(self, req, options, key):
        if key == "":
            raise APIError(400, "Missing key name")
        self.conflicting(req, "cas", "acquire", "release")
        flags = self.uint_param(req, "flags") if req.has("flags") else 0
        cas = self.uint_param(req, "cas") if req.has("cas") else None
        acquire = req.param("acquire") if req.has("acquire") else None
        release = req.param("release") if req.has("release") else None
        if req.body_too_large or req.body_size > KV_MAX_VALUE_SIZE:
            raise APIError(413, f"Request body({req.body_size} bytes) too large, max size: {KV_MAX_VALUE_SIZE} "
                                f"bytes. See {KV_MAX_VALUE_SIZE_DOC}.")
        authz = self.rpc(req, options)
        if authz == ANONYMOUS:
            raise APIError(403, "Permission denied")
        with self.consul.lock:
            try:
                result = self.consul.kv_put(key, req.body or None, flags, cas, acquire, release)
            finally:
                self.consul.commit()
        plain_set = cas is None and acquire is None and release is None
        return self.json(req, True if plain_set else result)

    def kv_delete(self, req, options, key):
        self.conflicting(req, "recurse", "cas")
        recurse = req.has("recurse")
        if not recurse and key == "":
            raise APIError(400, "Missing key name")
        cas = self.uint_param(req, "cas") if req.has("cas") else None
        authz = self.rpc(req, options)
        if authz == ANONYMOUS:
            raise APIError(403, "Permission denied")
        with self.consul.lock:
            result = self.consul.kv_delete(key, recurse, cas)
            self.consul.commit()
        return self.json(req, result if cas is not None else True)

    # -- health

    def health_service(self, agent, req):
        options = self.query_options(req)
        name = req.path[len("/v1/health/service/"):]
        if not name:
            raise APIError(400, "Missing service name")
        self.refuse_unsupported(req, "filter", "node-meta")
        passing = False
        if req.has("passing"):
            try:
                passing = True if req.param("passing") == "" else parse_bool(req.param("passing"))
            except ValueError:
                raise APIError(400, "Invalid value for ?passing") from None
        tags = req.query.get("tag", [])
        authz = self.rpc(req, options)
        consul = self.consul

        def query():
            index, nodes = consul.health_service(name, tags)
            return index, [] if authz == ANONYMOUS else nodes

        index, nodes = self.block(agent, req, options, query)
        if passing:
            nodes = filter_non_passing(nodes)
        response = self.json(req, nodes)
        self.set_meta(response, index, options.consistency)
        return response

    # -- agent: services and checks

    def register_service(self, agent, req):
        try:
            if not req.body.strip():
                raise BodyError("EOF")
            try:
                definition = json.loads(req.body)
            except (ValueError, UnicodeDecodeError) as error:
                raise BodyError(str(error)) from None
            if not isinstance(definition, dict):
                raise BodyError(f"json: cannot unmarshal {json_kind(definition)} into Go value of type "
                                "structs.ServiceDefinition")
            service = LocalService(definition)
            raw_checks = []
            if field(definition, "Check") is not None:
                raw_checks.append(("ServiceDefinition.Check", field(definition, "Check")))
            checks_list = field(definition, "Checks")
            if checks_list is not None:
                if not isinstance(checks_list, list):
                    raise type_error(checks_list, "ServiceDefinition.Checks", "structs.CheckTypes")
                raw_checks += [("ServiceDefinition.Checks", c) for c in checks_list]
            checks = [c for c in (parse_check(obj, where) for where, obj in raw_checks) if c is not None]
        except BodyError as error:
            raise APIError(400, f"Request decode failed: {error}") from None
        if not service.name:
            raise APIError(400, "Missing service name")
        if service.address in ("0.0.0.0", "::", "[::]"):
            raise APIError(400, "Invalid service address")
        authz = self.rpc(req)
        if service.weights["Passing"] < 1:
            raise APIError(400, "Invalid Weights: Passing must be greater than 0")
        if service.weights["Warning"] < 0:
            raise APIError(400, "Invalid Weights: Warning must be greater or equal than 0")
        if service.weights["Passing"] > 65535 or service.weights["Warning"] > 65535:
            raise APIError(400, "Invalid Weights: DNS Weight must be between 0 and 65535")
        for check in checks:
            validate_check(check)
        for check in checks:
            if check["Status"] and check["Status"] not in ("passing", "warning", "critical"):
                raise APIError(400, "Status for checks must 'passing', 'warning', 'critical'")
        if authz == ANONYMOUS:
            raise self.denied("service", "write", service.name)
        value = req.param("replace-existing-checks")
        replace = req.has("replace-existing-checks") and value in ("", "true")
        with self.consul.lock:
            self.consul.register_service(agent, service, checks, replace)
        return Response(200)

    def deregister_service(self, agent, req):
        service_id = req.path[len("/v1/agent/service/deregister/"):]
        authz = self.rpc(req)
        with self.consul.lock:
            service = agent.services.get(service_id)
            if service is None:
                if self.consul.legacy_agent_errors:
                    return Response(200)  # before 1.11: a warning in the agent's log, nothing else
                raise APIError(404, f"Unknown service ID {go_quote(service_id)}. Ensure that the service ID is "
                                    "passed, not the service name.")
            if authz == ANONYMOUS:
                raise self.denied("service", "write", service.name)
            self.consul.deregister_service(agent, service_id)
        return Response(200)

    def check_pass(self, agent, req):
        return self.ttl_update(agent, req, "/v1/agent/check/pass/", "passing", req.param("note"))

    def check_warn(self, agent, req):
        return self.ttl_update(agent, req, "/v1/agent/check/warn/", "warning", req.param("note"))

    def check_fail(self, agent, req):
        return self.ttl_update(agent, req, "/v1/agent/check/fail/", "critical", req.param("note"))

    def check_update(self, agent, req):
        try:
            if not req.body.strip():
                raise BodyError("EOF")
            update = json.loads(req.body)
            if not isinstance(update, dict):
                raise BodyError(f"json: cannot unmarshal {json_kind(update)} into Go value of type agent.checkUpdate")
            status = get_str(update, "Status", "checkUpdate")
            output = get_str(update, "Output", "checkUpdate")
        except (BodyError, ValueError, UnicodeDecodeError) as error:
            raise APIError(400, f"Request decode failed: {error}") from None
        if status not in ("passing", "warning", "critical"):
            raise APIError(400, f"Invalid check status: '{status}'")
        return self.ttl_update(agent, req, "/v1/agent/check/update/", status, output)

    def ttl_update(self, agent, req, prefix, status, output):
        check_id = req.path[len(prefix):]
        authz = self.rpc(req)
        with self.consul.lock:
            check = agent.checks.get(check_id)
            if check is None and not self.consul.legacy_agent_errors:
                raise APIError(404, f"Unknown check ID {go_quote(check_id)}. Ensure that the check ID is passed, "
                                    "not the check name.")
            if check is not None and authz == ANONYMOUS:
                raise self.denied("service", "write", check.service_name)
            if check is None or check.ttl is None:
                raise APIError(500, f"CheckID {go_quote(check_id)} does not have associated TTL")
            self.consul.set_ttl_status(agent, check, status, output)
        return Response(200)

    def agent_services(self, agent, req):
        self.refuse_unsupported(req, "filter")
        authz = self.rpc(req)
        with self.consul.lock:
            services = {} if authz == ANONYMOUS else {
                sid: s.agent_view() for sid, s in sorted(agent.services.items())}
        return self.json(req, services)

    def agent_checks(self, agent, req):
        self.refuse_unsupported(req, "filter")
        authz = self.rpc(req)
        with self.consul.lock:
            checks = {} if authz == ANONYMOUS else {
                cid: c.agent_view(agent.node) for cid, c in sorted(agent.checks.items())}
        return self.json(req, checks)

    def agent_self(self, agent, req):
        authz = self.rpc(req)
        if authz == ANONYMOUS:
            raise self.denied("agent", "read", agent.node)
        version = LEGACY_VERSION if self.consul.legacy_agent_errors else VERSION
        return self.json(req, {
            "Config": {"Datacenter": DATACENTER, "PrimaryDatacenter": DATACENTER, "NodeName": agent.node,
                       "NodeID": agent.node_id, "Revision": "fake", "Server": False, "Version": version,
                       "BuildDate": "1970-01-01T00:00:00Z"},
            "DebugConfig": {"FakeConsul": True, "TimeScale": self.consul.time_scale},
            "Coord": None,
            "Member": {"Name": agent.node, "Addr": agent.host, "Port": 8301,
                       "Tags": {"dc": DATACENTER, "role": "node", "build": f"{version}:fake"}, "Status": 1},
            "Stats": {},
            "Meta": {},
        })

    def status_leader(self, agent, req):
        return self.json(req, LEADER_ADDRESS)

    def status_peers(self, agent, req):
        return self.json(req, [LEADER_ADDRESS])


def redirect(req, path):
    """http.Redirect with 301, as ServeMux answers a path that is not clean."""
    location = path + (f"?{req.raw_query}" if req.raw_query else "")
    if req.method in ("GET", "HEAD"):
        response = Response(301, f'<a href="{location}">Moved Permanently</a>.\n\n'.encode(),
                            "text/html; charset=utf-8")
    else:
        response = Response(301)
    response.headers.append(("Location", location))
    return response


def accepts_gzip(header):
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


# ---------------------------------------------------------------- HTTP servers


class AgentHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    agent = None
    api = None


# A rejected body up to this size is read and dropped before the answer; a larger one closes the connection.
DRAIN_LIMIT = 16 * 1024 * 1024


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm holds the body back until
    # the client's delayed ACK of the headers (40 ms), as no Go server would.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def read_body(self, limit):
        """(body, size, too_large). Chunked bodies are decoded; a too-large body is left unread."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(1024)
                chunk_size = int(line.split(b";")[0].strip() or b"0", 16)
                if chunk_size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    break
                size += chunk_size
                if size > limit:
                    self.close_connection = True
                    return b"", size, True
                chunks.append(self.rfile.read(chunk_size))
                self.rfile.readline(8)
            return b"".join(chunks), size, False
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            if length <= DRAIN_LIMIT:
                # Read and drop it, as Go's server does for a body it rejects, so that the client can finish sending
                # before the answer (closing at once would break its pipe mid-body).
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 65536))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            else:
                self.close_connection = True
            return b"", length, True
        return self.rfile.read(length) if length else b"", length, False

    def send(self, response):
        body = response.body
        headers = list(response.headers)
        headers.append(("Vary", "Accept-Encoding"))
        if len(body) >= GZIP_MIN_SIZE and accepts_gzip(self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()


class AgentRequestHandler(QuietHandler):
    def setup(self):
        super().setup()
        with self.server.agent.connections_lock:
            self.server.agent.connections.add(self.connection)

    def finish(self):
        with self.server.agent.connections_lock:
            self.server.agent.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle_request(self):
        agent, api = self.server.agent, self.server.api
        started = time.monotonic()
        status = "-"
        try:
            path = split_target(self.path)[0]
            limit = KV_MAX_VALUE_SIZE if path.startswith("/v1/kv/") and self.command == "PUT" else OTHER_BODY_LIMIT
            try:
                body, size, too_large = self.read_body(limit)
            except ValueError:
                self.close_connection = True
                self.send(text_response(400, "Bad Request"))
                status = 400
                return
            if too_large and limit == OTHER_BODY_LIMIT:
                self.send(text_response(413, "Request body too large"))
                status = 413
                return
            req = Request(self.command, self.path, self.headers, body, size, too_large, self.connection)
            try:
                response = api.serve(agent, req)
            except Abort:
                self.close_connection = True
                status = "aborted"
                return
            except Exception as error:  # a bug here: answer as Consul answers unexpected errors
                log("".join(traceback.format_exception(error)).rstrip())
                response = text_response(500, f"fake Consul internal error: {error}")
            status = response.status
            self.send(response)
        except (ConnectionError, OSError):
            self.close_connection = True
            status = "connection lost"
        finally:
            log(f"[{agent.address}] {self.command} {loggable_target(self.path)} {status} "
                f"({time.monotonic() - started:.3f}s)")

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_request


def split_target(target):
    """(path, "?", query) of a request target; absolute-form targets lose their scheme and host."""
    if target.startswith(("http://", "https://")):
        split = urlsplit(target)
        return split.path or "/", "?", split.query
    path, mark, query = target.partition("?")
    return path, mark, query.partition("#")[0]


def loggable_target(target):
    """The path with the query's parameter names but none of their values (?token=... is never shown)."""
    path, _, query = split_target(target)
    names = []
    for part in query.split("&"):
        name = unquote(part.partition("=")[0])
        if name and name not in names:
            names.append(name)
    return path + ("?" + "&".join(names) if names else "")


class ControlHandler(QuietHandler):
    """The test-control API."""

    def handle_request(self):
        consul, api = self.server.consul, self.server.api
        started = time.monotonic()
        self.read_body(OTHER_BODY_LIMIT)
        raw_path, _, raw_query = split_target(self.path)
        query = parse_qs(raw_query, keep_blank_values=True)
        path = raw_path.rstrip("/")
        try:
            response = self.route(consul, api, path, query)
        except APIError as error:
            response = text_response(error.status, error.message + "\n")
        try:
            self.send(response)
        except OSError:
            self.close_connection = True
        log(f"[control] {self.command} {loggable_target(self.path)} {response.status} "
            f"({time.monotonic() - started:.3f}s)")

    def route(self, consul, api, path, query):
        def param(name):
            values = query.get(name)
            if not values:
                raise APIError(400, f"missing ?{name}")
            return values[0]

        def number(name):
            try:
                return int(param(name))
            except ValueError:
                raise APIError(400, f"?{name} must be a number") from None

        if self.command == "GET" and path == "/state":
            with consul.lock:
                return json_answer(consul.state())
        if self.command != "POST":
            raise APIError(405, "the controls are GET /state and POST /index/backwards, /throttle, "
                                "/agents/<port>/stop|start, /legacy-agent-errors")
        if path == "/index/backwards":
            by = number("by")
            if by < 1:
                raise APIError(400, "?by must be at least 1")
            with consul.lock:
                before = consul.index
                after = consul.index_backwards(by)
            log(f"[control] index went back from {before} to {after}")
            return json_answer({"index": after, "before": before})
        if path == "/throttle":
            count = number("count")
            with consul.lock:
                consul.throttle = max(0, count)
            return json_answer({"throttle": consul.throttle})
        if path == "/legacy-agent-errors":
            try:
                enable = parse_bool(param("enable"))
            except ValueError:
                raise APIError(400, "?enable must be true or false") from None
            with consul.lock:
                consul.legacy_agent_errors = enable
            return json_answer({"legacy_agent_errors": enable})
        match = re.fullmatch(r"/agents/(\d+)/(stop|start)", path)
        if match:
            agent = next((a for a in consul.agents if a.port == int(match.group(1))), None)
            if agent is None:
                raise APIError(404, f"no agent on port {match.group(1)}")
            if match.group(2) == "stop" and agent.running:
                consul.stop_agent(agent)
            elif match.group(2) == "start" and not agent.running:
                try:
                    consul.start_agent(agent, api)
                except OSError as error:
                    raise APIError(409, f"cannot listen on {agent.address}: {error}") from None
            return json_answer({"address": agent.address, "node": agent.node, "running": agent.running})
        raise APIError(404, f"no control {self.command} {path}")

    do_GET = do_POST = do_PUT = do_DELETE = handle_request


def json_answer(value):
    return Response(200, json.dumps(value, indent=2).encode() + b"\n", "application/json")


# ---------------------------------------------------------------- main


def host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A fake Consul agent for tests (not Consul). See the file's header.")
    parser.add_argument("--agent", action="append", type=host_port, required=True, metavar="HOST:PORT")
    parser.add_argument("--control", type=host_port, metavar="HOST:PORT")
    parser.add_argument("--data-dir")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--acl-token", action="append", default=[])
    parser.add_argument("--acl-token-file")
    parser.add_argument("--legacy-agent-errors", action="store_true")
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    tokens = list(args.acl_token)
    if args.acl_token_file:
        with open(args.acl_token_file, encoding="utf-8") as source:
            tokens += [line.strip() for line in source if line.strip()]

    consul = Consul(args.time_scale, args.data_dir, tokens, args.legacy_agent_errors)
    api = API(consul)
    consul.agents = [Agent(host, port) for host, port in args.agent]
    control = None
    try:
        if args.control:
            control = ThreadingHTTPServer(args.control, ControlHandler)
            control.daemon_threads = True
            control.consul, control.api = consul, api
            threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        for agent in consul.agents:  # every port first: once one agent answers, all of them accept
            agent.bind(api)
        for agent in consul.agents:
            consul.start_agent(agent, api)
    except OSError as error:
        log(f"cannot listen: {error}")
        return 1

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    ready = {"agents": [a.address for a in consul.agents],
             "control": f"{control.server_address[0]}:{control.server_address[1]}" if control else None}
    print("READY " + json.dumps(ready), flush=True)
    log(f"fake Consul (not Consul): datacenter {DATACENTER}, agents {', '.join(ready['agents'])}, control "
        f"{ready['control']}, time scale {args.time_scale}, ACLs {'on' if consul.acl_enabled else 'off'}, "
        f"data dir {args.data_dir or 'none'}")
    while not stopping.wait(TICK):
        consul.tick()
    log("stopping")
    for agent in consul.agents:
        with consul.lock:
            agent.running = False
            consul.commit(wake=True)
        agent.close()
    if control is not None:
        control.shutdown()
        control.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
