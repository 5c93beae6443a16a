"""eightfold.devops.networks: merge, order, families and every malformed form, named in the error."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.networks import FilterModule, networks


def test_registered_under_its_name():
    assert FilterModule().filters()["networks"] is networks


def test_merges_duplicates_overlaps_and_adjacent_networks():
    value = ["10.0.1.0/24", "10.0.0.0/24", "10.0.0.5", "10.0.0.0/25", "10.0.1.0/24", "192.0.2.7"]
    assert networks(value) == ["10.0.0.0/23", "192.0.2.7/32"]


def test_ipv4_before_ipv6_and_sorted_by_address():
    value = ["2001:db8::/32", "::1", "192.168.0.0/16", "10.0.0.0/8", "fe80::/10", "2001:db8:1::/48"]
    assert networks(value) == ["10.0.0.0/8", "192.168.0.0/16", "::1/128", "2001:db8::/32", "fe80::/10"]


def test_plain_addresses_become_host_networks():
    assert networks(["192.0.2.1", "2001:db8::1"]) == ["192.0.2.1/32", "2001:db8::1/128"]


def test_a_single_string_is_accepted():
    assert networks("10.1.2.0/24") == ["10.1.2.0/24"]


def test_empty_list_gives_empty_list():
    assert networks([]) == []


@pytest.mark.parametrize(
    ("family", "expected"), [(4, ["10.0.0.0/8"]), ("6", ["2001:db8::/32"]), (None, None)]
)
def test_family_keeps_one_family(family, expected):
    value = ["10.0.0.0/8", "2001:db8::/32"]
    assert networks(value, "x", family=family) == (expected or ["10.0.0.0/8", "2001:db8::/32"])


def test_bad_family_is_named():
    with pytest.raises(AnsibleFilterError, match=r"firewall_allowed_networks: family must be 4, 6 or None"):
        networks(["10.0.0.0/8"], "firewall_allowed_networks", family=5)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("10.0.0.300/24", r"firewall_allowed_networks\[2\]: '10.0.0.300/24' is not a valid IP network$"),
        (
            "10.0.0.0/33",
            r"firewall_allowed_networks\[2\]: '10.0.0.0/33' is not a valid IP network \(prefix /33",
        ),
        (
            "2001:db8::/129",
            r"\[2\]: '2001:db8::/129' is not a valid IP network \(prefix /129 is longer than /128",
        ),
        ("10.0.0.1/24", r"\[2\]: '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24\?"),
        ("2001:db8::1/32", r"\[2\]: '2001:db8::1/32' has host bits set; did you mean 2001:db8::/32\?"),
        ("10.0.0.0/", r"\[2\]: '10.0.0.0/' is not a valid IP network \(bad prefix length\)"),
        ("10.0.0.0/x", r"\[2\]: '10.0.0.0/x' is not a valid IP network"),
        ("10.1", r"\[2\]: '10.1' is not a valid IP network"),
        ("fe80::1%eth0", r"\[2\]: 'fe80::1%eth0' is not a valid IP network"),
        ("", r"\[2\]: '' is not a valid IP network"),
        ("example.com", r"\[2\]: 'example.com' is not a valid IP network"),
        (None, r"firewall_allowed_networks\[2\]: None is a null, not an IP address or network string"),
        (10, r"firewall_allowed_networks\[2\]: 10 is a int, not an IP address or network string"),
        (["10.0.0.0/8"], r"\[2\]: \['10.0.0.0/8'\] is a list"),
    ],
)
def test_malformed_entry_names_variable_index_and_value(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        networks(["10.0.0.0/8", "192.0.2.0/24", bad], "firewall_allowed_networks")


def test_malformed_single_string_names_the_variable():
    with pytest.raises(
        AnsibleFilterError, match=r"^pg_hba_networks: '300.0.0.0/8' is not a valid IP network"
    ):
        networks("300.0.0.0/8", "pg_hba_networks")


@pytest.mark.parametrize("value", [None, 42, {"a": "10.0.0.0/8"}])
def test_input_that_is_not_a_string_or_list(value):
    with pytest.raises(AnsibleFilterError, match=r"^nets: expected a string or a list of strings"):
        networks(value, "nets")


def test_through_a_template(tmp_path, ansible):
    playbook = tmp_path / "filter.yml"
    playbook.write_text(
        """
- hosts: localhost
  gather_facts: false
  vars:
    firewall_allowed_networks: ["10.0.1.0/24", "10.0.0.0/24", "2001:db8::/32", "192.0.2.9"]
    bad: ["10.0.0.0/8", "10.0.0.1/24"]
  tasks:
    - name: merged
      ansible.builtin.set_fact:
        v4: "{{ firewall_allowed_networks | eightfold.devops.networks('firewall_allowed_networks', 4) }}"
        all: "{{ firewall_allowed_networks | eightfold.devops.networks }}"
    - name: malformed
      ansible.builtin.debug:
        msg: "{{ bad | eightfold.devops.networks('bad') }}"
      ignore_errors: true
"""
    )
    _, data = ansible.run(playbook)
    results = ansible.results(data)
    assert results["merged"]["ansible_facts"]["v4"] == ["10.0.0.0/23", "192.0.2.9/32"]
    assert results["merged"]["ansible_facts"]["all"] == ["10.0.0.0/23", "192.0.2.9/32", "2001:db8::/32"]
    assert results["malformed"]["failed"]
    assert "bad[1]: '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24?" in results["malformed"]["msg"]
