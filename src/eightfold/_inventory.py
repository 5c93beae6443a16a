"""Check an inventory before a run: ansible-playbook only warns about an inventory it cannot parse and then
runs against the implicit localhost, which reads as a successful run that did nothing."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from eightfold.errors import PhaseInputError

_GROUP_KEYS = {"hosts", "children", "vars"}
_SKIP_DIRS = {"group_vars", "host_vars"}
_SKIP_SUFFIXES = (".md", ".txt", ".orig", ".bak", ".retry", ".pyc", ".swp", "~")


class _TolerantLoader(yaml.SafeLoader):
    """SafeLoader that reads custom tags (!vault, !unsafe) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TolerantLoader.add_multi_constructor("!", _any_tag)


def _check_group(where: str, name: str, group: Any) -> None:
    if group is None:
        return
    if not isinstance(group, Mapping):
        kind = type(group).__name__
        raise PhaseInputError("inventory", f"{where}: group {name!r} must be a mapping, got {kind}")
    unknown = set(group) - _GROUP_KEYS
    if unknown:
        raise PhaseInputError(
            "inventory",
            f"{where}: group {name!r} has unknown keys {sorted(unknown)} (allowed: hosts children vars)",
        )
    for key in ("hosts", "vars"):
        value = group.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise PhaseInputError("inventory", f"{where}: {name}.{key} must be a mapping")
    for host, host_vars in (group.get("hosts") or {}).items():
        if host_vars is not None and not isinstance(host_vars, Mapping):
            raise PhaseInputError("inventory", f"{where}: variables of host {host!r} must be a mapping")
    children = group.get("children")
    if children is not None:
        if not isinstance(children, Mapping):
            raise PhaseInputError("inventory", f"{where}: {name}.children must be a mapping")
        for child, child_group in children.items():
            _check_group(where, str(child), child_group)


def check_inventory_data(data: Any, where: str = "inventory") -> None:
    """Validate the YAML/JSON inventory structure (the ``yaml`` inventory plugin's format)."""
    if not isinstance(data, Mapping) or not data:
        kind = type(data).__name__
        raise PhaseInputError("inventory", f"{where}: expected a mapping of groups, got {kind}")
    for name, group in data.items():
        _check_group(where, str(name), group)


def _check_with_ansible(path: Path) -> None:
    """Parse a non-YAML source with Ansible's own inventory manager (imported only when needed). What
    Ansible prints while it parses (multi-line warnings) is captured: the caller gets one line."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.display import Display

    display = Display()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stderr(printed), contextlib.redirect_stdout(printed):
            manager = InventoryManager(loader=DataLoader(), sources=[str(path)], parse=False)
            manager.parse_sources(cache=False)
    except Exception as exc:
        raise PhaseInputError("inventory", f"{path} does not parse: {_first_line(str(exc))}") from None
    finally:
        # Display prints a warning once per process: forget it, so the same bad file is refused again.
        warns = getattr(display, "_warns", None)
        if isinstance(warns, set):
            warns.clear()
    warnings = [line[len("[WARNING]:") :].strip() for line in _plain(printed.getvalue()).splitlines()]
    failed = [w for w in warnings if "Unable to parse" in w or "Failed to parse" in w]
    if failed:
        reason = next((w for w in failed if "Failed to parse" in w), failed[0])
        raise PhaseInputError("inventory", f"{path} does not parse: {reason}")


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return _first_line(str(exc))


def _check_file(path: Path) -> None:
    if os.access(path, os.X_OK):
        return  # an inventory script: it runs during the play, with unparsed-is-failed set
    if path.suffix in (".yml", ".yaml", ".json"):
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_TolerantLoader)
        except yaml.YAMLError as exc:
            raise PhaseInputError("inventory", f"{path} does not parse: {_yaml_problem(exc)}") from None
        except (OSError, ValueError) as exc:
            raise PhaseInputError("inventory", f"{path} does not parse: {_first_line(str(exc))}") from None
        if isinstance(data, Mapping) and "plugin" in data:
            _check_with_ansible(path)  # an inventory plugin configuration
            return
        check_inventory_data(data, str(path))
        return
    _check_with_ansible(path)


def check_inventory_path(path: Path) -> None:
    """Raise PhaseInputError when ``path`` is missing or one of its sources does not parse."""
    if not path.exists():
        raise PhaseInputError("inventory", f"{path} does not exist")
    if path.is_dir():
        sources = [
            p
            for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES)
        ]
        if not sources:
            raise PhaseInputError("inventory", f"{path} holds no inventory file")
        for source in sources:
            if source.parent.name not in _SKIP_DIRS:
                _check_file(source)
        return
    _check_file(path)
