"""eightfold.devops.release on real files: unpack, switch, keep N, roll back, check mode, refusals."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat

import pytest
from release_support import make_tarball, tree


def test_switch_unpacks_verifies_and_points_current_at_the_release(releases):
    result = releases.run(version="1.0.0")
    assert result["changed"] is True, result
    assert result["unpacked"] is True and result["switched"] is True
    assert result["version"] == result["current_version"] == "1.0.0"
    assert result["before_version"] is None and result["previous_version"] is None
    assert result["path"] == str(releases.base / "releases" / "1.0.0")
    assert result["releases"] == ["1.0.0"]
    assert result["sha256"] == releases.sums["1.0.0"]
    assert releases.current() == "releases/1.0.0"  # relative: the base may move
    current = releases.base / "current"
    assert (current / "VERSION").read_text() == "1.0.0\n"
    assert os.access(current / "bin" / "notes-server", os.X_OK)
    assert os.readlink(current / "lib") == "bin"
    assert stat.S_IMODE((releases.base / "releases" / "1.0.0").stat().st_mode) == 0o755
    # nothing half-done left behind
    assert [p.name for p in (releases.base / "releases").iterdir()] == ["1.0.0"]
    assert not [p for p in releases.base.iterdir() if p.name.startswith(".current")]


def test_same_version_again_changes_nothing(releases):
    releases.run(version="1.0.0")
    before = tree(releases.base)
    again = releases.run(version="1.0.0")
    assert again["changed"] is False, again
    assert again["unpacked"] is False and again["switched"] is False
    assert again["current_version"] == again["before_version"] == "1.0.0"
    assert tree(releases.base) == before
    # the artifact is not needed any more once unpacked
    releases.artifact("1.0.0").unlink()
    assert releases.run(version="1.0.0")["changed"] is False


def test_new_version_switches_and_reports_the_previous_one(releases):
    releases.run(version="1.0.0")
    result = releases.run(version="1.1.0")
    assert result["changed"] is True
    assert result["before_version"] == result["previous_version"] == "1.0.0"
    assert result["current_version"] == "1.1.0"
    assert result["releases"] == ["1.0.0", "1.1.0"]
    assert (releases.base / "current" / "VERSION").read_text() == "1.1.0\n"
    again = releases.run(version="1.1.0")
    assert again["changed"] is False
    assert again["previous_version"] == "1.0.0"


def test_present_unpacks_without_switching(releases):
    releases.run(version="1.0.0")
    result = releases.run(version="2.0.0", state="present")
    assert result["changed"] is True and result["unpacked"] is True and result["switched"] is False
    assert result["current_version"] == "1.0.0"
    assert releases.current() == "releases/1.0.0"
    assert (releases.base / "releases" / "2.0.0" / "VERSION").read_text() == "2.0.0\n"
    assert releases.run(version="2.0.0", state="present")["changed"] is False
    switched = releases.run(version="2.0.0")
    assert switched["changed"] is True and switched["unpacked"] is False and switched["switched"] is True


def test_keep_removes_the_oldest_releases(releases):
    versions = [f"1.{minor}.0" for minor in range(6)]
    removed = []
    for version in versions:
        result = releases.run(version=version, keep=3)
        removed += result["removed"]
    assert removed == ["1.0.0", "1.1.0", "1.2.0"]
    assert releases.on_disk() == ["1.3.0", "1.4.0", "1.5.0"]
    assert result["releases"] == ["1.3.0", "1.4.0", "1.5.0"]


def test_keep_never_removes_the_current_or_the_previous_release(releases):
    releases.run(version="1.0.0")
    releases.run(version="2.0.0")
    # Unpacking a third without switching, keep 1: current (2.0.0) and previous (1.0.0) stay.
    result = releases.run(version="3.0.0", state="present", keep=1)
    assert result["removed"] == []
    assert releases.on_disk() == ["1.0.0", "2.0.0", "3.0.0"]
    # Switching to it with keep 1: 3.0.0 current, 2.0.0 previous, 1.0.0 goes.
    result = releases.run(version="3.0.0", keep=1)
    assert result["removed"] == ["1.0.0"]
    assert releases.on_disk() == ["2.0.0", "3.0.0"]
    assert result["previous_version"] == "2.0.0"
    # keep 0 keeps everything
    for version in ("4.0.0", "5.0.0"):
        assert releases.run(version=version, keep=0)["removed"] == []
    assert releases.on_disk() == ["2.0.0", "3.0.0", "4.0.0", "5.0.0"]


def test_rollback_goes_back_one_release_at_a_time(releases):
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        releases.run(version=version)
    result = releases.run(state="rollback")
    assert result["changed"] is True and result["switched"] is True
    assert result["version"] == result["current_version"] == "2.0.0"
    assert result["before_version"] == "3.0.0"
    assert result["previous_version"] == "1.0.0"
    assert releases.current() == "releases/2.0.0"
    assert (releases.base / "current" / "VERSION").read_text() == "2.0.0\n"
    assert "3.0.0" in result["releases"]  # rolled back from, still on disk
    result = releases.run(state="rollback")
    assert result["current_version"] == "1.0.0" and result["previous_version"] is None
    failed = releases.run(state="rollback")
    assert failed["failed"] is True
    assert "no previous release of 1.0.0" in failed["msg"]
    assert releases.current() == "releases/1.0.0"


def test_rollback_to_a_named_release_is_repeatable(releases):
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        releases.run(version=version)
    result = releases.run(state="rollback", version="1.0.0")
    assert result["changed"] is True
    assert result["current_version"] == "1.0.0" and result["previous_version"] == "3.0.0"
    again = releases.run(state="rollback", version="1.0.0")
    assert again["changed"] is False, again
    missing = releases.run(state="rollback", version="0.9.0")
    assert missing["failed"] is True
    assert missing["msg"].startswith("cannot roll back to 0.9.0: no such release under")
    assert "1.0.0" in missing["msg"]


def test_rollback_without_any_release_fails_clearly(releases):
    result = releases.run(state="rollback")
    assert result["failed"] is True
    assert "no current release" in result["msg"]
    assert not releases.base.joinpath("current").exists()


def test_check_mode_reports_and_touches_nothing(releases):
    releases.run(version="1.0.0", keep=2)
    releases.run(version="2.0.0", keep=2)
    before = tree(releases.base)
    result = releases.run(version="3.0.0", keep=2, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["unpacked"] is True and result["switched"] is True
    assert result["removed"] == ["1.0.0"]
    assert result["current_version"] == "3.0.0" and result["previous_version"] == "2.0.0"
    assert result["diff"]["before"] == "current -> releases/2.0.0\nreleases:\n  - 1.0.0\n  - 2.0.0\n"
    assert result["diff"]["after"] == "current -> releases/3.0.0\nreleases:\n  - 2.0.0\n  - 3.0.0\n"
    rollback = releases.run(state="rollback", check_mode=True)
    assert rollback["changed"] is True and rollback["current_version"] == "1.0.0"
    assert tree(releases.base) == before
    # a converged host: check mode says nothing to do
    assert releases.run(version="2.0.0", keep=2, check_mode=True)["changed"] is False


def test_check_mode_on_a_fresh_host_creates_nothing(releases):
    result = releases.run(version="1.0.0", check_mode=True)
    assert result["changed"] is True and result["releases"] == ["1.0.0"]
    assert not releases.base.exists()
    # the artifact not copied yet (its copy task ran in check mode as well): a warning, not a failure
    missing = releases.run(
        version="1.0.0", src=str(releases.tmp / "not-there.tar.gz"), sha256="0" * 64, check_mode=True
    )
    assert missing["changed"] is True
    assert "not-there.tar.gz does not exist" in json.dumps(missing["warnings"])
    assert not releases.base.exists()


def test_bad_checksum_fails_naming_both_and_changes_nothing(releases):
    releases.run(version="1.0.0")
    before = tree(releases.base)
    releases.artifact("2.0.0")
    wrong = "ab" * 32
    result = releases.run(version="2.0.0", sha256=f"sha256:{wrong.upper()}")
    assert result["failed"] is True
    artifact, actual = releases.artifact("2.0.0"), releases.sums["2.0.0"]
    assert result["msg"] == f"sha256 of {artifact} is {actual}, expected {wrong}: nothing changed"
    assert result["expected"] == wrong and result["sha256"] == releases.sums["2.0.0"]
    assert tree(releases.base) == before
    also_in_check_mode = releases.run(version="2.0.0", sha256=wrong, check_mode=True)
    assert also_in_check_mode["failed"] is True


def test_a_version_once_unpacked_is_immutable(releases):
    releases.run(version="1.0.0")
    other = releases.artifacts / "rebuilt.tar.gz"
    checksum = make_tarball(other, [("VERSION", "file", "something else\n")])
    result = releases.run(version="1.0.0", src=str(other), sha256=checksum)
    assert result["failed"] is True
    assert "was unpacked from an artifact with sha256" in result["msg"]
    assert (releases.base / "current" / "VERSION").read_text() == "1.0.0\n"


@pytest.mark.parametrize(
    ("members", "member", "why"),
    [
        ([("ok", "file", "x"), ("../evil", "file", "x")], "../evil", "has '..' in its path"),
        ([("a/../../evil", "file", "x")], "a/../../evil", "has '..' in its path"),
        ([("/etc/evil", "file", "x")], "/etc/evil", "has an absolute path"),
        (
            [("link", "symlink", "../../etc")],
            "link",
            "is a symlink leaving the release directory (../../etc)",
        ),
        (
            [("sub/link", "symlink", "../..")],
            "sub/link",
            "is a symlink leaving the release directory (../..)",
        ),
        ([("abs", "symlink", "/etc/passwd")], "abs", "is a symlink to an absolute path (/etc/passwd)"),
        ([("hard", "hardlink", "../outside")], "hard", "is a hard link leaving the release directory"),
        ([("hard", "hardlink", "/etc/passwd")], "hard", "is a hard link to an absolute path"),
        ([("here", "symlink", "."), ("here/x", "symlink", "../escape")], "here/x", "goes through the link"),
        ([("pipe", "fifo", None)], "pipe", "is a device or FIFO"),
    ],
)
def test_unsafe_members_are_refused_naming_them(releases, members, member, why):
    releases.run(version="1.0.0")
    before = tree(releases.tmp)
    bad = releases.artifacts / "bad.tar.gz"
    checksum = make_tarball(bad, members)
    before = tree(releases.base)
    for check_mode in (True, False):
        result = releases.run(version="6.6.6", src=str(bad), sha256=checksum, check_mode=check_mode)
        assert result["failed"] is True, result
        assert result["msg"].startswith(f"archive member {member!r} {why}"), result["msg"]
        assert result["member"] == member
    assert tree(releases.base) == before
    assert not (releases.tmp / "evil").exists() and not (releases.tmp / "srv" / "evil").exists()


def test_safe_links_set_id_bits_and_strip_components(releases):
    artifact = releases.artifacts / "nested.tar.gz"
    checksum = make_tarball(
        artifact,
        [
            ("notes-1.0.0", "dir", None),
            ("notes-1.0.0/bin", "dir", None),
            ("notes-1.0.0/bin/tool", "file", "#!/bin/sh\n", 0o6777),
            ("notes-1.0.0/bin/alias", "symlink", "tool"),
            ("notes-1.0.0/bin/same", "hardlink", "notes-1.0.0/bin/tool", 0o6777),
            ("notes-1.0.0/up", "symlink", "bin/../bin"),
        ],
    )
    result = releases.run(version="1.0.0", src=str(artifact), sha256=checksum, strip_components=1)
    assert result["changed"] is True, result
    release = releases.base / "releases" / "1.0.0"
    assert sorted(tree(release)) == ["bin", "bin/alias", "bin/same", "bin/tool", "up"]
    assert stat.S_IMODE((release / "bin" / "tool").stat().st_mode) == 0o755
    assert (release / "bin" / "same").stat().st_ino == (release / "bin" / "tool").stat().st_ino


def test_owner_group_and_mode(releases):
    result = releases.run(version="1.0.0", owner="nobody", group="nogroup", mode="0750")
    assert result["changed"] is True, result
    release = releases.base / "releases" / "1.0.0"
    assert stat.S_IMODE(release.stat().st_mode) == 0o750
    for path in [release, *release.rglob("*")]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (65534, 65534), path
    assert releases.run(version="1.0.0", owner="nobody", group="nogroup", mode="0750")["changed"] is False
    changed = releases.run(version="1.0.0", owner="root", mode=0o755)
    assert changed["changed"] is True and changed["switched"] is False
    assert release.stat().st_uid == 0 and stat.S_IMODE(release.stat().st_mode) == 0o755
    unknown = releases.run(version="1.0.0", owner="no-such-user-here")
    assert (
        unknown["failed"] is True and unknown["msg"] == "owner 'no-such-user-here' does not exist on the host"
    )


@pytest.mark.parametrize("version", ["../1.0", ".hidden", "1.0/2", "-rc1", "1.0 beta", "", "v1;rm"])
def test_bad_versions_are_refused_naming_them(releases, version):
    result = releases.run(version=version, src=str(releases.artifact("1.0.0")), sha256=releases.sums["1.0.0"])
    assert result["failed"] is True
    assert result["msg"].startswith(f"version {version!r} is not a valid version"), result["msg"]
    assert not releases.base.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"version": "1.0.0", "sha256": "abc"}, "sha256 'abc' is not a sha256 checksum"),
        ({"version": "1.0.0", "mode": "rwx"}, "mode 'rwx' is not an octal mode like '0755'"),
        ({"version": "1.0.0", "keep": -1}, "keep must be 0 (keep all) or more, not -1"),
        ({"version": "1.0.0", "path": "srv/notes"}, "path must be absolute: srv/notes"),
        ({"version": "1.0.0", "state": "present", "src": None}, "state is present but all of the following"),
        ({"state": "rollback", "src": "/tmp/x.tar.gz"}, "src applies to state present and current"),
    ],
)
def test_bad_parameters_fail_naming_them(releases, args, message):
    result = releases.run(**args)
    assert result["failed"] is True
    assert message in result["msg"], result["msg"]


def test_a_current_that_is_not_a_symlink_is_left_alone(releases):
    (releases.base / "current").mkdir(parents=True)
    result = releases.run(version="1.0.0")
    assert result["failed"] is True
    assert result["msg"] == f"{releases.base / 'current'} exists and is not a symlink; move it away first"
    assert not (releases.base / "releases").exists()


def test_not_a_tarball_fails_cleanly(releases):
    junk = releases.artifacts / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    result = releases.run(version="1.0.0", src=str(junk), sha256=hashlib.sha256(b"not a tarball").hexdigest())
    assert result["failed"] is True
    assert result["msg"].startswith(f"src {junk} is not a tar archive that can be read")
    assert releases.on_disk() == []


def test_a_release_removed_by_hand_is_forgotten(releases):
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        releases.run(version=version)
    shutil.rmtree(releases.base / "releases" / "2.0.0")
    result = releases.run(state="rollback")
    assert result["current_version"] == "1.0.0"
    assert result["releases"] == ["3.0.0", "1.0.0"]  # oldest first by last use
