"""A tiny Prometheus API (the JSON of /api/v1/targets, /alerts and /query) and a runner for the module."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
MODULE = ROOT / "plugins" / "modules" / "prometheus_check.py"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def target(job, instance, health="up", last_error=""):
    return {
        "labels": {"job": job, "instance": instance},
        "scrapePool": job,
        "scrapeUrl": f"https://{instance}:9100/metrics",
        "health": health,
        "lastError": last_error,
        "lastScrape": "2026-01-01T00:00:00Z",
        "lastScrapeDuration": 0.01,
    }


def alert(name, state="firing", **labels):
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} test"},
        "state": state,
        "activeAt": "2026-01-01T00:00:00Z",
        "value": "0e+00",
    }


class FakePrometheus:
    """Answers like Prometheus. `targets` and `alerts` may be lists or callables of the request count."""

    def __init__(self):
        self.targets = []
        self.alerts = []
        self.queries = {}
        self.requests = []
        self.auth = None  # (user, password) the API requires
        self.raw = None  # (status, body) answered to every request instead

    def answer(self, path, query):
        count = len(self.requests)
        if path == "/api/v1/targets":
            targets = self.targets(count) if callable(self.targets) else self.targets
            return 200, {"status": "success", "data": {"activeTargets": targets, "droppedTargets": []}}
        if path == "/api/v1/alerts":
            alerts = self.alerts(count) if callable(self.alerts) else self.alerts
            return 200, {"status": "success", "data": {"alerts": alerts}}
        if path == "/api/v1/query":
            expr = query.get("query", [""])[0]
            if expr not in self.queries:
                return 400, {"status": "error", "errorType": "bad_data", "error": f"parse error in {expr!r}"}
            return 200, {"status": "success", "data": {"resultType": "vector", "result": self.queries[expr]}}
        return 404, {"status": "error", "error": "not found"}


@pytest.fixture
def prometheus():
    fake = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            fake.requests.append((url.path, self.headers.get("Authorization")))
            if fake.auth:
                token = base64.b64encode(":".join(fake.auth).encode()).decode()
                if self.headers.get("Authorization") != f"Basic {token}":
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(b"Unauthorized\n")
                    return
            if fake.raw:
                status, body = fake.raw
            else:
                status, data = fake.answer(url.path, parse_qs(url.query))
                body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def run_module(tmp_path):
    """Run the module file as Ansible does without a connection: a process with the arguments in a file."""

    def run(check_mode=False, **args):
        path = tmp_path / "args.json"
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check_mode}}))
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        proc = subprocess.run(
            [sys.executable, str(MODULE), str(path)], capture_output=True, text=True, env=env, timeout=120
        )
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr + proc.stdout
        return json.loads(proc.stdout)

    return run
