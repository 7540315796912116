"""Validate responses against Heroku's published Platform API schema (tests/data)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_PATH = Path(__file__).parent.parent / "data" / "heroku-platform-api-schema.json"


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return schema


@cache
def _validator(definition: str) -> Draft4Validator:
    root = _schema()
    registry: Registry[Any] = Registry().with_resource(
        "urn:heroku", Resource.from_contents(root, default_specification=DRAFT4)
    )
    return Draft4Validator({"$ref": f"urn:heroku#/definitions/{definition}"}, registry=registry)


def assert_matches_heroku(
    definition: str, instance: Any, *, absent: frozenset[str] = frozenset()
) -> None:
    """The instance validates against the definition and carries every property it lists but
    ``absent`` (properties Heroku itself leaves out in that case), which it must not carry."""
    errors = sorted(_validator(definition).iter_errors(instance), key=str)
    assert not errors, f"{definition}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]
    )
    assert not absent & set(instance), f"{definition} carries {sorted(absent & set(instance))}"
    listed = set(_schema()["definitions"][definition].get("properties", {})) - absent
    missing = listed - set(instance)
    assert not missing, f"{definition} lacks properties {sorted(missing)}"
