"""eightfold.devops.notes_settings and notes_database_url: the notes role's preflight and its DATABASE_URL."""

from urllib.parse import unquote, urlsplit

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.notes_settings import (
    FilterModule,
    notes_database_url,
    notes_settings,
)

DEFAULTS = {
    "notes_port": 8000,
    "notes_listen_address": "0.0.0.0",
    "notes_database_host": "10.0.0.31",
    "notes_database_port": 5432,
    "notes_database_name": "notes",
    "notes_database_user": "notes",
    "notes_database_sslmode": "prefer",
    "notes_database_password": "secret",
    "notes_shutdown_delay": 2,
    "notes_db_pool": 8,
    "notes_log_level": "INFO",
    "notes_environment": {},
    "notes_firewall_from_groups": ["lb"],
}


def settings(**changes):
    return dict(DEFAULTS, **{f"notes_{key}": value for key, value in changes.items()})


def error_of(value):
    with pytest.raises(AnsibleFilterError) as caught:
        notes_settings(value)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("Nothing was changed.")
    return message


def test_registered_under_their_names():
    filters = FilterModule().filters()
    assert filters["notes_settings"] is notes_settings
    assert filters["notes_database_url"] is notes_database_url


def test_good_settings_have_a_database_and_no_notes():
    assert notes_settings(DEFAULTS) == {"database": True, "notes": []}


def test_no_database_host_is_a_note_not_a_failure_even_without_a_password():
    result = notes_settings(settings(database_host="", database_password=""))
    assert result["database"] is False
    assert result["notes"][0].startswith("notes_database_host is empty (the inventory has no group db)")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"database_password": ""},
            "notes_database_password is empty: set the password of notes_database_user",
        ),
        ({"port": 0}, "notes_port is 0, not a port from 1 to 65535."),
        ({"database_port": 65536}, "notes_database_port is 65536, not a port from 1 to 65535."),
        ({"database_host": "db host"}, "notes_database_host is 'db host', not an IP address or host name."),
        ({"listen_address": "::1:x"}, "notes_listen_address is '::1:x', not an IP address or host name."),
        ({"shutdown_delay": -1}, "notes_shutdown_delay is -1, it must be 0 seconds or more."),
        ({"shutdown_delay": "soon"}, "notes_shutdown_delay is soon, it must be 0 seconds or more."),
        ({"db_pool": 0}, "notes_db_pool is 0, it must be 1 or more."),
        ({"environment": {"1X": "a"}}, "notes_environment: not variable names: 1X."),
        ({"environment": {"A": "a\nb"}}, "notes_environment: the value of A holds a line break."),
        (
            {"environment": {"LISTEN": "x"}},
            "notes_environment sets LISTEN, which the role's own variables set",
        ),
        ({"database_name": ""}, "notes_database_name is empty."),
    ],
)
def test_each_bad_setting_is_named(changes, message):
    assert message in error_of(settings(**changes))


def test_numbers_given_as_strings_count_as_numbers():
    # -e notes_db_pool=7 on the command line gives a string; the argument spec takes it as an int too.
    assert notes_settings(settings(db_pool="7", port="8080", shutdown_delay="1.5"))["database"] is True
    assert "notes_db_pool is 0" in error_of(settings(db_pool="0"))


def test_every_problem_is_in_one_message():
    message = error_of(settings(port=0, db_pool=0))
    assert "notes_port is 0" in message and "notes_db_pool is 0" in message


def test_the_url_encodes_every_part_and_brackets_an_ipv6_address():
    url = notes_database_url("2001:db8::5", 5433, "my db", "us/er", "n0tes/pass word%", "require")
    assert url == "postgresql://us%2Fer:n0tes%2Fpass%20word%25@[2001:db8::5]:5433/my%20db?sslmode=require"
    parts = urlsplit(url)
    assert unquote(parts.password) == "n0tes/pass word%" and parts.hostname == "2001:db8::5"


def test_the_url_of_a_plain_host():
    url = notes_database_url("10.0.0.31", 5432, "notes", "notes", "secret", "prefer")
    assert url == "postgresql://notes:secret@10.0.0.31:5432/notes?sslmode=prefer"
