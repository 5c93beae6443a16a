"""eightfold.devops.toml_merge: containerd's defaults plus overrides, written back as TOML."""

import tomllib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.toml_merge import toml_merge

# The shape of `containerd config default` (1.6/1.7): quoted dotted keys, empty tables, arrays, numbers.
DEFAULT = """
disabled_plugins = []
version = 2

[grpc]
  address = "/run/containerd/containerd.sock"
  max_recv_message_size = 16777216

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = ""

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""

      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]

  [plugins."io.containerd.gc.v1.scheduler"]
    deletion_threshold = 0
    pause_threshold = 0.02
"""

CRI = "io.containerd.grpc.v1.cri"


def test_output_parses_to_the_same_document_without_overrides():
    assert tomllib.loads(toml_merge(DEFAULT)) == tomllib.loads(DEFAULT)


def test_overrides_merge_into_nested_tables_and_keep_the_rest():
    overrides = {
        "plugins": {
            CRI: {
                "containerd": {"runtimes": {"runc": {"options": {"SystemdCgroup": True}}}},
                "registry": {"config_path": "/etc/containerd/certs.d"},
            }
        }
    }
    result = tomllib.loads(toml_merge(DEFAULT, overrides))
    cri = result["plugins"][CRI]
    assert cri["containerd"]["runtimes"]["runc"]["options"] == {"SystemdCgroup": True, "BinaryName": ""}
    assert cri["registry"] == {"config_path": "/etc/containerd/certs.d", "mirrors": {}}
    assert cri["sandbox_image"] == "registry.k8s.io/pause:3.6"
    assert cri["containerd"]["snapshotter"] == "overlayfs"
    assert result["plugins"]["io.containerd.gc.v1.scheduler"]["pause_threshold"] == 0.02
    assert result["version"] == 2


def test_empty_tables_are_kept_and_keys_with_dots_are_quoted():
    text = toml_merge(DEFAULT)
    assert '[plugins."io.containerd.grpc.v1.cri".registry.mirrors]' in text
    assert text.startswith("disabled_plugins = []\nversion = 2\n")


def test_null_removes_a_key_and_arrays_of_tables_round_trip():
    text = toml_merge(DEFAULT, {"grpc": {"max_recv_message_size": None}, "proxy": [{"a": 1}, {"a": 2}]})
    result = tomllib.loads(text)
    assert "max_recv_message_size" not in result["grpc"]
    assert result["proxy"] == [{"a": 1}, {"a": 2}]
    assert "[[proxy]]" in text


def test_strings_are_escaped():
    result = tomllib.loads(toml_merge("", {"a": {'key "quoted"': 'value with "quotes" and \\ and \n'}}))
    assert result == {"a": {'key "quoted"': 'value with "quotes" and \\ and \n'}}


def test_bad_input_names_what_is_wrong():
    with pytest.raises(AnsibleFilterError, match="not valid TOML"):
        toml_merge("x = [")
    with pytest.raises(AnsibleFilterError, match="container_runtime_containerd_settings must be a mapping"):
        toml_merge(DEFAULT, ["nope"], what="container_runtime_containerd_settings")
    with pytest.raises(AnsibleFilterError, match=r"a\.b: .* cannot be written as TOML"):
        toml_merge("", {"a": {"b": object()}})
