"""The change_plan callback: a tiny playbook in check and diff mode on localhost, its JSON read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_tools import ansible_env

BIN = Path(sys.executable).parent

PLAYBOOK = """\
- name: Tiny plan
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        content: "{{ 'line\\\\n' * 50 }}"
        dest: "{{ playbook_dir }}/out/file.txt"
        mode: "0644"
    - name: Write a secret
      ansible.builtin.copy:
        content: "s3cret\\n"
        dest: "{{ playbook_dir }}/out/secret.txt"
        mode: "0600"
      no_log: true
    - name: Read something
      ansible.builtin.command: "true"
      changed_when: false
    - name: Make directories
      ansible.builtin.file:
        path: "{{ playbook_dir }}/out/{{ item }}"
        state: directory
        mode: "0755"
      loop: [a, b]
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: ignored
      ignore_errors: true
    - name: Run the role
      ansible.builtin.include_role:
        name: tiny
    - name: Fail for real
      ansible.builtin.fail:
        msg: the planned failure
"""

ROLE = """\
- name: Write the role's file
  ansible.builtin.copy:
    content: "role\\n"
    dest: "{{ playbook_dir }}/out/role.txt"
    mode: "0644"
"""


def test_records_changes_per_host_and_role_with_cut_diffs(tmp_path):
    (tmp_path / "roles" / "tiny" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "tiny" / "tasks" / "main.yml").write_text(ROLE)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "out").mkdir()
    output = tmp_path / "plan" / "run.json"
    output.parent.mkdir()
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "play.yml", "--check", "--diff"],
        cwd=tmp_path,
        env=ansible_env(
            ANSIBLE_CALLBACKS_ENABLED="eightfold.devops.change_plan",
            EIGHTFOLD_CHANGE_PLAN=str(output),
            EIGHTFOLD_CHANGE_PLAN_DIFF_MAX="120",
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [], "check mode changed nothing"

    plan = json.loads(output.read_text())
    assert plan["check_mode"] is True and plan["diff_mode"] is True
    assert plan["playbook"] == str(tmp_path / "play.yml")
    host = plan["hosts"]["localhost"]
    tasks = host["roles"]["(play tasks)"]
    assert [(t["task"], t.get("item")) for t in tasks] == [
        ("Write a file", None),
        ("Write a secret", None),
        ("Make directories", "a"),
        ("Make directories", "b"),
    ]
    file_diff = tasks[0]["diff"]
    assert file_diff.startswith("--- before\n+++ after: ") and "(diff cut: " in file_diff
    assert len(file_diff.split("\n... (diff cut")[0]) == 120
    assert tasks[1]["diff"] == "(no_log: diff hidden)"
    assert "s3cret" not in output.read_text()
    assert (
        tasks[2]["diff"].startswith("--- before\n+++ after\n")
        and tasks[2]["action"] == "ansible.builtin.file"
    )
    role_task = host["roles"]["tiny"][0]
    assert len(host["roles"]["tiny"]) == 1
    assert (role_task["task"], role_task["action"], role_task["play"]) == (
        "Write the role's file",
        "ansible.builtin.copy",
        "Tiny plan",
    )
    assert "+role" in host["roles"]["tiny"][0]["diff"]
    assert host["changed_tasks"] == 5
    assert host["failures"] == [
        {"task": "Fail for real", "role": "(play tasks)", "msg": "the planned failure"}
    ]
    assert host["stats"]["failures"] == 1 and host["stats"]["ignored"] == 1
    assert host["unreachable"] is None


def test_without_a_path_it_warns_and_writes_nothing(tmp_path):
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hi}\n"
    )
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "play.yml", "--check"],
        cwd=tmp_path,
        env=ansible_env(
            ANSIBLE_CALLBACKS_ENABLED="eightfold.devops.change_plan", ANSIBLE_STDOUT_CALLBACK="default"
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0
    assert "EIGHTFOLD_CHANGE_PLAN is not set" in proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["play.yml"]
