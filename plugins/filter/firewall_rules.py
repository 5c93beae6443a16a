# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall_rules filter: the firewall role's rule variables, checked and resolved (docs in
firewall_rules.yml)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.networks import networks

RULE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
PORT = re.compile(r"^([0-9]+)(?:-([0-9]+))?$")
RULE_KEYS = ("name", "port", "proto", "from", "from_groups")


def _ports(where, port):
    items = port if isinstance(port, list) else [port]
    if not items:
        raise AnsibleFilterError(f"{where}: port is an empty list")
    ports = []
    for item in items:
        match = PORT.match(str(item)) if not isinstance(item, bool) else None
        low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, 0)
        if not match or not 1 <= low <= high <= 65535:
            raise AnsibleFilterError(
                f"{where}: port must be a number from 1 to 65535, a list of them or a range like 8000-8100 "
                f"(got {port!r})"
            )
        ports.append(str(item))
    return ports[0] if len(ports) == 1 else "{ " + ", ".join(ports) + " }"


def _check_rule(where, rule, seen):
    if not isinstance(rule, Mapping):
        raise AnsibleFilterError(f"{where}: must be a mapping with name, port, proto, from, from_groups")
    name = rule.get("name")
    label = f"{where} ({name})" if name is not None else where
    if not isinstance(name, str) or not RULE_NAME.match(name):
        raise AnsibleFilterError(
            f"{label}: name must be lower-case letters, digits, '_' and '-', starting with a letter "
            f"(got {name!r})"
        )
    if name == "ssh":
        raise AnsibleFilterError(
            f"{label}: the name ssh is taken by the built-in SSH rule (firewall_admin_networks)"
        )
    if name in seen:
        raise AnsibleFilterError(f"{label}: {seen[name]} has the same name; rule names must be unique")
    unknown = sorted(set(rule) - set(RULE_KEYS))
    if unknown:
        raise AnsibleFilterError(
            f"{label}: unknown keys {', '.join(map(str, unknown))} (known: {', '.join(RULE_KEYS)})"
        )
    if rule.get("proto", "tcp") not in ("tcp", "udp"):
        raise AnsibleFilterError(f"{label}: proto must be tcp or udp (got {rule['proto']!r})")
    if "port" not in rule:
        raise AnsibleFilterError(f"{label}: port is missing")
    for key in ("from", "from_groups"):
        value = rule.get(key, [])
        if isinstance(value, str) or not isinstance(value, list):
            raise AnsibleFilterError(f"{label}: {key} must be a list (got {value!r})")
    return label


def _address(hostvars, host):
    try:
        variables = hostvars[host]
    except KeyError:
        return ""
    return str(variables.get("firewall_address") or variables.get("ansible_host") or "")


def firewall_rules(rule_vars, admin_networks, ssh_port, groups, hostvars):
    """The rules the nftables template writes, SSH first: name, proto, ports (nft syntax), anywhere,
    networks {4: [...], 6: [...]}; and notes on rules that open nothing.

    rule_vars: {variable name: list of rules} (firewall_allow and every firewall_allow_<name>).
    groups: the inventory's groups {name: [host, ...]}.
    hostvars: the inventory's hostvars; a host counts with firewall_address, else ansible_host.
    """
    if not isinstance(rule_vars, Mapping):
        raise AnsibleFilterError("firewall_rules expects a mapping of rule variable names to lists of rules")
    ssh = {"name": "ssh", "port": ssh_port, "from": admin_networks}
    entries = [("firewall_admin_networks", ssh, "firewall_admin_networks")]
    seen = {}
    for variable in sorted(rule_vars):
        rules = rule_vars[variable]
        if isinstance(rules, str) or not isinstance(rules, list):
            raise AnsibleFilterError(
                f"{variable} must be a list of rules (name, port, proto, from, from_groups)"
            )
        for index, rule in enumerate(rules):
            where = f"{variable}[{index}]"
            label = _check_rule(where, rule, seen)
            seen[rule["name"]] = where
            entries.append((label, rule, f"{label}, from + from_groups"))

    resolved, notes = [], []
    for label, rule, what in entries:
        ports = _ports(label if rule["name"] != "ssh" else "firewall_ssh_port", rule["port"])
        sources = list(rule.get("from") or [])
        given = bool(sources)
        absent = []
        for group in rule.get("from_groups") or []:
            given = True
            if group not in groups:
                absent.append(group)
                continue
            for host in groups[group]:
                address = _address(hostvars, host)
                if not address:
                    raise AnsibleFilterError(
                        f"{label}: host {host} of group {group} has no address "
                        "(set firewall_address or ansible_host for it)"
                    )
                sources.append(address)
        missing = f"the inventory has no group {', '.join(absent)}" if absent else "its groups have no hosts"
        if given and not sources:
            notes.append(f"{label}: {missing}, so the rule opens nothing")
            continue
        if absent:
            notes.append(f"{label}: {missing}, so the rule opens nothing for it")
        resolved.append(
            {
                "name": rule["name"],
                "proto": rule.get("proto", "tcp"),
                "ports": ports,
                "anywhere": not sources,
                "networks": {
                    4: networks(sources, what=what, family=4),
                    6: networks(sources, what=what, family=6),
                },
            }
        )
    return {"rules": resolved, "notes": notes}


class FilterModule:
    def filters(self):
        return {"firewall_rules": firewall_rules}
