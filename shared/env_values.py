"""Reading one `CUSTOMERS_*` variable: a typed value, or one sentence naming the variable.

Settings come from people typing into shells and compose files; a wrong value must stop the
command with a message that says which variable and what it takes, never a traceback. URLs
and secrets can hold credentials, so their messages never repeat the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from shared.errors import ConfigurationError


def _raw(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def whole_number(
    env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, unit: str = ""
) -> int:
    """A whole number ≥ `minimum` (digits only: no sign, no decimals)."""
    raw = _raw(env, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        what = f"a whole number{' of ' + unit if unit else ''} >= {minimum}"
        raise ConfigurationError(f"{name}={raw!r} must be {what} (default {default})")
    return int(raw)


def seconds(
    env: Mapping[str, str], name: str, default: float, *, maximum: float, zero: bool = False
) -> float:
    """A finite number of seconds above 0 (or 0 itself with `zero`: "off") and at most
    `maximum`."""
    raw = _raw(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (value > 0 or (zero and value == 0)) and value <= maximum):
        low = "of at least 0" if zero else "above 0"
        raise ConfigurationError(
            f"{name}={raw!r} must be a number of seconds {low} and at most {maximum:g} "
            f"(default {default:g})"
        )
    return value


def choice(env: Mapping[str, str], name: str, default: str, choices: Iterable[str]) -> str:
    """One of `choices`, compared case-insensitively; returned as spelled in `choices`."""
    raw = _raw(env, name)
    if not raw:
        return default
    options = list(choices)
    for option in options:
        if raw.lower() == option.lower():
            return option
    raise ConfigurationError(f"{name}={raw!r} must be one of {', '.join(options)}")


def url(env: Mapping[str, str], name: str, schemes: Iterable[str]) -> str | None:
    """A URL starting with one of `schemes` (`redis://`…), or None when unset."""
    raw = _raw(env, name)
    if not raw:
        return None
    prefixes = tuple(f"{scheme}://" for scheme in schemes)
    if not raw.lower().startswith(prefixes):
        raise ConfigurationError(f"{name} must start with {' or '.join(prefixes)}")
    return raw


def secret(env: Mapping[str, str], name: str, *, minimum_length: int) -> str | None:
    """A secret of at least `minimum_length` characters, or None when unset."""
    raw = _raw(env, name)
    if not raw:
        return None
    if len(raw) < minimum_length:
        raise ConfigurationError(
            f"{name} must be at least {minimum_length} characters (e.g. `openssl rand -hex 32`)"
        )
    return raw


def secret_or_file(env: Mapping[str, str], name: str, *, minimum_length: int = 1) -> str | None:
    """A secret given in `name`, or read from the file named by `name_FILE` (Docker and
    Kubernetes secrets); None when neither is set. Both set is a mistake, not a choice."""
    path = _raw(env, f"{name}_FILE")
    if not path:
        return secret(env, name, minimum_length=minimum_length)
    if _raw(env, name):
        raise ConfigurationError(f"set {name} or {name}_FILE, not both")
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as error:
        raise ConfigurationError(
            f"{name}_FILE names a file that cannot be read ({error.strerror})"
        ) from None
    if len(value) < minimum_length:
        raise ConfigurationError(f"the file named by {name}_FILE holds fewer than "
                                 f"{minimum_length} characters")  # fmt: skip
    return value


def key_prefix(env: Mapping[str, str], name: str, default: str) -> str:
    """A Redis key prefix: letters, digits and `_-.` (safe in key names, hash tags and SCAN
    patterns), at most 64 characters."""
    raw = _raw(env, name)
    if not raw:
        return default
    if len(raw) > 64 or not all(c.isascii() and (c.isalnum() or c in "_-.") for c in raw):
        raise ConfigurationError(
            f"{name}={raw!r} must be 1-64 letters, digits, '_', '-' or '.' (default {default})"
        )
    return raw
