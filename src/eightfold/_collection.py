"""Find the eightfold.devops collection and resolve phase names to playbooks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eightfold.errors import PhaseInputError

NAMESPACE = "eightfold"
NAME = "devops"
FQCN_PREFIX = f"{NAMESPACE}.{NAME}."


@dataclass(frozen=True)
class Playbook:
    """A resolved phase: its name, the playbook file and the collections path that finds the collection."""

    name: str
    path: Path
    collections_path: Path | None


def _is_collection(path: Path) -> bool:
    galaxy = path / "galaxy.yml"
    if not galaxy.is_file():
        return False
    text = galaxy.read_text(encoding="utf-8", errors="replace")
    return f"namespace: {NAMESPACE}" in text and f"name: {NAME}" in text


def collection_search_paths() -> list[Path]:
    """Collection roots to look in (``.../ansible_collections`` parents), in order of preference."""
    paths: list[Path] = []
    env = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    if env:
        paths.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    # The working tree of the collection, when the package runs from it (src/eightfold -> repo root).
    source_root = Path(__file__).resolve().parents[2]
    paths.append(source_root / ".collections")
    paths.extend([Path("~/.ansible/collections").expanduser(), Path("/usr/share/ansible/collections")])
    return paths


def find_collection() -> tuple[Path, Path | None]:
    """Return (collection root, collections path that holds it) or raise when it cannot be found.

    Override with ``EIGHTFOLD_COLLECTION_ROOT`` (a directory holding galaxy.yml of eightfold.devops).
    """
    override = os.environ.get("EIGHTFOLD_COLLECTION_ROOT")
    if override:
        root = Path(override).expanduser().resolve()
        if not _is_collection(root):
            raise PhaseInputError("EIGHTFOLD_COLLECTION_ROOT", f"{root} is not eightfold.devops")
        return root, None
    for base in collection_search_paths():
        candidate = base / "ansible_collections" / NAMESPACE / NAME
        if _is_collection(candidate):
            return candidate, base
    source_root = Path(__file__).resolve().parents[2]
    if _is_collection(source_root):
        return source_root, None
    raise PhaseInputError(
        "name", "the eightfold.devops collection is not installed (set ANSIBLE_COLLECTIONS_PATH)"
    )


def available_phases() -> list[str]:
    """Names of the playbooks of the collection (the phases and the helpers such as lab)."""
    try:
        root, _ = find_collection()
    except PhaseInputError:
        return []
    return sorted(p.stem for p in (root / "playbooks").glob("*.yml"))


@dataclass(frozen=True)
class PhaseInfo:
    """A playbook of the collection that ``run_phase`` takes by name, with the first sentence of its
    header comment."""

    name: str
    description: str
    path: Path


def _description(path: Path) -> str:
    """The first line of the playbook's header comment, without a clause it leaves open."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text = line.strip()
        if text in ("---", ""):
            continue
        if not text.startswith("#"):
            return ""
        text = text.lstrip("#").strip()
        if text.count("(") > text.count(")"):
            text = text[: text.rindex("(")]
        text = text.split(". ", 1)[0]
        if not text.endswith((".", ",", ":", ";")) and ", " in text:
            text = text[: text.rindex(", ")]  # the sentence goes on: end at its last whole clause
        return text.rstrip(" .,:;-")
    return ""


def phases() -> list[PhaseInfo]:
    """The playbooks of the collection, by name (raises PhaseInputError when it cannot be found)."""
    root, _ = find_collection()
    return [
        PhaseInfo(name=p.stem, description=_description(p), path=p)
        for p in sorted((root / "playbooks").glob("*.yml"))
    ]


def resolve_phase(name: str) -> Playbook:
    """Resolve ``name`` to a playbook.

    Accepted: a phase name (``site`` -> playbooks/site.yml of the collection), its FQCN
    (``eightfold.devops.site``) or a path to a playbook file (``tests/playbooks/ok.yml``).
    """
    if not isinstance(name, str) or not name.strip():
        raise PhaseInputError("name", f"expected a phase name, got {name!r}")
    name = name.strip()
    as_path = Path(name).expanduser()
    if name.endswith((".yml", ".yaml")) or os.sep in name:
        if as_path.is_file():
            _, collections_path = _find_optional()
            return Playbook(name=as_path.stem, path=as_path.resolve(), collections_path=collections_path)
        raise PhaseInputError("name", f"playbook file {name} does not exist")
    short = name[len(FQCN_PREFIX) :] if name.startswith(FQCN_PREFIX) else name
    if "." in short or not short.replace("_", "").replace("-", "").isalnum():
        raise PhaseInputError("name", f"unknown phase {name!r}")
    root, collections_path = find_collection()
    for suffix in (".yml", ".yaml"):
        candidate = root / "playbooks" / f"{short}{suffix}"
        if candidate.is_file():
            if collections_path is not None:
                # Run it through the collections path, the way ansible-playbook eightfold.devops.<name> does.
                candidate = collections_path / "ansible_collections" / NAMESPACE / NAME / "playbooks"
                candidate = candidate / f"{short}{suffix}"
            return Playbook(name=short, path=candidate, collections_path=collections_path)
    known = ", ".join(available_phases()) or "none"
    raise PhaseInputError("name", f"unknown phase {name!r} (known: {known})")


def _find_optional() -> tuple[Path | None, Path | None]:
    try:
        return find_collection()
    except PhaseInputError:
        return None, None
