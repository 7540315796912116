"""Parsing a request body as JSON: every unusable body is a 422, never an exception."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ostiary.errors import InvalidParams
from ostiary.web.json_body import parse_json_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"description": "\xff\xfe"}',
        b'{"description": "a\\u0000b"}',
        b'{"description": "\\ud800"}',
        b'{"a\\u0000": 1}',
        b'[[[{"deep": "\\udfff"}]]]',
        b"not json",
        b"",
    ],
)
def test_unusable_bodies_are_invalid_params(raw: bytes) -> None:
    with pytest.raises(InvalidParams) as raised:
        parse_json_body(raw)
    assert raised.value.code == "invalid_params"


def test_the_field_holding_a_nul_is_named() -> None:
    with pytest.raises(InvalidParams) as raised:
        parse_json_body(b'{"client": {"name": "a\\u0000"}}')
    assert raised.value.field == "client.name"


@given(json_values)
def test_storable_documents_come_back_unchanged(value: object) -> None:
    raw = json.dumps(value).encode()
    try:
        parsed = parse_json_body(raw)
    except InvalidParams:
        assert "\\u0000" in raw.decode() or "\\ud" in raw.decode()
        return
    assert parsed == value


@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_invalid_params(raw: bytes) -> None:
    with contextlib.suppress(InvalidParams):
        parse_json_body(raw)
