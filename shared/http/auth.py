"""Bearer-token authentication (JWT, HS256), permission guards and the `principal` dependency.

Controllers name their permission once, as a class-level guard (`requires(Permission.X)`), and
take the caller as a typed `principal: Caller` parameter provided once for the whole app
(`PRINCIPAL_DEPENDENCY`): no handler reads `request.user` or calls a guard by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable

import jwt
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from shared.http.token_cache import CachedToken
from shared.http.types import HTTPConnection, HTTPRequest
from shared.logs import actor_var, tenant_var
from shared.principal import Permission, Principal, Role

PUBLIC_PATHS = ["^/health", "^/metrics", "^/api/docs", "^/api/openapi", "^/api/swagger"]
ALGORITHM = "HS256"


def principal_from_claims(subject: str, tenant: object, roles: object) -> Principal | None:
    """Build a principal from token claims, or None when the claims are unusable."""
    if not isinstance(tenant, str) or not tenant.strip() or len(tenant) > 200:
        return None
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        return None
    known = {r.value for r in Role}
    granted = frozenset(Role(r) for r in roles if r in known)
    return Principal(subject=subject, tenant_id=tenant, roles=granted)


async def _retrieve_principal(token: Token, _: HTTPConnection) -> Principal | None:
    principal = principal_from_claims(
        token.sub, token.extras.get("tenant"), token.extras.get("roles")
    )
    if principal is not None:
        tenant_var.set(principal.tenant_id)
        actor_var.set(principal.subject)
    return principal


def build_jwt_auth(secret: str) -> JWTAuth[Principal, Token]:
    """The Litestar JWT middleware configuration; health, metrics and docs stay public."""
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_retrieve_principal,
        token_secret=secret,
        algorithm=ALGORITHM,
        exclude=PUBLIC_PATHS,
        require_claims=["exp", "sub"],
        token_cls=CachedToken,
        description="JWT (HS256) with claims sub, tenant, roles, exp. Mint with `customers token`.",
    )


#: Guards are coroutines: Litestar runs a plain-function guard in a worker thread (a hand-off
#: of ~50 µs of CPU per request on this machine class, for a set lookup).
Guard = Callable[[HTTPConnection, BaseRouteHandler], Coroutine[None, None, None]]


def demand(principal: Principal | None, permission: Permission) -> None:
    """403 unless one of the caller's roles grants `permission` (for a permission that only
    one parameter of an operation needs, such as `asOf`; whole operations use `requires`)."""
    if principal is None or not principal.can(permission):
        raise PermissionDeniedException(f"This needs the '{permission.value}' permission.")


def requires(permission: Permission) -> Guard:
    """A guard (on a controller, for all its operations): 403 unless one of the caller's roles
    grants `permission`."""

    async def guard(connection: HTTPConnection, _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        demand(user if isinstance(user, Principal) else None, permission)

    return guard


def requires_any(*permissions: Permission) -> Guard:
    """A route guard: 403 unless one of the caller's roles grants one of `permissions`."""
    names = " or ".join(f"'{p.value}'" for p in permissions)

    async def guard(connection: HTTPConnection, _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if not isinstance(user, Principal) or not any(user.can(p) for p in permissions):
            raise PermissionDeniedException(f"This needs the {names} permission.")

    return guard


def provide_principal(request: HTTPRequest) -> Principal:
    """The authenticated caller, as the JWT middleware resolved it. Every route that takes it
    is protected, so the middleware has answered 401 before a request without one gets here;
    the check keeps that promise explicit rather than assumed."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("No authenticated caller.")
    return user


#: The caller, as a handler parameter named `principal`.
Caller = NamedDependency[Principal]
PRINCIPAL_DEPENDENCY = {"principal": Provide(provide_principal, sync_to_thread=False)}


def mint_token(
    secret: str, *, tenant: str, roles: Iterable[str], subject: str, ttl_seconds: int
) -> str:
    """Sign a bearer token for `subject` in `tenant` with `roles`."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "tenant": tenant,
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
