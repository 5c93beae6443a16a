"""eightfold.devops.monitoring_problems: every setting of the monitoring roles judged on the controller, one
line per problem naming the variable - and the defaults have none."""

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter import monitoring_problems as plugin
from ansible_collections.eightfold.devops.plugins.filter.monitoring_problems import (
    FilterModule,
    duration_seconds,
    monitoring_problems,
)

ROLES = Path(__file__).resolve().parents[3] / "roles"
TIMERS = ["apt", "smartmon", "nvme", "ipmitool-sensor", "mellanox-hca-temp"]
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
HASH = "$2b$10$eightfoldmoleculetestuGZAtAWDNNmPDkdEZp/49rjpYcmWPbuy"
# What the templated defaults come to on a host without the other roles' variables.
RESOLVED = {
    "node_exporter_target_address": "agent12",
    "postgres_exporter_user": "postgres_exporter",
    "postgres_exporter_password": "",
    "postgres_exporter_database_port": "5432",
    "postgres_exporter_target_address": "db1",
    "prometheus_servers": [],
    "prometheus_scrape_jobs": {
        "node": {"basic_auth_user": "prometheus", "basic_auth_password": ""},
        "postgres": {},
    },
}


def defaults(role, **changes):
    settings = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    settings.update({name: value for name, value in RESOLVED.items() if name in settings})
    settings.update(changes)
    return settings


def problems(role, **changes):
    context = {"timers": TIMERS} if role == "node_exporter" else {}
    return monitoring_problems(defaults(role, **changes), role, **context)


def one(role, **changes):
    found = problems(role, **changes)
    assert len(found) == 1, found
    return found[0]


def test_registered_under_its_name():
    assert FilterModule().filters()["monitoring_problems"] is monitoring_problems


@pytest.mark.parametrize("role", ["node_exporter", "prometheus", "postgres_exporter"])
def test_the_defaults_have_no_problem(role):
    assert problems(role) == []


def test_an_unknown_role_or_no_mapping_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="role must be one of"):
        monitoring_problems({}, "grafana")
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        monitoring_problems([], "prometheus")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15d", 15 * 86400), ("1h30m", 5400), ("500ms", 0.5), ("0s", 0), ("1y2w", 365 * 86400 + 14 * 86400)],
)
def test_prometheus_durations(text, seconds):
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["15days", "30m1h", "", "1.5h", "5", None, 5])
def test_not_prometheus_durations(text):
    assert duration_seconds(text) is None


# node_exporter


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"node_exporter_port": 70000},
            "node_exporter_port must be a port number from 1 to 65535 (got 70000)",
        ),
        ({"node_exporter_port": True}, "node_exporter_port must be a port number"),
        (
            {"node_exporter_listen_address": "not an address"},
            "node_exporter_listen_address must be an IP address",
        ),
        (
            {"node_exporter_source": "binary"},
            "node_exporter_binary_url is empty, and node_exporter_source is binary",
        ),
        (
            {"node_exporter_binary_url": "ftp://mirror/x.tgz"},
            "node_exporter_binary_url must be an http or https URL",
        ),
        (
            {"node_exporter_binary_checksum": "5f1b"},
            "node_exporter_binary_checksum must be <algorithm>:<hex digest>",
        ),
        (
            {
                "node_exporter_collectors_enabled": ["systemd"],
                "node_exporter_collectors_disabled": ["systemd"],
            },
            "node_exporter_collectors_enabled and node_exporter_collectors_disabled both name systemd",
        ),
        (
            {"node_exporter_systemd_unit_include": "(?!ssh).+"},
            "node_exporter_systemd_unit_include is not a regular",
        ),
        (
            {"node_exporter_systemd_unit_include": "(.+"},
            "node_exporter_systemd_unit_include is not a regular",
        ),
        (
            {"node_exporter_systemd_unit_include": ".+ .+"},
            "node_exporter_systemd_unit_include must be a regular",
        ),
        ({"node_exporter_textfile_dir": "var/lib/x"}, "node_exporter_textfile_dir must be an absolute path"),
        (
            {"node_exporter_textfile_collectors": ["apt", "smart"]},
            "node_exporter_textfile_collectors has smart",
        ),
        (
            {"node_exporter_certificate_paths": ["cert.pem"]},
            "node_exporter_certificate_paths must be absolute paths",
        ),
        (
            {"node_exporter_tls_cert": CERT},
            "node_exporter_tls_cert and node_exporter_tls_key must be given together",
        ),
        (
            {"node_exporter_tls_cert": "MIIB", "node_exporter_tls_key": KEY},
            "node_exporter_tls_cert is not a PEM certificate",
        ),
        (
            {
                "node_exporter_tls_cert": CERT,
                "node_exporter_tls_key": KEY.replace("PRIVATE", "ENCRYPTED PRIVATE"),
            },
            "node_exporter_tls_key is an encrypted private key",
        ),
        (
            {"node_exporter_basic_auth_password_hash": "$2b$10$tooshort"},
            "node_exporter_basic_auth_password_hash is not",
        ),
        (
            {"node_exporter_basic_auth_password_hash": HASH, "node_exporter_basic_auth_user": "a:b"},
            "node_exporter_basic_auth_user must be a user name without ':'",
        ),
        (
            {"node_exporter_basic_auth_password": "x" * 73},
            "node_exporter_basic_auth_password is longer than 72 bytes",
        ),
        (
            {"node_exporter_target_address": ""},
            "node_exporter_target_address must be an IP address or a host name",
        ),
        (
            {"node_exporter_target_labels": {"0rack": "a"}},
            "node_exporter_target_labels label '0rack' is not a label",
        ),
        (
            {"node_exporter_target_labels": {"__scheme__": "ftp"}},
            "node_exporter_target_labels label __scheme__ starts",
        ),
        (
            {"node_exporter_target_labels": {"rack": ["a"]}},
            "node_exporter_target_labels label rack: the value must",
        ),
        (
            {"node_exporter_firewall_from_groups": "monitoring"},
            "node_exporter_firewall_from_groups must be a list",
        ),
        (
            {"node_exporter_firewall_from_groups": ["bad group"]},
            "node_exporter_firewall_from_groups has 'bad group'",
        ),
    ],
)
def test_node_exporter_problems(changes, line):
    assert one("node_exporter", **changes).startswith(line)


def test_node_exporter_good_settings():
    assert (
        problems(
            "node_exporter",
            node_exporter_listen_address="::",
            node_exporter_port="9100",
            node_exporter_source="binary",
            node_exporter_binary_url="https://mirror.example/node_exporter-1.9.1.linux-amd64.tar.gz",
            node_exporter_binary_checksum="sha256:" + "a" * 64,
            node_exporter_tls_cert=CERT,
            node_exporter_tls_key=KEY.replace("PRIVATE", "EC PRIVATE"),
            node_exporter_basic_auth_password_hash=HASH,
            node_exporter_target_labels={"rack": "r1", "instance": "db1", "port": 1},
            node_exporter_systemd_unit_include=r"(ssh|cron)\.service",
        )
        == []
    )


def test_a_plain_password_needs_a_bcrypt_backend_on_the_controller(monkeypatch):
    monkeypatch.setattr(plugin, "bcrypt_backend", lambda: "")
    line = one("node_exporter", node_exporter_basic_auth_password="secret")
    assert line.startswith(
        "node_exporter_basic_auth_password is set without node_exporter_basic_auth_password_hash"
    )
    assert "pip install bcrypt" in line
    assert "secret" not in line.replace("without node_exporter_basic_auth_password_hash", "")
    monkeypatch.setattr(plugin, "bcrypt_backend", lambda: "bcrypt")
    assert problems("node_exporter", node_exporter_basic_auth_password="secret") == []
    monkeypatch.setattr(plugin, "bcrypt_backend", lambda: "")
    assert (
        problems(
            "node_exporter",
            node_exporter_basic_auth_password="secret",
            node_exporter_basic_auth_password_hash=HASH,
        )
        == []
    )


def test_secrets_are_not_in_the_lines():
    found = problems("node_exporter", node_exporter_tls_cert=CERT, node_exporter_tls_key="hunter2-key")
    assert found == ["node_exporter_tls_key is not a PEM private key (-----BEGIN PRIVATE KEY----- ...)"]


# prometheus


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"prometheus_port": 0}, "prometheus_port must be a port number"),
        (
            {"prometheus_alertmanager_port": 9090},
            "prometheus_alertmanager_port is prometheus_port (9090) too",
        ),
        ({"prometheus_retention_time": "15days"}, "prometheus_retention_time must be a duration like 30s"),
        ({"prometheus_retention_size": "10G"}, "prometheus_retention_size must be a size like 10GB"),
        ({"prometheus_scrape_interval": "0s"}, "prometheus_scrape_interval must be longer than 0"),
        (
            {"prometheus_scrape_timeout": "1m"},
            "prometheus_scrape_timeout (1m) is longer than prometheus_scrape_interval (30s)",
        ),
        ({"prometheus_evaluation_interval": "30"}, "prometheus_evaluation_interval must be a duration"),
        ({"prometheus_external_labels": {"bad-label": "x"}}, "prometheus_external_labels label 'bad-label'"),
        ({"prometheus_external_labels": ["dc"]}, "prometheus_external_labels must map label names"),
        (
            {"prometheus_scrape_jobs_extra": {"app-1": {}}},
            "prometheus_scrape_jobs_extra has 'app-1', which is not a job",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"prometheus": {}}},
            "prometheus_scrape_jobs_extra has the job prometheus",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"port": 1}}},
            "prometheus_scrape_jobs_extra: job app has unknown",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"metrics_path": "metrics"}}},
            "job app metrics_path must be a path",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"scheme": "ftp"}}},
            "job app scheme must be http or https",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"honor_labels": "yes"}}},
            "job app honor_labels must be true",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"tls_ca": "x"}}},
            "job app tls_ca is not a PEM certificate",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"scrape_interval": "5"}}},
            "job app scrape_interval must be",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": {"scrape_interval": "5s"}}},
            "prometheus_scrape_jobs_extra: job app scrape_timeout is longer than its scrape_interval",
        ),
        (
            {"prometheus_scrape_jobs_extra": {"app": "x"}},
            "prometheus_scrape_jobs_extra: job app must be a mapping",
        ),
        ({"prometheus_scrape_jobs": []}, "prometheus_scrape_jobs must map job names"),
        ({"prometheus_scrape_ca": "not pem"}, "prometheus_scrape_ca is not a PEM certificate"),
        (
            {"prometheus_alert_instance_down_for": "5 minutes"},
            "prometheus_alert_instance_down_for must be a duration",
        ),
        (
            {"prometheus_alert_disk_free_percent": 100},
            "prometheus_alert_disk_free_percent must be a whole number",
        ),
        (
            {"prometheus_alert_certificate_expiry_days": 0},
            "prometheus_alert_certificate_expiry_days must be a whole",
        ),
        (
            {"prometheus_alert_rules": [{"name": "a"}]},
            "prometheus_alert_rules[0] (a) must have a list of rules",
        ),
        ({"prometheus_alert_rules": ["a"]}, "prometheus_alert_rules[0] must be a rule group"),
        (
            {"prometheus_alert_rules": [{"name": "a", "rules": []}, {"name": "a", "rules": []}]},
            "prometheus_alert_rules[1] (a) has the name of an earlier group",
        ),
        (
            {"prometheus_alertmanager_config": {"receivers": []}},
            "prometheus_alertmanager_config must be Alertmanager's",
        ),
        (
            {"prometheus_alertmanager_config": {"route": {}}},
            "prometheus_alertmanager_config must list its receivers",
        ),
        (
            {"prometheus_alertmanager_targets": ["http://am:9093"]},
            "prometheus_alertmanager_targets has 'http://am:9093'",
        ),
        (
            {"prometheus_alertmanager_targets": ["am"]},
            "prometheus_alertmanager_targets has 'am', which is not host:port",
        ),
        ({"prometheus_servers": "monitor1"}, "prometheus_servers must be a list of strings"),
    ],
)
def test_prometheus_problems(changes, line):
    found = one("prometheus", **changes)
    assert found.startswith("prometheus_") and line in found, found


def test_prometheus_good_settings():
    assert (
        problems(
            "prometheus",
            prometheus_scrape_interval="5s",
            prometheus_scrape_timeout="4s",
            prometheus_retention_size="10GB",
            prometheus_external_labels={"dc": "ams1"},
            prometheus_scrape_jobs_extra={
                "app": {
                    "metrics_path": "/m",
                    "scheme": "https",
                    "honor_labels": True,
                    "scrape_interval": "1m",
                },
                "blackbox": {"tls_ca": CERT, "insecure_skip_verify": False, "tls_server_name": "bb"},
            },
            prometheus_alert_rules=[{"name": "app", "rules": [{"alert": "X", "expr": "up == 0"}]}],
            prometheus_alertmanager_targets=["am1:9093", "[::1]:9093", "10.0.0.1:9093"],
        )
        == []
    )


# postgres_exporter


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"postgres_exporter_user": "bad user"}, "postgres_exporter_user is not a PostgreSQL role name"),
        ({"postgres_exporter_password": "a\nb"}, "postgres_exporter_password must be a string on one line"),
        (
            {"postgres_exporter_database_host": "db host"},
            "postgres_exporter_database_host must be an IP address",
        ),
        (
            {"postgres_exporter_database_port": "54x2"},
            "postgres_exporter_database_port must be a port number",
        ),
        ({"postgres_exporter_database": "a/b"}, "postgres_exporter_database must be a database name"),
        ({"postgres_exporter_port": 0}, "postgres_exporter_port must be a port number"),
        ({"postgres_exporter_listen_address": "*"}, "postgres_exporter_listen_address must be an IP address"),
        ({"postgres_exporter_extra_args": "--x"}, "postgres_exporter_extra_args must be a list"),
        ({"postgres_exporter_target_labels": {"a b": "x"}}, "postgres_exporter_target_labels label 'a b'"),
    ],
)
def test_postgres_exporter_problems(changes, line):
    assert one("postgres_exporter", **changes).startswith(line)


def test_an_empty_password_is_no_problem():
    assert problems("postgres_exporter", postgres_exporter_password="") == []
    assert problems("postgres_exporter", postgres_exporter_password="exporter 'pass\" word") == []


# register_target


def target(**changes):
    settings = {
        "prometheus_target_job": "node",
        "prometheus_target_port": 9100,
        "prometheus_target_address": "10.0.0.5",
        "prometheus_target_metrics_path": "/metrics",
        "prometheus_target_labels": {},
        "prometheus_servers": ["monitor1"],
    }
    settings.update(changes)
    return monitoring_problems(settings, "prometheus_target", hosts=["monitor1", "agent1"])


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"prometheus_target_job": "my-job"}, "prometheus_target_job is not a job name"),
        ({"prometheus_target_port": 65536}, "prometheus_target_port must be a port number"),
        ({"prometheus_target_address": "a b"}, "prometheus_target_address must be an IP address"),
        ({"prometheus_target_metrics_path": "metrics"}, "prometheus_target_metrics_path must be a path"),
        (
            {"prometheus_target_labels": {"__address__": "x"}},
            "prometheus_target_labels label __address__ starts",
        ),
        (
            {"prometheus_servers": ["monitor1", "monitr2"]},
            "prometheus_servers has monitr2, which the inventory",
        ),
    ],
)
def test_target_problems(changes, line):
    found = target(**changes)
    assert len(found) == 1 and found[0].startswith(line), found


def test_a_good_target_and_no_servers_are_no_problem():
    assert target() == []
    assert target(prometheus_servers=[], prometheus_target_address="fd00::5") == []
