"""The sysctl_settings filter: overrides on top of a role's kernel parameters, each checked with one line."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.sysctl_settings import sysctl_settings

ROLE = {"net.ipv4.ip_forward": 0, "net.ipv4.tcp_rmem": "4096 87380 6291456"}
WHAT = "os_hardening_sysctl_overrides"


def test_overrides_win_and_new_parameters_are_added():
    merged = sysctl_settings(ROLE, {"net.ipv4.ip_forward": 1, "kernel.core_pattern": "|/bin/false"}, WHAT)
    assert merged == dict(ROLE, **{"net.ipv4.ip_forward": 1, "kernel.core_pattern": "|/bin/false"})
    assert sysctl_settings(ROLE, {"net.ipv4.tcp_rmem": "4096 131072 6291456", "vm.swappiness": True}, WHAT)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ("net.ipv4.ip_forward=1", "os_hardening_sysctl_overrides must map kernel parameter names"),
        (
            {"net.ipv4.ip_forward": "maybe"},
            "os_hardening_sysctl_overrides['net.ipv4.ip_forward']: 'maybe' is not a number",
        ),
        ({"net.ipv4.tcp_rmem": "big"}, "'big' is not a number"),
        (
            {"not a key": 1},
            "os_hardening_sysctl_overrides['not a key']: 'not a key' is not a kernel parameter name",
        ),
        ({"vm.swappiness": [1]}, "os_hardening_sysctl_overrides['vm.swappiness']: the value [1] is a list"),
        ({"vm.swappiness": ""}, "the value is empty"),
        ({"vm.swappiness": "1\n2"}, "contains a line break"),
    ],
)
def test_bad_overrides_fail_with_one_line_naming_the_key(overrides, message):
    with pytest.raises(AnsibleFilterError) as error:
        sysctl_settings(ROLE, overrides, WHAT)
    assert message in str(error.value) and "\n" not in str(error.value)
