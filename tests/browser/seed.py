"""Customers the browser tests find: created through the public API, like an operator would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.harness import ConsoleServer

PEOPLE = [
    ("Ada", "Lovelace", "ada@example.com", "+442079460000"),
    ("Alan", "Turing", "alan@example.com", None),
    ("Grace", "Hopper", "grace@example.com", "+14155552671"),
    ("Edsger", "Dijkstra", "edsger@example.com", None),
]


def api(console: ConsoleServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {console.token()}"}
    return httpx.Client(base_url=console.url, headers=headers, timeout=30)


def seed(console: ConsoleServer) -> dict[str, str]:
    """{first name: id}; each with one visit, Ada with a paid order ready to invoice."""
    ids: dict[str, str] = {}
    with api(console) as client:
        for first, last, email, phone in PEOPLE:
            body: dict[str, Any] = {"type": "regular", "firstName": first, "lastName": last,
                                    "email": email, "phone": phone}  # fmt: skip
            response = client.post("/customers", json=body)
            assert response.status_code == 201, response.text
            ids[first] = response.json()["id"]
        order = {"orderId": "ord-1", "placedAt": "2026-11-20T10:00:00Z",
                 "attendees": [{"firstName": "Ada", "lastName": "Lovelace",
                                "email": "ada@example.com"}]}  # fmt: skip
        assert client.post("/customers/attendees", json=order).status_code == 200
        program = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0, "expiryDays": 365,
                   "tiers": [{"name": "silver", "minPoints": 0}, {"name": "gold", "minPoints": 40}]}  # fmt: skip
        assert client.put("/loyalty/program", json=program).status_code == 200
        console.pay(ids["Ada"], "pay-1", 4200)
        consent = {"granted": True, "source": "signup form", "legalBasis": "consent"}
        path = f"/customers/{ids['Ada']}/consents/marketing_email"
        response = client.put(path, json=consent)
        assert response.status_code == 200, response.text
        # Wait until the projections show every write, so the console finds them.
        token = {"X-Consistency-Token": response.headers["X-Consistency-Token"]}
        assert client.get("/customers", headers=token).status_code == 200
    return ids
