# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container_runtime role's filters (docs in the .yml file of each): container_runtime_settings checks
the role's variables and renders daemon.json; containerd_overrides, containerd_config and
containerd_config_current make config.toml from the installed containerd's defaults and tell when it needs no
remaking; containerd_registry_hosts writes certs.d."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.toml_merge import toml_merge
from ansible_collections.eightfold.devops.plugins.modules.docker_daemon_config import (
    SettingError,
    check_settings,
    clean,
    merge,
    render,
)

MIRROR = re.compile(r"^https?://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?/?$")
REGISTRY = re.compile(
    r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?(/[0-9]{1,3})?$"
)
SIZE = re.compile(r"^([0-9]+)([kmgKMG]?)$")
USER = re.compile(r"^[a-z_][a-z0-9_-]*[$]?$")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SERVICE_KEY = re.compile(r"^[A-Z][A-Za-z0-9]*$")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")
SIZE_FACTOR = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
CONFIG_HEADER = (
    "# Managed by eightfold.devops.container_runtime: `containerd config default` of the installed version\n"
    "# plus the role's overrides. Local changes are overwritten.\n"
)
RECORD_HEADER = (
    "# eightfold.devops.container_runtime: what config.toml was made from. While the installed\n"
    "# containerd and the overrides are those below and config.toml has this hash, `containerd config\n"
    "# default` need not run again.\n"
)
REQUIRED = (
    "container_runtime_provider", "container_runtime_users", "container_runtime_registry_mirrors",
    "container_runtime_insecure_registries", "container_runtime_log_max_size",
    "container_runtime_log_max_files", "container_runtime_service_environment",
    "container_runtime_service_overrides", "container_runtime_upstream_repo",
    "container_runtime_upstream_repo_url", "container_runtime_upstream_repo_key",
    "container_runtime_docker_log_driver", "container_runtime_docker_live_restore",
    "container_runtime_docker_userns_remap", "container_runtime_docker_default_address_pools",
    "container_runtime_docker_storage_driver", "container_runtime_docker_daemon_extra",
    "container_runtime_containerd_settings", "container_runtime_podman_search_registries",
)  # fmt: skip


def strings(value):
    return [str(item) for item in value] if isinstance(value, list) else None


def daemon_config(s):
    """daemon.json's settings from the structured variables and the extras (which win, key by key)."""
    rotated = s["container_runtime_docker_log_driver"] in ("json-file", "local")
    structured = {
        "log-driver": s["container_runtime_docker_log_driver"],
        "live-restore": s["container_runtime_docker_live_restore"],
        "log-opts": {
            "max-size": str(s["container_runtime_log_max_size"]),
            "max-file": str(s["container_runtime_log_max_files"]),
        }
        if rotated
        else None,
        "registry-mirrors": list(s["container_runtime_registry_mirrors"]) or None,
        "insecure-registries": list(s["container_runtime_insecure_registries"]) or None,
        "default-address-pools": list(s["container_runtime_docker_default_address_pools"]) or None,
        "userns-remap": s["container_runtime_docker_userns_remap"] or None,
        "storage-driver": s["container_runtime_docker_storage_driver"] or None,
    }
    return clean(merge(structured, dict(s["container_runtime_docker_daemon_extra"])))


def log_bytes(size):
    match = SIZE.match(str(size))
    return int(match.group(1)) * SIZE_FACTOR[match.group(2).lower()] if match else None


def check_service(s, errors):
    environment = s["container_runtime_service_environment"]
    overrides = s["container_runtime_service_overrides"]
    if not isinstance(environment, Mapping) or not isinstance(overrides, Mapping):
        errors.append("container_runtime_service_environment and _overrides must be mappings.")
        return
    bad = [str(key) for key in environment if not ENV_KEY.match(str(key))]
    if bad:
        errors.append(f"container_runtime_service_environment: not variable names: {', '.join(bad)}.")
    bad = [str(key) for key in overrides if not SERVICE_KEY.match(str(key))]
    if bad:
        errors.append(
            f"container_runtime_service_overrides: {', '.join(bad)} is not a [Service] setting name "
            "(LimitNOFILE, TimeoutStartSec...)."
        )
    for name, values in (("environment", environment), ("overrides", overrides)):
        lines = [str(key) for key, value in values.items() if re.search(r"[\r\n]", str(value))]
        if lines:
            errors.append(
                f"container_runtime_service_{name}: the value of {', '.join(lines)} holds a line break."
            )
    quoted = [str(key) for key, value in environment.items() if re.search(r'["\\]', str(value))]
    if quoted:
        errors.append(
            f"container_runtime_service_environment: the value of {', '.join(quoted)} holds a quote or a "
            "backslash."
        )


def container_runtime_settings(settings):
    """Checks what meta/argument_specs.yml cannot, for every provider: mirror URLs, insecure registries, log
    limits, user names, the upstream repository, the service drop-in, podman's search registries, and
    daemon.json as dockerd would refuse it later (mirror URLs, address pools, log sizes, storage driver).
    Returns {"daemon_json": the text of daemon.json, "log_bytes": the log size in bytes}.
    Raises AnsibleFilterError naming every bad variable on one line."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("container_runtime_settings expects a mapping of the role's variables")
    missing = [name for name in REQUIRED if name not in settings]
    if missing:
        raise AnsibleFilterError(f"container_runtime_settings: missing {', '.join(missing)}")
    s = settings
    errors = []
    for name, pattern, what in (
        ("container_runtime_registry_mirrors", MIRROR,
         "an http:// or https:// URL of the form scheme://host[:port] (no path)"),
        ("container_runtime_insecure_registries", REGISTRY, "host[:port] or a CIDR"),
        ("container_runtime_users", USER, "a user name"),
        ("container_runtime_podman_search_registries", HOST_NAME, "a registry host[:port]"),
    ):  # fmt: skip
        values = strings(s[name])
        if values is None:
            errors.append(f"{name} must be a list.")
            continue
        bad = [value for value in values if not pattern.match(value)]
        if bad:
            errors.append(f"{name}: {', '.join(bad)} is not {what}.")
    size = log_bytes(s["container_runtime_log_max_size"])
    if size is None:
        errors.append(
            f"container_runtime_log_max_size: {s['container_runtime_log_max_size']} is not a size like 10m, "
            "512k or 1g."
        )
    files = s["container_runtime_log_max_files"]
    if isinstance(files, bool) or not re.match(r"^[0-9]+$", str(files)) or int(files) < 1:
        errors.append(f"container_runtime_log_max_files must be 1 or more (got {files}).")
    if s["container_runtime_upstream_repo"]:
        if not re.match(r"^https?://", str(s["container_runtime_upstream_repo_url"])):
            errors.append(
                "container_runtime_upstream_repo_url must be an http(s) URL when "
                "container_runtime_upstream_repo is on."
            )
        if "BEGIN PGP PUBLIC KEY BLOCK" not in str(s["container_runtime_upstream_repo_key"]):
            errors.append(
                "container_runtime_upstream_repo_key must hold the repository's ASCII-armoured signing key "
                "when container_runtime_upstream_repo is on."
            )
    check_service(s, errors)
    if not isinstance(s["container_runtime_containerd_settings"], Mapping):
        errors.append(
            "container_runtime_containerd_settings must be a mapping of config.toml tables and keys."
        )
    daemon_json = ""
    if isinstance(s["container_runtime_docker_daemon_extra"], Mapping):
        try:
            config = daemon_config(s)
            check_settings(config, users=False)
            daemon_json = render(config)
        except SettingError as exc:
            errors.append(
                f"daemon.json (container_runtime_docker_* and container_runtime_docker_daemon_extra): {exc}."
            )
        except (TypeError, ValueError) as exc:
            errors.append(f"daemon.json (container_runtime_docker_daemon_extra): {exc}.")
    else:
        errors.append("container_runtime_docker_daemon_extra must be a mapping of daemon.json settings.")
    if errors:
        raise AnsibleFilterError(" ".join(errors) + " Nothing was changed.")
    return {"daemon_json": daemon_json, "log_bytes": size}


def containerd_overrides(settings, cgroup_driver="auto", snapshotter="", systemd=True):
    """What the role sets in config.toml: the runc cgroup driver (systemd when the host runs systemd, for
    auto), certs.d for registry hosts, the CRI snapshotter (when given), then the user's settings
    (container_runtime_containerd_settings) merged over them."""
    systemd_cgroup = cgroup_driver == "systemd" or (cgroup_driver == "auto" and bool(systemd))
    cri = {
        "registry": {"config_path": "/etc/containerd/certs.d"},
        "containerd": {"runtimes": {"runc": {"options": {"SystemdCgroup": systemd_cgroup}}}},
    }
    if snapshotter:
        cri["containerd"]["snapshotter"] = snapshotter
    return combine({"plugins": {"io.containerd.grpc.v1.cri": cri}}, settings or {})


def combine(base, extra):
    """base with extra merged over it, tables key by key; a None stays (toml_merge then removes that key)."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = combine(result[key], value)
        else:
            result[key] = value
    return result


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(version, overrides, config_sha256):
    """The record beside config.toml: the containerd version and overrides it was made from, and its hash."""
    overrides_sha256 = digest(json.dumps(overrides, sort_keys=True, default=str))
    return f"{RECORD_HEADER}containerd {version}\noverrides {overrides_sha256}\nconfig.toml {config_sha256}\n"


def containerd_config(defaults, overrides, version):
    """config.toml (the header, then `containerd config default` of the installed version with the overrides
    merged in) and the record of what it was made from: {"config": text, "record": text}."""
    config = CONFIG_HEADER + toml_merge(defaults, overrides, what="container_runtime_containerd_settings")
    return {"config": config, "record": record(version, overrides, digest(config))}


def containerd_config_current(
    files, overrides, version, config="/etc/containerd/config.toml", record_path=None
):
    """Whether a host_state read of the files proves config.toml unchanged since the role made it from this
    containerd version and these overrides - then `containerd config default` need not run again."""
    record_path = record_path or config + ".eightfold"
    config_read, record_read = (files or {}).get(config) or {}, (files or {}).get(record_path) or {}
    if not (
        config_read.get("exists") and record_read.get("exists") and config_read.get("sha256") and version
    ):
        return False
    return record_read.get("sha256") == digest(record(version, overrides, config_read["sha256"]))


def containerd_registry_hosts(mirrors, insecure, base="/etc/containerd/certs.d"):
    """config_files entries for certs.d/<registry>/hosts.toml: Docker Hub's mirrors, and each insecure
    registry over HTTP and over HTTPS without verification (CIDRs apply to docker only)."""
    hosts = {}
    if mirrors:
        hosts["docker.io"] = 'server = "https://registry-1.docker.io"\n' + "".join(
            f'\n[host."{mirror.rstrip("/")}"]\n  capabilities = ["pull", "resolve"]\n'
            for mirror in map(str, mirrors)
        )
    for registry in map(str, insecure or []):
        if re.search(r"/[0-9]+$", registry):
            continue
        hosts[registry] = (
            f'server = "https://{registry}"\n\n'
            f'[host."http://{registry}"]\n  capabilities = ["pull", "resolve", "push"]\n\n'
            f'[host."https://{registry}"]\n  capabilities = ["pull", "resolve", "push"]\n'
            "  skip_verify = true\n"
        )
    entries = []
    for name, content in hosts.items():
        entries.append({"dest": f"{base}/{name}", "state": "directory"})
        entries.append(
            {
                "dest": f"{base}/{name}/hosts.toml",
                "content": "# Managed by eightfold.devops.container_runtime\n" + content,
            }
        )
    return entries


class FilterModule:
    def filters(self):
        return {
            "container_runtime_settings": container_runtime_settings,
            "containerd_overrides": containerd_overrides,
            "containerd_config": containerd_config,
            "containerd_config_current": containerd_config_current,
            "containerd_registry_hosts": containerd_registry_hosts,
        }
