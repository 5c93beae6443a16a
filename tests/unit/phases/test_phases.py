"""The controller-side phases on a lifecycle_dir of their own: lab repository, code, build, test, release."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from phases_support import SAMPLE_VERSION, playbook, snapshot

TAG = f"v{SAMPLE_VERSION}"


NO_AUDIT_NO_SMOKE = ("-e", "test_audit=false", "-e", "test_smoke=false")


def first_run(root: Path) -> dict:
    """lab_repo, code (the highest tag) and build in a fresh lifecycle_dir; their runs by playbook."""
    runs = {}
    for phase, args in (
        ("lab_repo.yml", ()),
        ("code.yml", ()),
        ("build.yml", ("-e", f"lifecycle_version={SAMPLE_VERSION}")),
    ):
        runs[phase] = playbook(phase, root, *args)
        assert runs[phase].rc == 0, runs[phase].failure() or runs[phase].stdout[-3000:]
    return runs


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lifecycle_dir with the lab's repository, the highest tag checked out and built."""
    root = tmp_path_factory.mktemp("lifecycle") / "lc"
    return root, first_run(root)


@pytest.fixture(scope="module")
def other_lab(tmp_path_factory):
    """A second lab made the same way (another repository, another clone)."""
    root = tmp_path_factory.mktemp("lifecycle") / "other"
    return root, first_run(root)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_lab_repository_has_one_fixed_commit_and_the_version_tag(lab, other_lab):
    root, runs = lab
    repo = root / "notes.git"
    assert git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
    assert git(repo, "tag").split() == [TAG]
    log = git(repo, "log", "--format=%an <%ae> %cI", "--all").splitlines()
    assert log == ["eightfold lab <lab@eightfold.invalid> 2026-01-01T00:00:00+00:00"]
    files = git(repo, "ls-tree", "-r", "--name-only", TAG).split()
    assert "src/notes/app.py" in files and "tests/test_notes_app.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert runs["lab_repo.yml"].custom_stats["lifecycle_repo"] == str(repo)

    # Another lab makes the same commit; an existing repository is left alone (with a later tag of its user).
    other, _ = other_lab
    assert git(other / "notes.git", "rev-parse", TAG) == git(repo, "rev-parse", TAG)
    git(repo, "tag", "v9.9.9-user", TAG)
    again = playbook("lab_repo.yml", root)
    assert again.rc == 0 and again.changed == 0
    assert "v9.9.9-user" in git(repo, "tag").split()
    git(repo, "tag", "-d", "v9.9.9-user")


def test_code_checks_out_the_highest_tag_and_hands_it_on(lab):
    root, runs = lab
    code = runs["code.yml"]
    commit = git(root / "notes.git", "rev-parse", f"{TAG}^{{commit}}").strip()
    assert code.custom_stats == {
        "lifecycle_version": SAMPLE_VERSION,
        "lifecycle_commit": commit,
        "lifecycle_source": str(root / "work" / SAMPLE_VERSION),
    }
    checkout = root / "work" / SAMPLE_VERSION
    assert (checkout / "src" / "notes" / "app.py").is_file()
    assert not list(checkout.rglob("__pycache__")), "the linters' byte code stays out of the checkout"
    linted = code.results["Run the linters on the checkout"]["results"]
    assert linted[0]["item"]["name"] == "compileall"
    assert all(r["rc"] == 0 for r in linted)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-e", "code_ref=v7.7.7"), "code_ref=v7.7.7 is neither a tag, a branch nor a commit id"),
        (
            ("-e", "code_ref=main"),
            "code_ref=main is not a version tag (vx.y.z): give its version as code_version",
        ),
        (
            ("-e", "code_repo=/nonexistent/notes.git"),
            "Cannot read the git repository code_repo=/nonexistent/notes.git",
        ),
    ],
)
def test_code_refuses_a_bad_ref_before_changing_anything(lab, args, message):
    root, _ = lab
    before = snapshot(root / "work")
    run = playbook("code.yml", root, *args)
    assert run.rc != 0
    assert message in " ".join(run.failure().split()), run.failure()
    assert "Nothing was changed" in run.failure()
    assert snapshot(root / "work") == before


def test_code_fails_naming_the_linter(lab, tmp_path):
    root, _ = lab
    run = playbook(
        "code.yml",
        root,
        "-e",
        json.dumps({"code_linters": [{"name": "strict", "argv": ["grep", "-rq", "NOPE", "."]}]}),
    )
    assert run.rc != 0
    assert "strict (exit 1)" in run.failure()


def test_build_is_reproducible_for_the_same_commit(lab, other_lab):
    root, runs = lab
    first = runs["build.yml"].custom_stats
    artifact = Path(first["lifecycle_artifact"])
    assert artifact == root / "builds" / f"notes-{SAMPLE_VERSION}.tar.gz"
    assert first["lifecycle_sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert (root / "builds" / f"notes-{SAMPLE_VERSION}.tar.gz.sha256").read_text().split()[0] == first[
        "lifecycle_sha256"
    ]

    # Built again: nothing changes. Built from scratch in another lab (another clone): the same bytes.
    again = playbook("build.yml", root, "-e", f"lifecycle_version={SAMPLE_VERSION}")
    assert again.rc == 0 and again.changed == 0
    assert again.custom_stats["lifecycle_sha256"] == first["lifecycle_sha256"]
    other, _ = other_lab
    assert (other / "builds" / artifact.name).read_bytes() == artifact.read_bytes()

    record = json.loads((root / "builds" / f"notes-{SAMPLE_VERSION}.json").read_text())
    assert record["commit"] == first["lifecycle_commit"] and record["built_at"] == "2026-01-01T00:00:00+00:00"


def test_artifact_holds_the_package_at_top_level_with_its_version(lab):
    _, runs = lab
    with tarfile.open(runs["build.yml"].custom_stats["lifecycle_artifact"]) as tar:
        names = tar.getnames()
        assert tar.extractfile("notes/VERSION").read() == f"{SAMPLE_VERSION}\n".encode()
    assert "notes/__init__.py" in names and "notes/__main__.py" in names
    assert all(n == "notes" or n.startswith("notes/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_build_without_a_checkout_fails_clearly(lab):
    root, _ = lab
    run = playbook("build.yml", root, "-e", "lifecycle_version=8.8.8")
    assert run.rc != 0
    assert (
        "There is no checkout with the package notes/" in run.failure()
        and "Nothing was changed" in run.failure()
    )
    assert not (root / "builds" / "notes-8.8.8.tar.gz").exists()


def test_unit_tests_run_against_the_artifact_and_write_junit(lab):
    root, _ = lab
    run = playbook("test.yml", root, "-e", f"lifecycle_version={SAMPLE_VERSION}", *NO_AUDIT_NO_SMOKE)
    assert run.rc == 0, run.failure() or run.stdout[-3000:]
    imported = run.results["Check that the artifact is the version under test"]["stdout_lines"]
    assert imported == [str(root / "test" / SAMPLE_VERSION / "src" / "notes" / "__init__.py"), SAMPLE_VERSION]
    junit = root / "reports" / f"junit-notes-{SAMPLE_VERSION}.xml"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == f"notes-{SAMPLE_VERSION}"
    assert int(suite.get("tests")) > 10 and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert run.custom_stats["lifecycle_test"]["unit"] == "passed"
    assert run.custom_stats["lifecycle_test"]["junit"] == str(junit)
    assert run.custom_stats["lifecycle_test"]["smoke"] == "skipped"


def test_unit_tests_refuse_an_artifact_that_changed_after_the_build(lab, tmp_path):
    root, runs = lab
    artifact = Path(runs["build.yml"].custom_stats["lifecycle_artifact"])
    copy = tmp_path / artifact.name
    shutil.copy(artifact, copy)
    (tmp_path / (artifact.name + ".sha256")).write_text("0" * 64 + f"  {artifact.name}\n")
    run = playbook(
        "test.yml", root, "-e", f"lifecycle_version={SAMPLE_VERSION}", "-e", f"lifecycle_artifact={copy}",
        *NO_AUDIT_NO_SMOKE,
    )  # fmt: skip
    assert run.rc != 0 and "not " + "0" * 64 in run.failure() and "Nothing was tested" in run.failure()


def test_release_is_immutable(lab, tmp_path):
    root, runs = lab
    version = SAMPLE_VERSION
    store = root / "releases" / version
    first = playbook("release.yml", root, "-e", f"lifecycle_version={version}")
    assert first.rc == 0, first.failure()
    manifest = json.loads((store / "manifest.json").read_text())
    built = runs["build.yml"].custom_stats
    assert manifest == {
        "name": "notes",
        "version": version,
        "commit": built["lifecycle_commit"],
        "sha256": built["lifecycle_sha256"],
        "size": Path(built["lifecycle_artifact"]).stat().st_size,
        "artifact": f"notes-{version}.tar.gz",
        "built_at": "2026-01-01T00:00:00+00:00",
        "source": manifest["source"],
        "dependencies": {"debian": ["python3-psycopg2"]},
    }
    assert manifest["source"].endswith("/notes.git")
    assert first.custom_stats["lifecycle_manifest"] == str(store / "manifest.json")
    assert first.custom_stats["lifecycle_artifact"] == str(store / f"notes-{version}.tar.gz")
    assert (store / f"notes-{version}.tar.gz").read_bytes() == Path(built["lifecycle_artifact"]).read_bytes()

    # The same artifact again: nothing changes.
    again = playbook("release.yml", root, "-e", f"lifecycle_version={version}")
    assert again.rc == 0 and again.changed == 0

    # Another artifact under the same version (built without app.py): fails naming both checksums.
    other = tmp_path / "other"
    shutil.copytree(root / "builds", other / "builds")
    shutil.copytree(root / "work", other / "work")
    rebuilt = playbook(
        "build.yml", other, "-e", f"lifecycle_version={version}", "-e", '{"build_exclude": ["app.py"]}'
    )
    new_sha = rebuilt.custom_stats["lifecycle_sha256"]
    assert new_sha != built["lifecycle_sha256"]
    before = snapshot(store)
    refused = playbook(
        "release.yml", root, "-e", f"lifecycle_version={version}",
        "-e", f"lifecycle_artifact={other / 'builds' / f'notes-{version}.tar.gz'}",
    )  # fmt: skip
    message = " ".join(refused.failure().split())
    assert refused.rc != 0
    assert f"Version {version} is already released with another artifact" in message
    assert built["lifecycle_sha256"] in message and new_sha in message and "Nothing was changed" in message
    assert snapshot(store) == before


def test_release_of_a_version_never_built_fails_clearly(lab):
    root, _ = lab
    run = playbook("release.yml", root, "-e", "lifecycle_version=6.6.6")
    assert run.rc != 0
    assert "There is no artifact" in run.failure() and "run the build phase" in run.failure()
    assert not (root / "releases" / "6.6.6").exists()


HEALTHZ_SERVER = """\
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if sys.argv[1] == "healthy" else 503
        body = json.dumps({"status": "ok" if status == 200 else "database down", "version": "1.0.0"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.mark.parametrize("state", ["healthy", "unhealthy"])
def test_smoke_test_asks_healthz_through_the_load_balancer(tmp_path, state):
    """localhost plays the lb host (a stand-in answering /healthz) and the app host (a release link)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    lb:\n      hosts:\n        localhost:\n"
        "          ansible_connection: local\n          ansible_python_interpreter: /usr/bin/python3\n"
        "    app:\n      hosts:\n        localhost:\n"
    )
    (tmp_path / "current").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-c", HEALTHZ_SERVER, state], stdout=subprocess.PIPE, text=True
    )
    try:
        port = server.stdout.readline().strip()
        args = ("-e", "test_unit=false", "-e", "test_audit=false", "-e", f"load_balancer_port={port}")
        run = playbook(
            "test.yml", tmp_path / "lc", *args, "-e", f"test_smoke_release_link={tmp_path / 'current'}",
            inventory=str(inventory),
        )  # fmt: skip
        if state == "healthy":
            assert run.rc == 0, run.failure()
            assert run.custom_stats["lifecycle_test"]["smoke"] == "passed"
            assert "version(s) 1.0.0" in run.results["Show the versions that answered"]["msg"]
        else:
            assert run.rc != 0
            message = " ".join(run.failure().split())
            assert (
                f"Smoke test failed on localhost: GET http://127.0.0.1:{port}/healthz answered 503" in message
            )
            assert "database down" in message

        # No deployed version yet: skipped with the reason.
        skipped = playbook("test.yml", tmp_path / "lc", *args, inventory=str(inventory))
        assert skipped.rc == 0
        assert skipped.custom_stats["lifecycle_test"]["smoke_skipped_because"] == (
            "no deployed version yet: no host of app has /srv/notes/current"
        )
    finally:
        server.kill()
        server.wait()
