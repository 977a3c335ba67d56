"""The analytics answers, pure: the overview series per day, week or month over the daily
documents, the cohort table over the cohorts document, and their CSV forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from read_side.analytics.cohorts import month_offset
from read_side.analytics.overview import DAY_PREFIX
from read_side.projections.store import KeyedDocument
from shared.json_types import JSONObject

INTERVALS = ("day", "week", "month")


def period_of(day: date, interval: str) -> str:
    """The period a day falls in: the day, the Monday of its ISO week, or `YYYY-MM`."""
    if interval == "month":
        return f"{day:%Y-%m}"
    if interval == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.isoformat()


def periods(start: date, end: date, interval: str) -> list[str]:
    """Every period from the one holding `start` to the one holding `end`, in order."""
    found: list[str] = []
    day = start
    while day <= end:
        label = period_of(day, interval)
        if not found or found[-1] != label:
            found.append(label)
        day += timedelta(days=1)
    return found


def empty_period(period: str) -> JSONObject:
    """A period with nothing in it (every key present, so clients need no defaults)."""
    return {
        "period": period,
        "newCustomers": {"total": 0, "byType": {}},
        "visits": {"firstTime": 0, "returning": 0},
        "revenue": {},
        "refunds": {},
        "erasures": 0,
        "consents": {},
    }


def _add(target: dict[str, int], source: dict[str, int]) -> None:
    for key, value in source.items():
        target[key] = target.get(key, 0) + int(value)


def add_day(entry: JSONObject, day: JSONObject) -> None:
    """Add one day's document (see `read_side.analytics.overview`) to a period's entry."""
    by_type = day.get("newCustomers", {})
    _add(entry["newCustomers"]["byType"], by_type)
    entry["newCustomers"]["total"] += sum(int(v) for v in by_type.values())
    _add(entry["visits"], day.get("visits", {}))
    _add(entry["revenue"], day.get("revenue", {}))
    _add(entry["refunds"], day.get("refunds", {}))
    entry["erasures"] += int(day.get("erasures", 0))
    for purpose, counts in day.get("consents", {}).items():
        _add(entry["consents"].setdefault(purpose, {"granted": 0, "withdrawn": 0}), counts)


def overview_series(
    days: Iterable[KeyedDocument], start: date, end: date, interval: str
) -> list[JSONObject]:
    """The series from `start` to `end` (inclusive, UTC days) per `interval`."""
    labels: dict[str, str] = {}  # day -> its period, every day of the range
    day = start
    while day <= end:
        labels[day.isoformat()] = period_of(day, interval)
        day += timedelta(days=1)
    series = {label: empty_period(label) for label in dict.fromkeys(labels.values())}
    cut = len(DAY_PREFIX)
    for item in days:
        label = labels.get(item.key[cut:])
        if label is not None:
            add_day(series[label], item.doc)
    return list(series.values())


def cohort_table(cohorts: JSONObject, first: str, last: str) -> list[JSONObject]:
    """Cohorts from month `first` to `last` (`YYYY-MM`): size, and for each month from the
    cohort's to `last` the share of the cohort that visited then (4 decimals)."""
    rows: list[JSONObject] = []
    for cohort in sorted(key for key in cohorts if first <= key <= last):
        entry = cohorts[cohort]
        size = int(entry.get("size", 0))
        if size <= 0:
            continue
        active = entry.get("active", {})
        months = month_offset(cohort, last) + 1
        retained = [round(int(active.get(str(k), 0)) / size, 4) for k in range(months)]
        rows.append({"cohort": cohort, "size": size, "retained": retained})
    return rows


def _flatten(prefix: str, value: object, into: dict[str, object]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, into)
    else:
        into[prefix] = value


def overview_csv(series: Sequence[JSONObject]) -> str:
    """One row per period; a column per leaf (`revenue.EUR`, `consents.push.granted`, …);
    a leaf absent from a period is 0."""
    rows: list[dict[str, object]] = []
    for entry in series:
        flat: dict[str, object] = {}
        _flatten("", entry, flat)
        rows.append(flat)
    columns = ["period", *sorted({c for row in rows for c in row} - {"period"})]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval=0, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def cohorts_csv(rows: Sequence[JSONObject]) -> str:
    """`cohort,size,m0,m1,…`; a month past a cohort's last is empty."""
    width = max((len(row["retained"]) for row in rows), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cohort", "size", *(f"m{k}" for k in range(width))])
    for row in rows:
        writer.writerow([row["cohort"], row["size"], *row["retained"]])
    return out.getvalue()
