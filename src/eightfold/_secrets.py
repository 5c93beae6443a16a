"""Secrets of a run: checked, handed to Ansible without a clear copy on disk or in an environment, masked.

The channel: every extra var of a run with secrets goes into ``env/extravars`` encrypted with ansible-core's
vault (AES256) under a random password that exists only in memory; ansible-playbook is started with
``--vault-id eightfold@prompt`` and ansible-runner answers that prompt on the run's pty (``passwords``), the
way AWX hands vault passwords over. Nothing in clear is written, and no child inherits a secret through
its environment.

Masking: a value is replaced by ``********`` in events and artifacts, and so are the forms Ansible and
its modules derive from it: every line of a multi-line value, every word of a value with spaces (the
``cmd`` of a free-form command), JSON and Python escapes, base64 and URL encoding. A value shorter than
``MIN_LENGTH`` cannot be masked without masking ordinary words, so it is refused; derived pieces shorter
than ``MIN_PIECE`` are not masked on their own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets as _random
import shlex
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from eightfold.errors import PhaseInputError

MASK = "********"
#: A secret string (or number) must have at least this many characters.
MIN_LENGTH = 8
#: Lines and words of a secret are masked on their own from this length on.
MIN_PIECE = 4
#: The vault id of the run's own encrypted extra vars.
VAULT_ID = "eightfold"
_LABEL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string and number in ``value`` (booleans and null carry no secret)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    elif value is not None and not isinstance(value, bool):
        yield path, str(value)


def check_lengths(parameter: str, values: Mapping[str, Any]) -> None:
    """Refuse a secret string or number shorter than MIN_LENGTH; the message names it, never its value."""
    for path, text in leaves(values):
        if len(text) < MIN_LENGTH:
            raise PhaseInputError(
                parameter,
                f"{path} is shorter than {MIN_LENGTH} characters: it cannot be masked without masking "
                "ordinary words (pass it as an extra var if it is not secret)",
            )


def check_vault_label(parameter: str, label: Any) -> str:
    if not isinstance(label, str) or not _LABEL.match(label):
        raise PhaseInputError(parameter, f"vault id {label!r} is not a label of letters, digits, _ . -")
    if label == VAULT_ID:
        raise PhaseInputError(parameter, f"vault id {VAULT_ID!r} is the run's own; choose another")
    return label


def _pieces(text: str) -> set[str]:
    pieces = {text}
    lines = [line.strip() for line in text.splitlines()]
    if len(lines) > 1:
        pieces.update(line for line in lines if len(line) >= MIN_PIECE)
    words = text.split()
    if len(words) > 1:
        pieces.update(w for w in words if len(w) >= MIN_PIECE)
        with contextlib.suppress(ValueError):  # unbalanced quotes: no shell words
            pieces.update(w for w in shlex.split(text) if len(w) >= MIN_PIECE)
    return pieces


def derived_forms(text: str) -> set[str]:
    """The value, its lines and words, their escaped forms, and its base64 and URL encodings."""
    forms: set[str] = set()
    for piece in _pieces(text):
        forms.add(piece)
        forms.add(json.dumps(piece)[1:-1])
        forms.add(json.dumps(piece, ensure_ascii=False)[1:-1])
        forms.add(repr(piece)[1:-1])
    raw = text.encode()
    for data in (raw, raw + b"\n"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(data).decode()
            forms.update((encoded, encoded.rstrip("=")))
    forms.update((quote(text, safe=""), quote(text), quote_plus(text)))
    return {form for form in forms if len(form) >= MIN_PIECE}


class Masker:
    """Replaces every form of a set of secret values with MASK, in strings, dicts and lists."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for value in values:
            if len(value) >= MIN_PIECE:
                forms |= derived_forms(value)
        self.forms = frozenset(forms)
        ordered = sorted(forms, key=len, reverse=True)  # the longest form first: no half-masked values
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @classmethod
    def of(cls, *mappings: Mapping[str, Any] | None, extra: Iterable[str] = ()) -> Masker:
        values = [text for mapping in mappings if mapping for _, text in leaves(mapping)]
        return cls([*values, *extra])

    def __bool__(self) -> bool:
        return self._pattern is not None

    def contains(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def mask(self, value: Any) -> Any:
        """Mask ``value`` (dicts and lists in place) and return it."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(MASK, value)
        if isinstance(value, dict):
            for key, item in value.items():
                value[key] = self.mask(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = self.mask(item)
        return value


def encrypt(data: Mapping[str, Any]) -> tuple[bytes, str]:
    """``data`` as JSON, encrypted with ansible-core's vault under a fresh random password (returned)."""
    try:
        from ansible.parsing.vault import VaultLib, VaultSecret
    except ImportError:  # pragma: no cover - ansible-core comes with the controller
        raise PhaseInputError("secrets", "ansible-core is needed on this machine to encrypt them") from None
    password = _random.token_urlsafe(32)
    secret = VaultSecret(password.encode())
    text = VaultLib([(VAULT_ID, secret)]).encrypt(json.dumps(dict(data)), secret, vault_id=VAULT_ID)
    return text, password


def vault_prompt(label: str) -> str:
    """The pattern of ansible-playbook's prompt for ``--vault-id <label>@prompt``."""
    return rf"^Vault password \({re.escape(label)}\):\s*$"
