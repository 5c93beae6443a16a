#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_audit
short_description: Audit a host against the hardening control catalogue without changing it
version_added: 0.1.0
description:
  - Evaluates the controls of the collection's control catalogue (C(catalogue/controls.yml), the list the
    roles C(os_hardening), C(ssh_hardening) and C(firewall) enforce) on the host, read-only, in one call.
  - Returns per control a status (V(pass), V(fail), V(not_applicable), V(deferred) or V(waived)) with
    short evidence, and counts per status.
  - V(deferred) means a container cannot enforce the control at runtime (kernel parameters, kernel
    modules, mounts, auditd) but the configuration that enforces it on a real host is in place. A
    container without that configuration fails the control. Deferred is never a failure.
  - A waiver turns a failing control into V(waived) until its expiry date; after that the control fails
    again and its evidence says the waiver expired. A passing control stays V(pass).
  - An action plugin loads the catalogue on the controller, selects the controls, checks the waivers
    (before anything runs on the host) and calls the module once per host.
author:
  - eightfold.devops maintainers (@eightfold)
options:
  roles:
    description:
      - Only evaluate the controls of these roles (V(os_hardening), V(ssh_hardening), V(firewall)).
        Empty means all controls.
    type: list
    elements: str
    default: []
  skip:
    description:
      - Control ids not to evaluate. They are reported as V(not_applicable) with evidence
        C(skipped by request). An unknown id fails the task before it runs.
    type: list
    elements: str
    default: []
  waivers:
    description:
      - Accepted failures. Each entry needs the control O(waivers[].id), a O(waivers[].reason) and an
        O(waivers[].expires) date. An unknown id, a missing reason or a bad date fails the task before it
        runs, naming the waiver by its index and the field.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The control id, for example C(SSH-020).
        type: str
        required: true
      reason:
        description: Why the control is accepted as failing; shown in every report.
        type: str
        required: true
      expires:
        description: Last day (C(YYYY-MM-DD)) the waiver applies; from the day after, the control fails.
        type: str
        required: true
  today:
    description:
      - The date waivers are compared with (C(YYYY-MM-DD)). Defaults to the controller's date.
    type: str
  fail_on:
    description:
      - V(fail) fails the task (after returning all results) when any control fails. V(none) never fails
        on control results.
    type: str
    choices: [none, fail]
    default: none
  catalogue:
    description:
      - Path on the controller of another catalogue file with the same schema. Defaults to the
        collection's C(catalogue/controls.yml).
    type: path
  controls:
    description:
      - Internal. The selected catalogue entries, set by the action plugin. Do not set it.
    type: list
    elements: dict
attributes:
  action:
    support: full
    description: An action plugin loads the catalogue and checks the waivers on the controller first.
  check_mode:
    support: full
    description: The module never changes the host; check mode runs the same read-only audit.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Debian hosts (Debian 12 and 13 are tested).
notes:
  - Runs as root to read C(/etc/shadow) modes, C(sshd -T) and C(nft list ruleset). C(sshd -T) needs
    C(/run/sshd); when it is missing the module runs C(sshd -T) in a private mount namespace
    (C(unshare)) instead of creating it, so the host is not changed.
  - The catalogue, its check types and the report playbook are described in C(docs/audit.md); the list of
    controls is C(docs/controls.md).
seealso:
  - name: Audit guide
    description: How to run the audit, waivers and report formats (docs/audit.md in the collection).
    link: https://example.invalid/eightfold/devops/docs/audit.md
"""

EXAMPLES = r"""
- name: Audit every control
  eightfold.devops.baseline_audit:
  register: audit

- name: Audit the SSH controls only, fail the task when one fails
  eightfold.devops.baseline_audit:
    roles: [ssh_hardening]
    fail_on: fail

- name: Accept a failing control until the end of March
  eightfold.devops.baseline_audit:
    skip: [FS-004]
    waivers:
      - id: SSH-020
        reason: AllowGroups comes with the directory service migration (CHG-1234)
        expires: "2026-03-31"
  register: audit

- name: Show what fails
  ansible.builtin.debug:
    msg: "{{ audit.results | selectattr('status', 'eq', 'fail') | map(attribute='id') | list }}"
"""

RETURN = r"""
results:
  description: One entry per selected control, in catalogue order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Control id.
      type: str
      sample: SSH-001
    title:
      description: What the control makes true.
      type: str
      sample: Root cannot log in over SSH
    area:
      description: Area of the control (kernel, network, auth, ssh, firewall, ...).
      type: str
    role:
      description: The role that enforces the control.
      type: str
      sample: ssh_hardening
    severity:
      description: V(high), V(medium) or V(low).
      type: str
    cis:
      description: CIS Debian Linux 12 Benchmark section, or null where none applies.
      type: str
      sample: "5.1.20"
    container:
      description: V(deferred) when a container cannot enforce the control at runtime, else V(enforced).
      type: str
    status:
      description: V(pass), V(fail), V(not_applicable), V(deferred) or V(waived).
      type: str
      sample: fail
    evidence:
      description: What was found, in one short line.
      type: str
      sample: permitrootlogin without-password (want no)
    waiver:
      description: The waiver (reason, expires) when the control is waived or its waiver has expired.
      type: dict
      returned: when a waiver applies to a failing control
summary:
  description: Number of controls per status, and the total.
  returned: always
  type: dict
  sample: {pass: 60, fail: 40, not_applicable: 5, deferred: 38, waived: 0, total: 143}
failing:
  description: Ids of the failing controls.
  returned: always
  type: list
  elements: str
  sample: [SSH-001, SSH-002]
container:
  description: Whether the host is a container.
  returned: always
  type: bool
host:
  description: Facts the audit used (hostname, os, os_id, os_version, kernel).
  returned: always
  type: dict
  sample:
    hostname: app1
    os: Debian GNU/Linux 12 (bookworm)
    os_id: debian
    os_version: "12"
    kernel: 6.1.0-28-amd64
today:
  description: The date waivers were compared with.
  returned: always
  type: str
  sample: "2026-01-15"
audited_at:
  description: When the audit ran, UTC, ISO 8601.
  returned: always
  type: str
  sample: "2026-01-15T09:30:00+00:00"
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._audit import FAIL, audit


def main():
    module = AnsibleModule(
        argument_spec={
            "roles": {"type": "list", "elements": "str", "default": []},
            "skip": {"type": "list", "elements": "str", "default": []},
            "waivers": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "id": {"type": "str", "required": True},
                    "reason": {"type": "str", "required": True},
                    "expires": {"type": "str", "required": True},
                },
            },
            "today": {"type": "str"},
            "fail_on": {"type": "str", "choices": ["none", "fail"], "default": "none"},
            "catalogue": {"type": "path"},
            "controls": {"type": "list", "elements": "dict"},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params["controls"]:
        module.fail_json(
            msg="controls is empty: call eightfold.devops.baseline_audit through its action plugin "
            "(the task name), which loads the catalogue, or select at least one control"
        )
    for index, control in enumerate(params["controls"]):
        if (
            not isinstance(control, dict)
            or not control.get("id")
            or not isinstance(control.get("check"), dict)
        ):
            module.fail_json(msg=f"controls[{index}] needs an id and a check")
    today = params["today"]
    if today:
        try:
            datetime.date.fromisoformat(today)
        except ValueError:
            module.fail_json(msg=f"today must be a date YYYY-MM-DD, got {today!r}")
    for index, waiver in enumerate(params["waivers"]):
        try:
            datetime.date.fromisoformat(str(waiver["expires"]))
        except ValueError:
            module.fail_json(
                msg=f"waivers[{index}].expires must be a date YYYY-MM-DD, got {waiver['expires']!r}"
            )
    controls = params["controls"]
    if params["roles"]:
        controls = [c for c in controls if c.get("role") in params["roles"]]

    result = audit(controls, waivers=params["waivers"], today=today, skip=params["skip"])
    result["changed"] = False
    if params["fail_on"] == "fail" and result["failing"]:
        module.fail_json(
            msg="{} of {} controls fail: {}".format(
                len(result["failing"]), result["summary"]["total"], ", ".join(result["failing"])
            ),
            **result,
        )
    if any(r["status"] == FAIL for r in result["results"]):
        result["msg"] = "{} of {} controls fail".format(len(result["failing"]), result["summary"]["total"])
    else:
        result["msg"] = "no control fails"
    module.exit_json(**result)


if __name__ == "__main__":
    main()
