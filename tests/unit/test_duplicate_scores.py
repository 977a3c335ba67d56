"""Duplicate scoring (pure): given two customers, then this score and these reasons."""

from __future__ import annotations

from read_side.duplicates import candidate_keys, rank, score, similarity
from read_side.search.match_keys import match_keys
from read_side.views import CustomerDoc


def doc(cid: str, **fields: object) -> CustomerDoc:
    return {"id": cid, "tenantId": "acme", "state": "active", **fields}


ZOE = doc("a", firstName="Zoë", lastName="Lee", email="zoe.lee@example.com",
          phone="+14155552671", dateOfBirth="1990-01-02")  # fmt: skip


def test_each_reason() -> None:
    assert score(ZOE, doc("b", phone="+14155552671")) == (0.6, ["same_phone"])
    assert score(ZOE, doc("b", email="Zoe.Lee@other.org"))[1] == ["same_email_local_part"]
    assert score(ZOE, doc("b", email="zoe.lee@example.com"))[1] == []  # same address: not this
    assert score(ZOE, doc("b", firstName="zoe", lastName="LEE")) == (0.5, ["similar_name"])
    assert score(ZOE, doc("b", firstName="Lee", lastName="Zoe"))[1] == ["similar_name"]
    assert score(ZOE, doc("b", dateOfBirth="1990-01-02")) == (0.0, [])  # alone: nothing


def test_evidence_adds_up_and_stays_within_one() -> None:
    every = doc("b", firstName="Zoe", lastName="Lee", email="zoe.lee@mail.net",
                phone="+14155552671", dateOfBirth="1990-01-02")  # fmt: skip
    value, reasons = score(ZOE, every)
    assert reasons == ["same_phone", "same_email_local_part", "similar_name", "same_birth_date"]
    assert 0.9 < value <= 1.0
    assert score(ZOE, doc("b", phone="+14155552671", firstName="Zoe", lastName="Lee"))[0] > 0.6


def test_spelling_variants_are_similar_and_strangers_are_not() -> None:
    assert similarity("jon smith", "john smith") >= 0.6
    assert similarity("ann lee", "bob stone") < 0.2
    assert score(doc("x", firstName="Ann", lastName="Lee"), doc("y", firstName="Bob"))[1] == []


def test_rank_orders_best_first_without_self_deleted_or_weak() -> None:
    found = rank(ZOE, [
        ZOE,
        doc("c", firstName="Zoe", lastName="Lee"),
        doc("b", phone="+14155552671", firstName="Zoe", lastName="Lee"),
        doc("d", phone="+14155552671", state="deleted"),
        doc("e", firstName="Zed", lastName="Loo"),
    ])  # fmt: skip
    assert [item["customerId"] for item in found] == ["b", "c"]


def test_candidates_come_from_phone_local_part_and_names() -> None:
    assert candidate_keys(ZOE) == [
        "p\x1f+14155552671", "l\x1fzoe.lee", "n\x1flee zoe", "s\x1flee",
    ]  # fmt: skip
    transposed = doc("b", firstName="LEE", lastName="Zoé", state="deleted")
    assert "n\x1flee zoe" in candidate_keys(transposed)  # a deleted one asks too


def test_only_active_customers_are_filed_under_match_keys() -> None:
    assert match_keys(ZOE) and match_keys(doc("c", firstName="Ann")) == {"n\x1fann"}
    assert match_keys({**ZOE, "state": "merged"}) == frozenset()
