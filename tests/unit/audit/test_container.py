"""The audit through Ansible on a fresh Debian 12 container, and the report the audit playbook writes."""

import json
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.eightfold.devops.plugins.plugin_utils import _catalogue as cat
from conftest import ROOT, docker_exec, run_ansible

CATALOGUE = cat.load()


@pytest.fixture(scope="module")
def configured(container):
    """Configuration the roles would write, where a container cannot make it effective."""
    docker_exec(
        container,
        "mkdir -p /etc/sysctl.d /etc/modprobe.d;"
        " printf 'kernel.kptr_restrict = 2\\n' > /etc/sysctl.d/99-eightfold-test.conf;"
        " printf 'install cramfs /bin/false\\nblacklist cramfs\\n' > /etc/modprobe.d/eightfold-test.conf",
    )
    return container


@pytest.fixture(scope="module")
def report(configured, inventory, tmp_path_factory):
    """Run playbooks/audit.yml with waivers; return (result, report dir)."""
    out = tmp_path_factory.mktemp("report")
    extra = {
        "audit_report_dir": str(out / "audit"),
        "audit_today": "2030-02-01",
        "audit_fail_on_failure": False,
        "audit_skip": ["FS-004"],
        "audit_waivers": [
            {"id": "SSH-001", "reason": "root keys until the <migration> & cutover", "expires": "2030-06-30"},
            {"id": "SSH-002", "reason": "old waiver", "expires": "2030-01-31"},
            {"id": "SSH-004", "reason": "waiver on a passing control", "expires": "2030-06-30"},
        ],
    }
    result = run_ansible(
        "ansible-playbook",
        "-i",
        str(inventory),
        str(ROOT / "playbooks" / "audit.yml"),
        "-e",
        json.dumps(extra),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, out / "audit"


def host_report(report, container):
    data = json.loads((report[1] / "audit.json").read_text())
    (host,) = [h for h in data["hosts"] if h["name"] == container]
    return data, host


def test_fresh_container_is_audited_with_container_rules(report, container):
    _, host = host_report(report, container)
    assert host["audited"] is True
    assert host["container"] is True
    assert host["host"]["os_version"] == "12"
    by_id = {r["id"]: r for r in host["results"]}
    assert set(by_id) == {c["id"] for c in CATALOGUE}
    assert host["summary"]["total"] == len(CATALOGUE)
    assert host["summary"]["fail"] > 40  # a fresh image is far from the baseline
    # Kernel parameters in a container: deferred when configured, else pass or fail, never not evaluated.
    assert by_id["KRN-002"]["status"] in ("deferred", "pass")
    assert "99-eightfold-test.conf" in by_id["KRN-002"]["evidence"] or by_id["KRN-002"]["status"] == "pass"
    for cid, result in by_id.items():
        if cid.startswith(("KRN-", "NET-")):
            assert result["status"] in ("pass", "fail", "deferred", "not_applicable"), result
    # Module configured but not loaded -> pass; unconfigured -> fail.
    assert by_id["MOD-001"]["status"] in ("pass", "deferred")
    assert by_id["MOD-002"]["status"] == "fail"
    # Real commands: sshd -T, systemctl, dpkg.
    assert by_id["SSH-013"]["status"] == "fail"
    assert by_id["SSH-013"]["evidence"] == "x11forwarding yes (want no)"
    assert by_id["SSH-022"]["status"] == "pass"
    assert by_id["AUDIT-001"]["evidence"] == "not installed: auditd"
    assert by_id["FW-003"]["status"] == "fail"
    assert by_id["FS-006"]["status"] == "pass"
    assert by_id["BAN-001"]["status"] == "fail"


def test_waivers_and_skips(report, container):
    _, host = host_report(report, container)
    by_id = {r["id"]: r for r in host["results"]}
    assert by_id["SSH-001"]["status"] == "waived"
    assert by_id["SSH-001"]["waiver"]["expires"] == "2030-06-30"
    assert by_id["SSH-002"]["status"] == "fail"
    assert by_id["SSH-002"]["evidence"].startswith("waiver expired on 2030-01-31: old waiver")
    assert by_id["SSH-004"]["status"] == "pass"
    assert by_id["FS-004"]["status"] == "not_applicable"
    assert by_id["FS-004"]["evidence"] == "skipped by request"


def test_report_formats(report, container):
    data, host = host_report(report, container)
    out = report[1]
    assert data["fleet"]["hosts"] == 1
    assert data["fleet"]["fail"] == host["summary"]["fail"]
    assert data["fleet"]["failing_hosts"] == [container]

    junit = ET.parse(out / "junit.xml").getroot()
    (suite,) = junit.findall("testsuite")
    assert suite.get("name") == container
    cases = suite.findall("testcase")
    assert len(cases) == len(CATALOGUE)
    assert (
        int(suite.get("failures"))
        == host["summary"]["fail"]
        == len([c for c in cases if c.find("failure") is not None])
    )
    waived = next(c for c in cases if c.get("name").startswith("SSH-001 "))
    assert waived.find("failure") is None
    assert "<migration> & cutover" in waived.find("system-out").text
    skipped = next(c for c in cases if c.get("name").startswith("FS-004 "))
    assert skipped.find("skipped").get("message") == "not_applicable: skipped by request"

    html = (out / "audit.html").read_text()
    assert '<table id="fleet">' in html
    assert "&lt;migration&gt; &amp; cutover" in html
    assert "<migration>" not in html
    assert "http" not in html.split("<body>")[0]  # no external assets

    markdown = (out / "audit.md").read_text()
    assert "## Fleet summary" in markdown
    assert f"| {container} | Debian GNU/Linux 12 (bookworm) | yes |" in markdown
    assert "### Failing:" in markdown and "### Waived: 1" in markdown


def test_play_fails_naming_hosts_and_controls(configured, inventory, tmp_path):
    # A relative report directory is relative to the current directory.
    extra = {"audit_report_dir": "r", "audit_roles": ["firewall"]}
    result = run_ansible(
        "ansible-playbook",
        "-i",
        str(inventory),
        str(ROOT / "playbooks" / "audit.yml"),
        "-e",
        json.dumps(extra),
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert f"{configured}:" in result.stdout
    assert "FW-001, FW-002, FW-003, FW-004, FW-005" in result.stdout
    data = json.loads((tmp_path / "r" / "audit.json").read_text())
    assert data["fleet"]["total"] == 5


def test_unknown_waiver_id_fails_before_the_audit(inventory, container):
    args = json.dumps({"waivers": [{"id": "SSH-999", "reason": "x", "expires": "2030-01-01"}]})
    result = run_ansible(
        "ansible", container, "-i", str(inventory), "-m", "eightfold.devops.baseline_audit", "-a", args
    )
    assert result.returncode != 0
    assert "waivers[0].id 'SSH-999' is not a control in the catalogue" in result.stdout


def test_fail_on_and_check_mode(inventory, container):
    args = json.dumps({"roles": ["firewall"], "fail_on": "fail"})
    result = run_ansible(
        "ansible",
        container,
        "-i",
        str(inventory),
        "--check",
        "-m",
        "eightfold.devops.baseline_audit",
        "-a",
        args,
    )
    assert result.returncode != 0
    assert "5 of 5 controls fail: FW-001, FW-002, FW-003, FW-004, FW-005" in result.stdout
    assert '"changed": false' in result.stdout or "changed: false" in result.stdout
