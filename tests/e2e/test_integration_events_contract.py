"""Every outbound integration event type, produced by the real service, against the AsyncAPI
document: each message validates against its channel's payload schema and every key that the
service names (not a customer's own attribute keys) is camelCase."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import msgspec
import pytest
import yaml  # type: ignore[import-untyped]  # no stubs; the document is plain data
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from projectors.envelopes import EventLog
from shared.events.catalog import event_name
from shared.http.auth import mint_token
from shared.integration import (
    SCHEMA_VERSION,
    integration_event_name,
    is_published,
    to_integration_event,
)
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.decisions import CommandMeta
from write_side.domain.customer import Customer

ASYNCAPI = Path(__file__).parents[2] / "docs" / "asyncapi.yaml"
SECRET = "events-secret-with-at-least-32-bytes-of-entropy!"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
# Maps whose keys are data, not names the service chose: a customer's attributes.
DATA_KEYED = {"attributes"}


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    return loaded


def payload_validator(doc: dict[str, Any], channel: str) -> Any:
    """A JSON Schema validator for the payload of the message published on `channel`."""
    message = doc["channels"][channel]["subscribe"]["message"]
    name = message["$ref"].rsplit("/", 1)[-1]
    root = {k: v for k, v in doc.items() if k == "components"}
    root["$ref"] = f"#/components/messages/{name}/payload"
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def names(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every (path, key) of nested objects, skipping the keys of data-keyed maps."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key
            if key not in DATA_KEYED:
                yield from names(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from names(item, f"{path}[{index}]")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every outbound message for a customer that went through every kind of event."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("events"), jwt_secret=SECRET)
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="s", ttl_seconds=600)
    admin = {"Authorization": f"Bearer {token}"}
    with TestClient[Litestar](create_app(settings)) as client:
        drive_every_event(client, admin)
        log = EventLog(client.app.state.runtime.store)
        envelopes = log.read(0, 100_000).envelopes
    return [msgspec.to_builtins(to_integration_event(e)) for e in envelopes if is_published(e.type)]


def drive_every_event(client: TestClient[Litestar], admin: dict[str, str]) -> None:
    body = {"type": "regular", "firstName": "Ada", "lastName": "Lee", "email": "ada@example.com",
            "phone": "+14155552671", "tags": ["vip"], "dateOfBirth": "1990-01-02",
            "attributes": {"seat_row": 3, "beta": True}}  # fmt: skip
    ada = client.post("/customers", json=body, headers=admin).json()["id"]
    assert client.patch(f"/customers/{ada}", json={"notes": "n"}, headers=admin).is_success
    assert client.patch(f"/customers/{ada}", json={"type": "new"}, headers=admin).is_success
    billing = {"name": "Ada Lee", "taxId": "T-1", "address": {"line1": "1 Road", "city": "X",
               "postalCode": "12345", "country": "GB"}}  # fmt: skip
    assert client.put(f"/customers/{ada}/billing", json=billing, headers=admin).is_success
    consent = {"granted": True, "source": "kiosk"}
    assert client.put(f"/customers/{ada}/consents/marketing_email", json=consent,
                      headers=admin).is_success  # fmt: skip
    order = {"orderId": "o-1", "placedAt": "2026-11-20T10:00:00Z",
             "attendees": [{"email": "ada@example.com"}, {"firstName": "Bo", "phone": "+442071838750"}]}  # fmt: skip
    assert client.post("/customers/attendees", json=order, headers=admin).is_success
    program = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0, "tiers": [
        {"name": "Silver", "minPoints": 10}]}  # fmt: skip
    assert client.put("/loyalty/program", json=program, headers=admin).is_success
    drive_engagement(client, admin, ada)
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
    payment = {"paymentId": "p-1", "orderId": "o-1", "amount": 4200, "currency": "EUR",
               "status": "succeeded", "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip
    client.blocking_portal.call(
        lambda: runtime.commerce.record_payment(meta, payment, customer_id=ada, payer=None)
    )
    assert client.post(f"/customers/{ada}/invoices", headers=admin).status_code == 201
    client.blocking_portal.call(lambda: runtime.commerce.close_order(meta, "o-1", "completed"))
    bo = client.post("/customers", json={"firstName": "Cy", "email": "cy@example.com"},
                     headers=admin).json()["id"]  # fmt: skip
    assert client.delete(f"/customers/{bo}", params={"reason": "left"}, headers=admin).is_success
    assert client.post(f"/customers/{bo}/restore", headers=admin).is_success
    assert client.delete(f"/customers/{bo}", headers=admin).is_success
    erased = client.post(f"/customers/{bo}/erase", json={"reason": "asked"}, headers=admin)
    assert erased.is_success
    dee = client.post("/customers", json={"firstName": "Dee"}, headers=admin).json()["id"]
    for verb in ("merge", "unmerge"):
        moved = client.post(f"/customers/{ada}/{verb}", json={"sourceId": dee}, headers=admin)
        assert moved.is_success, moved.text


def drive_engagement(client: TestClient[Litestar], admin: dict[str, str], ada: str) -> None:
    """Preferences, a note added and deleted, a communication."""
    prefs = {"language": "en", "paymentMethod": {"type": "card", "brand": "visa", "last4": "4242"}}
    assert client.put(f"/customers/{ada}/preferences", json=prefs, headers=admin).is_success
    note = client.post(f"/customers/{ada}/notes", json={"text": "hi"}, headers=admin).json()
    assert client.delete(f"/customers/{ada}/notes/{note['id']}", headers=admin).is_success
    logged = {"channel": "email", "direction": "outbound", "purpose": "invoice"}
    assert client.post(f"/customers/{ada}/communications", json=logged, headers=admin).is_success


def every_public_event_type() -> set[str]:
    """The public name of every Customer event class, and of processed orders."""
    topics = {
        name for name, value in vars(Customer).items()
        if isinstance(value, type) and issubclass(value, Customer.Event)
        and name not in ("Event", "StateEvent")
    }  # fmt: skip
    internal = {event_name(f"write_side.domain.customer:Customer.{t}") for t in topics}
    return {integration_event_name(t) for t in internal} | {"customer.attendees_processed"}


def test_the_scenario_publishes_every_event_type(published: list[dict[str, Any]]) -> None:
    assert {m["type"] for m in published} == every_public_event_type()


def test_every_message_matches_its_asyncapi_schema(published: list[dict[str, Any]]) -> None:
    doc = document()
    for message in published:
        validator = payload_validator(doc, message["type"])
        errors = [str(e) for e in validator.iter_errors(message)]
        assert errors == [], (message["type"], message, errors)


def test_every_key_is_camel_case_and_versioned(published: list[dict[str, Any]]) -> None:
    for message in published:
        assert message["schemaVersion"] == SCHEMA_VERSION == 2
        bad = [(path, key) for path, key in names(message) if not CAMEL.match(key)]
        assert bad == [], (message["type"], bad)


def test_one_shape_per_event_type(published: list[dict[str, Any]]) -> None:
    """Every message of one type has the same `data` keys (no per-variant shapes)."""
    shapes: dict[str, set[frozenset[str]]] = {}
    for message in published:
        shapes.setdefault(message["type"], set()).add(frozenset(message["data"]))
    assert {t: len(s) for t, s in shapes.items() if len(s) > 1} == {}


def test_the_version_1_shapes_do_not_pass_as_version_2(published: list[dict[str, Any]]) -> None:
    """The check can fail: the old `{previous, to}` body, snake_case keys, no version."""
    doc = document()
    updated = next(m for m in published if m["type"] == "customer.updated")
    created = next(m for m in published if m["type"] == "customer.created")
    v1_type_change = updated | {"data": {"previous": "regular", "to": "new"}}
    snake = created | {"data": {"customer_type": "new", "profile": {}}}
    unversioned = {k: v for k, v in created.items() if k != "schemaVersion"}
    for message in (v1_type_change, snake, unversioned):
        assert not payload_validator(doc, message["type"]).is_valid(message)
    assert [k for _, k in names(snake) if not CAMEL.match(k)] == ["customer_type"]
