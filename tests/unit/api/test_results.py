"""What a caller gets back: status error, with Ansible's [ERROR] line, for runs that never reached a host;
a result file that result.schema.json describes, with timestamps, options, changed and totals; renderers
that survive a blank failure message; and the run options verbosity, envvars, vault_password, ssh_key and
private_key_file doing what they say."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import INVENTORY, playbook, run_processes

from eightfold import RESULT_SCHEMA, PhaseInputError, PhaseResult, run_phase
from eightfold.report import exit_code, render_markdown, render_text
from eightfold.results import EventAggregator, Failure, HostStats

HERE = Path(__file__).resolve().parent
OPTIONS = str(HERE / "playbooks" / "options.yml")
VALIDATOR = jsonschema.Draft202012Validator(
    json.loads(RESULT_SCHEMA.read_text()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def _valid(result: PhaseResult) -> dict:
    stored = json.loads((result.artifact_dir / "eightfold-result.json").read_text())
    VALIDATOR.validate(stored)
    assert stored == json.loads(json.dumps(result.to_dict()))
    assert PhaseResult.from_dict(stored).to_dict() == stored
    return stored


def test_result_file_follows_the_schema_and_tells_what_ran(runs_dir):
    result = run_phase(playbook("mixed"), inventory=str(INVENTORY), tags=["never", "all"], diff=True, forks=3)
    stored = _valid(result)
    assert stored["schema_version"] == 2
    assert result.started is not None and result.ended is not None and result.started < result.ended
    assert result.changed and stored["changed"] is True
    hosts = stored["hosts"].values()
    assert stored["totals"] == {k: sum(h[k] for h in hosts) for k in stored["totals"]}
    assert stored["totals"]["failed"] == 1 and stored["totals"]["changed"] == 2
    assert stored["options"]["inventory"] == str(INVENTORY)
    assert stored["options"]["tags"] == "never,all" and stored["options"]["diff"] is True
    assert stored["options"]["forks"] == 3 and stored["options"]["check"] is False
    assert Path(stored["artifact_dir"]).name == result.ident


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("limit", "leaves us with no hosts to target"),
        ("syntax", "YAML parsing failed"),
        ("no ansible-playbook", "command was not found"),
    ],
)
def test_runs_that_never_reach_a_host_end_with_status_error(runs_dir, tmp_path, case, words):
    kwargs: dict = {"inventory": str(INVENTORY)}
    name = playbook("ok")
    if case == "limit":
        kwargs["limit"] = "nosuchhost"
    elif case == "syntax":
        broken = tmp_path / "broken.yml"
        broken.write_text("- hosts: all\n  tasks:\n    - debug: msg=hi\n   bad: [\n")
        name = str(broken)
    else:
        kwargs["envvars"] = {"PATH": str(tmp_path)}
    result = run_phase(name, **kwargs)
    assert result.status == "error", result.explanation
    assert words in result.explanation and "\n" not in result.explanation
    if case != "no ansible-playbook":
        assert result.errors and result.errors[0].startswith("[ERROR]: ")
    if case == "syntax":
        assert f"(Origin: {tmp_path / 'broken.yml'}:4:4)" in result.explanation
    assert result.hosts == {} and exit_code(result) == 1
    assert words in render_text(result) and words in render_markdown(result)
    _valid(result)


def test_blank_failure_messages_render():
    aggregator = EventAggregator()
    for msg in ("", "   \n  ", None):
        aggregator.feed(
            {"event": "runner_on_failed", "event_data": {"host": "h1", "task": "T", "res": {"msg": msg}}}
        )
    assert [f.message for f in aggregator.failures] == ["failed"] * 3
    result = PhaseResult(
        phase="p",
        ident="0" * 32,
        status="failed",
        rc=2,
        hosts={"h1": HostStats(failed=1)},
        failures=[Failure("h1", "T", ""), Failure("h1", "T", " \n\n")],
    )
    assert "failed: h1: T: " in render_text(result)
    assert "| h1 | T |  |" in render_markdown(result)
    VALIDATOR.validate(result.to_dict())


def _vaulted(text: str, password: str, label: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(password.encode())
    data = VaultLib([(label, secret)]).encrypt(text, secret, vault_id=label).decode()
    return "!vault |\n" + "".join(f"          {line}\n" for line in data.splitlines())


def test_options_reach_the_run_and_leave_nothing(runs_dir, tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "eightfold-test", "-f", str(key)], check=True
    )
    private = key.read_text()
    public = key.with_suffix(".pub").read_text().split()[1]
    vault_password = "vault-password-of-prod"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  hosts:\n    h1:\n      options_vaulted: " + _vaulted("opened", vault_password, "prod")
    )
    result = run_phase(
        OPTIONS,
        inventory=str(inventory),
        verbosity=2,
        envvars={"EF_OPTIONS_VALUE": "from-envvars"},
        vault_password={"prod": vault_password},
        ssh_key=private,
        private_key_file=key,
    )
    assert result.status == "successful", result.explanation
    assert result.outputs["options_env"] == "from-envvars"
    assert result.outputs["options_vaulted"] == "opened"
    assert any(public in line for line in result.outputs["options_agent_keys"]), "the key is in the agent"
    command = json.loads((result.artifact_dir / "command").read_text())["command"]
    assert "-vv" in command and command[command.index("--private-key") + 1] == str(key)
    assert "prod@prompt" in command
    options = _valid(result)["options"]
    assert options["verbosity"] == 2 and options["envvars"] == ["EF_OPTIONS_VALUE"]
    assert options["vault_ids"] == ["prod"] and options["ssh_key"] is True
    assert run_processes(result.ident) == [], "the run's ssh-agent is gone"
    body = private.splitlines()[1]
    for path in (runs_dir / result.ident).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert vault_password not in text and body not in text, path


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"verbosity": 5}, "verbosity"),
        ({"envvars": {"1BAD": "x"}}, "envvars"),
        ({"envvars": {"EIGHTFOLD_RUN_ID": "x"}}, "envvars"),
        ({"envvars": {"TOKEN": "prefix-long-secret-1"}, "secrets": {"t": "long-secret-1"}}, "envvars"),
        ({"vault_password": {"bad label": "x"}}, "vault_password"),
        ({"vault_password": {"eightfold": "x"}}, "vault_password"),
        ({"ssh_key": "not a key"}, "ssh_key"),
        (
            {"ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"},
            "ssh_key",
        ),
        ({"private_key_file": "/no/such/key"}, "private_key_file"),
        ({"timeout": float("inf")}, "timeout"),
        ({"idle_timeout": float("-inf")}, "idle_timeout"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(runs_dir, kwargs, parameter):
    with pytest.raises(PhaseInputError) as info:
        run_phase(playbook("ok"), inventory=str(INVENTORY), **kwargs)
    assert info.value.parameter == parameter
    assert "\n" not in str(info.value)
    assert "long-secret-1" not in str(info.value)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_a_passphrase_protected_key_is_refused(runs_dir, tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", str(key)], check=True)
    with pytest.raises(PhaseInputError, match="passphrase"):
        run_phase(playbook("ok"), inventory=str(INVENTORY), ssh_key=key.read_text())
