"""eightfold.devops.docker_daemon_config: merge, own checks, and validation by the machine's real dockerd."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from ansible_collections.eightfold.devops.plugins.modules import docker_daemon_config as ddc

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
needs_dockerd = pytest.mark.skipif(not os.access(DOCKERD, os.X_OK), reason="dockerd is not installed")


def test_extras_merge_over_structured_settings_key_by_key():
    merged = ddc.clean(
        ddc.merge(
            {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": 3}, "userns-remap": None},
            {"log-opts": {"max-file": 5, "compress": True}, "debug": True},
        )
    )
    assert merged == {
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "5", "compress": "true"},
        "debug": True,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"registry-mirrors": ["mirror.example.com"]},
            "registry-mirrors[0]: 'mirror.example.com' is not an http",
        ),
        (
            {"registry-mirrors": ["https://m.example.com/v2"]},
            "registry-mirrors[0]: 'https://m.example.com/v2' has a path",
        ),
        ({"registry-mirrors": ["https://bad host"]}, "malformed host"),
        (
            {"insecure-registries": ["http://r:5000"]},
            "insecure-registries[0]: 'http://r:5000' must be host[:port]",
        ),
        (
            {"insecure-registries": ["10.0.0.0/33"]},
            "insecure-registries[0]: '10.0.0.0/33' is not a valid CIDR",
        ),
        ({"default-address-pools": [{"base": "10.0.0.0/16", "size": 8}]}, "default-address-pools[0].size: 8"),
        ({"default-address-pools": [{"base": "10.0.0.0/33", "size": 24}]}, "default-address-pools[0].base"),
        ({"default-address-pools": [{"base": "10.0.0.0/16"}]}, "exactly base and size"),
        ({"log-opts": {"max-size": "huge"}}, "log-opts.max-size: 'huge' is not a size"),
        ({"log-opts": {"max-size": "1m", "max-file": "0"}}, "log-opts.max-file: '0'"),
        ({"log-opts": {"max-file": "3"}}, "log-opts.max-file needs log-opts.max-size"),
        ({"storage-driver": "overlay3"}, "storage-driver: 'overlay3' is not one of"),
        ({"userns-remap": "no-such-user-here"}, "userns-remap: the user 'no-such-user-here' does not exist"),
        ({"live-restore": "yes"}, "live-restore: 'yes' is not true or false"),
    ],
)
def test_settings_dockerd_would_take_now_and_fail_on_later_are_rejected_by_name(config, message):
    with pytest.raises(ddc.SettingError) as error:
        ddc.check_settings(ddc.clean(config))
    assert message in str(error.value)


def test_good_settings_pass():
    ddc.check_settings(
        ddc.clean(
            {
                "registry-mirrors": ["https://mirror.example.com", "http://10.0.0.5:5000/"],
                "insecure-registries": ["registry.local:5000", "10.99.0.0/16", "[2001:db8::1]:5000"],
                "default-address-pools": [{"base": "10.201.0.0/16", "size": 24}],
                "log-opts": {"max-size": "10m", "max-file": 3},
                "storage-driver": "vfs",
                "userns-remap": "default",
                "live-restore": True,
            }
        )
    )


def test_only_reloadable_keys_need_no_restart():
    before = {"log-driver": "json-file", "registry-mirrors": []}
    assert ddc.changed_keys(before, {"log-driver": "json-file", "registry-mirrors": ["https://m"]}) == [
        "registry-mirrors"
    ]
    changed = ddc.changed_keys(before, {"log-driver": "local"})
    assert changed == ["log-driver", "registry-mirrors"]
    assert set(changed) - ddc.RELOADABLE == {"log-driver"}


@pytest.fixture
def etc_docker():
    # dockerd 20.10 validates as an unprivileged user, who must be able to read the new file.
    path = Path(tempfile.mkdtemp(prefix="eightfold-daemon-json-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@needs_dockerd
def test_writes_validates_and_is_idempotent(run, etc_docker, tmp_path):
    dest = etc_docker / "daemon.json"
    task = {
        "eightfold.devops.docker_daemon_config": {
            "path": str(dest),
            "dockerd": DOCKERD,
            "config": {
                "log-driver": "json-file",
                "log-opts": {"max-size": "10m", "max-file": 3},
                "debug": None,
            },
            "extra": {"max-concurrent-downloads": 4},
        }
    }
    rc, result = run(tmp_path, task, check=True, diff=True)
    assert rc == 0 and result["changed"], result
    assert not dest.exists()
    assert '"max-concurrent-downloads": 4' in result["diff"]["after"]

    rc, result = run(tmp_path, task)
    assert rc == 0 and result["changed"], result
    assert result["validated_with"].startswith("dockerd")
    assert result["restart_required"]
    assert json.loads(dest.read_text()) == {
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "3"},
        "max-concurrent-downloads": 4,
    }

    rc, result = run(tmp_path, task)
    assert rc == 0 and not result["changed"] and result["changed_keys"] == [], result

    task["eightfold.devops.docker_daemon_config"]["extra"] = {"max-concurrent-downloads": 6}
    rc, result = run(tmp_path, task)
    assert result["changed_keys"] == ["max-concurrent-downloads"] and not result["restart_required"], result


@needs_dockerd
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"no-such-setting": True}, "don't match any configuration option: no-such-setting"),
        ({"max-concurrent-downloads": "many"}, "max-concurrent-downloads"),
        ({"registry-mirrors": ["ftp://mirror"]}, "registry-mirrors[0]: 'ftp://mirror' is not an http"),
    ],
)
def test_a_rejected_setting_leaves_the_file_as_it_was(run, etc_docker, tmp_path, extra, message):
    dest = etc_docker / "daemon.json"
    dest.write_text('{"debug": true}\n')
    _rc, result = run(
        tmp_path,
        {"eightfold.devops.docker_daemon_config": {"path": str(dest), "dockerd": DOCKERD, "extra": extra}},
    )
    assert result.get("failed"), result
    assert message in result["msg"]
    assert "left as they are" in result["msg"]
    assert dest.read_text() == '{"debug": true}\n'
    assert [p.name for p in etc_docker.iterdir()] == ["daemon.json"]
