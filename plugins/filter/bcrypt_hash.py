# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bcrypt_hash filter: a bcrypt hash of a password made on the controller, with a salt derived from a
seed, so the hash (and the file that holds it) is the same on every run (docs in bcrypt_hash.yml)."""

from __future__ import annotations

import hashlib
import importlib
import re

from ansible.errors import AnsibleFilterError

MAX_BYTES = 72  # bcrypt uses the first 72 bytes; longer passwords are refused, not cut
HASH = re.compile(r"^\$2b\$[0-9]{2}\$[./A-Za-z0-9]{53}$")
MISSING = (
    "bcrypt_hash: the Python that runs Ansible cannot make bcrypt hashes: pip install bcrypt "
    "(or passlib with a bcrypt backend)"
)


def salt_of(seed):
    """22 characters of bcrypt's alphabet from the seed: 21 hex digits of its SHA-256 and an 'e', whose unused
    low bits are zero (what passlib and Ansible's password_hash made from the same seed)."""
    return hashlib.sha256(str(seed).encode("utf-8")).hexdigest()[:21] + "e"


def _with_bcrypt(password, salt):
    bcrypt = importlib.import_module("bcrypt")
    return bcrypt.hashpw(password, salt.encode("ascii")).decode("ascii")


def _with_passlib(password, salt):
    handler = importlib.import_module("passlib.hash").bcrypt
    rounds, raw_salt = int(salt[4:6]), salt[7:]
    return handler.using(ident="2b", rounds=rounds, salt=raw_salt).hash(password)


BACKENDS = (("bcrypt", _with_bcrypt), ("passlib", _with_passlib))


def bcrypt_backend(_value=None):
    """The name of the first backend that makes a right hash here (bcrypt, passlib), or '' when none does."""
    probe_salt = "$2b$04$" + salt_of("probe")
    for name, backend in BACKENDS:
        try:
            if HASH.match(backend(b"probe", probe_salt)):
                return name
        except Exception:  # not installed, no backend of its own, a broken build: the next one
            continue
    return ""


def bcrypt_hash(password, seed, rounds=10):
    """$2b$ bcrypt hash of password with cost rounds and the salt of seed."""
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("bcrypt_hash: the password must be a non-empty string")
    data = password.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise AnsibleFilterError(f"bcrypt_hash: the password is longer than {MAX_BYTES} bytes")
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 4 <= rounds <= 31:
        raise AnsibleFilterError(f"bcrypt_hash: rounds must be a whole number from 4 to 31 (got {rounds!r})")
    salt = f"$2b${rounds:02d}${salt_of(seed)}"
    name = bcrypt_backend()
    if not name:
        raise AnsibleFilterError(MISSING)
    result = dict(BACKENDS)[name](data, salt)
    if not HASH.match(result):
        raise AnsibleFilterError(f"bcrypt_hash: {name} made no bcrypt hash")
    return result


class FilterModule:
    def filters(self):
        return {"bcrypt_hash": bcrypt_hash}
