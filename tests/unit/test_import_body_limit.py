"""An import may declare a body far larger than a JSON request; past its own limit it is 413."""

from __future__ import annotations

from shared.http.limits import (
    BODY_TOO_LARGE,
    IMPORT_TOO_LARGE,
    MAX_BODY_BYTES,
    MAX_IMPORT_BYTES,
    refusal_for,
)


def length(size: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(size).encode())]


def test_imports_take_large_bodies_up_to_their_limit() -> None:
    hundred_mb = 100 * 1024 * 1024
    assert refusal_for(length(hundred_mb), 100, "/imports") is None
    assert refusal_for(length(hundred_mb), 100, "/imports/") is None
    assert refusal_for(length(MAX_IMPORT_BYTES + 1), 100, "/imports") == IMPORT_TOO_LARGE


def test_every_other_route_keeps_the_json_limit() -> None:
    assert refusal_for(length(MAX_BODY_BYTES + 1), 100, "/customers") == BODY_TOO_LARGE
    assert refusal_for(length(MAX_BODY_BYTES + 1), 100, "/imports/x") == BODY_TOO_LARGE
    assert refusal_for(length(MAX_BODY_BYTES), 100, "/customers") is None
