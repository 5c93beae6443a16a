# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible plugins import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
name: controls
short_description: Entries of the hardening control catalogue
version_added: 0.1.0
description:
  - Returns the entries of the collection's control catalogue (C(catalogue/controls.yml)) that match all
    the given filters, as a list of dicts (id, title, area, role, cis, severity, container, check), in
    catalogue order.
  - The roles C(os_hardening), C(ssh_hardening) and C(firewall) read what they enforce from here, and
    C(eightfold.devops.baseline_audit) audits the same list, so the roles, the audit and the docs agree.
  - Each filter takes one value, a list, or a comma-separated string. An unknown value (a role, area, check
    type or id not in the catalogue) is an error that names it.
author:
  - eightfold.devops maintainers (@eightfold)
options:
  _terms:
    description: Control ids to return (same as O(ids)). Optional.
    required: false
  role:
    description: Only controls enforced by this role (V(os_hardening), V(ssh_hardening), V(firewall)).
    type: raw
  area:
    description: Only controls of this area (kernel, network, auth, coredump, modules, filesystem, cron,
      auditd, banner, packages, integrity, fail2ban, ssh, firewall).
    type: raw
  type:
    description: Only controls whose check has this type (sysctl, file_setting, sshd, kmod_disabled, ...).
    type: raw
  container:
    description: Only controls a container V(enforced) or V(deferred).
    type: raw
  ids:
    description: Only these control ids.
    type: raw
  exclude_ids:
    description: Leave out these control ids (a role's skip list), after the same check for unknown ids.
    type: raw
    version_added: 0.1.0
  exclude_areas:
    description: Leave out the controls of these areas, after the same check for unknown areas.
    type: raw
    version_added: 0.1.0
  catalogue:
    description: Path of another catalogue file with the same schema (default the collection's).
    type: path
notes:
  - Use C(query) (or C(lookup) with C(wantlist=true)) so a single match is still a list.
"""

EXAMPLES = r"""
- name: The kernel parameters os_hardening enforces, as a dict for eightfold.devops.sysctls
  ansible.builtin.set_fact:
    os_hardening_sysctl: >-
      {{ query('eightfold.devops.controls', role='os_hardening', type='sysctl')
         | items2dict(key_name='id', value_name='check') | dict2items
         | map(attribute='value') | items2dict(key_name='key', value_name='value') }}

- name: Refuse unknown ids in a skip list
  ansible.builtin.assert:
    that: >-
      os_hardening_skip_controls
      | difference(query('eightfold.devops.controls') | map(attribute='id')) == []
    fail_msg: "Unknown control id in os_hardening_skip_controls"

- name: The controls os_hardening enforces with its skip lists applied (filtered in Python, not Jinja)
  ansible.builtin.set_fact:
    enabled: >-
      {{ query('eightfold.devops.controls', role='os_hardening', exclude_ids=os_hardening_skip_controls,
               exclude_areas=os_hardening_skip_areas) | map(attribute='id') }}

- name: Two controls by id
  ansible.builtin.debug:
    msg: "{{ query('eightfold.devops.controls', 'SSH-001', 'SSH-002') | map(attribute='title') }}"
"""

RETURN = r"""
_list:
  description: The matching catalogue entries.
  type: list
  elements: dict
  contains:
    id:
      description: Control id, for example C(SSH-001).
      type: str
    title:
      description: What the control makes true.
      type: str
    area:
      description: Area.
      type: str
    role:
      description: Role that enforces it.
      type: str
    cis:
      description: CIS Debian Linux 12 Benchmark section; absent where none applies.
      type: str
    severity:
      description: high, medium or low.
      type: str
    container:
      description: enforced or deferred.
      type: str
    check:
      description: The check (type and its fields); for sysctl checks C(key) and C(value) are what the
        role sets.
      type: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.eightfold.devops.plugins.plugin_utils._catalogue import (
    CatalogueError,
    load,
    select,
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        ids = list(terms or [])
        option_ids = self.get_option("ids")
        if option_ids:
            ids += [option_ids] if isinstance(option_ids, str) else list(option_ids)
        try:
            controls = load(self.get_option("catalogue") or None)
            return select(
                controls,
                role=self.get_option("role"),
                area=self.get_option("area"),
                type=self.get_option("type"),
                container=self.get_option("container"),
                ids=ids or None,
                exclude_ids=self.get_option("exclude_ids"),
                exclude_areas=self.get_option("exclude_areas"),
            )
        except CatalogueError as exc:
            raise AnsibleLookupError(f"eightfold.devops.controls: {exc}") from None
