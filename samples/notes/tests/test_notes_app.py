"""The HTTP handlers with the in-memory store: routes, validation, health, version, metrics."""

from __future__ import annotations

import json

from notes.app import MAX_LIMIT, route_of
from notes.store import MAX_TEXT


def call(app, method, target, body=b"", content_type="application/json"):
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
    response = app.handle(method, target, {"content-type": content_type}, body)
    data = json.loads(response.body) if response.headers.get("Content-Type") == "application/json" else None
    return response, data


def test_post_then_list_newest_first(app):
    first, note = call(app, "POST", "/notes", {"text": "first"})
    assert first.status == 201
    assert note["id"] == 1 and note["text"] == "first" and note["created_at"]
    assert first.headers["Location"] == "/notes/1"
    call(app, "POST", "/notes", b"second, as text/plain", content_type="text/plain; charset=utf-8")
    listed, data = call(app, "GET", "/notes")
    assert listed.status == 200
    assert [n["text"] for n in data["notes"]] == ["second, as text/plain", "first"]
    assert data["count"] == 2
    _, limited = call(app, "GET", "/notes?limit=1")
    assert [n["text"] for n in limited["notes"]] == ["second, as text/plain"]
    one, data = call(app, "GET", "/notes/1")
    assert one.status == 200 and data["text"] == "first"
    missing, data = call(app, "GET", "/notes/99")
    assert missing.status == 404 and data == {"error": "no note 99"}


def test_bad_notes_are_refused_with_a_reason(app, store):
    cases = [
        (b"{not json", "application/json", 400, "not JSON"),
        (json.dumps(["text"]).encode(), "application/json", 400, 'string "text"'),
        (json.dumps({"text": 5}).encode(), "application/json", 400, 'string "text"'),
        (json.dumps({"text": "  "}).encode(), "application/json", 400, "text is empty"),
        (json.dumps({"text": "x" * (MAX_TEXT + 1)}).encode(), "application/json", 400, "longer than"),
        (b"\xff\xfe", "text/plain", 400, "not UTF-8"),
        (b"a=b", "application/x-www-form-urlencoded", 415, "is not accepted"),
    ]
    for body, kind, status, reason in cases:
        response, data = call(app, "POST", "/notes", body, content_type=kind)
        assert response.status == status, (body, data)
        assert reason in data["error"]
    assert store.count() == 0
    for limit in ("0", "abc", str(MAX_LIMIT + 1), "-1"):
        response, data = call(app, "GET", f"/notes?limit={limit}")
        assert response.status == 400 and "limit" in data["error"]


def test_unknown_paths_and_methods(app):
    response, data = call(app, "GET", "/nope")
    assert response.status == 404 and data["error"] == "no such path: /nope"
    response, data = call(app, "DELETE", "/notes")
    assert response.status == 405 and response.headers["Allow"] == "GET, POST"
    response, _ = call(app, "POST", "/healthz")
    assert response.status == 405
    assert call(app, "GET", "/notes/")[0].status == 200  # trailing slash


def test_healthz_checks_the_database(app, store):
    response, data = call(app, "GET", "/healthz")
    assert response.status == 200
    assert data == {"status": "ok", "database": "ok", "version": "1.2.3", "schema": 2}
    store.available = False
    response, data = call(app, "GET", "/healthz")
    assert response.status == 503
    assert data["status"] == "unavailable" and "switched off" in data["database"]
    # the note endpoints answer 503 as well, with Retry-After
    response, data = call(app, "GET", "/notes")
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    store.available = True
    app.draining = True
    response, data = call(app, "GET", "/healthz")
    assert response.status == 503 and data["status"] == "shutting down"
    assert call(app, "GET", "/notes")[0].status == 200  # still serving while draining


def test_version(app):
    response, data = call(app, "GET", "/version")
    assert response.status == 200 and data == {"version": "1.2.3"}


def test_metrics_count_requests_and_notes(app, store):
    # the HTTP layer records requests (server.Handler); here the app's Metrics is fed the same way
    app.metrics.begin()
    app.metrics.observe("GET", "/notes", 200, 0.003)
    app.metrics.begin()
    app.metrics.observe("POST", "/notes", 201, 0.2)
    store.add("one")
    response, _ = call(app, "GET", "/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.body.decode()
    assert 'notes_build_info{version="1.2.3"} 1' in text
    assert "notes_stored 1" in text and "notes_database_up 1" in text
    assert 'notes_http_requests_total{method="POST",route="/notes",code="201"} 1' in text
    assert 'notes_http_request_duration_seconds_bucket{route="/notes",le="0.005"} 1' in text
    assert 'notes_http_request_duration_seconds_bucket{route="/notes",le="0.25"} 2' in text
    assert 'notes_http_request_duration_seconds_count{route="/notes"} 2' in text
    store.available = False
    text = call(app, "GET", "/metrics")[0].body.decode()
    assert "notes_database_up 0" in text and "notes_stored" not in text


def test_route_labels_are_bounded():
    assert route_of("/notes") == "/notes"
    assert route_of("/notes/42") == "/notes/{id}"
    assert route_of("/wp-admin/../etc") == "other"
