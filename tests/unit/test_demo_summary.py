# ruff: noqa: E501  (the recap lines below are quoted as ansible-playbook prints them)
from demo import Step, parse_recap, summary

# A recap as ansible-playbook prints it, colour codes included.
LOG = """\
TASK [eightfold.devops.base : Set the time zone] ***
ok: [app1]

PLAY RECAP *********************************************************************
\x1b[0;33mapp1\x1b[0m                       : \x1b[0;32mok=24  \x1b[0m changed=3    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
lb1                        : ok=24   changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0

TASKS RECAP ***
"""


def test_recap_counts_are_read_per_host_even_with_colour():
    recap = parse_recap(LOG.splitlines())
    assert recap["app1"]["changed"] == 3
    assert recap["lb1"] == {
        "ok": 24,
        "changed": 0,
        "unreachable": 0,
        "failed": 0,
        "skipped": 0,
        "rescued": 0,
        "ignored": 0,
    }


def test_only_the_last_recap_counts():
    lines = [*LOG.splitlines(), "PLAY RECAP ***", "db1 : ok=1 changed=1 unreachable=0 failed=0"]
    assert list(parse_recap(lines)) == ["db1"]


def test_summary_names_each_host_and_the_outcome():
    steps = [Step("lab.yml", 0, 10.0, {}), Step("site.yml", 0, 20.0, parse_recap(LOG.splitlines()))]
    text = summary(steps)
    assert "demo done" in text
    assert "total" in text and "30.0 s" in text
    assert any(line.split()[:3] == ["app1", "24", "3"] for line in text.splitlines())
