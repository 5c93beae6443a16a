# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible plugins import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
name: timezones
short_description: The time zone names of the controller's tz database
version_added: 0.1.0
description:
  - Returns the names of the tz database the controller's Python knows (its C(zoneinfo) module - the system's
    /usr/share/zoneinfo or the C(tzdata) Python package), sorted.
  - An empty list when the controller has no tz database, so that a role can judge a time zone name before
    it changes a host whose own tz database is not installed yet.
author:
  - eightfold.devops maintainers (@eightfold)
"""

EXAMPLES = r"""
- name: Refuse a time zone the tz database does not know
  ansible.builtin.assert:
    that: zones | length == 0 or base_timezone in zones
  vars:
    zones: "{{ lookup('eightfold.devops.timezones') }}"
"""

RETURN = r"""
_raw:
  description: The time zone names.
  type: list
  elements: str
"""

import zoneinfo

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [sorted(zoneinfo.available_timezones())]
