"""Redirect URIs: what a client may register (RFC 9700 section 2.1, rule R4 of
docs/oauth-server-rules.md) and which requested URI the authorization endpoint accepts (rule R1:
exact match, and only a loopback IP literal's port may vary, RFC 8252 section 7.3)."""

from __future__ import annotations

import pytest

from ostiary.errors import InvalidParams
from ostiary.oauth2.redirect_uris import (
    MAX_REDIRECT_URIS,
    match_redirect_uri,
    validate_redirect_uri,
    validate_redirect_uris,
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/callback",
        "https://app.example:8443/callback?tenant=a",
        "https://app.example:1/cb",
        "https://app.example:65535/cb",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8080/callback",
        "http://[::1]:8080/callback",
        "http://localhost:3000/callback",  # loopback, so http is allowed; its port is fixed
    ],
)
def test_registrable(uri: str) -> None:
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://app.example/callback", "https"),
        ("http://192.0.2.10/callback", "https"),
        ("ftp://app.example/callback", "https"),
        ("https://app.example/callback#frag", "fragment"),
        ("https://app.example/callback#", "fragment"),
        ("https://good.example@evil.example/cb", "user name"),
        ("https://user:pass@app.example/cb", "user name"),
        ("http://evil.example@127.0.0.1/cb", "user name"),
        ("https://app.example\\@evil.example/cb", "backslash"),
        ("https://app.example/c b", "spaces"),
        ("https://app.example/cb\t", "spaces"),
        ("https://app.example/cb\r\nLocation: https://evil.example/", "control"),
        ("https://app.example/\x00cb", "control"),
        ("https://app.example/cb\x7f", "control"),
        ("https://app.example:0/cb", "port"),
        ("https://app.example:65536/cb", "port"),
        ("https://app.example:99999/cb", "port"),
        ("https://app.example:80a/cb", "port"),
        ("/callback", "absolute"),
        ("https:///callback", "absolute"),
        ("com.example.app:/callback", "absolute"),
        ("https://app.example/" + "a" * 2000, "2000"),
    ],
)
def test_refused_at_registration(uri: str, why: str) -> None:
    with pytest.raises(InvalidParams) as refused:
        validate_redirect_uri(uri)
    assert why in str(refused.value)
    assert refused.value.field == "redirect_uri"


def test_a_non_string_is_refused() -> None:
    with pytest.raises(InvalidParams):
        validate_redirect_uri(["https://app.example/cb"])  # type: ignore[arg-type]


def test_a_client_needs_one_to_ten_uris_and_duplicates_collapse() -> None:
    with pytest.raises(InvalidParams, match="at least one"):
        validate_redirect_uris([])
    many = [f"https://app.example/cb{n}" for n in range(MAX_REDIRECT_URIS + 1)]
    with pytest.raises(InvalidParams, match=f"At most {MAX_REDIRECT_URIS}"):
        validate_redirect_uris(many)
    assert validate_redirect_uris(many[:MAX_REDIRECT_URIS]) == many[:MAX_REDIRECT_URIS]
    twice = ["https://app.example/a", "https://app.example/b", "https://app.example/a"]
    assert validate_redirect_uris(twice) == ["https://app.example/a", "https://app.example/b"]


def test_one_bad_uri_refuses_the_list() -> None:
    with pytest.raises(InvalidParams) as refused:
        validate_redirect_uris(["https://app.example/cb", "http://app.example/cb"])
    assert refused.value.field == "redirect_uris"


REGISTERED = ["https://app.example/callback", "https://app.example/other?x=1"]


@pytest.mark.parametrize("requested", REGISTERED)
def test_an_exact_match_is_used(requested: str) -> None:
    assert match_redirect_uri(REGISTERED, requested) == requested


@pytest.mark.parametrize(
    "requested",
    [
        "https://app.example/callback/",
        "https://app.example/Callback",
        "https://APP.example/callback",
        "https://app.example/callback?next=https://evil.example",
        "https://app.example/other",
        "https://app.example/other?x=2",
        "https://app.example:443/callback",
        "https://app.example:8443/callback",
        "https://app.example.evil.example/callback",
        "https://evil.example/callback",
        "http://app.example/callback",
        "https://app.example/callback#",
        "https://app.example/callback/../callback",
        "",
    ],
)
def test_anything_but_an_exact_match_is_refused(requested: str) -> None:
    assert match_redirect_uri(REGISTERED, requested) is None


def test_without_a_redirect_uri_only_a_single_registered_one_is_used() -> None:
    assert match_redirect_uri(["https://app.example/cb"], None) == "https://app.example/cb"
    assert match_redirect_uri(REGISTERED, None) is None


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:51234/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:51234/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:8080/callback?a=1", "http://127.0.0.1:1/callback?a=1"),
        ("http://[::1]:8080/callback", "http://[::1]:65535/callback"),
        ("http://[::1]/callback", "http://[::1]:40000/callback"),
    ],
)
def test_a_native_apps_loopback_port_may_vary(registered: str, requested: str) -> None:
    assert match_redirect_uri([registered], requested) == requested


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        # localhost is a name, which may resolve elsewhere (RFC 8252 section 8.3): exact only.
        ("http://localhost:8080/callback", "http://localhost:51234/callback"),
        ("http://localhost/callback", "http://localhost:51234/callback"),
        # other loopback addresses, and the two literals for each other
        ("http://127.0.0.2:8080/callback", "http://127.0.0.2:51234/callback"),
        ("http://127.0.0.1:8080/callback", "http://[::1]:8080/callback"),
        ("http://[::1]:8080/callback", "http://127.0.0.1:8080/callback"),
        # https loopback URIs are matched exactly
        ("https://127.0.0.1:8080/callback", "https://127.0.0.1:51234/callback"),
        # the port varies, nothing else does
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:8080/callback/"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:51234/other"),
        ("http://127.0.0.1:8080/callback?a=1", "http://127.0.0.1:51234/callback?a=2"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:51234/callback#frag"),
        # a requested URI is parsed as strictly as a registered one
        ("http://127.0.0.1:8080/callback", "http://evil.example@127.0.0.1:8080/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:0/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:65536/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:8080a/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:5000\\@evil.example/callback"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:5000/callback\r\n"),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1.evil.example:8080/callback"),
    ],
)
def test_no_other_variation_is_allowed(registered: str, requested: str) -> None:
    assert match_redirect_uri([registered], requested) is None
