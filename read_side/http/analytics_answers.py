"""The JSON answers of `GET /analytics/overview` and `GET /analytics/cohorts`, typed so the
OpenAPI document states them exactly (the queries build plain dicts; the controller converts
them here, which also checks their shape)."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class NewCustomers(msgspec.Struct, rename="camel", kw_only=True):
    """Customers created in the period, in total and per customer type."""

    total: int
    by_type: dict[str, int]


class Visits(msgspec.Struct, rename="camel", kw_only=True):
    """Visits in the period: a customer's first one, and later ones."""

    first_time: int
    returning: int


class ConsentCounts(msgspec.Struct, kw_only=True):
    """Consents granted and withdrawn in the period, for one purpose."""

    granted: int
    withdrawn: int


class Period(msgspec.Struct, rename="camel", kw_only=True):
    """One period of the overview; money in minor units per currency code."""

    period: str
    new_customers: NewCustomers
    visits: Visits
    revenue: dict[str, int]
    refunds: dict[str, int]
    erasures: int
    consents: dict[str, ConsentCounts]


class Overview(msgspec.Struct, kw_only=True):
    """`{series: [period]}`; every period of the range is present."""

    series: list[Period]


class Cohort(msgspec.Struct, kw_only=True):
    """A month's cohort (customers by first visit): its size and, for each month from its own
    on, the share of it that visited then (4 decimals)."""

    cohort: str
    size: int
    retained: list[float]


class Cohorts(msgspec.Struct, kw_only=True):
    """`{cohorts: [cohort]}`, oldest first."""

    cohorts: list[Cohort]


def json_or_csv(answer: type[msgspec.Struct]) -> dict[int, ResponseSpec]:
    """The 200 answer as the document states it: `answer` as JSON (the handler returns a
    `Response`, as it also answers CSV when `Accept: text/csv` asks for it)."""
    return {
        200: ResponseSpec(
            data_container=answer,
            description="As JSON, or as CSV with `Accept: text/csv`.",
            generate_examples=False,
        )
    }
