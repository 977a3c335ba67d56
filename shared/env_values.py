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


def seconds(env: Mapping[str, str], name: str, default: float, *, maximum: float) -> float:
    """A finite number of seconds above 0 and at most `maximum`."""
    raw = _raw(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise ConfigurationError(
            f"{name}={raw!r} must be a number of seconds above 0 and at most {maximum:g} "
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
