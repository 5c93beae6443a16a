# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for eightfold.devops.converge: the read - decide - write - restart protocol of every role, in one
task. Each step calls a module only when the host's state says there is something to do."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    command_record,
    plan_unit,
    stale_command,
)
from ansible_collections.eightfold.devops.plugins.plugin_utils._files import (
    FilesError,
    entries_as_read,
    read_paths,
    render_entries,
    shown_entries,
)

APT_DEFAULTS = dict(update_cache=True, cache_valid_time=3600, install_recommends=False)
APT_OPTIONS = (
    "update_cache",
    "cache_valid_time",
    "install_recommends",
    "dpkg_options",
    "policy_rc_d",
    "force_apt_get",
)
DPKG_CONFIGURE = dict(
    argv=[
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "dpkg",
        "--configure",
        "-a",
        "--force-confdef",
        "--force-confold",
    ]
)
UNIT_FILE_DIRS = ("/etc/systemd/", "/run/systemd/", "/lib/systemd/", "/usr/lib/systemd/")
UNIT_OPTIONS = ("name", "enabled", "state", "watch", "on_change", "reload_command", "in_container")


class ConvergeError(Exception):
    pass


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        try:
            return self._converge(result, task_vars)
        except ConvergeError as exc:
            return dict(result, failed=True, msg=str(exc))

    def _call(self, result, name, args, task_vars):
        """One module call; its failure ends the task with the module's message and what was done before."""
        outcome = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        result["module_calls"].append(name.rsplit(".", 1)[-1])
        if outcome.get("failed"):
            raise ConvergeError(self._failure(result, name, outcome))
        return outcome

    @staticmethod
    def _failure(result, name, outcome):
        done = []
        if result["installed"]:
            done.append(f"installed {', '.join(result['installed'])}")
        if result["changed_files"]:
            done.append(f"wrote {', '.join(result['changed_files'])}")
        msg = str(outcome.get("msg") or f"{name} failed")
        return msg + (f" (already done by this task: {'; '.join(done)})" if done else "")

    def _converge(self, result, task_vars):
        args = dict(self._task.args)
        unknown = sorted(set(args) - {"read", "packages", "apt", "files", "units", "commands", "backup"})
        if unknown:
            raise ConvergeError(f"unknown options: {', '.join(unknown)}")
        packages = checked_list(args.get("packages") or [], "packages")
        apt = args.get("apt") or {}
        if not isinstance(apt, dict) or set(apt) - set(APT_OPTIONS):
            raise ConvergeError(f"apt takes a dictionary of {', '.join(APT_OPTIONS)}")
        try:
            files = render_entries(self, args.get("files") or [], task_vars)
        except FilesError as exc:
            raise ConvergeError(str(exc)) from None
        units = checked_units(args.get("units") or [])
        commands = checked_commands(args.get("commands") or [])
        read = args.get("read")
        if read is not None and not isinstance(read, dict):
            raise ConvergeError(
                f"read must be an eightfold.devops.host_state result, not {type(read).__name__}"
            )

        result.update(
            changed=False, installed=[], changed_files=[], files=[], units={}, actions=[], deferred=[]
        )
        result.update(module_calls=[], diff=[])
        wanted = dict(
            packages=packages,
            units=[unit["name"] for unit in units],
            files=read_paths(files),
            file_attributes=sorted(
                set(read_paths(files, content=False))
                | {path for unit in units for path in unit.get("watch") or []}
                | {path for command in commands for path in command["watch"]}
            ),
        )
        if not covers(read, wanted):
            read = self._call(result, "eightfold.devops.host_state", read_args(read, wanted), task_vars)

        # Packages: one apt transaction for the missing ones. What they bring (files, units) is read again.
        # A dpkg run cut off by a killed run is finished first: apt refuses to work until it is.
        missing = [name for name in packages if name not in (read.get("packages") or {})]
        if packages and read.get("dpkg_interrupted"):
            self._call(result, "ansible.builtin.command", DPKG_CONFIGURE, task_vars)
            result.update(changed=True, dpkg_configured=True)
            if not missing and not self._task.check_mode:
                read = self._call(result, "eightfold.devops.host_state", read_args(read, wanted), task_vars)
        if missing:
            outcome = self._call(
                result,
                "ansible.builtin.apt",
                dict(APT_DEFAULTS, **apt, name=missing, state="present"),
                task_vars,
            )
            if outcome.get("changed"):
                result.update(changed=True, installed=missing)
                if not self._task.check_mode:
                    read = self._call(
                        result, "eightfold.devops.host_state", read_args(read, wanted), task_vars
                    )

        # Files: written (each checked by its validator first) unless the read proves them as wanted.
        if files:
            # After a real install the read is fresh; in check mode nothing was installed: it proves nothing.
            stale_read = bool(result["installed"]) and self._task.check_mode
            checked = None if stale_read else entries_as_read(files, read.get("files") or {})
            if checked is not None:
                result["files"] = [dict(dest=e["dest"], state=e["state"], changed=False) for e in checked]
            else:
                file_args = dict(files=files, backup=bool(args.get("backup")))
                outcome = self._call(result, "eightfold.devops.config_files", file_args, task_vars)
                result["files"] = outcome.get("files", [])
                result["changed_files"] = outcome.get("changed_files", [])
                result["diff"].extend(outcome.get("diff") or [])
                result["changed"] |= bool(outcome.get("changed"))

        # Units: started, enabled, and restarted or reloaded when a file they watch is newer than their start.
        # Commands: run when a file they apply is newer than their last run.
        if units or commands:
            states = read.get("units") or {}
            mtimes = {path: state.get("mtime") for path, state in (read.get("files") or {}).items()}
            mtimes.update({command_record(name): ran for name, ran in (read.get("applied") or {}).items()})
            changed_files = result["changed_files"]
            unit_files_changed = any(path.startswith(UNIT_FILE_DIRS) for path in changed_files)
            todo = (
                (bool(result["installed"]) and self._task.check_mode)
                or unit_files_changed
                or any(stale_command(command, changed_files, mtimes.get) for command in commands)
                or any(
                    unit["name"] not in states
                    or states[unit["name"]].get("need_daemon_reload")
                    or (states[unit["name"]].get("loaded") == "not-found" and unit.get("state") == "started")
                    or plan_unit(
                        unit, states[unit["name"]], read.get("container"), changed_files, mtimes.get
                    )[0]
                    for unit in units
                )
            )
            if todo:
                outcome = self._call(
                    result,
                    "eightfold.devops.units",
                    dict(units=units, commands=commands, changed_files=changed_files),
                    task_vars,
                )
                result.update(
                    units=outcome["units"], actions=outcome["actions"], deferred=outcome["deferred"]
                )
                result["commands"] = outcome.get("commands", {})
                result["diff"].extend(outcome.get("diff") or [])
                result["changed"] |= bool(outcome.get("changed"))
            else:
                result["units"] = {unit["name"]: dict(states[unit["name"]], actions=[]) for unit in units}
                result["deferred"] = [
                    unit["name"]
                    for unit in units
                    if read.get("container")
                    and unit.get("in_container", "run") == "defer"
                    and states[unit["name"]].get("loaded") != "not-found"
                ]

        if not self._task.diff:
            result["diff"] = []
        result["read"] = without_secret_hashes(read, files)
        # The rendered contents and the read are large, and secret entries must not show: the task's own
        # arguments, secrets masked, the read summarised.
        shown = dict(self._task.args, files=shown_entries(self._task.args.get("files") or []))
        if "read" in shown:
            shown["read"] = "(an eightfold.devops.host_state read)"
        result["invocation"] = dict(module_args=shown)
        return result


def without_secret_hashes(read, files):
    """The read as the result shows it: without the SHA-256 of the files of secret entries (the hash of a
    short password gives it away). The role's own host_state task, which has them, is marked no_log."""
    secret = {entry.get("dest") for entry in files if entry.get("secret")}
    states = read.get("files") if isinstance(read, dict) else None
    if not secret or not isinstance(states, dict) or not secret & set(states):
        return read
    shown = {
        path: {key: value for key, value in state.items() if key != "sha256"}
        if path in secret and isinstance(state, dict)
        else state
        for path, state in states.items()
    }
    return dict(read, files=shown)


def checked_list(value, name):
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConvergeError(f"{name} must be a list of names")
    return value


def checked_units(units):
    if not isinstance(units, list):
        raise ConvergeError(
            "units must be a list of units (name, enabled, state, watch, on_change, in_container)"
        )
    checked = []
    for index, unit in enumerate(units):
        if not isinstance(unit, dict) or not isinstance(unit.get("name"), str):
            raise ConvergeError(f"units[{index}]: {unit!r} is not a mapping with a name")
        unknown = sorted(set(unit) - set(UNIT_OPTIONS))
        if unknown:
            raise ConvergeError(f"units[{index}] ({unit['name']}): unknown options {', '.join(unknown)}")
        if unit.get("state") not in (None, "started", "stopped", "restarted", "reloaded"):
            raise ConvergeError(
                f"units[{index}] ({unit['name']}): state {unit['state']!r} is not one of "
                "started, stopped, restarted, reloaded"
            )
        checked.append({key: value for key, value in unit.items() if value is not None})
    return checked


def checked_commands(commands):
    if not isinstance(commands, list):
        raise ConvergeError("commands must be a list of commands (name, argv, watch)")
    for index, command in enumerate(commands):
        if not isinstance(command, dict) or set(command) != {"name", "argv", "watch"}:
            raise ConvergeError(f"commands[{index}]: {command!r} is not a mapping of name, argv and watch")
    return commands


def read_args(read, wanted):
    """What to read: the options of the role's read (if any), with what this task needs added."""
    args = dict(read.get("covers") or {}) if isinstance(read, dict) else {}
    for key, paths in wanted.items():
        args[key] = list(dict.fromkeys(list(args.get(key) or []) + list(paths)))
    return args


def covers(read, wanted):
    """Whether a host_state read looked at everything these packages, files and units need."""
    if not isinstance(read, dict) or not isinstance(read.get("covers"), dict) or read.get("failed"):
        return False
    seen = read["covers"]
    hashed = set(seen.get("files") or [])
    return (
        set(wanted["packages"]) <= set(seen.get("packages") or [])
        and set(wanted["units"]) <= set(seen.get("units") or [])
        and set(wanted["files"]) <= hashed
        and set(wanted["file_attributes"]) <= hashed | set(seen.get("file_attributes") or [])
    )
