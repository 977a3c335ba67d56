"""Who is calling: tenant, actor and roles, and what those roles may do."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Permission(enum.StrEnum):
    """Permissions of the contract's role table."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    AUDIT = "audit"
    ERASE = "erase"
    ANALYTICS = "analytics"  # aggregates and segment definitions: never a personal value
    PROJECTIONS_ADMIN = "projections_admin"
    #: Tenant-wide settings such as the loyalty program ("admin" in the contract's table).
    TENANT_ADMIN = "tenant_admin"


class Role(enum.StrEnum):
    """Roles a token may carry."""

    VIEWER = "viewer"
    STAFF = "staff"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.STAFF: frozenset({Permission.READ, Permission.WRITE}),
    Role.MANAGER: frozenset(
        {Permission.READ, Permission.WRITE, Permission.DELETE, Permission.ANALYTICS}
    ),
    Role.AUDITOR: frozenset({Permission.READ, Permission.AUDIT}),
    Role.ANALYST: frozenset({Permission.ANALYTICS}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. The tenant comes from the token only."""

    subject: str
    tenant_id: str
    roles: frozenset[Role]

    @property
    def permissions(self) -> frozenset[Permission]:
        """Union of the permissions of every role held."""
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def can(self, permission: Permission) -> bool:
        """True when one of the roles grants `permission`."""
        return permission in self.permissions
