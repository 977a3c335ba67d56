"""Consent purposes and their legal bases (GDPR Art. 6)."""

from __future__ import annotations

import re

from shared.errors import FieldErrors
from shared.events.values import Consent
from write_side.domain import values

LEGAL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


def normalize_consent(
    purpose: str, granted: bool, source: str | None, legal_basis: str | None
) -> Consent:
    """A validated consent record; `ValidationFailed` names every bad field."""
    errors = FieldErrors()
    if not _PURPOSE.match(purpose):
        errors.add("purpose", "must be lower_snake_case, 2-50 characters (e.g. marketing_email)")
    basis = legal_basis or "consent"
    if basis not in LEGAL_BASES:
        errors.add("legalBasis", f"must be one of {', '.join(LEGAL_BASES)}")
    clean_source = None
    if source is not None:
        try:
            clean_source = values.normalize_text(source, max_length=100)
        except values.InvalidValue as error:
            errors.add("source", str(error))
    errors.raise_if_any("Invalid consent.")
    return Consent(granted=granted, source=clean_source, legal_basis=basis)
