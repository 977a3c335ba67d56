"""`GET /analytics/overview` and `GET /analytics/cohorts`: aggregates only (no personal value
is held by the projections they read), as JSON or, with `Accept: text/csv`, as CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from read_side.analytics.cohorts import COHORTS, COHORTS_KEY
from read_side.analytics.overview import DAY_PREFIX, OVERVIEW
from read_side.analytics.queries import (
    INTERVALS,
    cohort_table,
    cohorts_csv,
    overview_csv,
    overview_series,
)
from read_side.consistency import ConsistencyWaiter
from read_side.deadline import within
from read_side.http.analytics_answers import Cohort, Cohorts, Overview, Period, json_or_csv
from read_side.http.params import Token
from read_side.projections.live import LiveProjections
from read_side.projections.store import KeyedDocument
from shared.clock import utc_now
from shared.errors import FieldError, MalformedRequest, ServiceUnavailable, ValidationFailed
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest, HTTPResponse
from shared.principal import Permission, Principal
from shared.settings import Settings

DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONTH = r"^[0-9]{4}-[0-9]{2}$"
Projections = NamedDependency[LiveProjections]
Configuration = NamedDependency[Settings]
MAX_DAYS = 3700  # ten years by day: far beyond a chart, well within a quick answer


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:  # the pattern holds (YYYY-MM-DD): a rule refuses it, 422
        raise ValidationFailed(
            f"{name} is not a day.", errors=[FieldError(name, "a calendar day, YYYY-MM-DD")]
        ) from None


def _month(name: str, value: str) -> str:
    if not 1 <= int(value[5:7]) <= 12:  # the pattern holds (YYYY-MM): a rule refuses it, 422
        raise ValidationFailed(
            f"{name} is not a month.", errors=[FieldError(name, "a month, YYYY-MM")]
        )
    return value


def _ordered(first: str, last: str) -> None:
    if first > last:
        raise ValidationFailed("from is after to.", errors=[FieldError("from", "after to")])


def _wants_csv(request: HTTPRequest) -> bool:
    return "text/csv" in request.headers.get("accept", "")


async def _documents(
    principal: Principal,
    projections: LiveProjections,
    settings: Settings,
    name: str,
    prefix: str,
    token: str | None,
    *,
    exact: bool = False,
) -> list[KeyedDocument]:
    """The tenant's documents of projection `name` under `prefix` (or the one keyed `prefix`
    when `exact`), once the projection reached the consistency token."""
    live = projections.get(name)
    if live is None:
        raise ServiceUnavailable(f"The {name} projection is not configured.", retry_after=5)
    await ConsistencyWaiter(
        [live.checkpoint], timeout=settings.consistency_timeout_seconds,
        read_timeout=settings.service_timeout_seconds,
    ).wait(token)  # fmt: skip
    store = await within(settings.service_timeout_seconds, live.current(), f"the {name} store")
    timeout, what = settings.service_timeout_seconds, f"the {name} store"
    if exact:
        one = await within(timeout, store.get(principal.tenant_id, prefix), what)
        return [one] if one is not None else []
    return await within(timeout, store.find(principal.tenant_id, prefix), what)


class AnalyticsController(Controller):
    """Aggregates for analysts, managers and admins."""

    path = "/analytics"
    tags = ["analytics"]
    guards = [requires(Permission.ANALYTICS)]

    @get(
        "/overview",
        operation_id="analyticsOverview",
        summary="New customers, visits, revenue, refunds, erasures and consents per period",
        responses=problems(400, 401, 403, 422, 429, 503) | json_or_csv(Overview),
    )
    async def overview(
        self,
        request: HTTPRequest,
        principal: Caller,
        live_projections: Projections,
        settings: Configuration,
        from_: Annotated[
            str | None, QueryParameter(name="from", required=False, pattern=DAY)
        ] = None,
        to: Annotated[str | None, QueryParameter(required=False, pattern=DAY)] = None,
        interval: Annotated[
            str, QueryParameter(required=False, schema_extra={"enum": list(INTERVALS)})
        ] = "day",
        consistency_token: Token = None,
    ) -> HTTPResponse:
        """UTC days `from`..`to` inclusive (default: the last 30 days); `Accept: text/csv`."""
        if interval not in INTERVALS:
            raise MalformedRequest(
                "Unknown interval.", errors=[FieldError("interval", "day, week or month")]
            )
        end = _day("to", to) if to else utc_now().date()
        start = _day("from", from_) if from_ else end - timedelta(days=29)
        _ordered(start.isoformat(), end.isoformat())
        if (end - start).days > MAX_DAYS:
            raise ValidationFailed(
                "The range is too long.",
                errors=[FieldError("from", f"at most {MAX_DAYS} days before to")],
            )
        days = await _documents(
            principal, live_projections, settings, OVERVIEW, DAY_PREFIX, consistency_token
        )
        series = overview_series(days, start, end, interval)
        if _wants_csv(request):
            return Response(overview_csv(series), media_type="text/csv")
        return Response(Overview(series=msgspec.convert(series, list[Period])))

    @get(
        "/cohorts",
        operation_id="analyticsCohorts",
        summary="Monthly retention cohorts by first visit",
        responses=problems(400, 401, 403, 422, 429, 503) | json_or_csv(Cohorts),
    )
    async def cohorts(
        self,
        request: HTTPRequest,
        principal: Caller,
        live_projections: Projections,
        settings: Configuration,
        from_: Annotated[
            str | None, QueryParameter(name="from", required=False, pattern=MONTH)
        ] = None,
        to: Annotated[str | None, QueryParameter(required=False, pattern=MONTH)] = None,
        consistency_token: Token = None,
    ) -> HTTPResponse:
        """Cohorts `from`..`to` (months; default: the last 24); `Accept: text/csv`."""
        today = utc_now().date()
        last = _month("to", to) if to else f"{today:%Y-%m}"
        year, month = int(last[:4]), int(last[5:7])
        default_first = f"{year - 2 + (month // 12):04d}-{month % 12 + 1:02d}"
        first = _month("from", from_) if from_ else default_first
        _ordered(first, last)
        found = await _documents(
            principal,
            live_projections,
            settings,
            COHORTS,
            COHORTS_KEY,
            consistency_token,
            exact=True,
        )
        cohorts = found[0].doc if found else {}
        rows = cohort_table(cohorts, first, last)
        if _wants_csv(request):
            return Response(cohorts_csv(rows), media_type="text/csv")
        return Response(Cohorts(cohorts=msgspec.convert(rows, list[Cohort])))
