"""`GET /audit/alerts`: the security alerts an auditor may see."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from read_side.alert_store import AlertStore
from read_side.deadline import within
from shared.http.auth import requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject
from shared.principal import Permission, Principal, Role


@get(
    "/audit/alerts", operation_id="listSecurityAlerts", summary="Security alerts",
    tags=["privacy"], guards=[requires(Permission.AUDIT)],
    responses=problems(400, 401, 403, 429, 503),
)  # fmt: skip
async def security_alerts(
    request: HTTPRequest,
    limit: Annotated[int, QueryParameter(required=False, ge=1, le=500)] = 100,
) -> JSONObject:
    """Newest first: `{items: [{id, kind, at, subject, clientAddress, tenant, count, detail}]}`.
    An alert about a subject of the caller's tenant is shown to its auditors; one about an
    unauthenticated client (no tenant) to every tenant's admins."""
    principal = request.user
    assert isinstance(principal, Principal)
    store: AlertStore = request.app.state.runtime.read.alerts
    admin = Role.ADMIN in principal.roles
    timeout = request.app.state.settings.service_timeout_seconds
    items = await within(
        timeout, store.recent(principal.tenant_id, admin, limit), "the alert store"
    )
    return {"items": items}


ALERT_HANDLERS = [security_alerts]
