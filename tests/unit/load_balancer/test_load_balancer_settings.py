"""eightfold.devops.load_balancer_settings: the role's preflight - every bad setting named on one line, the
backend's servers resolved from the inventory, a missing group a note and not a failure."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.load_balancer_settings import (
    FilterModule,
    load_balancer_settings,
)

DEFAULTS = {
    "load_balancer_listen_address": "0.0.0.0",
    "load_balancer_port": 80,
    "load_balancer_backend_name": "notes",
    "load_balancer_backend_group": "app",
    "load_balancer_backend_port": 8000,
    "load_balancer_backends": [],
    "load_balancer_balance": "roundrobin",
    "load_balancer_health_check_path": "/healthz",
    "load_balancer_health_check_status": 200,
    "load_balancer_health_check_interval": "1s",
    "load_balancer_health_check_fall": 2,
    "load_balancer_health_check_rise": 2,
    "load_balancer_retries": 3,
    "load_balancer_redispatch_interval": 1,
    "load_balancer_retry_on": ["conn-failure", "empty-response", "response-timeout", "503"],
    "load_balancer_retry_methods": ["GET", "HEAD"],
    "load_balancer_maxconn": 4096,
    "load_balancer_timeout_connect": "2s",
    "load_balancer_timeout_client": "30s",
    "load_balancer_timeout_server": "30s",
    "load_balancer_timeout_http_request": "10s",
    "load_balancer_timeout_queue": "5s",
    "load_balancer_timeout_check": "2s",
    "load_balancer_metrics_enabled": True,
    "load_balancer_metrics_listen_address": "0.0.0.0",
    "load_balancer_metrics_port": 8405,
    "load_balancer_stats_enabled": False,
    "load_balancer_stats_listen_address": "127.0.0.1",
    "load_balancer_stats_port": 8404,
    "load_balancer_stats_user": "admin",
    "load_balancer_stats_password": "",
    "load_balancer_frontend_extra": [],
    "load_balancer_backend_extra": [],
}
GROUPS = {"all": ["lb1", "app1", "app2"], "ungrouped": [], "lb": ["lb1"], "app": ["app1", "app2"]}
HOSTVARS = {
    "lb1": {"ansible_host": "10.0.0.10"},
    "app1": {"notes_address": "10.0.0.21", "ansible_host": "container-app1"},
    "app2": {"ansible_host": "10.0.0.22", "notes_port": 8001},
}


def settings(**changes):
    return dict(DEFAULTS, **{f"load_balancer_{key}": value for key, value in changes.items()})


def error_of(value, groups=GROUPS, hostvars=HOSTVARS):
    with pytest.raises(AnsibleFilterError) as caught:
        load_balancer_settings(value, groups, hostvars)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("Nothing was changed.")
    return message


def test_registered_under_its_name():
    assert FilterModule().filters()["load_balancer_settings"] is load_balancer_settings


def test_servers_from_the_group_with_notes_address_else_ansible_host_and_notes_port():
    result = load_balancer_settings(DEFAULTS, GROUPS, HOSTVARS)
    assert result == {
        "servers": [
            {"name": "app1", "address": "10.0.0.21", "port": 8000},
            {"name": "app2", "address": "10.0.0.22", "port": 8001},
        ],
        "notes": [],
    }


def test_explicit_backends_replace_the_group():
    backends = [{"name": "web1", "address": "web1.example.com", "port": 8080}]
    result = load_balancer_settings(settings(backends=backends, backend_group="none"), GROUPS, HOSTVARS)
    assert result == {"servers": backends, "notes": []}


def test_a_group_the_inventory_does_not_have_is_an_empty_backend_with_a_note():
    result = load_balancer_settings(DEFAULTS, {"all": ["h"], "ungrouped": ["h"]}, {"h": {}})
    assert result["servers"] == []
    (note,) = result["notes"]
    assert note.startswith("load_balancer_backend_group: the inventory has no group app, so backend notes")


def test_an_empty_group_is_a_note_too():
    result = load_balancer_settings(DEFAULTS, dict(GROUPS, app=[]), HOSTVARS)
    assert result["servers"] == [] and "group app has no hosts" in result["notes"][0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 70000}, "load_balancer_port is 70000, not a port from 1 to 65535."),
        ({"metrics_port": 0}, "load_balancer_metrics_port is 0, not a port from 1 to 65535."),
        ({"metrics_port": 80}, "must differ, they are 80, 80."),
        ({"stats_enabled": True, "stats_port": 8405}, "must differ, they are 80, 8405, 8405."),
        ({"backend_name": "no spaces"}, "load_balancer_backend_name no spaces may only have"),
        ({"health_check_path": "healthz"}, "load_balancer_health_check_path must start with /"),
        ({"health_check_status": 42}, "load_balancer_health_check_status is 42, not an HTTP status."),
        ({"timeout_client": "30 s"}, "load_balancer_timeout_client is 30 s, not a time like 500ms"),
        ({"health_check_fall": 0}, "load_balancer_health_check_fall is 0, it must be 1 or more."),
        ({"retries": -1}, "load_balancer_retries is -1, it must be 0 or more."),
        ({"retry_on": ["conn-failure", "teapot"]}, "load_balancer_retry_on: unknown teapot"),
        ({"retry_methods": ["get"]}, "load_balancer_retry_methods: get are not HTTP methods"),
        ({"stats_enabled": True, "stats_listen_address": "0.0.0.0"}, "load_balancer_stats_password is empty"),
        (
            {"stats_enabled": True, "stats_password": "a b"},
            "load_balancer_stats_password may not hold spaces",
        ),
        ({"frontend_extra": ["a\nb"]}, "take one line per item."),
        (
            {"backends": [{"name": "w", "address": "", "port": 80}]},
            "load_balancer_backends: w has no address",
        ),
        (
            {"backends": [{"name": "w", "address": "a b", "port": 80}]},
            "load_balancer_backends: w has the address a b, not an IP address or host name.",
        ),
        (
            {"backends": [{"name": "w", "address": "w", "port": 0}]},
            "load_balancer_backends: w has the port 0, not a port from 1 to 65535",
        ),
        (
            {
                "backends": [
                    {"name": "w", "address": "w", "port": 1},
                    {"name": "w", "address": "v", "port": 2},
                ]
            },
            "load_balancer_backends: server names must be unique, found w, w.",
        ),
        ({"backends": [{"name": "a/b", "address": "w", "port": 1}]}, "server name a/b may only have"),
    ],
)
def test_each_bad_setting_is_named(changes, message):
    assert message in error_of(settings(**changes))


def test_a_group_host_without_an_address_or_with_a_bad_port_is_named():
    hostvars = {"app1": {}, "app2": {"ansible_host": "10.0.0.22", "notes_port": 99999}}
    message = error_of(DEFAULTS, hostvars=hostvars)
    assert "load_balancer_backend_group (app): app1 has no address" in message
    assert "load_balancer_backend_group (app): app2 has the port 99999" in message


def test_numbers_given_as_strings_count_as_numbers():
    # -e load_balancer_port=8080 on the command line gives a string; the argument spec takes it as an int too.
    value = settings(port="8080", retries="2", maxconn="100", health_check_status="204")
    assert load_balancer_settings(value, GROUPS, HOSTVARS)["notes"] == []
    assert "load_balancer_port is 0," in error_of(settings(port="0"))


def test_every_problem_is_in_one_message():
    message = error_of(settings(port=0, timeout_queue="soon", maxconn=0))
    assert "load_balancer_port is 0" in message
    assert "load_balancer_timeout_queue is soon" in message
    assert "load_balancer_maxconn is 0" in message


def test_a_setting_missing_from_the_input_is_named():
    value = dict(DEFAULTS)
    del value["load_balancer_retries"]
    with pytest.raises(AnsibleFilterError, match="missing load_balancer_retries"):
        load_balancer_settings(value, GROUPS, HOSTVARS)
