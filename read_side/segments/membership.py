"""Whether a customer's read-model document belongs to a segment at a given moment.

Membership moves only with the customer's events and with the age of the last visit
(`lastVisitWithinDays`, `noVisitWithinDays`): `contactableFor` asks whether the customer may be
contacted for the purpose on some channel at all, leaving quiet hours (a time of day, which
would make every such segment change hourly) to the moment of sending; the campaign export,
which answers "whom may I send to now", applies them (`contactable`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from read_side.contactability import contactability
from read_side.search.text import attribute_text, customer_words, parse_text, phone_forms
from read_side.views import CustomerDoc
from shared.clock import iso_utc
from shared.segment_filter import SegmentFilter


def matches(spec: SegmentFilter, doc: CustomerDoc, now: datetime) -> bool:
    """True when every key of the filter holds for `doc` at `now` (AND)."""
    return (
        doc.get("state") == (spec.state or "active")
        and _profile(spec, doc)
        and _visits(spec, doc, now)
        and _spend(spec, doc)
        and (spec.contactable_for is None or _reachable(doc, spec.contactable_for, now))
    )


def _reachable(doc: CustomerDoc, purpose: str, now: datetime) -> bool:
    preferences = doc.get("preferences")
    if isinstance(preferences, dict) and preferences.get("quietHours"):
        doc = {**doc, "preferences": {**preferences, "quietHours": None}}
    return contactable(doc, purpose, now)


def _profile(spec: SegmentFilter, doc: CustomerDoc) -> bool:
    """Each key checked only when the filter has it (a projection runs this for every segment
    of every customer change), cheapest first."""
    if spec.type is not None and doc.get("type") != spec.type:
        return False
    if spec.has_email is not None and bool(doc.get("email")) != spec.has_email:
        return False
    if spec.has_phone is not None and bool(doc.get("phone")) != spec.has_phone:
        return False
    if spec.tier is not None and doc.get("tier") != spec.tier:
        return False
    if spec.tags and not set(spec.tags) <= set(doc.get("tags") or ()):
        return False
    created = str(doc.get("createdAt") or "")
    if spec.created_from is not None and created < spec.created_from:
        return False
    if spec.created_to is not None and created > spec.created_to:
        return False
    if spec.consent is not None:
        consents = doc.get("consents") or {}
        if not (consents.get(spec.consent) or {}).get("granted"):
            return False
    if spec.attrs:
        attributes = doc.get("attributes") or {}
        if not all(
            key in attributes and attribute_text(attributes[key]) == value
            for key, value in spec.attrs
        ):
            return False
    return spec.q is None or _text_matches(spec.q, doc)


def _text_matches(q: str, doc: CustomerDoc) -> bool:
    """`q` as `GET /customers` reads it: every word prefixes a name or email word; a run of 3+
    digits starts or ends the phone's digits."""
    parsed = _parsed(q)
    if parsed.empty:
        return True
    known = customer_words(doc)
    if not all(any(word.startswith(w) for word in known) for w in parsed.words):
        return False
    forms = phone_forms(doc.get("phone"))
    return all(any(f.startswith(d) or f.endswith(d) for f in forms) for d in parsed.digits)


def _visits(spec: SegmentFilter, doc: CustomerDoc, now: datetime) -> bool:
    count = int(doc.get("visitCount") or 0)
    last = doc.get("lastVisitAt")
    if spec.visit_count_min is not None and count < spec.visit_count_min:
        return False
    if spec.visit_count_max is not None and count > spec.visit_count_max:
        return False
    if spec.last_visit_within_days is not None:
        since = _since(now, spec.last_visit_within_days)
        if last is None or str(last) < since:
            return False
    if spec.no_visit_within_days is not None:
        since = _since(now, spec.no_visit_within_days)
        if last is not None and str(last) >= since:
            return False
    return True


@lru_cache(maxsize=256)
def _since(now: datetime, days: int) -> str:
    """`now - days` as the documents store times (the same few per batch: cached)."""
    return iso_utc(now - timedelta(days=days))


_parsed = lru_cache(maxsize=256)(parse_text)


def _spend(spec: SegmentFilter, doc: CustomerDoc) -> bool:
    wanted = spec.total_spent_min
    if wanted is None:
        return True
    return total_spent(doc, wanted.currency) >= wanted.amount


def total_spent(doc: CustomerDoc, currency: str) -> int:
    """Minor units of `currency` the customer paid and was not refunded."""
    return sum(
        int(payment.get("amount") or 0)
        for payment in (doc.get("payments") or {}).values()
        if payment.get("status") == "succeeded" and payment.get("currency") == currency
    )


def contactable(doc: CustomerDoc, purpose: str, now: datetime) -> bool:
    """Contactable for `purpose` on at least one channel now, by the contract's rules
    (`read_side.contactability`: state, address, channel enabled, bounces, consent for a
    marketing purpose, quiet hours)."""
    channels = contactability(doc, purpose, now).channels
    return any(answer.allowed for answer in (channels.email, channels.sms, channels.push))
