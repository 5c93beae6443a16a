"""Bad input is refused with a clear PhaseInputError before anything runs (no run directory)."""

from __future__ import annotations

import threading

import pytest
from conftest import INVENTORY, playbook

from eightfold import PhaseInputError, run_phase, run_pipeline, start_phase


def _refused(runs_dir, parameter: str, **kwargs) -> PhaseInputError:
    kwargs.setdefault("inventory", str(INVENTORY))
    name = kwargs.pop("name", playbook("ok"))
    with pytest.raises(PhaseInputError) as info:
        run_phase(name, **kwargs)
    assert info.value.parameter == parameter
    assert not runs_dir.exists() or not any(runs_dir.iterdir()), "nothing may run on bad input"
    return info.value


def test_unknown_phase_names_the_known_ones(runs_dir):
    error = _refused(runs_dir, "name", name="no_such_phase")
    assert "unknown phase 'no_such_phase'" in str(error)
    assert "site" in str(error)


@pytest.mark.parametrize("name", ["eightfold.devops.nope", "other.coll.site", "../site", "", "missing.yml"])
def test_other_bad_names(runs_dir, name):
    _refused(runs_dir, "name", name=name)


def test_missing_inventory(runs_dir, tmp_path):
    error = _refused(runs_dir, "inventory", inventory=str(tmp_path / "nope.yml"))
    assert "does not exist" in str(error)


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("hosts.yml", "all: [unclosed\n"),
        ("hosts.yml", "- a list\n- not groups\n"),
        ("hosts.yml", "all:\n  hostz:\n    h1:\n"),
        ("hosts.json", "{not json"),
        ("hosts.ini", "[web\nh1\n"),
    ],
)
def test_inventory_that_does_not_parse(runs_dir, tmp_path, filename, text):
    path = tmp_path / filename
    path.write_text(text)
    error = _refused(runs_dir, "inventory", inventory=str(path))
    assert str(path) in str(error)


def test_good_ini_inventory_is_accepted(runs_dir, tmp_path):
    from eightfold._inventory import check_inventory_path

    path = tmp_path / "hosts"
    path.write_text("[web]\nh1 ansible_connection=local\n")
    check_inventory_path(path)


@pytest.mark.parametrize("inventory", [{"all": ["h1"], "web": 3}, {"all": {"hosts": ["h1"]}}, {}, 42, None])
def test_bad_inventory_mapping(runs_dir, inventory):
    _refused(runs_dir, "inventory", inventory=inventory)


@pytest.mark.parametrize("extravars", [["a", "b"], "a=b", 3, {"not an identifier": 1}, {"x": object()}])
def test_extravars_must_be_a_mapping_of_names(runs_dir, extravars):
    _refused(runs_dir, "extravars", extravars=extravars)


@pytest.mark.parametrize("timeout", [0, -1, "10", float("nan"), True])
def test_timeout_must_be_positive(runs_dir, timeout):
    error = _refused(runs_dir, "timeout", timeout=timeout)
    assert "positive" in str(error)


def test_idle_timeout_forks_cancel_and_secret_overlap(runs_dir):
    _refused(runs_dir, "idle_timeout", idle_timeout=0)
    _refused(runs_dir, "forks", forks=0)
    _refused(runs_dir, "cancel", cancel="yes")
    _refused(runs_dir, "secrets", extravars={"a": 1}, secrets={"a": 2})
    _refused(runs_dir, "executor", executor="nowhere")


def test_pipeline_checks_every_phase_first(runs_dir):
    with pytest.raises(PhaseInputError) as info:
        run_pipeline([playbook("ok"), "nope"], inventory=str(INVENTORY))
    assert info.value.parameter == "name"
    with pytest.raises(PhaseInputError):
        run_pipeline("site", inventory=str(INVENTORY))
    with pytest.raises(PhaseInputError):
        run_pipeline([playbook("ok")], inventory=str(INVENTORY), on_failure="nope")
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_phase_names_resolve_to_collection_playbooks():
    from eightfold._collection import resolve_phase

    site = resolve_phase("site")
    assert site.path.name == "site.yml" and site.name == "site"
    assert resolve_phase("eightfold.devops.lab_down").path.name == "lab_down.yml"
    assert "ansible_collections/eightfold/devops/playbooks" in str(site.path)


def test_start_phase_is_checked_the_same_way(runs_dir):
    with pytest.raises(PhaseInputError):
        start_phase(playbook("ok"), inventory=str(INVENTORY), cancel=threading.Lock())
