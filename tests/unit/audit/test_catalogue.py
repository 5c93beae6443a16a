"""The control catalogue: the shipped file is valid, bad entries fail naming the control, filters, waivers."""

import copy
import datetime
import re
import subprocess
import sys

import pytest
import yaml
from ansible_collections.eightfold.devops.plugins.plugin_utils import _catalogue as cat
from conftest import ROOT, run_ansible

GOOD = {
    "controls": [
        {
            "id": "SSH-001",
            "title": "Root cannot log in over SSH",
            "area": "ssh",
            "role": "ssh_hardening",
            "cis": "5.1.20",
            "severity": "high",
            "container": "enforced",
            "check": {"type": "sshd", "key": "permitrootlogin", "op": "eq", "value": "no"},
        },
        {
            "id": "KRN-001",
            "title": "ASLR",
            "area": "kernel",
            "role": "os_hardening",
            "severity": "high",
            "container": "deferred",
            "check": {"type": "sysctl", "key": "kernel.randomize_va_space", "value": 2},
        },
    ]
}


def write(tmp_path, data):
    path = tmp_path / "controls.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_catalogue_loads():
    controls = cat.load()
    ids = [c["id"] for c in controls]
    assert len(ids) == len(set(ids)) >= 140
    assert {c["role"] for c in controls} == set(cat.ROLES)
    # The defaults the roles enforce come from here.
    sysctl = {c["check"]["key"]: c["check"]["value"] for c in cat.select(controls, type="sysctl")}
    assert sysctl["kernel.randomize_va_space"] == 2
    assert sysctl["net.ipv4.ip_forward"] == 0
    assert all(c["container"] == "deferred" for c in cat.select(controls, area=["kernel", "network"]))


def test_good_file_loads(tmp_path):
    assert [c["id"] for c in cat.load(write(tmp_path, GOOD))] == ["SSH-001", "KRN-001"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["controls"].append(copy.deepcopy(d["controls"][0])), "control SSH-001: duplicate id"),
        (lambda d: d["controls"][1]["check"].update(type="magic"), "control KRN-001: unknown check type"),
        (lambda d: d["controls"][0].update(area="spaceship"), "control SSH-001: unknown area 'spaceship'"),
        (lambda d: d["controls"][0].update(role="nobody"), "control SSH-001: unknown role 'nobody'"),
        (lambda d: d["controls"][0].update(colour="red"), "control SSH-001: unknown field colour"),
        (lambda d: d["controls"][0].pop("title"), "control SSH-001: missing field title"),
        (lambda d: d["controls"][0]["check"].update(op="like"), "control SSH-001: check.op 'like'"),
        (lambda d: d["controls"][0]["check"].update(path="/x"), "control SSH-001: check type sshd does not"),
        (lambda d: d["controls"][1]["check"].pop("value"), "control KRN-001: check type sysctl needs value"),
        (lambda d: d["controls"][0].update(cis=5.1), "control SSH-001: cis must be a quoted section number"),
        (lambda d: d["controls"][1].update(id="krn1"), "controls[1] has an id 'krn1'"),
        (
            lambda d: d["controls"][1].update(check={"type": "file_contains", "path": "/x", "regex": "("}),
            "control KRN-001: check.regex is not a valid regular expression",
        ),
        (
            lambda d: d["controls"][1].update(check={"type": "file_mode", "path": "/etc/x", "mode": 384}),
            "control KRN-001: check.mode must be an octal string",
        ),
    ],
)
def test_bad_entries_fail_naming_the_control(tmp_path, change, message):
    data = copy.deepcopy(GOOD)
    change(data)
    with pytest.raises(cat.CatalogueError, match=re.escape(message)):
        cat.load(write(tmp_path, data))


def test_missing_catalogue_is_a_clear_error(tmp_path):
    with pytest.raises(cat.CatalogueError, match="cannot read the control catalogue"):
        cat.load(tmp_path / "nope.yml")


def test_select_filters_and_rejects_unknown_values():
    controls = cat.load()
    fw = cat.select(controls, role="firewall")
    assert [c["id"] for c in fw] == ["FW-001", "FW-002", "FW-003", "FW-004", "FW-005"]
    assert [c["id"] for c in cat.select(controls, role="firewall", type="nft_policy")] == ["FW-003", "FW-004"]
    assert [c["id"] for c in cat.select(controls, ids="SSH-001,SSH-002")] == ["SSH-001", "SSH-002"]
    with pytest.raises(cat.CatalogueError, match="unknown area 'nope'"):
        cat.select(controls, area="nope")


def test_select_leaves_out_skipped_ids_and_areas():
    """The roles apply their skip lists in the lookup (Python) rather than in Jinja."""
    controls = cat.load()
    fw = cat.select(controls, role="firewall", exclude_ids=["FW-003"])
    assert [c["id"] for c in fw] == ["FW-001", "FW-002", "FW-004", "FW-005"]
    os_all = cat.select(controls, role="os_hardening")
    kept = cat.select(controls, role="os_hardening", exclude_areas="kernel,network", exclude_ids=[])
    assert kept == [c for c in os_all if c["area"] not in ("kernel", "network")]
    assert cat.select(controls, role="os_hardening", exclude_areas=[], exclude_ids=None) == os_all
    with pytest.raises(cat.CatalogueError, match="unknown id 'XX-999'"):
        cat.select(controls, exclude_ids=["XX-999"])
    with pytest.raises(cat.CatalogueError, match="unknown area 'nope'"):
        cat.select(controls, exclude_areas=["nope"])


def test_waivers_are_validated_naming_index_and_field():
    ids = ["SSH-001", "SSH-002"]
    ok = cat.validate_waivers([{"id": "SSH-001", "reason": "r", "expires": datetime.date(2030, 1, 2)}], ids)
    assert ok == [{"id": "SSH-001", "reason": "r", "expires": "2030-01-02"}]

    def w(cid="SSH-001", reason="r", expires="2030-01-01", **extra):
        waiver = {"id": cid, "reason": reason, "expires": expires, **extra}
        return {k: v for k, v in waiver.items() if v is not None}

    cases = [
        ([w("NOPE-001")], r"waivers\[0\]\.id 'NOPE-001' is not a control"),
        ([w(reason=None)], r"waivers\[0\]\.reason is missing \(control SSH-001\)"),
        ([w(expires=None)], r"waivers\[0\]\.expires is missing"),
        (
            [w("SSH-002"), w(expires="31.12.2030")],
            r"waivers\[1\]\.expires \(control SSH-001\) must be a date",
        ),
        ([w(expires="2030-02-30")], r"waivers\[0\]\.expires .* must be a date"),
        ([w(by="me")], r"waivers\[0\]: unknown field by"),
        ([w(), w()], r"waivers\[1\]\.id 'SSH-001' is waived twice"),
    ]
    for waivers, message in cases:
        with pytest.raises(cat.CatalogueError, match=message):
            cat.validate_waivers(waivers, ids)


def test_lookup_returns_catalogue_entries(tmp_path):
    playbook = tmp_path / "lookup.yml"
    playbook.write_text(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.assert:
        that:
          - query('eightfold.devops.controls', role='firewall', type='nft_policy')
            | map(attribute='id') | list == ['FW-003', 'FW-004']
          - query('eightfold.devops.controls', 'SSH-001')[0].check.key == 'permitrootlogin'
          - lookup('eightfold.devops.controls', area='kernel') | length == 16
          - query('eightfold.devops.controls') | length > 140
    - ansible.builtin.debug:
        msg: "{{ query('eightfold.devops.controls', area='nope') }}"
      register: bad
      ignore_errors: true
    - ansible.builtin.assert:
        that: "'unknown area' in bad.msg"
"""
    )
    result = run_ansible("ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook))
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalogue_doc_is_current_and_check_detects_drift(tmp_path):
    tool = ROOT / "tools" / "catalogue_doc.py"
    fresh = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert fresh.returncode == 0, "docs/controls.md is stale: run tools/catalogue_doc.py\n" + fresh.stderr
    stale = tmp_path / "controls.md"
    stale.write_text((ROOT / "docs" / "controls.md").read_text().replace("SSH-001", "SSH-999"))
    result = subprocess.run(
        [sys.executable, str(tool), "--check", "--output", str(stale)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "stale" in result.stderr
    written = subprocess.run(
        [sys.executable, str(tool), "--output", str(stale)], capture_output=True, text=True
    )
    assert written.returncode == 0
    assert stale.read_text() == (ROOT / "docs" / "controls.md").read_text()
