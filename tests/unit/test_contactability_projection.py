"""Contactability read from its own projection answers exactly what it answers from the whole
customer document: Hypothesis drives command sequences (profile changes, consents, preferences,
bounces, deletion, erasure) through the aggregate, folds the events both ways and compares the
answers for every purpose at times inside and outside quiet hours."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from projectors.envelopes import to_envelope
from read_side.contactability import contactability
from read_side.contactability_projection import ContactabilityProjection
from read_side.events import EventEnvelope
from read_side.projections.fold import fold
from read_side.views import evolve
from shared.engagement import default_preferences
from shared.errors import Conflict, NotFound, ValidationFailed, VersionMismatch
from write_side.domain import engagement
from write_side.domain.customer import Customer
from write_side.domain.engagement import Communication
from write_side.domain.profile import CustomerType

TOPIC = "write_side.domain.customer:Customer."
PURPOSES = ("marketing_email", "marketing_sms", "push", "order_confirmation")
MOMENTS = [
    datetime(2026, month, 15, hour, 30, tzinfo=UTC) for month in (1, 7) for hour in (3, 12, 22)
]


def _preferences(channel: str | None, quiet: bool, zone: str | None) -> Any:
    preferences = default_preferences() | {"timezone": zone, "language": "en"}
    if channel is not None:
        preferences["channels"] = {**preferences["channels"], channel: {"enabled": False}}
    if quiet:
        preferences["quietHours"] = {"start": "22:00", "end": "07:00"}
    return lambda c: engagement.change_preferences(c, actor="bob", preferences=preferences)


def _communication(channel: str, status: str, bounce: str | None, other: bool = False) -> Any:
    sent = Communication(
        f"m-{channel}-{status}-{bounce}-{other}", "notification", channel, "outbound", "invoice",
        None, "t", status, bounce, "2026-01-01T00:00:00Z", other_address=other,
    )  # fmt: skip
    return lambda c: engagement.record_communication(c, actor="n", communication=sent)


def _consent(purpose: str, granted: bool) -> Any:
    consent = {"granted": granted, "source": "web", "legalBasis": "consent"}
    return lambda c: c.change_consent(actor="bob", purpose=purpose, consent=consent)


def _update(changes: dict[str, Any]) -> Any:
    return lambda c: c.update(actor="bob", changes=changes, customer_type=None)


commands = st.one_of(
    st.builds(
        _update,
        st.fixed_dictionaries(
            {},
            optional={
                "email": st.sampled_from(["a@example.com", "b@example.org", None]),
                "phone": st.sampled_from(["+442079460055", None]),
                "lastName": st.just("Lee"),
            },
        ),
    ),
    st.builds(_consent, st.sampled_from(PURPOSES[:3]), st.booleans()),
    st.builds(
        _preferences,
        st.sampled_from([None, "email", "sms", "push"]),
        st.booleans(),
        st.sampled_from([None, "Europe/Paris", "America/New_York"]),
    ),
    st.builds(
        _communication,
        st.sampled_from(["email", "sms"]),
        st.sampled_from(["sent", "bounced"]),
        st.sampled_from([None, "hard", "soft"]),
        st.booleans(),  # a merged source's other address
    ),
    st.just(lambda c: c.delete(actor="bob", reason="asked")),
    st.just(lambda c: c.restore(actor="bob", reason=None)),
    st.just(lambda c: c.erase(actor="dpo", reason="gdpr")),
)


def _envelopes(profile: dict[str, Any], sequence: list[Any]) -> list[EventEnvelope]:
    customer = Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW, profile=profile
    )
    for command in sequence:
        with suppress(Conflict, VersionMismatch, ValidationFailed, NotFound):
            command(customer)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    envelopes = []
    for position, event in enumerate(customer.collect_events(), start=1):
        object.__setattr__(event, "timestamp", start + timedelta(seconds=position))
        envelopes.append(to_envelope(event, TOPIC + type(event).__name__, position))
    return envelopes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([{"firstName": "Ann", "email": "a@example.com"}, {"phone": "+14155552671"}]),
    st.lists(commands, max_size=10),
)
@example(  # a hard bounce, then a new address: deliverable again
    {"email": "a@example.com"},
    [_communication("email", "bounced", "hard"), _update({"email": "b@example.org"})],
)
@example(  # quiet hours in a zone, consent withdrawn after it was granted, then deleted
    {"phone": "+14155552671"},
    [
        _preferences("email", True, "America/New_York"),
        _consent("marketing_sms", True),
        _consent("push", True),
        _consent("push", False),
        lambda c: c.delete(actor="bob", reason=None),
    ],
)
def test_the_projection_answers_as_the_customer_document_does(
    profile: dict[str, Any], sequence: list[Any]
) -> None:
    envelopes = _envelopes(profile, sequence)
    view: Any = None
    for envelope in envelopes:
        view = evolve(view, envelope)
    projection = ContactabilityProjection()
    documents = fold(projection, [e for e in envelopes if e.type in projection.events], {})
    contact = documents[("acme", envelopes[0].customer_id)].doc
    for purpose in PURPOSES:
        for moment in MOMENTS:
            assert contactability(contact, purpose, moment) == contactability(
                view, purpose, moment
            ), (purpose, moment, contact)


def test_the_document_holds_no_address_and_erasure_empties_it() -> None:
    envelopes = _envelopes(
        {"email": "ann@example.com", "phone": "+14155552671"},
        [_preferences(None, True, "Europe/Paris"), lambda c: c.erase(actor="dpo", reason="x")],
    )
    projection = ContactabilityProjection()
    before = fold(projection, envelopes[:-1], {})[("acme", envelopes[0].customer_id)].doc
    assert "ann@example.com" not in str(before) and before["email"] is True
    assert before["preferences"]["timezone"] == "Europe/Paris"
    after = fold(projection, envelopes, {})[("acme", envelopes[0].customer_id)].doc
    assert after["state"] == "erased" and after["preferences"]["timezone"] is None
    assert after["email"] is False and after["phone"] is False


def test_only_a_hard_bounce_of_the_own_email_reaches_the_document() -> None:
    """A sender reports a thousand statuses a second: the others load and write nothing."""
    envelopes = _envelopes(
        {"email": "a@example.com"},
        [_communication("email", "sent", None), _communication("email", "bounced", "soft"),
         _communication("email", "bounced", "hard", other=True),
         _communication("email", "bounced", "hard")],
    )  # fmt: skip
    projection = ContactabilityProjection()
    assert [list(projection.keys(e)) == [] for e in envelopes[1:]] == [True, True, True, False]
