"""eightfold.devops.config_files through ansible-playbook on localhost paths under tmp_path."""

import stat
import textwrap
from pathlib import Path

import pytest

VALIDATOR = """#!/bin/sh
# passes when the file has a line 'valid', else says why on stderr
grep -qx valid "$1" && exit 0
echo "$1: no line 'valid'" >&2
exit 3
"""


@pytest.fixture
def project(tmp_path):
    """A playbook directory with a role whose templates use role variables; .play(tasks) writes a playbook."""
    role = tmp_path / "roles" / "demo"
    (role / "templates").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "defaults").mkdir()
    (role / "defaults" / "main.yml").write_text("demo_value: 42\ndemo_users: [alice, bob]\n")
    (role / "templates" / "app.conf.j2").write_text(
        "{{ ansible_managed | comment }}\nvalue = {{ demo_value }}\n{% include 'users.j2' %}\n"
    )
    (role / "templates" / "users.j2").write_text("{% for u in demo_users %}\nuser {{ u }}\n{% endfor %}\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "play.j2").write_text("from the playbook: {{ play_value }}\n")
    (tmp_path / "validate.sh").write_text(VALIDATOR)
    (tmp_path / "validate.sh").chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()

    class Project:
        root = tmp_path

        @staticmethod
        def play(name, tasks, role_tasks=None, **kwargs):
            if role_tasks is not None:
                (role / "tasks" / "main.yml").write_text(textwrap.dedent(role_tasks))
            body = textwrap.indent(textwrap.dedent(tasks), "    ")
            roles = "  roles: [demo]\n" if role_tasks is not None else ""
            playbook = tmp_path / f"{name}.yml"
            playbook.write_text(
                "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
                "  vars:\n    ansible_python_interpreter: /usr/bin/python3\n"
                f"    out: {out}\n    play_value: seven\n"
                f"{roles}  tasks:\n{body or '    []'}\n"
            )
            return playbook

    return Project


def one(ansible, playbook, *args, task="files"):
    rc, data = ansible.run(playbook, *args)
    results = ansible.results(data)
    return rc, results.get(task) or results.get(f"demo : {task}")


ROLE_TASKS = """
- name: files
  eightfold.devops.config_files:
    files:
      - dest: "{{ out }}/conf.d"
        state: directory
        mode: "0750"
      - dest: "{{ out }}/conf.d/app.conf"
        template: app.conf.j2
        mode: "0600"
      - dest: "{{ out }}/play.conf"
        template: play.j2
      - dest: "{{ out }}/plain.conf"
        content: "plain\\n"
  register: demo_result
"""


def test_templates_with_role_vars_then_idempotent(project, ansible):
    playbook = project.play("role", "", role_tasks=ROLE_TASKS)
    rc, result = one(ansible, playbook)
    assert rc == 0, result.get("msg")
    out = project.root / "out"
    assert (out / "conf.d" / "app.conf").read_text() == (
        "#\n# Ansible managed\n#\nvalue = 42\nuser alice\nuser bob\n"
    )
    assert (out / "play.conf").read_text() == "from the playbook: seven\n"
    assert (out / "plain.conf").read_text() == "plain\n"
    assert stat.S_IMODE((out / "conf.d").stat().st_mode) == 0o750
    assert stat.S_IMODE((out / "conf.d" / "app.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "plain.conf").stat().st_mode) == 0o644
    assert result["changed"] is True
    assert result["changed_files"] == [
        str(out / n) for n in ("conf.d", "conf.d/app.conf", "play.conf", "plain.conf")
    ]
    assert [f["state"] for f in result["files"]] == ["directory", "file", "file", "file"]
    # rendered contents are not echoed back in the invocation
    assert "template" in result["invocation"]["module_args"]["files"][1]

    rc, again = one(ansible, playbook)
    assert rc == 0 and again["changed"] is False and again["changed_files"] == []
    assert not any(f["changed"] for f in again["files"])


def test_check_mode_changes_nothing_and_is_clean_when_converged(project, ansible):
    playbook = project.play("role", "", role_tasks=ROLE_TASKS)
    out = project.root / "out"
    rc, check = one(ansible, playbook, "--check")
    assert rc == 0 and check["changed"] is True and len(check["changed_files"]) == 4
    assert list(out.iterdir()) == []
    one(ansible, playbook)
    rc, converged = one(ansible, playbook, "--check")
    assert rc == 0 and converged["changed"] is False


def test_diff_per_changed_file(project, ansible):
    out = project.root / "out"
    (out / "a").write_text("old\n")
    (out / "b").write_text("same\n")
    (out / "gone").write_text("x\n")
    playbook = project.play(
        "diff",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/a, content: "new\\n"}}
              - {{dest: {out}/b, content: "same\\n", mode: "0640"}}
              - {{dest: {out}/gone, state: absent}}
        """,
    )
    rc, result = one(ansible, playbook, "--diff")
    assert rc == 0
    diffs = {d["before_header"]: d for d in result["diff"]}
    assert diffs[f"{out}/a"]["before"] == "old\n" and diffs[f"{out}/a"]["after"] == "new\n"
    assert diffs[f"{out}/a"]["after_header"] == f"{out}/a"
    assert diffs[f"{out}/b"]["before"]["mode"] == "0644" and diffs[f"{out}/b"]["after"]["mode"] == "0640"
    assert diffs[f"{out}/gone"]["after"]["state"] == "absent"
    rc, quiet = one(ansible, playbook)
    assert quiet["diff"] == []


def test_secret_content_is_masked_and_the_other_diffs_stay(project, ansible):
    out = project.root / "out"
    (out / "key").write_text("old-private-key\n")
    playbook = project.play(
        "secret",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/key, content: "new-private-key\\n", mode: "0600", secret: true}}
              - {{dest: {out}/web.yml, template: play.j2, secret: true}}
              - {{dest: {out}/public.conf, content: "public\\n"}}
        """,
    )
    rc, data = ansible.run(playbook, "--diff")
    assert rc == 0
    result = ansible.results(data)["files"]
    assert (out / "key").read_text() == "new-private-key\n"
    assert (out / "web.yml").read_text() == "from the playbook: seven\n"
    for secret in ("old-private-key", "new-private-key", "from the playbook"):
        assert secret not in str(data), secret
    diffs = {d["before_header"]: d for d in result["diff"]}
    assert diffs[f"{out}/key"]["before"] == "(secret content, not shown)\n"
    assert diffs[f"{out}/public.conf"]["after"] == "public\n"
    assert result["changed_files"] == [str(out / n) for n in ("key", "web.yml", "public.conf")]
    _rc, data = ansible.run(playbook)
    assert ansible.results(data)["files"]["changed"] is False


def test_owner_or_parent_missing_fails_but_check_mode_reports_a_change(project, ansible):
    """In check mode the package that creates the group or directory would have run first: a change."""
    out = project.root / "out"
    (out / "existing").write_text("x\n")
    playbook = project.play(
        "owner",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/new, content: "x\\n", group: eightfold-no-such-group}}
              - {{dest: {out}/existing, group: eightfold-no-such-group}}
        """,
    )
    rc, check = one(ansible, playbook, "--check")
    assert rc == 0 and check["changed_files"] == [f"{out}/new", f"{out}/existing"]
    parent = project.play(
        "parent",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/made/by/a/package/x, content: "x\\n"}}
        """,
    )
    rc, check = one(ansible, parent, "--check")
    assert rc == 0 and check["changed_files"] == [f"{out}/made/by/a/package/x"]
    rc, real = one(ansible, playbook)
    assert rc != 0 and "group 'eightfold-no-such-group' does not exist on this host" in real["msg"]
    assert not (out / "new").exists()


def test_validate_failure_leaves_every_file_unchanged(project, ansible):
    out = project.root / "out"
    (out / "first").write_text("valid\n")
    (out / "second").write_text("valid\n")
    validate = f"{project.root}/validate.sh %s"
    playbook = project.play(
        "validate",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/first, content: "valid\\nmore\\n", validate: "{validate}"}}
              - {{dest: {out}/gone, state: absent}}
              - {{dest: {out}/newdir, state: directory}}
              - {{dest: {out}/second, content: "broken\\n", validate: "{validate}"}}
          ignore_errors: true
        """,
    )
    (out / "gone").write_text("still here\n")
    before = {p.name: p.read_text() for p in out.iterdir()}
    _rc, result = one(ansible, playbook)
    assert result["failed"]
    assert f"files[3] ({out}/second): validation failed, no file of this call was changed" in result["msg"]
    assert "no line 'valid'" in result["msg"] and "exited 3" in result["msg"]
    assert {p.name: p.read_text() for p in out.iterdir()} == before  # no temp file left, nothing changed


def test_validate_success_installs(project, ansible):
    out = project.root / "out"
    playbook = project.play(
        "validate_ok",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/ok, content: "valid\\n", validate: "{project.root}/validate.sh %s"}}
        """,
    )
    rc, _result = one(ansible, playbook)
    assert rc == 0 and (out / "ok").read_text() == "valid\n"


def test_absent_and_backup(project, ansible):
    out = project.root / "out"
    (out / "old").write_text("old\n")
    (out / "replaced").write_text("one\n")
    (out / "emptydir").mkdir()
    playbook = project.play(
        "absent",
        f"""
        - name: files
          eightfold.devops.config_files:
            backup: true
            files:
              - {{dest: {out}/old, state: absent}}
              - {{dest: {out}/never-there, state: absent}}
              - {{dest: {out}/emptydir, state: absent}}
              - {{dest: {out}/replaced, content: "two\\n"}}
        """,
    )
    rc, result = one(ansible, playbook)
    assert rc == 0
    assert [f["changed"] for f in result["files"]] == [True, False, True, True]
    assert not (out / "old").exists() and not (out / "emptydir").exists()
    backups = {f["dest"]: f["backup_file"] for f in result["files"] if "backup_file" in f}
    assert set(backups) == {f"{out}/old", f"{out}/replaced"}
    assert Path(backups[f"{out}/replaced"]).read_text() == "one\n"
    assert (out / "replaced").read_text() == "two\n"
    rc, again = one(ansible, playbook)
    assert again["changed"] is False


def test_attributes_only(project, ansible):
    out = project.root / "out"
    (out / "crontab").write_text("keep me\n")
    (out / "crontab").chmod(0o644)
    playbook = project.play(
        "attrs",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/crontab, mode: "0600"}}
              - {{dest: {out}/optional, mode: "0600", missing_ok: true}}
        - name: missing
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/required, mode: "0600"}}
          ignore_errors: true
        """,
    )
    _, data = ansible.run(playbook)
    results = ansible.results(data)
    assert results["files"]["changed_files"] == [f"{out}/crontab"]
    assert (out / "crontab").read_text() == "keep me\n"
    assert stat.S_IMODE((out / "crontab").stat().st_mode) == 0o600
    assert not (out / "optional").exists()
    assert f"files[0] ({out}/required): the file does not exist" in results["missing"]["msg"]
    _rc, data = ansible.run(playbook)
    assert ansible.results(data)["files"]["changed"] is False


BAD_ENTRIES = [
    ('{dest: relative/path, content: "x"}', "files[1] (relative/path): dest must be an absolute path"),
    (
        '{dest: "{{ out }}/x", content: "x", template: play.j2}',
        "files[1] ({out}/x): give either content or template",
    ),
    (
        '{dest: "{{ out }}/x", content: "x", mode: "0999"}',
        "files[1] ({out}/x): mode '0999' is not an octal mode",
    ),
    (
        '{dest: "{{ out }}/x", content: "x", mode: "rwx"}',
        "files[1] ({out}/x): mode 'rwx' is not an octal mode",
    ),
    (
        '{dest: "{{ out }}/x", state: link}',
        "files[1] ({out}/x): state 'link' is not one of file, directory, absent",
    ),
    (
        '{dest: "{{ out }}/x", template: nope.j2}',
        "files[1] ({out}/x): template nope.j2: Could not find or access",
    ),
    (
        '{dest: "{{ out }}/x", content: "x", owner: nobody-here}',
        "files[1] ({out}/x): owner 'nobody-here' does not",
    ),
    (
        '{dest: "{{ out }}/x", content: "x", validate: "true"}',
        "files[1] ({out}/x): validate 'true' must contain %s",
    ),
    (
        '{dest: "{{ out }}/x", content: "x", validate: "/no/such %s"}',
        "the validator /no/such is not installed",
    ),
    (
        '{dest: "{{ out }}/no/x", content: "x"}',
        "files[1] ({out}/no/x): the parent directory {out}/no does not exist",
    ),
    ('{dest: "{{ out }}/first", state: directory}', "files[1] ({out}/first): exists and is not a directory"),
]


def test_argument_errors_name_the_entry_and_change_nothing(project, ansible):
    """One playbook, a failing task per bad entry, each after a valid entry that must stay unwritten."""
    out = project.root / "out"
    (out / "first").write_text("old\n")
    tasks = "".join(
        f"""
        - name: bad {index}
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/first, content: "new\\n"}}
              - {entry}
          ignore_errors: true
        """
        for index, (entry, _) in enumerate(BAD_ENTRIES)
    )
    _rc, data = ansible.run(project.play("bad", tasks))
    results = ansible.results(data)
    for index, (entry, message) in enumerate(BAD_ENTRIES):
        result = results[f"bad {index}"]
        assert result["failed"], entry
        assert message.format(out=out) in result["msg"], (entry, result["msg"])
    assert (out / "first").read_text() == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["first"]


def test_directory_then_file_inside_in_check_mode(project, ansible):
    out = project.root / "out"
    playbook = project.play(
        "dirs",
        f"""
        - name: files
          eightfold.devops.config_files:
            files:
              - {{dest: {out}/a, state: directory}}
              - {{dest: {out}/a/b, state: directory, mode: "0700"}}
              - {{dest: {out}/a/b/c.conf, content: "c\\n"}}
        """,
    )
    rc, check = one(ansible, playbook, "--check")
    assert rc == 0 and len(check["changed_files"]) == 3 and not (out / "a").exists()
    rc, _result = one(ansible, playbook)
    assert rc == 0 and (out / "a" / "b" / "c.conf").read_text() == "c\n"
    assert stat.S_IMODE((out / "a" / "b").stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "a").stat().st_mode) == 0o755


READ_THEN_WRITE = """
- name: read
  eightfold.devops.host_state:
    files: ["{{ out }}/conf.d", "{{ out }}/conf.d/app.conf", "{{ out }}/plain.conf", "{{ out }}/gone"]
  register: read
- name: files
  eightfold.devops.config_files:
    files:
      - dest: "{{ out }}/conf.d"
        state: directory
        mode: "0750"
      - dest: "{{ out }}/conf.d/app.conf"
        content: "{{ app_content | default('app') }}\\n"
        mode: "{{ app_mode | default('0600') }}"
      - dest: "{{ out }}/plain.conf"
        mode: "0644"
        missing_ok: true
      - dest: "{{ out }}/gone"
        state: absent
    current: "{{ read.files }}"
"""


def test_a_read_that_shows_every_file_as_wanted_skips_the_module_call(project, ansible):
    playbook = project.play("read", READ_THEN_WRITE)
    rc, first = one(ansible, playbook)
    assert rc == 0, first.get("msg")
    assert first["changed"] is True and "skipped_module_call" not in first  # the read showed nothing yet
    rc, again = one(ansible, playbook)
    assert rc == 0, again.get("msg")
    assert again["changed"] is False and again["skipped_module_call"] is True
    assert again["changed_files"] == [] and [f["changed"] for f in again["files"]] == [False] * 4
    rc, checked = one(ansible, playbook, "--check")
    assert checked["changed"] is False and checked["skipped_module_call"] is True


@pytest.mark.parametrize(
    "what, extra",
    [
        ("content", ["-e", "app_content=other"]),
        ("mode", ["-e", "app_mode=0640"]),
        ("symbolic mode, which the read cannot prove", ["-e", "app_mode=u=rw"]),
    ],
)
def test_what_the_read_cannot_prove_unchanged_goes_to_the_module(project, ansible, what, extra):
    playbook = project.play("read", READ_THEN_WRITE)
    assert one(ansible, playbook)[0] == 0
    rc, result = one(ansible, playbook, *extra)
    assert rc == 0, result.get("msg")
    assert "skipped_module_call" not in result, what
    assert result["changed"] is (what != "symbolic mode, which the read cannot prove")


def test_a_read_of_the_read_paths_filter_proves_the_call_unchanged(project, ansible):
    playbook = project.play(
        "read_paths",
        """
        - vars:
            entries:
              - {dest: "{{ out }}/d", state: directory, mode: "0750"}
              - {dest: "{{ out }}/d/a.conf", content: "a\\n", mode: "0640"}
              - {dest: "{{ out }}/d/old", state: absent}
          block:
            - name: read
              eightfold.devops.host_state:
                files: "{{ entries | eightfold.devops.read_paths }}"
                file_attributes: "{{ entries | eightfold.devops.read_paths(content=false) }}"
              register: read
            - name: files
              eightfold.devops.config_files:
                files: "{{ entries }}"
                current: "{{ read.files }}"
        """,
    )
    assert one(ansible, playbook)[0] == 0
    rc, again = one(ansible, playbook)
    assert rc == 0, again.get("msg")
    assert again["changed"] is False and again["skipped_module_call"] is True


def test_a_file_changed_behind_the_read_is_written(project, ansible):
    playbook = project.play("read", READ_THEN_WRITE)
    assert one(ansible, playbook)[0] == 0
    app = project.root / "out" / "conf.d" / "app.conf"
    app.write_text("edited by hand\n")
    rc, result = one(ansible, playbook)
    assert rc == 0 and result["changed_files"] == [str(app)]
    assert app.read_text() == "app\n"


def test_a_path_the_read_left_out_goes_to_the_module(project, ansible):
    playbook = project.play(
        "partial",
        """
        - name: read
          eightfold.devops.host_state:
            files: ["{{ out }}/one"]
          register: read
        - name: files
          eightfold.devops.config_files:
            files:
              - {dest: "{{ out }}/one", content: "1\\n"}
              - {dest: "{{ out }}/two", content: "2\\n"}
            current: "{{ read.files }}"
        """,
    )
    assert one(ansible, playbook)[0] == 0
    (project.root / "out" / "two").write_text("changed\n")
    rc, result = one(ansible, playbook)
    assert rc == 0 and "skipped_module_call" not in result
    assert result["changed_files"] == [str(project.root / "out" / "two")]


def test_current_that_is_not_a_read_fails_naming_it(project, ansible):
    playbook = project.play(
        "bad_current",
        """
        - name: files
          eightfold.devops.config_files:
            files: [{dest: "{{ out }}/one", content: "1\\n"}]
            current: [not, a, read]
        """,
    )
    rc, result = one(ansible, playbook)
    assert rc != 0
    assert result["msg"].startswith("current must be the files of an eightfold.devops.host_state read")
    assert not (project.root / "out" / "one").exists()
