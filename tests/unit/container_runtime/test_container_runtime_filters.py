"""The container_runtime role's filters: the preflight with daemon.json, containerd's config.toml and the
record that lets an unchanged host skip `containerd config default`, and the certs.d registry hosts."""

import hashlib
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.container_runtime import (
    FilterModule,
    container_runtime_settings,
    containerd_config,
    containerd_config_current,
    containerd_overrides,
    containerd_registry_hosts,
)

DEFAULTS = {
    "container_runtime_provider": "docker",
    "container_runtime_users": [],
    "container_runtime_registry_mirrors": [],
    "container_runtime_insecure_registries": [],
    "container_runtime_log_max_size": "10m",
    "container_runtime_log_max_files": 3,
    "container_runtime_service_environment": {},
    "container_runtime_service_overrides": {},
    "container_runtime_upstream_repo": False,
    "container_runtime_upstream_repo_url": "",
    "container_runtime_upstream_repo_key": "",
    "container_runtime_docker_log_driver": "json-file",
    "container_runtime_docker_live_restore": True,
    "container_runtime_docker_userns_remap": "",
    "container_runtime_docker_default_address_pools": [],
    "container_runtime_docker_storage_driver": "",
    "container_runtime_docker_daemon_extra": {},
    "container_runtime_containerd_settings": {},
    "container_runtime_podman_search_registries": ["docker.io"],
}
DEFAULTS_TOML = """version = 2
root = "/var/lib/containerd"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
"""


def settings(**changes):
    return dict(DEFAULTS, **{f"container_runtime_{key}": value for key, value in changes.items()})


def error_of(value):
    with pytest.raises(AnsibleFilterError) as caught:
        container_runtime_settings(value)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("Nothing was changed.")
    return message


def test_registered_under_their_names():
    assert set(FilterModule().filters()) == {
        "container_runtime_settings",
        "containerd_overrides",
        "containerd_config",
        "containerd_config_current",
        "containerd_registry_hosts",
    }


def test_defaults_give_daemon_json_and_the_log_size_in_bytes():
    result = container_runtime_settings(DEFAULTS)
    assert json.loads(result["daemon_json"]) == {
        "live-restore": True,
        "log-driver": "json-file",
        "log-opts": {"max-file": "3", "max-size": "10m"},
    }
    assert result["daemon_json"].endswith("}\n")
    assert result["log_bytes"] == 10 * 1024 * 1024


def test_daemon_json_takes_the_structured_settings_and_the_extras_over_them():
    result = container_runtime_settings(
        settings(
            registry_mirrors=["https://mirror.example.com"],
            insecure_registries=["registry.example.com:5000", "10.99.0.0/16"],
            docker_default_address_pools=[{"base": "10.201.0.0/16", "size": 24}],
            docker_storage_driver="vfs",
            docker_userns_remap="nosuchuser",  # the host tells whether the user exists, not the controller
            docker_daemon_extra={"log-opts": {"max-file": 5}, "max-concurrent-downloads": 4},
        )
    )
    config = json.loads(result["daemon_json"])
    assert config["log-opts"] == {"max-size": "10m", "max-file": "5"}
    assert config["registry-mirrors"] == ["https://mirror.example.com"]
    assert config["storage-driver"] == "vfs" and config["userns-remap"] == "nosuchuser"
    assert config["max-concurrent-downloads"] == 4


def test_numbers_given_as_strings_count_as_numbers():
    config = json.loads(container_runtime_settings(settings(log_max_files="5"))["daemon_json"])
    assert config["log-opts"]["max-file"] == "5"


def test_no_rotation_options_for_a_driver_without_files():
    config = json.loads(container_runtime_settings(settings(docker_log_driver="journald"))["daemon_json"])
    assert "log-opts" not in config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"registry_mirrors": ["mirror.example.com"]},
            "container_runtime_registry_mirrors: mirror.example.com is",
        ),
        (
            {"insecure_registries": ["http://r:5000"]},
            "container_runtime_insecure_registries: http://r:5000 is not",
        ),
        ({"users": ["Carol"]}, "container_runtime_users: Carol is not a user name."),
        ({"log_max_size": "huge"}, "container_runtime_log_max_size: huge is not a size like 10m"),
        ({"log_max_files": 0}, "container_runtime_log_max_files must be 1 or more (got 0)."),
        ({"upstream_repo": True}, "container_runtime_upstream_repo_url must be an http(s) URL"),
        (
            {"service_environment": {"1A": "x"}},
            "container_runtime_service_environment: not variable names: 1A.",
        ),
        ({"service_environment": {"A": 'x"y'}}, "the value of A holds a quote or a backslash."),
        (
            {"service_overrides": {"limit_nofile": 1}},
            "container_runtime_service_overrides: limit_nofile is not",
        ),
        ({"service_overrides": {"ExecStart": "a\nb"}}, "the value of ExecStart holds a line break."),
        ({"podman_search_registries": ["a b"]}, "container_runtime_podman_search_registries: a b is not"),
        (
            {"docker_daemon_extra": {"log-opts": {"max-size": "huge"}}},
            "log-opts.max-size: 'huge' is not a size",
        ),
        ({"docker_default_address_pools": [{"base": "10.0.0.0/8"}]}, "default-address-pools[0]: {'base'"),
        ({"docker_storage_driver": "ntfs"}, "storage-driver: 'ntfs' is not one of"),
        ({"containerd_settings": []}, "container_runtime_containerd_settings must be a mapping"),
    ],
)
def test_each_bad_setting_is_named(changes, message):
    assert message in error_of(settings(**changes))


def test_overrides_put_the_user_settings_over_the_role_and_keep_a_null():
    overrides = containerd_overrides({"plugins": {"io.containerd.grpc.v1.cri": {"sandbox_image": None}}})
    cri = overrides["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert "sandbox_image" in cri and cri["sandbox_image"] is None
    assert "snapshotter" not in cri["containerd"]


@pytest.mark.parametrize(
    ("driver", "systemd", "expected"),
    [("auto", True, True), ("auto", False, False), ("systemd", False, True), ("cgroupfs", True, False)],
)
def test_the_cgroup_driver(driver, systemd, expected):
    overrides = containerd_overrides({}, driver, "native", systemd)
    cri = overrides["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is expected
    assert cri["containerd"]["snapshotter"] == "native"


def made_and_read(overrides, version="1.6.20~ds1-1"):
    made = containerd_config(DEFAULTS_TOML, overrides, version)
    files = {
        "/etc/containerd/config.toml": {
            "exists": True,
            "sha256": hashlib.sha256(made["config"].encode()).hexdigest(),
        },
        "/etc/containerd/config.toml.eightfold": {
            "exists": True,
            "sha256": hashlib.sha256(made["record"].encode()).hexdigest(),
        },
    }
    return made, files


def test_config_toml_is_the_defaults_with_the_overrides_merged_in():
    overrides = containerd_overrides({"plugins": {"io.containerd.grpc.v1.cri": {"sandbox_image": None}}})
    made, _files = made_and_read(overrides)
    assert made["config"].startswith("# Managed by eightfold.devops.container_runtime")
    assert "SystemdCgroup = true" in made["config"]
    assert 'runtime_type = "io.containerd.runc.v2"' in made["config"]
    assert 'config_path = "/etc/containerd/certs.d"' in made["config"]
    assert "sandbox_image" not in made["config"]
    assert "containerd 1.6.20~ds1-1\n" in made["record"]


def test_the_record_proves_config_toml_current_for_the_same_version_and_overrides():
    overrides = containerd_overrides({})
    _made, files = made_and_read(overrides)
    assert containerd_config_current(files, overrides, "1.6.20~ds1-1")


@pytest.mark.parametrize(
    "what", ["version", "overrides", "local change", "no record", "no config", "no version"]
)
def test_anything_else_needs_the_defaults_again(what):
    overrides = containerd_overrides({})
    _made, files = made_and_read(overrides)
    version = "1.6.20~ds1-1"
    if what == "version":
        version = "1.7.24~ds1-1"
    elif what == "overrides":
        overrides = containerd_overrides({}, snapshotter="native")
    elif what == "local change":
        files["/etc/containerd/config.toml"]["sha256"] = "0" * 64
    elif what == "no record":
        files["/etc/containerd/config.toml.eightfold"] = {"exists": False}
    elif what == "no config":
        del files["/etc/containerd/config.toml"]
    else:
        version = ""
    assert not containerd_config_current(files, overrides, version)


def test_registry_hosts_for_mirrors_and_insecure_registries_but_not_cidrs():
    entries = containerd_registry_hosts(
        ["https://mirror.example.com/"], ["registry.example.com:5000", "10.0.0.0/8"]
    )
    assert [entry["dest"] for entry in entries] == [
        "/etc/containerd/certs.d/docker.io",
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/registry.example.com:5000",
        "/etc/containerd/certs.d/registry.example.com:5000/hosts.toml",
    ]
    assert entries[1]["content"] == (
        "# Managed by eightfold.devops.container_runtime\n"
        'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example.com"]\n'
        '  capabilities = ["pull", "resolve"]\n'
    )
    assert "skip_verify = true" in entries[3]["content"]
    assert containerd_registry_hosts([], []) == []
