"""notes-server: the HTTP server, with a graceful shutdown on SIGTERM and systemd readiness notification.

One thread per request (ThreadingHTTPServer). HTTP/1.0: every response closes its connection, so a proxy
never reuses a keep-alive connection that the server is about to close while it shuts down.

On SIGTERM (or SIGINT): /healthz answers 503 for NOTES_SHUTDOWN_DELAY seconds (default 0) while requests
are still served, then the listening socket closes and the requests in flight are finished before the
process exits 0. With a load balancer that drains the host first (the deploy role does), a restart loses
no request.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notes.app import MAX_BODY, App, Response, error, route_of
from notes.config import Config, ConfigError, load
from notes.store import open_store

log = logging.getLogger("notes")


class Server(ThreadingHTTPServer):
    daemon_threads = False  # request threads are joined by server_close(): in-flight requests finish
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, config: Config, app: App):
        self.app = app
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host, config.port), Handler)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "notes"
    protocol_version = "HTTP/1.0"
    timeout = 30  # a client that stops sending does not hold a thread (or the shutdown) for ever

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        app = self.server.app
        started = time.perf_counter()
        app.metrics.begin()
        response = None
        try:
            response = self.respond(app)
        finally:
            status = response.status if response else 500
            app.metrics.observe(self.command, route_of(self.path.split("?")[0].rstrip("/") or "/"), status,
                                time.perf_counter() - started)  # fmt: skip

    def respond(self, app: App) -> Response:
        length = self.headers.get("Content-Length")
        if self.command in ("POST", "PUT") and length is None:
            response = error(411, "Content-Length is required")
        elif length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            response = error(413, f"the body must be at most {MAX_BODY} bytes")
        else:
            body = self.rfile.read(int(length)) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                response = app.handle(self.command, self.path, headers, body)
            except Exception:
                log.exception("%s %s failed", self.command, self.path)
                response = error(500, "internal error")
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        return response

    def log_message(self, format, *args):
        log.info("%s %s", self.address_string(), format % args)


def notify_systemd(state: str) -> None:
    """sd_notify(3) without libsystemd: READY=1 when listening, STOPPING=1 on shutdown (Type=notify)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode(), address)
    except OSError as exc:
        log.warning("cannot notify systemd: %s", exc)


def serve(config: Config, ready: threading.Event | None = None) -> int:
    """Run until SIGTERM or SIGINT; return the exit code."""
    store = open_store(config)
    app = App(store, config.version)
    try:
        server = Server(config, app)
    except OSError as exc:
        log.error("cannot listen on %s: %s", config.listen, exc.strerror)
        return 1
    stopping = threading.Event()

    def stop(signame: str):
        log.info("%s: shutting down after the requests in flight", signame)
        notify_systemd("STOPPING=1")
        if config.shutdown_delay:
            log.info("draining: /healthz answers 503 for %ss", config.shutdown_delay)
            time.sleep(config.shutdown_delay)
        server.shutdown()

    def on_signal(signum, _frame):
        if stopping.is_set():
            return
        stopping.set()
        app.draining = True
        # Nothing else here: a handler that logs can interrupt the main thread's own write to stderr, and
        # the reentrant write raises before the shutdown starts. The shutdown thread logs.
        name = signal.Signals(signum).name
        threading.Thread(target=stop, args=(name,), name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = server.server_address[:2]
    log.info(
        "notes %s listening on %s", config.version, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    )
    notify_systemd("READY=1")
    if ready:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # closes the listener, then waits for the request threads
        store.close()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notes-server", description="Serve the notes HTTP API.")
    parser.add_argument("--env-file", help="KEY=VALUE file read before the environment (as NOTES_ENV_FILE)")
    args = parser.parse_args(argv)
    try:
        config = load(env_file=args.env_file)
    except ConfigError as exc:
        print(f"notes-server: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return serve(config)


if __name__ == "__main__":
    raise SystemExit(main())
