"""eightfold.devops.prometheus_check against a local server that speaks the Prometheus API's JSON."""

from __future__ import annotations

import time

from conftest import alert, target


def test_every_target_up(prometheus, run_module):
    prometheus.targets = [target("node", "web1"), target("node", "web2"), target("prometheus", "mon1")]
    prometheus.alerts = [alert("Watchdog", state="pending")]
    result = run_module(url=prometheus.url)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["healthy"] is True
    assert result["up"] == ["node/web1", "node/web2", "prometheus/mon1"]
    assert result["down"] == [] and result["missing"] == []
    assert result["summary"] == {"targets": 3, "up": 3, "down": 0, "missing": 0, "firing": 0, "pending": 1}
    assert result["pending_alerts"][0]["alertname"] == "Watchdog"


def test_a_target_that_stays_down_fails_after_the_timeout_naming_it(prometheus, run_module):
    prometheus.targets = [
        target("node", "web1"),
        target("node", "web2", "down", 'Get "https://web2:9100/metrics": dial tcp: connection refused'),
    ]
    start = time.monotonic()
    result = run_module(url=prometheus.url, wait_timeout=3, interval=1)
    assert time.monotonic() - start >= 2.5
    assert result["failed"] is True
    assert "after waiting 3 s" in result["msg"]
    assert "node/web2 (down: Get" in result["msg"] and "connection refused" in result["msg"]
    assert "web1" not in result["msg"]
    assert result["down"] == [
        {
            "job": "node",
            "instance": "web2",
            "health": "down",
            "last_error": 'Get "https://web2:9100/metrics": dial tcp: connection refused',
            "scrape_url": "https://web2:9100/metrics",
        }
    ]


def test_waits_until_a_target_comes_up(prometheus, run_module):
    # Down for the first three requests (targets + alerts per look), then up.
    prometheus.targets = lambda count: [target("node", "web1", "up" if count >= 4 else "unknown")]
    result = run_module(url=prometheus.url, wait_timeout=20, interval=1)
    assert not result.get("failed"), result
    assert result["up"] == ["node/web1"]
    assert 1 <= result["waited"] < 10


def test_expected_targets_by_instance_or_job_and_missing_ones(prometheus, run_module):
    prometheus.targets = [target("node", "web1"), target("postgres", "db1", "down", "pg gone")]
    result = run_module(url=prometheus.url, targets=["web1", "node/db9"])
    assert result["failed"] is True
    assert result["missing"] == ["node/db9"]
    assert result["down"] == []  # db1 is down but not expected
    assert "expected but not among Prometheus' targets: node/db9" in result["msg"]

    result = run_module(url=prometheus.url, jobs=["node"])
    assert not result.get("failed"), result
    assert [t["job"] for t in result["targets"]] == ["node"]


def test_report_only_when_up_is_not_required(prometheus, run_module):
    prometheus.targets = [target("node", "web1", "down", "refused")]
    result = run_module(url=prometheus.url, require_up=False)
    assert not result.get("failed"), result
    assert result["healthy"] is False
    assert result["down"][0]["instance"] == "web1"
    assert "1 down" in result["msg"]


def test_report_only_waits_then_reports_instead_of_failing(prometheus, run_module):
    prometheus.targets = [target("node", "web1", "down", "refused")]
    result = run_module(url=prometheus.url, report_only=True, wait_timeout=2, interval=1)
    assert not result.get("failed"), result
    assert result["healthy"] is False and result["waited"] >= 1.5
    assert "node/web1 (down: refused)" in result["msg"]


def test_waits_for_an_expected_alert(prometheus, run_module):
    prometheus.targets = [target("node", "web2", "down", "refused")]
    prometheus.alerts = lambda count: (
        [alert("InstanceDown", instance="web2", job="node")]
        if count >= 4
        else [alert("InstanceDown", "pending")]
    )
    result = run_module(
        url=prometheus.url,
        require_up=False,
        wait_timeout=20,
        interval=1,
        expect_alerts=[{"alertname": "InstanceDown", "instance": "web2"}],
    )
    assert not result.get("failed"), result
    assert result["alerts"][0]["labels"] == {"alertname": "InstanceDown", "instance": "web2", "job": "node"}
    assert result["awaited_alerts"] == []


def test_an_alert_that_never_fires_fails_naming_it(prometheus, run_module):
    prometheus.targets = [target("node", "web1")]
    prometheus.alerts = [alert("DiskAlmostFull", instance="web1")]
    result = run_module(url=prometheus.url, wait_timeout=2, interval=1, expect_alerts=["InstanceDown"])
    assert result["failed"] is True
    assert 'alerts not firing: {"alertname": "InstanceDown"} (firing: DiskAlmostFull)' in result["msg"]


def test_waits_until_a_critical_alert_clears(prometheus, run_module):
    # As right after a deploy: the backend that had no server still alerts for the first two looks.
    prometheus.targets = [target("haproxy", "lb1")]
    prometheus.alerts = lambda count: (
        [alert("HaproxyBackendDown", instance="lb1", severity="critical")] if count < 4 else []
    )
    result = run_module(url=prometheus.url, wait_timeout=20, interval=1, fail_severities=["critical"])
    assert not result.get("failed"), result
    assert result["healthy"] is True
    assert result["alerts"] == [] and result["failing_alerts"] == []
    assert 1 <= result["waited"] < 10


def test_a_critical_alert_that_stays_fails_naming_it_other_severities_and_expected_ones_do_not(
    prometheus, run_module
):
    prometheus.targets = [target("node", "web1"), target("postgres", "db1")]
    prometheus.alerts = [
        alert("PostgresqlDown", instance="db1", severity="critical"),
        alert("InstanceDown", instance="web9", severity="critical"),
        alert("DiskAlmostFull", instance="web1", severity="warning"),
    ]
    start = time.monotonic()
    result = run_module(
        url=prometheus.url,
        wait_timeout=2,
        interval=1,
        fail_severities=["critical"],
        expect_alerts=[{"alertname": "InstanceDown", "instance": "web9"}],
    )
    assert time.monotonic() - start >= 1.5
    assert result["failed"] is True
    assert result["msg"] == "after waiting 2 s, alerts firing: PostgresqlDown (critical) for db1"
    assert [a["alertname"] for a in result["failing_alerts"]] == ["PostgresqlDown"]

    # Without fail_severities firing alerts are reported, not waited for.
    result = run_module(url=prometheus.url)
    assert not result.get("failed"), result
    assert result["failing_alerts"] == [] and result["summary"]["firing"] == 3

    # report_only: the same verdict, as data.
    result = run_module(url=prometheus.url, fail_severities=["critical"], report_only=True)
    assert not result.get("failed"), result
    assert result["healthy"] is False
    listed = "alerts firing: InstanceDown (critical) for web9, PostgresqlDown (critical) for db1"
    assert listed in result["msg"]


def test_queries_give_figures_per_instance(prometheus, run_module):
    prometheus.targets = [target("node", "web1")]
    prometheus.queries = {
        "node_load1": [
            {"metric": {"instance": "web1"}, "value": [0, "0.25"]},
            {"metric": {"instance": "web2"}, "value": [0, "2"]},
        ],
        "count(up)": [{"metric": {}, "value": [0, "NaN"]}],
    }
    result = run_module(
        url=prometheus.url, queries={"load1": "node_load1", "targets": "count(up)", "broken": "sum(("}
    )
    assert not result.get("failed"), result
    assert result["figures"] == {"web1": {"load1": 0.25}, "web2": {"load1": 2}, "_": {"targets": "NaN"}}
    assert "parse error" in result["query_errors"]["broken"]


def test_check_mode_reads_the_same(prometheus, run_module):
    prometheus.targets = [target("node", "web1")]
    normal = run_module(url=prometheus.url)
    checked = run_module(url=prometheus.url, check_mode=True)
    for key in ("targets", "up", "down", "alerts", "summary", "healthy"):
        assert checked[key] == normal[key]
    assert checked["changed"] is False


def test_basic_auth_is_sent(prometheus, run_module):
    prometheus.auth = ("ops", "s3cret")
    prometheus.targets = [target("node", "web1")]
    refused = run_module(url=prometheus.url)
    assert refused["failed"] is True and "HTTP 401" in refused["msg"]
    result = run_module(url=prometheus.url, url_username="ops", url_password="s3cret")
    assert not result.get("failed"), result
    assert "s3cret" not in str(result)


def test_api_errors_are_messages_not_tracebacks(prometheus, run_module):
    prometheus.raw = (200, b"<html>not prometheus</html>")
    result = run_module(url=prometheus.url)
    assert result["failed"] is True and "not JSON" in result["msg"]

    prometheus.raw = (503, b'{"status": "error", "error": "server shutting down"}')
    result = run_module(url=prometheus.url)
    assert (
        result["failed"] is True and "HTTP 503" in result["msg"] and "server shutting down" in result["msg"]
    )

    result = run_module(url="http://127.0.0.1:9", wait_timeout=2, interval=1)
    assert result["failed"] is True and "cannot reach Prometheus at http://127.0.0.1:9" in result["msg"]


def test_an_empty_server_is_not_healthy(prometheus, run_module):
    result = run_module(url=prometheus.url)
    assert result["failed"] is True and "(any target)" in result["msg"]


def test_bad_input_names_the_parameter(prometheus, run_module):
    cases = [
        ({"url": "ftp://x"}, "url must start with http:// or https://"),
        ({"targets": ["a/b/c"]}, "targets: 'a/b/c' is neither"),
        ({"expect_alerts": [3]}, "expect_alerts[0]: 3 is neither an alert name"),
        ({"interval": 0}, "interval must be a positive number"),
        ({"queries": {"x": ""}}, "queries: x must be a PromQL expression"),
        ({"fail_severities": {"a": 1}}, "fail_severities"),
    ]
    for args, message in cases:
        result = run_module(**{"url": prometheus.url, **args})
        assert result["failed"] is True and message in result["msg"], (args, result["msg"])
    assert prometheus.requests == []
