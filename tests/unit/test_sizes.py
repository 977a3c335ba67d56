"""The owner's size limits, checked: no Python file over 300 lines, no function over 60.

A long file or function is hard to read in review and grows by accretion; this test reads every
module of the product, its tests, benchmarks and examples with `ast` (nothing is imported or
run) and fails naming each file and function over its limit. A function's length runs from its `def` line to its last line (decorators and
the docstring count, as a reader sees them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Every directory of Python the project keeps: the product, its tests, its benchmarks and
#: examples (a 70-line test is as hard to review as a 70-line handler).
PACKAGES = (
    "shared", "write_side", "read_side", "projectors", "entrypoints",
    "tests", "benchmarks", "examples", "scripts",
)  # fmt: skip
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60


def product_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def long_functions(source: str, limit: int) -> Iterator[tuple[str, int]]:
    """(qualified name, lines) of every function or method longer than `limit` lines."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                lines = (child.end_lineno or child.lineno) - first + 1
                if lines > limit:
                    yield name.rstrip("."), lines
            yield from walk(child, name)

    yield from walk(ast.parse(source), "")


def test_no_product_file_is_over_300_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in product_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert too_long == {}


def test_no_product_function_is_over_60_lines() -> None:
    too_long = {
        f"{path.relative_to(ROOT)}:{name}": lines
        for path in product_files()
        for name, lines in long_functions(path.read_text(encoding="utf-8"), MAX_FUNCTION_LINES)
    }
    assert too_long == {}


def test_the_checks_can_fail() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    source = (
        f"class A:\n    @staticmethod\n    def long():\n{body}\n    def short():\n        pass\n"
    )
    source = source.replace("\n    x", "\n        x")
    assert list(long_functions(source, MAX_FUNCTION_LINES)) == [("A.long", 62)]
    assert list(long_functions(source, 62)) == []
