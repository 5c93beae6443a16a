"""eightfold.devops.prometheus_target and prometheus_job_files: where a target registration goes (nowhere,
with a line saying so, when the inventory has no monitoring host) and the files of the scrape jobs."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.prometheus_job_files import (
    FilterModule as JobFilters,
)
from ansible_collections.eightfold.devops.plugins.filter.prometheus_job_files import (
    prometheus_job_files,
)
from ansible_collections.eightfold.devops.plugins.filter.prometheus_target import (
    FilterModule as TargetFilters,
)
from ansible_collections.eightfold.devops.plugins.filter.prometheus_target import prometheus_target

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HOSTS = ["monitor1", "monitor2", "agent1"]


def settings(**changes):
    value = {
        "prometheus_target_job": "node",
        "prometheus_target_port": 9100,
        "prometheus_target_address": "10.0.0.5",
        "prometheus_target_metrics_path": "/metrics",
        "prometheus_target_labels": {},
        "prometheus_servers": ["monitor1", "monitor2"],
    }
    value.update(changes)
    return value


def test_registered_under_their_names():
    assert TargetFilters().filters()["prometheus_target"] is prometheus_target
    assert JobFilters().filters()["prometheus_job_files"] is prometheus_job_files


def test_a_target_goes_to_every_monitoring_host():
    assert prometheus_target(settings(), HOSTS, "agent1") == {
        "host": "10.0.0.5",
        "servers": ["monitor1", "monitor2"],
        "note": "",
    }


def test_an_ipv6_address_is_bracketed_once():
    assert prometheus_target(settings(prometheus_target_address="fd00::5"), HOSTS)["host"] == "[fd00::5]"
    assert prometheus_target(settings(prometheus_target_address="[fd00::5]"), HOSTS)["host"] == "[fd00::5]"


def test_no_monitoring_host_registers_nowhere_and_says_so():
    found = prometheus_target(settings(prometheus_servers=[]), ["agent1"], "agent1")
    assert found["servers"] == []
    assert found["note"].startswith("agent1: no monitoring host to register the target of job node with")
    assert "group monitoring" in found["note"]


def test_bad_settings_are_one_line_naming_them():
    with pytest.raises(
        AnsibleFilterError, match="prometheus_servers has monitr2, which the inventory does not have"
    ):
        prometheus_target(settings(prometheus_servers=["monitor1", "monitr2"]), HOSTS)
    with pytest.raises(AnsibleFilterError, match=r"prometheus_target_port .*; prometheus_target_labels"):
        prometheus_target(settings(prometheus_target_port=0, prometheus_target_labels={"a-b": "c"}), HOSTS)
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        prometheus_target(["node"], HOSTS)


def test_job_files_per_job_in_name_order():
    jobs = {"postgres": {}, "node": {"basic_auth_user": "prometheus", "basic_auth_password": "s3cret"}}
    assert prometheus_job_files(jobs, CERT, "/etc/prometheus/secrets", "/etc/prometheus/file_sd") == [
        {"dest": "/etc/prometheus/file_sd/node", "state": "directory"},
        {
            "dest": "/etc/prometheus/secrets/node.password",
            "content": "s3cret",
            "group": "prometheus",
            "mode": "0640",
            "secret": True,
        },
        {"dest": "/etc/prometheus/secrets/node-ca.pem", "content": CERT + "\n"},
        {"dest": "/etc/prometheus/file_sd/postgres", "state": "directory"},
        {"dest": "/etc/prometheus/secrets/postgres.password", "state": "absent"},
        {"dest": "/etc/prometheus/secrets/postgres-ca.pem", "content": CERT + "\n"},
    ]


def test_a_job_ca_wins_over_the_common_one_and_an_empty_one_removes_it():
    files = prometheus_job_files({"a": {"tls_ca": "  " + CERT + "\n\n"}, "b": {"tls_ca": ""}}, "", "/s")
    assert files == [
        {"dest": "/s/a.password", "state": "absent"},
        {"dest": "/s/a-ca.pem", "content": CERT + "\n"},
        {"dest": "/s/b.password", "state": "absent"},
        {"dest": "/s/b-ca.pem", "state": "absent"},
    ]


def test_job_files_need_a_mapping():
    with pytest.raises(AnsibleFilterError, match="mapping of job names"):
        prometheus_job_files(["node"])
