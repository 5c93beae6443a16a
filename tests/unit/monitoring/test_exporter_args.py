"""eightfold.devops.exporter_args and collector_args: an exporter's command line checked against the flags of
the release Debian ships (the data in roles/*/vars/Debian-<release>.yml)."""

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.exporter_args import (
    FilterModule,
    collector_args,
    exporter_args,
)

ROLES = Path(__file__).resolve().parents[3] / "roles"


def release(role, debian):
    data = yaml.safe_load((ROLES / role / "vars" / f"Debian-{debian}.yml").read_text())
    return data[f"__{role}_release"]


NODE_12 = release("node_exporter", "12")
NODE_13 = release("node_exporter", "13")
POSTGRES_12 = release("postgres_exporter", "12")
POSTGRES_13 = release("postgres_exporter", "13")
OWN = {"node_exporter_listen_address": ["--web.listen-address=0.0.0.0:9100"]}


def raises(text):
    """The filter fails with a message holding text."""
    return pytest.raises(AnsibleFilterError, match=re.escape(text))


def test_registered_under_their_names():
    filters = FilterModule().filters()
    assert filters["exporter_args"] is exporter_args
    assert filters["collector_args"] is collector_args


def test_the_release_data_is_what_debian_ships():
    assert (NODE_12["version"], NODE_13["version"]) == ("1.5.0", "1.9.0")
    assert (POSTGRES_12["version"], POSTGRES_13["version"]) == ("0.11.1", "0.17.1")
    assert {"systemd", "textfile", "cpu", "filesystem"} <= set(NODE_12["collectors"])
    assert {"softirqs", "watchdog", "xfrm", "cpu_vulnerabilities"} <= set(NODE_13["collectors"]) - set(
        NODE_12["collectors"]
    )
    for data in (NODE_12, NODE_13):
        assert {"web.listen-address", "web.config.file", "collector.textfile.directory"} <= set(
            data["values"]
        )
        assert "collector.systemd.unit-include" in data["values"]
    assert "dumpmaps" not in POSTGRES_12["switches"] + POSTGRES_13["switches"]


# collector_args


def test_collectors_become_flags_enabled_first():
    assert collector_args(["systemd", "processes"], ["mdadm"], NODE_12) == [
        "--collector.systemd",
        "--collector.processes",
        "--no-collector.mdadm",
    ]


def test_a_collector_of_the_newer_release_only_is_refused_on_the_older():
    assert collector_args(["softirqs"], [], NODE_13) == ["--collector.softirqs"]
    with raises(
        "node_exporter_collectors_enabled: softirqs is not a collector of node_exporter 1.5.0 (Debian 12)"
    ):
        collector_args(["softirqs"], [], NODE_12)


def test_a_misspelt_collector_is_named_with_a_suggestion():
    with raises(
        "node_exporter_collectors_disabled: sytemd is not a collector of node_exporter 1.9.0 (Debian 13) "
        "(did you mean systemd?)"
    ):
        collector_args([], ["sytemd"], NODE_13)


def test_a_collector_name_of_the_wrong_form_is_refused_without_release_data():
    with raises("'Systemd' is not a collector name"):
        collector_args(["Systemd"], [], None)
    assert collector_args(["anything_new"], [], {}) == ["--collector.anything_new"]


def test_a_collector_both_enabled_and_disabled_is_refused():
    with raises("both name systemd"):
        collector_args(["systemd"], ["systemd"], NODE_12)


def test_not_a_list_is_refused():
    with raises("node_exporter_collectors_enabled must be a list"):
        collector_args("systemd", [], NODE_12)


# exporter_args


def test_own_arguments_come_first_then_the_extra_ones():
    extra = [
        "--collector.filesystem.mount-points-exclude=^/(dev|proc)($|/)",
        "--web.disable-exporter-metrics",
    ]
    assert exporter_args(extra, NODE_12, "node_exporter_extra_args", OWN) == [
        "--web.listen-address=0.0.0.0:9100",
        *extra,
    ]


def test_no_extra_arguments_is_the_own_line():
    assert exporter_args([], NODE_13, "x", OWN) == ["--web.listen-address=0.0.0.0:9100"]
    assert exporter_args([], NODE_13) == []


def test_an_unknown_flag_is_refused_naming_the_variable_and_release():
    with raises(
        "node_exporter_extra_args: --collector.filesystem.mount-points-exclud is not a flag of "
        "node_exporter 1.9.0 (Debian 13) (did you mean --collector.filesystem.mount-points-exclude?)"
    ):
        exporter_args(["--collector.filesystem.mount-points-exclud=^/x"], NODE_13, "node_exporter_extra_args")


def test_a_flag_of_the_newer_release_only_is_refused_on_the_older():
    arg = ["--collector.filesystem.mount-points-include=^/srv"]
    assert exporter_args(arg, NODE_13, "v") == arg
    with raises("is not a flag of node_exporter 1.5.0"):
        exporter_args(arg, NODE_12, "v")


def test_collector_switches_and_their_negation_are_flags():
    args = ["--collector.processes", "--no-collector.mdadm", "--collector.cpu.info"]
    assert exporter_args(args, NODE_12, "v") == args


def test_a_value_flag_needs_its_value_and_a_switch_takes_none():
    with raises("--log.level takes a value: --log.level=VALUE"):
        exporter_args(["--log.level"], NODE_12, "v")
    with raises("--web.disable-exporter-metrics is a switch without a value"):
        exporter_args(["--web.disable-exporter-metrics=true"], NODE_12, "v")


def test_a_flag_the_role_sets_is_refused_naming_the_variable_that_sets_it():
    with raises(
        "node_exporter_extra_args: --web.listen-address is set by the role from node_exporter_listen_address"
    ):
        exporter_args(["--web.listen-address=:9200"], NODE_12, "node_exporter_extra_args", OWN)
    own = {"node_exporter_collectors_enabled": ["--no-collector.mdadm"]}
    with raises("--collector.mdadm is set by the role"):
        exporter_args(["--collector.mdadm"], NODE_12, "v", own)


def test_a_flag_given_twice_is_refused_unless_repeatable():
    with raises("--log.level is given more than once"):
        exporter_args(["--log.level=debug", "--log.level=warn"], NODE_12, "v")
    with raises("--collector.cpu.info is given more than once"):
        exporter_args(["--collector.cpu.info", "--no-collector.cpu.info"], NODE_12, "v")
    twice = ["--collector.sysctl.include=vm.swappiness", "--collector.sysctl.include=vm.overcommit_memory"]
    assert exporter_args(twice, NODE_13, "v") == twice


@pytest.mark.parametrize(
    "arg",
    [
        "--log.level=debug info",
        '--web.telemetry-path="/m"',
        "--log.level=\tdebug",
        "log.level=debug",
        "-v",
    ],
)
def test_what_the_args_line_cannot_carry_or_no_flag_is_refused(arg):
    with raises("postgres_exporter_extra_args: "):
        exporter_args([arg], POSTGRES_13, "postgres_exporter_extra_args")


def test_postgres_exporter_flags_of_each_release():
    assert exporter_args(["--collector.stat_statements"], POSTGRES_13, "v") == ["--collector.stat_statements"]
    with raises("--collector.stat_statements is not a flag of postgres_exporter 0.11.1 (Debian 12)"):
        exporter_args(["--collector.stat_statements"], POSTGRES_12, "v")
    with raises("--dumpmaps is not a flag"):
        exporter_args(["--dumpmaps"], POSTGRES_12, "v")


def test_without_release_data_only_the_form_is_checked():
    assert exporter_args(["--anything.new=1", "--no-such"], None, "v") == ["--anything.new=1", "--no-such"]


def test_bad_input_to_the_filter_itself():
    with raises("v must be a list of strings"):
        exporter_args("--log.level=debug", NODE_12, "v")
    with raises("v: 3 is not a string"):
        exporter_args([3], NODE_12, "v")
    with raises("release must be a mapping"):
        exporter_args([], ["not", "data"], "v")
    with raises("own argument 'web' is not a flag"):
        exporter_args([], NODE_12, "v", {"x": ["web"]})
