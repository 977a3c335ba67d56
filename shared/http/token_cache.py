"""Verified-token cache: a token's HMAC is checked once; later uses only re-check expiry."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, Self

from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

MAX_CACHED_TOKENS = 10_000


class CachedToken(Token):
    """A `Token` whose `decode` remembers verified tokens (bounded LRU, expiry re-checked)."""

    _verified: ClassVar[OrderedDict[tuple[str, str, str], Token]] = OrderedDict()

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        """Verify once per distinct token; expired cached tokens are refused like new ones."""
        key = (encoded_token, secret, algorithm)
        cached = cls._verified.get(key)
        if cached is not None:
            if cached.exp <= datetime.now(tz=UTC):
                cls._verified.pop(key, None)
                raise NotAuthorizedException("Token has expired")
            cls._verified.move_to_end(key)
            return cached  # type: ignore[return-value]
        token = super().decode(
            encoded_token,
            secret,
            algorithm,
            audience=audience,
            issuer=issuer,
            require_claims=require_claims,
            verify_exp=verify_exp,
            verify_nbf=verify_nbf,
            strict_audience=strict_audience,
        )
        cls._verified[key] = token
        if len(cls._verified) > MAX_CACHED_TOKENS:
            cls._verified.popitem(last=False)
        return token
