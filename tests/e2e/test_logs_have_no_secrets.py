"""Structured logs: JSON lines with request context, and never a secret or a personal value.

The app runs with `configure_logging` (the entrypoints' set-up) writing to a captured stderr, at
the default level (INFO; `CUSTOMERS_LOG_LEVEL`), on every profile. The test sends
commands and queries with bearer tokens, an Idempotency-Key, bodies and query strings full of
emails and phones, and bad tokens; then every captured line must parse as JSON, each response
must have exactly one access-log line with its request id, status, tenant and actor, and no
line may contain the token, the signing secret, the master key, the Idempotency-Key or any
personal value that was sent.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt
import pytest
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.logs import configure_logging
from shared.settings import Settings
from tests.e2e.conftest import SECRET

MASTER_KEY = "master-key-Qx7Vb2LmZp9Rt4Wk8Ns3Hd6Fj1Gc5Ye0"
IDEMPOTENCY_KEY = "idem-Hq3Zr8Lp2Xw7Mv5Kt1Bn9Cs4"
TENANT = "acme-logs"
SUBJECT = "logger-alice"

PERSON: dict[str, str] = {
    "type": "regular",
    "firstName": "Zebulon",
    "lastName": "Quillfeather",
    "email": "Zebulon.Quill@Example-Logs.COM",
    "phone": "(415) 555-2671",
    "dateOfBirth": "1983-07-19",
    "notes": "prefers the window table by the aquarium",
}
NEW_EMAIL = "zq.second@example-logs.com"
NEW_PHONE = "+442071838750"
ATTENDEE: dict[str, str] = {"firstName": "Philippa", "email": "philippa.attendee@example-logs.com",
            "phone": "+14155550123"}  # fmt: skip
BILLING: dict[str, Any] = {"name": "Quillfeather Holdings", "email": "billing.quill@example-logs.com",
           "taxId": "DE813495425", "address": {"line1": "17 Lantern Row", "city": "Gothenburg",
           "postalCode": "41301", "country": "SE"}}  # fmt: skip
INVALID_EMAIL = "quill-not-an-address@@example-logs"

PERSONAL_VALUES: list[str] = [
    PERSON["firstName"], PERSON["lastName"], PERSON["email"], PERSON["notes"],
    PERSON["dateOfBirth"], "+14155552671", "4155552671", "555-2671",
    NEW_EMAIL, NEW_PHONE, "2071838750",
    ATTENDEE["firstName"], ATTENDEE["email"], ATTENDEE["phone"], "4155550123",
    BILLING["name"], BILLING["email"], BILLING["taxId"], "Lantern Row",
    INVALID_EMAIL, "Zebulon.Quill", "zq.second", "philippa.attendee", "billing.quill",
]  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """One request's response and the identity the access log must name (None: unauthenticated)."""

    response: httpx.Response
    actor: str | None


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """`configure_logging` with stderr captured; the logging set-up is restored after."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_converter = logging.Formatter.converter
    uvicorn = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error")
    }
    access_disabled = logging.getLogger("uvicorn.access").disabled
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", stream)
        configure_logging(Settings().log_level)
    # The test's own HTTP client logs the URLs it requests: that is not the app's log.
    monkeypatch.setattr(logging.getLogger("httpx"), "disabled", True)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.Formatter.converter = saved_converter
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
        logging.getLogger("uvicorn.access").disabled = access_disabled


def token_for(role: str = "admin", *, secret: str = SECRET, ttl: int = 600) -> str:
    return mint_token(secret, tenant=TENANT, roles=[role], subject=SUBJECT, ttl_seconds=ttl)


def send_everything(client: TestClient[Any], token: str) -> list[Sent]:
    """Commands, queries and refusals that carry secrets and personal data."""
    bearer = {"Authorization": f"Bearer {token}"}
    idempotent = bearer | {"Idempotency-Key": IDEMPOTENCY_KEY}
    sent: list[Sent] = []

    def call(method: str, url: str, *, actor: str | None = SUBJECT, **kwargs: Any) -> Any:
        response = client.request(method, url, **kwargs)
        sent.append(Sent(response, actor))
        return response

    first = idempotent | {"X-Request-ID": "req-create-1"}
    created = call("POST", "/customers", json=PERSON, headers=first)
    assert created.status_code == 201, created.text
    customer = f"/customers/{created.json()['id']}"
    replayed = call("POST", "/customers", json=PERSON, headers=idempotent)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    other_body = PERSON | {"notes": "another body"}
    assert call("POST", "/customers", json=other_body, headers=idempotent).status_code == 422
    duplicate = PERSON | {"firstName": "Other"}
    assert call("POST", "/customers", json=duplicate, headers=bearer).status_code == 409
    invalid = {"firstName": "Zebulon", "email": INVALID_EMAIL, "phone": "+1 415 555 26711"}
    assert call("POST", "/customers", json=invalid, headers=bearer).status_code == 422
    changes = {"email": NEW_EMAIL, "phone": NEW_PHONE}
    patched = call("PATCH", customer, json=changes, headers=bearer | {"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    token_header = {"X-Consistency-Token": patched.headers["X-Consistency-Token"]}
    assert call("GET", customer, headers=bearer | token_header).status_code == 200
    search = {"email": NEW_EMAIL, "phone": NEW_PHONE, "q": "Zebulon Quillfeather"}
    found = call("GET", "/customers", params=search, headers=bearer | token_header)
    assert found.status_code == 200 and found.json()["total"] == 1, found.text
    order = {"orderId": "order-logs-1", "placedAt": "2024-05-01T10:00:00Z",
             "attendees": [ATTENDEE, {"email": NEW_EMAIL}]}  # fmt: skip
    assert call("POST", "/customers/attendees", json=order, headers=bearer).status_code == 200
    billed = call("PUT", f"{customer}/billing", json=BILLING, headers=bearer)
    assert billed.status_code == 200, billed.text
    assert call("GET", f"{customer}/history", headers=bearer).status_code == 200
    assert call("GET", f"{customer}/export", headers=bearer).status_code == 200

    forbidden = {"Authorization": f"Bearer {token_for('viewer')}"}
    assert call("POST", "/customers", json=PERSON, headers=forbidden).status_code == 403
    wrong_secret = token_for(secret="another-secret-of-at-least-32-bytes-length!")
    expired = jwt.encode(
        {"sub": SUBJECT, "tenant": TENANT, "roles": ["admin"], "exp": int(time.time()) - 60},
        SECRET,
        algorithm="HS256",
    )
    for bad in (f"Bearer {wrong_secret}", f"Bearer {expired}", f"Bearer {token}x", token, ""):
        headers = {"Authorization": bad} if bad else {}
        refused = call("POST", "/customers", actor=None, json=PERSON, headers=headers)
        assert refused.status_code == 401, refused.text
    return sent


def forbidden_strings(token: str) -> list[str]:
    """Secrets and their recognisable pieces; each must be absent from every log line."""
    _, payload, signature = token.split(".")
    return [
        token, payload, signature, f"Bearer {token}", SECRET, MASTER_KEY, IDEMPOTENCY_KEY,
        token_for(secret="another-secret-of-at-least-32-bytes-length!").split(".")[2],
    ]  # fmt: skip


def test_logs_are_json_with_context_and_carry_no_secrets_or_personal_data(
    settings: Settings, log_stream: io.StringIO
) -> None:
    token = token_for()
    with TestClient(create_app(replace(settings, master_key=MASTER_KEY))) as client:
        sent = send_everything(client, token)
    lines = log_stream.getvalue().splitlines()
    assert lines, "nothing was logged"

    entries = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object
        assert isinstance(entry, dict), line
        assert {"ts", "level", "logger", "msg", "requestId", "tenant", "actor"} <= entry.keys()
        entries.append(entry)

    access = {e["requestId"]: e for e in entries if e["logger"] == "customers.access"}
    assert len(access) == len([e for e in entries if e["logger"] == "customers.access"])
    assert sent[0].response.headers["X-Request-ID"] == "req-create-1"
    for item in sent:
        request_id = item.response.headers.get("X-Request-ID")
        assert request_id, f"no X-Request-ID on a {item.response.status_code}"
        logged = access.pop(request_id)
        assert logged["status"] == item.response.status_code, logged
        assert logged["path"] == item.response.request.url.path
        expected = (TENANT, item.actor) if item.actor else (None, None)
        assert (logged["tenant"], logged["actor"]) == expected, logged
    assert not access, f"access lines of requests not sent: {list(access.values())}"

    text = "\n".join(lines)
    lowered = text.lower()
    for secret in forbidden_strings(token):
        assert secret not in text, f"a secret is logged: {secret[:12]}..."
    assert "bearer " not in lowered
    for value in PERSONAL_VALUES:
        assert value.lower() not in lowered, f"a personal value is logged: {value}"
