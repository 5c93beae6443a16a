"""The built collection installs, ships no dev-only files, and its playbooks and roles resolve by FQCN."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The Ansible tools of the interpreter running the tests, whatever PATH says.
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("collection")
    # Only the installed copy may be found: not the working tree, not the repository's ansible.cfg.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(work / "collections")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=work,
        env=env,
    )
    tarball = next(work.glob("eightfold-devops-*.tar.gz"))
    subprocess.run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--no-deps",
            "-p",
            str(work / "collections"),
            str(tarball),
        ],
        check=True,
        capture_output=True,
        cwd=work,
        env=env,
    )
    return tarball, work, env


def test_tarball_ships_no_dev_only_files(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "roles/base/tasks/main.yml" in names
    assert "playbooks/site.yml" in names
    for dev_only in ("tools", "tests", "src", "extensions", "bench", "Makefile", ".ci", "pyproject.toml"):
        assert not any(n == dev_only or n.startswith(dev_only + "/") for n in names), dev_only


@pytest.mark.parametrize(
    "playbook", ["eightfold.devops.site", "eightfold.devops.lab", "eightfold.devops.lab_down"]
)
def test_playbooks_run_by_fqcn_from_another_folder(installed, playbook):
    _, work, env = installed
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), playbook, "-i", "localhost,", "--syntax-check"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_role_documentation_comes_from_argument_specs(installed):
    _, work, env = installed
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "role", "eightfold.devops.base"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "base_admin_users" in result.stdout
