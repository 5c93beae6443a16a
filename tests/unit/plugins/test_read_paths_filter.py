"""eightfold.devops.read_paths: which entries a read hashes, which it reads without one, bad input named."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.read_paths import FilterModule, read_paths

ENTRIES = [
    {"dest": "/etc/app", "state": "directory", "mode": "0750"},
    {"dest": "/etc/app/app.conf", "template": "app.conf.j2"},
    {"dest": "/etc/app/env", "content": "", "secret": True},
    {"dest": "/etc/shadow", "mode": "0640"},
    {"dest": "/etc/app/old.conf", "state": "absent"},
]


def test_registered_under_its_name():
    assert FilterModule().filters()["read_paths"] is read_paths


def test_entries_that_write_content_are_hashed_even_an_empty_content():
    assert read_paths(ENTRIES) == ["/etc/app/app.conf", "/etc/app/env"]


def test_the_others_are_read_without_a_hash():
    assert read_paths(ENTRIES, content=False) == ["/etc/app", "/etc/shadow", "/etc/app/old.conf"]


def test_no_entries_no_paths():
    assert read_paths([]) == [] and read_paths([], content=False) == []


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("/etc/app.conf", "not str"),
        ([{"dest": "/a", "content": "a"}, "/b"], "entry 1"),
        ([{"content": "a"}], "entry 0"),
    ],
)
def test_malformed_input_is_named(value, named):
    with pytest.raises(AnsibleFilterError, match=named):
        read_paths(value)
