"""Hostile bodies and headers: always a 4xx problem, never a 500, never a stored event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from tests.e2e.conftest import PROFILES, Headers, profile_settings, stored_position

Client = TestClient[Litestar]


@pytest.fixture(scope="module", params=PROFILES)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    """One app per profile for the whole module (an app per test started 100 of them): each
    test checks its own request against the stored position before it, and whatever the
    earlier hostile requests did, the app must still answer these."""
    name = "t" + uuid.uuid4().hex[:12]
    data_dir = tmp_path_factory.mktemp("hostile")
    with TestClient(create_app(profile_settings(request, request.param, data_dir, name))) as app:
        yield app


HOSTILE_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"{",
    b'{"firstName": "Ann",}',
    b'{"firstName": ' + b'"' + b"A" * 200_000 + b'"}',
    b'{"notes": "' + b"x" * 900_000 + b'"}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"attributes": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"}",
    b'{"firstName": "A\\u0000nn"}',
    b'{"firstName": "\\ud800"}',
    b'{"firstName": 1}',
    b'{"tags": [1, 2]}',
    b'{"tags": "vip"}',
    b'{"attributes": {"k": [1]}}',
    b'{"attributes": {"k": null}}',
    b'{"attributes": {"k": 1e400}}',
    b'{"attributes": {"k": 123456789012345678901234567890}}',
    b'{"email": {"$ne": null}}',
    b'{"firstName": "Ann", "isAdmin": true}',
    b'{"firstName": "Ann", "__proto__": {}}',
    b'{"type": null, "firstName": "Ann"}',
    b'{"phone": "+1' + b"9" * 5000 + b'"}',
    b'{"dateOfBirth": "9999-99-99", "firstName": "A"}',
    b'{"firstName": "\xff\xfe"}',
    b"\xef\xbb\xbf{}",
    b'{"tags": [' + b'"t",' * 10_000 + b'"t"]}',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_body_is_a_client_error_and_stores_nothing(
    client: Client, auth: Callable[..., Headers], body: bytes
) -> None:
    before = stored_position(client)
    response = client.post(
        "/customers", content=body, headers=auth() | {"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert stored_position(client) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Match": '"' + "9" * 50 + '"'},
        {"If-Match": 'W/"abc"'},
        {"Idempotency-Key": "k" * 300},
        {"X-Request-ID": "../../etc/passwd\n"},
        {"Content-Type": "text/plain"},
    ],
)
def test_hostile_headers_do_not_cause_server_errors(
    client: Client, auth: Callable[..., Headers], headers: Headers
) -> None:
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()
    response = client.put(
        f"/customers/{created['id']}", json={"notes": "x"}, headers=auth() | headers
    )
    assert response.status_code < 500


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "firstName",
        "lastName",
        "email",
        "phone",
        "phoneRegion",
        "dateOfBirth",
        "notes",
        "tags",
        "attributes",
        "type",
        "other",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(field_names, json_values, max_size=6))
def test_random_bodies_never_cause_a_server_error(
    client: Client, auth: Callable[..., Headers], body: dict[str, object]
) -> None:
    response = client.post("/customers", json=body, headers=auth())
    assert response.status_code in (201, 400, 409, 422), response.text[:300]
