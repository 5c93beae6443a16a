"""Helpers of the notes tests: run the real server process. A module of its own (not conftest) so that
test files import it by a unique name."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


class Running:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            connection.close()

    def json(self, method: str, path: str, data=None):
        body = json.dumps(data).encode() if data is not None else None
        status, raw, _ = self.request(method, path, body, {"Content-Type": "application/json"})
        return status, json.loads(raw)

    def log(self) -> str:
        return self.proc.stderr.read().decode() if self.proc.stderr else ""


def start(environ: dict[str, str]) -> Running:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(SRC),
        "LISTEN": "127.0.0.1:0",
        "DATABASE_URL": "memory:",
        **environ,
    }
    proc = subprocess.Popen([sys.executable, "-m", "notes"], env=env, stderr=subprocess.PIPE)
    line = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(rb"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return Running(proc, int(match.group(1)))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the server did not start: {line!r}")
