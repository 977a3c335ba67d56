"""Preferences, notes and communications as given / when / then."""

from __future__ import annotations

import pytest

from shared.engagement import default_preferences
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.unit.decider_spec import History, given, when
from write_side.domain import engagement
from write_side.domain.engagement import Communication
from write_side.domain.preferences import merge_patch, patched_preferences


def bounce(
    status: str = "bounced", bounce_type: str | None = "hard", cid: str = "n-1"
) -> Communication:
    return Communication(
        cid, "notification", "email", "outbound", "invoice", None, "tpl", status, bounce_type,
        "2026-03-01T10:00:00Z",
    )  # fmt: skip


def test_a_merge_patch_changes_only_what_it_names() -> None:
    current = default_preferences() | {"language": "en", "timezone": "Europe/Paris"}
    merged = patched_preferences(
        current, {"channels": {"sms": {"enabled": False}}, "language": None}
    )
    assert merged["language"] is None and merged["timezone"] == "Europe/Paris"
    assert merged["channels"] == {
        "email": {"enabled": True}, "sms": {"enabled": False}, "push": {"enabled": True}
    }  # fmt: skip
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"language": "english!"}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"quietHours": {"start": "22:00"}}, "quietHours.end"),
        ({"quietHours": {"start": "22:00", "end": "22:00"}}, "quietHours"),
        ({"paymentMethod": {"brand": "visa"}}, "paymentMethod.type"),
    ],
)
def test_a_patch_that_leaves_the_document_wrong_is_refused_naming_the_field(
    patch: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        patched_preferences(default_preferences(), patch)
    assert field in [error.field for error in refused.value.errors]


def test_language_tags_are_normalised_to_bcp47_case() -> None:
    merged = patched_preferences(default_preferences(), {"language": "zh-hant-tw"})
    assert merged["language"] == "zh-Hant-TW"


def test_the_same_preferences_again_record_nothing() -> None:
    preferences = patched_preferences(default_preferences(), {"language": "fr-CA"})
    customer = given(History().created(firstName="Ann"))
    when(customer, lambda c: engagement.change_preferences(c, actor="a", preferences=preferences)).then(
        ("PreferencesChanged", {"preferences": preferences})
    )  # fmt: skip
    when(
        customer, lambda c: engagement.change_preferences(c, actor="a", preferences=preferences)
    ).then_nothing()


def test_a_deleted_customer_takes_no_preferences_or_notes() -> None:
    customer = given(History().created(firstName="Ann").then_("Deleted", reason=None))
    prefs = default_preferences()
    when(
        customer, lambda c: engagement.change_preferences(c, actor="a", preferences=prefs)
    ).then_error(Conflict)
    when(customer, lambda c: engagement.add_note(c, actor="a", note_id="n", text="x")).then_error(
        Conflict
    )


def test_a_note_is_deleted_by_its_author_or_a_manager_only_once() -> None:
    history = History().created(firstName="Ann").then_("NoteAdded", note_id="n-1", text="called")
    customer = given(history)  # the note's author is "alice" (the History actor)
    when(
        customer,
        lambda c: engagement.delete_note(c, actor="bob", note_id="n-1", may_delete_any=False),
    ).then_error(Forbidden)
    when(customer, lambda c: engagement.delete_note(c, actor="bob", note_id="n-1", may_delete_any=True)).then(
        ("NoteDeleted", {"note_id": "n-1", "actor": "bob"})
    )  # fmt: skip
    when(
        customer,
        lambda c: engagement.delete_note(c, actor="alice", note_id="n-1", may_delete_any=True),
    ).then_error(NotFound)


def test_a_communication_is_recorded_once_per_id_and_status() -> None:
    customer = given(History().created(email="ann@example.com"))
    sent = bounce("sent", None)
    when(customer, lambda c: engagement.record_communication(c, actor="n", communication=sent)).then(
        ("CommunicationRecorded", {"status": "sent", "communication_id": "n-1"})
    )  # fmt: skip
    again = when(
        customer, lambda c: engagement.record_communication(c, actor="n", communication=sent)
    )
    assert again.then_nothing().result is False
    when(customer, lambda c: engagement.record_communication(c, actor="n", communication=bounce())).then(
        ("CommunicationRecorded", {"status": "bounced"})
    )  # fmt: skip


def test_a_hard_bounce_holds_until_the_email_changes() -> None:
    customer = given(History().created(email="ann@example.com"))
    when(
        customer,
        lambda c: engagement.record_communication(
            c, actor="n", communication=bounce("bounced", "soft", "s")
        ),
    )
    assert customer.email_deliverable is True  # a soft bounce is not the address's fault
    when(customer, lambda c: engagement.record_communication(c, actor="n", communication=bounce()))
    assert customer.email_deliverable is False
    when(
        customer,
        lambda c: c.update(actor="a", changes={"phone": "+14155552671"}, customer_type=None),
    )
    assert customer.email_deliverable is False
    when(
        customer,
        lambda c: c.update(actor="a", changes={"email": "ann@new.example"}, customer_type=None),
    )
    assert customer.email_deliverable is True


def test_an_erased_customer_records_no_communication_and_keeps_no_note_text() -> None:
    history = History().created(firstName="Ann").then_("NoteAdded", note_id="n-1", text="called")
    customer = given(history.then_("Erased", reason=None))
    assert customer.note_items["n-1"]["text"] is None
    assert customer.preferences == default_preferences()
    when(
        customer, lambda c: engagement.record_communication(c, actor="n", communication=bounce())
    ).then_error(Conflict)
