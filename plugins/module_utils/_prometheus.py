# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client of the Prometheus HTTP API and the health logic of prometheus_check.

`Client.get(path, params)` returns the `data` of an API answer or raises ApiError with a message a user
can act on. `evaluate()` turns the targets and alerts the API reports into what the module returns.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import urllib.error
import urllib.parse

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

LAST_ERROR_MAX = 300


class ApiError(Exception):
    pass


class Client:
    def __init__(self, url, username=None, password=None, ca_path=None, validate_certs=True, timeout=10):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json"}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.ca_path = ca_path
        self.validate_certs = validate_certs

    def get(self, path, params=None):
        url = f"{self.url}{path}"
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        try:
            with open_url(
                url,
                headers=self.headers,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
            ) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("error", detail)
            raise ApiError(f"{url}: HTTP {exc.code} {exc.reason}: {detail}".rstrip(": ")) from None
        except (urllib.error.URLError, OSError, UrlConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"cannot reach Prometheus at {url}: {reason}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise ApiError(f"{url}: the answer is not JSON (is this the Prometheus API?)") from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error") if isinstance(answer, dict) else None
            raise ApiError(f"{url}: {error or 'the answer is not a Prometheus API success'}")
        return answer.get("data")


def target_key(target):
    return f"{target['job']}/{target['instance']}"


def read_targets(client, jobs=()):
    """Active targets as dicts: job, instance, health, last_error, last_scrape, scrape_url."""
    data = client.get("/api/v1/targets", {"state": "active"}) or {}
    targets = []
    for raw in data.get("activeTargets") or []:
        labels = raw.get("labels") or {}
        job = labels.get("job") or raw.get("scrapePool") or ""
        if jobs and job not in jobs:
            continue
        targets.append(
            {
                "job": job,
                "instance": labels.get("instance", ""),
                "health": raw.get("health", "unknown"),
                "last_error": (raw.get("lastError") or "")[:LAST_ERROR_MAX],
                "last_scrape": raw.get("lastScrape", ""),
                "last_scrape_duration": raw.get("lastScrapeDuration"),
                "scrape_url": raw.get("scrapeUrl", ""),
                "labels": labels,
            }
        )
    return sorted(targets, key=target_key)


def read_alerts(client):
    data = client.get("/api/v1/alerts") or {}
    alerts = []
    for raw in data.get("alerts") or []:
        labels = raw.get("labels") or {}
        alerts.append(
            {
                "alertname": labels.get("alertname", ""),
                "state": raw.get("state", ""),
                "labels": labels,
                "annotations": raw.get("annotations") or {},
                "active_at": raw.get("activeAt", ""),
                "value": raw.get("value", ""),
            }
        )
    return sorted(alerts, key=lambda a: (a["alertname"], sorted(a["labels"].items())))


def read_figures(client, queries):
    """Instant queries by name -> {instance: {name: value}}; a series without instance counts as '_'."""
    figures = {}
    errors = {}
    for name, expr in queries.items():
        try:
            data = client.get("/api/v1/query", {"query": expr}) or {}
        except ApiError as exc:
            errors[name] = str(exc)
            continue
        if data.get("resultType") == "scalar":
            figures.setdefault("_", {})[name] = _number(data.get("result", [None, None])[1])
            continue
        for series in data.get("result") or []:
            instance = (series.get("metric") or {}).get("instance", "_")
            figures.setdefault(instance, {})[name] = _number((series.get("value") or [None, None])[1])
    return figures, errors


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    if not math.isfinite(value):  # NaN and infinities are not JSON
        return str(text)
    return int(value) if value.is_integer() else round(value, 4)


def matches(expected, target):
    """An expected target is 'instance' or 'job/instance'."""
    if "/" in expected:
        return target_key(target) == expected
    return target["instance"] == expected


def alert_matches(wanted, alert):
    return all(alert["labels"].get(key) == str(value) for key, value in wanted.items())


def evaluate(targets, alerts, expected=(), expect_alerts=(), fail_severities=()):
    """What the module reports: up and down targets, the expected ones missing, firing, awaited and failing
    alerts (firing with a severity of fail_severities, unless expect_alerts asks for them)."""
    up = [target_key(t) for t in targets if t["health"] == "up"]
    if expected:
        considered = [t for t in targets if any(matches(e, t) for e in expected)]
        missing = [e for e in expected if not any(matches(e, t) for t in targets)]
    else:
        considered, missing = targets, []
    down = [
        {k: t[k] for k in ("job", "instance", "health", "last_error", "scrape_url")}
        for t in considered
        if t["health"] != "up"
    ]
    firing = [a for a in alerts if a["state"] == "firing"]
    pending = [a for a in alerts if a["state"] == "pending"]
    awaited = [w for w in expect_alerts if not any(alert_matches(w, a) for a in firing)]
    expected_firing = [a for a in firing if any(alert_matches(w, a) for w in expect_alerts)]
    failing = [
        a for a in firing if a["labels"].get("severity") in fail_severities and a not in expected_firing
    ]
    return {
        "up": up,
        "down": down,
        "missing": missing,
        "alerts": firing,
        "pending_alerts": pending,
        "awaited_alerts": awaited,
        "failing_alerts": failing,
        "summary": {
            "targets": len(targets),
            "up": len(up),
            "down": len(down),
            "missing": len(missing),
            "firing": len(firing),
            "pending": len(pending),
        },
    }


def describe_problems(state, waited):
    parts = []
    if state["down"]:
        listed = "; ".join(
            f"{d['job']}/{d['instance']} ({d['health']}: {d['last_error'] or 'not scraped yet'})"
            for d in state["down"]
        )
        parts.append(f"{len(state['down'])} target(s) not up: {listed}")
    if state["missing"]:
        parts.append(f"expected but not among Prometheus' targets: {', '.join(state['missing'])}")
    if state["awaited_alerts"]:
        listed = ", ".join(json.dumps(w, sort_keys=True) for w in state["awaited_alerts"])
        firing = ", ".join(sorted({a["alertname"] for a in state["alerts"]})) or "none"
        parts.append(f"alerts not firing: {listed} (firing: {firing})")
    if state["failing_alerts"]:
        listed = ", ".join(
            f"{a['alertname']} ({a['labels']['severity']}) for {a['labels'].get('instance', 'the fleet')}"
            for a in state["failing_alerts"]
        )
        parts.append(f"alerts firing: {listed}")
    prefix = f"after waiting {waited:.0f} s, " if waited else ""
    return prefix + "; ".join(parts)
