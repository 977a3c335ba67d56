"""Argument types of the `customers` command: a bad value is one line and exit code 2.

argparse prints its usage block before an error; with a dozen subcommands that buries the one
line that matters, so `OneLineParser` prints only `customers token: error: ...` and points to
`--help`. Each type names the option and, where one exists, its variable, because a default
read from the environment goes through the same type.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING, NoReturn, TypeAlias

MAX_TOKEN_TTL_SECONDS = 366 * 86400


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        """`prog: error: message (see prog --help)` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


if TYPE_CHECKING:  # typeshed's name for `add_subparsers()`'s result (private at run time)
    Commands: TypeAlias = argparse._SubParsersAction[OneLineParser]


def _whole(text: str, low: int, high: int, what: str, variable: str = "") -> int:
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        source = f" (from the option or {variable})" if variable else ""
        raise argparse.ArgumentTypeError(f"{text!r} is not {what} from {low} to {high}{source}")
    return int(value)


def port(text: str) -> int:
    """A TCP port (from --port or CUSTOMERS_PORT)."""
    return _whole(text, 1, 65535, "a port number", "CUSTOMERS_PORT")


def workers(text: str) -> int:
    """HTTP worker processes (from --workers or CUSTOMERS_WORKERS)."""
    return _whole(text, 1, 64, "a number of workers", "CUSTOMERS_WORKERS")


def batch(text: str) -> int:
    """Rows per transaction of a long operation (`keys rotate --batch`)."""
    return _whole(text, 1, 10_000, "a number of rows per transaction")


def ttl(text: str) -> int:
    """A token lifetime: a token that is born expired or lives for years is a mistake."""
    return _whole(text, 1, MAX_TOKEN_TTL_SECONDS, "a lifetime in seconds")


def name(text: str) -> str:
    """A tenant or subject: what the server accepts in a token (1-200 printable characters)."""
    value = text.strip()
    if not value or len(value) > 200 or not value.isprintable():
        raise argparse.ArgumentTypeError(f"{text[:40]!r} must be 1-200 printable characters")
    return value


def customer_id(text: str) -> str:
    """A customer id (a UUID)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a customer id (a UUID)") from None


def public_key(text: str) -> str:
    """An Ed25519 public key: 64 hex digits (as `customers audit public-key` prints it)."""
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a public key (64 hex digits)")
    return value


def tls_options(cert: str | None, key: str | None) -> dict[str, str]:
    """uvicorn's TLS options for `serve --tls-cert FILE --tls-key FILE` (none: plain HTTP).
    The pair is loaded once here, so a wrong path, a key that does not match or a file that is
    not PEM is one line before anything starts, not a traceback from a worker."""
    import ssl

    from shared.errors import ConfigurationError

    if not cert and not key:
        return {}
    if not (cert and key):
        raise ConfigurationError(
            "serve needs both --tls-cert and --tls-key (PEM files), or neither"
        )
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or error
        raise ConfigurationError(f"--tls-cert/--tls-key cannot be used: {reason}") from None
    return {"ssl_certfile": cert, "ssl_keyfile": key}
