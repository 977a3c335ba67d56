"""`CUSTOMERS_MASTER_KEY` as a key ring: `id1:key1,id2:key2`, the first one current.

New customer keys are wrapped by the current key; a stored key names (by fingerprint) the
key that wrapped it, so every listed key still unwraps what it wrapped until
`customers keys rotate` has re-wrapped everything under the current one. A value with no
`id:` in front (the only form before rotation existed) is one key with the id `default`:
deployments that set a plain key keep working unchanged.

Messages never repeat a key, only its position and id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import ConfigurationError

VARIABLE = "CUSTOMERS_MASTER_KEY"
LEGACY_ID = "default"
_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_ENTRY = re.compile(r"(?P<id>[A-Za-z0-9_.-]{1,32}):(?P<secret>.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class MasterKey:
    """One key of the ring: an operator's name for it and its secret (as configured)."""

    id: str
    secret: bytes

    def __repr__(self) -> str:  # a ring printed by accident must not show its secrets
        return f"MasterKey(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class MasterKeys:
    """The configured keys, current first (at least one; ids and secrets distinct)."""

    keys: tuple[MasterKey, ...]

    @property
    def current(self) -> MasterKey:
        """The key that wraps every new customer key (and that rotation re-wraps under)."""
        return self.keys[0]

    @classmethod
    def single(cls, secret: str | bytes) -> MasterKeys:
        """One key, as a plain (pre-rotation) value or a generated data-dir secret gives."""
        raw = secret.encode() if isinstance(secret, str) else secret
        return cls((MasterKey(LEGACY_ID, raw),))


def parse_master_keys(value: str, *, variable: str = VARIABLE) -> MasterKeys:
    """The ring in `value`; `ConfigurationError` naming the variable and the entry when a
    part is malformed. A value without a `,` whose start is not `id:` is one plain key."""
    text = value.strip()
    if not text:
        raise ConfigurationError(f"{variable} is empty")
    if "," not in text and _ENTRY.fullmatch(text) is None:
        return MasterKeys.single(text)
    keys: list[MasterKey] = []
    for position, entry in enumerate(text.split(","), start=1):
        keys.append(_entry(entry.strip(), position, variable))
    ids = [key.id for key in keys]
    repeated = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
    if repeated:
        raise ConfigurationError(f"{variable} lists the id {repeated[0]!r} twice; ids must differ")
    secrets = [key.secret for key in keys]
    if len(set(secrets)) != len(secrets):
        twice = next(key.id for n, key in enumerate(keys) if key.secret in secrets[:n])
        raise ConfigurationError(
            f"{variable}: the key of id {twice!r} repeats an earlier key; list each key once"
        )
    return MasterKeys(tuple(keys))


def _entry(entry: str, position: int, variable: str) -> MasterKey:
    what = (
        f"{variable}: entry {position} must be ID:KEY (ID 1-32 letters, digits, '_', '-' or "
        "'.'; entries separated by ','; the first is current)"
    )
    if not entry:
        raise ConfigurationError(f"{what}; it is empty")
    match = _ENTRY.fullmatch(entry)
    if match is None:
        head = entry.split(":", 1)[0] if ":" in entry else ""
        reason = "its ID is not valid" if head and not _ID.fullmatch(head) else "it has no ID:"
        raise ConfigurationError(f"{what}; {reason}")
    secret = match["secret"].strip()
    if not secret:
        raise ConfigurationError(f"{what}; the key of id {match['id']!r} is empty")
    return MasterKey(match["id"], secret.encode())
