"""Configuration from the environment and an env file; errors name the variable."""

from __future__ import annotations

import pytest
from notes import build_version
from notes.config import ConfigError, load, parse_listen


def test_defaults():
    config = load({})
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.database_url == "" and config.pg == {}
    assert config.version == build_version() != "unknown"
    assert config.shutdown_delay == 0 and config.pool_size == 8


def test_env_file_then_environment(tmp_path):
    env_file = tmp_path / "notes.env"
    env_file.write_text(
        "# notes\n\nexport LISTEN=0.0.0.0:9000\nPGHOST=db1\nPGPASSWORD='s3cret=x'\n"
        'PGDATABASE="notes"\nNOTES_VERSION=2.0.0\nNOTES_SHUTDOWN_DELAY=1.5\n'
    )
    config = load({"NOTES_ENV_FILE": str(env_file), "PGHOST": "db2", "NOTES_DB_POOL": "3"})
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert config.pg == {"host": "db2", "password": "s3cret=x", "dbname": "notes"}  # environment wins
    assert config.version == "2.0.0" and config.shutdown_delay == 1.5 and config.pool_size == 3
    assert load({}, env_file=str(env_file)).pg["host"] == "db1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("[::]:8000", ("::", 8000)),
        ("[::1]:1", ("::1", 1)),
        (":8080", ("0.0.0.0", 8080)),
    ],
)
def test_listen(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LISTEN": "8000"}, "LISTEN '8000' is not host:port"),
        ({"LISTEN": "host:99999"}, "LISTEN 'host:99999' is not host:port"),
        ({"NOTES_DB_POOL": "many"}, "NOTES_DB_POOL 'many' is not a number"),
        ({"NOTES_DB_POOL": "0"}, "NOTES_DB_POOL must be at least 1"),
        ({"NOTES_SHUTDOWN_DELAY": "-1"}, "NOTES_SHUTDOWN_DELAY must be at least 0"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL 'LOUD' is not one of"),
        ({"NOTES_ENV_FILE": "/nonexistent/notes.env"}, "NOTES_ENV_FILE: cannot read /nonexistent/notes.env"),
    ],
)
def test_bad_configuration_names_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load(environ)


def test_bad_env_file_line_is_named(tmp_path):
    env_file = tmp_path / "notes.env"
    env_file.write_text("LISTEN=0.0.0.0:80\nthis is not a setting\n")
    with pytest.raises(ConfigError, match=r"notes.env:2: not a KEY=VALUE line"):
        load({}, env_file=str(env_file))
