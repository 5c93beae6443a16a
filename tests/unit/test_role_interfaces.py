"""Every role input is declared in meta/argument_specs.yml with the same default, so bad input fails early."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role):
    defaults = load(role / "defaults" / "main.yml")
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options), "defaults and argument_specs list different inputs"
    for name, value in defaults.items():
        assert name.startswith(f"{role.name}_"), f"{name} lacks the role prefix"
        assert options[name].get("default") == value, (
            f"{name}: argument_specs default differs from defaults/main.yml"
        )
        assert options[name].get("description"), f"{name} has no description"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_templates_say_they_are_managed(role):
    # A format that a comment would break, or where users would read it (banners), says why on line one.
    for template in (role / "templates").glob("*.j2"):
        first_line = template.read_text().splitlines()[0]
        managed = "ansible_managed" in first_line or first_line.startswith("{# no managed header: ")
        assert managed, template.name
