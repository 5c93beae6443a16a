#!/usr/bin/env python3
"""A bounded load generator for the notes service: proves that a deploy loses no request.

Runs on a lab host (standard library only, Python 3.9+) against a URL, for example on lb1 against HAProxy:

    python3 loadgen.py http://127.0.0.1/ --workers 4 --rate 50 --duration 300 \\
        --stop-file /tmp/loadgen.stop --output /tmp/loadgen.json

N worker threads share a request budget of at most --rate requests per second (evenly spaced), each
request a new connection (the service answers HTTP/1.0). The mix, in a fixed order: GET /notes?limit=5,
GET /version and, with --post-every N, one POST /notes in every N requests. It stops at the first of: the
stop file appears, --duration seconds, --max-requests requests, SIGTERM/SIGINT. Then it writes the result
as JSON (to --output, atomically, or stdout):

    {"total", "ok", "failed", "errors": [first --keep-errors failures], "status": {code: count},
     "versions": {version: count}, "requests": {path: count}, "latency_ms": {p50, p90, p99, max, mean},
     "started", "duration_s", "rate_per_s", "stopped_by", "url"}

A failure is a non-2xx answer, a connection error or a timeout. Exit code 0, or 1 with --fail-on-error
when a request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

GET_NOTES = ("GET", "/notes?limit=5")
GET_VERSION = ("GET", "/version")
POST_NOTE = ("POST", "/notes")


@dataclass
class Options:
    url: str
    workers: int = 4
    rate: float = 50.0
    duration: float = 60.0
    max_requests: int = 0  # 0: no cap
    stop_file: str | None = None
    post_every: int = 0  # 0: no POST
    timeout: float = 5.0
    keep_errors: int = 10


@dataclass
class Result:
    started: float = 0.0
    finished: float = 0.0
    total: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)
    status: Counter = field(default_factory=Counter)
    versions: Counter = field(default_factory=Counter)
    requests: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    stopped_by: str = ""


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


class LoadGenerator:
    def __init__(self, options: Options):
        if options.workers < 1:
            raise ValueError(f"workers must be 1 or more, not {options.workers}")
        if options.rate <= 0:
            raise ValueError(f"rate must be above 0, not {options.rate}")
        url = urllib.parse.urlsplit(options.url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"url {options.url!r} is not an http:// or https:// URL")
        self.options = options
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self.result = Result()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.next_slot = 0.0
        self.issued = 0

    # Scheduling: every request takes the next free slot, 1/rate seconds after the one before.
    def take_slot(self) -> int | None:
        """The number of the next request and wait for its slot; None when the run is over."""
        with self.lock:
            if self.stop.is_set():
                return None
            if self.options.max_requests and self.issued >= self.options.max_requests:
                # Not finish(): the requests that have their slot already are still sent.
                self.result.stopped_by = self.result.stopped_by or "max_requests"
                return None
            number = self.issued
            self.issued += 1
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + 1.0 / self.options.rate
        delay = slot - time.monotonic()
        if delay > 0 and self.stop.wait(delay):
            with self.lock:
                self.issued -= 1  # not sent
            return None
        return number

    def finish(self, reason: str) -> None:
        if not self.stop.is_set():
            self.result.stopped_by = reason
            self.stop.set()

    def request_for(self, number: int) -> tuple[str, str]:
        if self.options.post_every and number % self.options.post_every == self.options.post_every - 1:
            return POST_NOTE
        return GET_VERSION if number % 3 == 1 else GET_NOTES

    def send(self, number: int) -> None:
        method, path = self.request_for(number)
        body = json.dumps({"text": f"loadgen note {number}"}).encode() if method == "POST" else None
        headers = {"Connection": "close", "User-Agent": "eightfold-loadgen"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection_class = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        started = time.monotonic()
        status, error, version = None, None, None
        try:
            connection = connection_class(self.host, self.port, timeout=self.options.timeout)
            try:
                connection.request(method, self.prefix + path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
            finally:
                connection.close()
            if not 200 <= status < 300:
                error = f"HTTP {status}: {payload[:200].decode('utf-8', 'replace').strip()}"
            elif path == GET_VERSION[1]:
                try:
                    version = str(json.loads(payload)["version"])
                except (ValueError, KeyError, TypeError):
                    version = "unparsable"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed = time.monotonic() - started
        with self.lock:
            result = self.result
            result.total += 1
            result.requests[f"{method} {path}"] += 1
            result.status[str(status) if status is not None else "error"] += 1
            result.latencies.append(elapsed)
            if version is not None:
                result.versions[version] += 1
            if error is not None:
                result.failed += 1
                if len(result.errors) < self.options.keep_errors:
                    result.errors.append(
                        {
                            "at_s": round(started - result.started, 3),
                            "request": f"{method} {path}",
                            "error": error,
                        }
                    )

    def worker(self) -> None:
        while (number := self.take_slot()) is not None:
            self.send(number)

    def watch(self) -> None:
        """Ends the run when the stop file appears or the duration is over."""
        deadline = self.result.started + self.options.duration if self.options.duration > 0 else None
        while not self.stop.is_set():
            if self.options.stop_file and os.path.exists(self.options.stop_file):
                self.finish("stop_file")
            elif deadline is not None and time.monotonic() >= deadline:
                self.finish("duration")
            self.stop.wait(0.1)

    def run(self) -> dict:
        self.result.started = self.next_slot = time.monotonic()
        wall_start = time.time()
        threads = [
            threading.Thread(target=self.worker, name=f"worker-{i}") for i in range(self.options.workers)
        ]
        watcher = threading.Thread(target=self.watch, name="watch", daemon=True)
        watcher.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.stop.set()
        self.result.finished = time.monotonic()
        return self.summary(wall_start)

    def summary(self, wall_start: float) -> dict:
        result = self.result
        latencies = sorted(result.latencies)
        duration = result.finished - result.started
        return {
            "url": self.options.url,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall_start)),
            "duration_s": round(duration, 3),
            "total": result.total,
            "ok": result.total - result.failed,
            "failed": result.failed,
            "errors": result.errors,
            "status": dict(sorted(result.status.items())),
            "versions": dict(sorted(result.versions.items())),
            "requests": dict(sorted(result.requests.items())),
            "latency_ms": {
                "p50": round(percentile(latencies, 0.50) * 1000, 2),
                "p90": round(percentile(latencies, 0.90) * 1000, 2),
                "p99": round(percentile(latencies, 0.99) * 1000, 2),
                "max": round((latencies[-1] if latencies else 0.0) * 1000, 2),
                "mean": round(sum(latencies) / len(latencies) * 1000, 2) if latencies else 0.0,
            },
            "rate_per_s": round(result.total / duration, 2) if duration > 0 else 0.0,
            "stopped_by": result.stopped_by or "signal",
            "options": {
                "workers": self.options.workers,
                "rate": self.options.rate,
                "duration": self.options.duration,
                "max_requests": self.options.max_requests,
                "post_every": self.options.post_every,
            },
        }


def write_json(data: dict, path: str | None) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if not path:
        sys.stdout.write(text)
        return
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)  # a reader waiting for the file never sees half of it


def parse_args(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="loadgen", description="Bounded HTTP load against the notes service."
    )
    parser.add_argument("url", help="base URL, e.g. http://127.0.0.1/")
    parser.add_argument("--workers", type=int, default=4, help="concurrent requests at most (default 4)")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second at most (default 50)")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds at most; 0: no limit (default 60)"
    )
    parser.add_argument("--max-requests", type=int, default=0, help="requests at most; 0: no cap (default)")
    parser.add_argument("--stop-file", help="stop as soon as this file exists")
    parser.add_argument("--post-every", type=int, default=0, help="one POST /notes in every N requests")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default 5)")
    parser.add_argument("--keep-errors", type=int, default=10, help="failures listed in errors (default 10)")
    parser.add_argument("--output", help="write the JSON result here (default: stdout)")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 when a request failed")
    args = parser.parse_args(argv)
    if args.duration <= 0 and args.max_requests <= 0 and not args.stop_file:
        parser.error("give at least one bound: --duration, --max-requests or --stop-file")
    options = Options(
        url=args.url,
        workers=args.workers,
        rate=args.rate,
        duration=args.duration,
        max_requests=args.max_requests,
        stop_file=args.stop_file,
        post_every=args.post_every,
        timeout=args.timeout,
        keep_errors=args.keep_errors,
    )
    return options, args


def main(argv: list[str] | None = None) -> int:
    options, args = parse_args(argv)
    try:
        generator = LoadGenerator(options)
    except ValueError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: generator.finish("signal"))
    summary = generator.run()
    write_json(summary, args.output)
    return 1 if args.fail_on_error and summary["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
