"""`GET /customers/{id}/duplicates`: likely duplicates from the search index, best first."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
Auth = Callable[..., dict[str, str]]


def test_suggestions_with_scores_and_reasons(client: Client, auth: Auth) -> None:
    staff = auth("staff")

    def create(**fields: object) -> str:
        response = client.post("/customers", json=fields, headers=staff)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    zoe = create(firstName="Zoë", lastName="Lee", email="zoe.lee@example.com",
                 phone="+14155552671", dateOfBirth="1990-01-02")  # fmt: skip
    same_phone = create(firstName="Z", lastName="L", phone="+14155552671")
    other_domain = create(firstName="Zed", email="zoe.lee@mail.example.org")
    transposed = create(firstName="Lee", lastName="Zoe", dateOfBirth="1990-01-02")
    create(firstName="Bob", lastName="Stone", phone="+14155550123")
    deleted = create(firstName="Zoe", lastName="Lee")
    response = client.delete(f"/customers/{deleted}", headers=auth("admin"))
    token = response.headers["X-Consistency-Token"]

    found = client.get(
        f"/customers/{zoe}/duplicates", headers=auth("viewer") | {"X-Consistency-Token": token}
    )
    assert found.status_code == 200, found.text
    items = found.json()
    by_id = {item["customerId"]: item for item in items}
    assert set(by_id) == {same_phone, other_domain, transposed}
    assert by_id[same_phone]["reasons"] == ["same_phone"]
    assert by_id[other_domain]["reasons"] == ["same_email_local_part"]
    assert by_id[transposed]["reasons"] == ["similar_name", "same_birth_date"]
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_unknown_and_other_tenants_customers_are_404(client: Client, auth: Auth) -> None:
    made = client.post("/customers", json={"firstName": "Ann"}, headers=auth("staff")).json()
    other = auth("viewer", tenant="globex")
    assert client.get(f"/customers/{made['id']}/duplicates", headers=other).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/customers/{missing}/duplicates", headers=auth()).status_code == 404
