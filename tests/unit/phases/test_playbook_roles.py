"""The playbook_roles lookup's reading of a playbook: which roles go to which hosts, which plays cannot be
mapped, and the argument specs the plan checks (defaults make an option optional, spec defaults dropped)."""

from pathlib import Path

from ansible_collections.eightfold.devops.plugins.lookup.playbook_roles import play_roles, playbook_roles

ROLES = Path(__file__).resolve().parents[3] / "roles"
GROUPS = {"all": ["web1", "db1"], "db": ["db1"], "app": ["web1"]}


def hosts_of(pattern):
    return [host for part in pattern.split(",") for host in GROUPS.get(part, [])]


def test_plays_map_hosts_to_their_roles_in_order_without_repeats():
    plays = [
        {"hosts": "all", "roles": ["eightfold.devops.base", {"role": "eightfold.devops.firewall"}]},
        {"hosts": ["db", "app"], "roles": [{"name": "eightfold.devops.base"}, "eightfold.devops.postgresql"]},
        {"import_playbook": "other.yml"},
        {"name": "templated", "hosts": "{{ target }}", "roles": ["x"]},
        "not a play",
    ]
    out = playbook_roles(plays, hosts_of, [str(ROLES)])
    roles = ["eightfold.devops.base", "eightfold.devops.firewall", "eightfold.devops.postgresql"]
    assert out["map"] == {"web1": roles, "db1": roles}
    assert out["unmapped"] == ["import of other.yml", 'play "templated" (hosts {{ target }})']


def test_specs_of_the_collection_roles_make_defaulted_options_optional_and_drop_defaults():
    plays = [{"hosts": "all", "roles": ["eightfold.devops.base", "other.collection.role"]}]
    out = playbook_roles(plays, hosts_of, [str(ROLES)])
    base = out["specs"]["eightfold.devops.base"]
    assert base["path"].endswith("/roles/base")
    assert "default" not in base["options"]["base_timezone"]
    assert base["options"]["base_timezone"]["type"] == "str"
    assert out["specs"]["other.collection.role"] == {"path": "", "options": {}}


def test_a_file_without_plays_maps_nothing():
    assert play_roles(None) == ([], [])
