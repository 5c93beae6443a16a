"""tools/loadgen.py against a local http.server: counts, versions, failures, bounds, stop file, CLI."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import loadgen
import pytest


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: Service

    def do_GET(self):
        self.server.seen.append(("GET", self.path))
        if self.path == "/version":
            self.answer(self.server.version_status, {"version": self.server.version})
        elif self.path.startswith("/notes"):
            self.answer(200, {"notes": [], "count": 0})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append(("POST", self.path))
        self.answer(201, {"id": 1, "text": json.loads(body)["text"]})

    def answer(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class Service(ThreadingHTTPServer):
    daemon_threads = True
    version = "1.0.0"
    version_status = 200

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@contextmanager
def service() -> Iterator[Service]:
    server = Service()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run(**options) -> dict:
    return loadgen.LoadGenerator(loadgen.Options(**options)).run()


def test_counts_the_mix_and_the_versions():
    with service() as server:
        result = run(url=server.url, workers=3, rate=200, max_requests=60, duration=30, post_every=6)
    assert result["total"] == 60 and result["ok"] == 60 and result["failed"] == 0 and result["errors"] == []
    assert result["stopped_by"] == "max_requests"
    assert result["requests"] == {"GET /notes?limit=5": 30, "GET /version": 20, "POST /notes": 10}
    assert result["versions"] == {"1.0.0": 20}
    assert result["status"] == {"200": 50, "201": 10}
    assert len(server.seen) == 60
    latency = result["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]


def test_a_version_switch_mid_run_shows_both_versions():
    with service() as server:
        timer = threading.Timer(0.5, lambda: setattr(server, "version", "1.1.0"))
        timer.start()
        result = run(url=server.url, workers=2, rate=60, duration=1.2)
        timer.join()
    assert set(result["versions"]) == {"1.0.0", "1.1.0"}
    assert sum(result["versions"].values()) == result["requests"]["GET /version"]


def test_the_rate_is_a_bound():
    with service() as server:
        started = time.monotonic()
        result = run(url=server.url, workers=8, rate=20, duration=1.0)
        elapsed = time.monotonic() - started
    assert result["stopped_by"] == "duration"
    assert result["total"] <= 20 * elapsed + 1  # evenly spaced slots, the first one at once
    assert result["total"] >= 15


def test_non_2xx_answers_are_failures_with_the_first_errors_kept():
    with service() as server:
        server.version_status = 503
        result = run(url=server.url, workers=2, rate=500, max_requests=30, keep_errors=3)
    assert result["failed"] == 10 and result["ok"] == 20
    assert len(result["errors"]) == 3
    assert result["errors"][0]["request"] == "GET /version"
    assert result["errors"][0]["error"].startswith("HTTP 503: ")
    assert result["versions"] == {}  # a failed /version answer names no version


def test_connection_errors_are_failures():
    with service() as server:
        url = server.url
    result = run(url=url, workers=2, rate=500, max_requests=5, timeout=1)
    assert result["failed"] == 5 and result["status"] == {"error": 5}
    assert "ConnectionRefusedError" in result["errors"][0]["error"]


def test_the_stop_file_ends_the_run(tmp_path):
    stop = tmp_path / "stop"
    with service() as server:
        threading.Timer(0.4, stop.touch).start()
        started = time.monotonic()
        result = run(url=server.url, workers=2, rate=50, duration=30, stop_file=str(stop))
    assert result["stopped_by"] == "stop_file"
    assert time.monotonic() - started < 3
    assert result["total"] > 0 and result["failed"] == 0


def test_cli_writes_the_json_file(tmp_path):
    output = tmp_path / "load.json"
    with service() as server:
        code = loadgen.main([server.url, "--max-requests", "9", "--rate", "100", "--output", str(output)])
    assert code == 0
    data = json.loads(output.read_text())
    assert data["total"] == 9 and data["failed"] == 0 and data["url"] == server.url
    assert not list(tmp_path.glob("*.tmp-*"))


def test_cli_fail_on_error_and_bad_input(tmp_path, capsys):
    with service() as server:
        server.version_status = 500
        assert (
            loadgen.main(
                [server.url, "--max-requests", "3", "--output", str(tmp_path / "o"), "--fail-on-error"]
            )
            == 1
        )
    assert loadgen.main(["ftp://x/", "--max-requests", "1"]) == 2
    assert "is not an http:// or https:// URL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        loadgen.main(["http://127.0.0.1/", "--duration", "0"])  # no bound at all
