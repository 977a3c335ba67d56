"""Analytics are exact: the overview and the cohorts equal the same numbers computed by brute
force from the stored events, per day, week and month; they keep their numbers when a
customer is erased (the erasure is counted, nothing is subtracted), also after a rebuild; they
hold no personal value; JSON and CSV agree."""

from __future__ import annotations

import functools
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from projectors.envelopes import EventLog
from read_side.events import EventEnvelope
from shared.clock import iso_utc
from shared.principal import Principal, Role
from tests.e2e.conftest import Headers, stored_position
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
TODAY = date.today()


def events_of(client: Client, tenant: str) -> list[EventEnvelope]:
    log: EventLog = client.app.state.runtime.log
    found: list[EventEnvelope] = []
    position = 0
    while True:
        batch = log.read(position, 1000)
        if batch.last_position == position:
            return [e for e in found if e.tenant_id == tenant]
        found += batch.envelopes
        position = batch.last_position


def brute_overview(events: list[EventEnvelope], interval: str) -> dict[str, Any]:
    """Every number of the overview, straight from the events (independent of the projection)."""
    table: dict[str, Any] = defaultdict(lambda: defaultdict(int))
    for e in events:
        if e.type == "customer.visit_recorded":
            day, what = (
                e.data["placed_at"][:10],
                "firstTime" if e.data["first_time"] else "returning",
            )
            table[day][f"visits.{what}"] += 1
        elif e.type == "customer.payment_recorded":
            p = e.data["payment"]
            kind = {"succeeded": "revenue", "refunded": "refunds"}.get(p["status"])
            if kind:
                table[p["at"][:10]][f"{kind}.{p['currency']}"] += p["amount"]
        elif e.type == "customer.created":
            table[iso_utc(e.occurred_at)[:10]][
                f"newCustomers.byType.{e.data['customer_type']}"
            ] += 1
            table[iso_utc(e.occurred_at)[:10]]["newCustomers.total"] += 1
        elif e.type == "customer.erased":
            table[iso_utc(e.occurred_at)[:10]]["erasures"] += 1
        elif e.type == "customer.consent_changed":
            what = "granted" if e.data["consent"]["granted"] else "withdrawn"
            table[iso_utc(e.occurred_at)[:10]][f"consents.{e.data['purpose']}.{what}"] += 1
    periods: dict[str, Any] = defaultdict(lambda: defaultdict(int))
    for day, counts in table.items():
        moment = date.fromisoformat(day)
        period = {"day": day, "month": day[:7],
                  "week": (moment - timedelta(days=moment.weekday())).isoformat()}[interval]  # fmt: skip
        for key, value in counts.items():
            periods[period][key] += value
    return {period: dict(counts) for period, counts in periods.items()}


def flat(series: list[dict[str, Any]]) -> dict[str, Any]:
    """The API's series as {period: {dotted key: non-zero number}}."""
    result: dict[str, Any] = {}
    for entry in series:
        leaves: dict[str, int] = {}
        walk("", {k: v for k, v in entry.items() if k != "period"}, leaves)
        if leaves:
            result[entry["period"]] = leaves
    return result


def walk(prefix: str, value: Any, leaves: dict[str, int]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            walk(f"{prefix}.{key}" if prefix else key, inner, leaves)
    elif value:
        leaves[prefix] = value


def brute_cohorts(events: list[EventEnvelope], last: str) -> list[dict[str, Any]]:
    months: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.type == "customer.visit_recorded":
            months[e.customer_id].add(e.data["placed_at"][:7])
    cohorts: dict[str, list[set[str]]] = defaultdict(list)
    for visited in months.values():
        cohorts[min(visited)].append(visited)
    rows = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        span = (int(last[:4]) - int(cohort[:4])) * 12 + int(last[5:]) - int(cohort[5:]) + 1
        shares = []
        for k in range(span):
            year, month = divmod(int(cohort[:4]) * 12 + int(cohort[5:]) - 1 + k, 12)
            label = f"{year:04d}-{month + 1:02d}"
            shares.append(round(sum(label in m for m in members) / len(members), 4))
        rows.append({"cohort": cohort, "size": len(members), "retained": shares})
    return rows


def fill(client: Client, auth: Callable[..., Headers], seed: int = 13) -> list[str]:
    """Customers of every type, orders over two years, payments and refunds in two currencies,
    consents granted and withdrawn; returns the customer ids."""
    rng = random.Random(seed)
    ids = []
    for index in range(12):
        kind = rng.choice(["regular", "new", "unregistered", "anonymous"])
        body: dict[str, Any] = {"type": kind, "firstName": f"F{index}", "lastName": "L"}
        if kind == "regular":
            body["email"] = f"r{index}@example.com"
        created = client.post("/customers", json=body, headers=auth())
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
    for number in range(40):
        placed = TODAY - timedelta(days=rng.randrange(0, 700))
        email = f"guest{rng.randrange(15)}@example.com"
        order = {"orderId": f"o{number}", "placedAt": f"{placed}T12:00:00Z",
                 "attendees": [{"firstName": "G", "email": email}]}  # fmt: skip
        result = client.post("/customers/attendees", json=order, headers=auth())
        assert result.status_code == 200, result.text
        customer = result.json()["results"][0]["customerId"]
        ids.append(customer)
        currency = rng.choice(["EUR", "USD"])
        for status in ["succeeded", *(["refunded"] if rng.random() < 0.3 else [])]:
            payment = {"paymentId": f"p{number}", "orderId": f"o{number}", "amount": rng.randrange(100, 9000),
                       "currency": currency, "status": status, "at": f"{placed}T13:00:00.000Z", "method": "card"}  # fmt: skip
            record = functools.partial(
                runtime.commerce.record_payment, meta, payment, customer_id=customer, payer=None
            )
            client.blocking_portal.call(record)
    for customer in rng.sample(sorted(set(ids)), 6):
        for granted in (True, False):
            consent = {"granted": granted, "source": "web", "legalBasis": "consent"}
            purpose = rng.choice(["marketing_email", "push"])
            assert client.put(
                f"/customers/{customer}/consents/{purpose}", json=consent, headers=auth()
            ).is_success
    return sorted(set(ids))


def answers(client: Client, auth: Callable[..., Headers]) -> dict[str, Any]:
    headers = auth("analyst") | {"X-Consistency-Token": str(stored_position(client))}
    start = (TODAY - timedelta(days=720)).isoformat()
    found = {}
    for interval in ("day", "week", "month"):
        params = {"from": start, "to": TODAY.isoformat(), "interval": interval}
        response = client.get("/analytics/overview", params=params, headers=headers)
        assert response.status_code == 200, response.text
        found[interval] = flat(response.json()["series"])
    first = (TODAY - timedelta(days=720)).strftime("%Y-%m")
    cohorts = client.get(
        "/analytics/cohorts", params={"from": first, "to": f"{TODAY:%Y-%m}"}, headers=headers
    )
    assert cohorts.status_code == 200, cohorts.text
    found["cohorts"] = cohorts.json()["cohorts"]
    return found


def expected(client: Client) -> dict[str, Any]:
    events = events_of(client, "acme")
    found: dict[str, Any] = {i: brute_overview(events, i) for i in ("day", "week", "month")}
    found["cohorts"] = brute_cohorts(events, f"{TODAY:%Y-%m}")
    return found


def test_analytics_equal_brute_force_and_survive_erasure_and_rebuild(
    client: Client, auth: Callable[..., Headers]
) -> None:
    ids = fill(client, auth)
    before = answers(client, auth)
    assert before == expected(client)
    assert sum(row["size"] for row in before["cohorts"]) >= 10  # most of the 15 guests visited
    for customer in ids[:3]:
        assert client.post(f"/customers/{customer}/erase", headers=auth()).status_code == 200
    after = answers(client, auth)
    assert after == expected(client)
    today = TODAY.isoformat()
    assert after["day"][today].pop("erasures") == 3 + before["day"].get(today, {}).pop(
        "erasures", 0
    )
    assert after["day"] == before["day"] and after["cohorts"] == before["cohorts"]
    until_no_rebuild(client, auth)  # the backfill at start-up may still be finishing
    for name in ("analytics_overview", "analytics_cohorts"):
        started = client.post(f"/admin/projections/{name}/rebuild", headers=auth())
        assert started.status_code == 202, started.text
    until_no_rebuild(client, auth)
    assert answers(client, auth) == expected(client)


def until_no_rebuild(client: Client, auth: Callable[..., Headers]) -> None:
    deadline = time.monotonic() + 60
    while any(
        row["rebuild"] for row in client.get("/admin/projections", headers=auth()).json()["items"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_csv_has_the_json_numbers_and_no_personal_value(
    client: Client, auth: Callable[..., Headers]
) -> None:
    fill(client, auth, seed=5)
    headers = auth("analyst") | {"X-Consistency-Token": str(stored_position(client))}
    params = {"from": (TODAY - timedelta(days=720)).isoformat(), "interval": "month"}
    as_json = client.get("/analytics/overview", params=params, headers=headers).json()["series"]
    as_csv = client.get(
        "/analytics/overview", params=params, headers=headers | {"Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.strip().splitlines()
    header = lines[0].split(",")
    assert header[0] == "period" and len(lines) == len(as_json) + 1
    for entry, line in zip(as_json, lines[1:], strict=True):
        row = dict(zip(header, line.split(","), strict=True))
        assert row["period"] == entry["period"]
        assert int(row["visits.firstTime"]) == entry["visits"]["firstTime"]
        assert int(row.get("revenue.EUR", 0)) == entry["revenue"].get("EUR", 0)
    cohorts = client.get("/analytics/cohorts", headers=headers | {"Accept": "text/csv"})
    assert cohorts.text.startswith("cohort,size,m0")
    everything = str(as_json) + as_csv.text + cohorts.text
    documents = client.get("/projections/analytics_cohorts/documents", headers=headers).text
    for needle in ("@example.com", "guest", "F1"):
        assert needle not in everything + documents


def test_bad_ranges_are_refused_and_other_tenants_see_nothing(
    client: Client, auth: Callable[..., Headers]
) -> None:
    analyst = auth("analyst")
    assert (
        client.get(
            "/analytics/overview", params={"from": "2026-13-01"}, headers=analyst
        ).status_code
        == 422  # the pattern holds, the calendar refuses it
    )
    assert (
        client.get(
            "/analytics/overview", params={"from": "2026-02-30"}, headers=analyst
        ).status_code
        == 422  # a pattern-valid day the calendar refuses
    )
    assert (
        client.get("/analytics/overview", params={"interval": "year"}, headers=analyst).status_code
        == 400
    )
    wrong = {"from": "2026-05-01", "to": "2026-04-01"}
    assert client.get("/analytics/overview", params=wrong, headers=analyst).status_code == 422
    assert (
        client.get("/analytics/cohorts", params={"from": "2026-5"}, headers=analyst).status_code
        == 400
    )
    assert (
        client.get("/analytics/cohorts", params={"from": "2026-13"}, headers=analyst).status_code
        == 422  # a pattern-valid month the calendar refuses
    )
    assert client.get("/analytics/overview", headers=auth("viewer")).status_code == 403
    fill(client, auth, seed=3)
    other = auth("analyst", tenant="globex") | {"X-Consistency-Token": str(stored_position(client))}
    series = client.get(
        "/analytics/overview", params={"interval": "month", "from": "2025-01-01"}, headers=other
    )
    assert flat(series.json()["series"]) == {}
    assert client.get("/analytics/cohorts", headers=other).json() == {"cohorts": []}
