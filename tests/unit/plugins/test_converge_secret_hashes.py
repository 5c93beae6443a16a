"""eightfold.devops.converge: the read it returns shows no hash of a secret entry's file."""

from ansible_collections.eightfold.devops.plugins.action.converge import without_secret_hashes

READ = {
    "covers": {"files": ["/etc/app/env", "/etc/app/app.conf"]},
    "files": {
        "/etc/app/env": {"exists": True, "type": "file", "mode": "0600", "mtime": 1.0, "sha256": "aa"},
        "/etc/app/app.conf": {"exists": True, "type": "file", "mode": "0644", "mtime": 2.0, "sha256": "bb"},
    },
}
FILES = [
    {"dest": "/etc/app/env", "content": "PASSWORD=short", "secret": True},
    {"dest": "/etc/app/app.conf", "content": "port=1"},
]


def test_a_secret_entry_loses_its_hash_and_keeps_the_rest():
    shown = without_secret_hashes(READ, FILES)
    assert shown["files"]["/etc/app/env"] == {
        "exists": True,
        "type": "file",
        "mode": "0600",
        "mtime": 1.0,
    }
    assert shown["files"]["/etc/app/app.conf"] == READ["files"]["/etc/app/app.conf"]
    assert shown["covers"] == READ["covers"]


def test_the_read_given_is_not_changed():
    without_secret_hashes(READ, FILES)
    assert READ["files"]["/etc/app/env"]["sha256"] == "aa"


def test_no_secret_entry_returns_the_read_as_it_is():
    assert without_secret_hashes(READ, FILES[1:]) is READ


def test_a_secret_entry_the_read_does_not_cover_changes_nothing():
    assert without_secret_hashes(READ, [{"dest": "/etc/other", "secret": True}]) is READ


def test_a_read_without_files_is_returned_as_it_is():
    read = {"packages": {}}
    assert without_secret_hashes(read, FILES) is read
