#!/usr/bin/env python3
"""cen_receiver.py — a CEN-style alert receiver for tests, benchmarks and the demo.

Accepts POSTed batches (a JSON array of alerts), validates every alert against
docs/alert.schema.json (a small interpreter for the subset of JSON Schema that
file uses: no third-party package), deduplicates by alert_id, and stores:
  <store>/alerts.jsonl    each unique alert once, in arrival order
  <store>/requests.jsonl  one line per request: times, action, status, counts,
                          headers (the Authorization value is never written)
It can be told to fail, request by request, with --plan (comma-separated, one
action per request, then "ok" forever):
  ok            validate, store, 201
  500 | 503     answer that status (nothing stored)
  429:S         429 with "Retry-After: S" (seconds); 429d:S uses an HTTP date
  hang:S        store, then sleep S seconds before answering (client times out)
  reset         store, then reset the connection in the middle of the response
  close         read the request and close the connection without answering
  400           reject the batch (nothing stored)
  delay:S       like ok, after sleeping S seconds
"Refuse connections" is simply: do not start it (or stop it).

Standard library only. Binds 127.0.0.1 unless --bind says otherwise (by default port 0) and writes the
port to --port-file once listening. HTTPS with --tls-cert/--tls-key, client
certificates required with --client-ca. Bearer token checked with --token-file.
"""
import argparse
import email.utils
import http.server
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time

# ---------------------------------------------------------------- schema


def where(w):
    """Paths are built lazily as (parent, key) chains: formatted only on error."""
    parts = []
    while w is not None:
        w, k = w
        parts.append(f"[{k}]" if isinstance(k, int) else f".{k}")
    return "".join(reversed(parts)) or "$"


_TYPES = {
    "object": ("type({v}) is dict", "an object"),
    "array": ("type({v}) is list", "an array"),
    "string": ("type({v}) is str", "a string"),
    "integer": ("type({v}) is int", "an integer"),
    "number": ("(type({v}) is int or type({v}) is float)", "a number"),
    "boolean": ("type({v}) is bool", "true or false"),
}
_MISSING = object()


def compile_schema(schema):
    """Compile a JSON Schema (the subset docs/alert.schema.json uses: type,
    required, properties, items, enum, pattern, minLength, minimum, maximum,
    minItems, maxItems) into one generated Python function
    validate(value, where, errors) — fast enough for benchmark rates. Error
    paths are only formatted when an error is found."""
    ns = {"_M": _MISSING, "where": where}
    lines = ["def validate(v0, w, E):"]
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(value):
        name = fresh("K")
        ns[name] = value
        return name

    def esc(text):
        return text.replace("{", "{{").replace("}", "}}")

    def err(ind, path, msg):
        msg = esc(msg)
        lines.append(" " * ind + f"E.append(where(w) + f{(path + ': ' + msg)!r})")

    def gen(s, v, path, ind, spath):
        t = s.get("type")
        if t is not None and t not in _TYPES:
            raise ValueError(f"{spath}: unsupported type {t}")
        pad = " " * ind
        if t is not None:
            test, tname = _TYPES[t]
            lines.append(pad + f"if not {test.format(v=v)}:")
            err(ind + 4, path, f"expected {tname}")
            lines.append(pad + "else:")
            ind += 4
            pad = " " * ind
        lines.append(pad + "pass")
        if "enum" in s:
            k = const(frozenset(s["enum"]))
            lines.append(pad + f"if not (type({v}) is str and {v} in {k}):")
            err(ind + 4, path, f"expected one of {sorted(s['enum'])}")
        if "pattern" in s:
            k = const(re.compile(s["pattern"]).search)
            lines.append(pad + f"if type({v}) is str and not {k}({v}):")
            err(ind + 4, path, f"does not match {s['pattern']}")
        if "minLength" in s:
            lines.append(pad + f"if type({v}) is str and len({v}) < {int(s['minLength'])}:")
            err(ind + 4, path, f"shorter than {s['minLength']}")
        num = f"(type({v}) is int or type({v}) is float)"
        if "minimum" in s:
            lines.append(pad + f"if {num} and {v} < {s['minimum']!r}:")
            err(ind + 4, path, f"below {s['minimum']}")
        if "maximum" in s:
            lines.append(pad + f"if {num} and {v} > {s['maximum']!r}:")
            err(ind + 4, path, f"above {s['maximum']}")
        if "minItems" in s:
            lines.append(pad + f"if type({v}) is list and len({v}) < {int(s['minItems'])}:")
            err(ind + 4, path, f"fewer than {s['minItems']} items")
        if "maxItems" in s:
            lines.append(pad + f"if type({v}) is list and len({v}) > {int(s['maxItems'])}:")
            err(ind + 4, path, f"more than {s['maxItems']} items")
        if "items" in s:
            i, x = fresh("i"), fresh("x")
            lines.append(pad + f"if type({v}) is list:")
            lines.append(pad + f"    for {i}, {x} in enumerate({v}):")
            gen(s["items"], x, path + "[{" + i + "}]", ind + 8, spath + "[]")
        if "required" in s or "properties" in s:
            lines.append(pad + f"if type({v}) is dict:")
            for k in s.get("required", ()):
                lines.append(pad + f"    if {k!r} not in {v}:")
                err(ind + 8, path + "." + esc(k), "required")
            for k, sub in s.get("properties", {}).items():
                x = fresh("x")
                lines.append(pad + f"    {x} = {v}.get({k!r}, _M)")
                lines.append(pad + f"    if {x} is not _M:")
                gen(sub, x, path + "." + esc(k), ind + 8, spath + "." + k)

    gen(schema, "v0", "", 4, "$")
    exec(compile("\n".join(lines) + "\n", "<alert.schema.json>", "exec"), ns)
    return ns["validate"]


# ---------------------------------------------------------------- state


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.plan = [a for a in (args.plan or "").split(",") if a]
        self.plan_lock = threading.Lock()
        self.seq = 0
        self.token = None
        if args.token_file:
            with open(args.token_file) as f:
                self.token = f.read().strip()
        with open(args.schema) as f:
            self.validate = compile_schema(json.load(f))
        self.validate_on = not args.no_validate
        self.non_nominal = args.non_nominal
        self.require_key = args.require_idempotency_key
        os.makedirs(args.store, exist_ok=True)
        self.alerts_path = os.path.join(args.store, "alerts.jsonl")
        self.seen = set()
        if os.path.exists(self.alerts_path):
            with open(self.alerts_path) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        self.seen.add(json.loads(line)["alert_id"])
        self.alerts = open(self.alerts_path, "a", buffering=1 << 20)
        self.log = open(os.path.join(args.store, "requests.jsonl"), "a", buffering=1 << 16)
        self.idem = {}
        self.encoder = json.JSONEncoder(separators=(",", ":"), check_circular=False)
        self.delay = args.delay

    def next_action(self):
        with self.plan_lock:
            self.seq += 1
            seq = self.seq
            act = self.plan.pop(0) if self.plan else "ok"
        return seq, act

    def store(self, alerts, key):
        """Deduplicate and append; returns (new, duplicates). Durable on return."""
        with self.lock:
            new = []
            for a in alerts:
                aid = a["alert_id"]
                if aid not in self.seen:
                    self.seen.add(aid)
                    new.append(a)
            if new:
                enc = self.encoder.encode
                self.alerts.write("".join(enc(a) + "\n" for a in new))
                self.alerts.flush()
            if key:
                self.idem[key] = len(alerts)
            return len(new), len(alerts) - len(new)

    def write_log(self, rec):
        line = json.dumps(rec, separators=(",", ":"), sort_keys=True) + "\n"
        with self.lock:
            self.log.write(line)
            self.log.flush()


PERSONAL = ("importer", "exporter", "declarant")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cen-receiver/1"

    def log_message(self, fmt, *args):  # quiet: requests.jsonl is the log
        pass

    def reply(self, status, obj, extra=None):
        self.t_reply = time.time()   # before the client can see any answer
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        return status

    def do_GET(self):
        st = self.server.state
        if self.path == "/health":
            with st.lock:
                n = len(st.seen)
            self.reply(200, {"ok": True, "unique_alerts": n})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        st = self.server.state
        t0 = time.time()
        self.t_reply = None
        seq, act = st.next_action()
        headers = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        rec = {"seq": seq, "t": round(t0, 6), "path": self.path, "action": act, "headers": headers,
               "idempotency_key": self.headers.get("Idempotency-Key")}
        try:
            length = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if length < 0:
            rec["status"] = self.reply(411, {"error": "Content-Length required"})
            self.close_connection = True
            st.write_log(rec)
            return
        body = self.rfile.read(length)
        rec["bytes"] = len(body)
        name, _, argv = act.partition(":")
        status = None
        if name == "close":
            self.close_connection = True
            rec["status"] = 0
            rec["t_reply"] = round(time.time(), 6)
            st.write_log(rec)
            return
        if name in ("500", "503"):
            status = self.reply(int(name), {"error": "injected failure"})
        elif name in ("429", "429d"):
            secs = float(argv or "1")
            ra = str(int(secs)) if name == "429" else email.utils.formatdate(time.time() + secs, usegmt=True)
            rec["retry_after"] = ra
            status = self.reply(429, {"error": "slow down"}, {"Retry-After": ra})
        elif name == "400":
            status = self.reply(400, {"error": "injected rejection"})
        elif name == "delay":
            time.sleep(float(argv or "0.1"))
        if status is None:
            status = self.accept(body, rec, act)
            if status is None:
                return
        rec["status"] = status
        if self.t_reply is not None:
            rec["t_reply"] = round(self.t_reply, 6)
        rec["t_end"] = round(time.time(), 6)
        st.write_log(rec)

    def accept(self, body, rec, act):
        st = self.server.state
        if st.delay:
            time.sleep(st.delay)
        if st.token is not None:
            auth = self.headers.get("Authorization", "")
            if auth != "Bearer " + st.token:
                return self.reply(401, {"error": "missing or wrong bearer token"},
                                  {"WWW-Authenticate": 'Bearer realm="cen"'})
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            return self.reply(415, {"error": "Content-Type must be application/json"})
        key = self.headers.get("Idempotency-Key")
        if st.require_key and not key:
            return self.reply(400, {"error": "Idempotency-Key header required"})
        try:
            batch = json.loads(body)
        except ValueError as e:
            return self.reply(400, {"error": f"not JSON: {e}"})
        if not isinstance(batch, list) or not batch:
            return self.reply(400, {"error": "expected a non-empty JSON array of alerts"})
        errors = []
        for i, a in enumerate(batch):
            if st.validate_on:
                st.validate(a, (None, i), errors)
            elif not isinstance(a, dict) or not isinstance(a.get("alert_id"), str):
                errors.append(f"[{i}]: not an alert")
            if st.non_nominal and isinstance(a, dict) and isinstance(a.get("declaration"), dict):
                for k in PERSONAL:
                    if k in a["declaration"]:
                        errors.append(f"[{i}].declaration.{k}: nominal data refused by this endpoint")
            if len(errors) >= 20:
                break
        if errors:
            rec["errors"] = errors
            return self.reply(422 if st.non_nominal and any("nominal" in e for e in errors) else 400,
                              {"error": "schema validation failed", "details": errors})
        new, dup = st.store(batch, key)
        rec["n_alerts"], rec["new"], rec["dup"] = len(batch), new, dup
        name, _, argv = act.partition(":")
        if name == "hang":   # logged now: the client gives up (and we may be stopped) first
            rec["status"] = 0
            rec["t_end"] = round(time.time(), 6)
            st.write_log(rec)
            time.sleep(float(argv or "30"))
            self.reply(201, {"accepted": len(batch), "new": new, "duplicates": dup, "idempotency_key": key})
            return None
        if name == "reset":
            self.reset_mid_response()
            return -1
        return self.reply(201, {"accepted": len(batch), "new": new, "duplicates": dup,
                                "idempotency_key": key})

    def reset_mid_response(self):
        """Send half a response, then RST (SO_LINGER 0) the connection."""
        self.t_reply = time.time()
        try:
            self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"acc")
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.reset_conns.add(id(self.connection))
        except OSError:
            pass
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.reset_conns = set()

    def handle_error(self, request, client_address):
        pass  # failed TLS handshakes, resets: expected in fault tests

    def shutdown_request(self, request):
        if id(request) in self.reset_conns:   # close without FIN: linger 0 gives a RST
            self.reset_conns.discard(id(request))
            request.close()
            return
        super().shutdown_request(request)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True, help="directory for alerts.jsonl and requests.jsonl")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1",
                    help="address to listen on (tests: 127.0.0.1; the compose demo: 0.0.0.0 inside its network)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--schema", default=os.path.join(here, "..", "..", "docs", "alert.schema.json"))
    ap.add_argument("--plan", default="", help="comma-separated actions, one per request (see top)")
    ap.add_argument("--delay", type=float, default=0.0, help="sleep this long in every accepted request")
    ap.add_argument("--token-file", help="require 'Authorization: Bearer <contents>'")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA")
    ap.add_argument("--tls12", action="store_true",
                    help="TLS 1.2 at most (a refused client certificate then fails the handshake itself)")
    ap.add_argument("--non-nominal", action="store_true", help="refuse alerts with importer/exporter/declarant")
    ap.add_argument("--require-idempotency-key", action="store_true")
    ap.add_argument("--no-validate", action="store_true", help="only check alert_id (benchmark baseline)")
    args = ap.parse_args()

    srv = Server((args.bind, args.port), Handler)
    srv.state = State(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args.port_file)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        with srv.state.lock:
            srv.state.alerts.close()
            srv.state.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
