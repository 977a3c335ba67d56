"""Every error the layers below HTTP raise has one HTTP answer, and the exceptions carry none."""

from __future__ import annotations

import shared.errors as errors
from shared.http.problems import PROBLEM_KINDS, problem_kind


def error_classes() -> list[type[errors.CustomerError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.CustomerError)
    ]


def test_every_error_class_is_mapped_explicitly() -> None:
    """A new error class must choose its status here, not inherit a 400 by accident."""
    unmapped = [cls.__name__ for cls in error_classes() if cls not in PROBLEM_KINDS]
    assert unmapped == ["CustomerError"]


def test_errors_carry_no_http_status() -> None:
    for cls in error_classes():
        assert not {"status", "title", "type_slug"} & set(vars(cls)), cls.__name__


def test_statuses_of_the_contract() -> None:
    expected = {
        errors.MalformedRequest: 400,
        errors.NotFound: 404,
        errors.Conflict: 409,
        errors.VersionMismatch: 412,
        errors.ValidationFailed: 422,
        errors.IdempotencyMismatch: 422,
        errors.ServiceUnavailable: 503,
    }
    assert {cls: problem_kind(cls("x")).status for cls in expected} == expected


def test_a_subclass_answers_as_its_mapped_base() -> None:
    class Gone(errors.NotFound):
        pass

    assert problem_kind(Gone("x")).slug == "not-found"


def test_configuration_problems_are_not_client_errors() -> None:
    assert not issubclass(errors.ConfigurationError, errors.CustomerError)
