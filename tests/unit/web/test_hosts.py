"""Which Host headers are believed (issue 10 item 8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ostiary.web.hosts import HostPolicy, host_name


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:5000",
        "LOCALHOST:5000",
        "127.0.0.1",
        "127.0.0.1:8443",
        "127.1.2.3",
        "[::1]",
        "[::1]:5000",
        "app.localhost:5000",
        "localhost.",
    ],
)
def test_loopback_names_are_believed_without_configuration(host: str) -> None:
    assert HostPolicy(()).believes(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:5000",
        "localhost.evil.example",
        "localhostevil.example",
        "127.0.0.1.evil.example",
        "10.0.0.5",
        "[2001:db8::1]",
        "localhost:5000@evil.example",
        "localhost evil.example",
        "localhost:abc",
        "localhost:5000:6000",
        "",
        "évil.example",
    ],
)
def test_other_names_are_refused(host: str) -> None:
    assert not HostPolicy(()).believes(host)


def test_configured_names_and_subdomains() -> None:
    policy = HostPolicy(["id.example.com", ".apps.example.net"])
    assert policy.believes("id.example.com")
    assert policy.believes("ID.Example.COM:443")
    assert policy.believes("apps.example.net")
    assert policy.believes("eu.apps.example.net:8443")
    assert not policy.believes("example.com")
    assert not policy.believes("id.example.com.evil.example")
    assert not policy.believes("evilapps.example.net")


def test_the_issuer_host_is_always_believed() -> None:
    policy = HostPolicy([], "https://id.example.org/")
    assert policy.believes("id.example.org")
    assert not policy.believes("other.example.org")


def test_a_star_believes_any_well_formed_name_only() -> None:
    policy = HostPolicy(["*"])
    assert policy.believes("anything.example")
    assert not policy.believes("a b")
    assert not policy.believes("user@anything.example")


@given(st.text(max_size=40))
def test_arbitrary_text_is_believed_only_if_it_is_a_loopback_name(text: str) -> None:
    believed = HostPolicy(()).believes(text)
    name = host_name(text)
    if believed:
        assert name is not None
        assert (
            name in ("localhost", "::1") or name.endswith(".localhost") or name.startswith("127.")
        )
