"""Role eightfold.devops.load_balancer on a fresh Debian 12 container in front of two real HTTP backends:
check mode on the fresh host, converge, requests through HAProxy, health checks, drain through the admin
socket (kept across a reload), metrics, idempotence, check mode on the converged host, and bad input."""

import time

import pytest
from conftest import failures, lb_sh, run_plays, run_role, server_status
from systemd_host import address


@pytest.fixture(scope="module")
def converged(lb, inventory):
    """Check mode on the fresh host first (it must not fail), then the real run."""
    fresh_rc, fresh = run_role(inventory, "--check", "--diff")
    rc, out = run_role(inventory)
    assert rc == 0, failures(out)
    return {"fresh_check": (fresh_rc, fresh), "first": out, "url": f"http://{address(lb)}"}


def changed(output: dict) -> int:
    return sum(stats["changed"] for stats in output["stats"].values())


def wait_for_status(lb, server, want, timeout=15.0):
    deadline = time.monotonic() + timeout
    while (state := server_status(lb).get(server)) != want:
        assert time.monotonic() < deadline, f"{server} is {state}, not {want}, after {timeout} s"
        time.sleep(0.2)


def test_check_mode_on_a_fresh_host_does_not_fail(converged):
    rc, out = converged["fresh_check"]
    assert rc == 0, failures(out)
    assert changed(out) > 0  # it says what it would do: install and configure


def test_requests_reach_both_backends(converged, backends):
    answers = backends.get(converged["url"] + "/whoami", count=6)
    assert sorted(set(answers)) == ["app1", "app2"], answers


def test_metrics_endpoint_and_registration(converged, backends, lb):
    metrics = backends.get(converged["url"] + ":8405/metrics")[0]
    assert 'haproxy_backend_active_servers{proxy="notes"} 2' in metrics
    assert 'haproxy_server_status{proxy="notes",server="app1",state="UP"} 1' in metrics
    assert backends.get(converged["url"] + ":8405/other")[0].startswith("ERROR HTTP Error 404")
    target = lb_sh(lb, f"cat /etc/prometheus/file_sd/haproxy/{lb}.yml")
    assert f"{lb}:8405" in target and "instance: " + lb in target


def test_second_run_and_check_mode_change_nothing(converged, inventory):
    rc, out = run_role(inventory)
    assert rc == 0 and changed(out) == 0, out["stats"]
    rc, out = run_role(inventory, "--check", "--diff")
    assert rc == 0 and changed(out) == 0, out["stats"]


def haproxy_task(lb, state):
    return [
        {
            "hosts": "lb",
            "gather_facts": False,
            "tasks": [
                {
                    "name": f"{state} app1",
                    "community.general.haproxy": {
                        "socket": "/run/haproxy/admin.sock",
                        "backend": "notes",
                        "host": "app1",
                        "state": state,
                        "wait": True,
                    },
                }
            ],
        }
    ]


def test_drain_through_the_socket_survives_a_reload(converged, inventory, backends, lb):
    rc, out = run_plays(inventory, haproxy_task(lb, "drain"))
    assert rc == 0, failures(out)
    assert server_status(lb)["app1"] == "DRAIN"
    assert set(backends.get(converged["url"] + "/whoami", count=4)) == {"app2"}
    lb_sh(lb, "systemctl reload haproxy")
    time.sleep(1)
    assert server_status(lb)["app1"] == "DRAIN"
    assert set(backends.get(converged["url"] + "/whoami", count=4)) == {"app2"}
    rc, out = run_plays(inventory, haproxy_task(lb, "enabled"))
    assert rc == 0, failures(out)
    wait_for_status(lb, "app1", "UP")
    assert set(backends.get(converged["url"] + "/whoami", count=4)) == {"app1", "app2"}


def test_a_stopped_backend_goes_down_without_failed_requests(converged, backends, lb):
    backends.stop("app1")
    try:
        # Before the checks notice, a request sent to app1 fails to connect and is retried on app2.
        answers = backends.get(converged["url"] + "/whoami", count=10)
        assert set(answers) == {"app2"}, answers
        wait_for_status(lb, "app1", "DOWN", timeout=10)
        assert set(backends.get(converged["url"] + "/whoami", count=4)) == {"app2"}
    finally:
        backends.start("app1")
    wait_for_status(lb, "app1", "UP", timeout=10)


def test_bad_input_fails_before_any_change_naming_the_variable(converged, inventory):
    rc, out = run_role(inventory, extra={"load_balancer_port": 70000})
    assert rc != 0
    (msg,) = failures(out)
    assert "load_balancer_port is 70000" in msg and "Nothing was changed" in msg
    assert changed(out) == 0
    # Only HAProxy knows: haproxy -c refuses the new haproxy.cfg, which is never installed.
    rc, out = run_role(inventory, extra={"load_balancer_frontend_extra": ["no-such-directive on"]})
    assert rc != 0
    assert "unknown keyword 'no-such-directive'" in failures(out)[-1]
    assert changed(out) == 0


def test_a_configuration_newer_than_haproxy_is_reloaded_by_the_next_run(converged, inventory, lb):
    """A run that wrote haproxy.cfg and died before the reload: the next run reloads, though the file is as
    wanted (the reload is recorded, so the run after it changes nothing)."""
    time.sleep(1)
    lb_sh(lb, "touch /etc/haproxy/haproxy.cfg")
    rc, out = run_role(inventory)
    assert rc == 0 and changed(out) == 1, out["stats"]
    assert "systemctl reload -- haproxy.service" in str(out)
    rc, out = run_role(inventory)
    assert rc == 0 and changed(out) == 0, out["stats"]
