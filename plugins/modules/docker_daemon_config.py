#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_daemon_config
short_description: Merge, check, validate with dockerd and install Docker's daemon.json in one call
version_added: 0.1.0
description:
  - Merges structured settings (O(config)) with free-form extras (O(extra), which win, merged key by key),
    checks the settings whose values C(dockerd --validate) does not look at (registry mirror URLs, insecure
    registries, address pools, log rotation options, storage driver, userns-remap user), has the installed
    C(dockerd) load the new file together with the flags of the running service's command line, and only
    then replaces the file. A rejected setting fails the call naming it, and the file on disk - and so the
    running daemon - stays as it was.
  - "Docker 23 and later: C(dockerd <unit flags> --validate --config-file <new file>). Older Docker
    (Debian 12's 20.10) has no C(--validate): the new file is loaded by C(dockerd) run as an unprivileged
    user, which parses and checks the file (unknown keys, wrong types, keys that clash with a command-line
    flag) and then stops at its root-privileges check; that stop means the file was accepted."
  - Returns which top-level keys changed and whether a reload (SIGHUP) is enough to apply them, so that
    a playbook can restart the daemon only when it must. (The role container_runtime runs the same checks
    on the controller with the filter M(eightfold.devops.container_runtime_settings).)
author:
  - eightfold.devops maintainers (@eightfold)
options:
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  config:
    description:
      - Settings by their daemon.json names (C(log-driver), C(registry-mirrors)...). Keys whose value is
        V(null) or an empty string are left out, so a role can pass every structured variable.
    type: dict
    default: {}
  extra:
    description:
      - Free-form daemon.json settings merged over O(config); nested mappings are merged key by key, any
        other value replaces the one from O(config).
    type: dict
    default: {}
  validate:
    description: Have C(dockerd) load the new file before it is installed. Only done when the content changes.
    type: bool
    default: true
  dockerd:
    description: The dockerd program.
    type: path
    default: /usr/sbin/dockerd
  service:
    description:
      - The systemd unit whose C(ExecStart) flags (for example C(-H fd://)) are passed to C(dockerd) during
        validation, so that a setting that clashes with a flag is rejected. Ignored when the unit is missing.
    type: str
    default: docker.service
  unprivileged_user:
    description: User that runs C(dockerd) for the validation of Docker versions without C(--validate).
    type: str
    default: nobody
attributes:
  check_mode:
    support: full
    description: Reports the change and the diff; dockerd is not run.
  diff_mode:
    support: full
    description: Shows the old and the new file.
  platform:
    support: full
    platforms: posix
    description: Debian hosts with Docker 20.10 (Debian 12), 26 (Debian 13) or an upstream release.
notes:
  - The file is written as JSON with sorted keys and two-space indentation; a hand-edited file in another
    layout counts as a change once.
  - Values of C(log-opts) must be strings for dockerd; numbers and booleans are turned into strings.
seealso:
  - module: eightfold.devops.config_files
"""

EXAMPLES = r"""
- name: Write daemon.json, validated by dockerd
  eightfold.devops.docker_daemon_config:
    config:
      log-driver: json-file
      log-opts: {max-size: 10m, max-file: 3}
      registry-mirrors: [https://mirror.example.com]
      live-restore: true
      storage-driver: vfs
    extra:
      features: {buildkit: true}
  register: daemon_json

- name: Restart Docker when a setting needs it
  ansible.builtin.systemd_service:
    name: docker.service
    state: "{{ 'restarted' if daemon_json.restart_required else 'reloaded' }}"
  when: daemon_json.changed
"""

RETURN = r"""
config:
  description: The merged settings as written.
  returned: always
  type: dict
  sample: {log-driver: json-file, log-opts: {max-size: 10m, max-file: "3"}}
changed_keys:
  description: Top-level keys added, removed or changed.
  returned: always
  type: list
  elements: str
  sample: [registry-mirrors]
restart_required:
  description: Whether a changed key needs a restart (false when only keys that dockerd reloads on SIGHUP
    changed, or nothing changed).
  returned: always
  type: bool
validated_with:
  description: How the new file was checked (C(dockerd --validate), C(dockerd as nobody), or nothing).
  returned: always
  type: str
  sample: dockerd --validate
diff:
  description: In diff mode, the old and new file.
  returned: when diff mode is on and the file changes
  type: dict
"""

import ipaddress
import json
import os
import pwd
import re
import shlex
import tempfile
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

# Keys dockerd applies on SIGHUP (https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior).
RELOADABLE = frozenset(
    {
        "debug",
        "labels",
        "live-restore",
        "max-concurrent-downloads",
        "max-concurrent-uploads",
        "max-download-attempts",
        "default-runtime",
        "runtimes",
        "authorization-plugins",
        "insecure-registries",
        "registry-mirrors",
        "shutdown-timeout",
        "features",
    }
)
STORAGE_DRIVERS = ("overlay2", "fuse-overlayfs", "btrfs", "zfs", "vfs", "devicemapper", "aufs", "overlay")
SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?\s*([kKmMgGtT]([iI]?[bB])?|[bB])?$")
HOST_PORT_RE = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")
VERSION_RE = re.compile(r"version\s+v?([0-9]+)\.([0-9]+)")


class SettingError(Exception):
    pass


def merge(base, extra):
    """base with extra merged over it: mappings key by key, anything else replaced."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def clean(config):
    """Drop unset structured values; log-opts values as strings, as dockerd wants them."""
    result = {key: value for key, value in config.items() if value is not None and value != ""}
    if isinstance(result.get("log-opts"), dict):
        result["log-opts"] = {
            key: (str(value).lower() if isinstance(value, bool) else str(value))
            for key, value in result["log-opts"].items()
        }
    return result


def check_url(what, value):
    if not isinstance(value, str):
        raise SettingError(f"{what}: {value!r} is not a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingError(f"{what}: {value!r} is not an http:// or https:// URL of a registry mirror")
    if parts.path not in ("", "/"):
        raise SettingError(f"{what}: {value!r} has a path; a registry mirror URL is scheme://host[:port]")
    if not HOST_PORT_RE.match(parts.netloc):
        raise SettingError(f"{what}: {value!r} has a malformed host or port")
    if parts.port is not None and not 0 < parts.port < 65536:
        raise SettingError(f"{what}: {value!r} has a port out of range")


def check_settings(config, users=True):
    """SettingError naming the first setting dockerd would accept now and fail on at start or pull time.
    users=False leaves out what only the host can tell (whether the userns-remap user exists)."""
    mirrors = config.get("registry-mirrors", [])
    if not isinstance(mirrors, list):
        raise SettingError("registry-mirrors must be a list of URLs")
    for index, mirror in enumerate(mirrors):
        check_url(f"registry-mirrors[{index}]", mirror)
    insecure = config.get("insecure-registries", [])
    if not isinstance(insecure, list):
        raise SettingError("insecure-registries must be a list")
    for index, registry in enumerate(insecure):
        what = f"insecure-registries[{index}]"
        if not isinstance(registry, str):
            raise SettingError(f"{what}: {registry!r} is not a string")
        if "://" in registry:
            raise SettingError(f"{what}: {registry!r} must be host[:port] or a CIDR, without a scheme")
        if "/" in registry:
            try:
                ipaddress.ip_network(registry, strict=False)
            except ValueError:
                raise SettingError(f"{what}: {registry!r} is not a valid CIDR") from None
        elif not HOST_PORT_RE.match(registry):
            raise SettingError(f"{what}: {registry!r} is not host[:port]")
    pools = config.get("default-address-pools", [])
    if not isinstance(pools, list):
        raise SettingError("default-address-pools must be a list of {base, size}")
    for index, pool in enumerate(pools):
        what = f"default-address-pools[{index}]"
        if not isinstance(pool, dict) or set(pool) != {"base", "size"}:
            raise SettingError(f"{what}: {pool!r} must be a mapping with exactly base and size")
        try:
            network = ipaddress.ip_network(str(pool["base"]))
        except ValueError as exc:
            raise SettingError(f"{what}.base: {pool['base']!r} is not a valid network ({exc})") from None
        size = pool["size"]
        if isinstance(size, bool) or not isinstance(size, int):
            raise SettingError(f"{what}.size: {size!r} is not a prefix length")
        if not network.prefixlen <= size <= network.max_prefixlen:
            raise SettingError(
                f"{what}.size: {size} must be between the prefix length of {network} "
                f"and {network.max_prefixlen}"
            )
    log_opts = config.get("log-opts", {})
    if not isinstance(log_opts, dict):
        raise SettingError("log-opts must be a mapping")
    if "max-size" in log_opts and not SIZE_RE.match(log_opts["max-size"]):
        raise SettingError(f"log-opts.max-size: {log_opts['max-size']!r} is not a size like 10m")
    if "max-file" in log_opts and not (log_opts["max-file"].isdigit() and int(log_opts["max-file"]) >= 1):
        raise SettingError(
            f"log-opts.max-file: {log_opts['max-file']!r} is not a number of files (1 or more)"
        )
    if "max-file" in log_opts and "max-size" not in log_opts:
        raise SettingError(
            "log-opts.max-file needs log-opts.max-size (dockerd rejects it at container start)"
        )
    driver = config.get("storage-driver")
    if driver is not None and driver not in STORAGE_DRIVERS:
        raise SettingError(f"storage-driver: {driver!r} is not one of {', '.join(STORAGE_DRIVERS)}")
    remap = config.get("userns-remap")
    if users and remap is not None and remap != "default":
        user = str(remap).split(":", 1)[0]
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise SettingError(f"userns-remap: the user {user!r} does not exist on this host") from None
    if "live-restore" in config and not isinstance(config["live-restore"], bool):
        raise SettingError(f"live-restore: {config['live-restore']!r} is not true or false")


def render(config):
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def changed_keys(before, after):
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


def unit_flags(module, service):
    """The arguments after the program in the unit's ExecStart, without unexpanded $VARIABLES."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl or not service:
        return []
    rc, out, _err = module.run_command([systemctl, "show", "--property=ExecStart", "--", service])
    match = re.search(r"argv\[\]=(.*?) ;", out)
    if rc != 0 or not match:
        return []
    try:
        argv = shlex.split(match.group(1))
    except ValueError:
        return []
    return [arg for arg in argv[1:] if not arg.startswith("$")]


def last_lines(*texts):
    lines = [line.strip() for text in texts for line in (text or "").splitlines() if line.strip()]
    return " ".join(lines[-3:])


def validate(module, path):
    """How the file was validated; fails the module naming dockerd's complaint."""
    dockerd = module.params["dockerd"]
    if not os.access(dockerd, os.X_OK):
        module.fail_json(
            msg=f"validate: {dockerd} is not installed; install Docker first or set validate: false"
        )
    flags = unit_flags(module, module.params["service"])
    _rc, out, err = module.run_command([dockerd, "--version"])
    version = VERSION_RE.search(out + err)
    if version and int(version.group(1)) >= 23:
        rc, out, err = module.run_command([dockerd, *flags, "--validate", "--config-file", path])
        if rc != 0:
            return False, "dockerd --validate", last_lines(out, err)
        return True, "dockerd --validate", ""
    user = module.params["unprivileged_user"]
    setpriv = module.get_bin_path("setpriv", required=True)
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        module.fail_json(msg=f"unprivileged_user: {user!r} does not exist on this host")
    rc, out, err = module.run_command(
        [
            setpriv,
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
            *("timeout", "20", dockerd, *flags, "--config-file", path),
        ]
    )
    how = f"dockerd as {user}"
    if "needs to be started with root" in out + err:
        return True, how, ""
    return False, how, last_lines(out, err)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            config=dict(type="dict", default={}),
            extra=dict(type="dict", default={}),
            validate=dict(type="bool", default=True),
            dockerd=dict(type="path", default="/usr/sbin/dockerd"),
            service=dict(type="str", default="docker.service"),
            unprivileged_user=dict(type="str", default="nobody"),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    config = clean(merge(module.params["config"], module.params["extra"]))
    try:
        check_settings(config)
    except SettingError as exc:
        module.fail_json(
            msg=f"daemon.json setting rejected; {path} and the daemon were left as they are: {exc}"
        )
    content = render(config)
    before_text, before = None, {}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                before_text = handle.read()
            before = json.loads(before_text) if before_text.strip() else {}
        except (OSError, ValueError):
            before = {}
    changed = content != before_text
    keys = changed_keys(before, config) if changed else []
    result = dict(
        changed=changed,
        config=config,
        changed_keys=keys,
        restart_required=bool(set(keys) - RELOADABLE),
        validated_with="",
    )
    if changed and module._diff:
        result["diff"] = dict(before_header=path, after_header=path, before=before_text or "", after=content)
    if not changed or module.check_mode:
        module.exit_json(**result)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg=f"path: the directory {directory} does not exist")
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".daemon.", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        if module.params["validate"]:
            ok, how, message = validate(module, tmp)
            result["validated_with"] = how
            if not ok:
                module.fail_json(
                    msg=f"daemon.json setting rejected by {how}; {path} and the daemon were left as they "
                    f"are: {message.replace(tmp, path)}",
                    **{k: v for k, v in result.items() if k != "changed"},
                )
        module.atomic_move(tmp, path)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {path}: {to_native(exc)}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
