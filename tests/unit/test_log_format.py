"""Log lines: JSON for machines, readable coloured lines for a person at a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.logs import (
    JsonFormatter,
    PrettyFormatter,
    request_id_var,
    resolve_format,
    tenant_var,
    wants_colour,
)
from shared.settings import Settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def access_record(status: int = 201) -> logging.LogRecord:
    record = logging.LogRecord("customers.access", logging.INFO, __file__, 1, "request", (), None)
    fields = {"method": "POST", "path": "/customers", "route": "/customers"}
    record.__dict__.update(fields | {"status": status, "durationMs": 12.345})
    return record


@pytest.fixture
def context() -> Iterator[None]:
    request, tenant = request_id_var.set("req-42"), tenant_var.set("acme")
    yield
    request_id_var.reset(request)
    tenant_var.reset(tenant)


def test_auto_is_pretty_on_a_terminal_and_json_elsewhere() -> None:
    assert resolve_format("auto", Terminal()) == "pretty"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("json", Terminal()) == "json"
    assert resolve_format("pretty", io.StringIO()) == "pretty"


def test_an_access_line_reads_method_path_status_latency_tenant_and_request_id(
    context: None,
) -> None:
    line = PrettyFormatter(colour=False).format(access_record())

    assert "POST /customers 201 12.3 ms" in line
    assert "tenant=acme" in line
    assert "req=req-42" in line
    assert "{" not in line and "\x1b" not in line


@pytest.mark.parametrize(("status", "colour"), [(201, "32"), (404, "33"), (503, "1;31")])
def test_the_status_is_coloured_by_its_class(context: None, status: int, colour: str) -> None:
    line = PrettyFormatter(colour=True).format(access_record(status))

    assert f"\x1b[{colour}m{status}\x1b[0m" in line


def test_other_records_show_logger_message_and_fields_with_secrets_redacted() -> None:
    record = logging.LogRecord("customers.x", logging.WARNING, __file__, 1, "hi %s", ("a",), None)
    record.__dict__.update({"count": 3, "authorization": "Bearer abc", "jwt_secret": "s3"})
    record.__dict__["color_message"] = "\x1b[36mhi\x1b[0m"

    line = PrettyFormatter(colour=False).format(record)
    entry = json.loads(JsonFormatter().format(record))

    assert "WARNING" in line and "customers.x: hi a" in line and "count=3" in line
    assert "abc" not in line and "s3" not in line
    assert entry["authorization"] == entry["jwt_secret"] == "[redacted]"
    assert "color_message" not in line and "color_message" not in entry


def test_no_colour_when_no_color_is_set_or_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert wants_colour(Terminal())
    assert not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(Terminal())


def test_the_format_comes_from_the_environment_and_a_bad_one_is_refused() -> None:
    assert Settings.from_env({"CUSTOMERS_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "auto"
    with pytest.raises(Exception, match="CUSTOMERS_LOG_FORMAT"):
        Settings.from_env({"CUSTOMERS_LOG_FORMAT": "xml"})
