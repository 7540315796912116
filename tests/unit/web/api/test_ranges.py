"""Parsing the Range header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ostiary.errors import BadRequest
from ostiary.web.api.ranges import encode_value, parse_range


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


@pytest.mark.parametrize(
    "header",
    [
        "id ..; max=\u00b2",  # a digit to str.isdigit, not to int()
        "id ..; max=99999999999999999999",
        "name %00..",  # NUL reaches no query
        "name ]a%00b..",
    ],
)
def test_lookalike_numbers_and_nul_are_refused(header: str) -> None:
    with pytest.raises(BadRequest):
        parse_range(header, ("id", "name"), "id")


# Header text as Starlette hands it over: any bytes, decoded as latin-1.
header_text = st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))


@given(st.one_of(st.text(max_size=60), header_text))
def test_any_header_text_parses_or_is_a_bad_request(text: str) -> None:
    for attribute in ("id", "name", "version"):
        try:
            parsed = parse_range(f"{attribute} {text}", ("id", "name", "version"), "id")
        except BadRequest:
            continue
        assert parsed.start is None or "\x00" not in parsed.start
        assert parsed.end is None or "\x00" not in parsed.end


@given(st.text(min_size=1, max_size=40).filter(lambda value: "\x00" not in value))
def test_encoded_values_fit_a_header_and_come_back_unchanged(value: str) -> None:
    encoded = encode_value(value)
    encoded.encode("ascii")  # latin-1 safe, and more
    assert all(0x21 <= ord(char) <= 0x7E for char in encoded)
    assert ".." not in encoded
    assert ";" not in encoded
    assert "," not in encoded
    # What a client sends back when it follows Next-Range.
    parsed = parse_range(f"name ]{encoded}..; max=5", ("id", "name"), "id")
    assert parsed.start == value
    assert parsed.start_exclusive


def test_ids_and_versions_are_not_encoded() -> None:
    assert encode_value("01234567-89ab-cdef-0123-456789abcdef") == (
        "01234567-89ab-cdef-0123-456789abcdef"
    )
    assert encode_value("42") == "42"


def test_a_client_sending_raw_utf8_is_read_as_utf8() -> None:
    raw = "name ]日本..".encode().decode("latin-1")  # how Starlette decodes the header bytes
    assert parse_range(raw, ("name",), "name").start == "日本"
