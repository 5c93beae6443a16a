"""The HTTP interface as a plain function of the request: routes, validation, JSON, metrics."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from notes.metrics import CONTENT_TYPE, Metrics
from notes.store import MAX_TEXT, Store, StoreUnavailable

MAX_BODY = 64 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
NOTE_PATH = re.compile(r"^/notes/(\d{1,18})$")
ROUTES = {"/notes": ("GET", "POST"), "/healthz": ("GET",), "/version": ("GET",), "/metrics": ("GET",)}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, data, **headers: str) -> Response:
    body = (json.dumps(data, sort_keys=True) + "\n").encode()
    return Response(status, body, {"Content-Type": "application/json", **headers})


def error(status: int, message: str, **headers: str) -> Response:
    return json_response(status, {"error": message}, **headers)


def route_of(path: str) -> str:
    """The route label for metrics (bounded: unknown paths are 'other')."""
    if path in ROUTES:
        return path
    return "/notes/{id}" if NOTE_PATH.match(path) else "other"


class App:
    def __init__(self, store: Store, version: str, metrics: Metrics | None = None):
        self.store = store
        self.version = version
        self.metrics = metrics or Metrics()
        self.draining = False  # set on SIGTERM: /healthz answers 503 so a load balancer stops sending

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        match = NOTE_PATH.match(path)
        allowed = ROUTES.get(path) or (("GET",) if match else None)
        if allowed is None:
            return error(404, f"no such path: {path}")
        if method not in allowed:
            return error(405, f"{method} is not allowed on {path}", Allow=", ".join(allowed))
        try:
            if path == "/healthz":
                return self.healthz()
            if path == "/version":
                return json_response(200, {"version": self.version})
            if path == "/metrics":
                return self.render_metrics()
            if match:
                note = self.store.get(int(match.group(1)))
                return json_response(200, note) if note else error(404, f"no note {match.group(1)}")
            if method == "POST":
                return self.add(headers, body)
            return self.list(parse_qs(url.query))
        except StoreUnavailable as exc:
            return error(503, str(exc), **{"Retry-After": "1"})

    def healthz(self) -> Response:
        if self.draining:
            return json_response(503, {"status": "shutting down", "version": self.version})
        try:
            state = self.store.health()
        except StoreUnavailable as exc:
            return json_response(
                503, {"status": "unavailable", "database": str(exc), "version": self.version}
            )
        return json_response(200, {"status": "ok", "database": "ok", "version": self.version, **state})

    def render_metrics(self) -> Response:
        try:
            notes = self.store.count()
        except StoreUnavailable:
            notes = None
        text = self.metrics.render(self.version, notes)
        return Response(200, text.encode(), {"Content-Type": CONTENT_TYPE})

    def add(self, headers: dict[str, str], body: bytes) -> Response:
        kind = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return error(400, "the body is not UTF-8")
        if kind == "application/json":
            try:
                data = json.loads(text)
            except ValueError:
                return error(400, 'the body is not JSON (send {"text": "..."})')
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                return error(400, 'the body must be a JSON object with a string "text"')
            text = data["text"]
        elif kind != "text/plain":
            return error(415, f"content type {kind} is not accepted (application/json or text/plain)")
        if not text.strip():
            return error(400, "text is empty")
        if len(text) > MAX_TEXT:
            return error(400, f"text is longer than {MAX_TEXT} characters")
        note = self.store.add(text)
        return json_response(201, note, Location=f"/notes/{note['id']}")

    def list(self, query: dict[str, list[str]]) -> Response:
        raw = query.get("limit", [str(DEFAULT_LIMIT)])[-1]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            return error(400, f"limit {raw!r} is not a number from 1 to {MAX_LIMIT}")
        notes = self.store.list(int(raw))
        return json_response(200, {"notes": notes, "count": len(notes)})
