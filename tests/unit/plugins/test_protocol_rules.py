"""The decisions of the convergence protocol, without a host: when a unit is stale, what it needs, when a
command runs again, and when a host_state read covers what converge needs."""

import pytest
from ansible_collections.eightfold.devops.plugins.action import converge
from ansible_collections.eightfold.devops.plugins.module_utils import _host

RUNNING = dict(enabled="enabled", active="active", loaded="loaded", since=100.0, need_daemon_reload=False)


def spec(**fields):
    return dict(
        dict(name="x.service", enabled=True, state="started", watch=[], on_change="restart"), **fields
    )


def test_systemd_timestamps_are_read_in_utc_and_absent_ones_are_zero():
    assert _host.systemd_timestamp("Sat 2026-12-05 16:13:17.392641 UTC") == pytest.approx(1796487197.392641)
    assert _host.systemd_timestamp("") == 0.0
    assert _host.systemd_timestamp("n/a") == 0.0


def test_a_running_unit_is_stale_only_for_files_newer_than_its_start_or_changed_by_this_run():
    mtimes = {"/etc/old": 50.0, "/etc/new": 150.0}.get
    assert _host.stale_files(RUNNING, ["/etc/old", "/etc/new", "/etc/missing"], mtime_of=mtimes) == [
        "/etc/new"
    ]
    assert _host.stale_files(RUNNING, ["/etc/old"], changed=["/etc/old"], mtime_of=mtimes) == ["/etc/old"]
    # A unit that does not run takes the files up when it starts.
    assert _host.stale_files(dict(RUNNING, active="inactive"), ["/etc/new"], mtime_of=mtimes) == []


@pytest.mark.parametrize(
    ("wanted", "state", "actions"),
    [
        (spec(), RUNNING, []),
        (spec(), dict(RUNNING, enabled="disabled"), ["enable"]),
        (spec(), dict(RUNNING, active="inactive", since=0.0), ["start"]),
        (spec(), dict(RUNNING, active="failed"), ["restart"]),
        (spec(watch=["/etc/new"]), RUNNING, ["restart"]),
        (spec(watch=["/etc/new"], on_change="reload"), RUNNING, ["reload"]),
        (spec(state="reloaded"), RUNNING, ["reload"]),
        (spec(state="restarted"), RUNNING, ["restart"]),
        (spec(enabled=False, state="stopped"), RUNNING, ["disable", "stop"]),
        (spec(enabled=None, state=None, watch=["/etc/new"]), RUNNING, ["restart"]),
        (spec(enabled=None, state=None), dict(RUNNING, enabled="static"), []),
        (spec(enabled=True), dict(RUNNING, enabled="static"), []),
    ],
)
def test_what_a_unit_needs(wanted, state, actions):
    got, _stale, deferred = _host.plan_unit(wanted, state, False, mtime_of={"/etc/new": 150.0}.get)
    assert got == actions and deferred is False


def test_in_a_container_a_deferred_unit_is_stopped_disabled_and_its_failure_cleared():
    wanted = spec(in_container="defer", watch=["/etc/new"])
    assert _host.plan_unit(wanted, RUNNING, True) == (["disable", "stop"], [], True)
    failed = dict(RUNNING, enabled="disabled", active="failed")
    assert _host.plan_unit(wanted, failed, True)[0] == ["reset-failed"]
    # Not in a container, it runs like any unit.
    assert _host.plan_unit(wanted, RUNNING, False, mtime_of={"/etc/new": 150.0}.get)[0] == ["restart"]


def test_a_command_runs_again_when_a_file_it_applies_is_newer_than_its_last_run():
    command = dict(name="pam-auth-update", argv=["pam-auth-update", "--package"], watch=["/etc/a", "/etc/b"])
    record = _host.command_record("pam-auth-update")
    times = {"/etc/a": 10.0, "/etc/b": 30.0, record: 20.0}
    assert _host.stale_command(command, mtime_of=times.get) == ["/etc/b"]
    assert _host.stale_command(command, mtime_of=dict(times, **{record: 40.0}).get) == []
    assert _host.stale_command(command, changed=["/etc/a"], mtime_of=dict(times, **{record: 40.0}).get) == [
        "/etc/a"
    ]
    # Never ran: every existing file counts.
    assert _host.stale_command(command, mtime_of={"/etc/a": 10.0}.get) == ["/etc/a"]


def test_a_read_covers_converge_only_when_it_looked_at_everything_needed():
    read = dict(
        covers=dict(packages=["a"], units=["u.service"], files=["/etc/f"], file_attributes=["/etc/d"])
    )
    wanted = dict(packages=["a"], units=["u.service"], files=["/etc/f"], file_attributes=["/etc/d", "/etc/f"])
    assert converge.covers(read, wanted)
    assert not converge.covers(read, dict(wanted, packages=["a", "b"]))
    assert not converge.covers(read, dict(wanted, files=["/etc/d"]))  # read without a hash
    assert not converge.covers(dict(read, failed=True), wanted)
    assert not converge.covers({}, wanted)
    again = converge.read_args(
        dict(read, covers=dict(read["covers"], session=True)), dict(wanted, packages=["b"])
    )
    assert again["packages"] == ["a", "b"] and again["session"] is True


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("ssh.service", "units must be a list"),
        ([{"enabled": True}], "units[0]"),
        ([{"name": "a.service", "restart": True}], "units[0] (a.service): unknown options restart"),
        ([{"name": "a.service", "state": "running"}], "state 'running' is not one of"),
    ],
)
def test_bad_units_are_named(units, message):
    with pytest.raises(converge.ConvergeError, match=None) as error:
        converge.checked_units(units)
    assert message in str(error.value)
