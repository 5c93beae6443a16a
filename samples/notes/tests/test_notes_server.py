"""The real server process: HTTP round trips, graceful shutdown on SIGTERM with a request in flight."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notes_support import SRC, start


@pytest.fixture
def server(request):
    environ = getattr(request, "param", {})
    running = start(environ)
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


def test_round_trip_over_http(server):
    status, note = server.json("POST", "/notes", {"text": "über HTTP"})
    assert status == 201 and note["text"] == "über HTTP"
    status, data = server.json("GET", "/notes")
    assert status == 200 and data["notes"][0]["id"] == note["id"]
    assert server.json("GET", "/healthz")[0] == 200
    assert server.json("GET", "/version") == (
        200,
        {"version": Path(SRC / "notes" / "VERSION").read_text().strip()},
    )
    status, body, _headers = server.request("GET", "/metrics")
    assert status == 200
    text = body.decode()
    assert 'notes_http_requests_total{method="POST",route="/notes",code="201"} 1' in text
    assert "notes_stored 1" in text
    # too large: refused before the body is read; every response closes its connection (HTTP/1.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /notes HTTP/1.1\r\nHost: notes\r\nContent-Length: 70000\r\n\r\n")
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 413 ")


def test_sigterm_finishes_the_request_in_flight(server):
    """A request whose body is still arriving when SIGTERM comes is answered; then the process exits 0."""
    body = json.dumps({"text": "in flight"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /notes HTTP/1.1\r\nHost: notes\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:5]
        )
        time.sleep(0.5)  # the handler thread is now reading the body
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # the listener is closed: a new connection is refused
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        assert server.proc.poll() is None  # still waiting for the request in flight
        sock.sendall(body[5:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 201 "), answer
    assert b'"text": "in flight"' in answer
    assert server.proc.wait(timeout=30) == 0
    log = server.log()
    assert "SIGTERM: shutting down after the requests in flight" in log and "stopped" in log


@pytest.mark.parametrize("server", [{"NOTES_SHUTDOWN_DELAY": "1.5"}], indirect=True)
def test_shutdown_delay_fails_healthz_but_keeps_serving(server):
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    status, health = server.json("GET", "/healthz")
    assert status == 503 and health["status"] == "shutting down"
    assert server.json("GET", "/notes")[0] == 200
    assert server.proc.wait(timeout=30) == 0


def test_bad_configuration_exits_2_naming_the_variable():
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), "LISTEN": "nowhere"}
    proc = subprocess.run(
        [sys.executable, "-m", "notes"], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "notes-server: LISTEN 'nowhere' is not host:port (for example 0.0.0.0:8000 or [::]:8000)"
    )
