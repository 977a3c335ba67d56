"""Every JSON success answer in the OpenAPI document has an exact schema.

A handler that returns a `dict` shows up in the document as `{}` or as an object with only
`additionalProperties`: a client generator then types the answer as "anything", and
schemathesis cannot check it. This test walks every 2xx JSON response, through `$ref`s, and
fails naming the operation and the place of any schema that is missing, empty, or an object
that names neither its properties nor the type of its values. The few places whose value is
any JSON by nature are listed, each with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.app import create_app
from entrypoints.openapi_document import document
from shared.json_types import JSONObject
from shared.settings import Settings

#: (component, property) → why any JSON value is right there.
OPEN_VALUES = {
    ("FieldChange", "from"): "a history change holds whatever the field held",
    ("FieldChange", "to"): "a history change holds whatever the field holds",
    ("ProjectionDocument", "value"): "an added projection's document is what that projection keeps",
    ("SegmentView", "filter"): "the filter as defined, in the contract's filter language",
}
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> JSONObject:
    data_dir: Path = tmp_path_factory.mktemp("responses") / "unused"
    return document(create_app(Settings(data_dir=data_dir, jwt_secret="x" * 40)))


def success_schemas(doc: JSONObject) -> Iterator[tuple[str, JSONObject | None]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                content = response.get("content")
                if content is None:
                    yield f"{method.upper()} {path} {status} (no content)", None
                    continue
                for media_type, media in content.items():
                    if "json" in media_type:
                        yield f"{method.upper()} {path} {status}", media.get("schema")


def loose_places(
    schema: JSONObject | None, where: str, components: JSONObject, seen: set[str]
) -> Iterator[str]:
    """Where under `schema` a value is untyped (`where`: component.property path)."""
    if schema is None:
        yield f"{where}: no schema"
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from loose_places(components[name], name, components, seen | {name})
        return
    choices = [*schema.get("oneOf", []), *schema.get("anyOf", []), *schema.get("allOf", [])]
    for index, choice in enumerate(choices):
        yield from loose_places(choice, f"{where}|{index}", components, seen)
    if choices:
        return
    if schema == {}:
        if tuple(where.rsplit(".", 1)) not in OPEN_VALUES:
            yield f"{where}: any value ({{}})"
        return
    if schema.get("type") == "array":
        yield from loose_places(schema.get("items"), f"{where}[]", components, seen)
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        values = schema.get("additionalProperties")
        if not properties and not values and tuple(where.rsplit(".", 1)) not in OPEN_VALUES:
            yield f"{where}: an object without properties or typed values"
        for name, value in properties.items():
            yield from loose_places(value, f"{where}.{name}", components, seen)
        if isinstance(values, dict) and values:
            yield from loose_places(values, f"{where}{{}}", components, seen)


def test_every_json_success_answer_has_an_exact_schema(served: JSONObject) -> None:
    components = served["components"]["schemas"]
    found = {
        operation: places
        for operation, schema in success_schemas(served)
        if (places := sorted(set(loose_places(schema, "$", components, set()))))
    }
    assert found == {}


def test_the_walk_finds_untyped_answers() -> None:
    """The check itself can fail: a dict answer, an empty schema and a bare object."""
    components = {"Page": {"type": "object", "properties": {"items": {"type": "object"}}}}
    assert list(loose_places({"additionalProperties": {}, "type": "object"}, "$", {}, set()))
    assert list(loose_places({}, "$", {}, set()))
    assert list(loose_places(None, "$", {}, set()))
    assert list(loose_places({"$ref": "#/components/schemas/Page"}, "$", components, set())) == [
        "Page.items: an object without properties or typed values"
    ]
    assert not list(loose_places({"type": "object", "properties": {"a": {"type": "string"}}},
                                 "$", {}, set()))  # fmt: skip
