"""Parsing the Range header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ostiary.errors import BadRequest
from ostiary.web.api.ranges import parse_range


def test_defaults_without_a_header() -> None:
    parsed = parse_range(None, ("id", "name"), "id")
    assert (parsed.attribute, parsed.start, parsed.max, parsed.descending) == (
        "id",
        None,
        200,
        False,
    )


def test_full_form() -> None:
    parsed = parse_range("name ]app-7..app-9; order=desc, max=50", ("id", "name"), "id")
    assert parsed.attribute == "name"
    assert (parsed.start, parsed.start_exclusive, parsed.end) == ("app-7", True, "app-9")
    assert (parsed.max, parsed.descending) == (50, True)


def test_config_set_form() -> None:
    parsed = parse_range("version ..; order=desc,max=1", ("version", "id"), "version")
    assert (parsed.max, parsed.descending) == (1, True)


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_is_a_bad_request(text: str) -> None:
    try:
        parsed = parse_range(text, ("id", "name"), "id")
    except BadRequest:
        return
    assert parsed.attribute in ("id", "name")
    assert 1 <= parsed.max <= 1000


@pytest.mark.parametrize(
    "header", ["id", "id ..; max=-1", "id ..; max=1e3", "id ..; order=sideways"]
)
def test_malformed(header: str) -> None:
    with pytest.raises(BadRequest):
        parse_range(header, ("id",), "id")
