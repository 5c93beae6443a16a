"""The firewall_rules filter: every rule checked with one line naming it, sources resolved and merged, and a
group the inventory does not have opening nothing."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.firewall_rules import firewall_rules

GROUPS = {"all": ["mon1", "app1", "db1"], "monitoring": ["mon1"], "app": ["app1"], "empty": []}
HOSTVARS = {
    "mon1": {"ansible_host": "10.0.0.5"},
    "app1": {"firewall_address": "10.0.1.7", "ansible_host": "x"},
}


def resolve(rule_vars, admin=(), port=22):
    return firewall_rules(rule_vars, list(admin), port, GROUPS, HOSTVARS)


def test_rules_resolve_to_merged_networks_with_ssh_first():
    out = resolve(
        {
            "firewall_allow": [
                {"name": "web", "port": [80, 443], "from": ["192.0.2.0/25", "192.0.2.128/25"]}
            ],
            "firewall_allow_node_exporter": [
                {"name": "metrics", "port": 9100, "from_groups": ["monitoring", "app"]}
            ],
        },
        admin=["10.9.0.0/16"],
    )
    ssh, web, metrics = out["rules"]
    assert ssh == {"name": "ssh", "proto": "tcp", "ports": "22", "anywhere": False,
                   "networks": {4: ["10.9.0.0/16"], 6: []}}  # fmt: skip
    assert web["ports"] == "{ 80, 443 }" and web["networks"][4] == ["192.0.2.0/24"]
    assert metrics["networks"][4] == ["10.0.0.5/32", "10.0.1.7/32"]
    assert out["notes"] == []


def test_a_rule_without_sources_is_open_to_all_and_ssh_without_admin_networks_too():
    ssh, web = resolve({"firewall_allow": [{"name": "web", "port": "8000-8100", "proto": "udp"}]})["rules"]
    assert ssh["anywhere"] and web["anywhere"] and web["proto"] == "udp" and web["ports"] == "8000-8100"


def test_a_group_the_inventory_does_not_have_opens_nothing_and_says_so():
    out = resolve(
        {"firewall_allow_node_exporter": [{"name": "metrics", "port": 9100, "from_groups": ["prometheus"]}]}
    )
    assert [rule["name"] for rule in out["rules"]] == ["ssh"]
    assert out["notes"] == [
        "firewall_allow_node_exporter[0] (metrics): the inventory has no group prometheus, "
        "so the rule opens nothing"
    ]
    out = resolve({"firewall_allow": [{"name": "m", "port": 1, "from_groups": ["monitoring", "nope"]}]})
    assert out["rules"][1]["networks"][4] == ["10.0.0.5/32"]
    assert "no group nope, so the rule opens nothing for it" in out["notes"][0]
    out = resolve({"firewall_allow": [{"name": "m", "port": 1, "from_groups": ["empty"]}]})
    assert len(out["rules"]) == 1 and "its groups have no hosts" in out["notes"][0]


@pytest.mark.parametrize(
    ("rule_vars", "message"),
    [
        ({"firewall_allow": "web"}, "firewall_allow must be a list of rules"),
        ({"firewall_allow": ["web"]}, "firewall_allow[0]: must be a mapping"),
        ({"firewall_allow": [{"name": "Web", "port": 80}]}, "firewall_allow[0] (Web): name must be lower"),
        ({"firewall_allow": [{"name": "ssh", "port": 80}]}, "the name ssh is taken"),
        ({"firewall_allow": [{"name": "a", "port": 1}], "firewall_allow_x": [{"name": "a", "port": 2}]},
         "firewall_allow_x[0] (a): firewall_allow[0] has the same name"),
        ({"firewall_allow": [{"name": "a", "port": 1, "src": []}]}, "unknown keys src"),
        ({"firewall_allow": [{"name": "a", "port": 1, "proto": "icmp"}]}, "proto must be tcp or udp"),
        ({"firewall_allow": [{"name": "a"}]}, "firewall_allow[0] (a): port is missing"),
        ({"firewall_allow": [{"name": "a", "port": 70000}]}, "port must be a number from 1 to 65535"),
        ({"firewall_allow": [{"name": "a", "port": "90-80"}]}, "port must be a number from 1 to 65535"),
        ({"firewall_allow": [{"name": "a", "port": []}]}, "port is an empty list"),
        ({"firewall_allow": [{"name": "a", "port": 1, "from": "10.0.0.0/8"}]}, "from must be a list"),
        ({"firewall_allow": [{"name": "a", "port": 1, "from": ["10.0.0.300/24"]}]},
         "firewall_allow[0] (a), from + from_groups[0]: '10.0.0.300/24' is not a valid IP network"),
        ({"firewall_allow": [{"name": "a", "port": 1, "from_groups": ["all"]}]},
         "host db1 of group all has no address"),
    ],
)  # fmt: skip
def test_bad_rules_fail_with_one_line_naming_the_rule(rule_vars, message):
    with pytest.raises(AnsibleFilterError) as error:
        resolve(rule_vars)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_admin_networks_and_ssh_port_are_named():
    with pytest.raises(
        AnsibleFilterError, match=r"firewall_admin_networks\[0\]: '10.1.2.3/8' has host bits set"
    ):
        resolve({}, admin=["10.1.2.3/8"])
    with pytest.raises(AnsibleFilterError, match="firewall_ssh_port: port must be a number"):
        resolve({}, port=0)
