"""Configuration from the environment and an optional env file (KEY=VALUE lines, as systemd reads them)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from notes import build_version

# libpq's variables, passed to the driver as connection keywords (an env file's values too, not only the
# process environment that libpq reads by itself).
PG_VARIABLES = {
    "PGHOST": "host",
    "PGPORT": "port",
    "PGUSER": "user",
    "PGPASSWORD": "password",
    "PGDATABASE": "dbname",
    "PGSSLMODE": "sslmode",
    "PGSSLROOTCERT": "sslrootcert",
    "PGAPPNAME": "application_name",
}
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(ValueError):
    """Bad configuration; the message names the variable."""


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""  # "" -> the PG* variables; "memory:" -> an in-memory store (demos and tests)
    pg: Mapping[str, str] = field(default_factory=dict)  # connection keywords from PG* variables
    pool_size: int = 8
    db_timeout: float = 3.0  # connect and statement timeout, seconds
    shutdown_delay: float = 0.0  # seconds /healthz answers 503 before the listener closes on SIGTERM
    version: str = "unknown"
    log_level: str = "INFO"

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_env_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; `export ` and matching quotes removed."""
    values = {}
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise ConfigError(f"NOTES_ENV_FILE: cannot read {path}: {exc.strerror}") from None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not KEY_RE.match(key):
            raise ConfigError(f"{path}:{number}: not a KEY=VALUE line")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def parse_listen(value: str) -> tuple[str, int]:
    match = re.match(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})$", value.strip())
    if not match or int(match["port"]) > 65535:
        raise ConfigError(f"LISTEN {value!r} is not host:port (for example 0.0.0.0:8000 or [::]:8000)")
    return match["v6"] or match["host"] or "0.0.0.0", int(match["port"])


def _number(env: Mapping[str, str], key: str, default: float, kind=float, minimum: float = 0) -> float:
    text = env.get(key)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{key} {text!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum}, not {text}")
    return value


def load(environ: Mapping[str, str] | None = None, env_file: str | None = None) -> Config:
    """The configuration: the env file (NOTES_ENV_FILE or the argument) first, the environment over it."""
    environ = dict(os.environ if environ is None else environ)
    env_file = env_file or environ.get("NOTES_ENV_FILE")
    env = {**(parse_env_file(env_file) if env_file else {}), **environ}
    host, port = parse_listen(env.get("LISTEN", "127.0.0.1:8000"))
    database_url = env.get("DATABASE_URL", "")
    level = env.get("LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL {level!r} is not one of DEBUG, INFO, WARNING, ERROR")
    return Config(
        host=host,
        port=port,
        database_url=database_url,
        pg={keyword: env[var] for var, keyword in PG_VARIABLES.items() if env.get(var)},
        pool_size=int(_number(env, "NOTES_DB_POOL", 8, int, 1)),
        db_timeout=_number(env, "NOTES_DB_TIMEOUT", 3.0, float, 0.1),
        shutdown_delay=_number(env, "NOTES_SHUTDOWN_DELAY", 0.0),
        version=env.get("NOTES_VERSION") or build_version(),
        log_level=level,
    )
