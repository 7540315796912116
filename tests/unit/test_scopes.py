"""Heroku's scopes (scopes.py): which scope a credential may grant, and which scope lists
a request may name. A token can never mint a wider one."""

from __future__ import annotations

import itertools

import pytest

from ostiary.errors import InvalidParams
from ostiary.scopes import ALL_SCOPES, IMPLIES, MEANINGS, covers, implied_by, parse_scopes

# Written out here rather than read from IMPLIES, so a change to the table fails a test.
EXPECTED = {
    "global": {
        "global",
        "identity",
        "read",
        "write",
        "read-protected",
        "write-protected",
        "create-apps",
    },
    "write-protected": {"write-protected", "write", "read-protected", "read"},
    "write": {"write", "read"},
    "read-protected": {"read-protected", "read"},
    "read": {"read"},
    "identity": {"identity"},
    "create-apps": {"create-apps"},
}


def test_the_known_scopes_are_herokus_seven() -> None:
    assert set(ALL_SCOPES) == set(EXPECTED) == set(MEANINGS)


@pytest.mark.parametrize("held", sorted(EXPECTED))
def test_what_each_scope_implies(held: str) -> None:
    assert implied_by([held]) == EXPECTED[held]
    assert IMPLIES[held] == EXPECTED[held]


PAIRS = sorted(itertools.product(EXPECTED, EXPECTED))


@pytest.mark.parametrize(("held", "requested"), PAIRS, ids=[f"{h}>{r}" for h, r in PAIRS])
def test_a_credential_grants_exactly_what_its_scope_implies(held: str, requested: str) -> None:
    assert covers([held], [requested]) is (requested in EXPECTED[held])


@pytest.mark.parametrize(
    ("held", "requested"),
    [
        (["read"], ["write"]),
        (["write"], ["read-protected"]),  # write does not reveal config vars
        (["read-protected"], ["write"]),
        (["identity"], ["read"]),
        (["create-apps"], ["write"]),
        (["write-protected"], ["global"]),
        (["write-protected"], ["identity"]),
        (["read", "identity"], ["read", "write"]),  # one scope too many refuses all
    ],
)
def test_no_token_can_widen_its_scope(held: list[str], requested: list[str]) -> None:
    assert not covers(held, requested)


def test_held_scopes_add_up() -> None:
    assert covers(["identity", "write"], ["identity", "read", "write"])
    assert covers(frozenset({"read-protected", "create-apps"}), ["create-apps", "read"])


def test_an_unknown_held_scope_implies_nothing() -> None:
    assert implied_by(["admin"]) == frozenset()
    assert not covers(["admin"], ["read"])
    assert not covers([], ["read"])


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("read", ["read"]),
        ("read write", ["read", "write"]),
        ("read,write", ["read", "write"]),
        (" identity ,\tread\n", ["identity", "read"]),
        (["write", "read"], ["write", "read"]),
        ([" global "], ["global"]),
        ("read read write read", ["read", "write"]),  # duplicates once, first order kept
    ],
)
def test_scope_lists_parse(value: object, parsed: list[str]) -> None:
    assert parse_scopes(value) == parsed


@pytest.mark.parametrize("value", ["", " , ", []])
def test_an_empty_scope_list_is_refused(value: object) -> None:
    with pytest.raises(InvalidParams, match="at least one scope") as refused:
        parse_scopes(value, field="scope")
    assert refused.value.field == "scope"


@pytest.mark.parametrize(
    ("value", "unknown"),
    [
        ("admin", "admin"),
        ("read admin", "admin"),
        (["read", "Write"], "Write"),  # names are case-sensitive
        ("read:all sudo read", "read:all, sudo"),
    ],
)
def test_an_unknown_scope_is_refused_by_name(value: object, unknown: str) -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_scopes(value)
    assert str(refused.value) == (
        f"Unknown scope {unknown}; known: create-apps, global, identity, read, read-protected,"
        " write, write-protected."
    )


@pytest.mark.parametrize("value", [None, 3, {"read": True}, ["read", 3], [None]])
def test_anything_but_a_string_or_list_of_strings_is_refused(value: object) -> None:
    with pytest.raises(InvalidParams, match="must be a list of scope names") as refused:
        parse_scopes(value, field="scopes")
    assert refused.value.field == "scopes"
