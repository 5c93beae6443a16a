#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin (plugins/action/converge.py); this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: converge
short_description: Install, configure and run a concern of a role in one task - read, decide, write, restart
version_added: 0.1.0
description:
  - The convergence protocol every role of this collection follows, in one place - read the host once,
    decide, write what differs, restart what runs an old configuration.
  - "Read: the O(read) the role made earlier (M(eightfold.devops.host_state)) when it covers these packages,
    files and units, else one read of its own."
  - "Packages: the missing ones in one M(ansible.builtin.apt) transaction; then the host is read again
    (a package may bring files and units)."
  - "Files: one M(eightfold.devops.config_files) call, every file checked by its validator (the daemon's
    own checker) before any is installed; no call when the read proves them all as wanted."
  - "Units: one M(eightfold.devops.units) call when a unit is not in its state or runs an older
    configuration than its O(eightfold.devops.units#module:units[].watch) files - also when the run that
    wrote them failed or was killed before the restart; no call otherwise."
  - "So an unchanged host costs at most one module call (the read), and a failed run is completed by the
    next."
author: eightfold.devops maintainers (@eightfold)
options:
  read:
    description:
      - A M(eightfold.devops.host_state) result of this host, made earlier in the role. Used when it covers
        the packages, files (with hashes), watched files and units of this task; otherwise the task reads.
      - Give the role's own read only, made after any change to these files; a read older than a change
        would hide it.
    type: dict
  packages:
    description: Debian packages to install when missing.
    type: list
    elements: str
    default: []
  apt:
    description:
      - Options for the M(ansible.builtin.apt) call - C(update_cache) (default V(true)), C(cache_valid_time)
        (default V(3600)), C(install_recommends) (default V(false)), C(dpkg_options), C(policy_rc_d)
        (V(101) keeps the package's services from starting with its sample configuration), C(force_apt_get).
    type: dict
    default: {}
  files:
    description:
      - Entries as O(eightfold.devops.config_files#module:files) takes them; templates are rendered on the
        controller.
    type: list
    elements: dict
    default: []
  backup:
    description: Keep a timestamped copy of each file that is replaced or removed.
    type: bool
    default: false
  units:
    description: Units as O(eightfold.devops.units#module:units) takes them, handled after the files.
    type: list
    elements: dict
    default: []
  commands:
    description:
      - Commands as O(eightfold.devops.units#module:commands) takes them - run after the units when a file
        they apply changed since they last ran (C(pam-auth-update --package) after a PAM profile changed).
    type: list
    elements: dict
    default: []
attributes:
  action:
    support: full
    description: An action plugin; it calls M(eightfold.devops.host_state), M(ansible.builtin.apt),
      M(eightfold.devops.config_files) and M(eightfold.devops.units) as needed.
  check_mode:
    support: full
    description: Every step runs in check mode; units of packages that would be installed are reported as
      started.
  diff_mode:
    support: full
    description: The diffs of the files and units that change.
  platform:
    support: full
    platforms: posix
    description: Debian hosts with systemd.
seealso:
  - module: eightfold.devops.host_state
  - module: eightfold.devops.config_files
  - module: eightfold.devops.units
"""

EXAMPLES = r"""
- name: Install, configure and run sshd
  eightfold.devops.converge:
    read: "{{ sshd_read }}"
    packages: [openssh-server]
    files:
      - dest: /etc/ssh/sshd_config
        template: sshd_config.j2
        mode: "0600"
        validate: /usr/sbin/sshd -t -f %s
    units:
      - name: ssh.service
        enabled: true
        state: started
        watch: [/etc/ssh/sshd_config]
        on_change: reload
"""

RETURN = r"""
installed:
  description: The packages installed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
changed_files:
  description: The paths that changed, in order.
  returned: always
  type: list
  elements: str
files:
  description: One entry per file entry - dest, state, changed.
  returned: always
  type: list
  elements: dict
units:
  description: Per unit, its state and the actions taken (see RV(eightfold.devops.units#module:units)).
  returned: always
  type: dict
actions:
  description: The systemctl commands run, in order.
  returned: always
  type: list
  elements: str
deferred:
  description: Units a container cannot run, stopped and disabled there.
  returned: always
  type: list
  elements: str
commands:
  description: The commands that ran, each with the changed files that made it run.
  returned: always
  type: dict
module_calls:
  description: The modules called, in order - empty or C([host_state]) on an unchanged host.
  returned: always
  type: list
  elements: str
read:
  description:
    - The host_state read the decisions were taken on (read again after a package install).
    - Without the SHA-256 of the files of entries marked C(secret) - the hash of a short password gives it
      away. Mark the role's own host_state task, which has them, C(no_log).
  returned: always
  type: dict
"""
