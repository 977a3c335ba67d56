"""The verified-token cache never outlives a token's expiry and never skips verification."""

from __future__ import annotations

import time

import pytest
from litestar.exceptions import NotAuthorizedException

from shared.http.auth import mint_token
from shared.http.token_cache import CachedToken

SECRET = "unit-test-secret-that-is-long-enough-000"


def test_cached_token_is_refused_once_expired() -> None:
    token = mint_token(SECRET, tenant="acme", roles=["viewer"], subject="s", ttl_seconds=1)
    assert CachedToken.decode(token, SECRET, "HS256").sub == "s"
    assert CachedToken.decode(token, SECRET, "HS256").sub == "s"
    time.sleep(1.1)
    with pytest.raises(NotAuthorizedException):
        CachedToken.decode(token, SECRET, "HS256")


def test_cache_is_keyed_by_secret_so_a_wrong_key_still_fails() -> None:
    token = mint_token(SECRET, tenant="acme", roles=["viewer"], subject="s", ttl_seconds=60)
    CachedToken.decode(token, SECRET, "HS256")
    with pytest.raises(NotAuthorizedException):
        CachedToken.decode(token, "another-secret-that-is-long-enough-0000", "HS256")
