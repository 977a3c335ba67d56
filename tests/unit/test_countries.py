"""Every country field takes officially assigned ISO 3166-1 alpha-2 codes only."""

from __future__ import annotations

import phonenumbers
import pytest

from shared.countries import ASSIGNED_COUNTRIES
from shared.errors import ConfigurationError, ValidationFailed
from shared.settings import Settings
from write_side.domain import values
from write_side.domain.billing import normalize_billing

NOT_COUNTRIES = ["XX", "ZZ", "AA", "QM", "XK", "AC", "TA", "UK", "EU", "AN", "YU", "001"]


def test_the_list_holds_the_249_assigned_codes() -> None:
    assert len(ASSIGNED_COUNTRIES) == 249
    assert {"GB", "DE", "FR", "US", "AQ", "SS", "BQ", "CW", "SX"} <= ASSIGNED_COUNTRIES
    assert ASSIGNED_COUNTRIES.isdisjoint(NOT_COUNTRIES)


@pytest.mark.parametrize("code", NOT_COUNTRIES)
def test_a_billing_address_refuses_codes_that_are_not_countries(code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        normalize_billing({"address": {"city": "Paris", "country": code}})
    assert [e.field for e in refused.value.errors] == ["address.country"]


@pytest.mark.parametrize("code", NOT_COUNTRIES)
def test_a_phone_region_refuses_codes_that_are_not_countries(code: str) -> None:
    with pytest.raises(values.InvalidValue):
        values.normalize_region(code)
    with pytest.raises(ConfigurationError, match="CUSTOMERS_DEFAULT_PHONE_REGION"):
        Settings.from_env({"CUSTOMERS_DEFAULT_PHONE_REGION": code})


def test_assigned_codes_are_accepted_in_any_case() -> None:
    billing = normalize_billing({"address": {"country": " gb "}})
    assert billing.address is not None and billing.address.country == "GB"
    for region in sorted(ASSIGNED_COUNTRIES & phonenumbers.SUPPORTED_REGIONS):
        assert values.normalize_region(region.lower()) == region


def test_a_blank_billing_text_is_refused_not_dropped() -> None:
    """`null` (or leaving the field out) empties it; a blank string is a mistake (422)."""
    for raw, field in (
        ({"name": ""}, "name"),
        ({"name": "Ann", "taxId": "  "}, "taxId"),
        ({"name": "Ann", "address": {"line1": "1 Main St", "line2": ""}}, "address.line2"),
        ({"email": ""}, "email"),
        ({"name": "Ann", "address": {}}, "address"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            normalize_billing(raw)
        assert [e.field for e in refused.value.errors] == [field]
    kept = normalize_billing({"name": "Ann", "taxId": None, "address": {"line1": "1 Main St"}})
    assert kept.tax_id is None
    assert kept.address is not None and kept.address.line2 is None
