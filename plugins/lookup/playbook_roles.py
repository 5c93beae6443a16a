# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible plugins import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
name: playbook_roles
short_description: Which roles a playbook applies to which hosts, and those roles' argument specs
version_added: 0.1.0
description:
  - Reads a playbook's plays (without running it) and returns, for every inventory host its plays target, the
    roles listed under C(roles), and for every such role found under O(roots) the options of its
    C(meta/argument_specs.yml) (entry point C(main)) ready for M(ansible.builtin.validate_argument_spec).
  - What the plan phase checks before it runs the playbook in check mode. An option with a default in the
    role's C(defaults/main.yml) is not required (the role run would not miss it), and the specs' own defaults
    are dropped - only what the inventory sets is checked.
  - Plays it cannot map (an C(import_playbook), C(hosts) that is a template) are returned in C(unmapped).
author:
  - eightfold.devops maintainers (@eightfold)
options:
  _terms:
    description: The playbook's path.
    required: true
  roots:
    description: Directories to find roles in, in order; a role C(eightfold.devops.x) or C(x) is C(x) there.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Map hosts to roles
  ansible.builtin.set_fact:
    plan: "{{ lookup('eightfold.devops.playbook_roles', playbook_dir ~ '/site.yml', roots=[roles_dir]) }}"
  vars:
    roles_dir: "{{ playbook_dir }}/../roles"
"""

RETURN = r"""
_raw:
  description: C(map) (host to role names), C(unmapped) (plays not mapped) and C(specs) (role to C(path) and
    C(options)).
  type: list
  elements: dict
"""

import os

import yaml
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

COLLECTION_PREFIX = "eightfold.devops."


def play_roles(plays):
    """[(hosts pattern, [role names])] of the plays that name their hosts; descriptions of the others."""
    mapped, unmapped = [], []
    for play in plays if isinstance(plays, list) else []:
        if not isinstance(play, dict):
            continue
        imported = play.get("import_playbook") or play.get("ansible.builtin.import_playbook")
        if imported:
            unmapped.append(f"import of {imported}")
            continue
        hosts = play.get("hosts")
        if hosts is None:
            continue
        if "{{" in str(hosts):
            unmapped.append(f'play "{play.get("name", "?")}" (hosts {hosts})')
            continue
        pattern = hosts if isinstance(hosts, str) else ",".join(map(str, hosts))
        names = []
        for role in play.get("roles") or []:
            name = role if isinstance(role, str) else (role.get("role") or role.get("name"))
            if name and name not in names:
                names.append(name)
        mapped.append((pattern, names))
    return mapped, unmapped


def role_spec(name, roots):
    """{path, options} of a role found under the roots; empty when it is not (another collection's role)."""
    short = name[len(COLLECTION_PREFIX) :] if name.startswith(COLLECTION_PREFIX) else name
    for root in roots:
        path = os.path.join(root, short)
        spec_file = os.path.join(path, "meta", "argument_specs.yml")
        if "." in short or not os.path.isfile(spec_file):
            continue
        with open(spec_file, encoding="utf-8") as handle:
            main = ((yaml.safe_load(handle) or {}).get("argument_specs") or {}).get("main") or {}
        defaults_file = os.path.join(path, "defaults", "main.yml")
        defaults = {}
        if os.path.isfile(defaults_file):
            with open(defaults_file, encoding="utf-8") as handle:
                defaults = yaml.safe_load(handle) or {}
        options = {}
        for option, spec in (main.get("options") or {}).items():
            # ansible-core cannot apply a mapping default to a no_log option (unhashable type).
            kept = {key: value for key, value in spec.items() if key != "default"}
            if option in defaults:
                kept["required"] = False
            options[option] = kept
        return {"path": os.path.realpath(path), "options": options}
    return {"path": "", "options": {}}


def playbook_roles(plays, hosts_of, roots):
    """The map of hosts to roles, the unmapped plays and the roles' specs; hosts_of(pattern) -> host names."""
    mapped, unmapped = play_roles(plays)
    roles_of = {}
    for pattern, names in mapped:
        for host in hosts_of(pattern):
            listed = roles_of.setdefault(host, [])
            listed.extend(name for name in names if name not in listed)
    every = sorted({name for names in roles_of.values() for name in names})
    return {"map": roles_of, "unmapped": unmapped, "specs": {name: role_spec(name, roots) for name in every}}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("playbook_roles takes one playbook path")
        path = str(terms[0])
        try:
            plays = self._loader.load_from_file(path)
        except AnsibleError as exc:
            raise AnsibleLookupError(f"playbook_roles: cannot read the playbook {path}: {exc}") from None
        hostnames = lookup_loader.get(
            "ansible.builtin.inventory_hostnames", loader=self._loader, templar=self._templar
        )

        def hosts_of(pattern):
            return hostnames.run([pattern], variables=variables)

        return [playbook_roles(plays, hosts_of, [str(root) for root in self.get_option("roots")])]
