"""eightfold.devops.bcrypt_hash: the same bcrypt hash on every run, made with what this controller has, and a
message naming the pip package when it has nothing."""

import hashlib
import re
import sys
import types

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter import bcrypt_hash as plugin

# bcrypt of scrape-secret with the salt eightfoldmoleculetestu (extensions/molecule/monitoring/vars).
VECTOR = "$2b$10$eightfoldmoleculetestuGZAtAWDNNmPDkdEZp/49rjpYcmWPbuy"


@pytest.fixture
def with_bcrypt(monkeypatch):
    """A bcrypt package: the real one when installed, else one backed by the C library's crypt(3)."""
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        crypt = pytest.importorskip("crypt")
        if not (crypt.crypt("x", "$2b$04$" + "a" * 22) or "").startswith("$2b$"):
            pytest.skip("neither bcrypt nor a crypt(3) with bcrypt")
        fake = types.ModuleType("bcrypt")
        fake.hashpw = lambda password, salt: crypt.crypt(password.decode(), salt.decode()).encode()
        monkeypatch.setitem(sys.modules, "bcrypt", fake)


@pytest.fixture
def without_backends(monkeypatch):
    for name in ("bcrypt", "passlib", "passlib.hash"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails


def test_registered_under_its_name():
    assert plugin.FilterModule().filters()["bcrypt_hash"] is plugin.bcrypt_hash


def test_the_salt_is_what_password_hash_made_from_the_same_seed():
    # The role's hash before this filter: (host ~ ':' ~ user) | hash('sha256') | truncate(21, true, '') ~ 'e'
    seed = "agent12:prometheus"
    assert plugin.salt_of(seed) == hashlib.sha256(seed.encode()).hexdigest()[:21] + "e"
    assert len(plugin.salt_of(seed)) == 22


def test_a_known_hash(with_bcrypt):
    assert plugin._with_bcrypt(b"scrape-secret", "$2b$10$eightfoldmoleculetestu") == VECTOR


def test_the_same_hash_on_every_run_and_another_for_another_host(with_bcrypt):
    first = plugin.bcrypt_hash("scrape-secret", "agent12:prometheus")
    assert first == plugin.bcrypt_hash("scrape-secret", "agent12:prometheus")
    assert first.startswith("$2b$10$" + plugin.salt_of("agent12:prometheus"))
    assert re.match(r"^\$2b\$10\$[./A-Za-z0-9]{53}$", first)
    assert plugin.bcrypt_hash("scrape-secret", "agent13:prometheus") != first
    assert plugin.bcrypt_backend() == "bcrypt"


def test_no_backend_names_the_pip_package(without_backends):
    assert plugin.bcrypt_backend() == ""
    with pytest.raises(AnsibleFilterError, match="pip install bcrypt"):
        plugin.bcrypt_hash("scrape-secret", "agent12:prometheus")


@pytest.mark.parametrize(
    ("password", "rounds", "message"),
    [
        ("", 10, "non-empty string"),
        ("x" * 73, 10, "longer than 72 bytes"),
        ("é" * 37, 10, "longer than 72 bytes"),
        ("secret", 3, "from 4 to 31"),
        ("secret", True, "from 4 to 31"),
    ],
)
def test_what_bcrypt_cannot_hash_is_refused(password, rounds, message):
    with pytest.raises(AnsibleFilterError, match=message):
        plugin.bcrypt_hash(password, "seed", rounds)
