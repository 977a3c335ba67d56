"""The import file reader: physical line numbers, per-line errors, header checks, cells read
as the API reads a body (given a file, when read, then these rows and errors)."""

from __future__ import annotations

import io

import pytest

from write_side.imports.rows import (
    MAX_LINE_BYTES,
    BadFile,
    Row,
    RowError,
    check_start,
    csv_rows,
    ndjson_rows,
)


def read_csv(text: str | bytes) -> list[Row | RowError]:
    data = text.encode() if isinstance(text, str) else text
    return list(csv_rows(io.BytesIO(data)))


def errors(items: list[Row | RowError]) -> list[tuple[int, str]]:
    return [(item.line, item.field) for item in items if isinstance(item, RowError)]


def test_cells_become_fields_and_lines_are_physical() -> None:
    rows = read_csv(
        "externalId,firstName,notes,tags,attributes\r\n"
        'e-1,Ann,"two\nlines",vip;gold,"{""tier"": 2}"\r\n'
        "\r\n"
        'e-2,Bob,,["a"],\n'
    )
    assert [item.line for item in rows] == [2, 5]
    first, second = rows
    assert isinstance(first, Row) and isinstance(second, Row)
    assert first.data.fields == {
        "externalId": "e-1", "firstName": "Ann", "notes": "two\nlines",
        "tags": ["vip", "gold"], "attributes": {"tier": 2},
    }  # fmt: skip
    assert second.data.fields == {"externalId": "e-2", "firstName": "Bob", "tags": ["a"]}


def test_export_escapes_and_read_only_columns_are_undone() -> None:
    rows = read_csv("id,state,firstName,phone,version\nx,active,'=SUM(1),'+14155552671,3\n")
    row = rows[0]
    assert isinstance(row, Row)
    assert row.data.fields == {"firstName": "=SUM(1)", "phone": "+14155552671"}


def test_bad_rows_fail_alone_with_their_line() -> None:
    rows = read_csv(
        "firstName,email,attributes\n"
        "Ann,a@example.com,\n"
        "Bob;b@example.com;\n"  # another delimiter: one cell
        "Cy,c@example.com,[1]\n"
        "Ed,e@example.com,\n"
    )
    assert errors(rows) == [(3, "line"), (4, "attributes")]
    raw = b"firstName,email\nAnn,a@example.com\nD\xe9,d@example.com\nEd,e@example.com\n"
    assert errors(read_csv(raw)) == [(3, "line")]
    assert [item.line for item in read_csv(raw) if isinstance(item, Row)] == [2, 4]


def test_an_overlong_line_is_skipped_without_being_held() -> None:
    long_line = b"x" * (MAX_LINE_BYTES * 4) + b",a@example.com\n"
    data = b"firstName,email\n" + long_line + b"Ann,a@example.com\n"
    rows = read_csv(data)
    assert errors(rows) == [(2, "line")]
    assert isinstance(rows[1], Row) and rows[1].line == 3


def test_types_are_checked_like_a_request_body() -> None:
    items = list(ndjson_rows(io.BytesIO(
        b'{"firstName": "Ann", "externalId": "e-1"}\n'
        b'{"firstName": 5}\n'
        b'{"firstName": "B", "nickname": "x"}\n'
        b"[1, 2]\n"
        b"not json\n"
        b"\n"
        b'{"firstName": "C", "id": "ignored", "tags": ["t"]}\n'
    )))  # fmt: skip
    assert errors(items) == [(2, "firstName"), (3, "nickname"), (4, "line"), (5, "line")]
    last = items[-1]
    assert isinstance(last, Row) and last.line == 7
    assert last.data.fields == {"firstName": "C", "tags": ["t"]}


@pytest.mark.parametrize(
    ("first", "field"),
    [
        (b"", "body"),
        (b"Ann,Lee,ann@example.com\n", "header"),  # data where the header should be
        (b"firstName,shoeSize\n", "header"),
        (b"firstName,firstName\n", "header"),
        (b"\xff\xfef\x00i\x00r\x00\n", "header"),  # UTF-16
        (None, "header"),  # a header line too long to read
        ("\r\u00d3\u00d4".encode(), "header"),  # a bare CR the csv module refuses (fuzzing: 500)
        (b"firstName\remail\n", "header"),
    ],
)
def test_files_that_cannot_be_imported(first: bytes | None, field: str) -> None:
    with pytest.raises(BadFile) as refused:
        check_start("csv", first)
    assert refused.value.field == field


def test_a_bom_and_other_delimiters_in_the_header() -> None:
    check_start("csv", b"\xef\xbb\xbffirstName;email\n")
    rows = read_csv(b"\xef\xbb\xbffirstName;email\nAnn;a@example.com\n")
    assert isinstance(rows[0], Row) and rows[0].data.fields["email"] == "a@example.com"
