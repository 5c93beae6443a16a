"""Prometheus metrics in the text exposition format (0.0.4), kept by hand: no client library needed."""

from __future__ import annotations

import threading
import time

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(**pairs: str) -> str:
    return "{" + ",".join(f'{key}="{escape(str(value))}"' for key, value in pairs.items()) + "}"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Metrics:
    """Request counts by method, route and code; a latency histogram by route; requests in flight."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self.in_flight = 0
        self.started = time.time()

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1

    def observe(self, method: str, route: str, code: int, seconds: float) -> None:
        with self._lock:
            self.in_flight -= 1
            key = (method, route, str(code))
            self._requests[key] = self._requests.get(key, 0) + 1
            buckets = self._buckets.setdefault(route, [0] * len(BUCKETS))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
            self._sums[route] = self._sums.get(route, 0.0) + seconds
            self._counts[route] = self._counts.get(route, 0) + 1

    def render(self, version: str, notes: int | None) -> str:
        """The exposition; `notes` is None when the database could not be counted (notes_database_up 0)."""
        out = [
            "# HELP notes_build_info The version this service was built as.",
            "# TYPE notes_build_info gauge",
            f"notes_build_info{labels(version=version)} 1",
            "# HELP notes_start_time_seconds When the process started, seconds since the epoch.",
            "# TYPE notes_start_time_seconds gauge",
            f"notes_start_time_seconds {number(round(self.started, 3))}",
            "# HELP notes_database_up Whether the database answered the last scrape.",
            "# TYPE notes_database_up gauge",
            f"notes_database_up {0 if notes is None else 1}",
        ]
        if notes is not None:
            out += [
                "# HELP notes_stored Notes stored in the database.",
                "# TYPE notes_stored gauge",
                f"notes_stored {notes}",
            ]
        with self._lock:
            out += [
                "# HELP notes_http_requests_in_flight Requests being handled.",
                "# TYPE notes_http_requests_in_flight gauge",
                f"notes_http_requests_in_flight {self.in_flight}",
                "# HELP notes_http_requests_total HTTP requests handled, by method, route and status code.",
                "# TYPE notes_http_requests_total counter",
            ]
            for (method, route, code), count in sorted(self._requests.items()):
                out.append(
                    f"notes_http_requests_total{labels(method=method, route=route, code=code)} {count}"
                )
            out += [
                "# HELP notes_http_request_duration_seconds Time to handle a request, by route.",
                "# TYPE notes_http_request_duration_seconds histogram",
            ]
            for route in sorted(self._buckets):
                for bound, count in zip(BUCKETS, self._buckets[route], strict=True):
                    name = "notes_http_request_duration_seconds_bucket"
                    out.append(f"{name}{labels(route=route, le=number(bound))} {count}")
                total = self._counts[route]
                out.append(
                    f"notes_http_request_duration_seconds_bucket{labels(route=route, le='+Inf')} {total}"
                )
                out.append(
                    f"notes_http_request_duration_seconds_sum{labels(route=route)} {self._sums[route]!r}"
                )
                out.append(f"notes_http_request_duration_seconds_count{labels(route=route)} {total}")
        return "\n".join(out) + "\n"
